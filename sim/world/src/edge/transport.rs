//! The adapter for the transport network (`cdnsim_routing::transport`):
//! the links' true state (nominal latency, loss and jitter plus the
//! active `[[edge.transport_faults]]`), the probes the route service asks
//! for and their fate, and what its decisions do to the cascade legs
//! between regions. README, "Transport network".
//!
//! Rules the adapter owns:
//! - A probe leaves at once; it is lost if its link is down, else with the
//!   link's loss (nominal and a degradation's, independent); otherwise its
//!   reply comes back after twice the one-way latency (nominal plus a
//!   degradation's) plus two exponential jitter draws of the link's mean
//!   (so the mean absolute difference of successive delays is the jitter).
//!   A reply still in flight when an outage of its link begins is lost.
//!   Draws come from the stream `edge.transport.probes`.
//! - A leg between two regions rides its pair's current path. When an
//!   outage begins on a link of that path, the leg carries nothing from
//!   that instant (or from its opening, for a leg opened on a path that is
//!   already broken) until its pair moves to a working path and that
//!   path's round trip has passed (set-up), or the outage ends first.
//!   Each subscriber below the leg then gets one row in
//!   `reroutes.parquet`.
//! - A pair the route service finds unreachable drops its legs: each
//!   receiving server leaves the stream's tree with its subtree, and
//!   their viewers are cut (`sessions_lost_no_path`).
//! - A degraded path that the service leaves is a reroute too (rows with
//!   cause `degrade`); a voluntary switch to a better path moves the legs
//!   without a row.
//!
//! The state (`TransportNet`, the links' truth, the rows) is in `state`,
//! with the rest of the world's; this file holds the handlers.

use cdnsim_edge::StreamId;
use cdnsim_engine::{Scheduler, SimTime};
use cdnsim_routing::transport::{LinkIx, Output, RegionIx, TPath};
use rand::Rng;

use super::state::*;

fn pair(a: usize, b: usize) -> (u16, u16) {
    (a.min(b) as u16, a.max(b) as u16)
}

