//! Measuring the decode model with the real decoder.
//!
//! For each K, `trials` times: draw K + E distinct repair ESIs uniformly
//! from [K, K + span x K) with a seeded [`SplitMix64`], feed them to
//! raptorq's decoder (1-byte symbols: decodability does not depend on the
//! bytes) in draw order, trying to decode at K, K + 1, ..., K + E symbols,
//! and stop at the first success. A failure at K + e is a block still
//! undecoded after K + e symbols, which is exactly how a receiver behaves.
//! More symbols never make the decoder fail where fewer succeeded (adding
//! rows cannot lower a matrix's rank; `decoding_never_gets_worse` checks
//! this for raptorq), so this is also P(fail | K + e) of a fresh decoder.
//!
//! Repair ESIs, because under [`crate::ShareLayout`] home nodes carry only
//! repair symbols, and a set holding all source symbols needs no model.
//! Where the repair ESIs lie matters: raptorq's failure rate at K depends
//! on it. Measured at K = 61 (4 x 10^4 blocks each, standard error ~4e-4):
//! 0.48-0.56% for ESIs within [K, K + 16K), 0.64% within [K, K + 64K),
//! 0.67-0.69% for 256K and more, and 0.92% for ESIs around 10^6. So the
//! ESIs are drawn from the ids a run really uses: the world lays home-node
//! slots and the server's own repair ids over [K, [`LAST_HOP_ESI_END`]),
//! and the table records the end it was calibrated with (`#! esi_end`), so
//! a run can check that its layout stays inside it.
//!
//! Each K draws from its own generator, `SplitMix64::indexed(seed, K)`, so
//! a K's rows do not change when other Ks are added to or removed from a
//! run.

use crate::block::{ESI_LIMIT, check_k};
use crate::error::CodecError;
use crate::receive::{structural_decoder, zero_symbol};
use crate::table::{DecodeRow, DecodeTable, MAX_EXTRA};

pub use crate::splitmix::SplitMix64;

/// Ks of the shipped table: small Ks where the code is weakest, the Ks of
/// the redundancy table (12, 61, 122, 244;
/// docs/references.md, Redundancy table), and up to 1000.
pub const DEFAULT_KS: &[u16] = &[
    1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 61, 64, 96, 122, 128, 160, 200, 244, 256, 320, 400, 500, 640, 800,
    1000,
];
/// Extras measured by default: K, K + 1, K + 2, K + 3.
pub const DEFAULT_MAX_EXTRA: u32 = 3;
/// Trials per K by default.
pub const DEFAULT_TRIALS: u64 = 20_000;
/// The end of the ESIs a last-hop layout may use: K source ids, home-node
/// slots and the server's K repair ids all lie below it. The default end
/// of calibration's repair ESIs, so the table describes those ids.
pub const LAST_HOP_ESI_END: u32 = 16_384;

/// How to calibrate (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalibrationSpec {
    /// Extras measured: 0..=max_extra.
    pub max_extra: u32,
    /// Blocks per K.
    pub trials: u64,
    pub seed: u64,
    /// Repair ESIs come from [K, esi_end).
    pub esi_end: u32,
}

impl Default for CalibrationSpec {
    fn default() -> Self {
        CalibrationSpec { max_extra: DEFAULT_MAX_EXTRA, trials: DEFAULT_TRIALS, seed: 1, esi_end: LAST_HOP_ESI_END }
    }
}

impl CalibrationSpec {
    /// The number of repair ESIs draws come from for `k`: [K, esi_end).
    pub fn pool(&self, k: u16) -> u32 {
        self.esi_end.saturating_sub(k as u32)
    }

    fn check(&self, k: u16) -> Result<(), CodecError> {
        check_k(k as u64)?;
        let bad = |m: String| Err(CodecError::Calibration(m));
        if self.max_extra > MAX_EXTRA {
            return bad(format!("max extra {}: expected 0..={MAX_EXTRA}", self.max_extra));
        }
        if self.trials == 0 {
            return bad("trials = 0: expected at least 1".into());
        }
        // Drawing distinct ESIs stays quick with a pool of 4 (K + E) or more.
        let least = k as u64 + 4 * (k as u64 + self.max_extra as u64);
        if (self.esi_end as u64) < least || self.esi_end > ESI_LIMIT {
            return bad(format!("ESI end {}: expected {least}..={ESI_LIMIT} for K = {k}", self.esi_end));
        }
        Ok(())
    }
}

