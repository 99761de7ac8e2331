#!/usr/bin/env bash
# Parallel runs scale with cores: wall time of two runs with --jobs 2 against
# one run alone (same scenario, same length), alternated REPEATS times.
# Usage: scripts/bench_parallel_runs.sh [CDNSIM_BINARY] [REPEATS]
# (default: target/release/cdnsim, 5). The scenario is the quick start at
# 40 viewers/s for 300 s (about 15 M events, 4 s a run on one core), with
# `replications = 2`: the two runs are replications 0 and 1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/cdnsim}
repeats=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e 's/arrivals_per_s = 5.0/arrivals_per_s = 40.0/' -e 's/duration = "120 s"/duration = "300 s"/' \
  "$root/scenarios/quickstart.toml" > "$tmp/bench.toml"
printf '\n[sweep]\nreplications = 2\n' >> "$tmp/bench.toml"
first=$("$bin" plan "$tmp/bench.toml" | awk 'NR == 3 { print $1 }')
# "wall cpu" seconds of a command (cpu = user + system).
measure() { /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" > /dev/null 2>&1 || true; awk '{ printf "%s %.2f", $1, $2 + $3 }' "$tmp/time"; }
echo "repeat  one_run_wall_s  one_run_cpu_s  two_runs_wall_s  two_runs_cpu_s  wall_ratio"
for i in $(seq "$repeats"); do
  rm -rf "$tmp/a" "$tmp/b"
  # --run-id: just replication 0; --shard 0/1: both runs, without the
  # report and charts a whole sweep draws at its end.
  read -r aw ac <<< "$(measure "$bin" run "$tmp/bench.toml" --out "$tmp/a" --jobs 1 --no-progress --run-id "$first")"
  read -r bw bc_ <<< "$(measure "$bin" run "$tmp/bench.toml" --out "$tmp/b" --jobs 2 --no-progress --shard 0/1)"
  printf '%6d  %14.2f  %13.2f  %15.2f  %14.2f  %10.3f\n' "$i" "$aw" "$ac" "$bw" "$bc_" "$(echo "$bw / $aw" | bc -l)"
done
