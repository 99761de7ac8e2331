//! The overlay graph: IDC nodes with their place (region, area, ISPs), tier,
//! tree parent and price, and the overlay links between them. Built once and
//! then read-only; link state (scores, up/down) lives in the router.
//!
//! Adjacency is a CSR array sorted by neighbour id, so every search visits
//! neighbours in the same order on every run.

use std::collections::BTreeSet;

use crate::error::{ParamError, require};

/// Most nodes a graph may have (checked when it is built).
pub const MAX_NODES: usize = 1 << 20;
/// Most links a graph may have (checked when it is built).
pub const MAX_LINKS: usize = 1 << 24;
/// ISPs are bits of a `u32` mask.
pub const MAX_ISPS: u32 = 32;

/// The level of a node in the three-level structure of the tree (the pools
/// keep the levels; the mesh ignores them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Multi-line BGP source (origin) node.
    Source,
    /// Regional centre of an area on one ISP.
    Centre,
    /// Edge node, where viewers and broadcasters connect.
    Edge,
}

/// One overlay node (an IDC).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInfo {
    /// Province or region, for the world's bookkeeping and metrics.
    pub region: u16,
    /// Area (North, East, ...): with the ISPs, the node's pool.
    pub area: u16,
    /// Bit `i` set when the node is on ISP `i`; more than one bit is a
    /// multi-line (BGP) node, the only kind that may carry a stream from one
    /// ISP to another in the mesh.
    pub isps: u32,
    /// Level in the tree and pools.
    pub tier: Tier,
    /// The node's parent in the static tree; `None` for a root.
    pub tree_parent: Option<u32>,
    /// Bandwidth price per GB the node sends (currency of the data set).
    pub price_per_gb: f64,
}

impl NodeInfo {
    /// On more than one ISP (multi-line BGP).
    pub fn is_multi_line(&self) -> bool {
        self.isps.count_ones() > 1
    }
}

/// One full-duplex overlay link.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkInfo {
    /// One end (a node index).
    pub a: u32,
    /// The other end.
    pub b: u32,
    /// Base one-way delay (the score function's prior for the link before
    /// any observation).
    pub delay_us: u32,
    /// The link crosses from one ISP to another (an interconnect): costs
    /// `cost_per_interconnect`, and the mesh never uses it.
    pub interconnect: bool,
}

/// One direction of a link, as seen from a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arc {
    /// The node at the other end.
    pub to: u32,
    /// The link's index.
    pub link: u32,
}

/// The validated overlay graph. Build with [`Graph::new`].
#[derive(Clone, Debug)]
pub struct Graph {
    nodes: Vec<NodeInfo>,
    links: Vec<LinkInfo>,
    /// Arcs of node `u` are `arcs[offsets[u]..offsets[u + 1]]`, by `to`.
    offsets: Vec<u32>,
    arcs: Vec<Arc>,
}

