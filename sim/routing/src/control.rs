//! Control messages with retry (subscribe, unsubscribe between overlay
//! nodes), sans-IO: the caller owns the network, draws each sending's
//! fate and says when a message got through; this decides when to send
//! again and when to give up. Times are **nanoseconds**.
//!
//! # Run-loop contract
//!
//! 1. [`Retry::send`] a new message (with the round-trip time of its path
//!    now); it answers the message's id and queues its first sending.
//! 2. When a sending of a message reaches the far end, call
//!    [`Retry::delivered`]: true the first time (act on it), false for a
//!    copy that arrives after another did or after the sender gave up
//!    (ignore it).
//! 3. Ask [`Retry::poll_timeout`] for the next instant with work and call
//!    [`Retry::handle_timeout`] then (later is allowed).
//! 4. After every call, drain [`Retry::poll_output`] in order:
//!    [`ControlOutput::Send`] (put that sending on the wire now) and
//!    [`ControlOutput::GaveUp`] (the message's last timer expired
//!    unanswered: the caller's rule for a lost message applies).
//!
//! # Rules
//!
//! - **Timeout**: a message's first timeout is `rtt_factor` x the path's
//!   round trip when it was sent, clamped to `[min_timeout_ns,
//!   max_timeout_ns]`; each retry doubles it, up to `max_timeout_ns`
//!   (exponential backoff, as TCP's retransmission timer, RFC 6298
//!   section 5.5). With first timeout `T`, sending `k` (0 = the first)
//!   leaves at `sent + sum_{i<k} min(T 2^i, max)` and the message is given
//!   up at `sent + sum_{i<=max_retries} min(T 2^i, max)`.
//! - **Retries**: at most `max_retries` after the first sending, so a
//!   message costs at most `max_retries + 1` sendings and lives at most
//!   `(max_retries + 1) x max_timeout_ns`.
//! - **Acknowledgement**: the sender's timer stops when the message
//!   arrives (the acknowledgement's way back is not modelled: the timeout
//!   is at least twice the round trip, so an acknowledgement on a path
//!   that delivered would be back before it).
//! - Ties: timeouts due at one instant are handled in the order of their
//!   deadlines, then of the messages' ids (the order of [`Retry::send`]).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// One control message, numbered in the order it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MsgId(pub u64);

/// The retry rule's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    /// First timeout, in round trips of the path.
    pub rtt_factor: u64,
    /// The floor of a first timeout.
    pub min_timeout_ns: u64,
    /// The cap of a timeout after backoff (and of the first).
    pub max_timeout_ns: u64,
    /// Sendings after the first before giving up.
    pub max_retries: u8,
}

impl Default for RetryConfig {
    /// Twice the round trip, at least 10 ms, at most 8 s, 4 retries: a
    /// message on a 30 ms path (RTT 60 ms) is sent at 0, 120, 360, 840
    /// and 1800 ms and given up at 3720 ms.
    fn default() -> Self {
        RetryConfig { rtt_factor: 2, min_timeout_ns: 10_000_000, max_timeout_ns: 8_000_000_000, max_retries: 4 }
    }
}

impl RetryConfig {
    /// The first timeout of a message on a path of round trip `rtt_ns`.
    pub fn first_timeout_ns(&self, rtt_ns: u64) -> u64 {
        rtt_ns.saturating_mul(self.rtt_factor).clamp(self.min_timeout_ns, self.max_timeout_ns)
    }

    /// The timeout after sending `attempt` (0 = the first), first timeout
    /// `first_ns`: doubled per retry, capped.
    pub fn timeout_ns(&self, first_ns: u64, attempt: u8) -> u64 {
        first_ns.saturating_mul(1u64 << attempt.min(62)).min(self.max_timeout_ns)
    }
}

/// What the caller must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlOutput {
    /// Put sending `attempt` (0 = the first) of message `id` on the wire.
    Send {
        /// The message.
        id: MsgId,
        /// 0 for the first sending.
        attempt: u8,
    },
    /// Message `id` went unanswered after its last retry.
    GaveUp {
        /// The message.
        id: MsgId,
    },
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    attempt: u8,
    first_timeout_ns: u64,
    deadline_ns: u64,
}

/// Counts since the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryStats {
    /// Messages sent (first sendings).
    pub messages: u64,
    /// Sendings after the first.
    pub retries: u64,
    /// Messages whose first copy arrived.
    pub delivered: u64,
    /// Messages given up after their last retry.
    pub gave_up: u64,
    /// Arrivals of a message already delivered or given up.
    pub duplicates: u64,
}

/// The senders' retry timers of every control message in flight.
#[derive(Clone, Debug)]
pub struct Retry {
    cfg: RetryConfig,
    next: u64,
    pending: BTreeMap<MsgId, Pending>,
    deadlines: BTreeSet<(u64, MsgId)>,
    out: VecDeque<ControlOutput>,
    stats: RetryStats,
}

impl Retry {
    /// No message in flight (panics on timeouts not 0 < min <= max).
    pub fn new(cfg: RetryConfig) -> Retry {
        assert!(cfg.min_timeout_ns > 0 && cfg.min_timeout_ns <= cfg.max_timeout_ns, "timeouts: 0 < min <= max");
        Retry { cfg, next: 0, pending: BTreeMap::new(), deadlines: BTreeSet::new(), out: VecDeque::new(), stats: RetryStats::default() }
    }

    /// The rule's parameters.
    pub fn config(&self) -> &RetryConfig {
        &self.cfg
    }

    /// Counts since the start.
    pub fn stats(&self) -> RetryStats {
        self.stats
    }

