//! The fountain-coded last hop: home nodes amplify the most popular streams.
//!
//! Who does what (the shared-CDN talk's design, `../shared/sources/`):
//! - **Edge (server).** An IDC edge carrying a last-hop stream cuts every
//!   block it completes into K source symbols; it sends each home node fed
//!   from it that node's share (`symbols_per_node` repair symbols of its own
//!   ESI slot), and each client the symbols the client still asks of the
//!   server (source symbols first, then repair ids after every slot). All of
//!   it leaves through the edge's egress queue and counts as IDC egress, to
//!   home nodes or to viewers.
//! - **Home node.** Registers with the scheduler when it comes online;
//!   while it has clients it is fed its share of each block (an idle share
//!   would cost IDC egress and serve nobody) and uploads to every client
//!   the number of symbols that client asks for (at most its share), paced
//!   at its current upload capacity (churn and the household's use change
//!   it). Load shedding: when a block's demand
//!   exceeds what its capacity can send in one block duration, it drops
//!   the most recently subscribed clients first (last in, first out: the
//!   established sessions are the ones a viewer would notice losing) until
//!   the rest fit. Offline, it sends and receives nothing; its connections
//!   close and its clients notice only because symbols stop arriving.
//! - **Scheduler.** Knows home nodes only through heartbeats (every
//!   `heartbeat`, reporting spare capacity); a node is a candidate until
//!   1.5 heartbeats after its last one, so its view of health lags by
//!   about a heartbeat. It answers a client with about `candidates` x the
//!   nodes the client needs: same stream, believed alive with spare
//!   capacity, a NAT pair that can connect at all, an ESI slot the client
//!   does not hold yet; same region and ISP first, then same region, then
//!   same ISP, then any; within each, first fit from a rotating start, so
//!   nodes fill up one after another. It books a full share of spare per
//!   node handed out until the next heartbeat corrects it.
//! - **Client (SDK).** Starts on the server alone; each block it reviews
//!   every sender (one block duration plus half a second after the block
//!   ended): a home node that delivered less than half of what it promised
//!   is evicted at once and replaced from the candidate list, others that
//!   delivered in full grow their ask by a `ramp_blocks`-th of a share. The
//!   redundancy controller (codec crate) turns measured loss per sender
//!   into the total to ask per block; what home nodes do not cover is asked
//!   of the server, so traffic moves between server and home nodes a step
//!   at a time, never by a hard switch. New asks apply from two blocks on
//!   (time for the subscription message). A reviewed block that has not
//!   decoded is completed by the server at once (what is missing up to
//!   K + headroom), still ahead of its playout deadline.
//! - **Decoding** by the scenario's fidelity: `full` (real bytes through
//!   raptorq, checked against the source), `structural` (the real decoder
//!   on symbol ids), `model` (the decode table, one uniform draw per
//!   client and block). A block plays only once it decoded.
//!
//! Simplifications: control messages (subscriptions, asks, scheduler
//! answers, shed notices) take no time; a home node's feed is not
//! retransmitted (a lost feed is a block the node cannot serve); relayed
//! bytes count as IDC egress but do not queue at the relay. An edge's
//! last-hop sends leave through a queue of their own at the edge's egress
//! rate, deep enough for one block duration (per-connection socket
//! buffers: a block's symbols to thousands of clients leave in one burst
//! when it completes); it does not share capacity with the edge's chunk
//! traffic to viewers of streams not on the last hop.

use std::collections::{BTreeMap, VecDeque};

use cdnsim_codec::{
    BlockEncoder, BlockSpec, DecodeTable, FullReceiver, HEADER_BYTES, IntervalReport, ModelCounter, NeededCache, Packet,
    PlanCache, RedundancyConfig, RedundancyController, ShareLayout, SplitMix64, StructuralDecoder,
    StructuralReceiver,
};
use cdnsim_engine::{RngStream, Scheduler, SimDuration, SimTime, stream, stream_indexed};
use cdnsim_net::{Fifo, Offer};
use cdnsim_net::home::{Connection, NatType};
use cdnsim_scenario::{Fidelity, LastHop as Config, Scenario};
use rand::Rng;

use crate::event::{Batch, Event, NET};
use crate::node::{Carry, Sub};
use crate::world::World;

/// The sender id of the edge server in batches and reports.
pub const SERVER: u32 = u32::MAX;
const NONE: u32 = u32::MAX;
/// Blocks a client keeps receive state for, behind the newest.
const RX_BLOCKS: usize = 8;
/// Bounds: home senders per client, candidates held, nodes remembered as
/// evicted.
const MAX_SENDERS: usize = 240;
const MAX_AVOID: usize = 64;
/// The decode table every `model` scenario uses, made by `cdnsim calibrate`.
const DECODE_TABLE_CSV: &str = include_str!("../../../data/decode_model.csv");
/// Distinct encoders (blocks) kept at `full` fidelity.
const FULL_ENCODERS: usize = 16;

/// What the last hop added up, for the results.
#[derive(Clone, Copy, Debug, Default)]
pub struct LastHopStats {
    pub egress_to_homes_bytes: u64,
    pub egress_to_viewers_bytes: u64,
    pub egress_relay_bytes: u64,
    pub home_upload_bytes: u64,
    pub home_download_bytes: u64,
    pub feeds_dropped: u64,
    pub decode_failures: u64,
    pub blocks_decoded: u64,
    pub full_mismatches: u64,
    pub evictions: u64,
    pub sheds: u64,
    pub symbols_wasted: u64,
    pub relayed_connections: u64,
    pub direct_connections: u64,
    pub scheduler_requests: u64,
    /// Last-hop sends an edge's queue could not take (lost).
    pub edge_drops: u64,
    /// Blocks the server completed after home nodes fell short.
    pub server_repairs: u64,
    pub clients: u64,
}

/// A home node's part.
pub struct Peer {
    /// Last-hop stream it serves (index into `LastHop::streams`), or NONE.
    pub fstream: u32,
    pub slot: u32,
    /// The edge feeding it.
    pub edge: u32,
    /// Subscribed clients, oldest first (shedding drops from the back).
    pub clients: Vec<u32>,
    pub busy_until: SimTime,
    /// The scheduler's view: alive until, and spare symbols per block.
    pub alive_until: SimTime,
    pub spare: i64,
    pub upload_bytes: u64,
    pub download_bytes: u64,
    pub symbols_sent: u64,
    pub symbols_arrived: u64,
    pub symbols_lost: u64,
    /// Sent, arriving after the run's stop.
    pub symbols_in_flight: u64,
    pub sheds: u64,
    pub clients_max: u32,
    /// Fed its share by its edge now.
    pub fed: bool,
    /// Counted in its bucket's `open`: spare holds a share and not yet
    /// seen expired.
    pub open: bool,
}

