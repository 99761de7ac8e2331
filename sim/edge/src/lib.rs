//! The edge-container RTC cloud of the edge-container talk
//! (`sources/000_7abe2c8974d4b3cd.txt`; what the crate takes from it and
//! from elsewhere: docs/references.md, Edge containers), sans-IO: shared
//! multi-level edge pools, placement policies, stateful media-server pods
//! with a tombstone drain, autoscaling, a central serverless burst pool and
//! cost.
//!
//! Nothing here knows the event engine, the world, the scenario format or
//! the results files. Time is `u64` nanoseconds passed in by the caller;
//! randomness is the caller's generator passed by `&mut impl RngCore`; the
//! crate keeps no global state. The same inputs give the same outputs.
//!
//! # What is modelled
//!
//! - Capacity vectors of five resources (CPU, memory, bandwidth, packets
//!   per second, host ports) on machines in rooms (IDC sites) in regions.
//! - Pools: sets of machines admitting every customer (shared) or a list
//!   (dedicated); levels room -> region -> central, a full level
//!   overflowing to the next; an N-k (N-2) aggregate-capacity check per
//!   region.
//! - Placement policies behind a trait (spread, binpack, a Borg-like
//!   hybrid, closures), with a bucketed index for speed and a reason for
//!   every refusal.
//! - Live streams: a publisher's push on one server, pulled by subscribers
//!   on others through a bounded-depth cascade of server-to-server legs.
//! - Media-server pods: initialising -> allocated -> tombstone ->
//!   waiting-deletion (or naive deletion), start-up times, in-place upgrade
//!   vs recreate, host ports.
//! - An HPA-like multi-metric autoscaler with tolerance and a scale-in
//!   stabilisation window; a same-hour-yesterday-plus-trend forecaster
//!   buying machines with a lead time and releasing surplus.
//! - A serverless pool with cold starts, keep-alive, per-second and
//!   per-GB billing; 95th-percentile bandwidth billing; cost per tier and
//!   per session-hour.
//! - Workload helpers: a daily rate profile per region with flash crowds,
//!   a thinning non-homogeneous Poisson generator, heavy-tailed durations.
//!
//! # What is not
//!
//! - The network: join latency is the world's, and the transport network
//!   (MSDN) between regions is `cdnsim_routing::transport`, driven by the
//!   world; the cascade here is a tree of pulls, with no link model.
//! - The control plane's latency; a placement is instantaneous. (Who it
//!   can manage, its eviction rule when the cloud-edge network is cut,
//!   and its list-watch bytes are [`control`] and [`listwatch`]; the
//!   bytes are counted, not carried over a modelled link.)
//! - CPU topology, GPUs, interference between pods on a machine.
//! - A session's resource use changing over its life (a session keeps
//!   what it asked for).
//! - The forecaster is the documented simple predictor, not the talk's
//!   machine-learning model.
//!
//! # Run-loop contract
//!
//! Each time-driven state machine ([`Pod`], [`Autoscaler`],
//! [`MachinePlanner`], [`Serverless`]) follows the quinn-proto shape:
//!
//! 1. feed inputs as they happen (`open_session`, `observe`, ...) with the
//!    current time;
//! 2. drain its outputs (`poll_event`, `poll_decision`, `poll_action`)
//!    after every call;
//! 3. ask `poll_timeout()` for the next time it has work, and call
//!    `handle_timeout(now)` at that time (calling later is allowed and
//!    catches up; time must never go back).
//!
//! The [`Cluster`] has no timers: it is a pure function of the calls made
//! on it (`place`, `place_chain`, `release`, `cordon`, `release_machine`).
//! A driver with many machines keeps its own timer queue keyed by (time,
//! sequence) and calls each machine's `handle_timeout` in that order; ties
//! at one time go in the order the driver registered them.
//!
//! # How the pieces fit (for a driver)
//!
//! - A **pod** occupies an allocation: `Cluster::place_chain(&chain,
//!   &pod_config.capacity, customer)` picks its machine; the driver keeps
//!   the [`AllocId`] with the [`Pod`], draws its start-up time
//!   ([`pod::StartupTimes`], pre-warmed or pulled) and a host port
//!   ([`PortPool`] per machine). Sessions then use the pod's capacity
//!   through [`Pod::open_session`]; which pod of a room takes a session is
//!   the driver's choice. When a pod reports
//!   [`PodEvent::WaitingDeletion`], the driver releases its allocation and
//!   port.
//! - For questions about the pools alone (overflow, sharing, packing), a
//!   session or pod can be placed on machines directly with the cluster,
//!   as the tests in `tests/` do.
//! - A request no edge level takes goes to [`Serverless`]; its usage and
//!   the edge's [`BandwidthMeter`] samples and machine hours feed [`bill`].
//! - Scaling: [`Autoscaler`] decisions become pod creations (revive
//!   tombstone pods first) or scale-ins ([`Pod::scale_in`], emptiest pods
//!   first); [`MachinePlanner`] actions become machines added to a pool
//!   after the lead time, or [`Cluster::drain_candidates`] cordoned,
//!   drained and released ([`Cluster::release_machine`]).
//! - Before a run, [`Cluster::check_region`] (or [`check_n_minus_k`]) tells
//!   a scenario whether each region survives two rooms down.
//!
//! # Module map
//!
//! - [`ids`] - newtype ids ([`MachineId`], [`PodId`], [`RoomId`],
//!   [`RegionId`], [`PoolId`], [`SessionId`], [`CustomerId`],
//!   [`AllocId`]).
//! - [`resources`] - [`Resources`] capacity vectors and [`Resource`]
//!   dimensions.
//! - [`topology`] - [`Topology`] (regions, rooms) and
//!   [`check_n_minus_k`].
//! - [`policy`] - the [`PlacementPolicy`] trait, [`Verdict`], [`Refusal`],
//!   [`Spread`], [`Binpack`], [`Hybrid`].
//! - [`cluster`] - [`Cluster`] (machines, pools, allocation index,
//!   overflow chains, cordon / release), [`Rejection`], [`PoolStats`].
//! - [`pod`] - [`Pod`] state machine, [`ScaleIn`], [`Upgrade`],
//!   [`PortPool`].
//! - [`autoscale`] - [`Autoscaler`], [`Forecaster`], [`MachinePlanner`].
//! - [`control`] - [`ControlPlane`]: leases, NotReady, eviction, pool
//!   delegates and autonomy when the cloud-edge network is cut.
//! - [`listwatch`] - [`ListWatch`]: cloud-edge list-watch bytes under
//!   five delivery schemes (per watcher, per node, per pool, filtered).
//! - [`cascade`] - [`Cascade`]: per live stream, the tree of media
//!   servers pulling it from its origin ([`Leg`], [`StreamId`]).
//! - [`serverless`] - [`Serverless`].
//! - [`cost`] - [`BandwidthMeter`], [`percentile_95`], [`Prices`],
//!   [`bill`], [`CostReport`].
//! - [`workload`] - [`DailyProfile`], [`FlashCrowd`], [`Arrivals`],
//!   [`DurationDist`].
//! - [`error`] - [`EdgeError`].

