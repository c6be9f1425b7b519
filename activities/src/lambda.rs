//! The Lambda control-plane calls the activities share, each retried with
//! [`with_retries`] and mapped to a [`TuningError`] that names the resource.

use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput;
use aws_sdk_lambda::types::{LastUpdateStatus, State};

use powertune_proto::v1::FunctionSnapshot;

use crate::aws::{AwsClients, AwsFailure, ErrorClass, RetryCounter, with_retries};
use crate::failure::TuningError;

/// First pause between two reads of a function's state while waiting for
/// it; the pause doubles up to [`MAX_POLL_INTERVAL`]. Most updates finish
/// within a second or two, so the first reads come quickly.
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(50);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Returns the pause after `polls` reads of a function's state.
fn poll_interval(polls: u32) -> Duration {
    FIRST_POLL_INTERVAL
        .saturating_mul(1 << polls.min(8))
        .min(MAX_POLL_INTERVAL)
}

/// Maximum wait for an update or a version to become ready. AWS documents
/// about a minute for functions in a VPC; SnapStart snapshots can take longer.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// A function and the client of its region.
pub struct Function<'a> {
    pub client: Client,
    /// Unqualified ARN.
    pub arn: &'a str,
    pub retries: &'a RetryCounter,
}

/// Returns the function of an activity's input; every step's input carries it.
pub fn snapshot_of<'a>(
    snapshot: Option<&'a FunctionSnapshot>,
    step: &str,
) -> Result<&'a FunctionSnapshot, TuningError> {
    snapshot.ok_or_else(|| TuningError::Other(format!("{step} input has no function")))
}

impl<'a> Function<'a> {
    /// The function of `snapshot`, with the client of its region.
    pub fn of(
        clients: &AwsClients,
        snapshot: &'a FunctionSnapshot,
        retries: &'a RetryCounter,
    ) -> Self {
        Self {
            client: clients.lambda(&snapshot.region),
            arn: &snapshot.function_arn,
            retries,
        }
    }

    pub async fn configuration(
        &self,
        qualifier: &str,
    ) -> Result<GetFunctionConfigurationOutput, TuningError> {
        with_retries("GetFunctionConfiguration", self.retries, || {
            self.client
                .get_function_configuration()
                .function_name(self.arn)
                .qualifier(qualifier)
                .send()
        })
        .await
        .map_err(|source| {
            let resource = match qualifier {
                "$LATEST" => self.arn.to_owned(),
                _ => format!("{}:{qualifier}", self.arn),
            };
            TuningError::aws(resource, source)
        })
    }

