//! Performance model: how long one invocation of a function profile takes, how much memory it
//! reports and how it ends, as a function of the configured memory.
//!
//! The formulas, with `m` the configured memory in MB:
//!
//! ```text
//! vcpu(m)        = min(m / 1769, 6)                      1,769 MB buys one vCPU, 10,240 MB six
//! parallelism(m) = min(threads, vcpu(m))                 single-threaded code never exceeds 1 vCPU
//! pressure(m)    = 1 + gc_weight * (working_set_mb / m)^2   GC and paging slowdown near the working set
//! handler(m)     = cpu_ms * arch / parallelism(m) * pressure(m) + io_ms
//! duration       = handler(m) * (1 + jitter * u)          u uniform in [-1, 1] from the seeded RNG
//! init           = init_ms * (1 + jitter * u)             only on a cold start
//! billed         = ceil(duration + init)                  init is billed unless `init_billed` is off
//! ```
//!
//! `arch` is 1 on x86_64 and `arm64_cpu_factor` on arm64. The outcome is decided in this order.
//! Below the working set the process is killed with `Runtime.OutOfMemory` after
//! `handler(m) * m / working_set_mb` ms. A duration above the timeout ends as `Sandbox.Timedout`
//! with the duration equal to the timeout. Otherwise the invocation fails with the profile's
//! error type with probability `error_rate`. Max Memory Used is `min(m, working_set_mb)`, or `m` on
//! an out-of-memory kill.
//!
//! Cost is `billed_ms / 1000 * m / 1024 * price_per_gb_s + request_price`. The CPU term costs the
//! same at every memory size up to one vCPU, the I/O term grows with memory and the pressure term
//! shrinks with it. A profile with both I/O and memory pressure therefore has a U-shaped cost
//! curve with an interior optimum.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Memory at which a function gets one full vCPU.
pub const MB_PER_VCPU: f64 = 1769.0;
/// CPU share at the largest memory size (10,240 MB).
pub const MAX_VCPU: f64 = 6.0;
/// x86_64 duration price in us-east-1, dollars per GB-second.
pub const X86_PRICE_PER_GB_S: f64 = 0.000_016_666_7;
/// arm64 duration price in us-east-1, dollars per GB-second.
pub const ARM64_PRICE_PER_GB_S: f64 = 0.000_013_333_4;
/// Largest `log_lines` a profile may set, to keep each invocation log small.
pub const MAX_LOG_LINES: u32 = 10_000;
/// Price of one request, dollars.
pub const REQUEST_PRICE: f64 = 0.000_000_2;

/// CPU architecture of a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Architecture {
    #[default]
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "arm64")]
    Arm64,
}

impl Architecture {
    /// Name of the architecture as the Lambda API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// Parses the Lambda API spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "x86_64" => Some(Architecture::X86_64),
            "arm64" => Some(Architecture::Arm64),
            _ => None,
        }
    }

    fn price_per_gb_s(self) -> f64 {
        match self {
            Architecture::X86_64 => X86_PRICE_PER_GB_S,
            Architecture::Arm64 => ARM64_PRICE_PER_GB_S,
        }
    }
}

/// Behaviour of a simulated function, independent of its memory size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// Cold-start initialisation time, ms.
    pub init_ms: f64,
    /// CPU work measured at one vCPU, ms.
    pub cpu_ms: f64,
    /// Number of threads the CPU work can use.
    pub threads: u32,
    /// Fixed wait on I/O, ms, independent of memory.
    pub io_ms: f64,
    /// Peak memory the function needs, MB; below it the process runs out of memory.
    pub working_set_mb: u32,
    /// Strength of the slowdown when memory gets close to the working set.
    pub gc_weight: f64,
    /// Relative jitter applied to every duration, for example 0.05 for ±5 %.
    pub jitter: f64,
    /// Probability that an invocation fails with `error_type`.
    pub error_rate: f64,
    /// `errorType` of the function error returned when `error_rate` triggers.
    pub error_type: String,
    /// Multiplier of the CPU time on arm64 (1.0 = as fast as x86_64, 1.2 = 20 % slower).
    pub arm64_cpu_factor: f64,
    /// Time to restore a SnapStart snapshot, ms, reported on cold starts of published versions.
    pub restore_ms: f64,
    /// Application log lines written per invocation.
    pub log_lines: u32,
    /// Body returned by a successful invocation; the request payload is echoed when absent.
    pub response: Option<serde_json::Value>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            init_ms: 150.0,
            cpu_ms: 20.0,
            threads: 1,
            io_ms: 5.0,
            working_set_mb: 64,
            gc_weight: 0.5,
            jitter: 0.0,
            error_rate: 0.0,
            error_type: "Error".to_owned(),
            arm64_cpu_factor: 1.0,
            restore_ms: 300.0,
            log_lines: 1,
            response: None,
        }
    }
}

