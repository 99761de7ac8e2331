//! The last hop, a part of the world: the adapter between the world and
//! the last-hop crate (`sim/lasthop`). The part's events and the world's
//! hooks become the crate's inputs, its outputs become events, queue
//! offers and counters. What the last hop does (scheduler, home-node
//! agents, clients, decoding) is the crate's; what is here is the network
//! it runs on:
//! - every edge's last-hop sends leave through a queue of their own at the
//!   edge's egress rate, deep enough for one block duration (per-connection
//!   socket buffers: a block's symbols to thousands of clients leave in one
//!   burst when it completes); it does not share capacity with the edge's
//!   chunk traffic to viewers of streams not on the last hop;
//! - feeds and server symbols are IDC egress, and so are symbols relayed
//!   through a client's edge when NAT traversal failed: they reach the
//!   relay edge from the home node and leave it through the same last-hop
//!   send queue as the edge's own symbols to its clients (a relay edge
//!   forwards them to those same clients, out of the same port), so a
//!   busy edge delays them and a full one drops them (lost to the client);
//!   IDC egress when the relay sends them;
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
//!
//! With `[last_hop.selection]` those streams are candidates, each on the
//! last hop only while the talk's rule keeps it there
//! (`cdnsim_lasthop::Selection`;
//! docs/references.md, Up-leg copies and hot-stream rule).
//! Every `interval` (the first at `interval`, not at
//! zero) a `Decide` event measures each candidate in stream order with
//! `Measure::of_audience`: its viewers now (however served), the stream's
//! rate, the layout, its home nodes online now and their mean usable
//! upload, the expected share of relayed connections (clients' NATs from
//! the mix against those nodes', by the traversal matrix), and as feeding
//! edges the distinct edges of those home nodes (an upper estimate: an
//! edge that carries the stream for chunk viewers anyway costs nothing
//! more). A stream starts off. A decision applies to viewers who join
//! after it: on Enter they become last-hop clients, on Leave they get
//! chunk delivery; viewers already watching keep the delivery they joined
//! with until they leave (README, "What the model covers").

use cdnsim_codec::{DecodeTable, Decoding};
use cdnsim_engine::{RngStream, SimDuration, SimTime, stream, stream_indexed};
use cdnsim_metrics::{Col, Table, Value};
use cdnsim_lasthop::{
    Block, ClientId, ClientPlace, Config, Connection, EdgeId, FirstFit, HomeId, HomeInfo, LastHop, NatClass,
    Audience, Measure, Output, Selection, SelectionConfig, SelectionTally, Sender, StreamId, Timer, Underlay,
};
use cdnsim_net::home::{HomeModel, NatType};
use cdnsim_net::{Fifo, Offer};
use cdnsim_scenario::Scenario;
use rand::Rng;

use super::homes::Homes;
use super::surroundings::Surroundings;
use crate::class::NET;

/// The last hop's events.
#[derive(Clone, Copy, Debug)]
pub enum LastHopEvent {
    /// A home node's share of `block` arrives from its edge.
    Feed { home: HomeId, block: Block },
    /// Symbols reach a client (see [`Batch`]).
    Batch(Batch),
    /// Relayed symbols (`bytes` on the wire) from a home node reach the
    /// client's edge, which relays them.
    Relay { batch: Batch, bytes: u32 },
    /// Client `client` reviews its senders for `block`.
    Review { client: ClientId, block: Block },
    /// A home node's heartbeat to the scheduler is due.
    Heartbeat(HomeId),
    /// `[last_hop.selection]`: the candidates' decision interval ends.
    Decide,
}

/// `count` symbols of `block` from `sender` (a home node, or the edge
/// server) reach client `client`, before loss; the server's are its
/// symbols `offset..offset + count` of the block.
#[derive(Clone, Copy, Debug)]
pub struct Batch {
    pub client: ClientId,
    pub sender: Sender,
    pub block: Block,
    pub count: u16,
    pub offset: u16,
    /// Where the sender was in the client's list when it sent (checked
    /// before searching it).
    pub hint: u16,
    /// Dropped at the relay: every symbol is lost.
    pub dropped: bool,
}

/// The world as the last hop sees it.
type Env<'a> = dyn Surroundings<LastHopEvent> + 'a;

