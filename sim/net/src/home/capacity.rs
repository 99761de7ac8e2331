//! Upload capacity of home nodes: what the box has, and how much of it the
//! CDN may use at a given moment.
//!
//! usable upload(t) = base upload x diurnal fraction(t) x household level(t)
//!
//! - base upload: drawn once per node from a [`CapacityDist`];
//! - diurnal fraction: one value per hour of the day, shared by all nodes
//!   ([`DiurnalProfile`]): the share of upload left when households are as
//!   busy as usual at that hour;
//! - household level: a per-node multiplier around 1, a bounded
//!   mean-reverting random process ([`HouseholdModel`], [`Household`]),
//!   for the household's own use of the line (calls, uploads, games) that
//!   comes and goes on its own schedule.

use cdnsim_engine::{SimDuration, SimTime};
use cdnsim_maths::{exp, ln, sample};
use rand::Rng;
use rand_distr::Distribution;
use rand_distr::weighted::WeightedIndex;

use crate::param::{ParamError, require};

/// The largest upload a home node may have: the node stores its upload in
/// a u32 (bps) to keep its state small, so about 4.29 Gbps.
pub const MAX_UPLOAD_BPS: f64 = u32::MAX as f64;

/// Bound on the rows of an empirical table (limit everything).
pub const MAX_EMPIRICAL_ROWS: usize = 65_536;

/// Distribution of a node's base upload capacity, in bps. Samples are
/// whole bps in [1, [`MAX_UPLOAD_BPS`]].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "distribution", rename_all = "lowercase")]
pub enum CapacityDist {
    /// Log-normal with the given median and log-space standard deviation,
    /// clamped to [min_bps, max_bps] (the clamped tails become atoms at the
    /// bounds rather than being redrawn, so one sample is always one normal
    /// draw).
    #[non_exhaustive]
    LogNormal { median_bps: f64, sigma: f64, min_bps: f64, max_bps: f64 },
    /// Uniform on [min_bps, max_bps].
    #[non_exhaustive]
    Uniform { min_bps: f64, max_bps: f64 },
    /// One of `values_bps`, chosen with the weights the table gave.
    #[non_exhaustive]
    Empirical {
        values_bps: Vec<f64>,
        #[serde(skip)]
        index: WeightedIndex<f64>,
    },
}

fn check_bounds(min_bps: f64, max_bps: f64) -> Result<(), ParamError> {
    let range = format!("a rate in [1, {MAX_UPLOAD_BPS}] bps");
    require(min_bps.is_finite() && (1.0..=MAX_UPLOAD_BPS).contains(&min_bps), "min_bps", &range, min_bps)?;
    require(max_bps.is_finite() && (1.0..=MAX_UPLOAD_BPS).contains(&max_bps), "max_bps", &range, max_bps)?;
    require(min_bps <= max_bps, "max_bps", &format!("at least min_bps = {min_bps}"), max_bps)
}

impl CapacityDist {
    pub fn log_normal(median_bps: f64, sigma: f64, min_bps: f64, max_bps: f64) -> Result<Self, ParamError> {
        require(median_bps.is_finite() && median_bps > 0.0, "median_bps", "a finite rate > 0", median_bps)?;
        require(sigma.is_finite() && sigma >= 0.0, "sigma", "a finite value >= 0", sigma)?;
        check_bounds(min_bps, max_bps)?;
        Ok(CapacityDist::LogNormal { median_bps, sigma, min_bps, max_bps })
    }

    pub fn uniform(min_bps: f64, max_bps: f64) -> Result<Self, ParamError> {
        check_bounds(min_bps, max_bps)?;
        Ok(CapacityDist::Uniform { min_bps, max_bps })
    }

