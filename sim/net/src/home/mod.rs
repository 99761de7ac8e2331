//! Home nodes: the NATed, churning, household-shared half of the underlay.
//!
//! Module map:
//! - [`nat`]: NAT types, the mix of types among home nodes, and the
//!   probability that a direct (hole-punched) connection between two types
//!   succeeds ([`TraversalMatrix`]); otherwise traffic goes through a relay.
//! - [`capacity`]: a node's base upload ([`CapacityDist`]), the share of it
//!   usable by time of day ([`DiurnalProfile`]) and the household's own use
//!   of it, a bounded mean-reverting process ([`HouseholdModel`],
//!   [`Household`]).
//! - [`churn`]: session lengths ([`SessionDist`]) and the on/off process of
//!   a node ([`OnOffDist`] shared, [`OnOff`] per node), started in steady
//!   state.
//! - [`node`]: every parameter above, validated together ([`HomeModel`]),
//!   and the whole per-node state ([`HomeNode`]), kept to about 100 bytes
//!   so that millions of nodes fit in memory.
//!
//! Like the rest of the crate this is sans-IO: functions take the current
//! time and a random stream and return states and the time of the next
//! transition; the world turns those times into events.
//!
//! Parameters are validated when a value is built: every constructor that
//! can be given bad numbers returns a [`ParamError`](crate::ParamError) naming the parameter,
//! and nothing here panics on user input. Enum variants that carry
//! parameters are `#[non_exhaustive]`, so outside this crate they can only be
//! built through the validated constructors (their fields stay readable).

pub mod capacity;
pub mod churn;
pub mod nat;
pub mod node;

pub use capacity::{CapacityDist, DiurnalProfile, Household, HouseholdModel, MAX_UPLOAD_BPS};
pub use churn::{OnOff, OnOffDist, SessionDist};
pub use nat::{Connection, NatMix, NatType, TraversalMatrix};
pub use node::{HOME_NODE_STATE_BUDGET_BYTES, HomeModel, HomeNode, STREAM_CHURN, STREAM_HOUSEHOLD, STREAM_INIT};
