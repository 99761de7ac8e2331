//! Control messages wait behind the backlog of the shared backbone link
//! they cross. On the China backbone with Telecom's Beijing-Guangzhou
//! link cut to C = 3 Mbit/s, two 2 Mbit/s streams enter in Guangdong (one
//! at each edge) and climb the tree to the Beijing root over two overlay
//! links that both ride that link northwards: 4 Mbit/s offered to 3, so
//! its northbound drop-tail queue (Q = the resolver's default, 50 ms at
//! line rate but at least 64 KiB: 65,536 B, 174.8 ms at C)
//! stays full from the first second on. Subscribes from Guangdong to
//! Beijing cross it northbound too. A control message is given the
//! backlog each queue on its path holds when it is sent (backbone.rs,
//! `message_wait_ns`). In saturation every chunk arrival finds the shared
//! queue holding more than Q minus one chunk (else it would have been
//! taken), and the next arrival comes within one interarrival gap g, so
//! the shared link's backlog W at any instant is
//!   (Q - 2 c) 8 / C - g <= W <= Q 8 / C,
//! c = 1 KiB chunks (the one in service is at most a chunk), g = the two
//! streams' chunks interleaved, at most one chunk time of one stream
//! (1 KiB at 2 Mbit/s = 4.1 ms). On top of W: the sending overlay link's
//! own queue (paced at C with the same default limit: between 0 and
//! Q 8 / C) and the link's propagation L, read from the messages sent
//! before any chunk left (nothing queued then).

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

pub const SCENARIO: &str = r#"
[run]
name = "control_backbone"
seed = SEED
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

[[nodes]]
name = "gd-2"
idc = "edge.guangdong.telecom.2"
role = "edge"
parent = "src"

[[links]]
from = "src"
to = "south"

[[links]]
from = "south"
to = "gd-1"

[[links]]
from = "src"
to = "gd-2"

[broadcasters]
count = 2
zipf = 1.0
local_viewers = 1.0
uplink = "20 Mbps"
regions = [{ region = "guangdong", weight = 1.0 }]

[stream]
name = "live"
bitrate = "2 Mbps"
block = "1 s"
chunk = "1 KiB"

[viewers]
arrivals_per_s = 0.5
initial = 4
initial_window = "1 ms"
watch_time = { distribution = "exponential", mean = "1 s" }
playout_delay = "3 s"

[[viewers.regions]]
region = "guangdong"
weight = 1.0
"#;

#[test]
fn a_subscribe_waits_behind_the_backlog_of_the_shared_link_it_crosses() {
    let dir = temp_dir("control-backbone");
    china_with_a_3_mbps_corridor(&dir);
    let file = dir.join("control_backbone.toml");
    std::fs::write(&file, SCENARIO.replace("SEED", "2")).unwrap();
    let run = run_ok(&file, &dir.join("out"), &["--no-progress"], &[]);
    let st = read_parquet(&run.join("streams.parquet")).unwrap();
    let mut ingests = strs(&st, "ingest");
    ingests.sort();
    // Seed 2 places one broadcaster at each (the placement draws from its
    // own stream; seed 1 put both at gd-1).
    assert_eq!(ingests, ["gd-1", "gd-2"], "one stream enters at each Guangdong edge");

    let (c_bps, q_bytes, chunk) = (3e6, 65_536.0, 1024.0);
    let w_max = q_bytes * 8.0 / c_bps * 1e3;
    let w_min = (q_bytes - 2.0 * chunk) * 8.0 / c_bps * 1e3 - chunk * 8.0 / 2e6 * 1e3;
    let own_max = w_max;
    let c = read_parquet(&run.join("control.parquet")).unwrap();
    let (child, parent) = (strs(&c, "child"), strs(&c, "parent"));
    let (sent, delay, attempts) = (col(&c, "sent_ms"), col(&c, "delay_ms"), col(&c, "attempts"));
    let mut checked = 0;
    for (kid, dad) in [("gd-2", "src"), ("south", "src")] {
        let rows: Vec<usize> = (0..child.len()).filter(|&i| child[i] == kid && parent[i] == dad && attempts[i] == 1.0).collect();
        // Propagation: what the messages sent before the first chunk took.
        let l = rows.iter().filter(|&&i| sent[i] < 1.0).map(|&i| delay[i]).fold(f64::INFINITY, f64::min);
        assert!(l.is_finite(), "{kid} -> {dad}: a message at the start");
        for &i in rows.iter().filter(|&&i| sent[i] > 2_000.0 && delay[i].is_finite()) {
            let w = delay[i] - l;
            assert!(w >= w_min && w <= w_max + own_max, "{kid} -> {dad} at {} ms: waited {w} ms, closed form [{w_min}, {w_max}] + own queue <= {own_max}", sent[i]);
            checked += 1;
        }
        let waits: Vec<f64> = rows.iter().filter(|&&i| sent[i] > 2_000.0 && delay[i].is_finite()).map(|&i| delay[i] - l).collect();
        println!("{kid} -> {dad}: L = {l} ms, {} messages in saturation, waits {:?}", waits.len(), &waits[..waits.len().min(8)]);
    }
    assert!(checked >= 20, "enough messages in saturation: {checked}");
    let b = read_parquet(&run.join("summary.parquet")).unwrap();
    assert!(col(&b, "backbone_drops")[0] > 0.0, "the northbound link saturated");
}
