//! Placement policies: which machine of a pool takes a request.
//!
//! A policy is a trait returning a [`Verdict`] per candidate machine: a
//! score (higher wins; ties go to the lower machine id) or a refusal with
//! its reason. Closures are policies too, so a test or a scenario can write
//! one inline. The cluster checks the hard constraints first (the request
//! fits the machine's free capacity, the machine is not cordoned, the pool
//! admits the customer); a policy only ranks, or refuses for reasons of its
//! own (anti-affinity, a label).
//!
//! Scores are integers (parts per million of utilisation), so rankings are
//! exact and the same on every machine. The utilisation a policy sees is
//! the one *after* placing the request, as Kubernetes' scoring plugins do.
//!
//! The cluster does not score every machine: it visits its allocation
//! buckets in the policy's [`ScanOrder`] and scores the machines of the
//! first bucket that holds a fit (see [`crate::cluster`]). A policy's
//! scan order must agree with its score (binpack prefers full machines, so
//! it scans fullest first).

use crate::ids::{MachineId, RoomId};
use crate::resources::{NUM_RESOURCES, Resource, Resources};

/// Which allocation buckets the cluster visits first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanOrder {
    /// Most allocated first; empty machines last (binpack-like policies).
    FullestFirst,
    /// Empty machines first, then least allocated (spread-like policies).
    EmptiestFirst,
}

/// What a policy sees of one candidate machine.
#[derive(Clone, Copy, Debug)]
pub struct MachineView<'a> {
    /// The machine.
    pub id: MachineId,
    /// Its room.
    pub room: RoomId,
    /// Capacity, in [`Resource`] order.
    pub capacity: &'a [u64; NUM_RESOURCES],
    /// Allocated now (before the request), in [`Resource`] order.
    pub allocated: &'a [u64; NUM_RESOURCES],
    /// Number of allocations on it.
    pub allocations: u32,
}

impl MachineView<'_> {
    /// Capacity as a vector.
    pub fn capacity(&self) -> Resources {
        Resources::from_array(*self.capacity)
    }

    /// Allocation as a vector.
    pub fn allocated(&self) -> Resources {
        Resources::from_array(*self.allocated)
    }

    /// Utilisation per dimension after adding `need`, in parts per million;
    /// `None` for a dimension without capacity.
    #[inline]
    pub fn utilisation_after_ppm(&self, need: &[u64; NUM_RESOURCES]) -> [Option<u64>; NUM_RESOURCES] {
        std::array::from_fn(|d| {
            let cap = self.capacity[d];
            if cap == 0 {
                None
            } else {
                let used = self.allocated[d].saturating_add(need[d]).min(cap);
                Some(((used as u128 * 1_000_000) / cap as u128) as u64)
            }
        })
    }
}

/// A policy's answer for one machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Acceptable, with this score (higher is better).
    Score(i64),
    /// Not acceptable, for this reason.
    Refuse(Refusal),
}

/// Why a machine did not take a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// The request does not fit the free capacity; the first dimension
    /// short.
    NoFit(Resource),
    /// The machine is cordoned (no new work while it drains).
    Cordoned,
    /// The pool does not admit the request's customer.
    WrongPool,
    /// The policy refused, for the reason named.
    Policy(&'static str),
}

/// A placement policy.
pub trait PlacementPolicy {
    /// Bucket visiting order. Binpack-like policies keep the default.
    fn order(&self) -> ScanOrder {
        ScanOrder::FullestFirst
    }

    /// The verdict on placing `need` on `machine`. Called only for machines
    /// where `need` fits and that are not cordoned.
    fn verdict(&self, machine: &MachineView<'_>, need: &[u64; NUM_RESOURCES]) -> Verdict;

    /// A short name for reports.
    fn name(&self) -> &'static str {
        "custom"
    }
}

