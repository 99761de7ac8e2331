//! The event handlers.
//!
//! Streams are delivered on demand, as a live CDN pulls them: an edge with
//! its first viewer of a stream asks routing for a path from a node that
//! already carries the stream (or from the stream's ingest node) and every
//! new node on it subscribes to its upstream; the last one leaving lets the
//! stream go again. Which path is the routing crate's decision: the fixed
//! tree, node pools or the weak mesh (`[routing] mode`). A node that starts
//! sending to a new subscriber first sends what it holds from the newest
//! complete block on (the "GOP cache"), then every chunk as it arrives.
//!
//! When routing moves a node to a new upstream (pools and mesh, after a
//! probing round), the node continues at a block boundary: it asks the new
//! upstream for the blocks after its newest complete one and tells the old
//! one to stop. Every receiving node keeps a splice counter (routing crate)
//! over the blocks that reach it, or were sent to it and given up on the
//! way. `switch_gaps` counts, per switch, the blocks between the resume
//! point and the new upstream's first delivered block that the node lacks;
//! `switch_replays` the chunks a node with one upstream got twice (the
//! chunks of its partly held block that the new upstream sends again are
//! such replays: the price of splicing at a block boundary);
//! `blocks_missed` and `blocks_incomplete` every block a node lacked or got
//! only part of, whatever the cause.
//!
//! In the tree, a stream climbs from its ingest to the root over its
//! up-leg, a relay of its own that serves nobody on the way, and every
//! viewer's stream comes down from the root, the ingest's own viewers
//! included: a centre on both legs carries the stream twice, as the fixed
//! tree's rules have it.
//!
//! Every hop is a reliable-by-retransmission transport: a chunk lost on the
//! wire or dropped at a full queue is resent by the sender after the
//! retransmission timeout, up to `max_retransmits` times; after that it is
//! given up and the block it belongs to cannot complete downstream. A hot
//! stream under `hot_redundancy = { fec = .. }` adds repair chunks to each
//! block on every internal hop instead, and retransmits only what they
//! cannot rebuild (fec.rs: an MDS erasure model per block per hop).
//!
//! Control messages (subscribe, unsubscribe) go from child to parent over
//! their link: they wait the backlog the link's own queue and each of its
//! backbone hops hold when they are sent (taking no room themselves), and are
//! lost when the link is down at either end of their way or with the
//! link's loss probability (the loss model's long-run mean, with any
//! fault's extra loss; a stream of draws of their own). The sender
//! retries after a timeout from the path's round trip, with backoff, and
//! gives up after the last retry (routing crate, `control`). Giving up:
//! - a subscribe: the parent never heard, so the child's link to it is
//!   unusable as far as the child knows. Under pools and mesh the child
//!   reports it down to routing (the next probing round reports what
//!   probes see again) and routing moves it, as after a probing round; a
//!   child routing does not move (the tree, or no other path) asks the
//!   same parent again with a new message, so an edge that joined during
//!   an outage gets the stream once the link returns;
//! - an unsubscribe: the parent stops sending to the child at that
//!   instant (its sends to the child go unanswered, and its transport
//!   drops a receiver that never answers).
//!
//! The mesh's route requests are control messages too, between the asking
//! node and the node hosting the route service (service.rs), over the
//! lowest-delay overlay path between them: each hop adds what a subscribe
//! over that link would wait, and the request (at its sending and at its
//! arrival) or the answer (likewise) is lost when a link of its path is
//! down, or with the path's loss (its links' losses as independent
//! events; draws of their own, `control.route_loss`). The service answers
//! every copy of a request that reaches it; the asker's timer runs on the
//! round trip, stops at the first answer, and a later answer is ignored.
//! What the answer says is routing's decision when the request was first
//! sent (the routing crate decides and commits a path in one call, the
//! service's way of holding the node's place); a node hosting the service
//! has it at once. Giving up a route request: a route failure; the node,
//! if it still waits, asks again (a new message, the same answer: the
//! service still holds the path it chose) after a probing interval.

use std::collections::BTreeMap;

use cdnsim_engine::{Model, RngStream, Scheduler, SimDuration, SimTime};
use cdnsim_metrics::LatencyHistogram;
use cdnsim_net::{Channel, ChannelId, NodeId, Offer, Topology, Transmit};
use cdnsim_routing::{ControlOutput, MsgId, Observation, Retry, Route, Router};
use cdnsim_scenario::{FaultKind, Mode, Redundancy, Scenario, WatchTime};
use rand::Rng;
use cdnsim_maths::sample;

use crate::backbone::{BackboneNet, Step};
use crate::service::RouteService;
use crate::event::{CAPTURE, Chunk, Event, Hop, NET, PLAYOUT, SESSION};
use crate::series::{Second, second_index};
use crate::fec::{self, FecBlock};
use crate::parts::{PartEvent, Parts, Surroundings};
use crate::node::{Carry, Insert, NodeState, Sub};
use crate::viewer::{Action, Viewer};

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
    /// Joins routing could not serve at once (retried after a probing
    /// interval).
    pub route_failures: u64,
    /// Upstream changes applied, and blocks a switch skipped or repeated.
    pub route_switches: u64,
    /// Blocks a switch skipped: per switch, the blocks from where the node
    /// asked its new upstream to resume up to the first block that upstream
    /// delivered, that the node lacks. Chunks a node with one upstream
    /// received twice (the partly held block resent, or the old upstream's
    /// chunks still on the way).
    pub switch_gaps: u64,
    pub switch_replays: u64,
    /// Summed over receiving nodes (each node on a path counts what it
    /// missed, so a block lost high on a path counts at every node below),
    /// whatever the cause: blocks nothing of which reached the node (or was
    /// sent to it) between blocks that did; blocks sent to it that never
    /// completed there (chunks given up on the way); and chunks that
    /// arrived after the node's window had moved past their block (wasted,
    /// not passed on).
    pub blocks_missed: u64,
    pub blocks_incomplete: u64,
    pub late_chunks: u64,
    /// Chunks that reached a node holding them already, from its second
    /// upstream (a hot stream's redundancy).
    pub redundant_chunks: u64,
    /// Tree up-legs: chunks that entered one at the ingest (once each,
    /// whatever the copies), distinct chunks the root took from it, and
    /// the later copies that reached the root holding them already
    /// (`[routing] uplink_copies`).
    pub uplink_chunks: u64,
    pub uplink_chunks_reached: u64,
    pub uplink_redundant_chunks: u64,
    /// Chunks lost on an internal link of a hot stream and rebuilt from
    /// its block's repair chunks, without a retransmission (fec.rs).
    pub fec_recovered_chunks: u64,
    pub hot_streams: u64,
    /// Chunks dropped at a full shared backbone link (also in
    /// `chunks_dropped`).
    pub backbone_drops: u64,
    /// Control messages: sendings lost on the way (first or retry).
    pub control_lost: u64,
}

/// What a control message asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlKind {
    Subscribe,
    Unsubscribe,
    /// The mesh's request to the route service, and its answer.
    Route,
}

/// One control message, from its first sending to its end.
#[derive(Clone, Copy, Debug)]
pub struct ControlRow {
    pub stream: u32,
    pub child: u32,
    /// A route request's: the node hosting the route service.
    pub parent: u32,
    pub kind: ControlKind,
    /// Subscribe: the block to start from; unsubscribe: the last block;
    /// route request: its index in the world's pending routes.
    pub block: u32,
    pub sent: SimTime,
    /// Sendings so far (1 = the first only).
    pub attempts: u8,
    /// When the first sending to get through arrived.
    pub delivered: Option<SimTime>,
    pub gave_up: bool,
}

impl Counters {
    /// A node stops receiving a stream: what its splice counter found.
    pub fn add_splice(&mut self, carry: &mut Carry) {
        carry.splice.finish();
        self.blocks_missed += carry.splice.gap_blocks;
        self.blocks_incomplete += carry.splice.partial_blocks;
        carry.splice = Default::default();
    }
}

/// One broadcaster's stream.
pub struct StreamState {
    pub region: u16,
    pub ingest: u32,
    /// Broadcaster -> ingest node.
    pub uplink: Channel,
    /// Viewers watching now.
    pub viewers: u32,
    pub hot: bool,
}

/// What probing measures on one link between rounds (both directions).
#[derive(Clone, Copy, Debug, Default)]
pub struct LinkState {
    pub sent: u64,
    pub lost: u64,
    pub resent: u64,
    pub down: bool,
    /// What the last probing round told routing.
    pub reported_down: bool,
    /// Extra loss of the faults degrading it now.
    pub fault_loss: f64,
    /// Long-run loss of its own loss model.
    pub mean_loss: f64,
}

/// A route decided by the service, on its way back to the node.
pub struct PendingRoute {
    pub stream: u32,
    pub node: u32,
    /// `None`: no route was found; ask again when the reply arrives.
    pub route: Option<Route>,
}

