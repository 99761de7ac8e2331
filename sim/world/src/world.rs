//! The event handlers.
//!
//! Delivery follows the three-level tree on demand, as a live CDN pulls a
//! stream: an edge with its first viewer subscribes to its centre, a centre
//! with its first child to the source; the last one leaving unsubscribes.
//! A node that starts sending to a new subscriber first sends what it holds
//! from the newest complete block on (the "GOP cache"), then every chunk as
//! it arrives.
//!
//! Every hop is a reliable-by-retransmission transport: a chunk lost on the
//! wire or dropped at a full queue is resent by the sender after the
//! retransmission timeout, up to `max_retransmits` times; after that it is
//! given up and the block it belongs to cannot complete downstream. Control
//! messages take the link's propagation delay and are neither queued nor
//! lost (they are tiny and would be resent at once).

use cdnsim_engine::{Model, RngStream, Scheduler, SimDuration, SimTime};
use cdnsim_metrics::LatencyHistogram;
use cdnsim_net::home::{HomeModel, HomeNode};
use cdnsim_net::{Channel, NodeId, Offer, Topology, Transmit};
use cdnsim_scenario::{FaultKind, Scenario, WatchTime};
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};

use crate::event::{CAPTURE, Chunk, Event, Hop, NET, PLAYOUT, SESSION};
use crate::node::{NodeState, Sub};
use crate::viewer::{Action, Viewer};

/// Per-second totals, for `timeseries.parquet`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Second {
    pub bytes_to_viewers: u64,
    pub idc_egress_bytes: u64,
    pub internal_bytes: u64,
    pub stalls: u64,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub idc_egress_bytes: u64,
    pub internal_bytes: u64,
    pub viewer_bytes: u64,
    pub wasted_bytes: u64,
    pub chunks_lost: u64,
    pub chunks_dropped: u64,
    pub chunks_given_up: u64,
    pub retransmissions: u64,
}

pub struct World {
    pub sc: Scenario,
    pub chunks_per_block: u16,
    pub topo: Topology,
    pub nodes: Vec<NodeState>,
    pub ingest: u32,
    pub ingest_channel: Channel,
    pub edges_by_region: Vec<Vec<u32>>,
    pub viewers: Vec<Viewer>,
    pub arrivals_rng: RngStream,
    pub attributes_rng: RngStream,
    pub per_second: Vec<Second>,
    pub e2e_us: LatencyHistogram,
    pub counters: Counters,
    /// Per link, the faults acting on it now (indices into the scenario's
    /// faults), in the order they began.
    pub active_faults: Vec<Vec<u16>>,
    pub homes: Homes,
}

/// Home nodes: their state, placement and model. They go on and offline
/// and their usable upload changes; the last hop that uses them comes in a
/// later layer.
pub struct Homes {
    pub model: Option<HomeModel>,
    /// In memory in the order of their household ticks (see build.rs).
    pub nodes: Vec<HomeNode>,
    /// Id of each node: its position in the scenario's placements, which
    /// names its random streams and orders `home_nodes.parquet`.
    pub id: Vec<u32>,
    /// Region and ISP of each node (struct of arrays: the hot path reads
    /// only `nodes`).
    pub region: Vec<u16>,
    pub isp: Vec<u16>,
    pub isps: Vec<String>,
    pub online_at_start: u64,
    /// Change of the online count during each simulated second.
    pub online_delta: Vec<i64>,
}

impl Model for World {
    type Event = Event;

