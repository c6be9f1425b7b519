//! Helpers shared by the integration tests: an emulator on `127.0.0.1:0`, SDK clients with
//! static test credentials and no retries, a raw HTTP client for the admin API, and waiting on
//! conditions with a deadline.

#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use base64::Engine;
use lambda_emulator::{EmulatorOptions, RunningEmulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Time scale of the tests: simulated seconds pass in 10 ms.
pub const TIME_SCALE: f64 = 0.01;

/// Options with the test time scale and samples loaded.
pub fn options() -> EmulatorOptions {
    EmulatorOptions {
        time_scale: TIME_SCALE,
        samples: true,
        pending_delay: Duration::ZERO,
        snapstart_delay: Duration::ZERO,
        ..EmulatorOptions::default()
    }
}

/// Starts an emulator on a free local port.
pub async fn start(options: EmulatorOptions) -> RunningEmulator {
    lambda_emulator::start("127.0.0.1:0".parse().unwrap(), options)
        .await
        .expect("emulator starts")
}

async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .test_credentials()
        .endpoint_url(url)
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

/// Lambda client aimed at the emulator.
pub async fn lambda(emulator: &RunningEmulator) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&sdk_config(&emulator.url()).await)
}

/// Path-style S3 client aimed at the emulator.
pub async fn s3(emulator: &RunningEmulator) -> aws_sdk_s3::Client {
    let config = sdk_config(&emulator.url()).await;
    let s3_config = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

/// Polls `condition` every 5 ms until it holds, panicking after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Decodes an `X-Amz-Log-Result` header.
pub fn decode_log(log_result: Option<&str>) -> String {
    let encoded = log_result.expect("log result present");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("log result is base64");
    String::from_utf8(bytes).expect("log is UTF-8")
}

/// Fields of a text `REPORT` line, by name.
pub fn report_fields(log: &str) -> Vec<(String, String)> {
    let line = log
        .lines()
        .find(|line| line.starts_with("REPORT "))
        .expect("log has a REPORT line");
    line.trim_start_matches("REPORT ")
        .split('\t')
        .filter(|field| !field.is_empty())
        .filter_map(|field| field.split_once(": "))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// Value of one `REPORT` field.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(field, _)| field == name)
        .map(|(_, value)| value.as_str())
}

/// Sends one HTTP/1.1 request to the emulator and returns status and body.
pub async fn http(
    emulator: &RunningEmulator,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        emulator.addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();

    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response[9..12].parse().unwrap();

    let (head, mut body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let mut decoded = String::new();
    if chunked {
        while let Some((size, rest)) = body.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            decoded.push_str(&rest[..size]);
            body = &rest[size + 2..];
        }
    } else {
        decoded = body.to_owned();
    }
    (status, decoded)
}
