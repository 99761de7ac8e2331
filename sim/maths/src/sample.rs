//! Random variates computed with [`crate::func`], so the same generator
//! state gives the same bits on every machine.
//!
//! Every sampler draws 64-bit words from the caller's generator through
//! rand's `OpenClosed01` (one `next_u64` per uniform, 53 bits, a value in
//! (0, 1]) and documents how many it draws: the draws are part of the
//! model. Changing a sampler's algorithm or draw count shifts every later
//! draw on that stream, and so every result; do it only deliberately.
//!
//! Uniforms in (0, 1] on a 2^-53 grid bound what the inversions can
//! return: an exponential at most 53 ln 2 = 36.7, a normal at most
//! sqrt(2 x 53 ln 2) = 8.57 in absolute value. The truncated mass is about
//! 1e-16, far below anything a simulation can resolve.
//!
//! Parameters come shape first, then scale (mu, sigma for the
//! log-normal). They are not checked (the callers validate theirs): a bad one
//! gives NaN or an infinity, never a panic and never an endless loop.

use rand::Rng;
use rand::distr::OpenClosed01;

use crate::func::{cos, exp, ln, powf};

/// One uniform in (0, 1]: one `next_u64`. Zero is excluded so that `ln`
/// and negative powers stay finite.
#[inline]
fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rng.sample(OpenClosed01)
}

/// Exponential with mean 1, by inversion: -ln U. Draws 1 uniform.
pub fn exp1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    -ln(unit(rng))
}

/// Standard normal, by the Box-Muller transform (exact in exact
/// arithmetic): sqrt(-2 ln U1) cos(2 pi U2). Draws exactly 2 uniforms
/// (the companion sine variate is discarded so that the sampler keeps no
/// state and its draw count is fixed).
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let r = (-2.0 * ln(unit(rng))).sqrt();
    r * cos(2.0 * std::f64::consts::PI * unit(rng))
}

/// Log-normal: exp(mu + sigma Z), Z standard normal. Draws 2 uniforms.
pub fn log_normal<R: Rng + ?Sized>(rng: &mut R, mu: f64, sigma: f64) -> f64 {
    exp(mu + sigma * standard_normal(rng))
}

/// Weibull with survival exp(-(x / scale)^shape), by inversion:
/// scale (-ln U)^(1 / shape). Draws 1 uniform.
pub fn weibull<R: Rng + ?Sized>(rng: &mut R, shape: f64, scale: f64) -> f64 {
    scale * powf(exp1(rng), 1.0 / shape)
}

/// Pareto with survival (scale / x)^shape for x >= scale, by inversion:
/// scale U^(-1 / shape). Draws 1 uniform.
pub fn pareto<R: Rng + ?Sized>(rng: &mut R, shape: f64, scale: f64) -> f64 {
    scale * powf(unit(rng), -1.0 / shape)
}

/// Gamma with density x^(shape-1) e^(-x/scale) / (Gamma(shape) scale^shape),
/// by Marsaglia and Tsang's squeeze-and-reject method (ACM TOMS 26(3),
/// 2000). For shape < 1 it draws Gamma(shape + 1) and multiplies by
/// U^(1/shape) (their boost).
///
/// Draws: each attempt takes a normal (2 uniforms) and, unless the cube's
/// base 1 + cZ is not positive, 1 more uniform; attempts repeat until one
/// is accepted (probability at least 0.95 per attempt for shape >= 1, so
/// on average at most about 3.2 uniforms). Shape < 1 adds 1 uniform at the
/// end. Returns NaN for a shape that is not finite and positive.
pub fn gamma<R: Rng + ?Sized>(rng: &mut R, shape: f64, scale: f64) -> f64 {
    if !(shape.is_finite() && shape > 0.0) {
        return f64::NAN;
    }
    if shape < 1.0 {
        let g = gamma_at_least_one(rng, shape + 1.0);
        return scale * g * powf(unit(rng), 1.0 / shape);
    }
    scale * gamma_at_least_one(rng, shape)
}

