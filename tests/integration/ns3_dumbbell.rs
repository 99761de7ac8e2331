//! cdnsim's shared backbone link against ns-3 (docs/validation.md).
//!
//! A dumbbell: N = 8 constant-bit-rate UDP flows of 16 KiB datagrams (the
//! bundled scenarios' chunk), each on an access link of its own, share one
//! 1 Gbps bottleneck with a drop-tail queue of 50 ms at line rate, at
//! offered loads 0.5, 0.9 and 1.1 of its capacity. ns-3 (PyPI `ns3`,
//! scripts/ns3_dumbbell.py) runs it with point-to-point links and
//! DropTail device queues; cdnsim runs the same input through
//! `cdnsim_net::SharedLinks` (access, bottleneck, access, store and
//! forward) on the engine. Per flow: mean one-way delay, delay p99 and
//! loss rate must agree.
//!
//! Why they can agree closely, and the tolerances: both simulators are
//! deterministic and see the same integer start times and intervals
//! (flows' periods differ by up to 2%, so their interleaving drifts over
//! the run instead of repeating). Serialisation times are whole
//! nanoseconds at both rates (checked below), so neither rounds. The
//! modelling differences left, and what each can cost:
//! - ns-3's device takes the packet in transmission off its queue, cdnsim
//!   counts it against the limit: ns-3's queue holds floor(queue / packet)
//!   - 1 packets, which for fixed-size packets accepts exactly the same
//!   packets (packet mode: ns-3's byte mode held 3 packets fewer than its
//!   arithmetic in a probe; scripts/ns3_dumbbell.py).
//! - ns-3 counts 30 bytes of PPP/IP/UDP headers on the wire: its datagram
//!   payload is the chunk less 30 bytes, so both put 16384 bytes on the wire.
//! - Same-instant events (a packet arriving just as another finishes):
//!   cdnsim's FIFO retires a departure at its instant before accepting, ns-3
//!   runs them in scheduling order. A different order moves one packet's
//!   wait by one service time or flips one drop: at most a few packets
//!   per flow. Tolerance: loss rate within 0.1% of sent plus 2 packets,
//!   mean delay within 0.1% plus 1 us.
//! - ns-3's delays for percentiles come from FlowMonitor's histogram in
//!   1 us bins: cdnsim's nearest-rank p99 must fall in ns-3's p99 bin,
//!   widened by one bin and 0.1% for the ties above.
//!
//! Closed-form checks on the ns-3 side too (so a broken reference cannot
//! pass): with the queue empty at load 0.5 the delay is at least the
//! three serialisations and propagations; at 1.1 the queue sits full
//! (delay about 50 ms) and the loss rate is near 1 - 1/1.1 less the
//! half-second it takes to fill.
//!
//! Skipped, saying so on stderr, only when scripts/setup_ns3_venv.sh
//! cannot install or import the `ns3` package.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cdnsim_engine::{Class, Model, Scheduler, SimDuration, SimTime, run};
use cdnsim_net::{Pass, SharedDir, SharedLinks};
use serde_json::{Value, json};

const CAPACITY_BPS: u64 = 1_000_000_000;
/// 131072 bits in 16 us exactly.
const ACCESS_BPS: u64 = 8_192_000_000;
const PACKET_BYTES: u64 = 16_384;
const ACCESS_LATENCY_NS: u64 = 1_000;
const BOTTLENECK_LATENCY_NS: u64 = 5_000_000;
/// 50 ms at line rate.
const QUEUE_BYTES: u64 = CAPACITY_BPS / 8 / 20;
const FLOWS: usize = 8;
const SEND_NS: u64 = 10_000_000_000;
const STOP_NS: u64 = 12_000_000_000;

struct Flow {
    start_ns: u64,
    interval_ns: u64,
    count: u64,
}

/// Flow periods spread by +-1% around the load's mean; start phases by the
/// golden ratio, so no two flows are in step.
fn flows(load: f64) -> Vec<Flow> {
    let mean_interval = FLOWS as f64 * PACKET_BYTES as f64 * 8e9 / (load * CAPACITY_BPS as f64);
    (0..FLOWS)
        .map(|i| {
            let interval_ns = (mean_interval * (1.0 + 0.02 * (i as f64 / (FLOWS - 1) as f64 - 0.5))).round() as u64;
            let start_ns = ((i as f64 * 0.618_033_988_75).fract() * interval_ns as f64) as u64;
            Flow { start_ns, interval_ns, count: (SEND_NS - start_ns).div_ceil(interval_ns) }
        })
        .collect()
}

#[derive(Default, Clone)]
struct FlowResult {
    tx: u64,
    rx: u64,
    delays_ns: Vec<u64>,
}

/// The dumbbell on cdnsim's shared links: link i < N is sender i's access,
/// N the bottleneck, N + 1 + i receiver i's access.
struct Dumbbell {
    links: SharedLinks,
    flows: Vec<Flow>,
    results: Vec<FlowResult>,
}

