//! Two results folders of one scenario, compared metric by metric: the
//! statistics behind `cdnsim compare` and its gates. No file access here;
//! the command pairs the runs and hands over the values.
//!
//! Pairing: with common random numbers a replication uses one seed in both
//! folders, so base run k and new run k see the same arrivals, losses and
//! churn, and their difference carries only the effect of the change plus
//! what the change does to the random streams it touches. The paired
//! interval is Student t on the per-replication differences
//! d_k = new_k - base_k: mean(d) +- t(0.975, n-1) sd(d) / sqrt(n). The
//! unpaired (Welch) interval on the same values is computed beside it; the
//! ratio of the two widths says how much the pairing bought.
//!
//! One replication gives no interval: the verdict is "no change" when the
//! difference is exactly zero (the same code and seed give the same
//! bytes), else "insufficient replications", never a guess.
//!
//! Directions: [`direction`] says, per summary column, whether a larger
//! value is better, worse, or neither (a count of the workload such as
//! `viewers`, or of cdnsim's own effort such as `events`). Only columns
//! with a direction get better / worse verdicts and can be gated.

use crate::report::t_quantile_975;

/// Which way a metric counts as better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    /// Describes the workload or the run, not its quality.
    Neither,
}

impl Direction {
    pub fn label(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher",
            Direction::LowerIsBetter => "lower",
            Direction::Neither => "-",
        }
    }
}

/// Summary columns where more is better.
pub const HIGHER_IS_BETTER: &[&str] = &[
    // Viewer bytes per IDC byte: the point of home nodes and of pulling
    // streams on demand.
    "amplification",
    // Bytes of blocks viewers played per IDC byte: amplification without
    // what arrived after decoding or twice.
    "goodput_amplification",
    // Bytes a home node uploaded per byte it downloaded, all and useful.
    "home_amplification",
    "home_goodput_amplification",
];

/// Summary columns where less is better.
pub const LOWER_IS_BETTER: &[&str] = &[
    // What viewers see.
    "stall_ratio",
    "startup_ms_p50",
    "startup_ms_p95",
    "first_block_ms_p50",
    "first_block_ms_p95",
    "e2e_ms_p50",
    "e2e_ms_p95",
    "stalls",
    "blocks_skipped",
    "decode_failures",
    // What the operator pays for.
    "idc_egress_bytes",
    "internal_bytes",
    "internal_bytes_per_viewer_byte",
    "idc_egress_to_viewers_bytes",
    "idc_egress_to_homes_bytes",
    "idc_egress_relay_bytes",
    "hop_waste",
    "mean_hops",
    "wasted_bytes",
    // Losses and repairs.
    "chunks_lost",
    "chunks_dropped",
    "chunks_given_up",
    "retransmissions",
    // Routing trouble.
    "route_failures",
    "ping_pongs",
    "switch_gaps",
    "switch_replays",
    "blocks_missed",
    "blocks_incomplete",
    "late_chunks",
    // Last-hop trouble.
    "full_mismatches",
    "evictions",
    "sheds",
    "symbols_wasted",
    "feeds_dropped",
    "edge_drops",
    "server_repairs",
    "relayed_connections",
];

/// The direction of a summary column; [`Direction::Neither`] for every
/// column not in the two lists (workload counts such as `viewers`,
/// `blocks_played`, `home_upload_bytes`; effort such as `events`,
/// `route_switches`, `redundant_chunks`).
pub fn direction(metric: &str) -> Direction {
    if HIGHER_IS_BETTER.contains(&metric) {
        Direction::HigherIsBetter
    } else if LOWER_IS_BETTER.contains(&metric) {
        Direction::LowerIsBetter
    } else {
        Direction::Neither
    }
}

/// The paired comparison of one metric at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paired {
    /// Replications where both runs have a value.
    pub n: u64,
    pub base_mean: f64,
    pub new_mean: f64,
    /// Mean of new - base.
    pub diff_mean: f64,
    /// Sample standard deviation of the differences; `None` below two.
    pub diff_sd: Option<f64>,
    /// 95% interval of the mean difference; `None` below two pairs.
    pub ci95: Option<(f64, f64)>,
    /// Every difference is exactly zero.
    pub identical: bool,
}

