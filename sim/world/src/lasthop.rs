//! The adapter between the world and the last-hop crate (`sim/lasthop`):
//! the world's events become the crate's inputs, its outputs become events,
//! queue offers and counters. What the last hop does (scheduler, home-node
//! agents, clients, decoding) is the crate's; what is here is the network
//! it runs on:
//! - every edge's last-hop sends leave through a queue of their own at the
//!   edge's egress rate, deep enough for one block duration (per-connection
//!   socket buffers: a block's symbols to thousands of clients leave in one
//!   burst when it completes); it does not share capacity with the edge's
//!   chunk traffic to viewers of streams not on the last hop;
//! - feeds and server symbols are IDC egress, and so are symbols relayed
//!   through a client's edge when NAT traversal failed (they do not queue
//!   at the relay);
//! - symbols are lost on the way independently: `loss` from a home node,
//!   the access network's loss from the server;
//! - NAT traversal (the home model's matrix and its own random stream) and
//!   the latencies between regions, behind the crate's `Underlay`.
//!
//! Which streams and home nodes take part: the `streams` most popular
//! streams; each home node serves one of them, drawn by popularity (rank r
//! weighs r^-zipf, as viewers choose) from a stream of its own
//! (`lasthop.assign`, by node id), with the next free slot of that
//! stream's share layout, fed by an edge of its region and ISP.

use cdnsim_codec::{DecodeTable, Decoding};
use cdnsim_engine::{RngStream, Scheduler, SimDuration, SimTime, stream, stream_indexed};
use cdnsim_lasthop::{
    Block, ClientId, ClientPlace, Config, Connection, EdgeId, FirstFit, HomeId, HomeInfo, LastHop, NatClass, Output,
    Sender, StreamId, Timer, Underlay,
};
use cdnsim_net::home::{HomeModel, NatType};
use cdnsim_net::{Fifo, Offer};
use cdnsim_scenario::Scenario;
use rand::Rng;

use crate::event::{Batch, Event, NET};
use crate::homes::Homes;
use crate::world::World;

/// The decode table every `model` scenario uses, made by `cdnsim calibrate`.
const DECODE_TABLE_CSV: &str = include_str!("../../../data/decode_model.csv");

/// What the network around the last hop added up, for the results.
#[derive(Clone, Copy, Debug, Default)]
pub struct EdgeStats {
    pub egress_to_homes_bytes: u64,
    pub egress_to_viewers_bytes: u64,
    pub egress_relay_bytes: u64,
    /// Feeds an edge's queue could not take (the home node misses the block).
    pub feeds_dropped: u64,
    /// Last-hop sends an edge's queue could not take (lost).
    pub edge_drops: u64,
}

/// The last hop of a run and the network it runs on.
pub struct LastHopNet {
    pub lh: LastHop,
    /// Per IDC node: its last-hop send queue (module docs).
    egress: Vec<Fifo>,
    /// Per client: its viewer.
    pub viewer_of: Vec<u32>,
    /// Symbol loss, home node -> client.
    loss: f64,
    /// One way between regions (row-major), access network included.
    region_ns: Vec<u64>,
    regions: usize,
    loss_rng: RngStream,
    nat_rng: RngStream,
    pub stats: EdgeStats,
}

/// NAT traversal and latencies, as the crate asks for them.
struct Net {
    model: HomeModel,
    traversal_rng: RngStream,
    /// Per home node: NAT type and region.
    nat: Vec<NatType>,
    region: Vec<u16>,
    /// Per IDC node: its region.
    node_region: Vec<u16>,
    /// One way between regions (row-major), access network included.
    region_ns: Vec<u64>,
    regions: usize,
    access_ns: u64,
}

impl Net {
    fn latency(&self, a: usize, b: usize) -> u64 {
        self.region_ns[a * self.regions + b]
    }
}

impl Underlay for Net {
    fn reachable(&self, client: NatClass, home: HomeId) -> bool {
        self.model.traversal().probability(NatType::ALL[client.0 as usize], self.nat[home.0 as usize]) > 0.0
    }

