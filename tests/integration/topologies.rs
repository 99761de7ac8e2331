//! Tree vs node pools vs weak mesh on the same UGC population
//! (scenarios/tree_vs_pool_vs_mesh.toml): the mesh's internal bytes against
//! the shared-CDN talk's "about half of the tree's", its hop bound, and a
//! backbone corridor outage that pools and mesh route around while the
//! tree waits for the repair. Every run also checks seamless switching:
//! no block skipped or sent twice at a switch.

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

fn check_seamless(run: &Path, mode: &str) {
    for c in ["switch_gaps", "switch_replays"] {
        assert_eq!(summary(run, c), 0.0, "{mode}: {c}");
    }
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

    // The talk: about half the internal bandwidth on UGC streams. Per byte
    // delivered, so a difference in what reached viewers cannot hide in it.
    let per_byte = |r: &Path| summary(r, "internal_bytes_per_viewer_byte");
    let ratio = per_byte(&mesh) / per_byte(&tree);
    println!(
        "internal bytes per viewer byte: tree {:.3}, pool {:.3}, mesh {:.3}; mesh/tree {ratio:.3}",
        per_byte(&tree),
        per_byte(&pool),
        per_byte(&mesh)
    );
    // Our tree pushes every stream up to its root whatever its audience,
    // so with many unwatched streams the saving can exceed the talk's half:
    // the band is "about half" read loosely, and the number is reported.
    assert!((0.25..0.75).contains(&ratio), "mesh/tree internal bytes {ratio:.3}, expected about half");
    assert!(per_byte(&pool) < per_byte(&tree), "pools route on demand: less than the tree");
    let waste = |r: &Path| summary(r, "hop_waste");
    assert!(waste(&mesh) < waste(&tree), "hop waste: mesh {} tree {}", waste(&mesh), waste(&tree));

    // Hop bound: no viewer's bytes took more than 5 IDC hops plus the access hop.
    let v = read_parquet(&mesh.join("viewers.parquet")).unwrap();
    let worst = col(&v, "hops").into_iter().filter(|h| !h.is_nan()).fold(0.0, f64::max);
    assert!(worst <= 6.0 + 1e-9, "a mesh viewer's bytes averaged {worst} hops");
    // ...and the bound is reached: cross-ISP, cross-region cold paths exist.
    assert!(worst >= 3.0, "{worst}");

    for (r, m) in [(&tree, "tree"), (&pool, "pool"), (&mesh, "mesh")] {
        check_seamless(r, m);
    }
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
    assert_eq!(summary(&tree, "route_switches"), 0.0, "the tree follows its rules");
    for (r, m) in [(&tree, "tree"), (&pool, "pool"), (&mesh, "mesh")] {
        check_seamless(r, m);
    }
}

#[test]
fn hot_streams_are_pushed_over_two_paths_and_play_without_gaps() {
    let dir = temp_dir("topologies-hot");
    // Streams with 15 concurrent viewers turn hot: pushed to every viewer
    // region's edges over two disjoint paths.
    let hot = |t: String| t.replacen("duration = \"180 s\"", "duration = \"90 s\"", 1).replacen("hot_viewers = 100", "hot_viewers = 15", 1);
    let pool = run_mode(&dir, "pool", hot);
    assert!(summary(&pool, "hot_streams") >= 1.0);
    // Both paths deliver: the second copy of every chunk is recognised.
    assert!(summary(&pool, "redundant_chunks") > 0.0);
    assert_eq!(summary(&pool, "stall_ratio"), 0.0);
    check_seamless(&pool, "pool");
}
