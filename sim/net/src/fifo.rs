//! A bounded drop-tail FIFO in front of a transmitter of fixed bit rate.
//!
//! Service is deterministic (size / rate) and first-come first-served, so
//! the departure time of a message is known the moment it is offered: the
//! FIFO needs no events of its own. It remembers only the messages still
//! waiting or in transmission, to know its occupancy, which the byte limit
//! bounds.

use std::collections::VecDeque;

use cdnsim_engine::{SimDuration, SimTime};

#[derive(Clone, Debug)]
pub struct Fifo {
    rate_bps: u64,
    limit_bytes: u64,
    busy_until: SimTime,
    /// (departure time, bytes) of messages not yet fully sent, oldest first.
    waiting: VecDeque<(SimTime, u32)>,
    waiting_bytes: u64,
    /// Bytes whose last bit has left, counted when their entry is retired
    /// (so `departed + occupancy` is what was accepted: a separate sum, not
    /// a difference, which the shared links' conservation check relies on).
    departed_bytes: u64,
}

/// What happened to an offered message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Accepted: transmission starts at `start` and the last bit leaves at
    /// `depart`.
    Sent { start: SimTime, depart: SimTime },
    /// The queue was full: the message is dropped (drop-tail).
    Dropped,
}

impl Fifo {
    /// A FIFO sending at `rate_bps` that holds at most `limit_bytes` of
    /// messages waiting or in transmission.
    pub fn new(rate_bps: u64, limit_bytes: u64) -> Self {
        assert!(rate_bps > 0, "a FIFO needs a positive rate");
        Fifo { rate_bps, limit_bytes, busy_until: SimTime::ZERO, waiting: VecDeque::new(), waiting_bytes: 0, departed_bytes: 0 }
    }

    pub fn rate_bps(&self) -> u64 {
        self.rate_bps
    }

    /// Sends what is offered from now on at `rate_bps` (what is already
    /// queued keeps the departure it was given).
    pub fn set_rate(&mut self, rate_bps: u64) {
        assert!(rate_bps > 0, "a FIFO needs a positive rate");
        self.rate_bps = rate_bps;
    }

    /// Holds at most `limit_bytes` from now on (what is queued stays, even
    /// above a lowered limit; only new offers see it).
    pub fn set_limit(&mut self, limit_bytes: u64) {
        self.limit_bytes = limit_bytes;
    }

    /// Time to put `bytes` on the wire, rounded up to the nanosecond.
    pub fn serialisation(&self, bytes: u64) -> SimDuration {
        SimDuration::from_ns((bytes as u128 * 8 * 1_000_000_000).div_ceil(self.rate_bps as u128) as u64)
    }

    /// Bytes waiting or in transmission at `now`.
    pub fn occupancy_bytes(&mut self, now: SimTime) -> u64 {
        while let Some(&(depart, bytes)) = self.waiting.front() {
            if depart > now {
                break;
            }
            self.waiting.pop_front();
            self.waiting_bytes -= bytes as u64;
            self.departed_bytes += bytes as u64;
        }
        self.waiting_bytes
    }

    /// Bytes fully sent by `now`.
    pub fn departed_bytes(&mut self, now: SimTime) -> u64 {
        self.occupancy_bytes(now);
        self.departed_bytes
    }

    /// When the transmitter is next idle (the last accepted message's
    /// departure, or earlier than any `now` when it is idle).
    pub fn busy_until(&self) -> SimTime {
        self.busy_until
    }

    /// Offers a message of `bytes` at `now`.
    pub fn offer(&mut self, now: SimTime, bytes: u32) -> Offer {
        if self.occupancy_bytes(now) + bytes as u64 > self.limit_bytes {
            return Offer::Dropped;
        }
        let start = self.busy_until.max(now);
        let depart = start + self.serialisation(bytes as u64);
        self.busy_until = depart;
        self.waiting.push_back((depart, bytes));
        self.waiting_bytes += bytes as u64;
        Offer::Sent { start, depart }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_serialise_back_to_back() {
        // 8 Mbps: 1000 B takes 1 ms.
        let mut f = Fifo::new(8_000_000, 10_000);
        let t0 = SimTime::ZERO;
        let ms = |x: u64| SimTime::from_ns(x * 1_000_000);
        assert_eq!(f.offer(t0, 1000), Offer::Sent { start: ms(0), depart: ms(1) });
        assert_eq!(f.offer(t0, 1000), Offer::Sent { start: ms(1), depart: ms(2) });
        // After the queue drains, a new message starts at once.
        assert_eq!(f.offer(ms(5), 1000), Offer::Sent { start: ms(5), depart: ms(6) });
    }

    #[test]
    fn drop_tail_when_full_and_recovers_as_it_drains() {
        let mut f = Fifo::new(8_000_000, 2500);
        let t0 = SimTime::ZERO;
        assert!(matches!(f.offer(t0, 1000), Offer::Sent { .. }));
        assert!(matches!(f.offer(t0, 1000), Offer::Sent { .. }));
        assert_eq!(f.offer(t0, 1000), Offer::Dropped);
        // At 1 ms the first message has left: room again.
        assert!(matches!(f.offer(SimTime::from_ns(1_000_000), 1000), Offer::Sent { .. }));
        assert_eq!(f.occupancy_bytes(SimTime::from_ns(1_000_000)), 2000);
    }
}
