#!/usr/bin/env bash
# scale_parallel.sh — shards run by GNU parallel (`parallel -j2 qinval ... --shard {}/N ...
# ::: $(seq 0 N-1)`), merged with `qinval merge`, give the result one process gives (the cases
# and the comparison: tests/scale/common.sh). GNU parallel is installed if missing (Debian's
# parallel, through scripts/deps.sh: root or sudo); without it the test says why and exits 77
# (CTest: skipped).
set -u
Q=$(realpath "${1:?usage: scale_parallel.sh path/to/qinval}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
start=$(date +%s.%N)

# GNU parallel, not moreutils' parallel (which takes other arguments).
is_gnu_parallel() { parallel --version 2>/dev/null | grep -q 'GNU parallel'; }
if ! is_gnu_parallel; then
    if ! "$ROOT/scripts/deps.sh" parallel >deps.log 2>&1; then
        echo "SKIPPED: GNU parallel is not installed and could not be: $(tail -1 deps.log)"
        exit 77
    fi
    command -v parallel >/dev/null 2>&1 ||
        { echo "SKIPPED: GNU parallel is still not installed after scripts/deps.sh parallel"; exit 77; }
    is_gnu_parallel || { echo "SKIPPED: 'parallel' is not GNU parallel: $(parallel --version 2>&1 | head -1)"; exit 77; }
fi

# shellcheck source=../scale/common.sh
. "$ROOT/tests/scale/common.sh"

run_shards() { # NAME N ARGS...
    local name=$1 n=$2
    shift 2
    # A shard that finds a violation exits 1: a result, not a failure; anything above is one.
    parallel --will-cite -j2 --halt never "$Q" "$@" --shard {}/"$n" --format json '>' "$name".{}.json \
        '2>' "$name".{}.err ';' test '$?' -le 1 ::: $(seq 0 $((n - 1)))
    local rc=$?
    [ $rc = 0 ] || echo "parallel: $rc shard(s) exited above 1 ($(cat "$name".*.err | head -1))"
    return $rc
}

scale_cases
echo "scale_parallel: $(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)") s"
[ $scale_fail = 0 ] && echo "scale_parallel: all checks passed"
exit $scale_fail
