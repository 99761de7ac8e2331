//! A folder of runs (`OUT/<scenario name>`): the report table and the
//! sweep's charts. The swept parameters, their units and the order of their
//! values come from the folder's `sweep.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cdnsim_chart::sweep::{BarSeries, Interval, IntervalSeries};
use cdnsim_metrics::report::{Cell, Estimate, ParamSpec, PointEstimates, RunSummary, aggregate, read_runs, report_table};
use cdnsim_metrics::{Table, read_parquet};

use crate::failure::Failure;

/// A swept parameter as `sweep.json` describes it.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub(crate) key: String,
    pub(crate) unit: Option<String>,
    pub(crate) numeric: bool,
    pub(crate) values: Vec<String>,
}

impl Param {
    pub(crate) fn spec(&self) -> ParamSpec {
        ParamSpec { key: self.key.clone(), numeric: self.numeric, order: self.values.clone() }
    }
    /// Axis title: the key, with its unit when the values carry one.
    fn axis(&self) -> String {
        match &self.unit {
            Some(u) => format!("{} ({u})", self.key),
            None => self.key.clone(),
        }
    }
    pub(crate) fn label(&self, c: &Cell) -> String {
        match (&self.unit, c) {
            (Some(u), Cell::Num(Some(_))) => format!("{} {u}", c.label()),
            _ => c.label(),
        }
    }
}

/// At most this many values of a parameter get their own CDF line.
const MAX_CDF_GROUPS: usize = 7;
/// Samples kept per CDF line: runs with more viewers are thinned to evenly
/// spaced order statistics, which keeps the shape within 1/cap.
const MAX_CDF_SAMPLES: usize = 1_000_000;

/// Summary metrics charted against numeric parameters, with their titles,
/// axis labels and scale factors.
const VS_METRICS: &[(&str, &str, &str, f64)] = &[
    ("startup_ms_p95", "Startup latency p95", "startup p95 (ms)", 1.0),
    ("e2e_ms_p95", "End-to-end latency p95", "end-to-end p95 (ms)", 1.0),
    ("stall_ratio", "Stall ratio", "stall ratio (frozen / watched time)", 1.0),
    ("hop_waste", "Hop waste", "hop waste (delivered / shortest hops)", 1.0),
    ("internal_bytes", "IDC-to-IDC traffic", "internal bytes (MB)", 1e-6),
    ("idc_egress_bytes", "IDC egress", "IDC egress (MB)", 1e-6),
    ("amplification", "Amplification", "amplification (viewer bytes / IDC bytes)", 1.0),
    ("machines_needed", "Edge machines needed", "machines holding pods at the peak", 1.0),
    ("cost_per_session_hour", "Cost per session-hour", "cost per session-hour", 1.0),
    ("overflow_share", "Sessions overflowing their room", "share of sessions", 1.0),
    ("join_ms_p95_serverless", "Serverless join latency p95", "join p95 (ms)", 1.0),
];
/// Summary metrics drawn as bars per value of a categorical parameter.
const BAR_METRICS: &[(&str, &str, &str, f64)] = &[
    ("hop_waste", "Hop waste", "hop waste (delivered / shortest hops)", 1.0),
    ("internal_bytes", "IDC-to-IDC traffic", "internal bytes (MB)", 1e-6),
    ("idc_egress_bytes", "IDC egress", "IDC egress (MB)", 1e-6),
    ("amplification", "Amplification", "amplification (viewer bytes / IDC bytes)", 1.0),
    ("machines_needed", "Edge machines needed", "machines holding pods at the peak", 1.0),
    ("sessions_cut_scale_in", "Sessions cut by scale-in", "sessions", 1.0),
    ("cost_per_session_hour", "Cost per session-hour", "cost per session-hour", 1.0),
    ("util_mean_cpu_millis", "CPU allocated on machines holding pods", "mean allocated / capacity", 1.0),
];

