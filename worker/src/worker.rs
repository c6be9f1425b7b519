//! `powertune worker`: polls a task queue and runs the PowerTuning workflow and
//! its activities until SIGINT or SIGTERM.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use powertune_activities::allow_list::AllowList;
use powertune_activities::aws::{AwsClients, DEFAULT_MAX_ATTEMPTS};
use powertune_activities::{ActivitiesConfig, PowerTuningActivities};
use powertune_workflows::{FunctionLockWorkflow, PowerTuningWorkflow};
use temporalio_sdk::runtime::RuntimeOptions;
use temporalio_sdk::runtime::worker_tuner::{FixedSizeSlotSupplier, TunerHolder};
use temporalio_sdk::{Runtime, Worker, WorkerOptions, WorkerRunError, WorkerValidationError};
use tokio::signal::unix::{SignalKind, signal};

use crate::connection::{self, ConnectionArgs};
use crate::power_values::parse_power_value;

/// Task queue that the worker polls and `tune` starts workflows on, unless `--task-queue` names another.
pub const DEFAULT_TASK_QUEUE: &str = "power-tuning";

/// Time in-flight tasks get to finish after a shutdown signal; activities
/// still running afterwards are cancelled and retried by another worker.
const GRACEFUL_SHUTDOWN_PERIOD: Duration = Duration::from_secs(10);

/// Workflow task slots. Workflow tasks are short, so this is not a user setting.
const WORKFLOW_TASK_SLOTS: usize = 100;

#[derive(Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Task queue to poll
    #[arg(long, env = "POWERTUNE_TASK_QUEUE", default_value = DEFAULT_TASK_QUEUE)]
    pub task_queue: String,

    /// Memory sizes in MB (128..=10240, comma-separated) tuned when a run's
    /// input leaves `powerValues` out
    #[arg(
        long,
        env = "POWERTUNE_DEFAULT_POWER_VALUES",
        value_name = "MB,...",
        value_delimiter = ',',
        default_value = "128,256,512,1024,1536,3008",
        value_parser = parse_power_value,
    )]
    pub default_power_values: Vec<u32>,

    /// Function ARN pattern this worker may tune, with IAM-style `*` and `?`
    /// wildcards. Repeat the flag for several patterns, or separate them with
    /// commas in the environment variable [default: every function]
    #[arg(
        long = "allow-function",
        env = "POWERTUNE_ALLOW_FUNCTIONS",
        value_name = "PATTERN",
        value_delimiter = ','
    )]
    pub allow_functions: Vec<String>,

    /// Activities this worker runs at the same time
    #[arg(
        long,
        env = "POWERTUNE_MAX_CONCURRENT_ACTIVITIES",
        value_name = "N",
        default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..),
    )]
    pub max_concurrent_activities: u32,

    /// Attempts of one AWS call inside an activity before the activity fails
    /// and its Temporal retry policy takes over. Throttling, 5xx errors and
    /// update conflicts are retried with exponential backoff of up to 5 s
    #[arg(
        long,
        env = "POWERTUNE_AWS_MAX_ATTEMPTS",
        value_name = "N",
        default_value_t = DEFAULT_MAX_ATTEMPTS,
        value_parser = clap::value_parser!(u32).range(1..),
    )]
    pub aws_max_attempts: u32,
}