#[derive(Clone, Copy)]
struct Packet {
    flow: u32,
    /// 0: the sender sends it (and schedules its next); 1: at the
    /// bottleneck; 2: at the receiver's access link.
    stage: u8,
    seq: u64,
    sent_ns: u64,
}

impl Model for Dumbbell {
    type Event = Packet;
    fn handle(&mut self, sched: &mut Scheduler<Packet>, p: Packet) {
        let now = sched.now();
        let f = p.flow as usize;
        let p = if p.stage == 0 { Packet { sent_ns: now.as_ns(), ..p } } else { p };
        let link = match p.stage {
            0 => f as u32,
            1 => FLOWS as u32,
            _ => (FLOWS + 1 + f) as u32,
        };
        if p.stage == 0 {
            self.results[f].tx += 1;
            if p.seq + 1 < self.flows[f].count {
                sched.schedule_in(SimDuration::from_ns(self.flows[f].interval_ns), Class(0), Packet { seq: p.seq + 1, ..p });
            }
        }
        match self.links.offer(SharedDir::new(link, false), now, PACKET_BYTES as u32) {
            Pass::Dropped => {}
            Pass::Through { depart, .. } => {
                let latency = if p.stage == 1 { BOTTLENECK_LATENCY_NS } else { ACCESS_LATENCY_NS };
                let at = depart + SimDuration::from_ns(latency);
                if p.stage < 2 {
                    sched.schedule_at(at, Class(0), Packet { stage: p.stage + 1, ..p });
                } else {
                    self.results[f].rx += 1;
                    self.results[f].delays_ns.push(at.as_ns() - p.sent_ns);
                }
            }
        }
    }
}

fn cdnsim_dumbbell(load: f64) -> Vec<FlowResult> {
    let links = (0..2 * FLOWS + 1).map(|l| if l == FLOWS { (CAPACITY_BPS, QUEUE_BYTES) } else { (ACCESS_BPS, u64::MAX / 2) });
    let flows = flows(load);
    let mut sched = Scheduler::new(1_000_000);
    for (i, f) in flows.iter().enumerate() {
        sched.schedule_at(SimTime::from_ns(f.start_ns), Class(0), Packet { flow: i as u32, stage: 0, seq: 0, sent_ns: f.start_ns });
    }
    let mut m = Dumbbell { links: SharedLinks::new(links, 1), flows, results: vec![FlowResult::default(); FLOWS] };
    run(&mut m, &mut sched, SimTime::from_ns(STOP_NS)).unwrap();
    let dir = SharedDir::new(FLOWS as u32, false);
    let b = m.links.balance(dir, SimTime::from_ns(STOP_NS));
    assert_eq!(b.bytes_in, b.bytes_out + b.bytes_dropped + b.bytes_queued, "bottleneck conservation");
    m.results
}

fn ns3_python() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("ns3-venv");
    let o = Command::new("bash")
        .arg(root.join("scripts/setup_ns3_venv.sh"))
        .arg(&venv)
        .output()
        .map_err(|e| format!("bash: {e}"))?;
    if !o.status.success() {
        return Err(format!("scripts/setup_ns3_venv.sh failed: {}", String::from_utf8_lossy(&o.stderr)));
    }
    Ok(venv.join("bin/python"))
}

