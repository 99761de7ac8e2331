//! A viewer session and its player.
//!
//! Playout rule: playback starts at `join + playout_delay`, or when the
//! first block completes if that is later (a late start is startup time,
//! not a stall). After that the player needs the next block every block
//! duration. At a block's deadline:
//! - the block is complete: it plays;
//! - it is not, but a later block is: the player skips ahead to the oldest
//!   complete block (a glitch: counted in `blocks_skipped`, not a freeze);
//! - nothing later is complete either: the player freezes (a stall) until a
//!   block at or after the one it wants completes, then plays that one and
//!   the schedule shifts by the frozen time, as a real rebuffering player's
//!   does.
//!
//! End-to-end latency of a block is its play time minus the capture time of
//! its first frame (block index x block duration).

use cdnsim_engine::{SimDuration, SimTime};

/// How far ahead of playout a viewer buffers; a chunk further ahead is
/// refused (a live source cannot be that far ahead, so this is a bound,
/// not a policy).
pub const MAX_AHEAD_BLOCKS: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Play {
    /// Playback has not started.
    Waiting { deadline_passed: bool },
    Playing,
    Stalled { since: SimTime },
}

pub struct Viewer {
    pub stream: u32,
    pub edge: u32,
    pub region: u16,
    pub join: SimTime,
    pub leave: SimTime,
    pub attached: bool,
    /// Fewest hops (access hop included) of a path the routing mode
    /// allowed at join; `None` when there was none then.
    pub shortest_hops: Option<u8>,
    pub play: Play,
    /// The block to play next; `None` until the first chunk arrives.
    pub next_block: Option<u32>,
    /// Chunks received of blocks next_block, next_block + 1, ...
    pub counts: Ahead,
    pub first_complete: Option<SimTime>,
    pub play_start: Option<SimTime>,
    pub stats: ViewerStats,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ViewerStats {
    pub played: u64,
    pub skipped: u64,
    pub stalls: u64,
    pub stall_ns: u64,
    /// Saturates (a bound of 584 years of summed latency, which no run
    /// reaches); a u128 here would align the whole viewer to 16 bytes.
    pub e2e_sum_ns: u64,
    pub e2e_max_ns: u64,
    /// Bytes from IDC nodes, and hop-weighted.
    pub bytes: u64,
    pub hop_bytes: u64,
    pub home_bytes: u64,
    pub wasted_bytes: u64,
}

/// Blocks a player holds inline before it spills to the heap: a player
/// is rarely more than a few blocks ahead of playout (the playout delay
/// over the block duration), and a deque of its own cost every viewer an
/// allocation (benches/README.md, "Memory of the flagship"). 11, so that
/// the whole is 24 bytes.
const AHEAD_INLINE: usize = 11;

/// Chunks received per block from the player's next block on: index i is
/// block `next_block + i`, up to [`MAX_AHEAD_BLOCKS`] of them; `len`
/// blocks held. Inline up to [`AHEAD_INLINE`] blocks, then in a boxed
/// array of the bound. Slots at and past `len` are always zero.
#[derive(Clone, Debug)]
pub enum Ahead {
    Inline { len: u8, a: [u16; AHEAD_INLINE] },
    Heap { len: u8, b: Box<[u16; MAX_AHEAD_BLOCKS]> },
}

impl Default for Ahead {
    fn default() -> Self {
        Ahead::Inline { len: 0, a: [0; AHEAD_INLINE] }
    }
}

impl Ahead {
    fn parts(&mut self) -> (&mut u8, &mut [u16]) {
        match self {
            Ahead::Inline { len, a } => (len, a),
            Ahead::Heap { len, b } => (len, &mut b[..]),
        }
    }

    fn slots(&self) -> &[u16] {
        match self {
            Ahead::Inline { len, a } => &a[..*len as usize],
            Ahead::Heap { len, b } => &b[..*len as usize],
        }
    }

    /// Chunks of block `next_block + i` (0 when none arrived).
    pub fn at(&self, i: usize) -> u16 {
        self.slots().get(i).copied().unwrap_or(0)
    }

    /// Sets block `next_block + i`'s count; `i < MAX_AHEAD_BLOCKS`.
    pub fn set(&mut self, i: usize, n: u16) {
        assert!(i < MAX_AHEAD_BLOCKS, "block {i} ahead, the bound is {MAX_AHEAD_BLOCKS}");
        if let Ahead::Inline { len, a } = self
            && i >= AHEAD_INLINE
        {
            let mut b = Box::new([0; MAX_AHEAD_BLOCKS]);
            b[..AHEAD_INLINE].copy_from_slice(a);
            *self = Ahead::Heap { len: *len, b };
        }
        let (len, buf) = self.parts();
        buf[i] = n;
        *len = (*len).max(i as u8 + 1);
    }

