//! The transport model on a generated global network (issue 15, item 1):
//! `[edge.transport] synthetic = { regions = 120, seed = 7 }` gives the
//! scenario the generator's regions and links, and when a submarine cable
//! (a shared-risk group) fails, every affected session's media is back
//! within d x P + the new path's round trip, or the pair is lost exactly
//! when no direct link or one-relay path survives. Latencies for the bound
//! come from the generator's link list (the scenario's input), not from
//! the run.

use std::collections::{BTreeMap, BTreeSet};

use cdnsim_metrics::table::read_parquet;
use cdnsim_net::backbone::{GlobalSynthParams, GlobalTopology, synthetic_global};

use crate::common::*;

const REGIONS: usize = 120;
const SEED: u64 = 7;
const P_S: f64 = 1.0;
const D: f64 = 3.0;

struct Net {
    net: GlobalTopology,
    /// One-way latency (ms) by region-name pair, both orders.
    latency_ms: BTreeMap<(String, String), f64>,
}

impl Net {
    fn new() -> Net {
        let net = synthetic_global(&GlobalSynthParams { regions: REGIONS, ..Default::default() }, SEED).unwrap();
        let mut latency_ms = BTreeMap::new();
        for l in &net.links {
            let (a, b) = (net.regions[l.a].name.clone(), net.regions[l.b].name.clone());
            latency_ms.insert((a.clone(), b.clone()), l.latency_ns as f64 / 1e6);
            latency_ms.insert((b, a), l.latency_ns as f64 / 1e6);
        }
        Net { net, latency_ms }
    }

    fn in_group(&self, a: &str, b: &str, group: &str) -> bool {
        self.net.links.iter().any(|l| {
            let (x, y) = (&self.net.regions[l.a].name, &self.net.regions[l.b].name);
            ((x == a && y == b) || (x == b && y == a)) && l.groups.iter().any(|g| g == group)
        })
    }

    fn working(&self, a: &str, b: &str, failed: &str) -> bool {
        self.latency_ms.contains_key(&(a.to_string(), b.to_string())) && !self.in_group(a, b, failed)
    }

    /// A direct link or one relay, avoiding the failed cable.
    fn has_path(&self, a: &str, b: &str, failed: &str) -> bool {
        self.working(a, b, failed) || self.net.regions.iter().any(|r| r.name != a && r.name != b && self.working(a, &r.name, failed) && self.working(&r.name, b, failed))
    }
}

/// A submarine link whose cable, failed, still leaves its two regions a
/// one-relay path: the regions to put rooms in and the cable to fail.
fn pick(n: &Net) -> (String, String, String) {
    for l in n.net.links.iter().filter(|l| l.submarine) {
        let (a, b) = (&n.net.regions[l.a].name, &n.net.regions[l.b].name);
        let g = &l.groups[0];
        if n.has_path(a, b, g) {
            return (a.clone(), b.clone(), g.clone());
        }
    }
    panic!("no cable with a surviving relay path in the generated network");
}

/// The cable fails 1 ms after the reply to the probe of 599 s came back
/// over a-b (no jitter): the worst case of detection, which then takes
/// d x P - 1 ms.
fn fault_start_ns(n: &Net, a: &str, b: &str) -> u64 {
    599_000_000_000 + (2.0 * n.latency_ms[&(a.to_string(), b.to_string())] * 1e6).round() as u64 + 1_000_000
}

fn text(a: &str, b: &str, group: &str, start_ns: u64) -> String {
    let mut t = String::from("[run]\nname = \"transport_synthetic\"\nseed = 3\nduration = \"20 min\"\n\n[edge]\nsharing = \"shared\"\npolicy = \"binpack\"\nscale_in = \"tombstone\"\nredundancy_rooms = 1\nsample_interval = \"60 s\"\n\n[edge.machine]\ncpu = 64\nmemory = \"256 GiB\"\nbandwidth = \"10 Gbps\"\npps = 2000000\nhost_ports = 1000\n");
    for r in [a, b] {
        t.push_str(&format!(
            "\n[[edge.regions]]\nregion = \"{r}\"\nrooms = 2\nmachines_per_room = 4\nutc_offset_hours = 0\nhourly_arrivals = [{}]\n",
            vec!["3"; 24].join(", ")
        ));
    }
    t.push_str(&format!(
        r#"
[edge.central]
region = "{a}"
machines = 0

[[edge.services]]
name = "live"
share = 1.0
session = {{ cpu = 0.05, memory = "32 MiB", bandwidth = "2 Mbps", pps = 250 }}
pod = {{ cpu = 8, memory = "8 GiB", bandwidth = "400 Mbps", pps = 60000, host_ports = 1 }}
max_sessions_per_pod = 150
session_length = {{ distribution = "exponential", mean = "10 min" }}

[edge.services.streams]
publisher_share = 0.2
same_region_share = 0.0
relay = {{ cpu = 0.05, memory = "32 MiB", bandwidth = "2 Mbps", pps = 250 }}
publisher_length = {{ distribution = "exponential", mean = "40 min" }}

[edge.autoscale]
sync_period = "15 s"
tolerance = 0.1
scale_in_window = "5 min"
targets = {{ bandwidth = 0.7 }}
min_pods = 1
max_pods = 100

[edge.transport]
synthetic = {{ regions = {REGIONS}, seed = {SEED} }}
probe_interval = "1 s"
missed_probes = 3
jitter = "0 ms"

[[edge.transport_faults]]
group = "{group}"
kind = "outage"
start = "{start_ns} ns"
end = "900 s"
"#
    ));
    t
}

