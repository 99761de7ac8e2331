//! The gated workloads. Each one builds its inputs, passes the work itself
//! to [`measured`] (the only code callgrind counts), then checks the result,
//! so a workload that stopped doing its work fails instead of getting
//! cheaper. Inputs are built and outputs dropped outside [`measured`].
//!
//! Counts are exact only if everything before the measured part is the
//! same in every process: the heap's state when the work starts decides
//! which allocations take a free chunk and which split a new one. So the
//! inputs are built into the runner (`include_str!`) rather than read
//! from paths whose length depends on where the repository is cloned, and
//! [`crate::callgrind`] starts the runner under a fixed name.
//!
//! Sizes follow the criterion benches where those are small (one codec
//! block) and are cut where they are not (10^5 PHOLD events, 60 simulated
//! seconds of the quick start): 2 million to 240 million instructions a
//! workload, large enough that fixed costs (a first allocation, a lazily
//! built table) are noise next to the work, small enough that the whole
//! gate takes seconds under callgrind (50-100x slower than native).

use std::hint::black_box;

use cdnsim_benches::{EnginePhold, PholdConfig, QueuePhold};
use cdnsim_codec::{BlockEncoder, BlockSpec, FullReceiver, Packet, PlanCache, SplitMix64, StructuralDecoder};
use cdnsim_engine::{RadixQueue, SimTime, stream};
use cdnsim_routing::{Mode, Policy, Router, ScoreFn, Tier};
use cdnsim_world::{RunIdentity, simulate};
use rand::Rng;

use cdnsim_benches::china::china_graph;

/// The symbol callgrind toggles collection on (`--toggle-collect`), as
/// valgrind demangles it. Every instantiation of [`measured`] demangles to
/// this name, and a gate process runs one workload only.
pub const MEASURED_SYMBOL: &str = "cdnsim_icount::workloads::measured";

/// Runs `work` and returns its output. Callgrind counts the instructions
/// executed between entry to and exit from this function, so a workload
/// wraps exactly its work in it (several calls add up).
#[inline(never)]
pub fn measured<T>(work: impl FnOnce() -> T) -> T {
    black_box(work())
}

pub struct Workload {
    pub name: &'static str,
    pub what: &'static str,
    /// Runs the workload once; `Ok` is a one-line account of the work done,
    /// `Err` says which check failed.
    pub run: fn() -> Result<String, String>,
}

pub const WORKLOADS: [Workload; 8] = [
    Workload {
        name: "engine_queue",
        what: "PHOLD on the bare radix queue, 10^4 pending: 10^5 pop + push",
        run: engine_queue,
    },
    Workload {
        name: "engine_phold",
        what: "PHOLD on the engine's run loop, 10^4 pending: a window of about 10^5 events",
        run: engine_phold,
    },
    Workload {
        name: "codec_encode",
        what: "encode one block, K = 122, T = 1024, cached plan, then 50 repair packets",
        run: codec_encode,
    },
    Workload {
        name: "codec_decode",
        what: "decode one block, K = 122, T = 1024, from K + 2 repair packets in one batch",
        run: codec_decode,
    },
    Workload {
        name: "codec_structural",
        what: "structural decodability of K + 2 repair ESIs at K = 122: one solve, memo off",
        run: codec_structural,
    },
    Workload {
        name: "routing_mesh_join",
        what: "16 cold mesh joins (caches dropped before each) on the China overlay, 500 nodes",
        run: routing_mesh_join,
    },
    Workload {
        name: "world_quickstart",
        what: "cdnsim_world::simulate on scenarios/quickstart.toml cut to 60 simulated seconds",
        run: world_quickstart,
    },
    Workload {
        name: "world_flagship_small",
        what: "cdnsim_world::simulate on scenarios/scale_1m.toml at 1/100 of its size, cut to 10 simulated seconds",
        run: world_flagship_small,
    },
];

pub fn find(name: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.name == name)
}

/// The PHOLD seed of the criterion benchmark.
const PHOLD_SEED: u64 = 0x5EED_0001;
const PHOLD_PENDING: u32 = 10_000;
const PHOLD_EVENTS: u64 = 100_000;

