//! 100 000 default home nodes churning for one simulated hour on the
//! engine: on/off transitions and household-usage ticks, one event each.
//! Prints the event count, wall time, event rate, the size of a node's
//! state and the peak resident memory per node.
//!
//! cargo run --release -p cdnsim-net --example churn_100k [-- NODES HOURS]

use std::time::Instant;

use cdnsim_engine::{Class, Model, Scheduler, SimDuration, SimTime, run};
use cdnsim_net::home::{HomeModel, HomeNode};

/// Marks a household tick in an event; the low bits are the node index.
const HOUSEHOLD: u32 = 1 << 31;

struct Churn<'a> {
    model: &'a HomeModel,
    nodes: Vec<HomeNode>,
    stop: SimTime,
    churn_events: u64,
    household_events: u64,
    online: u32,
}

impl Model for Churn<'_> {
    type Event = u32;
    fn handle(&mut self, sched: &mut Scheduler<u32>, event: u32) {
        let now = sched.now();
        let node = &mut self.nodes[(event & !HOUSEHOLD) as usize];
        let next = if event & HOUSEHOLD != 0 {
            self.household_events += 1;
            node.household_tick(now, self.model)
        } else {
            self.churn_events += 1;
            let next = node.churn(now, self.model);
            if node.is_online() {
                self.online += 1;
            } else {
                self.online -= 1;
            }
            next
        };
        // Only what falls inside the run is scheduled: a heavy-tailed
        // session may end centuries later.
        if next <= self.stop {
            sched.schedule_at(next, Class(0), event);
        }
    }
}

/// A field of /proc/self/status in KiB (VmHWM = peak RSS, VmRSS = now).
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What one run did.
struct Outcome {
    events: u64,
    churn_events: u64,
    household_events: u64,
    online: u32,
    wall_s: f64,
}

/// Runs `home` (in the given storage order) until `stop`.
fn simulate(model: &HomeModel, home: Vec<HomeNode>, stop: SimTime) -> Outcome {
    let nodes = home.len();
    let mut sched = Scheduler::new(2 * nodes + 1);
    for (i, n) in home.iter().enumerate() {
        if n.next_churn_at() <= stop {
            sched.schedule_at(n.next_churn_at(), Class(0), i as u32);
        }
        sched.schedule_at(n.next_household_tick_at(), Class(0), i as u32 | HOUSEHOLD);
    }
    let online = home.iter().filter(|n| n.is_online()).count() as u32;
    let mut sim = Churn { model, nodes: home, stop, churn_events: 0, household_events: 0, online };
    let start = Instant::now();
    let stats = run(&mut sim, &mut sched, stop).expect("pending events stay within 2 per node");
    let wall_s = start.elapsed().as_secs_f64();
    Outcome {
        events: stats.events,
        churn_events: sim.churn_events,
        household_events: sim.household_events,
        online: sim.online,
        wall_s,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let nodes: u32 = args.next().map_or(100_000, |a| a.parse().expect("NODES: a count"));
    let hours: u64 = args.next().map_or(1, |a| a.parse().expect("HOURS: whole hours"));
    assert!(nodes < HOUSEHOLD, "at most 2^31 - 1 nodes");
    let rss_before_kib = proc_status_kib("VmRSS:").unwrap_or(0);

    let model = HomeModel::default();
    let stop = SimTime::ZERO + SimDuration::from_secs(hours * 3600);
    println!("home nodes                {nodes}");
    println!("simulated                 {hours} h");
    println!("size_of::<HomeNode>()     {} B", std::mem::size_of::<HomeNode>());
    // Two storage orders of the same nodes. Household ticks come every
    // 60 s at a random phase per node, so in id order each event touches
    // a random node: a cache and TLB miss per event. Stored in order of
    // their tick phase, the nodes are visited as a sweep through memory
    // each minute. Same events, same results; only the layout differs.
    let mut first_hwm_kib = 0;
    for layout in ["id order", "tick-phase order"] {
        let build = Instant::now();
        let mut home: Vec<HomeNode> = (0..nodes).map(|id| HomeNode::new(id, 1, &model)).collect();
        if layout == "tick-phase order" {
            home.sort_by_key(|n| n.next_household_tick_at());
        }
        let build_s = build.elapsed().as_secs_f64();
        let o = simulate(&model, home, stop);
        if first_hwm_kib == 0 {
            first_hwm_kib = proc_status_kib("VmHWM:").unwrap_or(0);
        }
        println!("-- nodes stored in {layout}");
        println!("build nodes               {build_s:.3} s");
        println!("events                    {}", o.events);
        println!("  on/off transitions      {}", o.churn_events);
        println!("  household ticks         {}", o.household_events);
        println!("online at the end         {} ({:.2}%)", o.online, 100.0 * o.online as f64 / nodes as f64);
        println!("run wall                  {:.3} s", o.wall_s);
        println!("events/s                  {:.3e}", o.events as f64 / o.wall_s);
    }

    // Measured after the first run, while only one set of nodes existed.
    let hwm_kib = first_hwm_kib;
    println!("--");
    println!("peak RSS (VmHWM)          {:.1} MiB", hwm_kib as f64 / 1024.0);
    println!("peak RSS per node         {:.0} B", hwm_kib as f64 * 1024.0 / nodes as f64);
    println!(
        "peak RSS above start, per node {:.0} B (the node, its share of the event queue, allocator slack)",
        hwm_kib.saturating_sub(rss_before_kib) as f64 * 1024.0 / nodes as f64
    );
}
