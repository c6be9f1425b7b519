//! The body of each invocation, built from the `payload` input field.
//!
//! A list is a weighted payload, `[{"payload": ..., "weight": 3}, ...]`: each
//! entry gets `floor(weight / total × num)` of the `num` invocations and the
//! last entry gets whatever is left, as AWS Lambda Power Tuning 4.4 spreads
//! them. Any other value is sent to every invocation. A string that is already
//! JSON text is sent unchanged. Every other value is serialized to JSON first,
//! so the plain string `hello` is sent as `"hello"`.
//!
//! Error messages here never quote payload content, because the caller may
//! have set `disablePayloadLogs`.

use serde_json::Value;

/// Error building the payloads or reading an S3 URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error(
        "payload: the weighted payload list is empty; pass at least one entry such as \
         [{{\"payload\": {{}}, \"weight\": 1}}], or pass a JSON array as a string to send it as the body"
    )]
    EmptyList,

    #[error(
        "payload[{index}]: {problem}; each entry of a weighted payload is an object such as \
         {{\"payload\": {{...}}, \"weight\": 3}} with a positive weight (to send a JSON array as \
         the body, pass it as a string)"
    )]
    InvalidEntry { index: usize, problem: String },

    #[error(
        "payload: {entries} weighted payloads but num is {num}; raise num to at least {entries} \
         so every payload is invoked at least once"
    )]
    NumBelowEntries { entries: usize, num: u32 },

    #[error(
        "payload[{index}]: weight `{weight}` out of a total weight of `{total}` gives this payload \
         no invocation with num {num}; raise num or the weight so that weight / total × num is at least 1"
    )]
    WeightTooSmall {
        index: usize,
        weight: String,
        total: String,
        num: u32,
    },

    #[error("payloadS3: `{url}` is not a valid S3 URL: {reason}; use the form s3://bucket/key")]
    InvalidS3Url { url: String, reason: String },
}

/// Builds the body of each of the `num` invocations, in invocation order.
///
/// `None` gives `num` empty strings, which mean "invoke with no body". A JSON
/// `null` is a value like any other and becomes the text `null`.
pub fn invocation_payloads(payload: Option<&Value>, num: u32) -> Result<Vec<String>, PayloadError> {
    let count = num as usize;

    match payload {
        None => Ok(vec![String::new(); count]),
        Some(Value::Array(entries)) => weighted_payloads(entries, num),
        Some(value) => Ok(vec![payload_text(value); count]),
    }
}

/// Splits `s3://bucket/key` into bucket and key.
///
/// The key is percent-decoded, as the original tool decodes it, so
/// `s3://b/my%20file.json` reads the object `my file.json`.
pub fn parse_s3_url(url: &str) -> Result<(String, String), PayloadError> {
    let invalid = |reason: &str| PayloadError::InvalidS3Url {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };

    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| invalid("it does not start with s3://"))?;
    let (bucket, key) = rest
        .split_once('/')
        .ok_or_else(|| invalid("the object key is missing"))?;
    check_bucket_name(bucket).map_err(|reason| invalid(&reason))?;

    let key = percent_decode(key).ok_or_else(|| invalid("the key has an invalid %-escape"))?;
    if key.is_empty() {
        return Err(invalid("the object key is empty"));
    }
    Ok((bucket.to_owned(), key))
}

/// Converts one payload value into the invocation body.
pub fn payload_text(value: &Value) -> String {
    match value {
        Value::String(text) if serde_json::from_str::<Value>(text).is_ok() => text.clone(),
        other => other.to_string(),
    }
}

fn weighted_payloads(entries: &[Value], num: u32) -> Result<Vec<String>, PayloadError> {
    if entries.is_empty() {
        return Err(PayloadError::EmptyList);
    }
    let weighted = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| weighted_entry(index, entry))
        .collect::<Result<Vec<_>, _>>()?;
    if (num as usize) < weighted.len() {
        return Err(PayloadError::NumBelowEntries {
            entries: weighted.len(),
            num,
        });
    }

    let total: f64 = weighted.iter().map(|(_, weight)| weight).sum();
    let mut payloads = Vec::with_capacity(num as usize);
    for (index, (payload, weight)) in weighted.iter().enumerate() {
        // The same order of operations as the original, so float rounding
        // gives the same counts.
        let share = (weight * f64::from(num) / total).floor();
        if share < 1.0 {
            return Err(PayloadError::WeightTooSmall {
                index,
                weight: weight.to_string(),
                total: total.to_string(),
                num,
            });
        }

        let count = if index == weighted.len() - 1 {
            num as usize - payloads.len()
        } else {
            share as usize
        };
        let text = payload_text(payload);
        payloads.extend(std::iter::repeat_n(text, count));
    }
    Ok(payloads)
}

