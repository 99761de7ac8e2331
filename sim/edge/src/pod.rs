//! A media-server pod, with the talk's business state machine
//! (docs/references.md, Edge-container design):
//!
//! ```text
//!   new ──(start-up time)──> Allocated ──scale_in──> Tombstone ──(last session ends)──> WaitingDeletion
//!   (Initialising)              ^                       │  └──(timeout: evict the rest)──> WaitingDeletion
//!                               └───────revive──────────┘
//! ```
//!
//! - **Initialising**: the container starts (image pre-warmed on the node
//!   or pulled: the caller draws the start-up time from the distribution
//!   that applies and passes it in). No sessions.
//! - **Allocated**: takes sessions up to its capacity.
//! - **Tombstone**: takes no new sessions and waits for its sessions to end
//!   of themselves; at the timeout the rest are evicted, each eviction a
//!   cut session. [`Pod::revive`] sends it back to Allocated (the caller
//!   does so when load rises again: a tombstone pod is cheaper to reuse
//!   than a new one is to start).
//! - **WaitingDeletion**: empty; the caller deletes it (releases its
//!   allocation on the cluster). Terminal.
//!
//! With [`ScaleIn::Naive`], scale-in deletes at once: every session is cut.
//!
//! Upgrades: in place (image changed, pod kept: sessions and host port
//! kept, new sessions refused while the engine container restarts) or
//! recreate (sessions cut, a new host port, start-up again).
//!
//! Relays: a server-to-server leg of a stream's cascade
//! ([`crate::cascade`]) uses the pod's capacity at each end
//! ([`Pod::open_relay`]) but no session slot. A tombstone pod keeps its
//! relays like its sessions, may still send a stream it holds to a new
//! relay (refusing would strand the viewers downstream of it), and evicts
//! what is left at the timeout: relays after sessions, each reported as a
//! cut with the relay's id.
//!
//! Run-loop contract: after any call, drain [`Pod::poll_event`]; call
//! [`Pod::handle_timeout`] at [`Pod::poll_timeout`] (or later; time must
//! not go back). Sessions ending on their own are reported by the caller
//! with [`Pod::close_session`].

use std::collections::{BTreeMap, VecDeque};

use rand::RngCore;

use crate::error::{EdgeError, invalid};
use crate::ids::{PodId, SessionId};
use crate::resources::{Resource, Resources};
use crate::workload::DurationDist;

/// Bound on sessions per pod.
pub const MAX_SESSIONS_PER_POD: u32 = 65_536;
/// Bound on undrained events of one pod: one call emits at most one
/// event per session plus two, so a caller that drains after every call
/// never reaches it; past it events are dropped and counted.
pub const MAX_POD_EVENTS: usize = MAX_SESSIONS_PER_POD as usize + MAX_RELAYS_PER_POD + 64;
/// Bound on relays per pod.
pub const MAX_RELAYS_PER_POD: usize = 65_536;

/// The pod's business state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodState {
    /// Starting; ready at the given time.
    Initialising,
    /// Serving.
    Allocated,
    /// Draining: no new sessions, evicts the rest at the deadline.
    Tombstone,
    /// Empty, to be deleted.
    WaitingDeletion,
}

impl PodState {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            PodState::Initialising => "initialising",
            PodState::Allocated => "allocated",
            PodState::Tombstone => "tombstone",
            PodState::WaitingDeletion => "waiting-deletion",
        }
    }
}

/// How a pod leaves on scale-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleIn {
    /// Through the tombstone state, evicting what is left after
    /// `timeout_ns`.
    Tombstone {
        /// Drain timeout, ns.
        timeout_ns: u64,
    },
    /// Delete at once: every session is cut.
    Naive,
}

/// An upgrade operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upgrade {
    /// In place: sessions and port kept; no new sessions for `restart_ns`
    /// (short when the image is pre-warmed).
    InPlace {
        /// Container restart time, ns.
        restart_ns: u64,
    },
    /// Delete and create: sessions cut, the new port given, start-up again.
    Recreate {
        /// Start-up time of the new pod, ns.
        startup_ns: u64,
        /// Its host port.
        new_port: u16,
    },
}

