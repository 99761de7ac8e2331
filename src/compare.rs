//! `cdnsim compare BASE NEW`: two results folders of one scenario (say,
//! before and after a change to the routing rules), compared per sweep
//! point and summary metric; the statistics are in
//! `cdnsim_metrics::compare`.
//!
//! Pairing contract: a run is identified by its point (the swept values,
//! from each folder's `sweep.json`) and its replication. By default every
//! (point, replication) must be in both folders, once, with the same seed
//! (read exactly from `manifest.json`): then run k of BASE and run k of NEW
//! share their random streams and the comparison is paired. Anything else
//! is an error (exit 2) naming the first mismatch. `--unpaired` accepts
//! different seeds and replication counts (points must still match) and
//! judges by Welch's interval instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cdnsim_chart::sweep::{BarSeries, Interval};
use cdnsim_metrics::compare::{Direction, Gate, GateOutcome, Paired, Verdict, Welch, direction, evaluate_gate, paired, verdict, welch};
use cdnsim_metrics::report::{Cell, PointEstimates, RunSummary, aggregate, read_runs};
use cdnsim_metrics::{Col, Table};

use crate::failure::Failure;
use crate::commands::print_table;
use crate::sweep_charts::{Param, num, params_of};

macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Options of `cdnsim compare` beyond the two folders.
#[derive(clap::Args, Debug, Default)]
pub struct CompareOptions {
    /// Fail (exit 1) when METRIC is worse by more than MAX_WORSENING with
    /// 95% confidence at any point: relative to the base mean
    /// (`stall_ratio:0.5%`) or absolute in the metric's unit
    /// (`stall_ratio:0.002`). Repeatable.
    #[arg(long = "gate", value_name = "METRIC:MAX_WORSENING")]
    pub gates: Vec<String>,
    /// Where compare.parquet and the chart go (default: NEW/compare).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The folders' seeds differ (or their replication counts): compare
    /// means without pairing, by Welch's interval.
    #[arg(long)]
    pub unpaired: bool,
    /// Print every metric, also those identical in every replication.
    #[arg(long)]
    pub all: bool,
}

/// At most this many metrics share the chart (its palette has seven
/// colours); gated metrics come first, then the headline ones.
const CHART_METRICS: usize = 7;
/// Points on the chart: the first this many (the table has them all).
const CHART_POINTS: usize = 24;
/// The headline metrics charted when present.
const HEADLINE: &[&str] = &["amplification", "stall_ratio", "startup_ms_p95", "e2e_ms_p95", "idc_egress_bytes", "hop_waste", "internal_bytes"];

/// A results folder read for comparison.
struct Folder {
    dir: PathBuf,
    params: Vec<Param>,
    runs: Vec<RunSummary>,
    /// Seed of each run, exactly (summary columns are read as f64).
    seeds: Vec<u64>,
    points: Vec<PointEstimates>,
}

fn read_folder(dir: &Path, what: &str) -> Result<Folder, Failure> {
    if dir.join("summary.parquet").exists() {
        return Err(Failure::BadInput(format!(
            "{what} {}: a single run folder; pass the scenario's folder OUT/<scenario name>, which holds its runs and sweep.json",
            dir.display()
        )));
    }
    if !dir.is_dir() {
        return Err(Failure::BadInput(format!("{what} {}: no such folder (pass OUT/<scenario name> of a `cdnsim run`)", dir.display())));
    }
    let runs = read_runs(dir).map_err(|e| Failure::BadInput(format!("{what}: {e}")))?;
    if runs.is_empty() {
        return Err(Failure::BadInput(format!(
            "{what} {}: no complete runs (folders with manifest.json and summary.parquet); pass OUT/<scenario name> of a `cdnsim run`",
            dir.display()
        )));
    }
    let params = params_of(dir)?;
    let specs: Vec<_> = params.iter().map(Param::spec).collect();
    let points = aggregate(&runs, &specs);
    let mut seeds = Vec::with_capacity(runs.len());
    for r in &runs {
        let path = r.dir.join("manifest.json");
        let bad = |m: String| Failure::BadInput(format!("{what}: {}: {m}", path.display()));
        let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        seeds.push(json["seed"].as_u64().ok_or_else(|| bad("expected a whole number `seed`".into()))?);
    }
    Ok(Folder { dir: dir.to_path_buf(), params, runs, seeds, points })
}

