#!/usr/bin/env bash
# reports.sh — the report formats as the real commands produce them: the ftrace-style text
# timeline (columns, the oracle's words, schedule and replay lines; replay prints the same
# timeline); KTAP from check (pass and fail) and matrix, each checked against the format's
# rules by tests/ktap/ktap_check.awk (which must itself reject broken KTAP); --trace on check
# and replay (same run, same bytes; an unwritable path is a usage error); the JSON result's and
# merge's timelines; exit codes (0 no violation, 1 violation found, 2 usage or input error,
# 3 internal error) with every format. The trace's content is checked by test_report_trace.
set -u
Q=$(realpath "${1:?usage: reports.sh path/to/qinval}")
KTAP="$(cd "$(dirname "$0")/.." && pwd)/ktap/ktap_check.awk"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0
bad() { echo "FAIL $*"; fail=1; }
run() { # expected-exit command... (stdout to out.txt, stderr to err.txt)
    local want=$1
    shift
    "$@" >out.txt 2>err.txt
    local rc=$?
    [ "$rc" = "$want" ] || bad "$*: exit $rc, wanted $want ($(head -2 err.txt))"
}

# ---- the text timeline ----
run 1 "$Q" check --driver legacy-odd --scenario ite-even-batch --save ce.json
cp out.txt check.txt
grep -q '^#    AGENT  CPU        TIMESTAMP  EVENT$' check.txt || bad "timeline header"
tl=$(grep -E '^ +[a-z]+[0-9]*  \[([0-9]{3}|---)\] +[0-9]+\.[0-9]{9}: ' check.txt | wc -l)
[ "$tl" -ge 20 ] || bad "only $tl ftrace-style timeline lines"
grep -Eq '^ +cpu0  \[000\] +[0-9.]+: submit: 2 descriptors$' check.txt || bad "no submit line"
grep -Eq '^ +cpu0  \[000\] +[0-9.]+: IQT <- 0x30$' check.txt || bad "tail write not on cpu0"
grep -Eq '^ +iommu  \[---\] +1\.000000850: ITE sid=01:00.0' check.txt || bad "no ITE line"
grep -Eq '^ +check  \[---\] +10\.[0-9]{9}: hard_lockup: ' check.txt || bad "no verdict line"
tail -4 check.txt | head -1 | grep -q '^why: cpu0 loops with interrupts disabled' || bad "why"
[ "$(tail -3 check.txt | head -1)" = "signature: hard_lockup: spins in abort_every_other_slot (no platform point), after ITE" ] ||
    bad "signature line: $(tail -3 check.txt | head -1)"
tail -2 check.txt | head -1 | grep -q '^schedule: ' || bad "schedule line"
[ "$(tail -1 check.txt)" = "replay: qinval replay ce.json" ] || bad "replay line"
run 1 "$Q" replay ce.json
diff <(sed 1d check.txt | sed '$d') <(sed 1d out.txt) >/dev/null || bad "replay prints another timeline"
[ -s err.txt ] && bad "replay of a fresh counterexample warns: $(cat err.txt)"
# A file whose schedule or verdict does not fit what its replay does says so (still replays).
edit() { sed "$1" ce.json >edited.json; run "$2" "$Q" replay edited.json; }
edit 's/"picks": \[\]/"picks": [[0, 9]]/' 1
grep -q "warning: 1 of the file's 1 decisions do not fit" err.txt || bad "option out of range: $(cat err.txt)"
edit 's/"picks": \[\]/"picks": [[999999, 1]]/' 1
grep -q "warning: 1 of the file's 1 decisions do not fit" err.txt || bad "position never reached: $(cat err.txt)"
edit 's/"verdict": "hard_lockup"/"verdict": "hang"/' 1
grep -q "warning: the file records hang, this replay gives hard_lockup" err.txt || bad "verdict: $(cat err.txt)"
edit 's/"qinval_counterexample": 1/"qinval_counterexample": 2/' 2
grep -q '"qinval_counterexample" is version 2; this qinval reads version 1' err.txt || bad "version: $(cat err.txt)"

# the JSON result carries the same timeline lines, and merge prints them under the same header
run 1 "$Q" check --driver legacy-odd --scenario ite-even-batch --format json --save ce3.json
cp out.txt result.json
grep -Eq '^      "      cpu0  \[000\]      0\.000000780: IQT <- 0x30",$' result.json || bad "JSON timeline"
run 1 "$Q" merge result.json
grep -q '^#    AGENT  CPU        TIMESTAMP  EVENT$' out.txt || bad "merge timeline header"
diff <(grep -E '^ +[a-z]+[0-9]*  \[' out.txt) <(grep -E '^ +[a-z]+[0-9]*  \[' check.txt) >/dev/null ||
    bad "merge prints another timeline than check"

