//! Availability churn: a home node alternates between online (on) and
//! offline (off) sessions whose lengths are independent draws from two
//! distributions, an alternating renewal process.
//!
//! The process starts in steady state, so that a run does not begin with a
//! transient in which every node is online or every session is fresh. In an
//! alternating renewal process in equilibrium, the node is on with
//! probability `E[on] / (E[on] + E[off])`, and the time left in the current
//! session (the residual) has the equilibrium density `S(x) / E[X]`, where S
//! is the survival function of the session length X. [`SessionDist`]
//! samples that residual exactly for each of its four families (see
//! [`SessionDist::sample_residual`]), so the start is exact, not
//! approximate: the on-probability is `E[on] / (E[on] + E[off])` at every
//! instant from time zero on.

use cdnsim_engine::{SimDuration, SimTime};
use cdnsim_maths::sample;
use cdnsim_maths::{exp, gamma, powf};
use rand::Rng;

use crate::param::{ParamError, require};

/// Distribution of a session length. Parameters are stored in ns (f64).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "distribution", rename_all = "lowercase")]
pub enum SessionDist {
    /// Memoryless: the classic assumption, and the one measured P2P churn
    /// contradicts (Stutzbach & Rejaie, IMC 2006;
    /// docs/references.md, Session lengths).
    #[non_exhaustive]
    Exponential { mean_ns: f64 },
    /// Survival exp(-(x / scale)^shape); shape < 1 is heavy-tailed.
    #[non_exhaustive]
    Weibull { shape: f64, scale_ns: f64 },
    /// exp(N(ln median, sigma^2)).
    #[non_exhaustive]
    LogNormal { median_ns: f64, sigma: f64 },
    /// Survival (scale / x)^shape for x >= scale; shape > 1 for a finite
    /// mean.
    #[non_exhaustive]
    Pareto { scale_ns: f64, shape: f64 },
}

fn positive_duration(d: SimDuration, param: &str) -> Result<f64, ParamError> {
    require(d.as_ns() > 0, param, "a positive duration", d)?;
    Ok(d.as_ns() as f64)
}

fn positive_finite(x: f64, param: &str) -> Result<f64, ParamError> {
    require(x.is_finite() && x > 0.0, param, "a finite value > 0", x)?;
    Ok(x)
}

/// A sampled length in ns as a duration of at least 1 ns: a zero-length
/// session would put two transitions of one node at the same instant for
/// no modelling gain. Huge values saturate, NaN gives 1 ns.
fn to_duration(ns: f64) -> SimDuration {
    SimDuration::from_ns(ns.round().max(1.0) as u64)
}

impl SessionDist {
    pub fn exponential(mean: SimDuration) -> Result<Self, ParamError> {
        Ok(SessionDist::Exponential { mean_ns: positive_duration(mean, "mean")? })
    }

    pub fn weibull(shape: f64, scale: SimDuration) -> Result<Self, ParamError> {
        let d = SessionDist::Weibull {
            shape: positive_finite(shape, "shape")?,
            scale_ns: positive_duration(scale, "scale")?,
        };
        d.check_finite_mean("shape")
    }

    /// Weibull with the given shape and mean: scale = mean / Gamma(1 + 1/shape).
    pub fn weibull_with_mean(shape: f64, mean: SimDuration) -> Result<Self, ParamError> {
        let shape = positive_finite(shape, "shape")?;
        let mean_ns = positive_duration(mean, "mean")?;
        let scale_ns = mean_ns / gamma(1.0 + 1.0 / shape);
        require(scale_ns.is_finite() && scale_ns > 0.0, "shape", "a shape giving a finite mean", shape)?;
        Ok(SessionDist::Weibull { shape, scale_ns })
    }

