//! [`LastHop`]: the edge servers, home-node agents, scheduler and clients of
//! one run, wired to each other, with the caller's network behind the
//! [`Underlay`] trait and its events as method calls. See the crate docs
//! for the run-loop contract.

use std::collections::{BTreeMap, VecDeque};

use cdnsim_codec::{Decoding, NeededCache, RedundancyConfig, RedundancyController, ShareLayout};
use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::agent::{HomeAgent, HomeInfo, HomeTally};
use crate::client::{Ask, Client, Receipt, Sending};
use crate::config::{Config, MAX_SENDERS};
use crate::ids::{Block, ClientId, EdgeId, HomeId, NatClass, Sender, StreamId};
use crate::scheduler::{Placement, Request, Scheduler};
pub use crate::stats::Stats;

/// What the last hop asks of the network it runs on, answered at once.
pub trait Underlay {
    /// Whether a client behind `client` can reach home node `home` at all
    /// (the scheduler offers no node it could never connect to).
    fn reachable(&self, client: NatClass, home: HomeId) -> bool;
    /// A connection attempt from a client to `home`.
    fn connect(&mut self, client: &ClientPlace, home: HomeId) -> Connection;
}

/// Where a client is, for [`Underlay::connect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientPlace {
    pub region: u16,
    pub edge: EdgeId,
    pub nat: NatClass,
}

/// The outcome of a connection attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connection {
    /// NAT traversal failed: the symbols go through the client's edge
    /// (and are IDC egress).
    pub relayed: bool,
    /// One way, home node -> client, the relay included.
    pub latency_ns: u64,
}

/// A timer the caller arms; when it fires, call the method named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// [`LastHop::heartbeat`] for this node.
    Heartbeat(HomeId),
    /// [`LastHop::client_review`] of this block.
    Review { client: ClientId, block: Block },
}

/// What the last hop asks the caller to do, in the order it must be done
/// (the order is part of a run's event order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Call back at `at_ns`.
    Timer { at_ns: u64, timer: Timer },
    /// The edge gains a last-hop user of the stream: it must carry it.
    Attach { stream: StreamId, edge: EdgeId },
    /// The edge loses one; it may let the stream go.
    Detach { stream: StreamId, edge: EdgeId },
    /// The edge sends a home node its share of a block: `bytes` through
    /// the edge's queue; on arrival call [`LastHop::feed_arrived`].
    Feed { edge: EdgeId, home: HomeId, stream: StreamId, block: Block, bytes: u64 },
    /// The edge server sends a client `count` of its symbols of a block
    /// from `offset` on: `bytes` through the edge's queue, then the access
    /// network; on arrival call [`LastHop::symbols_arrived`] with
    /// [`Sender::Server`].
    ServerSend { edge: EdgeId, client: ClientId, stream: StreamId, block: Block, offset: u16, count: u16, bytes: u64 },
    /// A home node uploads `count` symbols of a block to a client; they
    /// arrive at `arrive_ns` (paced and with the connection's latency),
    /// then call [`LastHop::symbols_arrived`] with [`Sender::Home`] and
    /// `hint`. `relayed` bytes cross the client's edge (IDC egress).
    HomeSend { home: HomeId, client: ClientId, stream: StreamId, block: Block, count: u16, hint: u16, arrive_ns: u64, relayed: bool, bytes: u64 },
}

/// What arrived of a batch, for the caller's accounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// Symbols that survived the way, and their bytes.
    pub symbols: u16,
    pub bytes: u64,
    /// The block decoded with them: the player has it.
    pub decoded: bool,
}

/// A client's tallies, for its viewer's row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientTally {
    pub home_bytes: u64,
    pub nodes_used: u64,
    pub evictions: u64,
}

/// Who an edge serves on the last hop, per stream.
#[derive(Default)]
struct EdgeUsers {
    homes: Vec<HomeId>,
    clients: Vec<ClientId>,
}

