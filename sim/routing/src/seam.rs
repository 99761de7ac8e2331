//! Seamless switching. Streams are numbered blocks (a block starts at a
//! boundary the receiver can splice at, such as a keyframe group). Two
//! upstreams do not hold the same range of blocks, so when a node or viewer
//! changes upstream, the new one must start exactly after the last block
//! received: earlier would replay blocks, later would leave a gap. The talk
//! splices "at the next P frame" (docs/references.md, Seamless splicing);
//! here the unit is the block.

/// Where a new upstream starts sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Send from this block on: no gap and no replay.
    From(u32),
    /// The new upstream no longer holds the next block: blocks
    /// `first_missing..resume_at` are lost, and it sends from `resume_at`.
    Gap {
        /// The block after the last one received.
        first_missing: u32,
        /// The oldest block the new upstream holds.
        resume_at: u32,
    },
}

/// The block a new upstream must start at. `last_block_received` is the
/// receiver's last complete block (`None` for a fresh receiver, which starts
/// at the upstream's oldest block); `new_upstream_oldest_held` is the
/// oldest block the new upstream still holds. A new upstream that is behind
/// (it has not yet received the next block) starts there when the block
/// arrives: nothing is replayed.
pub fn resume_block(last_block_received: Option<u32>, new_upstream_oldest_held: u32) -> Resume {
    match last_block_received {
        None => Resume::From(new_upstream_oldest_held),
        Some(last) => {
            let next = last.saturating_add(1);
            if new_upstream_oldest_held <= next {
                Resume::From(next)
            } else {
                Resume::Gap { first_missing: next, resume_at: new_upstream_oldest_held }
            }
        }
    }
}

/// Blocks a [`SpliceCounter`] remembers behind the newest one it saw: a
/// block arriving later than this is not told apart from a new one.
pub const SPLICE_HORIZON_BLOCKS: u32 = 64;

/// Receiver-side check of a block sequence across upstream changes: counts
/// blocks the receiver never got (gaps), got only part of, or got again
/// (replays). Blocks may arrive out of order (a retransmitted chunk
/// completes an older block after a newer one): a block is a gap only if
/// it is still missing when it leaves the horizon or when the receiver
/// [`finish`](SpliceCounter::finish)es. The world keeps one per receiving
/// node and reports the sums as metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpliceCounter {
    /// The first block ever received whole: nothing before it is missed.
    first: Option<u32>,
    /// Newest block seen (whole or in part), and the newest seen whole.
    newest: u32,
    newest_whole: u32,
    /// Bit i: block `newest - i` arrived whole / arrived at least in part.
    whole: u64,
    part: u64,
    /// Blocks of which nothing arrived (or was sent), between blocks that
    /// did.
    pub gap_blocks: u64,
    /// Blocks of which some parts arrived (or were sent) but never all.
    pub partial_blocks: u64,
    /// Whole blocks received again.
    pub replayed_blocks: u64,
}

impl SpliceCounter {
    /// A receiver that has received nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The newest block received whole, if any.
    pub fn last(&self) -> Option<u32> {
        self.first.map(|_| self.newest_whole)
    }

    /// Records that `block` arrived whole (completed at the receiver).
    pub fn receive(&mut self, block: u32) {
        if self.first.is_some() && self.held(block) == Some(true) {
            self.replayed_blocks += 1;
            return;
        }
        if self.mark(block) {
            let bit = 1u64 << (self.newest - block);
            self.whole |= bit;
            self.part |= bit;
        }
        if self.first.is_none() {
            self.first = Some(block);
            self.newest_whole = block;
        }
        self.newest_whole = self.newest_whole.max(block);
    }

    /// Records that part of `block` arrived (a chunk of it), or was sent
    /// towards the receiver and lost: then a missing block is a loss
    /// (`partial_blocks`), not one nobody sent (`gap_blocks`).
    pub fn receive_part(&mut self, block: u32) {
        if self.mark(block) {
            self.part |= 1u64 << (self.newest - block);
        }
    }

    /// Whether `block` arrived whole: `None` when it is older than the
    /// horizon (or nothing arrived yet), so the receiver cannot tell.
    pub fn held(&self, block: u32) -> Option<bool> {
        self.bit(self.whole, block)
    }

    /// Whether any part of `block` arrived (or was sent towards the
    /// receiver); `None` when it is older than the horizon or nothing
    /// arrived yet.
    pub fn seen(&self, block: u32) -> Option<bool> {
        self.bit(self.part, block)
    }

    /// `block`'s bit in `bits` (`whole` or `part`), as `held` and `seen`
    /// answer.
    fn bit(&self, bits: u64, block: u32) -> Option<bool> {
        if self.first.is_none() && self.part == 0 {
            return None;
        }
        if block > self.newest {
            return Some(false);
        }
        let age = self.newest - block;
        (age < SPLICE_HORIZON_BLOCKS).then(|| bits & (1u64 << age) != 0)
    }

    /// The receiver stops (it lets the stream go, or the run ends): blocks
    /// still missing between the first and the newest whole block count.
    pub fn finish(&mut self) {
        let Some(first) = self.first else { return };
        for age in 0..SPLICE_HORIZON_BLOCKS.min(self.newest - first + 1) {
            let block = self.newest - age;
            if block < self.newest_whole && block > first {
                self.count_missing(age);
            }
        }
        self.first = None;
        (self.whole, self.part) = (0, 0);
    }