impl EdgeWorld<'_> {
    /// The scenario region of a cascade holder (the centre's for the
    /// central room and serverless).
    pub(crate) fn world_region(&self, n: Node) -> usize {
        match self.place_of(n) {
            Some((_, g)) if g < self.edge.regions.len() => self.edge.regions[g].region,
            _ => self.edge.central.region,
        }
    }

    /// With a transport: whether a leg between these scenario regions can
    /// open now (the pair has a path), and its one-way latency.
    pub(crate) fn transport_leg(&self, ra: usize, rb: usize) -> Option<Option<u64>> {
        let t = self.transport.as_ref()?;
        if ra == rb {
            return Some(Some(0));
        }
        Some(t.svc.current(RegionIx(ra as u16), RegionIx(rb as u16)).map(|p| t.path_latency_ns(&p)))
    }

    /// A leg opened: between regions, it rides its pair's path (and
    /// carries nothing yet if that path is broken).
    pub(crate) fn transport_leg_opened(&mut self, now: u64, stream: StreamId, from: Node, to: Node) {
        if self.transport.is_none() {
            return;
        }
        let (ra, rb) = (self.world_region(from), self.world_region(to));
        if ra == rb {
            return;
        }
        let k = pair(ra, rb);
        let t = self.transport.as_mut().expect("checked");
        t.pair_legs.entry(k).or_default().insert((stream, to));
        t.leg_pair.insert((stream, to), k);
        if let Some(p) = t.svc.current(RegionIx(k.0), RegionIx(k.1)) {
            if let Some(l) = t.down_link(&p) {
                let start = t.truth[l as usize].outages.values().copied().min().unwrap_or(now);
                t.broken.insert((stream, to), Broken { since_ns: now, link: l, fault_start_ns: start });
            }
        }
    }

    pub(crate) fn transport_leg_closed(&mut self, stream: StreamId, to: Node) {
        let Some(t) = self.transport.as_mut() else { return };
        if let Some(k) = t.leg_pair.remove(&(stream, to)) {
            if let Some(s) = t.pair_legs.get_mut(&k) {
                s.remove(&(stream, to));
            }
            t.broken.remove(&(stream, to));
        }
    }

    pub(crate) fn arm_transport(&mut self, sched: &mut Scheduler<Ev>, now: u64) {
        let Some(t) = self.transport.as_mut() else { return };
        let Some(at) = t.svc.poll_timeout() else { return };
        let at = at.max(now);
        if t.armed != Some(at) && at <= self.sc.duration_ns {
            t.armed = Some(at);
            sched.schedule_at(SimTime::from_ns(at), TIMER, Ev::TransportTimer);
        }
    }

    pub(crate) fn on_transport_timer(&mut self, sched: &mut Scheduler<Ev>, now: u64) {
        let Some(t) = self.transport.as_mut() else { return };
        if t.armed != Some(now) {
            return;
        }
        t.armed = None;
        t.svc.handle_timeout(now);
        self.after_transport(sched, now);
    }

    pub(crate) fn on_probe_reply(&mut self, sched: &mut Scheduler<Ev>, now: u64, link: u32, seq: u32) {
        let Some(t) = self.transport.as_mut() else { return };
        let Some(sent) = t.sent.remove(&(link, seq)) else { return };
        let tr = &t.truth[link as usize];
        // Lost with its link if an outage began while it was in flight.
        if tr.down > 0 || tr.last_down_ns.is_some_and(|d| d > sent) {
            return;
        }
        t.probe_bytes += t.probe_size;
        t.svc.handle_reply(now, LinkIx(link), seq as u64, now - sent);
        self.after_transport(sched, now);
    }

    /// Acts on the route service's outputs in order, then re-arms it.
    fn after_transport(&mut self, sched: &mut Scheduler<Ev>, now: u64) {
        loop {
            let Some(t) = self.transport.as_mut() else { return };
            let Some(o) = t.svc.poll_output() else { break };
            match o {
                Output::Probe { link, seq } => {
                    t.probe_bytes += t.probe_size;
                    let tr = &t.truth[link.0 as usize];
                    let keep = (1.0 - tr.loss) * (1.0 - tr.extra_loss);
                    let lost_draw = t.rng.random::<f64>();
                    let j1 = cdnsim_maths::sample::exp1(&mut t.rng);
                    let j2 = cdnsim_maths::sample::exp1(&mut t.rng);
                    if tr.down > 0 || lost_draw >= keep {
                        continue;
                    }
                    let rtt = 2 * (tr.latency_ns + tr.extra_latency_ns) + ((j1 + j2) * tr.jitter_ns as f64) as u64;
                    let seq = seq as u32;
                    t.sent.insert((link.0, seq), now);
                    sched.schedule_at(SimTime::from_ns(now + rtt), TIMER, Ev::ProbeReply { link: link.0, seq });
                }
                Output::LinkDown { .. } | Output::LinkUp { .. } | Output::Reachable { .. } => {}
                Output::Switched { a, b, from, to, .. } => self.pair_moved(now, (a.0, b.0), from, to),
                Output::Unreachable { a, b, from } => self.pair_lost(now, (a.0, b.0), from),
            }
        }
        // Pods whose legs or viewers went.
        self.settle(sched, now);
        self.arm_transport(sched, now);
    }

    fn push_row(&mut self, row: RerouteRow) {
        let t = self.transport.as_mut().expect("a transport");
        if t.rows.len() < MAX_REROUTE_ROWS {
            t.rows.push(row);
        } else {
            t.rows_dropped += 1;
        }
    }

    /// Rows for every subscriber below leg (stream, to).
    fn rows_below(&mut self, stream: StreamId, to: Node, proto: RerouteRow) {
        for (_, sub) in self.streams.cascade.subscribers_below(stream, to) {
            let l = self.live[sub as usize];
            if !l.live {
                continue;
            }
            let session = ((l.generation as u64) << 32) | sub as u64;
            self.push_row(RerouteRow { session, ..proto.clone() });
        }
    }

    /// Pair `k` moved from `from` to `to`: its broken legs are restored
    /// after the new path's round trip if it works; legs on a degraded
    /// path are rerouted too.
    fn pair_moved(&mut self, now: u64, k: (u16, u16), from: TPath, to: TPath) {
        let t = self.transport.as_mut().expect("a transport");
        let legs: Vec<(StreamId, Node)> = t.pair_legs.get(&k).map(|s| s.iter().copied().collect()).unwrap_or_default();
        if legs.is_empty() {
            return;
        }
        t.legs_rerouted += legs.len() as u64;
        let works = t.down_link(&to).is_none();
        let restored = now + 2 * t.path_latency_ns(&to);
        let bound = t.bound_ns(&to);
        // A degradation on the path left (the earliest still active).
        let degraded = from
            .links()
            .filter_map(|l| t.truth[l.0 as usize].degrades.values().copied().min().map(|s| (s, l.0)))
            .min();
        for leg in legs {
            let t = self.transport.as_mut().expect("a transport");
            let row = |cause: &'static str, link: u32, fault_start_ns: u64, broken_ns: u64| RerouteRow {
                session: 0,
                stream: leg.0.0,
                region_a: k.0,
                region_b: k.1,
                link: Some(link),
                cause,
                fault_start_ns,
                broken_ns,
                detected_ns: Some(now),
                restored_ns: Some(restored),
                path_before: from,
                path_after: Some(to),
                bound_ns: Some(bound),
                lost: false,
            };
            if let Some(b) = t.broken.get(&leg).copied() {
                if works {
                    t.broken.remove(&leg);
                    self.rows_below(leg.0, leg.1, row("outage", b.link, b.fault_start_ns, b.since_ns));
                }
            } else if let Some((start, link)) = degraded {
                self.rows_below(leg.0, leg.1, row("degrade", link, start, start));
            }
        }
    }

    /// Pair `k` has no usable path: its legs go, with their viewers.
    fn pair_lost(&mut self, now: u64, k: (u16, u16), from: TPath) {
        let t = self.transport.as_mut().expect("a transport");
        let legs: Vec<(StreamId, Node)> = t.pair_legs.get(&k).map(|s| s.iter().copied().collect()).unwrap_or_default();
        for leg in legs {
            let t = self.transport.as_mut().expect("a transport");
            if !t.leg_pair.contains_key(&leg) {
                continue; // gone with an earlier leg's subtree
            }
            let b = t.broken.get(&leg).copied();
            let link = b.map(|b| b.link).or_else(|| t.down_link(&from)).or(from.links().find(|l| !t.svc.is_up(*l)).map(|l| l.0));
            let proto = RerouteRow {
                session: 0,
                stream: leg.0.0,
                region_a: k.0,
                region_b: k.1,
                link,
                cause: "outage",
                fault_start_ns: b.map_or(now, |b| b.fault_start_ns),
                broken_ns: b.map_or(now, |b| b.since_ns),
                detected_ns: Some(now),
                restored_ns: None,
                path_before: from,
                path_after: None,
                bound_ns: None,
                lost: true,
            };
            self.rows_below(leg.0, leg.1, proto);
            let t = self.transport.as_mut().expect("a transport");
            t.legs_lost += 1;
            let cut_before = self.streams.cut_upstream;
            // The receiver leaves the stream's tree with its subtree; every
            // viewer on it is cut upstream (no re-pull: see the module docs).
            self.lose_holder(now, leg.0, leg.1, false);
            let t = self.transport.as_mut().expect("a transport");
            t.sessions_lost += self.streams.cut_upstream - cut_before;
        }
    }

    /// A transport fault begins or ends on its links.
    pub(crate) fn on_transport_fault(&mut self, sched: &mut Scheduler<Ev>, now: u64, index: usize, begins: bool) {
        let f = &self.edge.transport_faults[index];
        let Some(t) = self.transport.as_mut() else { return };
        for &l in &f.links {
            let tr = &mut t.truth[l];
            match (f.outage, begins) {
                (true, true) => {
                    tr.down += 1;
                    tr.last_down_ns = Some(now);
                    tr.outages.insert(index as u16, now);
                }
                (true, false) => {
                    tr.down -= 1;
                    tr.outages.remove(&(index as u16));
                }
                (false, true) => {
                    tr.extra_loss = 1.0 - (1.0 - tr.extra_loss) * (1.0 - f.extra_loss);
                    tr.extra_latency_ns += f.extra_latency_ns;
                    tr.degrades.insert(index as u16, now);
                }
                (false, false) => {
                    tr.extra_loss = 1.0 - (1.0 - tr.extra_loss) / (1.0 - f.extra_loss).max(1e-12);
                    if tr.extra_loss < 1e-12 {
                        tr.extra_loss = 0.0;
                    }
                    tr.extra_latency_ns -= f.extra_latency_ns;
                    tr.degrades.remove(&(index as u16));
                }
            }
        }
        if f.outage {
            let t = self.transport.as_mut().expect("checked");
            // Legs whose pair's path crosses a link of this fault.
            let mut hit: Vec<((StreamId, Node), (u16, u16), TPath)> = Vec::new();
            for (k, legs) in &t.pair_legs {
                let Some(p) = t.svc.current(RegionIx(k.0), RegionIx(k.1)) else { continue };
                if f.links.iter().any(|&l| p.uses(LinkIx(l as u32))) {
                    hit.extend(legs.iter().map(|&leg| (leg, *k, p)));
                }
            }
            for (leg, k, p) in hit {
                let t = self.transport.as_mut().expect("checked");
                if begins {
                    let link = f.links.iter().copied().find(|&l| p.uses(LinkIx(l as u32))).expect("hit") as u32;
                    t.broken.entry(leg).or_insert(Broken { since_ns: now, link, fault_start_ns: now });
                } else if t.down_link(&p).is_none() {
                    // The outage ended before the service moved the pair:
                    // the leg carries again on its old path.
                    if let Some(b) = t.broken.remove(&leg) {
                        let row = RerouteRow {
                            session: 0,
                            stream: leg.0.0,
                            region_a: k.0,
                            region_b: k.1,
                            link: Some(b.link),
                            cause: "outage",
                            fault_start_ns: b.fault_start_ns,
                            broken_ns: b.since_ns,
                            detected_ns: None,
                            restored_ns: Some(now),
                            path_before: p,
                            path_after: Some(p),
                            bound_ns: Some(t.bound_ns(&p)),
                            lost: false,
                        };
                        self.rows_below(leg.0, leg.1, row);
                    }
                }
            }
        }
        self.settle(sched, now);
    }
}
