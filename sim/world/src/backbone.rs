//! The shared backbone under the overlay: every overlay link whose
//! backbone path crosses a corridor segment or interconnect queues in that
//! link's FIFO ([`cdnsim_net::SharedLinks`]), one per direction, so
//! overlay links over one backbone link share its capacity.
//!
//! A chunk on an overlay link first passes the link's own channel (its
//! sender's queue at the path's bottleneck rate, its loss and fault state,
//! as before), then, store-and-forward, each backbone link of the path in
//! order: one [`crate::event::Event::Backbone`] per backbone hop, at the
//! instant the chunk has wholly reached that link (the previous hop's
//! departure plus the propagation between the two inputs). One event per
//! hop rather than one computed pass at sending time: a pass would offer
//! to downstream queues at future instants, ahead of chunks of other
//! overlay links that reach them earlier but are sent later, and a FIFO
//! offered out of time order serves out of order. The last hop's
//! departure plus the rest of the path's propagation (and any fault's
//! extra latency) is the arrival at the far node.
//!
//! Probing sees the queueing: per backbone link direction, the mean wait
//! of probes sent at random instants of the probing round (the time
//! average of its backlog, [`SharedLinks::wait_integral`]), summed over
//! the hops of an overlay link's path ([`BackboneNet::path_wait_ns`]); the
//! world adds it to the link's propagation in what it reports to routing.
//! The same for every overlay link crossing a hop, as for real probe
//! packets, which interleave with the chunks ahead of them (a chunk's own
//! wait would depend on its place in a burst: chunks queue whole).
//!
//! What it does not do yet (README "Not yet"): a
//! chunk lost on the channel (random loss, failed link) does not load the
//! backbone links before the point of loss; FEC repair chunks
//! (`fec.rs`) do not cross the shared links. Control messages take no
//! room: they are given the backlog each hop holds when they are sent
//! ([`BackboneNet::message_wait_ns`]). A chunk dropped at a shared link is resent by the sender's
//! retransmission timer, counted from its sending, outside any FEC code.

use cdnsim_engine::{SimDuration, SimTime};
use cdnsim_net::{ChannelId, Pass, SharedDir, SharedLinks};
use cdnsim_scenario::{BackboneHop, Scenario};

/// What became of a chunk at one backbone hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// On to backbone hop `k` of the same path, reached at `at`.
    Next { k: u8, at: SimTime },
    /// Through the last backbone hop: at the far node at `at` (before any
    /// fault's extra latency, which the caller adds).
    Done { at: SimTime },
    Dropped,
}

pub struct BackboneNet {
    pub links: SharedLinks,
    /// Per overlay channel, its direction's backbone hops.
    hops: Vec<Vec<BackboneHop>>,
    /// Per overlay channel, the path's propagation (the channel's base
    /// latency when the file does not override it).
    latency_ns: Vec<u64>,
    /// Per shared link direction, the wait integral at the start of the
    /// probing round, and the round's mean wait once it ended.
    round_start: Vec<u128>,
    round_wait_ns: Vec<u64>,
    round_at: SimTime,
}

impl BackboneNet {
    pub fn new(sc: &Scenario, seconds: usize, channel_latency_ns: impl Fn(ChannelId) -> u64) -> Self {
        let mut links = SharedLinks::new(sc.backbone_links.iter().map(|l| (l.capacity_bps, l.queue_bytes)), seconds);
        if let Some(b) = &sc.network.background {
            for (i, l) in sc.backbone_links.iter().enumerate() {
                let hourly = if l.interconnect { b.interconnect } else { b.corridor };
                if hourly.iter().any(|&x| x > 0.0) {
                    links.set_background(i as u32, cdnsim_net::DailyShare { start_hour: b.start_hour, hourly });
                }
            }
        }
        let mut hops = Vec::with_capacity(2 * sc.links.len());
        let mut latency_ns = Vec::with_capacity(2 * sc.links.len());
        for (i, l) in sc.links.iter().enumerate() {
            for reverse in [false, true] {
                hops.push(l.backbone_hops(reverse));
                latency_ns.push(channel_latency_ns(ChannelId((2 * i + reverse as usize) as u32)));
            }
        }
        let dirs = 2 * links.len();
        BackboneNet { links, hops, latency_ns, round_start: vec![0; dirs], round_wait_ns: vec![0; dirs], round_at: SimTime::ZERO }
    }

