//! Receivers: one per block per client, at one of three fidelity levels.
//!
//! - [`FullReceiver`]: real packets with real bytes into raptorq's decoder;
//!   the decoded block can be compared with the source ([`FullReceiver::verify`]).
//! - [`StructuralReceiver`]: only the ESIs travel. Whether K' symbols decode
//!   depends on which ESIs they are, not on their bytes (the decoder fails
//!   exactly when the constraint matrix of the received ESIs is singular),
//!   so the [`StructuralDecoder`] runs raptorq's decoder on 1-byte zero
//!   symbols. It avoids the solve when it can: a set holding all K source
//!   symbols decodes with no solve, and a set already decided is looked up in
//!   a bounded memo (many clients fed by the same nodes see identical sets).
//! - [`ModelReceiver`]: counts distinct ESIs and decides with a caller's
//!   uniform draw against a [`DecodeTable`].
//!
//! All three try to decode as each new symbol arrives once K are held (or
//! once per batch), stop at the first success, and report every symbol as
//! one [`Receipt`]. Each holds at most `max_symbols` distinct symbols
//! (K + [`DEFAULT_MAX_EXTRA_SYMBOLS`] by default): RFC 6330 puts the failure
//! probability at K + h symbols near 256^-(h+1)
//! (docs/references.md, Decode failure), so a block still undecoded
//! at that bound is undecodable in practice, and the bound caps memory.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use raptorq::{EncodingPacket, ObjectTransmissionInformation, PayloadId, SourceBlockDecoder};

use crate::block::{BlockSpec, check_k, sbn_of};
use crate::encode::oti;
use crate::error::CodecError;
use crate::esi_set::{EsiSet, Insert, all_source_present};
use crate::packet::{Packet, check_esi};
use crate::table::DecodeTable;

/// Symbols beyond K a receiver holds at most, unless told otherwise.
pub const DEFAULT_MAX_EXTRA_SYMBOLS: usize = 64;

/// Memo entries kept by [`StructuralDecoder::default`].
pub const DEFAULT_MEMO_CAPACITY: usize = 4096;

/// How faithfully the last hop is simulated (chosen per scenario; the
/// scenario crate uses this type, serialised by its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fidelity {
    Full,
    Structural,
    Model,
}

impl Fidelity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Fidelity::Full => "full",
            Fidelity::Structural => "structural",
            Fidelity::Model => "model",
        }
    }
}

impl fmt::Display for Fidelity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Fidelity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(Fidelity::Full),
            "structural" => Ok(Fidelity::Structural),
            "model" => Ok(Fidelity::Model),
            _ => Err(format!("unknown codec fidelity {s:?}: expected \"full\", \"structural\" or \"model\"")),
        }
    }
}

/// What happened to one received symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// Kept; the block is not decoded yet.
    Stored,
    /// Kept, and with it the block decoded.
    Decoded,
    /// This ESI was already held (wasted).
    Duplicate,
    /// The block had already decoded (wasted).
    AfterDecode,
    /// The receiver already holds `max_symbols` and still cannot decode.
    OverBound,
}

/// Receipts of a batch, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub stored: u32,
    pub duplicates: u32,
    pub after_decode: u32,
    pub over_bound: u32,
    /// The block decoded with this batch.
    pub decoded: bool,
}

impl Tally {
    fn count(&mut self, insert: Insert) {
        match insert {
            Insert::New => self.stored += 1,
            Insert::Duplicate => self.duplicates += 1,
            Insert::Full => self.over_bound += 1,
        }
    }
}

fn default_bound(k: u16) -> usize {
    k as usize + DEFAULT_MAX_EXTRA_SYMBOLS
}

fn receipt(insert: Insert) -> Receipt {
    match insert {
        Insert::New => Receipt::Stored,
        Insert::Duplicate => Receipt::Duplicate,
        Insert::Full => Receipt::OverBound,
    }
}

// ---------------------------------------------------------------- full