/// Paired statistics over `(base, new)` values of one replication each;
/// pairs with a missing (non-finite) value on either side are left out.
/// `None` when no pair is complete.
pub fn paired(pairs: &[(f64, f64)]) -> Option<Paired> {
    let v: Vec<(f64, f64)> = pairs.iter().copied().filter(|(b, n)| b.is_finite() && n.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let base_mean = v.iter().map(|p| p.0).sum::<f64>() / n;
    let new_mean = v.iter().map(|p| p.1).sum::<f64>() / n;
    let d: Vec<f64> = v.iter().map(|(b, x)| x - b).collect();
    let diff_mean = d.iter().sum::<f64>() / n;
    let identical = d.iter().all(|x| *x == 0.0);
    let (diff_sd, ci95) = if v.len() < 2 {
        (None, None)
    } else {
        let sd = (d.iter().map(|x| (x - diff_mean) * (x - diff_mean)).sum::<f64>() / (n - 1.0)).sqrt();
        let half = t_quantile_975(v.len() as u64 - 1) * sd / n.sqrt();
        (Some(sd), Some((diff_mean - half, diff_mean + half)))
    };
    Some(Paired { n: v.len() as u64, base_mean, new_mean, diff_mean, diff_sd, ci95, identical })
}

/// The unpaired comparison of two samples (Welch's t).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Welch {
    pub n_base: u64,
    pub n_new: u64,
    pub base_mean: f64,
    pub new_mean: f64,
    pub diff_mean: f64,
    /// Welch-Satterthwaite degrees of freedom; `None` when both samples
    /// have zero spread (the interval is then the point difference).
    pub df: Option<f64>,
    /// 95% interval of new mean - base mean; `None` when a side has fewer
    /// than two values.
    pub ci95: Option<(f64, f64)>,
}

/// Welch's interval for mean(new) - mean(base), non-finite values left
/// out. The t quantile is taken at the Welch-Satterthwaite df rounded
/// down, which widens the interval slightly (conservative). `None` when a
/// side has no value.
pub fn welch(base: &[f64], new: &[f64]) -> Option<Welch> {
    let b: Vec<f64> = base.iter().copied().filter(|x| x.is_finite()).collect();
    let x: Vec<f64> = new.iter().copied().filter(|x| x.is_finite()).collect();
    if b.is_empty() || x.is_empty() {
        return None;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let var = |v: &[f64], m: f64| v.iter().map(|y| (y - m) * (y - m)).sum::<f64>() / (v.len() as f64 - 1.0);
    let (mb, mx) = (mean(&b), mean(&x));
    let diff = mx - mb;
    let (nb, nx) = (b.len() as f64, x.len() as f64);
    let (df, ci95) = if b.len() < 2 || x.len() < 2 {
        (None, None)
    } else {
        let (qb, qx) = (var(&b, mb) / nb, var(&x, mx) / nx);
        let se2 = qb + qx;
        if se2 == 0.0 {
            (None, Some((diff, diff)))
        } else {
            let df = se2 * se2 / (qb * qb / (nb - 1.0) + qx * qx / (nx - 1.0));
            let half = t_quantile_975((df.floor() as u64).max(1)) * se2.sqrt();
            (Some(df), Some((diff - half, diff + half)))
        }
    };
    Some(Welch { n_base: b.len() as u64, n_new: x.len() as u64, base_mean: mb, new_mean: mx, diff_mean: diff, df, ci95 })
}

/// What a comparison concludes about one metric at one point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The interval excludes zero, on the better side.
    Better,
    /// The interval excludes zero, on the worse side.
    Worse,
    /// The interval excludes zero; the metric has no better side.
    Changed,
    /// The interval includes zero.
    NoDetectableChange,
    /// Every paired difference is exactly zero (same bytes).
    NoChange,
    /// One replication with a nonzero difference: no interval to judge by.
    InsufficientReplications,
    /// No run has a value on one side (the metric is null there).
    NoData,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Changed => "changed",
            Verdict::NoDetectableChange => "no detectable change",
            Verdict::NoChange => "no change",
            Verdict::InsufficientReplications => "insufficient replications",
            Verdict::NoData => "no data",
        }
    }

    /// The comparison found a difference (of either sign).
    pub fn flags_change(self) -> bool {
        matches!(self, Verdict::Better | Verdict::Worse | Verdict::Changed)
    }
}

