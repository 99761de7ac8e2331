//! One block receiver over the three fidelities, and what they share.
//!
//! A last-hop client keeps one [`BlockReceiver`] per block it is receiving;
//! which receiver it is follows the run's [`Fidelity`], and the caller never
//! needs to know which. Everything the receivers of a run share lives in
//! one [`Decoding`]: the decode table (`model`), the structural decoder and
//! its memo (`structural`), and the source bytes of recent blocks with
//! their encoders (`full`).
//!
//! At `full` fidelity no payload travels with the caller's events: the
//! receiver rebuilds each arriving packet from the block's source bytes,
//! which are a pure function of (content seed, stream, block)
//! ([`Decoding::source`]), so the sender's bytes never need storing in the
//! network model. The decoded block is checked against that source.
//!
//! The model receiver is a few counters ([`ModelCounter`]), valid because a
//! share layout gives every sender a disjoint ESI range; the other two are
//! boxed so that a model client's window of receivers stays small.

use std::collections::BTreeMap;

use crate::block::BlockSpec;
use crate::encode::{BlockEncoder, PlanCache};
use crate::receive::{Fidelity, FullReceiver, ModelCounter, Receipt, StructuralDecoder, StructuralReceiver};
use crate::splitmix::SplitMix64;
use crate::table::DecodeTable;

/// Distinct blocks whose source bytes and encoder [`Decoding`] keeps at
/// `full` fidelity (the oldest block goes first).
pub const FULL_SOURCES: usize = 16;

/// Memo entries of the shared structural decoder.
const STRUCTURAL_MEMO: usize = 4096;

/// What every receiver of a run shares.
pub struct Decoding {
    fidelity: Fidelity,
    spec: BlockSpec,
    table: DecodeTable,
    decoder: StructuralDecoder,
    plans: PlanCache,
    content_seed: u64,
    /// (stream, block) -> its encoder and source bytes, at most
    /// [`FULL_SOURCES`].
    sources: BTreeMap<(u32, u32), (BlockEncoder, Vec<u8>)>,
}

/// What one batch of symbols did to a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockOutcome {
    /// Not decoded yet (or decoded before this batch).
    Pending,
    /// Decoded with this batch.
    Decoded,
    /// Decoded with this batch, but the bytes differ from the source
    /// (`full` only): a decoder fault, counted, and the block never plays.
    Mismatch,
}

impl Decoding {
    /// `table` decides at `model` fidelity; `content_seed` makes the source
    /// bytes at `full`.
    pub fn new(fidelity: Fidelity, spec: BlockSpec, table: DecodeTable, content_seed: u64) -> Decoding {
        Decoding {
            fidelity,
            spec,
            table,
            decoder: StructuralDecoder::new(STRUCTURAL_MEMO),
            plans: PlanCache::default(),
            content_seed,
            sources: BTreeMap::new(),
        }
    }

    pub fn fidelity(&self) -> Fidelity {
        self.fidelity
    }

    /// Whether receivers need the symbols' ids (every fidelity but `model`,
    /// which counts).
    pub fn needs_ids(&self) -> bool {
        self.fidelity != Fidelity::Model
    }

    /// The source bytes of `block` of `stream` and its encoder, made on
    /// first use.
    fn source(&mut self, stream: u32, block: u32) -> &(BlockEncoder, Vec<u8>) {
        if !self.sources.contains_key(&(stream, block)) {
            let seed = self.content_seed ^ ((stream as u64) << 32 | block as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut g = SplitMix64::new(seed);
            let data: Vec<u8> = (0..self.spec.block_bytes()).map(|_| g.next_u64() as u8).collect();
            let encoder =
                BlockEncoder::new(self.spec, block as u64, data.clone(), &mut self.plans).expect("a block of the spec's size");
            if self.sources.len() >= FULL_SOURCES {
                let oldest = *self.sources.keys().min_by_key(|k| (k.1, k.0)).expect("non-empty");
                self.sources.remove(&oldest);
            }
            self.sources.insert((stream, block), (encoder, data));
        }
        &self.sources[&(stream, block)]
    }
}

/// One block being received, at the run's fidelity.
pub struct BlockReceiver(Rx);

enum Rx {
    Model(ModelCounter),
    Structural(Box<StructuralReceiver>),
    Full(Box<FullReceiver>),
}

impl BlockReceiver {
    /// A receiver for `block` of the run's streams. `uniform` is called
    /// once, only at `model` fidelity, for the block's draw in [0, 1)
    /// (so the other fidelities leave the caller's random stream alone).
    pub fn new(decoding: &Decoding, block: u32, uniform: impl FnOnce() -> f64) -> BlockReceiver {
        let k = decoding.spec.k();
        BlockReceiver(match decoding.fidelity {
            Fidelity::Model => Rx::Model(ModelCounter::new(k, uniform()).expect("a valid K and draw")),
            Fidelity::Structural => Rx::Structural(Box::new(StructuralReceiver::new(k).expect("a valid K"))),
            Fidelity::Full => Rx::Full(Box::new(FullReceiver::new(decoding.spec, block as u64))),
        })
    }

