/*
 * engine_testutil.h — a small world for the engine's unit tests (tests/test_engine_*.c): the
 * hardware model with ATS endpoints whose domains are mapped in legacy-mode tables (as the
 * checker's runs build them), simulated CPUs, and the engine behind its checker adapter
 * (src/drivers/engine_drv.c, which also implements the fence). A test gives a body per CPU;
 * CPU 0 sets the engine up first. Bodies call the engine API directly on et_engine(t), so
 * they see the full qi_result. Interrupts (fault event, hot-plug) reach the adapter's hooks.
 */
#ifndef QINVAL_TESTS_ENGINE_TESTUTIL_H
#define QINVAL_TESTS_ENGINE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <qinval/engine.h>

#include "drivers/driver.h"
#include "report/timeline.h"
#include "sim/sim.h"

#define ET_MAX_EPS   4
#define ET_OWNER_OS  2u
#define ET_IOVA      0x100000ull
#define ET_MAX_CALLS 256

typedef struct et_cfg {
    unsigned cpus;
    unsigned queue_len; /* drv_params.queue_len (default 256) */
    bool dw256;
    enum hw_head_policy head;
    unsigned fetch_window; /* default 8 */
    bool no_itesid;
    hw_time ite_timeout;       /* default 1 s */
    unsigned neps;             /* endpoints 01:00.0, 02:00.0, ... all with ATS */
    const sim_driver_ops *ops; /* default: engine_ops */
    bool no_cpu_events;        /* the world records no CPU events (sim_config.cpu_events) */
    bool iqe_resume_on_tail;   /* hw_config.iqe_resume_on_tail (QEMU's resume after IQE) */
} et_cfg;

struct et_call {
    unsigned cpu;
    hw_time t0, t1;
    qi_result r;
};

typedef struct et {
    et_cfg cfg;
    hw_machine *hw;
    sim_world *w;
    hw_paddr root, pgd[ET_MAX_EPS], page[ET_MAX_EPS];
    void *drv;
    uint32_t *ready;
    sim_cpu_fn body[SIM_MAX_CPUS];
    void *arg;
    struct et_call calls[ET_MAX_CALLS];
    unsigned ncalls;
    sim_outcome out;
} et;

/* Checks inside CPU bodies (coroutines) only record the first failure; et_run() reports it
 * from the test's own stack once the run is over. */
static char et_failure[256];

#define ET_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond) && !et_failure[0])                                                             \
            snprintf(et_failure, sizeof(et_failure), "%s:%d: %s", __FILE__, __LINE__, #cond);      \
    } while (0)
