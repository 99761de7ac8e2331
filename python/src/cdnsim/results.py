"""Load cdnsim results folders into polars DataFrames.

A results folder is what ``cdnsim run SCENARIO --out OUT`` writes:
``OUT/<scenario name>/`` holds one folder per run (``<run id>/`` with
``summary.parquet``, ``timeseries.parquet``, ``viewers.parquet``,
``streams.parquet``, the tables of the features the scenario uses such as
``home_nodes.parquet``, and ``manifest.json``; a run is complete when its
manifest exists), plus ``sweep.json`` (the swept parameters, their units
and value order), ``report.parquet`` (mean and 95% CI per sweep point) and,
when runs failed, ``failures.parquet``.

Every function here takes that scenario folder, ``OUT/<scenario name>``.
Every per-run frame has one column per swept parameter, named by its dotted
key (e.g. ``viewers.arrivals_per_s``), so grouping by parameters is
``df.group_by(params(folder))``. Parameters with text values (e.g.
``routing.mode``) are ``pl.Enum`` columns whose order is the sweep's, so
sorting and plotting keep the order the scenario lists them in.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TypedDict, Union

import polars as pl

__all__ = [
    "PathLike",
    "SweepParam",
    "Sweep",
    "results_root",
    "scenario_folder",
    "sweep",
    "params",
    "run_dirs",
    "tables",
    "table",
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

PathLike = Union[str, os.PathLike[str]]
"""A path given as text or as a ``pathlib.Path``."""

_HOW_TO_RUN = "`cdnsim run SCENARIO --out OUT` (or cdnsim.run) writes OUT/<scenario name>/"


class SweepParam(TypedDict):
    """One swept parameter of ``sweep.json``."""

    key: str
    """Dotted key, also the column name (``viewers.arrivals_per_s``)."""
    numeric: bool
    """Numbers (floats in the tables) or text (``pl.Enum`` in the tables)."""
    unit: str | None
    """The unit the table's numbers are in (``"s"``), or None."""
    values: list[str]
    """The values in the order the scenario lists them, as written."""


class Sweep(TypedDict, total=False):
    """``sweep.json``: what a scenario folder's runs vary."""

    scenario: str
    file: str
    params: list[SweepParam]
    replications: int
    seeds: str
    base_seed: int
    points: int
    runs: int


def results_root(default: PathLike = "../results") -> Path:
    """The results folder: ``$CDNSIM_RESULTS`` if set, else ``default``
    (relative to the notebook's folder, where Jupyter runs it)."""
    return Path(os.environ.get("CDNSIM_RESULTS", default))


def _has_runs(p: Path) -> bool:
    return p.is_dir() and any((d / "manifest.json").is_file() for d in p.iterdir() if d.is_dir())


def _folder(folder: PathLike) -> Path:
    """``folder`` as a Path, refused with a hint when it is no directory."""
    p = Path(folder)
    if not p.is_dir():
        raise FileNotFoundError(f"{p}: no such results folder; {_HOW_TO_RUN}")
    return p


def scenario_folder(folder: PathLike, scenario: str | None = None) -> Path:
    """``folder`` itself if it holds runs, else ``folder/scenario``.

    Lets a notebook take either a results root (``results/``) or a
    scenario's folder (``results/quickstart``) from ``$CDNSIM_RESULTS``.
    """
    p = Path(folder)
    if scenario is not None and not _has_runs(p):
        p = p / scenario
    return _folder(p)


def sweep(folder: PathLike) -> Sweep:
    """The folder's ``sweep.json``; ``{"params": [], "replications": 1}``
    without one (a folder of runs written by hand or by an old version)."""
    f = _folder(folder) / "sweep.json"
    if not f.is_file():
        return {"params": [], "replications": 1}
    data: Sweep = json.loads(f.read_text())
    return data


def params(folder: PathLike) -> list[str]:
    """Column names of the swept parameters, in the order they are written."""
    return [p["key"] for p in sweep(folder)["params"]]


def run_dirs(folder: PathLike) -> list[Path]:
    """Folders of the complete runs (those with ``manifest.json``), ordered
    by run id; empty when there are none."""
    p = _folder(folder)
    return sorted(d for d in p.iterdir() if d.is_dir() and (d / "manifest.json").is_file())


