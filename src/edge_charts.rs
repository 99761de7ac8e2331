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
    written.extend(control_charts(run_dir, dir, &sec)?);
    Ok(written)
}

/// The control-plane faults of a run with `[edge.control]` (from its
/// manifest's resolved scenario), as shaded bands in hours: `None`
/// without `[edge.control]` (or without a manifest: a folder from before
/// manifests carried the scenario).
fn control_bands(run_dir: &Path) -> Result<Option<Vec<cdnsim_chart::Band>>, Failure> {
    let path = run_dir.join("manifest.json");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(None) };
    let bad = |m: &str| Failure::BadInput(format!("{}: {m}", path.display()));
    let m: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    let sc = &m["scenario"];
    if sc["edge"]["control"].is_null() {
        return Ok(None);
    }
    let region_name = |edge_region: u64| -> Option<&str> {
        let r = sc["edge"]["regions"][edge_region as usize]["region"].as_u64()?;
        sc["regions"][r as usize]["name"].as_str()
    };
    let mut bands = Vec::new();
    for f in sc["edge"]["control_faults"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let at = |k: &str| f[k].as_u64().map(|ns| ns as f64 / 3.6e12).ok_or_else(|| bad(&format!("a control fault without {k}")));
        let label = match f["link"].as_array() {
            None => "centre down".to_string(),
            Some(l) => {
                let region = l.first().and_then(|r| r.as_u64()).and_then(region_name).ok_or_else(|| bad("a control fault's region"))?;
                match l.get(1).and_then(|r| r.as_u64()) {
                    Some(room) => format!("{region} room {room} cut off"),
                    None => format!("{region} cut off"),
                }
            }
        };
        bands.push(cdnsim_chart::Band { label, start: at("start_ns")?, end: at("end_ns")? });
    }
    Ok(Some(bands))
}

/// The schemes of list-watch traffic (README, "Edge results").
const SCHEMES: [&str; 5] = ["all", "node_reuse", "pool_shared", "filtered", "filtered_shared"];

/// Runs with `[edge.control]`: pods and sessions over time with the
/// control faults shaded (what the edges kept, what serverless filled),
/// and the list-watch bytes per second of every scheme. Each chart also
/// writes the points it draws as `<stem>.csv`.
fn control_charts(run_dir: &Path, dir: &Path, sec: &[f64]) -> Result<Vec<PathBuf>, Failure> {
    let Some(bands) = control_bands(run_dir)? else { return Ok(Vec::new()) };
    let series = run_dir.join("edge_series.parquet");
    let col = |c: &str| column(&series, c);
    let hours = |ys: Vec<f64>| -> Vec<(f64, f64)> { sec.iter().zip(ys).map(|(s, y)| (s / 3600.0, y)).collect() };
    let sum = |cols: &[&str]| -> Result<Vec<f64>, Failure> {
        let mut out = vec![0.0; sec.len()];
        for c in cols {
            for (o, v) in out.iter_mut().zip(col(c)?) {
                *o += v;
            }
        }
        Ok(out)
    };
    let line = |label: &str, ys: Vec<f64>| cdnsim_chart::Series { label: label.into(), points: hours(ys) };
    let mut written = Vec::new();
    let pods: Vec<_> = ["initialising", "allocated", "tombstone"]
        .iter()
        .map(|s| Ok(line(&format!("pods {s}"), col(&format!("pods_{s}"))?)))
        .collect::<Result<_, Failure>>()?;
    written.extend(
        cdnsim_chart::timeline(&dir.join("control_pods"), "Media-server pods by state, control-plane faults shaded", "simulated time (h)", "pods", &pods, &bands)
            .map_err(internal)?,
    );
    // Capacity lost: the sessions the edges turned away in a sample
    // (placed on serverless or rejected); filled: those serverless took.
    let sessions = [
        line("live on edge pods", sum(&["sessions_room", "sessions_region", "sessions_central"])?),
        line("live on serverless", col("sessions_serverless")?),
        line("turned away by the edges per sample (capacity lost)", sum(&["placed_serverless", "rejected"])?),
        line("filled by serverless per sample", col("placed_serverless")?),
    ];
    written.extend(
        cdnsim_chart::timeline(
            &dir.join("control_sessions"),
            "Sessions while the control plane is cut off: capacity lost vs filled by serverless",
            "simulated time (h)",
            "sessions",
            &sessions,
            &bands,
        )
        .map_err(internal)?,
    );
    // Bytes since the last sample over the time since it (the first
    // sample's interval starts at 0).
    let gaps: Vec<f64> = sec.iter().scan(0.0, |last, &s| {
        let g = s - *last;
        *last = s;
        Some(g)
    }).collect();
    let totals: Vec<f64> = SCHEMES.iter().map(|k| Ok(col(&format!("control_bytes_{k}"))?.iter().sum())).collect::<Result<_, Failure>>()?;
    let mut bytes = Vec::new();
    for (k, name) in SCHEMES.iter().enumerate() {
        let per_s: Vec<f64> = col(&format!("control_bytes_{name}"))?.iter().zip(&gaps).map(|(b, g)| if *g > 0.0 { b / g } else { 0.0 }).collect();
        let label = if k == 0 || totals[0] == 0.0 {
            name.to_string()
        } else {
            format!("{name} ({:.1}% less than all)", 100.0 * (1.0 - totals[k] / totals[0]))
        };
        bytes.push(line(&label, per_s));
    }
    written.extend(
        cdnsim_chart::timeline(
            &dir.join("control_bytes"),
            "Cloud-edge list-watch traffic by scheme",
            "simulated time (h)",
            "bytes per second",
            &bytes,
            &bands,
        )
        .map_err(internal)?,
    );
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
