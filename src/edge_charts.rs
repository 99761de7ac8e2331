//! Charts of edge-container runs (README, "Edge results"): a run folder
//! with `edge_series.parquet` gets these instead of the CDN's latency and
//! traffic charts, and a sweep of edge runs gets its per-group lines here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cdnsim_metrics::read_parquet;
use cdnsim_metrics::report::RunSummary;

use crate::failure::Failure;

/// True when `run_dir` holds an edge run.
pub fn is_edge_run(run_dir: &Path) -> bool {
    run_dir.join("edge_series.parquet").exists()
}

/// A numeric column of a Parquet file as f64 (nulls left out).
fn column(path: &Path, name: &str) -> Result<Vec<f64>, Failure> {
    let bad = |m: String| Failure::BadInput(format!("{}: {m}", path.display()));
    let df = read_parquet(path).map_err(|e| bad(e.to_string()))?;
    let col = df.column(name).map_err(|e| bad(e.to_string()))?;
    let cast = col.cast(&polars::prelude::DataType::Float64).map_err(|e| bad(e.to_string()))?;
    Ok(cast.f64().map_err(|e| bad(e.to_string()))?.iter().flatten().collect())
}

fn internal(e: cdnsim_chart::ChartError) -> Failure {
    Failure::Internal(e.to_string())
}

fn over_time(seconds: &[f64], ys: Vec<f64>, scale: f64) -> Vec<(f64, f64)> {
    seconds.iter().zip(ys).map(|(s, y)| (s / 3600.0, y * scale)).collect()
}

/// The charts of one edge run folder.
pub fn run_charts(run_dir: &Path, dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let series = run_dir.join("edge_series.parquet");
    let sec = column(&series, "second")?;
    let mut written = Vec::new();
    let line = |label: &str, col: &str, scale: f64| -> Result<cdnsim_chart::Series, Failure> {
        Ok(cdnsim_chart::Series { label: label.into(), points: over_time(&sec, column(&series, col)?, scale) })
    };
    let tiers = ["room", "region", "central", "serverless"];
    let sessions: Vec<_> = tiers.iter().map(|t| line(t, &format!("sessions_{t}"), 1.0)).collect::<Result<_, _>>()?;
    written.extend(
        cdnsim_chart::lines(&dir.join("sessions_by_tier"), "Live sessions by tier", "simulated time (h)", "sessions", &sessions)
            .map_err(internal)?,
    );
    let levels = ["room", "region", "central"];
    let mut machines = Vec::new();
    for l in levels {
        machines.push(line(&format!("{l}: in service"), &format!("machines_{l}"), 1.0)?);
        machines.push(line(&format!("{l}: holding pods"), &format!("nonempty_{l}"), 1.0)?);
    }
    written.extend(
        cdnsim_chart::lines(&dir.join("machines"), "Machines in service and machines holding pods", "simulated time (h)", "machines", &machines)
            .map_err(internal)?,
    );
    let util: Vec<_> = levels
        .iter()
        .flat_map(|l| ["cpu_millis", "memory_bytes", "bandwidth_bps"].map(|r| (l, r)))
        .map(|(l, r)| line(&format!("{l}: {}", r.split('_').next().unwrap_or(r)), &format!("util_{r}_{l}"), 1.0))
        .collect::<Result<_, _>>()?;
    written.extend(
        cdnsim_chart::lines(&dir.join("utilisation"), "Allocated share of capacity, by level and resource", "simulated time (h)", "allocated / capacity", &util)
            .map_err(internal)?,
    );
    let pods: Vec<_> = ["initialising", "allocated", "tombstone"]
        .iter()
        .map(|s| line(s, &format!("pods_{s}"), 1.0))
        .collect::<Result<_, _>>()?;
    written.extend(
        cdnsim_chart::lines(&dir.join("pods_by_state"), "Media-server pods by state", "simulated time (h)", "pods", &pods).map_err(internal)?,
    );
    // Streams and their cascade, when the scenario has any.
    let streams = column(&series, "streams_live")?;
    if streams.iter().any(|&x| x > 0.0) {
        let cascade = [line("live streams", "streams_live", 1.0)?, line("open cascade legs", "cascade_legs", 1.0)?];
        written.extend(
            cdnsim_chart::lines(&dir.join("cascade"), "Live streams and the server-to-server legs carrying them", "simulated time (h)", "count", &cascade)
                .map_err(internal)?,
        );
    }
    // Per-machine CPU allocation of the machines holding pods, every sample.
    let m = run_dir.join("machines.parquet");
    let (cpu, held) = (column(&m, "util_cpu_millis")?, column(&m, "pods")?);
    let busy: Vec<f64> = cpu.iter().zip(&held).filter(|(_, p)| **p > 0.0).map(|(c, _)| *c).collect();
    written.extend(
        cdnsim_chart::cdf(&dir.join("machine_cpu_cdf"), "CPU allocated per machine holding pods (every sample)", "allocated / capacity", &[("machines".into(), busy)])
            .map_err(internal)?,
    );
    // Reroute times of the sessions a transport fault hit (runs with
    // `[edge.transport]` whose faults hit any), one line per cause.
    let reroutes = run_dir.join("reroutes.parquet");
    if reroutes.exists() {
        let df = read_parquet(&reroutes).map_err(|e| Failure::BadInput(format!("{}: {e}", reroutes.display())))?;
        let ms = column(&reroutes, "reroute_ms")?;
        if !ms.is_empty() {
            let causes: Vec<String> = df
                .column("cause")
                .and_then(|c| c.str().map(|s| s.iter().map(|x| x.unwrap_or("").to_string()).collect()))
                .map_err(|e| Failure::BadInput(format!("{}: {e}", reroutes.display())))?;
            // reroute_ms is null for lost rows: pair causes with the rows that have a time.
            let all = df.column("reroute_ms").map_err(|e| Failure::BadInput(e.to_string()))?.f64().map_err(|e| Failure::BadInput(e.to_string()))?.iter().collect::<Vec<_>>();
            let mut by: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for (c, v) in causes.iter().zip(all) {
                if let Some(v) = v {
                    by.entry(format!("{c} ({})", if c == "outage" { "fault -> media on the new path" } else { "degradation -> new path" })).or_default().push(v);
                }
            }
            let sets: Vec<(String, Vec<f64>)> = by.into_iter().collect();
            written.extend(
                cdnsim_chart::cdf(&dir.join("reroute_cdf"), "Reroute time per affected session", "reroute time (ms)", &sets).map_err(internal)?,
            );
        }
    }
    Ok(written)
}

