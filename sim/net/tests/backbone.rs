//! Property tests of backbone paths over synthetic topologies, against a
//! brute-force Dijkstra written here from the rule alone:
//! - a path exists exactly when the brute force finds one;
//! - it is a walk from source to destination over links that are up, with
//!   no repeated node and only PoPs in between (IDCs carry no transit);
//! - its latency is the sum of its links' and the minimum allowed: the
//!   same-ISP minimum when some common ISP connects the ends (and then it
//!   crosses no interconnect), else the minimum over everything;
//! - the incrementally invalidated cache gives exactly the paths of a
//!   backbone built fresh with the same links down;
//! - a shared-risk group taken down and brought back restores every path.

use cdnsim_engine::stream;
use cdnsim_net::backbone::{
    Backbone, Endpoint, GroupId, IdcId, IspId, Link, LinkId, LinkKind, Path, PopId, SynthParams, synthetic,
};
use proptest::prelude::*;
use rand::Rng;

const UNREACHED: u64 = u64::MAX;

fn endpoints(bb: &Backbone) -> Vec<Endpoint> {
    let pops = (0..bb.pops().len()).map(|p| Endpoint::Pop(PopId(p as u32)));
    pops.chain((0..bb.idcs().len()).map(|d| Endpoint::Idc(IdcId(d as u32)))).collect()
}

fn node(bb: &Backbone, e: Endpoint) -> usize {
    bb.node_index(e).index()
}

/// Plain O(V^2) Dijkstra from `src` over the links `allowed` accepts, not
/// expanding IDCs other than the source.
fn brute(bb: &Backbone, src: Endpoint, allowed: &dyn Fn(LinkId, &Link) -> bool) -> Vec<u64> {
    let n = bb.pops().len() + bb.idcs().len();
    let mut adj: Vec<Vec<(usize, LinkId)>> = vec![Vec::new(); n];
    for (i, l) in bb.links().iter().enumerate() {
        let id = LinkId(i as u32);
        if allowed(id, l) {
            let (a, b) = (node(bb, l.a), node(bb, l.b));
            adj[a].push((b, id));
            adj[b].push((a, id));
        }
    }
    let mut dist = vec![UNREACHED; n];
    let mut done = vec![false; n];
    let s = node(bb, src);
    dist[s] = 0;
    while let Some(u) = (0..n).filter(|&v| !done[v] && dist[v] != UNREACHED).min_by_key(|&v| dist[v]) {
        done[u] = true;
        if u != s && matches!(bb.endpoint(petgraph::graph::NodeIndex::new(u)), Endpoint::Idc(_)) {
            continue;
        }
        for &(v, l) in &adj[u] {
            let d = dist[u] + bb.link(l).latency_ns;
            if d < dist[v] {
                dist[v] = d;
            }
        }
    }
    dist
}

fn pop_isp(bb: &Backbone, e: Endpoint) -> Option<IspId> {
    match e {
        Endpoint::Pop(p) => Some(bb.pop(p).isp),
        Endpoint::Idc(_) => None,
    }
}

/// Expected latency from `src` to every node: (same-ISP minimum per
/// common ISP, overall minimum).
struct Expected {
    per_isp: Vec<(IspId, Vec<u64>)>,
    any: Vec<u64>,
}

fn expected_from(bb: &Backbone, src: Endpoint) -> Expected {
    let per_isp = bb
        .endpoint_isps(src)
        .into_iter()
        .map(|isp| {
            let allowed = |id: LinkId, l: &Link| {
                bb.is_up(id)
                    && match l.kind {
                        LinkKind::Backbone { isp: i } => i == isp,
                        LinkKind::Interconnect { .. } => false,
                        LinkKind::Access { .. } => pop_isp(bb, l.a).or(pop_isp(bb, l.b)) == Some(isp),
                    }
            };
            (isp, brute(bb, src, &allowed))
        })
        .collect();
    let any = brute(bb, src, &|id, _| bb.is_up(id));
    Expected { per_isp, any }
}

/// Checks one path against the brute force; returns a description of the
/// first violation.
fn check(bb: &Backbone, exp: &Expected, from: Endpoint, to: Endpoint, path: Option<&Path>) -> Result<(), String> {
    let t = node(bb, to);
    let to_isps = bb.endpoint_isps(to);
    let same = exp.per_isp.iter().filter(|(i, _)| to_isps.contains(i)).map(|(_, d)| d[t]).min().unwrap_or(UNREACHED);
    let want = if from == to { 0 } else if same != UNREACHED { same } else { exp.any[t] };
    let Some(path) = path else {
        return if want == UNREACHED { Ok(()) } else { Err(format!("no path, brute force found {want} ns")) };
    };
    if want == UNREACHED {
        return Err(format!("path {path:?} where the brute force finds none"));
    }
    if path.latency_ns != want {
        return Err(format!("latency {} ns, shortest allowed {want} ns ({path:?})", path.latency_ns));
    }
    if same != UNREACHED && from != to {
        if path.interconnects != 0 || path.isp.is_none() {
            return Err(format!("same-ISP path exists ({same} ns) but {path:?} crosses ISPs"));
        }
        let isp = path.isp.unwrap();
        for &l in &path.links {
            if let LinkKind::Backbone { isp: i } = bb.link(l).kind
                && i != isp
            {
                return Err(format!("path on {isp:?} uses a link of {i:?}"));
            }
        }
    }
    let mut seen = vec![node(bb, from)];
    let (mut at, mut sum) = (from, 0u64);
    for (k, &l) in path.links.iter().enumerate() {
        let link = bb.link(l);
        if !bb.is_up(l) {
            return Err(format!("link {l:?} is down"));
        }
        if link.a != at && link.b != at {
            return Err(format!("link {l:?} does not start at {at:?}"));
        }
        at = link.other(at);
        if k + 1 < path.links.len() && matches!(at, Endpoint::Idc(_)) {
            return Err(format!("transit through IDC {at:?}"));
        }
        if seen.contains(&node(bb, at)) {
            return Err(format!("node {at:?} repeated"));
        }
        seen.push(node(bb, at));
        sum += link.latency_ns;
    }
    if at != to || sum != path.latency_ns || path.hops() != path.links.len() {
        return Err(format!("walk ends at {at:?}, sums to {sum} ns: {path:?}"));
    }
    Ok(())
}

