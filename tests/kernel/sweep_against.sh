#!/usr/bin/env bash
# sweep_against.sh — a reviewer's question, asked of the kernel's own code: what does a patch
# change in the list of distinct failures? For each kernel tree available (skipped without
# one): the patch of patch.sh (the ITE walk back to odd slots, seed 001's bug) is applied to a
# copy of the tree, and `qinval sweep --driver kernel --set ksrc=TREE --against ksrc=PATCHED`
# on ite-even-batch must name the walk's lockup (a CPU spinning with no platform point, after
# an ITE, at even batches only) as introduced. (What the patched tree "fixes" may be failures
# its lockup masks at the same points, so that list is shown, not judged.)
set -u
Q=$(realpath "${1:?usage: sweep_against.sh path/to/qinval cache-dir}")
CACHE=$(realpath -m "${QINVAL_LKH_CACHE:-${2:?usage: sweep_against.sh path/to/qinval cache-dir}}")
here=$(dirname "$(realpath "$0")")
. "$here/trees.sh"
need_trees
need_patch_tool
enter_work
fail=0
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

sed -n '/^cat >odd-slots.patch/,/^PATCH$/p' "$here/patch.sh" |
    sed '1d;$d' >odd-slots.patch

n=0
for t in "${KTREES[@]}"; do
    n=$((n + 1))
    kernel_verdict --scenario smoke --set "ksrc=$t" --executions 1 >/dev/null # extract it
    why=$(patched_tree "$t" "$work/tree$n" "$work/odd-slots.patch") || { echo "FAIL $why"; fail=1; continue; }
    "$Q" sweep --driver kernel --set "ksrc=$t" --against "ksrc=$work/tree$n" \
        --scenario ite-even-batch --executions "${QINVAL_SWEEP_EXECUTIONS:-300}" --no-progress \
        --format json >ag$n.json 2>err$n.txt
    rc=$?
    [ $rc = 1 ] || { echo "FAIL $t: sweep --against exited $rc: $(head -3 err$n.txt)"; fail=1; continue; }
    intro=$(json ag$n.json '"; ".join(f["signature"] + " [" + f["region"] + "]" for f in d["introduced"])')
    echo "$t: introduced: $intro"
    echo "$intro" | grep -Eq '(hard_lockup|hang): spins in [a-z_]+ .*after ITE' ||
        { echo "FAIL $t: the odd-slot walk's lockup is not introduced"; fail=1; }
    # the walk's region names batch values, every one of them even
    json ag$n.json '[f["region"] for f in d["introduced"] if "spins" in f["signature"]][0]' |
        python3 -c 'import re,sys; r=sys.stdin.read(); m=re.search(r"batch=([0-9|]+)", r); sys.exit(0 if m and all(int(b) % 2 == 0 for b in m.group(1).split("|")) else 1)' ||
        { echo "FAIL $t: the walk's region is not even batches: $intro"; fail=1; }
    echo "$t: fixed: $(json ag$n.json '"; ".join(f["signature"] for f in d["fixed"])')"
done
[ $fail = 0 ] && echo "kernel sweep --against: OK"
exit $fail
