//! The transport network between regions (issue 15, item 2): a link
//! outage is detected after d missed probes and each affected session's
//! media is back within d x P + the new path's round trip; the one-relay
//! rule recovers every region pair that has a working relay, and a pair
//! with none is counted lost. Expected values come from the scenario's own
//! numbers (explicit latencies, no jitter, no loss), not from the code.

use std::collections::{BTreeMap, BTreeSet};
use cdnsim_metrics::table::read_parquet;

use crate::common::*;

/// Links of the small network: (a, b, one-way latency ms). `west-east`
/// fails at 1800.081 s, 1 ms after the reply to its probe of 1800 s came
/// back (80 ms round trip, no jitter): the worst case of detection, which
/// then takes d x P - 1 ms. `relay` has no rooms and only relays; `far`
/// hangs off `east`.
pub(crate) const LINKS: [(&str, &str, u64); 4] = [("west", "east", 40), ("west", "relay", 30), ("relay", "east", 30), ("east", "far", 20)];
pub(crate) const FAULTED: (&str, &str) = ("west", "east");
const P_S: f64 = 1.0;
const D: f64 = 3.0;

/// A small edge scenario over a hand-written transport network.
pub(crate) fn small_text() -> String {
    let mut t = String::from(
        r#"#:schema ./scenario.schema.json
[run]
name = "transport_small"
seed = 3
duration = "1 h"

[[regions]]
name = "west"
lat = 48.0
lon = 2.0

[[regions]]
name = "east"
lat = 50.0
lon = 20.0

[[regions]]
name = "relay"
lat = 45.0
lon = 12.0

[[regions]]
name = "far"
lat = 55.0
lon = 37.0

[edge]
sharing = "shared"
policy = "binpack"
scale_in = "tombstone"
redundancy_rooms = 1
sample_interval = "60 s"

[edge.machine]
cpu = 64
memory = "256 GiB"
bandwidth = "10 Gbps"
pps = 2000000
host_ports = 1000
"#,
    );
    for r in ["west", "east", "far"] {
        t.push_str(&format!(
            "\n[[edge.regions]]\nregion = \"{r}\"\nrooms = 2\nmachines_per_room = 4\nutc_offset_hours = 0\nhourly_arrivals = [{}]\n",
            vec!["3"; 24].join(", ")
        ));
    }
    t.push_str(
        r#"
[edge.central]
region = "west"
machines = 0

[[edge.services]]
name = "live"
share = 1.0
session = { cpu = 0.05, memory = "32 MiB", bandwidth = "2 Mbps", pps = 250 }
pod = { cpu = 8, memory = "8 GiB", bandwidth = "400 Mbps", pps = 60000, host_ports = 1 }
max_sessions_per_pod = 150
session_length = { distribution = "exponential", mean = "10 min" }

[edge.services.streams]
publisher_share = 0.2
same_region_share = 0.0
relay = { cpu = 0.05, memory = "32 MiB", bandwidth = "2 Mbps", pps = 250 }
publisher_length = { distribution = "exponential", mean = "40 min" }

[edge.autoscale]
sync_period = "15 s"
tolerance = 0.1
scale_in_window = "5 min"
targets = { bandwidth = 0.7 }
min_pods = 1
max_pods = 100

[edge.transport]
probe_interval = "1 s"
missed_probes = 3
jitter = "0 ms"
"#,
    );
    for (a, b, ms) in LINKS {
        t.push_str(&format!("\n[[edge.transport.links]]\nfrom = \"{a}\"\nto = \"{b}\"\nlatency = \"{ms} ms\"\n"));
    }
    t.push_str(&format!(
        "\n[[edge.transport_faults]]\nfrom = \"{}\"\nto = \"{}\"\nkind = \"outage\"\nstart = \"1800081 ms\"\nend = \"2400 s\"\n",
        FAULTED.0, FAULTED.1
    ));
    t
}

fn latency(a: &str, b: &str) -> Option<u64> {
    LINKS.iter().find(|l| (l.0 == a && l.1 == b) || (l.0 == b && l.1 == a)).map(|l| l.2)
}

fn working(a: &str, b: &str) -> bool {
    latency(a, b).is_some() && !((a, b) == FAULTED || (b, a) == FAULTED)
}

/// Regions of the network.
fn regions() -> BTreeSet<&'static str> {
    LINKS.iter().flat_map(|l| [l.0, l.1]).collect()
}

