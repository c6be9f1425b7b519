//! One end-to-end environment per test: a Temporal dev server, the Lambda
//! emulator with its sample functions, and a `powertune worker` process on a
//! task queue of the test's own.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use lambda_emulator::{EmulatorOptions, FunctionSpec, RunningEmulator};
use powertune_proto::v1::PowerTuningOutput;
use powertune_workflows::PowerTuningWorkflow;
use temporalio_client::errors::WorkflowGetResultError;
use temporalio_client::{Client, WorkflowGetResultOptions, WorkflowHandle, WorkflowStartOptions};
use temporalio_common::data_converters::{PayloadConverter, RawValue};

use crate::state::FunctionState;
use crate::temporal::TemporalServer;
use crate::worker::WorkerProcess;

/// Account and region of the emulator's sample functions.
pub const SAMPLE_ARN_PREFIX: &str = "arn:aws:lambda:us-east-1:123456789012:function:";

/// Returns the ARN of the sample function `name`.
pub fn sample_arn(name: &str) -> String {
    format!("{SAMPLE_ARN_PREFIX}{name}")
}

/// Upper bound of one tuning in these tests; runs take seconds at the
/// emulator's time scale.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

pub struct TestEnv {
    pub emulator: RunningEmulator,
    pub worker: WorkerProcess,
    pub client: Client,
    pub lambda: aws_sdk_lambda::Client,
    pub task_queue: String,
    _temporal: TemporalServer,
    _dir: tempfile::TempDir,
}

impl TestEnv {
    /// Starts everything with the sample functions at 1 % of real time.
    pub async fn start(name: &str) -> Result<Self> {
        Self::start_with(name, fast_emulator(), &[]).await
    }

    pub async fn start_with(
        name: &str,
        options: EmulatorOptions,
        worker_args: &[&str],
    ) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let temporal = TemporalServer::start().await?;
        let emulator = lambda_emulator::start("127.0.0.1:0".parse()?, options)
            .await
            .context("failed to start the Lambda emulator")?;
        let task_queue = format!("powertune-test-{name}");

        let mut args = vec![
            "--address".to_owned(),
            temporal.address.clone(),
            "--task-queue".to_owned(),
            task_queue.clone(),
        ];
        args.extend(worker_args.iter().map(|arg| (*arg).to_owned()));
        let worker = WorkerProcess::start(
            args,
            aws_env(&emulator.url()),
            dir.path().join("worker.log"),
        )?;

        let client = temporal.client().await?;
        let lambda = lambda_client(&emulator.url()).await;
        Ok(Self {
            emulator,
            worker,
            client,
            lambda,
            task_queue,
            _temporal: temporal,
            _dir: dir,
        })
    }

    /// Starts a tuning with `input` under `workflow_id`.
    pub async fn start_tuning(
        &self,
        workflow_id: &str,
        input: serde_json::Value,
    ) -> Result<WorkflowHandle<Client, PowerTuningWorkflow>> {
        self.start_tuning_with_timeout(workflow_id, input, RUN_TIMEOUT)
            .await
    }

    /// Starts a tuning with `input` under `workflow_id` and an execution timeout.
    pub async fn start_tuning_with_timeout(
        &self,
        workflow_id: &str,
        input: serde_json::Value,
        timeout: Duration,
    ) -> Result<WorkflowHandle<Client, PowerTuningWorkflow>> {
        let options = WorkflowStartOptions::new(self.task_queue.clone(), workflow_id.to_owned())
            .execution_timeout(timeout)
            .build();
        self.client
            .start_workflow(PowerTuningWorkflow::run, json_input(&input), options)
            .await?;
        Ok(self
            .client
            .get_workflow_handle::<PowerTuningWorkflow>(workflow_id))
    }

    /// Runs a tuning to its end and returns its result, after checking that
    /// its history replays on the current workflow code.
    pub async fn tune(
        &self,
        workflow_id: &str,
        input: serde_json::Value,
    ) -> Result<Result<PowerTuningOutput, WorkflowGetResultError>> {
        let handle = self.start_tuning(workflow_id, input).await?;
        let result = handle.get_result(WorkflowGetResultOptions::default()).await;
        crate::histories::check_and_record(&self.client, workflow_id).await?;
        Ok(result)
    }

    /// Adds a function whose every invocation fails with `error_type`.
    pub fn add_failing_function(&self, name: &str, error_type: &str) {
        let mut spec = FunctionSpec {
            name: name.to_owned(),
            ..FunctionSpec::default()
        };
        spec.profile.error_rate = 1.0;
        spec.profile.error_type = error_type.to_owned();
        self.emulator
            .add_function(spec)
            .expect("the failing function is valid");
    }

    /// Reads what the tests compare before and after a run.
    pub async fn state(&self, function: &str) -> Result<FunctionState> {
        FunctionState::read(&self.lambda, function).await
    }
}

/// Encodes the workflow input as one `json/plain` payload, as `temporal workflow
/// start --input` sends it.
pub fn json_input(input: &serde_json::Value) -> RawValue {
    RawValue::from_value(input, &PayloadConverter::default())
}

/// Emulator options for tests: sample functions, 1 % of real time.
pub fn fast_emulator() -> EmulatorOptions {
    EmulatorOptions {
        samples: true,
        time_scale: 0.01,
        ..EmulatorOptions::default()
    }
}

/// Static test credentials and the emulator endpoint, so the AWS SDK never
/// looks for credentials or endpoints on the network.
pub fn aws_env(emulator_url: &str) -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ENDPOINT_URL_LAMBDA", emulator_url),
        ("AWS_ENDPOINT_URL_S3", emulator_url),
        ("RUST_LOG", "info,temporalio_sdk_core=warn"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect()
}

/// Builds a Lambda client for the emulator with static test credentials.
pub async fn lambda_client(emulator_url: &str) -> aws_sdk_lambda::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region("us-east-1")
        .test_credentials()
        .endpoint_url(emulator_url)
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    aws_sdk_lambda::Client::new(&config)
}

/// Returns the message of a failed run, with its cause chain.
pub fn failure_message(error: &WorkflowGetResultError) -> String {
    match error {
        WorkflowGetResultError::Failed(failure) => {
            let mut message = failure.to_string();
            let mut source = std::error::Error::source(failure.as_ref());
            while let Some(cause) = source {
                message.push_str(" | ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            message
        }
        other => other.to_string(),
    }
}
