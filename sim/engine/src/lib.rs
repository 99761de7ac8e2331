//! The event engine: simulated time, a totally ordered event queue, named
//! random streams and the run loop. It knows nothing about networks or
//! video; the world crate gives it meaning.
//!
//! Module map:
//! - [`time`]: integer simulated time ([`SimTime`], [`SimDuration`], ns).
//! - [`queue`]: [`EventKey`] (the total order) and the queues that keep it:
//!   [`RadixQueue`] (used by the run loop) and [`HeapQueue`] (a plain binary
//!   heap kept as the reference the radix queue is tested against).
//! - [`rng`]: one named random stream per random process, seeded by a stable
//!   hash of (run seed, stream name).
//! - [`sim`]: the [`Model`] trait, the [`Scheduler`] a model schedules into,
//!   and [`run`], the loop with a stop time, an event counter and a bound on
//!   pending events.

pub mod queue;
pub mod rng;
pub mod sim;
pub mod time;

pub use queue::{Class, EventKey, HeapQueue, RadixQueue};
pub use rng::{RngStream, stable_hash64, stream, stream_indexed, stream_seed};
pub use sim::{EngineError, Model, RunStats, Scheduler, run};
pub use time::{SimDuration, SimTime};
