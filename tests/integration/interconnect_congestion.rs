//! Routing sees the queueing that a shared interconnect's load causes, and
//! pools move off it (issue 16, item 3). The bundled
//! `interconnect_congestion` scenario, shortened to 40 s, with the
//! evening's background held at 0.99983 of the Beijing exchange's
//! 200 Gbps (34 Mbit/s left for video) and no random loss on any link, so
//! that queueing alone can move a route.
//!
//! Expected, derived here rather than taken from the code:
//! - Each of the 8 audience edges pulls one copy from the Telecom centre
//!   across the exchange: 8 chunks reach it at once, every 1/31 s, and
//!   queue behind each other at 34 Mbit/s. A probe at a random instant
//!   waits for what is ahead of it: the time average of the backlog, per
//!   block 30 bursts of 8 x 16 KiB and one of 8 x 8,480 B (the block's
//!   last chunk), each draining linearly from 8 x its serialisation
//!   (bursts do not overlap: 30.8 ms < 32.3 ms), (sum of burst^2 / 2) /
//!   1 s = 14.4 ms.
//! - Routing's score of an exchange link is then
//!   100 / (1 + exp(-(7 - 0.2 x (propagation + 14.4 ms)))), below 84 for
//!   every such link, so the path's quality (the ingest -> centre link's
//!   score times it, each floored to a point) is below the minimum of 90;
//!   without the queue it is 97 or more. The pool moves every edge to the
//!   multi-line source at the first round its route is `min_dwell` (10 s)
//!   old: by 12 s. It never comes back: that needs the minimum plus the
//!   margin, 98, above the exchange path's best (< 98 with an empty
//!   queue). The tree cannot move: its chunks queue at the exchange all
//!   run. The mesh never crosses an interconnect.
//! - Control: with no background (a 200 Gbit/s exchange) the pool keeps
//!   every edge on the exchange, the cheaper path; so the move above is
//!   the queueing's doing.

use std::path::{Path, PathBuf};

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/interconnect_congestion.toml");
const SHARE: f64 = 0.99983;
const EXCHANGE: &str = "beijing:telecom.beijing-unicom.beijing";

/// The bundled scenario for 40 s, with a constant interconnect background
/// (`None`: none) and every link lossless.
fn run(dir: &Path, background: Option<f64>, tag: &str) -> PathBuf {
    let text = std::fs::read_to_string(SCENARIO).unwrap();
    let mut out = String::new();
    let mut in_background = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_background = line == "[network.background]";
            if in_background {
                if let Some(b) = background {
                    out.push_str(&format!("[network.background]\ninterconnect = {b}\n"));
                }
                continue;
            }
        }
        if in_background {
            continue;
        }
        let line = if line.starts_with("duration = ") { "duration = \"40 s\"" } else { line };
        out.push_str(line);
        out.push('\n');
        // The audience is there before the first chunk: no edge starts
        // with a burst of the block so far.
        if line.starts_with("initial = ") {
            out.push_str("initial_window = \"1 ms\"\n");
        }
        // Every [[links]] entry ends with its `to`: no random loss.
        if line.starts_with("to = \"") {
            out.push_str("loss = 0.0\n");
        }
    }
    assert_eq!(out.matches("loss = 0.0").count(), 18, "the bundled scenario's links changed");
    std::fs::create_dir_all(dir.join("topologies")).unwrap();
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/topologies/china.toml"), dir.join("topologies/china.toml")).unwrap();
    let file = dir.join(format!("{tag}.toml"));
    std::fs::write(&file, out).unwrap();
    run_ok(&file, &dir.join(format!("out-{tag}")), &["--no-progress"], &[])
}

/// Run folders of a sweep's results, by topology.
fn runs(root: &Path) -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("summary.parquet").exists())
        .map(|p| (strs(&read_parquet(&p.join("summary.parquet")).unwrap(), "topology")[0].clone(), p))
        .collect();
    v.sort();
    v
}

/// Per second, (bytes, mean queueing ms) of the exchange's Telecom ->
/// Unicom direction (0 bytes: no row).
fn exchange(run: &Path, seconds: usize) -> Vec<(f64, f64)> {
    let b = read_parquet(&run.join("backbone.parquet")).unwrap();
    let (links, second, bytes, queue) = (strs(&b, "link"), col(&b, "second"), col(&b, "bytes"), col(&b, "queue_ms_mean"));
    let reverse = col(&b, "reverse");
    let mut out = vec![(0.0, 0.0); seconds];
    for i in 0..links.len() {
        if links[i] == EXCHANGE && reverse[i] == 0.0 && bytes[i] > 0.0 {
            out[second[i] as usize] = (bytes[i], queue[i]);
        }
    }
    out
}

fn score(z: f64) -> f64 {
    100.0 / (1.0 + (-z).exp())
}