fn engine_queue() -> Result<String, String> {
    let cfg = PholdConfig::new(PHOLD_PENDING, PHOLD_SEED);
    let mut p = QueuePhold::new(cfg, RadixQueue::new());
    // Warm-up: each initial event handled about once, so the buckets hold
    // a steady-state spread of keys rather than the initial layout.
    p.run_events(PHOLD_PENDING as u64);
    let before = p.tally();
    measured(|| p.run_events(PHOLD_EVENTS));
    let window = p.tally().since(before);
    if window.events != PHOLD_EVENTS || p.pending() != PHOLD_PENDING as usize {
        return Err(format!("handled {} events with {} pending", window.events, p.pending()));
    }
    Ok(format!("{} events, checksum {:016x}", window.events, window.checksum))
}

fn engine_phold() -> Result<String, String> {
    let cfg = PholdConfig::new(PHOLD_PENDING, PHOLD_SEED);
    let warm = cfg.warm_up_stop();
    let stop = SimTime::from_ns(warm.as_ns() + cfg.span_for(PHOLD_EVENTS));
    let mut p = EnginePhold::new(cfg);
    p.run_until(warm).map_err(|e| e.to_string())?;
    let window = measured(|| p.run_until(stop)).map_err(|e| e.to_string())?;
    // The window is a span of simulated time: about PHOLD_EVENTS events.
    if window.events.abs_diff(PHOLD_EVENTS) > PHOLD_EVENTS / 10 || p.pending() != PHOLD_PENDING as usize {
        return Err(format!("handled {} events with {} pending", window.events, p.pending()));
    }
    Ok(format!("{} events, checksum {:016x}", window.events, window.checksum))
}

const SYMBOL_BYTES: u64 = 1024;
const K: u16 = 122;
const REPAIR: u32 = 50;

/// One block of K symbols of deterministic pseudo-random bytes.
fn block() -> Result<(BlockSpec, Vec<u8>), String> {
    let spec = BlockSpec::new(K as u64 * SYMBOL_BYTES, SYMBOL_BYTES).map_err(|e| e.to_string())?;
    let mut rng = SplitMix64::new(K as u64);
    Ok((spec, (0..spec.block_bytes()).map(|_| rng.next_u64() as u8).collect()))
}

fn codec_encode() -> Result<String, String> {
    let (spec, data) = block()?;
    // The plan is built once per K and cached in a run; the gate counts
    // the per-block work.
    let mut plans = PlanCache::default();
    BlockEncoder::new(spec, 0, data.clone(), &mut plans).map_err(|e| e.to_string())?;
    let repair = K as u32..K as u32 + REPAIR;
    let (enc, packets) = measured(|| {
        let enc = BlockEncoder::new(spec, 0, data, &mut plans)?;
        let packets = enc.packets(repair.clone())?;
        Ok::<_, cdnsim_codec::CodecError>((enc, packets))
    })
    .map_err(|e| e.to_string())?;
    if packets.len() != REPAIR as usize || enc.source().len() != spec.block_bytes() as usize {
        return Err(format!("{} repair packets", packets.len()));
    }
    // The repair packets alone must give the block back.
    let mut rx = FullReceiver::new(spec, 0);
    let mut more = enc.packets(K as u32 + REPAIR..2 * K as u32 + 2).map_err(|e| e.to_string())?;
    more.extend(packets);
    rx.receive_batch(more).map_err(|e| e.to_string())?;
    rx.verify(enc.source()).map_err(|e| e.to_string())?;
    Ok(format!("{REPAIR} repair packets of {SYMBOL_BYTES} bytes"))
}

/// K + 2 repair packets (ESIs K + 100 onwards), as in the criterion bench.
fn repair_packets(spec: BlockSpec, data: Vec<u8>) -> Result<Vec<Packet>, String> {
    let enc = BlockEncoder::new(spec, 0, data, &mut PlanCache::default()).map_err(|e| e.to_string())?;
    enc.packets(K as u32 + 100..2 * K as u32 + 102).map_err(|e| e.to_string())
}

