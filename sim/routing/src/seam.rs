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

/// Receiver-side check of a block sequence across upstream changes: counts
/// blocks skipped (gaps) and blocks received again (replays). The world
/// keeps one per receiver and reports the counts as metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpliceCounter {
    last: Option<u32>,
    /// Blocks never received between two received blocks.
    pub gap_blocks: u64,
    /// Blocks received at or before the last one already received.
    pub replayed_blocks: u64,
}

impl SpliceCounter {
    /// A receiver that has received nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last block received, if any.
    pub fn last(&self) -> Option<u32> {
        self.last
    }

    /// Records the arrival of `block`.
    pub fn receive(&mut self, block: u32) {
        match self.last {
            Some(last) if block <= last => self.replayed_blocks += 1,
            Some(last) => {
                self.gap_blocks += (block - last - 1) as u64;
                self.last = Some(block);
            }
            None => self.last = Some(block),
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
        assert!(naive.gap_blocks > 0 && naive.replayed_blocks > 0);
    }
}
