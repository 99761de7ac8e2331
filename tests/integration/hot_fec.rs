//! FEC on the internal links of a hot stream (`[routing] hot_redundancy =
//! { fec = .. }`) against the same stream without it, on a chain where no
//! second disjoint path exists (so "disjoint-paths" is one plain path):
//! source -> centre (lossless) -> edge (Bernoulli loss p). The world's FEC
//! model is an MDS code per block per hop (sim/world/src/fec.rs): K source
//! chunks plus R repair chunks; a block whose losses on the hop are at most
//! R is rebuilt, otherwise its lost source chunks are retransmitted. The
//! counts are checked against that model's binomial expectations.

use std::path::Path;

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

const P_LOSS: f64 = 0.05;
const DURATION_S: f64 = 200.0;

fn scenario(redundancy: &str) -> String {
    format!(
        r#"
[run]
name = "hot_fec"
seed = 5
duration = "{DURATION_S} s"

[transport]
retransmit_timeout = "200 ms"
max_retransmits = 3

[[regions]]
name = "beijing"
lat = 39.90
lon = 116.40

[[regions]]
name = "wuhan"
lat = 30.59
lon = 114.31

[[nodes]]
name = "src"
region = "beijing"
isp = "bgp"
role = "source"
egress = "10 Gbps"

[[nodes]]
name = "centre"
region = "wuhan"
isp = "telecom"
role = "centre"
parent = "src"
egress = "10 Gbps"

[[nodes]]
name = "edge"
region = "wuhan"
isp = "telecom"
role = "edge"
parent = "centre"
egress = "1 Gbps"

[[links]]
from = "src"
to = "centre"
bandwidth = "10 Gbps"

[[links]]
from = "centre"
to = "edge"
bandwidth = "1 Gbps"
loss = {P_LOSS}

# Hot from the first viewer; no quality floor, so the lossy link stays in use.
[routing]
mode = "pool"
min_quality = 0.0
hot_min_quality = 0.0
hot_viewers = 1
cold_viewers = 0
hot_redundancy = {redundancy}

[broadcaster]
region = "beijing"
ingest = "src"
uplink = "20 Mbps"

# 125 000 B blocks in 8 chunks of 16 KiB (the last 10 312 B).
[stream]
name = "hot"
bitrate = "1 Mbps"
block = "1 s"
chunk = "16 KiB"

[viewers]
arrivals_per_s = 0.1
watch_time = {{ distribution = "exponential", mean = "600 s" }}
playout_delay = "3 s"
access_loss = 0.0

[[viewers.regions]]
region = "wuhan"
weight = 1.0
"#
    )
}

fn run(dir: &Path, name: &str, redundancy: &str) -> std::path::PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, scenario(redundancy)).unwrap();
    run_ok(&file, &dir.join("out"), &[], &[])
}

fn summary(run: &Path, column: &str) -> f64 {
    col(&read_parquet(&run.join("summary.parquet")).unwrap(), column)[0]
}

fn binomial(n: u32, k: u32, p: f64) -> f64 {
    let choose = (0..k).fold(1.0, |acc, j| acc * (n - j) as f64 / (j + 1) as f64);
    choose * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32)
}

