"""Run the ``cdnsim`` command line from Python.

The package holds no simulator: it calls the ``cdnsim`` binary that cargo
builds. ``find_binary`` looks, in this order, at

1. ``$CDNSIM_BIN``: the binary to use, taken as it is (an error when it is
   not an executable file, rather than a silent fallback);
2. ``cdnsim`` on ``PATH`` (``cargo install --path .`` puts it there);
3. the release build of a cdnsim checkout: ``$CARGO_TARGET_DIR/release/cdnsim``
   when that variable is set (cargo builds there then), and
   ``<checkout>/target/release/cdnsim``, where the checkout is the first
   folder holding cdnsim's ``Cargo.toml`` above the scenario file, else
   above the working directory.

``cargo build --release`` (or the README's first command) makes the third.
The binary is not bundled in a wheel: a maturin ``bindings = "bin"`` wheel
would compile the whole simulator (minutes of release build on two cores)
on every ``pip install`` from source.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from .results import PathLike

__all__ = ["CdnsimError", "BinaryNotFoundError", "RunError", "find_binary", "run"]

# Exit codes of the CLI (src/main.rs).
_EXIT_MEANING = {1: "internal failure", 2: "bad input", 3: "some runs failed"}

# A run line of `cdnsim plan`: the run id (16 hex digits) first.
_PLAN_RUN = re.compile(r"^([0-9a-f]{16})\s", re.MULTILINE)

# The [package] name line of cdnsim's own Cargo.toml.
_CDNSIM_PACKAGE = re.compile(r'^name\s*=\s*"cdnsim"\s*$', re.MULTILINE)


class CdnsimError(Exception):
    """Something went wrong calling the ``cdnsim`` CLI."""


class BinaryNotFoundError(CdnsimError, FileNotFoundError):
    """No ``cdnsim`` binary in any of the places ``find_binary`` looks."""


class RunError(CdnsimError):
    """The CLI exited with an error.

    Attributes: ``command`` (the argument list), ``returncode`` (1 internal
    failure, 2 bad input, 3 some runs failed), ``stdout`` and ``stderr``
    (the CLI's output), and ``completed``: the folders of the runs that did
    complete (with exit code 3, the others of the sweep; see
    ``cdnsim.failures(folder)`` for the failed ones).
    """

    def __init__(self, command: list[str], returncode: int, stdout: str, stderr: str, completed: list[Path]):
        self.command = command
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.completed = completed
        meaning = _EXIT_MEANING.get(returncode, "unexpected exit code")
        said = (stderr.strip() + "\n" + stdout.strip()).strip() or "(no output)"
        super().__init__(f"`{shlex.join(command)}` exited with code {returncode} ({meaning}):\n{said}")


def _executable(p: Path) -> bool:
    return p.is_file() and os.access(p, os.X_OK)


def _checkout(start: Path) -> Path | None:
    """The first folder at or above ``start`` holding cdnsim's Cargo.toml."""
    for d in [start, *start.parents]:
        manifest = d / "Cargo.toml"
        try:
            if manifest.is_file() and _CDNSIM_PACKAGE.search(manifest.read_text(errors="replace")):
                return d
        except OSError:
            continue
    return None


def find_binary(scenario: PathLike | None = None) -> Path:
    """The ``cdnsim`` binary to run (see the module's text for the order).

    ``scenario`` is a scenario file whose checkout to look in before the
    working directory's. Raises ``BinaryNotFoundError`` naming every place
    it looked and how to make one.
    """
    env = os.environ.get("CDNSIM_BIN")
    if env:
        p = Path(env)
        if _executable(p):
            return p
        raise BinaryNotFoundError(f"CDNSIM_BIN={env}: not an executable file (unset it to search PATH and the checkout)")
    on_path = shutil.which("cdnsim")
    if on_path:
        return Path(on_path)
    tried = ["$CDNSIM_BIN (unset)", "cdnsim on PATH"]
    candidates: list[Path] = []
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        # Relative to the working directory, as cargo takes it.
        candidates.append(Path(target).absolute() / "release" / "cdnsim")
    no_checkout = []
    starts = ([Path(scenario).absolute().parent] if scenario is not None else []) + [Path.cwd()]
    for start in starts:
        root = _checkout(start)
        if root is None:
            no_checkout.append(f"no cdnsim checkout at or above {start}")
        else:
            candidates.append(root / "target" / "release" / "cdnsim")
    for c in dict.fromkeys(candidates):
        if _executable(c):
            return c
        tried.append(str(c))
    tried += no_checkout
    raise BinaryNotFoundError(
        "no cdnsim binary found; looked at: "
        + "; ".join(tried)
        + ". Build one with `cargo build --release` in the cdnsim checkout, "
        "or set CDNSIM_BIN to the binary."
    )


def _call(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)


def _found_runs(out: Path, ids: list[str]) -> list[Path]:
    """The complete runs among ``ids`` under ``out/<scenario name>/``, in
    the order of ``ids``. The scenario's folder name is not known here;
    run ids hash the whole resolved scenario, name included, so a run id
    names one run under any scenario folder."""
    if not out.is_dir():
        return []
    scenarios = sorted(d for d in out.iterdir() if d.is_dir())
    found = []
    for run_id in ids:
        for s in scenarios:
            if (s / run_id / "manifest.json").is_file():
                found.append(s / run_id)
                break
    return found


def run(
    scenario: PathLike,
    out: PathLike,
    seed: int | None = None,
    jobs: int | None = None,
    *,
    binary: PathLike | None = None,
) -> list[Path]:
    """Run every run of a scenario's sweep with the CLI and return their
    folders (``out/<scenario name>/<run id>``), in the order ``cdnsim plan``
    lists them (by sweep point, then replication).

    ``seed`` overrides the scenario's seed (``--seed``), ``jobs`` the runs
    at once (``--jobs``; default all cores, same bytes for any value).
    ``binary`` is the ``cdnsim`` to call instead of ``find_binary``'s.
    Runs already complete in ``out`` are not run again. The scenario's
    folder, ``folder.parent`` of any returned path, is what the loaders
    (``cdnsim.load`` ...) take.

    Raises ``RunError`` when the CLI fails: with the CLI's own message (a
    bad scenario names file:line:col and the field), its exit code, and,
    when only some runs failed (exit code 3), the completed ones in
    ``.completed``. Under a batch system's array job (``SLURM_ARRAY_TASK_ID``
    ...) the CLI does only this task's shard, and the list holds that
    shard's runs.
    """
    file = Path(scenario)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such scenario file")
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs: expected at least 1, got {jobs}")
    exe = Path(binary) if binary is not None else find_binary(file)
    options: list[str] = []
    if seed is not None:
        options += ["--seed", str(seed)]
    if jobs is not None:
        options += ["--jobs", str(jobs)]

    plan_cmd = [str(exe), "plan", str(file), *options]
    plan = _call(plan_cmd)
    if plan.returncode != 0:
        raise RunError(plan_cmd, plan.returncode, plan.stdout, plan.stderr, [])
    ids = _PLAN_RUN.findall(plan.stdout)
    if not ids:
        raise CdnsimError(f"`{shlex.join(plan_cmd)}` listed no runs; it printed:\n{plan.stdout}{plan.stderr}")

    out_dir = Path(out)
    run_cmd = [str(exe), "run", str(file), "--out", str(out_dir), "--no-progress", *options]
    done = _call(run_cmd)
    found = _found_runs(out_dir, ids)
    if done.returncode != 0:
        raise RunError(run_cmd, done.returncode, done.stdout, done.stderr, found)
    if not found:
        raise CdnsimError(
            f"`{shlex.join(run_cmd)}` succeeded but none of its {len(ids)} runs is complete under {out_dir}; "
            f"it printed:\n{done.stdout}{done.stderr}"
        )
    return found
