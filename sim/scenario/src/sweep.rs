//! Sweeps: one scenario file, many runs.
//!
//! A `[sweep]` table names fields of the file by quoted dotted keys and the
//! values each takes; the runs are the cross product of those lists (keys in
//! a `[[sweep.zip]]` group move together instead), times `replications`:
//!
//! ```toml
//! [sweep]
//! replications = 3
//! seeds = "common"                       # or "independent"
//! "viewers.arrivals_per_s" = [2.0, 5.0, 10.0]
//! "viewers.playout_delay" = { from = "1 s", to = "3 s", step = "1 s" }
//! "links[3].loss" = [0.0, 0.01]
//!
//! [[sweep.zip]]
//! "stream.bitrate" = ["1 Mbps", "2 Mbps"]
//! "stream.chunk" = ["8 KiB", "16 KiB"]
//! ```
//!
//! Expansion works on the text, before resolution: the sweep's lines are
//! blanked (so every other byte keeps its position), and at each point the
//! swept value is written over the file's value, or added to its table when
//! the file leaves the field out. The normal parser and resolver then check
//! the point, so a wrong swept value, or a key that names no field, fails
//! with the usual message; its position is mapped back to the sweep entry
//! that put it there.
//!
//! Seeds: with `seeds = "common"` (the default) replication k has the same
//! seed at every point (common random numbers: comparisons between points
//! are paired); replication 0 keeps the file's seed, so a one-point "sweep"
//! and a file without `[sweep]` are the same run. With `"independent"` each
//! (point, replication) gets its own seed, derived from the point's
//! resolved parameters. A run id is a stable hash of the resolved scenario
//! (seed included), the replication and the swept values, so it does not
//! depend on run order, shard count or thread count.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{ScenarioError, line_col};
use crate::model::Scenario;
use crate::ctx::Ctx;

/// Bounds on one sweep: points (value combinations) and runs (points x
/// replications). A sweep beyond them is refused where it is written.
pub const MAX_SWEEP_POINTS: usize = 100_000;
pub const MAX_SWEEP_RUNS: usize = 100_000;
/// Bound on the size of a sweep's planned runs, all in memory at once
/// before the first starts, measured as their scenarios' JSON (which each
/// run id hashes): 100,000 runs of a large scenario would otherwise take
/// tens of GB and an hour to plan. Checked after the first point (its size
/// times the runs) and again as the points resolve.
pub const MAX_SWEEP_BYTES: u64 = 256 << 20;

/// `seeds = ...` of `[sweep]`: the names of the [`SeedPolicy`] variants.
pub(crate) const SEED_NAMES: &[&str] = &["common", "independent"];

/// How replications get their seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedPolicy {
    /// Replication k uses one seed at every point (paired comparisons).
    Common,
    /// Every (point, replication) has its own seed.
    Independent,
}

/// One swept parameter: a summary column and a chart axis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Param {
    /// The dotted key as written, e.g. `viewers.arrivals_per_s`.
    pub key: String,
    /// The unit every value is written in (`"ms"` for `"50 ms"`), if any.
    pub unit: Option<String>,
    /// Every value is a number (in `unit`): a numeric axis, not categories.
    pub numeric: bool,
    /// The values' labels, in sweep order.
    pub values: Vec<String>,
}

/// The value of a swept parameter at one point, as its summary column holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    Number(f64),
    Text(String),
}

/// One combination of swept values, resolved (with the file's seed).
#[derive(Clone, Debug)]
pub struct Point {
    /// For each parameter (order of [`Sweep::params`]), the index of its value.
    pub value_index: Vec<usize>,
    pub scenario: Scenario,
}

/// A file expanded: its parameters and its resolved points.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub file: String,
    pub params: Vec<Param>,
    pub replications: u64,
    pub seeds: SeedPolicy,
    pub base_seed: u64,
    pub points: Vec<Point>,
}

/// One run of a sweep: what to simulate and under which identity.
#[derive(Clone, Debug)]
pub struct PlannedRun {
    pub point: usize,
    pub replication: u64,
    pub seed: u64,
    pub run_id: String,
    /// The point's scenario with `seed` set.
    pub scenario: Scenario,
    /// (parameter key, value) for the summary's extra columns.
    pub columns: Vec<(String, ParamValue)>,
}

impl Sweep {
    /// Every run, point by point (the first parameter varies slowest),
    /// replications innermost.
    pub fn runs(&self) -> Vec<PlannedRun> {
        let mut runs = Vec::with_capacity(self.points.len() * self.replications as usize);
        for (p, point) in self.points.iter().enumerate() {
            let columns = self.columns(point);
            for k in 0..self.replications {
                let seed = match self.seeds {
                    SeedPolicy::Common => common_seed(self.base_seed, k),
                    SeedPolicy::Independent => independent_seed(self.base_seed, &point.scenario, &columns, k),
                };
                let mut scenario = point.scenario.clone();
                scenario.seed = seed;
                let run_id = sweep_run_id(&scenario, k, &columns);
                runs.push(PlannedRun { point: p, replication: k, seed, run_id, scenario, columns: columns.clone() });
            }
        }
        runs
    }

    /// `key = label` for every parameter of a point, for messages.
    pub fn describe(&self, point: usize) -> String {
        let p = &self.points[point];
        self.params.iter().zip(&p.value_index).map(|(par, &i)| format!("{} = {}", par.key, par.values[i])).collect::<Vec<_>>().join(", ")
    }

    fn columns(&self, point: &Point) -> Vec<(String, ParamValue)> {
        self.params
            .iter()
            .zip(&point.value_index)
            .map(|(par, &i)| {
                let label = &par.values[i];
                let v = match par.numeric {
                    true => ParamValue::Number(split_number(label).expect("numeric labels parse").0),
                    false => ParamValue::Text(label.clone()),
                };
                (par.key.clone(), v)
            })
            .collect()
    }
}

/// Seed of replication `k` under common random numbers: the file's seed for
/// replication 0, a stable derivation from it for the others.
pub fn common_seed(base_seed: u64, k: u64) -> u64 {
    if k == 0 { base_seed } else { cdnsim_engine::stream_seed(base_seed, &format!("sweep.replication.{k}")) }
}

fn independent_seed(base_seed: u64, sc: &Scenario, columns: &[(String, ParamValue)], k: u64) -> u64 {
    let point = sweep_run_id(sc, u64::MAX, columns);
    cdnsim_engine::stream_seed(base_seed, &format!("sweep.point.{point}.replication.{k}"))
}

