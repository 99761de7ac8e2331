//! The redundancy controller under independent loss reaches the
//! 99.9%-decodable targets of the binomial table (redundancy for
//! independent loss p, 99.9% decodable, h = 2:
//! docs/references.md, Redundancy table) without exceeding them by more
//! than a margin that follows from its estimator.

use cdnsim_codec::{
    IntervalReport, RedundancyConfig, RedundancyController, SplitMix64, binomial_tail, symbols_needed, wilson_interval,
};

/// docs/references.md, Redundancy table: (K, [redundancy % at p = 1%,
/// 5%, 10%]).
const REFERENCE: [(u16, [u32; 3]); 4] =
    [(12, [33, 58, 75]), (61, [10, 20, 31]), (122, [7, 15, 25]), (244, [5, 11, 20])];
const LOSSES: [f64; 3] = [0.01, 0.05, 0.10];

fn redundancy_pct(n: u32, k: u16) -> u32 {
    ((n - k as u32) as f64 * 100.0 / k as f64).round() as u32
}

/// The exact n behind each entry reproduces the table's rounded percentage.
#[test]
fn exact_binomial_reproduces_the_reference_table() {
    for (k, pcts) in REFERENCE {
        for (p, pct) in LOSSES.iter().zip(pcts) {
            let n = symbols_needed(k, 2, *p, 0.999, 4 * k as u32).unwrap();
            assert_eq!(redundancy_pct(n, k), pct, "K={k} p={p}: n={n}");
            assert!(binomial_tail(n, 1.0 - p, k as u32 + 2) >= 0.999);
            assert!(binomial_tail(n - 1, 1.0 - p, k as u32 + 2) < 0.999);
        }
    }
}

/// Binomial(n, q) by n Bernoulli draws (n is at most a few hundred here).
fn binomial(rng: &mut SplitMix64, n: u64, q: f64) -> u64 {
    (0..n).filter(|_| rng.unit() < q).count() as u64
}

