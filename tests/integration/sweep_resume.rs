//! A sweep killed with SIGKILL and run again completes, with no run lost,
//! duplicated or half-written, and the same bytes as a sweep never killed.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::sweep::*;

#[test]
fn a_killed_sweep_resumes_to_the_same_results() {
    let dir = temp_dir("sweep-kill");
    // Runs of about half a second each (a busy two minutes), one at a time,
    // so the kill lands mid-sweep.
    let text = quickstart_text();
    assert_eq!(text.matches("arrivals_per_s = 5.0").count(), 1);
    let file = dir.join("busy.toml");
    let sweep = "[sweep]\nreplications = 2\n\"viewers.access_loss\" = [0.001, 0.002]\n";
    std::fs::write(&file, format!("{}\n{sweep}", text.replacen("arrivals_per_s = 5.0", "arrivals_per_s = 30.0", 1))).unwrap();
    let (f, killed, reference) = (file.to_str().unwrap(), dir.join("killed"), dir.join("reference"));
    let sdir = killed.join("quickstart");

    let mut child = Command::new(env!("CARGO_BIN_EXE_cdnsim"))
        .args(["run", f, "--out", killed.to_str().unwrap(), "--jobs", "1", "--no-progress"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let complete = || -> usize {
        std::fs::read_dir(&sdir).map_or(0, |d| d.filter_map(|e| e.ok()).filter(|e| e.path().join("manifest.json").exists()).count())
    };
    let start = Instant::now();
    while complete() == 0 {
        assert!(start.elapsed() < Duration::from_secs(120), "no run completed within two minutes");
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended before it could be killed");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let done_at_kill = complete();
    assert!(done_at_kill < 4, "the kill must land mid-sweep; {done_at_kill} of 4 runs were complete (make the runs longer)");

    let again = cdnsim_code(&["run", f, "--out", killed.to_str().unwrap(), "--jobs", "2", "--no-progress"], &[], 0);
    assert!(again.contains(&format!("already complete {done_at_kill}")), "complete runs are skipped:\n{again}");
    cdnsim_code(&["run", f, "--out", reference.to_str().unwrap(), "--jobs", "2", "--no-progress"], &[], 0);

    // Same folders (no debris, no duplicate), same bytes.
    assert_eq!(entries(&sdir), entries(&reference.join("quickstart")));
    assert!(entries(&sdir).iter().all(|e| !e.starts_with(".tmp")), "{:?}", entries(&sdir));
    let (a, b) = (parquet_files(&sdir), parquet_files(&reference.join("quickstart")));
    assert_eq!(a.keys().filter(|k| k.ends_with("/viewers.parquet")).count(), 4);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(b[name] == *bytes, "{name} differs from a sweep that was never killed");
    }
}
