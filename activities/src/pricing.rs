//! Prices of Lambda invocations and of the Temporal actions of a run.
//!
//! Sources, as of 2025-2026 (re-check before relying on them):
//! - the default x86_64 and arm64 duration prices and the request price are
//!   the first-tier list prices AWS publishes at
//!   <https://aws.amazon.com/lambda/pricing/>;
//! - the regional x86_64 prices agree with the per-ms prices at 128 MB in
//!   AWS Lambda Power Tuning 4.4's `template.yml` (`baseCosts`);
//! - the regional arm64 prices come from a public price table that cites the
//!   AWS page, and were not checked against AWS itself.
//!
//! Volume tiers, the free tier, ephemeral storage and provisioned
//! concurrency are ignored, so every cost here is an estimate at list price.

use std::fmt;
use std::str::FromStr;

/// Price of one Lambda request in USD: $0.20 per million, both
/// architectures, every commercial region.
pub const REQUEST_PRICE_USD: f64 = 0.20 / 1_000_000.0;

/// Price of one Temporal Cloud action in USD: pay-as-you-go starts at $50 per
/// million actions (first tier of <https://temporal.io/pricing>, 2026).
/// Volume tiers, included actions, storage and plan fees are ignored.
pub const TEMPORAL_ACTION_PRICE_USD: f64 = 0.00005;

/// Megabytes per gigabyte in Lambda's price unit ("MB" means MiB).
const MB_PER_GB: f64 = 1024.0;

/// CPU architecture of a Lambda function, which sets its duration price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Architecture {
    X86_64,
    Arm64,
}

/// An architecture name other than `x86_64` or `arm64`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("architecture `{0}` is not supported; Lambda functions run on `x86_64` or `arm64`")]
pub struct UnknownArchitecture(pub String);

impl Architecture {
    /// Returns the name Lambda uses in `Architectures`.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Architecture {
    type Err = UnknownArchitecture;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "x86_64" => Ok(Architecture::X86_64),
            "arm64" => Ok(Architecture::Arm64),
            other => Err(UnknownArchitecture(other.to_owned())),
        }
    }
}

/// Returns the on-demand duration price per GB-second in `region`.
///
/// Regions that are not listed use the default price (us-east-1 and most
/// other regions): $0.0000166667 for x86_64 and $0.0000133334 for arm64.
///
/// `ap-northeast-3` x86_64 is derived from the original tool's $2.7e-9 per ms
/// at 128 MB.
///
/// Currency caveat: for `cn-north-1` and `cn-northwest-1` the x86_64 price is
/// in CNY (¥0.0001136, from the original tool's ¥1.42e-8 per ms at 128 MB),
/// so costs for those regions are in CNY, as the original reports them.
/// NOTE: no arm64 price is listed for China or `ap-northeast-3`, so those
/// use the default USD price as the original does, and an arm64 cost in
/// China mixes a USD price with a CNY chart.
pub fn duration_price_per_gb_second(region: &str, architecture: Architecture) -> f64 {
    match architecture {
        Architecture::X86_64 => match region {
            "af-south-1" => 0.0000221,
            "ap-east-1" => 0.00002292,
            "ap-northeast-3" => 0.0000216,
            "eu-south-1" => 0.0000195172,
            "me-south-1" | "me-central-1" => 0.0000206667,
            "cn-north-1" | "cn-northwest-1" => 0.0001136,
            _ => 0.0000166667,
        },
        Architecture::Arm64 => match region {
            "af-south-1" => 0.00001768,
            "ap-east-1" => 0.0000183,
            "eu-south-1" => 0.0000156138,
            "me-south-1" | "me-central-1" => 0.0000165334,
            _ => 0.0000133334,
        },
    }
}

/// Returns the duration cost of one invocation, without the request price:
/// `billed_ms / 1000 × memory_mb / 1024 × price per GB-second`.
pub fn invocation_cost(
    billed_ms: f64,
    memory_mb: u32,
    region: &str,
    architecture: Architecture,
) -> f64 {
    let seconds = billed_ms / 1000.0;
    let gigabytes = f64::from(memory_mb) / MB_PER_GB;

    seconds * gigabytes * duration_price_per_gb_second(region, architecture)
}

/// Returns the estimated Temporal Cloud cost of `actions` actions, in USD.
pub fn temporal_actions_cost(actions: u32) -> f64 {
    f64::from(actions) * TEMPORAL_ACTION_PRICE_USD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-15_f64.max(b.abs() * 1e-9)
    }

    #[test]
    fn default_prices_per_architecture() {
        assert_eq!(
            duration_price_per_gb_second("us-east-1", Architecture::X86_64),
            0.0000166667
        );
        assert_eq!(
            duration_price_per_gb_second("us-east-1", Architecture::Arm64),
            0.0000133334
        );
        assert_eq!(
            duration_price_per_gb_second("eu-west-3", Architecture::Arm64),
            0.0000133334
        );
    }

    #[test]
    fn listed_regions_have_their_own_price() {
        assert_eq!(
            duration_price_per_gb_second("af-south-1", Architecture::X86_64),
            0.0000221
        );
        assert_eq!(
            duration_price_per_gb_second("af-south-1", Architecture::Arm64),
            0.00001768
        );
        assert_eq!(
            duration_price_per_gb_second("me-central-1", Architecture::X86_64),
            0.0000206667
        );
        assert_eq!(
            duration_price_per_gb_second("cn-north-1", Architecture::X86_64),
            0.0001136
        );
    }

    #[test]
    fn gigabyte_second_costs_unit_price() {
        let cost = invocation_cost(1000.0, 1024, "us-east-1", Architecture::X86_64);

        assert!(close(cost, 0.0000166667));
    }

    #[test]
    fn cost_scales_with_memory_and_time() {
        // 100 ms at 128 MB: 0.1 s × 0.125 GB = 0.0125 GB-s.
        let x86 = invocation_cost(100.0, 128, "us-east-1", Architecture::X86_64);
        let arm = invocation_cost(100.0, 128, "us-east-1", Architecture::Arm64);

        assert!(close(x86, 0.0125 * 0.0000166667));
        assert!(close(arm, 0.0125 * 0.0000133334));
        // The original's per-ms price at 128 MB is about 2.1e-9 USD.
        assert!(close(
            invocation_cost(1.0, 128, "us-east-1", Architecture::X86_64),
            2.0833375e-9
        ));
    }

    #[test]
    fn request_and_temporal_prices() {
        assert!(close(REQUEST_PRICE_USD * 1_000_000.0, 0.20));
        assert!(close(temporal_actions_cost(1_000_000), 50.0));
        assert!(close(temporal_actions_cost(30), 0.0015));
        assert_eq!(temporal_actions_cost(0), 0.0);
    }

    #[test]
    fn architecture_names_round_trip() {
        assert_eq!("x86_64".parse::<Architecture>(), Ok(Architecture::X86_64));
        assert_eq!("arm64".parse::<Architecture>(), Ok(Architecture::Arm64));
        assert_eq!(Architecture::Arm64.to_string(), "arm64");

        let message = "ARM64".parse::<Architecture>().unwrap_err().to_string();
        assert!(message.contains("`ARM64`"), "{message}");
    }
}