/// A client pulling a 1 Mbps stream (~150 symbols per 1-second interval,
/// the stream's 122 symbols/s plus redundancy;
/// docs/references.md, Symbols per second) from one sender that loses
/// each symbol independently with probability p. After a warm-up of 40
/// intervals (5 time constants of the g = 1/8 smoothing), each interval's
/// plan for K is compared with the exact n(p) of the reference table:
///
/// - reach: the decode probability actually delivered,
///   P(Binomial(n_chosen, 1 - p) >= K + 2), averaged over intervals, is at
///   least the 0.999 target, and n_chosen >= n(p) in at least 95% of
///   intervals. With z = 2 the loss bound sits below the true p in about
///   2.3% of intervals when the estimator is unbiased.
/// - margin: n_chosen <= n(W(p + 5 sigma)), where sigma = sqrt(p (1 - p) /
///   n_eff) is the standard error of the smoothed loss over its n_eff =
///   150 (2 - g) / g symbols and W is the controller's own Wilson upper
///   bound at z over n_eff. That is: the headroom the bound adds by design,
///   on top of an estimate 5 sigma above the truth. The smoothed estimate
///   has about 1000 g / 2 ~ 60 independent stretches in the run; a 5-sigma
///   excursion in any of them is a ~1e-5 event for the normal tail and
///   ~1e-4 for the skewed binomial tail at p = 1%, so the bound is not
///   tight against noise. The margins, n(W(p + 5 sigma)) - n(p), are
///   printed: 1-2 symbols at K = 12, up to 20 at K = 244, p = 10%.
/// - on average: the mean of n_chosen is at most n(W(p)) + 1, the request
///   the design gives for a perfect estimate (its z-sigma headroom only),
///   plus one symbol for rounding and the convexity of n in the loss.
#[test]
fn controller_reaches_reference_targets_within_margin() {
    let config = RedundancyConfig::default();
    let (g, z) = (config.loss_gain, config.confidence_z);
    let per_interval = 150u64;
    let n_eff = per_interval as f64 * (2.0 - g) / g;
    let sec = 1_000_000_000;
    let mut rng = SplitMix64::new(77);
    println!("  K     p   n(p)  target%  design  mean chosen  min..max  margin  mean P(decode)");
    for (k, _) in REFERENCE {
        for p in LOSSES {
            let exact = symbols_needed(k, 2, p, 0.999, 4 * k as u32).unwrap();
            let sigma = (p * (1.0 - p) / n_eff).sqrt();
            let high = ((p + 5.0 * sigma) * n_eff).round() as u64;
            let bound = wilson_interval(high, n_eff.round() as u64, z).1;
            let allowed = symbols_needed(k, 2, bound, 0.999, 4 * k as u32).unwrap();
            let design_bound = wilson_interval((p * n_eff).round() as u64, n_eff.round() as u64, z).1;
            let design = symbols_needed(k, 2, design_bound, 0.999, 4 * k as u32).unwrap();
            let mut ctl = RedundancyController::new(config).unwrap();
            let (mut sum_n, mut sum_p, mut below, mut lo, mut hi, mut count) = (0u64, 0.0, 0u32, u32::MAX, 0, 0u32);
            for interval in 0..1040 {
                let received = binomial(&mut rng, per_interval, 1.0 - p);
                ctl.report(1, IntervalReport { interval_ns: sec, requested: per_interval, received }).unwrap();
                if interval < 40 {
                    continue;
                }
                let plan = ctl.plan(k, sec);
                assert!(plan.reaches_target);
                let n = plan.symbols;
                sum_n += n as u64;
                sum_p += binomial_tail(n, 1.0 - p, k as u32 + 2);
                below += (n < exact) as u32;
                lo = lo.min(n);
                hi = hi.max(n);
                count += 1;
            }
            let mean_p = sum_p / count as f64;
            let mean_n = sum_n as f64 / count as f64;
            println!(
                "{k:4} {p:5.2} {exact:5} {:7} {design:7} {mean_n:12.1} {lo:4}..{hi:<4} {:6} {mean_p:.5}",
                redundancy_pct(exact, k),
                allowed - exact
            );
            assert!(mean_n <= design as f64 + 1.0, "K={k} p={p}: mean request {mean_n}, design {design}");
            assert!(mean_p >= 0.999, "K={k} p={p}: delivered decode probability {mean_p}");
            assert!(below as f64 <= 0.05 * count as f64, "K={k} p={p}: below n(p) in {below} of {count} intervals");
            assert!(hi <= allowed, "K={k} p={p}: chose up to {hi}, allowed {allowed} (exact {exact})");
        }
    }
}

/// From a cold start (no reports) the controller is cautious, and it
/// tracks a change of loss within a few time constants.
#[test]
fn controller_starts_cautious_and_tracks_a_loss_change() {
    let config = RedundancyConfig::default();
    let mut ctl = RedundancyController::new(config).unwrap();
    let k = 122;
    let cold = ctl.plan(k, 1_000_000_000);
    assert_eq!(cold.symbols, symbols_needed(k, 2, config.initial_loss, 0.999, 244).unwrap());
    let mut rng = SplitMix64::new(3);
    let sec = 1_000_000_000;
    for _ in 0..60 {
        let received = binomial(&mut rng, 150, 0.99);
        ctl.report(4, IntervalReport { interval_ns: sec, requested: 150, received }).unwrap();
    }
    let calm = ctl.plan(k, sec).symbols;
    for _ in 0..40 {
        let received = binomial(&mut rng, 150, 0.90);
        ctl.report(4, IntervalReport { interval_ns: sec, requested: 150, received }).unwrap();
    }
    let lossy = ctl.plan(k, sec).symbols;
    let (n1, n10) = (symbols_needed(k, 2, 0.01, 0.999, 244).unwrap(), symbols_needed(k, 2, 0.10, 0.999, 244).unwrap());
    assert!(calm >= n1 && calm < n10, "calm {calm}: n(1%) = {n1}, n(10%) = {n10}");
    assert!(lossy >= n10, "after 40 intervals at 10% loss: {lossy} < n(10%) = {n10}");
}
