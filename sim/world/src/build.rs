//! Scenario -> the world at time zero.

use cdnsim_engine::{Scheduler, SimDuration, SimTime, stream, stream_indexed};
use cdnsim_net::geo::{great_circle_km, propagation};
use cdnsim_net::home::HomeNode;
use cdnsim_net::{Channel, Fifo, LossModel, NodeId, Topology};
use cdnsim_scenario::topology::loss_model;
use cdnsim_scenario::{Role, Scenario};

use crate::event::{CAPTURE, Chunk, Event, NET, SESSION};
use crate::node::{BlockWindow, NodeState, Sub};
use crate::world::{Counters, Homes, World};

pub fn build(sc: &Scenario, seed: u64, sched: &mut Scheduler<Event>) -> World {
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
    let ingest = sc.broadcaster.ingest as u32;
    let nodes = sc
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let parent = n.parent.map(|p| p as u32);
            let mut depth = 0;
            let mut up = n.parent;
            while let Some(p) = up {
                depth += 1;
                up = sc.nodes[p].parent;
            }
            NodeState {
                parent,
                depth,
                up: parent.and_then(|p| topo.channel_between(NodeId(i as u32), NodeId(p))),
                sub: if i as u32 == ingest { Sub::Root } else { Sub::Idle },
                children: Vec::new(),
                viewers: Vec::new(),
                window: BlockWindow::new(chunks_per_block),
                egress: Fifo::new(n.egress_bps, n.egress_queue_bytes),
                access_rng: stream_indexed(seed, "access.loss", i as u64),
            }
        })
        .collect();

    // Edges per region, in node order, for attaching viewers.
    let mut edges_by_region = vec![Vec::new(); sc.regions.len()];
    for (i, n) in sc.nodes.iter().enumerate() {
        if n.role == Role::Edge {
            edges_by_region[n.region].push(i as u32);
        }
    }

    let b = &sc.broadcaster;
    let ingest_latency = SimDuration::from_ns(b.access_latency_ns)
        + propagation(region_km(b.region, sc.nodes[b.ingest].region), net.route_inflation, net.propagation_km_per_ms);
    let ingest_queue = (b.uplink_bps / 8 / 20).max(64 * 1024).max(sc.stream.chunk_bytes);
    let ingest_channel = Channel::new(b.uplink_bps, ingest_queue, ingest_latency, LossModel::NONE, stream(seed, "broadcaster.uplink.loss"));

    let seconds = sc.duration_ns.div_ceil(1_000_000_000) as usize;
    let mut world = World {
        sc: sc.clone(),
        chunks_per_block,
        topo,
        nodes,
        ingest,
        ingest_channel,
        edges_by_region,
        viewers: Vec::new(),
        arrivals_rng: stream(seed, "viewers.arrivals"),
        attributes_rng: stream(seed, "viewers.attributes"),
        per_second: vec![Default::default(); seconds.max(1)],
        e2e_us: cdnsim_metrics::LatencyHistogram::new(),
        counters: Counters::default(),
        active_faults: vec![Vec::new(); sc.links.len()],
        homes: build_homes(sc, seed, seconds.max(1)),
    };
    for (h, node) in world.homes.nodes.iter().enumerate() {
        sched.schedule_at(node.next_churn_at(), NET, Event::HomeChurn(h as u32));
        sched.schedule_at(node.next_household_tick_at(), NET, Event::HomeTick(h as u32));
    }
    for (i, f) in sc.faults.iter().enumerate() {
        let (start, end) = (SimTime::from_ns(f.start_ns), SimTime::from_ns(f.end_ns));
        sched.schedule_at(start, NET, Event::Fault { index: i as u16, begins: true });
        sched.schedule_at(end, NET, Event::Fault { index: i as u16, begins: false });
    }

    sched.schedule_at(world.capture_time(Chunk { block: 0, index: 0 }), CAPTURE, Event::Capture(Chunk { block: 0, index: 0 }));
    if let Some(first) = world.next_arrival_gap() {
        sched.schedule_at(SimTime::ZERO + first, SESSION, Event::ViewerJoin);
    }
    world
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
