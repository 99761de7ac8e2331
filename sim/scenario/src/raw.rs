//! The scenario file as written: serde structs that mirror the TOML, with
//! unknown fields refused. Values that the resolve step checks against each
//! other keep their position (`Spanned`) so its errors can point at them.
//!
//! The same structs give the file's JSON Schema (`cdnsim schema`,
//! `crate::schema`): their doc comments are what an editor shows on hover,
//! so they are written for someone editing a scenario. A string field with
//! a closed set of values names its list here (`ROLE_NAMES`, ...); the
//! resolver accepts exactly the list (`Ctx::one_of`) and the schema
//! enumerates it.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spanned::Spanned;
use crate::units::{DurationNs, RateBps, SizeBytes};

/// `[[nodes]] role` (and a topology IDC's `role`).
pub(crate) const ROLE_NAMES: &[&str] = &["source", "centre", "edge"];
/// `[routing] mode`.
pub(crate) const MODE_NAMES: &[&str] = &["tree", "pool", "mesh"];
/// `[routing] hot_redundancy` as a string (the table form is `{ fec = x }`).
pub(crate) const REDUNDANCY_NAMES: &[&str] = &["disjoint-paths"];
/// `[[faults]] kind`.
pub(crate) const FAULT_KIND_NAMES: &[&str] = &["outage", "degrade"];
/// `loss = { model = ... }` of a link.
pub(crate) const LOSS_MODEL_NAMES: &[&str] = &["gilbert-elliott"];
/// `[viewers] watch_time.distribution`.
pub(crate) const WATCH_TIME_NAMES: &[&str] = &["exponential", "lognormal"];
/// `[home] upload.distribution`.
pub(crate) const UPLOAD_NAMES: &[&str] = &["lognormal", "uniform", "empirical"];
/// `[home] on_session.distribution` and `off_session.distribution`.
pub(crate) const SESSION_NAMES: &[&str] = &["exponential", "weibull", "lognormal", "pareto"];
/// `[edge] sharing`.
pub(crate) const SHARING_NAMES: &[&str] = &["shared", "dedicated"];
/// `[edge] policy`.
pub(crate) const POLICY_NAMES: &[&str] = &["spread", "binpack", "hybrid"];
/// `[edge] scale_in`.
pub(crate) const SCALE_IN_NAMES: &[&str] = &["tombstone", "naive"];
/// `[[edge.upgrades]] how`.
pub(crate) const UPGRADE_NAMES: &[&str] = &["in-place", "recreate"];
pub(crate) const CONTROL_FAULT_NAMES: &[&str] = &["centre", "link"];
/// A duration distribution's `distribution` (edge session lengths,
/// start-up and cold-start times).
pub(crate) const DURATION_DIST_NAMES: &[&str] = &["exponential", "lognormal", "weibull", "empirical"];
/// `[last_hop] fidelity`.
pub(crate) const FIDELITY_NAMES: &[&str] = &["full", "structural", "model"];

/// A cdnsim scenario: the network, the stream and the audience of one
/// simulation (or, with `[sweep]`, of many). Values with units are
/// strings such as "50 ms", "2 Mbps", "16 KiB"; unknown fields are errors.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// What the run is called, its seed and how long it lasts.
    pub run: RawRun,
    /// Bounds a run stops at with an error.
    #[serde(default)]
    pub limits: RawLimits,
    /// How latency follows from distance; optionally a bundled backbone.
    #[serde(default)]
    pub network: RawNetwork,
    /// Per-hop retransmission of lost chunks.
    #[serde(default)]
    pub transport: RawTransport,
    /// Provinces or cities, with coordinates; nodes and viewers are placed
    /// in them. A topology's provinces are added to these.
    #[serde(default)]
    pub regions: Vec<RawRegion>,
    /// The IDC nodes of the delivery tree.
    #[serde(default)]
    pub nodes: Vec<RawNode>,
    /// Links between nodes, full duplex, each direction with its own queue.
    #[serde(default)]
    pub links: Vec<RawLink>,
    /// IDC nodes and overlay links generated from the topology.
    pub overlay: Option<Spanned<RawOverlay>>,
    /// Outages and degradations of a shared-risk group of links, in a time
    /// window.
    #[serde(default)]
    pub faults: Vec<RawFault>,
    /// How streams find their way from the source to the edges (default:
    /// the tree).
    pub routing: Option<Spanned<RawRouting>>,
    /// One broadcaster, or a population of them (`[broadcasters]`).
    pub broadcaster: Option<Spanned<RawBroadcaster>>,
    /// A population of broadcasters, one stream each, instead of one
    /// `[broadcaster]`.
    pub broadcasters: Option<Spanned<RawBroadcasters>>,
    /// The live stream: its bit rate and how it is cut into blocks and
    /// chunks (required, except in an `[edge]` scenario).
    pub stream: Option<Spanned<RawStream>>,
    /// Who watches: arrivals, watch time, playout delay and where they are
    /// (required, except in an `[edge]` scenario).
    pub viewers: Option<Spanned<RawViewers>>,
    /// Home nodes (NATed devices that can relay), where they are and their
    /// model's parameters.
    pub home: Option<Spanned<RawHome>>,
    /// The fountain-coded last hop over home nodes (needs `[home]`).
    pub last_hop: Option<Spanned<RawLastHop>>,
    /// The real-time audio/video cloud on edge containers: with this
    /// section the scenario runs that model instead of the live-video CDN
    /// (no `[stream]`, `[viewers]`, nodes or links then).
    pub edge: Option<Spanned<RawEdge>>,
}