impl Graph {
    /// Checks every index, price and tree relation and builds the adjacency.
    /// Errors name the field: `links[3].b`, `nodes[7].tree_parent`.
    pub fn new(nodes: Vec<NodeInfo>, links: Vec<LinkInfo>) -> Result<Graph, ParamError> {
        let n = nodes.len();
        require((1..=MAX_NODES).contains(&n), "nodes", &format!("1 to {MAX_NODES} nodes"), n)?;
        require(links.len() <= MAX_LINKS, "links", &format!("at most {MAX_LINKS} links"), links.len())?;
        for (i, node) in nodes.iter().enumerate() {
            require(node.isps != 0, &format!("nodes[{i}].isps"), "at least one ISP bit", 0)?;
            let price = node.price_per_gb;
            require(
                price.is_finite() && price >= 0.0,
                &format!("nodes[{i}].price_per_gb"),
                "a non-negative price",
                price,
            )?;
            if let Some(p) = node.tree_parent {
                let f = format!("nodes[{i}].tree_parent");
                require((p as usize) < n, &f, &format!("a node index below {n}"), p)?;
                require(p as usize != i, &f, "another node (a node cannot be its own parent)", p)?;
            }
        }
        // Tree cycles: walk up from every node, marking finished chains.
        let mut state = vec![0u8; n]; // 0 new, 1 on the current walk, 2 known to reach a root
        for start in 0..n {
            let mut walk = Vec::new();
            let mut u = start;
            while state[u] == 0 {
                state[u] = 1;
                walk.push(u);
                match nodes[u].tree_parent {
                    Some(p) => u = p as usize,
                    None => break,
                }
            }
            if state[u] == 1 && nodes[u].tree_parent.is_some() {
                return Err(ParamError::new(
                    format!("nodes[{u}].tree_parent"),
                    "a tree (parents lead to a root)",
                    "a cycle",
                ));
            }
            for w in walk {
                state[w] = 2;
            }
        }

        let mut pairs = std::collections::BTreeMap::new();
        for (i, l) in links.iter().enumerate() {
            require((l.a as usize) < n, &format!("links[{i}].a"), &format!("a node index below {n}"), l.a)?;
            require((l.b as usize) < n, &format!("links[{i}].b"), &format!("a node index below {n}"), l.b)?;
            require(l.a != l.b, &format!("links[{i}].b"), "a node other than `a` (no self loops)", l.b)?;
            if let Some(first) = pairs.insert((l.a.min(l.b), l.a.max(l.b)), i) {
                return Err(ParamError::new(
                    format!("links[{i}]"),
                    "one link per pair of nodes",
                    format!("a second link (first: links[{first}])"),
                ));
            }
        }
        for (i, node) in nodes.iter().enumerate() {
            if let Some(p) = node.tree_parent {
                let key = ((i as u32).min(p), (i as u32).max(p));
                require(
                    pairs.contains_key(&key),
                    &format!("nodes[{i}].tree_parent"),
                    "a parent joined to the node by a link",
                    p,
                )?;
            }
        }

        let mut degree = vec![0u32; n + 1];
        for l in &links {
            degree[l.a as usize] += 1;
            degree[l.b as usize] += 1;
        }
        let mut offsets = vec![0u32; n + 1];
        for u in 0..n {
            offsets[u + 1] = offsets[u] + degree[u];
        }
        let mut fill = offsets.clone();
        let mut arcs = vec![Arc { to: 0, link: 0 }; 2 * links.len()];
        for (i, l) in links.iter().enumerate() {
            for (u, v) in [(l.a, l.b), (l.b, l.a)] {
                arcs[fill[u as usize] as usize] = Arc { to: v, link: i as u32 };
                fill[u as usize] += 1;
            }
        }
        for u in 0..n {
            arcs[offsets[u] as usize..offsets[u + 1] as usize].sort_unstable_by_key(|a| a.to);
        }
        Ok(Graph { nodes, links, offsets, arcs })
    }

    /// Number of nodes; node ids are `0..node_count()`.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of links; link ids are `0..link_count()`.
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// Every node, by id.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// Every link, by id.
    pub fn links(&self) -> &[LinkInfo] {
        &self.links
    }

    /// Node `u` (panics when out of range).
    pub fn node(&self, u: u32) -> &NodeInfo {
        &self.nodes[u as usize]
    }

    /// Link `l` (panics when out of range).
    pub fn link(&self, l: u32) -> &LinkInfo {
        &self.links[l as usize]
    }

    /// The arcs out of `u`, sorted by neighbour id.
    pub fn arcs(&self, u: u32) -> &[Arc] {
        &self.arcs[self.offsets[u as usize] as usize..self.offsets[u as usize + 1] as usize]
    }

    /// CSR offsets: node `u`'s arcs are positions `offsets[u]..offsets[u + 1]`.
    pub(crate) fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// The link joining `a` and `b`, if any (binary search in `a`'s arcs).
    pub fn find_link(&self, a: u32, b: u32) -> Option<u32> {
        let arcs = self.arcs(a);
        arcs.binary_search_by_key(&b, |x| x.to).ok().map(|k| arcs[k].link)
    }

