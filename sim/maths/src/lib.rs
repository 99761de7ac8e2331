//! The same floating-point results on every machine.
//!
//! A results file must be a pure function of (scenario, seed, code
//! version). IEEE 754 fixes the result of `+ - * /` and `sqrt` (correctly
//! rounded), but not of `exp`, `ln`, `pow` or the trigonometric functions:
//! `f64::exp` and friends call the platform's maths library (glibc, musl,
//! the macOS or Windows one), and those differ in the last bit on some
//! inputs. One differing bit in a sampled session length moves an event,
//! and from there every later draw and every result. So model code calls
//! the functions here, which are the pure-Rust `libm` crate (a port of
//! musl's), compiled into the binary and identical on every target with
//! SSE2 or NEON floats (the i586 x87 targets are not supported).
//!
//! rand_distr's samplers cannot be used for the same reason: they compute
//! through num-traits' `Float`, which calls the platform's `ln` and `exp`
//! whenever any crate in the build turns on num-traits' "std" feature. The
//! samplers in [`sample`] draw uniforms from the caller's generator and
//! transform them with the functions here.
//!
//! Module map:
//! - [`func`]: thin wrappers over libm (only the functions the model
//!   uses), an exact-by-construction [`powi`], and the Lanczos [`gamma`]
//!   function (the Weibull mean).
//! - [`sample`]: exponential, standard normal, log-normal, Weibull, Pareto
//!   and gamma variates from `&mut impl Rng`, each documenting how many
//!   uniforms it draws (a change in the draws changes every result).
//!
//! `tests/no_platform_maths.rs` scans the model crates' sources and fails
//! when model code calls a platform transcendental or a rand_distr sampler.

pub mod func;
pub mod sample;

pub use func::{asin, atan, cos, exp, gamma, ln, ln_1p, powf, powi, sin};
