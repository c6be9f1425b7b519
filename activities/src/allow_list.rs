//! The worker's list of functions it may tune.
//!
//! Tuning changes a function's memory and publishes versions and aliases, so
//! an operator can limit a worker to some functions with `--allow-function`
//! patterns. They follow IAM resource ARNs: `*` matches any run of
//! characters (also none, and across `:`), and `?` matches exactly one.
//! Matching is case-sensitive. Examples:
//!
//! - `arn:aws:lambda:us-east-1:*:function:*` (one region)
//! - `arn:aws:lambda:*:*:function:my-prefix-*` (a name prefix)
//! - `arn:aws:lambda:*:123456789012:function:*` (one account)
//!
//! An empty list permits every function.

use crate::arn::PARTITIONS;

/// Patterns of the function ARNs a worker may tune.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    patterns: Vec<String>,
}

/// A rejected pattern, or a function outside the list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowListError {
    #[error(
        "--allow-function: `{pattern}` is not a Lambda function ARN pattern: {reason}; use a \
         pattern such as arn:aws:lambda:*:123456789012:function:my-prefix-*"
    )]
    InvalidPattern { pattern: String, reason: String },

    #[error(
        "function `{function_arn}` is not permitted by this worker's allow list ({}); add a \
         matching --allow-function pattern to the worker, such as `{function_arn}`",
        .patterns.join(", ")
    )]
    NotPermitted {
        function_arn: String,
        patterns: Vec<String>,
    },
}

impl AllowList {
    /// Checks every pattern and builds the list.
    pub fn new(patterns: Vec<String>) -> Result<Self, AllowListError> {
        for pattern in &patterns {
            check_pattern(pattern).map_err(|reason| AllowListError::InvalidPattern {
                pattern: pattern.clone(),
                reason,
            })?;
        }
        Ok(AllowList { patterns })
    }

    /// Returns true when the list has no patterns and so permits everything.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Returns the patterns as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Returns whether the function may be tuned. A qualified ARN is matched
    /// without its qualifier.
    pub fn permits(&self, function_arn: &str) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let unqualified = unqualified(function_arn);
        self.patterns
            .iter()
            .any(|pattern| wildcard_match(pattern, unqualified))
    }

    /// Like [`AllowList::permits`], with an error that lists the patterns.
    pub fn check(&self, function_arn: &str) -> Result<(), AllowListError> {
        if self.permits(function_arn) {
            return Ok(());
        }
        Err(AllowListError::NotPermitted {
            function_arn: unqualified(function_arn).to_owned(),
            patterns: self.patterns.clone(),
        })
    }
}

/// Cuts a `:qualifier` suffix from a function ARN.
fn unqualified(function_arn: &str) -> &str {
    let colons: Vec<usize> = function_arn.match_indices(':').map(|(at, _)| at).collect();
    if colons.len() == 7 {
        &function_arn[..colons[6]]
    } else {
        function_arn
    }
}

/// Checks that a pattern has the seven parts of a function ARN, each one
/// valid for its place or made valid by wildcards.
fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("the pattern is empty".to_owned());
    }
    let parts: Vec<&str> = pattern.split(':').collect();
    if parts.len() != 7 {
        return Err(format!(
            "it has {} colon-separated parts, but arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME has 7 \
             (to permit every function, pass no pattern)",
            parts.len()
        ));
    }
    let (partition, service, region, account, kind, name) =
        (parts[1], parts[2], parts[3], parts[4], parts[5], parts[6]);
    let has_wildcard = |part: &str| part.contains(['*', '?']);
    let only = |part: &str, allowed: fn(char) -> bool| {
        !part.is_empty() && part.chars().all(|c| c == '*' || c == '?' || allowed(c))
    };

    if parts[0] != "arn" {
        return Err("it does not start with `arn:`".to_owned());
    }
    let partition_ok = if has_wildcard(partition) {
        only(partition, |c| c.is_ascii_lowercase() || c == '-')
    } else {
        PARTITIONS.contains(&partition)
    };
    if !partition_ok {
        return Err(format!(
            "partition `{partition}` is not aws, aws-cn or aws-us-gov"
        ));
    }
    if !wildcard_match(service, "lambda") {
        return Err(format!("service `{service}` is not `lambda`"));
    }
    if !only(region, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
    }) {
        return Err(format!(
            "region `{region}` is not a region name such as us-east-1, or `*`"
        ));
    }
    let account_ok = if has_wildcard(account) {
        only(account, |c| c.is_ascii_digit())
    } else {
        account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
    };
    if !account_ok {
        return Err(format!(
            "account `{account}` is not a 12-digit account ID, or `*`"
        ));
    }
    if !wildcard_match(kind, "function") {
        return Err(format!("resource type `{kind}` is not `function`"));
    }
    if !only(name, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!(
            "function name `{name}` may only contain letters, digits, `-`, `_`, `*` and `?`"
        ));
    }
    Ok(())
}

