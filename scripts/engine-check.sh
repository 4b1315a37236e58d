#!/usr/bin/env bash
# scripts/engine-check.sh — the engine checked on every scenario (the catalog and the engine's
# own, tests/scenarios/) under the hardware behaviours the specification leaves open: both
# head policies, fetch windows 1 and 8, queues of 8 and 256 entries, 128- and 256-bit
# descriptors, with and without ITESID, with plain shared loads and stores as scheduling points
# or not (mem_points: the engine's unlocked accesses interleaved one by one); random and PCT exploration everywhere, bounded DFS on
# the small configurations; the engine without validation before queuing (qinval-trusting) on
# the scenarios with malformed descriptors; caller deadlines shorter than the ITE time-out.
#
# Usage: scripts/engine-check.sh QINVAL EXECUTIONS [JOBS] [full]
#   EXECUTIONS  per random/PCT run (the DFS runs get 4x that, capped by the bounded space)
#   JOBS        parallel runs (default 1)
#   full        every combination of the six knobs (64) instead of a covering set of 8
# Exit 0 if every run passed, 1 otherwise (each failure printed with its command line).
# ENGINE_CHECK_PRINT=1: print the runs' command lines, one a line, and run nothing
# (scripts/soak.sh runs them with GNU parallel, in shards).
set -u
Q=$(realpath "${1:?usage: engine-check.sh QINVAL EXECUTIONS [JOBS] [full]}")
EX=${2:?usage: engine-check.sh QINVAL EXECUTIONS [JOBS] [full]}
JOBS=${3:-1}
MODE=${4:-cover}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CATALOG=$ROOT/scenarios
ENGINE_SC=$ROOT/tests/scenarios

# head_policy fetch_window queue_len desc_width itesid mem_points
if [ "$MODE" = full ]; then
    COMBOS=()
    for hp in fetch complete; do for fw in 1 8; do for ql in 8 256; do for dw in 128 256; do
        for it in 0 1; do for mp in 0 1; do COMBOS+=("$hp $fw $ql $dw $it $mp"); done; done
    done; done; done; done
else
    # Every pair of values of any two knobs appears together at least once.
    COMBOS=("fetch 8 256 128 1 0" "complete 1 8 256 0 0" "fetch 1 8 128 0 0"
        "complete 8 256 256 1 0" "complete 8 8 128 1 1" "fetch 8 256 256 0 1"
        "complete 1 256 128 1 0" "fetch 1 256 256 1 1")
fi

jobs_file=$(mktemp)
trap 'rm -f "$jobs_file"' EXIT
emit() { # dir driver scenario strategy executions sets...
    local dir=$1 d=$2 s=$3 st=$4 ex=$5
    shift 5
    local sets=""
    for kv in "$@"; do sets="$sets --set $kv"; done
    echo "QINVAL_SCENARIOS=$dir $Q check --driver $d --scenario $s --strategy $st --executions $ex$sets" >>"$jobs_file"
}

scenarios() { ls "$1" | sed -n 's/\.scn$//p'; }

for dir in "$CATALOG" "$ENGINE_SC"; do
    for s in $(scenarios "$dir"); do
        for c in "${COMBOS[@]}"; do
            set -- $c
            knobs=("head_policy=$1" "fetch_window=$2" "queue_len=$3" "desc_width=$4" "itesid=$5"
                "mem_points=$6")
            for st in random pct; do
                emit "$dir" qinval "$s" "$st" "$EX" "${knobs[@]}"
            done
            case "$s" in *iqe*) emit "$dir" qinval-trusting "$s" random "$EX" "${knobs[@]}" ;; esac
        done
    done
done
# Bounded exhaustive search on the small (one- and two-CPU) scenarios.
for s in ite-even-batch ite-race ice-bad-itag iqe-bad-desc link-down-silent stale-atc-dma \
    flr-during-inval surprise-removal detach-link-down shared-domain-dead-device; do
    for c in "fetch 8 256 128 1" "complete 1 8 256 0"; do
        set -- $c
        emit "$CATALOG" qinval "$s" dfs $((EX * 4)) "head_policy=$1" "fetch_window=$2" \
            "queue_len=$3" "desc_width=$4" "itesid=$5"
    done
done
emit "$CATALOG" qinval-trusting iqe-bad-desc dfs $((EX * 4)) head_policy=complete
# A caller's deadline shorter than the ITE time-out: the calls return on time, the fault
# interrupt finishes the recovery, nothing leaks.
for c in "fetch 0" "complete 1"; do
    set -- $c
    for s in link-down-silent link-flap surprise-removal ite-bystander detach-link-down \
        shared-domain-dead-device; do
        emit "$CATALOG" qinval "$s" random "$EX" deadline_ms=5 "head_policy=$1" "itesid=$2"
    done
done

if [ "${ENGINE_CHECK_PRINT:-0}" = 1 ]; then
    cat "$jobs_file"
    exit 0
fi
total=$(wc -l <"$jobs_file")
fails=$(tr '\n' '\0' <"$jobs_file" | xargs -0 -P "$JOBS" -I{} bash -c '
    all=$(eval "{}" 2>&1)
    out=$(printf "%s\n" "$all" | head -1)
    why=$(printf "%s\n" "$all" | grep -m1 "^why:")
    case "$out" in PASS*) ;; *) printf "FAIL: %s\n  -> %s\n  -> %s\n" "{}" "$out" "$why" ;; esac' | tee /dev/stderr | grep -c '^FAIL')
ndfs=$(grep -c -- '--strategy dfs' "$jobs_file")
budget=$(((total - ndfs) * EX + ndfs * EX * 4))
echo "engine-check: $total runs, $fails failed ($EX executions each, 4x for dfs: $budget budgeted; $MODE)"
[ "$fails" = 0 ]
