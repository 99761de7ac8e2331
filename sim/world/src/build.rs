//! Scenario -> the world at time zero.

use cdnsim_engine::{Scheduler, SimDuration, SimTime, stream, stream_indexed};
use cdnsim_net::{Channel, Fifo, LossModel, NodeId, Topology};
use cdnsim_routing::{Retry, RetryConfig};
use cdnsim_scenario::topology::loss_model;
use std::collections::BTreeMap;

use cdnsim_scenario::{LinkLoss, Mode, Role, Scenario};
use rand::Rng;

use crate::event::{CAPTURE, Chunk, Event, NET, SESSION};
use crate::node::{Carry, NodeState, Sub};
use crate::run::WorldError;
use crate::parts::Parts;
use crate::service::RouteService;
use crate::world::{Counters, LinkState, StreamState, World, pick};

pub fn build(sc: &Scenario, seed: u64, sched: &mut Scheduler<Event>) -> Result<World, WorldError> {

    let mut topo = Topology::new(sc.nodes.len());
    for (i, l) in sc.links.iter().enumerate() {
        let latency = match l.latency_ns {
            Some(ns) => SimDuration::from_ns(ns),
            None => SimDuration::from_ns(sc.region_latency_ns(sc.nodes[l.from].region, sc.nodes[l.to].region, l.route_inflation)),
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
        let ingest_latency = SimDuration::from_ns(
            b.access_latency_ns + sc.propagation_ns(region, sc.nodes[ingest as usize].region, sc.network.route_inflation),
        );
        let ingest_queue = (b.uplink_bps / 8 / 20).max(64 * 1024).max(sc.stream.chunk_bytes);
        let uplink = Channel::new(b.uplink_bps, ingest_queue, ingest_latency, LossModel::NONE, stream_indexed(seed, "broadcaster.uplink.loss", i as u64));
        streams.push(StreamState { region: region as u16, ingest, uplink, viewers: 0, hot: false });
        carries.insert((i, ingest), Carry::new(Sub::Root, chunks_per_block));
    }
    // Rank r (from 1) is chosen with weight r^-zipf.
    let mut popularity_cdf = Vec::with_capacity(streams.len());
    let mut total = 0.0;
    for r in 1..=streams.len() {
        total += cdnsim_maths::powf(r as f64, -b.zipf);
        popularity_cdf.push(total);
    }

    let seconds = sc.duration_ns.div_ceil(1_000_000_000).max(1) as usize;
    let topo_latency: Vec<u64> = (0..2 * sc.links.len()).map(|c| topo.channel(cdnsim_net::ChannelId(c as u32)).latency().as_ns()).collect();
    let parts = Parts::build(sc, seed, seconds, &edges_by_region);
    let router = crate::overlay::router(sc, &topo).map_err(|e| WorldError::Routing { scenario: sc.name.clone(), message: e.to_string() })?;
    let route_service = (sc.routing.mode == Mode::Mesh).then(|| RouteService::new(sc, &topo, router.graph()));
    let retry = match sc.routing.control {
        Some(c) => RetryConfig { min_timeout_ns: c.first_timeout_min_ns, max_timeout_ns: c.timeout_max_ns, max_retries: c.max_retries, ..RetryConfig::default() },
        None => RetryConfig::default(),
    };
    let mut world = World {
        sc: sc.clone(),
        chunks_per_block,
        router,
        topo,
        nodes,
        streams,
        carries,
        links,
        pending: Vec::new(),
        pending_free: Vec::new(),
        edges_by_region,
        popularity_cdf,
        viewers: Vec::with_capacity(expected_sessions(sc)),
        arrivals_rng: stream(seed, "viewers.arrivals"),
        attributes_rng: stream(seed, "viewers.attributes"),
        series: BTreeMap::new(),
        seconds,
        e2e_us: cdnsim_metrics::LatencyHistogram::new(),
        counters: Counters::default(),
        active_faults: vec![Vec::new(); sc.links.len()],
        up_legs: BTreeMap::new(),
        fec_blocks: BTreeMap::new(),
        backbone: crate::backbone::BackboneNet::new(sc, seconds, |ch| topo_latency[ch.0 as usize]),
        control: Retry::new(retry),
        control_log: Vec::new(),
        control_armed: None,
        control_rng: stream(seed, "control.loss"),
        route_service,
        route_rng: stream(seed, "control.route_loss"),
        parts: Some(Box::new(parts)),
        scratch: Vec::new(),
    };
    for (i, f) in sc.faults.iter().enumerate() {
        let (start, end) = (SimTime::from_ns(f.start_ns), SimTime::from_ns(f.end_ns));
        sched.schedule_at(start, NET, Event::Fault { index: i as u16, begins: true });
        sched.schedule_at(end, NET, Event::Fault { index: i as u16, begins: false });
    }
    // The tree carries every stream up to its root whatever the audience,
    // pools to a source-tier node; the mesh waits for a viewer.
    world.publish_all(sched);
    world.with_parts(sched, |parts, w| parts.start(w));
    if sc.routing.mode != Mode::Tree {
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

/// Viewer sessions a run will almost surely not exceed: the initial
/// audience plus the expected Poisson arrivals and six standard
/// deviations. The viewers' vector is reserved at this size, since growing
/// it by doubling at a million viewers holds up to twice what it needs.
pub(crate) fn expected_sessions(sc: &Scenario) -> usize {
    let arrivals = sc.viewers.arrivals_per_s * sc.duration_ns as f64 / 1e9;
    (arrivals + 6.0 * arrivals.sqrt()).ceil() as usize + sc.viewers.initial as usize
}
