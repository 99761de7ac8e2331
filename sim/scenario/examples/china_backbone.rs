//! The bundled China topology: time to load it, build the backbone and
//! compute all-pairs paths between its ~500 IDCs, and the latencies that
//! come out (same-ISP RTTs, cross-ISP, the jing-han-guang outage).
//!
//! cargo run --release -p cdnsim-scenario --example china_backbone


use std::path::Path;
use std::time::Instant;

use cdnsim_net::backbone::{Backbone, Endpoint, IdcId};
use cdnsim_scenario::topology::load_topology;

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/topologies/china.toml");
    let t0 = Instant::now();
    let t = load_topology(&path).unwrap_or_else(|e| panic!("{e}"));
    let load_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut bb = Backbone::new(t.backbone_input()).expect("china.toml builds");
    let build_s = t1.elapsed().as_secs_f64();
    let n = bb.idcs().len();
    println!(
        "china.toml: {} provinces, {} ISPs, {} PoPs, {} IDCs, {} links ({} backbone), {} groups",
        t.provinces.len(),
        t.isps.len(),
        bb.pops().len(),
        n,
        bb.links().len(),
        t.links.len(),
        bb.group_count()
    );
    println!("  load + resolve {:.2} ms, build backbone {:.2} ms", load_s * 1e3, build_s * 1e3);

    let t2 = Instant::now();
    bb.warm_cache();
    let warm_s = t2.elapsed().as_secs_f64();
    let ids: Vec<Endpoint> = (0..n as u32).map(|d| Endpoint::Idc(IdcId(d))).collect();
    let t3 = Instant::now();
    let mut same_rtt_ms = Vec::new();
    let mut cross_rtt_ms = Vec::new();
    let mut hops = 0usize;
    for &a in &ids {
        for &b in &ids {
            if a == b {
                continue;
            }
            let p = bb.path(a, b).expect("connected");
            hops += p.hops();
            let rtt = 2.0 * p.latency_ns as f64 / 1e6;
            if p.isp.is_some() { same_rtt_ms.push(rtt) } else { cross_rtt_ms.push(rtt) }
        }
    }
    let paths_s = t3.elapsed().as_secs_f64();
    let pairs = n * (n - 1);
    println!(
        "  all trees {:.2} ms ({} Dijkstra runs); all {pairs} IDC pair paths with hop lists {:.1} ms ({:.0} ns/pair)",
        warm_s * 1e3,
        bb.cache_stats().trees_computed,
        paths_s * 1e3,
        paths_s * 1e9 / pairs as f64
    );
    println!("  mean hops {:.2} (access links included)", hops as f64 / pairs as f64);
    for (label, v) in [("same-ISP", &mut same_rtt_ms), ("cross-ISP", &mut cross_rtt_ms)] {
        v.sort_by(f64::total_cmp);
        println!(
            "  {label} RTT over {} pairs: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            v.len(),
            quantile(v, 0.5),
            quantile(v, 0.95),
            quantile(v, 1.0)
        );
    }

    let find = |bb: &Backbone, name: &str| Endpoint::Idc(IdcId(bb.idcs().iter().position(|d| d.name == name).unwrap() as u32));
    for isp in ["telecom", "unicom", "mobile"] {
        let (a, b) = (find(&bb, &format!("edge.beijing.{isp}.1")), find(&bb, &format!("edge.guangdong.{isp}.1")));
        let p = bb.path(a, b).unwrap();
        println!("  Beijing-Guangzhou {isp}: one way {:.2} ms, RTT {:.1} ms, {} hops", p.latency_ns as f64 / 1e6, 2.0 * p.latency_ns as f64 / 1e6, p.hops());
    }
    let (a, b) = (find(&bb, "edge.beijing.telecom.1"), find(&bb, "edge.guangdong.unicom.1"));
    let p = bb.path(a, b).unwrap();
    println!("  Beijing telecom -> Guangzhou unicom: RTT {:.1} ms, {} interconnect(s)", 2.0 * p.latency_ns as f64 / 1e6, p.interconnects);
    let (a, b) = (find(&bb, "edge.beijing.telecom.1"), find(&bb, "edge.guangdong.telecom.1"));
    let g = bb.group_id("telecom.jing-han-guang").unwrap();
    let before = bb.path(a, b).unwrap();
    let t4 = Instant::now();
    bb.set_group_up(g, false);
    let invalidate_s = t4.elapsed().as_secs_f64();
    let stats = bb.cache_stats();
    let t5 = Instant::now();
    let during = bb.path(a, b).unwrap();
    let requery_s = t5.elapsed().as_secs_f64();
    println!(
        "  jing-han-guang down: Beijing-Guangzhou telecom RTT {:.1} -> {:.1} ms; invalidated {} of {} trees in {:.1} us, first query after {:.1} us",
        2.0 * before.latency_ns as f64 / 1e6,
        2.0 * during.latency_ns as f64 / 1e6,
        stats.trees_invalidated,
        2 * bb.pops().len(),
        invalidate_s * 1e6,
        requery_s * 1e6
    );
}
