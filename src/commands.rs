//! The subcommands.

use std::path::{Path, PathBuf};

use cdnsim_metrics::{atomic, read_parquet};
use cdnsim_scenario::sweep::{PlannedRun, Sweep};

use crate::failure::Failure;
use crate::runner::{self, Batch, LogFormat, Outcome};

/// Prints a line; a closed stdout (`| head`) is not an error worth a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Options of `cdnsim run` beyond the file, the folder and the seed.
#[derive(clap::Args, Debug)]
pub struct RunOptions {
    /// Runs at once, one per thread (default: all cores). The results are
    /// the same bytes for any value.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Do only shard I of N of the runs (0-based), e.g. one task of a
    /// cluster array; see docs/cluster.md. Without it the shard comes from
    /// SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX
    /// with --shard-count, when set.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Number of shards, when the index comes from JOB_COMPLETION_INDEX (a
    /// Kubernetes Indexed Job: its completions).
    #[arg(long, value_name = "N")]
    pub shard_count: Option<u64>,
    /// Only the run with this id (repeatable; overrides shards): what the
    /// replay command of a failed run uses.
    #[arg(long = "run-id", value_name = "ID")]
    pub run_ids: Vec<String>,
    /// No progress bar (it is drawn only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// Format of the log lines on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

fn load(file: &Path, seed: Option<u64>) -> Result<Sweep, Failure> {
    cdnsim_scenario::sweep::load(file, seed).map_err(|e| Failure::BadInput(e.to_string()))
}

pub fn validate(file: &Path) -> Result<(), Failure> {
    let sweep = load(file, None)?;
    let sc = &sweep.points[0].scenario;
    say!(
        "{}: ok: scenario {:?}, {} regions, {} nodes, {} links, {} s, seed {}",
        file.display(),
        sc.name,
        sc.regions.len(),
        sc.nodes.len(),
        sc.links.len(),
        sc.duration_ns as f64 / 1e9,
        sc.seed
    );
    if !sweep.params.is_empty() || sweep.replications > 1 {
        say!(
            "  sweep: {} points x {} replications = {} runs, every point resolves",
            sweep.points.len(),
            sweep.replications,
            sweep.points.len() as u64 * sweep.replications
        );
    }
    Ok(())
}

/// `cdnsim schema`: the scenario (or topology) format's JSON Schema on
/// stdout, the text of the committed file.
pub fn schema(topology: bool) -> Result<(), Failure> {
    use cdnsim_scenario::schema;
    let value = if topology { schema::topology_schema() } else { schema::scenario_schema() };
    print!("{}", schema::to_text(&value));
    Ok(())
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// MemAvailable from /proc/meminfo (Linux); `None` elsewhere.
fn available_memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// The memory `jobs` runs at once need at most (the largest estimates),
/// refused when it exceeds what the machine has available.
fn check_memory(file: &Path, runs: &[&PlannedRun], jobs: usize) -> Result<u64, Failure> {
    let mut estimates: Vec<u64> = runs.iter().map(|r| cdnsim_world::memory_estimate_bytes(&r.scenario)).collect();
    estimates.sort_unstable_by(|a, b| b.cmp(a));
    let at_once = jobs.min(estimates.len()).max(1);
    let peak: u64 = estimates.iter().take(at_once).sum();
    if let Some(available) = available_memory_bytes()
        && peak > available
    {
        let what = if at_once == 1 {
            "the run needs".to_string()
        } else {
            format!("{at_once} runs at once (--jobs) need")
        };
        return Err(Failure::BadInput(format!(
            "{}: {what} up to {} by estimate, and this machine has {} available; {}shorten the run, \
             lower the arrival rate or [limits] max_pending_events",
            file.display(),
            gib(peak),
            gib(available),
            if at_once > 1 { "lower --jobs, " } else { "" }
        )));
    }
    Ok(peak)
}

/// The command that replays one run, arguments quoted for a POSIX shell.
fn replay_command(file: &Path, out: &Path, seed: Option<u64>, run_id: &str) -> String {
    let quote = |s: &str| {
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c)) {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let mut cmd = format!("cdnsim run {} --out {}", quote(&file.display().to_string()), quote(&out.display().to_string()));
    if let Some(s) = seed {
        cmd.push_str(&format!(" --seed {s}"));
    }
    cmd.push_str(&format!(" --run-id {run_id}"));
    cmd
}

/// `sweep.json` beside the runs: the parameters (units, value order) that
/// `report`, `chart` and the notebooks group by. A function of the file.
fn sweep_json(sweep: &Sweep, file: &Path) -> String {
    let json = serde_json::json!({
        "scenario": sweep.points[0].scenario.name,
        "file": file.display().to_string(),
        "params": sweep.params,
        "replications": sweep.replications,
        "seeds": sweep.seeds,
        "base_seed": sweep.base_seed,
        "points": sweep.points.len(),
        "runs": sweep.points.len() as u64 * sweep.replications,
    });
    serde_json::to_string_pretty(&json).expect("json") + "\n"
}

pub fn run(file: &Path, out: &Path, seed: Option<u64>, opts: &RunOptions) -> Result<(), Failure> {
    let sweep = load(file, seed)?;
    let all = sweep.runs();
    let ids: Vec<String> = all.iter().map(|r| r.run_id.clone()).collect();
    let jobs = opts.jobs.unwrap_or_else(default_jobs);
    if jobs == 0 {
        return Err(Failure::BadInput("--jobs: expected at least 1".into()));
    }

    // Which runs are this process's.
    let (selected, shard): (Vec<&PlannedRun>, _) = if !opts.run_ids.is_empty() {
        let mut picked = Vec::with_capacity(opts.run_ids.len());
        for id in &opts.run_ids {
            match all.iter().find(|r| &r.run_id == id) {
                Some(r) => picked.push(r),
                None => {
                    return Err(Failure::BadInput(format!(
                        "--run-id {id}: no such run in {} (`cdnsim plan {}` lists them)",
                        file.display(),
                        file.display()
                    )));
                }
            }
        }
        (picked, None)
    } else {
        match crate::shard::resolve(opts.shard.as_deref(), opts.shard_count, |k| std::env::var(k).ok())? {
            Some(s) => (crate::shard::select(&ids, &s).into_iter().map(|i| &all[i]).collect(), Some(s)),
            None => (all.iter().collect(), None),
        }
    };
    let name = &sweep.points[0].scenario.name;
    let scenario_dir = out.join(name);
    let complete = |r: &PlannedRun| cdnsim_metrics::run_dir(out, name, &r.run_id).join("manifest.json").exists();
    let pending: Vec<&PlannedRun> = selected.iter().copied().filter(|r| !complete(r)).collect();
    check_memory(file, &pending, jobs)?;

    let bar = runner::progress_bar(!opts.no_progress, pending.len());
    runner::init_logging(opts.log_format, bar.clone());
    if let Some(s) = &shard {
        tracing::info!(shard = s.index, shards = s.count, source = s.source, runs = selected.len(), of = all.len(), "shard");
    }
    std::fs::create_dir_all(&scenario_dir).map_err(|e| Failure::Internal(format!("{}: {e}", scenario_dir.display())))?;
    let sweep_file = scenario_dir.join("sweep.json");
    let fail = |e: std::io::Error| Failure::Internal(format!("{}: {e}", sweep_file.display()));
    atomic::write_file(&sweep_file, |tmp| std::fs::write(tmp, sweep_json(&sweep, file)).map_err(fail), |_, e| fail(e))?;

    let replay = |id: &str| replay_command(file, out, seed, id);
    let batch = Batch { sweep: &sweep, file, out, jobs, replay: &replay };
    let outcomes = runner::execute(&batch, &pending, &bar).map_err(Failure::Internal)?;
    let recorded = cdnsim_metrics::failures::write_failures(&scenario_dir).map_err(|e| Failure::Internal(e.to_string()))?;
    let failed: Vec<(&PlannedRun, &String)> = pending
        .iter()
        .zip(&outcomes)
        .filter_map(|(r, o)| if let Outcome::Failed(m) = o { Some((*r, m)) } else { None })
        .collect();
    let ran = outcomes.len() - failed.len();
    tracing::info!(
        runs = selected.len(),
        ran,
        already_complete = selected.len() - pending.len(),
        failed = failed.len(),
        "finished"
    );

    if selected.is_empty() {
        let s = shard.as_ref().map_or(String::new(), |s| format!("shard {}/{} ", s.index, s.count));
        say!("{s}has none of the {} runs of {}", all.len(), file.display());
    } else if all.len() == 1 {
        single_run_output(&all[0], outcomes.first(), out)?;
    } else {
        say!(
            "scenario {} ({}): {} points x {} replications = {} runs{}",
            name,
            file.display(),
            sweep.points.len(),
            sweep.replications,
            all.len(),
            shard.as_ref().map_or(String::new(), |s| format!("; shard {}/{} has {}", s.index, s.count, selected.len()))
        );
        say!("  ran {ran}, already complete {}, failed {}", selected.len() - pending.len(), failed.len());
        say!("results: {}", scenario_dir.display());
        // A whole sweep is aggregated and charted here (over the runs that
        // completed); a shard leaves that to whoever gathers the shards.
        if shard.is_none() && opts.run_ids.is_empty() && all.iter().any(complete) {
            let (report_path, _) = write_report(&scenario_dir)?;
            say!("report:  {} (`cdnsim report {}` prints it)", report_path.display(), scenario_dir.display());
            let charts = crate::sweep_charts::draw(&scenario_dir)?;
            say!("charts:  {} ({} files)", scenario_dir.join("charts").display(), charts.len());
        }
    }
    if !failed.is_empty() {
        say!("failures: {} ({} recorded)", scenario_dir.join("failures.parquet").display(), recorded.len());
        for (r, m) in &failed {
            say!("  {} ({}, replication {}): {m}", r.run_id, sweep.describe(r.point), r.replication);
            say!("    replay: {}", replay(&r.run_id));
        }
        return Err(Failure::RunsFailed(format!(
            "{} of {} runs failed; the others completed; see {}",
            failed.len(),
            selected.len(),
            scenario_dir.join("failures.parquet").display()
        )));
    }
    Ok(())
}

/// A scenario without a sweep: the run's numbers, its folder and charts.
fn single_run_output(run: &PlannedRun, outcome: Option<&Outcome>, out: &Path) -> Result<(), Failure> {
    let dir = match outcome {
        None => {
            let dir = cdnsim_metrics::run_dir(out, &run.scenario.name, &run.run_id);
            say!("run {} is already complete in {}; delete that folder to run it again", run.run_id, dir.display());
            return Ok(());
        }
        Some(Outcome::Failed(_)) => return Ok(()),
        Some(Outcome::AlreadyComplete(d)) => {
            say!("another process completed run {} first; kept its results", run.run_id);
            d.clone()
        }
        Some(Outcome::Done { dir, summary: s, wall_s, events }) if s.topology == "edge" => {
            let get = |n: &str| {
                s.extra.iter().find(|(k, _)| k == n).map_or("-".to_string(), |(_, v)| match v {
                    cdnsim_metrics::Value::Count(c) => c.to_string(),
                    cdnsim_metrics::Value::Real(x) | cdnsim_metrics::Value::OptReal(Some(x)) => format!("{x:.4}"),
                    cdnsim_metrics::Value::OptReal(None) => "-".into(),
                    cdnsim_metrics::Value::Text(t) => t.clone(),
                })
            };
            say!("scenario {} seed {} run {}", run.scenario.name, run.seed, run.run_id);
            say!(
                "  {} sessions: room {}, region {}, central {}, serverless {}, rejected {}; cut by scale-in {}",
                get("sessions"),
                get("sessions_room"),
                get("sessions_region"),
                get("sessions_central"),
                get("sessions_serverless"),
                get("sessions_rejected"),
                get("sessions_cut_scale_in")
            );
            say!(
                "  machines needed {} of {} at peak; cost {} ({} per session-hour)",
                get("machines_needed"),
                get("machines_peak"),
                get("cost_total"),
                get("cost_per_session_hour")
            );
            say!("  {} events in {:.2} s wall ({:.2} M events/s)", events, wall_s, *events as f64 / wall_s.max(1e-9) / 1e6);
            dir.clone()
        }
        Some(Outcome::Done { dir, summary: s, wall_s, events }) => {
            let ms = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.0} ms"));
            say!("scenario {} seed {} run {}", run.scenario.name, run.seed, run.run_id);
            say!(
                "  {} viewers, startup p50 {} p95 {}, end-to-end p50 {} p95 {}, stall ratio {}",
                s.viewers,
                ms(s.startup_ms_p50),
                ms(s.startup_ms_p95),
                ms(s.e2e_ms_p50),
                ms(s.e2e_ms_p95),
                s.stall_ratio.map_or("-".into(), |r| format!("{:.4}", r))
            );
            say!(
                "  IDC egress {:.1} MB, to viewers {:.1} MB, amplification {}",
                s.idc_egress_bytes as f64 / 1e6,
                s.viewer_bytes as f64 / 1e6,
                s.amplification.map_or("-".into(), |a| format!("{a:.3}"))
            );
            say!("  {} events in {:.2} s wall ({:.2} M events/s)", events, wall_s, *events as f64 / wall_s.max(1e-9) / 1e6);
            dir.clone()
        }
    };
    say!("results: {}", dir.display());
    let charts = chart(&dir)?;
    say!("charts:  {}", dir.join("charts").display());
    for c in charts {
        say!("  {}", c.display());
    }
    Ok(())
}

pub fn plan(file: &Path, seed: Option<u64>, jobs: Option<usize>) -> Result<(), Failure> {
    let sweep = load(file, seed)?;
    let runs = sweep.runs();
    let jobs = jobs.unwrap_or_else(default_jobs).max(1);
    say!(
        "{}: {} points x {} replications = {} runs (seeds: {})",
        file.display(),
        sweep.points.len(),
        sweep.replications,
        runs.len(),
        match sweep.seeds {
            cdnsim_scenario::sweep::SeedPolicy::Common => "common random numbers",
            cdnsim_scenario::sweep::SeedPolicy::Independent => "independent",
        }
    );
    let mut header = vec!["run id".to_string(), "point".into(), "replication".into(), "seed".into()];
    header.extend(sweep.params.iter().map(|p| p.key.clone()));
    header.push("memory (MiB)".into());
    let mut rows = Vec::with_capacity(runs.len());
    for r in &runs {
        let mut row = vec![r.run_id.clone(), (r.point + 1).to_string(), r.replication.to_string(), r.seed.to_string()];
        let p = &sweep.points[r.point];
        row.extend(sweep.params.iter().zip(&p.value_index).map(|(par, &i)| par.values[i].clone()));
        row.push(format!("{:.1}", cdnsim_world::memory_estimate_bytes(&r.scenario) as f64 / (1u64 << 20) as f64));
        rows.push(row);
    }
    print_table(&header, &rows);
    let refs: Vec<&PlannedRun> = runs.iter().collect();
    let peak = check_memory(file, &refs, jobs)?;
    say!(
        "memory: up to {:.1} MiB at once with {} job(s){}",
        peak as f64 / (1u64 << 20) as f64,
        jobs.min(runs.len()),
        available_memory_bytes().map_or(String::new(), |a| format!("; {} available", gib(a)))
    );
    Ok(())
}

/// Left-aligned columns, two spaces apart.
pub fn print_table(header: &[String], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ").trim_end().to_string()
    };
    say!("{}", line(header));
    for r in rows {
        say!("{}", line(r));
    }
}

