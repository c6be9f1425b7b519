//! Durability: cancellation and worker crashes in each phase, AWS faults at
//! increasing rates, memory sizes the function cannot run at, concurrent
//! tunings of one function, and the worker's allow-list. After every
//! scenario the function must be exactly as before.

use std::time::Duration;

use lambda_emulator::{EmulatorOptions, FaultConfig, FaultRule, FunctionSpec};
use powertune_proto::v1::PowerTuningOutput;
use powertune_tests::env::fast_emulator;
use powertune_tests::summary::{left_behind, record};
use powertune_tests::{FunctionState, TestEnv, failure_message, sample_arn};
use powertune_workflows::PowerTuningWorkflow;
use serde_json::json;
use temporalio_client::errors::WorkflowGetResultError;
use temporalio_client::{WorkflowCancelOptions, WorkflowGetResultOptions, WorkflowQueryOptions};

/// Name of the slow function the phase tests create.
const SLOW: &str = "slow";

/// Deadline for a run to reach a phase.
const PHASE_DEADLINE: Duration = Duration::from_secs(60);

/// Emulator whose updates take about 0.5 s of real time, so that the
/// publishing phase lasts long enough to be interrupted.
fn slow_updates() -> EmulatorOptions {
    EmulatorOptions {
        update_delay: Duration::from_secs(50),
        ..fast_emulator()
    }
}

/// Adds a function whose invocations take about 0.2 s of real time.
fn add_slow_function(env: &TestEnv) {
    let mut spec = FunctionSpec {
        name: SLOW.to_owned(),
        timeout_s: 60,
        description: "original description".to_owned(),
        ..FunctionSpec::default()
    };
    spec.profile.io_ms = 20_000.0;
    spec.profile.cpu_ms = 10.0;
    env.emulator.add_function(spec).unwrap();
}

fn slow_input() -> serde_json::Value {
    json!({"lambdaARN": sample_arn(SLOW), "num": 10, "powerValues": [128, 256, 512], "includeOutputResults": true})
}

