//! Function routes: CreateFunction, GetFunction, GetFunctionConfiguration,
//! UpdateFunctionConfiguration and DeleteFunction.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Label, QualifierQuery, parse_body, parse_query};
use crate::error::ApiError;
use crate::function::{Config, UpdateState, code_sha256, new_revision, timestamp};
use crate::model::{Architecture, Profile};
use crate::names::{FunctionRef, parse_function_ref};
use crate::render::{self, View};
use crate::spec::{LogFormat, profile_with_environment};
use crate::state::{Registry, Settings, SharedState};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct EnvironmentInput {
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct LoggingInput {
    log_format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SnapStartInput {
    apply_on: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CodeInput {
    zip_file: Option<String>,
    s3_bucket: Option<String>,
    s3_key: Option<String>,
    image_uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateRequest {
    function_name: Option<String>,
    runtime: Option<String>,
    role: Option<String>,
    handler: Option<String>,
    code: Option<CodeInput>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    publish: Option<bool>,
    environment: Option<EnvironmentInput>,
    architectures: Option<Vec<String>>,
    snap_start: Option<SnapStartInput>,
    logging_config: Option<LoggingInput>,
}

/// `POST /2015-03-31/functions`: creates a function in `State: Pending`.
pub async fn create(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateRequest = parse_body(&body)?;
    let raw_name = request.function_name.clone().unwrap_or_default();
    label.set("CreateFunction", &raw_name, None);
    let name = crate::names::parse_unqualified(&raw_name)?;
    state.begin("CreateFunction", &name).await?;

    let settings = state.settings();
    let config = create_config(settings, &name, &request)?;
    let mut registry = state.lock();
    let pending_for = settings.scaled(settings.pending_delay);
    let function = registry.insert(&name, config, pending_for)?;
    let view = if request.publish == Some(true) {
        let snapshot_until = Instant::now() + settings.scaled(settings.snapstart_delay);
        function.publish(None, Some(snapshot_until)).to_string()
    } else {
        "$LATEST".to_owned()
    };
    let suffix = (view != "$LATEST").then_some(view.as_str());
    let body = render::configuration(
        settings,
        function,
        View {
            version: &view,
            arn_suffix: suffix,
            in_list: false,
        },
    );
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

fn create_config(
    settings: &Settings,
    name: &str,
    request: &CreateRequest,
) -> Result<Config, ApiError> {
    let code = request.code.as_ref();
    let code_bytes = match code.and_then(|c| c.zip_file.as_deref()) {
        Some(zip) => base64::engine::general_purpose::STANDARD
            .decode(zip)
            .map_err(|_| ApiError::invalid_parameter("Could not unzip uploaded file. Please check your file, then try to upload again."))?,
        None => code
            .map(|c| format!("{:?}{:?}{:?}", c.s3_bucket, c.s3_key, c.image_uri))
            .unwrap_or_else(|| name.to_owned())
            .into_bytes(),
    };
    let architecture = match request.architectures.as_deref() {
        None | Some([]) => Architecture::X86_64,
        Some([one]) => Architecture::parse(one).ok_or_else(|| {
            ApiError::validation(format!(
                "1 validation error detected: Value '[{one}]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]"
            ))
        })?,
        Some(_) => {
            return Err(ApiError::validation(
                "1 validation error detected: Value at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1",
            ));
        }
    };
    let environment = request
        .environment
        .as_ref()
        .map(|e| e.variables.clone())
        .unwrap_or_default();
    let config = Config {
        memory_mb: validate_memory(settings, request.memory_size.unwrap_or(128))?,
        timeout_s: validate_timeout(request.timeout.unwrap_or(3))?,
        description: request.description.clone().unwrap_or_default(),
        environment,
        architecture,
        runtime: request
            .runtime
            .clone()
            .unwrap_or_else(|| "python3.12".to_owned()),
        handler: request
            .handler
            .clone()
            .unwrap_or_else(|| "index.handler".to_owned()),
        role: request.role.clone().unwrap_or_else(|| {
            format!("arn:aws:iam::{}:role/lambda-emulator", settings.account_id)
        }),
        log_format: parse_log_format(request.logging_config.as_ref())?.unwrap_or_default(),
        snapstart: parse_snapstart(request.snap_start.as_ref())?.unwrap_or(false),
        profile: Profile::default(),
        code_sha256: code_sha256(&code_bytes),
        code_size: code_bytes.len() as u64,
    };
    validate_environment(&config)?;
    Ok(config)
}

/// `GET /2015-03-31/functions/{name}`.
pub async fn get_function(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query: QualifierQuery = parse_query(&uri)?;
    label.set("GetFunction", &raw, query.qualifier.as_deref());
    let reference = parse_function_ref(&raw, query.qualifier.as_deref())?;
    state.begin("GetFunction", &reference.name).await?;

    let mut registry = state.lock();
    let configuration = configuration_of(state.settings(), &mut registry, &reference)?;
    let function = registry
        .function_mut(&reference.name)
        .ok_or_else(|| ApiError::function_not_found(&state.settings().arn(&reference.name)))?;
    let mut body = json!({
        "Configuration": configuration,
        "Code": { "RepositoryType": "S3" },
    });
    if let Some(reserved) = function.reserved_concurrency {
        body["Concurrency"] = json!({ "ReservedConcurrentExecutions": reserved });
    }
    Ok(Json(body))
}

/// `GET /2015-03-31/functions/{name}/configuration`.
pub async fn get_configuration(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query: QualifierQuery = parse_query(&uri)?;
    label.set("GetFunctionConfiguration", &raw, query.qualifier.as_deref());
    let reference = parse_function_ref(&raw, query.qualifier.as_deref())?;
    state
        .begin("GetFunctionConfiguration", &reference.name)
        .await?;

    let mut registry = state.lock();
    configuration_of(state.settings(), &mut registry, &reference).map(Json)
}

/// Renders the configuration a reference points at, or the 404 AWS sends.
fn configuration_of(
    settings: &Settings,
    registry: &mut Registry,
    reference: &FunctionRef,
) -> Result<Value, ApiError> {
    let function = registry
        .function_mut(&reference.name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&reference.name)))?;
    let qualifier = reference.qualifier.as_deref();
    let not_found = || {
        ApiError::function_not_found(
            &settings.qualified_arn(&reference.name, qualifier.unwrap_or("")),
        )
    };
    let version = function.resolve(qualifier).ok_or_else(not_found)?;
    render::configuration(
        settings,
        function,
        View {
            version: &version,
            arn_suffix: qualifier,
            in_list: false,
        },
    )
    .ok_or_else(not_found)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateRequest {
    memory_size: Option<i64>,
    timeout: Option<i64>,
    description: Option<String>,
    environment: Option<EnvironmentInput>,
    revision_id: Option<String>,
    logging_config: Option<LoggingInput>,
    snap_start: Option<SnapStartInput>,
    runtime: Option<String>,
    handler: Option<String>,
    role: Option<String>,
}

/// `PUT /2015-03-31/functions/{name}/configuration`: changes `$LATEST` and starts an update
/// that stays `InProgress` for the update delay.
pub async fn update_configuration(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    label.set("UpdateFunctionConfiguration", &raw, None);
    let reference = parse_function_ref(&raw, None)?;
    state
        .begin("UpdateFunctionConfiguration", &reference.name)
        .await?;
    if reference
        .qualifier
        .as_deref()
        .is_some_and(|q| q != "$LATEST")
    {
        return Err(ApiError::invalid_parameter(
            "Only the $LATEST version of a function can be updated.",
        ));
    }
    let request: UpdateRequest = parse_body(&body)?;
    let settings = state.settings();
    let memory_mb = request
        .memory_size
        .map(|memory| validate_memory(settings, memory))
        .transpose()?;
    let timeout_s = request.timeout.map(validate_timeout).transpose()?;
    let log_format = parse_log_format(request.logging_config.as_ref())?;
    let snapstart = parse_snapstart(request.snap_start.as_ref())?;

    let mut registry = state.lock();
    let arn = settings.arn(&reference.name);
    let function = registry
        .function_mut(&reference.name)
        .ok_or_else(|| ApiError::function_not_found(&arn))?;
    if request
        .revision_id
        .as_ref()
        .is_some_and(|revision| *revision != function.revision_id)
    {
        return Err(ApiError::revision_mismatch());
    }
    function.ensure_modifiable(&arn)?;

    let mut config = function.latest.clone();
    if let Some(memory_mb) = memory_mb {
        config.memory_mb = memory_mb;
    }
    if let Some(timeout_s) = timeout_s {
        config.timeout_s = timeout_s;
    }
    if let Some(description) = request.description {
        config.description = description;
    }
    if let Some(environment) = request.environment {
        config.environment = environment.variables;
    }
    if let Some(log_format) = log_format {
        config.log_format = log_format;
    }
    if let Some(snapstart) = snapstart {
        config.snapstart = snapstart;
    }
    config.runtime = request.runtime.unwrap_or(config.runtime);
    config.handler = request.handler.unwrap_or(config.handler);
    config.role = request.role.unwrap_or(config.role);
    validate_environment(&config)?;

    // NOTE: Lambda keeps serving the previous configuration until the update finishes, while the
    // emulator invokes the new one at once.
    function.latest = config;
    function.update = UpdateState::InProgress {
        until: Instant::now() + settings.scaled(settings.update_delay),
    };
    function.revision_id = new_revision();
    function.last_modified = timestamp();
    // A configuration change gives `$LATEST` fresh execution environments.
    function.idle_environments.remove("$LATEST");
    function.latest_epoch += 1;
    let body = render::configuration(
        settings,
        function,
        View {
            version: "$LATEST",
            arn_suffix: None,
            in_list: false,
        },
    );
    Ok(Json(body.unwrap_or_default()))
}

/// `DELETE /2015-03-31/functions/{name}`: deletes the function, or one version with
/// `Qualifier`.
pub async fn delete(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<StatusCode, ApiError> {
    let query: QualifierQuery = parse_query(&uri)?;
    label.set("DeleteFunction", &raw, query.qualifier.as_deref());
    let reference = parse_function_ref(&raw, query.qualifier.as_deref())?;
    state.begin("DeleteFunction", &reference.name).await?;

    let settings = state.settings();
    let mut registry = state.lock();
    let function = registry
        .function_mut(&reference.name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&reference.name)))?;
    let Some(qualifier) = reference.qualifier else {
        registry.functions.remove(&reference.name);
        return Ok(StatusCode::NO_CONTENT);
    };
    if qualifier == "$LATEST" {
        return Err(ApiError::invalid_parameter(
            "$LATEST version cannot be deleted without deleting the function.",
        ));
    }
    let Ok(number) = qualifier.parse::<u64>() else {
        return Err(ApiError::invalid_parameter(
            "Deletion of aliases is not currently supported.",
        ));
    };
    let aliases = function.aliases_referencing(&number.to_string());
    if !aliases.is_empty() {
        return Err(ApiError::conflict(format!(
            "Unable to delete version because the following aliases reference it: [{}]",
            aliases.join(", ")
        )));
    }
    function.versions.remove(&number);
    function.idle_environments.remove(&number.to_string());
    Ok(StatusCode::NO_CONTENT)
}

/// Checks `MemorySize` against the 128..=10240 MB range and the configured quota.
fn validate_memory(settings: &Settings, memory: i64) -> Result<u32, ApiError> {
    if memory < 128 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{memory}' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"
        )));
    }
    if memory > 10240 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{memory}' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240"
        )));
    }
    let memory = memory as u32;
    if let Some(quota) = settings.memory_quota_mb
        && memory > quota
    {
        return Err(ApiError::invalid_parameter(format!(
            "'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to {quota}"
        )));
    }
    Ok(memory)
}