/// The run id: [`crate::run_id`] when nothing is swept (so a file without
/// `[sweep]` keeps its ids), else the same hash over the swept values too,
/// so a run folder's summary (which holds them) is a function of its id.
fn sweep_run_id(sc: &Scenario, replication: u64, columns: &[(String, ParamValue)]) -> String {
    if columns.is_empty() {
        return crate::run_id(sc, replication);
    }
    let mut text = serde_json::to_string(sc).expect("a resolved scenario serialises");
    text.push_str(&format!("#replication={replication}"));
    for (key, v) in columns {
        match v {
            ParamValue::Number(x) => text.push_str(&format!("#{key}={x:?}")),
            ParamValue::Text(s) => text.push_str(&format!("#{key}={s:?}")),
        }
    }
    format!("{:016x}", cdnsim_engine::stable_hash64(text.as_bytes()))
}

/// The JSON Schema of `[sweep]` (draft-07, refs into `#/definitions`),
/// for `crate::schema`: written here, beside the parser it describes,
/// from the same bounds and names. A swept key is any key with a `.` or
/// a `[` (the parser then checks it names a field); in a zip group any
/// key is one. Its values: a non-empty list, or a range of exactly
/// `from`, `to`, `step` (numbers, or strings with a unit).
pub(crate) fn schema() -> (serde_json::Value, serde_json::Value) {
    use serde_json::json;
    let values = json!({
        "description": "The values a swept field takes: a list, or a range { from, to, step } of numbers or of strings with one unit (\"10 ms\").",
        "anyOf": [
            { "type": "array", "minItems": 1, "maxItems": MAX_SWEEP_POINTS },
            {
                "type": "object",
                "properties": {
                    "from": { "type": ["number", "string"] },
                    "to": { "type": ["number", "string"] },
                    "step": { "type": ["number", "string"] }
                },
                "required": ["from", "to", "step"],
                "additionalProperties": false
            }
        ]
    });
    let sweep = json!({
        "description": "Many runs from one file: quoted dotted keys (\"viewers.arrivals_per_s\", \"links[3].loss\") name fields and the values they take; keys cross, keys of one [[sweep.zip]] group vary together; every point runs `replications` times.",
        "type": "object",
        "properties": {
            "replications": {
                "description": format!("Runs of every point, 1 to {MAX_SWEEP_RUNS} (default 1)."),
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_SWEEP_RUNS
            },
            "seeds": {
                "description": "\"common\": replication k has one seed at every point (paired comparisons; the default); \"independent\": every (point, replication) its own.",
                "type": "string",
                "enum": SEED_NAMES
            },
            "zip": {
                "description": "Groups of keys that vary together (as many values each).",
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": { "$ref": "#/definitions/SweptValues" }
                }
            }
        },
        "patternProperties": { "[.\\[]": { "$ref": "#/definitions/SweptValues" } },
        "additionalProperties": false
    });
    (sweep, values)
}

/// Reads a scenario file and expands its sweep (a file without `[sweep]`
/// is one point). `seed` overrides the file's `run.seed`.
pub fn load(path: &std::path::Path, seed: Option<u64>) -> Result<Sweep, ScenarioError> {
    let (file, text) = crate::error::read_text(path)?;
    expand(&file, &text, seed)
}

/// One value a swept key takes at some point.
#[derive(Clone, Debug)]
struct Choice {
    /// TOML text written into the file.
    text: String,
    /// Where the value is written in the sweep (a list element or a range).
    span: Range<usize>,
    label: String,
}

/// A swept key and where its value goes in the file.
#[derive(Clone, Debug)]
struct SweptKey {
    key: String,
    key_span: Range<usize>,
    choices: Vec<Choice>,
    target: Target,
}

#[derive(Clone, Debug)]
enum Target {
    /// The file has the value here: write over it.
    Replace(Range<usize>),
    /// The file leaves it out: insert `prefix key = value suffix` at `at`.
    Insert { at: usize, key: String, prefix: &'static str, suffix: &'static str },
}

/// Keys that vary together (a zip group, or one key alone).
struct Factor {
    keys: Vec<usize>,
    len: usize,
}

