//! A function as Lambda keeps it: the mutable `$LATEST` configuration with its update state,
//! immutable published versions, aliases, and the execution environments of each version.

use std::collections::BTreeMap;
use std::time::Instant;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::model::{Architecture, Profile};
use crate::spec::{FunctionSpec, LogFormat, profile_with_environment};

/// Settings that a published version copies from `$LATEST`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub description: String,
    pub environment: BTreeMap<String, String>,
    pub architecture: Architecture,
    pub runtime: String,
    pub handler: String,
    pub role: String,
    pub log_format: LogFormat,
    pub snapstart: bool,
    pub profile: Profile,
    pub code_sha256: String,
    pub code_size: u64,
}

impl Config {
    /// Builds the configuration of a function created from a specification.
    pub fn from_spec(spec: &FunctionSpec, account_id: &str) -> Self {
        Config {
            memory_mb: spec.memory_mb,
            timeout_s: spec.timeout_s,
            description: spec.description.clone(),
            environment: spec.environment.clone(),
            architecture: spec.architecture,
            runtime: spec.runtime.clone(),
            handler: "index.handler".to_owned(),
            role: format!("arn:aws:iam::{account_id}:role/lambda-emulator"),
            log_format: spec.log_format,
            snapstart: spec.snapstart,
            profile: spec.profile.clone(),
            code_sha256: code_sha256(spec.name.as_bytes()),
            code_size: spec.name.len() as u64,
        }
    }

    /// Profile in effect: the stored profile with the `EMULATOR_*` variables applied.
    pub fn effective_profile(&self) -> Profile {
        // NOTE: the variables are validated when they are set, so the fallback is not reached.
        profile_with_environment(&self.profile, &self.environment)
            .unwrap_or_else(|_| self.profile.clone())
    }
}

/// Base64 of the SHA-256 of a deployment package, as `CodeSha256` reports it.
pub fn code_sha256(code: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(code))
}

/// Update state of `$LATEST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateState {
    Successful,
    InProgress { until: Instant },
}

/// Published, immutable version.
#[derive(Debug, Clone)]
pub struct Version {
    pub number: u64,
    pub config: Config,
    /// `$LATEST` configuration the version was published from, to detect "nothing changed".
    pub source: Config,
    pub revision_id: String,
    pub last_modified: String,
    /// Set while a SnapStart snapshot is being created.
    pub pending_until: Option<Instant>,
}

/// Alias pointing at a version, with optional weighted routing to a second version.
#[derive(Debug, Clone)]
pub struct Alias {
    pub name: String,
    pub function_version: String,
    pub description: String,
    pub revision_id: String,
    pub additional_weights: BTreeMap<String, f64>,
}

/// One function and everything that belongs to it.
#[derive(Debug, Clone)]
pub struct Function {
    /// Distinguishes a function from an earlier one of the same name.
    pub generation: u64,
    pub name: String,
    pub latest: Config,
    pub revision_id: String,
    pub last_modified: String,
    /// Set while the function is being created (`State: Pending`).
    pub pending_until: Option<Instant>,
    pub update: UpdateState,
    pub versions: BTreeMap<u64, Version>,
    pub next_version: u64,
    pub aliases: BTreeMap<String, Alias>,
    pub reserved_concurrency: Option<u32>,
    pub in_flight: u32,
    /// Idle execution environments per executed version.
    pub idle_environments: BTreeMap<String, u32>,
    /// Incremented on every configuration change, so environments of an older `$LATEST` are
    /// not reused.
    pub latest_epoch: u64,
}

impl Function {
    pub fn new(
        generation: u64,
        name: &str,
        latest: Config,
        pending_until: Option<Instant>,
    ) -> Self {
        Function {
            generation,
            name: name.to_owned(),
            latest,
            revision_id: new_revision(),
            last_modified: timestamp(),
            pending_until,
            update: UpdateState::Successful,
            versions: BTreeMap::new(),
            next_version: 1,
            aliases: BTreeMap::new(),
            reserved_concurrency: None,
            in_flight: 0,
            idle_environments: BTreeMap::new(),
            latest_epoch: 0,
        }
    }

    /// Completes the creation, updates and snapshots whose deadline has passed.
    pub fn refresh(&mut self, now: Instant) {
        if self.pending_until.is_some_and(|until| until <= now) {
            self.pending_until = None;
        }
        if let UpdateState::InProgress { until } = self.update
            && until <= now
        {
            self.update = UpdateState::Successful;
            self.revision_id = new_revision();
        }
        for version in self.versions.values_mut() {
            if version.pending_until.is_some_and(|until| until <= now) {
                version.pending_until = None;
            }
        }
    }

