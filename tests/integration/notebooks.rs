//! Every notebook in notebooks/ executes against the results it declares.
//!
//! A notebook names the runs it needs in its metadata, under
//! `cdnsim.test_runs`: a scenario file, text replacements that make it small
//! (each must match exactly once) and text to append (a `[sweep]`). The
//! test runs them into a fresh results folder, then executes the notebook
//! headless with `$CDNSIM_RESULTS` pointing there. The bundled backbones
//! beside a scenario (`topologies/`) are copied beside its edited copy. The
//! Python environment (notebooks/requirements.txt, and the cdnsim package
//! from python/ installed editable, which the notebooks import) is created
//! once under the target folder by notebooks/setup_venv.sh; scripts/setup.sh
//! creates it ahead for CI.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

fn venv() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; the venv sits beside it.
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("notebook-venv")
}

fn check(what: &str, o: std::process::Output) {
    assert!(
        o.status.success(),
        "{what} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn notebooks_execute() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = venv();
    let setup = Command::new("bash").arg(root.join("notebooks/setup_venv.sh")).arg(&venv).output().expect("bash");
    check("notebooks/setup_venv.sh (Python 3 and PyPI are needed)", setup);

    let mut notebooks: Vec<PathBuf> = std::fs::read_dir(root.join("notebooks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ipynb"))
        .collect();
    notebooks.sort();
    assert!(!notebooks.is_empty(), "no notebooks found");
    let dir = temp_dir("notebooks");
    for nb in &notebooks {
        let stem = nb.file_stem().unwrap().to_string_lossy().to_string();
        let meta: serde_json::Value = serde_json::from_slice(&read(nb)).unwrap();
        let runs = meta["metadata"]["cdnsim"]["test_runs"].as_array().unwrap_or_else(|| panic!("{stem}: metadata lacks cdnsim.test_runs"));
        let results = dir.join(&stem).join("results");
        std::fs::create_dir_all(dir.join(&stem)).unwrap();
        for (i, run) in runs.iter().enumerate() {
            let scenario = run["scenario"].as_str().expect("test_runs[].scenario");
            let mut text = std::fs::read_to_string(root.join(scenario)).unwrap();
            // A backbone the scenario names (`topologies/<name>.toml` beside
            // it) must sit beside the edited copy too.
            let bundled = root.join(scenario).with_file_name("topologies");
            if bundled.is_dir() {
                let to = dir.join(&stem).join("topologies");
                std::fs::create_dir_all(&to).unwrap();
                for f in std::fs::read_dir(&bundled).unwrap() {
                    let f = f.unwrap().path();
                    std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
                }
            }
            for (from, to) in run["replace"].as_object().into_iter().flatten() {
                assert_eq!(text.matches(from.as_str()).count(), 1, "{stem}: {from:?} must occur once in {scenario}");
                text = text.replacen(from.as_str(), to.as_str().unwrap(), 1);
            }
            text.push_str(run["append"].as_str().unwrap_or(""));
            let file = dir.join(&stem).join(format!("run{i}.toml"));
            std::fs::write(&file, text).unwrap();
            run_ok(&file, &results, &["--no-progress"], &[]);
        }
        let o = Command::new(venv.join("bin/python"))
            .arg(root.join("notebooks/run_notebooks.py"))
            .arg("--out")
            .arg(dir.join(&stem).join("executed"))
            .arg(nb)
            .env("CDNSIM_RESULTS", &results)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("python");
        check(&format!("{stem} (executed copy in {})", dir.join(&stem).join("executed").display()), o);
    }
}
