//! The resolved scenario: every reference checked and turned into an index,
//! every default filled in, every value in its base unit (ns, bit/s, bytes).
//! This is what the world runs and what `manifest.json` records.

use serde::Serialize;

// Shared with the crates that act on them: one definition each.
pub use cdnsim_codec::Fidelity;
pub use cdnsim_routing::{Mode, Redundancy};

#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    pub name: String,
    /// The bundled backbone the IDC nodes come from, if any.
    pub topology: Option<String>,
    pub description: String,
    pub seed: u64,
    pub duration_ns: u64,
    pub max_pending_events: usize,
    pub network: Network,
    pub transport: Transport,
    pub regions: Vec<Region>,
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    pub faults: Vec<Fault>,
    pub routing: Routing,
    pub broadcasters: Broadcasters,
    pub stream: Stream,
    pub viewers: Viewers,
    pub home: Option<Home>,
    pub last_hop: Option<LastHop>,
}

impl Scenario {
    /// Propagation between regions `a` and `b` on the scenario's fibre
    /// model, over a path `inflation` times the great circle (a link's own
    /// inflation, or the network's). The one place distances become time.
    pub fn propagation_ns(&self, a: usize, b: usize, inflation: f64) -> u64 {
        let (ra, rb) = (&self.regions[a], &self.regions[b]);
        let km = cdnsim_net::geo::great_circle_km(ra.lat_deg, ra.lon_deg, rb.lat_deg, rb.lon_deg);
        cdnsim_net::geo::propagation(km, inflation, self.network.propagation_km_per_ms).as_ns()
    }

    /// One-way latency between regions `a` and `b`: the propagation, never
    /// below the network's `min_latency` (two nodes in one region are
    /// still a metro network apart).
    pub fn region_latency_ns(&self, a: usize, b: usize, inflation: f64) -> u64 {
        self.propagation_ns(a, b, inflation).max(self.network.min_latency_ns)
    }
}

/// Home nodes, placed by (region, ISP) counts, all sharing one model.
#[derive(Clone, Debug, Serialize)]
pub struct Home {
    /// (region index, ISP, count), in file order; node ids follow it.
    pub placements: Vec<(usize, String, u32)>,
    pub model: cdnsim_net::home::HomeModel,
}

impl Home {
    pub fn count(&self) -> u32 {
        self.placements.iter().map(|p| p.2).sum()
    }
}

/// Upper bound on home nodes in one scenario: 32-bit ids, and a run stays
/// far below the machine's memory at ~400 B per node.
pub const MAX_HOME_NODES: u64 = 10_000_000;

