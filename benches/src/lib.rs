//! PHOLD (Fujimoto's synthetic workload) for the benchmarks in
//! `benches/phold.rs`: one model, run on the engine, on bare queues and (in
//! the bench target, where nexosim is a dev-dependency) on nexosim, with the
//! same draws everywhere so the engines can be checked against each other
//! event for event before they are timed.
//!
//! Module map:
//! - [`phold`]: the workload itself — [`PholdConfig`] (LPs, population,
//!   delay law, seed), the per-LP draws every implementation shares, and
//!   [`Tally`], the order-independent record of handled (time, LP) pairs.
//! - [`engine`]: PHOLD as a [`cdnsim_engine::Model`] driven by
//!   [`cdnsim_engine::run`] ([`EnginePhold`]).
//! - [`queue_loop`]: PHOLD on a bare event queue, generic over
//!   [`cdnsim_engine::RadixQueue`] and [`cdnsim_engine::HeapQueue`]
//!   ([`QueuePhold`]), to isolate what the queue costs at 10^6 pending.
//! - [`china`]: the China overlay graph the route benchmarks (criterion and
//!   the instruction-count gate) join on.

pub mod china;
pub mod engine;
pub mod phold;
pub mod queue_loop;

pub use engine::{EnginePhold, PholdModel};
pub use phold::{LPS, POPULATIONS, PholdConfig, Tally};
pub use queue_loop::{EventQueue, QueuePhold};
