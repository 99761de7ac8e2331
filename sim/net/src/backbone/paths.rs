//! Shortest paths: per-PoP trees computed with petgraph's Dijkstra, cached,
//! combined per query; link state changes and what they invalidate. The
//! module documentation of [`super`] gives the rule and the costs.

use petgraph::algo::dijkstra;
use petgraph::graph::{EdgeReference, NodeIndex};
use petgraph::visit::EdgeFiltered;

use super::graph::{Backbone, LinkKind};
use super::ids::{Endpoint, GroupId, IspId, LinkId, PopId};
use super::tree::{NO_LINK, Tree, UNREACHED};

/// Which links a tree may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// The root PoP's own ISP's backbone links only.
    OwnIsp = 0,
    /// Every backbone link and interconnect.
    Any = 1,
}

const MODES: [Mode; 2] = [Mode::OwnIsp, Mode::Any];

/// What the path cache holds and has done, for tests and cost reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheStats {
    pub trees_cached: usize,
    /// Dijkstra runs since the backbone was built.
    pub trees_computed: u64,
    /// Trees dropped by link state changes.
    pub trees_invalidated: u64,
}

/// A path between two endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// Links in order from the source, access links included.
    pub links: Vec<LinkId>,
    /// One-way latency: the sum of the links' latencies.
    pub latency_ns: u64,
    /// The ISP whose backbone carries the whole path when the same-ISP rule
    /// chose it; `None` for a path that crosses interconnects (or is empty).
    pub isp: Option<IspId>,
    /// Interconnect links on the path.
    pub interconnects: u32,
}

impl Path {
    pub fn hops(&self) -> usize {
        self.links.len()
    }
}

/// One way into or out of the backbone: a PoP, the access link to it (none
/// when the endpoint is the PoP itself) and that link's latency.
#[derive(Clone, Copy)]
struct Entry {
    pop: PopId,
    link: Option<LinkId>,
    latency_ns: u64,
}

#[derive(Clone, Copy)]
struct Choice {
    latency_ns: u64,
    hops: u32,
    from: Entry,
    to: Entry,
    mode: Mode,
}

impl Backbone {
    /// Usable entries of an endpoint, in attachment (ISP) order; `k` past
    /// the end gives `None`, a down access link `Some(None)`.
    fn entry(&self, e: Endpoint, k: usize) -> Option<Option<Entry>> {
        match e {
            Endpoint::Pop(p) => (k == 0).then_some(Some(Entry { pop: p, link: None, latency_ns: 0 })),
            Endpoint::Idc(d) => self.idcs[d.index()].attachments.get(k).map(|a| {
                self.up[a.link.index()].then_some(Entry { pop: a.pop, link: Some(a.link), latency_ns: a.latency_ns })
            }),
        }
    }

