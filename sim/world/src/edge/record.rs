//! What an edge run produced: samples during the run (`sample`), and at
//! its end the summary columns and the `pods`, `machines` and
//! `edge_series` tables (`finish`). Column definitions: README, "Edge
//! results".

use cdnsim_edge::{Level, NUM_RESOURCES, PodState, Prices, Resource, Usage, bill, machine_hours, percentile_95};
use cdnsim_metrics::{Col, Summary, Table, Value};

use super::state::{BINS, EdgeWorld, RerouteRow, Series, TIERS, Tier, TransportNet, path_name};
use crate::run::{RunIdentity, RunResults};

const LEVELS: [&str; 3] = ["room", "region", "central"];
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// One sample at `now`: the pool series row and every live machine's row.
pub(crate) fn sample(w: &mut EdgeWorld, now: u64) {
    let s = &mut w.series;
    s.second.push(now / 1_000_000_000);
    for t in 0..4 {
        s.sessions[t].push(w.live_by_tier[t]);
        s.placed[t].push(std::mem::take(&mut w.counters.interval_tier[t]));
    }
    s.rejected.push(std::mem::take(&mut w.counters.interval_rejected));
    let mut cap = [[0u64; NUM_RESOURCES]; 3];
    let mut alloc = [[0u64; NUM_RESOURCES]; 3];
    let mut machines = [0u64; 3];
    let mut nonempty = [0u64; 3];
    for (i, m) in w.machines.iter().enumerate() {
        if m.released_ns.is_some() {
            continue;
        }
        let id = cdnsim_edge::MachineId(i as u32);
        let info = w.cluster.machine_info(id).expect("a live machine");
        let level = w.cluster.pool_info(m.pool).expect("its pool").level.rank() as usize;
        let (c, a) = (info.capacity.to_array(), info.allocated.to_array());
        let mut u = [0.0; NUM_RESOURCES];
        for d in 0..NUM_RESOURCES {
            u[d] = ratio(a[d], c[d]);
        }
        if !info.cordoned {
            machines[level] += 1;
            for d in 0..NUM_RESOURCES {
                cap[level][d] += c[d];
                alloc[level][d] += a[d];
            }
        }
        if info.allocations > 0 {
            nonempty[level] += 1;
            s.busy_count += 1;
            for d in 0..NUM_RESOURCES {
                s.busy_sum[d] += u[d];
                s.busy_hist[d][((u[d] * 1000.0).round() as usize).min(BINS - 1)] += 1;
            }
        }
        s.m_second.push(now / 1_000_000_000);
        s.m_machine.push(i as u64);
        s.m_allocations.push(info.allocations as u64);
        s.m_cordoned.push(info.cordoned);
        for d in 0..NUM_RESOURCES {
            s.m_util[d].push(u[d]);
        }
    }
    let mut pods = [0u64; 3];
    for p in &w.pods {
        let k = match p.pod.state() {
            PodState::Initialising => 0,
            PodState::Allocated => 1,
            PodState::Tombstone => 2,
            _ => continue,
        };
        pods[k] += 1;
    }
    for l in 0..3 {
        s.machines[l].push(machines[l]);
        s.nonempty[l].push(nonempty[l]);
        for d in 0..NUM_RESOURCES {
            s.util[l][d].push(ratio(alloc[l][d], cap[l][d]));
        }
        s.pods[l].push(pods[l]);
    }
    s.nonempty_peak = s.nonempty_peak.max(nonempty.iter().sum());
    let held = w.machines.iter().filter(|m| m.released_ns.is_none()).count() as u64;
    s.machines_peak = s.machines_peak.max(held);
    s.edge_bps.push(w.edge_bps as u64);
    s.streams_live.push(w.streams.cascade.streams() as u64);
    let lw = w.control.listwatch.as_ref().map(|l| l.bytes()).unwrap_or_default();
    let totals = [lw.all, lw.node_reuse, lw.pool_shared, lw.filtered, lw.filtered_shared];
    for k in 0..5 {
        s.control_bytes[k].push((totals[k] - s.control_bytes_last[k]).min(u64::MAX as u128) as u64);
        s.control_bytes_last[k] = totals[k];
    }
    s.legs.push(w.streams.legs.len() as u64);
    s.serverless_instances.push(w.serverless.as_ref().map_or(0, |x| x.usage(now).live_instances as u64));
}