impl RawScenario {
    /// The live-video CDN's own sections as written (name, and where when
    /// present), which an `[edge]` scenario refuses. A new CDN section
    /// adds its line here, beside its field.
    pub fn cdn_sections(&self) -> [(&'static str, Option<std::ops::Range<usize>>); 9] {
        [
            ("stream", self.stream.as_ref().map(|s| s.span())),
            ("viewers", self.viewers.as_ref().map(|s| s.span())),
            ("broadcaster", self.broadcaster.as_ref().map(|s| s.span())),
            ("broadcasters", self.broadcasters.as_ref().map(|s| s.span())),
            ("overlay", self.overlay.as_ref().map(|s| s.span())),
            ("home", self.home.as_ref().map(|s| s.span())),
            ("last_hop", self.last_hop.as_ref().map(|s| s.span())),
            ("routing", self.routing.as_ref().map(|s| s.span())),
            ("network.topology", self.network.topology.as_ref().map(|s| s.span())),
        ]
    }
}

/// Takes the topology's sources and centres, and `edges_per_isp` edges of
/// every (province, ISP), and links them: the tree (edge - its area's
/// centre on its ISP - the root source; the edges of an ISP with no centre
/// in their area, such as the small ISPs, hang from the multi-line root
/// directly, which must be on their ISP) plus the links a mesh or pool may
/// use (centres with each other and with every source, edges of one
/// province with each other and with every source). Multi-line sources
/// are the mesh's transit points between ISPs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOverlay {
    /// The source IDC of the topology at the root of the tree.
    pub root: Spanned<String>,
    /// The ISPs whose centres and edges are taken.
    pub isps: Spanned<Vec<String>>,
    /// Edge IDCs taken per (province, ISP), 1 to 1000.
    pub edges_per_isp: Spanned<i64>,
}

/// Routing of streams between the source and the edges.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    /// "tree" (fixed parents), "pool" (paths over scored links within
    /// (area, ISP) groups) or "mesh" (a route service picks paths; any node
    /// carrying the stream can serve it).
    #[schemars(extend("enum" = MODE_NAMES))]
    pub mode: Spanned<String>,
    /// How often paths are probed (default "1 s").
    pub probe_interval: Option<Spanned<DurationNs>>,
    /// The region where the mesh's route service runs (default: the first
    /// region).
    pub service_region: Option<Spanned<String>>,
    /// Lowest acceptable path quality score, 0 to 100 (default 80).
    pub min_quality: Option<Spanned<f64>>,
    /// Lowest acceptable quality for hot streams, 0 to 100 (default 90).
    pub hot_min_quality: Option<Spanned<f64>>,
    /// Most hops on a path, 1 to 16 (default 5).
    pub max_hops: Option<Spanned<i64>>,
    /// Pools: how much better (quality points) a route must be to switch
    /// to it (default 5).
    pub switch_margin: Option<Spanned<f64>>,
    /// Pools: how old a route must be before switching away (default "10 s").
    pub min_dwell: Option<Spanned<DurationNs>>,
    /// Viewers at which a stream becomes hot (default 100).
    pub hot_viewers: Option<Spanned<i64>>,
    /// Viewers below which a hot stream turns cold again, at most
    /// hot_viewers (default half of hot_viewers).
    pub cold_viewers: Option<Spanned<i64>>,
    /// Path cost per hop (default 1).
    pub cost_per_hop: Option<Spanned<f64>>,
    /// Path cost per crossing between ISPs (default 2).
    pub cost_per_interconnect: Option<Spanned<f64>>,
    /// Path cost per unit of IDC price per GB (default 1).
    pub cost_per_price: Option<Spanned<f64>>,
    /// How hot streams are protected: "disjoint-paths" (default) or
    /// `{ fec = x }`, x repair bytes per source byte in (0, 10].
    pub hot_redundancy: Option<Spanned<RawRedundancy>>,
    /// Tree: paths each stream's up-leg (ingest to root) is sent over at
    /// once, 1 to 4 (default 1): the primary rule path plus copies over
    /// paths sharing no link or relay with it where the graph has them; the
    /// root takes the first copy of each chunk.
    pub uplink_copies: Option<Spanned<i64>>,
    /// The link score: a logistic function of a probe's delay, loss and
    /// retransmit rate, score = 100 / (1 + exp(-z)) with z = intercept +
    /// per_delay_ms x delay + per_loss x loss + per_retransmit x rate
    /// (default: the routing crate's estimate, 99.1 at 10 ms and no loss,
    /// 95.0 at 100 ms). A service fits its own from its KPIs.
    pub score: Option<Spanned<RawScore>>,
    /// The retry timer of control messages (subscribe, unsubscribe, route
    /// requests); any field left out keeps its default.
    pub control: Option<Spanned<RawRoutingControl>>,
}

/// `[routing.control]`: a control message's first timeout is twice its
/// path's round trip, at least `first_timeout_min`; each retry doubles it,
/// up to `timeout_max`; after `max_retries` retries the sender gives up.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRoutingControl {
    /// Floor of the first timeout, above zero and at most `timeout_max`
    /// (default "10 ms", or `timeout_max` when that is lower).
    pub first_timeout_min: Option<Spanned<DurationNs>>,
    /// Cap of every timeout, at most "1 h" (default "8 s").
    pub timeout_max: Option<Spanned<DurationNs>>,
    /// Sendings after the first before giving up, 0 to 16 (default 4).
    pub max_retries: Option<Spanned<i64>>,
}

/// `[routing.score]`: the link score's coefficients; any left out keep
/// the default.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScore {
    /// The logistic argument at no delay, loss or retransmission (default 4.944).
    pub intercept: Option<Spanned<f64>>,
    /// Change of the argument per millisecond of one-way delay, at most 0 (default -0.02).
    pub per_delay_ms: Option<Spanned<f64>>,
    /// Change per unit of loss (a fraction), at most 0 (default -70).
    pub per_loss: Option<Spanned<f64>>,
    /// Change per unit of retransmit rate (a fraction), at most 0 (default -30).
    pub per_retransmit: Option<Spanned<f64>>,
}

