//! Version routes: PublishVersion and ListVersionsByFunction.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Label, PageQuery, paginate, parse_body, parse_query};
use crate::error::ApiError;
use crate::names::parse_unqualified;
use crate::render::{self, View};
use crate::state::SharedState;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishRequest {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

/// `POST /2015-03-31/functions/{name}/versions`: publishes `$LATEST`, or returns the latest
/// version with 201 when nothing changed since it was published.
pub async fn publish(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    label.set("PublishVersion", &raw, None);
    let name = parse_unqualified(&raw)?;
    state.begin("PublishVersion", &name).await?;
    let request: PublishRequest = parse_body(&body)?;

    let settings = state.settings();
    let arn = settings.arn(&name);
    let mut registry = state.lock();
    let function = registry
        .function_mut(&name)
        .ok_or_else(|| ApiError::function_not_found(&arn))?;
    function.ensure_modifiable(&arn)?;
    if request
        .revision_id
        .as_ref()
        .is_some_and(|revision| *revision != function.revision_id)
    {
        return Err(ApiError::revision_mismatch());
    }
    if let Some(sha) = &request.code_sha256
        && *sha != function.latest.code_sha256
    {
        return Err(ApiError::invalid_parameter(format!(
            "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
            function.latest.code_sha256
        )));
    }

    let snapshot_until = Instant::now() + settings.scaled(settings.snapstart_delay);
    let number = function
        .publish(request.description, Some(snapshot_until))
        .to_string();
    let body = render::configuration(
        settings,
        function,
        View {
            version: &number,
            arn_suffix: Some(&number),
            in_list: false,
        },
    );
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /2015-03-31/functions/{name}/versions`: `$LATEST` first, then versions in ascending
/// order, at most 50 per page.
pub async fn list(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    label.set("ListVersionsByFunction", &raw, None);
    let query: PageQuery = parse_query(&uri)?;
    let name = parse_unqualified(&raw)?;
    state.begin("ListVersionsByFunction", &name).await?;

    let settings = state.settings();
    let mut registry = state.lock();
    let function = registry
        .function_mut(&name)
        .ok_or_else(|| ApiError::function_not_found(&settings.arn(&name)))?;
    let mut versions = vec!["$LATEST".to_owned()];
    versions.extend(function.versions.keys().map(u64::to_string));
    let (page, next_marker) = paginate(versions, &query)?;

    let items: Vec<Value> = page
        .iter()
        .filter_map(|version| {
            render::configuration(
                settings,
                function,
                View {
                    version,
                    arn_suffix: Some(version),
                    in_list: true,
                },
            )
        })
        .collect();
    let mut body = json!({ "Versions": items });
    if let Some(marker) = next_marker {
        body["NextMarker"] = json!(marker);
    }
    Ok(Json(body))
}
