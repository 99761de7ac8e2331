//! Per-run charts of the control plane (issue 15, item 6): a run with
//! `[edge.control]` charts pods by state, sessions (edge, serverless,
//! turned away, filled by serverless) and list-watch bytes per second by
//! scheme, with its control faults shaded; each chart's points (its
//! `.csv`) equal the `edge_series.parquet` columns it plots. A run without
//! `[edge.control]` has none of them.

use std::path::{Path, PathBuf};

use cdnsim_metrics::read_parquet;

use crate::common::*;

const STEMS: [&str; 3] = ["control_pods", "control_sessions", "control_bytes"];

/// (series label, points) of a chart's CSV, in file order.
fn chart_points(path: &Path) -> Vec<(String, Vec<(f64, f64)>)> {
    let text = String::from_utf8(read(path)).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("series,x,y"));
    let mut out: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for l in lines {
        let (rest, y) = l.rsplit_once(',').unwrap();
        let (label, x) = rest.rsplit_once(',').unwrap();
        let label = label.trim_matches('"').replace("\"\"", "\"");
        let p = (x.parse().unwrap(), y.parse().unwrap());
        match out.last_mut() {
            Some((l, pts)) if *l == label => pts.push(p),
            _ => out.push((label, vec![p])),
        }
    }
    out
}

/// The run of the bundled outage scenario without autonomy (beijing's
/// pods evicted, sessions sent to serverless).
fn outage_run(out: &Path) -> PathBuf {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/edge_control_plane_outage.toml");
    run_ok(&file, out, &["--no-progress"], &[]);
    let dir = out.join("edge_control_plane_outage");
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("manifest.json").exists()).collect();
    runs.sort();
    runs.into_iter()
        .find(|r| String::from_utf8(read(&r.join("manifest.json"))).unwrap().contains("\"edge.control.autonomy\": \"false\""))
        .expect("the run without autonomy")
}

#[test]
fn control_charts_plot_the_parquet_columns_with_the_faults_shaded() {
    let dir = temp_dir("control-charts");
    let run = outage_run(&dir.join("out"));
    // A sweep draws only group charts; `cdnsim chart` draws the run's.
    let o = cdnsim(&["chart", run.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let charts = run.join("charts");
    for stem in STEMS {
        let png = read(&charts.join(format!("{stem}.png")));
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{stem}.png");
        let svg = String::from_utf8(read(&charts.join(format!("{stem}.svg")))).unwrap();
        // The scenario's two faults, as legend entries of the shading.
        for band in ["centre down", "beijing cut off"] {
            assert!(svg.contains(&format!(">\n{band}\n</text>")), "{stem}.svg lacks the band {band:?}");
        }
    }

    let s = read_parquet(&run.join("edge_series.parquet")).unwrap();
    let hours: Vec<f64> = col(&s, "second").iter().map(|x| x / 3600.0).collect();
    let sum = |cols: &[&str]| -> Vec<f64> { (0..s.height()).map(|i| cols.iter().map(|c| col(&s, c)[i]).sum()).collect() };
    let expect = |label: &str, ys: Vec<f64>| (label.to_string(), hours.iter().copied().zip(ys).collect::<Vec<_>>());

    let pods = chart_points(&charts.join("control_pods.csv"));
    let want: Vec<_> = ["initialising", "allocated", "tombstone"].iter().map(|k| expect(&format!("pods {k}"), col(&s, &format!("pods_{k}")))).collect();
    assert_eq!(pods, want);

    let sessions = chart_points(&charts.join("control_sessions.csv"));
    let want = vec![
        expect("live on edge pods", sum(&["sessions_room", "sessions_region", "sessions_central"])),
        expect("live on serverless", col(&s, "sessions_serverless")),
        expect("turned away by the edges per sample (capacity lost)", sum(&["placed_serverless", "rejected"])),
        expect("filled by serverless per sample", col(&s, "placed_serverless")),
    ];
    assert_eq!(sessions, want);
    // Without autonomy the evicted pods' arrivals went to serverless.
    assert!(sessions[3].1.iter().any(|p| p.1 > 0.0));

    // Bytes per second: each sample's bytes over the 60 s sample interval
    // (the scenario's). The reductions in the labels are the closed forms
    // of edge.rs's test: 2 watchers a node (node reuse halves), 48
    // machines in 2 node pools (one copy per pool: 1/48 of all), filtered
    // to the pod's pool (1/2 of each).
    let bytes = chart_points(&charts.join("control_bytes.csv"));
    let labels = [
        "all".to_string(),
        "node_reuse (50.0% less than all)".to_string(),
        format!("pool_shared ({:.1}% less than all)", 100.0 * (1.0 - 1.0 / 48.0)),
        "filtered (75.0% less than all)".to_string(),
        format!("filtered_shared ({:.1}% less than all)", 100.0 * (1.0 - 1.0 / 96.0)),
    ];
    let schemes = ["all", "node_reuse", "pool_shared", "filtered", "filtered_shared"];
    let want: Vec<_> = labels.iter().zip(schemes).map(|(l, k)| expect(l, col(&s, &format!("control_bytes_{k}")).iter().map(|b| b / 60.0).collect())).collect();
    assert_eq!(bytes, want);
}

#[test]
fn a_run_without_edge_control_has_no_control_charts() {
    let dir = temp_dir("control-charts-none");
    let file = dir.join("transport_small.toml");
    let text = crate::transport::small_text();
    assert!(!text.contains("[edge.control]") && !text.contains("control_faults"));
    std::fs::write(&file, text).unwrap();
    let run = run_ok(&file, &dir.join("out"), &[], &[]);
    let charts: Vec<String> = std::fs::read_dir(run.join("charts")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(charts.iter().any(|c| c == "pods_by_state.svg"), "the run's other charts: {charts:?}");
    assert!(!charts.iter().any(|c| c.starts_with("control_")), "control charts without [edge.control]: {charts:?}");
}
