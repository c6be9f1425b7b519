//! The messages of the PowerTuning workflow and its activities, generated from
//! `powertune/v1/*.proto` by prost, with a serde JSON form that keeps the field
//! names of AWS Lambda Power Tuning (`lambdaARN`, `powerValues`, `num`, ...).

pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/powertune.v1.rs"));
}

/// Smallest memory size AWS Lambda accepts, in MB.
pub const MIN_POWER_MB: u32 = 128;

/// Largest memory size AWS Lambda accepts for on-demand functions, in MB.
pub const MAX_POWER_MB: u32 = 10_240;

/// Step between the memory sizes of `"powerValues": "ALL"`, in MB (the
/// original tool's step).
pub const ALL_POWER_STEP_MB: u32 = 64;

/// Returns every memory size that `"powerValues": "ALL"` means: 128 to 10240 MB
/// in 64 MB steps.
pub fn all_power_values() -> Vec<u32> {
    (MIN_POWER_MB..=MAX_POWER_MB)
        .step_by(ALL_POWER_STEP_MB as usize)
        .collect()
}

/// Serde form of an optional field that contains JSON text in protobuf and the
/// JSON value itself in the JSON form.
pub mod json_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        text: &Option<String>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match text {
            None => serializer.serialize_none(),
            Some(text) => {
                let value: serde_json::Value =
                    serde_json::from_str(text).map_err(serde::ser::Error::custom)?;
                value.serialize(serializer)
            }
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        let value = Option::<serde_json::Value>::deserialize(deserializer)?;
        Ok(value.map(|value| value.to_string()))
    }
}

/// Serde form of `powerValues`: a list of sizes, or `"ALL"`.
pub mod power_values {
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum PowerValues {
        List(Vec<u32>),
        Keyword(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u32>, D::Error> {
        match Option::<PowerValues>::deserialize(deserializer)? {
            None => Ok(Vec::new()),
            Some(PowerValues::List(values)) => Ok(values),
            Some(PowerValues::Keyword(keyword)) if keyword.eq_ignore_ascii_case("ALL") => {
                Ok(super::all_power_values())
            }
            Some(PowerValues::Keyword(other)) => Err(serde::de::Error::custom(format!(
                "powerValues `{other}` is not a list of memory sizes; use a list such as [128, 256, 512] or \"ALL\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::v1::{PowerTuningInput, PowerTuningOutput, TuningRunSummary};
    use serde_json::json;

    #[test]
    fn input_reads_original_field_names() {
        let input: PowerTuningInput = serde_json::from_value(json!({
            "lambdaARN": "arn:aws:lambda:us-east-1:123456789012:function:fn",
            "num": 10,
            "powerValues": [128, 256],
            "payload": {"key": "value"},
            "payloadS3": "s3://bucket/key.json",
            "parallelInvocation": true,
            "strategy": "balanced",
            "balancedWeight": 0.3,
            "preProcessorARN": "arn:aws:lambda:us-east-1:123456789012:function:pre",
            "postProcessorARN": "arn:aws:lambda:us-east-1:123456789012:function:post",
            "discardTopBottom": 0.1,
            "sleepBetweenRunsMs": 50,
            "onlyColdStarts": true,
            "allowedExceptions": ["HandledError"]
        }))
        .unwrap();

        assert_eq!(
            input.lambda_arn,
            "arn:aws:lambda:us-east-1:123456789012:function:fn"
        );
        assert_eq!(input.num, 10);
        assert_eq!(input.power_values, vec![128, 256]);
        assert_eq!(input.payload.as_deref(), Some(r#"{"key":"value"}"#));
        assert_eq!(input.payload_s3, "s3://bucket/key.json");
        assert!(input.parallel_invocation);
        assert_eq!(input.balanced_weight, Some(0.3));
        assert_eq!(
            input.pre_processor_arn,
            "arn:aws:lambda:us-east-1:123456789012:function:pre"
        );
        assert_eq!(
            input.post_processor_arn,
            "arn:aws:lambda:us-east-1:123456789012:function:post"
        );
        assert_eq!(input.discard_top_bottom, Some(0.1));
        assert_eq!(input.sleep_between_runs_ms, 50);
        assert!(input.only_cold_starts);
        assert_eq!(input.allowed_exceptions, vec!["HandledError"]);
    }

    #[test]
    fn power_values_all_covers_whole_range() {
        let input: PowerTuningInput =
            serde_json::from_value(json!({"lambdaARN": "x", "num": 5, "powerValues": "ALL"}))
                .unwrap();

        assert_eq!(input.power_values.first(), Some(&128));
        assert_eq!(input.power_values.last(), Some(&10_240));
        assert!(input.power_values.contains(&3008));
    }

    #[test]
    fn payload_round_trips_as_json_value() {
        let input: PowerTuningInput =
            serde_json::from_value(json!({"lambdaARN": "x", "num": 5, "payload": "plain text"}))
                .unwrap();
        let back = serde_json::to_value(&input).unwrap();

        assert_eq!(back["payload"], json!("plain text"));
        assert_eq!(back["lambdaARN"], json!("x"));
    }

    #[test]
    fn output_uses_original_names() {
        let output = PowerTuningOutput {
            power: 512,
            state_machine: Some(TuningRunSummary {
                execution_cost: 0.001,
                ..Default::default()
            }),
            ..Default::default()
        };
        let json = serde_json::to_value(&output).unwrap();

        assert_eq!(json["power"], json!(512));
        assert_eq!(json["stateMachine"]["executionCost"], json!(0.001));
        assert!(json.get("stats").is_none());
    }
}
