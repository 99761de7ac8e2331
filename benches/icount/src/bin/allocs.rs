//! Heap allocations of a world run, counted by a global allocator that
//! wraps the system's (benches/README.md, "Allocations"): calls to
//! `alloc`/`realloc`, bytes live at the peak, per event and per viewer.
//! A binary of its own so that the gate's runner, whose instructions
//! callgrind counts, keeps the plain allocator.
//!
//!   cargo run --release -p cdnsim-icount --bin allocs [quickstart | flagship_small]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

struct Counting;

static CALLS: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

fn grew(bytes: u64) {
    let live = LIVE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        CALLS.fetch_add(1, Relaxed);
        grew(layout.size() as u64);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as u64, Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        CALLS.fetch_add(1, Relaxed);
        LIVE.fetch_sub(layout.size() as u64, Relaxed);
        grew(new_size as u64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const QUICKSTART_TOML: &str = include_str!("../../../../scenarios/quickstart.toml");

fn main() -> Result<(), String> {
    let which = std::env::args().nth(1).unwrap_or_else(|| "flagship_small".into());
    let scenario = match which.as_str() {
        "quickstart" => cdnsim_scenario::parse("scenarios/quickstart.toml", QUICKSTART_TOML).map_err(|e| e.to_string())?,
        "flagship_small" => cdnsim_icount::workloads::flagship_small()?,
        other => return Err(format!("expected quickstart or flagship_small, found {other:?}")),
    };
    let id = cdnsim_world::RunIdentity { run_id: "allocs".into(), seed: scenario.seed, replication: 0 };
    let (calls0, live0) = (CALLS.load(Relaxed), LIVE.load(Relaxed));
    PEAK.store(live0, Relaxed);
    let results = cdnsim_world::simulate(&scenario, &id).map_err(|e| e.to_string())?;
    let calls = CALLS.load(Relaxed) - calls0;
    let peak = PEAK.load(Relaxed) - live0;
    let viewers = results.viewers.len() as u64;
    println!("{which}: {} events, {viewers} viewers", results.events);
    println!("allocations in simulate (build, run, results): {calls} = {:.3} per event", calls as f64 / results.events as f64);
    println!("heap peak above the start: {peak} bytes = {:.0} bytes per viewer", peak as f64 / viewers.max(1) as f64);
    Ok(())
}
