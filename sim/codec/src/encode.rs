//! Encoding: each block once, any of its symbols on demand.
//!
//! raptorq's encoder first solves for the block's intermediate symbols; the
//! sequence of row operations depends only on K, so it is worth keeping:
//! [`PlanCache`] holds those plans (`SourceBlockEncodingPlan`) for the last
//! few K seen. A live stream of constant rate has one K (two with a short
//! last block), so a handful of entries is plenty. [`BlockEncoder`] runs the
//! plan once per block and then produces source symbols by slicing and
//! repair symbols from the intermediate symbols, as many as asked for.

use std::collections::VecDeque;
use std::ops::Range;

use raptorq::{ObjectTransmissionInformation, SourceBlockEncoder, SourceBlockEncodingPlan};

use crate::block::{BlockSpec, ESI_LIMIT, sbn_of};
use crate::error::CodecError;
use crate::packet::Packet;

/// Plans kept by [`PlanCache::default`].
pub const DEFAULT_PLAN_CAPACITY: usize = 8;

/// Encoding plans per K, the oldest evicted first beyond `capacity`.
/// A linear scan: with a few entries it beats hashing.
pub struct PlanCache {
    capacity: usize,
    plans: VecDeque<(u16, SourceBlockEncodingPlan)>,
    generated: u64,
}

impl Default for PlanCache {
    fn default() -> Self {
        PlanCache::new(DEFAULT_PLAN_CAPACITY)
    }
}

impl PlanCache {
    /// A cache of at most `capacity` plans (at least one).
    pub fn new(capacity: usize) -> PlanCache {
        let capacity = capacity.max(1);
        PlanCache { capacity, plans: VecDeque::with_capacity(capacity), generated: 0 }
    }

    /// The plan for K, generated on a miss. `k` must have passed
    /// [`BlockSpec`]'s checks (1..=56403).
    fn plan(&mut self, k: u16) -> &SourceBlockEncodingPlan {
        let at = match self.plans.iter().position(|(pk, _)| *pk == k) {
            Some(at) => at,
            None => {
                if self.plans.len() == self.capacity {
                    self.plans.pop_front();
                }
                self.plans.push_back((k, SourceBlockEncodingPlan::generate(k)));
                self.generated += 1;
                self.plans.len() - 1
            }
        };
        &self.plans[at].1
    }

    /// Plans held now.
    pub fn len(&self) -> usize {
        self.plans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.plans.is_empty()
    }

    /// Plans generated so far (misses).
    pub fn generated(&self) -> u64 {
        self.generated
    }
}

/// The raptorq parameters of one block on its own: one source block, no
/// sub-blocks, alignment 1 (any symbol size is legal).
pub(crate) fn oti(spec: &BlockSpec) -> ObjectTransmissionInformation {
    ObjectTransmissionInformation::new(spec.padded_bytes(), spec.symbol_bytes(), 1, 1, 1)
}

/// One block, encoded once.
pub struct BlockEncoder {
    spec: BlockSpec,
    block_index: u64,
    sbn: u8,
    /// The block padded to K symbols; source symbols are slices of it.
    padded: Vec<u8>,
    inner: SourceBlockEncoder,
}

impl BlockEncoder {
    /// Encodes block `block_index` of a stream; `data` must be exactly
    /// `spec.block_bytes()` long. Takes the bytes by value so padding
    /// reuses the buffer.
    pub fn new(
        spec: BlockSpec,
        block_index: u64,
        mut data: Vec<u8>,
        plans: &mut PlanCache,
    ) -> Result<BlockEncoder, CodecError> {
        if data.len() as u64 != spec.block_bytes() {
            return Err(CodecError::SourceLength { expected: spec.block_bytes(), got: data.len() as u64 });
        }
        data.resize(spec.padded_bytes() as usize, 0);
        let sbn = sbn_of(block_index);
        let plan = plans.plan(spec.k());
        let inner = SourceBlockEncoder::with_encoding_plan(sbn, &oti(&spec), &data, plan);
        Ok(BlockEncoder { spec, block_index, sbn, padded: data, inner })
    }