    /// The first block with `n` chunks, as an index from `next_block`.
    pub fn first_at(&self, n: u16) -> Option<usize> {
        self.slots().iter().position(|&x| x == n)
    }

    /// Forgets blocks `next_block ..= next_block + i` (played or skipped):
    /// the rest move to the front.
    pub fn drop_through(&mut self, i: usize) {
        let (len, buf) = self.parts();
        let end = *len as usize;
        buf.copy_within(i + 1..end, 0);
        let kept = end - (i + 1);
        buf[kept..end].fill(0);
        *len = kept as u8;
    }

    /// The blocks held, from `next_block` on.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots().len()
    }
}

/// What the world must do after the player moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    None,
    /// A block played at `at` with this end-to-end latency; the next
    /// deadline is `at + block`.
    Played { e2e: SimDuration },
    /// A stall began.
    Stalled,
}

impl Viewer {
    pub fn new(stream: u32, edge: u32, region: u16, join: SimTime, leave: SimTime, shortest_hops: Option<u8>) -> Self {
        Viewer {
            stream,
            edge,
            region,
            join,
            leave,
            attached: true,
            shortest_hops,
            play: Play::Waiting { deadline_passed: false },
            next_block: None,
            counts: Ahead::default(),
            first_complete: None,
            play_start: None,
            stats: ViewerStats::default(),
        }
    }

    /// A chunk of `block` arrived (of `chunks_per_block`). Returns whether
    /// it was useful and what the player did.
    pub fn receive(&mut self, now: SimTime, block: u32, chunks_per_block: u16, block_ns: u64) -> (bool, Action) {
        self.add(now, block, 1, chunks_per_block, block_ns)
    }

    /// `block` decoded (the last hop's whole-block arrival): as if all its
    /// chunks had arrived.
    pub fn block_complete(&mut self, now: SimTime, block: u32, chunks_per_block: u16, block_ns: u64) -> (bool, Action) {
        self.add(now, block, chunks_per_block, chunks_per_block, block_ns)
    }

    fn add(&mut self, now: SimTime, block: u32, chunks: u16, chunks_per_block: u16, block_ns: u64) -> (bool, Action) {
        let next = *self.next_block.get_or_insert(block);
        if block < next || (block - next) as usize >= MAX_AHEAD_BLOCKS {
            return (false, Action::None);
        }
        let i = (block - next) as usize;
        let n = self.counts.at(i);
        if n == chunks_per_block {
            return (false, Action::None);
        }
        let n = (n + chunks).min(chunks_per_block);
        self.counts.set(i, n);
        if n != chunks_per_block {
            return (true, Action::None);
        }
        self.first_complete.get_or_insert(now);
        let action = match self.play {
            Play::Waiting { deadline_passed: true } => self.play_oldest_complete(now, chunks_per_block, block_ns),
            Play::Stalled { since } => {
                self.stats.stall_ns += (now - since).as_ns();
                self.play_oldest_complete(now, chunks_per_block, block_ns)
            }
            Play::Waiting { deadline_passed: false } | Play::Playing => Action::None,
        };
        (true, action)
    }

    /// The deadline of the next block (or of playback start) is now.
    pub fn deadline(&mut self, now: SimTime, chunks_per_block: u16, block_ns: u64) -> Action {
        let has_complete = self.counts.first_at(chunks_per_block).is_some();
        match self.play {
            Play::Waiting { .. } if !has_complete => {
                self.play = Play::Waiting { deadline_passed: true };
                Action::None
            }
            Play::Playing if !has_complete => {
                self.play = Play::Stalled { since: now };
                self.stats.stalls += 1;
                Action::Stalled
            }
            Play::Waiting { .. } | Play::Playing => self.play_oldest_complete(now, chunks_per_block, block_ns),
            Play::Stalled { .. } => unreachable!("no deadline is pending while stalled"),
        }
    }

    fn play_oldest_complete(&mut self, now: SimTime, chunks_per_block: u16, block_ns: u64) -> Action {
        let i = self.counts.first_at(chunks_per_block).expect("a complete block");
        let block = self.next_block.expect("started") + i as u32;
        self.stats.skipped += i as u64;
        self.counts.drop_through(i);
        self.next_block = Some(block + 1);
        self.play = Play::Playing;
        self.play_start.get_or_insert(now);
        let e2e = now.saturating_since(SimTime::from_ns(block as u64 * block_ns));
        self.stats.played += 1;
        self.stats.e2e_sum_ns = self.stats.e2e_sum_ns.saturating_add(e2e.as_ns());
        self.stats.e2e_max_ns = self.stats.e2e_max_ns.max(e2e.as_ns());
        Action::Played { e2e }
    }

    /// The session ends at `now` (the viewer left, or the run stopped).
    pub fn end(&mut self, now: SimTime) {
        if let Play::Stalled { since } = self.play {
            self.stats.stall_ns += (now - since).as_ns();
            self.play = Play::Playing;
        }
        self.attached = false;
        self.leave = now;
    }

