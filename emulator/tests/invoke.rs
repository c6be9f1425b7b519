//! Invoke through the real `aws-sdk-lambda` client: log tails in both formats, cold and warm
//! environments, platform errors, throttling and the time scale.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use lambda_emulator::{EmulatorOptions, FunctionSpec, Profile};

use common::{decode_log, field, lambda, options, report_fields, start, wait_until};

/// Function whose invocations take 300 ms of real time at the test time scale.
fn slow_function(name: &str) -> FunctionSpec {
    FunctionSpec {
        name: name.to_owned(),
        timeout_s: 60,
        profile: Profile {
            io_ms: 30_000.0,
            ..Profile::default()
        },
        ..FunctionSpec::default()
    }
}

async fn invoke_tail(
    client: &aws_sdk_lambda::Client,
    name: &str,
    qualifier: Option<&str>,
) -> aws_sdk_lambda::operation::invoke::InvokeOutput {
    client
        .invoke()
        .function_name(name)
        .set_qualifier(qualifier.map(str::to_owned))
        .log_type(LogType::Tail)
        .payload(Blob::new(br#"{"hello":"world"}"#.to_vec()))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn text_tail_ends_with_report_line() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;

    let cold = invoke_tail(&client, "io-bound", None).await;
    assert_eq!(cold.status_code(), 200);
    assert_eq!(cold.executed_version(), Some("$LATEST"));
    assert!(cold.function_error().is_none());
    assert_eq!(cold.payload().unwrap().as_ref(), br#"{"hello":"world"}"#);
    let log = decode_log(cold.log_result());
    assert!(log.starts_with("INIT_START "), "{log}");
    let report = log.lines().last().unwrap();
    assert!(report.starts_with("REPORT RequestId: "), "{report}");
    assert!(
        report.ends_with('\t'),
        "success REPORT ends with a tab: {report:?}"
    );

    let fields = report_fields(&log);
    let duration: f64 = field(&fields, "Duration")
        .unwrap()
        .trim_end_matches(" ms")
        .parse()
        .unwrap();
    let init: f64 = field(&fields, "Init Duration")
        .unwrap()
        .trim_end_matches(" ms")
        .parse()
        .unwrap();
    let billed: u64 = field(&fields, "Billed Duration")
        .unwrap()
        .trim_end_matches(" ms")
        .parse()
        .unwrap();
    assert!(
        field(&fields, "Duration")
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .len()
            == 5,
        "two decimals"
    );
    assert_eq!(billed, (duration + init).ceil() as u64);
    assert_eq!(field(&fields, "Memory Size"), Some("128 MB"));
    assert_eq!(field(&fields, "Max Memory Used"), Some("60 MB"));
    assert!(
        (duration - 606.8).abs() < 606.8 * 0.011,
        "duration {duration}"
    );

    let warm = invoke_tail(&client, "io-bound", None).await;
    let warm_fields = report_fields(&decode_log(warm.log_result()));
    assert!(field(&warm_fields, "Init Duration").is_none());
    let stats = emulator.function_stats("io-bound").unwrap();
    assert_eq!(stats.cold_starts, 1);
    assert_eq!(stats.invocations_by_qualifier["$LATEST"], 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn init_billing_can_be_switched_off() {
    let emulator = start(EmulatorOptions {
        init_billed: false,
        ..options()
    })
    .await;
    let client = lambda(&emulator).await;
    let log = decode_log(invoke_tail(&client, "slow-init", None).await.log_result());
    let fields = report_fields(&log);
    let duration: f64 = field(&fields, "Duration")
        .unwrap()
        .trim_end_matches(" ms")
        .parse()
        .unwrap();
    let billed: u64 = field(&fields, "Billed Duration")
        .unwrap()
        .trim_end_matches(" ms")
        .parse()
        .unwrap();
    assert!(field(&fields, "Init Duration").is_some());
    assert_eq!(billed, duration.ceil() as u64);
    emulator.shutdown().await;
}

#[tokio::test]
async fn json_tail_ends_with_platform_report() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;
    let output = invoke_tail(&client, "json-logs", None).await;
    let log = decode_log(output.log_result());
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect();
    let report = records.last().unwrap();
    assert_eq!(report["type"], "platform.report");
    let metrics = &report["record"]["metrics"];
    assert_eq!(metrics["memorySizeMB"], 128);
    assert!(metrics["durationMs"].as_f64().unwrap() > 0.0);
    assert!(metrics["initDurationMs"].as_f64().unwrap() > 0.0);
    let billed = metrics["billedDurationMs"].as_u64().unwrap();
    let expected = (metrics["durationMs"].as_f64().unwrap()
        + metrics["initDurationMs"].as_f64().unwrap())
    .ceil();
    assert_eq!(billed, expected as u64);
    assert_eq!(records[0]["type"], "platform.initStart");
    emulator.shutdown().await;
}

#[tokio::test]
async fn long_logs_are_cut_to_four_kilobytes_on_a_line() {
    let emulator = start(options()).await;
    emulator
        .add_function(FunctionSpec {
            name: "chatty".to_owned(),
            profile: Profile {
                log_lines: 200,
                ..Profile::default()
            },
            ..FunctionSpec::default()
        })
        .unwrap();
    let client = lambda(&emulator).await;
    let log = decode_log(invoke_tail(&client, "chatty", None).await.log_result());
    assert!(log.len() <= 4096, "{}", log.len());
    assert!(log.starts_with("[INFO]\t"), "{}", &log[..40]);
    assert!(log.lines().last().unwrap().starts_with("REPORT "));
    emulator.shutdown().await;
}

#[tokio::test]
async fn out_of_memory_and_timeout_are_platform_errors() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;

    let oom = invoke_tail(&client, "memory-hungry", None).await;
    assert_eq!(oom.function_error(), Some("Unhandled"));
    let body: serde_json::Value = serde_json::from_slice(oom.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["errorType"], "Runtime.OutOfMemory");
    let log = decode_log(oom.log_result());
    let report = log.lines().last().unwrap();
    assert!(
        report.ends_with("\tStatus: error\tError Type: Runtime.OutOfMemory"),
        "{report}"
    );
    assert_eq!(
        field(&report_fields(&log), "Max Memory Used"),
        Some("128 MB")
    );

    let again = invoke_tail(&client, "memory-hungry", None).await;
    assert!(
        field(
            &report_fields(&decode_log(again.log_result())),
            "Init Duration"
        )
        .is_some(),
        "OOM discards the environment"
    );

    emulator
        .add_function(FunctionSpec {
            name: "sleepy".to_owned(),
            timeout_s: 1,
            profile: Profile {
                io_ms: 5000.0,
                ..Profile::default()
            },
            ..FunctionSpec::default()
        })
        .unwrap();
    let timeout = invoke_tail(&client, "sleepy", None).await;
    assert_eq!(timeout.function_error(), Some("Unhandled"));
    let body: serde_json::Value =
        serde_json::from_slice(timeout.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["errorType"], "Sandbox.Timedout");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 1.00 seconds")
    );
    let log = decode_log(timeout.log_result());
    let fields = report_fields(&log);
    assert_eq!(field(&fields, "Duration"), Some("1000.00 ms"));
    assert!(log.lines().last().unwrap().ends_with("\tStatus: timeout"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn function_errors_carry_type_and_stack_trace() {
    let emulator = start(options()).await;
    emulator
        .add_function(FunctionSpec {
            name: "always-fails".to_owned(),
            profile: Profile {
                error_rate: 1.0,
                error_type: "FlakyError".to_owned(),
                ..Profile::default()
            },
            ..FunctionSpec::default()
        })
        .unwrap();
    let client = lambda(&emulator).await;
    let output = client
        .invoke()
        .function_name("always-fails")
        .send()
        .await
        .unwrap();
    assert_eq!(output.status_code(), 200);
    assert_eq!(output.function_error(), Some("Unhandled"));
    assert!(output.log_result().is_none(), "no tail unless requested");
    let body: serde_json::Value =
        serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["errorType"], "FlakyError");
    assert!(body["errorMessage"].is_string());
    assert!(body["stackTrace"].is_array());
    emulator.shutdown().await;
}

#[tokio::test]
async fn concurrent_calls_start_cold_then_reuse_environments() {
    let emulator = start(options()).await;
    emulator.add_function(slow_function("held")).unwrap();
    let client = lambda(&emulator).await;

    let calls = (0..4).map(|_| invoke_tail(&client, "held", None));
    let outputs = futures::future::join_all(calls).await;
    let cold = outputs
        .iter()
        .filter(|o| field(&report_fields(&decode_log(o.log_result())), "Init Duration").is_some())
        .count();
    assert_eq!(cold, 4, "each concurrent call needs its own environment");

    let warm = invoke_tail(&client, "held", None).await;
    assert!(
        field(
            &report_fields(&decode_log(warm.log_result())),
            "Init Duration"
        )
        .is_none()
    );
    assert_eq!(emulator.function_stats("held").unwrap().cold_starts, 4);

    client
        .update_function_configuration()
        .function_name("held")
        .memory_size(256)
        .send()
        .await
        .unwrap();
    let after_update = invoke_tail(&client, "held", None).await;
    assert!(
        field(
            &report_fields(&decode_log(after_update.log_result())),
            "Init Duration"
        )
        .is_some()
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn aliases_and_snapstart_versions_execute_their_version() {
    let emulator = start(EmulatorOptions {
        snapstart_delay: Duration::from_secs(20),
        ..options()
    })
    .await;
    let client = lambda(&emulator).await;

    let version = client
        .publish_version()
        .function_name("snapstart")
        .send()
        .await
        .unwrap();
    assert_eq!(
        version.state(),
        Some(&aws_sdk_lambda::types::State::Pending)
    );
    client
        .create_alias()
        .function_name("snapstart")
        .name("live")
        .function_version("1")
        .send()
        .await
        .unwrap();
    let pending = client
        .invoke()
        .function_name("snapstart")
        .qualifier("live")
        .send()
        .await
        .unwrap_err();
    assert!(
        pending
            .into_service_error()
            .is_resource_conflict_exception()
    );

    wait_until(Duration::from_secs(5), "snapshot", || async {
        let config = client
            .get_function_configuration()
            .function_name("snapstart")
            .qualifier("1")
            .send()
            .await
            .unwrap();
        config.state() == Some(&aws_sdk_lambda::types::State::Active)
    })
    .await;
    let output = invoke_tail(&client, "snapstart", Some("live")).await;
    assert_eq!(output.executed_version(), Some("1"));
    let fields = report_fields(&decode_log(output.log_result()));
    assert!(field(&fields, "Restore Duration").is_some());
    assert!(field(&fields, "Billed Restore Duration").is_some());
    assert!(field(&fields, "Init Duration").is_none());

    let stats = emulator.function_stats("snapstart").unwrap();
    assert_eq!(stats.invocations_by_qualifier["live"], 1);
    assert_eq!(stats.invocations_by_version["1"], 1);

    let dry = client
        .invoke()
        .function_name("snapstart:live")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .unwrap();
    assert_eq!(dry.status_code(), 204);
    emulator.shutdown().await;
}

#[tokio::test]
async fn reserved_and_account_concurrency_throttle() {
    let emulator = start(EmulatorOptions {
        account_concurrency: Some(2),
        ..options()
    })
    .await;
    emulator.add_function(slow_function("held")).unwrap();
    let client = lambda(&emulator).await;
    client
        .put_function_concurrency()
        .function_name("cpu-bound")
        .reserved_concurrent_executions(0)
        .send()
        .await
        .unwrap();
    let reserved = client
        .invoke()
        .function_name("cpu-bound")
        .send()
        .await
        .unwrap_err();
    let reserved = reserved.into_service_error();
    assert!(reserved.is_too_many_requests_exception());
    let aws_sdk_lambda::operation::invoke::InvokeError::TooManyRequestsException(inner) = &reserved
    else {
        panic!("expected TooManyRequestsException");
    };
    assert_eq!(
        inner.reason(),
        Some(&aws_sdk_lambda::types::ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded)
    );

    let slow = |name: &'static str| {
        let client = client.clone();
        tokio::spawn(async move { client.invoke().function_name(name).send().await })
    };
    let first = slow("held");
    let second = slow("held");
    wait_until(
        Duration::from_secs(5),
        "two invocations in flight",
        || async {
            emulator
                .function_stats("held")
                .is_some_and(|s| s.invocations_by_version.get("$LATEST") == Some(&2))
        },
    )
    .await;
    let third = client
        .invoke()
        .function_name("io-bound")
        .send()
        .await
        .unwrap_err();
    assert_eq!(third.code(), Some("TooManyRequestsException"));
    let aws_sdk_lambda::operation::invoke::InvokeError::TooManyRequestsException(inner) =
        third.into_service_error()
    else {
        panic!("expected TooManyRequestsException");
    };
    assert_eq!(
        inner.reason(),
        Some(&aws_sdk_lambda::types::ThrottleReason::ConcurrentInvocationLimitExceeded)
    );
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    client
        .invoke()
        .function_name("io-bound")
        .send()
        .await
        .unwrap();
    assert_eq!(emulator.totals().throttles, 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn time_scale_shortens_sleeps_but_not_reports() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;
    let started = Instant::now();
    let output = invoke_tail(&client, "cpu-bound", None).await;
    let elapsed = started.elapsed();
    let fields = report_fields(&decode_log(output.log_result()));
    let duration: f64 = field(&fields, "Duration")
        .unwrap()
        .trim_end_matches(" ms")
        .parse()
        .unwrap();
    assert!(duration > 18_000.0, "simulated duration {duration}");
    assert!(elapsed >= Duration::from_millis(180), "slept {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "slept {elapsed:?}");
    emulator.shutdown().await;
}
