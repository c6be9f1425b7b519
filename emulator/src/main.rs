//! `lambda-emulator`: runs the Lambda API emulator until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use lambda_emulator::{EmulatorOptions, FaultConfig, FaultRule};

/// Local emulator of the AWS Lambda REST API with a performance model.
#[derive(Debug, Parser)]
#[command(name = "lambda-emulator", version)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9001", env = "LAMBDA_EMULATOR_LISTEN")]
    listen: SocketAddr,
    /// Multiplier of every simulated sleep, e.g. 0.01 to run 100 times faster; logs keep the
    /// simulated times.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Preload the sample functions (cpu-bound, io-bound, u-shaped, ...).
    #[arg(long)]
    samples: bool,
    /// TOML file with `[[function]]` tables to preload.
    #[arg(long, value_name = "FILE")]
    functions: Option<PathBuf>,
    /// Folder served by S3 GetObject as DIR/bucket/key.
    #[arg(long, value_name = "DIR")]
    s3_dir: Option<PathBuf>,
    /// Simulated time an update stays InProgress, ms.
    #[arg(long, default_value_t = 200)]
    update_delay_ms: u64,
    /// Simulated time a new function stays Pending, ms.
    #[arg(long, default_value_t = 200)]
    pending_delay_ms: u64,
    /// Simulated time a SnapStart version stays Pending, ms.
    #[arg(long, default_value_t = 2000)]
    snapstart_delay_ms: u64,
    /// Seed of the performance model's random number generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Per-function memory quota, MB (e.g. 3008 as on new accounts); no quota by default.
    #[arg(long)]
    memory_quota_mb: Option<u32>,
    /// Account concurrency limit; no limit by default.
    #[arg(long)]
    account_concurrency: Option<u32>,
    /// Do not bill the init phase of cold starts (Lambda billing before August 2025).
    #[arg(long)]
    no_init_billing: bool,
    /// Probability of a 429 TooManyRequestsException on every operation, 0..=1.
    #[arg(long, default_value_t = 0.0)]
    fault_throttle_rate: f64,
    /// Probability of a 500 ServiceException on every operation, 0..=1.
    #[arg(long, default_value_t = 0.0)]
    fault_server_error_rate: f64,
    /// Probability of a 409 ResourceConflictException on every operation, 0..=1.
    #[arg(long, default_value_t = 0.0)]
    fault_conflict_rate: f64,
    /// Simulated latency added to every operation, ms.
    #[arg(long, default_value_t = 0.0)]
    fault_latency_ms: f64,
    /// Restrict the fault flags to one operation, e.g. Invoke.
    #[arg(long)]
    fault_operation: Option<String>,
    /// Seed of the fault generator.
    #[arg(long, default_value_t = 1)]
    fault_seed: u64,
}

impl Cli {
    fn options(&self) -> EmulatorOptions {
        let any_fault = self.fault_throttle_rate > 0.0
            || self.fault_server_error_rate > 0.0
            || self.fault_conflict_rate > 0.0
            || self.fault_latency_ms > 0.0;
        let faults = any_fault.then(|| FaultConfig {
            seed: self.fault_seed,
            rules: vec![FaultRule {
                operation: self.fault_operation.clone(),
                function: None,
                throttle_rate: self.fault_throttle_rate,
                server_error_rate: self.fault_server_error_rate,
                conflict_rate: self.fault_conflict_rate,
                extra_latency_ms: self.fault_latency_ms,
            }],
        });
        EmulatorOptions {
            time_scale: self.time_scale,
            samples: self.samples,
            functions_file: self.functions.clone(),
            s3_dir: self.s3_dir.clone(),
            update_delay: Duration::from_millis(self.update_delay_ms),
            pending_delay: Duration::from_millis(self.pending_delay_ms),
            snapstart_delay: Duration::from_millis(self.snapstart_delay_ms),
            seed: self.seed,
            memory_quota_mb: self.memory_quota_mb,
            account_concurrency: self.account_concurrency,
            init_billed: !self.no_init_billing,
            faults,
            ..EmulatorOptions::default()
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();

    let emulator = lambda_emulator::start(cli.listen, cli.options())
        .await
        .context("failed to start the emulator")?;
    println!("lambda-emulator listening on {}", emulator.url());

    tokio::signal::ctrl_c()
        .await
        .context("failed to wait for Ctrl-C")?;
    tracing::info!("shutting down");
    emulator.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fault_flags_become_one_rule() {
        let cli = Cli::parse_from([
            "lambda-emulator",
            "--fault-throttle-rate",
            "0.2",
            "--fault-operation",
            "Invoke",
        ]);
        let faults = cli.options().faults.unwrap();
        assert_eq!(faults.rules.len(), 1);
        assert_eq!(faults.rules[0].operation.as_deref(), Some("Invoke"));
        assert_eq!(faults.rules[0].throttle_rate, 0.2);
    }

    #[test]
    fn defaults_match_library_defaults() {
        let options = Cli::parse_from(["lambda-emulator"]).options();
        let defaults = EmulatorOptions::default();
        assert_eq!(options.update_delay, defaults.update_delay);
        assert_eq!(options.time_scale, defaults.time_scale);
        assert!(options.init_billed);
        assert!(options.faults.is_none());
    }
}