impl<F> PlacementPolicy for F
where
    F: Fn(&MachineView<'_>, &[u64; NUM_RESOURCES]) -> Verdict,
{
    fn verdict(&self, machine: &MachineView<'_>, need: &[u64; NUM_RESOURCES]) -> Verdict {
        self(machine, need)
    }
}

/// A closure policy with an explicit scan order.
pub struct WithOrder<F> {
    /// The order.
    pub order: ScanOrder,
    /// The scoring closure.
    pub f: F,
}

impl<F> PlacementPolicy for WithOrder<F>
where
    F: Fn(&MachineView<'_>, &[u64; NUM_RESOURCES]) -> Verdict,
{
    fn order(&self) -> ScanOrder {
        self.order
    }
    fn verdict(&self, machine: &MachineView<'_>, need: &[u64; NUM_RESOURCES]) -> Verdict {
        (self.f)(machine, need)
    }
}

/// Per-dimension weights of the built-in policies (Kubernetes'
/// `resources` weights of its scoring strategies). A zero weight ignores a
/// dimension.
pub type Weights = [u32; NUM_RESOURCES];

/// Every dimension counts the same.
pub const EQUAL_WEIGHTS: Weights = [1; NUM_RESOURCES];

/// Weighted mean utilisation after placement, ppm, over the dimensions
/// with capacity and a non-zero weight; 0 when there are none.
#[inline]
fn mean_after_ppm(m: &MachineView<'_>, need: &[u64; NUM_RESOURCES], w: &Weights) -> i64 {
    let u = m.utilisation_after_ppm(need);
    let (mut sum, mut wsum) = (0u64, 0u64);
    for d in 0..NUM_RESOURCES {
        if let Some(x) = u[d] {
            sum += x * w[d] as u64;
            wsum += w[d] as u64;
        }
    }
    sum.checked_div(wsum).unwrap_or(0) as i64
}

/// Spread: the least allocated machine wins (Kubernetes' default
/// `LeastAllocated`). Score: weighted mean of free share after placement.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    /// Dimension weights.
    pub weights: Weights,
}

impl Default for Spread {
    fn default() -> Self {
        Spread { weights: EQUAL_WEIGHTS }
    }
}

impl PlacementPolicy for Spread {
    fn order(&self) -> ScanOrder {
        ScanOrder::EmptiestFirst
    }
    #[inline]
    fn verdict(&self, m: &MachineView<'_>, need: &[u64; NUM_RESOURCES]) -> Verdict {
        Verdict::Score(1_000_000 - mean_after_ppm(m, need, &self.weights))
    }
    fn name(&self) -> &'static str {
        "spread"
    }
}

/// Binpack: the most allocated machine that fits wins (Kubernetes'
/// `MostAllocated`, the talk's choice: docs/references.md, Binpack).
/// Score: weighted mean utilisation after placement.
#[derive(Clone, Copy, Debug)]
pub struct Binpack {
    /// Dimension weights.
    pub weights: Weights,
}

impl Default for Binpack {
    fn default() -> Self {
        Binpack { weights: EQUAL_WEIGHTS }
    }
}

impl PlacementPolicy for Binpack {
    #[inline]
    fn verdict(&self, m: &MachineView<'_>, need: &[u64; NUM_RESOURCES]) -> Verdict {
        Verdict::Score(mean_after_ppm(m, need, &self.weights))
    }
    fn name(&self) -> &'static str {
        "binpack"
    }
}

/// A Borg-like hybrid (docs/references.md, Borg scoring): pack, but
/// penalise stranding. Borg's scorer packs
/// while avoiding machines where one resource would be exhausted with
/// others left idle (stranded resources that no task can use). Score:
/// weighted mean utilisation after placement, minus `stranding_weight`
/// times the spread (max - min) of the per-dimension utilisations after
/// placement; dimensions without capacity or with zero weight are left out.
#[derive(Clone, Copy, Debug)]
pub struct Hybrid {
    /// Dimension weights.
    pub weights: Weights,
    /// Penalty per unit of utilisation imbalance (1.0 counts a point of
    /// imbalance as much as a point of packing).
    pub stranding_weight_milli: u32,
}

impl Default for Hybrid {
    fn default() -> Self {
        Hybrid { weights: EQUAL_WEIGHTS, stranding_weight_milli: 1_000 }
    }
}