#[test]
fn fec_on_a_lossy_hop_rebuilds_what_retransmission_would_resend() {
    let dir = temp_dir("hot-fec");
    let plain = run(&dir, "plain", "\"disjoint-paths\"");
    let fec = run(&dir, "fec", "{ fec = 0.25 }");

    // The stream flows to the edge from the first viewer's join to the end.
    let v = read_parquet(&plain.join("viewers.parquet")).unwrap();
    let first_join_s = col(&v, "join_ms").into_iter().fold(f64::INFINITY, f64::min) / 1e3;
    let blocks = (DURATION_S - first_join_s).floor();
    let (k, block_bytes, chunk_bytes, last_chunk) = (8u32, 125_000.0, 16_384.0, 10_312.0);
    // R = 0.25 x 125 000 B in 16 KiB chunks, rounded up: 2 (overhead 0.262).
    let r = 2u32;
    let overhead = r as f64 * chunk_bytes / block_bytes;
    let p = P_LOSS;
    // Each lost sending is resent, and a resend is lost again with p (3
    // tries allowed: the p^4 tail is negligible).
    let resends_per_loss = 1.0 + p + p * p;

    // Without FEC: every chunk lost on the lossy hop is resent.
    let per_chunk = p + p * p + p * p * p;
    let n = blocks * k as f64;
    let (mean, sd) = (n * per_chunk, (n * p * (1.0 - p)).sqrt() * resends_per_loss);
    let plain_resent = summary(&plain, "retransmissions");
    assert!((plain_resent - mean).abs() < 4.0 * sd + k as f64, "plain: {plain_resent} resends, expected {mean:.1} +- {sd:.1}");

    // With FEC: per block, L_s of the K source and L_r of the R repair
    // chunks are lost (independent binomials); L_s chunks are rebuilt when
    // L_s + L_r <= R, else resent.
    let (mut resent, mut resent2, mut rebuilt, mut rebuilt2) = (0.0, 0.0, 0.0, 0.0);
    for ls in 0..=k {
        for lr in 0..=r {
            let pr = binomial(k, ls, p) * binomial(r, lr, p);
            let x = ls as f64;
            if ls + lr <= r {
                rebuilt += pr * x;
                rebuilt2 += pr * x * x;
            } else {
                resent += pr * x;
                resent2 += pr * x * x;
            }
        }
    }
    let (fec_mean, fec_sd) = (blocks * resent * resends_per_loss, (blocks * resent2).sqrt() * resends_per_loss);
    let (rebuilt_mean, rebuilt_sd) = (blocks * rebuilt, (blocks * (rebuilt2 - rebuilt * rebuilt)).sqrt());
    let fec_resent = summary(&fec, "retransmissions");
    let recovered = summary(&fec, "fec_recovered_chunks");
    println!(
        "resends: plain {plain_resent} (expected {mean:.1}), fec {fec_resent} (expected {fec_mean:.1}); \
         rebuilt {recovered} (expected {rebuilt_mean:.1}) over {blocks} blocks"
    );
    // One block of slack at each end of the run: the last blocks' verdicts
    // fall after the stop.
    assert!(fec_resent <= fec_mean + 4.0 * fec_sd + k as f64, "fec: {fec_resent} resends, expected {fec_mean:.1} +- {fec_sd:.1}");
    assert!(fec_resent < plain_resent / 2.0, "fec {fec_resent} vs plain {plain_resent}");
    assert!(
        (recovered - rebuilt_mean).abs() < 4.0 * rebuilt_sd + k as f64,
        "rebuilt {recovered}, expected {rebuilt_mean:.1} +- {rebuilt_sd:.1}"
    );
    // Without FEC every loss on the hop is resent or, after the last try,
    // given up: the counts balance, up to the chunks whose timer was still
    // running at the stop (at most a block's worth).
    let lost = summary(&plain, "chunks_lost") + summary(&plain, "chunks_dropped");
    let handled = plain_resent + summary(&plain, "chunks_given_up");
    assert!((lost - handled).abs() <= k as f64, "plain: {lost} lost, {handled} resent or given up");

    // Internal bytes: both hops carry the stream's source bytes (the same
    // in both runs up to a block at either end of each hop), with FEC plus
    // R repair chunks per block; retransmissions add a chunk each (the
    // last chunk of a block is shorter: counted at the mean chunk size,
    // off by at most chunk - last chunk each).
    let mean_chunk = block_bytes / k as f64;
    let source = summary(&plain, "internal_bytes") - plain_resent * mean_chunk;
    let expected = source * (1.0 + overhead) + fec_resent * mean_chunk;
    let tolerance = 2.0 * 2.0 * block_bytes * (1.0 + overhead) + (plain_resent + fec_resent) * (chunk_bytes - last_chunk);
    let measured = summary(&fec, "internal_bytes");
    println!("internal bytes: plain {:.0}, fec {measured:.0}, expected {expected:.0} +- {tolerance:.0}", summary(&plain, "internal_bytes"));
    assert!((measured - expected).abs() < tolerance, "fec internal bytes {measured}, expected {expected} +- {tolerance}");

    // Viewers see the same stream either way: nothing lost for good.
    for (run, name) in [(&plain, "plain"), (&fec, "fec")] {
        assert_eq!(summary(run, "stall_ratio"), 0.0, "{name}");
        assert_eq!(summary(run, "chunks_given_up"), 0.0, "{name}");
        assert_eq!(summary(run, "hot_streams"), 1.0, "{name}");
    }
}
