//! The IDC backbone across ISPs, as data and as a graph.
//!
//! What it models (the shared-CDN talk, `sources/001_*`; DESIGN.md):
//! - **PoPs**: one point of presence per (province, ISP), with coordinates.
//! - **ISPs** are data (names), not enum variants: China Telecom, Unicom,
//!   Mobile and any smaller ISP come from the scenario's topology file.
//! - **Backbone links** join two PoPs of one ISP. Their latency is the
//!   great-circle distance times a route inflation at a fibre speed (about
//!   200 km/ms), unless given; each has a capacity, a loss model and
//!   shared-risk groups (corridors that fail together, such as Telecom's
//!   Beijing-Wuhan-Guangzhou "jing-han-guang" backbone of 2015).
//! - **Interconnects**: traffic between ISPs crosses only at a few named
//!   sites; each site joins every pair of its PoPs with extra latency, loss
//!   and a capacity (they are few and congested).
//! - **IDC nodes** hang off PoPs of their own province through access links:
//!   single-line (one ISP) or multi-line BGP (one PoP per ISP it buys from).
//!
//! # Paths
//!
//! Shortest by one-way latency, under one rule: when the two ends share an
//! ISP (a multi-line IDC is on every ISP it attaches to) and a path exists
//! inside that ISP, the path uses only that ISP's backbone; only otherwise
//! may it cross interconnects. IDCs never carry transit: a path enters the
//! backbone at its source's PoP and leaves at its destination's.
//!
//! Because IDCs are leaves, every path is `source access link -> PoP x ->
//! backbone -> PoP y -> destination access link`. So the shortest-path
//! trees are rooted at PoPs, not IDCs: per PoP at most two trees, one over
//! its own ISP's backbone and one over everything (backbone and
//! interconnects), each computed with petgraph's Dijkstra the first time a
//! query needs it and then cached. A query combines the trees of the
//! source's attachment PoPs with the destination's attachments: a few array
//! reads, no search, no per-message work. With P PoPs the cache holds at most
//! 2P trees of P entries (14 bytes each), bounded by [`MAX_POPS`].
//!
//! Ties are broken without looking at any hash order: latencies are integer
//! ns, a tree's predecessor of a PoP is the tight incoming link with the
//! fewest hops behind it, then the smallest link id, and candidate routes
//! are compared by (latency, hops) in attachment order. The same graph and
//! the same up/down state always give the same paths.
//!
//! # Failures and the cache
//!
//! [`Backbone::set_links_up`] and [`Backbone::set_group_up`] change link
//! state and drop exactly the cached trees the change can alter:
//! - a link going down invalidates the trees that use it (it is a tree
//!   link of one of its ends);
//! - a link coming up invalidates the trees in which it would be tight or
//!   shorter (`d(u) + latency <= d(v)` either way, unreachable ends
//!   counting as infinitely far); a tree where it is neither is exactly the
//!   tree of the new graph, so keeping it is exact, not an approximation;
//! - access links never appear in trees; their state is read per query.
//!
//! Cost of a change: O(cached trees x changed links), constant work each;
//! each invalidated tree is recomputed when next queried, O((V + E) log V).
//! Taking a corridor down and back up therefore restores the original
//! paths exactly (the property tests check this against a fresh build).
//!
//! Module map:
//! - [`graph`]: the built [`Backbone`]: validation, latencies, links, link
//!   state and shared-risk groups.
//! - `paths`: the per-PoP trees, their cache and the path queries.
//! - [`synth`]: a seeded synthetic generator for scale and property tests.

pub mod graph;
mod paths;
pub mod synth;

use crate::loss::LossModel;

pub use graph::{Attachment, Backbone, Idc, Interconnect, Link, LinkKind, Pop};
pub use paths::{CacheStats, Path};
pub use synth::{SynthParams, synthetic};

