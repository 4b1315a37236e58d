#!/usr/bin/env bash
# usage.sh — the qinval command's contract for help, version and bad input: --help (listing
# every command) and --version exit 0; an unknown command, an unknown flag or a bad flag value
# exits 2 with a one-line message on stderr naming the problem.
set -u
Q=${1:?usage: usage.sh path/to/qinval}
# Output files of its own, so that two runs at once (two build trees, say) do not mix them.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { # name expected-status command...
    local name=$1 want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL $name: exit $got, wanted $want"; fail=1
    fi
}
one_line_err() { # name pattern
    if [ "$(wc -l <"$T/err")" != 1 ] || ! grep -q -- "$2" "$T/err"; then
        echo "FAIL $1: stderr was: $(cat "$T/err")"; fail=1
    fi
}
check help 0 "$Q" --help
grep -q '^usage: qinval' "$T/out" || { echo "FAIL help text"; fail=1; }
for cmd in check merge replay list matrix demo; do
    grep -q "^  $cmd " "$T/out" || { echo "FAIL help text lacks '$cmd'"; fail=1; }
done
check version 0 "$Q" --version
grep -Eq '^qinval [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || { echo "FAIL version"; fail=1; }
check no-args 2 "$Q"
check unknown-command 2 "$Q" frobnicate
one_line_err unknown-command "unknown command 'frobnicate'"
check unknown-flag 2 "$Q" --frob
one_line_err unknown-flag "unknown option '--frob'"
check demo-unknown-flag 2 "$Q" demo --frob
one_line_err demo-unknown-flag "unknown option '--frob'"
check demo-bad-policy 2 "$Q" demo --head-policy sometimes
one_line_err demo-bad-policy "--head-policy needs fetch or complete"
check demo-bad-width 2 "$Q" demo --desc-width 64
one_line_err demo-bad-width "--desc-width needs 128 or 256"
check demo-missing-value 2 "$Q" demo --desc-width
check merge-no-files 2 "$Q" merge
one_line_err merge-no-files "qinval merge: needs the JSON results"
check merge-unknown-flag 2 "$Q" merge --frob x.json
one_line_err merge-unknown-flag "unknown option '--frob'"
check merge-missing-value 2 "$Q" merge x.json --format
one_line_err merge-missing-value "--format needs a value"
check check-progress-value 2 "$Q" check --progress=yes --executions 1
one_line_err check-progress-value "unknown option '--progress=yes'"
# Numbers: one line each, naming the flag; nothing strtod would take beyond decimals.
for t in inf nan -1 0 0x10 1e999 " 1" ""; do
    check "check-time '$t'" 2 "$Q" check --driver step1-nowait --scenario smoke --time "$t"
    one_line_err "check-time '$t'" "--time needs a positive number of seconds"
done
for bad in "--executions -1" "--executions 0" "--executions 1e3" "--depth -1" "--depth 9" \
    "--bound x" "--bound 17" "--seed -1"; do
    # shellcheck disable=SC2086 # $bad is two words
    check "check $bad" 2 "$Q" check --driver step1-nowait --scenario smoke $bad
    one_line_err "check $bad" "${bad%% *} "
done
# Nonsense that was accepted in silence: a shard number that wrapped (1/-1 was 1/4294967295),
# --depth or --bound with a strategy that ignores them.
for bad in "1/-1" "-1/4" "1/4x" "/4" "1/" "1/99999999999"; do
    check "check --shard $bad" 2 "$Q" check --driver step1-nowait --scenario smoke --shard "$bad"
    one_line_err "check --shard $bad" "--shard needs I/N with 0 <= I < N (got '$bad')"
done
check "check --depth with random" 2 "$Q" check --driver step1-nowait --scenario smoke --depth 3
one_line_err "check --depth with random" "--depth is a setting of --strategy pct"
check "check --bound with pct" 2 "$Q" check --driver step1-nowait --scenario smoke --strategy pct --bound 3
one_line_err "check --bound with pct" "--bound is a setting of --strategy dfs"
# COMMAND --help is help (check --help said "--help needs a value").
for cmd in check merge replay list matrix demo; do
    check "$cmd --help" 0 "$Q" $cmd --help
    grep -q '^usage: qinval' "$T/out" || { echo "FAIL $cmd --help: $(head -c 200 "$T/out" "$T/err")"; fail=1; }
