//! Packet loss models, one state per link direction.
//!
//! - Bernoulli: every message is lost independently with probability p.
//! - Gilbert-Elliott: a two-state Markov chain (Good, Bad) steps once per
//!   message; a message is lost with `loss_good` in Good and `loss_bad` in
//!   Bad. Losses come in bursts, as on a congested interconnect. Closed
//!   forms (used by the validation tests):
//!   - P(Bad) = p_gb / (p_gb + p_bg);
//!   - long-run loss rate = P(Good) loss_good + P(Bad) loss_bad;
//!   - with loss_good = 0 and loss_bad = 1 (Gilbert's original model) a
//!     loss burst lasts exactly as long as a Bad sojourn: geometric with
//!     mean 1 / p_bg messages.
//!
//! Each message first draws its fate in the current state, then the chain
//! steps; the first state is drawn from the stationary distribution so a
//! run has no warm-up bias.

use rand::Rng;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LossModel {
    Bernoulli { p: f64 },
    GilbertElliott { p_good_to_bad: f64, p_bad_to_good: f64, loss_good: f64, loss_bad: f64 },
}

impl LossModel {
    pub const NONE: LossModel = LossModel::Bernoulli { p: 0.0 };

    /// Checks every probability; returns what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let prob = |name: &str, x: f64, upper_open: bool| {
            let ok = if upper_open { (0.0..1.0).contains(&x) } else { (0.0..=1.0).contains(&x) };
            if ok { Ok(()) } else { Err(format!("{name} must be a probability, found {x}")) }
        };
        match *self {
            LossModel::Bernoulli { p } => prob("loss", p, true),
            LossModel::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad } => {
                prob("p_good_to_bad", p_good_to_bad, false)?;
                prob("p_bad_to_good", p_bad_to_good, false)?;
                prob("loss_good", loss_good, true)?;
                prob("loss_bad", loss_bad, false)?;
                if p_bad_to_good == 0.0 {
                    return Err("p_bad_to_good must be above 0, or the link stays Bad forever".into());
                }
                Ok(())
            }
        }
    }

    /// Long-run fraction of messages lost.
    pub fn mean_loss(&self) -> f64 {
        match *self {
            LossModel::Bernoulli { p } => p,
            LossModel::GilbertElliott { loss_good, loss_bad, .. } => {
                let bad = self.stationary_bad();
                (1.0 - bad) * loss_good + bad * loss_bad
            }
        }
    }

    fn stationary_bad(&self) -> f64 {
        match *self {
            LossModel::Bernoulli { .. } => 0.0,
            LossModel::GilbertElliott { p_good_to_bad, p_bad_to_good, .. } => {
                if p_good_to_bad == 0.0 { 0.0 } else { p_good_to_bad / (p_good_to_bad + p_bad_to_good) }
            }
        }
    }
}

/// A loss model and its current state.
#[derive(Clone, Debug)]
pub struct Loss {
    model: LossModel,
    bad: bool,
}

impl Loss {
    /// Starts in a state drawn from the stationary distribution (no draw
    /// for Bernoulli, so lossless links consume no randomness).
    pub fn new<R: Rng>(model: LossModel, rng: &mut R) -> Self {
        debug_assert!(model.validate().is_ok(), "{model:?}");
        let bad = match model {
            LossModel::Bernoulli { .. } => false,
            LossModel::GilbertElliott { .. } => rng.random::<f64>() < model.stationary_bad(),
        };
        Loss { model, bad }
    }

    pub fn model(&self) -> LossModel {
        self.model
    }

    /// Whether the next message is lost.
    pub fn lose<R: Rng>(&mut self, rng: &mut R) -> bool {
        match self.model {
            LossModel::Bernoulli { p } => p > 0.0 && rng.random::<f64>() < p,
            LossModel::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad } => {
                let p = if self.bad { loss_bad } else { loss_good };
                let lost = p > 0.0 && rng.random::<f64>() < p;
                let flip = if self.bad { p_bad_to_good } else { p_good_to_bad };
                if flip > 0.0 && rng.random::<f64>() < flip {
                    self.bad = !self.bad;
                }
                lost
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdnsim_engine::stream;

    #[test]
    fn validation_names_the_bad_parameter() {
        assert!(LossModel::Bernoulli { p: 1.0 }.validate().unwrap_err().contains("loss"));
        let ge = LossModel::GilbertElliott { p_good_to_bad: 0.1, p_bad_to_good: 0.0, loss_good: 0.0, loss_bad: 1.0 };
        assert!(ge.validate().unwrap_err().contains("p_bad_to_good"));
    }

    #[test]
    fn mean_loss_closed_form() {
        let ge = LossModel::GilbertElliott { p_good_to_bad: 0.01, p_bad_to_good: 0.3, loss_good: 0.001, loss_bad: 0.5 };
        let bad = 0.01 / 0.31;
        assert!((ge.mean_loss() - ((1.0 - bad) * 0.001 + bad * 0.5)).abs() < 1e-15);
    }

    #[test]
    fn bernoulli_without_loss_draws_nothing() {
        let mut rng = stream(1, "x");
        let mut l = Loss::new(LossModel::NONE, &mut rng);
        for _ in 0..10 {
            assert!(!l.lose(&mut rng));
        }
        let mut fresh = stream(1, "x");
        assert_eq!(rand::Rng::random::<u64>(&mut rng), rand::Rng::random::<u64>(&mut fresh));
    }
}
