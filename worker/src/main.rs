//! `powertune`: AWS Lambda Power Tuning as a Temporal worker, and the client
//! commands that go with it.
//!
//! This file only parses the command line, installs the tracing subscriber and
//! turns the outcome of a subcommand into an exit code. Each subcommand lives in
//! its own module.

mod connection;
mod iam_policy;
mod power_values;
mod tune;
mod worker;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Tune the memory size of AWS Lambda functions with a Temporal workflow.
#[derive(Parser)]
#[command(name = "powertune", version, about, propagate_version = true)]
struct Cli {
    /// Raise the log level: `-v` logs powertune's decisions (debug), `-vv` also
    /// the libraries' (debug) and powertune's per-request detail (trace).
    /// `RUST_LOG` replaces the filter when it is set.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Temporal worker that executes PowerTuning workflows.
    Worker(worker::WorkerArgs),
    /// Start a PowerTuning workflow and print its result as JSON.
    Tune(tune::TuneArgs),
    /// Print a least-privilege IAM policy for the worker that tunes the given functions.
    IamPolicy(iam_policy::IamPolicyArgs),
}

/// Exit code of a tuning whose workflow was cancelled. Every other failure
/// exits with 1, and clap exits with 2 on a usage error before any command runs.
const EXIT_CANCELLED: u8 = 2;

/// Writes `text` and a newline on stdout. A reader that closed the pipe
/// early (`powertune iam-policy | head`) is not an error.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;

    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);

    let outcome = match cli.command {
        Command::Worker(args) => worker::run(args).await,
        Command::Tune(args) => tune::run(args).await,
        Command::IamPolicy(args) => iam_policy::run(&args),
    };

    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<tune::WorkflowCancelled>().is_some() {
                ExitCode::from(EXIT_CANCELLED)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Installs the global subscriber, writing to stderr so that stdout carries
/// only command output such as the result JSON of `tune`.
fn init_tracing(verbose: u8) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(verbose)));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Returns the log filter for `-v` given `verbose` times, used when `RUST_LOG` is unset.
fn default_filter(verbose: u8) -> &'static str {
    match verbose {
        0 => "info,temporalio_sdk_core=warn",
        1 => {
            "info,powertune=debug,powertune_activities=debug,powertune_workflows=debug,temporalio_sdk_core=info"
        }
        _ => {
            "debug,powertune=trace,powertune_activities=trace,powertune_workflows=trace,h2=info,hyper=info,hyper_util=info"
        }
    }
}

/// Parses `powertune ARGS` with every environment twin switched off, so that
/// the test process's environment cannot change the outcome.
#[cfg(test)]
fn try_parse_isolated(args: &[&str]) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};

    fn without_env(mut command: clap::Command) -> clap::Command {
        let ids: Vec<String> = command
            .get_arguments()
            .map(|arg| arg.get_id().to_string())
            .collect();
        for id in ids {
            command = command.mut_arg(id, |arg| arg.env(None));
        }
        let names: Vec<String> = command
            .get_subcommands()
            .map(|sub| sub.get_name().to_owned())
            .collect();
        for name in names {
            command = command.mut_subcommand(name, without_env);
        }
        command
    }

    let matches = without_env(Cli::command())
        .try_get_matches_from(std::iter::once("powertune").chain(args.iter().copied()))?;
    Cli::from_arg_matches(&matches)
}

/// Returns the environment variable that argument `id` of `subcommand` reads.
#[cfg(test)]
fn env_twin(subcommand: &str, id: &str) -> Option<String> {
    use clap::CommandFactory;

    let command = Cli::command();
    let arg = command
        .find_subcommand(subcommand)?
        .get_arguments()
        .find(|arg| arg.get_id() == id)?;
    arg.get_env()
        .map(|name| name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn verbose_flag_counts_anywhere() {
        let cli = try_parse_isolated(&[
            "iam-policy",
            "-vv",
            "--function",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
        ])
        .expect("arguments parse");
        assert_eq!(cli.verbose, 2);
        assert_eq!(default_filter(cli.verbose), default_filter(5));
    }

    #[test]
    fn default_filter_quiets_core() {
        assert_eq!(default_filter(0), "info,temporalio_sdk_core=warn");
        assert!(default_filter(1).contains("powertune=debug"));
    }
}
