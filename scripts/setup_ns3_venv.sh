#!/usr/bin/env bash
# Creates (or reuses) a Python venv holding the ns-3 network simulator
# (PyPI package `ns3`, pinned in scripts/ns3-requirements.txt), the
# reference tests/integration/ns3_dumbbell.rs compares cdnsim's shared
# backbone links with: `scripts/setup_ns3_venv.sh DIR`. A venv of its own
# rather than the notebooks' (the wheel is about 500 MB, and the notebooks
# do not need it). Idempotent: a stamp holding the requirements' checksum
# marks a complete install. Exit 0 and a working `DIR/bin/python -c "from
# ns import ns"` afterwards, or a non-zero exit and the reason on stderr
# (the test then skips, saying so). Called by scripts/setup.sh and the test.
set -euo pipefail
venv=${1:?usage: setup_ns3_venv.sh VENV_DIR}
here=$(cd "$(dirname "$0")" && pwd)
req="$here/ns3-requirements.txt"
want=$(sha256sum "$req" | cut -d' ' -f1)
stamp="$venv/.cdnsim-ns3-requirements"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; }; then
  python=${PYTHON:-python3}
  command -v "$python" >/dev/null || { echo "setup_ns3_venv.sh: $python not found" >&2; exit 1; }
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  "$venv/bin/python" -c "from ns import ns; ns.Simulator" >/dev/null 2>&1 \
    || { echo "setup_ns3_venv.sh: the ns3 package installed but does not import" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