pub struct World {
    pub sc: Scenario,
    pub chunks_per_block: u16,
    pub topo: Topology,
    pub nodes: Vec<NodeState>,
    pub streams: Vec<StreamState>,
    /// (stream, node) -> the node's part in that stream. A BTreeMap: looked
    /// up per chunk, and any walk over it is in key order.
    pub carries: BTreeMap<(u32, u32), Carry>,
    pub router: Router,
    pub links: Vec<LinkState>,
    pub pending: Vec<Option<PendingRoute>>,
    pub pending_free: Vec<u32>,
    pub edges_by_region: Vec<Vec<u32>>,
    /// Cumulative stream popularity (Zipf), for choosing a stream.
    pub popularity_cdf: Vec<f64>,
    pub viewers: Vec<Viewer>,
    pub arrivals_rng: RngStream,
    pub attributes_rng: RngStream,
    /// (second, stream) -> totals; only pairs with traffic have an entry.
    pub series: BTreeMap<(u32, u32), Second>,
    pub seconds: usize,
    pub e2e_us: LatencyHistogram,
    pub counters: Counters,
    /// Per link, the faults acting on it now (indices into the scenario's
    /// faults), in the order they began.
    pub active_faults: Vec<Vec<u16>>,
    /// Tree: each stream's up-leg, ingest first, root last, when they
    /// differ. A relay of its own (the routing crate's tree docs): chunks
    /// climb it without entering the carries of the nodes on it. The rule
    /// path first, then its copies (`[routing] uplink_copies`: paths
    /// sharing no link or relay with it or each other, from the routing
    /// crate's `up_leg_copies`); the ingest sends every chunk up each.
    pub up_legs: BTreeMap<u32, Vec<Vec<u32>>>,
    /// Hot streams with FEC: per (channel, stream, block), the block's
    /// source chunks sent on that hop and those lost there (fec.rs). At
    /// most `fec::OPEN_BLOCKS` blocks per channel and stream.
    pub fec_blocks: BTreeMap<(u32, u32, u32), FecBlock>,
    /// The shared backbone links under the overlay links (backbone.rs).
    pub backbone: BackboneNet,
    /// Control messages: the senders' retry timers (routing crate), one
    /// row per message (indexed by its id, which `Retry` numbers from 0),
    /// the instant a timer event is scheduled for (`None`: none pending),
    /// and the draws of their loss.
    pub control: Retry,
    pub control_log: Vec<ControlRow>,
    pub control_armed: Option<SimTime>,
    pub control_rng: RngStream,
    /// The mesh's route service and the draws of its messages' loss.
    pub route_service: Option<RouteService>,
    pub route_rng: RngStream,
    /// Home nodes and the last hop (parts.rs); `None` only while one of
    /// their calls runs (`World::with_parts`).
    pub parts: Option<Box<Parts>>,
    /// Reused buffer for the receivers of one chunk.
    pub(crate) scratch: Vec<u32>,
}

impl Model for World {
    type Event = Event;

    fn handle(&mut self, sched: &mut Scheduler<Event>, event: Event) {
        match event {
            Event::Capture(c) => self.on_capture(sched, c),
            Event::Arrive { hop, chunk, hops, attempt } => self.on_arrive(sched, hop, chunk, hops, attempt),
            Event::Backbone { channel, chunk, hops, attempt, k, sent } => self.on_backbone(sched, channel, chunk, hops, attempt, k, sent),
            Event::Fault { index, begins } => self.on_fault(index as usize, begins),
            Event::Resend { hop, chunk, hops, attempt } => {
                if self.still_wanted(hop, chunk) {
                    self.counters.retransmissions += 1;
                    if let Hop::Link { channel, .. } = hop {
                        self.links[channel.0 as usize / 2].resent += 1;
                    }
                    self.transmit(sched, hop, chunk, hops, attempt);
                }
            }
            Event::Control { id, attempt, back: false } => self.on_control(sched, MsgId(id), attempt),
            Event::Control { id, back: true, .. } => self.on_route_answer(sched, MsgId(id)),
            Event::ControlTimer => {
                // Only the latest scheduled instant acts (an earlier
                // deadline may have replaced it).
                if self.control_armed == Some(sched.now()) {
                    self.control_armed = None;
                    self.control.handle_timeout(sched.now().as_ns());
                    self.control_outputs(sched);
                }
            }
            Event::RouteReply(i) => self.on_route_reply(sched, i),
            Event::RouteAsk(i) => self.on_route_ask(sched, i),
            Event::Probe => self.on_probe(sched),
            Event::Part(e) => self.with_parts(sched, |parts, w| parts.handle(e, w)),
            Event::ViewerJoin { arrival } => self.on_join(sched, arrival),
            Event::ViewerLeave(v) => self.on_leave(sched, v),
            Event::Deadline(v) => self.on_deadline(sched, v),
        }
    }
}

/// "From the newest complete block the sender holds": what a new
/// subscriber asks for.
pub const FROM_NEWEST: u32 = u32::MAX;

impl World {
    fn block_ns(&self) -> u64 {
        self.sc.stream.block_ns
    }

    /// When the broadcaster has captured all of chunk `c`: chunks split the
    /// block's duration evenly, the last ending with the block. Every
    /// stream's blocks start on the same clock.
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

    pub(crate) fn second(&mut self, now: SimTime, stream: u32) -> &mut Second {
        let i = second_index(now, self.seconds) as u32;
        self.series.entry((i, stream)).or_default()
    }

    /// Time to the next viewer arrival (Poisson process), if any arrive.
    pub fn next_arrival_gap(&mut self) -> Option<SimDuration> {
        let rate = self.sc.viewers.arrivals_per_s;
        if rate <= 0.0 {
            return None;
        }
        Some(SimDuration::from_secs_f64(sample::exp1(&mut self.arrivals_rng) / rate))
    }

    fn now_us(sched: &Scheduler<Event>) -> u64 {
        sched.now().as_ns() / 1_000
    }

    fn on_capture(&mut self, sched: &mut Scheduler<Event>, c: Chunk) {
        self.transmit(sched, Hop::Ingest, c, 0, 0);
        let next = if c.index + 1 < self.chunks_per_block {
            Chunk { index: c.index + 1, ..c }
        } else {
            Chunk { block: c.block + 1, index: 0, ..c }
        };
        sched.schedule_at(self.capture_time(next), CAPTURE, Event::Capture(next));
    }

    /// Puts chunk `c` on `hop` and schedules what follows: its arrival, or
    /// the sender's retransmission timer.
    fn transmit(&mut self, sched: &mut Scheduler<Event>, hop: Hop, c: Chunk, hops: u8, attempt: u8) {
        let now = sched.now();
        let bytes = self.chunk_bytes(c);
        let outcome = match hop {
            Hop::Ingest => self.streams[c.stream as usize].uplink.transmit(now, bytes),
            Hop::Link { channel, .. } => {
                let out = self.topo.channel_mut(channel).transmit(now, bytes);
                let link = &mut self.links[channel.0 as usize / 2];
                link.sent += 1;
                link.lost += matches!(out, Transmit::Lost { .. }) as u64;
                out
            }
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
            self.count_sent(hop, c.stream, bytes as u64, now);
        }
        // A hot stream's first sending of a chunk on an internal link is
        // part of its block's code on that hop: a loss there waits for the
        // block's verdict instead of the retransmission timer (fec.rs).
        let fec = match hop {
            Hop::Link { channel, from, to } if attempt == 0 => self.fec_first_sending(channel.0, from, to, c),
            _ => false,
        };
        match outcome {
            // Over a backbone path: on to its first shared link.
            Transmit::Arrives(at) if matches!(hop, Hop::Link { channel, .. } if self.backbone.crosses(channel)) => {
                let Hop::Link { channel, .. } = hop else { unreachable!() };
                let sent = SimTime::from_ns(at.as_ns() - self.topo.channel(channel).latency().as_ns());
                let first = self.backbone.first(channel, sent);
                debug_assert_eq!(self.link_hop(channel), hop, "a backbone event keeps only the channel");
                sched.schedule_at(first, NET, Event::Backbone { channel, chunk: c, hops, attempt, k: 0, sent });
            }
            Transmit::Arrives(at) => {
                let hops = if matches!(hop, Hop::Ingest) { hops } else { hops + 1 };
                sched.schedule_at(at, NET, Event::Arrive { hop, chunk: c, hops, attempt });
            }
            Transmit::Lost { depart } => {
                self.counters.chunks_lost += 1;
                if fec {
                    self.fec_lost(hop, c, hops, depart);
                } else {
                    self.retry_later(sched, depart, hop, c, hops, attempt);
                }
            }
            Transmit::Dropped => {
                self.counters.chunks_dropped += 1;
                if fec {
                    self.fec_lost(hop, c, hops, now);
                } else {
                    self.retry_later(sched, now, hop, c, hops, attempt);
                }
            }
        }
        if let (true, Hop::Link { channel, .. }) = (fec, hop) {
            self.fec_after_sending(sched, channel.0, c);
        }
    }

