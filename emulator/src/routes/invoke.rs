//! Invoke route: resolves the qualifier, enforces state and concurrency limits, picks a warm or
//! cold execution environment, runs the performance model, sleeps for the simulated duration and
//! responds as Lambda does, with the log tail on request.

use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine;
use rand::Rng;
use serde_json::json;

use super::{Label, QualifierQuery, RequestId, parse_query};
use crate::error::ApiError;
use crate::logs::{LogInput, invocation_log, tail};
use crate::model::{self, Invocation, Outcome, Profile, Start, Status};
use crate::names::parse_function_ref;
use crate::spec::LogFormat;
use crate::state::SharedState;

/// Largest synchronous payload, bytes.
const SYNC_PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;
/// Largest asynchronous (`Event`) payload, bytes.
const EVENT_PAYLOAD_LIMIT: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// `POST /2015-03-31/functions/{name}/invocations`.
pub async fn invoke(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(raw): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let query: QualifierQuery = parse_query(&uri)?;
    label.set("Invoke", &raw, query.qualifier.as_deref());
    let reference = parse_function_ref(&raw, query.qualifier.as_deref())?;
    state.begin("Invoke", &reference.name).await?;
    let invocation_type = invocation_type(&headers)?;
    let tail_requested = log_type_is_tail(&headers)?;
    check_payload(&payload, invocation_type)?;

    let Some((run, guard)) = admit(
        &state,
        &reference.name,
        reference.qualifier.as_deref(),
        invocation_type,
        &request_id,
    )?
    else {
        return Ok(empty(StatusCode::NO_CONTENT));
    };

    if invocation_type == InvocationType::Event {
        let settings = state.settings().clone();
        tokio::spawn(async move {
            settings.sleep_simulated(run.outcome.wall_ms()).await;
            drop(guard);
        });
        return Ok(empty(StatusCode::ACCEPTED));
    }
    state
        .settings()
        .sleep_simulated(run.outcome.wall_ms())
        .await;
    drop(guard);

    let log = tail_requested.then(|| {
        invocation_log(&LogInput {
            request_id: &request_id,
            function_name: &reference.name,
            version: &run.version,
            runtime: &run.runtime,
            region: &state.settings().region,
            format: run.log_format,
            start: run.start,
            outcome: &run.outcome,
            timeout_s: run.timeout_s,
            log_lines: run.profile.log_lines,
            payload_bytes: payload.len(),
        })
    });
    Ok(respond(
        &run,
        &reference.name,
        &request_id,
        &payload,
        log.as_deref(),
    ))
}

/// An admitted invocation and its simulated outcome.
struct Run {
    version: String,
    start: Start,
    outcome: Outcome,
    profile: Profile,
    runtime: String,
    log_format: LogFormat,
    timeout_s: u32,
}

/// Checks state and limits, reserves concurrency and an environment and simulates the outcome.
/// Returns `None` for a `DryRun` that passed every check.
fn admit(
    state: &SharedState,
    name: &str,
    qualifier: Option<&str>,
    invocation_type: InvocationType,
    request_id: &str,
) -> Result<Option<(Run, EnvironmentGuard)>, ApiError> {
    let settings = state.settings();
    let mut registry = state.lock();
    let registry = &mut *registry;
    let function = registry
        .functions
        .get_mut(name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(name)))?;
    function.refresh(std::time::Instant::now());
    let not_found =
        || ApiError::function_not_found(&settings.qualified_arn(name, qualifier.unwrap_or("")));
    let mut version = function.resolve(qualifier).ok_or_else(not_found)?;
    if let Some(alias) = qualifier.and_then(|q| function.aliases.get(q))
        && let Some((extra, weight)) = alias.additional_weights.iter().next()
        && registry.rng.random::<f64>() < *weight
    {
        version = extra.clone();
    }
    if function.pending_until.is_some() {
        return Err(ApiError::pending());
    }
    let version_pending = version
        .parse::<u64>()
        .ok()
        .and_then(|number| function.versions.get(&number))
        .is_some_and(|v| v.pending_until.is_some());
    if version_pending {
        return Err(ApiError::pending());
    }
    if invocation_type == InvocationType::DryRun {
        return Ok(None);
    }

    if function
        .reserved_concurrency
        .is_some_and(|limit| function.in_flight >= limit)
    {
        registry.throttles += 1;
        return Err(ApiError::throttled(
            "ReservedFunctionConcurrentInvocationLimitExceeded",
        ));
    }
    if settings
        .account_concurrency
        .is_some_and(|limit| registry.account_in_flight >= limit)
    {
        registry.throttles += 1;
        return Err(ApiError::throttled("ConcurrentInvocationLimitExceeded"));
    }

    let config = function.config_of(&version).ok_or_else(not_found)?.clone();
    let idle = function
        .idle_environments
        .entry(version.clone())
        .or_default();
    let start = if *idle > 0 {
        *idle -= 1;
        Start::Warm
    } else if config.snapstart && version != "$LATEST" {
        Start::Restored
    } else {
        Start::Cold
    };
    let profile = config.effective_profile();
    let outcome = model::simulate(
        &profile,
        Invocation {
            memory_mb: config.memory_mb,
            timeout_s: config.timeout_s,
            architecture: config.architecture,
            start,
            init_billed: settings.init_billed,
        },
        &mut registry.rng,
    );

    function.in_flight += 1;
    let guard = EnvironmentGuard {
        state: state.clone(),
        name: name.to_owned(),
        generation: function.generation,
        version: version.clone(),
        latest_epoch: function.latest_epoch,
        // Lambda replaces an environment after an out-of-memory kill or a timeout.
        reusable: matches!(outcome.status, Status::Success | Status::FunctionError(_)),
    };
    registry.account_in_flight += 1;
    registry.invocations += 1;
    let stats = registry.stats_mut(name);
    *stats
        .invocations_by_qualifier
        .entry(qualifier.unwrap_or("$LATEST").to_owned())
        .or_default() += 1;
    *stats
        .invocations_by_version
        .entry(version.clone())
        .or_default() += 1;
    if start != Start::Warm {
        stats.cold_starts += 1;
    }
    tracing::debug!(
        function = name,
        version,
        ?start,
        request_id,
        ?outcome,
        "simulated invocation"
    );

    let run = Run {
        version,
        start,
        outcome,
        profile,
        runtime: config.runtime,
        log_format: config.log_format,
        timeout_s: config.timeout_s,
    };
    Ok(Some((run, guard)))
}

