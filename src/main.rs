//! The `cdnsim` command line.
//!
//! Module map:
//! - `main`: argument parsing (clap) and exit codes: 0 ok, 2 bad input
//!   (scenario errors, missing folders, a sweep too big for the machine),
//!   1 internal failure or a failed gate of `compare` / `bench`, 3 some
//!   runs of a sweep failed (the others completed; see `failures.parquet`).
//! - `failure`: [`Failure`], why a command failed; `main` turns it into
//!   the exit code, every other module returns it.
//! - `commands`: what each subcommand does.
//! - `runner`: runs of a sweep in parallel (rayon), with progress, logs,
//!   panics caught and failures recorded.
//! - `shard`: which runs this process does on a cluster.
//! - `sweep_charts`: charts and the report table of a folder of runs.
//! - `calibrate`: `cdnsim calibrate`, the codec's decode-model table.
//! - `compare`: `cdnsim compare BASE NEW`: two folders of one scenario,
//!   paired per (point, replication), verdicts and gates.
//! - `bench`: `cdnsim bench FILE`: the scenarios of a bench file run at
//!   reduced sizes and compared with a baseline folder.

mod bench;
mod calibrate;
mod commands;
mod compare;
mod edge_charts;
mod failure;
mod runner;
mod shard;
mod sweep_charts;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use failure::Failure;

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
    /// Run a scenario (every run of its [sweep]) and write results and charts.
    Run {
        /// Scenario file (TOML), e.g. scenarios/quickstart.toml.
        file: PathBuf,
        /// Results folder; each run goes to OUT/<scenario name>/<run id>/.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Override the scenario's seed (gives different run ids).
        #[arg(long)]
        seed: Option<u64>,
        #[command(flatten)]
        opts: commands::RunOptions,
    },
    /// Print the runs of a scenario's sweep (id, values, replication, seed)
    /// and their memory estimate, without running them.
    Plan {
        /// Scenario file (TOML).
        file: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Runs at once, for the memory check (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Aggregate a folder of runs: mean and 95% CI per sweep point into
    /// DIR/report.parquet, printed as a table.
    Report {
        /// A scenario's results folder, OUT/<scenario name>.
        dir: PathBuf,
    },
    /// Compare two results folders of one scenario (same points,
    /// replications and seeds): per point and metric the means, the paired
    /// difference with its 95% CI, the relative change and a verdict;
    /// printed, written to compare.parquet and charted. Exit 1 when a gate
    /// fails.
    Compare {
        /// The reference folder, OUT/<scenario name> of the base version.
        base: PathBuf,
        /// The folder of the changed version (same scenario).
        new: PathBuf,
        #[command(flatten)]
        opts: compare::CompareOptions,
    },
    /// Run the scenarios of a bench file (reduced sizes for CI) and compare
    /// them with a baseline folder; exit 1 when a gate fails.
    Bench {
        /// Bench file (TOML), e.g. benches/regression.toml.
        file: PathBuf,
        #[command(flatten)]
        opts: bench::BenchOptions,
    },
    /// Check a scenario file without running it.
    Validate {
        /// Scenario file (TOML).
        file: PathBuf,
    },
    /// Print the JSON Schema of scenario files (draft-07), which editors
    /// use to complete fields and flag errors; committed as
    /// scenarios/scenario.schema.json.
    Schema {
        /// The schema of backbone topology files instead
        /// (scenarios/topologies/topology.schema.json).
        #[arg(long)]
        topology: bool,
    },
    /// Draw charts (PNG and SVG) into DIR/charts/: a run's, or a sweep's
    /// (metrics against swept parameters with 95% CIs, latency CDFs).
    Chart {
        /// A run folder (holds summary.parquet) or a scenario's results
        /// folder OUT/<scenario name> holding runs.
        #[arg(value_name = "DIR")]
        run_dir: PathBuf,
    },
    /// Measure the codec's decode model (failure probability vs K and
    /// symbols received) with the real raptorq decoder; writes the table
    /// that the `model` codec fidelity reads.
    Calibrate {
        /// Output file (CSV), e.g. data/decode_model.csv.
        #[arg(long)]
        out: PathBuf,
        /// Blocks decoded per K.
        #[arg(long, default_value_t = cdnsim_codec::DEFAULT_TRIALS)]
        trials: u64,
        /// Seed of the ESI draws.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Ks to measure, comma-separated (default: the shipped table's Ks).
        #[arg(long, value_delimiter = ',')]
        ks: Option<Vec<u64>>,
        /// Measure K, K+1, ..., K+MAX_EXTRA symbols received.
        #[arg(long, default_value_t = cdnsim_codec::DEFAULT_MAX_EXTRA)]
        max_extra: u32,
        /// Draw repair ESIs from [K, ESI_END): the ids a last-hop layout uses.
        #[arg(long, default_value_t = cdnsim_codec::LAST_HOP_ESI_END)]
        esi_end: u32,
        /// Threads sharing out the Ks (the file does not depend on it).
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { file, out, seed, opts } => commands::run(&file, &out, seed, &opts),
        Command::Plan { file, seed, jobs } => commands::plan(&file, seed, jobs),
        Command::Report { dir } => commands::report(&dir),
        Command::Validate { file } => commands::validate(&file),
        Command::Schema { topology } => commands::schema(topology),
        Command::Compare { base, new, opts } => compare::run(&base, &new, &opts),
        Command::Bench { file, opts } => bench::run(&file, &opts),
        Command::Chart { run_dir } => commands::chart_any(&run_dir).map(|_| ()),
        Command::Calibrate { out, trials, seed, ks, max_extra, esi_end, threads } => {
            calibrate::run(&out, calibrate::Options { ks, max_extra, trials, seed, esi_end, threads })
        }
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
        Err(Failure::GateFailed(m)) => {
            eprintln!("gate failed: {m}");
            ExitCode::from(1)
        }
        Err(Failure::RunsFailed(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(3)
        }
    }
}
