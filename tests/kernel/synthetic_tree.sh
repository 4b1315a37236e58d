# synthetic_tree.sh — sourced by the kernel-driver tests that need no kernel sources:
# mktree NAME writes, under $work, a tiny "kernel tree" of our own (four functions with the
# kernel's names, in drivers/iommu/intel/dmar.c and iommu.h) and prints its path. NAME selects a
# defect: no-check (qi_check_fault missing), calls-unknown (calls a function nobody provides),
# no-compile (uses an undeclared name); any other name builds, and its qi_submit_sync claims
# success without queuing anything (a lost invalidation).
mktree() {
    local dir=$work/$1
    mkdir -p "$dir/drivers/iommu/intel"
    cat >"$dir/drivers/iommu/intel/iommu.h" <<'H'
/* synthetic test header */
#define QI_LENGTH 256
#define DMAR_GSTS_REG 0x1c
H
    local check='return 0;'
    case $1 in
    calls-unknown) check='return frobnicate(index);' ;;
    no-compile) check='return NOT_DECLARED_ANYWHERE;' ;;
    esac
    {
        echo "static inline void reclaim_free_desc(struct q_inval *qi) { qi->free_cnt = qi->free_cnt; }"
        [ "$1" = no-check ] || echo "static int qi_check_fault(struct intel_iommu *iommu, int index, int wait_index) { $check }"
        echo "int qi_submit_sync(struct intel_iommu *iommu, struct qi_desc *desc, unsigned int count,"
        echo "                   unsigned long options)"
        echo "{"
        echo "    /* claims success without queuing anything */"
        [ "$1" = no-check ] || echo "    return qi_check_fault(iommu, 0, 0);"
        [ "$1" = no-check ] && echo "    return 0;"
        echo "}"
        echo "static void __dmar_enable_qi(struct intel_iommu *iommu)"
        echo "{"
        echo "    if (readl(iommu->reg + DMAR_GSTS_REG) == 0xffffffffu) /* { in a comment } */"
        echo "        pr_err(\"no IOMMU {\\n\");"
        echo "    reclaim_free_desc(iommu->qi);"
        echo "}"
    } >"$dir/drivers/iommu/intel/dmar.c"
    echo "$dir"
}

