//! A home node's whole state, and the model parameters shared by all of
//! them.
//!
//! Budget: the performance goal is 100 000 churning home nodes (and
//! scenarios with millions) at under 1 KiB of state each, so a node holds
//! only fixed-size values: no String, Box or Vec, u32 upload, f32 level.
//! Everything shared (distributions, profile, matrices) lives once in the
//! [`HomeModel`] and is passed in by reference.

use cdnsim_engine::{RngStream, SimTime, stream_indexed};

use super::capacity::{CapacityDist, DiurnalProfile, Household, HouseholdModel};
use super::churn::{OnOff, OnOffDist};
use super::nat::{NatMix, NatType, TraversalMatrix};
use crate::param::{ParamError, require};

/// The most state one home node may take (the goal).
pub const HOME_NODE_STATE_BUDGET_BYTES: usize = 1024;

/// Stream family (indexed by node id) for the draws made once when a node
/// is built: its NAT type, then its base upload. The NAT draw comes first
/// and is always one draw, so changing the capacity distribution never
/// changes which NAT a node has.
pub const STREAM_INIT: &str = "home.init";
/// Stream family (indexed by node id) of a node's on/off process.
pub const STREAM_CHURN: &str = "home.churn";
/// Stream family (indexed by node id) of a node's household-usage process:
/// separate from churn so that the tick interval never moves churn times.
pub const STREAM_HOUSEHOLD: &str = "home.household";

/// Every parameter of the home-node model, validated together.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HomeModel {
    nat_mix: NatMix,
    traversal: TraversalMatrix,
    upload: CapacityDist,
    churn: OnOffDist,
    diurnal: DiurnalProfile,
    household: HouseholdModel,
}

impl HomeModel {
    /// Each part is valid on its own by construction; together they must
    /// keep the usable share at most 1 (diurnal maximum x household upper
    /// bound), or a node would offer more than its upload.
    pub fn new(
        nat_mix: NatMix,
        traversal: TraversalMatrix,
        upload: CapacityDist,
        churn: OnOffDist,
        diurnal: DiurnalProfile,
        household: HouseholdModel,
    ) -> Result<Self, ParamError> {
        let peak = diurnal.max() * household.bounds().1;
        require(
            peak <= 1.0,
            "household.high",
            &format!("at most 1 / max(diurnal) = {}", 1.0 / diurnal.max()),
            household.bounds().1,
        )?;
        Ok(HomeModel { nat_mix, traversal, upload, churn, diurnal, household })
    }

    pub fn nat_mix(&self) -> &NatMix {
        &self.nat_mix
    }
    pub fn traversal(&self) -> &TraversalMatrix {
        &self.traversal
    }
    pub fn upload(&self) -> &CapacityDist {
        &self.upload
    }
    pub fn churn(&self) -> &OnOffDist {
        &self.churn
    }
    pub fn diurnal(&self) -> &DiurnalProfile {
        &self.diurnal
    }
    pub fn household(&self) -> &HouseholdModel {
        &self.household
    }

    /// Long-run mean of the usable share of upload: the diurnal mean times
    /// the household mean (the household process is stationary and
    /// independent of the time of day).
    pub fn mean_usable_fraction(&self) -> f64 {
        self.diurnal.mean() * self.household.mean()
    }

    /// Bounds of the usable share: never below min(diurnal) x low nor
    /// above max(diurnal) x high.
    pub fn usable_fraction_bounds(&self) -> (f64, f64) {
        let (low, high) = self.household.bounds();
        (self.diurnal.min() * low, self.diurnal.max() * high)
    }
}

impl Default for HomeModel {
    fn default() -> Self {
        HomeModel::new(
            NatMix::default(),
            TraversalMatrix::default(),
            CapacityDist::default(),
            OnOffDist::default(),
            DiurnalProfile::default(),
            HouseholdModel::default(),
        )
        .expect("default home model is valid")
    }
}

/// One home node: NAT type, base upload, availability and household
/// state, and its two random streams (about 100 bytes in all).
///
/// Layout tip for the world: household ticks dominate the event count
/// (one per node per interval, at a random phase per node), so storing
/// nodes sorted by [`HomeNode::next_household_tick_at`] at creation turns
/// a cache and TLB miss per tick into a sweep through memory: about 2-3x
/// the event rate on a 2-core VM (see `examples/churn_100k.rs`).
#[derive(Clone, Debug)]
pub struct HomeNode {
    churn_rng: RngStream,
    household_rng: RngStream,
    onoff: OnOff,
    household: Household,
    base_upload_bps: u32,
    nat: NatType,
}

