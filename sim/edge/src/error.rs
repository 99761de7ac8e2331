//! Errors. Each names the model that refused and why; the caller adds the
//! place in its own input (a scenario's file:line:col and field).

use crate::ids::{AllocId, MachineId, PodId, PoolId, RegionId, RoomId};
use crate::resources::{Resource, Resources};

/// Everything this crate can refuse.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EdgeError {
    /// A parameter out of its domain.
    #[error("{model}: {field}: expected {expected}, found {found}")]
    InvalidParam {
        /// The model (`topology`, `pod`, `autoscaler`, ...).
        model: &'static str,
        /// The field.
        field: &'static str,
        /// What a valid value looks like.
        expected: &'static str,
        /// The value given.
        found: String,
    },
    /// A table would grow past its bound.
    #[error("{model}: more than {bound} {what}")]
    BoundExceeded {
        /// The model.
        model: &'static str,
        /// What is counted.
        what: &'static str,
        /// The bound.
        bound: usize,
    },
    /// An id no table knows.
    #[error("{model}: unknown {what} {id}")]
    Unknown {
        /// The model.
        model: &'static str,
        /// The kind of id (`room`, `region`, `pool`, `machine`, `alloc`, `session`).
        what: &'static str,
        /// The id, printed.
        id: String,
    },
    /// A machine is already in a pool.
    #[error("cluster: {machine} is already in {pool}")]
    MachineInPool {
        /// The machine.
        machine: MachineId,
        /// Its pool.
        pool: PoolId,
    },
    /// A machine cannot be released: not cordoned or still carrying allocations.
    #[error("cluster: {machine} cannot be released: {reason}")]
    NotReleasable {
        /// The machine.
        machine: MachineId,
        /// Why (`not cordoned`, `3 allocations left`).
        reason: String,
    },
    /// An operation that the pod's state does not allow.
    #[error("pod {pod}: {operation} is not allowed in state {state}")]
    PodState {
        /// The pod.
        pod: PodId,
        /// The operation.
        operation: &'static str,
        /// The state it is in.
        state: &'static str,
    },
    /// N-2 (N-k) redundancy violated: with `down` rooms of the region out,
    /// the remaining capacity in `resource` is below the region's peak.
    #[error(
        "n-k check: {region} with {down:?} down keeps {remaining} of {resource}, below the peak demand {demand}"
    )]
    Redundancy {
        /// The region.
        region: RegionId,
        /// The rooms taken down (the largest ones in `resource`).
        down: Vec<RoomId>,
        /// The dimension that falls short.
        resource: Resource,
        /// Capacity left in that dimension.
        remaining: u64,
        /// Peak demand in that dimension.
        demand: u64,
    },
    /// The region has too few rooms to lose `k` of them.
    #[error("n-k check: {region} has {rooms} rooms, cannot lose {k}")]
    TooFewRooms {
        /// The region.
        region: RegionId,
        /// Its rooms.
        rooms: usize,
        /// Rooms to lose.
        k: usize,
    },
    /// Releasing an allocation that is not live.
    #[error("cluster: {0} is not allocated")]
    NotAllocated(AllocId),
    /// A forecast further ahead than the predictor supports.
    #[error("forecaster: {hours_ahead} h ahead is beyond its horizon of {horizon_hours} h")]
    ForecastHorizon {
        /// Requested lead, hours.
        hours_ahead: u64,
        /// Supported horizon, hours.
        horizon_hours: u64,
    },
    /// A capacity vector that holds nothing.
    #[error("{model}: {field}: expected a non-zero capacity, found {found}")]
    ZeroCapacity {
        /// The model.
        model: &'static str,
        /// The field.
        field: &'static str,
        /// The vector.
        found: Resources,
    },
}

pub(crate) fn invalid(model: &'static str, field: &'static str, expected: &'static str, found: impl ToString) -> EdgeError {
    EdgeError::InvalidParam { model, field, expected, found: found.to_string() }
}
