//! The give-up rule: under pools, Hangzhou's edge has two possible
//! parents, east-centre (10 ms, preferred) and north-centre (over a 20 ms
//! link). The east link is down from the start, but probing is slow (one
//! round a minute), so routing does not know and sends the edge east. Its
//! subscribe goes unanswered: sendings at t0 + R (2^k - 1), k = 0..4
//! (R = 2 x the round trip 2 x 10 ms = 40 ms), given up at t0 + 31 R. Then
//! the edge reports the link down and routing moves it to north-centre at
//! once: its subscribe there leaves at the give-up instant and arrives one
//! latency (20 ms, nothing queued) later. Without the rule the edge would
//! wait for the next probing round, 60 s in.

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

#[test]
fn a_child_whose_parent_is_unreachable_is_served_through_another_parent() {
    let dir = temp_dir("control-give-up");
    let north = "[[links]]\nfrom = \"north-centre\"\nto = \"hz-edge\"\nbandwidth = \"2 Gbps\"\nlatency = \"20 ms\"\n\n";
    let text = crate::control_retry_outage::hangzhou_text(100_000, north)
        .replace("[transport]", "[routing]\nmode = \"pool\"\nprobe_interval = \"60 s\"\n\n[transport]");
    assert!(text.contains("mode = \"pool\""));
    let file = dir.join("give_up.toml");
    std::fs::write(&file, text).unwrap();
    let run = run_ok(&file, &dir.join("out"), &["--no-progress"], &[]);
    let c = read_parquet(&run.join("control.parquet")).unwrap();
    let (child, parent, kind) = (strs(&c, "child"), strs(&c, "parent"), strs(&c, "kind"));
    let (sent, delivered, gave_up) = (col(&c, "sent_ms"), col(&c, "delivered_ms"), col(&c, "gave_up"));
    let sub = |i: usize, p: &str| child[i] == "hz-edge" && parent[i] == p && kind[i] == "subscribe";
    let east = (0..child.len()).find(|&i| sub(i, "east-centre")).expect("routing sent the edge east first");
    assert_eq!(gave_up[east], 1.0, "the subscribe east was given up");
    let (t0, r) = (sent[east], 40.0);
    let give_up = t0 + 31.0 * r;
    let north = (0..child.len()).find(|&i| sub(i, "north-centre")).expect("the edge subscribed to north-centre");
    println!("east sent {t0} ms, given up at {give_up} ms; north sent {} ms, delivered {} ms", sent[north], delivered[north]);
    assert!((sent[north] - give_up).abs() < 1e-3, "moved at {} ms, the give-up instant is {give_up} ms", sent[north]);
    assert!((delivered[north] - (give_up + 20.0)).abs() < 1e-3, "served from {} ms, bound {} ms", delivered[north], give_up + 20.0);
    // And the edge's viewers play from there.
    let v = read_parquet(&run.join("viewers.parquet")).unwrap();
    let first = col(&v, "first_block_ms");
    assert!(first[0].is_finite() && first[0] < 10_000.0, "first viewer's first block after {} ms", first[0]);
}
