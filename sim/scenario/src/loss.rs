//! `loss = ...` of a link, as a scenario or a topology file writes it.

use crate::model::LinkLoss;
use crate::raw::{LOSS_MODEL_NAMES, RawLoss};

/// `loss = p` or a Gilbert-Elliott table, checked; the message says what
/// is wrong, the caller says where.
pub(crate) fn link_loss(raw: &RawLoss) -> Result<LinkLoss, String> {
    match raw {
        RawLoss::Probability(p) => {
            if !(0.0..1.0).contains(p) {
                return Err(format!("expected a probability in [0, 1), found {p}"));
            }
            Ok(LinkLoss::Bernoulli { p: *p })
        }
        RawLoss::Model(m) => {
            // One model so far: the list is the check.
            crate::ctx::one_of(LOSS_MODEL_NAMES, &m.model).map_err(|e| format!("model: {e}"))?;
            for (name, x, open) in [
                ("p_good_to_bad", m.p_good_to_bad, false),
                ("p_bad_to_good", m.p_bad_to_good, false),
                ("loss_good", m.loss_good, true),
                ("loss_bad", m.loss_bad, false),
            ] {
                let ok = if open { (0.0..1.0).contains(&x) } else { (0.0..=1.0).contains(&x) };
                if !ok {
                    return Err(format!("expected {name} to be a probability, found {x}"));
                }
            }
            if m.p_bad_to_good == 0.0 {
                return Err("expected p_bad_to_good above 0 (or the link stays bad forever), found 0".into());
            }
            Ok(LinkLoss::GilbertElliott {
                p_good_to_bad: m.p_good_to_bad,
                p_bad_to_good: m.p_bad_to_good,
                loss_good: m.loss_good,
                loss_bad: m.loss_bad,
            })
        }
    }
}
