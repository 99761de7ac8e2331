//! What a backbone is built from: the table bounds and the input tables,
//! checked by [`Backbone::new`](super::Backbone::new).

use crate::loss::LossModel;

/// Table bounds, checked when a backbone is built. The PoP bound keeps the
/// path cache (2 P^2 entries of 14 bytes) under 120 MiB.
pub const MAX_ISPS: usize = 64;
pub const MAX_REGIONS: usize = 4096;
pub const MAX_POPS: usize = 2048;
pub const MAX_BACKBONE_LINKS: usize = 1 << 20;
pub const MAX_INTERCONNECTS: usize = 1024;
pub const MAX_IDCS: usize = 1 << 20;
pub const MAX_GROUPS_PER_LINK: usize = 16;

/// Everything needed to build a [`Backbone`](super::Backbone); indices
/// refer to the vectors of this struct.
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