/// Symbols per block a sender is asked for: `now` until block `from`,
/// `next` from it on.
#[derive(Clone, Copy, Debug, Default)]
struct Ask {
    now: u16,
    next: u16,
    from: u32,
}

impl Ask {
    fn at(&self, block: u32) -> u16 {
        if block >= self.from { self.next } else { self.now }
    }

    /// A new ask from block `from` on; the one in effect before it stays.
    fn set(&mut self, from: u32, symbols: u16) {
        self.now = self.at(from.saturating_sub(1));
        self.next = symbols;
        self.from = from;
    }
}

struct Sender {
    peer: u32,
    slot: u32,
    relay: bool,
    latency: SimDuration,
    ask: Ask,
    /// First block it was asked for.
    since: u32,
    /// (block, symbols arrived), by block modulo 4.
    got: [(u32, u16); 4],
}

impl Sender {
    fn got(&self, block: u32) -> u16 {
        let g = self.got[block as usize % 4];
        if g.0 == block { g.1 } else { 0 }
    }

    fn record(&mut self, block: u32, n: u16) {
        let g = &mut self.got[block as usize % 4];
        if g.0 != block {
            *g = (block, 0);
        }
        g.1 += n;
    }
}

/// Model receivers are a few counters; the others are boxed so that a
/// model client's window stays small.
enum Rx {
    Model(ModelCounter),
    Structural(Box<StructuralReceiver>),
    Full(Box<FullReceiver>),
}

struct BlockRx {
    block: u32,
    rx: Rx,
    decoded: bool,
}

impl BlockRx {
    fn distinct(&self) -> usize {
        match &self.rx {
            Rx::Model(r) => r.distinct_symbols(),
            Rx::Structural(r) => r.distinct_symbols(),
            Rx::Full(r) => r.distinct_symbols(),
        }
    }
}

pub struct Client {
    pub viewer: u32,
    pub fstream: u32,
    pub edge: u32,
    region: u16,
    /// ISP index among the home nodes' ISPs (NONE: none of them).
    isp: u16,
    nat: NatType,
    senders: Vec<Sender>,
    server: Sender,
    candidates: VecDeque<u32>,
    avoid: VecDeque<u32>,
    ctrl: RedundancyController,
    rx: VecDeque<BlockRx>,
    /// Blocks before this are not asked for.
    first_block: u32,
    pub active: bool,
    pub home_bytes: u64,
    pub nodes_used: u64,
    pub evictions: u64,
}

/// A last-hop stream: its home nodes by (region, ISP), for the scheduler.
pub struct FStream {
    pub stream: u32,
    buckets: BTreeMap<(u16, u16), Bucket>,
}

#[derive(Default)]
struct Bucket {
    peers: Vec<u32>,
    cursor: usize,
    /// Nodes whose booked spare still holds a share.
    open: u32,
}

/// (stream, edge) -> who the edge serves on the last hop.
#[derive(Default)]
pub struct EdgeUsers {
    pub peers: Vec<u32>,
    pub clients: Vec<u32>,
}

pub struct LastHop {
    pub cfg: Config,
    pub spec: BlockSpec,
    pub layout: ShareLayout,
    pub wire_bytes: u32,
    /// Per scenario stream: its index in `streams`, or NONE.
    pub fstream_of: Vec<u32>,
    pub streams: Vec<FStream>,
    pub peers: Vec<Peer>,
    pub clients: Vec<Client>,
    pub at_edge: BTreeMap<(u32, u32), EdgeUsers>,
    /// Per IDC node: its last-hop send queue (module docs).
    egress: Vec<Fifo>,
    pub stats: LastHopStats,
    /// One-way propagation between regions (row-major), access included.
    region_ns: Vec<u64>,
    regions: usize,
    stop: SimTime,
    redundancy: RedundancyConfig,
    table: DecodeTable,
    decoder: StructuralDecoder,
    needed: NeededCache,
    plans: PlanCache,
    encoders: BTreeMap<(u32, u32), (BlockEncoder, Vec<u8>)>,
    seed: u64,
    loss_rng: RngStream,
    decode_rng: RngStream,
    nat_rng: RngStream,
    traversal_rng: RngStream,
    esis: Vec<u32>,
}

