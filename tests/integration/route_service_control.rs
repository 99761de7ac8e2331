//! The mesh's route requests are control messages over the overlay path
//! between the asking node and the node hosting the route service (the
//! lowest-id node of `service_region`; world.rs and service.rs): the
//! request and the answer each wait the backlog of the queues on their
//! path when sent, are lost where their path is down or with its loss, and
//! the request is retried on the routing crate's schedule. One row per
//! request in `control.parquet`, kind `route`, child the asking node,
//! parent the service's node, `delivered_ms` when the answer got back.
//!
//! 1. Backlog: on the China backbone, Telecom's Beijing-Guangzhou link is
//!    cut to C = 3 Mbit/s. Hundreds of 2 Mbit/s streams enter at a
//!    Beijing edge and viewers in Guangdong pull them, in the mesh,
//!    through the Beijing source `src`, which hosts the route service, to
//!    two Guangdong edges over overlay links that both ride that link
//!    southbound. Each overlay link's own queue is paced at C (its path's
//!    bottleneck) with the resolver's default limit Q = 65,536 B, and the
//!    two feed the shared link at up to 2 C: its southbound drop-tail
//!    queue stays full. A request from an edge goes north over an empty
//!    path (propagation L); its answer comes south and is given the
//!    backlog of the overlay link's own queue (0 to Q 8 / C) and of the
//!    shared link W, (Q - 2 c) 8 / C - g <= W <= Q 8 / C, c = 1 KiB
//!    chunks, g at most one chunk time of one stream (the argument of
//!    control_backbone_queue.rs). So a request answered at its first
//!    sending takes 2 L + w, w in [(Q - 2 c) 8 / C - g, 2 Q 8 / C]; and 2 L
//!    is twice what the first subscribe over the same link takes (nothing
//!    is queued before the first answer).
//! 2. Outage: quickstart in the mesh with the route service in Shanghai
//!    (east-centre); Hangzhou's edge reaches it over one 10 ms link, down
//!    from 0 to 500 ms. Round trip 2 L = 20 ms, first timeout
//!    R = max(10 ms, 2 x 20 ms) = 40 ms, sending k leaves at
//!    t0 + R (2^k - 1); the answer is back 2 L after the first sending
//!    that leaves at or after 500 ms.
//! 3. Loss: the same link with loss p: a sending gets its answer with
//!    probability s = (1 - p)^2 (request and answer each cross the link),
//!    so a request takes k sendings with probability (1 - s)^(k-1) s for
//!    k = 1..4 and 5 with (1 - s)^4, and is given up with (1 - s)^5.
//! 4. `[routing.control]` values out of bounds are refused at their place.

use cdnsim_metrics::table::read_parquet;

use crate::common::*;
use crate::control_loss_geometric::assert_truncated_geometric;
use crate::control_retry_outage::{hangzhou_text, sending_ms};

/// control_backbone_queue.rs's scenario made a mesh: `bj` in place of the
/// south centre (the ingest of 300 streams), every node linked to `src`
/// only, viewers in Guangdong coming and going.
fn backbone_text() -> String {
    let mut text = crate::control_backbone_queue::SCENARIO.to_string();
    for (from, to) in [
        ("name = \"control_backbone\"\nseed = SEED", "name = \"route_backbone\"\nseed = 1"),
        ("name = \"south\"\nidc = \"centre.south.telecom\"\nrole = \"centre\"", "name = \"bj\"\nidc = \"edge.beijing.telecom.1\"\nrole = \"edge\""),
        ("role = \"edge\"\nparent = \"south\"", "role = \"edge\"\nparent = \"src\""),
        ("from = \"src\"\nto = \"south\"", "from = \"src\"\nto = \"bj\""),
        ("from = \"south\"\nto = \"gd-1\"", "from = \"src\"\nto = \"gd-1\""),
        // Routing keeps serving over the saturated link (its score ignores
        // delay and loss), so requests keep coming.
        (
            "[broadcasters]\ncount = 2\nzipf = 1.0\nlocal_viewers = 1.0",
            "[routing]\nmode = \"mesh\"\nservice_region = \"beijing\"\nmin_quality = 0.0\nhot_min_quality = 0.0\n\n\
             [routing.score]\nper_delay_ms = 0.0\nper_loss = 0.0\nper_retransmit = 0.0\n\n\
             [broadcasters]\ncount = 300\nzipf = 1.0\nlocal_viewers = 0.0",
        ),
        ("regions = [{ region = \"guangdong\", weight = 1.0 }]", "regions = [{ region = \"beijing\", weight = 1.0 }]"),
        ("arrivals_per_s = 0.5\ninitial = 4", "arrivals_per_s = 5.0\ninitial = 20"),
        ("mean = \"1 s\" }", "mean = \"10 s\" }"),
    ] {
        assert_eq!(text.matches(from).count(), 1, "control_backbone_queue.rs's scenario changed: {from}");
        text = text.replace(from, to);
    }
    text
}