    fn entries(&self, e: Endpoint) -> impl Iterator<Item = Entry> + '_ {
        (0..).map_while(move |k| self.entry(e, k)).flatten()
    }

    fn allows(&self, root_isp: IspId, mode: Mode, link: LinkId) -> bool {
        match (self.links[link.index()].kind, mode) {
            (LinkKind::Access { .. }, _) => false,
            (LinkKind::Backbone { .. }, Mode::Any) | (LinkKind::Interconnect { .. }, Mode::Any) => true,
            (LinkKind::Backbone { isp }, Mode::OwnIsp) => isp == root_isp,
            (LinkKind::Interconnect { .. }, Mode::OwnIsp) => false,
        }
    }

    fn other_pop(&self, link: LinkId, pop: usize) -> usize {
        match self.links[link.index()].other(Endpoint::Pop(PopId(pop as u32))) {
            Endpoint::Pop(p) => p.index(),
            Endpoint::Idc(_) => unreachable!("trees hold backbone and interconnect links only"),
        }
    }

    fn compute_tree(&self, root: usize, mode: Mode) -> Tree {
        let root_isp = self.pops[root].isp;
        let usable = |l: LinkId| self.up[l.index()] && self.allows(root_isp, mode, l);
        let filtered = EdgeFiltered::from_fn(&self.graph, |e: EdgeReference<'_, LinkId>| usable(*e.weight()));
        let scores = dijkstra(&filtered, NodeIndex::new(root), None, |e| self.links[e.weight().index()].latency_ns);
        let p = self.pops.len();
        let dist_ns: Vec<u64> =
            (0..p).map(|v| scores.get(&NodeIndex::new(v)).copied().unwrap_or(UNREACHED)).collect();
        // Predecessors from the distances rather than from the search order,
        // so ties break the same way whatever the heap and hash orders:
        // among tight links into v, fewest hops behind, then lowest link id.
        // Weights are >= 1 ns, so a tight neighbour is strictly nearer and
        // already has its hop count when v is visited in distance order.
        let mut order: Vec<usize> = (0..p).filter(|&v| dist_ns[v] != UNREACHED).collect();
        order.sort_unstable_by_key(|&v| (dist_ns[v], v));
        let mut pred = vec![NO_LINK; p];
        let mut hops = vec![0u16; p];
        for &v in order.iter().filter(|&&v| v != root) {
            let mut best: Option<(u16, u32)> = None;
            for e in self.graph.edges(NodeIndex::new(v)) {
                let l = *e.weight();
                if !usable(l) {
                    continue;
                }
                let u = self.other_pop(l, v);
                let du = dist_ns[u];
                if du != UNREACHED && du + self.links[l.index()].latency_ns == dist_ns[v] {
                    let cand = (hops[u], l.0);
                    if best.is_none_or(|b| cand < b) {
                        best = Some(cand);
                    }
                }
            }
            let (h, l) = best.expect("a reached PoP other than the root has a tight link");
            pred[v] = l;
            hops[v] = h + 1;
        }
        Tree { dist_ns, pred, hops }
    }

    fn ensure_tree(&mut self, pop: PopId, mode: Mode) {
        if self.cache.trees[pop.index()][mode as usize].is_none() {
            let tree = self.compute_tree(pop.index(), mode);
            self.cache.trees[pop.index()][mode as usize] = Some(tree);
            self.cache.computed += 1;
        }
    }

    fn tree(&self, pop: PopId, mode: Mode) -> &Tree {
        self.cache.trees[pop.index()][mode as usize].as_ref().expect("ensured before use")
    }

    /// The best route under `mode`, computing the trees it needs.
    fn choose(&mut self, from: Endpoint, to: Endpoint, mode: Mode) -> Option<Choice> {
        // By index rather than collected: no allocation per query.
        let mut k = 0;
        while let Some(entry) = self.entry(from, k) {
            k += 1;
            let Some(s) = entry else { continue };
            let isp = self.pops[s.pop.index()].isp;
            if mode == Mode::Any || self.entries(to).any(|t| self.pops[t.pop.index()].isp == isp) {
                self.ensure_tree(s.pop, mode);
            }
        }
        let mut best: Option<Choice> = None;
        for s in self.entries(from) {
            for t in self.entries(to) {
                if mode == Mode::OwnIsp && self.pops[s.pop.index()].isp != self.pops[t.pop.index()].isp {
                    continue;
                }
                let tree = self.tree(s.pop, mode);
                let d = tree.dist_ns[t.pop.index()];
                if d == UNREACHED {
                    continue;
                }
                let latency_ns = s.latency_ns + d + t.latency_ns;
                let hops = tree.hops[t.pop.index()] as u32 + s.link.is_some() as u32 + t.link.is_some() as u32;
                if best.is_none_or(|b| (latency_ns, hops) < (b.latency_ns, b.hops)) {
                    best = Some(Choice { latency_ns, hops, from: s, to: t, mode });
                }
            }
        }
        best
    }

    fn best(&mut self, from: Endpoint, to: Endpoint) -> Option<Choice> {
        self.choose(from, to, Mode::OwnIsp).or_else(|| self.choose(from, to, Mode::Any))
    }

    /// The shortest allowed path from `from` to `to` (see the module
    /// documentation for the same-ISP rule), or `None` when every path is
    /// cut. The trees it needs are computed once and cached.
    pub fn path(&mut self, from: Endpoint, to: Endpoint) -> Option<Path> {
        if from == to {
            return Some(Path { links: Vec::new(), latency_ns: 0, isp: None, interconnects: 0 });
        }
        let c = self.best(from, to)?;
        let tree = self.tree(c.from.pop, c.mode);
        let mut links = Vec::with_capacity(c.hops as usize);
        links.extend(c.to.link);
        let (root, mut v) = (c.from.pop.index(), c.to.pop.index());
        while v != root {
            let l = LinkId(tree.pred[v]);
            links.push(l);
            v = self.other_pop(l, v);
        }
        links.extend(c.from.link);
        links.reverse();
        let interconnects = links.iter().filter(|l| self.links[l.index()].is_interconnect()).count() as u32;
        let isp = (c.mode == Mode::OwnIsp).then_some(self.pops[root].isp);
        Some(Path { links, latency_ns: c.latency_ns, isp, interconnects })
    }

    /// One-way latency of [`Backbone::path`], without building the hop list.
    pub fn path_latency_ns(&mut self, from: Endpoint, to: Endpoint) -> Option<u64> {
        if from == to {
            return Some(0);
        }
        self.best(from, to).map(|c| c.latency_ns)
    }

    /// Computes every tree now, so later queries never run a search (for
    /// a run that wants its set-up cost up front).
    pub fn warm_cache(&mut self) {
        for p in 0..self.pops.len() {
            for mode in MODES {
                self.ensure_tree(PopId(p as u32), mode);
            }
        }
    }

    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            trees_cached: self.cache.trees.iter().flatten().filter(|t| t.is_some()).count(),
            trees_computed: self.cache.computed,
            trees_invalidated: self.cache.invalidated,
        }
    }

    /// Whether changing `link` to `up` can alter `tree` (rooted at `root`).
    fn alters(&self, tree: &Tree, root: usize, mode: Mode, link: LinkId, up: bool) -> bool {
        if !self.allows(self.pops[root].isp, mode, link) {
            return false;
        }
        let l = &self.links[link.index()];
        let (Endpoint::Pop(a), Endpoint::Pop(b)) = (l.a, l.b) else {
            return false;
        };
        let (a, b) = (a.index(), b.index());
        if up {
            let (da, db) = (tree.dist_ns[a], tree.dist_ns[b]);
            // Tight or shorter either way: distances or tie-breaks may
            // change. Otherwise the tree is already the new graph's tree.
            (da != UNREACHED || db != UNREACHED)
                && (da.saturating_add(l.latency_ns) <= db || db.saturating_add(l.latency_ns) <= da)
        } else {
            tree.pred[a] == link.0 || tree.pred[b] == link.0
        }
    }

    /// Marks `links` up or down and drops exactly the cached trees that the
    /// change can alter. Returns how many links changed state.
    pub fn set_links_up(&mut self, links: &[LinkId], up: bool) -> usize {
        let mut changed: Vec<LinkId> = links.iter().copied().filter(|l| self.up[l.index()] != up).collect();
        changed.sort_unstable();
        changed.dedup();
        for l in &changed {
            self.up[l.index()] = up;
        }
        let mut trees = std::mem::take(&mut self.cache.trees);
        for (root, slots) in trees.iter_mut().enumerate() {
            for mode in MODES {
                let slot = &mut slots[mode as usize];
                if slot.as_ref().is_some_and(|t| changed.iter().any(|&l| self.alters(t, root, mode, l, up))) {
                    *slot = None;
                    self.cache.invalidated += 1;
                }
            }
        }
        self.cache.trees = trees;
        changed.len()
    }

    pub fn set_link_up(&mut self, link: LinkId, up: bool) -> bool {
        self.set_links_up(&[link], up) == 1
    }

    /// Takes a whole shared-risk group down (or brings it back up) at once.
    pub fn set_group_up(&mut self, group: GroupId, up: bool) -> usize {
        let links = self.group_links(group).to_vec();
        self.set_links_up(&links, up)
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::loss::LossModel;

    /// ISP 0 in regions 0..4 on a line of PoPs 0-1-2-3 plus a long link
    /// 0-3; ISP 1 in regions 0 and 3 with a direct link; interconnect at
    /// region 0. IDC 0 on ISP 0 at region 0, IDC 1 on ISP 1 at region 3,
    /// IDC 2 multi-line at region 3.
    fn small() -> Backbone {
        let pop = |region, isp| PopSpec { region, isp, lat_deg: 30.0, lon_deg: 100.0 + 2.0 * region as f64 };
        let link = |a, b, ms: u64, groups: &[&str]| LinkSpec {
            a,
            b,
            capacity_bps: 1_000_000_000,
            loss: LossModel::NONE,
            route_inflation: 1.5,
            latency_ns: Some(ms * 1_000_000),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        };
        let idc = |name: &str, region, pops: Vec<usize>| IdcSpec {
            name: name.into(),
            region,
            pops,
            egress_bps: 10_000_000_000,
            price_per_gb: 0.1,
            access_latency_ns: 500_000,
        };
        Backbone::new(BackboneInput {
            propagation_km_per_ms: 200.0,
            min_latency_ns: 100_000,
            interconnect_route_inflation: 1.5,
            isps: vec!["a".into(), "b".into()],
            regions: (0..4).map(|i| format!("r{i}")).collect(),
            pops: vec![pop(0, 0), pop(1, 0), pop(2, 0), pop(3, 0), pop(0, 1), pop(3, 1)],
            links: vec![
                link(0, 1, 2, &["c"]),
                link(1, 2, 2, &["c"]),
                link(2, 3, 2, &[]),
                link(0, 3, 10, &[]),
                link(4, 5, 3, &[]),
            ],
            interconnects: vec![InterconnectSpec {
                name: "x".into(),
                pops: vec![0, 4],
                extra_latency_ns: 5_000_000,
                capacity_bps: 1_000_000_000,
                loss: LossModel::NONE,
                groups: vec![],
            }],
            idcs: vec![idc("d0", 0, vec![0]), idc("d1", 3, vec![5]), idc("d2", 3, vec![5, 3])],
        })
        .unwrap()
    }

    const D0: Endpoint = Endpoint::Idc(IdcId(0));
    const D1: Endpoint = Endpoint::Idc(IdcId(1));
    const D2: Endpoint = Endpoint::Idc(IdcId(2));

    #[test]
    fn same_isp_path_is_preferred_and_trees_are_cached() {
        let mut b = small();
        // d0 (ISP a) -> d2 (a and b): on ISP a, 0-1-2-3 = 6 ms + 2 x 0.5.
        let p = b.path(D0, D2).unwrap();
        assert_eq!(p.latency_ns, 7_000_000);
        assert_eq!(p.isp, Some(IspId(0)));
        assert_eq!(p.interconnects, 0);
        assert_eq!(p.hops(), 5);
        let computed = b.cache_stats().trees_computed;
        for _ in 0..10 {
            b.path(D0, D2).unwrap();
        }
        assert_eq!(b.cache_stats().trees_computed, computed, "no search per query");
    }

    #[test]
    fn cross_isp_path_crosses_one_interconnect() {
        let mut b = small();
        // d0 (a) -> d1 (b): via the interconnect at region 0 (0.1 ms
        // propagation floor + 5 ms) then b's 3 ms link.
        let p = b.path(D0, D1).unwrap();
        assert_eq!(p.isp, None);
        assert_eq!(p.interconnects, 1);
        assert_eq!(p.latency_ns, 500_000 + 5_100_000 + 3_000_000 + 500_000);
    }

    #[test]
    fn corridor_down_reroutes_and_up_restores() {
        let mut b = small();
        let before = b.path(D0, D2).unwrap();
        let g = b.group_id("c").unwrap();
        assert_eq!(b.set_group_up(g, false), 2);
        let during = b.path(D0, D2).unwrap();
        assert!(during.latency_ns > before.latency_ns);
        assert!(during.links.iter().all(|&l| b.is_up(l)));
        // Still on ISP a: the 10 ms link, not the interconnect.
        assert_eq!(during.isp, Some(IspId(0)));
        assert_eq!(during.latency_ns, 11_000_000);
        b.set_group_up(g, true);
        assert_eq!(b.path(D0, D2).unwrap(), before);
    }

    #[test]
    fn same_isp_cut_falls_back_to_an_interconnect() {
        let mut b = small();
        // Cut ISP a between region 0 and 3 completely.
        b.set_links_up(&[LinkId(0), LinkId(3)], false);
        let p = b.path(D0, D2).unwrap();
        assert_eq!(p.isp, None);
        assert_eq!(p.interconnects, 1);
        // The single-line IDC on b is unreachable once the interconnect is
        // down too; d2 still is not (its a-side is cut from region 0).
        let ic = b.interconnects()[0].links.clone();
        b.set_links_up(&ic, false);
        assert_eq!(b.path(D0, D1), None);
        assert_eq!(b.path_latency_ns(D0, D2), None);
    }

    #[test]
    fn bad_input_names_the_field() {
        let mut input = BackboneInput {
            propagation_km_per_ms: 200.0,
            min_latency_ns: 1,
            interconnect_route_inflation: 1.0,
            isps: vec!["a".into(), "b".into()],
            regions: vec!["r".into()],
            pops: vec![
                PopSpec { region: 0, isp: 0, lat_deg: 0.0, lon_deg: 0.0 },
                PopSpec { region: 0, isp: 1, lat_deg: 0.0, lon_deg: 0.0 },
            ],
            links: vec![LinkSpec {
                a: 0,
                b: 1,
                capacity_bps: 1,
                loss: LossModel::NONE,
                route_inflation: 1.0,
                latency_ns: None,
                groups: vec![],
            }],
            interconnects: vec![],
            idcs: vec![],
        };
        let e = Backbone::new(input.clone()).err().unwrap();
        assert_eq!(e.param, "links[0].b", "{e}");
        input.links.clear();
        input.pops[1].isp = 0;
        assert_eq!(Backbone::new(input).err().unwrap().param, "pops[1]");
    }
}
