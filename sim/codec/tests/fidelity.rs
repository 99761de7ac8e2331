//! Structural and model fidelity agree: the decode success of blocks at K,
//! K+1 and K+2 received symbols, under the structural receiver (the real
//! decoder) and under the model receiver reading the shipped table
//! (`data/decode_model.csv`, made by `cdnsim calibrate`), match within
//! binomial confidence intervals.
//!
//! The arrivals are a client's, not the calibration's: the client pulls
//! from 8 home-node slots of a `ShareLayout` in turn, each slot sending
//! consecutive repair ESIs from a random start in its range, and each
//! symbol is lost with probability 5%. The table was measured on uniformly
//! random repair ESIs, so agreement also says the model carries over to
//! this pattern.
//!
//! The interval, derived: with f1 of n1 and f2 of n2 failures and a common
//! failure probability p (the null hypothesis), p1 - p2 is approximately
//! normal with mean 0 and variance p (1 - p) (1/n1 + 1/n2); p is estimated
//! by the pooled (f1 + f2) / (n1 + n2). The test accepts
//! |p1 - p2| <= z sd + (1/n1 + 1/n2) / 2, the last term a continuity
//! correction (counts are integers; it also keeps the test meaningful when
//! both counts are 0). z = 3.89 is the two-sided 1e-4 quantile: over the
//! 18 comparisons below a false alarm has probability about 2e-3.

use cdnsim_codec::{
    DecodeTable, ModelReceiver, Receipt, ShareLayout, SplitMix64, StructuralDecoder, StructuralReceiver,
};

const TABLE: &str = include_str!("../../../data/decode_model.csv");
const Z: f64 = 3.89;
const SLOTS: u32 = 8;
const LOSS: f64 = 0.05;

fn agree(f1: u64, n1: u64, f2: f64, n2: f64) -> (bool, f64, f64) {
    let (p1, p2) = (f1 as f64 / n1 as f64, f2 / n2);
    let pooled = (f1 as f64 + f2) / (n1 as f64 + n2);
    let inv = 1.0 / n1 as f64 + 1.0 / n2;
    let tolerance = Z * (pooled * (1.0 - pooled) * inv).sqrt() + inv / 2.0;
    ((p1 - p2).abs() <= tolerance, (p1 - p2).abs(), tolerance)
}

/// One block's arrivals: the ESIs that survive loss, in arrival order,
/// until K + 2 have arrived.
fn arrivals(layout: &ShareLayout, rng: &mut SplitMix64) -> Vec<u32> {
    let k = layout.k() as usize;
    let s = layout.symbols_per_slot();
    let mut next: Vec<u32> =
        (0..SLOTS).map(|slot| layout.slot_range(slot).unwrap().start + rng.below(s as u64 / 2) as u32).collect();
    let mut out = Vec::with_capacity(k + 2);
    'outer: loop {
        for esi in next.iter_mut() {
            let sent = *esi;
            *esi += 1;
            if rng.unit() >= LOSS {
                out.push(sent);
                if out.len() == k + 2 {
                    break 'outer;
                }
            }
        }
    }
    out
}

/// Failures (not decoded) at K, K+1, K+2 held symbols.
fn failures_by_count(receipts: impl Iterator<Item = Receipt>, k: usize) -> [u64; 3] {
    let mut out = [0; 3];
    let mut decoded = false;
    for (held, r) in (1..).zip(receipts) {
        assert!(matches!(r, Receipt::Stored | Receipt::Decoded | Receipt::AfterDecode), "{r:?}");
        decoded |= r == Receipt::Decoded;
        if held >= k && held <= k + 2 {
            out[held - k] += !decoded as u64;
        }
    }
    out
}

fn compare(k: u16, trials: u64, seed: u64) {
    let table = DecodeTable::parse_csv(TABLE).expect("the shipped table parses");
    let rows: Vec<_> = table.rows().filter(|r| r.k == k).collect();
    assert!(rows.len() >= 3, "the shipped table has no rows for K = {k}");
    let layout = ShareLayout::new(k, SLOTS, 2 * k as u32).unwrap();
    let mut rng = SplitMix64::new(seed);
    let mut decoder = StructuralDecoder::default();
    let (mut structural, mut model) = ([0u64; 3], [0u64; 3]);
    for _ in 0..trials {
        let esis = arrivals(&layout, &mut rng);
        let mut rx = StructuralReceiver::new(k).unwrap();
        let f = failures_by_count(esis.iter().map(|&e| rx.receive(e, &mut decoder).unwrap()), k as usize);
        let mut rx = ModelReceiver::new(k, rng.unit()).unwrap();
        let g = failures_by_count(esis.iter().map(|&e| rx.receive(e, &table).unwrap()), k as usize);
        for e in 0..3 {
            structural[e] += f[e];
            model[e] += g[e];
        }
    }
    for e in 0..3 {
        let p_table = table.fail_probability(k, k as u32 + e as u32);
        let row = rows[e];
        println!(
            "K={k} K+{e}: structural {}/{trials}, model {}/{trials}, table {}/{} (p = {p_table:.2e})",
            structural[e], model[e], row.failures, row.trials
        );
        let checks = [
            ("structural vs table", agree(structural[e], trials, row.failures as f64, row.trials as f64)),
            ("structural vs model", agree(structural[e], trials, model[e] as f64, trials as f64)),
            // The model's draws against the table value it reads: a known p,
            // so the second sample has no variance (n2 = infinity).
            ("model vs its table p", agree(model[e], trials, p_table * 1e18, 1e18)),
        ];
        for (what, (ok, diff, tol)) in checks {
            assert!(ok, "K={k} K+{e}: {what}: |difference| {diff:.2e} > tolerance {tol:.2e}");
        }
    }
    let s = decoder.stats();
    assert_eq!(s.memo_hits + s.solves + s.source_shortcuts, s.decisions);
}

#[test]
fn structural_and_model_agree_at_k_12() {
    compare(12, 20_000, 12);
}

#[test]
fn structural_and_model_agree_at_k_61() {
    compare(61, 6_000, 61);
}

/// The shipped table covers what scenarios use and says how it was made.
#[test]
fn shipped_table_is_complete_and_documented() {
    let table = DecodeTable::parse_csv(TABLE).unwrap();
    assert_eq!(table.ks(), cdnsim_codec::DEFAULT_KS);
    assert!(TABLE.lines().any(|l| l.starts_with("# Produced by: cdnsim calibrate --out data/decode_model.csv")));
    for r in table.rows() {
        assert!(r.extra <= cdnsim_codec::DEFAULT_MAX_EXTRA);
    }
}
