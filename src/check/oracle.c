/*
 * oracle.c — the oracles (hard_lockup, hang, lost_invalidation, stale_dma, queue_corruption,
 * false_failure, slot_leak, deadline_overrun; their meanings are in docs/checker.md), judged
 * from the hardware event log, the descriptors the hardware fetched, memory ownership and the
 * simulation's outcome. When several fire, the verdict is the most severe (the order of enum
 * chk_verdict); `why` explains it in words a kernel developer can check against the timeline.
 *
 * A failing verdict also gets a signature (chk_signature): `where` (the stuck CPU's driver
 * function and how it is stuck, or the oracle's finding without ids, times or counts) and
 * `trigger` (the first IOMMU error, an unanswered device-TLB invalidation, or the first
 * fault-plan event), stable across equivalent executions and parameter values.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <qinval/vtd_format.h>

#include "check/oracle.h"
#include "report/timeline.h"
#include "util/grow.h"
#include "util/strcopy.h"
#include "util/symbolize.h"

const char *chk_verdict_name(enum chk_verdict v)
{
    static const char *const names[CHK_NVERDICTS] = {"pass",
                                                     "hard_lockup",
                                                     "hang",
                                                     "lost_invalidation",
                                                     "stale_dma",
                                                     "queue_corruption",
                                                     "deadline_overrun",
                                                     "false_failure",
                                                     "slot_leak",
                                                     "incomplete",
                                                     "internal_error"};
    return (unsigned)v < CHK_NVERDICTS ? names[v] : "?";
}

/* ---- coverage ---- */

static bool page_range_covers(uint64_t a_addr, unsigned a_am, uint64_t b_addr, unsigned b_am)
{
    uint64_t a_lo = (a_addr >> 12) & ~((1ull << a_am) - 1), a_n = 1ull << a_am;
    uint64_t b_lo = (b_addr >> 12) & ~((1ull << b_am) - 1), b_n = 1ull << b_am;
    return a_lo <= b_lo && b_lo + b_n <= a_lo + a_n;
}

static bool iotlb_covers(const struct vtd_iotlb *d, const struct vtd_iotlb *w)
{
    if (d->g == VTD_IOTLB_G_GLOBAL)
        return true;
    if (d->did != w->did || w->g == VTD_IOTLB_G_GLOBAL)
        return false;
    if (d->g == VTD_IOTLB_G_DOMAIN)
        return true;
    return w->g == VTD_IOTLB_G_PAGE && page_range_covers(d->addr, d->am, w->addr, w->am);
}

static bool devtlb_covers(const struct vtd_devtlb *d, const struct vtd_devtlb *w)
{
    if (d->sid != w->sid)
        return false;
    uint64_t ds, dl, ws, wl;
    vtd_devtlb_range(d->addr, d->s, &ds, &dl);
    vtd_devtlb_range(w->addr, w->s, &ws, &wl);
    if (dl == 0)
        return true; /* global */
    return wl != 0 && ds <= ws && ws + wl <= ds + dl;
}

static bool cc_covers(const struct vtd_cc *d, const struct vtd_cc *w)
{
    if (d->g == VTD_CC_G_GLOBAL)
        return true;
    if (d->g == VTD_CC_G_DOMAIN)
        return w->g != VTD_CC_G_GLOBAL && d->did == w->did;
    return w->g == VTD_CC_G_DEVICE && d->sid == w->sid && d->fm >= w->fm;
}

/* All four quadwords equal (what memcmp of qw said, without the call). */
static bool same_desc(const vtd_desc *a, const vtd_desc *b)
{
    return a->qw[0] == b->qw[0] && a->qw[1] == b->qw[1] && a->qw[2] == b->qw[2] &&
           a->qw[3] == b->qw[3];
}

/* A descriptor as coverage compares it, decoded at most once: judging compares each
 * descriptor a workload submitted with every execution between its call and its return, and
 * decoding both sides of every comparison was most of its cost. */
struct cov_desc {
    const vtd_desc *d;
    bool decoded;
    bool ok; /* once decoded: vtd_decode() succeeded, f holds the fields */
    vtd_fields f;
};

static const vtd_fields *cov_fields(struct cov_desc *c)
{
    if (!c->decoded) {
        c->ok = vtd_decode(c->d, &c->f) == VTD_OK;
        c->decoded = true;
    }
    return c->ok ? &c->f : NULL;
}

