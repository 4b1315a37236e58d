#!/usr/bin/env bash
# csv.sh — the CSV files that `make plots` draws, from bench/engine and bench/checker with tiny
# budgets: the header names the columns the plot script reads; every other field is a number;
# the engine has one row per CPU count 1, 2, 4, ... up to --max-cpus for each workload; the
# checker one row per driver (as `qinval list drivers` would name them) with the baseline of
# the same run. No timing is asserted.
set -u
engine=${1:?usage: csv.sh bench/engine bench/checker}
checker=${2:?usage: csv.sh bench/engine bench/checker}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

"$engine" 2 --max-cpus 8 --csv "$work/engine.csv" >/dev/null || bad "bench/engine failed"
head -1 "$work/engine.csv" | grep -q '^workload,cpus,qinval_inv_per_s,step1_inv_per_s,qinval_latency_ns,step1_latency_ns,' ||
    bad "engine header: $(head -1 "$work/engine.csv")"
ncol=$(head -1 "$work/engine.csv" | awk -F, '{print NF}')
awk -F, -v n="$ncol" 'NR > 1 { if (NF != n) { print "row " NR ": " NF " fields"; exit 1 }
    for (i = 2; i <= NF; i++) if ($i !~ /^[0-9]+(\.[0-9]+)?$/) { print "row " NR ": " $i; exit 1 } }' \
    "$work/engine.csv" || bad "engine rows"
for w in iotlb iotlb+devtlb; do
    cpus=$(awk -F, -v w="$w" '$1 == w {printf "%s ", $2}' "$work/engine.csv")
    [ "$cpus" = "1 2 4 8 " ] || bad "engine $w rows for CPU counts '$cpus', wanted 1 2 4 8"
done
awk -F, 'NR > 1 && ($3 <= 0 || $4 <= 0) {exit 1}' "$work/engine.csv" || bad "a zero rate"

"$checker" 20 1 --csv "$work/checker.csv" >/dev/null || bad "bench/checker failed"
[ "$(head -1 "$work/checker.csv")" = "driver,smoke_exec_per_s,smoke_rounds3_exec_per_s,empty_exec_per_s,smoke_vs_empty,smoke_rounds3_vs_empty" ] ||
    bad "checker header: $(head -1 "$work/checker.csv")"
awk -F, 'NR > 1 { if (NF != 6) exit 1; for (i = 2; i <= 6; i++) if ($i !~ /^[0-9]+(\.[0-9]+)?$/) exit 1 }' \
    "$work/checker.csv" || bad "checker rows are not numeric"
rows=$(tail -n +2 "$work/checker.csv" | cut -d, -f1 | tr '\n' ' ')
for d in legacy-odd eagain-any-ite step1-nowait qinval qinval-trusting; do
    echo " $rows" | grep -q " $d " || bad "checker CSV lacks driver $d"
done
base=$(tail -n +2 "$work/checker.csv" | cut -d, -f4 | sort -u | wc -l)
[ "$base" = 1 ] || bad "the baseline differs between rows of one run"
"$engine" --csv "$work/no/such/dir.csv" >/dev/null 2>&1
[ $? = 2 ] || bad "an unwritable --csv is not a usage error"

[ $fail = 0 ] && echo "bench csv: ok"
exit $fail
