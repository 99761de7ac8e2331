//! The resolved scenario: every reference checked and turned into an index,
//! every default filled in, every value in its base unit (ns, bit/s, bytes).
//! This is what the world runs and what `manifest.json` records.

use serde::Serialize;

// Shared with the crates that act on them: one definition each.
pub use cdnsim_codec::Fidelity;
pub use cdnsim_routing::{Mode, Redundancy, ScoreFn};

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
    /// The backbone links (corridor segments, interconnects) that some
    /// link's backbone path crosses, in order of first crossing: shared
    /// resources whose queues every link over them uses. Empty without a
    /// topology (left out of the serialised form then, so the run ids of
    /// scenarios without a backbone do not move).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backbone_links: Vec<BackboneLink>,
    pub faults: Vec<Fault>,
    pub routing: Routing,
    pub broadcasters: Broadcasters,
    pub stream: Stream,
    pub viewers: Viewers,
    pub home: Option<Home>,
    pub last_hop: Option<LastHop>,
    /// `[edge]`: this scenario runs the edge-container RTC cloud. Left out
    /// of the serialised form when absent, so the run ids of the CDN
    /// scenarios do not move.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge: Option<Edge>,
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
    /// Background load on the shared backbone links; `None`: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<Background>,
}

/// Background (non-video) load on shared backbone links: the share of a
/// link's capacity other traffic takes, by local hour (linear between the
/// hourly points, wrapping at midnight).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Background {
    /// Local hour at the run's start.
    pub start_hour: u32,
    pub interconnect: [f64; 24],
    pub corridor: [f64; 24],
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
    /// The shared backbone links its path crosses, in order from `from`;
    /// the `to` -> `from` direction crosses them in reverse order and
    /// direction ([`Link::backbone_hops`]). Empty off a backbone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backbone: Vec<BackboneHop>,
}

impl Link {
    /// The backbone hops of one direction of the link (`reverse`: from
    /// `to` to `from`), with offsets measured from that direction's start.
    /// `total_ns` is the path's one-way propagation.
    pub fn backbone_hops(&self, reverse: bool) -> Vec<BackboneHop> {
        if !reverse {
            return self.backbone.clone();
        }
        let total_ns = self.backbone.last().map_or(0, |h| h.total_ns);
        self.backbone
            .iter()
            .rev()
            .map(|h| BackboneHop {
                link: h.link,
                reverse: !h.reverse,
                offset_ns: total_ns - h.offset_ns - h.latency_ns,
                latency_ns: h.latency_ns,
                total_ns,
            })
            .collect()
    }
}

/// One backbone link an overlay link's path crosses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BackboneHop {
    /// Index into [`Scenario::backbone_links`].
    pub link: u32,
    /// Crossed from the backbone link's `b` end to its `a` end.
    pub reverse: bool,
    /// Propagation from the start of the path to this link's input.
    pub offset_ns: u64,
    /// This link's own propagation.
    pub latency_ns: u64,
    /// The whole path's propagation (the same on every hop of a link).
    pub total_ns: u64,
}

/// A backbone link as a shared resource: both directions have this
/// capacity and a drop-tail queue of this size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BackboneLink {
    /// `isp:regionA-regionB` for a corridor segment,
    /// `site:ispA.regionA-ispB.regionB` for an interconnect pair.
    pub name: String,
    pub interconnect: bool,
    pub capacity_bps: u64,
    pub queue_bytes: u64,
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
    /// Tree: paths each stream's up-leg is sent over at once; `None` when
    /// the scenario does not set it (the rule path alone, and no up-leg
    /// columns in the results), left out of the serialised scenario then,
    /// so run ids of scenarios without it are unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uplink_copies: Option<u8>,
    /// The link score (`[routing.score]`); `None`: the routing crate's
    /// default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<ScoreFn>,
    /// `[routing.control]`; `None`: the routing crate's defaults (left out
    /// of the serialised scenario then, so run ids do not move).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<ControlRetry>,
}

