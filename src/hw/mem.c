/*
 * mem.c — simulated physical memory: a flat byte array in 4 KiB pages, each page free or
 * owned by a number the caller picks. Ownership and a per-page generation let the oracles tell
 * a status write or a DMA that lands on a page which has been freed or handed to someone else.
 * Allocation is first-fit from page 1, so freed pages are reused promptly (as in a kernel).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hw/hw_internal.h"

/* RAM is an anonymous mapping: zero pages cost nothing until touched, so a machine that
 * uses a few pages of a large memory is cheap to create and destroy. */
void hw_mem_init(hw_machine *m)
{
    m->npages = m->cfg.mem_bytes / HW_PAGE_SIZE;
    void *ram =
        mmap(NULL, m->cfg.mem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m->ram = ram == MAP_FAILED ? NULL : ram;
    m->pages = calloc(m->npages, sizeof(*m->pages));
}

void hw_mem_fini(hw_machine *m)
{
    if (m->ram)
        munmap(m->ram, m->cfg.mem_bytes);
    free(m->pages);
}

size_t hw_mem_size(const hw_machine *m)
{
    return m->cfg.mem_bytes;
}

bool hw_mem_in_range(const hw_machine *m, hw_paddr pa, size_t len)
{
    return pa < m->cfg.mem_bytes && len <= m->cfg.mem_bytes - pa;
}

static size_t pages_for(size_t bytes)
{
    return (bytes + HW_PAGE_SIZE - 1) / HW_PAGE_SIZE;
}

hw_paddr hw_mem_alloc(hw_machine *m, size_t bytes, uint32_t owner)
{
    size_t n = pages_for(bytes ? bytes : 1);
    if (owner == HW_OWNER_FREE)
        return 0;
    for (size_t first = 1; first + n <= m->npages; first++) {
        size_t k = 0;
        while (k < n && m->pages[first + k].owner == HW_OWNER_FREE)
            k++;
        if (k < n) {
            first += k; /* skip past the owned page */
            continue;
        }
        for (k = 0; k < n; k++) {
            struct hw_page *pg = &m->pages[first + k];
            if (pg->gen) /* used before: zero it; a fresh page of the mapping is zero */
                memset(m->ram + (first + k) * HW_PAGE_SIZE, 0, HW_PAGE_SIZE);
            pg->owner = owner;
            pg->gen++;
        }
        return (hw_paddr)first * HW_PAGE_SIZE;
    }
    return 0;
}

int hw_mem_free(hw_machine *m, hw_paddr pa, size_t bytes)
{
    size_t n = pages_for(bytes ? bytes : 1);
    size_t first = pa / HW_PAGE_SIZE;
    if (pa % HW_PAGE_SIZE || first == 0 || first + n > m->npages)
        return -1;
    for (size_t k = 0; k < n; k++)
        if (m->pages[first + k].owner == HW_OWNER_FREE)
            return -1;
    for (size_t k = 0; k < n; k++) {
        m->pages[first + k].owner = HW_OWNER_FREE;
        m->pages[first + k].gen++;
    }
    return 0;
}

uint32_t hw_mem_owner(const hw_machine *m, hw_paddr pa)
{
    size_t p = pa / HW_PAGE_SIZE;
    return p < m->npages ? m->pages[p].owner : HW_OWNER_FREE;
}

uint32_t hw_mem_generation(const hw_machine *m, hw_paddr pa)
{
    size_t p = pa / HW_PAGE_SIZE;
    return p < m->npages ? m->pages[p].gen : 0;
}

void *hw_mem_ptr(hw_machine *m, hw_paddr pa, size_t len)
{
    return hw_mem_in_range(m, pa, len) ? m->ram + pa : NULL;
}

/* Hardware-side 64-bit read (table walks); out of range reads as 0 (not present). */
uint64_t hw_mem_rd64(hw_machine *m, hw_paddr pa)
{
    uint64_t v = 0;
    if (hw_mem_in_range(m, pa, 8))
        memcpy(&v, m->ram + pa, 8);
    return v;
}
