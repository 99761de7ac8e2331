//! Session workload helpers: a daily arrival-rate profile per region with
//! flash crowds, a non-homogeneous Poisson arrival generator, and duration
//! distributions (session lengths, start-up and cold-start times).
//!
//! Nothing here owns a generator: every draw takes `&mut impl RngCore`
//! from the caller, who keeps one named stream per random process.

use cdnsim_maths::{exp, gamma, sample};
use rand::{Rng, RngCore};

use crate::error::{EdgeError, invalid};

/// Nanoseconds per second.
pub const NS_PER_S: u64 = 1_000_000_000;
/// Nanoseconds per hour.
pub const NS_PER_HOUR: u64 = 3_600 * NS_PER_S;
/// Nanoseconds per day.
pub const NS_PER_DAY: u64 = 24 * NS_PER_HOUR;
/// Bound on flash crowds in one profile.
pub const MAX_FLASH_CROWDS: usize = 256;
/// Bound on points of an empirical table.
pub const MAX_TABLE_POINTS: usize = 4_096;

/// A flash crowd: the rate is multiplied by `multiplier` in
/// `[start_ns, end_ns)` (absolute simulated time).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlashCrowd {
    /// Start, ns.
    pub start_ns: u64,
    /// End (exclusive), ns.
    pub end_ns: u64,
    /// Rate multiplier (> 0; overlapping crowds multiply).
    pub multiplier: f64,
}

/// A region's arrival rate over the day: 24 hourly rates (sessions per
/// second at the start of each local hour, linear in between, wrapping at
/// midnight), shifted by the region's UTC offset, times any flash crowds.
#[derive(Clone, Debug, PartialEq)]
pub struct DailyProfile {
    hourly_per_s: [f64; 24],
    utc_offset_ns: i64,
    flash: Vec<FlashCrowd>,
    bound_per_s: f64,
}

impl DailyProfile {
    /// A profile; `utc_offset_ns` is local time minus UTC (+8 h for China).
    pub fn new(hourly_per_s: [f64; 24], utc_offset_ns: i64, flash: Vec<FlashCrowd>) -> Result<Self, EdgeError> {
        if let Some(x) = hourly_per_s.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
            return Err(invalid("workload", "hourly_per_s", "finite rates >= 0", x));
        }
        if flash.len() > MAX_FLASH_CROWDS {
            return Err(EdgeError::BoundExceeded { model: "workload", what: "flash crowds", bound: MAX_FLASH_CROWDS });
        }
        for f in &flash {
            if f.end_ns <= f.start_ns {
                return Err(invalid("workload", "flash.end_ns", "after start_ns", f.end_ns));
            }
            if !(f.multiplier.is_finite() && f.multiplier > 0.0) {
                return Err(invalid("workload", "flash.multiplier", "a finite multiplier > 0", f.multiplier));
            }
        }
        // Linear interpolation never exceeds the largest hourly point; the
        // product of every multiplier above 1 bounds any overlap.
        let peak = hourly_per_s.iter().cloned().fold(0.0, f64::max);
        let boost: f64 = flash.iter().map(|f| f.multiplier.max(1.0)).product();
        Ok(DailyProfile { hourly_per_s, utc_offset_ns, flash, bound_per_s: peak * boost })
    }

    /// A constant rate.
    pub fn constant(rate_per_s: f64) -> Result<Self, EdgeError> {
        Self::new([rate_per_s; 24], 0, Vec::new())
    }

    /// Rate at `t_ns`, sessions per second.
    pub fn rate_per_s(&self, t_ns: u64) -> f64 {
        let local = (t_ns as i128 + self.utc_offset_ns as i128).rem_euclid(NS_PER_DAY as i128) as u64;
        let h = (local / NS_PER_HOUR) as usize;
        let frac = (local % NS_PER_HOUR) as f64 / NS_PER_HOUR as f64;
        let (a, b) = (self.hourly_per_s[h], self.hourly_per_s[(h + 1) % 24]);
        let mut r = a + (b - a) * frac;
        for f in &self.flash {
            if t_ns >= f.start_ns && t_ns < f.end_ns {
                r *= f.multiplier;
            }
        }
        r
    }

    /// An upper bound on the rate at any time (used for thinning).
    pub fn bound_per_s(&self) -> f64 {
        self.bound_per_s
    }

    /// The expected number of arrivals in `[from_ns, to_ns)`, by the
    /// trapezoid rule on 1-second steps (exact for the linear pieces up to
    /// the flash-crowd edges, which fall within one step).
    pub fn expected_arrivals(&self, from_ns: u64, to_ns: u64) -> f64 {
        let mut sum = 0.0;
        let mut t = from_ns;
        while t < to_ns {
            let next = (t + NS_PER_S).min(to_ns);
            let dt = (next - t) as f64 / NS_PER_S as f64;
            sum += 0.5 * (self.rate_per_s(t) + self.rate_per_s(next - 1)) * dt;
            t = next;
        }
        sum
    }
}

