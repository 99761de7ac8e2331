//! The scenario's IDC nodes and links as the routing crate's graph, and
//! the router for the scenario's `[routing]` mode.
//!
//! Node and link indices are the scenario's, so routes come back as
//! scenario node indices and link observations go out by scenario link.

use std::collections::BTreeMap;

use cdnsim_net::{NodeId, Topology};
use cdnsim_routing::{Graph, LinkInfo, NodeInfo, ParamError, Policy, Router, Tier};
use cdnsim_scenario::{Role, Scenario};

pub fn router(sc: &Scenario, topo: &Topology) -> Result<Router, ParamError> {
    // Areas and ISPs as small indices, in name order.
    let areas: BTreeMap<&str, u16> = index(sc.nodes.iter().map(|n| n.area.as_str()));
    let isps: BTreeMap<&str, u16> = index(sc.nodes.iter().flat_map(|n| n.isps.iter().map(String::as_str)));
    let nodes = sc
        .nodes
        .iter()
        .map(|n| NodeInfo {
            region: n.region as u16,
            area: areas[n.area.as_str()],
            isps: n.isps.iter().fold(0u32, |m, i| m | 1 << (isps[i.as_str()] % 32)),
            tier: match n.role {
                Role::Source => Tier::Source,
                Role::Centre => Tier::Centre,
                Role::Edge => Tier::Edge,
            },
            tree_parent: n.parent.map(|p| p as u32),
            price_per_gb: n.price_per_gb,
        })
        .collect();
    let links = sc
        .links
        .iter()
        .map(|l| {
            let ch = topo.channel_between(NodeId(l.from as u32), NodeId(l.to as u32)).expect("scenario link");
            LinkInfo {
                a: l.from as u32,
                b: l.to as u32,
                delay_us: (topo.channel(ch).latency().as_ns() / 1_000).min(u32::MAX as u64) as u32,
                interconnect: l.interconnect,
            }
        })
        .collect();
    let graph = Graph::new(nodes, links)?;
    let r = &sc.routing;
    let policy = Policy {
        min_quality: r.min_quality,
        hot_min_quality: r.hot_min_quality,
        max_hops: r.max_hops,
        cost_per_hop: r.cost_per_hop,
        cost_per_interconnect: r.cost_per_interconnect,
        cost_per_price: r.cost_per_price,
        switch_margin: r.switch_margin,
        min_dwell_us: r.min_dwell_ns / 1_000,
        hot_on_viewers: r.hot_viewers,
        hot_off_viewers: r.cold_viewers,
        hot_redundancy: r.hot_redundancy,
        ..Policy::default()
    };
    Router::new(graph, r.mode, policy, r.score.unwrap_or_default())
}

fn index<'a>(names: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, u16> {
    let mut m: BTreeMap<&str, u16> = names.map(|n| (n, 0)).collect();
    for (i, v) in m.values_mut().enumerate() {
        *v = i as u16;
    }
    m
}