    /// Towards `root` over the lowest-delay paths (base delays, every link,
    /// interconnects included): per node, the arc of its first hop, `None`
    /// for the root and for nodes that cannot reach it. Equal-delay paths
    /// are settled by node id (the heap's order), so the tree is the same
    /// on every run. The world sends route-service messages over it.
    pub fn delay_tree(&self, root: u32) -> Vec<Option<Arc>> {
        use std::cmp::Reverse;
        let n = self.node_count();
        let (mut dist, mut toward) = (vec![u64::MAX; n], vec![None; n]);
        let mut heap = std::collections::BinaryHeap::new();
        dist[root as usize] = 0;
        heap.push(Reverse((0u64, root)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u as usize] {
                continue;
            }
            for a in self.arcs(u) {
                let via = d + self.links[a.link as usize].delay_us as u64;
                if via < dist[a.to as usize] {
                    dist[a.to as usize] = via;
                    toward[a.to as usize] = Some(Arc { to: u, link: a.link });
                    heap.push(Reverse((via, a.to)));
                }
            }
        }
        toward
    }

    /// The pool of a node: its (area, ISP mask). Pools group the nodes that
    /// the pool design treats as interchangeable.
    pub fn pool(&self, u: u32) -> (u16, u32) {
        let n = self.node(u);
        (n.area, n.isps)
    }

    /// `u` and its tree ancestors, up to and including the root.
    pub fn tree_chain(&self, u: u32) -> Vec<u32> {
        let mut chain = vec![u];
        let mut x = u;
        while let Some(p) = self.nodes[x as usize].tree_parent {
            chain.push(p);
            x = p;
        }
        chain
    }