/// Arrival times of a non-homogeneous Poisson process with a
/// [`DailyProfile`] rate, by thinning (Lewis and Shedler 1979): candidates
/// at the bound rate, each kept with probability rate / bound. Each
/// candidate costs one exponential and one uniform draw, in that order, so
/// the sequence is a pure function of the generator's stream.
#[derive(Clone, Debug)]
pub struct Arrivals {
    profile: DailyProfile,
    t_ns: u64,
    end_ns: u64,
}

impl Arrivals {
    /// Arrivals in `[start_ns, end_ns)`.
    pub fn new(profile: DailyProfile, start_ns: u64, end_ns: u64) -> Self {
        Arrivals { profile, t_ns: start_ns, end_ns }
    }

    /// The profile.
    pub fn profile(&self) -> &DailyProfile {
        &self.profile
    }

    /// The next arrival time, or `None` past the end (or when the rate is
    /// zero throughout).
    pub fn next_arrival(&mut self, rng: &mut impl RngCore) -> Option<u64> {
        let bound = self.profile.bound_per_s();
        if bound <= 0.0 {
            return None;
        }
        loop {
            let e = sample::exp1(rng);
            let gap_ns = (e / bound * NS_PER_S as f64).ceil().max(1.0);
            if gap_ns >= (self.end_ns - self.t_ns.min(self.end_ns)) as f64 {
                self.t_ns = self.end_ns;
                return None;
            }
            self.t_ns += gap_ns as u64;
            let u: f64 = rng.random();
            if u * bound < self.profile.rate_per_s(self.t_ns) {
                return Some(self.t_ns);
            }
        }
    }
}

/// A distribution of durations (session lengths, pod start-up, cold
/// starts). Samples are in ns, at least 1 and at most `cap_ns` when set.
#[derive(Clone, Debug, PartialEq)]
pub enum DurationDist {
    /// Always this long.
    Fixed {
        /// The duration, ns.
        ns: u64,
    },
    /// Exponential with this mean.
    Exponential {
        /// Mean, ns.
        mean_ns: u64,
    },
    /// Log-normal: ln(duration in seconds) ~ Normal(mu, sigma).
    LogNormal {
        /// Mean of ln(seconds).
        mu: f64,
        /// Standard deviation of ln(seconds).
        sigma: f64,
    },
    /// Weibull with this shape k (k < 1: heavier tail) and scale.
    Weibull {
        /// Shape.
        shape: f64,
        /// Scale, ns.
        scale_ns: u64,
    },
    /// An empirical table: (cumulative probability, duration ns) points,
    /// increasing in both, the last at probability 1; linear in between,
    /// from (0, first duration).
    Empirical {
        /// The points.
        points: Vec<(f64, u64)>,
    },
}

