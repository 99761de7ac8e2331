//! Per-second totals of each stream, for `timeseries.parquet`.

use cdnsim_engine::SimTime;

/// Per-second totals of one stream, for `timeseries.parquet`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Second {
    /// Bytes viewers received from IDC nodes, and from home nodes.
    pub bytes_to_viewers: u64,
    pub bytes_from_homes: u64,
    /// Last-hop shares sent from edges to home nodes.
    pub bytes_to_homes: u64,
    pub idc_egress_bytes: u64,
    pub internal_bytes: u64,
    pub stalls: u64,
}

/// The per-second row `now` falls in, of `seconds` rows; an event exactly
/// at the stop time counts in the last second.
pub fn second_index(now: SimTime, seconds: usize) -> usize {
    ((now.as_ns() / 1_000_000_000) as usize).min(seconds - 1)
}
