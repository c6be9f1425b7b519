//! The cleaner: deletes the aliases and versions a tuning run created, and
//! only those, then restores the memory size and description of `$LATEST`.
//!
//! It runs after every run, successful, failed or cancelled. Each step is
//! idempotent, so a retried cleaner finishes what an earlier attempt started.
//! Versions are found two ways: the ones the workflow recorded, and any
//! version whose description carries the run's marker (a publisher that
//! crashed after publishing had no chance to report its version).

use powertune_proto::v1::{CleanerInput, CleanerOutput};

use crate::aws::AwsClients;
use crate::failure::TuningError;
use crate::lambda::{Function, snapshot_of};

pub async fn clean(
    clients: &AwsClients,
    input: &CleanerInput,
) -> Result<CleanerOutput, TuningError> {
    let snapshot = snapshot_of(input.function.as_ref(), "cleaner")?;
    let retries = clients.retry_counter();
    let function = Function::of(clients, snapshot, &retries);
    let mut left_behind: Vec<String> = Vec::new();
    let mut output = CleanerOutput::default();

    // Aliases first: AWS refuses to delete a version an alias points at.
    for alias in &input.aliases {
        match function.delete_alias(alias).await {
            Ok(()) => output.deleted_aliases.push(alias.clone()),
            Err(error) => {
                tracing::warn!(alias = %alias, error = %error, "could not delete alias");
                left_behind.push(format!("alias {alias} ({error})"));
            }
        }
    }

    let mut versions: Vec<String> = input.versions.clone();
    match function.versions().await {
        Ok(published) => {
            let marker = format!("{} ", snapshot.tuning_id);
            versions.extend(
                published
                    .into_iter()
                    .filter(|(_, description)| {
                        !snapshot.tuning_id.is_empty() && description.starts_with(&marker)
                    })
                    .map(|(number, _)| number),
            );
        }
        Err(error) => {
            tracing::warn!(error = %error, "could not list versions; deleting the recorded ones only")
        }
    }
    versions.sort_by_key(|version| version.parse::<u64>().unwrap_or(u64::MAX));
    versions.dedup();

    for version in versions {
        if snapshot.versions_before.contains(&version) {
            tracing::debug!(version = %version, "keeping version that existed before the run");
            continue;
        }
        match function.delete_version(&version).await {
            Ok(()) => output.deleted_versions.push(version),
            Err(error) => {
                tracing::warn!(version = %version, error = %error, "could not delete version");
                left_behind.push(format!("version {version} ({error})"));
            }
        }
    }

    match restore_latest(&function, snapshot.memory_mb, &snapshot.description).await {
        Ok(()) => output.restored_latest = true,
        Err(error) => {
            tracing::warn!(error = %error, "could not restore $LATEST");
            left_behind.push(format!(
                "$LATEST memory {} MB and description {:?} not restored ({error})",
                snapshot.memory_mb, snapshot.description
            ));
        }
    }

    output.retries = retries.get();
    if !left_behind.is_empty() {
        return Err(TuningError::Other(format!(
            "cleanup of `{}` left behind: {}",
            snapshot.function_arn,
            left_behind.join("; ")
        )));
    }
    tracing::info!(
        function = %snapshot.function_arn,
        aliases = output.deleted_aliases.len(),
        versions = output.deleted_versions.len(),
        "cleaned up"
    );
    Ok(output)
}

/// Sets `$LATEST` back to its memory size and description, without
/// publishing, when either differs.
async fn restore_latest(
    function: &Function<'_>,
    memory_mb: u32,
    description: &str,
) -> Result<(), TuningError> {
    function.wait_until_updated().await?;
    let current = function.configuration("$LATEST").await?;
    let memory_matches = current.memory_size() == i32::try_from(memory_mb).ok();
    let description_matches = current.description().unwrap_or_default() == description;
    if memory_matches && description_matches {
        return Ok(());
    }
    function.update(memory_mb, Some(description)).await
}