#define ET_EQ(a, b)                                                                                \
    do {                                                                                           \
        long long et_a_ = (long long)(a), et_b_ = (long long)(b);                                  \
        if (et_a_ != et_b_ && !et_failure[0])                                                      \
            snprintf(et_failure, sizeof(et_failure), "%s:%d: %s == %lld, wanted %s == %lld",       \
                     __FILE__, __LINE__, #a, et_a_, #b, et_b_);                                    \
    } while (0)

static inline uint16_t et_sid(unsigned ep)
{
    return (uint16_t)((ep + 1) << 8);
}

static inline qi_engine *et_engine(et *t)
{
    return (qi_engine *)t->drv; /* the adapter's state starts with the engine */
}

static inline vtd_desc et_iotlb(unsigned ep)
{
    return vtd_make_iotlb_page((uint16_t)(ep + 1), ET_IOVA, 0, false);
}

static inline vtd_desc et_devtlb(unsigned ep)
{
    return vtd_make_devtlb(et_sid(ep), ET_IOVA, 1);
}

static void et_irq(sim_world *w, unsigned cpu, enum hw_irq irq, int ep, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    if (!t->drv)
        return;
    if (irq == HW_IRQ_FAULT)
        t->cfg.ops->fault_irq(t->drv, p);
    if (irq == HW_IRQ_HOTPLUG && ep >= 0)
        t->cfg.ops->hotplug(t->drv, p, hw_ep_get_config(t->hw, ep)->sid);
}

static void et_cpu(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    if (cpu == 0) {
        struct drv_params prm = {
            .queue_len = t->cfg.queue_len, .dw256 = t->cfg.dw256, .ncpus = t->cfg.cpus};
        t->drv = t->cfg.ops->init(p, &prm);
        ET_CHECK(t->drv != NULL);
        if (!t->drv)
            return;
        qi_plat_store32(p, t->ready, 1);
    } else {
        while (!qi_plat_load32(p, t->ready))
            qi_plat_relax(p, 0);
    }
    if (t->body[cpu])
        t->body[cpu](w, cpu, t);
}

static void et_gcmd(hw_machine *hw, uint32_t bit, uint32_t status)
{
    uint32_t gsts = hw_mmio_read32(hw, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK;
    hw_mmio_write32(hw, VTD_REG_GCMD, gsts | bit);
    for (int i = 0; i < 100 && !(hw_mmio_read32(hw, VTD_REG_GSTS) & status); i++)
        hw_advance(hw, hw_now(hw) + 100);
}

/* Build the world; bodies are set with et_body() before et_run(). */
static inline void et_make(et *t, const et_cfg *cfg)
{
    memset(t, 0, sizeof(*t));
    t->cfg = *cfg;
    if (!t->cfg.cpus)
        t->cfg.cpus = 1;
    if (!t->cfg.queue_len)
        t->cfg.queue_len = 256;
    if (!t->cfg.fetch_window)
        t->cfg.fetch_window = 8;
    if (!t->cfg.ops)
        t->cfg.ops = &engine_ops;
    hw_config hc;
    hw_config_default(&hc);
    hc.mem_bytes = 4u << 20;
    hc.head_policy = t->cfg.head;
    hc.fetch_window = t->cfg.fetch_window;
    hc.itesid = !t->cfg.no_itesid;
    hc.log_mmio_reads = true;
    hc.iqe_resume_on_tail = t->cfg.iqe_resume_on_tail;
    if (t->cfg.ite_timeout)
        hc.ite_timeout = t->cfg.ite_timeout;
    t->hw = hw_create(&hc, NULL);
    assert_non_null(t->hw);
    t->root = hw_tables_root(t->hw, ET_OWNER_OS);
    for (unsigned e = 0; e < t->cfg.neps; e++) {
        hw_ep_config ec;
        hw_ep_config_default(&ec, et_sid(e));
        assert_true(hw_ep_add(t->hw, &ec, NULL) == (int)e);
        t->pgd[e] = hw_tables_new_pgd(t->hw, ET_OWNER_OS);
        hw_tables_set_context(t->hw, t->root, et_sid(e), (uint16_t)(e + 1), VTD_TT_DEVTLB,
                              t->pgd[e], 2, ET_OWNER_OS);
        t->page[e] = hw_mem_alloc(t->hw, HW_PAGE_SIZE, 100 + e);
        hw_tables_map(t->hw, t->pgd[e], 2, ET_IOVA, t->page[e], true, true, ET_OWNER_OS);
    }
    hw_mmio_write64(t->hw, VTD_REG_RTADDR, t->root);
    et_gcmd(t->hw, VTD_GCMD_SRTP, VTD_GSTS_RTPS);
    et_gcmd(t->hw, VTD_GCMD_TE, VTD_GSTS_TES);
    sim_config sc;
    sim_config_default(&sc);
    sc.ncpus = t->cfg.cpus;
    sc.cpu_events = !t->cfg.no_cpu_events;
    t->w = sim_create(&sc, t->hw, NULL);
    assert_non_null(t->w);
    t->ready = sim_dma_alloc(sim_platform(t->w, 0), 4);
    sim_set_irq_handler(t->w, et_irq, t);
    for (unsigned c = 0; c < t->cfg.cpus; c++)
        sim_set_cpu(t->w, c, et_cpu, t);
}

static inline void et_body(et *t, unsigned cpu, sim_cpu_fn fn)
{
    t->body[cpu] = fn;
}

/* Run to the end; the run must finish (no hang, no lockup). */
static inline void et_run(et *t)
{
    et_failure[0] = '\0';
    sim_run(t->w, &t->out);
    if (et_failure[0])
        fail_msg("%s", et_failure);
    if (t->out.stop != SIM_STOP_DONE) {
        if (getenv("QINVAL_TEST_TIMELINE"))
            rep_timeline_write(stderr, t->w, NULL);
        fail_msg("run stopped: %s: %s", sim_stop_name(t->out.stop), t->out.why);
    }
    if (getenv("QINVAL_TEST_TIMELINE"))
        rep_timeline_write(stderr, t->w, NULL);
}

static inline void et_done(et *t)
{
    sim_destroy(t->w);
    hw_destroy(t->hw);
}

/* Submit from a body and record the call. */
static inline struct et_call *et_submit(et *t, qi_platform *p, const vtd_desc *d, unsigned n,
                                        uint64_t deadline)
{
    if (t->ncalls == ET_MAX_CALLS)
        abort(); /* a test sized wrongly */
    struct et_call *c = &t->calls[t->ncalls++];
    c->cpu = sim_platform_cpu(p);
    c->t0 = sim_now(t->w);
    qi_submit_opts o = {.deadline_ns = deadline};
    qi_engine_submit(et_engine(t), p, d, n, &o, &c->r);
    c->t1 = sim_now(t->w);
    return c;
}

/* Hardware events of a kind (optionally for one endpoint, -1: any), and of a kind with a
 * given field a (MMIO offset) — counted over the whole run or from position `from`. */
static inline size_t et_count(const et *t, unsigned kind, int ep, size_t from)
{
    size_t n, k = 0;
    const hw_event *ev = hw_events(t->hw, &n);
    for (size_t i = from; i < n; i++)
        k += ev[i].kind == kind && (ep < 0 || ev[i].ep == ep);
    return k;
}

static inline size_t et_count_mmio(const et *t, unsigned kind, uint32_t off, size_t from)
{
    size_t n, k = 0;
    const hw_event *ev = hw_events(t->hw, &n);
    for (size_t i = from; i < n; i++)
        k += ev[i].kind == kind && ev[i].a == off;
    return k;
}

static inline size_t et_log_pos(const et *t)
{
    size_t n;
    hw_events(t->hw, &n);
    return n;
}

/* At the end of a run every slot is back with the engine. */
static inline void et_assert_all_free(et *t)
{
    assert_int_equal(qi_engine_free_slots(et_engine(t)), qi_engine_capacity(et_engine(t)));
}

/* The translation type in `ep`'s context entry. */
static inline unsigned et_tt(et *t, unsigned ep)
{
    hw_paddr root = t->root;
    uint64_t *re = hw_mem_ptr(t->hw, root + (hw_paddr)(et_sid(ep) >> 8) * 16, 16);
    uint64_t *ce = hw_mem_ptr(t->hw, (re[0] & VTD_CTX_ADDR_MASK) + (et_sid(ep) & 0xFF) * 16, 16);
    return (unsigned)((ce[0] & VTD_CTX_TT_MASK) >> VTD_CTX_TT_SHIFT);
}

#endif /* QINVAL_TESTS_ENGINE_TESTUTIL_H */
