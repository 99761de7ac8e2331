//! Relayed last-hop symbols queue at the relay edge. Every NAT traversal
//! fails (a traversal probability of 1e-6), so every home node's symbols
//! to a client go through the client's edge and out of its last-hop send
//! queue: a drop-tail FIFO at the edge's egress rate C holding one block
//! duration of it (Q = C x 1 s). A FIFO never delays what it accepts by
//! more than what it holds drains in, Q / C = 1 s, and drops only when
//! full. With a 40 Gbps edge the relayed load (a few hundred Mbit/s) is
//! far below C: nothing is dropped and a batch waits at most the bursts of
//! one block ahead of it; at 20 Mbps it is saturated: batches are dropped,
//! and those accepted wait up to 1 s. Either way the queue conserves bytes
//! (in = sent + dropped + held at the stop), and every symbol a home node
//! sent is accounted for (arrived, lost, or in flight at the stop: relay
//! drops count as lost).

use cdnsim_metrics::table::read_parquet;

use crate::common::*;

#[test]
fn relayed_symbols_queue_and_drop_at_a_saturated_relay_edge() {
    let block_ms = 1000.0;
    let mut means = Vec::new();
    for egress in ["40 Gbps", "20 Mbps"] {
        let base = crate::last_hop::scenario("lh-relay", 0.05, 40, "10 Mbps", 10.0, 20, "100000 h", 0.0);
        let edge = "egress = \"40 Gbps\"\negress_queue = \"64 MiB\"\n";
        assert!(base.contains(edge) && base.contains("nat_mix = [1.0, 0.0, 0.0, 0.0]\n"));
        let text = base.replace(edge, &format!("egress = \"{egress}\"\negress_queue = \"64 MiB\"\n")).replace(
            "nat_mix = [1.0, 0.0, 0.0, 0.0]\n",
            "nat_mix = [1.0, 0.0, 0.0, 0.0]\ntraversal = [[1e-6, 1e-6, 1e-6, 1e-6], [1e-6, 1e-6, 1e-6, 1e-6], [1e-6, 1e-6, 1e-6, 1e-6], [1e-6, 1e-6, 1e-6, 1e-6]]\n",
        );
        let dir = temp_dir(&format!("relay-{}", egress.replace(' ', "")));
        let file = dir.join("relay.toml");
        std::fs::write(&file, text).unwrap();
        let run = run_ok(&file, &dir.join("out"), &["--no-progress"], &[]);
        let s = read_parquet(&run.join("summary.parquet")).unwrap();
        let v = |c: &str| col(&s, c)[0];
        println!(
            "egress {egress}: relayed connections {}, relay bytes {}, wait mean {} ms, drops {} ({} symbols), queue in {} accounted {}",
            v("relayed_connections"),
            v("idc_egress_relay_bytes"),
            v("relay_queue_ms_mean"),
            v("relay_drops"),
            v("relay_dropped_symbols"),
            v("edge_queue_bytes_in"),
            v("edge_queue_bytes_accounted")
        );
        assert!(v("relayed_connections") > 0.0 && v("direct_connections") == 0.0, "every connection relayed");
        assert_eq!(v("edge_queue_bytes_in"), v("edge_queue_bytes_accounted"), "{egress}: the edge queue conserves bytes");
        assert_eq!(v("home_symbols_sent"), v("home_symbols_accounted"), "{egress}: every symbol accounted for");
        let wait = v("relay_queue_ms_mean");
        assert!(wait <= block_ms, "{egress}: a FIFO of one block's bytes delays by at most a block: {wait} ms");
        means.push(wait);
        if egress == "20 Mbps" {
            assert!(v("relay_drops") > 0.0 && v("relay_dropped_symbols") >= v("relay_drops"), "a saturated relay drops");
        } else {
            assert_eq!(v("relay_drops"), 0.0, "an idle relay drops nothing");
        }
    }
    assert!(means[1] > 10.0 * means[0].max(1.0), "the saturated relay delays more: {means:?}");
}
