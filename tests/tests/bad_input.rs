//! Bad input fails the run at once, with a message that names the field, and
//! never reaches the function: the emulator records no update and no invocation.

use powertune_tests::env::json_input;
use powertune_tests::{TestEnv, failure_message, sample_arn};
use serde_json::{Value, json};
use temporalio_client::errors::WorkflowGetResultError;
use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_common::data_converters::RawValue;

/// Starts a run with `input`, expects it to fail, and returns the message.
async fn expect_failure(env: &TestEnv, workflow_id: &str, input: Option<Value>) -> String {
    let options = WorkflowStartOptions::new(env.task_queue.clone(), workflow_id.to_owned())
        .execution_timeout(std::time::Duration::from_secs(120))
        .build();
    let handle = env
        .client
        .start_workflow(
            powertune_workflows::PowerTuningWorkflow::run,
            input
                .as_ref()
                .map(json_input)
                .unwrap_or_else(|| RawValue::new(Vec::new())),
            options,
        )
        .await
        .unwrap();
    let result = handle.get_result(WorkflowGetResultOptions::default()).await;
    powertune_tests::histories::check_and_record(&env.client, workflow_id)
        .await
        .unwrap();
    match result {
        Err(error @ WorkflowGetResultError::Failed(_)) => failure_message(&error),
        other => panic!(
            "expected {workflow_id} to fail, got {other:?}\nworker log:\n{}",
            env.worker.output()
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_inputs_fail_before_any_change() {
    let env = TestEnv::start("bad-input").await.unwrap();
    let arn = sample_arn("io-bound");
    let cases: Vec<(&str, Option<Value>, &[&str])> = vec![
        ("no-input", None, &["input"]),
        ("not-an-object", Some(json!([1, 2])), &["object"]),
        ("missing-arn", Some(json!({"num": 10})), &["lambdaARN"]),
        (
            "malformed-arn",
            Some(json!({"lambdaARN": "not-an-arn", "num": 10})),
            &["lambdaARN", "not-an-arn"],
        ),
        (
            "qualified-arn",
            Some(json!({"lambdaARN": format!("{arn}:live"), "num": 10})),
            &["lambdaARN", "unqualified"],
        ),
        ("missing-num", Some(json!({"lambdaARN": arn})), &["num"]),
        (
            "small-num",
            Some(json!({"lambdaARN": arn, "num": 3})),
            &["num", "3"],
        ),
        (
            "string-num",
            Some(json!({"lambdaARN": arn, "num": "ten"})),
            &["num", "ten"],
        ),
        (
            "power-too-small",
            Some(json!({"lambdaARN": arn, "num": 5, "powerValues": [96]})),
            &["powerValues", "96"],
        ),
        (
            "power-duplicate",
            Some(json!({"lambdaARN": arn, "num": 5, "powerValues": [128, 128]})),
            &["powerValues", "128"],
        ),
        (
            "power-empty",
            Some(json!({"lambdaARN": arn, "num": 5, "powerValues": []})),
            &["powerValues"],
        ),
        (
            "power-fraction",
            Some(json!({"lambdaARN": arn, "num": 5, "powerValues": [128.5]})),
            &["powerValues", "128.5"],
        ),
        (
            "strategy",
            Some(json!({"lambdaARN": arn, "num": 5, "strategy": "cheapest"})),
            &["strategy", "cheapest"],
        ),
        (
            "weight",
            Some(
                json!({"lambdaARN": arn, "num": 5, "strategy": "balanced", "balancedWeight": 1.5}),
            ),
            &["balancedWeight", "1.5"],
        ),
        (
            "discard",
            Some(json!({"lambdaARN": arn, "num": 5, "discardTopBottom": 0.5})),
            &["discardTopBottom", "0.5"],
        ),
        (
            "weights",
            Some(
                json!({"lambdaARN": arn, "num": 5, "payload": [{"payload": {}, "weight": 100}, {"payload": {}, "weight": 1}]}),
            ),
            &["payload"],
        ),
        (
            "s3",
            Some(json!({"lambdaARN": arn, "num": 5, "payloadS3": "http://bucket/key"})),
            &["payloadS3"],
        ),
        (
            "alias",
            Some(
                json!({"lambdaARN": arn, "num": 5, "autoOptimize": true, "autoOptimizeAlias": "bad alias!"}),
            ),
            &["autoOptimizeAlias"],
        ),
    ];

    for (name, input, expected) in cases {
        let message = expect_failure(&env, name, input).await;
        for fragment in expected {
            assert!(
                message.contains(fragment),
                "{name}: message {message:?} does not mention {fragment:?}"
            );
        }
    }

    let stats = env.emulator.function_stats("io-bound").unwrap();
    assert!(
        stats
            .invocations_by_qualifier
            .values()
            .all(|count| *count == 0),
        "{stats:?}"
    );
    assert_eq!(stats.operations.get("UpdateFunctionConfiguration"), None);
    assert_eq!(stats.operations.get("PublishVersion"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_function_fails_with_cause() {
    let env = TestEnv::start("missing-function").await.unwrap();
    let message = expect_failure(
        &env,
        "missing-function",
        Some(json!({"lambdaARN": sample_arn("does-not-exist"), "num": 5, "powerValues": [128]})),
    )
    .await;

    assert!(message.contains("does-not-exist"), "{message}");
    assert!(message.contains("not found"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn short_timeout_is_rejected_before_any_change() {
    let env = TestEnv::start("short-timeout").await.unwrap();
    let input = json!({"lambdaARN": sample_arn("io-bound"), "num": 5, "powerValues": [128]});
    let handle = env
        .start_tuning_with_timeout("short-timeout", input, std::time::Duration::from_secs(20))
        .await
        .unwrap();

    let result = handle.get_result(WorkflowGetResultOptions::default()).await;
    let message = failure_message(&result.expect_err("a 20 s timeout must be rejected"));
    assert!(message.contains("20 s"), "{message}");
    assert!(message.contains("60 s"), "{message}");
    assert!(
        env.emulator
            .function_stats("io-bound")
            .is_none_or(|stats| stats.operations.is_empty())
    );
}