fn ns3_dumbbell(python: &Path, load: f64) -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = json!({
        "capacity_bps": CAPACITY_BPS,
        "access_bps": ACCESS_BPS,
        "packet_bytes": PACKET_BYTES,
        "access_latency_ns": ACCESS_LATENCY_NS,
        "bottleneck_latency_ns": BOTTLENECK_LATENCY_NS,
        "queue_bytes": QUEUE_BYTES,
        "stop_ns": STOP_NS,
        "flows": flows(load).iter().map(|f| json!({"start_ns": f.start_ns, "interval_ns": f.interval_ns, "count": f.count})).collect::<Vec<_>>(),
    });
    let mut child = Command::new(python)
        .arg(root.join("scripts/ns3_dumbbell.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(spec.to_string().as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "ns3_dumbbell.py failed:\n{}", String::from_utf8_lossy(&o.stderr));
    let out: Value = serde_json::from_slice(&o.stdout).expect("JSON from ns3_dumbbell.py");
    out["flows"].as_array().unwrap().clone()
}

/// Nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[u64], q: f64) -> u64 {
    sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// ns-3's p99 bin: [lower, upper) in ns.
fn ns3_p99_bin(flow: &Value) -> (u64, u64) {
    let bin_ns = flow["bin_ns"].as_u64().unwrap();
    let mut bins: Vec<(u64, u64)> =
        flow["bins"].as_object().unwrap().iter().map(|(b, c)| (b.parse().unwrap(), c.as_u64().unwrap())).collect();
    bins.sort();
    let total: u64 = bins.iter().map(|b| b.1).sum();
    let rank = (0.99 * total as f64).ceil() as u64;
    let mut seen = 0;
    for (b, c) in bins {
        seen += c;
        if seen >= rank {
            return (b * bin_ns, (b + 1) * bin_ns);
        }
    }
    unreachable!()
}

#[test]
fn shared_link_matches_ns3_dumbbell() {
    for rate in [CAPACITY_BPS, ACCESS_BPS] {
        assert_eq!(PACKET_BYTES * 8 * 1_000_000_000 % rate, 0, "serialisation must be whole ns at {rate} bps");
    }
    let python = match ns3_python() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("SKIPPED shared_link_matches_ns3_dumbbell: the ns3 package is not available here ({why})");
            return;
        }
    };
    let base_ns = 2 * PACKET_BYTES * 8 * 1_000_000_000 / ACCESS_BPS
        + PACKET_BYTES * 8 * 1_000_000_000 / CAPACITY_BPS
        + 2 * ACCESS_LATENCY_NS
        + BOTTLENECK_LATENCY_NS;
    let full_ns = QUEUE_BYTES * 8 * 1_000_000_000 / CAPACITY_BPS;
    let mut table = String::from("| load | flow | sent | ns-3 mean ms | cdnsim mean ms | ns-3 p99 ms (bin) | cdnsim p99 ms | ns-3 loss | cdnsim loss |\n|---|---|---|---|---|---|---|---|---|\n");
    for load in [0.5, 0.9, 1.1] {
        let ns3 = ns3_dumbbell(&python, load);
        let ours = cdnsim_dumbbell(load);
        let (mut ns3_lost, mut ns3_sent) = (0, 0);
        for (i, (theirs, mine)) in ns3.iter().zip(&ours).enumerate() {
            let (tx, rx) = (theirs["tx"].as_u64().unwrap(), theirs["rx"].as_u64().unwrap());
            (ns3_lost, ns3_sent) = (ns3_lost + tx - rx, ns3_sent + tx);
            let ns3_mean = theirs["delay_sum_ns"].as_u64().unwrap() as f64 / rx as f64;
            let (lo, hi) = ns3_p99_bin(theirs);
            let mut d = mine.delays_ns.clone();
            d.sort_unstable();
            let mean = d.iter().sum::<u64>() as f64 / d.len() as f64;
            let p99 = nearest_rank(&d, 0.99);
            let (ns3_loss, loss) = ((tx - rx) as f64 / tx as f64, (mine.tx - mine.rx) as f64 / mine.tx as f64);
            table.push_str(&format!(
                "| {load} | {i} | {tx} | {:.4} | {:.4} | {:.3}-{:.3} | {:.4} | {:.4} | {:.4} |\n",
                ns3_mean / 1e6, mean / 1e6, lo as f64 / 1e6, hi as f64 / 1e6, p99 as f64 / 1e6, ns3_loss, loss
            ));
            let at = format!("load {load}, flow {i}");
            assert_eq!(mine.tx, tx, "{at}: both send the same packets");
            assert!(ns3_mean >= base_ns as f64, "{at}: ns-3 mean {ns3_mean} below the empty-queue delay {base_ns}");
            assert!((mean - ns3_mean).abs() <= 1e-3 * ns3_mean + 1_000.0, "{at}: mean delay {mean} ns vs ns-3 {ns3_mean} ns");
            let slack = 1_000 + p99 / 1000;
            assert!(p99 + slack >= lo && p99 < hi + slack, "{at}: p99 {p99} ns outside ns-3's bin [{lo}, {hi}) ns");
            assert!(
                ((mine.tx - mine.rx) as f64 - (tx - rx) as f64).abs() <= 1e-3 * tx as f64 + 2.0,
                "{at}: lost {} of {} vs ns-3 {} of {tx}",
                mine.tx - mine.rx,
                mine.tx,
                tx - rx
            );
        }
        // The reference against closed forms.
        let ns3_loss = ns3_lost as f64 / ns3_sent as f64;
        if load < 1.0 {
            assert_eq!(ns3_lost, 0, "load {load}: ns-3 dropped with a 50 ms buffer");
        } else {
            // Fill time B / ((load - 1) C); after it, 1 - 1/load of the
            // offered bytes are dropped.
            let fill_s = QUEUE_BYTES as f64 * 8.0 / ((load - 1.0) * CAPACITY_BPS as f64);
            let expected = (1.0 - 1.0 / load) * (SEND_NS as f64 / 1e9 - fill_s) / (SEND_NS as f64 / 1e9);
            assert!((ns3_loss - expected).abs() < 0.005, "load {load}: ns-3 loss {ns3_loss}, closed form {expected}");
            let p99 = ns3_p99_bin(&ns3[0]).1;
            assert!(p99 as f64 > 0.95 * (base_ns + full_ns) as f64, "load {load}: a full queue should delay by ~{full_ns} ns");
        }
    }
    eprintln!("{table}");
}