/// Runs the worker until a shutdown signal arrives and in-flight tasks drain.
pub async fn run(args: WorkerArgs) -> Result<()> {
    let allow_list = AllowList::new(args.allow_functions.clone())?;
    let resolved = args.connection.resolve()?;
    let address = resolved.address();
    let namespace = resolved.namespace.clone();

    tracing::info!(
        %address,
        %namespace,
        task_queue = %args.task_queue,
        tls = resolved.tls(),
        api_key = resolved.has_api_key(),
        allow_list = ?args.allow_functions,
        default_power_values = ?args.default_power_values,
        max_concurrent_activities = args.max_concurrent_activities,
        "starting powertune worker",
    );
    if args.allow_functions.is_empty() {
        tracing::warn!(
            "no --allow-function pattern is set, so this worker tunes any function its AWS credentials reach"
        );
    }

    let client = resolved.connect().await?;
    let aws = AwsClients::from_env()
        .await
        .with_max_attempts(args.aws_max_attempts);
    let activities = PowerTuningActivities::new(
        aws,
        ActivitiesConfig {
            default_power_values: args.default_power_values,
            allow_list,
        },
    );

    let runtime = Runtime::from_current_tokio(RuntimeOptions::default())
        .context("failed to start the Temporal runtime")?;
    let options = WorkerOptions::new(args.task_queue.clone())
        .register_workflow::<PowerTuningWorkflow>()
        .context("failed to register the PowerTuning workflow")?
        .register_workflow::<FunctionLockWorkflow>()
        .context("failed to register the PowerTuningFunctionLock workflow")?
        .register_activities(activities)
        .tuner(tuner(args.max_concurrent_activities))
        .graceful_shutdown_period(GRACEFUL_SHUTDOWN_PERIOD)
        .build();
    let mut worker =
        Worker::new(&runtime, client, options).context("failed to create the Temporal worker")?;

    let shutdown = worker.shutdown_handle();
    let signals = tokio::spawn(async move {
        match shutdown_signal().await {
            Ok(name) => tracing::info!(
                signal = name,
                "shutdown requested, finishing in-flight tasks"
            ),
            Err(error) => {
                tracing::error!(%error, "failed to listen for shutdown signals, shutting down")
            }
        }
        shutdown();
    });

    tracing::info!(task_queue = %args.task_queue, "worker started");
    // NOTE: `Worker::run` is not Send, so it runs on this task instead of a spawned one.
    let result = worker.run().await;
    signals.abort();

    result.map_err(|error| run_error(error, &namespace, &address))?;
    tracing::info!("worker stopped");
    Ok(())
}

fn tuner(max_concurrent_activities: u32) -> TunerHolder {
    let activity_slots = max_concurrent_activities as usize;
    TunerHolder::builder()
        .workflow_task_slot_supplier(FixedSizeSlotSupplier::new(WORKFLOW_TASK_SLOTS))
        .activity_task_slot_supplier(FixedSizeSlotSupplier::new(activity_slots))
        .local_activity_task_slot_supplier(FixedSizeSlotSupplier::new(activity_slots))
        .nexus_task_slot_supplier(FixedSizeSlotSupplier::new(1))
        .build()
}

/// Waits for SIGINT or SIGTERM and returns the signal's name.
async fn shutdown_signal() -> std::io::Result<&'static str> {
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.map(|()| "SIGINT"),
        _ = terminate.recv() => Ok("SIGTERM"),
    }
}