/// The decode table every `model` scenario uses, made by `cdnsim calibrate`.
const DECODE_TABLE_CSV: &str = include_str!("../../../../data/decode_model.csv");

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
    /// Relayed batches the relay edge's queue took, their summed wait in
    /// it, and those it dropped (also in `edge_drops`) with their symbols.
    pub relay_batches: u64,
    pub relay_wait_ns: u64,
    pub relay_drops: u64,
    pub relay_dropped_symbols: u64,
    /// Summed over the edges' last-hop send queues: bytes offered and
    /// dropped (the conservation identity's terms with what they hold and
    /// sent at the stop).
    pub queue_bytes_in: u64,
    pub queue_bytes_dropped: u64,
}

/// The last hop of a run and the network it runs on.
pub struct LastHopNet {
    pub lh: LastHop,
    /// Per IDC node: its last-hop send queue (module docs).
    egress: Vec<Fifo>,
    /// Per client: its viewer (ascending: clients join in viewer order).
    viewer_of: Vec<u32>,
    /// Per client: its edge and region (where its relayed symbols go).
    client_place: Vec<(u32, u16)>,
    /// Symbol loss, home node -> client, and server -> client (the access
    /// network's).
    loss: f64,
    access_loss: f64,
    geo: Geography,
    /// Per IDC node: its ISP among the home nodes' ISPs.
    node_isp: Vec<Option<u16>>,
    loss_rng: RngStream,
    nat_rng: RngStream,
    pub stats: EdgeStats,
    /// `[last_hop.selection]`, when the scenario has it.
    selector: Option<Selector>,
}

/// Which candidate streams are on the last hop, and what the rule reads.
struct Selector {
    sel: Selection,
    interval_ns: u64,
    bitrate_bps: u64,
    /// K.
    k: u32,
    /// Per candidate stream: its home nodes (positions in memory) with
    /// their feeding edges.
    homes: Vec<Vec<(u32, u32)>>,
}

/// NAT traversal and latencies, as the crate asks for them.
struct Net {
    model: HomeModel,
    traversal_rng: RngStream,
    /// Per home node: NAT type and region.
    nat: Vec<NatType>,
    region: Vec<u16>,
    geo: Geography,
}

/// Where things are and how far apart, for the last hop's traffic.
#[derive(Clone)]
struct Geography {
    /// One way between regions (row-major), access network included.
    region_ns: Vec<u64>,
    regions: usize,
    /// Per IDC node: its region.
    node_region: Vec<u16>,
    /// The access network, one way.
    access_ns: u64,
}

impl Geography {
    fn new(sc: &Scenario) -> Geography {
        let regions = sc.regions.len();
        let mut region_ns = vec![0u64; regions * regions];
        for a in 0..regions {
            for b in 0..regions {
                region_ns[a * regions + b] =
                    sc.region_latency_ns(a, b, sc.network.route_inflation) + sc.viewers.access_latency_ns;
            }
        }
        let node_region = sc.nodes.iter().map(|n| n.region as u16).collect();
        Geography { region_ns, regions, node_region, access_ns: sc.viewers.access_latency_ns }
    }

    /// One way between regions `a` and `b`, access network included.
    fn latency(&self, a: usize, b: usize) -> u64 {
        self.region_ns[a * self.regions + b]
    }

