//! One tuning per function at a time, with Temporal's own guarantee.
//!
//! A tuning starts a child workflow whose id is derived from the function ARN.
//! Temporal allows one running workflow per id, so a second tuning of the same
//! function fails to start that child, whatever workflow ids the users chose.
//! The child keeps the lock until its parent cancels it after cleanup. When the
//! parent closes any other way (terminated, timed out), the parent-close policy
//! terminates the child, so the lock is free again.

use std::time::Duration;

use powertune_activities::PowerTuningActivities;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::error::ChildWorkflowStartError;
use temporalio_sdk::{
    ActivityOptions, ApplicationFailure, ChildWorkflowOptions, ParentClosePolicy,
    StartChildWorkflowExecutionFailedCause, StartedChildWorkflow, TimerResult,
    WorkflowCancellationToken, WorkflowContext, WorkflowResult, WorkflowTermination,
};

/// Failure type of a tuning refused because another one is running.
pub const TUNING_ALREADY_RUNNING: &str = "TuningAlreadyRunning";

/// Pause between two attempts to take a busy lock with `waitForRunningTuning`.
const RETRY_INTERVAL: Duration = Duration::from_secs(10);

/// Workflow id of the lock of `function_arn`.
pub fn lock_workflow_id(function_arn: &str) -> String {
    format!("powertune-lock/{function_arn}")
}

/// The lock itself: a workflow that runs until it is cancelled.
#[workflow]
#[derive(Default)]
pub struct FunctionLockWorkflow;

#[workflow_methods]
impl FunctionLockWorkflow {
    /// Holds the lock of one function; `owner` is the tuning's workflow id.
    #[run(name = "PowerTuningFunctionLock")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, owner: String) -> WorkflowResult<String> {
        ctx.cancelled().await;
        Ok(owner)
    }
}

/// A held lock; [`FunctionLock::release`] frees it.
pub struct FunctionLock {
    child: StartedChildWorkflow<function_lock_workflow::Run>,
}

impl FunctionLock {
    pub fn release(self) {
        self.child.cancel("tuning finished".to_owned());
    }
}

/// Takes the lock of `function_arn`. When another tuning has it, this fails
/// at once with an error naming that tuning, or with `wait` retries until it is free.
pub async fn acquire<W>(
    ctx: &WorkflowContext<W>,
    function_arn: &str,
    wait: bool,
) -> WorkflowResult<FunctionLock> {
    let lock_id = lock_workflow_id(function_arn);
    let owner = ctx.info().workflow_id().to_owned();
    loop {
        let mut options = ChildWorkflowOptions::default();
        options.workflow_id = Some(lock_id.clone());
        options.parent_close_policy = ParentClosePolicy::Terminate;
        // Held through cleanup after a cancellation; released explicitly.
        options.cancellation_token = Some(WorkflowCancellationToken::new());
        match ctx
            .start_child_workflow(FunctionLockWorkflow::run, owner.clone(), options)
            .await
        {
            Ok(child) => return Ok(FunctionLock { child }),
            Err(ChildWorkflowStartError::StartFailed {
                cause: StartChildWorkflowExecutionFailedCause::WorkflowAlreadyExists,
                ..
            }) => {}
            Err(error) => {
                return Err(ApplicationFailure::builder(format!(
                    "could not take the tuning lock `{lock_id}`: {error}"
                ))
                .type_name("LockFailed".to_owned())
                .non_retryable(true)
                .build()
                .into());
            }
        }

        if !wait {
            let holder = ctx
                .execute_activity(
                    PowerTuningActivities::lock_owner,
                    lock_id.clone(),
                    ActivityOptions::start_to_close_timeout(Duration::from_secs(30)),
                )
                .await
                .unwrap_or_default();
            let holder = if holder.is_empty() {
                lock_id.clone()
            } else {
                holder
            };
            return Err(ApplicationFailure::builder(format!(
                "another tuning of `{function_arn}` is running: workflow `{holder}`; wait for it to end, cancel it, or start this one with \"waitForRunningTuning\": true"
            ))
            .type_name(TUNING_ALREADY_RUNNING.to_owned())
            .non_retryable(true)
            .build()
            .into());
        }
        if ctx.timer(RETRY_INTERVAL).await == TimerResult::Cancelled {
            return Err(WorkflowTermination::cancelled());
        }
    }
}
