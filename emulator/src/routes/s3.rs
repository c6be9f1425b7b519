//! S3 `GetObject` in path style (`GET /{bucket}/{key}`), serving files from `--s3-dir`
//! (`DIR/bucket/key`), with S3's XML errors. Every other unmatched request gets Lambda's
//! `UnknownOperationException`.

use std::path::{Component, PathBuf};

use axum::body::Body;
use axum::extract::{Extension, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::{Label, RequestId};
use crate::error::ApiError;
use crate::state::SharedState;

/// Fallback handler: `GetObject` for GET requests, `UnknownOperationException` otherwise.
pub async fn get_object(
    State(state): State<SharedState>,
    Extension(label): Extension<Label>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    request: Request,
) -> Response {
    if request.method() != Method::GET {
        label.set("Unknown", "", None);
        return ApiError::unknown_operation().into_response();
    }
    let api_prefixes = [
        "/2015-03-31/",
        "/2017-10-31/",
        "/2019-09-30/",
        "/_emulator/",
    ];
    if api_prefixes
        .iter()
        .any(|prefix| request.uri().path().starts_with(prefix))
    {
        label.set("Unknown", "", None);
        return ApiError::unknown_operation().into_response();
    }
    let raw_path = request.uri().path().trim_start_matches('/').to_owned();
    let (bucket, key) = raw_path.split_once('/').unwrap_or((raw_path.as_str(), ""));
    let bucket = decode(bucket);
    let key = decode(key);
    label.set("GetObject", &bucket, Some(&key));

    // No S3 folder configured, and a bucket that is not a folder in it, are
    // the same missing bucket.
    let bucket_dir = state
        .settings()
        .s3_dir
        .clone()
        .and_then(|root| safe_join(root, &bucket))
        .filter(|dir| !bucket.is_empty() && dir.is_dir());
    let Some(bucket_dir) = bucket_dir else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
            &bucket,
            &request_id,
        );
    };
    let object = safe_join(bucket_dir, &key).filter(|path| !key.is_empty() && path.is_file());
    let Some(object) = object else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
            &key,
            &request_id,
        );
    };
    match tokio::fs::read(&object).await {
        Ok(bytes) => object_response(bytes, &request_id),
        Err(error) => {
            tracing::warn!(path = %object.display(), %error, "failed to read S3 object");
            s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
                &key,
                &request_id,
            )
        }
    }
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// Joins a bucket or key below `root`, refusing `..`, absolute paths and other escapes.
fn safe_join(root: PathBuf, relative: &str) -> Option<PathBuf> {
    let mut path = root;
    for component in std::path::Path::new(relative).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(path)
}

fn object_response(bytes: Vec<u8>, request_id: &str) -> Response {
    let etag = format!(
        "\"{}\"",
        base64::engine::general_purpose::STANDARD.encode(&Sha256::digest(&bytes)[..16])
    );
    let length = bytes.len();
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amz-request-id", value);
    }
    response
}

fn s3_error(
    status: StatusCode,
    code: &str,
    message: &str,
    resource: &str,
    request_id: &str,
) -> Response {
    let element = if code == "NoSuchBucket" {
        "BucketName"
    } else {
        "Key"
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><{element}>{}</{element}><RequestId>{request_id}</RequestId></Error>",
        escape_xml(resource)
    );
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amz-request-id", value);
    }
    response
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_join_rejects_escapes() {
        let root = PathBuf::from("/data");
        assert_eq!(
            safe_join(root.clone(), "a/b.json"),
            Some(PathBuf::from("/data/a/b.json"))
        );
        assert_eq!(safe_join(root.clone(), "../etc/passwd"), None);
        assert_eq!(safe_join(root, "/etc/passwd"), None);
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(escape_xml("a<b>&\""), "a&lt;b&gt;&amp;&quot;");
    }
}
