//! One shared pool needs fewer machines than dedicated per-customer pools
//! for the same rejection rate (Verma et al., Borg, EuroSys 2015: 20-30%
//! more machines in the median cell when prod and non-prod are split;
//! docs/references.md, Borg pooling).
//!
//! Workload: 4 customers, each offering 40 Erlang of pods (Poisson
//! arrivals, Exp(1 min) lifetimes), a pod 1 unit, a machine 4 units. A pool
//! of m machines is then a loss system with 4 m servers (pods are
//! identical, so any machine with room takes one and the policy does not
//! matter), and its rejection rate is Erlang B(4 m, load)
//! (docs/references.md, Erlang B).
//!
//! Expected magnitude (closed form, computed here independently of the
//! crate): the smallest pool with B <= 1% is 14 machines per customer (B =
//! 0.31%), 56 in all, against 45 for one shared pool of 160 Erlang (B =
//! 0.95%): the split needs 24% more machines, inside Borg's range. The
//! pooled system wins because the sum's 99th-percentile demand is far
//! below the sum of each customer's.
//!
//! The simulation checks that the crate's pools behave as that model says
//! (dedicated pools admit only their customer, the shared pool everyone):
//! for each set-up the measured rejection share is within a 99.9% CI of
//! its Erlang B value, from 12 independent replications (blocking events
//! are correlated, so the CI is on replication means, Student t). And at
//! the shared pool's machine count, the split set-up rejects measurably
//! more than the shared one.

mod common;

use cdnsim_edge::{AllocId, Admission, Binpack, Cluster, CustomerId, Level, PoolId, PoolSpec, Rejection, Resources, Topology};
use common::{Queue, erlang_b, exp_ns, mean_sd, stream, t999};
use rand::Rng;

const CUSTOMERS: usize = 4;
const LOAD: f64 = 40.0;
const PER_MACHINE: u64 = 4;
const MINUTE: f64 = 60e9;
const WARMUP: u64 = 8_000;
const ARRIVALS: u64 = 80_000;

fn machines_for(load: f64, eps: f64) -> u64 {
    (1..).find(|&m| erlang_b(m * PER_MACHINE, load) <= eps).unwrap()
}

/// `sizes[i]` machines in pool i; `dedicated` gives pool i to customer i.
fn replication(seed: u64, sizes: &[u64], dedicated: bool) -> f64 {
    let mut t = Topology::new();
    let g = t.add_region("r").unwrap();
    let room = t.add_room(g, "a").unwrap();
    let mut c = Cluster::new(t);
    let mut pools: Vec<PoolId> = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let admits = if dedicated { Admission::Customers(vec![CustomerId(i as u32)]) } else { Admission::Shared };
        let p = c.add_pool(PoolSpec::new(format!("p{i}"), Level::Room(room), admits, Box::new(Binpack::default()))).unwrap();
        for _ in 0..n {
            c.add_machine(room, Resources::new(PER_MACHINE * 1000, 0, 0, 0, 0), p).unwrap();
        }
        pools.push(p);
    }
    let chains: Vec<Vec<PoolId>> = (0..CUSTOMERS).map(|k| c.chain_for(room, CustomerId(k as u32))).collect();
    if dedicated {
        for (k, ch) in chains.iter().enumerate() {
            assert_eq!(ch, &vec![pools[k]], "a dedicated customer sees only its own pool");
        }
    }
    let mut arr = stream(seed, "arrivals");
    let mut who = stream(seed, "customer");
    let mut hold = stream(seed, "holding");
    let rate_mean_ns = MINUTE / (LOAD * CUSTOMERS as f64);
    let mut q: Queue<(u8, u32)> = Queue::new(); // (0 leave / 1 arrive, alloc)
    q.push(exp_ns(&mut arr, rate_mean_ns), (1, 0));
    let (mut n, mut rejected) = (0u64, 0u64);
    let need = Resources::new(1000, 0, 0, 0, 0);
    while let Some((now, (kind, a))) = q.pop() {
        if kind == 0 {
            c.release(AllocId(a)).unwrap();
            continue;
        }
        n += 1;
        if n > WARMUP + ARRIVALS {
            break;
        }
        q.push(now + exp_ns(&mut arr, rate_mean_ns), (1, 0));
        let k = who.random_range(0..CUSTOMERS);
        let o = c.place_chain(&chains[k], &need, CustomerId(k as u32));
        let life = exp_ns(&mut hold, MINUTE);
        match o.placed {
            Some(p) => q.push(now + life, (0, p.alloc.0)),
            None => {
                assert!(matches!(o.tried.as_slice(), [(_, Rejection::NoFit { .. })]));
                if n > WARMUP {
                    rejected += 1;
                }
            }
        }
    }
    rejected as f64 / ARRIVALS as f64
}

fn measure(sizes: &[u64], dedicated: bool) -> (f64, f64) {
    let xs: Vec<f64> = (0..12).map(|r| replication(500 + r, sizes, dedicated)).collect();
    let (m, sd) = mean_sd(&xs);
    (m, t999(11) * sd / (xs.len() as f64).sqrt())
}

#[test]
fn splitting_the_pool_needs_more_machines() {
    let eps = 0.01;
    let per = machines_for(LOAD, eps);
    let shared = machines_for(LOAD * CUSTOMERS as f64, eps);
    let overhead = (per * CUSTOMERS as u64) as f64 / shared as f64 - 1.0;
    println!("dedicated {per} x {CUSTOMERS} = {}, shared {shared}: +{:.1}%", per * CUSTOMERS as u64, overhead * 100.0);
    assert_eq!((per, shared), (14, 45));
    assert!((0.20..=0.30).contains(&overhead));

    // Shared pool of 45 machines.
    let (m, h) = measure(&[shared], false);
    let e = erlang_b(shared * PER_MACHINE, LOAD * CUSTOMERS as f64);
    println!("shared {shared}: rejected {m:.5} +- {h:.5}, Erlang B {e:.5}");
    assert!((m - e).abs() <= h, "shared: {m} vs {e} +- {h}");
    let shared_upper = m + h;

    // Dedicated pools of 14 each: every customer's B = 0.31%.
    let (m, h) = measure(&[per; CUSTOMERS], true);
    let e = erlang_b(per * PER_MACHINE, LOAD);
    println!("dedicated {per} each: rejected {m:.5} +- {h:.5}, Erlang B {e:.5}");
    assert!((m - e).abs() <= h, "dedicated: {m} vs {e} +- {h}");
    assert!(m - h <= eps);

    // The shared pool's 45 machines split 12 + 11 + 11 + 11: the customers
    // arrive equally often, so the rejected share is the mean of their B.
    let split = [12u64, 11, 11, 11];
    let (m, h) = measure(&split, true);
    let e = split.iter().map(|&s| erlang_b(s * PER_MACHINE, LOAD)).sum::<f64>() / CUSTOMERS as f64;
    println!("dedicated 12+11+11+11: rejected {m:.5} +- {h:.5}, Erlang B {e:.5}");
    assert!((m - e).abs() <= h, "split: {m} vs {e} +- {h}");
    assert!(m - h > shared_upper, "the split must reject more at the same machine count");
}
