#!/usr/bin/env bash
# unbounded.sh — `qinval check --strategy dfs --bound none` (dynamic partial-order reduction):
# legacy-odd's walk lockup on the benchmark scenario of bench/dpor.sh is found at once and its
# counterexample replays; a proof says "every interleaving covered" (JSON: complete, no bound);
# the reference drivers' slot leak on iqe-bad-desc, which needs one CPU to run a fraction of a
# microsecond later than the other, is found (by the unbounded search, and by the bounded one
# now that it no longer skips local steps by default); on small catalog scenarios the
# unbounded search ends and agrees with the bounded search wherever that one covers its whole
# space; --no-assume (every shared load and store a point) agrees; shards merged give one
# search's verdict; bad combinations are one line and exit 2.
set -u
Q=$(realpath "${1:?usage: unbounded.sh path/to/qinval}")
ROOT=$(cd "$(dirname "$(realpath "$0")")/../.." && pwd)
SC=$ROOT/bench/ite-even-batch-2cpu.scn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0
bad() { echo "FAIL $*"; fail=1; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
execs() { sed -n 's/.*, \([0-9]*\) executions.*/\1/p' "$1" | head -1; }

# ---- the benchmark scenario: legacy-odd's lockup at once, and its counterexample replays ----
"$Q" check --driver legacy-odd --scenario "$SC" --strategy dfs --bound none --no-progress \
    --save odd.json >odd.txt 2>&1
rc=$?
[ $rc = 1 ] || bad "legacy-odd: exit $rc, want 1 (a violation)"
grep -q '^FAIL hard_lockup .*execution [0-9],' odd.txt || bad "legacy-odd not found in the first 10 executions: $(head -1 odd.txt)"
"$Q" replay odd.json >replay.txt 2>&1
[ $? = 1 ] || bad "the unbounded counterexample does not replay to its violation"

# ---- a proof: text and JSON ----
"$Q" check --driver qinval --scenario iqe-bad-desc --strategy dfs --bound none --no-progress \
    >proof.txt 2>&1
rc=$?
[ $rc = 0 ] || bad "qinval on iqe-bad-desc: exit $rc: $(head -1 proof.txt)"
grep -q '^PASS .*every interleaving covered (assuming' proof.txt || bad "no 'every interleaving covered': $(head -1 proof.txt)"
grep -q '^dpor: ' proof.txt || bad "no dpor figures line"
"$Q" check --driver qinval --scenario iqe-bad-desc --strategy dfs --bound none --no-progress \
    --format json >proof.json 2>/dev/null
[ "$(json proof.json 'd["complete"]')" = True ] || bad "JSON complete is not true"
[ "$(json proof.json 'd["dfs_bound"]')" = None ] || bad "JSON dfs_bound is not null"
[ "$(json proof.json 'd["executions"]')" = "$(execs proof.txt)" ] || bad "text and JSON executions differ"

# ---- time within the candidate window matters: the slot leak is found ----
for d in step1-nowait legacy-odd eagain-any-ite; do
    "$Q" check --driver $d --scenario iqe-bad-desc --strategy dfs --bound none --no-progress \
        --no-minimise --time 60 >leak.txt 2>&1
    grep -q '^FAIL slot_leak' leak.txt || bad "$d/iqe-bad-desc, bound none: no slot leak: $(head -1 leak.txt)"
    "$Q" check --driver $d --scenario iqe-bad-desc --strategy dfs --bound 2 --no-progress \
        --no-minimise >leak.txt 2>&1
    grep -q '^FAIL slot_leak' leak.txt || bad "$d/iqe-bad-desc, bound 2: no slot leak: $(head -1 leak.txt)"
done

# ---- small scenarios: the unbounded search ends, and agrees with the bounded one ----
for s in surprise-removal link-flap detach-link-down iqe-bad-desc ice-bad-itag ite-even-batch; do
    for d in step1-nowait qinval legacy-odd eagain-any-ite; do
        u=$("$Q" check --driver $d --scenario $s --strategy dfs --bound none --no-progress \
            --no-minimise --time 60 2>/dev/null | head -1)
        case "$u" in PASS*"every interleaving covered"* | FAIL*) ;;
        *) bad "$d/$s: bound none did not end: ${u:0:100}" ;; esac
        b=$("$Q" check --driver $d --scenario $s --strategy dfs --bound 16 --no-progress \
            --no-minimise --time 60 2>/dev/null | head -1)
        case "$b" in *"bounded space covered completely"* | FAIL*) ;; *) continue ;; esac
        [ "${b%% *}" = "${u%% *}" ] || bad "$d/$s: bound 16 says '${b:0:60}', bound none '${u:0:60}'"
    done
