//! Memory sizes given on the command line (`--default-power-values`,
//! `--power-values`), checked against the range AWS Lambda accepts.

use powertune_proto::{MAX_POWER_MB, MIN_POWER_MB};

/// Parses one memory size in MB; clap calls it for each comma-separated item.
/// The error names the rejected value and the accepted range.
pub fn parse_power_value(text: &str) -> Result<u32, String> {
    let trimmed = text.trim();
    let value: u32 = trimmed.parse().map_err(|_| {
        format!(
            "power value `{trimmed}` is not a whole number of MB; use values such as 128, 256, 512"
        )
    })?;

    if !(MIN_POWER_MB..=MAX_POWER_MB).contains(&value) {
        return Err(format!(
            "power value `{value}` is outside {MIN_POWER_MB}..={MAX_POWER_MB} MB; use values such as 128, 256, 512"
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_range_bounds() {
        assert_eq!(parse_power_value("128"), Ok(128));
        assert_eq!(parse_power_value(" 10240 "), Ok(10_240));
    }

    #[test]
    fn rejects_too_small_naming_value() {
        let error = parse_power_value("96").unwrap_err();
        assert_eq!(
            error,
            "power value `96` is outside 128..=10240 MB; use values such as 128, 256, 512"
        );
    }

    #[test]
    fn rejects_too_large_naming_value() {
        let error = parse_power_value("10241").unwrap_err();
        assert!(
            error.starts_with("power value `10241` is outside"),
            "{error}"
        );
    }

    #[test]
    fn rejects_non_numbers_naming_value() {
        for text in ["abc", "", "-128", "1.5"] {
            let error = parse_power_value(text).unwrap_err();
            assert!(error.contains(&format!("`{}`", text.trim())), "{error}");
            assert!(error.contains("not a whole number"), "{error}");
        }
    }
}
