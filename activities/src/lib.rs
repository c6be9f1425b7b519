//! The activities of the PowerTuning workflow.
//!
//! Every call to AWS lives here, one module per step (`initializer`,
//! `publisher`, `executor`, `cleaner`, `optimizer`), beside the pure pieces
//! they share: input validation, payload generation, `REPORT` log parsing,
//! statistics, prices, strategies and the chart link.

mod activities;
pub mod allow_list;
pub mod analysis;
pub mod arn;
pub mod aws;
pub mod cleaner;
pub mod executor;
pub mod failure;
pub mod initializer;
pub mod input;
pub mod lambda;
pub mod lock_owner;
pub mod optimizer;
pub mod payload;
pub mod pricing;
pub mod publisher;
pub mod report;
pub mod stats;
pub mod visualization;

pub use activities::{ActivitiesConfig, NO_DATA, PowerTuningActivities};
