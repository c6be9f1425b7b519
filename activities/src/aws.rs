//! AWS clients and the retry rules shared by every activity.
//!
//! One `aws-sdk-lambda` client per region, built once from the standard AWS
//! configuration chain (profiles, environment, `AWS_ENDPOINT_URL_LAMBDA`) and
//! reused. The SDK's own retries are disabled: [`with_retries`] retries
//! throttling, server errors and update conflicts itself, so that every retry
//! is counted and reported in the run's output.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;

/// Maximum pause between two attempts of one AWS call.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// First pause after a failed attempt; it doubles on every further attempt.
const INITIAL_BACKOFF: Duration = Duration::from_millis(200);

/// Attempts of one AWS call before the activity gives up and lets the
/// Temporal retry policy take over (about 20 s of backoff in total).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// AWS clients, one per region, shared by all activities of a worker.
pub struct AwsClients {
    base: SdkConfig,
    max_attempts: u32,
    lambda: Mutex<HashMap<String, aws_sdk_lambda::Client>>,
    s3: Mutex<HashMap<String, aws_sdk_s3::Client>>,
}

impl AwsClients {
    /// Loads the AWS configuration from the standard chain.
    pub async fn from_env() -> Self {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::disabled())
            .load()
            .await;
        Self::new(base)
    }

    pub fn new(base: SdkConfig) -> Self {
        Self {
            base,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            lambda: Mutex::new(HashMap::new()),
            s3: Mutex::new(HashMap::new()),
        }
    }

    /// Sets how many times one AWS call is attempted inside an activity.
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Attempts of one AWS call inside an activity.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Returns a retry counter for one activity attempt.
    pub fn retry_counter(&self) -> RetryCounter {
        RetryCounter::new(0, self.max_attempts)
    }

    /// Returns the Lambda client of `region`, building it on first use.
    pub fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        let mut clients = self.lambda.lock().expect("lambda client cache poisoned");
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let config = aws_sdk_lambda::config::Builder::from(&self.base)
                    .region(Region::new(region.to_owned()))
                    .retry_config(RetryConfig::disabled())
                    .build();
                aws_sdk_lambda::Client::from_conf(config)
            })
            .clone()
    }

    /// Returns the S3 client of `region`. Path-style addressing is used when
    /// an endpoint override is set, because an emulator or a private endpoint
    /// on an IP address has no per-bucket host names.
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let mut clients = self.s3.lock().expect("s3 client cache poisoned");
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let endpoint_overridden = std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
                    || std::env::var_os("AWS_ENDPOINT_URL").is_some();
                let config = aws_sdk_s3::config::Builder::from(&self.base)
                    .region(Region::new(region.to_owned()))
                    .force_path_style(endpoint_overridden)
                    .build();
                aws_sdk_s3::Client::from_conf(config)
            })
            .clone()
    }
}

/// Handling class of an AWS error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Throttling, 5xx, network failures and update conflicts: worth another try.
    Retryable,
    /// The resource does not exist.
    NotFound,
    /// The credentials may not perform the call.
    AccessDenied,
    /// The request itself was rejected, so another try gets the same error.
    Rejected,
}

/// An AWS call that failed, with the cause as AWS gave it.
#[derive(Debug, Clone)]
pub struct AwsFailure {
    pub operation: &'static str,
    pub class: ErrorClass,
    /// AWS error code, such as `ResourceConflictException`, when there is one.
    pub code: Option<String>,
    pub message: String,
}

impl std::fmt::Display for AwsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} failed: {code}: {}", self.operation, self.message),
            None => write!(f, "{} failed: {}", self.operation, self.message),
        }
    }
}

impl std::error::Error for AwsFailure {}

/// Classifies an SDK error and keeps its code and message.
pub fn describe<E, R>(operation: &'static str, error: &SdkError<E, R>) -> AwsFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (class, code, message) = match error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = err.code().map(str::to_owned);
            let message = err.message().unwrap_or_default().to_owned();
            (classify_code(code.as_deref(), &message), code, message)
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => (
            ErrorClass::Retryable,
            None,
            DisplayErrorContext(error).to_string(),
        ),
        _ => (
            ErrorClass::Rejected,
            None,
            DisplayErrorContext(error).to_string(),
        ),
    };
    AwsFailure {
        operation,
        class,
        code,
        message,
    }
}

