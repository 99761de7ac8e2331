//! Scenario -> the world at time zero.

use cdnsim_engine::{Scheduler, SimDuration, SimTime, stream, stream_indexed};
use cdnsim_net::geo::{great_circle_km, propagation};
use cdnsim_net::home::HomeNode;
use cdnsim_net::{Channel, Fifo, LossModel, NodeId, Topology};
use cdnsim_scenario::topology::loss_model;
use std::collections::BTreeMap;

use cdnsim_scenario::{LinkLoss, Role, RoutingMode, Scenario};
use rand::Rng;

use crate::event::{CAPTURE, Chunk, Event, NET, SESSION};
use crate::node::{Carry, NodeState, Sub};
use crate::WorldError;
use crate::world::{Counters, Homes, LinkState, StreamState, World};

pub fn build(sc: &Scenario, seed: u64, sched: &mut Scheduler<Event>) -> Result<World, WorldError> {
    let net = &sc.network;
    let region_km = |a: usize, b: usize| {
        let (ra, rb) = (&sc.regions[a], &sc.regions[b]);
        great_circle_km(ra.lat_deg, ra.lon_deg, rb.lat_deg, rb.lon_deg)
    };

    let mut topo = Topology::new(sc.nodes.len());
    for (i, l) in sc.links.iter().enumerate() {
        let latency = match l.latency_ns {
            Some(ns) => SimDuration::from_ns(ns),
            None => {
                let km = region_km(sc.nodes[l.from].region, sc.nodes[l.to].region);
                propagation(km, l.route_inflation, net.propagation_km_per_ms)
                    .max(SimDuration::from_ns(net.min_latency_ns))
            }
        };
        let loss = loss_model(l.loss);
        // Each direction loses packets on its own stream.
        let dir = |d: u64| {
            Channel::new(l.bandwidth_bps, l.queue_bytes, latency, loss, stream_indexed(seed, "link.loss", 2 * i as u64 + d))
        };
        topo.add_link(NodeId(l.from as u32), NodeId(l.to as u32), dir(0), dir(1));
    }

    let chunks_per_block = sc.stream.chunks_per_block() as u16;
    let nodes = sc
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| NodeState {
            egress: Fifo::new(n.egress_bps, n.egress_queue_bytes),
            access_rng: stream_indexed(seed, "access.loss", i as u64),
        })
        .collect();
    let links = sc
        .links
        .iter()
        .map(|l| LinkState { mean_loss: mean_loss(l.loss), ..LinkState::default() })
        .collect();

    // Edges per region, in node order, for attaching viewers.
    let mut edges_by_region = vec![Vec::new(); sc.regions.len()];
    for (i, n) in sc.nodes.iter().enumerate() {
        if n.role == Role::Edge {
            edges_by_region[n.region].push(i as u32);
        }
    }

    // Broadcasters: region by weight, then an edge of it as the ingest
    // (unless the scenario fixes it), from one stream in broadcaster order.
    let b = &sc.broadcasters;
    let mut placement = stream(seed, "broadcasters.placement");
    let mut streams = Vec::with_capacity(b.count as usize);
    let mut carries = BTreeMap::new();
    for i in 0..b.count {
        let region = pick(&mut placement, &b.regions);
        let ingest = match b.ingest {
            Some(n) => n as u32,
            None => {
                let edges = &edges_by_region[region];
                edges[placement.random_range(0..edges.len())]
            }
        };
        let ingest_latency = SimDuration::from_ns(b.access_latency_ns)
            + propagation(region_km(region, sc.nodes[ingest as usize].region), net.route_inflation, net.propagation_km_per_ms);
        let ingest_queue = (b.uplink_bps / 8 / 20).max(64 * 1024).max(sc.stream.chunk_bytes);
        let uplink = Channel::new(b.uplink_bps, ingest_queue, ingest_latency, LossModel::NONE, stream_indexed(seed, "broadcaster.uplink.loss", i as u64));
        streams.push(StreamState { region: region as u16, ingest, uplink, viewers: 0, hot: false });
        carries.insert((i, ingest), Carry::new(Sub::Root, chunks_per_block));
    }
    // Rank r (from 1) is chosen with weight r^-zipf.
    let mut popularity_cdf = Vec::with_capacity(streams.len());
    let mut total = 0.0;
    for r in 1..=streams.len() {
        total += (r as f64).powf(-b.zipf);
        popularity_cdf.push(total);
    }

    let seconds = sc.duration_ns.div_ceil(1_000_000_000).max(1) as usize;
    let mut world = World {
        sc: sc.clone(),
        chunks_per_block,
        router: crate::overlay::router(sc, &topo)
            .map_err(|e| WorldError::Routing { scenario: sc.name.clone(), message: e.to_string() })?,
        topo,
        nodes,
        streams,
        carries,
        links,
        pending: Vec::new(),
        pending_free: Vec::new(),
        edges_by_region,
        popularity_cdf,
        viewers: Vec::new(),
        arrivals_rng: stream(seed, "viewers.arrivals"),
        attributes_rng: stream(seed, "viewers.attributes"),
        series: BTreeMap::new(),
        seconds,
        e2e_us: cdnsim_metrics::LatencyHistogram::new(),
        counters: Counters::default(),
        active_faults: vec![Vec::new(); sc.links.len()],
        homes: build_homes(sc, seed, seconds),
        up_legs: BTreeMap::new(),
        fec_blocks: BTreeMap::new(),
        lasthop: None,
        scratch: Vec::new(),
    };
    if sc.last_hop.is_some() {
        world.lasthop = Some(crate::lasthop::LastHop::new(sc, seed, &world.homes, &world.edges_by_region));
    }
    for (h, node) in world.homes.nodes.iter().enumerate() {
        sched.schedule_at(node.next_churn_at(), NET, Event::HomeChurn(h as u32));
        sched.schedule_at(node.next_household_tick_at(), NET, Event::HomeTick(h as u32));
    }
    for (i, f) in sc.faults.iter().enumerate() {
        let (start, end) = (SimTime::from_ns(f.start_ns), SimTime::from_ns(f.end_ns));
        sched.schedule_at(start, NET, Event::Fault { index: i as u16, begins: true });
        sched.schedule_at(end, NET, Event::Fault { index: i as u16, begins: false });
    }
    // The tree carries every stream up to its root whatever the audience,
    // pools to a source-tier node; the mesh waits for a viewer.
    world.publish_all(sched);
    world.lasthop_start(sched);
    if sc.routing.mode != RoutingMode::Tree {
        sched.schedule_at(SimTime::ZERO + SimDuration::from_ns(sc.routing.probe_interval_ns), NET, Event::Probe);
    }
    for s in 0..world.streams.len() as u32 {
        let first = Chunk { stream: s, block: 0, index: 0 };
        sched.schedule_at(world.capture_time(first), CAPTURE, Event::Capture(first));
    }
    if let Some(first) = world.next_arrival_gap() {
        sched.schedule_at(SimTime::ZERO + first, SESSION, Event::ViewerJoin { arrival: true });
    }
    // The initial audience joins over the first window, at times from a
    // stream of its own (the arrivals' draws stay as they were).
    let mut initial = stream(seed, "viewers.initial");
    for _ in 0..sc.viewers.initial {
        let at = (initial.random::<f64>() * sc.viewers.initial_window_ns as f64) as u64;
        sched.schedule_at(SimTime::from_ns(at), SESSION, Event::ViewerJoin { arrival: false });
    }
    Ok(world)
}