/// `[routing.control]`: the control messages' retry timer, in base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ControlRetry {
    pub first_timeout_min_ns: u64,
    pub timeout_max_ns: u64,
    pub max_retries: u8,
}

impl Routing {
    /// Paths each up-leg is sent over (1 unless the scenario says more).
    pub fn up_leg_paths(&self) -> usize {
        self.uplink_copies.map_or(1, usize::from)
    }
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
    /// `[last_hop.selection]`: the `streams` are candidates, each on the
    /// last hop only while the rule keeps it there (absent: all of them,
    /// always).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<LastHopSelection>,
}

/// `[last_hop.selection]`, in base units.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LastHopSelection {
    pub interval_ns: u64,
    pub enter_bps: u64,
    pub leave_bps: u64,
    pub min_dwell_ns: u64,
}

/// `[edge]`: the real-time audio/video cloud on shared edge containers
/// (the edge-container talk; README "Edge-container RTC cloud"). A
/// scenario with `[edge]` runs this model instead of the live-video CDN:
/// it has no `[stream]`, `[viewers]`, nodes or links, and `stream` /
/// `viewers` / `broadcasters` above hold neutral values it never reads.
/// Every default filled in, every value in base units.
#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    /// One pool per room admitting every service (true), or each service
    /// its own pool per room, machines split by the services' shares
    /// (false: the dedicated clusters the talk compares against).
    pub shared: bool,
    /// Placement of pods on machines, in every pool.
    pub policy: EdgePolicy,
    /// What a scale-in does to a pod that still has sessions.
    pub scale_in: EdgeScaleIn,
    /// The machine type every edge machine is.
    pub machine: EdgeResources,
    /// Regions with edge rooms, in file order; `region` indexes
    /// `Scenario::regions`.
    pub regions: Vec<EdgeRegion>,
    /// The central level: a pool of machines in one region that every
    /// room's chain ends in, before serverless.
    pub central: EdgeCentral,
    /// The services (customers), in file order; shares sum to 1.
    pub services: Vec<EdgeService>,
    pub autoscale: EdgeAutoscale,
    /// Pod start-up: an image already on the machine, or pulled.
    pub startup_prewarmed: DurationSpec,
    pub startup_pulled: DurationSpec,
    /// Probability that a machine already holds a pod's image.
    pub prewarmed_share: f64,
    /// `None`: no serverless tier (a session no edge pod takes is
    /// rejected).
    pub serverless: Option<EdgeServerless>,
    pub prices: EdgePrices,
    /// Machine planning from the forecast; `None`: machines fixed.
    pub planner: Option<EdgePlanner>,
    /// Flash crowds: a region's arrival rate times `multiplier` in
    /// [start_ns, end_ns).
    pub flash_crowds: Vec<EdgeFlashCrowd>,
    /// Room outages (N-2 exercised): the room's machines are down in
    /// [start_ns, end_ns), their sessions cut, their pods gone.
    pub room_outages: Vec<EdgeRoomOutage>,
    /// Scheduled upgrades of every pod of a service.
    pub upgrades: Vec<EdgeUpgrade>,
    /// The control plane's rules; `None`: not modelled (always reachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<EdgeControl>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub control_faults: Vec<EdgeControlFault>,
    /// The transport network between regions; `None`: legs between
    /// regions take the great-circle latency and never fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<EdgeTransport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transport_faults: Vec<EdgeTransportFault>,
    /// Rooms per region that may be down at once while the region still
    /// carries its peak demand (2 for N-2; 0: no check).
    pub redundancy_rooms: u32,
    /// Period of the pool series (`edge_series.parquet`) and machine
    /// samples (`machines.parquet`).
    pub sample_interval_ns: u64,
    /// One-way latency of the access network to a room of the viewer's
    /// region; other tiers add their distance (README).
    pub access_latency_ns: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgePolicy {
    Spread,
    Binpack,
    Hybrid,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EdgeScaleIn {
    /// Tombstone: no new sessions, wait for the live ones, evict what is
    /// left after `timeout_ns`.
    Tombstone { timeout_ns: u64 },
    /// Delete at once: every live session is cut.
    Naive,
}

/// A capacity or demand vector, base units: CPU in millicores, memory in
/// bytes, bandwidth in bit/s, packets per second, host ports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EdgeResources {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    pub bandwidth_bps: u64,
    pub pps: u64,
    pub host_ports: u64,
}

