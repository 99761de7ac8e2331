//! The five targets, their seed files, and what each must do with any
//! input: accept it, or refuse it with a message that says where.
//!
//! A target's check returns [`Outcome`] when the parser kept its promise
//! and [`Problem`] when it did not (an error without a place, or a place
//! outside the file; an accepted file a later step cannot use). Panics,
//! hangs and memory are the runner's business (`crate::run_one`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cdnsim_codec::DecodeTable;
use cdnsim_scenario::ScenarioError;

use crate::mutate::Mutator;

/// What the harness fuzzes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// `cdnsim_scenario::parse`: a scenario file without `[sweep]`.
    Scenario,
    /// `cdnsim_scenario::topology::parse_topology`, then the backbone built
    /// from it (as a scenario naming the topology does).
    Topology,
    /// `cdnsim_scenario::sweep::expand` and the runs it plans.
    Sweep,
    /// `cdnsim_codec::DecodeTable::parse_csv`.
    DecodeTable,
    /// `cdnsim_scenario::parse` on the edge-container scenarios (the
    /// `[edge]` section), a corpus of its own so the scenario target's
    /// inputs stay those of its recorded campaign.
    Edge,
}

/// The parser kept its promise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; `points` scenarios were resolved and `runs` planned (a
    /// sweep's points and points x replications, else 1 and 1), which the
    /// time budget scales with.
    Accepted { points: u64, runs: u64 },
    /// Refused, with the message the user would see.
    Refused(String),
}

/// The parser broke its promise without crashing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `"unlocated"` (an error that does not say where, or says a place
    /// outside the file) or `"oracle"` (an accepted input that a later step
    /// refuses or gets wrong).
    pub kind: &'static str,
    pub message: String,
}

fn problem(kind: &'static str, message: impl Into<String>) -> Problem {
    Problem { kind, message: message.into() }
}

/// The repository's `scenarios/` folder: scenario inputs are labelled as
/// files in it, so `topology = "china"` finds the bundled topology.
fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("scenarios")
}

fn scenario_label() -> &'static str {
    static LABEL: OnceLock<String> = OnceLock::new();
    LABEL.get_or_init(|| scenarios_dir().join("fuzz-input.toml").display().to_string())
}

const TOPOLOGY_LABEL: &str = "fuzz-topology.toml";

/// Inputs that are not UTF-8 go through the file-reading entry points
/// (which check the encoding), from this per-process folder.
fn scratch_file(ext: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("cdnsim-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("a scratch folder for non-UTF-8 inputs");
        d
    });
    dir.join(format!("input.{ext}"))
}

