//! A subscribe sent over a link that is down is retried on the routing
//! crate's schedule and delivered by the first sending after the link
//! returns. The tree never reroutes, so the schedule alone decides: with
//! the link's latency L fixed at 10 ms and nothing queued on the child's
//! side, the path's round trip is 2L, the first timeout R = max(10 ms,
//! 2 x 2L) = 40 ms, and sending k leaves at t0 + R (2^k - 1) (the timeout
//! doubles per retry; routing crate, `control`). The link is down from
//! 0 to 500 ms; the subscribe arrives at t0 + R (2^k - 1) + L for the
//! first k whose sending leaves at or after 500 ms, before the last
//! (fifth) sending's timer would give it up.

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

/// Quickstart with only Hangzhou watching, from the start, behind a
/// 10 ms east-centre -> hz-edge link that is down for `down_ms`.
pub fn hangzhou_text(down_ms: u64, extra_link: &str) -> String {
    let text = quickstart_text();
    let cut = text.find("# Where viewers are, by weight.").expect("quickstart's viewer regions");
    let hz = "[[links]]\nfrom = \"east-centre\"\nto = \"hz-edge\"\nbandwidth = \"2 Gbps\"\nloss = 0.001\n";
    assert!(text.contains(hz), "the bundled quickstart changed: pick the link again");
    let text = text[..cut]
        .replace(hz, "[[links]]\nfrom = \"east-centre\"\nto = \"hz-edge\"\nbandwidth = \"2 Gbps\"\nlatency = \"10 ms\"\ngroups = [\"hz-line\"]\n")
        .replace(
            "[broadcaster]",
            &format!("{extra_link}[[faults]]\ngroup = \"hz-line\"\nkind = \"outage\"\nstart = \"0 s\"\nend = \"{down_ms} ms\"\n\n[broadcaster]"),
        )
        .replace("arrivals_per_s = 5.0", "arrivals_per_s = 0.1\ninitial = 5\ninitial_window = \"10 ms\"");
    text + "[[viewers.regions]]\nregion = \"hangzhou\"\nweight = 1.0\n"
}

/// When sending k of a message first sent at t0 leaves, first timeout R.
pub fn sending_ms(t0: f64, r: f64, k: u32) -> f64 {
    t0 + r * ((1u64 << k) - 1) as f64
}

#[test]
fn a_subscribe_over_a_down_link_is_retried_and_arrives_when_it_returns() {
    let dir = temp_dir("control-outage");
    let file = dir.join("outage.toml");
    std::fs::write(&file, hangzhou_text(500, "")).unwrap();
    let run = run_ok(&file, &dir.join("out"), &["--no-progress"], &[]);
    let c = read_parquet(&run.join("control.parquet")).unwrap();
    let (child, parent, kind) = (strs(&c, "child"), strs(&c, "parent"), strs(&c, "kind"));
    let (sent, delivered, attempts) = (col(&c, "sent_ms"), col(&c, "delivered_ms"), col(&c, "attempts"));
    let i = (0..child.len())
        .find(|&i| child[i] == "hz-edge" && parent[i] == "east-centre" && kind[i] == "subscribe")
        .expect("hz-edge subscribed");
    let (l, r, up) = (10.0, 40.0, 500.0);
    let t0 = sent[i];
    assert!(t0 < 10.0, "the first viewer joins in the first 10 ms: {t0}");
    let k = (0..5).find(|&k| sending_ms(t0, r, k) >= up).expect("the link returns before the last sending");
    let expected = sending_ms(t0, r, k) + l;
    println!("subscribe sent {t0} ms, delivered {} ms after {} sendings; closed form {expected} ms after {}", delivered[i], attempts[i], k + 1);
    assert!((delivered[i] - expected).abs() < 1e-3, "delivered at {} ms, closed form {expected} ms", delivered[i]);
    assert_eq!(attempts[i], (k + 1) as f64);
    let s = read_parquet(&run.join("summary.parquet")).unwrap();
    assert!(col(&s, "control_lost")[0] >= k as f64, "every sending while down is lost");
    assert_eq!(col(&s, "control_gave_up")[0], 0.0);
}
