//! Results: the rows a run records, the statistics over them, and the
//! results contract of DESIGN.md written as Parquet through polars.
//!
//! Module map:
//! - `error`: [`MetricsError`], with the path of the file concerned.
//! - [`atomic`]: replacing a file or a folder through a temporary name and
//!   a rename, for every file the workbench writes.
//! - [`stats`]: nearest-rank percentiles and a log-linear latency histogram
//!   (bounded memory, however many samples).
//! - [`table`]: a column-oriented table and its Parquet writer.
//! - [`contract`]: the rows of `summary`, `timeseries` and `viewers`,
//!   turned into tables with the contract's column names.
//! - [`output`]: writing a run into a temporary folder and renaming it when
//!   complete, so a results folder never holds half a run.
//! - [`report`]: per sweep point, mean and 95% confidence interval
//!   (Student t) of every summary metric over replications.
//! - [`compare`]: two folders of one scenario compared per point and
//!   metric: paired (Student t on per-replication differences) and
//!   unpaired (Welch) intervals, verdicts by each column's better
//!   direction, and gates.
//! - [`failures`]: runs that failed, one record each, gathered into
//!   `failures.parquet`.

pub mod atomic;
pub mod compare;
pub mod contract;
mod error;
pub mod failures;
pub mod output;
pub mod report;
pub mod stats;
pub mod table;

pub use contract::{SUMMARY_COLUMNS, Summary, TimeseriesRow, Value, ViewerRow, ViewerRows};
pub use error::MetricsError;
pub use output::{RunFiles, RunOutcome, run_dir, write_run};
pub use stats::{LatencyHistogram, percentile};
pub use table::{Col, Table, read_parquet};