/// `hot_redundancy = "disjoint-paths"` or `{ fec = 0.2 }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawRedundancy {
    Name(#[schemars(extend("enum" = REDUNDANCY_NAMES))] String),
    Fec(RawFec),
}

/// Forward error correction on hot streams.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFec {
    /// Repair bytes per source byte.
    pub fec: f64,
}

/// Many broadcasters, one stream each: where they are, and how viewers
/// choose among their streams.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBroadcasters {
    /// How many broadcasters (streams), 1 to 10,000,000.
    pub count: Spanned<i64>,
    /// Zipf exponent of stream popularity, 0 to 4.
    pub zipf: Spanned<f64>,
    /// Share of viewers who pick a stream of their own region, 0 to 1.
    pub local_viewers: Spanned<f64>,
    /// Each broadcaster's uplink.
    pub uplink: Spanned<RateBps>,
    /// Broadcaster to ingest edge (default "5 ms").
    pub access_latency: Option<DurationNs>,
    /// Where broadcasters are, by weight; each region needs an edge node.
    pub regions: Vec<RawViewerRegion>,
}

/// The run as a whole.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// Names the results folder: letters, digits, '-', '_' or '.'.
    pub name: Spanned<String>,
    /// Free text, kept in the results.
    #[serde(default)]
    pub description: String,
    /// Every random stream derives from it.
    pub seed: u64,
    /// Simulated time, above zero.
    pub duration: Spanned<DurationNs>,
}

/// Bounds on a run.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Events pending at once beyond which the run stops with an error
    /// (default 10,000,000).
    pub max_pending_events: Option<Spanned<i64>>,
}

/// How latency follows from distance.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    /// Path length over great-circle distance, at least 1 (default 1.5).
    pub route_inflation: Option<Spanned<f64>>,
    /// Propagation speed in fibre (default 200 km/ms).
    pub propagation_km_per_ms: Option<Spanned<f64>>,
    /// Least one-way latency of a link, for nodes in one city (default "1 ms").
    pub min_latency: Option<DurationNs>,
    /// A bundled backbone, `topologies/<name>.toml` beside the scenario.
    pub topology: Option<Spanned<String>>,
    /// Non-video load on the topology's shared backbone links (only with
    /// `topology`).
    pub background: Option<Spanned<RawBackground>>,
}

/// Background load: a share of each shared link's capacity taken by other
/// traffic, by local hour of the day (linear between hours).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBackground {
    /// The local hour at the run's start, 0 to 23 (default 20: evening).
    pub start_hour: Option<Spanned<i64>>,
    /// On interconnects: one share in [0, 1) or 24 hourly ones (default 0).
    pub interconnect: Option<Spanned<RawShares>>,
    /// On corridor segments inside an ISP: likewise (default 0).
    pub corridor: Option<Spanned<RawShares>>,
}

/// One share for every hour, or 24.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawShares {
    One(f64),
    Hourly(Vec<f64>),
}

/// Per-hop retransmission.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTransport {
    /// A hop resends a lost chunk after this long (default "200 ms").
    pub retransmit_timeout: Option<Spanned<DurationNs>>,
    /// Resends per chunk and hop, 0 to 16 (default 3).
    pub max_retransmits: Option<Spanned<i64>>,
}

/// A province or city.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    /// Unique; nodes, viewers and home nodes refer to it.
    pub name: Spanned<String>,
    /// Latitude in degrees, -90 to 90.
    pub lat: Spanned<f64>,
    /// Longitude in degrees, -180 to 180.
    pub lon: Spanned<f64>,
}

/// An IDC node of the tree.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    /// Unique; links and parents refer to it.
    pub name: Spanned<String>,
    /// An IDC of the topology: gives region, ISP and egress.
    pub idc: Option<Spanned<String>>,
    /// Where the node is (needed unless `idc` gives it).
    pub region: Option<Spanned<String>>,
    /// The ISP it is on ("bgp" for multi-line).
    pub isp: Option<String>,
    /// "source" (where the stream enters), "centre" (regional centre,
    /// parent: a source) or "edge" (viewers attach; parent: a centre, or a
    /// source).
    #[schemars(extend("enum" = ROLE_NAMES))]
    pub role: Spanned<String>,
    /// The node above it in the tree, over a `[[links]]` entry; none for a
    /// source.
    pub parent: Option<Spanned<String>>,
    /// Capacity towards viewers (needed unless `idc` gives it).
    pub egress: Option<Spanned<RateBps>>,
    /// Egress queue, at least one chunk (default: 50 ms at the egress rate,
    /// at least 64 KiB).
    pub egress_queue: Option<Spanned<SizeBytes>>,
}

/// A full-duplex link between two nodes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    /// A node name.
    pub from: Spanned<String>,
    /// Another node name.
    pub to: Spanned<String>,
    /// Derived from the backbone path when both ends are topology IDCs.
    pub bandwidth: Option<Spanned<RateBps>>,
    /// Per chunk: a probability in [0, 1), or a Gilbert-Elliott table
    /// (default 0, or the backbone path's).
    pub loss: Option<Spanned<RawLoss>>,
    /// Queue of each direction, at least one chunk (default: 50 ms at the
    /// line rate).
    pub queue: Option<Spanned<SizeBytes>>,
    /// One-way latency; overrides the one derived from distance.
    pub latency: Option<Spanned<DurationNs>>,
    /// This link's path length over great-circle distance, at least 1
    /// (default: `[network] route_inflation`).
    pub route_inflation: Option<Spanned<f64>>,
    /// Shared-risk groups the link belongs to (a corridor, an interconnect).
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
}

