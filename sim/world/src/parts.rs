//! The world's parts: the subsystems that live beside delivery over the
//! overlay (`world.rs`). Each owns its state, its events and its share of
//! the results, and sees the rest of the world only through
//! [`Surroundings`]; this file, the registry, is the one place in the
//! world that names them all.
//!
//! Module map:
//! - `surroundings`: [`Surroundings`], what a part sees of the world
//!   during one of its calls (clock, scheduler, delivery to edges, the
//!   viewers it serves, byte counters). It imports nothing of the parts.
//! - `homes`: home nodes: placement, churn, household usage.
//! - `lasthop`: the fountain-coded last hop, the adapter for
//!   `cdnsim-lasthop` (edge queues, symbol loss, NAT traversal, latencies).
//!
//! The contract between delivery and the parts:
//! - Delivery holds the parts and takes them out for each call (so a part
//!   can be handed the rest of the world mutably); a part's call never
//!   reaches back into the parts.
//! - [`Parts::start`] runs once at time zero, after the broadcasters have
//!   published; [`Parts::handle`] gets every [`Event::Part`] back in
//!   scheduling order.
//! - Delivery calls the hooks where things happen to viewers and blocks:
//!   [`Parts::serves`] and [`Parts::viewer_joins`] when a viewer joins (a
//!   part that serves the viewer's stream takes it instead of the edge's
//!   chunk delivery), [`Parts::viewer_leaves`], and
//!   [`Parts::block_complete`] at a node that carries a stream for a
//!   part's users (`Surroundings::attach`).
//! - The results ask for [`Parts::columns`] (after delivery's summary
//!   columns, before the backbone's) and [`Parts::tables`].
//!
//! A new part (a new node kind) is a module under `parts/` and, here, its
//! `mod` line, a variant of [`PartEvent`] with its `From`, a bound in
//! [`Around`], a field of [`Parts`], and a line in each function below that
//! concerns it: docs/architecture.md lists the files.
//!
//! [`Event::Part`]: crate::event::Event::Part

mod homes;
mod lasthop;
mod surroundings;

use cdnsim_engine::SimTime;
use cdnsim_metrics::{Table, Value};
use cdnsim_scenario::Scenario;

pub use homes::HomeEvent;
use homes::Homes;
pub use lasthop::{LastHopEvent, bundled_decode_table};
use lasthop::LastHopNet;
pub use surroundings::Surroundings;

/// A part's event, as the world's event enum carries it.
#[derive(Clone, Copy, Debug)]
pub enum PartEvent {
    Homes(HomeEvent),
    LastHop(LastHopEvent),
}

impl From<HomeEvent> for PartEvent {
    fn from(e: HomeEvent) -> Self {
        PartEvent::Homes(e)
    }
}

impl From<LastHopEvent> for PartEvent {
    fn from(e: LastHopEvent) -> Self {
        PartEvent::LastHop(e)
    }
}

/// The world as every part sees it: surroundings for each part's events.
/// The world's implementation covers every event type that converts into
/// a [`PartEvent`].
pub trait Around: Surroundings<HomeEvent> + Surroundings<LastHopEvent> {}

impl<T: Surroundings<HomeEvent> + Surroundings<LastHopEvent>> Around for T {}

/// Every part of a run.
pub struct Parts {
    homes: Homes,
    /// The fountain-coded last hop, when the scenario has one.
    lasthop: Option<LastHopNet>,
}

impl Parts {
    /// The parts of `sc` at time zero; `edges_by_region`: the edge nodes of
    /// each region, in node order.
    pub fn build(sc: &Scenario, seed: u64, seconds: usize, edges_by_region: &[Vec<u32>]) -> Parts {
        let homes = Homes::build(sc, seed, seconds);
        let lasthop = sc.last_hop.is_some().then(|| LastHopNet::new(sc, seed, &homes, edges_by_region));
        Parts { homes, lasthop }
    }

    /// An upper estimate of the parts' memory with `sessions` viewer
    /// sessions (lib.rs, `memory_estimate_bytes`).
    pub fn memory_estimate_bytes(sc: &Scenario, sessions: u64) -> u64 {
        let homes = sc.home.as_ref().map_or(0, |h| h.count() as u64);
        let per_home = (std::mem::size_of::<cdnsim_net::home::HomeNode>() + 2 * 2 + 2 * 48) as u64;
        let last_hop = match &sc.last_hop {
            Some(l) => clients_at_most(sc, l.streams, sessions) * lasthop::client_bytes(sc) + homes * cdnsim_lasthop::home_bytes(),
            None => 0,
        };
        last_hop + homes * per_home
    }

    /// Time zero, after the broadcasters published: home nodes' first churn
    /// and household ticks, then the last hop's registrations and clocks.
    pub fn start(&mut self, w: &mut impl Around) {
        self.homes.start(w);
        if let Some(net) = &mut self.lasthop {
            net.start(&self.homes, w);
        }
    }

    /// One of the parts' events.
    pub fn handle(&mut self, event: PartEvent, w: &mut impl Around) {
        match event {
            PartEvent::Homes(e) => {
                self.homes.handle(e, w);
                if let (HomeEvent::Churn(h), Some(net)) = (e, &mut self.lasthop) {
                    net.churn(h, &self.homes, w);
                }
            }
            PartEvent::LastHop(e) => self.lasthop.as_mut().expect("last-hop events need a last hop").handle(e, &self.homes, w),
        }
    }

