/*
 * hw_testutil.h — shared helpers for the hardware-model conformance tests (tests/test_hw_*.c).
 *
 * Every test runs once per combination of head policy (fetch / complete) and descriptor width
 * (128 / 256 bit): HWT_TESTS(fn) expands to four cmocka entries whose initial state names the
 * combination, and every failed check prints that combination, the expectation, the observed
 * value and the tail of the model's event log. The helpers drive the model only as a driver
 * would: MMIO, memory written through hw_mem_ptr(), and the passing of virtual time.
 */
#ifndef QINVAL_TESTS_HW_TESTUTIL_H
#define QINVAL_TESTS_HW_TESTUTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <qinval/vtd.h>

#include "hw/hw.h"

/* Page owners used by the tests. */
#define HWT_OWNER_DRIVER 1u /* queue, status words, translation tables */
#define HWT_OWNER_TARGET 5u /* pages reached by DMA */
#define HWT_OWNER_OTHER  9u

/* How long helpers wait for something the model should do within microseconds. */
#define HWT_POLL_STEP  (10 * HW_NS)
#define HWT_POLL_LIMIT (100 * HW_US)

/* ---------------------------------------------------------------------------------------------
 * Combinations and the per-test fixture.
 */
typedef struct hwt_combo {
    const char *name;
    enum hw_head_policy head;
    bool dw256;
} hwt_combo;

static hwt_combo hwt_combos[4] = {
    {"fetch/128", HW_HEAD_FETCH, false},
    {"fetch/256", HW_HEAD_FETCH, true},
    {"complete/128", HW_HEAD_COMPLETE, false},
    {"complete/256", HW_HEAD_COMPLETE, true},
};

typedef struct hwt {
    const hwt_combo *combo;
    hw_machine *m;

    /* The queue as the test (the "driver") set it up. */
    hw_paddr qbase;
    unsigned qs;
    uint32_t entries;
    unsigned shift;
    uint32_t tail; /* next slot software writes */

    /* Status words: handed out from one page at a time. */
    hw_paddr status_page;
    unsigned status_used;

    /* Interrupts seen by the sink. */
    unsigned irq_count[3];
    hw_time irq_time[3];
    int irq_ep[3];

    /* Translation: root table, one page table, one domain. */
    hw_paddr root;
    hw_paddr pgd;

    /* Checks that failed without stopping the test (HWT_SOFT); HWT_END fails the test. */
    unsigned soft_failures;
} hwt;

static inline int hwt_setup(void **state)
{
    hwt *t = calloc(1, sizeof(*t));
    if (!t)
        return -1;
    t->combo = *state;
    *state = t;
    return 0;
}

static inline void hwt_release(hwt *t)
{
    const hwt_combo *c = t->combo;
    unsigned soft = t->soft_failures;
    if (t->m)
        hw_destroy(t->m);
    memset(t, 0, sizeof(*t));
    t->combo = c;
    t->soft_failures = soft;
}

static inline int hwt_teardown(void **state)
{
    hwt *t = *state;
    if (t) {
        hwt_release(t);
        free(t);
    }
    return 0;
}

#define HWT_ENTRY(fn, i, label)                                                                    \
    {                                                                                              \
#fn " [" label "]", fn, hwt_setup, hwt_teardown, &hwt_combos[i]                            \
    }
/* The four combinations of one test function, for a CMUnitTest array. */
#define HWT_TESTS(fn)                                                                              \
    HWT_ENTRY(fn, 0, "fetch/128"), HWT_ENTRY(fn, 1, "fetch/256"),                                  \
        HWT_ENTRY(fn, 2, "complete/128"), HWT_ENTRY(fn, 3, "complete/256")

/* ---------------------------------------------------------------------------------------------
 * Checks. A failure names the combination and dumps the last events of the log.
 */
static inline void hwt_dump_tail(const hwt *t, size_t n)
{
    size_t count = 0;
    if (!t->m)
        return;
    hw_events(t->m, &count);
    fprintf(stderr, "---- last %zu of %zu events (t=%llu ns) ----\n", count < n ? count : n, count,
            (unsigned long long)hw_now(t->m));
    hw_log_dump(t->m, stderr, count > n ? count - n : 0);
    fprintf(stderr, "----\n");
}

static inline void hwt_fail_at(const hwt *t, const char *file, int line)
{
    hwt_dump_tail(t, 60);
    _fail(file, line);
}

