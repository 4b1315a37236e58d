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
 * Invariant of the spare: every byte of its mapping is zero and every page record is all
 * zero ({HW_OWNER_FREE, gen 0, nothing written}), exactly what mmap + calloc give, so a
 * machine cannot tell a reused memory from a fresh one; and no page at or above `resident_hi`
 * is resident.
 *
 * What was written. RAM is written only through what this file hands out, and every way out
 * records the bytes in the page records (dirty_lo/dirty_hi, one byte range per page):
 *  - hw_mem_ptr(pa, len): the caller may write [pa, pa + len);
 *  - hw_mem_alloc(bytes): the owner may write the allocation's `bytes` through any pointer to
 *    them (sim_dma_alloc hands out the RAM base plus the address); hw_mem_alloc_quiet() is for
 *    owners that write only through hw_mem_ptr(), so nothing is recorded until they do;
 *  - the model's own writes (status writes, DMA) go through hw_mem_touch().
 * The contract of a pointer handed out is its range: a write outside it (a driver overrunning
 * its queue, say) is a memory-safety bug of the writer, which this file does not repair in an
 * ordinary build. The audit (below) finds such "stray" bytes; builds with assertions run it on
 * every release, which every test exercises under the sanitizer build.
 *
 * Restoring the invariant on release: the machine keeps a mark, mem_hi, above which nothing
 * was allocated or written (page records change only below it either). Zero the written range
 * of each page below the mark, and the mark's records: a few hundred bytes where zeroing every
 * resident page was tens of KiB, and no system call.
 *
 * The audit (hw_mem_set_audit) checks that nothing else was written, at the cost of a system
 * call and of reading all resident RAM (as much as zeroing it all did), so ordinary builds
 * run it on one release in AUDIT_EVERY only, and on every release once it found something. Turning
 * it on drops the thread's spare, so that an audited machine starts from a mapping whose every
 * write was audited. On release:
 *  - if this thread took no page fault while the machine lived (util/faults.h), no page became
 *    resident: zero what was written, then read every resident page and clear and count any
 *    byte still non-zero (hw_mem_stray_pages): what a stray write left;
 *  - otherwise drop the pages above the mark with MADV_DONTNEED (they read as zero again and
 *    are no longer resident, whatever wrote them), zero the pages below it whole, and
 *    resident_hi becomes the mark.
 * Huge pages are refused for the mapping, so that residency stays per 4 KiB page. */
static _Thread_local struct {
    uint8_t *ram;
    struct hw_page *pages;
    size_t bytes;
    size_t resident_hi; /* pages at or above it are not resident */
} spare;

#ifdef NDEBUG
#define AUDIT_DEFAULT false
#else
#define AUDIT_DEFAULT true
#endif
static _Thread_local int audit = -1; /* -1: AUDIT_DEFAULT */
static _Thread_local uint64_t strays;
/* With the audit off, one release in AUDIT_EVERY is audited all the same, and once a stray
 * byte has been found every release is: a driver that writes outside what it was given is
 * noticed (hw_mem_stray_pages() > 0, which the command line reports) and, from then on, its
 * stray bytes cannot reach the next execution. */
#define AUDIT_EVERY 64
static _Thread_local unsigned releases;

static void ram_unmap(uint8_t *ram, struct hw_page *pages, size_t bytes);

bool hw_mem_set_audit(bool on)
{
    bool was = audit < 0 ? AUDIT_DEFAULT : audit;
    audit = on;
    if (on && !was) {
        ram_unmap(spare.ram, spare.pages, spare.bytes);
        spare.ram = NULL;
        spare.pages = NULL;
    }
    return was;
}

void hw_mem_thread_done(void)
{
    ram_unmap(spare.ram, spare.pages, spare.bytes);
    spare.ram = NULL;
    spare.pages = NULL;
}

bool hw_mem_audit_on(void)
{
    return audit < 0 ? AUDIT_DEFAULT : audit;
}

uint64_t hw_mem_stray_pages(void)
{
    return strays;
}

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
    m->free_lo = 1;
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

#define SHORT_SPAN 256u

/* memset(p, 0, n) for the short ranges release zeroes most (a table entry, a status word, a
 * driver's structure): fixed-size stores the compiler makes inline, overlapping at the end,
 * all within [p, p + n); longer ranges go to memset. */
