//! Admin API under `/_emulator`: statistics, fault rules and functions with a full profile.
//! Errors are JSON `{"error": "..."}` with status 400 or 404.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Label;
use crate::error::EmulatorError;
use crate::faults::FaultConfig;
use crate::spec::FunctionSpec;
use crate::state::SharedState;

/// `GET /_emulator/stats`: totals over every function.
pub async fn totals(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
) -> Json<Value> {
    label.set("AdminTotals", "", None);
    Json(json!(state.totals()))
}

/// `GET /_emulator/functions/{name}/stats`.
pub async fn function_stats(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(name): Path<String>,
) -> Response {
    label.set("AdminFunctionStats", &name, None);
    match state.function_stats(&name) {
        Some(stats) => Json(json!(stats)).into_response(),
        None => admin_error(
            StatusCode::NOT_FOUND,
            format!("no request has named function `{name}`"),
        ),
    }
}

/// `GET /_emulator/faults`.
pub async fn get_faults(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
) -> Json<Value> {
    label.set("AdminGetFaults", "", None);
    Json(json!(state.faults()))
}

/// `PUT /_emulator/faults`: replaces the rules and reseeds their generator.
pub async fn put_faults(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    body: Bytes,
) -> Response {
    label.set("AdminPutFaults", "", None);
    let faults: FaultConfig = match serde_json::from_slice(&body) {
        Ok(faults) => faults,
        Err(error) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                format!("invalid fault rules: {error}"),
            );
        }
    };
    match state.try_set_faults(faults) {
        Ok(()) => Json(json!(state.faults())).into_response(),
        Err(error) => admin_error(StatusCode::BAD_REQUEST, error.to_string()),
    }
}

/// `DELETE /_emulator/faults`: removes every rule.
pub async fn delete_faults(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
) -> StatusCode {
    label.set("AdminDeleteFaults", "", None);
    state.lock().faults.replace(FaultConfig::default());
    StatusCode::NO_CONTENT
}

/// `POST /_emulator/functions`: creates an active function from a JSON [`FunctionSpec`].
pub async fn create_function(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    body: Bytes,
) -> Response {
    let spec: FunctionSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(error) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                format!("invalid function: {error}"),
            );
        }
    };
    label.set("AdminCreateFunction", &spec.name, None);
    let name = spec.name.clone();
    match state.add_function(spec) {
        Ok(()) => (
            StatusCode::CREATED,
            Json(json!({ "name": name, "arn": state.settings().arn(&name) })),
        )
            .into_response(),
        Err(error @ EmulatorError::FunctionExists { .. }) => {
            admin_error(StatusCode::CONFLICT, error.to_string())
        }
        Err(error) => admin_error(StatusCode::BAD_REQUEST, error.to_string()),
    }
}

fn admin_error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}
