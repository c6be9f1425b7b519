//! Runs that fail part-way: the cleaner runs as a compensation, the workflow
//! fails with the real cause, and the function is exactly as before.

use lambda_emulator::{FaultConfig, FaultRule};
use powertune_tests::env::fast_emulator;
use powertune_tests::{TestEnv, failure_message, sample_arn};
use serde_json::json;

/// Worker flags that make an AWS call fail on its first error, so a run
/// against a permanent fault fails within seconds.
const NO_AWS_RETRIES: &[&str] = &["--aws-max-attempts", "1"];

async fn expect_failed_run(
    env: &TestEnv,
    function: &str,
    workflow_id: &str,
    input: serde_json::Value,
) -> String {
    let before = env.state(function).await.unwrap();
    let result = env.tune(workflow_id, input).await.unwrap();
    let message = match result {
        Ok(output) => panic!("{workflow_id} should fail, got {output:?}"),
        Err(error) => failure_message(&error),
    };
    let after = env.state(function).await.unwrap();
    assert_eq!(
        after,
        before,
        "{workflow_id} left the function changed\nworker log:\n{}",
        env.worker.output()
    );
    message
}

fn fault(operation: &str, function: &str) -> FaultConfig {
    FaultConfig {
        seed: 7,
        rules: vec![FaultRule {
            operation: Some(operation.to_owned()),
            function: Some(function.to_owned()),
            server_error_rate: 1.0,
            ..FaultRule::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn function_error_fails_run_with_its_type() {
    let env = TestEnv::start("function-error").await.unwrap();
    env.add_failing_function("always-fails", "BrokenHandler");

    let message = expect_failed_run(
        &env,
        "always-fails",
        "function-error",
        json!({"lambdaARN": sample_arn("always-fails"), "num": 5, "powerValues": [128, 256]}),
    )
    .await;

    assert!(message.contains("BrokenHandler"), "{message}");
    assert!(message.contains("executor"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_failure_is_compensated() {
    let env = TestEnv::start_with("publish-failure", fast_emulator(), NO_AWS_RETRIES)
        .await
        .unwrap();
    env.emulator.set_faults(fault("PublishVersion", "io-bound"));

    let message = expect_failed_run(
        &env,
        "io-bound",
        "publish-failure",
        json!({"lambdaARN": sample_arn("io-bound"), "num": 5, "powerValues": [128, 256, 512]}),
    )
    .await;

    assert!(message.contains("PublishVersion"), "{message}");
    let stats = env.emulator.function_stats("io-bound").unwrap();
    assert!(stats.faults_injected > 0);
    assert!(
        stats
            .invocations_by_qualifier
            .values()
            .all(|count| *count == 0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn execute_failure_is_compensated() {
    let env = TestEnv::start_with("execute-failure", fast_emulator(), NO_AWS_RETRIES)
        .await
        .unwrap();
    env.emulator.set_faults(fault("Invoke", "io-bound"));

    let message = expect_failed_run(
        &env,
        "io-bound",
        "execute-failure",
        json!({"lambdaARN": sample_arn("io-bound"), "num": 5, "powerValues": [128, 256]}),
    )
    .await;

    assert!(message.contains("Invoke"), "{message}");
    let stats = env.emulator.function_stats("io-bound").unwrap();
    assert!(
        stats
            .operations
            .get("PublishVersion")
            .copied()
            .unwrap_or_default()
            >= 2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn function_error_without_allowed_exceptions_fails() {
    let env = TestEnv::start("flaky-error").await.unwrap();
    env.add_failing_function("mostly-fails", "FlakyError");

    let allowed = env
        .tune(
            "allowed-all",
            json!({"lambdaARN": sample_arn("mostly-fails"), "num": 5, "powerValues": [128], "allowedExceptions": ["FlakyError"], "includeOutputResults": true}),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(allowed.stats[0].errors, 5);

    let message = expect_failed_run(
        &env,
        "mostly-fails",
        "not-allowed",
        json!({"lambdaARN": sample_arn("mostly-fails"), "num": 5, "powerValues": [128], "allowedExceptions": ["OtherError"]}),
    )
    .await;
    assert!(message.contains("FlakyError"), "{message}");
}
