//! Every input that once broke a parser's promise, run again: the files in
//! `fuzz/regressions/<target>/`, and the findings too large to keep as
//! files, rebuilt here from their recipe.
//!
//! The time budget here is 10 s per input (a debug build; the campaign's is
//! 1 s in the fuzz profile): the inputs below took minutes before their fix
//! and take milliseconds after, so the margin is wide both ways.

use std::path::Path;
use std::time::Duration;

use cdnsim_fuzz::{Finding, Limits, Outcome, Target, alloc, capture_panics, run_one};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

fn limits() -> Limits {
    Limits { time: Duration::from_secs(10), time_per_point: Duration::from_millis(500), time_per_run: Duration::from_millis(20), memory_bytes: 1 << 30 }
}

fn check(t: Target, input: &[u8]) -> Result<Outcome, Finding> {
    capture_panics();
    run_one(t, input, limits()).result
}

const QUICKSTART: &str = include_str!("../../scenarios/quickstart.toml");

#[test]
fn every_kept_input_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut n = 0;
    for t in Target::ALL {
        let Ok(dir) = std::fs::read_dir(root.join(t.name())) else { continue };
        let mut files: Vec<_> = dir.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == t.ext())).collect();
        files.sort();
        for f in files {
            let input = std::fs::read(&f).unwrap();
            if let Err(finding) = check(t, &input) {
                panic!("{}: {} {}: {}", f.display(), t.name(), finding.kind, finding.message);
            }
            n += 1;
        }
    }
    assert!(n >= 1, "the regression folders hold inputs");
}