pub fn expand(file: &str, text: &str, seed: Option<u64>) -> Result<Sweep, ScenarioError> {
    let ctx = Ctx { file, text };
    let doc = match DeTable::parse(text) {
        Ok(d) => d,
        // The normal parser reports the syntax error with its position.
        Err(_) => return crate::parse(file, text).map(|sc| single(file, sc, seed)),
    };
    let root = doc.get_ref();
    let Some((sweep_key, sweep)) = root.iter().find(|(k, _)| k.get_ref() == "sweep") else {
        return crate::parse(file, text).map(|sc| single(file, sc, seed));
    };

    let mut blanked = text.as_bytes().to_vec();
    let mut ranges = Vec::new();
    sweep_ranges(text, sweep_key.span(), sweep, &mut ranges);
    for r in ranges {
        let start = text[..r.start].rfind('\n').map_or(0, |i| i + 1);
        let end = text[r.end.min(text.len())..].find('\n').map_or(text.len(), |i| r.end + i);
        for b in &mut blanked[start..end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    let blanked = String::from_utf8(blanked).expect("only whole lines were blanked");

    let DeValue::Table(table) = sweep.get_ref() else {
        return Err(ctx.err(sweep.span(), "sweep", "expected a table: [sweep] with replications, seeds and swept keys"));
    };
    let mut replications = 1u64;
    let mut seeds = SeedPolicy::Common;
    let mut keys: Vec<SweptKey> = Vec::new();
    let mut factors: Vec<(usize, Factor)> = Vec::new();
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    for (k, v) in entries {
        let name = k.get_ref().as_ref();
        match name {
            "replications" => {
                let n = v.get_ref().as_integer().and_then(int_of);
                match n {
                    Some(n) if n >= 1 && n as usize <= MAX_SWEEP_RUNS => replications = n as u64,
                    _ => {
                        return Err(ctx.err(
                            v.span(),
                            "sweep.replications",
                            format!("expected a whole number from 1 to {MAX_SWEEP_RUNS}, found {}", &text[v.span()]),
                        ));
                    }
                }
            }
            "seeds" => {
                seeds = match v.get_ref().as_str().and_then(|s| crate::ctx::one_of(SEED_NAMES, s).ok()) {
                    Some("common") => SeedPolicy::Common,
                    Some("independent") => SeedPolicy::Independent,
                    Some(other) => unreachable!("{other:?} is in SEED_NAMES but has no policy"),
                    None => {
                        let list: Vec<String> = SEED_NAMES.iter().map(|n| format!("{n:?}")).collect();
                        return Err(ctx.err(
                            v.span(),
                            "sweep.seeds",
                            format!("expected one of {}, found {}", list.join(", "), &text[v.span()]),
                        ));
                    }
                }
            }
            "zip" => {
                let groups: Vec<&Spanned<DeValue>> = match v.get_ref() {
                    DeValue::Array(a) => a.iter().collect(),
                    _ => vec![],
                };
                if groups.is_empty() || groups.iter().any(|g| !g.get_ref().is_table()) {
                    return Err(ctx.err(v.span(), "sweep.zip", "expected [[sweep.zip]] tables of keys that vary together"));
                }
                for (g, group) in groups.into_iter().enumerate() {
                    let DeValue::Table(t) = group.get_ref() else { unreachable!("checked above") };
                    let mut members: Vec<_> = t.iter().collect();
                    members.sort_by_key(|(k, _)| k.span().start);
                    if members.is_empty() {
                        return Err(ctx.err(group.span(), format!("sweep.zip[{g}]"), "expected at least one swept key, found none"));
                    }
                    let mut factor = Factor { keys: vec![], len: 0 };
                    for (mk, mv) in members {
                        let field = format!("sweep.zip[{g}].\"{}\"", mk.get_ref());
                        let sk = swept_key(&ctx, root, mk, mv, &field)?;
                        if factor.keys.is_empty() {
                            factor.len = sk.choices.len();
                        } else if sk.choices.len() != factor.len {
                            return Err(ctx.err(
                                mv.span(),
                                field,
                                format!(
                                    "expected {} values, as many as {:?} above (keys in a zip group vary together), found {}",
                                    factor.len,
                                    keys[factor.keys[0]].key,
                                    sk.choices.len()
                                ),
                            ));
                        }
                        factor.keys.push(keys.len());
                        keys.push(sk);
                    }
                    factors.push((group.span().start, factor));
                }
            }
            _ if name.contains('.') || name.contains('[') => {
                let sk = swept_key(&ctx, root, k, v, &format!("sweep.\"{name}\""))?;
                factors.push((k.span().start, Factor { keys: vec![keys.len()], len: sk.choices.len() }));
                keys.push(sk);
            }
            _ => {
                return Err(ctx.err(
                    k.span(),
                    format!("sweep.{name}"),
                    format!(
                        "expected `replications`, `seeds`, [[sweep.zip]] or a quoted dotted key such as \
                         \"viewers.arrivals_per_s\" = [1.0, 2.0], found `{name}` (unquoted dots make nested tables: quote the key)"
                    ),
                ));
            }
        }
    }
    factors.sort_by_key(|f| f.0);
    let factors: Vec<Factor> = factors.into_iter().map(|f| f.1).collect();

    // The same field swept twice, or a field and a part of it.
    for (i, a) in keys.iter().enumerate() {
        for b in &keys[..i] {
            let (x, y) = (&a.key, &b.key);
            let nested = |p: &str, q: &str| p == q || p.starts_with(&format!("{q}.")) || p.starts_with(&format!("{q}["));
            if nested(x, y) || nested(y, x) {
                return Err(ctx.err(
                    a.key_span.clone(),
                    format!("sweep.\"{x}\""),
                    format!("expected each field to be swept once, found {x:?} and {y:?} (they overlap)"),
                ));
            }
        }
    }

    let points_count = factors.iter().try_fold(1usize, |acc, f| acc.checked_mul(f.len)).filter(|&n| n <= MAX_SWEEP_POINTS);
    let runs_count = points_count.and_then(|n| n.checked_mul(replications as usize)).filter(|&n| n <= MAX_SWEEP_RUNS);
    if points_count.is_none() || runs_count.is_none() {
        return Err(ctx.err(
            sweep.span(),
            "sweep",
            format!("expected at most {MAX_SWEEP_POINTS} points and {MAX_SWEEP_RUNS} runs (points x replications); split the sweep"),
        ));
    }
    let points_count = points_count.expect("checked");

    // Parameters, in the order their keys are written.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| keys[i].key_span.start);
    let params: Vec<Param> = order.iter().map(|&i| param_of(&keys[i])).collect();

    let mut points = Vec::with_capacity(points_count);
    let mut total_bytes = 0u64;
    for p in 0..points_count {
        // Mixed radix over the factors, the first one slowest.
        let mut choice = vec![0usize; keys.len()];
        let mut rest = p;
        for f in factors.iter().rev() {
            let c = rest % f.len;
            rest /= f.len;
            for &k in &f.keys {
                choice[k] = c;
            }
        }
        let scenario = resolve_point(file, text, &blanked, &keys, &choice, seed)
            .map_err(|e| annotate(e, &keys, &choice))?;
        let bytes = json_bytes(&scenario) * replications;
        // The first point's size stands for the others until they resolve.
        let expected = if p == 0 { bytes * points_count as u64 } else { total_bytes + bytes };
        if expected > MAX_SWEEP_BYTES {
            return Err(ctx.err(
                sweep_key.span(),
                "sweep",
                format!(
                    "expected the planned runs to take at most {} MiB, found {} points x {replications} replications of {} KiB each; split the sweep",
                    MAX_SWEEP_BYTES >> 20,
                    points_count,
                    bytes / replications / 1024
                ),
            ));
        }
        total_bytes += bytes;
        points.push(Point { value_index: order.iter().map(|&i| choice[i]).collect(), scenario });
    }
    let base_seed = seed.unwrap_or(points.first().map_or(0, |p| p.scenario.seed));
    let sweep = Sweep { file: file.to_string(), params, replications, seeds, base_seed, points };

    // Two points that are the same run (a value listed twice).
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in sweep.runs() {
        if let Some(first) = seen.insert(r.run_id.clone(), r.point)
            && first != r.point
        {
            return Err(ctx.err(
                sweep_key.span(),
                "sweep",
                format!(
                    "expected distinct points, found two that are the same run: ({}) and ({}); a value is listed twice",
                    sweep.describe(first),
                    sweep.describe(r.point)
                ),
            ));
        }
    }
    Ok(sweep)
}

/// The length of a scenario's JSON form, without building it.
fn json_bytes(sc: &Scenario) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len() as u64;
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    serde_json::to_writer(&mut c, sc).expect("a resolved scenario serialises");
    c.0
}

fn single(file: &str, sc: Scenario, seed: Option<u64>) -> Sweep {
    let base_seed = seed.unwrap_or(sc.seed);
    Sweep {
        file: file.to_string(),
        params: vec![],
        replications: 1,
        seeds: SeedPolicy::Common,
        base_seed,
        points: vec![Point { value_index: vec![], scenario: sc }],
    }
}

/// Byte ranges of the sweep's entries and headers, whose lines are blanked.
fn sweep_ranges(text: &str, key: Range<usize>, v: &Spanned<DeValue>, out: &mut Vec<Range<usize>>) {
    let at = &text[v.span().start.min(text.len())..];
    match v.get_ref() {
        DeValue::Table(t) if at.starts_with('[') => {
            out.push(v.span());
            for (k, v) in t.iter() {
                sweep_ranges(text, k.span(), v, out);
            }
        }
        DeValue::Array(a) if at.starts_with("[[") => {
            for e in a.iter() {
                sweep_ranges(text, key.clone(), e, out);
            }
        }
        // Dotted keys (`sweep.replications = 3` at the top): the parts.
        DeValue::Table(t) if !at.starts_with('{') => {
            for (k, v) in t.iter() {
                sweep_ranges(text, k.span(), v, out);
            }
        }
        _ => out.push(key.start.min(v.span().start)..v.span().end.max(key.end)),
    }
}

/// A path segment of a dotted key: `links[3]` is a name then an index.
#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Name(String),
    Index(usize),
}

