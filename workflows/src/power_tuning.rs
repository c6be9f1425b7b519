//! The `PowerTuning` workflow: lock, initializer, publisher, executors,
//! cleaner, analyzer and optimizer, in that order.
//!
//! Once the initializer has read the function, the cleaner runs after a
//! success, after a failure while publishing or executing, after a
//! cancellation, and when the run nears its timeout. After a failure the
//! workflow fails with the original cause; after a cancellation it ends
//! cancelled. A terminated run executes no more code, so nothing cleans up
//! after it.

use std::time::Duration;

use powertune_activities::PowerTuningActivities;
use powertune_proto::v1::{
    AnalyzerInput, CleanerInput, ExecutorInput, ExecutorOutput, FailedPower, FunctionSnapshot,
    OptimizerInput, PowerStats, PowerTuningInput, PowerTuningOutput, PublisherInput, TuningPlan,
};
use serde::{Deserialize, Serialize};
use temporalio_common::data_converters::RawValue;
use temporalio_common::error::IncomingError;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::workflows::{join, join_all};
use temporalio_sdk::{
    ActivityExecutionError, ApplicationFailure, TimerOptions, TimerResult,
    WorkflowCancellationToken, WorkflowContext, WorkflowContextView, WorkflowResult,
    WorkflowTermination,
};

use crate::lock;
use crate::options;

/// Failure type of a run whose publishing or executing failed.
pub const TUNING_FAILED: &str = "PowerTuningFailed";

/// Progress of a run, returned by the `progress` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// `initializing`, `publishing`, `executing`, `cleaning`, `analyzing`,
    /// `optimizing` or `done`.
    pub stage: String,
    pub power_values: u32,
    pub published: u32,
    pub executed: u32,
}

#[workflow]
#[derive(Default)]
pub struct PowerTuningWorkflow {
    progress: Progress,
}

/// Failure of one step, kept for the workflow's own failure.
struct StepFailure {
    type_name: String,
    message: String,
    cancelled: bool,
}

impl StepFailure {
    fn from_activity(step: &str, error: &ActivityExecutionError) -> Self {
        let cancelled = matches!(error, ActivityExecutionError::Cancelled(_));
        let (type_name, message) = match error.cause() {
            Some(IncomingError::Application(failure)) => (
                failure.type_name().unwrap_or("ActivityFailed").to_owned(),
                failure.to_string(),
            ),
            Some(IncomingError::Timeout(timeout)) => {
                ("ActivityTimedOut".to_owned(), timeout.to_string())
            }
            Some(other) => ("ActivityFailed".to_owned(), other.to_string()),
            None => ("ActivityFailed".to_owned(), error.to_string()),
        };
        Self {
            type_name,
            message: format!("{step} failed: {message}"),
            cancelled,
        }
    }

    fn into_termination(self) -> WorkflowTermination {
        ApplicationFailure::builder(self.message)
            .type_name(self.type_name)
            .non_retryable(true)
            .build()
            .into()
    }
}

/// Results of the publishers and executors.
#[derive(Default)]
struct Measurements {
    versions: Vec<String>,
    stats: Vec<PowerStats>,
    failed: Vec<FailedPower>,
    retries: u32,
    /// Temporal actions beyond the scheduled activities: executor heartbeats.
    heartbeats: u32,
    activities: u32,
}

