#!/usr/bin/env bash
# Creates (or reuses) a Python virtual environment with notebooks/requirements.txt
# installed and the cdnsim package (python/) installed editable, so the
# notebooks and python/tests import the checkout's own code:
# `notebooks/setup_venv.sh DIR`. Idempotent: a stamp holding the
# requirements' checksum marks a complete install, so a second call costs
# nothing and an edited requirements.txt reinstalls; a second stamp holds
# the package's folder and its pyproject.toml checksum, so the same venv
# (one per cargo target folder, possibly shared by several checkouts)
# points at the checkout that called last. Used by scripts/setup.sh and by
# the notebook test (tests/integration/notebooks.rs).
set -euo pipefail
venv=${1:?usage: setup_venv.sh VENV_DIR}
here=$(cd "$(dirname "$0")" && pwd)
req="$here/requirements.txt"
package=$(cd "$here/../python" && pwd)
want=$(sha256sum "$req" | cut -d' ' -f1)
want_package="$package $(sha256sum "$package/pyproject.toml" | cut -d' ' -f1)"
stamp="$venv/.cdnsim-requirements"
package_stamp="$venv/.cdnsim-package"
pip=(--quiet --disable-pip-version-check)
# Two test processes sharing a target folder must not build one venv at once.
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; }; then
  python=${PYTHON:-python3}
  command -v "$python" >/dev/null || { echo "setup_venv.sh: $python not found (Python 3.10+ is needed for the notebooks)" >&2; exit 1; }
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install "${pip[@]}" --upgrade pip
  "$venv/bin/python" -m pip install "${pip[@]}" -r "$req"
  echo "$want" > "$stamp"
fi
if [ ! -f "$package_stamp" ] || [ "$(cat "$package_stamp")" != "$want_package" ]; then
  "$venv/bin/python" -m pip install "${pip[@]}" -e "$package"
  echo "$want_package" > "$package_stamp"
fi