fn parse_path(key: &str) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    for part in key.split('.') {
        let (name, index) = match part.find('[') {
            None => (part, None),
            Some(i) => {
                let idx = part[i + 1..].strip_suffix(']')?.parse::<usize>().ok()?;
                (&part[..i], Some(idx))
            }
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return None;
        }
        segs.push(Seg::Name(name.to_string()));
        segs.extend(index.map(Seg::Index));
    }
    Some(segs)
}

fn swept_key(
    ctx: &Ctx,
    root: &DeTable,
    k: &Spanned<toml::de::DeString>,
    v: &Spanned<DeValue>,
    field: &str,
) -> Result<SweptKey, ScenarioError> {
    let key = k.get_ref().to_string();
    let Some(path) = parse_path(&key) else {
        return Err(ctx.err(
            k.span(),
            field,
            format!("expected a dotted key of field names such as \"viewers.arrivals_per_s\" or \"links[3].loss\", found {key:?}"),
        ));
    };
    if key == "run.name" || key == "run.seed" {
        return Err(ctx.err(
            k.span(),
            field,
            format!("expected a model parameter, found {key:?}: the name is the results folder of every run and seeds come from `replications`"),
        ));
    }
    let choices = choices(ctx, v, field)?;
    let target = target(ctx, root, &path, &key, k.span(), field)?;
    Ok(SweptKey { key, key_span: k.span(), choices, target })
}

/// Finds where the swept field is in the file, or where it would go.
fn target(
    ctx: &Ctx,
    root: &DeTable,
    path: &[Seg],
    key: &str,
    key_span: Range<usize>,
    field: &str,
) -> Result<Target, ScenarioError> {
    let text = ctx.text;
    let mut table: &DeTable = root;
    // Where the current table is written; `None` for the top level.
    let mut table_span: Option<Range<usize>> = None;
    let mut i = 0;
    let mut walked = String::new();
    while i < path.len() {
        let Seg::Name(name) = &path[i] else { unreachable!("an index always follows a name") };
        let found = table.iter().find(|(k, _)| k.get_ref() == name.as_str()).map(|(_, v)| v);
        let Some(mut value) = found else {
            // Missing: the rest is a plain dotted key added to this table.
            if path[i..].iter().any(|s| matches!(s, Seg::Index(_))) {
                return Err(ctx.err(
                    key_span,
                    field,
                    format!("expected a field of the file, found {key:?}: the file has no {:?} to index", dotted(&walked, name)),
                ));
            }
            let rest: Vec<&str> = path[i..].iter().map(|s| if let Seg::Name(n) = s { n.as_str() } else { "" }).collect();
            let rest = rest.join(".");
            return match &table_span {
                None => Ok(Target::Insert { at: 0, key: rest, prefix: "", suffix: "\n" }),
                Some(s) if text[s.start..].starts_with('[') => {
                    Ok(Target::Insert { at: s.end, key: rest, prefix: "\n", suffix: "" })
                }
                Some(s) if text[s.start..].starts_with('{') => Ok(Target::Insert {
                    at: s.start + 1,
                    key: rest,
                    prefix: " ",
                    suffix: if table.is_empty() { " " } else { "," },
                }),
                Some(_) => Err(ctx.err(
                    key_span,
                    field,
                    format!(
                        "expected a field the file writes, or one of a [section] or inline table it writes; \
                         {walked:?} is only implied by other keys, so write {key:?} into the file and sweep it there"
                    ),
                )),
            };
        };
        walked = dotted(&walked, name);
        i += 1;
        if let Some(Seg::Index(n)) = path.get(i) {
            let DeValue::Array(a) = value.get_ref() else {
                return Err(ctx.err(key_span, field, format!("expected {walked:?} to be a list to index, found a {}", value.get_ref().type_str())));
            };
            let items: Vec<_> = a.iter().collect();
            let Some(item) = items.get(*n) else {
                return Err(ctx.err(
                    key_span,
                    field,
                    format!("expected an index below {} ({walked:?} has {} entries), found {n}", items.len(), items.len()),
                ));
            };
            value = item;
            walked = format!("{walked}[{n}]");
            i += 1;
        }
        if i == path.len() {
            let at = &text[value.span().start.min(text.len())..];
            if at.starts_with('[') && (value.get_ref().is_table() || at.starts_with("[[")) {
                return Err(ctx.err(
                    key_span,
                    field,
                    format!("expected a value to sweep, found the section {walked:?}; sweep its fields (\"{walked}.<field>\")"),
                ));
            }
            return Ok(Target::Replace(value.span()));
        }
        match value.get_ref() {
            DeValue::Table(t) => {
                table = t;
                table_span = Some(value.span());
            }
            other => {
                return Err(ctx.err(
                    key_span,
                    field,
                    format!("expected {walked:?} to be a table with fields, found a {}", other.type_str()),
                ));
            }
        }
    }
    unreachable!("the loop returns at the last segment")
}

fn dotted(a: &str, b: &str) -> String {
    if a.is_empty() { b.to_string() } else { format!("{a}.{b}") }
}

