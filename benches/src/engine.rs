//! PHOLD on the engine: one [`Model`] whose event is the index of the LP it
//! happens at, run by [`run`] with the pending bound set to the population,
//! so an implementation that leaked or duplicated events would end the run
//! with [`EngineError::PendingBound`] instead of timing a different workload.

use cdnsim_engine::{Class, EngineError, Model, RngStream, Scheduler, SimDuration, SimTime, run};

use crate::phold::{PholdConfig, Tally};

/// Every PHOLD event has the same tie-break class: PHOLD has no notion of
/// priority, and ties at one nanosecond are then broken by insertion order.
const CLASS: Class = Class(0);

pub struct PholdModel {
    cfg: PholdConfig,
    rngs: Vec<RngStream>,
    tally: Tally,
}

impl Model for PholdModel {
    type Event = u32;

    fn handle(&mut self, sched: &mut Scheduler<u32>, lp: u32) {
        self.tally.record(sched.now().as_ns(), lp);
        let (dest, delay) = self.cfg.draw_hop(&mut self.rngs[lp as usize]);
        sched.schedule_in(SimDuration::from_ns(delay), CLASS, dest);
    }
}

impl PholdModel {
    pub fn tally(&self) -> Tally {
        self.tally
    }
}

/// A PHOLD run in progress: the model and the scheduler holding its events.
pub struct EnginePhold {
    pub model: PholdModel,
    pub sched: Scheduler<u32>,
}

impl EnginePhold {
    /// The initial state: every LP's initial events scheduled, nothing
    /// handled yet.
    pub fn new(cfg: PholdConfig) -> Self {
        let mut sched = Scheduler::new(cfg.population as usize);
        let mut rngs = Vec::with_capacity(cfg.lps as usize);
        for lp in 0..cfg.lps {
            let mut rng = cfg.lp_stream(lp);
            for t in cfg.initial_times(lp, &mut rng) {
                sched.schedule_at(SimTime::from_ns(t), CLASS, lp);
            }
            rngs.push(rng);
        }
        EnginePhold { model: PholdModel { cfg, rngs, tally: Tally::default() }, sched }
    }

    /// Handles every event up to and including `stop` and returns the tally
    /// of those events alone.
    pub fn run_until(&mut self, stop: SimTime) -> Result<Tally, EngineError> {
        let before = self.model.tally;
        let stats = run(&mut self.model, &mut self.sched, stop)?;
        let window = self.model.tally.since(before);
        debug_assert_eq!(stats.events, window.events);
        debug_assert_eq!(stats.pending_at_stop, self.model.cfg.population as usize);
        Ok(window)
    }

    pub fn tally(&self) -> Tally {
        self.model.tally
    }

    pub fn pending(&self) -> usize {
        self.sched.pending()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_to(population: u32, seed: u64, stop_ns: u64) -> (Tally, usize) {
        let mut p = EnginePhold::new(PholdConfig::new(population, seed));
        let t = p.run_until(SimTime::from_ns(stop_ns)).unwrap();
        (t, p.pending())
    }

    #[test]
    fn same_seed_same_events_and_checksum() {
        let cfg = PholdConfig::new(10_000, 42);
        let stop = cfg.span_for(200_000);
        let (a, _) = run_to(10_000, 42, stop);
        let (b, _) = run_to(10_000, 42, stop);
        assert_eq!(a, b);
        assert!(a.events > 150_000, "{a:?}");
        let (c, _) = run_to(10_000, 43, stop);
        assert_ne!(a.checksum, c.checksum);
    }

    #[test]
    fn pending_count_stays_at_the_population() {
        for population in [1_000, 2_503, 10_000] {
            let cfg = PholdConfig::new(population, 5);
            let mut p = EnginePhold::new(cfg);
            assert_eq!(p.pending(), population as usize);
            let step = cfg.span_for(population as u64 / 4);
            for k in 1..=20 {
                // The scheduler's bound is the population, so run_until
                // would fail if the count ever went above it in between.
                p.run_until(SimTime::from_ns(k * step)).unwrap();
                assert_eq!(p.pending(), population as usize);
            }
            assert!(p.tally().events > 4 * population as u64);
        }
    }

    #[test]
    fn windows_add_up_to_the_whole_run() {
        let cfg = PholdConfig::new(1_000, 9);
        let (mid, end) = (cfg.span_for(30_000), cfg.span_for(70_000));
        let mut split = EnginePhold::new(cfg);
        let first = split.run_until(SimTime::from_ns(mid)).unwrap();
        let second = split.run_until(SimTime::from_ns(end)).unwrap();
        let (whole, _) = run_to(1_000, 9, end);
        assert_eq!(first.events + second.events, whole.events);
        assert_eq!(first.checksum.wrapping_add(second.checksum), whole.checksum);
    }
}
