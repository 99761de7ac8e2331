#!/usr/bin/env bash
# Byte-identity of results: runs every bundled scenario (every sweep point;
# scale_1m at 1/100 of its size, see scale_down below) and prints the
# SHA-256 of every Parquet file the runs wrote, one line per file, named by
# its path under the results folder (scenario/run id/file), sorted.
# manifest.json and the charts are left out: only Parquet files are a pure
# function of (scenario, seed, code version).
#
#   scripts/results_digest.sh [--bin PATH] [--jobs N] > digests.txt
#   scripts/results_digest.sh [--bin PATH] --check FILE
#                         # exit 1 and print the differing lines when the
#                         # current digests differ from FILE
#   --keep DIR            also copy the results folder to DIR (to compare
#                         summaries before and after a change on purpose)
#
# Without --bin it builds and uses the release binary of this checkout.
# tests/golden/digests.txt holds the digests of the committed results; a
# change that moves results on purpose rewrites it in the same commit
# (`scripts/results_digest.sh > tests/golden/digests.txt`).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="" check="" jobs="" keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --check) check=$2; shift 2 ;;
    --jobs) jobs="--jobs $2"; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "usage: scripts/results_digest.sh [--bin PATH] [--jobs N] [--keep DIR] [--check FILE]" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  cargo build --release -q -p cdnsim >&2
  bin=${CARGO_TARGET_DIR:-target}/release/cdnsim
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# scale_1m at 1/100: audience, arrivals, streams, home nodes, the hot
# threshold and the event bound divided by 100; the rest as bundled.
scale_down() {
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def div(key, line):
    m = re.match(rf'^({key}\s*=\s*)([0-9_.]+)(.*)$', line)
    if not m:
        return line
    v = float(m.group(2).replace('_', '')) / 100
    v = repr(v) if '.' in m.group(2) else str(max(1, int(v)))
    return m.group(1) + v + m.group(3)
out = []
for line in text.splitlines():
    for key in ('initial', 'arrivals_per_s', 'count', 'hot_viewers', 'max_pending_events'):
        line = div(key, line)
    out.append(line)
print('\n'.join(out))
PY
}

for f in scenarios/*.toml; do
  name=$(basename "$f" .toml)
  # scale_10m is scale_1m ten times over: its 1/1000 is the 1/100 point
  # run below, and at full size it needs 16 GB and tens of minutes.
  case "$name" in .digest-*|scale_10m) continue ;; esac
  if [ "$name" = scale_1m ]; then
    # Beside the others: it names the bundled topology by folder.
    small=scenarios/.digest-scale_1m.toml
    scale_down "$f" > "$small"
    trap 'rm -rf "$work" "$small"' EXIT
    f=$small
  fi
  "$bin" run "$f" --out "$work/out" --no-progress $jobs > "$work/$name.log" 2>&1 \
    || { echo "$f failed:" >&2; cat "$work/$name.log" >&2; exit 1; }
done
if [ -n "$keep" ]; then
  rm -rf "$keep" && mkdir -p "$(dirname "$keep")" && cp -r "$work/out" "$keep"
fi
digests=$(cd "$work/out" && find . -name '*.parquet' -print0 | sort -z | xargs -0 sha256sum | sed 's#  \./#  #')
if [ -n "$check" ]; then
  if diff <(echo "$digests") "$check"; then
    echo "identical: $(echo "$digests" | wc -l) Parquet files" >&2
  else
    echo "results differ from $check (< now, > expected)" >&2
    exit 1
  fi
else
  echo "$digests"
fi
