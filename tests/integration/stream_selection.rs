//! Which streams go over home nodes, decided during the run by the talk's
//! rule (`[last_hop.selection]`): a stream whose audience grows through
//! the enter threshold comes on once, at the decision the closed form of
//! its saving and cost predicts; a stream whose audience hovers at the
//! threshold flaps without a band and does not with one.
//!
//! The world: one city, one edge, one 1 Mbps stream in 1 s blocks of
//! K = 100 symbols of 1250 B (1256 B on the wire), a 5% share (S = 5
//! symbols a node), headroom h = 2, 200 home nodes of 10 Mbps that stay
//! online, all NAT1, and the default traversal matrix's 0.99 for two
//! NAT1s: 1% of connections relayed. Closed form
//! (sim/lasthop/src/selection.rs, `Measure::of_audience`): a node sends
//! c = floor(10e6 / 8 / 1256) = 995 symbols a block, a client needs
//! K + h = 102, so up to V = 204 viewers the nodes fed are
//! n = max(ceil(102 V / 995), ceil(102 / 5)) = 21 and they send all
//! 102 V symbols, floor(102 V / 100) of them relayed; the cost a second is
//! (21 x 5 + floor(1.02 V)) x 1256 B + one feeding edge's 125,000 B,
//! against V x 1 Mbps saved.

use std::path::Path;

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

/// The net saving of V viewers (V <= 204; module docs).
fn net_bps(v: i64) -> i64 {
    assert!(v <= 204);
    let cost_bps = ((21 * 5 + 102 * v / 100) * 1256 + 125_000) * 8;
    v * 1_000_000 - cost_bps
}

fn scenario(name: &str, duration_s: u32, arrivals_per_s: f64, watch_mean: &str, selection: &str) -> String {
    let homes = flat_homes("10 Mbps", "100000000 s");
    format!(
        r#"
[run]
name = "{name}"
seed = 5
duration = "{duration_s} s"

{ONE_EDGE_BEIJING}
[stream]
name = "s"
bitrate = "1 Mbps"
block = "1 s"
chunk = "16 KiB"

[viewers]
arrivals_per_s = {arrivals_per_s}
watch_time = {{ distribution = "exponential", mean = "{watch_mean}" }}
playout_delay = "3 s"
access_latency = "15 ms"
access_loss = 0.0

[[viewers.regions]]
region = "beijing"
weight = 1.0

{homes}
[[home.regions]]
region = "beijing"
isp = "telecom"
count = 200

[last_hop]
fidelity = "model"
symbol = "1250 B"
share = 0.05
loss = 0.0

[last_hop.selection]
{selection}
"#
    )
}

fn summary(run: &Path, column: &str) -> f64 {
    let s = read_parquet(&run.join("summary.parquet")).unwrap();
    col(&s, column)[0]
}

/// Viewers watching at each whole second 1..duration (the decisions'
/// times), from the sessions' join and leave times; the arrivals do not
/// depend on the thresholds (their own random stream), so every run of a
/// world has the same series. Panics if a session starts or ends within a
/// microsecond of a decision (the count there would hang on event order).
fn audience(run: &Path, duration_s: u32) -> Vec<i64> {
    let v = read_parquet(&run.join("viewers.parquet")).unwrap();
    let (join, leave) = (col(&v, "join_ms"), col(&v, "leave_ms"));
    (1..duration_s)
        .map(|t| {
            let t = t as f64 * 1000.0;
            for x in join.iter().chain(&leave) {
                assert!((x - t).abs() > 1e-3, "a session changes at {t} ms, a decision's time: pick another seed");
            }
            join.iter().zip(&leave).filter(|&(&j, &l)| j < t && l > t).count() as i64
        })
        .collect()
}

/// The rule on a series of audiences, one decision a second from 1 s, no
/// dwell: (entries, exits, seconds on to the stop).
fn rule(series: &[i64], enter_bps: i64, leave_bps: i64, duration_s: u32) -> (u64, u64, u64) {
    let (mut on, mut entries, mut exits, mut since, mut on_s) = (false, 0, 0, 0, 0);
    for (i, &v) in series.iter().enumerate() {
        let t = i as u64 + 1;
        if !on && net_bps(v) >= enter_bps {
            (on, since, entries) = (true, t, entries + 1);
        } else if on && net_bps(v) < leave_bps {
            (on, exits, on_s) = (false, exits + 1, on_s + t - since);
        }
    }
    if on {
        on_s += duration_s as u64 - since;
    }
    (entries, exits, on_s)
}

