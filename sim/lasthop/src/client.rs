//! The client SDK: one per viewer of a last-hop stream. What the talk says
//! it does: docs/references.md, Heartbeat and candidates.
//!
//! It starts on its edge server alone. Each block it reviews every sender
//! (one block duration plus half a second after the block ended,
//! [`crate::Config::review_ns`]): a home node that delivered less than half
//! of what it promised is evicted and replaced; the others, having
//! delivered in full, grow their ask by a `ramp_blocks`-th of a share. The
//! redundancy controller (codec crate) turns the loss measured per sender
//! into the total to ask per block; what home nodes do not cover is asked
//! of the server, so traffic moves between server and home nodes a step at
//! a time, never by a hard switch. New asks apply from two blocks on (time
//! for the subscription message). A reviewed block that has not decoded is
//! completed by the server at once, ahead of its playout.
//!
//! The receive window keeps one [`BlockReceiver`] per block for the newest
//! [`RX_BLOCKS`] blocks the player still wants; a block closed with K
//! symbols and still not decoded is a decode failure.

use std::collections::VecDeque;

use cdnsim_codec::{BlockOutcome, BlockReceiver, Decoding, IntervalReport, RedundancyController};

use crate::ids::{EdgeId, HomeId, NatClass};
use crate::stats::Stats;

/// Blocks a client keeps receive state for, behind the newest.
pub const RX_BLOCKS: usize = 8;
/// Home nodes a client remembers as evicted (never offered again).
pub const MAX_AVOID: usize = 64;
/// The server's key among the redundancy controller's senders (home nodes
/// are keyed by their index, which never reaches it).
pub(crate) const SERVER_KEY: u64 = u32::MAX as u64;

/// Symbols per block a sender is asked for: `now` until block `from`,
/// `next` from it on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ask {
    pub now: u16,
    pub next: u16,
    pub from: u32,
}

impl Ask {
    pub fn at(&self, block: u32) -> u16 {
        if block >= self.from { self.next } else { self.now }
    }

    /// A new ask from block `from` on; the one in effect before it stays.
    pub fn set(&mut self, from: u32, symbols: u16) {
        self.now = self.at(from.saturating_sub(1));
        self.next = symbols;
        self.from = from;
    }
}

/// One sender as a client sees it: what it was asked, what arrived.
pub(crate) struct Sending {
    pub home: HomeId,
    pub slot: u32,
    /// Its symbols come through the client's edge (NAT traversal failed).
    pub relay: bool,
    /// One way, home node -> client.
    pub latency_ns: u64,
    pub ask: Ask,
    /// First block it was asked for.
    pub since: u32,
    /// (block, symbols arrived), by block modulo 4.
    got: [(u32, u16); 4],
}

impl Sending {
    pub fn new(home: HomeId, slot: u32, relay: bool, latency_ns: u64, ask: Ask, since: u32) -> Sending {
        Sending { home, slot, relay, latency_ns, ask, since, got: [(u32::MAX, 0); 4] }
    }

    pub fn got(&self, block: u32) -> u16 {
        let g = self.got[block as usize % 4];
        if g.0 == block { g.1 } else { 0 }
    }

    pub fn record(&mut self, block: u32, n: u16) {
        let g = &mut self.got[block as usize % 4];
        if g.0 != block {
            *g = (block, 0);
        }
        g.1 += n;
    }
}

pub(crate) struct BlockRx {
    pub block: u32,
    pub rx: BlockReceiver,
    pub decoded: bool,
}

/// What a client's receive window did with a batch of symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Receipt {
    /// Not taken: the block was past playback, too old, or decoded.
    Wasted,
    /// Taken by an open block that has not decoded yet.
    Taken,
    /// Taken, and the block decoded with them.
    Decoded,
}

pub(crate) struct Client {
    /// Index of its stream among the last-hop streams.
    pub fstream: u32,
    pub edge: EdgeId,
    pub region: u16,
    /// Its ISP among the home nodes' ISPs (`None`: none of them).
    pub isp: Option<u16>,
    pub nat: NatClass,
    pub senders: Vec<Sending>,
    pub server: Sending,
    pub candidates: VecDeque<HomeId>,
    pub avoid: VecDeque<HomeId>,
    pub ctrl: RedundancyController,
    pub rx: VecDeque<BlockRx>,
    /// Blocks before this are not asked for.
    pub first_block: u32,
    pub active: bool,
    pub home_bytes: u64,
    pub nodes_used: u64,
    pub evictions: u64,
}

impl Client {
    /// Gives back the session's working state (senders, receive window,
    /// candidates, avoid list, redundancy estimates), keeping the tallies:
    /// after the client left, or after the run.
    pub fn release(&mut self, redundancy: cdnsim_codec::RedundancyConfig) {
        self.senders = Vec::new();
        self.rx = VecDeque::new();
        self.candidates = VecDeque::new();
        self.avoid = VecDeque::new();
        self.ctrl = RedundancyController::new(redundancy).expect("a valid configuration");
    }