    /// Watched time after playback started.
    pub fn watched_ns(&self) -> u64 {
        self.play_start.map_or(0, |s| self.leave.saturating_since(s).as_ns())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: u64 = 1_000_000_000;
    fn t(ms: u64) -> SimTime {
        SimTime::from_ns(ms * 1_000_000)
    }

    #[test]
    fn plays_on_time_then_stalls_then_resumes() {
        let mut v = Viewer::new(0, 0, 0, t(10_000), t(60_000), Some(3));
        // Block 9 (captured 9..10 s) arrives in two chunks.
        assert_eq!(v.receive(t(10_100), 9, 2, D), (true, Action::None));
        assert_eq!(v.receive(t(10_200), 9, 2, D), (true, Action::None));
        assert_eq!(v.first_complete, Some(t(10_200)));
        // Playout delay 2 s: deadline at 12 s plays block 9, e2e 3 s.
        assert_eq!(v.deadline(t(12_000), 2, D), Action::Played { e2e: SimDuration::from_ms(3000) });
        // Block 10 missing at 13 s: stall.
        assert_eq!(v.deadline(t(13_000), 2, D), Action::Stalled);
        v.receive(t(13_100), 10, 2, D);
        let (_, a) = v.receive(t(13_500), 10, 2, D);
        assert_eq!(a, Action::Played { e2e: SimDuration::from_ms(3500) });
        assert_eq!((v.stats.stalls, v.stats.stall_ns), (1, 500_000_000));
    }

    #[test]
    fn skips_a_hole_when_a_later_block_is_ready() {
        let mut v = Viewer::new(0, 0, 0, t(0), t(60_000), Some(3));
        v.receive(t(100), 1, 1, D);
        assert!(matches!(v.deadline(t(3000), 1, D), Action::Played { .. }));
        v.receive(t(3100), 2, 2, D); // half of block 2 only
        v.receive(t(3200), 3, 2, D);
        v.receive(t(3300), 3, 2, D); // block 3 complete
        assert!(matches!(v.deadline(t(4000), 2, D), Action::Played { .. }));
        assert_eq!(v.next_block, Some(4));
        assert_eq!((v.stats.skipped, v.stats.stalls), (1, 0));
        // A chunk of the skipped block is now useless.
        assert_eq!(v.receive(t(4100), 2, 2, D), (false, Action::None));
    }

    /// `Ahead` against a deque, the representation it replaced, over random
    /// sequences of the player's three operations (set a count, find the
    /// first complete block, drop through it), spilling past the inline
    /// slots and back.
    #[test]
    fn ahead_counts_behave_as_a_deque() {
        use std::collections::VecDeque;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..200 {
            let (mut a, mut d) = (Ahead::default(), VecDeque::<u16>::new());
            let reach = if round % 2 == 0 { AHEAD_INLINE } else { MAX_AHEAD_BLOCKS };
            for _ in 0..500 {
                match next() % 3 {
                    0 | 1 => {
                        let i = (next() % reach as u64) as usize;
                        let n = (next() % 4) as u16;
                        if d.len() <= i {
                            d.resize(i + 1, 0);
                        }
                        d[i] = n;
                        a.set(i, n);
                    }
                    _ => {
                        let want = (next() % 4) as u16;
                        let found = d.iter().position(|&c| c == want);
                        assert_eq!(a.first_at(want), found);
                        if let Some(i) = found {
                            d.drain(..=i);
                            a.drop_through(i);
                        }
                    }
                }
                assert_eq!(a.len(), d.len());
                for i in 0..MAX_AHEAD_BLOCKS {
                    assert_eq!(a.at(i), d.get(i).copied().unwrap_or(0), "slot {i}");
                }
            }
        }
    }

    /// A million of them are live at once in the flagship: a field that
    /// grows the struct shows here first (benches/README.md, "Memory of
    /// the flagship").
    #[test]
    fn a_viewer_stays_within_its_size() {
        assert!(std::mem::size_of::<Viewer>() <= 192, "{} bytes", std::mem::size_of::<Viewer>());
        assert!(std::mem::size_of::<Ahead>() <= 24, "{} bytes", std::mem::size_of::<Ahead>());
    }

    #[test]
    fn late_first_block_starts_playback_on_arrival_without_a_stall() {
        let mut v = Viewer::new(0, 0, 0, t(0), t(60_000), Some(3));
        assert_eq!(v.deadline(t(2000), 1, D), Action::None);
        let (_, a) = v.receive(t(2500), 0, 1, D);
        assert_eq!(a, Action::Played { e2e: SimDuration::from_ms(2500) });
        assert_eq!(v.play_start, Some(t(2500)));
        assert_eq!(v.stats.stalls, 0);
    }
}
