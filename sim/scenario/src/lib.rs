//! Scenario files: parse (TOML into raw structs, unknown fields refused,
//! values with units) and resolve (references checked, defaults filled,
//! everything in base units) into a [`Scenario`] the world runs.
//!
//! Module map:
//! - [`units`]: `"50 ms"`, `"10 Mbps"`, `"1 KiB"` into ns, bit/s, bytes.
//! - `raw`: the file as written (serde, `deny_unknown_fields`, spans kept).
//! - `ctx`: where an error is reported (file, `line:col`, field) and the
//!   value checks shared by every resolver below; it imports none of them.
//! - `loss`: a link's `loss = ...`, as scenario and topology files write it.
//! - `resolve`: cross-checks and defaults; the only place that knows both.
//!   A section with rules of its own resolves in a module under
//!   `resolve/`, declared there: `resolve/home.rs`, the `[home]` section,
//!   validated by `cdnsim_net::home`'s own constructors.
//! - `backbone`: `[network] topology`: IDC nodes and the links between
//!   them taken from a bundled backbone.
//! - [`edge`]: the `[edge]` section (the RTC cloud on edge containers):
//!   its resolution, the N-k check, the peak demand by Little's law.
//! - [`model`]: the resolved scenario.
//! - [`error`]: [`ScenarioError`], always with `file:line:col` and field.
//! - [`topology`]: backbone topology files into [`topology::TopologyData`].
//! - [`sweep`]: `[sweep]` tables: expansion into points, run ids, seeds.
//! - [`schema`]: JSON Schemas of both file formats, from the raw structs.
//! - `spanned`: a value and its position; the raw structs' field type.

mod backbone;
mod ctx;
pub mod edge;
mod edge_transport;
pub mod error;
mod loss;
pub mod model;
mod raw;
mod resolve;
pub mod schema;
mod spanned;
pub mod sweep;
pub mod topology;
pub mod units;

pub use error::ScenarioError;
pub use model::*;
pub use resolve::{DEFAULT_MAX_PENDING_EVENTS, MAX_BROADCASTERS, MAX_CHUNKS_PER_BLOCK};

use std::path::Path;

/// The id of run `replication` of `scenario`: a stable hash of the resolved
/// scenario (seed included) and the replication number, as 16 hex digits.
/// Same inputs, same id, on every machine; any change to a parameter gives
/// a new id, so results of different parameters never share a folder.
pub fn run_id(scenario: &Scenario, replication: u64) -> String {
    let mut text = serde_json::to_string(scenario).expect("a resolved scenario serialises");
    text.push_str(&format!("#replication={replication}"));
    format!("{:016x}", cdnsim_engine::stable_hash64(text.as_bytes()))
}

/// Reads, parses and resolves the scenario at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let (file, text) = error::read_text(path)?;
    parse(&file, &text)
}