#[derive(Clone, Debug, Serialize)]
pub struct Network {
    /// Path length over great-circle distance; real routes are longer than
    /// the geodesic.
    pub route_inflation: f64,
    /// Signal speed in fibre, about two thirds of c.
    pub propagation_km_per_ms: f64,
    /// Floor on a link's derived latency: two nodes in one region are still
    /// a metro network apart.
    pub min_latency_ns: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Transport {
    /// How long a sender waits before resending a lost chunk on a hop.
    pub retransmit_timeout_ns: u64,
    /// Resends per chunk and hop before the chunk is given up.
    pub max_retransmits: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Region {
    pub name: String,
    pub lat_deg: f64,
    pub lon_deg: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Multi-line BGP source: where the broadcaster's stream enters.
    Source,
    /// Regional centre, between sources and edges.
    Centre,
    /// Edge node that viewers attach to.
    Edge,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Centre => "centre",
            Role::Edge => "edge",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Node {
    pub name: String,
    pub region: usize,
    pub isp: String,
    /// Every ISP the node is reachable on: one for a single-line IDC,
    /// several for multi-line BGP.
    pub isps: Vec<String>,
    /// The topology area (the node's region without a topology): routing
    /// pools group nodes by (area, ISP).
    pub area: String,
    /// Price of the node's egress, per GB sent (0 without a topology).
    pub price_per_gb: f64,
    /// The topology IDC this node is, if any.
    pub idc: Option<String>,
    pub role: Role,
    /// The tree parent: a source for a centre, a centre for an edge.
    pub parent: Option<usize>,
    /// Capacity of the node's access-side egress (towards viewers).
    pub egress_bps: u64,
    pub egress_queue_bytes: u64,
}

/// A full-duplex link; each direction has its own queue.
#[derive(Clone, Debug, Serialize)]
pub struct Link {
    pub from: usize,
    pub to: usize,
    pub bandwidth_bps: u64,
    pub loss: LinkLoss,
    pub queue_bytes: u64,
    /// One-way propagation latency; `None` derives it from distance.
    pub latency_ns: Option<u64>,
    pub route_inflation: f64,
    /// Shared-risk groups, sorted.
    pub groups: Vec<String>,
    /// Crosses from one ISP to another (its backbone path passes an
    /// interconnect, or its ends are on different ISPs).
    pub interconnect: bool,
}

/// Loss per chunk on one direction of a link.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum LinkLoss {
    /// Independent loss with probability `p`.
    Bernoulli { p: f64 },
    /// Bursty loss: a Good/Bad Markov chain stepping once per chunk.
    GilbertElliott { p_good_to_bad: f64, p_bad_to_good: f64, loss_good: f64, loss_bad: f64 },
}

/// A shared-risk group fails (or degrades) from `start_ns` to `end_ns`.
#[derive(Clone, Debug, Serialize)]
pub struct Fault {
    pub group: String,
    /// Indices into `links` of the group's links.
    pub links: Vec<usize>,
    pub kind: FaultKind,
    pub start_ns: u64,
    pub end_ns: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FaultKind {
    /// Everything sent on the links is lost.
    Outage,
    /// Extra independent loss and extra one-way latency.
    Degrade { extra_loss: f64, extra_latency_ns: u64 },
}

/// The broadcasters, one stream each. A single `[broadcaster]` is a
/// population of one with its ingest fixed.
#[derive(Clone, Debug, Serialize)]
pub struct Broadcasters {
    pub count: u32,
    /// Popularity: the stream of rank r (from 1) is chosen by a joining
    /// viewer with weight r^-zipf.
    pub zipf: f64,
    /// Share of viewers placed in their broadcaster's region; the others
    /// are placed by `viewers.regions`.
    pub local_viewers: f64,
    /// (region index, weight) where broadcasters are.
    pub regions: Vec<(usize, f64)>,
    /// The ingest node, when fixed; otherwise each broadcaster's is an edge
    /// of its region, drawn when the run starts.
    pub ingest: Option<usize>,
    pub uplink_bps: u64,
    pub access_latency_ns: u64,
}

/// `[routing]`, every default filled in.
#[derive(Clone, Debug, Serialize)]
pub struct Routing {
    pub mode: Mode,
    /// How often nodes measure their links and report to routing.
    pub probe_interval_ns: u64,
    /// Where the mesh's central route service runs (control round trips).
    pub service_region: usize,
    /// Lowest acceptable path quality (0-100) for cold and hot streams.
    pub min_quality: f64,
    pub hot_min_quality: f64,
    pub max_hops: u8,
    /// Pools: a switch needs this much better quality, and the current
    /// route must be at least `min_dwell_ns` old.
    pub switch_margin: f64,
    pub min_dwell_ns: u64,
    /// A stream turns hot at `hot_viewers` and cold again below
    /// `cold_viewers` (hysteresis).
    pub hot_viewers: u32,
    pub cold_viewers: u32,
    pub cost_per_hop: f64,
    pub cost_per_interconnect: f64,
    pub cost_per_price: f64,
    pub hot_redundancy: Redundancy,
}

#[derive(Clone, Debug, Serialize)]
pub struct Stream {
    pub name: String,
    pub bitrate_bps: u64,
    pub block_ns: u64,
    pub chunk_bytes: u64,
}

impl Stream {
    /// Bytes in one block, rounded up.
    pub fn block_bytes(&self) -> u64 {
        ((self.bitrate_bps as u128 * self.block_ns as u128).div_ceil(8 * 1_000_000_000)) as u64
    }
    pub fn chunks_per_block(&self) -> u64 {
        self.block_bytes().div_ceil(self.chunk_bytes)
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "distribution", rename_all = "lowercase")]
pub enum WatchTime {
    Exponential { mean_ns: u64 },
    /// ln(T) ~ Normal(ln(median), sigma).
    Lognormal { median_ns: u64, sigma: f64 },
}

impl WatchTime {
    pub fn mean_ns(&self) -> f64 {
        match *self {
            WatchTime::Exponential { mean_ns } => mean_ns as f64,
            WatchTime::Lognormal { median_ns, sigma } => median_ns as f64 * cdnsim_maths::exp(sigma * sigma / 2.0),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Viewers {
    pub arrivals_per_s: f64,
    /// Sessions that join at uniform times in [0, initial_window) besides
    /// the arrivals (an audience already gathering when the run starts).
    pub initial: u32,
    pub initial_window_ns: u64,
    pub watch_time: WatchTime,
    pub playout_delay_ns: u64,
    pub access_latency_ns: u64,
    pub access_loss: f64,
    /// (region index, weight), weights positive.
    pub regions: Vec<(usize, f64)>,
}


/// `[last_hop]`, every default filled in: the most popular `streams`
/// streams reach their viewers through home nodes holding fountain-coded
/// shares (README "What the model covers").
#[derive(Clone, Debug, Serialize)]
pub struct LastHop {
    pub streams: u32,
    pub fidelity: Fidelity,
    pub symbol_bytes: u64,
    /// K: source symbols per block.
    pub k: u16,
    /// Symbols of each block a home node holds (its share of K, rounded up).
    pub symbols_per_node: u32,
    /// Distinct ESI ranges handed out; home nodes beyond this share a range.
    pub slots: u32,
    pub heartbeat_ns: u64,
    /// Candidates asked of the scheduler per home node needed.
    pub candidates_factor: f64,
    /// Loss of a symbol between a home node and a client.
    pub loss: f64,
    /// Blocks over which a new home node takes over its full share.
    pub ramp_blocks: u32,
    /// Redundancy controller: P(a block gets K + headroom symbols).
    pub target: f64,
    pub headroom_symbols: u32,
}
