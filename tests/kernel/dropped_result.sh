#!/usr/bin/env bash
# dropped_result.sh — a caller that drops a result it should not, caught by the oracle that
# judges what follows. On shared-domain-dead-device (two ATS endpoints share a domain; one loses
# its link during an unmap and comes back to read through its ATC), for each kernel tree
# available (skipped without one): a tree whose qi_check_fault gives up on an absent device
# (-ETIMEDOUT; Debian's 6.12) is caught by stale_dma when the unmap goes through the tree's own
# cache_tag_flush_range(), which drops that result before the page is reused (kcall=kernel),
# and passes when the same code's result reaches a caller that looks at it (kcall=submit: the
# page is kept). A tree without that give-up (6.1) waits until the device answers: both pass.
set -u
Q=$(realpath "${1:?usage: dropped_result.sh path/to/qinval cache-dir}")
CACHE=$(realpath -m "${QINVAL_LKH_CACHE:-${2:?usage: dropped_result.sh path/to/qinval cache-dir}}")
. "$(dirname "$0")/trees.sh"
need_trees
enter_work
fail=0
expect() { # want got what
    if [ "$1" != "$2" ]; then
        echo "FAIL $3: got '$2', wanted $1"
        fail=1
    fi
}
for t in "${KTREES[@]}"; do
    expect pass "$(kernel_verdict --scenario smoke --set "ksrc=$t")" "$t smoke"
    dir=$(tree_dir "$t" "$CACHE") || { echo "FAIL no extracted copy of $t in $CACHE"; fail=1; continue; }
    if ! grep -q 'cache_tag_flush_range' "$dir/drivers/iommu/intel/cache.c" 2>/dev/null; then
        want=pass
    elif grep -q 'pci_device_is_present' "$dir/drivers/iommu/intel/dmar.c"; then
        want=stale_dma
    else
        want=pass
    fi
    got=$(kernel_verdict --scenario shared-domain-dead-device --set "ksrc=$t")
    expect $want "$got" "$t shared-domain-dead-device through the tree's own flush"
    if [ "$want" = stale_dma ] && ! grep -q '^why: ep1 reached physical page .* through a stale ATC entry' out.txt; then
        echo "FAIL $t: the stale DMA is not ep1's through its ATC: $(grep '^why' out.txt)"
        fail=1
    fi
    expect pass "$(kernel_verdict --scenario shared-domain-dead-device --set "ksrc=$t" --set kcall=submit)" \
        "$t shared-domain-dead-device, the result seen"
    echo "$t: shared-domain-dead-device: $want through the kernel's own flush, pass with the result seen"
done
[ $fail = 0 ] && echo "kernel dropped result: OK"
exit $fail
