/*
 * platform_qemu.c — include/qinval/platform.h over one qtest connection to QEMU's intel-iommu
 * (platform_qemu.h). Registers are qtest reads and writes at QTEST_VTD_BASE. The engine's
 * DMA-visible buffers (queue, status words) live in host memory, each mirrored to a range of
 * guest RAM: qi_plat_virt_to_phys() gives the guest address.
 *
 * The mirror. Each mirror keeps three copies: the host bytes (what the engine reads and
 * writes), a shadow (what the guest holds as far as this side knows) and the guest bytes.
 *  - qi_plat_wmb() pushes the host bytes that differ from the shadow to the guest (runs of
 *    changed 32-bit words), then sets the shadow to what it pushed. Descriptors are therefore in
 * the guest before the IQT write that the engine orders after its wmb.
 *  - qi_plat_store32() into a mirror writes the guest word and the host and shadow copies.
 *  - qi_plat_load32() of a mirror word reads the guest word (where QEMU's status writes land)
 *    and refreshes the host and shadow copies with it.
 *  - After every register write, the device-written mirrors (status words) are read back:
 *    each word whose host copy equals its shadow (no local write waiting for a push) takes
 *    the guest's value. The engine also reads status words with plain loads; they see QEMU's
 *    writes this way.
 * Why this is coherent: QEMU writes guest memory only inside a request we make (the machine is
 * stopped, -S, so no guest code runs; the IOMMU processes the queue synchronously inside the
 * IQT write, and does nothing on its own later), and every request is made under one mutex.
 * So between two requests the guest does not change; a register write is the only request
 * after which it may have, and it is followed by the read-back under the same mutex. A word
 * the engine writes locally wins over the guest's until it is pushed, and the engine stores
 * status words only while QEMU cannot write them (docs/engine.md, ordering 1 and 3).
 *
 * Everything else is ordinary host code: the clock is CLOCK_MONOTONIC, the lock a spin lock on
 * its word with sched_yield, relax sched_yield, the interrupt state a per-handle flag (nothing
 * interrupts a host thread), the watchdog nothing; messages go to a collector.
 */
#define _GNU_SOURCE
#include "qemu/platform_qemu.h"

#include <qinval/vtd.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mirror {
    uint8_t *host, *shadow;
    uint64_t gpa;
    size_t len;
    bool device_writes;
};

struct qi_platform {
    qemu_host *h;
    unsigned cpu;
    unsigned long irqs_off;
};

struct log_rec {
    enum qi_log_level lvl;
    const char *msg;
    uint64_t a, b;
};

struct qemu_host {
    qtest *q;
    pthread_mutex_t mu; /* the connection, the mirrors' shadows, the counters and the log */
    struct mirror m[QEMU_HOST_MAX_MIRRORS];
    unsigned nm;
    uint64_t next_gpa, end_gpa;
    uint32_t last_tail;
    qemu_host_stats st;
    struct log_rec log[QEMU_HOST_LOG_KEEP];
    unsigned nlog;
    struct qi_platform cpus[QEMU_HOST_MAX_CPUS];
};

/* ---- the host ---- */

qemu_host *qemu_host_create(qtest *q, uint64_t guest_base, uint64_t guest_bytes)
{
    qemu_host *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->q = q;
    pthread_mutex_init(&h->mu, NULL);
    h->next_gpa = guest_base;
    h->end_gpa = guest_base + guest_bytes;
    for (unsigned i = 0; i < QEMU_HOST_MAX_CPUS; i++)
        h->cpus[i] = (struct qi_platform){.h = h, .cpu = i};
    return h;
}

void qemu_host_destroy(qemu_host *h)
{
    if (!h)
        return;
    for (unsigned i = 0; i < h->nm; i++) {
        free(h->m[i].host);
        free(h->m[i].shadow);
    }
    pthread_mutex_destroy(&h->mu);
    free(h);
}

qi_platform *qemu_host_cpu(qemu_host *h, unsigned cpu)
{
    return cpu < QEMU_HOST_MAX_CPUS ? &h->cpus[cpu] : NULL;
}

void *qemu_dma_alloc(qemu_host *h, size_t bytes, size_t align, bool device_writes)
{
    size_t len = (bytes + 4095) & ~(size_t)4095;
    uint64_t gpa = (h->next_gpa + align - 1) & ~(uint64_t)(align - 1);
    if (h->nm == QEMU_HOST_MAX_MIRRORS || align > 4096 || gpa + len > h->end_gpa)
        return NULL;
    struct mirror *m = &h->m[h->nm];
    m->host = aligned_alloc(4096, len);
    m->shadow = calloc(1, len);
    if (!m->host || !m->shadow || qtest_memwrite(h->q, gpa, m->shadow, len)) {
        free(m->host);
        free(m->shadow);
        return NULL;
    }
    memset(m->host, 0, len);
    m->gpa = gpa;
    m->len = len;
    m->device_writes = device_writes;
    h->next_gpa = gpa + len;
    h->nm++;
    return m->host;
}