static inline void hwt_eq_(const hwt *t, const char *file, int line, const char *what, uint64_t obs,
                           uint64_t exp)
{
    if (obs == exp)
        return;
    print_error("[%s] %s:%d: %s: expected 0x%llx (%llu), observed 0x%llx (%llu)\n", t->combo->name,
                file, line, what, (unsigned long long)exp, (unsigned long long)exp,
                (unsigned long long)obs, (unsigned long long)obs);
    hwt_fail_at(t, file, line);
}

__attribute__((format(printf, 5, 6))) static inline void
hwt_ok_(const hwt *t, const char *file, int line, bool cond, const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    if (cond)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    print_error("[%s] %s:%d: %s\n", t->combo->name, file, line, msg);
    hwt_fail_at(t, file, line);
}

#define HWT_EQ(t, obs, exp)  hwt_eq_((t), __FILE__, __LINE__, #obs, (uint64_t)(obs), (uint64_t)(exp))
#define HWT_OK(t, cond, ...) hwt_ok_((t), __FILE__, __LINE__, (cond), __VA_ARGS__)

/* ---------------------------------------------------------------------------------------------
 * Machine.
 */
static inline void hwt_irq_sink(void *ctx, enum hw_irq irq, int ep)
{
    hwt *t = ctx;
    if ((unsigned)irq < 3) {
        t->irq_count[irq]++;
        t->irq_time[irq] = hw_now(t->m);
        t->irq_ep[irq] = ep;
    }
}

/* Defaults with this combination's head policy. */
static inline hw_config hwt_config(const hwt *t)
{
    hw_config cfg;
    hw_config_default(&cfg);
    cfg.head_policy = t->combo->head;
    return cfg;
}

static inline void hwt_create(hwt *t, const hw_config *cfg)
{
    const char *err = NULL;
    hwt_release(t);
    t->m = hw_create(cfg, &err);
    HWT_OK(t, t->m != NULL, "hw_create failed: %s", err ? err : "(no reason)");
    hw_set_irq_sink(t->m, hwt_irq_sink, t);
}

static inline const hw_config *hwt_cfg(const hwt *t)
{
    return hw_get_config(t->m);
}

static inline hw_time hwt_now(const hwt *t)
{
    return hw_now(t->m);
}

/* Let dt nanoseconds of virtual time pass. */
static inline void hwt_run(hwt *t, hw_time dt)
{
    HWT_EQ(t, hw_advance(t->m, hw_now(t->m) + dt), 0);
}

/* Move the clock to absolute time `at` (must not be in the past). */
static inline void hwt_run_to(hwt *t, hw_time at)
{
    HWT_OK(t, at >= hw_now(t->m), "hwt_run_to(%llu) is in the past (now %llu)",
           (unsigned long long)at, (unsigned long long)hw_now(t->m));
    HWT_EQ(t, hw_advance(t->m, at), 0);
}

static inline uint32_t hwt_r32(hwt *t, uint32_t off)
{
    return hw_mmio_read32(t->m, off);
}

static inline uint64_t hwt_r64(hwt *t, uint32_t off)
{
    return hw_mmio_read64(t->m, off);
}

static inline void hwt_w32(hwt *t, uint32_t off, uint32_t v)
{
    hw_mmio_write32(t->m, off, v);
}

static inline void hwt_w64(hwt *t, uint32_t off, uint64_t v)
{
    hw_mmio_write64(t->m, off, v);
}

static inline uint32_t hwt_fsts(hwt *t)
{
    return hwt_r32(t, VTD_REG_FSTS);
}

/*
 * One GCMD command as the spec recipe says: GSTS & KEEP_MASK, set or clear one bit, write,
 * then poll GSTS every HWT_POLL_STEP until `status_bit` reads `expect`. Returns the time the
 * command was written; fails the test if the status never changes.
 */
