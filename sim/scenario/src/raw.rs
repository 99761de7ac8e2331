//! The scenario file as written: serde structs that mirror the TOML, with
//! unknown fields refused. Values that the resolve step checks against each
//! other keep their position (`Spanned`) so its errors can point at them.

use serde::Deserialize;
use toml::Spanned;

use crate::units::{DurationNs, RateBps, SizeBytes};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub run: RawRun,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub network: RawNetwork,
    #[serde(default)]
    pub transport: RawTransport,
    #[serde(default)]
    pub regions: Vec<RawRegion>,
    #[serde(default)]
    pub nodes: Vec<RawNode>,
    #[serde(default)]
    pub links: Vec<RawLink>,
    /// IDC nodes and overlay links generated from the topology.
    pub overlay: Option<Spanned<RawOverlay>>,
    #[serde(default)]
    pub faults: Vec<RawFault>,
    pub routing: Option<Spanned<RawRouting>>,
    /// One broadcaster, or a population of them (`[broadcasters]`).
    pub broadcaster: Option<Spanned<RawBroadcaster>>,
    pub broadcasters: Option<Spanned<RawBroadcasters>>,
    pub stream: RawStream,
    pub viewers: RawViewers,
    pub home: Option<Spanned<RawHome>>,
    pub last_hop: Option<Spanned<RawLastHop>>,
}

/// Takes the topology's sources and centres, and `edges_per_isp` edges of
/// every (province, ISP), and links them: the tree (edge - its area's
/// centre on its ISP - the root source; the edges of an ISP with no centre
/// in their area, such as the small ISPs, hang from the multi-line root
/// directly, which must be on their ISP) plus the links a mesh or pool may
/// use (centres with each other and with every source, edges of one
/// province with each other and with every source). Multi-line sources
/// are the mesh's transit points between ISPs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOverlay {
    pub root: Spanned<String>,
    pub isps: Spanned<Vec<String>>,
    pub edges_per_isp: Spanned<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    pub mode: Spanned<String>,
    pub probe_interval: Option<Spanned<DurationNs>>,
    pub service_region: Option<Spanned<String>>,
    pub min_quality: Option<Spanned<f64>>,
    pub hot_min_quality: Option<Spanned<f64>>,
    pub max_hops: Option<Spanned<i64>>,
    pub switch_margin: Option<Spanned<f64>>,
    pub min_dwell: Option<Spanned<DurationNs>>,
    pub hot_viewers: Option<Spanned<i64>>,
    pub cold_viewers: Option<Spanned<i64>>,
    pub cost_per_hop: Option<Spanned<f64>>,
    pub cost_per_interconnect: Option<Spanned<f64>>,
    pub cost_per_price: Option<Spanned<f64>>,
    pub hot_redundancy: Option<Spanned<RawRedundancy>>,
}

/// `hot_redundancy = "disjoint-paths"` or `{ fec = 0.2 }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawRedundancy {
    Name(String),
    Fec(RawFec),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFec {
    /// Repair bytes per source byte.
    pub fec: f64,
}

/// Many broadcasters, one stream each: where they are, and how viewers
/// choose among their streams.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBroadcasters {
    pub count: Spanned<i64>,
    pub zipf: Spanned<f64>,
    pub local_viewers: Spanned<f64>,
    pub uplink: Spanned<RateBps>,
    pub access_latency: Option<DurationNs>,
    pub regions: Vec<RawViewerRegion>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    pub seed: u64,
    pub duration: Spanned<DurationNs>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_pending_events: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    pub route_inflation: Option<Spanned<f64>>,
    pub propagation_km_per_ms: Option<Spanned<f64>>,
    pub min_latency: Option<DurationNs>,
    /// A bundled backbone, `topologies/<name>.toml` beside the scenario.
    pub topology: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransport {
    pub retransmit_timeout: Option<Spanned<DurationNs>>,
    pub max_retransmits: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub name: Spanned<String>,
    pub lat: Spanned<f64>,
    pub lon: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub name: Spanned<String>,
    /// An IDC of the topology: gives region, ISP and egress.
    pub idc: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub isp: Option<String>,
    pub role: Spanned<String>,
    pub parent: Option<Spanned<String>>,
    pub egress: Option<Spanned<RateBps>>,
    pub egress_queue: Option<Spanned<SizeBytes>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    /// Derived from the backbone path when both ends are topology IDCs.
    pub bandwidth: Option<Spanned<RateBps>>,
    pub loss: Option<Spanned<RawLoss>>,
    pub queue: Option<Spanned<SizeBytes>>,
    pub latency: Option<Spanned<DurationNs>>,
    pub route_inflation: Option<Spanned<f64>>,
    /// Shared-risk groups the link belongs to (a corridor, an interconnect).
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
}