/// Replication number -> run index, for the runs of one point.
fn by_replication(f: &Folder, what: &str, point: &PointEstimates, label: &str) -> Result<BTreeMap<u64, usize>, Failure> {
    let mut map = BTreeMap::new();
    for &i in &point.runs {
        let k = f.runs[i]
            .get("replication")
            .and_then(Cell::num)
            .ok_or_else(|| Failure::BadInput(format!("{what} {}: no `replication` in its summary.parquet", f.runs[i].dir.display())))? as u64;
        if let Some(j) = map.insert(k, i) {
            return Err(Failure::BadInput(format!(
                "{what} {}: two runs of point ({label}) replication {k}: {} (seed {}) and {} (seed {}); a folder must hold one seed's runs \
                 (runs with another --seed go to a folder of their own)",
                f.dir.display(),
                f.runs[j].dir.display(),
                f.seeds[j],
                f.runs[i].dir.display(),
                f.seeds[i]
            )));
        }
    }
    Ok(map)
}

/// One (point, metric) of a comparison.
#[derive(Clone, Debug)]
pub struct Row {
    pub point: usize,
    pub metric: String,
    pub direction: Direction,
    /// Over the replications both folders have (`None`: no complete pair).
    pub paired: Option<Paired>,
    pub welch: Option<Welch>,
    /// The interval the verdict and the gates use (paired, or Welch with
    /// `--unpaired`).
    pub ci95: Option<(f64, f64)>,
    pub base_mean: f64,
    pub diff: f64,
    pub verdict: Verdict,
}

impl Row {
    /// Relative change and its interval, as fractions of the base mean.
    pub fn relative(&self) -> Option<(f64, Option<(f64, f64)>)> {
        let b = self.base_mean.abs();
        (b > 0.0 && b.is_finite()).then(|| (self.diff / b, self.ci95.map(|(lo, hi)| (lo / b, hi / b))))
    }

    /// Paired half-width over Welch half-width on the same values.
    pub fn width_ratio(&self) -> Option<f64> {
        let p = self.paired.filter(|p| !p.identical)?.ci95?;
        let w = self.welch?.ci95?;
        let (pw, ww) = (p.1 - p.0, w.1 - w.0);
        (ww > 0.0).then_some(pw / ww)
    }
}

/// Two folders compared.
pub struct Comparison {
    pub base: PathBuf,
    pub new: PathBuf,
    params: Vec<Param>,
    /// The points' parameter values, in sweep order.
    points: Vec<Vec<Cell>>,
    pub rows: Vec<Row>,
    pub unpaired: bool,
    /// Things worth knowing that are not rows (metrics on one side only).
    pub notes: Vec<String>,
    runs: (usize, usize),
}

impl Comparison {
    /// `key = value, ...` of point `i` (or "all runs" without a sweep).
    pub fn describe(&self, i: usize) -> String {
        let parts: Vec<String> = self.params.iter().zip(&self.points[i]).map(|(p, c)| format!("{} = {}", p.key, p.label(c))).collect();
        if parts.is_empty() { "all runs".to_string() } else { parts.join(", ") }
    }
}

