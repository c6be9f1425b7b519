//! Names the tuning that holds a function's lock, for the error of a second
//! tuning of the same function.

use temporalio_client::{Client, UntypedWorkflow, WorkflowDescribeOptions};

/// Returns the id of the workflow that started the lock workflow
/// `lock_workflow_id`, or `None` when the lock has no parent or is gone.
pub async fn lock_owner(client: &Client, lock_workflow_id: &str) -> Option<String> {
    let handle = client.get_workflow_handle::<UntypedWorkflow>(lock_workflow_id.to_owned());
    let description = match handle.describe(WorkflowDescribeOptions::default()).await {
        Ok(description) => description,
        Err(error) => {
            tracing::warn!(lock = lock_workflow_id, error = %error, "could not describe the lock workflow");
            return None;
        }
    };
    description
        .raw_description
        .workflow_execution_info
        .and_then(|info| info.parent_execution)
        .map(|parent| parent.workflow_id)
}
