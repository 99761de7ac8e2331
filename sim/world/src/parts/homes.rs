//! Home nodes, a part of the world: their state, placement and model.
//! They go on and offline and their usable upload changes (the net crate's
//! home-node model); the registry (`parts.rs`) tells the last hop of every
//! change.

use cdnsim_engine::SimTime;
use cdnsim_metrics::{Col, Table};
use cdnsim_net::home::{HomeModel, HomeNode};
use cdnsim_scenario::Scenario;

use super::surroundings::Surroundings;
use crate::class::NET;
use crate::series::second_index;

/// The home nodes' events (positions in memory, not ids: see
/// [`Homes::build`]).
#[derive(Clone, Copy, Debug)]
pub enum HomeEvent {
    /// Node `h` goes on- or offline.
    Churn(u32),
    /// Node `h`'s household-usage level may change.
    Tick(u32),
}

#[derive(Default)]
pub struct Homes {
    pub model: Option<HomeModel>,
    /// In memory in the order of their household ticks (see `Homes::build`).
    pub nodes: Vec<HomeNode>,
    /// Id of each node: its position in the scenario's placements, which
    /// names its random streams and orders `home_nodes.parquet`.
    pub id: Vec<u32>,
    /// Region and ISP of each node (struct of arrays: the hot path reads
    /// only `nodes`).
    pub region: Vec<u16>,
    pub isp: Vec<u16>,
    pub isps: Vec<String>,
    pub online_at_start: u64,
    /// Change of the online count during each simulated second.
    pub online_delta: Vec<i64>,
}

impl Homes {
    /// Home nodes in placement order: ids follow the scenario's
    /// `[[home.regions]]` entries, so adding an entry at the end leaves every
    /// earlier node's draws as they were (each node has its own streams).
    pub fn build(sc: &Scenario, seed: u64, seconds: usize) -> Homes {
        let Some(home) = &sc.home else {
            return Homes {
                model: None,
                nodes: Vec::new(),
                id: Vec::new(),
                region: Vec::new(),
                isp: Vec::new(),
                isps: Vec::new(),
                online_at_start: 0,
                online_delta: vec![0; seconds],
            };
        };
        let mut isps: Vec<String> = home.placements.iter().map(|p| p.1.clone()).collect();
        isps.sort();
        isps.dedup();
        let n = home.count() as usize;
        let (mut nodes, mut region, mut isp) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        for (r, name, count) in &home.placements {
            let isp_index = isps.binary_search(name).expect("collected above") as u16;
            for _ in 0..*count {
                nodes.push(HomeNode::new(nodes.len() as u32, seed, &home.model));
                region.push(*r as u16);
                isp.push(isp_index);
            }
        }
        // Household ticks are most of a home node's events and come once per
        // interval at a fixed phase per node: laid out in phase order, the
        // nodes are visited as a sweep through memory instead of at random
        // (2-3x the event rate at 100k nodes, benches/README.md). Only the
        // layout changes; ids, streams and results do not.
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by_key(|&i| (nodes[i as usize].next_household_tick_at(), i));
        let pick = |v: &[u16]| order.iter().map(|&i| v[i as usize]).collect::<Vec<u16>>();
        let (region, isp) = (pick(&region), pick(&isp));
        let nodes: Vec<HomeNode> = order.iter().map(|&i| nodes[i as usize].clone()).collect();
        let online_at_start = nodes.iter().filter(|h| h.is_online()).count() as u64;
        Homes {
            model: Some(home.model.clone()),
            nodes,
            id: order,
            region,
            isp,
            isps,
            online_at_start,
            online_delta: vec![0; seconds],
        }
    }

    /// Every node's first churn and household tick.
    pub fn start(&self, w: &mut dyn Surroundings<HomeEvent>) {
        for (h, node) in self.nodes.iter().enumerate() {
            w.schedule(node.next_churn_at(), NET, HomeEvent::Churn(h as u32));
            w.schedule(node.next_household_tick_at(), NET, HomeEvent::Tick(h as u32));
        }
    }

    /// One of the home nodes' events; the registry tells the last hop of a
    /// churn after this.
    pub fn handle(&mut self, event: HomeEvent, w: &mut dyn Surroundings<HomeEvent>) {
        let now = w.now();
        match event {
            HomeEvent::Churn(h) => {
                let next = self.churn(h as usize, now);
                w.schedule(next, NET, HomeEvent::Churn(h));
            }
            HomeEvent::Tick(h) => {
                let next = self.household_tick(h as usize, now);
                w.schedule(next, NET, HomeEvent::Tick(h));
            }
        }
    }

    /// Nodes online at the end of each simulated second.
    pub fn online_by_second(&self) -> Vec<u64> {
        let mut online = self.online_at_start as i64;
        self.online_delta
            .iter()
            .map(|d| {
                online += d;
                online as u64
            })
            .collect()
    }

    /// Usable upload of node `h` at `now` (0 while offline).
    pub fn upload_bps(&self, h: usize, now: SimTime) -> u64 {
        let model = self.model.as_ref().expect("home nodes have a model");
        self.nodes[h].available_upload_bps(now, model)
    }

    /// Node `h` goes on- or offline now; returns when it next changes.
    pub fn churn(&mut self, h: usize, now: SimTime) -> SimTime {
        let model = self.model.as_ref().expect("home events need a home model");
        let node = &mut self.nodes[h];
        let next = node.churn(now, model);
        let delta = if node.is_online() { 1 } else { -1 };
        let s = second_index(now, self.online_delta.len());
        self.online_delta[s] += delta;
        next
    }

    /// Node `h`'s household-usage level may change now; returns its next tick.
    pub fn household_tick(&mut self, h: usize, now: SimTime) -> SimTime {
        let model = self.model.as_ref().expect("home events need a home model");
        self.nodes[h].household_tick(now, model)
    }

    /// Positions in memory in id order: the rows of `home_nodes.parquet`.
    pub fn rows(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = (0..self.nodes.len()).collect();
        rows.sort_by_key(|&i| self.id[i]);
        rows
    }

    /// `home_nodes.parquet`'s own columns over `rows` ([`Homes::rows`]):
    /// placement, NAT type, base upload and state at the end of the run.
    pub fn table(&self, sc: &Scenario, rows: &[usize], stop: SimTime) -> Table {
        let model = self.model.as_ref().expect("home nodes have a model");
        let mut t = Table::default();
        t.push("home_id", Col::U64(rows.iter().map(|&i| self.id[i] as u64).collect()));
        t.push("region", Col::Str(rows.iter().map(|&i| sc.regions[self.region[i] as usize].name.clone()).collect()));
        t.push("isp", Col::Str(rows.iter().map(|&i| self.isps[self.isp[i] as usize].clone()).collect()));
        t.push("nat", Col::Str(rows.iter().map(|&i| format!("{:?}", self.nodes[i].nat()).to_uppercase()).collect()));
        t.push("base_upload_bps", Col::U64(rows.iter().map(|&i| self.nodes[i].base_upload_bps() as u64).collect()));
        t.push("online_at_end", Col::Bool(rows.iter().map(|&i| self.nodes[i].is_online()).collect()));
        t.push("upload_at_end_bps", Col::U64(rows.iter().map(|&i| self.nodes[i].available_upload_bps(stop, model)).collect()));
        t
    }
}