def _complete_runs(folder: PathLike) -> list[Path]:
    """``run_dirs``, refused with a hint when there are none."""
    dirs = run_dirs(folder)
    if dirs:
        return dirs
    p = Path(folder)
    inner = sorted(d.name for d in p.iterdir() if _has_runs(d))
    if inner:
        raise FileNotFoundError(
            f"{p}: no runs here, but it holds the scenario folders {', '.join(inner)}: "
            f"pass one of them, e.g. {p / inner[0]}"
        )
    raise FileNotFoundError(f"{p}: no complete runs (run folders with manifest.json); {_HOW_TO_RUN}")


def _order_params(df: pl.DataFrame, folder: PathLike) -> pl.DataFrame:
    """Parameters first after the run id; text values as an Enum in sweep order."""
    spec = sweep(folder)["params"]
    keys = [p["key"] for p in spec if p["key"] in df.columns]
    for p in spec:
        if p["key"] in df.columns and not p["numeric"] and df[p["key"]].dtype == pl.String:
            df = df.with_columns(pl.col(p["key"]).cast(pl.Enum(p["values"])))
    first = [c for c in ["run_id"] if c in df.columns] + keys
    return df.select(first + [c for c in df.columns if c not in first])


def _file(name: str) -> str:
    return name if name.endswith(".parquet") else f"{name}.parquet"


def load(folder: PathLike) -> pl.DataFrame:
    """One row per complete run: every ``summary.parquet`` column (run id,
    seed, replication, the metrics), swept parameters included."""
    dirs = _complete_runs(folder)
    df = pl.concat([pl.read_parquet(d / "summary.parquet") for d in dirs], how="diagonal_relaxed")
    return _order_params(df, folder)


def _per_run(folder: PathLike, name: str, optional: bool = False) -> pl.DataFrame:
    """Every run's table ``name`` with its run's id, replication, seed and
    parameters. Without ``optional`` every run must have the file; with it,
    runs without the file are left out (and at least one must have it)."""
    keys = ["run_id", "replication", "seed"] + params(folder)
    summary = load(folder)
    summary = summary.select([k for k in keys if k in summary.columns])
    frames = []
    for d in run_dirs(folder):
        f = d / name
        if not f.is_file():
            if optional:
                continue
            raise FileNotFoundError(f"{f}: missing, though the run is complete (is {d} from an older cdnsim?)")
        frames.append(pl.read_parquet(f).with_columns(pl.lit(d.name).alias("run_id")))
    if not frames:
        raise FileNotFoundError(f"{folder}: no run has {name} (tables here: {', '.join(tables(folder)) or 'none'})")
    rows = pl.concat(frames, how="diagonal_relaxed")
    return summary.join(rows, on="run_id", how="inner")


def tables(folder: PathLike) -> list[str]:
    """Names of the tables ``table(folder, name)`` can load: those of the
    runs (``summary``, ``viewers``, ...) and those of the folder
    (``report``, ``failures``, ...), sorted."""
    p = _folder(folder)
    names = {f.stem for d in run_dirs(p) for f in d.glob("*.parquet")}
    names |= {f.stem for f in p.glob("*.parquet")}
    return sorted(n for n in names if not n.startswith("."))


def table(folder: PathLike, name: str) -> pl.DataFrame:
    """Any table by name (``"pods"`` or ``"pods.parquet"``), so tables that
    newer versions of cdnsim add are loadable before they get a function.

    A table the runs hold (``<run id>/<name>.parquet``) comes from every
    run that has it, with each row's run id, replication, seed and swept
    parameters. Otherwise a table of the folder itself
    (``<folder>/<name>.parquet``, like ``report``) is read as it is, its
    parameter columns ordered as in ``report``. ``summary`` is ``load``.
    """
    file = _file(name)
    if file == "summary.parquet":
        return load(folder)
    p = _folder(folder)
    if any((d / file).is_file() for d in run_dirs(p)):
        return _per_run(p, file, optional=True)
    if (p / file).is_file():
        return _order_params(pl.read_parquet(p / file), p)
    raise FileNotFoundError(
        f"{p}: no table {name!r}: neither a run nor the folder has {file} "
        f"(tables here: {', '.join(tables(p)) or 'none'})"
    )


def viewers(folder: PathLike) -> pl.DataFrame:
    """Every run's ``viewers.parquet`` (one row per viewer session), with
    the run id, replication, seed and swept parameters of its run."""
    return _per_run(folder, "viewers.parquet")


def timeseries(folder: PathLike) -> pl.DataFrame:
    """Every run's ``timeseries.parquet`` (one row per second and stream),
    with its run's parameters."""
    return _per_run(folder, "timeseries.parquet")


