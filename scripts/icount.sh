#!/usr/bin/env bash
# Instruction-count gate (benches/README.md, "Instruction-count gate"):
# counts the instructions of small engine, codec, routing and world
# workloads under callgrind and compares them with the committed baseline
# benches/icount-baseline.toml.
#
#   scripts/icount.sh [check]   exit 1 when a count rises more than 5% (CI runs this)
#   scripts/icount.sh update    recount and rewrite the baseline; commit it with the
#                               change that moved the counts
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
case "$mode" in
  check | update) ;;
  *)
    echo "usage: scripts/icount.sh [check|update]" >&2
    exit 2
    ;;
esac
if ! command -v valgrind > /dev/null; then
  echo "valgrind is required: scripts/setup.sh installs it (apt-get install valgrind)" >&2
  exit 2
fi
# Built together with the main binary: cargo then resolves the features of
# the shared dependencies as for `cargo run --release`, so nothing it built
# is compiled again (built alone, the runner's smaller graph would select
# fewer features of a few crates and rebuild everything above them).
cargo build --release -p cdnsim -p cdnsim-icount
target=${CARGO_TARGET_DIR:-target}
exec "$target/release/cdnsim-icount" "$mode" --baseline benches/icount-baseline.toml
