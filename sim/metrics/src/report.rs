//! Aggregation over the runs of a sweep: per sweep point, the mean and the
//! 95% confidence interval (Student t) of every numeric summary column over
//! the point's replications; `report.parquet` in a long layout (one row per
//! point and metric), which filters and pivots easily in a notebook.

use cdnsim_maths::{atan, cos, sin};
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::MetricsError;
use crate::table::{Col, Table, read_parquet};

/// Bound on the runs one report reads: a folder with more is refused,
/// rather than read into memory whole.
pub const MAX_REPORT_RUNS: usize = 1_000_000;

/// One value of a summary row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Num(Option<f64>),
    Text(Option<String>),
}

impl Cell {
    pub fn num(&self) -> Option<f64> {
        match self {
            Cell::Num(x) => *x,
            Cell::Text(_) => None,
        }
    }

    /// The value as text: numbers in their shortest exact form.
    pub fn label(&self) -> String {
        match self {
            Cell::Num(Some(x)) => format!("{x}"),
            Cell::Text(Some(s)) => s.clone(),
            Cell::Num(None) | Cell::Text(None) => "-".to_string(),
        }
    }
}

/// The summary row of one complete run.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub dir: PathBuf,
    /// Columns in the file's order.
    pub cells: Vec<(String, Cell)>,
}

impl RunSummary {
    pub fn get(&self, name: &str) -> Option<&Cell> {
        self.cells.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

/// Reads `summary.parquet` of every complete run (one with a manifest)
/// under `scenario_dir`, ordered by run id.
pub fn read_runs(scenario_dir: &Path) -> Result<Vec<RunSummary>, MetricsError> {
    let err = |message: String| MetricsError::Read { path: scenario_dir.display().to_string(), message };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(scenario_dir)
        .map_err(|e| err(e.to_string()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("manifest.json").is_file() && p.join("summary.parquet").is_file())
        .collect();
    if dirs.len() > MAX_REPORT_RUNS {
        return Err(err(format!("{} runs, more than the {MAX_REPORT_RUNS} a report reads", dirs.len())));
    }
    dirs.sort();
    let mut runs = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let df = read_parquet(&dir.join("summary.parquet"))?;
        let path = dir.join("summary.parquet");
        let bad = |m: String| MetricsError::Read { path: path.display().to_string(), message: m };
        if df.height() != 1 {
            return Err(bad(format!("expected one row, found {}", df.height())));
        }
        let mut cells = Vec::with_capacity(df.width());
        for col in df.columns() {
            let name = col.name().to_string();
            let cell = match col.dtype() {
                DataType::String => Cell::Text(col.str().map_err(|e| bad(e.to_string()))?.get(0).map(str::to_string)),
                DataType::Boolean => Cell::Text(col.bool().map_err(|e| bad(e.to_string()))?.get(0).map(|b| b.to_string())),
                d if d.is_primitive_numeric() => {
                    let f = col.cast(&DataType::Float64).map_err(|e| bad(e.to_string()))?;
                    Cell::Num(f.f64().map_err(|e| bad(e.to_string()))?.get(0))
                }
                _ => continue,
            };
            cells.push((name, cell));
        }
        runs.push(RunSummary { dir, cells });
    }
    Ok(runs)
}

/// Mean and spread of one metric over a point's replications.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Runs with a value (nulls are left out).
    pub n: u64,
    pub mean: f64,
    /// Sample standard deviation; `None` below two values.
    pub sd: Option<f64>,
    /// Half-width of the 95% confidence interval of the mean:
    /// t(0.975, n-1) * sd / sqrt(n); `None` below two values.
    pub ci95: Option<f64>,
}

impl Estimate {
    /// `None` when no value is finite.
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        if v.len() < 2 {
            return Some(Estimate { n: 1, mean, sd: None, ci95: None });
        }
        let sd = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt();
        let ci95 = t_quantile_975(v.len() as u64 - 1) * sd / n.sqrt();
        Some(Estimate { n: v.len() as u64, mean, sd: Some(sd), ci95: Some(ci95) })
    }
}

/// P(|T| <= t) for Student's t with `df` degrees of freedom, by the finite
/// series for integer df (Abramowitz & Stegun 26.7.3 and 26.7.4).
fn t_central_probability(t: f64, df: u64) -> f64 {
    let theta = atan(t / (df as f64).sqrt());
    let (s, c) = (sin(theta), cos(theta));
    let c2 = c * c;
    if df % 2 == 1 {
        // (2/pi) (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...)), df-3 powers.
        let mut term = 1.0;
        let mut sum = if df > 1 { 1.0 } else { 0.0 };
        let mut k = 1;
        while 2 * k + 1 < df {
            term *= (2 * k) as f64 / (2 * k + 1) as f64 * c2;
            sum += term;
            k += 1;
        }
        2.0 / std::f64::consts::PI * (theta + s * c * sum)
    } else {
        // sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...), df-2 powers.
        let mut term = 1.0;
        let mut sum = 1.0;
        let mut k = 1;
        while 2 * k < df {
            term *= (2 * k - 1) as f64 / (2 * k) as f64 * c2;
            sum += term;
            k += 1;
        }
        s * sum
    }
}

