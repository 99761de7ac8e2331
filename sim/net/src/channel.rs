//! One direction of a link: a FIFO at the link's bandwidth, a propagation
//! latency, a loss model whose draws come from the link's own random stream
//! (so traffic elsewhere never changes which messages this link loses), and
//! the fault state a scenario imposes (down, or degraded for a window).

use cdnsim_engine::{RngStream, SimDuration, SimTime};
use rand::Rng;

use crate::fifo::{Fifo, Offer};
use crate::loss::{Loss, LossModel};

#[derive(Clone, Debug)]
pub struct Channel {
    pub fifo: Fifo,
    latency: SimDuration,
    loss: Loss,
    rng: RngStream,
    up: bool,
    /// Extra independent loss and latency while degraded.
    extra_loss: f64,
    extra_latency: SimDuration,
}

/// What happened to one message offered to a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// The message reaches the far end at this time.
    Arrives(SimTime),
    /// Sent, and lost on the way (or the link was down): the bytes used the
    /// sender's link, nothing arrives. `depart` is when its last bit left.
    Lost { depart: SimTime },
    /// Dropped at the tail of a full queue: nothing was sent.
    Dropped,
}

impl Channel {
    pub fn new(rate_bps: u64, queue_bytes: u64, latency: SimDuration, loss: LossModel, mut rng: RngStream) -> Self {
        let loss = Loss::new(loss, &mut rng);
        Channel {
            fifo: Fifo::new(rate_bps, queue_bytes),
            latency,
            loss,
            rng,
            up: true,
            extra_loss: 0.0,
            extra_latency: SimDuration::ZERO,
        }
    }

    /// Current one-way latency, degradation included.
    pub fn latency(&self) -> SimDuration {
        self.latency + self.extra_latency
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// A failed link loses everything put on it; its sender only finds out
    /// through missing acknowledgements, as in a real network.
    pub fn set_up(&mut self, up: bool) {
        self.up = up;
    }

    /// Adds independent loss and latency until called again with zeros.
    pub fn set_degradation(&mut self, extra_loss: f64, extra_latency: SimDuration) {
        assert!((0.0..1.0).contains(&extra_loss), "extra loss must be a probability below 1");
        self.extra_loss = extra_loss;
        self.extra_latency = extra_latency;
    }

    pub fn transmit(&mut self, now: SimTime, bytes: u32) -> Transmit {
        match self.fifo.offer(now, bytes) {
            Offer::Dropped => Transmit::Dropped,
            Offer::Sent { depart, .. } => {
                let lost = !self.up
                    | self.loss.lose(&mut self.rng)
                    | (self.extra_loss > 0.0 && self.rng.random::<f64>() < self.extra_loss);
                if lost { Transmit::Lost { depart } } else { Transmit::Arrives(depart + self.latency()) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdnsim_engine::stream;

    fn channel(loss: LossModel) -> Channel {
        Channel::new(1_000_000_000, 1 << 30, SimDuration::from_ms(5), loss, stream(3, "test.loss"))
    }

    #[test]
    fn loss_rate_matches_probability() {
        let mut c = channel(LossModel::Bernoulli { p: 0.1 });
        let n = 100_000;
        let lost = (0..n)
            .filter(|i| matches!(c.transmit(SimTime::from_ns(i * 1_000_000), 100), Transmit::Lost { .. }))
            .count();
        // Binomial(n, 0.1): sd = sqrt(n p (1-p)) ~ 95; allow 5 sd.
        let sd = (n as f64 * 0.1 * 0.9).sqrt();
        assert!((lost as f64 - n as f64 * 0.1).abs() < 5.0 * sd, "{lost}");
    }

    #[test]
    fn arrival_adds_latency_after_serialisation() {
        let mut c = Channel::new(8_000_000, 1 << 20, SimDuration::from_ms(5), LossModel::NONE, stream(3, "x"));
        assert_eq!(c.transmit(SimTime::ZERO, 1000), Transmit::Arrives(SimTime::from_ns(6_000_000)));
    }

    #[test]
    fn down_loses_everything_and_degradation_adds_latency() {
        let mut c = channel(LossModel::NONE);
        c.set_up(false);
        assert!(matches!(c.transmit(SimTime::ZERO, 100), Transmit::Lost { .. }));
        c.set_up(true);
        c.set_degradation(0.0, SimDuration::from_ms(20));
        let t = SimTime::from_ns(1_000_000_000);
        assert_eq!(c.transmit(t, 125), Transmit::Arrives(t + SimDuration::from_ns(1000) + SimDuration::from_ms(25)));
    }
}
