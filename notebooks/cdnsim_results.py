"""Load cdnsim results into polars DataFrames.

A results folder is what `cdnsim run SCENARIO --out OUT` writes:
``OUT/<scenario name>/`` holds one folder per run (``<run id>/`` with
``summary.parquet``, ``timeseries.parquet``, ``viewers.parquet`` and
``manifest.json``; a run is complete when its manifest exists), plus
``sweep.json`` (the swept parameters, their units and value order),
``report.parquet`` (written by ``cdnsim report``) and, when runs failed,
``failures.parquet``.

    import cdnsim_results as cr
    runs = cr.load("results/quickstart")        # one row per run
    runs.select(cr.params("results/quickstart") + ["replication", "e2e_ms_p95"])
    viewers = cr.viewers("results/quickstart")  # one row per viewer session
    streams = cr.streams("results/tree_vs_pool_vs_mesh")  # one row per stream

Every frame has one column per swept parameter (named by its dotted key,
e.g. ``viewers.arrivals_per_s``), so grouping by parameters is
``df.group_by(cr.params(folder))``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

__all__ = [
    "results_root",
    "scenario_folder",
    "sweep",
    "params",
    "run_dirs",
    "load",
    "viewers",
    "timeseries",
    "streams",
    "home_nodes",
    "manifest",
    "faults",
    "report",
    "failures",
    "cdf",
]


def results_root(default: str | os.PathLike = "../results") -> Path:
    """The results folder: ``$CDNSIM_RESULTS`` if set, else ``default``
    (relative to the notebook's folder, where Jupyter runs it)."""
    return Path(os.environ.get("CDNSIM_RESULTS", default))


def scenario_folder(folder: str | os.PathLike, scenario: str | None = None) -> Path:
    """``folder`` itself if it holds runs, else ``folder/scenario``."""
    p = Path(folder)
    if scenario is not None and not _has_runs(p):
        p = p / scenario
    if not p.is_dir():
        raise FileNotFoundError(f"{p}: no such results folder (run `cdnsim run SCENARIO --out DIR` first)")
    return p


def _has_runs(p: Path) -> bool:
    return p.is_dir() and any((d / "manifest.json").is_file() for d in p.iterdir() if d.is_dir())


def sweep(folder: str | os.PathLike) -> dict:
    """The folder's ``sweep.json`` (``{"params": [], ...}`` without one)."""
    f = Path(folder) / "sweep.json"
    if not f.is_file():
        return {"params": [], "replications": 1}
    return json.loads(f.read_text())


def params(folder: str | os.PathLike) -> list[str]:
    """Column names of the swept parameters, in the order they are written."""
    return [p["key"] for p in sweep(folder)["params"]]


def run_dirs(folder: str | os.PathLike) -> list[Path]:
    """Folders of the complete runs, ordered by run id."""
    p = Path(folder)
    return sorted(d for d in p.iterdir() if d.is_dir() and (d / "manifest.json").is_file())


def _order_params(df: pl.DataFrame, folder: str | os.PathLike) -> pl.DataFrame:
    """Parameters first after the run id; categorical values in sweep order."""
    spec = sweep(folder)["params"]
    keys = [p["key"] for p in spec if p["key"] in df.columns]
    for p in spec:
        if p["key"] in df.columns and not p["numeric"] and df[p["key"]].dtype == pl.String:
            df = df.with_columns(pl.col(p["key"]).cast(pl.Enum(p["values"])))
    first = [c for c in ["run_id"] if c in df.columns] + keys
    return df.select(first + [c for c in df.columns if c not in first])


def load(folder: str | os.PathLike) -> pl.DataFrame:
    """One row per complete run: every ``summary.parquet`` column, swept
    parameters included."""
    dirs = run_dirs(folder)
    if not dirs:
        raise FileNotFoundError(f"{folder}: no complete runs (folders with manifest.json)")
    df = pl.concat([pl.read_parquet(d / "summary.parquet") for d in dirs], how="diagonal_relaxed")
    return _order_params(df, folder)


def _per_run(folder: str | os.PathLike, name: str, optional: bool = False) -> pl.DataFrame:
    """Every run's table ``name`` with its run's id, replication, seed and
    parameters; with ``optional``, runs without the file are left out
    (and there must be at least one with it)."""
    keys = ["run_id", "replication", "seed"] + params(folder)
    summary = load(folder)
    summary = summary.select([k for k in keys if k in summary.columns])
    frames = []
    for d in run_dirs(folder):
        if optional and not (d / name).is_file():
            continue
        f = pl.read_parquet(d / name).with_columns(pl.lit(d.name).alias("run_id"))
        frames.append(f)
    if not frames:
        raise FileNotFoundError(f"{folder}: no run has {name}")
    rows = pl.concat(frames, how="diagonal_relaxed")
    return summary.join(rows, on="run_id", how="inner")


def viewers(folder: str | os.PathLike) -> pl.DataFrame:
    """Every run's ``viewers.parquet``, with the run id, replication, seed
    and swept parameters of its run."""
    return _per_run(folder, "viewers.parquet")


def timeseries(folder: str | os.PathLike) -> pl.DataFrame:
    """Every run's ``timeseries.parquet``, with its run's parameters."""
    return _per_run(folder, "timeseries.parquet")


def streams(folder: str | os.PathLike) -> pl.DataFrame:
    """Every run's ``streams.parquet`` (one row per stream: ingest, viewer
    sessions, viewer and internal bytes, mean hops, hop waste), with its
    run's parameters."""
    return _per_run(folder, "streams.parquet")


def home_nodes(folder: str | os.PathLike) -> pl.DataFrame:
    """Every run's ``home_nodes.parquet`` (one row per home node: region,
    ISP, NAT type, base upload, state at the end; with a last hop also its
    stream and slot, upload and download bytes, amplification, most
    clients at once, sheds and the symbols it sent, arrived, lost and in
    flight at the stop), with its run's parameters. Runs without home
    nodes have no such file and are left out."""
    return _per_run(folder, "home_nodes.parquet", optional=True)


def manifest(folder: str | os.PathLike, run_id: str) -> dict:
    """A run's ``manifest.json``: the resolved scenario (times in ns, rates
    in bit/s), seed, sweep point, versions and wall time."""
    f = Path(folder) / run_id / "manifest.json"
    if not f.is_file():
        raise FileNotFoundError(f"{f}: no such run (complete runs: `run_dirs(folder)`)")
    return json.loads(f.read_text())


def faults(folder: str | os.PathLike) -> pl.DataFrame:
    """One row per fault of each run, from its manifest: ``group`` (the
    shared-risk group), ``kind`` (outage or degrade), ``start_s`` and
    ``end_s``, with its run's parameters. Empty when no run has a fault."""
    rows = []
    for d in run_dirs(folder):
        for f in manifest(folder, d.name)["scenario"].get("faults", []):
            rows.append((d.name, f["group"], f["kind"]["kind"], f["start_ns"] / 1e9, f["end_ns"] / 1e9))
    schema = {"run_id": pl.String, "group": pl.String, "kind": pl.String, "start_s": pl.Float64, "end_s": pl.Float64}
    table = pl.DataFrame(rows, schema=schema, orient="row")
    keys = ["run_id", "replication", "seed"] + params(folder)
    summary = load(folder)
    return summary.select([k for k in keys if k in summary.columns]).join(table, on="run_id", how="inner")


def report(folder: str | os.PathLike) -> pl.DataFrame:
    """``report.parquet``: per sweep point and metric, n, mean, sd and the
    95% confidence interval (``ci95_low``, ``ci95_high``)."""
    f = Path(folder) / "report.parquet"
    if not f.is_file():
        raise FileNotFoundError(f"{f}: run `cdnsim report {folder}` first")
    return _order_params(pl.read_parquet(f), folder)


def failures(folder: str | os.PathLike) -> pl.DataFrame:
    """``failures.parquet`` (run id, seed, message, replay command); empty
    when no run failed."""
    f = Path(folder) / "failures.parquet"
    if not f.is_file():
        schema = {"run_id": pl.String, "seed": pl.UInt64, "replication": pl.UInt64, "point": pl.String, "message": pl.String, "replay": pl.String}
        return pl.DataFrame(schema=schema)
    return pl.read_parquet(f)


def cdf(values: pl.Series) -> tuple[list[float], list[float]]:
    """Empirical CDF of the non-null values: (sorted values, fraction <= value)."""
    v = values.drop_nulls().sort()
    n = len(v)
    return v.to_list(), [(i + 1) / n for i in range(n)]
