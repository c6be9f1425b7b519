//! Fault injection, the admin API and S3 GetObject.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_lambda::error::ProvideErrorMetadata;
use lambda_emulator::{EmulatorOptions, FaultConfig, FaultRule};

use common::{http, lambda, options, s3, start};

#[tokio::test]
async fn injected_faults_follow_rules_and_are_counted() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;
    emulator.set_faults(FaultConfig {
        seed: 3,
        rules: vec![FaultRule {
            operation: Some("Invoke".to_owned()),
            function: Some("io-bound".to_owned()),
            throttle_rate: 1.0,
            ..FaultRule::default()
        }],
    });

    let throttled = client
        .invoke()
        .function_name("io-bound")
        .send()
        .await
        .unwrap_err();
    assert_eq!(throttled.code(), Some("TooManyRequestsException"));
    client
        .invoke()
        .function_name("json-logs")
        .send()
        .await
        .unwrap();
    client
        .get_function()
        .function_name("io-bound")
        .send()
        .await
        .unwrap();

    emulator.set_faults(FaultConfig {
        seed: 3,
        rules: vec![
            FaultRule {
                operation: Some("GetFunction".to_owned()),
                server_error_rate: 1.0,
                ..FaultRule::default()
            },
            FaultRule {
                operation: Some("PublishVersion".to_owned()),
                conflict_rate: 1.0,
                ..FaultRule::default()
            },
        ],
    });
    let server = client
        .get_function()
        .function_name("io-bound")
        .send()
        .await
        .unwrap_err();
    assert_eq!(server.raw_response().unwrap().status().as_u16(), 500);
    assert!(server.into_service_error().is_service_exception());
    let conflict = client
        .publish_version()
        .function_name("io-bound")
        .send()
        .await
        .unwrap_err();
    assert!(
        conflict
            .into_service_error()
            .is_resource_conflict_exception()
    );

    let stats = emulator.function_stats("io-bound").unwrap();
    assert_eq!(stats.faults_injected, 3);
    assert!(
        stats.invocations_by_qualifier.is_empty(),
        "a throttled call does not run"
    );
    assert_eq!(stats.operations["Invoke"], 1);
    let totals = emulator.totals();
    assert_eq!(totals.faults_injected.throttles, 1);
    assert_eq!(totals.faults_injected.server_errors, 1);
    assert_eq!(totals.faults_injected.conflicts, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn same_seed_gives_same_fault_sequence() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;
    let rules = FaultConfig {
        seed: 11,
        rules: vec![FaultRule {
            operation: Some("GetFunctionConfiguration".to_owned()),
            throttle_rate: 0.5,
            ..FaultRule::default()
        }],
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        emulator.set_faults(rules.clone());
        let mut outcomes = Vec::new();
        for _ in 0..20 {
            let result = client
                .get_function_configuration()
                .function_name("flaky")
                .send()
                .await;
            outcomes.push(result.is_ok());
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&true), "some calls pass");
    assert!(runs[0].contains(&false), "some calls fail");
    emulator.shutdown().await;
}

