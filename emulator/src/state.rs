//! Shared state of a running emulator: the functions, statistics, fault rules and random number
//! generators behind one mutex, plus the settings fixed at start.
//!
//! NOTE: the mutex is a `std::sync::Mutex` and is never held across an `.await`; handlers lock,
//! change, unlock, and only then sleep.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{ApiError, EmulatorError};
use crate::faults::{FaultConfig, FaultState, FaultTotals};
use crate::function::{Config, Function};
use crate::spec::FunctionSpec;

/// Maximum real sleep, so an absurd profile cannot overflow a timer.
const MAX_SLEEP: Duration = Duration::from_secs(24 * 3600);

/// Settings fixed when the emulator starts.
#[derive(Debug, Clone)]
pub struct Settings {
    pub time_scale: f64,
    pub update_delay: Duration,
    pub pending_delay: Duration,
    pub snapstart_delay: Duration,
    pub memory_quota_mb: Option<u32>,
    pub account_concurrency: Option<u32>,
    pub init_billed: bool,
    pub s3_dir: Option<PathBuf>,
    pub region: String,
    pub account_id: String,
}

impl Settings {
    /// Unqualified ARN of a function.
    pub fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region, self.account_id
        )
    }

    /// ARN of a function with a version or alias suffix.
    pub fn qualified_arn(&self, name: &str, qualifier: &str) -> String {
        format!("{}:{qualifier}", self.arn(name))
    }

    /// Real time that a simulated duration takes under the time scale.
    pub fn scaled(&self, simulated: Duration) -> Duration {
        simulated.mul_f64(self.time_scale)
    }

    /// Sleeps for `simulated_ms` multiplied by the time scale.
    pub async fn sleep_simulated(&self, simulated_ms: f64) {
        let real = Duration::try_from_secs_f64(simulated_ms.max(0.0) / 1000.0 * self.time_scale)
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        if !real.is_zero() {
            tokio::time::sleep(real).await;
        }
    }
}

/// Counters of one function name, kept after the function is deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionStats {
    /// Invocations that ran, by the qualifier the caller requested (`$LATEST` when none).
    #[serde(rename = "invocations")]
    pub invocations_by_qualifier: BTreeMap<String, u64>,
    /// Invocations that ran, by the version that executed (`X-Amz-Executed-Version`).
    pub invocations_by_version: BTreeMap<String, u64>,
    /// Requests per Lambda API operation, including rejected ones.
    pub operations: BTreeMap<String, u64>,
    pub cold_starts: u64,
    pub faults_injected: u64,
}

/// Totals over every function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub requests: u64,
    pub invocations: u64,
    pub cold_starts: u64,
    pub throttles: u64,
    pub faults_injected: FaultTotals,
}

/// Everything that changes while the emulator runs.
#[derive(Debug)]
pub struct Registry {
    pub functions: BTreeMap<String, Function>,
    pub stats: BTreeMap<String, FunctionStats>,
    pub faults: FaultState,
    /// Generator of jitter, function errors and weighted alias routing.
    pub rng: ChaCha8Rng,
    pub account_in_flight: u32,
    pub requests: u64,
    pub invocations: u64,
    pub throttles: u64,
    next_generation: u64,
}

impl Registry {
    /// Looks a function up after completing the transitions whose deadline has passed.
    pub fn function_mut(&mut self, name: &str) -> Option<&mut Function> {
        let function = self.functions.get_mut(name)?;
        function.refresh(Instant::now());
        Some(function)
    }

    /// Counters of `name`, created on first use.
    pub fn stats_mut(&mut self, name: &str) -> &mut FunctionStats {
        self.stats.entry(name.to_owned()).or_default()
    }

    /// Inserts a function; `pending_for` makes it start in `State: Pending`.
    pub fn insert(
        &mut self,
        name: &str,
        config: Config,
        pending_for: Duration,
    ) -> Result<&mut Function, ApiError> {
        if self.functions.contains_key(name) {
            return Err(ApiError::conflict(format!(
                "Function already exist: {name}"
            )));
        }
        self.next_generation += 1;
        let pending_until = (!pending_for.is_zero()).then(|| Instant::now() + pending_for);
        let function = Function::new(self.next_generation, name, config, pending_until);
        self.stats_mut(name);
        Ok(self.functions.entry(name.to_owned()).or_insert(function))
    }
}

/// Handle on the state of a running emulator; cheap to clone.
#[derive(Debug, Clone)]
pub struct SharedState {
    settings: Arc<Settings>,
    registry: Arc<Mutex<Registry>>,
}

