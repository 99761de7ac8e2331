//! Route computation of `cdnsim-routing` (benches/README.md has the
//! figures): joins (cold: every search cache dropped first; cached: the
//! same targets again) on the bundled China backbone and on a 10,000-node
//! synthetic graph, and one `reroutes()` round with many streams.
//!
//! The China overlay graph comes from `cdnsim_benches::china` (shared with
//! the instruction-count gate).

use std::time::{Duration, Instant};

use cdnsim_engine::stream;
use cdnsim_routing::{Graph, Mode, Observation, Policy, Router, ScoreFn, Tier};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::Rng;

const SEED: u64 = 0x5EED_0004;
/// (source, target) pairs per join benchmark.
const PAIRS: usize = 64;

fn china_graph() -> Graph {
    cdnsim_benches::china::china_graph().unwrap_or_else(|e| panic!("{e}"))
}

fn edges(g: &Graph) -> Vec<u32> {
    (0..g.node_count() as u32).filter(|&u| g.node(u).tier == Tier::Edge).collect()
}

/// Distinct random (source, target) edge pairs.
fn pairs(g: &Graph, count: usize, name: &str) -> Vec<(u32, u32)> {
    let e = edges(g);
    let mut rng = stream(SEED, name);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let (a, b) = (e[rng.random_range(0..e.len())], e[rng.random_range(0..e.len())]);
        if a != b {
            out.push((a, b));
        }
    }
    out
}

/// Times one join per iteration, each on a stream id never used before
/// (so a mesh agent has no cached route for it) that is closed (untimed)
/// right after; `cold` drops every search cache before it.
fn time_joins(router: &mut Router, pairs: &[(u32, u32)], cold: bool, iters: u64, next_stream: &mut u32) -> Duration {
    let mut total = Duration::ZERO;
    for k in 0..iters {
        let (s, t) = pairs[k as usize % pairs.len()];
        let id = *next_stream;
        *next_stream += 1;
        if cold {
            router.clear_caches();
        }
        let start = Instant::now();
        let r = router.join(k, id, s, t);
        total += start.elapsed();
        std::hint::black_box(&r);
        router.close(id);
    }
    total
}

fn bench_joins(c: &mut Criterion, name: &str, graph: &Graph) {
    let mut group = c.benchmark_group(format!("join/{name}"));
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    let pairs = pairs(graph, PAIRS, &format!("bench.routing.pairs.{name}"));
    for mode in [Mode::Pool, Mode::Mesh, Mode::Tree] {
        let mut router = Router::new(graph.clone(), mode, Policy::default(), ScoreFn::default()).unwrap();
        // How many of the pairs have a route at all (default policy).
        let routed = pairs.iter().enumerate().filter(|&(k, &(s, t))| router.join(0, k as u32, s, t).is_ok()).count();
        let hops: usize = (0..PAIRS as u32).map(|k| router.carriers(k).iter().filter(|c| c.1.is_some()).count()).sum();
        for k in 0..PAIRS as u32 {
            router.close(k);
        }
        eprintln!("join/{name}/{mode:?}: {routed} of {PAIRS} pairs routed, {hops} carrier links in all");
        let label = format!("{mode:?}").to_lowercase();
        let mut next = PAIRS as u32;
        if mode != Mode::Tree {
            group.bench_function(format!("{label}/cold"), |b| {
                b.iter_custom(|iters| time_joins(&mut router, &pairs, true, iters, &mut next))
            });
        }
        group.bench_function(format!("{label}/cached"), |b| {
            b.iter_custom(|iters| time_joins(&mut router, &pairs, false, iters, &mut next))
        });
        let s = router.stats();
        eprintln!("  {s:?}");
    }
    group.finish();
}

/// `streams` UGC-like streams (a source edge and two viewers, the first in
/// the source's area when it has another edge), then rounds that each
/// change the scores of 5% of the links (untimed) and time `reroutes()`.
fn bench_reroutes(c: &mut Criterion, name: &str, graph: &Graph, streams: u32) {
    let mut group = c.benchmark_group(format!("reroutes/{name}"));
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    let e = edges(graph);
    for mode in [Mode::Pool, Mode::Mesh] {
        let mut router = Router::new(graph.clone(), mode, Policy::default(), ScoreFn::default()).unwrap();
        let mut rng = stream(SEED, &format!("bench.routing.streams.{name}"));
        let mut joined = 0;
        for s in 0..streams {
            let src = e[rng.random_range(0..e.len())];
            let near: Vec<u32> =
                e.iter().copied().filter(|&x| x != src && graph.node(x).area == graph.node(src).area).collect();
            let v1 =
                if near.is_empty() { e[rng.random_range(0..e.len())] } else { near[rng.random_range(0..near.len())] };
            let v2 = e[rng.random_range(0..e.len())];
            for v in [v1, v2] {
                joined += router.join(0, s, src, v).is_ok() as u32;
            }
        }
        eprintln!("reroutes/{name}/{mode:?}: {streams} streams, {joined} joins routed");
        let links = graph.link_count() as u32;
        let mut now = 1_000_000u64;
        let mut perturb = stream(SEED, &format!("bench.routing.perturb.{name}"));
        let mut moved = 0u64;
        let mut rounds = 0u64;
        group.bench_function(format!("{mode:?}").to_lowercase(), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    now += 10_000_000;
                    for _ in 0..links / 20 {
                        let l = perturb.random_range(0..links);
                        let loss = perturb.random_range(0.0..0.03);
                        router.observe(now, l, Observation { delay_us: 20_000, loss, retransmit_rate: loss / 2.0 });
                    }
                    let start = Instant::now();
                    let out = router.reroutes(now);
                    total += start.elapsed();
                    moved += out.len() as u64;
                    rounds += 1;
                }
                total
            })
        });
        eprintln!("  {rounds} rounds, {:.1} switches per round; {:?}", moved as f64 / rounds as f64, router.stats());
    }
    group.finish();
}

fn routing(c: &mut Criterion) {
    let t0 = Instant::now();
    let china = china_graph();
    eprintln!(
        "china overlay: {} nodes, {} links, built in {:.0} ms",
        china.node_count(),
        china.link_count(),
        t0.elapsed().as_secs_f64() * 1e3
    );
    let t0 = Instant::now();
    let synthetic = Graph::synthetic(10_000, SEED).unwrap();
    eprintln!(
        "synthetic: {} nodes, {} links, built in {:.0} ms",
        synthetic.node_count(),
        synthetic.link_count(),
        t0.elapsed().as_secs_f64() * 1e3
    );
    bench_joins(c, "china", &china);
    bench_joins(c, "synthetic10k", &synthetic);
    bench_reroutes(c, "china", &china, 2_000);
}

criterion_group!(benches, routing);
criterion_main!(benches);
