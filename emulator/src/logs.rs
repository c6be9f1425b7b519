//! Invocation logs in the two Lambda log formats, ending in the `REPORT` line (text) or the
//! `platform.report` record (JSON), and the 4 KB tail that `X-Amz-Log-Result` carries.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::model::{Outcome, Start, Status};
use crate::spec::LogFormat;

/// Largest log tail returned in `X-Amz-Log-Result`, bytes.
pub const TAIL_BYTES: usize = 4096;

/// Facts about one invocation that its log reports.
#[derive(Debug, Clone, Copy)]
pub struct LogInput<'a> {
    pub request_id: &'a str,
    pub function_name: &'a str,
    pub version: &'a str,
    pub runtime: &'a str,
    pub region: &'a str,
    pub format: LogFormat,
    pub start: Start,
    pub outcome: &'a Outcome,
    pub timeout_s: u32,
    pub log_lines: u32,
    pub payload_bytes: usize,
}

/// Writes the whole log of one invocation, one line per record, each ending in `\n`.
pub fn invocation_log(input: &LogInput<'_>) -> String {
    match input.format {
        LogFormat::Text => text_log(input),
        LogFormat::Json => json_log(input),
    }
}

/// Cuts `log` to its last [`TAIL_BYTES`] bytes, starting on a line boundary.
pub fn tail(log: &str) -> &str {
    if log.len() <= TAIL_BYTES {
        return log;
    }
    let cut = log.len() - TAIL_BYTES;
    match log.as_bytes()[cut..].iter().position(|&b| b == b'\n') {
        Some(offset) => &log[cut + offset + 1..],
        None => "",
    }
}

/// Formats the text `REPORT` line: a trailing tab on success, none after a `Status` field.
pub fn report_line(request_id: &str, outcome: &Outcome) -> String {
    let mut line = format!(
        "REPORT RequestId: {request_id}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
        outcome.duration_ms, outcome.billed_ms, outcome.memory_size_mb, outcome.max_memory_used_mb
    );
    if let Some(init) = outcome.init_ms {
        let _ = write!(line, "Init Duration: {init:.2} ms\t");
    }
    if let (Some(restore), Some(billed)) = (outcome.restore_ms, outcome.billed_restore_ms) {
        let _ = write!(
            line,
            "Restore Duration: {restore:.2} ms\tBilled Restore Duration: {billed} ms\t"
        );
    }
    match outcome.status {
        Status::Timeout => line.push_str("Status: timeout"),
        Status::OutOfMemory => line.push_str("Status: error\tError Type: Runtime.OutOfMemory"),
        Status::Success | Status::FunctionError(_) => {}
    }
    line
}

/// Builds the `platform.report` record of the JSON format.
pub fn report_record(request_id: &str, outcome: &Outcome, time: &str) -> Value {
    let mut metrics = json!({
        "durationMs": outcome.duration_ms,
        "billedDurationMs": outcome.billed_ms,
        "memorySizeMB": outcome.memory_size_mb,
        "maxMemoryUsedMB": outcome.max_memory_used_mb,
    });
    if let Some(init) = outcome.init_ms {
        metrics["initDurationMs"] = json!(init);
    }
    if let (Some(restore), Some(billed)) = (outcome.restore_ms, outcome.billed_restore_ms) {
        metrics["restoreDurationMs"] = json!(restore);
        metrics["billedRestoreDurationMs"] = json!(billed);
    }
    let mut record =
        json!({ "requestId": request_id, "status": status_name(outcome), "metrics": metrics });
    if let Some(error_type) = error_type(outcome) {
        record["errorType"] = json!(error_type);
    }
    json!({ "time": time, "type": "platform.report", "record": record })
}

fn status_name(outcome: &Outcome) -> &'static str {
    match outcome.status {
        Status::Success => "success",
        Status::Timeout => "timeout",
        Status::OutOfMemory | Status::FunctionError(_) => "error",
    }
}

fn error_type(outcome: &Outcome) -> Option<&str> {
    match &outcome.status {
        Status::Success | Status::Timeout => None,
        Status::OutOfMemory => Some("Runtime.OutOfMemory"),
        Status::FunctionError(error_type) => Some(error_type),
    }
}

