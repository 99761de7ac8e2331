//! What a last hop is configured with, and the facts derived from it.

use cdnsim_codec::{BlockSpec, CodecError, HEADER_BYTES, RedundancyConfig, ShareLayout};

/// Home-node senders a client keeps at most.
pub const MAX_SENDERS: usize = 240;

/// The last hop's parameters, in base units (the scenario crate resolves
/// and checks them; [`Config::check`] repeats what this crate relies on).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// Duration of a block; every stream shares one block clock.
    pub block_ns: u64,
    pub block_bytes: u64,
    pub symbol_bytes: u64,
    /// Symbols of each block a home node holds (its share of K).
    pub symbols_per_node: u32,
    /// Distinct ESI ranges handed out to home nodes.
    pub slots: u32,
    /// Home node -> scheduler.
    pub heartbeat_ns: u64,
    /// Candidates asked of the scheduler per home node needed.
    pub candidates_factor: f64,
    /// Blocks over which a new home node takes over its full share.
    pub ramp_blocks: u32,
    /// Redundancy controller: P(a block gets K + headroom symbols).
    pub target: f64,
    pub headroom_symbols: u32,
    /// The end of the run: symbols arriving later are counted in flight.
    pub stop_ns: u64,
}

impl Config {
    /// The block's code and the ESI layout of its shares.
    pub fn check(&self) -> Result<(BlockSpec, ShareLayout), CodecError> {
        let spec = BlockSpec::new(self.block_bytes, self.symbol_bytes)?;
        let layout = ShareLayout::new(spec.k(), self.slots, self.symbols_per_node)?;
        self.redundancy().check()?;
        Ok((spec, layout))
    }

    /// Bytes of one symbol on the wire, header included.
    pub fn wire_bytes(&self) -> u32 {
        self.symbol_bytes as u32 + HEADER_BYTES as u32
    }

    /// Symbols a home node can send in one block at `upload_bps`.
    pub fn symbols_per_block(&self, upload_bps: u64) -> i64 {
        (upload_bps as u128 * self.block_ns as u128 / 8 / 1_000_000_000 / self.wire_bytes() as u128) as i64
    }

    pub(crate) fn redundancy(&self) -> RedundancyConfig {
        RedundancyConfig {
            headroom_symbols: self.headroom_symbols,
            target: self.target,
            max_senders: MAX_SENDERS + 1,
            ..RedundancyConfig::default()
        }
    }

    /// When a client reviews block `b`: one block duration for the senders
    /// to upload it, and half a second for the network, after it ended.
    pub fn review_ns(&self, b: u32) -> u64 {
        (b as u64 + 2) * self.block_ns + 500_000_000
    }
}

#[cfg(test)]
pub(crate) fn test_config() -> Config {
    Config {
        block_ns: 1_000_000_000,
        block_bytes: 125_000,
        symbol_bytes: 1250,
        symbols_per_node: 10,
        slots: 100,
        heartbeat_ns: 10_000_000_000,
        candidates_factor: 2.0,
        ramp_blocks: 4,
        target: 0.999,
        headroom_symbols: 2,
        stop_ns: 600_000_000_000,
    }
}