pub(crate) fn params_of(dir: &Path) -> Result<Vec<Param>, Failure> {
    let path = dir.join("sweep.json");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(vec![]) };
    let bad = |m: &str| Failure::BadInput(format!("{}: {m}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    let list = json["params"].as_array().ok_or_else(|| bad("expected a list `params`"))?;
    list.iter()
        .map(|p| {
            Ok(Param {
                key: p["key"].as_str().ok_or_else(|| bad("a parameter without `key`"))?.to_string(),
                unit: p["unit"].as_str().map(str::to_string),
                numeric: p["numeric"].as_bool().unwrap_or(false),
                values: p["values"].as_array().map_or(vec![], |v| v.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()),
            })
        })
        .collect()
}

struct Loaded {
    params: Vec<Param>,
    runs: Vec<RunSummary>,
    points: Vec<PointEstimates>,
}

fn load(dir: &Path) -> Result<Loaded, Failure> {
    let runs = read_runs(dir).map_err(|e| Failure::BadInput(e.to_string()))?;
    if runs.is_empty() {
        return Err(Failure::BadInput(format!(
            "{}: not a run folder (no summary.parquet), and no complete runs in it (folders with manifest.json); \
             pass a run folder or OUT/<scenario name>",
            dir.display()
        )));
    }
    let params = params_of(dir)?;
    let specs: Vec<ParamSpec> = params.iter().map(Param::spec).collect();
    let points = aggregate(&runs, &specs);
    Ok(Loaded { params, runs, points })
}

/// The report table and its printed form.
pub fn report(dir: &Path) -> Result<(Table, String), Failure> {
    let l = load(dir)?;
    let specs: Vec<ParamSpec> = l.params.iter().map(Param::spec).collect();
    let table = report_table(&specs, &l.points);
    let mut text = format!("{}: {} runs, {} sweep points; mean and 95% CI (Student t) over replications\n", dir.display(), l.runs.len(), l.points.len());
    for (i, p) in l.points.iter().enumerate() {
        let values: Vec<String> = l.params.iter().zip(&p.values).map(|(par, c)| format!("{} = {}", par.key, par.label(c))).collect();
        let what = if values.is_empty() { "all runs".to_string() } else { values.join(", ") };
        text.push_str(&format!("\npoint {}: {what} ({} runs)\n", i + 1, p.runs.len()));
        let width = p.metrics.iter().map(|(m, _)| m.len()).max().unwrap_or(6).max(6);
        text.push_str(&format!("  {:<width$}  {:>3}  {:>14}  {:>12}\n", "metric", "n", "mean", "± 95% CI"));
        for (m, e) in &p.metrics {
            let (n, mean, ci) = match e {
                Some(e) => (e.n.to_string(), num(e.mean), e.ci95.map_or("-".to_string(), num)),
                None => ("0".to_string(), "-".to_string(), "-".to_string()),
            };
            text.push_str(&format!("  {m:<width$}  {n:>3}  {mean:>14}  {ci:>12}\n"));
        }
    }
    Ok((table, text.trim_end().to_string()))
}

/// Four significant digits; scientific beyond a million or below 0.001.
pub(crate) fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let mag = x.abs().log10().floor();
    if !(-3.0..6.0).contains(&mag) {
        return format!("{x:.3e}");
    }
    let decimals = (3.0 - mag).clamp(0.0, 6.0) as usize;
    format!("{x:.decimals$}")
}

/// The values a parameter takes over the points, in report order.
fn values_of(l: &Loaded, i: usize) -> Vec<Cell> {
    let mut v: Vec<Cell> = Vec::new();
    for p in &l.points {
        if !v.contains(&p.values[i]) {
            v.push(p.values[i].clone());
        }
    }
    let par = &l.params[i];
    v.sort_by(|a, b| match (a, b) {
        (Cell::Num(x), Cell::Num(y)) => x.unwrap_or(f64::INFINITY).total_cmp(&y.unwrap_or(f64::INFINITY)),
        _ => {
            let rank = |c: &Cell| par.values.iter().position(|s| *s == c.label()).unwrap_or(usize::MAX);
            rank(a).cmp(&rank(b)).then_with(|| a.label().cmp(&b.label()))
        }
    });
    v
}

/// Label of a point's values other than parameter `i` (a series).
fn others(l: &Loaded, p: &PointEstimates, i: usize) -> String {
    let parts: Vec<String> =
        l.params.iter().zip(&p.values).enumerate().filter(|(j, _)| *j != i).map(|(_, (par, c))| format!("{} = {}", par.key, par.label(c))).collect();
    if parts.is_empty() { "mean of replications".to_string() } else { parts.join(", ") }
}

fn estimate(p: &PointEstimates, metric: &str) -> Option<Estimate> {
    p.metrics.iter().find(|(m, _)| m == metric).and_then(|(_, e)| *e)
}