    /// Rejects a change of `$LATEST` while the function is pending or an update is running.
    pub fn ensure_modifiable(&self, arn: &str) -> Result<(), ApiError> {
        if self.pending_until.is_some() {
            return Err(ApiError::pending());
        }
        if matches!(self.update, UpdateState::InProgress { .. }) {
            return Err(ApiError::update_in_progress(arn));
        }
        Ok(())
    }

    /// Publishes `$LATEST`, or returns the latest version when nothing changed since it was
    /// published. Version numbers are never reused.
    pub fn publish(
        &mut self,
        description: Option<String>,
        snapstart_until: Option<Instant>,
    ) -> u64 {
        if let Some(last) = self.versions.values().next_back()
            && last.source == self.latest
            && description
                .as_ref()
                .is_none_or(|d| *d == last.config.description)
        {
            return last.number;
        }

        let number = self.next_version;
        self.next_version += 1;
        let mut config = self.latest.clone();
        if let Some(description) = description {
            config.description = description;
        }
        let pending_until = if self.latest.snapstart {
            snapstart_until
        } else {
            None
        };
        self.versions.insert(
            number,
            Version {
                number,
                config,
                source: self.latest.clone(),
                revision_id: new_revision(),
                last_modified: timestamp(),
                pending_until,
            },
        );
        self.revision_id = new_revision();
        number
    }

    /// Version an alias or version qualifier resolves to: `$LATEST` or a version number.
    pub fn resolve(&self, qualifier: Option<&str>) -> Option<String> {
        match qualifier {
            None | Some("$LATEST") => Some("$LATEST".to_owned()),
            Some(q) if q.chars().all(|c| c.is_ascii_digit()) => {
                let number: u64 = q.parse().ok()?;
                self.versions
                    .contains_key(&number)
                    .then(|| number.to_string())
            }
            Some(alias) => self.aliases.get(alias).map(|a| a.function_version.clone()),
        }
    }

    /// Configuration of `$LATEST` or of a version number.
    pub fn config_of(&self, version: &str) -> Option<&Config> {
        if version == "$LATEST" {
            return Some(&self.latest);
        }
        let number: u64 = version.parse().ok()?;
        self.versions.get(&number).map(|v| &v.config)
    }

    /// Aliases that route any traffic to `version`.
    pub fn aliases_referencing(&self, version: &str) -> Vec<String> {
        self.aliases
            .values()
            .filter(|alias| {
                alias.function_version == version || alias.additional_weights.contains_key(version)
            })
            .map(|alias| alias.name.clone())
            .collect()
    }
}

/// New random `RevisionId`.
pub fn new_revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Current time in the `LastModified` format, e.g. `2019-07-17T23:10:15.832+0000`.
pub fn timestamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn function() -> Function {
        let spec = FunctionSpec {
            name: "f".to_owned(),
            ..FunctionSpec::default()
        };
        Function::new(1, "f", Config::from_spec(&spec, "123456789012"), None)
    }

    #[test]
    fn publish_without_changes_returns_latest_version() {
        let mut function = function();
        assert_eq!(function.publish(None, None), 1);
        assert_eq!(function.publish(None, None), 1);
        function.latest.memory_mb = 256;
        assert_eq!(function.publish(None, None), 2);
    }

    #[test]
    fn version_numbers_are_not_reused() {
        let mut function = function();
        function.publish(None, None);
        function.latest.description = "two".to_owned();
        function.publish(None, None);
        function.versions.remove(&2);
        function.latest.description = "three".to_owned();
        assert_eq!(function.publish(None, None), 3);
    }

    #[test]
    fn update_completes_at_its_deadline() {
        let mut function = function();
        let start = Instant::now();
        function.update = UpdateState::InProgress {
            until: start + Duration::from_millis(50),
        };
        let revision = function.revision_id.clone();
        function.refresh(start);
        assert!(function.ensure_modifiable("arn").is_err());
        function.refresh(start + Duration::from_millis(50));
        assert!(function.ensure_modifiable("arn").is_ok());
        assert_ne!(function.revision_id, revision);
    }

    #[test]
    fn alias_resolves_to_its_version() {
        let mut function = function();
        function.publish(None, None);
        function.aliases.insert(
            "live".to_owned(),
            Alias {
                name: "live".to_owned(),
                function_version: "1".to_owned(),
                description: String::new(),
                revision_id: new_revision(),
                additional_weights: BTreeMap::new(),
            },
        );
        assert_eq!(function.resolve(Some("live")).as_deref(), Some("1"));
        assert_eq!(function.resolve(Some("9")), None);
        assert_eq!(function.aliases_referencing("1"), vec!["live".to_owned()]);
    }
}
