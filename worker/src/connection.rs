//! Temporal connection settings shared by `worker` and `tune`.
//!
//! Settings follow Temporal's environment configuration: a profile from
//! `temporal.toml` (`--config-file` / `TEMPORAL_CONFIG_FILE`, else
//! `$XDG_CONFIG_HOME/temporalio/temporal.toml`; `--profile` / `TEMPORAL_PROFILE`,
//! else `default`), then the `TEMPORAL_*` environment variables, then the flags
//! below. The SDK turns the merged profile into connection options, so the
//! rules stay the same as in the other Temporal SDKs and the CLI: a bare
//! `host:port` gets `https://` when TLS is on, and an API key turns TLS on
//! unless TLS is disabled explicitly.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use clap::builder::BoolishValueParser;
use temporalio_client::tonic::{Code, Status};
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions};
use temporalio_common::envconfig::{
    ClientConfigProfile, ClientConfigTLS, DataSource, LoadClientConfigProfileOptions,
    load_client_config_profile,
};

/// Namespace used when neither the profile, the environment nor `--namespace` names one.
const DEFAULT_NAMESPACE: &str = "default";

/// Limit on establishing the TCP and TLS connection, so that a wrong address
/// fails instead of waiting for the operating system's TCP timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Address, namespace and credentials of the Temporal server.
#[derive(Args, Clone, Default)]
pub struct ConnectionArgs {
    /// Temporal frontend address, `host:port` or a URL
    /// [default: the profile's address, else localhost:7233]
    #[arg(long, env = "TEMPORAL_ADDRESS", value_name = "HOST:PORT")]
    pub address: Option<String>,

    /// Temporal namespace
    /// [default: the profile's namespace, else `default`]
    #[arg(long, env = "TEMPORAL_NAMESPACE")]
    pub namespace: Option<String>,

    /// API key sent as a bearer token. It turns TLS on unless `--tls=false` is given
    /// [default: none]
    #[arg(
        long,
        env = "TEMPORAL_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,

    /// Connect with TLS. `--tls=false` turns it off, even with an API key
    /// [default: off, on with an API key or any TLS setting]
    #[arg(
        long,
        env = "TEMPORAL_TLS",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = BoolishValueParser::new(),
    )]
    pub tls: Option<bool>,

    /// PEM file of the client certificate for mutual TLS, used with `--tls-key-path`
    /// [default: none]
    #[arg(long, env = "TEMPORAL_TLS_CLIENT_CERT_PATH", value_name = "FILE")]
    pub tls_cert_path: Option<PathBuf>,

    /// PEM file of the client private key for mutual TLS
    /// [default: none]
    #[arg(long, env = "TEMPORAL_TLS_CLIENT_KEY_PATH", value_name = "FILE")]
    pub tls_key_path: Option<PathBuf>,

    /// PEM file of the certificate authority that signed the server's certificate
    /// [default: the system's roots]
    #[arg(long, env = "TEMPORAL_TLS_SERVER_CA_CERT_PATH", value_name = "FILE")]
    pub tls_ca_path: Option<PathBuf>,

    /// Server name expected in the server's certificate (SNI)
    /// [default: the address's host]
    #[arg(long, env = "TEMPORAL_TLS_SERVER_NAME", value_name = "NAME")]
    pub tls_server_name: Option<String>,

    /// Profile of the configuration file to use
    /// [default: `default`]
    #[arg(long, env = "TEMPORAL_PROFILE")]
    pub profile: Option<String>,

    /// Temporal configuration file (TOML)
    /// [default: $XDG_CONFIG_HOME/temporalio/temporal.toml]
    #[arg(long, env = "TEMPORAL_CONFIG_FILE", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
}

/// Resolved connection settings, ready to connect.
pub struct ResolvedConnection {
    pub options: ConnectionOptions,
    pub namespace: String,
}

impl ResolvedConnection {
    /// Returns the server address without credentials, for logs and messages.
    pub fn address(&self) -> String {
        let mut target = self.options.target.clone();
        let _ = target.set_password(None);
        let _ = target.set_username("");
        target.to_string()
    }

    /// Returns whether the connection uses TLS.
    pub fn tls(&self) -> bool {
        self.options.tls_options.is_some()
    }

    /// Returns whether an API key is configured, without exposing the key.
    pub fn has_api_key(&self) -> bool {
        self.options.api_key.is_some()
    }

    /// Connects and checks that the server responds. An unreachable server
    /// yields an error that names the address and the settings that fix it.
    pub async fn connect(self) -> Result<Client> {
        let address = self.address();
        let connection = Connection::connect(self.options).await.map_err(|error| {
            anyhow!(
                "failed to connect to the Temporal server at {address}: {}; \
                 check --address / TEMPORAL_ADDRESS and the TLS settings (--tls / TEMPORAL_TLS)",
                root_cause(&error)
            )
        })?;
        Client::new(connection, ClientOptions::new(self.namespace).build())
            .context("failed to create the Temporal client")
    }
}

