//! The adapter for the edge-container RTC cloud (`cdnsim-edge`): it turns
//! the scenario's `[edge]` section into the crate's cluster, pods,
//! autoscalers, planners and serverless pool, drives their timers from the
//! engine, routes each arriving session to a pod (or the serverless tier),
//! and counts what happened for `record`.
//!
//! The state machines decide; this file only carries inputs to them and
//! their outputs (pod events, scale decisions, planner actions) back into
//! events and counters. Where the adapter itself makes a choice (which room
//! and pod a session goes to, which pods a scale-in takes) the rule is
//! written at the function that makes it, and in README ("Edge-container
//! RTC cloud").
//!
//! Module map:
//! - `state`: the events and their order (the class table), the world's
//!   state types; imported by the three below, which do not import each
//!   other's items;
//! - this file: the event handlers (the world's inherent methods) and
//!   `simulate`;
//! - `build`: scenario -> cluster (regions, rooms, pools, machines),
//!   fleets, generators;
//! - `record`: summary columns, `pods`, `machines` and `edge_series` tables;
//! - `transport`: the transport network between regions (probes, faults,
//!   and what the route service's switches do to the legs).

mod build;
mod record;
mod state;
pub(crate) mod transport;

use state::*;

use cdnsim_edge::{
    CustomerId, Leg, MachineId, Metric, NUM_METRICS, NUM_RESOURCES, PlannerAction, Pod, PodEvent, PodId, PodState, PortPool,
    Resources, SessionId, StreamId, Upgrade,
};
use cdnsim_engine::{Model, Scheduler, SimTime, run};
use rand::Rng;
use cdnsim_scenario::{Edge, Scenario};

use crate::run::{RunIdentity, RunResults, WorldError};


/// Runs an `[edge]` scenario to its duration.
pub fn simulate(sc: &Scenario, edge: &Edge, id: &RunIdentity) -> Result<RunResults, WorldError> {
    let mut sched = Scheduler::new(sc.max_pending_events);
    let mut world = build::build(sc, edge, id.seed, &mut sched)
        .map_err(|e| WorldError::Edge { scenario: sc.name.clone(), message: e.to_string() })?;
    let stop = SimTime::from_ns(sc.duration_ns);
    let stats = run(&mut world, &mut sched, stop)
        .map_err(|source| WorldError::Engine { scenario: sc.name.clone(), source })?;
    Ok(record::finish(world, id, stats.events, stop.as_ns()))
}

impl Model for EdgeWorld<'_> {
    type Event = Ev;

    fn handle(&mut self, sched: &mut Scheduler<Ev>, ev: Ev) {
        let now = sched.now().as_ns();
        match ev {
            Ev::Arrival { region } => self.on_arrival(sched, now, region as usize),
            Ev::End { slot, generation } => self.on_end(sched, now, slot, generation),
            Ev::PodTimer { pod } => {
                if self.pods[pod as usize].armed_ns == Some(now) {
                    self.pods[pod as usize].armed_ns = None;
                    let p = &mut self.pods[pod as usize].pod;
                    p.handle_timeout(now);
                    // A timer that stays due after its handling would be
                    // re-armed at the same instant for ever: fail loudly.
                    assert!(p.poll_timeout().is_none_or(|t| t > now), "pod {pod}: still due at {now} ns after its timeout");
                    self.after_pod(sched, now, pod);
                }
            }
            Ev::ServerlessTimer => {
                if self.serverless_armed == Some(now) {
                    self.serverless_armed = None;
                    if let Some(s) = self.serverless.as_mut() {
                        s.handle_timeout(now);
                    }
                    self.arm_serverless(sched, now);
                }
            }
            Ev::Sync => self.on_sync(sched, now),
            Ev::Sample => self.on_sample(sched, now),
            Ev::Hour => self.on_hour(sched, now),
            Ev::Outage { index, begins } => self.on_outage(sched, now, index as usize, begins),
            Ev::Upgrade { index } => self.on_upgrade(sched, now, index as usize),
            Ev::ControlFault { index, begins } => self.on_control_fault(sched, now, index as usize, begins),
            Ev::TransportFault { index, begins } => self.on_transport_fault(sched, now, index as usize, begins),
            Ev::TransportTimer => self.on_transport_timer(sched, now),
            Ev::ProbeReply { link, seq } => self.on_probe_reply(sched, now, link, seq),
            Ev::ControlTimer => {
                if self.control.armed == Some(now) {
                    self.control.armed = None;
                    if let Some(c) = self.control.plane.as_mut() {
                        c.handle_timeout(now);
                    }
                    self.after_control(sched, now);
                }
            }
        }
    }
}

fn session_id(slot: u32, generation: u32) -> SessionId {
    SessionId(((generation as u64) << 32) | slot as u64)
}

fn slot_of(id: SessionId) -> u32 {
    id.0 as u32
}

