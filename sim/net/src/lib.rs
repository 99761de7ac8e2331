//! The underlay: where nodes are and what the wires between them do.
//!
//! Module map:
//! - [`backbone`]: the IDC backbone across ISPs (PoPs, corridors,
//!   interconnects, IDCs) with cached same-ISP-first shortest paths.
//! - [`geo`]: great-circle distance and propagation latency.
//! - [`fifo`]: a bounded drop-tail FIFO that serialises messages at a bit
//!   rate; the queueing behaviour of every link and node egress.
//! - [`loss`]: loss models (Bernoulli, Gilbert-Elliott) and their state.
//! - [`channel`]: one direction of a link: a FIFO, propagation latency, a
//!   loss model drawing from the link's own random stream, fault state.
//! - [`shared`]: backbone links as shared resources: per link and
//!   direction a drop-tail FIFO that every overlay link crossing it queues
//!   in, with conservation and per-second statistics.
//! - [`topology`]: the node/link graph (petgraph) with channels indexed by
//!   node pair and shortest hop counts computed once and cached.
//! - [`home`]: home nodes: NAT types and traversal, upload capacity with its
//!   daily and household variation, and on/off churn started in steady state.
//! - [`param`]: [`ParamError`], what every validated constructor (home-node
//!   models, the backbone) returns for a bad parameter.
//!
//! Nothing here schedules events: functions take the current time and
//! return when things happen, and the world turns that into events.

pub mod backbone;
pub mod channel;
pub mod fifo;
pub mod geo;
pub mod home;
pub mod loss;
pub mod param;
pub mod shared;
pub mod topology;

pub use channel::{Channel, Transmit};
pub use fifo::{Fifo, Offer};
pub use loss::{Loss, LossModel};
pub use param::ParamError;
pub use shared::{DailyShare, Pass, SharedDir, SharedLinks};
pub use topology::{ChannelId, NodeId, Topology};