    fn handle(&mut self, sched: &mut Scheduler<Event>, event: Event) {
        match event {
            Event::Capture(c) => self.on_capture(sched, c),
            Event::Arrive { hop, chunk, hops, attempt } => self.on_arrive(sched, hop, chunk, hops, attempt),
            Event::Fault { index, begins } => self.on_fault(index as usize, begins),
            Event::Resend { hop, chunk, hops, attempt } => {
                if self.still_wanted(hop) {
                    self.counters.retransmissions += 1;
                    self.transmit(sched, hop, chunk, hops, attempt);
                }
            }
            Event::Control { child, parent, subscribe } => self.on_control(sched, child, parent, subscribe),
            Event::HomeChurn(h) => self.on_home_churn(sched, h),
            Event::HomeTick(h) => {
                let model = self.homes.model.as_ref().expect("home events need a home model");
                let next = self.homes.nodes[h as usize].household_tick(sched.now(), model);
                sched.schedule_at(next, NET, Event::HomeTick(h));
            }
            Event::ViewerJoin => self.on_join(sched),
            Event::ViewerLeave(v) => self.on_leave(sched, v),
            Event::Deadline(v) => self.on_deadline(sched, v),
        }
    }
}

/// The per-second row `now` falls in, of `seconds` rows; an event exactly
/// at the stop time counts in the last second.
fn second_index(now: SimTime, seconds: usize) -> usize {
    ((now.as_ns() / 1_000_000_000) as usize).min(seconds - 1)
}

impl World {
    fn block_ns(&self) -> u64 {
        self.sc.stream.block_ns
    }

    /// When the broadcaster has captured all of chunk `c`: chunks split the
    /// block's duration evenly, the last ending with the block.
    pub fn capture_time(&self, c: Chunk) -> SimTime {
        let n = self.chunks_per_block as u64;
        let d = self.block_ns();
        SimTime::from_ns(c.block as u64 * d + (c.index as u64 + 1) * d / n)
    }

    fn chunk_bytes(&self, c: Chunk) -> u32 {
        let s = &self.sc.stream;
        let last = s.block_bytes() - (self.chunks_per_block as u64 - 1) * s.chunk_bytes;
        if c.index + 1 == self.chunks_per_block { last as u32 } else { s.chunk_bytes as u32 }
    }

    fn second(&mut self, now: SimTime) -> &mut Second {
        let i = second_index(now, self.per_second.len());
        &mut self.per_second[i]
    }

    /// Time to the next viewer arrival (Poisson process), if any arrive.
    pub fn next_arrival_gap(&mut self) -> Option<SimDuration> {
        let rate = self.sc.viewers.arrivals_per_s;
        if rate <= 0.0 {
            return None;
        }
        let exp = Exp::new(rate).expect("positive rate");
        Some(SimDuration::from_secs_f64(exp.sample(&mut self.arrivals_rng)))
    }

    fn on_capture(&mut self, sched: &mut Scheduler<Event>, c: Chunk) {
        self.transmit(sched, Hop::Ingest, c, 0, 0);
        let next = if c.index + 1 < self.chunks_per_block {
            Chunk { block: c.block, index: c.index + 1 }
        } else {
            Chunk { block: c.block + 1, index: 0 }
        };
        sched.schedule_at(self.capture_time(next), CAPTURE, Event::Capture(next));
    }

    /// Puts chunk `c` on `hop` and schedules what follows: its arrival, or
    /// the sender's retransmission timer.
    fn transmit(&mut self, sched: &mut Scheduler<Event>, hop: Hop, c: Chunk, hops: u8, attempt: u8) {
        let now = sched.now();
        let bytes = self.chunk_bytes(c);
        let outcome = match hop {
            Hop::Ingest => self.ingest_channel.transmit(now, bytes),
            Hop::Link { channel, .. } => self.topo.channel_mut(channel).transmit(now, bytes),
            Hop::Access { viewer } => {
                let loss = self.sc.viewers.access_loss;
                let latency = SimDuration::from_ns(self.sc.viewers.access_latency_ns);
                let node = &mut self.nodes[self.viewers[viewer as usize].edge as usize];
                match node.egress.offer(now, bytes) {
                    Offer::Dropped => Transmit::Dropped,
                    Offer::Sent { depart, .. } => {
                        if loss > 0.0 && node.access_rng.random::<f64>() < loss {
                            Transmit::Lost { depart }
                        } else {
                            Transmit::Arrives(depart + latency)
                        }
                    }
                }
            }
        };
        if outcome != Transmit::Dropped {
            self.count_sent(hop, bytes as u64, now);
        }
        match outcome {
            Transmit::Arrives(at) => {
                let hops = if matches!(hop, Hop::Ingest) { hops } else { hops + 1 };
                sched.schedule_at(at, NET, Event::Arrive { hop, chunk: c, hops, attempt });
            }
            Transmit::Lost { depart } => {
                self.counters.chunks_lost += 1;
                self.retry_later(sched, depart, hop, c, hops, attempt);
            }
            Transmit::Dropped => {
                self.counters.chunks_dropped += 1;
                self.retry_later(sched, now, hop, c, hops, attempt);
            }
        }
    }

