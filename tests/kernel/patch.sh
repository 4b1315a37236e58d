#!/usr/bin/env bash
# patch.sh — a user's patch changes the verdicts. For each kernel tree available (skipped
# without one): copy the tree's drivers/iommu/intel into a directory tree, apply a small patch
# written here that brings back the behaviour seed 001 describes (the ITE walk forces the low
# bit of its start index to 1 and steps back two slots, assuming wait descriptors sit at odd
# slots), and check the kernel driver on ite-even-batch: the tree as shipped passes; the
# patched tree locks up with the batch of 2 (its wait at an even slot) and still passes with an
# odd batch of 3, exactly as the seed says.
set -u
Q=$(realpath "${1:?usage: patch.sh path/to/qinval cache-dir}")
CACHE=$(realpath -m "${QINVAL_LKH_CACHE:-${2:?usage: patch.sh path/to/qinval cache-dir}}")
. "$(dirname "$0")/trees.sh"
need_trees
need_patch_tool
enter_work
fail=0

cat >odd-slots.patch <<'PATCH'
--- a/drivers/iommu/intel/dmar.c
+++ b/drivers/iommu/intel/dmar.c
@@ -1,6 +1,7 @@
 	if (fault & DMA_FSTS_ITE) {
 		head = readl(iommu->reg + DMAR_IQH_REG);
 		head = ((head >> shift) - 1 + QI_LENGTH) % QI_LENGTH;
+		head |= 1;
 		tail = readl(iommu->reg + DMAR_IQT_REG);
 		tail = ((tail >> shift) - 1 + QI_LENGTH) % QI_LENGTH;
 
@@ -2,5 +3,5 @@
 			if (qi->desc_status[head] == QI_IN_USE)
 				qi->desc_status[head] = QI_ABORT;
-			head = (head - 1 + QI_LENGTH) % QI_LENGTH;
+			head = (head - 2 + QI_LENGTH) % QI_LENGTH;
 		} while (head != tail);
 
PATCH

verdict() { # ksrc [--set ...] -> the verdict word
    local k=$1
    shift
    kernel_verdict --scenario ite-even-batch --set "ksrc=$k" "$@"
}
expect() { # allowed-regex got what
    if ! echo "$2" | grep -Eqx "$1"; then
        echo "FAIL $3: got '$2', wanted $1"
        fail=1
    fi
}

n=0
for t in "${KTREES[@]}"; do
    n=$((n + 1))
    tree=$work/tree$n
    expect pass "$(verdict "$t")" "$t as shipped, batch 2"
    why=$(patched_tree "$t" "$tree" "$work/odd-slots.patch") || { echo "FAIL $why"; fail=1; continue; }
    grep -q 'head |= 1;' "$tree/drivers/iommu/intel/dmar.c" || {
        echo "FAIL the patch did not change $t's dmar.c"
        fail=1
    }
    expect 'hang|hard_lockup' "$(verdict "$tree")" "$t patched, batch 2"
    grep -q 'kernel pr_info: Invalidation Time-out Error (ITE) cleared' out.txt || {
        echo "FAIL $t patched: the timeline does not show the kernel's own ITE message"
        fail=1
    }
    expect 'hang|hard_lockup' "$(verdict "$tree" --set batch=4)" "$t patched, batch 4"
    expect pass "$(verdict "$tree" --set batch=3)" "$t patched, batch 3"
    echo "$t: shipped passes; patched locks up on even batches, passes odd ones"
done
[ $fail = 0 ] && echo "kernel patch: OK"
exit $fail