fn level_name(l: Level) -> &'static str {
    LEVELS[l.rank() as usize]
}

fn hist_percentile(h: &[u64; BINS], p: f64) -> Option<f64> {
    let total: u64 = h.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, &c) in h.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(i as f64 / 1000.0);
        }
    }
    None
}

pub(crate) fn finish(mut w: EdgeWorld, id: &RunIdentity, events: u64, stop_ns: u64) -> RunResults {
    let sc = w.sc;
    let edge = w.edge;
    // Sessions still open at the stop count their time up to it.
    let mut open_ns = [0u128; 4];
    let mut serverless_open_bytes = 0u128;
    for l in w.live.iter().filter(|l| l.live) {
        open_ns[l.tier as usize] += (stop_ns - l.start_ns) as u128;
        if l.tier == Tier::Serverless {
            serverless_open_bytes +=
                (stop_ns - l.start_ns) as u128 * w.session_needs[l.service as usize].bandwidth_bps as u128 / 8_000_000_000;
        }
    }
    w.flush_meter(stop_ns);
    let samples = w.meter.samples(stop_ns).to_vec();
    let held: Vec<(u64, u64)> = w.machines.iter().map(|m| (m.added_ns, m.released_ns.unwrap_or(stop_ns))).collect();
    let hours = machine_hours(&held);
    let su = w.serverless.as_ref().map(|s| s.usage(stop_ns)).unwrap_or_default();
    let session_ns: Vec<u128> = (0..4).map(|t| w.counters.session_ns[t] + open_ns[t]).collect();
    let usage = Usage {
        run_ns: stop_ns,
        edge_samples_bps: &samples,
        machine_hours: hours,
        serverless_seconds: su.instance_seconds,
        serverless_bytes: (su.bytes as u128 + serverless_open_bytes) as u64,
        edge_session_ns: session_ns[..3].iter().sum(),
        serverless_session_ns: session_ns[3],
    };
    let p = &edge.prices;
    let prices = Prices {
        bandwidth_per_mbps_month: p.bandwidth_per_mbps_month,
        machine_per_hour: p.machine_per_hour,
        serverless_per_second: p.serverless_per_second,
        serverless_per_gb: p.serverless_per_gb,
    };
    let cost = bill(&usage, &prices);

    let c = &w.counters;
    let accepted: u64 = c.by_tier.iter().sum();
    let mut x: Vec<(String, Value)> = Vec::new();
    let mut count = |n: &str, v: u64| x.push((n.to_string(), Value::Count(v)));
    count("sessions", c.arrived);
    for t in 0..4 {
        count(&format!("sessions_{}", TIERS[t]), c.by_tier[t]);
    }
    count("sessions_rejected", c.rejected);
    count("sessions_spilled_full", c.spilled_full);
    count("sessions_spilled_not_ready", c.spilled_not_ready);
    count("sessions_cut_scale_in", c.cut_eviction + c.cut_naive);
    count("sessions_cut_eviction", c.cut_eviction);
    count("sessions_cut_naive", c.cut_naive);
    count("sessions_cut_recreate", c.cut_recreate);
    count("sessions_cut_outage", c.cut_failure);
    count("sessions_kept_in_place", c.kept_in_place);
    count("sessions_ended", c.ended);
    count("sessions_open_at_end", w.live_count as u64);
    let st = &w.streams;
    count("stream_publishers", st.publishers);
    count("stream_subscribers", st.subscribers);
    count("subscribers_no_stream", st.no_stream);
    count("subscribers_rejected_cascade", st.rejected_cascade);
    count("sessions_cut_upstream", st.cut_upstream);
    count("sessions_ended_with_stream", st.ended_with_stream);
    count("cascade_legs_opened", st.legs_opened);
    count("cascade_legs_cross_region", st.legs_cross_region);
    count("cascade_legs_repulled", st.legs_repulled);
    count("cascade_legs_peak", st.legs_peak);
    count("cascade_depth_max", st.depth_max as u64);
    x.push((
        "cascade_depth_mean".to_string(),
        Value::OptReal((st.subscribers > 0).then(|| st.depth_sum as f64 / st.subscribers as f64)),
    ));
    let ct = &w.control;
    let mut count = |n: &str, v: u64| x.push((n.to_string(), Value::Count(v)));
    count("control_syncs_blocked", ct.syncs_blocked);
    count("control_plans_blocked", ct.plans_blocked);
    count("control_upgrades_blocked", ct.upgrades_blocked);
    count("control_rooms_not_ready", ct.not_ready);
    count("pods_evicted_control", ct.pods_evicted);
    count("sessions_on_evicted_pods", ct.sessions_on_evicted);
    count("sessions_cut_control", ct.cut);
    for t in 0..4 {
        count(&format!("sessions_{}_while_cut", TIERS[t]), ct.while_cut_tier[t]);
    }
    count("sessions_rejected_while_cut", ct.while_cut_rejected);
    const SCHEMES: [&str; 5] = ["all", "node_reuse", "pool_shared", "filtered", "filtered_shared"];
    let lw = ct.listwatch.as_ref().map(|l| l.bytes()).unwrap_or_default();
    let totals = [lw.all, lw.node_reuse, lw.pool_shared, lw.filtered, lw.filtered_shared];
    for (name, v) in SCHEMES.iter().zip(totals) {
        x.push((format!("control_bytes_{name}"), Value::Count(v.min(u64::MAX as u128) as u64)));
    }
    x.push(("control_pool_updates".to_string(), Value::Count(ct.listwatch.as_ref().map_or(0, |l| l.pool_updates()))));
    x.push((
        "control_resume_s".to_string(),
        Value::OptReal(ct.repaired_ns.zip(ct.resumed_ns).map(|(r, s)| (s - r) as f64 / 1e9)),
    ));
    if let Some(t) = w.transport.as_deref() {
        transport_columns(t, &mut x);
    }
    let mut count = |n: &str, v: u64| x.push((n.to_string(), Value::Count(v)));
    count("machines_initial", held.iter().filter(|h| h.0 == 0).count() as u64);
    count("machines_peak", w.series.machines_peak);
    count("machines_needed", w.series.nonempty_peak);
    count("machine_hours", hours);
    count("machines_bought", w.planners.iter().map(|p| p.bought).sum());
    count("machines_released", w.planners.iter().map(|p| p.released).sum());
    count("pods_created", c.pods_created);
    count("pods_revived", c.pods_revived);
    count("pods_scaled_in", c.pods_scaled_in);
    count("scale_decisions", c.scale_decisions);
    count("pod_placement_failures", w.fleets.iter().map(|f| f.placement_failures).sum());
    let mut placed = [0u64; 3];
    let mut no_fit = [0u64; NUM_RESOURCES];
    let (mut no_machines, mut not_admitted, mut policy, mut examined, mut overflow_out) = (0, 0, 0, 0, 0);
    for i in 0..w.cluster.num_pools() {
        let info = w.cluster.pool_info(cdnsim_edge::PoolId(i as u32)).expect("a pool");
        let st = info.stats;
        placed[info.level.rank() as usize] += st.placed;
        for d in 0..NUM_RESOURCES {
            no_fit[d] += st.rejected_no_fit[d];
        }
        no_machines += st.rejected_no_machines;
        not_admitted += st.rejected_not_admitted;
        policy += st.rejected_policy;
        examined += st.examined;
        overflow_out += st.overflow_out;
    }
    for l in 0..3 {
        count(&format!("pod_placements_{}", LEVELS[l]), placed[l]);
    }
    count("pod_placements_overflowed", overflow_out);
    for r in Resource::ALL {
        count(&format!("pod_rejections_no_fit_{}", r.name()), no_fit[r as usize]);
    }
    count("pod_rejections_no_machines", no_machines);
    count("pod_rejections_not_admitted", not_admitted);
    count("pod_rejections_policy", policy);
    count("machines_examined", examined);
    count("serverless_cold_starts", su.cold_starts);
    count("serverless_warm_starts", su.warm_starts);
    count("serverless_instance_seconds", su.instance_seconds);
    count("edge_bandwidth_p95_bps", percentile_95(&samples));
    let mut real = |n: &str, v: Option<f64>| x.push((n.to_string(), Value::OptReal(v)));
    real("rejection_share", (c.arrived > 0).then(|| c.rejected as f64 / c.arrived as f64));
    real("overflow_share", (accepted > 0).then(|| (accepted - c.by_tier[0]) as f64 / accepted as f64));
    for r in Resource::ALL {
        let d = r as usize;
        let s = &w.series;
        real(&format!("util_mean_{}", r.name()), (s.busy_count > 0).then(|| s.busy_sum[d] / s.busy_count as f64));
        real(&format!("util_p95_{}", r.name()), hist_percentile(&s.busy_hist[d], 95.0));
    }
    for t in 0..4 {
        real(&format!("join_ms_p50_{}", TIERS[t]), w.join_us[t].percentile(50.0).map(|v| v / 1e3));
        real(&format!("join_ms_p95_{}", TIERS[t]), w.join_us[t].percentile(95.0).map(|v| v / 1e3));
    }
    real("session_hours", Some((cost.edge_session_hours + cost.serverless_session_hours) as f64));
    real("cost_total", Some(cost.total()));
    real("cost_edge_bandwidth", Some(cost.edge_bandwidth));
    real("cost_edge_machines", Some(cost.edge_machines));
    real("cost_serverless_compute", Some(cost.serverless_compute));
    real("cost_serverless_traffic", Some(cost.serverless_traffic));
    real("cost_per_session_hour", cost.per_session_hour());
    real("cost_edge_per_session_hour", cost.edge_per_session_hour());
    real("cost_serverless_per_session_hour", cost.serverless_per_session_hour());
    x.insert(0, ("duration_s".into(), Value::Real(sc.duration_ns as f64 / 1e9)));
    x.insert(1, ("edge_policy".into(), Value::Text(w.cluster.pool_info(cdnsim_edge::PoolId(0)).map_or("", |p| p.policy).into())));
    x.insert(2, ("edge_sharing".into(), Value::Text(if edge.shared { "shared" } else { "dedicated" }.into())));
    x.insert(
        3,
        (
            "edge_scale_in".into(),
            Value::Text(match edge.scale_in {
                cdnsim_scenario::EdgeScaleIn::Tombstone { .. } => "tombstone".into(),
                cdnsim_scenario::EdgeScaleIn::Naive => "naive".into(),
            }),
        ),
    );

    let summary = Summary {
        run_id: id.run_id.clone(),
        scenario: sc.name.clone(),
        seed: id.seed,
        replication: id.replication,
        topology: "edge".into(),
        viewers: 0,
        home_nodes: 0,
        amplification: None,
        goodput_amplification: None,
        idc_egress_bytes: 0,
        viewer_bytes: 0,
        internal_bytes: 0,
        hop_waste: None,
        mean_hops: None,
        startup_ms_p50: None,
        startup_ms_p95: None,
        first_block_ms_p50: None,
        first_block_ms_p95: None,
        e2e_ms_p50: None,
        e2e_ms_p95: None,
        stall_ratio: None,
        decode_failures: 0,
        events,
        extra: x,
    };

    let mut tables = vec![
        ("pods".to_string(), pods_table(&w, stop_ns)),
        ("machines".to_string(), machines_table(&w)),
        ("edge_series".to_string(), series_table(&w.series)),
    ];
    if let Some(t) = w.transport.as_deref() {
        tables.push(("reroutes".to_string(), reroutes_table(sc, t)));
    }
    RunResults { summary, timeseries: Vec::new(), viewers: Box::new(Vec::new()), extra_tables: tables, events }
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

fn pods_table(w: &EdgeWorld, stop_ns: u64) -> Table {
    let mut t = Table::default();
    let n = w.pods.len();
    let room_of = |p: &super::state::PodRec| {
        let f = &w.fleets[p.fleet as usize];
        w.cluster.topology().room_name(cdnsim_edge::RoomId(f.room as u32)).unwrap_or("").to_string()
    };
    t.push("pod", Col::U64((0..n as u64).collect()));
    t.push("room", Col::Str(w.pods.iter().map(room_of).collect()));
    t.push("service", Col::Str(w.pods.iter().map(|p| w.edge.services[w.fleets[p.fleet as usize].service].name.clone()).collect()));
    t.push("level", Col::Str(w.pods.iter().map(|p| level_name(p.level).to_string()).collect()));
    t.push("machine", Col::U64(w.pods.iter().map(|p| p.machine.0 as u64).collect()));
    t.push("machine_room", Col::Str(w.pods.iter().map(|p| {
        w.cluster.topology().room_name(cdnsim_edge::RoomId(w.machines[p.machine.index()].room as u32)).unwrap_or("").to_string()
    }).collect()));
    t.push("created_s", Col::F64(w.pods.iter().map(|p| secs(p.created_ns)).collect()));
    t.push("ready_s", Col::OptF64(w.pods.iter().map(|p| p.ready_ns.map(secs)).collect()));
    t.push("tombstone_s", Col::OptF64(w.pods.iter().map(|p| p.tombstone_ns.map(secs)).collect()));
    t.push("deleted_s", Col::OptF64(w.pods.iter().map(|p| p.deleted_ns.filter(|&d| d <= stop_ns).map(secs)).collect()));
    t.push("state", Col::Str(w.pods.iter().map(|p| p.pod.state().name().to_string()).collect()));
    let st = |f: fn(&cdnsim_edge::PodStats) -> u64| Col::U64(w.pods.iter().map(|p| f(p.pod.stats())).collect());
    t.push("sessions_at_scale_in", Col::U64(w.pods.iter().map(|p| p.sessions_at_scale_in).collect()));
    t.push("sessions_served", st(|s| s.served));
    t.push("sessions_ended", st(|s| s.ended));
    t.push("cut_eviction", st(|s| s.cut_eviction));
    t.push("cut_naive", st(|s| s.cut_naive));
    t.push("cut_recreate", st(|s| s.cut_recreate));
    t.push("cut_outage", st(|s| s.cut_failure));
    t.push("cut_control", st(|s| s.cut_control));
    t.push("kept_in_place", st(|s| s.kept_in_place));
    t.push("revivals", st(|s| s.revivals));
    t.push("transitions", st(|s| s.transitions));
    t.push("sessions_open", Col::U64(w.pods.iter().map(|p| p.pod.sessions() as u64).collect()));
    t.push("relays_served", st(|s| s.relays_served));
    t.push("relays_cut", st(|s| s.relays_cut));
    t
}

fn machines_table(w: &EdgeWorld) -> Table {
    let s = &w.series;
    let mut t = Table::default();
    let name = |m: u64| {
        let r = &w.machines[m as usize];
        w.cluster.topology().room_name(cdnsim_edge::RoomId(r.room as u32)).unwrap_or("").to_string()
    };
    let pool = |m: u64| {
        let r = &w.machines[m as usize];
        w.cluster.pool_info(r.pool).map_or(String::new(), |p| p.name.to_string())
    };
    let level = |m: u64| {
        let r = &w.machines[m as usize];
        w.cluster.pool_info(r.pool).map_or("", |p| level_name(p.level)).to_string()
    };
    t.push("second", Col::U64(s.m_second.clone()));
    t.push("machine", Col::U64(s.m_machine.clone()));
    t.push("room", Col::Str(s.m_machine.iter().map(|&m| name(m)).collect()));
    t.push("pool", Col::Str(s.m_machine.iter().map(|&m| pool(m)).collect()));
    t.push("level", Col::Str(s.m_machine.iter().map(|&m| level(m)).collect()));
    t.push("cordoned", Col::Bool(s.m_cordoned.clone()));
    t.push("pods", Col::U64(s.m_allocations.clone()));
    for r in Resource::ALL {
        t.push(&format!("util_{}", r.name()), Col::F64(s.m_util[r as usize].clone()));
    }
    t
}

fn series_table(s: &Series) -> Table {
    let mut t = Table::default();
    t.push("second", Col::U64(s.second.clone()));
    for i in 0..4 {
        t.push(&format!("sessions_{}", TIERS[i]), Col::U64(s.sessions[i].clone()));
    }
    for i in 0..4 {
        t.push(&format!("placed_{}", TIERS[i]), Col::U64(s.placed[i].clone()));
    }
    t.push("rejected", Col::U64(s.rejected.clone()));
    for l in 0..3 {
        t.push(&format!("machines_{}", LEVELS[l]), Col::U64(s.machines[l].clone()));
        t.push(&format!("nonempty_{}", LEVELS[l]), Col::U64(s.nonempty[l].clone()));
        for r in Resource::ALL {
            t.push(&format!("util_{}_{}", r.name(), LEVELS[l]), Col::F64(s.util[l][r as usize].clone()));
        }
    }
    t.push("pods_initialising", Col::U64(s.pods[0].clone()));
    t.push("pods_allocated", Col::U64(s.pods[1].clone()));
    t.push("pods_tombstone", Col::U64(s.pods[2].clone()));
    t.push("edge_bps", Col::U64(s.edge_bps.clone()));
    t.push("serverless_instances", Col::U64(s.serverless_instances.clone()));
    t.push("streams_live", Col::U64(s.streams_live.clone()));
    t.push("cascade_legs", Col::U64(s.legs.clone()));
    for (k, name) in ["all", "node_reuse", "pool_shared", "filtered", "filtered_shared"].iter().enumerate() {
        t.push(&format!("control_bytes_{name}"), Col::U64(s.control_bytes[k].clone()));
    }
    t
}

/// Reroute time of a row that was restored, ms.
fn reroute_ms(r: &RerouteRow) -> Option<f64> {
    r.restored_ns.map(|t| (t - r.broken_ns) as f64 / 1e6)
}

/// The transport's summary columns (only in runs with `[edge.transport]`,
/// so the other runs' summaries keep their bytes).
fn transport_columns(t: &TransportNet, x: &mut Vec<(String, Value)>) {
    let st = t.svc.stats();
    let mut count = |n: &str, v: u64| x.push((n.to_string(), Value::Count(v)));
    count("transport_links", t.truth.len() as u64);
    count("transport_probes", st.probes);
    count("probe_bytes", t.probe_bytes);
    count("transport_probes_lost", st.probes_lost);
    count("transport_links_down", st.links_down);
    count("transport_links_up", st.links_up);
    count("transport_switches", st.switches);
    count("transport_switches_forced", st.forced_switches);
    count("transport_switches_relay", st.relay_switches);
    count("transport_ping_pongs", st.ping_pongs);
    count("transport_pairs_unreachable", st.unreachable);
    count("transport_legs_rerouted", t.legs_rerouted);
    count("transport_legs_lost", t.legs_lost);
    let outage: Vec<&RerouteRow> = t.rows.iter().filter(|r| r.cause == "outage" && !r.lost).collect();
    count("sessions_rerouted", outage.iter().filter(|r| r.detected_ns.is_some()).count() as u64);
    count("sessions_healed_in_place", outage.iter().filter(|r| r.detected_ns.is_none()).count() as u64);
    count("sessions_rerouted_degrade", t.rows.iter().filter(|r| r.cause == "degrade").count() as u64);
    count("sessions_lost_no_path", t.sessions_lost);
    count("reroute_rows_dropped", t.rows_dropped);
    let mut ms: Vec<f64> = outage.iter().filter_map(|r| reroute_ms(r)).collect();
    ms.sort_by(f64::total_cmp);
    // Nearest rank, as every percentile of the results.
    let rank = |p: f64| (!ms.is_empty()).then(|| ms[((p / 100.0 * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1]);
    x.push(("reroute_ms_p50".to_string(), Value::OptReal(rank(50.0))));
    x.push(("reroute_ms_p95".to_string(), Value::OptReal(rank(95.0))));
    x.push(("reroute_ms_max".to_string(), Value::OptReal(ms.last().copied())));
}

/// `reroutes.parquet`: one row per (affected session, leg reroute).
fn reroutes_table(sc: &cdnsim_scenario::Scenario, t: &TransportNet) -> Table {
    let edge = sc.edge.as_ref().expect("an edge scenario");
    let links = &edge.transport.as_ref().expect("a transport").links;
    let ms = |ns: u64| ns as f64 / 1e6;
    let rows = &t.rows;
    let mut tb = Table::default();
    tb.push("session", Col::U64(rows.iter().map(|r| r.session).collect()));
    tb.push("stream", Col::U64(rows.iter().map(|r| r.stream).collect()));
    tb.push("region_a", Col::Str(rows.iter().map(|r| sc.regions[r.region_a as usize].name.clone()).collect()));
    tb.push("region_b", Col::Str(rows.iter().map(|r| sc.regions[r.region_b as usize].name.clone()).collect()));
    tb.push("link", Col::Str(rows.iter().map(|r| r.link.map_or(String::new(), |l| links[l as usize].name.clone())).collect()));
    tb.push("submarine", Col::Bool(rows.iter().map(|r| r.link.is_some_and(|l| links[l as usize].submarine)).collect()));
    tb.push("cause", Col::Str(rows.iter().map(|r| r.cause.to_string()).collect()));
    tb.push("fault_start_ms", Col::F64(rows.iter().map(|r| ms(r.fault_start_ns)).collect()));
    tb.push("broken_ms", Col::F64(rows.iter().map(|r| ms(r.broken_ns)).collect()));
    tb.push("detected_ms", Col::OptF64(rows.iter().map(|r| r.detected_ns.map(ms)).collect()));
    tb.push("restored_ms", Col::OptF64(rows.iter().map(|r| r.restored_ns.map(ms)).collect()));
    tb.push("reroute_ms", Col::OptF64(rows.iter().map(reroute_ms).collect()));
    tb.push("bound_ms", Col::OptF64(rows.iter().map(|r| r.bound_ns.map(ms)).collect()));
    tb.push("path_before", Col::Str(rows.iter().map(|r| path_name(sc, r.region_a, r.region_b, &r.path_before)).collect()));
    tb.push("path_after", Col::Str(rows.iter().map(|r| r.path_after.map_or(String::new(), |p| path_name(sc, r.region_a, r.region_b, &p))).collect()));
    tb.push("via_relay", Col::Bool(rows.iter().map(|r| r.path_after.is_some_and(|p| p.relay.is_some())).collect()));
    tb.push("lost", Col::Bool(rows.iter().map(|r| r.lost).collect()));
    tb
}
