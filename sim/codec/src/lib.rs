//! The fountain-coded last hop, as a sans-IO library on the `raptorq` crate
//! (RFC 6330). It knows nothing about the event engine or the world: callers
//! pass bytes, symbol ids, measurements and uniform draws, and get back
//! packets, decode outcomes and decisions.
//!
//! Module map:
//! - [`block`]: [`BlockSpec`] (K = ceil(block bytes / symbol bytes), raptorq's
//!   limits), the block index -> SBN mapping, and [`ShareLayout`], which gives
//!   the origin server and every home-node slot its own range of encoding
//!   symbol ids (ESIs).
//! - [`packet`]: [`Packet`], its 6-byte wire header, and the checks every
//!   packet passes before raptorq sees it.
//! - [`encode`]: [`PlanCache`], a bounded cache of raptorq encoding plans per
//!   K, and [`BlockEncoder`]: a block encoded once, any ESI made on demand.
//! - [`receive`]: per-block receivers for the three fidelity levels:
//!   [`FullReceiver`] (real bytes, verified against the source),
//!   [`StructuralReceiver`] with the shared [`StructuralDecoder`] (the real
//!   decoder on 1-byte symbols, with shortcuts and a memo), and
//!   [`ModelReceiver`] (decode probability from a [`DecodeTable`]).
//! - [`block_rx`]: [`BlockReceiver`], one block's receiver at the run's
//!   [`Fidelity`] whichever it is, and [`Decoding`], what a run's receivers
//!   share (table, structural decoder, the source bytes at `full`).
//! - [`table`]: [`DecodeTable`], P(decode failure | K, symbols received),
//!   its CSV file format and how lookups interpolate.
//! - [`mod@calibrate`]: measures a [`DecodeTable`] with the real decoder.
//! - [`redundancy`]: the BBR-like per-sender estimator and the controller
//!   that chooses how many symbols to request per block, plus the exact
//!   binomial arithmetic behind it.
//! - [`error`]: [`CodecError`] and [`TableError`].
//! - `esi_set` and `splitmix` (private): the bounded sorted ESI set every
//!   receiver keeps, and [`SplitMix64`], the seeded generator of calibration.

/// The raptorq release this crate is built and calibrated against (the
/// exact pin in the workspace's Cargo.toml; a test keeps the two in step).
pub const RAPTORQ_VERSION: &str = "2.0.1";

pub mod block;
pub mod block_rx;
pub mod calibrate;
pub mod encode;
pub mod error;
pub mod packet;
pub mod receive;
pub mod redundancy;
pub mod table;

mod esi_set;
mod splitmix;

pub use block_rx::{BlockOutcome, BlockReceiver, Decoding, FULL_SOURCES};
pub use block::{BlockSpec, ESI_LIMIT, MAX_SOURCE_SYMBOLS, MAX_SYMBOL_BYTES, Owner, ShareLayout, sbn_of};
pub use calibrate::{
    CalibrationSpec, DEFAULT_KS, LAST_HOP_ESI_END, DEFAULT_MAX_EXTRA, DEFAULT_TRIALS, SplitMix64, calibrate,
    calibrate_k,
};
pub use encode::{BlockEncoder, PlanCache};
pub use error::{CodecError, TableError};
pub use packet::{HEADER_BYTES, Packet};
pub use receive::{
    DEFAULT_MAX_EXTRA_SYMBOLS, Fidelity, FullReceiver, ModelCounter, ModelReceiver, Receipt, StructuralDecoder, StructuralReceiver,
    StructuralStats, Tally,
};
pub use redundancy::{
    IntervalReport, LOSS_GRID, NeededCache, Plan, RedundancyConfig, RedundancyController, SenderEstimator, binomial_tail,
    symbols_needed,
};
pub use table::{DecodeRow, DecodeTable, wilson_interval};

#[cfg(test)]
mod tests {
    #[test]
    fn raptorq_version_matches_the_workspace_pin() {
        let manifest = include_str!("../../../Cargo.toml");
        let pin = format!("raptorq = \"={}\"", super::RAPTORQ_VERSION);
        assert!(manifest.contains(&pin), "root Cargo.toml does not pin {pin}");
    }
}
