//! Sweeps from the command line: the same bytes for any number of threads
//! and any split into shards, failures recorded with a replay command that
//! reproduces them, plans, and bad sweeps refused where they are written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cdnsim_metrics::read_parquet;

use crate::common::*;

/// The quick-start scenario, shortened, with `sweep` appended.
pub fn sweep_scenario(dir: &Path, name: &str, duration: &str, sweep: &str) -> PathBuf {
    let text = quickstart_text();
    assert_eq!(text.matches("duration = \"120 s\"").count(), 1);
    let text = text.replacen("duration = \"120 s\"", &format!("duration = \"{duration}\""), 1);
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, format!("{text}\n{sweep}")).unwrap();
    file
}

/// `cdnsim` with `args`, asserting the exit code; returns stdout.
pub fn cdnsim_code(args: &[&str], envs: &[(&str, &str)], code: i32) -> String {
    let o = cdnsim(args, envs);
    let (out, err) = (String::from_utf8_lossy(&o.stdout).to_string(), String::from_utf8_lossy(&o.stderr).to_string());
    assert_eq!(o.status.code(), Some(code), "cdnsim {}\nstdout:\n{out}\nstderr:\n{err}", args.join(" "));
    out + &err
}

/// Every file under `dir` whose name ends in `.parquet`, by path relative
/// to `dir`, with its bytes. Charts and manifests (wall times) are left out.
pub fn parquet_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().map(|e| e.unwrap()) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.insert(p.strip_prefix(dir).unwrap().display().to_string(), read(&p));
            }
        }
    }
    out
}

/// Run folders (complete or not) and debris under a scenario folder.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    v.sort();
    v
}

const TWO_BY_THREE: &str = "[sweep]\nreplications = 3\n\"viewers.arrivals_per_s\" = [1.0, 2.0, 3.0]\n\"viewers.playout_delay\" = [\"1 s\", \"2 s\", \"3 s\"]\n";

#[test]
fn jobs_and_shards_give_the_same_runs_and_bytes() {
    let dir = temp_dir("sweep-jobs");
    let file = sweep_scenario(&dir, "grid", "10 s", TWO_BY_THREE);
    let f = file.to_str().unwrap();
    let out = |name: &str| dir.join(name).to_str().unwrap().to_string();
    cdnsim_code(&["run", f, "--out", &out("one"), "--jobs", "1", "--no-progress"], &[], 0);
    cdnsim_code(&["run", f, "--out", &out("two"), "--jobs", "2", "--no-progress"], &[], 0);
    // Two shards into one folder: one from the flag, one from Slurm's variables.
    let s0 = cdnsim_code(&["run", f, "--out", &out("shards"), "--shard", "0/2", "--no-progress"], &[], 0);
    let s1 = cdnsim_code(&["run", f, "--out", &out("shards"), "--no-progress"], &[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "2")], 0);
    assert!(s0.contains("shard 0/2 has 14") && s1.contains("shard 1/2 has 13"), "{s0}\n{s1}");
    cdnsim_code(&["report", &format!("{}/quickstart", out("shards"))], &[], 0);

    let one = parquet_files(&dir.join("one/quickstart"));
    let two = parquet_files(&dir.join("two/quickstart"));
    let shards = parquet_files(&dir.join("shards/quickstart"));
    let runs = one.keys().filter(|k| k.ends_with("/summary.parquet")).count();
    assert_eq!(runs, 27, "3 x 3 values of 2 parameters x 3 replications");
    assert!(one.contains_key("report.parquet"));
    assert_eq!(one.keys().collect::<Vec<_>>(), two.keys().collect::<Vec<_>>(), "--jobs 1 and --jobs 2 write the same files");
    assert_eq!(one.keys().collect::<Vec<_>>(), shards.keys().collect::<Vec<_>>(), "the shards together are the whole sweep");
    for (name, bytes) in &one {
        assert!(two[name] == *bytes, "{name} differs between --jobs 1 and --jobs 2 (replay: cdnsim run {f} --jobs 2)");
        assert!(shards[name] == *bytes, "{name} differs between the sharded and the whole sweep");
    }

    // One column per swept parameter, with the point's values; common
    // random numbers: replication k has one seed at every point.
    let mut seeds: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut points = std::collections::BTreeSet::new();
    for name in one.keys().filter(|k| k.ends_with("/summary.parquet")) {
        let s = read_parquet(&dir.join("one/quickstart").join(name)).unwrap();
        let (rate, delay) = (col(&s, "viewers.arrivals_per_s")[0], col(&s, "viewers.playout_delay")[0]);
        assert!([1.0, 2.0, 3.0].contains(&rate) && [1.0, 2.0, 3.0].contains(&delay), "{rate} {delay}");
        points.insert((rate as u64, delay as u64));
        seeds.entry(col(&s, "replication")[0] as u64).or_default().push(col(&s, "seed")[0] as u64);
    }
    assert_eq!(points.len(), 9);
    assert_eq!(seeds.len(), 3);
    for (k, s) in &seeds {
        assert_eq!(s.len(), 9, "replication {k}: one run per point");
        assert!(s.iter().all(|x| *x == s[0]), "replication {k} has one seed: {s:?}");
    }

    // The report: 9 points, each metric over 3 replications.
    let report = read_parquet(&dir.join("one/quickstart/report.parquet")).unwrap();
    let viewers: Vec<usize> = strs(&report, "metric").iter().enumerate().filter(|(_, m)| *m == "viewers").map(|(i, _)| i).collect();
    assert_eq!(viewers.len(), 9);
    let (n, lo, hi, mean) = (col(&report, "n"), col(&report, "ci95_low"), col(&report, "ci95_high"), col(&report, "mean"));
    for i in viewers {
        assert_eq!(n[i], 3.0);
        assert!(lo[i] <= mean[i] && mean[i] <= hi[i], "row {i}: {} <= {} <= {}", lo[i], mean[i], hi[i]);
    }
    let charts = entries(&dir.join("one/quickstart/charts"));
    for c in ["hop_waste_vs_viewers.arrivals_per_s.svg", "e2e_cdf_by_viewers.playout_delay.png", "bytes_by_source_by_viewers.arrivals_per_s.svg"] {
        assert!(charts.iter().any(|x| x == c), "{c} not in {charts:?}");
    }
}

