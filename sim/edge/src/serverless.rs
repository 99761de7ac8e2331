//! The central multi-cloud serverless pool: burst capacity past the last
//! edge level, and the talk's disaster fallback when the edge control
//! plane's region fails (docs/references.md, Edge-container design).
//!
//! Instances start on demand with a cold-start time (drawn by the caller
//! from its distribution, only when a cold start happens), serve up to
//! `sessions_per_instance` sessions, stay warm `keep_alive_ns` after their
//! last session, then stop. Billing: instance lifetime (from the start of
//! the cold start to the stop) rounded up to whole seconds per instance,
//! plus traffic per byte (priced per GB in [`crate::cost`]).
//!
//! Run loop: [`start_session`](Serverless::start_session) /
//! [`end_session`](Serverless::end_session) as sessions come and go; call
//! [`handle_timeout`](Serverless::handle_timeout) at
//! [`poll_timeout`](Serverless::poll_timeout) to stop idle instances;
//! read [`usage`](Serverless::usage) for the bill.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{EdgeError, invalid};
use crate::ids::SessionId;
use crate::workload::NS_PER_S;

/// Bound on instances.
pub const MAX_INSTANCES: u32 = 1 << 20;

/// Settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerlessConfig {
    /// Warm time after the last session (AWS keeps about 10 min:
    /// docs/references.md, Serverless keep-alive).
    pub keep_alive_ns: u64,
    /// Instance limit (account quota).
    pub max_instances: u32,
    /// Sessions one instance serves.
    pub sessions_per_instance: u32,
}

/// Where a session went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// When the session can start (after a cold start, or now).
    pub ready_at_ns: u64,
    /// True when it waited for a cold start (its own or a starting
    /// instance's).
    pub cold: bool,
}

/// The pool is at its instance limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("serverless: all {0} instances are full")]
pub struct ServerlessFull(pub u32);

/// Usage so far, for billing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerlessUsage {
    /// Billed instance seconds (each instance's lifetime rounded up; live
    /// instances counted to `now`).
    pub instance_seconds: u64,
    /// Traffic, bytes.
    pub bytes: u64,
    /// Cold starts.
    pub cold_starts: u64,
    /// Sessions that joined an existing instance (warm, or still in its
    /// cold start).
    pub warm_starts: u64,
    /// Sessions refused at the limit.
    pub rejected: u64,
    /// Instances alive now.
    pub live_instances: u32,
}

#[derive(Clone, Copy, Debug)]
struct Instance {
    started_ns: u64,
    ready_ns: u64,
    sessions: u32,
    idle_until_ns: Option<u64>,
}

/// The serverless pool. See the module docs.
#[derive(Clone, Debug)]
pub struct Serverless {
    cfg: ServerlessConfig,
    instances: Vec<Option<Instance>>,
    free_slots: Vec<u32>,
    with_room: BTreeSet<u32>,
    expiry: BTreeSet<(u64, u32)>,
    sessions: BTreeMap<SessionId, u32>,
    usage: ServerlessUsage,
    billed_seconds_closed: u64,
}

fn billed_seconds(lifetime_ns: u64) -> u64 {
    lifetime_ns.div_ceil(NS_PER_S)
}

impl Serverless {
    /// An empty pool.
    pub fn new(cfg: ServerlessConfig) -> Result<Self, EdgeError> {
        if cfg.max_instances == 0 || cfg.max_instances > MAX_INSTANCES {
            return Err(invalid("serverless", "max_instances", "1 to 1048576", cfg.max_instances));
        }
        if cfg.sessions_per_instance == 0 || cfg.sessions_per_instance > 65_536 {
            return Err(invalid("serverless", "sessions_per_instance", "1 to 65536", cfg.sessions_per_instance));
        }
        Ok(Serverless {
            cfg,
            instances: Vec::new(),
            free_slots: Vec::new(),
            with_room: BTreeSet::new(),
            expiry: BTreeSet::new(),
            sessions: BTreeMap::new(),
            usage: ServerlessUsage::default(),
            billed_seconds_closed: 0,
        })
    }

