//! The 95th-percentile bill of a synthetic month equals the hand
//! computation, and so do the machine, serverless and per-session-hour
//! figures. The billing rule: docs/references.md, Bandwidth billing.

use cdnsim_edge::{
    BandwidthMeter, FIVE_MINUTES_NS, NS_PER_HOUR, NS_PER_S, Prices, Serverless, ServerlessConfig, SessionId, Usage, bill,
    machine_hours, percentile_95,
};

const DAY_SAMPLES: u64 = 288;
const MONTH_SAMPLES: u64 = 30 * DAY_SAMPLES;
const MBPS: u64 = 1_000_000;

/// Rate of sample i: 1 000 Mbps in 400 evening samples (the first 40 of
/// the evenings of days 0..9), 500 Mbps in 100 more (ten each on days
/// 10..19), 100 Mbps otherwise.
fn rate_mbps(i: u64) -> u64 {
    let (day, slot) = (i / DAY_SAMPLES, i % DAY_SAMPLES);
    let evening = (240..280).contains(&slot);
    if day < 10 && evening {
        1_000
    } else if (10..20).contains(&day) && (240..250).contains(&slot) {
        500
    } else {
        100
    }
}

fn meter_samples(rate: impl Fn(u64) -> u64) -> Vec<u64> {
    let mut m = BandwidthMeter::new(0);
    for i in 0..MONTH_SAMPLES {
        // A sample's bytes: rate x 300 s / 8, reported in three pieces
        // inside its interval.
        let bytes = rate(i) * MBPS * 300 / 8;
        let t = i * FIVE_MINUTES_NS;
        m.add(t, bytes / 2);
        m.add(t + 100 * NS_PER_S, bytes / 4);
        m.add(t + FIVE_MINUTES_NS - 1, bytes - bytes / 2 - bytes / 4);
    }
    m.samples(MONTH_SAMPLES * FIVE_MINUTES_NS).to_vec()
}

#[test]
fn p95_by_hand() {
    let s = meter_samples(rate_mbps);
    assert_eq!(s.len(), 8_640);
    assert_eq!(s.iter().filter(|&&x| x == 1_000 * MBPS).count(), 400);
    assert_eq!(s.iter().filter(|&&x| x == 500 * MBPS).count(), 100);
    // Sorted ascending: ranks 1..=8140 at 100, 8141..=8240 at 500,
    // 8241..=8640 at 1000. ceil(0.95 x 8640) = 8208: 500 Mbps.
    assert_eq!(percentile_95(&s), 500 * MBPS);

    // 432 = 5% of 8640 samples are free: 432 peaks bill nothing, 433 do.
    let peaks = |n: u64| move |i: u64| if i.is_multiple_of(19) && i / 19 < n { 1_000 } else { 100 };
    assert_eq!(percentile_95(&meter_samples(peaks(432))), 100 * MBPS);
    assert_eq!(percentile_95(&meter_samples(peaks(433))), 1_000 * MBPS);
}

#[test]
fn whole_bill_by_hand() {
    let s = meter_samples(rate_mbps);
    // Serverless: one instance, cold start 2.5 s, one session to 100.2 s,
    // keep-alive 60 s: stops at 160.2 s, 161 billed seconds.
    let mut sv = Serverless::new(ServerlessConfig { keep_alive_ns: 60 * NS_PER_S, max_instances: 4, sessions_per_instance: 10 }).unwrap();
    let st = sv.start_session(0, SessionId(1), || 2_500_000_000).unwrap();
    assert_eq!(st.ready_at_ns, 2_500_000_000);
    sv.end_session(100_200_000_000, SessionId(1), 50_000_000_000);
    sv.handle_timeout(sv.poll_timeout().unwrap());
    let u = sv.usage(30 * 24 * NS_PER_HOUR);
    assert_eq!((u.instance_seconds, u.bytes, u.live_instances), (161, 50_000_000_000, 0));

    // Machines: three for the month (720 h each), one for 90 min (2 h).
    let month = 30 * 24 * NS_PER_HOUR;
    let hours = machine_hours(&[(0, month), (0, month), (0, month), (0, 90 * 60 * NS_PER_S)]);
    assert_eq!(hours, 2_162);

    let prices = Prices { bandwidth_per_mbps_month: 10.0, machine_per_hour: 0.5, serverless_per_second: 0.001, serverless_per_gb: 0.08 };
    let r = bill(
        &Usage {
            run_ns: month,
            edge_samples_bps: &s,
            machine_hours: hours,
            serverless_seconds: u.instance_seconds,
            serverless_bytes: u.bytes,
            edge_session_ns: 10_000 * NS_PER_HOUR as u128,
            serverless_session_ns: (97_700 * NS_PER_HOUR as u128) / 1_000,
        },
        &prices,
    );
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.abs().max(1.0);
    // 500 Mbps x 10 = 5000; 2162 h x 0.5 = 1081; 161 s x 0.001 = 0.161;
    // 50 GB x 0.08 = 4.
    assert!(close(r.edge_bandwidth, 5_000.0), "{}", r.edge_bandwidth);
    assert!(close(r.edge_machines, 1_081.0));
    assert!(close(r.serverless_compute, 0.161));
    assert!(close(r.serverless_traffic, 4.0));
    assert!(close(r.total(), 6_085.161));
    // 6085.161 / (10 000 + 97.7) session-hours.
    assert!(close(r.per_session_hour().unwrap(), 6_085.161 / 10_097.7));
    assert!(close(r.edge_per_session_hour().unwrap(), 0.6081));
    assert!(close(r.serverless_per_session_hour().unwrap(), 4.161 / 97.7));

    // A run of 3 days is billed 3/30 of the month's price.
    let short = bill(
        &Usage {
            run_ns: 3 * 24 * NS_PER_HOUR,
            edge_samples_bps: &s,
            machine_hours: 0,
            serverless_seconds: 0,
            serverless_bytes: 0,
            edge_session_ns: 0,
            serverless_session_ns: 0,
        },
        &prices,
    );
    assert!(close(short.edge_bandwidth, 500.0));
    assert_eq!(short.per_session_hour(), None);
}
