//! The optimizer: applies the winning memory size when `autoOptimize` is set.
//!
//! Without an alias it sets `$LATEST`. With `autoOptimizeAlias` it publishes a
//! version with the winning size, points the alias at it, and then sets
//! `$LATEST` back to its original size, so only the alias changes.

use powertune_proto::v1::{OptimizerInput, OptimizerOutput};

use crate::aws::AwsClients;
use crate::failure::TuningError;
use crate::lambda::{Function, snapshot_of};

pub async fn optimize(
    clients: &AwsClients,
    input: &OptimizerInput,
) -> Result<OptimizerOutput, TuningError> {
    let snapshot = snapshot_of(input.function.as_ref(), "optimizer")?;
    let retries = clients.retry_counter();
    let function = Function::of(clients, snapshot, &retries);

    function.wait_until_updated().await?;
    let current = function.configuration("$LATEST").await?;
    if current.memory_size() != i32::try_from(input.power).ok() {
        function.update(input.power, None).await?;
    }
    if input.alias.is_empty() {
        tracing::info!(function = %snapshot.function_arn, memory_mb = input.power, "optimized $LATEST");
        return Ok(OptimizerOutput {
            power: input.power,
            target: "$LATEST".to_owned(),
            version: "$LATEST".to_owned(),
        });
    }

    let description = format!("powertune optimized: {} MB", input.power);
    let version = function.publish(&description).await?;
    function.point_alias(&input.alias, &version).await?;
    if snapshot.memory_mb != input.power {
        function.update(snapshot.memory_mb, None).await?;
    }
    tracing::info!(function = %snapshot.function_arn, memory_mb = input.power, alias = %input.alias, version = %version, "optimized alias");
    Ok(OptimizerOutput {
        power: input.power,
        target: input.alias.clone(),
        version,
    })
}