pub struct LastHop {
    cfg: Config,
    k: u16,
    layout: ShareLayout,
    /// The last-hop streams, by popularity rank.
    streams: Vec<StreamId>,
    /// Per stream of the run: its index in `streams`.
    fstream_of: Vec<Option<u32>>,
    homes: Vec<HomeAgent>,
    clients: Vec<Client>,
    at_edge: BTreeMap<(StreamId, EdgeId), EdgeUsers>,
    scheduler: Scheduler,
    underlay: Box<dyn Underlay>,
    decoding: Decoding,
    needed: NeededCache,
    redundancy: RedundancyConfig,
    decode_rng: Xoshiro256PlusPlus,
    esis: Vec<u32>,
    out: VecDeque<Output>,
    stats: Stats,
}

impl LastHop {
    /// A last hop over `homes` (index = [`HomeId`]) for `streams` (the
    /// last-hop streams by rank) of the run's `stream_count`. `decode_rng`
    /// draws the model fidelity's per-block uniforms; `placement` chooses
    /// candidates. Panics on a configuration [`Config::check`] refuses
    /// (the scenario crate checks it first).
    pub fn new(
        cfg: Config,
        homes: &[HomeInfo],
        streams: Vec<StreamId>,
        stream_count: usize,
        underlay: Box<dyn Underlay>,
        placement: Box<dyn Placement>,
        decoding: Decoding,
        decode_rng: Xoshiro256PlusPlus,
    ) -> LastHop {
        let (spec, layout) = cfg.check().expect("a checked last-hop configuration");
        let mut fstream_of = vec![None; stream_count];
        for (f, s) in streams.iter().enumerate() {
            fstream_of[s.0 as usize] = Some(f as u32);
        }
        let keys: Vec<(u32, u16, u16)> = homes.iter().map(|h| (h.fstream, h.region, h.isp)).collect();
        LastHop {
            k: spec.k(),
            layout,
            scheduler: Scheduler::new(streams.len(), &keys, cfg.heartbeat_ns, cfg.symbols_per_node, placement),
            streams,
            fstream_of,
            homes: homes.iter().map(|&h| HomeAgent::new(h)).collect(),
            clients: Vec::new(),
            at_edge: BTreeMap::new(),
            underlay,
            decoding,
            needed: NeededCache::new(),
            redundancy: cfg.redundancy(),
            decode_rng,
            esis: Vec::new(),
            out: VecDeque::new(),
            stats: Stats::default(),
            cfg,
        }
    }

