//! An IDC node's part in the tree: whether it receives the stream, whom it
//! sends it to, and the recent chunks it holds.

use std::collections::VecDeque;

use cdnsim_engine::RngStream;
use cdnsim_net::{ChannelId, Fifo};

use crate::event::Chunk;

/// Blocks a node keeps (its "GOP cache"): a new subscriber starts from the
/// newest complete one, and duplicates within the window are recognised.
pub const WINDOW_BLOCKS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sub {
    /// The ingest source: always has the stream.
    Root,
    /// Not receiving the stream.
    Idle,
    /// Subscribed to its parent.
    Joined,
}

pub struct NodeState {
    pub parent: Option<u32>,
    /// Tree hops from the ingest source: what a chunk held here has taken.
    pub depth: u8,
    /// Channel to the parent, for control messages.
    pub up: Option<ChannelId>,
    pub sub: Sub,
    /// Subscribed children, in subscription order.
    pub children: Vec<u32>,
    /// Attached viewers, in join order.
    pub viewers: Vec<u32>,
    pub window: BlockWindow,
    /// The node's access-side egress, shared by its viewers.
    pub egress: Fifo,
    pub access_rng: RngStream,
}

/// Which chunks of the last [`WINDOW_BLOCKS`] blocks a node holds.
pub struct BlockWindow {
    chunks_per_block: u16,
    /// (block, presence bits, count), oldest first, blocks ascending.
    blocks: VecDeque<(u32, Vec<u64>, u16)>,
}

impl BlockWindow {
    pub fn new(chunks_per_block: u16) -> Self {
        BlockWindow { chunks_per_block, blocks: VecDeque::with_capacity(WINDOW_BLOCKS + 1) }
    }

    pub fn clear(&mut self) {
        self.blocks.clear();
    }

    /// Records `c`; false if it was already held. A chunk older than the
    /// window is not recorded but counts as new: the node cannot tell.
    pub fn insert(&mut self, c: Chunk) -> bool {
        let words = (self.chunks_per_block as usize).div_ceil(64);
        let pos = match self.blocks.iter().position(|(b, _, _)| *b >= c.block) {
            Some(i) if self.blocks[i].0 == c.block => i,
            Some(i) => {
                if i == 0 && self.blocks.len() >= WINDOW_BLOCKS {
                    return true;
                }
                self.blocks.insert(i, (c.block, vec![0; words], 0));
                i
            }
            None => {
                self.blocks.push_back((c.block, vec![0; words], 0));
                self.blocks.len() - 1
            }
        };
        let (_, bits, count) = &mut self.blocks[pos];
        let (w, b) = (c.index as usize / 64, c.index as usize % 64);
        if bits[w] & (1 << b) != 0 {
            return false;
        }
        bits[w] |= 1 << b;
        *count += 1;
        while self.blocks.len() > WINDOW_BLOCKS {
            self.blocks.pop_front();
        }
        true
    }

    /// Held chunks a new subscriber gets: from the newest complete block
    /// (or, with none complete, the oldest held) onwards, in order.
    pub fn backlog(&self) -> Vec<Chunk> {
        let full = self.chunks_per_block;
        let start = self
            .blocks
            .iter()
            .rposition(|(_, _, n)| *n == full)
            .unwrap_or(0);
        let mut out = Vec::new();
        for (block, bits, _) in self.blocks.iter().skip(start) {
            for index in 0..full {
                if bits[index as usize / 64] & (1 << (index % 64)) != 0 {
                    out.push(Chunk { block: *block, index });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(block: u32, index: u16) -> Chunk {
        Chunk { block, index }
    }

    #[test]
    fn backlog_starts_at_newest_complete_block() {
        let mut w = BlockWindow::new(3);
        for i in 0..3 {
            assert!(w.insert(c(5, i)));
        }
        assert!(!w.insert(c(5, 1)), "duplicate");
        assert!(w.insert(c(6, 0)));
        assert!(w.insert(c(6, 2)));
        assert_eq!(w.backlog(), vec![c(5, 0), c(5, 1), c(5, 2), c(6, 0), c(6, 2)]);
        for i in 0..3 {
            w.insert(c(7, i));
        }
        assert_eq!(w.backlog(), vec![c(7, 0), c(7, 1), c(7, 2)]);
    }

    #[test]
    fn window_is_bounded_and_old_chunks_pass() {
        let mut w = BlockWindow::new(1);
        for b in 0..20 {
            w.insert(c(b, 0));
        }
        assert_eq!(w.blocks.len(), WINDOW_BLOCKS);
        assert!(w.insert(c(2, 0)), "older than the window: cannot be recognised");
        assert_eq!(w.blocks.len(), WINDOW_BLOCKS);
    }
}