done

# ---- --no-assume: every shared load and store a point; a larger search, the same verdict ----
"$Q" check --driver qinval --scenario link-down-silent --strategy dfs --bound none \
    --no-progress >a.txt 2>&1 || bad "qinval link-down-silent: $(head -1 a.txt)"
"$Q" check --driver qinval --scenario link-down-silent --strategy dfs --bound none --no-assume \
    --no-progress >s.txt 2>&1 || bad "qinval link-down-silent --no-assume: $(head -1 s.txt)"
grep -q 'every interleaving covered (nothing assumed: every shared load and store a point' s.txt || bad "--no-assume result does not say so: $(head -1 s.txt)"
[ "$(execs s.txt)" -ge "$(execs a.txt)" ] || bad "--no-assume explored fewer executions ($(execs s.txt)) than the default ($(execs a.txt))"

# ---- shards: each runs its subtrees, the merge equals one process ----
# A proof: every shard complete, the merge says every interleaving covered; the shards run
# at least the single search's executions (the top decisions branch on every option there).
one=$(json proof.json 'd["executions"]')
for i in 0 1 2; do
    "$Q" check --driver qinval --scenario iqe-bad-desc --strategy dfs --bound none --shard $i/3 \
        --no-progress --format json >sh.$i.json 2>/dev/null || bad "shard $i/3 of the proof failed"
    [ "$(json sh.$i.json 'd["complete"]')" = True ] || bad "shard $i/3 of the proof not complete"
done
"$Q" check --driver qinval --scenario iqe-bad-desc --strategy dfs --bound none --shard 1/3 \
    --no-progress >sh1.txt 2>&1
grep -q "^PASS .*shard 1/3's part: every interleaving covered" sh1.txt ||
    bad "a shard's pass does not say it covered its part: $(head -1 sh1.txt)"
"$Q" merge sh.0.json sh.1.json sh.2.json >m.txt 2>&1
[ $? = 0 ] && grep -q '^PASS .*every interleaving covered' m.txt || bad "merged proof: $(head -1 m.txt)"
"$Q" merge --format json sh.0.json sh.1.json sh.2.json >m.json 2>/dev/null
[ "$(json m.json 'd["executions"]')" -ge "$one" ] ||
    bad "the shards ran $(json m.json 'd["executions"]') executions, fewer than one search's $one"
# A violation: the merge has the single search's verdict, and its counterexample replays.
for i in 0 1 2 3; do
    "$Q" check --driver step1-nowait --scenario iqe-bad-desc --strategy dfs --bound none \
        --shard $i/4 --no-progress --no-minimise --format json >lk.$i.json 2>/dev/null
done
"$Q" merge --save lk.ce.json lk.0.json lk.1.json lk.2.json lk.3.json >lk.txt 2>&1
[ $? = 1 ] && grep -q '^FAIL slot_leak' lk.txt || bad "merged shards miss the slot leak: $(head -1 lk.txt)"
"$Q" replay lk.ce.json >/dev/null 2>&1
[ $? = 1 ] || bad "the merged shards' counterexample does not replay to its violation"

# ---- --time-model local (experimental): per-CPU clocks ----
# The benchmark's proof ends and says what it assumes; legacy-odd's lockup is found at once; the
# slot leak on iqe-bad-desc is found; its counterexample names its time model and replays only
# in it (in the one-clock model its decisions are another execution); an unknown model in a
# file, --time-model without --bound none, or an unknown value are refused.
"$Q" check --driver step1-nowait --scenario "$SC" --strategy dfs --bound none --time-model local \
    --no-progress >loc.txt 2>&1
[ $? = 0 ] && grep -q '^PASS .*every interleaving covered (per-CPU clocks' loc.txt || bad "local: no proof of the benchmark: $(head -1 loc.txt)"
"$Q" check --driver legacy-odd --scenario "$SC" --strategy dfs --bound none --time-model local \
    --no-progress >loc.txt 2>&1
