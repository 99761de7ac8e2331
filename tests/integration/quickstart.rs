//! The quick-start run honours the results contract, and its numbers are
//! the ones the model implies.

use std::path::Path;

use cdnsim_metrics::SUMMARY_COLUMNS;
use cdnsim_metrics::table::read_parquet;
use polars::prelude::*;

use crate::common::*;

fn f64_of(df: &DataFrame, col: &str) -> f64 {
    df.column(col).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().get(0).unwrap()
}

#[test]
fn writes_the_contract_files_and_columns() {
    let dir = temp_dir("qs-contract");
    let run = run_ok(Path::new(QUICKSTART), &dir, &[], &[]);
    assert_eq!(run.parent().unwrap().file_name().unwrap(), "quickstart");

    let summary = read_parquet(&run.join("summary.parquet")).unwrap();
    assert_eq!(summary.height(), 1);
    for c in SUMMARY_COLUMNS {
        assert!(summary.column(c).is_ok(), "summary.parquet lacks {c}");
    }
    let ts = read_parquet(&run.join("timeseries.parquet")).unwrap();
    for c in ["second", "stream", "bytes_idc", "bytes_home", "viewers", "active_home_nodes", "stalls"] {
        assert!(ts.column(c).is_ok(), "timeseries.parquet lacks {c}");
    }
    assert_eq!(ts.height(), 120, "one row per simulated second of the one stream");
    let viewers = read_parquet(&run.join("viewers.parquet")).unwrap();
    for c in ["viewer_id", "startup_ms", "e2e_ms_mean", "stall_ms", "hops", "bytes_idc", "bytes_home", "home_nodes_used", "evictions"] {
        assert!(viewers.column(c).is_ok(), "viewers.parquet lacks {c}");
    }
    assert_eq!(viewers.height() as f64, f64_of(&summary, "viewers"));

    let manifest: serde_json::Value = serde_json::from_slice(&read(&run.join("manifest.json"))).unwrap();
    for k in ["run_id", "seed", "cdnsim_version", "git_commit", "wall_seconds", "events_per_second", "scenario"] {
        assert!(manifest.get(k).is_some(), "manifest.json lacks {k}");
    }
    assert_eq!(manifest["scenario"]["stream"]["bitrate_bps"], 2_000_000, "the resolved scenario, in base units");
    // No temporary folder is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(run.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn numbers_follow_from_the_model() {
    let dir = temp_dir("qs-numbers");
    let run = run_ok(Path::new(QUICKSTART), &dir, &[], &[]);
    let s = read_parquet(&run.join("summary.parquet")).unwrap();

    // Viewers: Poisson arrivals at 5/s for 120 s. Count ~ Poisson(600):
    // sd ~ 24.5, so 5 sd is +-122.
    let viewers = f64_of(&s, "viewers");
    assert!((viewers - 600.0).abs() < 5.0 * 600f64.sqrt(), "viewers {viewers}");

    // Every delivered byte went source -> centre -> edge -> viewer, the
    // only path there is: 3 hops, no waste.
    assert!((f64_of(&s, "mean_hops") - 3.0).abs() < 1e-12);
    assert!((f64_of(&s, "hop_waste") - 1.0).abs() < 1e-12);

    // Without home nodes every byte a viewer gets left an IDC, and internal
    // links carry more on top: amplification is below 1.
    let amp = f64_of(&s, "amplification");
    let (egress, to_viewers, internal) =
        (f64_of(&s, "idc_egress_bytes"), f64_of(&s, "viewer_bytes"), f64_of(&s, "internal_bytes"));
    assert!(amp > 0.0 && amp < 1.0, "amplification {amp}");
    assert!((amp - to_viewers / egress).abs() < 1e-12);
    assert!(internal > 0.0 && egress >= to_viewers + internal * 0.999, "egress covers access + internal bytes");

    // End-to-end latency: a viewer starts at the newest complete block (its
    // capture began 1-2 block durations before the join) and plays it 3 s
    // after joining, so e2e lies in [4 s, 5 s] plus path latency (< 100 ms)
    // unless stalls push it later; quickstart's links are provisioned well
    // above load, so stalls are rare.
    let p50 = f64_of(&s, "e2e_ms_p50");
    assert!((4000.0..5100.0).contains(&p50), "e2e p50 {p50} ms");
    assert!(f64_of(&s, "stall_ratio") < 0.01);
    // First block: the edge holds the newest complete block, so it arrives
    // after one access latency (15 ms) plus serialisation (~1 ms), or a
    // tree round trip (< 150 ms) when the edge had no viewer yet.
    let first_block_p50 = f64_of(&s, "first_block_ms_p50");
    assert!((15.0..150.0).contains(&first_block_p50), "first block p50 {first_block_p50} ms");
    // Startup as the viewer sees it: the first frame plays at the playout
    // delay (3 s), the first block having come long before.
    let (startup_p50, startup_p95) = (f64_of(&s, "startup_ms_p50"), f64_of(&s, "startup_ms_p95"));
    assert!(startup_p50 == 3000.0 && startup_p95 >= 3000.0, "startup p50 {startup_p50}, p95 {startup_p95} ms");
    // Goodput: played blocks' bytes per IDC byte. Below the raw figure
    // (chunks of blocks a viewer left before playing still count there),
    // but not far below on well-provisioned links: a viewer wastes at most
    // the blocks after its last one played, about 2 of ~60 per session.
    let (amp, good) = (f64_of(&s, "amplification"), f64_of(&s, "goodput_amplification"));
    assert!(good <= amp && good > 0.85 * amp, "goodput {good} vs amplification {amp}");
}

#[test]
fn chart_draws_png_and_svg_with_text() {
    let dir = temp_dir("qs-chart");
    let run = run_ok(Path::new(QUICKSTART), &dir, &[], &[]);
    std::fs::remove_dir_all(run.join("charts")).unwrap();
    let o = cdnsim(&["chart", run.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for stem in ["startup_cdf", "e2e_cdf", "bytes_by_source"] {
        let png = read(&run.join("charts").join(format!("{stem}.png")));
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{stem}.png");
        let svg = String::from_utf8(read(&run.join("charts").join(format!("{stem}.svg")))).unwrap();
        assert!(svg.contains("<text"), "{stem}.svg has no text");
    }
    let svg = String::from_utf8(read(&run.join("charts/startup_cdf.svg"))).unwrap();
    assert!(svg.contains("startup latency (ms)"), "axis label with unit");
}