fn interval(e: Estimate, scale: f64) -> Interval {
    Interval { mean: e.mean * scale, half_width: e.ci95.map(|h| h * scale) }
}

/// Draws the sweep's charts into `dir/charts`; returns the files.
pub fn draw(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let l = load(dir)?;
    let charts = dir.join("charts");
    std::fs::create_dir_all(&charts).map_err(|e| Failure::Internal(format!("{}: {e}", charts.display())))?;
    let internal = |e: cdnsim_chart::ChartError| Failure::Internal(e.to_string());
    let mut written = Vec::new();

    for (i, par) in l.params.iter().enumerate() {
        let values = values_of(&l, i);
        // Series: the combinations of the other parameters, in point order.
        let mut series_names: Vec<String> = Vec::new();
        for p in &l.points {
            let s = others(&l, p, i);
            if !series_names.contains(&s) {
                series_names.push(s);
            }
        }
        let at = |series: &str, v: &Cell| l.points.iter().find(|p| p.values[i] == *v && others(&l, p, i) == series);
        if par.numeric {
            for (metric, title, y_label, scale) in VS_METRICS {
                let series: Vec<IntervalSeries> = series_names
                    .iter()
                    .map(|s| IntervalSeries {
                        label: s.clone(),
                        points: values
                            .iter()
                            .filter_map(|v| Some((v.num()?, interval(estimate(at(s, v)?, metric)?, *scale))))
                            .collect(),
                    })
                    .collect();
                if series.iter().all(|s| s.points.is_empty()) {
                    continue;
                }
                let stem = charts.join(format!("{metric}_vs_{}", file_part(&par.key)));
                let title = format!("{title} against {} (mean, 95% CI)", par.key);
                written.extend(cdnsim_chart::sweep::intervals(&stem, &title, &par.axis(), y_label, &series).map_err(internal)?);
            }
        } else {
            let categories: Vec<String> = values.iter().map(|v| par.label(v)).collect();
            for (metric, title, y_label, scale) in BAR_METRICS {
                let series: Vec<BarSeries> = series_names
                    .iter()
                    .map(|s| BarSeries {
                        label: s.clone(),
                        values: values.iter().map(|v| at(s, v).and_then(|p| estimate(p, metric)).map(|e| interval(e, *scale))).collect(),
                    })
                    .collect();
                if series.iter().all(|s| s.values.iter().all(Option::is_none)) {
                    continue;
                }
                let stem = charts.join(format!("{metric}_by_{}", file_part(&par.key)));
                let title = format!("{title} by {} (mean, 95% CI)", par.key);
                written.extend(cdnsim_chart::sweep::bars(&stem, &title, &par.axis(), y_label, &categories, &series).map_err(internal)?);
            }
        }
        if values.len() <= MAX_CDF_GROUPS {
            let groups: Vec<(String, Vec<&RunSummary>)> = values
                .iter()
                .map(|v| {
                    let runs = l.runs.iter().filter(|r| r.get(&par.key).unwrap_or(&Cell::Text(None)) == v).collect();
                    (format!("{} = {}", par.key, par.label(v)), runs)
                })
                .collect();
            written.extend(per_group_charts(&charts, &format!("_by_{}", file_part(&par.key)), &format!(" per {}", par.key), &groups)?);
        }
    }
    if l.params.is_empty() {
        let all: Vec<&RunSummary> = l.runs.iter().collect();
        let groups = vec![(format!("all {} runs", all.len()), all)];
        written.extend(per_group_charts(&charts, "", "", &groups)?);
    }
    Ok(written)
}

