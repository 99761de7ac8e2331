//! Tree vs node pools vs weak mesh on the same UGC population
//! (scenarios/tree_vs_pool_vs_mesh.toml): the mesh's internal bytes against
//! the shared-CDN talk's "about half of the tree's", the tree's own cost
//! accounted link by link from its rules, the mesh's hop bound, the small
//! ISPs reached through multi-line sources, and a backbone corridor outage
//! that pools and mesh route around while the tree waits for the repair.
//! Every run also checks seamless switching: no block skipped or sent
//! twice at a switch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/tree_vs_pool_vs_mesh.toml");

/// Runs the scenario under `mode` with `edit` applied to its text.
fn run_mode(dir: &Path, mode: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(SCENARIO).unwrap();
    // One mode per run here: the file's own [sweep] (over the three) goes.
    let text = text[..text.find("\n[sweep]").expect("the file sweeps routing.mode")].to_string();
    assert_eq!(text.matches("mode = \"mesh\"").count(), 1);
    let text = edit(text.replacen("mode = \"mesh\"", &format!("mode = \"{mode}\""), 1));
    let file = dir.join(format!("{mode}.toml"));
    std::fs::write(&file, text).unwrap();
    // The bundled backbone is found beside the scenario.
    std::fs::create_dir_all(dir.join("topologies")).unwrap();
    let china = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/topologies/china.toml");
    std::fs::copy(china, dir.join("topologies/china.toml")).unwrap();
    run_ok(&file, &dir.join("out"), &[], &[])
}

fn summary(run: &Path, column: &str) -> f64 {
    col(&read_parquet(&run.join("summary.parquet")).unwrap(), column)[0]
}

/// A switch resumes right after the node's newest complete block, so the
/// new upstream skips nothing the node lacks (no switch gap). It resends
/// the node's partly held block: those chunks are replays, bounded by the
/// blocks the switches could overlap (two per switch: the partly held one
/// and one in flight from the old upstream until it hears of the switch).
fn check_seamless(run: &Path, mode: &str) {
    let (switches, replays) = (summary(run, "route_switches"), summary(run, "switch_replays"));
    assert_eq!(summary(run, "switch_gaps"), 0.0, "{mode}: switch gaps over {switches} switches");
    let chunks_per_block = (125_000.0f64 / 16_384.0).ceil();
    assert!(replays <= 2.0 * chunks_per_block * switches, "{mode}: {replays} replays over {switches} switches");
}

#[test]
fn mesh_carries_about_half_the_internal_bytes_of_the_tree_within_the_hop_bound() {
    let dir = temp_dir("topologies-ugc");
    let short = |t: String| t.replacen("duration = \"180 s\"", "duration = \"120 s\"", 1);
    let tree = run_mode(&dir, "tree", short);
    let pool = run_mode(&dir, "pool", short);
    let mesh = run_mode(&dir, "mesh", short);

    // Same audience under each topology (same seed, same draws).
    let delivered: Vec<f64> = [&tree, &pool, &mesh].iter().map(|r| summary(r, "viewers")).collect();
    assert!(delivered.iter().all(|&v| v == delivered[0] && v > 500.0), "{delivered:?}");

    // The talk: about half the internal bandwidth on UGC streams
    // (docs/references.md, Mesh internal bandwidth). Per byte delivered,
    // so a difference in what reached viewers cannot hide in it.
    let per_byte = |r: &Path| summary(r, "internal_bytes_per_viewer_byte");
    let ratio = per_byte(&mesh) / per_byte(&tree);
    println!(
        "internal bytes per viewer byte: tree {:.3}, pool {:.3}, mesh {:.3}; mesh/tree {ratio:.3}",
        per_byte(&tree),
        per_byte(&pool),
        per_byte(&mesh)
    );
    // Our tree pushes every stream up to its root for the whole run
    // whatever its audience (2 of its 4 hops), while a UGC viewer stays
    // about a minute, so the saving can exceed the talk's half: the band is
    // "about half" read loosely, and the number is reported.
    assert!((0.25..0.75).contains(&ratio), "mesh/tree internal bytes {ratio:.3}, expected about half");
    assert!(per_byte(&pool) < per_byte(&tree), "pools route on demand: less than the tree");
    let waste = |r: &Path| summary(r, "hop_waste");
    assert!(waste(&mesh) < waste(&tree), "hop waste: mesh {} tree {}", waste(&mesh), waste(&tree));
    check_tree_accounting(&tree);

    // Hop bound: no viewer's bytes took more than 5 IDC hops plus the
    // access hop (docs/references.md, Mesh hop bound).
    let v = read_parquet(&mesh.join("viewers.parquet")).unwrap();
    let worst = col(&v, "hops").into_iter().filter(|h| !h.is_nan()).fold(0.0, f64::max);
    assert!(worst <= 6.0 + 1e-9, "a mesh viewer's bytes averaged {worst} hops");
    // ...and the bound is reached: cross-ISP, cross-region cold paths exist.
    assert!(worst >= 3.0, "{worst}");

    for (r, m) in [(&tree, "tree"), (&pool, "pool"), (&mesh, "mesh")] {
        check_seamless(r, m);
    }
}

