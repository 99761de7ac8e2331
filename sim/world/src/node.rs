//! An IDC node's part in delivering each stream it carries: whether it
//! receives it, from whom, whom it sends it to, and the recent chunks it
//! holds.

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

/// Slots of a window: one more than it keeps, for the block that enters
/// before the oldest leaves.
const SLOTS: usize = WINDOW_BLOCKS + 1;

/// Which chunks of the last [`WINDOW_BLOCKS`] blocks a node holds.
///
/// Held inline, blocks ascending in slots `0..len`: a node carries tens of
/// thousands of streams at the flagship's size, and a window of its own
/// allocations per carry (a deque and a bit vector per block) was a fifth
/// of the run's memory and a cache miss per chunk (benches/README.md,
/// "Memory of the flagship").
pub struct BlockWindow {
    chunks_per_block: u16,
    /// Presence words per block: ceil(chunks per block / 64).
    words: usize,
    len: usize,
    blocks: [u32; SLOTS],
    counts: [u16; SLOTS],
    bits: Bits,
}

/// The presence bits of every slot: slot i's words at i * words.
enum Bits {
    /// Up to 64 chunks per block (every bundled scenario): no allocation.
    One([u64; SLOTS]),
    Many(Box<[u64]>),
}

impl Bits {
    fn words(&mut self) -> &mut [u64] {
        match self {
            Bits::One(b) => b,
            Bits::Many(b) => b,
        }
    }
    fn read(&self) -> &[u64] {
        match self {
            Bits::One(b) => b,
            Bits::Many(b) => b,
        }
    }
}

impl BlockWindow {
    pub fn new(chunks_per_block: u16) -> Self {
        let words = (chunks_per_block as usize).div_ceil(64).max(1);
        let bits = if words == 1 { Bits::One([0; SLOTS]) } else { Bits::Many(vec![0; SLOTS * words].into_boxed_slice()) };
        BlockWindow { chunks_per_block, words, len: 0, blocks: [0; SLOTS], counts: [0; SLOTS], bits }
    }

    /// Blocks held (at most [`WINDOW_BLOCKS`]).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Records `c`, unless it is held already or older than the window.
    pub fn insert(&mut self, c: Chunk) -> Insert {
        let pos = match self.blocks[..self.len].iter().position(|&b| b >= c.block) {
            Some(i) if self.blocks[i] == c.block => i,
            Some(i) => {
                if i == 0 && self.len >= WINDOW_BLOCKS {
                    return Insert::TooOld;
                }
                self.open(i, c.block);
                i
            }
            None => {
                let i = self.len;
                self.open(i, c.block);
                i
            }
        };
        let (w, b) = (c.index as usize / 64, c.index as usize % 64);
        let word = &mut self.bits.words()[pos * self.words + w];
        if *word & (1 << b) != 0 {
            return Insert::Held;
        }
        *word |= 1 << b;
        self.counts[pos] += 1;
        let completes = self.counts[pos] == self.chunks_per_block;
        if self.len > WINDOW_BLOCKS {
            self.drop_oldest();
        }
        Insert::New { completes }
    }

    /// An empty slot for `block` at `i`, the later ones moved up one.
    fn open(&mut self, i: usize, block: u32) {
        let (len, words) = (self.len, self.words);
        self.blocks.copy_within(i..len, i + 1);
        self.counts.copy_within(i..len, i + 1);
        let bits = self.bits.words();
        bits.copy_within(i * words..len * words, (i + 1) * words);
        bits[i * words..(i + 1) * words].fill(0);
        self.blocks[i] = block;
        self.counts[i] = 0;
        self.len += 1;
    }

    fn drop_oldest(&mut self) {
        let (len, words) = (self.len, self.words);
        self.blocks.copy_within(1..len, 0);
        self.counts.copy_within(1..len, 0);
        self.bits.words().copy_within(words..len * words, 0);
        self.len -= 1;
    }

    /// Held chunks a new subscriber gets: from the newest complete block
    /// (or, with none complete, the oldest held) onwards, in order.
    pub fn backlog(&self, stream: u32) -> Vec<Chunk> {
        let start = self.counts[..self.len].iter().rposition(|&n| n == self.chunks_per_block).unwrap_or(0);
        self.chunks_from(stream, start)
    }