impl ConnectionArgs {
    /// Loads the configured profile, applies the `TEMPORAL_*` environment and
    /// then these flags, and builds the connection options from the result.
    pub fn resolve(&self) -> Result<ResolvedConnection> {
        self.resolve_with_env(None)
    }

    /// Resolves like [`Self::resolve`], reading the `TEMPORAL_*` variables
    /// from `env` instead of the process environment when it is given.
    fn resolve_with_env(
        &self,
        env: Option<&HashMap<String, String>>,
    ) -> Result<ResolvedConnection> {
        let load_options = LoadClientConfigProfileOptions::builder()
            .maybe_config_source(
                self.config_file
                    .as_ref()
                    .map(|path| DataSource::Path(path.to_string_lossy().into_owned())),
            )
            .maybe_config_file_profile(self.profile.clone())
            .build();
        // NOTE: `ConfigError` is neither Send nor Sync, so it is turned into
        // text here instead of being kept as the source of the anyhow error.
        let mut profile = load_client_config_profile(load_options, env).map_err(|error| {
            anyhow!(
                "failed to load the Temporal client configuration: {error}; \
                 check --profile / TEMPORAL_PROFILE and --config-file / TEMPORAL_CONFIG_FILE"
            )
        })?;

        self.apply_to(&mut profile);

        let namespace = profile
            .namespace
            .clone()
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        let mut options = ConnectionOptions::try_from(profile)
            .map_err(|error| anyhow!("invalid Temporal connection settings: {error}"))?;
        options.connect_timeout = Some(CONNECT_TIMEOUT);
        options.identity = client_identity();

        Ok(ResolvedConnection { options, namespace })
    }

    /// Overrides the profile's fields with the flags that were given.
    fn apply_to(&self, profile: &mut ClientConfigProfile) {
        if let Some(address) = &self.address {
            profile.address = Some(address.clone());
        }
        if let Some(namespace) = &self.namespace {
            profile.namespace = Some(namespace.clone());
        }
        if let Some(api_key) = &self.api_key {
            profile.api_key = Some(api_key.clone());
        }

        let any_tls_setting = self.tls.is_some()
            || self.tls_cert_path.is_some()
            || self.tls_key_path.is_some()
            || self.tls_ca_path.is_some()
            || self.tls_server_name.is_some();
        if !any_tls_setting {
            return;
        }

        let tls = profile.tls.get_or_insert_with(ClientConfigTLS::default);
        if let Some(enabled) = self.tls {
            tls.disabled = Some(!enabled);
        }
        if let Some(path) = &self.tls_cert_path {
            tls.client_cert = Some(path_source(path));
        }
        if let Some(path) = &self.tls_key_path {
            tls.client_key = Some(path_source(path));
        }
        if let Some(path) = &self.tls_ca_path {
            tls.server_ca_cert = Some(path_source(path));
        }
        if let Some(name) = &self.tls_server_name {
            tls.server_name = Some(name.clone());
        }
    }
}

/// Returns the innermost source of `error`, which for a connection failure is
/// the operating system's or the TLS library's message.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

fn path_source(path: &std::path::Path) -> DataSource {
    DataSource::Path(path.to_string_lossy().into_owned())
}

/// The identity recorded in the workflow history, `PID@HOST` as the other
/// Temporal SDKs set it.
fn client_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!("{}@{host}", std::process::id())
}

/// Whether a gRPC status says that the namespace does not exist.
pub fn is_namespace_not_found(status: &Status) -> bool {
    status.code() == Code::NotFound && status.message().to_lowercase().contains("namespace")
}