/// The values of one swept key: a non-empty list, or a range.
fn choices(ctx: &Ctx, v: &Spanned<DeValue>, field: &str) -> Result<Vec<Choice>, ScenarioError> {
    let text = ctx.text;
    match v.get_ref() {
        DeValue::Array(a) => {
            let items: Vec<_> = a.iter().collect();
            if items.is_empty() {
                return Err(ctx.err(v.span(), field, "expected at least one value, found an empty list"));
            }
            if items.len() > MAX_SWEEP_POINTS {
                return Err(ctx.err(v.span(), field, format!("expected at most {MAX_SWEEP_POINTS} values, found {}", items.len())));
            }
            let mut out: Vec<Choice> = Vec::with_capacity(items.len());
            // A set, not a scan of `out`: a list may hold MAX_SWEEP_POINTS
            // values, and comparing each with all before it took seconds.
            let mut seen = std::collections::BTreeSet::new();
            for item in items {
                let label = label_of(text, item);
                if !seen.insert(label.clone()) {
                    return Err(ctx.err(item.span(), field, format!("expected distinct values, found {label:?} twice")));
                }
                out.push(Choice { text: text[item.span()].to_string(), span: item.span(), label });
            }
            Ok(out)
        }
        DeValue::Table(t) if t.iter().any(|(k, _)| ["from", "to", "step"].contains(&k.get_ref().as_ref())) => {
            range(ctx, v, t, field)
        }
        _ => Err(ctx.err(
            v.span(),
            field,
            format!(
                "expected a list of values such as [1.0, 2.0] or a range {{ from = 1.0, to = 3.0, step = 0.5 }}, found {}",
                &text[v.span()]
            ),
        )),
    }
}

/// An integer as written, in its radix: `0o777` is 511 (found by
/// cdnsim-fuzz: the digits were read as decimal, so it was 777).
fn int_of(i: &toml::de::DeInteger) -> Option<i64> {
    i64::from_str_radix(i.as_str(), i.radix()).ok()
}

fn label_of(text: &str, v: &Spanned<DeValue>) -> String {
    match v.get_ref() {
        DeValue::String(s) => s.to_string(),
        DeValue::Integer(i) => int_of(i).map_or_else(|| i.as_str().to_string(), |x| x.to_string()),
        DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().map_or_else(|_| f.as_str().to_string(), |x| format!("{x}")),
        DeValue::Boolean(b) => b.to_string(),
        _ => text[v.span()].split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// `"<number> <unit>"` or a bare number: (number, unit).
fn split_number(label: &str) -> Option<(f64, Option<String>)> {
    let t = label.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || ".-+_eE".contains(c))).unwrap_or(t.len());
    // An `e` right before letters is part of a unit, not an exponent.
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let x = num.replace('_', "").parse::<f64>().ok().filter(|x| x.is_finite())?;
    Some((x, (!unit.is_empty()).then(|| unit.to_string())))
}

fn param_of(k: &SweptKey) -> Param {
    let parsed: Vec<Option<(f64, Option<String>)>> = k.choices.iter().map(|c| {
        // Only numbers and strings can be numeric values.
        let quoted = c.text.trim_start().starts_with(['"', '\'']);
        let bare_number = c.text.trim().parse::<f64>().is_ok() || c.text.trim().replace('_', "").parse::<f64>().is_ok();
        if quoted || bare_number { split_number(&c.label) } else { None }
    }).collect();
    let unit = parsed.first().and_then(|p| p.as_ref().map(|(_, u)| u.clone())).flatten();
    let numeric = parsed.iter().all(|p| p.as_ref().is_some_and(|(_, u)| *u == unit));
    Param {
        key: k.key.clone(),
        unit: if numeric { unit } else { None },
        numeric,
        values: k.choices.iter().map(|c| c.label.clone()).collect(),
    }
}

/// `{ from, to, step }`: from, from + step, ... up to `to` inclusive. All
/// three are numbers, or strings with one unit (`"10 ms"`).
fn range(ctx: &Ctx, v: &Spanned<DeValue>, t: &DeTable, field: &str) -> Result<Vec<Choice>, ScenarioError> {
    let get = |name: &str| t.iter().find(|(k, _)| k.get_ref() == name).map(|(_, v)| v);
    for (k, _) in t.iter() {
        if !["from", "to", "step"].contains(&k.get_ref().as_ref()) {
            return Err(ctx.err(k.span(), format!("{field}.{}", k.get_ref()), "expected only from, to and step in a range"));
        }
    }
    struct End {
        x: f64,
        integer: bool,
        unit: Option<String>,
        span: Range<usize>,
    }
    let mut ends = Vec::with_capacity(3);
    for name in ["from", "to", "step"] {
        let Some(e) = get(name) else {
            return Err(ctx.err(v.span(), format!("{field}.{name}"), format!("expected `{name}` in the range, found none")));
        };
        let parsed = match e.get_ref() {
            DeValue::Integer(i) => int_of(i).map(|x| (x as f64, true, None)),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok().filter(|x| x.is_finite()).map(|x| (x, false, None)),
            DeValue::String(s) => split_number(s).filter(|(_, u)| u.is_some()).map(|(x, u)| (x, false, u)),
            _ => None,
        };
        let Some((x, integer, unit)) = parsed else {
            return Err(ctx.err(
                e.span(),
                format!("{field}.{name}"),
                format!("expected a number or a value with a unit such as \"10 ms\", found {}", &ctx.text[e.span()]),
            ));
        };
        ends.push(End { x, integer, unit, span: e.span() });
    }
    let (from, to, step) = (&ends[0], &ends[1], &ends[2]);
    for e in [to, step] {
        if e.unit != from.unit {
            return Err(ctx.err(
                e.span.clone(),
                field,
                format!("expected the unit of `from` ({}) in every part of the range, found {}", from.unit.as_deref().unwrap_or("none"), e.unit.as_deref().unwrap_or("none")),
            ));
        }
    }
    if step.x <= 0.0 {
        return Err(ctx.err(step.span.clone(), format!("{field}.step"), format!("expected a step above zero, found {}", step.x)));
    }
    if to.x < from.x {
        return Err(ctx.err(to.span.clone(), format!("{field}.to"), format!("expected `to` at or above `from` ({}), found {}", from.x, to.x)));
    }
    // The tolerance keeps `to` when rounding puts it a hair past the last step.
    let steps = ((to.x - from.x) / step.x * (1.0 + 1e-12) + 1e-9).floor();
    if steps + 1.0 > MAX_SWEEP_POINTS as f64 {
        return Err(ctx.err(v.span(), field, format!("expected at most {MAX_SWEEP_POINTS} values, found {}", steps + 1.0)));
    }
    let integer = from.integer && to.integer && step.integer && from.unit.is_none();
    Ok((0..=steps as u64)
        .map(|i| {
            let x = from.x + i as f64 * step.x;
            // 12 significant digits: 0.1 + 2 * 0.1 is 0.3, not 0.30000000000000004.
            let x: f64 = format!("{x:.11e}").parse().expect("formatted float parses");
            let label = if integer { format!("{}", x as i64) } else { format!("{x}") };
            let text = match (&from.unit, integer) {
                (Some(u), _) => format!("\"{label} {u}\""),
                (None, true) => label.clone(),
                (None, false) => format!("{x:?}"),
            };
            let label = match &from.unit {
                Some(u) => format!("{label} {u}"),
                None => label,
            };
            Choice { text, span: v.span(), label }
        })
        .collect())
}

