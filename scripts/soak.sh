#!/usr/bin/env bash
# scripts/soak.sh — the engine's long soak, run as shards with GNU parallel: every run of
# `scripts/engine-check.sh ... full` (the whole catalog and the engine's scenarios, all 64
# combinations of the hardware knobs, random, PCT and bounded DFS), repeated with seeds
# 1..ROUNDS for the random and PCT runs (a DFS run is the same whatever its seed, so it runs
# once). Counts the executions each run really did (its result line), not a budget.
#
# Usage: scripts/soak.sh QINVAL EXECUTIONS ROUNDS [SHARD/N] [JOBS] [OUTDIR]
#   EXECUTIONS  per random/PCT run (DFS: 4x, capped by its bounded space)
#   SHARD/N     run only the runs numbered SHARD mod N (0-based): one machine's part;
#               the shards' summaries add up (scripts/soak.sh --sum OUTDIR...)
#   JOBS        parallel runs on this machine (default: nproc)
#   OUTDIR      keeps jobs.txt, parallel's joblog and out.txt (default: a temporary directory)
# Prints "soak: R runs, X executions, F failed, S s" and exits 0 only if no run failed.
# scripts/soak.sh --sum OUTDIR...: the same line for several shards' OUTDIRs together.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)

summarise() { # out.txt files: one "RESULT<TAB>command" line per run
    awk -F'\t' '
        { runs++; line = $1
          if (match(line, /, [0-9]+ executions/)) {
              n = substr(line, RSTART + 2, RLENGTH - 2); sub(/ executions/, "", n); ex += n
          } else bad++
          if (line !~ /^PASS/) { fails++; print "FAIL: " $2 "\n  -> " line > "/dev/stderr" } }
        END { printf "%d runs, %d executions, %d failed", runs, ex, fails + 0
              if (bad) printf " (%d without an execution count)", bad
              printf "\n"; exit (fails + bad) ? 1 : 0 }' "$@"
}

if [ "${1:-}" = --sum ]; then
    shift
    files=()
    for d in "$@"; do files+=("$d/out.txt"); done
    echo "soak: $(summarise "${files[@]}")"
    exit $?
fi

usage="usage: soak.sh QINVAL EXECUTIONS ROUNDS [SHARD/N] [JOBS] [OUTDIR]"
Q=$(realpath "${1:?$usage}")
EX=${2:?$usage}
ROUNDS=${3:?$usage}
SHARD=${4:-0/1}
JOBS=${5:-$(nproc 2>/dev/null || echo 2)}
OUT=${6:-}
command -v parallel >/dev/null || { echo "soak.sh: needs GNU parallel (Debian: parallel)" >&2; exit 2; }
case "$EX$ROUNDS" in *[!0-9]*) echo "$usage" >&2; exit 2 ;; esac
I=${SHARD%/*} N=${SHARD#*/}
case "$I$N" in *[!0-9]* | "") echo "soak.sh: SHARD/N must be two numbers, I < N" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] && [ "$I" -lt "$N" ] || { echo "soak.sh: SHARD/N must have 0 <= I < N" >&2; exit 2; }
if [ -z "$OUT" ]; then
    OUT=$(mktemp -d)
    trap 'rm -rf "$OUT"' EXIT
fi
mkdir -p "$OUT"

base=$(ENGINE_CHECK_PRINT=1 "$ROOT/scripts/engine-check.sh" "$Q" "$EX" 1 full) || exit 2
{
    for r in $(seq 1 "$ROUNDS"); do
        printf '%s\n' "$base" | while IFS= read -r l; do
            case "$l" in
            *"--strategy dfs"*) [ "$r" = 1 ] && printf '%s\n' "$l" ;;
            *) printf '%s --seed %s\n' "$l" "$r" ;;
            esac
        done
    done
} | awk -v i="$I" -v n="$N" '(NR - 1) % n == i' >"$OUT/jobs.txt"

start=$(date +%s)
# Each run prints one line: its result line, a tab, its command line.
parallel --jobs "$JOBS" --joblog "$OUT/joblog" --line-buffer \
    'r=$(eval {} 2>&1 | head -1); printf "%s\t%s\n" "$r" {}' :::: "$OUT/jobs.txt" >"$OUT/out.txt"
secs=$(($(date +%s) - start))
sum=$(summarise "$OUT/out.txt")
rc=$?
echo "soak: $sum, ${secs} s (shard $I/$N, $JOBS jobs)"
exit $rc
