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
    let n = ended.len() as f64;
    assert!(n >= 300.0, "enough messages: {n}");
    let pi = |k: u32| if k < 5 { p.powi(k as i32 - 1) * (1.0 - p) } else { p.powi(4) };
    for k in 1..=5u32 {
        let obs = ended.iter().filter(|&&i| attempts[i] == k as f64).count() as f64;
        let (mean, sd) = (n * pi(k), (n * pi(k) * (1.0 - pi(k))).sqrt());
        println!("{k} sendings: {obs} of {n}, expected {mean:.1} +- {sd:.1}");
        assert!((obs - mean).abs() <= 4.0 * sd + 1.0, "{k} sendings: {obs}, expected {mean:.1} +- 4 x {sd:.1}");
    }
    // Given up: all five lost, p^5 of the messages.
    let g = ended.iter().filter(|&&i| gave_up[i] == 1.0).count() as f64;
    let (mean, sd) = (n * p.powi(5), (n * p.powi(5) * (1.0 - p.powi(5))).sqrt());
    assert!((g - mean).abs() <= 4.0 * sd + 1.0, "given up {g}, expected {mean:.1} +- 4 x {sd:.1}");
}
