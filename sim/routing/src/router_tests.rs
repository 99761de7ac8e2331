//! Unit tests of the router: the talk's quality-cost example, the three
//! modes on a hand-built 3-region, 3-ISP graph, anti ping-pong, mesh agents,
//! hot pushes, failures and shortest hops.

use super::*;
use crate::graph::{LinkInfo, NodeInfo};

fn node(region: u16, isps: u32, tier: Tier, parent: Option<u32>) -> NodeInfo {
    NodeInfo { region, area: region, isps, tier, tree_parent: parent, price_per_gb: 0.2 }
}

fn link(a: u32, b: u32, delay_us: u32) -> LinkInfo {
    LinkInfo { a, b, delay_us, interconnect: false }
}

fn router(graph: Graph, mode: Mode, policy: Policy) -> Router {
    Router::new(graph, mode, policy, ScoreFn::default()).unwrap()
}

fn link_of(r: &Router, a: u32, b: u32) -> u32 {
    r.graph().find_link(a, b).unwrap()
}

/// docs/references.md, Quality-cost example. The talk: "returning to
/// Beijing is fastest, quality 98, but going through Shandong is quality
/// 95 and Shandong already has the stream, while Beijing needs one more
/// hop: a service that accepts 95 should go through Shandong".
///
/// Nodes: 0 the stream's source, 1 Beijing, 2 Shandong (carrying the
/// stream for its own viewer), 3 the target.
fn talk_graph() -> Graph {
    let nodes = vec![
        node(0, 1, Tier::Source, None),
        node(1, 1, Tier::Centre, Some(0)),
        node(2, 1, Tier::Centre, Some(0)),
        node(1, 1, Tier::Edge, Some(1)),
    ];
    let links = vec![link(0, 1, 5000), link(1, 3, 1000), link(0, 2, 5000), link(2, 3, 3000)];
    Graph::new(nodes, links).unwrap()
}

fn talk_case(mode: Mode, min_quality: f64) -> Route {
    let mut r = router(talk_graph(), mode, Policy { min_quality, ..Policy::default() });
    for (a, b, s) in [(0, 1, 100.0), (1, 3, 98.0), (0, 2, 100.0), (2, 3, 95.0)] {
        let l = link_of(&r, a, b);
        r.set_score_for_test(l, s);
    }
    let shandong = r.join(0, 7, 0, 2).unwrap();
    assert_eq!(shandong.nodes, vec![0, 2]);
    r.join(0, 7, 0, 3).unwrap()
}

#[test]
fn talk_example_carrier_at_95_beats_98_with_one_more_hop() {
    for mode in [Mode::Pool, Mode::Mesh] {
        let via_shandong = talk_case(mode, 95.0);
        assert_eq!(via_shandong.nodes, vec![2, 3], "{mode:?}");
        assert!((via_shandong.quality - 95.0).abs() < 1e-3);
        assert_eq!(via_shandong.hops(), 1);

        let via_beijing = talk_case(mode, 96.0);
        assert_eq!(via_beijing.nodes, vec![0, 1, 3], "{mode:?}");
        assert!((via_beijing.quality - 98.0).abs() < 1e-3);
        assert!(via_beijing.cost > via_shandong.cost);
    }
}

/// Three regions (areas), three ISPs (T, U, M = bits 0, 1, 2):
/// - 0: the multi-line source and tree root, region 0;
/// - 1 + 3r + i: centre of region r on ISP i (parent 0);
/// - 10 + 9r + 3i + k: edges k = 0, 1, 2 of region r on ISP i (parent:
///   their centre), chained k0 - k1 - k2;
/// - 37 + r: a multi-line (T+U+M) edge of region r (parent: centre T).
///
/// Links: tree links; centres of one ISP across regions; T-U
/// interconnects between the centres of a region; each region's
/// multi-line node to every edge and centre of its region and to the
/// other regions' multi-line nodes.
fn three_regions() -> Graph {
    let centre = |r: u32, i: u32| 1 + 3 * r + i;
    let edge = |r: u32, i: u32, k: u32| 10 + 9 * r + 3 * i + k;
    let multi = |r: u32| 37 + r;
    let mut nodes = vec![node(0, 0b111, Tier::Source, None)];
    for r in 0..3u16 {
        for i in 0..3 {
            nodes.push(node(r, 1 << i, Tier::Centre, Some(0)));
        }
    }
    for r in 0..3u32 {
        for i in 0..3 {
            for _ in 0..3 {
                nodes.push(node(r as u16, 1 << i, Tier::Edge, Some(centre(r, i))));
            }
        }
    }
    for r in 0..3u32 {
        nodes.push(node(r as u16, 0b111, Tier::Edge, Some(centre(r, 0))));
    }
    let mut links = Vec::new();
    for r in 0..3 {
        for i in 0..3 {
            links.push(link(0, centre(r, i), 10_000));
            for k in 0..3 {
                links.push(link(edge(r, i, k), centre(r, i), 2_000));
                links.push(link(multi(r), edge(r, i, k), 1_000));
            }
            links.push(link(edge(r, i, 0), edge(r, i, 1), 1_000));
            links.push(link(edge(r, i, 1), edge(r, i, 2), 1_000));
            links.push(link(multi(r), centre(r, i), 1_000));
            for q in r + 1..3 {
                links.push(link(centre(r, i), centre(q, i), 12_000));
            }
        }
        links.push(LinkInfo { a: centre(r, 0), b: centre(r, 1), delay_us: 15_000, interconnect: true });
        for q in r + 1..3 {
            links.push(link(multi(r), multi(q), 12_000));
        }
    }
    Graph::new(nodes, links).unwrap()
}