impl LastHop {
    /// The last hop of `sc` (which has `[last_hop]` and `[home]`): streams
    /// by popularity rank, home nodes assigned to them with a weight draw
    /// of their own (`lasthop.assign`, by node id), a slot each in turn.
    pub fn new(sc: &Scenario, seed: u64, homes: &crate::world::Homes, edges_by_region: &[Vec<u32>]) -> LastHop {
        let cfg = sc.last_hop.clone().expect("a last hop is configured");
        let spec = BlockSpec::new(sc.stream.block_bytes(), cfg.symbol_bytes).expect("validated by the scenario");
        let layout = ShareLayout::new(spec.k(), cfg.slots, cfg.symbols_per_node).expect("validated by the scenario");
        let n = sc.broadcasters.count as usize;
        let count = (cfg.streams as usize).min(n);
        let mut fstream_of = vec![NONE; n];
        let mut streams = Vec::with_capacity(count);
        for (i, f) in fstream_of.iter_mut().enumerate().take(count) {
            *f = i as u32;
            streams.push(FStream { stream: i as u32, buckets: BTreeMap::new() });
        }
        // Home nodes split over the streams by popularity (rank r weighs
        // r^-zipf, as viewers choose).
        let weights: Vec<f64> = (1..=count).map(|r| (r as f64).powf(-sc.broadcasters.zipf)).collect();
        let total: f64 = weights.iter().sum();
        let mut next_slot = vec![0u32; count];
        let mut peers = Vec::with_capacity(homes.nodes.len());
        // Assign in id order so the assignment does not depend on layout.
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
        for (h, &(f, slot)) in assigned.iter().enumerate() {
            let region = homes.region[h] as usize;
            let isp_name = &homes.isps[homes.isp[h] as usize];
            let edges = &edges_by_region[region];
            let edge = edges
                .iter()
                .copied()
                .find(|&e| &sc.nodes[e as usize].isp == isp_name)
                .or_else(|| edges.first().copied())
                .unwrap_or(sc.broadcasters.ingest.map_or(0, |i| i as u32));
            streams[f as usize].buckets.entry((homes.region[h], homes.isp[h])).or_default().peers.push(h as u32);
            peers.push(Peer {
                fstream: f,
                slot,
                edge,
                clients: Vec::new(),
                busy_until: SimTime::ZERO,
                alive_until: SimTime::ZERO,
                spare: 0,
                upload_bytes: 0,
                download_bytes: 0,
                symbols_sent: 0,
                symbols_arrived: 0,
                symbols_lost: 0,
                symbols_in_flight: 0,
                sheds: 0,
                clients_max: 0,
                fed: false,
                open: false,
            });
        }
        let regions = sc.regions.len();
        let mut region_ns = vec![0u64; regions * regions];
        let net = &sc.network;
        for a in 0..regions {
            for b in 0..regions {
                let (ra, rb) = (&sc.regions[a], &sc.regions[b]);
                let km = cdnsim_net::geo::great_circle_km(ra.lat_deg, ra.lon_deg, rb.lat_deg, rb.lon_deg);
                let prop = cdnsim_net::geo::propagation(km, net.route_inflation, net.propagation_km_per_ms)
                    .max(SimDuration::from_ns(net.min_latency_ns));
                region_ns[a * regions + b] = prop.as_ns() + sc.viewers.access_latency_ns;
            }
        }
        let redundancy = RedundancyConfig {
            headroom_symbols: cfg.headroom_symbols,
            target: cfg.target,
            max_senders: MAX_SENDERS + 1,
            ..RedundancyConfig::default()
        };
        LastHop {
            wire_bytes: cfg.symbol_bytes as u32 + HEADER_BYTES as u32,
            cfg,
            spec,
            layout,
            fstream_of,
            streams,
            peers,
            clients: Vec::new(),
            at_edge: BTreeMap::new(),
            egress: sc
                .nodes
                .iter()
                .map(|n| Fifo::new(n.egress_bps, (n.egress_bps as u128 * sc.stream.block_ns as u128 / 8_000_000_000) as u64))
                .collect(),
            stats: LastHopStats::default(),
            region_ns,
            regions,
            stop: SimTime::from_ns(sc.duration_ns),
            redundancy,
            table: DecodeTable::parse_csv(DECODE_TABLE_CSV).expect("the bundled decode table parses"),
            decoder: StructuralDecoder::new(4096),
            needed: NeededCache::new(),
            plans: PlanCache::default(),
            encoders: BTreeMap::new(),
            seed,
            loss_rng: stream(seed, "lasthop.loss"),
            decode_rng: stream(seed, "lasthop.decode"),
            nat_rng: stream(seed, "lasthop.client_nat"),
            traversal_rng: stream(seed, "lasthop.traversal"),
            esis: Vec::new(),
        }
    }

    fn latency(&self, a: usize, b: usize) -> SimDuration {
        SimDuration::from_ns(self.region_ns[a * self.regions + b])
    }

    fn k(&self) -> u16 {
        self.spec.k()
    }

    /// Symbols a home node can send in one block at `bps`.
    fn symbols_per_block(&self, bps: u64, block_ns: u64) -> i64 {
        (bps as u128 * block_ns as u128 / 8 / 1_000_000_000 / self.wire_bytes as u128) as i64
    }

    /// Whether `stream` goes over the last hop.
    pub fn covers(&self, stream: u32) -> bool {
        self.fstream_of.get(stream as usize).is_some_and(|&f| f != NONE)
    }
}

/// Memory a last-hop client holds at most, in bytes: its state, the home
/// nodes it needs (K + headroom plus the controller's margin, over the
/// share) and its receive window; structural and full receivers add their
/// symbol ids or bytes.
pub(crate) fn client_bytes(cfg: &Config, block_bytes: u64) -> u64 {
    let senders = ((cfg.k as u32 * 2).div_ceil(cfg.symbols_per_node) as usize).min(MAX_SENDERS) as u64;
    let per_block = match cfg.fidelity {
        Fidelity::Model => 0,
        Fidelity::Structural => 4 * 2 * cfg.k as u64,
        Fidelity::Full => 2 * block_bytes,
    };
    (std::mem::size_of::<Client>() + std::mem::size_of::<BlockRx>() * RX_BLOCKS) as u64
        + senders * (std::mem::size_of::<Sender>() + 3 * 4 + 32) as u64
        + RX_BLOCKS as u64 * per_block
}

/// Memory of a home node's last-hop part, clients list aside.
pub(crate) fn peer_bytes() -> u64 {
    std::mem::size_of::<Peer>() as u64
}

impl World {
    fn lh(&mut self) -> &mut LastHop {
        self.lasthop.as_mut().expect("last-hop events need a last hop")
    }

