//! Blocks and encoding symbol ids (ESIs).
//!
//! A stream is cut into blocks of `block_bytes` (the caller derives it from
//! the stream rate and block duration, see [`BlockSpec::for_stream`]). A
//! block is K = ceil(block_bytes / symbol_bytes) source symbols; the last
//! one is padded with zeros, and the decoder drops the padding again.
//!
//! raptorq's limits (docs/references.md, raptorq limits), checked here so
//! that nothing later can trip its assertions: K <= 56403 (K'max of RFC
//! 6330 table 2), the symbol size fits
//! in 16 bits, an ESI is below 2^24 (24 bits in the payload id), and the
//! source block number (SBN) is a byte, so block `i` travels as SBN
//! `i mod 256` (a receiver holds far fewer than 256 blocks at once).
//!
//! # Share layout
//!
//! Per block, the ESI space is cut into disjoint contiguous ranges:
//!
//! ```text
//! [0, K)                      source symbols: the origin server (IDC edge)
//! [K + i*S, K + (i+1)*S)      repair symbols of home-node slot i, i < slots
//! ```
//!
//! with S = `symbols_per_slot`. Home nodes carry repair symbols only, so a
//! client that mixes server and home traffic (start-up from the server, then
//! a gradual shift to home nodes) never receives a symbol twice, and no two
//! home nodes ever send the same symbol. A slot is a stable index that a
//! home node keeps while it holds a share of the stream; a replacement node
//! takes a free slot, never a slot whose symbols clients may already hold.
//! S bounds how many distinct symbols one node can give one client per
//! block. On the wire the repair ids are turned over per block
//! ([`ShareLayout::turned`]: a rotation of [K, end) by a per-block
//! offset), so a slot sends fresh ids every block while senders stay
//! disjoint. Keep the layout compact: raptorq fails a little more often on
//! repair ESIs spread far beyond K (see [`crate::calibrate()`]), and the
//! shipped decode model was measured on ESIs within [K, K + 16 K). A node's
//! share of the block with room for redundancy, e.g.
//! S = ceil(share x K x (1 + max redundancy)), keeps slots x S near 16 K
//! for tens of slots.

use std::ops::Range;

use crate::error::CodecError;

/// K'max: the most source symbols raptorq accepts in one block.
pub const MAX_SOURCE_SYMBOLS: u32 = 56_403;
/// ESIs are 24-bit: every ESI must be below this.
pub const ESI_LIMIT: u32 = 1 << 24;
/// raptorq stores the symbol size in a u16.
pub const MAX_SYMBOL_BYTES: u32 = u16::MAX as u32;

/// The shape of one source block: its length, symbol size and K.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockSpec {
    block_bytes: u32,
    symbol_bytes: u16,
    k: u16,
}

impl BlockSpec {
    /// A block of `block_bytes` cut into `symbol_bytes` symbols.
    pub fn new(block_bytes: u64, symbol_bytes: u64) -> Result<BlockSpec, CodecError> {
        if block_bytes == 0 {
            return Err(CodecError::EmptyBlock);
        }
        if symbol_bytes == 0 || symbol_bytes > MAX_SYMBOL_BYTES as u64 {
            return Err(CodecError::SymbolSize { symbol_bytes, max: MAX_SYMBOL_BYTES });
        }
        let k = block_bytes.div_ceil(symbol_bytes);
        if k > MAX_SOURCE_SYMBOLS as u64 {
            return Err(CodecError::TooManySymbols { block_bytes, symbol_bytes, k, max: MAX_SOURCE_SYMBOLS });
        }
        // k <= 56403 and symbol_bytes <= 65535, so block_bytes < 2^32.
        Ok(BlockSpec { block_bytes: block_bytes as u32, symbol_bytes: symbol_bytes as u16, k: k as u16 })
    }

    /// The block of a stream of `rate_bps` lasting `block_duration_ns`:
    /// ceil(rate x duration / 8) bytes.
    pub fn for_stream(rate_bps: u64, block_duration_ns: u64, symbol_bytes: u64) -> Result<BlockSpec, CodecError> {
        let bits = rate_bps as u128 * block_duration_ns as u128;
        let bytes = bits.div_ceil(8 * 1_000_000_000);
        BlockSpec::new(u64::try_from(bytes).unwrap_or(u64::MAX), symbol_bytes)
    }

    /// A block of exactly `k` symbols of `symbol_bytes` (no padding).
    pub fn with_k(k: u64, symbol_bytes: u64) -> Result<BlockSpec, CodecError> {
        check_k(k)?;
        BlockSpec::new(k * symbol_bytes.max(1), symbol_bytes)
    }

