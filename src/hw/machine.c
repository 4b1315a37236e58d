/*
 * machine.c — the model's frame: configuration defaults and checks, creation, and the
 * virtual clock with its queue of timed hardware actions (a binary min-heap ordered by time,
 * then by scheduling order, so equal-time actions run deterministically).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_internal.h"
#include "util/grow.h"

void hw_config_default(hw_config *c)
{
    memset(c, 0, sizeof(*c));
    c->ver = 0x60;
    c->cap = 2ull                              /* ND: 8-bit domain ids */
             | (0x6ull << VTD_CAP_SAGAW_SHIFT) /* 39- and 48-bit (3/4-level) tables */
             | (47ull << VTD_CAP_MGAW_SHIFT)   /* MGAW 48 */
             | VTD_CAP_PSI | (18ull << VTD_CAP_MAMV_SHIFT) | VTD_CAP_DWD | VTD_CAP_DRD;
    c->ecap = VTD_ECAP_C | VTD_ECAP_QI | VTD_ECAP_DT | VTD_ECAP_IR | VTD_ECAP_SMTS |
              VTD_ECAP_PASID | (15ull << VTD_ECAP_MHMV_SHIFT);
    c->haw = 46;
    c->mem_bytes = 16u << 20;
    c->head_policy = HW_HEAD_FETCH;
    c->fetch_window = 8;
    c->devtlb_max_outstanding = 32;
    c->ite_timeout = 1 * HW_S;
    c->itesid = true;
    c->iqercd = true;
    c->status_fault_iqe = false;
    c->strict_reserved = true;
    c->ite_discard = true;
    c->disable_policy = HW_DISABLE_REFUSE_BUSY;
    c->fetch_cost = 20;
    c->exec_cost = 50;
    c->wait_cost = 20;
    c->gcmd_latency = 100;
}

/* Arrays a destroyed machine leaves to the next one created on the same thread, so that an
 * execution of the checker does not regrow its event log, action heap and descriptor copies
 * from nothing. What is handed over is capacity only: a new machine starts with every length at
 * zero and reads only elements it wrote itself, so the old contents never show (the published
 * slots are read only under their valid bits, which enabling the queue clears). */
static _Thread_local struct {
    struct hw_act *acts;
    size_t cap_acts;
    hw_event *log;
    size_t cap_log;
    vtd_desc *fetched;
    size_t cap_fetched;
    vtd_desc *rejected;
    size_t cap_rejected;
    vtd_desc *published; /* with its valid bits after cap_published descriptors (queue.c) */
    size_t cap_published;
} spare_arrays;

/* The machine itself (20 KiB, most of it the queue window, the translation caches and the
 * endpoint slots) is handed to the next machine too, instead of a calloc and free per
 * execution. Invariant of the spare: every byte is zero, as calloc gives. A destroyed machine
 * restores that by zeroing all of it but the parts of four arrays that were never written:
 * the window's slots are written in ring order from slot 0 (pipe_used marks the highest, and
 * emptying the window restarts at 0), the context cache and IOTLB are filled in order from
 * slot 0 (ctx_used, iotlb_used only grow, and a fill writes slot *_next, which is *_used - 1
 * after it until the cache is full), and endpoint slots from 0 (hw_ep_add writes slot nep,
 * then counts it). With the memory audit on (hw.h, hw_mem_set_audit) a machine taken from the
 * spare is checked to be all zero. */
static _Thread_local hw_machine *spare_machine;

_Static_assert(offsetof(hw_machine, pipe) < offsetof(hw_machine, ctx) &&
                   offsetof(hw_machine, ctx) < offsetof(hw_machine, iotlb) &&
                   offsetof(hw_machine, iotlb) < offsetof(hw_machine, ep),
               "machine_scrub zeroes around pipe, ctx, iotlb and ep in this order");

/* Zero [from, to) of the machine's bytes. */
static void zero_bytes(hw_machine *m, size_t from, size_t to)
{
    memset((char *)m + from, 0, to - from);
}

/* An array of the machine of which only a prefix may have been written. */
struct written {
    size_t at, used, size; /* offset, bytes of the prefix, bytes of the array */
};

