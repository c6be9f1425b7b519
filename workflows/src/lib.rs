//! The PowerTuning workflow: deterministic orchestration only. Every call to
//! AWS is an activity from `powertune-activities`. This crate decides their
//! order, their options, and what happens when one fails or the run is
//! cancelled.

mod lock;
mod options;
mod power_tuning;

pub use lock::{FunctionLockWorkflow, TUNING_ALREADY_RUNNING, lock_workflow_id};
pub use power_tuning::{PowerTuningWorkflow, Progress, TUNING_FAILED};