/// Why a session was cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CutCause {
    /// Evicted at the tombstone timeout.
    Eviction,
    /// Naive scale-in.
    NaiveScaleIn,
    /// A recreate upgrade.
    Recreate,
    /// The pod's machine went down (a room outage).
    Failure,
    /// The control plane deleted the pod (evicted while its node was cut
    /// off) and the node learnt it when its link came back.
    ControlPlane,
}

/// What a pod reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodEvent {
    /// Start-up done: Allocated.
    Ready {
        /// When.
        at_ns: u64,
    },
    /// Entered Tombstone with this many sessions.
    Tombstoned {
        /// When.
        at_ns: u64,
        /// Sessions present.
        sessions: u32,
    },
    /// Back from Tombstone to Allocated.
    Revived {
        /// When.
        at_ns: u64,
    },
    /// A session cut by the platform (not ended by its user).
    SessionCut {
        /// When.
        at_ns: u64,
        /// The session.
        session: SessionId,
        /// Why.
        cause: CutCause,
    },
    /// Empty, to be deleted.
    WaitingDeletion {
        /// When.
        at_ns: u64,
    },
    /// An in-place upgrade finished.
    Upgraded {
        /// When.
        at_ns: u64,
    },
}

/// Why a pod did not take a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionRefusal {
    /// Starting or restarting.
    NotReady,
    /// In Tombstone or WaitingDeletion.
    Draining,
    /// At its session limit.
    MaxSessions,
    /// At [`MAX_RELAYS_PER_POD`].
    MaxRelays,
    /// Short of this resource.
    NoFit(Resource),
    /// The session id is already open here (a caller bug; nothing is
    /// counted twice).
    Duplicate,
}

/// A pod's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodConfig {
    /// What the pod can serve (its share of the machine).
    pub capacity: Resources,
    /// Session limit (at most [`MAX_SESSIONS_PER_POD`]).
    pub max_sessions: u32,
    /// Scale-in behaviour.
    pub scale_in: ScaleIn,
}

impl PodConfig {
    /// Checks the limits.
    pub fn validate(&self) -> Result<(), EdgeError> {
        if self.max_sessions == 0 || self.max_sessions > MAX_SESSIONS_PER_POD {
            return Err(invalid("pod", "max_sessions", "1 to 65536", self.max_sessions));
        }
        if self.capacity.is_zero() {
            return Err(EdgeError::ZeroCapacity { model: "pod", field: "capacity", found: self.capacity });
        }
        Ok(())
    }
}

/// Counters of one pod.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodStats {
    /// Sessions accepted.
    pub served: u64,
    /// Sessions ended by their users.
    pub ended: u64,
    /// Sessions cut at a tombstone timeout.
    pub cut_eviction: u64,
    /// Sessions cut by a naive scale-in.
    pub cut_naive: u64,
    /// Sessions cut by a recreate upgrade.
    pub cut_recreate: u64,
    /// Sessions cut because the machine failed.
    pub cut_failure: u64,
    /// Sessions cut because the control plane deleted the pod.
    pub cut_control: u64,
    /// Sessions that lived through an in-place restart.
    pub kept_in_place: u64,
    /// State changes.
    pub transitions: u64,
    /// Times revived from Tombstone.
    pub revivals: u64,
    /// Relays opened (cascade legs, either end).
    pub relays_served: u64,
    /// Relays cut (any cause).
    pub relays_cut: u64,
    /// Events dropped because the caller did not drain them.
    pub events_dropped: u64,
}

/// A media-server pod. See the module docs.
#[derive(Clone, Debug)]
pub struct Pod {
    id: PodId,
    cfg: PodConfig,
    state: PodState,
    port: u16,
    ready_at_ns: Option<u64>,
    tombstone_deadline_ns: Option<u64>,
    restart_until_ns: Option<u64>,
    sessions: BTreeMap<SessionId, Resources>,
    relays: BTreeMap<SessionId, Resources>,
    used: Resources,
    events: VecDeque<PodEvent>,
    stats: PodStats,
}

impl Pod {
    /// A pod starting at `now_ns`, ready after `startup_ns` (drawn by the
    /// caller: pre-warmed or pulled image), on host port `port`.
    pub fn new(id: PodId, cfg: PodConfig, port: u16, now_ns: u64, startup_ns: u64) -> Result<Self, EdgeError> {
        cfg.validate()?;
        Ok(Pod {
            id,
            cfg,
            state: PodState::Initialising,
            port,
            ready_at_ns: Some(now_ns.saturating_add(startup_ns)),
            tombstone_deadline_ns: None,
            restart_until_ns: None,
            sessions: BTreeMap::new(),
            relays: BTreeMap::new(),
            used: Resources::ZERO,
            events: VecDeque::new(),
            stats: PodStats::default(),
        })
    }