/// Waits until the run's `progress` query reports `stage`.
async fn wait_for_stage(env: &TestEnv, workflow_id: &str, stage: &str) {
    let handle = env
        .client
        .get_workflow_handle::<PowerTuningWorkflow>(workflow_id);
    let started = tokio::time::Instant::now();
    loop {
        let progress = handle
            .query(
                PowerTuningWorkflow::progress,
                (),
                WorkflowQueryOptions::default(),
            )
            .await;
        if let Ok(progress) = progress
            && progress.stage == stage
        {
            return;
        }
        assert!(
            started.elapsed() < PHASE_DEADLINE,
            "{workflow_id} did not reach {stage}\nworker log:\n{}",
            env.worker.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn result_of(
    env: &TestEnv,
    workflow_id: &str,
) -> Result<PowerTuningOutput, WorkflowGetResultError> {
    let handle = env
        .client
        .get_workflow_handle::<PowerTuningWorkflow>(workflow_id);
    let result = handle.get_result(WorkflowGetResultOptions::default()).await;
    powertune_tests::histories::check_and_record(&env.client, workflow_id)
        .await
        .unwrap();
    result
}

/// Asserts the function is exactly as before and records the scenario.
async fn assert_restored(env: &TestEnv, scenario: &str, function: &str, before: &FunctionState) {
    let after = env.state(function).await.unwrap();
    let faults = env
        .emulator
        .function_stats(function)
        .map(|stats| stats.faults_injected)
        .unwrap_or_default();
    record(scenario, faults, left_behind(before, &after));
    assert_eq!(
        &after,
        before,
        "{scenario} left {function} changed\nworker log:\n{}",
        env.worker.output()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_in_each_phase_restores_function() {
    let env = TestEnv::start_with("cancel", slow_updates(), &[])
        .await
        .unwrap();
    add_slow_function(&env);
    let before = env.state(SLOW).await.unwrap();

    for stage in ["publishing", "executing"] {
        let workflow_id = format!("cancel-{stage}");
        env.start_tuning(&workflow_id, slow_input()).await.unwrap();
        wait_for_stage(&env, &workflow_id, stage).await;
        let handle = env
            .client
            .get_workflow_handle::<PowerTuningWorkflow>(&workflow_id);
        handle
            .cancel(
                WorkflowCancelOptions::builder()
                    .reason("test".to_owned())
                    .build(),
            )
            .await
            .unwrap();

        let result = result_of(&env, &workflow_id).await;
        assert!(
            matches!(result, Err(WorkflowGetResultError::Cancelled { .. })),
            "{workflow_id}: expected cancelled, got {result:?}"
        );
        assert_restored(&env, &format!("cancel while {stage}"), SLOW, &before).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_crash_in_each_phase_resumes() {
    let mut env = TestEnv::start_with("crash", slow_updates(), &[])
        .await
        .unwrap();
    add_slow_function(&env);
    let before = env.state(SLOW).await.unwrap();

    // ListAliases is called by the initializer only; a second of latency on it
    // makes the initializing phase long enough to be interrupted.
    env.emulator.set_faults(FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            operation: Some("ListAliases".to_owned()),
            function: Some(SLOW.to_owned()),
            extra_latency_ms: 100_000.0,
            ..FaultRule::default()
        }],
    });

    for stage in ["initializing", "publishing", "executing", "cleaning"] {
        let workflow_id = format!("crash-{stage}");
        let invocations_before = env
            .emulator
            .function_stats(SLOW)
            .map(|stats| stats.invocations_by_qualifier)
            .unwrap_or_default();
        env.start_tuning(&workflow_id, slow_input()).await.unwrap();
        wait_for_stage(&env, &workflow_id, stage).await;
        env.worker.kill().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        env.worker.restart().unwrap();

        let output = result_of(&env, &workflow_id).await.unwrap_or_else(|error| {
            panic!(
                "{workflow_id} failed after a crash: {}\nworker log:\n{}",
                failure_message(&error),
                env.worker.output()
            )
        });
        assert_eq!(output.stats.len(), 3, "{workflow_id}: {output:?}");
        assert!(output.stats.iter().all(|stats| stats.invocations == 10));
        assert_restored(&env, &format!("worker killed while {stage}"), SLOW, &before).await;

        // A crash costs at most the invocation that was running: the retry
        // resumes from the progress in the last heartbeat.
        let invocations = env
            .emulator
            .function_stats(SLOW)
            .unwrap()
            .invocations_by_qualifier;
        for power in [128, 256, 512] {
            let alias = format!("RAM{power}");
            let run_invocations = invocations.get(&alias).copied().unwrap_or_default()
                - invocations_before.get(&alias).copied().unwrap_or_default();
            assert!(
                (10..=11).contains(&run_invocations),
                "{workflow_id}: {alias} was invoked {run_invocations} times"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_at_increasing_rates_do_not_fail_runs() {
    let env = TestEnv::start("faults").await.unwrap();
    let before = env.state("io-bound").await.unwrap();

    for (step, rate) in [0.1, 0.3, 0.5].into_iter().enumerate() {
        env.emulator.set_faults(FaultConfig {
            seed: step as u64 + 1,
            rules: vec![FaultRule {
                operation: None,
                function: Some("io-bound".to_owned()),
                throttle_rate: rate / 3.0,
                server_error_rate: rate / 3.0,
                conflict_rate: rate / 3.0,
                ..FaultRule::default()
            }],
        });
        let workflow_id = format!("faults-{step}");
        let output = env
            .tune(&workflow_id, json!({"lambdaARN": sample_arn("io-bound"), "num": 10, "powerValues": [128, 256, 512], "includeOutputResults": true}))
            .await
            .unwrap()
            .unwrap_or_else(|error| panic!("{workflow_id} failed: {}\nworker log:\n{}", failure_message(&error), env.worker.output()));
        env.emulator.set_faults(FaultConfig::default());

        assert_eq!(output.stats.len(), 3);
        if rate >= 0.3 {
            assert!(
                output.retries > 0,
                "{workflow_id}: no retries counted at fault rate {rate}"
            );
        }
        assert_restored(&env, &format!("fault rate {rate}"), "io-bound", &before).await;
    }
    assert!(
        env.emulator
            .function_stats("io-bound")
            .unwrap()
            .faults_injected
            > 0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_quota_leaves_size_out() {
    let options = EmulatorOptions {
        memory_quota_mb: Some(3008),
        ..fast_emulator()
    };
    let env = TestEnv::start_with("quota", options, &[]).await.unwrap();
    let before = env.state("io-bound").await.unwrap();

    let output = env
        .tune("quota", json!({"lambdaARN": sample_arn("io-bound"), "num": 5, "powerValues": [128, 1024, 4096], "includeOutputResults": true}))
        .await
        .unwrap()
        .unwrap_or_else(|error| panic!("quota run failed: {}", failure_message(&error)));

    assert_eq!(
        output
            .stats
            .iter()
            .map(|stats| stats.power)
            .collect::<Vec<_>>(),
        vec![128, 1024]
    );
    assert_eq!(output.failed_power_values.len(), 1);
    assert_eq!(output.failed_power_values[0].power, 4096);
    assert!(
        output.failed_power_values[0].reason.contains("3008"),
        "{:?}",
        output.failed_power_values
    );
    assert_restored(&env, "memory quota", "io-bound", &before).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_memory_size_is_reported() {
    let env = TestEnv::start("oom").await.unwrap();
    let before = env.state("memory-hungry").await.unwrap();

    let output = env
        .tune("oom", json!({"lambdaARN": sample_arn("memory-hungry"), "num": 5, "powerValues": [128, 512, 1024], "includeOutputResults": true}))
        .await
        .unwrap()
        .unwrap_or_else(|error| panic!("oom run failed: {}", failure_message(&error)));

    assert_eq!(
        output
            .stats
            .iter()
            .map(|stats| stats.power)
            .collect::<Vec<_>>(),
        vec![512, 1024]
    );
    assert_eq!(output.failed_power_values.len(), 1);
    assert_eq!(
        output.failed_power_values[0].error_type,
        "Runtime.OutOfMemory"
    );
    assert_restored(&env, "out of memory at 128 MB", "memory-hungry", &before).await;

    let result = env
        .tune(
            "oom-everywhere",
            json!({"lambdaARN": sample_arn("memory-hungry"), "num": 5, "powerValues": [128, 256]}),
        )
        .await
        .unwrap();
    let message = failure_message(&result.expect_err("a run with no measured size must fail"));
    assert!(
        message.contains("128") && message.contains("256"),
        "{message}"
    );
    assert!(message.contains("Runtime.OutOfMemory"), "{message}");
    assert_restored(
        &env,
        "out of memory at every size",
        "memory-hungry",
        &before,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_runs_on_one_function_do_not_overlap() {
    let env = TestEnv::start("concurrent").await.unwrap();
    add_slow_function(&env);
    let before = env.state(SLOW).await.unwrap();

    // The first run measures 30 invocations per size, so it still runs while
    // the others try to start.
    let mut first_input = slow_input();
    first_input["num"] = json!(30);
    env.start_tuning("first", first_input).await.unwrap();
    wait_for_stage(&env, "first", "executing").await;

    let second = env.tune("second", slow_input()).await.unwrap();
    let message =
        failure_message(&second.expect_err("a second tuning of the same function must fail"));
    assert!(
        message.contains("first"),
        "the error should name the running tuning: {message}"
    );

    let mut waiting_input = slow_input();
    waiting_input["waitForRunningTuning"] = json!(true);
    env.start_tuning("third", waiting_input.clone())
        .await
        .unwrap();

    // A run cancelled while it waits for the lock ends cancelled and changes nothing.
    env.start_tuning("fourth", waiting_input).await.unwrap();
    wait_for_stage(&env, "fourth", "waiting for lock").await;
    let fourth = env
        .client
        .get_workflow_handle::<PowerTuningWorkflow>("fourth");
    fourth
        .cancel(
            WorkflowCancelOptions::builder()
                .reason("test".to_owned())
                .build(),
        )
        .await
        .unwrap();
    let cancelled = result_of(&env, "fourth").await;
    assert!(
        matches!(cancelled, Err(WorkflowGetResultError::Cancelled { .. })),
        "fourth: {cancelled:?}"
    );

    let first = result_of(&env, "first").await.unwrap();
    let third = result_of(&env, "third").await.unwrap();
    assert_eq!(first.stats.len(), 3);
    assert_eq!(third.stats.len(), 3);
    let stats = env.emulator.function_stats(SLOW).unwrap();
    assert_eq!(
        stats.invocations_by_qualifier.get("RAM128"),
        Some(&40),
        "runs of 30 and 10 invocations"
    );
    assert_restored(&env, "concurrent runs", SLOW, &before).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_list_rejects_other_functions_before_aws() {
    let pattern = "arn:aws:lambda:us-east-1:123456789012:function:io-*";
    let env = TestEnv::start_with(
        "allow-list",
        fast_emulator(),
        &["--allow-function", pattern],
    )
    .await
    .unwrap();

    let result = env
        .tune(
            "refused",
            json!({"lambdaARN": sample_arn("cpu-bound"), "num": 5, "powerValues": [128]}),
        )
        .await
        .unwrap();
    let message =
        failure_message(&result.expect_err("a function outside the allow-list must be refused"));
    assert!(message.contains(pattern), "{message}");
    assert!(message.contains("cpu-bound"), "{message}");
    let untouched = env
        .emulator
        .function_stats("cpu-bound")
        .map(|stats| stats.operations)
        .unwrap_or_default();
    assert!(
        untouched.is_empty(),
        "the refused function saw AWS calls: {untouched:?}"
    );

    env.tune(
        "permitted",
        json!({"lambdaARN": sample_arn("io-bound"), "num": 5, "powerValues": [128]}),
    )
    .await
    .unwrap()
    .unwrap_or_else(|error| panic!("permitted run failed: {}", failure_message(&error)));
    record("allow-list refusal", 0, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn payloads_stay_out_of_errors_and_logs() {
    let env = TestEnv::start("payload-logs").await.unwrap();
    env.add_failing_function("echo-fails", "EchoError");

    let secret = "secret-token-4f7a";
    let result = env
        .tune(
            "hidden",
            json!({"lambdaARN": sample_arn("echo-fails"), "num": 5, "powerValues": [128], "payload": {"token": secret}, "disablePayloadLogs": true}),
        )
        .await
        .unwrap();
    let message = failure_message(&result.expect_err("a failing function must fail the run"));

    assert!(message.contains("EchoError"), "{message}");
    assert!(
        !message.contains(secret),
        "the failure shows the payload: {message}"
    );
    assert!(
        !env.worker.output().contains(secret),
        "the worker logged the payload"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deadline_leaves_time_for_cleanup() {
    let env = TestEnv::start("deadline").await.unwrap();
    let mut spec = FunctionSpec {
        name: "very-slow".to_owned(),
        timeout_s: 120,
        ..FunctionSpec::default()
    };
    spec.profile.io_ms = 50_000.0;
    env.emulator.add_function(spec).unwrap();
    let before = env.state("very-slow").await.unwrap();

    // 150 serial invocations of 0.5 s cannot finish in 80 s; the run stops
    // measuring 20 s before its timeout and cleans up.
    let input =
        json!({"lambdaARN": sample_arn("very-slow"), "num": 150, "powerValues": [128, 256]});
    env.start_tuning_with_timeout("deadline", input, Duration::from_secs(80))
        .await
        .unwrap();
    let result = result_of(&env, "deadline").await;

    let message = failure_message(&result.expect_err("a run past its deadline must fail"));
    assert!(message.contains("deadline"), "{message}");
    assert_restored(&env, "run reached its deadline", "very-slow", &before).await;
}