static void machine_scrub(hw_machine *m)
{
    size_t nep = (size_t)m->nep + 1 < HW_MAX_EP ? (size_t)m->nep + 1 : HW_MAX_EP;
    /* The counts live in the bytes zeroed: read them all first. In address order. */
    const struct written parts[] = {
        {offsetof(hw_machine, pipe), m->pipe_used * sizeof(m->pipe[0]), sizeof(m->pipe)},
        {offsetof(hw_machine, ctx), m->ctx_used * sizeof(m->ctx[0]), sizeof(m->ctx)},
        {offsetof(hw_machine, iotlb), m->iotlb_used * sizeof(m->iotlb[0]), sizeof(m->iotlb)},
        {offsetof(hw_machine, ep), nep * sizeof(m->ep[0]), sizeof(m->ep)},
    };
    size_t from = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        zero_bytes(m, from, parts[i].at + parts[i].used);
        from = parts[i].at + parts[i].size;
    }
    zero_bytes(m, from, sizeof(*m));
}

static hw_machine *machine_new(void)
{
    hw_machine *m = spare_machine;
    if (!m)
        return calloc(1, sizeof(*m));
    spare_machine = NULL;
    if (hw_mem_audit_on()) {
        const unsigned char *b = (const unsigned char *)m;
        for (size_t i = 0; i < sizeof(*m); i++)
            if (b[i]) {
                fprintf(stderr, "qinval: internal error: reused hw_machine byte %zu is %u\n", i,
                        b[i]);
                abort();
            }
    }
    return m;
}

static const char *config_error(const hw_config *c)
{
    if (c->fetch_window < 1 || c->fetch_window > HW_MAX_WINDOW)
        return "fetch_window must be 1..64";
    if (c->devtlb_max_outstanding < 1 || c->devtlb_max_outstanding > HW_MAX_ATS)
        return "devtlb_max_outstanding must be 1..32";
    if (c->mem_bytes < 64 * 1024 || c->mem_bytes > (1ull << 30) || c->mem_bytes % HW_PAGE_SIZE)
        return "mem_bytes must be a multiple of 4 KiB between 64 KiB and 1 GiB";
    if (c->ite_timeout == 0)
        return "ite_timeout must be positive";
    if (c->haw < 32 || c->haw > 52)
        return "haw must be 32..52";
    if (!(c->ecap & VTD_ECAP_QI))
        return "ECAP.QI must be set: the model is a queued-invalidation interface";
    if (c->head_policy != HW_HEAD_FETCH && c->head_policy != HW_HEAD_COMPLETE)
        return "head_policy must be fetch or complete";
    if (c->disable_policy != HW_DISABLE_REFUSE_BUSY && c->disable_policy != HW_DISABLE_DROP &&
        c->disable_policy != HW_DISABLE_REFUSE_UNLESS_WAIT)
        return "disable_policy must be refuse-busy, drop or refuse-unless-wait";
    return NULL;
}

hw_machine *hw_create(const hw_config *cfg, const char **err)
{
    const char *why = config_error(cfg);
    if (why) {
        if (err)
            *err = why;
        return NULL;
    }
    hw_machine *m = machine_new();
    if (!m) {
        if (err)
            *err = "out of memory";
        return NULL;
    }
    m->cfg = *cfg;
    SPARE_TAKE(m->acts, m->cap_acts, spare_arrays.acts, spare_arrays.cap_acts);
    SPARE_TAKE(m->log, m->cap_log, spare_arrays.log, spare_arrays.cap_log);
    SPARE_TAKE(m->fetched, m->cap_fetched, spare_arrays.fetched, spare_arrays.cap_fetched);
    SPARE_TAKE(m->rejected, m->cap_rejected, spare_arrays.rejected, spare_arrays.cap_rejected);
    SPARE_TAKE(m->published, m->cap_published, spare_arrays.published, spare_arrays.cap_published);
    if (m->published) /* enabling the queue clears the bits it uses (queue.c, published_reset) */
        m->published_valid = (uint64_t *)(void *)(m->published + m->cap_published);
    hw_mem_init(m);
    if (!m->ram || !m->pages) {
        hw_destroy(m);
        if (err)
            *err = "out of memory for simulated RAM";
        return NULL;
    }
    m->pump_at = HW_NEVER;
    m->pump_due = HW_NEVER;
    m->fetch_ready_at = HW_NEVER;
    hw_regs_reset(m);
    return m;
}