    fn connect(&mut self, client: &ClientPlace, home: HomeId) -> Connection {
        let (a, b) = (NatType::ALL[client.nat.0 as usize], self.nat[home.0 as usize]);
        let relayed = self.model.traversal().attempt(a, b, &mut self.traversal_rng) == cdnsim_net::home::Connection::Relay;
        let (home_region, client_region) = (self.region[home.0 as usize] as usize, client.region as usize);
        let latency_ns = if relayed {
            let edge_region = self.node_region[client.edge.0 as usize] as usize;
            self.latency(home_region, edge_region) + self.latency(edge_region, client_region)
        } else {
            self.latency(home_region, client_region) + self.access_ns
        };
        Connection { relayed, latency_ns }
    }
}

impl LastHopNet {
    /// The last hop of `sc` (which has `[last_hop]` and `[home]`).
    pub fn new(sc: &Scenario, seed: u64, homes: &Homes, edges_by_region: &[Vec<u32>]) -> LastHopNet {
        let cfg = sc.last_hop.as_ref().expect("a last hop is configured");
        let model = homes.model.clone().expect("home nodes have a model");
        let config = config(sc);
        let (spec, layout) = config.check().expect("validated by the scenario");
        let n = sc.broadcasters.count as usize;
        let count = (cfg.streams as usize).min(n);
        // Home nodes split over the streams by popularity, in id order so
        // the assignment does not depend on the layout in memory.
        let weights: Vec<f64> = (1..=count).map(|r| (r as f64).powf(-sc.broadcasters.zipf)).collect();
        let total: f64 = weights.iter().sum();
        let mut next_slot = vec![0u32; count];
        let mut by_id: Vec<u32> = (0..homes.nodes.len() as u32).collect();
        by_id.sort_by_key(|&h| homes.id[h as usize]);
        let mut assigned = vec![(0u32, 0u32); homes.nodes.len()];
        for &h in &by_id {
            let mut u = stream_indexed(seed, "lasthop.assign", homes.id[h as usize] as u64).random::<f64>() * total;
            let mut f = count - 1;
            for (i, w) in weights.iter().enumerate() {
                if u < *w {
                    f = i;
                    break;
                }
                u -= w;
            }
            assigned[h as usize] = (f as u32, next_slot[f] % layout.slots());
            next_slot[f] += 1;
        }
        let infos: Vec<HomeInfo> = assigned
            .iter()
            .enumerate()
            .map(|(h, &(fstream, slot))| {
                let region = homes.region[h] as usize;
                let isp_name = &homes.isps[homes.isp[h] as usize];
                let edges = &edges_by_region[region];
                let edge = edges
                    .iter()
                    .copied()
                    .find(|&e| &sc.nodes[e as usize].isp == isp_name)
                    .or_else(|| edges.first().copied())
                    .unwrap_or(sc.broadcasters.ingest.map_or(0, |i| i as u32));
                HomeInfo {
                    id: homes.id[h],
                    region: homes.region[h],
                    isp: homes.isp[h],
                    nat: NatClass(homes.nodes[h].nat().index() as u8),
                    fstream,
                    slot,
                    edge: EdgeId(edge),
                    online: homes.nodes[h].is_online(),
                }
            })
            .collect();
        let regions = sc.regions.len();
        let mut region_ns = vec![0u64; regions * regions];
        for a in 0..regions {
            for b in 0..regions {
                region_ns[a * regions + b] =
                    sc.region_latency_ns(a, b, sc.network.route_inflation) + sc.viewers.access_latency_ns;
            }
        }
        let net = Net {
            traversal_rng: stream(seed, "lasthop.traversal"),
            nat: homes.nodes.iter().map(|h| h.nat()).collect(),
            region: homes.region.clone(),
            node_region: sc.nodes.iter().map(|n| n.region as u16).collect(),
            region_ns: region_ns.clone(),
            regions,
            access_ns: sc.viewers.access_latency_ns,
            model,
        };
        let table = DecodeTable::parse_csv(DECODE_TABLE_CSV).expect("the bundled decode table parses");
        let lh = LastHop::new(
            config,
            &infos,
            (0..count as u32).map(StreamId).collect(),
            n,
            Box::new(net),
            Box::new(FirstFit),
            Decoding::new(cfg.fidelity, spec, table, seed),
            stream(seed, "lasthop.decode"),
        );
        LastHopNet {
            lh,
            egress: sc
                .nodes
                .iter()
                .map(|n| Fifo::new(n.egress_bps, (n.egress_bps as u128 * sc.stream.block_ns as u128 / 8_000_000_000) as u64))
                .collect(),
            viewer_of: Vec::new(),
            loss: cfg.loss,
            region_ns,
            regions,
            loss_rng: stream(seed, "lasthop.loss"),
            nat_rng: stream(seed, "lasthop.client_nat"),
            stats: EdgeStats::default(),
        }
    }