/// Writes `DIR/report.parquet` and rebuilds `failures.parquet`; returns the
/// report's path and the printable text.
fn write_report(dir: &Path) -> Result<(PathBuf, String), Failure> {
    let (table, text) = crate::sweep_charts::report(dir)?;
    let path = dir.join("report.parquet");
    atomic::write_file(
        &path,
        |tmp| table.write_parquet(tmp).map_err(|e| Failure::Internal(e.to_string())),
        |p, e| Failure::Internal(format!("{}: {e}", p.display())),
    )?;
    cdnsim_metrics::failures::write_failures(dir).map_err(|e| Failure::Internal(e.to_string()))?;
    Ok((path, text))
}

pub fn report(dir: &Path) -> Result<(), Failure> {
    let (path, text) = write_report(dir)?;
    say!("{text}");
    say!("report: {}", path.display());
    let failures = cdnsim_metrics::failures::read_failures(dir).map_err(|e| Failure::Internal(e.to_string()))?;
    if !failures.is_empty() {
        say!("failures: {} runs failed, see {}", failures.len(), dir.join("failures.parquet").display());
    }
    Ok(())
}

/// `cdnsim chart DIR`: a run folder, or a folder of runs.
pub fn chart_any(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    if dir.join("summary.parquet").exists() {
        return chart(dir);
    }
    let written = crate::sweep_charts::draw(dir)?;
    say!("charts: {}", dir.join("charts").display());
    for c in &written {
        say!("  {}", c.display());
    }
    Ok(written)
}

