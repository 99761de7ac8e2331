//! Control messages over a lossy link: each sending is lost independently
//! with the link's loss p, so a message needs k sendings with probability
//! p^(k-1) (1 - p) for k = 1..4, and 5 (the first and four retries, the
//! last either delivered or given up) with probability p^4: a truncated
//! geometric law. Over n messages each count is binomial; every one must
//! lie within four standard deviations of n pi_k (plus one for rounding).
//! Viewers come and go at Hangzhou's edge (short sessions), so its edge
//! subscribes and unsubscribes hundreds of times over its link, whose loss
//! is set to p = 0.3.

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

#[test]
fn retries_over_a_lossy_link_follow_the_truncated_geometric_law() {
    let p: f64 = 0.3;
    let dir = temp_dir("control-loss");
    let text = crate::control_retry_outage::hangzhou_text(0, "")
        .replace("latency = \"10 ms\"\ngroups = [\"hz-line\"]\n", &format!("loss = {p}\n"))
        .replace("[[faults]]\ngroup = \"hz-line\"\nkind = \"outage\"\nstart = \"0 s\"\nend = \"0 ms\"\n\n", "")
        .replace("duration = \"120 s\"", "duration = \"1500 s\"")
        .replace("arrivals_per_s = 0.1", "arrivals_per_s = 0.5")
        .replace("median = \"60 s\", sigma = 1.0", "median = \"1 s\", sigma = 0.5");
    assert!(text.contains(&format!("loss = {p}\n")) && !text.contains("[[faults]]") && text.contains("median = \"1 s\""));
    let file = dir.join("lossy.toml");
    std::fs::write(&file, text).unwrap();
    let run = run_ok(&file, &dir.join("out"), &["--no-progress"], &[]);
    let c = read_parquet(&run.join("control.parquet")).unwrap();
    let (child, parent) = (strs(&c, "child"), strs(&c, "parent"));
    let (attempts, delivered) = (col(&c, "attempts"), col(&c, "delivered_ms"));
    let gave_up = col(&c, "gave_up");
    // Messages over the lossy link that ended (delivered or given up).
    let ended: Vec<usize> = (0..child.len())
        .filter(|&i| child[i] == "hz-edge" && parent[i] == "east-centre" && (delivered[i].is_finite() || gave_up[i] == 1.0))
        .collect();
    assert!(ended.len() >= 300, "enough messages: {}", ended.len());
    let counts: Vec<(f64, bool)> = ended.iter().map(|&i| (attempts[i], gave_up[i] == 1.0)).collect();
    assert_truncated_geometric(&counts, p);
}

/// `ended`: per message that ended, its sendings and whether it was given
/// up; `f`: the chance a sending fails. Sendings k = 1..4 have probability
/// f^(k-1) (1 - f), 5 (the last, answered or not) f^4, given up f^5: each
/// count binomial, within four standard deviations of its mean (plus one
/// for rounding).
pub fn assert_truncated_geometric(ended: &[(f64, bool)], f: f64) {
    let n = ended.len() as f64;
    let pi = |k: u32| if k < 5 { f.powi(k as i32 - 1) * (1.0 - f) } else { f.powi(4) };
    let within = |what: String, obs: f64, pi: f64| {
        let (mean, sd) = (n * pi, (n * pi * (1.0 - pi)).sqrt());
        println!("{what}: {obs} of {n}, expected {mean:.1} +- {sd:.1}");
        assert!((obs - mean).abs() <= 4.0 * sd + 1.0, "{what}: {obs}, expected {mean:.1} +- 4 x {sd:.1}");
    };
    for k in 1..=5u32 {
        within(format!("{k} sendings"), ended.iter().filter(|e| e.0 == k as f64).count() as f64, pi(k));
    }
    within("given up".into(), ended.iter().filter(|e| e.1).count() as f64, f.powi(5));
}