    pub fn block_bytes(&self) -> u64 {
        self.block_bytes as u64
    }

    pub fn symbol_bytes(&self) -> u16 {
        self.symbol_bytes
    }

    /// K, the number of source symbols.
    pub fn k(&self) -> u16 {
        self.k
    }

    /// K x symbol size: the block with its last symbol padded.
    pub fn padded_bytes(&self) -> u64 {
        self.k as u64 * self.symbol_bytes as u64
    }
}

/// Checks a bare K (structural and model receivers know only K).
pub(crate) fn check_k(k: u64) -> Result<u16, CodecError> {
    if k == 0 || k > MAX_SOURCE_SYMBOLS as u64 {
        return Err(CodecError::SymbolCount { k, max: MAX_SOURCE_SYMBOLS });
    }
    Ok(k as u16)
}

/// The source block number block `block_index` travels under.
pub fn sbn_of(block_index: u64) -> u8 {
    (block_index % 256) as u8
}

/// Who sends an ESI under a [`ShareLayout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A source symbol, sent by the origin server.
    Source,
    /// A repair symbol of home-node slot `i`.
    Slot(u32),
    /// Beyond every slot: nobody sends it.
    Unassigned,
}

/// Disjoint ESI ranges per sender for blocks of K source symbols (see the
/// module documentation for the layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareLayout {
    k: u32,
    slots: u32,
    symbols_per_slot: u32,
}

impl ShareLayout {
    pub fn new(k: u16, slots: u32, symbols_per_slot: u32) -> Result<ShareLayout, CodecError> {
        check_k(k as u64)?;
        if symbols_per_slot == 0 {
            return Err(CodecError::EmptySlot { symbols_per_slot });
        }
        let needed = k as u64 + slots as u64 * symbols_per_slot as u64;
        if needed > ESI_LIMIT as u64 {
            return Err(CodecError::LayoutTooLarge { k: k as u32, slots, symbols_per_slot, needed, limit: ESI_LIMIT });
        }
        Ok(ShareLayout { k: k as u32, slots, symbols_per_slot })
    }

    pub fn k(&self) -> u32 {
        self.k
    }

    pub fn slots(&self) -> u32 {
        self.slots
    }

    pub fn symbols_per_slot(&self) -> u32 {
        self.symbols_per_slot
    }

    /// The origin server's ESIs: the K source symbols.
    pub fn source_range(&self) -> Range<u32> {
        0..self.k
    }

    /// The ESIs of home-node slot `slot`.
    pub fn slot_range(&self, slot: u32) -> Result<Range<u32>, CodecError> {
        if slot >= self.slots {
            return Err(CodecError::NoSuchSlot { slot, slots: self.slots });
        }
        let start = self.k + slot * self.symbols_per_slot;
        Ok(start..start + self.symbols_per_slot)
    }

    /// The id `esi` of the layout travels as in block `block`, when every
    /// repair id may lie below `end` (the decode table's calibrated end,
    /// [`crate::LAST_HOP_ESI_END`]): source ids as they are; repair ids
    /// (slots and whatever follows them) turned over the repair ids
    /// [K, end) by an offset of their own per block, as a fountain sender
    /// draws fresh repair symbols for every block. A rotation, so within a
    /// block no two senders share an id and every id stays below `end`;
    /// without it a slot would send the same ids block after block, and a
    /// client whose set of ids fails to decode would fail on every block
    /// alike. `end` must be above every repair id of the layout and at
    /// most [`ESI_LIMIT`]; the offset is a fixed hash of the block number
    /// (no random stream: the same block turns the same way in every run).
    pub fn turned(&self, esi: u32, block: u32, end: u32) -> u32 {
        if esi < self.k {
            return esi;
        }
        debug_assert!(esi < end && end <= ESI_LIMIT, "ESI {esi} outside [K, {end})");
        let span = (end - self.k) as u64;
        let offset = crate::splitmix::SplitMix64::indexed(0x7475_726e, block as u64).below(span);
        self.k + ((esi - self.k) as u64 + offset).rem_euclid(span) as u32
    }

