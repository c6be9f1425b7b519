//! The analyzer: picks the winning memory size from the measured statistics.
//!
//! The strategies are those of AWS Lambda Power Tuning 4.4:
//!
//! - `cost`: the lowest average cost; equal costs go to the lower duration.
//! - `speed`: the lowest average duration; equal durations go to the lower
//!   cost.
//! - `balanced`: the lowest `w × cost / maxCost + (1 − w) × duration /
//!   maxDuration`, where `w` is `balancedWeight` (1 is `cost`, 0 is `speed`).
//!
//! Sizes whose average duration is 0 are skipped, as the original skips
//! them. The sort is stable over the sizes in ascending order, so a full tie
//! goes to the smallest memory size. The original keeps the order of
//! `powerValues` instead, which is the same for an ascending list.

use std::cmp::Ordering;

use powertune_proto::v1::{
    AnalyzerInput, FailedPower, PowerStats, PowerTuningOutput, TuningRunSummary,
};

use crate::input::Strategy;
use crate::pricing::temporal_actions_cost;
use crate::visualization::visualization_url_for_region;

/// Error of the analyzer when no memory size can be chosen.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    #[error("{}", no_data_message(.failed, .zero_duration))]
    NoData {
        /// Sizes that failed, with their reasons.
        failed: Vec<FailedPower>,
        /// Sizes that were measured but reported an average duration of 0 ms.
        zero_duration: Vec<u32>,
    },

    #[error("the analyzer input has no tuning plan; pass the plan the initializer returned")]
    MissingPlan,

    #[error("plan.strategy: `{value}` is not a strategy; use cost, speed or balanced")]
    UnknownStrategy { value: String },
}

/// Chooses the winning memory size and builds the workflow output.
pub fn analyze(input: &AnalyzerInput) -> Result<PowerTuningOutput, AnalysisError> {
    let plan = input.plan.as_ref().ok_or(AnalysisError::MissingPlan)?;
    let tuning_input = plan.input.clone().unwrap_or_default();
    let strategy = plan_strategy(&plan.strategy, &tuning_input.strategy)?;
    let weight = plan.balanced_weight.clamp(0.0, 1.0);

    let mut candidates: Vec<&PowerStats> = input
        .stats
        .iter()
        .filter(|stat| stat.duration.is_finite() && stat.duration > 0.0)
        .collect();
    if candidates.is_empty() {
        return Err(AnalysisError::NoData {
            failed: input.failed.clone(),
            zero_duration: input.stats.iter().map(|stat| stat.power).collect(),
        });
    }
    candidates.sort_by_key(|stat| stat.power);
    rank(&mut candidates, strategy, weight);
    let winner = candidates[0];

    let measured: Vec<PowerStats> = candidates.iter().map(|stat| **stat).collect();
    let region = plan
        .function
        .as_ref()
        .map_or("", |function| function.region.as_str());
    let state_machine = TuningRunSummary {
        execution_cost: temporal_actions_cost(input.actions),
        lambda_cost: input
            .stats
            .iter()
            .map(|stat| stat.total_cost + stat.request_cost)
            .sum(),
        visualization: visualization_url_for_region(&measured, region),
        actions: input.actions,
    };

    let mut stats = Vec::new();
    if tuning_input.include_output_results {
        stats = input.stats.clone();
        stats.sort_by_key(|stat| stat.power);
    }

    Ok(PowerTuningOutput {
        power: winner.power,
        cost: winner.cost,
        duration: winner.duration,
        state_machine: Some(state_machine),
        stats,
        failed_power_values: input.failed.clone(),
        retries: input.retries,
        optimization: None,
        dry_run: false,
        warnings: plan.warnings.clone(),
    })
}

/// Reads the strategy from the plan, then from the input, defaulting to cost.
fn plan_strategy(plan_value: &str, input_value: &str) -> Result<Strategy, AnalysisError> {
    let value = if plan_value.is_empty() {
        input_value
    } else {
        plan_value
    };
    if value.is_empty() {
        return Ok(Strategy::Cost);
    }
    value.parse().map_err(|_| AnalysisError::UnknownStrategy {
        value: value.to_owned(),
    })
}

/// Sorts `stats` best first with a stable sort.
fn rank(stats: &mut [&PowerStats], strategy: Strategy, weight: f64) {
    match strategy {
        Strategy::Cost => stats.sort_by(|a, b| by_then(a.cost, b.cost, a.duration, b.duration)),
        Strategy::Speed => stats.sort_by(|a, b| by_then(a.duration, b.duration, a.cost, b.cost)),
        Strategy::Balanced => {
            let max_cost = stats.iter().map(|stat| stat.cost).fold(0.0, f64::max);
            let max_duration = stats.iter().map(|stat| stat.duration).fold(0.0, f64::max);
            // With every cost at 0 the cost term is 0 for all sizes rather than
            // NaN, so the duration alone decides.
            let share = |value: f64, max: f64| if max > 0.0 { value / max } else { 0.0 };
            let score = |stat: &PowerStats| {
                weight * share(stat.cost, max_cost)
                    + (1.0 - weight) * share(stat.duration, max_duration)
            };
            stats.sort_by(|a, b| score(a).total_cmp(&score(b)));
        }
    }
}