    fn node_region(&self, node: u32) -> usize {
        self.node_region[node as usize] as usize
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
            let edge_region = self.geo.node_region(client.edge.0);
            self.geo.latency(home_region, edge_region) + self.geo.latency(edge_region, client_region)
        } else {
            self.geo.latency(home_region, client_region) + self.geo.access_ns
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
        let weights: Vec<f64> = (1..=count).map(|r| cdnsim_maths::powf(r as f64, -sc.broadcasters.zipf)).collect();
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
        let selector = cfg.selection.map(|s| {
            let rule = SelectionConfig { enter_bps: s.enter_bps as i64, leave_bps: s.leave_bps as i64, min_dwell_ns: s.min_dwell_ns };
            let mut by_stream = vec![Vec::new(); count];
            for (h, info) in infos.iter().enumerate() {
                by_stream[info.fstream as usize].push((h as u32, info.edge.0));
            }
            Selector {
                sel: Selection::new(rule, count, |_| false).expect("validated by the scenario"),
                interval_ns: s.interval_ns,
                bitrate_bps: sc.stream.bitrate_bps,
                k: cfg.k as u32,
                homes: by_stream,
            }
        });
        let geo = Geography::new(sc);
        let net = Net {
            traversal_rng: stream(seed, "lasthop.traversal"),
            nat: homes.nodes.iter().map(|h| h.nat()).collect(),
            region: homes.region.clone(),
            geo: geo.clone(),
            model,
        };
        let table = bundled_decode_table();
        // The table describes failures for repair ids below its calibrated
        // end; the layout (K source ids, the slots, the server's K repair
        // ids) must stay there, or the model would answer for ids it never
        // measured.
        let layout_end = 2 * layout.k() + layout.slots() * layout.symbols_per_slot();
        let calibrated = table.esi_end().expect("the bundled table records its ESI end");
        assert!(layout_end <= calibrated, "last-hop layout ends at ESI {layout_end}, the decode table was calibrated below {calibrated}");
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
            client_place: Vec::new(),
            loss: cfg.loss,
            access_loss: sc.viewers.access_loss,
            geo,
            node_isp: sc.nodes.iter().map(|n| homes.isps.iter().position(|i| *i == n.isp).map(|i| i as u16)).collect(),
            loss_rng: stream(seed, "lasthop.loss"),
            nat_rng: stream(seed, "lasthop.client_nat"),
            stats: EdgeStats::default(),
            selector,
        }
    }

    /// Whether viewers of `stream` joining now go over the last hop.
    pub fn covers(&self, stream: u32) -> bool {
        self.lh.covers(StreamId(stream)) && self.selector.as_ref().is_none_or(|s| s.sel.is_on(StreamId(stream)))
    }

    /// `[last_hop.selection]`: decides every candidate on its audience now
    /// (module docs) and arms the next decision.
    fn decide(&mut self, homes: &Homes, w: &mut Env) {
        let now = w.now();
        let Some(s) = &mut self.selector else { return };
        let cfg = self.lh.config();
        let model = homes.model.as_ref().expect("home nodes have a model");
        for (f, nodes) in s.homes.iter().enumerate() {
            let online: Vec<(u32, u32)> = nodes.iter().copied().filter(|&(h, _)| homes.nodes[h as usize].is_online()).collect();
            let upload: u64 = online.iter().map(|&(h, _)| homes.upload_bps(h as usize, now)).sum();
            let mean_upload = if online.is_empty() { 0 } else { upload / online.len() as u64 };
            // The expected share of relayed connections: a client's NAT
            // drawn from the mix, against these nodes' NATs.
            let direct: f64 = online
                .iter()
                .map(|&(h, _)| {
                    let home = homes.nodes[h as usize].nat();
                    NatType::ALL.iter().map(|&a| model.nat_mix().probability(a) * model.traversal().probability(a, home)).sum::<f64>()
                })
                .sum();
            let relayed = if online.is_empty() { 0.0 } else { 1.0 - direct / online.len() as f64 };
            let relayed_ppm = (relayed.clamp(0.0, 1.0) * 1e6).round() as u32;
            let mut edges: Vec<u32> = online.iter().map(|&(_, e)| e).collect();
            edges.sort_unstable();
            edges.dedup();
            let audience = Audience {
                viewers: w.watching(f as u32),
                bitrate_bps: s.bitrate_bps,
                block_ns: cfg.block_ns,
                k: s.k,
                symbols_per_node: cfg.symbols_per_node,
                headroom_symbols: cfg.headroom_symbols,
                wire_bytes: cfg.wire_bytes(),
                node_symbols_per_block: cfg.symbols_per_block(mean_upload).clamp(0, u32::MAX as i64) as u32,
                home_nodes: online.len() as u32,
                relayed_ppm,
                feeding_edges: edges.len() as u32,
            };
            s.sel.decide(now.as_ns(), StreamId(f as u32), Measure::of_audience(&audience));
        }
        w.schedule(now + SimDuration::from_ns(s.interval_ns), NET, LastHopEvent::Decide);
    }

    /// `[last_hop.selection]`'s tallies summed over the candidates up to
    /// `stop_ns`, when the scenario has it.
    fn selection_tally(&self, stop_ns: u64) -> Option<SelectionTally> {
        let s = self.selector.as_ref()?;
        let mut sum = SelectionTally::default();
        for f in 0..s.homes.len() as u32 {
            let t = s.sel.tally(StreamId(f), stop_ns);
            sum.entries += t.entries;
            sum.exits += t.exits;
            sum.on_ns += t.on_ns;
        }
        Some(sum)
    }
}