    /// Who sends `esi`.
    pub fn owner(&self, esi: u32) -> Owner {
        if esi < self.k {
            return Owner::Source;
        }
        let slot = (esi - self.k) / self.symbols_per_slot;
        if slot < self.slots { Owner::Slot(slot) } else { Owner::Unassigned }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turned_ids_are_a_rotation_of_the_repair_ids_per_block() {
        let layout = ShareLayout::new(100, 40, 25).unwrap();
        let end = crate::LAST_HOP_ESI_END;
        let used: Vec<u32> = (0..100).chain(100..100 + 40 * 25).chain(1100..1200).collect();
        let mut offsets = std::collections::BTreeSet::new();
        for block in 0..50 {
            let t: Vec<u32> = used.iter().map(|&e| layout.turned(e, block, end)).collect();
            // Source ids stay; repair ids stay repair ids below the end.
            assert_eq!(&t[..100], &used[..100]);
            assert!(t[100..].iter().all(|&e| (100..end).contains(&e)));
            // No two ids of one block meet.
            let mut s = t.clone();
            s.sort_unstable();
            s.dedup();
            assert_eq!(s.len(), used.len(), "block {block}");
            // A rotation: each id moves by the block's offset (mod the span).
            let off = t[100] - 100;
            assert!(used[100..].iter().zip(&t[100..]).all(|(&e, &u)| u == 100 + (e - 100 + off) % (end - 100)));
            offsets.insert(off);
        }
        // The blocks turn differently (50 draws from ~16 K offsets).
        assert!(offsets.len() >= 49, "{} offsets over 50 blocks", offsets.len());
    }

    #[test]
    fn k_is_the_ceiling_and_padding_is_the_rest() {
        let b = BlockSpec::new(125_000, 1024).unwrap();
        assert_eq!(b.k(), 123);
        assert_eq!(b.padded_bytes(), 123 * 1024);
        assert_eq!(BlockSpec::new(1024, 1024).unwrap().k(), 1);
        assert_eq!(BlockSpec::new(1025, 1024).unwrap().k(), 2);
    }

    #[test]
    fn one_mbps_one_second_in_1_kib_symbols_is_k_123() {
        // 10^6 bits / 8 = 125,000 bytes; / 1024 = 122.07 -> 123 symbols
        // (docs/references.md, Symbols per second: 122 symbols/s).
        let b = BlockSpec::for_stream(1_000_000, 1_000_000_000, 1024).unwrap();
        assert_eq!(b.block_bytes(), 125_000);
        assert_eq!(b.k(), 123);
    }

    #[test]
    fn limits_are_errors() {
        assert_eq!(BlockSpec::new(0, 1024), Err(CodecError::EmptyBlock));
        assert!(matches!(BlockSpec::new(10, 0), Err(CodecError::SymbolSize { .. })));
        assert!(matches!(BlockSpec::new(10, 65_536), Err(CodecError::SymbolSize { .. })));
        assert!(BlockSpec::new(56_403, 1).is_ok());
        assert!(matches!(BlockSpec::new(56_404, 1), Err(CodecError::TooManySymbols { k: 56_404, .. })));
        assert!(BlockSpec::new(56_403 * 65_535, 65_535).is_ok());
        assert!(matches!(BlockSpec::for_stream(u64::MAX, u64::MAX, 1024), Err(CodecError::TooManySymbols { .. })));
        assert!(matches!(BlockSpec::with_k(0, 1), Err(CodecError::SymbolCount { .. })));
    }

    #[test]
    fn sbn_wraps_at_256() {
        assert_eq!(sbn_of(0), 0);
        assert_eq!(sbn_of(255), 255);
        assert_eq!(sbn_of(256), 0);
        assert_eq!(sbn_of(1000), (1000 % 256) as u8);
    }

    #[test]
    fn layout_ranges_are_disjoint_and_cover_in_order() {
        let l = ShareLayout::new(122, 40, 122).unwrap();
        assert_eq!(l.source_range(), 0..122);
        let mut next = 122;
        for slot in 0..40 {
            let r = l.slot_range(slot).unwrap();
            assert_eq!(r.start, next);
            assert_eq!(r.len(), 122);
            assert_eq!(l.owner(r.start), Owner::Slot(slot));
            assert_eq!(l.owner(r.end - 1), Owner::Slot(slot));
            next = r.end;
        }
        assert_eq!(l.owner(0), Owner::Source);
        assert_eq!(l.owner(121), Owner::Source);
        assert_eq!(l.owner(next), Owner::Unassigned);
        assert!(matches!(l.slot_range(40), Err(CodecError::NoSuchSlot { slot: 40, slots: 40 })));
    }

    #[test]
    fn layout_beyond_24_bit_esis_is_refused() {
        assert!(ShareLayout::new(100, 1000, 16_000).is_ok());
        let e = ShareLayout::new(100, 1100, 16_000).unwrap_err();
        assert!(matches!(e, CodecError::LayoutTooLarge { .. }), "{e}");
        assert!(matches!(ShareLayout::new(100, 10, 0), Err(CodecError::EmptySlot { .. })));
    }
}