    /// Home nodes online at time zero register and subscribe; every node
    /// gets its heartbeat clock.
    pub(crate) fn lasthop_start(&mut self, sched: &mut Scheduler<Event>) {
        let Some(lh) = &self.lasthop else { return };
        let heartbeat = lh.cfg.heartbeat_ns;
        for h in 0..self.homes.nodes.len() as u32 {
            // Phases spread over the interval by node id (a fixed hash, not
            // a draw: nothing random about when a clock was started).
            let id = self.homes.id[h as usize] as u64;
            let phase = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) % heartbeat;
            sched.schedule_at(SimTime::from_ns(phase), NET, Event::Heartbeat(h));
            if self.homes.nodes[h as usize].is_online() {
                self.peer_online(sched, h);
            }
        }
    }

    /// A home node came online: it registers with the scheduler at once.
    fn peer_online(&mut self, sched: &mut Scheduler<Event>, h: u32) {
        self.heartbeat(sched.now(), h);
    }

    /// A home node holds its share (is fed by its edge) while it has
    /// clients: an idle share would cost IDC egress and serve nobody.
    fn update_feed(&mut self, sched: &mut Scheduler<Event>, h: u32) {
        let online = self.homes.nodes[h as usize].is_online();
        let lh = self.lh();
        let p = &mut lh.peers[h as usize];
        let want = online && !p.clients.is_empty();
        if want == p.fed {
            return;
        }
        p.fed = want;
        let (stream, edge) = (lh.streams[p.fstream as usize].stream, p.edge);
        let users = lh.at_edge.entry((stream, edge)).or_default();
        if want {
            users.peers.push(h);
            self.lasthop_attach(sched, stream, edge);
        } else {
            users.peers.retain(|&x| x != h);
            self.lasthop_detach(sched, stream, edge);
        }
    }

    /// The edge gains a last-hop user: it must carry the stream.
    fn lasthop_attach(&mut self, sched: &mut Scheduler<Event>, stream: u32, edge: u32) {
        let cpb = self.chunks_per_block;
        let new = !self.carries.contains_key(&(stream, edge));
        self.carries.entry((stream, edge)).or_insert_with(|| Carry::new(Sub::Planned, cpb)).lasthop_users += 1;
        if new {
            self.request_route(sched, stream, edge);
        }
    }

    fn lasthop_detach(&mut self, sched: &mut Scheduler<Event>, stream: u32, edge: u32) {
        if let Some(carry) = self.carries.get_mut(&(stream, edge)) {
            carry.lasthop_users -= 1;
        }
        self.maybe_release(sched, stream, edge);
    }

    /// Churn of home node `h` (already applied to its state).
    pub(crate) fn lasthop_churn(&mut self, sched: &mut Scheduler<Event>, h: u32) {
        if self.lasthop.is_none() {
            return;
        }
        if self.homes.nodes[h as usize].is_online() {
            self.peer_online(sched, h);
            return;
        }
        // Offline: every connection closes at once; clients find out from
        // the symbols that stop arriving, the scheduler from the heartbeats.
        self.lh().peers[h as usize].clients.clear();
        self.update_feed(sched, h);
    }

    /// Heartbeat of home node `h` (on its clock, or at once when it comes
    /// online): the scheduler learns it is alive and its spare capacity.
    pub(crate) fn on_heartbeat(&mut self, sched: &mut Scheduler<Event>, h: u32) {
        let heartbeat = self.lh().cfg.heartbeat_ns;
        if self.homes.nodes[h as usize].is_online() {
            self.heartbeat(sched.now(), h);
        }
        sched.schedule_in(SimDuration::from_ns(heartbeat), NET, Event::Heartbeat(h));
    }

    fn heartbeat(&mut self, now: SimTime, h: u32) {
        let model = self.homes.model.as_ref().expect("home nodes have a model");
        let bps = self.homes.nodes[h as usize].available_upload_bps(now, model);
        let block_ns = self.sc.stream.block_ns;
        let lh = self.lasthop.as_mut().expect("checked");
        let capacity = lh.symbols_per_block(bps, block_ns);
        let mut asked = 0i64;
        for &c in &lh.peers[h as usize].clients {
            let client = &lh.clients[c as usize];
            if let Some(s) = client.senders.iter().find(|s| s.peer == h) {
                asked += s.ask.at(u32::MAX) as i64;
            }
        }
        let heartbeat = lh.cfg.heartbeat_ns;
        let share = lh.cfg.symbols_per_node as i64;
        let p = &mut lh.peers[h as usize];
        p.alive_until = now + SimDuration::from_ns(heartbeat + heartbeat / 2);
        let was_open = p.open;
        p.spare = capacity - asked;
        let is_open = p.spare >= share;
        p.open = is_open;
        if was_open != is_open {
            let key = (self.homes.region[h as usize], self.homes.isp[h as usize]);
            let bucket = lh.streams[p.fstream as usize].buckets.get_mut(&key).expect("every node is in its bucket");
            if is_open { bucket.open += 1 } else { bucket.open -= 1 }
        }
    }

    /// Block `block` of `stream` completed at `edge`: feeds to its home
    /// nodes, server symbols to its clients.
    pub(crate) fn lasthop_block(&mut self, sched: &mut Scheduler<Event>, stream: u32, edge: u32, block: u32) {
        let now = sched.now();
        let Some(users) = self.lasthop.as_mut().and_then(|lh| lh.at_edge.get_mut(&(stream, edge))) else { return };
        let (peers, clients) = (users.peers.clone(), users.clients.clone());
        let lh = self.lasthop.as_ref().expect("checked");
        let (wire, s) = (lh.wire_bytes as u64, lh.cfg.symbols_per_node as u64);
        let edge_region = self.sc.nodes[edge as usize].region;
        for h in peers {
            let bytes = wire * s;
            let region = self.homes.region[h as usize] as usize;
            let latency = self.lasthop.as_ref().expect("checked").latency(edge_region, region);
            match self.lh().egress[edge as usize].offer(now, bytes as u32) {
                Offer::Dropped => {
                    self.lh().stats.feeds_dropped += 1;
                    self.lh().stats.edge_drops += 1;
                }
                Offer::Sent { depart, .. } => {
                    self.idc_egress(now, stream, bytes);
                    self.lh().stats.egress_to_homes_bytes += bytes;
                    sched.schedule_at(depart + latency, NET, Event::PeerFeed { peer: h, block });
                }
            }
        }
        for c in clients {
            let client = &self.lasthop.as_ref().expect("checked").clients[c as usize];
            let n = client.server.ask.at(block);
            if block >= client.first_block {
                self.server_send(sched, c, block, 0, n);
            }
        }
    }

    /// The edge server sends client `c` its symbols `offset..offset + n` of
    /// `block` (source symbols first, then its own repair ids).
    fn server_send(&mut self, sched: &mut Scheduler<Event>, c: u32, block: u32, offset: u16, n: u16) {
        let now = sched.now();
        let lh = self.lasthop.as_ref().expect("checked");
        // The server's repair range holds K ids (see the scenario's layout).
        let n = n.min((2 * lh.k()).saturating_sub(offset));
        if n == 0 {
            return;
        }
        let client = &lh.clients[c as usize];
        let (edge, stream) = (client.edge, lh.streams[client.fstream as usize].stream);
        let bytes = lh.wire_bytes as u64 * n as u64;
        let latency = SimDuration::from_ns(self.sc.viewers.access_latency_ns);
        if let Offer::Sent { depart, .. } = self.lh().egress[edge as usize].offer(now, bytes as u32) {
            self.idc_egress(now, stream, bytes);
            self.lh().stats.egress_to_viewers_bytes += bytes;
            let batch = Batch { client: c, sender: SERVER, block, count: n, offset, hint: 0 };
            sched.schedule_at(depart + latency, NET, Event::Batch(batch));
        } else {
            self.lh().stats.edge_drops += 1;
        }
    }

    fn idc_egress(&mut self, now: SimTime, stream: u32, bytes: u64) {
        self.counters.idc_egress_bytes += bytes;
        self.second(now, stream).idc_egress_bytes += bytes;
    }

    /// A home node's share of `block` arrived: it serves its clients, after
    /// shedding whoever does not fit its capacity.
    pub(crate) fn on_peer_feed(&mut self, sched: &mut Scheduler<Event>, h: u32, block: u32) {
        let now = sched.now();
        let model = self.homes.model.as_ref().expect("home nodes have a model");
        let bps = self.homes.nodes[h as usize].available_upload_bps(now, model);
        let block_ns = self.sc.stream.block_ns;
        let lh = self.lasthop.as_mut().expect("checked");
        let wire = lh.wire_bytes as u64;
        if bps == 0 {
            lh.stats.symbols_wasted += lh.cfg.symbols_per_node as u64;
            return;
        }
        let stream = lh.streams[lh.peers[h as usize].fstream as usize].stream;
        lh.peers[h as usize].download_bytes += wire * lh.cfg.symbols_per_node as u64;
        lh.stats.home_download_bytes += wire * lh.cfg.symbols_per_node as u64;
        self.second(now, stream).bytes_to_homes += wire * self.lh().cfg.symbols_per_node as u64;
        let lh = self.lasthop.as_mut().expect("checked");
        let capacity = lh.symbols_per_block(bps, block_ns);
        let mut served: Vec<(u32, u16, u16)> = lh.peers[h as usize]
            .clients
            .iter()
            .map(|&c| {
                let senders = &lh.clients[c as usize].senders;
                match senders.iter().position(|s| s.peer == h) {
                    Some(i) => (c, i as u16, senders[i].ask.at(block)),
                    None => (c, u16::MAX, 0),
                }
            })
            .collect();
        let mut demand: i64 = served.iter().map(|x| x.2 as i64).sum();
        while demand > capacity {
            let c = lh.peers[h as usize].clients.pop().expect("demand comes from clients");
            let (_, _, a) = served.pop().expect("parallel to clients");
            demand -= a as i64;
            lh.peers[h as usize].sheds += 1;
            lh.stats.sheds += 1;
            // The client hears of it at once (its connection is reset) and
            // replaces the node at its next review.
            lh.clients[c as usize].senders.retain(|s| s.peer != h);
            lh.clients[c as usize].ctrl.remove_sender(h as u64);
        }
        let stop = lh.stop;
        if served.is_empty() {
            self.update_feed(sched, h);
            return;
        }
        for (c, idx, _) in served {
            let lh = self.lasthop.as_mut().expect("checked");
            let Some(s) = lh.clients[c as usize].senders.get(idx as usize) else { continue };
            let n = s.ask.at(block);
            if n == 0 || block < s.since {
                continue;
            }
            let (relay, latency) = (s.relay, s.latency);
            let bytes = wire * n as u64;
            let p = &mut lh.peers[h as usize];
            let start = p.busy_until.max(now);
            let depart = start + SimDuration::from_ns((bytes as u128 * 8 * 1_000_000_000 / bps as u128) as u64);
            p.busy_until = depart;
            p.upload_bytes += bytes;
            p.symbols_sent += n as u64;
            let at = depart + latency;
            if at > stop {
                p.symbols_in_flight += n as u64;
            }
            lh.stats.home_upload_bytes += bytes;
            if relay {
                lh.stats.egress_relay_bytes += bytes;
                self.idc_egress(now, stream, bytes);
            }
            sched.schedule_at(at, NET, Event::Batch(Batch { client: c, sender: h, block, count: n, offset: 0, hint: idx }));
        }
    }

    /// A viewer of a last-hop stream joins: a client on its edge's server,
    /// with home nodes from the scheduler.
    pub(crate) fn lasthop_join(&mut self, sched: &mut Scheduler<Event>, v: u32) {
        let now = sched.now();
        let block_ns = self.sc.stream.block_ns;
        let (stream, edge, region) = {
            let viewer = &self.viewers[v as usize];
            (viewer.stream, viewer.edge, viewer.region)
        };
        let edge_isp = &self.sc.nodes[edge as usize].isp;
        let isp = self.homes.isps.iter().position(|i| i == edge_isp).map_or(NONE as u16, |i| i as u16);
        let model = self.homes.model.as_ref().expect("home nodes have a model");
        let lh = self.lasthop.as_mut().expect("checked");
        let nat = model.nat_mix().sample(&mut lh.nat_rng);
        let c = lh.clients.len() as u32;
        let current = (now.as_ns() / block_ns) as u32;
        let ctrl = RedundancyController::new(lh.redundancy).expect("a valid configuration");
        let plan = ctrl.plan(lh.k(), block_ns);
        let server = Sender {
            peer: SERVER,
            slot: NONE,
            relay: false,
            latency: SimDuration::ZERO,
            ask: Ask { now: plan.symbols as u16, next: plan.symbols as u16, from: 0 },
            since: 0,
            got: [(u32::MAX, 0); 4],
        };
        lh.clients.push(Client {
            viewer: v,
            fstream: lh.fstream_of[stream as usize],
            edge,
            region,
            isp,
            nat,
            senders: Vec::new(),
            server,
            candidates: VecDeque::new(),
            avoid: VecDeque::new(),
            ctrl,
            rx: VecDeque::new(),
            first_block: 0,
            active: true,
            home_bytes: 0,
            nodes_used: 0,
            evictions: 0,
        });
        lh.stats.clients += 1;
        lh.at_edge.entry((stream, edge)).or_default().clients.push(c);
        self.viewers[v as usize].client = Some(c);
        self.lasthop_attach(sched, stream, edge);
        // The first block from the server: the newest the edge holds.
        let newest = self.carries.get(&(stream, edge)).and_then(|k| k.window.newest_complete());
        let first = newest.unwrap_or(current);
        self.lh().clients[c as usize].first_block = first;
        if let Some(b) = newest {
            let n = self.lh().clients[c as usize].server.ask.at(b);
            self.server_send(sched, c, b, 0, n);
        }
        // Asks from two blocks on; the first review (of the block after this
        // one) plans the block after that.
        self.plan_block(sched, c, current + 2);
        let review = Event::ClientTick { client: c, block: current + 1 };
        sched.schedule_at(Self::review_time(current + 1, block_ns), NET, review);
    }

    /// When a client reviews block `b`: one block duration for the senders
    /// to upload it, and half a second for the network, after it ended.
    fn review_time(b: u32, block_ns: u64) -> SimTime {
        SimTime::from_ns((b as u64 + 2) * block_ns + 500_000_000)
    }

    pub(crate) fn lasthop_leave(&mut self, sched: &mut Scheduler<Event>, c: u32) {
        let lh = self.lh();
        let client = &mut lh.clients[c as usize];
        client.active = false;
        let (stream, edge) = (lh.streams[client.fstream as usize].stream, client.edge);
        let peers: Vec<u32> = client.senders.iter().map(|s| s.peer).collect();
        // Only the tallies stay for the results: the rest of a departed
        // client's memory goes back, so a run holds its audience, not every
        // session it ever had.
        client.senders = Vec::new();
        client.rx = VecDeque::new();
        client.candidates = VecDeque::new();
        client.avoid = VecDeque::new();
        client.ctrl = RedundancyController::new(lh.redundancy).expect("a valid configuration");
        if let Some(users) = lh.at_edge.get_mut(&(stream, edge)) {
            users.clients.retain(|&x| x != c);
        }
        for &p in &peers {
            lh.peers[p as usize].clients.retain(|&x| x != c);
        }
        for p in peers {
            self.update_feed(sched, p);
        }
        self.lasthop_detach(sched, stream, edge);
    }

    /// Symbols of `block` from `sender` reach client `c` (before loss on
    /// the way, drawn here).
    pub(crate) fn on_batch(&mut self, sched: &mut Scheduler<Event>, b: Batch) {
        let Batch { client: c, sender, block, count, offset, hint } = b;
        let now = sched.now();
        let access_loss = self.sc.viewers.access_loss;
        let lh = self.lasthop.as_mut().expect("checked");
        let loss = if sender == SERVER { access_loss } else { lh.cfg.loss };
        // Which of the `count` symbols survive (all three fidelities draw
        // per symbol, so they see the same losses).
        let (k, layout) = (lh.k() as u32, lh.layout);
        let first =
            if sender == SERVER { 0 } else { layout.slot_range(lh.peers[sender as usize].slot).expect("a slot").start };
        let server_repair = k + layout.slots() * layout.symbols_per_slot();
        // The model needs only counts (ids are distinct by construction).
        let ids = lh.cfg.fidelity != Fidelity::Model;
        let mut esis = std::mem::take(&mut lh.esis);
        esis.clear();
        let (mut got, mut source) = (0u16, 0u32);
        for i in offset as u32..offset as u32 + count as u32 {
            if loss > 0.0 && lh.loss_rng.random::<f64>() < loss {
                continue;
            }
            got += 1;
            source += (sender == SERVER && i < k) as u32;
            if ids {
                esis.push(if sender != SERVER || i < k { first + i } else { server_repair + i - k });
            }
        }
        if sender != SERVER {
            let p = &mut lh.peers[sender as usize];
            p.symbols_arrived += got as u64;
            p.symbols_lost += (count - got) as u64;
        }
        let client = &mut lh.clients[c as usize];
        if !client.active {
            lh.stats.symbols_wasted += got as u64;
            lh.esis = esis;
            return;
        }
        let bytes = got as u64 * lh.wire_bytes as u64;
        if sender == SERVER {
            client.server.record(block, got);
        } else {
            let i = if client.senders.get(hint as usize).is_some_and(|s| s.peer == sender) {
                Some(hint as usize)
            } else {
                client.senders.iter().position(|s| s.peer == sender)
            };
            if let Some(i) = i {
                client.senders[i].record(block, got);
            }
        }
        let stream = lh.streams[client.fstream as usize].stream;
        let v = client.viewer;
        let decoded = self.receive_symbols(c, block, &esis, got as u32, source);
        self.lh().esis = esis;
        self.counters.viewer_bytes += bytes;
        if sender == SERVER {
            let hops = self.carries.get(&(stream, self.viewers[v as usize].edge)).map_or(0, |k| k.hops);
            let viewer = &mut self.viewers[v as usize];
            viewer.stats.bytes += bytes;
            viewer.stats.hop_bytes += bytes * hops as u64;
            self.second(now, stream).bytes_to_viewers += bytes;
        } else {
            let viewer = &mut self.viewers[v as usize];
            viewer.stats.home_bytes += bytes;
            self.lh().clients[c as usize].home_bytes += bytes;
            self.second(now, stream).bytes_from_homes += bytes;
        }
        if decoded {
            let (cpb, block_ns) = (self.chunks_per_block, self.sc.stream.block_ns);
            let (_, action) = self.viewers[v as usize].block_complete(now, block, cpb, block_ns);
            self.after_player(sched, v, action);
        }
    }

    /// Feeds `got` received symbols (`source` of them source symbols; their
    /// ids in `esis` except at model fidelity) to the block's receiver;
    /// true if the block just decoded.
    fn receive_symbols(&mut self, c: u32, block: u32, esis: &[u32], got: u32, source: u32) -> bool {
        let v = self.lh().clients[c as usize].viewer;
        let next = self.viewers[v as usize].next_block.unwrap_or(0);
        let lh = self.lasthop.as_mut().expect("checked");
        let k = lh.k();
        let client = &mut lh.clients[c as usize];
        if block < next || client.rx.front().is_some_and(|r| block < r.block) && client.rx.len() >= RX_BLOCKS {
            lh.stats.symbols_wasted += got as u64;
            return false;
        }
        // Receive state for this block, in block order; blocks the player
        // is past, or too old to keep, are closed (a decode failure if they
        // held K symbols and still did not decode).
        let i = match client.rx.binary_search_by_key(&block, |r| r.block) {
            Ok(i) => i,
            Err(i) => {
                let rx = match lh.cfg.fidelity {
                    Fidelity::Model => Rx::Model(ModelCounter::new(k, lh.decode_rng.random::<f64>()).expect("valid K")),
                    Fidelity::Structural => Rx::Structural(Box::new(StructuralReceiver::new(k).expect("valid K"))),
                    Fidelity::Full => Rx::Full(Box::new(FullReceiver::new(lh.spec, block as u64))),
                };
                client.rx.insert(i, BlockRx { block, rx, decoded: false });
                i
            }
        };
        let mut i = i;
        while client.rx.len() > RX_BLOCKS || client.rx.front().is_some_and(|r| r.block < next) {
            let old = client.rx.pop_front().expect("non-empty");
            if !old.decoded && old.distinct() >= k as usize {
                lh.stats.decode_failures += 1;
            }
            if i == 0 {
                lh.stats.symbols_wasted += got as u64;
                return false;
            }
            i -= 1;
        }
        let r = &mut client.rx[i];
        if r.decoded {
            lh.stats.symbols_wasted += got as u64;
            return false;
        }
        let decoded = match &mut r.rx {
            Rx::Model(m) => m.receive(got, source, &lh.table),
            Rx::Structural(s) => s.receive_batch(esis, &mut lh.decoder).expect("ids within the layout").decoded,
            Rx::Full(f) => {
                let mut decoded = false;
                for &esi in esis {
                    let stream = lh.streams[client.fstream as usize].stream;
                    let packet = full_packet(&mut lh.encoders, &mut lh.plans, lh.seed, lh.spec, stream, block, esi);
                    decoded |= f.receive(packet).expect("a checked packet") == cdnsim_codec::Receipt::Decoded;
                }
                if decoded {
                    let source = &lh.encoders[&(lh.streams[client.fstream as usize].stream, block)].1;
                    if f.verify(source).is_err() {
                        lh.stats.full_mismatches += 1;
                        return false;
                    }
                }
                decoded
            }
        };
        if decoded {
            r.decoded = true;
            lh.stats.blocks_decoded += 1;
        }
        decoded
    }

    /// Client `c` reviews its senders for `block`, then plans the asks from
    /// two blocks on.
    pub(crate) fn on_client_tick(&mut self, sched: &mut Scheduler<Event>, c: u32, block: u32) {
        let block_ns = self.sc.stream.block_ns;
        let lh = self.lasthop.as_mut().expect("checked");
        let client = &mut lh.clients[c as usize];
        if !client.active {
            return;
        }
        let mut evicted = Vec::new();
        for s in client.senders.iter() {
            if block < s.since {
                continue;
            }
            let (promised, got) = (s.ask.at(block), s.got(block));
            let r = IntervalReport { interval_ns: block_ns, requested: promised as u64, received: got as u64 };
            client.ctrl.report(s.peer as u64, r).expect("senders are bounded");
            if promised > 0 && (got as u32) * 2 < promised as u32 {
                evicted.push(s.peer);
            }
        }
        if block >= client.first_block {
            let (promised, got) = (client.server.ask.at(block), client.server.got(block));
            let r = IntervalReport { interval_ns: block_ns, requested: promised as u64, received: got as u64 };
            client.ctrl.report(SERVER as u64, r).expect("senders are bounded");
        }
        for &p in &evicted {
            client.senders.retain(|s| s.peer != p);
            client.ctrl.remove_sender(p as u64);
            if client.avoid.len() >= MAX_AVOID {
                client.avoid.pop_front();
            }
            client.avoid.push_back(p);
            client.evictions += 1;
            lh.stats.evictions += 1;
            lh.peers[p as usize].clients.retain(|&x| x != c);
        }
        for p in evicted {
            self.update_feed(sched, p);
        }
        self.server_repair(sched, c, block);
        self.plan_block(sched, c, block + 2);
        sched.schedule_at(Self::review_time(block + 1, block_ns), NET, Event::ClientTick { client: c, block: block + 1 });
    }

    /// The reviewed block has not decoded (a sender fell short): the server
    /// sends what is missing at once, in time for its playout (the review
    /// is 1.5 s after the block ended; playout is later by the playout
    /// delay).
    fn server_repair(&mut self, sched: &mut Scheduler<Event>, c: u32, block: u32) {
        let lh = self.lasthop.as_ref().expect("checked");
        let client = &lh.clients[c as usize];
        let next = self.viewers[client.viewer as usize].next_block.unwrap_or(0);
        if block < client.first_block || block < next {
            return;
        }
        let held = match client.rx.iter().find(|r| r.block == block) {
            Some(r) if r.decoded => return,
            Some(r) => r.distinct() as u32,
            None => 0,
        };
        let missing = (lh.k() as u32 + lh.cfg.headroom_symbols).saturating_sub(held).max(1);
        let offset = client.server.ask.at(block);
        self.lh().stats.server_repairs += 1;
        self.server_send(sched, c, block, offset, missing.min(u16::MAX as u32) as u16);
    }

    /// The total to ask per block from the controller, the home nodes that
    /// takes, and the asks from block `from` on.
    fn plan_block(&mut self, sched: &mut Scheduler<Event>, c: u32, from: u32) {
        let lh = self.lasthop.as_mut().expect("checked");
        let total = lh.clients[c as usize].ctrl.plan_symbols_cached(lh.spec.k(), &mut lh.needed);
        let need = (total.div_ceil(lh.cfg.symbols_per_node) as usize).min(MAX_SENDERS);
        self.fill_senders(sched, c, from, need);
        self.plan_asks(c, from, total);
    }

    /// Tops client `c` up to `need` home nodes, from its candidates and,
    /// when they run out, the scheduler; new senders start at block `from`.
    fn fill_senders(&mut self, sched: &mut Scheduler<Event>, c: u32, from: u32, need: usize) {
        let now = sched.now();
        let mut asked_scheduler = false;
        loop {
            let lh = self.lasthop.as_mut().expect("checked");
            if lh.clients[c as usize].senders.len() >= need {
                return;
            }
            let Some(h) = lh.clients[c as usize].candidates.pop_front() else {
                if asked_scheduler {
                    return;
                }
                asked_scheduler = true;
                self.ask_scheduler(now, c, need);
                continue;
            };
            let model = self.homes.model.as_ref().expect("home nodes have a model");
            let lh = self.lasthop.as_mut().expect("checked");
            let client = &lh.clients[c as usize];
            let p = &lh.peers[h as usize];
            // The candidate may have gone (or been taken) since the
            // scheduler's answer: connecting finds out.
            if !self.homes.nodes[h as usize].is_online()
                || client.senders.iter().any(|s| s.peer == h || s.slot == p.slot)
            {
                continue;
            }
            let (client_nat, node_nat) = (client.nat, self.homes.nodes[h as usize].nat());
            let relay = match model.traversal().attempt(client_nat, node_nat, &mut lh.traversal_rng) {
                Connection::Direct => {
                    lh.stats.direct_connections += 1;
                    false
                }
                Connection::Relay => {
                    lh.stats.relayed_connections += 1;
                    true
                }
            };
            let home_region = self.homes.region[h as usize] as usize;
            let client_region = client.region as usize;
            let latency = if relay {
                let edge_region = self.sc.nodes[client.edge as usize].region;
                lh.latency(home_region, edge_region) + lh.latency(edge_region, client_region)
            } else {
                lh.latency(home_region, client_region) + SimDuration::from_ns(self.sc.viewers.access_latency_ns)
            };
            let client = &mut lh.clients[c as usize];
            client.senders.push(Sender {
                peer: h,
                slot: p.slot,
                relay,
                latency,
                ask: Ask { now: 0, next: 0, from },
                since: from,
                got: [(u32::MAX, 0); 4],
            });
            client.nodes_used += 1;
            let p = &mut lh.peers[h as usize];
            p.clients.push(c);
            p.clients_max = p.clients_max.max(p.clients.len() as u32);
            self.update_feed(sched, h);
        }
    }

    /// The scheduler's answer: about `candidates` x `need` home nodes, by
    /// locality, from its (heartbeat-old) view.
    fn ask_scheduler(&mut self, now: SimTime, c: u32, need: usize) {
        let model = self.homes.model.as_ref().expect("home nodes have a model");
        let lh = self.lasthop.as_mut().expect("checked");
        lh.stats.scheduler_requests += 1;
        let client = &lh.clients[c as usize];
        let have = client.senders.len();
        let wanted = (((need - have.min(need)) as f64) * lh.cfg.candidates_factor).ceil() as usize;
        let (region, isp, nat, f) = (client.region, client.isp, client.nat, client.fstream as usize);
        let share = lh.cfg.symbols_per_node as i64;
        let mut scan_budget = 64 * wanted.max(1) + 256;
        let mut found: Vec<u32> = Vec::with_capacity(wanted);
        // Four passes, nearest first: same region and ISP, same region,
        // same ISP, the rest.
        let pass_of = |(r, i): (u16, u16)| -> u8 { ((r != region) as u8) * 2 + (i != isp) as u8 };
        let (peers, clients, streams) = (&mut lh.peers, &lh.clients, &mut lh.streams);
        let client = &clients[c as usize];
        'passes: for pass in 0..4u8 {
            for (&key, bucket) in streams[f].buckets.iter_mut() {
                if pass_of(key) != pass {
                    continue;
                }
                // First fit from a rotating start: the cursor rests on the
                // first node that may still take clients, so nodes fill up
                // one after another (fewer shares to feed) and a request
                // skips the full ones only once.
                let n = bucket.peers.len();
                let start = bucket.cursor;
                if n > 0 && bucket.open == 0 {
                    // Every node here fails the spare check: account for the
                    // scan the loop below would make, without making it.
                    if found.len() >= wanted || scan_budget == 0 {
                        break 'passes;
                    }
                    let m = n.min(scan_budget);
                    bucket.cursor = (start + m) % n;
                    scan_budget -= m;
                    continue;
                }
                let mut prefix = true;
                for j in 0..n {
                    if found.len() >= wanted || scan_budget == 0 {
                        break 'passes;
                    }
                    scan_budget -= 1;
                    let idx = (start + j) % n;
                    let h = bucket.peers[idx];
                    let p = &mut peers[h as usize];
                    if p.open && p.alive_until <= now {
                        // Expired in the scheduler's view: closed until its next heartbeat.
                        p.open = false;
                        bucket.open -= 1;
                    }
                    let p = &peers[h as usize];
                    if p.alive_until <= now || p.spare < share {
                        if prefix {
                            bucket.cursor = (idx + 1) % n;
                        }
                        continue;
                    }
                    prefix = false;
                    let node_nat = self.homes.nodes[h as usize].nat();
                    if model.traversal().probability(nat, node_nat) <= 0.0
                        || client.avoid.contains(&h)
                        || found.contains(&h)
                        || client.senders.iter().any(|s| s.peer == h || s.slot == p.slot)
                    {
                        continue;
                    }
                    found.push(h);
                    let p = &mut peers[h as usize];
                    p.spare -= share;
                    if p.open && p.spare < share {
                        p.open = false;
                        bucket.open -= 1;
                    }
                }
            }
        }
        lh.clients[c as usize].candidates.extend(found);
    }

    /// Asks per sender from block `from` on: every home node that delivered
    /// its last block in full grows by a ramp step (up to its share); the
    /// server is asked for whatever the home nodes do not cover of the
    /// controller's total.
    fn plan_asks(&mut self, c: u32, from: u32, total: u32) {
        let lh = self.lasthop.as_mut().expect("checked");
        let share = lh.cfg.symbols_per_node;
        let step = share.div_ceil(lh.cfg.ramp_blocks).max(1);
        let client = &mut lh.clients[c as usize];
        let reviewed = from.saturating_sub(2);
        let mut home = 0u32;
        for s in client.senders.iter_mut() {
            let current = s.ask.at(from) as u32;
            let promised = s.ask.at(reviewed) as u32;
            let full = reviewed < s.since || s.got(reviewed) as u32 >= promised;
            let grown = if full { (current + step).min(share) } else { current };
            let ask = grown.min(total.saturating_sub(home));
            s.ask.set(from, ask as u16);
            home += ask;
        }
        let server = total.saturating_sub(home);
        client.server.ask.set(from, server as u16);
    }
}