#[workflow_methods]
impl PowerTuningWorkflow {
    /// Tunes the function named in `input`, a JSON object with the fields of
    /// `PowerTuningInput`. The input is taken as raw payloads, so that a
    /// missing, malformed or wrongly typed input fails the run with a message
    /// naming the problem, instead of failing workflow tasks forever.
    #[run(name = "PowerTuning")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: RawValue,
    ) -> WorkflowResult<PowerTuningOutput> {
        let input = decode_input(input)?;
        check_run_timeout(ctx)?;

        // The lock comes first: the initializer must read the function while no
        // other tuning has it changed. A missing or malformed ARN takes no lock
        // and fails in the initializer.
        let function_arn = input
            .get("lambdaARN")
            .and_then(|arn| arn.as_str())
            .map(str::to_owned);
        let wait = input
            .get("waitForRunningTuning")
            .and_then(|wait| wait.as_bool())
            .unwrap_or(false);
        let lock = match &function_arn {
            Some(arn) if !arn.is_empty() => {
                set_stage(ctx, "waiting for lock");
                Some(lock::acquire(ctx, arn, wait).await?)
            }
            _ => None,
        };

        let result = tune(ctx, input).await;
        if let Some(lock) = lock {
            lock.release();
        }
        result
    }

    /// Returns the run's progress.
    #[query]
    pub fn progress(&self, _ctx: &WorkflowContextView) -> Progress {
        self.progress.clone()
    }
}

/// Everything between taking and releasing the function's lock.
async fn tune(
    ctx: &WorkflowContext<PowerTuningWorkflow>,
    input: serde_json::Value,
) -> WorkflowResult<PowerTuningOutput> {
    set_stage(ctx, "initializing");
    let plan = ctx
        .execute_activity(
            PowerTuningActivities::initializer,
            input,
            options::initializer(),
        )
        .await
        .map_err(|error| StepFailure::from_activity("initializer", &error).into_termination())?;
    let function = plan.function.clone().unwrap_or_default();
    let settings = plan.input.clone().unwrap_or_default();
    ctx.state_mut(|state| state.progress.power_values = plan.configurations.len() as u32);

    if settings.dry_run {
        return dry_run(ctx, &plan, &function).await;
    }

    let mut measurements = Measurements::default();
    let outcome = publish_and_execute_before_deadline(ctx, &plan, &mut measurements).await;

    set_stage(ctx, "cleaning");
    let cleanup = ctx
        .execute_activity(
            PowerTuningActivities::cleaner,
            CleanerInput {
                function: Some(function.clone()),
                aliases: plan
                    .configurations
                    .iter()
                    .flat_map(|configuration| configuration.aliases.clone())
                    .collect(),
                versions: measurements.versions.clone(),
            },
            options::cleaner(),
        )
        .await
        .map_err(|error| StepFailure::from_activity("cleaner", &error));
    measurements.activities += 1;
    if let Ok(output) = &cleanup {
        measurements.retries += output.retries;
    }

    if ctx.cancellation_token().is_cancelled()
        || outcome.as_ref().is_err_and(|failure| failure.cancelled)
    {
        if let Err(cleanup_failure) = cleanup {
            return Err(cleanup_failure.into_termination());
        }
        return Err(WorkflowTermination::cancelled());
    }
    if let Err(mut failure) = outcome {
        if let Err(cleanup_failure) = cleanup {
            failure.message = format!("{}; then {}", failure.message, cleanup_failure.message);
        }
        return Err(failure.into_termination());
    }
    cleanup.map_err(StepFailure::into_termination)?;

    set_stage(ctx, "analyzing");
    // Workflow start, lock, initializer, publishers, executors, cleaner, analyzer, optimizer.
    let actions = 3
        + measurements.activities
        + measurements.heartbeats
        + 1
        + u32::from(settings.auto_optimize);
    let mut output = ctx
        .execute_activity(
            PowerTuningActivities::analyzer,
            AnalyzerInput {
                plan: Some(plan.clone()),
                stats: measurements.stats,
                failed: measurements.failed,
                retries: measurements.retries,
                actions,
            },
            options::analyzer(),
        )
        .await
        .map_err(|error| StepFailure::from_activity("analyzer", &error).into_termination())?;

    if settings.auto_optimize {
        set_stage(ctx, "optimizing");
        let optimization = ctx
            .execute_activity(
                PowerTuningActivities::optimizer,
                OptimizerInput {
                    function: Some(function),
                    power: output.power,
                    alias: settings.auto_optimize_alias.clone(),
                },
                options::optimizer(),
            )
            .await
            .map_err(|error| StepFailure::from_activity("optimizer", &error).into_termination())?;
        output.optimization = Some(optimization);
    }

    set_stage(ctx, "done");
    Ok(output)
}