    /// The sender's retransmission timer runs from when the chunk left it.
    fn retry_later(&mut self, sched: &mut Scheduler<Event>, sent: SimTime, hop: Hop, c: Chunk, hops: u8, attempt: u8) {
        let at = sent + SimDuration::from_ns(self.sc.transport.retransmit_timeout_ns);
        self.retry_at(sched, at, hop, c, hops, attempt);
    }

    /// Resends `c` on `hop` at `at` (or now, if that has passed), unless it
    /// has used up its retransmissions.
    fn retry_at(&mut self, sched: &mut Scheduler<Event>, at: SimTime, hop: Hop, c: Chunk, hops: u8, attempt: u8) {
        if (attempt as u32) < self.sc.transport.max_retransmits {
            sched.schedule_at(at.max(sched.now()), NET, Event::Resend { hop, chunk: c, hops, attempt: attempt + 1 });
        } else {
            self.counters.chunks_given_up += 1;
            // The receiver's splice counter learns the block was sent: a
            // block lost on the way is not one no upstream sent.
            if let Hop::Link { to, .. } = hop
                && let Some(carry) = self.carries.get_mut(&(c.stream, to))
            {
                carry.splice.receive_part(c.block);
            }
        }
    }

    /// Repair chunks per block on the internal links of `stream`, when it
    /// is hot and the scenario protects hot streams with FEC.
    fn fec_repair(&self, stream: u32) -> Option<u32> {
        match self.sc.routing.hot_redundancy {
            Redundancy::Fec { overhead } if self.streams[stream as usize].hot => {
                Some(fec::repair_chunks(overhead, self.sc.stream.block_bytes(), self.sc.stream.chunk_bytes))
            }
            _ => None,
        }
    }

    /// Records the first sending of `c` on channel `channel` (from -> to)
    /// in its block's FEC state, closing the hop's blocks that can no
    /// longer complete; false when `c` travels outside the code (not a hot
    /// FEC stream, or a second copy on this hop).
    fn fec_first_sending(&mut self, channel: u32, from: u32, to: u32, c: Chunk) -> bool {
        if self.fec_repair(c.stream).is_none() {
            return false;
        }
        let cpb = self.chunks_per_block;
        let b = self.fec_blocks.entry((channel, c.stream, c.block)).or_insert_with(|| FecBlock::new(from, to, cpb));
        b.first_sending(c.index)
    }

    fn fec_lost(&mut self, hop: Hop, c: Chunk, hops: u8, depart: SimTime) {
        let Hop::Link { channel, .. } = hop else { return };
        let b = self.fec_blocks.get_mut(&(channel.0, c.stream, c.block)).expect("opened by fec_first_sending");
        b.lost.push(fec::Lost { index: c.index, hops, depart });
    }

    /// After a first sending on an FEC hop: blocks that can no longer
    /// complete fall back to retransmission, and a block whose source
    /// chunks have all been sent gets its repair and its verdict.
    fn fec_after_sending(&mut self, sched: &mut Scheduler<Event>, channel: u32, c: Chunk) {
        let stale: Vec<(u32, u32, u32)> = self
            .fec_blocks
            .range((channel, c.stream, 0)..(channel, c.stream, c.block.saturating_sub(fec::OPEN_BLOCKS - 1)))
            .map(|(&k, _)| k)
            .collect();
        for key in stale {
            self.fec_close(sched, key, false);
        }
        let key = (channel, c.stream, c.block);
        if self.fec_blocks.get(&key).is_some_and(|b| b.complete(self.chunks_per_block)) {
            self.fec_close(sched, key, true);
        }
    }

    /// A block's verdict on one hop. Complete: R repair chunks follow its
    /// last source chunk, and if at most R of the K + R packets were lost
    /// the lost source chunks arrive, rebuilt, with the K-th packet.
    /// Otherwise (or incomplete: no repair) each lost source chunk is
    /// resent once the receiver can tell: when the block's last packet is
    /// due (incomplete: when the newer block's first chunk arrives), plus
    /// the link's latency for the request; never before the sender's own
    /// retransmission timeout.
    fn fec_close(&mut self, sched: &mut Scheduler<Event>, key: (u32, u32, u32), complete: bool) {
        let Some(b) = self.fec_blocks.remove(&key) else { return };
        let (channel, stream, block) = key;
        let ch = ChannelId(channel);
        let hop = Hop::Link { channel: ch, from: b.from, to: b.to };
        let now = sched.now();
        let latency = self.topo.channel(ch).latency();
        let mut known_at = now + latency;
        if complete {
            let repair = self.fec_repair(stream).unwrap_or(1);
            let bytes = self.sc.stream.chunk_bytes as u32;
            let (mut arrivals, mut repair_lost) = (Vec::with_capacity(repair as usize), 0u32);
            for _ in 0..repair {
                let out = self.topo.channel_mut(ch).transmit(now, bytes);
                let link = &mut self.links[channel as usize / 2];
                link.sent += 1;
                match out {
                    Transmit::Arrives(at) => {
                        arrivals.push(at);
                        known_at = known_at.max(at);
                    }
                    Transmit::Lost { depart } => {
                        link.lost += 1;
                        repair_lost += 1;
                        known_at = known_at.max(depart + latency);
                    }
                    Transmit::Dropped => repair_lost += 1,
                }
                if out != Transmit::Dropped {
                    self.count_sent(hop, stream, bytes as u64, now);
                }
            }
            let lost = b.lost.len() as u32;
            if lost > 0 && fec::decodable(lost + repair_lost, repair) {
                // Source chunks arrive before the repair behind them (FIFO),
                // so the K-th packet is the lost-th repair chunk to arrive.
                let at = arrivals[lost as usize - 1];
                for l in &b.lost {
                    let chunk = Chunk { stream, block, index: l.index };
                    sched.schedule_at(at, NET, Event::Arrive { hop, chunk, hops: l.hops + 1, attempt: 0 });
                    self.counters.fec_recovered_chunks += 1;
                }
                return;
            }
        }
        let rto = SimDuration::from_ns(self.sc.transport.retransmit_timeout_ns);
        for l in b.lost {
            let chunk = Chunk { stream, block, index: l.index };
            self.retry_at(sched, (l.depart + rto).max(known_at + latency), hop, chunk, l.hops, 0);
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
            self.links[l].down = down;
            self.links[l].fault_loss = 1.0 - keep;
            let link = &self.sc.links[l];
            let channels = self.topo.link_mut(NodeId(link.from as u32), NodeId(link.to as u32)).expect("scenario link");
            for ch in channels {
                ch.set_up(!down);
                ch.set_degradation(1.0 - keep, SimDuration::from_ns(extra_latency_ns));
            }
        }
    }

    fn count_sent(&mut self, hop: Hop, stream: u32, bytes: u64, now: SimTime) {
        let (egress, internal) = match hop {
            Hop::Ingest => (0, 0),
            Hop::Link { .. } => (bytes, bytes),
            Hop::Access { .. } => (bytes, 0),
        };
        if egress == 0 {
            return;
        }
        self.counters.idc_egress_bytes += egress;
        self.counters.internal_bytes += internal;
        let s = self.second(now, stream);
        s.idc_egress_bytes += egress;
        s.internal_bytes += internal;
    }

    /// A resend is pointless once the receiver no longer wants the chunk.
    fn still_wanted(&self, hop: Hop, c: Chunk) -> bool {
        match hop {
            Hop::Ingest => true,
            Hop::Link { from, to, .. } => {
                self.on_up_leg(c.stream, from, to)
                    || self
                        .carries
                        .get(&(c.stream, from))
                        .is_some_and(|k| k.children.iter().any(|&(ch, until)| ch == to && c.block <= until))
            }
            Hop::Access { viewer } => self.viewers[viewer as usize].attached,
        }
    }

    /// Tree: `from` -> `to` is a hop of one of `stream`'s up-leg paths.
    fn on_up_leg(&self, stream: u32, from: u32, to: u32) -> bool {
        self.up_legs.get(&stream).is_some_and(|paths| paths.iter().any(|p| p.windows(2).any(|w| w == [from, to])))
    }

