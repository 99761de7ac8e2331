//! The fountain-coded last hop of the shared-CDN talk
//! (`../shared/sources/`; its figures: the entries from
//! docs/references.md, Ideal amplification), as sans-IO state machines:
//! home nodes amplify the most popular streams by uploading coded symbols
//! of each block to many clients, each client pulling from tens of them in
//! parallel.
//!
//! Nothing here knows the event engine, the world, the scenario format or
//! the results writer. Time is `u64` nanoseconds passed in; the network
//! (NAT traversal, latencies, queues, loss) is the caller's, reached
//! through the [`Underlay`] trait and through the [`Output`]s it carries
//! out; the only randomness owned here is the model fidelity's per-block
//! decode draw, from a stream the caller hands over by value.
//!
//! # Run-loop contract
//!
//! The caller owns the clock and the network. It builds one [`LastHop`]
//! per run, calls [`LastHop::start`] and [`LastHop::register`] for the
//! home nodes online at time zero, then calls one method per event:
//!
//! | event in the caller's world | call |
//! |---|---|
//! | an edge completed a block of a last-hop stream | [`LastHop::block_ready`] |
//! | a [`Output::Feed`] reached its home node | [`LastHop::feed_arrived`] |
//! | a [`Output::ServerSend`] / [`Output::HomeSend`] reached its client | [`LastHop::symbols_arrived`] |
//! | a [`Timer::Heartbeat`] / [`Timer::Review`] fired | [`LastHop::heartbeat`] / [`LastHop::client_review`] |
//! | a home node went on- or offline | [`LastHop::churn`] |
//! | a viewer of a last-hop stream joined / left | [`LastHop::client_join`] / [`LastHop::client_leave`] |
//!
//! After **every** call it drains [`LastHop::poll`] until `None` and acts
//! on each [`Output`] in the order given: arm timers, put feeds and
//! symbols on its network, make edges carry or release streams. The order
//! of the outputs is part of the run's event order; acting on them out of
//! order changes results. Nothing here calls back into the caller except
//! through [`Underlay`], synchronously, for facts it answers at once.
//!
//! # Module map
//! - [`ids`]: the handles at the boundary ([`HomeId`], [`ClientId`],
//!   [`EdgeId`], [`StreamId`], [`Block`], [`NatClass`], [`Sender`]).
//! - [`config`]: [`Config`], its checks and derived facts (wire bytes,
//!   symbols per block at a rate, review times).
//! - [`client`]: the client SDK: asks and their ramp, reviews and
//!   eviction, redundancy, server repair, the receive window.
//! - [`agent`]: the home-node agent: [`HomeInfo`], LIFO load shedding,
//!   upload pacing, [`HomeTally`].
//! - [`scheduler`]: the heartbeat view, locality buckets and the
//!   [`Placement`] trait with its default [`FirstFit`].
//! - [`selection`]: [`Selection`], which streams go over the last hop
//!   (the talk's saving-against-cost rule with hysteresis).
//! - [`stats`]: [`Stats`], what a run adds up.
//! - [`system`]: [`LastHop`], which wires them together: the edge servers'
//!   users, the [`Output`]s and [`Timer`]s.
//!
//! What is simplified (README, "What the model covers"): control messages
//! (subscriptions, asks, scheduler answers, shed notices) take no time; a
//! home node's feed is not retransmitted.

pub mod agent;
pub mod client;
pub mod config;
pub mod ids;
pub mod scheduler;
pub mod selection;
pub mod stats;
pub mod system;

pub use agent::{HomeInfo, HomeTally};
pub use config::{Config, MAX_SENDERS};
pub use ids::{Block, ClientId, EdgeId, HomeId, NatClass, Sender, StreamId};
pub use scheduler::{FirstFit, Placement, Request, View};
pub use selection::{Audience, Measure, Selection, SelectionConfig, SelectionError, SelectionTally, Verdict};
pub use stats::Stats;
pub use system::{Arrival, ClientPlace, ClientTally, Connection, LastHop, Output, Timer, Underlay, client_bytes, home_bytes};
