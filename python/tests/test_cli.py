"""``cdnsim.run`` and ``cdnsim.find_binary``: where the binary comes from,
what ``run`` returns, and the CLI's errors passed on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import cdnsim
from conftest import DURATION_S, Results, shortened


def fake_binary(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\necho fake cdnsim >&2\nexit 1\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No CDNSIM_BIN, no CARGO_TARGET_DIR, a PATH without cdnsim, and the
    working directory outside any checkout."""
    monkeypatch.delenv("CDNSIM_BIN", raising=False)
    monkeypatch.delenv("CARGO_TARGET_DIR", raising=False)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return tmp_path


def checkout(root: Path) -> Path:
    """A folder that looks like a cdnsim checkout, with a scenario in it."""
    root.mkdir(parents=True)
    (root / "Cargo.toml").write_text('[workspace]\nmembers = []\n\n[package]\nname = "cdnsim"\n')
    (root / "scenarios").mkdir()
    scenario = root / "scenarios" / "x.toml"
    scenario.write_text("")
    return scenario


def test_find_binary_prefers_cdnsim_bin(bare_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = fake_binary(bare_env / "bin" / "mine")
    on_path = fake_binary(bare_env / "empty-path" / "cdnsim")
    monkeypatch.setenv("CDNSIM_BIN", str(exe))
    assert cdnsim.find_binary() == exe
    monkeypatch.delenv("CDNSIM_BIN")
    assert cdnsim.find_binary() == on_path


def test_a_wrong_cdnsim_bin_is_an_error_not_a_fallback(bare_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_binary(bare_env / "empty-path" / "cdnsim")
    monkeypatch.setenv("CDNSIM_BIN", str(bare_env / "missing"))
    with pytest.raises(cdnsim.BinaryNotFoundError, match=r"CDNSIM_BIN=.*missing: not an executable file"):
        cdnsim.find_binary()


def test_find_binary_finds_the_checkouts_release_build(bare_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = checkout(bare_env / "repo")
    built = fake_binary(bare_env / "repo" / "target" / "release" / "cdnsim")
    # From the scenario's folder, whatever the working directory.
    assert cdnsim.find_binary(scenario) == built
    # From the working directory, without a scenario.
    monkeypatch.chdir(bare_env / "repo" / "scenarios")
    assert cdnsim.find_binary() == built
    # CARGO_TARGET_DIR wins: cargo builds there when it is set.
    elsewhere = fake_binary(bare_env / "shared-target" / "release" / "cdnsim")
    monkeypatch.setenv("CARGO_TARGET_DIR", str(bare_env / "shared-target"))
    assert cdnsim.find_binary(scenario) == elsewhere


def test_no_binary_names_every_place_it_looked(bare_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = checkout(bare_env / "repo")
    monkeypatch.setenv("CARGO_TARGET_DIR", str(bare_env / "t"))
    with pytest.raises(cdnsim.BinaryNotFoundError) as e:
        cdnsim.find_binary(scenario)
    text = str(e.value)
    for place in [
        "$CDNSIM_BIN (unset)",
        "cdnsim on PATH",
        str(bare_env / "t" / "release" / "cdnsim"),
        str(bare_env / "repo" / "target" / "release" / "cdnsim"),
        f"no cdnsim checkout at or above {bare_env / 'cwd'}",
        "cargo build --release",
    ]:
        assert place in text, f"{place!r} not in: {text}"
    with pytest.raises(cdnsim.BinaryNotFoundError):
        cdnsim.run(scenario, bare_env / "out")


def test_run_returns_the_folders_in_plan_order(sweep_results: Results) -> None:
    dirs = sweep_results.dirs
    assert all(d.parent == sweep_results.folder and (d / "manifest.json").is_file() for d in dirs)
    # Plan order: by sweep point, then replication.
    pairs = []
    for d in dirs:
        m = cdnsim.manifest(sweep_results.folder, d.name)
        pairs.append((m["sweep"]["point"], m["replication"]))
    assert pairs == sorted(pairs)
    assert [r for _, r in pairs] == [0, 1] * 4


def test_run_again_returns_the_same_runs_without_running_them(sweep_results: Results) -> None:
    stamps = [os.stat(d / "manifest.json").st_mtime_ns for d in sweep_results.dirs]
    again = cdnsim.run(sweep_results.scenario_file, sweep_results.out, jobs=2)
    assert again == sweep_results.dirs
    assert [os.stat(d / "manifest.json").st_mtime_ns for d in again] == stamps


def test_run_with_a_seed(tmp_path: Path) -> None:
    text = shortened("quickstart.toml", 'duration = "120 s"', f'duration = "{DURATION_S} s"')
    file = tmp_path / "one.toml"
    file.write_text(text)
    dirs = cdnsim.run(file, tmp_path / "out", seed=7, jobs=1)
    assert len(dirs) == 1
    runs = cdnsim.load(dirs[0].parent)
    assert runs["seed"].to_list() == [7]
    assert cdnsim.manifest(dirs[0].parent, dirs[0].name)["seed"] == 7


def test_a_bad_scenario_gives_the_clis_located_message(tmp_path: Path) -> None:
    text = shortened("quickstart.toml", "route_inflation = 2.0", "route_inflaton = 2.0")
    file = tmp_path / "bad.toml"
    file.write_text(text)
    line = 1 + text[: text.index("route_inflaton")].count("\n")
    with pytest.raises(cdnsim.RunError) as e:
        cdnsim.run(file, tmp_path / "out")
    assert e.value.returncode == 2 and e.value.completed == []
    assert f"bad.toml:{line}:1: network.route_inflaton: unknown field" in str(e.value)
    assert "exited with code 2 (bad input)" in str(e.value)
    assert not (tmp_path / "out").exists(), "nothing written"


def test_failed_runs_raise_with_the_completed_ones_and_are_in_failures(tmp_path: Path) -> None:
    # A pending-event bound far below what the scenario needs fails one point.
    sweep = '\n[sweep]\n"limits.max_pending_events" = [1_000_000, 20]\n'
    text = shortened("quickstart.toml", 'duration = "120 s"', f'duration = "{DURATION_S} s"', sweep)
    file = tmp_path / "rigged.toml"
    file.write_text(text)
    with pytest.raises(cdnsim.RunError) as e:
        cdnsim.run(file, tmp_path / "out", jobs=1)
    assert e.value.returncode == 3 and "some runs failed" in str(e.value)
    assert len(e.value.completed) == 1
    folder = e.value.completed[0].parent
    assert cdnsim.load(folder)["limits.max_pending_events"].to_list() == [1_000_000.0]
    f = cdnsim.failures(folder)
    assert f.height == 1
    assert "more than 20 events pending" in f["message"][0]
    assert f["point"][0] == "limits.max_pending_events = 20"
    assert f["replay"][0].endswith(f"--run-id {f['run_id'][0]}")
    # The empty frame of a folder without failures has the file's schema.
    empty = tmp_path / "nofail"
    empty.mkdir()
    assert cdnsim.failures(empty).schema == f.schema


def test_run_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.toml: no such scenario file"):
        cdnsim.run(tmp_path / "nope.toml", tmp_path / "out")
    file = tmp_path / "x.toml"
    file.write_text("")
    with pytest.raises(ValueError, match=r"jobs: expected at least 1, got 0"):
        cdnsim.run(file, tmp_path / "out", jobs=0)
    exe = fake_binary(tmp_path / "bin" / "cdnsim")
    with pytest.raises(cdnsim.RunError, match=r"exited with code 1 \(internal failure\):\nfake cdnsim"):
        cdnsim.run(file, tmp_path / "out", binary=exe)
