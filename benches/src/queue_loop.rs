//! PHOLD on a bare event queue, without the [`Scheduler`] and run loop, so
//! that the cost of the queue alone can be compared between the radix queue
//! the engine uses and a binary heap.
//!
//! Keys are built exactly as the scheduler builds them (time, class 0,
//! insertion sequence), so this loop handles the same events in the same
//! order as [`EnginePhold`](crate::EnginePhold).
//!
//! [`Scheduler`]: cdnsim_engine::Scheduler

use cdnsim_engine::{Class, EventKey, HeapQueue, RadixQueue, RngStream, SimTime};

use crate::phold::{PholdConfig, Tally};

/// The interface the two engine queues share (they have no common trait of
/// their own).
pub trait EventQueue<E> {
    fn push(&mut self, key: EventKey, event: E);
    fn pop(&mut self) -> Option<(EventKey, E)>;
    fn peek_key(&mut self) -> Option<EventKey>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<E> EventQueue<E> for RadixQueue<E> {
    fn push(&mut self, key: EventKey, event: E) {
        RadixQueue::push(self, key, event)
    }
    fn pop(&mut self) -> Option<(EventKey, E)> {
        RadixQueue::pop(self)
    }
    fn peek_key(&mut self) -> Option<EventKey> {
        RadixQueue::peek_key(self)
    }
    fn len(&self) -> usize {
        RadixQueue::len(self)
    }
}

impl<E> EventQueue<E> for HeapQueue<E> {
    fn push(&mut self, key: EventKey, event: E) {
        HeapQueue::push(self, key, event)
    }
    fn pop(&mut self) -> Option<(EventKey, E)> {
        HeapQueue::pop(self)
    }
    fn peek_key(&mut self) -> Option<EventKey> {
        HeapQueue::peek_key(self)
    }
    fn len(&self) -> usize {
        HeapQueue::len(self)
    }
}

pub struct QueuePhold<Q> {
    cfg: PholdConfig,
    rngs: Vec<RngStream>,
    queue: Q,
    next_seq: u64,
    tally: Tally,
}

impl<Q: EventQueue<u32>> QueuePhold<Q> {
    /// The initial state in `queue`, which must be empty.
    pub fn new(cfg: PholdConfig, mut queue: Q) -> Self {
        assert!(queue.is_empty());
        let mut next_seq = 0;
        let mut rngs = Vec::with_capacity(cfg.lps as usize);
        for lp in 0..cfg.lps {
            let mut rng = cfg.lp_stream(lp);
            for t in cfg.initial_times(lp, &mut rng) {
                queue.push(EventKey::new(SimTime::from_ns(t), Class(0), next_seq), lp);
                next_seq += 1;
            }
            rngs.push(rng);
        }
        QueuePhold { cfg, rngs, queue, next_seq, tally: Tally::default() }
    }

    #[inline]
    fn handle_next(&mut self) {
        let (key, lp) = self.queue.pop().expect("PHOLD never runs out of events");
        let now = key.time().as_ns();
        self.tally.record(now, lp);
        let (dest, delay) = self.cfg.draw_hop(&mut self.rngs[lp as usize]);
        self.queue
            .push(EventKey::new(SimTime::from_ns(now + delay), Class(0), self.next_seq), dest);
        self.next_seq += 1;
    }

    /// Handles exactly `n` events.
    pub fn run_events(&mut self, n: u64) {
        for _ in 0..n {
            self.handle_next();
        }
    }

    /// Handles every event up to and including `stop`; returns the tally of
    /// those events alone.
    pub fn run_until(&mut self, stop: SimTime) -> Tally {
        let before = self.tally;
        while self.queue.peek_key().is_some_and(|k| k.time() <= stop) {
            self.handle_next();
        }
        self.tally.since(before)
    }

    pub fn tally(&self) -> Tally {
        self.tally
    }

    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EnginePhold;

    #[test]
    fn radix_heap_and_engine_handle_the_same_events() {
        let cfg = PholdConfig::new(10_000, 11);
        let stop = SimTime::from_ns(cfg.span_for(150_000));
        let mut radix = QueuePhold::new(cfg, RadixQueue::new());
        let mut heap = QueuePhold::new(cfg, HeapQueue::new());
        let mut engine = EnginePhold::new(cfg);
        let r = radix.run_until(stop);
        assert_eq!(r, heap.run_until(stop));
        assert_eq!(r, engine.run_until(stop).unwrap());
        assert!(r.events > 100_000);
    }

    #[test]
    fn pending_count_stays_at_the_population() {
        let cfg = PholdConfig::new(2_503, 3);
        let mut radix = QueuePhold::new(cfg, RadixQueue::new());
        let mut heap = QueuePhold::new(cfg, HeapQueue::new());
        for _ in 0..10 {
            radix.run_events(5_000);
            heap.run_events(5_000);
            assert_eq!(radix.pending(), 2_503);
            assert_eq!(heap.pending(), 2_503);
        }
        assert_eq!(radix.tally(), heap.tally());
        assert_eq!(radix.tally().events, 50_000);
    }
}
