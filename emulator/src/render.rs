//! JSON shapes of the Lambda API responses: `FunctionConfiguration` and `AliasConfiguration`.

use serde_json::{Map, Value, json};

use crate::function::{Alias, Config, Function, UpdateState};
use crate::state::Settings;

/// Version to render and the qualifier the caller addressed it with.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// `$LATEST` or a version number.
    pub version: &'a str,
    /// Suffix of `FunctionArn`: none for an unqualified `$LATEST`, else the qualifier used.
    pub arn_suffix: Option<&'a str>,
    /// ListVersionsByFunction items omit the state fields.
    pub in_list: bool,
}

/// Renders `FunctionConfiguration`; `None` when the version does not exist.
pub fn configuration(settings: &Settings, function: &Function, view: View<'_>) -> Option<Value> {
    let (config, revision_id, last_modified, pending) = if view.version == "$LATEST" {
        (
            &function.latest,
            function.revision_id.as_str(),
            function.last_modified.as_str(),
            function.pending_until.is_some(),
        )
    } else {
        let number: u64 = view.version.parse().ok()?;
        let version = function.versions.get(&number)?;
        (
            &version.config,
            version.revision_id.as_str(),
            version.last_modified.as_str(),
            version.pending_until.is_some(),
        )
    };
    let function_arn = match view.arn_suffix {
        Some(suffix) => settings.qualified_arn(&function.name, suffix),
        None => settings.arn(&function.name),
    };

    let mut body = Map::new();
    body.insert("FunctionName".into(), json!(function.name));
    body.insert("FunctionArn".into(), json!(function_arn));
    body.insert("Version".into(), json!(view.version));
    body.insert("RevisionId".into(), json!(revision_id));
    body.insert("LastModified".into(), json!(last_modified));
    body.insert("PackageType".into(), json!("Zip"));
    insert_config(settings, &function.name, config, &mut body);
    let optimization = if config.snapstart && view.version != "$LATEST" {
        "On"
    } else {
        "Off"
    };
    let apply_on = if config.snapstart {
        "PublishedVersions"
    } else {
        "None"
    };
    body.insert(
        "SnapStart".into(),
        json!({ "ApplyOn": apply_on, "OptimizationStatus": optimization }),
    );

    if !view.in_list {
        insert_state(function, view.version, pending, &mut body);
    }
    Some(Value::Object(body))
}

fn insert_config(settings: &Settings, name: &str, config: &Config, body: &mut Map<String, Value>) {
    body.insert("Runtime".into(), json!(config.runtime));
    body.insert("Role".into(), json!(config.role));
    body.insert("Handler".into(), json!(config.handler));
    body.insert("CodeSize".into(), json!(config.code_size));
    body.insert("CodeSha256".into(), json!(config.code_sha256));
    body.insert("Description".into(), json!(config.description));
    body.insert("Timeout".into(), json!(config.timeout_s));
    body.insert("MemorySize".into(), json!(config.memory_mb));
    body.insert(
        "Architectures".into(),
        json!([config.architecture.as_str()]),
    );
    body.insert("EphemeralStorage".into(), json!({ "Size": 512 }));
    body.insert("TracingConfig".into(), json!({ "Mode": "PassThrough" }));
    body.insert(
        "LoggingConfig".into(),
        json!({ "LogFormat": config.log_format.as_str(), "LogGroup": format!("/aws/lambda/{name}") }),
    );
    if !config.environment.is_empty() {
        body.insert(
            "Environment".into(),
            json!({ "Variables": config.environment }),
        );
    }
    body.insert(
        "RuntimeVersionConfig".into(),
        json!({ "RuntimeVersionArn": format!("arn:aws:lambda:{}::runtime:{}", settings.region, runtime_hash(&config.runtime)) }),
    );
}

fn insert_state(function: &Function, version: &str, pending: bool, body: &mut Map<String, Value>) {
    if pending {
        body.insert("State".into(), json!("Pending"));
        let reason = if version == "$LATEST" {
            "The function is being created."
        } else {
            "Lambda is creating a SnapStart snapshot of the function."
        };
        body.insert("StateReason".into(), json!(reason));
        body.insert("StateReasonCode".into(), json!("Creating"));
        return;
    }
    body.insert("State".into(), json!("Active"));

    let in_progress =
        version == "$LATEST" && matches!(function.update, UpdateState::InProgress { .. });
    if in_progress {
        body.insert("LastUpdateStatus".into(), json!("InProgress"));
        body.insert(
            "LastUpdateStatusReason".into(),
            json!("The function is being created."),
        );
        body.insert("LastUpdateStatusReasonCode".into(), json!("Creating"));
    } else {
        body.insert("LastUpdateStatus".into(), json!("Successful"));
    }
}

fn runtime_hash(runtime: &str) -> String {
    crate::function::code_sha256(runtime.as_bytes())
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect::<String>()
        .to_lowercase()
}

/// Renders `AliasConfiguration`; `RoutingConfig` is omitted when the alias has no weights.
pub fn alias(settings: &Settings, function_name: &str, alias: &Alias) -> Value {
    let mut body = json!({
        "AliasArn": settings.qualified_arn(function_name, &alias.name),
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    });
    if !alias.additional_weights.is_empty() {
        body["RoutingConfig"] = json!({ "AdditionalVersionWeights": alias.additional_weights });
    }
    body
}