void hw_destroy(hw_machine *m)
{
    if (!m)
        return;
    ep_free_all(m);
    hw_mem_fini(m);
    SPARE_KEEP(spare_arrays.acts, spare_arrays.cap_acts, m->acts, m->cap_acts);
    SPARE_KEEP(spare_arrays.log, spare_arrays.cap_log, m->log, m->cap_log);
    SPARE_KEEP(spare_arrays.fetched, spare_arrays.cap_fetched, m->fetched, m->cap_fetched);
    SPARE_KEEP(spare_arrays.rejected, spare_arrays.cap_rejected, m->rejected, m->cap_rejected);
    SPARE_KEEP(spare_arrays.published, spare_arrays.cap_published, m->published, m->cap_published);
    machine_scrub(m);
    free(spare_machine);
    spare_machine = m;
}

void hw_thread_done(void)
{
    free(spare_arrays.acts);
    free(spare_arrays.log);
    free(spare_arrays.fetched);
    free(spare_arrays.rejected);
    free(spare_arrays.published);
    memset(&spare_arrays, 0, sizeof(spare_arrays));
    free(spare_machine);
    spare_machine = NULL;
    hw_mem_thread_done();
    hw_ep_thread_done();
}

const hw_config *hw_get_config(const hw_machine *m)
{
    return &m->cfg;
}

hw_time hw_now(const hw_machine *m)
{
    return m->now;
}

/* ---- the action heap ---- */

static bool act_before(const struct hw_act *x, const struct hw_act *y)
{
    return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

void hw_schedule(hw_machine *m, const struct hw_act *a)
{
    GROW(m->acts, m->nacts, m->cap_acts, 64);
    hw_actions_changed(m);
    size_t i = m->nacts++;
    struct hw_act item = *a;
    item.seq = m->act_seq++;
    if (item.t < m->now)
        item.t = m->now;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!act_before(&item, &m->acts[parent]))
            break;
        m->acts[i] = m->acts[parent];
        i = parent;
    }
    m->acts[i] = item;
}

/* Remove the first action (the heap's top; read it before if it is wanted). The last element
 * is sifted down from the top where it stands: it lies past the heap once nacts is lowered, so
 * the sift, which writes only below nacts, never overwrites it. */
static void drop_first(hw_machine *m)
{
    size_t n = --m->nacts;
    const struct hw_act *last = &m->acts[n];
    hw_actions_changed(m);
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, min = i;
        const struct hw_act *cand = last;
        if (l < n && act_before(&m->acts[l], cand)) {
            min = l;
            cand = &m->acts[l];
        }
        if (r < n && act_before(&m->acts[r], cand))
            min = r;
        if (min == i)
            break;
        m->acts[i] = m->acts[min];
        i = min;
    }
    if (n)
        m->acts[i] = *last;
}

void hw_schedule_pump(hw_machine *m, hw_time t)
{
    m->pump_due = t < m->now ? m->now : t;
    m->pump_seq = m->act_seq++;
    hw_actions_changed(m);
}

/* An action that will do nothing when it runs: an ITag timer whose request was answered (or
 * forgotten). */
static bool act_stale(const hw_machine *m, const struct hw_act *a)
{
    if (a->kind == ACT_ATS_TIMEOUT)
        return !(m->ats_used & 1u << a->a) || m->ats[a->a].gen != a->gen;
    return false;
}

/* Is the pending pump (if any) the next action: before the heap's first in (time, seq)? */
static bool pump_first(const hw_machine *m)
{
    if (m->pump_due == HW_NEVER)
        return false;
    if (!m->nacts)
        return true;
    const struct hw_act *top = &m->acts[0];
    return m->pump_due < top->t || (m->pump_due == top->t && m->pump_seq < top->seq);
}

