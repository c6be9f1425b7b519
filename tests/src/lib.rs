//! The end-to-end harness: a real Temporal dev server, the Lambda emulator
//! and the `powertune worker` binary, started fresh for each test on
//! loopback ports.

pub mod env;
pub mod histories;
pub mod state;
pub mod summary;
pub mod temporal;
pub mod worker;

pub use env::{TestEnv, failure_message, sample_arn};
pub use state::FunctionState;
