//! Link scoring: a logistic function of delay, loss and retransmission rate
//! gives a score of 0-100 (the predicted KPI, x100), fitted from a table of
//! (observations, KPI) with Newton's method; observations are smoothed over
//! time per link.

use cdnsim_maths::{exp, ln_1p};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{ParamError, require};

/// What a probe measured on one link.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    /// One-way delay.
    pub delay_us: u32,
    /// Packet loss, a fraction in [0, 1].
    pub loss: f64,
    /// Share of packets retransmitted, a fraction in [0, 1].
    pub retransmit_rate: f64,
}

/// `score = 100 / (1 + exp(-z))` with
/// `z = intercept + per_delay_ms * delay_ms + per_loss * loss + per_retransmit * retransmit_rate`
/// (loss and retransmit rate as fractions). The score is the predicted KPI
/// (a share in 0..1 such as sessions without a stall) times 100.
///
/// The defaults are estimates, to be replaced by [`ScoreFn::fit`] on
/// measured data: 99.1 at 10 ms and no loss, 95.0 at 100 ms, 48.6 at 100 ms
/// with 3% loss and 3% retransmissions.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreFn {
    /// Logistic argument at zero delay, loss and retransmissions.
    pub intercept: f64,
    /// Change of the argument per millisecond of one-way delay.
    pub per_delay_ms: f64,
    /// Change of the argument per unit of loss (fraction).
    pub per_loss: f64,
    /// Change of the argument per unit of retransmit rate (fraction).
    pub per_retransmit: f64,
}

impl Default for ScoreFn {
    fn default() -> Self {
        ScoreFn { intercept: 4.944, per_delay_ms: -0.02, per_loss: -70.0, per_retransmit: -30.0 }
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 { 1.0 / (1.0 + exp(-z)) } else { exp(z) / (1.0 + exp(z)) }
}

/// ln(1 + e^z) without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 { z + ln_1p(exp(-z)) } else { ln_1p(exp(z)) }
}

/// A fraction clamped to [0, 1]; anything not finite counts as the worst, 1.
fn fraction(x: f64) -> f64 {
    if x.is_finite() { x.clamp(0.0, 1.0) } else { 1.0 }
}

impl ScoreFn {
    /// The logistic argument for an observation. Loss and retransmit rate
    /// are clamped to [0, 1]; a value that is not finite counts as 1.
    pub fn logit(&self, obs: &Observation) -> f64 {
        self.intercept
            + self.per_delay_ms * (obs.delay_us as f64 / 1000.0)
            + self.per_loss * fraction(obs.loss)
            + self.per_retransmit * fraction(obs.retransmit_rate)
    }

    /// Score 0-100 of an observation.
    pub fn score(&self, obs: &Observation) -> f64 {
        100.0 * sigmoid(self.logit(obs))
    }

    /// Every coefficient finite.
    pub fn validate(&self) -> Result<(), ParamError> {
        for (name, v) in [
            ("intercept", self.intercept),
            ("per_delay_ms", self.per_delay_ms),
            ("per_loss", self.per_loss),
            ("per_retransmit", self.per_retransmit),
        ] {
            require(v.is_finite(), name, "a finite number", v)?;
        }
        Ok(())
    }

