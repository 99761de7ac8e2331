//! Placement throughput at Kubernetes' scale limits
//! (docs/references.md, Kubernetes scale): one pool of 5 000 machines
//! carrying 150 000 pods. Each iteration places one pod and releases a
//! random live one, so the population stays at 150 000 and the index sees
//! the churn it sees in a run. Throughput is reported in placements per
//! second (each also paying for one release).
//!
//! `cargo bench -p cdnsim-edge --bench placement`

use std::hint::black_box;

use cdnsim_edge::{
    Admission, AllocId, Binpack, Cluster, CustomerId, Hybrid, Level, PlacementPolicy, PoolSpec, Resources, Spread, Topology,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const MACHINES: usize = 5_000;
const PODS: usize = 150_000;
const GIB: u64 = 1 << 30;

/// 32 cores, 128 GiB, 25 Gbps, 2 Mpps, 1 000 host ports.
const MACHINE: Resources = Resources::new(32_000, 128 * GIB, 25_000_000_000, 2_000_000, 1_000);

/// Pod shapes: media servers of four sizes (CPU, memory, bandwidth, pps
/// in proportion), two host ports each. Mean CPU 812 millicores: 150 000
/// pods fill 76% of the pool's CPU.
fn shapes() -> Vec<Resources> {
    [250u64, 500, 1_000, 1_500]
        .iter()
        .map(|&c| Resources::new(c, c * GIB / 250, c * 500_000, c * 40, 2))
        .collect()
}

fn setup(policy: Box<dyn PlacementPolicy>) -> (Cluster, Vec<AllocId>, Xoshiro256PlusPlus) {
    let mut t = Topology::new();
    let region = t.add_region("bench").unwrap();
    let room = t.add_room(region, "room").unwrap();
    let mut c = Cluster::new(t);
    let pool = c.add_pool(PoolSpec::new("pool", Level::Room(room), Admission::Shared, policy)).unwrap();
    for _ in 0..MACHINES {
        c.add_machine(room, MACHINE, pool).unwrap();
    }
    let shapes = shapes();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xED6E);
    let mut live = Vec::with_capacity(PODS);
    while live.len() < PODS {
        let s = shapes[rng.random_range(0..shapes.len())];
        live.push(c.place(pool, &s, CustomerId(0)).expect("76% full: fits").alloc);
    }
    (c, live, rng)
}

fn bench(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("placement_5000_machines_150000_pods");
    g.throughput(Throughput::Elements(1));
    type Make = fn() -> Box<dyn PlacementPolicy>;
    let policies: [(&str, Make); 3] = [
        ("spread", || Box::new(Spread::default())),
        ("binpack", || Box::new(Binpack::default())),
        ("hybrid", || Box::new(Hybrid::default())),
    ];
    for (name, make) in policies {
        let (mut c, mut live, mut rng) = setup(make());
        let pool = cdnsim_edge::PoolId(0);
        let shapes = shapes();
        let mut rejected = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                let i = rng.random_range(0..live.len());
                let gone = live.swap_remove(i);
                c.release(gone).unwrap();
                let s = shapes[rng.random_range(0..shapes.len())];
                match c.place(pool, black_box(&s), CustomerId(0)) {
                    Ok(p) => live.push(p.alloc),
                    Err(_) => rejected += 1,
                }
            })
        });
        let info = c.pool_info(pool).unwrap();
        println!(
            "{name}: {} live pods, {} non-empty machines, {} rejected, {:.1} machines examined per placement",
            live.len(),
            info.nonempty,
            rejected,
            info.stats.examined as f64 / info.stats.placed as f64
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
