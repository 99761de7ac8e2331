//! The model: wires the underlay (net), the delivery tree and the viewers'
//! players onto the engine, and turns what happened into the results
//! contract's rows.
//!
//! Module map:
//! - `class`: the tie-break classes of same-instant events (the order is
//!   part of the model, so it is written down there).
//! - [`event`]: the events.
//! - `run`: [`RunIdentity`], [`RunResults`], [`WorldError`].
//! - `build`: scenario -> initial world (topology, nodes, random streams).
//! - `world`: delivery over the overlay and the dispatch of every event:
//!   capture, transmission with per-hop retransmission, routes and
//!   subscriptions, probing and switching, faults, viewer sessions.
//! - `backbone`: the shared backbone links under the overlay links: a
//!   chunk queues at each corridor segment and interconnect of its path
//!   (one event per backbone hop).
//! - `service`: where the mesh's route service runs and the overlay
//!   path its requests and answers take.
//! - `node`: an IDC node's part in each stream it carries, and its block
//!   window.
//! - `overlay`: the scenario as the routing crate's graph, and the router.
//! - `fec`: forward error correction on the internal links of hot streams
//!   (an MDS erasure model per block per hop).
//! - `viewer`: a viewer session and its player (playout, stalls, skips).
//! - `parts`: the parts beside delivery, each owning its state, events
//!   and results, seeing the world only through `Surroundings`: home nodes
//!   (`parts/homes.rs`) and the last hop (`parts/lasthop.rs`, the adapter
//!   for `cdnsim-lasthop`). The registry is the one file that names them.
//! - `series`: per-second totals per stream.
//! - `record`: summary, time series and viewer rows at the end of a run.
//! - `edge`: a scenario with `[edge]` runs the edge-container RTC cloud
//!   instead (the adapter for `cdnsim-edge`, with its own events, build
//!   and results).
//!
//! docs/architecture.md says which files a new node kind, overlay mode or
//! metric touches.
//!
//! What this slice models, and what it does not, is listed in README.md
//! under "What the model covers".

mod backbone;
mod build;
mod class;
mod edge;
pub mod event;
mod fec;
mod node;
mod overlay;
mod parts;
mod record;
mod run;
mod series;
mod service;
mod viewer;
mod world;

use cdnsim_engine::{Scheduler, SimTime, run};
use cdnsim_scenario::Scenario;

pub use parts::bundled_decode_table;
pub use run::{RunIdentity, RunResults, WorldError};

/// An upper estimate of a run's peak memory, in bytes, from what the
/// scenario implies before anything runs: viewer sessions (expected
/// arrivals plus six standard deviations of the Poisson count), each with
/// its state, buffer and result row; streams; home nodes; the control
/// messages' log ([`control_messages_bound`]); the bound on pending
/// events. The CLI refuses a run whose estimate exceeds available memory.
pub fn memory_estimate_bytes(sc: &Scenario) -> u64 {
    if let Some(e) = &sc.edge {
        return edge::memory_estimate_bytes(sc, e);
    }
    let sessions = build::expected_sessions(sc) as u64;
    // A session keeps its viewer, its stop flag and last-hop tallies into
    // the results; its row is built only within its row group, one group
    // at a time (about a row, its columns and polars' arrays per row).
    let per_viewer = (std::mem::size_of::<viewer::Viewer>() + viewer::MAX_AHEAD_BLOCKS * 2 + 17 + 64) as u64;
    let group_rows = cdnsim_metrics::table::row_groups(sessions as usize).iter().map(|g| g.len()).max().unwrap_or(0) as u64;
    let per_row = 3 * std::mem::size_of::<cdnsim_metrics::ViewerRow>() as u64;
    let per_event = (std::mem::size_of::<event::Event>() + 16) as u64 * 2;
    let per_second = (std::mem::size_of::<cdnsim_metrics::TimeseriesRow>() + 64) as u64;
    // A stream's state and its carry at the ingest, with a full window.
    let per_stream = (std::mem::size_of::<world::StreamState>() + std::mem::size_of::<node::Carry>() + 64) as u64
        + node::WINDOW_BLOCKS as u64 * (sc.stream.chunks_per_block().div_ceil(64) * 8 + 32);
    sessions * per_viewer
        + group_rows * per_row
        + control_messages_bound(sc, sessions) * std::mem::size_of::<world::ControlRow>() as u64
        + parts::Parts::memory_estimate_bytes(sc, sessions)
        + sc.broadcasters.count as u64 * per_stream
        + sc.max_pending_events as u64 * per_event
        + sc.duration_ns.div_ceil(1_000_000_000) * per_second * (sc.broadcasters.count as u64).min(sessions.max(1))
}

/// Control messages a run with `sessions` viewer sessions logs (one row
/// each in `control.parquet`), at most: a session creates at most one
/// carry of its stream, at its edge, whose route costs at most one request
/// to the route service (mesh) and a subscribe and an unsubscribe per hop
/// of a path of at most `max_hops`; each broadcaster's publishing path (a
/// tree's or a pool's) as much again. A retry is another sending of the
/// same message, not a row. Left out: the moves of probing rounds and the
/// subscribes sent again after a give-up, which depend on what probes find
/// during the run rather than on the scenario.
fn control_messages_bound(sc: &Scenario, sessions: u64) -> u64 {
    let per_path = 2 * sc.routing.max_hops as u64;
    let per_session = per_path + (sc.routing.mode == cdnsim_scenario::Mode::Mesh) as u64;
    sessions * per_session + sc.broadcasters.count as u64 * per_path
}

/// Runs `scenario` to its duration and returns its results.
pub fn simulate(scenario: &Scenario, id: &RunIdentity) -> Result<RunResults, WorldError> {
    if let Some(e) = &scenario.edge {
        return edge::simulate(scenario, e, id);
    }
    let mut sched = Scheduler::new(scenario.max_pending_events);
    let mut world = build::build(scenario, id.seed, &mut sched)?;
    let stop = SimTime::from_ns(scenario.duration_ns);
    let stats = run(&mut world, &mut sched, stop)
        .map_err(|source| WorldError::Engine { scenario: scenario.name.clone(), source })?;
    // The events still pending are never handled: their memory goes back
    // before the results are built.
    drop(sched);
    Ok(record::finish(world, id, stats.events, stop))
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICKSTART: &str = include_str!("../../../scenarios/quickstart.toml");

    #[test]
    fn the_estimate_counts_the_control_log_at_its_bound() {
        let tree = cdnsim_scenario::parse("q.toml", QUICKSTART).unwrap();
        let sessions = build::expected_sessions(&tree) as u64;
        // Quickstart: 5 arrivals/s for 120 s, 600 + 6 sqrt(600) = 746.97
        // -> 747 sessions; one broadcaster; at most 5 hops.
        assert_eq!(sessions, 747);
        assert_eq!(control_messages_bound(&tree, sessions), 747 * 10 + 10);
        let mut mesh = tree.clone();
        mesh.routing.mode = cdnsim_scenario::Mode::Mesh;
        assert_eq!(control_messages_bound(&mesh, sessions), 747 * 11 + 10, "one route request more per session");
        // A row is the 48 B the log keeps per message, and the estimate
        // moves by exactly the bound's rows.
        assert_eq!(std::mem::size_of::<world::ControlRow>(), 48);
        assert_eq!(memory_estimate_bytes(&mesh) - memory_estimate_bytes(&tree), 747 * 48);
    }
}
