//! The fountain-coded last hop in whole runs: amplification against its
//! closed form, byte conservation, decoding before playing, and how churn
//! moves stalls and amplification.

use std::path::Path;

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

/// A minimal world for the last hop: one city, a source and an edge, one
/// 1 Mbps stream cut into K = 100 symbols of 1250 B per 1 s block, and
/// `nodes` identical home nodes of `upload` that never churn (unless
/// `on_mean` says how long they stay), all NAT1.
pub(crate) fn scenario(name: &str, share: f64, nodes: u32, upload: &str, arrivals_per_s: f64, duration_s: u32, on_mean: &str, loss: f64) -> String {
    let homes = flat_homes(upload, on_mean);
    format!(
        r#"
[run]
name = "{name}"
seed = 3
duration = "{duration_s} s"

{ONE_EDGE_BEIJING}
[stream]
name = "hot"
bitrate = "1 Mbps"
block = "1 s"
chunk = "16 KiB"

[viewers]
arrivals_per_s = {arrivals_per_s}
watch_time = {{ distribution = "exponential", mean = "100000 s" }}
playout_delay = "3 s"
access_latency = "15 ms"
access_loss = {loss}

[[viewers.regions]]
region = "beijing"
weight = 1.0

{homes}
[[home.regions]]
region = "beijing"
isp = "telecom"
count = {nodes}

[last_hop]
fidelity = "model"
symbol = "1250 B"
share = {share}
loss = {loss}
"#
    )
}

fn summary(run: &Path, column: &str) -> f64 {
    let s = read_parquet(&run.join("summary.parquet")).unwrap();
    col(&s, column)[0]
}

/// Home bytes that reached viewers / shares sent to home nodes, over the
/// seconds from `from_s` on (saturated steady state; no loss, so what
/// arrives is what was uploaded).
fn steady_amplification(run: &Path, from_s: f64) -> f64 {
    let t = read_parquet(&run.join("timeseries.parquet")).unwrap();
    let (second, home, fed) = (col(&t, "second"), col(&t, "bytes_home"), col(&t, "bytes_to_homes"));
    let (mut up, mut down) = (0.0, 0.0);
    for i in 0..second.len() {
        if second[i] >= from_s {
            up += home[i];
            down += fed[i];
        }
    }
    up / down
}

/// Closed form of a saturated home node: it uploads what its capacity
/// sends in a block, floor(C x 1 s / 8 / 1256 B) symbols (1250 B + the
/// 6-byte header), and downloads its share, S = share x K symbols
/// (docs/references.md, Amplification closed form).
fn predicted(upload_bps: f64, symbols_per_node: f64) -> f64 {
    (upload_bps / 8.0 / 1256.0).floor() / symbols_per_node
}

#[test]
fn saturated_home_nodes_reach_the_closed_form_amplification() {
    // Several shares; enough viewers that the nodes' capacity (not the
    // audience) limits what they upload: viewers x ~103 symbols per block
    // exceed nodes x 995 well before the measured window.
    for (share, nodes, arrivals) in [(0.02, 60, 40.0), (0.05, 40, 30.0), (0.1, 30, 25.0)] {
        let name = format!("lh-ideal-{}", (share * 100.0) as u32);
        let r = run_text(&name, &scenario(&name, share, nodes, "10 Mbps", arrivals, 40, "100000 h", 0.0));
        let s = (share * 100.0_f64).round();
        let expected = predicted(10e6, s);
        let got = steady_amplification(&r, 25.0);
        eprintln!("share {share}: steady {got}, closed form {expected}, home {}", summary(&r, "home_amplification"));
        assert!((got / expected - 1.0).abs() < 0.02, "share {share}: amplification {got}, closed form {expected}; run {}", r.display());
        // Per node and for all home nodes together, over the whole run
        // (which includes the ramp-up), it cannot exceed the closed form.
        let home = summary(&r, "home_amplification");
        assert!(home <= expected * 1.001, "share {share}: home amplification {home} above {expected}");
        assert_eq!(summary(&r, "decode_failures") as u64 <= summary(&r, "blocks_decoded") as u64 / 100, true);
    }
}