    pub fn log_normal(median: SimDuration, sigma: f64) -> Result<Self, ParamError> {
        require(sigma.is_finite() && sigma >= 0.0, "sigma", "a finite value >= 0", sigma)?;
        let d = SessionDist::LogNormal { median_ns: positive_duration(median, "median")?, sigma };
        d.check_finite_mean("sigma")
    }

    /// Log-normal with the given mean and sigma: median = mean e^(-sigma^2/2).
    pub fn log_normal_with_mean(mean: SimDuration, sigma: f64) -> Result<Self, ParamError> {
        require(sigma.is_finite() && sigma >= 0.0, "sigma", "a finite value >= 0", sigma)?;
        let median_ns = positive_duration(mean, "mean")? * exp(-sigma * sigma / 2.0);
        require(median_ns > 0.0, "sigma", "a sigma small enough for a positive median", sigma)?;
        Ok(SessionDist::LogNormal { median_ns, sigma })
    }

    /// Pareto; `shape` must exceed 1, or the mean (and the steady state)
    /// would not exist.
    pub fn pareto(scale: SimDuration, shape: f64) -> Result<Self, ParamError> {
        require(shape.is_finite() && shape > 1.0, "shape", "a finite shape > 1 (finite mean)", shape)?;
        Ok(SessionDist::Pareto { scale_ns: positive_duration(scale, "scale")?, shape })
    }

    /// Pareto with the given mean and shape: scale = mean (shape - 1) / shape.
    pub fn pareto_with_mean(mean: SimDuration, shape: f64) -> Result<Self, ParamError> {
        require(shape.is_finite() && shape > 1.0, "shape", "a finite shape > 1 (finite mean)", shape)?;
        let scale_ns = positive_duration(mean, "mean")? * (shape - 1.0) / shape;
        Ok(SessionDist::Pareto { scale_ns, shape })
    }

    fn check_finite_mean(self, param: &str) -> Result<Self, ParamError> {
        let m = self.mean_ns();
        require(m.is_finite(), param, "a value giving a finite mean", format!("mean {m} ns"))?;
        Ok(self)
    }

    /// `E[X]`, in closed form.
    pub fn mean_ns(&self) -> f64 {
        match *self {
            SessionDist::Exponential { mean_ns } => mean_ns,
            SessionDist::Weibull { shape, scale_ns } => scale_ns * gamma(1.0 + 1.0 / shape),
            SessionDist::LogNormal { median_ns, sigma } => median_ns * exp(sigma * sigma / 2.0),
            SessionDist::Pareto { scale_ns, shape } => shape * scale_ns / (shape - 1.0),
        }
    }

    /// `E[X^2]` in ns^2, in closed form; infinite for Pareto with shape <= 2.
    pub fn second_moment_ns2(&self) -> f64 {
        match *self {
            SessionDist::Exponential { mean_ns } => 2.0 * mean_ns * mean_ns,
            SessionDist::Weibull { shape, scale_ns } => scale_ns * scale_ns * gamma(1.0 + 2.0 / shape),
            SessionDist::LogNormal { median_ns, sigma } => median_ns * median_ns * exp(2.0 * sigma * sigma),
            SessionDist::Pareto { scale_ns, shape } if shape > 2.0 => shape * scale_ns * scale_ns / (shape - 2.0),
            SessionDist::Pareto { .. } => f64::INFINITY,
        }
    }

    /// Mean of the equilibrium residual, `E[X^2] / (2 E[X])`: the mean time
    /// left in the session a random instant falls into (longer than the
    /// mean session for anything more variable than exponential).
    pub fn residual_mean_ns(&self) -> f64 {
        self.second_moment_ns2() / (2.0 * self.mean_ns())
    }

