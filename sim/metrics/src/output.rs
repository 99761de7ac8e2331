//! Writing one run's results: everything goes into a temporary folder
//! beside the final one, which is renamed into place only when every file
//! is written ([`crate::atomic::write_dir`]), so a results folder holds a
//! complete run or none of it, even after a kill.

use std::fs;
use std::path::{Path, PathBuf};

use crate::atomic;
use crate::error::MetricsError;
use crate::contract::{Summary, TimeseriesRow, ViewerRows, timeseries_table, viewers_table};
use crate::table::Table;

/// Everything a run writes.
pub struct RunFiles<'a> {
    pub summary: &'a Summary,
    pub timeseries: &'a [TimeseriesRow],
    pub viewers: &'a dyn ViewerRows,
    /// Further tables, written as `<name>.parquet` (e.g. `home_nodes`).
    pub extra_tables: &'a [(String, Table)],
    /// The manifest's JSON text (the only file allowed to vary between
    /// reruns: wall time, host, start time).
    pub manifest_json: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RunOutcome {
    Written(PathBuf),
    /// A complete run with this id was already there; nothing was touched.
    AlreadyComplete(PathBuf),
}

/// Final folder of a run: `out/<scenario>/<run_id>`.
pub fn run_dir(out: &Path, scenario: &str, run_id: &str) -> PathBuf {
    out.join(scenario).join(run_id)
}

/// Writes a run under `out/<scenario>/<run_id>/` atomically.
pub fn write_run(out: &Path, files: &RunFiles) -> Result<RunOutcome, MetricsError> {
    let s = files.summary;
    let final_dir = run_dir(out, &s.scenario, &s.run_id);
    if final_dir.join("manifest.json").exists() {
        return Ok(RunOutcome::AlreadyComplete(final_dir));
    }
    let parent = final_dir.parent().expect("run dir has a parent");
    let io = |path: &Path, source| MetricsError::Io { path: path.display().to_string(), source };
    fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    // Two processes that race on one run write apart (the temporary names
    // carry the process id); the loser's rename fails harmlessly below.
    let result = atomic::write_dir(
        &final_dir,
        |tmp| {
            s.to_table().write_parquet(&tmp.join("summary.parquet"))?;
            timeseries_table(files.timeseries).write_parquet(&tmp.join("timeseries.parquet"))?;
            let viewers = files.viewers;
            Table::write_parquet_by_groups(&tmp.join("viewers.parquet"), viewers.len(), |rows| {
                viewers_table(rows.map(|i| viewers.row(i)))
            })?;
            for (name, table) in files.extra_tables {
                table.write_parquet(&tmp.join(format!("{name}.parquet")))?;
            }
            // The manifest goes last: its presence marks a complete run. A
            // folder already at the final place without one is debris from
            // an old crash, which the rename replaces.
            let m = tmp.join("manifest.json");
            fs::write(&m, &files.manifest_json).map_err(|e| io(&m, e))
        },
        io,
    );
    if let Err(e) = result {
        if final_dir.join("manifest.json").exists() {
            return Ok(RunOutcome::AlreadyComplete(final_dir));
        }
        return Err(e);
    }
    Ok(RunOutcome::Written(final_dir))
}
