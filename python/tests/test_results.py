"""The loaders against results folders the real CLI wrote (conftest.py).

Expected counts come from the sweep the fixture wrote (points x
replications), from each run's own summary row, and from reading the
run's Parquet files directly, not from the loader under test."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

import cdnsim
from conftest import DURATION_S, SWEEP_RUNS, Results

PARAMS = ["viewers.arrivals_per_s", "viewers.watch_time.distribution", "viewers.watch_time.mean"]
POINT = ["viewers.arrivals_per_s", "viewers.watch_time.distribution"]


def per_run(df: pl.DataFrame) -> dict[str, int]:
    return dict(df.group_by("run_id").len().iter_rows())


def test_load_gives_one_row_per_run_with_the_sweep_parameters(sweep_results: Results) -> None:
    f = sweep_results.folder
    runs = cdnsim.load(f)
    assert runs.height == SWEEP_RUNS == cdnsim.sweep(f)["runs"]
    assert sorted(runs["run_id"]) == sorted(d.name for d in sweep_results.dirs)
    assert cdnsim.params(f) == PARAMS
    # Parameters right after the run id, in the sweep's order.
    assert runs.columns[: 1 + len(PARAMS)] == ["run_id", *PARAMS]
    assert runs.schema["viewers.arrivals_per_s"] == pl.Float64
    assert runs.schema["viewers.watch_time.mean"] == pl.Float64
    assert set(runs["viewers.arrivals_per_s"]) == {5.0, 2.0}
    assert set(runs["viewers.watch_time.mean"]) == {30.0}  # "30 s" in the sweep's unit, s
    # Text values: an Enum in the order the scenario lists them.
    dist = runs.schema["viewers.watch_time.distribution"]
    assert isinstance(dist, pl.Enum) and dist.categories.to_list() == ["lognormal", "exponential"]
    assert runs.sort("viewers.watch_time.distribution")["viewers.watch_time.distribution"][0] == "lognormal"
    # Every point has replications 0 and 1 once each.
    reps = runs.group_by(POINT).agg(pl.col("replication").sort())
    assert reps.height == 4
    assert reps["replication"].to_list() == [[0, 1]] * 4
    # The summary columns came along.
    for c in ["seed", "viewers", "streams", "duration_s", "e2e_ms_p95", "stall_ratio"]:
        assert c in runs.columns
    assert set(runs["duration_s"]) == {float(DURATION_S)}


def test_viewers_rows_match_each_runs_summary_and_files(sweep_results: Results) -> None:
    f = sweep_results.folder
    runs = cdnsim.load(f)
    v = cdnsim.viewers(f)
    assert per_run(v) == dict(runs.select("run_id", "viewers").iter_rows())
    assert v.height == sum(pl.read_parquet(d / "viewers.parquet").height for d in sweep_results.dirs)
    assert v.height > 0
    for c in ["run_id", "replication", "seed", *PARAMS, "viewer_id", "startup_ms", "e2e_ms_mean"]:
        assert c in v.columns
    # Each row carries its own run's parameters.
    keys = ["run_id", "replication", "seed", *PARAMS]
    joined = v.select(keys).unique().sort("run_id")
    assert joined.equals(runs.select(keys).sort("run_id"))


def test_timeseries_has_a_row_per_second_and_stream(sweep_results: Results) -> None:
    f = sweep_results.folder
    runs = cdnsim.load(f)
    ts = cdnsim.timeseries(f)
    expected = {r: DURATION_S * s for r, s in runs.select("run_id", "streams").iter_rows()}
    assert per_run(ts) == expected
    assert sorted(set(ts["second"])) == list(range(DURATION_S))
    assert set(PARAMS) <= set(ts.columns)


def test_streams_has_a_row_per_stream(sweep_results: Results) -> None:
    f = sweep_results.folder
    runs = cdnsim.load(f)
    assert per_run(cdnsim.streams(f)) == dict(runs.select("run_id", "streams").iter_rows())


def test_report_agrees_with_the_summaries(sweep_results: Results) -> None:
    f = sweep_results.folder
    rep = cdnsim.report(f)
    assert rep.columns[: len(PARAMS)] == PARAMS
    assert isinstance(rep.schema["viewers.watch_time.distribution"], pl.Enum)
    metrics = rep["metric"].unique()
    assert rep.height == 4 * len(metrics)
    assert set(rep["n"]) == {2}
    assert (rep["ci95_low"] <= rep["mean"]).all() and (rep["mean"] <= rep["ci95_high"]).all()
    # The report's mean viewers per point is the mean of that point's runs.
    mean = cdnsim.load(f).group_by(POINT).agg(pl.col("viewers").cast(pl.Float64).mean().alias("expected"))
    got = rep.filter(pl.col("metric") == "viewers").join(mean, on=POINT, how="inner")
    assert got.height == 4
    assert (got["mean"] - got["expected"]).abs().max() < 1e-9  # type: ignore[operator]


def test_manifest_is_the_runs_own(sweep_results: Results) -> None:
    f = sweep_results.folder
    for run_id, seed, rep in cdnsim.load(f).select("run_id", "seed", "replication").iter_rows():
        m = cdnsim.manifest(f, run_id)
        assert (m["run_id"], m["seed"], m["replication"]) == (run_id, seed, rep)
        assert m["scenario"]["duration_ns"] == DURATION_S * 10**9
    with pytest.raises(FileNotFoundError, match=r"0000000000000000/manifest.json: no such complete run"):
        cdnsim.manifest(f, "0000000000000000")


def test_table_loads_any_table_by_name(sweep_results: Results) -> None:
    f = sweep_results.folder
    assert {"summary", "viewers", "timeseries", "streams", "report", "control"} <= set(cdnsim.tables(f))
    assert cdnsim.table(f, "viewers").equals(cdnsim.viewers(f))
    assert cdnsim.table(f, "streams.parquet").equals(cdnsim.streams(f))
    assert cdnsim.table(f, "summary").equals(cdnsim.load(f))
    assert cdnsim.table(f, "report").equals(cdnsim.report(f))
    with pytest.raises(FileNotFoundError, match=r"no table 'pods'.*pods\.parquet.*tables here: control, report, streams, summary"):
        cdnsim.table(f, "pods")


def test_table_reads_a_new_per_run_table_from_the_runs_that_have_it(sweep_results: Results, tmp_path: Path) -> None:
    # A table a newer cdnsim might add, present in two runs only.
    f = tmp_path / "quickstart"
    shutil.copytree(sweep_results.folder, f)
    runs = cdnsim.run_dirs(f)
    for i, d in enumerate(runs[:2]):
        pl.DataFrame({"pod": [f"p{i}a", f"p{i}b", f"p{i}c"]}).write_parquet(d / "pods.parquet")
    pods = cdnsim.table(f, "pods")
    assert per_run(pods) == {runs[0].name: 3, runs[1].name: 3}
    assert set(PARAMS) <= set(pods.columns) and "pods" in cdnsim.tables(f)


def test_optional_and_absent_tables(sweep_results: Results, home_results: Results) -> None:
    with pytest.raises(FileNotFoundError, match=r"no run has home_nodes\.parquet"):
        cdnsim.home_nodes(sweep_results.folder)
    h = home_results.folder
    assert cdnsim.params(h) == []
    homes = cdnsim.home_nodes(h)
    assert per_run(homes) == dict(cdnsim.load(h).select("run_id", "home_nodes").iter_rows())
    assert homes.height == 6000  # the scenario's [[home.regions]] counts
    f = cdnsim.faults(sweep_results.folder)
    assert f.height == 0 and {"run_id", "group", "kind", "start_s", "end_s"} <= set(f.columns)
    assert cdnsim.failures(sweep_results.folder).height == 0


def test_a_complete_run_missing_a_table_is_named(sweep_results: Results, tmp_path: Path) -> None:
    f = tmp_path / "quickstart"
    shutil.copytree(sweep_results.folder, f)
    broken = cdnsim.run_dirs(f)[3]
    (broken / "viewers.parquet").unlink()
    with pytest.raises(FileNotFoundError, match=rf"{broken.name}/viewers\.parquet: missing"):
        cdnsim.viewers(f)


def test_folder_errors_say_what_is_missing(sweep_results: Results, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere: no such results folder; `cdnsim run SCENARIO --out OUT`"):
        cdnsim.load(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"no runs here, but it holds the scenario folders quickstart"):
        cdnsim.load(sweep_results.out)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty: no complete runs"):
        cdnsim.viewers(empty)
    with pytest.raises(FileNotFoundError, match=r"report\.parquet: missing; run `cdnsim report "):
        cdnsim.report(empty)


def test_results_root_and_scenario_folder(sweep_results: Results, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDNSIM_RESULTS", str(sweep_results.out))
    root = cdnsim.results_root()
    assert root == sweep_results.out
    assert cdnsim.scenario_folder(root, "quickstart") == sweep_results.folder
    assert cdnsim.scenario_folder(sweep_results.folder, "quickstart") == sweep_results.folder
    monkeypatch.delenv("CDNSIM_RESULTS")
    assert cdnsim.results_root("elsewhere") == Path("elsewhere")


def test_cdf() -> None:
    xs, ps = cdnsim.cdf(pl.Series([3.0, None, 1.0, 2.0, 2.0]))
    assert xs == [1.0, 2.0, 2.0, 3.0]
    assert ps == [0.25, 0.5, 0.75, 1.0]
