//! Scenario `[edge]` -> the edge world at time zero: the cluster's regions,
//! rooms, pools and machines; one fleet (autoscaler) per room and service;
//! the arrival generators; planners; the serverless pool; the first events.

use cdnsim_edge::{
    Admission, Autoscaler, AutoscalerConfig, BandwidthMeter, Cluster, CustomerId, EdgeError, Level, MachinePlanner,
    Metric, NUM_METRICS, PlannerConfig, PoolId, PoolSpec, Resources, RoomId, Serverless, ServerlessConfig, Topology,
    policy::by_name,
    workload::{Arrivals, DailyProfile, DurationDist, FlashCrowd},
};
use cdnsim_engine::{RngStream, Scheduler, SimDuration, SimTime, stream, stream_indexed};
use cdnsim_metrics::stats::LatencyHistogram;
use cdnsim_scenario::edge::split_by_share;
use cdnsim_scenario::{DurationSpec, Edge, EdgePolicy, EdgeResources, Scenario};
use rand::Rng;

use super::state::{ARRIVE, CONTROL, Counters, EdgeWorld, Ev, FAULT, Fleet, PodRec, Planner, Series, Streams, Control};

/// First host port handed to pods on a machine.
pub(crate) const PORT_BASE: u16 = 20_000;

pub(crate) fn resources(r: &EdgeResources) -> Resources {
    Resources { cpu_millis: r.cpu_millis, memory_bytes: r.memory_bytes, bandwidth_bps: r.bandwidth_bps, pps: r.pps, host_ports: r.host_ports }
}

pub(crate) fn duration(d: &DurationSpec) -> DurationDist {
    match d {
        DurationSpec::Fixed { ns } => DurationDist::Fixed { ns: *ns },
        DurationSpec::Exponential { mean_ns } => DurationDist::Exponential { mean_ns: *mean_ns },
        DurationSpec::Lognormal { median_ns, sigma } => {
            DurationDist::LogNormal { mu: cdnsim_maths::ln(*median_ns as f64 / 1e9), sigma: *sigma }
        }
        DurationSpec::Weibull { shape, scale_ns } => DurationDist::Weibull { shape: *shape, scale_ns: *scale_ns },
        DurationSpec::Empirical { points } => DurationDist::Empirical { points: points.clone() },
    }
}

/// Which services' images a new machine already holds: each with
/// probability `prewarmed_share`, independently.
pub(crate) fn draw_images(edge: &Edge, rng: &mut RngStream) -> u64 {
    let mut bits = 0u64;
    for s in 0..edge.services.len() {
        if rng.random::<f64>() < edge.prewarmed_share {
            bits |= 1 << s;
        }
    }
    bits
}

fn policy_name(p: EdgePolicy) -> &'static str {
    match p {
        EdgePolicy::Spread => "spread",
        EdgePolicy::Binpack => "binpack",
        EdgePolicy::Hybrid => "hybrid",
    }
}

/// The pools of one level: one shared pool, or one per service.
fn add_pools(cluster: &mut Cluster, edge: &Edge, name: &str, level: Level) -> Result<Vec<PoolId>, EdgeError> {
    let mut out = Vec::new();
    let specs: Vec<(String, Admission)> = if edge.shared {
        vec![(name.to_string(), Admission::Shared)]
    } else {
        edge.services
            .iter()
            .enumerate()
            .map(|(s, svc)| (format!("{name}/{}", svc.name), Admission::Customers(vec![CustomerId(s as u32)])))
            .collect()
    };
    for (n, admits) in specs {
        let policy = by_name(policy_name(edge.policy)).expect("a policy the crate names");
        out.push(cluster.add_pool(PoolSpec::new(n, level, admits, policy))?);
    }
    Ok(out)
}

