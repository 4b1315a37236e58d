#!/usr/bin/env bash
# dpor.sh — the unbounded search (`check --strategy dfs --bound none`) on the cases that measure
# it, against a baseline measured in the same run: the bounded search (`--bound 12`) of the same
# case, whose executions per second say what one execution costs there. Cases: the two-CPU
# scenario bench/ite-even-batch-2cpu.scn with step1-nowait (to prove) and legacy-odd (to find
# at once); the engine on ite-race and on its three-CPU eng-ite-race3; the kernel's own code
# on ite-race with QINVAL_KSRC set. The project's target for the proofs: 13 s each on a 2-core
# machine (a tenth of GenMC's 130 s on a hand model of the first case).
#
# usage: bench/dpor.sh [QINVAL [SECONDS]]     defaults: build/qinval; 120 s per search
# QINVAL_DPOR_ARGS: more options for the unbounded search (e.g. "--time-model local")
# Prints one line per case: verdict, whether the search ended, executions, seconds, executions
# per second and their ratio to the bounded search's.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
q=$(realpath "${1:-$src/build/qinval}")
limit=${2:-120}
case $limit in '' | *[!0-9]* | 0) echo "dpor.sh: SECONDS '$limit' is not a positive count" >&2; exit 2 ;; esac
sc2=$src/bench/ite-even-batch-2cpu.scn
cases=("step1-nowait $sc2" "legacy-odd $sc2" "qinval ite-race" "qinval eng-ite-race3")
[ -n "${QINVAL_KSRC:-}" ] && cases+=("kernel ite-race")

field() { sed -n "s/.*[(,] *\([0-9.]*\) $1[,)].*/\1/p" | head -1; }
printf '%-14s %-28s %-8s %-6s %12s %9s %10s %8s\n' driver scenario verdict ended executions \
    seconds exec/s vs-bound12
for c in "${cases[@]}"; do
    set -- $c
    d=$1 s=$2
    env=()
    [ "$s" = eng-ite-race3 ] && env=(QINVAL_SCENARIOS=$src/tests/scenarios)
    run() { env "${env[@]}" "$q" check --driver "$d" --scenario "$s" --strategy dfs --no-progress \
        --no-minimise "$@" 2>/dev/null | head -1; }
    u=$(run --bound none ${QINVAL_DPOR_ARGS:-} --time "$limit")
    b=$(run --bound 12 --time "$limit")
    ex=$(printf '%s' "$u" | grep -o '[0-9]* executions' | head -1 | cut -d' ' -f1)
    [ -z "$ex" ] && ex=$(printf '%s' "$u" | sed -n 's/.*execution \([0-9]*\),.*/\1/p')
    sec=$(printf '%s' "$u" | grep -o '[0-9.]* s)' | tail -1 | cut -d' ' -f1)
    [ -z "$sec" ] && sec=$(printf '%s' "$u" | grep -o ', [0-9.]* s' | tail -1 | tr -dc '0-9.')
    bex=$(printf '%s' "$b" | grep -o '[0-9]* executions' | head -1 | cut -d' ' -f1)
    bsec=$(printf '%s' "$b" | grep -o ', [0-9.]* s' | tail -1 | tr -dc '0-9.')
    ended=no
    case "$u" in *"every interleaving covered"* | FAIL*) ended=yes ;; esac
    rate=$(awk -v e="${ex:-0}" -v t="${sec:-0}" 'BEGIN { printf "%.0f", (t > 0 ? e / t : 0) }')
    brate=$(awk -v e="${bex:-0}" -v t="${bsec:-0}" 'BEGIN { printf "%.0f", (t > 0 ? e / t : 0) }')
    ratio=$(awk -v a="$rate" -v b="$brate" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    printf '%-14s %-28s %-8s %-6s %12s %9s %10s %8s\n' "$d" "$(basename "$s")" "${u%% *}" \
        "$ended" "${ex:-?}" "${sec:-?}" "$rate" "$ratio"
done