/// A piece of the point's text that came from the sweep.
struct Patch {
    /// Where it is in the point's text.
    at: Range<usize>,
    /// Bytes of the file it stands in for (0 for an insertion).
    replaced_len: usize,
    /// Bytes of it (from its start) that are the inserted key, if any.
    key_len: usize,
    key_span: Range<usize>,
    value_span: Range<usize>,
}

/// The point's text: the blanked file with the chosen values written in,
/// resolved; errors come back at the original position.
fn resolve_point(
    file: &str,
    text: &str,
    blanked: &str,
    keys: &[SweptKey],
    choice: &[usize],
    seed: Option<u64>,
) -> Result<Scenario, ScenarioError> {
    struct Edit<'a> {
        at: usize,
        replaced_len: usize,
        new: String,
        key_len: usize,
        key: &'a SweptKey,
        choice: &'a Choice,
    }
    let mut edits: Vec<Edit> = keys
        .iter()
        .zip(choice)
        .map(|(key, &c)| {
            let choice = &key.choices[c];
            match &key.target {
                Target::Replace(r) => Edit { at: r.start, replaced_len: r.len(), new: choice.text.clone(), key_len: 0, key, choice },
                Target::Insert { at, key: name, prefix, suffix } => {
                    let head = format!("{prefix}{name} = ");
                    let new = format!("{head}{}{suffix}", choice.text);
                    Edit { at: *at, replaced_len: 0, new, key_len: head.len(), key, choice }
                }
            }
        })
        .collect();
    edits.sort_by_key(|e| e.at);
    let mut out = String::with_capacity(blanked.len() + 256);
    let mut patches = Vec::with_capacity(edits.len());
    let mut pos = 0;
    for e in edits {
        out.push_str(&blanked[pos..e.at]);
        let start = out.len();
        out.push_str(&e.new);
        patches.push(Patch {
            at: start..out.len(),
            replaced_len: e.replaced_len,
            key_len: e.key_len,
            key_span: e.key.key_span.clone(),
            value_span: e.choice.span.clone(),
        });
        pos = e.at + e.replaced_len;
    }
    out.push_str(&blanked[pos..]);

    let mut sc = crate::parse(file, &out).map_err(|e| relocate(e, file, text, &out, &patches))?;
    if let Some(s) = seed {
        sc.seed = s;
    }
    Ok(sc)
}

/// Moves an error found in a point's text back to the original file: inside
/// a patch to the sweep entry that wrote it, elsewhere by the patches'
/// changes in length before it.
fn relocate(e: ScenarioError, file: &str, text: &str, point_text: &str, patches: &[Patch]) -> ScenarioError {
    let ScenarioError::Invalid { file: f, line, col, field, message } = e else { return e };
    if f != file {
        return ScenarioError::Invalid { file: f, line, col, field, message };
    }
    let offset = offset_of(point_text, line, col);
    let mut shift: isize = 0;
    let mut original = None;
    for p in patches {
        if offset < p.at.start {
            break;
        }
        if offset < p.at.end {
            original = Some(if offset - p.at.start < p.key_len { p.key_span.start } else { p.value_span.start });
            break;
        }
        shift += p.at.len() as isize - p.replaced_len as isize;
    }
    let at = original.unwrap_or_else(|| (offset as isize - shift).max(0) as usize);
    let (line, col) = line_col(text, at);
    ScenarioError::Invalid { file: f, line, col, field, message }
}

fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    text[start..].char_indices().nth(col.saturating_sub(1)).map_or(text.len(), |(i, _)| start + i)
}

