//! A local emulator of the AWS Lambda REST API (2015-03-31) for testing power tuning with the
//! real `aws-sdk-lambda` client.
//!
//! The emulator keeps functions, versions and aliases in memory, follows Lambda's update and
//! creation state machine, and serves Invoke from a performance model instead of running code.
//! Every invocation sleeps for its simulated duration (multiplied by the time scale) and returns
//! the log tail with the `REPORT` line Lambda would write. The formulas are in [`model`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), lambda_emulator::EmulatorError> {
//! let options = lambda_emulator::EmulatorOptions {
//!     samples: true,
//!     time_scale: 0.01,
//!     ..Default::default()
//! };
//! let emulator = lambda_emulator::start("127.0.0.1:0".parse().unwrap(), options).await?;
//! println!("Lambda endpoint: {}", emulator.url());
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod error;
pub mod faults;
pub mod function;
pub mod logs;
pub mod model;
pub mod names;
pub mod render;
mod routes;
pub mod samples;
pub mod spec;
pub mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use error::{ApiError, EmulatorError};
pub use faults::{FaultConfig, FaultRule};
pub use model::{Architecture, Profile};
pub use spec::{FunctionSpec, LogFormat};
pub use state::{FunctionStats, SharedState, Totals};

/// Options of an emulator; `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Multiplier of every sleep (invocations, update and pending delays, injected latency);
    /// logs still report simulated times. Default 1.0.
    pub time_scale: f64,
    /// Preloads the sample functions. Default false.
    pub samples: bool,
    /// TOML file with `[[function]]` tables to preload.
    pub functions_file: Option<PathBuf>,
    /// Folder served by S3 `GetObject` as `DIR/bucket/key`.
    pub s3_dir: Option<PathBuf>,
    /// Simulated time `LastUpdateStatus` stays `InProgress` after an update. Default 200 ms.
    pub update_delay: Duration,
    /// Simulated time a new function stays `Pending`. Default 200 ms.
    pub pending_delay: Duration,
    /// Simulated time a SnapStart version stays `Pending`. Default 2 s.
    pub snapstart_delay: Duration,
    /// Seed of the performance model's random number generator. Default 1.
    pub seed: u64,
    /// Per-function memory quota in MB; larger `MemorySize` values are rejected.
    pub memory_quota_mb: Option<u32>,
    /// Account concurrency limit; more concurrent invocations are throttled.
    pub account_concurrency: Option<u32>,
    /// Bills the init phase of cold starts, as Lambda does since August 2025. Default true.
    pub init_billed: bool,
    /// Fault injection rules in effect at start.
    pub faults: Option<FaultConfig>,
    /// Region in ARNs. Default `us-east-1`.
    pub region: String,
    /// Account id in ARNs. Default `123456789012`.
    pub account_id: String,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            time_scale: 1.0,
            samples: false,
            functions_file: None,
            s3_dir: None,
            update_delay: Duration::from_millis(200),
            pending_delay: Duration::from_millis(200),
            snapstart_delay: Duration::from_secs(2),
            seed: 1,
            memory_quota_mb: None,
            account_concurrency: None,
            init_billed: true,
            faults: None,
            region: "us-east-1".to_owned(),
            account_id: "123456789012".to_owned(),
        }
    }
}

/// Starts an emulator on `addr` (use port 0 for a free port) and returns once it accepts
/// connections.
pub async fn start(
    addr: SocketAddr,
    options: EmulatorOptions,
) -> Result<RunningEmulator, EmulatorError> {
    validate_options(&options)?;
    let faults = options.faults.clone().unwrap_or_default();
    faults
        .validate()
        .map_err(|reason| EmulatorError::InvalidOption {
            option: "faults",
            reason,
        })?;
    let settings = state::Settings {
        time_scale: options.time_scale,
        update_delay: options.update_delay,
        pending_delay: options.pending_delay,
        snapstart_delay: options.snapstart_delay,
        memory_quota_mb: options.memory_quota_mb,
        account_concurrency: options.account_concurrency,
        init_billed: options.init_billed,
        s3_dir: options.s3_dir.clone(),
        region: options.region.clone(),
        account_id: options.account_id.clone(),
    };
    let state = SharedState::new(settings, options.seed, faults);

    let mut specs = Vec::new();
    if options.samples {
        specs.extend(samples::sample_functions());
    }
    if let Some(path) = &options.functions_file {
        specs.extend(spec::load_functions_file(path)?);
    }
    for spec in specs {
        state.add_function(spec)?;
    }

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| EmulatorError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind { addr, source })?;
    let (shutdown_sender, shutdown_receiver) = oneshot::channel::<()>();
    let app = routes::router(state.clone());
    let server = tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = shutdown_receiver.await;
            })
            .await;
        if let Err(error) = result {
            tracing::error!(%error, "emulator server stopped");
        }
    });
    tracing::info!(addr = %bound, "lambda emulator started");

    Ok(RunningEmulator {
        addr: bound,
        state,
        shutdown: Some(shutdown_sender),
        server,
    })
}

fn validate_options(options: &EmulatorOptions) -> Result<(), EmulatorError> {
    let invalid = |option, reason: String| Err(EmulatorError::InvalidOption { option, reason });
    if !options.time_scale.is_finite() || options.time_scale < 0.0 {
        return invalid(
            "time_scale",
            format!(
                "{} is not a finite value >= 0; use for example 1.0 or 0.01",
                options.time_scale
            ),
        );
    }
    if let Some(quota) = options.memory_quota_mb
        && !(128..=10240).contains(&quota)
    {
        return invalid("memory_quota_mb", format!("{quota} is outside 128..=10240"));
    }
    let delays = [
        ("update_delay", options.update_delay),
        ("pending_delay", options.pending_delay),
        ("snapstart_delay", options.snapstart_delay),
    ];
    for (option, delay) in delays {
        if delay > Duration::from_secs(24 * 3600) {
            return invalid(option, format!("{delay:?} is longer than a day"));
        }
    }
    Ok(())
}

/// A running emulator; dropping it without [`RunningEmulator::shutdown`] leaves the server
/// running until the runtime stops.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    state: SharedState,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
}

impl RunningEmulator {
    /// Address the server is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Endpoint URL for SDK clients, e.g. `http://127.0.0.1:9001`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Handle on the emulator state.
    pub fn state(&self) -> SharedState {
        self.state.clone()
    }

    /// Counters of one function; `None` when no request ever named it.
    pub fn function_stats(&self, name: &str) -> Option<FunctionStats> {
        self.state.function_stats(name)
    }

    /// Totals over every function.
    pub fn totals(&self) -> Totals {
        self.state.totals()
    }

    /// Replaces the fault rules. Invalid rules (rates outside 0..=1, unknown operations) are
    /// logged and ignored; use [`SharedState::try_set_faults`] to get the error.
    pub fn set_faults(&self, faults: FaultConfig) {
        if let Err(error) = self.state.try_set_faults(faults) {
            tracing::warn!(%error, "ignored invalid fault rules");
        }
    }

    /// Adds an active function with a full profile.
    pub fn add_function(&self, spec: FunctionSpec) -> Result<(), EmulatorError> {
        self.state.add_function(spec)
    }

    /// Stops accepting connections and waits for open requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        let _ = (&mut self.server).await;
    }
}
