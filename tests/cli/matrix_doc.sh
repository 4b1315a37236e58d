#!/usr/bin/env bash
# matrix_doc.sh — docs/matrix.md explains every cell of `qinval matrix`; this keeps its table
# equal to what the command prints. The table is the fenced block right after the line
# `<!-- matrix: the output of build/qinval matrix -->`; both sides are compared line by line
# with runs of blanks collapsed and blank lines dropped.
set -u
Q=$(realpath "${1:?usage: matrix_doc.sh path/to/qinval}")
doc=$(dirname "$(realpath "$0")")/../../docs/matrix.md
marker='<!-- matrix: the output of build/qinval matrix -->'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

normalise() { awk 'NF { $1 = $1; print }'; }

[ -r "$doc" ] || { echo "FAIL: $doc not found"; exit 1; }
grep -qxF -- "$marker" "$doc" || { echo "FAIL: $doc has no line '$marker'"; exit 1; }

# The first fenced block after the marker.
awk -v m="$marker" '
    $0 == m { seen = 1; next }
    seen && !open && /^```/ { open = 1; next }
    open && /^```/ { exit }
    open { print }
' "$doc" | normalise >"$work/doc.txt"
[ -s "$work/doc.txt" ] || { echo "FAIL: no fenced block after '$marker' in $doc"; exit 1; }

# Without the kernel driver, whose column needs a kernel tree (docs/linux-results.md).
env -u QINVAL_KSRC "$Q" matrix >"$work/raw.txt" 2>"$work/err.txt"
rc=$?
# 0: every cell passes; 1: some cell fails (the usual state). Anything else is an error.
if [ $rc -gt 1 ]; then
    echo "FAIL: qinval matrix exited $rc: $(cat "$work/err.txt")"
    exit 1
fi
normalise <"$work/raw.txt" >"$work/out.txt"

if ! cmp -s "$work/doc.txt" "$work/out.txt"; then
    echo "FAIL: the table in docs/matrix.md differs from the output of 'qinval matrix'."
    echo "A verdict changed: update the table in docs/matrix.md (after '$marker')"
    echo "and the section explaining each changed cell. Differences (- doc, + matrix):"
    diff "$work/doc.txt" "$work/out.txt" | grep -E '^[<>]' | sed 's/^</-/; s/^>/+/'
    exit 1
fi
echo "matrix_doc: docs/matrix.md matches qinval matrix"