    pub fn spec(&self) -> &BlockSpec {
        &self.spec
    }

    pub fn block_index(&self) -> u64 {
        self.block_index
    }

    /// The source bytes, without padding.
    pub fn source(&self) -> &[u8] {
        &self.padded[..self.spec.block_bytes() as usize]
    }

    /// The packet with ESI `esi` (source below K, repair from K on).
    pub fn packet(&self, esi: u32) -> Result<Packet, CodecError> {
        let mut one = self.packets(esi..esi.saturating_add(1))?;
        Ok(one.pop().expect("a range of one ESI gives one packet"))
    }

    /// The packets of a range of ESIs, in ESI order.
    pub fn packets(&self, esis: Range<u32>) -> Result<Vec<Packet>, CodecError> {
        if esis.end > ESI_LIMIT {
            return Err(CodecError::EsiOutOfRange { esi: esis.end as u64 - 1, limit: ESI_LIMIT });
        }
        let k = self.spec.k() as u32;
        let t = self.spec.symbol_bytes() as usize;
        let mut out = Vec::with_capacity(esis.len());
        for esi in esis.start..esis.end.min(k) {
            let at = esi as usize * t;
            out.push(self.wrap(esi, self.padded[at..at + t].to_vec()));
        }
        let repair_start = esis.start.max(k);
        if esis.end > repair_start {
            for p in self.inner.repair_packets(repair_start - k, esis.end - repair_start) {
                let (id, payload) = p.split();
                out.push(self.wrap(id.encoding_symbol_id(), payload));
            }
        }
        Ok(out)
    }

    fn wrap(&self, esi: u32, payload: Vec<u8>) -> Packet {
        Packet { sbn: self.sbn, esi, k: self.spec.k(), payload }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_generated_once_per_k_and_bounded() {
        let mut plans = PlanCache::new(2);
        let spec_a = BlockSpec::new(10 * 8, 8).unwrap();
        let spec_b = BlockSpec::new(11 * 8, 8).unwrap();
        let spec_c = BlockSpec::new(12 * 8, 8).unwrap();
        for i in 0..3 {
            BlockEncoder::new(spec_a, i, vec![i as u8; 80], &mut plans).unwrap();
        }
        assert_eq!(plans.generated(), 1);
        BlockEncoder::new(spec_b, 0, vec![0; 88], &mut plans).unwrap();
        BlockEncoder::new(spec_c, 0, vec![0; 96], &mut plans).unwrap();
        assert_eq!(plans.len(), 2);
        assert_eq!(plans.generated(), 3);
        // spec_a's plan was the oldest, so it was evicted.
        BlockEncoder::new(spec_a, 0, vec![0; 80], &mut plans).unwrap();
        assert_eq!(plans.generated(), 4);
    }

    #[test]
    fn source_packets_are_the_padded_block() {
        let mut plans = PlanCache::default();
        let spec = BlockSpec::new(10, 4).unwrap();
        let data: Vec<u8> = (1..=10).collect();
        let enc = BlockEncoder::new(spec, 258, data.clone(), &mut plans).unwrap();
        assert_eq!(enc.source(), &data[..]);
        let p = enc.packets(0..5).unwrap();
        assert_eq!(p.len(), 5);
        assert_eq!(p[0].payload, vec![1, 2, 3, 4]);
        assert_eq!(p[2].payload, vec![9, 10, 0, 0]);
        assert_eq!((p[0].sbn, p[0].k), (2, 3));
        assert_eq!(p.iter().map(|p| p.esi).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert_eq!(enc.packet(4).unwrap(), p[4]);
        assert!(matches!(
            BlockEncoder::new(spec, 0, vec![0; 9], &mut plans),
            Err(CodecError::SourceLength { expected: 10, got: 9 })
        ));
        assert!(enc.packets(ESI_LIMIT - 1..ESI_LIMIT + 1).is_err());
        assert!(enc.packet(ESI_LIMIT - 1).is_ok());
    }
}
