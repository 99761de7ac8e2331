//! `cdnsim compare` on an A/B with a known effect: 20 home nodes added to
//! 400. Home nodes start in steady state of an on/off process, so at any
//! instant a node is online with probability E[on] / (E[on] + E[off]);
//! the expected change of `home_nodes_online_mean` is 20 x that share.
//! Each node draws from streams indexed by its id, and the added nodes
//! come last, so under common seeds the 400 shared nodes behave the same
//! in both runs: the paired interval sees only the new nodes' noise, the
//! unpaired one all 420 nodes'.

use cdnsim_metrics::read_parquet;

use crate::common::*;
use crate::compare_aa::run_into;
use crate::sweep::{cdnsim_code, sweep_scenario};

/// Exponential sessions: on 3 min, off 1 min (online share 3/4).
fn homes(second_region_count: u32) -> String {
    format!(
        "[home]\non_session = {{ distribution = \"exponential\", mean = \"3 min\" }}\n\
         off_session = {{ distribution = \"exponential\", mean = \"1 min\" }}\n\n\
         [[home.regions]]\nregion = \"beijing\"\nisp = \"unicom\"\ncount = 200\n\n\
         [[home.regions]]\nregion = \"shanghai\"\nisp = \"telecom\"\ncount = {second_region_count}\n\n"
    )
}

const SWEEP: &str = "[sweep]\nreplications = 8\n\"viewers.arrivals_per_s\" = [2.0, 5.0]\n";

#[test]
fn added_home_nodes_are_detected_with_the_predicted_sign_and_a_narrower_paired_interval() {
    let dir = temp_dir("compare-effect");
    let base = sweep_scenario(&dir, "base", "60 s", &format!("{}{SWEEP}", homes(200)));
    let new = sweep_scenario(&dir, "new", "60 s", &format!("{}{SWEEP}", homes(220)));
    let a = run_into(&base, &dir.join("a"), 3);
    let b = run_into(&new, &dir.join("b"), 3);
    let out = dir.join("cmp");
    let text = cdnsim_code(&["compare", &a, &b, "--out", out.to_str().unwrap()], &[], 0);
    let t = read_parquet(&out.join("compare.parquet")).unwrap();
    let metric = strs(&t, "metric");
    let verdict = strs(&t, "verdict");
    let (diff, lo, hi) = (col(&t, "diff"), col(&t, "ci95_low"), col(&t, "ci95_high"));
    let (wlo, whi, ratio) = (col(&t, "welch_ci95_low"), col(&t, "welch_ci95_high"), col(&t, "width_ratio"));
    let expected = 20.0 * 3.0 / (3.0 + 1.0);
    let rows: Vec<usize> = (0..t.height()).filter(|&i| metric[i] == "home_nodes_online_mean").collect();
    assert_eq!(rows.len(), 2, "{text}");
    for &i in &rows {
        eprintln!(
            "home_nodes_online_mean: change {:+.3}, paired CI [{:+.3}, {:+.3}], Welch CI [{:+.3}, {:+.3}], width ratio {:.3}; closed form {expected:+.1}",
            diff[i], lo[i], hi[i], wlo[i], whi[i], ratio[i]
        );
        // Detected, with the closed form's sign (home_nodes_online_mean
        // has no better direction: "changed").
        assert_eq!(verdict[i], "changed", "{text}");
        assert!(lo[i] > 0.0, "the interval [{}, {}] should exclude zero above", lo[i], hi[i]);
        // The closed form inside the 95% interval (fixed seeds: this holds
        // or fails for good; a biased difference would miss it).
        assert!(lo[i] <= expected && expected <= hi[i], "expected {expected} in [{}, {}]", lo[i], hi[i]);
        // Pairing: the shared 400 nodes cancel; the unpaired interval
        // carries their noise. Variance ratio about 20 / 420 for
        // independent nodes, width ratio about its root (0.22); allow up
        // to 0.6.
        assert!(ratio[i] < 0.6, "paired / unpaired width {}", ratio[i]);
        // Welch alone on the same 8 + 8 runs does not see the change.
        assert!(wlo[i] < 0.0 && whi[i] > 0.0 || whi[i] - wlo[i] > 2.0 * (hi[i] - lo[i]));
    }
    // The count itself: a closed form with no noise.
    let i = (0..t.height()).find(|&i| metric[i] == "home_nodes").unwrap();
    assert_eq!((diff[i], verdict[i].as_str()), (20.0, "changed"));
    // Without a last hop, home nodes carry nothing: viewer metrics keep
    // their bytes.
    for m in ["viewer_bytes", "idc_egress_bytes", "stall_ratio", "startup_ms_p95"] {
        for i in (0..t.height()).filter(|&i| metric[i] == m) {
            assert_eq!(verdict[i], "no change", "{m}: {text}");
        }
    }
}
