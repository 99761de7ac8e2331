//! Bad scenarios: exit code 2, a message with file:line:col, the field and
//! what was expected, and nothing written.

use std::path::Path;

use crate::common::*;

/// Writes `text` as a scenario, runs it, and checks the contract for bad
/// input. `needle` locates the offending value in `text`: the error must
/// point at its line and column. Returns stderr.
pub(crate) fn rejects(name: &str, text: &[u8], needle: Option<&str>, field: &str, expected: &str) -> String {
    let dir = temp_dir(&format!("bad-{name}"));
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let o = cdnsim(&["run", file.to_str().unwrap(), "--out", out.to_str().unwrap()], &[]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{name}: exit code; stderr: {stderr}");
    assert!(!out.exists(), "{name}: wrote {} despite the error", out.display());
    if let Some(needle) = needle {
        let text = std::str::from_utf8(text).unwrap();
        let at = text.find(needle).unwrap_or_else(|| panic!("{name}: {needle:?} not in scenario"));
        let line = text[..at].matches('\n').count() + 1;
        let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        let loc = format!("{}:{line}:{col}: ", file.display());
        assert!(stderr.contains(&loc), "{name}: expected location {loc:?} in: {stderr}");
    }
    assert!(stderr.contains(field), "{name}: expected field {field:?} in: {stderr}");
    assert!(stderr.contains(expected), "{name}: expected {expected:?} in: {stderr}");
    // `validate` gives the same verdict without running (a scenario that is
    // valid but too big for this machine is only refused by `run`).
    if !expected.contains("by estimate") {
        let v = cdnsim(&["validate", file.to_str().unwrap()], &[]);
        assert_eq!(v.status.code(), Some(2), "{name}: validate exit code");
    }
    stderr
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once in the scenario");
    text.replacen(from, to, 1)
}

#[test]
fn unknown_field() {
    let t = replace_once(&quickstart_text(), "chunk = \"16 KiB\"", "chunk = \"16 KiB\"\ncolour = \"red\"");
    rejects("unknown-field", t.as_bytes(), Some("colour"), "stream.colour", "unknown field `colour`");
}

#[test]
fn bad_unit() {
    let t = replace_once(&quickstart_text(), "bitrate = \"2 Mbps\"", "bitrate = \"2 Mbits\"");
    let e = rejects("bad-unit", t.as_bytes(), Some("\"2 Mbits\""), "stream.bitrate", "expected a bit rate");
    assert!(e.contains("\"2 Mbits\""), "the message quotes what was found: {e}");
    assert!(e.contains(": stream.bitrate: "), "the field path is the one the user wrote: {e}");
}

#[test]
fn negative_rate() {
    let t = replace_once(&quickstart_text(), "arrivals_per_s = 5.0", "arrivals_per_s = -5.0");
    rejects("negative-rate", t.as_bytes(), Some("-5.0"), "viewers.arrivals_per_s", "expected a non-negative rate");
}

#[test]
fn negative_bit_rate() {
    let t = replace_once(&quickstart_text(), "uplink = \"20 Mbps\"", "uplink = \"-20 Mbps\"");
    rejects("negative-bitrate", t.as_bytes(), Some("\"-20 Mbps\""), "broadcaster.uplink", "non-negative bit rate");
}

#[test]
fn link_to_unknown_node() {
    let t = replace_once(&quickstart_text(), "to = \"xa-edge\"", "to = \"xa-egde\"");
    rejects("unknown-node", t.as_bytes(), Some("\"xa-egde\""), "links[11].to", "expected the name of a node");
}

#[test]
fn tree_parent_without_link() {
    // Re-point the west-centre -> xa-edge link: xa-edge keeps its parent
    // but no link reaches it.
    let t = replace_once(
        &quickstart_text(),
        "[[links]]\nfrom = \"west-centre\"\nto = \"xa-edge\"",
        "[[links]]\nfrom = \"bj-src\"\nto = \"xa-edge\"",
    );
    rejects(
        "tree-link",
        t.as_bytes(),
        Some("\"west-centre\"\n# A small edge"),
        "nodes[12].parent",
        "expected a [[links]] entry between \"xa-edge\" and its parent \"west-centre\"",
    );
}

#[test]
fn syntax_error() {
    let t = replace_once(&quickstart_text(), "seed = 1", "seed = = 1");
    rejects("syntax", t.as_bytes(), None, "(syntax)", "");
}

#[test]
fn missing_file() {
    let dir = temp_dir("bad-missing");
    let file = dir.join("nope.toml");
    let out = dir.join("out");
    let o = cdnsim(&["run", file.to_str().unwrap(), "--out", out.to_str().unwrap()], &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}: cannot read the scenario", file.display())), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn non_utf8_file() {
    let mut bytes = quickstart_text().into_bytes();
    let at = bytes.windows(8).position(|w| w == b"live-1\"\n").unwrap() + 4;
    bytes[at] = 0xff;
    let text = String::from_utf8_lossy(&bytes[..at]).to_string();
    let line = text.matches('\n').count() + 1;
    let col = text.len() - text.rfind('\n').unwrap();
    let e = rejects("non-utf8", &bytes, None, "(file)", "expected UTF-8 text, found byte 0xff");
    assert!(e.contains(&format!(":{line}:{col}: ")), "location {line}:{col} in: {e}");
}

#[test]
fn chart_of_a_folder_that_is_not_a_run() {
    let dir = temp_dir("bad-chart");
    let o = cdnsim(&["chart", dir.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a run folder"));
    assert!(!Path::new(&dir.join("charts")).exists());
}

#[test]
fn a_run_that_would_not_fit_in_memory_is_refused_before_it_starts() {
    // 10^9 viewers a second for an hour: ~3.6e12 sessions.
    let t = replace_once(&quickstart_text(), "arrivals_per_s = 5.0", "arrivals_per_s = 1.0e9");
    let t = replace_once(&t, "duration = \"120 s\"", "duration = \"1 h\"");
    let e = rejects("too-big", t.as_bytes(), None, "", "GiB by estimate");
    assert!(e.contains("available"), "{e}");
}

// ---- [edge] scenarios: the five cases -------------------------

fn edge_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/edge_scale_in.toml")).unwrap()
}

#[test]
fn edge_pool_with_no_machines() {
    let t = edge_text().replacen("machines_per_room = 12", "machines_per_room = 0", 1);
    rejects("edge-no-machines", t.as_bytes(), Some("0\nutc_offset_hours"), "edge.regions[0].machines_per_room", "expected a pool with machines");
}

#[test]
fn edge_dedicated_pool_left_without_machines() {
    // Two services of 0.9 and 0.1 on one machine a room: the second's
    // dedicated pool would get none.
    let t = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/edge_binpack_vs_spread.toml")).unwrap();
    let t = t.split("\n[sweep]").next().unwrap().to_string();
    let t = replace_once(&t, "sharing = \"shared\"", "sharing = \"dedicated\"\n");
    let t = t.replacen("machines_per_room = 10", "machines_per_room = 1", 1);
    let t = t.replace("redundancy_rooms = 2", "redundancy_rooms = 0");
    rejects("edge-dedicated-empty", t.as_bytes(), Some("1\nutc_offset_hours"), "edge.regions[0].machines_per_room", "expected enough machines for a dedicated pool per service");
}

#[test]
fn edge_unknown_region_room_and_policy() {
    let t = replace_once(&edge_text(), "region = \"beijing\"\nrooms", "region = \"atlantis\"\nrooms");
    rejects("edge-unknown-region", t.as_bytes(), Some("\"atlantis\""), "edge.regions[0].region", "expected the name of a region");
    let t = edge_text().replace("[edge.central]", "[[edge.room_outages]]\nregion = \"beijing\"\nroom = 3\nstart = \"1 h\"\nend = \"2 h\"\n\n[edge.central]");
    rejects("edge-unknown-room", t.as_bytes(), Some("3\nstart"), "edge.room_outages[0].room", "expected a room of \"beijing\" (0 to 2)");
    let t = replace_once(&edge_text(), "policy = \"binpack\"", "policy = \"tetris\"");
    rejects("edge-unknown-policy", t.as_bytes(), Some("\"tetris\""), "edge.policy", "expected one of \"spread\", \"binpack\", \"hybrid\"");
}

#[test]
fn edge_capacity_with_the_wrong_unit() {
    let t = replace_once(&edge_text(), "memory = \"256 GiB\"", "memory = \"10 Mbps\"");
    rejects("edge-wrong-unit", t.as_bytes(), Some("\"10 Mbps\""), "memory", "size");
}

#[test]
fn edge_n_minus_2_the_rooms_cannot_meet() {
    // One room of three must hold each region's evening peak; with two
    // machines a room it cannot.
    let t = edge_text().replacen("machines_per_room = 12", "machines_per_room = 2", 1);
    rejects("edge-n-2", t.as_bytes(), Some("2\nutc_offset_hours"), "edge.regions[0].machines_per_room", "with 2 of them down (N-2)");
}

#[test]
fn edge_forecast_longer_than_the_run() {
    let t = edge_text().replace("[edge.central]", "[edge.planner]\nlead_time = \"2 h\"\n\n[edge.central]");
    rejects("edge-forecast", t.as_bytes(), Some("\"2 h\""), "edge.planner.lead_time", "expected a run longer than one day plus the lead time");
}

#[test]
fn edge_scenario_with_a_cdn_section() {
    let t = edge_text() + "\n[stream]\nname = \"s\"\nbitrate = \"1 Mbps\"\nblock = \"1 s\"\nchunk = \"8 KiB\"\n";
    rejects("edge-with-stream", t.as_bytes(), None, "stream", "expected no [stream] in an [edge] scenario");
}

#[test]
fn edge_streams_with_a_share_or_target_out_of_range() {
    let t = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/edge_cascade.toml")).unwrap();
    // Without its sweep, which would replace the base value.
    let t = t.split("\n[sweep]").next().unwrap().to_string();
    let bad = replace_once(&t, "publisher_share = 0.1", "publisher_share = 1.0");
    rejects("edge-publisher-share", bad.as_bytes(), Some("1.0\nsame_region"), "edge.services[0].streams.publisher_share", "expected a share in (0, 1)");
    let bad = replace_once(&t, "same_region_share = 0.8", "same_region_share = -0.2");
    rejects("edge-same-region-share", bad.as_bytes(), Some("-0.2"), "edge.services[0].streams.same_region_share", "expected a share in [0, 1]");
    let bad = replace_once(&t, "pull_streams = 100", "pull_streams = 0");
    rejects("edge-pull-target", bad.as_bytes(), Some("0 }\nmin_pods"), "edge.autoscale.targets.pull_streams", "expected a count of streams per pod above 0");
}

#[test]
fn edge_control_fault_with_an_unknown_region_a_missing_region_or_a_zero_lease() {
    let t = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/edge_control_plane_outage.toml")).unwrap();
    let t = t.split("\n[sweep]").next().unwrap().to_string();
    let bad = replace_once(&t, "region = \"beijing\"\nstart", "region = \"atlantis\"\nstart");
    rejects("edge-control-region", bad.as_bytes(), Some("\"atlantis\""), "edge.control_faults[1].region", "expected the name of an [[edge.regions]] region");
    let bad = replace_once(&t, "kind = \"link\"\nregion = \"beijing\"\n", "kind = \"link\"\n");
    rejects("edge-control-no-region", bad.as_bytes(), Some("\"link\""), "edge.control_faults[1].region", "expected a `region` for kind \"link\"");
    let bad = replace_once(&t, "lease_period = \"10 s\"", "lease_period = \"0 s\"");
    rejects("edge-control-lease", bad.as_bytes(), Some("\"0 s\""), "edge.control.lease_period", "expected a value above zero");
    let bad = replace_once(&t, "kind = \"centre\"", "kind = \"center\"");
    rejects("edge-control-kind", bad.as_bytes(), Some("\"center\""), "edge.control_faults[0].kind", "expected one of \"centre\", \"link\"");
}

#[test]
fn background_load_without_a_topology_or_with_a_share_of_one() {
    let t = quickstart_text().replacen("[network]", "[network]\nbackground = { interconnect = 0.5 }", 1);
    assert!(t.contains("background"), "quickstart has a [network] section");
    rejects("background-no-topology", t.as_bytes(), Some("{ interconnect"), "network.background", "expected network.topology beside it");
    let t = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/backbone_china.toml")).unwrap();
    let t = t.replacen("[network]\n", "[network]\nbackground = { corridor = [0.5, 1.0] }\n", 1);
    rejects("background-share", t.as_bytes(), Some("[0.5, 1.0]"), "network.background.corridor", "expected one share or 24 hourly shares, found 2");
}

// ---- [edge.transport]: issue 15's three cases ------------------------

#[test]
fn transport_fault_naming_an_unknown_region_or_link() {
    let base = crate::transport::small_text();
    let t = replace_once(&base, "from = \"west\"\nto = \"east\"\nkind", "from = \"atlantis\"\nto = \"east\"\nkind");
    rejects("transport-unknown-region", t.as_bytes(), Some("\"atlantis\""), "edge.transport_faults[0].from", "expected the name of a region");
    // west and far are both regions, but no link joins them.
    let t = replace_once(&base, "from = \"west\"\nto = \"east\"\nkind", "from = \"west\"\nto = \"far\"\nkind");
    rejects("transport-unknown-link", t.as_bytes(), Some("\"far\"\nkind"), "edge.transport_faults[0].to", "expected a region with a transport link to \"west\"");
    let t = replace_once(&base, "from = \"west\"\nto = \"east\"\nkind", "group = \"pacific\"\nkind");
    rejects("transport-unknown-group", t.as_bytes(), Some("\"pacific\""), "edge.transport_faults[0].group", "expected a group of transport links");
}

#[test]
fn transport_relay_rule_with_no_candidate_relays() {
    let base = crate::transport::small_text();
    let t = replace_once(&base, "missed_probes = 3\n", "missed_probes = 3\nrelays = []\n");
    rejects("transport-no-relays", t.as_bytes(), Some("[]"), "edge.transport.relays", "expected candidate relays for the relay rule");
    // `far` links to east only: it cannot relay anything.
    let t = replace_once(&base, "missed_probes = 3\n", "missed_probes = 3\nrelays = [\"far\"]\n");
    rejects("transport-useless-relays", t.as_bytes(), Some("[\"far\"]"), "edge.transport.relays", "expected candidate relays for the relay rule");
}

#[test]
fn transport_probing_interval_of_zero() {
    let t = replace_once(&crate::transport::small_text(), "probe_interval = \"1 s\"", "probe_interval = \"0 s\"");
    rejects("transport-zero-probe", t.as_bytes(), Some("\"0 s\""), "edge.transport.probe_interval", "expected a value above zero");
}

#[test]
fn transport_synthetic_network_out_of_bounds_or_beside_a_topology() {
    let base = crate::transport::small_text();
    let t = replace_once(&base, "probe_interval = \"1 s\"", "synthetic = { regions = 3, seed = 7 }\nprobe_interval = \"1 s\"");
    rejects("transport-synthetic-few", t.as_bytes(), Some("3, seed"), "edge.transport.synthetic.regions", "expected 6 to 1000 regions");
    let t = replace_once(&base, "probe_interval = \"1 s\"", "synthetic = { regions = 40, seed = -1 }\nprobe_interval = \"1 s\"");
    rejects("transport-synthetic-seed", t.as_bytes(), Some("-1 }"), "edge.transport.synthetic.seed", "expected a seed of 0 or more");
    let t = replace_once(&base, "probe_interval = \"1 s\"", "topology = \"global\"\nsynthetic = { regions = 40, seed = 7 }\nprobe_interval = \"1 s\"");
    rejects("transport-synthetic-both", t.as_bytes(), Some("{ regions = 40"), "edge.transport.synthetic", "expected `topology` (a bundled network) or `synthetic`");
}

#[test]
fn uplink_copies_out_of_range_or_outside_the_tree() {
    let t = replace_once(&quickstart_text(), "[broadcaster]", "[routing]\nmode = \"tree\"\nuplink_copies = 5\n\n[broadcaster]");
    rejects("uplink-range", t.as_bytes(), Some("5\n\n[broadcaster]"), "routing.uplink_copies", "expected a count from 1 to 4");
    let t = replace_once(&quickstart_text(), "[broadcaster]", "[routing]\nmode = \"pool\"\nuplink_copies = 2\n\n[broadcaster]");
    rejects("uplink-pool", t.as_bytes(), Some("2\n\n[broadcaster]"), "routing.uplink_copies", "expected 1 outside the tree");
}

#[test]
fn link_score_that_rewards_delay() {
    let t = replace_once(&quickstart_text(), "[stream]", "[routing]\nmode = \"pool\"\nscore = { per_delay_ms = 0.2 }\n\n[stream]");
    rejects("score-sign", t.as_bytes(), Some("0.2 }"), "routing.score.per_delay_ms", "expected a finite number at most 0");
}

#[test]
fn stream_selection_with_an_inverted_band_or_no_interval() {
    let base = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/hot_stream_fountain.toml")).unwrap();
    let with = |sel: &str| replace_once(&base, "[sweep]", &format!("[last_hop.selection]\n{sel}\n\n[sweep]"));
    let t = with("interval = \"5 s\"\nenter = \"1 Mbps\"\nleave = \"2 Mbps\"");
    rejects("selection-inverted", t.as_bytes(), Some("\"2 Mbps\""), "last_hop.selection.leave", "expected a leave threshold at most the enter threshold");
    let t = with("interval = \"0 s\"\nenter = \"1 Mbps\"");
    rejects("selection-zero-interval", t.as_bytes(), Some("\"0 s\""), "last_hop.selection.interval", "expected a value above zero");
}