static inline __attribute__((always_inline)) bool fields_cover(const vtd_fields *d,
                                                               const vtd_fields *w)
{
    if (d->type != w->type)
        return false;
    switch (d->type) {
    case VTD_DESC_IOTLB:
        return iotlb_covers(&d->u.iotlb, &w->u.iotlb);
    case VTD_DESC_DEVTLB:
        return devtlb_covers(&d->u.devtlb, &w->u.devtlb);
    case VTD_DESC_CC:
        return cc_covers(&d->u.cc, &w->u.cc);
    default:
        return false;
    }
}

/* Inlined (with fields_cover): judging calls it for every execution after every submit
 * (executed()). */
static inline __attribute__((always_inline)) bool covers(struct cov_desc *done,
                                                         struct cov_desc *want)
{
    if (same_desc(done->d, want->d))
        return true;
    if (vtd_desc_type(done->d) != vtd_desc_type(want->d))
        return false; /* as below, without decoding both */
    const vtd_fields *d = cov_fields(done), *w = d ? cov_fields(want) : NULL;
    return d && w && fields_cover(d, w);
}

bool chk_covers(const vtd_desc *done, const vtd_desc *want)
{
    struct cov_desc a = {.d = done}, b = {.d = want};
    return covers(&a, &b);
}

/* ---- the oracles ---- */

/* The finding that stands. `at` bounds the hardware log a trigger is looked for in (the log
 * position of the finding: the call's return, the DMA, the queue event; the whole log for an
 * outcome); `where` is the signature's place, without CPU ids, times or counts. */
struct judgement {
    enum chk_verdict v;
    size_t at;
    char why[512];
    char where[96];
};

