//! The link model against queueing theory: one link fed by Poisson
//! arrivals of fixed-size messages is an M/D/1 queue, whose mean waiting
//! time is the Pollaczek-Khinchine formula W = rho S / (2 (1 - rho)).
//!
//! Tolerance: waiting times of successive messages are correlated, so the
//! standard error comes from batch means (40 batches of 10,000 arrivals;
//! batches this long are nearly independent at rho = 0.7, whose correlation
//! time is a few hundred services). The test asserts the simulated mean is
//! within 4 standard errors of the formula (a false alarm has probability
//! below 1e-4), and that the standard error is under 3% of W, so a model
//! error of 12% or more cannot hide inside the tolerance.

use cdnsim_engine::{Class, Model, Scheduler, SimDuration, SimTime, run, stream};
use cdnsim_net::{Fifo, Offer};
use rand_distr::{Distribution, Exp};

struct MD1 {
    link: Fifo,
    arrivals: cdnsim_engine::RngStream,
    exp: Exp<f64>,
    waits_s: Vec<f64>,
    limit: usize,
}

impl Model for MD1 {
    type Event = ();
    fn handle(&mut self, sched: &mut Scheduler<()>, _: ()) {
        let now = sched.now();
        match self.link.offer(now, 1000) {
            Offer::Sent { start, .. } => self.waits_s.push((start - now).as_secs_f64()),
            Offer::Dropped => panic!("the queue is large enough never to drop"),
        }
        if self.waits_s.len() < self.limit {
            let gap = SimDuration::from_secs_f64(self.exp.sample(&mut self.arrivals));
            sched.schedule_in(gap, Class(0), ());
        }
    }
}

#[test]
fn link_waiting_time_matches_md1() {
    let seed = 20261122;
    // 1000-byte messages on 8 Mbit/s: S = 1 ms; lambda = 700/s: rho = 0.7.
    let (service_s, lambda, batches, per_batch) = (1e-3, 700.0, 40, 10_000);
    let rho = lambda * service_s;
    let expected = rho * service_s / (2.0 * (1.0 - rho));

    let mut m = MD1 {
        link: Fifo::new(8_000_000, u64::MAX / 2),
        arrivals: stream(seed, "md1.arrivals"),
        exp: Exp::new(lambda).unwrap(),
        waits_s: Vec::new(),
        limit: batches * per_batch,
    };
    let mut sched = Scheduler::new(10);
    sched.schedule_at(SimTime::ZERO, Class(0), ());
    run(&mut m, &mut sched, SimTime::MAX).unwrap();
    assert_eq!(m.waits_s.len(), batches * per_batch);

    let means: Vec<f64> = m.waits_s.chunks(per_batch).map(|b| b.iter().sum::<f64>() / b.len() as f64).collect();
    let mean = means.iter().sum::<f64>() / batches as f64;
    let var = means.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (batches - 1) as f64;
    let se = (var / batches as f64).sqrt();
    assert!(se < 0.03 * expected, "standard error {se} too large to test anything (seed {seed})");
    assert!(
        (mean - expected).abs() < 4.0 * se,
        "M/D/1 mean wait: simulated {mean:.6} s, formula {expected:.6} s, se {se:.6} s (seed {seed})"
    );
}