/// A duration distribution (session length, start-up, cold start).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "distribution", rename_all = "lowercase")]
pub enum DurationSpec {
    Fixed { ns: u64 },
    Exponential { mean_ns: u64 },
    /// ln(T) ~ Normal(ln(median), sigma).
    Lognormal { median_ns: u64, sigma: f64 },
    Weibull { shape: f64, scale_ns: u64 },
    /// (cumulative probability, ns) points, both increasing, the last at 1.
    Empirical { points: Vec<(f64, u64)> },
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeRegion {
    /// Index into `Scenario::regions`.
    pub region: usize,
    /// Rooms (IDC sites) in the region, each with `machines_per_room`.
    pub rooms: u32,
    pub machines_per_room: u32,
    /// Machines of the region-level pool (the level between the rooms and
    /// the centre; 0: none).
    pub region_machines: u32,
    /// Session arrivals per second in each local hour 0..24.
    pub hourly_arrivals_per_s: [f64; 24],
    /// Local time minus UTC (simulated time 0 is 00:00 UTC).
    pub utc_offset_ns: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeCentral {
    /// Index into `Scenario::regions`.
    pub region: usize,
    pub machines: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeService {
    pub name: String,
    /// Share of every region's arrivals.
    pub share: f64,
    /// What one session uses on its media server: the publisher's push
    /// plus `subscribers_mean` subscribers' pulls (README).
    pub session: EdgeResources,
    /// One media-server pod's request (what placement packs).
    pub pod: EdgeResources,
    /// Sessions one pod serves at most.
    pub max_sessions_per_pod: u32,
    pub session_length: DurationSpec,
    /// Bytes a session sends per second (billing, serverless traffic).
    pub session_bytes_per_s: u64,
    /// Live streams through a cascade; `None`: a session is one server's load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streams: Option<EdgeStreams>,
}

/// A service's live streams (README, "Edge-container RTC cloud").
#[derive(Clone, Debug, Serialize)]
pub struct EdgeStreams {
    /// Share of sessions that publish.
    pub publisher_share: f64,
    /// Share of subscribers watching a stream of their own region.
    pub same_region_share: f64,
    /// What each end of a server-to-server leg uses.
    pub relay: EdgeResources,
    /// How long a publisher streams; `None`: the service's session length.
    pub publisher_length: Option<DurationSpec>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeAutoscale {
    pub sync_period_ns: u64,
    pub tolerance: f64,
    pub scale_in_window_ns: u64,
    /// Target utilisation of the pods' capacity per metric (CPU, memory,
    /// bandwidth, PPS, sessions); `None`: not a scaling metric.
    pub target_cpu: Option<f64>,
    pub target_memory: Option<f64>,
    pub target_bandwidth: Option<f64>,
    pub target_pps: Option<f64>,
    pub target_sessions: Option<f64>,
    /// Targets per pod of streams pushed in and pulled out (counts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_push_streams: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_pull_streams: Option<f64>,
    /// Per (room, service).
    pub min_pods: u32,
    pub max_pods: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeServerless {
    pub cold_start: DurationSpec,
    pub keep_alive_ns: u64,
    pub max_instances: u32,
    pub sessions_per_instance: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgePrices {
    /// Per Mbit/s of the month's 95th percentile of 5-minute samples.
    pub bandwidth_per_mbps_month: f64,
    pub machine_per_hour: f64,
    pub serverless_per_second: f64,
    pub serverless_per_gb: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgePlanner {
    /// From the order to the machine in its room.
    pub lead_time_ns: u64,
    /// Spare capacity kept over the forecast (0.2 = 20%).
    pub headroom: f64,
    /// Bounds on machines per room.
    pub min_machines: u32,
    pub max_machines: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeFlashCrowd {
    /// Index into `Edge::regions`.
    pub region: usize,
    pub start_ns: u64,
    pub end_ns: u64,
    pub multiplier: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeRoomOutage {
    /// Index into `Edge::regions`, and the room within it (0-based).
    pub region: usize,
    pub room: u32,
    pub start_ns: u64,
    pub end_ns: u64,
}

/// The control plane's lease and eviction rules.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EdgeControl {
    pub lease_period_ns: u64,
    pub grace_ns: u64,
    pub eviction_timeout_ns: u64,
    pub pool_delegate: bool,
    pub autonomy: bool,
    /// List-watch traffic: bytes of a pool-scope (EndpointSlice) and a
    /// node-scope (pod) update, and watchers of pool-scope data per node.
    pub endpointslice_bytes: u64,
    pub pod_bytes: u64,
    pub watchers_per_node: u32,
}

impl EdgeControl {
    /// Kubernetes' lease and eviction clocks, OpenYurt's defaults and
    /// worked-example sizes (docs/references.md, Node lease delegation,
    /// Cloud-edge control traffic).
    pub const DEFAULT: EdgeControl = EdgeControl {
        lease_period_ns: 10_000_000_000,
        grace_ns: 40_000_000_000,
        eviction_timeout_ns: 300_000_000_000,
        pool_delegate: true,
        autonomy: true,
        endpointslice_bytes: 50_000,
        pod_bytes: 0,
        watchers_per_node: 2,
    };
}

/// A control-plane fault over [start_ns, end_ns).
#[derive(Clone, Debug, Serialize)]
pub struct EdgeControlFault {
    /// `None`: the centre is down; `Some((region, room))`: the cloud-edge
    /// link of that edge region's room (every room when `None`) is cut.
    pub link: Option<(usize, Option<u32>)>,
    pub start_ns: u64,
    pub end_ns: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeUpgrade {
    /// Index into `Edge::services`.
    pub service: usize,
    pub at_ns: u64,
    /// In place (sessions and port kept) or recreate (sessions cut, port
    /// reallocated).
    pub in_place: bool,
}

/// The transport network between regions (README, "Transport network"):
/// what `cdnsim_routing::transport` probes and routes over.
#[derive(Clone, Debug, Serialize)]
pub struct EdgeTransport {
    /// The bundled topology the links came from, if any.
    pub topology: Option<String>,
    /// The generated network the links came from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthetic: Option<EdgeTransportSynthetic>,
    pub probe_interval_ns: u64,
    pub missed_probes: u32,
    pub loss_timeout_ns: u64,
    pub relay: bool,
    /// Indices into `Scenario::regions`; `None`: every region may relay.
    pub relays: Option<Vec<usize>>,
    pub switch_margin: f64,
    pub min_dwell_ns: u64,
    pub half_life_ns: u64,
    pub loss_half_life_ns: u64,
    pub probe_bytes: u64,
    /// The topology's links, then the file's.
    pub links: Vec<EdgeTransportLink>,
}

/// `cdnsim_net::backbone::synthetic_global`'s parameters.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EdgeTransportSynthetic {
    pub regions: u32,
    pub seed: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeTransportLink {
    /// `from-to`, by region names.
    pub name: String,
    /// Indices into `Scenario::regions`.
    pub a: usize,
    pub b: usize,
    pub latency_ns: u64,
    pub loss: f64,
    pub jitter_ns: u64,
    pub submarine: bool,
    pub groups: Vec<String>,
}

/// A transport fault over [start_ns, end_ns).
#[derive(Clone, Debug, Serialize)]
pub struct EdgeTransportFault {
    /// What the file named: `from-to` or the group.
    pub label: String,
    /// Indices into `EdgeTransport::links`.
    pub links: Vec<usize>,
    /// An outage (nothing passes) or a degradation.
    pub outage: bool,
    pub extra_loss: f64,
    pub extra_latency_ns: u64,
    pub start_ns: u64,
    pub end_ns: u64,
}