    /// Maximum-likelihood logistic fit of `samples` (observation, KPI in
    /// [0, 1]) by Newton's method (IRLS) with step halving. KPIs may be
    /// fractions (the binomial quasi-likelihood). A feature that does not
    /// vary across the samples cannot be estimated: its coefficient is 0 and
    /// the intercept absorbs it.
    ///
    /// Features are standardised for the iterations and the coefficients
    /// mapped back, so delay in ms and loss fractions are equally well
    /// conditioned.
    pub fn fit(samples: &[(Observation, f64)]) -> Result<ScoreFn, FitError> {
        const MAX_ITERATIONS: usize = 100;
        for (i, (obs, kpi)) in samples.iter().enumerate() {
            for (field, v) in [("kpi", *kpi), ("loss", obs.loss), ("retransmit_rate", obs.retransmit_rate)] {
                if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                    return Err(FitError::BadSample { index: i, field, value: v });
                }
            }
        }
        let raw = |obs: &Observation| [obs.delay_us as f64 / 1000.0, obs.loss, obs.retransmit_rate];
        let m = samples.len() as f64;
        let mut mean = [0.0; 3];
        let mut sd = [0.0; 3];
        for (obs, _) in samples {
            for (j, x) in raw(obs).into_iter().enumerate() {
                mean[j] += x / m;
            }
        }
        for (obs, _) in samples {
            for (j, x) in raw(obs).into_iter().enumerate() {
                sd[j] += (x - mean[j]) * (x - mean[j]) / m;
            }
        }
        // Columns kept: the intercept and every feature that varies.
        let mut cols: Vec<usize> = Vec::new();
        for j in 0..3 {
            sd[j] = sd[j].sqrt();
            if sd[j] > 1e-12 * mean[j].abs().max(1.0) {
                cols.push(j);
            }
        }
        let k = cols.len() + 1;
        if samples.len() < k.max(2) {
            return Err(FitError::TooFewSamples { needed: k.max(2), found: samples.len() });
        }
        let rows: Vec<(Vec<f64>, f64)> = samples
            .iter()
            .map(|(obs, y)| {
                let x = raw(obs);
                let mut row = vec![1.0];
                row.extend(cols.iter().map(|&j| (x[j] - mean[j]) / sd[j]));
                (row, *y)
            })
            .collect();
        let dot = |b: &[f64], x: &[f64]| b.iter().zip(x).map(|(b, x)| b * x).sum::<f64>();
        let neg_loglik = |b: &[f64]| {
            rows.iter()
                .map(|(x, y)| {
                    let z = dot(b, x);
                    y * softplus(-z) + (1.0 - y) * softplus(z)
                })
                .sum::<f64>()
        };

