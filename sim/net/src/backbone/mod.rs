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
//! Module map (each module uses only those listed before it, so the
//! arrows between them point one way; this file only re-exports):
//! - `ids`: the id newtypes ([`PopId`], [`LinkId`], ...) and [`Endpoint`].
//! - `input`: the table bounds and [`BackboneInput`], what a backbone is
//!   built from.
//! - `tree`: one shortest-path tree per (PoP, mode) and the cache holding
//!   them: storage only, filled by `paths`.
//! - [`graph`]: the built [`Backbone`]: validation, latencies, links, link
//!   state and shared-risk groups.
//! - `paths`: computing the trees, invalidating them on link changes and
//!   the path queries, as methods of [`Backbone`].
//! - [`synth`]: a seeded synthetic generator for scale and property tests;
//!   [`synth_global`]: the same for global transport networks (regions on
//!   continents, submarine cables).

pub mod graph;
mod ids;
mod input;
mod paths;
pub mod synth;
pub mod synth_global;
mod tree;

pub use graph::{Attachment, Backbone, Idc, Interconnect, Link, LinkKind, Pop};
pub use ids::{Endpoint, GroupId, IdcId, InterconnectId, IspId, LinkId, PopId, RegionId};
pub use input::{
    BackboneInput, IdcSpec, InterconnectSpec, LinkSpec, MAX_BACKBONE_LINKS, MAX_GROUPS_PER_LINK, MAX_IDCS, MAX_INTERCONNECTS,
    MAX_ISPS, MAX_POPS, MAX_REGIONS, PopSpec,
};
pub use paths::{CacheStats, Path};
pub use synth::{SynthParams, synthetic};
pub use synth_global::{GlobalSynthParams, GlobalTopology, synthetic_global};