#[test]
fn a_cable_cut_on_a_generated_120_region_network_reroutes_within_the_bound() {
    let n = Net::new();
    let (a, b, group) = pick(&n);
    let dir = temp_dir("transport-synthetic");
    let file = dir.join("transport_synthetic.toml");
    let start_ns = fault_start_ns(&n, &a, &b);
    std::fs::write(&file, text(&a, &b, &group, start_ns)).unwrap();
    let run = run_ok(&file, &dir.join("out"), &[], &[]);

    // The scenario has the generator's regions and links.
    let manifest: serde_json::Value = serde_json::from_slice(&read(&run.join("manifest.json"))).unwrap();
    let names: Vec<&str> = manifest["scenario"]["regions"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    let want: Vec<&str> = n.net.regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, want);
    let summary = read_parquet(&run.join("summary.parquet")).unwrap();
    assert_eq!(col(&summary, "transport_links")[0] as usize, n.net.links.len());
    // 20 min of probes, one a second per link, 0 s to 1200 s inclusive.
    assert_eq!(col(&summary, "transport_probes")[0], n.net.links.len() as f64 * 1201.0, "every link probed every second");

    let rows = read_parquet(&run.join("reroutes.parquet")).unwrap();
    let (ra, rb, after) = (strs(&rows, "region_a"), strs(&rows, "region_b"), strs(&rows, "path_after"));
    let (lost, reroute, cause) = (bools(&rows, "lost"), opt(&rows, "reroute_ms"), strs(&rows, "cause"));
    let broken = col(&rows, "broken_ms");
    let mut at_fault = 0;
    assert!(rows.height() > 10, "the cable cut should hit sessions: {} rows", rows.height());
    let mut restored = 0;
    let mut pairs = BTreeSet::new();
    for i in 0..rows.height() {
        assert_eq!(cause[i], "outage");
        pairs.insert((ra[i].clone(), rb[i].clone()));
        assert_eq!(!lost[i], n.has_path(&ra[i], &rb[i], &group), "row {i}: pair {}-{} lost = {}", ra[i], rb[i], lost[i]);
        if lost[i] {
            continue;
        }
        let hops: Vec<&str> = after[i].split('>').collect();
        assert!(hops.len() <= 3, "row {i}: more than one relay: {}", after[i]);
        let one_way_ms: f64 = hops.windows(2).map(|w| n.latency_ms[&(w[0].to_string(), w[1].to_string())]).sum();
        assert!(!hops.windows(2).any(|w| n.in_group(w[0], w[1], &group)), "row {i}: still on the failed cable: {}", after[i]);
        let bound_ms = D * P_S * 1000.0 + 2.0 * one_way_ms;
        let r = reroute[i].expect("restored");
        assert!(r > 0.0 && r <= bound_ms + 1e-6, "row {i}: reroute {r} ms over the bound {bound_ms} ms ({})", after[i]);
        // Closed form for a leg broken at the fault: detection d x P - 1 ms
        // after it, media back one round trip of the new path later.
        if (broken[i] - start_ns as f64 / 1e6).abs() < 1e-6 {
            let want = D * P_S * 1000.0 - 1.0 + 2.0 * one_way_ms;
            assert!((r - want).abs() < 1e-3, "row {i}: reroute {r} ms, expected {want} ms ({})", after[i]);
            at_fault += 1;
        }
        restored += 1;
    }
    assert!(at_fault > 0, "some leg was broken at the fault");
    assert!(restored > 0, "some session was rerouted");
    // Rooms in a and b only: every leg joins the two.
    let ab: BTreeSet<&str> = [a.as_str(), b.as_str()].into();
    assert!(pairs.iter().all(|(x, y)| ab == [x.as_str(), y.as_str()].into()), "{pairs:?}");
}