    /// Reports what every sender delivered of `block` to the controller
    /// and returns the home nodes to evict: those that delivered less than
    /// half of their promise.
    pub fn review(&mut self, block: u32, block_ns: u64) -> Vec<HomeId> {
        let mut evicted = Vec::new();
        for s in &self.senders {
            if block < s.since {
                continue;
            }
            let (promised, got) = (s.ask.at(block), s.got(block));
            let r = IntervalReport { interval_ns: block_ns, requested: promised as u64, received: got as u64 };
            self.ctrl.report(s.home.0 as u64, r).expect("senders are bounded");
            if promised > 0 && (got as u32) * 2 < promised as u32 {
                evicted.push(s.home);
            }
        }
        if block >= self.first_block {
            let (promised, got) = (self.server.ask.at(block), self.server.got(block));
            let r = IntervalReport { interval_ns: block_ns, requested: promised as u64, received: got as u64 };
            self.ctrl.report(SERVER_KEY, r).expect("senders are bounded");
        }
        evicted
    }

    /// Drops home node `h` and never takes it again.
    pub fn evict(&mut self, h: HomeId) {
        self.senders.retain(|s| s.home != h);
        self.ctrl.remove_sender(h.0 as u64);
        if self.avoid.len() >= MAX_AVOID {
            self.avoid.pop_front();
        }
        self.avoid.push_back(h);
        self.evictions += 1;
    }

    /// Home node `h` shed this client (its connection was reset).
    pub fn lost_sender(&mut self, h: HomeId) {
        self.senders.retain(|s| s.home != h);
        self.ctrl.remove_sender(h.0 as u64);
    }

    /// Asks per sender from block `from` on: every home node that delivered
    /// its last reviewed block in full grows by a ramp step (up to its
    /// share); the server is asked for what home nodes leave of `total`.
    pub fn plan_asks(&mut self, from: u32, total: u32, share: u32, ramp_blocks: u32) {
        let step = share.div_ceil(ramp_blocks).max(1);
        let reviewed = from.saturating_sub(2);
        let mut home = 0u32;
        for s in self.senders.iter_mut() {
            let current = s.ask.at(from) as u32;
            let promised = s.ask.at(reviewed) as u32;
            let full = reviewed < s.since || s.got(reviewed) as u32 >= promised;
            let grown = if full { (current + step).min(share) } else { current };
            let ask = grown.min(total.saturating_sub(home));
            s.ask.set(from, ask as u16);
            home += ask;
        }
        let server = total.saturating_sub(home);
        self.server.ask.set(from, server as u16);
    }

    /// What the server must send so that `block` decodes, if it has to:
    /// `None` when the block is not due for repair (before the client's
    /// first block, already played, or decoded). Otherwise the symbols
    /// missing up to K + `headroom`, at least one.
    pub fn repair_needed(&self, block: u32, next_play: u32, k: u16, headroom: u32) -> Option<u32> {
        if block < self.first_block || block < next_play {
            return None;
        }
        let held = match self.rx.iter().find(|r| r.block == block) {
            Some(r) if r.decoded => return None,
            Some(r) => r.rx.distinct_symbols() as u32,
            None => 0,
        };
        Some((k as u32 + headroom).saturating_sub(held).max(1))
    }