done
# A scenario in which no CPU does anything is refused (it passed, checking nothing).
printf 'name = idle\n[params]\ncpus = 2\n' >"$T/idle.scn"
printf 'name = idle0\n[cpu *]\nrepeat = 0\nop = flush iotlb\n' >"$T/idle0.scn"
for f in idle idle0; do
    check "empty scenario $f" 2 "$Q" check --driver qinval --scenario "$T/$f.scn"
    one_line_err "empty scenario $f" "$T/$f.scn: no CPU runs any operation"
done
# A replay whose recorded violation does not reproduce exits 2, never 0 (it did exit 0).
"$Q" check --driver legacy-odd --scenario ite-even-batch --save "$T/ce.json" >/dev/null 2>&1
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["sets"]=c["sets"]+["batch=3"]; json.dump(c,open(sys.argv[2],"w"))' \
    "$T/ce.json" "$T/ce-odd.json"
check "replay not reproduced" 2 "$Q" replay "$T/ce-odd.json"
grep -q '^PASS legacy-odd / ite-even-batch .*the file expected one' "$T/out" ||
    { echo "FAIL replay not reproduced: stdout $(cat "$T/out")"; fail=1; }
grep -q 'records hard_lockup, which this replay does not reproduce' "$T/err" ||
    { echo "FAIL replay not reproduced: stderr $(cat "$T/err")"; fail=1; }
# A scenario file of one's own: --scenario with a path. A missing or malformed file is a usage
# error naming the file (and the line); a good one runs, and its counterexample replays from
# another directory.
dir=$(mktemp -d)
check scenario-file-missing 2 "$Q" check --driver step1-nowait --scenario "$dir/none.scn"
one_line_err scenario-file-missing "$dir/none.scn: cannot open"
printf 'name = broken\n[params]\ncpus = 2\nthis is not a line\n' >"$dir/broken.scn"
check scenario-file-malformed 2 "$Q" check --driver step1-nowait --scenario "$dir/broken.scn"
one_line_err scenario-file-malformed "$dir/broken.scn:4: malformed line"
catalog=$(dirname "$0")/../../scenarios
cp "$catalog/ite-even-batch.scn" "$dir/mine.scn"
(cd "$dir" && "$Q" check --driver legacy-odd --scenario mine.scn --save ce.json >out.txt 2>&1)
[ $? = 1 ] && grep -q "^FAIL h" "$dir/out.txt" || { echo "FAIL scenario-file check: $(head -3 "$dir/out.txt")"; fail=1; }
(cd / && "$Q" replay "$dir/ce.json" >"$dir/replay.txt" 2>&1)
[ $? = 1 ] && grep -q "^FAIL h" "$dir/replay.txt" || { echo "FAIL scenario-file replay: $(head -3 "$dir/replay.txt")"; fail=1; }
rm -rf "$dir"
# No catalog where the scenarios should be: said as such, not an empty list or "unknown scenario".
for cmd in "check --driver step1-nowait --scenario smoke" "list scenarios" "matrix --executions 1"; do
    # shellcheck disable=SC2086 # $cmd is a command line
    check "no-catalog $cmd" 2 env QINVAL_SCENARIOS=/nonexistent QINVAL_KSRC= "$Q" $cmd
    grep -q "no scenario catalog at '/nonexistent'" "$T/err" ||
        { echo "FAIL no-catalog $cmd: stderr was: $(cat "$T/err")"; fail=1; }
    [ -s "$T/out" ] &&
        { echo "FAIL no-catalog $cmd printed: $(cat "$T/out")"; fail=1; }