/// A bundled file as the seed corpus had it before the files gained their
/// `#:schema` editor directive (the first line and a blank one): a
/// comment the parsers skip, left out so that an input is still the same
/// function of (seed, index) as in the recorded campaign
/// (benches/README.md, "Fuzzing"; tests/regressions.rs pins one).
fn body(text: &'static str) -> &'static str {
    match text.strip_prefix("#:schema ") {
        Some(rest) => rest.split_once("\n\n").map_or(text, |(_, body)| body),
        None => text,
    }
}

/// Each seed `weight` times: a file that names the China topology costs
/// 10-30 ms to resolve (the topology is read and its backbone built), one
/// without about 1 ms, so the cheap ones are listed more often and the
/// campaign's time is spread more evenly over the files.
fn weighted(seeds: &[(&'static str, &str, usize)]) -> Vec<(&'static str, String)> {
    seeds.iter().flat_map(|&(name, text, weight)| std::iter::repeat_n((name, text.to_string()), weight)).collect()
}

/// The bundled files a scenario input starts from, without their `[sweep]`
/// (a scenario file with one is read by the sweep entry point).
fn scenario_seeds() -> Vec<(&'static str, String)> {
    let cut = |t: &'static str| t.split("\n[sweep]").next().unwrap_or(t);
    weighted(&[
        ("quickstart", cut(body(include_str!("../../scenarios/quickstart.toml"))), 3),
        ("backbone_china", cut(body(include_str!("../../scenarios/backbone_china.toml"))), 1),
        ("home_churn", cut(body(include_str!("../../scenarios/home_churn.toml"))), 3),
        ("home_churn_100k", cut(body(include_str!("../../scenarios/home_churn_100k.toml"))), 2),
        ("hot_stream_fountain", cut(body(include_str!("../../scenarios/hot_stream_fountain.toml"))), 3),
        ("scale_1m", cut(body(include_str!("../../scenarios/scale_1m.toml"))), 1),
        ("tree_vs_pool_vs_mesh", cut(body(include_str!("../../scenarios/tree_vs_pool_vs_mesh.toml"))), 1),
    ])
}

/// The bundled edge-container scenarios, without their `[sweep]`.
fn edge_seeds() -> Vec<(&'static str, String)> {
    let cut = |t: &'static str| t.split("\n[sweep]").next().unwrap_or(t);
    weighted(&[
        ("edge_scale_in", cut(include_str!("../../scenarios/edge_scale_in.toml")), 3),
        ("edge_burst_serverless", cut(include_str!("../../scenarios/edge_burst_serverless.toml")), 3),
        ("edge_binpack_vs_spread", cut(include_str!("../../scenarios/edge_binpack_vs_spread.toml")), 3),
        ("edge_cascade", cut(include_str!("../../scenarios/edge_cascade.toml")), 3),
        ("edge_control_plane_outage", cut(include_str!("../../scenarios/edge_control_plane_outage.toml")), 3),
        // 50 regions: ten times the others' text, listed once.
        ("edge_global_500", cut(include_str!("../../scenarios/edge_global_500.toml")), 1),
    ])
}

/// The example sweep of `sim/scenario/src/sweep.rs`'s documentation, for
/// files that have none.
const DOC_SWEEP: &str = "\n[sweep]\nreplications = 3\nseeds = \"common\"\n\"viewers.arrivals_per_s\" = [2.0, 5.0, 10.0]\n\
\"viewers.playout_delay\" = { from = \"1 s\", to = \"3 s\", step = \"1 s\" }\n\"links[3].loss\" = [0.0, 0.01]\n\n\
[[sweep.zip]]\n\"stream.bitrate\" = [\"1 Mbps\", \"2 Mbps\"]\n\"stream.chunk\" = [\"8 KiB\", \"16 KiB\"]\n";

impl Target {
    pub const ALL: [Target; 5] = [Target::Scenario, Target::Topology, Target::Sweep, Target::DecodeTable, Target::Edge];

    pub fn name(self) -> &'static str {
        match self {
            Target::Scenario => "scenario",
            Target::Topology => "topology",
            Target::Sweep => "sweep",
            Target::DecodeTable => "decode-table",
            Target::Edge => "edge",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The file extension of the target's inputs.
    pub fn ext(self) -> &'static str {
        match self {
            Target::DecodeTable => "csv",
            _ => "toml",
        }
    }

    /// The name of the random stream inputs are drawn from.
    pub fn stream(self) -> String {
        format!("fuzz.{}", self.name())
    }

    /// The seed files inputs are mutated from.
    pub fn corpus(self) -> Vec<(&'static str, String)> {
        match self {
            Target::Scenario => scenario_seeds(),
            Target::Edge => edge_seeds(),
            Target::Topology => vec![("china", body(include_str!("../../scenarios/topologies/china.toml")).to_string())],
            Target::Sweep => {
                let quickstart = format!("{}{DOC_SWEEP}", body(include_str!("../../scenarios/quickstart.toml")));
                let mut seeds = weighted(&[
                    ("hot_stream_fountain", body(include_str!("../../scenarios/hot_stream_fountain.toml")), 3),
                    ("tree_vs_pool_vs_mesh", body(include_str!("../../scenarios/tree_vs_pool_vs_mesh.toml")), 1),
                ]);
                seeds.extend(std::iter::repeat_n(("quickstart+doc_sweep", quickstart), 3));
                seeds
            }
            Target::DecodeTable => vec![("decode_model", include_str!("../../data/decode_model.csv").to_string())],
        }
    }

    /// The input generator over [`Target::corpus`].
    pub fn mutator(self) -> Mutator {
        Mutator::new(&self.corpus(), self == Target::Sweep)
    }

    /// Input `index` of a campaign seeded `seed`.
    pub fn input(self, mutator: &Mutator, seed: u64, index: u64) -> Vec<u8> {
        mutator.input(&self.stream(), seed, index)
    }

    /// Runs the parser on `input` and checks what came back. May panic
    /// (the caller catches it).
    pub fn check(self, input: &[u8]) -> Result<Outcome, Problem> {
        let text = std::str::from_utf8(input).ok();
        match self {
            Target::Scenario | Target::Topology | Target::Sweep | Target::Edge => {
                let (label, result) = match text {
                    Some(t) => {
                        let label = if self == Target::Topology { TOPOLOGY_LABEL } else { scenario_label() };
                        (label.to_string(), self.run_toml_text(label, t))
                    }
                    None => {
                        let path = scratch_file("toml");
                        std::fs::write(&path, input).expect("the scratch file is writable");
                        (path.display().to_string(), self.run_toml_file(&path))
                    }
                };
                match result {
                    Ok(Ok((points, runs))) => Ok(Outcome::Accepted { points, runs }),
                    Ok(Err(p)) => Err(p),
                    Err(e) => scenario_error_located(&e, &label, &String::from_utf8_lossy(input)).map(Outcome::Refused),
                }
            }
            Target::DecodeTable => {
                let (path, result) = match text {
                    Some(t) => (None, DecodeTable::parse_csv(t)),
                    None => {
                        let path = scratch_file("csv");
                        std::fs::write(&path, input).expect("the scratch file is writable");
                        let r = DecodeTable::read_file(&path);
                        (Some(path.display().to_string()), r)
                    }
                };
                match result {
                    Ok(table) => decode_table_oracle(&table).map(|()| Outcome::Accepted { points: 1, runs: 1 }),
                    Err(e) => {
                        let lossy = String::from_utf8_lossy(input);
                        let lines = lossy.lines().count();
                        let whole_file = e.message.starts_with("no header") || e.message == "the table has no rows";
                        if e.path != path {
                            return Err(problem("unlocated", format!("the error names file {:?}, expected {path:?}: {e}", e.path)));
                        }
                        if e.line > lines || (e.line == 0 && !whole_file) {
                            return Err(problem("unlocated", format!("line {} of a {lines}-line file: {e}", e.line)));
                        }
                        Ok(Outcome::Refused(e.to_string()))
                    }
                }
            }
        }
    }

    /// `Ok(Ok((points resolved, runs planned)))`, or `Ok(Err(problem))` when the parser
    /// accepted something a later step cannot use.
    fn run_toml_text(self, label: &str, text: &str) -> Result<Result<(u64, u64), Problem>, ScenarioError> {
        match self {
            Target::Scenario | Target::Edge => cdnsim_scenario::parse(label, text).map(|s| scenario_oracle(&s)),
            Target::Topology => cdnsim_scenario::topology::parse_topology(label, text).map(|t| topology_oracle(&t)),
            Target::Sweep => cdnsim_scenario::sweep::expand(label, text, None).map(|s| sweep_oracle(&s)),
            Target::DecodeTable => unreachable!("not a TOML target"),
        }
    }

    fn run_toml_file(self, path: &Path) -> Result<Result<(u64, u64), Problem>, ScenarioError> {
        match self {
            Target::Scenario | Target::Edge => cdnsim_scenario::load(path).map(|s| scenario_oracle(&s)),
            Target::Topology => cdnsim_scenario::topology::load_topology(path).map(|t| topology_oracle(&t)),
            Target::Sweep => cdnsim_scenario::sweep::load(path, None).map(|s| sweep_oracle(&s)),
            Target::DecodeTable => unreachable!("not a TOML target"),
        }
    }
}

/// A refusal must say `file:line:col: field: message`, at a place inside
/// the file when it is the input's own.
pub fn scenario_error_located(e: &ScenarioError, label: &str, text: &str) -> Result<String, Problem> {
    let shown = e.to_string();
    let ScenarioError::Invalid { file, line, col, field, message } = e else {
        return Err(problem("unlocated", format!("an error without line and column: {shown}")));
    };
    if !shown.starts_with(&format!("{file}:{line}:{col}: ")) || *line == 0 || *col == 0 {
        return Err(problem("unlocated", format!("expected file:line:col (1-based) first: {shown}")));
    }
    if field.is_empty() || message.is_empty() {
        return Err(problem("unlocated", format!("expected a field and a message: {shown}")));
    }
    if file == label {
        let lines: Vec<&str> = text.split('\n').collect();
        let Some(l) = lines.get(line - 1) else {
            return Err(problem("unlocated", format!("line {line} of a {}-line file: {shown}", lines.len())));
        };
        let cols = l.chars().count() + 1;
        if *col > cols {
            return Err(problem("unlocated", format!("column {col} of a {cols}-column line: {shown}")));
        }
    }
    Ok(shown)
}

/// A resolved scenario gets a run id (the whole model serialised).
fn scenario_oracle(s: &cdnsim_scenario::Scenario) -> Result<(u64, u64), Problem> {
    let id = cdnsim_scenario::run_id(s, 0);
    match id.len() == 16 {
        true => Ok((1, 1)),
        false => Err(problem("oracle", format!("run id {id:?} is not 16 hex digits"))),
    }
}

/// A resolved topology builds its backbone: the scenario loader does the
/// same, and its error there would point at `[network] topology`, not at
/// the line of the topology file that is wrong.
fn topology_oracle(t: &cdnsim_scenario::topology::TopologyData) -> Result<(u64, u64), Problem> {
    cdnsim_net::backbone::Backbone::new(t.backbone_input())
        .map(|_| (1, 1))
        .map_err(|e| problem("oracle", format!("a resolved topology does not build a backbone: {e}")))
}

/// An expanded sweep has points, each naming a value of every parameter.
/// (`expand` itself plans the runs and refuses two with one id.)
fn sweep_oracle(s: &cdnsim_scenario::sweep::Sweep) -> Result<(u64, u64), Problem> {
    if s.points.is_empty() || s.replications == 0 {
        return Err(problem("oracle", format!("{} points x {} replications", s.points.len(), s.replications)));
    }
    for (i, p) in s.points.iter().enumerate() {
        let ok = p.value_index.len() == s.params.len() && p.value_index.iter().zip(&s.params).all(|(&v, par)| v < par.values.len());
        if !ok {
            return Err(problem("oracle", format!("point {i} indexes values {:?} of {} parameters", p.value_index, s.params.len())));
        }
    }
    s.describe(s.points.len() - 1);
    Ok((s.points.len() as u64, s.points.len() as u64 * s.replications))
}

/// An accepted table writes back to itself, and every lookup is a
/// probability.
fn decode_table_oracle(t: &DecodeTable) -> Result<(), Problem> {
    let again = DecodeTable::parse_csv(&t.to_csv(&["fuzz".into()]))
        .map_err(|e| problem("oracle", format!("the table's own CSV does not read back: {e}")))?;
    if &again != t {
        return Err(problem("oracle", "the table's CSV reads back as another table"));
    }
    for &k in t.ks().iter().take(8) {
        for k in [k.saturating_sub(1), k, k.saturating_add(1)] {
            for extra in [0u32, 1, 2, 5, 300, u32::MAX - k as u32] {
                let p = t.fail_probability(k, k as u32 + extra);
                if !(0.0..=1.0).contains(&p) {
                    return Err(problem("oracle", format!("P(fail | k = {k}, extra = {extra}) = {p}")));
                }
            }
        }
    }
    Ok(())
}
