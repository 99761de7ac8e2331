//! [`MetricsError`], what every writer and reader of results returns. Its
//! own module so that the modules using it need not import the crate root,
//! which imports them.

/// A results file that could not be written or read, with its path.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot write {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("cannot write {path} as Parquet: {message}")]
    Parquet { path: String, message: String },
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
}
