//! Whole edge runs with the control plane cut off: the centre down, a
//! region's cloud-edge links cut, with and without autonomy and pool
//! delegates.

use cdnsim_scenario::*;

use super::tests::{S, col, run, scenario, table, u64s};

fn control(pool_delegate: bool, autonomy: bool) -> EdgeControl {
    EdgeControl { pool_delegate, autonomy, ..EdgeControl::DEFAULT }
}

fn cut_pods_and_sessions(r: &crate::RunResults) -> f64 {
    ["scale_in", "recreate", "outage", "control", "upstream"].iter().map(|c| col(r, &format!("sessions_cut_{c}"))).sum()
}

#[test]
fn a_centre_outage_cuts_nothing_itself_freezes_scaling_and_scaling_resumes_within_a_sync() {
    // Three rooms at 20/s of 120 s sessions; the load doubles at 1800 s,
    // just as the centre goes down for half an hour, and room 2 fails
    // for good at 2400 s, in the middle of it.
    let mut sc = scenario(3, 10, 20.0, 120, 5400);
    let e = sc.edge.as_mut().unwrap();
    e.sample_interval_ns = 15 * S;
    e.control = Some(control(true, false));
    e.control_faults.push(EdgeControlFault { link: None, start_ns: 1800 * S, end_ns: 3600 * S });
    e.flash_crowds.push(EdgeFlashCrowd { region: 0, start_ns: 1800 * S, end_ns: 5400 * S, multiplier: 2.0 });
    e.room_outages.push(EdgeRoomOutage { region: 0, room: 2, start_ns: 2400 * S, end_ns: 5400 * S });
    let r = run(&sc, 11);
    // The centre evicts nothing while down, and nothing when back (every
    // lease clock restarts then, and every room answers).
    assert_eq!(col(&r, "pods_evicted_control"), 0.0);
    assert_eq!(col(&r, "sessions_cut_control"), 0.0);
    // Every cut is a session whose server truly failed: the room outage's.
    let pods = table(&r, "pods");
    let failed: u64 = u64s(pods, "cut_outage").iter().sum();
    assert!(failed > 0);
    assert_eq!(cut_pods_and_sessions(&r), col(&r, "sessions_cut_outage"));
    assert_eq!(col(&r, "sessions_cut_outage"), failed as f64);
    // No pod is created or scaled in while the centre is down: the pod
    // count is frozen from 1800 s to 3600 s (the failed room's pods leave
    // it at 2400 s, and none replace them)...
    let series = table(&r, "edge_series");
    let (sec, alloc, init, tomb) = (u64s(series, "second"), u64s(series, "pods_allocated"), u64s(series, "pods_initialising"), u64s(series, "pods_tombstone"));
    let serving = |i: usize| alloc[i] + init[i] + tomb[i];
    let at = |s: u64| sec.iter().position(|&x| x == s).unwrap();
    for i in at(1815)..at(2400) {
        assert_eq!(serving(i), serving(at(1815)), "pods changed at {} s with the centre down", sec[i]);
    }
    // (A sample at 2400 s follows the outage of that instant.)
    for i in at(2400)..at(3600) {
        assert_eq!(serving(i), serving(at(2400)), "pods changed at {} s with the centre down", sec[i]);
    }
    assert!(serving(at(2400)) < serving(at(2385)), "the failed room's pods are gone");
    assert_eq!(col(&r, "control_syncs_blocked"), 3.0 * 120.0, "3 fleets x 120 syncs in half an hour");
    // ...the doubled load meanwhile overflows to serverless...
    assert!(col(&r, "sessions_serverless_while_cut") > 0.0);
    // ...and the first sync after the repair decides, within one period:
    // a sample later there are more pods than just before the repair.
    assert!(col(&r, "control_resume_s") <= 15.0, "{}", col(&r, "control_resume_s"));
    assert!(serving(at(3615)) > serving(at(3585)), "no scale-out after the repair: {} then {}", serving(at(3585)), serving(at(3615)));
}

