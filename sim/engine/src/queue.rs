//! The total order of events, and the queues that keep it.
//!
//! Events are ordered by [`EventKey`]: first by simulated time, then by a
//! tie-break [`Class`] (lower runs first), then by insertion sequence (earlier
//! scheduled runs first). The sequence number is unique, so no two keys are
//! equal and the order is total: nothing depends on how a heap happens to
//! break ties.
//!
//! The key packs into one `u128` — time in the high 64 bits, class in the
//! next 8, sequence in the low 56 — so comparing keys is one integer compare.
//! 2^56 events per run is a bound no run reaches (it would take years at
//! today's event rates), and [`EventKey::new`] checks it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// The tie-break class of an event: among events at the same instant, lower
/// classes run first. The world documents what each class means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Class(pub u8);

/// Largest insertion sequence a key can hold (56 bits).
pub const MAX_SEQ: u64 = (1 << 56) - 1;

/// (time, class, sequence) packed so that integer order is event order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey(u128);

impl EventKey {
    pub fn new(time: SimTime, class: Class, seq: u64) -> Self {
        assert!(seq <= MAX_SEQ, "event sequence overflow: more than 2^56 events scheduled");
        EventKey(((time.as_ns() as u128) << 64) | ((class.0 as u128) << 56) | seq as u128)
    }
    pub fn time(self) -> SimTime {
        SimTime::from_ns((self.0 >> 64) as u64)
    }
    pub fn class(self) -> Class {
        Class((self.0 >> 56) as u8)
    }
    pub fn seq(self) -> u64 {
        (self.0 as u64) & MAX_SEQ
    }
}

/// Width of one radix digit. With 8-bit digits a key is re-bucketed at most
/// once per digit below the first one in which it differs from the last
/// removed key; PHOLD times span about 30 bits, so a key moves about 2-3
/// times instead of the 7.5 of a 1-bit radix heap (benches/README.md).
const DIGIT_BITS: u32 = 8;
/// Buckets per level: one per digit value.
const FANOUT: usize = 1 << DIGIT_BITS;
/// Levels: one per digit of the 128-bit key.
const LEVELS: usize = 128 / DIGIT_BITS as usize;
/// An emptied bucket keeps at most this many entries of capacity, so a
/// burst through one bucket does not pin its memory for the rest of the run.
/// 64, not more: about 1,300 buckets hold the time digits of a run, and at
/// 1,024 entries each their kept capacity was five times the flagship's
/// peak of live events at 1/10 (84 MB against 21 MB); at 64 the heap peak
/// of `world_flagship_small` falls by a third for 0.013 more allocations
/// per event (benches/README.md, "Memory of the flagship").
const RETAIN_MAX: usize = 64;

/// A monotone radix heap over [`EventKey`]s, with 8-bit digits.
///
/// A discrete-event simulation never schedules before the event it is
/// handling, which is exactly the promise a radix heap needs: every key
/// pushed is at least the last key popped. Under that promise a push is an
/// append to a bucket and a pop scans one bucket, with no pointer chasing,
/// which keeps the queue fast at a million pending events where a binary heap
/// is dominated by cache misses (see benches/README.md).
///
/// A key other than the last removed one lives in bucket (level, digit):
/// level is the most significant digit in which it differs from the last
/// removed key, digit its value there (necessarily larger than the last
/// key's). Every key at a lower level is smaller than every key at a higher
/// one, and within a level a lower digit means a smaller key, so the
/// minimum is in the lowest non-empty (level, digit), found from two
/// bitmaps without a scan.
///
/// One exception is allowed: an event at the current instant with a lower
/// class than the event being handled (it still comes after it in real
/// terms, but before it in key order). Such keys go to a small side heap that
/// is drained first, which keeps the total order exact.
pub struct RadixQueue<E> {
    last: u128,
    /// Keys equal to `last` (at most one, since keys are unique).
    current: Vec<(u128, E)>,
    /// `LEVELS * FANOUT` buckets, level-major.
    buckets: Vec<Vec<(u128, E)>>,
    /// Bit i set when level i has a non-empty bucket.
    levels_nonempty: u32,
    /// Per level, bit d set when bucket (level, d) is non-empty.
    digits_nonempty: [[u64; FANOUT / 64]; LEVELS],
    len: usize,
    below_last: BinaryHeap<Reverse<Keyed<E>>>,
}