impl PlacementPolicy for Hybrid {
    #[inline]
    fn verdict(&self, m: &MachineView<'_>, need: &[u64; NUM_RESOURCES]) -> Verdict {
        let u = m.utilisation_after_ppm(need);
        let (mut lo, mut hi) = (u64::MAX, 0u64);
        for d in 0..NUM_RESOURCES {
            if let (Some(x), true) = (u[d], self.weights[d] > 0) {
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        let imbalance = if hi >= lo { (hi - lo) as i64 } else { 0 };
        let pack = mean_after_ppm(m, need, &self.weights);
        Verdict::Score(pack - imbalance * self.stranding_weight_milli as i64 / 1_000)
    }
    fn name(&self) -> &'static str {
        "hybrid"
    }
}

/// The built-in policies by name, for scenarios: `spread`, `binpack`,
/// `hybrid`.
pub fn by_name(name: &str) -> Option<Box<dyn PlacementPolicy>> {
    match name {
        "spread" => Some(Box::new(Spread::default())),
        "binpack" => Some(Box::new(Binpack::default())),
        "hybrid" => Some(Box::new(Hybrid::default())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(cap: &'a [u64; 5], alloc: &'a [u64; 5]) -> MachineView<'a> {
        MachineView { id: MachineId(0), room: RoomId(0), capacity: cap, allocated: alloc, allocations: 1 }
    }

    fn score(p: &dyn PlacementPolicy, v: &MachineView<'_>, need: &[u64; 5]) -> i64 {
        match p.verdict(v, need) {
            Verdict::Score(s) => s,
            Verdict::Refuse(r) => panic!("{r:?}"),
        }
    }

    #[test]
    fn binpack_prefers_full_spread_prefers_empty() {
        let cap = [1000, 1000, 0, 0, 0];
        let (full, empty) = ([800, 800, 0, 0, 0], [100, 100, 0, 0, 0]);
        let need = [100, 100, 0, 0, 0];
        let (f, e) = (view(&cap, &full), view(&cap, &empty));
        assert!(score(&Binpack::default(), &f, &need) > score(&Binpack::default(), &e, &need));
        assert!(score(&Spread::default(), &f, &need) < score(&Spread::default(), &e, &need));
        // After placement: 90% and 20% mean utilisation.
        assert_eq!(score(&Binpack::default(), &f, &need), 900_000);
        assert_eq!(score(&Spread::default(), &e, &need), 800_000);
    }

    #[test]
    fn hybrid_penalises_stranding() {
        let cap = [1000, 1000, 0, 0, 0];
        // Both end at mean 60%: one balanced, one with CPU at 100% and memory at 20%.
        let balanced = view(&cap, &[500, 500, 0, 0, 0]);
        let strands = view(&cap, &[900, 100, 0, 0, 0]);
        let need = [100, 100, 0, 0, 0];
        let h = Hybrid::default();
        assert_eq!(score(&h, &balanced, &need), 600_000);
        assert_eq!(score(&h, &strands, &need), 600_000 - 800_000);
        assert_eq!(score(&Binpack::default(), &balanced, &need), score(&Binpack::default(), &strands, &need));
    }

    #[test]
    fn closures_are_policies() {
        let no_room_one = |m: &MachineView<'_>, _: &[u64; 5]| {
            if m.room == RoomId(1) { Verdict::Refuse(Refusal::Policy("room 1 reserved")) } else { Verdict::Score(0) }
        };
        let cap = [1, 0, 0, 0, 0];
        let v = MachineView { id: MachineId(3), room: RoomId(1), capacity: &cap, allocated: &[0; 5], allocations: 0 };
        assert_eq!(no_room_one.verdict(&v, &[0; 5]), Verdict::Refuse(Refusal::Policy("room 1 reserved")));
        assert_eq!(no_room_one.order(), ScanOrder::FullestFirst);
        let w = WithOrder { order: ScanOrder::EmptiestFirst, f: no_room_one };
        assert_eq!(w.order(), ScanOrder::EmptiestFirst);
        assert!(by_name("binpack").is_some() && by_name("worst-fit").is_none());
    }
}