/// Reads one `{"payload": ..., "weight": n}` entry.
fn weighted_entry(index: usize, entry: &Value) -> Result<(&Value, f64), PayloadError> {
    let invalid = |problem: &str| PayloadError::InvalidEntry {
        index,
        problem: problem.to_owned(),
    };

    let object = entry
        .as_object()
        .ok_or_else(|| invalid("the entry is not an object"))?;
    let payload = match object.get("payload") {
        None | Some(Value::Null) => return Err(invalid("the `payload` field is missing")),
        Some(payload) => payload,
    };
    let weight = match object.get("weight") {
        None | Some(Value::Null) => return Err(invalid("the `weight` field is missing")),
        Some(weight) => weight,
    };

    match weight.as_f64() {
        Some(weight) if weight.is_finite() && weight > 0.0 => Ok((payload, weight)),
        _ => Err(invalid(&format!(
            "weight `{weight}` is not a positive number"
        ))),
    }
}

/// Checks the S3 bucket naming rules: 3 to 63 characters of lowercase
/// letters, digits, `.` and `-`, starting and ending with a letter or digit,
/// no `..`, and not shaped like an IP address.
fn check_bucket_name(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() {
        return Err("the bucket name is missing".to_owned());
    }
    if !(3..=63).contains(&bucket.len()) {
        return Err(format!("bucket `{bucket}` must have 3 to 63 characters"));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    if !bucket.chars().all(allowed) {
        return Err(format!(
            "bucket `{bucket}` may only contain lowercase letters, digits, `.` and `-`"
        ));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(bucket.chars().next()) || !edge_ok(bucket.chars().last()) {
        return Err(format!(
            "bucket `{bucket}` must start and end with a letter or digit"
        ));
    }
    if bucket.contains("..") {
        return Err(format!("bucket `{bucket}` must not contain `..`"));
    }
    if bucket.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(format!("bucket `{bucket}` must not be an IP address"));
    }
    Ok(())
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result is
/// not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn counts(payloads: &[String]) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for payload in payloads {
            match counts.last_mut() {
                Some((last, count)) if last == payload => *count += 1,
                _ => counts.push((payload.clone(), 1)),
            }
        }
        counts
    }

    #[test]
    fn no_payload_means_empty_bodies() {
        assert_eq!(invocation_payloads(None, 3).unwrap(), vec!["", "", ""]);
    }

    #[test]
    fn object_payload_is_serialized_for_each_invocation() {
        let payloads = invocation_payloads(Some(&json!({"key": "value"})), 5).unwrap();

        assert_eq!(payloads.len(), 5);
        assert!(payloads.iter().all(|p| p == r#"{"key":"value"}"#));
    }

    #[test]
    fn json_string_is_sent_unchanged() {
        let text = json!(r#"{"key": "value"}"#);
        let quoted = json!(r#""already quoted""#);

        assert_eq!(
            invocation_payloads(Some(&text), 1).unwrap(),
            vec![r#"{"key": "value"}"#]
        );
        assert_eq!(
            invocation_payloads(Some(&quoted), 1).unwrap(),
            vec![r#""already quoted""#]
        );
    }

    #[test]
    fn plain_string_is_quoted() {
        let payloads = invocation_payloads(Some(&json!("just a string")), 2).unwrap();

        assert_eq!(payloads, vec![r#""just a string""#, r#""just a string""#]);
    }

    #[test]
    fn scalars_and_null_are_serialized() {
        assert_eq!(
            invocation_payloads(Some(&json!(42)), 1).unwrap(),
            vec!["42"]
        );
        assert_eq!(
            invocation_payloads(Some(&json!(false)), 1).unwrap(),
            vec!["false"]
        );
        assert_eq!(
            invocation_payloads(Some(&Value::Null), 1).unwrap(),
            vec!["null"]
        );
        assert_eq!(
            invocation_payloads(Some(&json!("")), 1).unwrap(),
            vec![r#""""#]
        );
    }

    #[test]
    fn weights_5_3_2_spread_over_10() {
        let list = json!([
            {"payload": {"n": 1}, "weight": 5},
            {"payload": {"n": 2}, "weight": 3},
            {"payload": "three", "weight": 2},
        ]);
        let payloads = invocation_payloads(Some(&list), 10).unwrap();

        assert_eq!(
            counts(&payloads),
            vec![
                (r#"{"n":1}"#.to_owned(), 5),
                (r#"{"n":2}"#.to_owned(), 3),
                (r#""three""#.to_owned(), 2),
            ]
        );
    }

    #[test]
    fn uneven_weights_give_rest_to_last_entry() {
        // 1/3 × 10 = 3.33 → 3, 3; the last entry takes the remaining 4.
        let list = json!([
            {"payload": "a", "weight": 1},
            {"payload": "b", "weight": 1},
            {"payload": "c", "weight": 1},
        ]);
        let payloads = invocation_payloads(Some(&list), 10).unwrap();

        let spread: Vec<usize> = counts(&payloads).into_iter().map(|(_, n)| n).collect();
        assert_eq!(spread, vec![3, 3, 4]);
    }

    #[test]
    fn fractional_weights_are_relative() {
        let list = json!([{"payload": "a", "weight": 0.5}, {"payload": "b", "weight": 1.5}]);
        let payloads = invocation_payloads(Some(&list), 8).unwrap();

        let spread: Vec<usize> = counts(&payloads).into_iter().map(|(_, n)| n).collect();
        assert_eq!(spread, vec![2, 6]);
    }

    #[test]
    fn num_below_entry_count_is_rejected() {
        let list = json!([
            {"payload": "a", "weight": 1},
            {"payload": "b", "weight": 1},
            {"payload": "c", "weight": 1},
        ]);
        let error = invocation_payloads(Some(&list), 2).unwrap_err();

        assert_eq!(error, PayloadError::NumBelowEntries { entries: 3, num: 2 });
        assert!(error.to_string().contains("raise num to at least 3"));
    }

    #[test]
    fn tiny_weight_is_rejected() {
        // 1 / 100 × 10 = 0.1 → no invocation for the first entry.
        let list = json!([{"payload": "a", "weight": 1}, {"payload": "b", "weight": 99}]);
        let error = invocation_payloads(Some(&list), 10).unwrap_err();

        assert!(matches!(
            error,
            PayloadError::WeightTooSmall { index: 0, .. }
        ));
        let message = error.to_string();
        assert!(message.contains("payload[0]"), "{message}");
        assert!(message.contains("weight `1`"), "{message}");
        assert!(message.contains("raise num or the weight"), "{message}");
    }

    #[test]
    fn tiny_last_weight_is_rejected_too() {
        let list = json!([{"payload": "a", "weight": 99}, {"payload": "b", "weight": 1}]);
        let error = invocation_payloads(Some(&list), 10).unwrap_err();

        assert!(matches!(
            error,
            PayloadError::WeightTooSmall { index: 1, .. }
        ));
    }

    #[test]
    fn malformed_entries_are_rejected() {
        let cases = [
            (json!([]), "empty"),
            (json!([{"payload": "a"}]), "`weight` field is missing"),
            (json!([{"weight": 2}]), "`payload` field is missing"),
            (
                json!([{"payload": "a", "weight": 0}]),
                "weight `0` is not a positive number",
            ),
            (json!([{"payload": "a", "weight": -1}]), "weight `-1`"),
            (json!([{"payload": "a", "weight": "2"}]), "weight `\"2\"`"),
            (json!([1, 2, 3]), "not an object"),
        ];
        for (list, expected) in cases {
            let message = invocation_payloads(Some(&list), 10)
                .unwrap_err()
                .to_string();
            assert!(message.contains(expected), "{list}: {message}");
        }
    }

    #[test]
    fn entry_errors_do_not_quote_payload_content() {
        let list = json!([{"payload": {"secret": "s3cr3t"}, "weight": 0}]);
        let message = invocation_payloads(Some(&list), 10)
            .unwrap_err()
            .to_string();

        assert!(!message.contains("s3cr3t"), "{message}");
    }

    #[test]
    fn s3_url_splits_bucket_and_key() {
        assert_eq!(
            parse_s3_url("s3://my-bucket/path/to/payload.json").unwrap(),
            ("my-bucket".to_owned(), "path/to/payload.json".to_owned())
        );
        assert_eq!(
            parse_s3_url("s3://my.bucket/my%20file.json").unwrap(),
            ("my.bucket".to_owned(), "my file.json".to_owned())
        );
    }

    #[test]
    fn malformed_s3_urls_are_rejected() {
        let cases = [
            ("https://bucket/key", "does not start with s3://"),
            ("s3://bucket", "key is missing"),
            ("s3://bucket/", "key is empty"),
            ("s3:///key", "bucket name is missing"),
            ("s3://ab/key", "3 to 63"),
            ("s3://My-Bucket/key", "lowercase"),
            ("s3://-bucket/key", "start and end"),
            ("s3://my..bucket/key", "`..`"),
            ("s3://192.168.1.1/key", "IP address"),
            ("s3://bucket/bad%zzescape", "%-escape"),
        ];
        for (url, expected) in cases {
            let message = parse_s3_url(url).unwrap_err().to_string();
            assert!(message.contains(&format!("`{url}`")), "{message}");
            assert!(message.contains(expected), "{url}: {message}");
        }
    }

    proptest! {
        #[test]
        fn weighted_payloads_follow_floor_rule(
            weights in proptest::collection::vec(1u32..50, 1..6),
            num in 1u32..200,
        ) {
            let list = Value::Array(
                weights
                    .iter()
                    .enumerate()
                    .map(|(i, w)| json!({"payload": {"i": i}, "weight": w}))
                    .collect(),
            );
            let total: u32 = weights.iter().sum();
            let shares: Vec<u32> = weights.iter().map(|w| w * num / total).collect();

            match invocation_payloads(Some(&list), num) {
                Ok(payloads) => {
                    prop_assert_eq!(payloads.len(), num as usize);
                    let spread: Vec<usize> = counts(&payloads).into_iter().map(|(_, n)| n).collect();
                    let last = weights.len() - 1;
                    for (i, share) in shares.iter().enumerate().take(last) {
                        prop_assert_eq!(spread[i], *share as usize);
                    }
                    let before_last: u32 = shares[..last].iter().sum();
                    prop_assert_eq!(spread[last], (num - before_last) as usize);
                }
                Err(_) => {
                    prop_assert!((num as usize) < weights.len() || shares.contains(&0));
                }
            }
        }
    }
}
