//! What a run is and what it produced: its identity, its results and its
//! errors (shared by `build`, `record` and the crate's entry points).

use cdnsim_engine::EngineError;
use cdnsim_metrics::{Summary, Table, TimeseriesRow, ViewerRows};

/// Everything a run produced, ready for the metrics writer.
pub struct RunResults {
    pub summary: Summary,
    pub timeseries: Vec<TimeseriesRow>,
    /// `viewers.parquet`'s rows, built when written.
    pub viewers: Box<dyn ViewerRows + Send>,
    /// `home_nodes`: one row per home node (absent without home nodes).
    pub extra_tables: Vec<(String, Table)>,
    pub events: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("scenario {scenario:?}: {source}")]
    Engine { scenario: String, source: EngineError },
    #[error("scenario {scenario:?}: routing: {message}")]
    Routing { scenario: String, message: String },
    /// The edge crate refused what the scenario built (a bound or a
    /// setting its resolver let through).
    #[error("scenario {scenario:?}: edge: {message}")]
    Edge { scenario: String, message: String },
}

/// Who a run is: its id, seed and replication number. The seed drives every
/// random stream; the id names the results folder.
#[derive(Clone, Debug)]
pub struct RunIdentity {
    pub run_id: String,
    pub seed: u64,
    pub replication: u64,
}
