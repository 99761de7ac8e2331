//! `cdnsim bench FILE`: regression benches of the model. A bench file lists
//! scenarios, each with overrides that shrink it for CI, and gates; the
//! command runs them and compares each with the same entry of a baseline
//! folder (`cdnsim compare` per entry).
//!
//! ```toml
//! [gates]                                  # for every entry
//! stall_ratio = "0.5%"                     # relative to the base mean
//!
//! [[scenario]]
//! name = "tree"                            # results in OUT/tree/ (default: file stem)
//! file = "../scenarios/quickstart.toml"    # relative to the bench file
//! replications = 8                         # sets the file's [sweep] replications
//! seeds = "common"                         # optional; "common" pairs runs
//! overrides = { "run.duration" = "30 s" }  # dotted keys, as in [sweep]
//! gates = { amplification = "2%" }         # this entry's, beside [gates]
//! ```
//!
//! Overrides go into the scenario's `[sweep]` as one-value keys (added to
//! the file's own sweep, or a new `[sweep]`), so the normal resolver checks
//! them and the results record them as parameters. The scenario actually
//! run is written as `OUT/<name>/scenario.toml`; an error in it is reported
//! at the bench file's override when an override caused it, else at the
//! scenario file's own line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cdnsim_metrics::compare::{Gate, Threshold};
use cdnsim_scenario::ScenarioError;
use cdnsim_scenario::error::{deserialize_located, line_col};
use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::failure::Failure;
use crate::commands::RunOptions;

macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Bounds: entries per bench file and overrides per entry.
const MAX_ENTRIES: usize = 100;
const MAX_OVERRIDES: usize = 100;

/// Options of `cdnsim bench` beyond the file.
#[derive(clap::Args, Debug)]
pub struct BenchOptions {
    /// Baseline folder (the OUT of an earlier `cdnsim bench` of the same
    /// file, or a saved baseline): compare each entry with it, apply gates.
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Where the bench's results go, one folder per entry; an entry's
    /// folder must not exist yet (results of another code version would
    /// otherwise be reused as complete runs).
    #[arg(long, value_name = "DIR", default_value = "bench-results")]
    pub out: PathBuf,
    /// Afterwards, make DIR the baseline: the runs' summaries, manifests
    /// and sweep.json only (no per-viewer files, no charts). Replaces a
    /// previous baseline there.
    #[arg(long, value_name = "DIR")]
    pub save_baseline: Option<PathBuf>,
    /// Runs at once (default: all cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Print every metric of the comparisons, also identical ones.
    #[arg(long)]
    pub all: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBench {
    #[serde(default)]
    gates: BTreeMap<String, Spanned<RawThreshold>>,
    scenario: Spanned<Vec<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: Option<Spanned<String>>,
    file: Spanned<String>,
    replications: Option<Spanned<u64>>,
    seeds: Option<Spanned<String>>,
    #[serde(default)]
    overrides: BTreeMap<String, Spanned<IgnoredAny>>,
    #[serde(default)]
    gates: BTreeMap<String, Spanned<RawThreshold>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawThreshold {
    Text(String),
    Number(f64),
}

/// One entry, checked: what to run and how to judge it.
struct Entry {
    name: String,
    /// The scenario file's folder: bundled topologies are looked up in its
    /// `topologies/`, which is copied beside the scenario as run.
    scenario_dir: PathBuf,
    /// The scenario as run (the file with the overrides written in).
    text: String,
    gates: Vec<Gate>,
}

/// A bench file's error at a byte offset.
struct Located<'a> {
    file: &'a str,
    text: &'a str,
}

impl Located<'_> {
    fn err(&self, at: usize, field: impl Into<String>, message: impl Into<String>) -> Failure {
        let (line, col) = line_col(self.text, at);
        Failure::BadInput(format!("{}:{line}:{col}: {}: {}", self.file, field.into(), message.into()))
    }
}