/// `loss = 0.01` (independent) or a Gilbert-Elliott table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawLoss {
    Probability(f64),
    Model(RawLossModel),
}

/// Bursty loss: a two-state (good / bad) Markov chain per link direction.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLossModel {
    /// "gilbert-elliott".
    #[schemars(extend("enum" = LOSS_MODEL_NAMES))]
    pub model: String,
    /// Per chunk, probability of turning bad.
    pub p_good_to_bad: f64,
    /// Per chunk, probability of turning good again, above 0.
    pub p_bad_to_good: f64,
    /// Loss probability in the good state (default 0).
    #[serde(default)]
    pub loss_good: f64,
    /// Loss probability in the bad state (default 1).
    #[serde(default = "one")]
    pub loss_bad: f64,
}

fn one() -> f64 {
    1.0
}

/// A fault of every link in a shared-risk group, from `start` to `end`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// A group named in some link's `groups`.
    pub group: Spanned<String>,
    /// "outage" (everything lost) or "degrade" (extra_loss and/or
    /// extra_latency).
    #[schemars(extend("enum" = FAULT_KIND_NAMES))]
    pub kind: Spanned<String>,
    /// Simulated time the fault begins.
    pub start: Spanned<DurationNs>,
    /// Simulated time it ends, after start.
    pub end: Spanned<DurationNs>,
    /// Degrade: added loss probability, in [0, 1).
    pub extra_loss: Option<Spanned<f64>>,
    /// Degrade: added one-way latency.
    pub extra_latency: Option<Spanned<DurationNs>>,
}

/// The one broadcaster of the stream.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBroadcaster {
    /// Where the broadcaster is.
    pub region: Spanned<String>,
    /// The node the stream enters at.
    pub ingest: Spanned<String>,
    /// The broadcaster's uplink.
    pub uplink: Spanned<RateBps>,
    /// Broadcaster to ingest node (default "5 ms").
    pub access_latency: Option<DurationNs>,
}

/// The live stream.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStream {
    /// Free text.
    pub name: String,
    /// Bit rate of the stream.
    pub bitrate: Spanned<RateBps>,
    /// Unit of playout.
    pub block: Spanned<DurationNs>,
    /// Unit of transmission and loss; at most 4096 chunks per block.
    pub chunk: Spanned<SizeBytes>,
}

/// The audience.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawViewers {
    /// Poisson arrivals per second, non-negative.
    pub arrivals_per_s: Spanned<f64>,
    /// An audience already gathering at the start, 0 to 100,000,000
    /// (default 0).
    pub initial: Option<Spanned<i64>>,
    /// The initial viewers join at uniform times in [0, initial_window)
    /// (default "5 s", at most the run's duration).
    pub initial_window: Option<Spanned<DurationNs>>,
    /// How long a viewer stays: `{ distribution = "exponential", mean = ...}`
    /// or `{ distribution = "lognormal", median = ..., sigma = ... }`.
    pub watch_time: Spanned<RawWatchTime>,
    /// Playout starts this far behind live.
    pub playout_delay: Spanned<DurationNs>,
    /// Viewer to edge (default "10 ms").
    pub access_latency: Option<DurationNs>,
    /// Loss probability on the viewer's access, in [0, 1) (default 0).
    pub access_loss: Option<Spanned<f64>>,
    /// Where viewers are, by weight; each region needs an edge node.
    pub regions: Vec<RawViewerRegion>,
}

/// A flat table rather than a tagged enum: serde buffers tagged enums,
/// which would lose the positions errors need.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWatchTime {
    /// "exponential" (needs mean) or "lognormal" (needs median and sigma).
    #[schemars(extend("enum" = WATCH_TIME_NAMES))]
    pub distribution: Spanned<String>,
    /// Exponential: the mean watch time.
    pub mean: Option<Spanned<DurationNs>>,
    /// Lognormal: the median watch time.
    pub median: Option<Spanned<DurationNs>>,
    /// Lognormal: sigma of the log, above 0.
    pub sigma: Option<Spanned<f64>>,
}

/// A region and its weight.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawViewerRegion {
    /// A region name.
    pub region: Spanned<String>,
    /// Relative weight, above 0.
    pub weight: Spanned<f64>,
}

/// Home nodes: where they are, and the parameters of their model. Every
/// parameter is optional; the defaults are the documented ones of
/// `cdnsim_net::home`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHome {
    /// How many home nodes per (region, ISP).
    pub regions: Vec<RawHomeRegion>,
    /// Shares of NAT types 1 to 4 (four numbers).
    pub nat_mix: Option<Spanned<Vec<f64>>>,
    /// Success probability of a hole punch between NAT types a and b: a
    /// symmetric 4 x 4 table.
    pub traversal: Option<Spanned<Vec<Vec<f64>>>>,
    /// Upload capacity distribution of a home node.
    pub upload: Option<Spanned<RawUpload>>,
    /// How long a home node stays on.
    pub on_session: Option<Spanned<RawSession>>,
    /// How long a home node stays off.
    pub off_session: Option<Spanned<RawSession>>,
    /// 24 hourly fractions of home nodes online (00 h to 23 h).
    pub diurnal: Option<Spanned<Vec<f64>>>,
    /// Clock time at simulated zero, for the diurnal profile (default "0 h").
    pub start_time_of_day: Option<Spanned<DurationNs>>,
    /// Household usage of the line, beside the relaying.
    pub household: Option<Spanned<RawHousehold>>,
}

/// Home nodes of one (region, ISP).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHomeRegion {
    /// A region name.
    pub region: Spanned<String>,
    /// The ISP the home nodes are on.
    pub isp: String,
    /// How many, at least 0.
    pub count: Spanned<i64>,
}

