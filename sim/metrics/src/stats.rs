//! Percentiles.
//!
//! Definition used everywhere: the nearest-rank percentile, the smallest
//! value such that at least p% of the samples are at or below it. It is
//! always one of the samples, so it is exact and needs no interpolation
//! convention.

/// Nearest-rank `p`-th percentile (0 < p <= 100) of `sorted` (ascending);
/// `None` for no samples.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    debug_assert!(sorted.windows(2).all(|w| w[0] <= w[1]), "percentile needs sorted input");
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// Sub-bucket bits: each power-of-two range is split in 2^8 = 256 buckets,
/// so a bucket is at most 1/256 (0.4%) of its values wide.
const SUB_BITS: u32 = 8;
const SUB: u64 = 1 << SUB_BITS;

/// A log-linear histogram of non-negative integer samples (microseconds
/// here), in the manner of HdrHistogram: values below 256 are exact, larger
/// ones fall in buckets at most 0.4% wide. Memory is fixed (about 14 K
/// counters for the whole u64 range), so a run may add billions of samples.
///
/// A percentile is reported as the midpoint of the bucket that holds the
/// nearest-rank sample, so it is within 0.2% of the exact value.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    pub fn new() -> Self {
        LatencyHistogram { counts: vec![0; ((64 - SUB_BITS as usize) + 1) * SUB as usize], total: 0 }
    }

    fn index(v: u64) -> usize {
        if v < SUB {
            return v as usize;
        }
        let shift = 63 - v.leading_zeros() - (SUB_BITS - 1) - 1;
        // v >> shift lies in [SUB, 2 SUB): the top SUB_BITS+1 bits of v.
        ((shift as u64 + 1) * SUB + ((v >> shift) - SUB)) as usize
    }

    /// The [low, high] values that share bucket `i`.
    fn bounds(i: usize) -> (u64, u64) {
        let i = i as u64;
        if i < SUB {
            return (i, i);
        }
        let shift = i / SUB - 1;
        let low = (SUB + i % SUB) << shift;
        (low, low + ((1 << shift) - 1))
    }

    pub fn record(&mut self, v: u64) {
        self.counts[Self::index(v)] += 1;
        self.total += 1;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// Nearest-rank percentile, as the midpoint of its bucket.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank.min(self.total) {
                let (lo, hi) = Self::bounds(i);
                return Some((lo as f64 + hi as f64) / 2.0);
            }
        }
        unreachable!("rank is at most the total count")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 50.0), Some(5.0));
        assert_eq!(percentile(&v, 95.0), Some(10.0));
        assert_eq!(percentile(&v, 10.0), Some(1.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn every_value_lands_in_a_bucket_that_contains_it() {
        for v in (0..5000u64).chain([u64::MAX, 1 << 40, (1 << 40) + 12345, 3_000_000]) {
            let (lo, hi) = LatencyHistogram::bounds(LatencyHistogram::index(v));
            assert!(lo <= v && v <= hi, "{v}: [{lo}, {hi}]");
            assert!((hi - lo) as f64 <= (v as f64 / 256.0).max(0.0), "{v}: bucket too wide");
        }
    }

    #[test]
    fn histogram_percentile_is_within_bucket_precision_of_exact() {
        let mut h = LatencyHistogram::new();
        let mut exact = Vec::new();
        // A deterministic spread of values over four decades.
        let mut x: u64 = 1;
        for i in 0..20_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let v = 100 + (x >> 33) % 1_000_000 + i;
            h.record(v);
            exact.push(v as f64);
        }
        exact.sort_by(f64::total_cmp);
        for p in [1.0, 50.0, 95.0, 99.9, 100.0] {
            let e = percentile(&exact, p).unwrap();
            let a = h.percentile(p).unwrap();
            assert!((a - e).abs() <= e * 0.002 + 0.5, "p{p}: {a} vs {e}");
        }
    }
}
