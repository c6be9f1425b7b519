//! The link to the chart of cost and duration per memory size.
//!
//! The chart page (<https://lambda-power-tuning.show/>, the original tool's
//! default) reads its data from the URL fragment, which browsers never send
//! to the server: three base64 lists joined by `;`, with the memory sizes as
//! little-endian `Int16`, then the durations and the costs as little-endian
//! `Float32`, all sorted by memory size. The format is fixed by that page.

use base64::Engine as _;
use powertune_proto::v1::PowerStats;

/// Base URL of the chart page.
pub const VISUALIZATION_BASE_URL: &str = "https://lambda-power-tuning.show/";

/// Builds the chart link for `stats`.
pub fn visualization_url(stats: &[PowerStats]) -> String {
    format!("{VISUALIZATION_BASE_URL}#{}", fragment(stats))
}

/// Builds the chart link for a function in `region`. The page labels costs
/// in CNY for the China regions, whose prices are in CNY.
pub fn visualization_url_for_region(stats: &[PowerStats], region: &str) -> String {
    if region.starts_with("cn-") {
        format!("{VISUALIZATION_BASE_URL}?currency=CNY#{}", fragment(stats))
    } else {
        visualization_url(stats)
    }
}

fn fragment(stats: &[PowerStats]) -> String {
    let mut sorted: Vec<&PowerStats> = stats.iter().collect();
    sorted.sort_by_key(|stat| stat.power);

    // Memory sizes fit Int16: Lambda's maximum is 10240 MB.
    let sizes: Vec<u8> = sorted
        .iter()
        .flat_map(|stat| (stat.power as i16).to_le_bytes())
        .collect();
    let durations: Vec<u8> = sorted
        .iter()
        .flat_map(|stat| (stat.duration as f32).to_le_bytes())
        .collect();
    let costs: Vec<u8> = sorted
        .iter()
        .flat_map(|stat| (stat.cost as f32).to_le_bytes())
        .collect();

    let engine = base64::engine::general_purpose::STANDARD;
    [
        engine.encode(sizes),
        engine.encode(durations),
        engine.encode(costs),
    ]
    .join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(power: u32, duration: f64, cost: f64) -> PowerStats {
        PowerStats {
            power,
            duration,
            cost,
            ..PowerStats::default()
        }
    }

    #[test]
    fn encodes_hand_computed_vector() {
        // Sizes 128, 256 → bytes 80 00 00 01 → "gAAAAQ==".
        // Durations 1.0, 2.0 → 00 00 80 3F 00 00 00 40 → "AACAPwAAAEA=".
        // Costs 0.5, 0.25 → 00 00 00 3F 00 00 80 3E → "AAAAPwAAgD4=".
        let stats = [stat(256, 2.0, 0.25), stat(128, 1.0, 0.5)];

        assert_eq!(
            visualization_url(&stats),
            "https://lambda-power-tuning.show/#gAAAAQ==;AACAPwAAAEA=;AAAAPwAAgD4="
        );
    }

    #[test]
    fn values_are_rounded_to_float32() {
        // 1.1 as Float32 is 0x3F8CCCCD → CD CC 8C 3F; 10240 as Int16 is 00 28.
        let stats = [
            stat(128, 12.5, 2.6e-7),
            stat(1024, 3.25, 1.05e-7),
            stat(10_240, 1.1, 3.3e-7),
        ];
        let url = visualization_url(&stats);

        assert_eq!(
            url,
            "https://lambda-power-tuning.show/#gAAABAAo;AABIQQAAUEDNzIw/;IZaLNFx84TPbKrE0"
        );
    }

    #[test]
    fn china_regions_show_cny() {
        let stats = [stat(128, 1.0, 0.5)];

        assert!(
            visualization_url_for_region(&stats, "cn-north-1")
                .starts_with("https://lambda-power-tuning.show/?currency=CNY#")
        );
        assert_eq!(
            visualization_url_for_region(&stats, "us-east-1"),
            visualization_url(&stats)
        );
    }

    #[test]
    fn no_stats_gives_empty_lists() {
        assert_eq!(
            visualization_url(&[]),
            "https://lambda-power-tuning.show/#;;"
        );
    }
}