/// Concurrency and environment held by a running invocation. Dropping it releases the
/// concurrency and returns a reusable environment to the idle pool, also when the client leaves.
struct EnvironmentGuard {
    state: SharedState,
    name: String,
    generation: u64,
    version: String,
    latest_epoch: u64,
    reusable: bool,
}

impl Drop for EnvironmentGuard {
    fn drop(&mut self) {
        let mut registry = self.state.lock();
        registry.account_in_flight = registry.account_in_flight.saturating_sub(1);
        let Some(function) = registry.functions.get_mut(&self.name) else {
            return;
        };
        if function.generation != self.generation {
            return;
        }
        function.in_flight = function.in_flight.saturating_sub(1);
        let version_exists = function.config_of(&self.version).is_some();
        let current = self.version != "$LATEST" || function.latest_epoch == self.latest_epoch;
        if self.reusable && version_exists && current {
            *function
                .idle_environments
                .entry(self.version.clone())
                .or_default() += 1;
        }
    }
}

fn invocation_type(headers: &HeaderMap) -> Result<InvocationType, ApiError> {
    match headers
        .get("X-Amz-Invocation-Type")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None | Some("RequestResponse") => Ok(InvocationType::RequestResponse),
        Some("Event") => Ok(InvocationType::Event),
        Some("DryRun") => Ok(InvocationType::DryRun),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        ))),
    }
}

fn log_type_is_tail(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers
        .get("X-Amz-Log-Type")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None | Some("None") => Ok(false),
        Some("Tail") => Ok(true),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]"
        ))),
    }
}

fn check_payload(payload: &[u8], invocation_type: InvocationType) -> Result<(), ApiError> {
    let limit = match invocation_type {
        InvocationType::Event => EVENT_PAYLOAD_LIMIT,
        _ => SYNC_PAYLOAD_LIMIT,
    };
    if payload.len() > limit {
        return Err(ApiError::too_large(format!(
            "{} byte payload is too large for the {} invocation type (limit {limit} bytes)",
            payload.len(),
            if invocation_type == InvocationType::Event {
                "Event"
            } else {
                "RequestResponse"
            },
        )));
    }
    if !payload.is_empty() && serde_json::from_slice::<serde_json::Value>(payload).is_err() {
        return Err(ApiError::invalid_content(
            "Could not parse payload into json: the payload is not valid JSON",
        ));
    }
    Ok(())
}

fn respond(run: &Run, name: &str, request_id: &str, payload: &[u8], log: Option<&str>) -> Response {
    let error_body = |error_type: &str, message: String| json!({ "errorType": error_type, "errorMessage": message });
    let body = match &run.outcome.status {
        Status::Success => match &run.profile.response {
            Some(response) => response.to_string().into_bytes(),
            None if payload.is_empty() => b"null".to_vec(),
            None => payload.to_vec(),
        },
        Status::FunctionError(error_type) => json!({
            "errorType": error_type,
            "errorMessage": format!("simulated failure of {name}"),
            "requestId": request_id,
            "stackTrace": [
                "  File \"/var/task/index.py\", line 12, in handler\n    raise SimulatedError(event)\n"
            ],
        })
        .to_string()
        .into_bytes(),
        Status::Timeout => error_body(
            "Sandbox.Timedout",
            format!(
                "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                f64::from(run.timeout_s)
            ),
        )
        .to_string()
        .into_bytes(),
        Status::OutOfMemory => error_body(
            "Runtime.OutOfMemory",
            format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed"),
        )
        .to_string()
        .into_bytes(),
    };

    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(version) = HeaderValue::from_str(&run.version) {
        headers.insert("X-Amz-Executed-Version", version);
    }
    if run.outcome.status != Status::Success {
        headers.insert(
            "X-Amz-Function-Error",
            HeaderValue::from_static("Unhandled"),
        );
    }
    if let Some(log) = log {
        let encoded = base64::engine::general_purpose::STANDARD.encode(tail(log));
        if let Ok(value) = HeaderValue::from_str(&encoded) {
            headers.insert("X-Amz-Log-Result", value);
        }
    }
    response
}

fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}
