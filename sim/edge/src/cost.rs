//! Cost: edge bandwidth on the 95th percentile, machines per hour,
//! serverless per second and per GB; cost per session-hour and per tier.
//!
//! **95th-percentile billing** (the usual IDC contract;
//! docs/references.md, Bandwidth billing): the link's traffic
//! is averaged over 5-minute intervals; the samples of the billing period
//! are sorted, the top 5% dropped, and the highest remaining sample is the
//! billed rate. With `n` samples that is the sample of rank `ceil(0.95 n)`
//! (1-based, ascending), the nearest-rank percentile. A 30-day month has
//! 8 640 samples: the 432 highest (36 hours of peak) are free. The monthly
//! price applies per Mbps of that rate; for a run shorter than the billing
//! period the bill is prorated by the run's share of a 30-day month
//! ([`bandwidth_bill`]).
//!
//! Prices are plain `f64` in one currency unit; costs are sums of a few
//! products, so the order of additions is fixed and results reproducible.

use crate::error::{EdgeError, invalid};
use crate::workload::{NS_PER_HOUR, NS_PER_S};

/// Five minutes, ns: the billing sample interval.
pub const FIVE_MINUTES_NS: u64 = 300 * NS_PER_S;
/// A 30-day month, ns.
pub const MONTH_NS: u64 = 30 * 24 * NS_PER_HOUR;
/// Bound on samples of one meter (a 31-day month of 5-minute samples).
pub const MAX_SAMPLES: usize = 31 * 288;

/// Turns byte counts into 5-minute average rates. Time must not go back.
#[derive(Clone, Debug)]
pub struct BandwidthMeter {
    start_ns: u64,
    interval_ns: u64,
    current: u64,
    bytes: u64,
    samples_bps: Vec<u64>,
    dropped: u64,
}

impl BandwidthMeter {
    /// A meter whose first interval starts at `start_ns`.
    pub fn new(start_ns: u64) -> Self {
        Self::with_interval(start_ns, FIVE_MINUTES_NS).expect("5 minutes is valid")
    }

    /// A meter with another interval (tests, other contracts).
    pub fn with_interval(start_ns: u64, interval_ns: u64) -> Result<Self, EdgeError> {
        if interval_ns == 0 {
            return Err(invalid("cost", "interval_ns", "> 0", 0));
        }
        Ok(BandwidthMeter { start_ns, interval_ns, current: 0, bytes: 0, samples_bps: Vec::new(), dropped: 0 })
    }

    fn close_until(&mut self, now_ns: u64) {
        let idx = now_ns.saturating_sub(self.start_ns) / self.interval_ns;
        while self.current < idx {
            if self.samples_bps.len() < MAX_SAMPLES {
                let bps = (self.bytes as u128 * 8 * NS_PER_S as u128 / self.interval_ns as u128) as u64;
                self.samples_bps.push(bps);
            } else {
                self.dropped += 1;
            }
            self.bytes = 0;
            self.current += 1;
        }
    }

    /// `bytes` sent at `now_ns` (counted in the interval holding `now_ns`;
    /// a transfer spanning intervals should be reported in pieces).
    pub fn add(&mut self, now_ns: u64, bytes: u64) {
        self.close_until(now_ns);
        self.bytes += bytes;
    }

    /// Intervals past [`MAX_SAMPLES`] that were not kept (a billing period
    /// is at most a 31-day month: start a new meter for the next one).
    pub fn dropped_samples(&self) -> u64 {
        self.dropped
    }

    /// Closes every interval that ended by `now_ns` and returns the
    /// samples, bps. A partial last interval is not a sample.
    pub fn samples(&mut self, now_ns: u64) -> &[u64] {
        self.close_until(now_ns);
        &self.samples_bps
    }
}

/// The nearest-rank 95th percentile of `samples_bps`; 0 for none.
pub fn percentile_95(samples_bps: &[u64]) -> u64 {
    if samples_bps.is_empty() {
        return 0;
    }
    let mut s = samples_bps.to_vec();
    s.sort_unstable();
    let rank = (95 * s.len()).div_ceil(100);
    s[rank.max(1) - 1]
}

/// Prices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prices {
    /// Edge bandwidth, per Mbps of the 95th percentile per 30-day month.
    pub bandwidth_per_mbps_month: f64,
    /// An edge machine, per hour (started hours billed whole).
    pub machine_per_hour: f64,
    /// A serverless instance, per second.
    pub serverless_per_second: f64,
    /// Serverless traffic, per GB (10^9 bytes).
    pub serverless_per_gb: f64,
}

