//! Same scenario + same seed = the same bytes; another seed = other bytes.

use std::path::Path;

use crate::common::*;

#[test]
fn same_seed_gives_byte_identical_parquet() {
    let dir = temp_dir("det-same");
    let a = run_ok(Path::new(QUICKSTART), &dir.join("a"), &[], &[]);
    // Polars may use several threads; the bytes must not depend on it.
    let b = run_ok(Path::new(QUICKSTART), &dir.join("b"), &[], &[("POLARS_MAX_THREADS", "1")]);
    assert_eq!(a.file_name(), b.file_name(), "run id is a function of the scenario");
    for f in PARQUET_FILES {
        assert!(read(&a.join(f)) == read(&b.join(f)), "{f} differs between identical runs (replay: cdnsim run {QUICKSTART})");
    }
}

#[test]
fn different_seed_gives_different_results() {
    let dir = temp_dir("det-seed");
    let a = run_ok(Path::new(QUICKSTART), &dir.join("a"), &["--seed", "1"], &[]);
    let b = run_ok(Path::new(QUICKSTART), &dir.join("b"), &["--seed", "2"], &[]);
    assert_ne!(a.file_name(), b.file_name(), "a different seed is a different run");
    assert_ne!(read(&a.join("viewers.parquet")), read(&b.join("viewers.parquet")));
    assert_ne!(read(&a.join("summary.parquet")), read(&b.join("summary.parquet")));
}

#[test]
fn a_complete_run_is_not_run_again() {
    let dir = temp_dir("det-resume");
    let a = run_ok(Path::new(QUICKSTART), &dir, &[], &[]);
    let before = std::fs::metadata(a.join("manifest.json")).unwrap().modified().unwrap();
    let o = cdnsim(&["run", QUICKSTART, "--out", dir.to_str().unwrap()], &[]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("already complete"));
    assert_eq!(std::fs::metadata(a.join("manifest.json")).unwrap().modified().unwrap(), before);
}

#[test]
fn runs_on_parallel_threads_match_a_run_alone() {
    // One run is one thread; runs in parallel share nothing. Two threads
    // simulating at once must each produce exactly what one thread alone
    // does (no global state, no thread-dependent order).
    let sc = cdnsim_scenario::load(Path::new(QUICKSTART)).unwrap();
    let id = |seed| cdnsim_world::RunIdentity { run_id: format!("t{seed}"), seed, replication: 0 };
    let alone = cdnsim_world::simulate(&sc, &id(1)).unwrap();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| cdnsim_world::simulate(&sc, &id(1)).unwrap());
        let b = s.spawn(|| cdnsim_world::simulate(&sc, &id(1)).unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    for r in [&a, &b] {
        assert_eq!(r.summary, alone.summary);
        let rows = |r: &cdnsim_world::RunResults| (0..r.viewers.len()).map(|i| r.viewers.row(i)).collect::<Vec<_>>();
        assert_eq!(rows(r), rows(&alone));
        assert_eq!(r.timeseries, alone.timeseries);
    }
}

/// Pools and mesh decide on measured link state and move streams between
/// upstreams: their runs too must be the same bytes on a rerun and at any
/// number of parallel runs (`--jobs`).
#[test]
fn pool_and_mesh_runs_are_byte_identical_across_reruns_and_jobs() {
    let dir = temp_dir("det-modes");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/tree_vs_pool_vs_mesh.toml");
    let text = std::fs::read_to_string(src).unwrap().replacen("duration = \"180 s\"", "duration = \"40 s\"", 1);
    let file = dir.join("modes.toml");
    std::fs::write(&file, text).unwrap();
    std::fs::create_dir_all(dir.join("topologies")).unwrap();
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/topologies/china.toml"), dir.join("topologies/china.toml")).unwrap();
    let a = dir.join("a");
    let b = dir.join("b");
    for (out, jobs) in [(&a, "1"), (&b, "2")] {
        let o = cdnsim(&["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--jobs", jobs, "--no-progress"], &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let files = |root: &Path| {
        let mut v: Vec<std::path::PathBuf> = Vec::new();
        for run in std::fs::read_dir(root.join("tree_vs_pool_vs_mesh")).unwrap() {
            let run = run.unwrap().path();
            if !run.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&run).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "parquet") {
                    v.push(f.strip_prefix(root).unwrap().to_path_buf());
                }
            }
        }
        v.sort();
        v
    };
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa, fb);
    assert!(fa.len() >= 9, "three modes, three tables at least: {fa:?}");
    for f in &fa {
        assert!(read(&a.join(f)) == read(&b.join(f)), "{} differs between --jobs 1 and 2 (replay: cdnsim run {})", f.display(), file.display());
    }
}