/// Runs [`publish_and_execute`], cancelling it when the run's timeout is
/// close, so that the cleaner still has time to undo what it changed.
async fn publish_and_execute_before_deadline(
    ctx: &WorkflowContext<PowerTuningWorkflow>,
    plan: &TuningPlan,
    measurements: &mut Measurements,
) -> Result<(), StepFailure> {
    let work = ctx.cancellation_token().child_token();
    let Some(timeout) = run_timeout(ctx) else {
        return publish_and_execute(ctx, plan, measurements, &work).await;
    };
    let reserve = cleanup_reserve(timeout);
    let elapsed = match (ctx.workflow_time(), ctx.info().start_time()) {
        (Some(now), Some(start)) => now.duration_since(start).unwrap_or_default(),
        _ => Duration::ZERO,
    };
    let timed_out = || StepFailure {
        type_name: "TuningTimedOut".to_owned(),
        message: format!(
            "the run reached its deadline ({} s before its {} s timeout, kept for cleanup) before every memory size was measured; start it with a longer execution timeout",
            reserve.as_secs(),
            timeout.as_secs()
        ),
        cancelled: false,
    };
    let Some(deadline) = timeout
        .checked_sub(reserve + elapsed)
        .filter(|left| !left.is_zero())
    else {
        return Err(timed_out());
    };

    let timer_token = ctx.cancellation_token().child_token();
    let timer = ctx.timer(
        TimerOptions::builder(deadline)
            .cancellation_token(timer_token.clone())
            .build(),
    );
    let guarded = async {
        let outcome = publish_and_execute(ctx, plan, measurements, &work).await;
        timer_token.cancel_with_reason("tuning finished");
        outcome
    };
    let watchdog = async {
        if timer.await == TimerResult::Fired {
            work.cancel_with_reason("the run is about to time out");
            return true;
        }
        false
    };
    let (outcome, fired) = join!(guarded, watchdog);
    if fired {
        return Err(timed_out());
    }
    outcome
}

/// Shortest run timeout accepted: the cleanup reserve, plus as much again
/// for the work.
const MIN_RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Bounds of the time kept for the cleaner at the end of a run with a
/// timeout. The lower bound covers stopping the executors (their cancellation
/// arrives with a heartbeat, within about 8 s) and a cleanup with retries.
const MIN_CLEANUP_RESERVE: Duration = Duration::from_secs(30);
const MAX_CLEANUP_RESERVE: Duration = Duration::from_secs(120);

/// Returns the run's timeout, when it has one.
fn run_timeout(ctx: &WorkflowContext<PowerTuningWorkflow>) -> Option<Duration> {
    let info = ctx.info();
    info.run_timeout()
        .or(info.execution_timeout())
        .filter(|timeout| !timeout.is_zero())
}

/// Returns the time kept for the cleaner: a quarter of the timeout, within
/// [`MIN_CLEANUP_RESERVE`] and [`MAX_CLEANUP_RESERVE`].
fn cleanup_reserve(timeout: Duration) -> Duration {
    (timeout / 4).clamp(MIN_CLEANUP_RESERVE, MAX_CLEANUP_RESERVE)
}

/// Rejects a run timeout too short to tune and still clean up.
fn check_run_timeout(
    ctx: &WorkflowContext<PowerTuningWorkflow>,
) -> Result<(), WorkflowTermination> {
    match run_timeout(ctx) {
        Some(timeout) if timeout < MIN_RUN_TIMEOUT => Err(ApplicationFailure::builder(format!(
            "invalid input: the run's execution timeout of {} s is too short; powertune keeps at least {} s of it for cleanup, so start the run with an execution timeout of {} s or more",
            timeout.as_secs(),
            MIN_CLEANUP_RESERVE.as_secs(),
            MIN_RUN_TIMEOUT.as_secs()
        ))
        .type_name("InvalidInput".to_owned())
        .non_retryable(true)
        .build()
        .into()),
        _ => Ok(()),
    }
}

