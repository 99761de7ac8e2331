//! Cloud-edge control traffic: the bytes the control plane's list-watch
//! sends to edge nodes as objects change, under five delivery schemes
//! (docs/references.md, Cloud-edge control traffic).
//!
//! Two kinds of object:
//! - **pool scope**: every node watches the same copy, e.g. a service's
//!   EndpointSlice, watched by `watchers_per_node` components on each node
//!   (kube-proxy and CoreDNS: 2). Each change goes to every subscriber;
//! - **node scope**: only the node it concerns watches it (a pod's own
//!   object, watched by its kubelet): one copy per change.
//!
//! The schemes, for a pool-scope change of an object of pool `p`:
//! - `all`: every node, every watcher (plain Kubernetes);
//! - `node_reuse`: every node once (one list-watch per node shared by its
//!   components: OpenYurt's node-level reuse);
//! - `pool_shared`: every pool once (one list-watch per node pool, shared
//!   in it: OpenYurt's pool-level reuse);
//! - `filtered`: only the nodes of pool `p`, once each (the object
//!   filtered by node-pool label, as service topology does);
//! - `filtered_shared`: pool `p` once.
//!
//! Node-scope changes cost their size once in every scheme. Counts are
//! exact integers; the caller says what changed and when, and reads the
//! totals.

use crate::error::{EdgeError, invalid};

/// Bound on node pools.
pub const MAX_POOLS: usize = 1 << 16;

/// Sizes and watchers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListWatchConfig {
    /// Bytes of one pool-scope update (an EndpointSlice: 50 KB in
    /// OpenYurt's worked example).
    pub pool_object_bytes: u64,
    /// Bytes of one node-scope update (0: not counted).
    pub node_object_bytes: u64,
    /// Components on a node watching pool-scope objects.
    pub watchers_per_node: u32,
}

/// Bytes sent so far under each scheme (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListWatchBytes {
    /// Every node, every watcher.
    pub all: u128,
    /// Every node once.
    pub node_reuse: u128,
    /// Every pool once.
    pub pool_shared: u128,
    /// The object's own pool's nodes, once each.
    pub filtered: u128,
    /// The object's own pool once.
    pub filtered_shared: u128,
}

/// The traffic meter. See the module docs.
#[derive(Clone, Debug)]
pub struct ListWatch {
    cfg: ListWatchConfig,
    nodes: Vec<u64>,
    total_nodes: u64,
    pools_with_nodes: u64,
    bytes: ListWatchBytes,
    updates: u64,
}

impl ListWatch {
    /// A meter over `pools` node pools, all empty.
    pub fn new(cfg: ListWatchConfig, pools: usize) -> Result<Self, EdgeError> {
        if pools > MAX_POOLS {
            return Err(EdgeError::BoundExceeded { model: "listwatch", what: "pools", bound: MAX_POOLS });
        }
        if cfg.watchers_per_node == 0 {
            return Err(invalid("listwatch", "watchers_per_node", "at least 1", 0));
        }
        Ok(ListWatch { cfg, nodes: vec![0; pools], total_nodes: 0, pools_with_nodes: 0, bytes: ListWatchBytes::default(), updates: 0 })
    }

    /// Pool `pool` now has `count` nodes (machines).
    pub fn set_nodes(&mut self, pool: usize, count: u64) {
        let old = std::mem::replace(&mut self.nodes[pool], count);
        self.total_nodes = self.total_nodes - old + count;
        self.pools_with_nodes = self.pools_with_nodes - u64::from(old > 0) + u64::from(count > 0);
    }

    /// Nodes in `pool`.
    pub fn nodes(&self, pool: usize) -> u64 {
        self.nodes[pool]
    }

    /// A pool-scope object of `pool` changed.
    pub fn pool_update(&mut self, pool: usize) {
        let size = self.cfg.pool_object_bytes as u128;
        let b = &mut self.bytes;
        b.all += size * self.total_nodes as u128 * self.cfg.watchers_per_node as u128;
        b.node_reuse += size * self.total_nodes as u128;
        b.pool_shared += size * self.pools_with_nodes as u128;
        b.filtered += size * self.nodes[pool] as u128;
        b.filtered_shared += if self.nodes[pool] > 0 { size } else { 0 };
        self.updates += 1;
    }

    /// A node-scope object changed.
    pub fn node_update(&mut self) {
        let size = self.cfg.node_object_bytes as u128;
        let b = &mut self.bytes;
        for x in [&mut b.all, &mut b.node_reuse, &mut b.pool_shared, &mut b.filtered, &mut b.filtered_shared] {
            *x += size;
        }
    }

    /// Totals so far.
    pub fn bytes(&self) -> ListWatchBytes {
        self.bytes
    }

    /// Pool-scope updates so far.
    pub fn pool_updates(&self) -> u64 {
        self.updates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: u64 = 1_000;

    /// OpenYurt's worked example: a DaemonSet upgrade on 1 000 nodes,
    /// each of its 1 000 pod replacements one EndpointSlice update of
    /// 50 KB, sent to every node: 1 000 x 1 000 x 50 KB = 50 GB.
    #[test]
    fn a_daemonset_upgrade_on_1000_nodes_sends_50_gb_and_pools_share_it() {
        // 100 pools of 10 nodes.
        let cfg = ListWatchConfig { pool_object_bytes: 50 * KB, node_object_bytes: 0, watchers_per_node: 1 };
        let mut lw = ListWatch::new(cfg, 100).unwrap();
        for p in 0..100 {
            lw.set_nodes(p, 10);
        }
        for u in 0..1_000 {
            lw.pool_update(u / 10);
        }
        let b = lw.bytes();
        assert_eq!(b.all, 50_000_000_000);
        assert_eq!(b.node_reuse, b.all, "one watcher: nothing to reuse on a node");
        // One copy per pool of 10 nodes: a tenth, the 90% cut.
        assert_eq!(b.pool_shared, 5_000_000_000);
        // Filtered to the object's own pool of 10: 1 000 x 10 x 50 KB.
        assert_eq!(b.filtered, 500_000_000);
        assert_eq!(b.filtered_shared, 50_000_000);
    }

    #[test]
    fn two_watchers_a_node_are_halved_by_node_level_reuse() {
        let cfg = ListWatchConfig { pool_object_bytes: 2 * KB, node_object_bytes: 500, watchers_per_node: 2 };
        let mut lw = ListWatch::new(cfg, 2).unwrap();
        lw.set_nodes(0, 3);
        lw.set_nodes(1, 0);
        lw.pool_update(0);
        lw.node_update();
        let b = lw.bytes();
        assert_eq!((b.all, b.node_reuse), (2_000 * 3 * 2 + 500, 2_000 * 3 + 500));
        assert_eq!(b.pool_shared, 2_000 + 500, "an empty pool gets nothing");
        lw.set_nodes(0, 1);
        lw.pool_update(1);
        assert_eq!(lw.bytes().filtered_shared, 2_000 + 500, "pool 1 has no node to send to");
        assert_eq!(lw.pool_updates(), 2);
    }
}
