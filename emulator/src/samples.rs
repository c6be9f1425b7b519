//! Sample functions preloaded by `--samples`, one per shape seen in real power tunings, and the
//! expected winner of each tuning strategy, which the crate README lists.

use crate::model::{self, Architecture, Profile, Winners};
use crate::spec::{FunctionSpec, LogFormat};

/// Memory sizes the README's expected winners are computed over, MB.
pub const TUNING_POWERS: [u32; 6] = [128, 256, 512, 1024, 1536, 3008];

/// Relative jitter of every sample, small enough to keep the expected winners.
const SAMPLE_JITTER: f64 = 0.01;

/// Builds the sample functions.
pub fn sample_functions() -> Vec<FunctionSpec> {
    vec![
        sample(
            "cpu-bound",
            "single-threaded CPU work, flat cost up to 1 vCPU",
            60,
            Profile {
                cpu_ms: 400.0,
                io_ms: 0.0,
                working_set_mb: 100,
                gc_weight: 4.0,
                ..base()
            },
        ),
        sample(
            "io-bound",
            "waits on I/O, cheapest at the smallest size",
            10,
            Profile {
                cpu_ms: 20.0,
                io_ms: 300.0,
                working_set_mb: 60,
                ..base()
            },
        ),
        sample(
            "multi-threaded",
            "four threads, faster up to 4 vCPUs",
            60,
            Profile {
                cpu_ms: 1000.0,
                threads: 4,
                io_ms: 0.0,
                working_set_mb: 100,
                gc_weight: 2.0,
                ..base()
            },
        ),
        sample(
            "memory-hungry",
            "300 MB working set, out of memory below it",
            60,
            Profile {
                cpu_ms: 300.0,
                io_ms: 20.0,
                working_set_mb: 300,
                gc_weight: 2.0,
                ..base()
            },
        ),
        sample(
            "slow-init",
            "2.5 s cold start, light handler",
            10,
            Profile {
                init_ms: 2500.0,
                cpu_ms: 50.0,
                io_ms: 10.0,
                working_set_mb: 80,
                ..base()
            },
        ),
        FunctionSpec {
            snapstart: true,
            runtime: "java21".to_owned(),
            ..sample(
                "snapstart",
                "SnapStart on published versions",
                10,
                Profile {
                    init_ms: 3000.0,
                    restore_ms: 400.0,
                    cpu_ms: 100.0,
                    io_ms: 20.0,
                    working_set_mb: 90,
                    ..base()
                },
            )
        },
        sample(
            "flaky",
            "fails with FlakyError in 20 % of invocations",
            10,
            Profile {
                cpu_ms: 50.0,
                io_ms: 50.0,
                error_rate: 0.2,
                error_type: "FlakyError".to_owned(),
                ..base()
            },
        ),
        sample(
            "u-shaped",
            "memory pressure at small sizes, I/O cost at large",
            60,
            Profile {
                cpu_ms: 400.0,
                io_ms: 50.0,
                working_set_mb: 120,
                gc_weight: 3.0,
                ..base()
            },
        ),
        FunctionSpec {
            log_format: LogFormat::Json,
            ..sample(
                "json-logs",
                "light handler with LoggingConfig.LogFormat=JSON",
                10,
                Profile {
                    cpu_ms: 30.0,
                    io_ms: 30.0,
                    ..base()
                },
            )
        },
    ]
}

fn base() -> Profile {
    Profile {
        jitter: SAMPLE_JITTER,
        ..Profile::default()
    }
}

fn sample(name: &str, description: &str, timeout_s: u32, profile: Profile) -> FunctionSpec {
    FunctionSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        timeout_s,
        profile,
        ..FunctionSpec::default()
    }
}

/// Expected winners of `spec` over [`TUNING_POWERS`] for warm x86_64 invocations; memory sizes
/// where the function fails are left out. `None` when it fails everywhere.
pub fn expected_winners(spec: &FunctionSpec) -> Option<Winners> {
    let expectations: Vec<_> = TUNING_POWERS
        .iter()
        .filter_map(|&memory| {
            model::expect(&spec.profile, memory, spec.timeout_s, Architecture::X86_64)
        })
        .collect();
    model::winners(&expectations)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of the README table: name, cost, speed and balanced winners.
    fn readme_rows() -> Vec<(String, u32, u32, u32)> {
        include_str!("../README.md")
            .lines()
            .filter(|line| line.starts_with("| `"))
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let number = |cell: &str| cell.trim_matches('*').parse::<u32>().ok();
                Some((
                    cells[1].trim_matches('`').to_owned(),
                    number(cells[cells.len() - 4])?,
                    number(cells[cells.len() - 3])?,
                    number(cells[cells.len() - 2])?,
                ))
            })
            .collect()
    }

    #[test]
    fn samples_are_valid() {
        for spec in sample_functions() {
            spec.validate().unwrap();
        }
    }

    #[test]
    fn readme_lists_model_winners() {
        let rows = readme_rows();
        let samples = sample_functions();
        assert_eq!(rows.len(), samples.len(), "one README row per sample");
        for spec in samples {
            let winners = expected_winners(&spec).unwrap();
            let row = rows
                .iter()
                .find(|row| row.0 == spec.name)
                .unwrap_or_else(|| panic!("README has no row for `{}`", spec.name));
            assert_eq!(row.1, winners.cost, "cost winner of {}", spec.name);
            assert_eq!(row.2, winners.speed, "speed winner of {}", spec.name);
            assert_eq!(row.3, winners.balanced, "balanced winner of {}", spec.name);
        }
    }

    #[test]
    fn u_shaped_optimum_is_interior() {
        let spec = sample_functions()
            .into_iter()
            .find(|spec| spec.name == "u-shaped")
            .unwrap();
        let winners = expected_winners(&spec).unwrap();
        assert!(winners.cost > 128, "{winners:?}");
        assert!(winners.cost < 3008, "{winners:?}");
    }

    #[test]
    fn memory_hungry_fails_below_working_set() {
        let spec = sample_functions()
            .into_iter()
            .find(|spec| spec.name == "memory-hungry")
            .unwrap();
        assert!(model::expect(&spec.profile, 256, spec.timeout_s, Architecture::X86_64).is_none());
        assert!(model::expect(&spec.profile, 512, spec.timeout_s, Architecture::X86_64).is_some());
    }
}
