//! Tombstone scale-in cuts only the sessions still running at the
//! timeout; naive scale-in cuts every session present (the talk's pod
//! states: docs/references.md, Edge-container design).
//!
//! 50 pods take sessions for an hour (Poisson, 20/s, each to a random
//! pod), lengths Exp(m = 600 s). At t0 = 1 h every pod is scaled in with a
//! tombstone timeout T = 900 s. By memorylessness each session present at
//! t0 is still running at t0 + T with probability exp(-T/m) = 0.2231,
//! independently, so the number cut is Binomial(n, exp(-T/m)), n the
//! sessions present (about 12 000). The test allows 3.29 binomial standard
//! errors (99.9%). Naive scale-in cuts exactly n. A tombstone pod revived
//! before its timeout cuts nothing.

mod common;

use cdnsim_edge::{CutCause, Pod, PodConfig, PodEvent, PodId, PodState, Resources, ScaleIn, SessionId};
use common::{Queue, exp_ns, stream};
use rand::Rng;

const PODS: usize = 50;
const S: u64 = 1_000_000_000;
const T0: u64 = 3_600 * S;
const TIMEOUT: u64 = 900 * S;
const MEAN: f64 = 600e9;

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    End(usize, u64),
    ScaleIn,
    Revive,
    Timeout(usize),
}

struct Outcome {
    present: u64,
    cut: u64,
    cut_events: u64,
    ended_after_t0: u64,
}

fn run(seed: u64, scale_in: ScaleIn, revive_at: Option<u64>) -> Outcome {
    let cfg = PodConfig { capacity: Resources::new(1_000_000, 0, 0, 0, 0), max_sessions: 65_536, scale_in };
    let mut pods: Vec<Pod> = (0..PODS).map(|i| Pod::new(PodId(i as u32), cfg, 40_000, 0, 0).unwrap()).collect();
    for p in &mut pods {
        p.handle_timeout(0);
        assert_eq!(p.state(), PodState::Allocated);
    }
    let mut arr = stream(seed, "arrivals");
    let mut len = stream(seed, "lengths");
    let mut pick = stream(seed, "pod");
    let mut q = Queue::new();
    let mut t = 0u64;
    let mut sid = 0u64;
    loop {
        t += exp_ns(&mut arr, 1e9 / 20.0);
        if t >= T0 {
            break;
        }
        let i = pick.random_range(0..PODS);
        pods[i].open_session(t, SessionId(sid), Resources::new(1, 0, 0, 0, 0)).unwrap();
        q.push(t + exp_ns(&mut len, MEAN), Ev::End(i, sid));
        sid += 1;
    }
    q.push(T0, Ev::ScaleIn);
    if let Some(r) = revive_at {
        q.push(r, Ev::Revive);
    }
    let mut out = Outcome { present: 0, cut: 0, cut_events: 0, ended_after_t0: 0 };
    while let Some((now, ev)) = q.pop() {
        match ev {
            Ev::End(i, s) => {
                if pods[i].close_session(now, SessionId(s)) && now >= T0 {
                    out.ended_after_t0 += 1;
                }
            }
            Ev::ScaleIn => {
                for (i, p) in pods.iter_mut().enumerate() {
                    p.scale_in(now).unwrap();
                    if let Some(tt) = p.poll_timeout() {
                        q.push(tt, Ev::Timeout(i));
                    }
                }
            }
            Ev::Revive => {
                for p in pods.iter_mut().filter(|p| p.state() == PodState::Tombstone) {
                    p.revive(now).unwrap();
                }
            }
            Ev::Timeout(i) => pods[i].handle_timeout(now),
        }
        for p in pods.iter_mut() {
            while let Some(e) = p.poll_event() {
                match e {
                    PodEvent::Tombstoned { sessions, .. } => out.present += sessions as u64,
                    PodEvent::SessionCut { cause, at_ns, .. } => {
                        out.cut_events += 1;
                        match cause {
                            CutCause::Eviction => assert_eq!(at_ns, T0 + TIMEOUT),
                            CutCause::NaiveScaleIn => assert_eq!(at_ns, T0),
                            CutCause::Recreate | CutCause::Failure | CutCause::ControlPlane => panic!("no upgrades or failures here"),
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out.cut = pods.iter().map(|p| p.cut()).sum();
    out
}

#[test]
fn tombstone_cuts_exp_minus_t_over_m() {
    let p = (-(TIMEOUT as f64) / MEAN).exp();
    for seed in [11u64, 12, 13] {
        let o = run(seed, ScaleIn::Tombstone { timeout_ns: TIMEOUT }, None);
        let n = o.present as f64;
        let share = o.cut as f64 / n;
        let half = 3.29 * (p * (1.0 - p) / n).sqrt();
        println!("seed {seed}: {} present, {} cut: {share:.4} vs exp(-T/m) = {p:.4} +- {half:.4}", o.present, o.cut);
        assert!((share - p).abs() <= half, "{share} vs {p} +- {half}");
        assert_eq!(o.cut, o.cut_events);
        assert_eq!(o.cut + o.ended_after_t0, o.present);
    }
}

#[test]
fn naive_cuts_everything_present() {
    let o = run(11, ScaleIn::Naive, None);
    assert!(o.present == 0, "naive pods never enter tombstone");
    let tomb = run(11, ScaleIn::Tombstone { timeout_ns: TIMEOUT }, None);
    // Same seed, same sessions: naive cuts all of those the tombstone run
    // found present.
    assert_eq!(o.cut, tomb.present);
    assert_eq!(o.ended_after_t0, 0);
}

#[test]
fn revived_pods_cut_nothing() {
    let o = run(11, ScaleIn::Tombstone { timeout_ns: TIMEOUT }, Some(T0 + TIMEOUT / 2));
    assert!(o.present > 10_000);
    assert_eq!(o.cut, 0);
    assert_eq!(o.ended_after_t0, o.present);
}
