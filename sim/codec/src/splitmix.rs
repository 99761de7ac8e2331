//! A small seeded generator for calibration and tests. Simulation draws do
//! not come from here: the simulator passes them in (its named streams).

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit counter through a mixing
/// function. Its algorithm is fixed here, so a table calibrated with a seed
/// can be reproduced on any machine and release.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output function.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The generator for member `index` of a family seeded by `seed`: the
    /// streams of different indices do not overlap in practice.
    pub fn indexed(seed: u64, index: u64) -> SplitMix64 {
        SplitMix64::new(mix64(seed ^ mix64(index.wrapping_add(GOLDEN_GAMMA))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// Uniform in [0, n), exact (Lemire's multiply-shift with rejection).
    /// `n` must be at least 1.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = self.next_u64() as u128 * n as u128;
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut r = SplitMix64::new(42);
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            counts[r.below(7) as usize] += 1;
        }
        // Each count ~ Binomial(70000, 1/7): mean 10000, sd 92.6; 5 sd.
        for c in counts {
            assert!((c as f64 - 10_000.0).abs() < 5.0 * 92.6, "{counts:?}");
        }
        let u = r.unit();
        assert!((0.0..1.0).contains(&u));
    }

    #[test]
    fn fixed_sequence() {
        // The reference SplitMix64 from seed 0 starts with 0xe220a8397b1dcdaf.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
    }
}