    /// Its id.
    pub fn id(&self) -> PodId {
        self.id
    }
    /// Its state.
    pub fn state(&self) -> PodState {
        self.state
    }
    /// Its host port.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Open sessions.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }
    /// Open relays (cascade legs into or out of this pod).
    pub fn relays(&self) -> usize {
        self.relays.len()
    }
    /// True when it holds neither sessions nor relays.
    fn empty(&self) -> bool {
        self.sessions.is_empty() && self.relays.is_empty()
    }
    /// Resources the open sessions and relays use.
    pub fn used(&self) -> Resources {
        self.used
    }
    /// Its settings.
    pub fn config(&self) -> &PodConfig {
        &self.cfg
    }
    /// Counters.
    pub fn stats(&self) -> &PodStats {
        &self.stats
    }
    /// Sessions cut so far, all causes.
    pub fn cut(&self) -> u64 {
        self.stats.cut_eviction + self.stats.cut_naive + self.stats.cut_recreate + self.stats.cut_failure + self.stats.cut_control
    }

    /// True when [`open_session`](Self::open_session) could succeed for
    /// some session (Allocated, not restarting, below the limit).
    pub fn accepting(&self) -> bool {
        self.state == PodState::Allocated
            && self.restart_until_ns.is_none()
            && (self.sessions.len() as u32) < self.cfg.max_sessions
    }

    /// The next time [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<u64> {
        [self.ready_at_ns, self.tombstone_deadline_ns, self.restart_until_ns].into_iter().flatten().min()
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<PodEvent> {
        self.events.pop_front()
    }

    fn emit(&mut self, e: PodEvent) {
        if self.events.len() < MAX_POD_EVENTS {
            self.events.push_back(e);
        } else {
            self.stats.events_dropped += 1;
        }
    }

    fn set_state(&mut self, s: PodState) {
        self.state = s;
        self.stats.transitions += 1;
    }

    /// Advances to `now_ns`: start-up completes, an in-place restart ends,
    /// a tombstone times out (the rest evicted).
    pub fn handle_timeout(&mut self, now_ns: u64) {
        if let Some(t) = self.ready_at_ns.filter(|&t| t <= now_ns) {
            self.ready_at_ns = None;
            self.set_state(PodState::Allocated);
            self.emit(PodEvent::Ready { at_ns: t });
        }
        if let Some(t) = self.restart_until_ns.filter(|&t| t <= now_ns) {
            self.restart_until_ns = None;
            self.emit(PodEvent::Upgraded { at_ns: t });
        }
        if let Some(t) = self.tombstone_deadline_ns.filter(|&t| t <= now_ns) {
            self.tombstone_deadline_ns = None;
            self.cut_all(t, CutCause::Eviction);
            self.set_state(PodState::WaitingDeletion);
            self.emit(PodEvent::WaitingDeletion { at_ns: t });
        }
    }

    /// Cuts sessions first, then relays: a caller that handles a relay's
    /// cut finds the pod's own viewers already gone.
    fn cut_all(&mut self, at_ns: u64, cause: CutCause) {
        let n = self.sessions.len() as u64;
        let cut = std::mem::take(&mut self.sessions);
        let relays = std::mem::take(&mut self.relays);
        for &session in cut.keys().chain(relays.keys()) {
            self.emit(PodEvent::SessionCut { at_ns, session, cause });
        }
        self.stats.relays_cut += relays.len() as u64;
        self.used = Resources::ZERO;
        match cause {
            CutCause::Eviction => self.stats.cut_eviction += n,
            CutCause::NaiveScaleIn => self.stats.cut_naive += n,
            CutCause::Recreate => self.stats.cut_recreate += n,
            CutCause::Failure => self.stats.cut_failure += n,
            CutCause::ControlPlane => self.stats.cut_control += n,
        }
    }

