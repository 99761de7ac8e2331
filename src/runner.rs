//! Running many runs: one run per thread of a rayon pool, each writing its
//! own folder atomically, so the bytes do not depend on the number of
//! threads or the order runs finish in. A run that returns an error or
//! panics is recorded as a failure and the others go on.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cdnsim_metrics::failures::{self, Failure as FailureRecord};
use cdnsim_metrics::{RunFiles, RunOutcome, Summary, Value, write_run};
use cdnsim_scenario::sweep::{ParamValue, PlannedRun, Sweep};
use cdnsim_world::{RunIdentity, simulate};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

/// Log line format on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    /// One JSON object per line, for batch systems.
    Json,
}

/// What happened to one run.
pub enum Outcome {
    Done { dir: PathBuf, summary: Box<Summary>, wall_s: f64, events: u64 },
    /// Another process completed it first.
    AlreadyComplete(PathBuf),
    Failed(String),
}

/// Everything the runs share.
pub struct Batch<'a> {
    pub sweep: &'a Sweep,
    pub file: &'a Path,
    pub out: &'a Path,
    pub jobs: usize,
    /// The command that replays one run, given its id.
    pub replay: &'a (dyn Fn(&str) -> String + Sync),
}

/// A progress bar on stderr for `n` runs (hidden when `show` is false or
/// stderr is not a terminal).
pub fn progress_bar(show: bool, n: usize) -> ProgressBar {
    let bar = if show && n > 0 {
        ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs done, {msg}, {elapsed} elapsed, ETA {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Runs `runs` (none of them complete yet), `batch.jobs` at a time; the
/// outcomes come back in the order of `runs`.
pub fn execute(batch: &Batch, runs: &[&PlannedRun], bar: &ProgressBar) -> Result<Vec<Outcome>, String> {
    let running = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let message = |bar: &ProgressBar| {
        bar.set_message(format!("{} running, {} failed", running.load(Ordering::Relaxed), failed.load(Ordering::Relaxed)));
    };
    message(bar);
    if !bar.is_hidden() {
        bar.enable_steady_tick(Duration::from_millis(500));
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(batch.jobs)
        .thread_name(|i| format!("cdnsim-run-{i}"))
        .build()
        .map_err(|e| format!("cannot start {} threads: {e}", batch.jobs))?;
    let outcomes: Vec<Outcome> = pool.install(|| {
        runs.par_iter()
            .with_max_len(1)
            .map(|run| {
                running.fetch_add(1, Ordering::Relaxed);
                message(bar);
                let outcome = run_one(batch, run);
                running.fetch_sub(1, Ordering::Relaxed);
                if matches!(outcome, Outcome::Failed(_)) {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                bar.inc(1);
                message(bar);
                outcome
            })
            .collect()
    });
    bar.finish_and_clear();
    Ok(outcomes)
}

/// Simulates and writes one run; records or clears its failure.
fn run_one(batch: &Batch, run: &PlannedRun) -> Outcome {
    let point = batch.sweep.describe(run.point);
    let scenario_dir = batch.out.join(&run.scenario.name);
    // A process killed while writing this run left its temporary folder.
    remove_debris(&scenario_dir, &run.run_id);
    let clock = Instant::now();
    let result = guarded(|| write_one(batch, run, &point, clock));
    match result {
        Ok(outcome) => {
            if let Err(e) = failures::clear_failure(&scenario_dir, &run.run_id) {
                tracing::warn!(run_id = %run.run_id, error = %e, "cannot clear an old failure record");
            }
            if let Outcome::Done { wall_s, events, .. } = &outcome {
                tracing::info!(
                    run_id = %run.run_id, point = %point, replication = run.replication, seed = run.seed,
                    wall_s = *wall_s, events = *events, "run complete"
                );
            }
            outcome
        }
        Err(message) => {
            let replay = (batch.replay)(&run.run_id);
            tracing::error!(
                run_id = %run.run_id, point = %point, replication = run.replication, seed = run.seed,
                error = %message, replay = %replay, "run failed"
            );
            let record = FailureRecord {
                run_id: run.run_id.clone(),
                seed: run.seed,
                replication: run.replication,
                point,
                message: message.clone(),
                replay,
            };
            if let Err(e) = failures::record_failure(&scenario_dir, &record) {
                return Outcome::Failed(format!("{message}; and its failure record could not be written: {e}"));
            }
            Outcome::Failed(message)
        }
    }
}

fn write_one(batch: &Batch, run: &PlannedRun, point: &str, clock: Instant) -> Result<Outcome, String> {
    let sc = &run.scenario;
    let id = RunIdentity { run_id: run.run_id.clone(), seed: run.seed, replication: run.replication };
    let started = SystemTime::now();
    let mut results = simulate(sc, &id).map_err(|e| e.to_string())?;
    let wall_s = clock.elapsed().as_secs_f64();
    for (key, v) in &run.columns {
        let v = match v {
            ParamValue::Number(x) => Value::Real(*x),
            ParamValue::Text(s) => Value::Text(s.clone()),
        };
        results.summary.extra.push((key.clone(), v));
    }
    let sweep = batch.sweep;
    let manifest = serde_json::json!({
        "run_id": id.run_id,
        "scenario_name": sc.name,
        "scenario_file": batch.file.display().to_string(),
        "seed": id.seed,
        "replication": id.replication,
        "sweep": {
            "point": run.point,
            "values": run.columns.iter().map(|(k, v)| (k.clone(), match v {
                ParamValue::Number(x) => serde_json::json!(x),
                ParamValue::Text(s) => serde_json::json!(s),
            })).collect::<serde_json::Map<String, serde_json::Value>>(),
            "description": point,
            "replications": sweep.replications,
            "seeds": sweep.seeds,
        },
        "cdnsim_version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("CDNSIM_GIT_COMMIT"),
        "started_unix_s": unix_s(started),
        "finished_unix_s": unix_s(SystemTime::now()),
        "wall_seconds": wall_s,
        "events": results.events,
        "events_per_second": results.events as f64 / wall_s.max(1e-9),
        "memory_estimate_bytes": cdnsim_world::memory_estimate_bytes(sc),
        "host": std::env::var("HOSTNAME").unwrap_or_default(),
        "thread": std::thread::current().name().unwrap_or_default(),
        "scenario": sc,
    });
    let files = RunFiles {
        summary: &results.summary,
        timeseries: &results.timeseries,
        viewers: &*results.viewers,
        extra_tables: &results.extra_tables,
        manifest_json: serde_json::to_string_pretty(&manifest).expect("json") + "\n",
    };
    match write_run(batch.out, &files).map_err(|e| e.to_string())? {
        RunOutcome::Written(dir) => {
            Ok(Outcome::Done { dir, summary: Box::new(results.summary), wall_s, events: results.events })
        }
        RunOutcome::AlreadyComplete(dir) => Ok(Outcome::AlreadyComplete(dir)),
    }
}

fn unix_s(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Removes the temporary folders of this run (`.tmp-<run id>-<pid>`, see
/// `cdnsim_metrics::atomic`): this process is about to write the run, so
/// any such folder is left over from a writer that was killed.
fn remove_debris(scenario_dir: &Path, run_id: &str) {
    let Ok(entries) = std::fs::read_dir(scenario_dir) else { return };
    let run_dir = scenario_dir.join(run_id);
    for e in entries.filter_map(|e| e.ok()) {
        if cdnsim_metrics::atomic::is_temp_of(&e.file_name().to_string_lossy(), &run_dir) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

thread_local! {
    /// Set while a run executes on this thread: its panics are captured.
    static CAPTURE: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURE.with(Cell::get) {
                let at = info.location().map_or(String::new(), |l| format!(" at {}:{}", l.file(), l.line()));
                let message = format!("panicked{at}: {}", payload_text(info.payload()));
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(message));
            } else {
                default(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// Runs `f`, turning a panic into an error with its message and location.
pub fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    install_panic_hook();
    CAPTURE.with(|c| c.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    CAPTURE.with(|c| c.set(false));
    match result {
        Ok(r) => r,
        Err(payload) => Err(PANIC_MESSAGE.with(|m| m.borrow_mut().take()).unwrap_or_else(|| format!("panicked: {}", payload_text(&*payload)))),
    }
}

/// Log lines go to stderr; while the progress bar is drawn, each line is
/// written with the bar lifted, so they do not tear each other.
#[derive(Clone)]
struct BarWriter(ProgressBar);

impl Write for BarWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.suspend(|| std::io::stderr().lock().write_all(buf))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

pub fn init_logging(format: LogFormat, bar: ProgressBar) {
    let writer = move || BarWriter(bar.clone());
    let builder = tracing_subscriber::fmt().with_writer(writer).with_target(false).with_ansi(false);
    // A second batch in one process keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message_and_place() {
        let r: Result<(), String> = guarded(|| panic!("boom {}", 42));
        let e = r.unwrap_err();
        assert!(e.starts_with("panicked at ") && e.contains("runner.rs") && e.ends_with(": boom 42"), "{e}");
        assert_eq!(guarded(|| Ok::<_, String>(7)), Ok(7));
        assert_eq!(guarded(|| Err::<(), _>("plain".to_string())), Err("plain".to_string()));
    }
}