    /// Whether a part serves viewers of `stream` (then [`Parts::viewer_joins`]
    /// takes them).
    pub fn serves(&self, stream: u32) -> bool {
        self.lasthop.as_ref().is_some_and(|net| net.covers(stream))
    }

    /// Viewer `v` of a stream a part serves joins at (stream, edge,
    /// region); `newest`: the edge's newest complete block of the stream.
    pub fn viewer_joins(&mut self, v: u32, place: (u32, u32, u16), newest: Option<u32>, w: &mut impl Around) {
        let net = self.lasthop.as_mut().expect("only the last hop serves viewers");
        net.join(v, place, newest, &self.homes, w);
    }

    /// Viewer `v` leaves; whether a part served it.
    pub fn viewer_leaves(&mut self, v: u32, w: &mut impl Around) -> bool {
        match &mut self.lasthop {
            Some(net) => net.leave(v, &self.homes, w),
            None => false,
        }
    }

    /// Block `block` of `stream` completed at `node`, which carries the
    /// stream for some part's users.
    pub fn block_complete(&mut self, stream: u32, node: u32, block: u32, w: &mut impl Around) {
        if let Some(net) = &mut self.lasthop {
            net.block_ready(stream, node, block, &self.homes, w);
        }
    }

    /// The run is over: sessions' working state goes back, tallies stay
    /// (only the results' readers may be called after this).
    pub fn release_sessions(&mut self) {
        if let Some(net) = &mut self.lasthop {
            net.lh.release_sessions();
        }
    }

    /// Home nodes of the run.
    pub fn home_nodes(&self) -> u64 {
        self.homes.nodes.len() as u64
    }

    /// Home nodes online at the end of each simulated second.
    pub fn online_by_second(&self) -> Vec<u64> {
        self.homes.online_by_second()
    }

    /// Blocks the last hop failed to decode (0 without one: only it codes).
    pub fn decode_failures(&self) -> u64 {
        self.lasthop.as_ref().map_or(0, |net| net.decode_failures())
    }

    /// Viewer `v`'s home nodes used and evictions, for its row.
    pub fn viewer_tally(&self, v: u32) -> (u64, u64) {
        self.lasthop.as_ref().map_or((0, 0), |net| net.viewer_tally(v))
    }

    /// The parts' summary columns, in a fixed order; every run has them.
    pub fn columns(&self, sc: &Scenario) -> Vec<(String, Value)> {
        lasthop::columns(self.lasthop.as_ref(), sc, &self.homes)
    }

    /// The parts' tables: `home_nodes` when the run has home nodes.
    pub fn tables(&self, sc: &Scenario, stop: SimTime) -> Vec<(String, Table)> {
        let mut tables = Vec::new();
        if !self.homes.nodes.is_empty() {
            let rows = self.homes.rows();
            let mut t = self.homes.table(sc, &rows, stop);
            if let Some(net) = &self.lasthop {
                net.home_columns(&rows, &mut t);
            }
            tables.push(("home_nodes".to_string(), t));
        }
        tables
    }
}

/// An upper bound on the last-hop clients among `sessions` sessions: each
/// session picks the `streams` most popular streams (Zipf ranks 1 to
/// `streams`, world.rs `on_join`) with probability p, so the clients are
/// Binomial(sessions, p), bounded here at the mean plus six standard
/// deviations as the sessions are (`build::expected_sessions`). A quarter
/// of the flagship's sessions are clients: counting every session as one
/// held the estimate four times too high on the last hop's share.
fn clients_at_most(sc: &Scenario, streams: u32, sessions: u64) -> u64 {
    let n = sc.broadcasters.count as usize;
    let weight = |r: usize| cdnsim_maths::powf(r as f64, -sc.broadcasters.zipf);
    let total: f64 = (1..=n).map(weight).sum();
    let p = ((1..=(streams as usize).min(n)).map(weight).sum::<f64>() / total).min(1.0);
    let mean = sessions as f64 * p;
    ((mean + 6.0 * (mean * (1.0 - p)).sqrt()).ceil() as u64).min(sessions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clients' bound on the flagship's numbers: Zipf 1 over 10,000
    /// streams, the 5 most popular on the last hop, so p = H(5) / H(10,000)
    /// = 0.2333 (harmonic numbers). The flagship's run (1,120,118
    /// sessions) had 260,429 clients (benches/README.md, "Memory of the
    /// flagship"): under the bound, as a bound must be, and within 1.5% of it.
    #[test]
    fn last_hop_clients_are_bounded_by_the_top_streams_binomial_tail() {
        let mut sc = cdnsim_scenario::parse("q.toml", include_str!("../../../scenarios/quickstart.toml")).unwrap();
        sc.broadcasters.count = 10_000;
        sc.broadcasters.zipf = 1.0;
        let h = |n: u32| (1..=n).map(|r| 1.0 / r as f64).sum::<f64>();
        let p = h(5) / h(10_000);
        let sessions = 1_120_118u64;
        let mean = sessions as f64 * p;
        let bound = clients_at_most(&sc, 5, sessions);
        assert_eq!(bound, (mean + 6.0 * (mean * (1.0 - p)).sqrt()).ceil() as u64);
        assert!(bound >= 260_429 && (bound as f64) < 260_429.0 * 1.015, "bound {bound}");
        // Every stream on the last hop: every session is a client.
        assert_eq!(clients_at_most(&sc, 10_000, 1_000), 1_000);
    }
}