/// The message for a namespace that the server does not know.
pub fn namespace_not_found_message(namespace: &str, address: &str) -> String {
    format!(
        "namespace `{namespace}` was not found on the Temporal server at {address}; \
         create it, or pass an existing one with --namespace / TEMPORAL_NAMESPACE"
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Resolves `args` against a configuration file with `config` and the
    /// environment `env`, ignoring the test process's own environment.
    fn resolve(
        args: ConnectionArgs,
        config: &str,
        env: &[(&str, &str)],
    ) -> Result<ResolvedConnection> {
        let mut file = tempfile::NamedTempFile::new().expect("temporary file");
        file.write_all(config.as_bytes()).expect("config written");
        let args = ConnectionArgs {
            config_file: Some(file.path().to_owned()),
            ..args
        };
        let env: HashMap<String, String> = env
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        args.resolve_with_env(Some(&env))
    }

    const STAGING: &str = r#"
        [profile.default]
        address = "127.0.0.1:7000"

        [profile.staging]
        address = "127.0.0.1:7001"
        namespace = "staging-ns"
    "#;

    #[test]
    fn defaults_without_settings() {
        let resolved = resolve(ConnectionArgs::default(), "", &[]).expect("settings resolve");

        assert_eq!(resolved.address(), "http://localhost:7233/");
        assert_eq!(resolved.namespace, "default");
        assert!(!resolved.tls());
        assert!(!resolved.has_api_key());
    }

    #[test]
    fn profile_selected_by_flag() {
        let args = ConnectionArgs {
            profile: Some("staging".into()),
            ..Default::default()
        };

        let resolved = resolve(args, STAGING, &[]).expect("settings resolve");

        assert_eq!(resolved.address(), "http://127.0.0.1:7001/");
        assert_eq!(resolved.namespace, "staging-ns");
    }

    #[test]
    fn profile_selected_by_environment() {
        let resolved = resolve(
            ConnectionArgs::default(),
            STAGING,
            &[("TEMPORAL_PROFILE", "staging")],
        )
        .expect("settings resolve");

        assert_eq!(resolved.address(), "http://127.0.0.1:7001/");
    }

    #[test]
    fn environment_overrides_profile() {
        let env = [
            ("TEMPORAL_ADDRESS", "127.0.0.1:7002"),
            ("TEMPORAL_NAMESPACE", "env-ns"),
        ];

        let resolved = resolve(ConnectionArgs::default(), STAGING, &env).expect("settings resolve");

        assert_eq!(resolved.address(), "http://127.0.0.1:7002/");
        assert_eq!(resolved.namespace, "env-ns");
    }

    #[test]
    fn flags_override_environment_and_profile() {
        let args = ConnectionArgs {
            address: Some("127.0.0.1:7999".into()),
            namespace: Some("flag-ns".into()),
            profile: Some("staging".into()),
            ..Default::default()
        };
        let env = [
            ("TEMPORAL_ADDRESS", "127.0.0.1:7002"),
            ("TEMPORAL_NAMESPACE", "env-ns"),
        ];

        let resolved = resolve(args, STAGING, &env).expect("settings resolve");

        assert_eq!(resolved.address(), "http://127.0.0.1:7999/");
        assert_eq!(resolved.namespace, "flag-ns");
    }

    #[test]
    fn api_key_turns_tls_on() {
        let args = ConnectionArgs {
            address: Some("127.0.0.1:7233".into()),
            api_key: Some("secret".into()),
            ..Default::default()
        };

        let resolved = resolve(args, "", &[]).expect("settings resolve");

        assert!(resolved.tls());
        assert!(resolved.has_api_key());
        assert_eq!(resolved.address(), "https://127.0.0.1:7233/");
    }

    #[test]
    fn api_key_from_environment_turns_tls_on() {
        let resolved = resolve(
            ConnectionArgs::default(),
            "",
            &[("TEMPORAL_API_KEY", "secret")],
        )
        .expect("settings resolve");

        assert!(resolved.tls());
        assert!(resolved.has_api_key());
    }

    #[test]
    fn tls_false_wins_over_api_key() {
        let args = ConnectionArgs {
            address: Some("127.0.0.1:7233".into()),
            api_key: Some("secret".into()),
            tls: Some(false),
            ..Default::default()
        };

        let resolved = resolve(args, "", &[]).expect("settings resolve");

        assert!(!resolved.tls());
        assert_eq!(resolved.address(), "http://127.0.0.1:7233/");
    }

    #[test]
    fn tls_server_name_turns_tls_on() {
        let args = ConnectionArgs {
            address: Some("127.0.0.1:7233".into()),
            tls_server_name: Some("temporal.internal".into()),
            ..Default::default()
        };

        let resolved = resolve(args, "", &[]).expect("settings resolve");

        assert!(resolved.tls());
        assert_eq!(resolved.address(), "https://127.0.0.1:7233/");
    }

    #[test]
    fn certificate_without_key_is_rejected() {
        let args = ConnectionArgs {
            tls_cert_path: Some("/nonexistent/client.pem".into()),
            ..Default::default()
        };

        let error = resolve(args, "", &[])
            .err()
            .expect("a certificate needs a key");

        let message = format!("{error:#}");
        assert!(message.contains("client key"), "{message}");
    }

    #[test]
    fn missing_profile_names_the_flag() {
        let args = ConnectionArgs {
            profile: Some("absent".into()),
            ..Default::default()
        };

        let error = resolve(args, STAGING, &[])
            .err()
            .expect("unknown profile is rejected");

        let message = format!("{error:#}");
        assert!(message.contains("'absent' not found"), "{message}");
        assert!(
            message.contains("--profile / TEMPORAL_PROFILE"),
            "{message}"
        );
    }

    #[test]
    fn address_hides_credentials() {
        let args = ConnectionArgs {
            address: Some("http://user:pass@127.0.0.1:7233".into()),
            ..Default::default()
        };

        let resolved = resolve(args, "", &[]).expect("settings resolve");

        assert_eq!(resolved.address(), "http://127.0.0.1:7233/");
    }

    #[test]
    fn namespace_not_found_detected() {
        let status = Status::not_found("Namespace missing-ns is not found.");

        assert!(is_namespace_not_found(&status));
        assert!(!is_namespace_not_found(&Status::not_found(
            "workflow not found"
        )));
        assert!(!is_namespace_not_found(&Status::unavailable("namespace")));
    }
}
