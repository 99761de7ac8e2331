//! Configuration a scenario embeds: the topology mode and the routing
//! policy, with documented defaults and a validation that names the field.

use serde::{Deserialize, Serialize};

use crate::error::{ParamError, require};

/// Upper bound on [`Policy::max_hops`]: label arrays are sized by it.
pub const MAX_HOP_LIMIT: u8 = 32;

/// Which generation of internal topology routes the streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Fixed three-level tree: the rule path, whatever the scores.
    Tree,
    /// Node pools: dynamic quality-cost routes among source and centre
    /// pools, with anti ping-pong switching.
    Pool,
    /// Weak mesh: every ingest node is a source, rule-bound, with a central
    /// route service and a caching agent per node.
    Mesh,
}

impl Mode {
    /// The mode's name in scenario files and results (`topology` column).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Tree => "tree",
            Mode::Pool => "pool",
            Mode::Mesh => "mesh",
        }
    }
}

/// How a hot stream is pushed with more than 1x redundancy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Redundancy {
    /// Two link-disjoint paths to every pushed node.
    DisjointPaths,
    /// One path; the world adds `overhead` (repair / source bytes, > 0) of
    /// forward error correction on the internal links.
    Fec {
        /// Repair bytes per source byte.
        overhead: f64,
    },
}

/// Routing policy. Every field has a default; times are microseconds.
///
/// Costs are in abstract units: a path's cost is the sum over its links of
/// `cost_per_hop`, plus `cost_per_interconnect` when the link is an
/// interconnect, plus `cost_per_price` x the sending node's price per GB.
/// Quality is in score points (0-100, see [`crate::Route::quality`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Minimum path quality of a cold stream (default 90).
    pub min_quality: f64,
    /// Minimum path quality of a hot stream (default 95).
    pub hot_min_quality: f64,
    /// Most relay links from the stream's source to any node (default 5:
    /// the talk's "four to five hops" for cross-ISP, cross-region streams;
    /// docs/references.md, Mesh hop bound).
    /// The tree's rule paths are not bounded by it.
    pub max_hops: u8,
    /// Cost of one link (default 1); must be positive, so that a shorter
    /// path is always cheaper than the same path with a detour.
    pub cost_per_hop: f64,
    /// Extra cost of crossing an ISP interconnect (default 2).
    pub cost_per_interconnect: f64,
    /// Weight of the sender's price per GB (default 1: with IDC prices of
    /// 0.1-0.6 per GB, price matters less than a hop).
    pub cost_per_price: f64,
    /// Half-life of the link-score smoothing (default 10 s).
    pub score_half_life_us: u64,
    /// Routing reads scores rounded down to a multiple of this step
    /// (default 1 point): decisions ignore smaller moves, and a score change
    /// within one step changes nothing downstream.
    pub score_step: f64,
    /// A switch needs an improvement of more than this many quality points
    /// at no higher cost, or a cheaper path at least this far above the
    /// class minimum (default 3). With `min_dwell_us`, the talk's guard
    /// against ping-pong (docs/references.md, Seamless splicing); both
    /// values are est.
    pub switch_margin: f64,
    /// No voluntary switch of a node's upstream within this time of the
    /// last change (default 30 s); a failed path switches at once.
    pub min_dwell_us: u64,
    /// A stream turns hot when its viewers reach this (default 50).
    pub hot_on_viewers: u32,
    /// A hot stream turns cold again when its viewers fall to this
    /// (default 20; below `hot_on_viewers`).
    pub hot_off_viewers: u32,
    /// Redundancy of hot pushes (default two disjoint paths: the talk's
    /// more-than-1x link redundancy for hot streams;
    /// docs/references.md, Hot stream redundancy).
    pub hot_redundancy: Redundancy,
    /// A link whose score is below this counts as failed (default 20).
    pub down_score: f64,
    /// Routes a mesh node's agent caches, per node (default 64; oldest
    /// evicted first).
    pub agent_cache_size: u16,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_quality: 90.0,
            hot_min_quality: 95.0,
            max_hops: 5,
            cost_per_hop: 1.0,
            cost_per_interconnect: 2.0,
            cost_per_price: 1.0,
            score_half_life_us: 10_000_000,
            score_step: 1.0,
            switch_margin: 3.0,
            min_dwell_us: 30_000_000,
            hot_on_viewers: 50,
            hot_off_viewers: 20,
            hot_redundancy: Redundancy::DisjointPaths,
            down_score: 20.0,
            agent_cache_size: 64,
        }
    }
}