    /// Opens `session` using `need` of the pod's capacity.
    pub fn open_session(&mut self, _now_ns: u64, session: SessionId, need: Resources) -> Result<(), SessionRefusal> {
        match self.state {
            PodState::Initialising => return Err(SessionRefusal::NotReady),
            PodState::Tombstone | PodState::WaitingDeletion => return Err(SessionRefusal::Draining),
            PodState::Allocated => {}
        }
        if self.restart_until_ns.is_some() {
            return Err(SessionRefusal::NotReady);
        }
        if self.sessions.len() as u32 >= self.cfg.max_sessions {
            return Err(SessionRefusal::MaxSessions);
        }
        self.take(session, need)?;
        self.sessions.insert(session, need);
        self.stats.served += 1;
        Ok(())
    }

    fn take(&mut self, id: SessionId, need: Resources) -> Result<(), SessionRefusal> {
        if self.sessions.contains_key(&id) || self.relays.contains_key(&id) {
            return Err(SessionRefusal::Duplicate);
        }
        let used = self.used.checked_add(need).ok_or(SessionRefusal::NoFit(Resource::Cpu))?;
        used.fits(&self.cfg.capacity).map_err(SessionRefusal::NoFit)?;
        self.used = used;
        Ok(())
    }

    /// Opens relay `relay` (one end of a cascade leg) using `need`: in
    /// Allocated, or in Tombstone (see the module docs); never while
    /// starting or restarting. It takes no session slot. Closed with
    /// [`close_session`](Self::close_session).
    pub fn open_relay(&mut self, _now_ns: u64, relay: SessionId, need: Resources) -> Result<(), SessionRefusal> {
        match self.state {
            PodState::Initialising => return Err(SessionRefusal::NotReady),
            PodState::WaitingDeletion => return Err(SessionRefusal::Draining),
            PodState::Allocated | PodState::Tombstone => {}
        }
        if self.restart_until_ns.is_some() {
            return Err(SessionRefusal::NotReady);
        }
        if self.relays.len() >= MAX_RELAYS_PER_POD {
            return Err(SessionRefusal::MaxRelays);
        }
        self.take(relay, need)?;
        self.relays.insert(relay, need);
        self.stats.relays_served += 1;
        Ok(())
    }

    /// `session` ended by its user. Returns false if it was not open here
    /// (already cut, or never opened). A tombstone pod whose last session
    /// ends goes to WaitingDeletion at once.
    pub fn close_session(&mut self, now_ns: u64, session: SessionId) -> bool {
        if let Some(need) = self.sessions.remove(&session) {
            self.used = self.used.saturating_sub(need);
            self.stats.ended += 1;
        } else if let Some(need) = self.relays.remove(&session) {
            self.used = self.used.saturating_sub(need);
        } else {
            return false;
        }
        if self.state == PodState::Tombstone && self.empty() {
            self.tombstone_deadline_ns = None;
            self.set_state(PodState::WaitingDeletion);
            self.emit(PodEvent::WaitingDeletion { at_ns: now_ns });
        }
        true
    }

    /// Takes back `session`, opened in this instant, that the caller could
    /// not complete (e.g. its stream could not reach the pod): as if it
    /// had never been opened, so it counts neither served nor ended.
    /// False if it is not open here.
    pub fn withdraw_session(&mut self, session: SessionId) -> bool {
        let Some(need) = self.sessions.remove(&session) else { return false };
        self.used = self.used.saturating_sub(need);
        self.stats.served -= 1;
        true
    }

    /// Scale this pod in, as its config says. Allowed from Allocated (and
    /// Initialising, which has no sessions).
    pub fn scale_in(&mut self, now_ns: u64) -> Result<(), EdgeError> {
        if !matches!(self.state, PodState::Allocated | PodState::Initialising) {
            return Err(EdgeError::PodState { pod: self.id, operation: "scale_in", state: self.state.name() });
        }
        self.ready_at_ns = None;
        self.restart_until_ns = None;
        match self.cfg.scale_in {
            ScaleIn::Tombstone { timeout_ns } if !self.empty() => {
                self.set_state(PodState::Tombstone);
                self.tombstone_deadline_ns = Some(now_ns.saturating_add(timeout_ns));
                self.emit(PodEvent::Tombstoned { at_ns: now_ns, sessions: self.sessions.len() as u32 });
            }
            ScaleIn::Tombstone { .. } => {
                self.set_state(PodState::WaitingDeletion);
                self.emit(PodEvent::WaitingDeletion { at_ns: now_ns });
            }
            ScaleIn::Naive => {
                self.cut_all(now_ns, CutCause::NaiveScaleIn);
                self.set_state(PodState::WaitingDeletion);
                self.emit(PodEvent::WaitingDeletion { at_ns: now_ns });
            }
        }
        Ok(())
    }

