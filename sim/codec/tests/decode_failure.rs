//! The real decoder's failure probability at K, K+1 and K+2 received
//! symbols is of the order RFC 6330 states: about 1e-2, 1e-4 and 1e-6
//! (raptorq's README quotes 1/256^(h+1): 3.9e-3, 1.5e-5, 6e-8;
//! docs/references.md, Decode failure).
//!
//! Measured with `calibrate_k` (random repair ESIs, the real decoder on
//! 1-byte symbols) at K = 10, where one decode takes ~20 us, so 10^5
//! trials fit in a few seconds. Intervals are Wilson score intervals at
//! z = 3.29 (two-sided 99.9%; docs/references.md, Wilson interval). 10^5
//! trials resolve K (hundreds of failures) and bound K+1 from above at the
//! 1e-4 order; for K+2, 1e-6 would need some 10^7 trials, so the test only
//! shows an upper bound (about 1e-4 at zero failures) and that failures
//! keep falling.

use cdnsim_codec::{CalibrationSpec, calibrate_k, wilson_interval};

const Z: f64 = 3.29;

#[test]
fn failure_at_k_k1_k2_is_of_rfc_order() {
    let trials = 100_000;
    let spec = CalibrationSpec { max_extra: 2, trials, seed: 2024, ..CalibrationSpec::default() };
    let rows = calibrate_k(10, &spec).unwrap();
    let ci: Vec<(f64, f64)> = rows.iter().map(|r| wilson_interval(r.failures, r.trials, Z)).collect();
    for (r, (lo, hi)) in rows.iter().zip(&ci) {
        println!(
            "K+{}: {} / {} failures, p = {:.2e}, 99.9% CI [{lo:.2e}, {hi:.2e}]",
            r.extra,
            r.failures,
            r.trials,
            r.fail_probability()
        );
    }
    // At K: order 1e-2. The interval must sit inside [1e-3, 2e-2]: failures
    // do happen (the decoder is the real one), and not more than ~1e-2.
    assert!(ci[0].0 > 1e-3 && ci[0].1 < 2e-2, "K: {:?}", ci[0]);
    // At K+1: at most the order 1e-4, and clearly below K.
    assert!(ci[1].1 < 3e-4, "K+1: {:?}", ci[1]);
    assert!(ci[1].1 < ci[0].0 / 10.0, "K+1 not an order below K: {ci:?}");
    // At K+2: an upper bound only (see above), and never above K+1.
    assert!(ci[2].1 < 2e-4, "K+2: {:?}", ci[2]);
    assert!(rows[2].failures <= rows[1].failures);
}
