#!/usr/bin/env bash
# presence.sh — seed 000's presence check, shown by the checker's own runs. Debian's 6.1 and
# 6.12 trees skip the device-TLB invalidation of a detach (pasid.c,
# devtlb_invalidation_with_pasid()) when pci_device_is_present() says the device is gone. On
# detach-link-down (scalable mode, ITE time-out 60 s, watchdog 10 s; the link comes back at 5 s
# and the device uses its ATC), for each tree available (skipped without one):
#   - as shipped, a link drop before the check (link_down_us=0) makes the check skip the
#     invalidation: the detach returns having sent nothing, the pages are reused
#     (lost_invalidation); a drop after the check and before the endpoint answered
#     (link_down_us=2) is a hard lockup (the kernel polls with interrupts off for the 60-s
#     ITE); a drop after the answer (4) passes;
#   - with the check removed by a patch written here, the early drop locks up too: what the
#     check changes is the early drop, from a lockup into a silently skipped invalidation.
set -u
Q=$(realpath "${1:?usage: presence.sh path/to/qinval cache-dir}")
CACHE=$(realpath -m "${QINVAL_LKH_CACHE:-${2:?usage: presence.sh path/to/qinval cache-dir}}")
. "$(dirname "$0")/trees.sh"
need_trees
need_patch_tool
enter_work
fail=0

cat >no-presence.patch <<'PATCH'
--- a/drivers/iommu/intel/pasid.c
+++ b/drivers/iommu/intel/pasid.c
@@ -1,9 +1,6 @@
 	info = dev_iommu_priv_get(dev);
 	if (!info || !info->ats_enabled)
 		return;
 
-	if (!pci_device_is_present(to_pci_dev(dev)))
-		return;
-
 	sid = info->bus << 8 | info->devfn;
 	qdep = info->ats_qdep;
PATCH

verdict() { # ksrc link_down_us -> the verdict word
    kernel_verdict --scenario detach-link-down --set "ksrc=$1" --set "link_down_us=$2" --save ce.json
}
expect() { # want got what
    if [ "$1" != "$2" ]; then
        echo "FAIL $3: got '$2', wanted $1"
        fail=1
    fi
}

n=0
for t in "${KTREES[@]}"; do
    n=$((n + 1))
    expect lost_invalidation "$(verdict "$t" 0)" "$t as shipped, link down before the check"
    grep -q "detach job .* returned success, but invalidation 1 it requires (devtlb sid=01:00.0 global) was neither executed nor sent" out.txt ||
        { echo "FAIL $t: the lost invalidation is not the skipped device-TLB one: $(grep '^why' out.txt)"; fail=1; }
    expect hard_lockup "$(verdict "$t" 2)" "$t as shipped, link down after the check"
    expect pass "$(verdict "$t" 4)" "$t as shipped, link down after the answer"
    tree=$work/tree$n
    why=$(patched_tree "$t" "$tree" "$work/no-presence.patch") || { echo "FAIL $why"; fail=1; continue; }
    expect hard_lockup "$(verdict "$tree" 0)" "$t without the check, link down early"
    expect hard_lockup "$(verdict "$tree" 2)" "$t without the check, link down late"
    echo "$t: the presence check turns an early link drop from a lockup into a skipped invalidation"
done
[ $fail = 0 ] && echo "kernel presence check: OK"
exit $fail