pub(crate) fn build<'a>(
    sc: &'a Scenario,
    edge: &'a Edge,
    seed: u64,
    sched: &mut Scheduler<Ev>,
) -> Result<EdgeWorld<'a>, EdgeError> {
    if edge.services.len() > 64 {
        return Err(EdgeError::BoundExceeded { model: "world", what: "services", bound: 64 });
    }
    let shares: Vec<f64> = edge.services.iter().map(|s| s.share).collect();
    let mut topo = Topology::new();
    let mut rooms = Vec::new();
    let mut region_rooms = Vec::new();
    let mut region_ids = Vec::new();
    for (r, er) in edge.regions.iter().enumerate() {
        let name = &sc.regions[er.region].name;
        let g = topo.add_region(name.clone())?;
        region_ids.push(g);
        let mut list = Vec::new();
        for i in 0..er.rooms {
            let room = topo.add_room(g, format!("{name}-{i}"))?;
            list.push(room.index());
            rooms.push((r, false));
        }
        region_rooms.push(list);
    }
    let central_region = topo.add_region("central")?;
    let central_room = topo.add_room(central_region, format!("central-{}", sc.regions[edge.central.region].name))?;
    let mut cluster = Cluster::new(topo);

    let mut world_machines: Vec<(usize, PoolId)> = Vec::new();
    let mut room_pools: Vec<(usize, PoolId)> = Vec::new();
    for (r, er) in edge.regions.iter().enumerate() {
        for &room in &region_rooms[r] {
            let name = cluster.topology().room_name(RoomId(room as u32)).expect("added").to_string();
            let pools = add_pools(&mut cluster, edge, &name, Level::Room(RoomId(room as u32)))?;
            let counts = if edge.shared { vec![er.machines_per_room] } else { split_by_share(er.machines_per_room, &shares) };
            for (&pool, &n) in pools.iter().zip(&counts) {
                room_pools.push((room, pool));
                world_machines.extend(std::iter::repeat_n((room, pool), n as usize));
            }
        }
        if er.region_machines > 0 {
            let name = format!("{}-region", sc.regions[er.region].name);
            let pools = add_pools(&mut cluster, edge, &name, Level::Region(region_ids[r]))?;
            let counts = if edge.shared { vec![er.region_machines] } else { split_by_share(er.region_machines, &shares) };
            let mut k = 0usize;
            for (&pool, &n) in pools.iter().zip(&counts) {
                // Region-level machines stand in the region's rooms in turn.
                for _ in 0..n {
                    world_machines.push((region_rooms[r][k % region_rooms[r].len()], pool));
                    k += 1;
                }
            }
        }
    }
    let mut rooms = rooms;
    rooms.push((usize::MAX, false));
    if edge.central.machines > 0 {
        let pools = add_pools(&mut cluster, edge, "central", Level::Central)?;
        let counts = if edge.shared { vec![edge.central.machines] } else { split_by_share(edge.central.machines, &shares) };
        for (&pool, &n) in pools.iter().zip(&counts) {
            world_machines.extend(std::iter::repeat_n((central_room.index(), pool), n as usize));
        }
    }

    let services = edge.services.len();
    let mut fleets = Vec::new();
    let mut fleet_of = vec![u32::MAX; rooms.len() * services];
    let mut targets = [None; NUM_METRICS];
    let a = &edge.autoscale;
    for (r, er) in edge.regions.iter().enumerate() {
        let profile_now = DailyProfile::new(er.hourly_arrivals_per_s, er.utc_offset_ns, Vec::new())?;
        for &room in &region_rooms[r] {
            for (s, svc) in edge.services.iter().enumerate() {
                let pod = resources(&svc.pod);
                targets[Metric::Cpu as usize] = a.target_cpu.map(|t| t * pod.cpu_millis as f64);
                targets[Metric::Memory as usize] = a.target_memory.map(|t| t * pod.memory_bytes as f64);
                targets[Metric::Bandwidth as usize] = a.target_bandwidth.map(|t| t * pod.bandwidth_bps as f64);
                targets[Metric::Pps as usize] = a.target_pps.map(|t| t * pod.pps as f64);
                targets[Metric::Sessions as usize] = a.target_sessions.map(|t| t * svc.max_sessions_per_pod as f64);
                targets[Metric::PushStreams as usize] = a.target_push_streams;
                targets[Metric::PullStreams as usize] = a.target_pull_streams;
                let cfg = AutoscalerConfig {
                    targets,
                    sync_period_ns: a.sync_period_ns,
                    tolerance: a.tolerance,
                    scale_in_window_ns: a.scale_in_window_ns,
                    min_pods: a.min_pods,
                    max_pods: a.max_pods,
                };
                // Pods at time zero: what Little's law says the room's share
                // of the first hour's arrivals keeps busy, at the sessions
                // target (or 80% of a pod's sessions without one).
                let concurrent = profile_now.rate_per_s(0) * svc.share / er.rooms as f64
                    * duration(&svc.session_length).mean_ns()
                    / 1e9;
                let per_pod = svc.max_sessions_per_pod as f64 * a.target_sessions.unwrap_or(0.8);
                let initial = ((concurrent / per_pod).ceil() as u32).clamp(a.min_pods, a.max_pods);
                let chain = cluster.chain_for(RoomId(room as u32), CustomerId(s as u32));
                fleet_of[room * services + s] = fleets.len() as u32;
                fleets.push(Fleet {
                    room,
                    service: s,
                    chain,
                    pods: Vec::new(),
                    autoscaler: Autoscaler::new(cfg, 0, initial)?,
                    placement_failures: 0,
                });
            }
        }
    }

    let mut arrivals = Vec::new();
    let mut arrival_rng = Vec::new();
    let mut session_rng = Vec::new();
    for (r, er) in edge.regions.iter().enumerate() {
        let flash: Vec<FlashCrowd> = edge
            .flash_crowds
            .iter()
            .filter(|f| f.region == r)
            .map(|f| FlashCrowd { start_ns: f.start_ns, end_ns: f.end_ns, multiplier: f.multiplier })
            .collect();
        let profile = DailyProfile::new(er.hourly_arrivals_per_s, er.utc_offset_ns, flash)?;
        arrivals.push(Arrivals::new(profile, 0, sc.duration_ns));
        arrival_rng.push(stream_indexed(seed, "edge.arrivals", r as u64));
        session_rng.push(stream_indexed(seed, "edge.sessions", r as u64));
    }
    let mut cdf = Vec::new();
    let mut acc = 0.0;
    for s in &shares {
        acc += s;
        cdf.push(acc);
    }

    let serverless = match &edge.serverless {
        Some(s) => Some(Serverless::new(ServerlessConfig {
            keep_alive_ns: s.keep_alive_ns,
            max_instances: s.max_instances,
            sessions_per_instance: s.sessions_per_instance,
        })?),
        None => None,
    };
    let session_lengths: Vec<DurationDist> = edge.services.iter().map(|s| duration(&s.session_length)).collect();
    let publisher_lengths: Vec<Option<DurationDist>> =
        edge.services.iter().map(|s| s.streams.as_ref().and_then(|st| st.publisher_length.as_ref().map(duration))).collect();
    for d in session_lengths.iter().chain(publisher_lengths.iter().flatten()) {
        d.validate()?;
    }
    let startup_prewarmed = duration(&edge.startup_prewarmed);
    let startup_pulled = duration(&edge.startup_pulled);
    startup_prewarmed.validate()?;
    startup_pulled.validate()?;
    let cold_start = edge.serverless.as_ref().map(|s| duration(&s.cold_start));
    if let Some(c) = &cold_start {
        c.validate()?;
    }

    let mut w = EdgeWorld {
        sc,
        edge,
        cluster,
        pods: Vec::<PodRec>::new(),
        fleets,
        fleet_of,
        machines: Vec::new(),
        rooms,
        region_rooms,
        planners: Vec::new(),
        serverless,
        serverless_armed: None,
        pod_requests: edge.services.iter().map(|s| resources(&s.pod)).collect(),
        session_needs: edge.services.iter().map(|s| resources(&s.session)).collect(),
        relay_needs: edge.services.iter().map(|s| s.streams.as_ref().map(|st| resources(&st.relay))).collect(),
        session_lengths,
        publisher_lengths,
        startup_prewarmed,
        startup_pulled,
        cold_start,
        arrivals,
        arrival_rng,
        session_rng,
        startup_rng: stream(seed, "edge.startup"),
        cold_rng: stream(seed, "edge.cold_start"),
        share_cdf: cdf,
        live: Vec::new(),
        free_slots: Vec::new(),
        live_count: 0,
        live_by_tier: [0; 4],
        counters: Counters::default(),
        join_us: std::array::from_fn(|_| LatencyHistogram::new()),
        edge_bit_ns: 0,
        edge_bps: 0,
        edge_last_ns: 0,
        meter: BandwidthMeter::new(0),
        serverless_bytes: 0,
        series: Series::default(),
        streams: Streams { by_region: vec![vec![Vec::new(); edge.regions.len()]; services], ..Streams::default() },
        dirty: Vec::new(),
        serverless_dirty: false,
        settling: false,
        control: Control {
            listwatch: Some({
                let c = edge.control.unwrap_or(cdnsim_scenario::EdgeControl::DEFAULT);
                let cfg = cdnsim_edge::ListWatchConfig {
                    pool_object_bytes: c.endpointslice_bytes,
                    node_object_bytes: c.pod_bytes,
                    watchers_per_node: c.watchers_per_node,
                };
                cdnsim_edge::ListWatch::new(cfg, edge.regions.len() + 1)?
            }),
            ..Control::default()
        },
        transport: match &edge.transport {
            None => None,
            Some(t) => {
                let used: Vec<usize> = edge.regions.iter().map(|r| r.region).chain([edge.central.region]).collect();
                Some(Box::new(super::state::TransportNet::new(t, sc.regions.len(), &used, seed).map_err(|e| {
                    cdnsim_edge::EdgeError::InvalidParam { model: "transport", field: "edge.transport", expected: "a valid transport network", found: e.to_string() }
                })?))
            }
        },
    };
    for (room, pool) in world_machines {
        w.add_machine(0, room, pool);
    }
    if let Some(p) = &edge.planner {
        for &(room, pool) in &room_pools {
            let owned = w.cluster.pool_machines(pool).len() as u32;
            let cfg = PlannerConfig {
                lead_time_ns: p.lead_time_ns,
                demand_per_machine: 1.0,
                headroom: p.headroom,
                min_machines: p.min_machines,
                max_machines: p.max_machines,
            };
            w.planners.push(Planner {
                pool,
                room,
                planner: MachinePlanner::new(cfg, 0, owned)?,
                hour_sum: 0.0,
                hour_samples: 0,
                bought: 0,
                released: 0,
            });
        }
    }

    // The initial pods start at time zero, their images pre-warmed or not
    // like any other pod's. They are placed one per fleet in turn, as
    // pods of many services arrive interleaved at a real scheduler: one
    // service's pods all first would pack its shape alone.
    let want: Vec<u32> = w.fleets.iter().map(|f| f.autoscaler.current()).collect();
    let mut failed = vec![false; want.len()];
    for k in 0..want.iter().copied().max().unwrap_or(0) {
        for f in 0..w.fleets.len() {
            if k < want[f] && !failed[f] && !w.create_pod(sched, 0, f) {
                failed[f] = true;
            }
        }
    }
    for f in 0..w.fleets.len() {
        let n = w.serving(f);
        w.fleets[f].autoscaler.set_current(n);
    }
    for r in 0..w.arrivals.len() {
        if let Some(t) = w.arrivals[r].next_arrival(&mut w.arrival_rng[r]) {
            sched.schedule_at(SimTime::from_ns(t), ARRIVE, Ev::Arrival { region: r as u16 });
        }
    }
    sched.schedule_at(SimTime::from_ns(edge.autoscale.sync_period_ns), CONTROL, Ev::Sync);
    sched.schedule_at(SimTime::from_ns(edge.sample_interval_ns.min(sc.duration_ns)), CONTROL, Ev::Sample);
    sched.schedule_in(SimDuration::from_ns(cdnsim_edge::NS_PER_HOUR), CONTROL, Ev::Hour);
    for (i, o) in edge.room_outages.iter().enumerate() {
        sched.schedule_at(SimTime::from_ns(o.start_ns), FAULT, Ev::Outage { index: i as u16, begins: true });
        sched.schedule_at(SimTime::from_ns(o.end_ns), FAULT, Ev::Outage { index: i as u16, begins: false });
    }
    for (i, u) in edge.upgrades.iter().enumerate() {
        sched.schedule_at(SimTime::from_ns(u.at_ns), FAULT, Ev::Upgrade { index: i as u16 });
    }
    for (i, f) in edge.transport_faults.iter().enumerate() {
        sched.schedule_at(SimTime::from_ns(f.start_ns), FAULT, Ev::TransportFault { index: i as u16, begins: true });
        sched.schedule_at(SimTime::from_ns(f.end_ns), FAULT, Ev::TransportFault { index: i as u16, begins: false });
    }
    w.arm_transport(sched, 0);
    if let Some(c) = &edge.control {
        let cfg = cdnsim_edge::ControlConfig {
            lease_period_ns: c.lease_period_ns,
            grace_ns: c.grace_ns,
            eviction_timeout_ns: c.eviction_timeout_ns,
            pool_delegate: c.pool_delegate,
            autonomy: c.autonomy,
        };
        let regions: Vec<cdnsim_edge::RegionId> = w.rooms.iter().map(|&(g, _)| cdnsim_edge::RegionId(g.min(u32::MAX as usize) as u32)).collect();
        w.control.plane = Some(cdnsim_edge::ControlPlane::new(cfg, &regions)?);
        w.control.link_cuts = vec![0; w.rooms.len()];
        for (i, f) in edge.control_faults.iter().enumerate() {
            sched.schedule_at(SimTime::from_ns(f.start_ns), FAULT, Ev::ControlFault { index: i as u16, begins: true });
            sched.schedule_at(SimTime::from_ns(f.end_ns), FAULT, Ev::ControlFault { index: i as u16, begins: false });
        }
    }
    Ok(w)
}
