//! Lambda function ARNs and alias names, checked once at the edge.
//!
//! The tuner addresses every function by its unqualified ARN and adds its own
//! aliases (`RAM512`) as qualifiers, so a qualified ARN in the input would
//! point the aliases at the wrong place. [`FunctionArn`] only contains ARNs that
//! passed these checks, and later code can build qualified ARNs from it.

use std::fmt;
use std::str::FromStr;

/// Partitions whose Lambda ARNs the tuner accepts.
pub const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

/// Maximum length of a function name, in characters.
const MAX_NAME_LEN: usize = 64;

/// Maximum length of an alias name, in characters.
const MAX_ALIAS_LEN: usize = 128;

/// An unqualified Lambda function ARN:
/// `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

/// Error for a rejected ARN or alias name. Each message names the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error("`{value}` is not a Lambda function ARN: {reason}")]
    Malformed { value: String, reason: String },

    #[error(
        "`{value}` is a qualified ARN (it ends with the version or alias `{qualifier}`); \
         pass the unqualified ARN `{unqualified}`"
    )]
    Qualified {
        value: String,
        qualifier: String,
        unqualified: String,
    },

    #[error("`{value}` is not a valid alias name: {reason}")]
    InvalidAlias { value: String, reason: String },
}

impl FunctionArn {
    /// Formats the ARN without a qualifier.
    pub fn unqualified(&self) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition, self.region, self.account, self.name
        )
    }

    /// Formats the ARN of a version or alias of this function.
    pub fn qualified(&self, qualifier: &str) -> String {
        format!("{}:{qualifier}", self.unqualified())
    }
}

impl fmt::Display for FunctionArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.unqualified())
    }
}

impl FromStr for FunctionArn {
    type Err = ArnError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let malformed = |reason: String| ArnError::Malformed {
            value: value.to_owned(),
            reason,
        };
        let parts: Vec<&str> = value.split(':').collect();

        if parts.len() < 7 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" {
            return Err(malformed(
                "expected the form arn:aws:lambda:REGION:ACCOUNT:function:NAME, \
                 such as arn:aws:lambda:us-east-1:123456789012:function:my-function"
                    .to_owned(),
            ));
        }
        if parts.len() > 8 {
            return Err(malformed(format!(
                "it has {} colon-separated parts, but a function ARN has 7",
                parts.len()
            )));
        }

        let (partition, region, account, name) = (parts[1], parts[3], parts[4], parts[6]);
        check_partition(partition, region).map_err(&malformed)?;
        check_account(account).map_err(&malformed)?;
        check_function_name(name).map_err(&malformed)?;

        let arn = FunctionArn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        };
        if let Some(qualifier) = parts.get(7) {
            return Err(ArnError::Qualified {
                value: value.to_owned(),
                qualifier: (*qualifier).to_owned(),
                unqualified: arn.unqualified(),
            });
        }
        Ok(arn)
    }
}

/// Checks an alias name against the AWS rule: 1 to 128 characters of
/// `[A-Za-z0-9-_]`, and not only digits (digits alone name a version).
pub fn validate_alias_name(name: &str) -> Result<(), ArnError> {
    let invalid = |reason: &str| ArnError::InvalidAlias {
        value: name.to_owned(),
        reason: reason.to_owned(),
    };

    if name.is_empty() || name.len() > MAX_ALIAS_LEN {
        return Err(invalid("an alias name has 1 to 128 characters"));
    }
    if !name.chars().all(is_name_char) {
        return Err(invalid(
            "use only letters, digits, `-` and `_`, such as `prod` or `tuned-512`",
        ));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid(
            "a name made of digits only is a version number; add a letter, such as `v3`",
        ));
    }
    Ok(())
}

/// Checks a qualifier of a processor ARN: a version number, `$LATEST` or an
/// alias name.
pub fn validate_qualifier(qualifier: &str) -> Result<(), ArnError> {
    let is_version = !qualifier.is_empty() && qualifier.chars().all(|c| c.is_ascii_digit());
    if qualifier == "$LATEST" || is_version {
        return Ok(());
    }
    validate_alias_name(qualifier)
}

fn check_partition(partition: &str, region: &str) -> Result<(), String> {
    if !PARTITIONS.contains(&partition) {
        return Err(format!(
            "partition `{partition}` is not one of aws, aws-cn, aws-us-gov"
        ));
    }
    check_region(region)?;

    let expected = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    if partition != expected {
        return Err(format!(
            "region `{region}` belongs to partition `{expected}`, not `{partition}`"
        ));
    }
    Ok(())
}

/// Accepts region names such as `us-east-1`, `us-gov-west-1` and
/// `ap-southeast-5`: lowercase words joined by `-`, ending with a number.
fn check_region(region: &str) -> Result<(), String> {
    let words: Vec<&str> = region.split('-').collect();
    let shaped = words.len() >= 3
        && words[0].len() == 2
        && words[..words.len() - 1]
            .iter()
            .all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase()))
        && words[words.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !words[words.len() - 1].is_empty();
    if !shaped {
        return Err(format!(
            "region `{region}` is not a region name such as us-east-1 or eu-west-3"
        ));
    }
    Ok(())
}

