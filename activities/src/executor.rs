//! The executor: invokes one memory size's alias `num` times and measures
//! each invocation from the `REPORT` line of its log tail.
//!
//! Progress (the result of every finished invocation) is sent as heartbeat
//! details after each invocation and every few seconds. A retried attempt
//! reads it back and runs only the missing invocations, so a worker crash
//! costs at most the invocations since the last heartbeat.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::LogType;
use futures::future::join_all;
use powertune_proto::v1::{
    ExecutorInput, ExecutorOutput, ExecutorProgress, FailedPower, InvocationResult, PowerStats,
};
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::aws::{AwsClients, RetryCounter, with_retries};
use crate::failure::TuningError;
use crate::lambda::{Function, snapshot_of};
use crate::pricing::{Architecture, REQUEST_PRICE_USD, invocation_cost};
use crate::report::parse_log_result;
use crate::stats::summarize;

/// Interval of the heartbeats sent while an invocation is running.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);

/// Function error types that mean the function cannot run at this memory
/// size at all. The size is then reported as failed instead of failing the run.
const CANNOT_RUN_ERRORS: &[&str] = &["Runtime.OutOfMemory", "Sandbox.Timedout"];

/// Placeholder for function output when `disablePayloadLogs` is set.
const HIDDEN: &str = "(hidden by disablePayloadLogs)";

/// Result of one invocation.
enum Outcome {
    Measured(InvocationResult),
    /// The function cannot run at this memory size.
    CannotRun(FailedPower),
}

/// Runs every invocation of `input`, heartbeating progress through `ctx`.
pub async fn execute(
    clients: &AwsClients,
    ctx: &ActivityContext,
    input: &ExecutorInput,
) -> Result<ExecutorOutput, ActivityError> {
    let resumed: ExecutorProgress = ctx
        .heartbeat_details()
        .deserialize()
        .ok()
        .flatten()
        .unwrap_or_default();
    if !resumed.results.is_empty() {
        tracing::info!(
            memory_mb = input.power,
            done = resumed.results.len(),
            "resuming executor from heartbeat"
        );
    }
    let retries = RetryCounter::new(resumed.retries, clients.max_attempts());
    let progress = Arc::new(Mutex::new(resumed));
    let started = tokio::time::Instant::now();

    let run = Executor {
        clients,
        input,
        retries: &retries,
        progress: &progress,
        ctx,
    };
    let outcome = tokio::select! {
        outcome = run.run() => outcome,
        () = heartbeat_forever(ctx, &progress, &retries) => unreachable!("the heartbeat loop never ends"),
        () = ctx.cancelled() => return Err(ActivityError::cancelled()),
    };

    let heartbeats = estimated_heartbeats(ctx, started.elapsed());
    let failure = match outcome {
        Ok(failure) => failure,
        Err(error) => {
            tracing::warn!(memory_mb = input.power, error = %error, "executor failed");
            return Err(error.into_activity_error());
        }
    };
    if let Some(failure) = failure {
        tracing::warn!(memory_mb = input.power, error_type = %failure.error_type, "function cannot run at this memory size");
        return Ok(ExecutorOutput {
            failure: Some(failure),
            retries: retries.get(),
            heartbeats,
            ..Default::default()
        });
    }

    let results = progress
        .lock()
        .expect("progress lock poisoned")
        .results
        .clone();
    let stats = compute_stats(input, &results)?;
    tracing::info!(
        memory_mb = input.power,
        duration_ms = stats.duration,
        cost = stats.cost,
        "measured memory size"
    );
    Ok(ExecutorOutput {
        stats: Some(stats),
        failure: None,
        retries: retries.get(),
        heartbeats,
    })
}

struct Executor<'a> {
    clients: &'a AwsClients,
    input: &'a ExecutorInput,
    retries: &'a RetryCounter,
    progress: &'a Arc<Mutex<ExecutorProgress>>,
    ctx: &'a ActivityContext,
}