    /// A chunk reached `node` from the broadcaster or from below on the
    /// up-leg: on up it goes (from the ingest, up every path of the leg;
    /// from a relay, up the one path it is on), and the top of the leg
    /// (the root, or the ingest itself outside the tree) takes it in as
    /// the stream's source.
    fn climb(&mut self, sched: &mut Scheduler<Event>, node: u32, c: Chunk, hops: u8) {
        let Some(paths) = self.up_legs.get(&c.stream) else {
            return self.node_receives(sched, node, None, c, hops);
        };
        let mut next = std::mem::take(&mut self.scratch);
        next.clear();
        for p in paths {
            if let Some(i) = p[..p.len() - 1].iter().position(|&n| n == node) {
                next.push(p[i + 1]);
            }
        }
        if next.is_empty() {
            self.scratch = next;
            return self.node_receives(sched, node, None, c, hops);
        }
        if node == self.streams[c.stream as usize].ingest {
            self.counters.uplink_chunks += 1;
        }
        for &to in &next {
            let channel = self.topo.channel_between(NodeId(node), NodeId(to)).expect("up-leg paths follow links");
            self.transmit(sched, Hop::Link { channel, from: node, to }, c, hops, 0);
        }
        self.scratch = next;
    }

    /// The overlay hop over channel `channel`: links were added in the
    /// scenario's order, each as its `from -> to` channel then the reverse
    /// (build.rs), so channel 2i + d is link i, reversed when d = 1.
    fn link_hop(&self, channel: ChannelId) -> Hop {
        let l = &self.sc.links[channel.0 as usize / 2];
        let (from, to) = if channel.0 % 2 == 0 { (l.from, l.to) } else { (l.to, l.from) };
        Hop::Link { channel, from: from as u32, to: to as u32 }
    }

    /// Chunk `c` reached backbone hop `k` of overlay link `channel`'s path: it
    /// queues there, then goes on to the next hop or the far node; dropped,
    /// it is lost to the sender, who resends when its timer fires.
    #[allow(clippy::too_many_arguments)]
    fn on_backbone(&mut self, sched: &mut Scheduler<Event>, channel: ChannelId, c: Chunk, hops: u8, attempt: u8, k: u8, sent: SimTime) {
        let bytes = self.chunk_bytes(c);
        match self.backbone.step(channel, k, sched.now(), bytes) {
            Step::Next { k, at } => sched.schedule_at(at, NET, Event::Backbone { channel, chunk: c, hops, attempt, k, sent }),
            Step::Done { at } => {
                let hop = self.link_hop(channel);
                let extra_ns = self.topo.channel(channel).latency().as_ns().saturating_sub(self.backbone.base_latency_ns(channel));
                let at = at + SimDuration::from_ns(extra_ns);
                sched.schedule_at(at, NET, Event::Arrive { hop, chunk: c, hops: hops + 1, attempt });
            }
            Step::Dropped => {
                self.counters.chunks_dropped += 1;
                self.counters.backbone_drops += 1;
                // Probing sees it as loss on the overlay link.
                self.links[channel.0 as usize / 2].lost += 1;
                let hop = self.link_hop(channel);
                self.retry_later(sched, sent, hop, c, hops, attempt);
            }
        }
    }

    fn on_arrive(&mut self, sched: &mut Scheduler<Event>, hop: Hop, c: Chunk, hops: u8, attempt: u8) {
        if let Hop::Link { channel, .. } = hop {
            // The link failed while the chunk was on it. The sender's timer
            // started when it sent; this is at most one latency later.
            if !self.topo.channel(channel).is_up() {
                self.counters.chunks_lost += 1;
                self.links[channel.0 as usize / 2].lost += 1;
                let latency_ns = self.topo.channel(channel).latency().as_ns();
                let sent = SimTime::from_ns(sched.now().as_ns().saturating_sub(latency_ns));
                self.retry_later(sched, sent, hop, c, hops - 1, attempt);
                return;
            }
        }
        match hop {
            Hop::Ingest => self.climb(sched, self.streams[c.stream as usize].ingest, c, hops),
            Hop::Link { from, to, .. } if self.on_up_leg(c.stream, from, to) => self.climb(sched, to, c, hops),
            Hop::Link { from, to, .. } => self.node_receives(sched, to, Some(from), c, hops),
            Hop::Access { viewer } => self.viewer_receives(sched, viewer, c, hops),
        }
    }

    /// Chunk `c` reached node `n` from `from` (`None`: from below, on the
    /// tree's up-leg).
    fn node_receives(&mut self, sched: &mut Scheduler<Event>, n: u32, from: Option<u32>, c: Chunk, hops: u8) {
        let bytes = self.chunk_bytes(c) as u64;
        // Chunks still in flight after an unsubscribe are waste.
        let Some(carry) = self.carries.get_mut(&(c.stream, n)) else {
            self.counters.wasted_bytes += bytes;
            return;
        };
        // Not new: held already, or too old for the window (a replay if the
        // node had the block whole, else too late to use: its newer blocks
        // went on without it). Either way wasted, and never passed on.
        let (held, completes) = match carry.window.insert(c) {
            Insert::New { completes } => (None, completes),
            Insert::Held => (Some(true), false),
            Insert::TooOld => (Some(carry.splice.held(c.block) == Some(true)), false),
        };
        if let Some(held) = held {
            self.counters.wasted_bytes += bytes;
            if !held {
                self.counters.late_chunks += 1;
            } else if from.is_none() {
                self.counters.uplink_redundant_chunks += 1;
            } else if carry.parents.len() > 1 {
                self.counters.redundant_chunks += 1;
            } else {
                self.counters.switch_replays += 1;
            }
            return;
        }
        carry.hops = hops;
        if from.is_none() && self.up_legs.contains_key(&c.stream) {
            self.counters.uplink_chunks_reached += 1;
        }
        // The first chunk from the upstream a switch moved to: the blocks
        // from the resume point up to it that the node lacks were skipped.
        if let Some((parent, resume)) = carry.resume
            && from == Some(parent)
        {
            carry.resume = None;
            let skipped = (resume..c.block).filter(|&b| carry.splice.seen(b) != Some(true)).count();
            self.counters.switch_gaps += skipped as u64;
        }
        if completes {
            carry.splice.receive(c.block);
        } else {
            carry.splice.receive_part(c.block);
        }
        let part_block = carry.part_users > 0 && completes;
        // Children that asked to stop after an earlier block are done.
        let before = carry.children.len();
        carry.children.retain(|&(_, until)| c.block <= until);
        let dropped_child = carry.children.len() < before;
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        out.extend(carry.children.iter().map(|&(child, _)| child));
        let children = out.len();
        out.extend(carry.viewers.iter().copied());
        for (i, &to) in out.iter().enumerate() {
            if i < children {
                self.send_to_child(sched, n, to, c, hops);
            } else {
                self.transmit(sched, Hop::Access { viewer: to }, c, hops, 0);
            }
        }
        self.scratch = out;
        if part_block {
            self.with_parts(sched, |parts, w| parts.block_complete(c.stream, n, c.block, w));
        }
        if dropped_child {
            self.maybe_release(sched, c.stream, n);
        }
    }

    fn send_to_child(&mut self, sched: &mut Scheduler<Event>, from: u32, to: u32, c: Chunk, hops: u8) {
        let channel = self.topo.channel_between(NodeId(from), NodeId(to)).expect("routes follow links");
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
        self.second(now, c.stream).bytes_to_viewers += bytes;
        let (useful, action) = self.viewers[v as usize].receive(now, c.block, cpb, block_ns);
        if !useful {
            self.viewers[v as usize].stats.wasted_bytes += bytes;
            self.counters.wasted_bytes += bytes;
        }
        self.after_player(sched, v, action);
    }

