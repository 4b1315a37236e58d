#!/usr/bin/env bash
# merge.sh — `qinval merge` on real sharded explorations: the merged executions are the sum of
# the shards', the verdict and counterexample are those of the smallest failing execution index
# (the same as one unsharded run with the same total budget finds), the merged result replays to
# the same verdict, the order of the files does not change a byte of the output, missing shards
# are named (exit 2, or 1 with a violation), and every bad input is refused with exit 2 and one
# line naming the file and the problem.
set -u
Q=$(realpath "${1:?usage: merge.sh path/to/qinval}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0
bad() { echo "FAIL $*"; fail=1; }

# json FILE EXPR: print the Python expression EXPR evaluated on the JSON object d of FILE.
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

shards() { # prefix N check-args...: run the N shards into prefix.I.json
    local prefix=$1 n=$2
    shift 2
    for ((i = 0; i < n; i++)); do
        "$Q" check "$@" --shard "$i/$n" --format json >"$prefix.$i.json" 2>/dev/null
        local rc=$?
        [ $rc -le 1 ] || bad "check $* --shard $i/$n exited $rc"
    done
}

sum_executions() { # files... -> sum of their "executions"
    python3 -c 'import json,sys; print(sum(json.load(open(f))["executions"] for f in sys.argv[1:]))' "$@"
}

# ---- a violation: legacy-odd locks up on an even batch ----
shards lo 3 --driver legacy-odd --scenario ite-even-batch
"$Q" merge --format json lo.0.json lo.1.json lo.2.json >lo.merged.json
rc=$?
[ $rc = 1 ] || bad "merge of failing shards exited $rc, wanted 1"
[ "$(json lo.merged.json 'd["executions"]')" = "$(sum_executions lo.[012].json)" ] ||
    bad "merged executions are not the sum of the shards'"
verdict=$(json lo.merged.json 'd["verdict"]')
echo "$verdict" | grep -Eqx 'hang|hard_lockup' || bad "legacy-odd/ite-even-batch merged verdict '$verdict'"
"$Q" check --driver legacy-odd --scenario ite-even-batch --format json >lo.whole.json 2>/dev/null
[ "$(json lo.whole.json 'd["verdict"]')" = "$verdict" ] || bad "sharded and unsharded verdicts differ"
"$Q" replay lo.merged.json >replay.txt
rc=$?
[ $rc = 1 ] && grep -q "^FAIL $verdict " replay.txt || bad "merged result replays to exit $rc: $(head -1 replay.txt)"
[ "$(json lo.merged.json 'd["missing_shards"]')" = "[]" ] || bad "missing_shards not empty"
[ "$(json lo.merged.json 'd["complete"]')" = False ] || bad "random exploration called complete"

# The first violation is not always shard 0's: take the first seed whose unsharded run of
# eagain-any-ite on ite-race fails first at an execution outside shard 0 of 3; the merge must
# pick that one and match the unsharded run exactly.
seed=
for s in $(seq 1 100); do
    "$Q" check --driver eagain-any-ite --scenario ite-race --seed "$s" --format json >ea.whole.json
    [ "$(json ea.whole.json 'd.get("failing_execution", 0) % 3')" != 0 ] && seed=$s && break
done
[ -n "$seed" ] || bad "no seed in 1..100 fails first outside shard 0"
shards ea 3 --driver eagain-any-ite --scenario ite-race --seed "$seed"
for order in "0 1 2" "2 1 0" "1 2 0"; do
    files=$(for i in $order; do echo ea.$i.json; done)
    "$Q" merge --format json $files >"ea.json.$order" 2>/dev/null
    "$Q" merge $files >"ea.text.$order" 2>/dev/null
    cmp -s "ea.json.0 1 2" "ea.json.$order" || bad "json output depends on the file order ($order)"
    cmp -s "ea.text.0 1 2" "ea.text.$order" || bad "text output depends on the file order ($order)"
done
m="ea.json.0 1 2"
[ "$(json "$m" 'd["failing_execution"]')" = "$(json ea.whole.json 'd["failing_execution"]')" ] ||
    bad "merged failing execution differs from the unsharded run's"
[ "$(json "$m" 'd["counterexample"]')" = "$(json ea.whole.json 'd["counterexample"]')" ] ||
    bad "merged counterexample differs from the unsharded run's"
[ "$(json "$m" 'd["failing_shard"]')" = "$(json ea.whole.json 'd["failing_execution"] % 3')" ] ||
    bad "failing_shard is not the shard of the failing execution"
[ "$(json "$m" 'd["cpu_seconds"] >= d["seconds"]')" = True ] || bad "cpu_seconds below seconds"
fe=$(json ea.whole.json 'd["failing_execution"]')
grep -q "^FAIL hang  eagain-any-ite / ite-race  (random, seed $seed, execution $((fe + 1)), 3 of 3 shards" \
    "ea.text.0 1 2" || bad "text summary line: $(head -1 "ea.text.0 1 2")"
grep -q '^why: ' "ea.text.0 1 2" && grep -q '^schedule: ' "ea.text.0 1 2" || bad "text has no why/schedule"
# --save writes a counterexample file that replays; - reads standard input.
"$Q" merge --save merged-ce.json ea.0.json - ea.2.json <ea.1.json >saved.txt
[ $? = 1 ] && grep -q '^replay: qinval replay merged-ce.json' saved.txt || bad "merge --save"
"$Q" replay merged-ce.json >r.txt
[ $? = 1 ] && grep -q '^FAIL hang ' r.txt || bad "saved counterexample does not replay"

# ---- no violation: smoke, 3 shards of 20 executions against one run of 60 ----
shards ok 3 --driver legacy-odd --scenario smoke --executions 20
"$Q" merge --format json ok.2.json ok.0.json ok.1.json >ok.merged.json
rc=$?
[ $rc = 0 ] || bad "merge of passing shards exited $rc"
[ "$(json ok.merged.json 'd["executions"]')" = 60 ] || bad "passing merge: executions != 60"
"$Q" check --driver legacy-odd --scenario smoke --executions 60 --format json >ok.whole.json
[ "$(json ok.merged.json 'd["verdict"]')" = pass ] && [ "$(json ok.whole.json 'd["verdict"]')" = pass ] ||
    bad "smoke: merged and unsharded verdicts not both pass"
"$Q" merge ok.0.json ok.1.json ok.2.json >ok.txt
grep -q '^PASS legacy-odd / smoke  (random, seed 1, 3 of 3 shards, 60 executions, ' ok.txt ||
    bad "passing text line: $(cat ok.txt)"
"$Q" replay ok.merged.json 2>e.txt
[ $? = 2 ] && grep -q "no violation, nothing to replay" e.txt || bad "replay of a passing result"

# ---- missing shards ----
"$Q" merge --format json ok.0.json ok.2.json >miss.json 2>e.txt
rc=$?
[ $rc = 2 ] || bad "missing shard without violation exited $rc, wanted 2"
[ "$(json miss.json 'd["missing_shards"]')" = "[1]" ] || bad "missing_shards: $(json miss.json 'd["missing_shards"]')"
[ "$(wc -l <e.txt)" = 1 ] && grep -q "shards missing: 1 of 3" e.txt || bad "missing-shard message: $(cat e.txt)"
"$Q" merge ok.1.json >miss.txt 2>/dev/null
grep -q '^INCOMPLETE .*missing 0,2,' miss.txt || bad "missing shards in the text line: $(cat miss.txt)"
"$Q" merge ea.1.json ea.2.json >/dev/null 2>e.txt
rc=$?
[ $rc = 1 ] && grep -q "shards missing: 0 of 3" e.txt || bad "missing shard with a violation exited $rc"

# ---- dfs: one unsharded result merges as itself; complete carries over ----
"$Q" check --driver legacy-odd --scenario smoke --strategy dfs --bound 1 --format json >dfs.json
"$Q" merge --format json dfs.json >dfs.merged.json
[ $? = 0 ] && [ "$(json dfs.merged.json 'd["complete"]')" = True ] || bad "dfs merge not complete"
# dfs shards split the tree: their executions add up to the single walk's, all complete
shards dfs3 3 --driver legacy-odd --scenario smoke --strategy dfs --bound 1
"$Q" merge --format json dfs3.0.json dfs3.1.json dfs3.2.json >dfs3.merged.json
[ $? = 0 ] || bad "dfs shard merge did not pass"
[ "$(json dfs3.merged.json 'd["executions"]')" = "$(json dfs.json 'd["executions"]')" ] ||
    bad "dfs shards ran $(json dfs3.merged.json 'd["executions"]') executions, one walk $(json dfs.json 'd["executions"]')"
[ "$(json dfs3.merged.json 'd["complete"]')" = True ] || bad "dfs shards not complete"
# a dfs shard's violation merges: each dfs shard numbers its own executions from 0, so its
# failing execution need not be I mod N (merge once refused shard 0/5's execution 4 as "not
# an execution of shard 0/5")
shards dfsl 5 --driver step1-nowait --scenario iqe-bad-desc --strategy dfs --bound 2 --no-minimise
"$Q" merge --format json dfsl.0.json dfsl.1.json dfsl.2.json dfsl.3.json dfsl.4.json \
    >dfsl.merged.json 2>e.txt
rc=$?
[ $rc = 1 ] && [ "$(json dfsl.merged.json 'd["verdict"]')" = slot_leak ] ||
    bad "merge of dfs shards with a violation: exit $rc, $(cat e.txt)"
"$Q" merge dfsl.0.json dfsl.1.json dfsl.2.json dfsl.3.json dfsl.4.json 2>/dev/null |
    head -1 | grep -q 'execution [0-9]* of shard [0-4],' || bad "dfs failure not named by its shard"

# ---- refusals: exit 2 and one line naming the file and the problem ----
refuse() { # what pattern files...
    local what=$1 pattern=$2
    shift 2
    "$Q" merge "$@" >/dev/null 2>e.txt
    local rc=$?
    if [ $rc != 2 ] || [ "$(wc -l <e.txt)" != 1 ] || ! grep -q -- "$pattern" e.txt; then
        bad "$what: exit $rc, stderr: $(cat e.txt)"
    fi
}
edit() { # file python-statement -> prints the edited copy's name
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec(sys.argv[2]); json.dump(d, open(sys.argv[3], "w"))' \
        "$1" "$2" "edited.$3.json"
    echo "edited.$3.json"
}
shards other 3 --driver step1-nowait --scenario smoke --executions 5
shards otherseed 3 --driver legacy-odd --scenario smoke --executions 5 --seed 2
shards otherset 3 --driver legacy-odd --scenario smoke --executions 5 --set queue_len=16
shards pct 3 --driver legacy-odd --scenario smoke --executions 5 --strategy pct
shards four 4 --driver legacy-odd --scenario smoke --executions 5
"$Q" check --driver legacy-odd --scenario ite-race --executions 5 --shard 1/3 --format json >scen.1.json
refuse driver "other.1.json: driver 'step1-nowait' differs from 'legacy-odd' in ok.0.json" ok.0.json other.1.json
refuse scenario "scen.1.json: scenario 'ite-race' differs from 'smoke' in ok.0.json" ok.0.json scen.1.json
refuse strategy "pct.1.json: strategy 'pct' differs from 'random' in ok.0.json" ok.0.json pct.1.json
refuse seed "otherseed.1.json: seed 2 differs from 1 in ok.0.json" ok.0.json otherseed.1.json
refuse sets "otherset.1.json: --set overrides differ from those in ok.0.json" ok.0.json otherset.1.json
refuse count "four.1.json: shard count 4 differs from 3 in ok.0.json" ok.0.json four.1.json
refuse depth "pct_depth 5 differs from 3 in pct.0.json" pct.0.json "$(edit pct.1.json 'd["pct_depth"]=5' depth)"
refuse duplicate "ok.1.json: shard 1/3 given twice (also in ok.1.json)" ok.1.json ok.0.json ok.1.json
cp ok.1.json copy.json
refuse duplicate-copy "copy.json: shard 1/3 given twice (also in ok.1.json)" ok.1.json copy.json
refuse ce-file "merged-ce.json: a counterexample file, not a check result" merged-ce.json
echo '[1, 2]' >array.json
refuse array "array.json: not a qinval check result" array.json
echo '{"driver": "legacy-odd"}' >other.json
refuse foreign "other.json: not a qinval check result" other.json
refuse merged "ok.merged.json: a merged result, not the result of one shard" ok.merged.json
head -c 150 ok.1.json >trunc.json
refuse truncated "trunc.json: malformed JSON: line .*truncated" ok.0.json trunc.json
: >empty.json
refuse empty "empty.json: malformed JSON: line 1, column 1" empty.json
printf '{"a": 1} x' >trailing.json
refuse trailing "trailing.json: malformed JSON: .*unexpected text after the value" trailing.json
refuse huge-float "malformed JSON: .*number out of range: 1e999" ok.0.json \
    "$(sed 's/"executions": 20/"executions": 1e999/' ok.1.json >huge1.json; echo huge1.json)"
refuse huge-int "huge2.json: \"executions\" must be a whole number from 0 to 2^64-1" ok.0.json \
    "$(sed 's/"executions": 20/"executions": 123456789012345678901234567890/' ok.1.json >huge2.json; echo huge2.json)"
refuse wrong-type "\"executions\" must be a number, not a string" ok.0.json "$(edit ok.1.json 'd["executions"]="20"' type)"
refuse negative "\"seconds\" must not be negative" ok.0.json "$(edit ok.1.json 'd["seconds"]=-1' neg)"
refuse no-seconds "missing \"seconds\"" ok.0.json "$(edit ok.1.json 'del d["seconds"]' nosec)"
refuse no-shard "missing \"shard\"" "$(edit ok.1.json 'del d["shard"]' noshard)"
refuse bad-shard "\"shard\" must be \"I/N\"" "$(edit ok.1.json 'd["shard"]="3/3"' badshard)"
refuse no-driver "missing \"driver\"" "$(edit ok.1.json 'del d["driver"]' nodriver)"
refuse bad-verdict "unknown verdict \"meh\"" "$(edit ok.1.json 'd["verdict"]="meh"' verdict)"
refuse no-cx "missing \"counterexample\"" "$(edit ea.0.json 'del d["counterexample"]' nocx)"
refuse cx-exec "is not an execution of shard 0/3" \
    "$(edit ea.0.json 'd["failing_execution"]=d["counterexample"]["execution"]=4' cxexec)"
refuse not-found "nope.json: No such file or directory" nope.json
refuse stdin-twice "standard input can be read only once" - - </dev/null
refuse no-files "needs the JSON results" --format json
refuse bad-format "--format must be text, json, ktap or markdown" --format xml ok.0.json
refuse unknown-flag "unknown option '--frob'" --frob ok.0.json

[ $fail = 0 ] && echo "merge: all checks passed"
exit $fail