    /// A table of (value_bps, weight) rows; weights need not sum to 1.
    pub fn empirical(table: &[(f64, f64)]) -> Result<Self, ParamError> {
        require(
            !table.is_empty() && table.len() <= MAX_EMPIRICAL_ROWS,
            "table",
            &format!("1 to {MAX_EMPIRICAL_ROWS} rows"),
            format!("{} rows", table.len()),
        )?;
        for (i, &(v, w)) in table.iter().enumerate() {
            require(
                v.is_finite() && (1.0..=MAX_UPLOAD_BPS).contains(&v),
                &format!("table[{i}].value_bps"),
                &format!("a rate in [1, {MAX_UPLOAD_BPS}] bps"),
                v,
            )?;
            require(w.is_finite() && w >= 0.0, &format!("table[{i}].weight"), "a finite weight >= 0", w)?;
        }
        let index = WeightedIndex::new(table.iter().map(|r| r.1))
            .map_err(|e| ParamError::new("table", "weights with a positive finite sum", e))?;
        Ok(CapacityDist::Empirical { values_bps: table.iter().map(|r| r.0).collect(), index })
    }

    /// One base upload. Never panics, whatever the parameters.
    pub fn sample_bps<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        let bps = match self {
            CapacityDist::LogNormal { median_bps, sigma, min_bps, max_bps } => {
                (median_bps * exp(sigma * sample::standard_normal(rng))).max(*min_bps).min(*max_bps)
            }
            CapacityDist::Uniform { min_bps, max_bps } => min_bps + (max_bps - min_bps) * rng.random::<f64>(),
            CapacityDist::Empirical { values_bps, index } => values_bps.get(index.sample(rng)).copied().unwrap_or(1.0),
        };
        // `as` saturates (NaN gives 0), so this cannot wrap.
        bps.round() as u32
    }

    /// The mean of [`CapacityDist::sample_bps`] before rounding to whole
    /// bps, in closed form. For the clamped log-normal, with
    /// a = ln(min/median)/sigma and b = ln(max/median)/sigma:
    /// min Phi(a) + median e^(sigma^2/2) (Phi(b - sigma) - Phi(a - sigma)) + max (1 - Phi(b)),
    /// with Phi accurate to about 1e-7.
    pub fn mean_bps(&self) -> f64 {
        match self {
            CapacityDist::LogNormal { median_bps, sigma, min_bps, max_bps } => {
                if *sigma == 0.0 {
                    return median_bps.max(*min_bps).min(*max_bps);
                }
                let a = ln(min_bps / median_bps) / sigma;
                let b = ln(max_bps / median_bps) / sigma;
                min_bps * normal_cdf(a)
                    + median_bps * exp(sigma * sigma / 2.0) * (normal_cdf(b - sigma) - normal_cdf(a - sigma))
                    + max_bps * (1.0 - normal_cdf(b))
            }
            CapacityDist::Uniform { min_bps, max_bps } => (min_bps + max_bps) / 2.0,
            CapacityDist::Empirical { values_bps, index } => {
                let total = index.total_weight();
                index.weights().zip(values_bps).map(|(w, v)| w * v).sum::<f64>() / total
            }
        }
    }

    /// Smallest and largest value a sample can take.
    pub fn bounds_bps(&self) -> (f64, f64) {
        match self {
            CapacityDist::LogNormal { min_bps, max_bps, .. } | CapacityDist::Uniform { min_bps, max_bps } => {
                (*min_bps, *max_bps)
            }
            CapacityDist::Empirical { values_bps, .. } => {
                values_bps.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
            }
        }
    }
}

impl Default for CapacityDist {
    /// Log-normal, median 30 Mbps (docs/references.md, Home upload:
    /// lognormal, median ~30 Mbps, 10-100 Mbps, est.), sigma 0.5 so that
    /// 97.8% of the unclamped mass lies in 10-100 Mbps (ln(10/30)/0.5 =
    /// -2.20 and ln(100/30)/0.5 = 2.41 standard deviations), clamped to
    /// exactly 10-100 Mbps (atoms of 1.4% at 10 and 0.8% at 100 Mbps).
    /// Mean ~34 Mbps; note the talk cites ~20 Mbps average for the
    /// last-layer nodes, so scenarios about those should lower the median.
    fn default() -> Self {
        CapacityDist::log_normal(30e6, 0.5, 10e6, 100e6).expect("default capacity is valid")
    }
}

/// Standard normal CDF via erfc (Numerical Recipes' `erfcc`, Chebyshev
/// fit, fractional error below 1.2e-7; docs/references.md, Normal CDF):
/// precise enough for closed-form means, and no dependency for one
/// function.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    let z = -x / std::f64::consts::SQRT_2;
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = -a * a - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc_abs = t * exp(poly);
    let erfc = if z >= 0.0 { erfc_abs } else { 2.0 - erfc_abs };
    0.5 * erfc
}

