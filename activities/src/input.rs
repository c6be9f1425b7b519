//! Validation of the workflow input, the initializer's first step.
//!
//! The input keeps the field names of AWS Lambda Power Tuning 4.4
//! (`lambdaARN`, `num`, `powerValues`, ...). It is read from the raw JSON by
//! hand rather than through serde, so every rejection names the field, shows
//! the value and gives the fix. Defaults are applied here once,
//! and the workflow only ever sees a [`ValidatedInput`].
//!
//! Decisions where this port differs from, or pins down, the original:
//!
//! - Values the original clamped (`balancedWeight`, `discardTopBottom`) or
//!   coerced (`num` as a string) are rejected with a message instead.
//! - An empty `powerValues` list is rejected; the original fell back to the
//!   defaults. `"ALL"` is matched case-sensitively, as the original does.
//! - A JSON `null` in an optional field means "not set", and so does an
//!   empty string in an optional string field, as in the original.
//! - When both `payload` and `payloadS3` are set, `payloadS3` is used and
//!   `payload` is ignored, as the original does; `payload` is then listed in
//!   [`ValidatedInput::ignored_fields`].
//! - `autoOptimizeAlias` without `autoOptimize` is accepted and has no
//!   effect, as in the original; it is still checked and listed in
//!   `ignored_fields`.
//! - `onlyColdStarts` sets `discardTopBottom` to 0, because every invocation
//!   is a cold start and none is an outlier (the original's executor does
//!   the same).
//! - Processor ARNs may carry a version or alias qualifier, because they are
//!   invoked as given; `lambdaARN` must be unqualified.

use std::fmt;
use std::str::FromStr;

use powertune_proto::v1::PowerTuningInput;
use powertune_proto::{MAX_POWER_MB, MIN_POWER_MB};
use serde_json::{Map, Value};

use crate::arn::{ArnError, FunctionArn, validate_alias_name, validate_qualifier};
use crate::payload::{invocation_payloads, parse_s3_url};

/// Minimum number of invocations per memory size, as in the original.
pub const MIN_NUM: u32 = 5;

/// Maximum length of a rejected value kept in an error, in characters.
const MAX_VALUE_CHARS: usize = 200;

/// Text shown instead of a payload when `disablePayloadLogs` is set.
const HIDDEN_PAYLOAD: &str = "payload hidden by disablePayloadLogs";

/// Every field the input may contain; others are reported as unknown.
const KNOWN_FIELDS: &[&str] = &[
    "lambdaARN",
    "num",
    "powerValues",
    "payload",
    "payloadS3",
    "parallelInvocation",
    "strategy",
    "balancedWeight",
    "autoOptimize",
    "autoOptimizeAlias",
    "dryRun",
    "preProcessorARN",
    "postProcessorARN",
    "discardTopBottom",
    "sleepBetweenRunsMs",
    "disablePayloadLogs",
    "includeOutputResults",
    "onlyColdStarts",
    "allowedExceptions",
    "waitForRunningTuning",
];

/// Settings of the worker that fill fields the input leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDefaults {
    /// Memory sizes in MB used when `powerValues` is not set.
    pub power_values: Vec<u32>,
}

/// Rule by which the analyzer picks the winning memory size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// The lowest average cost.
    #[default]
    Cost,
    /// The lowest average duration.
    Speed,
    /// A weighted mix of cost and duration, set by `balancedWeight`.
    Balanced,
}

/// The input after validation, with every default applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedInput {
    /// The input with defaults applied: `power_values` filled in the user's
    /// order, `strategy` set, `balanced_weight` and `discard_top_bottom` set.
    pub input: PowerTuningInput,
    pub function: FunctionArn,
    /// The body of each of the `num` invocations (JSON text, or empty for no
    /// body). Empty when the payload comes from `payloadS3`.
    pub payloads: Vec<String>,
    pub strategy: Strategy,
    /// Fields the tuner does not know, in name order; the caller logs them.
    pub unknown_fields: Vec<String>,
    /// Known fields that are valid but have no effect with the other
    /// settings: `payload` beside `payloadS3`, and `autoOptimizeAlias`
    /// without `autoOptimize`.
    pub ignored_fields: Vec<String>,
}

/// A rejected input field. The message names the field, shows the value and
/// gives the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    field: String,
    value: String,
    message: String,
}

impl InputError {
    /// Returns the JSON name of the rejected field, such as `powerValues`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// Returns the rejected value as JSON, at most 200 characters, or an
    /// empty string when the field is missing.
    pub fn value(&self) -> &str {
        &self.value
    }

    fn invalid(field: &str, value: &Value, problem: &str) -> Self {
        Self::shown(field, render(value), problem)
    }

