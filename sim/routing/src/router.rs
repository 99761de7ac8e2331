//! The [`Router`]: one facade over the three modes, holding link state
//! (smoothed scores, up/down), per-stream carrier trees, hot/cold classes,
//! the mesh agents' caches and the search caches.
//!
//! # Carriers
//!
//! Per stream, every node that carries it has one upstream (node and link)
//! and a depth (hops from the stream's source), and knows its downstream
//! children, so the carriers form a tree rooted at the source (pool, mesh)
//! or at the tree's root (tree, whose up-leg from the source to the root is
//! kept apart). A node is *wanted* when it asked for the stream (a join or a
//! push) or holds a published stream. [`Router::leave`] and switches prune
//! carriers that are neither wanted nor have children, walking up.
//!
//! # Segments and switches
//!
//! An *anchor* is a carrier that is wanted or has two or more children; the
//! carriers between an anchor and the next anchor (or the source) above it
//! are pass-through relays, there only for it. Reroutes move a whole
//! segment: the anchor gets a new upstream path, and relays that lose their
//! only child are released. A new segment never starts inside the anchor's
//! own subtree (that would make a loop), and keeps the anchor's deepest
//! descendant within the hop bound.
//!
//! # Caches and their invalidation
//!
//! - Lower-bound tables per (target, rules): depend only on which links are
//!   usable; dropped (lazily, by epoch) when an observation or `set_down`
//!   changes a link's usability (down flag, or the score crossing
//!   `down_score`). Score changes within the usable range keep them.
//! - Shortest-hop BFS trees per source: the same epoch.
//! - Link quality costs are recomputed only when a link's score moves to
//!   another `score_step` bucket; a reroute round does nothing at all when
//!   no bucket, usability or carrier changed since the last round and no
//!   switch was held back by the dwell time.
//! - Mesh agent caches are validated on every use (links usable, start still
//!   a carrier, quality and hops), never invalidated wholesale.

use cdnsim_maths::{exp, ln};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

use crate::error::{NoRoute, ParamError};
use crate::graph::{Graph, Tier};
use crate::limits::MAX_STREAMS;
use crate::policy::{Mode, Policy, Redundancy};
use crate::score::{Observation, ScoreFn, Smoothed};
use crate::search::{self, ArcData, BoundCache, Found, INF, Net, Request, Rules, Scratch, Start};

/// Memory for shortest-hop BFS results, all sources together.
const HOP_CACHE_BYTES: usize = 16 << 20;

/// Fixed-point scale of costs and of quality logs.
const UNIT: f64 = 1e6;

/// A path to graft (or a new upstream path), listed from the carrier it
/// starts at to the node it ends at.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// From an existing carrier (or the stream's source) to the target,
    /// inclusive. No route repeats a node. A tree route is the down-leg
    /// only: it starts at the root or at the deepest node below it that
    /// carries the stream down (see [`Route::up_leg`]).
    pub nodes: Vec<u32>,
    /// `links[i]` joins `nodes[i]` and `nodes[i + 1]`.
    pub links: Vec<u32>,
    /// End-to-end quality at the last node, from the stream's source: the
    /// product of the routing scores (score / 100) of every link on the way,
    /// x 100. A route that starts at a carrier includes the carrier's own
    /// path from the source. Computed from the fixed-point sum of
    /// -ln(score / 100) the search uses (1e-6 per link), so it can differ
    /// from the exact product in the fifth decimal.
    pub quality: f64,
    /// Cost of this route's links only (what the graft adds), in the units
    /// of [`Policy`].
    pub cost: f64,
    /// Mesh: the node's agent had no valid cached route and asked the route
    /// service; the world charges a control round trip before the route
    /// takes effect.
    pub service_round_trip: bool,
    /// Tree: set when this route started the stream's up-leg (the first
    /// join of a stream that was not published): the rule path from the
    /// source up to the root, as [`Router::publish`] returns it. It is a
    /// relay of its own, kept apart from the down-leg: a centre on both
    /// legs carries the stream twice, up to the root and back down from
    /// it, as the fixed tree's rules have it. `None` everywhere else.
    pub up_leg: Option<Box<Route>>,
}

impl Route {
    /// Number of links.
    pub fn hops(&self) -> usize {
        self.links.len()
    }
}

/// A carrier whose upstream changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Reroute {
    /// The stream whose carrier moves.
    pub stream: u32,
    /// The anchor that gets the new upstream path; its downstream follows.
    pub node: u32,
    /// The new upstream path, ending at `node`.
    pub route: Route,
    /// The old path had a failed link: the switch ignored the dwell time.
    pub forced: bool,
    /// Mesh: the agent switched to its cached backup on its own, without
    /// the route service.
    pub local: bool,
    /// The new path is the one this node left at its previous switch
    /// (A-B-A).
    pub ping_pong: bool,
    /// Relays that stopped carrying the stream because of this switch.
    pub released: Vec<u32>,
}

/// Routes for an active push of a hot stream to one node.
#[derive(Clone, Debug, PartialEq)]
pub struct Push {
    /// The primary route first; with [`Redundancy::DisjointPaths`] a second,
    /// link-disjoint route when one exists (it is not a carrier path:
    /// nothing grafts onto it and reroutes do not move it).
    pub routes: Vec<Route>,
    /// Forward error correction to add on internal links (repair bytes per
    /// source byte); 0 unless [`Redundancy::Fec`].
    pub fec_overhead: f64,
}

/// Counters since the router was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// Joins answered with a route (trivial ones included).
    pub joins: u64,
    /// Mesh: requests to the route service (joins and reroutes).
    pub service_requests: u64,
    /// Mesh: joins answered from the node agent's cache.
    pub cache_hits: u64,
    /// Upstream switches, all kinds.
    pub switches: u64,
    /// Switches away from a failed path.
    pub forced_switches: u64,
    /// Mesh: switches to the agent's cached backup without the service.
    pub local_switches: u64,
    /// A-B-A switches.
    pub ping_pongs: u64,
    /// A carrier's path failed and no acceptable alternative existed.
    pub reroute_failures: u64,
    /// Hot pushes that asked for two disjoint paths and got one.
    pub redundancy_missing: u64,
    /// Searches run.
    pub searches: u64,
    /// Search labels created.
    pub labels: u64,
    /// Lower-bound tables computed.
    pub bound_tables: u64,
}

#[derive(Clone, Debug)]
struct Carrier {
    up: Option<(u32, u32)>,
    depth: u16,
    wanted: bool,
    /// Sorted.
    children: Vec<u32>,
    since_us: u64,
    /// The segment this node left at its last switch (for A-B-A).
    prev_segment: Vec<u32>,
}

#[derive(Clone, Debug)]
struct Stream {
    source: u32,
    carriers: BTreeMap<u32, Carrier>,
    /// Tree: the rule path from the source up to the root (nodes, links),
    /// while the stream flows there.
    up_leg: Option<(Vec<u32>, Vec<u32>)>,
    published: bool,
    /// Second routes of hot pushes, by pushed node.
    redundant: BTreeMap<u32, Route>,
}

#[derive(Clone, Copy, Debug)]
struct Class {
    viewers: u32,
    hot: bool,
}

type Path = (Vec<u32>, Vec<u32>);

/// `Router::e2e_all`'s buffers, kept between calls (per graph node: the
/// (quality cost, usable) found, and the carrier's upstream; the walk),
/// and the starts and blocked nodes `best_path_capped` hands the search.
#[derive(Clone, Debug, Default)]
struct E2eScratch {
    memo: Vec<Option<(u64, bool)>>,
    ups: Vec<Option<(u32, u32)>>,
    path: Vec<(u32, u32)>,
    starts: Vec<Start>,
    blocked: Vec<u32>,
}

