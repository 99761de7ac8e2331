//! Elementary functions with the same bits on every machine.
//!
//! Each wrapper is one call into `libm` (musl's algorithms in Rust; the
//! musl documentation bounds the error of each below 1 ulp). They exist so
//! that model code has one short, greppable name per function and the
//! guard test can forbid the `f64` methods outright.

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// Natural logarithm.
#[inline]
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// ln(1 + x), accurate for small x.
#[inline]
pub fn ln_1p(x: f64) -> f64 {
    libm::log1p(x)
}

/// x^y.
#[inline]
pub fn powf(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// x^n by binary exponentiation: a fixed sequence of IEEE multiplications
/// (each correctly rounded), so the result is the same everywhere, and
/// exact whenever every partial product is (powers of two, small
/// integers). `f64::powi` leaves its precision unspecified. A negative `n`
/// is `1 / x^|n|`.
pub fn powi(x: f64, n: i32) -> f64 {
    let mut base = x;
    let mut e = n.unsigned_abs();
    let mut acc = 1.0;
    while e > 0 {
        if e & 1 == 1 {
            acc *= base;
        }
        e >>= 1;
        if e > 0 {
            base *= base;
        }
    }
    if n < 0 { 1.0 / acc } else { acc }
}

/// Sine (radians).
#[inline]
pub fn sin(x: f64) -> f64 {
    libm::sin(x)
}

/// Cosine (radians).
#[inline]
pub fn cos(x: f64) -> f64 {
    libm::cos(x)
}

/// Arcsine, in [-pi/2, pi/2].
#[inline]
pub fn asin(x: f64) -> f64 {
    libm::asin(x)
}

/// Arctangent, in (-pi/2, pi/2).
#[inline]
pub fn atan(x: f64) -> f64 {
    libm::atan(x)
}

/// The gamma function for x > 0 (Lanczos, g = 7, 9 coefficients:
/// docs/references.md, Lanczos gamma; relative
/// error below 1e-13 for x up to 30 and below 5e-13 up to 170.5, as
/// tested), with the reflection
/// formula below 1/2. The power t^(x + 1/2) is taken in two halves so that
/// it does not overflow before the result does; above 171.62 (where
/// Gamma passes f64::MAX) the result is infinite. Used for Weibull means, E[X] = scale
/// Gamma(1 + 1/shape).
pub fn gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    use std::f64::consts::PI;
    if x < 0.5 {
        return PI / (sin(PI * x) * gamma(1.0 - x));
    }
    if x > 171.624_376_956_302_7 {
        return f64::INFINITY;
    }
    let x = x - 1.0;
    let mut a = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    let half = powf(t, (x + 0.5) / 2.0);
    (2.0 * PI).sqrt() * half * (exp(-t) * half) * a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_matches_known_values() {
        let sqrt_pi = std::f64::consts::PI.sqrt();
        // Integers and half-integers in closed form; the others from an
        // independent implementation (mpmath at 40 digits, rounded to f64).
        let cases = [
            (1.0, 1.0),
            (2.0, 1.0),
            (5.0, 24.0),
            (10.0, 362_880.0),
            (0.5, sqrt_pi),
            (1.5, sqrt_pi / 2.0),
            (4.5, 3.5 * 2.5 * 1.5 * 0.5 * sqrt_pi),
            (0.1, 9.513_507_698_668_732),
            (1.0 / 3.0, 2.678_938_534_707_748),
            (0.001, 999.423_772_484_595_5),
            (25.5, 3.086_770_540_528_696_6e24),
            (100.5, 9.320_963_104_082_716e156),
            (170.5, 5.562_092_414_56e305),
        ];
        for (x, g) in cases {
            let tol = if x <= 30.0 { 1e-13 } else { 5e-13 };
            assert!((gamma(x) - g).abs() <= tol * g, "Gamma({x}) = {:e} not {g:e}", gamma(x));
        }
        // Gamma(1 + 1/0.59), the default home on-session's mean / scale.
        let g = gamma(1.0 + 1.0 / 0.59);
        assert!((g - 1.538_449_205_118_726_8).abs() < 1e-13, "{g}");
        // Past the largest finite value (Gamma(171.7) > f64::MAX).
        assert!(gamma(172.0).is_infinite() && gamma(1001.0).is_infinite());
    }

    #[test]
    fn gamma_satisfies_its_recurrence() {
        // Gamma(x + 1) = x Gamma(x), across the reflection boundary too.
        for i in 1..400 {
            let x = i as f64 * 0.1;
            let (a, b) = (gamma(x + 1.0), x * gamma(x));
            assert!((a - b).abs() <= 1e-13 * a, "x = {x}: {a} vs {b}");
        }
    }

    #[test]
    fn powi_is_binary_exponentiation() {
        assert_eq!(powi(256.0, -2), 1.0 / 65_536.0);
        assert_eq!(powi(256.0, -1000), 0.0);
        assert_eq!(powi(0.5, 7), 1.0 / 128.0);
        assert_eq!(powi(3.0, 5), 243.0);
        assert_eq!(powi(-2.0, 3), -8.0);
        assert_eq!(powi(1.7, 0), 1.0);
        assert_eq!(powi(2.0, i32::MIN), 0.0);
    }

    #[test]
    fn wrappers_agree_with_the_closed_forms() {
        use std::f64::consts::{E, FRAC_PI_2, FRAC_PI_4, LN_2, PI};
        assert_eq!(exp(0.0), 1.0);
        assert!((exp(1.0) - E).abs() <= f64::EPSILON * E);
        assert!((ln(2.0) - LN_2).abs() <= f64::EPSILON);
        assert_eq!(ln(1.0), 0.0);
        assert!((ln_1p(1e-20) - 1e-20).abs() <= 1e-36);
        assert_eq!(powf(2.0, 10.0), 1024.0);
        assert!((powf(10.0, 0.5) - 10f64.sqrt()).abs() <= f64::EPSILON * 4.0);
        assert!((sin(FRAC_PI_2) - 1.0).abs() <= f64::EPSILON);
        assert!(cos(PI) + 1.0 <= f64::EPSILON);
        assert!((asin(1.0) - FRAC_PI_2).abs() <= f64::EPSILON);
        assert!((atan(1.0) - FRAC_PI_4).abs() <= f64::EPSILON);
    }
}
