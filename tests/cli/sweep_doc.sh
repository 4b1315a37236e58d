#!/usr/bin/env bash
# sweep_doc.sh — docs/matrix.md lists every distinct failure `qinval sweep` finds for each
# reference driver; this keeps those lists equal to what the command finds. For each driver D
# the list is the fenced block right after the line
# `<!-- sweep: the signatures of build/qinval sweep --driver D -->`, one signature a line;
# the sweep runs with its defaults (--format json) and the two sets of signatures are compared
# (order and repeats do not matter). Skipped under a sanitizer build (QINVAL_TEST_SANITIZED=1):
# the three sweeps take about 45 s optimised, several minutes instrumented.
set -u
Q=$(realpath "${1:?usage: sweep_doc.sh path/to/qinval}")
doc=$(dirname "$(realpath "$0")")/../../docs/matrix.md
drivers="legacy-odd eagain-any-ite step1-nowait"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "${QINVAL_TEST_SANITIZED:-0}" = 1 ]; then
    echo "sweep_doc: skipped: a sanitizer build (QINVAL_TEST_SANITIZED=1) runs the sweeps too slowly"
    exit 0
fi
[ -r "$doc" ] || { echo "FAIL: $doc not found"; exit 1; }

fail=0
for d in $drivers; do
    marker="<!-- sweep: the signatures of build/qinval sweep --driver $d -->"
    grep -qxF -- "$marker" "$doc" || { echo "FAIL: $doc has no line '$marker'"; fail=1; continue; }
    awk -v m="$marker" '
        $0 == m { seen = 1; next }
        seen && !open && /^```/ { open = 1; next }
        open && /^```/ { exit }
        open && NF { print }
    ' "$doc" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | sort -u >"$work/$d.doc"
    [ -s "$work/$d.doc" ] || { echo "FAIL: no fenced block after '$marker'"; fail=1; continue; }

    env -u QINVAL_KSRC "$Q" sweep --driver "$d" --no-progress --save "$work/save-$d" \
        --format json >"$work/$d.json" 2>"$work/$d.err"
    rc=$?
    # 0: no failure; 1: failures found (the usual state). Anything else is an error.
    if [ $rc -gt 1 ]; then
        echo "FAIL: qinval sweep --driver $d exited $rc: $(head -3 "$work/$d.err")"
        fail=1
        continue
    fi
    # The failures' signatures: each failure is a line starting with {"id": N after the
    # top-level "failures" key (the grid before it names signatures too, on its own lines).
    awk '/^  "failures": \[/ { f = 1; next } f && /^ *\{"id": / { print }' "$work/$d.json" |
        sed -n 's/.*"signature": "\([^"]*\)".*/\1/p' | sort -u >"$work/$d.out"
    if ! cmp -s "$work/$d.doc" "$work/$d.out"; then
        echo "FAIL: the signatures listed in docs/matrix.md for $d differ from 'qinval sweep --driver $d'."
        echo "Update the list after '$marker' and the explanations of the section"
        echo "\"Every distinct failure\". Differences (- doc, + sweep):"
        diff "$work/$d.doc" "$work/$d.out" | grep -E '^[<>]' | sed 's/^</-/; s/^>/+/'
        fail=1
    fi
done
[ $fail = 0 ] && echo "sweep_doc: docs/matrix.md lists the signatures qinval sweep finds for $drivers"
exit $fail