def streams(folder: PathLike) -> pl.DataFrame:
    """Every run's ``streams.parquet`` (one row per stream: ingest, viewer
    sessions, viewer and internal bytes, mean hops, hop waste), with its
    run's parameters."""
    return _per_run(folder, "streams.parquet")


def home_nodes(folder: PathLike) -> pl.DataFrame:
    """Every run's ``home_nodes.parquet`` (one row per home node: region,
    ISP, NAT type, base upload, state at the end; with a last hop also its
    stream and slot, upload and download bytes, amplification, most
    clients at once, sheds and the symbols it sent, arrived, lost and in
    flight at the stop), with its run's parameters. Runs without home
    nodes have no such file and are left out; with none at all, an error."""
    return _per_run(folder, "home_nodes.parquet", optional=True)


def pods(folder: PathLike) -> pl.DataFrame:
    """Every edge run's ``pods.parquet`` (one row per media-server pod: its
    fleet's room and service, level and machine, when it was created,
    ready, tombstoned and deleted, sessions served, at scale-in, cut by
    cause), with its run's parameters. Only edge runs have it."""
    return _per_run(folder, "pods.parquet", optional=True)


def machines(folder: PathLike) -> pl.DataFrame:
    """Every edge run's ``machines.parquet`` (one row per machine and
    sample: room, pool, level, cordoned, pods, allocated share of each
    resource), with its run's parameters. Only edge runs have it."""
    return _per_run(folder, "machines.parquet", optional=True)


def edge_series(folder: PathLike) -> pl.DataFrame:
    """Every edge run's ``edge_series.parquet`` (one row per sample: live
    sessions and sessions placed per tier, rejections, machines in service
    and holding pods per level, allocated shares per level and resource,
    pods by state, edge egress, serverless instances), with its run's
    parameters. Only edge runs have it."""
    return _per_run(folder, "edge_series.parquet", optional=True)


def manifest(folder: PathLike, run_id: str) -> dict[str, Any]:
    """A run's ``manifest.json``: the resolved scenario (times in ns, rates
    in bit/s), seed, sweep point, versions and wall time."""
    f = _folder(folder) / run_id / "manifest.json"
    if not f.is_file():
        raise FileNotFoundError(f"{f}: no such complete run (complete runs: cdnsim.run_dirs(folder))")
    data: dict[str, Any] = json.loads(f.read_text())
    return data


def faults(folder: PathLike) -> pl.DataFrame:
    """One row per fault of each run, from its manifest: ``group`` (the
    shared-risk group), ``kind`` (outage or degrade), ``start_s`` and
    ``end_s``, with its run's parameters. Empty when no run has a fault."""
    rows = []
    for d in _complete_runs(folder):
        for f in manifest(folder, d.name)["scenario"].get("faults", []):
            rows.append((d.name, f["group"], f["kind"]["kind"], f["start_ns"] / 1e9, f["end_ns"] / 1e9))
    schema = {"run_id": pl.String, "group": pl.String, "kind": pl.String, "start_s": pl.Float64, "end_s": pl.Float64}
    found = pl.DataFrame(rows, schema=schema, orient="row")
    keys = ["run_id", "replication", "seed"] + params(folder)
    summary = load(folder)
    return summary.select([k for k in keys if k in summary.columns]).join(found, on="run_id", how="inner")


def report(folder: PathLike) -> pl.DataFrame:
    """``report.parquet``: per sweep point and metric, n, mean, sd and the
    95% confidence interval (``ci95_low``, ``ci95_high``). ``cdnsim run``
    writes it after a sweep, ``cdnsim report FOLDER`` rewrites it."""
    f = _folder(folder) / "report.parquet"
    if not f.is_file():
        raise FileNotFoundError(f"{f}: missing; run `cdnsim report {folder}` first")
    return _order_params(pl.read_parquet(f), folder)


def failures(folder: PathLike) -> pl.DataFrame:
    """``failures.parquet`` (run id, seed, replication, sweep point,
    message, the command that replays the run); empty when no run failed."""
    f = _folder(folder) / "failures.parquet"
    if not f.is_file():
        schema = {
            "run_id": pl.String,
            "seed": pl.UInt64,
            "replication": pl.UInt64,
            "point": pl.String,
            "message": pl.String,
            "replay": pl.String,
        }
        return pl.DataFrame(schema=schema)
    return pl.read_parquet(f)


def cdf(values: pl.Series) -> tuple[list[float], list[float]]:
    """Empirical CDF of the non-null values: (sorted values, fraction <= value)."""
    v = values.drop_nulls().sort()
    n = len(v)
    return v.to_list(), [(i + 1) / n for i in range(n)]
