#!/usr/bin/env bash
# engine.sh — the qinval engine passes every scenario (catalog and tests/scenarios/) under
# both head policies, fetch windows 1 and 8, queues of 8 and 256, both descriptor widths, with
# and without ITESID, with random, PCT and (small configurations) bounded DFS exploration, and
# with caller deadlines shorter than the ITE time-out; DFS that must cover its bounded space
# completely on ite-race (2 CPUs) and eng-ite-race3 (3 CPUs); the deadline_overrun oracle on
# link-down-silent; CI budget (make soak runs the full cross product with millions of
# executions). Also: qinval is listed, and a counterexample
# search that must fail (the reference legacy-odd on an even batch) still fails, so the runs
# above are not vacuous.
set -u
Q=$(realpath "${1:?usage: engine.sh path/to/qinval}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
"$Q" list drivers | grep -q '^qinval ' || { echo "FAIL: qinval not listed"; fail=1; }
"$Q" list drivers | grep -q '^qinval-trusting ' || { echo "FAIL: qinval-trusting not listed"; fail=1; }
"$Q" check --driver legacy-odd --scenario ite-even-batch --executions 50 >/dev/null 2>&1
[ $? = 1 ] || { echo "FAIL: legacy-odd should still fail ite-even-batch"; fail=1; }
"$ROOT/scripts/engine-check.sh" "$Q" "${QINVAL_ENGINE_EXECUTIONS:-150}" 1 || fail=1
# Exhaustive (within the bound) dfs that must cover its space completely: ite-race (2 CPUs, one
# ITE) and the 3-CPU, 1-fault configuration of the dfs performance target (eng-ite-race3, under
# a minute) at the default bound 2, under both head policies, and again with every plain shared
# load and store a scheduling point (mem_points=1: the engine's unlocked accesses interleaved
# one by one).
complete() { # scenario-dir args...
    local dir=$1
    shift
    out=$(QINVAL_SCENARIOS=$dir "$Q" check --driver qinval --strategy dfs --executions 10000000 \
        --no-progress "$@" 2>&1 | head -1)
    case "$out" in
    PASS*"covered completely"*) ;;
    *) echo "FAIL: dfs $* -> $out"; fail=1 ;;
    esac
}
B=${QINVAL_ENGINE_DFS_BOUND:-2} # 1 in the sanitizer build (tests/CMakeLists.txt)
complete "$ROOT/scenarios" --scenario ite-race --bound "$B" --set head_policy=fetch
complete "$ROOT/scenarios" --scenario ite-race --bound "$B" --set head_policy=complete \
    --set itesid=0 --set queue_len=8 --set desc_width=256 --set fetch_window=1
complete "$ROOT/scenarios" --scenario ite-race --bound "$B" --set mem_points=1
complete "$ROOT/tests/scenarios" --scenario eng-ite-race3 --bound "$B"
complete "$ROOT/tests/scenarios" --scenario eng-ite-race3 --bound "$B" --set head_policy=complete \
    --set itesid=0 --set queue_len=8
complete "$ROOT/tests/scenarios" --scenario eng-ite-race3 --bound "$B" --set mem_points=1
# The bounded wait on link-down-silent: every call returns within the engine's default bound
# (90 s) plus deadline_margin_ms, or within a caller's 5 ms deadline plus that margin
# (deadline_overrun oracle), the device is fenced, and nothing reaches freed memory.
for d in 0 5; do
    out=$("$Q" check --driver qinval --scenario link-down-silent --executions 300 --no-progress \
        --set deadline_ms=$d --set deadline_margin_ms=0.01 2>&1 | head -1)
    case "$out" in PASS*) ;; *) echo "FAIL: link-down-silent deadline_ms=$d -> $out"; fail=1 ;; esac
done
# A deliberately late deadline is caught (the oracle is not vacuous for the engine): a margin
# of 0 ns cannot be met, since returning takes a few instructions after the deadline.
"$Q" check --driver qinval --scenario link-down-silent --executions 5 --no-progress \
    --set deadline_ms=5 --set deadline_margin_ms=0 2>&1 | head -1 | grep -q '^FAIL deadline_overrun' ||
    { echo "FAIL: deadline_overrun should fire with a zero margin"; fail=1; }
[ $fail = 0 ] && echo "engine: all checks passed"
exit $fail