fn assert_route_links(r: &Router, route: &Route) {
    assert_eq!(route.links.len() + 1, route.nodes.len());
    for (w, &l) in route.nodes.windows(2).zip(&route.links) {
        assert_eq!(r.graph().find_link(w[0], w[1]), Some(l));
    }
}

#[test]
fn mesh_cross_isp_cross_region_cold_path_takes_at_most_five_hops() {
    // A generous bound, so that the short path is the router's choice and
    // not the bound's doing.
    let policy = Policy { max_hops: 8, ..Policy::default() };
    let mut r = router(three_regions(), Mode::Mesh, policy);
    let (source, target) = (10, 10 + 18 + 3 + 2); // region 0 on T -> region 2 on U
    let route = r.join(0, 1, source, target).unwrap();
    assert_route_links(&r, &route);
    assert!(route.hops() <= 5, "{route:?}");
    assert_eq!(route.nodes[0], source);
    assert!(route.service_round_trip);
    // ISPs are crossed only inside multi-line nodes: every link joins two
    // nodes on a common ISP and none is an interconnect.
    for (w, &l) in route.nodes.windows(2).zip(&route.links) {
        assert!(!r.graph().link(l).interconnect);
        assert_ne!(r.graph().node(w[0]).isps & r.graph().node(w[1]).isps, 0);
    }
    assert!(route.nodes.iter().any(|&n| r.graph().node(n).is_multi_line()));
    assert_eq!(r.shortest_hops(source, target), Some(route.hops() as u8));
}

#[test]
fn mesh_grafts_near_a_carrier_where_the_tree_climbs_to_the_root() {
    // Broadcaster and two viewers in region 1 on ISP T; the tree's root is
    // in region 0 (the talk's Shandong broadcaster, Beijing viewer and
    // Shanghai source).
    let (source, v1, v2) = (19, 20, 21);
    let mut mesh = router(three_regions(), Mode::Mesh, Policy::default());
    let mut tree = router(three_regions(), Mode::Tree, Policy::default());

    let m1 = mesh.join(0, 1, source, v1).unwrap();
    let m2 = mesh.join(0, 1, source, v2).unwrap();
    assert_eq!(m1.nodes, vec![source, v1]);
    // Grafts onto the first viewer's node rather than a new path from the
    // source (which would need the multi-line node: two hops).
    assert_eq!(m2.nodes, vec![v1, v2]);

    let t1 = tree.join(0, 1, source, v1).unwrap();
    let t2 = tree.join(0, 1, source, v2).unwrap();
    let centre = 1 + 3; // region 1, ISP T
    // The first join starts the up-leg (source -> centre -> root); the
    // route itself is the down-leg from the root, through the same centre
    // again: the legs are separate relays, so no route repeats a node.
    let up = t1.up_leg.as_deref().expect("the first join starts the up-leg");
    assert_eq!(up.nodes, vec![source, centre, 0]);
    assert_eq!(t1.nodes, vec![0, centre, v1]);
    assert_eq!(t2.nodes, vec![centre, v2]);
    assert_eq!(t2.up_leg, None);
    assert_route_links(&tree, &t1);
    assert_route_links(&tree, up);

    let mesh_links = m1.hops() + m2.hops();
    let tree_links = up.hops() + t1.hops() + t2.hops();
    assert_eq!((mesh_links, tree_links), (2, 5));
    // The tree's rule path for the second viewer alone, had it joined
    // first, is four hops against the mesh graft's one.
    let mut fresh = router(three_regions(), Mode::Tree, Policy::default());
    let alone = fresh.join(0, 2, source, v2).unwrap();
    assert_eq!(alone.hops() + alone.up_leg.unwrap().hops(), 4);
    assert_eq!(m2.hops(), 1);
    // A viewer at the ingest edge itself comes down from the root too.
    let at_source = fresh.join(0, 2, source, source).unwrap();
    assert_eq!(at_source.nodes, vec![centre, source]);
}