impl LastHopNet {
    /// Home nodes online at time zero register; every node gets its
    /// heartbeat clock.
    pub fn start(&mut self, homes: &Homes, w: &mut Env) {
        self.lh.start();
        for h in 0..homes.nodes.len() {
            if homes.nodes[h].is_online() {
                self.lh.register(0, HomeId(h as u32), homes.upload_bps(h, SimTime::ZERO));
            }
        }
        if let Some(s) = &self.selector {
            w.schedule(SimTime::from_ns(s.interval_ns), NET, LastHopEvent::Decide);
        }
        self.outputs(homes, w);
    }

    /// Carries out what the last hop asked for, in its order.
    fn outputs(&mut self, homes: &Homes, w: &mut Env) {
        let now = w.now();
        while let Some(out) = self.lh.poll() {
            match out {
                Output::Timer { at_ns, timer } => {
                    let event = match timer {
                        Timer::Heartbeat(h) => LastHopEvent::Heartbeat(h),
                        Timer::Review { client, block } => LastHopEvent::Review { client, block },
                    };
                    w.schedule(SimTime::from_ns(at_ns), NET, event);
                }
                Output::Attach { stream, edge } => w.attach(stream.0, edge.0),
                Output::Detach { stream, edge } => w.detach(stream.0, edge.0),
                Output::Feed { edge, home, stream, block, bytes } => {
                    let region = homes.region[home.0 as usize] as usize;
                    let latency = SimDuration::from_ns(self.geo.latency(self.geo.node_region(edge.0), region));
                    match self.offer(edge.0, now, bytes as u32) {
                        Offer::Dropped => {
                            self.stats.feeds_dropped += 1;
                            self.stats.edge_drops += 1;
                        }
                        Offer::Sent { depart, .. } => {
                            w.idc_egress(now, stream.0, bytes);
                            self.stats.egress_to_homes_bytes += bytes;
                            w.schedule(depart + latency, NET, LastHopEvent::Feed { home, block });
                        }
                    }
                }
                Output::ServerSend { edge, client, stream, block, offset, count, bytes } => {
                    if let Offer::Sent { depart, .. } = self.offer(edge.0, now, bytes as u32) {
                        w.idc_egress(now, stream.0, bytes);
                        self.stats.egress_to_viewers_bytes += bytes;
                        let batch = Batch { client, sender: Sender::Server, block, count, offset, hint: 0, dropped: false };
                        w.schedule(depart + SimDuration::from_ns(self.geo.access_ns), NET, LastHopEvent::Batch(batch));
                    } else {
                        self.stats.edge_drops += 1;
                    }
                }
                Output::HomeSend { home, client, stream: _, block, count, hint, arrive_ns, relayed, bytes } => {
                    let batch = Batch { client, sender: Sender::Home(home), block, count, offset: 0, hint, dropped: false };
                    if relayed {
                        // At the relay the rest of the way less earlier.
                        let at = arrive_ns - self.relay_rest_ns(client);
                        w.schedule(SimTime::from_ns(at), NET, LastHopEvent::Relay { batch, bytes: bytes as u32 });
                    } else {
                        w.schedule(SimTime::from_ns(arrive_ns), NET, LastHopEvent::Batch(batch));
                    }
                }
            }
        }
    }

    /// Offers `bytes` to `edge`'s last-hop send queue now.
    fn offer(&mut self, edge: u32, now: SimTime, bytes: u32) -> Offer {
        let out = self.egress[edge as usize].offer(now, bytes);
        self.stats.queue_bytes_in += bytes as u64;
        if out == Offer::Dropped {
            self.stats.queue_bytes_dropped += bytes as u64;
        }
        out
    }

    /// One way from `client`'s edge to the client.
    fn relay_rest_ns(&self, client: ClientId) -> u64 {
        let (edge, region) = self.client_place[client.0 as usize];
        self.geo.latency(self.geo.node_region(edge), region as usize)
    }