    fn shown(field: &str, value: String, problem: &str) -> Self {
        InputError {
            field: field.to_owned(),
            message: format!("{field}: `{value}` {problem}"),
            value,
        }
    }

    fn missing(field: &str, fix: &str) -> Self {
        InputError {
            field: field.to_owned(),
            value: String::new(),
            message: format!("{field} is missing; {fix}"),
        }
    }
}

impl Strategy {
    /// Returns the input spelling: `cost`, `speed` or `balanced`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Cost => "cost",
            Strategy::Speed => "speed",
            Strategy::Balanced => "balanced",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strategy {
    type Err = InputError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "cost" => Ok(Strategy::Cost),
            "speed" => Ok(Strategy::Speed),
            "balanced" => Ok(Strategy::Balanced),
            other => Err(InputError::shown(
                "strategy",
                render(&Value::String(other.to_owned())),
                "is not a strategy; use \"cost\" (the default), \"speed\" or \"balanced\"",
            )),
        }
    }
}

/// Validates the raw workflow input and applies the defaults.
pub fn parse_input(raw: &Value, defaults: &InputDefaults) -> Result<ValidatedInput, InputError> {
    let object = match raw {
        Value::Null => {
            return Err(InputError {
                field: "input".to_owned(),
                value: String::new(),
                message: "the workflow input is empty; pass a JSON object such as \
                          {\"lambdaARN\": \"arn:aws:lambda:us-east-1:123456789012:function:my-function\", \"num\": 10}"
                    .to_owned(),
            });
        }
        Value::Object(object) => object,
        other => {
            return Err(InputError::invalid(
                "input",
                other,
                "is not a JSON object; pass an object such as {\"lambdaARN\": \"arn:aws:lambda:...\", \"num\": 10}",
            ));
        }
    };
    let fields = Fields { object };

    // A misspelt required field reads better as "did you mean" than as missing.
    for required in ["lambdaARN", "num"] {
        if object.contains_key(required) {
            continue;
        }
        if let Some(typo) = object
            .keys()
            .find(|key| suggest_field(key) == Some(required))
        {
            return Err(InputError {
                field: required.to_owned(),
                value: String::new(),
                message: format!(
                    "{required} is missing; the input has `{typo}`: did you mean `{required}`?"
                ),
            });
        }
    }

    // Read first, so that later payload errors know whether to hide it.
    let disable_payload_logs = fields.boolean("disablePayloadLogs")?;
    let function = fields.function_arn()?;
    let num = fields.num()?;
    let power_values = fields.power_values(defaults)?;
    let strategy = fields.strategy()?;
    let balanced_weight = fields.fraction("balancedWeight", 1.0, 0.5)?;
    let mut discard_top_bottom = fields.fraction("discardTopBottom", 0.4, 0.2)?;

    let parallel_invocation = fields.boolean("parallelInvocation")?;
    let auto_optimize = fields.boolean("autoOptimize")?;
    let dry_run = fields.boolean("dryRun")?;
    let include_output_results = fields.boolean("includeOutputResults")?;
    let only_cold_starts = fields.boolean("onlyColdStarts")?;
    let wait_for_running_tuning = fields.boolean("waitForRunningTuning")?;
    if only_cold_starts {
        discard_top_bottom = 0.0;
    }

    let mut ignored_fields = Vec::new();
    let payload_s3 = fields.payload_s3()?;
    let payload = match fields.get("payload") {
        Some(_) if payload_s3.is_some() => {
            ignored_fields.push("payload".to_owned());
            None
        }
        payload => payload,
    };
    let payloads = if payload_s3.is_some() {
        Vec::new()
    } else {
        invocation_payloads(payload, num).map_err(|error| {
            let value = if disable_payload_logs {
                HIDDEN_PAYLOAD.to_owned()
            } else {
                render(payload.unwrap_or(&Value::Null))
            };
            InputError {
                field: "payload".to_owned(),
                message: if disable_payload_logs {
                    format!("{error} ({value})")
                } else {
                    format!("{error} (payload: `{value}`)")
                },
                value,
            }
        })?
    };

    let auto_optimize_alias = fields.auto_optimize_alias()?;
    if auto_optimize_alias.is_some() && !auto_optimize {
        ignored_fields.push("autoOptimizeAlias".to_owned());
    }
    let pre_processor_arn = fields.processor_arn("preProcessorARN")?;
    let post_processor_arn = fields.processor_arn("postProcessorARN")?;
    let sleep_between_runs_ms = fields.sleep_between_runs_ms()?;
    let allowed_exceptions = fields.allowed_exceptions()?;

    let mut unknown_fields: Vec<String> = object
        .keys()
        .filter(|key| !KNOWN_FIELDS.contains(&key.as_str()))
        .cloned()
        .collect();
    unknown_fields.sort();

    let input = PowerTuningInput {
        lambda_arn: function.unqualified(),
        num,
        power_values,
        payload: payload.map(Value::to_string),
        payload_s3: payload_s3.unwrap_or_default(),
        parallel_invocation,
        strategy: strategy.as_str().to_owned(),
        balanced_weight: Some(balanced_weight),
        auto_optimize,
        auto_optimize_alias: auto_optimize_alias.unwrap_or_default(),
        dry_run,
        pre_processor_arn: pre_processor_arn.unwrap_or_default(),
        post_processor_arn: post_processor_arn.unwrap_or_default(),
        discard_top_bottom: Some(discard_top_bottom),
        sleep_between_runs_ms,
        disable_payload_logs,
        include_output_results,
        only_cold_starts,
        allowed_exceptions,
        wait_for_running_tuning,
    };
    Ok(ValidatedInput {
        input,
        function,
        payloads,
        strategy,
        unknown_fields,
        ignored_fields,
    })
}