/// One region of two rooms at 20/s of 600 s sessions, no scale-in (min =
/// max pods); room 0's cloud-edge link cut from 1200 s to 3000 s.
fn link_cut(c: EdgeControl, both_rooms: bool) -> Scenario {
    let mut sc = scenario(2, 30, 20.0, 600, 4200);
    let e = sc.edge.as_mut().unwrap();
    e.autoscale.min_pods = 220;
    e.autoscale.max_pods = 220;
    e.control = Some(c);
    e.control_faults.push(EdgeControlFault { link: Some((0, (!both_rooms).then_some(0))), start_ns: 1200 * S, end_ns: 3000 * S });
    sc
}

#[test]
fn without_autonomy_a_cut_room_is_evicted_and_cuts_what_outlives_the_cut_when_it_returns() {
    // Both rooms cut, no autonomy: NotReady at 1240 s, evicted at 1540 s.
    // The evicted pods take no new session and learn of the eviction when
    // the link returns at 3000 s, so each session they held at 1540 s is
    // cut then with probability exp(-(3000 - 1540) / 600) (memoryless),
    // independently: binomial.
    let r = run(&link_cut(control(true, false), true), 12);
    let (held, cut) = (col(&r, "sessions_on_evicted_pods"), col(&r, "sessions_cut_control"));
    assert!(col(&r, "pods_evicted_control") > 0.0 && held > 1000.0, "{held}");
    let p = (-(3000.0 - 1540.0) / 600.0f64).exp();
    let sd = (held * p * (1.0 - p)).sqrt();
    assert!((cut - held * p).abs() < 4.0 * sd + 1.0, "cut {cut} of {held}, expected {:.1} +- {:.1}", held * p, 4.0 * sd);
    assert_eq!(col(&r, "control_rooms_not_ready"), 2.0);
}

#[test]
fn autonomy_or_a_pool_delegate_keeps_a_cut_room_serving() {
    // With autonomy nothing is evicted however long the cut.
    let r = run(&link_cut(control(false, true), true), 12);
    assert_eq!((col(&r, "pods_evicted_control"), col(&r, "sessions_cut_control")), (0.0, 0.0));
    assert_eq!(col(&r, "control_rooms_not_ready"), 2.0, "NotReady, but kept");
    // Without autonomy, one room cut while the other still reaches the
    // centre: its leases arrive through the other room; NotReady, but its
    // pods are kept.
    let r = run(&link_cut(control(true, false), false), 12);
    assert_eq!((col(&r, "pods_evicted_control"), col(&r, "control_rooms_not_ready")), (0.0, 1.0));
    // The same cut without a delegate is evicted.
    let r = run(&link_cut(control(false, false), false), 12);
    assert!(col(&r, "pods_evicted_control") > 0.0);
    assert!(col(&r, "sessions_cut_control") > 0.0);
}

#[test]
fn list_watch_bytes_are_each_endpoint_change_times_its_receivers() {
    // A fixed fleet (min = max pods, no faults): each pod joins its
    // EndpointSlice once, when ready, and never leaves; 2 rooms x 30
    // machines in one region (one node pool), 2 watchers a node, 50 KB.
    let mut sc = link_cut(control(true, true), true);
    sc.edge.as_mut().unwrap().control_faults.clear();
    let r = run(&sc, 13);
    let pods = col(&r, "pods_created");
    assert_eq!(pods, 440.0);
    assert_eq!(col(&r, "control_pool_updates"), pods);
    let (nodes, size) = (60.0, 50_000.0);
    assert_eq!(col(&r, "control_bytes_all"), pods * nodes * 2.0 * size);
    assert_eq!(col(&r, "control_bytes_node_reuse"), pods * nodes * size);
    // One pool: sharing sends one copy; filtering changes nothing.
    assert_eq!(col(&r, "control_bytes_pool_shared"), pods * size);
    assert_eq!(col(&r, "control_bytes_filtered"), pods * nodes * size);
    // The series adds up to the totals.
    let series: u64 = u64s(table(&r, "edge_series"), "control_bytes_all").iter().sum();
    assert_eq!(series as f64, col(&r, "control_bytes_all"));
}
