//! Whole edge runs on scenarios built in code (the `[edge]` file format is
//! tested in `cdnsim-scenario`; the bundled edge scenarios in
//! `tests/integration`).

use cdnsim_scenario::*;

use crate::RunIdentity;

pub(crate) const S: u64 = 1_000_000_000;

/// Quickstart's regions and network, with one edge region (beijing) of
/// `rooms` rooms and one service whose pods each take `per_pod` sessions.
pub(crate) fn scenario(rooms: u32, machines: u32, rate_per_s: f64, mean_s: u64, duration_s: u64) -> Scenario {
    let mut sc = cdnsim_scenario::parse("q.toml", include_str!("../../../../scenarios/quickstart.toml")).unwrap();
    sc.duration_ns = duration_s * S;
    let res = |cpu, mem, bw, pps, ports| EdgeResources {
        cpu_millis: cpu,
        memory_bytes: mem,
        bandwidth_bps: bw,
        pps,
        host_ports: ports,
    };
    sc.edge = Some(Edge {
        shared: true,
        policy: EdgePolicy::Binpack,
        scale_in: EdgeScaleIn::Tombstone { timeout_ns: 600 * S },
        machine: res(64_000, 256 << 30, 10_000_000_000, 2_000_000, 100),
        regions: vec![EdgeRegion {
            region: 0,
            rooms,
            machines_per_room: machines,
            region_machines: 0,
            hourly_arrivals_per_s: [rate_per_s; 24],
            utc_offset_ns: 0,
        }],
        central: EdgeCentral { region: 1, machines: 0 },
        services: vec![EdgeService {
            name: "rtc".into(),
            share: 1.0,
            session: res(250, 64 << 20, 2_000_000, 400, 0),
            pod: res(8_000, 8 << 30, 64_000_000, 12_800, 1),
            max_sessions_per_pod: 32,
            session_length: DurationSpec::Exponential { mean_ns: mean_s * S },
            session_bytes_per_s: 250_000,
        }],
        autoscale: EdgeAutoscale {
            sync_period_ns: 15 * S,
            tolerance: 0.1,
            scale_in_window_ns: 300 * S,
            target_cpu: None,
            target_memory: None,
            target_bandwidth: None,
            target_pps: None,
            target_sessions: Some(0.7),
            min_pods: 1,
            max_pods: 10_000,
        },
        startup_prewarmed: DurationSpec::Fixed { ns: 2 * S },
        startup_pulled: DurationSpec::Fixed { ns: 20 * S },
        prewarmed_share: 0.9,
        serverless: Some(EdgeServerless {
            cold_start: DurationSpec::Fixed { ns: 1_500_000_000 },
            keep_alive_ns: 600 * S,
            max_instances: 100_000,
            sessions_per_instance: 8,
        }),
        prices: EdgePrices {
            bandwidth_per_mbps_month: 2.5,
            machine_per_hour: 0.8,
            serverless_per_second: 0.00005,
            serverless_per_gb: 0.08,
        },
        planner: None,
        flash_crowds: Vec::new(),
        room_outages: Vec::new(),
        upgrades: Vec::new(),
        redundancy_rooms: 0,
        sample_interval_ns: 60 * S,
        access_latency_ns: 5_000_000,
    });
    sc
}

pub(crate) fn run(sc: &Scenario, seed: u64) -> crate::RunResults {
    let id = RunIdentity { run_id: "t".into(), seed, replication: 0 };
    crate::simulate(sc, &id).unwrap()
}

pub(crate) fn col(r: &crate::RunResults, name: &str) -> f64 {
    match r.summary.extra.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no column {name}")).1 {
        cdnsim_metrics::Value::Count(c) => c as f64,
        cdnsim_metrics::Value::Real(x) => x,
        cdnsim_metrics::Value::Text(_) => panic!("{name} is text"),
    }
}

#[test]
fn a_steady_run_finishes_and_conserves_sessions() {
    let sc = scenario(3, 10, 20.0, 120, 3600);
    let r = run(&sc, 1);
    let arrived = col(&r, "sessions");
    let accepted: f64 = ["room", "region", "central", "serverless"].iter().map(|t| col(&r, &format!("sessions_{t}"))).sum();
    // Every arrival is placed or rejected; every placed session ended,
    // was cut or is still open.
    assert_eq!(arrived, accepted + col(&r, "sessions_rejected"));
    let cut = col(&r, "sessions_cut_scale_in") + col(&r, "sessions_cut_recreate") + col(&r, "sessions_cut_outage");
    assert_eq!(accepted, col(&r, "sessions_ended") + cut + col(&r, "sessions_open_at_end"));
    // 20/s over an hour: Poisson count within 5 sigma of 72,000.
    assert!((arrived - 72_000.0).abs() < 5.0 * 72_000f64.sqrt(), "{arrived}");
}

#[test]
#[ignore]
fn print_summary() {
    let sc = scenario(3, 10, 20.0, 120, 3600);
    let r = run(&sc, 1);
    for (n, v) in &r.summary.extra {
        println!("{n} = {v:?}");
    }
    println!("events = {}", r.events);
}

#[test]
#[ignore]
fn print_series() {
    let sc = scenario(3, 10, 20.0, 120, 3600);
    let r = run(&sc, 1);
    let t = &r.extra_tables.iter().find(|(n, _)| n == "edge_series").unwrap().1;
    t.write_parquet(std::path::Path::new("/tmp/edge_series.parquet")).unwrap();
    let p = &r.extra_tables.iter().find(|(n, _)| n == "pods").unwrap().1;
    p.write_parquet(std::path::Path::new("/tmp/edge_pods.parquet")).unwrap();
}
