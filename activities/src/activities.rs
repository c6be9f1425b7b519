//! The activity definitions the worker registers. Each is a thin wrapper that
//! opens a tracing span with the workflow id and hands over to the module of
//! its step.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use powertune_proto::v1::{
    AnalyzerInput, CleanerInput, CleanerOutput, ExecutorInput, ExecutorOutput, OptimizerInput,
    OptimizerOutput, PowerTuningOutput, PublisherInput, PublisherOutput, TuningPlan,
};
use temporalio_macros::activities;
use temporalio_sdk::ApplicationFailure;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use tracing::Instrument;

use crate::allow_list::AllowList;
use crate::aws::AwsClients;
use crate::failure::TuningError;
use crate::input::InputDefaults;

/// Failure type of an analysis that had no measured memory size.
pub const NO_DATA: &str = "NoData";

/// Settings the worker's operator sets for every run.
pub struct ActivitiesConfig {
    /// Power values used when the input leaves `powerValues` out.
    pub default_power_values: Vec<u32>,
    /// Functions this worker may tune; empty permits every function.
    pub allow_list: AllowList,
}

/// The activities of the PowerTuning workflow, sharing one set of AWS clients.
pub struct PowerTuningActivities {
    clients: AwsClients,
    defaults: InputDefaults,
    allow_list: AllowList,
}

impl PowerTuningActivities {
    pub fn new(clients: AwsClients, config: ActivitiesConfig) -> Self {
        Self {
            clients,
            defaults: InputDefaults {
                power_values: config.default_power_values,
            },
            allow_list: config.allow_list,
        }
    }
}

fn span(ctx: &ActivityContext, function: &str, memory_mb: Option<u32>) -> tracing::Span {
    let info = ctx.info();
    tracing::info_span!(
        "activity",
        activity = %info.activity_type,
        workflow_id = info.workflow_id.as_deref().unwrap_or_default(),
        attempt = info.attempt,
        function,
        memory_mb,
    )
}

/// Interval of the heartbeats of the control-plane activities. They carry no
/// progress; they let the server notice a dead worker within the heartbeat
/// timeout instead of the much longer start-to-close timeout.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);

/// Runs `work`, heartbeating while it runs; ends with a cancellation when
/// the activity is cancelled.
async fn with_heartbeats<T>(
    ctx: &ActivityContext,
    work: impl Future<Output = Result<T, TuningError>>,
) -> Result<T, ActivityError> {
    let heartbeats = async {
        let mut ticker = tokio::time::interval(HEARTBEAT_INTERVAL);
        loop {
            ticker.tick().await;
            if let Err(error) = ctx.record_heartbeat(()).await {
                tracing::warn!(error = %error, "could not record heartbeat");
            }
        }
    };
    tokio::select! {
        result = work => result.map_err(TuningError::into_activity_error),
        () = heartbeats => unreachable!("the heartbeat loop never ends"),
        () = ctx.cancelled() => Err(ActivityError::cancelled()),
    }
}

fn function_arn(snapshot: Option<&powertune_proto::v1::FunctionSnapshot>) -> &str {
    snapshot
        .map(|snapshot| snapshot.function_arn.as_str())
        .unwrap_or_default()
}

#[activities]
impl PowerTuningActivities {
    /// Validates the raw workflow input and reads the function.
    #[activity(name = "initializer")]
    pub async fn initializer(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: serde_json::Value,
    ) -> Result<TuningPlan, ActivityError> {
        let function = input
            .get("lambdaARN")
            .and_then(|arn| arn.as_str())
            .unwrap_or_default()
            .to_owned();
        let run_id = ctx
            .info()
            .workflow_run_id
            .clone()
            .unwrap_or_else(|| ctx.info().activity_id.clone());
        crate::initializer::initialize(
            &self.clients,
            &self.defaults,
            &self.allow_list,
            &input,
            &run_id,
        )
        .instrument(span(&ctx, &function, None))
        .await
        .map_err(TuningError::into_activity_error)
    }

    /// Sets one memory size, publishes a version and points an alias at it.
    #[activity(name = "publisher")]
    pub async fn publisher(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: PublisherInput,
    ) -> Result<PublisherOutput, ActivityError> {
        crate::publisher::publish(&self.clients, &input)
            .instrument(span(
                &ctx,
                function_arn(input.function.as_ref()),
                Some(input.power),
            ))
            .await
            .map_err(TuningError::into_activity_error)
    }

    /// Invokes one memory size `num` times and measures it.
    #[activity(name = "executor")]
    pub async fn executor(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: ExecutorInput,
    ) -> Result<ExecutorOutput, ActivityError> {
        let span = span(
            &ctx,
            function_arn(input.function.as_ref()),
            Some(input.power),
        );
        crate::executor::execute(&self.clients, &ctx, &input)
            .instrument(span)
            .await
    }

    /// Deletes what the run created and restores `$LATEST`.
    #[activity(name = "cleaner")]
    pub async fn cleaner(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: CleanerInput,
    ) -> Result<CleanerOutput, ActivityError> {
        let span = span(&ctx, function_arn(input.function.as_ref()), None);
        with_heartbeats(
            &ctx,
            crate::cleaner::clean(&self.clients, &input).instrument(span),
        )
        .await
    }

    /// Picks the winning memory size.
    #[activity(name = "analyzer")]
    pub async fn analyzer(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: AnalyzerInput,
    ) -> Result<PowerTuningOutput, ActivityError> {
        crate::analysis::analyze(&input).map_err(|error| {
            ActivityError::application(
                ApplicationFailure::builder(error.to_string())
                    .type_name(NO_DATA.to_owned())
                    .non_retryable(true)
                    .build(),
            )
        })
    }

    /// Names the workflow that holds a function's tuning lock, or returns an
    /// empty string when it cannot be found.
    #[activity(name = "lockOwner")]
    pub async fn lock_owner(
        self: Arc<Self>,
        ctx: ActivityContext,
        lock_workflow_id: String,
    ) -> Result<String, ActivityError> {
        Ok(
            crate::lock_owner::lock_owner(&ctx.client(), &lock_workflow_id)
                .await
                .unwrap_or_default(),
        )
    }

    /// Applies the winning memory size.
    #[activity(name = "optimizer")]
    pub async fn optimizer(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: OptimizerInput,
    ) -> Result<OptimizerOutput, ActivityError> {
        crate::optimizer::optimize(&self.clients, &input)
            .instrument(span(
                &ctx,
                function_arn(input.function.as_ref()),
                Some(input.power),
            ))
            .await
            .map_err(TuningError::into_activity_error)
    }
}
