#!/usr/bin/env bash
# smoke-variants.sh — executions per second on `smoke` and on smaller variants of it
# (bench/smoke-variants/*.scn), measured in one run with the runs alternated, each variant as a
# ratio to smoke itself. The project's target is 200,000 smoke executions per second per core;
# this says how far the workload's size, rather than the checker's speed, decides that figure
# (bench/README.md, "Remaining").
#
# usage: bench/smoke-variants.sh [QINVAL [EXECUTIONS [RUNS [DRIVER]]]]
#        defaults: build-pgo/qinval if built (make pgo), else build/qinval; 20000; 6;
#        step1-nowait
# Each figure is the CPU time (user + system) of one `qinval check` process; the lowest of
# RUNS is reported with the median, since the machines this runs on are shared and noisy.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
q=${1:-}
if [ -z "$q" ]; then
    q=$src/build-pgo/qinval
    [ -x "$q" ] || q=$src/build/qinval
fi
execs=${2:-20000}
runs=${3:-6}
driver=${4:-step1-nowait}
for n in "$execs" "$runs"; do
    case $n in
    '' | *[!0-9]* | 0)
        echo "smoke-variants.sh: '$n' is not a positive count" >&2
        exit 2
        ;;
    esac
done
if [ ! -x "$q" ]; then
    echo "smoke-variants.sh: no qinval at $q (build it: make build, or make pgo)" >&2
    exit 2
fi

scenarios=("$src/scenarios/smoke.scn")
for f in "$src"/bench/smoke-variants/*.scn; do
    scenarios+=("$f")
done

# CPU seconds of one check (user + system), from bash's time keyword.
cpu_seconds() {
    local TIMEFORMAT='%3U %3S' out
    out=$({ time "$q" check --no-progress --driver "$driver" --scenario "$1" \
        --executions "$execs" >/dev/null; } 2>&1) || {
        echo "smoke-variants.sh: $q check on $1 failed: ${out%$'\n'*}" >&2
        exit 3
    }
    awk '{ printf "%.3f\n", $1 + $2 }' <<<"${out##*$'\n'}"
}

declare -A times
for ((r = 0; r < runs; r++)); do
    for s in "${scenarios[@]}"; do
        times[$s]+="$(cpu_seconds "$s") "
    done
done

echo "$driver, $execs executions per run, $runs runs alternated; $q"
printf '%-26s %12s %12s %10s %12s %10s\n' scenario "lowest (s)" "median (s)" "µs/exec" "execs/s" "vs smoke"
base=
for s in "${scenarios[@]}"; do
    read -r low med < <(tr ' ' '\n' <<<"${times[$s]}" | grep . | sort -g |
        awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                  print v[1], m }')
    [ -n "$base" ] || base=$low
    awk -v n="$(basename "$s" .scn)" -v low="$low" -v med="$med" -v e="$execs" -v b="$base" \
        'BEGIN { printf "%-26s %12.3f %12.3f %10.2f %12.0f %10.2f\n", n, low, med,
                 low / e * 1e6, (low > 0 ? e / low : 0), low / b }'
done