/// Real bytes through raptorq's decoder for one block.
pub struct FullReceiver {
    spec: BlockSpec,
    block_index: u64,
    sbn: u8,
    max_symbols: usize,
    esis: EsiSet,
    /// Created at the first packet, dropped once decoded.
    decoder: Option<SourceBlockDecoder>,
    decoded: Option<Vec<u8>>,
    attempts: u32,
}

impl FullReceiver {
    pub fn new(spec: BlockSpec, block_index: u64) -> FullReceiver {
        FullReceiver::with_max_symbols(spec, block_index, default_bound(spec.k()))
    }

    /// `max_symbols` is raised to K if lower: fewer can never decode.
    pub fn with_max_symbols(spec: BlockSpec, block_index: u64, max_symbols: usize) -> FullReceiver {
        FullReceiver {
            spec,
            block_index,
            sbn: sbn_of(block_index),
            max_symbols: max_symbols.max(spec.k() as usize),
            esis: EsiSet::with_capacity(spec.k() as usize + 2),
            decoder: None,
            decoded: None,
            attempts: 0,
        }
    }

    /// Checks `packet` against this block and feeds it to the decoder.
    pub fn receive(&mut self, packet: Packet) -> Result<Receipt, CodecError> {
        packet.check(&self.spec, self.sbn)?;
        if self.decoded.is_some() {
            return Ok(Receipt::AfterDecode);
        }
        let insert = self.esis.insert(packet.esi, self.max_symbols);
        if insert != Insert::New {
            return Ok(receipt(insert));
        }
        let raw = EncodingPacket::new(PayloadId::new(packet.sbn, packet.esi), packet.payload);
        Ok(if self.feed(std::iter::once(raw)) { Receipt::Decoded } else { Receipt::Stored })
    }

    /// [`FullReceiver::receive`] on a packet's wire form.
    pub fn receive_bytes(&mut self, bytes: &[u8]) -> Result<Receipt, CodecError> {
        self.receive(Packet::parse(bytes)?)
    }

    /// Packets that arrived together: all are checked first (one bad packet
    /// rejects the batch and changes nothing), then the new ones go to the
    /// decoder with at most one decode attempt.
    pub fn receive_batch(&mut self, packets: Vec<Packet>) -> Result<Tally, CodecError> {
        for p in &packets {
            p.check(&self.spec, self.sbn)?;
        }
        let mut tally = Tally::default();
        if self.decoded.is_some() {
            tally.after_decode = packets.len() as u32;
            return Ok(tally);
        }
        let mut fresh = Vec::with_capacity(packets.len());
        for p in packets {
            let insert = self.esis.insert(p.esi, self.max_symbols);
            tally.count(insert);
            if insert == Insert::New {
                fresh.push(EncodingPacket::new(PayloadId::new(p.sbn, p.esi), p.payload));
            }
        }
        if !fresh.is_empty() {
            tally.decoded = self.feed(fresh);
        }
        Ok(tally)
    }

    /// Feeds new, checked packets; true when the block decoded.
    fn feed(&mut self, packets: impl IntoIterator<Item = EncodingPacket>) -> bool {
        let (sbn, spec) = (self.sbn, self.spec);
        let decoder =
            self.decoder.get_or_insert_with(|| SourceBlockDecoder::new(sbn, &oti(&spec), spec.padded_bytes()));
        let ready = self.esis.len() >= spec.k() as usize;
        // Below K raptorq only stores the symbols; count the real attempts.
        self.attempts += ready as u32;
        match decoder.decode(packets) {
            Some(mut bytes) => {
                bytes.truncate(spec.block_bytes() as usize);
                self.decoded = Some(bytes);
                self.decoder = None;
                self.esis.release();
                true
            }
            None => false,
        }
    }

    pub fn is_decoded(&self) -> bool {
        self.decoded.is_some()
    }

    /// The decoded block (padding removed).
    pub fn decoded_bytes(&self) -> Option<&[u8]> {
        self.decoded.as_deref()
    }

    /// Distinct symbols held (0 once decoded: they are released).
    pub fn distinct_symbols(&self) -> usize {
        self.esis.len()
    }