/// Where an inserted or rewritten line of the generated scenario came from.
struct Origin {
    /// 1-based line in the generated text.
    line: usize,
    at: usize,
    field: String,
    /// A line of its own (else a value rewritten in a line of the file).
    inserted: bool,
}

fn gates_of(src: &Located, table: &BTreeMap<String, Spanned<RawThreshold>>, prefix: &str) -> Result<Vec<Gate>, Failure> {
    let mut out = Vec::new();
    for (metric, v) in table {
        let field = format!("{prefix}.{metric}");
        let threshold = match v.get_ref() {
            RawThreshold::Text(s) => Threshold::parse(s),
            RawThreshold::Number(x) if x.is_finite() && *x >= 0.0 => Ok(Threshold::Absolute(*x)),
            RawThreshold::Number(x) => Err(format!("expected a threshold of zero or more, found {x}")),
        }
        .map_err(|m| src.err(v.span().start, &field, m))?;
        out.push(Gate::new(metric, threshold).map_err(|m| src.err(v.span().start, &field, m))?);
    }
    Ok(out)
}

/// The scenario text with the entry's sweep settings written in, and the
/// origin of every line that differs from the file.
fn patch(src: &Located, scenario_file: &str, text: &str, e: &RawEntry, idx: usize) -> Result<(String, Vec<Origin>), Failure> {
    let field = |k: &str| format!("scenario[{idx}].{k}");
    // (bench offset, field, the line to insert or the value to write)
    let mut lines: Vec<(usize, String, String)> = Vec::new();
    if let Some(r) = &e.replications {
        lines.push((r.span().start, field("replications"), format!("replications = {}", r.get_ref())));
    }
    if let Some(s) = &e.seeds {
        if !matches!(s.get_ref().as_str(), "common" | "independent") {
            return Err(src.err(s.span().start, field("seeds"), format!("expected \"common\" or \"independent\", found {:?}", s.get_ref())));
        }
        lines.push((s.span().start, field("seeds"), format!("seeds = {:?}", s.get_ref())));
    }
    if e.overrides.len() > MAX_OVERRIDES {
        return Err(src.err(e.file.span().start, field("overrides"), format!("expected at most {MAX_OVERRIDES} overrides")));
    }
    for (key, v) in &e.overrides {
        if !(key.contains('.') || key.contains('[')) {
            return Err(src.err(
                v.span().start,
                field(&format!("overrides.\"{key}\"")),
                "expected a quoted dotted key naming a field, such as \"run.duration\"",
            ));
        }
        lines.push((v.span().start, field(&format!("overrides.\"{key}\"")), format!("{key:?} = [{}]", &src.text[v.span()])));
    }

    let doc = DeTable::parse(text).map_err(|_| {
        // The scenario itself does not parse: let the resolver say where.
        match cdnsim_scenario::parse(scenario_file, text) {
            Err(err) => Failure::BadInput(err.to_string()),
            Ok(_) => Failure::BadInput(format!("{scenario_file}: not valid TOML")),
        }
    })?;
    let sweep = doc.get_ref().iter().find(|(k, _)| k.get_ref() == "sweep");
    let mut out = text.to_string();
    let mut origins = Vec::new();
    match sweep {
        None => {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("\n[sweep]\n");
            for (at, f, l) in lines {
                out.push_str(&l);
                out.push('\n');
                origins.push(Origin { line: out.matches('\n').count(), at, field: f, inserted: true });
            }
        }
        Some((key, v)) => {
            let DeValue::Table(t) = v.get_ref() else {
                return Err(Failure::BadInput(format!("{scenario_file}: `sweep` is not a table")));
            };
            if !text[..key.span().start].trim_end().ends_with('[') {
                let (l, c) = line_col(text, key.span().start);
                return Err(Failure::BadInput(format!(
                    "{scenario_file}:{l}:{c}: sweep: a bench entry adds to the file's sweep only when it is written as a [sweep] table"
                )));
            }
            // Keys the file sets itself: replications and seeds are
            // replaced in place, a swept field may not be overridden.
            let mut replace: Vec<(std::ops::Range<usize>, usize, String, String)> = Vec::new();
            let mut insert = Vec::new();
            for (at, f, l) in lines {
                let name = l.split(" = ").next().expect("a key").to_string();
                let own = t.iter().find(|(k, _)| format!("{:?}", k.get_ref().as_ref()) == name || k.get_ref().as_ref() == name);
                match own {
                    Some((_, val)) if name == "replications" || name == "seeds" => {
                        replace.push((val.span(), at, f, l[name.len() + 3..].to_string()));
                    }
                    Some((k, _)) => {
                        let (ln, c) = line_col(text, k.span().start);
                        return Err(src.err(at, f, format!("{scenario_file}:{ln}:{c} sweeps this field already; override another or drop it")));
                    }
                    None => insert.push((at, f, l)),
                }
            }
            // Replacements from the back keep earlier offsets valid.
            replace.sort_by_key(|r| std::cmp::Reverse(r.0.start));
            for (span, at, f, value) in replace {
                out.replace_range(span.clone(), &value);
                origins.push(Origin { line: line_col(text, span.start).0, at, field: f, inserted: false });
            }
            let header_end = out[key.span().end..].find('\n').map_or(out.len(), |i| key.span().end + i + 1);
            let first_line = line_col(&out, header_end).0;
            let block: String = insert.iter().map(|(_, _, l)| format!("{l}\n")).collect();
            let n = insert.len();
            for o in &mut origins {
                if o.line >= first_line {
                    o.line += n;
                }
            }
            for (i, (at, f, _)) in insert.into_iter().enumerate() {
                origins.push(Origin { line: first_line + i, at, field: f, inserted: true });
            }
            out.insert_str(header_end, &block);
        }
    }
    Ok((out, origins))
}

