//! Runs that failed. Each failure is first written as its own one-row file
//! `failures/<run id>.parquet` (atomically, so parallel runs and cluster
//! shards never write one file together); `failures.parquet` beside the
//! runs is then rebuilt from them. A run that later completes drops its
//! record.

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::DataType;

use crate::atomic;
use crate::error::MetricsError;
use crate::table::{Col, Table, read_parquet};

/// Bound on the failure records one folder holds (one per run at most).
pub const MAX_FAILURES: usize = 1_000_000;

/// One failed run.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub run_id: String,
    pub seed: u64,
    pub replication: u64,
    /// The swept values, `key = value, ...` (empty without a sweep).
    pub point: String,
    pub message: String,
    /// The command that runs exactly this run again.
    pub replay: String,
}

/// The columns of `failures.parquet`, in order.
pub const FAILURE_COLUMNS: &[&str] = &["run_id", "seed", "replication", "point", "message", "replay"];

pub fn failures_table(rows: &[Failure]) -> Table {
    let mut t = Table::default();
    let s = |f: fn(&Failure) -> &str| Col::Str(rows.iter().map(|r| f(r).to_string()).collect());
    t.push("run_id", s(|r| &r.run_id));
    t.push("seed", Col::U64(rows.iter().map(|r| r.seed).collect()));
    t.push("replication", Col::U64(rows.iter().map(|r| r.replication).collect()));
    t.push("point", s(|r| &r.point));
    t.push("message", s(|r| &r.message));
    t.push("replay", s(|r| &r.replay));
    t
}

fn records_dir(scenario_dir: &Path) -> PathBuf {
    scenario_dir.join("failures")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MetricsError {
    let path = path.display().to_string();
    move |source| MetricsError::Io { path, source }
}

/// Records a failed run (replacing an earlier record of it).
pub fn record_failure(scenario_dir: &Path, f: &Failure) -> Result<(), MetricsError> {
    let dir = records_dir(scenario_dir);
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    let dest = dir.join(format!("{}.parquet", f.run_id));
    atomic::write_file(&dest, |tmp| failures_table(std::slice::from_ref(f)).write_parquet(tmp), |p, e| io(p)(e))
}

/// Drops the failure record of a run that has now completed, and debris
/// of a killed writer of it.
pub fn clear_failure(scenario_dir: &Path, run_id: &str) -> Result<(), MetricsError> {
    let dir = records_dir(scenario_dir);
    let Ok(entries) = fs::read_dir(&dir) else { return Ok(()) };
    let record = dir.join(format!("{run_id}.parquet"));
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().to_string();
        if name == format!("{run_id}.parquet") || atomic::is_temp_of(&name, &record) {
            fs::remove_file(e.path()).map_err(io(&e.path()))?;
        }
    }
    Ok(())
}

/// Every failure recorded under `scenario_dir`, ordered by run id.
pub fn read_failures(scenario_dir: &Path) -> Result<Vec<Failure>, MetricsError> {
    let dir = records_dir(scenario_dir);
    let Ok(entries) = fs::read_dir(&dir) else { return Ok(vec![]) };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            name.ends_with(".parquet") && !name.starts_with('.')
        })
        .collect();
    files.sort();
    files.truncate(MAX_FAILURES);
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        let df = read_parquet(&path)?;
        let bad = |m: String| MetricsError::Read { path: path.display().to_string(), message: m };
        let text = |name: &str| -> Result<Vec<String>, MetricsError> {
            let c = df.column(name).map_err(|e| bad(e.to_string()))?;
            Ok(c.str().map_err(|e| bad(e.to_string()))?.iter().map(|s| s.unwrap_or_default().to_string()).collect())
        };
        let count = |name: &str| -> Result<Vec<u64>, MetricsError> {
            let c = df.column(name).map_err(|e| bad(e.to_string()))?.cast(&DataType::UInt64).map_err(|e| bad(e.to_string()))?;
            Ok(c.u64().map_err(|e| bad(e.to_string()))?.iter().map(|v| v.unwrap_or_default()).collect())
        };
        let (ids, seeds, reps) = (text("run_id")?, count("seed")?, count("replication")?);
        let (points, messages, replays) = (text("point")?, text("message")?, text("replay")?);
        for i in 0..df.height() {
            out.push(Failure {
                run_id: ids[i].clone(),
                seed: seeds[i],
                replication: reps[i],
                point: points[i].clone(),
                message: messages[i].clone(),
                replay: replays[i].clone(),
            });
        }
    }
    Ok(out)
}

/// Rebuilds `failures.parquet` from the records: written when there is a
/// failure, removed when there is none. Returns the failures.
pub fn write_failures(scenario_dir: &Path) -> Result<Vec<Failure>, MetricsError> {
    let rows = read_failures(scenario_dir)?;
    let dest = scenario_dir.join("failures.parquet");
    if rows.is_empty() {
        if dest.exists() {
            fs::remove_file(&dest).map_err(io(&dest))?;
        }
        return Ok(rows);
    }
    atomic::write_file(&dest, |tmp| failures_table(&rows).write_parquet(tmp), |p, e| io(p)(e))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_clear() {
        let dir = std::env::temp_dir().join(format!("cdnsim-failures-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let f = |id: &str| Failure {
            run_id: id.into(),
            seed: 7,
            replication: 2,
            point: "a.b = 1".into(),
            message: "boom".into(),
            replay: format!("cdnsim run x.toml --run-id {id}"),
        };
        record_failure(&dir, &f("bb")).unwrap();
        record_failure(&dir, &f("aa")).unwrap();
        let rows = write_failures(&dir).unwrap();
        assert_eq!(rows, vec![f("aa"), f("bb")]);
        let df = read_parquet(&dir.join("failures.parquet")).unwrap();
        let names: Vec<String> = df.columns().iter().map(|c| c.name().to_string()).collect();
        assert_eq!(names, FAILURE_COLUMNS);
        clear_failure(&dir, "aa").unwrap();
        clear_failure(&dir, "bb").unwrap();
        assert!(write_failures(&dir).unwrap().is_empty());
        assert!(!dir.join("failures.parquet").exists(), "no failures, no file");
        fs::remove_dir_all(dir).unwrap();
    }
}