fn classify_code(code: Option<&str>, message: &str) -> ErrorClass {
    match code.unwrap_or_default() {
        "TooManyRequestsException"
        | "ThrottlingException"
        | "Throttling"
        | "RequestLimitExceeded"
        | "ServiceException"
        | "ServiceUnavailableException"
        | "InternalError"
        | "SlowDown"
        | "EC2ThrottledException"
        | "ResourceNotReadyException" => ErrorClass::Retryable,
        "ResourceConflictException" if is_transient_conflict(message) => ErrorClass::Retryable,
        "ResourceNotFoundException" | "NoSuchKey" | "NoSuchBucket" | "NotFound" => {
            ErrorClass::NotFound
        }
        "AccessDeniedException"
        | "AccessDenied"
        | "UnrecognizedClientException"
        | "InvalidSignatureException" => ErrorClass::AccessDenied,
        _ => ErrorClass::Rejected,
    }
}

/// Conflicts that end by themselves: an update in progress, or a function or
/// version that is still `Pending`.
fn is_transient_conflict(message: &str) -> bool {
    message.contains("in progress") || message.contains("Pending") || message.contains("not ready")
}

/// Counts the retries of one activity, across concurrent invocations, and
/// carries the attempt limit of each AWS call.
#[derive(Debug)]
pub struct RetryCounter {
    count: AtomicU32,
    max_attempts: u32,
}

impl Default for RetryCounter {
    fn default() -> Self {
        Self::new(0, DEFAULT_MAX_ATTEMPTS)
    }
}

impl RetryCounter {
    pub fn new(start: u32, max_attempts: u32) -> Self {
        Self {
            count: AtomicU32::new(start),
            max_attempts,
        }
    }

    pub fn get(&self) -> u32 {
        self.count.load(Ordering::Relaxed)
    }

    fn add(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Runs `call` until it succeeds, fails with an error that another attempt
/// cannot fix, or has failed as many times as `retries` allows. Backoff is exponential
/// with full jitter, capped at [`MAX_BACKOFF`].
pub async fn with_retries<T, E, R, F, Fut>(
    operation: &'static str,
    retries: &RetryCounter,
    mut call: F,
) -> Result<T, AwsFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let mut attempt = 1;
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => describe(operation, &error),
        };
        if error.class != ErrorClass::Retryable || attempt >= retries.max_attempts {
            return Err(error);
        }

        let delay = backoff(attempt);
        tracing::warn!(operation, attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying AWS call");
        retries.add();
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

fn backoff(attempt: u32) -> Duration {
    let ceiling = INITIAL_BACKOFF
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    // Full jitter keeps concurrent executors from retrying in lockstep.
    ceiling.mul_f64(0.5 + rand_fraction() * 0.5)
}

/// Returns a fraction in [0, 1) from the clock. It is good enough for jitter
/// and for nothing else.
fn rand_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    f64::from(nanos % 1_000) / 1_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_retryable() {
        assert_eq!(
            classify_code(Some("TooManyRequestsException"), ""),
            ErrorClass::Retryable
        );
        assert_eq!(
            classify_code(Some("ServiceException"), ""),
            ErrorClass::Retryable
        );
    }

    #[test]
    fn update_in_progress_conflict_is_retryable() {
        let message = "The operation cannot be performed at this time. An update is in progress for resource: arn";
        assert_eq!(
            classify_code(Some("ResourceConflictException"), message),
            ErrorClass::Retryable
        );
    }

    #[test]
    fn alias_conflict_is_rejected() {
        let message =
            "Alias already exists: arn:aws:lambda:us-east-1:123456789012:function:fn:RAM128";
        assert_eq!(
            classify_code(Some("ResourceConflictException"), message),
            ErrorClass::Rejected
        );
    }

    #[test]
    fn missing_function_is_not_found() {
        assert_eq!(
            classify_code(Some("ResourceNotFoundException"), ""),
            ErrorClass::NotFound
        );
        assert_eq!(
            classify_code(Some("AccessDeniedException"), ""),
            ErrorClass::AccessDenied
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= INITIAL_BACKOFF);
        assert!(backoff(3) <= INITIAL_BACKOFF * 4);
        assert!(backoff(3) >= INITIAL_BACKOFF * 2);
        assert!(backoff(30) <= MAX_BACKOFF);
    }
}