/// Turns a worker failure into a message that says what to change.
fn run_error(error: WorkerRunError, namespace: &str, address: &str) -> anyhow::Error {
    match error {
        WorkerRunError::Validation(WorkerValidationError::NamespaceDescribeError {
            source,
            ..
        }) if connection::is_namespace_not_found(&source) => {
            anyhow!(connection::namespace_not_found_message(namespace, address))
        }
        other => anyhow!(other).context(format!(
            "the worker for the Temporal server at {address} failed"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Command, env_twin, try_parse_isolated};

    fn parse(args: &[&str]) -> Result<WorkerArgs, clap::Error> {
        let cli = try_parse_isolated(&[&["worker"], args].concat())?;
        match cli.command {
            Command::Worker(args) => Ok(args),
            _ => unreachable!("the worker subcommand was parsed"),
        }
    }

    #[test]
    fn defaults_without_flags() {
        let args = parse(&[]).expect("no flags parse");

        assert_eq!(args.task_queue, "power-tuning");
        assert_eq!(
            args.default_power_values,
            vec![128, 256, 512, 1024, 1536, 3008]
        );
        assert!(args.allow_functions.is_empty());
        assert_eq!(args.max_concurrent_activities, 100);
        assert_eq!(args.connection.address, None);
        assert_eq!(args.connection.namespace, None);
    }

    #[test]
    fn flags_parse() {
        let args = parse(&[
            "--address",
            "127.0.0.1:7999",
            "--namespace",
            "tuning",
            "--task-queue",
            "tq",
            "--default-power-values",
            "256,1024",
            "--allow-function",
            "arn:aws:lambda:us-east-1:123456789012:function:a-*",
            "--allow-function",
            "arn:aws:lambda:us-east-1:123456789012:function:b",
            "--max-concurrent-activities",
            "8",
            "--tls",
        ])
        .expect("flags parse");

        assert_eq!(args.connection.address.as_deref(), Some("127.0.0.1:7999"));
        assert_eq!(args.connection.namespace.as_deref(), Some("tuning"));
        assert_eq!(args.connection.tls, Some(true));
        assert_eq!(args.task_queue, "tq");
        assert_eq!(args.default_power_values, vec![256, 1024]);
        assert_eq!(args.allow_functions.len(), 2);
        assert_eq!(args.max_concurrent_activities, 8);
    }

    #[test]
    fn tls_accepts_explicit_false() {
        let args = parse(&["--tls=false"]).expect("flags parse");

        assert_eq!(args.connection.tls, Some(false));
    }

    #[test]
    fn power_value_error_names_value() {
        let error = parse(&["--default-power-values", "128,96,512"])
            .err()
            .expect("96 MB is rejected");

        let message = error.to_string();
        assert!(
            message.contains("power value `96` is outside 128..=10240 MB"),
            "{message}"
        );
        assert!(message.contains("--default-power-values"), "{message}");
    }

    #[test]
    fn zero_concurrent_activities_rejected() {
        let error = parse(&["--max-concurrent-activities", "0"])
            .err()
            .expect("0 is rejected");

        assert!(
            error.to_string().contains("--max-concurrent-activities"),
            "{error}"
        );
    }

    #[test]
    fn environment_twins_declared() {
        let expected = [
            ("address", "TEMPORAL_ADDRESS"),
            ("namespace", "TEMPORAL_NAMESPACE"),
            ("api_key", "TEMPORAL_API_KEY"),
            ("tls", "TEMPORAL_TLS"),
            ("tls_cert_path", "TEMPORAL_TLS_CLIENT_CERT_PATH"),
            ("tls_key_path", "TEMPORAL_TLS_CLIENT_KEY_PATH"),
            ("tls_ca_path", "TEMPORAL_TLS_SERVER_CA_CERT_PATH"),
            ("tls_server_name", "TEMPORAL_TLS_SERVER_NAME"),
            ("profile", "TEMPORAL_PROFILE"),
            ("config_file", "TEMPORAL_CONFIG_FILE"),
            ("task_queue", "POWERTUNE_TASK_QUEUE"),
            ("default_power_values", "POWERTUNE_DEFAULT_POWER_VALUES"),
            ("allow_functions", "POWERTUNE_ALLOW_FUNCTIONS"),
            (
                "max_concurrent_activities",
                "POWERTUNE_MAX_CONCURRENT_ACTIVITIES",
            ),
        ];
        for (id, variable) in expected {
            assert_eq!(
                env_twin("worker", id).as_deref(),
                Some(variable),
                "environment twin of {id}"
            );
        }
    }

    #[test]
    fn tuner_limits_activities() {
        let tuner = tuner(7);

        let expected = temporalio_sdk::runtime::worker_tuner::SlotSupplier::from(
            FixedSizeSlotSupplier::new(7),
        );
        assert_eq!(
            format!("{:?}", tuner.activity_task_slot_supplier),
            format!("{expected:?}")
        );
    }
}
