//! The exact hop-bounded quality-cost search.
//!
//! Problem: from a set of start carriers (each with its hop depth and its
//! own quality from the stream's source), reach `target` with at most
//! `hop_limit` hops in all, quality at least the class minimum, relaying
//! only through nodes the rules allow and that do not carry the stream,
//! at the lowest cost; ties go to the higher quality, then fewer hops, then
//! lower node ids read back from the target (the node before the target
//! first, then the one before it; a shorter path first when one runs out).
//!
//! Integer arithmetic keeps ties exact and results independent of the order
//! of additions: costs are in micro-units, and quality is a sum of
//! `round(-ln(score / 100) * 1e6)` per link (a product of scores in the log
//! domain), compared with the same transform of the class minimum.
//!
//! Method: A* label-setting over (node, hops) with Pareto labels (cost,
//! quality, hops). A label is dropped when another label at its node is no
//! worse in all three (equal ones by node ids, see below): every completion
//! of the dropped label is then matched by the same completion of the kept
//! one.
//! Labels are popped by cost + a lower bound on the cost still to pay; the
//! search ends once that key exceeds the best complete cost, so every path
//! tying with the best on cost has been seen. Because every link costs at
//! least `cost_per_hop` > 0, a walk with a cycle is strictly dearer than
//! the path without it: the optimum over walks is a simple path.
//!
//! Bounds: per (target, rules), `lb[h][v]` = the least cost from `v` to the
//! target in at most `h` hops over usable links under the rules, ignoring
//! carriers and quality (so it is admissible). It depends only on which
//! links are usable, never on scores, so the router keeps these tables
//! across score changes and drops them when a link's usability changes
//! (the topology epoch). Computed by a backward Bellman-Ford over hop
//! layers that touches only nodes improved in the previous layer.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use crate::error::NoRoute;
use crate::limits::MAX_LABELS;

pub(crate) const INF: u64 = u64::MAX;
const NONE: u32 = u32::MAX;

/// Which links and relays a path may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rules {
    /// Pools (and the tree's shortest hops): any usable link except one
    /// between two edges; edge nodes never relay.
    Pool,
    /// Mesh: no interconnect links, and each link's ends share an ISP in
    /// `mask` (so crossing ISPs needs a multi-line node).
    Mesh { mask: u32 },
}

impl Rules {
    pub(crate) fn arc_ok(self, arc: &ArcData) -> bool {
        match self {
            Rules::Pool => !arc.edge_edge,
            Rules::Mesh { mask } => arc.share & mask != 0,
        }
    }

    pub(crate) fn relays(self, net: &Net, v: u32) -> bool {
        match self {
            Rules::Pool => net.relay_pool[v as usize],
            Rules::Mesh { .. } => true,
        }
    }
}

/// One direction of a link as the router sees it, in the graph's CSR
/// order: everything a search reads about an arc in one place.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ArcData {
    pub to: u32,
    pub link: u32,
    /// Cost of sending from the arc's node to `to`, and from `to` back.
    pub cost_out: u64,
    pub cost_in: u64,
    /// Quality cost of the link (-ln(score / 100) in 1e-6 units).
    pub qcost: u64,
    /// ISPs both ends are on; 0 when the link is an interconnect.
    pub share: u32,
    pub usable: bool,
    /// Both ends are edges.
    pub edge_edge: bool,
}

/// The router's view of the graph for searches.
pub(crate) struct Net<'a> {
    pub offsets: &'a [u32],
    pub arcs: &'a [ArcData],
    /// Whether each node may relay in a pool (it is not an edge).
    pub relay_pool: &'a [bool],
}

impl Net<'_> {
    pub(crate) fn nodes(&self) -> usize {
        self.relay_pool.len()
    }

    pub(crate) fn arcs(&self, u: u32) -> &[ArcData] {
        &self.arcs[self.offsets[u as usize] as usize..self.offsets[u as usize + 1] as usize]
    }
}

