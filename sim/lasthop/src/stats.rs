//! What the last hop adds up over a run.

/// What the last hop added up, for the results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub home_upload_bytes: u64,
    /// Home-node bytes a client's open, undecoded block took: upload that
    /// counted towards a decode (not after it, not for a block already
    /// past playback).
    pub home_useful_upload_bytes: u64,
    pub home_download_bytes: u64,
    pub decode_failures: u64,
    pub blocks_decoded: u64,
    pub full_mismatches: u64,
    pub evictions: u64,
    pub sheds: u64,
    pub symbols_wasted: u64,
    pub relayed_connections: u64,
    pub direct_connections: u64,
    pub scheduler_requests: u64,
    /// Blocks the server completed after home nodes fell short.
    pub server_repairs: u64,
    pub clients: u64,
}
