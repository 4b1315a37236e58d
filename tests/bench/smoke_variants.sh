#!/usr/bin/env bash
# smoke_variants.sh — bench/smoke-variants.sh with a tiny budget (its shape, never its timings):
# a row for smoke first, at ratio 1.00, then one per bench/smoke-variants/*.scn; a count that is
# not one is refused with exit 2. Every variant loads and every reference driver passes it, as
# on smoke: no fault is planned, so any other verdict is a broken file.
set -u
Q=$(realpath "${1:?usage: smoke_variants.sh path/to/qinval}")
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

"$src/bench/smoke-variants.sh" "$Q" 30 1 >"$work/out" 2>"$work/err" || bad "exit $?: $(cat "$work/err")"
mapfile -t rows < <(tail -n +3 "$work/out")
want=(smoke)
for f in "$src"/bench/smoke-variants/*.scn; do
    want+=("$(basename "$f" .scn)")
done
[ "${#want[@]}" -ge 2 ] || bad "no variant in bench/smoke-variants"
[ "${#rows[@]}" = "${#want[@]}" ] || bad "${#rows[@]} rows, wanted ${#want[@]}: $(cat "$work/out")"
for i in "${!want[@]}"; do
    name=$(awk '{print $1}' <<<"${rows[$i]:-}")
    [ "$name" = "${want[$i]}" ] || bad "row $i names '$name', wanted '${want[$i]}'"
    awk 'NF != 6 { exit 1 } { for (i = 2; i <= 6; i++) if ($i !~ /^[0-9]+(\.[0-9]+)?$/) exit 1 }' \
        <<<"${rows[$i]:-}" || bad "row $i: '${rows[$i]:-}'"
done
[ "$(awk '{print $6}' <<<"${rows[0]:-}")" = "1.00" ] || bad "smoke's ratio: '${rows[0]:-}'"

for n in 0 x 1.5; do
    "$src/bench/smoke-variants.sh" "$Q" "$n" 1 >/dev/null 2>"$work/err"
    rc=$?
    [ $rc = 2 ] && grep -q "'$n' is not a positive count" "$work/err" || bad "count '$n': exit $rc"
done
"$src/bench/smoke-variants.sh" /nonexistent/qinval 30 1 >/dev/null 2>"$work/err"
rc=$?
[ $rc = 2 ] && grep -q "no qinval at /nonexistent/qinval" "$work/err" || bad "missing binary: exit $rc"

for f in "$src"/bench/smoke-variants/*.scn; do
    for d in legacy-odd eagain-any-ite step1-nowait qinval; do
        out=$("$Q" check --no-progress --driver "$d" --scenario "$f" --executions 200 2>&1)
        rc=$?
        [ $rc = 0 ] && grep -q '^PASS' <<<"$out" || bad "$d on $(basename "$f"): exit $rc: $out"
    done
done

[ $fail = 0 ] && echo "smoke_variants: ok"
exit $fail
