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

/// Number of radix buckets: bucket 0 holds keys equal to the last removed
/// key, bucket b > 0 keys whose highest bit differing from it is bit b-1.
const BUCKETS: usize = 129;

/// A monotone radix heap over [`EventKey`]s.
///
/// A discrete-event simulation never schedules before the event it is
/// handling, which is exactly the promise a radix heap needs: every key
/// pushed is at least the last key popped. Under that promise a push is an
/// append to a bucket and a pop scans one bucket, with no pointer chasing,
/// which keeps the queue fast at a million pending events where a binary heap
/// is dominated by cache misses (see benches/README.md).
///
/// One exception is allowed: an event at the current instant with a lower
/// class than the event being handled (it still comes after it in real
/// terms, but before it in key order). Such keys go to a small side heap that
/// is drained first, which keeps the total order exact.
pub struct RadixQueue<E> {
    last: u128,
    buckets: Vec<Vec<(u128, E)>>,
    /// Bit b-1 set when bucket b (b >= 1) is non-empty.
    nonempty: u128,
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
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            nonempty: 0,
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

    fn bucket_of(key: u128, last: u128) -> usize {
        (128 - (key ^ last).leading_zeros()) as usize
    }

    pub fn push(&mut self, key: EventKey, event: E) {
        let k = key.0;
        if k < self.last {
            self.below_last.push(Reverse(Keyed(k, event)));
            return;
        }
        let b = Self::bucket_of(k, self.last);
        self.buckets[b].push((k, event));
        if b > 0 {
            self.nonempty |= 1 << (b - 1);
        }
        self.len += 1;
    }

    /// The smallest key, without removing it.
    pub fn peek_key(&mut self) -> Option<EventKey> {
        if let Some(Reverse(Keyed(k, _))) = self.below_last.peek() {
            return Some(EventKey(*k));
        }
        self.refill();
        self.buckets[0].last().map(|(k, _)| EventKey(*k))
    }

    pub fn pop(&mut self) -> Option<(EventKey, E)> {
        if let Some(Reverse(Keyed(k, e))) = self.below_last.pop() {
            return Some((EventKey(k), e));
        }
        self.refill();
        let (k, e) = self.buckets[0].pop()?;
        self.len -= 1;
        Some((EventKey(k), e))
    }

    /// Makes bucket 0 hold the minimum: take the lowest non-empty bucket,
    /// make its minimum the new `last`, and spread its keys into lower
    /// buckets relative to it (each key only ever moves down).
    fn refill(&mut self) {
        if !self.buckets[0].is_empty() || self.nonempty == 0 {
            return;
        }
        let b = self.nonempty.trailing_zeros() as usize + 1;
        self.nonempty &= !(1 << (b - 1));
        let mut bucket = std::mem::take(&mut self.buckets[b]);
        let min = bucket.iter().map(|(k, _)| *k).min().expect("non-empty bucket");
        self.last = min;
        for (k, e) in bucket.drain(..) {
            let nb = Self::bucket_of(k, min);
            debug_assert!(nb < b);
            self.buckets[nb].push((k, e));
            if nb > 0 {
                self.nonempty |= 1 << (nb - 1);
            }
        }
        // Hand the emptied allocation back so the bucket does not regrow.
        self.buckets[b] = bucket;
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
            let mut radix = RadixQueue::new();
            let mut heap = HeapQueue::new();
            let mut now = 0u64;
            let mut seq = 0u64;
            for op in ops {
                match op {
                    Op::Push(delta, class) => {
                        let key = EventKey::new(SimTime::from_ns(now + delta), Class(class), seq);
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
        }
    }
}
