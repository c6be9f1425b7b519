//! `powertune tune`: starts a PowerTuning workflow and prints its result.
//!
//! The input is the JSON of AWS Lambda Power Tuning (`lambdaARN`, `num`,
//! `powerValues`, ...), from `--input`, `--input-file` or nothing, with the
//! convenience flags written over its fields. Every other field passes through
//! untouched, because the workflow validates the input and names the field it
//! rejects.

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use powertune_activities::arn::FunctionArn;
use powertune_workflows::PowerTuningWorkflow;
use serde_json::{Map, Value, json};
use temporalio_client::errors::{WorkflowGetResultError, WorkflowStartError};
use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_common::data_converters::{PayloadConverter, RawValue};
use temporalio_common::error::IncomingError;

use crate::connection::{self, ConnectionArgs};
use crate::power_values::parse_power_value;
use crate::worker::DEFAULT_TASK_QUEUE;

#[derive(Args)]
pub struct TuneArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Task queue of the workers that run the tuning
    #[arg(long, env = "POWERTUNE_TASK_QUEUE", default_value = DEFAULT_TASK_QUEUE)]
    pub task_queue: String,

    /// Workflow input as JSON, in AWS Lambda Power Tuning's format
    /// [default: `{}`]
    #[arg(long, value_name = "JSON", conflicts_with = "input_file")]
    pub input: Option<String>,

    /// File that contains the workflow input JSON; `-` reads standard input
    #[arg(long, value_name = "FILE")]
    pub input_file: Option<PathBuf>,

    /// Unqualified ARN of the function to tune; sets `lambdaARN`
    #[arg(long, value_name = "ARN", value_parser = parse_function_arn)]
    pub function: Option<String>,

    /// Invocations per memory size; sets `num`
    #[arg(long, value_name = "N")]
    pub num: Option<u32>,

    /// Memory sizes in MB (128..=10240, comma-separated); sets `powerValues`
    /// [default: the worker's default power values]
    #[arg(long, value_name = "MB,...", value_delimiter = ',', value_parser = parse_power_value)]
    pub power_values: Option<Vec<u32>>,

    /// Goal that picks the winning memory size; sets `strategy` [default: cost]
    #[arg(long, value_enum)]
    pub strategy: Option<Strategy>,

    /// Invocation payload as JSON (quote a string payload: '"text"'); sets `payload`
    #[arg(long, value_name = "JSON")]
    pub payload: Option<String>,

    /// Invoke the `num` calls of each memory size concurrently; sets `parallelInvocation`
    #[arg(long)]
    pub parallel: bool,

    /// Workflow id [default: powertune-<function name>-<unix seconds>]
    #[arg(long, value_name = "ID")]
    pub workflow_id: Option<String>,

    /// Limit on the whole run, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub execution_timeout: u64,

    /// Print the workflow id and run id as JSON and exit without waiting for the result
    #[arg(long)]
    pub no_wait: bool,
}

/// `strategy` of the original tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Strategy {
    /// The cheapest memory size.
    Cost,
    /// The fastest memory size.
    Speed,
    /// A weighted mix of cost and speed (`balancedWeight`).
    Balanced,
}

impl Strategy {
    fn as_str(self) -> &'static str {
        match self {
            Strategy::Cost => "cost",
            Strategy::Speed => "speed",
            Strategy::Balanced => "balanced",
        }
    }
}

/// The workflow ended as cancelled; `main` maps this error to its own exit code.
#[derive(Debug, thiserror::Error)]
#[error("workflow `{workflow_id}` was cancelled")]
pub struct WorkflowCancelled {
    pub workflow_id: String,
}

/// Output of `--no-wait`: the ids of the started run.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct StartedWorkflow<'a> {
    workflow_id: &'a str,
    run_id: &'a str,
}