#[test]
fn media_is_back_within_d_probes_and_the_new_paths_round_trip_and_one_relay_recovers_every_pair_it_can() {
    let dir = temp_dir("transport-small");
    let file = dir.join("transport_small.toml");
    std::fs::write(&file, small_text()).unwrap();
    let run = run_ok(&file, &dir.join("out"), &[], &[]);
    let rows = read_parquet(&run.join("reroutes.parquet")).unwrap();
    let summary = read_parquet(&run.join("summary.parquet")).unwrap();
    let (ra, rb) = (strs(&rows, "region_a"), strs(&rows, "region_b"));
    let (after, lost) = (strs(&rows, "path_after"), bools(&rows, "lost"));
    let reroute = opt(&rows, "reroute_ms");
    let cause = strs(&rows, "cause");
    assert!(rows.height() > 20, "the fault should hit sessions: {} rows", rows.height());

    let mut recovered: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut lost_pairs: BTreeMap<(String, String), usize> = BTreeMap::new();
    for i in 0..rows.height() {
        assert_eq!(cause[i], "outage");
        let (a, b) = (ra[i].as_str(), rb[i].as_str());
        // The one-relay rule, from the link list: a working direct link
        // or a relay with both links working.
        let has_path = working(a, b) || regions().iter().any(|&r| r != a && r != b && working(a, r) && working(r, b));
        assert_eq!(!lost[i], has_path, "row {i}: pair {a}-{b} lost = {} but a working path exists = {has_path}", lost[i]);
        if lost[i] {
            *lost_pairs.entry((a.into(), b.into())).or_default() += 1;
            continue;
        }
        *recovered.entry((a.into(), b.into())).or_default() += 1;
        // The bound: d x P + the round trip of the path taken, from the
        // links' latencies in the file.
        let hops: Vec<&str> = after[i].split('>').collect();
        let one_way_ms: u64 = hops.windows(2).map(|w| latency(w[0], w[1]).expect("a link of the file")).sum();
        let bound_ms = D * P_S * 1000.0 + 2.0 * one_way_ms as f64;
        let r = reroute[i].expect("restored");
        assert!(r > 0.0 && r <= bound_ms + 1e-6, "row {i}: reroute {r} ms over the bound {bound_ms} ms ({})", after[i]);
        assert!(!hops.windows(2).any(|w| (w[0], w[1]) == FAULTED || (w[1], w[0]) == FAULTED), "row {i}: still on the failed link");
    }
    // west-east recovers through the relay region; west-far has only east
    // as a relay, whose link to west failed: lost.
    assert!(recovered.contains_key(&("west".into(), "east".into())), "{recovered:?}");
    assert!(lost_pairs.contains_key(&("west".into(), "far".into())), "{lost_pairs:?}");
    let n_lost: usize = lost_pairs.values().sum();
    assert_eq!(col(&summary, "sessions_lost_no_path")[0] as usize, n_lost);
    assert_eq!(col(&summary, "sessions_rerouted")[0] as usize, recovered.values().sum::<usize>());
    // Closed form for a leg broken at the fault: the last reply at
    // 1800.080 s, detection d x P later, media back one round trip of the
    // relay path (2 x 60 ms) after that, from the fault at 1800.081 s.
    let worst_ms = (1800.080 + D * P_S + 0.120 - 1800.081) * 1000.0;
    assert!((col(&summary, "reroute_ms_max")[0] - worst_ms).abs() < 1e-6, "max {} ms, expected {worst_ms} ms", col(&summary, "reroute_ms_max")[0]);
    assert!(col(&summary, "transport_links_down")[0] >= 1.0);
    // Probes: 4 links, one a second from 0 s to the stop (3600 s) inclusive.
    assert_eq!(col(&summary, "transport_probes")[0], 4.0 * 3601.0);
}

/// The bundled scenario runs (with its topology beside it) and its reroute
/// rows all respect their bound.
#[test]
fn the_bundled_cable_fault_respects_the_bound() {
    let dir = temp_dir("transport-bundled");
    std::fs::create_dir_all(dir.join("topologies")).unwrap();
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/topologies/global.toml"), dir.join("topologies/global.toml")).unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/edge_transport_fault.toml")).unwrap();
    let file = dir.join("edge_transport_fault.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let o = cdnsim(&["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-progress"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut runs = 0;
    for e in std::fs::read_dir(out.join("edge_transport_fault")).unwrap() {
        let p = e.unwrap().path();
        if !p.join("reroutes.parquet").exists() {
            continue;
        }
        runs += 1;
        let rows = read_parquet(&p.join("reroutes.parquet")).unwrap();
        let (r, b, lost) = (opt(&rows, "reroute_ms"), opt(&rows, "bound_ms"), bools(&rows, "lost"));
        assert!(lost.iter().any(|&l| !l), "{}: some session rerouted", p.display());
        for i in 0..rows.height() {
            if !lost[i] {
                assert!(r[i].unwrap() <= b[i].unwrap() + 1e-6, "{}: row {i}", p.display());
            }
        }
    }
    assert_eq!(runs, 2);
}
