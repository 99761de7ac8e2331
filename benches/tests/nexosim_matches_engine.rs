//! nexosim PHOLD (the bench's implementation, included from the bench
//! target) handles exactly the engine's events: same count and checksum of
//! (time, LP) pairs, on one worker thread and on several.

#[path = "../benches/phold/nx_phold.rs"]
mod nx_phold;

use cdnsim_benches::{EnginePhold, PholdConfig};
use cdnsim_engine::SimTime;
use nx_phold::NxPhold;

#[test]
fn same_tally_as_the_engine_window_by_window() {
    for (pending, threads) in [(1_000, 1), (10_000, 1), (10_000, 2)] {
        let cfg = PholdConfig::new(pending, 17);
        let mut engine = EnginePhold::new(cfg);
        let mut nexosim = NxPhold::new(cfg, threads);
        let step = cfg.span_for(20_000);
        for k in 1..=5 {
            let stop = SimTime::from_ns(k * step);
            let e = engine.run_until(stop).unwrap();
            assert_eq!(
                nexosim.run_until(stop),
                e,
                "{pending} pending, {threads} threads, window {k}"
            );
            assert!(e.events > 10_000);
        }
        assert_eq!(nexosim.tally(), engine.tally());
    }
}