    /// Feeds `count` received symbols of `block` (`source` of them source
    /// symbols; their ids in `esis` except at model fidelity) to the
    /// block's receiver. `next_play` is the block the player wants next:
    /// older blocks are closed. The symbols are useful when an open,
    /// undecoded block took them; wasted otherwise (too old, or after the
    /// block decoded).
    #[allow(clippy::too_many_arguments)]
    pub fn receive(
        &mut self,
        decoding: &mut Decoding,
        draw: &mut impl FnMut() -> f64,
        stats: &mut Stats,
        stream: u32,
        block: u32,
        esis: &[u32],
        count: u32,
        source: u32,
        next_play: u32,
        k: u16,
    ) -> Receipt {
        let wasted = &mut stats.symbols_wasted;
        if block < next_play || self.rx.front().is_some_and(|r| block < r.block) && self.rx.len() >= RX_BLOCKS {
            *wasted += count as u64;
            return Receipt::Wasted;
        }
        // Receive state for this block, in block order; blocks the player
        // is past, or too old to keep, are closed (a decode failure if they
        // held K symbols and still did not decode).
        let mut i = match self.rx.binary_search_by_key(&block, |r| r.block) {
            Ok(i) => i,
            Err(i) => {
                let rx = BlockReceiver::new(decoding, block, &mut *draw);
                self.rx.insert(i, BlockRx { block, rx, decoded: false });
                i
            }
        };
        while self.rx.len() > RX_BLOCKS || self.rx.front().is_some_and(|r| r.block < next_play) {
            let old = self.rx.pop_front().expect("non-empty");
            if !old.decoded && old.rx.distinct_symbols() >= k as usize {
                stats.decode_failures += 1;
            }
            if i == 0 {
                stats.symbols_wasted += count as u64;
                return Receipt::Wasted;
            }
            i -= 1;
        }
        let r = &mut self.rx[i];
        if r.decoded {
            stats.symbols_wasted += count as u64;
            return Receipt::Wasted;
        }
        match r.rx.receive(decoding, stream, block, esis, count, source) {
            BlockOutcome::Pending => Receipt::Taken,
            BlockOutcome::Mismatch => {
                stats.full_mismatches += 1;
                Receipt::Taken
            }
            BlockOutcome::Decoded => {
                r.decoded = true;
                stats.blocks_decoded += 1;
                Receipt::Decoded
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_config;

    fn client() -> Client {
        let cfg = test_config();
        Client {
            fstream: 0,
            edge: EdgeId(0),
            region: 0,
            isp: Some(0),
            nat: NatClass(0),
            senders: Vec::new(),
            server: Sending::new(HomeId(u32::MAX), u32::MAX, false, 0, Ask { now: 102, next: 102, from: 0 }, 0),
            candidates: VecDeque::new(),
            avoid: VecDeque::new(),
            ctrl: RedundancyController::new(cfg.redundancy()).unwrap(),
            rx: VecDeque::new(),
            first_block: 0,
            active: true,
            home_bytes: 0,
            nodes_used: 0,
            evictions: 0,
        }
    }

    fn sender(h: u32, ask: u16, since: u32) -> Sending {
        Sending::new(HomeId(h), h, false, 0, Ask { now: ask, next: ask, from: 0 }, since)
    }

    #[test]
    fn a_sender_below_half_its_promise_is_evicted() {
        let mut c = client();
        c.senders = vec![sender(1, 10, 0), sender(2, 10, 0), sender(3, 10, 0), sender(4, 10, 7)];
        c.senders[0].record(5, 5); // exactly half: kept
        c.senders[1].record(5, 4); // below half: evicted
        c.senders[2].record(5, 10);
        // Sender 4 starts at block 7: nothing is expected of it yet.
        assert_eq!(c.review(5, 1_000_000_000), vec![HomeId(2)]);
        c.evict(HomeId(2));
        assert_eq!(c.senders.iter().map(|s| s.home.0).collect::<Vec<_>>(), [1, 3, 4]);
        assert_eq!((c.evictions, c.avoid.back()), (1, Some(&HomeId(2))));
    }

    #[test]
    fn the_avoid_list_is_bounded() {
        let mut c = client();
        for h in 0..(MAX_AVOID as u32 + 10) {
            c.evict(HomeId(h));
        }
        assert_eq!(c.avoid.len(), MAX_AVOID);
        assert_eq!(c.avoid.front(), Some(&HomeId(10)));
    }

    #[test]
    fn asks_ramp_by_a_step_per_full_block_and_the_server_covers_the_rest() {
        // Share 10 over 4 blocks: steps of 3 (rounded up), capped at 10.
        let mut c = client();
        c.senders = vec![sender(1, 0, 5)];
        let total = 102;
        let mut asks = Vec::new();
        for from in 5..11u32 {
            let reviewed = from - 2;
            let promised = c.senders[0].ask.at(reviewed);
            c.senders[0].record(reviewed, promised); // delivered in full
            c.plan_asks(from, total, 10, 4);
            asks.push((c.senders[0].ask.at(from), c.server.ask.at(from)));
        }
        assert_eq!(asks, [(3, 99), (6, 96), (9, 93), (10, 92), (10, 92), (10, 92)]);
        // The ask in effect before `from` stays until then.
        assert_eq!(c.senders[0].ask.at(9), 10);
    }

    #[test]
    fn a_sender_that_fell_short_does_not_grow() {
        let mut c = client();
        c.senders = vec![sender(1, 6, 0)];
        c.senders[0].record(3, 5); // promised 6, got 5
        c.plan_asks(5, 102, 10, 4);
        assert_eq!((c.senders[0].ask.at(5), c.server.ask.at(5)), (6, 96));
    }

    #[test]
    fn server_repair_is_due_only_for_undecoded_blocks_not_yet_played() {
        let mut c = client();
        c.first_block = 4;
        assert_eq!(c.repair_needed(3, 0, 100, 2), None, "before the client's first block");
        assert_eq!(c.repair_needed(6, 7, 100, 2), None, "already played past");
        assert_eq!(c.repair_needed(6, 6, 100, 2), Some(102), "nothing held: K + headroom");
    }
}
