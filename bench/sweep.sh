#!/usr/bin/env bash
# sweep.sh — how long `qinval sweep` takes over the whole catalog with its default budget, per
# driver, against a baseline measured in the same run: `qinval matrix --driver D`, the
# catalog's own cells only, each explored until its first violation (the project's target for
# a sweep of one driver: under 2 minutes on a 2-core machine). Each figure is the wall-clock
# time of one process; the runs alternate sweep and matrix, and the lowest of RUNS is kept,
# since the machines this runs on are shared and noisy.
#
# usage: bench/sweep.sh [QINVAL [RUNS [DRIVER...]]]
#        defaults: build/qinval; 1; every reference driver and qinval (and kernel with
#        QINVAL_KSRC set)
# Prints one line per driver: points, executions, failures, sweep seconds, matrix seconds and
# their ratio, and whether the sweep is within the 120 s target.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
q=$(realpath "${1:-$src/build/qinval}")
runs=${2:-1}
shift $(($# > 2 ? 2 : $#))
drivers=("$@")
if [ ${#drivers[@]} -eq 0 ]; then
    drivers=(legacy-odd eagain-any-ite step1-nowait qinval)
    [ -n "${QINVAL_KSRC:-}" ] && drivers+=(kernel)
fi
case $runs in '' | *[!0-9]* | 0) echo "sweep.sh: RUNS '$runs' is not a positive count" >&2; exit 2 ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

secs() { # command... -> wall seconds (the command's exit 0 or 1 is fine)
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >out.json 2>/dev/null || [ $? -eq 1 ]
    t1=$(date +%s.%N)
    python3 -c "print($t1 - $t0)"
}
min() { printf '%s\n' "$@" | sort -g | head -1; }

printf '%-16s %7s %11s %9s %10s %10s %7s %s\n' driver points executions failures sweep_s \
    matrix_s ratio "target (120 s)"
for d in "${drivers[@]}"; do
    sw=() mx=()
    for ((r = 0; r < runs; r++)); do
        sw+=("$(secs "$q" sweep --driver "$d" --no-progress --format json)")
        cp out.json sweep.json
        mx+=("$(secs "$q" matrix --driver "$d")")
    done
    s=$(min "${sw[@]}") m=$(min "${mx[@]}")
    read -r points executions failures < <(python3 -c '
import json; d = json.load(open("sweep.json"))
print(d["points"], d["executions"], len(d["failures"]))')
    printf '%-16s %7s %11s %9s %10.2f %10.2f %7.1f %s\n' "$d" "$points" "$executions" \
        "$failures" "$s" "$m" "$(python3 -c "print($s / ($m + 0.001))")" \
        "$(python3 -c "print('within' if $s < 120 else 'OVER')")"
done