    /// Starts `session`: on the lowest-numbered instance with room, else on
    /// a new one after `cold_start_ns()` (called only then).
    pub fn start_session(
        &mut self,
        now_ns: u64,
        session: SessionId,
        cold_start_ns: impl FnOnce() -> u64,
    ) -> Result<Start, ServerlessFull> {
        if self.sessions.contains_key(&session) {
            // Already here: report where it is instead of counting twice.
            let i = self.sessions[&session];
            let inst = self.instances[i as usize].expect("live");
            return Ok(Start { ready_at_ns: inst.ready_ns.max(now_ns), cold: inst.ready_ns > now_ns });
        }
        let idx = if let Some(&i) = self.with_room.iter().next() {
            self.usage.warm_starts += 1;
            i
        } else {
            if self.usage.live_instances >= self.cfg.max_instances {
                self.usage.rejected += 1;
                return Err(ServerlessFull(self.cfg.max_instances));
            }
            let inst = Instance { started_ns: now_ns, ready_ns: now_ns.saturating_add(cold_start_ns()), sessions: 0, idle_until_ns: None };
            self.usage.cold_starts += 1;
            self.usage.live_instances += 1;
            let i = match self.free_slots.pop() {
                Some(i) => {
                    self.instances[i as usize] = Some(inst);
                    i
                }
                None => {
                    self.instances.push(Some(inst));
                    self.instances.len() as u32 - 1
                }
            };
            self.with_room.insert(i);
            i
        };
        let inst = self.instances[idx as usize].as_mut().expect("live");
        if let Some(t) = inst.idle_until_ns.take() {
            self.expiry.remove(&(t, idx));
        }
        inst.sessions += 1;
        if inst.sessions >= self.cfg.sessions_per_instance {
            self.with_room.remove(&idx);
        }
        self.sessions.insert(session, idx);
        let cold = inst.ready_ns > now_ns;
        Ok(Start { ready_at_ns: inst.ready_ns.max(now_ns), cold })
    }

    /// Ends `session`, adding its traffic. False if unknown.
    pub fn end_session(&mut self, now_ns: u64, session: SessionId, bytes: u64) -> bool {
        let Some(idx) = self.sessions.remove(&session) else { return false };
        self.usage.bytes += bytes;
        let inst = self.instances[idx as usize].as_mut().expect("live");
        inst.sessions -= 1;
        self.with_room.insert(idx);
        if inst.sessions == 0 {
            let t = now_ns.max(inst.ready_ns).saturating_add(self.cfg.keep_alive_ns);
            inst.idle_until_ns = Some(t);
            self.expiry.insert((t, idx));
        }
        true
    }

    /// Traffic not tied to a session end (e.g. periodic accounting).
    pub fn add_bytes(&mut self, bytes: u64) {
        self.usage.bytes += bytes;
    }

    /// The next idle instance to stop.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.expiry.iter().next().map(|&(t, _)| t)
    }

    /// Stops instances idle past their keep-alive.
    pub fn handle_timeout(&mut self, now_ns: u64) {
        while let Some(&(t, idx)) = self.expiry.iter().next() {
            if t > now_ns {
                break;
            }
            self.expiry.remove(&(t, idx));
            let inst = self.instances[idx as usize].take().expect("live");
            self.with_room.remove(&idx);
            self.free_slots.push(idx);
            self.usage.live_instances -= 1;
            self.billed_seconds_closed += billed_seconds(t - inst.started_ns);
        }
    }

    /// Sessions running.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Usage up to `now_ns` (live instances billed as if stopped now).
    pub fn usage(&self, now_ns: u64) -> ServerlessUsage {
        let live: u64 = self.instances.iter().flatten().map(|i| billed_seconds(now_ns.saturating_sub(i.started_ns))).sum();
        ServerlessUsage { instance_seconds: self.billed_seconds_closed + live, ..self.usage }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_then_warm_then_stop() {
        let cfg = ServerlessConfig { keep_alive_ns: 10 * NS_PER_S, max_instances: 1, sessions_per_instance: 2 };
        let mut s = Serverless::new(cfg).unwrap();
        let a = s.start_session(0, SessionId(1), || 3 * NS_PER_S).unwrap();
        assert_eq!(a, Start { ready_at_ns: 3 * NS_PER_S, cold: true });
        // Joins the starting instance: waits for the same cold start.
        let b = s.start_session(NS_PER_S, SessionId(2), || panic!("no second cold start")).unwrap();
        assert_eq!(b, Start { ready_at_ns: 3 * NS_PER_S, cold: true });
        assert_eq!(s.start_session(NS_PER_S, SessionId(3), || 1), Err(ServerlessFull(1)));
        s.end_session(5 * NS_PER_S, SessionId(1), 1_000);
        s.end_session(6 * NS_PER_S, SessionId(2), 2_000);
        assert_eq!(s.poll_timeout(), Some(16 * NS_PER_S));
        let warm = s.start_session(7 * NS_PER_S, SessionId(4), || panic!("warm")).unwrap();
        assert!(!warm.cold);
        s.end_session(8 * NS_PER_S + 1, SessionId(4), 0);
        s.handle_timeout(18 * NS_PER_S + 1);
        let u = s.usage(100 * NS_PER_S);
        // Lifetime 0 .. 18 s + 1 ns: 19 billed seconds.
        assert_eq!(u.instance_seconds, 19);
        assert_eq!((u.bytes, u.cold_starts, u.warm_starts, u.rejected, u.live_instances), (3_000, 1, 2, 1, 0));
    }
}