const NS_PER_HOUR: u64 = 3_600_000_000_000;
const NS_PER_DAY: u64 = 24 * NS_PER_HOUR;

/// The share of a home node's upload usable at each hour of the day,
/// interpolated linearly between hours (value `h` holds at h:00), so that
/// capacity never jumps at the top of the hour for every node at once.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct DiurnalProfile {
    hourly: [f64; 24],
    day_offset_ns: u64,
}

impl DiurnalProfile {
    /// `hourly[h]`: the usable share at h:00 local time, in [0, 1];
    /// `start_time_of_day`: local time of day at simulated time zero,
    /// below 24 h.
    pub fn new(hourly: [f64; 24], start_time_of_day: SimDuration) -> Result<Self, ParamError> {
        for (h, x) in hourly.iter().enumerate() {
            require(x.is_finite() && (0.0..=1.0).contains(x), &format!("hourly[{h}]"), "a fraction in [0, 1]", x)?;
        }
        let offset_ns = start_time_of_day.as_ns();
        require(offset_ns < NS_PER_DAY, "start_time_of_day", "less than 24 h", start_time_of_day)?;
        Ok(DiurnalProfile { hourly, day_offset_ns: offset_ns })
    }

    /// The same profile, with simulated time zero at another time of day.
    pub fn starting_at(self, start_time_of_day: SimDuration) -> Result<Self, ParamError> {
        DiurnalProfile::new(self.hourly, start_time_of_day)
    }

    pub fn hourly(&self) -> &[f64; 24] {
        &self.hourly
    }

    pub fn fraction_at(&self, now: SimTime) -> f64 {
        let tod_ns = (now.as_ns() % NS_PER_DAY + self.day_offset_ns) % NS_PER_DAY;
        let h = (tod_ns / NS_PER_HOUR) as usize;
        let w = (tod_ns % NS_PER_HOUR) as f64 / NS_PER_HOUR as f64;
        self.hourly[h] * (1.0 - w) + self.hourly[(h + 1) % 24] * w
    }

    /// The time average over a whole day. The cyclic linear interpolation
    /// integrates to the plain mean of the 24 values (each value is the
    /// end of two half-weighted segments).
    pub fn mean(&self) -> f64 {
        self.hourly.iter().sum::<f64>() / 24.0
    }