/// `loss = 0.01` (independent) or a Gilbert-Elliott table.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawLoss {
    Probability(f64),
    Model(RawLossModel),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLossModel {
    pub model: String,
    pub p_good_to_bad: f64,
    pub p_bad_to_good: f64,
    #[serde(default)]
    pub loss_good: f64,
    #[serde(default = "one")]
    pub loss_bad: f64,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub group: Spanned<String>,
    pub kind: Spanned<String>,
    pub start: Spanned<DurationNs>,
    pub end: Spanned<DurationNs>,
    pub extra_loss: Option<Spanned<f64>>,
    pub extra_latency: Option<Spanned<DurationNs>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBroadcaster {
    pub region: Spanned<String>,
    pub ingest: Spanned<String>,
    pub uplink: Spanned<RateBps>,
    pub access_latency: Option<DurationNs>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStream {
    pub name: String,
    pub bitrate: Spanned<RateBps>,
    pub block: Spanned<DurationNs>,
    pub chunk: Spanned<SizeBytes>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawViewers {
    pub arrivals_per_s: Spanned<f64>,
    pub initial: Option<Spanned<i64>>,
    pub initial_window: Option<Spanned<DurationNs>>,
    pub watch_time: Spanned<RawWatchTime>,
    pub playout_delay: Spanned<DurationNs>,
    pub access_latency: Option<DurationNs>,
    pub access_loss: Option<Spanned<f64>>,
    pub regions: Vec<RawViewerRegion>,
}

/// A flat table rather than a tagged enum: serde buffers tagged enums,
/// which would lose the positions errors need.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWatchTime {
    pub distribution: Spanned<String>,
    pub mean: Option<Spanned<DurationNs>>,
    pub median: Option<Spanned<DurationNs>>,
    pub sigma: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawViewerRegion {
    pub region: Spanned<String>,
    pub weight: Spanned<f64>,
}

/// Home nodes: where they are, and the parameters of their model. Every
/// parameter is optional; the defaults are the documented ones of
/// `cdnsim_net::home`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHome {
    pub regions: Vec<RawHomeRegion>,
    pub nat_mix: Option<Spanned<Vec<f64>>>,
    pub traversal: Option<Spanned<Vec<Vec<f64>>>>,
    pub upload: Option<Spanned<RawUpload>>,
    pub on_session: Option<Spanned<RawSession>>,
    pub off_session: Option<Spanned<RawSession>>,
    pub diurnal: Option<Spanned<Vec<f64>>>,
    pub start_time_of_day: Option<Spanned<DurationNs>>,
    pub household: Option<Spanned<RawHousehold>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHomeRegion {
    pub region: Spanned<String>,
    pub isp: String,
    pub count: Spanned<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpload {
    pub distribution: String,
    pub median: Option<RateBps>,
    pub sigma: Option<f64>,
    pub min: Option<RateBps>,
    pub max: Option<RateBps>,
    pub values: Option<Vec<RateBps>>,
    pub weights: Option<Vec<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSession {
    pub distribution: String,
    pub mean: Option<DurationNs>,
    pub median: Option<DurationNs>,
    pub scale: Option<DurationNs>,
    pub shape: Option<f64>,
    pub sigma: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHousehold {
    pub low: f64,
    pub high: f64,
    pub interval: DurationNs,
    pub mean_hold: DurationNs,
}

/// `[last_hop]`: the fountain-coded last hop over home nodes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLastHop {
    pub streams: Option<Spanned<i64>>,
    pub fidelity: Option<Spanned<String>>,
    pub symbol: Option<Spanned<SizeBytes>>,
    pub share: Spanned<f64>,
    pub heartbeat: Option<Spanned<DurationNs>>,
    pub candidates: Option<Spanned<f64>>,
    pub loss: Option<Spanned<f64>>,
    pub ramp_blocks: Option<Spanned<i64>>,
    pub target: Option<Spanned<f64>>,
    pub headroom: Option<Spanned<i64>>,
}
