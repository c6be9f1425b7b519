//! End-to-end tunings: a real Temporal dev server, the Lambda emulator and the
//! `powertune worker` binary. Every test checks the result and that the
//! function is exactly as before the run.

use powertune_proto::v1::PowerTuningOutput;
use powertune_tests::{FunctionState, TestEnv, failure_message, sample_arn};
use serde_json::json;

/// Runs a tuning that must succeed, and checks that the function is left as it was.
async fn tune_ok(
    env: &TestEnv,
    function: &str,
    workflow_id: &str,
    input: serde_json::Value,
) -> PowerTuningOutput {
    let before = env.state(function).await.unwrap();
    let result = env.tune(workflow_id, input).await.unwrap();
    let output = result.unwrap_or_else(|error| {
        panic!(
            "tuning failed: {}\nworker log:\n{}",
            failure_message(&error),
            env.worker.output()
        )
    });
    let after = env.state(function).await.unwrap();
    assert_unchanged(&before, &after);
    output
}

fn assert_unchanged(before: &FunctionState, after: &FunctionState) {
    assert_eq!(
        after.memory_mb, before.memory_mb,
        "memory of $LATEST changed"
    );
    assert_eq!(
        after.description, before.description,
        "description of $LATEST changed"
    );
    assert_eq!(after.versions, before.versions, "versions left behind");
    assert_eq!(after.aliases, before.aliases, "aliases left behind");
}

fn stat_powers(output: &PowerTuningOutput) -> Vec<u32> {
    let mut powers: Vec<u32> = output.stats.iter().map(|stats| stats.power).collect();
    powers.sort_unstable();
    powers
}

