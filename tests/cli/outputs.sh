#!/usr/bin/env bash
# outputs.sh — output that cannot lie. Standard output that cannot be written (a full disk,
# /dev/full; a pipe whose reader has gone) is exit 3 with one line on stderr, not exit 0 with
# nothing delivered. A counterexample, trace or merge --save that cannot be written (a full
# device, a file size limit) is exit 3 naming the file, and an existing file is then left as it
# was (no truncated file, no temporary file left). Concurrent runs in one directory each get a
# counterexample file of their own, and each replay line names the file that run wrote; runs
# saving the same --save or --trace at once leave one complete JSON file. SIGINT and SIGTERM
# leave existing files as they were and say so. merge never writes inf or nan, and what it
# writes is read back. A multi-MB result with many keys is read (or refused for a duplicate
# key, at its line and column) like any other.
set -u
Q=$(realpath "${1:?usage: outputs.sh path/to/qinval}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0
bad() { echo "FAIL $*"; fail=1; }
FAILING=(check --driver legacy-odd --scenario ite-even-batch)

# json FILE EXPR: the Python expression EXPR on the JSON object d of FILE, read strictly (no
# NaN or Infinity).
json() {
    python3 -c 'import json,sys
def no(c): raise ValueError("non-finite number " + c)
d = json.load(open(sys.argv[1]), parse_constant=no)
print(eval(sys.argv[2]))' "$@"
}
# closed_pipe COMMAND...: run it with stdout a pipe whose read end is already closed (the
# default SIGPIPE action restored, as a shell gives it); its exit status.
closed_pipe() {
    python3 -c 'import os,subprocess,sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.run(sys.argv[1:], stdout=w).returncode % 256)' "$@"
}
# one_line WHAT PATTERN: err.txt is one line matching PATTERN
one_line() {
    [ "$(wc -l <err.txt)" = 1 ] && grep -Eq -- "$2" err.txt || bad "$1: stderr was: $(cat err.txt)"
}
no_temporaries() { # what: no .NAME.tmp-XXXXXX left in this directory
    local left
    left=$(find . -name '.*.tmp-*' | head -3)
    [ -z "$left" ] || bad "$1: temporary files left: $left"
}

# ---- standard output ----
"$Q" "${FAILING[@]}" --save full.json >/dev/full 2>err.txt
rc=$?
[ $rc = 3 ] || bad "check >/dev/full: exit $rc, wanted 3"
one_line "check >/dev/full" '^qinval check: cannot write standard output: No space left on device$'
for cmd in "list drivers" "replay full.json" "check --driver qinval --scenario smoke --executions 3 --format json" \
    "matrix --executions 1 --driver legacy-odd" "demo"; do
    # shellcheck disable=SC2086 # $cmd is a command line
    "$Q" $cmd >/dev/full 2>err.txt
    rc=$?
    [ $rc = 3 ] || bad "$cmd >/dev/full: exit $rc, wanted 3"
    one_line "$cmd >/dev/full" ': cannot write standard output: No space left on device$'
done
closed_pipe "$Q" list drivers 2>err.txt
rc=$?
[ $rc = 3 ] || bad "list drivers into a closed pipe: exit $rc, wanted 3 (141: killed by SIGPIPE in silence)"
one_line "closed pipe" '^qinval list: cannot write standard output: Broken pipe$'
closed_pipe "$Q" matrix --executions 1 --driver legacy-odd 2>err.txt
rc=$?
[ $rc = 3 ] || bad "matrix into a closed pipe: exit $rc, wanted 3"
one_line "matrix into a closed pipe" '^qinval matrix: cannot write standard output: Broken pipe$'
closed_pipe "$Q" "${FAILING[@]}" --format ktap --save pipe.json 2>err.txt
rc=$?
[ $rc = 3 ] || bad "check into a closed pipe: exit $rc, wanted 3"
one_line "check into a closed pipe" 'cannot write standard output: Broken pipe$'
"$Q" --version >/dev/full 2>err.txt
[ $? = 3 ] || bad "--version >/dev/full did not fail"
"$Q" list drivers >&- 2>err.txt
[ $? = 3 ] || bad "list drivers with stdout closed did not fail: $(cat err.txt)"

# ---- files that cannot be written ----
"$Q" "${FAILING[@]}" --save /dev/full >out.txt 2>err.txt
rc=$?
[ $rc = 3 ] || bad "--save /dev/full: exit $rc, wanted 3"
one_line "--save /dev/full" '^qinval check: the counterexample was not saved: cannot write /dev/full: No space left on device$'
grep -q '^FAIL hard_lockup' out.txt || bad "--save /dev/full: the result was not printed"
grep -q '^replay:' out.txt && bad "--save /dev/full: a replay line for a file not written"
"$Q" "${FAILING[@]}" --save ok.json --trace /dev/full >out.txt 2>err.txt
rc=$?
[ $rc = 3 ] || bad "--trace /dev/full: exit $rc, wanted 3"
one_line "--trace /dev/full" '^qinval check: the trace file was not written: cannot write /dev/full: No space left on device$'
# A regular file on a full disk: a file size limit makes its writes fail the same way (EFBIG;
# SIGXFSZ ignored). The old file stays whole, nothing is left beside it.
printf 'old trace\n' >t.json
printf 'old ce\n' >s.json
(trap "" XFSZ && ulimit -f 2 && exec "$Q" "${FAILING[@]}" --save s.json --trace t.json) >/dev/null 2>err.txt
rc=$?
[ $rc = 3 ] || bad "trace over the size limit: exit $rc, wanted 3"
one_line "trace over the size limit" '^qinval check: the trace file was not written: cannot write t.json: File too large$'
[ "$(cat t.json)" = "old trace" ] || bad "a failed --trace changed the old file: $(head -c 80 t.json)"
json s.json 'd["qinval_counterexample"]' >/dev/null || bad "the small --save was not written"
(trap "" XFSZ && ulimit -f 2 && exec "$Q" replay s.json --trace t.json) >/dev/null 2>err.txt
[ $? = 3 ] && [ "$(cat t.json)" = "old trace" ] || bad "replay --trace over the size limit: $(cat err.txt)"
no_temporaries "failed writes"

# ---- concurrent runs in one directory ----
# The default name says what was run and is never shared: four runs of the same driver,
# scenario and seed at once get four files, and each replay line names the file with that
# run's own --set.
mkdir conc && cd conc || exit 2
for q in 16 32 64 128; do
    "$Q" "${FAILING[@]}" --set queue_len=$q >out.$q.txt 2>err.$q.txt &
done
wait
names=""
for q in 16 32 64 128; do
    f=$(sed -n 's/^replay: qinval replay //p' out.$q.txt)
    [ -f "$f" ] || { bad "run queue_len=$q: replay line names '$f', no such file"; continue; }
    [[ $f == qinval-ce-legacy-odd-ite-even-batch-seed1*.json ]] || bad "default name '$f'"
    [ "$(json "$f" 'd["sets"]')" = "['queue_len=$q']" ] ||
        bad "run queue_len=$q: its replay line names $f, which holds $(json "$f" 'd["sets"]')"
    names="$names $f"
done
[ "$(echo "$names" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)" = 4 ] || bad "four runs, files:$names"
[ "$(ls qinval-ce-*.json | wc -l)" = 4 ] || bad "four runs, files: $(ls)"
no_temporaries "concurrent default names"
# Runs saving the same names at once: one complete file each time, whoever wins.
for round in 1 2 3; do
    for q in 16 64 256; do
        "$Q" "${FAILING[@]}" --set queue_len=$q --save same.json --trace same-trace.json >/dev/null 2>&1 &
    done
    wait
    json same.json 'd["sets"]' >/dev/null || bad "round $round: same.json is not a whole counterexample"
    json same-trace.json 'len(d["traceEvents"])' >/dev/null || bad "round $round: same-trace.json is not a whole trace"
done
no_temporaries "concurrent --save"
cd .. || exit 2

# ---- interrupted runs ----
# A long exploration, interrupted once it runs (its progress line is drawn): the existing
# --save and --trace files are as they were, nothing is left beside them, and stderr says so.
set -m # background jobs get SIGINT like a foreground one (no job control: they ignore it)
for sig in INT TERM; do
    printf 'old trace\n' >t.json
    printf 'old ce\n' >s.json
    "$Q" check --driver qinval --scenario smoke --executions 100000000 --progress \
        --save s.json --trace t.json >out.txt 2>int.txt &
    pid=$!
    for _ in $(seq 300); do grep -q executions int.txt && break; sleep 0.1; done
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    want=$((128 + $(kill -l "$sig")))
    [ $rc = $want ] || bad "SIG$sig: exit $rc, wanted $want"
    [ "$(cat t.json)" = "old trace" ] || bad "SIG$sig: --trace file changed: $(head -c 80 t.json)"
    [ "$(cat s.json)" = "old ce" ] || bad "SIG$sig: --save file changed"
    tr '\r' '\n' <int.txt | grep -qx "qinval check: interrupted by SIG$sig; wrote no file; did not write s.json, t.json (existing files left as they were)" ||
        bad "SIG$sig: stderr: $(tr '\r' '\n' <int.txt | tail -2)"
    rm -f int.txt
    no_temporaries "SIG$sig"
done
set +m

# ---- merge never writes inf or nan, and reads what it writes ----
"$Q" "${FAILING[@]}" --shard 0/2 --format json >s0.json 2>/dev/null
"$Q" "${FAILING[@]}" --shard 1/2 --format json >s1.json 2>/dev/null
python3 - <<'EOF'
import json
for f, secs in (("s0.json", 1e308), ("s1.json", 1e308)):
    d = json.load(open(f))
    d["seconds"] = secs
    json.dump(d, open("huge-" + f, "w"))
d = json.load(open("s0.json")); d["seconds"] = 1e300; json.dump(d, open("big-s0.json", "w"))
d = json.load(open("s1.json")); d["seconds"] = None; json.dump(d, open("null-s1.json", "w"))
EOF
"$Q" merge --format json huge-s0.json huge-s1.json >m.json 2>err.txt
[ $? = 1 ] || bad "merge of huge seconds: $(cat err.txt)"
grep -Eqi 'inf|nan' m.json && bad "merge wrote inf or nan: $(grep -Ei 'inf|nan' m.json)"
[ "$(json m.json '(d["seconds"], d["cpu_seconds"])')" = "(1e+308, None)" ] ||
    bad "merged seconds: $(json m.json '(d["seconds"], d["cpu_seconds"])')"
"$Q" replay m.json >out.txt 2>err.txt
[ $? = 1 ] || bad "replay refuses merge's own output: $(cat err.txt)"
"$Q" merge --format json big-s0.json s1.json >m2.json 2>err.txt
"$Q" replay m2.json >out.txt 2>err.txt
[ $? = 1 ] || bad "replay refuses merge's output with 1e300 seconds: $(cat err.txt)"
"$Q" merge --format json s0.json null-s1.json >m3.json 2>err.txt
[ $? = 1 ] || bad "merge refuses a shard with seconds null (what it writes): $(cat err.txt)"
[ "$(json m3.json '(d["seconds"], d["cpu_seconds"])')" = "(None, None)" ] || bad "unknown seconds not kept unknown"
"$Q" merge huge-s0.json huge-s1.json >out.txt 2>/dev/null
grep -q ', ? s cpu)' out.txt || bad "merge text with unknown cpu time: $(head -1 out.txt)"
"$Q" merge --save /dev/full s0.json s1.json >out.txt 2>err.txt
[ $? = 3 ] || bad "merge --save /dev/full: not exit 3"
one_line "merge --save /dev/full" '^qinval merge: the counterexample was not saved: cannot write /dev/full: '

# ---- a large result with many keys ----
# Read in a fraction of a second; the quadratic duplicate-key check took minutes for this file.
# The timeout only turns that back into a failure instead of a test that seems to hang.
python3 - <<'EOF'
import json
d = json.load(open("s0.json"))
body = json.dumps(d, indent=2)[:-2]
extra = "".join(',\n  "k%07d": %d' % (i, i) for i in range(250000))
open("many.json", "w").write(body + extra + "\n}\n")
lines = (body + extra).count("\n") + 2
open("many-dup.json", "w").write(body + extra + ',\n  "k0000007": 1\n}\n')
open("many-dup.where", "w").write("line %d, column 12" % lines)  # its closing quote
EOF
[ "$(stat -c %s many.json)" -gt 4000000 ] || bad "many.json is only $(stat -c %s many.json) bytes"
timeout 120 "$Q" merge many.json s1.json >out.txt 2>err.txt
[ $? = 1 ] || bad "a result with 250,000 extra keys: $(cat err.txt)"
timeout 120 "$Q" merge many-dup.json s1.json >out.txt 2>err.txt
[ $? = 2 ] || bad "a duplicate key among 250,000 was not refused"
one_line "duplicate key" "^qinval merge: many-dup.json: malformed JSON: $(cat many-dup.where): duplicate key \"k0000007\"$"

no_temporaries "the end"
[ $fail = 0 ] && echo "outputs: all checks passed"
exit $fail