    /// Whether `stream` goes over the last hop.
    pub fn covers(&self, stream: u32) -> bool {
        self.lh.covers(StreamId(stream))
    }
}

impl World {
    fn net(&mut self) -> &mut LastHopNet {
        self.lasthop.as_mut().expect("last-hop events need a last hop")
    }

    /// Home nodes online at time zero register; every node gets its
    /// heartbeat clock.
    pub(crate) fn lasthop_start(&mut self, sched: &mut Scheduler<Event>) {
        let Some(net) = &mut self.lasthop else { return };
        net.lh.start();
        for h in 0..self.homes.nodes.len() {
            if self.homes.nodes[h].is_online() {
                let bps = self.homes.upload_bps(h, SimTime::ZERO);
                net.lh.register(0, HomeId(h as u32), bps);
            }
        }
        self.lasthop_outputs(sched);
    }

    /// Carries out what the last hop asked for, in its order.
    fn lasthop_outputs(&mut self, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        while let Some(out) = self.net().lh.poll() {
            match out {
                Output::Timer { at_ns, timer } => {
                    let event = match timer {
                        Timer::Heartbeat(h) => Event::Heartbeat(h),
                        Timer::Review { client, block } => Event::ClientTick { client, block },
                    };
                    sched.schedule_at(SimTime::from_ns(at_ns), NET, event);
                }
                Output::Attach { stream, edge } => self.lasthop_attach(sched, stream.0, edge.0),
                Output::Detach { stream, edge } => {
                    if let Some(carry) = self.carries.get_mut(&(stream.0, edge.0)) {
                        carry.lasthop_users -= 1;
                    }
                    self.maybe_release(sched, stream.0, edge.0);
                }
                Output::Feed { edge, home, stream, block, bytes } => {
                    let region = self.homes.region[home.0 as usize] as usize;
                    let edge_region = self.sc.nodes[edge.0 as usize].region;
                    let net = self.net();
                    let latency = SimDuration::from_ns(net.region_ns[edge_region * net.regions + region]);
                    match self.net().egress[edge.0 as usize].offer(now, bytes as u32) {
                        Offer::Dropped => {
                            self.net().stats.feeds_dropped += 1;
                            self.net().stats.edge_drops += 1;
                        }
                        Offer::Sent { depart, .. } => {
                            self.idc_egress(now, stream.0, bytes);
                            self.net().stats.egress_to_homes_bytes += bytes;
                            sched.schedule_at(depart + latency, NET, Event::PeerFeed { home, block });
                        }
                    }
                }
                Output::ServerSend { edge, client, stream, block, offset, count, bytes } => {
                    let latency = SimDuration::from_ns(self.sc.viewers.access_latency_ns);
                    if let Offer::Sent { depart, .. } = self.net().egress[edge.0 as usize].offer(now, bytes as u32) {
                        self.idc_egress(now, stream.0, bytes);
                        self.net().stats.egress_to_viewers_bytes += bytes;
                        let batch = Batch { client, sender: Sender::Server, block, count, offset, hint: 0 };
                        sched.schedule_at(depart + latency, NET, Event::Batch(batch));
                    } else {
                        self.net().stats.edge_drops += 1;
                    }
                }
                Output::HomeSend { home, client, stream, block, count, hint, arrive_ns, relayed, bytes } => {
                    if relayed {
                        self.net().stats.egress_relay_bytes += bytes;
                        self.idc_egress(now, stream.0, bytes);
                    }
                    let batch = Batch { client, sender: Sender::Home(home), block, count, offset: 0, hint };
                    sched.schedule_at(SimTime::from_ns(arrive_ns), NET, Event::Batch(batch));
                }
            }
        }
    }