impl HomeNode {
    /// Node `id` of a run seeded `run_seed`, in steady state at time zero.
    /// Its draws come from its own streams ([`STREAM_INIT`],
    /// [`STREAM_CHURN`], [`STREAM_HOUSEHOLD`] indexed by `id`), so adding
    /// nodes never changes existing ones.
    pub fn new(id: u32, run_seed: u64, model: &HomeModel) -> Self {
        let mut init = stream_indexed(run_seed, STREAM_INIT, id as u64);
        let nat = model.nat_mix.sample(&mut init);
        let base_upload_bps = model.upload.sample_bps(&mut init);
        let mut churn_rng = stream_indexed(run_seed, STREAM_CHURN, id as u64);
        let onoff = OnOff::stationary(SimTime::ZERO, &model.churn, &mut churn_rng);
        let mut household_rng = stream_indexed(run_seed, STREAM_HOUSEHOLD, id as u64);
        let household = Household::stationary(&model.household, &mut household_rng);
        HomeNode { churn_rng, household_rng, onoff, household, base_upload_bps, nat }
    }

    pub fn nat(&self) -> NatType {
        self.nat
    }

    pub fn base_upload_bps(&self) -> u32 {
        self.base_upload_bps
    }

    pub fn is_online(&self) -> bool {
        self.onoff.is_on()
    }

    pub fn onoff(&self) -> &OnOff {
        &self.onoff
    }

    pub fn household(&self) -> &Household {
        &self.household
    }

    /// When the node next goes on- or offline.
    pub fn next_churn_at(&self) -> SimTime {
        self.onoff.next_transition_at()
    }

    /// The on/off transition due at `now`; returns the time of the next.
    pub fn churn(&mut self, now: SimTime, model: &HomeModel) -> SimTime {
        self.onoff.next_transition(now, &model.churn, &mut self.churn_rng)
    }

    /// When the household level is next updated.
    pub fn next_household_tick_at(&self) -> SimTime {
        self.household.next_tick_at()
    }

    /// The household update due at `now`; returns the time of the next.
    pub fn household_tick(&mut self, now: SimTime, model: &HomeModel) -> SimTime {
        self.household.tick(now, &model.household, &mut self.household_rng)
    }

    /// Upload the CDN may use at `now` if the node is online: base upload x
    /// diurnal share x household level, rounded down. A pure function of
    /// the state and `now`.
    pub fn upload_capacity_bps(&self, now: SimTime, model: &HomeModel) -> u64 {
        let bps = self.base_upload_bps as f64 * self.household.usable_fraction(now, &model.diurnal);
        (bps as u64).min(self.base_upload_bps as u64)
    }

    /// As [`HomeNode::upload_capacity_bps`], and 0 while offline.
    pub fn available_upload_bps(&self, now: SimTime, model: &HomeModel) -> u64 {
        if self.onoff.is_on() { self.upload_capacity_bps(now, model) } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdnsim_engine::SimDuration;

    #[test]
    fn node_state_fits_the_budget() {
        let size = std::mem::size_of::<HomeNode>();
        assert!(size <= HOME_NODE_STATE_BUDGET_BYTES, "{size} bytes");
        // Two 32-byte streams plus about 40 bytes of state: a tripwire
        // well inside the budget, so growth gets noticed and discussed.
        assert!(size <= 128, "HomeNode grew to {size} bytes");
    }

    #[test]
    fn model_rejects_a_usable_share_above_one() {
        let d = DiurnalProfile::default();
        let hh = HouseholdModel::new(0.8, 1.6, SimDuration::from_secs(60), SimDuration::from_secs(600)).unwrap();
        let e = HomeModel::new(
            NatMix::default(),
            TraversalMatrix::default(),
            CapacityDist::default(),
            OnOffDist::default(),
            d,
            hh,
        )
        .unwrap_err();
        assert_eq!(e.param, "household.high");
    }

    #[test]
    fn nodes_are_reproducible_and_independent_of_each_other() {
        let m = HomeModel::default();
        let a = HomeNode::new(7, 42, &m);
        let b = HomeNode::new(7, 42, &m);
        assert_eq!(
            (a.nat(), a.base_upload_bps(), *a.onoff(), *a.household()),
            (b.nat(), b.base_upload_bps(), *b.onoff(), *b.household())
        );
        let c = HomeNode::new(8, 42, &m);
        assert_ne!((a.base_upload_bps(), a.next_churn_at()), (c.base_upload_bps(), c.next_churn_at()));
    }

    #[test]
    fn available_upload_is_zero_offline_and_bounded_online() {
        let m = HomeModel::default();
        let (lo, hi) = m.usable_fraction_bounds();
        for id in 0..200 {
            let mut n = HomeNode::new(id, 1, &m);
            for step in 0..50 {
                let now = SimTime::from_ns(step * 1_800_000_000_000);
                while n.next_churn_at() <= now {
                    let t = n.next_churn_at();
                    n.churn(t, &m);
                }
                while n.next_household_tick_at() <= now {
                    let t = n.next_household_tick_at();
                    n.household_tick(t, &m);
                }
                let cap = n.upload_capacity_bps(now, &m) as f64;
                let base = n.base_upload_bps() as f64;
                assert!(cap >= (base * lo).floor() && cap <= base * hi, "{cap} of {base}");
                assert_eq!(n.available_upload_bps(now, &m), if n.is_online() { cap as u64 } else { 0 });
            }
        }
    }
}