/// Bounds are stored as u32 micro-units, saturated below `LB_INF`: a
/// smaller bound is still a lower bound.
pub(crate) const LB_INF: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Table {
    epoch: u64,
    lb: Vec<u32>,
}

/// Bounded cache of lower-bound tables, oldest dropped first. Eviction only
/// costs time: a table is recomputed exactly when next needed.
#[derive(Clone, Debug)]
pub(crate) struct BoundCache {
    entries: BTreeMap<(u32, Rules), Table>,
    order: VecDeque<(u32, Rules)>,
    capacity: usize,
    layers: usize,
    pub built: u64,
}

/// Memory for lower-bound tables, all targets together.
pub(crate) const BOUND_CACHE_BYTES: usize = 64 << 20;

impl BoundCache {
    pub(crate) fn new(nodes: usize, max_hops: u8) -> Self {
        let layers = max_hops as usize + 1;
        let capacity = (BOUND_CACHE_BYTES / (4 * layers * nodes).max(1)).max(1);
        BoundCache { entries: BTreeMap::new(), order: VecDeque::new(), capacity, layers, built: 0 }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }

    /// The table for (target, rules), computed if missing or older than
    /// `epoch`.
    pub(crate) fn get(&mut self, net: &Net, target: u32, rules: Rules, epoch: u64) -> &[u32] {
        let key = (target, rules);
        let fresh = self.entries.get(&key).is_some_and(|t| t.epoch == epoch);
        if !fresh {
            let mut lb = match self.entries.remove(&key) {
                Some(t) => t.lb,
                None => {
                    if self.order.len() >= self.capacity
                        && let Some(old) = self.order.pop_front()
                    {
                        self.entries.remove(&old);
                    }
                    self.order.push_back(key);
                    Vec::new()
                }
            };
            compute_bounds(net, rules, target, self.layers, &mut lb);
            self.built += 1;
            self.entries.insert(key, Table { epoch, lb });
        }
        &self.entries[&key].lb
    }
}

fn compute_bounds(net: &Net, rules: Rules, target: u32, layers: usize, lb: &mut Vec<u32>) {
    let n = net.nodes();
    lb.clear();
    lb.resize(layers * n, LB_INF);
    lb[target as usize] = 0;
    let mut frontier = vec![target];
    let mut next = Vec::new();
    for h in 1..layers {
        let (done, rest) = lb.split_at_mut(h * n);
        let prev = &done[(h - 1) * n..];
        let cur = &mut rest[..n];
        cur.copy_from_slice(prev);
        next.clear();
        for &v in &frontier {
            if v != target && !rules.relays(net, v) {
                continue;
            }
            let dv = prev[v as usize] as u64;
            for arc in net.arcs(v) {
                if !arc.usable || !rules.arc_ok(arc) {
                    continue;
                }
                let u = arc.to as usize;
                let c = (arc.cost_in + dv).min(LB_INF as u64 - 1) as u32;
                if c < cur[u] {
                    if cur[u] == prev[u] {
                        next.push(arc.to);
                    }
                    cur[u] = c;
                }
            }
        }
        std::mem::swap(&mut frontier, &mut next);
        if frontier.is_empty() {
            // Nothing improves any more: the remaining layers equal this one.
            let (done, rest) = lb.split_at_mut((h + 1) * n);
            for chunk in rest.chunks_mut(n) {
                chunk.copy_from_slice(&done[h * n..]);
            }
            break;
        }
    }
}

/// A carrier a path may start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Start {
    pub node: u32,
    /// Hops from the stream's source to this carrier.
    pub depth: u8,
    /// Quality cost from the stream's source to this carrier.
    pub qsum: u64,
}

pub(crate) struct Request<'a> {
    pub target: u32,
    pub starts: &'a [Start],
    /// Most hops from the stream's source to the target.
    pub hop_limit: u8,
    /// Largest acceptable quality cost at the target.
    pub q_limit: u64,
    pub rules: Rules,
    /// Nodes that may not relay (they carry the stream already).
    pub blocked: &'a [u32],
    /// Links the path may not use.
    pub forbidden: &'a [u32],
    /// Paths dearer than this are not wanted (INF: no cap).
    pub cost_cap: u64,
}

