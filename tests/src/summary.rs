//! A summary of the durability scenarios, printed by `scripts/test.sh` at the
//! end of the suite: each test appends one JSON line to the file named by
//! `POWERTUNE_SUMMARY_FILE`.

use std::io::Write;

use crate::state::FunctionState;

/// Counts what `after` has that `before` did not, or changed: versions and
/// aliases left behind, plus one for a changed memory size or description.
pub fn left_behind(before: &FunctionState, after: &FunctionState) -> usize {
    let versions = after
        .versions
        .iter()
        .filter(|version| !before.versions.contains(version))
        .count();
    let aliases = after
        .aliases
        .iter()
        .filter(|alias| !before.aliases.contains(alias))
        .count();
    let latest =
        usize::from(after.memory_mb != before.memory_mb || after.description != before.description);
    versions + aliases + latest
}

/// Appends one scenario to the summary file, when one is set.
pub fn record(scenario: &str, faults_injected: u64, left_behind: usize) {
    let Some(path) = std::env::var_os("POWERTUNE_SUMMARY_FILE") else {
        return;
    };
    let line = serde_json::json!({"scenario": scenario, "faults": faults_injected, "leftBehind": left_behind});
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut file) = file {
        let _ = writeln!(file, "{line}");
    }
}
