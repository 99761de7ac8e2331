//! The container control plane as seen from the edges: node leases, the
//! node-lifecycle rule that evicts the pods of nodes it no longer hears
//! from, and who may be managed (scaled, placed on) at a given time.
//!
//! The control plane runs in one central region. Each node (machine)
//! renews a lease every `lease_period_ns` over the cloud-edge network; a
//! node whose lease has not arrived for `grace_ns` is NotReady, and
//! `eviction_timeout_ns` after that its pods are evicted (Kubernetes'
//! node-monitor grace period and default not-ready toleration). What
//! reaches the centre:
//! - nothing while the centre is down (its controllers are down too: no
//!   eviction; when it comes back every lease clock restarts, as the
//!   node-lifecycle controller does on start-up);
//! - a node's own lease when its room's link is up;
//! - with `pool_delegate`, a lease relayed by another node of its pool
//!   (an edge region here) that still reaches the centre: the node is
//!   NotReady but keeps its pods (OpenYurt's pool-coordinator rule, which
//!   tells a cut link from a dead node;
//!   docs/references.md, Node lease delegation); with no lease at all its
//!   pods are evicted;
//! - with `autonomy`, the centre never evicts a node's pods for a missing
//!   lease (OpenYurt's node autonomy): the edge keeps them running, the
//!   centre only stops managing them.
//!
//! Eviction is a decision in the centre. A node that is cut off does not
//! hear of it: it keeps serving the evicted pods until its link returns,
//! then deletes them (their sessions cut then). The caller applies both
//! halves; this machine says when ([`ControlEvent`]).
//!
//! Sans-IO: time and link changes in, events out; `poll_timeout` /
//! `handle_timeout` as elsewhere in the crate (see the crate docs).
//! Rooms, not machines, are the unit here: every machine of a room shares
//! its room's link, so a room's lease state is its machines'.

use std::collections::{BTreeSet, VecDeque};

use crate::error::{EdgeError, invalid};
use crate::ids::{RegionId, RoomId};

/// Bound on rooms.
pub const MAX_CONTROL_ROOMS: usize = 1 << 20;

/// Control-plane settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlConfig {
    /// Time between a node's lease renewals (Kubernetes: 10 s).
    pub lease_period_ns: u64,
    /// No lease for this long: NotReady (node-monitor grace, 40 s).
    pub grace_ns: u64,
    /// NotReady this long: pods evicted (not-ready toleration, 300 s).
    pub eviction_timeout_ns: u64,
    /// A lease may reach the centre through another node of the pool.
    pub pool_delegate: bool,
    /// The centre never evicts for a missing lease.
    pub autonomy: bool,
}

impl ControlConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), EdgeError> {
        if self.lease_period_ns == 0 {
            return Err(invalid("control", "lease_period_ns", "a period above 0", 0));
        }
        if self.grace_ns < self.lease_period_ns {
            return Err(invalid("control", "grace_ns", "at least one lease period", self.grace_ns));
        }
        Ok(())
    }
}

/// What the control plane decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlEvent {
    /// The centre stopped hearing the room's leases `grace_ns` ago.
    NotReady {
        /// The room.
        room: RoomId,
        /// When.
        at_ns: u64,
    },
    /// The centre hears the room again.
    Ready {
        /// The room.
        room: RoomId,
        /// When.
        at_ns: u64,
    },
    /// The centre evicted the pods of the room's machines (it deletes
    /// them and may place replacements elsewhere); the room learns of it
    /// when its link returns ([`ControlEvent::Learnt`]).
    Evicted {
        /// The room.
        room: RoomId,
        /// When.
        at_ns: u64,
    },
    /// A cut-off room whose pods were evicted reached the centre again:
    /// it deletes them now.
    Learnt {
        /// The room.
        room: RoomId,
        /// When.
        at_ns: u64,
    },
}

