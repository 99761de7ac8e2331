//! An IDC node's part in delivering each stream it carries: whether it
//! receives it, from whom, whom it sends it to, and the recent chunks it
//! holds.

use std::collections::VecDeque;

use cdnsim_engine::RngStream;
use cdnsim_net::Fifo;
use cdnsim_routing::SpliceCounter;

use crate::event::Chunk;

/// Blocks a node keeps (its "GOP cache"): a new subscriber starts from the
/// newest complete one, and duplicates within the window are recognised.
pub const WINDOW_BLOCKS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sub {
    /// The stream's ingest node: always has it.
    Root,
    /// On a route that is being set up: its subscription is on the way.
    Planned,
    /// Subscribed to its parent(s).
    Joined,
}

/// What every IDC node has whatever it carries: the access-side egress its
/// viewers share, and the loss draws of its access network.
pub struct NodeState {
    pub egress: Fifo,
    pub access_rng: RngStream,
}

/// A node's part in delivering one stream. Exists while the node carries
/// the stream (or is about to); removed when it has no viewers, no children
/// and no subscription on its way to it.
pub struct Carry {
    pub sub: Sub,
    /// Upstream nodes: one, or two for a hot stream pushed over disjoint
    /// paths (duplicates are recognised by the window).
    pub parents: Vec<u32>,
    /// IDC hops the last chunk received here had taken: what a backlog sent
    /// on from here has taken.
    pub hops: u8,
    /// Subscribed children with the last block each still wants
    /// (`u32::MAX` = all), in subscription order.
    pub children: Vec<(u32, u32)>,
    /// Attached viewers, in join order.
    pub viewers: Vec<u32>,
    /// Subscriptions sent to this node that have not arrived yet: it must
    /// not let the stream go while one is on its way.
    pub expected: u16,
    /// Held whatever its audience: a tree's root, a hot stream's push target.
    pub pinned: bool,
    /// Users a part serves from here (last-hop clients and home nodes),
    /// counted through `Surroundings::attach` / `detach`.
    pub part_users: u32,
    pub window: BlockWindow,
    /// Which blocks arrived here, whole or in part, for as long as the node
    /// carries the stream: its gaps and replays across upstream changes.
    pub splice: SpliceCounter,
    /// After a switch: the new upstream and the block it was asked to
    /// resume at, until its first chunk arrives.
    pub resume: Option<(u32, u32)>,
}

impl Carry {
    pub fn new(sub: Sub, chunks_per_block: u16) -> Self {
        Carry {
            sub,
            parents: Vec::new(),
            hops: 0,
            children: Vec::new(),
            viewers: Vec::new(),
            expected: 0,
            pinned: false,
            part_users: 0,
            window: BlockWindow::new(chunks_per_block),
            splice: SpliceCounter::new(),
            resume: None,
        }
    }

    /// Nothing keeps the stream here any more.
    pub fn unused(&self) -> bool {
        self.sub != Sub::Root
            && !self.pinned
            && self.children.is_empty()
            && self.viewers.is_empty()
            && self.expected == 0
            && self.part_users == 0
    }
}

/// What [`BlockWindow::insert`] made of a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    /// Recorded; `completes`: it was the block's last missing chunk (a
    /// block held whole would have answered `Held`, so this is the moment
    /// it becomes complete).
    New { completes: bool },
    /// Held already.
    Held,
    /// Older than every block the window holds while it is full: the
    /// window cannot tell, the node's [`SpliceCounter`] may.
    TooOld,
}

/// Which chunks of the last [`WINDOW_BLOCKS`] blocks a node holds.
pub struct BlockWindow {
    chunks_per_block: u16,
    /// (block, presence bits, count), oldest first, blocks ascending.
    blocks: VecDeque<(u32, Vec<u64>, u16)>,
    /// The bits of the block that last left the window, zeroed, for the
    /// next block that enters it (a new block per block time would
    /// otherwise allocate once per block and node).
    spare: Option<Vec<u64>>,
}

impl BlockWindow {
    pub fn new(chunks_per_block: u16) -> Self {
        BlockWindow { chunks_per_block, blocks: VecDeque::with_capacity(WINDOW_BLOCKS + 1), spare: None }
    }

