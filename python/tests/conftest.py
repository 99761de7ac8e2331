"""Fixtures: small results folders made by running the real CLI (through
``cdnsim.run``) on shortened copies of the bundled scenarios, once per
test session. The binary comes from ``cdnsim.find_binary`` (``.ci/run``
sets ``CDNSIM_BIN`` to the build it just made); without one the tests
error with the places it looked, they are not skipped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import cdnsim

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"

# 2 arrival rates x 2 watch-time distributions (text values, listed out of
# alphabetical order to show the sweep's order is kept) x 2 replications.
SWEEP = """
[sweep]
replications = 2
"viewers.arrivals_per_s" = [5.0, 2.0]
"viewers.watch_time.distribution" = ["lognormal", "exponential"]
"viewers.watch_time.mean" = ["30 s"]
"""
SWEEP_RUNS = 8
DURATION_S = 10


def shortened(name: str, old: str, new: str, extra: str = "") -> str:
    """A bundled scenario's text with ``old`` (which must occur once)
    replaced by ``new`` and ``extra`` appended."""
    text = (SCENARIOS / name).read_text()
    assert text.count(old) == 1, f"{name}: {old!r} must occur once"
    return text.replace(old, new) + extra


@dataclass(frozen=True)
class Results:
    """A scenario folder the CLI wrote and the run folders ``run`` returned."""

    scenario_file: Path
    out: Path
    folder: Path
    dirs: list[Path]


def _run(tmp: Path, text: str, jobs: int | None = None) -> Results:
    file = tmp / "scenario.toml"
    file.write_text(text)
    out = tmp / "out"
    dirs = cdnsim.run(file, out, jobs=jobs)
    return Results(file, out, dirs[0].parent, dirs)


@pytest.fixture(scope="session")
def sweep_results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """quickstart for 10 s over an 8-run sweep with a text parameter."""
    text = shortened("quickstart.toml", 'duration = "120 s"', f'duration = "{DURATION_S} s"', SWEEP)
    return _run(tmp_path_factory.mktemp("sweep"), text, jobs=2)


@pytest.fixture(scope="session")
def home_results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """home_churn for 20 s: one run (no sweep) with 6000 home nodes."""
    text = shortened("home_churn.toml", 'duration = "30 min"', 'duration = "20 s"')
    return _run(tmp_path_factory.mktemp("home"), text)