impl<E> Default for RadixQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> RadixQueue<E> {
    pub fn new() -> Self {
        RadixQueue {
            last: 0,
            current: Vec::new(),
            buckets: (0..LEVELS * FANOUT).map(|_| Vec::new()).collect(),
            levels_nonempty: 0,
            digits_nonempty: [[0; FANOUT / 64]; LEVELS],
            len: 0,
            below_last: BinaryHeap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.len + self.below_last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Files a key that is at least `last` into its bucket.
    #[inline]
    fn place(&mut self, k: u128, event: E) {
        let diff = k ^ self.last;
        if diff == 0 {
            self.current.push((k, event));
            return;
        }
        let level = (127 - diff.leading_zeros()) / DIGIT_BITS;
        let digit = (k >> (level * DIGIT_BITS)) as usize & (FANOUT - 1);
        let level = level as usize;
        self.buckets[level * FANOUT + digit].push((k, event));
        self.levels_nonempty |= 1 << level;
        self.digits_nonempty[level][digit / 64] |= 1 << (digit % 64);
    }

    pub fn push(&mut self, key: EventKey, event: E) {
        let k = key.0;
        if k < self.last {
            self.below_last.push(Reverse(Keyed(k, event)));
            return;
        }
        self.place(k, event);
        self.len += 1;
    }

    /// The smallest key, without removing it.
    pub fn peek_key(&mut self) -> Option<EventKey> {
        if let Some(Reverse(Keyed(k, _))) = self.below_last.peek() {
            return Some(EventKey(*k));
        }
        self.refill();
        self.current.last().map(|(k, _)| EventKey(*k))
    }

    pub fn pop(&mut self) -> Option<(EventKey, E)> {
        if let Some(Reverse(Keyed(k, e))) = self.below_last.pop() {
            return Some((EventKey(k), e));
        }
        self.refill();
        let (k, e) = self.current.pop()?;
        self.len -= 1;
        Some((EventKey(k), e))
    }

    /// Makes `current` hold the minimum: take the lowest non-empty bucket,
    /// make its minimum the new `last`, and spread its keys into lower
    /// levels relative to it (each key only ever moves down a level; the
    /// other buckets keep their place, since the new `last` agrees with the
    /// old one in every digit above the emptied bucket's level).
    fn refill(&mut self) {
        if !self.current.is_empty() || self.levels_nonempty == 0 {
            return;
        }
        let level = self.levels_nonempty.trailing_zeros() as usize;
        let words = &mut self.digits_nonempty[level];
        let w = words.iter().position(|&x| x != 0).expect("level marked non-empty");
        let digit = w * 64 + words[w].trailing_zeros() as usize;
        words[w] &= words[w] - 1;
        if words.iter().all(|&x| x == 0) {
            self.levels_nonempty &= !(1 << level);
        }
        let idx = level * FANOUT + digit;
        let mut bucket = std::mem::take(&mut self.buckets[idx]);
        let min = bucket.iter().map(|(k, _)| *k).min().expect("non-empty bucket");
        self.last = min;
        for (k, e) in bucket.drain(..) {
            self.place(k, e);
        }
        debug_assert!(self.buckets[idx].is_empty());
        // Hand the emptied allocation back so the bucket does not regrow,
        // but not more of it than a bucket usually needs.
        bucket.shrink_to(RETAIN_MAX);
        self.buckets[idx] = bucket;
    }
}

/// A key with its event, ordered by key only (keys are unique).
struct Keyed<E>(u128, E);

impl<E> PartialEq for Keyed<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<E> Eq for Keyed<E> {}
impl<E> PartialOrd for Keyed<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Keyed<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

/// The same interface on `std`'s binary heap: the reference the radix queue
/// is checked against, and the baseline in the PHOLD benchmark.
pub struct HeapQueue<E> {
    heap: BinaryHeap<Reverse<Keyed<E>>>,
}

impl<E> Default for HeapQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> HeapQueue<E> {
    pub fn new() -> Self {
        HeapQueue { heap: BinaryHeap::new() }
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
    pub fn push(&mut self, key: EventKey, event: E) {
        self.heap.push(Reverse(Keyed(key.0, event)));
    }
    pub fn peek_key(&mut self) -> Option<EventKey> {
        self.heap.peek().map(|Reverse(Keyed(k, _))| EventKey(*k))
    }
    pub fn pop(&mut self) -> Option<(EventKey, E)> {
        self.heap.pop().map(|Reverse(Keyed(k, e))| (EventKey(k), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_orders_time_then_class_then_seq() {
        let t = |ns| SimTime::from_ns(ns);
        let a = EventKey::new(t(5), Class(3), 9);
        let b = EventKey::new(t(6), Class(0), 0);
        let c = EventKey::new(t(5), Class(4), 0);
        let d = EventKey::new(t(5), Class(3), 10);
        assert!(a < b && a < c && a < d && d < c && c < b);
        assert_eq!((a.time(), a.class(), a.seq()), (t(5), Class(3), 9));
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Schedule `delta` ns after the current event, with this class.
        Push(u64, u8),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (prop_oneof![Just(0u64), 0u64..100, 0u64..1_000_000_000_000], 0u8..4)
                .prop_map(|(d, c)| Op::Push(d, c)),
            2 => Just(Op::Pop),
        ]
    }

    proptest! {
        // The radix queue must give exactly the heap's order for any
        // simulation-shaped sequence of operations, including same-instant
        // events with a lower class than the one being handled.
        #[test]
        fn radix_matches_heap(ops in proptest::collection::vec(op(), 1..400)) {
            replay_against_heap(0, &ops)?;
        }
    }

    /// Runs `ops` on the radix queue and the heap from time `start`,
    /// asserting they agree at every pop and end empty together. Push
    /// times saturate at the end of time, where ties then pile up.
    fn replay_against_heap(start: u64, ops: &[Op]) -> Result<(), proptest::test_runner::TestCaseError> {
        let mut radix = RadixQueue::new();
        let mut heap = HeapQueue::new();
        let mut now = start;
        let mut seq = 0u64;
        for op in ops {
            match *op {
                Op::Push(delta, class) => {
                    let key = EventKey::new(SimTime::from_ns(now.saturating_add(delta)), Class(class), seq);
                    seq += 1;
                    radix.push(key, seq);
                    heap.push(key, seq);
                }
                Op::Pop => {
                    prop_assert_eq!(radix.peek_key(), heap.peek_key());
                    let (r, h) = (radix.pop(), heap.pop());
                    prop_assert_eq!(r, h);
                    if let Some((k, _)) = r {
                        now = k.time().as_ns();
                    }
                }
            }
            prop_assert_eq!(radix.len(), heap.len());
        }
        while let Some(h) = heap.pop() {
            prop_assert_eq!(radix.pop(), Some(h));
        }
        prop_assert!(radix.is_empty());
        Ok(())
    }

    /// Pushes over the whole key space: every class, many same-instant
    /// ties, gaps up to 2^64 (saturating at the end of time).
    fn wide_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (
                prop_oneof![
                    Just(0u64),
                    0u64..4,
                    0u64..300,
                    0u64..70_000,
                    0u64..(1 << 40),
                    (1u64 << 62)..u64::MAX,
                ],
                prop_oneof![0u8..=255, 0u8..3, Just(255u8)],
            )
                .prop_map(|(d, c)| Op::Push(d, c)),
            2 => Just(Op::Pop),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        // Same as above across the whole key space: every class, many
        // same-instant ties, gaps up to 2^64 that change the top time
        // digits, starts near u64::MAX, and pushes interleaved with pops.
        #[test]
        fn radix_matches_heap_wide(
            start in prop_oneof![Just(0u64), 0u64..1_000_000, (u64::MAX - (1 << 20))..=u64::MAX],
            ops in proptest::collection::vec(wide_op(), 1..600),
        ) {
            replay_against_heap(start, &ops)?;
        }
    }

    // A deterministic mix the random cases may miss: a burst of same-time
    // keys in every class (pushed in descending class), a jump across the
    // top time digit, and the maximum key.
    #[test]
    fn radix_matches_heap_on_ties_and_extremes() {
        let mut radix = RadixQueue::new();
        let mut heap = HeapQueue::new();
        let mut seq = 0u64;
        let mut push = |r: &mut RadixQueue<u64>, h: &mut HeapQueue<u64>, t: u64, c: u8| {
            let key = EventKey::new(SimTime::from_ns(t), Class(c), seq);
            seq += 1;
            r.push(key, seq);
            h.push(key, seq);
        };
        for t in [5u64, 5, 1 << 63, u64::MAX, u64::MAX - 1, 6] {
            for c in (0..=255u8).rev() {
                push(&mut radix, &mut heap, t, c);
            }
        }
        push(&mut radix, &mut heap, u64::MAX, 255);
        let mut n = 0;
        while let Some(h) = heap.pop() {
            assert_eq!(radix.pop(), Some(h));
            n += 1;
        }
        assert_eq!(n, 6 * 256 + 1);
        assert!(radix.is_empty() && radix.pop().is_none());
    }
}
