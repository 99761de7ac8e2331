//! The results contract (DESIGN.md): the rows of `summary.parquet`,
//! `timeseries.parquet` and `viewers.parquet`, with the column names that
//! notebooks, charts and checks rely on. Renaming a column here breaks them:
//! add columns, do not rename.

use crate::table::{Col, Table};

/// One row of `summary.parquet`: one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub run_id: String,
    pub scenario: String,
    pub seed: u64,
    pub replication: u64,
    pub topology: String,
    /// Viewer sessions that joined during the run.
    pub viewers: u64,
    pub home_nodes: u64,
    /// viewer_bytes / idc_egress_bytes; null when no IDC byte was sent.
    pub amplification: Option<f64>,
    /// Bytes of the blocks viewers played (blocks played x block bytes) /
    /// idc_egress_bytes: what arrived after a block decoded, twice, or too
    /// late to play does not count.
    pub goodput_amplification: Option<f64>,
    pub idc_egress_bytes: u64,
    pub viewer_bytes: u64,
    pub internal_bytes: u64,
    /// Byte-weighted hops of the IDC bytes viewers received / byte-weighted
    /// fewest hops of a path the mode's rules allow over the links usable
    /// at the viewer's join (routing's `shortest_hops`, plus the access hop).
    pub hop_waste: Option<f64>,
    pub mean_hops: Option<f64>,
    /// Join -> first frame played, over the viewers who played.
    pub startup_ms_p50: Option<f64>,
    pub startup_ms_p95: Option<f64>,
    /// Join -> first complete block (before the playout delay).
    pub first_block_ms_p50: Option<f64>,
    pub first_block_ms_p95: Option<f64>,
    pub e2e_ms_p50: Option<f64>,
    pub e2e_ms_p95: Option<f64>,
    /// Frozen time / watched time after playback started.
    pub stall_ratio: Option<f64>,
    pub decode_failures: u64,
    pub events: u64,
    /// Further columns (model counters, swept parameters), in this order.
    pub extra: Vec<(String, Value)>,
}

/// A value of an extra summary column.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Count(u64),
    Real(f64),
    /// A real that may be missing (null in Parquet), e.g. a percentile of
    /// no samples.
    OptReal(Option<f64>),
    Text(String),
}

impl Summary {
    pub fn to_table(&self) -> Table {
        let mut t = Table::default();
        let s = |v: &str| Col::Str(vec![v.to_string()]);
        t.push("run_id", s(&self.run_id));
        t.push("scenario", s(&self.scenario));
        t.push("seed", Col::U64(vec![self.seed]));
        t.push("replication", Col::U64(vec![self.replication]));
        t.push("topology", s(&self.topology));
        t.push("viewers", Col::U64(vec![self.viewers]));
        t.push("home_nodes", Col::U64(vec![self.home_nodes]));
        t.push("amplification", Col::OptF64(vec![self.amplification]));
        t.push("goodput_amplification", Col::OptF64(vec![self.goodput_amplification]));
        t.push("idc_egress_bytes", Col::U64(vec![self.idc_egress_bytes]));
        t.push("viewer_bytes", Col::U64(vec![self.viewer_bytes]));
        t.push("internal_bytes", Col::U64(vec![self.internal_bytes]));
        t.push("hop_waste", Col::OptF64(vec![self.hop_waste]));
        t.push("mean_hops", Col::OptF64(vec![self.mean_hops]));
        t.push("startup_ms_p50", Col::OptF64(vec![self.startup_ms_p50]));
        t.push("startup_ms_p95", Col::OptF64(vec![self.startup_ms_p95]));
        t.push("first_block_ms_p50", Col::OptF64(vec![self.first_block_ms_p50]));
        t.push("first_block_ms_p95", Col::OptF64(vec![self.first_block_ms_p95]));
        t.push("e2e_ms_p50", Col::OptF64(vec![self.e2e_ms_p50]));
        t.push("e2e_ms_p95", Col::OptF64(vec![self.e2e_ms_p95]));
        t.push("stall_ratio", Col::OptF64(vec![self.stall_ratio]));
        t.push("decode_failures", Col::U64(vec![self.decode_failures]));
        t.push("events", Col::U64(vec![self.events]));
        for (name, v) in &self.extra {
            let col = match v {
                Value::Count(x) => Col::U64(vec![*x]),
                Value::Real(x) => Col::F64(vec![*x]),
                Value::OptReal(x) => Col::OptF64(vec![*x]),
                Value::Text(x) => Col::Str(vec![x.clone()]),
            };
            t.push(name, col);
        }
        t
    }
}

/// One row of `timeseries.parquet`: one simulated second of one stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimeseriesRow {
    pub second: u64,
    pub stream: String,
    /// Bytes that reached viewers from IDC nodes.
    pub bytes_idc: u64,
    /// Bytes that reached viewers from home nodes.
    pub bytes_home: u64,
    /// Last-hop shares sent from IDC edges to home nodes (part of
    /// `idc_egress_bytes`).
    pub bytes_to_homes: u64,
    pub idc_egress_bytes: u64,
    pub internal_bytes: u64,
    /// Viewers watching at the end of the second.
    pub viewers: u64,
    pub active_home_nodes: u64,
    /// Stalls that began in this second.
    pub stalls: u64,
}