/// Maps an error in the generated scenario back to where it was written:
/// the bench file's override, or the scenario file's own line.
fn relocate(e: ScenarioError, src: &Located, scenario_file: &str, origins: &[Origin]) -> Failure {
    match e {
        ScenarioError::Invalid { line, col, field, message, .. } => {
            if let Some(o) = origins.iter().find(|o| o.line == line) {
                return src.err(o.at, &o.field, format!("{field}: {message}"));
            }
            // Lines of the file keep their text; inserted lines above move them.
            let shift = origins.iter().filter(|o| o.inserted && o.line < line).count();
            Failure::BadInput(format!("{scenario_file}:{}:{col}: {field}: {message}", line.saturating_sub(shift)))
        }
        other => Failure::BadInput(other.to_string()),
    }
}

/// Reads and checks a bench file and every scenario it names.
fn load(file: &Path) -> Result<Vec<Entry>, Failure> {
    let (label, text) = cdnsim_scenario::error::read_text(file).map_err(|e| Failure::BadInput(e.to_string()))?;
    let raw: RawBench = deserialize_located(&label, &text).map_err(|e| Failure::BadInput(e.to_string()))?;
    let src = Located { file: &label, text: &text };
    let common = gates_of(&src, &raw.gates, "gates")?;
    if raw.scenario.get_ref().is_empty() || raw.scenario.get_ref().len() > MAX_ENTRIES {
        return Err(src.err(raw.scenario.span().start, "scenario", format!("expected 1 to {MAX_ENTRIES} [[scenario]] entries")));
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut entries: Vec<Entry> = Vec::new();
    for (i, e) in raw.scenario.get_ref().iter().enumerate() {
        let path = dir.join(e.file.get_ref());
        let (scenario_file, scenario_text) =
            cdnsim_scenario::error::read_text(&path).map_err(|err| src.err(e.file.span().start, format!("scenario[{i}].file"), err.to_string()))?;
        let name = match &e.name {
            Some(n) => n.get_ref().clone(),
            None => path.file_stem().map_or("scenario".into(), |s| s.to_string_lossy().to_string()),
        };
        let at = e.name.as_ref().map_or(e.file.span().start, |n| n.span().start);
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) || name.starts_with('.') {
            return Err(src.err(at, format!("scenario[{i}].name"), format!("expected a folder name (letters, digits, . _ -), found {name:?}")));
        }
        if entries.iter().any(|x| x.name == name) {
            return Err(src.err(at, format!("scenario[{i}].name"), format!("expected names that differ, found {name:?} twice (set `name`)")));
        }
        let (patched, origins) = patch(&src, &scenario_file, &scenario_text, e, i)?;
        cdnsim_scenario::sweep::expand(&scenario_file, &patched, None).map_err(|err| relocate(err, &src, &scenario_file, &origins))?;
        let mut gates = common.clone();
        for g in gates_of(&src, &e.gates, &format!("scenario[{i}].gates"))? {
            gates.retain(|x| x.metric != g.metric);
            gates.push(g);
        }
        entries.push(Entry { name, scenario_dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(), text: patched, gates });
    }
    Ok(entries)
}

