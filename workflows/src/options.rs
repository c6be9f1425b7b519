//! Timeouts and retry policies of each activity.
//!
//! Retries are at least as strong as the original state machine's (executor:
//! 3 attempts, 3 s initial interval). Failure types that no retry can fix are
//! listed as non-retryable, so bad input fails the run at once. Timeouts
//! derive from the function's own timeout, `num` and the invocation mode.

use std::time::Duration;

use powertune_activities::failure::NON_RETRYABLE_TYPES;
use powertune_proto::v1::ExecutorInput;
use temporalio_common::RetryPolicy;
use temporalio_sdk::{ActivityCancellationType, ActivityOptions, WorkflowCancellationToken};

/// Heartbeat timeout of the executor. It sends a heartbeat every 2 s, and the
/// SDK forwards one per 80 % of this timeout, so a cancellation reaches a
/// running executor within about 8 s.
const EXECUTOR_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

/// Heartbeat timeout of the control-plane activities, which heartbeat every
/// 2 s: a crashed worker's attempt is retried elsewhere after this long.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

/// Slack for AWS calls and waits around the invocations themselves.
const OVERHEAD: Duration = Duration::from_secs(120);

/// Maximum wait for a SnapStart version's snapshot (AWS's own waiter allows
/// about 26 minutes).
const SNAPSTART_WAIT: Duration = Duration::from_secs(30 * 60);

fn retry_policy(initial: Duration, maximum_attempts: u32) -> RetryPolicy {
    RetryPolicy::builder()
        .initial_interval(initial)
        .backoff_coefficient(2.0)
        .maximum_interval(Duration::from_secs(60))
        .maximum_attempts(maximum_attempts)
        .non_retryable_error_types(
            NON_RETRYABLE_TYPES
                .iter()
                .map(|name| (*name).to_owned())
                .collect::<Vec<_>>(),
        )
        .build()
}

pub fn initializer() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(120))
        .heartbeat_timeout(HEARTBEAT_TIMEOUT)
        .retry_policy(retry_policy(Duration::from_secs(1), 3))
        .build()
}

/// Publishing waits for the update and, with SnapStart, nothing else: the
/// executor waits for the version to become Active.
pub fn publisher(work: WorkflowCancellationToken) -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(16 * 60))
        .heartbeat_timeout(HEARTBEAT_TIMEOUT)
        .retry_policy(retry_policy(Duration::from_secs(2), 3))
        .cancellation_type(ActivityCancellationType::WaitCancellationCompleted)
        .cancellation_token(work)
        .build()
}

/// Returns the executor's options. Its timeout covers every invocation at the function's timeout,
/// in series or at once, plus the processors and the pauses between runs.
pub fn executor(input: &ExecutorInput, group: WorkflowCancellationToken) -> ActivityOptions {
    let function = input.function.clone().unwrap_or_default();
    let processors = 1
        + u32::from(!input.pre_processor_arn.is_empty())
        + u32::from(!input.post_processor_arn.is_empty());
    let one_invocation =
        Duration::from_secs(u64::from(function.timeout_seconds.max(1)) * u64::from(processors));
    let invocations = if input.parallel_invocation {
        one_invocation
    } else {
        one_invocation * input.num
            + Duration::from_millis(u64::from(input.sleep_between_runs_ms) * u64::from(input.num))
    };
    let snapstart = if function.snap_start {
        SNAPSTART_WAIT
    } else {
        Duration::ZERO
    };

    ActivityOptions::with_start_to_close_timeout(invocations + OVERHEAD + snapstart)
        .heartbeat_timeout(EXECUTOR_HEARTBEAT_TIMEOUT)
        .retry_policy(retry_policy(Duration::from_secs(3), 3))
        .cancellation_type(ActivityCancellationType::WaitCancellationCompleted)
        .cancellation_token(group)
        .build()
}

/// Returns the cleaner's options. It runs on a detached cancellation token, so it still runs after
/// the workflow was cancelled, and retries long enough to outlast throttling.
pub fn cleaner() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(16 * 60))
        .heartbeat_timeout(HEARTBEAT_TIMEOUT)
        .retry_policy(retry_policy(Duration::from_secs(2), 10))
        .cancellation_token(WorkflowCancellationToken::new())
        .build()
}

pub fn analyzer() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(60))
        .retry_policy(retry_policy(Duration::from_secs(1), 3))
        .build()
}

pub fn optimizer() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(16 * 60))
        .heartbeat_timeout(HEARTBEAT_TIMEOUT)
        .retry_policy(retry_policy(Duration::from_secs(3), 5))
        .build()
}
