#!/usr/bin/env bash
# sweep.sh — `qinval sweep` as a user runs it: the same command twice gives the same report
# byte for byte (but for its wall-clock seconds); shards merged with `qinval merge` give the
# report one process gives, in every format; each failure's counterexample file replays to its
# failure; --against names what the other side introduces; every bad input (an empty domain, a
# domain value its scenario refuses, a budget of 0, a shard of another sweep in a merge, an
# unknown flag) is one line on stderr and exit 2.
set -u
Q=$(realpath "${1:?usage: sweep.sh path/to/qinval}")
KTAP=$(dirname "$(realpath "$0")")/../ktap/ktap_check.awk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0
bad() { echo "FAIL $*"; fail=1; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
# the JSON without its "seconds" members, as canonical text
canon() { python3 -c '
import json, sys
def s(v):
    if isinstance(v, dict): return {k: s(x) for k, x in v.items() if k != "seconds"}
    if isinstance(v, list): return [s(x) for x in v]
    return v
print(json.dumps(s(json.load(open(sys.argv[1]))), sort_keys=True))' "$1"; }
no_seconds() { sed -E 's/, [0-9.]+ s(: |, cut)/, S s\1/' "$1"; }

ARGS=(--driver step1-nowait --scenario ite-bystander --scenario ite-even-batch --executions 600 --no-progress)

# ---- the same inputs, the same report ----
"$Q" sweep "${ARGS[@]}" --format json >a.json
rc=$?
[ $rc = 1 ] || bad "sweep of step1-nowait exited $rc, wanted 1 (it has failures)"
"$Q" sweep "${ARGS[@]}" --format json >b.json
[ "$(canon a.json)" = "$(canon b.json)" ] || bad "two identical sweeps differ"
nfail=$(json a.json 'len(d["failures"])')
[ "$nfail" -ge 2 ] || bad "step1-nowait: $nfail failures, wanted at least 2 (hang and false failure)"
json a.json '[f["oracle"] for f in d["failures"]]' | grep -q false_failure ||
    bad "step1-nowait: the bystander's false failure (-ETIMEDOUT) was not found"
for k in driver scenarios executions points seconds failures; do
    json a.json "d['$k']" >/dev/null 2>&1 || bad "the JSON report has no '$k'"
done
for k in oracle signature scenario region count counterexample; do
    json a.json "d['failures'][0]['$k']" >/dev/null 2>&1 || bad "a failure has no '$k'"
done

# ---- shards merged = one process, in every format ----
for i in 0 1 2; do
    "$Q" sweep "${ARGS[@]}" --shard $i/3 --format json >s$i.json
    [ $? -le 1 ] || bad "shard $i/3 failed"
done
"$Q" merge --format json s2.json s0.json s1.json >m.json
[ "$(canon m.json)" = "$(canon a.json)" ] || bad "merged shards differ from one process (json)"
for f in text markdown ktap; do
    "$Q" sweep "${ARGS[@]}" --format $f --save ce1 >one.$f
    "$Q" merge --format $f --save ce2 s0.json s1.json s2.json >merged.$f
    [ "$(no_seconds one.$f)" = "$(no_seconds merged.$f | sed 's/ce2\//ce1\//g')" ] ||
        bad "merged shards differ from one process ($f)"
done
awk -f "$KTAP" one.ktap | grep -q '^ktap ok: 2 top-level tests (2 not ok)' ||
    bad "the KTAP report is not KTAP with 2 failing scenarios: $(awk -f "$KTAP" one.ktap)"
grep -q '^| F1 |' one.markdown || bad "the markdown report has no failure table"

# ---- every counterexample replays to its failure ----
n=0
for ce in ce1/F*.json; do
    n=$((n + 1))
    want=$(json "$ce" 'd["verdict"]')
    "$Q" replay "$ce" >replay.out 2>&1
    grep -q "^FAIL $want " replay.out || bad "$ce does not replay to $want: $(head -1 replay.out)"
done
[ $n = "$nfail" ] || bad "$n counterexample files for $nfail failures"

# ---- --against: the odd-slot walk is what legacy-odd adds to step1-nowait ----
"$Q" sweep --driver step1-nowait --against legacy-odd --scenario ite-even-batch \
    --executions 300 --format json --no-progress >ag.json
rc=$?
[ $rc = 1 ] || bad "--against legacy-odd exited $rc, wanted 1 (a failure introduced)"
json ag.json '[f["signature"] for f in d["introduced"]]' | grep -q 'hard_lockup: spins' ||
    bad "--against legacy-odd: the walk's lockup is not introduced: $(json ag.json '[f["signature"] for f in d["introduced"]]')"
json ag.json '[f["signature"] for f in d["fixed"] + d["unchanged"]]' | grep -q 'spins' &&
    bad "--against legacy-odd: a spinning walk is in step1-nowait too"

# ---- --time ends the sweep: the report says it is incomplete ----
"$Q" sweep --driver eagain-any-ite --time 0.3 --no-progress --format json >cut.json
[ "$(json cut.json 'd["complete"]')" = False ] || bad "--time 0.3: the whole catalog ran, or the report hides the cut"
[ "$(json cut.json 'd["points"] < d["planned"]')" = True ] || bad "--time 0.3: every planned point ran"

# ---- bad input: one line, exit 2 ----
refused() { # what, then the command
    local what=$1
    shift
    "$@" >out.txt 2>err.txt
    local rc=$?
    [ $rc = 2 ] || bad "$what: exit $rc, wanted 2"
    [ "$(wc -l <err.txt)" = 1 ] || bad "$what: $(wc -l <err.txt) lines on stderr, wanted 1"
    [ -s out.txt ] && bad "$what: printed a report"
}
printf 'name = e\n[params]\nbatch = 1\n[cpu 0]\nop = flush iotlb batch=$batch\n[sweep]\nbatch =\n' >empty.scn
refused "an empty domain" "$Q" sweep --driver qinval --scenario ./empty.scn
grep -q 'empty.scn:7' err.txt || bad "the empty domain's message names no line: $(cat err.txt)"
printf 'name = r\n[params]\nbatch = 1\n[cpu 0]\nop = flush iotlb batch=$batch\n[sweep]\nbatch = 1 0\n' >refused.scn
refused "a value the scenario refuses" "$Q" sweep --driver qinval --scenario ./refused.scn
grep -q 'batch.*the value 0 is refused' err.txt || bad "the refused value is not named: $(cat err.txt)"
refused "a budget of 0" "$Q" sweep --driver qinval --executions 0
refused "a scenario given twice" "$Q" sweep --driver qinval --scenario smoke --scenario smoke
refused "an unknown flag" "$Q" sweep --driver qinval --bogus 1
refused "an unknown format" "$Q" sweep --driver qinval --format xml
refused "--against with --shard" "$Q" sweep --driver qinval --against legacy-odd --shard 0/2
"$Q" sweep "${ARGS[@]}" --seed 2 --shard 1/3 --format json >other.json
refused "a shard of another sweep" "$Q" merge s0.json other.json s2.json
grep -q '"seed" differs' err.txt || bad "the mismatch is not named: $(cat err.txt)"
refused "a shard given twice" "$Q" merge s0.json s0.json s2.json
refused "a shard missing" "$Q" merge s0.json s1.json
refused "replaying a whole sweep report" "$Q" replay a.json
grep -q 'counterexample files the sweep saved' err.txt || bad "replay of a sweep report: $(cat err.txt)"

[ $fail = 0 ] && echo "sweep: OK"
exit $fail