/// The chosen path, from its start carrier to the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub nodes: Vec<u32>,
    pub links: Vec<u32>,
    pub cost: u64,
    /// Quality cost from the stream's source to the target.
    pub qsum: u64,
}

#[derive(Clone, Copy, Debug)]
struct Label {
    node: u32,
    hops: u8,
    dead: bool,
    cost: u64,
    qsum: u64,
    pred: u32,
    link: u32,
    /// Next label at the same node.
    next: u32,
}

/// Buffers reused by every search; stamps make clearing O(1).
#[derive(Clone, Debug, Default)]
pub(crate) struct Scratch {
    labels: Vec<Label>,
    heap: BinaryHeap<Reverse<(u64, u64, u8, u32)>>,
    head: Vec<u32>,
    head_stamp: Vec<u32>,
    blocked_stamp: Vec<u32>,
    forbid_stamp: Vec<u32>,
    stamp: u32,
    pub labels_created: u64,
}

impl Scratch {
    fn begin(&mut self, nodes: usize, links: usize) {
        if self.head.len() != nodes || self.forbid_stamp.len() != links || self.stamp == u32::MAX {
            self.head = vec![NONE; nodes];
            self.head_stamp = vec![0; nodes];
            self.blocked_stamp = vec![0; nodes];
            self.forbid_stamp = vec![0; links];
            self.stamp = 0;
        }
        self.stamp += 1;
        self.labels.clear();
        self.heap.clear();
    }

    fn first_at(&self, v: u32) -> u32 {
        if self.head_stamp[v as usize] == self.stamp { self.head[v as usize] } else { NONE }
    }

    /// Whether path (pred_a, node) <= path (pred_b, node) in node ids read
    /// back from `node`: the predecessors first, then theirs; a path that
    /// runs out first (shorter) is smaller. Extending both paths by the
    /// same links keeps their order, which is what dominance needs; and the
    /// first differing predecessor usually decides at once.
    fn lex_le(&self, pred_a: u32, pred_b: u32) -> bool {
        let (mut x, mut y) = (pred_a, pred_b);
        loop {
            if x == y {
                return true;
            }
            if x == NONE {
                return true;
            }
            if y == NONE {
                return false;
            }
            let (lx, ly) = (&self.labels[x as usize], &self.labels[y as usize]);
            if lx.node != ly.node {
                return lx.node < ly.node;
            }
            x = lx.pred;
            y = ly.pred;
        }
    }

    /// Adds `new` unless a label at its node dominates it; marks the labels
    /// it dominates dead. Returns the new label's index.
    fn insert(&mut self, new: Label) -> Result<Option<u32>, NoRoute> {
        // Walks the node's list, unlinking dead labels on the way so that
        // lists stay short.
        let mut prev = NONE;
        let mut i = self.first_at(new.node);
        while i != NONE {
            let e = self.labels[i as usize];
            let mut kill = e.dead;
            if !e.dead {
                let e_le = e.cost <= new.cost && e.qsum <= new.qsum && e.hops <= new.hops;
                let n_le = new.cost <= e.cost && new.qsum <= e.qsum && new.hops <= e.hops;
                if e_le && (!n_le || self.lex_le(e.pred, new.pred)) {
                    return Ok(None);
                }
                kill = n_le;
            }
            if kill {
                self.labels[i as usize].dead = true;
                if prev == NONE {
                    self.head[new.node as usize] = e.next;
                } else {
                    self.labels[prev as usize].next = e.next;
                }
            } else {
                prev = i;
            }
            i = e.next;
        }
        if self.labels.len() >= MAX_LABELS {
            return Err(NoRoute::SearchLimit);
        }
        let idx = self.labels.len() as u32;
        let v = new.node as usize;
        let next = self.first_at(new.node);
        self.labels.push(Label { next, ..new });
        self.head[v] = idx;
        self.head_stamp[v] = self.stamp;
        self.labels_created += 1;
        Ok(Some(idx))
    }
}