/// Table bounds, checked when a backbone is built. The PoP bound keeps the
/// path cache (2 P^2 entries of 14 bytes) under 120 MiB.
pub const MAX_ISPS: usize = 64;
pub const MAX_REGIONS: usize = 4096;
pub const MAX_POPS: usize = 2048;
pub const MAX_BACKBONE_LINKS: usize = 1 << 20;
pub const MAX_INTERCONNECTS: usize = 1024;
pub const MAX_IDCS: usize = 1 << 20;
pub const MAX_GROUPS_PER_LINK: usize = 16;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// An ISP, by its position in [`BackboneInput::isps`].
    IspId
);
id_type!(
    /// A province or region, by its position in [`BackboneInput::regions`].
    RegionId
);
id_type!(
    /// A PoP, by its position in [`BackboneInput::pops`].
    PopId
);
id_type!(
    /// An IDC, by its position in [`BackboneInput::idcs`].
    IdcId
);
id_type!(
    /// An interconnect site, by its position in
    /// [`BackboneInput::interconnects`].
    InterconnectId
);
id_type!(
    /// A full-duplex link of the built backbone: backbone links first (in
    /// input order), then interconnect pairs, then IDC access links.
    LinkId
);
id_type!(
    /// A shared-risk group, in order of first mention.
    GroupId
);

/// Either end of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    Pop(PopId),
    Idc(IdcId),
}

/// Everything needed to build a [`Backbone`]; indices refer to the vectors
/// of this struct.
#[derive(Clone, Debug)]
pub struct BackboneInput {
    /// Signal speed in fibre, about two thirds of c (200 km/ms).
    pub propagation_km_per_ms: f64,
    /// Floor on a derived link latency (two PoPs in one city are still a
    /// metro network apart); at least 1 ns.
    pub min_latency_ns: u64,
    /// Route inflation for the distance between an interconnect's PoPs.
    pub interconnect_route_inflation: f64,
    pub isps: Vec<String>,
    pub regions: Vec<String>,
    pub pops: Vec<PopSpec>,
    pub links: Vec<LinkSpec>,
    pub interconnects: Vec<InterconnectSpec>,
    pub idcs: Vec<IdcSpec>,
}

/// The PoP of ISP `isp` in region `region` (at most one per pair).
#[derive(Clone, Debug)]
pub struct PopSpec {
    pub region: usize,
    pub isp: usize,
    pub lat_deg: f64,
    pub lon_deg: f64,
}

/// A backbone link between two PoPs of one ISP.
#[derive(Clone, Debug)]
pub struct LinkSpec {
    pub a: usize,
    pub b: usize,
    pub capacity_bps: u64,
    pub loss: LossModel,
    /// Fibre route length over the great circle (>= 1).
    pub route_inflation: f64,
    /// One-way latency when known; otherwise derived from the distance.
    pub latency_ns: Option<u64>,
    /// Shared-risk groups (corridor names).
    pub groups: Vec<String>,
}

/// A site where ISPs exchange traffic: every pair of `pops` (each of a
/// different ISP) is joined by a link with these properties.
#[derive(Clone, Debug)]
pub struct InterconnectSpec {
    pub name: String,
    pub pops: Vec<usize>,
    /// Added to the propagation latency between the two PoPs: the detour
    /// and queueing of a congested exchange.
    pub extra_latency_ns: u64,
    pub capacity_bps: u64,
    pub loss: LossModel,
    pub groups: Vec<String>,
}

/// An IDC attached to one PoP (single-line) or several PoPs of different
/// ISPs (multi-line BGP), all in its own region.
#[derive(Clone, Debug)]
pub struct IdcSpec {
    pub name: String,
    pub region: usize,
    pub pops: Vec<usize>,
    /// Capacity of the IDC's uplink; each access link carries it.
    pub egress_bps: u64,
    /// Bandwidth price per GB sent out (currency of the data set).
    pub price_per_gb: f64,
    /// One-way latency from the IDC to each of its PoPs.
    pub access_latency_ns: u64,
}