#[derive(Clone, Debug)]
struct AgentEntry {
    stream: u32,
    primary: Path,
    backup: Option<Path>,
}

#[derive(Clone, Debug)]
struct LinkState {
    smooth: Smoothed,
    bucket: u16,
    down: bool,
}

#[derive(Clone, Debug)]
struct HopCache {
    entries: BTreeMap<u32, (u64, Vec<u8>)>,
    order: VecDeque<u32>,
    capacity: usize,
}

/// What a search for a node's upstream must avoid.
#[derive(Clone, Debug, Default)]
struct Avoid {
    /// Carriers that may not start the path (sorted): the node's subtree
    /// and the relays being replaced.
    starts: Vec<u32>,
    /// Carriers that may relay all the same (sorted): the relays being
    /// replaced.
    freed: Vec<u32>,
    /// Links the path may not use.
    links: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Why {
    Failed,
    BelowMinimum,
    Improve,
}

/// The overlay router for one topology mode. See the crate docs for the
/// modes and [`Policy`] for the knobs.
#[derive(Clone, Debug)]
pub struct Router {
    graph: Graph,
    mode: Mode,
    policy: Policy,
    score_fn: ScoreFn,
    /// The graph's arcs with their link state, in CSR order.
    arcs: Vec<ArcData>,
    /// Per link, the positions of its two arcs (at `a`, at `b`).
    link_arcs: Vec<[u32; 2]>,
    /// Per node: may relay in a pool (not an edge).
    relay_pool: Vec<bool>,
    qcost_of_bucket: Vec<u64>,
    failed_bucket: Vec<bool>,
    links: Vec<LinkState>,
    usable: Vec<bool>,
    qcost: Vec<u64>,
    topo_epoch: u64,
    score_epoch: u64,
    change_epoch: u64,
    last_round: Option<(u64, u64, u64)>,
    /// Earliest time a switch held back by the dwell time may happen.
    dwell_wakeup: Option<u64>,
    streams: BTreeMap<u32, Stream>,
    classes: BTreeMap<u32, Class>,
    agents: Vec<VecDeque<AgentEntry>>,
    bounds: BoundCache,
    scratch: Scratch,
    /// Reused by `e2e_all` while [`Router::best_path_capped`] ranks a
    /// stream's carriers.
    e2e_scratch: E2eScratch,
    hop_cache: RefCell<HopCache>,
    stats: RouterStats,
}

fn units(x: f64) -> u64 {
    (x * UNIT).round() as u64
}

/// Quality cost of a score in (0, 100]; a score of 0 cannot be crossed.
fn qcost_of_score(score: f64) -> u64 {
    if score <= 0.0 { INF } else { units(-ln(score.min(100.0) / 100.0)) }
}

fn quality_of(qsum: u64) -> f64 {
    if qsum == INF { 0.0 } else { 100.0 * exp(-(qsum as f64) / UNIT) }
}

fn contains(sorted: &[u32], x: u32) -> bool {
    sorted.binary_search(&x).is_ok()
}

impl Router {
    /// Validates the policy and score function and prepares the link state:
    /// each link's score starts at `score` of its base delay with no loss.
    pub fn new(graph: Graph, mode: Mode, policy: Policy, score: ScoreFn) -> Result<Router, ParamError> {
        policy.validate()?;
        score.validate().map_err(|e| ParamError { field: format!("score.{}", e.field), ..e })?;
        let p = &policy;
        let arc_cost: Vec<[u64; 2]> = graph
            .links()
            .iter()
            .map(|l| {
                let base = units(p.cost_per_hop) + if l.interconnect { units(p.cost_per_interconnect) } else { 0 };
                let price = |u: u32| units(p.cost_per_price * graph.node(u).price_per_gb);
                [base + price(l.a), base + price(l.b)]
            })
            .collect();
        let max_bucket = (100.0 / p.score_step).floor() as u16;
        let qcost_of_bucket = (0..=max_bucket).map(|b| qcost_of_score(b as f64 * p.score_step)).collect();
        let failed_bucket = (0..=max_bucket).map(|b| b == 0 || (b as f64 * p.score_step) < p.down_score).collect();
        let n = graph.node_count();
        let mut link_arcs = vec![[0u32; 2]; graph.link_count()];
        let mut arcs = Vec::with_capacity(2 * graph.link_count());
        for u in 0..n as u32 {
            for a in graph.arcs(u) {
                let l = graph.link(a.link);
                let out = if l.a == u { 0 } else { 1 };
                link_arcs[a.link as usize][out] = arcs.len() as u32;
                let (nu, nv) = (graph.node(u), graph.node(a.to));
                let cost: &[u64; 2] = &arc_cost[a.link as usize];
                arcs.push(ArcData {
                    to: a.to,
                    link: a.link,
                    cost_out: cost[out],
                    cost_in: cost[1 - out],
                    qcost: INF,
                    share: if l.interconnect { 0 } else { nu.isps & nv.isps },
                    usable: false,
                    edge_edge: nu.tier == Tier::Edge && nv.tier == Tier::Edge,
                });
            }
        }
        let relay_pool = graph.nodes().iter().map(|x| x.tier != Tier::Edge).collect();
        let bounds = BoundCache::new(n, p.max_hops);
        let hop_capacity = (HOP_CACHE_BYTES / n).max(1);
        let mut router = Router {
            arcs,
            link_arcs,
            relay_pool,
            qcost_of_bucket,
            failed_bucket,
            links: Vec::with_capacity(graph.link_count()),
            usable: vec![false; graph.link_count()],
            qcost: vec![INF; graph.link_count()],
            topo_epoch: 0,
            score_epoch: 0,
            change_epoch: 0,
            last_round: None,
            dwell_wakeup: None,
            streams: BTreeMap::new(),
            classes: BTreeMap::new(),
            agents: vec![VecDeque::new(); n],
            bounds,
            scratch: Scratch::default(),
            e2e_scratch: E2eScratch::default(),
            hop_cache: RefCell::new(HopCache {
                entries: BTreeMap::new(),
                order: VecDeque::new(),
                capacity: hop_capacity,
            }),
            stats: RouterStats::default(),
            graph,
            mode,
            policy,
            score_fn: score,
        };
        for l in 0..router.graph.link_count() {
            let delay_us = router.graph.link(l as u32).delay_us;
            let prior = router.score_fn.score(&Observation { delay_us, loss: 0.0, retransmit_rate: 0.0 });
            let bucket = router.bucket_of(prior);
            router.links.push(LinkState { smooth: Smoothed::new(prior), bucket, down: false });
            router.refresh_link(l);
        }
        Ok(router)
    }

    /// The graph the router was built on.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The topology mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Counters since the router was built.
    pub fn stats(&self) -> RouterStats {
        RouterStats { bound_tables: self.bounds.built, labels: self.scratch.labels_created, ..self.stats }
    }

    /// The smoothed score of a link (0-100).
    pub fn link_score(&self, link: u32) -> f64 {
        self.links[link as usize].smooth.value()
    }

    /// The score routing uses: the smoothed score rounded down to a
    /// multiple of `score_step`.
    pub fn routing_score(&self, link: u32) -> f64 {
        self.links[link as usize].bucket as f64 * self.policy.score_step
    }

    /// Whether routes may use the link: not set down and its routing score
    /// at least `down_score`.
    pub fn is_usable(&self, link: u32) -> bool {
        self.usable[link as usize]
    }

    /// Whether the stream is hot.
    pub fn is_hot(&self, stream: u32) -> bool {
        self.classes.get(&stream).is_some_and(|c| c.hot)
    }

    /// The carriers of a stream with their upstream node, by node id (the
    /// tree's up-leg is not listed).
    pub fn carriers(&self, stream: u32) -> Vec<(u32, Option<u32>)> {
        self.streams
            .get(&stream)
            .map(|s| s.carriers.iter().map(|(&n, c)| (n, c.up.map(|u| u.0))).collect())
            .unwrap_or_default()
    }