/// The verdict from a difference and its interval. `identical` (every
/// paired difference zero) wins over everything: it is exact.
pub fn verdict(dir: Direction, identical: bool, ci95: Option<(f64, f64)>) -> Verdict {
    if identical {
        return Verdict::NoChange;
    }
    let Some((lo, hi)) = ci95 else {
        return Verdict::InsufficientReplications;
    };
    let up = lo > 0.0;
    if !(up || hi < 0.0) {
        return Verdict::NoDetectableChange;
    }
    match (dir, up) {
        (Direction::Neither, _) => Verdict::Changed,
        (Direction::HigherIsBetter, true) | (Direction::LowerIsBetter, false) => Verdict::Better,
        _ => Verdict::Worse,
    }
}

/// How much worse a gated metric may get.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    /// A fraction of the base mean (`0.5%` is 0.005).
    Relative(f64),
    /// In the metric's own unit (`0.002` of stall ratio, `50` ms).
    Absolute(f64),
}

impl Threshold {
    /// `"0.5%"` (relative) or `"0.002"` (absolute); negative, non-finite
    /// or unparsable values are refused with what was expected.
    pub fn parse(s: &str) -> Result<Threshold, String> {
        let t = s.trim();
        let (num, rel) = match t.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (t, false),
        };
        let x: f64 = num.parse().map_err(|_| {
            format!("expected a worsening allowed, relative to the base mean (\"0.5%\") or absolute in the metric's unit (\"0.002\"), found {s:?}")
        })?;
        if !x.is_finite() || x < 0.0 {
            return Err(format!("expected a threshold of zero or more, found {s:?}"));
        }
        Ok(if rel { Threshold::Relative(x / 100.0) } else { Threshold::Absolute(x) })
    }

    /// The threshold in the metric's unit at a point with this base mean.
    pub fn absolute(self, base_mean: f64) -> f64 {
        match self {
            Threshold::Relative(f) => f * base_mean.abs(),
            Threshold::Absolute(a) => a,
        }
    }

    pub fn label(self) -> String {
        match self {
            Threshold::Relative(f) => format!("{}%", f * 100.0),
            Threshold::Absolute(a) => format!("{a}"),
        }
    }
}

/// A gate: `metric` may not get worse by more than `threshold`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    pub metric: String,
    pub threshold: Threshold,
}

impl Gate {
    /// `METRIC:MAX_WORSENING`, e.g. `stall_ratio:0.5%`. The metric must
    /// have a direction (worse must mean something).
    pub fn parse(spec: &str) -> Result<Gate, String> {
        let Some((metric, thr)) = spec.rsplit_once(':') else {
            return Err(format!("expected METRIC:MAX_WORSENING such as stall_ratio:0.5% or stall_ratio:0.002, found {spec:?}"));
        };
        Gate::new(metric.trim(), Threshold::parse(thr)?)
    }