impl SharedState {
    pub fn new(settings: Settings, seed: u64, faults: FaultConfig) -> Self {
        let registry = Registry {
            functions: BTreeMap::new(),
            stats: BTreeMap::new(),
            faults: FaultState::new(faults),
            rng: ChaCha8Rng::seed_from_u64(seed),
            account_in_flight: 0,
            requests: 0,
            invocations: 0,
            throttles: 0,
            next_generation: 0,
        };
        SharedState {
            settings: Arc::new(settings),
            registry: Arc::new(Mutex::new(registry)),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Locks the registry. A handler that panicked while holding the lock leaves consistent
    /// counters behind, so a poisoned lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a Lambda API request for `function` and applies the fault rules to it, sleeping
    /// for any injected latency before returning an injected error.
    pub async fn begin(&self, operation: &'static str, function: &str) -> Result<(), ApiError> {
        let arn = self.settings.arn(function);
        let decision = {
            let mut registry = self.lock();
            registry.requests += 1;
            *registry
                .stats_mut(function)
                .operations
                .entry(operation.to_owned())
                .or_default() += 1;
            let decision = registry.faults.decide(operation, function, &arn);
            registry.stats_mut(function).faults_injected += decision.kinds.len() as u64;
            decision
        };

        if decision.extra_latency_ms > 0.0 {
            self.settings
                .sleep_simulated(decision.extra_latency_ms)
                .await;
        }
        match decision.error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Counters of one function name; `None` when no request ever named it.
    pub fn function_stats(&self, name: &str) -> Option<FunctionStats> {
        self.lock().stats.get(name).cloned()
    }

    /// Totals over every function.
    pub fn totals(&self) -> Totals {
        let registry = self.lock();
        Totals {
            requests: registry.requests,
            invocations: registry.invocations,
            cold_starts: registry.stats.values().map(|s| s.cold_starts).sum(),
            throttles: registry.throttles,
            faults_injected: registry.faults.totals,
        }
    }

    /// Active fault rules.
    pub fn faults(&self) -> FaultConfig {
        self.lock().faults.config().clone()
    }

    /// Replaces the fault rules after checking them.
    pub fn try_set_faults(&self, faults: FaultConfig) -> Result<(), EmulatorError> {
        faults
            .validate()
            .map_err(|reason| EmulatorError::InvalidOption {
                option: "faults",
                reason,
            })?;
        self.lock().faults.replace(faults);
        Ok(())
    }

    /// Adds a function, active at once, from a full specification.
    pub fn add_function(&self, spec: FunctionSpec) -> Result<(), EmulatorError> {
        spec.validate()?;
        let config = Config::from_spec(&spec, &self.settings.account_id);
        let mut registry = self.lock();
        let function = registry
            .insert(&spec.name, config, Duration::ZERO)
            .map_err(|_| EmulatorError::FunctionExists {
                name: spec.name.clone(),
            })?;
        function.reserved_concurrency = spec.reserved_concurrency;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> SharedState {
        let settings = Settings {
            time_scale: 0.0,
            update_delay: Duration::ZERO,
            pending_delay: Duration::ZERO,
            snapstart_delay: Duration::ZERO,
            memory_quota_mb: None,
            account_concurrency: None,
            init_billed: true,
            s3_dir: None,
            region: "us-east-1".to_owned(),
            account_id: "123456789012".to_owned(),
        };
        SharedState::new(settings, 1, FaultConfig::default())
    }

    #[test]
    fn duplicate_function_is_rejected() {
        let state = state();
        let spec = FunctionSpec {
            name: "f".to_owned(),
            ..FunctionSpec::default()
        };
        state.add_function(spec.clone()).unwrap();
        let error = state.add_function(spec).unwrap_err();
        assert!(matches!(error, EmulatorError::FunctionExists { .. }));
    }

    #[tokio::test]
    async fn begin_counts_operations() {
        let state = state();
        state.begin("GetAlias", "f").await.unwrap();
        state.begin("GetAlias", "f").await.unwrap();
        let stats = state.function_stats("f").unwrap();
        assert_eq!(stats.operations["GetAlias"], 2);
        assert!(state.function_stats("g").is_none());
    }

    #[test]
    fn arns_carry_region_and_account() {
        let state = state();
        assert_eq!(
            state.settings().qualified_arn("f", "7"),
            "arn:aws:lambda:us-east-1:123456789012:function:f:7"
        );
    }
}