static void zero_span(uint8_t *p, size_t n)
{
    if (n > SHORT_SPAN) {
        memset(p, 0, n);
    } else if (n >= 16) {
        for (size_t i = 0; i + 16 < n; i += 16)
            memset(p + i, 0, 16);
        memset(p + n - 16, 0, 16);
    } else if (n >= 8) {
        memset(p, 0, 8);
        memset(p + n - 8, 0, 8);
    } else if (n >= 4) {
        memset(p, 0, 4);
        memset(p + n - 4, 0, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            p[i] = 0;
    }
}

/* Zero what was recorded as written on page p and forget the record. */
static void zero_written(hw_machine *m, size_t p)
{
    struct hw_page *pg = &m->pages[p];
    if (!pg->dirty_hi)
        return;
    zero_span(m->ram + p * HW_PAGE_SIZE + pg->dirty_lo, (size_t)(pg->dirty_hi - pg->dirty_lo));
    pg->dirty_lo = pg->dirty_hi = 0;
}

/* A page of zero bytes, to compare pages with: libc's memcmp reads a page several times
 * faster than a loop OR-ing its words together (one dependent chain), and the audit reads every
 * resident page. */
static const uint8_t zero_page[HW_PAGE_SIZE];

/* Clear and count the pages below `hi` with a non-zero byte (the audit, see above). */
static void audit_zero(hw_machine *m, size_t hi)
{
    for (size_t p = 0; p < hi; p++) {
        uint8_t *page = m->ram + p * HW_PAGE_SIZE;
        if (memcmp(page, zero_page, HW_PAGE_SIZE)) {
            memset(page, 0, HW_PAGE_SIZE);
            strays++;
        }
    }
}

void hw_mem_fini(hw_machine *m)
{
    if (!m->ram || !m->pages) {
        ram_unmap(m->ram, m->pages, m->cfg.mem_bytes);
        return;
    }
    size_t hi = m->mem_hi < m->npages ? m->mem_hi : m->npages;
    size_t bytes = m->cfg.mem_bytes, resident = m->resident_hi;
    bool audited = hw_mem_audit_on() || strays || ++releases % AUDIT_EVERY == 0;
    uint64_t f = audited ? faults_observe() : 0;
    if (audited && (f == FAULTS_UNKNOWN || f != m->mem_faults)) {
        size_t low = hi * HW_PAGE_SIZE;
        if (low < bytes && madvise(m->ram + low, bytes - low, MADV_DONTNEED) != 0) {
            ram_unmap(m->ram, m->pages, bytes); /* cannot restore the invariant: drop it */
            return;
        }
        memset(m->ram, 0, low);
        resident = hi;
    } else {
        for (size_t p = 0; p < hi; p++)
            zero_written(m, p);
        if (audited)
            audit_zero(m, resident > hi ? resident : hi);
        else if (hi > resident)
            resident = hi; /* what was written through what was handed out is below the mark */
    }
    memset(m->pages, 0, hi * sizeof(*m->pages));
    ram_unmap(spare.ram, spare.pages, spare.bytes); /* keep the newest only */
    spare.ram = m->ram;
    spare.pages = m->pages;
    spare.bytes = bytes;
    spare.resident_hi = resident;
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

void hw_mem_touch_span(hw_machine *m, hw_paddr pa, size_t len)
{
    while (len) {
        size_t lo = (size_t)(pa % HW_PAGE_SIZE);
        size_t n = HW_PAGE_SIZE - lo < len ? HW_PAGE_SIZE - lo : len;
        hw_mem_touch(m, pa, n);
        pa += n;
        len -= n;
    }
}

/* First fit from page 1: the first page of the lowest run of n free pages, 0 if there is none.
 * Pages below free_lo are all owned, so no run starts there and the search can begin at
 * free_lo; once it is moved past the owned pages, free_lo itself is a run of one. */
static size_t first_fit(hw_machine *m, size_t n)
{
    while (m->free_lo < m->npages && m->pages[m->free_lo].owner != HW_OWNER_FREE)
        m->free_lo++;
    if (n == 1)
        return m->free_lo < m->npages ? m->free_lo : 0;
    for (size_t first = m->free_lo; first + n <= m->npages; first++) {
        size_t k = 0;
        while (k < n && m->pages[first + k].owner == HW_OWNER_FREE)
            k++;
        if (k == n)
            return first;
        first += k; /* skip past the owned page */
    }
    return 0;
}

static hw_paddr mem_alloc(hw_machine *m, size_t bytes, uint32_t owner, bool written)
{
    size_t n = pages_for(bytes ? bytes : 1);
    if (owner == HW_OWNER_FREE)
        return 0;
    size_t first = first_fit(m, n);
    if (!first)
        return 0;
    if (first + n > m->mem_hi)
        m->mem_hi = first + n; /* records change below the mark only */
    for (size_t k = 0; k < n; k++) {
        struct hw_page *pg = &m->pages[first + k];
        /* Used before: zero it. Outside its written range it is zero already (see above); a
         * page never allocated is the mapping's zero page. */
        if (pg->gen)
            zero_written(m, first + k);
        pg->owner = owner;
        pg->gen++;
    }
    if (written && bytes)
        hw_mem_touch_span(m, (hw_paddr)first * HW_PAGE_SIZE, bytes);
    return (hw_paddr)first * HW_PAGE_SIZE;
}

hw_paddr hw_mem_alloc(hw_machine *m, size_t bytes, uint32_t owner)
{
    return mem_alloc(m, bytes, owner, true);
}

hw_paddr hw_mem_alloc_quiet(hw_machine *m, size_t bytes, uint32_t owner)
{
    return mem_alloc(m, bytes, owner, false);
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
    if (first < m->free_lo)
        m->free_lo = first;
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
