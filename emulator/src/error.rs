//! Errors: [`ApiError`] is an AWS-shaped error response of the Lambda API, [`EmulatorError`] a
//! failure to start or configure the emulator.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Failure to start or configure the emulator.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("failed to bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to read functions file {}: {source}", path.display())]
    ReadFunctionsFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid functions file {}: {source}", path.display())]
    ParseFunctionsFile {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("invalid function `{name}`: {reason}")]
    InvalidFunction { name: String, reason: String },
    #[error("function `{name}` already exists")]
    FunctionExists { name: String },
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },
}

/// Error response of the Lambda API: status, `x-amzn-ErrorType` and JSON body as AWS sends them.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `Reason` member of `TooManyRequestsException`.
    pub reason: Option<&'static str>,
    /// Whether the body spells the key `Message` (ResourceNotFound, Service) or `message`.
    capital_message: bool,
    /// Whether the body carries `"Type":"User"`; front-end validation errors do not.
    user_type: bool,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            reason: None,
            capital_message: false,
            user_type: true,
        }
    }

    /// 404 `ResourceNotFoundException`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            capital_message: true,
            ..Self::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
        }
    }

    /// 404 for a function, version or alias addressed by `arn`.
    pub fn function_not_found(arn: &str) -> Self {
        Self::not_found(format!("Function not found: {arn}"))
    }

    /// 409 `ResourceConflictException`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "ResourceConflictException", message)
    }

    /// 409 for an operation attempted while an update of `arn` is in progress.
    pub fn update_in_progress(arn: &str) -> Self {
        Self::conflict(format!(
            "The operation cannot be performed at this time. An update is in progress for resource: {arn}"
        ))
    }

    /// 409 for an operation on a function or version that is still `Pending`.
    pub fn pending() -> Self {
        Self::conflict(
            "The operation cannot be performed at this time. The function is currently in the following state: Pending",
        )
    }

    /// 400 `InvalidParameterValueException`.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            message,
        )
    }

    /// 400 `InvalidRequestContentException` for a body that is not valid JSON of the expected shape.
    pub fn invalid_content(detail: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            format!("Could not parse request body into json: {detail}"),
        )
    }

    /// 400 `ValidationException` as the API front end sends it, without `Type`.
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError {
            user_type: false,
            ..Self::new(StatusCode::BAD_REQUEST, "ValidationException", message)
        }
    }

    /// 412 `PreconditionFailedException` for a stale `RevisionId`.
    pub fn revision_mismatch() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )
    }

    /// 413 `RequestTooLargeException`.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            message,
        )
    }

    /// 429 `TooManyRequestsException` with its `Reason`.
    pub fn throttled(reason: &'static str) -> Self {
        let message = if reason == "CallerRateLimitExceeded" {
            "Rate exceeded"
        } else {
            "Rate Exceeded."
        };
        ApiError {
            reason: Some(reason),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                message,
            )
        }
    }

    /// 500 `ServiceException`.
    pub fn service(message: impl Into<String>) -> Self {
        ApiError {
            capital_message: true,
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                message,
            )
        }
    }

    /// 404 `UnknownOperationException` for a path the emulator does not serve.
    pub fn unknown_operation() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            "Unknown operation",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message_key = if self.capital_message {
            "Message"
        } else {
            "message"
        };
        let mut body = json!({ message_key: self.message });
        if self.user_type {
            body["Type"] = json!("User");
        }
        if let Some(reason) = self.reason {
            body["Reason"] = json!(reason);
        }

        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        if self.reason.is_some() {
            headers.insert("Retry-After", HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: ApiError) -> (Response, serde_json::Value) {
        let response = error.into_response();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 16).await.unwrap();
        (
            Response::from_parts(parts, axum::body::Body::empty()),
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    #[tokio::test]
    async fn throttle_body_carries_reason() {
        let (response, body) = body_of(ApiError::throttled(
            "ReservedFunctionConcurrentInvocationLimitExceeded",
        ))
        .await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response.headers()["x-amzn-ErrorType"],
            "TooManyRequestsException"
        );
        assert_eq!(
            body["Reason"],
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        );
        assert_eq!(body["Type"], "User");
        assert_eq!(body["message"], "Rate Exceeded.");
    }

    #[tokio::test]
    async fn not_found_uses_capital_message() {
        let (_, body) = body_of(ApiError::function_not_found("arn:x")).await;
        assert_eq!(body["Message"], "Function not found: arn:x");
    }

    #[tokio::test]
    async fn validation_has_no_type() {
        let (_, body) = body_of(ApiError::validation("bad")).await;
        assert!(body.get("Type").is_none());
    }
}