    /// The pod's machine failed: every session is cut and the pod goes to
    /// WaitingDeletion from any state (a second call does nothing).
    pub fn fail(&mut self, now_ns: u64) {
        self.remove(now_ns, CutCause::Failure);
    }

    /// The pod is gone at once for `cause` (a failure, or the control
    /// plane's deletion): every session and relay cut, WaitingDeletion
    /// from any state (a second call does nothing).
    pub fn remove(&mut self, now_ns: u64, cause: CutCause) {
        if self.state == PodState::WaitingDeletion {
            return;
        }
        self.ready_at_ns = None;
        self.restart_until_ns = None;
        self.tombstone_deadline_ns = None;
        self.cut_all(now_ns, cause);
        self.set_state(PodState::WaitingDeletion);
        self.emit(PodEvent::WaitingDeletion { at_ns: now_ns });
    }

    /// Back from Tombstone to Allocated: load rose while it drained.
    pub fn revive(&mut self, now_ns: u64) -> Result<(), EdgeError> {
        if self.state != PodState::Tombstone {
            return Err(EdgeError::PodState { pod: self.id, operation: "revive", state: self.state.name() });
        }
        self.tombstone_deadline_ns = None;
        self.set_state(PodState::Allocated);
        self.stats.revivals += 1;
        self.emit(PodEvent::Revived { at_ns: now_ns });
        Ok(())
    }

    /// Upgrades the pod (Allocated or Tombstone). Returns true when the
    /// host port was kept.
    pub fn upgrade(&mut self, now_ns: u64, how: Upgrade) -> Result<bool, EdgeError> {
        if !matches!(self.state, PodState::Allocated | PodState::Tombstone) {
            return Err(EdgeError::PodState { pod: self.id, operation: "upgrade", state: self.state.name() });
        }
        match how {
            Upgrade::InPlace { restart_ns } => {
                self.stats.kept_in_place += self.sessions.len() as u64;
                self.restart_until_ns = Some(now_ns.saturating_add(restart_ns));
                Ok(true)
            }
            Upgrade::Recreate { startup_ns, new_port } => {
                self.cut_all(now_ns, CutCause::Recreate);
                self.tombstone_deadline_ns = None;
                self.restart_until_ns = None;
                self.port = new_port;
                self.set_state(PodState::Initialising);
                self.ready_at_ns = Some(now_ns.saturating_add(startup_ns));
                // A recreated pod holds a new port allocation even if the
                // number happens to repeat: clients must re-resolve.
                Ok(false)
            }
        }
    }
}

/// Pod start-up time distributions: the image already on the node
/// (pre-warmed, the talk's choice: OpenKruise image pre-warming ahead of
/// each release stage) or pulled from a registry.
#[derive(Clone, Debug, PartialEq)]
pub struct StartupTimes {
    /// Start-up with the image on the node.
    pub prewarmed: DurationDist,
    /// Start-up with an image pull.
    pub pulled: DurationDist,
}

impl StartupTimes {
    /// One start-up time, ns, from the distribution that applies.
    pub fn sample(&self, image_on_node: bool, rng: &mut impl RngCore) -> u64 {
        if image_on_node { self.prewarmed.sample(rng) } else { self.pulled.sample(rng) }
    }
}

/// Host ports of one machine: with host networking, pods on a node need
/// distinct ports; the talk's port-manager DaemonSet hands them out at pod
/// start. Lowest free port first, so a run is reproducible.
#[derive(Clone, Debug)]
pub struct PortPool {
    base: u16,
    used: Vec<bool>,
    in_use: usize,
}

impl PortPool {
    /// Ports `base .. base + count`.
    pub fn new(base: u16, count: u16) -> Result<Self, EdgeError> {
        if count == 0 || base as u32 + count as u32 > 65_536 {
            return Err(invalid("pod", "ports", "a non-empty range within 0..65536", format!("{base}+{count}")));
        }
        Ok(PortPool { base, used: vec![false; count as usize], in_use: 0 })
    }