/// The packet for `esi` of `block` at full fidelity, from an encoder of
/// that block's bytes (made on first use: the bytes are a function of the
/// run seed, the stream and the block).
fn full_packet(
    encoders: &mut BTreeMap<(u32, u32), (BlockEncoder, Vec<u8>)>,
    plans: &mut PlanCache,
    seed: u64,
    spec: BlockSpec,
    stream: u32,
    block: u32,
    esi: u32,
) -> Packet {
    if !encoders.contains_key(&(stream, block)) {
        let mut g = SplitMix64::new(seed ^ ((stream as u64) << 32 | block as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let data: Vec<u8> = (0..spec.block_bytes()).map(|_| g.next_u64() as u8).collect();
        let encoder = BlockEncoder::new(spec, block as u64, data.clone(), plans).expect("a block of the spec's size");
        if encoders.len() >= FULL_ENCODERS {
            let oldest = *encoders.keys().min_by_key(|k| (k.1, k.0)).expect("non-empty");
            encoders.remove(&oldest);
        }
        encoders.insert((stream, block), (encoder, data));
    }
    encoders[&(stream, block)].0.packet(esi).expect("ids within the layout")
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_client_state_stays_small() {
        // Tripwires for the scale scenario's memory budget (benches/README.md,
        // "Scale"): a client is its struct, a sender per home node it uses
        // and a receive window; growth here is multiplied by a million.
        let (client, sender) = (std::mem::size_of::<Client>(), std::mem::size_of::<Sender>());
        let rx = std::mem::size_of::<BlockRx>();
        eprintln!("Client {client} B, Sender {sender} B, BlockRx {rx} B, Peer {} B", std::mem::size_of::<Peer>());
        assert!(client <= 320, "Client grew to {client} B");
        assert!(sender <= 64, "Sender grew to {sender} B");
        assert!(rx <= 48, "BlockRx grew to {rx} B");
        assert!(std::mem::size_of::<Peer>() <= 160);
    }
}