static inline hw_time hwt_gcmd_poll(hwt *t, uint32_t cmd_bit, bool set, uint32_t status_bit,
                                    bool expect)
{
    uint32_t v = hwt_r32(t, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK;
    hw_time t0 = hwt_now(t);
    v = set ? (v | cmd_bit) : (v & ~cmd_bit);
    hwt_w32(t, VTD_REG_GCMD, v);
    for (;;) {
        bool on = (hwt_r32(t, VTD_REG_GSTS) & status_bit) != 0;
        if (on == expect)
            return t0;
        HWT_OK(t, hwt_now(t) - t0 < HWT_POLL_LIMIT, "GSTS bit 0x%x never became %d after GCMD 0x%x",
               status_bit, expect, v);
        hwt_run(t, HWT_POLL_STEP);
    }
}

/* ---------------------------------------------------------------------------------------------
 * The invalidation queue.
 */
static inline size_t hwt_desc_bytes(const hwt *t)
{
    return t->combo->dw256 ? 32 : 16;
}

static inline uint64_t hwt_off(const hwt *t, uint32_t idx)
{
    return (uint64_t)idx << t->shift;
}

/* IQA value for a queue at `base` of 2^qs pages in this combination's width. */
static inline uint64_t hwt_iqa(const hwt *t, hw_paddr base, unsigned qs)
{
    return base | (t->combo->dw256 ? VTD_IQA_DW : 0) | qs;
}

/* Allocate a queue of 2^qs pages and program IQT=0 and IQA; QI stays disabled. */
static inline void hwt_queue_alloc(hwt *t, unsigned qs)
{
    t->qs = qs;
    t->shift = vtd_desc_shift(t->combo->dw256);
    t->entries = 1u << (qs + (t->combo->dw256 ? 7 : 8)); /* spec 11.4.9.3 */
    t->qbase = hw_mem_alloc(t->m, (size_t)HW_PAGE_SIZE << qs, HWT_OWNER_DRIVER);
    HWT_OK(t, t->qbase != 0, "queue allocation failed");
    HWT_EQ(t, t->qbase & (HW_PAGE_SIZE - 1), 0);
    t->tail = 0;
    hwt_w64(t, VTD_REG_IQT, 0);
    hwt_w64(t, VTD_REG_IQA, hwt_iqa(t, t->qbase, qs));
}

/* Enable QI as a driver does and poll GSTS.QIES. */
static inline hw_time hwt_qi_enable(hwt *t)
{
    return hwt_gcmd_poll(t, VTD_GCMD_QIE, true, VTD_GSTS_QIES, true);
}

/* Machine with `cfg`, a queue of 2^qs pages, QI enabled. */
static inline void hwt_start(hwt *t, const hw_config *cfg, unsigned qs)
{
    hwt_create(t, cfg);
    hwt_queue_alloc(t, qs);
    hwt_qi_enable(t);
}

/* Write one descriptor into slot idx (128-bit queues take qw[0..1], 256-bit all four). */
static inline void hwt_put(hwt *t, uint32_t idx, const vtd_desc *d)
{
    size_t n = hwt_desc_bytes(t);
    void *p;
    HWT_OK(t, idx < t->entries, "slot %u outside the queue (%u entries)", idx, t->entries);
    p = hw_mem_ptr(t->m, t->qbase + (hw_paddr)idx * n, n);
    HWT_OK(t, p != NULL, "hw_mem_ptr(queue slot %u) failed", idx);
    memcpy(p, d->qw, n);
}

/* Append a descriptor at the software tail; returns its slot. */
static inline uint32_t hwt_push(hwt *t, vtd_desc d)
{
    uint32_t slot = t->tail;
    hwt_put(t, slot, &d);
    t->tail = (t->tail + 1) % t->entries;
    return slot;
}

/* Ring the doorbell: IQT = tail << shift. Returns the time of the write. */
static inline hw_time hwt_doorbell(hwt *t)
{
    hwt_w64(t, VTD_REG_IQT, hwt_off(t, t->tail));
    return hwt_now(t);
}

static inline uint64_t hwt_iqh(hwt *t)
{
    return hwt_r64(t, VTD_REG_IQH);
}

/* A fresh status word in driver memory holding `init`. */
static inline hw_paddr hwt_status_new(hwt *t, uint32_t init)
{
    hw_paddr pa;
    uint32_t *p;
    if (!t->status_page || t->status_used + 4 > HW_PAGE_SIZE) {
        t->status_page = hw_mem_alloc(t->m, HW_PAGE_SIZE, HWT_OWNER_DRIVER);
        HWT_OK(t, t->status_page != 0, "status page allocation failed");
        t->status_used = 0;
    }
    pa = t->status_page + t->status_used;
    t->status_used += 4;
    p = hw_mem_ptr(t->m, pa, 4);
    HWT_OK(t, p != NULL, "hw_mem_ptr(status) failed");
    *p = init;
    return pa;
}

static inline uint32_t hwt_mem32(hwt *t, hw_paddr pa)
{
    uint32_t v;
    const void *p = hw_mem_ptr(t->m, pa, 4);
    HWT_OK(t, p != NULL, "hw_mem_ptr(0x%llx) failed", (unsigned long long)pa);
    memcpy(&v, p, 4);
    return v;
}

static inline void hwt_mem32_set(hwt *t, hw_paddr pa, uint32_t v)
{
    void *p = hw_mem_ptr(t->m, pa, 4);
    HWT_OK(t, p != NULL, "hw_mem_ptr(0x%llx) failed", (unsigned long long)pa);
    memcpy(p, &v, 4);
}

/* A wait descriptor with SW=1 writing `data` to `addr` (no IF, no FN). */
static inline vtd_desc hwt_wait_sw(uint32_t data, hw_paddr addr)
{
    return vtd_make_wait(true, false, false, data, addr);
}

/* Advance in HWT_POLL_STEP steps until the word at pa reads `want`, at most `limit` ns.
 * Returns true when it did. */
static inline bool hwt_run_until_word(hwt *t, hw_paddr pa, uint32_t want, hw_time limit)
{
    hw_time t0 = hwt_now(t);
    while (hwt_mem32(t, pa) != want) {
        if (hwt_now(t) - t0 >= limit)
            return false;
        hwt_run(t, HWT_POLL_STEP);
    }
    return true;
}

/* Push [d..., wait SW data -> new status word], ring, and run until the status lands. */
static inline void hwt_submit_sync(hwt *t, const vtd_desc *d, unsigned n, uint32_t data)
{
    hw_paddr st = hwt_status_new(t, 0);
    for (unsigned i = 0; i < n; i++)
        hwt_push(t, d[i]);
    hwt_push(t, hwt_wait_sw(data, st));
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, st, data, HWT_POLL_LIMIT),
           "batch of %u + wait (data 0x%x) did not complete within %llu ns", n, data,
           (unsigned long long)HWT_POLL_LIMIT);
}