/// Rows of `control.parquet` of `kind` from `child` to `parent`.
fn rows(c: &polars::prelude::DataFrame, kind: &str, child: &str, parent: &str) -> Vec<usize> {
    let (ch, pa, k) = (strs(c, "child"), strs(c, "parent"), strs(c, "kind"));
    (0..ch.len()).filter(|&i| k[i] == kind && ch[i] == child && pa[i] == parent).collect()
}

#[test]
fn a_route_answer_waits_behind_the_backlog_of_the_shared_link_it_crosses() {
    let dir = temp_dir("route-backbone");
    china_with_a_3_mbps_corridor(&dir);
    let file = dir.join("route_backbone.toml");
    std::fs::write(&file, backbone_text()).unwrap();
    let run = run_ok(&file, &dir.join("out"), &["--no-progress"], &[]);

    let (c_bps, q_bytes, chunk) = (3e6, 65_536.0, 1024.0);
    let w_min = (q_bytes - 2.0 * chunk) * 8.0 / c_bps * 1e3 - chunk * 8.0 / 2e6 * 1e3;
    let w_max = 2.0 * q_bytes * 8.0 / c_bps * 1e3;
    let c = read_parquet(&run.join("control.parquet")).unwrap();
    let (sent, delay, attempts) = (col(&c, "sent_ms"), col(&c, "delay_ms"), col(&c, "attempts"));
    let mut checked = 0;
    for edge in ["gd-1", "gd-2"] {
        // L: the first subscribe over the link, sent when the first answer
        // came back, before any chunk was on the way.
        let subs = rows(&c, "subscribe", edge, "src");
        let l = delay[subs[0]];
        let routes = rows(&c, "route", edge, "src");
        let first = routes[0];
        assert!(sent[first] < 1.0, "{edge}: the first request leaves with the first viewers: {} ms", sent[first]);
        println!("{edge}: L = {l} ms (first subscribe), first route round trip {} ms", delay[first]);
        assert!((delay[first] - 2.0 * l).abs() < 1e-6, "{edge}: unqueued round trip {} ms, closed form 2 L = {} ms", delay[first], 2.0 * l);
        let waits: Vec<(f64, f64)> =
            routes.iter().filter(|&&i| sent[i] > 10_000.0 && attempts[i] == 1.0 && delay[i].is_finite()).map(|&i| (sent[i], delay[i] - 2.0 * l)).collect();
        for &(at, w) in &waits {
            assert!(w >= w_min && w <= w_max, "{edge} at {at} ms: the answer waited {w} ms, closed form [{w_min}, {w_max}]");
        }
        let mean = waits.iter().map(|w| w.1).sum::<f64>() / waits.len().max(1) as f64;
        println!("{edge}: {} requests in saturation, mean wait {mean:.1} ms, band [{w_min:.1}, {w_max:.1}]", waits.len());
        checked += waits.len();
    }
    assert!(checked >= 20, "enough requests in saturation: {checked}");
    let s = read_parquet(&run.join("summary.parquet")).unwrap();
    assert!(col(&s, "backbone_drops")[0] > 0.0, "the southbound link saturated");
}

/// Quickstart's Hangzhou setup (control_retry_outage.rs) in the mesh, the
/// route service in Shanghai. The Beijing source is put on Telecom: the
/// mesh never crosses ISPs but through a multi-line node, and a node of
/// one label ("bgp") is not one.
fn mesh_hangzhou(text: String) -> String {
    assert_eq!(text.matches("isp = \"bgp\"").count(), 1, "the bundled quickstart changed");
    let text = text
        .replace("isp = \"bgp\"", "isp = \"telecom\"")
        .replace("[transport]", "[routing]\nmode = \"mesh\"\nservice_region = \"shanghai\"\nmin_quality = 0.0\nhot_min_quality = 0.0\n\n[transport]");
    assert!(text.contains("mode = \"mesh\""));
    text
}