/// Matches `text` against `pattern` where `*` matches any run of characters
/// and `?` exactly one. Runs in O(pattern × text) at worst, by retrying from
/// the last `*` only.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;

    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            last_star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if let Some((star, matched)) = last_star {
            // Let the last `*` swallow one more character and retry.
            p = star + 1;
            t = matched + 1;
            last_star = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:my-prefix-api";

    fn list(patterns: &[&str]) -> AllowList {
        AllowList::new(patterns.iter().map(|p| p.to_string()).collect()).unwrap()
    }

    #[test]
    fn empty_list_permits_everything() {
        let empty = list(&[]);

        assert!(empty.is_empty());
        assert!(empty.permits(ARN));
        assert!(empty.check("anything").is_ok());
    }

    #[test]
    fn exact_pattern_matches_only_that_function() {
        let exact = list(&[ARN]);

        assert!(exact.permits(ARN));
        assert!(!exact.permits("arn:aws:lambda:us-east-1:123456789012:function:my-prefix-ap"));
        assert!(!exact.permits("arn:aws:lambda:us-east-1:123456789012:function:my-prefix-apis"));
    }

    #[test]
    fn star_matches_any_run_including_none() {
        let prefix = list(&["arn:aws:lambda:*:*:function:my-prefix-*"]);
        let suffix = list(&["arn:aws:lambda:*:*:function:*-api"]);
        let region = list(&["arn:aws:lambda:us-east-1:*:function:*"]);

        assert!(prefix.permits(ARN));
        assert!(prefix.permits("arn:aws:lambda:eu-west-1:210987654321:function:my-prefix-"));
        assert!(!prefix.permits("arn:aws:lambda:eu-west-1:210987654321:function:other"));
        assert!(suffix.permits(ARN));
        assert!(region.permits(ARN));
        assert!(!region.permits("arn:aws:lambda:us-west-2:123456789012:function:my-prefix-api"));
    }

    #[test]
    fn question_mark_matches_one_character() {
        let one = list(&["arn:aws:lambda:us-east-?:123456789012:function:fn-?"]);

        assert!(one.permits("arn:aws:lambda:us-east-1:123456789012:function:fn-a"));
        assert!(!one.permits("arn:aws:lambda:us-east-1:123456789012:function:fn-"));
        assert!(!one.permits("arn:aws:lambda:us-east-1:123456789012:function:fn-ab"));
    }

    #[test]
    fn matching_is_case_sensitive() {
        let lower = list(&["arn:aws:lambda:*:*:function:my-*"]);

        assert!(!lower.permits("arn:aws:lambda:us-east-1:123456789012:function:My-fn"));
    }

    #[test]
    fn qualified_arn_is_matched_without_qualifier() {
        let exact = list(&[ARN]);

        assert!(exact.permits(&format!("{ARN}:RAM512")));
    }

    #[test]
    fn check_error_lists_patterns_and_fix() {
        let allow = list(&[
            "arn:aws:lambda:*:*:function:dev-*",
            "arn:aws:lambda:*:*:function:test-*",
        ]);
        let message = allow.check(ARN).unwrap_err().to_string();

        assert!(message.contains(&format!("`{ARN}`")), "{message}");
        assert!(
            message
                .contains("arn:aws:lambda:*:*:function:dev-*, arn:aws:lambda:*:*:function:test-*"),
            "{message}"
        );
        assert!(
            message.contains("add a matching --allow-function pattern to the worker"),
            "{message}"
        );
        assert_eq!(allow.patterns().len(), 2);
    }

    #[test]
    fn invalid_patterns_are_rejected() {
        let cases = [
            ("", "empty"),
            ("*", "colon-separated parts"),
            ("my-function", "colon-separated parts"),
            (
                "arn:aws:lambda:*:*:function:fn:prod",
                "colon-separated parts",
            ),
            ("urn:aws:lambda:*:*:function:*", "`arn:`"),
            ("arn:aws-eu:lambda:*:*:function:*", "partition `aws-eu`"),
            ("arn:aws:s3:*:*:function:*", "service `s3`"),
            (
                "arn:aws:lambda:US-EAST-1:*:function:*",
                "region `US-EAST-1`",
            ),
            ("arn:aws:lambda:*:12345:function:*", "account `12345`"),
            ("arn:aws:lambda:*:12a*:function:*", "account `12a*`"),
            ("arn:aws:lambda:*:*:layer:*", "resource type `layer`"),
            ("arn:aws:lambda:*:*:function:my.fn", "function name `my.fn`"),
            ("arn:aws:lambda:*:*:function:", "function name ``"),
        ];
        for (pattern, expected) in cases {
            let error = AllowList::new(vec![pattern.to_owned()]).unwrap_err();
            let message = error.to_string();

            assert!(message.contains(&format!("`{pattern}`")), "{message}");
            assert!(message.contains(expected), "{pattern}: {message}");
        }
    }

    #[test]
    fn wildcard_patterns_in_fixed_parts_are_accepted() {
        assert!(AllowList::new(vec!["arn:*:*:*:*:*:*".to_owned()]).is_ok());
        assert!(AllowList::new(vec!["arn:aws*:lambda:*:*:func*:*".to_owned()]).is_ok());
    }

    #[test]
    fn wildcard_match_backtracks() {
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(wildcard_match("a*b", "abbb"));
        assert!(!wildcard_match("a*b", "abba"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("?", ""));
        assert!(wildcard_match("**a", "ba"));
    }
}