static void fire(struct judgement *j, enum chk_verdict v, size_t at, const char *where,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void fire(struct judgement *j, enum chk_verdict v, size_t at, const char *where,
                 const char *fmt, ...)
{
    if (j->v != CHK_PASS && j->v <= v)
        return; /* a more severe (or the first equal) finding stands */
    j->v = v;
    j->at = at;
    str_copy_cut(j->where, sizeof(j->where), where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->why, sizeof(j->why), fmt, ap);
    va_end(ap);
}

/* The outcome's where (a stuck CPU's place) is filled in by stuck_where() once the verdict
 * stands: it resolves code addresses, which only a failing run may pay for. */
static void judge_outcome(const chk_result *res, struct judgement *j)
{
    const sim_outcome *o = &res->outcome;
    switch (o->stop) {
    case SIM_STOP_DONE:
        return;
    case SIM_STOP_HARD_LOCKUP:
        fire(j, CHK_HARD_LOCKUP, SIZE_MAX, "", "%s", o->why);
        return;
    case SIM_STOP_HANG:
    case SIM_STOP_TIMEOUT:
    case SIM_STOP_DEADLOCK:
    case SIM_STOP_LOOP:
        fire(j, CHK_HANG, SIZE_MAX, "", "%s", o->why);
        return;
    case SIM_STOP_ABORT:
        fire(j, CHK_INTERNAL, SIZE_MAX, "", "simulation aborted: %s", o->why);
        return;
    case SIM_STOP_CUT:
        fire(j, CHK_INCOMPLETE, SIZE_MAX, "", "%s", o->why);
        return;
    case SIM_STOP_INFEASIBLE: /* chk_judge does not judge it */
        return;
    }
}

/* What judging needs from the hardware's log, gathered in one pass over it. */
struct log_scan {
    size_t ndone;     /* entries of done_v */
    size_t ntimedout; /* entries of timedout_v */
    size_t dma;       /* first DMA that reached a page its endpoint's domain does not own, or n */
    size_t queue;     /* first queue-corruption finding (queue_finding()), or n */
    const vtd_desc *rejected; /* for an IQE finding: what the hardware rejected, or NULL */
};

/* The hardware's executions, in log order: where each EXEC_DONE (not timed out) is and what
 * it executed (c.d; NULL if the model does not know). Built once per judgement; its capacity
 * is kept for the next execution. timedout_v: the same for the EXEC_DONEs that timed out
 * (device-TLB invalidations sent that the endpoint never answered), seldom any. */
struct exec_done {
    size_t pos;
    struct cov_desc c;
};

static _Thread_local struct exec_done *done_v, *timedout_v;
static _Thread_local size_t done_cap, timedout_cap;

/* A timed-out execution at log position pos, into timedout_v[*k] (out of the common path). */
static __attribute__((noinline)) void add_timedout(const struct chk_exec *x, size_t pos,
                                                   const hw_event *e, size_t *k)
{
    GROW(timedout_v, *k, timedout_cap, 8);
    timedout_v[*k].pos = pos;
    timedout_v[*k].c.d = hw_fetched(x->hw, (uint32_t)e->b);
    timedout_v[(*k)++].c.decoded = false;
}

static bool deliberately_bad(const struct chk_exec *x, const vtd_desc *d)
{
    for (size_t k = 0; k < x->nsubs; k++) {
        const struct chk_submit *s = x->subs[k];
        if (s->bad >= 0 && same_desc(&s->d[s->bad], d))
            return true;
    }
    return false;
}

/* Is event e what judge_queue() reports? A tail moved backwards, a published slot rewritten,
 * or an IQE on a descriptor that is not a workload's deliberately malformed one (*rejected:
 * that descriptor, NULL for an invalid tail). */
static bool queue_finding(const struct chk_exec *x, const hw_event *e, const vtd_desc **rejected)
{
    if (e->kind == HW_EV_SW_VIOLATION)
        return e->c == HW_VIOL_TAIL_BACKWARDS || e->c == HW_VIOL_SLOT_REWRITTEN;
    *rejected = hw_rejected(x->hw, e->b);
    return !*rejected || !deliberately_bad(x, *rejected);
}

/* The kinds of record scan_log() looks at. Most of the log is other kinds (MMIO accesses
 * above all, a polling loop reads a register every iteration): one test passes over them. */
#define SCANNED_KINDS                                                                              \
    (1ull << HW_EV_EXEC_DONE | 1ull << HW_EV_DMA | 1ull << HW_EV_SW_VIOLATION | 1ull << HW_EV_IQE)
_Static_assert(HW_EV_COUNT <= 64, "SCANNED_KINDS has a bit per kind");

static void scan_log(const struct chk_exec *x, struct log_scan *ls)
{
    size_t n, k = 0, kt = 0;
    const hw_event *ev = hw_events(x->hw, &n);
    ls->dma = ls->queue = n;
    ls->rejected = NULL;
    for (size_t i = 0; i < n; i++) {
        const hw_event *e = &ev[i];
        if (!(SCANNED_KINDS >> e->kind & 1))
            continue;
        switch (e->kind) {
        case HW_EV_EXEC_DONE:
            if (e->flags & HW_EVF_TIMEDOUT) {
                add_timedout(x, i, e, &kt);
                break;
            }
            GROW(done_v, k, done_cap, 64);
            done_v[k].pos = i;
            done_v[k].c.d = hw_fetched(x->hw, (uint32_t)e->b);
            done_v[k++].c.decoded = false;
            break;
        case HW_EV_DMA:
            if (ls->dma == n && e->c2 == HW_DMA_OK && e->ep >= 0 && e->ep < SC_MAX_EPS &&
                e->c != x->ep_owner[e->ep])
                ls->dma = i;
            break;
        case HW_EV_SW_VIOLATION:
        case HW_EV_IQE:
            if (ls->queue == n && queue_finding(x, e, &ls->rejected))
                ls->queue = i;
            break;
        default:
            break;
        }
    }
    ls->ndone = k;
    ls->ntimedout = kt;
}

/* A job the driver ran through its own callers (sim_driver_ops.op), rather than a submit by
 * the checker (a workload's batch, or a job's careful batch to a driver without `op`). */
static bool own_job(const struct chk_exec *x, const struct chk_submit *s)
{
    return s->job && x->drv->op;
}

/* What the call was, for messages. */
static const char *call_name(const struct chk_exec *x, const struct chk_submit *s)
{
    static const char *const jobs[] = {[DRV_OP_UNMAP] = "unmap job",
                                       [DRV_OP_DETACH] = "detach job",
                                       [DRV_OP_CONTEXT] = "context job"};
    return own_job(x, s) && s->job_kind < sizeof(jobs) / sizeof(jobs[0]) ? jobs[s->job_kind]
                                                                         : "submit";
}

/* The first entry of done_v[0, ndone) at or after log position pos. */
static size_t first_done_at(size_t pos, size_t ndone)
{
    size_t lo = 0, hi = ndone;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (done_v[mid].pos < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Was `want` executed by the hardware between the submit's call and its return? `lo` is
 * first_done_at(s->hw0): the first execution at or after the call. */
static bool executed(const struct chk_submit *s, const vtd_desc *want, size_t lo, size_t ndone)
{
    struct cov_desc w = {.d = want};
    for (size_t k = lo; k < ndone && done_v[k].pos < s->hw1; k++)
        if (done_v[k].c.d && covers(&done_v[k].c, &w))
            return true;
    return false;
}

/* Was `want` sent by the hardware between the submit's call and its return, and timed out
 * there (timedout_v: few entries, if any)? */
static __attribute__((noinline)) bool timed_out(const struct chk_submit *s, const vtd_desc *want,
                                                size_t ntimedout)
{
    for (size_t k = 0; k < ntimedout; k++)
        if (timedout_v[k].pos >= s->hw0 && timedout_v[k].pos < s->hw1 && timedout_v[k].c.d &&
            chk_covers(timedout_v[k].c.d, want))
            return true;
    return false;
}

/* The lost_invalidation finding: descriptor i of s (for a job, the invalidation i it requires)
 * was not carried out. Out of the loop of judge_lost(), which finds none in most executions. */
static __attribute__((noinline, cold)) void fire_lost(const struct chk_exec *x,
                                                      const struct chk_submit *s, unsigned i,
                                                      bool own, struct judgement *j)
{
    char text[96], where[96];
    vtd_desc_format(&s->d[i], text, sizeof(text));
    snprintf(where, sizeof(where), "%s returned 0 with its %s invalidation not executed",
             call_name(x, s), vtd_desc_type_name(vtd_desc_type(&s->d[i])));
    if (own)
        fire(j, CHK_LOST_INVALIDATION, s->hw1, where,
             "cpu%u's %s (%.9f -> %.9f s) returned success, but invalidation %u it requires (%s) "
             "was neither executed nor sent by the hardware after the call began",
             s->cpu, call_name(x, s), (double)s->t0 / HW_S, (double)s->t1 / HW_S, i, text);
    else
        fire(j, CHK_LOST_INVALIDATION, s->hw1, where,
             "cpu%u's submit (%.9f -> %.9f s) returned success, but its descriptor %u (%s) was not "
             "executed by the hardware after the call began%s",
             s->cpu, (double)s->t0 / HW_S, (double)s->t1 / HW_S, i, text,
             vtd_desc_type(&s->d[i]) == VTD_DESC_DEVTLB
                 ? " (no invalidation completion from the endpoint)"
                 : "");
}

static void judge_lost(const struct chk_exec *x, const struct log_scan *ls, struct judgement *j)
{
    for (size_t k = 0; k < x->nsubs; k++) {
        const struct chk_submit *s = x->subs[k];
        if (!s->done || s->rc != DRV_OK)
            continue;
        /* A job run by the driver's own callers returns what they return, 0 from a void
         * function whatever happened: no claim that the endpoint answered. What it must do is
         * send each invalidation the job requires; an unanswered one is then judged by what
         * follows from it (stale_dma, once the OS reuses the pages). */
        bool own = own_job(x, s);
        size_t lo = first_done_at(s->hw0, ls->ndone);
        for (unsigned i = 0; i < s->n; i++) {
            if (executed(s, &s->d[i], lo, ls->ndone) ||
                (own && timed_out(s, &s->d[i], ls->ntimedout)))
                continue;
            fire_lost(x, s, i, own, j);
            return;
        }
    }
}

static void judge_dma(const struct chk_exec *x, const struct log_scan *ls, struct judgement *j)
{
    size_t n;
    const hw_event *ev = hw_events(x->hw, &n);
    if (ls->dma == n)
        return;
    const hw_event *e = &ev[ls->dma];
    char where[96];
    snprintf(where, sizeof(where), "DMA through %s after the page was %s",
             e->flags & HW_EVF_ATC ? "a stale ATC entry" : "a stale IOMMU translation",
             e->c == HW_OWNER_FREE ? "freed" : "reused");
    fire(j, CHK_STALE_DMA, ls->dma, where,
         "ep%d reached physical page 0x%" PRIx64 " at %.9f s through %s after the page %s", e->ep,
         e->b & ~(uint64_t)(HW_PAGE_SIZE - 1), (double)e->t / HW_S,
         e->flags & HW_EVF_ATC ? "a stale ATC entry" : "a stale IOMMU translation",
         e->c == HW_OWNER_FREE ? "was freed" : "was given to another owner");
}

static void judge_queue(const struct chk_exec *x, const struct log_scan *ls, struct judgement *j)
{
    size_t n;
    const hw_event *ev = hw_events(x->hw, &n);
    if (ls->queue == n)
        return;
    const hw_event *e = &ev[ls->queue];
    char text[96];
    if (e->kind == HW_EV_SW_VIOLATION && e->c == HW_VIOL_TAIL_BACKWARDS) {
        fire(j, CHK_QUEUE_CORRUPTION, ls->queue, "tail moved backwards",
             "the tail moved from %" PRIu64 " back to %" PRIu64
             " over descriptors the hardware had not fetched",
             e->a, e->b);
    } else if (e->kind == HW_EV_SW_VIOLATION) {
        fire(j, CHK_QUEUE_CORRUPTION, ls->queue, "published slot rewritten",
             "slot %" PRIu64 " was rewritten after the tail write published it and before "
             "the hardware fetched it (not a repair while IQE or ITE stopped the queue)",
             e->a);
    } else if (!ls->rejected) {
        fire(j, CHK_QUEUE_CORRUPTION, ls->queue, "invalid tail",
             "the driver wrote an invalid tail (IQEI %u)", e->c);
    } else {
        vtd_desc_format(ls->rejected, text, sizeof(text));
        fire(j, CHK_QUEUE_CORRUPTION, ls->queue, "IQE on a descriptor no workload asked for",
             "IQE at slot %d on a descriptor no workload asked for (%s): the driver wrote a "
             "malformed descriptor or overwrote a slot the hardware had not consumed",
             e->slot, text);
    }
}

/* A driver that honours deadlines returns from every call by the call's bound (the scenario's
 * deadline_ms, else the driver's own default, if any) plus the scenario's margin. */
static void judge_deadline(const struct chk_exec *x, struct judgement *j)
{
    hw_time bound = x->sc->deadline ? x->sc->deadline : x->drv->default_deadline_ns;
    if (!x->drv->honours_deadline || !bound)
        return;
    for (size_t k = 0; k < x->nsubs; k++) {
        const struct chk_submit *s = x->subs[k];
        if (!s->done || s->t1 <= time_add(time_add(s->t0, bound), x->sc->deadline_margin))
            continue;
        char where[96];
        snprintf(where, sizeof(where), "%s returned after its deadline", call_name(x, s));
        fire(j, CHK_DEADLINE_OVERRUN, s->hw1, where,
             "cpu%u's %s (%.9f -> %.9f s) returned %.9f s after its deadline (%.9f s after "
             "the call; margin %.9f s)",
             s->cpu, call_name(x, s), (double)s->t0 / HW_S, (double)s->t1 / HW_S,
             (double)(s->t1 - s->t0 - bound) / HW_S, (double)bound / HW_S,
             (double)x->sc->deadline_margin / HW_S);
        return;
    }
}

/* Healthy: no malformed descriptor, and every endpoint it targets was fault-free until the
 * call returned. */
static bool healthy(const struct chk_exec *x, const struct chk_submit *s)
{
    if (!s->healthy)
        return false;
    for (unsigned e = 0; e < SC_MAX_EPS; e++)
        if ((s->eps & (1u << e)) && x->ep_fault_from[e] <= s->t1)
            return false;
    return true;
}

/* A call that returned -ETIMEDOUT once the deadline the scenario gave it (deadline_ms) had
 * passed did what its caller asked: it bounded its wait. That says nothing about its targets
 * (a healthy device may be slow, or queued behind a dead one, for longer than the caller
 * allows), so it is not a false failure. Returning earlier than the deadline, or any other
 * error, still is. */
static bool honoured_deadline(const struct chk_exec *x, const struct chk_submit *s)
{
    return s->rc == DRV_ETIMEDOUT && x->sc->deadline && s->t1 >= time_add(s->t0, x->sc->deadline);
}

static void judge_failures(const struct chk_exec *x, struct judgement *j)
{
    for (size_t k = 0; k < x->nsubs; k++) {
        const struct chk_submit *s = x->subs[k];
        if (s->done && s->rc != DRV_OK && healthy(x, s) && !honoured_deadline(x, s)) {
            char where[96];
            snprintf(where, sizeof(where), "%s returned %d (healthy targets)", call_name(x, s),
                     s->rc);
            if (own_job(x, s))
                fire(j, CHK_FALSE_FAILURE, s->hw1, where,
                     "cpu%u's %s (requiring %u invalidations) on healthy targets returned %d at "
                     "%.9f s",
                     s->cpu, call_name(x, s), s->n, s->rc, (double)s->t1 / HW_S);
            else
                fire(j, CHK_FALSE_FAILURE, s->hw1, where,
                     "cpu%u's submit of %u descriptors to healthy targets returned %d at %.9f s",
                     s->cpu, s->n, s->rc, (double)s->t1 / HW_S);
            return;
        }
    }
}

static void judge_leak(const struct chk_exec *x, const chk_result *res, struct judgement *j)
{
    if (res->outcome.stop != SIM_STOP_DONE || !x->state)
        return;
    hw_qi_view v;
    hw_qi_view_get(x->hw, &v);
    if (v.enabled && (v.head != v.tail || v.in_flight)) {
        fire(j, CHK_SLOT_LEAK, SIZE_MAX, "hardware queue not empty at quiescence",
             "at quiescence the hardware queue is not empty (IQH %u, IQT %u)", v.head, v.tail);
        return;
    }
    if (x->drv->free_slots && x->drv->capacity) {
        unsigned f = x->drv->free_slots(x->state), c = x->drv->capacity(x->state);
        if (f != c)
            fire(j, CHK_SLOT_LEAK, SIZE_MAX, "driver's free count short at quiescence",
                 "at quiescence the driver counts %u free slots of %u", f, c);
    }
}

/* ---- the signature: where the driver is, and what started it ---- */

/* The CPU a stuck outcome is about: the one the simulation named, else the first still inside
 * a driver call (a proved hang of every CPU, a livelock, the virtual-time bound). -1: none. */
static int stuck_cpu(const struct chk_exec *x, const sim_outcome *o)
{
    if (o->cpu >= 0)
        return o->cpu;
    for (unsigned c = 0; c < x->sc->cpus; c++) {
        sim_cpu_site s;
        sim_cpu_where(x->w, c, &s);
        if (s.in_call)
            return (int)c;
    }
    return -1;
}

/* The driver function at the CPU's place: where the guard stopped it; for a lock wait, the
 * acquire; else its last relax in the call (the polling loop itself, wherever in an iteration
 * the run stopped it), or its last platform operation if it never relaxed there. */
static void site_name(const sim_cpu_site *s, char *buf, size_t len)
{
    if (s->stuck_pc && sym_function(s->stuck_pc, true, buf, len))
        return;
    const void *pc = !s->lock_wait && s->relax_pc ? s->relax_pc : s->pc;
    sym_function(pc, false, buf, len);
}

/* "spins in F (no platform point)", "polls in F[ with interrupts off]", "waits for a lock in
 * F[ with interrupts off]": how and where the stuck CPU is stuck. */
static void stuck_where(const struct chk_exec *x, const chk_result *res, char *buf, size_t len)
{
    int cpu = stuck_cpu(x, &res->outcome);
    if (cpu < 0) {
        str_copy_cut(buf, len, "no CPU in a driver call");
        return;
    }
    sim_cpu_site s;
    sim_cpu_where(x->w, (unsigned)cpu, &s);
    char fn[64];
    site_name(&s, fn, sizeof(fn));
    const char *off = s.irqs_off ? " with interrupts off" : "";
    if (s.stuck || res->outcome.stop == SIM_STOP_LOOP)
        snprintf(buf, len, "spins in %s (no platform point)", fn);
    else if (s.lock_wait)
        snprintf(buf, len, "waits for a lock in %s%s", fn, off);
    else
        snprintf(buf, len, "polls in %s%s", fn, off);
}

/* Device-TLB invalidations sent and not yet answered, by endpoint and ITag (a few at most). */
#define PENDING_ATS 64

struct pending_ats {
    size_t n;
    struct {
        int16_t ep;
        uint32_t itag;
    } v[PENDING_ATS];
};

static void ats_sent(struct pending_ats *p, const hw_event *e)
{
    if (p->n < PENDING_ATS) {
        p->v[p->n].ep = e->ep;
        p->v[p->n++].itag = e->c;
    }
}

static void ats_answered(struct pending_ats *p, const hw_event *e)
{
    for (size_t k = 0; k < p->n; k++)
        if (p->v[k].ep == e->ep && p->v[k].itag == e->c) {
            p->v[k] = p->v[--p->n];
            return;
        }
}

/* The first fault injected in ev[0, at), by its catalog name. */
static const char *first_planned(const hw_event *ev, size_t at)
{
    /* A DMA attempt of the plan is the workload probing, not a fault: passed over. */
    for (size_t i = 0; i < at; i++)
        if (ev[i].kind == HW_EV_FAULT_INJECT)
            return sc_fault_name((enum hw_fault)ev[i].c);
    return NULL;
}

/* What started it: the first IOMMU error before the finding (log position `at`); else a
 * device-TLB invalidation never answered by the end of the run; else the first fault-plan
 * event before the finding; else "none". */
static const char *trigger(const struct chk_exec *x, size_t at)
{
    size_t n;
    const hw_event *ev = hw_events(x->hw, &n);
    if (at > n)
        at = n;
    struct pending_ats ats = {.n = 0};
    for (size_t i = 0; i < n; i++) {
        unsigned k = ev[i].kind;
        if (i < at && (k == HW_EV_ITE || k == HW_EV_IQE || k == HW_EV_ICE))
            return k == HW_EV_ITE ? "ITE" : k == HW_EV_IQE ? "IQE" : "ICE";
        if (k == HW_EV_ATS_REQ)
            ats_sent(&ats, &ev[i]);
        else if (k == HW_EV_ATS_CPL)
            ats_answered(&ats, &ev[i]);
    }
    if (ats.n)
        return "unanswered device-TLB invalidation";
    const char *planned = first_planned(ev, at);
    return planned ? planned : "none";
}

/* Fill where and trigger of a failing verdict (nothing for a pass, a cut or an internal error). */
static void signature(const struct chk_exec *x, const struct judgement *j, chk_result *res)
{
    res->where[0] = res->trigger[0] = '\0';
    if (j->v == CHK_PASS || j->v >= CHK_INCOMPLETE)
        return;
    if (j->v == CHK_HANG || j->v == CHK_HARD_LOCKUP)
        stuck_where(x, res, res->where, sizeof(res->where));
    else
        str_copy_cut(res->where, sizeof(res->where), j->where);
    str_copy_cut(res->trigger, sizeof(res->trigger), trigger(x, j->at));
}

int chk_signature(const chk_result *r, char *buf, size_t len)
{
    return snprintf(buf, len, "%s: %s, after %s", chk_verdict_name(r->verdict),
                    r->where[0] ? r->where : "?", r->trigger[0] ? r->trigger : "none");
}

bool chk_same_signature(const chk_result *a, const chk_result *b)
{
    return a->verdict == b->verdict && !strcmp(a->where, b->where) &&
           !strcmp(a->trigger, b->trigger);
}

void chk_judge(struct chk_exec *x, chk_result *res)
{
    struct judgement j; /* why, where and at are read only once fire() wrote them */
    j.v = CHK_PASS;
    j.why[0] = '\0';
    if (res->outcome.stop == SIM_STOP_INFEASIBLE) { /* no behaviour: nothing to judge */
        res->verdict = CHK_PASS;
        str_copy_cut(res->why, sizeof(res->why), res->outcome.why);
        res->where[0] = res->trigger[0] = '\0';
        return;
    }
    judge_outcome(res, &j);
    if (j.v == CHK_INTERNAL || j.v == CHK_INCOMPLETE) { /* an aborted or cut run proves
                                                           nothing either way */
        res->verdict = j.v;
        str_copy_cut(res->why, sizeof(res->why), j.why);
        res->where[0] = res->trigger[0] = '\0';
        return;
    }
    struct log_scan ls;
    scan_log(x, &ls);
    judge_lost(x, &ls, &j);
    judge_dma(x, &ls, &j);
    judge_queue(x, &ls, &j);
    judge_deadline(x, &j);
    judge_failures(x, &j);
    judge_leak(x, res, &j);
    res->verdict = j.v;
    str_copy_cut(res->why, sizeof(res->why), j.v == CHK_PASS ? "every oracle held" : j.why);
    signature(x, &j, res);
    for (size_t k = 0; k < x->nsubs; k++) {
        res->submits += x->subs[k]->done;
        res->failed_submits += x->subs[k]->done && x->subs[k]->rc != DRV_OK;
    }
}

void chk_explain(const struct chk_exec *x, const chk_result *res, FILE *out)
{
    char what[600];
    (void)x;
    snprintf(what, sizeof(what), "%s: %s", chk_verdict_name(res->verdict), res->why);
    rep_timeline_line(out, res->outcome.t, "check", -1, what);
}