impl EdgeWorld<'_> {
    // ---- sessions -------------------------------------------------------

    fn on_arrival(&mut self, sched: &mut Scheduler<Ev>, now: u64, region: usize) {
        if let Some(t) = self.arrivals[region].next_arrival(&mut self.arrival_rng[region]) {
            sched.schedule_at(SimTime::from_ns(t), ARRIVE, Ev::Arrival { region: region as u16 });
        }
        self.counters.arrived += 1;
        let rng = &mut self.session_rng[region];
        let u = rng.random::<f64>();
        let service = self.share_cdf.iter().position(|&c| u < c).unwrap_or(self.share_cdf.len() - 1);
        let mut length_ns = self.session_lengths[service].sample(rng);
        let edge = self.edge;
        let role = match &edge.services[service].streams {
            None => Role::Plain,
            Some(st) => {
                if rng.random::<f64>() < st.publisher_share {
                    if let Some(d) = &self.publisher_lengths[service] {
                        length_ns = d.sample(rng);
                    }
                    Role::Publisher
                } else {
                    let (u_scope, u_pick) = (rng.random::<f64>(), rng.random::<f64>());
                    match self.pick_stream(service, region, u_scope < st.same_region_share, u_pick) {
                        Some(stream) => Role::Subscriber { stream },
                        None => {
                            // A viewer with nothing to watch: not a session.
                            self.streams.no_stream += 1;
                            return;
                        }
                    }
                }
            }
        };
        if self.live_count >= MAX_LIVE_SESSIONS {
            self.counters.rejected += 1;
            self.counters.interval_rejected += 1;
            return;
        }
        let (slot, generation) = match self.free_slots.pop() {
            // 31-bit generations keep RELAY_BIT clear in session ids.
            Some(s) => (s, self.live[s as usize].generation.wrapping_add(1) & 0x7fff_ffff),
            None => {
                self.live.push(Live {
                    generation: 0,
                    service: 0,
                    tier: Tier::Room,
                    host: Host::Serverless,
                    role: Role::Plain,
                    start_ns: 0,
                    live: false,
                });
                (self.live.len() as u32 - 1, 0)
            }
        };
        let sid = session_id(slot, generation);
        let need = self.session_needs[service];
        let watch = match role {
            Role::Subscriber { stream } => Some(stream),
            _ => None,
        };
        let mut admitted = self.admit(now, region, service, sid, need, watch);
        if let (Some((host, _, _)), Some(stream)) = (admitted, watch) {
            match self.join_stream(now, stream, host.into(), slot, service) {
                Some(leg_ns) => {
                    if let Some(a) = admitted.as_mut() {
                        a.2 += leg_ns;
                    }
                }
                None => {
                    self.withdraw(now, host, sid);
                    self.streams.rejected_cascade += 1;
                    admitted = None;
                }
            }
        }
        let cut_off = self.control.active_faults > 0;
        let Some((host, tier, wait_ns)) = admitted else {
            if cut_off {
                self.control.while_cut_rejected += 1;
            }
            self.counters.rejected += 1;
            self.counters.interval_rejected += 1;
            self.free_slots.push(slot);
            self.live[slot as usize].generation = generation;
            self.settle(sched, now);
            return;
        };
        let end_ns = now.saturating_add(length_ns);
        self.live[slot as usize] =
            Live { generation, service: service as u16, tier, host, role, start_ns: now, live: true };
        match role {
            Role::Plain => {}
            Role::Publisher => {
                self.streams.publishers += 1;
                self.publish(StreamId(sid.0), host.into(), service, region);
            }
            Role::Subscriber { .. } => self.streams.subscribers += 1,
        }
        if let Host::Pod(p) = host {
            if let Some(n) = self.pods[p as usize].streams_of(role) {
                *n += 1;
            }
        }
        self.live_count += 1;
        self.live_by_tier[tier as usize] += 1;
        self.counters.by_tier[tier as usize] += 1;
        if cut_off {
            self.control.while_cut_tier[tier as usize] += 1;
        }
        self.counters.interval_tier[tier as usize] += 1;
        self.join_us[tier as usize].record((self.join_latency_ns(region, tier) + wait_ns) / 1_000);
        if !matches!(tier, Tier::Serverless) {
            self.edge_rate(now, need.bandwidth_bps as i128);
        }
        sched.schedule_at(SimTime::from_ns(end_ns), END, Ev::End { slot, generation });
        if let Host::Pod(p) = host {
            self.after_pod(sched, now, p);
        } else {
            self.arm_serverless(sched, now);
        }
        self.settle(sched, now);
    }

    /// Where a session goes: the least-utilised up room of its region
    /// (sessions over session slots of its fleet's accepting pods; a room
    /// with no accepting pod last; ties to the lower room), a pod there; else a pod of another room of the region; else
    /// serverless. Within a fleet, the accepting pod at the lowest level
    /// with the fewest sessions (ties to the older pod): sessions stay near
    /// their users and spread over pods, so a scale-in finds light pods.
    /// A subscriber of `watch` prefers, at a level, a pod that already
    /// holds the stream (no new leg); on any other pod it also needs room
    /// for the inbound leg's relay.
    fn admit(&mut self, now: u64, region: usize, service: usize, sid: SessionId, need: Resources, watch: Option<StreamId>) -> Option<(Host, Tier, u64)> {
        let relay = self.relay_needs[service];
        let services = self.edge.services.len();
        // Balancing on free slots instead would feed back: the room that
        // scaled out first attracts the load and the others shrink.
        let mut order: Vec<((u64, u64), usize)> = self.region_rooms[region]
            .iter()
            .filter(|&&r| !self.rooms[r].1)
            .map(|&r| (self.load_of(self.fleet_of[r * services + service] as usize), r))
            .collect();
        order.sort_by(|((sa, ta), ra), ((sb, tb), rb)| {
            let (ka, kb) = ((*ta == 0, *sa as u128 * *tb as u128), (*tb == 0, *sb as u128 * *ta as u128));
            ka.cmp(&kb).then(ra.cmp(rb))
        });
        let mut any_ready = false;
        for (i, &(_, room)) in order.iter().enumerate() {
            let fleet = self.fleet_of[room * services + service] as usize;
            let mut best: Option<(u8, bool, usize, u32)> = None;
            for &p in &self.fleets[fleet].pods {
                let rec = &self.pods[p as usize];
                if !rec.pod.accepting() {
                    continue;
                }
                any_ready = true;
                let free = rec.pod.config().capacity.saturating_sub(rec.pod.used());
                let holds = watch.is_some_and(|s| self.streams.cascade.depth(s, Node::Pod(p)).is_some());
                let here = match (watch, relay) {
                    (Some(_), Some(r)) if !holds => need.checked_add(r).unwrap_or(Resources::new(u64::MAX, 0, 0, 0, 0)),
                    _ => need,
                };
                if here.fits(&free).is_err() {
                    continue;
                }
                let key = (rec.level.rank(), !holds, rec.pod.sessions(), p);
                if best.is_none_or(|b| key < b) {
                    best = Some(key);
                }
            }
            if let Some((rank, _, _, p)) = best {
                if self.pods[p as usize].pod.open_session(now, sid, need).is_ok() {
                    if i > 0 {
                        self.count_spill(any_ready);
                    }
                    let tier = match rank {
                        0 if i == 0 => Tier::Room,
                        0 | 1 => Tier::Region,
                        _ => Tier::Central,
                    };
                    return Some((Host::Pod(p), tier, 0));
                }
            }
        }
        self.count_spill(any_ready);
        let cold = self.cold_start.as_ref()?;
        let s = self.serverless.as_mut()?;
        let rng = &mut self.cold_rng;
        match s.start_session(now, sid, || cold.sample(rng)) {
            Ok(start) => Some((Host::Serverless, Tier::Serverless, start.ready_at_ns - now)),
            Err(_) => None,
        }
    }

    fn count_spill(&mut self, any_ready: bool) {
        if any_ready {
            self.counters.spilled_full += 1;
        } else {
            self.counters.spilled_not_ready += 1;
        }
    }

    // ---- streams and their cascade ----------------------------------------

    /// A live stream of `service` for a subscriber of `region`: uniform
    /// among its own region's (`local`) or all regions', falling back to
    /// the other set when the first is empty.
    fn pick_stream(&self, service: usize, region: usize, local: bool, u: f64) -> Option<StreamId> {
        let lists = &self.streams.by_region[service];
        let own = &lists[region];
        let total: usize = lists.iter().map(Vec::len).sum();
        let pick = |n: usize| ((u * n as f64) as usize).min(n - 1);
        if (local || total == 0) && !own.is_empty() {
            return Some(own[pick(own.len())]);
        }
        if total == 0 {
            return None;
        }
        let mut i = pick(total);
        for l in lists {
            if i < l.len() {
                return Some(l[i]);
            }
            i -= l.len();
        }
        unreachable!("i < total")
    }

    fn publish(&mut self, stream: StreamId, origin: Node, service: usize, region: usize) {
        self.streams.cascade.publish(stream, origin).expect("a session id is live once");
        let list = &mut self.streams.by_region[service][region];
        self.streams.pos.insert(stream, (service as u16, region as u16, list.len() as u32));
        list.push(stream);
    }

    fn unpublish(&mut self, stream: StreamId) {
        let Some((svc, reg, i)) = self.streams.pos.remove(&stream) else { return };
        let list = &mut self.streams.by_region[svc as usize][reg as usize];
        list.swap_remove(i as usize);
        if let Some(&moved) = list.get(i as usize) {
            self.streams.pos.get_mut(&moved).expect("listed").2 = i;
        }
    }

    /// The room and edge region of a holder (serverless: none).
    fn place_of(&self, n: Node) -> Option<(usize, usize)> {
        match n {
            Node::Pod(p) => {
                let room = self.machines[self.pods[p as usize].machine.index()].room;
                Some((room, self.rooms[room].0))
            }
            Node::Serverless => None,
        }
    }

    /// How far holder `from` is from `to`: same room 0, same region 1,
    /// another region 2, serverless 3; `None` if `from` cannot send now
    /// (being deleted, restarting, or in a room that is down).
    fn leg_cost(&self, to: Node, from: Node) -> Option<u32> {
        if let Node::Pod(q) = from {
            let pod = &self.pods[q as usize].pod;
            let (room, _) = self.place_of(from)?;
            if !matches!(pod.state(), PodState::Allocated | PodState::Tombstone) || self.rooms[room].1 {
                return None;
            }
        }
        let cost = match (self.place_of(to), self.place_of(from)) {
            (_, None) => 3,
            (None, Some(_)) => 2,
            (Some((ra, _)), Some((rb, _))) if ra == rb => 0,
            (Some((_, ga)), Some((_, gb))) if ga == gb => 1,
            _ => 2,
        };
        // With a transport network, a pair of regions without a path
        // cannot carry a leg.
        if cost >= 2 && self.transport_leg(self.world_region(from), self.world_region(to)) == Some(None) {
            return None;
        }
        Some(cost)
    }

    /// One-way latency of a leg, added to a subscriber's join when its
    /// server must first pull the stream.
    /// (With a transport network: the current path's latency between
    /// the regions.)
    fn leg_latency_ns(&self, from: Node, to: Node) -> u64 {
        // The central room has no edge region: the centre's.
        let (ra, rb) = (self.world_region(from), self.world_region(to));
        match self.leg_cost(to, from).unwrap_or(2) {
            0 => 0,
            1 => self.sc.network.min_latency_ns,
            _ => match self.transport_leg(ra, rb) {
                Some(Some(ns)) => ns,
                _ => self.sc.region_latency_ns(ra, rb, self.sc.network.route_inflation),
            },
        }
    }

    /// Subscriber `slot` on `node` joins `stream`: through the server it
    /// is on if that holds the stream, else through a new leg from the
    /// nearest holder that can send. The added join latency, or `None`
    /// when no holder could send (the caller withdraws the session).
    fn join_stream(&mut self, now: u64, stream: StreamId, node: Node, slot: u32, service: usize) -> Option<u64> {
        let mut added = 0;
        if self.streams.cascade.depth(stream, node).is_none() {
            let sources = self.streams.cascade.sources(stream, node, |k| self.leg_cost(node, k));
            let from = sources.into_iter().find(|&from| self.open_leg(now, stream, from, node, service, false))?;
            added = self.leg_latency_ns(from, node);
        }
        self.streams.cascade.subscribe(stream, node, slot).expect("the node holds the stream");
        let d = self.streams.cascade.depth(stream, node).expect("holds it");
        self.streams.depth_sum += d as u64;
        self.streams.depth_max = self.streams.depth_max.max(d);
        Some(added)
    }

    /// Opens leg `from -> to` of `stream`: a relay at each pod end and the
    /// cascade's edge (`reattach`: `to` is an orphan keeping its subtree).
    /// False, with nothing changed, when an end refuses the relay.
    fn open_leg(&mut self, now: u64, stream: StreamId, from: Node, to: Node, service: usize, reattach: bool) -> bool {
        let need = self.relay_needs[service].unwrap_or(Resources::ZERO);
        let id = SessionId(RELAY_BIT | self.streams.next_leg);
        if let Node::Pod(q) = from {
            if self.pods[q as usize].pod.open_relay(now, id, need).is_err() {
                return false;
            }
        }
        if let Node::Pod(q) = to {
            if self.pods[q as usize].pod.open_relay(now, id, need).is_err() {
                if let Node::Pod(f) = from {
                    self.pods[f as usize].pod.close_session(now, id);
                    self.dirty.push(f);
                }
                return false;
            }
        }
        let linked = if reattach {
            self.streams.cascade.reattach(stream, to, from)
        } else {
            self.streams.cascade.attach(stream, to, from)
        };
        if linked.is_err() {
            for n in [from, to] {
                if let Node::Pod(q) = n {
                    self.pods[q as usize].pod.close_session(now, id);
                    self.dirty.push(q);
                }
            }
            return false;
        }
        self.streams.next_leg += 1;
        if let Node::Pod(q) = from {
            self.pods[q as usize].pull += 1;
            self.edge_rate(now, need.bandwidth_bps as i128);
        }
        if let Node::Pod(q) = to {
            self.pods[q as usize].push += 1;
        }
        let bandwidth_bps = if matches!(from, Node::Pod(_)) { need.bandwidth_bps } else { 0 };
        self.streams.legs.insert((stream, to), LegRec { id: id.0, from, bandwidth_bps });
        self.streams.leg_of.insert(id.0, (stream, to));
        self.streams.legs_opened += 1;
        self.transport_leg_opened(now, stream, from, to);
        if self.leg_cost(to, from).is_none_or(|c| c >= 2) {
            self.streams.legs_cross_region += 1;
        }
        self.streams.legs_peak = self.streams.legs_peak.max(self.streams.legs.len() as u64);
        true
    }

    /// Closes leg `leg` of `stream` at both ends (an end already cut
    /// closes nothing). The cascade has already dropped it.
    fn close_leg(&mut self, now: u64, stream: StreamId, leg: Leg<Node>) {
        let Some(rec) = self.streams.legs.remove(&(stream, leg.to)) else { return };
        self.streams.leg_of.remove(&rec.id);
        self.transport_leg_closed(stream, leg.to);
        debug_assert_eq!(rec.from, leg.from);
        for (n, out) in [(leg.from, true), (leg.to, false)] {
            if let Node::Pod(q) = n {
                let r = &mut self.pods[q as usize];
                if out { r.pull -= 1 } else { r.push -= 1 }
                r.pod.close_session(now, SessionId(rec.id));
                self.dirty.push(q);
            }
        }
        if rec.bandwidth_bps > 0 {
            self.edge_rate(now, -(rec.bandwidth_bps as i128));
        }
    }

    /// Session `slot` leaves its stream (it ended, or was cut on dying pod
    /// `cut_on`). A subscriber's leaving trims idle legs; a publisher's
    /// ends the stream: its viewers end with it, or are cut upstream if it
    /// was cut (those on `cut_on` itself are cut by their own pod).
    fn leave_stream(&mut self, now: u64, slot: u32, cut_on: Option<u32>) {
        let l = self.live[slot as usize];
        match l.role {
            Role::Plain => {}
            Role::Subscriber { stream } => {
                for leg in self.streams.cascade.unsubscribe(stream, l.host.into(), slot) {
                    self.close_leg(now, stream, leg);
                }
            }
            Role::Publisher => {
                let stream = StreamId(session_id(slot, l.generation).0);
                self.unpublish(stream);
                let d = self.streams.cascade.end(stream);
                for leg in d.legs {
                    self.close_leg(now, stream, leg);
                }
                for (n, sub) in d.subscribers {
                    if cut_on.is_some_and(|p| n == Node::Pod(p)) || !self.live[sub as usize].live {
                        continue;
                    }
                    if cut_on.is_some() {
                        self.cut_upstream(now, sub);
                    } else {
                        self.streams.ended_with_stream += 1;
                        self.finish_session(now, sub);
                    }
                }
            }
        }
    }

    /// Session `slot` ended, by its user or with its stream: not cut.
    fn finish_session(&mut self, now: u64, slot: u32) {
        self.counters.ended += 1;
        self.close_where(now, slot);
    }

    /// A viewer whose stream was lost upstream: cut.
    fn cut_upstream(&mut self, now: u64, slot: u32) {
        self.streams.cut_upstream += 1;
        self.close_where(now, slot);
    }

    /// Frees viewer `slot` and closes it on its host (the cascade has
    /// already let it go).
    fn close_where(&mut self, now: u64, slot: u32) {
        let l = self.live[slot as usize];
        let sid = session_id(slot, l.generation);
        self.free_session(now, slot);
        match l.host {
            Host::Pod(p) => {
                self.pods[p as usize].pod.close_session(now, sid);
                self.dirty.push(p);
            }
            Host::Serverless => {
                self.end_on_serverless(now, sid, l);
                self.serverless_dirty = true;
            }
        }
    }

    /// Holder `node` of `stream` went away: its legs close, its orphans
    /// pull from the nearest holder that can send (keeping their subtree)
    /// or, if none can (or not `repull`), lose the stream with their
    /// viewers.
    fn lose_holder(&mut self, now: u64, stream: StreamId, node: Node, repull: bool) {
        let Some(r) = self.streams.cascade.remove_holder(stream, node) else { return };
        let service = self.streams.pos.get(&stream).map_or(0, |&(s, _, _)| s as usize);
        for leg in r.inbound.into_iter().chain(r.pruned) {
            self.close_leg(now, stream, leg);
        }
        // Its outbound legs: closed here, the orphans re-attached below.
        for &o in &r.orphans {
            self.close_leg(now, stream, Leg { from: node, to: o });
        }
        for sub in r.subscribers {
            if self.live[sub as usize].live {
                self.cut_upstream(now, sub);
            }
        }
        for o in r.orphans {
            let sources = if repull { self.streams.cascade.sources(stream, o, |k| self.leg_cost(o, k)) } else { Vec::new() };
            if sources.into_iter().any(|from| self.open_leg(now, stream, from, o, service, true)) {
                self.streams.legs_repulled += 1;
                continue;
            }
            let d = self.streams.cascade.drop_orphan(stream, o);
            for leg in d.legs {
                self.close_leg(now, stream, leg);
            }
            for (_, sub) in d.subscribers {
                if self.live[sub as usize].live {
                    self.cut_upstream(now, sub);
                }
            }
            // The orphan itself had no inbound leg left; what it sent was
            // closed with its subtree.
        }
    }

    /// Takes back a session opened in this instant whose stream could not
    /// reach it.
    fn withdraw(&mut self, now: u64, host: Host, sid: SessionId) {
        match host {
            Host::Pod(p) => {
                self.pods[p as usize].pod.withdraw_session(sid);
                self.dirty.push(p);
            }
            Host::Serverless => {
                if let Some(s) = self.serverless.as_mut() {
                    s.end_session(now, sid, 0);
                }
                self.serverless_dirty = true;
            }
        }
    }

    /// (sessions, session slots) on a fleet's accepting pods.
    fn load_of(&self, fleet: usize) -> (u64, u64) {
        let mut out = (0, 0);
        for p in self.fleets[fleet].pods.iter().map(|&p| &self.pods[p as usize].pod).filter(|p| p.accepting()) {
            out.0 += p.sessions() as u64;
            out.1 += p.config().max_sessions as u64;
        }
        out
    }

    /// Join latency before any start-up wait: the access network, plus a
    /// metro hop for another room of the region, plus the distance to the
    /// centre for central machines and serverless.
    fn join_latency_ns(&self, region: usize, tier: Tier) -> u64 {
        let access = self.edge.access_latency_ns;
        let user = self.edge.regions[region].region;
        let centre = self.edge.central.region;
        let inflation = self.sc.network.route_inflation;
        match tier {
            Tier::Room => access,
            Tier::Region => access + self.sc.network.min_latency_ns,
            Tier::Central | Tier::Serverless => access + self.sc.region_latency_ns(user, centre, inflation),
        }
    }

    fn on_end(&mut self, sched: &mut Scheduler<Ev>, now: u64, slot: u32, generation: u32) {
        let l = self.live[slot as usize];
        if !l.live || l.generation != generation {
            return;
        }
        // Its stream's cascade is trimmed (or, for a publisher, ended with
        // its viewers) before the session itself closes.
        self.leave_stream(now, slot, None);
        self.finish_session(now, slot);
        self.settle(sched, now);
    }

    fn end_on_serverless(&mut self, now: u64, sid: SessionId, l: Live) {
        let bytes = (now - l.start_ns) as u128 * self.session_needs[l.service as usize].bandwidth_bps as u128 / 8_000_000_000;
        self.serverless_bytes += bytes;
        if let Some(s) = self.serverless.as_mut() {
            s.end_session(now, sid, bytes as u64);
        }
    }

    /// The session in `slot` is over (ended or cut): its slot is free, its
    /// time counted.
    fn free_session(&mut self, now: u64, slot: u32) {
        let l = &mut self.live[slot as usize];
        debug_assert!(l.live);
        l.live = false;
        let (tier, start, service, host, role) = (l.tier, l.start_ns, l.service, l.host, l.role);
        if let Host::Pod(p) = host {
            if let Some(n) = self.pods[p as usize].streams_of(role) {
                *n -= 1;
            }
        }
        self.counters.session_ns[tier as usize] += (now - start) as u128;
        self.live_count -= 1;
        self.live_by_tier[tier as usize] -= 1;
        if tier != Tier::Serverless {
            self.edge_rate(now, -(self.session_needs[service as usize].bandwidth_bps as i128));
        }
        self.free_slots.push(slot);
    }

    /// The edge's egress rate changes by `delta_bps` at `now`; what it sent
    /// since the last change goes into the 95th-percentile meter.
    fn edge_rate(&mut self, now: u64, delta_bps: i128) {
        self.flush_meter(now);
        self.edge_bps = (self.edge_bps as i128 + delta_bps) as u128;
    }

    fn flush_meter(&mut self, now: u64) {
        self.edge_bit_ns += self.edge_bps * (now - self.edge_last_ns) as u128;
        self.edge_last_ns = now;
        let bytes = self.edge_bit_ns / 8_000_000_000;
        if bytes > 0 {
            self.edge_bit_ns -= bytes * 8_000_000_000;
            self.meter.add(now, bytes as u64);
        }
    }

    // ---- pods -----------------------------------------------------------

    /// Carries out what pod `p` reported, then arms its timer.
    fn after_pod(&mut self, sched: &mut Scheduler<Ev>, now: u64, p: u32) {
        while let Some(e) = self.pods[p as usize].pod.poll_event() {
            // Every change of a pod's state is an update of its object,
            // and of its service's EndpointSlice when it joins or leaves it.
            if !matches!(e, PodEvent::SessionCut { .. }) {
                self.pod_object_changed();
                let serving = matches!(e, PodEvent::Ready { .. } | PodEvent::Revived { .. } | PodEvent::Upgraded { .. });
                let leaving = matches!(e, PodEvent::Tombstoned { .. } | PodEvent::WaitingDeletion { .. });
                let (listed, machine) = (self.pods[p as usize].in_endpoints, self.pods[p as usize].machine);
                if (serving && !listed) || (leaving && listed) {
                    self.pods[p as usize].in_endpoints = serving;
                    let pool = self.pool_of_room(self.machines[machine.index()].room);
                    if let Some(lw) = self.control.listwatch.as_mut() {
                        lw.pool_update(pool);
                    }
                }
            }
            match e {
                PodEvent::Ready { at_ns } => self.pods[p as usize].ready_ns = Some(at_ns),
                PodEvent::Tombstoned { at_ns, .. } => self.pods[p as usize].tombstone_ns = Some(at_ns),
                PodEvent::Revived { .. } => {
                    self.pods[p as usize].tombstone_ns = None;
                    self.counters.pods_revived += 1;
                }
                PodEvent::SessionCut { session, .. } if session.0 & RELAY_BIT != 0 => {
                    // The pod lost everything: it is no longer a holder of
                    // the leg's stream (its viewers were cut just before).
                    if let Some(&(stream, _)) = self.streams.leg_of.get(&session.0) {
                        self.lose_holder(now, stream, Node::Pod(p), true);
                    }
                }
                PodEvent::SessionCut { session, cause, .. } => {
                    use cdnsim_edge::CutCause;
                    let slot = slot_of(session);
                    // A viewer of a stream whose publisher was cut first
                    // is already gone (counted as cut upstream).
                    if self.live[slot as usize].live {
                        match cause {
                            CutCause::Eviction => self.counters.cut_eviction += 1,
                            CutCause::NaiveScaleIn => self.counters.cut_naive += 1,
                            CutCause::Recreate => self.counters.cut_recreate += 1,
                            CutCause::Failure => self.counters.cut_failure += 1,
                            CutCause::ControlPlane => self.control.cut += 1,
                        }
                        self.leave_stream(now, slot, Some(p));
                        self.free_session(now, slot);
                    }
                }
                PodEvent::WaitingDeletion { .. } => self.delete_pod(now, p),
                PodEvent::Upgraded { .. } => {}
            }
        }
        let rec = &mut self.pods[p as usize];
        match rec.pod.poll_timeout() {
            Some(t) if rec.deleted_ns.is_none() => {
                // Due now (a zero timeout) is allowed: the event runs later
                // in this instant, after this one.
                assert!(t >= now, "pod {p}: timer at {t} ns is before now, {now} ns");
                if rec.armed_ns != Some(t) {
                    rec.armed_ns = Some(t);
                    sched.schedule_at(SimTime::from_ns(t), TIMER, Ev::PodTimer { pod: p });
                }
            }
            _ => rec.armed_ns = None,
        }
        self.settle(sched, now);
    }

    /// Drains the events of pods touched by cascade changes.
    /// A call from within (every `after_pod` ends with one) returns at
    /// once: the outer loop pops the next pod at the same point the nested
    /// call would have, so the order is that of the recursion it replaces,
    /// without its depth (one frame per dirty pod: thousands when a
    /// transport pair loses its legs).
    fn settle(&mut self, sched: &mut Scheduler<Ev>, now: u64) {
        if self.settling {
            return;
        }
        self.settling = true;
        while let Some(q) = self.dirty.pop() {
            self.after_pod(sched, now, q);
        }
        if std::mem::take(&mut self.serverless_dirty) {
            self.arm_serverless(sched, now);
        }
        self.settling = false;
    }

    fn delete_pod(&mut self, now: u64, p: u32) {
        let rec = &mut self.pods[p as usize];
        if rec.deleted_ns.is_some() {
            return;
        }
        rec.deleted_ns = Some(now);
        let (fleet, machine, port) = (rec.fleet as usize, rec.machine, rec.pod.port());
        if let Some(a) = rec.alloc.take() {
            self.cluster.release(a).expect("a live pod's allocation");
        }
        self.machines[machine.index()].ports.release(port);
        self.fleets[fleet].pods.retain(|&x| x != p);
        let n = self.serving(fleet);
        self.fleets[fleet].autoscaler.set_current(n);
        self.maybe_release_machine(now, machine);
    }

    /// Pods of a fleet that count as serving capacity for its autoscaler.
    fn serving(&self, fleet: usize) -> u32 {
        self.fleets[fleet]
            .pods
            .iter()
            .filter(|&&p| matches!(self.pods[p as usize].pod.state(), PodState::Initialising | PodState::Allocated))
            .count() as u32
    }

    /// A new pod for `fleet`, placed along its chain; false if no pool took it.
    fn create_pod(&mut self, sched: &mut Scheduler<Ev>, now: u64, fleet: usize) -> bool {
        let service = self.fleets[fleet].service;
        let need = self.pod_requests[service];
        let out = self.cluster.place_chain(&self.fleets[fleet].chain, &need, CustomerId(service as u32));
        let Some(pl) = out.placed else {
            self.fleets[fleet].placement_failures += 1;
            return false;
        };
        let m = &mut self.machines[pl.machine.index()];
        let Some(port) = m.ports.allocate() else {
            // The cluster's host-port dimension and the port pool agree;
            // reaching here means the pod asked for no port.
            self.cluster.release(pl.alloc).expect("just placed");
            self.fleets[fleet].placement_failures += 1;
            return false;
        };
        let image = m.images & (1 << service) != 0;
        m.images |= 1 << service;
        let startup = if image { &self.startup_prewarmed } else { &self.startup_pulled }.sample(&mut self.startup_rng);
        let level = self.cluster.pool_info(pl.pool).expect("placed on it").level;
        let id = self.pods.len() as u32;
        let cfg = cdnsim_edge::PodConfig {
            capacity: need,
            max_sessions: self.edge.services[service].max_sessions_per_pod,
            scale_in: match self.edge.scale_in {
                cdnsim_scenario::EdgeScaleIn::Tombstone { timeout_ns } => cdnsim_edge::ScaleIn::Tombstone { timeout_ns },
                cdnsim_scenario::EdgeScaleIn::Naive => cdnsim_edge::ScaleIn::Naive,
            },
        };
        let pod = Pod::new(PodId(id), cfg, port, now, startup).expect("validated pod config");
        self.pods.push(PodRec {
            pod,
            fleet: fleet as u32,
            alloc: Some(pl.alloc),
            machine: pl.machine,
            level,
            created_ns: now,
            ready_ns: None,
            tombstone_ns: None,
            deleted_ns: None,
            sessions_at_scale_in: 0,
            armed_ns: None,
            push: 0,
            pull: 0,
            ghost: false,
            in_endpoints: false,
        });
        self.pod_object_changed();
        self.fleets[fleet].pods.push(id);
        self.counters.pods_created += 1;
        self.after_pod(sched, now, id);
        true
    }

    /// Scale `fleet` to `to` serving pods: revive tombstone pods first
    /// (fullest first: they hold the most sessions worth keeping), then
    /// start new ones; or scale in, taking pods at the highest level first
    /// (central capacity is the dearest and farthest), then the emptiest,
    /// then the newest.
    fn scale_to(&mut self, sched: &mut Scheduler<Ev>, now: u64, fleet: usize, to: u32) {
        let mut have = self.serving(fleet);
        if to > have {
            let mut tomb: Vec<(std::cmp::Reverse<usize>, u32)> = self.fleets[fleet]
                .pods
                .iter()
                .filter(|&&p| self.pods[p as usize].pod.state() == PodState::Tombstone)
                .filter(|&&p| !self.machines[self.pods[p as usize].machine.index()].draining)
                .map(|&p| (std::cmp::Reverse(self.pods[p as usize].pod.sessions()), p))
                .collect();
            tomb.sort();
            for (_, p) in tomb {
                if have >= to {
                    break;
                }
                self.pods[p as usize].pod.revive(now).expect("a tombstone pod revives");
                self.after_pod(sched, now, p);
                have += 1;
            }
            while have < to {
                if !self.create_pod(sched, now, fleet) {
                    break;
                }
                have += 1;
            }
        } else if to < have {
            let mut cand: Vec<(std::cmp::Reverse<u8>, u8, usize, std::cmp::Reverse<u32>)> = self.fleets[fleet]
                .pods
                .iter()
                .map(|&p| (p, &self.pods[p as usize]))
                .filter(|(_, r)| matches!(r.pod.state(), PodState::Initialising | PodState::Allocated))
                .map(|(p, r)| {
                    let init = u8::from(r.pod.state() != PodState::Initialising);
                    (std::cmp::Reverse(r.level.rank()), init, r.pod.sessions(), std::cmp::Reverse(p))
                })
                .collect();
            cand.sort();
            for &(_, _, _, std::cmp::Reverse(p)) in cand.iter().take((have - to) as usize) {
                self.scale_in(sched, now, p);
            }
        }
        let n = self.serving(fleet);
        self.fleets[fleet].autoscaler.set_current(n);
    }

    fn scale_in(&mut self, sched: &mut Scheduler<Ev>, now: u64, p: u32) {
        let rec = &mut self.pods[p as usize];
        rec.sessions_at_scale_in += rec.pod.sessions() as u64;
        rec.pod.scale_in(now).expect("a serving pod scales in");
        self.counters.pods_scaled_in += 1;
        self.after_pod(sched, now, p);
    }

    fn on_sync(&mut self, sched: &mut Scheduler<Ev>, now: u64) {
        for f in 0..self.fleets.len() {
            // The autoscaler runs in the centre: no decision while it cannot
            // manage the fleet's room; it resumes at the first sync after.
            if !self.manages(self.fleets[f].room) {
                self.control.syncs_blocked += 1;
                continue;
            }
            if self.control.repaired_ns.is_some() && self.control.resumed_ns.is_none() {
                self.control.resumed_ns = Some(now);
            }
            let mut totals = [0.0; NUM_METRICS];
            let plain = self.edge.services[self.fleets[f].service].streams.is_none();
            for &p in &self.fleets[f].pods {
                let rec = &self.pods[p as usize];
                let pod = &rec.pod;
                if pod.state() != PodState::Allocated {
                    continue;
                }
                let u = pod.used();
                totals[Metric::Bandwidth as usize] += u.bandwidth_bps as f64;
                totals[Metric::Pps as usize] += u.pps as f64;
                totals[Metric::Sessions as usize] += pod.sessions() as f64;
                // A plain session is a publisher with its viewers on one server.
                totals[Metric::PushStreams as usize] += if plain { pod.sessions() as f64 } else { rec.push as f64 };
                totals[Metric::PullStreams as usize] += rec.pull as f64;
                totals[Metric::Cpu as usize] += u.cpu_millis as f64;
                totals[Metric::Memory as usize] += u.memory_bytes as f64;
            }
            let a = &mut self.fleets[f].autoscaler;
            a.observe(totals);
            a.handle_timeout(now);
            let mut last = None;
            while let Some(d) = a.poll_decision() {
                last = Some(d.to);
            }
            if let Some(to) = last {
                self.counters.scale_decisions += 1;
                self.scale_to(sched, now, f, to);
            } else {
                // Pods lost to outages or failed placements leave the
                // fleet short of what the autoscaler believes it has.
                let want = self.fleets[f].autoscaler.current();
                if self.serving(f) < want {
                    self.scale_to(sched, now, f, want);
                }
            }
        }
        sched.schedule_in(cdnsim_engine::SimDuration::from_ns(self.edge.autoscale.sync_period_ns), CONTROL, Ev::Sync);
    }

    fn arm_serverless(&mut self, sched: &mut Scheduler<Ev>, now: u64) {
        let Some(t) = self.serverless.as_ref().and_then(|s| s.poll_timeout()) else { return };
        let t = t.max(now);
        if self.serverless_armed.is_none_or(|a| t < a) {
            self.serverless_armed = Some(t);
            sched.schedule_at(SimTime::from_ns(t), TIMER, Ev::ServerlessTimer);
        }
    }

    // ---- machines -------------------------------------------------------

    fn maybe_release_machine(&mut self, now: u64, m: MachineId) {
        let rec = &self.machines[m.index()];
        if !rec.draining || rec.released_ns.is_some() {
            return;
        }
        if self.cluster.machine_info(m).is_some_and(|i| i.allocations == 0) {
            self.cluster.release_machine(m).expect("a cordoned, empty machine");
            self.machines[m.index()].released_ns = Some(now);
            self.pool_node_changed(self.machines[m.index()].room, false);
            if let Some(pl) = self.planners.iter_mut().find(|p| p.pool == self.machines[m.index()].pool) {
                pl.planner.released(1);
                pl.released += 1;
            }
        }
    }

    pub(crate) fn add_machine(&mut self, now: u64, room: usize, pool: cdnsim_edge::PoolId) -> MachineId {
        let m = self
            .cluster
            .add_machine(cdnsim_edge::RoomId(room as u32), build::resources(&self.edge.machine), pool)
            .expect("a known room and pool");
        let images = build::draw_images(self.edge, &mut self.startup_rng);
        self.machines.push(MachineRec {
            room,
            pool,
            ports: PortPool::new(build::PORT_BASE, self.edge.machine.host_ports as u16).expect("validated ports"),
            images,
            added_ns: now,
            released_ns: None,
            draining: false,
        });
        if self.rooms[room].1 {
            self.cluster.cordon(m).expect("just added");
        }
        self.pool_node_changed(room, true);
        m
    }

    fn on_hour(&mut self, sched: &mut Scheduler<Ev>, now: u64) {
        for i in 0..self.planners.len() {
            let managed = self.manages(self.planners[i].room);
            let pl = &mut self.planners[i];
            let demand = if pl.hour_samples > 0 { pl.hour_sum / pl.hour_samples as f64 } else { 0.0 };
            pl.hour_sum = 0.0;
            pl.hour_samples = 0;
            // The room's demand is measured at the edge and reaches the
            // forecaster later; buying, taking machines in and releasing
            // them wait for the centre (the planner catches up).
            pl.planner.record_hour(demand);
            if !managed {
                self.control.plans_blocked += 1;
                continue;
            }
            pl.planner.handle_timeout(now);
            let mut actions = Vec::new();
            while let Some(a) = pl.planner.poll_action() {
                actions.push(a);
            }
            let (pool, room) = (pl.pool, pl.room);
            for a in actions {
                match a {
                    PlannerAction::Buy { count, .. } => self.planners[i].bought += count as u64,
                    PlannerAction::Ready { count } => {
                        for _ in 0..count {
                            self.add_machine(now, room, pool);
                        }
                    }
                    PlannerAction::Release { count } => {
                        for m in self.cluster.drain_candidates(pool, count as usize) {
                            self.cluster.cordon(m).expect("a live machine");
                            self.machines[m.index()].draining = true;
                            let on: Vec<u32> = (0..self.pods.len() as u32)
                                .filter(|&p| {
                                    let r = &self.pods[p as usize];
                                    r.machine == m
                                        && r.deleted_ns.is_none()
                                        && matches!(r.pod.state(), PodState::Initialising | PodState::Allocated)
                                })
                                .collect();
                            for p in on {
                                self.scale_in(sched, now, p);
                                let f = self.pods[p as usize].fleet as usize;
                                let n = self.serving(f);
                                self.fleets[f].autoscaler.set_current(n);
                            }
                            self.maybe_release_machine(now, m);
                        }
                    }
                }
            }
        }
        sched.schedule_in(cdnsim_engine::SimDuration::from_ns(cdnsim_edge::NS_PER_HOUR), CONTROL, Ev::Hour);
    }

    /// A planner's demand: machines' worth of allocation in its pool (the
    /// largest ratio over the resources of allocated to one machine).
    fn planner_demand(&self, pool: cdnsim_edge::PoolId) -> f64 {
        let info = self.cluster.pool_info(pool).expect("a planner's pool");
        let m = build::resources(&self.edge.machine).to_array();
        let a = info.allocated.to_array();
        (0..NUM_RESOURCES).filter(|&d| m[d] > 0).map(|d| a[d] as f64 / m[d] as f64).fold(0.0, f64::max)
    }

    fn on_sample(&mut self, sched: &mut Scheduler<Ev>, now: u64) {
        self.flush_meter(now);
        for i in 0..self.planners.len() {
            let d = self.planner_demand(self.planners[i].pool);
            self.planners[i].hour_sum += d;
            self.planners[i].hour_samples += 1;
        }
        record::sample(self, now);
        let next = now + self.edge.sample_interval_ns;
        if next <= self.sc.duration_ns {
            sched.schedule_at(SimTime::from_ns(next), CONTROL, Ev::Sample);
        }
    }

    // ---- faults and operations -------------------------------------------

    fn pod_object_changed(&mut self) {
        if let Some(lw) = self.control.listwatch.as_mut() {
            lw.node_update();
        }
    }

    /// A room's node pool for list-watch: its edge region, or the centre's.
    pub(crate) fn pool_of_room(&self, room: usize) -> usize {
        self.rooms[room].0.min(self.edge.regions.len())
    }

    /// A machine of `room` joined (`added`) or left its node pool.
    fn pool_node_changed(&mut self, room: usize, added: bool) {
        let pool = self.pool_of_room(room);
        if let Some(lw) = self.control.listwatch.as_mut() {
            let n = lw.nodes(pool);
            lw.set_nodes(pool, if added { n + 1 } else { n - 1 });
        }
    }

    /// True when the control plane can manage `room` now (always, when the
    /// scenario models no control plane).
    fn manages(&self, room: usize) -> bool {
        self.control.plane.as_ref().is_none_or(|c| c.manages(cdnsim_edge::RoomId(room as u32)))
    }

    /// Machine `m` takes placements only if its room is up, the centre
    /// manages it, and the planner is not draining it.
    fn apply_cordon(&mut self, m: MachineId) {
        let rec = &self.machines[m.index()];
        if rec.released_ns.is_some() {
            return;
        }
        let room = rec.room;
        if self.rooms[room].1 || rec.draining || !self.manages(room) {
            self.cluster.cordon(m).expect("a live machine");
        } else {
            self.cluster.uncordon(m).expect("a live machine");
        }
    }

    fn on_control_fault(&mut self, sched: &mut Scheduler<Ev>, now: u64, index: usize, begins: bool) {
        let f = &self.edge.control_faults[index];
        let Some(plane) = self.control.plane.as_mut() else { return };
        let step = |n: &mut u32| if begins { *n += 1 } else { *n -= 1 };
        step(&mut self.control.active_faults);
        match f.link {
            None => {
                step(&mut self.control.centre_cuts);
                plane.set_centre(now, self.control.centre_cuts == 0);
            }
            Some((region, room)) => {
                let rooms: Vec<usize> = match room {
                    Some(k) => vec![self.region_rooms[region][k as usize]],
                    None => self.region_rooms[region].clone(),
                };
                for r in rooms {
                    step(&mut self.control.link_cuts[r]);
                    let up = self.control.link_cuts[r] == 0;
                    plane.set_link(now, cdnsim_edge::RoomId(r as u32), up).expect("a room of the plane");
                }
            }
        }
        if !begins {
            self.control.repaired_ns = Some(now);
            self.control.resumed_ns = None;
        }
        // Whom the centre manages changed: placements follow.
        for m in 0..self.machines.len() as u32 {
            self.apply_cordon(MachineId(m));
        }
        self.after_control(sched, now);
    }

    /// Carries out what the control plane decided, then arms its timer.
    fn after_control(&mut self, sched: &mut Scheduler<Ev>, now: u64) {
        use cdnsim_edge::{ControlEvent, CutCause};
        while let Some(e) = self.control.plane.as_mut().and_then(|c| c.poll_event()) {
            match e {
                ControlEvent::NotReady { .. } => self.control.not_ready += 1,
                ControlEvent::Ready { .. } => {}
                ControlEvent::Evicted { room, .. } => {
                    // The centre deletes the room's pods; the room, cut
                    // off, keeps serving their sessions until it learns.
                    let on = self.pods_in_room(room.index());
                    for p in on {
                        let rec = &mut self.pods[p as usize];
                        rec.ghost = true;
                        let f = rec.fleet as usize;
                        self.control.pods_evicted += 1;
                        self.control.sessions_on_evicted += rec.pod.sessions() as u64;
                        self.fleets[f].pods.retain(|&x| x != p);
                        let n = self.serving(f);
                        self.fleets[f].autoscaler.set_current(n);
                    }
                }
                ControlEvent::Learnt { room, .. } => {
                    let ghosts: Vec<u32> = self.pods_in_room(room.index()).into_iter().filter(|&p| self.pods[p as usize].ghost).collect();
                    for p in ghosts {
                        self.pods[p as usize].pod.remove(now, CutCause::ControlPlane);
                        self.after_pod(sched, now, p);
                    }
                }
            }
        }
        let Some(t) = self.control.plane.as_ref().and_then(|c| c.poll_timeout()) else { return };
        let t = t.max(now);
        if self.control.armed.is_none_or(|a| t < a) {
            self.control.armed = Some(t);
            sched.schedule_at(SimTime::from_ns(t), TIMER, Ev::ControlTimer);
        }
    }

    /// Pods on the machines of `room` not yet deleted, in id order.
    fn pods_in_room(&self, room: usize) -> Vec<u32> {
        (0..self.pods.len() as u32)
            .filter(|&p| {
                let r = &self.pods[p as usize];
                r.deleted_ns.is_none() && self.machines[r.machine.index()].room == room
            })
            .collect()
    }

    fn on_outage(&mut self, sched: &mut Scheduler<Ev>, now: u64, index: usize, begins: bool) {
        let o = &self.edge.room_outages[index];
        let room = self.region_rooms[o.region][o.room as usize];
        self.rooms[room].1 = begins;
        let ms: Vec<MachineId> = (0..self.machines.len() as u32)
            .map(MachineId)
            .filter(|m| self.machines[m.index()].room == room && self.machines[m.index()].released_ns.is_none())
            .collect();
        for &m in &ms {
            self.apply_cordon(m);
        }
        if begins {
            let on: Vec<u32> = (0..self.pods.len() as u32)
                .filter(|&p| {
                    let r = &self.pods[p as usize];
                    r.deleted_ns.is_none() && self.machines[r.machine.index()].room == room
                })
                .collect();
            for p in on {
                self.pods[p as usize].pod.fail(now);
                self.after_pod(sched, now, p);
            }
        }
    }

    fn on_upgrade(&mut self, sched: &mut Scheduler<Ev>, now: u64, index: usize) {
        let u = &self.edge.upgrades[index];
        let (service, in_place) = (u.service, u.in_place);
        let all: Vec<u32> = (0..self.pods.len() as u32)
            .filter(|&p| {
                let r = &self.pods[p as usize];
                self.fleets[r.fleet as usize].service == service
                    && !r.ghost
                    && matches!(r.pod.state(), PodState::Allocated | PodState::Tombstone)
            })
            .collect();
        // An upgrade is the centre's operation: pods it cannot reach keep
        // their image.
        let (targets, blocked): (Vec<u32>, Vec<u32>) =
            all.into_iter().partition(|&p| self.manages(self.machines[self.pods[p as usize].machine.index()].room));
        self.control.upgrades_blocked += blocked.len() as u64;
        for p in targets {
            let m = self.pods[p as usize].machine;
            let how = if in_place {
                self.counters.kept_in_place += self.pods[p as usize].pod.sessions() as u64;
                Upgrade::InPlace { restart_ns: self.startup_prewarmed.sample(&mut self.startup_rng) }
            } else {
                // A recreated pod gets a new port: the old one is given
                // back only after the new one is taken, so they differ.
                let Some(new_port) = self.machines[m.index()].ports.allocate() else { continue };
                let old = self.pods[p as usize].pod.port();
                self.machines[m.index()].ports.release(old);
                Upgrade::Recreate { startup_ns: self.startup_prewarmed.sample(&mut self.startup_rng), new_port }
            };
            self.pods[p as usize].pod.upgrade(now, how).expect("an allocated or tombstone pod upgrades");
            // A recreated pod leaves its EndpointSlice until it is ready again.
            if !in_place && self.pods[p as usize].in_endpoints {
                self.pods[p as usize].in_endpoints = false;
                let pool = self.pool_of_room(self.machines[m.index()].room);
                if let Some(lw) = self.control.listwatch.as_mut() {
                    lw.pool_update(pool);
                }
            }
            self.after_pod(sched, now, p);
        }
    }
}

