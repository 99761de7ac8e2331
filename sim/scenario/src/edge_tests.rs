//! `[edge]` as a file: every default, and every error at the place and
//! field it names. Expected positions are found in the test's own text
//! (the line and column of a marker), not taken from the resolver.

use crate::model::*;
use crate::{ScenarioError, parse};

/// The smallest edge scenario: only what is required. Its N-2 check by
/// hand: 1 session/s x 1200 s = 1200 sessions, / 32 = 37.5 -> 38 pods of
/// 8 cores = 304 cores; one room of 6 machines left holds 384 (and 5
/// would hold 320, 4 only 256).
const MINI: &str = r#"[run]
name = "e"
seed = 1
duration = "48 h"

[[regions]]
name = "beijing"
lat = 39.9
lon = 116.4

[[regions]]
name = "wuhan"
lat = 30.59
lon = 114.31

[edge]
sharing = "shared"
policy = "spread"
scale_in = "tombstone"

[edge.machine]
cpu = 64
memory = "256 GiB"
bandwidth = "10 Gbps"
pps = 2000000
host_ports = 1000

[[edge.regions]]
region = "beijing"
rooms = 3
machines_per_room = 6
hourly_arrivals = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]

[edge.central]
region = "wuhan"
machines = 2

[[edge.services]]
name = "conference"
share = 1.0
session = { cpu = 0.25, memory = "64 MiB", bandwidth = "6 Mbps", pps = 600 }
pod = { cpu = 8, memory = "8 GiB", bandwidth = "400 Mbps", pps = 50000, host_ports = 1 }
max_sessions_per_pod = 32
session_length = "20 min"
"#;

const S: u64 = 1_000_000_000;