    /// Drops every search cache (benchmarks of cold searches; never needed
    /// for correctness).
    pub fn clear_caches(&mut self) {
        self.bounds.clear();
        let mut h = self.hop_cache.borrow_mut();
        h.entries.clear();
        h.order.clear();
    }

    fn bucket_of(&self, score: f64) -> u16 {
        let max = (self.qcost_of_bucket.len() - 1) as u16;
        if score.is_finite() { ((score / self.policy.score_step).floor().max(0.0) as u16).min(max) } else { 0 }
    }

    fn refresh_link(&mut self, l: usize) {
        let s = &self.links[l];
        let usable = !s.down && !self.failed_bucket[s.bucket as usize];
        let qcost = self.qcost_of_bucket[s.bucket as usize];
        self.qcost[l] = qcost;
        for pos in self.link_arcs[l] {
            let arc = &mut self.arcs[pos as usize];
            arc.qcost = qcost;
            arc.usable = usable;
        }
        if usable != self.usable[l] {
            self.usable[l] = usable;
            self.topo_epoch += 1;
        }
    }

    /// The arc of `link` leaving `from`.
    fn arc_of(&self, link: u32, from: u32) -> &ArcData {
        let end = if self.graph.link(link).a == from { 0 } else { 1 };
        &self.arcs[self.link_arcs[link as usize][end] as usize]
    }

    fn net(&self) -> Net<'_> {
        Net { offsets: self.graph.offsets(), arcs: &self.arcs, relay_pool: &self.relay_pool }
    }

    /// Smooths a probe's observation into the link's score (panics if
    /// `link` is not a link of the graph).
    pub fn observe(&mut self, now_us: u64, link: u32, obs: Observation) {
        let score = self.score_fn.score(&obs);
        let l = link as usize;
        self.links[l].smooth.add(now_us, score, self.policy.score_half_life_us);
        let bucket = self.bucket_of(self.links[l].smooth.value());
        if bucket != self.links[l].bucket {
            self.links[l].bucket = bucket;
            self.score_epoch += 1;
            self.refresh_link(l);
        }
    }

    /// Explicit failure knowledge: a down link is never used, whatever its
    /// score (panics if `link` is not a link of the graph).
    pub fn set_down(&mut self, _now_us: u64, link: u32, down: bool) {
        self.links[link as usize].down = down;
        self.refresh_link(link as usize);
    }

    #[cfg(test)]
    pub(crate) fn set_score_for_test(&mut self, link: u32, score: f64) {
        let l = link as usize;
        self.links[l].smooth = Smoothed::new(score);
        let bucket = self.bucket_of(score);
        if bucket != self.links[l].bucket {
            self.links[l].bucket = bucket;
            self.score_epoch += 1;
        }
        self.refresh_link(l);
    }

    fn check_node(&self, node: u32) -> Result<(), NoRoute> {
        if (node as usize) < self.graph.node_count() { Ok(()) } else { Err(NoRoute::UnknownNode { node }) }
    }

    fn q_limit(&self, stream: u32) -> u64 {
        let q = if self.is_hot(stream) { self.policy.hot_min_quality } else { self.policy.min_quality };
        limit_of(q)
    }

    /// The stream's state, created with its source as the first carrier
    /// (pool, mesh) when new.
    fn ensure_stream(&mut self, stream: u32, source: u32) -> Result<(), NoRoute> {
        self.check_node(source)?;
        match self.streams.get(&stream) {
            Some(s) if s.source != source => Err(NoRoute::SourceMismatch { stream, known: s.source, given: source }),
            Some(_) => Ok(()),
            None if self.streams.len() >= MAX_STREAMS => Err(NoRoute::TooManyStreams),
            None => {
                let mut carriers = BTreeMap::new();
                if self.mode != Mode::Tree {
                    let c = Carrier {
                        up: None,
                        depth: 0,
                        wanted: false,
                        children: Vec::new(),
                        since_us: 0,
                        prev_segment: Vec::new(),
                    };
                    carriers.insert(source, c);
                }
                let s = Stream { source, carriers, up_leg: None, published: false, redundant: BTreeMap::new() };
                self.streams.insert(stream, s);
                Ok(())
            }
        }
    }

    /// Drops a stream's state once nothing is carried or published.
    fn tidy(&mut self, stream: u32) {
        let idle = self.streams.get(&stream).is_some_and(|s| {
            !s.published && s.up_leg.is_none() && s.redundant.is_empty() && s.carriers.keys().all(|&n| n == s.source)
        });
        if idle {
            self.streams.remove(&stream);
        }
    }

    /// (quality cost, every link usable) from the stream's source to a carrier.
    fn e2e(&self, s: &Stream, node: u32) -> (u64, bool) {
        let mut q = 0u64;
        let mut ok = true;
        let mut x = node;
        while let Some((p, l)) = s.carriers[&x].up {
            q = q.saturating_add(self.qcost[l as usize]);
            ok &= self.usable[l as usize];
            x = p;
        }
        if let Some((_, links)) = &s.up_leg {
            for &l in links {
                q = q.saturating_add(self.qcost[l as usize]);
                ok &= self.usable[l as usize];
            }
        }
        (q, ok)
    }

    /// [`Router::e2e`] of every carrier of `s` into `memo` (indexed by
    /// node), each carrier's from its upstream's: one step per carrier
    /// instead of a walk to the source per carrier, and the carriers'
    /// upstreams copied once into `ups` so that no step searches the map.
    /// Same values: the sums saturate, and a saturating sum of
    /// non-negative terms is the same in any order.
    fn e2e_all(&self, s: &Stream, scratch: &mut E2eScratch) {
        let E2eScratch { memo, ups, path, .. } = scratch;
        let n = self.graph.node_count();
        memo.clear();
        memo.resize(n, None);
        ups.clear();
        ups.resize(n, None);
        let mut root = (0u64, true);
        if let Some((_, links)) = &s.up_leg {
            for &l in links {
                root = (root.0.saturating_add(self.qcost[l as usize]), root.1 && self.usable[l as usize]);
            }
        }
        for (&node, c) in &s.carriers {
            ups[node as usize] = c.up;
        }
        path.clear();
        for &node in s.carriers.keys() {
            // Up to the first node already known (or the top), then back down.
            let mut x = node;
            while memo[x as usize].is_none() {
                match ups[x as usize] {
                    Some((p, l)) => {
                        path.push((x, l));
                        x = p;
                    }
                    None => {
                        debug_assert!(s.carriers.contains_key(&x), "a carrier's upstream carries the stream");
                        memo[x as usize] = Some(root);
                    }
                }
            }
            let mut acc = memo[x as usize].expect("reached a known node");
            while let Some((n, l)) = path.pop() {
                acc = (acc.0.saturating_add(self.qcost[l as usize]), acc.1 && self.usable[l as usize]);
                memo[n as usize] = Some(acc);
            }
        }
    }

    fn path_cost(&self, nodes: &[u32], links: &[u32]) -> u64 {
        nodes.iter().zip(links).map(|(&u, &l)| self.arc_of(l, u).cost_out).sum()
    }

    fn make_route(&self, nodes: Vec<u32>, links: Vec<u32>, qsum: u64, service_round_trip: bool) -> Route {
        let cost = self.path_cost(&nodes, &links) as f64 / UNIT;
        Route { nodes, links, quality: quality_of(qsum), cost, service_round_trip, up_leg: None }
    }

    fn trivial(&self, stream: u32, node: u32) -> Route {
        let s = &self.streams[&stream];
        let qsum = if s.carriers.contains_key(&node) { self.e2e(s, node).0 } else { 0 };
        self.make_route(vec![node], Vec::new(), qsum, false)
    }