    /// Held chunks of blocks `from_block` onwards, in order: what a child
    /// that switched here gets, so it continues at a block boundary.
    pub fn backlog_from(&self, stream: u32, from_block: u32) -> Vec<Chunk> {
        let start = self.blocks[..self.len].iter().position(|&b| b >= from_block).unwrap_or(self.len);
        self.chunks_from(stream, start)
    }

    fn chunks_from(&self, stream: u32, start: usize) -> Vec<Chunk> {
        let mut out = Vec::new();
        let bits = self.bits.read();
        for slot in start..self.len {
            let held = &bits[slot * self.words..(slot + 1) * self.words];
            for index in 0..self.chunks_per_block {
                if held[index as usize / 64] & (1 << (index % 64)) != 0 {
                    out.push(Chunk { stream, block: self.blocks[slot], index });
                }
            }
        }
        out
    }

    /// Newest block held completely, if any.
    pub fn newest_complete(&self) -> Option<u32> {
        (0..self.len).rev().find(|&i| self.counts[i] == self.chunks_per_block).map(|i| self.blocks[i])
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

    /// A window of up to 64 chunks per block lives inside its carry.
    #[test]
    fn a_small_window_allocates_nothing() {
        assert!(matches!(BlockWindow::new(64).bits, Bits::One(_)));
        assert!(matches!(BlockWindow::new(65).bits, Bits::Many(_)));
        assert!(std::mem::size_of::<BlockWindow>() <= 160, "{} bytes", std::mem::size_of::<BlockWindow>());
    }

    /// The window against a plain model of its rule (a sorted map of
    /// blocks to chunk sets, the oldest dropped past the bound), on random
    /// arrivals around a moving edge, for block sizes on both sides of a
    /// presence word.
    #[test]
    fn matches_a_sorted_map_model_of_the_rule() {
        use std::collections::{BTreeMap, BTreeSet};
        use rand::Rng;
        for cpb in [1u16, 8, 63, 64, 65, 130] {
            let mut rng = cdnsim_engine::stream(99, "test.window");
            let mut w = BlockWindow::new(cpb);
            let mut model: BTreeMap<u32, BTreeSet<u16>> = BTreeMap::new();
            for step in 0..20_000u32 {
                let edge = step / 40;
                let block = edge.saturating_sub(rng.random_range(0..12)) + rng.random_range(0..3);
                let index = rng.random_range(0..cpb);
                let expect = if let Some(set) = model.get_mut(&block) {
                    if set.insert(index) { Insert::New { completes: set.len() == cpb as usize } } else { Insert::Held }
                } else if model.len() >= WINDOW_BLOCKS && block < *model.keys().next().unwrap() {
                    Insert::TooOld
                } else {
                    model.insert(block, BTreeSet::from([index]));
                    let completes = cpb == 1;
                    while model.len() > WINDOW_BLOCKS {
                        model.pop_first();
                    }
                    Insert::New { completes }
                };
                assert_eq!(w.insert(c(block, index)), expect, "cpb {cpb}, step {step}, chunk ({block}, {index})");
                if step % 97 == 0 {
                    let full = |set: &BTreeSet<u16>| set.len() == cpb as usize;
                    let newest = model.iter().rev().find(|(_, s)| full(s)).map(|(&b, _)| b);
                    assert_eq!(w.newest_complete(), newest);
                    let from = newest.or(model.keys().next().copied()).unwrap_or(0);
                    let all = |from: u32| -> Vec<Chunk> {
                        model.range(from..).flat_map(|(&b, set)| set.iter().map(move |&i| c(b, i))).collect()
                    };
                    assert_eq!(w.backlog(0), all(from));
                    assert_eq!(w.backlog_from(0, edge), all(edge));
                }
            }
        }
    }

    #[test]
    fn window_is_bounded_and_old_chunks_are_told_apart() {
        let mut w = BlockWindow::new(1);
        for b in 0..20 {
            w.insert(c(b, 0));
        }
        assert_eq!(w.len(), WINDOW_BLOCKS);
        assert_eq!(w.insert(c(2, 0)), Insert::TooOld, "older than the window: not taken as new");
        assert_eq!(w.len(), WINDOW_BLOCKS);
    }
}