#[test]
fn one_mbps_stream_on_ten_mbps_nodes_reaches_a_thousandfold() {
    // The issue's example, after the talk's best case
    // (docs/references.md, Ideal amplification): a 1% share (one symbol of
    // K = 100 per block) of a 1 Mbps stream on 10 Mbps nodes: 10 Mbps /
    // 10 kbps = 1000x of payload, 995x counting symbol headers. A client
    // needs ~103 nodes.
    let name = "lh-thousand";
    let r = run_text(name, &scenario(name, 0.01, 110, "10 Mbps", 100.0, 25, "100000 h", 0.0));
    let expected = predicted(10e6, 1.0);
    assert!(expected > 990.0);
    let got = steady_amplification(&r, 17.0);
    eprintln!("thousand: steady {got}, closed form {expected}");
    assert!((got / expected - 1.0).abs() < 0.02, "amplification {got}, closed form {expected}; run {}", r.display());
}

#[test]
fn bytes_are_conserved_and_no_viewer_plays_an_undecoded_block() {
    // With loss and churn: every symbol a home node sent arrived, was lost
    // or was still in flight at the stop.
    let name = "lh-conserve";
    let r = run_text(name, &scenario(name, 0.05, 80, "10 Mbps", 20.0, 30, "60 s", 0.02));
    let sent = summary(&r, "home_symbols_sent");
    assert!(sent > 0.0);
    assert_eq!(sent, summary(&r, "home_symbols_accounted"));
    let h = read_parquet(&r.join("home_nodes.parquet")).unwrap();
    let (s, a, l, f) = (col(&h, "symbols_sent"), col(&h, "symbols_arrived"), col(&h, "symbols_lost"), col(&h, "symbols_in_flight"));
    for i in 0..s.len() {
        assert_eq!(s[i], a[i] + l[i] + f[i], "home node {i}");
    }
    // Lost symbols follow the configured 2% (binomial, 4 sd).
    let (lost, total): (f64, f64) = (l.iter().sum(), a.iter().sum::<f64>() + l.iter().sum::<f64>());
    let sd = (total * 0.02 * 0.98).sqrt();
    assert!((lost - 0.02 * total).abs() < 4.0 * sd, "lost {lost} of {total}");
    // Churn evicts nodes (60 s sessions over 30 s).
    assert!(summary(&r, "evictions") > 0.0);
    // Per viewer: home bytes come in whole symbols (1250 B + the 6-byte
    // header), and what all viewers got from home nodes is what the nodes'
    // symbols that arrived carried.
    let v = read_parquet(&r.join("viewers.parquet")).unwrap();
    let bytes_home = col(&v, "bytes_home");
    for (i, b) in bytes_home.iter().enumerate() {
        assert_eq!(b % 1256.0, 0.0, "viewer {i}: {b} home bytes, not whole symbols");
    }
    let arrived: f64 = a.iter().sum();
    assert_eq!(bytes_home.iter().sum::<f64>(), arrived * 1256.0, "viewers' home bytes against the symbols that arrived");
    // A block plays only once decoded: played blocks never exceed decoded
    // ones, viewer by viewer as in total.
    assert!(summary(&r, "blocks_played") <= summary(&r, "blocks_decoded"));
}

#[test]
fn more_churn_means_more_stalls_and_less_amplification() {
    // Mean online session 30 min, 2 min, 20 s (off 10 s). The edge server
    // is small (100 Mbps for up to 600 viewers of 1 Mbps, against 600 Mbps of home upload), so it cannot
    // absorb what churning home nodes fail to deliver. Each step is a large
    // change in churn, so the orderings are not within noise.
    let mut amps = Vec::new();
    let mut evictions = Vec::new();
    let mut repairs = Vec::new();
    let mut stalls = Vec::new();
    for (i, on) in ["30 min", "2 min", "20 s"].iter().enumerate() {
        let name = format!("lh-churn-{i}");
        let text = scenario(&name, 0.05, 60, "10 Mbps", 15.0, 40, on, 0.01).replace("egress = \"40 Gbps\"", "egress = \"100 Mbps\"");
        let r = run_text(&name, &text);
        amps.push(summary(&r, "amplification"));
        evictions.push(summary(&r, "evictions"));
        repairs.push(summary(&r, "server_repairs"));
        stalls.push(summary(&r, "stall_ratio"));
    }
    eprintln!("churn: amplification {amps:?} evictions {evictions:?} repairs {repairs:?} stall ratio {stalls:?}");
    let rising = |v: &[f64]| v[0] < v[1] && v[1] < v[2];
    assert!(amps[0] > amps[1] && amps[1] > amps[2], "amplification by churn {amps:?}");
    assert!(rising(&evictions), "evictions by churn {evictions:?}");
    // What home nodes fail to deliver falls back on the server, and when it
    // cannot carry it all, on the viewers.
    assert!(rising(&repairs), "server repairs by churn {repairs:?}");
    assert!(stalls[0] <= stalls[1] && stalls[1] < stalls[2], "stall ratio by churn {stalls:?}");
}

