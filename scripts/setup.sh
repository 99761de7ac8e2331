#!/usr/bin/env bash
# Installs what building and testing cdnsim needs on a fresh machine.
# Idempotent: does nothing when everything is already there.
set -euo pipefail
if ! command -v cargo >/dev/null; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi

# The instruction-count gate (scripts/icount.sh, run by .ci/run) counts
# instructions under valgrind's callgrind.
if ! command -v valgrind >/dev/null; then
  if ! command -v apt-get >/dev/null; then
    echo "valgrind is required (scripts/icount.sh): install it with the system's package manager" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq valgrind
fi

# The notebooks' Python environment (notebooks/requirements.txt and the
# cdnsim package from python/, editable), where the notebook test
# (tests/integration/notebooks.rs) and .ci/run's pytest step look for it:
# beside cargo's target folder. The test creates it too when missing;
# doing it here keeps the download out of the test's time.
target=${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}
bash "$(dirname "$0")/../notebooks/setup_venv.sh" "$target/notebook-venv"

# ns-3, the reference of the shared-link test (tests/integration/ns3_dumbbell.rs),
# in a venv of its own beside the target folder. Optional: where it cannot
# be installed the test skips and says why, so a failure here is reported
# and not fatal.
bash "$(dirname "$0")/setup_ns3_venv.sh" "$target/ns3-venv" \
  || echo "setup.sh: ns-3 could not be installed; tests/integration/ns3_dumbbell.rs will skip" >&2