/// Upload capacity: "lognormal" (median, sigma, min, max), "uniform" (min,
/// max) or "empirical" (values, weights).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUpload {
    /// "lognormal", "uniform" or "empirical".
    #[schemars(extend("enum" = UPLOAD_NAMES))]
    pub distribution: String,
    /// Lognormal: the median.
    pub median: Option<RateBps>,
    /// Lognormal: sigma of the log.
    pub sigma: Option<f64>,
    /// Lognormal, uniform: the least capacity.
    pub min: Option<RateBps>,
    /// Lognormal, uniform: the most capacity.
    pub max: Option<RateBps>,
    /// Empirical: the capacities.
    pub values: Option<Vec<RateBps>>,
    /// Empirical: their weights, as many as values.
    pub weights: Option<Vec<f64>>,
}

/// A session length: "exponential" (mean), "weibull" (shape and one of
/// mean, scale), "lognormal" (sigma and one of mean, median) or "pareto"
/// (shape and one of mean, scale).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSession {
    /// "exponential", "weibull", "lognormal" or "pareto".
    #[schemars(extend("enum" = SESSION_NAMES))]
    pub distribution: String,
    /// The mean session length.
    pub mean: Option<DurationNs>,
    /// Lognormal: the median, instead of the mean.
    pub median: Option<DurationNs>,
    /// Weibull, Pareto: the scale, instead of the mean.
    pub scale: Option<DurationNs>,
    /// Weibull, Pareto: the shape.
    pub shape: Option<f64>,
    /// Lognormal: sigma of the log.
    pub sigma: Option<f64>,
}

/// Household usage of a home node's line: a level drawn from
/// Uniform[low, high]; every interval it is redrawn with probability
/// interval / mean_hold.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHousehold {
    /// Least level, at least 0.
    pub low: f64,
    /// Most level, at least low.
    pub high: f64,
    /// Time between ticks, above zero.
    pub interval: DurationNs,
    /// Mean time a level lasts, at least interval.
    pub mean_hold: DurationNs,
}

/// `[last_hop]`: the fountain-coded last hop over home nodes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLastHop {
    /// The N most popular streams go over home nodes (default 1, at most
    /// the broadcasters).
    pub streams: Option<Spanned<i64>>,
    /// How closely decoding is simulated: "full", "structural" or "model"
    /// (default "model").
    #[schemars(extend("enum" = FIDELITY_NAMES))]
    pub fidelity: Option<Spanned<String>>,
    /// Symbol size; K = block bytes / symbol (default "1250 B").
    pub symbol: Option<Spanned<SizeBytes>>,
    /// Share of each block's symbols one home node holds, in (0, 1].
    pub share: Spanned<f64>,
    /// Home node to scheduler heartbeat (default "10 s").
    pub heartbeat: Option<Spanned<DurationNs>>,
    /// Home nodes offered per node needed, 1 to 10 (default 2).
    pub candidates: Option<Spanned<f64>>,
    /// Per-symbol loss from home node to client, in [0, 1) (default 0.01).
    pub loss: Option<Spanned<f64>>,
    /// Blocks for a new node to reach its full share, 1 to 1000 (default 4).
    pub ramp_blocks: Option<Spanned<i64>>,
    /// Redundancy target: probability a block gets K + headroom symbols, in
    /// (0, 1) (default 0.999).
    pub target: Option<Spanned<f64>>,
    /// Extra symbols beyond K, 0 to 1000 (default 2).
    pub headroom: Option<Spanned<i64>>,
    /// Which of the `streams` go over home nodes, decided during the run
    /// by the talk's rule (net saving against thresholds); absent: all of
    /// them, from the start.
    pub selection: Option<Spanned<RawSelection>>,
}

/// `[last_hop.selection]`: a candidate stream comes on the last hop when
/// its net saving (IDC egress saved minus the last hop's cost) reaches
/// `enter`, goes off when it falls below `leave`, and stays at least
/// `min_dwell` in a state.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSelection {
    /// Time between decisions, above zero.
    pub interval: Spanned<DurationNs>,
    /// Net saving at which a stream comes on.
    pub enter: Spanned<RateBps>,
    /// Net saving below which a stream goes off, at most `enter` (default: `enter`).
    pub leave: Option<Spanned<RateBps>>,
    /// Least time between two changes of one stream (default "0 s").
    pub min_dwell: Option<Spanned<DurationNs>>,
}