/// Machines holding pods over time, one line per group (mean over its runs).
pub fn group_charts(charts: &Path, suffix: &str, by: &str, groups: &[(String, Vec<&RunSummary>)]) -> Result<Vec<PathBuf>, Failure> {
    let mut lines = Vec::new();
    let mut sessions = Vec::new();
    for (label, runs) in groups {
        let mut nonempty: BTreeMap<u64, (f64, u64)> = BTreeMap::new();
        let mut serverless: BTreeMap<u64, (f64, u64)> = BTreeMap::new();
        for r in runs {
            let path = r.dir.join("edge_series.parquet");
            let sec = column(&path, "second")?;
            let n: Vec<Vec<f64>> =
                ["room", "region", "central"].iter().map(|l| column(&path, &format!("nonempty_{l}"))).collect::<Result<_, _>>()?;
            let sl = column(&path, "sessions_serverless")?;
            for (i, s) in sec.iter().enumerate() {
                let e = nonempty.entry(*s as u64).or_default();
                e.0 += n.iter().map(|v| v[i]).sum::<f64>();
                e.1 += 1;
                let e = serverless.entry(*s as u64).or_default();
                e.0 += sl[i];
                e.1 += 1;
            }
        }
        let mean = |m: &BTreeMap<u64, (f64, u64)>| m.iter().map(|(s, e)| (*s as f64 / 3600.0, e.0 / e.1 as f64)).collect();
        lines.push(cdnsim_chart::Series { label: label.clone(), points: mean(&nonempty) });
        sessions.push(cdnsim_chart::Series { label: label.clone(), points: mean(&serverless) });
    }
    let mut written = cdnsim_chart::lines(
        &charts.join(format!("machines_holding_pods{suffix}")),
        &format!("Machines holding pods{by} (mean over runs)"),
        "simulated time (h)",
        "machines",
        &lines,
    )
    .map_err(internal)?;
    written.extend(
        cdnsim_chart::lines(
            &charts.join(format!("serverless_sessions{suffix}")),
            &format!("Live serverless sessions{by} (mean over runs)"),
            "simulated time (h)",
            "sessions",
            &sessions,
        )
        .map_err(internal)?,
    );
    Ok(written)
}