    /// The sender's retransmission timer runs from when the chunk left it.
    fn retry_later(&mut self, sched: &mut Scheduler<Event>, sent: SimTime, hop: Hop, c: Chunk, hops: u8, attempt: u8) {
        if (attempt as u32) < self.sc.transport.max_retransmits {
            let at = (sent + SimDuration::from_ns(self.sc.transport.retransmit_timeout_ns)).max(sched.now());
            sched.schedule_at(at, NET, Event::Resend { hop, chunk: c, hops, attempt: attempt + 1 });
        } else {
            self.counters.chunks_given_up += 1;
        }
    }

    /// Applies the faults acting on each link of fault `index`: any outage
    /// takes the link down; degradations combine (losses as independent
    /// events, latencies add).
    fn on_fault(&mut self, index: usize, begins: bool) {
        for &l in &self.sc.faults[index].links {
            let active = &mut self.active_faults[l];
            if begins {
                active.push(index as u16);
            } else {
                active.retain(|&f| f as usize != index);
            }
            let (mut down, mut keep, mut extra_latency_ns) = (false, 1.0, 0u64);
            for &f in active.iter() {
                match self.sc.faults[f as usize].kind {
                    FaultKind::Outage => down = true,
                    FaultKind::Degrade { extra_loss, extra_latency_ns: ns } => {
                        keep *= 1.0 - extra_loss;
                        extra_latency_ns += ns;
                    }
                }
            }
            let link = &self.sc.links[l];
            let channels = self.topo.link_mut(NodeId(link.from as u32), NodeId(link.to as u32)).expect("scenario link");
            for ch in channels {
                ch.set_up(!down);
                ch.set_degradation(1.0 - keep, SimDuration::from_ns(extra_latency_ns));
            }
        }
    }

    fn count_sent(&mut self, hop: Hop, bytes: u64, now: SimTime) {
        let (egress, internal) = match hop {
            Hop::Ingest => (0, 0),
            Hop::Link { .. } => (bytes, bytes),
            Hop::Access { .. } => (bytes, 0),
        };
        self.counters.idc_egress_bytes += egress;
        self.counters.internal_bytes += internal;
        let s = self.second(now);
        s.idc_egress_bytes += egress;
        s.internal_bytes += internal;
    }

    /// A resend is pointless once the receiver no longer wants the stream.
    fn still_wanted(&self, hop: Hop) -> bool {
        match hop {
            Hop::Ingest => true,
            Hop::Link { from, to, .. } => self.nodes[from as usize].children.contains(&to),
            Hop::Access { viewer } => self.viewers[viewer as usize].attached,
        }
    }

    fn on_arrive(&mut self, sched: &mut Scheduler<Event>, hop: Hop, c: Chunk, hops: u8, attempt: u8) {
        if let Hop::Link { channel, .. } = hop {
            // The link failed while the chunk was on it. The sender's timer
            // started when it sent; this is at most one latency later.
            if !self.topo.channel(channel).is_up() {
                self.counters.chunks_lost += 1;
                let latency_ns = self.topo.channel(channel).latency().as_ns();
                let sent = SimTime::from_ns(sched.now().as_ns().saturating_sub(latency_ns));
                self.retry_later(sched, sent, hop, c, hops - 1, attempt);
                return;
            }
        }
        match hop {
            Hop::Ingest => self.node_receives(sched, self.ingest, c, hops),
            Hop::Link { to, .. } => self.node_receives(sched, to, c, hops),
            Hop::Access { viewer } => self.viewer_receives(sched, viewer, c, hops),
        }
    }

