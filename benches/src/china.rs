//! The China overlay graph of the route benchmarks (criterion's
//! `benches/benches/routing.rs` and the instruction-count gate): one node per
//! IDC of
//! `scenarios/topologies/china.toml`, tree parents edge -> its area's centre
//! (same ISP first) -> the nearest source -> the first source, and overlay
//! links between IDCs of one province, among all centres and sources, and
//! between IDCs of one ISP in provinces that ISP's backbone joins. A link's
//! delay is the backbone's one-way latency; it is an interconnect when its
//! backbone path crosses ISPs.

use std::collections::BTreeSet;

use cdnsim_net::backbone::{Backbone, Endpoint, IdcId};
use cdnsim_routing::{Graph, LinkInfo, NodeInfo, Tier};
use cdnsim_scenario::topology::{IdcRole, TopologyData, parse_topology};

/// The bundled topology, built in (the gate's counts must not depend on
/// file paths, whose lengths would shift the heap).
const CHINA_TOML: &str = include_str!("../../scenarios/topologies/china.toml");

pub fn china_graph() -> Result<Graph, String> {
    let t = parse_topology("scenarios/topologies/china.toml", CHINA_TOML).map_err(|e| e.to_string())?;
    let mut bb = Backbone::new(t.backbone_input()).map_err(|e| format!("china.toml: backbone: {e}"))?;
    let nodes = nodes(&t, &mut bb);
    let mut pairs = BTreeSet::new();
    let mut add = |a: usize, b: usize| {
        if a != b {
            pairs.insert((a.min(b), a.max(b)));
        }
    };
    for (i, node) in nodes.iter().enumerate() {
        if let Some(p) = node.tree_parent {
            add(i, p as usize);
        }
    }
    let n = t.idcs.len();
    let upper = |x: usize| t.idcs[x].role != IdcRole::Edge;
    for a in 0..n {
        for b in a + 1..n {
            if t.idcs[a].province == t.idcs[b].province || (upper(a) && upper(b)) {
                add(a, b);
            }
        }
    }
    for l in &t.links {
        let (pa, pb) = (t.pops[l.a].province, t.pops[l.b].province);
        let on = |x: usize, p: usize| t.idcs[x].province == p && t.idcs[x].isps.contains(&l.isp);
        for a in (0..n).filter(|&x| on(x, pa)) {
            for b in (0..n).filter(|&x| on(x, pb)) {
                add(a, b);
            }
        }
    }
    let mut links = Vec::with_capacity(pairs.len());
    for (a, b) in pairs {
        let p = bb.path(idc(a), idc(b)).ok_or_else(|| format!("no backbone path between IDCs {a} and {b}"))?;
        links.push(LinkInfo {
            a: a as u32,
            b: b as u32,
            delay_us: (p.latency_ns / 1000) as u32,
            interconnect: p.interconnects > 0,
        });
    }
    Graph::new(nodes, links).map_err(|e| format!("china overlay graph: {e}"))
}

fn idc(i: usize) -> Endpoint {
    Endpoint::Idc(IdcId(i as u32))
}

fn nodes(t: &TopologyData, bb: &mut Backbone) -> Vec<NodeInfo> {
    let n = t.idcs.len();
    let isps = |i: usize| t.idcs[i].isps.iter().fold(0u32, |m, &k| m | 1 << k);
    let area = |i: usize| t.provinces[t.idcs[i].province].area;
    let sources: Vec<usize> = (0..n).filter(|&i| t.idcs[i].role == IdcRole::Source).collect();
    let centres: Vec<usize> = (0..n).filter(|&i| t.idcs[i].role == IdcRole::Centre).collect();
    let root = sources.first().copied();
    let mut nodes = Vec::with_capacity(n);
    for (i, d) in t.idcs.iter().enumerate() {
        let (parent, tier) = match d.role {
            IdcRole::Source => (root.filter(|&r| r != i), Tier::Source),
            IdcRole::Centre => {
                (sources.iter().copied().min_by_key(|&s| (bb.path_latency_ns(idc(i), idc(s)), s)), Tier::Centre)
            }
            IdcRole::Edge => (
                centres.iter().copied().filter(|&c| area(c) == area(i)).min_by_key(|&c| (isps(c) & isps(i) == 0, c)),
                Tier::Edge,
            ),
        };
        nodes.push(NodeInfo {
            region: d.province as u16,
            area: area(i) as u16,
            isps: isps(i),
            tier,
            tree_parent: parent.map(|p| p as u32),
            price_per_gb: d.price_per_gb,
        });
    }
    nodes
}