#![warn(missing_docs)]
// Capacity vectors are parallel arrays indexed by dimension; an index loop
// over the dimensions reads better than zipped iterators.
#![allow(clippy::needless_range_loop)]

pub mod autoscale;
pub mod cascade;
pub mod control;
pub mod listwatch;
pub mod cluster;
pub mod cost;
pub mod error;
pub mod ids;
pub mod pod;
pub mod policy;
pub mod resources;
pub mod serverless;
pub mod topology;
pub mod workload;

pub use autoscale::{
    Autoscaler, AutoscalerConfig, Forecaster, MachinePlanner, Metric, NUM_METRICS, PlannerAction, PlannerConfig, ScaleDecision,
};
pub use cascade::{Cascade, Dropped, Leg, MAX_CASCADE_DEPTH, Removed};
pub use control::{ControlConfig, ControlEvent, ControlPlane};
pub use listwatch::{ListWatch, ListWatchBytes, ListWatchConfig};
pub use cluster::{
    Admission, ChainOutcome, Cluster, Level, LEVELS, MAX_CHAIN, MachineInfo, Placement, PoolInfo, PoolSpec, PoolStats,
    Rejection, Tried,
};
pub use cost::{BandwidthMeter, CostReport, FIVE_MINUTES_NS, MONTH_NS, Prices, Usage, bill, machine_hours, percentile_95};
pub use error::EdgeError;
pub use ids::{AllocId, CustomerId, MachineId, PodId, PoolId, RegionId, RoomId, SessionId, StreamId};
pub use pod::{CutCause, Pod, PodConfig, PodEvent, PodState, PodStats, PortPool, ScaleIn, SessionRefusal, Upgrade};
pub use policy::{Binpack, Hybrid, MachineView, PlacementPolicy, Refusal, ScanOrder, Spread, Verdict, WithOrder};
pub use resources::{NUM_RESOURCES, Resource, Resources};
pub use serverless::{Serverless, ServerlessConfig, ServerlessFull, ServerlessUsage, Start};
pub use topology::{Topology, check_n_minus_k};
pub use workload::{Arrivals, DailyProfile, DurationDist, FlashCrowd, NS_PER_DAY, NS_PER_HOUR, NS_PER_S};