    /// The lowest free port.
    pub fn allocate(&mut self) -> Option<u16> {
        let i = self.used.iter().position(|u| !u)?;
        self.used[i] = true;
        self.in_use += 1;
        Some(self.base + i as u16)
    }

    /// Frees `port`; false if it was not in use.
    pub fn release(&mut self, port: u16) -> bool {
        let Some(i) = port.checked_sub(self.base).map(usize::from).filter(|&i| i < self.used.len()) else { return false };
        if !self.used[i] {
            return false;
        }
        self.used[i] = false;
        self.in_use -= 1;
        true
    }

    /// Ports in use.
    pub fn in_use(&self) -> usize {
        self.in_use
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(scale_in: ScaleIn) -> PodConfig {
        PodConfig { capacity: Resources::new(1000, 0, 1000, 0, 0), max_sessions: 3, scale_in }
    }
    fn s(i: u64) -> SessionId {
        SessionId(i)
    }
    const ONE: Resources = Resources::new(100, 0, 100, 0, 0);

    fn events(p: &mut Pod) -> Vec<PodEvent> {
        std::iter::from_fn(|| p.poll_event()).collect()
    }

    #[test]
    fn relays_use_capacity_not_slots_and_a_tombstone_drains_them_too() {
        let mut p = Pod::new(PodId(1), cfg(ScaleIn::Tombstone { timeout_ns: 100 }), 40000, 0, 0).unwrap();
        assert_eq!(p.open_relay(0, s(50), ONE), Err(SessionRefusal::NotReady));
        p.handle_timeout(0);
        for i in 0..3 {
            p.open_session(1, s(i), ONE).unwrap();
        }
        // Slots are full; a relay still fits the capacity (300 of 1000).
        for r in 50..57 {
            p.open_relay(1, s(r), ONE).unwrap();
        }
        assert_eq!(p.open_relay(1, s(57), ONE), Err(SessionRefusal::NoFit(Resource::Cpu)));
        assert_eq!(p.open_relay(1, s(1), ONE), Err(SessionRefusal::Duplicate));
        assert_eq!((p.sessions(), p.relays()), (3, 7));
        p.scale_in(10).unwrap();
        // A tombstone pod may still send a stream it holds...
        assert!(p.close_session(11, s(56)));
        p.open_relay(12, s(58), ONE).unwrap();
        // ...and waits for its relays as for its sessions.
        for i in 0..3 {
            p.close_session(20, s(i));
        }
        assert_eq!(p.state(), PodState::Tombstone, "relays still open");
        p.handle_timeout(110);
        let cut: Vec<SessionId> = events(&mut p)
            .into_iter()
            .filter_map(|e| match e {
                PodEvent::SessionCut { session, cause: CutCause::Eviction, .. } => Some(session),
                _ => None,
            })
            .collect();
        assert_eq!(cut, (50..56).chain([58]).map(s).collect::<Vec<_>>());
        assert_eq!((p.stats().cut_eviction, p.stats().relays_cut, p.cut()), (0, 7, 0), "relays are not viewers");
        assert_eq!(p.used(), Resources::ZERO);
    }

    #[test]
    fn a_tombstone_pod_whose_last_relay_closes_is_deleted() {
        let mut p = Pod::new(PodId(1), cfg(ScaleIn::Tombstone { timeout_ns: 100 }), 40000, 0, 0).unwrap();
        p.handle_timeout(0);
        p.open_relay(1, s(9), ONE).unwrap();
        p.scale_in(2).unwrap();
        assert_eq!(p.state(), PodState::Tombstone);
        assert!(p.close_session(3, s(9)));
        assert_eq!(p.state(), PodState::WaitingDeletion);
    }

    #[test]
    fn lifecycle_with_tombstone() {
        let mut p = Pod::new(PodId(1), cfg(ScaleIn::Tombstone { timeout_ns: 100 }), 40000, 0, 50).unwrap();
        assert_eq!(p.open_session(10, s(1), ONE), Err(SessionRefusal::NotReady));
        assert_eq!(p.poll_timeout(), Some(50));
        p.handle_timeout(50);
        assert_eq!(events(&mut p), vec![PodEvent::Ready { at_ns: 50 }]);
        for i in 0..3 {
            p.open_session(60, s(i), ONE).unwrap();
        }
        assert_eq!(p.open_session(60, s(9), ONE), Err(SessionRefusal::MaxSessions));
        p.scale_in(200).unwrap();
        assert_eq!(p.state(), PodState::Tombstone);
        assert_eq!(p.open_session(201, s(9), ONE), Err(SessionRefusal::Draining));
        assert_eq!(p.poll_timeout(), Some(300));
        assert!(p.close_session(250, s(0)));
        p.handle_timeout(300);
        let ev = events(&mut p);
        assert_eq!(ev[0], PodEvent::Tombstoned { at_ns: 200, sessions: 3 });
        assert_eq!(ev[1], PodEvent::SessionCut { at_ns: 300, session: s(1), cause: CutCause::Eviction });
        assert_eq!(ev[3], PodEvent::WaitingDeletion { at_ns: 300 });
        assert_eq!(p.state(), PodState::WaitingDeletion);
        assert_eq!((p.stats().cut_eviction, p.stats().ended), (2, 1));
        assert!(p.scale_in(301).is_err());
    }

    #[test]
    fn tombstone_empties_early_and_revives() {
        let mut p = Pod::new(PodId(1), cfg(ScaleIn::Tombstone { timeout_ns: 100 }), 1, 0, 0).unwrap();
        p.handle_timeout(0);
        p.open_session(0, s(1), ONE).unwrap();
        p.scale_in(10).unwrap();
        p.revive(20).unwrap();
        assert_eq!(p.state(), PodState::Allocated);
        assert_eq!(p.poll_timeout(), None);
        p.open_session(21, s(2), ONE).unwrap();
        p.scale_in(30).unwrap();
        p.close_session(40, s(1));
        assert_eq!(p.state(), PodState::Tombstone);
        p.close_session(41, s(2));
        assert_eq!(p.state(), PodState::WaitingDeletion);
        assert_eq!(p.cut(), 0);
    }

    #[test]
    fn naive_cuts_everything() {
        let mut p = Pod::new(PodId(1), cfg(ScaleIn::Naive), 1, 0, 0).unwrap();
        p.handle_timeout(0);
        p.open_session(0, s(1), ONE).unwrap();
        p.open_session(0, s(2), ONE).unwrap();
        p.scale_in(5).unwrap();
        assert_eq!(p.stats().cut_naive, 2);
        assert_eq!(p.state(), PodState::WaitingDeletion);
    }

    #[test]
    fn upgrades() {
        let mut p = Pod::new(PodId(1), cfg(ScaleIn::Naive), 40000, 0, 0).unwrap();
        p.handle_timeout(0);
        p.open_session(0, s(1), ONE).unwrap();
        assert!(p.upgrade(10, Upgrade::InPlace { restart_ns: 5 }).unwrap());
        assert_eq!(p.open_session(12, s(2), ONE), Err(SessionRefusal::NotReady));
        p.handle_timeout(15);
        assert_eq!(p.sessions(), 1);
        assert_eq!(p.port(), 40000);
        p.open_session(16, s(2), ONE).unwrap();
        assert!(!p.upgrade(20, Upgrade::Recreate { startup_ns: 30, new_port: 40001 }).unwrap());
        assert_eq!((p.sessions(), p.port(), p.state()), (0, 40001, PodState::Initialising));
        assert_eq!(p.stats().cut_recreate, 2);
        assert_eq!(p.stats().kept_in_place, 1);
    }

    #[test]
    fn session_resources_are_checked() {
        let mut c = cfg(ScaleIn::Naive);
        c.max_sessions = 100;
        let mut p = Pod::new(PodId(1), c, 1, 0, 0).unwrap();
        p.handle_timeout(0);
        for i in 0..10 {
            p.open_session(0, s(i), ONE).unwrap();
        }
        assert_eq!(p.open_session(0, s(11), ONE), Err(SessionRefusal::NoFit(Resource::Cpu)));
        assert_eq!(p.open_session(0, s(1), ONE), Err(SessionRefusal::Duplicate));
        assert_eq!(p.stats().served, 10);
    }

    #[test]
    fn ports() {
        let mut pp = PortPool::new(40000, 2).unwrap();
        assert_eq!(pp.allocate(), Some(40000));
        assert_eq!(pp.allocate(), Some(40001));
        assert_eq!(pp.allocate(), None);
        assert!(pp.release(40000));
        assert!(!pp.release(40000));
        assert_eq!(pp.allocate(), Some(40000));
    }
}