/// Names the point in an error, so a message about a swept value says which.
fn annotate(e: ScenarioError, keys: &[SweptKey], choice: &[usize]) -> ScenarioError {
    let point: Vec<String> = keys.iter().zip(choice).map(|(k, &c)| format!("{} = {}", k.key, k.choices[c].text)).collect();
    match e {
        ScenarioError::Invalid { file, line, col, field, message } if !point.is_empty() => {
            ScenarioError::Invalid { file, line, col, field, message: format!("{message} (at sweep point {})", point.join(", ")) }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICKSTART: &str = include_str!("../../../scenarios/quickstart.toml");

    fn with_sweep(sweep: &str) -> String {
        format!("{QUICKSTART}\n{sweep}")
    }

    fn err(text: &str) -> (String, usize, usize) {
        match expand("q.toml", text, None).unwrap_err() {
            ScenarioError::Invalid { line, col, field, message, .. } => (format!("{field}: {message}"), line, col),
            e => panic!("{e}"),
        }
    }

    /// 1-based (line, col) of the first `needle` at or after `from`.
    fn pos(text: &str, needle: &str, from: &str) -> (usize, usize) {
        let base = text.find(from).unwrap();
        line_col(text, base + text[base..].find(needle).unwrap())
    }

    #[test]
    fn a_file_without_sweep_is_one_run_with_its_usual_id() {
        let s = expand("q.toml", QUICKSTART, None).unwrap();
        let runs = s.runs();
        assert_eq!(runs.len(), 1);
        let plain = crate::parse("q.toml", QUICKSTART).unwrap();
        assert_eq!(runs[0].run_id, crate::run_id(&plain, 0));
        assert_eq!((runs[0].seed, runs[0].replication), (1, 0));
        let s = expand("q.toml", QUICKSTART, Some(9)).unwrap();
        assert_eq!(s.runs()[0].seed, 9);
    }

    #[test]
    fn keys_cross_and_replications_share_seeds() {
        let text = with_sweep(
            "[sweep]\nreplications = 3\n\"viewers.arrivals_per_s\" = [1.0, 2.5, 4]\n\"stream.chunk\" = [\"8 KiB\", \"16 KiB\", \"32 KiB\"]\n",
        );
        let s = expand("q.toml", &text, None).unwrap();
        assert_eq!(s.points.len(), 9);
        assert_eq!(s.params[0], Param { key: "viewers.arrivals_per_s".into(), unit: None, numeric: true, values: vec!["1".into(), "2.5".into(), "4".into()] });
        assert_eq!(s.params[1].unit.as_deref(), Some("KiB"));
        // The first key varies slowest.
        assert_eq!(s.points[1].value_index, vec![0, 1]);
        assert_eq!(s.points[3].scenario.viewers.arrivals_per_s, 2.5);
        assert_eq!(s.points[3].scenario.stream.chunk_bytes, 8 * 1024);
        assert_eq!(s.points[8].scenario.stream.chunk_bytes, 32 * 1024);
        let runs = s.runs();
        assert_eq!(runs.len(), 27);
        let ids: std::collections::BTreeSet<_> = runs.iter().map(|r| r.run_id.clone()).collect();
        assert_eq!(ids.len(), 27, "run ids are distinct");
        for r in &runs {
            assert_eq!(r.seed, runs[r.replication as usize].seed, "common random numbers: one seed per replication");
            assert_eq!(r.scenario.seed, r.seed);
        }
        assert_eq!(runs[0].seed, 1, "replication 0 keeps the file's seed");
        assert_ne!(runs[1].seed, runs[2].seed);
        assert_eq!(runs[4].columns, vec![("viewers.arrivals_per_s".into(), ParamValue::Number(1.0)), ("stream.chunk".into(), ParamValue::Number(16.0))]);
        // Same file, same ids.
        let again: Vec<_> = expand("q.toml", &text, None).unwrap().runs().into_iter().map(|r| r.run_id).collect();
        assert_eq!(again, runs.iter().map(|r| r.run_id.clone()).collect::<Vec<_>>());

        let indep = expand("q.toml", &text.replace("replications = 3", "replications = 3\nseeds = \"independent\""), None).unwrap();
        let seeds: std::collections::BTreeSet<u64> = indep.runs().iter().map(|r| r.seed).collect();
        assert_eq!(seeds.len(), 27, "independent seeds differ at every point");
    }

    #[test]
    fn ranges_with_and_without_units() {
        let text = with_sweep(
            "[sweep]\n\"viewers.playout_delay\" = { from = \"1 s\", to = \"3 s\", step = \"1 s\" }\n\"viewers.access_loss\" = { from = 0.1, to = 0.3, step = 0.1 }\n",
        );
        let s = expand("q.toml", &text, None).unwrap();
        assert_eq!(s.params[0].values, vec!["1 s", "2 s", "3 s"]);
        assert_eq!(s.params[0].unit.as_deref(), Some("s"));
        assert_eq!(s.params[1].values, vec!["0.1", "0.2", "0.3"]);
        assert_eq!(s.points[8].scenario.viewers.playout_delay_ns, 3_000_000_000);
        assert_eq!(s.points[8].scenario.viewers.access_loss, 0.3);
        let text = with_sweep("[sweep]\n\"transport.max_retransmits\" = { from = 0, to = 6, step = 3 }\n");
        let s = expand("q.toml", &text, None).unwrap();
        assert_eq!(s.params[0].values, vec!["0", "3", "6"]);
        assert_eq!(s.points[2].scenario.transport.max_retransmits, 6);
        let (e, ..) = err(&with_sweep("[sweep]\n\"viewers.access_loss\" = { from = 0.1, to = 0.3, step = 0 }\n"));
        assert!(e.contains("step above zero"), "{e}");
        let (e, ..) = err(&with_sweep("[sweep]\n\"viewers.playout_delay\" = { from = \"1 s\", to = \"3 ms\", step = \"1 s\" }\n"));
        assert!(e.contains("unit of `from`"), "{e}");
    }

    #[test]
    fn zip_groups_move_together() {
        let text = with_sweep(
            "[sweep]\n\"viewers.arrivals_per_s\" = [1.0, 2.0]\n[[sweep.zip]]\n\"stream.bitrate\" = [\"1 Mbps\", \"4 Mbps\"]\n\"stream.chunk\" = [\"8 KiB\", \"32 KiB\"]\n",
        );
        let s = expand("q.toml", &text, None).unwrap();
        assert_eq!(s.points.len(), 4);
        for p in &s.points {
            let pair = (p.scenario.stream.bitrate_bps, p.scenario.stream.chunk_bytes);
            assert!(pair == (1_000_000, 8192) || pair == (4_000_000, 32768), "{pair:?}");
        }
        let (e, line, _) = err(&text.replace("\"32 KiB\"]", "\"32 KiB\", \"64 KiB\"]"));
        assert!(e.contains("expected 2 values"), "{e}");
        assert_eq!(line, pos(&text, "\"stream.chunk\"", "[[sweep.zip]]").0);
    }

    #[test]
    fn fields_the_file_leaves_out_are_added() {
        // Top level (no [limits] in the file), under a [[links]] header, and
        // inside an inline table.
        let text = with_sweep(
            "[sweep]\n\"limits.max_pending_events\" = [1000, 2000]\n\"links[0].loss\" = [0.01]\n[[sweep.zip]]\n\"viewers.watch_time.distribution\" = [\"exponential\"]\n\"viewers.watch_time.mean\" = [\"30 s\"]\n",
        );
        let s = expand("q.toml", &text, None).unwrap();
        assert_eq!(s.points[1].scenario.max_pending_events, 2000);
        assert_eq!(s.points[0].scenario.links[0].loss, crate::LinkLoss::Bernoulli { p: 0.01 });
        assert!(matches!(s.points[0].scenario.viewers.watch_time, crate::WatchTime::Exponential { mean_ns: 30_000_000_000 }));
    }

    #[test]
    fn a_key_that_names_no_field_is_located_at_the_sweep_entry() {
        let text = with_sweep("[sweep]\n\"viewers.arrivals_per_sec\" = [1.0]\n");
        let (e, line, col) = err(&text);
        assert!(e.contains("viewers.arrivals_per_sec") && e.contains("unknown field"), "{e}");
        assert_eq!((line, col), pos(&text, "\"viewers.arrivals_per_sec\"", "[sweep]"));
        let (e, ..) = err(&with_sweep("[sweep]\n\"links[40].loss\" = [0.1]\n"));
        assert!(e.contains("has 12 entries"), "{e}");
        let (e, ..) = err(&with_sweep("[sweep]\n\"viewers.regions\" = [1]\n"));
        assert!(e.contains("sweep its fields"), "{e}");
        let (e, ..) = err(&with_sweep("[sweep]\n\"run.name.x\" = [1]\n"));
        assert!(e.contains("to be a table"), "{e}");
        let text = with_sweep("[sweep]\nviewers.arrivals_per_s = [1.0]\n");
        let (e, line, col) = err(&text);
        assert!(e.contains("quote the key"), "{e}");
        assert_eq!((line, col), pos(&text, "viewers", "[sweep]"));
    }

    #[test]
    fn a_bad_swept_value_points_at_the_value_in_the_sweep() {
        let text = with_sweep("[sweep]\n\"viewers.arrivals_per_s\" = [1.0, -2.0]\n");
        let (e, line, col) = err(&text);
        assert!(e.contains("viewers.arrivals_per_s: expected a non-negative rate"), "{e}");
        assert!(e.contains("at sweep point viewers.arrivals_per_s = -2.0"), "{e}");
        assert_eq!((line, col), pos(&text, "-2.0", "[sweep]"));
        let text = with_sweep("[sweep]\n\"stream.bitrate\" = [\"2 Mbits\"]\n");
        let (e, line, col) = err(&text);
        assert!(e.contains("expected a bit rate"), "{e}");
        assert_eq!((line, col), pos(&text, "\"2 Mbits\"", "[sweep]"));
        let (e, ..) = err(&with_sweep("[sweep]\n\"viewers.arrivals_per_s\" = [1.0, 1.0]\n"));
        assert!(e.contains("found \"1\" twice"), "{e}");
        let (e, ..) = err(&with_sweep("[sweep]\n\"run.seed\" = [1, 2]\n"));
        assert!(e.contains("replications"), "{e}");
        let (e, ..) = err(&with_sweep("[sweep]\nreplications = 0\n"));
        assert!(e.contains("sweep.replications"), "{e}");
        let (e, ..) = err(&with_sweep("[sweep]\nseeds = \"paired\"\n"));
        assert!(e.contains("\"independent\""), "{e}");
    }

    /// Found by cdnsim-fuzz: 100,000 points within MAX_SWEEP_POINTS took
    /// 43 s and 1.6 GB to plan; the size bound refuses them after the first.
    #[test]
    fn a_sweep_too_big_to_plan_is_refused_at_its_header() {
        let text = with_sweep("[sweep]\n\"viewers.arrivals_per_s\" = { from = 0, to = 99999, step = 1 }\n");
        let (e, line, col) = err(&text);
        assert!(e.starts_with("sweep: expected the planned runs to take at most 256 MiB") && e.contains("100000 points"), "{e}");
        assert_eq!((line, col), pos(&text, "sweep]", "[sweep]"));
        let bytes = json_bytes(&crate::parse("q.toml", QUICKSTART).unwrap());
        assert_eq!(bytes, serde_json::to_string(&crate::parse("q.toml", QUICKSTART).unwrap()).unwrap().len() as u64);
        // 2% over the bound, by the first point's size, is refused.
        let fits = (MAX_SWEEP_BYTES / bytes) as usize;
        let range = |n: usize| with_sweep(&format!("[sweep]\n\"viewers.arrivals_per_s\" = {{ from = 1, to = {n}, step = 1 }}\nreplications = 1\n"));
        assert!(fits > 100 && fits < MAX_SWEEP_POINTS, "{fits}");
        let e = expand("q.toml", &range(fits + fits / 50), None).unwrap_err().to_string();
        assert!(e.contains("split the sweep"), "{e}");
    }

    /// Found by cdnsim-fuzz: the repeat check compared each value with all
    /// before it (80,000 values: 7 s). A repeat is still found, where it is.
    #[test]
    fn a_long_list_is_checked_for_repeats() {
        let values: Vec<String> = (0..MAX_SWEEP_POINTS).map(|i| i.to_string()).collect();
        let text = with_sweep(&format!("[sweep]\n\"viewers.arrivals_per_s\" = [{},99]\n", values.join(",")));
        let (e, line, _) = err(&text);
        assert!(e.contains("expected at most 100000 values"), "{e}");
        let text = with_sweep(&format!("[sweep]\n\"viewers.arrivals_per_s\" = [{},99]\n", values[1..].join(",")));
        let (e, line2, col) = err(&text);
        assert!(e.contains("found \"99\" twice"), "{e}");
        assert_eq!((line, line2), (text.lines().count(), text.lines().count()));
        assert_eq!(col, text.lines().last().unwrap().rfind("99").unwrap() + 1);
    }

    #[test]
    fn integers_keep_their_radix() {
        let s = expand("q.toml", &with_sweep("[sweep]\nreplications = 0o3\n\"transport.max_retransmits\" = [0x10, 0b11]\n"), None).unwrap();
        assert_eq!(s.replications, 3);
        assert_eq!(s.params[0].values, vec!["16", "3"]);
        assert_eq!(s.points[0].scenario.transport.max_retransmits, 16);
        let s = expand("q.toml", &with_sweep("[sweep]\n\"transport.max_retransmits\" = { from = 0, to = 0x10, step = 0o10 }\n"), None).unwrap();
        assert_eq!(s.params[0].values, vec!["0", "8", "16"]);
    }

    #[test]
    fn errors_elsewhere_keep_their_position_when_values_are_inserted() {
        // The insertion at the top shifts every byte of the point's text; the
        // error must still point at the file's own line.
        let bad = QUICKSTART.replacen("to = \"xa-edge\"", "to = \"xa-egde\"", 1);
        let text = format!("{bad}\n[sweep]\n\"limits.max_pending_events\" = [1000]\n\"viewers.arrivals_per_s\" = [10.0]\n");
        let (e, line, col) = err(&text);
        assert!(e.contains("links[11].to"), "{e}");
        assert_eq!((line, col), pos(&text, "\"xa-egde\"", "to = "));
        // A sweep in the middle of the file: later lines keep their numbers.
        let mid = QUICKSTART.replacen("[broadcaster]", "[sweep]\n\"viewers.arrivals_per_s\" = [1.0]\n\n[broadcaster]", 1);
        let mid = mid.replacen("uplink = \"20 Mbps\"", "uplink = \"-20 Mbps\"", 1);
        let (e, line, col) = err(&mid);
        assert!(e.contains("broadcaster.uplink"), "{e}");
        assert_eq!((line, col), pos(&mid, "\"-20 Mbps\"", "uplink"));
    }
}