    pub fn min(&self) -> f64 {
        self.hourly.iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub fn max(&self) -> f64 {
        self.hourly.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

impl Default for DiurnalProfile {
    /// docs/references.md, Usable upload share: 30-80% with a daily cycle
    /// (est.). The shape is ours (est.): most usable before dawn, a dip at
    /// lunch, the least in the evening peak of home use (20-21 h), when
    /// live streaming is busiest too. Values span 0.38-0.66 so that with
    /// the default household levels (0.8-1.2) the usable share spans
    /// 0.304-0.792, inside 30-80%. Time zero is midnight.
    fn default() -> Self {
        const HOURLY: [f64; 24] = [
            0.55, 0.60, 0.64, 0.66, 0.66, 0.66, 0.64, 0.60, // 00-07 h
            0.56, 0.55, 0.55, 0.52, 0.50, 0.52, 0.55, 0.55, // 08-15 h
            0.52, 0.50, 0.46, 0.42, 0.38, 0.38, 0.44, 0.50, // 16-23 h
        ];
        DiurnalProfile::new(HOURLY, SimDuration::ZERO).expect("default profile is valid")
    }
}

/// Parameters of the household-usage process, shared by all nodes.
///
/// Every `interval` the node's level keeps its value, or with probability
/// `interval / mean_hold` jumps to a fresh draw from Uniform[low, high].
/// So the stationary distribution is exactly Uniform[low, high] (mean
/// (low + high) / 2), the process never leaves its bounds without any
/// clamping, and it reverts to its mean with autocorrelation
/// (1 - interval / mean_hold)^k after k ticks.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct HouseholdModel {
    low: f32,
    high: f32,
    interval: SimDuration,
    change_probability: f64,
}

impl HouseholdModel {
    /// `low`/`high`: bounds of the level (finite, 0 <= low <= high; stored
    /// as f32, the per-node precision); `interval`: time between ticks
    /// (> 0); `mean_hold`: mean time a level lasts (>= interval).
    pub fn new(low: f64, high: f64, interval: SimDuration, mean_hold: SimDuration) -> Result<Self, ParamError> {
        require(low.is_finite() && low >= 0.0 && low <= f32::MAX as f64, "low", "a finite level >= 0", low)?;
        require(
            high.is_finite() && high >= low && high <= f32::MAX as f64,
            "high",
            &format!("a finite level >= low = {low}"),
            high,
        )?;
        require(interval.as_ns() > 0, "interval", "a positive duration", interval)?;
        require(mean_hold >= interval, "mean_hold", &format!("at least interval = {interval}"), mean_hold)?;
        Ok(HouseholdModel {
            low: low as f32,
            high: high as f32,
            interval,
            change_probability: interval.as_ns() as f64 / mean_hold.as_ns() as f64,
        })
    }

    /// Bounds of the level, as stored (f32).
    pub fn bounds(&self) -> (f64, f64) {
        (self.low as f64, self.high as f64)
    }

    /// Mean of the stationary level.
    pub fn mean(&self) -> f64 {
        (self.low as f64 + self.high as f64) / 2.0
    }

    pub fn interval(&self) -> SimDuration {
        self.interval
    }

    /// Probability that a tick draws a new level.
    pub fn change_probability(&self) -> f64 {
        self.change_probability
    }

    fn level_from_unit(&self, u: f64) -> f32 {
        let x = self.low as f64 + (self.high as f64 - self.low as f64) * u;
        // Rounding to f32 may step just past a bound; the clamp keeps the
        // promise that the level never leaves [low, high].
        (x as f32).clamp(self.low, self.high)
    }
}

impl Default for HouseholdModel {
    /// Levels 0.8-1.2 around the diurnal share, redrawn on average every
    /// 15 min, checked every 60 s (all est.: a household's own heavy use of
    /// the uplink, a call or an upload, lasts tens of minutes).
    fn default() -> Self {
        HouseholdModel::new(0.8, 1.2, SimDuration::from_secs(60), SimDuration::from_secs(15 * 60))
            .expect("default household model is valid")
    }
}

/// Per-node state of the household-usage process (16 bytes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Household {
    next_tick: SimTime,
    level: f32,
}

impl Household {
    /// The process in steady state at time zero: the level from its
    /// stationary distribution, and the first tick at a uniformly random
    /// phase in (0, interval], so nodes do not all tick at the same
    /// instants. Two draws.
    pub fn stationary<R: Rng + ?Sized>(model: &HouseholdModel, rng: &mut R) -> Self {
        let level = model.level_from_unit(rng.random());
        let phase_ns = rng.random_range(1..=model.interval.as_ns());
        Household { next_tick: SimTime::from_ns(phase_ns), level }
    }

    /// A process at a given level with its next tick at `next_tick`.
    pub fn new(level: f32, next_tick: SimTime) -> Self {
        Household { next_tick, level }
    }

    pub fn level(&self) -> f32 {
        self.level
    }

    pub fn next_tick_at(&self) -> SimTime {
        self.next_tick
    }

    /// The tick due at `now` (= [`Household::next_tick_at`]): one draw
    /// decides both whether the level changes and, if it does, the new
    /// level (given u < p, u / p is uniform on [0, 1)). Returns the next
    /// tick time.
    pub fn tick<R: Rng + ?Sized>(&mut self, now: SimTime, model: &HouseholdModel, rng: &mut R) -> SimTime {
        debug_assert_eq!(now, self.next_tick, "household tick handled at the wrong time");
        let u: f64 = rng.random();
        let p = model.change_probability;
        if u < p {
            self.level = model.level_from_unit(u / p);
        }
        self.next_tick = now + model.interval;
        self.next_tick
    }

