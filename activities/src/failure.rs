//! The ways an activity fails, and how each becomes a Temporal failure.
//!
//! Every failure carries a stable type name (the `type` of the Temporal
//! `ApplicationFailure`) and decides its own retryability. Throttling, server
//! errors, conflicts and function errors are retried by the activity's retry
//! policy. Bad input, a missing function, denied access and a rejected request
//! fail at once.

use temporalio_sdk::ApplicationFailure;
use temporalio_sdk::activities::ActivityError;

use crate::allow_list::AllowListError;
use crate::aws::{AwsFailure, ErrorClass};
use crate::input::InputError;
use crate::report::ReportError;

/// Failure types the workflow treats as final, whatever the retry policy allows.
pub const NON_RETRYABLE_TYPES: &[&str] = &[
    "InvalidInput",
    "FunctionNotAllowed",
    "FunctionNotFound",
    "AccessDenied",
    "AwsRequestRejected",
    "AliasExists",
    "MissingReport",
];

#[derive(Debug, thiserror::Error)]
pub enum TuningError {
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InputError),

    #[error("{0}")]
    NotAllowed(#[from] AllowListError),

    #[error("function `{function}` was not found or cannot be read: {source}")]
    FunctionNotFound {
        function: String,
        #[source]
        source: AwsFailure,
    },

    #[error("the worker's AWS credentials may not call {}: {source}", source.operation)]
    AccessDenied {
        #[source]
        source: AwsFailure,
    },

    #[error("{source} (resource `{resource}`)")]
    Aws {
        resource: String,
        #[source]
        source: AwsFailure,
    },

    #[error(
        "alias `{alias}` already exists on `{function}`; powertune creates and deletes aliases named RAM<memory>, so rename or delete that alias and start again"
    )]
    AliasExists { function: String, alias: String },

    #[error("invocation of `{target}` failed with {error_type}: {message}")]
    FunctionError {
        target: String,
        error_type: String,
        message: String,
    },

    #[error("invocation of `{target}` returned no usable REPORT line: {source}")]
    MissingReport {
        target: String,
        #[source]
        source: ReportError,
    },

    #[error("{processor} `{function}` failed with {error_type}: {message}")]
    ProcessorError {
        processor: &'static str,
        function: String,
        error_type: String,
        message: String,
    },

    #[error("{0}")]
    Other(String),
}

impl TuningError {
    /// Wraps an AWS failure on `resource`, keeping not-found and
    /// access-denied apart because they need a different fix.
    pub fn aws(resource: impl Into<String>, source: AwsFailure) -> Self {
        let resource = resource.into();
        match source.class {
            ErrorClass::NotFound => Self::FunctionNotFound {
                function: resource,
                source,
            },
            ErrorClass::AccessDenied => Self::AccessDenied { source },
            _ => Self::Aws { resource, source },
        }
    }

    /// Stable type name of the Temporal failure.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "InvalidInput",
            Self::NotAllowed(_) => "FunctionNotAllowed",
            Self::FunctionNotFound { .. } => "FunctionNotFound",
            Self::AccessDenied { .. } => "AccessDenied",
            Self::Aws { source, .. } if source.class == ErrorClass::Retryable => "AwsError",
            Self::Aws { .. } => "AwsRequestRejected",
            Self::AliasExists { .. } => "AliasExists",
            Self::FunctionError { .. } => "FunctionError",
            Self::MissingReport { .. } => "MissingReport",
            Self::ProcessorError { .. } => "ProcessorError",
            Self::Other(_) => "TuningError",
        }
    }

    pub fn is_retryable(&self) -> bool {
        !NON_RETRYABLE_TYPES.contains(&self.type_name())
    }

    /// Converts into the Temporal failure, with the type name and
    /// retryability above. (The SDK's blanket `From` impl would drop both.)
    pub fn into_activity_error(self) -> ActivityError {
        let type_name = self.type_name().to_owned();
        let non_retryable = !self.is_retryable();
        ActivityError::application(
            ApplicationFailure::builder(self.to_string())
                .type_name(type_name)
                .non_retryable(non_retryable)
                .build(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(class: ErrorClass) -> AwsFailure {
        AwsFailure {
            operation: "GetFunctionConfiguration",
            class,
            code: Some("X".into()),
            message: "m".into(),
        }
    }

    #[test]
    fn not_found_aws_error_is_final() {
        let error = TuningError::aws("fn", failure(ErrorClass::NotFound));

        assert_eq!(error.type_name(), "FunctionNotFound");
        assert!(!error.is_retryable());
    }

    #[test]
    fn throttled_aws_error_is_retryable() {
        let error = TuningError::aws("fn", failure(ErrorClass::Retryable));

        assert_eq!(error.type_name(), "AwsError");
        assert!(error.is_retryable());
    }

    #[test]
    fn function_error_is_retryable() {
        let error = TuningError::FunctionError {
            target: "fn:RAM128".into(),
            error_type: "Boom".into(),
            message: "boom".into(),
        };

        assert!(error.is_retryable());
    }
}
