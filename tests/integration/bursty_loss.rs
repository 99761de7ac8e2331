//! The Gilbert-Elliott loss model against its closed forms, through the
//! channel a link uses.
//!
//! Tolerances: losses are correlated within bursts, so the loss rate's
//! standard error comes from batch means (100 batches of 10,000 messages,
//! each far longer than a burst); burst lengths are independent geometric
//! variables, so their mean's standard error is sd / sqrt(bursts). Both
//! assertions allow 4 standard errors (false alarm < 1e-4) and check the
//! standard error is small enough for the test to mean something.

use cdnsim_engine::{SimDuration, SimTime, stream};
use cdnsim_net::{Channel, LossModel, Transmit};

fn losses(model: LossModel, n: usize, seed: u64) -> Vec<bool> {
    let mut c = Channel::new(100_000_000_000, u64::MAX / 2, SimDuration::from_ms(1), model, stream(seed, "ge.test"));
    (0..n).map(|i| matches!(c.transmit(SimTime::from_ns(i as u64 * 1_000), 100), Transmit::Lost { .. })).collect()
}

fn batch_mean_and_se(lost: &[bool], batches: usize) -> (f64, f64) {
    let per = lost.len() / batches;
    let means: Vec<f64> =
        lost.chunks(per).map(|b| b.iter().filter(|&&x| x).count() as f64 / b.len() as f64).collect();
    let m = means.iter().sum::<f64>() / batches as f64;
    let var = means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (batches - 1) as f64;
    (m, (var / batches as f64).sqrt())
}

#[test]
fn gilbert_loss_rate_and_burst_length() {
    let seed = 7;
    let (p, r) = (0.02, 0.25);
    let model = LossModel::GilbertElliott { p_good_to_bad: p, p_bad_to_good: r, loss_good: 0.0, loss_bad: 1.0 };
    let lost = losses(model, 1_000_000, seed);

    let expected = p / (p + r);
    assert!((model.mean_loss() - expected).abs() < 1e-15);
    let (mean, se) = batch_mean_and_se(&lost, 100);
    assert!(se < 0.05 * expected, "se {se}");
    assert!((mean - expected).abs() < 4.0 * se, "loss rate {mean} vs {expected} (se {se}, seed {seed})");

    let mut bursts = Vec::new();
    let mut run = 0u32;
    for &l in &lost {
        if l {
            run += 1;
        } else if run > 0 {
            bursts.push(run as f64);
            run = 0;
        }
    }
    let n = bursts.len() as f64;
    let mean_burst = bursts.iter().sum::<f64>() / n;
    // Geometric with mean 1/r: sd = sqrt(1 - r) / r.
    let se_burst = (1.0 - r).sqrt() / r / n.sqrt();
    assert!((mean_burst - 1.0 / r).abs() < 4.0 * se_burst, "burst {mean_burst} vs {} (se {se_burst})", 1.0 / r);
    // Bursty, not independent: an independent model with the same rate
    // would give mean runs of 1 / (1 - rate) ~ 1.08.
    assert!(mean_burst > 3.0);
}

#[test]
fn gilbert_elliott_general_loss_rate() {
    let seed = 8;
    let model = LossModel::GilbertElliott { p_good_to_bad: 0.01, p_bad_to_good: 0.1, loss_good: 0.01, loss_bad: 0.6 };
    let lost = losses(model, 1_000_000, seed);
    let bad = 0.01 / 0.11;
    let expected = (1.0 - bad) * 0.01 + bad * 0.6;
    let (mean, se) = batch_mean_and_se(&lost, 100);
    assert!(se < 0.05 * expected, "se {se}");
    assert!((mean - expected).abs() < 4.0 * se, "loss rate {mean} vs {expected} (se {se}, seed {seed})");
}
