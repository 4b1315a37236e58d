/*
 * run.c — one execution: build the world a scenario describes (hardware knobs, endpoints with
 * their domains mapped, the fault plan with its times decided), run every CPU's workload
 * through the driver under test (submits, and jobs: unmap, detach, context change), then let
 * the oracles (oracle.c) judge what the hardware did.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/oracle.h"
#include "check/run.h"
#include "report/timeline.h"
#include "util/blocks.h"
#include "util/grow.h"

#define OWNER_OS     2u
#define PAGES        SC_DOMAIN_PAGES /* pages of a domain */
#define IOVA_BASE    0x100000ull
#define FAULT_POINTS 16u /* a fault range [lo, hi] is explored at this many evenly spaced times */
#define MEM_BYTES    (4u << 20)

/* A domain's pages lie in one 2 MiB range, so one leaf table maps them all (setup_hw). */
_Static_assert(IOVA_BASE % (2u << 20) + PAGES * HW_PAGE_SIZE <= (2u << 20),
               "the pages of a domain share a leaf table");
_Static_assert(PAGES <= 8, "struct chk_exec's freed[] has a bit per page");

static uint64_t iova_of(unsigned page)
{
    return IOVA_BASE + (uint64_t)(page % PAGES) * HW_PAGE_SIZE;
}

void chk_trace_free(chk_trace *t)
{
    free(t->v);
    free(t->n);
    free(t->dflt);
    memset(t, 0, sizeof(*t));
}

/* Room for t->len + 1 decisions in each of the three parallel arrays (one capacity). */
static __attribute__((noinline)) void trace_grow(chk_trace *t)
{
    size_t cap = t->cap;
    GROW(t->v, t->len, cap, 256);
    cap = t->cap;
    GROW(t->n, t->len, cap, 256);
    cap = t->cap;
    GROW(t->dflt, t->len, cap, 256);
    t->cap = cap;
}

/* Called at every decision: the common case, room left, is three stores. */
static inline void trace_push(chk_trace *t, unsigned v, unsigned n, unsigned dflt)
{
    if (t->len >= t->cap)
        trace_grow(t);
    t->v[t->len] = (uint16_t)v;
    t->n[t->len] = (uint16_t)n;
    t->dflt[t->len] = (uint16_t)dflt;
    t->len++;
}

/* chk__set_local_time: runs on this thread use per-CPU clocks. */
static _Thread_local bool local_time;

void chk__set_local_time(bool on)
{
    local_time = on;
}

bool chk__local_time(void)
{
    return local_time;
}

/* Every decision goes through here. Inlined where it is called, choose_cpu() above all: a
 * scheduling choice is taken about every other step, and the call cost a tenth of it. */
static inline unsigned decide(struct chk_exec *x, enum chk_decision_kind kind, unsigned n,
                              unsigned dflt, const unsigned *ids) __attribute__((always_inline));

static inline unsigned decide(struct chk_exec *x, enum chk_decision_kind kind, unsigned n,
                              unsigned dflt, const unsigned *ids)
{
    if (n <= 1)
        return 0; /* no choice: not a decision */
    unsigned v = x->decide(x->decide_ctx, kind, n, dflt, ids);
    if (v >= n)
        v = dflt;
    if (x->trace)
        trace_push(x->trace, v, n, dflt);
    return v;
}

static unsigned choose_cpu(void *ctx, const sim_world *w, const unsigned *cands, unsigned n,
                           uint64_t step)
{
    struct chk_exec *x = ctx;
    (void)step;
    /* The default keeps running the CPU of the last step, whether or not that step was a
     * choice (a CPU that ran alone because the others were not due yet keeps going). */
    int last = sim_last_ran(w);
    unsigned keep = last >= 0 ? (unsigned)last : x->last_cpu, dflt = 0;
    if (local_time) { /* per-CPU clocks: the earliest first (the CPU of the last step on a tie) */
        for (unsigned i = 1; i < n; i++) {
            hw_time t = sim_ready_at(w, cands[i]), best = sim_ready_at(w, cands[dflt]);
            if (t < best || (t == best && cands[i] == keep))
                dflt = i;
        }
    } else {
        for (unsigned i = 0; i < n; i++)
            if (cands[i] == keep)
                dflt = i;
    }
    enum chk_decision_kind kind = CHK_DECIDE_SCHED;
    if (x->local_kinds && sim_cpu_next_local(w, cands[dflt]))
        kind = CHK_DECIDE_SCHED_LOCAL;
    unsigned pick = decide(x, kind, n, dflt, cands);
    x->last_cpu = cands[pick];
    return pick;
}