    /// Whether `channel`'s path crosses shared links.
    pub fn crosses(&self, channel: ChannelId) -> bool {
        !self.hops[channel.0 as usize].is_empty()
    }

    /// The propagation of `channel`'s path, without faults' extra latency.
    pub fn base_latency_ns(&self, channel: ChannelId) -> u64 {
        self.latency_ns[channel.0 as usize]
    }

    /// A chunk left `channel`'s own queue at `depart`: when it reaches the
    /// first shared link (only for a channel that [`Self::crosses`]).
    pub fn first(&self, channel: ChannelId, depart: SimTime) -> SimTime {
        depart + SimDuration::from_ns(self.hops[channel.0 as usize][0].offset_ns)
    }

    /// The chunk of `bytes` on `channel` reached its backbone hop `k` now.
    pub fn step(&mut self, channel: ChannelId, k: u8, now: SimTime, bytes: u32) -> Step {
        let hops = &self.hops[channel.0 as usize];
        let h = hops[k as usize];
        let depart = match self.links.offer(SharedDir::new(h.link, h.reverse), now, bytes) {
            Pass::Dropped => return Step::Dropped,
            Pass::Through { depart, .. } => depart,
        };
        match hops.get(k as usize + 1) {
            Some(next) => Step::Next { k: k + 1, at: depart + SimDuration::from_ns(next.offset_ns - h.offset_ns) },
            None => {
                // The rest of the path: the channel's base latency less
                // what the hops before the exit used.
                let rest = self.latency_ns[channel.0 as usize].saturating_sub(h.offset_ns);
                Step::Done { at: depart + SimDuration::from_ns(rest) }
            }
        }
    }

    /// The queueing a message of no size sent on `channel` at `now` is
    /// given on the path's backbone hops: the backlog each hop's
    /// transmitter holds now (busy until some instant), summed over the
    /// hops, as probes sent now would measure hop by hop. The backlog a
    /// hop will hold when the message gets there is not known when it is
    /// sent (chunks of other overlay links reach it meanwhile); under a
    /// steady load it is the same in distribution as the one it holds now.
    /// The message takes no room (it is tiny beside the chunks), so
    /// nothing is offered.
    pub fn message_wait_ns(&self, channel: ChannelId, now: SimTime) -> u64 {
        self.hops[channel.0 as usize]
            .iter()
            .map(|h| self.links.busy_until(SharedDir::new(h.link, h.reverse)).as_ns().saturating_sub(now.as_ns()))
            .sum()
    }

    /// A probing round ends `now`: every shared link direction's mean
    /// probe wait over the round, for [`Self::path_wait_ns`].
    pub fn end_round(&mut self, now: SimTime) {
        let len = now.as_ns().saturating_sub(self.round_at.as_ns()) as u128;
        for d in 0..self.round_start.len() {
            let area = self.links.wait_integral(SharedDir(d as u32), now);
            self.round_wait_ns[d] = if len == 0 { 0 } else { ((area - self.round_start[d]) / len) as u64 };
            self.round_start[d] = area;
        }
        self.round_at = now;
    }

    /// What probes on `channel` waited on its backbone hops in the last
    /// round (the sum of the hops' means; 0 off the backbone).
    pub fn path_wait_ns(&self, channel: ChannelId) -> u64 {
        self.hops[channel.0 as usize].iter().map(|h| self.round_wait_ns[SharedDir::new(h.link, h.reverse).index()]).sum()
    }
}