#[test]
fn a_failing_run_is_recorded_and_its_replay_reproduces_it() {
    // A legitimate failure at one point only: a pending-event bound far
    // below what the scenario needs.
    let dir = temp_dir("sweep-fail");
    let file = sweep_scenario(&dir, "rigged", "10 s", "[sweep]\n\"limits.max_pending_events\" = [1_000_000, 20, 2_000_000]\n");
    let out = dir.join("out");
    let args = ["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-progress"];
    let text = cdnsim_code(&args, &[], 3);
    assert!(text.contains("1 of 3 runs failed"), "{text}");
    let sdir = out.join("quickstart");
    let complete = entries(&sdir).iter().filter(|e| sdir.join(e).join("manifest.json").exists()).count();
    assert_eq!(complete, 2, "the other runs completed");

    let failures = read_parquet(&sdir.join("failures.parquet")).unwrap();
    assert_eq!(failures.height(), 1);
    let message = strs(&failures, "message")[0].clone();
    let replay = strs(&failures, "replay")[0].clone();
    let run_id = strs(&failures, "run_id")[0].clone();
    assert!(message.contains("more than 20 events pending"), "{message}");
    assert_eq!(strs(&failures, "point")[0], "limits.max_pending_events = 20");
    assert_eq!(col(&failures, "seed")[0], 1.0);
    assert!(replay.starts_with("cdnsim run ") && replay.ends_with(&format!("--run-id {run_id}")), "{replay}");

    // The replay command, as written, fails the same way.
    let words: Vec<&str> = replay.split_whitespace().skip(1).collect();
    let again = cdnsim(&words, &[]);
    assert_eq!(again.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains(&message), "replay gives the same message:\n{stdout}");
    assert!(stdout.contains("ran 0") && stdout.contains("failed 1"), "the replay ran that run only:\n{stdout}");
    let failures = read_parquet(&sdir.join("failures.parquet")).unwrap();
    assert_eq!((failures.height(), strs(&failures, "message")[0].clone()), (1, message));

    // The report covers the runs that completed.
    let r = cdnsim_code(&["report", sdir.to_str().unwrap()], &[], 0);
    assert!(r.contains("2 runs, 2 sweep points") && r.contains("1 runs failed"), "{r}");
}

#[test]
fn plan_lists_runs_and_refuses_what_would_not_fit() {
    let dir = temp_dir("sweep-plan");
    let file = sweep_scenario(&dir, "grid", "10 s", TWO_BY_THREE);
    let text = cdnsim_code(&["plan", file.to_str().unwrap(), "--jobs", "2"], &[], 0);
    assert!(text.contains("9 points x 3 replications = 27 runs (seeds: common random numbers)"), "{text}");
    assert!(text.contains("viewers.arrivals_per_s") && text.contains("memory: up to"), "{text}");
    let rows = text.lines().filter(|l| l.len() > 16 && l[..16].chars().all(|c| c.is_ascii_hexdigit())).count();
    assert_eq!(rows, 27);

    // 10^9 viewers a second for an hour, at two points.
    let big = sweep_scenario(&dir, "big", "1 h", "[sweep]\n\"viewers.arrivals_per_s\" = [1.0e9, 2.0e9]\n");
    let text = cdnsim_code(&["plan", big.to_str().unwrap()], &[], 2);
    assert!(text.contains("GiB by estimate") && text.contains("available"), "{text}");
    let out = dir.join("big-out");
    let text = cdnsim_code(&["run", big.to_str().unwrap(), "--out", out.to_str().unwrap()], &[], 2);
    assert!(text.contains("GiB by estimate"), "{text}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn a_bad_sweep_is_refused_where_it_is_written() {
    let dir = temp_dir("sweep-bad");
    let sweep = "[sweep]\n\"viewers.arrivals_per_second\" = [1.0, 2.0]\n";
    let file = sweep_scenario(&dir, "bad", "10 s", sweep);
    let text = std::fs::read_to_string(&file).unwrap();
    let at = text.find("\"viewers.arrivals_per_second\"").unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let out = dir.join("out");
    for cmd in ["run", "plan", "validate"] {
        let mut args = vec![cmd, file.to_str().unwrap()];
        if cmd == "run" {
            args.extend(["--out", out.to_str().unwrap()]);
        }
        let e = cdnsim_code(&args, &[], 2);
        assert!(e.contains(&format!("bad.toml:{line}:1: viewers.arrivals_per_second: unknown field")), "{cmd}: {e}");
    }
    assert!(!out.exists(), "nothing written");
    let good = sweep_scenario(&dir, "good", "10 s", TWO_BY_THREE);
    let e = cdnsim_code(&["run", good.to_str().unwrap(), "--out", out.to_str().unwrap(), "--shard", "2/2"], &[], 2);
    assert!(e.contains("--shard: expected I/N"), "{e}");
    let e = cdnsim_code(&["run", good.to_str().unwrap(), "--out", out.to_str().unwrap()], &[("JOB_COMPLETION_INDEX", "1")], 2);
    assert!(e.contains("--shard-count"), "{e}");
    assert!(!out.exists(), "nothing written");
}
