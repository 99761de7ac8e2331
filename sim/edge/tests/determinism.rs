//! Same seed, same outputs: a small world of every state machine, run
//! twice, gives identical traces; another seed gives a different one.
//!
//! Two regions (UTC+8 and UTC-5) of three rooms; room pools, region pools
//! and a central pool in a chain; daily arrival profiles with a flash
//! crowd; log-normal session lengths; bursts past the chain go to the
//! serverless pool (Weibull cold starts); an autoscaler on session
//! bandwidth; a machine planner on hourly demand; a 5-minute bandwidth
//! meter and the bill.

mod common;

use cdnsim_edge::{
    Admission, AllocId, Autoscaler, AutoscalerConfig, BandwidthMeter, Binpack, Cluster, CustomerId, DailyProfile, DurationDist,
    FlashCrowd, Hybrid, Level, MachinePlanner, Metric, NS_PER_HOUR, NS_PER_S, PlannerConfig, PoolSpec, Prices, Resources, RoomId,
    Serverless, ServerlessConfig, SessionId, Spread, Topology, Usage, bill, percentile_95,
};
use common::{Queue, stream};
use rand::Rng;

const RUN_NS: u64 = 36 * NS_PER_HOUR;
const SESSION_BPS: u64 = 2_000_000;

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    EndEdge(u32, u64),
    EndServerless(u64),
    Arrive(usize),
    Tick,
}