/// The 97.5% quantile of Student's t with `df` >= 1 degrees of freedom (the
/// factor of a two-sided 95% interval), by bisection on the exact CDF.
pub fn t_quantile_975(df: u64) -> f64 {
    assert!(df >= 1, "Student's t needs at least one degree of freedom");
    let (mut lo, mut hi) = (0.0f64, 20.0f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if t_central_probability(mid, df) < 0.95 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// A swept parameter as the report orders it: numbers ascending, text in
/// the sweep's order of values (others after, alphabetically).
#[derive(Clone, Debug)]
pub struct ParamSpec {
    pub key: String,
    pub numeric: bool,
    pub order: Vec<String>,
}

/// The estimates at one sweep point.
#[derive(Clone, Debug)]
pub struct PointEstimates {
    /// One value per parameter (null when a run lacks the column).
    pub values: Vec<Cell>,
    /// Indices into the runs of this point.
    pub runs: Vec<usize>,
    /// Every numeric metric in column order, with its estimate.
    pub metrics: Vec<(String, Option<Estimate>)>,
}

/// Columns that identify a run rather than measure it.
const NOT_METRICS: &[&str] = &["seed", "replication"];

/// Groups runs by their parameter values and estimates every numeric metric.
pub fn aggregate(runs: &[RunSummary], params: &[ParamSpec]) -> Vec<PointEstimates> {
    let key_of = |r: &RunSummary| -> Vec<Cell> {
        params
            .iter()
            .map(|p| match (r.get(&p.key), p.numeric) {
                (Some(c), _) => c.clone(),
                (None, true) => Cell::Num(None),
                (None, false) => Cell::Text(None),
            })
            .collect()
    };
    let mut groups: Vec<(Vec<Cell>, Vec<usize>)> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let key = key_of(r);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups.sort_by(|a, b| compare_points(&a.0, &b.0, params));

    let mut metric_names: Vec<String> = Vec::new();
    for r in runs {
        for (name, c) in &r.cells {
            let is_param = params.iter().any(|p| &p.key == name);
            if matches!(c, Cell::Num(_)) && !is_param && !NOT_METRICS.contains(&name.as_str()) && !metric_names.contains(name) {
                metric_names.push(name.clone());
            }
        }
    }
    groups
        .into_iter()
        .map(|(values, members)| {
            let metrics = metric_names
                .iter()
                .map(|m| {
                    let v: Vec<f64> = members.iter().filter_map(|&i| runs[i].get(m).and_then(Cell::num)).collect();
                    (m.clone(), Estimate::of(&v))
                })
                .collect();
            PointEstimates { values, runs: members, metrics }
        })
        .collect()
}

fn compare_points(a: &[Cell], b: &[Cell], params: &[ParamSpec]) -> Ordering {
    for ((x, y), p) in a.iter().zip(b).zip(params) {
        let o = match (x, y) {
            (Cell::Num(x), Cell::Num(y)) => match (x, y) {
                (Some(x), Some(y)) => x.total_cmp(y),
                (x, y) => x.is_none().cmp(&y.is_none()),
            },
            (Cell::Text(x), Cell::Text(y)) => {
                let rank = |s: &Option<String>| {
                    let at = s.as_ref().and_then(|s| p.order.iter().position(|o| o == s));
                    (s.is_none(), at.unwrap_or(usize::MAX), s.clone())
                };
                rank(x).cmp(&rank(y))
            }
            (Cell::Num(_), Cell::Text(_)) => Ordering::Less,
            (Cell::Text(_), Cell::Num(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// `report.parquet`: the parameters, then `metric, runs, n, mean, sd,
/// ci95_low, ci95_high`, one row per (point, metric); points in sweep order.
pub fn report_table(params: &[ParamSpec], points: &[PointEstimates]) -> Table {
    let rows: Vec<(&PointEstimates, &String, &Option<Estimate>)> =
        points.iter().flat_map(|p| p.metrics.iter().map(move |(m, e)| (p, m, e))).collect();
    let mut t = Table::default();
    for (i, par) in params.iter().enumerate() {
        let col = if par.numeric {
            Col::OptF64(rows.iter().map(|(p, ..)| p.values[i].num()).collect())
        } else {
            Col::Str(rows.iter().map(|(p, ..)| p.values[i].label()).collect())
        };
        t.push(&par.key, col);
    }
    t.push("metric", Col::Str(rows.iter().map(|(_, m, _)| m.to_string()).collect()));
    t.push("runs", Col::U64(rows.iter().map(|(p, ..)| p.runs.len() as u64).collect()));
    t.push("n", Col::U64(rows.iter().map(|(.., e)| e.map_or(0, |e| e.n)).collect()));
    let opt = |f: fn(&Estimate) -> Option<f64>| Col::OptF64(rows.iter().map(|(.., e)| e.as_ref().and_then(f)).collect());
    t.push("mean", opt(|e| Some(e.mean)));
    t.push("sd", opt(|e| e.sd));
    t.push("ci95_low", opt(|e| e.ci95.map(|h| e.mean - h)));
    t.push("ci95_high", opt(|e| e.ci95.map(|h| e.mean + h)));
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_closed_forms_and_tables() {
        // df 1: tan(0.475 pi); df 2: 0.95 / sqrt(2 * 0.975 * 0.025).
        let df1 = (0.475 * std::f64::consts::PI).tan();
        let df2 = 0.95 / (2.0f64 * 0.975 * 0.025).sqrt();
        assert!((t_quantile_975(1) - df1).abs() < 1e-9, "{}", t_quantile_975(1));
        assert!((t_quantile_975(2) - df2).abs() < 1e-9, "{}", t_quantile_975(2));
        // Printed tables give three decimals.
        for (df, t) in [(3, 3.182), (4, 2.776), (5, 2.571), (10, 2.228), (30, 2.042), (120, 1.980)] {
            assert!((t_quantile_975(df) - t).abs() < 5e-4, "df {df}: {}", t_quantile_975(df));
        }
        // Large df tends to the normal 1.95996.
        assert!((t_quantile_975(100_000) - 1.959_964).abs() < 1e-4);
    }

    #[test]
    fn estimate_of_known_values() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, f64::NAN]).unwrap();
        assert_eq!(e.n, 3);
        assert_eq!(e.mean, 2.0);
        assert_eq!(e.sd, Some(1.0));
        let half = e.ci95.unwrap();
        assert!((half - 4.302_652_7 / 3f64.sqrt()).abs() < 1e-6, "{half}");
        let one = Estimate::of(&[5.0]).unwrap();
        assert_eq!((one.n, one.sd, one.ci95), (1, None, None));
        assert!(Estimate::of(&[]).is_none());
    }

    #[test]
    fn ci_covers_the_mean_at_its_nominal_rate() {
        // 2000 samples of n = 4 from a known distribution (sums of uniforms,
        // close to normal): the 95% interval must cover the true mean in
        // 95% +- 4 sd of a binomial(2000, 0.95) (sd 0.49%) of them.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut uniform = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let trials = 2000;
        let mut covered = 0;
        for _ in 0..trials {
            let v: Vec<f64> = (0..4).map(|_| (0..12).map(|_| uniform()).sum::<f64>()).collect();
            let e = Estimate::of(&v).unwrap();
            if (e.mean - 6.0).abs() <= e.ci95.unwrap() {
                covered += 1;
            }
        }
        let rate = covered as f64 / trials as f64;
        let sd = (0.95f64 * 0.05 / trials as f64).sqrt();
        assert!((rate - 0.95).abs() < 4.0 * sd, "coverage {rate}");
    }

    fn run(cells: &[(&str, Cell)]) -> RunSummary {
        RunSummary { dir: PathBuf::new(), cells: cells.iter().map(|(n, c)| (n.to_string(), c.clone())).collect() }
    }

    #[test]
    fn groups_by_parameters_in_sweep_order() {
        let t = |s: &str| Cell::Text(Some(s.to_string()));
        let n = |x: f64| Cell::Num(Some(x));
        let runs = vec![
            run(&[("seed", n(1.0)), ("mode", t("pool")), ("rate", n(2.0)), ("hop_waste", n(1.0))]),
            run(&[("seed", n(2.0)), ("mode", t("tree")), ("rate", n(2.0)), ("hop_waste", n(2.0))]),
            run(&[("seed", n(1.0)), ("mode", t("tree")), ("rate", n(1.0)), ("hop_waste", n(3.0))]),
            run(&[("seed", n(3.0)), ("mode", t("tree")), ("rate", n(2.0)), ("hop_waste", n(4.0))]),
        ];
        let params = [
            ParamSpec { key: "mode".into(), numeric: false, order: vec!["tree".into(), "pool".into()] },
            ParamSpec { key: "rate".into(), numeric: true, order: vec![] },
        ];
        let points = aggregate(&runs, &params);
        let keys: Vec<String> = points.iter().map(|p| format!("{}/{}", p.values[0].label(), p.values[1].label())).collect();
        assert_eq!(keys, ["tree/1", "tree/2", "pool/2"]);
        assert_eq!(points[1].runs, vec![1, 3]);
        assert_eq!(points[1].metrics.len(), 1, "seed is not a metric, parameters are not metrics");
        assert_eq!(points[1].metrics[0].1.unwrap().mean, 3.0);
        let table = report_table(&params, &points);
        assert_eq!(table.column_names(), ["mode", "rate", "metric", "runs", "n", "mean", "sd", "ci95_low", "ci95_high"]);
        assert_eq!(table.rows(), 3);
    }
}