#[tokio::test]
async fn extra_latency_is_scaled() {
    let emulator = start(EmulatorOptions {
        faults: Some(FaultConfig {
            seed: 1,
            rules: vec![FaultRule {
                operation: Some("GetAlias".to_owned()),
                extra_latency_ms: 20_000.0,
                ..FaultRule::default()
            }],
        }),
        ..options()
    })
    .await;
    let client = lambda(&emulator).await;
    let started = Instant::now();
    let missing = client
        .get_alias()
        .function_name("flaky")
        .name("x")
        .send()
        .await
        .unwrap_err();
    assert!(
        missing
            .into_service_error()
            .is_resource_not_found_exception()
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(emulator.totals().faults_injected.delayed, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn admin_api_manages_faults_functions_and_stats() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;

    let rules = r#"{"seed":1,"rules":[{"operation":"Invoke","throttleRate":1.0}]}"#;
    let (status, body) = http(&emulator, "PUT", "/_emulator/faults", rules).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = http(&emulator, "GET", "/_emulator/faults", "").await;
    let faults: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(faults["rules"][0]["throttleRate"], 1.0);
    assert!(client.invoke().function_name("flaky").send().await.is_err());
    let (status, _) = http(&emulator, "DELETE", "/_emulator/faults", "").await;
    assert_eq!(status, 204);

    let (status, body) = http(
        &emulator,
        "PUT",
        "/_emulator/faults",
        r#"{"rules":[{"operation":"Invok"}]}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("Invok"), "{body}");

    let spec =
        r#"{"name":"made","memory_mb":256,"profile":{"cpu_ms":10.0,"response":{"ok":true}}}"#;
    let (status, body) = http(&emulator, "POST", "/_emulator/functions", spec).await;
    assert_eq!(status, 201, "{body}");
    let output = client.invoke().function_name("made").send().await.unwrap();
    assert_eq!(output.payload().unwrap().as_ref(), br#"{"ok":true}"#);
    let (status, _) = http(&emulator, "POST", "/_emulator/functions", spec).await;
    assert_eq!(status, 409);
    let (status, body) = http(
        &emulator,
        "POST",
        "/_emulator/functions",
        r#"{"name":"x","cpu":1}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("cpu"), "{body}");

    let (status, body) = http(&emulator, "GET", "/_emulator/functions/made/stats", "").await;
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["invocations"]["$LATEST"], 1);
    assert_eq!(stats["invocationsByVersion"]["$LATEST"], 1);
    assert_eq!(stats["operations"]["Invoke"], 1);
    assert_eq!(stats["coldStarts"], 1);
    assert!(
        stats["operations"]
            .get("UpdateFunctionConfiguration")
            .is_none()
    );

    let (status, _) = http(&emulator, "GET", "/_emulator/functions/never/stats", "").await;
    assert_eq!(status, 404);
    let (_, body) = http(&emulator, "GET", "/_emulator/stats", "").await;
    let totals: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(totals["faultsInjected"]["throttles"], 1);
    assert_eq!(totals["invocations"], 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn s3_get_object_serves_files_and_xml_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("payloads/nested")).unwrap();
    std::fs::write(
        dir.path().join("payloads/nested/event.json"),
        br#"{"big":true}"#,
    )
    .unwrap();
    let emulator = start(EmulatorOptions {
        s3_dir: Some(dir.path().to_owned()),
        ..options()
    })
    .await;
    let client = s3(&emulator).await;

    let object = client
        .get_object()
        .bucket("payloads")
        .key("nested/event.json")
        .send()
        .await
        .unwrap();
    let bytes = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.as_ref(), br#"{"big":true}"#);

    let no_key = client
        .get_object()
        .bucket("payloads")
        .key("missing.json")
        .send()
        .await
        .unwrap_err();
    assert!(no_key.into_service_error().is_no_such_key());
    let no_bucket = client
        .get_object()
        .bucket("nobucket")
        .key("a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(no_bucket.raw_response().unwrap().status().as_u16(), 404);
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&no_bucket),
        Some("NoSuchBucket")
    );
    let escape = client
        .get_object()
        .bucket("payloads")
        .key("../payloads/nested/event.json")
        .send()
        .await;
    assert!(escape.is_err());
    emulator.shutdown().await;
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;
    let output = client
        .get_function()
        .function_name("flaky")
        .send()
        .await
        .unwrap();
    use aws_sdk_lambda::operation::RequestId;
    assert!(output.request_id().is_some_and(|id| id.len() == 36));
    let error = client
        .get_function()
        .function_name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(error.request_id().is_some());
    emulator.shutdown().await;
}

#[tokio::test]
async fn bad_functions_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("functions.toml");
    std::fs::write(&path, "[[function]]\nname = \"a\"\ntimeout = 3\n").unwrap();
    let error = lambda_emulator::start(
        "127.0.0.1:0".parse().unwrap(),
        EmulatorOptions {
            functions_file: Some(path.clone()),
            ..options()
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("functions.toml"), "{error}");
    assert!(error.contains("line 3"), "{error}");
    assert!(error.contains("timeout"), "{error}");

    let bad_scale = lambda_emulator::start(
        "127.0.0.1:0".parse().unwrap(),
        EmulatorOptions {
            time_scale: f64::NAN,
            ..options()
        },
    )
    .await
    .unwrap_err();
    assert!(bad_scale.to_string().contains("time_scale"));
}

#[tokio::test]
async fn junk_requests_get_error_responses() {
    let emulator = start(options()).await;
    let cases = [
        ("GET", "/2015-03-31/functions/io-bound/unknown", ""),
        ("GET", "/2015-03-31/functions/%FF%FE/configuration", ""),
        (
            "GET",
            "/2015-03-31/functions/io-bound/versions?MaxItems=abc",
            "",
        ),
        (
            "GET",
            "/2015-03-31/functions/io-bound/versions?Marker=99",
            "",
        ),
        (
            "PUT",
            "/2015-03-31/functions/io-bound/configuration",
            "[1,2]",
        ),
        (
            "PUT",
            "/2015-03-31/functions/io-bound/configuration",
            r#"{"MemorySize":"big"}"#,
        ),
        (
            "PUT",
            "/2015-03-31/functions/io-bound/configuration",
            r#"{"MemorySize":-5}"#,
        ),
        (
            "PUT",
            "/2015-03-31/functions/io-bound/configuration",
            r#"{"Timeout":100000}"#,
        ),
        (
            "POST",
            "/2015-03-31/functions",
            r#"{"FunctionName":"bad name"}"#,
        ),
        (
            "POST",
            "/2015-03-31/functions",
            r#"{"FunctionName":"x","Code":{"ZipFile":"%%%"}}"#,
        ),
        (
            "POST",
            "/2015-03-31/functions/io-bound/aliases",
            r#"{"Name":"123","FunctionVersion":"$LATEST"}"#,
        ),
        (
            "POST",
            "/2015-03-31/functions/io-bound/invocations?Qualifier=%24LATEST%3A",
            "{}",
        ),
        (
            "PUT",
            "/2017-10-31/functions/io-bound/concurrency",
            r#"{"ReservedConcurrentExecutions":-1}"#,
        ),
        (
            "POST",
            "/_emulator/functions",
            r#"{"name":"x","profile":{"jitter":5}}"#,
        ),
        (
            "POST",
            "/_emulator/functions",
            r#"{"name":"x","profile":{"log_lines":4000000000}}"#,
        ),
        ("PATCH", "/anything", ""),
    ];
    for (method, path, body) in cases {
        let (status, text) = http(&emulator, method, path, body).await;
        assert!(
            (400..500).contains(&status),
            "{method} {path}: {status} {text}"
        );
    }
    let (status, body) = http(
        &emulator,
        "GET",
        "/2015-03-31/functions/io-bound/unknown",
        "",
    )
    .await;
    assert_eq!(status, 404);
    assert!(body.contains("Unknown operation"), "{body}");
    let client = lambda(&emulator).await;
    client
        .get_function()
        .function_name("io-bound")
        .send()
        .await
        .unwrap();
    emulator.shutdown().await;
}