    /// Symbols of `block` of `stream` arrived together: `count` of them,
    /// `source` of those source symbols (ESI < K), with ids `esis` (empty
    /// at `model` fidelity, which needs only the counts and relies on the
    /// ids being distinct).
    pub fn receive(
        &mut self,
        decoding: &mut Decoding,
        stream: u32,
        block: u32,
        esis: &[u32],
        count: u32,
        source: u32,
    ) -> BlockOutcome {
        let decoded = match &mut self.0 {
            Rx::Model(m) => m.receive(count, source, &decoding.table),
            Rx::Structural(s) => s.receive_batch(esis, &mut decoding.decoder).expect("ids within the layout").decoded,
            Rx::Full(f) => {
                let mut decoded = false;
                for &esi in esis {
                    let packet = decoding.source(stream, block).0.packet(esi).expect("ids within the layout");
                    decoded |= f.receive(packet).expect("a checked packet") == Receipt::Decoded;
                }
                if decoded && f.verify(&decoding.source(stream, block).1).is_err() {
                    return BlockOutcome::Mismatch;
                }
                decoded
            }
        };
        if decoded { BlockOutcome::Decoded } else { BlockOutcome::Pending }
    }

    /// Distinct symbols held (0 once a structural or full block decoded:
    /// they are released).
    pub fn distinct_symbols(&self) -> usize {
        match &self.0 {
            Rx::Model(r) => r.distinct_symbols(),
            Rx::Structural(r) => r.distinct_symbols(),
            Rx::Full(r) => r.distinct_symbols(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::DecodeRow;

    fn decoding(fidelity: Fidelity) -> Decoding {
        let spec = BlockSpec::new(100 * 16, 16).unwrap();
        // A table where K symbols decode half the time and K + 1 always.
        let table = DecodeTable::from_rows(&[
            DecodeRow { k: 100, extra: 0, trials: 100, failures: 50 },
            DecodeRow { k: 100, extra: 1, trials: 100, failures: 0 },
        ])
        .unwrap();
        Decoding::new(fidelity, spec, table, 7)
    }

    #[test]
    fn every_fidelity_decodes_from_the_source_symbols() {
        for f in [Fidelity::Model, Fidelity::Structural, Fidelity::Full] {
            let mut d = decoding(f);
            let mut rx = BlockReceiver::new(&d, 3, || 0.9);
            let esis: Vec<u32> = (0..99).collect();
            let ids = if d.needs_ids() { &esis[..] } else { &[] };
            assert_eq!(rx.receive(&mut d, 0, 3, ids, 99, 99), BlockOutcome::Pending, "{f}");
            let last = [99u32];
            let ids = if d.needs_ids() { &last[..] } else { &[] };
            assert_eq!(rx.receive(&mut d, 0, 3, ids, 1, 1), BlockOutcome::Decoded, "{f}");
        }
    }

    #[test]
    fn only_the_model_draws() {
        for f in [Fidelity::Structural, Fidelity::Full] {
            let d = decoding(f);
            let _ = BlockReceiver::new(&d, 0, || panic!("{f} drew a uniform"));
        }
        let d = decoding(Fidelity::Model);
        let mut drawn = false;
        let _ = BlockReceiver::new(&d, 0, || {
            drawn = true;
            0.5
        });
        assert!(drawn);
    }

    #[test]
    fn model_follows_its_draw_at_exactly_k() {
        // u = 0.4 < P(fail | K) = 0.5: K repair symbols fail, one more decodes.
        let mut d = decoding(Fidelity::Model);
        let mut rx = BlockReceiver::new(&d, 0, || 0.4);
        assert_eq!(rx.receive(&mut d, 0, 0, &[], 100, 0), BlockOutcome::Pending);
        assert_eq!(rx.receive(&mut d, 0, 0, &[], 1, 0), BlockOutcome::Decoded);
        let mut rx = BlockReceiver::new(&d, 1, || 0.6);
        assert_eq!(rx.receive(&mut d, 0, 1, &[], 100, 0), BlockOutcome::Decoded);
    }

    #[test]
    fn full_sources_are_bounded_and_reproducible() {
        let mut d = decoding(Fidelity::Full);
        let first = d.source(1, 0).1.clone();
        for b in 0..(FULL_SOURCES as u32 + 4) {
            d.source(1, b);
        }
        assert_eq!(d.sources.len(), FULL_SOURCES);
        assert_eq!(d.source(1, 0).1, first, "the bytes are a function of (seed, stream, block)");
        assert_ne!(d.source(2, 0).1, first);
    }
}