/// The input object, read one field at a time.
struct Fields<'a> {
    object: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// Returns the field's value; `null` counts as not set.
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.object.get(field).filter(|value| !value.is_null())
    }

    fn boolean(&self, field: &str) -> Result<bool, InputError> {
        match self.get(field) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(other) => Err(InputError::invalid(
                field,
                other,
                "is not a boolean; use true or false, without quotes",
            )),
        }
    }

    /// Returns a string field; an empty string counts as not set.
    fn string(&self, field: &str, example: &str) -> Result<Option<&'a str>, InputError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(text)) if text.is_empty() => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(InputError::invalid(
                field,
                other,
                &format!("is not a string; pass a string such as {example}"),
            )),
        }
    }

    fn function_arn(&self) -> Result<FunctionArn, InputError> {
        const FIELD: &str = "lambdaARN";
        const EXAMPLE: &str = "\"arn:aws:lambda:us-east-1:123456789012:function:my-function\"";

        let Some(arn) = self.string(FIELD, EXAMPLE)? else {
            return Err(InputError::missing(
                FIELD,
                &format!("pass the unqualified ARN of the function to tune, such as {EXAMPLE}"),
            ));
        };
        arn.parse().map_err(|error: ArnError| InputError {
            field: FIELD.to_owned(),
            value: render(&Value::String(arn.to_owned())),
            message: format!("{FIELD}: {error}"),
        })
    }

    fn num(&self) -> Result<u32, InputError> {
        const FIELD: &str = "num";

        let Some(value) = self.get(FIELD) else {
            return Err(InputError::missing(
                FIELD,
                "pass the number of invocations per memory size, at least 5, such as \"num\": 10",
            ));
        };
        let Some(num) = value.as_u64().and_then(|num| u32::try_from(num).ok()) else {
            return Err(InputError::invalid(
                FIELD,
                value,
                "is not a whole number of invocations; pass an integer without quotes, such as 10",
            ));
        };
        if num < MIN_NUM {
            return Err(InputError::invalid(
                FIELD,
                value,
                "is below the minimum of 5 invocations per memory size; use 5 or more (10 to 100 is typical)",
            ));
        }
        Ok(num)
    }

    fn power_values(&self, defaults: &InputDefaults) -> Result<Vec<u32>, InputError> {
        const FIELD: &str = "powerValues";
        const FIX: &str = "use a list of sizes in MB such as [128, 256, 512], or \"ALL\"";

        let values = match self.get(FIELD) {
            None if defaults.power_values.is_empty() => {
                return Err(InputError::missing(
                    FIELD,
                    &format!("the worker has no default list, so {FIX}"),
                ));
            }
            None => return Ok(defaults.power_values.clone()),
            Some(Value::String(keyword)) if keyword == "ALL" => {
                return Ok(powertune_proto::all_power_values());
            }
            Some(Value::Array(values)) => values,
            Some(other) => {
                return Err(InputError::invalid(
                    FIELD,
                    other,
                    &format!("is not a list of memory sizes; {FIX} (upper case)"),
                ));
            }
        };
        if values.is_empty() {
            return Err(InputError::invalid(
                FIELD,
                &Value::Array(Vec::new()),
                &format!("is empty; {FIX}, or leave the field out to use the worker's defaults"),
            ));
        }

        let mut powers = Vec::with_capacity(values.len());
        for value in values {
            let Some(power) = value.as_u64() else {
                return Err(InputError::invalid(
                    FIELD,
                    value,
                    "is not a whole number of MB; use integers without quotes, such as 128, 256, 512",
                ));
            };
            if !(u64::from(MIN_POWER_MB)..=u64::from(MAX_POWER_MB)).contains(&power) {
                return Err(InputError::invalid(
                    FIELD,
                    value,
                    "is outside 128..=10240 MB; use values such as 128, 256, 512",
                ));
            }
            let power = power as u32;
            if powers.contains(&power) {
                return Err(InputError::invalid(
                    FIELD,
                    value,
                    "is listed twice; list each memory size once",
                ));
            }
            powers.push(power);
        }
        Ok(powers)
    }

    fn strategy(&self) -> Result<Strategy, InputError> {
        match self.string("strategy", "\"cost\"")? {
            None => Ok(Strategy::Cost),
            Some(name) => name.parse(),
        }
    }

    /// Reads a number in `0..=max`, or `default` when not set.
    fn fraction(&self, field: &str, max: f64, default: f64) -> Result<f64, InputError> {
        let Some(value) = self.get(field) else {
            return Ok(default);
        };
        match value.as_f64() {
            Some(number) if (0.0..=max).contains(&number) => Ok(number),
            Some(_) => Err(InputError::invalid(
                field,
                value,
                &format!("is outside 0..={max}; use a number such as {default} (the default)"),
            )),
            None => Err(InputError::invalid(
                field,
                value,
                &format!(
                    "is not a number; use a number in 0..={max} without quotes, such as {default}"
                ),
            )),
        }
    }

    fn payload_s3(&self) -> Result<Option<String>, InputError> {
        const FIELD: &str = "payloadS3";

        let Some(url) = self.string(FIELD, "\"s3://my-bucket/payload.json\"")? else {
            return Ok(None);
        };
        parse_s3_url(url).map_err(|error| InputError {
            field: FIELD.to_owned(),
            value: render(&Value::String(url.to_owned())),
            message: error.to_string(),
        })?;
        Ok(Some(url.to_owned()))
    }

    fn auto_optimize_alias(&self) -> Result<Option<String>, InputError> {
        const FIELD: &str = "autoOptimizeAlias";

        let Some(alias) = self.string(FIELD, "\"prod\"")? else {
            return Ok(None);
        };
        validate_alias_name(alias).map_err(|error| InputError {
            field: FIELD.to_owned(),
            value: render(&Value::String(alias.to_owned())),
            message: format!("{FIELD}: {error}"),
        })?;
        if is_tuning_alias(alias) {
            return Err(InputError {
                field: FIELD.to_owned(),
                value: render(&Value::String(alias.to_owned())),
                message: format!(
                    "{FIELD}: `{alias}` has the form RAM<memory> that powertune uses for its own temporary aliases, and the next tuning would stop at it; choose another name, such as \"prod\""
                ),
            });
        }
        Ok(Some(alias.to_owned()))
    }

    /// Reads a processor ARN, which may name a version or alias.
    fn processor_arn(&self, field: &str) -> Result<Option<String>, InputError> {
        let Some(arn) = self.string(
            field,
            "\"arn:aws:lambda:us-east-1:123456789012:function:pre\"",
        )?
        else {
            return Ok(None);
        };
        let checked = match arn.parse::<FunctionArn>() {
            Ok(_) => Ok(()),
            Err(ArnError::Qualified { qualifier, .. }) => validate_qualifier(&qualifier),
            Err(error) => Err(error),
        };
        checked.map_err(|error| InputError {
            field: field.to_owned(),
            value: render(&Value::String(arn.to_owned())),
            message: format!("{field}: `{arn}` is not a valid processor ARN: {error}"),
        })?;
        Ok(Some(arn.to_owned()))
    }

    fn sleep_between_runs_ms(&self) -> Result<u32, InputError> {
        const FIELD: &str = "sleepBetweenRunsMs";

        let Some(value) = self.get(FIELD) else {
            return Ok(0);
        };
        value
            .as_u64()
            .and_then(|ms| u32::try_from(ms).ok())
            .ok_or_else(|| {
                InputError::invalid(
                    FIELD,
                    value,
                    "is not a non-negative whole number of milliseconds; use an integer such as 500",
                )
            })
    }

    fn allowed_exceptions(&self) -> Result<Vec<String>, InputError> {
        const FIELD: &str = "allowedExceptions";
        const FIX: &str = "use a list of error types such as [\"HandledError\"]";

        let Some(value) = self.get(FIELD) else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = value else {
            return Err(InputError::invalid(
                FIELD,
                value,
                &format!("is not a list of strings; {FIX}"),
            ));
        };
        items
            .iter()
            .map(|item| match item {
                Value::String(name) if !name.is_empty() => Ok(name.clone()),
                other => Err(InputError::invalid(
                    FIELD,
                    other,
                    &format!("is not a non-empty string; {FIX}"),
                )),
            })
            .collect()
    }
}

