//! Build cost and all-pairs path cost of synthetic backbones: one the size
//! of the bundled China topology (31 regions, ~500 IDCs) and one of about
//! 10,000 nodes. (The bundled file itself is measured by
//! `cargo run --release -p cdnsim-scenario --example china_backbone`, since
//! this crate does not read scenario files.)
//!
//! cargo run --release -p cdnsim-net --example backbone_paths [-- SEED]

use std::time::Instant;

use cdnsim_net::backbone::{Backbone, Endpoint, IdcId, SynthParams, synthetic};

fn measure(label: &str, params: &SynthParams, seed: u64, full_paths_sources: usize) {
    let t = Instant::now();
    let input = synthetic(params, seed).expect("valid parameters");
    let generate_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut bb = Backbone::new(input).expect("a synthetic backbone is valid");
    let build_s = t.elapsed().as_secs_f64();
    let (pops, idcs, links) = (bb.pops().len(), bb.idcs().len(), bb.links().len());
    println!(
        "{label}: {} regions, {} ISPs, {pops} PoPs, {idcs} IDCs ({} nodes), {links} links, {} interconnect sites",
        bb.regions().len(),
        bb.isps().len(),
        pops + idcs,
        bb.interconnects().len()
    );
    println!("  generate {:.1} ms, build {:.1} ms", generate_s * 1e3, build_s * 1e3);

    let t = Instant::now();
    bb.warm_cache();
    let warm_s = t.elapsed().as_secs_f64();
    let stats = bb.cache_stats();
    println!("  all trees ({} Dijkstra runs from PoPs): {:.1} ms", stats.trees_computed, warm_s * 1e3);

    let ids: Vec<Endpoint> = (0..idcs as u32).map(|d| Endpoint::Idc(IdcId(d))).collect();
    let t = Instant::now();
    let (mut reachable, mut sum_ns) = (0u64, 0u128);
    for &a in &ids {
        for &b in &ids {
            if let Some(ns) = bb.path_latency_ns(a, b) {
                reachable += 1;
                sum_ns += ns as u128;
            }
        }
    }
    let lat_s = t.elapsed().as_secs_f64();
    let pairs = (idcs * idcs) as f64;
    println!(
        "  all {} IDC pairs, latency only: {:.1} ms ({:.0} ns/pair); {:.2}% reachable, mean one-way {:.2} ms",
        idcs * idcs,
        lat_s * 1e3,
        lat_s * 1e9 / pairs,
        reachable as f64 * 100.0 / pairs,
        sum_ns as f64 / reachable.max(1) as f64 / 1e6
    );

    let sources = full_paths_sources.min(idcs);
    let t = Instant::now();
    let (mut n, mut hops, mut same_isp, mut crossings) = (0u64, 0u64, 0u64, 0u64);
    for &a in &ids[..sources] {
        for &b in &ids {
            if let Some(p) = bb.path(a, b) {
                n += 1;
                hops += p.hops() as u64;
                same_isp += p.isp.is_some() as u64;
                crossings += p.interconnects as u64;
            }
        }
    }
    let path_s = t.elapsed().as_secs_f64();
    let q = (sources * idcs) as f64;
    println!(
        "  hop lists from {sources} sources to all ({} pairs): {:.1} ms ({:.0} ns/pair); mean {:.2} hops, {:.1}% same-ISP, {:.3} interconnects/path",
        sources * idcs,
        path_s * 1e3,
        path_s * 1e9 / q,
        hops as f64 / n.max(1) as f64,
        same_isp as f64 * 100.0 / n.max(1) as f64,
        crossings as f64 / n.max(1) as f64
    );
    assert_eq!(bb.cache_stats().trees_computed, stats.trees_computed, "queries never search");
}

fn main() {
    let seed = std::env::args().nth(1).map_or(1, |s| s.parse().expect("SEED is an integer"));
    let china_sized = SynthParams { regions: 31, isps: 5, idcs_per_region: 16, interconnects: 3, ..SynthParams::default() };
    measure("china-sized", &china_sized, seed, usize::MAX);
    let large = SynthParams { regions: 100, isps: 4, idcs_per_region: 97, interconnects: 6, ..SynthParams::default() };
    measure("10k nodes", &large, seed, 500);
}