impl Profile {
    /// Checks the ranges the formulas rely on and returns a message naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        let non_negative = [
            ("init_ms", self.init_ms),
            ("cpu_ms", self.cpu_ms),
            ("io_ms", self.io_ms),
            ("gc_weight", self.gc_weight),
            ("jitter", self.jitter),
            ("restore_ms", self.restore_ms),
        ];
        for (field, value) in non_negative {
            if !value.is_finite() || value < 0.0 {
                return Err(format!("`{field}` is {value}; use a finite value >= 0"));
            }
        }
        if self.jitter >= 1.0 {
            return Err(format!("`jitter` is {}; use a value in 0..1", self.jitter));
        }
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(format!(
                "`error_rate` is {}; use a probability in 0..=1",
                self.error_rate
            ));
        }
        if self.log_lines > MAX_LOG_LINES {
            return Err(format!(
                "`log_lines` is {}; use at most {MAX_LOG_LINES}",
                self.log_lines
            ));
        }
        if self.threads == 0 {
            return Err("`threads` is 0; use at least 1".to_owned());
        }
        if !self.arm64_cpu_factor.is_finite() || self.arm64_cpu_factor <= 0.0 {
            return Err(format!(
                "`arm64_cpu_factor` is {}; use a value > 0",
                self.arm64_cpu_factor
            ));
        }
        Ok(())
    }
}

/// CPU share, in vCPUs, that Lambda gives a function of `memory_mb`.
pub fn vcpu(memory_mb: u32) -> f64 {
    (f64::from(memory_mb) / MB_PER_VCPU).min(MAX_VCPU)
}

/// Handler time without jitter, ms.
pub fn handler_ms(profile: &Profile, memory_mb: u32, architecture: Architecture) -> f64 {
    let memory = f64::from(memory_mb.max(1));
    let parallelism = f64::from(profile.threads).min(vcpu(memory_mb));
    let pressure = 1.0 + profile.gc_weight * (f64::from(profile.working_set_mb) / memory).powi(2);
    let arch = match architecture {
        Architecture::X86_64 => 1.0,
        Architecture::Arm64 => profile.arm64_cpu_factor,
    };
    profile.cpu_ms * arch / parallelism * pressure + profile.io_ms
}

/// Final status of an invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Success,
    /// The profile's `error_rate` triggered; carries the error type.
    FunctionError(String),
    Timeout,
    OutOfMemory,
}

/// Kind of start an invocation had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Warm,
    /// A new execution environment ran the init phase.
    Cold,
    /// A new execution environment was restored from a SnapStart snapshot.
    Restored,
}

/// Simulated result of one invocation; every time is in simulated ms.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub duration_ms: f64,
    pub billed_ms: u64,
    pub init_ms: Option<f64>,
    pub restore_ms: Option<f64>,
    pub billed_restore_ms: Option<u64>,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: u32,
}

impl Outcome {
    /// Wall-clock time the invocation takes, before time scaling, ms.
    pub fn wall_ms(&self) -> f64 {
        self.duration_ms + self.init_ms.unwrap_or(0.0) + self.restore_ms.unwrap_or(0.0)
    }
}

/// Inputs of one simulated invocation besides the profile.
#[derive(Debug, Clone, Copy)]
pub struct Invocation {
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub architecture: Architecture,
    pub start: Start,
    pub init_billed: bool,
}

