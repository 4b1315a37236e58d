#!/usr/bin/env bash
# compare-time-models.sh — the unbounded search with per-CPU clocks (`check --bound none
# --time-model local`) against the one-clock model (the bounded search `--bound 12` and random
# runs) on every catalog scenario and every scenario of the engine's tests, for each reference
# driver and the engine. A failure only the per-CPU search reports would be a false failure of
# that model; a proof it completes while a one-clock search fails would be a missed one. Both
# are marked; the exit status is 1 when any is found.
#
# usage: scripts/compare-time-models.sh [QINVAL [SECONDS [JOBS]]]
#        defaults: build/qinval, 20 s per search, 2 searches at once (GNU parallel if present)
# QINVAL_KSRC (a Linux tree or linux-source-*.tar.xz): the kernel's own code is compared too
# QINVAL_COMPARE_DRIVERS: the drivers to compare instead (space-separated)
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
q=$(realpath "${1:-$src/build/qinval}")
limit=${2:-20}
jobs=${3:-2}
case $limit in '' | *[!0-9]* | 0) echo "compare-time-models.sh: SECONDS '$limit' is not a positive count" >&2; exit 2 ;; esac
case $jobs in '' | *[!0-9]* | 0) echo "compare-time-models.sh: JOBS '$jobs' is not a positive count" >&2; exit 2 ;; esac
[ -x "$q" ] || { echo "compare-time-models.sh: $q is not an executable" >&2; exit 2; }
out=$(mktemp -d) || exit 2
trap 'rm -rf "$out"' EXIT

# One driver on one scenario: the three searches' first lines, as "L|G|R".
one() {
    local q=$1 d=$2 s=$3 limit=$4 out=$5
    local name=$(basename "$s" .scn)
    search() { (cd "$out" && "$q" check --driver "$d" --scenario "$s" --no-minimise --no-progress \
        --save /dev/null --time "$limit" "$@" 2>/dev/null | grep -m1 -E '^(PASS|FAIL)'); }
    local l g r
    l=$(search --strategy dfs --bound none --time-model local)
    g=$(search --strategy dfs --bound 12)
    r=$(search --strategy random --executions 3000)
    printf '%s|%s|%s|%s|%s\n' "$d" "$name" "$l" "$g" "$r" > "$out/$d.$name.res"
}
export -f one

scenarios=$("$q" list scenarios | awk '{ print $1 }')
scenarios="$scenarios $(ls "$src"/tests/scenarios/*.scn)"
list=()
drivers="legacy-odd eagain-any-ite step1-nowait qinval"
if [ -n "${QINVAL_KSRC:-}" ]; then
    drivers="$drivers kernel"
    # (the kernel's code is built on first use: once, here, rather than by parallel searches)
    (cd "$out" && "$q" check --driver kernel --scenario smoke --executions 1 --no-progress \
        --save /dev/null > /dev/null 2>&1)
fi
drivers=${QINVAL_COMPARE_DRIVERS:-$drivers}
for d in $drivers; do
    for s in $scenarios; do list+=("$d $s"); done
done
if command -v parallel > /dev/null; then
    printf '%s\n' "${list[@]}" | parallel -j "$jobs" --colsep ' ' one "$q" {1} {2} "$limit" "$out"
else
    for x in "${list[@]}"; do set -- $x; one "$q" "$1" "$2" "$limit" "$out"; done
fi

verdict() { # "PASS" | "FAIL kind" | "?" (no result line), and "proved" when the search ended
    case "$1" in
        PASS*"every interleaving covered"*) echo "PASS proved" ;;
        PASS*) echo PASS ;;
        FAIL*) echo "$1" | awk '{ print "FAIL", $2 }' ;;
        *) echo "?" ;;
    esac
}
bad=0
printf '%-16s %-26s %-22s %-22s %-22s\n' driver scenario per-CPU "one clock, bound 12" \
    "one clock, random"
for f in "$out"/*.res; do
    IFS='|' read -r d s l g r < "$f"
    vl=$(verdict "$l") vg=$(verdict "$g") vr=$(verdict "$r")
    mark=
    case "$vl" in
        FAIL*) case "$vg$vr" in *FAIL*) ;; *) mark="<< per-CPU only"; bad=1 ;; esac ;;
        "PASS proved") case "$vg$vr" in *FAIL*) mark="<< proof contradicted"; bad=1 ;; esac ;;
    esac
    printf '%-16s %-26s %-22s %-22s %-22s %s\n' "$d" "$s" "$vl" "$vg" "$vr" "$mark"
done
exit $bad