    /// The usable share of upload at `now`: diurnal share x level.
    pub fn usable_fraction(&self, now: SimTime, diurnal: &DiurnalProfile) -> f64 {
        diurnal.fraction_at(now) * self.level as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdnsim_engine::stream;

    #[test]
    fn capacity_constructors_reject_bad_parameters() {
        assert_eq!(CapacityDist::log_normal(0.0, 0.5, 1.0, 2.0).unwrap_err().param, "median_bps");
        assert_eq!(CapacityDist::log_normal(1e6, f64::NAN, 1.0, 2.0).unwrap_err().param, "sigma");
        assert_eq!(CapacityDist::log_normal(1e6, -0.1, 1.0, 2.0).unwrap_err().param, "sigma");
        assert_eq!(CapacityDist::uniform(0.5, 2.0).unwrap_err().param, "min_bps");
        assert_eq!(CapacityDist::uniform(5.0, 2.0).unwrap_err().param, "max_bps");
        assert_eq!(CapacityDist::uniform(5.0, 1e10).unwrap_err().param, "max_bps");
        assert_eq!(CapacityDist::empirical(&[]).unwrap_err().param, "table");
        assert_eq!(CapacityDist::empirical(&[(1e6, 1.0), (0.0, 1.0)]).unwrap_err().param, "table[1].value_bps");
        assert_eq!(CapacityDist::empirical(&[(1e6, -1.0)]).unwrap_err().param, "table[0].weight");
        assert_eq!(CapacityDist::empirical(&[(1e6, 0.0), (2e6, 0.0)]).unwrap_err().param, "table");
        assert!(CapacityDist::empirical(&[(1e6, f64::INFINITY)]).is_err());
    }

    #[test]
    fn default_capacity_lies_in_10_to_100_mbps_with_median_30() {
        let d = CapacityDist::default();
        let mut rng = stream(1, "test.capacity");
        let n = 200_000;
        let (mut below_median, mut at_min, mut at_max) = (0u32, 0u32, 0u32);
        let mut sum = 0.0;
        for _ in 0..n {
            let x = d.sample_bps(&mut rng);
            assert!((10_000_000..=100_000_000).contains(&x), "{x}");
            below_median += (x < 30_000_000) as u32;
            at_min += (x == 10_000_000) as u32;
            at_max += (x == 100_000_000) as u32;
            sum += x as f64;
        }
        // Each count is Binomial(n, p); 5 sd of it (p = 0.5 / Phi(-2.197) =
        // 0.0140 / 1 - Phi(2.408) = 0.0080).
        let check = |count: u32, p: f64| {
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            assert!((count as f64 - n as f64 * p).abs() < 5.0 * sd, "{count} vs {}", n as f64 * p);
        };
        check(below_median, 0.5);
        check(at_min, normal_cdf((1.0f64 / 3.0).ln() / 0.5));
        check(at_max, 1.0 - normal_cdf((10.0f64 / 3.0).ln() / 0.5));
        // Sample mean vs the closed form. Clamping is 1-Lipschitz, so it
        // cannot raise the variance: one sample's sd is at most the
        // unclamped log-normal's, 30 e^(1/8) sqrt(e^(1/4) - 1) = 18.1 Mbps;
        // 5 sd of the mean.
        let se = 18.2e6 / (n as f64).sqrt();
        assert!((sum / n as f64 - d.mean_bps()).abs() < 5.0 * se, "{} vs {}", sum / n as f64, d.mean_bps());
        assert!((d.mean_bps() - 33.9e6).abs() < 0.2e6, "{}", d.mean_bps());
    }

    #[test]
    fn uniform_and_empirical_sample_in_range_with_their_means() {
        let mut rng = stream(2, "test.capacity");
        let u = CapacityDist::uniform(5e6, 15e6).unwrap();
        let e = CapacityDist::empirical(&[(10e6, 1.0), (20e6, 0.0), (50e6, 3.0)]).unwrap();
        assert_eq!(u.mean_bps(), 10e6);
        assert_eq!(e.mean_bps(), 40e6);
        assert_eq!(e.bounds_bps(), (10e6, 50e6));
        let n = 100_000;
        let (mut sum_u, mut n50) = (0.0, 0u32);
        for _ in 0..n {
            let x = u.sample_bps(&mut rng);
            assert!((5_000_000..=15_000_000).contains(&x));
            sum_u += x as f64;
            let y = e.sample_bps(&mut rng);
            assert!(y == 10_000_000 || y == 50_000_000, "{y}");
            n50 += (y == 50_000_000) as u32;
        }
        // Uniform sd = 10 Mbps / sqrt(12); Binomial(n, 0.75); 5 sd each.
        let se = 10e6 / 12f64.sqrt() / (n as f64).sqrt();
        assert!((sum_u / n as f64 - 10e6).abs() < 5.0 * se);
        let sd = (n as f64 * 0.75 * 0.25).sqrt();
        assert!((n50 as f64 - 0.75 * n as f64).abs() < 5.0 * sd);
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        for (x, phi) in [(0.0, 0.5), (1.0, 0.841_344_746), (-1.96, 0.024_997_895), (3.0, 0.998_650_102)] {
            assert!((normal_cdf(x) - phi).abs() < 2e-7, "{x}");
        }
    }

    #[test]
    fn diurnal_interpolates_and_wraps() {
        let mut hourly = [0.5; 24];
        hourly[23] = 0.3;
        hourly[0] = 0.7;
        let d = DiurnalProfile::new(hourly, SimDuration::ZERO).unwrap();
        let h = |x: f64| SimTime::from_ns((x * NS_PER_HOUR as f64) as u64);
        assert_eq!(d.fraction_at(h(0.0)), 0.7);
        assert!((d.fraction_at(h(23.5)) - 0.5).abs() < 1e-12);
        assert!((d.fraction_at(h(0.5)) - 0.6).abs() < 1e-12);
        assert_eq!(d.fraction_at(h(24.0)), 0.7);
        let shifted = d.starting_at(SimDuration::from_secs(23 * 3600)).unwrap();
        assert_eq!(shifted.fraction_at(SimTime::ZERO), 0.3);
        assert!(DiurnalProfile::new(hourly, SimDuration::from_secs(86_400)).is_err());
        hourly[5] = 1.1;
        assert_eq!(DiurnalProfile::new(hourly, SimDuration::ZERO).unwrap_err().param, "hourly[5]");
    }

    #[test]
    fn default_profile_spans_30_to_80_percent_with_default_household() {
        let (d, hh) = (DiurnalProfile::default(), HouseholdModel::default());
        let (lo, hi) = hh.bounds();
        assert!(d.min() * lo >= 0.30 && d.max() * hi <= 0.80, "{} {}", d.min() * lo, d.max() * hi);
        // Busier (less usable) in the evening than before dawn.
        assert!(d.fraction_at(SimTime::from_ns(20 * NS_PER_HOUR)) < d.fraction_at(SimTime::from_ns(4 * NS_PER_HOUR)));
    }

    #[test]
    fn household_model_validation() {
        let s = SimDuration::from_secs;
        assert_eq!(HouseholdModel::new(-0.1, 1.0, s(60), s(600)).unwrap_err().param, "low");
        assert_eq!(HouseholdModel::new(1.0, 0.9, s(60), s(600)).unwrap_err().param, "high");
        assert_eq!(HouseholdModel::new(0.5, 1.0, s(0), s(600)).unwrap_err().param, "interval");
        assert_eq!(HouseholdModel::new(0.5, 1.0, s(60), s(30)).unwrap_err().param, "mean_hold");
        assert_eq!(HouseholdModel::new(0.5, 1.0, s(60), s(600)).unwrap().change_probability(), 0.1);
    }

    #[test]
    fn household_ticks_at_its_interval_and_changes_at_the_given_rate() {
        let m = HouseholdModel::default();
        let mut rng = stream(3, "test.household");
        let mut h = Household::stationary(&m, &mut rng);
        assert!(h.next_tick_at() > SimTime::ZERO && h.next_tick_at() <= SimTime::ZERO + m.interval());
        let n = 100_000;
        let mut changes = 0u32;
        for _ in 0..n {
            let (before, now) = (h.level(), h.next_tick_at());
            let next = h.tick(now, &m, &mut rng);
            assert_eq!(next, now + m.interval());
            changes += (h.level() != before) as u32;
        }
        // Binomial(n, 1/15); 5 sd.
        let p = m.change_probability();
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!((changes as f64 - n as f64 * p).abs() < 5.0 * sd, "{changes}");
    }
}