done
# An explicit --save that cannot be written is refused before exploring (it was found only once a
# violation was saved, and a passing run never said so); an existing file is neither created
# nor truncated by the look.
dir=$(mktemp -d)
printf 'kept\n' >"$dir/old.json"
for bad in "/nonexistent/ce.json:no directory /nonexistent for /nonexistent/ce.json" \
    "$dir:$dir is a directory" "$dir/old.json/x:$dir/old.json/x: Not a directory" \
    ":an empty path"; do
    path=${bad%%:*} why=${bad#*:}
    check "check-save '$path'" 2 "$Q" check --driver legacy-odd --scenario ite-even-batch --save "$path"
    one_line_err "check-save '$path'" "qinval check: --save cannot be written: $why"
    [ -s "$T/out" ] && { echo "FAIL check-save '$path' explored: $(cat "$T/out")"; fail=1; }
    check "merge-save '$path'" 2 "$Q" merge --save "$path" "$dir/old.json"
    one_line_err "merge-save '$path'" "qinval merge: --save cannot be written: $why"
done
check check-save-pass 0 "$Q" check --driver legacy-odd --scenario smoke --executions 5 --save "$dir/old.json"
[ "$(cat "$dir/old.json")" = kept ] || { echo "FAIL a passing run touched --save"; fail=1; }
check check-save-new 1 "$Q" check --driver legacy-odd --scenario ite-even-batch --save "$dir/new.json"
grep -q '"qinval_counterexample": 1' "$dir/new.json" || { echo "FAIL --save new file not written"; fail=1; }
rm -rf "$dir"
# Times near the top of the 64-bit range: taken up to 2^64 - 1 ns and saturating (a time-out, a
# watchdog, a latency, a deadline too long for the clock is "never", never a small time that
# fires at once), or refused with exit 2 naming the --set, the key and the range.
check huge-watchdog 0 "$Q" check --driver qinval --scenario ite-even-batch --set watchdog_s=18446744073
grep -q "^PASS qinval / ite-even-batch " "$T/out" || { echo "FAIL huge-watchdog: $(head -2 "$T/out")"; fail=1; }
check watchdog-past-64-bits 2 "$Q" check --driver qinval --scenario ite-even-batch --set watchdog_s=18446744074
one_line_err watchdog-past-64-bits "^qinval: --set watchdog_s=18446744074: key 'watchdog_s': 18446744074 is out of range (expected a decimal number of seconds > 0, at most 18446744073.709551615)$"
check max-virtual-bound 2 "$Q" check --driver qinval --scenario smoke --set max_virtual_s=1000000001
one_line_err max-virtual-bound "key 'max_virtual_s': 1000000001 is out of range (expected a decimal number of seconds > 0, at most 1000000000: "
dir=$(mktemp -d)
printf '[params]\nnap = 1\n[endpoint ep0]\nsid = 01:00.0\n[cpu 0]\nrepeat = 3\nop = flush devtlb=ep0 batch=2\nop = sleep us=$nap\n' >"$dir/healthy.scn"
for set in ite_timeout_ms=18446744073709.551 deadline_ms=18446744073709.551 \
    "deadline_ms=0.001 --set deadline_margin_ms=18446744073709.551" devtlb_latency_us=18446744073709551; do
    # shellcheck disable=SC2086 # $set may be two options
    check "healthy $set" 0 "$Q" check --driver qinval --scenario "$dir/healthy.scn" --executions 20 --set $set
    grep -q "^PASS qinval" "$T/out" || { echo "FAIL healthy $set: $(head -2 "$T/out")"; fail=1; }
done
check sleep-past-bound 2 "$Q" check --driver qinval --scenario "$dir/healthy.scn" --set nap=600000000.001
one_line_err sleep-past-bound "healthy.scn:8: key 'op': sleep us=600000000.001: 600000000.001 is out of range (expected a decimal number of microseconds >= 0, at most 600000000: max_virtual_s, the run's virtual-time bound) (with \$nap from --set nap=600000000.001)"
rm -rf "$dir"
[ $fail = 0 ] && echo "usage: all checks passed"
exit $fail