    fn node_receives(&mut self, sched: &mut Scheduler<Event>, n: u32, c: Chunk, hops: u8) {
        let bytes = self.chunk_bytes(c) as u64;
        let node = &mut self.nodes[n as usize];
        // Chunks still in flight after an unsubscribe, and duplicates after
        // a quick resubscribe, are waste.
        if node.sub == Sub::Idle || !node.window.insert(c) {
            self.counters.wasted_bytes += bytes;
            return;
        }
        for i in 0..self.nodes[n as usize].children.len() {
            let child = self.nodes[n as usize].children[i];
            self.send_to_child(sched, n, child, c, hops);
        }
        for i in 0..self.nodes[n as usize].viewers.len() {
            let v = self.nodes[n as usize].viewers[i];
            self.transmit(sched, Hop::Access { viewer: v }, c, hops, 0);
        }
    }

    fn send_to_child(&mut self, sched: &mut Scheduler<Event>, from: u32, to: u32, c: Chunk, hops: u8) {
        let channel = self.topo.channel_between(NodeId(from), NodeId(to)).expect("tree edges are links");
        self.transmit(sched, Hop::Link { channel, from, to }, c, hops, 0);
    }

    fn viewer_receives(&mut self, sched: &mut Scheduler<Event>, v: u32, c: Chunk, hops: u8) {
        let bytes = self.chunk_bytes(c) as u64;
        let (cpb, block_ns) = (self.chunks_per_block, self.block_ns());
        let now = sched.now();
        let viewer = &mut self.viewers[v as usize];
        if !viewer.attached {
            self.counters.wasted_bytes += bytes;
            return;
        }
        viewer.stats.bytes += bytes;
        viewer.stats.hop_bytes += bytes * hops as u64;
        self.counters.viewer_bytes += bytes;
        self.second(now).bytes_to_viewers += bytes;
        let (useful, action) = self.viewers[v as usize].receive(now, c.block, cpb, block_ns);
        if !useful {
            self.viewers[v as usize].stats.wasted_bytes += bytes;
            self.counters.wasted_bytes += bytes;
        }
        self.after_player(sched, v, action);
    }

    fn after_player(&mut self, sched: &mut Scheduler<Event>, v: u32, action: Action) {
        match action {
            Action::None => {}
            Action::Played { e2e } => {
                self.e2e_us.record(e2e.as_ns() / 1_000);
                sched.schedule_in(SimDuration::from_ns(self.block_ns()), PLAYOUT, Event::Deadline(v));
            }
            Action::Stalled => self.second(sched.now()).stalls += 1,
        }
    }

    fn on_deadline(&mut self, sched: &mut Scheduler<Event>, v: u32) {
        if !self.viewers[v as usize].attached {
            return;
        }
        let (cpb, block_ns) = (self.chunks_per_block, self.block_ns());
        let action = self.viewers[v as usize].deadline(sched.now(), cpb, block_ns);
        self.after_player(sched, v, action);
    }

    fn on_home_churn(&mut self, sched: &mut Scheduler<Event>, h: u32) {
        let now = sched.now();
        let model = self.homes.model.as_ref().expect("home events need a home model");
        let node = &mut self.homes.nodes[h as usize];
        let next = node.churn(now, model);
        let delta = if node.is_online() { 1 } else { -1 };
        let s = second_index(now, self.homes.online_delta.len());
        self.homes.online_delta[s] += delta;
        sched.schedule_at(next, NET, Event::HomeChurn(h));
    }

