//! The publisher: sets one memory size on `$LATEST`, waits for the update,
//! publishes a version and points an alias at it.
//!
//! It is safe to retry: an update that already took effect is skipped, and a
//! second publish of an unchanged `$LATEST` returns the version the first
//! attempt published, so a retried publisher never leaves an extra version.

use powertune_proto::v1::{FailedPower, PublisherInput, PublisherOutput};

use crate::aws::{AwsClients, ErrorClass};
use crate::failure::TuningError;
use crate::lambda::{Function, snapshot_of};

/// Failure type of a memory size that AWS would not set (a memory quota below
/// it, for instance).
pub const MEMORY_REJECTED: &str = "MemoryRejected";

pub async fn publish(
    clients: &AwsClients,
    input: &PublisherInput,
) -> Result<PublisherOutput, TuningError> {
    let snapshot = snapshot_of(input.function.as_ref(), "publisher")?;
    let retries = clients.retry_counter();
    let function = Function::of(clients, snapshot, &retries);

    function.wait_until_updated().await?;
    let current = function.configuration("$LATEST").await?;
    let memory_matches = current.memory_size() == i32::try_from(input.power).ok();
    let description_matches = input
        .description
        .as_deref()
        .is_none_or(|description| current.description() == Some(description));
    if !(memory_matches && description_matches) {
        match function
            .update(input.power, input.description.as_deref())
            .await
        {
            Ok(()) => {}
            Err(TuningError::Aws { source, .. }) if source.class == ErrorClass::Rejected => {
                tracing::warn!(function = %snapshot.function_arn, memory_mb = input.power, error = %source, "memory size rejected");
                return Ok(PublisherOutput {
                    alias: input.alias.clone(),
                    retries: retries.get(),
                    failure: Some(FailedPower {
                        power: input.power,
                        error_type: MEMORY_REJECTED.to_owned(),
                        reason: source.to_string(),
                    }),
                    ..Default::default()
                });
            }
            Err(error) => return Err(error),
        }
    }

    let version = function
        .publish(&format!("{} {}", snapshot.tuning_id, input.alias))
        .await?;
    let created_version = !snapshot.versions_before.contains(&version);
    function.point_alias(&input.alias, &version).await?;
    tracing::info!(
        function = %snapshot.function_arn,
        memory_mb = input.power,
        alias = %input.alias,
        version = %version,
        created_version,
        "published configuration"
    );

    Ok(PublisherOutput {
        alias: input.alias.clone(),
        version,
        created_version,
        retries: retries.get(),
        failure: None,
    })
}