/// Reads both folders, pairs their runs and compares every metric.
pub fn compare_dirs(base: &Path, new: &Path, unpaired: bool) -> Result<Comparison, Failure> {
    let b = read_folder(base, "BASE")?;
    let n = read_folder(new, "NEW")?;
    let keys = |f: &Folder| f.params.iter().map(|p| p.key.clone()).collect::<Vec<_>>();
    if keys(&b) != keys(&n) {
        return Err(Failure::BadInput(format!(
            "BASE {} sweeps {:?} and NEW {} sweeps {:?}: compare needs the same sweep in both",
            base.display(),
            keys(&b),
            new.display(),
            keys(&n)
        )));
    }
    let label = |f: &Folder, p: &PointEstimates| -> String {
        let parts: Vec<String> = f.params.iter().zip(&p.values).map(|(par, c)| format!("{} = {}", par.key, par.label(c))).collect();
        if parts.is_empty() { "all runs".to_string() } else { parts.join(", ") }
    };
    for (f, g, a, z) in [(&b, &n, "BASE", "NEW"), (&n, &b, "NEW", "BASE")] {
        if let Some(p) = f.points.iter().find(|p| !g.points.iter().any(|q| q.values == p.values)) {
            return Err(Failure::BadInput(format!(
                "point ({}) is in {a} {} but not in {z} {}: compare needs the same points in both ({} and {} points)",
                label(f, p),
                f.dir.display(),
                g.dir.display(),
                f.points.len(),
                g.points.len()
            )));
        }
    }

    // Metrics: those of BASE in its column order that NEW has too.
    let names = |f: &Folder| f.points[0].metrics.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>();
    let (bm, nm) = (names(&b), names(&n));
    let metrics: Vec<String> = bm.iter().filter(|m| nm.contains(m)).cloned().collect();
    let mut notes = Vec::new();
    let only = |x: &[String], y: &[String]| x.iter().filter(|m| !y.contains(m)).cloned().collect::<Vec<_>>().join(", ");
    if bm.len() != metrics.len() {
        notes.push(format!("only in BASE, not compared: {}", only(&bm, &nm)));
    }
    if nm.len() != metrics.len() {
        notes.push(format!("only in NEW, not compared: {}", only(&nm, &bm)));
    }

    let mut rows = Vec::new();
    let mut points = Vec::new();
    for (pi, bp) in b.points.iter().enumerate() {
        let np = n.points.iter().find(|q| q.values == bp.values).expect("checked above");
        let what = label(&b, bp);
        let (br, nr) = (by_replication(&b, "BASE", bp, &what)?, by_replication(&n, "NEW", np, &what)?);
        if !unpaired {
            let (bk, nk): (Vec<u64>, Vec<u64>) = (br.keys().copied().collect(), nr.keys().copied().collect());
            if bk != nk {
                return Err(Failure::BadInput(format!(
                    "point ({what}): BASE has replications {bk:?}, NEW has {nk:?}; paired comparison needs the same \
                     replications in both (complete the runs, or pass --unpaired)"
                )));
            }
            for (k, &i) in &br {
                let j = nr[k];
                if b.seeds[i] != n.seeds[j] {
                    return Err(Failure::BadInput(format!(
                        "point ({what}) replication {k}: BASE run {} has seed {}, NEW run {} has seed {}; runs pair only with the same seed \
                         (seeds = \"common\" and the same run.seed / --seed in both; \"independent\" seeds change with the scenario), \
                         or pass --unpaired to compare means without pairing",
                        b.runs[i].dir.display(),
                        b.seeds[i],
                        n.runs[j].dir.display(),
                        n.seeds[j]
                    )));
                }
            }
        }
        points.push(bp.values.clone());
        let value = |f: &Folder, i: usize, m: &str| f.runs[i].get(m).and_then(Cell::num).unwrap_or(f64::NAN);
        for m in &metrics {
            let pairs: Vec<(f64, f64)> = br.iter().filter_map(|(k, &i)| nr.get(k).map(|&j| (value(&b, i, m), value(&n, j, m)))).collect();
            let bv: Vec<f64> = br.values().map(|&i| value(&b, i, m)).collect();
            let nv: Vec<f64> = nr.values().map(|&j| value(&n, j, m)).collect();
            let p = paired(&pairs);
            let w = welch(&bv, &nv);
            let dir = direction(m);
            let (ci95, base_mean, diff, identical, any) = if unpaired {
                let sorted = |v: &[f64]| {
                    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
                    s.sort_by(f64::total_cmp);
                    s
                };
                let same = sorted(&bv) == sorted(&nv);
                w.map_or((None, f64::NAN, f64::NAN, false, false), |w| (w.ci95, w.base_mean, w.diff_mean, same, true))
            } else {
                p.map_or((None, f64::NAN, f64::NAN, false, false), |p| (p.ci95, p.base_mean, p.diff_mean, p.identical, true))
            };
            let v = if any {
                verdict(dir, identical, ci95)
            } else if bv.iter().all(|x| !x.is_finite()) && nv.iter().all(|x| !x.is_finite()) {
                // Null on both sides (e.g. amplification without IDC bytes).
                Verdict::NoChange
            } else {
                Verdict::NoData
            };
            rows.push(Row { point: pi, metric: m.clone(), direction: dir, paired: p, welch: w, ci95, base_mean, diff, verdict: v });
        }
    }
    Ok(Comparison { base: base.to_path_buf(), new: new.to_path_buf(), params: b.params, points, rows, unpaired, notes, runs: (b.runs.len(), n.runs.len()) })
}

