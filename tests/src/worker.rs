//! The `powertune worker` binary as a separate process, as users run it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::process::{Child, Command};

/// Finds the `powertune` binary: `POWERTUNE_BIN`, or the one cargo built next
/// to this test binary (`target/<profile>/powertune`).
pub fn powertune_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("POWERTUNE_BIN") {
        return Ok(PathBuf::from(path));
    }
    let test_binary = std::env::current_exe()?;
    let profile_dir = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .context("test binary has no target directory")?;
    let binary = profile_dir.join("powertune");
    anyhow::ensure!(
        binary.exists(),
        "{} does not exist; build it first with `cargo build --bin powertune` or set POWERTUNE_BIN",
        binary.display()
    );
    Ok(binary)
}

/// A running `powertune worker` whose output goes to a log file.
pub struct WorkerProcess {
    process: Option<Child>,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    pub log: PathBuf,
}

impl WorkerProcess {
    pub fn start(args: Vec<String>, envs: Vec<(String, String)>, log: PathBuf) -> Result<Self> {
        let mut worker = Self {
            process: None,
            args,
            envs,
            log,
        };
        worker.spawn()?;
        Ok(worker)
    }

    fn spawn(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let process = Command::new(powertune_binary()?)
            .arg("worker")
            .args(&self.args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(
                self.envs
                    .iter()
                    .map(|(key, value)| (key.as_str(), value.as_str())),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("failed to start `powertune worker`")?;
        self.process = Some(process);
        Ok(())
    }

    /// Kills the worker with SIGKILL, as a crash would, and waits for it to exit.
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(mut process) = self.process.take() {
            process.kill().await?;
        }
        Ok(())
    }

    /// Starts a new worker process with the same arguments.
    pub fn restart(&mut self) -> Result<()> {
        self.spawn()
    }

    /// Returns the worker's log so far, for failure messages.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the worker's log contains `needle`.
    pub async fn wait_for_log(&self, needle: &str, deadline: Duration) -> Result<()> {
        let started = tokio::time::Instant::now();
        while started.elapsed() < deadline {
            if self.output().contains(needle) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!(
            "worker log did not show {needle:?} within {deadline:?}:\n{}",
            self.output()
        )
    }
}
