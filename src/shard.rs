//! Cluster shards: which runs of a sweep this process does.
//!
//! Runs are ordered by run id and dealt round-robin: shard i of n takes the
//! runs at positions i, i + n, i + 2n, ... The assignment depends only on
//! the set of run ids, so every shard computes it alone, the shares differ
//! by at most one run, and a shard run again (a Kubernetes retry, a Slurm
//! requeue) does the same runs (skipping those already complete).

use crate::failure::Failure;

/// Shard `index` of `count`, and where it came from (for the log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
    pub source: &'static str,
}

/// The shard from `--shard i/n`; else from Slurm's array variables
/// (`SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN`, of
/// `SLURM_ARRAY_TASK_COUNT`); else from a Kubernetes Indexed Job's
/// `JOB_COMPLETION_INDEX` with `--shard-count`; else none (every run).
pub fn resolve(flag: Option<&str>, shard_count: Option<u64>, env: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>, Failure> {
    let bad = |m: String| Err(Failure::BadInput(m));
    if let Some(f) = flag {
        let parsed = f.split_once('/').and_then(|(i, n)| Some((i.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
        return match parsed {
            Some((i, n)) if n >= 1 && i < n => Ok(Some(Shard { index: i, count: n, source: "--shard" })),
            _ => bad(format!("--shard: expected I/N with 0 <= I < N (e.g. 0/4), found {f:?}")),
        };
    }
    let num = |name: &str| -> Result<Option<u64>, Failure> {
        match env(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| Failure::BadInput(format!("{name}: expected a whole number, found {v:?}"))),
        }
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let Some(count) = num("SLURM_ARRAY_TASK_COUNT")? else {
            return bad("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard I/N".into());
        };
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let index = id.checked_sub(min).filter(|&i| i < count);
        return match index {
            Some(index) => Ok(Some(Shard { index, count, source: "SLURM_ARRAY_TASK_ID" })),
            None => bad(format!(
                "SLURM_ARRAY_TASK_ID {id} is not one of {count} consecutive tasks from {min}; use an array such as --array=0-{}",
                count.saturating_sub(1)
            )),
        };
    }
    if let Some(index) = num("JOB_COMPLETION_INDEX")? {
        let Some(count) = shard_count else {
            return bad("JOB_COMPLETION_INDEX is set: pass --shard-count N (the Job's completions)".into());
        };
        if count == 0 || index >= count {
            return bad(format!("JOB_COMPLETION_INDEX {index} is not below --shard-count {count}"));
        }
        return Ok(Some(Shard { index, count, source: "JOB_COMPLETION_INDEX" }));
    }
    if shard_count.is_some() {
        return bad("--shard-count goes with JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), which is not set; use --shard I/N".into());
    }
    Ok(None)
}

/// Indices (into `run_ids`) of the runs of `shard`.
pub fn select(run_ids: &[String], shard: &Shard) -> Vec<usize> {
    let mut order: Vec<usize> = (0..run_ids.len()).collect();
    order.sort_by(|&a, &b| run_ids[a].cmp(&run_ids[b]));
    let mut mine: Vec<usize> = order.into_iter().enumerate().filter(|(pos, _)| *pos as u64 % shard.count == shard.index).map(|(_, i)| i).collect();
    mine.sort_unstable();
    mine
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    fn shard(flag: Option<&str>, count: Option<u64>, vars: &[(&str, &str)]) -> Result<Option<(u64, u64)>, String> {
        resolve(flag, count, env(vars)).map(|s| s.map(|s| (s.index, s.count))).map_err(|e| match e {
            Failure::BadInput(m) => m,
            _ => panic!("not bad input"),
        })
    }

    #[test]
    fn sources_in_order_of_precedence() {
        assert_eq!(shard(None, None, &[]), Ok(None));
        assert_eq!(shard(Some("1/3"), None, &[("SLURM_ARRAY_TASK_ID", "0")]), Ok(Some((1, 3))));
        assert_eq!(shard(None, None, &[("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "4")]), Ok(Some((2, 4))));
        let one_based = [("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SLURM_ARRAY_TASK_MIN", "1")];
        assert_eq!(shard(None, None, &one_based), Ok(Some((3, 4))));
        assert_eq!(shard(None, Some(5), &[("JOB_COMPLETION_INDEX", "4")]), Ok(Some((4, 5))));
        assert!(shard(None, None, &[("JOB_COMPLETION_INDEX", "4")]).unwrap_err().contains("--shard-count"));
        assert!(shard(None, Some(2), &[]).unwrap_err().contains("JOB_COMPLETION_INDEX"));
        assert!(shard(Some("2/2"), None, &[]).is_err());
        assert!(shard(Some("x"), None, &[]).is_err());
        assert!(shard(None, None, &[("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_COUNT", "4")]).is_err());
    }

    #[test]
    fn shards_partition_the_runs_evenly() {
        let ids: Vec<String> = (0..23u64).map(|i| format!("{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15))).collect();
        for n in 1..6 {
            let mut all: Vec<usize> = Vec::new();
            let mut sizes = Vec::new();
            for i in 0..n {
                let mine = select(&ids, &Shard { index: i, count: n, source: "test" });
                sizes.push(mine.len());
                all.extend(mine);
            }
            all.sort_unstable();
            assert_eq!(all, (0..ids.len()).collect::<Vec<_>>(), "every run exactly once with {n} shards");
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
        }
    }
}