/// The edge-container RTC cloud (README, "Edge-container RTC cloud").
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEdge {
    /// "shared" (one pool per room for every service) or "dedicated" (a
    /// pool per service per level, machines split by share).
    #[schemars(extend("enum" = SHARING_NAMES))]
    pub sharing: Spanned<String>,
    /// How pods are placed on machines: "spread" (least allocated),
    /// "binpack" (most allocated) or "hybrid" (Borg-like).
    #[schemars(extend("enum" = POLICY_NAMES))]
    pub policy: Spanned<String>,
    /// What scaling in does to a pod with sessions: "tombstone" (drain, then
    /// evict what is left after `tombstone_timeout`) or "naive" (delete at
    /// once).
    #[schemars(extend("enum" = SCALE_IN_NAMES))]
    pub scale_in: Spanned<String>,
    /// With "tombstone": how long a pod drains (default "10 min"; unused
    /// with "naive").
    pub tombstone_timeout: Option<Spanned<DurationNs>>,
    /// Rooms per region that may be down at once while the rest still hold
    /// the region's peak demand (default 2, N-2; 0: no check).
    pub redundancy_rooms: Option<Spanned<i64>>,
    /// Period of the pool series and machine samples (default "60 s").
    pub sample_interval: Option<Spanned<DurationNs>>,
    /// One-way latency from a user to a room of its region (default "5 ms").
    pub access_latency: Option<Spanned<DurationNs>>,
    /// Probability that a machine already holds a service's image, in
    /// [0, 1] (default 0.9).
    pub prewarmed_share: Option<Spanned<f64>>,
    /// Pod start-up with the image on the machine: a duration or a
    /// distribution table (default "2 s").
    pub startup_prewarmed: Option<Spanned<RawDurationSpec>>,
    /// Pod start-up when the image is pulled (default lognormal, median
    /// "20 s", sigma 0.5).
    pub startup_pulled: Option<Spanned<RawDurationSpec>>,
    /// The machine type of every edge machine.
    pub machine: Spanned<RawResources>,
    /// Regions with edge rooms.
    #[serde(default)]
    pub regions: Vec<Spanned<RawEdgeRegion>>,
    /// The central pool, last edge level before serverless.
    pub central: Spanned<RawEdgeCentral>,
    /// The services (customers) and their sessions and pods.
    #[serde(default)]
    pub services: Vec<Spanned<RawEdgeService>>,
    /// The pod autoscaler of every (room, service).
    pub autoscale: Option<Spanned<RawAutoscale>>,
    /// The central multi-cloud serverless pool (absent: none).
    pub serverless: Option<Spanned<RawServerless>>,
    /// Prices for the cost columns.
    pub prices: Option<Spanned<RawPrices>>,
    /// Machines bought and released from a forecast (absent: fixed).
    pub planner: Option<Spanned<RawPlanner>>,
    /// A region's arrival rate times `multiplier` over a window.
    #[serde(default)]
    pub flash_crowds: Vec<Spanned<RawFlashCrowd>>,
    /// A room down over a window (its pods fail, its sessions are cut).
    #[serde(default)]
    pub room_outages: Vec<Spanned<RawRoomOutage>>,
    /// Upgrades of every pod of a service at a time.
    #[serde(default)]
    pub upgrades: Vec<Spanned<RawUpgrade>>,
    /// The container control plane's lease and eviction rules (absent:
    /// defaults if `control_faults` are given, else none modelled).
    pub control: Option<Spanned<RawControl>>,
    /// The centre down, or a region's (or one room's) cloud-edge link
    /// cut, over a window.
    #[serde(default)]
    pub control_faults: Vec<Spanned<RawControlFault>>,
    /// The transport network between regions (absent: legs between
    /// regions take the great-circle latency and never fail).
    pub transport: Option<Spanned<RawEdgeTransport>>,
    /// A transport link (or a shared-risk group of links) down or
    /// degraded over a window; needs `[edge.transport]`.
    #[serde(default)]
    pub transport_faults: Vec<Spanned<RawTransportFault>>,
}

/// The transport network between regions (README, "Transport network").
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEdgeTransport {
    /// A bundled topology (`topologies/<name>.toml` beside the scenario,
    /// e.g. "global") whose regions become the scenario's and whose
    /// backbone links are transport links.
    pub topology: Option<Spanned<String>>,
    /// Instead of `topology`: a generated global network in the same
    /// format (regions on six continents, submarine cables between them),
    /// e.g. `{ regions = 200, seed = 7 }`.
    pub synthetic: Option<Spanned<RawSyntheticTransport>>,
    /// P, between probes of every link (default "1 s"; above zero).
    pub probe_interval: Option<Spanned<DurationNs>>,
    /// d: probe intervals without a reply before a link is declared down
    /// (default 3).
    pub missed_probes: Option<Spanned<i64>>,
    /// A probe unanswered this long counts as lost in the loss estimate
    /// (default "2 s").
    pub loss_timeout: Option<Spanned<DurationNs>>,
    /// Paths through one relay region (RON's rule; default true).
    pub relay: Option<Spanned<bool>>,
    /// The regions that may relay (absent: every region).
    pub relays: Option<Spanned<Vec<Spanned<String>>>>,
    /// A voluntary switch needs a path this many score points better
    /// (default 3).
    pub switch_margin: Option<Spanned<f64>>,
    /// No voluntary switch of a pair's path within this time of its last
    /// change (default "30 s").
    pub min_dwell: Option<Spanned<DurationNs>>,
    /// Half-life of the delay and jitter estimates (default "10 s").
    pub half_life: Option<Spanned<DurationNs>>,
    /// Half-life of the loss estimate (default "60 s").
    pub loss_half_life: Option<Spanned<DurationNs>>,
    /// Bytes of one probe (and of its reply; default "64 B").
    pub probe_size: Option<Spanned<SizeBytes>>,
    /// Jitter of links that give none (default "1 ms").
    pub jitter: Option<Spanned<DurationNs>>,
    /// Links given here, besides the topology's.
    #[serde(default)]
    pub links: Vec<Spanned<RawTransportLink>>,
}

/// A generated global transport network (README, "Transport network"):
/// its regions join the scenario's, its links are the transport links.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSyntheticTransport {
    /// Regions, 6 to 1000 (at least one per continent).
    pub regions: Spanned<i64>,
    /// Seed of the generator (its own, not the run's: every run of the
    /// scenario has the same network).
    pub seed: Spanned<i64>,
}

/// A transport link between two regions.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTransportLink {
    /// One of the `[[regions]]`.
    pub from: Spanned<String>,
    /// Another.
    pub to: Spanned<String>,
    /// One-way latency (absent: the great-circle distance x the network's
    /// route inflation).
    pub latency: Option<Spanned<DurationNs>>,
    /// Loss per packet (default 0).
    pub loss: Option<Spanned<f64>>,
    /// Jitter (default: `[edge.transport] jitter`).
    pub jitter: Option<Spanned<DurationNs>>,
    /// "terrestrial" (default) or "submarine".
    #[schemars(extend("enum" = crate::topology::LINK_CLASS_NAMES))]
    pub class: Option<Spanned<String>>,
    /// Shared-risk groups (a cable, a corridor).
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
}