fn ok(text: &str) -> Scenario {
    parse("e.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn edge(text: &str) -> Edge {
    ok(text).edge.expect("an [edge] scenario resolves to Some(edge)")
}

/// MINI with `from` (which must occur once) replaced by `to`.
fn with(from: &str, to: &str) -> String {
    assert_eq!(MINI.matches(from).count(), 1, "{from:?} must occur once in MINI");
    MINI.replacen(from, to, 1)
}

/// 1-based line and column (characters) of the first `marker` in `text`.
fn at(text: &str, marker: &str) -> (usize, usize) {
    let i = text.find(marker).unwrap_or_else(|| panic!("{marker:?} not in the text"));
    let before = &text[..i];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (line, col)
}

/// `text` is refused at `marker`, naming `field`, with `message` in it.
fn refused(text: &str, marker: &str, field: &str, message: &str) {
    match parse("e.toml", text) {
        Ok(_) => panic!("accepted; expected an error at {marker:?} ({field})"),
        Err(ScenarioError::Invalid { file, line, col, field: f, message: m }) => {
            assert_eq!(file, "e.toml");
            assert_eq!((line, col), at(text, marker), "position of {field}: {m}");
            assert_eq!(f, field, "{m}");
            assert!(m.contains(message), "{field}: {m:?} lacks {message:?}");
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_marker_finder_counts_like_an_editor() {
    assert_eq!(at("a\nbc = 1\n", "= 1"), (2, 4));
    assert_eq!(at("x = 1", "x"), (1, 1));
    assert_eq!(at("\n\nµ = 2", "= 2"), (3, 3));
}

#[test]
fn every_default_of_a_minimal_edge_scenario() {
    let s = ok(MINI);
    // The CDN's fields get neutral values.
    assert!(s.nodes.is_empty() && s.links.is_empty() && s.faults.is_empty());
    assert_eq!((s.viewers.initial, s.viewers.arrivals_per_s, s.broadcasters.count), (0, 0.0, 0));
    assert!(s.home.is_none() && s.last_hop.is_none());
    let e = s.edge.unwrap();
    assert!(e.shared);
    assert_eq!(e.policy, EdgePolicy::Spread);
    assert_eq!(e.scale_in, EdgeScaleIn::Tombstone { timeout_ns: 600 * S });
    assert_eq!(e.redundancy_rooms, 2);
    assert_eq!(e.sample_interval_ns, 60 * S);
    assert_eq!(e.access_latency_ns, 5_000_000);
    assert_eq!(e.prewarmed_share, 0.9);
    assert_eq!(e.startup_prewarmed, DurationSpec::Fixed { ns: 2 * S });
    assert_eq!(e.startup_pulled, DurationSpec::Lognormal { median_ns: 20 * S, sigma: 0.5 });
    assert_eq!(
        e.machine,
        EdgeResources { cpu_millis: 64_000, memory_bytes: 256 << 30, bandwidth_bps: 10_000_000_000, pps: 2_000_000, host_ports: 1000 }
    );
    let r = &e.regions[0];
    assert_eq!((r.region, r.rooms, r.machines_per_room, r.region_machines, r.utc_offset_ns), (0, 3, 6, 0, 0));
    assert_eq!(r.hourly_arrivals_per_s, [1.0; 24]);
    assert_eq!((e.central.region, e.central.machines), (1, 2));
    let v = &e.services[0];
    assert_eq!(v.session, EdgeResources { cpu_millis: 250, memory_bytes: 64 << 20, bandwidth_bps: 6_000_000, pps: 600, host_ports: 0 });
    assert_eq!(v.pod.host_ports, 1);
    assert_eq!(v.session_length, DurationSpec::Fixed { ns: 1200 * S });
    // 6 Mbit/s is 750,000 bytes a second.
    assert_eq!(v.session_bytes_per_s, 750_000);
    let a = &e.autoscale;
    assert_eq!((a.sync_period_ns, a.tolerance, a.scale_in_window_ns, a.min_pods, a.max_pods), (15 * S, 0.1, 300 * S, 1, 10_000));
    assert_eq!(
        (a.target_cpu, a.target_memory, a.target_bandwidth, a.target_pps, a.target_sessions),
        (None, None, None, None, Some(0.7))
    );
    assert!(e.serverless.is_none() && e.planner.is_none());
    let p = &e.prices;
    assert_eq!((p.bandwidth_per_mbps_month, p.machine_per_hour, p.serverless_per_second, p.serverless_per_gb), (2.5, 0.8, 0.00005, 0.08));
    assert!(e.flash_crowds.is_empty() && e.room_outages.is_empty() && e.upgrades.is_empty());
}

#[test]
fn defaults_of_the_optional_tables_and_written_values() {
    let text = with("[edge.central]", "[edge.serverless]\n\n[edge.planner]\nlead_time = \"2 h\"\n\n[edge.autoscale]\ntargets = { cpu = 0.5 }\n\n[edge.central]");
    let e = edge(&text);
    let s = e.serverless.unwrap();
    assert_eq!(s.cold_start, DurationSpec::Lognormal { median_ns: 1_500_000_000, sigma: 0.5 });
    assert_eq!((s.keep_alive_ns, s.max_instances, s.sessions_per_instance), (600 * S, 10_000, 8));
    let p = e.planner.unwrap();
    assert_eq!((p.lead_time_ns, p.headroom, p.min_machines, p.max_machines), (7200 * S, 0.2, 1, 1000));
    // Targets written: only those, no sessions default beside them.
    assert_eq!((e.autoscale.target_cpu, e.autoscale.target_sessions), (Some(0.5), None));

    // Fractional cores round to millicores; UTC offsets to ns; naive.
    let text = with("cpu = 0.25,", "cpu = 0.0015,");
    assert_eq!(edge(&text).services[0].session.cpu_millis, 2);
    let text = with("rooms = 3\n", "rooms = 3\nutc_offset_hours = -5\nregion_machines = 7\n");
    let r = &edge(&text).regions[0];
    assert_eq!((r.utc_offset_ns, r.region_machines), (-5 * 3600 * S as i64, 7));
    let e = edge(&with("scale_in = \"tombstone\"", "scale_in = \"naive\""));
    assert_eq!(e.scale_in, EdgeScaleIn::Naive);
    let e = edge(&with("scale_in = \"tombstone\"", "scale_in = \"tombstone\"\ntombstone_timeout = \"90 s\""));
    assert_eq!(e.scale_in, EdgeScaleIn::Tombstone { timeout_ns: 90 * S });
}

#[test]
fn session_length_distributions_parse() {
    let cases: [(&str, DurationSpec); 4] = [
        ("{ distribution = \"exponential\", mean = \"20 min\" }", DurationSpec::Exponential { mean_ns: 1200 * S }),
        ("{ distribution = \"lognormal\", median = \"20 min\", sigma = 1.0 }", DurationSpec::Lognormal { median_ns: 1200 * S, sigma: 1.0 }),
        ("{ distribution = \"weibull\", shape = 0.7, scale = \"15 min\" }", DurationSpec::Weibull { shape: 0.7, scale_ns: 900 * S }),
        (
            "{ distribution = \"empirical\", points = [[0.5, \"5 min\"], [0.9, \"30 min\"], [1.0, \"2 h\"]] }",
            DurationSpec::Empirical { points: vec![(0.5, 300 * S), (0.9, 1800 * S), (1.0, 7200 * S)] },
        ),
    ];
    for (written, want) in cases {
        // redundancy 0: the heavier means would fail MINI's N-2 sizing.
        let text = with("session_length = \"20 min\"", &format!("session_length = {written}")).replace("[edge]\n", "[edge]\nredundancy_rooms = 0\n");
        assert_eq!(edge(&text).services[0].session_length, want, "{written}");
    }
}

#[test]
fn cdn_sections_are_refused_beside_edge_and_required_without_it() {
    let t = MINI.to_string() + "\n[stream]\nname = \"s\"\nbitrate = \"1 Mbps\"\nblock = \"1 s\"\nchunk = \"8 KiB\"\n";
    refused(&t, "[stream]", "stream", "expected no [stream] in an [edge] scenario");
    let t = MINI.to_string() + "\n[routing]\nmode = \"mesh\"\n";
    refused(&t, "[routing]", "routing", "belongs to the live-video CDN");
    let t = MINI.to_string() + "\n[[nodes]]\nname = \"n\"\nregion = \"beijing\"\nrole = \"source\"\negress = \"1 Gbps\"\n";
    refused(&t, "\"n\"", "nodes[0]", "expected no [[nodes]] in an [edge] scenario");
    let t = MINI.to_string() + "\n[[links]]\nfrom = \"a\"\nto = \"b\"\n";
    refused(&t, "\"a\"", "links[0]", "expected no [[links]] in an [edge] scenario");

    // Without [edge], [stream] and [viewers] stay required.
    const QUICKSTART: &str = include_str!("../../../scenarios/quickstart.toml");
    let start = QUICKSTART.find("\n[stream]").unwrap() + 1;
    let end = start + QUICKSTART[start + 1..].find("\n[").unwrap() + 1;
    let no_stream = format!("{}{}", &QUICKSTART[..start], &QUICKSTART[end..]);
    let e = parse("q.toml", &no_stream).unwrap_err().to_string();
    assert!(e.starts_with("q.toml:") && e.contains(": stream: expected a [stream] table"), "{e}");
}

#[test]
fn the_issue_bad_inputs_are_located() {
    // A pool with no machines.
    refused(&with("machines_per_room = 6", "machines_per_room = 0"), "0\nhourly", "edge.regions[0].machines_per_room", "expected a pool with machines");
    // Dedicated: 0.95 and 0.05 of 6 machines are 5.7 and 0.3: floors 5
    // and 0, the one left over to the larger fraction (0.7): 6 and 0.
    let two = with(
        "share = 1.0\n",
        "share = 0.95\n",
    )
    .replace("sharing = \"shared\"", "sharing = \"dedicated\"")
    + "\n[[edge.services]]\nname = \"live\"\nshare = 0.05\nsession = { cpu = 0.25, memory = \"64 MiB\", bandwidth = \"6 Mbps\", pps = 600 }\npod = { cpu = 8, memory = \"8 GiB\", bandwidth = \"400 Mbps\", pps = 50000, host_ports = 1 }\nmax_sessions_per_pod = 32\nsession_length = \"20 min\"\n";
    refused(&two, "6\nhourly", "edge.regions[0].machines_per_room", "service \"live\" gets 0 of 6");
    // 20 machines: 19 and 1, each pool has one.
    let e = edge(&two.replace("machines_per_room = 6", "machines_per_room = 20"));
    assert!(!e.shared);

    // An unknown region, room and policy.
    refused(&with("region = \"beijing\"\nrooms", "region = \"atlantis\"\nrooms"), "\"atlantis\"", "edge.regions[0].region", "expected the name of a region (beijing, wuhan), found \"atlantis\"");
    let out = with("[edge.central]", "[[edge.room_outages]]\nregion = \"beijing\"\nroom = 3\nstart = \"1 h\"\nend = \"2 h\"\n\n[edge.central]");
    refused(&out, "3\nstart", "edge.room_outages[0].room", "expected a room of \"beijing\" (0 to 2), found 3");
    edge(&out.replace("room = 3", "room = 2"));
    let out = out.replace("region = \"beijing\"\nroom = 3", "region = \"wuhan\"\nroom = 0");
    refused(&out, "\"wuhan\"\nroom", "edge.room_outages[0].region", "expected the name of an [[edge.regions]] region (beijing)");
    refused(&with("policy = \"spread\"", "policy = \"tetris\""), "\"tetris\"", "edge.policy", "expected one of \"spread\", \"binpack\", \"hybrid\", found \"tetris\"");
    refused(&with("sharing = \"shared\"", "sharing = \"pooled\""), "\"pooled\"", "edge.sharing", "expected one of \"shared\", \"dedicated\"");
    refused(&with("scale_in = \"tombstone\"", "scale_in = \"drain\""), "\"drain\"", "edge.scale_in", "expected one of \"tombstone\", \"naive\"");

    // A capacity with the wrong unit.
    refused(&with("memory = \"256 GiB\"", "memory = \"10 Mbps\""), "\"10 Mbps\"", "edge.machine.memory", "size");
    refused(&with("bandwidth = \"10 Gbps\"", "bandwidth = \"10 GiB\""), "\"10 GiB\"", "edge.machine.bandwidth", "rate");

    // An N-2 requirement the rooms cannot meet: one room of 4 machines
    // holds 256 cores of the 304 needed; 5 hold 320, enough.
    refused(
        &with("machines_per_room = 6", "machines_per_room = 4"),
        "4\nhourly",
        "edge.regions[0].machines_per_room",
        "cpu (millicores) needed 304000, 4 machines left hold 256000",
    );
    edge(&with("machines_per_room = 6", "machines_per_room = 5"));
    // The region's own pool counts: 4 a room plus 1 is 5 machines.
    edge(&with("machines_per_room = 6", "machines_per_room = 4\nregion_machines = 1"));
    // Without the check, 4 is fine.
    edge(&with("machines_per_room = 6", "machines_per_room = 4").replace("[edge]\n", "[edge]\nredundancy_rooms = 0\n"));
    refused(&with("rooms = 3", "rooms = 2"), "2\nmachines_per_room", "edge.regions[0].rooms", "expected more than 2 rooms for N-2");

    // A forecast longer than the run: the lead time in a 48 h run must
    // leave a day plus the lead; 24 h is too long.
    let planner = |lead: &str, duration: &str| {
        with("[edge.central]", &format!("[edge.planner]\nlead_time = \"{lead}\"\n\n[edge.central]")).replace("duration = \"48 h\"", &format!("duration = \"{duration}\""))
    };
    refused(&planner("24 h", "48 h"), "\"24 h\"", "edge.planner.lead_time", "expected a run longer than one day plus the lead time");
    refused(&planner("2 h", "24 h"), "\"2 h\"", "edge.planner.lead_time", "expected a run longer than one day plus the lead time");
    refused(&planner("2 h", "26 h"), "\"2 h\"", "edge.planner.lead_time", "one day plus the lead time");
    edge(&planner("2 h", "27 h"));
    edge(&planner("23 h", "48 h"));
    refused(&planner("90 min", "48 h"), "\"90 min\"", "edge.planner.lead_time", "expected whole hours from 1 h to 24 h");
    refused(&planner("25 h", "72 h"), "\"25 h\"", "edge.planner.lead_time", "expected whole hours from 1 h to 24 h");
    refused(&planner("0 s", "48 h"), "\"0 s\"", "edge.planner.lead_time", "expected whole hours");
}

#[test]
fn other_bad_values_are_located() {
    let edge_opt = |line: &str| with("[edge.machine]", &format!("{line}\n\n[edge.machine]"));
    refused(&edge_opt("sample_interval = \"49 h\""), "\"49 h\"", "edge.sample_interval", "expected at most the run's duration");
    refused(&edge_opt("sample_interval = \"0 s\""), "\"0 s\"", "edge.sample_interval", "above zero");
    refused(&edge_opt("prewarmed_share = 1.5"), "1.5", "edge.prewarmed_share", "expected a share in [0, 1], found 1.5");
    refused(&edge_opt("redundancy_rooms = -1"), "-1", "edge.redundancy_rooms", "expected a whole number from 0 to 1000");
    refused(&edge_opt("startup_pulled = { distribution = \"gamma\", mean = \"1 s\" }"), "{ distribution = \"gamma\"", "edge.startup_pulled", "expected one of \"exponential\"");
    refused(&edge_opt("startup_pulled = { distribution = \"lognormal\", median = \"20 s\" }"), "{ distribution = \"lognormal\", median = \"20 s\" }", "edge.startup_pulled", "expected `sigma`");
    refused(&edge_opt("colour = \"red\""), "colour", "edge.colour", "unknown field `colour`");

    refused(&with("host_ports = 1000", "host_ports = 70000"), "70000", "edge.machine.host_ports", "from 1 to 65535");
    refused(&with("pps = 2000000", "pps = 0"), "0\nhost_ports = 1000", "edge.machine.pps", "from 1 to");
    refused(&with("cpu = 64", "cpu = 0"), "0\nmemory", "edge.machine.cpu", "expected cores above 0");

    let hourly = "hourly_arrivals = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]";
    refused(&with(hourly, &hourly.replacen("1.0, ", "", 1)), "[1.0", "edge.regions[0].hourly_arrivals", "expected 24 rates (local hours 0 to 23), found 23");
    refused(&with(hourly, &hourly.replacen("1.0", "-1.0", 1)), "[-1.0", "edge.regions[0].hourly_arrivals", "found -1");
    refused(&with("rooms = 3\n", "rooms = 3\nutc_offset_hours = 15\n"), "15", "edge.regions[0].utc_offset_hours", "expected hours from -12 to 14");
    let twice = MINI.to_string() + "\n[[edge.regions]]\nregion = \"beijing\"\nrooms = 4\nmachines_per_room = 6\n" + hourly + "\n";
    refused(&twice, "\"beijing\"\nrooms = 4", "edge.regions[1].region", "expected each region once");

    refused(&with("machines = 2", "machines = -1"), "-1", "edge.central.machines", "from 0 to");
    refused(&with("region = \"wuhan\"\nmachines", "region = \"mars\"\nmachines"), "\"mars\"", "edge.central.region", "expected the name of a region");

    refused(&with("share = 1.0", "share = 0.9"), "0.9", "edge.services", "expected shares summing to 1, found 0.9");
    refused(&with("share = 1.0", "share = 0.0"), "0.0", "edge.services[0].share", "expected a share in (0, 1]");
    refused(&with("max_sessions_per_pod = 32", "max_sessions_per_pod = 0"), "0\nsession_length", "edge.services[0].max_sessions_per_pod", "from 1 to 65536");
    refused(&with("pod = { cpu = 8,", "pod = { cpu = 128,"), "{ cpu = 128", "edge.services[0].pod", "expected a pod that fits the machine type, found one whose cpu exceeds it");
    refused(&with("memory = \"64 MiB\"", "memory = \"16 GiB\""), "{ cpu = 0.25", "edge.services[0].session", "whose memory exceeds the pod's request");
    refused(&with("session_length = \"20 min\"", "session_length = \"0 s\""), "\"0 s\"", "edge.services[0].session_length", "above zero");
    let empirical = "session_length = { distribution = \"empirical\", points = [[0.5, \"5 min\"], [0.9, \"3 min\"]] }";
    refused(&with("session_length = \"20 min\"", empirical), "{ distribution = \"empirical\"", "edge.services[0].session_length", "point 1");

    let dup = MINI.to_string()
        + "\n[[edge.services]]\nname = \"conference\"\nshare = 0.0\nsession = { cpu = 0.25, memory = \"64 MiB\", bandwidth = \"6 Mbps\", pps = 600 }\npod = { cpu = 8, memory = \"8 GiB\", bandwidth = \"400 Mbps\", pps = 50000, host_ports = 1 }\nmax_sessions_per_pod = 32\nsession_length = \"20 min\"\n";
    let second = dup.rfind("\"conference\"").unwrap();
    refused(&dup, &dup[second..], "edge.services[1].name", "expected a unique, non-empty service name");

    let section = |table: &str| with("[edge.central]", &format!("{table}\n\n[edge.central]"));
    refused(&section("[edge.autoscale]\ntargets = {}"), "{}", "edge.autoscale.targets", "expected at least one target");
    refused(&section("[edge.autoscale]\ntargets = { cpu = 1.5 }"), "1.5", "edge.autoscale.targets.cpu", "expected a share in (0, 1]");
    refused(&section("[edge.autoscale]\ntargets = { gpu = 0.5 }"), "gpu", "edge.autoscale.targets.gpu", "unknown field `gpu`");
    refused(&section("[edge.autoscale]\nmin_pods = 5\nmax_pods = 4"), "5\nmax_pods", "edge.autoscale.min_pods", "expected at most max_pods (4), found 5");
    refused(&section("[edge.autoscale]\ntolerance = 1.5"), "1.5", "edge.autoscale.tolerance", "expected a tolerance in [0, 1)");
    refused(&section("[edge.serverless]\nsessions_per_instance = 0"), "0\n\n[edge.central]", "edge.serverless.sessions_per_instance", "from 1 to 65536");

    let crowd = |region: &str, start: &str, end: &str, m: &str| {
        section(&format!("[[edge.flash_crowds]]\nregion = \"{region}\"\nstart = \"{start}\"\nend = \"{end}\"\nmultiplier = {m}"))
    };
    refused(&crowd("beijing", "20 h", "49 h", "4.0"), "\"49 h\"", "edge.flash_crowds[0].end", "at most the run's duration");
    refused(&crowd("beijing", "20 h", "20 h", "4.0"), "\"20 h\"\nmultiplier", "edge.flash_crowds[0].end", "expected an end after the start");
    refused(&crowd("beijing", "20 h", "21 h", "0.0"), "0.0", "edge.flash_crowds[0].multiplier", "above 0");
    refused(&crowd("wuhan", "20 h", "21 h", "4.0"), "\"wuhan\"\nstart", "edge.flash_crowds[0].region", "[[edge.regions]]");
    // A x4 crowd: 4 x 1200 / 32 = 150 pods, 1200 cores > 384: the N-2 check sees it.
    refused(&crowd("beijing", "20 h", "21 h", "4.0"), "6\nhourly", "edge.regions[0].machines_per_room", "cpu (millicores) needed 1200000");

    let upgrade = |service: &str, at: &str, how: &str| section(&format!("[[edge.upgrades]]\nservice = \"{service}\"\nat = \"{at}\"\nhow = \"{how}\""));
    let e = edge(&upgrade("conference", "3 h", "recreate"));
    assert_eq!((e.upgrades[0].service, e.upgrades[0].at_ns, e.upgrades[0].in_place), (0, 3 * 3600 * S, false));
    refused(&upgrade("conference", "50 h", "in-place"), "\"50 h\"", "edge.upgrades[0].at", "expected a time before the run's end");
    refused(&upgrade("webinar", "3 h", "in-place"), "\"webinar\"", "edge.upgrades[0].service", "expected the name of a service (conference)");
    refused(&upgrade("conference", "3 h", "rolling"), "\"rolling\"", "edge.upgrades[0].how", "expected one of \"in-place\", \"recreate\"");
}

#[test]
fn peak_demand_by_hand() {
    // Peak hour 10/s (hour 20), a x2 crowd: 20/s. Two services, 0.75 and
    // 0.25, sessions of 600 s mean (exponential) and of lognormal median
    // 600 s, sigma 1 (mean 600 e^0.5 = 989.23 s):
    //   A: 20 x 0.75 x 600 = 9000 sessions / 32 = 281.25 -> 282 pods
    //   B: 20 x 0.25 x 989.23 = 4946.2 sessions / 10 -> 495 pods
    // A's pod 8 cores, 1 port; B's 2 cores, 0 ports.
    let hourly: Vec<String> = (0..24).map(|h| if h == 20 { "10.0".to_string() } else { "1.0".to_string() }).collect();
    let text = with("share = 1.0", "share = 0.75")
        .replace("session_length = \"20 min\"", "session_length = { distribution = \"exponential\", mean = \"10 min\" }")
        .replace("[edge]\n", "[edge]\nredundancy_rooms = 0\n")
        .replace(&format!("[{}]", ["1.0"; 24].join(", ")), &format!("[{}]", hourly.join(", ")))
        + "\n[[edge.services]]\nname = \"b\"\nshare = 0.25\nsession = { cpu = 0.1, memory = \"64 MiB\", bandwidth = \"1 Mbps\", pps = 100 }\npod = { cpu = 2, memory = \"1 GiB\", bandwidth = \"10 Mbps\", pps = 1000 }\nmax_sessions_per_pod = 10\nsession_length = { distribution = \"lognormal\", median = \"10 min\", sigma = 1.0 }\n\n[[edge.flash_crowds]]\nregion = \"beijing\"\nstart = \"1 h\"\nend = \"2 h\"\nmultiplier = 2.0\n";
    let e = edge(&text);
    let d = e.peak_demand_per_region();
    assert_eq!(d[0].cpu_millis, 282 * 8000 + 495 * 2000);
    assert_eq!(d[0].memory_bytes, 282 * (8 << 30) + 495 * (1 << 30));
    assert_eq!(d[0].bandwidth_bps, 282 * 400_000_000 + 495 * 10_000_000);
    assert_eq!(d[0].pps, 282 * 50_000 + 495 * 1000);
    assert_eq!(d[0].host_ports, 282);
}

#[test]
fn the_peak_boost_is_the_largest_overlap_not_every_crowd() {
    let crowds = |list: &[(&str, &str, f64)]| {
        let mut t = MINI.replace("[edge]\n", "[edge]\nredundancy_rooms = 0\n");
        for (start, end, m) in list {
            t += &format!("\n[[edge.flash_crowds]]\nregion = \"beijing\"\nstart = \"{start}\"\nend = \"{end}\"\nmultiplier = {m}\n");
        }
        edge(&t).peak_boost(0)
    };
    assert_eq!(crowds(&[]), 1.0);
    // Apart: the larger alone.
    assert_eq!(crowds(&[("1 h", "2 h", 2.0), ("5 h", "6 h", 3.0)]), 3.0);
    // Touching ends do not overlap (windows are half-open).
    assert_eq!(crowds(&[("1 h", "2 h", 2.0), ("2 h", "3 h", 3.0)]), 3.0);
    // Overlapping: they multiply, as the workload applies them.
    assert_eq!(crowds(&[("1 h", "3 h", 2.0), ("2 h", "4 h", 3.0)]), 6.0);
    assert_eq!(crowds(&[("2 h", "4 h", 3.0), ("1 h", "3 h", 2.0), ("10 h", "11 h", 5.0)]), 6.0);
    // A decline does not lower the bound.
    assert_eq!(crowds(&[("1 h", "3 h", 0.5), ("2 h", "4 h", 3.0)]), 3.0);
    assert_eq!(crowds(&[("0 h", "48 h", 0.1)]), 1.0);
}
