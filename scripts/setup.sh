#!/usr/bin/env bash
# Installs what building and testing cdnsim needs on a fresh machine.
# Idempotent: does nothing when everything is already there.
set -euo pipefail
if ! command -v cargo >/dev/null; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
