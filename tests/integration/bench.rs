//! `cdnsim bench`: a bench file's scenarios run at reduced sizes, saved as
//! a baseline, compared with it (unchanged: exit 0; a worse model: exit 1
//! naming the point and the metric); a bad override is reported at its
//! place in the bench file, exit 2, nothing written.

use crate::common::*;
use crate::sweep::cdnsim_code;

fn bench_file(dir: &std::path::Path, name: &str, scenario: &str, overrides: &str) -> String {
    let text = format!(
        "[gates]\nchunks_lost = \"50%\"\n\n[[scenario]]\nname = \"tree\"\nfile = {scenario:?}\nreplications = 3\n\
         overrides = {{ {overrides} }}\ngates = {{ stall_ratio = \"1%\" }}\n"
    );
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_bench_against_its_baseline_passes_unchanged_and_fails_worse() {
    let dir = temp_dir("bench");
    let o = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let sizes = "\"run.duration\" = \"20 s\", \"viewers.arrivals_per_s\" = 4.0";
    let bench = bench_file(&dir, "bench.toml", QUICKSTART, sizes);
    let saved = cdnsim_code(&["bench", &bench, "--out", &o("first"), "--save-baseline", &o("baseline")], &[], 0);
    assert!(saved.contains("baseline saved"), "{saved}");
    assert!(dir.join("baseline/BASELINE.md").exists() && dir.join("baseline/tree/quickstart/sweep.json").exists());
    assert!(!dir.join("baseline/tree/quickstart/charts").exists(), "a baseline keeps summaries only");

    let same = cdnsim_code(&["bench", &bench, "--out", &o("second"), "--baseline", &o("baseline")], &[], 0);
    assert!(same.contains("point 1: run.duration = 20 s, viewers.arrivals_per_s = 4") && same.contains("gates passed for tree"), "{same}");
    assert!(!same.contains("worse") && !same.contains("better"), "{same}");
    // The same --out again is refused: its runs could be another version's.
    let again = cdnsim_code(&["bench", &bench, "--out", &o("second"), "--baseline", &o("baseline")], &[], 2);
    assert!(again.contains("exists; a bench writes fresh results"), "{again}");

    // The model made worse: five times the access loss.
    let worse = dir.join("worse.toml");
    let text = quickstart_text();
    assert_eq!(text.matches("access_loss = 0.001").count(), 1);
    std::fs::write(&worse, text.replace("access_loss = 0.001", "access_loss = 0.005")).unwrap();
    let bench_worse = bench_file(&dir, "worse-bench.toml", worse.to_str().unwrap(), sizes);
    let failed = cdnsim_code(&["bench", &bench_worse, "--out", &o("third"), "--baseline", &o("baseline")], &[], 1);
    assert!(failed.contains("gate chunks_lost:50% failed at point 1 (run.duration = 20 s, viewers.arrivals_per_s = 4): chunks_lost"), "{failed}");
    assert!(failed.contains("gate failed: 1 gate check(s) failed: tree: chunks_lost at point 1"), "{failed}");

    // A bad override: located in the bench file, nothing written.
    let bad = bench_file(&dir, "bad.toml", QUICKSTART, "\"run.duration\" = \"forty\"");
    let err = cdnsim_code(&["bench", &bad, "--out", &o("fourth")], &[], 2);
    let line = std::fs::read_to_string(&bad).unwrap().lines().position(|l| l.contains("forty")).unwrap() + 1;
    assert!(err.contains(&format!("{bad}:{line}:")) && err.contains("scenario[0].overrides.\"run.duration\""), "{err}");
    assert!(!dir.join("fourth").exists());
    // A gate on a metric without a direction, at its place.
    let gate = dir.join("gate.toml");
    std::fs::write(&gate, format!("[gates]\nviewers = \"1%\"\n\n[[scenario]]\nfile = {QUICKSTART:?}\n")).unwrap();
    let err = cdnsim_code(&["bench", gate.to_str().unwrap(), "--out", &o("fifth")], &[], 2);
    assert!(err.contains(&format!("{}:2:11: gates.viewers:", gate.display())) && err.contains("no better direction"), "{err}");
}
