#!/usr/bin/env bash
# engine.sh — the qinval engine passes every scenario (catalog and tests/scenarios/) under
# both head policies, fetch windows 1 and 8, queues of 8 and 256, both descriptor widths, with
# and without ITESID, with random, PCT and (small configurations) bounded DFS exploration, and
# with caller deadlines shorter than the ITE time-out; CI budget (make soak runs the full
# cross product with millions of executions). Also: qinval is listed, and a counterexample
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
[ $fail = 0 ] && echo "engine: all checks passed"
exit $fail