#[derive(Clone, Copy, Debug)]
struct Room {
    region: RegionId,
    link_up: bool,
    /// Since when the centre has had no lease of the room's own (None: it
    /// has): NotReady `grace_ns` later.
    own_silent_ns: Option<u64>,
    /// Since when no lease at all, own or relayed: eviction `grace_ns +
    /// eviction_timeout_ns` later, unless autonomy.
    all_silent_ns: Option<u64>,
    not_ready: bool,
    /// Evicted and not yet told.
    evicted_untold: bool,
}

/// Which check a timer is for.
const NOT_READY: u8 = 0;
const EVICT: u8 = 1;

/// The control plane. See the module docs.
#[derive(Clone, Debug)]
pub struct ControlPlane {
    cfg: ControlConfig,
    centre_up: bool,
    rooms: Vec<Room>,
    /// (deadline, room, check). A timer whose room's clock moved since is
    /// stale and ignored when it falls due.
    timers: BTreeSet<(u64, u32, u8)>,
    events: VecDeque<ControlEvent>,
}

impl ControlPlane {
    /// A control plane over rooms in the given regions (index = room id),
    /// every link up.
    pub fn new(cfg: ControlConfig, room_regions: &[RegionId]) -> Result<Self, EdgeError> {
        cfg.validate()?;
        if room_regions.len() > MAX_CONTROL_ROOMS {
            return Err(EdgeError::BoundExceeded { model: "control", what: "rooms", bound: MAX_CONTROL_ROOMS });
        }
        let rooms = room_regions
            .iter()
            .map(|&region| Room { region, link_up: true, own_silent_ns: None, all_silent_ns: None, not_ready: false, evicted_untold: false })
            .collect();
        Ok(ControlPlane { cfg, centre_up: true, rooms, timers: BTreeSet::new(), events: VecDeque::new() })
    }

    /// Settings.
    pub fn config(&self) -> &ControlConfig {
        &self.cfg
    }

    /// True when the centre is up.
    pub fn centre_up(&self) -> bool {
        self.centre_up
    }

    /// True when the centre can manage the room now: it is up and reaches
    /// the room directly (creating, scaling or deleting pods needs the
    /// room's own link; a delegate relays leases, not pod specs).
    pub fn manages(&self, room: RoomId) -> bool {
        self.centre_up && self.rooms.get(room.index()).is_some_and(|r| r.link_up)
    }

    /// True when the room is NotReady in the centre's view.
    pub fn not_ready(&self, room: RoomId) -> bool {
        self.rooms.get(room.index()).is_some_and(|r| r.not_ready)
    }

    /// Leases of room `i` reaching the centre now: (its own, any).
    fn heard(&self, i: usize) -> (bool, bool) {
        if !self.centre_up {
            return (false, false);
        }
        let r = &self.rooms[i];
        let relayed = self.cfg.pool_delegate && self.rooms.iter().any(|o| o.region == r.region && o.link_up);
        (r.link_up, r.link_up || relayed)
    }

    /// The room's cloud-edge link goes down (`up = false`) or comes back.
    pub fn set_link(&mut self, now_ns: u64, room: RoomId, up: bool) -> Result<(), EdgeError> {
        let r = self.rooms.get_mut(room.index()).ok_or_else(|| EdgeError::Unknown { model: "control", what: "room", id: room.to_string() })?;
        if r.link_up == up {
            return Ok(());
        }
        r.link_up = up;
        if up && r.evicted_untold && self.centre_up {
            r.evicted_untold = false;
            self.events.push_back(ControlEvent::Learnt { room, at_ns: now_ns });
        }
        self.refresh(now_ns);
        Ok(())
    }

    /// The centre goes down or comes back. Back, it restarts every lease
    /// clock at `now_ns` and tells rooms it evicted that it did.
    pub fn set_centre(&mut self, now_ns: u64, up: bool) {
        if self.centre_up == up {
            return;
        }
        self.centre_up = up;
        // A down centre decides nothing: its pending checks are void.
        self.timers.clear();
        if up {
            for i in 0..self.rooms.len() {
                let r = &mut self.rooms[i];
                r.own_silent_ns = r.own_silent_ns.map(|_| now_ns);
                r.all_silent_ns = r.all_silent_ns.map(|_| now_ns);
                if r.evicted_untold && r.link_up {
                    r.evicted_untold = false;
                    self.events.push_back(ControlEvent::Learnt { room: RoomId(i as u32), at_ns: now_ns });
                }
                self.arm(i);
            }
        }
        self.refresh(now_ns);
    }

