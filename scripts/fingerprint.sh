#!/bin/sh
# fingerprint.sh — one hash of what the checker decides, for checking that a change meant to
# make it faster (or tidier) changed no decision.
#
# For every built-in driver and catalog scenario, under the defaults and under
# head_policy=complete desc_width=256, it runs a short seeded random exploration without
# minimisation and keeps its JSON result (verdict, failing execution, unminimised timeline;
# wall-clock seconds removed), the Chrome trace of the default execution, and the execution
# count of a small exhaustive search. Same binary behaviour, same hash.
#
# usage: scripts/fingerprint.sh [QINVAL] [--verbose]   (QINVAL defaults to build/qinval)
# With --verbose every line is printed before hashing, so two runs can be diffed.
set -eu
bin=${1:-build/qinval}
verbose=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

drivers="legacy-odd eagain-any-ite step1-nowait qinval qinval-trusting"
scenarios=$("$bin" list scenarios | awk '{print $1}')

emit() {
    if [ "$verbose" = --verbose ]; then
        printf '%s\n' "$1" | tee -a "$tmp/all"
    else
        printf '%s\n' "$1" >>"$tmp/all"
    fi
}

for d in $drivers; do
    for s in $scenarios; do
        for sets in "" "--set head_policy=complete --set desc_width=256"; do
            # shellcheck disable=SC2086 # $sets is a list of options
            "$bin" check --driver "$d" --scenario "$s" --seed 3 --executions 12 --no-minimise \
                --no-progress --format json $sets --trace "$tmp/trace.json" --save "$tmp/ce.json" \
                >"$tmp/out.json" \
                2>/dev/null || true
            r=$(grep -v '"seconds"' "$tmp/out.json" | sha256sum | cut -c1-16)
            t=$(sha256sum <"$tmp/trace.json" 2>/dev/null | cut -c1-16 || echo none)
            v=$(sed -n 's/.*"verdict": "\([a-z_]*\)".*/\1/p' "$tmp/out.json" | head -1)
            emit "$d $s [$sets] verdict=$v result=$r trace=$t"
            rm -f "$tmp/trace.json"
        done
    done
done
for d in legacy-odd step1-nowait qinval; do
    n=$("$bin" check --driver "$d" --scenario smoke --strategy dfs --bound 1 --executions 100000 \
        --no-progress --format json 2>/dev/null | sed -n 's/.*"executions": \([0-9]*\).*/\1/p')
    emit "$d smoke dfs bound 1: $n executions"
done
sha256sum <"$tmp/all" | cut -c1-16