    /// One session length. Never panics, whatever the parameters.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let ns = match *self {
            SessionDist::Exponential { mean_ns } => mean_ns * sample::exp1(rng),
            SessionDist::Weibull { shape, scale_ns } => sample::weibull(rng, shape, scale_ns),
            SessionDist::LogNormal { median_ns, sigma } => median_ns * exp(sigma * sample::standard_normal(rng)),
            SessionDist::Pareto { scale_ns, shape } => sample::pareto(rng, shape, scale_ns),
        };
        to_duration(ns)
    }

    /// One draw of the equilibrium residual (density `S(x) / E[X]`), exactly,
    /// per family:
    /// - exponential: the distribution itself (memoryless);
    /// - Weibull: with s = (x / scale)^shape the residual's CDF is the
    ///   regularised lower incomplete gamma P(1/shape, s), so the residual
    ///   is scale G^(1/shape) with G ~ Gamma(1/shape, 1);
    /// - log-normal: a residual is U times a length-biased draw (U uniform
    ///   on [0, 1), independent); the length-biased log-normal is
    ///   log-normal with ln median raised by sigma^2;
    /// - Pareto (scale m, shape a): the residual's CDF is `x / E[X]` below m
    ///   (mass (a - 1) / a) and 1 - (m / x)^(a - 1) / a above, inverted in
    ///   closed form from one uniform draw.
    pub fn sample_residual<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let ns = match *self {
            SessionDist::Exponential { .. } => return self.sample(rng),
            SessionDist::Weibull { shape, scale_ns } => {
                scale_ns * powf(sample::gamma(rng, 1.0 / shape, 1.0), 1.0 / shape)
            }
            SessionDist::LogNormal { median_ns, sigma } => {
                let u: f64 = rng.random();
                let z = sample::standard_normal(rng);
                u * median_ns * exp(sigma * sigma + sigma * z)
            }
            SessionDist::Pareto { scale_ns, shape } => {
                let u: f64 = rng.random();
                let below = (shape - 1.0) / shape;
                if u < below {
                    u * self.mean_ns()
                } else {
                    // 1 - u is in (0, 1 / shape], so the power is >= 1.
                    scale_ns * powf(shape * (1.0 - u), -1.0 / (shape - 1.0))
                }
            }
        };
        to_duration(ns)
    }
}

/// The on- and off-session distributions of a class of nodes (shared; the
/// per-node state is [`OnOff`]).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct OnOffDist {
    on: SessionDist,
    off: SessionDist,
}

impl OnOffDist {
    /// Both distributions are valid (finite, positive means) by
    /// construction, so this cannot fail.
    pub fn new(on: SessionDist, off: SessionDist) -> Self {
        OnOffDist { on, off }
    }

    pub fn on(&self) -> &SessionDist {
        &self.on
    }

    pub fn off(&self) -> &SessionDist {
        &self.off
    }

    /// Long-run share of time online: `E[on] / (E[on] + E[off])`.
    pub fn availability(&self) -> f64 {
        let (on, off) = (self.on.mean_ns(), self.off.mean_ns());
        on / (on + off)
    }
}

impl Default for OnOffDist {
    /// Home boxes. On-sessions: Weibull with shape 0.59, the upper end of
    /// the 0.34-0.59 Stutzbach & Rejaie measured for P2P session lengths
    /// (IMC 2006; 0.59 is their BitTorrent "FlatOut" torrent;
    /// docs/references.md, Session lengths): an always-on box is at the
    /// stable end of what user-driven clients show, but its sessions are
    /// still heavy-tailed. Mean 12 h (est.: reboots, power cuts, PPPoE
    /// redials a few times a day on some boxes, weeks of uptime on
    /// others). Off-sessions: exponential, mean 30 min (est.: no
    /// measured source; most outages are a reboot or a redial).
    /// Availability 12 / 12.5 = 96%.
    fn default() -> Self {
        OnOffDist::new(
            SessionDist::weibull_with_mean(0.59, SimDuration::from_secs(12 * 3600))
                .expect("default on-session is valid"),
            SessionDist::exponential(SimDuration::from_secs(30 * 60)).expect("default off-session is valid"),
        )
    }
}

