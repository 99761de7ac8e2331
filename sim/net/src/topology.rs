//! The node/link graph. Shortest hop counts are computed once per source
//! with petgraph and cached, never per message.

use std::collections::BTreeMap;

use petgraph::graph::{NodeIndex, UnGraph};

use crate::channel::Channel;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// One direction of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChannelId(pub u32);

pub struct Topology {
    graph: UnGraph<(), ()>,
    channels: Vec<Channel>,
    /// (from, to) -> channel; a BTreeMap so any iteration is in key order.
    by_pair: BTreeMap<(NodeId, NodeId), ChannelId>,
    hops_cache: BTreeMap<NodeId, Vec<Option<u32>>>,
}

impl Topology {
    pub fn new(node_count: usize) -> Self {
        let mut graph = UnGraph::with_capacity(node_count, 0);
        for _ in 0..node_count {
            graph.add_node(());
        }
        Topology { graph, channels: Vec::new(), by_pair: BTreeMap::new(), hops_cache: BTreeMap::new() }
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Adds a full-duplex link as two channels, `a -> b` then `b -> a`.
    pub fn add_link(&mut self, a: NodeId, b: NodeId, a_to_b: Channel, b_to_a: Channel) -> (ChannelId, ChannelId) {
        assert!(a != b && !self.by_pair.contains_key(&(a, b)), "duplicate or self link");
        self.graph.add_edge(NodeIndex::new(a.0 as usize), NodeIndex::new(b.0 as usize), ());
        let ab = ChannelId(self.channels.len() as u32);
        self.channels.push(a_to_b);
        let ba = ChannelId(self.channels.len() as u32);
        self.channels.push(b_to_a);
        self.by_pair.insert((a, b), ab);
        self.by_pair.insert((b, a), ba);
        self.hops_cache.clear();
        (ab, ba)
    }

    pub fn channel_between(&self, from: NodeId, to: NodeId) -> Option<ChannelId> {
        self.by_pair.get(&(from, to)).copied()
    }

    pub fn channel_mut(&mut self, id: ChannelId) -> &mut Channel {
        &mut self.channels[id.0 as usize]
    }

    pub fn channel(&self, id: ChannelId) -> &Channel {
        &self.channels[id.0 as usize]
    }

    /// Both directions of the link between `a` and `b`.
    pub fn link_mut(&mut self, a: NodeId, b: NodeId) -> Option<[&mut Channel; 2]> {
        let (ab, ba) = (self.channel_between(a, b)?, self.channel_between(b, a)?);
        let [x, y] = self.channels.get_disjoint_mut([ab.0 as usize, ba.0 as usize]).ok()?;
        Some([x, y])
    }

    /// Fewest links from `src` to every node (`None` when unreachable),
    /// computed on first use and cached.
    pub fn hops_from(&mut self, src: NodeId) -> &[Option<u32>] {
        let graph = &self.graph;
        self.hops_cache.entry(src).or_insert_with(|| {
            let dist = petgraph::algo::dijkstra(graph, NodeIndex::new(src.0 as usize), None, |_| 1u32);
            (0..graph.node_count()).map(|i| dist.get(&NodeIndex::new(i)).copied()).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdnsim_engine::{SimDuration, stream};

    fn ch() -> Channel {
        Channel::new(1_000_000, 1 << 20, SimDuration::from_ms(1), crate::LossModel::NONE, stream(0, "t"))
    }

    #[test]
    fn hops_are_shortest_and_cached() {
        // 0 - 1 - 2 - 3 and a shortcut 0 - 3; 4 unconnected.
        let mut t = Topology::new(5);
        for (a, b) in [(0, 1), (1, 2), (2, 3), (0, 3)] {
            t.add_link(NodeId(a), NodeId(b), ch(), ch());
        }
        assert_eq!(t.hops_from(NodeId(0)), &[Some(0), Some(1), Some(2), Some(1), None]);
        assert_eq!(t.hops_from(NodeId(1)), &[Some(1), Some(0), Some(1), Some(2), None]);
        assert!(t.channel_between(NodeId(3), NodeId(0)).is_some());
        assert!(t.channel_between(NodeId(1), NodeId(3)).is_none());
    }
}
