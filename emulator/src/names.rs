//! Function names as the Lambda API accepts them: a plain name, a partial ARN
//! (`123456789012:function:name`) or a full ARN, each with an optional `:qualifier` suffix, and
//! the reconciliation of that suffix with the `Qualifier` query parameter.

use crate::error::ApiError;

/// Function name and qualifier taken from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    pub qualifier: Option<String>,
}

/// Parses the `FunctionName` path label and merges it with the `Qualifier` query parameter.
///
/// Rejects a malformed name or qualifier with 400 `ValidationException` and a qualifier in the
/// name that differs from the query parameter with 400 `InvalidParameterValueException`.
pub fn parse_function_ref(
    raw: &str,
    query_qualifier: Option<&str>,
) -> Result<FunctionRef, ApiError> {
    let (name, name_qualifier) = split_function_name(raw)?;
    if let Some(qualifier) = query_qualifier {
        validate_qualifier(qualifier)?;
    }

    let qualifier = match (name_qualifier, query_qualifier) {
        (Some(from_name), Some(from_query)) if from_name != from_query => {
            return Err(ApiError::invalid_parameter(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
        (Some(from_name), _) => Some(from_name),
        (None, from_query) => from_query.map(str::to_owned),
    };
    Ok(FunctionRef { name, qualifier })
}

/// Parses a name that must not carry a qualifier, as CreateFunction and the alias routes need.
pub fn parse_unqualified(raw: &str) -> Result<String, ApiError> {
    match split_function_name(raw)? {
        (name, None) => Ok(name),
        (_, Some(_)) => Err(invalid_name(raw)),
    }
}

fn split_function_name(raw: &str) -> Result<(String, Option<String>), ApiError> {
    let parts: Vec<&str> = raw.split(':').collect();
    let (name, qualifier) = if parts[0] == "arn" {
        // arn:partition:lambda:region:account:function:name[:qualifier]
        if !(7..=8).contains(&parts.len())
            || !parts[1].starts_with("aws")
            || parts[2] != "lambda"
            || !is_region(parts[3])
            || !is_account(parts[4])
            || parts[5] != "function"
        {
            return Err(invalid_name(raw));
        }
        (parts[6], parts.get(7).copied())
    } else if parts.len() >= 3 && parts[1] == "function" {
        // account:function:name[:qualifier]
        if parts.len() > 4 || !is_account(parts[0]) {
            return Err(invalid_name(raw));
        }
        (parts[2], parts.get(3).copied())
    } else {
        if parts.len() > 2 {
            return Err(invalid_name(raw));
        }
        (parts[0], parts.get(1).copied())
    };

    if !is_name(name) {
        return Err(invalid_name(raw));
    }
    if let Some(qualifier) = qualifier {
        validate_qualifier(qualifier)?;
    }
    Ok((name.to_owned(), qualifier.map(str::to_owned)))
}

/// Checks a version number, alias name or `$LATEST`.
pub fn validate_qualifier(qualifier: &str) -> Result<(), ApiError> {
    let valid = qualifier == "$LATEST"
        || (!qualifier.is_empty()
            && qualifier.len() <= 128
            && qualifier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"
        )))
    }
}

/// Checks an alias name: 1-128 characters of `[a-zA-Z0-9-_]`, not all digits.
pub fn validate_alias_name(name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.chars().all(|c| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
        )))
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
}

fn invalid_name(raw: &str) -> ApiError {
    ApiError::validation(format!(
        "1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str, query: Option<&str>) -> FunctionRef {
        parse_function_ref(raw, query).unwrap()
    }

    #[test]
    fn accepts_every_name_form() {
        let cases = [
            "fn",
            "123456789012:function:fn",
            "arn:aws:lambda:us-east-1:123456789012:function:fn",
        ];
        for raw in cases {
            assert_eq!(parsed(raw, None).name, "fn", "{raw}");
            assert_eq!(parsed(raw, None).qualifier, None, "{raw}");
            let qualified = parsed(&format!("{raw}:7"), None);
            assert_eq!(qualified.qualifier.as_deref(), Some("7"), "{raw}");
        }
    }

    #[test]
    fn query_qualifier_applies_when_name_has_none() {
        let reference = parsed("fn", Some("$LATEST"));
        assert_eq!(reference.qualifier.as_deref(), Some("$LATEST"));
    }

    #[test]
    fn qualifier_mismatch_is_rejected() {
        let error = parse_function_ref("fn:1", Some("2")).unwrap_err();
        assert_eq!(error.code, "InvalidParameterValueException");
        assert!(parse_function_ref("fn:1", Some("1")).is_ok());
    }

    #[test]
    fn malformed_names_are_rejected() {
        let cases = [
            "",
            "arn:aws:lambda:us-east-1:123456789012:function",
            "arn:aws:s3:us-east-1:123456789012:function:fn",
            "arn:aws:lambda:nowhere:123456789012:function:fn",
            "arn:aws:lambda:us-east-1:12345:function:fn",
            "12345:function:fn",
            "fn:1:2",
            "bad name",
            "fn:bad.qualifier",
        ];
        for raw in cases {
            let error = parse_function_ref(raw, None).unwrap_err();
            assert_eq!(error.code, "ValidationException", "{raw}");
        }
    }

    #[test]
    fn alias_names_must_not_be_numeric() {
        assert!(validate_alias_name("RAM128").is_ok());
        assert!(validate_alias_name("128").is_err());
        assert!(validate_alias_name("").is_err());
    }
}