#[test]
fn a_route_request_over_a_down_link_is_retried_and_answered_when_it_returns() {
    let dir = temp_dir("route-outage");
    let file = dir.join("outage.toml");
    std::fs::write(&file, mesh_hangzhou(hangzhou_text(500, ""))).unwrap();
    let run = run_ok(&file, &dir.join("out"), &["--no-progress"], &[]);
    let c = read_parquet(&run.join("control.parquet")).unwrap();
    let (sent, delivered, attempts) = (col(&c, "sent_ms"), col(&c, "delivered_ms"), col(&c, "attempts"));
    let i = *rows(&c, "route", "hz-edge", "east-centre").first().expect("hz-edge asked the route service");
    let (l, r, up) = (10.0, 40.0, 500.0);
    let t0 = sent[i];
    assert!(t0 < 10.0, "the first viewer joins in the first 10 ms: {t0}");
    let k = (0..5).find(|&k| sending_ms(t0, r, k) >= up).expect("the link returns before the last sending");
    let expected = sending_ms(t0, r, k) + 2.0 * l;
    println!("route request sent {t0} ms, answered {} ms after {} sendings; closed form {expected} ms after {}", delivered[i], attempts[i], k + 1);
    assert!((delivered[i] - expected).abs() < 1e-3, "answered at {} ms, closed form {expected} ms", delivered[i]);
    assert_eq!(attempts[i], (k + 1) as f64);
    // The edge subscribes when the answer is back, over the link now up.
    let sub = *rows(&c, "subscribe", "hz-edge", "east-centre").first().expect("hz-edge subscribed");
    assert!((sent[sub] - expected).abs() < 1e-3 && (delivered[sub] - (expected + l)).abs() < 1e-3, "subscribed at {} ms", sent[sub]);
    let s = read_parquet(&run.join("summary.parquet")).unwrap();
    assert!(col(&s, "control_lost")[0] >= k as f64, "every sending while down is lost");
    assert_eq!(col(&s, "control_gave_up")[0], 0.0);
}

#[test]
fn route_request_retries_over_a_lossy_path_follow_the_truncated_geometric_law() {
    let p: f64 = 0.3;
    let dir = temp_dir("route-loss");
    // Many streams at Shanghai's edge, each viewer on one of them for about
    // a second: most joins at Hangzhou find neither the stream there nor a
    // route in the edge's agent cache (64 routes), so they ask the service.
    let text = mesh_hangzhou(hangzhou_text(0, ""))
        .replace("latency = \"10 ms\"\ngroups = [\"hz-line\"]\n", &format!("loss = {p}\n"))
        // Routing keeps the lossy link usable (its score ignores loss).
        .replace("[transport]", "[routing.score]\nper_loss = 0.0\nper_retransmit = 0.0\n\n[transport]")
        .replace("[[faults]]\ngroup = \"hz-line\"\nkind = \"outage\"\nstart = \"0 s\"\nend = \"0 ms\"\n\n", "")
        .replace(
            "[broadcaster]\nregion = \"beijing\"\ningest = \"bj-src\"\n",
            "[broadcasters]\ncount = 1000\nzipf = 0.0\nlocal_viewers = 0.0\nregions = [{ region = \"shanghai\", weight = 1.0 }]\n",
        )
        .replace("bitrate = \"2 Mbps\"", "bitrate = \"100 kbps\"")
        .replace("duration = \"120 s\"", "duration = \"1500 s\"")
        .replace("arrivals_per_s = 0.1", "arrivals_per_s = 0.5")
        .replace("median = \"60 s\", sigma = 1.0", "median = \"1 s\", sigma = 0.5");
    assert!(text.contains(&format!("loss = {p}\n")) && !text.contains("[[faults]]") && text.contains("count = 1000") && text.contains("100 kbps"));
    let file = dir.join("lossy.toml");
    std::fs::write(&file, text).unwrap();
    let run = run_ok(&file, &dir.join("out"), &["--no-progress"], &[]);
    let c = read_parquet(&run.join("control.parquet")).unwrap();
    let (attempts, delivered, gave_up) = (col(&c, "attempts"), col(&c, "delivered_ms"), col(&c, "gave_up"));
    let ended: Vec<usize> =
        rows(&c, "route", "hz-edge", "east-centre").into_iter().filter(|&i| delivered[i].is_finite() || gave_up[i] == 1.0).collect();
    assert!(ended.len() >= 300, "enough requests: {}", ended.len());
    let counts: Vec<(f64, bool)> = ended.iter().map(|&i| (attempts[i], gave_up[i] == 1.0)).collect();
    assert_truncated_geometric(&counts, 1.0 - (1.0 - p) * (1.0 - p));
}

#[test]
fn routing_control_values_out_of_bounds_are_refused_at_their_place() {
    let routing = |body: &str| {
        quickstart_text().replacen("[broadcaster]", &format!("[routing]\nmode = \"tree\"\n\n[routing.control]\n{body}\n\n[broadcaster]"), 1)
    };
    let cases = [
        ("retries", "max_retries = 170", "170", "routing.control.max_retries", "expected a count from 0 to 16, found 170"),
        ("cap", "timeout_max = \"90 min\"", "\"90 min\"", "routing.control.timeout_max", "expected a duration above zero and at most 1 h"),
        (
            "floor",
            "first_timeout_min = \"9 s\"\ntimeout_max = \"2 s\"",
            "\"9 s\"",
            "routing.control.first_timeout_min",
            "expected a duration above zero and at most timeout_max (2000000000 ns), found 9000000000 ns",
        ),
    ];
    for (name, body, needle, field, expected) in cases {
        crate::bad_input::rejects(&format!("routing-control-{name}"), routing(body).as_bytes(), Some(needle), field, expected);
    }
}
