//! Summary statistics of the durations measured at one memory size.
//!
//! The averages are trimmed means, as in AWS Lambda Power Tuning 4.4: sort
//! the values, drop `floor(n × discardTopBottom)` from each end, and average
//! the rest, so a few cold starts or slow outliers do not decide the result.
//! Percentiles and the standard deviation are reported over every value,
//! untrimmed, so the spread that trimming hides stays visible.

/// Statistics of one memory size, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DurationSummary {
    /// Trimmed mean of the durations.
    pub mean: f64,
    /// Trimmed mean of the billed durations, trimmed on their own order.
    pub billed_mean: f64,
    /// Nearest-rank percentiles of the durations.
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    /// Population standard deviation of the durations.
    pub std_dev: f64,
    /// Number of durations.
    pub count: usize,
}

/// Summarizes the durations and billed durations of one memory size.
///
/// `discard_top_bottom` is the share trimmed from each end (the input
/// allows 0..=0.4). At least one value always remains: a larger share is
/// capped, and a NaN or negative share trims nothing. Empty input gives all
/// zeros.
pub fn summarize(durations: &[f64], billed: &[f64], discard_top_bottom: f64) -> DurationSummary {
    if durations.is_empty() {
        return DurationSummary {
            billed_mean: trimmed_mean(billed, discard_top_bottom),
            ..DurationSummary::default()
        };
    }

    let sorted = sorted(durations);
    let count = sorted.len();
    let mean_all = sorted.iter().sum::<f64>() / count as f64;
    let variance = sorted
        .iter()
        .map(|value| (value - mean_all).powi(2))
        .sum::<f64>()
        / count as f64;

    DurationSummary {
        mean: trimmed_mean(durations, discard_top_bottom),
        billed_mean: trimmed_mean(billed, discard_top_bottom),
        p50: nearest_rank(&sorted, 50.0),
        p90: nearest_rank(&sorted, 90.0),
        p99: nearest_rank(&sorted, 99.0),
        std_dev: variance.sqrt(),
        count,
    }
}

/// Averages `values` after dropping `floor(n × share)` values from each end
/// of their sorted order.
pub fn trimmed_mean(values: &[f64], share: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }

    let sorted = sorted(values);
    let share = if share.is_nan() { 0.0 } else { share.max(0.0) };
    let discard = ((sorted.len() as f64 * share).floor() as usize).min((sorted.len() - 1) / 2);
    let kept = &sorted[discard..sorted.len() - discard];

    kept.iter().sum::<f64>() / kept.len() as f64
}

/// Returns the smallest value with at least `percentile`% of the values at
/// or below it.
fn nearest_rank(sorted: &[f64], percentile: f64) -> f64 {
    let rank = (percentile / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn trimmed_mean_drops_twenty_percent_each_side() {
        // 10 values, share 0.2: drop 2 from each end, average 3..=8.
        let durations = [10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0];
        let summary = summarize(&durations, &durations, 0.2);

        assert!(close(summary.mean, 5.5));
        assert!(close(summary.billed_mean, 5.5));
        assert_eq!(summary.count, 10);
    }

    #[test]
    fn outliers_do_not_move_trimmed_mean() {
        let durations = [
            100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 1.0, 5000.0,
        ];

        assert!(close(summarize(&durations, &[], 0.2).mean, 100.0));
        assert!(close(summarize(&durations, &[], 0.1).mean, 100.0));
        assert!(close(summarize(&durations, &[], 0.0).mean, 5801.0 / 10.0));
    }

    #[test]
    fn discard_rounds_down() {
        // 7 × 0.2 = 1.4 → drop 1 from each end: mean of 2, 3, 4, 5, 6.
        let durations = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 70.0];

        assert!(close(summarize(&durations, &[], 0.2).mean, 4.0));
        // 4 × 0.2 = 0.8 → nothing dropped.
        assert!(close(summarize(&[1.0, 2.0, 3.0, 10.0], &[], 0.2).mean, 4.0));
    }

    #[test]
    fn billed_mean_is_trimmed_on_its_own_order() {
        let durations = [1.0, 2.0, 3.0, 4.0, 5.0];
        // Billed values in a different order than durations: sorted 1, 2, 3, 4, 100.
        let billed = [100.0, 4.0, 3.0, 2.0, 1.0];
        let summary = summarize(&durations, &billed, 0.2);

        assert!(close(summary.mean, 3.0));
        assert!(close(summary.billed_mean, 3.0));
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let durations: Vec<f64> = (1..=100).map(f64::from).collect();
        let summary = summarize(&durations, &[], 0.2);

        assert_eq!(summary.p50, 50.0);
        assert_eq!(summary.p90, 90.0);
        assert_eq!(summary.p99, 99.0);

        let small = summarize(&[3.0, 1.0, 2.0], &[], 0.0);
        assert_eq!(small.p50, 2.0);
        assert_eq!(small.p90, 3.0);
        assert_eq!(small.p99, 3.0);
    }

    #[test]
    fn std_dev_is_population_and_untrimmed() {
        let summary = summarize(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], &[], 0.2);

        assert!(close(summary.std_dev, 2.0));
    }

    #[test]
    fn empty_input_gives_zeros() {
        assert_eq!(summarize(&[], &[], 0.2), DurationSummary::default());
    }

    #[test]
    fn oversized_share_keeps_a_value() {
        assert!(close(trimmed_mean(&[1.0, 2.0], 0.5), 1.5));
        assert!(close(trimmed_mean(&[1.0, 2.0, 30.0], 0.9), 2.0));
        assert!(close(trimmed_mean(&[1.0, 3.0], f64::NAN), 2.0));
    }

    proptest! {
        #[test]
        fn trimmed_mean_lies_between_min_and_max(
            values in proptest::collection::vec(0.0f64..1.0e6, 1..200),
            share in 0.0f64..=0.4,
        ) {
            let mean = trimmed_mean(&values, share);
            let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);

            prop_assert!(mean >= min - 1e-6 && mean <= max + 1e-6, "{} not in {}..={}", mean, min, max);
        }

        #[test]
        fn percentiles_are_ordered(values in proptest::collection::vec(0.0f64..1.0e6, 1..200)) {
            let summary = summarize(&values, &values, 0.2);

            prop_assert!(summary.p50 <= summary.p90);
            prop_assert!(summary.p90 <= summary.p99);
            prop_assert!(summary.std_dev >= 0.0);
        }
    }
}
