//! `[routing] uplink_copies`: a tree stream's up-leg sent over more than
//! one path (the shared-CDN talk: the ingest-side upward forwarding is
//! copied over several links, being the weakest part of the chain).
//!
//! The tree: root `src`, centres `a`, `b`, `c` under it; the ingest edge
//! `in` under `a` with a second link to `b`; the viewers' edge `v` under
//! `c`. The up-leg is in -> a -> src; its one copy in -> b -> src. Only the
//! two ingest links can lose chunks, each independently with p, and no
//! hop retransmits: a chunk fails to reach the root with probability p on
//! one path and p^2 on two.

use cdnsim_metrics::table::read_parquet;
use crate::common::*;

const P: f64 = 0.1;

fn scenario(copies: Option<u32>, loss: f64, outage: bool) -> String {
    let copies = copies.map_or(String::new(), |n| format!("uplink_copies = {n}\n"));
    let fault = if outage { "\n[[faults]]\ngroup = \"ingest-a\"\nkind = \"outage\"\nstart = \"40 s\"\nend = \"70 s\"\n" } else { "" };
    let group = if outage { "groups = [\"ingest-a\"]\n" } else { "" };
    format!(
        r#"[run]
name = "uplink"
seed = 5
duration = "300 s"

[transport]
retransmit_timeout = "200 ms"
max_retransmits = 0

[routing]
mode = "tree"
{copies}
[[regions]]
name = "beijing"
lat = 39.90
lon = 116.40

[[regions]]
name = "shanghai"
lat = 31.23
lon = 121.47

[[nodes]]
name = "src"
region = "beijing"
isp = "bgp"
role = "source"
egress = "10 Gbps"

[[nodes]]
name = "a"
region = "beijing"
isp = "unicom"
role = "centre"
parent = "src"
egress = "10 Gbps"

[[nodes]]
name = "b"
region = "beijing"
isp = "telecom"
role = "centre"
parent = "src"
egress = "10 Gbps"

[[nodes]]
name = "c"
region = "shanghai"
isp = "telecom"
role = "centre"
parent = "src"
egress = "10 Gbps"

[[nodes]]
name = "in"
region = "beijing"
isp = "unicom"
role = "edge"
parent = "a"
egress = "1 Gbps"

[[nodes]]
name = "v"
region = "shanghai"
isp = "telecom"
role = "edge"
parent = "c"
egress = "1 Gbps"

[[links]]
from = "src"
to = "a"
bandwidth = "10 Gbps"

[[links]]
from = "src"
to = "b"
bandwidth = "10 Gbps"

[[links]]
from = "src"
to = "c"
bandwidth = "10 Gbps"

[[links]]
from = "in"
to = "a"
bandwidth = "1 Gbps"
loss = {loss}
{group}
[[links]]
from = "in"
to = "b"
bandwidth = "1 Gbps"
loss = {loss}

[[links]]
from = "c"
to = "v"
bandwidth = "1 Gbps"
{fault}
[broadcaster]
region = "beijing"
ingest = "in"
uplink = "20 Mbps"
access_latency = "5 ms"

[stream]
name = "live"
bitrate = "1 Mbps"
block = "1 s"
chunk = "16 KiB"

[viewers]
arrivals_per_s = 0.5
watch_time = {{ distribution = "lognormal", median = "2000 s", sigma = 0.1 }}
playout_delay = "3 s"
access_latency = "15 ms"
access_loss = 0.0

[[viewers.regions]]
region = "shanghai"
weight = 1.0
"#
    )
}

fn run(name: &str, text: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    let file = dir.join("uplink.toml");
    std::fs::write(&file, text).unwrap();
    run_ok(&file, &dir.join("out"), &[], &[])
}

fn summary(run: &std::path::Path, column: &str) -> f64 {
    col(&read_parquet(&run.join("summary.parquet")).unwrap(), column)[0]
}

/// The share of up-leg chunks that never reached the root, with the
/// chunks still on their way at the stop (at most the up-leg's latency's
/// worth, one block here) allowed for in the tolerance.
fn lost_share(run: &std::path::Path) -> (f64, f64) {
    let (sent, reached) = (summary(run, "uplink_chunks"), summary(run, "uplink_chunks_reached"));
    assert!(reached <= sent);
    (1.0 - reached / sent, sent)
}

