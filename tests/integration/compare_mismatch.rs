//! `cdnsim compare` refuses folders that do not pair, and bad gates:
//! exit 2, a message naming the mismatch, nothing written.

use crate::common::*;
use crate::compare_aa::run_into;
use crate::sweep::{cdnsim_code, sweep_scenario};

#[test]
fn folders_that_do_not_pair_and_bad_gates_are_refused() {
    let dir = temp_dir("compare-mismatch");
    let two = sweep_scenario(&dir, "two", "10 s", "[sweep]\nreplications = 2\n\"viewers.arrivals_per_s\" = [2.0, 5.0]\n");
    let three = sweep_scenario(&dir, "three", "10 s", "[sweep]\nreplications = 2\n\"viewers.arrivals_per_s\" = [2.0, 5.0, 8.0]\n");
    let reps = sweep_scenario(&dir, "reps", "10 s", "[sweep]\nreplications = 3\n\"viewers.arrivals_per_s\" = [2.0, 5.0]\n");
    let other = sweep_scenario(&dir, "other", "10 s", "[sweep]\nreplications = 2\n\"viewers.playout_delay\" = [\"1 s\", \"2 s\"]\n");
    let a = run_into(&two, &dir.join("a"), 1);
    let seeds = run_into(&two, &dir.join("seeds"), 9);
    let points = run_into(&three, &dir.join("points"), 1);
    let replications = run_into(&reps, &dir.join("reps"), 1);
    let params = run_into(&other, &dir.join("params"), 1);
    let out = dir.join("cmp");
    let o = out.to_str().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["compare", &a, &seeds, "--out", o], "has seed 1, NEW run"),
        (&["compare", &a, &points, "--out", o], "point (viewers.arrivals_per_s = 8) is in NEW"),
        (&["compare", &a, &replications, "--out", o], "BASE has replications [0, 1], NEW has [0, 1, 2]"),
        (&["compare", &a, &params, "--out", o], "sweeps [\"viewers.arrivals_per_s\"] and NEW"),
        (&["compare", &a, &a, "--gate", "viewers:1%", "--out", o], "has no better direction"),
        (&["compare", &a, &a, "--gate", "stall_ratio:lots", "--out", o], "--gate stall_ratio:lots: expected a worsening allowed"),
        (&["compare", &a, &a, "--gate", "no_such_metric_ms:1%", "--out", o], "has no better direction"),
    ];
    for (args, needle) in cases {
        let text = cdnsim_code(args, &[], 2);
        assert!(text.contains(needle), "{}: expected {needle:?} in\n{text}", args.join(" "));
        assert!(!out.exists(), "{}: wrote {}", args.join(" "), out.display());
    }
    // Unpaired accepts other seeds and replication counts, not other points.
    cdnsim_code(&["compare", &a, &seeds, "--unpaired", "--out", o], &[], 0);
    cdnsim_code(&["compare", &a, &replications, "--unpaired", "--out", o], &[], 0);
    cdnsim_code(&["compare", &a, &points, "--unpaired", "--out", o], &[], 2);
}