#[tokio::test(flavor = "multi_thread")]
async fn cost_strategy_picks_cheapest() {
    let env = TestEnv::start("cost").await.unwrap();
    let output = tune_ok(
        &env,
        "u-shaped",
        "cost",
        json!({"lambdaARN": sample_arn("u-shaped"), "num": 10, "powerValues": [128, 256, 512, 1024, 1536, 3008], "strategy": "cost", "includeOutputResults": true}),
    )
    .await;

    assert_eq!(stat_powers(&output), vec![128, 256, 512, 1024, 1536, 3008]);
    let cheapest = output
        .stats
        .iter()
        .map(|stats| stats.cost)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(output.cost, cheapest);
    assert!(
        output.power > 128 && output.power < 3008,
        "u-shaped optimum {} is not inside the range",
        output.power
    );
    for stats in &output.stats {
        assert_eq!(stats.invocations, 10);
        assert!(stats.duration > 0.0);
        assert!(stats.p99 >= stats.p50);
    }
    let summary = output.state_machine.as_ref().unwrap();
    assert!(summary.lambda_cost > 0.0);
    assert!(summary.execution_cost > 0.0);
    assert!(
        summary
            .visualization
            .starts_with("https://lambda-power-tuning.show/#")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn speed_strategy_picks_fastest_in_parallel() {
    let env = TestEnv::start("speed").await.unwrap();
    let output = tune_ok(
        &env,
        "cpu-bound",
        "speed",
        json!({"lambdaARN": sample_arn("cpu-bound"), "num": 8, "powerValues": [128, 512, 1024, 3008], "strategy": "speed", "parallelInvocation": true, "includeOutputResults": true}),
    )
    .await;

    let fastest = output
        .stats
        .iter()
        .map(|stats| stats.duration)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(output.duration, fastest);
    assert!(
        output.power >= 1024,
        "cpu-bound should be fastest at a large size, got {}",
        output.power
    );
    let stats = env.emulator.function_stats("cpu-bound").unwrap();
    assert_eq!(stats.invocations_by_qualifier.get("RAM128"), Some(&8));
    assert_eq!(stats.invocations_by_qualifier.get("RAM3008"), Some(&8));
}

#[tokio::test(flavor = "multi_thread")]
async fn balanced_strategy_weighs_cost_and_speed() {
    let env = TestEnv::start("balanced").await.unwrap();
    let output = tune_ok(
        &env,
        "cpu-bound",
        "balanced",
        json!({"lambdaARN": sample_arn("cpu-bound"), "num": 5, "powerValues": [128, 1024, 3008], "strategy": "balanced", "balancedWeight": 0.5, "includeOutputResults": true}),
    )
    .await;

    let max_cost = output
        .stats
        .iter()
        .map(|stats| stats.cost)
        .fold(0.0, f64::max);
    let max_duration = output
        .stats
        .iter()
        .map(|stats| stats.duration)
        .fold(0.0, f64::max);
    let value = |cost: f64, duration: f64| 0.5 * cost / max_cost + 0.5 * duration / max_duration;
    let best = output
        .stats
        .iter()
        .map(|stats| value(stats.cost, stats.duration))
        .fold(f64::INFINITY, f64::min);
    assert_eq!(value(output.cost, output.duration), best);
}

#[tokio::test(flavor = "multi_thread")]
async fn weighted_payloads_are_spread_by_weight() {
    let env = TestEnv::start("weighted").await.unwrap();
    let output = tune_ok(
        &env,
        "io-bound",
        "weighted",
        json!({
            "lambdaARN": sample_arn("io-bound"),
            "num": 10,
            "powerValues": [128, 256],
            "payload": [{"payload": {"size": "small"}, "weight": 7}, {"payload": {"size": "large"}, "weight": 3}],
            "includeOutputResults": true
        }),
    )
    .await;

    assert_eq!(stat_powers(&output), vec![128, 256]);
    assert_eq!(output.power, 128, "io-bound is cheapest at 128 MB");
    let stats = env.emulator.function_stats("io-bound").unwrap();
    assert_eq!(stats.invocations_by_qualifier.get("RAM128"), Some(&10));
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_changes_nothing() {
    let env = TestEnv::start("dry-run").await.unwrap();
    let output = tune_ok(
        &env,
        "io-bound",
        "dry-run",
        json!({"lambdaARN": sample_arn("io-bound"), "num": 10, "powerValues": [128, 256], "dryRun": true, "strategey": "speed"}),
    )
    .await;

    assert!(output.dry_run);
    assert_eq!(output.warnings.len(), 1, "{:?}", output.warnings);
    assert!(
        output.warnings[0].contains("did you mean `strategy`"),
        "{:?}",
        output.warnings
    );
    let stats = env.emulator.function_stats("io-bound").unwrap();
    assert_eq!(stats.operations.get("UpdateFunctionConfiguration"), None);
    assert_eq!(stats.operations.get("PublishVersion"), None);
    assert_eq!(stats.invocations_by_qualifier.get("$LATEST"), Some(&1));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_cold_starts_measures_cold_starts() {
    let env = TestEnv::start("cold").await.unwrap();
    let output = tune_ok(
        &env,
        "slow-init",
        "cold",
        json!({"lambdaARN": sample_arn("slow-init"), "num": 5, "powerValues": [256, 1024], "onlyColdStarts": true, "includeOutputResults": true}),
    )
    .await;

    for stats in &output.stats {
        assert_eq!(
            stats.cold_starts, 5,
            "every invocation at {} MB should be cold",
            stats.power
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn snapstart_waits_for_active_versions() {
    let env = TestEnv::start("snapstart").await.unwrap();
    let output = tune_ok(
        &env,
        "snapstart",
        "snapstart",
        json!({"lambdaARN": sample_arn("snapstart"), "num": 5, "powerValues": [512, 1024], "includeOutputResults": true}),
    )
    .await;

    assert_eq!(stat_powers(&output), vec![512, 1024]);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_log_format_is_parsed() {
    let env = TestEnv::start("json-logs").await.unwrap();
    let output = tune_ok(
        &env,
        "json-logs",
        "json-logs",
        json!({"lambdaARN": sample_arn("json-logs"), "num": 5, "powerValues": [128, 512], "includeOutputResults": true}),
    )
    .await;

    assert!(output.stats.iter().all(|stats| stats.duration > 0.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn allowed_exceptions_count_as_invocations() {
    let env = TestEnv::start("allowed").await.unwrap();
    let output = tune_ok(
        &env,
        "flaky",
        "allowed",
        json!({"lambdaARN": sample_arn("flaky"), "num": 20, "powerValues": [128, 256], "allowedExceptions": ["FlakyError"], "includeOutputResults": true}),
    )
    .await;

    let errors: u32 = output.stats.iter().map(|stats| stats.errors).sum();
    assert!(
        errors > 0,
        "flaky should have failed at least once in 40 invocations"
    );
    assert!(output.stats.iter().all(|stats| stats.invocations == 20));
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_optimize_sets_latest() {
    let env = TestEnv::start("optimize").await.unwrap();
    let output = env
        .tune("optimize", json!({"lambdaARN": sample_arn("io-bound"), "num": 5, "powerValues": [128, 512], "autoOptimize": true}))
        .await
        .unwrap()
        .unwrap();
    let after = env.state("io-bound").await.unwrap();

    assert_eq!(after.memory_mb, output.power as i32);
    assert_eq!(output.optimization.unwrap().target, "$LATEST");
    assert!(after.aliases.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_optimize_alias_points_at_new_version() {
    let env = TestEnv::start("optimize-alias").await.unwrap();
    let before = env.state("io-bound").await.unwrap();
    let output = env
        .tune(
            "optimize-alias",
            json!({"lambdaARN": sample_arn("io-bound"), "num": 5, "powerValues": [128, 512], "autoOptimize": true, "autoOptimizeAlias": "live"}),
        )
        .await
        .unwrap()
        .unwrap();
    let after = env.state("io-bound").await.unwrap();

    assert_eq!(
        after.memory_mb, before.memory_mb,
        "$LATEST keeps its memory when an alias is optimized"
    );
    assert_eq!(after.aliases, vec!["live"]);
    let optimization = output.optimization.unwrap();
    let alias = env
        .lambda
        .get_alias()
        .function_name("io-bound")
        .name("live")
        .send()
        .await
        .unwrap();
    assert_eq!(
        alias.function_version(),
        Some(optimization.version.as_str())
    );
    let version = env
        .lambda
        .get_function_configuration()
        .function_name("io-bound")
        .qualifier(&optimization.version)
        .send()
        .await
        .unwrap();
    assert_eq!(version.memory_size(), Some(output.power as i32));
}

#[tokio::test(flavor = "multi_thread")]
async fn payload_from_s3_is_read() {
    let bucket_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(bucket_dir.path().join("payloads")).unwrap();
    std::fs::write(
        bucket_dir.path().join("payloads/event.json"),
        r#"{"orderId": 42}"#,
    )
    .unwrap();
    let options = lambda_emulator::EmulatorOptions {
        s3_dir: Some(bucket_dir.path().to_owned()),
        ..powertune_tests::env::fast_emulator()
    };
    let env = TestEnv::start_with("payload-s3", options, &[])
        .await
        .unwrap();

    let output = tune_ok(
        &env,
        "io-bound",
        "payload-s3",
        json!({"lambdaARN": sample_arn("io-bound"), "num": 5, "powerValues": [128], "payloadS3": "s3://payloads/event.json", "includeOutputResults": true}),
    )
    .await;
    assert_eq!(output.stats[0].invocations, 5);

    let missing = env
        .tune(
            "payload-s3-missing",
            json!({"lambdaARN": sample_arn("io-bound"), "num": 5, "powerValues": [128], "payloadS3": "s3://payloads/missing.json"}),
        )
        .await
        .unwrap();
    let message = failure_message(&missing.expect_err("a missing S3 object must fail the run"));
    assert!(message.contains("missing.json"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn processors_run_around_each_invocation() {
    let env = TestEnv::start("processors").await.unwrap();
    tune_ok(
        &env,
        "cpu-bound",
        "processors",
        json!({
            "lambdaARN": sample_arn("cpu-bound"),
            "num": 5,
            "powerValues": [128, 256],
            "preProcessorARN": sample_arn("io-bound"),
            "postProcessorARN": sample_arn("json-logs")
        }),
    )
    .await;

    let pre = env.emulator.function_stats("io-bound").unwrap();
    let post = env.emulator.function_stats("json-logs").unwrap();
    assert_eq!(pre.invocations_by_qualifier.get("$LATEST"), Some(&10));
    assert_eq!(post.invocations_by_qualifier.get("$LATEST"), Some(&10));
}

#[tokio::test(flavor = "multi_thread")]
async fn all_power_values_are_tuned() {
    let env = TestEnv::start("all").await.unwrap();
    let output = tune_ok(
        &env,
        "io-bound",
        "all",
        json!({"lambdaARN": sample_arn("io-bound"), "num": 5, "powerValues": "ALL", "parallelInvocation": true, "includeOutputResults": true}),
    )
    .await;

    let powers = stat_powers(&output);
    assert_eq!(powers.len(), powertune_proto::all_power_values().len());
    assert_eq!(powers.first(), Some(&128));
    assert_eq!(powers.last(), Some(&10_240));
}