    /// Records `c`, unless it is held already or older than the window.
    pub fn insert(&mut self, c: Chunk) -> Insert {
        let words = (self.chunks_per_block as usize).div_ceil(64);
        let pos = match self.blocks.iter().position(|(b, _, _)| *b >= c.block) {
            Some(i) if self.blocks[i].0 == c.block => i,
            Some(i) => {
                if i == 0 && self.blocks.len() >= WINDOW_BLOCKS {
                    return Insert::TooOld;
                }
                let bits = self.fresh_bits(words);
                self.blocks.insert(i, (c.block, bits, 0));
                i
            }
            None => {
                let bits = self.fresh_bits(words);
                self.blocks.push_back((c.block, bits, 0));
                self.blocks.len() - 1
            }
        };
        let (_, bits, count) = &mut self.blocks[pos];
        let (w, b) = (c.index as usize / 64, c.index as usize % 64);
        if bits[w] & (1 << b) != 0 {
            return Insert::Held;
        }
        bits[w] |= 1 << b;
        *count += 1;
        let completes = *count == self.chunks_per_block;
        while self.blocks.len() > WINDOW_BLOCKS {
            if let Some((_, mut bits, _)) = self.blocks.pop_front() {
                bits.fill(0);
                self.spare = Some(bits);
            }
        }
        Insert::New { completes }
    }

    /// All-zero presence bits of `words` words (every block's are): the
    /// spare if there is one.
    fn fresh_bits(&mut self, words: usize) -> Vec<u64> {
        self.spare.take().unwrap_or_else(|| vec![0; words])
    }

    /// Held chunks a new subscriber gets: from the newest complete block
    /// (or, with none complete, the oldest held) onwards, in order.
    pub fn backlog(&self, stream: u32) -> Vec<Chunk> {
        let start = self.blocks.iter().rposition(|(_, _, n)| *n == self.chunks_per_block).unwrap_or(0);
        self.chunks_from(stream, start)
    }

    /// Held chunks of blocks `from_block` onwards, in order: what a child
    /// that switched here gets, so it continues at a block boundary.
    pub fn backlog_from(&self, stream: u32, from_block: u32) -> Vec<Chunk> {
        let start = self.blocks.iter().position(|(b, _, _)| *b >= from_block).unwrap_or(self.blocks.len());
        self.chunks_from(stream, start)
    }

    fn chunks_from(&self, stream: u32, start: usize) -> Vec<Chunk> {
        let mut out = Vec::new();
        for (block, bits, _) in self.blocks.iter().skip(start) {
            for index in 0..self.chunks_per_block {
                if bits[index as usize / 64] & (1 << (index % 64)) != 0 {
                    out.push(Chunk { stream, block: *block, index });
                }
            }
        }
        out
    }

    /// Newest block held completely, if any.
    pub fn newest_complete(&self) -> Option<u32> {
        self.blocks.iter().rev().find(|(_, _, n)| *n == self.chunks_per_block).map(|b| b.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(block: u32, index: u16) -> Chunk {
        Chunk { stream: 0, block, index }
    }

    #[test]
    fn backlog_starts_at_newest_complete_block() {
        let mut w = BlockWindow::new(3);
        for i in 0..3 {
            assert_eq!(w.insert(c(5, i)), Insert::New { completes: i == 2 });
        }
        assert_eq!(w.insert(c(5, 1)), Insert::Held, "duplicate");
        assert_eq!(w.insert(c(6, 0)), Insert::New { completes: false });
        assert_eq!(w.insert(c(6, 2)), Insert::New { completes: false });
        assert_eq!(w.backlog(0), vec![c(5, 0), c(5, 1), c(5, 2), c(6, 0), c(6, 2)]);
        assert_eq!(w.backlog_from(0, 6), vec![c(6, 0), c(6, 2)]);
        assert_eq!(w.newest_complete(), Some(5));
        for i in 0..3 {
            w.insert(c(7, i));
        }
        assert_eq!(w.backlog(0), vec![c(7, 0), c(7, 1), c(7, 2)]);
    }

    #[test]
    fn window_is_bounded_and_old_chunks_are_told_apart() {
        let mut w = BlockWindow::new(1);
        for b in 0..20 {
            w.insert(c(b, 0));
        }
        assert_eq!(w.blocks.len(), WINDOW_BLOCKS);
        assert_eq!(w.insert(c(2, 0)), Insert::TooOld, "older than the window: not taken as new");
        assert_eq!(w.blocks.len(), WINDOW_BLOCKS);
    }
}