fn codec_decode() -> Result<String, String> {
    let (spec, data) = block()?;
    let packets = repair_packets(spec, data.clone())?;
    let count = packets.len();
    let mut rx = FullReceiver::new(spec, 0);
    let tally = measured(|| rx.receive_batch(packets)).map_err(|e| e.to_string())?;
    if !tally.decoded {
        return Err(format!("{count} repair packets did not decode"));
    }
    rx.verify(&data).map_err(|e| e.to_string())?;
    Ok(format!("decoded from {count} repair packets, {} bytes verified", data.len()))
}

fn codec_structural() -> Result<String, String> {
    let esis: Vec<u32> = (K as u32 + 100..2 * K as u32 + 102).collect();
    let mut decoder = StructuralDecoder::new(0);
    let decodable = measured(|| decoder.decodable(K, &esis)).map_err(|e| e.to_string())?;
    let stats = decoder.stats();
    if !decodable || stats.solves != 1 {
        return Err(format!("decodable {decodable}, {stats:?}"));
    }
    Ok(format!("{} ESIs decodable after one solve", esis.len()))
}

const ROUTING_SEED: u64 = 0x5EED_0004;
const JOINS: u32 = 16;

fn routing_mesh_join() -> Result<String, String> {
    let graph = china_graph()?;
    let (nodes, links) = (graph.node_count(), graph.link_count());
    let edges: Vec<u32> = (0..graph.node_count() as u32).filter(|&u| graph.node(u).tier == Tier::Edge).collect();
    let mut rng = stream(ROUTING_SEED, "icount.routing.pairs");
    let mut router =
        Router::new(graph, Mode::Mesh, Policy::default(), ScoreFn::default()).map_err(|e| e.to_string())?;
    let (mut routed, mut hops) = (0, 0);
    let mut stream_id = 0;
    while stream_id < JOINS {
        let (s, t) = (edges[rng.random_range(0..edges.len())], edges[rng.random_range(0..edges.len())]);
        if s == t {
            continue;
        }
        router.clear_caches();
        let route = measured(|| router.join(0, stream_id, s, t));
        if let Ok(r) = route {
            if r.nodes.first() != Some(&s) || r.nodes.last() != Some(&t) {
                return Err(format!("route for {s} -> {t} is {:?}", r.nodes));
            }
            routed += 1;
            hops += r.links.len();
        }
        router.close(stream_id);
        stream_id += 1;
    }
    // Most edge pairs have a mesh route: a gate that counted mostly failed
    // searches would be measuring something else.
    if routed < JOINS / 2 {
        return Err(format!("only {routed} of {JOINS} joins routed"));
    }
    Ok(format!("{routed} of {JOINS} joins routed, {hops} links in all; graph of {nodes} nodes, {links} links"))
}

const QUICKSTART_TOML: &str = include_str!("../../../scenarios/quickstart.toml");
const WORLD_SECONDS: u64 = 60;

fn world_quickstart() -> Result<String, String> {
    let mut scenario =
        cdnsim_scenario::parse("scenarios/quickstart.toml", QUICKSTART_TOML).map_err(|e| e.to_string())?;
    scenario.duration_ns = WORLD_SECONDS * 1_000_000_000;
    let id = RunIdentity { run_id: "icount".to_string(), seed: scenario.seed, replication: 0 };
    let results = measured(|| simulate(&scenario, &id)).map_err(|e| e.to_string())?;
    if results.events == 0 || results.viewers.is_empty() {
        return Err(format!("{} events, {} viewers", results.events, results.viewers.len()));
    }
    Ok(format!("{} events, {} viewer rows", results.events, results.viewers.len()))
}

const SCALE_1M_TOML: &str = include_str!("../../../scenarios/scale_1m.toml");
const CHINA_TOML: &str = include_str!("../../../scenarios/topologies/china.toml");
const SCALE_SECONDS: u64 = 10;

