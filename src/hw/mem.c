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
#include "util/faults.h"

/* RAM is an anonymous mapping: zero pages cost nothing until touched, so a machine that
 * uses a few pages of a large memory is cheap to create.
 *
 * Creating and destroying a machine per execution would map and unmap that memory every time
 * and fault in every page the execution touches anew; the kernel work dominated the checker.
 * So a destroyed machine leaves its RAM and page records to the next machine of the same
 * size created on the same thread (the checker runs one execution at a time per thread).
 *
 * Invariant of the spare: every byte of its mapping is zero and every page record is
 * {HW_OWNER_FREE, gen 0}, exactly what mmap + calloc give, so a machine cannot tell a reused
 * memory from a fresh one; and no page at or above `resident_hi` is resident.
 *
 * Restoring that on release: the machine keeps a mark, mem_hi, above which nothing was
 * allocated or written through the model or a pointer it handed out (allocation, hw_mem_ptr,
 * status writes, DMA all raise it); page records change only below it. Bytes can also change
 * through wild pointers anywhere, so:
 *  - if this thread took no page fault while the machine lived (util/faults.h), every page
 *    written was already resident, hence below the spare's resident_hi: zero [0, resident_hi)
 *    and the mark's records — no system call;
 *  - otherwise drop the pages above the mark with MADV_DONTNEED (they read as zero again and
 *    are no longer resident), zero the ones below it, and resident_hi becomes the mark.
 * Huge pages are refused for the mapping, so that residency stays per 4 KiB page. */
static _Thread_local struct {
    uint8_t *ram;
    struct hw_page *pages;
    size_t bytes;
    size_t resident_hi; /* pages at or above it are not resident */
} spare;

static void ram_unmap(uint8_t *ram, struct hw_page *pages, size_t bytes)
{
    if (ram)
        munmap(ram, bytes);
    free(pages);
}

void hw_mem_init(hw_machine *m)
{
    m->npages = m->cfg.mem_bytes / HW_PAGE_SIZE;
    m->mem_hi = 0;
    m->mem_faults = faults_latest(); /* an observation made before this machine's life */
    if (spare.ram && spare.bytes == m->cfg.mem_bytes) {
        m->ram = spare.ram;
        m->pages = spare.pages;
        m->resident_hi = spare.resident_hi;
        spare.ram = NULL;
        spare.pages = NULL;
        return;
    }
    void *ram =
        mmap(NULL, m->cfg.mem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m->ram = ram == MAP_FAILED ? NULL : ram;
#ifdef MADV_NOHUGEPAGE
    if (m->ram)
        madvise(m->ram, m->cfg.mem_bytes, MADV_NOHUGEPAGE); /* advice: failure is harmless */
#endif
    m->pages = calloc(m->npages, sizeof(*m->pages));
    m->resident_hi = 0;
}

void hw_mem_fini(hw_machine *m)
{
    if (!m->ram || !m->pages) {
        ram_unmap(m->ram, m->pages, m->cfg.mem_bytes);
        return;
    }
    size_t hi = m->mem_hi < m->npages ? m->mem_hi : m->npages;
    size_t bytes = m->cfg.mem_bytes, zero = m->resident_hi;
    uint64_t f = faults_observe();
    if (f == FAULTS_UNKNOWN || f != m->mem_faults) {
        size_t low = hi * HW_PAGE_SIZE;
        if (low < bytes && madvise(m->ram + low, bytes - low, MADV_DONTNEED) != 0) {
            ram_unmap(m->ram, m->pages, bytes); /* cannot restore the invariant: drop it */
            return;
        }
        zero = hi;
    }
    memset(m->ram, 0, zero * HW_PAGE_SIZE);
    memset(m->pages, 0, hi * sizeof(*m->pages));
    ram_unmap(spare.ram, spare.pages, spare.bytes); /* keep the newest only */
    spare.ram = m->ram;
    spare.pages = m->pages;
    spare.bytes = bytes;
    spare.resident_hi = zero;
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
        hw_mem_touch(m, (hw_paddr)first * HW_PAGE_SIZE, n * HW_PAGE_SIZE);
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
    if (!hw_mem_in_range(m, pa, len))
        return NULL;
    hw_mem_touch(m, pa, len); /* the caller may write through it */
    return m->ram + pa;
}

/* Hardware-side 64-bit read (table walks); out of range reads as 0 (not present). */
uint64_t hw_mem_rd64(hw_machine *m, hw_paddr pa)
{
    uint64_t v = 0;
    if (hw_mem_in_range(m, pa, 8))
        memcpy(&v, m->ram + pa, 8);
    return v;
}
