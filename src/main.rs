//! The `cdnsim` command line.
//!
//! Module map:
//! - `main`: argument parsing (clap) and exit codes: 0 ok, 2 bad input
//!   (scenario errors, missing folders), 1 internal failure.
//! - `commands`: what each subcommand does.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// cdnsim: a deterministic discrete-event simulator for live-video delivery
/// networks. Same scenario and seed, same bytes.
#[derive(Parser)]
#[command(name = "cdnsim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write its results (Parquet + manifest) and charts.
    Run {
        /// Scenario file (TOML), e.g. scenarios/quickstart.toml.
        file: PathBuf,
        /// Results folder; the run goes to OUT/<scenario name>/<run id>/.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Override the scenario's seed (gives a different run id).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Check a scenario file without running it.
    Validate {
        /// Scenario file (TOML).
        file: PathBuf,
    },
    /// Draw a run's charts (PNG and SVG) into RUN_DIR/charts/.
    Chart {
        /// A run folder written by `cdnsim run` (holds summary.parquet).
        run_dir: PathBuf,
    },
}

/// Why a command failed, which decides the exit code.
pub enum Failure {
    /// The user's input is wrong: exit 2.
    BadInput(String),
    /// Something broke that the input did not cause: exit 1.
    Internal(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { file, out, seed } => commands::run(&file, &out, seed),
        Command::Validate { file } => commands::validate(&file),
        Command::Chart { run_dir } => commands::chart(&run_dir).map(|_| ()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Internal(m)) => {
            eprintln!("internal error: {m}");
            ExitCode::from(1)
        }
    }
}