#[test]
fn pools_leave_an_interconnect_whose_queue_routing_sees_and_the_tree_keeps_it() {
    let dir = temp_dir("interconnect-congestion");
    // The derivation: the probes' mean wait at the exchange with all 8
    // copies on it.
    let rate_bps = 200e9 * (1.0 - SHARE);
    let burst_ms = |bytes: f64| 8.0 * bytes * 8.0 / rate_bps * 1e3;
    let (full, last) = (burst_ms(16384.0), burst_ms(500_000.0 - 30.0 * 16384.0));
    assert!(full < 1000.0 / 31.0, "bursts overlap: {full} ms");
    let wait_ms = (30.0 * full * full / 2.0 + last * last / 2.0) / 1000.0;
    assert!((wait_ms - 14.4).abs() < 0.05, "{wait_ms}");

    let root = run(&dir, Some(SHARE), "congested");
    let congested = runs(&root);
    assert_eq!(congested.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["mesh", "pool", "tree"]);

    // The scores routing should see, from the links' propagation.
    let m: serde_json::Value = serde_json::from_slice(&read(&congested[0].1.join("manifest.json"))).unwrap();
    let sc = &m["scenario"];
    let name = |i: &serde_json::Value| sc["nodes"][i.as_u64().unwrap() as usize]["name"].as_str().unwrap().to_string();
    let mut ingest_ms = None;
    let mut exchange_ms = Vec::new();
    for l in sc["links"].as_array().unwrap() {
        let (from, to, ms) = (name(&l["from"]), name(&l["to"]), l["latency_ns"].as_f64().unwrap() / 1e6);
        match (from.as_str(), l["interconnect"].as_bool().unwrap()) {
            ("ct", true) => exchange_ms.push(ms),
            ("ct", false) if to == "bj-t" => ingest_ms = Some(ms),
            _ => {}
        }
    }
    assert_eq!(exchange_ms.len(), 8);
    let ingest = score(7.0 - 0.2 * ingest_ms.unwrap()).floor();
    for &p in &exchange_ms {
        let congested = ingest * score(7.0 - 0.2 * (p + wait_ms)).floor() / 100.0;
        let idle = ingest * score(7.0 - 0.2 * p).floor() / 100.0;
        assert!(congested < 90.0 - 3.0 && (90.0..98.0).contains(&idle), "{p} ms: {congested} / {idle}");
    }

    let seconds = 40;
    for (topology, run) in &congested {
        let s = read_parquet(&run.join("summary.parquet")).unwrap();
        let x = exchange(run, seconds);
        let switches = col(&s, "route_switches")[0];
        match topology.as_str() {
            "tree" => {
                // All run: 8 copies (32 Mbit/s), each chunk waiting 0-7
                // serialisations (a chunk's mean: 3.5 of them, with the
                // small last chunk once per block).
                let chunk_mean = (30.0 * 3.5 * full / 8.0 + 3.5 * last / 8.0) / 31.0;
                for (t, &(bytes, q)) in x.iter().enumerate().skip(2) {
                    assert!((bytes * 8.0 / 1e6 - 32.0).abs() < 0.6, "tree, second {t}: {bytes} B");
                    assert!((q - chunk_mean).abs() < 0.02 * chunk_mean, "tree, second {t}: {q} ms, expected {chunk_mean}");
                }
                assert_eq!(col(&s, "backbone_drops")[0], 0.0);
            }
            "pool" => {
                // On the exchange at first, off it by 12 s for good.
                assert!(x[2].0 * 8.0 / 1e6 > 31.0, "pool starts on the exchange: {:?}", &x[..3]);
                let after: f64 = x[14..].iter().map(|r| r.0).sum();
                assert_eq!(after, 0.0, "pool still crosses the exchange after 14 s: {:?}", &x[10..16]);
                assert_eq!(switches, 8.0, "one switch per edge");
                assert_eq!(col(&s, "ping_pongs")[0], 0.0);
                // What its viewers' chunks cross now queues less than 0.1 ms.
                let b = read_parquet(&run.join("backbone.parquet")).unwrap();
                let (second, queue) = (col(&b, "second"), col(&b, "queue_ms_mean"));
                let late = (0..second.len()).filter(|&i| second[i] >= 14.0).map(|i| queue[i]).fold(0.0, f64::max);
                assert!(late < 0.1, "pool's queueing after the move: {late} ms");
            }
            "mesh" => {
                assert!(x.iter().all(|r| r.0 == 0.0), "the mesh crossed an interconnect");
            }
            other => panic!("{other}"),
        }
    }

    // Control: an idle exchange keeps the pool.
    let root = run(&dir, None, "idle");
    let (_, pool) = runs(&root).into_iter().find(|r| r.0 == "pool").unwrap();
    let s = read_parquet(&pool.join("summary.parquet")).unwrap();
    assert_eq!(col(&s, "route_switches")[0], 0.0);
    assert!(exchange(&pool, seconds)[2..].iter().all(|r| (r.0 * 8.0 / 1e6 - 32.0).abs() < 0.6));
}