    pub(crate) fn after_player(&mut self, sched: &mut Scheduler<Event>, v: u32, action: Action) {
        match action {
            Action::None => {}
            Action::Played { e2e } => {
                self.e2e_us.record(e2e.as_ns() / 1_000);
                sched.schedule_in(SimDuration::from_ns(self.block_ns()), PLAYOUT, Event::Deadline(v));
            }
            Action::Stalled => {
                let s = self.viewers[v as usize].stream;
                self.second(sched.now(), s).stalls += 1
            }
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

    /// The broadcasters start: routing says where each stream goes before
    /// anyone watches (tree: up to the root; pools: to a source-tier node;
    /// mesh: nowhere), and the end of that path holds it.
    pub fn publish_all(&mut self, sched: &mut Scheduler<Event>) {
        let now_us = Self::now_us(sched);
        for s in 0..self.streams.len() as u32 {
            let ingest = self.streams[s as usize].ingest;
            match self.router.publish(now_us, s, ingest) {
                Ok(Some(route)) if self.sc.routing.mode == Mode::Tree => {
                    // The tree's up-leg is a relay of its own: the root is
                    // where the down-leg starts, and the ingest serves its
                    // own viewers from there too (routing crate, tree).
                    self.set_up_leg(s, &route);
                }
                Ok(Some(route)) => {
                    let end = *route.nodes.last().expect("a route has nodes");
                    let cpb = self.chunks_per_block;
                    self.carries.entry((s, end)).or_insert_with(|| Carry::new(Sub::Planned, cpb)).pinned = true;
                    self.graft(sched, s, &route, FROM_NEWEST);
                }
                Ok(None) => {}
                Err(_) => self.counters.route_failures += 1,
            }
        }
    }

    fn on_join(&mut self, sched: &mut Scheduler<Event>, arrival: bool) {
        let now = sched.now();
        if arrival && let Some(gap) = self.next_arrival_gap() {
            sched.schedule_in(gap, SESSION, Event::ViewerJoin { arrival: true });
        }
        // Stream by popularity, region (the broadcaster's with the local
        // share, else by weight), one of its edges, then the watch time:
        // all from the attributes stream, in this order.
        let rng = &mut self.attributes_rng;
        let u = rng.random::<f64>() * self.popularity_cdf.last().copied().unwrap_or(1.0);
        let stream = self.popularity_cdf.partition_point(|&c| c <= u).min(self.streams.len() - 1) as u32;
        let local = self.sc.broadcasters.local_viewers;
        let region = if local > 0.0 && rng.random::<f64>() < local {
            self.streams[stream as usize].region as usize
        } else {
            pick(rng, &self.sc.viewers.regions)
        };
        let edges = &self.edges_by_region[region];
        let edge = edges[rng.random_range(0..edges.len())];
        let watch_s = match self.sc.viewers.watch_time {
            WatchTime::Exponential { mean_ns } => sample::exp1(rng) * mean_ns as f64 / 1e9,
            WatchTime::Lognormal { median_ns, sigma } => {
                sample::log_normal(rng, cdnsim_maths::ln(median_ns as f64 / 1e9), sigma)
            }
        };
        let leave = now + SimDuration::from_secs_f64(watch_s);
        // Hop waste's denominator: the fewest hops the mode's rules allow
        // over the links usable now, plus the access hop.
        let source = self.streams[stream as usize].ingest;
        let shortest = self.router.shortest_hops(source, edge).map(|h| h.saturating_add(1));

        let v = self.viewers.len() as u32;
        self.viewers.push(Viewer::new(stream, edge, region as u16, now, leave, shortest));
        // A leave after the stop would never be handled (the run ends every
        // session still attached there): not scheduling it keeps a million
        // events out of the queue in the flagship, and every other event's
        // order is unchanged (sequence numbers only break ties of equal
        // time and class, and keep their order).
        if leave.as_ns() <= self.sc.duration_ns {
            sched.schedule_at(leave, SESSION, Event::ViewerLeave(v));
        }
        sched.schedule_in(SimDuration::from_ns(self.sc.viewers.playout_delay_ns), PLAYOUT, Event::Deadline(v));
        if self.parts().serves(stream) {
            let newest = self.carries.get(&(stream, edge)).and_then(|k| k.window.newest_complete());
            let place = (stream, edge, region as u16);
            self.with_parts(sched, |parts, w| parts.viewer_joins(v, place, newest, w));
            self.viewers_changed(sched, stream, 1);
            return;
        }

        let cpb = self.chunks_per_block;
        let new = !self.carries.contains_key(&(stream, edge));
        let carry = self.carries.entry((stream, edge)).or_insert_with(|| Carry::new(Sub::Planned, cpb));
        carry.viewers.push(v);
        let (hops, backlog) = (carry.hops, carry.window.backlog(stream));
        for c in backlog {
            self.transmit(sched, Hop::Access { viewer: v }, c, hops, 0);
        }
        if new {
            self.request_route(sched, stream, edge);
        }
        self.viewers_changed(sched, stream, 1);
    }

    fn on_leave(&mut self, sched: &mut Scheduler<Event>, v: u32) {
        let now = sched.now();
        let viewer = &mut self.viewers[v as usize];
        viewer.end(now);
        let (stream, edge) = (viewer.stream, viewer.edge);
        if !self.with_parts(sched, |parts, w| parts.viewer_leaves(v, w)) {
            if let Some(carry) = self.carries.get_mut(&(stream, edge)) {
                carry.viewers.retain(|&x| x != v);
            }
            self.maybe_release(sched, stream, edge);
        }
        self.viewers_changed(sched, stream, -1);
    }

    /// Keeps routing's view of a stream's audience; a stream turning hot
    /// is pushed to the edges of every viewer region.
    fn viewers_changed(&mut self, sched: &mut Scheduler<Event>, stream: u32, delta: i32) {
        let s = &mut self.streams[stream as usize];
        s.viewers = s.viewers.saturating_add_signed(delta);
        if self.sc.routing.mode == Mode::Tree {
            return;
        }
        if self.router.set_viewers(stream, s.viewers) == Some(true) && !s.hot {
            s.hot = true;
            self.counters.hot_streams += 1;
            self.push_hot(sched, stream);
        }
    }

    fn push_hot(&mut self, sched: &mut Scheduler<Event>, stream: u32) {
        let mut targets: Vec<u32> = self.sc.viewers.regions.iter().flat_map(|&(r, _)| self.edges_by_region[r].iter().copied()).collect();
        targets.sort_unstable();
        targets.dedup();
        let source = self.streams[stream as usize].ingest;
        targets.retain(|&t| t != source);
        let now_us = Self::now_us(sched);
        let results = self.router.push_routes(now_us, stream, source, &targets);
        for (target, result) in targets.iter().zip(results) {
            let Ok(push) = result else {
                self.counters.route_failures += 1;
                continue;
            };
            let cpb = self.chunks_per_block;
            self.carries.entry((stream, *target)).or_insert_with(|| Carry::new(Sub::Planned, cpb)).pinned = true;
            for route in push.routes {
                self.graft(sched, stream, &route, FROM_NEWEST);
            }
        }
    }

    /// Asks routing for a path to `node`, which wants `stream`. The mesh's
    /// route service answers over the network (module docs); the tree and
    /// pools decide locally.
    pub(crate) fn request_route(&mut self, sched: &mut Scheduler<Event>, stream: u32, node: u32) {
        let source = self.streams[stream as usize].ingest;
        let result = self.router.join(Self::now_us(sched), stream, source, node);
        let (route, delay) = match result {
            Ok(route) if route.service_round_trip => {
                let i = self.add_pending(PendingRoute { stream, node, route: Some(route) });
                return self.ask_service(sched, i);
            }
            // Routing believes the node carries the stream already, but it
            // has no upstream (its own answer was lost with a release):
            // ask again after a probing interval rather than at once.
            Ok(route) if route.nodes == [node] => {
                self.counters.route_failures += 1;
                (None, SimDuration::from_ns(self.sc.routing.probe_interval_ns))
            }
            Ok(route) => {
                self.graft(sched, stream, &route, FROM_NEWEST);
                return;
            }
            Err(_) => {
                self.counters.route_failures += 1;
                (None, SimDuration::from_ns(self.sc.routing.probe_interval_ns))
            }
        };
        let i = self.add_pending(PendingRoute { stream, node, route });
        sched.schedule_in(delay, NET, Event::RouteReply(i));
    }

    fn add_pending(&mut self, pending: PendingRoute) -> u32 {
        match self.pending_free.pop() {
            Some(i) => {
                self.pending[i as usize] = Some(pending);
                i
            }
            None => {
                self.pending.push(Some(pending));
                (self.pending.len() - 1) as u32
            }
        }
    }

    /// Sends pending route `i`'s request to the route service, a control
    /// message whose timer runs on the round trip of the request's and the
    /// answer's paths now (module docs). A node hosting the service has its
    /// answer at once; one with no overlay path to it, after the
    /// propagation round trip between the regions, as if over a network
    /// outside the overlay.
    fn ask_service(&mut self, sched: &mut Scheduler<Event>, i: u32) {
        let p = self.pending[i as usize].as_ref().expect("a request has its pending route");
        let (stream, node) = (p.stream, p.node);
        let service = self.route_service.as_ref().expect("only the mesh asks the route service");
        let host = service.node;
        let (mut up, mut down) = (Vec::new(), Vec::new());
        if node == host || !service.request_path(node, &mut up) {
            let delay = if node == host { SimDuration::ZERO } else { self.service_round_trip(node) };
            sched.schedule_in(delay, NET, Event::RouteReply(i));
            return;
        }
        service.answer_path(node, &mut down);
        let now = sched.now();
        let rtt_ns = self.path_one_way_ns(&up, now) + self.path_one_way_ns(&down, now);
        let id = self.control.send(now.as_ns(), rtt_ns);
        debug_assert_eq!(id.0 as usize, self.control_log.len());
        let kind = ControlKind::Route;
        self.control_log.push(ControlRow { stream, child: node, parent: host, kind, block: i, sent: now, attempts: 0, delivered: None, gave_up: false });
        self.control_outputs(sched);
    }

    /// A route request's path (`answer`: the answer's) from or to `node`.
    fn route_path(&self, node: u32, answer: bool) -> Vec<ChannelId> {
        let service = self.route_service.as_ref().expect("only the mesh asks the route service");
        let mut path = Vec::new();
        let found = if answer { service.answer_path(node, &mut path) } else { service.request_path(node, &mut path) };
        debug_assert!(found, "a message is sent only over a path");
        path
    }

    /// What a control message sent at `now` takes over `path`: each hop's
    /// share as over that link alone.
    fn path_one_way_ns(&self, path: &[ChannelId], now: SimTime) -> u64 {
        path.iter().map(|&ch| self.control_one_way_ns(ch, now)).sum()
    }

    fn path_down(&self, path: &[ChannelId]) -> bool {
        path.iter().any(|&ch| !self.topo.channel(ch).is_up())
    }

    /// One leg of a route request's exchange leaves now over `path`: lost
    /// when a link of it is down or with the path's loss, else when it
    /// arrives.
    fn route_leg(&mut self, path: &[ChannelId], now: SimTime) -> Option<SimTime> {
        let delivered: f64 = path
            .iter()
            .map(|&ch| {
                let link = &self.links[ch.0 as usize / 2];
                (1.0 - link.mean_loss) * (1.0 - link.fault_loss)
            })
            .product();
        let loss = 1.0 - delivered;
        if self.path_down(path) || (loss > 0.0 && self.route_rng.random::<f64>() < loss) {
            self.counters.control_lost += 1;
            return None;
        }
        Some(now + SimDuration::from_ns(self.path_one_way_ns(path, now)))
    }

    /// A sending of route request `id` reaches the service's node: unless a
    /// link of its path failed on the way, the service answers it (a copy
    /// of a request it answered before too: it cannot tell that answer was
    /// lost).
    fn on_route_request(&mut self, sched: &mut Scheduler<Event>, id: MsgId, attempt: u8) {
        let node = self.control_log[id.0 as usize].child;
        if self.path_down(&self.route_path(node, false)) {
            self.counters.control_lost += 1;
            return;
        }
        let down = self.route_path(node, true);
        if let Some(at) = self.route_leg(&down, sched.now()) {
            sched.schedule_at(at, NET, Event::Control { id: id.0, attempt, back: true });
        }
    }

    /// An answer to route request `id` reaches the asking node: the first
    /// to get through is the service's answer; a later one is ignored.
    fn on_route_answer(&mut self, sched: &mut Scheduler<Event>, id: MsgId) {
        let node = self.control_log[id.0 as usize].child;
        if self.path_down(&self.route_path(node, true)) {
            self.counters.control_lost += 1;
            return;
        }
        if !self.control.delivered(id) {
            return;
        }
        let row = &mut self.control_log[id.0 as usize];
        row.delivered = Some(sched.now());
        let i = row.block;
        self.on_route_reply(sched, i);
    }

    /// The request for pending route `i` went unanswered after its last
    /// retry (module docs): the node, if it still waits, asks again after
    /// a probing interval; else routing forgets the path.
    fn route_gave_up(&mut self, sched: &mut Scheduler<Event>, i: u32) {
        let p = self.pending[i as usize].as_ref().expect("a request has its pending route");
        if self.waits_for_route(p.stream, p.node) {
            self.counters.route_failures += 1;
            sched.schedule_in(SimDuration::from_ns(self.sc.routing.probe_interval_ns), NET, Event::RouteAsk(i));
        } else {
            self.drop_pending(i);
        }
    }

    fn on_route_ask(&mut self, sched: &mut Scheduler<Event>, i: u32) {
        let p = self.pending[i as usize].as_ref().expect("a request has its pending route");
        if self.waits_for_route(p.stream, p.node) {
            self.ask_service(sched, i);
        } else {
            self.drop_pending(i);
        }
    }

    /// Pending route `i` is not wanted any more: routing forgets the path
    /// it chose.
    fn drop_pending(&mut self, i: u32) {
        let p = self.pending[i as usize].take().expect("dropped once");
        self.pending_free.push(i);
        if let Some(route) = p.route {
            self.forget_route(p.stream, &route);
        }
    }

    /// Nobody waits for `route` any more: routing must not count the
    /// path's new nodes as carriers.
    fn forget_route(&mut self, stream: u32, route: &Route) {
        for &n in route.nodes.iter().rev() {
            if self.carries.contains_key(&(stream, n)) {
                break;
            }
            let _ = self.router.leave(stream, n);
        }
    }

    /// `node` wants `stream` and has no upstream yet.
    fn waits_for_route(&self, stream: u32, node: u32) -> bool {
        self.carries.get(&(stream, node)).is_some_and(|k| k.sub == Sub::Planned && k.parents.is_empty())
    }

    /// Propagation there and back between a node's region and the route
    /// service's, on the scenario's fibre model: what a node with no
    /// overlay path to the service waits.
    fn service_round_trip(&self, node: u32) -> SimDuration {
        let (a, b) = (self.sc.nodes[node as usize].region, self.sc.routing.service_region);
        let one_way = SimDuration::from_ns(self.sc.region_latency_ns(a, b, self.sc.network.route_inflation));
        one_way + one_way
    }

    fn on_route_reply(&mut self, sched: &mut Scheduler<Event>, i: u32) {
        let p = self.pending[i as usize].take().expect("a reply has its pending route");
        self.pending_free.push(i);
        let waiting = self.waits_for_route(p.stream, p.node);
        match p.route {
            Some(route) if waiting => self.graft(sched, p.stream, &route, FROM_NEWEST),
            Some(route) => self.forget_route(p.stream, &route),
            None if waiting => self.request_route(sched, p.stream, p.node),
            None => {}
        }
    }

    /// Tree: `stream` climbs `up_leg` (ingest ... root) from now on, and the
    /// root takes over from the ingest as the stream's source. The root
    /// keeps it for the rest of the run (the tree always publishes). With
    /// `uplink_copies` above 1 the copies are chosen now, over the links
    /// usable now, and kept (the tree never reroutes: a copy over a failed
    /// link loses its chunks until the link is back).
    fn set_up_leg(&mut self, stream: u32, up_leg: &Route) {
        let (ingest, root) = (self.streams[stream as usize].ingest, *up_leg.nodes.last().expect("a route has nodes"));
        if root == ingest || self.up_legs.contains_key(&stream) {
            return;
        }
        let cpb = self.chunks_per_block;
        let before = self.carries.remove(&(stream, ingest));
        assert!(
            before.is_none_or(|k| k.viewers.is_empty() && k.children.is_empty()),
            "stream {stream}: the tree publishes before anyone watches"
        );
        self.carries.insert((stream, root), Carry::new(Sub::Root, cpb));
        let mut paths = vec![up_leg.nodes.clone()];
        let extra = self.sc.routing.up_leg_paths() - 1;
        if extra > 0 {
            paths.extend(self.router.up_leg_copies(up_leg, extra).into_iter().map(|r| r.nodes));
        }
        self.up_legs.insert(stream, paths);
    }

    /// Sets up `route` (upstream first, ending at the node that wants the
    /// stream): from its end back to the first node that already carries
    /// the stream, each node subscribes to the one before it. All the
    /// subscriptions leave at once, as the route service tells every node
    /// on the path. A tree route that starts the stream's up-leg brings it
    /// along; the up-leg's relays are not carriers, so a centre the stream
    /// passes on its way up still subscribes to the root for the way down.
    fn graft(&mut self, sched: &mut Scheduler<Event>, stream: u32, route: &Route, from_block: u32) {
        if let Some(up) = &route.up_leg {
            self.set_up_leg(stream, up);
        }
        // A node twice would make it its own upstream's upstream; the
        // routing crate never returns such a path (its property tests).
        let n = route.nodes.len();
        assert!(
            (1..n).all(|i| !route.nodes[..i].contains(&route.nodes[i])),
            "stream {stream}: routing returned a path through a node twice: {:?}",
            route.nodes
        );
        let cpb = self.chunks_per_block;
        for i in (1..route.nodes.len()).rev() {
            let (node, parent) = (route.nodes[i], route.nodes[i - 1]);
            let carry = self.carries.entry((stream, node)).or_insert_with(|| Carry::new(Sub::Planned, cpb));
            if carry.sub == Sub::Root || carry.parents.contains(&parent) {
                break;
            }
            let established = carry.sub == Sub::Joined;
            if established && !carry.pinned {
                break;
            }
            // A pinned, joined node gains a second upstream (a hot stream's
            // redundant path, set up above it as usual); anyone else gains
            // its first.
            carry.parents.push(parent);
            carry.sub = Sub::Joined;
            self.subscribe(sched, stream, node, parent, from_block);
        }
        // Routing started the path at a node it believed carries the
        // stream; if that node no longer does, it needs a route itself
        // (unless the route service's answer for it is on its way).
        if let Some(&top) = route.nodes.first()
            && self.waits_for_route(stream, top)
            && !self.route_pending(stream, top)
        {
            self.request_route(sched, stream, top);
        }
    }

    /// A route for `node` is on its way from the route service.
    fn route_pending(&self, stream: u32, node: u32) -> bool {
        self.pending.iter().flatten().any(|p| p.stream == stream && p.node == node)
    }

    fn subscribe(&mut self, sched: &mut Scheduler<Event>, stream: u32, child: u32, parent: u32, block: u32) {
        let cpb = self.chunks_per_block;
        self.carries.entry((stream, parent)).or_insert_with(|| Carry::new(Sub::Planned, cpb)).expected += 1;
        self.send_control(sched, stream, child, parent, ControlKind::Subscribe, block);
    }

    fn on_subscribe(&mut self, sched: &mut Scheduler<Event>, stream: u32, child: u32, parent: u32, block: u32) {
        let carry = self.carries.get_mut(&(stream, parent)).expect("a node expecting a subscription keeps its carry");
        carry.expected -= 1;
        if !self.carries.get(&(stream, child)).is_some_and(|k| k.parents.contains(&parent)) {
            // The child moved on or left while this was on its way.
            self.maybe_release(sched, stream, parent);
            return;
        }
        let carry = self.carries.get_mut(&(stream, parent)).expect("checked above");
        match carry.children.iter_mut().find(|c| c.0 == child) {
            Some(c) => c.1 = u32::MAX,
            None => carry.children.push((child, u32::MAX)),
        }
        // A switch continues at `block`: blocks the new upstream no longer
        // holds are missed, and the child's splice counter sees them so.
        let backlog = if block == FROM_NEWEST { carry.window.backlog(stream) } else { carry.window.backlog_from(stream, block) };
        let hops = carry.hops;
        for c in backlog {
            self.send_to_child(sched, parent, child, c, hops);
        }
    }

    fn on_unsubscribe(&mut self, sched: &mut Scheduler<Event>, stream: u32, child: u32, parent: u32, last_block: u32) {
        let Some(carry) = self.carries.get_mut(&(stream, parent)) else { return };
        let newest = carry.window.newest_complete();
        // Stop now if the child has every block it still wants; otherwise
        // stop after `last_block` (see node_receives).
        carry.children.retain_mut(|c| {
            if c.0 != child {
                return true;
            }
            c.1 = last_block;
            newest.is_none_or(|n| n < last_block)
        });
        self.maybe_release(sched, stream, parent);
    }

    /// Lets the stream go at `node` when nothing keeps it there: tells
    /// routing and the upstream nodes.
    pub(crate) fn maybe_release(&mut self, sched: &mut Scheduler<Event>, stream: u32, node: u32) {
        if !self.carries.get(&(stream, node)).is_some_and(Carry::unused) {
            return;
        }
        let mut carry = self.carries.remove(&(stream, node)).expect("checked above");
        self.counters.add_splice(&mut carry);
        // Routing prunes the relays above that were there only for this
        // node; the world learns the same from the unsubscriptions below.
        let _ = self.router.leave(stream, node);
        for parent in carry.parents {
            self.unsubscribe(sched, stream, node, parent, 0);
        }
    }

    fn unsubscribe(&mut self, sched: &mut Scheduler<Event>, stream: u32, child: u32, parent: u32, last_block: u32) {
        self.send_control(sched, stream, child, parent, ControlKind::Unsubscribe, last_block);
    }

    /// A new control message from child to parent (module docs): its
    /// retry timer starts from the path's round trip now.
    fn send_control(&mut self, sched: &mut Scheduler<Event>, stream: u32, child: u32, parent: u32, kind: ControlKind, block: u32) {
        let now = sched.now();
        let channel = self.topo.channel_between(NodeId(child), NodeId(parent)).expect("routes follow links");
        let one_way_ns = self.control_one_way_ns(channel, now);
        let rtt_ns = one_way_ns + self.topo.channel(channel).latency().as_ns();
        let id = self.control.send(now.as_ns(), rtt_ns);
        debug_assert_eq!(id.0 as usize, self.control_log.len());
        self.control_log.push(ControlRow { stream, child, parent, kind, block, sent: now, attempts: 0, delivered: None, gave_up: false });
        self.control_outputs(sched);
    }

    /// What a control message on `channel` sent at `now` takes to arrive:
    /// the link's latency now, plus the backlog the link's own queue and
    /// each of its backbone hops hold now (backbone.rs, `message_wait_ns`:
    /// what each queue will hold when the message gets there is not known
    /// when it is sent).
    fn control_one_way_ns(&self, channel: ChannelId, now: SimTime) -> u64 {
        let ch = self.topo.channel(channel);
        let own = ch.fifo.busy_until().as_ns().saturating_sub(now.as_ns());
        let backbone = if self.backbone.crosses(channel) { self.backbone.message_wait_ns(channel, now) } else { 0 };
        own + ch.latency().as_ns() + backbone
    }

    /// Carries out what the retry timers ask for, in order, and keeps a
    /// timer event at their next deadline.
    fn control_outputs(&mut self, sched: &mut Scheduler<Event>) {
        while let Some(out) = self.control.poll_output() {
            match out {
                ControlOutput::Send { id, attempt } => self.control_transmit(sched, id, attempt),
                ControlOutput::GaveUp { id } => self.control_gave_up(sched, id),
            }
        }
        if let Some(at) = self.control.poll_timeout() {
            let at = SimTime::from_ns(at).max(sched.now());
            if self.control_armed.is_none_or(|armed| at < armed) {
                self.control_armed = Some(at);
                sched.schedule_at(at, NET, Event::ControlTimer);
            }
        }
    }

    /// Puts one sending of a control message on its link: lost when the
    /// link is down or with its loss probability, else on its way.
    fn control_transmit(&mut self, sched: &mut Scheduler<Event>, id: MsgId, attempt: u8) {
        let now = sched.now();
        let row = &mut self.control_log[id.0 as usize];
        row.attempts = attempt + 1;
        let (child, parent) = (row.child, row.parent);
        if row.kind == ControlKind::Route {
            let up = self.route_path(child, false);
            if let Some(at) = self.route_leg(&up, now) {
                sched.schedule_at(at, NET, Event::Control { id: id.0, attempt, back: false });
            }
            return;
        }
        let channel = self.topo.channel_between(NodeId(child), NodeId(parent)).expect("routes follow links");
        let link = &self.links[channel.0 as usize / 2];
        let loss = 1.0 - (1.0 - link.mean_loss) * (1.0 - link.fault_loss);
        let lost = !self.topo.channel(channel).is_up() || (loss > 0.0 && self.control_rng.random::<f64>() < loss);
        if lost {
            self.counters.control_lost += 1;
            return;
        }
        let at = now + SimDuration::from_ns(self.control_one_way_ns(channel, now));
        sched.schedule_at(at, NET, Event::Control { id: id.0, attempt, back: false });
    }

    /// A sending of control message `id` reaches the parent: the first to
    /// get through is acted on.
    fn on_control(&mut self, sched: &mut Scheduler<Event>, id: MsgId, attempt: u8) {
        let row = self.control_log[id.0 as usize];
        if row.kind == ControlKind::Route {
            return self.on_route_request(sched, id, attempt);
        }
        let channel = self.topo.channel_between(NodeId(row.child), NodeId(row.parent)).expect("routes follow links");
        // The link failed while it was on the way.
        if !self.topo.channel(channel).is_up() {
            self.counters.control_lost += 1;
            return;
        }
        if !self.control.delivered(id) {
            return;
        }
        self.control_log[id.0 as usize].delivered = Some(sched.now());
        match row.kind {
            ControlKind::Subscribe => self.on_subscribe(sched, row.stream, row.child, row.parent, row.block),
            ControlKind::Unsubscribe => self.on_unsubscribe(sched, row.stream, row.child, row.parent, row.block),
            ControlKind::Route => unreachable!("route requests are answered by on_route_request"),
        }
    }

    /// Control message `id` went unanswered after its last retry (module
    /// docs: what the child or the parent does then).
    fn control_gave_up(&mut self, sched: &mut Scheduler<Event>, id: MsgId) {
        self.control_log[id.0 as usize].gave_up = true;
        let ControlRow { stream, child, parent, kind, block, .. } = self.control_log[id.0 as usize];
        match kind {
            ControlKind::Subscribe => {}
            ControlKind::Unsubscribe => return self.on_unsubscribe(sched, stream, child, parent, block),
            ControlKind::Route => return self.route_gave_up(sched, block),
        }
        // The parent never heard: it expects the subscription no longer.
        if let Some(carry) = self.carries.get_mut(&(stream, parent)) {
            carry.expected -= 1;
        }
        self.maybe_release(sched, stream, parent);
        if !self.carries.get(&(stream, child)).is_some_and(|k| k.parents.contains(&parent)) {
            // The child moved on or left meanwhile.
            return;
        }
        if self.sc.routing.mode != Mode::Tree {
            let now_us = Self::now_us(sched);
            let channel = self.topo.channel_between(NodeId(child), NodeId(parent)).expect("routes follow links");
            let l = channel.0 as usize / 2;
            if !self.links[l].reported_down {
                self.router.set_down(now_us, l as u32, true);
                self.links[l].reported_down = true;
            }
            for r in self.router.reroutes(now_us) {
                self.switch(sched, r.stream, r.node, &r.route);
            }
        }
        if self.carries.get(&(stream, child)).is_some_and(|k| k.parents.contains(&parent)) {
            self.subscribe(sched, stream, child, parent, block);
        }
    }

    /// A probing round: every link reports what it saw since the last one,
    /// then routing moves whichever nodes it decides to move.
    fn on_probe(&mut self, sched: &mut Scheduler<Event>) {
        let now_us = Self::now_us(sched);
        self.backbone.end_round(sched.now());
        for (l, state) in self.links.iter_mut().enumerate() {
            let link = &self.sc.links[l];
            let channel = self.topo.channel_between(NodeId(link.from as u32), NodeId(link.to as u32)).expect("scenario link");
            let ch = self.topo.channel(channel);
            // Loss as measured on the traffic, with the link's known loss as
            // a prior worth PROBES_PER_ROUND probes (an idle link is still
            // probed); a down link loses every probe.
            let expected = 1.0 - (1.0 - state.mean_loss) * (1.0 - state.fault_loss);
            let loss = if state.down {
                1.0
            } else {
                (state.lost as f64 + PROBES_PER_ROUND * expected) / (state.sent as f64 + PROBES_PER_ROUND)
            };
            // Delay: propagation plus the queueing probes met on the link's
            // backbone hops in the round, in its worse direction (backbone.rs).
            let reverse = ChannelId(channel.0 ^ 1);
            let queued_ns = self.backbone.path_wait_ns(channel).max(self.backbone.path_wait_ns(reverse));
            let obs = Observation {
                delay_us: ((ch.latency().as_ns() + queued_ns) / 1_000).min(u32::MAX as u64) as u32,
                loss,
                retransmit_rate: if state.sent > 0 { state.resent as f64 / state.sent as f64 } else { 0.0 },
            };
            self.router.observe(now_us, l as u32, obs);
            // Every probe of a round lost: the link is down, not just bad.
            if state.down != state.reported_down {
                self.router.set_down(now_us, l as u32, state.down);
                state.reported_down = state.down;
            }
            (state.sent, state.lost, state.resent) = (0, 0, 0);
        }
        for r in self.router.reroutes(now_us) {
            self.switch(sched, r.stream, r.node, &r.route);
        }
        sched.schedule_in(SimDuration::from_ns(self.sc.routing.probe_interval_ns), NET, Event::Probe);
    }

    /// Moves `node` to the upstream `route` ends with, continuing at the
    /// block after its newest complete one.
    fn switch(&mut self, sched: &mut Scheduler<Event>, stream: u32, node: u32, route: &Route) {
        let n = route.nodes.len();
        let Some(carry) = self.carries.get(&(stream, node)) else { return };
        if n < 2 || route.nodes[n - 1] != node || carry.sub != Sub::Joined || carry.parents == [route.nodes[n - 2]] {
            return;
        }
        let from_block = carry.window.newest_complete().map_or(FROM_NEWEST, |b| b + 1);
        let old = std::mem::take(&mut self.carries.get_mut(&(stream, node)).expect("checked").parents);
        self.counters.route_switches += 1;
        // The new path above the node, then the node itself.
        let upstream = Route { nodes: route.nodes[..n - 1].to_vec(), links: route.links[..n.saturating_sub(2)].to_vec(), ..route.clone() };
        self.graft(sched, stream, &upstream, from_block);
        let parent = route.nodes[n - 2];
        let carry = self.carries.get_mut(&(stream, node)).expect("checked");
        carry.parents.push(parent);
        // What the node needs next, whatever the switch asked for: the
        // gap is measured against it.
        if let Some(newest) = carry.window.newest_complete() {
            carry.resume = Some((parent, newest + 1));
        }
        self.subscribe(sched, stream, node, parent, from_block);
        // The old upstreams stop after the block before the resume point;
        // a node with no complete block yet resumes from the new
        // upstream's newest, and its old upstreams stop at once.
        let last_block = if from_block == FROM_NEWEST { 0 } else { from_block.saturating_sub(1) };
        for p in old {
            self.unsubscribe(sched, stream, node, p, last_block);
        }
    }
}

impl World {
    /// The parts (outside their own calls).
    pub(crate) fn parts(&self) -> &Parts {
        self.parts.as_deref().expect("the parts are home between their calls")
    }

    pub(crate) fn parts_mut(&mut self) -> &mut Parts {
        self.parts.as_deref_mut().expect("the parts are home between their calls")
    }

    /// Runs `f` on the parts with the rest of the world around them (a
    /// part sees the world only as its [`Surroundings`]).
    pub(crate) fn with_parts<R>(&mut self, sched: &mut Scheduler<Event>, f: impl FnOnce(&mut Parts, &mut PartCall) -> R) -> R {
        let mut parts = self.parts.take().expect("a part's call never reaches back into the parts");
        let r = f(&mut parts, &mut PartCall { w: self, sched });
        self.parts = Some(parts);
        r
    }
}

/// The world and its scheduler, as the parts see them during one call.
pub(crate) struct PartCall<'a> {
    w: &'a mut World,
    sched: &'a mut Scheduler<Event>,
}

impl<P> Surroundings<P> for PartCall<'_>
where
    PartEvent: From<P>,
{
    fn now(&self) -> SimTime {
        self.sched.now()
    }

    fn schedule(&mut self, at: SimTime, class: cdnsim_engine::Class, event: P) {
        self.sched.schedule_at(at, class, Event::Part(PartEvent::from(event)));
    }

    fn attach(&mut self, stream: u32, edge: u32) {
        let w = &mut *self.w;
        let cpb = w.chunks_per_block;
        let new = !w.carries.contains_key(&(stream, edge));
        w.carries.entry((stream, edge)).or_insert_with(|| Carry::new(Sub::Planned, cpb)).part_users += 1;
        if new {
            w.request_route(self.sched, stream, edge);
        }
    }

    fn detach(&mut self, stream: u32, edge: u32) {
        if let Some(carry) = self.w.carries.get_mut(&(stream, edge)) {
            carry.part_users -= 1;
        }
        self.w.maybe_release(self.sched, stream, edge);
    }

    fn second(&mut self, now: SimTime, stream: u32) -> &mut Second {
        self.w.second(now, stream)
    }

    fn idc_egress(&mut self, now: SimTime, stream: u32, bytes: u64) {
        self.w.counters.idc_egress_bytes += bytes;
        self.w.second(now, stream).idc_egress_bytes += bytes;
    }

    fn watching(&self, stream: u32) -> u32 {
        self.w.streams[stream as usize].viewers
    }

    fn next_play(&self, viewer: u32) -> u32 {
        self.w.viewers[viewer as usize].next_block.unwrap_or(0)
    }

    fn viewer_receives(&mut self, v: u32, bytes: u64, from_server: bool, decoded: Option<u32>) {
        let (w, now) = (&mut *self.w, self.sched.now());
        let stream = w.viewers[v as usize].stream;
        w.counters.viewer_bytes += bytes;
        if from_server {
            let hops = w.carries.get(&(stream, w.viewers[v as usize].edge)).map_or(0, |k| k.hops);
            let viewer = &mut w.viewers[v as usize];
            viewer.stats.bytes += bytes;
            viewer.stats.hop_bytes += bytes * hops as u64;
            w.second(now, stream).bytes_to_viewers += bytes;
        } else {
            w.viewers[v as usize].stats.home_bytes += bytes;
            w.second(now, stream).bytes_from_homes += bytes;
        }
        if let Some(block) = decoded {
            let (cpb, block_ns) = (w.chunks_per_block, w.sc.stream.block_ns);
            let (_, action) = w.viewers[v as usize].block_complete(now, block, cpb, block_ns);
            w.after_player(self.sched, v, action);
        }
    }
}

/// Weight of a link's known loss against measured traffic in a probing
/// round, in probes: an idle link's score comes from probes alone.
const PROBES_PER_ROUND: f64 = 20.0;

/// One of `items` (index, weight), with probability proportional to its weight.
pub(crate) fn pick(rng: &mut cdnsim_engine::RngStream, items: &[(usize, f64)]) -> usize {
    let total: f64 = items.iter().map(|r| r.1).sum();
    let mut u = rng.random::<f64>() * total;
    for &(r, w) in items {
        if u < w {
            return r;
        }
        u -= w;
    }
    items[items.len() - 1].0
}
