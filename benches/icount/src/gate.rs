//! `check` and `update`: count every workload (in parallel, one callgrind
//! process each: counts do not depend on what else runs), then compare with
//! the baseline or rewrite it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::baseline::{Baseline, THRESHOLD_PERCENT, UPDATE_COMMAND, compare, table};
use crate::callgrind;
use crate::workloads::WORKLOADS;

/// `rustc -V` of the compiler that built this runner (build.rs).
pub const RUSTC: &str = env!("CDNSIM_ICOUNT_RUSTC");

/// The baseline next to this crate: `benches/icount-baseline.toml`.
pub fn default_baseline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../icount-baseline.toml")
}

/// Counts every workload, in [`WORKLOADS`] order.
pub fn count_all() -> Result<Vec<(String, u64)>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this runner's path: {e}"))?;
    let dir = std::env::temp_dir().join(format!("cdnsim-icount-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get()).min(WORKLOADS.len());
    eprintln!("counting {} workloads under callgrind, {jobs} at a time", WORKLOADS.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<u64, String>>>> = Mutex::new(vec![None; WORKLOADS.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(w) = WORKLOADS.get(i) else { break };
                    let start = Instant::now();
                    let r = callgrind::count(&exe, w.name, &dir);
                    if let Ok((n, work)) = &r {
                        eprintln!("  {:<18} {:>15} Ir  {:5.1} s  ({work})", w.name, n, start.elapsed().as_secs_f64());
                    }
                    results.lock().expect("no thread panics holding the lock")[i] = Some(r.map(|(n, _)| n));
                }
            });
        }
    });
    let _ = std::fs::remove_dir(&dir);
    let results = results.into_inner().expect("no thread panics holding the lock");
    let mut counts = Vec::with_capacity(WORKLOADS.len());
    let mut errors = Vec::new();
    for (w, r) in WORKLOADS.iter().zip(results) {
        match r.expect("every workload is taken by a thread") {
            Ok(n) => counts.push((w.name.to_string(), n)),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(counts) } else { Err(errors.join("\n")) }
}

fn read_baseline(path: &Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e}\nno baseline yet? create it with `{UPDATE_COMMAND}`", path.display()))?;
    Baseline::parse(&path.display().to_string(), &text)
}

/// Compares every count with the baseline at `path`; `Ok(false)` when the
/// gate fails (a rise beyond the threshold, or entries out of step).
pub fn check(path: &Path) -> Result<bool, String> {
    let baseline = read_baseline(path)?;
    let counts = count_all()?;
    let rows = compare(&baseline.instructions, &counts);
    println!("instruction counts (callgrind Ir) against {}:", path.display());
    print!("{}", table(&rows));
    let toolchain_differs = baseline.rustc != RUSTC;
    if toolchain_differs {
        println!(
            "note: the baseline was counted with `{}`; this runner was built with `{RUSTC}`. Counts change \
             with the compiler, so the differences above may come from the toolchain, not the code. To \
             rebase: on a checkout without your change, run `{UPDATE_COMMAND}` with this toolchain and \
             commit {}; then check your change against it.",
            baseline.rustc,
            path.display()
        );
    }
    let failed: Vec<&str> = rows.iter().filter(|r| r.verdict.fails()).map(|r| r.name.as_str()).collect();
    let fell = rows.iter().any(|r| r.verdict == crate::baseline::Verdict::Fall);
    if fell {
        println!(
            "hint: some counts fell more than {THRESHOLD_PERCENT}%: if that is a lasting improvement, \
             `{UPDATE_COMMAND}` keeps the gate tight."
        );
    }
    if failed.is_empty() {
        println!("instruction-count gate: passed ({} workloads, threshold +{THRESHOLD_PERCENT}%)", rows.len());
        Ok(true)
    } else {
        println!(
            "instruction-count gate: FAILED for {}. A rise over +{THRESHOLD_PERCENT}% is a regression unless \
             intended; if it is intended, run `{UPDATE_COMMAND}` and commit {} with the change that \
             caused it.",
            failed.join(", "),
            path.display()
        );
        Ok(false)
    }
}

/// Counts every workload and writes the baseline at `path`, showing the
/// change from the previous one when there was one.
pub fn update(path: &Path) -> Result<(), String> {
    let old = if path.exists() { Some(read_baseline(path)?) } else { None };
    let counts = count_all()?;
    let new = Baseline { rustc: RUSTC.to_string(), instructions: counts.iter().cloned().collect() };
    if let Some(old) = old {
        println!("previous baseline ({}) against the new counts:", old.rustc);
        print!("{}", table(&compare(&old.instructions, &counts)));
    }
    std::fs::write(path, new.to_text()).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {} ({} workloads, {RUSTC})", path.display(), counts.len());
    Ok(())
}