# ---- KTAP ----
ktap_summary() { awk -f "$KTAP" "$1"; }
run 1 "$Q" check --driver legacy-odd --scenario ite-even-batch --format ktap --save ce2.json
[ "$(ktap_summary out.txt)" = "ktap ok: 1 top-level tests (1 not ok), 0 subtests, 0 subtest results" ] ||
    bad "check ktap (fail): $(ktap_summary out.txt)"
grep -q '^# why: cpu0 loops with interrupts disabled' out.txt || bad "ktap why"
grep -q '^# replay: qinval replay ce2.json$' out.txt || bad "ktap replay"
[ "$(tail -1 out.txt)" = "not ok 1 legacy-odd/ite-even-batch" ] || bad "ktap result line"
[ -s ce2.json ] || bad "ktap run saved no counterexample"
run 0 "$Q" check --driver qinval --scenario smoke --executions 20 --format ktap
[ "$(ktap_summary out.txt)" = "ktap ok: 1 top-level tests (0 not ok), 0 subtests, 0 subtest results" ] ||
    bad "check ktap (pass): $(ktap_summary out.txt)"

nsc=$("$Q" list scenarios | wc -l)
run 1 "$Q" matrix --format ktap --executions 10
cp out.txt matrix.ktap
run 1 "$Q" matrix --executions 10
# the drivers in the matrix: every one listed, less the kernel driver without a kernel tree
ndrv=$(head -1 out.txt | awk '{print NF - 1}')
nfail=$(tail -n +2 out.txt | awk '{for (i = 2; i <= NF; i++) if ($i != "pass") {print; break}}' | wc -l)
want="ktap ok: $nsc top-level tests ($nfail not ok), $nsc subtests, $((nsc * ndrv)) subtest results"
[ "$(ktap_summary matrix.ktap)" = "$want" ] || bad "matrix ktap: $(ktap_summary matrix.ktap), wanted $want"
grep -Eq '^  # legacy-odd: (hang|hard_lockup): ' matrix.ktap || bad "matrix ktap lacks the oracle's words"
[ "$nfail" -ge 1 ] || bad "the matrix found no violation to report"

# the checker rejects what breaks the rules
reject() { # what text
    printf '%b' "$2" | awk -f "$KTAP" >/dev/null && bad "ktap_check accepted $1"
}
reject "a missing version line" '1..1\nok 1 a\n'
reject "a short plan" 'KTAP version 1\n1..2\nok 1 a\n'
reject "a skipped number" 'KTAP version 1\n1..2\nok 1 a\nok 3 b\n'
reject "odd indentation" 'KTAP version 1\n1..1\n   KTAP version 1\n   1..1\n   ok 1 x\nok 1 a\n'
reject "an unclosed subtest" 'KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  ok 1 x\n'
reject "a subtest without its version line" 'KTAP version 1\n1..1\n  1..1\n  ok 1 x\nok 1 a\n'
reject "a result before the plan" 'KTAP version 1\nok 1 a\n1..1\n'
reject "a stray line" 'KTAP version 1\n1..1\nhello\nok 1 a\n'

# ---- --trace ----
run 1 "$Q" check --driver legacy-odd --scenario ite-even-batch --trace check.json
run 1 "$Q" replay --trace replay.json ce.json
[ -s check.json ] && head -c 16 check.json | grep -q '^{"traceEvents":' || bad "check --trace wrote no trace"
cmp -s check.json replay.json || bad "check and replay traces of the same run differ"
run 0 "$Q" check --driver qinval --scenario smoke --executions 5 --format json --trace pass.json
grep -q '"name":"pass"' pass.json || bad "a passing check's trace lacks its verdict"
grep -q '"verdict": "pass"' out.txt || bad "--trace changed the JSON result"
run 2 "$Q" check --driver legacy-odd --scenario smoke --trace "$work/no/such/dir/t.json"
[ "$(wc -l <err.txt)" = 1 ] && grep -q "cannot write the trace file" err.txt || bad "unwritable --trace: $(cat err.txt)"
run 2 "$Q" replay --trace "$work/no/such/dir/t.json" ce.json
[ "$(wc -l <err.txt)" = 1 ] || bad "replay: unwritable --trace: $(cat err.txt)"
run 2 "$Q" replay --trace
run 2 "$Q" matrix --format json
[ "$(wc -l <err.txt)" = 1 ] || bad "matrix --format json: $(cat err.txt)"

[ $fail = 0 ] && echo "reports: ok"
exit $fail
