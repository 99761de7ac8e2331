//! The PHOLD workload, independent of any engine.
//!
//! N logical processes (LPs) share a fixed population of P events, spread
//! evenly over the LPs at the start. Handling an event at LP i draws, from
//! LP i's own stream, a destination LP (uniform) and a delay (lookahead +
//! exponential), and schedules one new event there: the pending count stays
//! exactly P for the whole run.
//!
//! Every implementation (engine, bare queues, nexosim) draws through the
//! functions here. Because each LP has its own stream and every event
//! consumes its LP's stream the same way, the multiset of handled
//! (time, LP) pairs up to a stop time does not depend on how an engine orders
//! events at the same instant; [`Tally`] sums a hash of each pair, so two
//! engines that agree on that multiset agree on the tally.

use cdnsim_engine::rng::splitmix64;
use cdnsim_engine::{RngStream, SimTime, stream_indexed};
use rand::Rng;
use rand_distr::Exp1;

/// Logical processes in every benchmark configuration.
pub const LPS: u32 = 1000;

/// Pending-event populations the benchmarks cover.
pub const POPULATIONS: [u32; 3] = [1_000, 10_000, 1_000_000];

/// Stream family of the per-LP generators.
pub const LP_STREAM: &str = "phold.lp";

/// One second of simulated time, the PHOLD time unit.
const UNIT_NS: u64 = 1_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PholdConfig {
    pub lps: u32,
    /// Events pending at every instant (P).
    pub population: u32,
    /// Minimum delay of every event, in ns.
    pub lookahead_ns: u64,
    /// Mean of the exponential part of the delay, in ns.
    pub mean_ns: u64,
    pub seed: u64,
}

impl PholdConfig {
    /// The benchmark configuration: [`LPS`] LPs, mean 1 and lookahead 0.1 in
    /// a unit of one second. A unit that large keeps same-nanosecond ties
    /// rare even at 10^6 pending, so no engine gains from batching events
    /// that happen to share a timestamp.
    pub fn new(population: u32, seed: u64) -> Self {
        PholdConfig { lps: LPS, population, lookahead_ns: UNIT_NS / 10, mean_ns: UNIT_NS, seed }
    }

    /// LP `lp`'s generator, fresh from the start of the run.
    pub fn lp_stream(&self, lp: u32) -> RngStream {
        stream_indexed(self.seed, LP_STREAM, lp as u64)
    }

    /// How many of the initial events LP `lp` holds: P / N each, the
    /// remainder going one apiece to the lowest-numbered LPs.
    pub fn initial_count(&self, lp: u32) -> u32 {
        self.population / self.lps + u32::from(lp < self.population % self.lps)
    }

    /// The times of LP `lp`'s initial events, drawn from its stream as if
    /// each had been scheduled at time zero.
    pub fn initial_times(&self, lp: u32, rng: &mut RngStream) -> Vec<u64> {
        (0..self.initial_count(lp)).map(|_| self.draw_delay(rng)).collect()
    }

    pub fn draw_delay(&self, rng: &mut RngStream) -> u64 {
        let x: f64 = rng.sample(Exp1);
        // Nearest nanosecond by +0.5 and truncation (the value is never
        // negative): `f64::round` is a libm call, a visible share of a
        // 100 ns event.
        self.lookahead_ns + (x * self.mean_ns as f64 + 0.5) as u64
    }

    /// The (destination, delay in ns) of the event that handling one event
    /// schedules. The delay is never below the lookahead, which is > 0, so
    /// no event is ever scheduled at the instant of its parent.
    pub fn draw_hop(&self, rng: &mut RngStream) -> (u32, u64) {
        let dest = rng.random_range(0..self.lps);
        (dest, self.draw_delay(rng))
    }

    /// Simulated time in which about `events` events are handled in steady
    /// state: P events pending, each handled once per mean delay.
    pub fn span_for(&self, events: u64) -> u64 {
        let mean_delay = (self.lookahead_ns + self.mean_ns) as u128;
        (events as u128 * mean_delay / self.population.max(1) as u128) as u64
    }

    /// The stop time of a warm-up long enough that the queue is past its
    /// initial layout: every initial event has been handled about once.
    pub fn warm_up_stop(&self) -> SimTime {
        SimTime::from_ns(self.lookahead_ns + self.span_for(self.population as u64))
    }
}

/// Count and order-independent checksum of handled (time, LP) pairs.
///
/// The checksum is a wrapping sum so that it is independent of the order of
/// events at one instant (nexosim and the engine break such ties
/// differently) and so that the tally of a window is the difference of two
/// running tallies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub events: u64,
    pub checksum: u64,
}

impl Tally {
    pub fn term(time_ns: u64, lp: u32) -> u64 {
        splitmix64(time_ns ^ splitmix64(lp as u64))
    }

    pub fn record(&mut self, time_ns: u64, lp: u32) {
        self.events += 1;
        self.checksum = self.checksum.wrapping_add(Self::term(time_ns, lp));
    }

    /// What was recorded after `earlier`, a previous value of this tally.
    pub fn since(self, earlier: Tally) -> Tally {
        Tally {
            events: self.events - earlier.events,
            checksum: self.checksum.wrapping_sub(earlier.checksum),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_is_spread_evenly() {
        let cfg = PholdConfig { population: 2_503, ..PholdConfig::new(0, 1) };
        let counts: Vec<u32> = (0..cfg.lps).map(|lp| cfg.initial_count(lp)).collect();
        assert_eq!(counts.iter().sum::<u32>(), 2_503);
        assert_eq!(counts[0], 3);
        assert_eq!(counts[502], 3);
        assert_eq!(counts[503], 2);
        assert_eq!(counts[999], 2);
    }

    #[test]
    fn delays_respect_the_lookahead_and_the_mean() {
        let cfg = PholdConfig::new(1_000, 7);
        let mut rng = cfg.lp_stream(3);
        let n = 200_000;
        let mut sum = 0u128;
        for _ in 0..n {
            let (dest, d) = cfg.draw_hop(&mut rng);
            assert!(dest < cfg.lps);
            assert!(d >= cfg.lookahead_ns);
            sum += (d - cfg.lookahead_ns) as u128;
        }
        let mean = sum as f64 / n as f64 / cfg.mean_ns as f64;
        assert!((mean - 1.0).abs() < 0.01, "exponential mean {mean}");
    }
}
