//! Gates of `cdnsim compare`: a scenario made worse on purpose (viewers'
//! access loss 0.1% -> 0.5%, so about five times the chunks are lost on
//! the last mile) fails `--gate chunks_lost:50%` with exit 1 and a message
//! naming the point and the metric; the unchanged scenario passes, and so
//! does the worse one under a threshold larger than its worsening.

use cdnsim_metrics::read_parquet;

use crate::common::*;
use crate::compare_aa::run_into;
use crate::sweep::{cdnsim_code, sweep_scenario};

const SWEEP: &str = "[sweep]\nreplications = 4\n\"viewers.arrivals_per_s\" = [2.0, 5.0]\n";

#[test]
fn a_worse_scenario_fails_its_gate_and_an_unchanged_one_passes() {
    let dir = temp_dir("compare-gates");
    let base = sweep_scenario(&dir, "base", "30 s", SWEEP);
    let worse_text = std::fs::read_to_string(&base).unwrap();
    assert_eq!(worse_text.matches("access_loss = 0.001").count(), 1);
    let worse = dir.join("worse.toml");
    std::fs::write(&worse, worse_text.replace("access_loss = 0.001", "access_loss = 0.005")).unwrap();
    let a = run_into(&base, &dir.join("a"), 5);
    let same = run_into(&base, &dir.join("same"), 5);
    let w = run_into(&worse, &dir.join("w"), 5);
    let out = |n: &str| dir.join(n).to_str().unwrap().to_string();

    let pass = cdnsim_code(&["compare", &a, &same, "--gate", "chunks_lost:50%", "--gate", "stall_ratio:0.5%", "--out", &out("c1")], &[], 0);
    assert!(pass.contains("gates passed: chunks_lost:50%, stall_ratio:0.5%"), "{pass}");

    let fail = cdnsim_code(&["compare", &a, &w, "--gate", "chunks_lost:50%", "--out", &out("c2")], &[], 1);
    for point in ["point 1 (viewers.arrivals_per_s = 2)", "point 2 (viewers.arrivals_per_s = 5)"] {
        assert!(fail.contains(&format!("gate chunks_lost:50% failed at {point}: chunks_lost")), "{fail}");
    }
    assert!(fail.contains("95% CI [+") && fail.contains("gate failed: 2 gate check(s) failed"), "{fail}");
    let t = read_parquet(&dir.join("c2/compare.parquet")).unwrap();
    let (metric, verdict, rel_lo) = (strs(&t, "metric"), strs(&t, "verdict"), col(&t, "rel_ci95_low"));
    for i in (0..t.height()).filter(|&i| metric[i] == "chunks_lost") {
        assert_eq!(verdict[i], "worse");
        assert!(rel_lo[i] > 0.5, "relative worsening from {}", rel_lo[i]);
    }

    // A threshold above the worsening (the loss rate x 5 cannot lose 100x
    // the chunks), and an absolute form the interval stays below.
    cdnsim_code(&["compare", &a, &w, "--gate", "chunks_lost:10000%", "--out", &out("c3")], &[], 0);
    cdnsim_code(&["compare", &a, &w, "--gate", "chunks_lost:100000", "--out", &out("c4")], &[], 0);
}