    fn arm(&mut self, i: usize) {
        let (cfg, r) = (self.cfg, self.rooms[i]);
        if let Some(s) = r.own_silent_ns.filter(|_| !r.not_ready) {
            self.timers.insert((s + cfg.grace_ns, i as u32, NOT_READY));
        }
        if let Some(s) = r.all_silent_ns.filter(|_| !cfg.autonomy && !r.evicted_untold) {
            self.timers.insert((s + cfg.grace_ns + cfg.eviction_timeout_ns, i as u32, EVICT));
        }
    }

    /// Re-derives which rooms the centre hears, after a change. A down
    /// centre hears nothing and starts no clock: it restarts them all when
    /// it comes back.
    fn refresh(&mut self, now_ns: u64) {
        if !self.centre_up {
            return;
        }
        for i in 0..self.rooms.len() {
            let (own, any) = self.heard(i);
            let r = &mut self.rooms[i];
            let mut changed = false;
            match (own, r.own_silent_ns) {
                (true, Some(_)) => {
                    r.own_silent_ns = None;
                    if r.not_ready {
                        r.not_ready = false;
                        self.events.push_back(ControlEvent::Ready { room: RoomId(i as u32), at_ns: now_ns });
                    }
                }
                (false, None) => {
                    r.own_silent_ns = Some(now_ns);
                    changed = true;
                }
                _ => {}
            }
            match (any, r.all_silent_ns) {
                (true, Some(_)) => r.all_silent_ns = None,
                (false, None) => {
                    r.all_silent_ns = Some(now_ns);
                    changed = true;
                }
                _ => {}
            }
            if changed {
                self.arm(i);
            }
        }
    }