/// Renders a value as JSON, cut to 200 characters.
fn render(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// Returns the input field that `name` is most likely a misspelling of: the
/// same name in another case, or one at most two edits away.
pub fn suggest_field(name: &str) -> Option<&'static str> {
    if KNOWN_FIELDS.contains(&name) {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    KNOWN_FIELDS
        .iter()
        .map(|known| (known, edit_distance(&lower, &known.to_ascii_lowercase())))
        .filter(|(_, distance)| *distance <= 2)
        .min_by_key(|(_, distance)| *distance)
        .map(|(known, _)| *known)
}

/// Levenshtein distance between two ASCII-lowercased names.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, left_char) in left.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != *right_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[right.len()]
}

/// Tells whether `alias` has the form of the initializer's aliases:
/// `RAM<memory>` or `RAM<memory>-<n>`.
fn is_tuning_alias(alias: &str) -> bool {
    let Some(rest) = alias.strip_prefix("RAM") else {
        return false;
    };
    let mut parts = rest.splitn(2, '-');
    let is_number = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    let memory = parts.next().unwrap_or_default();
    is_number(memory) && parts.next().is_none_or(is_number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:my-fn";

    fn defaults() -> InputDefaults {
        InputDefaults {
            power_values: vec![128, 256, 512, 1024, 1536, 3008],
        }
    }

    fn parse(raw: Value) -> Result<ValidatedInput, InputError> {
        parse_input(&raw, &defaults())
    }

    fn with(field: &str, value: Value) -> Value {
        let mut raw = json!({"lambdaARN": ARN, "num": 10});
        raw[field] = value;
        raw
    }

    /// Asserts that `raw` is rejected on `field` with a message that contains
    /// `expected`.
    fn assert_rejected(raw: Value, field: &str, expected: &str) -> InputError {
        let error = parse(raw.clone()).unwrap_err();
        assert_eq!(error.field(), field, "{raw}: {error}");
        assert!(error.to_string().contains(expected), "{raw}: {error}");
        error
    }

    #[test]
    fn minimal_input_gets_defaults() {
        let validated = parse(json!({"lambdaARN": ARN, "num": 10})).unwrap();
        let input = &validated.input;

        assert_eq!(input.lambda_arn, ARN);
        assert_eq!(input.num, 10);
        assert_eq!(input.power_values, defaults().power_values);
        assert_eq!(input.strategy, "cost");
        assert_eq!(input.balanced_weight, Some(0.5));
        assert_eq!(input.discard_top_bottom, Some(0.2));
        assert_eq!(input.payload, None);
        assert_eq!(validated.strategy, Strategy::Cost);
        assert_eq!(validated.function.name, "my-fn");
        assert_eq!(validated.payloads, vec![String::new(); 10]);
        assert!(validated.unknown_fields.is_empty());
        assert!(validated.ignored_fields.is_empty());
    }

    #[test]
    fn full_input_is_kept() {
        let raw = json!({
            "lambdaARN": ARN,
            "num": 20,
            "powerValues": [1024, 128, 512],
            "payload": {"key": "value"},
            "parallelInvocation": true,
            "strategy": "balanced",
            "balancedWeight": 0.3,
            "autoOptimize": true,
            "autoOptimizeAlias": "prod",
            "dryRun": false,
            "preProcessorARN": "arn:aws:lambda:us-east-1:123456789012:function:pre:live",
            "postProcessorARN": "arn:aws:lambda:us-east-1:123456789012:function:post",
            "discardTopBottom": 0.1,
            "sleepBetweenRunsMs": 250,
            "disablePayloadLogs": true,
            "includeOutputResults": true,
            "allowedExceptions": ["HandledError"],
            "waitForRunningTuning": true,
        });
        let validated = parse(raw).unwrap();
        let input = &validated.input;

        assert_eq!(input.power_values, vec![1024, 128, 512]);
        assert_eq!(input.payload.as_deref(), Some(r#"{"key":"value"}"#));
        assert!(input.parallel_invocation);
        assert_eq!(validated.strategy, Strategy::Balanced);
        assert_eq!(input.strategy, "balanced");
        assert_eq!(input.balanced_weight, Some(0.3));
        assert!(input.auto_optimize);
        assert_eq!(input.auto_optimize_alias, "prod");
        assert_eq!(
            input.pre_processor_arn,
            "arn:aws:lambda:us-east-1:123456789012:function:pre:live"
        );
        assert_eq!(
            input.post_processor_arn,
            "arn:aws:lambda:us-east-1:123456789012:function:post"
        );
        assert_eq!(input.discard_top_bottom, Some(0.1));
        assert_eq!(input.sleep_between_runs_ms, 250);
        assert!(input.disable_payload_logs);
        assert!(input.include_output_results);
        assert_eq!(input.allowed_exceptions, vec!["HandledError"]);
        assert!(input.wait_for_running_tuning);
        assert_eq!(validated.payloads.len(), 20);
        assert!(validated.payloads.iter().all(|p| p == r#"{"key":"value"}"#));
    }

    #[test]
    fn empty_or_non_object_input_is_rejected() {
        let error = assert_rejected(Value::Null, "input", "the workflow input is empty");
        assert!(error.to_string().contains("\"num\": 10"));

        assert_rejected(json!([1, 2]), "input", "`[1,2]` is not a JSON object");
        assert_rejected(json!("arn"), "input", "`\"arn\"` is not a JSON object");
    }

    #[test]
    fn lambda_arn_is_required_and_checked() {
        assert_rejected(json!({"num": 10}), "lambdaARN", "lambdaARN is missing");
        assert_rejected(
            json!({"lambdaARN": "", "num": 10}),
            "lambdaARN",
            "lambdaARN is missing",
        );
        assert_rejected(
            with("lambdaARN", json!(42)),
            "lambdaARN",
            "`42` is not a string",
        );
        assert_rejected(
            with("lambdaARN", json!("my-function")),
            "lambdaARN",
            "`my-function` is not a Lambda function ARN",
        );
    }

    #[test]
    fn qualified_lambda_arn_asks_for_unqualified() {
        let error = assert_rejected(
            with("lambdaARN", json!(format!("{ARN}:prod"))),
            "lambdaARN",
            &format!("pass the unqualified ARN `{ARN}`"),
        );
        assert!(error.to_string().contains(&format!("{ARN}:prod")));
    }

    #[test]
    fn num_must_be_integer_of_at_least_five() {
        assert_rejected(json!({"lambdaARN": ARN}), "num", "num is missing");
        assert_rejected(
            with("num", json!(4)),
            "num",
            "`4` is below the minimum of 5",
        );
        assert_rejected(with("num", json!(0)), "num", "`0` is below");
        assert_rejected(
            with("num", json!(10.5)),
            "num",
            "`10.5` is not a whole number",
        );
        assert_rejected(
            with("num", json!("10")),
            "num",
            "`\"10\"` is not a whole number",
        );
        assert_rejected(
            with("num", json!(-10)),
            "num",
            "`-10` is not a whole number",
        );
        assert_eq!(parse(with("num", json!(5))).unwrap().input.num, 5);
    }

    #[test]
    fn power_values_are_checked() {
        assert_rejected(
            with("powerValues", json!([128, 96])),
            "powerValues",
            "`96` is outside 128..=10240 MB; use values such as 128, 256, 512",
        );
        assert_rejected(
            with("powerValues", json!([10241])),
            "powerValues",
            "`10241` is outside",
        );
        assert_rejected(
            with("powerValues", json!([128, 128.5])),
            "powerValues",
            "`128.5` is not a whole number",
        );
        assert_rejected(
            with("powerValues", json!(["256"])),
            "powerValues",
            "`\"256\"` is not a whole number",
        );
        assert_rejected(
            with("powerValues", json!([256, 512, 256])),
            "powerValues",
            "`256` is listed twice",
        );
        assert_rejected(
            with("powerValues", json!([])),
            "powerValues",
            "`[]` is empty",
        );
        assert_rejected(
            with("powerValues", json!("all")),
            "powerValues",
            "`\"all\"` is not a list",
        );
        assert_rejected(
            with("powerValues", json!(512)),
            "powerValues",
            "`512` is not a list",
        );
    }

    #[test]
    fn power_values_all_and_defaults() {
        let all = parse(with("powerValues", json!("ALL"))).unwrap();
        assert_eq!(all.input.power_values, powertune_proto::all_power_values());

        let null = parse(with("powerValues", Value::Null)).unwrap();
        assert_eq!(null.input.power_values, defaults().power_values);

        let no_defaults = InputDefaults {
            power_values: Vec::new(),
        };
        let error = parse_input(&json!({"lambdaARN": ARN, "num": 10}), &no_defaults).unwrap_err();
        assert_eq!(error.field(), "powerValues");
        assert!(error.to_string().contains("no default list"), "{error}");
    }

    #[test]
    fn strategy_is_checked() {
        assert_eq!(
            parse(with("strategy", json!("speed"))).unwrap().strategy,
            Strategy::Speed
        );
        assert_eq!(
            parse(with("strategy", json!(""))).unwrap().strategy,
            Strategy::Cost
        );
        assert_rejected(
            with("strategy", json!("fastest")),
            "strategy",
            "`\"fastest\"` is not a strategy",
        );
        assert_rejected(
            with("strategy", json!("Cost")),
            "strategy",
            "`\"Cost\"` is not a strategy",
        );
        assert_rejected(
            with("strategy", json!(1)),
            "strategy",
            "`1` is not a string",
        );
    }

    #[test]
    fn strategy_names_round_trip() {
        for strategy in [Strategy::Cost, Strategy::Speed, Strategy::Balanced] {
            assert_eq!(strategy.as_str().parse::<Strategy>().unwrap(), strategy);
        }
        assert_eq!("slow".parse::<Strategy>().unwrap_err().field(), "strategy");
    }

    #[test]
    fn balanced_weight_is_checked() {
        assert_rejected(
            with("balancedWeight", json!(1.5)),
            "balancedWeight",
            "`1.5` is outside 0..=1",
        );
        assert_rejected(
            with("balancedWeight", json!(-0.1)),
            "balancedWeight",
            "`-0.1` is outside",
        );
        assert_rejected(
            with("balancedWeight", json!("0.5")),
            "balancedWeight",
            "`\"0.5\"` is not a number",
        );
        assert_eq!(
            parse(with("balancedWeight", json!(0)))
                .unwrap()
                .input
                .balanced_weight,
            Some(0.0)
        );
        assert_eq!(
            parse(with("balancedWeight", json!(1)))
                .unwrap()
                .input
                .balanced_weight,
            Some(1.0)
        );
    }

    #[test]
    fn discard_top_bottom_is_checked() {
        assert_rejected(
            with("discardTopBottom", json!(0.5)),
            "discardTopBottom",
            "`0.5` is outside 0..=0.4",
        );
        assert_rejected(
            with("discardTopBottom", json!(true)),
            "discardTopBottom",
            "`true` is not a number",
        );
        assert_eq!(
            parse(with("discardTopBottom", json!(0.4)))
                .unwrap()
                .input
                .discard_top_bottom,
            Some(0.4)
        );
    }

    #[test]
    fn only_cold_starts_discards_nothing() {
        let mut raw = with("onlyColdStarts", json!(true));
        raw["discardTopBottom"] = json!(0.3);
        let validated = parse(raw).unwrap();

        assert!(validated.input.only_cold_starts);
        assert_eq!(validated.input.discard_top_bottom, Some(0.0));
    }

    #[test]
    fn booleans_must_be_booleans() {
        for field in [
            "parallelInvocation",
            "autoOptimize",
            "dryRun",
            "disablePayloadLogs",
            "includeOutputResults",
            "onlyColdStarts",
            "waitForRunningTuning",
        ] {
            assert_rejected(
                with(field, json!("true")),
                field,
                "`\"true\"` is not a boolean",
            );
            assert_rejected(with(field, json!(1)), field, "`1` is not a boolean");
        }
    }

    #[test]
    fn weighted_payload_spreads_invocations() {
        let payload = json!([{"payload": "a", "weight": 5}, {"payload": {"b": 1}, "weight": 3}, {"payload": 3, "weight": 2}]);
        let validated = parse(with("payload", payload)).unwrap();

        let expected: Vec<&str> = [vec![r#""a""#; 5], vec![r#"{"b":1}"#; 3], vec!["3"; 2]].concat();
        assert_eq!(validated.payloads, expected);
    }

    #[test]
    fn weighted_payload_errors_name_payload() {
        let too_small = json!([{"payload": "a", "weight": 1}, {"payload": "b", "weight": 99}]);
        let error = assert_rejected(
            with("payload", too_small),
            "payload",
            "raise num or the weight",
        );
        assert!(
            error.to_string().contains(r#"{"payload":"a","weight":1}"#),
            "{error}"
        );

        let mut raw = with(
            "payload",
            Value::Array(vec![json!({"payload": "a", "weight": 1}); 6]),
        );
        raw["num"] = json!(5);
        assert_rejected(raw, "payload", "raise num to at least 6");

        assert_rejected(
            with("payload", json!([{"payload": "a"}])),
            "payload",
            "`weight` field is missing",
        );
    }

    #[test]
    fn hidden_payload_is_not_in_errors() {
        let mut raw = with(
            "payload",
            json!([{"payload": {"password": "hunter2"}, "weight": 0}]),
        );
        raw["disablePayloadLogs"] = json!(true);
        let error = assert_rejected(raw, "payload", "payload hidden by disablePayloadLogs");

        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert_eq!(error.value(), "payload hidden by disablePayloadLogs");
    }

    #[test]
    fn payload_s3_is_checked() {
        let validated = parse(with("payloadS3", json!("s3://my-bucket/payload.json"))).unwrap();
        assert_eq!(validated.input.payload_s3, "s3://my-bucket/payload.json");
        assert!(validated.payloads.is_empty());

        assert_rejected(
            with("payloadS3", json!("my-bucket/payload.json")),
            "payloadS3",
            "`my-bucket/payload.json`",
        );
        assert_rejected(
            with("payloadS3", json!("s3://my-bucket/")),
            "payloadS3",
            "key is empty",
        );
        assert_rejected(
            with("payloadS3", json!("s3://Bad_Bucket/key")),
            "payloadS3",
            "`s3://Bad_Bucket/key`",
        );
        assert_rejected(
            with("payloadS3", json!(["s3://b/k"])),
            "payloadS3",
            "is not a string",
        );
    }

    #[test]
    fn payload_s3_wins_over_payload() {
        let mut raw = with("payloadS3", json!("s3://my-bucket/payload.json"));
        raw["payload"] = json!({"ignored": true});
        let validated = parse(raw).unwrap();

        assert_eq!(validated.input.payload, None);
        assert!(validated.payloads.is_empty());
        assert_eq!(validated.ignored_fields, vec!["payload"]);
    }

    #[test]
    fn misspelt_fields_get_suggestions() {
        assert_eq!(suggest_field("lambdaArn"), Some("lambdaARN"));
        assert_eq!(suggest_field("strategey"), Some("strategy"));
        assert_eq!(suggest_field("powervalues"), Some("powerValues"));
        assert_eq!(suggest_field("somethingElse"), None);
        assert_eq!(suggest_field("num"), None);
    }

    #[test]
    fn misspelt_required_field_is_named() {
        let error = parse(
            json!({"lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:fn", "num": 10}),
        )
        .unwrap_err();

        assert_eq!(error.field(), "lambdaARN");
        assert!(
            error.to_string().contains("did you mean `lambdaARN`"),
            "{error}"
        );
    }

    #[test]
    fn auto_optimize_alias_rejects_tuning_names() {
        assert_rejected(
            with("autoOptimizeAlias", json!("RAM512")),
            "autoOptimizeAlias",
            "RAM512",
        );
        assert_rejected(
            with("autoOptimizeAlias", json!("RAM512-3")),
            "autoOptimizeAlias",
            "RAM512-3",
        );

        let similar = parse(with("autoOptimizeAlias", json!("RAMP"))).unwrap();
        assert_eq!(similar.input.auto_optimize_alias, "RAMP");
    }

    #[test]
    fn auto_optimize_alias_is_checked() {
        assert_rejected(
            with("autoOptimizeAlias", json!("123")),
            "autoOptimizeAlias",
            "`123` is not a valid alias name",
        );
        assert_rejected(
            with("autoOptimizeAlias", json!("my alias")),
            "autoOptimizeAlias",
            "`my alias`",
        );

        let alone = parse(with("autoOptimizeAlias", json!("prod"))).unwrap();
        assert_eq!(alone.input.auto_optimize_alias, "prod");
        assert_eq!(alone.ignored_fields, vec!["autoOptimizeAlias"]);
    }

    #[test]
    fn processor_arns_are_checked() {
        for field in ["preProcessorARN", "postProcessorARN"] {
            assert_rejected(
                with(field, json!("pre-fn")),
                field,
                "`pre-fn` is not a valid processor ARN",
            );
            assert_rejected(
                with(field, json!(format!("{ARN}:bad alias"))),
                field,
                "is not a valid alias name",
            );
            assert!(parse(with(field, json!(format!("{ARN}:7")))).is_ok());
            assert!(parse(with(field, json!(""))).is_ok());
        }
    }

    #[test]
    fn sleep_between_runs_is_checked() {
        assert_rejected(
            with("sleepBetweenRunsMs", json!(-1)),
            "sleepBetweenRunsMs",
            "`-1` is not a non-negative",
        );
        assert_rejected(
            with("sleepBetweenRunsMs", json!(1.5)),
            "sleepBetweenRunsMs",
            "`1.5`",
        );
        assert_rejected(
            with("sleepBetweenRunsMs", json!("100")),
            "sleepBetweenRunsMs",
            "`\"100\"`",
        );
        assert_eq!(
            parse(with("sleepBetweenRunsMs", json!(100)))
                .unwrap()
                .input
                .sleep_between_runs_ms,
            100
        );
    }

    #[test]
    fn allowed_exceptions_must_be_strings() {
        assert_rejected(
            with("allowedExceptions", json!("HandledError")),
            "allowedExceptions",
            "`\"HandledError\"` is not a list",
        );
        assert_rejected(
            with("allowedExceptions", json!(["A", 3])),
            "allowedExceptions",
            "`3` is not a non-empty string",
        );
    }

    #[test]
    fn unknown_fields_are_collected() {
        let mut raw = with("paralelInvocation", json!(true));
        raw["extra"] = json!(1);
        let validated = parse(raw).unwrap();

        assert_eq!(validated.unknown_fields, vec!["extra", "paralelInvocation"]);
    }

    #[test]
    fn long_values_are_cut_to_200_characters() {
        let long = "x".repeat(500);
        let error = parse(with("strategy", json!(long))).unwrap_err();

        assert!(error.value().chars().count() <= MAX_VALUE_CHARS + 3);
        assert!(error.value().ends_with("..."));
        assert!(error.to_string().len() < 400);
    }
}