#[test]
fn up_leg_copies_lose_p_to_the_n() {
    let one = run("uplink-one", &scenario(Some(1), P, false));
    let two = run("uplink-two", &scenario(Some(2), P, false));
    assert_eq!(summary(&one, "uplink_paths"), 1.0);
    assert_eq!(summary(&two, "uplink_paths"), 2.0, "in -> b -> src is the copy");
    // Chunks per block: ceil(125 000 B / 16 KiB) = 8; 300 blocks.
    let (f1, n) = lost_share(&one);
    let (f2, _) = lost_share(&two);
    assert!((2390.0..=2400.0).contains(&n), "chunks up: {n}");
    // Binomial(n, q): 4 standard deviations, plus one block (8 chunks) on
    // the way at the stop.
    let tol = |q: f64| 4.0 * (q * (1.0 - q) / n).sqrt() + 8.0 / n;
    assert!((f1 - P).abs() <= tol(P), "one path: lost {f1}, expected {P} +- {}", tol(P));
    assert!((f2 - P * P).abs() <= tol(P * P), "two paths: lost {f2}, expected {} +- {}", P * P, tol(P * P));
    // Every chunk that reached the root over both paths arrived twice:
    // (1 - p)^2 of them.
    let twice = summary(&two, "uplink_redundant_chunks") / n;
    let q = (1.0 - P) * (1.0 - P);
    assert!((twice - q).abs() <= tol(q), "second copies {twice}, expected {q}");
    assert_eq!(summary(&one, "uplink_redundant_chunks"), 0.0);

    // The price, in internal bytes (every link here is internal): per
    // chunk, one path sends 1 + (1 - p) up and 2 (1 - p) down (the root
    // forwards what it holds down src -> c -> v, where the viewers are from
    // the first seconds on); two paths send 2 (2 - p) up and 2 (1 - p^2)
    // down. Chunks are not all the same size, but the same sizes are lost
    // alike, so the ratio holds; 3% covers the first join and the noise.
    let expected = (2.0 * (2.0 - P) + 2.0 * (1.0 - P * P)) / ((2.0 - P) + 2.0 * (1.0 - P));
    let ratio = summary(&two, "internal_bytes") / summary(&one, "internal_bytes");
    eprintln!("lost {f1} / {f2} of {n}; second copies {twice}; internal x{ratio} (expected x{expected})");
    assert!((ratio / expected - 1.0).abs() < 0.03, "internal bytes x{ratio}, expected x{expected}");
    // And what it buys: fewer blocks the viewers lack.
    let (s1, s2) = (summary(&one, "stalls") + summary(&one, "blocks_skipped"), summary(&two, "stalls") + summary(&two, "blocks_skipped"));
    eprintln!("stalls + skips {s1} / {s2}");
    assert!(s2 < s1 / 2.0, "stalls + skips: {s1} with one path, {s2} with two");
}

#[test]
fn an_outage_of_the_up_legs_first_link_stalls_nobody_with_two_copies() {
    let one = run("uplink-outage-one", &scenario(None, 0.0, true));
    let two = run("uplink-outage-two", &scenario(Some(2), 0.0, true));
    // One path: the 30 s outage stops the stream for everyone (the tree
    // never reroutes); viewers there through it freeze ~27 s each.
    let v = read_parquet(&one.join("viewers.parquet")).unwrap();
    let (join, leave, stall) = (col(&v, "join_ms"), col(&v, "leave_ms"), col(&v, "stall_ms"));
    let through: Vec<usize> = (0..join.len()).filter(|&i| join[i] < 35_000.0 && leave[i] > 75_000.0).collect();
    assert!(through.len() >= 5, "viewers through the outage: {}", through.len());
    for &i in &through {
        assert!((20_000.0..31_000.0).contains(&stall[i]), "viewer {i} stalled {} ms on one path", stall[i]);
    }
    // Two paths: the copy in -> b -> src carries every chunk; nothing is
    // lost, nobody stalls. The chunks lost on the failed link are the 30 s
    // of the outage (8 per block).
    eprintln!("outage: stalls {} / {}", summary(&one, "stalls"), summary(&two, "stalls"));
    assert_eq!(summary(&two, "stalls"), 0.0);
    assert_eq!(summary(&two, "stall_ratio"), 0.0);
    let (f2, n) = lost_share(&two);
    assert!(f2 * n <= 8.0, "two paths lost {} chunks", f2 * n);
    let lost_on_a = summary(&two, "uplink_chunks") - summary(&two, "uplink_redundant_chunks");
    assert!((30.0 * 8.0 - 8.0..=30.0 * 8.0 + 8.0).contains(&lost_on_a), "chunks that came up once: {lost_on_a}");
    // Without the field, no up-leg columns: results of scenarios that do
    // not set it are unchanged.
    let s = read_parquet(&one.join("summary.parquet")).unwrap();
    assert!(s.column("uplink_chunks").is_err());
}