/// The 95th-percentile bill of a run lasting `run_ns`, prorated from the
/// monthly price.
pub fn bandwidth_bill(samples_bps: &[u64], run_ns: u64, prices: &Prices) -> f64 {
    let mbps = percentile_95(samples_bps) as f64 / 1e6;
    mbps * prices.bandwidth_per_mbps_month * (run_ns as f64 / MONTH_NS as f64)
}

/// Machine hours billed for machines held over `[from, to)` intervals:
/// each interval's started hours.
pub fn machine_hours(held: &[(u64, u64)]) -> u64 {
    held.iter().map(|&(a, b)| b.saturating_sub(a).div_ceil(NS_PER_HOUR)).sum()
}

/// Cost by tier, and per session-hour.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CostReport {
    /// Edge bandwidth (95th percentile).
    pub edge_bandwidth: f64,
    /// Edge machines.
    pub edge_machines: f64,
    /// Serverless instance time.
    pub serverless_compute: f64,
    /// Serverless traffic.
    pub serverless_traffic: f64,
    /// Session-hours served by the edge.
    pub edge_session_hours: f64,
    /// Session-hours served by serverless.
    pub serverless_session_hours: f64,
}

impl CostReport {
    /// Edge tier total.
    pub fn edge(&self) -> f64 {
        self.edge_bandwidth + self.edge_machines
    }
    /// Serverless tier total.
    pub fn serverless(&self) -> f64 {
        self.serverless_compute + self.serverless_traffic
    }
    /// Everything.
    pub fn total(&self) -> f64 {
        self.edge() + self.serverless()
    }
    /// Total cost per session-hour (both tiers); `None` without sessions.
    pub fn per_session_hour(&self) -> Option<f64> {
        let h = self.edge_session_hours + self.serverless_session_hours;
        (h > 0.0).then(|| self.total() / h)
    }
    /// Edge cost per edge session-hour.
    pub fn edge_per_session_hour(&self) -> Option<f64> {
        (self.edge_session_hours > 0.0).then(|| self.edge() / self.edge_session_hours)
    }
    /// Serverless cost per serverless session-hour.
    pub fn serverless_per_session_hour(&self) -> Option<f64> {
        (self.serverless_session_hours > 0.0).then(|| self.serverless() / self.serverless_session_hours)
    }
}

/// Inputs of a bill.
#[derive(Clone, Copy, Debug)]
pub struct Usage<'a> {
    /// Run length, ns.
    pub run_ns: u64,
    /// Edge bandwidth samples (5-minute averages), bps.
    pub edge_samples_bps: &'a [u64],
    /// Billed machine hours.
    pub machine_hours: u64,
    /// Billed serverless instance seconds.
    pub serverless_seconds: u64,
    /// Serverless traffic, bytes.
    pub serverless_bytes: u64,
    /// Session time on the edge, ns.
    pub edge_session_ns: u128,
    /// Session time on serverless, ns.
    pub serverless_session_ns: u128,
}

/// The bill.
pub fn bill(u: &Usage<'_>, p: &Prices) -> CostReport {
    CostReport {
        edge_bandwidth: bandwidth_bill(u.edge_samples_bps, u.run_ns, p),
        edge_machines: u.machine_hours as f64 * p.machine_per_hour,
        serverless_compute: u.serverless_seconds as f64 * p.serverless_per_second,
        serverless_traffic: u.serverless_bytes as f64 / 1e9 * p.serverless_per_gb,
        edge_session_hours: u.edge_session_ns as f64 / NS_PER_HOUR as f64,
        serverless_session_hours: u.serverless_session_ns as f64 / NS_PER_HOUR as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_averages_intervals() {
        let mut m = BandwidthMeter::new(0);
        // 375 MB in the first 5 minutes: 3e9 bits / 300 s = 10 Mbps.
        m.add(0, 125_000_000);
        m.add(FIVE_MINUTES_NS - 1, 250_000_000);
        m.add(FIVE_MINUTES_NS, 37_500_000);
        assert_eq!(m.samples(FIVE_MINUTES_NS * 3), &[10_000_000, 1_000_000, 0]);
    }

    #[test]
    fn percentile_nearest_rank() {
        assert_eq!(percentile_95(&[]), 0);
        assert_eq!(percentile_95(&[7]), 7);
        // 20 samples: rank 19.
        let s: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile_95(&s), 19);
        // 21 samples: ceil(19.95) = 20.
        let s: Vec<u64> = (1..=21).collect();
        assert_eq!(percentile_95(&s), 20);
    }

    #[test]
    fn machine_hours_round_up() {
        assert_eq!(machine_hours(&[(0, 1), (0, NS_PER_HOUR), (10, 10 + NS_PER_HOUR + 1)]), 1 + 1 + 2);
    }
}