    /// The next time a NotReady or eviction check falls due.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.timers.iter().next().map(|&(t, _, _)| t)
    }

    /// Runs the checks due at `now_ns`.
    pub fn handle_timeout(&mut self, now_ns: u64) {
        while let Some(&(t, i, check)) = self.timers.iter().next() {
            if t > now_ns {
                break;
            }
            self.timers.remove(&(t, i, check));
            let (cfg, room) = (self.cfg, RoomId(i));
            let r = &mut self.rooms[i as usize];
            match check {
                NOT_READY if !r.not_ready && r.own_silent_ns.is_some_and(|s| s + cfg.grace_ns == t) => {
                    r.not_ready = true;
                    self.events.push_back(ControlEvent::NotReady { room, at_ns: t });
                }
                EVICT if !r.evicted_untold && r.all_silent_ns.is_some_and(|s| s + cfg.grace_ns + cfg.eviction_timeout_ns == t) => {
                    r.evicted_untold = true;
                    self.events.push_back(ControlEvent::Evicted { room, at_ns: t });
                }
                _ => {}
            }
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<ControlEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn cfg(pool_delegate: bool, autonomy: bool) -> ControlConfig {
        ControlConfig { lease_period_ns: 10 * S, grace_ns: 40 * S, eviction_timeout_ns: 300 * S, pool_delegate, autonomy }
    }

    fn drain(c: &mut ControlPlane, until: u64) -> Vec<ControlEvent> {
        let mut out = Vec::new();
        while let Some(t) = c.poll_timeout().filter(|&t| t <= until) {
            c.handle_timeout(t);
        }
        while let Some(e) = c.poll_event() {
            out.push(e);
        }
        out
    }

    #[test]
    fn a_cut_room_is_not_ready_after_the_grace_and_evicted_after_the_timeout_and_learns_it_on_return() {
        let mut c = ControlPlane::new(cfg(false, false), &[RegionId(0), RegionId(0)]).unwrap();
        c.set_link(100 * S, RoomId(0), false).unwrap();
        assert!(!c.manages(RoomId(0)) && c.manages(RoomId(1)));
        assert_eq!(drain(&mut c, 139 * S), vec![]);
        assert_eq!(drain(&mut c, 140 * S), vec![ControlEvent::NotReady { room: RoomId(0), at_ns: 140 * S }]);
        assert_eq!(drain(&mut c, 440 * S), vec![ControlEvent::Evicted { room: RoomId(0), at_ns: 440 * S }]);
        c.set_link(500 * S, RoomId(0), true).unwrap();
        assert_eq!(
            drain(&mut c, 1000 * S),
            vec![ControlEvent::Learnt { room: RoomId(0), at_ns: 500 * S }, ControlEvent::Ready { room: RoomId(0), at_ns: 500 * S }]
        );
    }

    #[test]
    fn a_link_back_before_the_grace_changes_nothing() {
        let mut c = ControlPlane::new(cfg(false, false), &[RegionId(0)]).unwrap();
        c.set_link(0, RoomId(0), false).unwrap();
        c.set_link(39 * S, RoomId(0), true).unwrap();
        assert_eq!(drain(&mut c, 1000 * S), vec![]);
        assert_eq!(c.poll_timeout(), None);
    }

    #[test]
    fn a_pool_delegate_keeps_a_cut_rooms_pods_though_it_is_not_ready() {
        let mut c = ControlPlane::new(cfg(true, false), &[RegionId(0), RegionId(0), RegionId(1)]).unwrap();
        c.set_link(0, RoomId(0), false).unwrap();
        c.set_link(0, RoomId(2), false).unwrap();
        // Room 0's lease arrives through room 1: NotReady, pods kept; room
        // 2 has no delegate: evicted.
        let ev = drain(&mut c, 1000 * S);
        assert_eq!(
            ev,
            vec![
                ControlEvent::NotReady { room: RoomId(0), at_ns: 40 * S },
                ControlEvent::NotReady { room: RoomId(2), at_ns: 40 * S },
                ControlEvent::Evicted { room: RoomId(2), at_ns: 340 * S },
            ]
        );
        assert!(!c.manages(RoomId(0)) && c.not_ready(RoomId(0)));
        // The whole pool cut at 2000 s: room 0's eviction clock starts then.
        c.set_link(2000 * S, RoomId(1), false).unwrap();
        assert_eq!(
            drain(&mut c, 3000 * S),
            vec![
                ControlEvent::NotReady { room: RoomId(1), at_ns: 2040 * S },
                ControlEvent::Evicted { room: RoomId(0), at_ns: 2340 * S },
                ControlEvent::Evicted { room: RoomId(1), at_ns: 2340 * S },
            ]
        );
    }

    #[test]
    fn with_autonomy_nothing_is_evicted() {
        let mut c = ControlPlane::new(cfg(false, true), &[RegionId(0)]).unwrap();
        c.set_link(0, RoomId(0), false).unwrap();
        assert_eq!(drain(&mut c, 10_000 * S), vec![ControlEvent::NotReady { room: RoomId(0), at_ns: 40 * S }]);
    }

    #[test]
    fn a_down_centre_evicts_nothing_and_restarts_every_clock_when_back() {
        let mut c = ControlPlane::new(cfg(false, false), &[RegionId(0), RegionId(1)]).unwrap();
        c.set_centre(0, false);
        assert!(!c.manages(RoomId(0)) && !c.manages(RoomId(1)));
        assert_eq!(drain(&mut c, 3600 * S), vec![], "no checks while down, however long");
        // A room cut while the centre is down: counted from the return.
        c.set_link(1000 * S, RoomId(1), false).unwrap();
        c.set_centre(3600 * S, true);
        assert!(c.manages(RoomId(0)) && !c.manages(RoomId(1)));
        assert_eq!(
            drain(&mut c, 5000 * S),
            vec![ControlEvent::NotReady { room: RoomId(1), at_ns: 3640 * S }, ControlEvent::Evicted { room: RoomId(1), at_ns: 3940 * S }]
        );
    }
}