/// An upper estimate of an edge run's peak memory: live sessions at the
/// peak (Little's law on the highest hourly rate times the largest
/// simultaneous flash boost, plus six standard deviations), a pod per
/// session slot, a cascade leg and holder per session of a service with
/// streams, machines, and the sampled tables.
pub fn memory_estimate_bytes(sc: &Scenario, e: &Edge) -> u64 {
    let mut sessions = 0.0;
    for (r, reg) in e.regions.iter().enumerate() {
        let peak = reg.hourly_arrivals_per_s.iter().cloned().fold(0.0, f64::max);
        let boost = e.peak_boost(r);
        let mean_s: f64 = e.services.iter().map(|s| s.share * s.mean_session_ns() / 1e9).sum();
        sessions += peak * boost * mean_s;
    }
    let sessions = sessions + 6.0 * sessions.sqrt() + 1.0;
    // A leg: two map entries and two relays; a holder: its entry and sets.
    let cascade = if e.services.iter().any(|s| s.streams.is_some()) { 4 * 64 + 2 * 48 + 160 } else { 0 };
    let per_session = (std::mem::size_of::<Live>() + 64 + 48 + cascade) as f64;
    let min_per_pod = e.services.iter().map(|s| s.max_sessions_per_pod).min().unwrap_or(1).max(1) as f64;
    let pods = sessions / min_per_pod * 4.0;
    let per_pod = (std::mem::size_of::<PodRec>() + 256) as f64;
    let machines: u64 = e
        .regions
        .iter()
        .map(|r| r.rooms as u64 * r.machines_per_room as u64 + r.region_machines as u64)
        .sum::<u64>()
        + e.central.machines as u64
        + e.planner.as_ref().map_or(0, |p| p.max_machines as u64 * e.regions.iter().map(|r| r.rooms as u64).sum::<u64>());
    let samples = sc.duration_ns / e.sample_interval_ns.max(1) + 1;
    let per_machine_row = 8 * 9 + 64;
    (sessions * per_session + pods * per_pod) as u64
        + machines * (512 + samples * per_machine_row)
        + samples * 512
        + sc.max_pending_events as u64 * 48
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod cascade_tests;
#[cfg(test)]
mod control_tests;