/// The scenario at another fidelity.
fn at_fidelity(text: &str, fidelity: &str) -> String {
    assert_eq!(text.matches("fidelity = \"model\"").count(), 1);
    text.replace("fidelity = \"model\"", &format!("fidelity = \"{fidelity}\""))
}

#[test]
fn full_fidelity_decodes_real_bytes_that_match_the_source() {
    // Real payloads through raptorq: every decoded block is compared with
    // the bytes the broadcaster sent.
    let name = "lh-full";
    let r = run_text(name, &at_fidelity(&scenario(name, 0.1, 30, "10 Mbps", 5.0, 12, "100000 h", 0.02), "full"));
    assert!(summary(&r, "blocks_decoded") > 100.0);
    assert_eq!(summary(&r, "full_mismatches"), 0.0);
    assert!(summary(&r, "blocks_played") > 100.0);
    assert!(summary(&r, "home_upload_bytes") > 0.0, "home nodes served real symbols");
}

#[test]
fn structural_and_model_fidelity_tell_the_same_story() {
    // Same losses (drawn per symbol at every fidelity), the real decoder
    // against the table: blocks decoded and played agree closely. A block
    // decodes at K, K + 1, K + 2 symbols with probabilities within 1% of
    // each other, and clients ask for K + 2 and more, so the two runs can
    // differ by at most a few blocks in a thousand.
    let base = scenario("lh-fid", 0.05, 40, "10 Mbps", 10.0, 20, "100000 h", 0.02);
    let m = run_text("lh-fid-model", &base.replace("name = \"lh-fid\"", "name = \"lh-fid-model\""));
    let s = run_text("lh-fid-structural", &at_fidelity(&base.replace("name = \"lh-fid\"", "name = \"lh-fid-structural\""), "structural"));
    for column in ["blocks_decoded", "blocks_played"] {
        let (a, b) = (summary(&m, column), summary(&s, column));
        assert!(a > 500.0 && ((a - b) / a).abs() < 0.01, "{column}: model {a}, structural {b}");
    }
}

#[test]
fn last_hop_runs_are_byte_identical_across_reruns_and_threads() {
    let name = "lh-det";
    let text = scenario(name, 0.05, 40, "10 Mbps", 10.0, 15, "60 s", 0.02);
    let dir = temp_dir(name);
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, &text).unwrap();
    let a = run_ok(&file, &dir.join("a"), &["--no-progress"], &[]);
    let b = run_ok(&file, &dir.join("b"), &["--no-progress"], &[("POLARS_MAX_THREADS", "1")]);
    for f in PARQUET_FILES.iter().chain(&["home_nodes.parquet", "streams.parquet"]) {
        assert!(read(&a.join(f)) == read(&b.join(f)), "{f} differs between identical runs (replay: cdnsim run {})", file.display());
    }
}

#[test]
fn relayed_connections_are_paid_as_idc_egress() {
    // The default NAT mix: pairs whose traversal fails go through the edge,
    // and those bytes are IDC egress. Everything the IDC nodes send is one
    // of: IDC-to-IDC, server to viewers, shares to home nodes, relays.
    let name = "lh-relay";
    let text = scenario(name, 0.05, 60, "10 Mbps", 10.0, 20, "100000 h", 0.01).replace("nat_mix = [1.0, 0.0, 0.0, 0.0]", "nat_mix = [0.10, 0.25, 0.40, 0.25]");
    let r = run_text(name, &text);
    let (direct, relayed) = (summary(&r, "direct_connections"), summary(&r, "relayed_connections"));
    assert!(relayed > 0.0 && direct > relayed, "direct {direct}, relayed {relayed}");
    assert!(summary(&r, "idc_egress_relay_bytes") > 0.0);
    let parts = ["internal_bytes", "idc_egress_to_viewers_bytes", "idc_egress_to_homes_bytes", "idc_egress_relay_bytes"];
    let sum: f64 = parts.iter().map(|p| summary(&r, p)).sum();
    assert_eq!(summary(&r, "idc_egress_bytes"), sum);
}