#[test]
fn tree_follows_its_rules_and_prunes_on_leave() {
    let mut t = router(three_regions(), Mode::Tree, Policy::default());
    let (source, v1, v2) = (10, 10 + 18, 10 + 18 + 3); // region 0 T -> region 2 T, region 2 U
    let r1 = t.join(0, 5, source, v1).unwrap();
    assert_eq!(r1.nodes, vec![0, 7, v1]);
    assert_eq!(r1.up_leg.as_ref().map(|u| u.nodes.clone()), Some(vec![source, 1, 0]));
    // A down link on the rule path changes nothing: the tree follows its
    // rules; it never reroutes.
    t.set_down(0, link_of(&t, 0, 8), true);
    let r2 = t.join(0, 5, source, v2).unwrap();
    assert_eq!(r2.nodes, vec![0, 8, v2]);
    assert!(t.reroutes(1).is_empty());
    t.check_invariants();
    assert_eq!(t.leave(5, v2), vec![v2, 8]);
    // The last viewer leaves: the down path and the up-leg stop (the source
    // keeps its broadcaster, so it is not listed).
    let mut released = t.leave(5, v1);
    released.sort_unstable();
    assert_eq!(released, vec![0, 1, 7, v1]);
    assert!(t.streams.is_empty());
}

#[test]
fn tree_publish_pushes_up_front_and_keeps_the_up_leg() {
    let mut t = router(three_regions(), Mode::Tree, Policy::default());
    let up = t.publish(0, 3, 19).unwrap().unwrap();
    assert_eq!(up.nodes, vec![19, 4, 0]);
    assert_eq!(t.publish(0, 3, 19).unwrap(), None);
    let r = t.join(0, 3, 19, 20).unwrap();
    // Down from the root through centre 4, which also carries the stream
    // up: the up-leg's relay does not serve the down-leg.
    assert_eq!(r.nodes, vec![0, 4, 20]);
    assert_eq!(r.up_leg, None, "published: the up-leg was already there");
    // Node 4 still carries the stream up to the root: only 20 stops.
    assert_eq!(t.leave(3, 20), vec![20]);
    assert_eq!(t.carriers(3), vec![(0, None)]);
    let mut closed = t.close(3);
    closed.sort_unstable();
    assert_eq!(closed, vec![0, 4]);
    let mut m = router(three_regions(), Mode::Mesh, Policy::default());
    assert_eq!(m.publish(0, 3, 19).unwrap(), None);
    let mut p = router(three_regions(), Mode::Pool, Policy::default());
    let up = p.publish(0, 3, 19).unwrap().unwrap();
    assert_eq!(*up.nodes.last().unwrap(), 0, "the source pool is node 0");
}

#[test]
fn pool_relays_only_through_pools_and_routes_around_a_failure() {
    let mut p = router(three_regions(), Mode::Pool, Policy::default());
    let (source, v) = (19, 28); // region 1 -> region 2, both on T
    let r = p.join(0, 1, source, v).unwrap();
    // Edges do not relay (not even the multi-line ones): the centres' T
    // backbone.
    assert_eq!(r.nodes, vec![source, 4, 7, v]);
    let l = link_of(&p, 4, 7);
    p.set_down(10, l, true);
    let moves = p.reroutes(10);
    assert_eq!(moves.len(), 1);
    let m = &moves[0];
    assert!(m.forced && !m.local && !m.ping_pong);
    assert_eq!(m.node, v);
    assert_eq!(m.route.nodes, vec![source, 4, 0, 7, v]);
    assert!(m.released.is_empty(), "the relays 4 and 7 stay, under new upstreams");
    assert!(m.route.links.iter().all(|&x| p.is_usable(x)));
    p.check_invariants();
    // Nothing changed since: the next round is a no-op.
    assert!(p.reroutes(20).is_empty());
}

/// Two equal-cost paths S-A-T and S-B-T; A-T's score swings between 97 and
/// 99 every round, B-T stays at 98.
fn oscillation(margin: f64, dwell_us: u64) -> (RouterStats, Vec<u64>) {
    let nodes = vec![
        node(0, 1, Tier::Source, None),
        node(0, 1, Tier::Centre, Some(0)),
        node(0, 1, Tier::Centre, Some(0)),
        node(0, 1, Tier::Edge, Some(1)),
    ];
    let g = Graph::new(nodes, vec![link(0, 1, 1000), link(1, 3, 1000), link(0, 2, 1000), link(2, 3, 1000)]).unwrap();
    let policy = Policy { switch_margin: margin, min_dwell_us: dwell_us, ..Policy::default() };
    let mut r = router(g, Mode::Pool, policy);
    let (sa, at, sb, bt) = (link_of(&r, 0, 1), link_of(&r, 1, 3), link_of(&r, 0, 2), link_of(&r, 2, 3));
    for (l, s) in [(sa, 100.0), (at, 99.0), (sb, 100.0), (bt, 98.0)] {
        r.set_score_for_test(l, s);
    }
    assert_eq!(r.join(0, 1, 0, 3).unwrap().nodes, vec![0, 1, 3]);
    let mut times = Vec::new();
    for round in 1..=20u64 {
        let now = round * 10_000_000;
        r.set_score_for_test(at, if round % 2 == 1 { 97.0 } else { 99.0 });
        for m in r.reroutes(now) {
            assert!(!m.forced);
            times.push(now);
        }
        r.check_invariants();
    }
    (r.stats(), times)
}