impl Executor<'_> {
    /// Runs the missing invocations; returns the failure of a memory size the
    /// function cannot run at, if one was found.
    async fn run(&self) -> Result<Option<FailedPower>, TuningError> {
        let snapshot = snapshot_of(self.input.function.as_ref(), "executor")?;
        let function = Function::of(self.clients, snapshot, self.retries);
        let client = &function.client;
        for alias in dedup(&self.input.aliases) {
            function.wait_until_active(alias).await?;
        }
        let s3_payload = self.load_s3_payload(&snapshot.region).await?;

        let done: Vec<u32> = {
            let progress = self.progress.lock().expect("progress lock poisoned");
            progress.results.iter().map(|result| result.index).collect()
        };
        let pending: Vec<u32> = (0..self.input.num)
            .filter(|index| !done.contains(index))
            .collect();

        if self.input.parallel_invocation {
            let outcomes = join_all(
                pending
                    .iter()
                    .map(|&index| self.invoke_and_record(client, index, s3_payload.as_deref())),
            )
            .await;
            for outcome in outcomes {
                if let Outcome::CannotRun(failure) = outcome? {
                    return Ok(Some(failure));
                }
            }
            return Ok(None);
        }

        for (position, &index) in pending.iter().enumerate() {
            if position > 0 && self.input.sleep_between_runs_ms > 0 {
                tokio::time::sleep(Duration::from_millis(u64::from(
                    self.input.sleep_between_runs_ms,
                )))
                .await;
            }
            if let Outcome::CannotRun(failure) = self
                .invoke_and_record(client, index, s3_payload.as_deref())
                .await?
            {
                return Ok(Some(failure));
            }
        }
        Ok(None)
    }

    async fn invoke_and_record(
        &self,
        client: &aws_sdk_lambda::Client,
        index: u32,
        s3_payload: Option<&str>,
    ) -> Result<Outcome, TuningError> {
        let outcome = self.invoke(client, index, s3_payload).await;
        let snapshot = {
            let mut progress = self.progress.lock().expect("progress lock poisoned");
            match &outcome {
                Ok(Outcome::Measured(result)) => progress.results.push(result.clone()),
                // Counted here because the retried attempt reads it back from
                // the heartbeat that goes out with this attempt's failure.
                Err(TuningError::FunctionError { .. }) => progress.function_errors += 1,
                _ => return outcome,
            }
            progress.retries = self.retries.get();
            progress.clone()
        };
        if let Err(error) = self.ctx.record_heartbeat(snapshot).await {
            tracing::warn!(error = %error, "could not record executor heartbeat");
        }
        outcome
    }

    /// Invokes the function once at `index`, with the pre- and post-processors around it.
    async fn invoke(
        &self,
        client: &aws_sdk_lambda::Client,
        index: u32,
        s3_payload: Option<&str>,
    ) -> Result<Outcome, TuningError> {
        let input = self.input;
        let snapshot = input.function.as_ref().expect("checked in run");
        let alias = input
            .aliases
            .get(index as usize)
            .or_else(|| input.aliases.first())
            .ok_or_else(|| TuningError::Other("executor input has no alias".into()))?;
        let mut payload = match s3_payload {
            Some(payload) => payload.to_owned(),
            None => input
                .payloads
                .get(index as usize)
                .cloned()
                .unwrap_or_default(),
        };

        if !input.pre_processor_arn.is_empty() {
            let output = self
                .invoke_processor(client, "pre-processor", &input.pre_processor_arn, &payload)
                .await?;
            // A processor that returns nothing leaves the payload as it was.
            if !output.is_empty() && output != "null" {
                payload = output;
            }
        }

        let target = format!("{}:{alias}", snapshot.function_arn);
        let response = with_retries("Invoke", self.retries, || {
            client
                .invoke()
                .function_name(&snapshot.function_arn)
                .qualifier(alias)
                .log_type(LogType::Tail)
                .set_payload((!payload.is_empty()).then(|| Blob::new(payload.clone().into_bytes())))
                .send()
        })
        .await
        .map_err(|source| TuningError::aws(&target, source))?;

        let log = response.log_result().unwrap_or_default();
        let report = parse_log_result(log);
        let body = response
            .payload()
            .map(|blob| String::from_utf8_lossy(blob.as_ref()).into_owned())
            .unwrap_or_default();
        let mut allowed_error = String::new();

        if response.function_error().is_some() {
            let (error_type, message) = function_error(&body, input.disable_payload_logs);
            let report_error_type = report
                .as_ref()
                .ok()
                .and_then(|report| report.error_type.clone());
            let timed_out = report
                .as_ref()
                .is_ok_and(|report| report.status.as_deref() == Some("timeout"));
            let cannot_run = report_error_type
                .as_deref()
                .map(|kind| CANNOT_RUN_ERRORS.contains(&kind))
                .unwrap_or(false)
                || CANNOT_RUN_ERRORS.contains(&error_type.as_str())
                || timed_out;
            if cannot_run {
                let error_type = report_error_type
                    .filter(|kind| !kind.is_empty())
                    .unwrap_or(error_type);
                let error_type = if timed_out {
                    "Sandbox.Timedout".to_owned()
                } else {
                    error_type
                };
                return Ok(Outcome::CannotRun(FailedPower {
                    power: input.power,
                    reason: format!(
                        "invocation {index} of `{target}` failed with {error_type}: {message}"
                    ),
                    error_type,
                }));
            }
            if !input.allowed_exceptions.contains(&error_type) {
                return Err(TuningError::FunctionError {
                    target,
                    error_type,
                    message,
                });
            }
            tracing::debug!(memory_mb = input.power, error_type = %error_type, "function error allowed by allowedExceptions");
            allowed_error = error_type;
        }

        let report = report.map_err(|source| TuningError::MissingReport {
            target: target.clone(),
            source,
        })?;

        if !input.post_processor_arn.is_empty() {
            self.invoke_processor(client, "post-processor", &input.post_processor_arn, &body)
                .await?;
        }

        Ok(Outcome::Measured(InvocationResult {
            duration_ms: report.speed_ms(),
            billed_ms: report.billed_ms(),
            cold_start: report.init_duration_ms > 0.0 || report.restore_duration_ms > 0.0,
            allowed_error,
            index,
        }))
    }

    /// Invokes a pre- or post-processor with `payload` and returns its output.
    async fn invoke_processor(
        &self,
        client: &aws_sdk_lambda::Client,
        processor: &'static str,
        arn: &str,
        payload: &str,
    ) -> Result<String, TuningError> {
        let response = with_retries("Invoke", self.retries, || {
            client
                .invoke()
                .function_name(arn)
                .set_payload((!payload.is_empty()).then(|| Blob::new(payload.as_bytes().to_vec())))
                .send()
        })
        .await
        .map_err(|source| TuningError::aws(arn, source))?;
        let body = response
            .payload()
            .map(|blob| String::from_utf8_lossy(blob.as_ref()).into_owned())
            .unwrap_or_default();
        if response.function_error().is_some() {
            let (error_type, message) = function_error(&body, self.input.disable_payload_logs);
            return Err(TuningError::ProcessorError {
                processor,
                function: arn.to_owned(),
                error_type,
                message,
            });
        }
        Ok(body)
    }

    /// Reads the `payloadS3` object once for all invocations.
    async fn load_s3_payload(&self, region: &str) -> Result<Option<String>, TuningError> {
        if self.input.payload_s3.is_empty() {
            return Ok(None);
        }
        let (bucket, key) = crate::payload::parse_s3_url(&self.input.payload_s3)
            .map_err(|error| TuningError::Other(error.to_string()))?;
        let client = self.clients.s3(region);
        let object = with_retries("GetObject", self.retries, || {
            client.get_object().bucket(&bucket).key(&key).send()
        })
        .await
        .map_err(|source| TuningError::aws(&self.input.payload_s3, source))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|error| {
                TuningError::Other(format!(
                    "reading `{}` failed: {error}",
                    self.input.payload_s3
                ))
            })?
            .into_bytes();
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// Reads `errorType` and `errorMessage` from a function error payload.
fn function_error(body: &str, hide_payload: bool) -> (String, String) {
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let error_type = parsed
        .get("errorType")
        .and_then(|value| value.as_str())
        .unwrap_or("Unhandled")
        .to_owned();
    let message = if hide_payload {
        HIDDEN.to_owned()
    } else {
        parsed
            .get("errorMessage")
            .and_then(|value| value.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| body.chars().take(500).collect())
    };
    (error_type, message)
}