void qemu_host_stats_get(qemu_host *h, qemu_host_stats *out)
{
    pthread_mutex_lock(&h->mu);
    *out = h->st;
    pthread_mutex_unlock(&h->mu);
}

bool qemu_host_failed(qemu_host *h)
{
    pthread_mutex_lock(&h->mu);
    bool failed = qtest_state(h->q) != QTEST_OK;
    pthread_mutex_unlock(&h->mu);
    return failed;
}

int qemu_host_log_get(qemu_host *h, unsigned i, enum qi_log_level *lvl, const char **msg,
                      uint64_t *a, uint64_t *b)
{
    pthread_mutex_lock(&h->mu);
    int rc = i < h->nlog ? 0 : -1;
    if (rc == 0) {
        *lvl = h->log[i].lvl;
        *msg = h->log[i].msg;
        *a = h->log[i].a;
        *b = h->log[i].b;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* ---- the mirror (callers hold h->mu) ---- */

static struct mirror *mirror_of(qemu_host *h, const volatile void *va, size_t len)
{
    uintptr_t a = (uintptr_t)va;
    for (unsigned i = 0; i < h->nm; i++) {
        uintptr_t base = (uintptr_t)h->m[i].host;
        if (a >= base && a + len <= base + h->m[i].len)
            return &h->m[i];
    }
    return NULL;
}

/* Push one run [from, to) of the snapshot `now`, which differs from the shadow there. */
static void push_run(qemu_host *h, struct mirror *m, const uint8_t *now, size_t from, size_t to)
{
    qtest_memwrite(h->q, m->gpa + from, now + from, to - from);
    memcpy(m->shadow + from, now + from, to - from);
    h->st.pushes++;
    h->st.pushed_bytes += to - from;
}

/* Runs closer than this are pushed as one (a request costs more than the bytes). */
#define PUSH_GAP 32u

static void push_mirror(qemu_host *h, struct mirror *m, uint8_t *now)
{
    memcpy(now, m->host, m->len); /* one snapshot: what is pushed is what the shadow gets */
    size_t i = 0;
    while (i < m->len) {
        if (now[i] == m->shadow[i]) {
            i++;
            continue;
        }
        size_t from = i, last = i;
        for (; i < m->len && i - last <= PUSH_GAP; i++)
            if (now[i] != m->shadow[i])
                last = i;
        /* whole words: a word written locally replaces the guest's word entirely */
        size_t to = (last + 4) & ~(size_t)3;
        push_run(h, m, now, from & ~(size_t)3, to < m->len ? to : m->len);
        i = to;
    }
}

/* After a register write: take QEMU's writes into the device-written mirrors. */
static void pull_mirrors(qemu_host *h)
{
    for (unsigned k = 0; k < h->nm; k++) {
        struct mirror *m = &h->m[k];
        if (!m->device_writes)
            continue;
        uint8_t *g = malloc(m->len);
        if (g && qtest_memread(h->q, m->gpa, g, m->len) == 0) {
            for (size_t i = 0; i + 4 <= m->len; i += 4) {
                uint32_t *hw = (uint32_t *)(m->host + i), *sw = (uint32_t *)(m->shadow + i);
                uint32_t gv, hv = __atomic_load_n(hw, __ATOMIC_RELAXED);
                memcpy(&gv, g + i, 4);
                if (hv == *sw && gv != hv) {
                    __atomic_store_n(hw, gv, __ATOMIC_RELAXED);
                    *sw = gv;
                }
            }
            h->st.pulls++;
        }
        free(g);
    }
}

/* ---- registers ---- */

static void reg_written(qemu_host *h, uint32_t off, uint64_t val)
{
    if (off == VTD_REG_IQT) {
        uint32_t tail = (uint32_t)val;
        h->st.tail_writes++;
        if (tail < h->last_tail)
            h->st.wraps++;
        h->last_tail = tail;
    }
    pull_mirrors(h);
}

uint32_t qi_plat_read32(qi_platform *p, uint32_t off)
{
    uint32_t v = 0;
    pthread_mutex_lock(&p->h->mu);
    qtest_readl(p->h->q, QTEST_VTD_BASE + off, &v);
    pthread_mutex_unlock(&p->h->mu);
    return v;
}

uint64_t qi_plat_read64(qi_platform *p, uint32_t off)
{
    uint64_t v = 0;
    pthread_mutex_lock(&p->h->mu);
    qtest_readq(p->h->q, QTEST_VTD_BASE + off, &v);
    pthread_mutex_unlock(&p->h->mu);
    return v;
}

void qi_plat_write32(qi_platform *p, uint32_t off, uint32_t val)
{
    pthread_mutex_lock(&p->h->mu);
    qtest_writel(p->h->q, QTEST_VTD_BASE + off, val);
    reg_written(p->h, off, val);
    pthread_mutex_unlock(&p->h->mu);
}

void qi_plat_write64(qi_platform *p, uint32_t off, uint64_t val)
{
    pthread_mutex_lock(&p->h->mu);
    qtest_writeq(p->h->q, QTEST_VTD_BASE + off, val);
    reg_written(p->h, off, val);
    pthread_mutex_unlock(&p->h->mu);
}

/* ---- memory ---- */

uint64_t qi_plat_virt_to_phys(qi_platform *p, const volatile void *va)
{
    struct mirror *m = mirror_of(p->h, va, 1);
    uint64_t pa = m ? m->gpa + (uint64_t)((uintptr_t)va - (uintptr_t)m->host) : 0;
    if (!m)
        qi_plat_log(p, QI_LOG_ERR, "qemu: address outside every mirror", (uintptr_t)va, 0);
    return pa;
}

uint32_t qi_plat_load32(qi_platform *p, const volatile uint32_t *addr)
{
    qemu_host *h = p->h;
    struct mirror *m = mirror_of(h, addr, 4); /* the table changes only before the engine runs */
    if (!m)
        return __atomic_load_n(addr, __ATOMIC_SEQ_CST);
    size_t off = (size_t)((uintptr_t)addr - (uintptr_t)m->host);
    uint32_t *sw = (uint32_t *)(m->shadow + off), v;
    pthread_mutex_lock(&h->mu);
    uint32_t hv = *addr;
    if (hv != *sw) /* a local write not yet pushed goes first */
        qtest_writel(h->q, m->gpa + off, hv);
    if (qtest_readl(h->q, m->gpa + off, &v))
        v = hv;
    *(volatile uint32_t *)addr = v;
    *sw = v;
    pthread_mutex_unlock(&h->mu);
    return v;
}

void qi_plat_store32(qi_platform *p, volatile uint32_t *addr, uint32_t val)
{
    qemu_host *h = p->h;
    struct mirror *m = mirror_of(h, addr, 4);
    if (!m) {
        __atomic_store_n(addr, val, __ATOMIC_SEQ_CST);
        return;
    }
    size_t off = (size_t)((uintptr_t)addr - (uintptr_t)m->host);
    pthread_mutex_lock(&h->mu);
    __atomic_store_n(addr, val, __ATOMIC_SEQ_CST);
    qtest_writel(h->q, m->gpa + off, val);
    memcpy(m->shadow + off, &val, 4);
    pthread_mutex_unlock(&h->mu);
}

void qi_plat_wmb(qi_platform *p)
{
    qemu_host *h = p->h;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    pthread_mutex_lock(&h->mu);
    for (unsigned i = 0; i < h->nm; i++) {
        uint8_t *now = malloc(h->m[i].len);
        if (now)
            push_mirror(h, &h->m[i], now);
        free(now);
    }
    pthread_mutex_unlock(&h->mu);
}

uint32_t qi_plat_fetch_add32(qi_platform *p, volatile uint32_t *addr, uint32_t val)
{
    (void)p;
    return __atomic_fetch_add(addr, val, __ATOMIC_SEQ_CST);
}

bool qi_plat_cas32(qi_platform *p, volatile uint32_t *addr, uint32_t *expected, uint32_t val)
{
    (void)p;
    return __atomic_compare_exchange_n(addr, expected, val, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

/* ---- locking and interrupts ---- */

void qi_plat_lock(qi_platform *p, qi_lock *l)
{
    uint32_t want = p->cpu + 1;
    for (;;) {
        uint32_t free_word = 0;
        if (__atomic_compare_exchange_n(&l->word, &free_word, want, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return;
        sched_yield();
    }
}

void qi_plat_unlock(qi_platform *p, qi_lock *l)
{
    (void)p;
    __atomic_store_n(&l->word, 0, __ATOMIC_RELEASE);
}

unsigned long qi_plat_irq_save(qi_platform *p)
{
    unsigned long was = p->irqs_off;
    p->irqs_off = 1;
    return was;
}

void qi_plat_irq_restore(qi_platform *p, unsigned long flags)
{
    p->irqs_off = flags;
}

unsigned long qi_plat_lock_irqsave(qi_platform *p, qi_lock *l)
{
    unsigned long fl = qi_plat_irq_save(p);
    qi_plat_lock(p, l);
    return fl;
}

void qi_plat_unlock_irqrestore(qi_platform *p, qi_lock *l, unsigned long flags)
{
    qi_plat_unlock(p, l);
    qi_plat_irq_restore(p, flags);
}

/* ---- waiting, time, diagnostics ---- */

void qi_plat_relax(qi_platform *p, uint64_t wake_by_ns)
{
    (void)p;
    (void)wake_by_ns;
    sched_yield();
}

uint64_t qi_plat_now_ns(qi_platform *p)
{
    (void)p;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void qi_plat_watchdog_touch(qi_platform *p)
{
    (void)p;
}

void qi_plat_log(qi_platform *p, enum qi_log_level level, const char *msg, uint64_t a, uint64_t b)
{
    qemu_host *h = p->h;
    pthread_mutex_lock(&h->mu);
    if ((unsigned)level < 4)
        h->st.logs[level]++;
    if (h->nlog < QEMU_HOST_LOG_KEEP)
        h->log[h->nlog++] = (struct log_rec){.lvl = level, .msg = msg, .a = a, .b = b};
    pthread_mutex_unlock(&h->mu);
}