    // ------------------------------------------------------------ joins

    /// `target` wants `stream`, whose ingest node is `source`. Returns the
    /// path to graft and records every node on it as a carrier with its
    /// upstream. A target that already carries the stream (or, in pools
    /// and the mesh, is the source) gets a one-node route.
    ///
    /// - Tree: the rule path down from the root through the target's tree
    ///   ancestors, whatever the scores and link states, grafted at the
    ///   deepest of them that already carries the stream down. The stream
    ///   reaches the root over the up-leg (the source up its tree parents),
    ///   started by [`Router::publish`] or else by the first join
    ///   ([`Route::up_leg`]). The legs are separate relays: as in the
    ///   talk's fixed tree, where even a stream with one viewer "still
    ///   takes the fixed hops" (docs/references.md, Tree fixed hops), a
    ///   viewer at the source node itself or under a centre the stream
    ///   passes on its way up is served down from the root like any other.
    /// - Pool: the cheapest acceptable path over the pools: relays are
    ///   source and centre nodes (edges never relay, and no link joins two
    ///   edges), starting at a carrier that is not an edge, or at the
    ///   source.
    /// - Mesh: any carrier serves; links never cross ISPs except through a
    ///   multi-line node (docs/references.md, Multi-line transfer points);
    ///   a path inside the target's ISPs is preferred to any other. The
    ///   node's agent first tries its cached primary, then backup, for this
    ///   stream; otherwise it asks the route service
    ///   (`service_round_trip`), which returns a primary and a link-disjoint
    ///   backup for the cache.
    ///
    /// The class minimum is `hot_min_quality` for hot streams, else
    /// `min_quality`; routes respect `max_hops` from the source (not the
    /// tree). On error nothing changes.
    pub fn join(&mut self, now_us: u64, stream: u32, source: u32, target: u32) -> Result<Route, NoRoute> {
        let r = self.join_inner(now_us, stream, source, target, true);
        if r.is_ok() {
            self.stats.joins += 1;
        }
        r
    }

    fn join_inner(
        &mut self,
        now_us: u64,
        stream: u32,
        source: u32,
        target: u32,
        agent: bool,
    ) -> Result<Route, NoRoute> {
        self.check_node(target)?;
        self.ensure_stream(stream, source)?;
        let r = match self.mode {
            Mode::Tree => self.join_tree(now_us, stream, target),
            Mode::Pool | Mode::Mesh => self.join_dynamic(now_us, stream, target, agent),
        };
        if r.is_err() {
            self.tidy(stream);
        } else {
            self.change_epoch += 1;
        }
        r
    }

    fn join_tree(&mut self, now_us: u64, stream: u32, target: u32) -> Result<Route, NoRoute> {
        let source = self.streams[&stream].source;
        if let Some(c) = self.streams.get_mut(&stream).unwrap().carriers.get_mut(&target) {
            c.wanted = true;
            return Ok(self.trivial(stream, target));
        }
        let up = self.graph.tree_chain(source);
        let mut down = self.graph.tree_chain(target);
        if up.last() != down.last() {
            return Err(NoRoute::DifferentTrees { source, target });
        }
        down.reverse();
        let started = self.streams[&stream].up_leg.is_none();
        if started {
            self.start_up_leg(stream, up, now_us);
        }
        let s = &self.streams[&stream];
        let from = down.iter().rposition(|x| s.carriers.contains_key(x)).expect("the root carries the stream");
        let nodes = down[from..].to_vec();
        let links = self.tree_links(&nodes);
        self.graft(stream, &nodes, &links, now_us, true);
        let qsum = self.e2e(&self.streams[&stream], target).0;
        let mut route = self.make_route(nodes, links, qsum, false);
        if started {
            route.up_leg = Some(Box::new(self.up_leg_route(stream)));
        }
        Ok(route)
    }

    fn tree_links(&self, nodes: &[u32]) -> Vec<u32> {
        nodes.windows(2).map(|w| self.graph.find_link(w[0], w[1]).expect("tree links checked by Graph::new")).collect()
    }

    /// Tree: the stream's up-leg as a route (source ... root).
    fn up_leg_route(&self, stream: u32) -> Route {
        let s = &self.streams[&stream];
        let (nodes, links) = s.up_leg.clone().expect("the stream flows up to the root");
        let qsum = self.e2e(s, *nodes.last().expect("a route has nodes")).0;
        self.make_route(nodes, links, qsum, false)
    }

    /// Tree: the stream flows from the source up to the root, which becomes
    /// the first carrier on the way down.
    fn start_up_leg(&mut self, stream: u32, up: Vec<u32>, now_us: u64) {
        let links = self.tree_links(&up);
        let root = *up.last().unwrap();
        let s = self.streams.get_mut(&stream).unwrap();
        let c = Carrier {
            up: None,
            depth: links.len() as u16,
            wanted: false,
            children: Vec::new(),
            since_us: now_us,
            prev_segment: Vec::new(),
        };
        s.carriers.insert(root, c);
        s.up_leg = Some((up, links));
    }

    fn join_dynamic(&mut self, now_us: u64, stream: u32, target: u32, agent: bool) -> Result<Route, NoRoute> {
        if let Some(c) = self.streams.get_mut(&stream).unwrap().carriers.get_mut(&target) {
            c.wanted = true;
            return Ok(self.trivial(stream, target));
        }
        let q_limit = self.q_limit(stream);
        let hop_limit = self.policy.max_hops;
        if self.mode == Mode::Mesh
            && agent
            && let Some((nodes, links, qsum)) = self.agent_route(stream, target, q_limit, hop_limit, &Avoid::default())
        {
            self.stats.cache_hits += 1;
            self.graft(stream, &nodes, &links, now_us, true);
            return Ok(self.make_route(nodes, links, qsum, false));
        }
        let found = self.best_path(stream, target, q_limit, hop_limit, &Avoid::default())?;
        let Some(found) = found else {
            if self.mode == Mode::Mesh && agent {
                self.stats.service_requests += 1;
            }
            return Err(NoRoute::NoPath { target });
        };
        let ask = self.mode == Mode::Mesh && agent;
        if ask {
            self.stats.service_requests += 1;
            let avoid = Avoid { links: found.links.clone(), ..Avoid::default() };
            let backup = self.best_path(stream, target, q_limit, hop_limit, &avoid).ok().flatten();
            self.agent_store(
                target,
                stream,
                (found.nodes.clone(), found.links.clone()),
                backup.map(|b| (b.nodes, b.links)),
            );
        }
        self.graft(stream, &found.nodes, &found.links, now_us, true);
        Ok(self.make_route(found.nodes, found.links, found.qsum, ask))
    }

    /// Records `nodes[1..]` as carriers below `nodes[0]` (a carrier); the
    /// last one is wanted when `wanted_end`.
    fn graft(&mut self, stream: u32, nodes: &[u32], links: &[u32], now_us: u64, wanted_end: bool) {
        let s = self.streams.get_mut(&stream).unwrap();
        let depth0 = s.carriers[&nodes[0]].depth;
        let last = nodes.len() - 1;
        for i in 1..nodes.len() {
            let c = Carrier {
                up: Some((nodes[i - 1], links[i - 1])),
                depth: depth0 + i as u16,
                wanted: i == last && wanted_end,
                children: Vec::new(),
                since_us: now_us,
                prev_segment: Vec::new(),
            };
            s.carriers.insert(nodes[i], c);
            add_child(s, nodes[i - 1], nodes[i]);
        }
        if last == 0 && wanted_end {
            s.carriers.get_mut(&nodes[0]).unwrap().wanted = true;
        }
    }