fn world(seed: u64) -> Vec<String> {
    let mut trace = Vec::new();
    let mut t = Topology::new();
    let regions = [t.add_region("cn").unwrap(), t.add_region("us").unwrap()];
    let rooms: Vec<Vec<RoomId>> = regions.iter().map(|&g| (0..3).map(|i| t.add_room(g, format!("r{i}")).unwrap()).collect()).collect();
    let mut c = Cluster::new(t);
    let machine = Resources::new(32_000, 64 << 30, 100_000_000, 200_000, 200);
    for (gi, &g) in regions.iter().enumerate() {
        for &room in &rooms[gi] {
            let p = c.add_pool(PoolSpec::new("room", Level::Room(room), Admission::Shared, Box::new(Binpack::default()))).unwrap();
            for _ in 0..2 {
                c.add_machine(room, machine, p).unwrap();
            }
        }
        let p = c.add_pool(PoolSpec::new("region", Level::Region(g), Admission::Shared, Box::new(Hybrid::default()))).unwrap();
        c.add_machine(rooms[gi][0], machine, p).unwrap();
    }
    let central = c.add_pool(PoolSpec::new("central", Level::Central, Admission::Shared, Box::new(Spread::default()))).unwrap();
    c.add_machine(rooms[0][0], machine, central).unwrap();
    let peak = Resources::new(0, 0, 200_000_000, 0, 0);
    trace.push(format!("n-2 cn: {:?}", c.check_region(regions[0], &peak, 2).map_err(|e| e.to_string())));

    // Evening peaks in local time; a flash crowd in the US at hour 30.
    let mut h = [0.05; 24];
    for (i, x) in h.iter_mut().enumerate().skip(18).take(5) {
        *x = 0.4 + 0.05 * i as f64;
    }
    let profiles = [
        DailyProfile::new(h, 8 * NS_PER_HOUR as i64, Vec::new()).unwrap(),
        DailyProfile::new(
            h,
            -5 * NS_PER_HOUR as i64,
            vec![FlashCrowd { start_ns: 30 * NS_PER_HOUR, end_ns: 30 * NS_PER_HOUR + 1_800 * NS_PER_S, multiplier: 20.0 }],
        )
        .unwrap(),
    ];
    let mut arrivals: Vec<_> = profiles.iter().map(|p| cdnsim_edge::Arrivals::new(p.clone(), 0, RUN_NS)).collect();
    let mut arr_rng: Vec<_> = (0..2).map(|i| stream(seed, &format!("arrivals.{i}"))).collect();
    let mut len_rng = stream(seed, "lengths");
    let mut room_rng = stream(seed, "rooms");
    let mut cold_rng = stream(seed, "cold");
    let lengths = DurationDist::LogNormal { mu: 5.5, sigma: 1.2 };
    let cold = DurationDist::Weibull { shape: 1.5, scale_ns: 3 * NS_PER_S };
    let mut sv = Serverless::new(ServerlessConfig { keep_alive_ns: 600 * NS_PER_S, max_instances: 1_000, sessions_per_instance: 50 }).unwrap();

    let mut targets = [None; cdnsim_edge::NUM_METRICS];
    targets[Metric::Bandwidth as usize] = Some(200_000_000.0);
    targets[Metric::PullStreams as usize] = Some(100.0);
    let mut hpa = Autoscaler::new(
        AutoscalerConfig { targets, sync_period_ns: 15 * NS_PER_S, tolerance: 0.1, scale_in_window_ns: 300 * NS_PER_S, min_pods: 1, max_pods: 500 },
        0,
        1,
    )
    .unwrap();
    let mut planner = MachinePlanner::new(
        PlannerConfig { lead_time_ns: 2 * NS_PER_HOUR, demand_per_machine: 50.0, headroom: 0.2, min_machines: 2, max_machines: 64 },
        0,
        13,
    )
    .unwrap();
    let mut meter = BandwidthMeter::new(0);

    let mut q = Queue::new();
    for (i, a) in arrivals.iter_mut().enumerate() {
        if let Some(t) = a.next_arrival(&mut arr_rng[i]) {
            q.push(t, Ev::Arrive(i));
        }
    }
    q.push(15 * NS_PER_S, Ev::Tick);
    let mut sid = 0u64;
    let (mut live, mut hour_peak, mut next_hour) = (0u64, 0u64, NS_PER_HOUR);
    let (mut edge_ns, mut sv_ns) = (0u128, 0u128);
    let mut starts: std::collections::BTreeMap<u64, u64> = Default::default();
    while let Some((now, ev)) = q.pop() {
        if now >= RUN_NS {
            break;
        }
        while next_hour <= now {
            planner.record_hour(hour_peak as f64);
            planner.handle_timeout(next_hour);
            while let Some(a) = planner.poll_action() {
                trace.push(format!("{next_hour} planner {a:?}"));
            }
            hour_peak = live;
            next_hour += NS_PER_HOUR;
        }
        match ev {
            Ev::Arrive(region) => {
                if let Some(t) = arrivals[region].next_arrival(&mut arr_rng[region]) {
                    q.push(t, Ev::Arrive(region));
                }
                let room = rooms[region][room_rng.random_range(0..3)];
                let chain = c.chain_for(room, CustomerId(0));
                let need = Resources::new(50, 64 << 20, SESSION_BPS, 200, 1);
                let len = lengths.sample(&mut len_rng).min(RUN_NS);
                sid += 1;
                let o = c.place_chain(&chain, &need, CustomerId(0));
                match o.placed {
                    Some(p) => {
                        if o.overflow_steps() > 0 {
                            trace.push(format!("{now} s{sid} overflow {:?} -> {}", o.tried.as_slice(), p.pool));
                        }
                        live += 1;
                        hour_peak = hour_peak.max(live);
                        starts.insert(sid, now);
                        q.push(now + len, Ev::EndEdge(p.alloc.0, sid));
                    }
                    None => match sv.start_session(now, SessionId(sid), || cold.sample(&mut cold_rng)) {
                        Ok(st) => {
                            trace.push(format!("{now} s{sid} serverless {st:?}"));
                            starts.insert(sid, st.ready_at_ns);
                            q.push(st.ready_at_ns + len, Ev::EndServerless(sid));
                        }
                        Err(e) => trace.push(format!("{now} s{sid} lost {e}")),
                    },
                }
            }
            Ev::EndEdge(a, s) => {
                c.release(AllocId(a)).unwrap();
                live -= 1;
                let d = now - starts.remove(&s).unwrap();
                edge_ns += d as u128;
                meter.add(now, d / NS_PER_S * SESSION_BPS / 8);
            }
            Ev::EndServerless(s) => {
                let d = now - starts.remove(&s).unwrap();
                sv_ns += d as u128;
                sv.end_session(now, SessionId(s), d / NS_PER_S * SESSION_BPS / 8);
            }
            Ev::Tick => {
                let mut totals = [0.0; cdnsim_edge::NUM_METRICS];
                totals[Metric::Bandwidth as usize] = (live * SESSION_BPS) as f64;
                totals[Metric::PullStreams as usize] = live as f64;
                hpa.observe(totals);
                hpa.handle_timeout(now);
                while let Some(d) = hpa.poll_decision() {
                    trace.push(format!("{now} hpa {} -> {} by {:?}", d.from, d.to, d.deciding.map(|x| x.0)));
                }
                sv.handle_timeout(now);
                q.push(now + 15 * NS_PER_S, Ev::Tick);
            }
        }
    }
    for p in 0..c.num_pools() {
        let i = c.pool_info(cdnsim_edge::PoolId(p as u32)).unwrap();
        trace.push(format!("pool {p} {} {:?} {:?}", i.name, i.allocated, i.stats));
    }
    let samples = meter.samples(RUN_NS).to_vec();
    let u = sv.usage(RUN_NS);
    let prices = Prices { bandwidth_per_mbps_month: 10.0, machine_per_hour: 0.3, serverless_per_second: 0.0002, serverless_per_gb: 0.05 };
    let r = bill(
        &Usage {
            run_ns: RUN_NS,
            edge_samples_bps: &samples,
            machine_hours: 13 * 36,
            serverless_seconds: u.instance_seconds,
            serverless_bytes: u.bytes,
            edge_session_ns: edge_ns,
            serverless_session_ns: sv_ns,
        },
        &prices,
    );
    trace.push(format!("p95 {} usage {u:?} bill {r:?} sessions {sid}", percentile_95(&samples)));
    trace
}

#[test]
fn same_seed_same_trace() {
    let a = world(42);
    let count = |w: &str| a.iter().filter(|l| l.contains(w)).count();
    println!(
        "{} lines: {} overflows, {} serverless starts, {} lost, {} hpa, {} planner; {}",
        a.len(),
        count("overflow"),
        count("serverless Start"),
        count("lost"),
        count("hpa"),
        count("planner"),
        a.last().unwrap()
    );
    let b = world(42);
    assert!(a.len() > 100, "the world should do something: {} lines", a.len());
    assert!(a.iter().any(|l| l.contains("serverless")), "the flash crowd should burst");
    assert!(a.iter().any(|l| l.contains("overflow")));
    assert!(a.iter().any(|l| l.contains("hpa")));
    let first_difference = |x: &[String], y: &[String]| (0..x.len().max(y.len())).find(|&i| x.get(i) != y.get(i));
    assert_eq!(first_difference(&a, &b), None, "reruns differ");
    let c = world(43);
    assert!(first_difference(&a, &c).is_some(), "another seed should change the trace");
}
