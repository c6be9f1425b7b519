//! Durations of one invocation, read from the `REPORT` record in its log tail.
//!
//! `Invoke` with `LogType=Tail` returns the last 4 KB of the invocation's log,
//! base64-encoded, in the `X-Amz-Log-Result` header. The tail ends with the
//! platform report, in one of two formats chosen per function:
//!
//! - Text: `REPORT RequestId: ...\tDuration: 2.37 ms\tBilled Duration: 427 ms\t`
//!   `Memory Size: 1024 MB\tMax Memory Used: 95 MB\tInit Duration: 423.98 ms\t`,
//!   with `Restore Duration` and `Billed Restore Duration` for SnapStart
//!   restores, and `Status: timeout` or `Status: error\tError Type: ...` on
//!   failures.
//! - JSON: one object per line. The report is the line whose `type` is
//!   `platform.report`, with `record.metrics.durationMs`, `billedDurationMs`,
//!   `memorySizeMB`, `maxMemoryUsedMB`, `initDurationMs`,
//!   `restoreDurationMs`, `billedRestoreDurationMs`, and `record.status`,
//!   `record.errorType` on failures.
//!
//! The format is decided line by line, because function output in the tail
//! may look like either. A tail without a report is an error, never a zero
//! duration, so a broken log cannot make a memory size look free and fast.

use base64::Engine as _;
use serde_json::Value;

/// Metrics of one invocation. Durations are in milliseconds; metrics that
/// the report leaves out are 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportMetrics {
    pub duration_ms: f64,
    pub billed_duration_ms: f64,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: u32,
    pub init_duration_ms: f64,
    pub restore_duration_ms: f64,
    pub billed_restore_duration_ms: f64,
    /// `timeout` or `error` when the invocation failed; `None` on success
    /// (the JSON format's `success` is stored as `None` too).
    pub status: Option<String>,
    /// Such as `Runtime.OutOfMemory`, when `status` is `error`.
    pub error_type: Option<String>,
}

impl ReportMetrics {
    /// Returns the latency the tuner compares: duration + init + restore,
    /// in ms.
    pub fn speed_ms(&self) -> f64 {
        self.duration_ms + self.init_duration_ms + self.restore_duration_ms
    }

    /// Returns the billed time the tuner prices: billed duration + billed
    /// restore duration, in ms.
    pub fn billed_ms(&self) -> f64 {
        self.billed_duration_ms + self.billed_restore_duration_ms
    }
}

/// Error reading the metrics of a log tail.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    #[error(
        "the log tail has no REPORT line or platform.report record; invoke with LogType=Tail \
         and check that the function's logs are not replaced by an extension"
    )]
    NoReport,

    #[error("X-Amz-Log-Result: the header is not valid base64 ({reason})")]
    InvalidBase64 { reason: String },

    #[error("the invocation report has no duration: `{report}`")]
    MissingDuration { report: String },

    #[error("the invocation report field {field} has the invalid value `{value}`")]
    InvalidField { field: String, value: String },
}

/// Parses the `X-Amz-Log-Result` header of an invocation.
///
/// The tail is cut at a byte count, so it may start inside a UTF-8
/// character; such bytes are replaced rather than rejected.
pub fn parse_log_result(base64: &str) -> Result<ReportMetrics, ReportError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64.trim())
        .map_err(|error| ReportError::InvalidBase64 {
            reason: error.to_string(),
        })?;

    parse_log_tail(&String::from_utf8_lossy(&bytes))
}

/// Parses a decoded log tail and returns the metrics of its last report.
pub fn parse_log_tail(log: &str) -> Result<ReportMetrics, ReportError> {
    let mut last = None;
    for (index, line) in log.lines().enumerate() {
        if let Some(report) = report_in_line(line, index == 0)? {
            last = Some(report);
        }
    }
    if last.is_none() {
        last = pretty_printed_report(log)?;
    }
    last.ok_or(ReportError::NoReport)
}