/// Orders by the first key, and by the second only when the first keys are
/// exactly equal, as the original compares them.
fn by_then(first_a: f64, first_b: f64, second_a: f64, second_b: f64) -> Ordering {
    if first_a == first_b {
        second_a.total_cmp(&second_b)
    } else {
        first_a.total_cmp(&first_b)
    }
}

fn no_data_message(failed: &[FailedPower], zero_duration: &[u32]) -> String {
    let mut message = String::from("no memory size could be measured");
    if !failed.is_empty() {
        let reasons: Vec<String> = failed
            .iter()
            .map(|failure| {
                format!(
                    "{} MB ({}: {})",
                    failure.power, failure.error_type, failure.reason
                )
            })
            .collect();
        message.push_str(&format!("; failed: {}", reasons.join(", ")));
    }
    if !zero_duration.is_empty() {
        let sizes: Vec<String> = zero_duration
            .iter()
            .map(|power| format!("{power} MB"))
            .collect();
        message.push_str(&format!(
            "; an average duration of 0 ms at {}",
            sizes.join(", ")
        ));
    }
    message.push_str(
        "; fix the errors above (raise the memory sizes or the function timeout, or add the \
         error type to allowedExceptions) and run the tuning again",
    );
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use powertune_proto::v1::{FunctionSnapshot, PowerTuningInput, TuningPlan};

    fn stat(power: u32, cost: f64, duration: f64) -> PowerStats {
        PowerStats {
            power,
            cost,
            duration,
            total_cost: cost * 10.0,
            request_cost: 10.0 * 0.2e-6,
            invocations: 10,
            ..PowerStats::default()
        }
    }

    fn input(strategy: &str, weight: f64, stats: Vec<PowerStats>) -> AnalyzerInput {
        AnalyzerInput {
            plan: Some(TuningPlan {
                input: Some(PowerTuningInput {
                    strategy: strategy.to_owned(),
                    ..PowerTuningInput::default()
                }),
                function: Some(FunctionSnapshot {
                    region: "us-east-1".to_owned(),
                    ..FunctionSnapshot::default()
                }),
                strategy: strategy.to_owned(),
                balanced_weight: weight,
                discard_top_bottom: 0.2,
                ..TuningPlan::default()
            }),
            stats,
            failed: Vec::new(),
            retries: 2,
            actions: 40,
        }
    }

    #[test]
    fn cost_picks_cheapest() {
        let stats = vec![
            stat(128, 3.0, 100.0),
            stat(256, 2.0, 60.0),
            stat(512, 2.5, 30.0),
        ];
        let output = analyze(&input("cost", 0.5, stats)).unwrap();

        assert_eq!(output.power, 256);
        assert_eq!(output.cost, 2.0);
        assert_eq!(output.duration, 60.0);
    }

    #[test]
    fn cost_tie_goes_to_fastest() {
        let stats = vec![
            stat(128, 2.0, 100.0),
            stat(256, 2.0, 50.0),
            stat(512, 3.0, 20.0),
        ];

        assert_eq!(analyze(&input("cost", 0.5, stats)).unwrap().power, 256);
    }

    #[test]
    fn speed_picks_fastest_and_tie_goes_to_cheapest() {
        let stats = vec![
            stat(128, 1.0, 100.0),
            stat(1024, 5.0, 20.0),
            stat(2048, 4.0, 20.0),
        ];
        assert_eq!(analyze(&input("speed", 0.5, stats)).unwrap().power, 2048);

        let stats = vec![
            stat(128, 1.0, 100.0),
            stat(1024, 5.0, 10.0),
            stat(2048, 4.0, 20.0),
        ];
        assert_eq!(analyze(&input("speed", 0.5, stats)).unwrap().power, 1024);
    }

    #[test]
    fn full_tie_goes_to_smallest_size() {
        let stats = vec![stat(512, 2.0, 50.0), stat(256, 2.0, 50.0)];

        assert_eq!(
            analyze(&input("cost", 0.5, stats.clone())).unwrap().power,
            256
        );
        assert_eq!(
            analyze(&input("speed", 0.5, stats.clone())).unwrap().power,
            256
        );
        assert_eq!(analyze(&input("balanced", 0.5, stats)).unwrap().power, 256);
    }

    #[test]
    fn balanced_weighs_cost_against_duration() {
        // maxCost 4, maxDuration 100.
        // w = 0.5: 128 → 0.5·1/4 + 0.5·1 = 0.625; 512 → 0.5·2/4 + 0.5·0.4 = 0.45;
        //          1024 → 0.5·1 + 0.5·0.2 = 0.6. Winner 512.
        let stats = || {
            vec![
                stat(128, 1.0, 100.0),
                stat(512, 2.0, 40.0),
                stat(1024, 4.0, 20.0),
            ]
        };

        assert_eq!(
            analyze(&input("balanced", 0.5, stats())).unwrap().power,
            512
        );
        assert_eq!(
            analyze(&input("balanced", 1.0, stats())).unwrap().power,
            128
        );
        assert_eq!(
            analyze(&input("balanced", 0.0, stats())).unwrap().power,
            1024
        );
    }

    #[test]
    fn balanced_tie_keeps_ascending_power() {
        // w = 0.5, maxCost 2, maxDuration 100: both score 0.75.
        let stats = vec![stat(1024, 2.0, 50.0), stat(128, 1.0, 100.0)];

        assert_eq!(analyze(&input("balanced", 0.5, stats)).unwrap().power, 128);
    }

    #[test]
    fn zero_duration_sizes_are_skipped() {
        let stats = vec![stat(128, 0.0, 0.0), stat(256, 2.0, 50.0)];
        let output = analyze(&input("cost", 0.5, stats)).unwrap();

        assert_eq!(output.power, 256);
        assert!(!output.state_machine.unwrap().visualization.contains("gAA"));
    }

    #[test]
    fn summary_adds_costs_and_actions() {
        let stats = vec![stat(128, 1.0, 100.0), stat(256, 2.0, 50.0)];
        let mut analyzer_input = input("cost", 0.5, stats);
        analyzer_input.failed = vec![FailedPower {
            power: 64,
            error_type: "Runtime.OutOfMemory".to_owned(),
            reason: "killed".to_owned(),
        }];
        let output = analyze(&analyzer_input).unwrap();
        let summary = output.state_machine.clone().unwrap();

        assert!((summary.lambda_cost - (10.0 + 20.0 + 2.0 * 10.0 * 0.2e-6)).abs() < 1e-12);
        assert!((summary.execution_cost - 40.0 * 0.00005).abs() < 1e-15);
        assert_eq!(summary.actions, 40);
        assert!(
            summary
                .visualization
                .starts_with("https://lambda-power-tuning.show/#")
        );
        assert_eq!(output.failed_power_values, analyzer_input.failed);
        assert_eq!(output.retries, 2);
        assert!(!output.dry_run);
        assert!(output.stats.is_empty());
    }

    #[test]
    fn stats_included_sorted_by_power_when_requested() {
        let stats = vec![
            stat(512, 3.0, 20.0),
            stat(128, 1.0, 0.0),
            stat(256, 2.0, 50.0),
        ];
        let mut analyzer_input = input("cost", 0.5, stats);
        analyzer_input
            .plan
            .as_mut()
            .unwrap()
            .input
            .as_mut()
            .unwrap()
            .include_output_results = true;
        let output = analyze(&analyzer_input).unwrap();

        let powers: Vec<u32> = output.stats.iter().map(|stat| stat.power).collect();
        assert_eq!(powers, vec![128, 256, 512]);
    }

    #[test]
    fn china_region_chart_uses_cny() {
        let mut analyzer_input = input("cost", 0.5, vec![stat(128, 1.0, 10.0)]);
        analyzer_input
            .plan
            .as_mut()
            .unwrap()
            .function
            .as_mut()
            .unwrap()
            .region = "cn-north-1".to_owned();
        let output = analyze(&analyzer_input).unwrap();

        assert!(
            output
                .state_machine
                .unwrap()
                .visualization
                .contains("?currency=CNY#")
        );
    }

    #[test]
    fn empty_strategy_defaults_to_cost() {
        let stats = vec![stat(128, 1.0, 100.0), stat(1024, 5.0, 10.0)];

        assert_eq!(analyze(&input("", 0.5, stats)).unwrap().power, 128);
    }

    #[test]
    fn unknown_strategy_is_rejected() {
        let error = analyze(&input("fastest", 0.5, vec![stat(128, 1.0, 10.0)])).unwrap_err();

        assert!(error.to_string().contains("`fastest`"), "{error}");
    }

    #[test]
    fn no_data_lists_every_failure() {
        let mut analyzer_input = input("cost", 0.5, vec![stat(1024, 0.0, 0.0)]);
        analyzer_input.failed = vec![
            FailedPower {
                power: 128,
                error_type: "Runtime.OutOfMemory".to_owned(),
                reason: "Max Memory Used 128 MB".to_owned(),
            },
            FailedPower {
                power: 256,
                error_type: "Sandbox.Timedout".to_owned(),
                reason: "timed out after 3 s".to_owned(),
            },
        ];
        let error = analyze(&analyzer_input).unwrap_err();
        let message = error.to_string();

        assert!(matches!(error, AnalysisError::NoData { .. }));
        assert!(
            message.contains("128 MB (Runtime.OutOfMemory: Max Memory Used 128 MB)"),
            "{message}"
        );
        assert!(
            message.contains("256 MB (Sandbox.Timedout: timed out after 3 s)"),
            "{message}"
        );
        assert!(message.contains("0 ms at 1024 MB"), "{message}");
    }

    #[test]
    fn missing_plan_is_rejected() {
        let error = analyze(&AnalyzerInput::default()).unwrap_err();

        assert_eq!(error, AnalysisError::MissingPlan);
    }
}