/* Time of the next action, stale or not, or HW_NEVER. */
static hw_time next_act_time(const hw_machine *m)
{
    hw_time t = m->nacts ? m->acts[0].t : HW_NEVER;
    return m->pump_due < t ? m->pump_due : t;
}

static __attribute__((noinline)) void drop_stale(hw_machine *m)
{
    while (m->nacts && act_stale(m, &m->acts[0]))
        drop_first(m);
}

static __attribute__((noinline)) hw_time find_next_event(hw_machine *m)
{
    if (m->nacts && act_stale(m, &m->acts[0]))
        drop_stale(m);
    m->next_event = next_act_time(m);
    m->next_known = true;
    return m->next_event;
}

/* Stale actions are dropped here rather than when they become stale: the scheduler asks when
 * the hardware acts next to decide how far time may jump and whether anything is pending at
 * all, and a dead timer must answer neither (a request answered in time would otherwise keep
 * a time-out 60 s ahead "pending", delaying a proved hang by that long). Asked at every
 * scheduler iteration and before most of the simulated CPUs' memory accesses, mostly with
 * nothing changed since the last time: the answer is kept (next_event). */
hw_time hw_next_event(hw_machine *m)
{
    return m->next_known ? m->next_event : find_next_event(m);
}

static void run_act(hw_machine *m, const struct hw_act *a)
{
    switch (a->kind) {
    case ACT_GCMD:
        hw_gcmd_apply(m, a->a);
        break;
    case ACT_EP_ANSWER:
        ep_answer(m, a);
        break;
    case ACT_ATS_TIMEOUT:
        qi_ats_timeout(m, a->a, a->gen);
        break;
    case ACT_FAULT:
        ep_fault(m, a);
        break;
    case ACT_FLR_DONE:
        ep_flr_done(m, a);
        break;
    case ACT_DMA: {
        uint32_t v = 0x5a5a5a5a;
        hw_ep_dma(m, a->ep, a->b, a->a != 0, &v, NULL);
        break;
    }
    }
}

static void run_pump(hw_machine *m)
{
    if (m->pump_due > m->now)
        m->now = m->pump_due;
    m->pump_due = HW_NEVER; /* before it runs: the pump asks for the next one */
    m->acts_run++;
    hw_actions_changed(m);
    qi_pump(m);
}

static void run_first_act(hw_machine *m)
{
    struct hw_act a = m->acts[0];
    drop_first(m);
    if (a.t > m->now)
        m->now = a.t;
    m->acts_run++;
    run_act(m, &a);
}

bool hw_step(hw_machine *m)
{
    if (pump_first(m))
        run_pump(m);
    else if (m->nacts)
        run_first_act(m);
    else
        return false;
    return true;
}

/* Run every action due at or before t (hw_step() while next_act_time() <= t, with a time of
 * HW_NEVER never due). */
static void run_until(hw_machine *m, hw_time t)
{
    for (;;) {
        if (pump_first(m)) { /* pump_due is not HW_NEVER */
            if (m->pump_due > t)
                return;
            run_pump(m);
        } else {
            if (!m->nacts || m->acts[0].t > t || m->acts[0].t == HW_NEVER)
                return;
            run_first_act(m);
        }
    }
}

static __attribute__((noinline)) void advance_slow(hw_machine *m, hw_time t)
{
    run_until(m, t);
    m->now = t;
}

/* Called at most scheduling points of the simulation, mostly with nothing due: that case
 * stays out of the loop, which (with the pump inlined) saves many registers on entry. It
 * asks hw_next_event(), whose answer is mostly known already; the stale actions it may drop
 * would only have been run as no-ops. */
int hw_advance(hw_machine *m, hw_time t)
{
    if (t < m->now)
        return -1;
    if (hw_next_event(m) <= t)
        advance_slow(m, t);
    else
        m->now = t;
    return 0;
}

uint64_t hw_acts_run(const hw_machine *m)
{
    return m->acts_run;
}

void hw_set_mem_observer(hw_machine *m, hw_mem_observer fn, void *ctx)
{
    m->mem_obs = fn;
    m->mem_obs_ctx = ctx;
}

hw_time hw_settle(hw_machine *m, hw_time limit)
{
    run_until(m, limit);
    return m->now;
}