grep -q '^FAIL hard_lockup .*execution [0-9],' loc.txt || bad "local: legacy-odd not found at once: $(head -1 loc.txt)"
"$Q" check --driver step1-nowait --scenario iqe-bad-desc --strategy dfs --bound none --time-model local \
    --no-progress --save lc.json >loc.txt 2>&1
grep -q '^FAIL slot_leak' loc.txt || bad "local: no slot leak: $(head -1 loc.txt)"
[ "$(json lc.json 'd.get("time_model")')" = local ] || bad "the local counterexample does not say time_model local"
"$Q" replay lc.json >/dev/null 2>&1
[ $? = 1 ] || bad "the local counterexample does not replay to its violation"
python3 -c 'import json; d=json.load(open("lc.json")); del d["time_model"]; json.dump(d, open("g.json","w"))'
"$Q" replay g.json >/dev/null 2>&1
[ $? = 1 ] && bad "the local counterexample replays with one clock too: the time model test shows nothing"
# queue-wrap, where a poller waits for queue space: no false failure. A reference driver's
# poller reads the counts with plain C under the lock (another CPU's critical section that
# changes them must wake it: it "hung" at the first execution), and the engine's reclaim reads
# a count that leaving participants add to outside the lock (through the platform, or a CPU
# runs to its 90 s deadline without the add: a false failure at execution 19)
for d in step1-nowait legacy-odd qinval; do
    "$Q" check --driver $d --scenario queue-wrap --strategy dfs --bound none --time-model local \
        --executions 400 --no-progress --save /dev/null >loc.txt 2>&1
    [ $? = 0 ] && grep -q '^PASS' loc.txt || bad "local: $d on queue-wrap: $(head -1 loc.txt)"
done
python3 -c 'import json; d=json.load(open("lc.json")); d["time_model"]="lamport"; json.dump(d, open("b.json","w"))'
"$Q" replay b.json >b.txt 2>&1
[ $? = 2 ] && grep -q 'unknown time_model' b.txt || bad "an unknown time_model is not refused: $(head -2 b.txt)"
"$Q" check --driver qinval --scenario iqe-bad-desc --strategy dfs --bound 2 --time-model local >b.txt 2>&1
[ $? = 2 ] || bad "--time-model without --bound none is not refused: $(head -1 b.txt)"
"$Q" check --driver qinval --scenario iqe-bad-desc --strategy dfs --bound none --time-model lamport >b.txt 2>&1
[ $? = 2 ] && grep -q 'time-model must be' b.txt || bad "an unknown --time-model is not refused: $(head -1 b.txt)"

# --no-assume is recorded ("dpor_strict": true) and carried by merge; shards that differ in it
# do not merge
"$Q" check --driver qinval --scenario link-down-silent --strategy dfs --bound none --no-assume \
    --shard 0/2 --format json >st.0.json 2>/dev/null
"$Q" check --driver qinval --scenario link-down-silent --strategy dfs --bound none --no-assume \
    --shard 1/2 --format json >st.1.json 2>/dev/null
"$Q" check --driver qinval --scenario link-down-silent --strategy dfs --bound none \
    --set mem_points=1 --shard 1/2 --format json >ns.1.json 2>/dev/null
[ "$(json st.0.json 'd.get("dpor_strict")')" = True ] || bad "--no-assume result without dpor_strict"
[ "$(json ns.1.json 'd.get("dpor_strict")')" = None ] || bad "a default result with dpor_strict"
"$Q" merge st.0.json st.1.json >st.txt 2>&1
grep -q '^PASS .*every interleaving covered (nothing assumed' st.txt || bad "merged --no-assume shards: $(head -1 st.txt)"
"$Q" merge st.0.json ns.1.json >/dev/null 2>st.err
[ $? = 2 ] && grep -q 'dpor_strict' st.err || bad "shards differing in --no-assume merged: $(cat st.err)"

# ---- bad combinations ----
usage() { # args...: one line on stderr, exit 2
    "$Q" "$@" >out 2>err
    rc=$?
    [ $rc = 2 ] && [ "$(wc -l <err)" = 1 ] || bad "$* -> exit $rc, stderr: $(cat err)"
}
usage check --driver qinval --scenario ite-race --strategy dfs --no-assume
usage check --driver qinval --scenario ite-race --strategy random --bound none
usage check --driver qinval --scenario ite-race --strategy dfs --bound nonee

[ $fail = 0 ] && echo "unbounded: all checks passed"
exit $fail