/// Latency CDFs (viewers of all runs of a group pooled) and bytes by source
/// over time (mean over a group's runs), one line per group.
fn per_group_charts(charts: &Path, suffix: &str, by: &str, groups: &[(String, Vec<&RunSummary>)]) -> Result<Vec<PathBuf>, Failure> {
    if groups.iter().flat_map(|g| g.1.iter()).any(|r| crate::edge_charts::is_edge_run(&r.dir)) {
        return crate::edge_charts::group_charts(charts, suffix, by, groups);
    }
    let internal = |e: cdnsim_chart::ChartError| Failure::Internal(e.to_string());
    let mut written = Vec::new();
    for (stem, title, x_label, column) in [
        ("startup_cdf", "Startup latency", "startup latency (ms)", "startup_ms"),
        ("e2e_cdf", "End-to-end latency, mean per viewer", "end-to-end latency (ms)", "e2e_ms_mean"),
    ] {
        let mut sets = Vec::with_capacity(groups.len());
        for (label, runs) in groups {
            let cap = (MAX_CDF_SAMPLES / runs.len().max(1)).max(1000);
            let mut samples = Vec::new();
            for r in runs {
                samples.extend(thin(column_f64(&r.dir.join("viewers.parquet"), column)?, cap));
            }
            sets.push((label.clone(), samples));
        }
        let title = format!("{title}{by} (viewers of all runs pooled)");
        written.extend(cdnsim_chart::cdf(&charts.join(format!("{stem}{suffix}")), &title, x_label, &sets).map_err(internal)?);
    }
    let mut series = Vec::with_capacity(groups.len() * 2);
    for (label, runs) in groups {
        // second -> (IDC bytes, home bytes, runs that reached that second)
        let mut per_second: BTreeMap<u64, (f64, f64, u64)> = BTreeMap::new();
        for r in runs {
            let path = r.dir.join("timeseries.parquet");
            let seconds = column_f64(&path, "second")?;
            let (idc, home) = (column_f64(&path, "bytes_idc")?, column_f64(&path, "bytes_home")?);
            let mut mine: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
            for ((s, a), b) in seconds.iter().zip(&idc).zip(&home) {
                let e = mine.entry(*s as u64).or_default();
                e.0 += a;
                e.1 += b;
            }
            for (s, (a, b)) in mine {
                let e = per_second.entry(s).or_default();
                e.0 += a;
                e.1 += b;
                e.2 += 1;
            }
        }
        let mbps = |f: fn(&(f64, f64, u64)) -> f64| -> Vec<(f64, f64)> {
            per_second.iter().map(|(s, e)| (*s as f64, f(e) / e.2 as f64 * 8.0 / 1e6)).collect()
        };
        let prefix = if groups.len() > 1 { format!("{label}: ") } else { String::new() };
        series.push(cdnsim_chart::Series { label: format!("{prefix}from IDC"), points: mbps(|e| e.0) });
        series.push(cdnsim_chart::Series { label: format!("{prefix}from home nodes"), points: mbps(|e| e.1) });
    }
    written.extend(
        cdnsim_chart::lines(
            &charts.join(format!("bytes_by_source{suffix}")),
            &format!("Traffic delivered to viewers, by source{by} (mean over runs)"),
            "simulated time (s)",
            "throughput (Mbit/s)",
            &series,
        )
        .map_err(internal)?,
    );
    Ok(written)
}

/// A parameter key as part of a file name: `links[3].loss` -> `links_3.loss`.
fn file_part(key: &str) -> String {
    key.replace('[', "_").replace(']', "").chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect()
}

/// A numeric column of a Parquet file as f64, nulls left out.
fn column_f64(path: &Path, name: &str) -> Result<Vec<f64>, Failure> {
    let bad = |m: String| Failure::BadInput(format!("{}: {m}", path.display()));
    let df = read_parquet(path).map_err(|e| bad(e.to_string()))?;
    let col = df.column(name).map_err(|e| bad(e.to_string()))?;
    let cast = col.cast(&polars::prelude::DataType::Float64).map_err(|e| bad(e.to_string()))?;
    Ok(cast.f64().map_err(|e| bad(e.to_string()))?.iter().flatten().collect())
}

/// At most `cap` evenly spaced order statistics of `v` (all of it if smaller).
fn thin(mut v: Vec<f64>, cap: usize) -> Vec<f64> {
    if v.len() <= cap {
        return v;
    }
    v.sort_by(f64::total_cmp);
    let last = v.len() - 1;
    (0..cap).map(|k| v[k * last / (cap - 1).max(1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_with_four_significant_digits() {
        assert_eq!(num(1234.5678), "1235");
        assert_eq!(num(1.23456), "1.235");
        assert_eq!(num(0.012345), "0.01235");
        assert_eq!(num(12_345_678.0), "1.235e7");
        assert_eq!(num(0.0), "0");
    }

    #[test]
    fn thinning_keeps_the_extremes_and_the_size() {
        let v: Vec<f64> = (0..10_001).map(|i| i as f64).collect();
        let t = thin(v, 101);
        assert_eq!(t.len(), 101);
        assert_eq!((t[0], t[50], t[100]), (0.0, 5000.0, 10_000.0));
        assert_eq!(thin(vec![3.0, 1.0], 10), vec![3.0, 1.0]);
    }
}