/// Starts the tuning and, unless `--no-wait`, prints its result on stdout.
pub async fn run(args: TuneArgs) -> Result<()> {
    let input = build_input(&args)?;
    if input.get("lambdaARN").is_none() {
        bail!(
            "no function to tune: pass --function ARN, or set \"lambdaARN\" in --input or --input-file"
        );
    }
    let workflow_id = args
        .workflow_id
        .clone()
        .unwrap_or_else(|| default_workflow_id(&input, unix_seconds()));
    let resolved = args.connection.resolve()?;
    let address = resolved.address();
    let namespace = resolved.namespace.clone();
    let client = resolved.connect().await?;

    let options = WorkflowStartOptions::new(args.task_queue.clone(), workflow_id.clone())
        .execution_timeout(Duration::from_secs(args.execution_timeout))
        .build();
    let handle = client
        .start_workflow(
            PowerTuningWorkflow::run,
            RawValue::from_value(&input, &PayloadConverter::default()),
            options,
        )
        .await
        .map_err(|error| start_error(error, &workflow_id, &namespace, &address))?;
    let run_id = handle.info().run_id.clone().unwrap_or_default();
    tracing::info!(%workflow_id, %run_id, task_queue = %args.task_queue, "started PowerTuning workflow");

    if args.no_wait {
        let started = StartedWorkflow {
            workflow_id: &workflow_id,
            run_id: &run_id,
        };
        return crate::print_stdout(&serde_json::to_string_pretty(&started)?);
    }

    let output = handle
        .get_result(WorkflowGetResultOptions::default())
        .await
        .map_err(|error| result_error(error, &workflow_id, args.execution_timeout))?;
    crate::print_stdout(
        &serde_json::to_string_pretty(&output).context("failed to format the workflow result")?,
    )
}

/// Reads the base input and writes the flags over its fields.
fn build_input(args: &TuneArgs) -> Result<Value> {
    let base = match (&args.input, &args.input_file) {
        (Some(text), _) => Some(serde_json::from_str(text).context("--input is not valid JSON")?),
        (None, Some(path)) => Some(read_input_file(path)?),
        (None, None) => None,
    };

    let mut overrides = Map::new();
    if let Some(function) = &args.function {
        overrides.insert("lambdaARN".into(), json!(function));
    }
    if let Some(num) = args.num {
        overrides.insert("num".into(), json!(num));
    }
    if let Some(power_values) = &args.power_values {
        overrides.insert("powerValues".into(), json!(power_values));
    }
    if let Some(strategy) = args.strategy {
        overrides.insert("strategy".into(), json!(strategy.as_str()));
    }
    if let Some(payload) = &args.payload {
        let payload: Value = serde_json::from_str(payload)
            .with_context(|| format!("--payload `{payload}` is not valid JSON; quote a string payload, such as '\"{payload}\"'"))?;
        overrides.insert("payload".into(), payload);
    }
    if args.parallel {
        overrides.insert("parallelInvocation".into(), json!(true));
    }

    merge(base, overrides)
}

/// Writes `overrides` over the fields of `base`, an object or nothing.
fn merge(base: Option<Value>, overrides: Map<String, Value>) -> Result<Value> {
    match base {
        None => Ok(Value::Object(overrides)),
        Some(Value::Object(mut fields)) => {
            fields.extend(overrides);
            Ok(Value::Object(fields))
        }
        Some(other) if overrides.is_empty() => Ok(other),
        Some(other) => bail!(
            "the workflow input is a JSON {}, not an object, so flags such as --function cannot set its fields",
            json_kind(&other)
        ),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn read_input_file(path: &PathBuf) -> Result<Value> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("failed to read the workflow input from standard input")?;
        text
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("failed to read --input-file {}", path.display()))?
    };
    serde_json::from_str(&text)
        .with_context(|| format!("--input-file {} is not valid JSON", path.display()))
}

fn parse_function_arn(text: &str) -> Result<String, String> {
    text.parse::<FunctionArn>()
        .map(|arn| arn.unqualified())
        .map_err(|error| error.to_string())
}