/// Marsaglia-Tsang for shape >= 1, scale 1.
fn gamma_at_least_one<R: Rng + ?Sized>(rng: &mut R, shape: f64) -> f64 {
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let z = standard_normal(rng);
        let base = 1.0 + c * z;
        if base <= 0.0 {
            continue;
        }
        let v = base * base * base;
        let u = unit(rng);
        let z2 = z * z;
        // The squeeze accepts most attempts without a logarithm.
        if u < 1.0 - 0.0331 * z2 * z2 || ln(u) < 0.5 * z2 + d * (1.0 - v + ln(v)) {
            return d * v;
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each sampler against its closed-form CDF (one-sample
    //! Kolmogorov-Smirnov) and moments. Seeds are fixed, so a run is
    //! reproducible; the thresholds are what a correct sampler exceeds
    //! with the stated small probability, whatever the seed.

    use super::*;
    use crate::func::gamma as gamma_fn;
    use rand::{RngCore, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    const N: usize = 200_000;

    fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    /// Kolmogorov-Smirnov statistic sup |F_n - F| of `xs` against `cdf`.
    fn ks(mut xs: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(x);
                (f - i as f64 / n).max((i + 1) as f64 / n - f)
            })
            .fold(0.0, f64::max)
    }

    /// The KS critical value at significance 0.001: sqrt(ln(2 / 0.001) / 2)
    /// / sqrt(n) = 1.9495 / sqrt(n) (the asymptotic Kolmogorov
    /// distribution; n = 200 000 is far into the asymptotic range).
    fn ks_critical(n: usize) -> f64 {
        (2000f64.ln() / 2.0).sqrt() / (n as f64).sqrt()
    }

    /// Checks `N` draws: KS at 0.001, and the sample mean within 5
    /// standard errors of `mean` (the standard error from the closed-form
    /// `var`; a false failure has probability 6e-7).
    fn check(name: &str, mut draw: impl FnMut() -> f64, cdf: impl Fn(f64) -> f64, mean: f64, var: f64) {
        let xs: Vec<f64> = (0..N).map(|_| draw()).collect();
        assert!(xs.iter().all(|x| x.is_finite()), "{name}: a draw is not finite");
        let m = xs.iter().sum::<f64>() / N as f64;
        let se = (var / N as f64).sqrt();
        assert!((m - mean).abs() < 5.0 * se, "{name}: mean {m} vs {mean} (se {se})");
        let d = ks(xs, cdf);
        assert!(d < ks_critical(N), "{name}: KS D = {d} >= {}", ks_critical(N));
    }

    fn normal_cdf(x: f64) -> f64 {
        // libm's erfc: an implementation independent of the samplers.
        0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
    }

    /// Regularised lower incomplete gamma P(a, x), written here for the
    /// test: the series for x < a + 1, the continued fraction (modified
    /// Lentz) for the complement above; both to about 1e-14.
    fn gamma_p(a: f64, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let ln_pre = a * x.ln() - x - gamma_fn(a).ln();
        if x < a + 1.0 {
            let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
            for _ in 0..10_000 {
                ap += 1.0;
                term *= x / ap;
                sum += term;
                if term.abs() < sum.abs() * 1e-16 {
                    break;
                }
            }
            sum * ln_pre.exp()
        } else {
            let tiny = 1e-300;
            let mut b = x + 1.0 - a;
            let mut c = 1.0 / tiny;
            let mut d = 1.0 / b;
            let mut h = d;
            for i in 1..10_000 {
                let an = -(i as f64) * (i as f64 - a);
                b += 2.0;
                d = an * d + b;
                if d.abs() < tiny {
                    d = tiny;
                }
                c = b + an / c;
                if c.abs() < tiny {
                    c = tiny;
                }
                d = 1.0 / d;
                let delta = d * c;
                h *= delta;
                if (delta - 1.0).abs() < 1e-16 {
                    break;
                }
            }
            1.0 - ln_pre.exp() * h
        }
    }

    #[test]
    fn incomplete_gamma_helper_matches_closed_forms() {
        // P(1, x) = 1 - e^-x; P(2, x) = 1 - (1 + x) e^-x;
        // P(1/2, x) = erf(sqrt x).
        for x in [0.01, 0.5, 1.0, 2.9, 3.1, 10.0, 40.0] {
            assert!((gamma_p(1.0, x) - (1.0 - (-x).exp())).abs() < 1e-13, "{x}");
            assert!((gamma_p(2.0, x) - (1.0 - (1.0 + x) * (-x).exp())).abs() < 1e-13, "{x}");
            assert!((gamma_p(0.5, x) - libm::erf(x.sqrt())).abs() < 1e-13, "{x}");
        }
    }

    #[test]
    fn exp1_is_exponential() {
        let mut r = rng(1);
        check("exp1", || exp1(&mut r), |x| 1.0 - (-x).exp(), 1.0, 1.0);
    }

    #[test]
    fn standard_normal_is_normal() {
        let mut r = rng(2);
        check("normal", || standard_normal(&mut r), normal_cdf, 0.0, 1.0);
        // The variance too: E[Z^2] = 1, Var(Z^2) = 2.
        let mut r = rng(3);
        let m2 = (0..N).map(|_| standard_normal(&mut r).powi(2)).sum::<f64>() / N as f64;
        assert!((m2 - 1.0).abs() < 5.0 * (2.0 / N as f64).sqrt(), "E[Z^2] = {m2}");
    }

    #[test]
    fn log_normal_is_log_normal() {
        let mut r = rng(4);
        let (mu, s) = (0.3, 0.5);
        let mean = (mu + s * s / 2.0f64).exp();
        let var = ((s * s).exp() - 1.0) * (2.0 * mu + s * s).exp();
        check("log-normal", || log_normal(&mut r, mu, s), |x| normal_cdf((x.ln() - mu) / s), mean, var);
    }

    #[test]
    fn weibull_is_weibull() {
        for (seed, k, lambda) in [(5, 0.59, 2.0), (6, 1.0, 1.0), (7, 3.5, 0.5)] {
            let mut r = rng(seed);
            let g1 = gamma_fn(1.0 + 1.0 / k);
            let mean = lambda * g1;
            let var = lambda * lambda * (gamma_fn(1.0 + 2.0 / k) - g1 * g1);
            let cdf = |x: f64| if x <= 0.0 { 0.0 } else { 1.0 - (-(x / lambda).powf(k)).exp() };
            check(&format!("weibull({k}, {lambda})"), || weibull(&mut r, k, lambda), cdf, mean, var);
        }
    }

    #[test]
    fn pareto_is_pareto() {
        // Shape 5.5: finite variance (and fourth moment) for the mean check.
        let mut r = rng(8);
        let (m, a) = (3.0, 5.5);
        let mean = a * m / (a - 1.0);
        let var = m * m * a / ((a - 1.0) * (a - 1.0) * (a - 2.0));
        let cdf = |x: f64| if x < m { 0.0 } else { 1.0 - (m / x).powf(a) };
        check("pareto", || pareto(&mut r, a, m), cdf, mean, var);
        // Heavy tail (shape 1.2, infinite variance): the CDF alone.
        let mut r = rng(9);
        let xs: Vec<f64> = (0..N).map(|_| pareto(&mut r, 1.2, 1.0)).collect();
        assert!(xs.iter().all(|&x| x >= 1.0));
        let d = ks(xs, |x| 1.0 - x.powf(-1.2));
        assert!(d < ks_critical(N), "pareto(1.2): D = {d}");
    }

    #[test]
    fn gamma_is_gamma() {
        // Below 1 (the boost), at 1, 1/0.59 (the Weibull residual of the
        // default home on-session), and large.
        for (seed, a, theta) in
            [(10, 0.3, 1.0), (11, 0.7, 2.0), (12, 1.0, 1.0), (13, 1.0 / 0.59, 1.0), (14, 5.0, 0.5), (15, 40.0, 1.0)]
        {
            let mut r = rng(seed);
            let cdf = |x: f64| gamma_p(a, x / theta);
            check(&format!("gamma({a}, {theta})"), || gamma(&mut r, a, theta), cdf, a * theta, a * theta * theta);
        }
    }

    #[test]
    fn bad_parameters_do_not_hang_or_panic() {
        let mut r = rng(16);
        assert!(gamma(&mut r, 0.0, 1.0).is_nan());
        assert!(gamma(&mut r, -1.0, 1.0).is_nan());
        assert!(gamma(&mut r, f64::NAN, 1.0).is_nan());
        assert!(gamma(&mut r, f64::INFINITY, 1.0).is_nan());
        let _ = (weibull(&mut r, 0.0, 1.0), pareto(&mut r, 0.0, 1.0), log_normal(&mut r, 0.0, f64::NAN));
    }

    /// A generator that counts the words drawn from it.
    struct Counting(Xoshiro256PlusPlus, u64);

    impl RngCore for Counting {
        fn next_u32(&mut self) -> u32 {
            self.1 += 1;
            self.0.next_u32()
        }
        fn next_u64(&mut self) -> u64 {
            self.1 += 1;
            self.0.next_u64()
        }
        fn fill_bytes(&mut self, dst: &mut [u8]) {
            self.1 += 1;
            self.0.fill_bytes(dst)
        }
    }

    #[test]
    fn draw_counts_are_as_documented() {
        let mut r = Counting(rng(17), 0);
        // Words drawn by one call of `f`.
        let mut count = |f: &dyn Fn(&mut Counting) -> f64| {
            let before = r.1;
            let _ = f(&mut r);
            r.1 - before
        };
        for _ in 0..100 {
            assert_eq!(count(&|r| exp1(r)), 1);
            assert_eq!(count(&|r| standard_normal(r)), 2);
            assert_eq!(count(&|r| log_normal(r, 0.0, 1.0)), 2);
            assert_eq!(count(&|r| weibull(r, 0.59, 1.0)), 1);
            assert_eq!(count(&|r| pareto(r, 1.5, 1.0)), 1);
        }
        // Gamma: 3 per attempt (2 when 1 + cZ <= 0), plus 1 for the boost;
        // acceptance >= 0.95 for shape >= 1.
        let (mut words, n) = (0, 10_000);
        for _ in 0..n {
            let w = count(&|r| gamma(r, 1.0, 1.0));
            assert!(w >= 3, "{w}");
            words += w;
        }
        let mean = words as f64 / n as f64;
        assert!(mean < 3.0 / 0.95 + 0.05, "{mean} words per gamma(1) draw");
        for _ in 0..1000 {
            assert!(count(&|r| gamma(r, 0.5, 1.0)) >= 4);
        }
    }
}