/// Encoding of JSON payloads in Temporal's standard data converter.
const JSON_ENCODING: &[u8] = b"json/plain";

/// Reads the workflow input: no payload or a null payload becomes JSON
/// `null` (which the initializer rejects with a message), one `json/plain`
/// payload is parsed, anything else fails the run.
fn decode_input(input: RawValue) -> Result<serde_json::Value, WorkflowTermination> {
    let invalid = |message: String| -> WorkflowTermination {
        ApplicationFailure::builder(format!("invalid input: {message}"))
            .type_name("InvalidInput".to_owned())
            .non_retryable(true)
            .build()
            .into()
    };
    let mut payloads = input.payloads;
    if payloads.len() > 1 {
        return Err(invalid(format!(
            "the workflow received {} input arguments; pass one JSON object such as {{\"lambdaARN\": \"arn:aws:lambda:...\", \"num\": 10}}",
            payloads.len()
        )));
    }
    let Some(payload) = payloads.pop() else {
        return Ok(serde_json::Value::Null);
    };
    let encoding = payload
        .metadata
        .get("encoding")
        .map(Vec::as_slice)
        .unwrap_or_default();
    if encoding == b"binary/null" || (encoding.is_empty() && payload.data.is_empty()) {
        return Ok(serde_json::Value::Null);
    }
    if encoding != JSON_ENCODING {
        return Err(invalid(format!(
            "the input has encoding `{}`; pass a JSON object (`json/plain`)",
            String::from_utf8_lossy(encoding)
        )));
    }
    serde_json::from_slice(&payload.data)
        .map_err(|error| invalid(format!("the input is not valid JSON: {error}")))
}

fn set_stage(ctx: &WorkflowContext<PowerTuningWorkflow>, stage: &str) {
    ctx.state_mut(|state| state.progress.stage = stage.to_owned());
}

/// Publishes every configuration, one change of `$LATEST` at a time, then
/// runs one executor per memory size, all at once.
async fn publish_and_execute(
    ctx: &WorkflowContext<PowerTuningWorkflow>,
    plan: &TuningPlan,
    measurements: &mut Measurements,
    work: &WorkflowCancellationToken,
) -> Result<(), StepFailure> {
    let function = plan.function.clone().unwrap_or_default();
    let settings = plan.input.clone().unwrap_or_default();

    set_stage(ctx, "publishing");
    let mut measurable = Vec::new();
    for configuration in &plan.configurations {
        let mut failure = None;
        for alias in &configuration.aliases {
            let published = ctx
                .execute_activity(
                    PowerTuningActivities::publisher,
                    PublisherInput {
                        function: Some(function.clone()),
                        power: configuration.power,
                        alias: alias.clone(),
                        description: settings
                            .only_cold_starts
                            .then(|| format!("powertune {alias}")),
                    },
                    options::publisher(work.clone()),
                )
                .await
                .map_err(|error| StepFailure::from_activity("publisher", &error));
            measurements.activities += 1;
            let published = published?;
            if work.is_cancelled() {
                return Err(StepFailure {
                    type_name: "Cancelled".to_owned(),
                    message: "publishing was cancelled".to_owned(),
                    cancelled: true,
                });
            }
            measurements.retries += published.retries;
            if published.created_version {
                measurements.versions.push(published.version);
            }
            if published.failure.is_some() {
                failure = published.failure;
                break;
            }
        }
        ctx.state_mut(|state| state.progress.published += 1);
        match failure {
            Some(failure) => measurements.failed.push(failure),
            None => measurable.push(configuration.clone()),
        }
    }

    set_stage(ctx, "executing");
    // A failing executor cancels its siblings, as a failed branch ends the
    // original state machine's parallel map.
    let group = work.child_token();
    let executors = measurable.iter().map(|configuration| {
        let input = executor_input(
            plan,
            &function,
            &settings,
            configuration.power,
            configuration.aliases.clone(),
        );
        let options = options::executor(&input, group.clone());
        let group = group.clone();
        let ctx = ctx.clone();
        async move {
            let result = ctx
                .execute_activity(PowerTuningActivities::executor, input, options)
                .await;
            if let Err(error) = &result
                && !matches!(error, ActivityExecutionError::Cancelled(_))
            {
                group.cancel_with_reason("another memory size failed");
            }
            ctx.state_mut(|state| state.progress.executed += 1);
            result
        }
    });
    let results: Vec<Result<ExecutorOutput, ActivityExecutionError>> = join_all(executors).await;
    measurements.activities += results.len() as u32;

    let mut first_failure: Option<StepFailure> = None;
    for result in results {
        match result {
            Ok(output) => {
                measurements.retries += output.retries;
                measurements.heartbeats += output.heartbeats;
                measurements.stats.extend(output.stats);
                measurements.failed.extend(output.failure);
            }
            Err(error) => {
                let failure = StepFailure::from_activity("executor", &error);
                // Keep the real cause, not the cancellation of a sibling.
                let replace = match &first_failure {
                    None => true,
                    Some(kept) => kept.cancelled && !failure.cancelled,
                };
                if replace {
                    first_failure = Some(failure);
                }
            }
        }
    }
    if let Some(mut failure) = first_failure {
        failure.cancelled = failure.cancelled && ctx.cancellation_token().is_cancelled();
        return Err(failure);
    }
    Ok(())
}