/// Runs one search; `lb` is the bound table for (target, rules) with
/// `max_hops + 1` layers, `hop_limit <= max_hops`.
pub(crate) fn search(s: &mut Scratch, net: &Net, lb: &[u32], req: &Request) -> Result<Option<Found>, NoRoute> {
    let n = net.nodes();
    s.begin(n, net.arcs.len() / 2);
    let stamp = s.stamp;
    for &b in req.blocked {
        s.blocked_stamp[b as usize] = stamp;
    }
    for &l in req.forbidden {
        s.forbid_stamp[l as usize] = stamp;
    }
    let h_max = req.hop_limit;
    let bound = |hops: u8, v: u32| lb[(h_max - hops) as usize * n + v as usize];

    for st in req.starts {
        if st.depth > h_max || st.qsum > req.q_limit {
            continue;
        }
        let b = bound(st.depth, st.node);
        if b == LB_INF {
            continue;
        }
        let label = Label {
            node: st.node,
            hops: st.depth,
            dead: false,
            cost: 0,
            qsum: st.qsum,
            pred: NONE,
            link: NONE,
            next: NONE,
        };
        if let Some(idx) = s.insert(label)? {
            s.heap.push(Reverse((b as u64, st.qsum, st.depth, idx)));
        }
    }

    // Until a path is found, `best` is the cap: dearer labels are pruned.
    let mut best = req.cost_cap;
    let mut winners: Vec<u32> = Vec::new();
    while let Some(Reverse((f, _, _, idx))) = s.heap.pop() {
        if f > best {
            break;
        }
        let l = s.labels[idx as usize];
        if l.dead {
            continue;
        }
        if l.node == req.target {
            best = l.cost;
            winners.push(idx);
            continue;
        }
        if l.hops >= h_max {
            continue;
        }
        let hops = l.hops + 1;
        for arc in net.arcs(l.node) {
            // Cheap tests on the packed arc first, scattered lookups last.
            if !arc.usable || !req.rules.arc_ok(arc) {
                continue;
            }
            let qsum = l.qsum.saturating_add(arc.qcost);
            let cost = l.cost + arc.cost_out;
            if qsum > req.q_limit || cost > best {
                continue;
            }
            let (v, link) = (arc.to, arc.link);
            let relay = v != req.target;
            if relay && !req.rules.relays(net, v) {
                continue;
            }
            let b = bound(hops, v);
            let key = cost.saturating_add(b as u64);
            if b == LB_INF || key > best {
                continue;
            }
            if s.forbid_stamp[link as usize] == stamp || (relay && s.blocked_stamp[v as usize] == stamp) {
                continue;
            }
            let label = Label { node: v, hops, dead: false, cost, qsum, pred: idx, link, next: NONE };
            if let Some(i) = s.insert(label)? {
                s.heap.push(Reverse((key, qsum, hops, i)));
            }
        }
    }

    // All winners share the best cost; pick by quality, hops, then nodes.
    let mut pick: Option<u32> = None;
    for &w in &winners {
        let lw = s.labels[w as usize];
        pick = match pick {
            None => Some(w),
            Some(p) => {
                let lp = s.labels[p as usize];
                let better = (lw.qsum, lw.hops) < (lp.qsum, lp.hops)
                    || ((lw.qsum, lw.hops) == (lp.qsum, lp.hops) && !s.lex_le(lp.pred, lw.pred));
                Some(if better { w } else { p })
            }
        };
    }
    Ok(pick.map(|w| {
        let mut nodes = Vec::new();
        let mut links = Vec::new();
        let mut i = w;
        while i != NONE {
            let l = s.labels[i as usize];
            nodes.push(l.node);
            if l.link != NONE {
                links.push(l.link);
            }
            i = l.pred;
        }
        nodes.reverse();
        links.reverse();
        let l = s.labels[w as usize];
        Found { nodes, links, cost: l.cost, qsum: l.qsum }
    }))
}