/// `[network] topology = "NAME"` reads `topologies/NAME.toml` beside the
/// scenario file: the scenario as run gets a copy of that folder.
fn copy_topologies(from: &Path, to: &Path) -> Result<(), Failure> {
    let src = from.join("topologies");
    if !src.is_dir() {
        return Ok(());
    }
    let io = |p: &Path, e: std::io::Error| Failure::Internal(format!("{}: {e}", p.display()));
    let dest = to.join("topologies");
    std::fs::create_dir_all(&dest).map_err(|e| io(&dest, e))?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&src).map_err(|e| io(&src, e))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for f in files.iter().filter(|f| f.extension().is_some_and(|x| x == "toml")) {
        std::fs::copy(f, dest.join(f.file_name().expect("a file"))).map_err(|e| io(f, e))?;
    }
    Ok(())
}

/// The one scenario folder `cdnsim run` made under `dir`.
fn scenario_dir(dir: &Path) -> Result<PathBuf, Failure> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Failure::BadInput(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("sweep.json").is_file())
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(Failure::BadInput(format!("{}: expected one scenario folder (with sweep.json), found {n}", dir.display()))),
    }
}

/// Copies what `compare` reads (sweep.json, and each complete run's
/// manifest.json and summary.parquet) from `from` to `to`.
fn copy_minimal(from: &Path, to: &Path) -> Result<(), Failure> {
    let io = |p: &Path, e: std::io::Error| Failure::Internal(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    std::fs::copy(from.join("sweep.json"), to.join("sweep.json")).map_err(|e| io(&from.join("sweep.json"), e))?;
    let mut runs: Vec<PathBuf> =
        std::fs::read_dir(from).map_err(|e| io(from, e))?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("manifest.json").is_file()).collect();
    runs.sort();
    for r in runs {
        let dest = to.join(r.file_name().expect("a run folder"));
        std::fs::create_dir_all(&dest).map_err(|e| io(&dest, e))?;
        std::fs::copy(r.join("summary.parquet"), dest.join("summary.parquet")).map_err(|e| io(&r.join("summary.parquet"), e))?;
        // The manifest's identity only: the resolved scenario in it is most
        // of a baseline's bytes, and scenario.toml beside says the same.
        let path = r.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        let full: serde_json::Value = serde_json::from_str(&text).map_err(|e| Failure::Internal(format!("{}: {e}", path.display())))?;
        let keep: serde_json::Map<String, serde_json::Value> =
            ["run_id", "seed", "replication", "cdnsim_version", "git_commit"].iter().filter_map(|k| full.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
        let trimmed = serde_json::to_string_pretty(&serde_json::Value::Object(keep)).expect("json") + "\n";
        std::fs::write(dest.join("manifest.json"), trimmed).map_err(|e| io(&dest, e))?;
    }
    Ok(())
}

const BASELINE_NOTE: &str = "This folder is a baseline written by `cdnsim bench FILE --save-baseline DIR`:\n\
per bench entry, the scenario as run, sweep.json, and each run's summary.parquet\n\
and manifest.json (its identity fields only): what `cdnsim compare` reads. Do not\n\
edit it by hand; write it again with the same command.\n";

fn save_baseline(file: &Path, out: &Path, entries: &[Entry], to: &Path) -> Result<(), Failure> {
    if to.exists() && !to.join("BASELINE.md").is_file() {
        return Err(Failure::BadInput(format!(
            "--save-baseline {}: the folder exists and is not a baseline (no BASELINE.md); refusing to replace it",
            to.display()
        )));
    }
    let tmp = to.with_file_name(format!(".tmp-baseline-{}", std::process::id()));
    let io = |p: &Path, e: std::io::Error| Failure::Internal(format!("{}: {e}", p.display()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    }
    for e in entries {
        let run_dir = scenario_dir(&out.join(&e.name))?;
        let dest = tmp.join(&e.name);
        copy_minimal(&run_dir, &dest.join(run_dir.file_name().expect("a folder")))?;
        std::fs::write(dest.join("scenario.toml"), &e.text).map_err(|err| io(&dest, err))?;
    }
    std::fs::write(tmp.join("BASELINE.md"), format!("{BASELINE_NOTE}\nBench file: {}\n", file.display())).map_err(|e| io(&tmp, e))?;
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(|e| io(to, e))?;
    }
    std::fs::rename(&tmp, to).map_err(|e| io(to, e))?;
    say!("baseline saved: {}", to.display());
    Ok(())
}

pub fn run(file: &Path, opts: &BenchOptions) -> Result<(), Failure> {
    let entries = load(file)?;
    if let Some(b) = &opts.baseline {
        for e in &entries {
            if !b.join(&e.name).is_dir() {
                return Err(Failure::BadInput(format!(
                    "--baseline {}: no entry {:?} ({} is missing); write the baseline with `cdnsim bench {} --save-baseline {}`",
                    b.display(),
                    e.name,
                    b.join(&e.name).display(),
                    file.display(),
                    b.display()
                )));
            }
        }
    }
    for e in &entries {
        let d = opts.out.join(&e.name);
        if d.exists() {
            return Err(Failure::BadInput(format!(
                "--out {}: {} exists; a bench writes fresh results (runs there could be of another code version); \
                 remove it or pick another --out",
                opts.out.display(),
                d.display()
            )));
        }
    }

    let mut failed_gates = Vec::new();
    for e in &entries {
        let dir = opts.out.join(&e.name);
        std::fs::create_dir_all(&dir).map_err(|err| Failure::Internal(format!("{}: {err}", dir.display())))?;
        let scenario = dir.join("scenario.toml");
        std::fs::write(&scenario, &e.text).map_err(|err| Failure::Internal(format!("{}: {err}", scenario.display())))?;
        copy_topologies(&e.scenario_dir, &dir)?;
        say!("== bench {}: {}", e.name, scenario.display());
        let run_opts =
            RunOptions { jobs: opts.jobs, shard: None, shard_count: None, run_ids: vec![], no_progress: true, log_format: crate::runner::LogFormat::Text };
        crate::commands::run(&scenario, &dir, None, &run_opts)?;
        if let Some(b) = &opts.baseline {
            let new = scenario_dir(&dir)?;
            let base = scenario_dir(&b.join(&e.name))?;
            let c = crate::compare::compare_dirs(&base, &new, false)?;
            let failed = crate::compare::check_gates(&c, &e.gates)?;
            crate::compare::print(&c, opts.all);
            crate::compare::write(&c, &dir.join("compare"), &e.gates)?;
            for f in &failed {
                say!("{}", f.message);
            }
            if failed.is_empty() && !e.gates.is_empty() {
                say!("gates passed for {}", e.name);
            }
            failed_gates.extend(failed.into_iter().map(|f| format!("{}: {} at point {}", e.name, f.metric, f.point + 1)));
        }
    }
    if let Some(to) = &opts.save_baseline {
        save_baseline(file, &opts.out, &entries, to)?;
    }
    if failed_gates.is_empty() { Ok(()) } else { Err(Failure::GateFailed(format!("{} gate check(s) failed: {}", failed_gates.len(), failed_gates.join("; ")))) }
}