    /// The edge gains a last-hop user: it must carry the stream.
    fn lasthop_attach(&mut self, sched: &mut Scheduler<Event>, stream: u32, edge: u32) {
        let cpb = self.chunks_per_block;
        let new = !self.carries.contains_key(&(stream, edge));
        self.carries.entry((stream, edge)).or_insert_with(|| crate::node::Carry::new(crate::node::Sub::Planned, cpb)).lasthop_users += 1;
        if new {
            self.request_route(sched, stream, edge);
        }
    }

    fn idc_egress(&mut self, now: SimTime, stream: u32, bytes: u64) {
        self.counters.idc_egress_bytes += bytes;
        self.second(now, stream).idc_egress_bytes += bytes;
    }

    /// Churn of home node `h` (already applied to its state).
    pub(crate) fn lasthop_churn(&mut self, sched: &mut Scheduler<Event>, h: u32) {
        if self.lasthop.is_none() {
            return;
        }
        let now = sched.now();
        let (online, bps) = (self.homes.nodes[h as usize].is_online(), self.homes.upload_bps(h as usize, now));
        self.net().lh.churn(now.as_ns(), HomeId(h), online, bps);
        self.lasthop_outputs(sched);
    }

    pub(crate) fn on_heartbeat(&mut self, sched: &mut Scheduler<Event>, h: HomeId) {
        let now = sched.now();
        let bps = self.homes.upload_bps(h.0 as usize, now);
        self.net().lh.heartbeat(now.as_ns(), h, bps);
        self.lasthop_outputs(sched);
    }

    /// Block `block` of `stream` completed at `edge`.
    pub(crate) fn lasthop_block(&mut self, sched: &mut Scheduler<Event>, stream: u32, edge: u32, block: u32) {
        let Some(net) = &mut self.lasthop else { return };
        net.lh.block_ready(StreamId(stream), EdgeId(edge), Block(block));
        self.lasthop_outputs(sched);
    }

    pub(crate) fn on_peer_feed(&mut self, sched: &mut Scheduler<Event>, h: HomeId, block: Block) {
        let now = sched.now();
        let bps = self.homes.upload_bps(h.0 as usize, now);
        let net = self.net();
        let downloaded = net.lh.feed_arrived(now.as_ns(), h, block, bps);
        if downloaded > 0 {
            let (stream, _) = net.lh.home_stream(h);
            self.second(now, stream.0).bytes_to_homes += downloaded;
        }
        self.lasthop_outputs(sched);
    }

    /// A viewer of a last-hop stream joins: a client on its edge's server.
    pub(crate) fn lasthop_join(&mut self, sched: &mut Scheduler<Event>, v: u32) {
        let now = sched.now();
        let viewer = &self.viewers[v as usize];
        let (stream, edge, region) = (viewer.stream, viewer.edge, viewer.region);
        let edge_isp = &self.sc.nodes[edge as usize].isp;
        let isp = self.homes.isps.iter().position(|i| i == edge_isp).map(|i| i as u16);
        let model = self.homes.model.as_ref().expect("home nodes have a model");
        let net = self.lasthop.as_mut().expect("checked");
        let nat = NatClass(model.nat_mix().sample(&mut net.nat_rng).index() as u8);
        // The server starts at the newest block the edge holds.
        let newest = self.carries.get(&(stream, edge)).and_then(|k| k.window.newest_complete()).map(Block);
        let c = net.lh.client_join(now.as_ns(), StreamId(stream), EdgeId(edge), region, isp, nat, newest);
        debug_assert_eq!(c.0 as usize, net.viewer_of.len());
        net.viewer_of.push(v);
        self.viewers[v as usize].client = Some(c);
        self.lasthop_outputs(sched);
    }