    /// Relayed symbols reach the client's edge: they queue in its
    /// last-hop send queue, then go on to the client; dropped there, they
    /// are lost to it when they would have arrived.
    fn relay(&mut self, mut batch: Batch, bytes: u32, w: &mut Env) {
        let now = w.now();
        let edge = self.client_place[batch.client.0 as usize].0;
        let rest = SimDuration::from_ns(self.relay_rest_ns(batch.client));
        let stop = SimTime::from_ns(self.lh.config().stop_ns);
        match self.offer(edge, now, bytes) {
            Offer::Sent { start, depart } => {
                self.stats.relay_batches += 1;
                self.stats.relay_wait_ns += (start - now).as_ns();
                self.stats.egress_relay_bytes += bytes as u64;
                let Sender::Home(home) = batch.sender else { unreachable!("only home nodes' symbols are relayed") };
                let (stream, _) = self.lh.home_stream(home);
                w.idc_egress(now, stream.0, bytes as u64);
                // The crate counted it in flight only if it was due after
                // the stop before it queued here.
                if now + rest <= stop && depart + rest > stop {
                    self.lh.delayed_past_stop(home, batch.count);
                }
                w.schedule(depart + rest, NET, LastHopEvent::Batch(batch));
            }
            Offer::Dropped => {
                self.stats.edge_drops += 1;
                self.stats.relay_drops += 1;
                self.stats.relay_dropped_symbols += batch.count as u64;
                batch.dropped = true;
                w.schedule(now + rest, NET, LastHopEvent::Batch(batch));
            }
        }
    }

    /// Home node `h` went on- or offline (already applied to its state).
    pub fn churn(&mut self, h: u32, homes: &Homes, w: &mut Env) {
        let now = w.now();
        let (online, bps) = (homes.nodes[h as usize].is_online(), homes.upload_bps(h as usize, now));
        self.lh.churn(now.as_ns(), HomeId(h), online, bps);
        self.outputs(homes, w);
    }

    /// One of the last hop's events.
    pub fn handle(&mut self, event: LastHopEvent, homes: &Homes, w: &mut Env) {
        match event {
            LastHopEvent::Feed { home, block } => self.feed(home, block, homes, w),
            LastHopEvent::Batch(b) => self.batch(b, w),
            LastHopEvent::Relay { batch, bytes } => self.relay(batch, bytes, w),
            LastHopEvent::Review { client, block } => {
                let next_play = w.next_play(self.viewer_of[client.0 as usize]);
                self.lh.client_review(w.now().as_ns(), client, block, next_play);
                self.outputs(homes, w);
            }
            LastHopEvent::Heartbeat(h) => {
                let now = w.now();
                self.lh.heartbeat(now.as_ns(), h, homes.upload_bps(h.0 as usize, now));
                self.outputs(homes, w);
            }
            LastHopEvent::Decide => self.decide(homes, w),
        }
    }

    /// Block `block` of `stream` completed at `edge`.
    pub fn block_ready(&mut self, stream: u32, edge: u32, block: u32, homes: &Homes, w: &mut Env) {
        self.lh.block_ready(StreamId(stream), EdgeId(edge), Block(block));
        self.outputs(homes, w);
    }

    /// Home node `h`'s share of `block` arrived.
    fn feed(&mut self, h: HomeId, block: Block, homes: &Homes, w: &mut Env) {
        let now = w.now();
        let downloaded = self.lh.feed_arrived(now.as_ns(), h, block, homes.upload_bps(h.0 as usize, now));
        if downloaded > 0 {
            let (stream, _) = self.lh.home_stream(h);
            w.second(now, stream.0).bytes_to_homes += downloaded;
        }
        self.outputs(homes, w);
    }

    /// Viewer `v` of a last-hop stream joins at `edge`, whose newest
    /// complete block is `newest`: a client on the edge's server.
    pub fn join(
        &mut self,
        v: u32,
        (stream, edge, region): (u32, u32, u16),
        newest: Option<u32>,
        homes: &Homes,
        w: &mut Env,
    ) {
        let isp = self.node_isp[edge as usize];
        let model = homes.model.as_ref().expect("home nodes have a model");
        let nat = NatClass(model.nat_mix().sample(&mut self.nat_rng).index() as u8);
        let now = w.now().as_ns();
        let c = self.lh.client_join(now, StreamId(stream), EdgeId(edge), region, isp, nat, newest.map(Block));
        debug_assert_eq!(c.0 as usize, self.viewer_of.len());
        debug_assert!(self.viewer_of.last().is_none_or(|&last| last < v), "clients join in viewer order");
        self.viewer_of.push(v);
        self.client_place.push((edge, region));
        self.outputs(homes, w);
    }

    /// Viewer `v` leaves: its client, if it had one, goes. Whether it had.
    pub fn leave(&mut self, v: u32, homes: &Homes, w: &mut Env) -> bool {
        let Some(c) = self.client_of(v) else { return false };
        self.lh.client_leave(c);
        self.outputs(homes, w);
        true
    }

