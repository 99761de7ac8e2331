//! The underlay: where nodes are and what the wires between them do.
//!
//! Module map:
//! - [`geo`]: great-circle distance and propagation latency.
//! - [`fifo`]: a bounded drop-tail FIFO that serialises messages at a bit
//!   rate; the queueing behaviour of every link and node egress.
//! - [`channel`]: one direction of a link: a FIFO, propagation latency and
//!   Bernoulli loss drawn from the link's own random stream.
//! - [`topology`]: the node/link graph (petgraph) with channels indexed by
//!   node pair and shortest hop counts computed once and cached.
//!
//! Nothing here schedules events: functions take the current time and
//! return when things happen, and the world turns that into events.

pub mod channel;
pub mod fifo;
pub mod geo;
pub mod topology;

pub use channel::{Channel, Transmit};
pub use fifo::{Fifo, Offer};
pub use topology::{ChannelId, NodeId, Topology};