pub fn timeseries_table(rows: &[TimeseriesRow]) -> Table {
    let mut t = Table::default();
    let u = |f: fn(&TimeseriesRow) -> u64| Col::U64(rows.iter().map(f).collect());
    t.push("second", u(|r| r.second));
    t.push("stream", Col::Str(rows.iter().map(|r| r.stream.clone()).collect()));
    t.push("bytes_idc", u(|r| r.bytes_idc));
    t.push("bytes_home", u(|r| r.bytes_home));
    t.push("bytes_to_homes", u(|r| r.bytes_to_homes));
    t.push("idc_egress_bytes", u(|r| r.idc_egress_bytes));
    t.push("internal_bytes", u(|r| r.internal_bytes));
    t.push("viewers", u(|r| r.viewers));
    t.push("active_home_nodes", u(|r| r.active_home_nodes));
    t.push("stalls", u(|r| r.stalls));
    t
}

/// One row of `viewers.parquet`: one viewer session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewerRow {
    pub viewer_id: u64,
    pub stream: String,
    pub region: String,
    pub edge: String,
    pub join_ms: f64,
    pub leave_ms: f64,
    /// The run ended while the viewer was still watching.
    pub ended_by_stop: bool,
    /// Join -> first frame played; null if nothing played.
    pub startup_ms: Option<f64>,
    /// Join -> first complete block; null if none arrived.
    pub first_block_ms: Option<f64>,
    pub e2e_ms_mean: Option<f64>,
    pub e2e_ms_max: Option<f64>,
    pub stall_ms: f64,
    pub stalls: u64,
    pub blocks_played: u64,
    pub blocks_skipped: u64,
    /// Mean hops of the bytes received.
    pub hops: Option<f64>,
    /// Fewest hops the mode allowed at join (access hop included); null
    /// when no feasible path existed then (the viewer is left out of
    /// hop_waste).
    pub shortest_hops: Option<u64>,
    pub bytes_idc: u64,
    pub bytes_home: u64,
    pub home_nodes_used: u64,
    pub evictions: u64,
}

/// `viewers.parquet`'s rows, one session each. The writer asks for them a
/// row group at a time ([`crate::Table::write_parquet_by_groups`]), so a
/// run hands over what its rows are made of, not a million built rows.
pub trait ViewerRows {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Row `i`, `i < len()`.
    fn row(&self, i: usize) -> ViewerRow;
}

impl ViewerRows for Vec<ViewerRow> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    fn row(&self, i: usize) -> ViewerRow {
        self[i].clone()
    }
}

/// The rows as the contract's columns (the strings are moved, not copied).
pub fn viewers_table(rows: impl IntoIterator<Item = ViewerRow>) -> Table {
    let rows = rows.into_iter();
    let n = rows.size_hint().0;
    let (mut viewer_id, mut stream, mut region, mut edge) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut join, mut leave, mut ended, mut startup) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut first_block, mut e2e_mean, mut e2e_max, mut stall) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut stalls, mut played, mut skipped, mut hops) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut shortest, mut bytes_idc, mut bytes_home, mut nodes_used, mut evictions) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for r in rows {
        viewer_id.push(r.viewer_id);
        stream.push(r.stream);
        region.push(r.region);
        edge.push(r.edge);
        join.push(r.join_ms);
        leave.push(r.leave_ms);
        ended.push(r.ended_by_stop);
        startup.push(r.startup_ms);
        first_block.push(r.first_block_ms);
        e2e_mean.push(r.e2e_ms_mean);
        e2e_max.push(r.e2e_ms_max);
        stall.push(r.stall_ms);
        stalls.push(r.stalls);
        played.push(r.blocks_played);
        skipped.push(r.blocks_skipped);
        hops.push(r.hops);
        shortest.push(r.shortest_hops);
        bytes_idc.push(r.bytes_idc);
        bytes_home.push(r.bytes_home);
        nodes_used.push(r.home_nodes_used);
        evictions.push(r.evictions);
    }
    let mut t = Table::default();
    t.push("viewer_id", Col::U64(viewer_id));
    t.push("stream", Col::Str(stream));
    t.push("region", Col::Str(region));
    t.push("edge", Col::Str(edge));
    t.push("join_ms", Col::F64(join));
    t.push("leave_ms", Col::F64(leave));
    t.push("ended_by_stop", Col::Bool(ended));
    t.push("startup_ms", Col::OptF64(startup));
    t.push("first_block_ms", Col::OptF64(first_block));
    t.push("e2e_ms_mean", Col::OptF64(e2e_mean));
    t.push("e2e_ms_max", Col::OptF64(e2e_max));
    t.push("stall_ms", Col::F64(stall));
    t.push("stalls", Col::U64(stalls));
    t.push("blocks_played", Col::U64(played));
    t.push("blocks_skipped", Col::U64(skipped));
    t.push("hops", Col::OptF64(hops));
    t.push("shortest_hops", Col::OptU64(shortest));
    t.push("bytes_idc", Col::U64(bytes_idc));
    t.push("bytes_home", Col::U64(bytes_home));
    t.push("home_nodes_used", Col::U64(nodes_used));
    t.push("evictions", Col::U64(evictions));
    t
}

/// Columns `summary.parquet` must have (more are welcome).
pub const SUMMARY_COLUMNS: &[&str] = &[
    "run_id", "scenario", "seed", "replication", "topology", "viewers", "home_nodes", "amplification",
    "goodput_amplification", "idc_egress_bytes", "viewer_bytes", "internal_bytes", "hop_waste", "mean_hops",
    "startup_ms_p50", "startup_ms_p95", "first_block_ms_p50", "first_block_ms_p95", "e2e_ms_p50", "e2e_ms_p95", "stall_ratio", "decode_failures", "events",
];