fn quality(v: f64, field: &str) -> Result<(), ParamError> {
    require(v.is_finite() && (0.0..=100.0).contains(&v), field, "a quality in [0, 100]", v)
}

fn weight(v: f64, field: &str) -> Result<(), ParamError> {
    require(v.is_finite() && (0.0..=1e6).contains(&v), field, "a cost weight in [0, 1e6]", v)
}

impl Policy {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ParamError> {
        quality(self.min_quality, "min_quality")?;
        quality(self.hot_min_quality, "hot_min_quality")?;
        quality(self.switch_margin, "switch_margin")?;
        quality(self.down_score, "down_score")?;
        require(
            (1..=MAX_HOP_LIMIT).contains(&self.max_hops),
            "max_hops",
            &format!("1 to {MAX_HOP_LIMIT} hops"),
            self.max_hops,
        )?;
        weight(self.cost_per_hop, "cost_per_hop")?;
        require(self.cost_per_hop >= 1e-6, "cost_per_hop", "a positive cost (at least 1e-6)", self.cost_per_hop)?;
        weight(self.cost_per_interconnect, "cost_per_interconnect")?;
        weight(self.cost_per_price, "cost_per_price")?;
        let step = self.score_step;
        require(step.is_finite() && (0.01..=10.0).contains(&step), "score_step", "a step in [0.01, 10] points", step)?;
        require(self.hot_on_viewers >= 1, "hot_on_viewers", "at least 1 viewer", self.hot_on_viewers)?;
        require(
            self.hot_off_viewers < self.hot_on_viewers,
            "hot_off_viewers",
            &format!("fewer than hot_on_viewers ({})", self.hot_on_viewers),
            self.hot_off_viewers,
        )?;
        if let Redundancy::Fec { overhead } = self.hot_redundancy {
            require(
                overhead.is_finite() && overhead > 0.0 && overhead <= 10.0,
                "hot_redundancy.overhead",
                "a share in (0, 10]",
                overhead,
            )?;
        }
        require(self.agent_cache_size >= 1, "agent_cache_size", "at least 1 route", self.agent_cache_size)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_errors_name_the_field() {
        Policy::default().validate().unwrap();
        let bad = Policy { hot_off_viewers: 60, ..Policy::default() };
        assert_eq!(bad.validate().unwrap_err().field, "hot_off_viewers");
        let bad = Policy { cost_per_hop: 0.0, ..Policy::default() };
        assert_eq!(bad.validate().unwrap_err().field, "cost_per_hop");
        let bad = Policy { max_hops: 0, ..Policy::default() };
        assert_eq!(bad.validate().unwrap_err().field, "max_hops");
        let bad = Policy { hot_redundancy: Redundancy::Fec { overhead: -1.0 }, ..Policy::default() };
        assert_eq!(bad.validate().unwrap_err().field, "hot_redundancy.overhead");
    }

    /// A scenario sets some fields; the rest keep their defaults, and a
    /// misspelt field is refused by name.
    #[test]
    fn deserializes_with_defaults_and_refuses_unknown_fields() {
        use serde::de::value::{Error, MapDeserializer, StrDeserializer};
        let map = MapDeserializer::<_, Error>::new(vec![("min_quality", 80.0), ("switch_margin", 5.0)].into_iter());
        let p = Policy::deserialize(map).unwrap();
        assert_eq!(p, Policy { min_quality: 80.0, switch_margin: 5.0, ..Policy::default() });
        let typo = MapDeserializer::<_, Error>::new(vec![("min_qualty", 80.0)].into_iter());
        assert!(Policy::deserialize(typo).unwrap_err().to_string().contains("min_qualty"));
        let score = MapDeserializer::<_, Error>::new(vec![("per_loss", -50.0)].into_iter());
        let f = crate::ScoreFn::deserialize(score).unwrap();
        assert_eq!(f, crate::ScoreFn { per_loss: -50.0, ..crate::ScoreFn::default() });
        for (name, mode) in [("tree", Mode::Tree), ("pool", Mode::Pool), ("mesh", Mode::Mesh)] {
            assert_eq!(Mode::deserialize(StrDeserializer::<Error>::new(name)).unwrap(), mode);
        }
    }
}