impl DurationDist {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), EdgeError> {
        match self {
            DurationDist::Fixed { .. } => Ok(()),
            DurationDist::Exponential { mean_ns } => {
                if *mean_ns == 0 { Err(invalid("workload", "mean_ns", "> 0", 0)) } else { Ok(()) }
            }
            DurationDist::LogNormal { mu, sigma } => {
                if !(mu.is_finite() && sigma.is_finite() && *sigma >= 0.0) {
                    Err(invalid("workload", "sigma", "finite mu and sigma >= 0", sigma))
                } else {
                    Ok(())
                }
            }
            DurationDist::Weibull { shape, scale_ns } => {
                if !(shape.is_finite() && *shape > 0.0) || *scale_ns == 0 {
                    Err(invalid("workload", "shape", "shape > 0 and scale_ns > 0", shape))
                } else {
                    Ok(())
                }
            }
            DurationDist::Empirical { points } => {
                if points.is_empty() || points.len() > MAX_TABLE_POINTS {
                    return Err(invalid("workload", "points", "1 to 4096 points", points.len()));
                }
                let mut last = (0.0, 0u64);
                for (i, &(p, ns)) in points.iter().enumerate() {
                    if !(p > last.0 || (i == 0 && p >= 0.0)) || p > 1.0 || (i > 0 && ns < last.1) {
                        return Err(invalid("workload", "points", "probabilities increasing in (0, 1], durations non-decreasing", format!("{p} at {i}")));
                    }
                    last = (p, ns);
                }
                if last.0 != 1.0 {
                    return Err(invalid("workload", "points", "the last probability 1", last.0));
                }
                Ok(())
            }
        }
    }

    /// The mean, ns (for tests and reports).
    pub fn mean_ns(&self) -> f64 {
        match self {
            DurationDist::Fixed { ns } => *ns as f64,
            DurationDist::Exponential { mean_ns } => *mean_ns as f64,
            DurationDist::LogNormal { mu, sigma } => exp(mu + sigma * sigma / 2.0) * NS_PER_S as f64,
            DurationDist::Weibull { shape, scale_ns } => *scale_ns as f64 * gamma(1.0 + 1.0 / shape),
            DurationDist::Empirical { points } => {
                let (mut sum, mut prev) = (0.0, (0.0, points[0].1 as f64));
                for &(p, ns) in points {
                    sum += (p - prev.0) * 0.5 * (prev.1 + ns as f64);
                    prev = (p, ns as f64);
                }
                sum
            }
        }
    }

    /// One draw, ns, at least 1. Assumes [`validate`](Self::validate)
    /// passed.
    pub fn sample(&self, rng: &mut impl RngCore) -> u64 {
        let ns = match self {
            DurationDist::Fixed { ns } => *ns as f64,
            DurationDist::Exponential { mean_ns } => sample::exp1(rng) * *mean_ns as f64,
            DurationDist::LogNormal { mu, sigma } => sample::log_normal(rng, *mu, *sigma) * NS_PER_S as f64,
            DurationDist::Weibull { shape, scale_ns } => sample::weibull(rng, *shape, *scale_ns as f64),
            DurationDist::Empirical { points } => {
                let u: f64 = rng.random();
                let mut prev = (0.0, points[0].1 as f64);
                let mut out = points[points.len() - 1].1 as f64;
                for &(p, ns) in points {
                    if u < p {
                        let w = (u - prev.0) / (p - prev.0);
                        out = prev.1 + w * (ns as f64 - prev.1);
                        break;
                    }
                    prev = (p, ns as f64);
                }
                out
            }
        };
        if ns.is_finite() { (ns.round() as u64).max(1) } else { u64::MAX }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn profile_interpolates_and_flashes() {
        let mut h = [0.0; 24];
        h[20] = 10.0;
        h[21] = 20.0;
        let flash = vec![FlashCrowd { start_ns: 20 * NS_PER_HOUR, end_ns: 20 * NS_PER_HOUR + NS_PER_S, multiplier: 3.0 }];
        let p = DailyProfile::new(h, 0, flash).unwrap();
        assert_eq!(p.rate_per_s(20 * NS_PER_HOUR + NS_PER_HOUR / 2), 15.0);
        assert_eq!(p.rate_per_s(20 * NS_PER_HOUR), 30.0);
        assert_eq!(p.bound_per_s(), 60.0);
        // UTC+8: local 20:00 is 12:00 UTC.
        let cn = DailyProfile::new(h, 8 * NS_PER_HOUR as i64, Vec::new()).unwrap();
        assert_eq!(cn.rate_per_s(12 * NS_PER_HOUR), 10.0);
        assert!(DailyProfile::new([-1.0; 24], 0, Vec::new()).is_err());
    }

    #[test]
    fn thinning_count_matches_the_integral() {
        // Rate 0 at hour 0 rising to 50/s at hour 1, then falling: the
        // count of arrivals in [0, 2 h) is Poisson with mean 180 000
        // (triangle area); 4 sigma = 1 697.
        let mut h = [0.0; 24];
        h[1] = 50.0;
        let p = DailyProfile::new(h, 0, Vec::new()).unwrap();
        let mean = p.expected_arrivals(0, 2 * NS_PER_HOUR);
        assert!((mean - 180_000.0).abs() < 1.0, "{mean}");
        let mut a = Arrivals::new(p, 0, 2 * NS_PER_HOUR);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut n = 0u64;
        let mut last = 0;
        while let Some(t) = a.next_arrival(&mut rng) {
            assert!(t > last);
            last = t;
            n += 1;
        }
        assert!((n as f64 - mean).abs() < 4.0 * mean.sqrt(), "{n}");
    }

    #[test]
    fn duration_means() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let dists = [
            DurationDist::Exponential { mean_ns: 60 * NS_PER_S },
            DurationDist::Weibull { shape: 1.5, scale_ns: 60 * NS_PER_S },
            DurationDist::LogNormal { mu: 3.0, sigma: 0.5 },
            DurationDist::Empirical { points: vec![(0.5, 10 * NS_PER_S), (1.0, 30 * NS_PER_S)] },
        ];
        // Weibull(1.5) mean = 60 * Gamma(1 + 2/3) = 54.16 s.
        assert!((dists[1].mean_ns() / NS_PER_S as f64 - 54.163).abs() < 0.01);
        // Empirical: 10 s flat to p = 0.5, then 10 -> 30 s: 0.5 * 10 + 0.5 * 20 = 15 s.
        assert_eq!(dists[3].mean_ns(), 15.0 * NS_PER_S as f64);
        for d in &dists {
            d.validate().unwrap();
            let n = 40_000;
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng) as f64).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let sd = (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64).sqrt();
            // 5 standard errors.
            assert!((m - d.mean_ns()).abs() < 5.0 * sd / (n as f64).sqrt(), "{d:?}: {m} vs {}", d.mean_ns());
        }
        assert!(DurationDist::Empirical { points: vec![(0.5, 1), (0.4, 2)] }.validate().is_err());
    }
}