    pub(crate) fn on_client_tick(&mut self, sched: &mut Scheduler<Event>, c: ClientId, block: Block) {
        let v = self.net().viewer_of[c.0 as usize];
        let next = self.viewers[v as usize].next_block.unwrap_or(0);
        self.net().lh.client_review(sched.now().as_ns(), c, block, next);
        self.lasthop_outputs(sched);
    }

    pub(crate) fn lasthop_leave(&mut self, sched: &mut Scheduler<Event>, c: ClientId) {
        self.net().lh.client_leave(c);
        self.lasthop_outputs(sched);
    }

    /// Symbols reach a client; the way loses each independently.
    pub(crate) fn on_batch(&mut self, sched: &mut Scheduler<Event>, b: Batch) {
        let Batch { client: c, sender, block, count, offset, hint } = b;
        let now = sched.now();
        let v = self.net().viewer_of[c.0 as usize];
        let next = self.viewers[v as usize].next_block.unwrap_or(0);
        let access_loss = self.sc.viewers.access_loss;
        let net = self.lasthop.as_mut().expect("checked");
        let loss = if sender == Sender::Server { access_loss } else { net.loss };
        let rng = &mut net.loss_rng;
        let lost = || loss > 0.0 && rng.random::<f64>() < loss;
        let Some(arrival) = net.lh.symbols_arrived(c, sender, block, offset, count, hint, next, lost) else { return };
        let (stream, bytes) = (self.viewers[v as usize].stream, arrival.bytes);
        self.counters.viewer_bytes += bytes;
        if sender == Sender::Server {
            let hops = self.carries.get(&(stream, self.viewers[v as usize].edge)).map_or(0, |k| k.hops);
            let viewer = &mut self.viewers[v as usize];
            viewer.stats.bytes += bytes;
            viewer.stats.hop_bytes += bytes * hops as u64;
            self.second(now, stream).bytes_to_viewers += bytes;
        } else {
            self.viewers[v as usize].stats.home_bytes += bytes;
            self.second(now, stream).bytes_from_homes += bytes;
        }
        if arrival.decoded {
            let (cpb, block_ns) = (self.chunks_per_block, self.sc.stream.block_ns);
            let (_, action) = self.viewers[v as usize].block_complete(now, block.0, cpb, block_ns);
            self.after_player(sched, v, action);
        }
    }
}

/// The crate's configuration of `sc`'s last hop.
fn config(sc: &Scenario) -> Config {
    let l = sc.last_hop.as_ref().expect("a last hop is configured");
    Config {
        block_ns: sc.stream.block_ns,
        block_bytes: sc.stream.block_bytes(),
        symbol_bytes: l.symbol_bytes,
        symbols_per_node: l.symbols_per_node,
        slots: l.slots,
        heartbeat_ns: l.heartbeat_ns,
        candidates_factor: l.candidates_factor,
        ramp_blocks: l.ramp_blocks,
        target: l.target,
        headroom_symbols: l.headroom_symbols,
        stop_ns: sc.duration_ns,
    }
}

/// Memory a last-hop client holds at most, in bytes (its viewer's entry
/// in `viewer_of` included).
pub(crate) fn client_bytes(sc: &Scenario) -> u64 {
    let fidelity = sc.last_hop.as_ref().expect("a last hop").fidelity;
    cdnsim_lasthop::client_bytes(&config(sc), fidelity) + 4
}