    pub fn new(metric: &str, threshold: Threshold) -> Result<Gate, String> {
        if direction(metric) == Direction::Neither {
            return Err(format!(
                "{metric:?} has no better direction, so it cannot get worse; gate one of: {}",
                HIGHER_IS_BETTER.iter().chain(LOWER_IS_BETTER).copied().collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(Gate { metric: metric.to_string(), threshold })
    }
}

/// A gate's outcome at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GateOutcome {
    /// Not worse beyond the threshold with 95% confidence.
    Pass,
    /// Worse beyond the threshold: the whole interval of the worsening
    /// (in the metric's unit, positive = worse) lies above `threshold`.
    Fail { worsening: (f64, f64), threshold: f64 },
    /// A nonzero difference and no interval (one replication).
    CannotJudge,
}

/// Evaluates a gate from the base mean and the interval of new - base.
pub fn evaluate_gate(gate: &Gate, base_mean: f64, identical: bool, ci95: Option<(f64, f64)>) -> GateOutcome {
    if identical {
        return GateOutcome::Pass;
    }
    let Some((lo, hi)) = ci95 else {
        return GateOutcome::CannotJudge;
    };
    let worsening = match direction(&gate.metric) {
        Direction::LowerIsBetter => (lo, hi),
        _ => (-hi, -lo),
    };
    let threshold = gate.threshold.absolute(base_mean);
    if worsening.0 > threshold { GateOutcome::Fail { worsening, threshold } } else { GateOutcome::Pass }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_interval_of_known_differences() {
        // Differences 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.302653.
        let p = paired(&[(10.0, 11.0), (20.0, 22.0), (30.0, 33.0), (f64::NAN, 1.0)]).unwrap();
        assert_eq!((p.n, p.base_mean, p.new_mean, p.diff_mean, p.diff_sd), (3, 20.0, 22.0, 2.0, Some(1.0)));
        let (lo, hi) = p.ci95.unwrap();
        let half = 4.302_652_7 / 3f64.sqrt();
        assert!((lo - (2.0 - half)).abs() < 1e-6 && (hi - (2.0 + half)).abs() < 1e-6, "{lo} {hi}");
        assert!(!p.identical);
        let one = paired(&[(1.0, 1.5)]).unwrap();
        assert_eq!((one.n, one.ci95, one.identical), (1, None, false));
        assert!(paired(&[(f64::NAN, 1.0)]).is_none());
    }

    #[test]
    fn welch_matches_a_hand_computation() {
        // base 1,2,3 (var 1), new 2,4,6,8 (var 20/3): se^2 = 1/3 + 5/3 = 2;
        // df = 4 / ((1/9)/2 + (25/9)/3) = 4 / (1/18 + 25/27) = 4.0755 -> 4;
        // t(0.975, 4) = 2.776445.
        let w = welch(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0, 8.0]).unwrap();
        assert_eq!(w.diff_mean, 3.0);
        let df = 4.0 / (1.0 / 18.0 + 25.0 / 27.0);
        assert!((w.df.unwrap() - df).abs() < 1e-12);
        let (lo, hi) = w.ci95.unwrap();
        let half = 2.776_445 * 2f64.sqrt();
        assert!((hi - lo - 2.0 * half).abs() < 1e-5, "{lo} {hi}");
        assert!(welch(&[1.0], &[1.0, 2.0]).unwrap().ci95.is_none());
        assert_eq!(welch(&[1.0, 1.0], &[2.0, 2.0]).unwrap().ci95, Some((1.0, 1.0)));
    }

    #[test]
    fn verdicts_follow_the_direction() {
        use Direction::*;
        let up = Some((0.1, 0.3));
        let down = Some((-0.3, -0.1));
        let across = Some((-0.1, 0.3));
        assert_eq!(verdict(HigherIsBetter, false, up), Verdict::Better);
        assert_eq!(verdict(HigherIsBetter, false, down), Verdict::Worse);
        assert_eq!(verdict(LowerIsBetter, false, up), Verdict::Worse);
        assert_eq!(verdict(LowerIsBetter, false, down), Verdict::Better);
        assert_eq!(verdict(Neither, false, up), Verdict::Changed);
        assert_eq!(verdict(LowerIsBetter, false, across), Verdict::NoDetectableChange);
        assert_eq!(verdict(LowerIsBetter, true, None), Verdict::NoChange);
        assert_eq!(verdict(LowerIsBetter, false, None), Verdict::InsufficientReplications);
        assert_eq!(direction("amplification"), HigherIsBetter);
        assert_eq!(direction("stall_ratio"), LowerIsBetter);
        assert_eq!(direction("viewers"), Neither);
    }

    #[test]
    fn gates_fail_only_when_the_whole_interval_is_beyond_the_threshold() {
        let g = Gate::parse("stall_ratio:10%").unwrap();
        assert_eq!(g.threshold, Threshold::Relative(0.1));
        // Base 1.0: threshold 0.1 absolute.
        assert_eq!(evaluate_gate(&g, 1.0, false, Some((0.11, 0.2))), GateOutcome::Fail { worsening: (0.11, 0.2), threshold: 0.1 });
        assert_eq!(evaluate_gate(&g, 1.0, false, Some((0.09, 0.2))), GateOutcome::Pass);
        assert_eq!(evaluate_gate(&g, 1.0, false, Some((-0.5, -0.2))), GateOutcome::Pass);
        assert_eq!(evaluate_gate(&g, 1.0, false, None), GateOutcome::CannotJudge);
        assert_eq!(evaluate_gate(&g, 1.0, true, None), GateOutcome::Pass);
        // Higher is better: a fall is the worsening.
        let a = Gate::parse("amplification:0.5").unwrap();
        assert_eq!(evaluate_gate(&a, 3.0, false, Some((-0.9, -0.6))), GateOutcome::Fail { worsening: (0.6, 0.9), threshold: 0.5 });
        assert_eq!(evaluate_gate(&a, 3.0, false, Some((0.6, 0.9))), GateOutcome::Pass);
        assert!(Gate::parse("viewers:1%").unwrap_err().contains("no better direction"));
        assert!(Gate::parse("stall_ratio").is_err());
        assert!(Gate::parse("stall_ratio:-1%").is_err());
        assert!(Gate::parse("stall_ratio:abc").is_err());
    }
}