fn check_account(account: &str) -> Result<(), String> {
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "account `{account}` is not a 12-digit AWS account ID"
        ));
    }
    Ok(())
}

fn check_function_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.chars().all(is_name_char) {
        return Err(format!(
            "function name `{name}` must have 1 to 64 letters, digits, `-` or `_`"
        ));
    }
    Ok(())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:my-fn_1";

    #[test]
    fn parses_unqualified_arn() {
        let arn: FunctionArn = ARN.parse().unwrap();

        assert_eq!(arn.partition, "aws");
        assert_eq!(arn.region, "us-east-1");
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.name, "my-fn_1");
        assert_eq!(arn.to_string(), ARN);
        assert_eq!(arn.unqualified(), ARN);
        assert_eq!(arn.qualified("RAM512"), format!("{ARN}:RAM512"));
    }

    #[test]
    fn accepts_china_and_govcloud_partitions() {
        let china: FunctionArn = "arn:aws-cn:lambda:cn-north-1:123456789012:function:f"
            .parse()
            .unwrap();
        let gov: FunctionArn = "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f"
            .parse()
            .unwrap();

        assert_eq!(china.partition, "aws-cn");
        assert_eq!(gov.region, "us-gov-west-1");
    }

    #[test]
    fn rejects_qualified_arn_with_unqualified_hint() {
        for qualifier in ["prod", "3", "$LATEST"] {
            let value = format!("{ARN}:{qualifier}");
            let error = value.parse::<FunctionArn>().unwrap_err();

            assert!(matches!(error, ArnError::Qualified { .. }));
            let message = error.to_string();
            assert!(message.contains(&value), "{message}");
            assert!(
                message.contains(&format!("pass the unqualified ARN `{ARN}`")),
                "{message}"
            );
        }
    }

    #[test]
    fn rejects_malformed_arns_naming_value() {
        let cases = [
            ("my-function", "arn:aws:lambda:REGION"),
            ("arn:aws:s3:::bucket/key", "arn:aws:lambda:REGION"),
            (
                "arn:aws:lambda:us-east-1:123456789012:layer:l",
                "arn:aws:lambda:REGION",
            ),
            (
                "arn:aws-eu:lambda:us-east-1:123456789012:function:f",
                "partition `aws-eu`",
            ),
            (
                "arn:aws:lambda:useast1:123456789012:function:f",
                "region `useast1`",
            ),
            (
                "arn:aws:lambda:US-EAST-1:123456789012:function:f",
                "region `US-EAST-1`",
            ),
            (
                "arn:aws:lambda:cn-north-1:123456789012:function:f",
                "partition `aws-cn`",
            ),
            (
                "arn:aws:lambda:us-east-1:12345:function:f",
                "account `12345`",
            ),
            (
                "arn:aws:lambda:us-east-1:12345678901a:function:f",
                "account `12345678901a`",
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:",
                "function name ``",
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:my.fn",
                "function name `my.fn`",
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:a:b:c",
                "colon-separated parts",
            ),
        ];
        for (value, expected) in cases {
            let error = value.parse::<FunctionArn>().unwrap_err();
            let message = error.to_string();

            assert!(message.contains(&format!("`{value}`")), "{message}");
            assert!(message.contains(expected), "{value}: {message}");
        }
    }

    #[test]
    fn function_name_limit_is_64_characters() {
        let longest = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            "a".repeat(64)
        );
        let too_long = format!("{longest}a");

        assert!(longest.parse::<FunctionArn>().is_ok());
        assert!(too_long.parse::<FunctionArn>().is_err());
    }

    #[test]
    fn alias_names_follow_aws_rule() {
        for valid in ["prod", "RAM512", "v1", "a-b_c", &"a".repeat(128)] {
            assert!(validate_alias_name(valid).is_ok(), "{valid}");
        }

        for (invalid, expected) in [
            ("", "1 to 128"),
            ("123", "digits only"),
            ("my alias", "letters, digits"),
            ("prod:1", "letters, digits"),
            ("$LATEST", "letters, digits"),
        ] {
            let message = validate_alias_name(invalid).unwrap_err().to_string();
            assert!(message.contains(&format!("`{invalid}`")), "{message}");
            assert!(message.contains(expected), "{message}");
        }
        assert!(validate_alias_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn qualifier_accepts_versions_latest_and_aliases() {
        for valid in ["1", "42", "$LATEST", "prod"] {
            assert!(validate_qualifier(valid).is_ok(), "{valid}");
        }
        assert!(validate_qualifier("").is_err());
        assert!(validate_qualifier("bad alias").is_err());
    }
}