/* ---------------------------------------------------------------------------------------------
 * The event log.
 */
static inline const hw_event *hwt_events(const hwt *t, size_t *n)
{
    return hw_events(t->m, n);
}

/* First event of `kind` at or after log index `from`, in `slot` (-1: any), or NULL. */
static inline const hw_event *hwt_ev_find(const hwt *t, unsigned kind, int slot, size_t from)
{
    size_t n;
    const hw_event *e = hwt_events(t, &n);
    for (size_t i = from; i < n; i++)
        if (e[i].kind == kind && (slot < 0 || e[i].slot == slot))
            return &e[i];
    return NULL;
}

/* Last event of `kind` in `slot` (-1: any), or NULL. */
static inline const hw_event *hwt_ev_last(const hwt *t, unsigned kind, int slot)
{
    size_t n;
    const hw_event *e = hwt_events(t, &n);
    for (size_t i = n; i-- > 0;)
        if (e[i].kind == kind && (slot < 0 || e[i].slot == slot))
            return &e[i];
    return NULL;
}

/* Number of events of `kind` in `slot` (-1: any) with time >= since. */
static inline size_t hwt_ev_count(const hwt *t, unsigned kind, int slot, hw_time since)
{
    size_t n, c = 0;
    const hw_event *e = hwt_events(t, &n);
    for (size_t i = 0; i < n; i++)
        if (e[i].kind == kind && (slot < 0 || e[i].slot == slot) && e[i].t >= since)
            c++;
    return c;
}

/* Number of events of `kind` whose `c` field equals c (SW_VIOLATION kinds, IRQ kinds...). */
static inline size_t hwt_ev_count_c(const hwt *t, unsigned kind, uint32_t c)
{
    size_t n, k = 0;
    const hw_event *e = hwt_events(t, &n);
    for (size_t i = 0; i < n; i++)
        if (e[i].kind == kind && e[i].c == c)
            k++;
    return k;
}

/* Number of FETCH events for slots >= lo (wrapping not considered) at or after `since`. */
static inline size_t hwt_fetches_from(const hwt *t, int lo, hw_time since)
{
    size_t n, k = 0;
    const hw_event *e = hwt_events(t, &n);
    for (size_t i = 0; i < n; i++)
        if (e[i].kind == HW_EV_FETCH && e[i].slot >= lo && e[i].t >= since)
            k++;
    return k;
}

/* The event, which must exist. */
static inline const hw_event *hwt_ev_must_(const hwt *t, const char *file, int line, unsigned kind,
                                           int slot, size_t from)
{
    const hw_event *e = hwt_ev_find(t, kind, slot, from);
    hwt_ok_(t, file, line, e != NULL, "no %s event for slot %d (from log index %zu)",
            hw_event_kind_name(kind), slot, from);
    return e;
}
#define HWT_EV(t, kind, slot) hwt_ev_must_((t), __FILE__, __LINE__, (kind), (slot), 0)
#define HWT_EV_FROM(t, kind, slot, from)                                                           \
    hwt_ev_must_((t), __FILE__, __LINE__, (kind), (slot), (from))

