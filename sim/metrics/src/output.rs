//! Writing one run's results: everything goes into a temporary folder
//! beside the final one, which is renamed into place only when every file
//! is written. A rename within one filesystem is atomic, so a results
//! folder holds a complete run or none of it, even after a kill.

use std::fs;
use std::path::{Path, PathBuf};

use crate::MetricsError;
use crate::contract::{Summary, TimeseriesRow, ViewerRow, timeseries_table, viewers_table};
use crate::table::Table;

/// Everything a run writes.
pub struct RunFiles<'a> {
    pub summary: &'a Summary,
    pub timeseries: &'a [TimeseriesRow],
    pub viewers: &'a [ViewerRow],
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
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| MetricsError::Io { path, source }
    };
    fs::create_dir_all(parent).map_err(io(parent))?;
    // The process id keeps two processes that race on one run apart; the
    // loser's rename fails harmlessly below.
    let tmp = parent.join(format!(".tmp-{}-{}", s.run_id, std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    fs::create_dir(&tmp).map_err(io(&tmp))?;
    let result = (|| {
        s.to_table().write_parquet(&tmp.join("summary.parquet"))?;
        timeseries_table(files.timeseries).write_parquet(&tmp.join("timeseries.parquet"))?;
        viewers_table(files.viewers).write_parquet(&tmp.join("viewers.parquet"))?;
        for (name, table) in files.extra_tables {
            table.write_parquet(&tmp.join(format!("{name}.parquet")))?;
        }
        // The manifest goes last: its presence marks a complete run.
        let m = tmp.join("manifest.json");
        fs::write(&m, &files.manifest_json).map_err(io(&m))?;
        if final_dir.exists() {
            // A folder without a manifest is debris from an old crash.
            fs::remove_dir_all(&final_dir).map_err(io(&final_dir))?;
        }
        fs::rename(&tmp, &final_dir).map_err(io(&final_dir))
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        if final_dir.join("manifest.json").exists() {
            return Ok(RunOutcome::AlreadyComplete(final_dir));
        }
        return Err(e);
    }
    Ok(RunOutcome::Written(final_dir))
}
