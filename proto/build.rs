//! Compiles `powertune/v1/*.proto` with prost and gives every message a serde
//! JSON form whose field names match AWS Lambda Power Tuning's input and output.

use std::io::Result;

const PROTOS: &[&str] = &["powertune/v1/tuning.proto", "powertune/v1/activities.proto"];

/// Fields whose JSON name is not the camelCase of the proto field name, or
/// whose JSON form is not the plain serde form of the Rust type.
const FIELD_ATTRIBUTES: &[(&str, &str)] = &[
    (
        ".powertune.v1.PowerTuningInput.lambda_arn",
        r#"#[serde(rename = "lambdaARN")]"#,
    ),
    (
        ".powertune.v1.PowerTuningInput.pre_processor_arn",
        r#"#[serde(rename = "preProcessorARN", skip_serializing_if = "String::is_empty")]"#,
    ),
    (
        ".powertune.v1.PowerTuningInput.post_processor_arn",
        r#"#[serde(rename = "postProcessorARN", skip_serializing_if = "String::is_empty")]"#,
    ),
    (
        ".powertune.v1.PowerTuningInput.payload",
        r#"#[serde(with = "crate::json_text", skip_serializing_if = "Option::is_none")]"#,
    ),
    (
        ".powertune.v1.PowerTuningInput.power_values",
        r#"#[serde(deserialize_with = "crate::power_values::deserialize")]"#,
    ),
    (
        ".powertune.v1.PowerTuningOutput.stats",
        r#"#[serde(skip_serializing_if = "Vec::is_empty")]"#,
    ),
    (
        ".powertune.v1.PowerTuningOutput.failed_power_values",
        r#"#[serde(skip_serializing_if = "Vec::is_empty")]"#,
    ),
    (
        ".powertune.v1.PowerTuningOutput.warnings",
        r#"#[serde(skip_serializing_if = "Vec::is_empty")]"#,
    ),
    (
        ".powertune.v1.PowerTuningOutput.optimization",
        r#"#[serde(skip_serializing_if = "Option::is_none")]"#,
    ),
];

fn main() -> Result<()> {
    let mut config = prost_build::Config::new();
    config.type_attribute(
        ".powertune.v1",
        r#"#[derive(serde::Serialize, serde::Deserialize)] #[serde(rename_all = "camelCase", default)]"#,
    );
    for (path, attribute) in FIELD_ATTRIBUTES {
        config.field_attribute(path, attribute);
    }
    config.compile_protos(PROTOS, &["."])?;
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