fn all_paths(bb: &mut Backbone) -> Vec<Option<Path>> {
    let ends = endpoints(bb);
    let mut out = Vec::with_capacity(ends.len() * ends.len());
    for &a in &ends {
        for &b in &ends {
            out.push(bb.path(a, b));
        }
    }
    out
}

fn check_all(bb: &mut Backbone) -> Result<(), TestCaseError> {
    let ends = endpoints(bb);
    let paths = all_paths(bb);
    for (i, &a) in ends.iter().enumerate() {
        let exp = expected_from(bb, a);
        for (j, &b) in ends.iter().enumerate() {
            check(bb, &exp, a, b, paths[i * ends.len() + j].as_ref())
                .map_err(|e| TestCaseError::fail(format!("{a:?} -> {b:?}: {e}")))?;
        }
    }
    Ok(())
}

fn params() -> impl Strategy<Value = SynthParams> {
    (1usize..16, 1usize..6, 1usize..5, 0usize..5).prop_map(|(regions, isps, idcs_per_region, ics)| SynthParams {
        regions,
        isps,
        idcs_per_region,
        interconnects: ics.min(regions),
        ..SynthParams::default()
    })
}

/// Links chosen to go down: each link independently with `share`.
fn down_set(bb: &Backbone, seed: u64, share: f64) -> Vec<LinkId> {
    let mut rng = stream(seed, "test.down");
    (0..bb.links().len()).filter(|_| rng.random::<f64>() < share).map(|i| LinkId(i as u32)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn paths_are_valid_shortest_and_same_isp_first(
        p in params(),
        seed in any::<u64>(),
        down_seed in any::<u64>(),
        share in prop_oneof![Just(0.0), Just(0.1), Just(0.3)],
    ) {
        let input = synthetic(&p, seed).unwrap();
        let mut warm = Backbone::new(input.clone()).unwrap();
        check_all(&mut warm)?;
        // Fail links after the cache is full, then compare with a backbone
        // that never saw them up.
        let down = down_set(&warm, down_seed, share);
        warm.set_links_up(&down, false);
        check_all(&mut warm)?;
        let mut fresh = Backbone::new(input).unwrap();
        fresh.set_links_up(&down, false);
        prop_assert_eq!(all_paths(&mut warm), all_paths(&mut fresh));
        // And bring them back.
        warm.set_links_up(&down, true);
        let mut pristine = Backbone::new(synthetic(&p, seed).unwrap()).unwrap();
        prop_assert_eq!(all_paths(&mut warm), all_paths(&mut pristine));
    }

    #[test]
    fn corridor_down_and_up_restores_paths_exactly(p in params(), seed in any::<u64>(), pick in any::<u32>()) {
        let mut bb = Backbone::new(synthetic(&p, seed).unwrap()).unwrap();
        prop_assume!(bb.group_count() > 0);
        let before = all_paths(&mut bb);
        let g = GroupId(pick % bb.group_count() as u32);
        let links = bb.group_links(g).to_vec();
        prop_assert_eq!(bb.set_group_up(g, false), links.len());
        for path in all_paths(&mut bb).iter().flatten() {
            prop_assert!(path.links.iter().all(|l| !links.contains(l)), "{:?} uses a down link", path);
        }
        check_all(&mut bb)?;
        bb.set_group_up(g, true);
        prop_assert_eq!(all_paths(&mut bb), before);
    }
}

#[test]
fn a_change_invalidates_only_what_it_must() {
    let mut bb = Backbone::new(synthetic(&SynthParams { regions: 30, ..SynthParams::default() }, 11).unwrap()).unwrap();
    bb.warm_cache();
    let full = bb.cache_stats();
    assert_eq!(full.trees_cached, 2 * bb.pops().len());
    // An access link is never in a tree.
    let access = (0..bb.links().len() as u32)
        .map(LinkId)
        .find(|&l| matches!(bb.link(l).kind, LinkKind::Access { .. }))
        .unwrap();
    bb.set_link_up(access, false);
    assert_eq!(bb.cache_stats().trees_invalidated, 0);
    // A backbone link: only trees of its ISP (own mode) or using it (any).
    let g = GroupId(0);
    bb.set_group_up(g, false);
    let after = bb.cache_stats();
    assert!(after.trees_invalidated > 0 && (after.trees_invalidated as usize) < full.trees_cached, "{after:?}");
}
