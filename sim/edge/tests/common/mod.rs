//! Test-only helpers: a timer queue keyed by (time, sequence), named
//! generator streams, Erlang B and small statistics.
#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Events ordered by time, then by the order they were pushed.
pub struct Queue<E> {
    heap: BinaryHeap<Reverse<(u64, u64, E)>>,
    seq: u64,
}

impl<E: Ord> Queue<E> {
    pub fn new() -> Self {
        Queue { heap: BinaryHeap::new(), seq: 0 }
    }
    pub fn push(&mut self, t: u64, e: E) {
        self.heap.push(Reverse((t, self.seq, e)));
        self.seq += 1;
    }
    pub fn pop(&mut self) -> Option<(u64, E)> {
        self.heap.pop().map(|Reverse((t, _, e))| (t, e))
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

/// A generator for stream `name` of run `seed` (FNV-1a of the name mixed
/// with the seed: stable across releases).
pub fn stream(seed: u64, name: &str) -> Xoshiro256PlusPlus {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    Xoshiro256PlusPlus::seed_from_u64(h ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Erlang's loss formula B(servers, offered load), by the stable
/// recursion B(0) = 1, B(n) = a B(n-1) / (n + a B(n-1))
/// (docs/references.md, Erlang B).
pub fn erlang_b(servers: u64, load: f64) -> f64 {
    let mut b = 1.0;
    for n in 1..=servers {
        b = load * b / (n as f64 + load * b);
    }
    b
}

/// Mean and sample standard deviation.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, v.sqrt())
}

/// Two-sided 99.9% Student t quantile t(0.9995, df) for the replication
/// counts these tests use (from tables:
/// docs/references.md, Student t quantiles).
pub fn t999(df: usize) -> f64 {
    match df {
        9 => 4.781,
        11 => 4.437,
        15 => 4.073,
        19 => 3.883,
        _ => panic!("no t quantile for df = {df}"),
    }
}

/// Exponential draw with this mean, ns (at least 1).
pub fn exp_ns(rng: &mut impl rand::RngCore, mean_ns: f64) -> u64 {
    let e = cdnsim_maths::sample::exp1(rng);
    ((e * mean_ns).round() as u64).max(1)
}