#[test]
fn anti_ping_pong_margin_and_dwell() {
    // No margin, no dwell: every swing switches, and every switch after
    // the first returns to the path left before (A-B-A).
    let (s, _) = oscillation(0.0, 0);
    assert_eq!((s.switches, s.ping_pongs), (20, 19));
    // A 2-point swing never beats a 3-point margin.
    let (s, _) = oscillation(3.0, 0);
    assert_eq!((s.switches, s.ping_pongs), (0, 0));
    // A dwell of 30 s: switches are at least 30 s apart.
    let (s, times) = oscillation(0.0, 30_000_000);
    assert!(s.switches >= 3, "{s:?}");
    assert!(times.windows(2).all(|w| w[1] - w[0] >= 30_000_000), "{times:?}");
    assert!(s.switches < 20);
}

#[test]
fn forced_switch_ignores_dwell_and_below_minimum_waits_for_it() {
    let policy = Policy { min_dwell_us: 60_000_000, ..Policy::default() };
    let mut p = router(talk_graph(), Mode::Pool, policy);
    let r = p.join(0, 1, 0, 3).unwrap();
    let first = r.links.clone();
    // Score collapse below the minimum (not a failure): held by the dwell.
    p.set_score_for_test(first[1], 50.0);
    assert!(p.reroutes(1_000_000).is_empty());
    let moved = p.reroutes(61_000_000);
    assert_eq!(moved.len(), 1);
    assert!(!moved[0].forced);
    // A failure right after: forced at once.
    p.set_down(61_000_001, moved[0].route.links[1], true);
    p.set_score_for_test(first[1], 99.0);
    let again = p.reroutes(61_000_002);
    assert_eq!(again.len(), 1);
    assert!(again[0].forced);
    assert_eq!(again[0].route.links, first);
}

#[test]
fn observations_move_scores_by_bucket_and_trigger_reroutes() {
    let mut p = router(talk_graph(), Mode::Pool, Policy { min_dwell_us: 0, ..Policy::default() });
    let r = p.join(0, 1, 0, 3).unwrap();
    let l = r.links[1];
    let bad = Observation { delay_us: 1000, loss: 0.06, retransmit_rate: 0.04 };
    let expected = ScoreFn::default().score(&bad);
    // Below the minimum, above the failure threshold.
    assert!(expected < 90.0 && expected > 20.0, "{expected}");
    // The first observation replaces the prior; equal ones keep it.
    for k in 1..=3 {
        p.observe(k * 30_000_000, l, bad);
    }
    assert!((p.link_score(l) - expected).abs() < 1e-9);
    p.observe(100_000_000, l, Observation { delay_us: 1000, loss: 0.0, retransmit_rate: 0.0 });
    // 10 s after the last bad one: weights 1/2 (old) and 1 (new).
    let good = ScoreFn::default().score(&Observation { delay_us: 1000, loss: 0.0, retransmit_rate: 0.0 });
    let mean =
        (expected * (0.5 + 0.5f64.powi(4) + 0.5f64.powi(7)) + good) / (1.0 + 0.5 + 0.5f64.powi(4) + 0.5f64.powi(7));
    assert!((p.link_score(l) - mean).abs() < 1e-9, "{} vs {mean}", p.link_score(l));
    assert!(p.link_score(l) < 90.0);
    assert_eq!(p.routing_score(l), p.link_score(l).floor());
    let moved = p.reroutes(100_000_000);
    assert_eq!(moved.len(), 1);
    assert!(!moved[0].route.links.contains(&l));
}

#[test]
fn mesh_agent_cache_backup_and_service() {
    let mut m = router(three_regions(), Mode::Mesh, Policy::default());
    let (source, v) = (19, 21);
    let first = m.join(0, 1, source, v).unwrap();
    assert!(first.service_round_trip);
    assert_eq!(m.stats().service_requests, 1);
    let relays: Vec<u32> = first.nodes[1..].iter().rev().copied().collect();
    assert_eq!(m.leave(1, v), relays);
    // The viewer comes back: the agent's cache answers.
    let again = m.join(1, 1, source, v).unwrap();
    assert!(!again.service_round_trip);
    assert_eq!(again.nodes, first.nodes);
    assert_eq!(m.stats().cache_hits, 1);
    // The primary fails: the agent takes its backup on its own.
    m.set_down(2, again.links[0], true);
    let moved = m.reroutes(2);
    assert_eq!(moved.len(), 1);
    assert!(moved[0].forced && moved[0].local && !moved[0].route.service_round_trip);
    assert_eq!(m.stats().local_switches, 1);
    assert!(!moved[0].route.links.contains(&again.links[0]));
    m.check_invariants();
    // The backup fails too: no cached backup left, so the service answers.
    let used = moved[0].route.links.clone();
    for &l in &used {
        m.set_down(3, l, true);
    }
    let moved = m.reroutes(3);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(moved[0].forced && !moved[0].local && moved[0].route.service_round_trip);
    assert!(moved[0].route.links.iter().all(|&l| m.is_usable(l)));
    m.check_invariants();
}

