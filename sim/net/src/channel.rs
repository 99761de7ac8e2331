//! One direction of a link: a FIFO at the link's bandwidth, a propagation
//! latency, and independent (Bernoulli) loss per message, drawn from the
//! link's own random stream so that adding traffic elsewhere never changes
//! which messages this link loses.

use cdnsim_engine::{RngStream, SimDuration, SimTime};
use rand::Rng;

use crate::fifo::{Fifo, Offer};

#[derive(Clone, Debug)]
pub struct Channel {
    pub fifo: Fifo,
    pub latency: SimDuration,
    pub loss: f64,
    rng: RngStream,
}

/// What happened to one message offered to a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// The message reaches the far end at this time.
    Arrives(SimTime),
    /// Sent, and lost on the way: the bytes used the link, nothing arrives.
    /// `depart` is when its last bit left.
    Lost { depart: SimTime },
    /// Dropped at the tail of a full queue: nothing was sent.
    Dropped,
}

impl Channel {
    pub fn new(rate_bps: u64, queue_bytes: u64, latency: SimDuration, loss: f64, rng: RngStream) -> Self {
        assert!((0.0..1.0).contains(&loss), "loss must be a probability below 1");
        Channel { fifo: Fifo::new(rate_bps, queue_bytes), latency, loss, rng }
    }

    pub fn transmit(&mut self, now: SimTime, bytes: u32) -> Transmit {
        match self.fifo.offer(now, bytes) {
            Offer::Dropped => Transmit::Dropped,
            Offer::Sent { depart, .. } => {
                // Draw only when loss is possible, so a lossless channel
                // consumes no randomness.
                if self.loss > 0.0 && self.rng.random::<f64>() < self.loss {
                    Transmit::Lost { depart }
                } else {
                    Transmit::Arrives(depart + self.latency)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdnsim_engine::stream;

    #[test]
    fn loss_rate_matches_probability() {
        let mut c = Channel::new(1_000_000_000, 1 << 30, SimDuration::from_ms(5), 0.1, stream(3, "test.loss"));
        let n = 100_000;
        let mut lost = 0;
        for i in 0..n {
            if let Transmit::Lost { .. } = c.transmit(SimTime::from_ns(i * 1_000_000), 100) {
                lost += 1;
            }
        }
        // Binomial(n, 0.1): sd = sqrt(n p (1-p)) ~ 95; allow 5 sd.
        let sd = (n as f64 * 0.1 * 0.9).sqrt();
        assert!((lost as f64 - n as f64 * 0.1).abs() < 5.0 * sd, "{lost}");
    }

    #[test]
    fn arrival_adds_latency_after_serialisation() {
        let mut c = Channel::new(8_000_000, 1 << 20, SimDuration::from_ms(5), 0.0, stream(3, "x"));
        assert_eq!(c.transmit(SimTime::ZERO, 1000), Transmit::Arrives(SimTime::from_ns(6_000_000)));
    }
}
