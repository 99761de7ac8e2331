//! A corridor outage: viewers behind the failed shared-risk group stall for
//! as long as it lasts (the tree has no other path), everyone else plays
//! on, and when the corridor is restored the stream comes back.

use cdnsim_metrics::table::read_parquet;
use crate::common::*;

#[test]
fn corridor_outage_stalls_viewers_behind_it_until_restored() {
    let dir = temp_dir("faults");
    let text = quickstart_text()
        .replace(
            "[[links]]\nfrom = \"bj-src\"\nto = \"south-centre\"\nbandwidth = \"10 Gbps\"\nloss = 0.0005\n",
            "[[links]]\nfrom = \"bj-src\"\nto = \"south-centre\"\nbandwidth = \"10 Gbps\"\nloss = 0.0005\ngroups = [\"jing-guang-corridor\"]\n",
        )
        .replace(
            "[broadcaster]",
            "[[faults]]\ngroup = \"jing-guang-corridor\"\nkind = \"outage\"\nstart = \"40 s\"\nend = \"70 s\"\n\n[broadcaster]",
        );
    assert!(text.contains("groups = [\"jing-guang-corridor\"]"));
    let file = dir.join("outage.toml");
    std::fs::write(&file, text).unwrap();
    let run = run_ok(&file, &dir.join("out"), &[], &[]);
    let v = read_parquet(&run.join("viewers.parquet")).unwrap();
    let edges = strs(&v, "edge");
    let (join, leave, stall, e2e) = (col(&v, "join_ms"), col(&v, "leave_ms"), col(&v, "stall_ms"), col(&v, "e2e_ms_mean"));
    let south = |i: usize| edges[i] == "gz-edge" || edges[i] == "sz-edge";

    // Watching (and started) before the outage and still there well after:
    // 30 s without data minus the 3 s playout buffer is ~27 s frozen.
    let through: Vec<usize> = (0..edges.len()).filter(|&i| join[i] < 35_000.0 && leave[i] > 75_000.0).collect();
    let hit: Vec<f64> = through.iter().filter(|&&i| south(i)).map(|&i| stall[i]).collect();
    let spared: Vec<f64> = through.iter().filter(|&&i| !south(i)).map(|&i| stall[i]).collect();
    assert!(hit.len() >= 5 && spared.len() >= 20, "enough viewers on both sides: {} {}", hit.len(), spared.len());
    for s in &hit {
        assert!((20_000.0..31_000.0).contains(s), "south viewer stalled {s} ms");
    }
    let spared_mean = spared.iter().sum::<f64>() / spared.len() as f64;
    assert!(spared_mean < 500.0, "viewers elsewhere stalled {spared_mean} ms on average");

    // Restored: south viewers who join after the repair play like anyone.
    // (Joined early enough to have played a few blocks before the stop.)
    let after: Vec<usize> = (0..edges.len()).filter(|&i| south(i) && join[i] > 71_000.0 && join[i] < 110_000.0).collect();
    assert!(after.len() >= 5);
    for &i in &after {
        assert_eq!(stall[i], 0.0, "viewer {i} joined after the repair");
        assert!((4000.0..5200.0).contains(&e2e[i]), "viewer {i}: e2e {} ms", e2e[i]);
    }

    // The outage is visible per second: south-bound internal traffic stops,
    // so stalls begin during it and none begin in the quiet minute before.
    let ts = read_parquet(&run.join("timeseries.parquet")).unwrap();
    let stalls = col(&ts, "stalls");
    assert!(stalls[40..50].iter().sum::<f64>() >= hit.len() as f64);
    assert_eq!(stalls[5..40].iter().sum::<f64>(), 0.0);
}