/// Reads the report in `line`, if it contains one. The first line of a tail may
/// have lost its beginning, so there a text report is also recognised by its
/// `Billed Duration` field alone.
fn report_in_line(line: &str, first: bool) -> Result<Option<ReportMetrics>, ReportError> {
    let trimmed = line.trim();

    if trimmed.starts_with('{') {
        return match serde_json::from_str::<Value>(trimmed) {
            Ok(record) if is_platform_report(&record) => json_report(&record).map(Some),
            _ => Ok(None),
        };
    }

    let is_text_report =
        trimmed.starts_with("REPORT RequestId:") || (first && line.contains("\tBilled Duration: "));
    if is_text_report {
        return text_report(line).map(Some);
    }
    Ok(None)
}

/// Finds a report in a tail that is one pretty-printed JSON object or an
/// array of records, as some log forwarders write them.
fn pretty_printed_report(log: &str) -> Result<Option<ReportMetrics>, ReportError> {
    let records = match serde_json::from_str::<Value>(log.trim()) {
        Ok(Value::Array(records)) => records,
        Ok(record) => vec![record],
        Err(_) => return Ok(None),
    };
    match records
        .iter()
        .rev()
        .find(|record| is_platform_report(record))
    {
        Some(record) => json_report(record).map(Some),
        None => Ok(None),
    }
}

fn is_platform_report(record: &Value) -> bool {
    record.get("type").and_then(Value::as_str) == Some("platform.report")
}

