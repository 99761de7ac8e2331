//! Fuzzing the files a user writes, on stable Rust: the scenario TOML, the
//! topology TOML, sweep expansion and the decode-table CSV. Inputs are
//! structure-aware mutations of the bundled files, drawn from the
//! project's named random streams, so every input is reproducible from
//! (target, seed, index).
//!
//! The promise each parser is held to: for any bytes, return `Ok`, or an
//! error that says where (`file:line:col: field: message` for the TOML
//! files, `line N` for the CSV); never panic, never take more than the time
//! budget (1 s by default) on one input, never allocate without bound.
//!
//! Module map:
//! - [`mutate`]: the tokenizer and the edits; one input per (seed, index).
//! - [`targets`]: the four targets, their seed files and their checks.
//! - [`alloc`]: the counting allocator the binary installs (peak bytes per
//!   input, a hard cap).
//! - this file: [`run_one`], one input under the panic catcher, the clock
//!   and the memory meter, and the [`Finding`] it may produce.
//! - `main.rs`: the `cdnsim-fuzz` command: a supervisor process that
//!   restarts its worker after an abort (stack overflow, allocation
//!   failure) or a stall, and records the input that did it.
//!
//! Regressions: every input that once broke a promise is kept in
//! `fuzz/regressions/<target>/` and checked by `tests/regressions.rs`.

pub mod alloc;
pub mod mutate;
pub mod targets;

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

pub use targets::{Outcome, Problem, Target};

/// What one input may use.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longer than this on one input is a hang ...
    pub time: Duration,
    /// ... plus this much per point of an accepted sweep: a valid sweep
    /// resolves every point, so its cost is linear in them (bounded by
    /// `cdnsim_scenario::sweep::MAX_SWEEP_BYTES`); more per point than this
    /// is not.
    pub time_per_point: Duration,
    /// More than this many bytes live at once (above what was live before
    /// the input) is a memory finding.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { time: Duration::from_secs(1), time_per_point: Duration::from_millis(50), memory_bytes: 1 << 30 }
    }
}

/// A promise broken by one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// `panic`, `unlocated`, `oracle`, `hang`, `memory`; the supervisor adds
    /// `abort` (the process died) and `stall` (no answer, killed).
    pub kind: String,
    pub message: String,
}

/// One input's result and cost.
#[derive(Clone, Debug)]
pub struct Report {
    pub result: Result<Outcome, Finding>,
    pub elapsed: Duration,
    /// Peak live bytes above the start (0 without the counting allocator).
    pub peak_bytes: usize,
}

thread_local! {
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panics are kept for the report instead of printed. Call once.
pub fn capture_panics() {
    std::panic::set_hook(Box::new(|info| {
        PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
    }));
}

fn budget(o: &Outcome, limits: Limits) -> Duration {
    match o {
        Outcome::Accepted { points } if *points > 1 => limits.time + limits.time_per_point * (*points).min(u32::MAX as u64) as u32,
        _ => limits.time,
    }
}

/// Runs `target` on `input` and judges the result.
pub fn run_one(target: Target, input: &[u8], limits: Limits) -> Report {
    let base = alloc::live_bytes();
    alloc::reset_peak();
    let start = Instant::now();
    let caught = catch_unwind(AssertUnwindSafe(|| target.check(input)));
    let elapsed = start.elapsed();
    let peak_bytes = alloc::peak_bytes().saturating_sub(base);
    let finding = |kind: &str, message: String| Finding { kind: kind.to_string(), message };
    let result = match caught {
        Err(_) => {
            let message = PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "a panic (no message captured)".into());
            Err(finding("panic", message))
        }
        Ok(Err(p)) => Err(finding(p.kind, p.message)),
        Ok(Ok(o)) if elapsed > budget(&o, limits) => Err(finding(
            "hang",
            format!("{:.3} s on one input, over its {:.3} s budget", elapsed.as_secs_f64(), budget(&o, limits).as_secs_f64()),
        )),
        Ok(Ok(_)) if peak_bytes > limits.memory_bytes => Err(finding(
            "memory",
            format!("{} MiB live at the peak of one input, over the {} MiB budget", peak_bytes >> 20, limits.memory_bytes >> 20),
        )),
        Ok(Ok(outcome)) => Ok(outcome),
    };
    Report { result, elapsed, peak_bytes }
}
