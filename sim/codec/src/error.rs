//! Errors. Every bad input (a block size, a packet off the wire, a table
//! row) becomes one of these, never a panic: raptorq itself panics on
//! malformed input by design, so nothing reaches it unchecked.

use thiserror::Error;

/// A block, layout, packet or controller input that the codec refuses.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CodecError {
    #[error("block size is 0 bytes: a block must hold at least one byte")]
    EmptyBlock,
    #[error("symbol size {symbol_bytes} bytes: expected 1..={max} bytes (raptorq stores it in 16 bits)")]
    SymbolSize { symbol_bytes: u64, max: u32 },
    #[error(
        "a block of {block_bytes} bytes in {symbol_bytes}-byte symbols needs K = {k} source symbols; \
         raptorq allows at most {max}: use larger symbols or shorter blocks"
    )]
    TooManySymbols { block_bytes: u64, symbol_bytes: u64, k: u64, max: u32 },
    #[error("K = {k} source symbols: expected 1..={max}")]
    SymbolCount { k: u64, max: u32 },
    #[error(
        "share layout: K {k} + {slots} slots x {symbols_per_slot} symbols needs ESIs up to {needed}, \
         beyond raptorq's limit {limit}"
    )]
    LayoutTooLarge { k: u32, slots: u32, symbols_per_slot: u32, needed: u64, limit: u32 },
    #[error("share layout: {symbols_per_slot} symbols per slot: expected at least 1")]
    EmptySlot { symbols_per_slot: u32 },
    #[error("share layout: slot {slot} does not exist (the layout has {slots} slots)")]
    NoSuchSlot { slot: u32, slots: u32 },
    #[error("encoder input is {got} bytes; block is {expected} bytes")]
    SourceLength { expected: u64, got: u64 },
    #[error("ESI {esi} is out of range: expected < {limit}")]
    EsiOutOfRange { esi: u64, limit: u32 },
    #[error("ESIs must be sorted and distinct; found {previous} then {esi}")]
    EsiOrder { previous: u32, esi: u32 },
    #[error("packet of {len} bytes is shorter than its {header}-byte header")]
    PacketTooShort { len: usize, header: usize },
    #[error("packet for source block number {got}, receiver holds block {expected}")]
    WrongBlock { expected: u8, got: u8 },
    #[error("packet says K = {got}, the block has K = {expected}")]
    WrongK { expected: u16, got: u16 },
    #[error("packet payload is {got} bytes, the block's symbols are {expected} bytes")]
    PayloadLength { expected: usize, got: usize },
    #[error("decoded block {block_index} differs from the source (first difference at byte {offset})")]
    Mismatch { block_index: u64, offset: usize },
    #[error("block {block_index} is not decoded, so there is nothing to verify")]
    NotDecoded { block_index: u64 },
    #[error("redundancy: {field} = {value}: expected {expected}")]
    Config { field: &'static str, value: f64, expected: &'static str },
    #[error("redundancy: already tracking {max} senders; remove one before adding sender {sender}")]
    TooManySenders { sender: u64, max: usize },
    #[error("calibration: {0}")]
    Calibration(String),
}

/// A decode-model table that cannot be read: the file (when read from
/// one), the line (1-based, 0 for the table as a whole) and what was wrong.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{}line {line}: {message}", path.as_ref().map(|p| format!("{p}: ")).unwrap_or_default())]
pub struct TableError {
    pub path: Option<String>,
    pub line: usize,
    pub message: String,
}