    /// Moves the horizon so `block` fits; false when `block` is older than
    /// it (too late to record). Blocks pushed out of the horizon still
    /// missing count as missed.
    fn mark(&mut self, block: u32) -> bool {
        if self.first.is_none() && self.part == 0 {
            self.newest = block;
            return true;
        }
        if block <= self.newest {
            return self.newest - block < SPLICE_HORIZON_BLOCKS;
        }
        let shift = block - self.newest;
        if let Some(first) = self.first {
            // Blocks leaving the horizon: ages 64 - shift .. 63.
            for age in SPLICE_HORIZON_BLOCKS.saturating_sub(shift)..SPLICE_HORIZON_BLOCKS {
                let b = self.newest.wrapping_sub(age);
                if age <= self.newest && b > first {
                    self.count_missing(age);
                }
            }
        }
        (self.whole, self.part) = if shift >= 64 { (0, 0) } else { (self.whole << shift, self.part << shift) };
        self.newest = block;
        true
    }

    fn count_missing(&mut self, age: u32) {
        let bit = 1u64 << age;
        if self.whole & bit == 0 {
            if self.part & bit == 0 {
                self.gap_blocks += 1;
            } else {
                self.partial_blocks += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_rules() {
        assert_eq!(resume_block(None, 40), Resume::From(40));
        assert_eq!(resume_block(Some(41), 30), Resume::From(42));
        assert_eq!(resume_block(Some(41), 42), Resume::From(42));
        // Behind: still 42, sent when it arrives there.
        assert_eq!(resume_block(Some(41), 10), Resume::From(42));
        assert_eq!(resume_block(Some(41), 45), Resume::Gap { first_missing: 42, resume_at: 45 });
    }

    /// Upstreams hold sliding windows of blocks at different offsets (one
    /// ahead, one behind); the receiver switches every few blocks and
    /// always resumes where `resume_block` says: no gap, no replay.
    #[test]
    fn switching_between_upstreams_has_no_gap_and_no_replay() {
        // Upstream k holds blocks [now - 8 + lag_k, now + lag_k]: lags -2..=2
        // (negative: behind the receiver's pace).
        let lags: [i64; 5] = [-2, 1, 0, 2, -1];
        let mut rx = SpliceCounter::new();
        let mut upstream = 0usize;
        let mut next_block: Option<u32> = None;
        for now in 10i64..500 {
            if now % 7 == 0 {
                upstream = (upstream + 3) % lags.len();
                let oldest = (now - 8 + lags[upstream]) as u32;
                next_block = Some(match resume_block(rx.last(), oldest) {
                    Resume::From(b) => b,
                    Resume::Gap { .. } => panic!("window of 8 blocks covers every lag"),
                });
            }
            let newest = (now + lags[upstream]) as u32;
            // The upstream sends every block from next_block up to what it has.
            let mut b = next_block.unwrap_or(newest);
            while b <= newest {
                rx.receive(b);
                b += 1;
            }
            next_block = Some(b);
        }
        assert_eq!(rx.gap_blocks, 0);
        assert_eq!(rx.replayed_blocks, 0);
        assert!(rx.last().unwrap() > 490);

        // A naive switch to the new upstream's newest block does leave gaps
        // and replays, so the counter is not vacuous.
        let mut naive = SpliceCounter::new();
        for (k, start) in [(0u32, 10u32), (1, 25), (2, 21)] {
            for b in start..start + 8 {
                naive.receive(b + k);
            }
        }
        naive.finish();
        assert!(naive.gap_blocks > 0 && naive.replayed_blocks > 0);
    }

    #[test]
    fn late_blocks_fill_holes_and_missing_ones_count_once() {
        let mut rx = SpliceCounter::new();
        // 10, 12 whole; 11 completes late (a retransmission): no gap.
        rx.receive(10);
        rx.receive(12);
        rx.receive(11);
        assert_eq!(rx.held(11), Some(true));
        assert_eq!((rx.seen(11), rx.seen(13), rx.seen(99)), (Some(true), Some(false), Some(false)));
        // 13 only in part, 14 not at all, 15 whole; 12 again.
        rx.receive_part(13);
        rx.receive(15);
        rx.receive(12);
        rx.finish();
        assert_eq!((rx.gap_blocks, rx.partial_blocks, rx.replayed_blocks), (1, 1, 1));
        // Nothing counted twice by a second finish.
        rx.finish();
        assert_eq!((rx.gap_blocks, rx.partial_blocks), (1, 1));
    }

    #[test]
    fn blocks_leaving_the_horizon_missing_are_gaps() {
        let mut rx = SpliceCounter::new();
        rx.receive(0);
        // 1..=9 never arrive; the stream runs on for 200 blocks.
        for b in 10..200 {
            rx.receive(b);
        }
        assert_eq!(rx.gap_blocks, 9, "counted as they leave the horizon");
        assert_eq!(rx.held(5), None, "too old to tell");
        rx.finish();
        assert_eq!((rx.gap_blocks, rx.partial_blocks, rx.replayed_blocks), (9, 0, 0));
        // Blocks before the first one received are not missed.
        let mut late = SpliceCounter::new();
        late.receive(500);
        late.receive(501);
        late.finish();
        assert_eq!(late.gap_blocks, 0);
    }
}