/// The fixed tree's internal bytes follow from its rules and the viewer
/// sessions alone: every stream climbs edge -> centre -> root for the whole
/// run, and comes down root -> centre while any viewer under that centre
/// watches it and centre -> edge while any viewer at that edge does, the
/// down-leg separate from the up-leg even where they share a centre (the
/// talk: even one or two viewers "still take the fixed hops";
/// docs/references.md, Tree fixed hops). So every
/// viewer byte took exactly 4 IDC hops plus the access hop, and the bytes
/// on the links match the sum of those busy times x the bit rate, within:
/// - above: a new subscriber's backlog, from the newest complete block on
///   (at most 2 blocks), per busy interval, plus the bytes a child keeps
///   getting while its unsubscription travels (under a block), plus every
///   retransmission (at most one chunk each);
/// - below: a busy interval's set-up (subscriptions travel one link
///   latency, well under a block), and at the stop, up to a block per
///   up-leg hop still in flight.
fn check_tree_accounting(run: &Path) {
    let m: serde_json::Value = serde_json::from_slice(&read(&run.join("manifest.json"))).unwrap();
    let sc = &m["scenario"];
    let nodes = sc["nodes"].as_array().unwrap();
    let parent: BTreeMap<&str, Option<u64>> =
        nodes.iter().map(|n| (n["name"].as_str().unwrap(), n["parent"].as_u64())).collect();
    let rate_bytes_per_s = sc["stream"]["bitrate_bps"].as_f64().unwrap() / 8.0;
    let block_bytes = rate_bytes_per_s * sc["stream"]["block_ns"].as_f64().unwrap() / 1e9;
    let chunk_bytes = sc["stream"]["chunk_bytes"].as_f64().unwrap();
    let duration_s = sc["duration_ns"].as_f64().unwrap() / 1e9;
    let streams = sc["broadcasters"]["count"].as_f64().unwrap();

    let v = read_parquet(&run.join("viewers.parquet")).unwrap();
    let hops = col(&v, "hops");
    assert!(hops.iter().filter(|h| !h.is_nan()).all(|&h| h == 5.0), "tree hops per viewer byte: {hops:?}");
    // Busy intervals per (stream, edge) and per (stream, centre).
    let mut busy: BTreeMap<(String, String), Vec<(f64, f64)>> = BTreeMap::new();
    let (stream, edge, join, leave) = (strs(&v, "stream"), strs(&v, "edge"), col(&v, "join_ms"), col(&v, "leave_ms"));
    for i in 0..v.height() {
        let at = (join[i] / 1e3, leave[i] / 1e3);
        let centre = nodes[parent[edge[i].as_str()].expect("an edge has a parent") as usize]["name"].as_str().unwrap();
        busy.entry((stream[i].clone(), edge[i].clone())).or_default().push(at);
        busy.entry((stream[i].clone(), centre.to_string())).or_default().push(at);
    }
    let busy_s: f64 = busy
        .values_mut()
        .map(|spans| {
            spans.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (mut total, mut open) = (0.0, spans[0]);
            for &(a, b) in &spans[1..] {
                if a > open.1 {
                    total += open.1 - open.0;
                    open = (a, b);
                } else {
                    open.1 = open.1.max(b);
                }
            }
            total + open.1 - open.0
        })
        .sum();
    // Every ingest in this overlay is an edge: two hops up to the root.
    let up = streams * 2.0 * rate_bytes_per_s * duration_s;
    let expected = up + busy_s * rate_bytes_per_s;
    let intervals = busy.len() as f64;
    let high = expected + intervals * 3.0 * block_bytes + summary(run, "retransmissions") * chunk_bytes;
    let low = expected - intervals * block_bytes - streams * 2.0 * block_bytes;
    let measured = summary(run, "internal_bytes");
    println!("tree internal bytes {measured:.4e}, from its rules {expected:.4e} (up-leg {up:.4e}), allowed {low:.4e}..{high:.4e}");
    assert!((low..=high).contains(&measured), "tree internal bytes {measured} outside {low}..{high}");
}

