#!/usr/bin/env bash
# Creates (or reuses) a Python virtual environment with notebooks/requirements.txt
# installed: `notebooks/setup_venv.sh DIR`. Idempotent: a stamp holding the
# requirements' checksum marks a complete install, so a second call costs
# nothing and an edited requirements.txt reinstalls. Used by
# scripts/setup.sh and by the notebook test (tests/integration/notebooks.rs).
set -euo pipefail
venv=${1:?usage: setup_venv.sh VENV_DIR}
here=$(cd "$(dirname "$0")" && pwd)
req="$here/requirements.txt"
want=$(sha256sum "$req" | cut -d' ' -f1)
stamp="$venv/.cdnsim-requirements"
# Two test processes sharing a target folder must not build one venv at once.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi
python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "setup_venv.sh: $python not found (Python 3.10+ is needed for the notebooks)" >&2; exit 1; }
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