/// The decode table's file reader: a byte that is not UTF-8 used to be
/// "line 0: cannot read"; it is an error of its line now.
#[test]
fn a_table_that_is_not_utf8_names_the_line() {
    let input = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions/decode-table/not-utf8-row.csv")).unwrap();
    match check(Target::DecodeTable, &input) {
        Ok(Outcome::Refused(m)) => assert!(m.ends_with("line 4: expected UTF-8 text, found byte 0xff"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// A swept list is checked for repeated values. The check compared each
/// value with all before it: 80,000 values took 7 s in the campaign's
/// build (found at seed 1, an early version of the mutator), minutes here.
#[test]
fn a_long_swept_list_is_checked_in_n_log_n() {
    let values: Vec<String> = (0..99_999).map(|i| i.to_string()).collect();
    // A key that names no field: refused after the list is read.
    let text = format!("{QUICKSTART}\n[sweep]\n\"viewers.arrivals_per_sec\" = [{}]\n", values.join(","));
    match check(Target::Sweep, text.as_bytes()) {
        Ok(Outcome::Refused(m)) => assert!(m.contains("viewers.arrivals_per_sec") && m.contains("unknown field"), "{m}"),
        other => panic!("{other:?}"),
    }
    // The same list with a repeat at its end: found, and at the repeat.
    let text = format!("{QUICKSTART}\n[sweep]\n\"viewers.arrivals_per_s\" = [{},7]\n", values.join(","));
    let line = text.lines().count();
    match check(Target::Sweep, text.as_bytes()) {
        Ok(Outcome::Refused(m)) => assert!(m.contains(&format!(":{line}:")) && m.contains("found \"7\" twice"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// A sweep within the point bound can still be too big to plan: 100,000
/// points of the quickstart took 43 s and 1.6 GB before their first run
/// (and one of the China overlay would take tens of GB). It is refused at
/// `[sweep]` after its first point now.
#[test]
fn an_enormous_sweep_is_refused_before_it_is_planned() {
    let text = format!("{QUICKSTART}\n[sweep]\n\"viewers.arrivals_per_s\" = {{ from = 0, to = 99999, step = 1 }}\n");
    let line = text.lines().position(|l| l == "[sweep]").unwrap() + 1;
    match check(Target::Sweep, text.as_bytes()) {
        Ok(Outcome::Refused(m)) => {
            assert!(m.contains(&format!(":{line}:2: sweep: ")) && m.contains("100000 points") && m.contains("split the sweep"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    // A sweep of a size people run is planned.
    let text = format!("{QUICKSTART}\n[sweep]\n\"viewers.arrivals_per_s\" = {{ from = 1, to = 200, step = 1 }}\n");
    assert_eq!(check(Target::Sweep, text.as_bytes()), Ok(Outcome::Accepted { points: 200, runs: 200 }));
}

/// The checks themselves have power: an error without a place, or with a
/// place outside the file, is a finding.
#[test]
fn the_location_check_rejects_what_it_should() {
    use cdnsim_scenario::ScenarioError;
    use cdnsim_fuzz::targets::scenario_error_located;
    let text = "a = 1\nbb = 2\n";
    let at = |line, col| ScenarioError::Invalid { file: "f.toml".into(), line, col, field: "a".into(), message: "m".into() };
    assert!(scenario_error_located(&at(2, 3), "f.toml", text).is_ok());
    assert!(scenario_error_located(&at(2, 7), "f.toml", text).is_ok(), "just past the end of the line");
    assert!(scenario_error_located(&at(3, 1), "f.toml", text).is_ok(), "the empty line after the last newline");
    for bad in [at(2, 8), at(4, 1), at(0, 1), at(1, 0)] {
        assert_eq!(scenario_error_located(&bad, "f.toml", text).unwrap_err().kind, "unlocated", "{bad:?}");
    }
    let read = ScenarioError::Read { file: "f.toml".into(), message: "gone".into() };
    assert_eq!(scenario_error_located(&read, "f.toml", text).unwrap_err().kind, "unlocated");
    // Another file's place (the topology a scenario names) is not checked
    // against this one's lines.
    assert!(scenario_error_located(&at(400, 1), "other.toml", text).is_ok());
}

/// A slow input is a finding, and the memory meter sees the input.
#[test]
fn a_slow_input_is_a_hang() {
    capture_panics();
    // A zero budget makes any input that takes measurable CPU a hang
    // (the thread's CPU clock moves at scheduler ticks: 200 points of a
    // sweep take far more than one).
    let tight = Limits { time: Duration::ZERO, time_per_point: Duration::ZERO, time_per_run: Duration::ZERO, memory_bytes: 1 << 30 };
    let sweep = format!("{QUICKSTART}\n[sweep]\n\"viewers.arrivals_per_s\" = {{ from = 1, to = 200, step = 1 }}\n");
    let r = run_one(Target::Sweep, sweep.as_bytes(), tight);
    assert_eq!(r.result.unwrap_err().kind, "hang", "{:?} CPU", r.cpu);
    let r = run_one(Target::Scenario, QUICKSTART.as_bytes(), limits());
    assert_eq!(r.result, Ok(Outcome::Accepted { points: 1, runs: 1 }));
    assert!(r.peak_bytes > 0, "the counting allocator measured the input");
    let small = Limits { memory_bytes: 1024, ..limits() };
    assert_eq!(run_one(Target::Scenario, QUICKSTART.as_bytes(), small).result.unwrap_err().kind, "memory");
}

/// Campaign findings too large to keep as files (0.4-1 MB), regenerated
/// from their (seed, index): each is the doc-example sweep of the
/// quickstart with `[[nodes]]`/`[[links]]` tables repeated thousands of
/// times, so each of its 36 points parses a large file again. That is
/// linear work, not a hang: the harness's first budget (1 s + 50 ms a
/// point) did not scale with the file's size and flagged them; the budget
/// now does. The hash pins the generator: if the mutator changes, these
/// indices make other inputs, and this test says so.
#[test]
fn large_sweep_inputs_of_the_campaign_stay_within_budget() {
    let m = Target::Sweep.mutator();
    // Two more at indices 129411 and 237185 (0.4 and 1 MB); one keeps
    // the test quick in a debug build.
    for (index, len, hash) in [(339_050u64, 389_613usize, 9_493_319_968_172_347_093u64)] {
        let input = Target::Sweep.input(&m, 1, index);
        assert_eq!((input.len(), cdnsim_engine::stable_hash64(&input)), (len, hash), "seed 1 index {index}: the generator changed");
        let r = check(Target::Sweep, &input);
        assert!(matches!(r, Ok(Outcome::Accepted { points: 36, runs: 108 })), "index {index}: {r:?}");
    }
}
