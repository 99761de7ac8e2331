//! The run loop.
//!
//! A [`Model`] handles one event at a time and schedules new ones through
//! the [`Scheduler`]; [`run`] pops events in key order until the stop time,
//! counting them, and ends the run with [`EngineError::PendingBound`] when
//! the model keeps more events pending than the bound allows.

use crate::queue::{Class, EventKey, RadixQueue};
use crate::time::{SimDuration, SimTime};

/// A simulation model: the world, or a benchmark such as PHOLD.
pub trait Model {
    type Event;
    /// Handles `event`, which the scheduler says happens at `sched.now()`.
    fn handle(&mut self, sched: &mut Scheduler<Self::Event>, event: Self::Event);
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EngineError {
    #[error(
        "more than {limit} events pending at simulated time {now} \
         (raise [limits] max_pending_events if the scenario really needs it)"
    )]
    PendingBound { limit: usize, now: SimTime },
}

/// What a model sees of the engine while handling an event.
pub struct Scheduler<E> {
    now: SimTime,
    current: Option<EventKey>,
    queue: RadixQueue<E>,
    next_seq: u64,
    max_pending: usize,
    over_bound: bool,
}

impl<E> Scheduler<E> {
    /// A scheduler at time zero that allows at most `max_pending` events.
    pub fn new(max_pending: usize) -> Self {
        Scheduler {
            now: SimTime::ZERO,
            current: None,
            queue: RadixQueue::new(),
            next_seq: 0,
            max_pending,
            over_bound: false,
        }
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Schedules `event` at `time` with tie-break `class`.
    ///
    /// Panics if `time` is before now: that is a bug in the model, never
    /// a consequence of user input.
    pub fn schedule_at(&mut self, time: SimTime, class: Class, event: E) {
        assert!(time >= self.now, "event scheduled in the past: {time} < now {}", self.now);
        let key = EventKey::new(time, class, self.next_seq);
        self.next_seq += 1;
        self.queue.push(key, event);
        if self.queue.len() > self.max_pending {
            self.over_bound = true;
        }
    }

    pub fn schedule_in(&mut self, delay: SimDuration, class: Class, event: E) {
        self.schedule_at(self.now + delay, class, event);
    }

    /// The key of the event being handled (None before the run starts).
    pub fn current_key(&self) -> Option<EventKey> {
        self.current
    }
}

/// What a run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStats {
    pub events: u64,
    pub end_time: SimTime,
    /// Events still pending when the stop time was reached.
    pub pending_at_stop: usize,
}

/// Handles events in key order until none is left at or before `stop`.
/// Events after `stop` stay pending; `end_time` is `stop` if the run reached
/// it, or the time of the last event if the queue emptied first.
pub fn run<M: Model>(
    model: &mut M,
    sched: &mut Scheduler<M::Event>,
    stop: SimTime,
) -> Result<RunStats, EngineError> {
    // Resuming with an earlier stop must not move time backwards.
    let stop = stop.max(sched.now);
    let mut events = 0u64;
    if sched.over_bound {
        return Err(EngineError::PendingBound { limit: sched.max_pending, now: sched.now });
    }
    loop {
        match sched.queue.peek_key() {
            Some(key) if key.time() <= stop => {}
            Some(_) => {
                sched.now = stop;
                break;
            }
            None => break,
        }
        let (key, event) = sched.queue.pop().expect("peeked");
        sched.now = key.time();
        sched.current = Some(key);
        model.handle(sched, event);
        events += 1;
        if sched.over_bound {
            return Err(EngineError::PendingBound { limit: sched.max_pending, now: sched.now });
        }
    }
    Ok(RunStats { events, end_time: sched.now, pending_at_stop: sched.queue.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the order it sees; each event may schedule follow-ups.
    struct Recorder {
        seen: Vec<(u64, u8, &'static str)>,
    }

    impl Model for Recorder {
        type Event = (&'static str, Vec<(u64, u8, &'static str)>);
        fn handle(&mut self, sched: &mut Scheduler<Self::Event>, (name, follow): Self::Event) {
            let key = sched.current_key().unwrap();
            self.seen.push((sched.now().as_ns(), key.class().0, name));
            for (delay, class, n) in follow {
                sched.schedule_in(SimDuration::from_ns(delay), Class(class), (n, vec![]));
            }
        }
    }

    #[test]
    fn order_is_time_then_class_then_insertion() {
        let mut s = Scheduler::new(100);
        let t = SimTime::from_ns;
        s.schedule_at(t(10), Class(2), ("c2-first", vec![]));
        s.schedule_at(t(10), Class(1), ("c1", vec![(0, 0, "same-instant-c0"), (0, 2, "same-instant-c2")]));
        s.schedule_at(t(10), Class(2), ("c2-second", vec![]));
        s.schedule_at(t(5), Class(9), ("early", vec![]));
        let mut m = Recorder { seen: vec![] };
        let stats = run(&mut m, &mut s, t(100)).unwrap();
        let names: Vec<_> = m.seen.iter().map(|x| x.2).collect();
        // A same-instant event with a lower class than the one being handled
        // runs next; one with an equal class runs after those already queued.
        assert_eq!(names, ["early", "c1", "same-instant-c0", "c2-first", "c2-second", "same-instant-c2"]);
        assert_eq!(stats.events, 6);
    }

    #[test]
    fn stop_time_leaves_later_events_pending() {
        let mut s = Scheduler::new(100);
        s.schedule_at(SimTime::from_ns(5), Class(0), ("a", vec![]));
        s.schedule_at(SimTime::from_ns(50), Class(0), ("b", vec![]));
        let mut m = Recorder { seen: vec![] };
        let stats = run(&mut m, &mut s, SimTime::from_ns(20)).unwrap();
        assert_eq!(stats, RunStats { events: 1, end_time: SimTime::from_ns(20), pending_at_stop: 1 });
    }

    #[test]
    fn an_earlier_stop_never_moves_time_backwards() {
        let mut s = Scheduler::new(100);
        let t = SimTime::from_ns;
        s.schedule_at(t(90), Class(0), ("a", vec![]));
        s.schedule_at(t(200), Class(0), ("b", vec![]));
        let mut m = Recorder { seen: vec![] };
        run(&mut m, &mut s, t(100)).unwrap();
        let stats = run(&mut m, &mut s, t(50)).unwrap();
        assert_eq!((stats.events, s.now()), (0, t(100)));
    }

    struct Exploder;
    impl Model for Exploder {
        type Event = ();
        fn handle(&mut self, sched: &mut Scheduler<()>, _: ()) {
            sched.schedule_in(SimDuration::from_ns(1), Class(0), ());
            sched.schedule_in(SimDuration::from_ns(1), Class(0), ());
        }
    }

    #[test]
    fn pending_bound_ends_the_run_with_an_error() {
        let mut s = Scheduler::new(1000);
        s.schedule_at(SimTime::ZERO, Class(0), ());
        let err = run(&mut Exploder, &mut s, SimTime::MAX).unwrap_err();
        assert!(matches!(err, EngineError::PendingBound { limit: 1000, .. }));
        assert!(s.pending() <= 1001 + 1);
    }
}
