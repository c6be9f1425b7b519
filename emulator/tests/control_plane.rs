//! Control-plane operations through the real `aws-sdk-lambda` client: versions, aliases, the
//! update state machine, validation and function name forms.

mod common;

use std::time::Duration;

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::types::{Environment, FunctionCode, LastUpdateStatus, State};
use lambda_emulator::EmulatorOptions;

use common::{lambda, options, start, wait_until};

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function";

fn status<E>(
    error: &aws_sdk_lambda::error::SdkError<E, aws_sdk_lambda::config::http::HttpResponse>,
) -> u16 {
    error
        .raw_response()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

async fn wait_updated(client: &aws_sdk_lambda::Client, name: &str) {
    wait_until(Duration::from_secs(5), "update to finish", || async {
        let config = client
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .unwrap();
        config.last_update_status() == Some(&LastUpdateStatus::Successful)
    })
    .await;
}

#[tokio::test]
async fn publish_without_changes_returns_same_version() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;

    let first = client
        .publish_version()
        .function_name("io-bound")
        .send()
        .await
        .unwrap();
    let again = client
        .publish_version()
        .function_name("io-bound")
        .send()
        .await
        .unwrap();
    assert_eq!(first.version(), Some("1"));
    assert_eq!(again.version(), Some("1"));
    assert_eq!(first.revision_id(), again.revision_id());

    client
        .update_function_configuration()
        .function_name("io-bound")
        .memory_size(256)
        .send()
        .await
        .unwrap();
    wait_updated(&client, "io-bound").await;
    let second = client
        .publish_version()
        .function_name("io-bound")
        .send()
        .await
        .unwrap();
    assert_eq!(second.version(), Some("2"));
    assert_eq!(second.memory_size(), Some(256));
    assert_eq!(
        second.function_arn(),
        Some(format!("{ARN}:io-bound:2").as_str())
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn version_numbers_are_not_reused_and_list_paginates() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;
    for description in ["a", "b", "c"] {
        client
            .update_function_configuration()
            .function_name("flaky")
            .description(description)
            .send()
            .await
            .unwrap();
        wait_updated(&client, "flaky").await;
        client
            .publish_version()
            .function_name("flaky")
            .send()
            .await
            .unwrap();
    }
    client
        .delete_function()
        .function_name("flaky")
        .qualifier("3")
        .send()
        .await
        .unwrap();
    client
        .update_function_configuration()
        .function_name("flaky")
        .description("d")
        .send()
        .await
        .unwrap();
    wait_updated(&client, "flaky").await;
    let next = client
        .publish_version()
        .function_name("flaky")
        .send()
        .await
        .unwrap();
    assert_eq!(next.version(), Some("4"));

    let first_page = client
        .list_versions_by_function()
        .function_name("flaky")
        .max_items(2)
        .send()
        .await
        .unwrap();
    let versions: Vec<_> = first_page
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(versions, ["$LATEST", "1"]);
    assert!(
        first_page.versions()[0].state().is_none(),
        "list items omit State"
    );
    let marker = first_page.next_marker().expect("second page").to_owned();
    let second_page = client
        .list_versions_by_function()
        .function_name("flaky")
        .marker(marker)
        .max_items(2)
        .send()
        .await
        .unwrap();
    let versions: Vec<_> = second_page
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(versions, ["2", "4"]);
    assert!(second_page.next_marker().is_none());
    emulator.shutdown().await;
}

#[tokio::test]
async fn alias_rules_match_lambda() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;
    client
        .publish_version()
        .function_name("cpu-bound")
        .send()
        .await
        .unwrap();

    let created = client
        .create_alias()
        .function_name("cpu-bound")
        .name("RAM128")
        .function_version("1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.alias_arn(),
        Some(format!("{ARN}:cpu-bound:RAM128").as_str())
    );

    let duplicate = client
        .create_alias()
        .function_name("cpu-bound")
        .name("RAM128")
        .function_version("1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&duplicate), 409);
    assert!(
        duplicate
            .into_service_error()
            .is_resource_conflict_exception()
    );

    let missing_version = client
        .create_alias()
        .function_name("cpu-bound")
        .name("other")
        .function_version("9")
        .send()
        .await
        .unwrap_err();
    assert!(
        missing_version
            .into_service_error()
            .is_resource_not_found_exception()
    );

    let missing = client
        .get_alias()
        .function_name("cpu-bound")
        .name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception());
    assert!(
        missing
            .message()
            .unwrap()
            .starts_with("Cannot find alias arn:")
    );

    let in_use = client
        .delete_function()
        .function_name("cpu-bound")
        .qualifier("1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&in_use), 409);
    assert!(in_use.into_service_error().is_resource_conflict_exception());

    let updated = client
        .update_alias()
        .function_name("cpu-bound")
        .name("RAM128")
        .description("moved")
        .send()
        .await
        .unwrap();
    assert_ne!(updated.revision_id(), created.revision_id());
    let listed = client
        .list_aliases()
        .function_name("cpu-bound")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.aliases().len(), 1);

    client
        .delete_alias()
        .function_name("cpu-bound")
        .name("RAM128")
        .send()
        .await
        .unwrap();
    client
        .delete_alias()
        .function_name("cpu-bound")
        .name("RAM128")
        .send()
        .await
        .unwrap();
    let deleted = client
        .delete_function()
        .function_name("cpu-bound")
        .qualifier("1")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status_code(), 204);
    emulator.shutdown().await;
}

