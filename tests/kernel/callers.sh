#!/usr/bin/env bash
# callers.sh — --set kcall=callers: batches go through the kernel's own qi_flush_iotlb() and
# qi_flush_dev_iotlb(), which return nothing. For each kernel tree available (skipped without
# one), on link-down-silent with a watchdog longer than the 60-s ITE time-out: a tree whose
# qi_check_fault gives up on an absent device (-ETIMEDOUT: it asks pci_device_is_present)
# passes when the workload sees qi_submit_sync's result, and loses the invalidation when the
# result is dropped by qi_flush_dev_iotlb, as in the kernel; a tree without that check retries
# forever either way (hang). Smoke passes both ways.
set -u
Q=$(realpath "${1:?usage: callers.sh path/to/qinval cache-dir}")
CACHE=$(realpath -m "${QINVAL_LKH_CACHE:-${2:?usage: callers.sh path/to/qinval cache-dir}}")
. "$(dirname "$0")/trees.sh"
need_trees
enter_work
fail=0

verdict() { # ksrc scenario [--set ...] -> the verdict word
    local k=$1 s=$2
    shift 2
    kernel_verdict --scenario "$s" --set "ksrc=$k" "$@"
}
expect() { # want got what
    if [ "$1" != "$2" ]; then
        echo "FAIL $3: got '$2', wanted $1"
        fail=1
    fi
}

for t in "${KTREES[@]}"; do
    expect pass "$(verdict "$t" smoke --set kcall=callers)" "$t smoke through the callers"
    dir=$(tree_dir "$t" "$CACHE") || {
        echo "FAIL no extracted copy of $t in $CACHE"
        fail=1
        continue
    }
    if grep -q 'pci_device_is_present' "$dir/drivers/iommu/intel/dmar.c"; then
        want_submit=pass want_callers=lost_invalidation
    else
        want_submit=hang want_callers=hang
    fi
    expect $want_submit "$(verdict "$t" link-down-silent --set watchdog_s=100)" \
        "$t link-down-silent, qi_submit_sync's result seen"
    expect $want_callers "$(verdict "$t" link-down-silent --set watchdog_s=100 --set kcall=callers)" \
        "$t link-down-silent through qi_flush_dev_iotlb"
    echo "$t: link-down-silent, watchdog 100 s: $want_submit with the result, $want_callers through the callers"
done
[ $fail = 0 ] && echo "kernel callers: OK"
exit $fail