fn validate_timeout(timeout: i64) -> Result<u32, ApiError> {
    if !(1..=900).contains(&timeout) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{timeout}' at 'timeout' failed to satisfy constraint: Member must have value between 1 and 900"
        )));
    }
    Ok(timeout as u32)
}

fn validate_environment(config: &Config) -> Result<(), ApiError> {
    profile_with_environment(&config.profile, &config.environment)
        .map(|_| ())
        .map_err(|message| ApiError::invalid_parameter(format!("Invalid Environment: {message}")))
}

pub(super) fn parse_log_format(
    input: Option<&LoggingInput>,
) -> Result<Option<LogFormat>, ApiError> {
    match input.and_then(|l| l.log_format.as_deref()) {
        None => Ok(None),
        Some("Text") => Ok(Some(LogFormat::Text)),
        Some("JSON") => Ok(Some(LogFormat::Json)),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'loggingConfig.logFormat' failed to satisfy constraint: Member must satisfy enum value set: [Text, JSON]"
        ))),
    }
}

pub(super) fn parse_snapstart(input: Option<&SnapStartInput>) -> Result<Option<bool>, ApiError> {
    match input.and_then(|s| s.apply_on.as_deref()) {
        None => Ok(None),
        Some("None") => Ok(Some(false)),
        Some("PublishedVersions") => Ok(Some(true)),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'snapStart.applyOn' failed to satisfy constraint: Member must satisfy enum value set: [PublishedVersions, None]"
        ))),
    }
}