/// Turns the results of every invocation into the memory size's statistics.
fn compute_stats(
    input: &ExecutorInput,
    results: &[InvocationResult],
) -> Result<PowerStats, TuningError> {
    let snapshot = input.function.as_ref().expect("checked in run");
    let architecture: Architecture = snapshot
        .architecture
        .parse()
        .unwrap_or(Architecture::X86_64);
    let durations: Vec<f64> = results.iter().map(|result| result.duration_ms).collect();
    let billed: Vec<f64> = results.iter().map(|result| result.billed_ms).collect();
    let summary = summarize(&durations, &billed, input.discard_top_bottom);
    let cost_of =
        |billed_ms: f64| invocation_cost(billed_ms, input.power, &snapshot.region, architecture);

    Ok(PowerStats {
        power: input.power,
        // The original prices the average billed duration rounded up to whole ms.
        cost: cost_of(summary.billed_mean.ceil()),
        duration: summary.mean,
        total_cost: billed.iter().map(|&billed_ms| cost_of(billed_ms)).sum(),
        request_cost: results.len() as f64 * REQUEST_PRICE_USD,
        p50: summary.p50,
        p90: summary.p90,
        p99: summary.p99,
        std_dev: summary.std_dev,
        billed_duration: summary.billed_mean,
        invocations: results.len() as u32,
        errors: results
            .iter()
            .filter(|result| !result.allowed_error.is_empty())
            .count() as u32,
        cold_starts: results.iter().filter(|result| result.cold_start).count() as u32,
        function_errors: 0,
    })
}