fn runtime_version(input: &LogInput<'_>) -> (String, String) {
    let version = format!("{}.v43", input.runtime.replace("python", "python:"));
    let arn = format!(
        "arn:aws:lambda:{}::runtime:{}",
        input.region,
        crate::function::code_sha256(input.runtime.as_bytes())
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(32)
            .collect::<String>()
            .to_lowercase()
    );
    (version, arn)
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn text_log(input: &LogInput<'_>) -> String {
    let id = input.request_id;
    let time = now();
    let (runtime_version, runtime_arn) = runtime_version(input);
    let mut log = String::new();
    match input.start {
        Start::Cold => {
            let _ = writeln!(
                log,
                "INIT_START Runtime Version: {runtime_version}\tRuntime Version ARN: {runtime_arn}"
            );
        }
        Start::Restored => {
            let _ = writeln!(
                log,
                "RESTORE_START Runtime Version: {runtime_version}\tRuntime Version ARN: {runtime_arn}"
            );
            if let Some(restore) = input.outcome.restore_ms {
                let _ = writeln!(log, "RESTORE_REPORT Restore Duration: {restore:.2} ms");
            }
        }
        Start::Warm => {}
    }
    let _ = writeln!(log, "START RequestId: {id} Version: {}", input.version);
    for line in 1..=input.log_lines {
        let _ = writeln!(
            log,
            "[INFO]\t{time}\t{id}\tprocessing event of {} bytes ({line}/{})",
            input.payload_bytes, input.log_lines
        );
    }
    match &input.outcome.status {
        Status::Success => {}
        Status::FunctionError(error_type) => {
            let _ = writeln!(
                log,
                "[ERROR] {error_type}: simulated failure of {}",
                input.function_name
            );
        }
        Status::Timeout => {
            let _ = writeln!(
                log,
                "{time} {id} Task timed out after {:.2} seconds",
                f64::from(input.timeout_s)
            );
        }
        Status::OutOfMemory => {
            let _ = writeln!(
                log,
                "RequestId: {id} Error: Runtime exited with error: signal: killed"
            );
        }
    }
    let _ = writeln!(log, "END RequestId: {id}");
    let _ = writeln!(log, "{}", report_line(id, input.outcome));
    log
}

fn json_log(input: &LogInput<'_>) -> String {
    let id = input.request_id;
    let time = now();
    let (runtime_version, runtime_arn) = runtime_version(input);
    let mut records = Vec::new();
    let initialization_type = match input.start {
        Start::Restored => "snap-start",
        _ => "on-demand",
    };
    if input.start != Start::Warm {
        records.push(
            json!({ "time": time, "type": "platform.initStart", "record": {
            "initializationType": initialization_type, "phase": "init",
            "runtimeVersion": runtime_version, "runtimeVersionArn": runtime_arn,
            "functionName": input.function_name, "functionVersion": input.version }}),
        );
        records.push(
            json!({ "time": time, "type": "platform.initRuntimeDone", "record": {
            "initializationType": initialization_type, "phase": "init", "status": "success" }}),
        );
        let init = input
            .outcome
            .init_ms
            .or(input.outcome.restore_ms)
            .unwrap_or(0.0);
        records.push(
            json!({ "time": time, "type": "platform.initReport", "record": {
            "initializationType": initialization_type, "phase": "init", "status": "success",
            "metrics": { "durationMs": init } }}),
        );
    }
    records.push(json!({ "time": time, "type": "platform.start",
        "record": { "requestId": id, "version": input.version }}));
    for line in 1..=input.log_lines {
        records.push(json!({ "timestamp": time, "level": "INFO", "requestId": id,
            "message": format!("processing event of {} bytes ({line}/{})", input.payload_bytes, input.log_lines) }));
    }
    if let Status::FunctionError(error_type) = &input.outcome.status {
        records.push(json!({ "timestamp": time, "level": "ERROR", "requestId": id,
            "message": format!("simulated failure of {}", input.function_name), "errorType": error_type }));
    }
    records.push(
        json!({ "time": time, "type": "platform.runtimeDone", "record": {
        "requestId": id, "status": status_name(input.outcome),
        "metrics": { "durationMs": input.outcome.duration_ms, "producedBytes": 0 } }}),
    );
    records.push(report_record(id, input.outcome, &time));

    let mut log = String::new();
    for record in records {
        let _ = writeln!(log, "{record}");
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(status: Status) -> Outcome {
        Outcome {
            status,
            duration_ms: 2.37,
            billed_ms: 427,
            init_ms: Some(423.98),
            restore_ms: None,
            billed_restore_ms: None,
            memory_size_mb: 1024,
            max_memory_used_mb: 95,
        }
    }

    #[test]
    fn success_report_ends_with_tab() {
        let line = report_line("id", &outcome(Status::Success));
        assert_eq!(
            line,
            "REPORT RequestId: id\tDuration: 2.37 ms\tBilled Duration: 427 ms\tMemory Size: 1024 MB\tMax Memory Used: 95 MB\tInit Duration: 423.98 ms\t"
        );
    }

    #[test]
    fn failure_reports_end_with_status() {
        let timeout = report_line("id", &outcome(Status::Timeout));
        assert!(
            timeout.ends_with("Init Duration: 423.98 ms\tStatus: timeout"),
            "{timeout}"
        );
        let oom = report_line("id", &outcome(Status::OutOfMemory));
        assert!(
            oom.ends_with("\tStatus: error\tError Type: Runtime.OutOfMemory"),
            "{oom}"
        );
    }

    #[test]
    fn restore_fields_follow_memory() {
        let restored = Outcome {
            init_ms: None,
            restore_ms: Some(474.16),
            billed_restore_ms: Some(475),
            ..outcome(Status::Success)
        };
        let line = report_line("id", &restored);
        assert!(line.ends_with(
            "Max Memory Used: 95 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 475 ms\t"
        ));
    }

    #[test]
    fn tail_cuts_on_line_boundary() {
        let log: String = (0..500).map(|i| format!("line number {i}\n")).collect();
        let tail = tail(&log);
        assert!(tail.len() <= TAIL_BYTES);
        assert!(tail.starts_with("line number "), "{}", &tail[..20]);
        assert!(tail.ends_with("line number 499\n"));
    }

    #[test]
    fn json_report_carries_metrics() {
        let record = report_record("id", &outcome(Status::OutOfMemory), "t");
        assert_eq!(record["type"], "platform.report");
        assert_eq!(record["record"]["status"], "error");
        assert_eq!(record["record"]["errorType"], "Runtime.OutOfMemory");
        assert_eq!(record["record"]["metrics"]["billedDurationMs"], 427);
        assert_eq!(record["record"]["metrics"]["initDurationMs"], 423.98);
    }
}