    /// The next thing to do. Call until `None` after every other call.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Whether `stream` goes over the last hop.
    pub fn covers(&self, stream: StreamId) -> bool {
        self.fstream_of.get(stream.0 as usize).is_some_and(|f| f.is_some())
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub fn home_tally(&self, h: HomeId) -> HomeTally {
        self.homes[h.0 as usize].tally
    }

    /// `count` symbols home node `h` sent, due before the stop when it sent
    /// them, will reach their client after it (the caller's network held
    /// them up, e.g. a relay's queue): they are in flight at the stop, not
    /// to be reported arriving.
    pub fn delayed_past_stop(&mut self, h: HomeId, count: u16) {
        self.homes[h.0 as usize].tally.symbols_in_flight += count as u64;
    }

    /// The stream home node `h` serves, and its slot.
    pub fn home_stream(&self, h: HomeId) -> (StreamId, u32) {
        let info = &self.homes[h.0 as usize].info;
        (self.streams[info.fstream as usize], info.slot)
    }

    pub fn client_tally(&self, c: ClientId) -> ClientTally {
        let c = &self.clients[c.0 as usize];
        ClientTally { home_bytes: c.home_bytes, nodes_used: c.nodes_used, evictions: c.evictions }
    }

    // ------------------------------------------------------------ home nodes

    /// Arms every home node's heartbeat clock; call once at time zero,
    /// then [`LastHop::register`] each node online then.
    pub fn start(&mut self) {
        let heartbeat = self.cfg.heartbeat_ns;
        for (h, agent) in self.homes.iter().enumerate() {
            // Phases spread over the interval by node id (a fixed hash, not
            // a draw: nothing random about when a clock was started).
            let phase = (agent.info.id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) % heartbeat;
            self.out.push_back(Output::Timer { at_ns: phase, timer: Timer::Heartbeat(HomeId(h as u32)) });
        }
    }

    /// Home node `h`, online, reports to the scheduler at once (at start,
    /// or when it comes online), with its usable upload now.
    pub fn register(&mut self, now_ns: u64, h: HomeId, upload_bps: u64) {
        self.homes[h.0 as usize].registered(upload_bps);
        self.report(now_ns, h, upload_bps);
    }

    /// Home node `h` went on- or offline. Offline: every connection closes
    /// at once; clients find out from the symbols that stop arriving, the
    /// scheduler from the heartbeats.
    pub fn churn(&mut self, now_ns: u64, h: HomeId, online: bool, upload_bps: u64) {
        self.homes[h.0 as usize].online = online;
        if online {
            self.register(now_ns, h, upload_bps);
            return;
        }
        self.homes[h.0 as usize].clients.clear();
        self.update_feed(h);
    }

    /// Home node `h`'s heartbeat clock fired: it reports if online.
    pub fn heartbeat(&mut self, now_ns: u64, h: HomeId, upload_bps: u64) {
        if self.homes[h.0 as usize].online {
            self.report(now_ns, h, upload_bps);
        }
        let at_ns = now_ns + self.cfg.heartbeat_ns;
        self.out.push_back(Output::Timer { at_ns, timer: Timer::Heartbeat(h) });
    }

    /// The scheduler learns that `h` is alive and its spare capacity.
    fn report(&mut self, now_ns: u64, h: HomeId, upload_bps: u64) {
        let capacity = self.cfg.symbols_per_block(upload_bps);
        let mut asked = 0i64;
        for &c in &self.homes[h.0 as usize].clients {
            if let Some(s) = self.clients[c.0 as usize].senders.iter().find(|s| s.home == h) {
                asked += s.ask.at(u32::MAX) as i64;
            }
        }
        let fstream = self.homes[h.0 as usize].info.fstream;
        self.scheduler.heartbeat(now_ns, h, fstream, capacity, asked);
    }

    /// A home node holds its share (is fed by its edge) while online with
    /// clients.
    fn update_feed(&mut self, h: HomeId) {
        let agent = &mut self.homes[h.0 as usize];
        let want = agent.wants_feed();
        if want == agent.fed {
            return;
        }
        agent.fed = want;
        let (stream, edge) = (self.streams[agent.info.fstream as usize], agent.info.edge);
        let users = self.at_edge.entry((stream, edge)).or_default();
        if want {
            users.homes.push(h);
            self.out.push_back(Output::Attach { stream, edge });
        } else {
            users.homes.retain(|&x| x != h);
            self.out.push_back(Output::Detach { stream, edge });
        }
    }

    /// Block `block` of `stream` completed at `edge`: feeds to its home
    /// nodes, server symbols to its clients.
    pub fn block_ready(&mut self, stream: StreamId, edge: EdgeId, block: Block) {
        let Some(users) = self.at_edge.get(&(stream, edge)) else { return };
        let bytes = self.cfg.wire_bytes() as u64 * self.cfg.symbols_per_node as u64;
        for &home in &users.homes {
            self.out.push_back(Output::Feed { edge, home, stream, block, bytes });
        }
        for c in users.clients.clone() {
            let client = &self.clients[c.0 as usize];
            let n = client.server.ask.at(block.0);
            if block.0 >= client.first_block {
                self.server_send(c, block.0, 0, n);
            }
        }
    }

    /// The edge server sends client `c` its symbols `offset..offset + n`.
    fn server_send(&mut self, c: ClientId, block: u32, offset: u16, n: u16) {
        // The server's repair range holds K ids (the scenario's layout).
        let n = n.min((2 * self.k).saturating_sub(offset));
        if n == 0 {
            return;
        }
        let client = &self.clients[c.0 as usize];
        let (edge, stream) = (client.edge, self.streams[client.fstream as usize]);
        let bytes = self.cfg.wire_bytes() as u64 * n as u64;
        self.out.push_back(Output::ServerSend { edge, client: c, stream, block: Block(block), offset, count: n, bytes });
    }

    /// Home node `h`'s share of `block` arrived from its edge: it serves
    /// its clients at `upload_bps` (its true capacity now), after shedding
    /// whoever does not fit in what it measured of its own sending.
    /// Returns the bytes it downloaded (none when it has no upload now:
    /// the share is wasted).
    pub fn feed_arrived(&mut self, now_ns: u64, h: HomeId, block: Block, upload_bps: u64) -> u64 {
        let share = self.cfg.symbols_per_node;
        if upload_bps == 0 {
            self.stats.symbols_wasted += share as u64;
            return 0;
        }
        let wire = self.cfg.wire_bytes() as u64;
        let stream = self.streams[self.homes[h.0 as usize].info.fstream as usize];
        let downloaded = wire * share as u64;
        self.homes[h.0 as usize].tally.download_bytes += downloaded;
        self.stats.home_download_bytes += downloaded;
        let capacity = self.cfg.symbols_per_block(self.homes[h.0 as usize].measured_bps());
        // (client, its sender index for h, its ask), in subscription order.
        let mut served: Vec<(ClientId, u16, u16)> = self.homes[h.0 as usize]
            .clients
            .iter()
            .map(|&c| {
                let senders = &self.clients[c.0 as usize].senders;
                match senders.iter().position(|s| s.home == h) {
                    Some(i) => (c, i as u16, senders[i].ask.at(block.0)),
                    None => (c, u16::MAX, 0),
                }
            })
            .collect();
        let asks: Vec<u16> = served.iter().map(|x| x.2).collect();
        let shed = self.homes[h.0 as usize].shed(&asks, capacity);
        for (c, _, _) in served.drain(served.len() - shed..) {
            // The client hears of it at once (its connection is reset) and
            // replaces the node at its next review.
            self.clients[c.0 as usize].lost_sender(h);
        }
        self.stats.sheds += shed as u64;
        if served.is_empty() {
            self.update_feed(h);
            return downloaded;
        }
        let stop = self.cfg.stop_ns;
        for (c, idx, _) in served {
            let Some(s) = self.clients[c.0 as usize].senders.get(idx as usize) else { continue };
            let n = s.ask.at(block.0);
            if n == 0 || block.0 < s.since {
                continue;
            }
            let (relayed, latency_ns) = (s.relay, s.latency_ns);
            let bytes = wire * n as u64;
            let agent = &mut self.homes[h.0 as usize];
            let depart = agent.pace(now_ns, bytes, upload_bps);
            agent.tally.upload_bytes += bytes;
            agent.tally.symbols_sent += n as u64;
            let arrive_ns = depart + latency_ns;
            if arrive_ns > stop {
                agent.tally.symbols_in_flight += n as u64;
            }
            self.stats.home_upload_bytes += bytes;
            self.out.push_back(Output::HomeSend { home: h, client: c, stream, block, count: n, hint: idx, arrive_ns, relayed, bytes });
        }
        downloaded
    }

    // --------------------------------------------------------------- clients

    /// A viewer of last-hop stream `stream` joins at `edge`: a client on
    /// the edge's server, with home nodes from the scheduler. `newest` is
    /// the newest block the edge holds complete (the server starts there).
    #[allow(clippy::too_many_arguments)]
    pub fn client_join(
        &mut self,
        now_ns: u64,
        stream: StreamId,
        edge: EdgeId,
        region: u16,
        isp: Option<u16>,
        nat: NatClass,
        newest: Option<Block>,
    ) -> ClientId {
        let block_ns = self.cfg.block_ns;
        let c = ClientId(self.clients.len() as u32);
        let current = (now_ns / block_ns) as u32;
        let ctrl = RedundancyController::new(self.redundancy).expect("a valid configuration");
        let plan = ctrl.plan(self.k, block_ns);
        let fstream = self.fstream_of[stream.0 as usize].expect("a last-hop stream");
        let ask = Ask { now: plan.symbols as u16, next: plan.symbols as u16, from: 0 };
        self.clients.push(Client {
            fstream,
            edge,
            region,
            isp,
            nat,
            senders: Vec::new(),
            server: Sending::new(HomeId(u32::MAX), u32::MAX, false, 0, ask, 0),
            candidates: VecDeque::new(),
            avoid: VecDeque::new(),
            ctrl,
            rx: VecDeque::new(),
            first_block: newest.map_or(current, |b| b.0),
            active: true,
            home_bytes: 0,
            nodes_used: 0,
            evictions: 0,
        });
        self.stats.clients += 1;
        self.at_edge.entry((stream, edge)).or_default().clients.push(c);
        self.out.push_back(Output::Attach { stream, edge });
        // The first block from the server: the newest the edge holds.
        if let Some(b) = newest {
            let n = self.clients[c.0 as usize].server.ask.at(b.0);
            self.server_send(c, b.0, 0, n);
        }
        // Asks from two blocks on; the first review (of the block after this
        // one) plans the block after that.
        self.plan_block(now_ns, c, current + 2);
        let review = Timer::Review { client: c, block: Block(current + 1) };
        self.out.push_back(Output::Timer { at_ns: self.cfg.review_ns(current + 1), timer: review });
        c
    }

    /// Client `c` reviews its senders for `block` (its review timer), then
    /// plans the asks from two blocks on. `next_play` is the block its
    /// player wants next.
    pub fn client_review(&mut self, now_ns: u64, c: ClientId, block: Block, next_play: u32) {
        let client = &mut self.clients[c.0 as usize];
        if !client.active {
            return;
        }
        let evicted = client.review(block.0, self.cfg.block_ns);
        for &p in &evicted {
            self.clients[c.0 as usize].evict(p);
            self.stats.evictions += 1;
            self.homes[p.0 as usize].clients.retain(|&x| x != c);
        }
        for p in evicted {
            self.update_feed(p);
        }
        if let Some(missing) = self.clients[c.0 as usize].repair_needed(block.0, next_play, self.k, self.cfg.headroom_symbols) {
            let offset = self.clients[c.0 as usize].server.ask.at(block.0);
            self.stats.server_repairs += 1;
            self.server_send(c, block.0, offset, missing.min(u16::MAX as u32) as u16);
        }
        self.plan_block(now_ns, c, block.0 + 2);
        let next = Timer::Review { client: c, block: Block(block.0 + 1) };
        self.out.push_back(Output::Timer { at_ns: self.cfg.review_ns(block.0 + 1), timer: next });
    }

    /// The viewer of client `c` left.
    /// The run is over: every client's working state (senders, receive
    /// windows, candidates, redundancy controller) goes back, as a departed
    /// client's does in [`LastHop::client_leave`], so the results are built
    /// beside the tallies alone. Call once, after the last input; the
    /// tallies and [`LastHop::stats`] stay readable, nothing else may be
    /// called.
    pub fn release_sessions(&mut self) {
        for client in &mut self.clients {
            client.release(self.redundancy);
        }
        self.at_edge = BTreeMap::new();
        self.out = VecDeque::new();
    }

    pub fn client_leave(&mut self, c: ClientId) {
        let client = &mut self.clients[c.0 as usize];
        client.active = false;
        let (stream, edge) = (self.streams[client.fstream as usize], client.edge);
        let homes: Vec<HomeId> = client.senders.iter().map(|s| s.home).collect();
        // Only the tallies stay for the results: the rest of a departed
        // client's memory goes back, so a run holds its audience, not every
        // session it ever had.
        client.release(self.redundancy);
        if let Some(users) = self.at_edge.get_mut(&(stream, edge)) {
            users.clients.retain(|&x| x != c);
        }
        for &h in &homes {
            self.homes[h.0 as usize].clients.retain(|&x| x != c);
        }
        for h in homes {
            self.update_feed(h);
        }
        self.out.push_back(Output::Detach { stream, edge });
    }

    /// `count` symbols of `block` from `sender` reach client `c` (the
    /// server's are its symbols from `offset` on); `lost()` is asked once
    /// per symbol, in order, whether the way lost it. `next_play` is the
    /// block its player wants next. `None`: the client had left (the
    /// symbols are wasted).
    #[allow(clippy::too_many_arguments)]
    pub fn symbols_arrived(
        &mut self,
        c: ClientId,
        sender: Sender,
        block: Block,
        offset: u16,
        count: u16,
        hint: u16,
        next_play: u32,
        mut lost: impl FnMut() -> bool,
    ) -> Option<Arrival> {
        let (k, layout) = (self.k as u32, self.layout);
        let first = match sender {
            Sender::Server => 0,
            Sender::Home(h) => layout.slot_range(self.homes[h.0 as usize].info.slot).expect("a slot").start,
        };
        let server_repair = k + layout.slots() * layout.symbols_per_slot();
        // The model needs only counts (ids are distinct by construction).
        let ids = self.decoding.needs_ids();
        let mut esis = std::mem::take(&mut self.esis);
        esis.clear();
        let (mut got, mut source) = (0u16, 0u32);
        let server = sender == Sender::Server;
        for i in offset as u32..offset as u32 + count as u32 {
            if lost() {
                continue;
            }
            got += 1;
            source += (server && i < k) as u32;
            if ids {
                let esi = if !server || i < k { first + i } else { server_repair + i - k };
                esis.push(layout.turned(esi, block.0, cdnsim_codec::LAST_HOP_ESI_END));
            }
        }
        if let Sender::Home(h) = sender {
            let t = &mut self.homes[h.0 as usize].tally;
            t.symbols_arrived += got as u64;
            t.symbols_lost += (count - got) as u64;
        }
        let client = &mut self.clients[c.0 as usize];
        if !client.active {
            self.stats.symbols_wasted += got as u64;
            self.esis = esis;
            return None;
        }
        let bytes = got as u64 * self.cfg.wire_bytes() as u64;
        match sender {
            Sender::Server => client.server.record(block.0, got),
            Sender::Home(h) => {
                let i = if client.senders.get(hint as usize).is_some_and(|s| s.home == h) {
                    Some(hint as usize)
                } else {
                    client.senders.iter().position(|s| s.home == h)
                };
                if let Some(i) = i {
                    client.senders[i].record(block.0, got);
                }
            }
        }
        let stream = self.streams[client.fstream as usize].0;
        let rng = &mut self.decode_rng;
        let mut draw = || rng.random::<f64>();
        let receipt = client.receive(
            &mut self.decoding,
            &mut draw,
            &mut self.stats,
            stream,
            block.0,
            &esis,
            got as u32,
            source,
            next_play,
            self.k,
        );
        if !server {
            client.home_bytes += bytes;
        }
        if let (Sender::Home(h), Receipt::Taken | Receipt::Decoded) = (sender, receipt) {
            let useful = got as u64 * self.cfg.wire_bytes() as u64;
            self.homes[h.0 as usize].tally.useful_upload_bytes += useful;
            self.stats.home_useful_upload_bytes += useful;
        }
        self.esis = esis;
        Some(Arrival { symbols: got, bytes, decoded: receipt == Receipt::Decoded })
    }

    /// The total to ask per block from the controller, the home nodes that
    /// takes, and the asks from block `from` on.
    fn plan_block(&mut self, now_ns: u64, c: ClientId, from: u32) {
        let total = self.clients[c.0 as usize].ctrl.plan_symbols_cached(self.k, &mut self.needed);
        let need = (total.div_ceil(self.cfg.symbols_per_node) as usize).min(MAX_SENDERS);
        self.fill_senders(now_ns, c, from, need);
        let (share, ramp) = (self.cfg.symbols_per_node, self.cfg.ramp_blocks);
        self.clients[c.0 as usize].plan_asks(from, total, share, ramp);
    }

    /// Tops client `c` up to `need` home nodes, from its candidates and,
    /// when they run out, the scheduler; new senders start at block `from`.
    fn fill_senders(&mut self, now_ns: u64, c: ClientId, from: u32, need: usize) {
        let mut asked_scheduler = false;
        loop {
            let client = &mut self.clients[c.0 as usize];
            if client.senders.len() >= need {
                return;
            }
            let Some(h) = client.candidates.pop_front() else {
                if asked_scheduler {
                    return;
                }
                asked_scheduler = true;
                self.ask_scheduler(now_ns, c, need);
                continue;
            };
            let agent = &self.homes[h.0 as usize];
            // The candidate may have gone (or been taken) since the
            // scheduler's answer: connecting finds out.
            let slot = agent.info.slot;
            if !agent.online || client.senders.iter().any(|s| s.home == h || s.slot == slot) {
                continue;
            }
            let place = ClientPlace { region: client.region, edge: client.edge, nat: client.nat };
            let link = self.underlay.connect(&place, h);
            if link.relayed {
                self.stats.relayed_connections += 1;
            } else {
                self.stats.direct_connections += 1;
            }
            let client = &mut self.clients[c.0 as usize];
            let ask = Ask { now: 0, next: 0, from };
            client.senders.push(Sending::new(h, slot, link.relayed, link.latency_ns, ask, from));
            client.nodes_used += 1;
            self.homes[h.0 as usize].subscribe(c);
            self.update_feed(h);
        }
    }

    /// The scheduler's answer: about `candidates` x the nodes still
    /// needed, from its (heartbeat-old) view.
    fn ask_scheduler(&mut self, now_ns: u64, c: ClientId, need: usize) {
        self.stats.scheduler_requests += 1;
        let client = &self.clients[c.0 as usize];
        let have = client.senders.len();
        let wanted = (((need - have.min(need)) as f64) * self.cfg.candidates_factor).ceil() as usize;
        let request = Request { now_ns, region: client.region, isp: client.isp, wanted };
        let (homes, underlay) = (&self.homes, &self.underlay);
        let mut accept = |h: HomeId| {
            let slot = homes[h.0 as usize].info.slot;
            underlay.reachable(client.nat, h)
                && !client.avoid.contains(&h)
                && !client.senders.iter().any(|s| s.home == h || s.slot == slot)
        };
        let found = self.scheduler.candidates(&request, client.fstream, &mut accept);
        self.clients[c.0 as usize].candidates.extend(found);
    }
}

/// Memory a last-hop client holds at most, in bytes: its state, the home
/// nodes it needs (K + headroom plus the controller's margin, over the
/// share) and its receive window; structural and full receivers add their
/// symbol ids or bytes.
pub fn client_bytes(cfg: &Config, fidelity: cdnsim_codec::Fidelity) -> u64 {
    use crate::client::{BlockRx, RX_BLOCKS};
    let k = cfg.block_bytes.div_ceil(cfg.symbol_bytes) as u32;
    let senders = ((k * 2).div_ceil(cfg.symbols_per_node) as usize).min(MAX_SENDERS) as u64;
    let per_block = match fidelity {
        cdnsim_codec::Fidelity::Model => 0,
        cdnsim_codec::Fidelity::Structural => 4 * 2 * k as u64,
        cdnsim_codec::Fidelity::Full => 2 * cfg.block_bytes,
    };
    (std::mem::size_of::<Client>() + std::mem::size_of::<BlockRx>() * RX_BLOCKS) as u64
        + senders * (std::mem::size_of::<Sending>() + 3 * 4 + 32) as u64
        + RX_BLOCKS as u64 * per_block
}

/// Memory of a home node's last-hop part, its clients list aside.
pub fn home_bytes() -> u64 {
    std::mem::size_of::<HomeAgent>() as u64 + std::mem::size_of::<crate::scheduler::HomeView>() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_client_state_stays_small() {
        // Tripwires for the scale scenario's memory budget (benches/README.md,
        // "Scale"): a client is its struct, a sender per home node it uses
        // and a receive window; growth here is multiplied by a million.
        let (client, sender) = (std::mem::size_of::<Client>(), std::mem::size_of::<Sending>());
        let rx = std::mem::size_of::<crate::client::BlockRx>();
        let home = home_bytes();
        eprintln!("Client {client} B, Sending {sender} B, BlockRx {rx} B, home {home} B");
        assert!(client <= 320, "Client grew to {client} B");
        assert!(sender <= 64, "Sending grew to {sender} B");
        assert!(rx <= 48, "BlockRx grew to {rx} B");
        // A home node measures its own sending (agent.rs) and tallies its
        // useful upload: 32 B more than before, 3.2 MB at 10^5 nodes.
        assert!(home <= 192, "a home node's part grew to {home} B");
    }
}
