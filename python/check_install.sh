#!/usr/bin/env bash
# The package as a user gets it: a fresh virtual environment,
# `pip install ./python` (a built wheel, not editable), then one
# `python -c "import cdnsim; ..."` that runs a shortened quickstart sweep
# (2 points x 2 replications, 10 s) through the CLI and loads its tables,
# checking them against the runs' summaries. `bash python/check_install.sh`;
# .ci/run runs it. The binary is what cdnsim.find_binary finds from the
# checkout's scenarios/ ($CDNSIM_BIN, PATH, then the checkout's release build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}
"$python" -m venv "$work/venv"
(cd "$root" && "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check ./python)
grep -q '^duration = "120 s"$' "$root/scenarios/quickstart.toml"
sed 's/^duration = "120 s"$/duration = "10 s"/' "$root/scenarios/quickstart.toml" > "$work/quickstart.toml"
printf '\n[sweep]\nreplications = 2\n"viewers.arrivals_per_s" = [2.0, 5.0]\n' >> "$work/quickstart.toml"
# From the temporary folder, so `import cdnsim` can only be the installed copy.
cd "$work"
PYTHONDONTWRITEBYTECODE=1 "$work/venv/bin/python" -c '
import sys
from importlib.resources import files

import cdnsim

root, scenario, out = sys.argv[1:]
assert cdnsim.__file__.startswith(sys.prefix), f"imported {cdnsim.__file__}, not the installed package"
assert files("cdnsim").joinpath("py.typed").is_file(), "py.typed is not in the wheel"
exe = cdnsim.find_binary(root + "/scenarios/quickstart.toml")
dirs = cdnsim.run(scenario, out, jobs=2, binary=exe)
folder = dirs[0].parent
runs, viewers, series = cdnsim.load(folder), cdnsim.viewers(folder), cdnsim.timeseries(folder)
report, failures = cdnsim.report(folder), cdnsim.failures(folder)
assert cdnsim.params(folder) == ["viewers.arrivals_per_s"]
assert runs.height == len(dirs) == 4, (runs.height, len(dirs))
assert sorted(runs["viewers.arrivals_per_s"]) == [2.0, 2.0, 5.0, 5.0]
assert viewers.height == runs["viewers"].sum() > 0
assert series.height == 10 * runs["streams"].sum()
assert set(report["n"]) == {2} and failures.height == 0
print(f"cdnsim {cdnsim.__version__} from {cdnsim.__file__}, binary {exe}: {runs.height} runs, "
      f"{viewers.height} viewer sessions, {series.height} timeseries rows, {report.height} report rows")
' "$root" "$work/quickstart.toml" "$work/out"
