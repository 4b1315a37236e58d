#!/usr/bin/env bash
# bounds.sh — what a long workload costs `qinval check`: memory that grows with what is run (a
# workload of hundreds of millions of operations runs under a small `ulimit -v`: the submit
# records are not sized up front), --time bounding the whole command (exploration,
# minimisation, output) even when one execution would run far longer, an execution cut by the
# budget never reported as a verdict it did not show, and running out of memory said in one
# line with exit status 3, never a bare abort. Wall-clock bounds here are generous: they are
# bounds, not benchmarks. Under the sanitizers (QINVAL_TEST_SANITIZED=1) the `ulimit -v` parts
# are left out: ASan reserves terabytes of address space at start.
set -u
Q=${1:?usage: bounds.sh path/to/qinval}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
sanitized=${QINVAL_TEST_SANITIZED:-0}

# run NAME LIMIT_KB SECONDS_MAX qinval-args...: runs qinval (under ulimit -v LIMIT_KB unless 0
# or sanitized), records its status in $rc and checks that it returned within SECONDS_MAX.
run() {
    local name=$1 limit=$2 most=$3
    shift 3
    local t0 t1
    t0=$(date +%s%N)
    # (killed well past its bound, so that a command that is not bounded fails, not hangs)
    if [ "$limit" != 0 ] && [ "$sanitized" != 1 ]; then
        (ulimit -v "$limit" && exec timeout -k 5 $((most * 3)) "$Q" "$@") >"$T/out" 2>"$T/err"
    else
        timeout -k 5 $((most * 3)) "$Q" "$@" >"$T/out" 2>"$T/err"
    fi
    rc=$?
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    if [ "$ms" -gt $((most * 1000)) ]; then
        echo "FAIL $name: took ${ms} ms, more than ${most} s"; fail=1
    fi
}
want_rc() { # name status...
    local name=$1 ok=0
    shift
    for s in "$@"; do [ "$rc" = "$s" ] && ok=1; done
    [ $ok = 1 ] || { echo "FAIL $name: exit $rc, wanted $*; stderr: $(head -c 400 "$T/err")"; fail=1; }
}
one_line_err() { # name pattern
    if [ "$(wc -l <"$T/err")" != 1 ] || ! grep -q -- "$2" "$T/err"; then
        echo "FAIL $1: stderr was: $(head -c 600 "$T/err")"; fail=1
    fi
}

# One CPU, 200 million repeats of three operations: the records for all of them up front were
# terabytes (a bare abort). Now --time 2 cuts the first execution; nothing was judged, which is
# said (exit 2), not a pass and not a hang.
cat >"$T/long.scn" <<'EOF'
name = long
[endpoint ep0]
sid = 01:00.0
[cpu 0]
repeat = 200000000
op = flush iotlb
op = flush devtlb=ep0 batch=4
op = sleep us=1
EOF
run long-one-cpu 4194304 6 check --driver qinval --scenario "$T/long.scn" --time 2
want_rc long-one-cpu 2
one_line_err long-one-cpu "^qinval check: --time 2 ran out before any execution of qinval / .*long.scn finished (the first was cut after [0-9]* scheduling steps, .* of virtual time): nothing was judged"
[ -s "$T/out" ] && { echo "FAIL long-one-cpu printed a result: $(head -2 "$T/out")"; fail=1; }

# 32 CPUs, 100000 repeats each: one execution runs for minutes; --time 2 returns in seconds.
cat >"$T/wide.scn" <<'EOF'
name = wide
[params]
cpus = 32
[endpoint ep0]
sid = 01:00.0
[cpu *]
repeat = 100000
op = flush devtlb=ep0 batch=2
EOF
for fmt in text json; do
    secs=2; [ $fmt = json ] && secs=0.5
    run "wide-$fmt" 0 6 check --driver qinval --scenario "$T/wide.scn" --time "$secs" --format $fmt
    want_rc "wide-$fmt" 2
    one_line_err "wide-$fmt" "nothing was judged"
done
# ... and so does asking for a trace of it: the trace is refused, not written in part.
run wide-trace 0 6 check --driver qinval --scenario "$T/wide.scn" --time 0.5 --trace "$T/wide.json"
want_rc wide-trace 2

# Executions short enough that some finish: a pass of those judged, and of the one running when
# the time ran out, if it was cut rather than finished first, a word (not a count, not a verdict).
# (A tenth of that under the sanitizers, where an execution costs several times more and a
# loaded machine could leave none finished within the second.)
reps=3000
[ "${QINVAL_TEST_SANITIZED:-}" = 1 ] && reps=300
sed "s/repeat = 100000/repeat = $reps/; s/cpus = 32/cpus = 2/" "$T/wide.scn" >"$T/some.scn"
run some-cut 0 6 check --driver qinval --scenario "$T/some.scn" --time 1 --executions 100000000
want_rc some-cut 0
grep -Eq "^PASS qinval / .*some.scn  \(random, seed 1, [1-9][0-9]* executions( \(one more cut by --time, not judged\))?, [0-9.]+ s\): no violation$" "$T/out" ||
    { echo "FAIL some-cut: $(head -2 "$T/out")"; fail=1; }

# A violation whose execution takes about a second (legacy-odd locks up once cpu1, after a
# long sleep while cpu0 flushes, meets a dropped device-TLB request): its minimisation replays
# and the replay that renders its timeline are bounded too (--time, then one second for the
# output). On a slow machine the violation may not be reached in time: then nothing was judged.
cat >"$T/late.scn" <<'EOF'
name = late
[params]
cpus = 2
[endpoint ep0]
sid = 01:00.0
[fault]
ep = ep0
kind = drop
arg = 1
at_us = 0
[cpu 0]
repeat = 1000000
op = flush iotlb
[cpu 1]
op = sleep us=100000
op = flush devtlb=ep0 batch=2
EOF
run late-violation 0 8 check --driver legacy-odd --scenario "$T/late.scn" --time 3 --save "$T/ce.json"
want_rc late-violation 1 2
if [ "$rc" = 1 ]; then
    grep -q "^FAIL hard_lockup  legacy-odd" "$T/out" || { echo "FAIL late-violation: $(head -2 "$T/out")"; fail=1; }
    grep -q '"qinval_counterexample": 1' "$T/ce.json" || { echo "FAIL late-violation: no counterexample saved"; fail=1; }
fi

# Without --time, memory runs out: one line naming what could not be had, exit status 3.
if [ "$sanitized" != 1 ]; then
    run out-of-memory 1000000 120 check --driver qinval --scenario "$T/long.scn"
    want_rc out-of-memory 3
    one_line_err out-of-memory "^qinval: out of memory: [0-9]* bytes for the records of a run (.*) could not be had"
fi

[ $fail = 0 ] && echo "bounds: all checks passed"
exit $fail