/// A transport fault: the link between `from` and `to`, or every link of
/// `group`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTransportFault {
    /// "outage" (no packet passes) or "degrade" (extra loss, latency).
    #[schemars(extend("enum" = FAULT_KIND_NAMES))]
    pub kind: Spanned<String>,
    /// One end of the link (with `to`).
    pub from: Option<Spanned<String>>,
    /// The other end.
    pub to: Option<Spanned<String>>,
    /// Instead of from/to: a shared-risk group (a cable) of transport links.
    pub group: Option<Spanned<String>>,
    /// For "degrade": loss added (a probability).
    pub extra_loss: Option<Spanned<f64>>,
    /// For "degrade": one-way latency added.
    pub extra_latency: Option<Spanned<DurationNs>>,
    /// From.
    pub start: Spanned<DurationNs>,
    /// To, after start.
    pub end: Spanned<DurationNs>,
}

/// The control plane in the central region (README, "Edge-container RTC cloud").
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawControl {
    /// Between a node's lease renewals (default "10 s").
    pub lease_period: Option<Spanned<DurationNs>>,
    /// No lease this long: NotReady (default "40 s").
    pub grace: Option<Spanned<DurationNs>>,
    /// NotReady this long: its pods evicted (default "300 s").
    pub eviction_timeout: Option<Spanned<DurationNs>>,
    /// Leases reach the centre through another room of the region that
    /// still reaches it (OpenYurt's pool coordinator; default true).
    pub pool_delegate: Option<Spanned<bool>>,
    /// The centre never evicts for missing leases (OpenYurt's node
    /// autonomy; default true).
    pub autonomy: Option<Spanned<bool>>,
    /// Size of one pool-scope update, an EndpointSlice (default "50 KB").
    pub endpointslice_size: Option<Spanned<SizeBytes>>,
    /// Size of one node-scope update, a pod's status (default "0 B": not
    /// counted; no published figure).
    pub pod_size: Option<Spanned<SizeBytes>>,
    /// Components on a node watching EndpointSlices (default 2:
    /// kube-proxy and CoreDNS).
    pub watchers_per_node: Option<Spanned<i64>>,
}

/// A control-plane fault.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawControlFault {
    /// "centre" (the control plane's region down) or "link" (cloud-edge
    /// links of a region's rooms cut).
    #[schemars(extend("enum" = CONTROL_FAULT_NAMES))]
    pub kind: Spanned<String>,
    /// For "link": one of the `[[edge.regions]]`.
    pub region: Option<Spanned<String>>,
    /// For "link": only this room, from 0 (absent: every room).
    pub room: Option<Spanned<i64>>,
    /// From.
    pub start: Spanned<DurationNs>,
    /// To, after start.
    pub end: Spanned<DurationNs>,
}

/// A duration: a fixed value ("2 s") or a distribution table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawDurationSpec {
    /// Always this long.
    Fixed(DurationNs),
    /// Drawn from a distribution.
    Dist(RawDurationTable),
}

/// `{ distribution = "exponential", mean = ... }`, `{ distribution =
/// "lognormal", median = ..., sigma = ... }`, `{ distribution = "weibull",
/// shape = ..., scale = ... }` or `{ distribution = "empirical", points =
/// [[0.5, "5 min"], ..., [1.0, "2 h"]] }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDurationTable {
    /// "exponential", "lognormal", "weibull" or "empirical".
    #[schemars(extend("enum" = DURATION_DIST_NAMES))]
    pub distribution: String,
    /// Exponential: the mean.
    pub mean: Option<DurationNs>,
    /// Lognormal: the median.
    pub median: Option<DurationNs>,
    /// Lognormal: sigma of the log, at least 0.
    pub sigma: Option<f64>,
    /// Weibull: the shape, above 0 (below 1: a heavier tail).
    pub shape: Option<f64>,
    /// Weibull: the scale.
    pub scale: Option<DurationNs>,
    /// Empirical: (cumulative probability, duration) points, both
    /// increasing, the last at probability 1.
    pub points: Option<Vec<(f64, DurationNs)>>,
}

/// A capacity or demand vector.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawResources {
    /// CPU cores (fractions allowed: 0.25 is 250 millicores).
    pub cpu: Spanned<f64>,
    /// Memory, a size ("8 GiB").
    pub memory: Spanned<SizeBytes>,
    /// Network bandwidth, a rate ("10 Gbps").
    pub bandwidth: Spanned<RateBps>,
    /// Packets per second.
    pub pps: Spanned<i64>,
    /// Host ports (default 0; a machine's must be 1 to 65535).
    pub host_ports: Option<Spanned<i64>>,
}

/// A region's edge rooms and its arrivals.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEdgeRegion {
    /// A `[[regions]]` name.
    pub region: Spanned<String>,
    /// Rooms (IDC sites), at least 1.
    pub rooms: Spanned<i64>,
    /// Machines in each room, at least 1.
    pub machines_per_room: Spanned<i64>,
    /// Machines of the region-level pool (default 0).
    pub region_machines: Option<Spanned<i64>>,
    /// Local time minus UTC, hours, -12 to 14 (default 0).
    pub utc_offset_hours: Option<Spanned<i64>>,
    /// Session arrivals per second in each local hour 0..23: 24 rates.
    pub hourly_arrivals: Spanned<Vec<f64>>,
}

/// The central pool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEdgeCentral {
    /// A `[[regions]]` name.
    pub region: Spanned<String>,
    /// Machines, 0 or more.
    pub machines: Spanned<i64>,
}

