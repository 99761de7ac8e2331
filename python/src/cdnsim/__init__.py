"""cdnsim from Python: load results folders into polars DataFrames and run
the ``cdnsim`` simulator's command line.

    import cdnsim
    dirs = cdnsim.run("scenarios/quickstart.toml", "results")  # run folders
    folder = dirs[0].parent                      # results/quickstart
    runs = cdnsim.load(folder)                   # one row per run
    runs.select(cdnsim.params(folder) + ["replication", "e2e_ms_p95"])
    viewers = cdnsim.viewers(folder)             # one row per viewer session
    pods = cdnsim.table(folder, "pods")          # any table, by name

Module map:

- ``cdnsim.results``: the loaders (``load``, ``viewers``, ``timeseries``,
  ``streams``, ``home_nodes``, ``pods``, ``machines``, ``edge_series``,
  ``faults``, ``report``, ``failures``,
  ``manifest``, ``table``) and the folder helpers (``sweep``, ``params``,
  ``run_dirs``, ``tables``, ``scenario_folder``, ``results_root``).
- ``cdnsim.cli``: ``run`` (the CLI over a scenario, returning its run
  folders) and ``find_binary`` (where the ``cdnsim`` binary comes from:
  ``$CDNSIM_BIN``, ``PATH``, a checkout's release build).

Everything is re-exported here.
"""

from .cli import BinaryNotFoundError, CdnsimError, RunError, find_binary, run
from .results import (
    PathLike,
    Sweep,
    SweepParam,
    cdf,
    edge_series,
    failures,
    faults,
    home_nodes,
    load,
    machines,
    manifest,
    params,
    pods,
    report,
    results_root,
    run_dirs,
    scenario_folder,
    streams,
    sweep,
    table,
    tables,
    timeseries,
    viewers,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "BinaryNotFoundError",
    "CdnsimError",
    "RunError",
    "find_binary",
    "run",
    "PathLike",
    "Sweep",
    "SweepParam",
    "cdf",
    "edge_series",
    "failures",
    "faults",
    "home_nodes",
    "load",
    "machines",
    "manifest",
    "params",
    "pods",
    "report",
    "results_root",
    "run_dirs",
    "scenario_folder",
    "streams",
    "sweep",
    "table",
    "tables",
    "timeseries",
    "viewers",
]
