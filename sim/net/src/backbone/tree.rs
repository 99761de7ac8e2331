//! The per-PoP shortest-path trees and the cache that holds them inside a
//! [`Backbone`](super::Backbone). Storage only: `paths` computes, reads
//! and invalidates the trees, and the graph owns the cache, so this module
//! needs neither.

/// Distance of a PoP the tree does not reach.
pub(super) const UNREACHED: u64 = u64::MAX;
/// Predecessor link of the root and of unreached PoPs.
pub(super) const NO_LINK: u32 = u32::MAX;

/// Shortest paths from one PoP to every PoP, indexed by PoP.
#[derive(Clone)]
pub(super) struct Tree {
    pub(super) dist_ns: Vec<u64>,
    /// The link into each PoP on its path from the root.
    pub(super) pred: Vec<u32>,
    pub(super) hops: Vec<u16>,
}

#[derive(Clone)]
pub(super) struct Cache {
    /// `trees[pop][mode]`, the mode as `paths` numbers it.
    pub(super) trees: Vec<[Option<Tree>; 2]>,
    /// Trees computed since the backbone was built.
    pub(super) computed: u64,
    /// Trees dropped by link state changes.
    pub(super) invalidated: u64,
}

impl Cache {
    pub(super) fn new(pops: usize) -> Self {
        Cache { trees: (0..pops).map(|_| [None, None]).collect(), computed: 0, invalidated: 0 }
    }
}
