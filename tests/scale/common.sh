# shellcheck shell=bash disable=SC2034 # sourced; scale_fail is read by the tests
# tests/scale/common.sh — shared by tests/cli/scale_*.sh (sourced, after Q and work are set):
# the cases those tests run on a batch system, and the comparison of the merged shards with one
# process's result.
#
# A test defines run_shards (NAME N ARGS...: run `qinval ARGS --shard I/N --format json` for
# every I on its batch system, into NAME.I.json, and check that it did) and then calls
# scale_cases, which runs every case through it, merges, and compares with one process.
#
# The commands under test: SCALE_CHECK_CASES now, SCALE_SWEEP_CASES once `qinval sweep` exists
# (run only when `qinval sweep --help` succeeds and the usage lists sweep; otherwise a line
# says why they were skipped).
# One case a line: NAME MODE ARGS... (ARGS as given to qinval, without --shard and --format).

SCALE_N=${SCALE_N:-4}

# unbounded: a proof (--bound none) and a violation; the shards' executions do not add up to
# one process's (the top of their tree is searched without reduction), so they are not compared.
# check: per-shard budgets (--executions counts a shard's own executions, so the one process
# gets N times it). eagain-any-ite / ite-race seed 3 fails first at execution 3, in shard 3 of
# 4, so the merge must pick the violation of a shard other than 0; smoke passes, and its
# executions must add up exactly.
SCALE_CHECK_CASES="
viol check check --driver eagain-any-ite --scenario ite-race --seed 3 --executions 50
pass check check --driver legacy-odd --scenario smoke --executions 200
proof unbounded check --driver qinval --scenario iqe-bad-desc --strategy dfs --bound none
leak unbounded check --driver step1-nowait --scenario iqe-bad-desc --strategy dfs --bound none --no-minimise
"
# sweep: the same command line without --shard is the one process; the merged report must be
# that process's byte for byte except "seconds".
SCALE_SWEEP_CASES="
sweep sweep sweep --driver step1-nowait --scenario ite-bystander --scenario ite-even-batch --executions 400
"

scale_fail=0
scale_bad() { echo "FAIL $*"; scale_fail=1; }

# The one-process command line of a case: check's budget is per shard, so N times it.
scale_whole_args() { # MODE N ARGS...
    local mode=$1 n=$2
    shift 2
    local out=() prev=
    for a in "$@"; do
        if [ "$mode" = check ] && [ "$prev" = --executions ]; then a=$((a * n)); fi
        out+=("$a")
        prev=$a
    done
    printf '%s\n' "${out[@]}"
}

# scale_compare MODE MERGED WHOLE: exit 0 if the merged result is the one process's.
#   check: every member equal except timings ("seconds", "cpu_seconds") and the shard
#          bookkeeping only a merge or only a single run has; "executions" too, unless a
#          violation was found (each shard then stops at its own first one). The merge must
#          also name no missing shard.
#   unbounded: as check, "executions" never compared.
#   sweep: every member equal except "seconds" (at any depth), and the text equal byte for
#          byte once the lines holding a "seconds" member are left out.
scale_compare() {
    python3 - "$@" <<'EOF'
import json, sys
mode, merged_path, whole_path = sys.argv[1:4]
m = json.load(open(merged_path))
w = json.load(open(whole_path))
timing = {"seconds", "cpu_seconds"} if mode != "sweep" else {"seconds"}
bookkeeping = {"shard", "shards", "merged_shards", "missing_shards", "failing_shard"}

def strip(v, drop):
    if isinstance(v, dict):
        return {k: strip(x, drop) for k, x in v.items() if k not in drop}
    if isinstance(v, list):
        return [strip(x, drop) for x in v]
    return v

problems = []
if mode in ("check", "unbounded"):
    if m.get("missing_shards") != []:
        problems.append("missing_shards %r" % m.get("missing_shards"))
    drop = timing | bookkeeping
    if w.get("verdict") != "pass" or mode == "unbounded":
        drop = drop | {"executions"}
    a, b = strip(m, drop), strip(w, drop)
else:
    a, b = strip(m, timing), strip(w, timing)
    lines = lambda p: [l for l in open(p).read().splitlines() if '"seconds":' not in l]
    if lines(merged_path) != lines(whole_path):
        problems.append("texts differ beyond \"seconds\"")
for k in sorted(set(a) | set(b)):
    if a.get(k, "<absent>") != b.get(k, "<absent>"):
        problems.append("%s: merged %.80r, one process %.80r" % (k, a.get(k, "<absent>"), b.get(k, "<absent>")))
if problems:
    print("; ".join(problems))
    sys.exit(1)
EOF
}

# scale_case NAME MODE ARGS...: the shards through run_shards, merged, against one process.
scale_case() {
    local name=$1 mode=$2
    shift 2
    local n=$SCALE_N i files=() rc
    run_shards "$name" "$n" "$@" || { scale_bad "$name: the shards did not all run"; return; }
    for ((i = 0; i < n; i++)); do
        files+=("$name.$i.json")
        [ -s "$name.$i.json" ] || { scale_bad "$name: no result from shard $i/$n"; return; }
        [ "$mode" = sweep ] ||
            [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["shard"])' "$name.$i.json")" = "$i/$n" ] ||
            scale_bad "$name.$i.json is not the result of shard $i/$n"
    done
    "$Q" merge --format json "${files[@]}" >"$name.merged.json" 2>"$name.merge.err"
    rc=$?
    [ $rc -le 1 ] || { scale_bad "$name: merge exited $rc: $(head -1 "$name.merge.err")"; return; }
    local whole
    mapfile -t whole < <(scale_whole_args "$mode" "$n" "$@")
    "$Q" "${whole[@]}" --format json >"$name.whole.json" 2>/dev/null
    local wrc=$?
    [ $wrc = $rc ] || scale_bad "$name: merge exited $rc, one process $wrc"
    local why
    if why=$(scale_compare "$mode" "$name.merged.json" "$name.whole.json"); then
        echo "ok $name: $n shards merged = one process ($(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["verdict"] if "verdict" in d else "%d failures" % len(d["failures"]), d.get("executions"), "executions")' "$name.whole.json" 2>/dev/null))"
    else
        scale_bad "$name: merged shards differ from one process: $why"
    fi
}

# `qinval sweep --help` alone is no test: --help after any word, even an unknown command,
# prints the general usage and exits 0. So the usage must also list sweep.
scale_have_sweep() {
    "$Q" sweep --help >/dev/null 2>&1 && "$Q" --help 2>&1 | grep -Eq '^  sweep( |$)'
}

scale_cases() {
    local name mode args
    while read -r name mode args; do
        [ -n "$name" ] || continue
        # shellcheck disable=SC2086 # ARGS are words
        scale_case "$name" "$mode" $args
    done <<<"$SCALE_CHECK_CASES"
    if scale_have_sweep; then
        while read -r name mode args; do
            [ -n "$name" ] || continue
            # shellcheck disable=SC2086
            scale_case "$name" "$mode" $args
        done <<<"$SCALE_SWEEP_CASES"
    else
        echo "sweep cases skipped: this qinval has no sweep command (its --help lists none)"
    fi
}
