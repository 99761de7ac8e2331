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

/// Several overlay links (sources) feeding one shared backbone link: the
/// superposition of K independent Poisson processes of rate lambda / K is
/// Poisson of rate lambda, so the shared link is the same M/D/1 queue and
/// the same Pollaczek-Khinchine mean and tolerance apply (batch means, 4
/// standard errors). Each source draws from a stream of its own, and the
/// waits are read per source too: every source sees the same mean (PASTA),
/// checked within 4 of its own standard errors.
struct SharedMD1 {
    link: cdnsim_net::SharedLinks,
    sources: Vec<(cdnsim_engine::RngStream, Vec<f64>)>,
    exp: Exp<f64>,
    waits_s: Vec<f64>,
    limit: usize,
}

impl Model for SharedMD1 {
    type Event = u32;
    fn handle(&mut self, sched: &mut Scheduler<u32>, source: u32) {
        let now = sched.now();
        let dir = cdnsim_net::SharedDir::new(0, false);
        match self.link.offer(dir, now, 1000) {
            cdnsim_net::Pass::Through { start, .. } => {
                let w = (start - now).as_secs_f64();
                self.waits_s.push(w);
                self.sources[source as usize].1.push(w);
            }
            cdnsim_net::Pass::Dropped => panic!("the queue is large enough never to drop"),
        }
        if self.waits_s.len() < self.limit {
            let gap = SimDuration::from_secs_f64(self.exp.sample(&mut self.sources[source as usize].0));
            sched.schedule_in(gap, Class(0), source);
        }
    }
}

fn batch_se(waits: &[f64], batches: usize) -> (f64, f64) {
    let per_batch = waits.len() / batches;
    let means: Vec<f64> = waits.chunks_exact(per_batch).map(|b| b.iter().sum::<f64>() / b.len() as f64).collect();
    let mean = means.iter().sum::<f64>() / means.len() as f64;
    let var = means.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (means.len() - 1) as f64;
    (mean, (var / means.len() as f64).sqrt())
}

#[test]
fn shared_link_waiting_time_matches_md1() {
    check_shared_md1(cdnsim_net::SharedLinks::new([(8_000_000, u64::MAX / 2)], 1), 20261202);
}

#[test]
fn shared_link_under_background_load_waits_as_md1_on_what_is_left() {
    // 32 Mbit/s with three quarters taken by background traffic all day
    // leaves the 8 Mbit/s above: the same S = 1 ms and the same formula.
    let mut link = cdnsim_net::SharedLinks::new([(32_000_000, u64::MAX / 2)], 1);
    link.set_background(0, cdnsim_net::DailyShare { start_hour: 20, hourly: [0.75; 24] });
    check_shared_md1(link, 20261203);
}

/// Four Poisson sources of 1000 B chunks, 175/s each, into `link` (whose
/// first link must leave 8 Mbit/s: S = 1 ms, rho = 0.7): the mean wait
/// against Pollaczek-Khinchine, overall and per source.
fn check_shared_md1(link: cdnsim_net::SharedLinks, seed: u64) {
    // As above: S = 1 ms, rho = 0.7, now from 4 sources of 175/s each.
    let (service_s, lambda, k, batches, per_batch) = (1e-3, 700.0, 4usize, 40, 10_000);
    let rho = lambda * service_s;
    let expected = rho * service_s / (2.0 * (1.0 - rho));
    let mut m = SharedMD1 {
        link,
        sources: (0..k).map(|i| (cdnsim_engine::stream_indexed(seed, "md1.shared.arrivals", i as u64), Vec::new())).collect(),
        exp: Exp::new(lambda / k as f64).unwrap(),
        waits_s: Vec::new(),
        limit: batches * per_batch,
    };
    let mut sched = Scheduler::new(10);
    for i in 0..k as u32 {
        sched.schedule_at(SimTime::ZERO, Class(0), i);
    }
    run(&mut m, &mut sched, SimTime::MAX).unwrap();
    let (mean, se) = batch_se(&m.waits_s, batches);
    assert!(se < 0.03 * expected, "standard error {se} too large to test anything (seed {seed})");
    assert!(
        (mean - expected).abs() < 4.0 * se,
        "shared M/D/1 mean wait: simulated {mean:.6} s, formula {expected:.6} s, se {se:.6} s (seed {seed})"
    );
    for (i, (_, w)) in m.sources.iter().enumerate() {
        let (mean_i, se_i) = batch_se(w, 10);
        assert!(
            (mean_i - expected).abs() < 4.0 * se_i,
            "source {i}: mean wait {mean_i:.6} s, formula {expected:.6} s, se {se_i:.6} s"
        );
    }
    // Conservation with nothing dropped: everything offered left.
    let b = m.link.balance(cdnsim_net::SharedDir::new(0, false), SimTime::from_ns(u64::MAX / 2));
    assert_eq!((b.bytes_in, b.bytes_dropped, b.bytes_queued), (b.bytes_out, 0, 0));
}
