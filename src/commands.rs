//! The subcommands.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cdnsim_metrics::{RunFiles, RunOutcome, read_parquet, write_run};
use cdnsim_world::{RunIdentity, simulate};

use crate::Failure;

/// Prints a line; a closed stdout (`| head`) is not an error worth a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

pub fn validate(file: &Path) -> Result<(), Failure> {
    let sc = cdnsim_scenario::load(file).map_err(|e| Failure::BadInput(e.to_string()))?;
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
    Ok(())
}

pub fn run(file: &Path, out: &Path, seed: Option<u64>) -> Result<(), Failure> {
    let mut sc = cdnsim_scenario::load(file).map_err(|e| Failure::BadInput(e.to_string()))?;
    if let Some(s) = seed {
        sc.seed = s;
    }
    let replication = 0;
    let id = RunIdentity { run_id: cdnsim_scenario::run_id(&sc, replication), seed: sc.seed, replication };
    let run_dir = cdnsim_metrics::run_dir(out, &sc.name, &id.run_id);
    if run_dir.join("manifest.json").exists() {
        say!("run {} is already complete in {}; delete that folder to run it again", id.run_id, run_dir.display());
        return Ok(());
    }

    let estimate = cdnsim_world::memory_estimate_bytes(&sc);
    if let Some(available) = available_memory_bytes()
        && estimate > available
    {
        return Err(Failure::BadInput(format!(
            "{}: the run needs up to {:.1} GiB by estimate, and this machine has {:.1} GiB available; \
             shorten the run, lower the arrival rate or [limits] max_pending_events",
            file.display(),
            estimate as f64 / (1u64 << 30) as f64,
            available as f64 / (1u64 << 30) as f64
        )));
    }

    let started = SystemTime::now();
    let clock = Instant::now();
    let results = simulate(&sc, &id).map_err(|e| Failure::BadInput(e.to_string()))?;
    let wall_s = clock.elapsed().as_secs_f64();

    let manifest = serde_json::json!({
        "run_id": id.run_id,
        "scenario_name": sc.name,
        "scenario_file": file.display().to_string(),
        "seed": id.seed,
        "replication": id.replication,
        "cdnsim_version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("CDNSIM_GIT_COMMIT"),
        "started_unix_s": unix_s(started),
        "finished_unix_s": unix_s(SystemTime::now()),
        "wall_seconds": wall_s,
        "events": results.events,
        "events_per_second": results.events as f64 / wall_s.max(1e-9),
        "memory_estimate_bytes": estimate,
        "host": std::env::var("HOSTNAME").unwrap_or_default(),
        "scenario": &sc,
    });
    let files = RunFiles {
        summary: &results.summary,
        timeseries: &results.timeseries,
        viewers: &results.viewers,
        extra_tables: &results.extra_tables,
        manifest_json: serde_json::to_string_pretty(&manifest).expect("json") + "\n",
    };
    let dir = match write_run(out, &files).map_err(|e| Failure::Internal(e.to_string()))? {
        RunOutcome::Written(d) => d,
        RunOutcome::AlreadyComplete(d) => {
            say!("another process completed run {} first; kept its results", id.run_id);
            d
        }
    };

    let s = &results.summary;
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.0} ms"));
    say!("scenario {} seed {} run {}", sc.name, id.seed, id.run_id);
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
    say!(
        "  {} events in {:.2} s wall ({:.2} M events/s)",
        results.events,
        wall_s,
        results.events as f64 / wall_s.max(1e-9) / 1e6
    );
    say!("results: {}", dir.display());
    let charts = chart(&dir)?;
    say!("charts:  {}", dir.join("charts").display());
    for c in charts {
        say!("  {}", c.display());
    }
    Ok(())
}

/// MemAvailable from /proc/meminfo (Linux); `None` elsewhere.
fn available_memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn unix_s(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
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
    Ok(written)
}
