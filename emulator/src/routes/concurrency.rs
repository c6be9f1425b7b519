//! Reserved concurrency routes: PutFunctionConcurrency, GetFunctionConcurrency and
//! DeleteFunctionConcurrency.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Label, parse_body};
use crate::error::ApiError;
use crate::names::parse_unqualified;
use crate::state::SharedState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConcurrencyRequest {
    reserved_concurrent_executions: Option<i64>,
}

/// `PUT /2017-10-31/functions/{name}/concurrency`.
pub async fn put(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    label.set("PutFunctionConcurrency", &raw, None);
    let name = parse_unqualified(&raw)?;
    state.begin("PutFunctionConcurrency", &name).await?;
    let request: ConcurrencyRequest = parse_body(&body)?;
    let reserved = match request.reserved_concurrent_executions {
        Some(value) if value >= 0 && value <= i64::from(u32::MAX) => value as u32,
        other => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0",
                other.map_or_else(|| "null".to_owned(), |v| v.to_string())
            )));
        }
    };

    let settings = state.settings();
    if let Some(limit) = settings.account_concurrency
        && reserved > limit
    {
        return Err(ApiError::invalid_parameter(format!(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0] (account limit {limit})."
        )));
    }
    let mut registry = state.lock();
    let function = registry
        .function_mut(&name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&name)))?;
    function.reserved_concurrency = Some(reserved);
    Ok(Json(json!({ "ReservedConcurrentExecutions": reserved })))
}

/// `GET /2019-09-30/functions/{name}/concurrency`.
pub async fn get(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    label.set("GetFunctionConcurrency", &raw, None);
    let name = parse_unqualified(&raw)?;
    let settings = state.settings();
    let mut registry = state.lock();
    let function = registry
        .function_mut(&name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&name)))?;
    Ok(Json(match function.reserved_concurrency {
        Some(reserved) => json!({ "ReservedConcurrentExecutions": reserved }),
        None => json!({}),
    }))
}

/// `DELETE /2017-10-31/functions/{name}/concurrency`.
pub async fn delete(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    label.set("DeleteFunctionConcurrency", &raw, None);
    let name = parse_unqualified(&raw)?;
    state.begin("DeleteFunctionConcurrency", &name).await?;
    let settings = state.settings();
    let mut registry = state.lock();
    let function = registry
        .function_mut(&name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&name)))?;
    function.reserved_concurrency = None;
    Ok(StatusCode::NO_CONTENT)
}