fn json_report(record: &Value) -> Result<ReportMetrics, ReportError> {
    let body = record.get("record").unwrap_or(&Value::Null);
    let metrics = body.get("metrics").unwrap_or(&Value::Null);
    let number = |name: &str| -> Result<Option<f64>, ReportError> {
        match metrics.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_f64()
                .map(Some)
                .ok_or_else(|| ReportError::InvalidField {
                    field: name.to_owned(),
                    value: value.to_string(),
                }),
        }
    };

    let duration_ms = number("durationMs")?.ok_or_else(|| ReportError::MissingDuration {
        report: record.to_string(),
    })?;
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .filter(|status| *status != "success")
        .map(str::to_owned);

    Ok(ReportMetrics {
        duration_ms,
        billed_duration_ms: number("billedDurationMs")?.unwrap_or(0.0),
        memory_size_mb: number("memorySizeMB")?.unwrap_or(0.0) as u32,
        max_memory_used_mb: number("maxMemoryUsedMB")?.unwrap_or(0.0) as u32,
        init_duration_ms: number("initDurationMs")?.unwrap_or(0.0),
        restore_duration_ms: number("restoreDurationMs")?.unwrap_or(0.0),
        billed_restore_duration_ms: number("billedRestoreDurationMs")?.unwrap_or(0.0),
        status,
        error_type: body
            .get("errorType")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Reads the tab-separated `Name: value unit` fields of a text report.
fn text_report(line: &str) -> Result<ReportMetrics, ReportError> {
    let mut metrics = ReportMetrics::default();
    let mut has_duration = false;

    for field in line.split('\t') {
        let Some((name, value)) = field.trim().split_once(": ") else {
            continue;
        };
        let value = value.trim();
        match name {
            "Duration" => {
                metrics.duration_ms = measure(name, value, "ms")?;
                has_duration = true;
            }
            "Billed Duration" => metrics.billed_duration_ms = measure(name, value, "ms")?,
            "Memory Size" => metrics.memory_size_mb = measure(name, value, "MB")? as u32,
            "Max Memory Used" => metrics.max_memory_used_mb = measure(name, value, "MB")? as u32,
            "Init Duration" => metrics.init_duration_ms = measure(name, value, "ms")?,
            "Restore Duration" => metrics.restore_duration_ms = measure(name, value, "ms")?,
            "Billed Restore Duration" => {
                metrics.billed_restore_duration_ms = measure(name, value, "ms")?
            }
            "Status" => metrics.status = Some(value.to_owned()),
            "Error Type" => metrics.error_type = Some(value.to_owned()),
            _ => {}
        }
    }

    if !has_duration {
        return Err(ReportError::MissingDuration {
            report: line.trim().to_owned(),
        });
    }
    Ok(metrics)
}

/// Parses `2.37 ms` or `128 MB` into its number.
fn measure(name: &str, value: &str, unit: &str) -> Result<f64, ReportError> {
    value
        .strip_suffix(unit)
        .map(str::trim)
        .and_then(|number| number.parse::<f64>().ok())
        .filter(|number| number.is_finite() && *number >= 0.0)
        .ok_or_else(|| ReportError::InvalidField {
            field: name.to_owned(),
            value: value.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUCCESS: &str = "START RequestId: 6f8a Version: 3\n\
        hello from the handler\n\
        END RequestId: 6f8a\n\
        REPORT RequestId: 6f8a\tDuration: 26.73 ms\tBilled Duration: 27 ms \tMemory Size: 128 MB\tMax Memory Used: 75 MB\t\n";

    fn encode(log: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(log)
    }

    #[test]
    fn text_success_report() {
        let metrics = parse_log_tail(SUCCESS).unwrap();

        assert_eq!(metrics.duration_ms, 26.73);
        assert_eq!(metrics.billed_duration_ms, 27.0);
        assert_eq!(metrics.memory_size_mb, 128);
        assert_eq!(metrics.max_memory_used_mb, 75);
        assert_eq!(metrics.init_duration_ms, 0.0);
        assert_eq!(metrics.status, None);
        assert_eq!(metrics.speed_ms(), 26.73);
        assert_eq!(metrics.billed_ms(), 27.0);
    }

    #[test]
    fn text_cold_start_adds_init_to_speed() {
        let log = "REPORT RequestId: a\tDuration: 2.37 ms\tBilled Duration: 427 ms\tMemory Size: 1024 MB\tMax Memory Used: 95 MB\tInit Duration: 423.98 ms\t\n\
            XRAY TraceId: 1-abc\tSegmentId: def\tSampled: true\n";
        let metrics = parse_log_tail(log).unwrap();

        assert_eq!(metrics.init_duration_ms, 423.98);
        assert!((metrics.speed_ms() - 426.35).abs() < 1e-9);
        assert_eq!(metrics.billed_ms(), 427.0);
    }

    #[test]
    fn text_snapstart_restore_is_counted() {
        let log = "REPORT RequestId: b\tDuration: 10.50 ms\tBilled Duration: 11 ms\tMemory Size: 512 MB\tMax Memory Used: 21 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 75 ms";
        let metrics = parse_log_tail(log).unwrap();

        assert_eq!(metrics.restore_duration_ms, 474.16);
        assert_eq!(metrics.billed_restore_duration_ms, 75.0);
        assert!((metrics.speed_ms() - 484.66).abs() < 1e-9);
        assert_eq!(metrics.billed_ms(), 86.0);
    }

    #[test]
    fn text_timeout_and_out_of_memory() {
        let timeout = "REPORT RequestId: c\tDuration: 3000.00 ms\tBilled Duration: 3517 ms\tMemory Size: 1024 MB\tMax Memory Used: 1024 MB\tInit Duration: 516.31 ms\tStatus: timeout";
        let oom = "REPORT RequestId: d\tDuration: 812.00 ms\tBilled Duration: 812 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory";

        let timeout = parse_log_tail(timeout).unwrap();
        assert_eq!(timeout.status.as_deref(), Some("timeout"));
        assert_eq!(timeout.error_type, None);
        assert_eq!(timeout.duration_ms, 3000.0);

        let oom = parse_log_tail(oom).unwrap();
        assert_eq!(oom.status.as_deref(), Some("error"));
        assert_eq!(oom.error_type.as_deref(), Some("Runtime.OutOfMemory"));
        assert_eq!(oom.max_memory_used_mb, 128);
    }

    #[test]
    fn tail_starting_mid_line_still_parses() {
        let log = "ue\": \"cut JSON from the function\"}\n\
            2024-05-01T10:00:00Z 6f8a INFO plain output\n\
            REPORT RequestId: e\tDuration: 5.00 ms\tBilled Duration: 5 ms\tMemory Size: 256 MB\tMax Memory Used: 60 MB\t\n";
        assert_eq!(parse_log_tail(log).unwrap().duration_ms, 5.0);

        let cut_report = "6f8a\tDuration: 7.25 ms\tBilled Duration: 8 ms\tMemory Size: 256 MB\tMax Memory Used: 60 MB\t";
        assert_eq!(parse_log_tail(cut_report).unwrap().duration_ms, 7.25);
    }

    #[test]
    fn output_lines_that_look_like_fields_are_ignored() {
        let log = "my handler printed\tDuration: 999.99 ms\n\
            REPORT RequestId: f\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t\n";

        assert_eq!(parse_log_tail(log).unwrap().duration_ms, 1.0);
    }

    #[test]
    fn last_report_wins() {
        let log = "REPORT RequestId: g\tDuration: 1.00 ms\tBilled Duration: 1 ms\t\n\
            REPORT RequestId: h\tDuration: 2.00 ms\tBilled Duration: 2 ms\t\n";

        assert_eq!(parse_log_tail(log).unwrap().duration_ms, 2.0);
    }

    #[test]
    fn missing_optional_metrics_count_as_zero() {
        let text = parse_log_tail("REPORT RequestId: i\tDuration: 3.00 ms\t").unwrap();
        let json =
            parse_log_tail(r#"{"type":"platform.report","record":{"metrics":{"durationMs":3.5}}}"#)
                .unwrap();

        assert_eq!(text.billed_duration_ms, 0.0);
        assert_eq!(text.memory_size_mb, 0);
        assert_eq!(json.duration_ms, 3.5);
        assert_eq!(json.billed_ms(), 0.0);
        assert_eq!(json.speed_ms(), 3.5);
    }

    #[test]
    fn no_report_is_an_error() {
        assert_eq!(parse_log_tail(""), Err(ReportError::NoReport));
        assert_eq!(
            parse_log_tail("START RequestId: j Version: $LATEST\nEND RequestId: j\n"),
            Err(ReportError::NoReport)
        );
        assert_eq!(
            parse_log_tail(r#"{"type":"platform.start","record":{"requestId":"j"}}"#),
            Err(ReportError::NoReport)
        );
    }

    #[test]
    fn report_without_duration_is_an_error() {
        let text = parse_log_tail("REPORT RequestId: k\tBilled Duration: 3 ms\t").unwrap_err();
        let json = parse_log_tail(
            r#"{"type":"platform.report","record":{"metrics":{"billedDurationMs":3}}}"#,
        )
        .unwrap_err();

        assert!(
            matches!(text, ReportError::MissingDuration { .. }),
            "{text}"
        );
        assert!(text.to_string().contains("Billed Duration: 3 ms"));
        assert!(
            matches!(json, ReportError::MissingDuration { .. }),
            "{json}"
        );
    }

    #[test]
    fn invalid_field_value_is_named() {
        let error = parse_log_tail("REPORT RequestId: l\tDuration: fast ms\t").unwrap_err();

        assert_eq!(
            error,
            ReportError::InvalidField {
                field: "Duration".to_owned(),
                value: "fast ms".to_owned()
            }
        );
    }

    #[test]
    fn json_cold_start_report() {
        let log = concat!(
            r#"{"time":"2024-05-01T10:00:00Z","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"success","metrics":{"durationMs":173.778}}}"#,
            "\n",
            r#"{"time":"2024-05-01T10:00:00Z","type":"platform.start","record":{"requestId":"m","version":"$LATEST"}}"#,
            "\n",
            r#"{"timestamp":"2024-05-01T10:00:00Z","level":"INFO","requestId":"m","message":"REPORT RequestId: fake\tDuration: 9.00 ms"}"#,
            "\n",
            r#"{"time":"2024-05-01T10:00:00Z","type":"platform.runtimeDone","record":{"requestId":"m","status":"success","metrics":{"durationMs":11.185,"producedBytes":40}}}"#,
            "\n",
            r#"{"time":"2024-05-01T10:00:00Z","type":"platform.report","record":{"requestId":"m","status":"success","metrics":{"durationMs":11.642,"billedDurationMs":12,"memorySizeMB":128,"maxMemoryUsedMB":67,"initDurationMs":174.055}}}"#,
            "\n",
        );
        let metrics = parse_log_result(&encode(log)).unwrap();

        assert_eq!(metrics.duration_ms, 11.642);
        assert_eq!(metrics.billed_duration_ms, 12.0);
        assert_eq!(metrics.memory_size_mb, 128);
        assert_eq!(metrics.max_memory_used_mb, 67);
        assert_eq!(metrics.init_duration_ms, 174.055);
        assert_eq!(metrics.status, None);
        assert!((metrics.speed_ms() - 185.697).abs() < 1e-9);
    }

    #[test]
    fn json_snapstart_and_failures() {
        let restore = r#"{"type":"platform.report","record":{"status":"success","metrics":{"durationMs":10.0,"billedDurationMs":11,"restoreDurationMs":474.16,"billedRestoreDurationMs":75}}}"#;
        let oom = r#"{"type":"platform.report","record":{"status":"error","errorType":"Runtime.OutOfMemory","metrics":{"durationMs":800.0,"billedDurationMs":800,"memorySizeMB":128,"maxMemoryUsedMB":128}}}"#;
        let timeout = r#"{"type":"platform.report","record":{"status":"timeout","metrics":{"durationMs":3000.0,"billedDurationMs":3000}}}"#;

        let restore = parse_log_tail(restore).unwrap();
        assert_eq!(restore.billed_ms(), 86.0);
        assert!((restore.speed_ms() - 484.16).abs() < 1e-9);

        let oom = parse_log_tail(oom).unwrap();
        assert_eq!(oom.status.as_deref(), Some("error"));
        assert_eq!(oom.error_type.as_deref(), Some("Runtime.OutOfMemory"));

        let timeout = parse_log_tail(timeout).unwrap();
        assert_eq!(timeout.status.as_deref(), Some("timeout"));
    }

    #[test]
    fn json_after_text_output_is_found() {
        let log = "plain text printed by the handler\n\
            {\"type\":\"platform.report\",\"record\":{\"metrics\":{\"durationMs\":4.0,\"billedDurationMs\":4}}}\n";

        assert_eq!(parse_log_tail(log).unwrap().duration_ms, 4.0);
    }

    #[test]
    fn pretty_printed_json_report_is_found() {
        let log = "{\n  \"type\": \"platform.report\",\n  \"record\": {\n    \"metrics\": {\n      \"durationMs\": 6.5\n    }\n  }\n}";

        assert_eq!(parse_log_tail(log).unwrap().duration_ms, 6.5);
    }

    #[test]
    fn log_result_header_is_decoded() {
        let metrics = parse_log_result(&encode(SUCCESS)).unwrap();
        assert_eq!(metrics.duration_ms, 26.73);

        let error = parse_log_result("not base64!").unwrap_err();
        assert!(matches!(error, ReportError::InvalidBase64 { .. }));
        assert_eq!(parse_log_result(""), Err(ReportError::NoReport));
    }

    #[test]
    fn tail_cut_inside_utf8_character_parses() {
        let mut bytes = "é\n".as_bytes()[1..].to_vec();
        bytes.extend_from_slice(SUCCESS.as_bytes());
        let header = base64::engine::general_purpose::STANDARD.encode(bytes);

        assert_eq!(parse_log_result(&header).unwrap().duration_ms, 26.73);
    }
}