/// Parses and resolves scenario `text`; `file` labels error messages.
pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let raw: raw::RawScenario = error::deserialize_located(file, text)?;
    resolve::resolve(file, text, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICKSTART: &str = include_str!("../../../scenarios/quickstart.toml");

    fn with(from: &str, to: &str) -> Result<Scenario, ScenarioError> {
        assert_eq!(QUICKSTART.matches(from).count(), 1, "{from}");
        parse("q.toml", &QUICKSTART.replacen(from, to, 1))
    }

    fn err(from: &str, to: &str) -> String {
        with(from, to).unwrap_err().to_string()
    }

    /// Run ids hash the resolved scenario's JSON, so a CDN scenario's id
    /// must not move when a model is added beside it (`edge` is skipped
    /// when `None`). The value is `cdnsim plan scenarios/quickstart.toml`
    /// on main before the `[edge]` section was parsed (commit 19ce3af):
    /// if this fails, every stored CDN result lost its folder.
    #[test]
    fn quickstart_run_id_is_unchanged_by_the_edge_model() {
        let s = parse("q.toml", QUICKSTART).unwrap();
        assert!(s.edge.is_none());
        assert_eq!(run_id(&s, 0), "146832e38da7c992");
    }

    #[test]
    fn quickstart_resolves() {
        let s = parse("q.toml", QUICKSTART).unwrap();
        assert_eq!((s.regions.len(), s.nodes.len(), s.links.len()), (8, 13, 12));
        assert_eq!(s.stream.chunks_per_block(), 16);
        assert_eq!(s.nodes[5].parent, Some(1));
    }

    #[test]
    fn last_hop_resolves_and_bad_values_are_located() {
        const FOUNTAIN: &str = include_str!("../../../scenarios/hot_stream_fountain.toml");
        let text = FOUNTAIN.split("\n[sweep]").next().unwrap();
        let s = parse("f.toml", text).unwrap();
        let l = s.last_hop.as_ref().unwrap();
        // 1 s of 1 Mbps in 1250 B symbols; 5% of K; slots keep the layout
        // within the 16 K id span the decode table was calibrated on.
        assert_eq!((l.k, l.symbols_per_node, l.fidelity), (100, 5, Fidelity::Model));
        assert!(l.k as u32 * 2 + l.slots * l.symbols_per_node <= resolve::LAST_HOP_ESI_SPAN);
        let bad = |from: &str, to: &str| {
            assert_eq!(text.matches(from).count(), 1, "{from}");
            parse("f.toml", &text.replacen(from, to, 1)).unwrap_err().to_string()
        };
        let e = bad("fidelity = \"model\"", "fidelity = \"exact\"");
        assert!(e.starts_with("f.toml:") && e.contains("last_hop.fidelity") && e.contains("structural"), "{e}");
        let e = bad("share = 0.05", "share = 1.5");
        assert!(e.contains("last_hop.share") && e.contains("(0, 1]"), "{e}");
        let e = bad("symbol = \"1250 B\"", "symbol = \"1 B\"");
        assert!(e.contains("last_hop.symbol"), "{e}");
        // Found by cdnsim-fuzz: K above half the ESI span underflowed.
        let e = bad("symbol = \"1250 B\"", "symbol = \"7 B\"");
        assert!(e.contains("last_hop.symbol") && e.contains("at most 8192 source symbols"), "{e}");
        let e = bad("candidates = 2.0", "candidates = 0.5");
        assert!(e.contains("last_hop.candidates"), "{e}");
        // The last hop runs on home nodes.
        let no_home = QUICKSTART.to_string() + "\n[last_hop]\nshare = 0.1\n";
        let e = parse("q.toml", &no_home).unwrap_err().to_string();
        assert!(e.contains("last_hop") && e.contains("[home]"), "{e}");
    }

    #[test]
    fn stream_selection_resolves_and_is_absent_from_the_resolved_scenario_without_it() {
        const FOUNTAIN: &str = include_str!("../../../scenarios/hot_stream_fountain.toml");
        let text = FOUNTAIN.split("\n[sweep]").next().unwrap();
        let without = parse("f.toml", text).unwrap();
        assert!(without.last_hop.as_ref().unwrap().selection.is_none());
        assert!(!serde_json::to_string(&without).unwrap().contains("selection"), "absent: run ids stay as they were");
        let sel = |body: &str| parse("f.toml", &format!("{text}\n[last_hop.selection]\n{body}\n"));
        let s = sel("interval = \"5 s\"\nenter = \"10 Mbps\"").unwrap();
        let got = s.last_hop.unwrap().selection.unwrap();
        // leave defaults to enter (no band), the dwell to none.
        assert_eq!((got.interval_ns, got.enter_bps, got.leave_bps, got.min_dwell_ns), (5_000_000_000, 10_000_000, 10_000_000, 0));
        let e = sel("interval = \"5 s\"\nenter = \"1 Mbps\"\nleave = \"2 Mbps\"").unwrap_err().to_string();
        assert!(e.contains("last_hop.selection.leave") && e.contains("at most the enter threshold"), "{e}");
        let e = sel("interval = \"0 s\"\nenter = \"1 Mbps\"").unwrap_err().to_string();
        assert!(e.contains("last_hop.selection.interval"), "{e}");
        let e = sel("interval = \"1 s\"").unwrap_err().to_string();
        assert!(e.contains("enter"), "{e}");
    }

    #[test]
    fn routing_control_resolves_checks_its_bounds_and_is_absent_without_it() {
        let without = parse("q.toml", QUICKSTART).unwrap();
        assert!(without.routing.control.is_none());
        assert!(!serde_json::to_string(&without).unwrap().contains("timeout_max"), "absent: run ids stay as they were");
        let ctl = |body: &str| with("[broadcaster]", &format!("[routing]\nmode = \"tree\"\n\n[routing.control]\n{body}\n\n[broadcaster]"));
        let got = ctl("max_retries = 2").unwrap().routing.control.unwrap();
        // Fields left out keep the routing crate's defaults (10 ms, 8 s).
        assert_eq!((got.first_timeout_min_ns, got.timeout_max_ns, got.max_retries), (10_000_000, 8_000_000_000, 2));
        let got = ctl("first_timeout_min = \"50 ms\"\ntimeout_max = \"2 s\"").unwrap().routing.control.unwrap();
        assert_eq!((got.first_timeout_min_ns, got.timeout_max_ns, got.max_retries), (50_000_000, 2_000_000_000, 4));
        // A cap below the default floor lowers the floor with it.
        assert_eq!(ctl("timeout_max = \"5 ms\"").unwrap().routing.control.unwrap().first_timeout_min_ns, 5_000_000);
        let e = ctl("first_timeout_min = \"3 s\"\ntimeout_max = \"2 s\"").unwrap_err().to_string();
        assert!(e.contains("routing.control.first_timeout_min") && e.contains("at most timeout_max"), "{e}");
        let e = ctl("first_timeout_min = \"0 s\"").unwrap_err().to_string();
        assert!(e.contains("routing.control.first_timeout_min") && e.contains("above zero"), "{e}");
        let e = ctl("timeout_max = \"2 h\"").unwrap_err().to_string();
        assert!(e.contains("routing.control.timeout_max") && e.contains("at most 1 h"), "{e}");
        let e = ctl("max_retries = 17").unwrap_err().to_string();
        assert!(e.contains("routing.control.max_retries") && e.contains("from 0 to 16"), "{e}");
        let e = ctl("retries = 3").unwrap_err().to_string();
        assert!(e.contains("retries"), "{e}");
    }

    #[test]
    fn gilbert_elliott_loss_parses() {
        let s = with(
            "loss = 0.002",
            "loss = { model = \"gilbert-elliott\", p_good_to_bad = 0.01, p_bad_to_good = 0.2 }",
        )
        .unwrap();
        let ge = LinkLoss::GilbertElliott { p_good_to_bad: 0.01, p_bad_to_good: 0.2, loss_good: 0.0, loss_bad: 1.0 };
        assert_eq!(s.links[11].loss, ge);
        let e = err("loss = 0.002", "loss = { model = \"gilbert-elliott\", p_good_to_bad = 0.01, p_bad_to_good = 0.0 }");
        assert!(e.contains("links[11].loss") && e.contains("p_bad_to_good"), "{e}");
        let e = err("loss = 0.002", "loss = { model = \"markov\", p_good_to_bad = 0.01, p_bad_to_good = 0.2 }");
        assert!(e.contains("gilbert-elliott"), "{e}");
    }

    #[test]
    fn faults_name_a_group_and_a_window() {
        let grouped = QUICKSTART.replacen("loss = 0.002", "loss = 0.002\ngroups = [\"west\"]", 1);
        let fault = |body: &str| grouped.replacen("[broadcaster]", &format!("[[faults]]\n{body}\n[broadcaster]"), 1);
        let ok = parse("q.toml", &fault("group = \"west\"\nkind = \"degrade\"\nstart = \"1 s\"\nend = \"2 s\"\nextra_latency = \"30 ms\"")).unwrap();
        assert_eq!(ok.faults[0].links, vec![11]);
        assert_eq!(ok.faults[0].kind, FaultKind::Degrade { extra_loss: 0.0, extra_latency_ns: 30_000_000 });
        let e = parse("q.toml", &fault("group = \"east\"\nkind = \"outage\"\nstart = \"1 s\"\nend = \"2 s\"")).unwrap_err().to_string();
        assert!(e.contains("faults[0].group") && e.contains("(west)"), "{e}");
        let e = parse("q.toml", &fault("group = \"west\"\nkind = \"outage\"\nstart = \"5 s\"\nend = \"2 s\"")).unwrap_err().to_string();
        assert!(e.contains("faults[0].end"), "{e}");
        let e = parse("q.toml", &fault("group = \"west\"\nkind = \"outage\"\nstart = \"1 s\"\nend = \"2 s\"\nextra_loss = 0.1")).unwrap_err().to_string();
        assert!(e.contains("faults[0].extra_loss"), "{e}");
    }

    #[test]
    fn topology_nodes_and_links_are_checked() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/backbone_china.toml");
        let text = std::fs::read_to_string(dir).unwrap();
        let ok = parse(dir, &text).unwrap();
        assert_eq!(ok.topology.as_deref(), Some("china"));
        assert_eq!(ok.regions.len(), 31, "the provinces become regions");
        let south = ok.links.iter().find(|l| ok.nodes[l.to].name == "south").unwrap();
        assert!(south.groups.iter().any(|g| g == "telecom.jing-han-guang"));

        let bad = |from: &str, to: &str| parse(dir, &text.replacen(from, to, 1)).unwrap_err().to_string();
        let e = bad("idc = \"edge.guangxi.telecom.1\"", "idc = \"edge.guangxi.telecom.99\"");
        assert!(e.contains("nodes[11].idc") && e.contains("expected an IDC of topology"), "{e}");
        let e = bad("topology = \"china\"", "topology = \"atlantis\"");
        assert!(e.contains("network.topology") && e.contains("topologies/atlantis.toml"), "{e}");
        let e = bad("topology = \"china\"\n", "");
        assert!(e.contains("nodes[0].idc") && e.contains("[network] topology"), "{e}");
        // A link to a node that is not a topology IDC needs its bandwidth.
        let plain = text.replacen(
            "[[nodes]]\nname = \"gx-1\"\nidc = \"edge.guangxi.telecom.1\"",
            "[[nodes]]\nname = \"gx-1\"\nregion = \"guangxi\"\negress = \"1 Gbps\"",
            1,
        );
        let e = parse(dir, &plain).unwrap_err().to_string();
        assert!(e.contains("links[10].bandwidth"), "{e}");
    }

    #[test]
    fn overlay_and_broadcasters_resolve() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/tree_vs_pool_vs_mesh.toml");
        let text = std::fs::read_to_string(file).unwrap();
        // One point of the file's sweep over routing.mode: the file as written.
        let text = text[..text.find("\n[sweep]").unwrap()].to_string();
        let s = parse(file, &text).unwrap();
        let count = |r: Role| s.nodes.iter().filter(|n| n.role == r).count();
        assert_eq!((count(Role::Source), count(Role::Centre), count(Role::Edge)), (3, 21, 93));
        let root = s.nodes.iter().position(|n| n.name == "source.beijing").unwrap();
        assert!(s.nodes.iter().filter(|n| n.role == Role::Centre).all(|n| n.parent == Some(root)));
        let gd = s.nodes.iter().find(|n| n.name == "edge.guangdong.unicom.1").unwrap();
        assert_eq!(s.nodes[gd.parent.unwrap()].name, "centre.south.unicom");
        assert_eq!((gd.area.as_str(), gd.isps.as_slice()), ("south", &["unicom".to_string()][..]));
        assert_eq!(s.nodes[root].isps.len(), 5, "a BGP source is on every ISP, small ones included");
        // Edges of one province are linked with each other; a link between
        // ISPs crosses an interconnect, one inside an ISP does not.
        let link = |a: &str, b: &str| s.links.iter().find(|l| {
            let (x, y) = (&s.nodes[l.from].name, &s.nodes[l.to].name);
            (x == a && y == b) || (x == b && y == a)
        });
        assert!(link("edge.guangdong.unicom.1", "edge.guangdong.telecom.1").unwrap().interconnect);
        assert!(!link("edge.guangdong.unicom.1", "centre.south.unicom").unwrap().interconnect);
        assert!(link("edge.guangdong.unicom.1", "edge.hunan.unicom.1").is_none());
        assert_eq!((s.broadcasters.count, s.broadcasters.ingest), (300, None));
        assert_eq!(s.routing.mode, Mode::Mesh);

        let e = parse(file, &text.replacen("mode = \"mesh\"", "mode = \"star\"", 1)).unwrap_err().to_string();
        assert!(e.contains("routing.mode") && e.contains("\"pool\""), "{e}");
        let e = parse(file, &text.replacen("root = \"source.beijing\"", "root = \"centre.south.unicom\"", 1)).unwrap_err().to_string();
        assert!(e.contains("overlay.root") && e.contains("source.shanghai"), "{e}");
        let e = parse(file, &text.replacen("zipf = 0.9", "zipf = -1.0", 1)).unwrap_err().to_string();
        assert!(e.contains("broadcasters.zipf"), "{e}");
    }

    /// The small ISPs have no regional centres: their edges hang from the
    /// multi-line root, which has a line into them, so the mesh reaches
    /// them through it without an interconnect.
    #[test]
    fn overlay_takes_small_isp_edges_under_the_multi_line_root() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/tree_vs_pool_vs_mesh.toml");
        let text = std::fs::read_to_string(file).unwrap();
        let text = text[..text.find("\n[sweep]").unwrap()].to_string();
        let all = "isps = [\"telecom\", \"unicom\", \"mobile\", \"drpeng\", \"cernet\"]";
        let s = parse(file, &text.replacen("isps = [\"telecom\", \"unicom\", \"mobile\"]", all, 1)).unwrap();
        let root = s.nodes.iter().position(|n| n.name == "source.beijing").unwrap();
        let small: Vec<&Node> = s.nodes.iter().filter(|n| n.isps == ["drpeng"] || n.isps == ["cernet"]).collect();
        // One edge per (province, ISP): Dr. Peng in 6 provinces, CERNET in 8.
        assert_eq!(small.len(), 14);
        for n in small {
            assert_eq!((n.role, n.parent), (Role::Edge, Some(root)), "{}", n.name);
            let i = s.nodes.iter().position(|x| x.name == n.name).unwrap();
            let up = s.links.iter().find(|l| (l.from.min(l.to), l.from.max(l.to)) == (i.min(root), i.max(root)));
            assert!(!up.expect("a tree link").interconnect, "{}: inside its own ISP", n.name);
        }
    }

    #[test]
    fn hot_redundancy_parses_with_located_errors() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/tree_vs_pool_vs_mesh.toml");
        let text = std::fs::read_to_string(file).unwrap();
        let text = text[..text.find("\n[sweep]").unwrap()].to_string();
        assert_eq!(parse(file, &text).unwrap().routing.hot_redundancy, Redundancy::DisjointPaths);
        let line = text[..text.find("hot_viewers = 100").unwrap()].matches('\n').count() + 2;
        let set = |v: &str| parse(file, &text.replacen("hot_viewers = 100", &format!("hot_viewers = 100\nhot_redundancy = {v}"), 1));
        assert_eq!(set("\"disjoint-paths\"").unwrap().routing.hot_redundancy, Redundancy::DisjointPaths);
        assert_eq!(set("{ fec = 0.2 }").unwrap().routing.hot_redundancy, Redundancy::Fec { overhead: 0.2 });
        for (value, field) in [
            ("{ fec = 0.0 }", "routing.hot_redundancy.fec"),
            ("{ fec = 11.0 }", "routing.hot_redundancy.fec"),
            ("\"fec\"", "routing.hot_redundancy"),
            ("{ fek = 0.2 }", "routing.hot_redundancy"),
            ("3", "routing.hot_redundancy"),
        ] {
            let e = set(value).unwrap_err().to_string();
            assert!(e.contains(&format!(":{line}:")) && e.contains(field), "{value}: {e}");
        }
    }
}