/// Per-node state of the on/off process (16 bytes): whether the node is
/// online and when that changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnOff {
    next: SimTime,
    on: bool,
}

impl OnOff {
    /// A process in a known state, e.g. a node switched on at `now` with a
    /// fresh session: `OnOff::new(true, now + dist.on().sample(rng))`.
    pub fn new(on: bool, next_transition_at: SimTime) -> Self {
        OnOff { next: next_transition_at, on }
    }

    /// The process in steady state at `now`: online with probability
    /// [`OnOffDist::availability`], and the current session's remaining
    /// length drawn from its equilibrium residual distribution (exact, see
    /// the module docs).
    pub fn stationary<R: Rng + ?Sized>(now: SimTime, dist: &OnOffDist, rng: &mut R) -> Self {
        let on = rng.random::<f64>() < dist.availability();
        let session = if on { &dist.on } else { &dist.off };
        OnOff { next: now + session.sample_residual(rng), on }
    }

    pub fn is_on(&self) -> bool {
        self.on
    }

    pub fn next_transition_at(&self) -> SimTime {
        self.next
    }

    /// The transition due at `now` (= [`OnOff::next_transition_at`]): flips
    /// the state, draws the new session, and returns when it ends.
    pub fn next_transition<R: Rng + ?Sized>(&mut self, now: SimTime, dist: &OnOffDist, rng: &mut R) -> SimTime {
        debug_assert_eq!(now, self.next, "on/off transition handled at the wrong time");
        self.on = !self.on;
        let session = if self.on { &dist.on } else { &dist.off };
        self.next = now + session.sample(rng);
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdnsim_engine::stream;

    const H: SimDuration = SimDuration::from_secs(3600);

    #[test]
    fn constructors_reject_bad_parameters() {
        let z = SimDuration::ZERO;
        assert_eq!(SessionDist::exponential(z).unwrap_err().param, "mean");
        assert_eq!(SessionDist::weibull(0.0, H).unwrap_err().param, "shape");
        assert_eq!(SessionDist::weibull(f64::NAN, H).unwrap_err().param, "shape");
        assert_eq!(SessionDist::weibull(0.5, z).unwrap_err().param, "scale");
        // Gamma(1 + 1/0.001) overflows: no finite mean.
        assert_eq!(SessionDist::weibull(0.001, H).unwrap_err().param, "shape");
        assert_eq!(SessionDist::weibull_with_mean(0.001, H).unwrap_err().param, "shape");
        assert_eq!(SessionDist::log_normal(H, -1.0).unwrap_err().param, "sigma");
        assert_eq!(SessionDist::log_normal(H, 40.0).unwrap_err().param, "sigma");
        assert_eq!(SessionDist::pareto(H, 1.0).unwrap_err().param, "shape");
        assert_eq!(SessionDist::pareto_with_mean(H, 0.5).unwrap_err().param, "shape");
        assert_eq!(SessionDist::pareto(z, 2.0).unwrap_err().param, "scale");
    }

    #[test]
    fn with_mean_constructors_hit_their_mean() {
        let m = H.as_ns() as f64;
        for d in [
            SessionDist::exponential(H).unwrap(),
            SessionDist::weibull_with_mean(0.45, H).unwrap(),
            SessionDist::log_normal_with_mean(H, 1.3).unwrap(),
            SessionDist::pareto_with_mean(H, 1.7).unwrap(),
        ] {
            assert!((d.mean_ns() - m).abs() < 1e-9 * m, "{d:?}");
        }
        // Weibull shape 1 is the exponential.
        let w = SessionDist::weibull(1.0, H).unwrap();
        assert!((w.mean_ns() - m).abs() < 1e-9 * m && (w.residual_mean_ns() - m).abs() < 1e-9 * m);
    }

    /// Sample mean of `n` draws and its standard error from the sample
    /// variance.
    fn mean_and_se(n: usize, mut draw: impl FnMut() -> f64) -> (f64, f64) {
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let x = draw();
            s += x;
            s2 += x * x;
        }
        let mean = s / n as f64;
        let var = (s2 / n as f64 - mean * mean) * n as f64 / (n as f64 - 1.0);
        (mean, (var / n as f64).sqrt())
    }