/// `powertune-<function name>-<unix seconds>`, or `powertune-<unix seconds>`
/// when the input names no function ARN.
fn default_workflow_id(input: &Value, unix_seconds: u64) -> String {
    let function_name = input
        .get("lambdaARN")
        .and_then(Value::as_str)
        .and_then(|arn| {
            let parts: Vec<&str> = arn.split(':').collect();
            (parts.len() >= 7 && parts[5] == "function").then(|| parts[6].to_owned())
        })
        .filter(|name| !name.is_empty());
    match function_name {
        Some(name) => format!("powertune-{name}-{unix_seconds}"),
        None => format!("powertune-{unix_seconds}"),
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

fn start_error(
    error: WorkflowStartError,
    workflow_id: &str,
    namespace: &str,
    address: &str,
) -> anyhow::Error {
    match error {
        WorkflowStartError::AlreadyStarted { .. } => anyhow!(
            "a workflow with id `{workflow_id}` is already running; wait for it, or pass another --workflow-id"
        ),
        WorkflowStartError::Rpc(status) if connection::is_namespace_not_found(&status) => {
            anyhow!(connection::namespace_not_found_message(namespace, address))
        }
        other => anyhow!(other).context(format!("failed to start workflow `{workflow_id}`")),
    }
}

fn result_error(
    error: WorkflowGetResultError,
    workflow_id: &str,
    execution_timeout: u64,
) -> anyhow::Error {
    match error {
        WorkflowGetResultError::Failed(failure) => {
            anyhow!(
                "workflow `{workflow_id}` failed: {}",
                failure_chain(&failure)
            )
        }
        WorkflowGetResultError::Cancelled { .. } => anyhow!(WorkflowCancelled {
            workflow_id: workflow_id.to_owned(),
        }),
        WorkflowGetResultError::Terminated { .. } => {
            anyhow!("workflow `{workflow_id}` was terminated")
        }
        WorkflowGetResultError::TimedOut => anyhow!(
            "workflow `{workflow_id}` timed out after {execution_timeout} s; raise --execution-timeout for longer tunings"
        ),
        other => anyhow!(other).context(format!(
            "failed to read the result of workflow `{workflow_id}`"
        )),
    }
}

/// Formats a failure and its causes, outermost first, as
/// `message [Type]: cause message [CauseType]`. A cause that repeats the
/// message before it is left out.
fn failure_chain(failure: &IncomingError) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut last_message = String::new();
    let mut current = Some(failure);
    while let Some(error) = current {
        let message = error.to_string();
        if message != last_message {
            let part = match error {
                IncomingError::Application(application) => match application.type_name() {
                    Some(type_name) if !type_name.is_empty() => format!("{message} [{type_name}]"),
                    _ => message.clone(),
                },
                _ => message.clone(),
            };
            parts.push(part);
        }
        last_message = message;
        current = error.cause();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Command, env_twin, try_parse_isolated};

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:io-bound";

    fn parse(args: &[&str]) -> Result<TuneArgs, clap::Error> {
        let cli = try_parse_isolated(&[&["tune"], args].concat())?;
        match cli.command {
            Command::Tune(args) => Ok(args),
            _ => unreachable!("the tune subcommand was parsed"),
        }
    }

    fn input_of(args: &[&str]) -> Result<Value> {
        build_input(&parse(args).expect("arguments parse"))
    }

    #[test]
    fn defaults_without_flags() {
        let args = parse(&[]).expect("no flags parse");

        assert_eq!(args.task_queue, "power-tuning");
        assert_eq!(args.execution_timeout, 3600);
        assert!(!args.no_wait);
        assert!(!args.parallel);
        assert_eq!(args.workflow_id, None);
    }

    #[test]
    fn flags_build_input() {
        let input = input_of(&[
            "--function",
            ARN,
            "--num",
            "5",
            "--power-values",
            "128,256",
            "--strategy",
            "balanced",
            "--payload",
            r#"{"key":"value"}"#,
            "--parallel",
        ])
        .expect("input builds");

        assert_eq!(
            input,
            json!({
                "lambdaARN": ARN,
                "num": 5,
                "powerValues": [128, 256],
                "strategy": "balanced",
                "payload": {"key": "value"},
                "parallelInvocation": true,
            })
        );
    }

    #[test]
    fn flags_override_input_fields() {
        let base = r#"{"lambdaARN":"arn:aws:lambda:us-east-1:123456789012:function:old","num":50,
                       "powerValues":"ALL","autoOptimize":true,"unknownField":[1,2]}"#;

        let input =
            input_of(&["--input", base, "--function", ARN, "--num", "10"]).expect("input builds");

        assert_eq!(
            input,
            json!({
                "lambdaARN": ARN,
                "num": 10,
                "powerValues": "ALL",
                "autoOptimize": true,
                "unknownField": [1, 2],
            })
        );
    }

    #[test]
    fn input_passes_through_without_flags() {
        let input = input_of(&["--input", r#"{"num":"not a number"}"#]).expect("input builds");

        assert_eq!(input, json!({"num": "not a number"}));
    }

    #[test]
    fn parallel_absent_keeps_input_value() {
        let input = input_of(&["--input", r#"{"parallelInvocation":true}"#, "--num", "5"])
            .expect("input builds");

        assert_eq!(input["parallelInvocation"], json!(true));
    }

    #[test]
    fn input_file_read() {
        let file = tempfile::NamedTempFile::new().expect("temporary file");
        std::fs::write(file.path(), r#"{"lambdaARN":"x","num":7}"#).expect("input written");
        let path = file.path().to_str().expect("UTF-8 path");

        let input = input_of(&["--input-file", path, "--num", "9"]).expect("input builds");

        assert_eq!(input, json!({"lambdaARN": "x", "num": 9}));
    }

    #[test]
    fn input_and_input_file_conflict() {
        let error = parse(&["--input", "{}", "--input-file", "in.json"])
            .err()
            .expect("both are rejected");

        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn invalid_input_json_rejected() {
        let error = input_of(&["--input", "{not json"]).expect_err("invalid JSON is rejected");

        assert!(
            format!("{error:#}").starts_with("--input is not valid JSON"),
            "{error:#}"
        );
    }

    #[test]
    fn unquoted_payload_rejected() {
        let error = input_of(&["--payload", "hello"]).expect_err("bare text is rejected");

        let message = format!("{error:#}");
        assert!(
            message.contains("--payload `hello` is not valid JSON"),
            "{message}"
        );
        assert!(message.contains(r#"'"hello"'"#), "{message}");
    }

    #[test]
    fn non_object_input_with_flags_rejected() {
        let error =
            input_of(&["--input", "[1,2]", "--num", "5"]).expect_err("an array has no fields");

        assert!(
            format!("{error:#}").contains("is a JSON array, not an object"),
            "{error:#}"
        );
    }

    #[test]
    fn qualified_function_rejected() {
        let error = parse(&["--function", &format!("{ARN}:3")])
            .err()
            .expect("a qualified ARN is rejected");

        assert!(
            error.to_string().contains("pass the unqualified ARN"),
            "{error}"
        );
    }

    #[test]
    fn power_value_error_names_value() {
        let error = parse(&["--power-values", "128,20000"])
            .err()
            .expect("20000 MB is rejected");

        assert!(
            error.to_string().contains("power value `20000` is outside"),
            "{error}"
        );
    }

    #[test]
    fn unknown_strategy_rejected() {
        let error = parse(&["--strategy", "cheap"])
            .err()
            .expect("unknown strategy is rejected");

        assert_eq!(error.kind(), clap::error::ErrorKind::InvalidValue);
    }

    #[test]
    fn workflow_id_from_function_name() {
        let input = json!({ "lambdaARN": ARN });

        assert_eq!(
            default_workflow_id(&input, 1_700_000_000),
            "powertune-io-bound-1700000000"
        );
        assert_eq!(default_workflow_id(&json!({}), 42), "powertune-42");
        assert_eq!(
            default_workflow_id(&json!({"lambdaARN": "nonsense"}), 42),
            "powertune-42"
        );
    }

    #[test]
    fn failure_chain_lists_causes() {
        use temporalio_common::data_converters::{
            DefaultFailureConverter, FailureConverter, PayloadConverter, SerializationContextData,
        };
        use temporalio_common::protos::temporal::api::failure::v1::failure::FailureInfo;
        use temporalio_common::protos::temporal::api::failure::v1::{
            ApplicationFailureInfo, Failure,
        };

        let application = |type_name: &str| {
            Some(FailureInfo::ApplicationFailureInfo(
                ApplicationFailureInfo {
                    r#type: type_name.to_owned(),
                    ..Default::default()
                },
            ))
        };
        let root = Failure {
            message: "function error at 512 MB: Unhandled".into(),
            failure_info: application("ExecutionFailed"),
            ..Default::default()
        };
        let repeated = Failure {
            message: "function error at 512 MB: Unhandled".into(),
            cause: Some(Box::new(root)),
            failure_info: application(""),
            ..Default::default()
        };
        let top = Failure {
            message: "power tuning failed".into(),
            cause: Some(Box::new(repeated)),
            failure_info: application("PowerTuningFailed"),
            ..Default::default()
        };
        let error = DefaultFailureConverter::new(false)
            .to_error(
                top,
                &PayloadConverter::default(),
                &SerializationContextData::None,
            )
            .expect("failure decodes");

        assert_eq!(
            failure_chain(&error),
            "power tuning failed [PowerTuningFailed]: function error at 512 MB: Unhandled"
        );
    }

    #[test]
    fn environment_twins_declared() {
        assert_eq!(
            env_twin("tune", "task_queue").as_deref(),
            Some("POWERTUNE_TASK_QUEUE")
        );
        assert_eq!(
            env_twin("tune", "address").as_deref(),
            Some("TEMPORAL_ADDRESS")
        );
        assert_eq!(
            env_twin("tune", "namespace").as_deref(),
            Some("TEMPORAL_NAMESPACE")
        );
    }
}