/// A service (customer).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEdgeService {
    /// A unique name.
    pub name: Spanned<String>,
    /// Share of every region's arrivals, above 0; the shares sum to 1.
    pub share: Spanned<f64>,
    /// What one session uses on its media server.
    pub session: Spanned<RawResources>,
    /// One media-server pod's request; it must fit a machine.
    pub pod: Spanned<RawResources>,
    /// Sessions one pod serves at most, 1 to 65536.
    pub max_sessions_per_pod: Spanned<i64>,
    /// How long a session lasts: a duration or a distribution table.
    pub session_length: Spanned<RawDurationSpec>,
    /// Live streams through a cascade of media servers. Without it a
    /// session is one server's load (a publisher with its viewers).
    pub streams: Option<Spanned<RawStreams>>,
}

/// A service's live streams: each session publishes one or watches one.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStreams {
    /// Share of the service's sessions that publish a stream, in (0, 1);
    /// the rest subscribe to a live one.
    pub publisher_share: Spanned<f64>,
    /// Share of subscribers who watch a stream published in their own
    /// region, in [0, 1]; the rest pick among all (default 0.8).
    pub same_region_share: Option<Spanned<f64>>,
    /// What each end of a server-to-server leg uses (default: the
    /// session's vector, host ports excluded).
    pub relay: Option<Spanned<RawResources>>,
    /// How long a publisher streams (default: `session_length`). A
    /// subscriber watches for its own `session_length` or until the
    /// stream ends, whichever is first.
    pub publisher_length: Option<Spanned<RawDurationSpec>>,
}

/// The HPA-like autoscaler of each (room, service).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAutoscale {
    /// How often it decides (default "15 s").
    pub sync_period: Option<Spanned<DurationNs>>,
    /// No change while the ratio to the target is within this of 1
    /// (default 0.1).
    pub tolerance: Option<Spanned<f64>>,
    /// Scale in only to the highest recommendation of this window
    /// (default "5 min").
    pub scale_in_window: Option<Spanned<DurationNs>>,
    /// Target utilisation of a pod's request per metric, in (0, 1]: keys
    /// cpu, memory, bandwidth, pps, sessions; at least one (default
    /// `{ sessions = 0.7 }`).
    pub targets: Option<Spanned<RawTargets>>,
    /// Fewest pods per (room, service) (default 1).
    pub min_pods: Option<Spanned<i64>>,
    /// Most pods per (room, service) (default 10000).
    pub max_pods: Option<Spanned<i64>>,
}

/// Autoscaling targets.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTargets {
    /// Of the pod's CPU request.
    pub cpu: Option<Spanned<f64>>,
    /// Of its memory request.
    pub memory: Option<Spanned<f64>>,
    /// Of its bandwidth request.
    pub bandwidth: Option<Spanned<f64>>,
    /// Of its packets-per-second request.
    pub pps: Option<Spanned<f64>>,
    /// Of its session slots.
    pub sessions: Option<Spanned<f64>>,
    /// Streams pushed into a pod (publishers and inbound legs), a count
    /// above 0 per pod.
    pub push_streams: Option<Spanned<f64>>,
    /// Streams pulled out of a pod (subscribers and outbound legs), a
    /// count above 0 per pod.
    pub pull_streams: Option<Spanned<f64>>,
}

/// The serverless pool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServerless {
    /// A new instance's start-up (default lognormal, median "1.5 s",
    /// sigma 0.5).
    pub cold_start: Option<Spanned<RawDurationSpec>>,
    /// An idle instance stays this long (default "10 min").
    pub keep_alive: Option<Spanned<DurationNs>>,
    /// Most instances at once, 1 to 1048576 (default 10000).
    pub max_instances: Option<Spanned<i64>>,
    /// Sessions per instance, 1 to 65536 (default 8).
    pub sessions_per_instance: Option<Spanned<i64>>,
}

/// Prices.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPrices {
    /// Per Mbit/s of the month's 95th percentile (default 2.5).
    pub bandwidth_per_mbps_month: Option<Spanned<f64>>,
    /// Per machine and started hour (default 0.8).
    pub machine_per_hour: Option<Spanned<f64>>,
    /// Per serverless instance-second (default 0.00005).
    pub serverless_per_second: Option<Spanned<f64>>,
    /// Per GB of serverless traffic (default 0.08).
    pub serverless_per_gb: Option<Spanned<f64>>,
}

/// The machine planner of every room pool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlanner {
    /// From order to machine in service: whole hours, "1 h" to "24 h".
    pub lead_time: Spanned<DurationNs>,
    /// Spare capacity over the forecast, at least 0 (default 0.2).
    pub headroom: Option<Spanned<f64>>,
    /// Fewest machines per room pool (default 1).
    pub min_machines: Option<Spanned<i64>>,
    /// Most machines per room pool (default 1000).
    pub max_machines: Option<Spanned<i64>>,
}

/// A flash crowd (or, below 1, a decline).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFlashCrowd {
    /// One of the `[[edge.regions]]`.
    pub region: Spanned<String>,
    /// From.
    pub start: Spanned<DurationNs>,
    /// To, after start, at most the run's duration.
    pub end: Spanned<DurationNs>,
    /// Rate multiplier, above 0.
    pub multiplier: Spanned<f64>,
}

/// A room outage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRoomOutage {
    /// One of the `[[edge.regions]]`.
    pub region: Spanned<String>,
    /// The room, from 0.
    pub room: Spanned<i64>,
    /// From.
    pub start: Spanned<DurationNs>,
    /// To, after start.
    pub end: Spanned<DurationNs>,
}

/// An upgrade of a service's pods.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUpgrade {
    /// One of the `[[edge.services]]`.
    pub service: Spanned<String>,
    /// When, before the run's end.
    pub at: Spanned<DurationNs>,
    /// "in-place" (sessions and port kept) or "recreate" (sessions cut, a
    /// new port).
    #[schemars(extend("enum" = UPGRADE_NAMES))]
    pub how: Spanned<String>,
}
