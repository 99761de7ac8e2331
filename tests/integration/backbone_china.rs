//! The tree on the bundled China backbone: tree links take their latency
//! and shared-risk groups from their backbone paths, so an outage of
//! Telecom's jing-han-guang corridor
//! (docs/references.md, Jing-han-guang outage) hits exactly the viewers
//! whose tree path crosses it, and its repair brings them back.

use std::path::Path;

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

const BACKBONE_CHINA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/backbone_china.toml");

#[test]
fn corridor_outage_on_the_china_backbone() {
    let dir = temp_dir("backbone-china");
    let run = run_ok(Path::new(BACKBONE_CHINA), &dir, &[], &[]);

    // The resolved tree links (manifest): which cross the corridor, and
    // their latency from the path.
    let m: serde_json::Value = serde_json::from_slice(&read(&run.join("manifest.json"))).unwrap();
    let sc = &m["scenario"];
    let name = |i: &serde_json::Value| sc["nodes"][i.as_u64().unwrap() as usize]["name"].as_str().unwrap().to_string();
    let mut behind = std::collections::BTreeSet::new();
    for l in sc["links"].as_array().unwrap() {
        let (from, to) = (name(&l["from"]), name(&l["to"]));
        let groups: Vec<&str> = l["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
        let latency_ms = l["latency_ns"].as_u64().unwrap() as f64 / 1e6;
        match (from.as_str(), to.as_str()) {
            // Beijing -> Guangzhou on Telecom: 1,890 km, above the 9.5 ms
            // propagation floor
            // (docs/references.md, Beijing-Guangzhou floor) and within the
            // 30-45 ms same-ISP RTT estimate
            // (docs/references.md, Same-ISP RTT).
            ("src", "south") => {
                assert!(groups.contains(&"telecom.jing-han-guang"));
                assert!((15.0..22.5).contains(&latency_ms), "src -> south {latency_ms} ms");
            }
            ("src", "central") => assert!(groups.contains(&"telecom.jing-han-guang")),
            ("src", "east") => assert!(groups == ["telecom.jing-hu"], "{groups:?}"),
            ("src", "north") => assert!(groups.is_empty()),
            _ => {}
        }
        if groups.contains(&"telecom.jing-han-guang") {
            behind.insert(to);
        }
    }
    // Edges behind the corridor: the children of centres it feeds, and any
    // edge whose own link crosses it.
    let parents: Vec<(String, String)> = sc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["parent"].as_u64().map(|p| (n["name"].as_str().unwrap().to_string(), name(&serde_json::json!(p)))))
        .collect();
    let hit_edge = |e: &str| {
        behind.contains(e) || parents.iter().any(|(c, p)| c == e && behind.contains(p))
    };
    for e in ["gd-1", "gx-1", "hb-1", "hn-1"] {
        assert!(hit_edge(e), "{e} should be behind the corridor");
    }
    for e in ["bj-1", "sh-1", "zj-1"] {
        assert!(!hit_edge(e), "{e} should not be behind the corridor");
    }

    let v = read_parquet(&run.join("viewers.parquet")).unwrap();
    let (edges, join, leave, stall) = (strs(&v, "edge"), col(&v, "join_ms"), col(&v, "leave_ms"), col(&v, "stall_ms"));
    let through: Vec<usize> = (0..edges.len()).filter(|&i| join[i] < 35_000.0 && leave[i] > 75_000.0).collect();
    let hit: Vec<f64> = through.iter().filter(|&&i| hit_edge(&edges[i])).map(|&i| stall[i]).collect();
    let spared: Vec<f64> = through.iter().filter(|&&i| !hit_edge(&edges[i])).map(|&i| stall[i]).collect();
    assert!(hit.len() >= 10 && spared.len() >= 10, "{} {}", hit.len(), spared.len());
    // 30 s without data minus the 3 s playout buffer.
    for s in &hit {
        assert!((20_000.0..31_000.0).contains(s), "viewer behind the corridor stalled {s} ms");
    }
    assert!(spared.iter().sum::<f64>() / (spared.len() as f64) < 500.0);
    // Repaired: viewers joining after 70 s behind the corridor play clean.
    let after: Vec<usize> = (0..edges.len()).filter(|&i| hit_edge(&edges[i]) && join[i] > 71_000.0 && join[i] < 110_000.0).collect();
    assert!(after.len() >= 10);
    assert!(after.iter().all(|&i| stall[i] == 0.0));
}