fn executor_input(
    plan: &TuningPlan,
    function: &FunctionSnapshot,
    settings: &PowerTuningInput,
    power: u32,
    aliases: Vec<String>,
) -> ExecutorInput {
    ExecutorInput {
        function: Some(function.clone()),
        power,
        aliases,
        num: settings.num,
        parallel_invocation: settings.parallel_invocation,
        payloads: plan.payloads.clone(),
        payload_s3: settings.payload_s3.clone(),
        pre_processor_arn: settings.pre_processor_arn.clone(),
        post_processor_arn: settings.post_processor_arn.clone(),
        sleep_between_runs_ms: settings.sleep_between_runs_ms,
        disable_payload_logs: settings.disable_payload_logs,
        allowed_exceptions: settings.allowed_exceptions.clone(),
        discard_top_bottom: plan.discard_top_bottom,
    }
}

/// `dryRun`: one invocation of `$LATEST` with the first payload, to check the
/// input end to end without changing the function.
async fn dry_run(
    ctx: &WorkflowContext<PowerTuningWorkflow>,
    plan: &TuningPlan,
    function: &FunctionSnapshot,
) -> WorkflowResult<PowerTuningOutput> {
    set_stage(ctx, "executing");
    let settings = plan.input.clone().unwrap_or_default();
    let mut input = executor_input(
        plan,
        function,
        &settings,
        function.memory_mb,
        vec!["$LATEST".to_owned()],
    );
    input.num = 1;
    input.payloads.truncate(1);
    input.discard_top_bottom = 0.0;
    let options = options::executor(&input, ctx.cancellation_token().child_token());
    let output = ctx
        .execute_activity(PowerTuningActivities::executor, input, options)
        .await
        .map_err(|error| StepFailure::from_activity("executor", &error).into_termination())?;

    set_stage(ctx, "done");
    let stats = output.stats.unwrap_or_default();
    Ok(PowerTuningOutput {
        power: function.memory_mb,
        cost: stats.cost,
        duration: stats.duration,
        failed_power_values: output.failure.into_iter().collect(),
        retries: output.retries,
        dry_run: true,
        warnings: plan.warnings.clone(),
        ..Default::default()
    })
}
