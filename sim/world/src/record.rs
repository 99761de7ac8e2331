//! The end of a run: close open sessions and turn the world's tallies into
//! the results contract's rows.

use std::collections::BTreeMap;

use cdnsim_engine::SimTime;
use cdnsim_net::SharedDir;
use cdnsim_metrics::{Col, Summary, Table, TimeseriesRow, Value, ViewerRow, ViewerRows, percentile};

use crate::viewer::Viewer;
use crate::world::{ControlKind, World};
use crate::run::{RunIdentity, RunResults};

const NS_PER_MS: f64 = 1e6;

pub fn finish(mut w: World, id: &RunIdentity, events: u64, stop: SimTime) -> RunResults {
    for carry in w.carries.values_mut() {
        w.counters.add_splice(carry);
    }
    // What only the run needed goes back before the rows are built beside
    // the rest: at a million viewers the peak is here (benches/README.md,
    // "Memory of the flagship").
    w.carries = BTreeMap::new();
    w.fec_blocks = BTreeMap::new();
    w.parts_mut().release_sessions();
    // Reads the shared links' queues at the stop (a mutable walk).
    let backbone = backbone_columns(&mut w, stop);
    let mut ended_by_stop = vec![false; w.viewers.len()];
    for (i, v) in w.viewers.iter_mut().enumerate() {
        if v.attached {
            v.end(stop);
            ended_by_stop[i] = true;
        }
    }
    let sc = &w.sc;
    let names: Vec<String> = if w.streams.len() == 1 {
        vec![sc.stream.name.clone()]
    } else {
        (0..w.streams.len()).map(|i| format!("{}-{i}", sc.stream.name)).collect()
    };

    let parts = w.parts();

    // Per stream and second: viewers watching at the end of the second
    // (+1 from the first second whose end is at or after the join, -1 from
    // the first whose end is at or after the leave), and the traffic. A
    // row for every second of a stream that had a viewer or traffic.
    let secs = w.seconds;
    let first_end_at_or_after = |t: SimTime| (t.as_ns().div_ceil(1_000_000_000) as usize).saturating_sub(1).min(secs);
    let mut by_stream: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
    for v in &w.viewers {
        let (a, b) = (first_end_at_or_after(v.join), first_end_at_or_after(v.leave));
        // A session ended by the stop is still watching at the last second's end.
        let b = if v.leave >= stop { secs } else { b };
        let delta = by_stream.entry(v.stream).or_insert_with(|| vec![0; secs + 1]);
        if a < b {
            delta[a] += 1;
            delta[b] -= 1;
        }
    }
    for &(_, s) in w.series.keys() {
        by_stream.entry(s).or_insert_with(|| vec![0; secs + 1]);
    }
    let online_by_second = parts.online_by_second();
    let online_sum: i64 = online_by_second.iter().map(|&n| n as i64).sum();
    let mut watching_total = vec![0i64; secs];
    let mut timeseries: Vec<TimeseriesRow> = Vec::new();
    for (&s, delta) in &by_stream {
        let mut watching = 0i64;
        for i in 0..secs {
            watching += delta[i];
            watching_total[i] += watching;
            let t = w.series.get(&(i as u32, s)).copied().unwrap_or_default();
            timeseries.push(TimeseriesRow {
                second: i as u64,
                stream: names[s as usize].clone(),
                bytes_idc: t.bytes_to_viewers,
                bytes_home: t.bytes_from_homes,
                bytes_to_homes: t.bytes_to_homes,
                idc_egress_bytes: t.idc_egress_bytes,
                internal_bytes: t.internal_bytes,
                viewers: watching as u64,
                active_home_nodes: online_by_second[i],
                stalls: t.stalls,
            });
        }
    }
    timeseries.sort_by_key(|r| r.second);
    let peak = watching_total.iter().copied().max().unwrap_or(0);

    let sorted = |since_join: fn(&Viewer) -> Option<SimTime>| {
        let mut v: Vec<f64> = w.viewers.iter().filter_map(|v| since_join(v).map(|t| (t - v.join).as_ms_f64())).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (startup, first_block) = (sorted(|v| v.play_start), sorted(|v| v.first_complete));
    // Hop waste over the viewers that had a feasible path at join.
    let (mut feasible_hop_bytes, mut shortest_bytes) = (0u128, 0u128);
    let (mut hop_bytes, mut bytes) = (0u128, 0u128);
    let (mut stall_ns, mut watched_ns) = (0u128, 0u128);
    let (mut played, mut skipped, mut stalls) = (0u64, 0u64, 0u64);
    for v in &w.viewers {
        hop_bytes += v.stats.hop_bytes as u128;
        if let Some(h) = v.shortest_hops {
            feasible_hop_bytes += v.stats.hop_bytes as u128;
            shortest_bytes += v.stats.bytes as u128 * h as u128;
        }
        bytes += v.stats.bytes as u128;
        stall_ns += v.stats.stall_ns as u128;
        watched_ns += v.watched_ns() as u128;
        played += v.stats.played;
        skipped += v.stats.skipped;
        stalls += v.stats.stalls;
    }
    let ratio = |a: u128, b: u128| (b > 0).then(|| a as f64 / b as f64);
    let c = &w.counters;
    let router = w.router.stats();
    let e2e_ms = |p| w.e2e_us.percentile(p).map(|us| us / 1e3);
    let summary = Summary {
        run_id: id.run_id.clone(),
        scenario: sc.name.clone(),
        seed: id.seed,
        replication: id.replication,
        topology: sc.routing.mode.name().into(),
        viewers: w.viewers.len() as u64,
        home_nodes: parts.home_nodes(),
        amplification: ratio(c.viewer_bytes as u128, c.idc_egress_bytes as u128),
        goodput_amplification: ratio(played as u128 * sc.stream.block_bytes() as u128, c.idc_egress_bytes as u128),
        idc_egress_bytes: c.idc_egress_bytes,
        viewer_bytes: c.viewer_bytes,
        internal_bytes: c.internal_bytes,
        hop_waste: ratio(feasible_hop_bytes, shortest_bytes),
        mean_hops: ratio(hop_bytes, bytes),
        startup_ms_p50: percentile(&startup, 50.0),
        startup_ms_p95: percentile(&startup, 95.0),
        first_block_ms_p50: percentile(&first_block, 50.0),
        first_block_ms_p95: percentile(&first_block, 95.0),
        e2e_ms_p50: e2e_ms(50.0),
        e2e_ms_p95: e2e_ms(95.0),
        stall_ratio: ratio(stall_ns, watched_ns),
        // Only the last hop codes: without it no block can fail to decode.
        decode_failures: parts.decode_failures(),
        events,
        extra: vec![
            ("duration_s".into(), Value::Real(sc.duration_ns as f64 / 1e9)),
            ("peak_viewers".into(), Value::Count(peak as u64)),
            ("home_nodes_online_mean".into(), Value::Real(online_sum as f64 / secs as f64)),
            ("blocks_played".into(), Value::Count(played)),
            ("blocks_skipped".into(), Value::Count(skipped)),
            ("stalls".into(), Value::Count(stalls)),
            ("wasted_bytes".into(), Value::Count(c.wasted_bytes)),
            ("chunks_lost".into(), Value::Count(c.chunks_lost)),
            ("chunks_dropped".into(), Value::Count(c.chunks_dropped)),
            ("chunks_given_up".into(), Value::Count(c.chunks_given_up)),
            ("retransmissions".into(), Value::Count(c.retransmissions)),
            ("streams".into(), Value::Count(w.streams.len() as u64)),
            ("streams_watched".into(), Value::Count(by_stream.len() as u64)),
            ("hot_streams".into(), Value::Count(c.hot_streams)),
            ("route_switches".into(), Value::Count(c.route_switches)),
            ("ping_pongs".into(), Value::Count(router.ping_pongs)),
            ("local_switches".into(), Value::Count(router.local_switches)),
            ("route_service_requests".into(), Value::Count(router.service_requests)),
            ("route_failures".into(), Value::Count(c.route_failures)),
            ("switch_gaps".into(), Value::Count(c.switch_gaps)),
            ("switch_replays".into(), Value::Count(c.switch_replays)),
            ("blocks_missed".into(), Value::Count(c.blocks_missed)),
            ("blocks_incomplete".into(), Value::Count(c.blocks_incomplete)),
            ("late_chunks".into(), Value::Count(c.late_chunks)),
            ("redundant_chunks".into(), Value::Count(c.redundant_chunks)),
            ("fec_recovered_chunks".into(), Value::Count(c.fec_recovered_chunks)),
            ("internal_bytes_per_viewer_byte".into(), Value::Real(c.internal_bytes as f64 / c.viewer_bytes.max(1) as f64)),
        ]
        .into_iter()
        .chain(parts.columns(sc))
        .chain(backbone)
        .chain(uplink_columns(&w))
        .chain(control_columns(&w))
        .collect(),
    };
    let mut extra_tables = vec![("streams".to_string(), stream_table(&w, &names))];
    extra_tables.extend(parts.tables(sc, stop));
    if !w.backbone.links.is_empty() {
        extra_tables.push(("backbone".to_string(), backbone_table(&w)));
    }
    extra_tables.push(("control".to_string(), control_table(&w, &names)));
    let tally = (0..w.viewers.len() as u32).map(|v| parts.viewer_tally(v)).collect();
    let regions = sc.regions.iter().map(|r| r.name.clone()).collect();
    let edges = sc.nodes.iter().map(|n| n.name.clone()).collect();
    // The rest of the world goes back when this returns.
    let viewers = std::mem::take(&mut w.viewers);
    let sessions = Sessions { viewers, ended_by_stop, tally, streams: names, regions, edges };
    RunResults { summary, timeseries, viewers: Box::new(sessions), extra_tables, events }
}

/// What `viewers.parquet`'s rows are made of, kept past the run while the
/// rest of the world goes: the sessions, and per session whether the stop
/// ended it and its last-hop tallies. The writer builds the rows a row
/// group at a time from these.
struct Sessions {
    viewers: Vec<Viewer>,
    ended_by_stop: Vec<bool>,
    /// (home nodes used, evictions), by viewer.
    tally: Vec<(u64, u64)>,
    streams: Vec<String>,
    regions: Vec<String>,
    edges: Vec<String>,
}

impl ViewerRows for Sessions {
    fn len(&self) -> usize {
        self.viewers.len()
    }

    fn row(&self, i: usize) -> ViewerRow {
        let v = &self.viewers[i];
        let s = &v.stats;
        let (home_nodes_used, evictions) = self.tally[i];
        ViewerRow {
            viewer_id: i as u64,
            stream: self.streams[v.stream as usize].clone(),
            region: self.regions[v.region as usize].clone(),
            edge: self.edges[v.edge as usize].clone(),
            join_ms: v.join.as_ms_f64(),
            leave_ms: v.leave.as_ms_f64(),
            ended_by_stop: self.ended_by_stop[i],
            startup_ms: v.play_start.map(|t| (t - v.join).as_ms_f64()),
            first_block_ms: v.first_complete.map(|t| (t - v.join).as_ms_f64()),
            e2e_ms_mean: (s.played > 0).then(|| s.e2e_sum_ns as f64 / s.played as f64 / NS_PER_MS),
            e2e_ms_max: (s.played > 0).then(|| s.e2e_max_ns as f64 / NS_PER_MS),
            stall_ms: s.stall_ns as f64 / NS_PER_MS,
            stalls: s.stalls,
            blocks_played: s.played,
            blocks_skipped: s.skipped,
            hops: (s.bytes > 0).then(|| s.hop_bytes as f64 / s.bytes as f64),
            shortest_hops: v.shortest_hops.map(u64::from),
            bytes_idc: s.bytes,
            bytes_home: s.home_bytes,
            home_nodes_used,
            evictions,
        }
    }
}

/// Shared backbone summary columns (zero off a backbone): drops, the
/// chunk-weighted mean queueing delay, the busiest second of any link,
/// and the conservation pair (bytes in, and out + dropped + queued at the
/// stop, counted separately: equal when nothing went unaccounted).
fn backbone_columns(w: &mut World, stop: SimTime) -> Vec<(String, Value)> {
    let links = &mut w.backbone.links;
    let (mut chunks, mut wait_ns, mut bytes_in, mut accounted, mut used) = (0u64, 0u128, 0u64, 0u64, 0u64);
    let mut util_max = 0.0f64;
    for d in 0..2 * links.len() as u32 {
        let dir = SharedDir(d);
        if !links.used(dir) {
            continue;
        }
        used += 1;
        let t = links.totals(dir);
        chunks += t.chunks_in - t.chunks_dropped;
        wait_ns += t.wait_ns as u128;
        let b = links.balance(dir, stop);
        bytes_in += b.bytes_in;
        accounted += b.bytes_out + b.bytes_dropped + b.bytes_queued;
        for s in 0..w.seconds {
            let bits = links.second(dir, s).bytes_accepted as f64 * 8.0;
            util_max = util_max.max(bits / links.capacity_bps(dir) as f64);
        }
    }
    vec![
        ("backbone_directions_used".into(), Value::Count(used)),
        ("backbone_drops".into(), Value::Count(w.counters.backbone_drops)),
        ("backbone_queue_ms_mean".into(), Value::Real(if chunks > 0 { wait_ns as f64 / chunks as f64 / 1e6 } else { 0.0 })),
        ("backbone_utilisation_max".into(), Value::Real(util_max)),
        ("backbone_bytes_in".into(), Value::Count(bytes_in)),
        ("backbone_bytes_accounted".into(), Value::Count(accounted)),
    ]
}

/// `backbone.parquet`: per shared backbone link direction that carried
/// anything, and simulated second (by the time chunks reached the link):
/// bytes and chunks accepted, utilisation (bits accepted / capacity),
/// queueing delay (mean and max over accepted chunks; null without any),
/// drops.
fn backbone_table(w: &World) -> Table {
    let links = &w.backbone.links;
    let mut rows: Vec<(SharedDir, usize)> = Vec::new();
    for d in 0..2 * links.len() as u32 {
        if links.used(SharedDir(d)) {
            rows.extend((0..w.seconds).map(|s| (SharedDir(d), s)));
        }
    }
    let stat = |&(d, s): &(SharedDir, usize)| links.second(d, s);
    let spec = |d: SharedDir| &w.sc.backbone_links[d.link() as usize];
    let mut t = Table::default();
    t.push("second", Col::U64(rows.iter().map(|r| r.1 as u64).collect()));
    t.push("link", Col::Str(rows.iter().map(|r| spec(r.0).name.clone()).collect()));
    t.push("reverse", Col::Bool(rows.iter().map(|r| r.0.is_reverse()).collect()));
    t.push("interconnect", Col::Bool(rows.iter().map(|r| spec(r.0).interconnect).collect()));
    t.push("capacity_bps", Col::U64(rows.iter().map(|r| spec(r.0).capacity_bps).collect()));
    t.push("bytes", Col::U64(rows.iter().map(|r| stat(r).bytes_accepted).collect()));
    t.push("chunks", Col::U64(rows.iter().map(|r| stat(r).chunks_accepted).collect()));
    t.push(
        "utilisation",
        Col::F64(rows.iter().map(|r| stat(r).bytes_accepted as f64 * 8.0 / spec(r.0).capacity_bps as f64).collect()),
    );
    t.push(
        "queue_ms_mean",
        Col::OptF64(rows.iter().map(|r| {
            let x = stat(r);
            (x.chunks_accepted > 0).then(|| x.wait_ns_sum as f64 / x.chunks_accepted as f64 / 1e6)
        }).collect()),
    );
    t.push(
        "queue_ms_max",
        Col::OptF64(rows.iter().map(|r| {
            let x = stat(r);
            (x.chunks_accepted > 0).then(|| x.wait_ns_max as f64 / 1e6)
        }).collect()),
    );
    t.push("drops", Col::U64(rows.iter().map(|r| stat(r).chunks_dropped).collect()));
    t.push("dropped_bytes", Col::U64(rows.iter().map(|r| stat(r).bytes_dropped).collect()));
    t
}

/// One row per stream: where it enters, its audience, what delivering it
/// cost inside the network, and its hop waste.
fn stream_table(w: &World, names: &[String]) -> Table {
    let n = w.streams.len();
    let (mut sessions, mut bytes, mut hop_bytes) = (vec![0u64; n], vec![0u64; n], vec![0u128; n]);
    let (mut feasible_hop_bytes, mut shortest_bytes) = (vec![0u128; n], vec![0u128; n]);
    for v in &w.viewers {
        let s = v.stream as usize;
        sessions[s] += 1;
        bytes[s] += v.stats.bytes;
        hop_bytes[s] += v.stats.hop_bytes as u128;
        if let Some(h) = v.shortest_hops {
            feasible_hop_bytes[s] += v.stats.hop_bytes as u128;
            shortest_bytes[s] += v.stats.bytes as u128 * h as u128;
        }
    }
    let mut internal = vec![0u64; n];
    for (&(_, s), t) in &w.series {
        internal[s as usize] += t.internal_bytes;
    }
    let ratio = |a: u128, b: u128| (b > 0).then(|| a as f64 / b as f64);
    let mut t = Table::default();
    t.push("stream", Col::Str(names.to_vec()));
    t.push("region", Col::Str(w.streams.iter().map(|s| w.sc.regions[s.region as usize].name.clone()).collect()));
    t.push("ingest", Col::Str(w.streams.iter().map(|s| w.sc.nodes[s.ingest as usize].name.clone()).collect()));
    t.push("viewers", Col::U64(sessions));
    t.push("hot", Col::Bool(w.streams.iter().map(|s| s.hot).collect()));
    t.push("last_hop", Col::Bool((0..n as u32).map(|s| w.parts().serves(s)).collect()));
    t.push("viewer_bytes", Col::U64(bytes.clone()));
    t.push("internal_bytes", Col::U64(internal));
    t.push("mean_hops", Col::OptF64((0..n).map(|s| ratio(hop_bytes[s], bytes[s] as u128)).collect()));
    t.push("hop_waste", Col::OptF64((0..n).map(|s| ratio(feasible_hop_bytes[s], shortest_bytes[s])).collect()));
    t
}

/// Tree up-leg columns, when the scenario sets `[routing] uplink_copies`
/// (absent otherwise, so results of scenarios without it are unchanged):
/// the copies asked for, the chunks that entered an up-leg, those the root
/// took from it (distinct), and the later copies it got.
fn uplink_columns(w: &World) -> Vec<(String, Value)> {
    let Some(copies) = w.sc.routing.uplink_copies else { return Vec::new() };
    let c = &w.counters;
    let paths: u64 = w.up_legs.values().map(|p| p.len() as u64).sum();
    vec![
        ("uplink_copies".into(), Value::Count(copies as u64)),
        ("uplink_paths".into(), Value::Count(paths)),
        ("uplink_chunks".into(), Value::Count(c.uplink_chunks)),
        ("uplink_chunks_reached".into(), Value::Count(c.uplink_chunks_reached)),
        ("uplink_redundant_chunks".into(), Value::Count(c.uplink_redundant_chunks)),
    ]
}

/// Control message columns: messages sent, sendings after the first,
/// sendings lost on the way, messages given up, and the delay of those
/// delivered (from the first sending to the arrival of the first copy to
/// get through, retries included): mean and 95th percentile (0 when none
/// was delivered).
fn control_columns(w: &World) -> Vec<(String, Value)> {
    let st = w.control.stats();
    let mut delays: Vec<f64> = w.control_log.iter().filter_map(|r| r.delivered.map(|d| (d - r.sent).as_ns() as f64 / NS_PER_MS)).collect();
    delays.sort_by(f64::total_cmp);
    let mean = if delays.is_empty() { 0.0 } else { delays.iter().sum::<f64>() / delays.len() as f64 };
    vec![
        ("control_messages".into(), Value::Count(st.messages)),
        ("control_retries".into(), Value::Count(st.retries)),
        ("control_lost".into(), Value::Count(w.counters.control_lost)),
        ("control_gave_up".into(), Value::Count(st.gave_up)),
        ("control_delay_ms_mean".into(), Value::Real(mean)),
        ("control_delay_ms_p95".into(), Value::Real(percentile(&delays, 95.0).unwrap_or(0.0))),
    ]
}

/// `control.parquet`: one row per control message, in the order sent:
/// stream, child and parent nodes (a route request: the asking node and
/// the service's), kind, when it was first sent, its sendings, when the
/// first copy to get through arrived (a route request: its answer, back
/// at the asking node) and the delay from the first sending (null if none
/// did), whether it was given up.
fn control_table(w: &World, names: &[String]) -> Table {
    let rows = &w.control_log;
    let node = |n: u32| w.sc.nodes[n as usize].name.clone();
    let mut t = Table::default();
    t.push("stream", Col::Str(rows.iter().map(|r| names[r.stream as usize].clone()).collect()));
    t.push("child", Col::Str(rows.iter().map(|r| node(r.child)).collect()));
    t.push("parent", Col::Str(rows.iter().map(|r| node(r.parent)).collect()));
    let kind = |k: ControlKind| match k {
        ControlKind::Subscribe => "subscribe",
        ControlKind::Unsubscribe => "unsubscribe",
        ControlKind::Route => "route",
    };
    t.push("kind", Col::Str(rows.iter().map(|r| kind(r.kind).to_string()).collect()));
    t.push("sent_ms", Col::F64(rows.iter().map(|r| r.sent.as_ns() as f64 / NS_PER_MS).collect()));
    t.push("attempts", Col::U64(rows.iter().map(|r| r.attempts as u64).collect()));
    t.push("delivered_ms", Col::OptF64(rows.iter().map(|r| r.delivered.map(|d| d.as_ns() as f64 / NS_PER_MS)).collect()));
    t.push("delay_ms", Col::OptF64(rows.iter().map(|r| r.delivered.map(|d| (d - r.sent).as_ns() as f64 / NS_PER_MS)).collect()));
    t.push("gave_up", Col::Bool(rows.iter().map(|r| r.gave_up).collect()));
    t
}