    /// Waits until the last update of `$LATEST` finished, and fails if it failed.
    pub async fn wait_until_updated(&self) -> Result<(), TuningError> {
        let started = tokio::time::Instant::now();
        let mut polls = 0;
        loop {
            let config = self.configuration("$LATEST").await?;
            match config.last_update_status() {
                Some(LastUpdateStatus::InProgress) => {}
                Some(LastUpdateStatus::Failed) => {
                    return Err(TuningError::Other(format!(
                        "the last update of `{}` failed: {}",
                        self.arn,
                        config
                            .last_update_status_reason()
                            .unwrap_or("no reason given")
                    )));
                }
                _ if config.state() == Some(&State::Pending) => {}
                _ => return Ok(()),
            }
            if started.elapsed() > MAX_WAIT {
                return Err(TuningError::Other(format!(
                    "`{}` was still updating after {} s",
                    self.arn,
                    MAX_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(poll_interval(polls)).await;
            polls += 1;
        }
    }

    /// Waits until `qualifier` (an alias or version) is `Active`: SnapStart
    /// versions stay `Pending` while their snapshot is taken.
    pub async fn wait_until_active(&self, qualifier: &str) -> Result<(), TuningError> {
        let started = tokio::time::Instant::now();
        let mut polls = 0;
        loop {
            let config = self.configuration(qualifier).await?;
            match config.state() {
                Some(State::Active) | None => return Ok(()),
                Some(State::Failed) => {
                    return Err(TuningError::Other(format!(
                        "`{}:{qualifier}` is in state Failed: {}",
                        self.arn,
                        config.state_reason().unwrap_or("no reason given")
                    )));
                }
                _ => {}
            }
            if started.elapsed() > MAX_WAIT {
                return Err(TuningError::Other(format!(
                    "`{}:{qualifier}` did not become Active within {} s",
                    self.arn,
                    MAX_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(poll_interval(polls)).await;
            polls += 1;
        }
    }

    /// Sets memory and, when given, description of `$LATEST`, then waits for
    /// the update to finish.
    pub async fn update(
        &self,
        memory_mb: u32,
        description: Option<&str>,
    ) -> Result<(), TuningError> {
        let memory = i32::try_from(memory_mb).unwrap_or(i32::MAX);
        with_retries("UpdateFunctionConfiguration", self.retries, || {
            self.client
                .update_function_configuration()
                .function_name(self.arn)
                .memory_size(memory)
                .set_description(description.map(str::to_owned))
                .send()
        })
        .await
        .map_err(|source| TuningError::aws(self.arn, source))?;
        self.wait_until_updated().await
    }

    /// Publishes `$LATEST` as a version and returns its number. AWS returns
    /// the latest version unchanged when nothing changed since it was published.
    pub async fn publish(&self, description: &str) -> Result<String, TuningError> {
        let output = with_retries("PublishVersion", self.retries, || {
            self.client
                .publish_version()
                .function_name(self.arn)
                .description(description)
                .send()
        })
        .await
        .map_err(|source| TuningError::aws(self.arn, source))?;
        output.version().map(str::to_owned).ok_or_else(|| {
            TuningError::Other(format!(
                "PublishVersion of `{}` returned no version",
                self.arn
            ))
        })
    }

    /// Points `alias` at `version`, creating the alias when it does not exist.
    pub async fn point_alias(&self, alias: &str, version: &str) -> Result<(), TuningError> {
        let created = with_retries("CreateAlias", self.retries, || {
            self.client
                .create_alias()
                .function_name(self.arn)
                .name(alias)
                .function_version(version)
                .send()
        })
        .await;
        match created {
            Ok(_) => Ok(()),
            // A retried publisher finds the alias it created on its first attempt.
            Err(failure) if failure.code.as_deref() == Some("ResourceConflictException") => {
                with_retries("UpdateAlias", self.retries, || {
                    self.client
                        .update_alias()
                        .function_name(self.arn)
                        .name(alias)
                        .function_version(version)
                        .send()
                })
                .await
                .map(|_| ())
                .map_err(|source| TuningError::aws(format!("{}:{alias}", self.arn), source))
            }
            Err(source) => Err(TuningError::aws(format!("{}:{alias}", self.arn), source)),
        }
    }

    /// Deletes `alias`; an alias that does not exist counts as deleted.
    pub async fn delete_alias(&self, alias: &str) -> Result<(), TuningError> {
        let deleted = with_retries("DeleteAlias", self.retries, || {
            self.client
                .delete_alias()
                .function_name(self.arn)
                .name(alias)
                .send()
        })
        .await;
        self.ignore_not_found(deleted.map(|_| ()), alias)
    }

    /// Deletes one published version; a version that does not exist counts as deleted.
    pub async fn delete_version(&self, version: &str) -> Result<(), TuningError> {
        let deleted = with_retries("DeleteFunction", self.retries, || {
            self.client
                .delete_function()
                .function_name(self.arn)
                .qualifier(version)
                .send()
        })
        .await;
        self.ignore_not_found(deleted.map(|_| ()), version)
    }

    /// Treats a deletion of something already gone as done.
    fn ignore_not_found(
        &self,
        deleted: Result<(), AwsFailure>,
        qualifier: &str,
    ) -> Result<(), TuningError> {
        match deleted {
            Err(failure) if failure.class == ErrorClass::NotFound => Ok(()),
            Err(source) => Err(TuningError::aws(
                format!("{}:{qualifier}", self.arn),
                source,
            )),
            Ok(()) => Ok(()),
        }
    }

    /// Lists the published versions (not `$LATEST`) with their descriptions.
    pub async fn versions(&self) -> Result<Vec<(String, String)>, TuningError> {
        let mut versions = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = with_retries("ListVersionsByFunction", self.retries, || {
                self.client
                    .list_versions_by_function()
                    .function_name(self.arn)
                    .set_marker(marker.clone())
                    .max_items(50)
                    .send()
            })
            .await
            .map_err(|source| TuningError::aws(self.arn, source))?;
            for version in page.versions() {
                let number = version.version().unwrap_or_default();
                if number != "$LATEST" && !number.is_empty() {
                    versions.push((
                        number.to_owned(),
                        version.description().unwrap_or_default().to_owned(),
                    ));
                }
            }
            marker = page.next_marker().map(str::to_owned);
            if marker.is_none() {
                return Ok(versions);
            }
        }
    }

    /// Lists the names of the function's aliases.
    pub async fn aliases(&self) -> Result<Vec<String>, TuningError> {
        let mut aliases = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = with_retries("ListAliases", self.retries, || {
                self.client
                    .list_aliases()
                    .function_name(self.arn)
                    .set_marker(marker.clone())
                    .max_items(50)
                    .send()
            })
            .await
            .map_err(|source| TuningError::aws(self.arn, source))?;
            aliases.extend(
                page.aliases()
                    .iter()
                    .filter_map(|alias| alias.name().map(str::to_owned)),
            );
            marker = page.next_marker().map(str::to_owned);
            if marker.is_none() {
                return Ok(aliases);
            }
        }
    }
}