#[tokio::test]
async fn update_in_progress_rejects_updates_and_publishes() {
    let emulator = start(EmulatorOptions {
        update_delay: Duration::from_secs(30),
        ..options()
    })
    .await;
    let client = lambda(&emulator).await;

    let response = client
        .update_function_configuration()
        .function_name("io-bound")
        .memory_size(512)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.last_update_status(),
        Some(&LastUpdateStatus::InProgress)
    );
    assert_eq!(response.memory_size(), Some(512));

    let second = client
        .update_function_configuration()
        .function_name("io-bound")
        .memory_size(1024)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(second.is_resource_conflict_exception());
    assert_eq!(
        second.message(),
        Some(format!("The operation cannot be performed at this time. An update is in progress for resource: {ARN}:io-bound").as_str())
    );
    let publish = client
        .publish_version()
        .function_name("io-bound")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(publish.is_resource_conflict_exception());

    wait_updated(&client, "io-bound").await;
    client
        .publish_version()
        .function_name("io-bound")
        .send()
        .await
        .unwrap();
    emulator.shutdown().await;
}

#[tokio::test]
async fn new_function_goes_from_pending_to_active() {
    let emulator = start(EmulatorOptions {
        pending_delay: Duration::from_secs(20),
        ..options()
    })
    .await;
    let client = lambda(&emulator).await;

    let created = client
        .create_function()
        .function_name("fresh")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role("arn:aws:iam::123456789012:role/test")
        .handler("index.handler")
        .code(
            FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(b"zip".to_vec()))
                .build(),
        )
        .environment(
            Environment::builder()
                .variables("EMULATOR_CPU_MS", "5")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.state(), Some(&State::Pending));

    let invoke = client
        .invoke()
        .function_name("fresh")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&invoke), 409);
    let update = client
        .update_function_configuration()
        .function_name("fresh")
        .memory_size(256)
        .send()
        .await
        .unwrap_err();
    assert!(update.into_service_error().is_resource_conflict_exception());

    wait_until(
        Duration::from_secs(5),
        "function to become active",
        || async {
            let config = client
                .get_function()
                .function_name("fresh")
                .send()
                .await
                .unwrap();
            config.configuration().and_then(|c| c.state()) == Some(&State::Active)
        },
    )
    .await;
    client.invoke().function_name("fresh").send().await.unwrap();

    let duplicate = client
        .create_function()
        .function_name("fresh")
        .role("arn:aws:iam::123456789012:role/test")
        .code(FunctionCode::builder().build())
        .send()
        .await
        .unwrap_err();
    assert!(
        duplicate
            .into_service_error()
            .is_resource_conflict_exception()
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn memory_limits_and_quota_are_enforced() {
    let emulator = start(EmulatorOptions {
        memory_quota_mb: Some(3008),
        ..options()
    })
    .await;
    let client = lambda(&emulator).await;

    for (memory, code) in [
        (64, "ValidationException"),
        (10241, "ValidationException"),
        (4096, "InvalidParameterValueException"),
    ] {
        let error = client
            .update_function_configuration()
            .function_name("io-bound")
            .memory_size(memory)
            .send()
            .await
            .unwrap_err();
        assert_eq!(status(&error), 400, "memory {memory}");
        assert_eq!(error.code(), Some(code), "memory {memory}");
        if memory == 4096 {
            assert!(error.message().unwrap().contains("3008"));
        }
    }
    client
        .update_function_configuration()
        .function_name("io-bound")
        .memory_size(3008)
        .send()
        .await
        .unwrap();
    assert_eq!(
        emulator.function_stats("io-bound").unwrap().operations["UpdateFunctionConfiguration"],
        4
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn function_names_accept_every_form() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;
    client
        .publish_version()
        .function_name("slow-init")
        .send()
        .await
        .unwrap();

    let forms = [
        ("slow-init", None, "$LATEST", format!("{ARN}:slow-init")),
        (
            "123456789012:function:slow-init",
            None,
            "$LATEST",
            format!("{ARN}:slow-init"),
        ),
        (
            &*format!("{ARN}:slow-init"),
            None,
            "$LATEST",
            format!("{ARN}:slow-init"),
        ),
        (
            &*format!("{ARN}:slow-init:1"),
            None,
            "1",
            format!("{ARN}:slow-init:1"),
        ),
        (
            "slow-init",
            Some("$LATEST"),
            "$LATEST",
            format!("{ARN}:slow-init:$LATEST"),
        ),
        ("slow-init:1", Some("1"), "1", format!("{ARN}:slow-init:1")),
    ]
    .map(|(name, qualifier, version, arn)| (name.to_owned(), qualifier, version, arn));
    for (name, qualifier, version, arn) in forms {
        let config = client
            .get_function_configuration()
            .function_name(&name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(config.version(), Some(version), "{name}");
        assert_eq!(config.function_arn(), Some(arn.as_str()), "{name}");
    }

    let mismatch = client
        .get_function_configuration()
        .function_name("slow-init:1")
        .qualifier("2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(mismatch.code(), Some("InvalidParameterValueException"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_aws_errors() {
    let emulator = start(options()).await;
    let client = lambda(&emulator).await;

    let unknown = client
        .get_function()
        .function_name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&unknown), 404);
    assert!(
        unknown
            .into_service_error()
            .is_resource_not_found_exception()
    );

    let unknown_version = client
        .get_function_configuration()
        .function_name("io-bound")
        .qualifier("42")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(unknown_version.is_resource_not_found_exception());
    assert_eq!(
        unknown_version.message(),
        Some(format!("Function not found: {ARN}:io-bound:42").as_str())
    );

    let malformed = client
        .get_function()
        .function_name("arn:aws:lambda:us-east-1:123:function:x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&malformed), 400);
    assert_eq!(malformed.code(), Some("ValidationException"));

    let bad_qualifier = client
        .get_function()
        .function_name("io-bound")
        .qualifier("not.valid")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&bad_qualifier), 400);

    let latest = client
        .delete_function()
        .function_name("io-bound")
        .qualifier("$LATEST")
        .send()
        .await
        .unwrap_err();
    assert_eq!(latest.code(), Some("InvalidParameterValueException"));

    let bad_payload = client
        .invoke()
        .function_name("io-bound")
        .payload(aws_sdk_lambda::primitives::Blob::new(b"{not json".to_vec()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad_payload.is_invalid_request_content_exception());

    let bad_environment = client
        .update_function_configuration()
        .function_name("io-bound")
        .environment(
            Environment::builder()
                .variables("EMULATOR_THREADS", "many")
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad_environment.is_invalid_parameter_value_exception());
    assert!(
        bad_environment
            .message()
            .unwrap()
            .contains("EMULATOR_THREADS")
    );

    let (status, body) = common::http(
        &emulator,
        "POST",
        "/2015-03-31/functions/io-bound/aliases",
        "{oops",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("Could not parse request body"), "{body}");

    client
        .delete_function()
        .function_name("io-bound")
        .send()
        .await
        .unwrap();
    let gone = client
        .get_function()
        .function_name("io-bound")
        .send()
        .await
        .unwrap_err();
    assert!(gone.into_service_error().is_resource_not_found_exception());
    emulator.shutdown().await;
}