    /// The cheapest acceptable path to `target` from the stream's carriers,
    /// under the mode's rules (mesh: same ISP first).
    fn best_path(
        &mut self,
        stream: u32,
        target: u32,
        q_limit: u64,
        hop_limit: u8,
        avoid: &Avoid,
    ) -> Result<Option<Found>, NoRoute> {
        self.best_path_capped(stream, target, q_limit, hop_limit, avoid, INF)
    }

    /// [`Router::best_path`] among paths costing at most `cost_cap`.
    fn best_path_capped(
        &mut self,
        stream: u32,
        target: u32,
        q_limit: u64,
        hop_limit: u8,
        avoid: &Avoid,
        cost_cap: u64,
    ) -> Result<Option<Found>, NoRoute> {
        let s = &self.streams[&stream];
        let mut e2e = std::mem::take(&mut self.e2e_scratch);
        self.e2e_all(s, &mut e2e);
        let (mut starts, mut blocked) = (std::mem::take(&mut e2e.starts), std::mem::take(&mut e2e.blocked));
        starts.clear();
        blocked.clear();
        for (&node, c) in &s.carriers {
            if !contains(&avoid.freed, node) {
                blocked.push(node);
            }
            if contains(&avoid.starts, node) || contains(&avoid.freed, node) || node == target {
                continue;
            }
            if self.mode == Mode::Pool && node != s.source && self.graph.node(node).tier == Tier::Edge {
                continue;
            }
            if c.depth >= hop_limit as u16 {
                continue;
            }
            let (qsum, healthy) = e2e.memo[node as usize].expect("every carrier is in the memo");
            if healthy && qsum <= q_limit {
                starts.push(Start { node, depth: c.depth as u8, qsum });
            }
        }
        let found = self.search_from(target, &starts, &blocked, q_limit, hop_limit, avoid, cost_cap);
        (e2e.starts, e2e.blocked) = (starts, blocked);
        self.e2e_scratch = e2e;
        found
    }