    /// A deterministic synthetic backbone of `nodes` nodes (at least 16) for
    /// tests and benches; the same (nodes, seed) always gives the same graph.
    ///
    /// Shape: 3 ISPs; regions of about 25 nodes on a square grid, four
    /// regions per area. Nodes 0-2 are multi-line sources (node 0 the tree
    /// root, 1 and 2 its children); then one centre per (area, ISP) in the
    /// area's first region, a child of a source; the rest are edges (15%
    /// multi-line) whose parent is their area's centre on their first ISP.
    /// Links: the tree links, sources to each other and to every centre,
    /// centres to the same ISP's centres, centres of one area to each other
    /// (interconnects), every edge to its area's centre on each of its
    /// ISPs, and each edge to up to 4 random nodes of its region and 2 of
    /// the next region. Delay is 0.2 ms plus 7.5 us per km of grid distance,
    /// plus 10 ms across an interconnect.
    pub fn synthetic(nodes: u32, seed: u64) -> Result<Graph, ParamError> {
        let n = nodes as usize;
        require((16..=MAX_NODES).contains(&n), "nodes", &format!("16 to {MAX_NODES} nodes"), n)?;
        const ISPS: u32 = 3;
        let mut rng = SplitMix::new(seed);
        let regions = (n / 25).max(3);
        let areas = regions.div_ceil(4);
        let side = (regions as f64).sqrt().ceil() as usize;
        let region_xy = |r: usize| ((r % side) as f64 * 300.0, (r / side) as f64 * 300.0);
        let area_of = |r: usize| r / 4;
        let first_region = |a: usize| a * 4;

        let mut info = Vec::with_capacity(n);
        for k in 0..3u32 {
            let region = (k as usize * regions / 3) as u16;
            info.push(NodeInfo {
                region,
                area: area_of(region as usize) as u16,
                isps: (1 << ISPS) - 1,
                tier: Tier::Source,
                tree_parent: if k == 0 { None } else { Some(0) },
                price_per_gb: 0.8,
            });
        }
        let centre_id = |a: usize, isp: u32| 3 + (a * ISPS as usize) as u32 + isp;
        let centres = (areas * ISPS as usize).min(n - 3);
        for c in 0..centres {
            let (a, isp) = (c / ISPS as usize, c as u32 % ISPS);
            let region = first_region(a) as u16;
            info.push(NodeInfo {
                region,
                area: a as u16,
                isps: 1 << isp,
                tier: Tier::Centre,
                tree_parent: Some((a % 3) as u32),
                price_per_gb: 0.3,
            });
        }
        let mut by_region: Vec<Vec<u32>> = vec![Vec::new(); regions];
        for (i, node) in info.iter().enumerate() {
            by_region[node.region as usize].push(i as u32);
        }
        while info.len() < n {
            let region = rng.below(regions as u64) as usize;
            let a = area_of(region);
            let isps: u32 = if rng.unit() < 0.15 {
                let drop = rng.below(4) as u32; // 3 = keep all three
                ((1 << ISPS) - 1) & !(if drop < ISPS { 1 << drop } else { 0 })
            } else {
                1 << rng.below(ISPS as u64)
            };
            let first_isp = isps.trailing_zeros();
            let parent = centre_id(a, first_isp);
            let parent = if (parent as usize) < 3 + centres { parent } else { a as u32 % 3 };
            let price = 0.05 + 0.55 * rng.unit();
            by_region[region].push(info.len() as u32);
            info.push(NodeInfo {
                region: region as u16,
                area: a as u16,
                isps,
                tier: Tier::Edge,
                tree_parent: Some(parent),
                price_per_gb: price,
            });
        }

        let mut pairs = BTreeSet::new();
        let mut add = |a: u32, b: u32| {
            if a != b {
                pairs.insert((a.min(b), a.max(b)));
            }
        };
        for (i, node) in info.iter().enumerate() {
            if let Some(p) = node.tree_parent {
                add(i as u32, p);
            }
        }
        for s in 0..3 {
            for t in 0..3 {
                add(s, t);
            }
            for c in 0..centres as u32 {
                add(s, 3 + c);
            }
        }
        for c in 0..centres as u32 {
            for d in c + 1..centres as u32 {
                let same_isp = c % ISPS == d % ISPS;
                let same_area = c / ISPS == d / ISPS;
                if same_isp || same_area {
                    add(3 + c, 3 + d);
                }
            }
        }
        for (i, node) in info.iter().enumerate().skip(3 + centres) {
            let a = node.area as usize;
            for isp in 0..ISPS {
                let c = centre_id(a, isp);
                if node.isps & (1 << isp) != 0 && (c as usize) < 3 + centres {
                    add(i as u32, c);
                }
            }
            let here = &by_region[node.region as usize];
            for _ in 0..4 {
                add(i as u32, here[rng.below(here.len() as u64) as usize]);
            }
            let next = &by_region[(node.region as usize + 1) % regions];
            for _ in 0..2 {
                if !next.is_empty() {
                    add(i as u32, next[rng.below(next.len() as u64) as usize]);
                }
            }
        }
        let links = pairs
            .into_iter()
            .map(|(a, b)| {
                let (na, nb) = (&info[a as usize], &info[b as usize]);
                let (xa, ya) = region_xy(na.region as usize);
                let (xb, yb) = region_xy(nb.region as usize);
                let (dx, dy) = (xa - xb, ya - yb);
                let km = (dx * dx + dy * dy).sqrt();
                let interconnect = na.isps & nb.isps == 0;
                let delay_us = 200.0 + 7.5 * km + if interconnect { 10_000.0 } else { 0.0 };
                LinkInfo { a, b, delay_us: delay_us.round() as u32, interconnect }
            })
            .collect();
        Graph::new(info, links)
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): the synthetic generator's own
/// small PRNG, seeded by the caller, so that the graph never depends on a
/// global or platform generator.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n) for n >= 1 (multiply-shift; the bias is below
    /// 2^-32 for the sizes used here).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(parent: Option<u32>) -> NodeInfo {
        NodeInfo { region: 0, area: 0, isps: 1, tier: Tier::Edge, tree_parent: parent, price_per_gb: 0.1 }
    }

    fn link(a: u32, b: u32) -> LinkInfo {
        LinkInfo { a, b, delay_us: 1000, interconnect: false }
    }

    #[test]
    fn errors_name_the_field() {
        let e = Graph::new(vec![node(None), node(None)], vec![link(0, 2)]).unwrap_err();
        assert_eq!(e.field, "links[0].b");
        let e = Graph::new(vec![node(None), node(None)], vec![link(1, 1)]).unwrap_err();
        assert_eq!(e.field, "links[0].b");
        let e = Graph::new(vec![node(None), node(None)], vec![link(0, 1), link(1, 0)]).unwrap_err();
        assert_eq!(e.field, "links[1]");
        assert!(e.found.contains("links[0]"));
        let e = Graph::new(vec![node(Some(1)), node(Some(0))], vec![link(0, 1)]).unwrap_err();
        assert!(e.found.contains("cycle"), "{e}");
        let e = Graph::new(vec![node(None), node(Some(0)), node(None)], vec![link(0, 2)]).unwrap_err();
        assert_eq!(e.field, "nodes[1].tree_parent");
        let mut bad = node(None);
        bad.price_per_gb = f64::NAN;
        assert_eq!(Graph::new(vec![bad], vec![]).unwrap_err().field, "nodes[0].price_per_gb");
        let mut bad = node(None);
        bad.isps = 0;
        assert_eq!(Graph::new(vec![bad], vec![]).unwrap_err().field, "nodes[0].isps");
    }

    #[test]
    fn adjacency_is_sorted_and_symmetric() {
        let g =
            Graph::new(vec![node(None), node(None), node(None), node(None)], vec![link(3, 0), link(0, 2), link(1, 0)])
                .unwrap();
        let to: Vec<u32> = g.arcs(0).iter().map(|a| a.to).collect();
        assert_eq!(to, vec![1, 2, 3]);
        assert_eq!(g.find_link(0, 3), Some(0));
        assert_eq!(g.find_link(3, 0), Some(0));
        assert_eq!(g.find_link(1, 2), None);
    }

    #[test]
    fn delay_tree_takes_the_lowest_delay_path_and_leaves_islands_out() {
        let l = |a, b, delay_us| LinkInfo { a, b, delay_us, interconnect: b == 3 };
        // 0 -3ms- 1 -3ms- 2 and 0 -5ms- 2: node 2 goes direct (5 < 6);
        // 3 hangs off 2 over an interconnect; 4 is alone.
        let g = Graph::new(vec![node(None); 5], vec![l(0, 1, 3000), l(1, 2, 3000), l(0, 2, 5000), l(2, 3, 1000)]).unwrap();
        let t = g.delay_tree(0);
        let hop = |u: usize| t[u].map(|a| (a.to, a.link));
        assert_eq!(hop(0), None);
        assert_eq!(hop(1), Some((0, 0)));
        assert_eq!(hop(2), Some((0, 2)));
        assert_eq!(hop(3), Some((2, 3)));
        assert_eq!(hop(4), None, "no path");
    }

    #[test]
    fn synthetic_is_deterministic_and_valid() {
        let a = Graph::synthetic(400, 9).unwrap();
        let b = Graph::synthetic(400, 9).unwrap();
        assert_eq!(a.links(), b.links());
        assert_eq!(a.nodes(), b.nodes());
        assert_ne!(a.links(), Graph::synthetic(400, 10).unwrap().links());
        assert_eq!(a.node_count(), 400);
        assert_eq!(a.nodes().iter().filter(|n| n.tree_parent.is_none()).count(), 1);
        assert!(a.links().iter().any(|l| l.interconnect));
        // Every node reaches the root through tree links.
        for u in 0..400 {
            assert_eq!(*a.tree_chain(u).last().unwrap(), 0);
        }
    }
}