/// Draws the charts of one run; returns the files written.
pub fn chart(run_dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let need = |name: &str| {
        let p = run_dir.join(name);
        if p.exists() {
            Ok(p)
        } else {
            Err(Failure::BadInput(format!(
                "{}: not a run folder (no {name}); pass a folder written by `cdnsim run`",
                run_dir.display()
            )))
        }
    };
    if crate::edge_charts::is_edge_run(run_dir) {
        need("machines.parquet")?;
        let dir = run_dir.join("charts");
        std::fs::create_dir_all(&dir).map_err(|e| Failure::Internal(format!("{}: {e}", dir.display())))?;
        return crate::edge_charts::run_charts(run_dir, &dir);
    }
    let viewers = read_parquet(&need("viewers.parquet")?).map_err(|e| Failure::BadInput(e.to_string()))?;
    let series = read_parquet(&need("timeseries.parquet")?).map_err(|e| Failure::BadInput(e.to_string()))?;
    let bad = |e: String| Failure::BadInput(format!("{}: {e}", run_dir.display()));
    let f64_col = |df: &polars::prelude::DataFrame, name: &str| -> Result<Vec<f64>, Failure> {
        let col = df.column(name).map_err(|e| bad(e.to_string()))?;
        let cast = col.cast(&polars::prelude::DataType::Float64).map_err(|e| bad(e.to_string()))?;
        Ok(cast.f64().map_err(|e| bad(e.to_string()))?.iter().flatten().collect())
    };

    let dir = run_dir.join("charts");
    std::fs::create_dir_all(&dir).map_err(|e| Failure::Internal(format!("{}: {e}", dir.display())))?;
    let internal = |e: cdnsim_chart::ChartError| Failure::Internal(e.to_string());
    let mut written = Vec::new();
    for (stem, title, x_label, column) in [
        ("startup_cdf", "Startup latency (join to first playable block)", "startup latency (ms)", "startup_ms"),
        ("e2e_cdf", "End-to-end latency (capture to playout), mean per viewer", "end-to-end latency (ms)", "e2e_ms_mean"),
    ] {
        let sets = [("viewers".to_string(), f64_col(&viewers, column)?)];
        written.extend(cdnsim_chart::cdf(&dir.join(stem), title, x_label, &sets).map_err(internal)?);
    }
    let seconds = f64_col(&series, "second")?;
    let mbps = |col: &str| -> Result<Vec<(f64, f64)>, Failure> {
        Ok(seconds.iter().zip(f64_col(&series, col)?).map(|(s, b)| (*s, b * 8.0 / 1e6)).collect())
    };
    written.extend(
        cdnsim_chart::lines(
            &dir.join("bytes_by_source"),
            "Traffic delivered to viewers, by source",
            "simulated time (s)",
            "throughput (Mbit/s)",
            &[
                cdnsim_chart::Series { label: "from IDC".into(), points: mbps("bytes_idc")? },
                cdnsim_chart::Series { label: "from home nodes".into(), points: mbps("bytes_home")? },
            ],
        )
        .map_err(internal)?,
    );
    // The busiest shared backbone links (a run on a backbone topology has
    // a row per used link direction and second), by mean utilisation.
    let bb = run_dir.join("backbone.parquet");
    if bb.exists() {
        let df = read_parquet(&bb).map_err(|e| Failure::BadInput(e.to_string()))?;
        if df.height() > 0 {
            let (sec, util) = (f64_col(&df, "second")?, f64_col(&df, "utilisation")?);
            let names: Vec<String> = df.column("link").map_err(|e| bad(e.to_string()))?.str().map_err(|e| bad(e.to_string()))?.iter().map(|s| s.unwrap_or_default().to_string()).collect();
            let rev: Vec<bool> = df.column("reverse").map_err(|e| bad(e.to_string()))?.bool().map_err(|e| bad(e.to_string()))?.iter().map(|b| b.unwrap_or(false)).collect();
            let mut by_link: std::collections::BTreeMap<(String, bool), Vec<(f64, f64)>> = Default::default();
            for i in 0..sec.len().min(util.len()).min(names.len()).min(rev.len()) {
                by_link.entry((names[i].clone(), rev[i])).or_default().push((sec[i], util[i]));
            }
            let mean = |v: &[(f64, f64)]| v.iter().map(|p| p.1).sum::<f64>() / v.len().max(1) as f64;
            let mut ranked: Vec<(&(String, bool), &Vec<(f64, f64)>)> = by_link.iter().collect();
            // Busiest first; ties by name, so the choice is a function of the file.
            ranked.sort_by(|a, b| mean(b.1).total_cmp(&mean(a.1)).then(a.0.cmp(b.0)));
            let series: Vec<cdnsim_chart::Series> = ranked
                .into_iter()
                .take(5)
                .map(|((name, r), pts)| cdnsim_chart::Series { label: format!("{name}{}", if *r { " (reverse)" } else { "" }), points: pts.clone() })
                .collect();
            written.extend(
                cdnsim_chart::lines(&dir.join("busiest_backbone_links"), "The five busiest backbone links", "simulated time (s)", "utilisation", &series)
                    .map_err(internal)?,
            );
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_commands_quote_what_a_shell_would_split() {
        let c = replay_command(Path::new("scenarios/a b.toml"), Path::new("out"), Some(3), "00ff");
        assert_eq!(c, "cdnsim run 'scenarios/a b.toml' --out out --seed 3 --run-id 00ff");
        let c = replay_command(Path::new("it's.toml"), Path::new("/tmp/r"), None, "ab");
        assert_eq!(c, "cdnsim run 'it'\\''s.toml' --out /tmp/r --run-id ab");
    }
}