/// The decode model answers for repair ids below the end it was calibrated
/// with (data/decode_model.csv's `#! esi_end`). Every bundled scenario's
/// last-hop layout (K source ids, the home-node slots, the server's K
/// repair ids) must lie inside it, or the model speaks of ids it never
/// measured.
#[test]
fn every_bundled_layout_stays_inside_the_decode_tables_calibrated_ids() {
    let table = cdnsim_world::bundled_decode_table();
    let end = table.esi_end().expect("the bundled table records its ESI end");
    assert_eq!(end, cdnsim_codec::LAST_HOP_ESI_END, "the table was calibrated over other ids than layouts use");
    let mut checked = 0;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "toml")) {
        // A sweep's points share the base layout's K; the base is checked.
        let text = std::fs::read_to_string(f).unwrap();
        let base = text.split("\n[sweep]").next().unwrap();
        let sc = cdnsim_scenario::parse(&f.display().to_string(), base).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let Some(l) = &sc.last_hop else { continue };
        let layout_end = 2 * l.k as u32 + l.slots * l.symbols_per_node;
        assert!(layout_end <= end, "{}: layout ends at ESI {layout_end}, table calibrated below {end}", f.display());
        checked += 1;
    }
    assert!(checked >= 2, "bundled scenarios with a last hop: {checked}");
}

/// Blocks decided by the decode table's failure rate at exactly K: no loss,
/// no churn, headroom 0 and a low redundancy target, so once its loss
/// estimate has settled the client asks its home nodes for K symbols a
/// block, and a block that does not decode from those K waits for the
/// server's repair. One viewer, there from the start and (almost surely)
/// to the end, so there is one client and one set of ids per block: its
/// server repairs are the blocks that failed at K, each one trial. The
/// client reviews block b at b + 2.5 s; a 10 s playout delay keeps the
/// player well behind that, so every failing block is repaired before
/// its turn (with 3 s the player can be past a block by its review, and
/// the failure is then never repaired nor counted as a repair).
fn one_client_at_exactly_k(name: &str, duration_s: u32) -> String {
    let text = scenario(name, 0.05, 40, "10 Mbps", 0.0, duration_s, "100000 h", 0.0).replacen("playout_delay = \"3 s\"", "playout_delay = \"10 s\"", 1);
    assert_eq!(text.matches("arrivals_per_s = 0\n").count(), 1);
    assert!(text.contains("playout_delay = \"10 s\""));
    // [last_hop] is the scenario's last table.
    format!("{}headroom = 0\ntarget = 0.000001\n", text.replacen("arrivals_per_s = 0\n", "arrivals_per_s = 0\ninitial = 1\n", 1))
}

/// The decode table as the repository holds it, read when the test runs.
fn decode_table_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/decode_model.csv")).unwrap()
}

/// Whether `failed` of `blocks` blocks is what the table says of a block
/// decided at exactly K = 100: binomial over the blocks, each failing with
/// the table's p, widened by the table's own sampling error (p from
/// `trials` draws per row, so var(p) = p (1 - p) / trials). Two-sided
/// within 3.3 sd (~1e-3). Returns the band.
fn failing_blocks_band(table: &str, blocks: f64) -> (f64, f64, f64) {
    let t = cdnsim_codec::DecodeTable::parse_csv(table).unwrap();
    let p = t.fail_probability(100, 100);
    let trials = t.rows().map(|r| r.trials as f64).fold(f64::INFINITY, f64::min);
    let mean = blocks * p;
    let var = blocks * p * (1.0 - p) + blocks * blocks * p * (1.0 - p) / trials;
    let sd = var.sqrt();
    (p, mean - 3.3 * sd, mean + 3.3 * sd)
}