/// A gate that failed at one point, with the message that names it.
pub struct GateFailure {
    pub point: usize,
    pub metric: String,
    pub message: String,
}

/// Evaluates `gates` at every point. A gated metric the folders lack, or a
/// nonzero change with one replication (no interval), is bad input.
pub fn check_gates(c: &Comparison, gates: &[Gate]) -> Result<Vec<GateFailure>, Failure> {
    let mut failed = Vec::new();
    for g in gates {
        if !c.rows.iter().any(|r| r.metric == g.metric) {
            return Err(Failure::BadInput(format!("gate {}:{}: no metric {:?} in the compared folders", g.metric, g.threshold.label(), g.metric)));
        }
        for r in c.rows.iter().filter(|r| r.metric == g.metric) {
            let identical = r.verdict == Verdict::NoChange;
            let name = format!("gate {}:{}", g.metric, g.threshold.label());
            let at = format!("point {} ({})", r.point + 1, c.describe(r.point));
            let values = format!("{} {} -> {}", g.metric, num(r.base_mean), num(r.base_mean + r.diff));
            match evaluate_gate(g, r.base_mean, identical, r.ci95) {
                GateOutcome::Pass => {}
                GateOutcome::CannotJudge => {
                    return Err(Failure::BadInput(format!(
                        "{name} at {at}: {values} changed and there is no interval to judge it by \
                         (fewer than two replications); a gate needs replications >= 2"
                    )));
                }
                GateOutcome::Fail { worsening, threshold } => {
                    let (rel, rel_ci) = r.relative().map_or((String::new(), String::new()), |(x, ci)| {
                        (format!(" ({})", pct(x)), ci.map_or(String::new(), |(lo, hi)| format!(" ({} to {})", pct(lo), pct(hi))))
                    });
                    let (lo, hi) = r.ci95.expect("a failed gate has an interval");
                    failed.push(GateFailure {
                        point: r.point,
                        metric: g.metric.clone(),
                        message: format!(
                            "{name} failed at {at}: {values}, change {}{rel}, 95% CI [{}, {}]{rel_ci}; \
                             worse by at least {} with 95% confidence, more than the {} allowed",
                            signed(r.diff),
                            signed(lo),
                            signed(hi),
                            num(worsening.0),
                            num(threshold)
                        ),
                    });
                }
            }
        }
    }
    Ok(failed)
}

fn signed(x: f64) -> String {
    if x > 0.0 { format!("+{}", num(x)) } else { num(x) }
}

fn pct(x: f64) -> String {
    let p = x * 100.0;
    let s = if p.abs() >= 10.0 {
        format!("{p:.1}")
    } else if p.abs() >= 1.0 {
        format!("{p:.2}")
    } else {
        format!("{p:.3}")
    };
    if p > 0.0 { format!("+{s}%") } else { format!("{s}%") }
}

