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

use std::cell::{Cell, RefCell};
use std::sync::Once;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

pub use targets::{Outcome, Problem, Target};

/// What one input may use.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longer than this on one input is a hang ...
    pub time: Duration,
    /// ... plus, for an accepted sweep, this much per point and MiB of
    /// input (each point is the file parsed and resolved again) ...
    pub time_per_point: Duration,
    /// ... and this much per planned run (each is cloned and hashed). A
    /// valid sweep's cost is linear in these, and bounded by
    /// `cdnsim_scenario::sweep::MAX_SWEEP_BYTES`; more than this is not.
    pub time_per_run: Duration,
    /// More than this many bytes live at once (above what was live before
    /// the input) is a memory finding.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time: Duration::from_secs(1),
            time_per_point: Duration::from_millis(50),
            time_per_run: Duration::from_millis(2),
            memory_bytes: 1 << 30,
        }
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
    /// The CPU time of the thread that ran it (what the budget is judged
    /// on: on a shared machine wall time grows with other people's load).
    pub cpu: Duration,
    /// Peak live bytes above the start (0 without the counting allocator).
    pub peak_bytes: usize,
}

thread_local! {
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
}

/// Panics inside [`run_one`] are kept for the report instead of printed;
/// others (a test's own assertions) go to the previous hook as before.
pub fn capture_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| match CAPTURING.get() {
            true => PANIC.with(|p| *p.borrow_mut() = Some(info.to_string())),
            false => previous(info),
        }));
    });
}

fn budget(o: &Outcome, input_len: usize, limits: Limits) -> Duration {
    match *o {
        Outcome::Accepted { points, runs } if points > 1 || runs > 1 => {
            let mib = (input_len as u64).div_ceil(1 << 20).max(1);
            let n = |x: u64| x.min(u32::MAX as u64) as u32;
            limits.time + limits.time_per_point * n(points * mib) + limits.time_per_run * n(runs)
        }
        _ => limits.time,
    }
}

/// This thread's CPU time (Linux: the first field of
/// `/proc/thread-self/schedstat`, in ns); `None` elsewhere, and the budget
/// falls back to wall time.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

/// Runs `target` on `input` and judges the result.
pub fn run_one(target: Target, input: &[u8], limits: Limits) -> Report {
    let base = alloc::live_bytes();
    alloc::reset_peak();
    let start = Instant::now();
    let cpu_start = thread_cpu();
    CAPTURING.set(true);
    let caught = catch_unwind(AssertUnwindSafe(|| target.check(input)));
    CAPTURING.set(false);
    let elapsed = start.elapsed();
    let cpu = thread_cpu().zip(cpu_start).map_or(elapsed, |(b, a)| b.saturating_sub(a));
    let peak_bytes = alloc::peak_bytes().saturating_sub(base);
    let finding = |kind: &str, message: String| Finding { kind: kind.to_string(), message };
    let result = match caught {
        Err(_) => {
            let message = PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "a panic (no message captured)".into());
            Err(finding("panic", message))
        }
        Ok(Err(p)) => Err(finding(p.kind, p.message)),
        Ok(Ok(o)) if cpu > budget(&o, input.len(), limits) => Err(finding(
            "hang",
            format!(
                "{:.3} s of CPU ({:.3} s wall) on one input, over its {:.3} s budget",
                cpu.as_secs_f64(),
                elapsed.as_secs_f64(),
                budget(&o, input.len(), limits).as_secs_f64()
            ),
        )),
        Ok(Ok(_)) if peak_bytes > limits.memory_bytes => Err(finding(
            "memory",
            format!("{} MiB live at the peak of one input, over the {} MiB budget", peak_bytes >> 20, limits.memory_bytes >> 20),
        )),
        Ok(Ok(outcome)) => Ok(outcome),
    };
    Report { result, elapsed, cpu, peak_bytes }
}
