//! Where the mesh's route service runs, and the overlay path its messages
//! take.
//!
//! The service is hosted at one node: the lowest-id node in
//! `[routing] service_region`, or, when that region has none, the node
//! whose region is nearest it (lowest propagation, then lowest id). A
//! node's request goes to it, and the answer comes back, over the
//! lowest-delay path of overlay links between the two (the routing
//! crate's `Graph::delay_tree`, by base latency, interconnects included:
//! control traffic is plain IP, not bound by the mesh's media rules). The
//! path is fixed when the run starts, as an overlay link's backbone path
//! is: the control plane does not reroute around a failed link, its
//! messages are lost there and retried (world.rs). The world times and
//! loses each message as it does a subscribe, hop by hop along the path.

use cdnsim_net::{ChannelId, NodeId, Topology};
use cdnsim_routing::Graph;
use cdnsim_scenario::Scenario;

pub struct RouteService {
    /// The node hosting the service.
    pub node: u32,
    /// Per node, its first hop towards the service: (next node, the
    /// channel to it). `None` at the service node and at nodes with no
    /// path to it.
    toward: Vec<Option<(u32, ChannelId)>>,
}

impl RouteService {
    pub fn new(sc: &Scenario, topo: &Topology, graph: &Graph) -> RouteService {
        let r = sc.routing.service_region;
        let inflation = sc.network.route_inflation;
        let node = (0..sc.nodes.len())
            .min_by_key(|&n| (sc.region_latency_ns(sc.nodes[n].region, r, inflation) * (sc.nodes[n].region != r) as u64, n))
            .expect("a scenario has nodes") as u32;
        let toward = graph
            .delay_tree(node)
            .iter()
            .enumerate()
            .map(|(u, arc)| {
                arc.map(|a| (a.to, topo.channel_between(NodeId(u as u32), NodeId(a.to)).expect("graph links are topology links")))
            })
            .collect();
        RouteService { node, toward }
    }

    /// The channels a request from `node` crosses, in order, into `out`
    /// (emptied first; left empty at the service node); false when `node`
    /// has no path to the service.
    pub fn request_path(&self, node: u32, out: &mut Vec<ChannelId>) -> bool {
        out.clear();
        let mut u = node;
        while u != self.node {
            let Some((next, ch)) = self.toward[u as usize] else { return false };
            out.push(ch);
            u = next;
        }
        true
    }

    /// The channels the answer to `node` crosses, in order: the request's
    /// path backwards, each link in its other direction.
    pub fn answer_path(&self, node: u32, out: &mut Vec<ChannelId>) -> bool {
        let found = self.request_path(node, out);
        out.reverse();
        for ch in out.iter_mut() {
            *ch = ChannelId(ch.0 ^ 1);
        }
        found
    }
}
