//! The committed JSON Schemas are what `cdnsim schema` prints, and every
//! bundled file points its editor at its schema (a taplo `#:schema` header
//! directive). The schema's agreement with the parser is tested beside
//! the generator (sim/scenario/src/schema.rs) and, with a real JSON Schema
//! validator, in python/tests/test_schema.py.

use std::path::Path;

use crate::common::cdnsim;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn committed_schemas_are_what_cdnsim_schema_prints() {
    for (args, file) in [(&["schema"][..], "scenarios/scenario.schema.json"), (&["schema", "--topology"][..], "scenarios/topologies/topology.schema.json")] {
        let o = cdnsim(args, &[]);
        assert!(o.status.success(), "cdnsim {}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
        let committed = std::fs::read(Path::new(ROOT).join(file)).unwrap_or_default();
        assert!(
            o.stdout == committed,
            "{file} is not what `cdnsim {}` prints (the scenario format changed?); regenerate it with\n  cargo run --release -- {} > {file}",
            args.join(" "),
            args.join(" ")
        );
    }
}

#[test]
fn every_bundled_file_names_its_schema() {
    for (dir, directive) in [("scenarios", "#:schema ./scenario.schema.json"), ("scenarios/topologies", "#:schema ./topology.schema.json")] {
        let mut files: Vec<_> = std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "toml")).collect();
        files.sort();
        assert!(!files.is_empty(), "{dir}: no TOML files");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            // taplo reads a header directive only before any key or table.
            assert_eq!(text.lines().next(), Some(directive), "{}: its first line should be {directive:?}", f.display());
        }
    }
}
