//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const QUICKSTART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/quickstart.toml");

pub fn quickstart_text() -> String {
    std::fs::read_to_string(QUICKSTART).expect("quickstart scenario")
}

/// Writes the bundled China topology into `dir/topologies/` with Telecom's
/// Beijing-Guangdong corridor link cut from 800 Gbit/s to 3 Mbit/s, so a
/// scenario in `dir` naming topology "china" can saturate it with a few
/// 2 Mbit/s streams.
pub fn china_with_a_3_mbps_corridor(dir: &Path) {
    let topo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/topologies/china.toml")).unwrap();
    let from = r#"{ a = "beijing", b = "guangdong", bandwidth = "800 Gbps", groups = ["telecom.jing-han-guang"] }"#;
    assert_eq!(topo.matches(from).count(), 1, "the bundled topology changed: pick the link again");
    std::fs::create_dir_all(dir.join("topologies")).unwrap();
    std::fs::write(dir.join("topologies/china.toml"), topo.replace(from, &from.replace("800 Gbps", "3 Mbps"))).unwrap();
}

/// A fresh, empty folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cdnsim-it-{}-{name}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary under test: `CDNSIM_BIN` when set (worktrees sharing one
/// target folder overwrite each other's `target/release/cdnsim`; their
/// `deps/cdnsim-<hash>` copies are their own), else cargo's.
pub fn cdnsim_bin() -> String {
    std::env::var("CDNSIM_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_cdnsim").to_string())
}

pub fn cdnsim(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(cdnsim_bin()).args(args).envs(envs.iter().copied()).output().expect("run cdnsim")
}

/// Runs `cdnsim run` and returns the run folder; on failure, panics with
/// the output and the command that replays it.
pub fn run_ok(scenario: &Path, out: &Path, extra: &[&str], envs: &[(&str, &str)]) -> PathBuf {
    let mut args = vec!["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = cdnsim(&args, envs);
    assert!(
        o.status.success(),
        "cdnsim failed ({:?})\nreplay: cdnsim {}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        args.join(" "),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let line = stdout.lines().find_map(|l| l.strip_prefix("results: ")).expect("results line");
    PathBuf::from(line.trim())
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub const PARQUET_FILES: [&str; 3] = ["summary.parquet", "timeseries.parquet", "viewers.parquet"];

/// A numeric column as f64 (null -> NaN).
pub fn col(df: &polars::prelude::DataFrame, name: &str) -> Vec<f64> {
    use polars::prelude::*;
    df.column(name).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

/// A string column.
pub fn strs(df: &polars::prelude::DataFrame, name: &str) -> Vec<String> {
    df.column(name).unwrap().str().unwrap().iter().map(|s| s.unwrap_or_default().to_string()).collect()
}

/// A boolean column (no nulls).
pub fn bools(df: &polars::prelude::DataFrame, name: &str) -> Vec<bool> {
    df.column(name).unwrap().bool().unwrap().iter().map(|b| b.unwrap()).collect()
}

/// A float column with its nulls.
pub fn opt(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name).unwrap().f64().unwrap().iter().collect()
}

/// The last-hop tests' network, sections `[network]` to `[broadcaster]`:
/// one source, one centre and one edge in Beijing on Telecom, with a
/// broadcaster ingesting at the source.
pub const ONE_EDGE_BEIJING: &str = r#"[network]
route_inflation = 2.0
propagation_km_per_ms = 200.0
min_latency = "1 ms"

[transport]
retransmit_timeout = "200 ms"
max_retransmits = 3

[[regions]]
name = "beijing"
lat = 39.90
lon = 116.40

[[nodes]]
name = "src"
region = "beijing"
isp = "telecom"
role = "source"
egress = "10 Gbps"

[[nodes]]
name = "centre"
region = "beijing"
isp = "telecom"
role = "centre"
parent = "src"
egress = "10 Gbps"

[[nodes]]
name = "edge"
region = "beijing"
isp = "telecom"
role = "edge"
parent = "centre"
egress = "40 Gbps"
egress_queue = "64 MiB"

[[links]]
from = "src"
to = "centre"
bandwidth = "10 Gbps"

[[links]]
from = "centre"
to = "edge"
bandwidth = "10 Gbps"

[broadcaster]
region = "beijing"
ingest = "src"
uplink = "20 Mbps"
access_latency = "5 ms"

"#;

/// A `[home]` section whose nodes all have open NATs, the same upload, a
/// flat day and steady household usage: the last-hop tests' home nodes.
pub fn flat_homes(upload: &str, on_mean: &str) -> String {
    format!(
        r#"[home]
nat_mix = [1.0, 0.0, 0.0, 0.0]
upload = {{ distribution = "uniform", min = "{upload}", max = "{upload}" }}
on_session = {{ distribution = "exponential", mean = "{on_mean}" }}
off_session = {{ distribution = "exponential", mean = "10 s" }}
start_time_of_day = "20 h"
diurnal = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
           1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
household = {{ low = 1.0, high = 1.0, interval = "60 s", mean_hold = "60 s" }}

"#
    )
}

/// Writes `text` as `<name>.toml` in a fresh folder and runs it.
pub fn run_text(name: &str, text: &str) -> PathBuf {
    let dir = temp_dir(name);
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    run_ok(&file, &dir.join("out"), &["--no-progress"], &[])
}