/* ---- setting up the hardware ---- */

static void os_gcmd(hw_machine *hw, uint32_t bit, uint32_t status)
{
    uint32_t gsts = hw_mmio_read32(hw, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK;
    hw_mmio_write32(hw, VTD_REG_GCMD, gsts | bit);
    for (int i = 0; i < 100 && !(hw_mmio_read32(hw, VTD_REG_GSTS) & status); i++)
        hw_advance(hw, time_add(hw_now(hw), 100));
}

/* A set-up failure: the verdict is CHK_INTERNAL and `why` says what failed. */
static int setup_failed(chk_result *res, const char *what, const char *name, const char *err)
{
    res->verdict = CHK_INTERNAL;
    snprintf(res->why, sizeof(res->why), "%s%s%s: %s", what, name ? " " : "", name ? name : "",
             err);
    return -1;
}

/* From `at` on, the endpoint is not a healthy target. */
static void mark_faulty(struct chk_exec *x, int ep, hw_time at)
{
    if (at < x->ep_fault_from[ep])
        x->ep_fault_from[ep] = at;
}

static int setup_hw(struct chk_exec *x, chk_result *res)
{
    const scenario *sc = x->sc;
    hw_config hc;
    hw_config_default(&hc);
    hc.mem_bytes = MEM_BYTES;
    hc.head_policy = sc->head_policy;
    hc.fetch_window = sc->fetch_window;
    hc.ite_timeout = sc->ite_timeout;
    hc.itesid = sc->itesid;
    hc.strict_reserved = sc->strict_reserved;
    hc.ite_discard = sc->ite_discard;
    const char *err = NULL;
    x->hw = hw_create(&hc, &err);
    if (!x->hw)
        return setup_failed(res, "hardware model", NULL, err);
    x->root = hw_tables_root(x->hw, OWNER_OS);
    /* In endpoint order, each domain made at its first endpoint (its page table, then its
     * pages): with a domain per endpoint, memory is laid out as it always was. */
    for (unsigned e = 0; e < sc->neps; e++) {
        hw_ep_config ec;
        hw_ep_config_default(&ec, sc->eps[e].sid);
        ec.ats = sc->eps[e].ats;
        ec.latency = sc->eps[e].latency;
        if (hw_ep_add(x->hw, &ec, &err) < 0)
            return setup_failed(res, "endpoint", sc->eps[e].name, err);
        /* An endpoint that answers no sooner than the ITE timer fires (a latency that
         * saturates is one that never answers) is no healthy target: its requests time out. */
        if (ec.latency >= sc->ite_timeout)
            mark_faulty(x, (int)e, 0);
        unsigned d = (unsigned)sc->eps[e].domain;
        uint16_t did = sc->domains[d].did;
        bool first = did == e + 1;
        if (first)
            x->pgd[d] = hw_tables_new_pgd(x->hw, OWNER_OS);
        x->members[d] |= 1u << e;
        x->ep_owner[e] = chk_domain_owner(did);
        hw_tables_set_context(x->hw, x->root, sc->eps[e].sid, did,
                              sc->eps[e].ats ? VTD_TT_DEVTLB : VTD_TT_UNTRANSLATED, x->pgd[d], 2,
                              OWNER_OS);
        hw_paddr leaf = 0; /* the pages share one leaf table: walked to once, at page 0 */
        for (unsigned k = 0; first && k < PAGES; k++) {
            x->page[d][k] = hw_mem_alloc_quiet(x->hw, HW_PAGE_SIZE, chk_domain_owner(did));
            if (k == 0)
                leaf = hw_tables_leaf(x->hw, x->pgd[d], 2, iova_of(0), OWNER_OS);
            if (leaf)
                hw_tables_set_leaf(x->hw, leaf, iova_of(k), x->page[d][k], true, true);
        }
    }
    /* With 256-bit descriptors the OS runs the IOMMU in scalable mode (RTADDR.TTM = 01b), as a
     * kernel does where ECAP.SMTS is set: the PASID-based descriptor types (6-A) are valid then,
     * and an OS in scalable mode sends them. The model walks its own translation tables in
     * either mode; TTM governs which descriptors the queue accepts. */
    uint64_t ttm = sc->dw256 ? (uint64_t)VTD_TTM_SCALABLE << VTD_RTADDR_TTM_SHIFT : 0;
    hw_mmio_write64(x->hw, VTD_REG_RTADDR, x->root | ttm);
    os_gcmd(x->hw, VTD_GCMD_SRTP, VTD_GSTS_RTPS);
    os_gcmd(x->hw, VTD_GCMD_TE, VTD_GSTS_TES);
    return 0;
}

/* The k-th of FAULT_POINTS evenly spaced times in [lo, hi] (k < FAULT_POINTS), rounded down:
 * lo + (hi - lo) * k / (FAULT_POINTS - 1), without the product, which wraps for a range wider
 * than 2^64 / 15 ns. */
static hw_time fault_point(hw_time lo, hw_time hi, unsigned k)
{
    hw_time span = hi - lo, q = span / (FAULT_POINTS - 1), r = span % (FAULT_POINTS - 1);
    return lo + q * k + r * k / (FAULT_POINTS - 1); /* <= lo + span = hi */
}

/* Fault times are decisions: a range is explored at FAULT_POINTS evenly spaced times. A fault
 * time counts from the end of the set-up, and saturates: one that would come after HW_NEVER
 * never comes (the scenario loader takes every time up to 2^64 - 1 ns). */
static void plan_faults(struct chk_exec *x)
{
    const scenario *sc = x->sc;
    hw_time base = hw_now(x->hw);
    for (unsigned i = 0; i < sc->nfaults; i++) {
        const struct sc_fault *f = &sc->faults[i];
        hw_time at = f->at_lo;
        if (f->at_hi > f->at_lo) {
            unsigned k = decide(x, CHK_DECIDE_FAULT_TIME, FAULT_POINTS, 0, NULL);
            at = fault_point(f->at_lo, f->at_hi, k);
        }
        at = time_add(base, at);
        if (f->dma) {
            hw_ep_schedule_dma(x->hw, f->ep, at, iova_of(f->arg), f->write);
            continue;
        }
        if (f->flap) { /* one [fault], two hardware faults: down, then up `arg` us later */
            hw_ep_inject(x->hw, f->ep, at, HW_FAULT_LINK_DOWN, 0);
            hw_ep_inject(x->hw, f->ep, time_add(at, time_mul(f->arg, HW_US)), HW_FAULT_LINK_UP, 0);
            mark_faulty(x, f->ep, at);
            continue;
        }
        hw_ep_inject(x->hw, f->ep, at, f->kind, f->arg);
        /* A new latency is a fault once it is no shorter than the ITE time-out (setup_hw). */
        bool slow = f->kind == HW_FAULT_LATENCY && time_mul(f->arg, HW_US) >= sc->ite_timeout;
        if ((f->kind != HW_FAULT_LATENCY || slow) && f->kind != HW_FAULT_UNMUTE &&
            f->kind != HW_FAULT_LINK_UP)
            mark_faulty(x, f->ep, at);
    }
}

/* ---- the workload ---- */

/* The submit records of this thread's executions, in blocks (util/blocks.h, struct chk_exec). */
#define SUB_BLOCK_BYTES (64u << 10)

static _Thread_local struct mem_block *sub_blocks;

/* A cleared submit record with room for n descriptors, kept in x->subs. Its descriptors are
 * not cleared: every reader (the driver, the oracles) reads d[0, n) only, and whoever fills a
 * record writes those n first. */
static struct chk_submit *new_submit(struct chk_exec *x, unsigned n)
{
    size_t bytes = (offsetof(struct chk_submit, d) + n * sizeof(vtd_desc) + 7) & ~(size_t)7;
    struct mem_block *b = x->block;
    if (!b || b->size - b->used < bytes) /* (once per 64 KiB of records) */
        b = x->block = block_next(&sub_blocks, b, bytes, SUB_BLOCK_BYTES, "the submit records");
    struct chk_submit *s = (struct chk_submit *)(void *)(b->mem + b->used);
    b->used += bytes;
    GROW(x->subs, x->nsubs, x->cap_subs, 256);
    x->subs[x->nsubs++] = s;
    memset(s, 0, offsetof(struct chk_submit, d));
    return s;
}

/* The descriptors a workload submits: an IOTLB invalidation of page k of domain ep + 1, or a
 * device-TLB invalidation (source id sid, endpoint ep) of page k. Each is a function of (ep,
 * sid, page) only, and encoding one costs more than building the rest of a submit, so each is
 * encoded once per thread and copied after. ep < SC_MAX_EPS (an endpoint's index, or for the
 * IOTLB a domain's id - 1, or 0 in a scenario without endpoints). */
struct made_desc {
    vtd_desc iotlb, devtlb;
    uint16_t sid; /* devtlb's */
    bool iotlb_made, devtlb_made;
};

static _Thread_local struct made_desc made[SC_MAX_EPS][PAGES];

static vtd_desc iotlb_for(unsigned ep, unsigned k)
{
    struct made_desc *c = &made[ep][k % PAGES];
    if (!c->iotlb_made) {
        c->iotlb = vtd_make_iotlb_page((uint16_t)(ep + 1), iova_of(k), 0, false);
        c->iotlb_made = true;
    }
    return c->iotlb;
}

static vtd_desc devtlb_for(unsigned ep, uint16_t sid, unsigned k)
{
    struct made_desc *c = &made[ep][k % PAGES];
    if (!c->devtlb_made || c->sid != sid) {
        c->devtlb = vtd_make_devtlb(sid, iova_of(k), 1);
        c->sid = sid;
        c->devtlb_made = true;
    }
    return c->devtlb;
}

/* How many descriptors a flush operation submits. */
static unsigned flush_len(const struct sc_op *op)
{
    return op->batch < CHK_MAX_BATCH ? op->batch : CHK_MAX_BATCH;
}

/* The descriptors of one flush operation, into s (room for flush_len(op)). */
static void build_flush(struct chk_exec *x, const struct sc_op *op, struct chk_submit *s)
{
    unsigned n = flush_len(op);
    unsigned ep = op->ep >= 0 ? (unsigned)op->ep : 0;
    uint16_t sid = x->sc->neps ? x->sc->eps[ep].sid : 0;
    for (unsigned i = 0; i < n; i++) {
        switch (op->kind) {
        case SC_OP_FLUSH_DEVTLB:
            s->d[i] = i + 1 < n ? iotlb_for(ep, i) : devtlb_for(ep, sid, 0);
            break;
        case SC_OP_FLUSH_MIXED:
            s->d[i] = i % 2 ? devtlb_for(ep, sid, i) : iotlb_for(ep, i);
            break;
        default:
            s->d[i] = iotlb_for(ep, i);
            break;
        }
    }
    if (op->kind == SC_OP_FLUSH_BAD && op->bad_index >= 0 && (unsigned)op->bad_index < n) {
        s->d[op->bad_index].qw[0] |= VTD_BIT(8); /* reserved bit of an IOTLB descriptor */
        s->bad = (int)op->bad_index;
    } else {
        s->bad = -1;
    }
    s->n = n;
    s->healthy = s->bad < 0;
    for (unsigned i = 0; i < n; i++)
        if (vtd_desc_type(&s->d[i]) == VTD_DESC_DEVTLB)
            s->eps |= 1u << ep;
}

/* One call of the driver: a submit of s->d, or with a job, the driver's `op` when it has one
 * (else a submit of the job's careful batch, s->d). Inlined: a workload's submit (job NULL)
 * then tests nothing more than it did before jobs. */
static inline __attribute__((always_inline)) int do_call(struct chk_exec *x, qi_platform *p,
                                                         unsigned cpu, struct chk_submit *s,
                                                         const struct drv_op *job)
{
    s->cpu = cpu;
    s->t0 = sim_now(x->w);
    hw_events(x->hw, &s->hw0);
    /* A deadline past HW_NEVER is HW_NEVER: never reached (0 would be the driver's default). */
    struct drv_submit_opts o = {.deadline_ns =
                                    x->sc->deadline ? time_add(s->t0, x->sc->deadline) : 0};
    sim_mark_call(p, true, s->n);
    if (job && x->drv->op)
        s->rc = x->drv->op(x->state, p, job, &o);
    else
        s->rc = x->drv->submit(x->state, p, s->d, s->n, &o);
    sim_mark_call(p, false, s->rc);
    s->t1 = sim_now(x->w);
    hw_events(x->hw, &s->hw1);
    s->done = true;
    return s->rc;
}

/* ---- jobs ---- */

/* The domain as a job sees it: its id and the endpoints in it now. */
static void domain_now(const struct chk_exec *x, unsigned d, struct drv_domain *out)
{
    out->did = x->sc->domains[d].did;
    out->ndevs = 0;
    for (uint32_t m = x->members[d]; m && out->ndevs < DRV_MAX_DEVS; m &= m - 1) {
        const struct sc_endpoint *e = &x->sc->eps[__builtin_ctz(m)];
        out->sid[out->ndevs] = e->sid;
        out->ats[out->ndevs++] = e->ats;
    }
}

/* A job's record: what it requires is filled in by the caller. */
static struct chk_submit *new_job(struct chk_exec *x, enum drv_op_kind kind)
{
    struct chk_submit *s = new_submit(x, 1 + SC_MAX_EPS); /* a job requires at most this */
    s->job = true;
    s->job_kind = (uint8_t)kind;
    s->bad = -1;
    s->healthy = true;
    return s;
}

/* Free the pages of domain d in `mask` that are not free already, each handed to another owner
 * at once (first fit: the page just freed, or an earlier hole). */
static void free_pages(struct chk_exec *x, unsigned d, unsigned mask)
{
    for (unsigned k = 0; k < PAGES; k++) {
        if (!(mask >> k & 1) || (x->freed[d] >> k & 1))
            continue;
        x->freed[d] |= (uint8_t)(1u << k);
        hw_mem_free(x->hw, x->page[d][k], HW_PAGE_SIZE);
        hw_mem_alloc_quiet(x->hw, HW_PAGE_SIZE, CHK_OWNER_REUSED);
    }
}

/* Pages [first, first + n) of a domain: the smallest aligned block of 2^am pages that holds
 * them, as one invalidation covers it. */
static unsigned block_order(unsigned first, unsigned n)
{
    unsigned am = 0;
    while (first >> am != (first + n - 1) >> am)
        am++;
    return am;
}

/* unmap: the pages leave the domain's page table, then the job DRV_OP_UNMAP. Its careful
 * batch: one page-selective IOTLB invalidation of the domain covering the range, then a
 * device-TLB invalidation covering it for each ATS endpoint in the domain now. */
static void op_unmap(struct chk_exec *x, qi_platform *p, unsigned cpu, const struct sc_op *op)
{
    unsigned d = (unsigned)(op->domain >= 0 ? op->domain : x->sc->eps[op->ep].domain);
    unsigned first = op->page % PAGES, n = op->pages ? op->pages : 1;
    uint16_t did = x->sc->domains[d].did;
    sim_touch(p);
    for (unsigned k = first; k < first + n; k++)
        hw_tables_unmap(x->hw, x->pgd[d], 2, iova_of(k));
    struct chk_submit *s = new_job(x, DRV_OP_UNMAP);
    unsigned am = block_order(first, n), base = first >> am << am;
    s->d[0] = n == 1 ? iotlb_for(did - 1u, first)
                     : vtd_make_iotlb_page(did, iova_of(base), (uint8_t)am, false);
    s->n = 1;
    for (uint32_t m = x->members[d]; m; m &= m - 1) {
        unsigned ep = (unsigned)__builtin_ctz(m);
        const struct sc_endpoint *e = &x->sc->eps[ep];
        if (!e->ats)
            continue;
        s->d[s->n++] = n == 1 ? devtlb_for(ep, e->sid, first)
                              : vtd_make_devtlb(e->sid, iova_of(base), 1ull << am);
        s->eps |= 1u << ep;
    }
    s->unmap = true;
    struct drv_domain dom;
    domain_now(x, d, &dom);
    struct drv_op job = {.kind = DRV_OP_UNMAP,
                         .dom = &dom,
                         .start = iova_of(first),
                         .end = iova_of(first + n - 1) + HW_PAGE_SIZE - 1,
                         .descs = s->d,
                         .n = s->n};
    if (do_call(x, p, cpu, s, &job) != DRV_OK)
        return; /* not known to be invalidated: the pages must stay allocated */
    sim_touch(p);
    free_pages(x, d, ((1u << n) - 1) << first);
}

/* detach, context: the endpoint's context entry is cleared (not present), then the job. Its
 * careful batch: for a detach, a domain-selective IOTLB invalidation; for a context change, a
 * device-selective context-cache invalidation (no IOTLB invalidation: in scalable mode the
 * kernel tore every PASID entry down before it changes a context entry, and its flush then
 * has none); then, for an ATS endpoint, a device-TLB invalidation of all addresses. The
 * endpoint is in the domain the job sees and leaves it once the job returns, whatever it
 * returned (the OS goes on). A successful job that leaves the domain empty frees all its pages
 * (they leave its page table and are reused at once), unless an earlier leave of it failed. */
static void op_leave(struct chk_exec *x, qi_platform *p, unsigned cpu, const struct sc_op *op)
{
    unsigned ep = (unsigned)op->ep, d = (unsigned)x->sc->eps[ep].domain;
    const struct sc_endpoint *e = &x->sc->eps[ep];
    uint16_t did = x->sc->domains[d].did;
    enum drv_op_kind kind = op->kind == SC_OP_DETACH ? DRV_OP_DETACH : DRV_OP_CONTEXT;
    sim_touch(p);
    hw_tables_set_context(x->hw, x->root, e->sid, 0, -1, 0, 0, OWNER_OS);
    sim_note(p,
             kind == DRV_OP_DETACH ? "detach: context entry cleared (sid, domain)"
                                   : "context change: context entry cleared (sid, domain)",
             e->sid, did);
    struct chk_submit *s = new_job(x, kind);
    s->d[0] =
        kind == DRV_OP_DETACH ? vtd_make_iotlb_domain(did) : vtd_make_cc_device(did, e->sid, 0);
    s->n = 1;
    if (e->ats) {
        s->d[s->n++] = vtd_make_devtlb(e->sid, 0, 0);
        s->eps = 1u << ep;
    }
    struct drv_domain dom;
    domain_now(x, d, &dom);
    struct drv_op job = {.kind = kind, .dom = &dom, .sid = e->sid, .descs = s->d, .n = s->n};
    int rc = do_call(x, p, cpu, s, &job);
    x->members[d] &= ~(1u << ep);
    if (rc != DRV_OK)
        x->keep[d] = true;
    if (rc != DRV_OK || x->members[d] || x->keep[d] || x->freed[d] == (1u << PAGES) - 1)
        return;
    s->unmap = true;
    sim_touch(p);
    sim_note(p, "domain left empty: its pages are freed and reused (domain, pages)", did,
             PAGES - (unsigned)__builtin_popcount(x->freed[d]));
    for (unsigned k = 0; k < PAGES; k++)
        hw_tables_unmap(x->hw, x->pgd[d], 2, iova_of(k));
    free_pages(x, d, (1u << PAGES) - 1);
}

static void op_flr(struct chk_exec *x, qi_platform *p, const struct sc_op *op)
{
    uint16_t sid = x->sc->eps[op->ep].sid;
    if (x->drv->reset_prepare)
        x->drv->reset_prepare(x->state, p, sid);
    sim_touch(p);
    hw_ep_inject(x->hw, op->ep, sim_now(x->w), HW_FAULT_FLR, 0);
    mark_faulty(x, op->ep, sim_now(x->w));
    sim_cpu_sleep(p, time_add(hw_ep_get_config(x->hw, op->ep)->flr_duration, HW_US));
    if (x->drv->reset_done)
        x->drv->reset_done(x->state, p, sid);
}

static void run_op(struct chk_exec *x, qi_platform *p, unsigned cpu, const struct sc_op *op)
{
    switch (op->kind) {
    case SC_OP_FLUSH_IOTLB:
    case SC_OP_FLUSH_DEVTLB:
    case SC_OP_FLUSH_MIXED:
    case SC_OP_FLUSH_BAD: {
        struct chk_submit *s = new_submit(x, flush_len(op));
        build_flush(x, op, s);
        do_call(x, p, cpu, s, NULL);
        break;
    }
    case SC_OP_UNMAP:
        op_unmap(x, p, cpu, op);
        break;
    case SC_OP_DETACH:
    case SC_OP_CONTEXT:
        op_leave(x, p, cpu, op);
        break;
    case SC_OP_FLR:
        op_flr(x, p, op);
        break;
    case SC_OP_SLEEP:
        sim_cpu_sleep(p, op->sleep);
        break;
    }
}

static void cpu_body(sim_world *w, unsigned cpu, void *arg)
{
    struct chk_exec *x = arg;
    qi_platform *p = sim_platform(w, cpu);
    if (cpu == 0) {
        const char *sets[SC_MAX_DRV_SETS];
        for (unsigned i = 0; i < x->sc->ndrv_sets; i++)
            sets[i] = x->sc->drv_sets[i];
        struct drv_params prm = {.queue_len = x->sc->queue_len,
                                 .dw256 = x->sc->dw256,
                                 .deadline_ns = x->sc->deadline,
                                 .ncpus = x->sc->cpus,
                                 .settings = sets,
                                 .nsettings = x->sc->ndrv_sets};
        x->state = x->drv->init(p, &prm);
        if (!x->state) {
            sim_abort(w, "the driver's init failed");
            return;
        }
        qi_plat_store32(p, x->ready, 1);
    } else {
        while (!qi_plat_load32(p, x->ready))
            qi_plat_relax(p, 0);
    }
    const struct sc_workload *wl = &x->sc->cpu[cpu];
    uint32_t done = 0;
    for (unsigned r = 0; r < wl->repeat && done < wl->limit; r++)
        for (unsigned i = 0; i < wl->nops && done < wl->limit; i++, done++) {
            run_op(x, p, cpu, &wl->ops[i]);
            sim_progress(p); /* a livelock is a long time without this */
        }
}

static void on_irq(sim_world *w, unsigned cpu, enum hw_irq irq, int ep, void *arg)
{
    struct chk_exec *x = arg;
    qi_platform *p = sim_platform(w, cpu);
    if (!x->state)
        return;
    if (irq == HW_IRQ_FAULT && x->drv->fault_irq)
        x->drv->fault_irq(x->state, p);
    if (irq == HW_IRQ_HOTPLUG && x->drv->hotplug && ep >= 0)
        x->drv->hotplug(x->state, p, hw_ep_get_config(x->hw, ep)->sid);
}

static _Thread_local uint64_t step_budget;
static _Thread_local double deadline;
static _Thread_local sim_steplog *step_log;

void chk__set_step_budget(uint64_t steps)
{
    step_budget = steps;
}

void chk__set_steplog(sim_steplog *log)
{
    step_log = log;
}

void chk_set_deadline(double t)
{
    deadline = t > 0 ? t : 0;
}

double chk_deadline(void)
{
    return deadline;
}

double chk_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool chk_deadline_passed(void)
{
    return deadline > 0 && chk_now() >= deadline;
}

/* cpu_events: the world records its CPU-side events, for a reader after the run (a timeline,
 * an observer); without one nothing reads them before the world is destroyed. */
static int setup_sim(struct chk_exec *x, bool cpu_events, chk_result *res)
{
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.ncpus = x->sc->cpus;
    cfg.watchdog = x->sc->watchdog;
    cfg.max_virtual = x->sc->max_virtual;
    cfg.mem_points = x->sc->mem_points;
    cfg.local_time = local_time;
    cfg.budget_steps = step_budget;
    cfg.wall_deadline_ns = deadline > 0 ? (uint64_t)(deadline * 1e9) : 0;
    cfg.cpu_events = cpu_events;
    const char *err = NULL;
    x->w = sim_create(&cfg, x->hw, &err);
    if (!x->w)
        return setup_failed(res, "simulation", NULL, err);
    x->ready = sim_dma_alloc(sim_platform(x->w, 0), 4);
    sim_set_chooser(x->w, choose_cpu, x);
    sim_set_irq_handler(x->w, on_irq, x);
    if (step_log)
        sim_set_steplog(x->w, step_log);
    for (unsigned c = 0; c < x->sc->cpus; c++)
        sim_set_cpu(x->w, c, cpu_body, x);
    return 0;
}

/* The array of record pointers of the last execution on this thread, for the next (its
 * capacity only: an execution starts it empty). */
static _Thread_local struct chk_submit **spare_subs;
static _Thread_local size_t spare_cap_subs;

/* One execution, behind the three entry points below. local_kinds: scheduling decisions tell
 * CHK_DECIDE_SCHED_LOCAL apart (chk__run_once_plain: the decision source does not read it). */
static void run_exec(const scenario *sc, const sim_driver_ops *drv, chk_decide_fn decide_fn,
                     void *decide_ctx, bool local_kinds, chk_trace *trace, FILE *timeline,
                     const chk_observer *obs, chk_result *res)
{
    struct chk_exec exec, *x = &exec; /* lives until the world it is handed to is destroyed */
    memset(x, 0, sizeof(*x));
    x->sc = sc;
    x->drv = drv;
    x->decide = decide_fn;
    x->decide_ctx = decide_ctx;
    x->local_kinds = local_kinds;
    x->trace = trace;
    /* Every field of *res is written on every path below: outcome by sim_run (or cleared),
     * verdict and why by chk_judge (or setup_failed), the counts by chk_judge from zero, end
     * last. Clearing all of it first (832 bytes) cost more than the rest of this set-up. */
    res->submits = res->failed_submits = 0;
    res->where[0] = res->trigger[0] = '\0';
    for (unsigned e = 0; e < SC_MAX_EPS; e++)
        x->ep_fault_from[e] = HW_NEVER;
    SPARE_TAKE(x->subs, x->cap_subs, spare_subs, spare_cap_subs);
    /* The world's CPU events are read only below, by the timeline and the observer: a run with
     * neither (most of an exploration's) leaves nothing of them in *res, so records none. */
    if (setup_hw(x, res) == 0 && setup_sim(x, timeline || obs, res) == 0) {
        plan_faults(x);
        sim_run(x->w, &res->outcome);
        chk_judge(x, res);
        /* A timeline the time budget cut short would read as the whole run: such a run is
         * cut (CHK_INCOMPLETE), and its readers leave out what they got of it. */
        if (timeline && res->verdict != CHK_INCOMPLETE &&
            !rep_timeline_write(timeline, x->w, chk_deadline_passed)) {
            res->verdict = CHK_INCOMPLETE;
            snprintf(res->why, sizeof(res->why),
                     "the time budget ran out while the run's timeline was written");
        }
        if (timeline && res->verdict != CHK_INCOMPLETE)
            chk_explain(x, res, timeline);
        if (obs)
            obs->fn(obs->ctx, x->w, res);
    } else {
        memset(&res->outcome, 0, sizeof(res->outcome));
    }
    res->end = x->hw ? hw_now(x->hw) : 0;
    sim_destroy(x->w);
    hw_destroy(x->hw);
    SPARE_KEEP(spare_subs, spare_cap_subs, x->subs, x->cap_subs);
}

void chk_run_once(const scenario *sc, const sim_driver_ops *drv, chk_decide_fn decide_fn,
                  void *decide_ctx, chk_trace *trace, FILE *timeline, chk_result *res)
{
    run_exec(sc, drv, decide_fn, decide_ctx, true, trace, timeline, NULL, res);
}

void chk__run_once_plain(const scenario *sc, const sim_driver_ops *drv, chk_decide_fn decide_fn,
                         void *decide_ctx, chk_trace *trace, chk_result *res)
{
    run_exec(sc, drv, decide_fn, decide_ctx, false, trace, NULL, NULL, res);
}

void chk_run_observed(const scenario *sc, const sim_driver_ops *drv, chk_decide_fn decide_fn,
                      void *decide_ctx, chk_trace *trace, FILE *timeline, const chk_observer *obs,
                      chk_result *res)
{
    run_exec(sc, drv, decide_fn, decide_ctx, true, trace, timeline, obs, res);
}