    fn on_join(&mut self, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        if let Some(gap) = self.next_arrival_gap() {
            sched.schedule_in(gap, SESSION, Event::ViewerJoin);
        }
        // Region by weight, then one of its edges, then the watch time: all
        // from the attributes stream, in this order.
        let regions = &self.sc.viewers.regions;
        let total: f64 = regions.iter().map(|r| r.1).sum();
        let mut u = self.attributes_rng.random::<f64>() * total;
        let mut region = regions[regions.len() - 1].0;
        for &(r, w) in regions {
            if u < w {
                region = r;
                break;
            }
            u -= w;
        }
        let edges = &self.edges_by_region[region];
        let edge = edges[self.attributes_rng.random_range(0..edges.len())];
        let watch_s = match self.sc.viewers.watch_time {
            WatchTime::Exponential { mean_ns } => {
                Exp::new(1e9 / mean_ns as f64).expect("positive mean").sample(&mut self.attributes_rng)
            }
            WatchTime::Lognormal { median_ns, sigma } => LogNormal::new((median_ns as f64 / 1e9).ln(), sigma)
                .expect("positive sigma")
                .sample(&mut self.attributes_rng),
        };
        let leave = now + SimDuration::from_secs_f64(watch_s);
        let source = NodeId(self.ingest);
        let shortest = self.topo.hops_from(source)[edge as usize].expect("validated tree is connected") + 1;

        let v = self.viewers.len() as u32;
        self.viewers.push(Viewer::new(edge, region as u16, now, leave, shortest as u8));
        sched.schedule_at(leave, SESSION, Event::ViewerLeave(v));
        sched.schedule_in(SimDuration::from_ns(self.sc.viewers.playout_delay_ns), PLAYOUT, Event::Deadline(v));

        let node = &mut self.nodes[edge as usize];
        node.viewers.push(v);
        let depth = node.depth;
        for c in node.window.backlog() {
            self.transmit(sched, Hop::Access { viewer: v }, c, depth, 0);
        }
        self.ensure_subscribed(sched, edge);
    }

    fn on_leave(&mut self, sched: &mut Scheduler<Event>, v: u32) {
        let now = sched.now();
        let viewer = &mut self.viewers[v as usize];
        viewer.end(now);
        let edge = viewer.edge;
        self.nodes[edge as usize].viewers.retain(|&x| x != v);
        self.maybe_unsubscribe(sched, edge);
    }

    fn ensure_subscribed(&mut self, sched: &mut Scheduler<Event>, n: u32) {
        let node = &mut self.nodes[n as usize];
        if node.sub != Sub::Idle {
            return;
        }
        node.sub = Sub::Joined;
        let parent = node.parent.expect("non-root nodes have a parent");
        let latency = self.topo.channel(node.up.expect("link to parent")).latency();
        sched.schedule_in(latency, NET, Event::Control { child: n, parent, subscribe: true });
    }

    fn maybe_unsubscribe(&mut self, sched: &mut Scheduler<Event>, n: u32) {
        let node = &mut self.nodes[n as usize];
        if node.sub != Sub::Joined || !node.children.is_empty() || !node.viewers.is_empty() {
            return;
        }
        node.sub = Sub::Idle;
        node.window.clear();
        let parent = node.parent.expect("joined nodes have a parent");
        let latency = self.topo.channel(node.up.expect("link to parent")).latency();
        sched.schedule_in(latency, NET, Event::Control { child: n, parent, subscribe: false });
    }

    fn on_control(&mut self, sched: &mut Scheduler<Event>, child: u32, parent: u32, subscribe: bool) {
        if subscribe {
            let p = &mut self.nodes[parent as usize];
            if p.children.contains(&child) {
                return;
            }
            p.children.push(child);
            let depth = p.depth;
            for c in p.window.backlog() {
                self.send_to_child(sched, parent, child, c, depth);
            }
            self.ensure_subscribed(sched, parent);
        } else {
            self.nodes[parent as usize].children.retain(|&x| x != child);
            self.maybe_unsubscribe(sched, parent);
        }
    }
}
