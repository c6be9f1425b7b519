//! Seeded fault injection: rules that make Lambda API operations fail with 429, 500 or 409, or
//! respond late, at configured rates.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Lambda API operations the emulator serves, as fault rules and statistics name them.
pub const OPERATIONS: [&str; 15] = [
    "CreateFunction",
    "GetFunction",
    "GetFunctionConfiguration",
    "UpdateFunctionConfiguration",
    "PublishVersion",
    "ListVersionsByFunction",
    "CreateAlias",
    "GetAlias",
    "UpdateAlias",
    "DeleteAlias",
    "ListAliases",
    "DeleteFunction",
    "Invoke",
    "PutFunctionConcurrency",
    "DeleteFunctionConcurrency",
];

/// Fault injection settings; the same seed and requests give the same faults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultConfig {
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

/// One rule; `operation` and `function` restrict it, and an absent one matches everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultRule {
    pub operation: Option<String>,
    pub function: Option<String>,
    /// Probability of a 429 `TooManyRequestsException`.
    pub throttle_rate: f64,
    /// Probability of a 500 `ServiceException`.
    pub server_error_rate: f64,
    /// Probability of a 409 `ResourceConflictException` (update in progress).
    pub conflict_rate: f64,
    /// Simulated latency added to every matching request, ms (scaled like every other sleep).
    pub extra_latency_ms: f64,
}

impl FaultConfig {
    /// Checks rates and operation names, returning a message that names the bad rule.
    pub fn validate(&self) -> Result<(), String> {
        for (index, rule) in self.rules.iter().enumerate() {
            let rates = [
                ("throttleRate", rule.throttle_rate),
                ("serverErrorRate", rule.server_error_rate),
                ("conflictRate", rule.conflict_rate),
            ];
            for (field, rate) in rates {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!(
                        "rules[{index}].{field} is {rate}; use a probability in 0..=1"
                    ));
                }
            }
            if !rule.extra_latency_ms.is_finite() || rule.extra_latency_ms < 0.0 {
                return Err(format!(
                    "rules[{index}].extraLatencyMs is {}; use a value >= 0",
                    rule.extra_latency_ms
                ));
            }
            if let Some(operation) = &rule.operation
                && !OPERATIONS.contains(&operation.as_str())
            {
                return Err(format!(
                    "rules[{index}].operation `{operation}` is not an operation of the emulator; use one of {}",
                    OPERATIONS.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// Kind of an injected fault, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Throttle,
    ServerError,
    Conflict,
    Latency,
}

/// Counts of injected faults by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultTotals {
    pub throttles: u64,
    pub server_errors: u64,
    pub conflicts: u64,
    pub delayed: u64,
}

/// Decision for one request: added latency and an optional injected error.
#[derive(Debug, Default)]
pub struct FaultDecision {
    pub extra_latency_ms: f64,
    pub error: Option<ApiError>,
    pub kinds: Vec<FaultKind>,
}

/// Active rules with their random number generator and counters.
#[derive(Debug)]
pub struct FaultState {
    config: FaultConfig,
    rng: ChaCha8Rng,
    pub totals: FaultTotals,
}

impl FaultState {
    pub fn new(config: FaultConfig) -> Self {
        FaultState {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            totals: FaultTotals::default(),
        }
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Replaces the rules and reseeds the generator; the counters keep running.
    pub fn replace(&mut self, config: FaultConfig) {
        self.rng = ChaCha8Rng::seed_from_u64(config.seed);
        self.config = config;
    }

    /// Rolls every rule that matches `operation` on `function`; the first error rolled wins and
    /// latencies add up.
    pub fn decide(&mut self, operation: &str, function: &str, resource_arn: &str) -> FaultDecision {
        let mut decision = FaultDecision::default();
        for rule in &self.config.rules {
            let operation_matches = rule.operation.as_deref().is_none_or(|op| op == operation);
            let function_matches = rule.function.as_deref().is_none_or(|name| name == function);
            if !operation_matches || !function_matches {
                continue;
            }
            if rule.extra_latency_ms > 0.0 {
                decision.extra_latency_ms += rule.extra_latency_ms;
                decision.kinds.push(FaultKind::Latency);
                self.totals.delayed += 1;
            }
            let roll: f64 = self.rng.random();
            if decision.error.is_some() {
                continue;
            }
            if roll < rule.throttle_rate {
                let reason = if operation == "Invoke" {
                    "ConcurrentInvocationLimitExceeded"
                } else {
                    "CallerRateLimitExceeded"
                };
                decision.error = Some(ApiError::throttled(reason));
                decision.kinds.push(FaultKind::Throttle);
                self.totals.throttles += 1;
            } else if roll < rule.throttle_rate + rule.server_error_rate {
                decision.error = Some(ApiError::service("An internal error occurred (injected)."));
                decision.kinds.push(FaultKind::ServerError);
                self.totals.server_errors += 1;
            } else if roll < rule.throttle_rate + rule.server_error_rate + rule.conflict_rate {
                decision.error = Some(ApiError::update_in_progress(resource_arn));
                decision.kinds.push(FaultKind::Conflict);
                self.totals.conflicts += 1;
            }
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(operation: Option<&str>, throttle_rate: f64) -> FaultRule {
        FaultRule {
            operation: operation.map(str::to_owned),
            throttle_rate,
            ..FaultRule::default()
        }
    }

    #[test]
    fn same_seed_gives_same_faults() {
        let config = FaultConfig {
            seed: 7,
            rules: vec![rule(None, 0.5)],
        };
        let run = || {
            let mut state = FaultState::new(config.clone());
            (0..50)
                .map(|_| state.decide("Invoke", "f", "arn").error.is_some())
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first.iter().any(|&failed| failed));
        assert!(first.iter().any(|&failed| !failed));
    }

    #[test]
    fn rule_matches_only_its_operation() {
        let mut state = FaultState::new(FaultConfig {
            seed: 1,
            rules: vec![rule(Some("Invoke"), 1.0)],
        });
        assert!(state.decide("GetAlias", "f", "arn").error.is_none());
        let error = state.decide("Invoke", "f", "arn").error.unwrap();
        assert_eq!(error.reason, Some("ConcurrentInvocationLimitExceeded"));
        assert_eq!(state.totals.throttles, 1);
    }

    #[test]
    fn unknown_operation_is_rejected() {
        let config = FaultConfig {
            seed: 1,
            rules: vec![rule(Some("Invok"), 0.1)],
        };
        let message = config.validate().unwrap_err();
        assert!(message.contains("Invok"), "{message}");
    }

    #[test]
    fn rate_above_one_is_rejected() {
        let config = FaultConfig {
            seed: 1,
            rules: vec![rule(None, 1.5)],
        };
        assert!(config.validate().unwrap_err().contains("throttleRate"));
    }
}