        let mut b = vec![0.0; k];
        let mut nll = neg_loglik(&b);
        let mut converged = false;
        for _ in 0..MAX_ITERATIONS {
            let mut grad = vec![0.0; k];
            let mut hess = vec![vec![0.0; k]; k];
            for (x, y) in &rows {
                let p = sigmoid(dot(&b, x));
                let w = p * (1.0 - p);
                for r in 0..k {
                    grad[r] += (y - p) * x[r];
                    for c in 0..k {
                        hess[r][c] += w * x[r] * x[c];
                    }
                }
            }
            let step = solve(hess, grad).ok_or(FitError::Singular)?;
            let mut t = 1.0;
            let mut accepted = None;
            for _ in 0..40 {
                let trial: Vec<f64> = b.iter().zip(&step).map(|(b, s)| b + t * s).collect();
                let trial_nll = neg_loglik(&trial);
                if trial_nll <= nll + 1e-12 * nll.abs().max(1.0) {
                    accepted = Some((trial, trial_nll));
                    break;
                }
                t /= 2.0;
            }
            let Some((next, next_nll)) = accepted else { break };
            let moved = step.iter().map(|s| (t * s).abs()).fold(0.0, f64::max);
            b = next;
            nll = next_nll;
            if b.iter().any(|v| v.abs() > 50.0) {
                // Standardised coefficients this large mean the KPI is
                // (almost) perfectly separated: the MLE does not exist.
                return Err(FitError::Separated);
            }
            if moved < 1e-10 {
                converged = true;
                break;
            }
        }
        if !converged {
            return Err(FitError::NotConverged { iterations: MAX_ITERATIONS });
        }
        let mut coef = [0.0; 3];
        let mut intercept = b[0];
        for (c, &j) in cols.iter().enumerate() {
            coef[j] = b[c + 1] / sd[j];
            intercept -= coef[j] * mean[j];
        }
        Ok(ScoreFn { intercept, per_delay_ms: coef[0], per_loss: coef[1], per_retransmit: coef[2] })
    }
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None`
/// when `a` is singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    let scale = a.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].is_nan() || a[pivot][col].abs() <= 1e-13 * scale {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, below) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (k, row) in below.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + k] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

/// Why [`ScoreFn::fit`] failed.
#[derive(Clone, Debug, PartialEq)]
pub enum FitError {
    /// Fewer samples than coefficients to estimate.
    TooFewSamples {
        /// Samples needed.
        needed: usize,
        /// Samples given.
        found: usize,
    },
    /// A KPI, loss or retransmit rate outside [0, 1] or not finite.
    BadSample {
        /// Position in the samples.
        index: usize,
        /// `kpi`, `loss` or `retransmit_rate`.
        field: &'static str,
        /// The value found.
        value: f64,
    },
    /// The features are collinear (for example delay and loss move
    /// together exactly): the coefficients are not identifiable.
    Singular,
    /// A combination of features separates good from bad KPIs perfectly, so
    /// the likelihood has no maximum.
    Separated,
    /// Newton's method did not settle.
    NotConverged {
        /// Iterations run.
        iterations: usize,
    },
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::TooFewSamples { needed, found } => write!(f, "need at least {needed} samples, found {found}"),
            FitError::BadSample { index, field, value } => {
                write!(f, "samples[{index}].{field}: expected a fraction in [0, 1], found {value}")
            }
            FitError::Singular => write!(f, "the features are collinear; their coefficients cannot be told apart"),
            FitError::Separated => write!(f, "the KPI is perfectly separated by the features; the fit has no maximum"),
            FitError::NotConverged { iterations } => {
                write!(f, "Newton's method did not converge in {iterations} iterations")
            }
        }
    }
}

impl std::error::Error for FitError {}

/// The time-smoothed score of one link: a decaying weighted mean of the
/// scores of its observations, each observation's weight halving every
/// `half_life_us`. Observations at the same instant are averaged. Before
/// the first observation the score is `prior`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Smoothed {
    prior: f64,
    sum_w: f64,
    sum_wx: f64,
    last_us: u64,
}

impl Smoothed {
    pub(crate) fn new(prior: f64) -> Self {
        Smoothed { prior, sum_w: 0.0, sum_wx: 0.0, last_us: 0 }
    }

    pub(crate) fn add(&mut self, now_us: u64, score: f64, half_life_us: u64) {
        // Observations passed in out of order count as simultaneous.
        let dt = now_us.saturating_sub(self.last_us);
        let decay = if dt == 0 || self.sum_w == 0.0 {
            1.0
        } else if half_life_us == 0 {
            0.0
        } else {
            exp(-(dt as f64 / half_life_us as f64) * std::f64::consts::LN_2)
        };
        self.sum_w = self.sum_w * decay + 1.0;
        self.sum_wx = self.sum_wx * decay + score;
        self.last_us = self.last_us.max(now_us);
    }

    pub(crate) fn value(&self) -> f64 {
        if self.sum_w == 0.0 { self.prior } else { self.sum_wx / self.sum_w }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(delay_ms: f64, loss: f64, retx: f64) -> Observation {
        Observation { delay_us: (delay_ms * 1000.0) as u32, loss, retransmit_rate: retx }
    }

    #[test]
    fn default_matches_its_documentation() {
        let f = ScoreFn::default();
        assert!((f.score(&obs(10.0, 0.0, 0.0)) - 99.1).abs() < 0.05);
        assert!((f.score(&obs(100.0, 0.0, 0.0)) - 95.0).abs() < 0.05);
        assert!((f.score(&obs(100.0, 0.03, 0.03)) - 48.6).abs() < 0.05);
        // Garbage counts as the worst case, never as NaN.
        assert!(f.score(&obs(10.0, f64::NAN, 0.0)) < 1.0);
    }

    /// A grid of observations covering delay, loss and retransmissions
    /// independently.
    fn design() -> Vec<Observation> {
        let mut v = Vec::new();
        for d in [5.0, 20.0, 60.0, 120.0, 250.0] {
            for l in [0.0, 0.005, 0.01, 0.03, 0.06] {
                for r in [0.0, 0.01, 0.04] {
                    v.push(obs(d, l, r));
                }
            }
        }
        v
    }

    #[test]
    fn fit_recovers_exact_coefficients() {
        let truth = ScoreFn { intercept: 3.0, per_delay_ms: -0.015, per_loss: -60.0, per_retransmit: -25.0 };
        let samples: Vec<_> = design().into_iter().map(|o| (o, truth.score(&o) / 100.0)).collect();
        let fit = ScoreFn::fit(&samples).unwrap();
        assert!((fit.intercept - 3.0).abs() < 1e-7, "{fit:?}");
        assert!((fit.per_delay_ms + 0.015).abs() < 1e-9, "{fit:?}");
        assert!((fit.per_loss + 60.0).abs() < 1e-6, "{fit:?}");
        assert!((fit.per_retransmit + 25.0).abs() < 1e-6, "{fit:?}");
    }

    /// KPIs measured as the share of n sessions without a stall: binomial
    /// noise. The estimates must lie within 4 standard errors of the truth,
    /// the standard errors from the Fisher information at the truth,
    /// I = n * sum p(1-p) x x^T (a 4-sigma band fails with probability
    /// below 1e-4 per coefficient).
    #[test]
    fn fit_is_within_its_standard_errors_under_binomial_noise() {
        let truth = ScoreFn { intercept: 2.5, per_delay_ms: -0.01, per_loss: -50.0, per_retransmit: -20.0 };
        let sessions = 400u32;
        let mut rng = crate::graph::SplitMix::new(17);
        let mut samples = Vec::new();
        let mut info = vec![vec![0.0; 4]; 4];
        for _ in 0..4 {
            for o in design() {
                let p = truth.score(&o) / 100.0;
                let ok = (0..sessions).filter(|_| rng.unit() < p).count();
                samples.push((o, ok as f64 / sessions as f64));
                let x = [1.0, o.delay_us as f64 / 1000.0, o.loss, o.retransmit_rate];
                for r in 0..4 {
                    for c in 0..4 {
                        info[r][c] += sessions as f64 * p * (1.0 - p) * x[r] * x[c];
                    }
                }
            }
        }
        let fit = ScoreFn::fit(&samples).unwrap();
        let est = [fit.intercept, fit.per_delay_ms, fit.per_loss, fit.per_retransmit];
        let tru = [truth.intercept, truth.per_delay_ms, truth.per_loss, truth.per_retransmit];
        for j in 0..4 {
            let mut e = vec![0.0; 4];
            e[j] = 1.0;
            let col = solve(info.clone(), e).unwrap();
            let se = col[j].sqrt();
            assert!((est[j] - tru[j]).abs() < 4.0 * se, "coefficient {j}: {} vs {} (se {se})", est[j], tru[j]);
        }
    }

    #[test]
    fn constant_feature_gets_zero_and_bad_input_is_named() {
        let truth = ScoreFn { intercept: 3.0, per_delay_ms: -0.02, per_loss: -40.0, per_retransmit: 0.0 };
        let samples: Vec<_> = design()
            .into_iter()
            .map(|o| Observation { retransmit_rate: 0.0, ..o })
            .map(|o| (o, truth.score(&o) / 100.0))
            .collect();
        let fit = ScoreFn::fit(&samples).unwrap();
        assert_eq!(fit.per_retransmit, 0.0);
        assert!((fit.per_loss + 40.0).abs() < 1e-6);

        let mut bad = samples.clone();
        bad[5].1 = 1.5;
        assert_eq!(ScoreFn::fit(&bad), Err(FitError::BadSample { index: 5, field: "kpi", value: 1.5 }));
        assert!(matches!(ScoreFn::fit(&samples[..1]), Err(FitError::TooFewSamples { .. })));
        // Delay alone decides: every sample under 50 ms is perfect, every
        // one above is a failure.
        let separated: Vec<_> =
            design().into_iter().map(|o| (o, if o.delay_us < 50_000 { 1.0 } else { 0.0 })).collect();
        assert_eq!(ScoreFn::fit(&separated), Err(FitError::Separated));
    }

    #[test]
    fn smoothing_halves_the_weight_every_half_life() {
        let mut s = Smoothed::new(90.0);
        assert_eq!(s.value(), 90.0);
        s.add(1_000, 80.0, 10_000);
        assert_eq!(s.value(), 80.0);
        // One half-life later: weights 0.5 (old) and 1 (new).
        s.add(11_000, 20.0, 10_000);
        assert!((s.value() - (0.5 * 80.0 + 20.0) / 1.5).abs() < 1e-9);
        // Same instant: averaged with the others at full weight.
        s.add(11_000, 20.0, 10_000);
        assert!((s.value() - (0.5 * 80.0 + 40.0) / 2.5).abs() < 1e-9);
        let mut z = Smoothed::new(90.0);
        z.add(1, 70.0, 0);
        z.add(2, 30.0, 0);
        assert_eq!(z.value(), 30.0);
    }
}
