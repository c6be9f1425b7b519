//! Property tests of the performance model's shapes on the sample functions.

use lambda_emulator::model::{self, Architecture, handler_ms};
use lambda_emulator::samples::sample_functions;
use lambda_emulator::{FunctionSpec, Profile};
use proptest::prelude::*;

fn sample(name: &str) -> FunctionSpec {
    sample_functions()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
}

fn duration(profile: &Profile, memory: u32) -> f64 {
    handler_ms(profile, memory, Architecture::X86_64)
}

fn cost(spec: &FunctionSpec, memory: u32) -> f64 {
    model::expect(&spec.profile, memory, spec.timeout_s, Architecture::X86_64)
        .unwrap()
        .cost_usd
}

proptest! {
    #[test]
    fn io_bound_is_cheapest_at_128(memory in 129u32..=10240) {
        let spec = sample("io-bound");
        prop_assert!(cost(&spec, 128) < cost(&spec, memory));
    }

    #[test]
    fn cpu_bound_stops_getting_faster_at_one_vcpu(memory in 1769u32..=10240) {
        let profile = sample("cpu-bound").profile;
        let at_one_vcpu = duration(&profile, 1769);
        let at_memory = duration(&profile, memory);
        prop_assert!(at_memory <= at_one_vcpu);
        prop_assert!(at_memory >= at_one_vcpu * 0.98, "{at_memory} vs {at_one_vcpu}");
    }

    #[test]
    fn cpu_bound_speeds_up_below_one_vcpu(memory in 128u32..=1700) {
        let profile = sample("cpu-bound").profile;
        prop_assert!(duration(&profile, memory) > duration(&profile, memory + 64));
    }

    #[test]
    fn multi_threaded_keeps_getting_faster_above_one_vcpu(memory in 1769u32..=6900) {
        let profile = sample("multi-threaded").profile;
        let faster = duration(&profile, memory + 100);
        prop_assert!(faster < duration(&profile, memory) * 0.99);
    }

    #[test]
    fn u_shaped_minimum_is_interior(step in 1u32..=20) {
        let spec = sample("u-shaped");
        let powers: Vec<u32> = (0..=20).map(|i| 128 + i * (3008 - 128) / 20).collect();
        let cheapest = powers
            .iter()
            .copied()
            .min_by(|a, b| cost(&spec, *a).total_cmp(&cost(&spec, *b)))
            .unwrap();
        prop_assert!(cheapest > 128 && cheapest < 3008);
        let point = powers[step as usize];
        prop_assert!(cost(&spec, point) >= cost(&spec, cheapest));
    }

    #[test]
    fn duration_never_increases_with_memory(memory in 128u32..=10000, extra in 1u32..=240) {
        for spec in sample_functions() {
            if memory < spec.profile.working_set_mb {
                continue;
            }
            prop_assert!(duration(&spec.profile, memory + extra) <= duration(&spec.profile, memory) + 1e-9);
        }
    }
}
