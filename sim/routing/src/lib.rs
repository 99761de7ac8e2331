//! Overlay routing for live streams on an IDC backbone, sans-IO: the caller
//! passes time (u64 microseconds), link observations and viewer events in,
//! and gets route decisions back. Nothing here knows the event engine, the
//! world or the scenario format, so the same code could run in a real route
//! service and node agent.
//!
//! Three generations of internal topology from the shared-CDN talk
//! (`sources/001_*`; docs/references.md, Tree sources and centres), behind
//! one [`Router`]:
//! - **Tree**: a static three-level tree (multi-line sources, regional
//!   centres per area and ISP, edges); every stream climbs to the root and
//!   comes down the tree, whatever the traffic. The up-leg and the
//!   down-leg are separate relays, so no route repeats a node and a centre
//!   on both legs carries the stream both ways.
//! - **Pool**: the tree's levels as pools of interchangeable nodes; routes
//!   chosen dynamically by link scores and costs, with anti ping-pong
//!   switching (margin and dwell time).
//! - **Mesh**: every broadcaster's ingest node is the source; passive
//!   upstream; any node carrying the stream at acceptable quality serves;
//!   a hop bound, same-ISP first, ISP crossings only through multi-line
//!   nodes; a central route service plus a caching agent per node.
//!
//! Path choice (pool, mesh): quality is the product of the links' scores
//! (score / 100, x 100, end to end from the source); among paths with
//! quality at least the stream class's minimum and at most `max_hops` hops
//! from the source, the cheapest wins (cost per hop, per interconnect and
//! per unit of the sender's price), then the higher quality, fewer hops,
//! lower node ids (read back from the target). A carrier is a free start,
//! so grafting near one wins over a fresh path from the source. The search
//! is exact (see the `search` module's docs).
//!
//! Module map:
//! - [`graph`]: [`Graph`] (nodes, links, CSR adjacency, tree relations,
//!   pools) and its deterministic synthetic generator.
//! - [`score`]: [`Observation`], [`ScoreFn`] (logistic, with a Newton fit
//!   from (observation, KPI) samples) and per-link time smoothing.
//! - [`policy`]: [`Mode`], [`Policy`], [`Redundancy`]: what a scenario sets.
//! - `search`: the exact hop-bounded quality-cost label-setting search and
//!   its lower-bound cache.
//! - [`router`]: [`Router`] (joins, leaves, reroutes with anti ping-pong,
//!   hot pushes, mesh agents, shortest hops) and its outputs [`Route`],
//!   [`Reroute`], [`Push`], [`RouterStats`].
//! - [`seam`]: seamless switching: [`resume_block`] and [`SpliceCounter`].
//! - [`transport`]: [`Transport`], the region-to-region transport
//!   network: probing, failure detection after d missed probes, and a route
//!   service per region pair, direct or through one relay region (RON's
//!   rule), scored with [`ScoreFn`] and held against ping-pong.
//! - [`control`]: [`Retry`], the senders' retry timers of control
//!   messages between overlay nodes (timeout from the path's round trip,
//!   bounded retries with backoff, giving up).
//! - [`error`]: [`ParamError`] (bad configuration) and [`NoRoute`].
//! - `limits`: the table bounds [`MAX_STREAMS`] and [`MAX_LABELS`].

#![warn(missing_docs)]

pub mod control;
pub mod error;
pub mod graph;
mod limits;
pub mod policy;
pub mod router;
pub mod score;
pub mod seam;
mod search;
pub mod transport;

pub use control::{ControlOutput, MsgId, Retry, RetryConfig, RetryStats};
pub use error::{NoRoute, ParamError};
pub use graph::{Graph, LinkInfo, NodeInfo, Tier};
pub use limits::{MAX_LABELS, MAX_STREAMS};
pub use policy::{Mode, Policy, Redundancy};
pub use router::{Push, Reroute, Route, Router, RouterStats};
pub use score::{FitError, Observation, ScoreFn};
pub use seam::{Resume, SpliceCounter, resume_block};
pub use transport::{LinkIx, LinkSpec, RegionIx, TPath, Transport, TransportConfig, TransportStats};
