#!/usr/bin/env bash
# seeds.sh — the seed threads' claims, found by the checker from scratch with default budgets:
# legacy-odd locks up on an even batch (and passes an odd one), eagain-any-ite hangs on the
# submitter race, step1-nowait locks up on a silent link-down; all three pass smoke. The same
# verdicts hold with other queue lengths, 256-bit descriptors and the other head policy. Also:
# same seed, same bytes; a saved counterexample replays to the same timeline.
set -u
Q=$(realpath "${1:?usage: seeds.sh path/to/qinval}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0

verdict() { # driver scenario [--set ...] -> prints the verdict word
    local d=$1 s=$2
    shift 2
    "$Q" check --driver "$d" --scenario "$s" "$@" >out.txt 2>err.txt
    local rc=$?
    local line
    line=$(grep -E '^(PASS|FAIL)' out.txt | head -1)
    case "$line" in
    PASS*) [ $rc = 0 ] || echo "exit-$rc" && echo pass ;;
    FAIL*) [ $rc = 1 ] || echo "exit-$rc"; echo "$line" | awk '{print $2}' ;;
    *) echo "error($rc): $(cat err.txt)" ;;
    esac
}

expect() { # "allowed|verdicts" driver scenario [--set ...]
    local want=$1
    shift
    local got
    got=$(verdict "$@" | tail -1)
    if ! echo "$got" | grep -Eqx "$want"; then
        echo "FAIL $*: got '$got', wanted $want"
        fail=1
    fi
}

expect 'hang|hard_lockup' legacy-odd ite-even-batch
expect 'hang|hard_lockup' legacy-odd ite-even-batch --set batch=4
expect 'hang|hard_lockup' legacy-odd ite-even-batch --set desc_width=256
expect 'hang|hard_lockup' legacy-odd ite-even-batch --set head_policy=complete
expect 'hang|hard_lockup' legacy-odd ite-even-batch --set queue_len=16
expect pass legacy-odd ite-even-batch --set batch=3
expect pass legacy-odd ite-even-batch --set batch=1
expect hang eagain-any-ite ite-race
expect hang eagain-any-ite ite-race --set desc_width=256
expect hang eagain-any-ite ite-race --set queue_len=64
expect hard_lockup step1-nowait link-down-silent
expect hard_lockup step1-nowait link-down-silent --set queue_len=64
expect hard_lockup step1-nowait link-down-silent --set head_policy=complete
expect hard_lockup step1-nowait link-down-silent --set desc_width=256
for d in legacy-odd eagain-any-ite step1-nowait; do
    expect pass "$d" smoke
    expect pass "$d" smoke --set head_policy=complete --set desc_width=256
done

# Determinism: the same command twice gives the same bytes (timing figures aside), each in a
# directory of its own (in one directory the second run's counterexample would get a name of
# its own, qinval-ce-...-2.json, and its replay line would say so).
for s in "legacy-odd ite-even-batch" "eagain-any-ite ite-race"; do
    set -- $s
    rm -rf a b && mkdir a b
    (cd a && "$Q" check --driver "$1" --scenario "$2" --seed 7) | sed 's/, [0-9.]* s)/)/' >a.txt
    (cd b && "$Q" check --driver "$1" --scenario "$2" --seed 7) | sed 's/, [0-9.]* s)/)/' >b.txt
    cmp -s a.txt b.txt || { echo "FAIL $s: two runs with seed 7 differ"; fail=1; }
    grep -qx "replay: qinval replay qinval-ce-$1-$2-seed7.json" a.txt ||
        { echo "FAIL $s: replay line $(grep '^replay:' a.txt)"; fail=1; }
    # Replay: the saved counterexample prints the same timeline and verdict.
    sed -n '2,/^schedule:/p' a.txt >timeline-check.txt
    "$Q" replay "a/qinval-ce-$1-$2-seed7.json" >r.txt
    rc=$?
    [ $rc = 1 ] || { echo "FAIL $s: replay exited $rc"; fail=1; }
    sed -n '2,/^schedule:/p' r.txt >timeline-replay.txt
    cmp -s timeline-check.txt timeline-replay.txt ||
        { echo "FAIL $s: replay timeline differs"; diff timeline-check.txt timeline-replay.txt | head; fail=1; }
    [ -s timeline-check.txt ] || { echo "FAIL $s: empty timeline"; fail=1; }
done

# A seed is any 64-bit value: the largest is saved, replayed and read back as it was.
max=18446744073709551615
"$Q" check --driver legacy-odd --scenario ite-even-batch --seed $max --save max.json >max.txt 2>&1
[ $? = 1 ] || { echo "FAIL seed $max: $(head -3 max.txt)"; fail=1; }
grep -q "\"seed\": $max," max.json || { echo "FAIL seed $max not in max.json"; fail=1; }
"$Q" replay max.json >max-replay.txt 2>&1
[ $? = 1 ] && grep -q "seed $max" max-replay.txt ||
    { echo "FAIL replay of seed $max: $(head -3 max-replay.txt)"; fail=1; }

# Bad input: unknown driver, unknown scenario, unknown --set key, malformed values, broken file.
"$Q" check --driver nope --scenario smoke 2>e.txt; [ $? = 2 ] && grep -q "unknown driver 'nope'" e.txt || { echo "FAIL unknown driver"; fail=1; }
"$Q" check --driver legacy-odd --scenario nope 2>e.txt; [ $? = 2 ] && grep -q "unknown scenario 'nope'" e.txt || { echo "FAIL unknown scenario"; fail=1; }
"$Q" check --driver legacy-odd --scenario smoke --set frob=1 2>e.txt; [ $? = 2 ] && grep -q "frob" e.txt || { echo "FAIL unknown key"; fail=1; }
"$Q" check --driver legacy-odd --scenario smoke --set cpus=zero 2>e.txt; [ $? = 2 ] && grep -q "cpus" e.txt || { echo "FAIL malformed value"; fail=1; }
"$Q" check --driver legacy-odd --scenario smoke --strategy bogus 2>e.txt; [ $? = 2 ] || { echo "FAIL bad strategy"; fail=1; }
"$Q" check --driver legacy-odd --scenario smoke --shard 3/2 2>e.txt; [ $? = 2 ] || { echo "FAIL bad shard"; fail=1; }
echo '{"driver": "legacy-odd", "scenario": ' >broken.json
"$Q" replay broken.json 2>e.txt; [ $? = 2 ] && grep -qF "broken.json: malformed JSON: line 2, column 1: unexpected token near end of file (truncated?)" e.txt || { echo "FAIL broken replay file"; fail=1; }
mkdir -p sc && printf 'name = x\n[cpu 0]\nop = flush frobnicate\n' >sc/x.scn
QINVAL_SCENARIOS=$PWD/sc "$Q" check --driver legacy-odd --scenario x 2>e.txt; [ $? = 2 ] && grep -q "x.scn:3" e.txt || { echo "FAIL broken scenario file: $(cat e.txt)"; fail=1; }

[ $fail = 0 ] && echo "seeds: all checks passed"
exit $fail