/// The printed comparison: per point, every metric that is not identical
/// (or all of them), then the tally of verdicts.
pub fn print(c: &Comparison, all: bool) {
    say!(
        "compare {} ({} runs) -> {} ({} runs): {} points, {}",
        c.base.display(),
        c.runs.0,
        c.new.display(),
        c.runs.1,
        c.points.len(),
        if c.unpaired {
            "unpaired: Welch's 95% interval of the difference of means"
        } else {
            "paired by (point, replication), seeds checked equal: Student t 95% interval of the per-replication differences"
        }
    );
    for note in &c.notes {
        say!("note: {note}");
    }
    let header: Vec<String> = ["metric", "better", "n", "base", "new", "change", "95% CI", "relative", "relative 95% CI", "paired/unpaired width", "verdict"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for i in 0..c.points.len() {
        say!("\npoint {}: {}", i + 1, c.describe(i));
        let rows: Vec<&Row> = c.rows.iter().filter(|r| r.point == i).collect();
        let shown: Vec<Vec<String>> = rows
            .iter()
            .filter(|r| all || r.verdict != Verdict::NoChange)
            .map(|r| {
                let (rel, rel_ci) =
                    r.relative().map_or(("-".into(), "-".into()), |(x, ci)| (pct(x), ci.map_or("-".into(), |(lo, hi)| format!("[{}, {}]", pct(lo), pct(hi)))));
                let n = if c.unpaired {
                    r.welch.map_or("0".into(), |w| format!("{}/{}", w.n_base, w.n_new))
                } else {
                    r.paired.map_or("0".into(), |p| p.n.to_string())
                };
                vec![
                    r.metric.clone(),
                    r.direction.label().to_string(),
                    n,
                    num(r.base_mean),
                    num(r.base_mean + r.diff),
                    signed(r.diff),
                    r.ci95.map_or("-".into(), |(lo, hi)| format!("[{}, {}]", signed(lo), signed(hi))),
                    rel,
                    rel_ci,
                    r.width_ratio().map_or("-".into(), |x| format!("{x:.2}")),
                    r.verdict.label().to_string(),
                ]
            })
            .collect();
        let identical = rows.iter().filter(|r| r.verdict == Verdict::NoChange).count();
        if !shown.is_empty() {
            print_table(&header, &shown);
        }
        if identical > 0 && !all {
            say!("{identical} of {} metrics identical in every replication (--all lists them)", rows.len());
        }
    }
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &c.rows {
        *tally.entry(r.verdict.label()).or_default() += 1;
    }
    let parts: Vec<String> = tally.iter().map(|(k, v)| format!("{k} {v}")).collect();
    say!("\nverdicts over {} (point, metric) pairs: {}", c.rows.len(), parts.join(", "));
    let mut ratios: Vec<f64> = c.rows.iter().filter_map(Row::width_ratio).collect();
    if !ratios.is_empty() {
        ratios.sort_by(f64::total_cmp);
        say!(
            "paired / unpaired interval width: median {:.2} over {} pairs with both intervals (below 1: pairing narrowed the interval)",
            ratios[ratios.len() / 2],
            ratios.len()
        );
    }
}

/// `compare.parquet`: the parameters, then one row per (point, metric).
pub fn table(c: &Comparison) -> Table {
    let rows = &c.rows;
    let mut t = Table::default();
    for (i, par) in c.params.iter().enumerate() {
        let col = if par.numeric {
            Col::OptF64(rows.iter().map(|r| c.points[r.point][i].num()).collect())
        } else {
            Col::Str(rows.iter().map(|r| c.points[r.point][i].label()).collect())
        };
        t.push(&par.key, col);
    }
    let f = |g: &dyn Fn(&Row) -> Option<f64>| Col::OptF64(rows.iter().map(|r| g(r).filter(|x| x.is_finite())).collect());
    t.push("metric", Col::Str(rows.iter().map(|r| r.metric.clone()).collect()));
    t.push("better", Col::Str(rows.iter().map(|r| r.direction.label().to_string()).collect()));
    t.push("pairing", Col::Str(rows.iter().map(|_| if c.unpaired { "unpaired" } else { "paired" }.to_string()).collect()));
    t.push("n", Col::U64(rows.iter().map(|r| r.paired.map_or(0, |p| p.n)).collect()));
    t.push("n_base", Col::U64(rows.iter().map(|r| r.welch.map_or(0, |w| w.n_base)).collect()));
    t.push("n_new", Col::U64(rows.iter().map(|r| r.welch.map_or(0, |w| w.n_new)).collect()));
    t.push("base_mean", f(&|r| Some(r.base_mean)));
    t.push("new_mean", f(&|r| Some(r.base_mean + r.diff)));
    t.push("diff", f(&|r| Some(r.diff)));
    t.push("ci95_low", f(&|r| r.ci95.map(|c| c.0)));
    t.push("ci95_high", f(&|r| r.ci95.map(|c| c.1)));
    t.push("rel_change", f(&|r| r.relative().map(|x| x.0)));
    t.push("rel_ci95_low", f(&|r| r.relative().and_then(|x| x.1).map(|c| c.0)));
    t.push("rel_ci95_high", f(&|r| r.relative().and_then(|x| x.1).map(|c| c.1)));
    t.push("paired_diff_sd", f(&|r| r.paired.and_then(|p| p.diff_sd)));
    t.push("paired_ci95_low", f(&|r| r.paired.and_then(|p| p.ci95).map(|c| c.0)));
    t.push("paired_ci95_high", f(&|r| r.paired.and_then(|p| p.ci95).map(|c| c.1)));
    t.push("welch_ci95_low", f(&|r| r.welch.and_then(|w| w.ci95).map(|c| c.0)));
    t.push("welch_ci95_high", f(&|r| r.welch.and_then(|w| w.ci95).map(|c| c.1)));
    t.push("width_ratio", f(&|r| r.width_ratio()));
    t.push("verdict", Col::Str(rows.iter().map(|r| r.verdict.label().to_string()).collect()));
    t
}

/// Writes `compare.parquet` and the chart into `out`; returns the files.
pub fn write(c: &Comparison, out: &Path, gates: &[Gate]) -> Result<Vec<PathBuf>, Failure> {
    std::fs::create_dir_all(out).map_err(|e| Failure::Internal(format!("{}: {e}", out.display())))?;
    let path = out.join("compare.parquet");
    let tmp = out.join(format!(".tmp-compare-{}.parquet", std::process::id()));
    table(c).write_parquet(&tmp).map_err(|e| Failure::Internal(e.to_string()))?;
    std::fs::rename(&tmp, &path).map_err(|e| Failure::Internal(format!("{}: {e}", path.display())))?;
    let mut written = vec![path];

    // Chart: relative change with its interval, a group of bars per point.
    let mut chosen: Vec<String> = gates.iter().map(|g| g.metric.clone()).collect();
    chosen.extend(HEADLINE.iter().map(|s| s.to_string()));
    let mut metrics: Vec<String> = Vec::new();
    for m in chosen {
        if !metrics.contains(&m) && c.rows.iter().any(|r| r.metric == m && r.relative().is_some()) && metrics.len() < CHART_METRICS {
            metrics.push(m);
        }
    }
    if !metrics.is_empty() {
        let shown = c.points.len().min(CHART_POINTS);
        let categories: Vec<String> = (0..shown).map(|i| c.describe(i)).collect();
        let series: Vec<BarSeries> = metrics
            .iter()
            .map(|m| BarSeries {
                label: m.clone(),
                values: (0..shown)
                    .map(|i| {
                        let r = c.rows.iter().find(|r| r.point == i && &r.metric == m)?;
                        let (x, ci) = r.relative()?;
                        Some(Interval { mean: x * 100.0, half_width: ci.map(|(lo, hi)| (hi - lo) * 50.0) })
                    })
                    .collect(),
            })
            .collect();
        let first = if shown < c.points.len() { format!("; first {shown} of {} points", c.points.len()) } else { String::new() };
        let title = format!("Change from BASE to NEW ({}, 95% CI{first})", if c.unpaired { "unpaired" } else { "paired" });
        let x_label = if c.params.is_empty() { "point".to_string() } else { c.params.iter().map(|p| p.key.clone()).collect::<Vec<_>>().join(", ") };
        written.extend(
            cdnsim_chart::sweep::bars(&out.join("compare_change"), &title, &x_label, "change relative to BASE mean (%)", &categories, &series)
                .map_err(|e| Failure::Internal(e.to_string()))?,
        );
    }
    Ok(written)
}

/// Parses `--gate` values.
pub fn parse_gates(specs: &[String]) -> Result<Vec<Gate>, Failure> {
    specs.iter().map(|s| Gate::parse(s).map_err(|e| Failure::BadInput(format!("--gate {s}: {e}")))).collect()
}

/// The gates' messages printed; a failure if any failed.
pub fn report_gates(failed: &[GateFailure], gates: &[Gate]) -> Result<(), Failure> {
    if gates.is_empty() {
        return Ok(());
    }
    for f in failed {
        say!("{}", f.message);
    }
    if failed.is_empty() {
        let names: Vec<String> = gates.iter().map(|g| format!("{}:{}", g.metric, g.threshold.label())).collect();
        say!("gates passed: {}", names.join(", "));
        Ok(())
    } else {
        let what: Vec<String> = failed.iter().map(|f| format!("{} at point {}", f.metric, f.point + 1)).collect();
        Err(Failure::GateFailed(format!("{} gate check(s) failed: {}", failed.len(), what.join(", "))))
    }
}

pub fn run(base: &Path, new: &Path, opts: &CompareOptions) -> Result<(), Failure> {
    let gates = parse_gates(&opts.gates)?;
    let c = compare_dirs(base, new, opts.unpaired)?;
    let failed = check_gates(&c, &gates)?;
    print(&c, opts.all);
    let out = opts.out.clone().unwrap_or_else(|| new.join("compare"));
    let files = write(&c, &out, &gates)?;
    say!("compare: {}", files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    report_gates(&failed, &gates)
}