#[test]
fn a_growing_stream_enters_once_at_the_decision_the_closed_form_predicts() {
    // One arrival a second on average, nobody leaves: the audience only
    // grows. Enter at 20 Mbps net: V = 22 costs (105 + 22) x 1256 x 8 +
    // 1,000,000 = 2,276,096 bps, net 19,723,904; V = 23 nets 20,723,904.
    let duration_s = 60;
    let (enter, leave) = (20_000_000, 0);
    assert!(net_bps(22) < enter && net_bps(23) >= enter);
    let sel = format!("interval = \"1 s\"\nenter = \"{enter} bps\"\nleave = \"{leave} bps\"");
    let out = run_text("selection-grow", &scenario("selection-grow", duration_s, 1.0, "100000000 s", &sel));
    let series = audience(&out, duration_s);
    let enter_s = series.iter().position(|&v| v >= 23).expect("the audience reaches 23 viewers") as u64 + 1;
    let (entries, exits, on_s) = (summary(&out, "lasthop_stream_entries"), summary(&out, "lasthop_stream_exits"), summary(&out, "lasthop_stream_on_s"));
    println!("audience {series:?}: predicted entry at {enter_s} s; run: entries {entries}, exits {exits}, on {on_s} s");
    assert_eq!((entries, exits), (1.0, 0.0));
    assert_eq!(on_s, (duration_s as u64 - enter_s) as f64, "entered at {} s, predicted {enter_s} s", duration_s as f64 - on_s);
    // Viewers who joined before the entry keep chunk delivery; those who
    // joined after it are the last hop's clients.
    let v = read_parquet(&out.join("viewers.parquet")).unwrap();
    let after = col(&v, "join_ms").iter().filter(|&&j| j > enter_s as f64 * 1000.0).count() as f64;
    assert_eq!(summary(&out, "lasthop_clients"), after);
}

#[test]
fn without_hysteresis_a_stream_hovering_at_the_threshold_flaps() {
    // Two arrivals a second watching 15 s on average: the audience hovers
    // around 30. One threshold at V = 30, no dwell: every crossing of 30
    // in the series is a change. A band from V = 24 to V = 36: far fewer.
    let duration_s = 300;
    let (mid, low, high) = (net_bps(30), net_bps(24), net_bps(36));
    let flat = format!("interval = \"1 s\"\nenter = \"{mid} bps\"\nleave = \"{mid} bps\"");
    let band = format!("interval = \"1 s\"\nenter = \"{high} bps\"\nleave = \"{low} bps\"");
    let flat_run = run_text("selection-flat", &scenario("selection-flat", duration_s, 2.0, "15 s", &flat));
    let band_run = run_text("selection-band", &scenario("selection-band", duration_s, 2.0, "15 s", &band));
    let series = audience(&flat_run, duration_s);
    assert_eq!(series, audience(&band_run, duration_s), "the arrivals do not depend on the thresholds");
    let got = |out: &Path| {
        let c = |name| summary(out, name) as u64;
        (c("lasthop_stream_entries"), c("lasthop_stream_exits"), summary(out, "lasthop_stream_on_s") as u64)
    };
    let (flat_want, band_want) = (rule(&series, mid, mid, duration_s), rule(&series, high, low, duration_s));
    let (flat_got, band_got) = (got(&flat_run), got(&band_run));
    println!("audience {series:?}\nno band: predicted {flat_want:?}, run {flat_got:?}\nband: predicted {band_want:?}, run {band_got:?}");
    assert_eq!(flat_got, flat_want);
    assert_eq!(band_got, band_want);
    let changes = |t: (u64, u64, u64)| t.0 + t.1;
    assert!(changes(flat_got) >= 10, "the flat rule flaps: {flat_got:?}");
    assert!(changes(flat_got) >= 3 * changes(band_got), "the band damps it: {flat_got:?} against {band_got:?}");
}
