//! The last hop driven as a caller would: inputs in, outputs drained.

use cdnsim_codec::{DecodeRow, DecodeTable, Decoding, Fidelity};
use cdnsim_lasthop::{
    Block, ClientPlace, Config, Connection, EdgeId, FirstFit, HomeId, HomeInfo, LastHop, NatClass, Output,
    Sender, StreamId, Underlay,
};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

const SEC: u64 = 1_000_000_000;

/// Clients behind NAT class 1 can reach only home nodes with even ids;
/// every connection is direct, 10 ms one way.
struct Nat {
    home_nat: Vec<NatClass>,
}

impl Underlay for Nat {
    fn reachable(&self, client: NatClass, home: HomeId) -> bool {
        client.0 == 0 || self.home_nat[home.0 as usize].0 == 0
    }
    fn connect(&mut self, _: &ClientPlace, _: HomeId) -> Connection {
        Connection { relayed: false, latency_ns: 10_000_000 }
    }
}

fn config() -> Config {
    Config {
        block_ns: SEC,
        block_bytes: 125_000,
        symbol_bytes: 1250,
        symbols_per_node: 10,
        slots: 100,
        heartbeat_ns: 10 * SEC,
        candidates_factor: 2.0,
        ramp_blocks: 4,
        target: 0.999,
        headroom_symbols: 2,
        stop_ns: 600 * SEC,
    }
}

/// 40 home nodes of stream 0 in region 0, ISP 0, slots 0..40; odd ones
/// behind NAT class 1.
fn last_hop() -> LastHop {
    let homes: Vec<HomeInfo> = (0..40)
        .map(|h| HomeInfo {
            id: h,
            region: 0,
            isp: 0,
            nat: NatClass((h % 2) as u8),
            fstream: 0,
            slot: h,
            edge: EdgeId(0),
            online: true,
        })
        .collect();
    let nat = Nat { home_nat: homes.iter().map(|h| h.nat).collect() };
    let cfg = config();
    let (spec, _) = cfg.check().unwrap();
    let table = DecodeTable::from_rows(&[DecodeRow { k: 100, extra: 0, trials: 10, failures: 0 }]).unwrap();
    let mut lh = LastHop::new(
        cfg,
        &homes,
        vec![StreamId(0)],
        1,
        Box::new(nat),
        Box::new(FirstFit),
        Decoding::new(Fidelity::Model, spec, table, 1),
        Xoshiro256PlusPlus::seed_from_u64(1),
    );
    lh.start();
    for h in 0..40 {
        lh.register(0, HomeId(h), 50_000_000);
    }
    while lh.poll().is_some() {}
    lh
}

fn drain(lh: &mut LastHop) -> Vec<Output> {
    std::iter::from_fn(|| lh.poll()).collect()
}

/// The home nodes the edge feeds block `block` of stream 0 to.
fn fed_homes(lh: &mut LastHop, block: u32) -> Vec<u32> {
    lh.block_ready(StreamId(0), EdgeId(0), Block(block));
    drain(lh)
        .into_iter()
        .filter_map(|o| match o {
            Output::Feed { home, .. } => Some(home.0),
            _ => None,
        })
        .collect()
}

#[test]
fn a_client_only_gets_home_nodes_its_nat_can_reach() {
    let mut lh = last_hop();
    // Client NAT class 1: odd (class 1) nodes can never connect to it.
    let c = lh.client_join(5 * SEC, StreamId(0), EdgeId(0), 0, Some(0), NatClass(1), Some(Block(4)));
    drain(&mut lh);
    assert!(lh.client_tally(c).nodes_used > 0, "it found nodes at all");
    // Every node it subscribed to is fed: drive a block, see who is.
    let fed = fed_homes(&mut lh, 7);
    assert!(!fed.is_empty());
    assert!(fed.iter().all(|h| h % 2 == 0), "fed nodes {fed:?} include one the client's NAT cannot reach");
    // A client behind class 0 reaches both kinds.
    let _ = lh.client_join(5 * SEC, StreamId(0), EdgeId(0), 0, Some(0), NatClass(0), Some(Block(4)));
    drain(&mut lh);
    let fed = fed_homes(&mut lh, 8);
    assert!(fed.iter().any(|h| h % 2 == 1), "{fed:?}");
}

#[test]
fn the_server_completes_a_block_home_nodes_fell_short_on_before_it_plays() {
    let mut lh = last_hop();
    let c = lh.client_join(5 * SEC, StreamId(0), EdgeId(0), 0, Some(0), NatClass(0), Some(Block(4)));
    drain(&mut lh);
    // Block 6 gets only 30 symbols from the server and nothing from home
    // nodes; it is reviewed (at 8.5 s) while the player still wants block 6.
    let arrival = lh.symbols_arrived(c, Sender::Server, Block(6), 0, 30, 0, 6, || false).unwrap();
    assert!(!arrival.decoded);
    lh.client_review(8 * SEC + SEC / 2, c, Block(6), 6);
    let repairs: Vec<(u32, u16, u16)> = drain(&mut lh)
        .into_iter()
        .filter_map(|o| match o {
            Output::ServerSend { client, block, offset, count, .. } if client == c => Some((block.0, offset, count)),
            _ => None,
        })
        .collect();
    // K + headroom - held = 100 + 2 - 30, from after what the server was
    // already asked for of that block.
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    let (block, _, count) = repairs[0];
    assert_eq!((block, count), (6, 72));
    assert_eq!(lh.stats().server_repairs, 1);
    // Once the player is past the block, no repair is sent for it.
    lh.client_review(9 * SEC + SEC / 2, c, Block(7), 9);
    let late = drain(&mut lh).into_iter().any(|o| matches!(o, Output::ServerSend { block: Block(7), .. }));
    assert!(!late, "a block the player is past is not repaired");
}

#[test]
fn a_home_node_going_offline_stops_being_fed_and_serves_nothing() {
    let mut lh = last_hop();
    let c = lh.client_join(5 * SEC, StreamId(0), EdgeId(0), 0, Some(0), NatClass(0), Some(Block(4)));
    drain(&mut lh);
    let gone = HomeId(fed_homes(&mut lh, 7)[0]);
    lh.churn(7 * SEC, gone, false, 0);
    let out = drain(&mut lh);
    assert!(out.iter().any(|o| matches!(o, Output::Detach { .. })), "its edge is told it feeds one node fewer");
    lh.block_ready(StreamId(0), EdgeId(0), Block(8));
    assert!(!drain(&mut lh).iter().any(|o| matches!(o, Output::Feed { home, .. } if *home == gone)));
    // A feed still on its way when it went offline is wasted, not served.
    assert_eq!(lh.feed_arrived(8 * SEC, gone, Block(8), 0), 0);
    assert_eq!(lh.client_tally(c).evictions, 0, "its client finds out only at its next review");
}