static inline const hw_event *hwt_ev_must_last_(const hwt *t, const char *file, int line,
                                                unsigned kind, int slot)
{
    const hw_event *e = hwt_ev_last(t, kind, slot);
    hwt_ok_(t, file, line, e != NULL, "no %s event for slot %d", hw_event_kind_name(kind), slot);
    return e;
}
#define HWT_EV_LAST(t, kind, slot) hwt_ev_must_last_((t), __FILE__, __LINE__, (kind), (slot))

/* A check that records a failure and lets the test go on, so that one deviation does not hide
 * the ones after it. HWT_END(t) at the end of the test fails it if any was recorded. */
__attribute__((format(printf, 5, 6))) static inline void
hwt_soft_(hwt *t, const char *file, int line, bool cond, const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    if (cond)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    print_error("[%s] %s:%d: (continuing) %s\n", t->combo->name, file, line, msg);
    t->soft_failures++;
}
#define HWT_SOFT(t, cond, ...) hwt_soft_((t), __FILE__, __LINE__, (cond), __VA_ARGS__)
#define HWT_END(t)                                                                                 \
    HWT_OK((t), (t)->soft_failures == 0, "%u check(s) failed above", (t)->soft_failures)

static inline size_t hwt_log_len(const hwt *t)
{
    size_t n;
    hwt_events(t, &n);
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * Translation and endpoints.
 */
#define HWT_DID  1u
#define HWT_AW   2u /* 4-level, 48-bit: SAGAW of the default CAP */
#define HWT_IOVA 0x10000000ull

/* Root table, one page table, RTADDR, SRTP then TE, each polled through GSTS. */
static inline void hwt_translation_on(hwt *t)
{
    if (t->root)
        return;
    t->root = hw_tables_root(t->m, HWT_OWNER_DRIVER);
    HWT_OK(t, t->root != 0, "hw_tables_root failed");
    t->pgd = hw_tables_new_pgd(t->m, HWT_OWNER_DRIVER);
    HWT_OK(t, t->pgd != 0, "hw_tables_new_pgd failed");
    hwt_w64(t, VTD_REG_RTADDR, t->root); /* TTM = 00b legacy */
    hwt_gcmd_poll(t, VTD_GCMD_SRTP, true, VTD_GSTS_RTPS, true);
    hwt_gcmd_poll(t, VTD_GCMD_TE, true, VTD_GSTS_TES, true);
}

/* A fresh target page mapped at iova in the test's page table; returns its address. */
static inline hw_paddr hwt_map_new(hwt *t, uint64_t iova)
{
    hw_paddr pa = hw_mem_alloc(t->m, HW_PAGE_SIZE, HWT_OWNER_TARGET);
    HWT_OK(t, pa != 0, "target page allocation failed");
    HWT_EQ(t, hw_tables_map(t->m, t->pgd, HWT_AW, iova, pa, true, true, HWT_OWNER_DRIVER), 0);
    return pa;
}

static inline void hwt_set_context(hwt *t, uint16_t sid, int tt)
{
    HWT_EQ(t,
           hw_tables_set_context(t->m, t->root, sid, HWT_DID, tt, t->pgd, HWT_AW, HWT_OWNER_DRIVER),
           0);
}

/* An endpoint with the given SID, ATS and invalidation latency; context entry pointing at the
 * test's page table (TT=01 when ATS, else TT=00). Turns translation on first. */
static inline int hwt_ep(hwt *t, uint16_t sid, bool ats, hw_time latency)
{
    hw_ep_config c;
    const char *err = NULL;
    int ep;
    hwt_translation_on(t);
    hw_ep_config_default(&c, sid);
    c.ats = ats;
    c.latency = latency;
    ep = hw_ep_add(t->m, &c, &err);
    HWT_OK(t, ep >= 0, "hw_ep_add(sid 0x%x) failed: %s", sid, err ? err : "?");
    hwt_set_context(t, sid, ats ? VTD_TT_DEVTLB : VTD_TT_UNTRANSLATED);
    return ep;
}

static inline int hwt_ep_cfg(hwt *t, const hw_ep_config *c)
{
    const char *err = NULL;
    int ep;
    hwt_translation_on(t);
    ep = hw_ep_add(t->m, c, &err);
    HWT_OK(t, ep >= 0, "hw_ep_add(sid 0x%x) failed: %s", c->sid, err ? err : "?");
    hwt_set_context(t, c->sid, c->ats ? VTD_TT_DEVTLB : VTD_TT_UNTRANSLATED);
    return ep;
}

#endif /* QINVAL_TESTS_HW_TESTUTIL_H */