/// Long-run loss probability of a link direction's loss model.
fn mean_loss(l: LinkLoss) -> f64 {
    match l {
        LinkLoss::Bernoulli { p } => p,
        LinkLoss::GilbertElliott { p_good_to_bad, p_bad_to_good, loss_good, loss_bad } => {
            let bad = p_good_to_bad / (p_good_to_bad + p_bad_to_good);
            (1.0 - bad) * loss_good + bad * loss_bad
        }
    }
}

pub(crate) fn pick(rng: &mut cdnsim_engine::RngStream, items: &[(usize, f64)]) -> usize {
    let total: f64 = items.iter().map(|r| r.1).sum();
    let mut u = rng.random::<f64>() * total;
    for &(r, w) in items {
        if u < w {
            return r;
        }
        u -= w;
    }
    items[items.len() - 1].0
}

/// Home nodes in placement order: ids follow the scenario's
/// `[[home.regions]]` entries, so adding an entry at the end leaves every
/// earlier node's draws as they were (each node has its own streams).
fn build_homes(sc: &Scenario, seed: u64, seconds: usize) -> Homes {
    let Some(home) = &sc.home else {
        return Homes {
            model: None,
            nodes: Vec::new(),
            id: Vec::new(),
            region: Vec::new(),
            isp: Vec::new(),
            isps: Vec::new(),
            online_at_start: 0,
            online_delta: vec![0; seconds],
        };
    };
    let mut isps: Vec<String> = home.placements.iter().map(|p| p.1.clone()).collect();
    isps.sort();
    isps.dedup();
    let n = home.count() as usize;
    let (mut nodes, mut region, mut isp) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for (r, name, count) in &home.placements {
        let isp_index = isps.binary_search(name).expect("collected above") as u16;
        for _ in 0..*count {
            nodes.push(HomeNode::new(nodes.len() as u32, seed, &home.model));
            region.push(*r as u16);
            isp.push(isp_index);
        }
    }
    // Household ticks are most of a home node's events and come once per
    // interval at a fixed phase per node: laid out in phase order, the
    // nodes are visited as a sweep through memory instead of at random
    // (2-3x the event rate at 100k nodes, benches/README.md). Only the
    // layout changes; ids, streams and results do not.
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&i| (nodes[i as usize].next_household_tick_at(), i));
    let pick = |v: &[u16]| order.iter().map(|&i| v[i as usize]).collect::<Vec<u16>>();
    let (region, isp) = (pick(&region), pick(&isp));
    let nodes: Vec<HomeNode> = order.iter().map(|&i| nodes[i as usize].clone()).collect();
    let online_at_start = nodes.iter().filter(|h| h.is_online()).count() as u64;
    Homes {
        model: Some(home.model.clone()),
        nodes,
        id: order,
        region,
        isp,
        isps,
        online_at_start,
        online_delta: vec![0; seconds],
    }
}