#[test]
fn hot_streams_turn_with_hysteresis_and_get_disjoint_pushes() {
    let policy = Policy { hot_on_viewers: 5, hot_off_viewers: 2, hot_min_quality: 90.0, ..Policy::default() };
    let mut m = router(three_regions(), Mode::Mesh, policy.clone());
    assert_eq!(m.set_viewers(4, 4), None);
    assert_eq!(m.set_viewers(4, 5), Some(true));
    assert!(m.is_hot(4));
    assert_eq!(m.set_viewers(4, 9), None);
    assert_eq!(m.set_viewers(4, 3), None);
    assert_eq!(m.set_viewers(4, 2), Some(false));
    assert_eq!(m.set_viewers(4, 0), None);
    assert_eq!(m.set_viewers(4, 5), Some(true));

    let source = 10;
    let targets = [28, 31, 34, 38, 2];
    let pushes = m.push_routes(0, 4, source, &targets);
    for (res, &t) in pushes.iter().zip(&targets) {
        let push = res.as_ref().unwrap();
        assert_eq!(push.routes.len(), 2, "target {t}: {push:?}");
        let (a, b) = (&push.routes[0], &push.routes[1]);
        assert_eq!(*a.nodes.last().unwrap(), t);
        assert_eq!(*b.nodes.last().unwrap(), t);
        assert!(a.links.iter().all(|l| !b.links.contains(l)), "target {t}: {a:?} {b:?}");
        assert!(b.quality >= 90.0 - 1e-9);
        assert_eq!(push.fec_overhead, 0.0);
    }
    m.check_invariants();

    let fec = Policy { hot_redundancy: Redundancy::Fec { overhead: 0.25 }, ..policy };
    let mut p = router(three_regions(), Mode::Pool, fec);
    let push = p.push_routes(0, 4, source, &[28]).pop().unwrap().unwrap();
    assert_eq!(push.routes.len(), 1);
    assert_eq!(push.fec_overhead, 0.25);
}

#[test]
fn shortest_hops_follow_the_mode_rules_and_link_state() {
    let mesh = router(three_regions(), Mode::Mesh, Policy::default());
    let mut pool = router(three_regions(), Mode::Pool, Policy::default());
    // Same region, same ISP, chained edges: mesh 1 hop; pools relay only
    // through centres: 2.
    assert_eq!(mesh.shortest_hops(19, 20), Some(1));
    assert_eq!(pool.shortest_hops(19, 20), Some(2));
    // Across ISPs in one region: the pool may use the T-U interconnect
    // between centres (3 hops) or the multi-line source, the mesh the
    // region's multi-line node (2 hops).
    assert_eq!(mesh.shortest_hops(19, 22), Some(2));
    assert_eq!(pool.shortest_hops(19, 22), Some(3));
    pool.set_down(0, link_of(&pool, 19, 4), true);
    assert_eq!(pool.shortest_hops(19, 22), None, "the edge's only non-edge neighbour is gone");
    assert_eq!(mesh.shortest_hops(19, 99), None);
}

#[test]
fn bad_ids_and_source_mismatch_leave_no_state() {
    let mut m = router(three_regions(), Mode::Mesh, Policy::default());
    assert_eq!(m.join(0, 1, 10, 400), Err(NoRoute::UnknownNode { node: 400 }));
    assert!(m.streams.is_empty());
    m.join(0, 1, 10, 11).unwrap();
    assert_eq!(m.join(0, 1, 12, 13), Err(NoRoute::SourceMismatch { stream: 1, known: 10, given: 12 }));
    // An unreachable target: every link of node 13 down.
    for a in m.graph().arcs(13).to_vec() {
        m.set_down(0, a.link, true);
    }
    assert_eq!(m.join(0, 2, 10, 13), Err(NoRoute::NoPath { target: 13 }));
    assert!(!m.streams.contains_key(&2));
    let bad = Policy { min_quality: 120.0, ..Policy::default() };
    assert_eq!(Router::new(three_regions(), Mode::Mesh, bad, ScoreFn::default()).unwrap_err().field, "min_quality");
    let bad = ScoreFn { per_loss: f64::NAN, ..ScoreFn::default() };
    assert_eq!(Router::new(three_regions(), Mode::Mesh, Policy::default(), bad).unwrap_err().field, "score.per_loss");
}