/// Measures rows (K, extra) for extra = 0..=spec.max_extra.
pub fn calibrate_k(k: u16, spec: &CalibrationSpec) -> Result<Vec<DecodeRow>, CodecError> {
    spec.check(k)?;
    let max_extra = spec.max_extra as usize;
    let n = k as usize + max_extra;
    let pool = spec.pool(k);
    let mut rng = SplitMix64::indexed(spec.seed, k as u64);
    let mut failures = vec![0u64; max_extra + 1];
    let mut drawn = Vec::with_capacity(n);
    // One bit per pool ESI; only the bits set in a trial are cleared after it.
    let mut taken = vec![0u64; (pool as usize).div_ceil(64)];
    for _ in 0..spec.trials {
        drawn.clear();
        while drawn.len() < n {
            let offset = rng.below(pool as u64) as u32;
            let (word, bit) = ((offset / 64) as usize, offset % 64);
            if taken[word] & (1 << bit) == 0 {
                taken[word] |= 1 << bit;
                drawn.push(offset);
            }
        }
        for &offset in &drawn {
            taken[(offset / 64) as usize] &= !(1 << (offset % 64));
        }
        let esi = |offset: u32| k as u32 + offset;
        let mut decoder = structural_decoder(k);
        let mut first_success = None;
        if decoder.decode(drawn[..k as usize].iter().map(|&o| zero_symbol(esi(o)))).is_some() {
            first_success = Some(0);
        } else {
            for e in 1..=max_extra {
                let next = zero_symbol(esi(drawn[k as usize + e - 1]));
                if decoder.decode(std::iter::once(next)).is_some() {
                    first_success = Some(e);
                    break;
                }
            }
        }
        let failed_through = first_success.unwrap_or(max_extra + 1);
        for f in &mut failures[..failed_through] {
            *f += 1;
        }
    }
    Ok(failures
        .iter()
        .enumerate()
        .map(|(e, &f)| DecodeRow { k, extra: e as u32, trials: spec.trials, failures: f })
        .collect())
}

/// Measures a whole table: every K of `ks` (sorted and deduplicated here).
pub fn calibrate(ks: &[u16], spec: &CalibrationSpec) -> Result<DecodeTable, CodecError> {
    let mut ks = ks.to_vec();
    ks.sort_unstable();
    ks.dedup();
    let mut rows = Vec::new();
    for k in ks {
        rows.extend(calibrate_k(k, spec)?);
    }
    DecodeTable::from_rows(&rows).map_err(|e| CodecError::Calibration(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receive::solve_structural;

    fn spec(max_extra: u32, trials: u64, seed: u64) -> CalibrationSpec {
        CalibrationSpec { max_extra, trials, seed, ..CalibrationSpec::default() }
    }

    #[test]
    fn same_seed_same_table_and_ks_are_independent() {
        let a = calibrate(&[4, 10], &spec(2, 300, 7)).unwrap();
        let b = calibrate(&[10, 4, 10], &spec(2, 300, 7)).unwrap();
        assert_eq!(a, b);
        let alone = calibrate_k(10, &spec(2, 300, 7)).unwrap();
        assert_eq!(a.rows().filter(|r| r.k == 10).collect::<Vec<_>>(), alone);
        // Failures can only fall as extras grow.
        for w in alone.windows(2) {
            assert!(w[1].failures <= w[0].failures);
        }
    }

    #[test]
    fn bad_requests_are_errors() {
        assert!(calibrate_k(0, &spec(2, 10, 1)).is_err());
        assert!(calibrate_k(10, &spec(MAX_EXTRA + 1, 10, 1)).is_err());
        assert!(calibrate_k(10, &spec(2, 0, 1)).is_err());
        assert!(calibrate_k(10, &CalibrationSpec { esi_end: 0, ..spec(2, 10, 1) }).is_err());
        assert!(calibrate_k(10, &CalibrationSpec { esi_end: 57, ..spec(2, 10, 1) }).is_err());
        assert!(calibrate_k(10, &CalibrationSpec { esi_end: 58, ..spec(2, 10, 1) }).is_ok());
        assert!(calibrate_k(1000, &CalibrationSpec { esi_end: ESI_LIMIT + 1, ..spec(2, 10, 1) }).is_err());
        assert_eq!(spec(3, 1, 1).pool(100), LAST_HOP_ESI_END - 100);
    }

    /// The monotonicity calibration relies on: fresh decoders on the nested
    /// prefixes K, K+1, ..., K+6 of random repair sets never succeed and
    /// then fail. K = 4 and 10 fail often enough at K to exercise it.
    #[test]
    fn decoding_never_gets_worse() {
        let mut rng = SplitMix64::new(99);
        let mut failures_seen = 0;
        for k in [4u16, 10] {
            for _ in 0..1500 {
                let mut esis: Vec<u32> = Vec::new();
                while esis.len() < k as usize + 6 {
                    let esi = k as u32 + rng.below(2000) as u32;
                    if !esis.contains(&esi) {
                        esis.push(esi);
                    }
                }
                let mut ok_before = false;
                for n in k as usize..=esis.len() {
                    let mut prefix = esis[..n].to_vec();
                    prefix.sort_unstable();
                    let ok = solve_structural(k, &prefix);
                    assert!(ok || !ok_before, "K={k}: {n} symbols fail after {} decoded: {esis:?}", n - 1);
                    failures_seen += !ok as u32;
                    ok_before = ok;
                }
            }
        }
        assert!(failures_seen > 10, "the check saw only {failures_seen} failures");
    }
}
