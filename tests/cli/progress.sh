#!/usr/bin/env bash
# progress.sh — the progress line of `qinval check` on stderr: off when stderr is not a
# terminal, forced on by --progress (executions, rate, elapsed time, ETA, redrawn after a
# carriage return and blanked at the end, so stdout's result is untouched), and --no-progress
# wins over an earlier --progress.
set -u
Q=${1:?usage: progress.sh path/to/qinval}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
run=(check --driver legacy-odd --scenario smoke --executions 100000000 --time 1.2)

"$Q" "${run[@]}" >"$work/out" 2>"$work/err"
[ -s "$work/err" ] && { echo "FAIL progress shown when stderr is a file: $(cat -A "$work/err")"; fail=1; }

"$Q" "${run[@]}" --progress >"$work/out" 2>"$work/err"
tr '\r' '\n' <"$work/err" >"$work/lines"
grep -Eq '^[0-9]+/100000000 executions, [0-9]+/s, [0-9.]+ s elapsed, ETA [0-9.]+ s *$' "$work/lines" ||
    { echo "FAIL no progress line with --progress: $(cat -A "$work/err")"; fail=1; }
[ "$(tail -c 1 "$work/err" | od -An -c | tr -d ' ')" = '\r' ] ||
    { echo "FAIL the progress line is not blanked at the end"; fail=1; }
grep -q '^PASS legacy-odd / smoke' "$work/out" || { echo "FAIL stdout: $(cat "$work/out")"; fail=1; }

"$Q" check --driver legacy-odd --scenario smoke --executions 10 --progress --no-progress \
    >"$work/out" 2>"$work/err"
[ -s "$work/err" ] && { echo "FAIL --no-progress still draws"; fail=1; }

[ $fail = 0 ] && echo "progress: all checks passed"
exit $fail