    /// Messages not yet delivered nor given up.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// A new message at `now_ns` over a path of round trip `rtt_ns`.
    pub fn send(&mut self, now_ns: u64, rtt_ns: u64) -> MsgId {
        let id = MsgId(self.next);
        self.next += 1;
        let first = self.cfg.first_timeout_ns(rtt_ns);
        let deadline_ns = now_ns.saturating_add(first);
        self.pending.insert(id, Pending { attempt: 0, first_timeout_ns: first, deadline_ns });
        self.deadlines.insert((deadline_ns, id));
        self.stats.messages += 1;
        self.out.push_back(ControlOutput::Send { id, attempt: 0 });
        id
    }

    /// A sending of `id` reached the far end: true if it is the first to
    /// (the sender's timer stops).
    pub fn delivered(&mut self, id: MsgId) -> bool {
        match self.pending.remove(&id) {
            Some(p) => {
                self.deadlines.remove(&(p.deadline_ns, id));
                self.stats.delivered += 1;
                true
            }
            None => {
                self.stats.duplicates += 1;
                false
            }
        }
    }

    /// The next instant with work, if any.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.deadlines.first().map(|d| d.0)
    }

    /// Timers due by `now_ns` fire: a retry, or giving up after the last.
    pub fn handle_timeout(&mut self, now_ns: u64) {
        while let Some(&(at, id)) = self.deadlines.first() {
            if at > now_ns {
                break;
            }
            self.deadlines.pop_first();
            let p = self.pending.get_mut(&id).expect("a deadline has its message");
            if p.attempt >= self.cfg.max_retries {
                self.pending.remove(&id);
                self.stats.gave_up += 1;
                self.out.push_back(ControlOutput::GaveUp { id });
                continue;
            }
            p.attempt += 1;
            // From the deadline, not from `now_ns`: a late call does not
            // shift the schedule.
            p.deadline_ns = at.saturating_add(self.cfg.timeout_ns(p.first_timeout_ns, p.attempt));
            self.deadlines.insert((p.deadline_ns, id));
            self.stats.retries += 1;
            self.out.push_back(ControlOutput::Send { id, attempt: p.attempt });
        }
    }

    /// The next thing to do, in order.
    pub fn poll_output(&mut self) -> Option<ControlOutput> {
        self.out.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn drain(r: &mut Retry) -> Vec<ControlOutput> {
        std::iter::from_fn(|| r.poll_output()).collect()
    }

    #[test]
    fn an_unanswered_message_follows_the_backoff_schedule_then_gives_up() {
        let mut r = Retry::new(RetryConfig::default());
        let id = r.send(1_000 * MS, 60 * MS);
        assert_eq!(drain(&mut r), vec![ControlOutput::Send { id, attempt: 0 }]);
        // First timeout 2 x 60 ms; then 240, 480, 960 ms; given up after 1920.
        let mut at = 1_000 * MS;
        for (k, t) in [120, 240, 480, 960].iter().enumerate() {
            at += t * MS;
            assert_eq!(r.poll_timeout(), Some(at));
            r.handle_timeout(at - 1);
            assert!(drain(&mut r).is_empty(), "nothing before the deadline");
            r.handle_timeout(at);
            assert_eq!(drain(&mut r), vec![ControlOutput::Send { id, attempt: k as u8 + 1 }]);
        }
        at += 1_920 * MS;
        assert_eq!(r.poll_timeout(), Some(at));
        r.handle_timeout(at + 5 * MS);
        assert_eq!(drain(&mut r), vec![ControlOutput::GaveUp { id }]);
        assert_eq!(r.poll_timeout(), None);
        assert!(!r.delivered(id), "a copy after giving up is ignored");
        assert_eq!(r.stats(), RetryStats { messages: 1, retries: 4, delivered: 0, gave_up: 1, duplicates: 1 });
    }

    #[test]
    fn delivery_stops_the_timer_and_later_copies_are_duplicates() {
        let mut r = Retry::new(RetryConfig::default());
        let a = r.send(0, 40 * MS);
        let b = r.send(0, 10 * MS);
        drain(&mut r);
        // b's timer first (20 ms), a's at 80 ms.
        assert_eq!(r.poll_timeout(), Some(20 * MS));
        assert!(r.delivered(b));
        assert!(!r.delivered(b));
        assert_eq!(r.poll_timeout(), Some(80 * MS));
        r.handle_timeout(80 * MS);
        assert_eq!(drain(&mut r), vec![ControlOutput::Send { id: a, attempt: 1 }]);
        assert!(r.delivered(a));
        assert_eq!(r.poll_timeout(), None);
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn timeouts_are_clamped_and_capped() {
        let cfg = RetryConfig { max_timeout_ns: 100 * MS, ..RetryConfig::default() };
        assert_eq!(cfg.first_timeout_ns(0), 10 * MS);
        assert_eq!(cfg.first_timeout_ns(30 * MS), 60 * MS);
        assert_eq!(cfg.first_timeout_ns(u64::MAX), 100 * MS);
        assert_eq!(cfg.timeout_ns(60 * MS, 1), 100 * MS);
        assert_eq!(cfg.timeout_ns(60 * MS, 200), 100 * MS);
    }

    #[test]
    fn a_late_call_keeps_the_schedule() {
        let mut r = Retry::new(RetryConfig::default());
        let id = r.send(0, 5 * MS);
        drain(&mut r);
        // Deadlines at 10 and 30 ms: one call at 35 ms sends both retries.
        r.handle_timeout(35 * MS);
        assert_eq!(drain(&mut r), vec![ControlOutput::Send { id, attempt: 1 }, ControlOutput::Send { id, attempt: 2 }]);
        assert_eq!(r.poll_timeout(), Some(70 * MS));
    }
}