    /// Viewer `v`'s client, if its stream went over the last hop.
    pub fn client_of(&self, v: u32) -> Option<ClientId> {
        self.viewer_of.binary_search(&v).ok().map(|c| ClientId(c as u32))
    }

    /// Symbols reach a client; the way loses each independently (the
    /// access network's loss from the server, the last hop's from a home
    /// node). Nothing happens for a client that has left.
    fn batch(&mut self, b: Batch, w: &mut Env) {
        let Batch { client, sender, block, count, offset, hint, dropped } = b;
        let v = self.viewer_of[client.0 as usize];
        let next_play = w.next_play(v);
        let loss = if sender == Sender::Server { self.access_loss } else { self.loss };
        let rng = &mut self.loss_rng;
        let lost = || dropped || (loss > 0.0 && rng.random::<f64>() < loss);
        let Some(arrival) = self.lh.symbols_arrived(client, sender, block, offset, count, hint, next_play, lost) else { return };
        w.viewer_receives(v, arrival.bytes, sender == Sender::Server, arrival.decoded.then_some(block.0));
    }
}

/// The decode model the `model` fidelity reads (data/decode_model.csv).
pub fn bundled_decode_table() -> DecodeTable {
    DecodeTable::parse_csv(DECODE_TABLE_CSV).expect("the bundled decode table parses")
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
/// in `viewer_of` and its place in `client_place` included).
pub(crate) fn client_bytes(sc: &Scenario) -> u64 {
    let fidelity = sc.last_hop.as_ref().expect("a last hop").fidelity;
    cdnsim_lasthop::client_bytes(&config(sc), fidelity) + 4 + 8
}

/// Last-hop summary columns: every run has them, zero without a last hop
/// (`net` is `None`), so one sweep can mix both.
pub fn columns(net: Option<&LastHopNet>, sc: &Scenario, homes: &Homes) -> Vec<(String, Value)> {
    let s = net.map(|net| net.lh.stats()).unwrap_or_default();
    let e = net.map(|net| net.stats).unwrap_or_default();
    // 0 when no home node downloaded anything (NaN would make equal
    // results compare unequal).
    let ratio = |a: u64, b: u64| Value::Real(if b > 0 { a as f64 / b as f64 } else { 0.0 });
    let mut sent = 0u64;
    let mut accounted = 0u64;
    if let Some(net) = net {
        for h in 0..homes.nodes.len() as u32 {
            let t = net.lh.home_tally(HomeId(h));
            sent += t.symbols_sent;
            accounted += t.symbols_arrived + t.symbols_lost + t.symbols_in_flight;
        }
    }
    // The edges' last-hop send queues at the stop: what they sent and
    // still hold, counted apart from what was offered.
    let (mut queue_out, mut queue_held) = (0u64, 0u64);
    if let Some(net) = net {
        let stop = SimTime::from_ns(sc.duration_ns);
        for f in &net.egress {
            let mut f = f.clone();
            queue_held += f.occupancy_bytes(stop);
            queue_out += f.departed_bytes(stop);
        }
    }
    let mut cols = vec![
        ("fidelity".into(), Value::Text(sc.last_hop.as_ref().map_or("none", |l| l.fidelity.as_str()).into())),
        ("home_amplification".into(), ratio(s.home_upload_bytes, s.home_download_bytes)),
        ("home_goodput_amplification".into(), ratio(s.home_useful_upload_bytes, s.home_download_bytes)),
        ("home_upload_bytes".into(), Value::Count(s.home_upload_bytes)),
        ("home_useful_upload_bytes".into(), Value::Count(s.home_useful_upload_bytes)),
        ("home_download_bytes".into(), Value::Count(s.home_download_bytes)),
        ("idc_egress_to_viewers_bytes".into(), Value::Count(e.egress_to_viewers_bytes)),
        ("idc_egress_to_homes_bytes".into(), Value::Count(e.egress_to_homes_bytes)),
        ("idc_egress_relay_bytes".into(), Value::Count(e.egress_relay_bytes)),
        ("lasthop_clients".into(), Value::Count(s.clients)),
        ("blocks_decoded".into(), Value::Count(s.blocks_decoded)),
        ("full_mismatches".into(), Value::Count(s.full_mismatches)),
        ("evictions".into(), Value::Count(s.evictions)),
        ("sheds".into(), Value::Count(s.sheds)),
        ("symbols_wasted".into(), Value::Count(s.symbols_wasted)),
        ("feeds_dropped".into(), Value::Count(e.feeds_dropped)),
        ("edge_drops".into(), Value::Count(e.edge_drops)),
        ("direct_connections".into(), Value::Count(s.direct_connections)),
        ("relayed_connections".into(), Value::Count(s.relayed_connections)),
        ("scheduler_requests".into(), Value::Count(s.scheduler_requests)),
        ("server_repairs".into(), Value::Count(s.server_repairs)),
        ("home_symbols_sent".into(), Value::Count(sent)),
        // Arrived + lost + in flight at the stop: equal to sent when no
        // symbol went unaccounted (byte conservation on the last hop).
        ("home_symbols_accounted".into(), Value::Count(accounted)),
        (
            "relay_queue_ms_mean".into(),
            Value::Real(if e.relay_batches > 0 { e.relay_wait_ns as f64 / e.relay_batches as f64 / 1e6 } else { 0.0 }),
        ),
        ("relay_drops".into(), Value::Count(e.relay_drops)),
        ("relay_dropped_symbols".into(), Value::Count(e.relay_dropped_symbols)),
        ("edge_queue_bytes_in".into(), Value::Count(e.queue_bytes_in)),
        ("edge_queue_bytes_accounted".into(), Value::Count(queue_out + queue_held + e.queue_bytes_dropped)),
    ];
    // Only with `[last_hop.selection]`: changes summed over the
    // candidates, and their time on the last hop up to the stop.
    if let Some(t) = net.and_then(|net| net.selection_tally(sc.duration_ns)) {
        cols.push(("lasthop_stream_entries".into(), Value::Count(t.entries)));
        cols.push(("lasthop_stream_exits".into(), Value::Count(t.exits)));
        cols.push(("lasthop_stream_on_s".into(), Value::Real(t.on_ns as f64 / 1e9)));
    }
    cols
}

impl LastHopNet {
    /// Blocks that failed to decode (the summary's `decode_failures`).
    pub fn decode_failures(&self) -> u64 {
        self.lh.stats().decode_failures
    }

    /// `home_nodes.parquet`'s last-hop columns over `rows` (positions in
    /// memory, in id order): each node's stream and slot, and its tallies.
    pub fn home_columns(&self, rows: &[usize], t: &mut Table) {
        let p = |i: usize| self.lh.home_tally(HomeId(i as u32));
        let stream_slot = |i: usize| self.lh.home_stream(HomeId(i as u32));
        t.push("stream", Col::U64(rows.iter().map(|&i| stream_slot(i).0.0 as u64).collect()));
        t.push("slot", Col::U64(rows.iter().map(|&i| stream_slot(i).1 as u64).collect()));
        t.push("upload_bytes", Col::U64(rows.iter().map(|&i| p(i).upload_bytes).collect()));
        t.push("useful_upload_bytes", Col::U64(rows.iter().map(|&i| p(i).useful_upload_bytes).collect()));
        t.push("download_bytes", Col::U64(rows.iter().map(|&i| p(i).download_bytes).collect()));
        t.push(
            "amplification",
            Col::OptF64(rows.iter().map(|&i| (p(i).download_bytes > 0).then(|| p(i).upload_bytes as f64 / p(i).download_bytes as f64)).collect()),
        );
        t.push("clients_max", Col::U64(rows.iter().map(|&i| p(i).clients_max as u64).collect()));
        t.push("sheds", Col::U64(rows.iter().map(|&i| p(i).sheds).collect()));
        t.push("symbols_sent", Col::U64(rows.iter().map(|&i| p(i).symbols_sent).collect()));
        t.push("symbols_arrived", Col::U64(rows.iter().map(|&i| p(i).symbols_arrived).collect()));
        t.push("symbols_lost", Col::U64(rows.iter().map(|&i| p(i).symbols_lost).collect()));
        t.push("symbols_in_flight", Col::U64(rows.iter().map(|&i| p(i).symbols_in_flight).collect()));
    }

    /// Viewer `v`'s last-hop tallies for its row: home nodes used and
    /// evictions (zero for a viewer without a client).
    pub fn viewer_tally(&self, v: u32) -> (u64, u64) {
        self.client_of(v).map_or((0, 0), |c| {
            let t = self.lh.client_tally(c);
            (t.nodes_used, t.evictions)
        })
    }
}
