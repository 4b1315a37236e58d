/*
 * tables.c — software-side helpers that build legacy-mode translation structures in simulated
 * memory, as an OS would: a root table, context tables, and 3- or 4-level second-level page
 * tables. They only write entries (bit layouts from vtd.h); the model's walker in xlate.c reads
 * them back through memory like hardware. Every entry is written through hw_mem_ptr(), so
 * table pages are allocated quiet (hw.h): releasing the machine zeroes only the entries.
 */
#include <string.h>

#include "hw/hw_internal.h"

static uint64_t *entry(hw_machine *m, hw_paddr table, unsigned idx, unsigned size)
{
    return hw_mem_ptr(m, table + (hw_paddr)idx * size, size);
}

hw_paddr hw_tables_root(hw_machine *m, uint32_t owner)
{
    return hw_mem_alloc_quiet(m, HW_PAGE_SIZE, owner);
}

hw_paddr hw_tables_new_pgd(hw_machine *m, uint32_t owner)
{
    return hw_mem_alloc_quiet(m, HW_PAGE_SIZE, owner);
}

int hw_tables_set_context(hw_machine *m, hw_paddr root, uint16_t sid, uint16_t did, int tt,
                          hw_paddr pgd, unsigned aw, uint32_t owner)
{
    uint64_t *re = entry(m, root, sid >> 8, 16);
    if (!re)
        return -1;
    if (!(re[0] & VTD_ROOT_P)) {
        hw_paddr ctp = hw_mem_alloc_quiet(m, HW_PAGE_SIZE, owner);
        if (!ctp)
            return -1;
        re[0] = ctp | VTD_ROOT_P;
        re[1] = 0;
    }
    uint64_t *ce = entry(m, re[0] & VTD_CTX_ADDR_MASK, sid & 0xFF, 16);
    if (!ce)
        return -1;
    if (tt < 0) {
        ce[0] = ce[1] = 0;
        return 0;
    }
    ce[1] = (aw & VTD_CTX_AW_MASK) | (uint64_t)did << VTD_CTX_DID_SHIFT;
    ce[0] = (pgd & VTD_CTX_ADDR_MASK) | (uint64_t)(tt & 3) << VTD_CTX_TT_SHIFT | VTD_CTX_P;
    return 0;
}

hw_paddr hw_tables_leaf(hw_machine *m, hw_paddr pgd, unsigned aw, uint64_t iova, uint32_t owner)
{
    if (aw < 1 || aw > 2)
        return 0;
    hw_paddr table = pgd;
    for (unsigned level = aw + 2; level > 1; level--) {
        unsigned shift = HW_PAGE_SHIFT + 9 * (level - 1);
        uint64_t *pte = entry(m, table, (iova >> shift) & 0x1FF, 8);
        if (!pte)
            return 0;
        if (!(*pte & (VTD_SL_R | VTD_SL_W))) {
            hw_paddr next = hw_mem_alloc_quiet(m, HW_PAGE_SIZE, owner);
            if (!next)
                return 0;
            *pte = next | VTD_SL_R | VTD_SL_W;
        }
        table = *pte & VTD_SL_ADDR_MASK;
    }
    return table;
}

int hw_tables_set_leaf(hw_machine *m, hw_paddr leaf, uint64_t iova, hw_paddr pa, bool r, bool w)
{
    uint64_t *pte = entry(m, leaf, (iova >> HW_PAGE_SHIFT) & 0x1FF, 8);
    if (!pte)
        return -1;
    *pte = (pa & VTD_SL_ADDR_MASK) | (r ? VTD_SL_R : 0) | (w ? VTD_SL_W : 0);
    return 0;
}

int hw_tables_map(hw_machine *m, hw_paddr pgd, unsigned aw, uint64_t iova, hw_paddr pa, bool r,
                  bool w, uint32_t owner)
{
    hw_paddr leaf = hw_tables_leaf(m, pgd, aw, iova, owner);
    return leaf ? hw_tables_set_leaf(m, leaf, iova, pa, r, w) : -1;
}

int hw_tables_unmap(hw_machine *m, hw_paddr pgd, unsigned aw, uint64_t iova)
{
    if (aw < 1 || aw > 2)
        return -1;
    hw_paddr table = pgd;
    for (unsigned level = aw + 2; level > 1; level--) {
        unsigned shift = HW_PAGE_SHIFT + 9 * (level - 1);
        uint64_t *pte = entry(m, table, (iova >> shift) & 0x1FF, 8);
        if (!pte || !(*pte & (VTD_SL_R | VTD_SL_W)))
            return -1;
        table = *pte & VTD_SL_ADDR_MASK;
    }
    uint64_t *leaf = entry(m, table, (iova >> HW_PAGE_SHIFT) & 0x1FF, 8);
    if (!leaf || !(*leaf & (VTD_SL_R | VTD_SL_W)))
        return -1;
    *leaf = 0;
    return 0;
}
