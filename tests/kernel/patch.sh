#!/usr/bin/env bash
# patch.sh — a user's patch changes the verdicts. For each kernel tree available (skipped
# without one): copy the tree's drivers/iommu/intel into a directory tree, apply a small patch
# written here that brings back the behaviour seed 001 describes (the ITE walk forces the low
# bit of its start index to 1 and steps back two slots, assuming wait descriptors sit at odd
# slots), and check the kernel driver on ite-even-batch: the tree as shipped passes; the
# patched tree locks up with the batch of 2 (its wait at an even slot) and still passes with an
# odd batch of 3, exactly as the seed says.
# The failure signatures name the kernel's own functions: the shipped tree on link-down-silent
# polls in qi_submit_sync with interrupts off (the same twice, and in the replay); the patched
# tree spins in qi_check_fault, where the walk is (inlined into qi_submit_sync by -O2: the
# name comes from the inlining information), after the ITE.
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

signature() { # the signature line of out.txt, without "signature: "
    sed -n 's/^signature: //p' out.txt
}
polls='hard_lockup: polls in qi_submit_sync with interrupts off, after unanswered device-TLB invalidation'
spins='(hang|hard_lockup): spins in qi_check_fault \(no platform point\), after ITE'

n=0
for t in "${KTREES[@]}"; do
    n=$((n + 1))
    tree=$work/tree$n
    expect pass "$(verdict "$t")" "$t as shipped, batch 2"
    kernel_verdict --scenario link-down-silent --set "ksrc=$t" --save silent.json >/dev/null
    shipped=$(signature)
    expect "$polls" "$shipped" "$t as shipped, link-down-silent signature"
    "$Q" replay --ksrc "$t" silent.json >out.txt 2>/dev/null
    expect "$polls" "$(signature)" "$t as shipped, link-down-silent signature on replay"
    kernel_verdict --scenario link-down-silent --set "ksrc=$t" >/dev/null
    [ "$(signature)" = "$shipped" ] || { echo "FAIL $t: a second run's signature differs"; fail=1; }
    why=$(patched_tree "$t" "$tree" "$work/odd-slots.patch") || { echo "FAIL $why"; fail=1; continue; }
    grep -q 'head |= 1;' "$tree/drivers/iommu/intel/dmar.c" || {
        echo "FAIL the patch did not change $t's dmar.c"
        fail=1
    }
    expect 'hang|hard_lockup' "$(verdict "$tree")" "$t patched, batch 2"
    expect "$spins" "$(signature)" "$t patched, batch 2 signature"
    [ "$(signature)" != "$shipped" ] || { echo "FAIL $t: patched and shipped signatures agree"; fail=1; }
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