    /// The search of [`Router::best_path_capped`] from its ranked `starts`
    /// (mesh: same ISP first, when a start is on one of the target's).
    #[allow(clippy::too_many_arguments)]
    fn search_from(
        &mut self,
        target: u32,
        starts: &[Start],
        blocked: &[u32],
        q_limit: u64,
        hop_limit: u8,
        avoid: &Avoid,
        cost_cap: u64,
    ) -> Result<Option<Found>, NoRoute> {
        if starts.is_empty() {
            return Ok(None);
        }
        let phases: [Option<Rules>; 2] = match self.mode {
            Mode::Mesh => {
                let own = self.graph.node(target).isps;
                let same = starts.iter().any(|st| self.graph.node(st.node).isps & own != 0);
                if same {
                    [Some(Rules::Mesh { mask: own }), Some(Rules::Mesh { mask: u32::MAX })]
                } else {
                    [Some(Rules::Mesh { mask: u32::MAX }), None]
                }
            }
            _ => [Some(Rules::Pool), None],
        };
        for rules in phases.into_iter().flatten() {
            self.stats.searches += 1;
            let net = Net { offsets: self.graph.offsets(), arcs: &self.arcs, relay_pool: &self.relay_pool };
            let lb = self.bounds.get(&net, target, rules, self.topo_epoch);
            let req = Request { target, starts, hop_limit, q_limit, rules, blocked, forbidden: &avoid.links, cost_cap };
            if let Some(f) = search::search(&mut self.scratch, &net, lb, &req)? {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }

    // ------------------------------------------------------- mesh agents

    fn agent_store(&mut self, node: u32, stream: u32, primary: Path, backup: Option<Path>) {
        let q = &mut self.agents[node as usize];
        q.retain(|e| e.stream != stream);
        q.push_back(AgentEntry { stream, primary, backup });
        while q.len() > self.policy.agent_cache_size as usize {
            q.pop_front();
        }
    }

    /// A cached route of `node`'s agent for `stream` that is still valid,
    /// trimmed to start at its last carrier: (nodes, links, quality cost).
    fn agent_route(&self, stream: u32, node: u32, q_limit: u64, hop_limit: u8, avoid: &Avoid) -> Option<Path3> {
        let entry = self.agents[node as usize].iter().find(|e| e.stream == stream)?;
        let s = &self.streams[&stream];
        let rules = Rules::Mesh { mask: u32::MAX };
        let valid = |(nodes, links): &Path| -> Option<Path3> {
            if nodes.last() != Some(&node) || links.iter().any(|l| contains(&avoid.links, *l)) {
                return None;
            }
            for (&u, &l) in nodes.iter().zip(links) {
                let arc = self.arc_of(l, u);
                if !arc.usable || !rules.arc_ok(arc) {
                    return None;
                }
            }
            let carrying = |x: u32| s.carriers.contains_key(&x) && !contains(&avoid.freed, x);
            let i = (0..nodes.len() - 1).rev().find(|&i| carrying(nodes[i]))?;
            let start = nodes[i];
            if contains(&avoid.starts, start) {
                return None;
            }
            let (q0, healthy) = self.e2e(s, start);
            let depth = s.carriers[&start].depth as usize + (nodes.len() - 1 - i);
            let qsum = links[i..].iter().fold(q0, |q, &l| q.saturating_add(self.qcost[l as usize]));
            (healthy && depth <= hop_limit as usize && qsum <= q_limit)
                .then(|| (nodes[i..].to_vec(), links[i..].to_vec(), qsum))
        };
        valid(&entry.primary).or_else(|| entry.backup.as_ref().and_then(valid))
    }

    // ------------------------------------------------------------ leave

    /// `node` no longer wants `stream` (no viewers there). It stops carrying
    /// once it has no downstream either, and so do the relays above it that
    /// were there only for it: they are returned (never the source, nor a
    /// node still on the tree's up-leg). Its redundant push route is dropped.
    pub fn leave(&mut self, stream: u32, node: u32) -> Vec<u32> {
        let Some(s) = self.streams.get_mut(&stream) else { return Vec::new() };
        s.redundant.remove(&node);
        let mut released = Vec::new();
        if let Some(c) = s.carriers.get_mut(&node) {
            c.wanted = false;
            released = prune(s, node, self.mode);
            self.change_epoch += 1;
        }
        self.tidy(stream);
        released
    }

    /// The broadcaster stopped: every node stops carrying `stream` (the
    /// source excluded); they are returned in id order.
    pub fn close(&mut self, stream: u32) -> Vec<u32> {
        self.classes.remove(&stream);
        let Some(s) = self.streams.remove(&stream) else { return Vec::new() };
        self.change_epoch += 1;
        let mut out: Vec<u32> = s.carriers.keys().copied().collect();
        if let Some((nodes, _)) = s.up_leg {
            out.extend(nodes);
        }
        out.sort_unstable();
        out.dedup();
        out.retain(|&n| n != s.source);
        out
    }

    /// The broadcaster started `stream` at `source`. Tree: the stream is
    /// pushed up to the root at once (returns that up-leg); Pool: pushed
    /// to the cheapest acceptable node of the source pool (Source tier);
    /// Mesh: nothing flows until a viewer asks (returns `None`). Returns
    /// `None` as well when the stream was already published. Without this
    /// call the tree and pools are passive like the mesh (the tree's
    /// up-leg comes with the first join, in its [`Route::up_leg`]).
    pub fn publish(&mut self, now_us: u64, stream: u32, source: u32) -> Result<Option<Route>, NoRoute> {
        if self.mode == Mode::Mesh {
            self.check_node(source)?;
            return Ok(None);
        }
        self.ensure_stream(stream, source)?;
        if self.streams[&stream].published {
            return Ok(None);
        }
        let route = match self.mode {
            Mode::Tree => {
                if self.streams[&stream].up_leg.is_none() {
                    self.start_up_leg(stream, self.graph.tree_chain(source), now_us);
                }
                self.up_leg_route(stream)
            }
            _ => {
                let q_limit = self.q_limit(stream);
                let s = &self.streams[&stream];
                let pool: Vec<u32> =
                    (0..self.graph.node_count() as u32).filter(|&u| self.graph.node(u).tier == Tier::Source).collect();
                if let Some(&there) = pool.iter().find(|&&u| s.carriers.contains_key(&u)) {
                    self.streams.get_mut(&stream).unwrap().carriers.get_mut(&there).unwrap().wanted = true;
                    self.trivial(stream, there)
                } else {
                    let mut best: Option<Found> = None;
                    for &t in &pool {
                        let f = self.best_path(stream, t, q_limit, self.policy.max_hops, &Avoid::default());
                        if let Some(f) = f.inspect_err(|_| self.tidy(stream))? {
                            let better = best.as_ref().is_none_or(|b| {
                                (f.cost, f.qsum, f.links.len(), &f.nodes) < (b.cost, b.qsum, b.links.len(), &b.nodes)
                            });
                            if better {
                                best = Some(f);
                            }
                        }
                    }
                    let Some(f) = best else {
                        self.tidy(stream);
                        return Err(NoRoute::NoPath { target: source });
                    };
                    self.graft(stream, &f.nodes, &f.links, now_us, true);
                    self.make_route(f.nodes, f.links, f.qsum, false)
                }
            }
        };
        self.streams.get_mut(&stream).unwrap().published = true;
        self.change_epoch += 1;
        Ok(Some(route))
    }

    // ---------------------------------------------------------- hot/cold

    /// The viewer count of `stream` changed. Returns `Some(true)` when the
    /// stream turns hot (viewers reach `hot_on_viewers`), `Some(false)`
    /// when a hot stream turns cold (viewers fall to `hot_off_viewers`),
    /// else `None`. Hot streams use `hot_min_quality`. Untracked beyond
    /// [`MAX_STREAMS`] streams (they stay cold).
    pub fn set_viewers(&mut self, stream: u32, viewers: u32) -> Option<bool> {
        if !self.classes.contains_key(&stream) && (viewers == 0 || self.classes.len() >= MAX_STREAMS) {
            return None;
        }
        let p = &self.policy;
        let class = self.classes.entry(stream).or_insert(Class { viewers: 0, hot: false });
        class.viewers = viewers;
        let turn = if !class.hot && viewers >= p.hot_on_viewers {
            class.hot = true;
            Some(true)
        } else if class.hot && viewers <= p.hot_off_viewers {
            class.hot = false;
            Some(false)
        } else {
            None
        };
        if viewers == 0 && !class.hot {
            self.classes.remove(&stream);
        }
        if turn.is_some() {
            self.change_epoch += 1;
        }
        turn
    }

    /// Active push of a hot stream to `targets` (the nodes that will need
    /// it), each result in target order. The primary route grafts like a
    /// join (the target becomes a wanted carrier; no agent cache: pushes
    /// come from the route service). With [`Redundancy::DisjointPaths`] a
    /// second route follows that shares no link with the target's current
    /// upstream segment, from a carrier outside it and outside the target's
    /// subtree; it is kept until the target leaves (the greedy pair: the
    /// best path, then the best path avoiding its links, which can miss a
    /// disjoint pair that exists; counted in `redundancy_missing`). The
    /// tree pushes its rule path only: with `DisjointPaths` it has no
    /// second path (`fec_overhead` 0).
    pub fn push_routes(
        &mut self,
        now_us: u64,
        stream: u32,
        source: u32,
        targets: &[u32],
    ) -> Vec<Result<Push, NoRoute>> {
        targets.iter().map(|&t| self.push_one(now_us, stream, source, t)).collect()
    }

    fn push_one(&mut self, now_us: u64, stream: u32, source: u32, target: u32) -> Result<Push, NoRoute> {
        let primary = self.join_inner(now_us, stream, source, target, false)?;
        if let Some(c) = self.streams.get_mut(&stream).and_then(|s| s.carriers.get_mut(&target)) {
            c.wanted = true;
        }
        let fec_overhead = match self.policy.hot_redundancy {
            Redundancy::Fec { overhead } => overhead,
            Redundancy::DisjointPaths => 0.0,
        };
        let mut routes = vec![primary];
        let wants_second = self.policy.hot_redundancy == Redundancy::DisjointPaths;
        if wants_second && self.mode != Mode::Tree && target != source {
            let s = &self.streams[&stream];
            let (seg_nodes, seg_links) = segment(s, target);
            let mut starts = subtree(s, target);
            starts.extend_from_slice(&seg_nodes[1..seg_nodes.len() - 1]);
            starts.sort_unstable();
            let hop_limit = self.policy.max_hops.saturating_sub(height(s, target));
            let mut forbidden = seg_links;
            forbidden.sort_unstable();
            let avoid = Avoid { starts, freed: Vec::new(), links: forbidden };
            let q_limit = self.q_limit(stream);
            match self.best_path(stream, target, q_limit, hop_limit, &avoid)? {
                Some(f) => {
                    let r = self.make_route(f.nodes, f.links, f.qsum, false);
                    self.streams.get_mut(&stream).unwrap().redundant.insert(target, r.clone());
                    routes.push(r);
                }
                None => self.stats.redundancy_missing += 1,
            }
        }
        Ok(Push { routes, fec_overhead })
    }

    // ---------------------------------------------------------- reroutes

    /// Called after each probing round: anchors whose upstream should
    /// change, in stream order, then by depth and node id; the router has
    /// applied each switch when it returns.
    ///
    /// - Pool: a path with a failed link (down, or below `down_score`) is
    ///   replaced at once (`forced`). Otherwise, once the node's route is
    ///   older than `min_dwell_us`: a path below the class minimum moves to
    ///   the best acceptable one; an acceptable path moves only for a
    ///   cheaper one at least `switch_margin` above the minimum, or one of
    ///   no higher cost more than `switch_margin` better in quality.
    /// - Mesh: on a failed path the agent switches to its cached backup if
    ///   that is still valid (`local`), else asks the service; a path below
    ///   the minimum asks the service after the dwell time. No switches
    ///   for mere improvement (the weak mesh avoids switching overhead).
    /// - Tree: never.
    pub fn reroutes(&mut self, now_us: u64) -> Vec<Reroute> {
        if self.mode == Mode::Tree {
            return Vec::new();
        }
        let key = (self.topo_epoch, self.score_epoch, self.change_epoch);
        let woken = self.dwell_wakeup.is_some_and(|t| now_us >= t);
        if self.last_round == Some(key) && !woken {
            return Vec::new();
        }
        self.dwell_wakeup = None;
        let mut out = Vec::new();
        let ids: Vec<u32> = self.streams.keys().copied().collect();
        for stream in ids {
            let s = &self.streams[&stream];
            let mut anchors: Vec<(u16, u32)> = s
                .carriers
                .iter()
                .filter(|(_, c)| c.up.is_some() && (c.wanted || c.children.len() >= 2))
                .map(|(&n, c)| (c.depth, n))
                .collect();
            anchors.sort_unstable();
            for (_, node) in anchors {
                // An earlier switch this round may have made it a plain relay.
                let still = self.streams[&stream]
                    .carriers
                    .get(&node)
                    .is_some_and(|c| c.up.is_some() && (c.wanted || c.children.len() >= 2));
                if !still {
                    continue;
                }
                if let Some(r) = self.evaluate(now_us, stream, node) {
                    out.push(r);
                }
            }
        }
        self.last_round = Some((self.topo_epoch, self.score_epoch, self.change_epoch));
        out
    }

    fn evaluate(&mut self, now_us: u64, stream: u32, node: u32) -> Option<Reroute> {
        let s = &self.streams[&stream];
        let c = &s.carriers[&node];
        let (seg_nodes, seg_links) = segment(s, node);
        let (cur_q, healthy) = self.e2e(s, node);
        let q_limit = self.q_limit(stream);
        let why = if !healthy {
            Why::Failed
        } else if cur_q > q_limit {
            Why::BelowMinimum
        } else if self.mode == Mode::Pool {
            Why::Improve
        } else {
            return None;
        };
        if why != Why::Failed && now_us.saturating_sub(c.since_us) < self.policy.min_dwell_us {
            let at = c.since_us.saturating_add(self.policy.min_dwell_us);
            self.dwell_wakeup = Some(self.dwell_wakeup.map_or(at, |t| t.min(at)));
            return None;
        }
        let mut freed = seg_nodes[1..seg_nodes.len() - 1].to_vec();
        freed.sort_unstable();
        let mut starts = subtree(s, node);
        starts.extend_from_slice(&freed);
        starts.sort_unstable();
        let hop_limit = self.policy.max_hops.saturating_sub(height(s, node));
        let avoid = Avoid { starts, freed, links: Vec::new() };

        if self.mode == Mode::Mesh
            && why == Why::Failed
            && let Some((nodes, links, qsum)) = self.agent_route(stream, node, q_limit, hop_limit, &avoid)
            && nodes != seg_nodes
        {
            // The backup becomes the primary; the next backup comes with
            // the next answer from the service.
            if let Some(e) = self.agents[node as usize].iter_mut().find(|e| e.stream == stream) {
                e.primary = (nodes.clone(), links.clone());
                e.backup = None;
            }
            self.stats.local_switches += 1;
            return Some(self.switch(now_us, stream, node, nodes, links, qsum, true, true, false));
        }
        let class_min = if self.is_hot(stream) { self.policy.hot_min_quality } else { self.policy.min_quality };
        let limit = if why == Why::Improve { limit_of(class_min + self.policy.switch_margin) } else { q_limit };
        let mesh = self.mode == Mode::Mesh;
        if mesh {
            self.stats.service_requests += 1;
        }
        // Improvement: only paths no dearer than the current one can win,
        // and only cheaper ones when no quality can beat it by the margin.
        let cap = if why != Why::Improve {
            INF
        } else if quality_of(cur_q) + self.policy.switch_margin >= 100.0 {
            self.path_cost(&seg_nodes, &seg_links).saturating_sub(1)
        } else {
            self.path_cost(&seg_nodes, &seg_links)
        };
        // A search that hits its label limit finds nothing this round.
        let found = self.best_path_capped(stream, node, limit, hop_limit, &avoid, cap).unwrap_or_default();
        let Some(f) = found else {
            if why == Why::Failed {
                self.stats.reroute_failures += 1;
            }
            return None;
        };
        if f.nodes == seg_nodes {
            return None;
        }
        if why == Why::Improve {
            let cur_cost = self.path_cost(&seg_nodes, &seg_links);
            let gain = quality_of(f.qsum) - quality_of(cur_q);
            if !(f.cost < cur_cost || (f.cost <= cur_cost && gain > self.policy.switch_margin)) {
                return None;
            }
        }
        if mesh {
            let back_avoid = Avoid { links: f.links.clone(), ..avoid.clone() };
            let backup = self.best_path(stream, node, q_limit, hop_limit, &back_avoid).ok().flatten();
            self.agent_store(node, stream, (f.nodes.clone(), f.links.clone()), backup.map(|b| (b.nodes, b.links)));
        }
        Some(self.switch(now_us, stream, node, f.nodes, f.links, f.qsum, why == Why::Failed, false, mesh))
    }

    /// Moves `node`'s upstream to the path `nodes` (a carrier ... node).
    #[allow(clippy::too_many_arguments)]
    fn switch(
        &mut self,
        now_us: u64,
        stream: u32,
        node: u32,
        nodes: Vec<u32>,
        links: Vec<u32>,
        qsum: u64,
        forced: bool,
        local: bool,
        service: bool,
    ) -> Reroute {
        let mode = self.mode;
        let s = self.streams.get_mut(&stream).unwrap();
        let (old_nodes, _) = segment(s, node);
        let (parent, _) = s.carriers[&node].up.expect("anchors have an upstream");
        remove_child(s, parent, node);
        let mut released = prune(s, parent, mode);
        let last = nodes.len() - 1;
        let depth0 = s.carriers[&nodes[0]].depth;
        for i in 1..last {
            let c = Carrier {
                up: Some((nodes[i - 1], links[i - 1])),
                depth: depth0 + i as u16,
                wanted: false,
                children: Vec::new(),
                since_us: now_us,
                prev_segment: Vec::new(),
            };
            s.carriers.insert(nodes[i], c);
            add_child(s, nodes[i - 1], nodes[i]);
            released.retain(|&x| x != nodes[i]);
        }
        add_child(s, nodes[last - 1], node);
        let c = s.carriers.get_mut(&node).unwrap();
        c.up = Some((nodes[last - 1], links[last - 1]));
        c.since_us = now_us;
        let ping_pong = c.prev_segment == nodes;
        c.prev_segment = old_nodes;
        set_depths(s, node, depth0 + last as u16);
        self.stats.switches += 1;
        self.stats.forced_switches += forced as u64;
        self.stats.ping_pongs += ping_pong as u64;
        self.change_epoch += 1;
        let route = self.make_route(nodes, links, qsum, service);
        Reroute { stream, node, route, forced, local, ping_pong, released }
    }

    // ---------------------------------------------------------- hop waste

    /// Fewest hops of any path from `source` to `target` under the mode's
    /// rules over the usable links, ignoring the hop bound and quality: the
    /// denominator of hop waste. Tree and pool: edges do not relay and no
    /// link joins two edges (the tree's own rule path is one such path); mesh: no
    /// interconnects and ISP crossings only at multi-line nodes. `None`
    /// when there is no such path (or an id is out of range). BFS trees per
    /// source are cached until a link's usability changes.
    pub fn shortest_hops(&self, source: u32, target: u32) -> Option<u8> {
        let n = self.graph.node_count();
        if source as usize >= n || target as usize >= n {
            return None;
        }
        if source == target {
            return Some(0);
        }
        let mut cache = self.hop_cache.borrow_mut();
        let fresh = cache.entries.get(&source).is_some_and(|(e, _)| *e == self.topo_epoch);
        if !fresh {
            let rules = if self.mode == Mode::Mesh { Rules::Mesh { mask: u32::MAX } } else { Rules::Pool };
            let net = self.net();
            let mut dist = vec![u8::MAX; n];
            dist[source as usize] = 0;
            let mut queue = VecDeque::from([source]);
            while let Some(u) = queue.pop_front() {
                let d = dist[u as usize];
                if (u != source && !rules.relays(&net, u)) || d == u8::MAX - 1 {
                    continue;
                }
                for arc in net.arcs(u) {
                    let v = arc.to as usize;
                    if dist[v] == u8::MAX && arc.usable && rules.arc_ok(arc) {
                        dist[v] = d + 1;
                        queue.push_back(arc.to);
                    }
                }
            }
            if cache.entries.remove(&source).is_none() {
                if cache.order.len() >= cache.capacity
                    && let Some(old) = cache.order.pop_front()
                {
                    cache.entries.remove(&old);
                }
                cache.order.push_back(source);
            }
            cache.entries.insert(source, (self.topo_epoch, dist));
        }
        let d = cache.entries[&source].1[target as usize];
        (d != u8::MAX).then_some(d)
    }

    // ------------------------------------------------------- up-leg copies

    /// More paths for a stream's up-leg, the ingest side of the chain that
    /// the shared-CDN talk copies over more than one link because it is the
    /// weakest part
    /// (docs/references.md, Up-leg copies and hot-stream rule):
    /// up to `extra` paths from `primary.nodes[0]` (the ingest) to its last
    /// node (the top: the tree's root), each sharing no link and no intermediate
    /// node with the primary or with an earlier copy (node-disjoint
    /// inside, so a relay on one copy forwards on that copy alone).
    /// Each is the fewest-hop path (at most `max_hops`) over the links
    /// usable now, intermediate nodes relaying under the pool rules
    /// (edges never relay, no link joins two edges), ties to the lower
    /// node id at each hop; found greedily, one after the other, so a
    /// set of disjoint paths that exists can be missed. Fewer than
    /// `extra` come back when the graph has no more (none for a one-node
    /// primary).
    pub fn up_leg_copies(&self, primary: &Route, extra: usize) -> Vec<Route> {
        let n = self.graph.node_count();
        let (Some(&from), Some(&to)) = (primary.nodes.first(), primary.nodes.last()) else { return Vec::new() };
        if from == to || from as usize >= n || to as usize >= n {
            return Vec::new();
        }
        let mut used_nodes = vec![false; n];
        let mut used_links = vec![false; self.graph.link_count()];
        let mark = |nodes: &[u32], links: &[u32], un: &mut [bool], ul: &mut [bool]| {
            for &u in &nodes[1..nodes.len() - 1] {
                un[u as usize] = true;
            }
            for &l in links {
                ul[l as usize] = true;
            }
        };
        mark(&primary.nodes, &primary.links, &mut used_nodes, &mut used_links);
        let net = self.net();
        let rules = Rules::Pool;
        let mut out = Vec::new();
        while out.len() < extra {
            // Breadth first from the ingest; `prev[v]` = (node, link) it was
            // reached from. Arcs are in CSR order (by neighbour id), so the
            // first path found to each node is the lowest-id one.
            let mut prev: Vec<Option<(u32, u32)>> = vec![None; n];
            let mut dist = vec![u8::MAX; n];
            dist[from as usize] = 0;
            let mut queue = VecDeque::from([from]);
            while let Some(u) = queue.pop_front() {
                let d = dist[u as usize];
                if u == to || (u != from && !rules.relays(&net, u)) || d >= self.policy.max_hops {
                    continue;
                }
                for arc in net.arcs(u) {
                    let v = arc.to as usize;
                    let free = arc.to == to || !used_nodes[v];
                    if dist[v] == u8::MAX && arc.usable && rules.arc_ok(arc) && free && !used_links[arc.link as usize] {
                        dist[v] = d + 1;
                        prev[v] = Some((u, arc.link));
                        queue.push_back(arc.to);
                    }
                }
            }
            if dist[to as usize] == u8::MAX {
                break;
            }
            let (mut nodes, mut links) = (vec![to], Vec::new());
            while let Some((u, l)) = prev[*nodes.last().unwrap() as usize] {
                nodes.push(u);
                links.push(l);
            }
            nodes.reverse();
            links.reverse();
            mark(&nodes, &links, &mut used_nodes, &mut used_links);
            let qsum = links.iter().fold(0u64, |q, &l| q.saturating_add(self.qcost[l as usize]));
            out.push(self.make_route(nodes, links, qsum, false));
        }
        out
    }

    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        for (sid, s) in &self.streams {
            for (&n, c) in &s.carriers {
                let mut kids = c.children.clone();
                kids.sort_unstable();
                assert_eq!(kids, c.children, "stream {sid} node {n}: children sorted");
                for &k in &c.children {
                    assert_eq!(s.carriers[&k].up.map(|u| u.0), Some(n), "stream {sid}: child {k} of {n}");
                    assert_eq!(s.carriers[&k].depth, c.depth + 1, "stream {sid}: depth of {k}");
                }
                match c.up {
                    Some((p, l)) => {
                        assert!(s.carriers[&p].children.contains(&n), "stream {sid}: {n} listed under {p}");
                        let link = self.graph.link(l);
                        assert!((link.a, link.b) == (p, n) || (link.a, link.b) == (n, p));
                        assert!(c.wanted || !c.children.is_empty(), "stream {sid}: idle relay {n}");
                    }
                    None => {
                        let top = s.up_leg.as_ref().map(|(nodes, _)| *nodes.last().unwrap()).unwrap_or(s.source);
                        assert_eq!(n, top, "stream {sid}: only the top has no upstream");
                    }
                }
            }
        }
    }
}

type Path3 = (Vec<u32>, Vec<u32>, u64);

#[cfg(test)]
#[path = "router_tests.rs"]
mod tests;

/// Quality cost limit for a minimum quality in points.
fn limit_of(min_quality: f64) -> u64 {
    if min_quality <= 0.0 { INF - 1 } else { qcost_of_score(min_quality) }
}

fn add_child(s: &mut Stream, parent: u32, child: u32) {
    let kids = &mut s.carriers.get_mut(&parent).unwrap().children;
    if let Err(i) = kids.binary_search(&child) {
        kids.insert(i, child);
    }
}

fn remove_child(s: &mut Stream, parent: u32, child: u32) {
    let kids = &mut s.carriers.get_mut(&parent).unwrap().children;
    if let Ok(i) = kids.binary_search(&child) {
        kids.remove(i);
    }
}

/// Removes `node` and then its upstream carriers while they are neither
/// wanted nor have children; returns the nodes that stop carrying.
fn prune(s: &mut Stream, node: u32, mode: Mode) -> Vec<u32> {
    let mut released = Vec::new();
    let mut x = node;
    loop {
        let c = &s.carriers[&x];
        let keep_top = c.up.is_none() && (mode != Mode::Tree || s.published);
        if c.wanted || !c.children.is_empty() || keep_top {
            break;
        }
        let up = c.up;
        s.carriers.remove(&x);
        released.push(x);
        match up {
            Some((p, _)) => {
                remove_child(s, p, x);
                x = p;
            }
            None => {
                // Tree root: nothing flows down any more, so the up-leg stops.
                if let Some((nodes, _)) = s.up_leg.take() {
                    let more: Vec<u32> = nodes.iter().copied().filter(|n| !released.contains(n)).collect();
                    released.extend(more);
                }
                break;
            }
        }
    }
    let on_up_leg = |n: &u32| s.up_leg.as_ref().is_some_and(|(nodes, _)| nodes.contains(n));
    released.retain(|n| *n != s.source && !on_up_leg(n));
    released
}

/// The segment above `node`: from the nearest anchor (wanted, branching,
/// or the top) down to `node`, as (nodes, links).
fn segment(s: &Stream, node: u32) -> Path {
    let mut nodes = vec![node];
    let mut links = Vec::new();
    let mut x = node;
    while let Some((p, l)) = s.carriers[&x].up {
        nodes.push(p);
        links.push(l);
        let c = &s.carriers[&p];
        if c.wanted || c.children.len() != 1 || c.up.is_none() {
            break;
        }
        x = p;
    }
    nodes.reverse();
    links.reverse();
    (nodes, links)
}

/// `node` and every carrier below it, sorted.
fn subtree(s: &Stream, node: u32) -> Vec<u32> {
    let mut out = vec![node];
    let mut i = 0;
    while i < out.len() {
        out.extend_from_slice(&s.carriers[&out[i]].children);
        i += 1;
    }
    out.sort_unstable();
    out
}

/// Hops from `node` down to its deepest descendant.
fn height(s: &Stream, node: u32) -> u8 {
    let base = s.carriers[&node].depth;
    let deepest = subtree(s, node).iter().map(|n| s.carriers[n].depth).max().unwrap_or(base);
    (deepest - base).min(u8::MAX as u16) as u8
}

fn set_depths(s: &mut Stream, node: u32, depth: u16) {
    let mut stack = vec![(node, depth)];
    while let Some((x, d)) = stack.pop() {
        let c = s.carriers.get_mut(&x).unwrap();
        c.depth = d;
        stack.extend(c.children.iter().map(|&k| (k, d + 1)));
    }
}