    /// Decode attempts made with at least K symbols.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub fn spec(&self) -> &BlockSpec {
        &self.spec
    }

    /// Compares the decoded block with the source: a mismatch is an error
    /// (a decoder fault or a corrupted packet that passed the checks).
    pub fn verify(&self, source: &[u8]) -> Result<(), CodecError> {
        let Some(decoded) = &self.decoded else {
            return Err(CodecError::NotDecoded { block_index: self.block_index });
        };
        match decoded.iter().zip(source).position(|(a, b)| a != b) {
            Some(offset) => Err(CodecError::Mismatch { block_index: self.block_index, offset }),
            None if decoded.len() != source.len() => {
                Err(CodecError::Mismatch { block_index: self.block_index, offset: decoded.len().min(source.len()) })
            }
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------- structural

/// What the structural decoder did, for profiles and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StructuralStats {
    /// Decisions asked for (sets of at least K symbols).
    pub decisions: u64,
    /// Decided by "all K source symbols present", no solve.
    pub source_shortcuts: u64,
    /// Decided by the memo.
    pub memo_hits: u64,
    /// Decided by running raptorq's decoder.
    pub solves: u64,
    /// Solves that failed (singular).
    pub solve_failures: u64,
}

/// Decides decodability of ESI sets with raptorq's decoder on 1-byte
/// symbols, shared by every structural receiver of a run.
///
/// The memo maps (K, sorted ESI set) -> decodable. It is bounded by two
/// generations: entries go into `current`; when `current` holds half the
/// capacity it becomes `previous` (dropping the older one), and a hit in
/// `previous` is copied back into `current`. So at most `capacity` entries
/// are held and recently used sets survive. The memo changes only speed,
/// never an answer: the decoder is deterministic.
pub struct StructuralDecoder {
    half_capacity: usize,
    current: HashMap<Box<[u32]>, bool>,
    previous: HashMap<Box<[u32]>, bool>,
    stats: StructuralStats,
}

impl Default for StructuralDecoder {
    fn default() -> Self {
        StructuralDecoder::new(DEFAULT_MEMO_CAPACITY)
    }
}

impl StructuralDecoder {
    /// A decoder whose memo holds at most `memo_capacity` sets (0: no memo).
    pub fn new(memo_capacity: usize) -> StructuralDecoder {
        StructuralDecoder {
            half_capacity: memo_capacity / 2,
            current: HashMap::new(),
            previous: HashMap::new(),
            stats: StructuralStats::default(),
        }
    }

    pub fn stats(&self) -> StructuralStats {
        self.stats
    }

    /// Whether a block of K source symbols decodes from `esis`, which must
    /// be sorted, distinct and below 2^24 (checked).
    pub fn decodable(&mut self, k: u16, esis: &[u32]) -> Result<bool, CodecError> {
        check_k(k as u64)?;
        for (i, &esi) in esis.iter().enumerate() {
            check_esi(esi)?;
            if i > 0 && esis[i - 1] >= esi {
                return Err(CodecError::EsiOrder { previous: esis[i - 1], esi });
            }
        }
        Ok(self.decide(k, esis))
    }

    /// `decodable` for inputs already checked (sorted, distinct, in range).
    fn decide(&mut self, k: u16, esis: &[u32]) -> bool {
        if esis.len() < k as usize {
            return false;
        }
        self.stats.decisions += 1;
        if all_source_present(esis, k as usize) {
            self.stats.source_shortcuts += 1;
            return true;
        }
        if self.half_capacity == 0 {
            return self.solve(k, esis);
        }
        let mut key = Vec::with_capacity(esis.len() + 1);
        key.push(k as u32);
        key.extend_from_slice(esis);
        if let Some(&ok) = self.current.get(key.as_slice()) {
            self.stats.memo_hits += 1;
            return ok;
        }
        let ok = match self.previous.get(key.as_slice()) {
            Some(&ok) => {
                self.stats.memo_hits += 1;
                ok
            }
            None => self.solve(k, esis),
        };
        if self.current.len() >= self.half_capacity {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key.into_boxed_slice(), ok);
        ok
    }

    fn solve(&mut self, k: u16, esis: &[u32]) -> bool {
        self.stats.solves += 1;
        let ok = solve_structural(k, esis);
        self.stats.solve_failures += !ok as u64;
        ok
    }
}

/// raptorq's decoder on 1-byte zero symbols with these ESIs (checked by the
/// caller): true when it decodes.
pub(crate) fn solve_structural(k: u16, esis: &[u32]) -> bool {
    let mut decoder = structural_decoder(k);
    decoder.decode(esis.iter().map(|&esi| zero_symbol(esi))).is_some()
}

pub(crate) fn structural_decoder(k: u16) -> SourceBlockDecoder {
    let config = ObjectTransmissionInformation::new(k as u64, 1, 1, 1, 1);
    SourceBlockDecoder::new(0, &config, k as u64)
}

pub(crate) fn zero_symbol(esi: u32) -> EncodingPacket {
    EncodingPacket::new(PayloadId::new(0, esi), vec![0])
}

/// What the structural and model receivers share: the distinct ESIs of one
/// block, bounded, and whether it decoded. The decision on the ESIs held
/// is the caller's (the real solver, or the table).
struct EsiReceiver {
    k: u16,
    max_symbols: usize,
    esis: EsiSet,
    decoded: bool,
}

impl EsiReceiver {
    fn new(k: u16, max_symbols: usize) -> Result<EsiReceiver, CodecError> {
        check_k(k as u64)?;
        Ok(EsiReceiver { k, max_symbols: max_symbols.max(k as usize), esis: EsiSet::with_capacity(k as usize + 2), decoded: false })
    }

    fn receive(&mut self, esi: u32, decides: impl FnOnce(u16, &[u32]) -> bool) -> Result<Receipt, CodecError> {
        check_esi(esi)?;
        if self.decoded {
            return Ok(Receipt::AfterDecode);
        }
        let insert = self.esis.insert(esi, self.max_symbols);
        if insert != Insert::New {
            return Ok(receipt(insert));
        }
        Ok(if self.try_decode(decides) { Receipt::Decoded } else { Receipt::Stored })
    }

    /// ESIs that arrived together: all checked first, one decision.
    fn receive_batch(&mut self, esis: &[u32], decides: impl FnOnce(u16, &[u32]) -> bool) -> Result<Tally, CodecError> {
        for &esi in esis {
            check_esi(esi)?;
        }
        let mut tally = Tally::default();
        if self.decoded {
            tally.after_decode = esis.len() as u32;
            return Ok(tally);
        }
        for &esi in esis {
            tally.count(self.esis.insert(esi, self.max_symbols));
        }
        if tally.stored > 0 {
            tally.decoded = self.try_decode(decides);
        }
        Ok(tally)
    }

    fn try_decode(&mut self, decides: impl FnOnce(u16, &[u32]) -> bool) -> bool {
        if decides(self.k, self.esis.as_slice()) {
            self.decoded = true;
            self.esis.release();
        }
        self.decoded
    }
}

/// One block at structural fidelity: ESIs only.
pub struct StructuralReceiver(EsiReceiver);

impl StructuralReceiver {
    pub fn new(k: u16) -> Result<StructuralReceiver, CodecError> {
        StructuralReceiver::with_max_symbols(k, default_bound(k))
    }

    pub fn with_max_symbols(k: u16, max_symbols: usize) -> Result<StructuralReceiver, CodecError> {
        Ok(StructuralReceiver(EsiReceiver::new(k, max_symbols)?))
    }

    pub fn receive(&mut self, esi: u32, decoder: &mut StructuralDecoder) -> Result<Receipt, CodecError> {
        self.0.receive(esi, |k, esis| decoder.decide(k, esis))
    }

    /// ESIs that arrived together: all checked first, one decision.
    pub fn receive_batch(&mut self, esis: &[u32], decoder: &mut StructuralDecoder) -> Result<Tally, CodecError> {
        self.0.receive_batch(esis, |k, held| decoder.decide(k, held))
    }

    pub fn is_decoded(&self) -> bool {
        self.0.decoded
    }

    pub fn distinct_symbols(&self) -> usize {
        self.0.esis.len()
    }

    pub fn k(&self) -> u16 {
        self.0.k
    }
}

// --------------------------------------------------------------- model

/// One block at model fidelity: decodes at the first count n of distinct
/// symbols with `u >= P(fail | K, n)` from the table. One uniform draw per
/// block makes the outcomes at n and n+1 consistent (a block that decoded
/// stays decoded) while each count decodes with the table's probability.
pub struct ModelReceiver {
    inner: EsiReceiver,
    u: f64,
}

impl ModelReceiver {
    /// `u` is the caller's uniform draw in [0, 1) for this block.
    pub fn new(k: u16, u: f64) -> Result<ModelReceiver, CodecError> {
        ModelReceiver::with_max_symbols(k, u, default_bound(k))
    }

    pub fn with_max_symbols(k: u16, u: f64, max_symbols: usize) -> Result<ModelReceiver, CodecError> {
        let inner = EsiReceiver::new(k, max_symbols)?;
        if !(0.0..1.0).contains(&u) {
            return Err(CodecError::Config { field: "uniform draw u", value: u, expected: "a number in [0, 1)" });
        }
        Ok(ModelReceiver { inner, u })
    }

    pub fn receive(&mut self, esi: u32, table: &DecodeTable) -> Result<Receipt, CodecError> {
        let u = self.u;
        self.inner.receive(esi, |k, esis| model_decides(k, esis, table, u))
    }

    pub fn receive_batch(&mut self, esis: &[u32], table: &DecodeTable) -> Result<Tally, CodecError> {
        let u = self.u;
        self.inner.receive_batch(esis, |k, held| model_decides(k, held, table, u))
    }

    pub fn is_decoded(&self) -> bool {
        self.inner.decoded
    }

    pub fn distinct_symbols(&self) -> usize {
        self.inner.esis.len()
    }
}

/// One block at model fidelity for a caller that knows its symbols are
/// distinct (disjoint ESI ranges per sender, as a [`crate::ShareLayout`]
/// gives): the decision of [`ModelReceiver`] from counts alone, in 24 bytes
/// instead of an ESI set. The table's failure probability falls with each
/// extra symbol, so deciding after a batch is the same as deciding after
/// each of its symbols.
#[derive(Debug, Clone, Copy)]
pub struct ModelCounter {
    u: f64,
    k: u16,
    decoded: bool,
    distinct: u32,
    source: u32,
}

impl ModelCounter {
    /// `u` is the caller's uniform draw in [0, 1) for this block.
    pub fn new(k: u16, u: f64) -> Result<ModelCounter, CodecError> {
        let k = crate::block::check_k(k as u64)?;
        if !(0.0..1.0).contains(&u) {
            return Err(CodecError::Config { field: "uniform draw u", value: u, expected: "a number in [0, 1)" });
        }
        Ok(ModelCounter { u, k, decoded: false, distinct: 0, source: 0 })
    }

    /// `symbols` more distinct symbols arrived, `source` of them source
    /// symbols (ESI < K). Returns whether the block decoded with them.
    pub fn receive(&mut self, symbols: u32, source: u32, table: &DecodeTable) -> bool {
        if self.decoded || symbols == 0 {
            return false;
        }
        self.distinct += symbols;
        self.source = (self.source + source).min(self.k as u32);
        self.decoded = self.source == self.k as u32 || table.decodes(self.k, self.distinct, self.u);
        self.decoded
    }

    pub fn is_decoded(&self) -> bool {
        self.decoded
    }

    pub fn distinct_symbols(&self) -> usize {
        self.distinct as usize
    }
}

/// All source symbols present needs no decoding at all, as in the real
/// decoder; otherwise the table decides.
fn model_decides(k: u16, esis: &[u32], table: &DecodeTable, u: f64) -> bool {
    all_source_present(esis, k as usize) || table.decodes(k, esis.len() as u32, u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::DecodeRow;

    #[test]
    fn fidelity_names_round_trip() {
        for f in [Fidelity::Full, Fidelity::Structural, Fidelity::Model] {
            assert_eq!(f.as_str().parse::<Fidelity>(), Ok(f));
        }
        let e = "exact".parse::<Fidelity>().unwrap_err();
        assert!(e.contains("\"exact\"") && e.contains("structural"), "{e}");
    }

    fn table() -> DecodeTable {
        DecodeTable::from_rows(&[
            DecodeRow { k: 10, extra: 0, trials: 100, failures: 50 },
            DecodeRow { k: 10, extra: 1, trials: 100, failures: 0 },
        ])
        .unwrap()
    }

    #[test]
    fn model_counter_decides_as_the_receiver_does() {
        // Repair batches (ESI >= K) of varying sizes, with and without the
        // source symbols: the counter decodes exactly when the receiver does.
        let t = table();
        for (u, batches, with_source) in [(0.4, [4u32, 4, 2, 3], false), (0.6, [3, 3, 4, 1], false), (0.1, [5, 5, 1, 1], true)] {
            let mut rx = ModelReceiver::new(10, u).unwrap();
            let mut counter = ModelCounter::new(10, u).unwrap();
            let mut next = if with_source { 0 } else { 10 };
            for n in batches {
                let esis: Vec<u32> = (next..next + n).collect();
                next += n;
                let source = esis.iter().filter(|&&e| e < 10).count() as u32;
                let decoded = rx.receive_batch(&esis, &t).unwrap().decoded;
                assert_eq!(counter.receive(n, source, &t), decoded, "u {u}, after {next}");
                assert_eq!(counter.is_decoded(), rx.is_decoded());
            }
        }
        assert!(ModelCounter::new(10, 1.0).is_err());
    }

    #[test]
    fn model_decides_with_the_draw() {
        let t = table();
        // u = 0.4 < P(fail at K) = 0.5: fails at K, decodes at K + 1.
        let mut rx = ModelReceiver::new(10, 0.4).unwrap();
        let tally = rx.receive_batch(&(100..110).collect::<Vec<_>>(), &t).unwrap();
        assert_eq!((tally.stored, tally.decoded), (10, false));
        assert_eq!(rx.receive(100, &t).unwrap(), Receipt::Duplicate);
        assert_eq!(rx.receive(110, &t).unwrap(), Receipt::Decoded);
        assert_eq!(rx.receive(111, &t).unwrap(), Receipt::AfterDecode);
        // u = 0.6: decodes at K.
        let mut rx = ModelReceiver::new(10, 0.6).unwrap();
        assert!(rx.receive_batch(&(100..110).collect::<Vec<_>>(), &t).unwrap().decoded);
        // All source symbols decode whatever the draw.
        let mut rx = ModelReceiver::new(10, 0.0).unwrap();
        assert!(rx.receive_batch(&(0..10).collect::<Vec<_>>(), &t).unwrap().decoded);
        for u in [-0.1, 1.0, f64::NAN] {
            assert!(matches!(ModelReceiver::new(10, u), Err(CodecError::Config { .. })));
        }
        assert!(matches!(
            ModelReceiver::new(10, 0.5).unwrap().receive(1 << 24, &t),
            Err(CodecError::EsiOutOfRange { .. })
        ));
    }

    #[test]
    fn receivers_hold_at_most_their_bound() {
        let t = table();
        let mut rx = ModelReceiver::with_max_symbols(10, 0.0, 3).unwrap();
        // The bound is raised to K: fewer could never decode.
        for esi in 100..110 {
            assert_eq!(rx.receive(esi, &t).unwrap(), Receipt::Stored);
        }
        // u = 0 < P(fail at K) = 0.5: undecoded at K, and an 11th symbol is over the bound.
        assert_eq!(rx.receive(110, &t).unwrap(), Receipt::OverBound);
        let mut dec = StructuralDecoder::new(8);
        let mut rx = StructuralReceiver::with_max_symbols(12, 12).unwrap();
        for esi in 1000..1011 {
            rx.receive(esi, &mut dec).unwrap();
        }
        assert_eq!(rx.distinct_symbols(), 11);
        let r = rx.receive(1011, &mut dec).unwrap();
        let next = rx.receive(1012, &mut dec).unwrap();
        assert!(
            matches!((r, next), (Receipt::Decoded, Receipt::AfterDecode) | (Receipt::Stored, Receipt::OverBound)),
            "{r:?} {next:?}"
        );
    }
}