/// Simulates one invocation, drawing jitter and errors from `rng`.
pub fn simulate(profile: &Profile, call: Invocation, rng: &mut impl Rng) -> Outcome {
    let memory_mb = call.memory_mb;
    let timeout_ms = f64::from(call.timeout_s) * 1000.0;
    let mut duration_ms =
        handler_ms(profile, memory_mb, call.architecture) * jittered(profile, rng);

    let (init_ms, restore_ms) = match call.start {
        Start::Warm => (None, None),
        Start::Cold => (Some(profile.init_ms * jittered(profile, rng)), None),
        Start::Restored => (None, Some(profile.restore_ms * jittered(profile, rng))),
    };

    let status = if memory_mb < profile.working_set_mb {
        duration_ms *= f64::from(memory_mb) / f64::from(profile.working_set_mb);
        Status::OutOfMemory
    } else if duration_ms > timeout_ms {
        duration_ms = timeout_ms;
        Status::Timeout
    } else if rng.random::<f64>() < profile.error_rate {
        Status::FunctionError(profile.error_type.clone())
    } else {
        Status::Success
    };
    let duration_ms = round_to_hundredths(duration_ms.min(timeout_ms));

    let billed_init = if call.init_billed {
        init_ms.unwrap_or(0.0)
    } else {
        0.0
    };
    let billed_ms = (duration_ms + billed_init).ceil().max(1.0) as u64;
    let max_memory_used_mb = match status {
        Status::OutOfMemory => memory_mb,
        _ => profile.working_set_mb.min(memory_mb),
    };

    Outcome {
        status,
        duration_ms,
        billed_ms,
        init_ms: init_ms.map(round_to_hundredths),
        restore_ms: restore_ms.map(round_to_hundredths),
        billed_restore_ms: restore_ms.map(|ms| ms.ceil() as u64),
        memory_size_mb: memory_mb,
        max_memory_used_mb,
    }
}

fn jittered(profile: &Profile, rng: &mut impl Rng) -> f64 {
    if profile.jitter == 0.0 {
        return 1.0;
    }
    1.0 + profile.jitter * rng.random_range(-1.0..=1.0)
}

fn round_to_hundredths(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}

/// Expected warm-invocation duration and cost at one memory size, without jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expectation {
    pub memory_mb: u32,
    pub duration_ms: f64,
    pub cost_usd: f64,
}

/// Expected warm result at `memory_mb`, or `None` when the function runs out of memory or times
/// out there.
pub fn expect(
    profile: &Profile,
    memory_mb: u32,
    timeout_s: u32,
    architecture: Architecture,
) -> Option<Expectation> {
    if memory_mb < profile.working_set_mb {
        return None;
    }
    let duration_ms = round_to_hundredths(handler_ms(profile, memory_mb, architecture));
    if duration_ms > f64::from(timeout_s) * 1000.0 {
        return None;
    }
    let billed_s = duration_ms.ceil().max(1.0) / 1000.0;
    let gb = f64::from(memory_mb) / 1024.0;
    let cost_usd = billed_s * gb * architecture.price_per_gb_s() + REQUEST_PRICE;
    Some(Expectation {
        memory_mb,
        duration_ms,
        cost_usd,
    })
}

/// Winners of the three Power Tuning strategies over a set of expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Winners {
    pub cost: u32,
    pub speed: u32,
    /// Balanced strategy with weight 0.5: `0.5 * cost / max_cost + 0.5 * duration / max_duration`.
    pub balanced: u32,
}

