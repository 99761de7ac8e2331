//! Whole edge runs with live streams and their cascade of media servers.

use cdnsim_scenario::*;

use super::tests::{S, col, run, scenario, table, u64s};

const RATE_PER_S: f64 = 10.0;
const MEAN_S: u64 = 60;
/// A third publish: rho = (1 - p) / (2 p) = 1 viewer of the other region
/// per stream-lifetime, where sharing a leg matters most (a leg kept for
/// the stream's life would be open 1/2 of the time, a pruned one 0.37).
const PUBLISHER_SHARE: f64 = 1.0 / 3.0;

/// Two edge regions (world regions 0 and 2), one room each, each room one
/// pod that never scales (min = max = 1) and never fills; sessions at
/// `RATE_PER_S` per region, exponential of mean `MEAN_S`; a share
/// `PUBLISHER_SHARE` publish, the rest watch a stream picked uniformly
/// among all live ones (`same_region_share = 0`).
fn two_regions(duration_s: u64) -> Scenario {
    let mut sc = scenario(1, 1, RATE_PER_S, MEAN_S, duration_s);
    let e = sc.edge.as_mut().unwrap();
    let mut second = e.regions[0].clone();
    second.region = 2;
    e.regions.push(second);
    e.serverless = None;
    e.autoscale.max_pods = 1;
    let svc = &mut e.services[0];
    svc.max_sessions_per_pod = 65_536;
    svc.pod = EdgeResources { cpu_millis: 60_000, memory_bytes: 200 << 30, bandwidth_bps: 9_000_000_000, pps: 1_900_000, host_ports: 1 };
    svc.session = EdgeResources { cpu_millis: 10, memory_bytes: 1 << 20, bandwidth_bps: 1_000_000, pps: 100, host_ports: 0 };
    svc.streams = Some(EdgeStreams {
        publisher_share: PUBLISHER_SHARE,
        same_region_share: 0.0,
        relay: EdgeResources { host_ports: 0, ..svc.session },
        publisher_length: None,
    });
    sc
}

/// The expected number of legs given `streams` live streams, in the
/// steady state of `two_regions`:
///
/// A stream has one possible leg, to the other region's pod, open while
/// at least one viewer of the other region watches it. Those viewers
/// arrive at nu = (1 - p) * rate / S and each stays for its own Exp(m)
/// unless the stream ends first; given the stream is alive at age a, the
/// number present is Poisson(nu m (1 - e^(-a/m))) (M/M/inf from an empty
/// start). A live stream's age is Exp(m) (publishers are never cut here),
/// so x = 1 - e^(-a/m) is uniform on [0, 1] and
/// P(open) = int_0^1 (1 - e^(-rho x)) dx = 1 - (1 - e^(-rho)) / rho,
/// rho = nu m. A pull per viewer would instead open rho / 2 legs per
/// stream on average.
fn expected_legs(streams: f64) -> f64 {
    let rho = (1.0 - PUBLISHER_SHARE) * RATE_PER_S * MEAN_S as f64 / streams;
    streams * (1.0 - (1.0 - (-rho).exp()) / rho)
}

#[test]
fn a_cascade_opens_one_leg_per_stream_and_remote_server_not_one_per_viewer() {
    let r = run(&two_regions(2 * 3600), 3);
    let t = table(&r, "edge_series");
    let (streams, legs) = (u64s(t, "streams_live"), u64s(t, "cascade_legs"));
    // Skip the first 10 minutes (10 session lengths: the run starts empty).
    let (mut diff, mut expect) = (Vec::new(), Vec::new());
    for (&s, &l) in streams.iter().zip(&legs).skip(10) {
        let e = expected_legs(s as f64);
        diff.push(l as f64 - e);
        expect.push(e);
    }
    let n = diff.len() as f64;
    let mean_diff = diff.iter().sum::<f64>() / n;
    let sd = (diff.iter().map(|d| (d - mean_diff).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let mean_expect = expect.iter().sum::<f64>() / n;
    // Tolerance: 4 standard errors with the samples (60 s apart, about a
    // stream's correlation time m) counted as n / 3 independent ones,
    // plus 1% for conditioning on the current stream count rather than
    // its history (second order in the count's relative spread,
    // 1/sqrt(400) = 5%).
    let tol = 4.0 * sd / (n / 3.0).sqrt() + 0.01 * mean_expect;
    assert!(mean_diff.abs() < tol, "legs {:.1} against {mean_expect:.1} (tolerance {tol:.1})", mean_expect + mean_diff);
    // The steady state this derivation assumes: about 2 p rate m = 400 streams.
    let s_mean = streams.iter().skip(10).sum::<u64>() as f64 / n;
    let s_exp = 2.0 * PUBLISHER_SHARE * RATE_PER_S * MEAN_S as f64;
    assert!((s_mean - s_exp).abs() < 4.0 * (s_exp / (n / 3.0)).sqrt() + 0.02 * s_exp, "{s_mean} streams, expected {s_exp}");
    // Every leg crosses regions here, and a subscriber is one leg deep at most.
    assert_eq!(col(&r, "cascade_legs_cross_region"), col(&r, "cascade_legs_opened"));
    assert_eq!(col(&r, "cascade_depth_max"), 1.0);
    assert_eq!(col(&r, "subscribers_rejected_cascade"), 0.0);
}

#[test]
fn an_origin_lost_to_an_outage_cuts_its_remote_viewers_and_every_session_is_accounted_for() {
    let mut sc = two_regions(1800);
    let e = sc.edge.as_mut().unwrap();
    e.room_outages.push(EdgeRoomOutage { region: 0, room: 0, start_ns: 900 * S, end_ns: 1200 * S });
    let r = run(&sc, 5);
    let upstream = col(&r, "sessions_cut_upstream");
    // At the outage about S_A = p rate m = 60 streams live on region 0's
    // pod, each with Poisson(rho x) viewers in region 1 (rho = 4.5, x
    // uniform): 60 * 4.5 / 2 = 135 on average, a standard deviation of
    // about sqrt(60 * (2.25 + 4.5^2 / 12)) = 15 given the count of
    // streams, 30 with its spread: at least 135 - 4 * 30 = 15 cut.
    assert!(upstream >= 15.0, "{upstream} cut upstream");
    let accepted: f64 = ["room", "region", "central", "serverless"].iter().map(|t| col(&r, &format!("sessions_{t}"))).sum();
    let cut = col(&r, "sessions_cut_scale_in") + col(&r, "sessions_cut_recreate") + col(&r, "sessions_cut_outage") + upstream;
    assert_eq!(accepted, col(&r, "sessions_ended") + cut + col(&r, "sessions_open_at_end"));
    assert_eq!(accepted, col(&r, "stream_publishers") + col(&r, "stream_subscribers"));
    assert_eq!(
        col(&r, "sessions") ,
        accepted + col(&r, "sessions_rejected") + col(&r, "subscribers_no_stream")
    );
}

#[test]
fn a_run_with_streams_is_a_function_of_its_seed() {
    let sc = two_regions(900);
    let (a, b) = (run(&sc, 9), run(&sc, 9));
    assert_eq!(format!("{:?}", a.summary.extra), format!("{:?}", b.summary.extra));
    assert_eq!(format!("{:?}", a.extra_tables), format!("{:?}", b.extra_tables));
    assert_ne!(format!("{:?}", run(&sc, 10).summary.extra), format!("{:?}", a.summary.extra));
}