/// The flagship's structure at 1/100 of its size, the way
/// scripts/results_digest.sh scales it (`scale_down`): the audience
/// (`initial`, `arrivals_per_s`), the streams and home nodes (`count`), the
/// hot threshold and the event bound divided by 100, the rest as bundled.
fn scale_down(text: &str) -> String {
    const KEYS: [&str; 5] = ["initial", "arrivals_per_s", "count", "hot_viewers", "max_pending_events"];
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut line = line.to_string();
        for key in KEYS {
            let Some(rest) = line.strip_prefix(key) else { continue };
            let Some((eq, tail)) = rest.split_once('=') else { continue };
            if !eq.trim().is_empty() {
                continue;
            }
            let value = tail.trim_start();
            let digits: String = value.chars().take_while(|c| c.is_ascii_digit() || *c == '_' || *c == '.').collect();
            if digits.is_empty() {
                continue;
            }
            let x: f64 = digits.replace('_', "").parse().expect("a number");
            let scaled = if digits.contains('.') { format!("{:?}", x / 100.0) } else { ((x / 100.0) as u64).max(1).to_string() };
            line = format!("{key} = {scaled}{}", &value[digits.len()..]);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The flagship at 1/100 (its topology written beside it at a fixed path,
/// so the heap before the measured part does not depend on where the
/// repository is cloned), cut to 10 simulated seconds: the first five are
/// the initial audience joining. Also the input of the `allocs` binary.
pub fn flagship_small() -> Result<cdnsim_scenario::Scenario, String> {
    let dir = std::path::Path::new("/tmp/cdnsim-icount/scenarios");
    std::fs::create_dir_all(dir.join("topologies")).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("topologies/china.toml"), CHINA_TOML).map_err(|e| e.to_string())?;
    let file = dir.join("scale_1m.toml");
    let text = scale_down(SCALE_1M_TOML);
    let mut scenario = cdnsim_scenario::parse(&file.to_string_lossy(), &text).map_err(|e| e.to_string())?;
    scenario.duration_ns = SCALE_SECONDS * 1_000_000_000;
    Ok(scenario)
}

fn world_flagship_small() -> Result<String, String> {
    let scenario = flagship_small()?;
    let id = RunIdentity { run_id: "icount".to_string(), seed: scenario.seed, replication: 0 };
    let results = measured(|| simulate(&scenario, &id)).map_err(|e| e.to_string())?;
    let homes = results.summary.home_nodes;
    if results.events == 0 || results.viewers.len() < 9_000 || homes < 500 {
        return Err(format!("{} events, {} viewers, {homes} home nodes", results.events, results.viewers.len()));
    }
    Ok(format!("{} events, {} viewer rows, {homes} home nodes", results.events, results.viewers.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_fit_a_baseline_key() {
        for (i, w) in WORKLOADS.iter().enumerate() {
            assert!(w.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}", w.name);
            assert!(WORKLOADS[..i].iter().all(|v| v.name != w.name), "{} twice", w.name);
            assert!(find(w.name).is_some());
        }
        assert!(find("nope").is_none());
    }

    // Each workload does its work and passes its own checks (natively: the
    // counts themselves come from the gate, scripts/icount.sh).
    #[test]
    fn engine_workloads_run() {
        engine_queue().unwrap();
        engine_phold().unwrap();
    }

    #[test]
    fn codec_workloads_run() {
        codec_encode().unwrap();
        codec_decode().unwrap();
        codec_structural().unwrap();
    }

    #[test]
    fn routing_workload_runs() {
        routing_mesh_join().unwrap();
    }

    #[test]
    fn world_workload_runs() {
        world_quickstart().unwrap();
    }

    #[test]
    fn scale_down_divides_the_flagships_sizes_by_100() {
        let small = scale_down("initial = 1_000_000 # a\narrivals_per_s = 2500.0\ncount = 10000\nmax_pending_events = 20000000\ninitial_window = \"5 s\"\nseed = 11\ncount = 50\n");
        assert_eq!(small, "initial = 10000 # a\narrivals_per_s = 25.0\ncount = 100\nmax_pending_events = 200000\ninitial_window = \"5 s\"\nseed = 11\ncount = 1\n");
    }

    #[test]
    fn flagship_workload_runs() {
        println!("{}", world_flagship_small().unwrap());
    }
}