// ----------------------------------------------------------- properties

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Join { stream: u32, target: u32 },
        Leave { stream: u32, target: u32 },
        Observe { link: u32, loss: f64, dt_us: u64 },
        Down { link: u32, down: bool },
        Round { dt_us: u64 },
        Viewers { stream: u32, viewers: u32 },
        Push { stream: u32, target: u32 },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..4u32, 0..1000u32).prop_map(|(stream, target)| Op::Join { stream, target }),
            2 => (0..4u32, 0..1000u32).prop_map(|(stream, target)| Op::Leave { stream, target }),
            3 => (0..5000u32, 0.0..0.1f64, 0..20_000_000u64).prop_map(|(link, loss, dt_us)| Op::Observe { link, loss, dt_us }),
            1 => (0..5000u32, any::<bool>()).prop_map(|(link, down)| Op::Down { link, down }),
            2 => (0..40_000_000u64).prop_map(|dt_us| Op::Round { dt_us }),
            1 => (0..4u32, 0..8u32).prop_map(|(stream, viewers)| Op::Viewers { stream, viewers }),
            1 => (0..4u32, 0..1000u32).prop_map(|(stream, target)| Op::Push { stream, target }),
        ]
    }

    /// No node twice.
    fn check_loop_free(route: &Route) {
        let mut seen = route.nodes.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), route.nodes.len(), "loop in {route:?}");
    }

    /// Tree: the route is a tail of the down-leg (root down to the target),
    /// whatever the link states, and loop-free; an up-leg, when the route
    /// started one, is the source's chain up to the root, where the route
    /// starts.
    fn check_tree_route(r: &Router, source: u32, route: &Route) {
        assert_route_links(r, route);
        check_loop_free(route);
        let target = *route.nodes.last().unwrap();
        let mut down = r.graph().tree_chain(target);
        down.reverse();
        let tail = &down[down.len() - route.nodes.len()..];
        assert_eq!(tail, route.nodes.as_slice(), "{route:?} is not a tail of {down:?}");
        if let Some(up) = &route.up_leg {
            assert_route_links(r, up);
            check_loop_free(up);
            assert_eq!(up.nodes, r.graph().tree_chain(source));
            assert_eq!(up.nodes.last(), route.nodes.first());
            assert_eq!(up.up_leg, None);
        }
    }

    /// Loop-free, consecutive links, usable links only, within the mode's
    /// rules; the hop bound is checked on the carrier depths.
    fn check_route(r: &Router, route: &Route) {
        assert_route_links(r, route);
        check_loop_free(route);
        assert_eq!(route.up_leg, None, "only the tree has an up-leg");
        for (w, &l) in route.nodes.windows(2).zip(&route.links) {
            assert!(r.is_usable(l), "link {l} is down or failed: {route:?}");
            let (a, b) = (r.graph().node(w[0]), r.graph().node(w[1]));
            match r.mode() {
                Mode::Mesh => {
                    assert!(!r.graph().link(l).interconnect);
                    assert_ne!(a.isps & b.isps, 0);
                }
                _ => assert!(a.tier != Tier::Edge || b.tier != Tier::Edge, "edge to edge in {route:?}"),
            }
        }
        if r.mode() == Mode::Pool && route.nodes.len() > 2 {
            for &x in &route.nodes[1..route.nodes.len() - 1] {
                assert_ne!(r.graph().node(x).tier, Tier::Edge, "edge relays in {route:?}");
            }
        }
    }

    fn check_state(r: &Router) {
        r.check_invariants();
        if r.mode() == Mode::Tree {
            return;
        }
        for s in r.streams.values() {
            for (n, c) in &s.carriers {
                assert!(c.depth <= r.policy.max_hops as u16, "node {n} at depth {}", c.depth);
            }
        }
    }

    /// Applies `ops` and returns a transcript of every output.
    fn run(graph: &Graph, mode: Mode, ops: &[Op], check: bool) -> Vec<String> {
        let policy = Policy { min_dwell_us: 5_000_000, hot_on_viewers: 4, hot_off_viewers: 1, ..Policy::default() };
        let mut r = router(graph.clone(), mode, policy);
        let n = graph.node_count() as u32;
        let links = graph.link_count() as u32;
        let source = |stream: u32| (stream * 7 + 3) % n;
        let mut now = 0u64;
        let mut out = Vec::new();
        for op in ops {
            match *op {
                Op::Join { stream, target } => {
                    let res = r.join(now, stream, source(stream), target % n);
                    if check && let Ok(route) = &res {
                        if mode == Mode::Tree {
                            check_tree_route(&r, source(stream), route)
                        } else {
                            check_route(&r, route)
                        }
                    }
                    out.push(format!("{res:?}"));
                }
                Op::Leave { stream, target } => out.push(format!("{:?}", r.leave(stream, target % n))),
                Op::Observe { link, loss, dt_us } => {
                    now += dt_us;
                    r.observe(now, link % links, Observation { delay_us: 5_000, loss, retransmit_rate: loss / 2.0 });
                }
                Op::Down { link, down } => r.set_down(now, link % links, down),
                Op::Round { dt_us } => {
                    now += dt_us;
                    let moves = r.reroutes(now);
                    if check {
                        for m in &moves {
                            check_route(&r, &m.route);
                        }
                    }
                    out.push(format!("{moves:?}"));
                }
                Op::Viewers { stream, viewers } => out.push(format!("{:?}", r.set_viewers(stream, viewers))),
                Op::Push { stream, target } => {
                    let res = r.push_routes(now, stream, source(stream), &[target % n]);
                    if check && let Ok(push) = &res[0] {
                        for route in &push.routes {
                            if mode == Mode::Tree {
                                check_tree_route(&r, source(stream), route)
                            } else {
                                check_route(&r, route)
                            }
                        }
                        if push.routes.len() == 2 {
                            assert!(push.routes[0].links.iter().all(|l| !push.routes[1].links.contains(l)));
                        }
                    }
                    out.push(format!("{res:?}"));
                }
            }
            if check {
                check_state(&r);
            }
        }
        out.push(format!("{:?}", r.stats()));
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn routes_are_valid_and_outputs_depend_only_on_inputs(
            seed in any::<u64>(),
            nodes in 16u32..90,
            mode in prop_oneof![Just(Mode::Tree), Just(Mode::Pool), Just(Mode::Mesh)],
            ops in proptest::collection::vec(op(), 1..60),
        ) {
            let g = Graph::synthetic(nodes, seed).unwrap();
            let a = run(&g, mode, &ops, true);
            let b = run(&g, mode, &ops, false);
            prop_assert_eq!(a, b);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// The search against brute force: every simple path from every
        /// eligible carrier, ranked by (cost, quality cost, hops, nodes).
        #[test]
        fn search_matches_brute_force(
            seed in any::<u64>(),
            nodes in 16u32..28,
            mesh in any::<bool>(),
            scores in proptest::collection::vec(85.0..100.0f64, 200),
            carriers in proptest::collection::vec(0..1000u32, 0..6),
            target in 0..1000u32,
            max_hops in 2u8..6,
            min_quality in 50.0..97.0f64,
            uniform in any::<bool>(),
        ) {
            let g = Graph::synthetic(nodes, seed).unwrap();
            let mode = if mesh { Mode::Mesh } else { Mode::Pool };
            let policy = Policy { max_hops, min_quality, ..Policy::default() };
            let mut r = router(g.clone(), mode, policy);
            // Equal scores make exact ties common (relays of one tier have
            // one price), which exercises the tie-break.
            for l in 0..g.link_count() as u32 {
                r.set_score_for_test(l, if uniform { 99.0 } else { scores[l as usize % scores.len()] });
            }
            let n = g.node_count() as u32;
            let source = seed as u32 % n;
            for &c in &carriers {
                let _ = r.join_inner(0, 1, source, c % n, false);
            }
            r.ensure_stream(1, source).unwrap();
            // The first node from `target` on that does not carry the stream.
            let carrying = &r.streams[&1].carriers;
            let target = (0..n).map(|k| (target + k) % n).find(|t| !carrying.contains_key(t)).unwrap();
            let expected = brute_force(&r, 1, target);
            let got = r.join_inner(0, 1, source, target, false).ok().map(|route| route.nodes);
            prop_assert_eq!(got, expected);
        }
    }

    fn brute_force(r: &Router, stream: u32, target: u32) -> Option<Vec<u32>> {
        let s = &r.streams[&stream];
        let g = r.graph();
        let q_limit = r.q_limit(stream);
        let h = r.policy.max_hops as usize;
        let phases = match r.mode {
            Mode::Mesh => vec![Rules::Mesh { mask: g.node(target).isps }, Rules::Mesh { mask: u32::MAX }],
            _ => vec![Rules::Pool],
        };
        for rules in phases {
            let mut best: Option<(u64, u64, usize, Vec<u32>)> = None;
            for (&start, c) in &s.carriers {
                if r.mode == Mode::Pool && start != s.source && g.node(start).tier == Tier::Edge {
                    continue;
                }
                let (q0, healthy) = r.e2e(s, start);
                if !healthy || c.depth as usize >= h {
                    continue;
                }
                let mut path = vec![start];
                dfs(r, s, rules, target, h - c.depth as usize, q_limit, 0, q0, &mut path, c.depth as usize, &mut best);
            }
            if let Some(b) = best {
                return Some(b.3.into_iter().rev().collect());
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn dfs(
        r: &Router,
        s: &Stream,
        rules: Rules,
        target: u32,
        budget: usize,
        q_limit: u64,
        cost: u64,
        qsum: u64,
        path: &mut Vec<u32>,
        depth: usize,
        best: &mut Option<(u64, u64, usize, Vec<u32>)>,
    ) {
        let u = *path.last().unwrap();
        if u == target {
            // Node ids read back from the target break exact ties.
            let back: Vec<u32> = path.iter().rev().copied().collect();
            let cand = (cost, qsum, depth + path.len() - 1, back);
            if best.as_ref().is_none_or(|b| cand < *b) {
                *best = Some(cand);
            }
            return;
        }
        if path.len() > budget {
            return;
        }
        // The reference reads the graph and the per-link state, not the
        // router's packed arcs.
        let g = r.graph();
        for arc in g.arcs(u) {
            let v = arc.to;
            let (nu, nv, l) = (g.node(u), g.node(v), g.link(arc.link));
            let allowed = match rules {
                Rules::Pool => nu.tier != Tier::Edge || nv.tier != Tier::Edge,
                Rules::Mesh { mask } => !l.interconnect && nu.isps & nv.isps & mask != 0,
            };
            let relays = matches!(rules, Rules::Mesh { .. }) || nv.tier != Tier::Edge;
            if path.contains(&v) || !r.usable[arc.link as usize] || !allowed {
                continue;
            }
            if v != target && (s.carriers.contains_key(&v) || !relays) {
                continue;
            }
            let q = qsum.saturating_add(r.qcost[arc.link as usize]);
            if q > q_limit {
                continue;
            }
            let p = &r.policy;
            let ic = if l.interconnect { units(p.cost_per_interconnect) } else { 0 };
            let c = cost + units(p.cost_per_hop) + ic + units(p.cost_per_price * nu.price_per_gb);
            path.push(v);
            dfs(r, s, rules, target, budget, q_limit, c, q, path, depth, best);
            path.pop();
        }
    }
}

/// `e2e_all` (one step per carrier, used to rank a stream's carriers as
/// starts) gives every carrier the same (quality cost, usable) as `e2e`'s
/// walk to the source: on a tree with an up-leg, and on a mesh whose
/// links have scores (some saturating) and one link down.
#[test]
fn e2e_of_all_carriers_equals_each_carriers_walk() {
    for mode in [Mode::Tree, Mode::Mesh, Mode::Pool] {
        let mut r = router(three_regions(), mode, Policy::default());
        let n = r.graph().node_count() as u32;
        for (i, l) in (0..r.graph().link_count() as u32).enumerate() {
            r.set_score_for_test(l, [100.0, 97.0, 90.0, 40.0, 0.5][i % 5]);
        }
        for target in 19..n {
            let _ = r.join(0, 3, 19, target);
        }
        r.set_down(0, 1, true);
        let s = &r.streams[&3];
        assert!(s.carriers.len() >= 3, "{mode:?}: {} carriers", s.carriers.len());
        let mut scratch = E2eScratch::default();
        r.e2e_all(s, &mut scratch);
        for &node in s.carriers.keys() {
            assert_eq!(scratch.memo[node as usize], Some(r.e2e(s, node)), "{mode:?}: carrier {node}");
        }
    }
}

/// The primary up-leg as a route (the tree's rule path from `source`).
fn rule_up_leg(r: &Router, source: u32) -> Route {
    let nodes = r.graph().tree_chain(source);
    let links = r.tree_links(&nodes);
    r.make_route(nodes, links, 0, false)
}

#[test]
fn up_leg_copies_are_disjoint_fewest_hop_paths_to_the_top() {
    // Region 0's multi-line edge (37) climbs through its T centre (1); it
    // also reaches the U and M centres (2, 3), each one hop from the root:
    // two more 2-hop paths, lower id first, and no third.
    let r = router(three_regions(), Mode::Tree, Policy::default());
    let primary = rule_up_leg(&r, 37);
    assert_eq!(primary.nodes, vec![37, 1, 0]);
    let copies = r.up_leg_copies(&primary, 5);
    let paths: Vec<&[u32]> = copies.iter().map(|c| c.nodes.as_slice()).collect();
    assert_eq!(paths, vec![&[37, 2, 0][..], &[37, 3, 0][..]]);
    let mut all_links: Vec<u32> = primary.links.clone();
    for c in &copies {
        assert_eq!(c.links.len() + 1, c.nodes.len());
        for (w, &l) in c.nodes.windows(2).zip(&c.links) {
            assert_eq!(r.graph().find_link(w[0], w[1]), Some(l));
        }
        all_links.extend(&c.links);
    }
    let n = all_links.len();
    all_links.sort_unstable();
    all_links.dedup();
    assert_eq!(all_links.len(), n, "no link on two paths");
    assert_eq!(r.up_leg_copies(&primary, 1).len(), 1);
    assert!(r.up_leg_copies(&primary, 0).is_empty());
}

#[test]
fn up_leg_copies_avoid_down_links_and_never_relay_through_edges() {
    let mut r = router(three_regions(), Mode::Tree, Policy::default());
    let primary = rule_up_leg(&r, 37);
    let l = link_of(&r, 2, 0);
    r.set_down(0, l, true);
    // Centre 2 can still reach the root, but only through another centre
    // on its ISP (2 -> 5 -> 0, 3 hops): longer than 37 -> 3 -> 0, and
    // found after it.
    let copies = r.up_leg_copies(&primary, 5);
    let paths: Vec<&[u32]> = copies.iter().map(|c| c.nodes.as_slice()).collect();
    assert_eq!(paths, vec![&[37, 3, 0][..], &[37, 2, 5, 0][..]]);
    // An edge with a single link (to its centre) has no second path: its
    // neighbours besides the centre are edges, which do not relay.
    let lone = rule_up_leg(&r, 10);
    assert_eq!(lone.nodes, vec![10, 1, 0]);
    assert!(r.up_leg_copies(&lone, 3).is_empty());
}