    /// Families with finite fourth moments of X and of its residual (all
    /// moments for Weibull and log-normal; Pareto shape 5.5 > 5), so the
    /// sample variance used for the tolerance is itself reliable.
    fn light_enough() -> [SessionDist; 4] {
        [
            SessionDist::exponential(H).unwrap(),
            SessionDist::weibull_with_mean(0.59, H).unwrap(),
            SessionDist::log_normal_with_mean(H, 0.5).unwrap(),
            SessionDist::pareto_with_mean(H, 5.5).unwrap(),
        ]
    }

    #[test]
    fn sample_means_match_closed_form() {
        let mut rng = stream(1, "test.session");
        for d in light_enough() {
            let (mean, se) = mean_and_se(200_000, || d.sample(&mut rng).as_ns() as f64);
            // CLT: 5 standard errors, estimated from the run.
            assert!((mean - d.mean_ns()).abs() < 5.0 * se, "{d:?}: {mean} vs {} (se {se})", d.mean_ns());
        }
    }

    #[test]
    fn residual_means_match_closed_form() {
        let mut rng = stream(2, "test.residual");
        for d in light_enough() {
            let (mean, se) = mean_and_se(200_000, || d.sample_residual(&mut rng).as_ns() as f64);
            assert!(
                (mean - d.residual_mean_ns()).abs() < 5.0 * se,
                "{d:?}: {mean} vs {} (se {se})",
                d.residual_mean_ns()
            );
        }
    }

    #[test]
    fn pareto_residual_has_its_uniform_part_below_the_scale() {
        // P(R < scale) = (a - 1) / a exactly; Binomial, 5 sd.
        let d = SessionDist::pareto(H, 1.5).unwrap();
        let mut rng = stream(3, "test.residual");
        let n = 100_000;
        let below = (0..n).filter(|_| d.sample_residual(&mut rng) < H).count();
        let p = 0.5 / 1.5;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!((below as f64 - n as f64 * p).abs() < 5.0 * sd, "{below}");
    }

    #[test]
    fn sampling_never_gives_zero_or_panics() {
        let mut rng = stream(4, "test.session");
        let tiny = SessionDist::log_normal(SimDuration::from_ns(1), 3.0).unwrap();
        for _ in 0..10_000 {
            assert!(tiny.sample(&mut rng).as_ns() >= 1);
            assert!(tiny.sample_residual(&mut rng).as_ns() >= 1);
        }
    }

    #[test]
    fn stationary_start_is_on_with_the_availability() {
        let dist = OnOffDist::default();
        assert!((dist.availability() - 0.96).abs() < 1e-12);
        let mut rng = stream(5, "test.onoff");
        let n = 100_000;
        let on = (0..n).filter(|_| OnOff::stationary(SimTime::ZERO, &dist, &mut rng).is_on()).count();
        // Binomial(n, 0.96); 5 sd.
        let sd = (n as f64 * 0.96 * 0.04).sqrt();
        assert!((on as f64 - 0.96 * n as f64).abs() < 5.0 * sd, "{on}");
    }

    #[test]
    fn transitions_alternate_and_move_forward() {
        let dist = OnOffDist::default();
        let mut rng = stream(6, "test.onoff");
        let mut p = OnOff::stationary(SimTime::ZERO, &dist, &mut rng);
        for _ in 0..1000 {
            let (was_on, now) = (p.is_on(), p.next_transition_at());
            let next = p.next_transition(now, &dist, &mut rng);
            assert!(next > now && p.is_on() != was_on && p.next_transition_at() == next);
        }
    }
}
