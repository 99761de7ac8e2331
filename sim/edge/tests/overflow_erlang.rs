//! Overflow from a room to its region matches Erlang's loss formula.
//!
//! A room's pool is one machine with C = 10 Mbps of bandwidth; each
//! session needs 1 Mbps, so the room is a loss system with C servers.
//! Sessions arrive as a Poisson process at 8 per minute and last Exp(1
//! min): offered load A = 8 Erlang. A session the room refuses overflows
//! to the region's pool, which is large enough never to refuse. The share
//! of arrivals that overflow is the room's blocking probability, Erlang B
//! B(10, 8) = 0.12166 (insensitive to the holding-time distribution;
//! docs/references.md, Erlang B).
//!
//! Blocking events are correlated in time, so the CI is not binomial: 12
//! independent replications of 20 000 arrivals (the first 2 000 dropped as
//! warm-up from an empty room), a Student t 99.9% interval on their mean.

mod common;

use cdnsim_edge::{Admission, Binpack, Cluster, CustomerId, Level, PoolSpec, Rejection, Resource, Resources, Topology};
use common::{Queue, erlang_b, exp_ns, mean_sd, stream, t999};

const MBPS: u64 = 1_000_000;
const MINUTE: f64 = 60e9;

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Leave(cdnsim_edge::AllocId),
    Arrive,
}

/// (share overflowed after warm-up, sessions overflowed, region placements).
fn replication(seed: u64, load: f64, servers: u64) -> (f64, u64, u64) {
    let mut t = Topology::new();
    let g = t.add_region("r").unwrap();
    let room = t.add_room(g, "a").unwrap();
    let mut c = Cluster::new(t);
    let room_pool = c.add_pool(PoolSpec::new("room", Level::Room(room), Admission::Shared, Box::new(Binpack::default()))).unwrap();
    let region_pool = c.add_pool(PoolSpec::new("region", Level::Region(g), Admission::Shared, Box::new(Binpack::default()))).unwrap();
    c.add_machine(room, Resources::new(0, 0, servers * MBPS, 0, 0), room_pool).unwrap();
    c.add_machine(room, Resources::new(0, 0, 10_000 * MBPS, 0, 0), region_pool).unwrap();
    let chain = c.chain_for(room, CustomerId(0));
    assert_eq!(chain, vec![room_pool, region_pool]);
    let need = Resources::new(0, 0, MBPS, 0, 0);
    let mut arr = stream(seed, "arrivals");
    let mut hold = stream(seed, "holding");
    let mut q = Queue::new();
    q.push(exp_ns(&mut arr, MINUTE / load), Ev::Arrive);
    let (mut arrivals, mut counted, mut overflowed) = (0u64, 0u64, 0u64);
    while let Some((now, ev)) = q.pop() {
        match ev {
            Ev::Leave(a) => c.release(a).unwrap(),
            Ev::Arrive => {
                arrivals += 1;
                if arrivals > 22_000 {
                    break;
                }
                q.push(now + exp_ns(&mut arr, MINUTE / load), Ev::Arrive);
                let o = c.place_chain(&chain, &need, CustomerId(0));
                let p = o.placed.expect("the region never refuses");
                if arrivals > 2_000 {
                    counted += 1;
                }
                if o.overflow_steps() == 1 {
                    assert_eq!(o.tried.as_slice(), &[(room_pool, Rejection::NoFit { resource: Resource::Bandwidth, cordoned: 0 })]);
                    if arrivals > 2_000 {
                        overflowed += 1;
                    }
                }
                q.push(now + exp_ns(&mut hold, MINUTE), Ev::Leave(p.alloc));
            }
        }
    }
    let st = c.pool_info(region_pool).unwrap().stats;
    assert_eq!(st.overflow_in, c.pool_info(room_pool).unwrap().stats.overflow_out);
    (overflowed as f64 / counted as f64, overflowed, st.placed)
}

#[test]
fn room_overflow_is_erlang_b() {
    for (load, servers) in [(8.0, 10u64), (3.0, 5)] {
        let expected = erlang_b(servers, load);
        let shares: Vec<f64> = (0..12).map(|r| replication(100 + r, load, servers).0).collect();
        let (m, sd) = mean_sd(&shares);
        let half = t999(11) * sd / (shares.len() as f64).sqrt();
        println!("A = {load}, C = {servers}: overflow {m:.5} +- {half:.5}, Erlang B {expected:.5}");
        assert!((m - expected).abs() <= half, "A = {load}, C = {servers}: {m} vs {expected} +- {half}");
    }
}
