//! HTTP routes: [`router`] lists every path the emulator serves; the request-context middleware
//! gives each response its `x-amzn-RequestId` and writes one log line per request.

mod admin;
mod aliases;
mod concurrency;
mod functions;
mod invoke;
mod s3;
mod versions;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, Request};
use axum::http::{HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::SharedState;

/// Largest request body accepted; Invoke rejects payloads above 6 MB itself.
const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Builds the router of the Lambda API, the admin API and S3 `GetObject`.
pub fn router(state: SharedState) -> Router {
    let functions = "/2015-03-31/functions";
    Router::new()
        .route(functions, post(functions::create))
        .route(
            &format!("{functions}/{{name}}"),
            get(functions::get_function).delete(functions::delete),
        )
        .route(
            &format!("{functions}/{{name}}/configuration"),
            get(functions::get_configuration).put(functions::update_configuration),
        )
        .route(
            &format!("{functions}/{{name}}/versions"),
            post(versions::publish).get(versions::list),
        )
        .route(
            &format!("{functions}/{{name}}/aliases"),
            post(aliases::create).get(aliases::list),
        )
        .route(
            &format!("{functions}/{{name}}/aliases/{{alias}}"),
            get(aliases::get)
                .put(aliases::update)
                .delete(aliases::delete),
        )
        .route(
            &format!("{functions}/{{name}}/invocations"),
            post(invoke::invoke),
        )
        .route(
            "/2017-10-31/functions/{name}/concurrency",
            put(concurrency::put).delete(concurrency::delete),
        )
        .route(
            "/2019-09-30/functions/{name}/concurrency",
            get(concurrency::get),
        )
        .route("/_emulator/stats", get(admin::totals))
        .route(
            "/_emulator/faults",
            get(admin::get_faults)
                .put(admin::put_faults)
                .delete(admin::delete_faults),
        )
        .route("/_emulator/functions", post(admin::create_function))
        .route(
            "/_emulator/functions/{name}/stats",
            get(admin::function_stats),
        )
        .fallback(s3::get_object)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(request_context))
        .with_state(state)
}

/// Id of the current request, shared by the response header and the invocation logs.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Operation, function and qualifier of the current request, filled in by the handler.
#[derive(Debug, Clone, Default)]
pub struct Label(Arc<Mutex<LabelData>>);

#[derive(Debug, Default)]
struct LabelData {
    operation: &'static str,
    function: String,
    qualifier: String,
}

impl Label {
    /// Records what the request is about, for the log line.
    pub fn set(&self, operation: &'static str, function: &str, qualifier: Option<&str>) {
        let mut data = self.0.lock().unwrap_or_else(|p| p.into_inner());
        data.operation = operation;
        data.function = function.to_owned();
        data.qualifier = qualifier.unwrap_or_default().to_owned();
    }
}

async fn request_context(mut request: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let label = Label::default();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    request.extensions_mut().insert(label.clone());
    let started = Instant::now();

    let mut response = next.run(request).await;

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    let data = label.0.lock().unwrap_or_else(|p| p.into_inner());
    let operation = if data.operation.is_empty() {
        "unknown"
    } else {
        data.operation
    };
    tracing::info!(
        operation,
        function = %data.function,
        qualifier = %data.qualifier,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id = %request_id,
        "{method} {path}"
    );
    response
}

/// Parses the query string into `T`, rejecting bad values with `ValidationException`.
pub fn parse_query<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(uri)
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::validation(format!("Invalid query string: {rejection}")))
}

/// Parses a JSON request body, rejecting it with `InvalidRequestContentException`.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(ApiError::invalid_content)
}

/// Query of the operations that take a `Qualifier`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct QualifierQuery {
    #[serde(rename = "Qualifier")]
    pub qualifier: Option<String>,
}

/// Query of the paginated list operations.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<u32>,
    #[serde(rename = "FunctionVersion")]
    pub function_version: Option<String>,
}

/// Maximum number of items in one page of a list operation.
pub const MAX_PAGE: usize = 50;

/// Cuts one page out of `items`: the marker is the index of the first item of the page.
pub fn paginate<T>(items: Vec<T>, query: &PageQuery) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match &query.marker {
        None => 0,
        Some(marker) => marker
            .parse::<usize>()
            .ok()
            .filter(|&start| start <= items.len())
            .ok_or_else(|| ApiError::invalid_parameter(format!("Invalid marker: {marker}")))?,
    };
    let size = match query.max_items {
        Some(0) => {
            return Err(ApiError::validation(
                "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1",
            ));
        }
        Some(max) => (max as usize).min(MAX_PAGE),
        None => MAX_PAGE,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    let page = items.into_iter().skip(start).take(end - start).collect();
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_markers() {
        let query = PageQuery {
            max_items: Some(2),
            ..PageQuery::default()
        };
        let (page, next) = paginate(vec![1, 2, 3], &query).unwrap();
        assert_eq!(page, vec![1, 2]);
        assert_eq!(next.as_deref(), Some("2"));
        let query = PageQuery {
            marker: next,
            max_items: Some(2),
            ..PageQuery::default()
        };
        let (page, next) = paginate(vec![1, 2, 3], &query).unwrap();
        assert_eq!(page, vec![3]);
        assert_eq!(next, None);
    }

    #[test]
    fn bad_marker_is_rejected() {
        let query = PageQuery {
            marker: Some("x".to_owned()),
            ..PageQuery::default()
        };
        assert!(paginate(vec![1], &query).is_err());
    }

    #[test]
    fn empty_body_parses_as_empty_object() {
        let value: serde_json::Value = parse_body(b"").unwrap();
        assert_eq!(value, serde_json::json!({}));
        let error = parse_body::<serde_json::Value>(b"{not json").unwrap_err();
        assert_eq!(error.code, "InvalidRequestContentException");
    }
}