/// Dr. Peng and CERNET have no regional centres and meet the big ISPs only
/// at congested interconnects, which the mesh never uses: their edges are
/// reached through the multi-line sources, which have lines into them
/// (the talk's "multi-line transfer points";
/// docs/references.md, Multi-line transfer points). Every viewer on those
/// ISPs gets a route and the stream, within the hop bound.
#[test]
fn mesh_reaches_the_small_isps_through_multi_line_sources() {
    let dir = temp_dir("topologies-small-isps");
    let all = |t: String| {
        t.replacen("duration = \"180 s\"", "duration = \"60 s\"", 1).replacen(
            "isps = [\"telecom\", \"unicom\", \"mobile\"]",
            "isps = [\"telecom\", \"unicom\", \"mobile\", \"drpeng\", \"cernet\"]",
            1,
        )
    };
    let mesh = run_mode(&dir, "mesh", all);
    assert_eq!(summary(&mesh, "route_failures"), 0.0);
    let v = read_parquet(&mesh.join("viewers.parquet")).unwrap();
    let (edge, bytes, join, hops) = (strs(&v, "edge"), col(&v, "bytes_idc"), col(&v, "join_ms"), col(&v, "hops"));
    let small: Vec<usize> = (0..v.height()).filter(|&i| edge[i].contains(".drpeng.") || edge[i].contains(".cernet.")).collect();
    // Beijing, Shanghai and Guangdong viewers land on them often (one edge
    // per ISP, 5 ISPs there): dozens in a minute.
    assert!(small.len() >= 20, "{} viewers on small ISPs", small.len());
    for &i in &small {
        // A viewer who joined in the last seconds may not have a chunk yet.
        if join[i] < 55_000.0 {
            assert!(bytes[i] > 0.0, "viewer {i} at {} got nothing", edge[i]);
            assert!(hops[i] <= 6.0, "viewer {i} at {}: {} hops", edge[i], hops[i]);
        }
    }
    check_seamless(&mesh, "mesh");
}

#[test]
fn pools_and_mesh_route_around_a_corridor_outage_the_tree_waits() {
    let dir = temp_dir("topologies-outage");
    // Telecom's Beijing-Wuhan-Guangzhou corridor fails from 40 s to 70 s.
    let outage = |t: String| {
        t.replacen("duration = \"180 s\"", "duration = \"100 s\"", 1).replacen(
            "[routing]",
            "[[faults]]\ngroup = \"telecom.jing-han-guang\"\nkind = \"outage\"\nstart = \"40 s\"\nend = \"70 s\"\n\n[routing]",
            1,
        )
    };
    let stall_s = |r: &Path| {
        let v = read_parquet(&r.join("viewers.parquet")).unwrap();
        col(&v, "stall_ms").iter().sum::<f64>() / 1e3
    };
    let tree = run_mode(&dir, "tree", outage);
    let pool = run_mode(&dir, "pool", outage);
    let mesh = run_mode(&dir, "mesh", outage);
    let (t, p, m) = (stall_s(&tree), stall_s(&pool), stall_s(&mesh));
    println!("stall time over all viewers: tree {t:.1} s, pool {p:.1} s, mesh {m:.1} s");
    assert!(t > 100.0, "the tree's viewers behind the corridor stall for the outage: {t} s");
    assert!(p < 0.25 * t && m < 0.25 * t, "pool {p} s, mesh {m} s vs tree {t} s");
    assert!(summary(&pool, "route_switches") > 0.0 && summary(&mesh, "route_switches") > 0.0);
    // The nodes behind the corridor see the outage as blocks they lack:
    // the tree's for the whole outage, the others' only until they move.
    let lacked = |r: &Path| summary(r, "blocks_missed") + summary(r, "blocks_incomplete");
    let (lt, lp, lm) = (lacked(&tree), lacked(&pool), lacked(&mesh));
    println!("blocks nodes lacked: tree {lt}, pool {lp}, mesh {lm}");
    assert!(lt > 0.0 && lp < 0.5 * lt && lm < 0.5 * lt, "tree {lt}, pool {lp}, mesh {lm}");
    for (r, m) in [(&tree, "tree"), (&pool, "pool"), (&mesh, "mesh")] {
        check_seamless(r, m);
    }
}

#[test]
fn hot_streams_are_pushed_over_two_paths_and_play_without_gaps() {
    let dir = temp_dir("topologies-hot");
    // Streams with 15 concurrent viewers turn hot: pushed to every viewer
    // region's edges over two disjoint paths
    // (docs/references.md, Hot stream redundancy).
    let hot = |t: String| t.replacen("duration = \"180 s\"", "duration = \"90 s\"", 1).replacen("hot_viewers = 100", "hot_viewers = 15", 1);
    let pool = run_mode(&dir, "pool", hot);
    assert!(summary(&pool, "hot_streams") >= 1.0);
    // Both paths deliver: the second copy of every chunk is recognised.
    assert!(summary(&pool, "redundant_chunks") > 0.0);
    assert_eq!(summary(&pool, "stall_ratio"), 0.0);
    check_seamless(&pool, "pool");
}
