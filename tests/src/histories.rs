//! Workflow histories for determinism checks.
//!
//! Every end-to-end run is replayed against the current workflow code right
//! after it ends. With `POWERTUNE_RECORD_HISTORIES=DIR` set, its history is
//! also saved to `DIR/<workflow id>.json`. The `replay` test replays the
//! histories committed under `tests/histories/`, so a change that would break
//! running workflows fails the build.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use powertune_workflows::{FunctionLockWorkflow, PowerTuningWorkflow};
use temporalio_client::{Client, UntypedWorkflow, WorkflowFetchHistoryOptions, WorkflowHistory};
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

/// Folder of the committed histories.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("histories")
}

/// Builds a replayer with every workflow type the worker registers.
pub fn replayer() -> Result<WorkflowReplayer> {
    let options = WorkflowReplayerOptions::new()
        .register_workflow::<PowerTuningWorkflow>()?
        .register_workflow::<FunctionLockWorkflow>()?
        .build();
    Ok(WorkflowReplayer::new(options)?)
}

/// Replays the history of `workflow_id` and saves it when recording is on.
pub async fn check_and_record(client: &Client, workflow_id: &str) -> Result<()> {
    let handle = client.get_workflow_handle::<UntypedWorkflow>(workflow_id.to_owned());
    let json = handle
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .context("failed to fetch the history")?;

    replayer()?
        .replay_workflow(WorkflowHistory::from_json(&json)?)
        .await
        .with_context(|| format!("replay of {workflow_id} failed"))?;

    if let Some(dir) = std::env::var_os("POWERTUNE_RECORD_HISTORIES") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        let file_name = workflow_id.replace(['/', ':'], "_");
        std::fs::write(dir.join(format!("{file_name}.json")), json)?;
    }
    Ok(())
}