/// Picks the winner of each strategy; ties go to the smaller memory size. `None` when every
/// memory size failed.
pub fn winners(expectations: &[Expectation]) -> Option<Winners> {
    let max_cost = expectations.iter().map(|e| e.cost_usd).fold(0.0, f64::max);
    let max_duration = expectations
        .iter()
        .map(|e| e.duration_ms)
        .fold(0.0, f64::max);
    let pick = |score: &dyn Fn(&Expectation) -> f64| {
        expectations
            .iter()
            .min_by(|a, b| {
                score(a)
                    .total_cmp(&score(b))
                    .then(a.memory_mb.cmp(&b.memory_mb))
            })
            .map(|e| e.memory_mb)
    };
    Some(Winners {
        cost: pick(&|e| e.cost_usd)?,
        speed: pick(&|e| e.duration_ms)?,
        balanced: pick(&|e| 0.5 * e.cost_usd / max_cost + 0.5 * e.duration_ms / max_duration)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn warm(memory_mb: u32, timeout_s: u32) -> Invocation {
        Invocation {
            memory_mb,
            timeout_s,
            architecture: Architecture::X86_64,
            start: Start::Warm,
            init_billed: true,
        }
    }

    #[test]
    fn vcpu_follows_memory_and_caps_at_six() {
        assert!((vcpu(1769) - 1.0).abs() < 1e-9);
        assert!((vcpu(10240) - 10240.0 / 1769.0).abs() < 1e-9);
        assert!(vcpu(10240) <= MAX_VCPU);
        assert!((vcpu(20000) - MAX_VCPU).abs() < 1e-9);
        assert!((vcpu(128) - 128.0 / 1769.0).abs() < 1e-9);
    }

    #[test]
    fn single_thread_gains_nothing_past_one_vcpu() {
        let profile = Profile {
            cpu_ms: 1000.0,
            io_ms: 0.0,
            gc_weight: 0.0,
            ..Profile::default()
        };
        let at_one_vcpu = handler_ms(&profile, 1769, Architecture::X86_64);
        let at_max = handler_ms(&profile, 10240, Architecture::X86_64);
        assert!((at_one_vcpu - 1000.0).abs() < 1e-6);
        assert!((at_max - 1000.0).abs() < 1e-6);
    }

    #[test]
    fn below_working_set_runs_out_of_memory() {
        let profile = Profile {
            working_set_mb: 300,
            ..Profile::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let outcome = simulate(&profile, warm(256, 3), &mut rng);
        assert_eq!(outcome.status, Status::OutOfMemory);
        assert_eq!(outcome.max_memory_used_mb, 256);
    }

    #[test]
    fn slow_handler_times_out_at_the_timeout() {
        let profile = Profile {
            io_ms: 5000.0,
            ..Profile::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let outcome = simulate(&profile, warm(1024, 3), &mut rng);
        assert_eq!(outcome.status, Status::Timeout);
        assert_eq!(outcome.duration_ms, 3000.0);
        assert_eq!(outcome.billed_ms, 3000);
    }

    #[test]
    fn billing_includes_init_only_when_switched_on() {
        let profile = Profile::default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let cold = Invocation {
            start: Start::Cold,
            ..warm(1769, 3)
        };
        let billed = simulate(&profile, cold, &mut rng);
        let unbilled = simulate(
            &profile,
            Invocation {
                init_billed: false,
                ..cold
            },
            &mut rng,
        );
        assert_eq!(billed.billed_ms, (billed.duration_ms + 150.0).ceil() as u64);
        assert_eq!(unbilled.billed_ms, unbilled.duration_ms.ceil() as u64);
    }

    #[test]
    fn error_rate_one_always_fails() {
        let profile = Profile {
            error_rate: 1.0,
            error_type: "FlakyError".to_owned(),
            ..Profile::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let outcome = simulate(&profile, warm(512, 3), &mut rng);
        assert_eq!(
            outcome.status,
            Status::FunctionError("FlakyError".to_owned())
        );
    }

    #[test]
    fn jitter_stays_within_its_bounds() {
        let profile = Profile {
            jitter: 0.1,
            ..Profile::default()
        };
        let expected = handler_ms(&profile, 1024, Architecture::X86_64);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..200 {
            let outcome = simulate(&profile, warm(1024, 3), &mut rng);
            assert!(outcome.duration_ms >= expected * 0.9 - 0.01);
            assert!(outcome.duration_ms <= expected * 1.1 + 0.01);
        }
    }

    #[test]
    fn arm64_factor_scales_cpu_time() {
        let profile = Profile {
            cpu_ms: 100.0,
            io_ms: 0.0,
            gc_weight: 0.0,
            arm64_cpu_factor: 1.2,
            ..Profile::default()
        };
        let x86 = handler_ms(&profile, 1769, Architecture::X86_64);
        let arm = handler_ms(&profile, 1769, Architecture::Arm64);
        assert!((arm / x86 - 1.2).abs() < 1e-9);
    }

    #[test]
    fn invalid_profile_names_the_field() {
        let profile = Profile {
            error_rate: 1.5,
            ..Profile::default()
        };
        let message = profile.validate().unwrap_err();
        assert!(message.contains("error_rate"), "{message}");
    }
}