#[test]
fn blocks_failing_at_exactly_k_follow_the_decode_table() {
    // The real decoder (structural fidelity) on the ids the world sends,
    // against the table's failure probability at K = 100 (interpolated
    // between its K = 96 and K = 128 rows, ~0.59%). Counted in blocks:
    // clients given the same home nodes get the same ids, so one bad set
    // fails them all at once and client repairs are not independent
    // trials; blocks of one client are. ~4000 blocks: ~24 expected.
    //
    // Home nodes turn their slot's ids over per block
    // (ShareLayout::turned). With ids fixed per slot every block would
    // send the same set: either all fail (with probability p) or none,
    // and 0 lies 4.8 sd below the expected count, so the test tells the
    // two apart.
    let name = "lh-k1";
    let text = one_client_at_exactly_k(name, 4000);
    let table = decode_table_text();
    for fidelity in ["structural", "model"] {
        let case = format!("{name}-{fidelity}");
        let r = run_text(&case, &at_fidelity(&text.replace(&format!("name = \"{name}\""), &format!("name = \"{case}\"")), fidelity));
        assert_eq!(summary(&r, "lasthop_clients"), 1.0, "one client");
        // A failing block is repaired before its turn to play, except
        // near the stop, where it may be closed undecoded first; so it
        // counts in one of the two (a repair adds a source symbol, and
        // K + 1 symbols fail about 1 in 20,000 times: no block in both).
        let (repaired, unrepaired) = (summary(&r, "server_repairs"), summary(&r, "decode_failures"));
        let failed = repaired + unrepaired;
        let blocks = summary(&r, "blocks_decoded") + unrepaired;
        let (p, low, high) = failing_blocks_band(&table, blocks);
        eprintln!("{fidelity}: {failed} of {blocks} blocks failed at K ({repaired} repaired, {unrepaired} not); table p = {p:.5}: expected {:.1}, band {low:.1}..{high:.1}", blocks * p);
        assert!(unrepaired <= 2.0, "{fidelity}: {unrepaired} blocks closed undecoded, not only at the stop");
        assert!(blocks > 3900.0, "{fidelity}: blocks decoded {blocks}");
        assert!((low..=high).contains(&failed), "{fidelity}: {failed} blocks failed at K, table says {low:.1}..{high:.1}; run {}", r.display());
        // The same count against a table whose failures are ten times
        // the real ones lies outside its band: the comparison has power.
        if fidelity == "structural" {
            let wrong = tenfold_failures(&table);
            let (pw, lw, hw) = failing_blocks_band(&wrong, blocks);
            eprintln!("against failures x 10: p = {pw:.5}, band {lw:.1}..{hw:.1}");
            assert!(!(lw..=hw).contains(&failed), "a table with ten times the failures also fits {failed}");
        }
    }
}

/// The table with every row's failures multiplied by ten (capped at the
/// trials).
fn tenfold_failures(table: &str) -> String {
    table
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            match (f.len(), f.get(3).and_then(|x| x.parse::<u64>().ok()), f.get(2).and_then(|x| x.parse::<u64>().ok())) {
                (4, Some(failures), Some(trials)) => format!("{},{},{},{}", f[0], f[1], f[2], (failures * 10).min(trials)),
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_direct_share_follows_the_closed_form_of_the_nat_mix() {
    // Half NAT2 (restricted cone), half NAT4
    // (symmetric), clients and home nodes drawn from the same mix. The
    // scheduler offers only pairs that can connect at all, so a NAT2
    // client uses NAT2 and NAT4 nodes in the mix's proportion (direct with
    // `yes` and `sometimes`), a NAT4 client only NAT2 nodes (`sometimes`;
    // NAT4-NAT4 is a `no` pair). Every client needs about the same number
    // of nodes (K / share), so the expected direct share of connections is
    // the mean over client types:
    //   0.5 (0.5 yes + 0.5 sometimes) + 0.5 sometimes.
    use cdnsim_net::home::nat::{DEFAULT_SOMETIMES, DEFAULT_YES};
    let expected = 0.5 * (0.5 * DEFAULT_YES + 0.5 * DEFAULT_SOMETIMES) + 0.5 * DEFAULT_SOMETIMES;
    let name = "lh-nat";
    let text = scenario(name, 0.05, 200, "10 Mbps", 10.0, 20, "100000 h", 0.0).replace("nat_mix = [1.0, 0.0, 0.0, 0.0]", "nat_mix = [0.0, 0.5, 0.0, 0.5]");
    let r = run_text(name, &text);
    let (direct, relayed) = (summary(&r, "direct_connections"), summary(&r, "relayed_connections"));
    let n = direct + relayed;
    let share = direct / n;
    // Binomial sd over connections, inflated for what is shared between
    // them: a client's ~20 connections share its NAT type (between-type
    // spread 0.12, ~n/20 clients) and the 200 nodes' realised mix varies
    // (sd 0.035 on the NAT2 share, worth 0.24 x 0.5 of direct share).
    let binomial = expected * (1.0 - expected) / n;
    let clients = 0.06 * 0.06 / (n / 20.0);
    let nodes = (0.035 * 0.12) * (0.035 * 0.12);
    let sd = (binomial + clients + nodes).sqrt();
    eprintln!("direct share {share} of {n} connections, closed form {expected}, sd {sd}");
    assert!(n > 2000.0, "connections {n}");
    assert!((share - expected).abs() < 4.0 * sd, "direct share {share}, closed form {expected} (4 sd = {})", 4.0 * sd);
}
