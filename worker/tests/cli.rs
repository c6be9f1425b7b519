//! Runs the built `powertune` binary the way users do and checks its exit
//! codes and messages. No server is needed: every Temporal address here is a
//! closed port on 127.0.0.1.

use std::process::{Command, Output};

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:fn";

/// A loopback address where nothing listens: port 1 is assigned to TCPMUX,
/// which current systems do not serve.
const CLOSED_ADDRESS: &str = "127.0.0.1:1";

/// Runs `powertune ARGS` with a clean environment plus `env`, so neither the
/// caller's Temporal profile nor its AWS credentials are used.
fn powertune(args: &[&str], env: &[(&str, &str)]) -> Output {
    let config_dir = tempfile::tempdir().expect("temporary directory");
    Command::new(env!("CARGO_BIN_EXE_powertune"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "TEMPORAL_CONFIG_FILE",
            config_dir.path().join("absent.toml"),
        )
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .expect("powertune runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn worker_unreachable_server_exits_1() {
    let output = powertune(&["worker", "--address", CLOSED_ADDRESS], &[]);

    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("http://127.0.0.1:1/"), "{message}");
    assert!(
        message.contains("--address / TEMPORAL_ADDRESS"),
        "{message}"
    );
}

#[test]
fn worker_reads_address_from_environment() {
    let output = powertune(&["worker"], &[("TEMPORAL_ADDRESS", CLOSED_ADDRESS)]);

    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("http://127.0.0.1:1/"), "{message}");
}

#[test]
fn worker_never_logs_api_key() {
    let output = powertune(
        &["worker", "--address", CLOSED_ADDRESS, "--tls=false"],
        &[("TEMPORAL_API_KEY", "very-secret-key")],
    );

    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("api_key=true"), "{message}");
    assert!(!message.contains("very-secret-key"), "{message}");
}

#[test]
fn worker_rejects_power_value_from_environment() {
    let output = powertune(
        &["worker", "--address", CLOSED_ADDRESS],
        &[("POWERTUNE_DEFAULT_POWER_VALUES", "128,96")],
    );

    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains("power value `96` is outside 128..=10240 MB"),
        "{message}"
    );
}

#[test]
fn tune_unreachable_server_exits_1() {
    let output = powertune(
        &[
            "tune",
            "--address",
            CLOSED_ADDRESS,
            "--function",
            FUNCTION,
            "--num",
            "5",
        ],
        &[],
    );

    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("http://127.0.0.1:1/"), "{message}");
    assert!(output.stdout.is_empty(), "nothing is printed on stdout");
}

#[test]
fn iam_policy_rejects_qualified_arn() {
    let output = powertune(&["iam-policy", "--function", &format!("{FUNCTION}:3")], &[]);

    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("pass the unqualified ARN"), "{message}");
    assert!(output.stdout.is_empty(), "no policy is printed");
}

#[test]
fn iam_policy_prints_json() {
    let output = powertune(&["iam-policy", "--function", FUNCTION], &[]);

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(document["Version"], "2012-10-17");
    assert_eq!(document["Statement"].as_array().map(Vec::len), Some(5));
}