/// Sends the current progress every [`HEARTBEAT_INTERVAL`], so that a long
/// invocation does not look like a dead worker and cancellation gets through.
async fn heartbeat_forever(
    ctx: &ActivityContext,
    progress: &Mutex<ExecutorProgress>,
    retries: &RetryCounter,
) {
    let mut ticker = tokio::time::interval(HEARTBEAT_INTERVAL);
    loop {
        ticker.tick().await;
        let snapshot = {
            let mut progress = progress.lock().expect("progress lock poisoned");
            progress.retries = retries.get();
            progress.clone()
        };
        if let Err(error) = ctx.record_heartbeat(snapshot).await {
            tracing::warn!(error = %error, "could not record executor heartbeat");
        }
    }
}

/// Heartbeats that reached the server: the SDK sends at most one per 80 % of
/// the heartbeat timeout, so this is an estimate from the elapsed time.
fn estimated_heartbeats(ctx: &ActivityContext, elapsed: Duration) -> u32 {
    let Some(timeout) = ctx
        .info()
        .heartbeat_timeout
        .filter(|timeout| !timeout.is_zero())
    else {
        return 0;
    };
    let interval = timeout.mul_f64(0.8).as_secs_f64();
    (elapsed.as_secs_f64() / interval).ceil() as u32
}

fn dedup(aliases: &[String]) -> Vec<&str> {
    let mut unique: Vec<&str> = Vec::new();
    for alias in aliases {
        if !unique.contains(&alias.as_str()) {
            unique.push(alias);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_error_reads_type_and_message() {
        let (error_type, message) =
            function_error(r#"{"errorType":"Boom","errorMessage":"it broke"}"#, false);

        assert_eq!(error_type, "Boom");
        assert_eq!(message, "it broke");
    }

    #[test]
    fn function_error_hides_message_when_asked() {
        let (error_type, message) =
            function_error(r#"{"errorType":"Boom","errorMessage":"secret"}"#, true);

        assert_eq!(error_type, "Boom");
        assert!(!message.contains("secret"));
    }

    #[test]
    fn function_error_without_json_is_unhandled() {
        let (error_type, _) = function_error("not json", false);

        assert_eq!(error_type, "Unhandled");
    }
}
