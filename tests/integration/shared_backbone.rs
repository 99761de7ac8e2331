//! Overlay links share the backbone links they cross (docs/validation.md
//! has the queue itself against M/D/1 and ns-3; this is the world's use
//! of it). On the China backbone with Telecom's Beijing-Guangzhou link cut
//! to 3 Mbps, a 2 Mbps stream goes from the Beijing source to Guangdong
//! over two overlay links, src -> south centre and src -> an edge, both of
//! whose backbone paths are that one link. Each alone fits (2 < 3 Mbps);
//! together they offer 4 Mbps, so the shared link must saturate and drop,
//! which it could not if each overlay link had its own queue. The control
//! run without the second link must not drop there. Both must conserve
//! bytes on every backbone link (in = out + dropped + queued).

use std::path::Path;

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

const SCENARIO: &str = r#"
[run]
name = "shared_backbone"
seed = 1
duration = "60 s"

[network]
topology = "china"

[[nodes]]
name = "src"
idc = "source.beijing"
role = "source"

[[nodes]]
name = "south"
idc = "centre.south.telecom"
role = "centre"
parent = "src"

[[nodes]]
name = "gd-1"
idc = "edge.guangdong.telecom.1"
role = "edge"
parent = "south"

[[links]]
from = "src"
to = "south"

[[links]]
from = "south"
to = "gd-1"

[broadcaster]
region = "beijing"
ingest = "src"
uplink = "20 Mbps"

[stream]
name = "live-1"
bitrate = "2 Mbps"
block = "1 s"
chunk = "16 KiB"

[viewers]
arrivals_per_s = 2.0
initial = 20
watch_time = { distribution = "exponential", mean = "600 s" }
playout_delay = "3 s"

[[viewers.regions]]
region = "guangdong"
weight = 1.0
"#;

const SECOND_EDGE: &str = r#"
[[nodes]]
name = "gd-2"
idc = "edge.guangdong.telecom.2"
role = "edge"
parent = "src"

[[links]]
from = "src"
to = "gd-2"
"#;

fn run(dir: &Path, two: bool) -> std::path::PathBuf {
    run_with(dir, two, "")
}

/// As [`run`], with `extra` after the scenario's text.
fn run_with(dir: &Path, two: bool, extra: &str) -> std::path::PathBuf {
    china_with_a_3_mbps_corridor(dir);
    // The second edge's node goes with the nodes (before [broadcaster]).
    let text = if two { SCENARIO.replacen("[broadcaster]", &format!("{SECOND_EDGE}\n[broadcaster]"), 1) } else { SCENARIO.to_string() };
    let tag = format!("{}{}", if two { "two" } else { "one" }, if extra.is_empty() { "" } else { "-bg" });
    let file = dir.join(format!("{tag}.toml"));
    std::fs::write(&file, text.replacen("[network]\n", &format!("[network]\n{extra}"), 1)).unwrap();
    run_ok(&file, &dir.join(format!("out-{tag}")), &["--no-progress"], &[])
}

#[test]
fn two_overlay_links_congest_the_backbone_link_they_share() {
    let dir = temp_dir("shared-backbone");
    for two in [false, true] {
        let run = run(&dir, two);
        let s = read_parquet(&run.join("summary.parquet")).unwrap();
        let (bytes_in, accounted) = (col(&s, "backbone_bytes_in")[0], col(&s, "backbone_bytes_accounted")[0]);
        assert!(bytes_in > 0.0);
        assert_eq!(bytes_in, accounted, "two = {two}: backbone bytes not conserved");
        let b = read_parquet(&run.join("backbone.parquet")).unwrap();
        let links = strs(&b, "link");
        let (util, drops) = (col(&b, "utilisation"), col(&b, "drops"));
        let busy: Vec<usize> = (0..links.len()).filter(|&i| links[i] == "telecom:beijing-guangdong").collect();
        // The run's charts include the busiest links.
        assert!(run.join("charts/busiest_backbone_links.svg").exists(), "no busiest-links chart");
        assert!(!busy.is_empty(), "the shared link has rows");
        let util_max = busy.iter().map(|&i| util[i]).fold(0.0, f64::max);
        let dropped: f64 = busy.iter().map(|&i| drops[i]).sum();
        if two {
            // 4 Mbps offered to 3 Mbps: saturated seconds, drops.
            assert!(util_max > 0.95, "utilisation max {util_max}");
            assert!(dropped > 0.0 && col(&s, "backbone_drops")[0] == dropped, "drops {dropped}");
        } else {
            // 2 Mbps of 3 (plus block-boundary bunching and resends).
            assert!(util_max < 0.8, "utilisation max {util_max}");
            assert_eq!(dropped, 0.0);
            assert_eq!(col(&s, "backbone_drops")[0], 0.0);
        }
    }
}

#[test]
fn background_load_congests_a_corridor_one_overlay_link_alone_does_not() {
    // One 2 Mbit/s overlay link over the 3 Mbit/s corridor drops nothing
    // (the test above); with half the corridor taken by background
    // traffic all day, 1.5 Mbit/s are left: it saturates and drops.
    let dir = temp_dir("shared-backbone-bg");
    let run = run_with(&dir, false, "background = { corridor = 0.5 }\n");
    let s = read_parquet(&run.join("summary.parquet")).unwrap();
    assert!(col(&s, "backbone_drops")[0] > 0.0, "no drops with half the corridor taken");
    assert_eq!(col(&s, "backbone_bytes_in")[0], col(&s, "backbone_bytes_accounted")[0]);
    let b = read_parquet(&run.join("backbone.parquet")).unwrap();
    let links = strs(&b, "link");
    let util = col(&b, "utilisation");
    // Video bytes accepted in a second over the full capacity: what the
    // background leaves (0.5), plus what the queue took in on top (50 ms at
    // line rate: 0.05) and one chunk in flight at the second's edge
    // (16 KiB: 0.044), so at most 0.6; and near 0.5 while saturated.
    let max = (0..links.len()).filter(|&i| links[i] == "telecom:beijing-guangdong").map(|i| util[i]).fold(0.0, f64::max);
    assert!((0.4..=0.6).contains(&max), "corridor utilisation max {max}");
}
