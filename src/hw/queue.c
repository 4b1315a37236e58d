/*
 * queue.c — the queued-invalidation engine inside the IOMMU: fetch from the ring, validate,
 * start descriptors under the ordering rules of spec 6.5.2.12, run device-TLB invalidations as
 * ATS round trips with per-ITag timers, complete wait descriptors, and the three queue errors
 * (IQE, ITE, ICE). Everything happens in pump actions: a register write only schedules a
 * pump "now", so hardware work is always a timed event after the write that caused it.
 *
 * Internal window: fetched descriptors sit in pipe[] in fetch order until they are done and
 * everything before them is done (retire). head_policy decides whether IQH follows the fetch
 * pointer (spec: after fetch + validation) or the retire point (after completion).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_internal.h"
#include "util/grow.h"

static uint32_t q_next(const hw_machine *m, uint32_t i)
{
    return (i + 1) & (m->q_entries - 1); /* a power of two (vtd_queue_entries) */
}

static struct qi_ent *ent_at(hw_machine *m, unsigned k) /* k-th oldest in the window */
{
    return &m->pipe[(m->pipe_first + k) % HW_MAX_WINDOW];
}

static const struct qi_ent *ent_at_c(const hw_machine *m, unsigned k)
{
    return &m->pipe[(m->pipe_first + k) % HW_MAX_WINDOW];
}

/* x has started: it is no longer a non-wait the pass could not start. */
static void ent_start(struct qi_ent *x)
{
    x->state = ENT_RUNNING;
    x->pend &= ~QI_SEEN_STALLED;
}

/* x is done: it neither starts nor completes again, and adds nothing to what a pass sees. */
static void ent_done(struct qi_ent *x)
{
    x->state = ENT_DONE;
    x->done_at = HW_NEVER;
    x->pend = 0;
}

static unsigned desc_bytes(const hw_machine *m)
{
    return m->q_dw256 ? 32u : 16u;
}

/* The descriptor at ram + pa, desc_bytes() of it (q_dw256: 32, else 16), into d->qw. Two
 * fixed-size copies rather than one of variable size, which would be a call. */
static void read_desc(const hw_machine *m, hw_paddr pa, vtd_desc *d)
{
    memcpy(d->qw, m->ram + pa, 16);
    if (m->q_dw256)
        memcpy(d->qw + 2, m->ram + pa + 16, 16);
    if (m->mem_obs)
        m->mem_obs(m->mem_obs_ctx, pa, desc_bytes(m), false);
}

/* Do the desc_bytes() of two descriptors differ? */
static bool desc_differs(const hw_machine *m, const vtd_desc *a, const vtd_desc *b)
{
    uint64_t diff = (a->qw[0] ^ b->qw[0]) | (a->qw[1] ^ b->qw[1]);
    if (m->q_dw256)
        diff |= (a->qw[2] ^ b->qw[2]) | (a->qw[3] ^ b->qw[3]);
    return diff != 0;
}

/* IQT as a slot index of the queue's descriptor width. Kept in q_tail, since the register
 * changes only in qi_tail_written() and the width only in qi_enable(). */
static uint32_t iqt_slot(const hw_machine *m)
{
    return (uint32_t)(m->r.iqt >> vtd_desc_shift(m->q_dw256));
}

static uint32_t tail_index(const hw_machine *m)
{
    return m->q_tail;
}

uint8_t qi_ttm(const hw_machine *m)
{
    return (uint8_t)((m->rtaddr_latched & VTD_RTADDR_TTM_MASK) >> VTD_RTADDR_TTM_SHIFT);
}

static void set_head(hw_machine *m, uint32_t head)
{
    if (head == m->head)
        return;
    hw_event *e = hw_log_add(m, HW_EV_HEAD, -1, (int32_t)head);
    e->a = m->head;
    m->head = head;
}

/* A pump pending at pump_at covers every request at or after it: the pump does all that is
 * due when it runs and asks for the next one itself (qi_pump). */
static void schedule_pump(hw_machine *m, hw_time t)
{
    if (t >= m->pump_at)
        return;
    m->pump_at = t;
    hw_schedule_pump(m, t);
}

void qi_kick(hw_machine *m)
{
    if (m->qi_on)
        schedule_pump(m, m->now);
}

/* An entry of the window changed, or a request slot was freed, other than by the pump's pass:
 * the next pump passes over the whole window again. */
static void unsettle(hw_machine *m)
{
    m->win_settled = false;
}

/* ---- enable / disable ---- */

/* Forget the fetched work. ATS requests in flight keep their ITag and timer (the request is
 * out on the link) but no longer belong to a descriptor. */
static void drop_window(hw_machine *m)
{
    unsettle(m);
    m->pipe_first = 0;
    m->pipe_n = 0;
    for (uint32_t u = m->ats_used; u; u &= u - 1)
        m->ats[__builtin_ctz(u)].orphan = true;
}

/* Request slot i is free again: its ITag is released, and its timer is stale from now on (its
 * generation no longer matches), which changes what hw_next_event() answers. (Its callers run
 * as actions, whose start has already made hw_next_event() look again; this keeps the rule
 * where the slot is freed.) */
static void ats_release(hw_machine *m, unsigned i)
{
    m->ats_used &= ~(1u << i);
    m->ats[i].gen++;
    unsettle(m);
    hw_actions_changed(m);
}

/* Disabling QI resets the invalidation unit: outstanding ITags are released and their timers
 * cancelled (a late completion then raises ICE). */
static void release_ats(hw_machine *m)
{
    unsettle(m);
    hw_actions_changed(m);
    m->ats_used = 0;
    for (unsigned i = 0; i < HW_MAX_ATS; i++)
        m->ats[i].gen++;
}

/* ---- published slots: what software handed over with a tail write ----
 *
 * A slot between the tail write that published it and its fetch belongs to the hardware:
 * software changing it then is queue corruption (the queue_corruption oracle), even with a
 * well-formed descriptor, since the hardware may already have read it. The one sanctioned
 * exception is a repair while the queue is stopped by IQE or ITE (fix the bad slot, neutralise
 * a dead device's work): clearing the error accepts the ring as it then is.
 */
static unsigned tail_error(const hw_machine *m);
static void raise_iqe(hw_machine *m, unsigned iqei, uint64_t ref);

static void publish(hw_machine *m, uint32_t from, uint32_t to)
{
    size_t bytes = desc_bytes(m);
    bool ring_in_range = hw_mem_in_range(m, m->q_base, (size_t)m->q_entries * bytes);
    for (uint32_t s = from; s != to && s < m->q_entries; s = q_next(m, s)) {
        hw_paddr pa = m->q_base + (hw_paddr)s * bytes;
        uint64_t bit = 1ull << s % 64;
        /* a slot in range is copied: the bytes compared at fetch are the bytes copied */
        if (ring_in_range || hw_mem_in_range(m, pa, bytes)) {
            m->published_valid[s / 64] |= bit;
            read_desc(m, pa, &m->published[s]);
        } else {
            m->published_valid[s / 64] &= ~bit;
        }
    }
}

void qi_errors_cleared(hw_machine *m)
{
    if (m->qi_on && !tail_error(m))
        publish(m, m->fetch_ptr, tail_index(m));
}

/* At fetch: compare with what was published, then the slot is consumed. */
static void check_published(hw_machine *m, const vtd_desc *d)
{
    uint32_t s = m->fetch_ptr;
    uint64_t bit = 1ull << s % 64;
    if ((m->published_valid[s / 64] & bit) && desc_differs(m, &m->published[s], d)) {
        hw_event *v = hw_log_add(m, HW_EV_SW_VIOLATION, -1, (int32_t)m->fetch_ptr);
        v->c = HW_VIOL_SLOT_REWRITTEN;
        v->a = m->fetch_ptr;
    }
    m->published_valid[s / 64] &= ~bit;
}

/* Room for q_entries published slots and their bits, all bits clear. */
static void published_reset(hw_machine *m)
{
    size_t words = (m->q_entries + 63) / 64;
    if (m->cap_published < m->q_entries) {
        grow_in_alloc = 1;
        vtd_desc *p = realloc(m->published, m->q_entries * sizeof(*p) + words * sizeof(uint64_t));
        grow_in_alloc = 0;
        if (!p)
            grow_out_of_memory(m->q_entries * sizeof(*p) + words * sizeof(uint64_t),
                               "the queue's published slots");
        m->published = p;
        m->cap_published = m->q_entries;
        m->published_valid = (uint64_t *)(void *)(p + m->q_entries);
    }
    memset(m->published_valid, 0, words * sizeof(uint64_t));
}

void qi_enable(hw_machine *m)
{
    uint64_t iqa = m->r.iqa;
    m->q_base = iqa & VTD_IQA_ADDR_MASK;
    m->q_dw256 = (iqa & VTD_IQA_DW) != 0;
    qi_ctx_changed(m);
    m->q_entries = vtd_queue_entries((unsigned)(iqa & VTD_IQA_QS_MASK), m->q_dw256);
    m->q_tail = iqt_slot(m);
    m->head = 0;
    m->fetch_ptr = 0;
    published_reset(m);
    drop_window(m);
    m->fetch_ready_at = HW_NEVER;
    m->qi_on = true;
    m->iqe_hold = false;
    m->r.gsts |= (uint32_t)VTD_GSTS_QIES;
    hw_event *e = hw_log_add(m, HW_EV_QI_ENABLE, -1, -1);
    e->a = iqa;
    e->b = m->q_entries;
    e->c = desc_bytes(m);
    if (m->r.iqt != 0) {
        hw_event *v = hw_log_add(m, HW_EV_SW_VIOLATION, -1, -1);
        v->c2 = m->actor; /* during the register write that broke the protocol */
        v->c = HW_VIOL_ENABLE_TAIL;
        v->a = m->r.iqt;
        /* the tail in IQT is checked and published as a tail write would be */
        unsigned err = tail_error(m);
        if (err && !(m->r.fsts & VTD_FSTS_IQE))
            raise_iqe(m, err, 0);
        else if (!err)
            publish(m, 0, tail_index(m));
    }
    qi_kick(m);
}

/* Bits are counted by clearing the lowest one at a time: the build targets no particular
 * x86-64 level, so __builtin_popcount is a call into libgcc, and few requests are out. */
static unsigned ats_outstanding(const hw_machine *m)
{
    unsigned n = 0;
    for (uint32_t u = m->ats_used; u; u &= u - 1)
        n++;
    return n;
}

bool qi_busy(const hw_machine *m)
{
    return m->fetch_ptr != tail_index(m) || m->pipe_n > 0 || m->ats_used != 0;
}

/* Does the disable policy keep QI enabled? */
static bool disable_refused(const hw_machine *m)
{
    switch (m->cfg.disable_policy) {
    case HW_DISABLE_REFUSE_BUSY:
        return qi_busy(m);
    case HW_DISABLE_REFUSE_UNLESS_WAIT:
        return qi_busy(m) || !m->last_fetched_wait;
    default:
        return false;
    }
}

void qi_disable(hw_machine *m)
{
    if (disable_refused(m)) {
        hw_event *v = hw_log_add(m, HW_EV_SW_VIOLATION, -1, -1);
        v->c2 = m->actor; /* during the register write that broke the protocol */
        v->c = HW_VIOL_DISABLE_BUSY;
        v->a = m->head;
        v->b = tail_index(m);
        return;
    }
    if (qi_busy(m)) {
        hw_event *v = hw_log_add(m, HW_EV_SW_VIOLATION, -1, -1);
        v->c2 = m->actor; /* during the register write that broke the protocol */
        v->c = HW_VIOL_DISABLE_BUSY;
        v->a = m->head;
        v->b = tail_index(m);
    }
    drop_window(m);
    release_ats(m);
    m->qi_on = false;
    m->r.gsts &= ~(uint32_t)VTD_GSTS_QIES;
    set_head(m, 0);
    m->fetch_ptr = 0;
    m->fetch_ready_at = HW_NEVER;
    hw_log_add(m, HW_EV_QI_DISABLE, -1, -1);
}

/* ---- errors ---- */

static uint64_t remember_rejected(hw_machine *m, const vtd_desc *d);

/* `ref`: hw_rejected() reference of the offending descriptor, 0 for register-level causes. */
static void raise_iqe(hw_machine *m, unsigned iqei, uint64_t ref)
{
    m->r.iqercd = (m->r.iqercd & ~VTD_IQERCD_IQEI_MASK) | (iqei & VTD_IQERCD_IQEI_MASK);
    hw_event *e = hw_log_add(m, HW_EV_IQE, -1, (int32_t)m->fetch_ptr);
    e->c = iqei;
    e->b = ref;
    hw_raise_error(m, VTD_FSTS_IQE);
    m->iqe_hold = m->cfg.iqe_resume_on_tail;
}

static unsigned tail_error(const hw_machine *m)
{
    if (m->q_dw256 && (m->r.iqt & VTD_BIT(4)))
        return VTD_IQEI_TAIL_ALIGN;
    if (tail_index(m) >= m->q_entries)
        return VTD_IQEI_TAIL;
    return 0;
}

void qi_tail_written(hw_machine *m, uint64_t old_iqt)
{
    m->q_tail = iqt_slot(m);
    if (!m->qi_on)
        return;
    unsigned shift = vtd_desc_shift(m->q_dw256);
    uint32_t old_tail = (uint32_t)(old_iqt >> shift), new_tail = tail_index(m);
    hw_event *e = hw_log_add(m, HW_EV_TAIL, -1, (int32_t)new_tail);
    e->a = old_tail;
    if (!(m->r.fsts & VTD_FSTS_IQE))
        m->iqe_hold = false; /* cfg.iqe_resume_on_tail: the write that resumes fetching */
    unsigned err = tail_error(m);
    if (err) {
        if (!(m->r.fsts & VTD_FSTS_IQE))
            raise_iqe(m, err, 0);
        return;
    }
    uint32_t n = m->q_entries;
    if (old_tail < n && (new_tail + n - m->fetch_ptr) % n < (old_tail + n - m->fetch_ptr) % n) {
        hw_event *v = hw_log_add(m, HW_EV_SW_VIOLATION, -1, -1);
        v->c2 = m->actor; /* during the register write that broke the protocol */
        v->c = HW_VIOL_TAIL_BACKWARDS;
        v->a = old_tail;
        v->b = new_tail;
    } else if (old_tail < n) {
        publish(m, old_tail, new_tail);
    }
    qi_kick(m);
}

/* Abort every fetched wait not yet complete; with ite_discard also drop unstarted work. */
static void ite_abort_window(hw_machine *m)
{
    unsettle(m);
    for (unsigned k = 0; k < m->pipe_n; k++) {
        struct qi_ent *x = ent_at(m, k);
        if (x->state == ENT_DONE || x->dead)
            continue;
        if (x->type == VTD_DESC_WAIT) {
            x->dead = true;
            ent_done(x);
            hw_event *e = hw_log_add(m, HW_EV_WAIT_ABORT, -1, (int32_t)x->slot);
            e->b = x->serial;
        } else if (x->state == ENT_FETCHED && m->cfg.ite_discard) {
            x->dead = true;
            ent_done(x);
            hw_event *e = hw_log_add(m, HW_EV_DISCARD, -1, (int32_t)x->slot);
            e->a = x->type;
            e->b = x->serial;
        }
    }
}

/* Complete policy: nothing past IQH was "consumed", so the whole window is dropped and the
 * hardware fetches it again from IQH once ITE is cleared. */
static void ite_rewind(hw_machine *m)
{
    for (unsigned k = 0; k < m->pipe_n; k++) {
        struct qi_ent *x = ent_at(m, k);
        if (x->type == VTD_DESC_WAIT && x->state != ENT_DONE) {
            hw_event *e = hw_log_add(m, HW_EV_WAIT_ABORT, -1, (int32_t)x->slot);
            e->b = x->serial;
        } else if (x->state != ENT_DONE) {
            hw_event *e = hw_log_add(m, HW_EV_DISCARD, -1, (int32_t)x->slot);
            e->a = x->type;
            e->b = x->serial;
        }
    }
    drop_window(m);
    m->fetch_ptr = m->head;
}

static void raise_ite(hw_machine *m, const struct ats_req *r)
{
    if (!(m->r.fsts & VTD_FSTS_ITE) && m->cfg.itesid)
        m->r.iqercd = (m->r.iqercd & ~(0xFFFFull << VTD_IQERCD_ITESID_SHIFT)) |
                      (uint64_t)r->sid << VTD_IQERCD_ITESID_SHIFT;
    hw_event *e = hw_log_add(m, HW_EV_ITE, r->ep, (int32_t)r->slot);
    e->a = r->sid;
    e->c = r->itag;
    hw_raise_error(m, VTD_FSTS_ITE);
    if (m->cfg.head_policy == HW_HEAD_COMPLETE)
        ite_rewind(m);
    else
        ite_abort_window(m);
    m->fetch_ready_at = HW_NEVER;
}

static struct qi_ent *find_serial(hw_machine *m, uint32_t serial)
{
    for (unsigned k = 0; k < m->pipe_n; k++)
        if (ent_at(m, k)->serial == serial)
            return ent_at(m, k);
    return NULL;
}

static void log_done(hw_machine *m, const struct qi_ent *x, int ep)
{
    hw_event *e = hw_log_add(m, HW_EV_EXEC_DONE, ep, (int32_t)x->slot);
    e->a = x->type;
    e->b = x->serial;
    e->flags = x->timedout ? HW_EVF_TIMEDOUT : 0;
}

void qi_ats_timeout(hw_machine *m, unsigned idx, uint32_t gen)
{
    struct ats_req *r = &m->ats[idx];
    if (!(m->ats_used & 1u << idx) || r->gen != gen)
        return; /* completed in time */
    struct ats_req req = *r;
    ats_release(m, idx);
    /* Done without effect; under the complete policy the rewind in raise_ite() then makes
     * the hardware fetch it again after the clear. */
    struct qi_ent *x = req.orphan ? NULL : find_serial(m, req.serial);
    if (x) {
        ent_done(x);
        x->timedout = true;
        x->ats = -1;
        log_done(m, x, req.ep);
    }
    raise_ite(m, &req);
    schedule_pump(m, m->now);
}

/* The outstanding request of (sid, itag), or -1. */
static int find_ats(const hw_machine *m, uint16_t sid, unsigned itag)
{
    for (uint32_t u = m->ats_used; u; u &= u - 1) {
        int i = __builtin_ctz(u);
        if (m->ats[i].sid == sid && m->ats[i].itag == itag)
            return i;
    }
    return -1;
}

void qi_ats_completion(hw_machine *m, int ep, uint16_t sid, uint32_t vec)
{
    uint32_t invalid = 0;
    for (uint32_t v = vec; v; v &= v - 1) { /* ITags in increasing order */
        unsigned itag = (unsigned)__builtin_ctz(v);
        int i = find_ats(m, sid, itag);
        if (i < 0) {
            invalid |= 1u << itag;
            continue;
        }
        struct ats_req *r = &m->ats[i];
        ats_release(m, (unsigned)i);
        hw_event *e = hw_log_add(m, HW_EV_ATS_CPL, ep, (int32_t)r->slot);
        e->a = sid;
        e->b = vec;
        e->c = itag;
        struct qi_ent *x = r->orphan ? NULL : find_serial(m, r->serial);
        if (x) {
            ent_done(x);
            x->ats = -1;
            log_done(m, x, ep);
        }
    }
    if (invalid) {
        if (!(m->r.fsts & VTD_FSTS_ICE) && m->cfg.itesid)
            m->r.iqercd = (m->r.iqercd & ~(0xFFFFull << VTD_IQERCD_ICESID_SHIFT)) |
                          (uint64_t)sid << VTD_IQERCD_ICESID_SHIFT;
        hw_event *e = hw_log_add(m, HW_EV_ICE, ep, -1);
        e->a = sid;
        e->b = invalid;
        hw_raise_error(m, VTD_FSTS_ICE);
    }
    schedule_pump(m, m->now);
}

/* ---- starting descriptors ---- */

#define TYPE_BIT(t) (1u << (t)) /* entries' types are defined types (validated) */
_Static_assert(TYPE_BIT(VTD_DESC_HPT) < QI_SEEN_FN, "type bits below the other QI_SEEN_ bits");

/* The types of earlier incomplete descriptors that keep a descriptor of type `later` from
 * starting (spec 6.5.2.12), as TYPE_BIT()s. */
static uint32_t blockers(unsigned later)
{
    switch (later) {
    case VTD_DESC_IOTLB:
    case VTD_DESC_PIOTLB:
        return TYPE_BIT(VTD_DESC_CC) | TYPE_BIT(VTD_DESC_PC);
    case VTD_DESC_PC:
        return TYPE_BIT(VTD_DESC_CC);
    case VTD_DESC_DEVTLB:
        return TYPE_BIT(VTD_DESC_IOTLB) | TYPE_BIT(VTD_DESC_IEC);
    case VTD_DESC_PDEVTLB:
        return TYPE_BIT(VTD_DESC_IOTLB) | TYPE_BIT(VTD_DESC_PIOTLB) | TYPE_BIT(VTD_DESC_IEC);
    }
    return 0;
}

/* The lowest free request slot and the lowest ITag free for sid, or -1 when the limit of
 * outstanding requests is reached or sid has all 32 ITags out. */
static int alloc_ats(const hw_machine *m, uint16_t sid, uint8_t *itag)
{
    uint32_t used = m->ats_used, used_tags = 0;
    unsigned outstanding = 0; /* counted here, not with __builtin_popcount (ats_outstanding) */
    if (used == ~0u)
        return -1;
    for (uint32_t u = used; u; u &= u - 1) {
        const struct ats_req *r = &m->ats[__builtin_ctz(u)];
        outstanding++;
        if (r->sid == sid)
            used_tags |= 1u << r->itag;
    }
    if (outstanding >= m->cfg.devtlb_max_outstanding || used_tags == ~0u)
        return -1;
    *itag = (uint8_t)__builtin_ctz(~used_tags);
    return __builtin_ctz(~used);
}

static void devtlb_target(const vtd_fields *f, uint16_t *sid, uint64_t *start, uint64_t *len)
{
    if (f->type == VTD_DESC_DEVTLB) {
        *sid = f->u.devtlb.sid;
        vtd_devtlb_range(f->u.devtlb.addr, f->u.devtlb.s, start, len);
    } else {
        *sid = f->u.pdevtlb.sid;
        vtd_devtlb_range(f->u.pdevtlb.addr, f->u.pdevtlb.s, start, len);
    }
}

/* The request slot a device-TLB invalidation would take if it started now, or -1. */
static int ats_free(const hw_machine *m, const vtd_fields *f, uint8_t *itag)
{
    uint16_t sid;
    uint64_t start, len;
    devtlb_target(f, &sid, &start, &len);
    return alloc_ats(m, sid, itag);
}

/* Start x, a device-TLB invalidation, as an ATS request; with no request slot or ITag free it
 * stays fetched (and stalled). */
static void start_ats(hw_machine *m, struct qi_ent *x)
{
    uint16_t sid;
    uint64_t start, len;
    uint8_t itag;
    devtlb_target(&x->f, &sid, &start, &len);
    int i = alloc_ats(m, sid, &itag);
    if (i < 0)
        return;
    struct ats_req *r = &m->ats[i];
    m->ats_used |= 1u << i;
    r->orphan = false;
    r->sid = sid;
    r->itag = itag;
    r->ep = (int16_t)hw_ep_find(m, sid);
    r->serial = x->serial;
    r->slot = x->slot;
    r->start = start;
    r->len = len;
    x->ats = (int8_t)i;
    ent_start(x);
    if (!(m->r.gsts & VTD_GSTS_TES)) {
        hw_event *v = hw_log_add(m, HW_EV_SW_VIOLATION, -1, (int32_t)x->slot);
        v->c = HW_VIOL_DEVTLB_TE_OFF;
    }
    hw_event *e = hw_log_add(m, HW_EV_EXEC_START, r->ep, (int32_t)x->slot);
    e->a = x->type;
    e->b = x->serial;
    e->c = itag;
    e = hw_log_add(m, HW_EV_ATS_REQ, r->ep, (int32_t)x->slot);
    e->a = start;
    e->b = len;
    e->c = itag;
    struct hw_act t = {.t = time_add(m->now, m->cfg.ite_timeout),
                       .kind = ACT_ATS_TIMEOUT,
                       .ep = r->ep,
                       .a = (uint32_t)i,
                       .gen = r->gen};
    hw_schedule(m, &t);
    ep_receive_inval(m, sid, itag, start, len, (int32_t)x->slot);
}

/* Start x, a non-wait the ordering rules let start (a device-TLB invalidation only if a request
 * slot is free). */
static void start_entry(hw_machine *m, struct qi_ent *x)
{
    if (x->type == VTD_DESC_DEVTLB || x->type == VTD_DESC_PDEVTLB) {
        start_ats(m, x);
        return;
    }
    ent_start(x);
    x->done_at = time_add(m->now, m->cfg.exec_cost);
    hw_event *e = hw_log_add(m, HW_EV_EXEC_START, -1, (int32_t)x->slot);
    e->a = x->type;
    e->b = x->serial;
}

/* ---- completing descriptors ---- */

static void status_write(hw_machine *m, const struct qi_ent *x, uint64_t addr, uint32_t data)
{
    hw_event *e = hw_log_add(m, HW_EV_STATUS_WRITE, -1, (int32_t)x->slot);
    e->a = addr;
    e->b = data;
    if (!hw_mem_in_range(m, addr, 4)) {
        e->flags = HW_EVF_BADADDR; /* spec: undefined for non-memory; dropped here */
        return;
    }
    e->c = hw_mem_owner(m, addr);
    if (e->c == HW_OWNER_FREE)
        e->flags = HW_EVF_STRAY;
    hw_mem_touch(m, addr, 4);
    memcpy(m->ram + addr, &data, 4); /* little-endian host, as the descriptor memory */
    if (m->mem_obs)
        m->mem_obs(m->mem_obs_ctx, addr, 4, true);
}

/* status_fault_iqe: a status write outside memory fails its wait: IQE with IQH on the wait,
 * everything fetched after it dropped (fetched again from IQH after the clear). */
static bool status_fault(hw_machine *m, const struct qi_ent *x, uint64_t addr)
{
    if (!m->cfg.status_fault_iqe || hw_mem_in_range(m, addr, 4))
        return false;
    uint32_t slot = x->slot;
    drop_window(m);
    set_head(m, slot);
    m->fetch_ptr = slot;
    m->fetch_ready_at = HW_NEVER;
    raise_iqe(m, VTD_IQEI_NO_INFO, 0);
    return true;
}

/* Complete a wait; false if its status write failed it (status_fault). */
static bool complete_wait(hw_machine *m, struct qi_ent *x)
{
    const struct vtd_wait *w = &x->f.u.wait;
    uint64_t addr = w->status_addr & (VTD_MASK(63, 2) & (~0ull >> (64 - m->cfg.haw)));
    if (w->sw && status_fault(m, x, addr))
        return false;
    hw_event *e = hw_log_add(m, HW_EV_WAIT_DONE, -1, (int32_t)x->slot);
    e->a = w->status_data;
    e->b = addr;
    e->flags = (w->sw ? HW_EVF_WAIT_SW : 0) | (w->intr ? HW_EVF_WAIT_IF : 0) |
               (w->fn ? HW_EVF_WAIT_FN : 0);
    if (w->sw)
        status_write(m, x, addr, w->status_data);
    if (w->intr)
        hw_completion_event(m);
    return true;
}

static void complete_entry(hw_machine *m, struct qi_ent *x)
{
    hw_event *e;
    switch (x->type) {
    case VTD_DESC_WAIT:
        if (!complete_wait(m, x))
            return;
        break;
    case VTD_DESC_CC:
        e = hw_log_add(m, HW_EV_CC_INVAL, -1, (int32_t)x->slot);
        e->a = (x->qw0 >> 4) & 3;
        e->b = (x->qw0 >> 16) & 0xFFFFFFFF;
        e->c = xl_cc_invalidate(m, &x->f);
        break;
    case VTD_DESC_IOTLB:
    case VTD_DESC_PIOTLB:
        e = hw_log_add(m, HW_EV_IOTLB_INVAL, -1, (int32_t)x->slot);
        e->a = (x->qw0 >> 4) & 3;
        e->b = (x->qw0 >> 16) & 0xFFFF;
        e->c = xl_iotlb_invalidate(m, &x->f);
        break;
    default: /* iec, pc, page-group response, hpt: no cached state modelled */
        break;
    }
    ent_done(x);
    log_done(m, x, -1);
}

/* ---- the pump ---- */

static bool retire_due(const hw_machine *m)
{
    return m->pipe_n && ent_at_c(m, 0)->state == ENT_DONE;
}

static __attribute__((noinline)) void retire_done(hw_machine *m)
{
    while (retire_due(m)) {
        uint32_t slot = ent_at(m, 0)->slot;
        m->pipe_first = (m->pipe_first + 1) % HW_MAX_WINDOW;
        m->pipe_n--;
        if (m->cfg.head_policy == HW_HEAD_COMPLETE)
            set_head(m, q_next(m, slot));
    }
}

/* Drop the done entries at the front of the window. Mostly there are none: that test is
 * inline. */
static inline void retire(hw_machine *m)
{
    if (retire_due(m))
        retire_done(m);
}

/* ---- the pass's reference: the window as a scan of it finds it ---- */

/* Does an earlier entry keep the k-th from starting? The rule pass_may_start() applies,
 * evaluated by looking at every earlier entry. */
static bool ref_may_start(const hw_machine *m, unsigned k)
{
    unsigned type = ent_at_c(m, k)->type;
    for (unsigned j = 0; j < k; j++) {
        const struct qi_ent *y = ent_at_c(m, j);
        if (y->state == ENT_DONE)
            continue;
        if (y->type == VTD_DESC_WAIT) {
            if (y->qw0 & VTD_BIT(6)) /* FN */
                return false;
            continue;
        }
        if (y->state == ENT_FETCHED || (blockers(type) & TYPE_BIT(y->type)))
            return false;
    }
    return true;
}

static bool ref_all_before_done(const hw_machine *m, unsigned k)
{
    for (unsigned j = 0; j < k; j++)
        if (ent_at_c(m, j)->state != ENT_DONE)
            return false;
    return true;
}

bool qi_window_idle(const hw_machine *m, hw_time *due)
{
    bool stalled = false;
    *due = HW_NEVER;
    for (unsigned k = 0; k < m->pipe_n; k++) {
        const struct qi_ent *x = ent_at_c(m, k);
        if (x->state == ENT_FETCHED && x->type == VTD_DESC_WAIT) {
            if (ref_all_before_done(m, k))
                return false;
        } else if (x->state == ENT_FETCHED && !stalled) {
            uint8_t itag;
            bool ats = x->type == VTD_DESC_DEVTLB || x->type == VTD_DESC_PDEVTLB;
            if (ref_may_start(m, k) && (!ats || ats_free(m, &x->f, &itag) >= 0))
                return false;
            stalled = true;
        } else if (x->state == ENT_RUNNING && x->ats < 0) {
            if (x->done_at <= m->now)
                return false;
            if (x->done_at < *due)
                *due = x->done_at;
        }
    }
    return true;
}

#ifndef NDEBUG
static void internal_error(const char *what)
{
    fprintf(stderr, "qinval: internal error: %s\n", what);
    abort();
}
#endif

/* Builds with assertions check every pump against the reference: what the pass saw before
 * each entry (pass_check), and that the pump left nothing to do (check_settled). */
static void check_settled(const hw_machine *m, hw_time due)
{
#ifdef NDEBUG
    (void)m;
    (void)due;
#else
    hw_time ref_due;
    if (!qi_window_idle(m, &ref_due) || ref_due != due)
        internal_error("the pump left the window unsettled");
#endif
}

/* What a pass over the first k entries sees, by scanning them (the reference for struct
 * qi_pass, as kept by the pass and between pumps in win). */
void qi_window_summary(const hw_machine *m, unsigned k, struct qi_pass *p)
{
    *p = (struct qi_pass){.seen = 0, .next_due = HW_NEVER};
    for (unsigned j = 0; j < k; j++) {
        const struct qi_ent *x = ent_at_c(m, j);
        if (x->state == ENT_DONE)
            continue;
        p->seen |= QI_SEEN_PENDING;
        if (x->type == VTD_DESC_WAIT && (x->qw0 & VTD_BIT(6))) /* FN */
            p->seen |= QI_SEEN_FN;
        else if (x->type != VTD_DESC_WAIT)
            p->seen |= TYPE_BIT(x->type);
        if (x->state == ENT_FETCHED && x->type != VTD_DESC_WAIT)
            p->seen |= QI_SEEN_STALLED;
        if (x->state == ENT_RUNNING && x->ats < 0 && x->done_at < p->next_due)
            p->next_due = x->done_at;
    }
}

/* A pass the pump left out (pass_window): the window must be idle, and what the pump kept of
 * it what a scan finds. */
static void check_skipped(const hw_machine *m, const struct qi_pass *p)
{
#ifdef NDEBUG
    (void)m;
    (void)p;
#else
    struct qi_pass ref;
    hw_time due;
    qi_window_summary(m, m->pipe_n, &ref);
    if (!qi_window_idle(m, &due) || due != p->next_due || !qi_pass_equal(&ref, p))
        internal_error("the window the pump kept is not the window");
#endif
}

/* ---- the pump's pass ---- */

/* A pass keeps what it has seen of the entries before the one it looks at (struct qi_pass).
 * A pass never changes an entry it has gone past (what an entry does depends on itself and the
 * entries before it), so this is what a scan of the earlier entries would find. */

static void pass_begin(struct qi_pass *p)
{
    *p = (struct qi_pass){.seen = 0, .next_due = HW_NEVER};
}

/* May x, the next entry of the pass, start? Every earlier non-wait has started, no earlier FN
 * wait is pending, and no earlier incomplete descriptor orders it (spec 6.5.2.12): none of
 * x->stop has been seen. An earlier non-wait not started is one the pass could not start. */
static bool pass_may_start(const struct qi_pass *p, const struct qi_ent *x)
{
    return !(p->seen & x->stop);
}

/* x is done with for this pass: add it to what later entries see. A done entry adds nothing
 * (its pend is 0, its done_at HW_NEVER), nor does done_at but for a running non-ATS entry. */
static void pass_note(struct qi_pass *p, const struct qi_ent *x)
{
    p->seen |= x->pend;
    if (x->done_at < p->next_due)
        p->next_due = x->done_at;
}

static void pass_check(const hw_machine *m, unsigned k, const struct qi_pass *p)
{
#ifdef NDEBUG
    (void)m;
    (void)k;
    (void)p;
#else
    struct qi_pass ref;
    qi_window_summary(m, k, &ref);
    if (!qi_pass_equal(p, &ref) || !(p->seen & QI_SEEN_PENDING) != ref_all_before_done(m, k) ||
        pass_may_start(p, ent_at_c(m, k)) != ref_may_start(m, k))
        internal_error("the pump's pass disagrees with a scan of the window");
#endif
}

/* x, the next entry of the pass, is fetched: start it if the ordering rules let it (a wait
 * once everything before it is done). A non-wait that does not start stays stalled in its
 * pend, which the pass then notes. */
static void pass_start(hw_machine *m, struct qi_ent *x, const struct qi_pass *p)
{
    if (x->type == VTD_DESC_WAIT) {
        if (!(p->seen & QI_SEEN_PENDING)) {
            ent_start(x);
            x->done_at = time_add(m->now, m->cfg.wait_cost);
        }
    } else if (pass_may_start(p, x)) {
        start_entry(m, x);
    }
}

/* The pass over entries [from, pipe_n): start what may start, finish what is due (done_at is
 * HW_NEVER but for a running non-ATS entry). True if an entry completed: only then may the
 * front of the window be done, since the pump retires after each pass that completes one. */
static bool advance_window(hw_machine *m, unsigned from, struct qi_pass *p)
{
    /* What the pass has seen, and the clock, in locals: the compiler cannot tell that the
     * event records and entries written on the way leave them alone. (Nothing a pass does moves
     * the clock; the window's length and front change only when the pump retires.) */
    struct qi_pass seen = *p;
    const hw_time now = m->now;
    bool completed = false;
    for (unsigned k = from; k < m->pipe_n; k++) {
        struct qi_ent *x = ent_at(m, k);
        pass_check(m, k, &seen);
        if (x->state == ENT_FETCHED)
            pass_start(m, x, &seen);
        if (x->done_at <= now) {
            complete_entry(m, x);
            completed = true;
            if (k >= m->pipe_n) { /* its status write failed it: the window is gone */
                pass_begin(&seen);
                break;
            }
        }
        pass_note(&seen, x);
    }
    *p = seen;
    return completed;
}

static bool can_fetch(const hw_machine *m)
{
    /* the test that fails most often (nothing published to fetch) first */
    return m->fetch_ptr != tail_index(m) && m->qi_on &&
           !(m->r.fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE)) && m->pipe_n < m->cfg.fetch_window &&
           !m->iqe_hold;
}

static void remember_fetch(hw_machine *m, uint32_t serial, const vtd_desc *d)
{
    GROW(m->fetched, serial, m->cap_fetched, 256); /* serials count up by one */
    m->fetched[serial] = *d;
}

/* Keep a descriptor that raised IQE; returns its reference for the IQE event's field b. */
static uint64_t remember_rejected(hw_machine *m, const vtd_desc *d)
{
    GROW(m->rejected, m->nrejected, m->cap_rejected, 8);
    m->rejected[m->nrejected++] = *d;
    return m->nrejected; /* 0 is left for "no descriptor" */
}

const vtd_desc *hw_rejected(const hw_machine *m, uint64_t ref)
{
    return ref >= 1 && ref <= m->nrejected ? &m->rejected[ref - 1] : NULL;
}

const vtd_desc *hw_fetched(const hw_machine *m, uint32_t serial)
{
    return serial < m->fetch_serial ? &m->fetched[serial] : NULL;
}

/* ---- validation, remembered ----
 *
 * What vtd_validate_decode() answers depends on the descriptor and the queue context alone,
 * and the checker fetches the same few descriptors in execution after execution (a driver's
 * workload descriptors, its wait descriptors in the same slots). The last answers are kept,
 * per thread, in a direct-mapped table indexed by a hash of the descriptor, and reused when
 * both the descriptor and the context match; with them what a window entry for it starts with
 * of the pump's bits, which depend on the decoded type alone.
 *
 * Contexts are compared by epoch: each epoch names one context, the one validated_ctx held
 * when the epoch was drawn (a context unlike the last one draws a new epoch; they count up from
 * 1 and never repeat), so equal epochs mean equal contexts. A machine keeps its context's epoch
 * (hw_machine.vctx_epoch) until its context changes (qi_ctx_changed). */
#define VALIDATED_BITS 6

struct validated {
    uint64_t epoch; /* of the context it was validated under; 0: an empty entry */
    unsigned iqei;
    vtd_desc d;
    /* meaningful when iqei is 0: */
    vtd_fields f;
    uint32_t pend, stop; /* qi_ent.pend and .stop of a fetched entry (push_entry) */
};

static _Thread_local struct validated validated[1u << VALIDATED_BITS];
static _Thread_local struct {
    vtd_qctx ctx;   /* the context of the last epoch drawn */
    uint64_t epoch; /* the last epoch drawn, 0: none yet */
} validated_ctx;

vtd_qctx qi_queue_ctx(const hw_machine *m)
{
    return (vtd_qctx){.cap = m->cfg.cap,
                      .ecap = m->cfg.ecap,
                      .ttm = qi_ttm(m),
                      .dw256 = m->q_dw256,
                      .strict_reserved = m->cfg.strict_reserved,
                      .haw = m->cfg.haw};
}

static bool same_qctx(const vtd_qctx *a, const vtd_qctx *b)
{
    return a->cap == b->cap && a->ecap == b->ecap && a->ttm == b->ttm && a->dw256 == b->dw256 &&
           a->strict_reserved == b->strict_reserved && a->haw == b->haw;
}

void qi_ctx_changed(hw_machine *m)
{
    m->vctx_epoch = 0;
}

/* The epoch of the machine's queue context (drawn if it has none), with the context in
 * m->vctx. */
static uint64_t ctx_epoch(hw_machine *m)
{
    if (__builtin_expect(m->vctx_epoch == 0, 0)) {
        m->vctx = qi_queue_ctx(m);
        if (!validated_ctx.epoch || !same_qctx(&validated_ctx.ctx, &m->vctx)) {
            validated_ctx.ctx = m->vctx;
            validated_ctx.epoch++;
        }
        m->vctx_epoch = validated_ctx.epoch;
    }
    return m->vctx_epoch;
}

static bool same_desc(const vtd_desc *a, const vtd_desc *b)
{
    return !((a->qw[0] ^ b->qw[0]) | (a->qw[1] ^ b->qw[1]) | (a->qw[2] ^ b->qw[2]) |
             (a->qw[3] ^ b->qw[3]));
}

/* The pump's bits of an entry for the descriptor decoded into f, into v. */
static void entry_bits(struct validated *v, const vtd_fields *f)
{
    unsigned type = f->type;
    if (type == VTD_DESC_WAIT)
        v->pend = QI_SEEN_PENDING | (f->u.wait.fn ? QI_SEEN_FN : 0);
    else
        v->pend = QI_SEEN_PENDING | QI_SEEN_STALLED | TYPE_BIT(type);
    v->stop = blockers(type) | QI_SEEN_FN | QI_SEEN_STALLED;
}

/* vtd_validate_decode(d, &qi_queue_ctx(m), f, NULL), remembered: the answer is v->iqei, and v->f
 * with the entry's bits (when 0). Valid until the next call. */
static const struct validated *validate(const vtd_desc *d, hw_machine *m)
{
    uint64_t epoch = ctx_epoch(m);
    uint64_t h = (d->qw[0] ^ d->qw[2]) * 0x9E3779B97F4A7C15ull ^ (d->qw[1] ^ d->qw[3]);
    struct validated *v = &validated[(h * 0xC2B2AE3D27D4EB4Full) >> (64 - VALIDATED_BITS)];
    if (v->epoch != epoch || !same_desc(&v->d, d)) {
        v->epoch = epoch;
        v->d = *d;
        v->iqei = vtd_validate_decode(d, &m->vctx, &v->f, NULL);
        if (!v->iqei)
            entry_bits(v, &v->f);
    }
    return v;
}

/* A new entry at the end of the window, for the descriptor d at the fetch pointer, valid
 * (v: its validation). */
static struct qi_ent *push_entry(hw_machine *m, const vtd_desc *d, const struct validated *v)
{
    unsigned i = (m->pipe_first + m->pipe_n++) % HW_MAX_WINDOW;
    if (i >= m->pipe_used)
        m->pipe_used = i + 1;
    struct qi_ent *x = &m->pipe[i];
    *x = (struct qi_ent){.slot = m->fetch_ptr,
                         .serial = m->fetch_serial++,
                         .type = v->f.type,
                         .state = ENT_FETCHED,
                         .ats = -1,
                         .pend = v->pend,
                         .stop = v->stop,
                         .done_at = HW_NEVER,
                         .qw0 = d->qw[0],
                         .f = v->f};
    return x;
}

static void fetch_one(hw_machine *m)
{
    unsigned err = tail_error(m);
    if (err) {
        raise_iqe(m, err, 0);
        return;
    }
    hw_paddr pa = m->q_base + (hw_paddr)m->fetch_ptr * desc_bytes(m);
    if (!hw_mem_in_range(m, pa, desc_bytes(m))) {
        raise_iqe(m, VTD_IQEI_FETCH, 0);
        return;
    }
    vtd_desc d = {{0, 0, 0, 0}};
    read_desc(m, pa, &d);
    m->last_fetched_wait = vtd_desc_type(&d) == VTD_DESC_WAIT; /* valid or not */
    check_published(m, &d);
    const struct validated *v = validate(&d, m);
    if (v->iqei) {
        raise_iqe(m, v->iqei, remember_rejected(m, &d));
        return;
    }
    struct qi_ent *x = push_entry(m, &d, v);
    remember_fetch(m, x->serial, &d);
    hw_event *e = hw_log_add(m, HW_EV_FETCH, -1, (int32_t)x->slot);
    e->a = x->type;
    e->b = x->serial;
    m->fetch_ptr = q_next(m, m->fetch_ptr);
    if (m->cfg.head_policy == HW_HEAD_FETCH)
        set_head(m, m->fetch_ptr);
}

/* When the pump must run next: the earliest completion (`due`, from the last pass) or fetch.
 * fetchable: can_fetch() is known to hold. */
static hw_time next_due(hw_machine *m, hw_time due, bool fetchable)
{
    hw_time t = due;
    if (fetchable || can_fetch(m)) {
        if (m->fetch_ready_at == HW_NEVER)
            m->fetch_ready_at = time_add(m->now, m->cfg.fetch_cost);
        if (m->fetch_ready_at < t)
            t = m->fetch_ready_at;
    } else {
        m->fetch_ready_at = HW_NEVER;
    }
    return t;
}

static bool fetch_due(const hw_machine *m)
{
    return m->fetch_ready_at <= m->now && can_fetch(m); /* HW_NEVER is never reached */
}

/* The pump's pass over the whole window, into *p, after retiring the done entries at its
 * front. A window the last pump left settled, that only the clock has changed since, and
 * that has no completion due yet, would give a pass nothing to do: it is not scanned again,
 * and *p is what the last pump saw of it. (Nor has it a done entry at its front: every pump
 * retires after it completes an entry, and entries complete between pumps only in ways that
 * unsettle the window.) */
static void pass_window(hw_machine *m, struct qi_pass *p)
{
    if (m->win_settled && m->win.next_due > m->now) {
        *p = m->win;
        check_skipped(m, p);
        return;
    }
    retire(m);
    pass_begin(p);
    if (advance_window(m, 0, p))
        retire(m);
}

/* Do all that is due now, in one pass over the window and one more step per descriptor
 * fetched. A second pass would find nothing to do: an entry's move depends only on itself, the
 * entries before it as the pass left them, the clock and the free ITags (which a pass only
 * takes), and retiring done entries changes none of these. So after a fetch only the new entry
 * is looked at, with what the pass saw of the ones before it; and what the pump saw last is
 * kept for the next one (win, pass_window). */
void qi_pump(hw_machine *m)
{
    m->pump_at = HW_NEVER;
    if (!m->qi_on)
        return;
    struct qi_pass p;
    /* can_fetch() held just after the last fetch; the passes since raise no error and take no
     * room in the window, so it still does */
    bool fetchable = false;
    pass_window(m, &p);
    while (fetch_due(m)) {
        m->fetch_ready_at = HW_NEVER;
        unsigned k = m->pipe_n; /* where the fetched entry goes, if the fetch succeeds */
        fetch_one(m);
        fetchable = can_fetch(m);
        if (fetchable)
            m->fetch_ready_at = time_add(m->now, m->cfg.fetch_cost);
        if (advance_window(m, k, &p))
            retire(m);
    }
    check_settled(m, p.next_due);
    m->win = p;
    m->win_settled = true;
    hw_time t = next_due(m, p.next_due, fetchable);
    if (t != HW_NEVER)
        schedule_pump(m, t);
}

void hw_qi_view_get(const hw_machine *m, hw_qi_view *v)
{
    v->enabled = m->qi_on;
    v->entries = m->q_entries;
    v->dw256 = m->q_dw256;
    v->base = m->q_base;
    v->head = m->head;
    v->tail = m->q_entries ? tail_index(m) : 0;
    v->fetch_ptr = m->fetch_ptr;
    v->in_flight = m->pipe_n;
    v->ats_outstanding = ats_outstanding(m);
}

/* What the queue will still write to memory, whenever it gets to it: the status words of the
 * waits fetched and not completed, and of those published and not fetched yet. For an observer
 * that must order a change of the queue's course (an MMIO write) with the writes it may later
 * cause. */
void hw_pending_lines(const hw_machine *m, uint64_t iqt, hw_line_fn fn, void *ctx)
{
    uint64_t addr_mask = VTD_MASK(63, 2) & (~0ull >> (64 - m->cfg.haw));
    for (unsigned k = 0; k < m->pipe_n; k++) {
        const struct qi_ent *x = &m->pipe[(m->pipe_first + k) % HW_MAX_WINDOW];
        if (x->type == VTD_DESC_WAIT && !x->dead && x->state != ENT_DONE && x->f.u.wait.sw)
            fn(ctx, x->f.u.wait.status_addr & addr_mask, 4);
    }
    if (!m->qi_on || !m->q_entries)
        return;
    uint32_t tail =
        iqt == UINT64_MAX ? tail_index(m) : (uint32_t)(iqt >> vtd_desc_shift(m->q_dw256));
    if (tail >= m->q_entries)
        tail = tail_index(m);
    for (uint32_t s = m->fetch_ptr, n = 0; s != tail && n < m->q_entries; s = q_next(m, s), n++) {
        hw_paddr pa = m->q_base + (hw_paddr)s * desc_bytes(m);
        if (!hw_mem_in_range(m, pa, desc_bytes(m)))
            return;
        vtd_desc d = {{0, 0, 0, 0}};
        memcpy(d.qw, m->ram + pa, 16);
        vtd_fields f;
        if (vtd_desc_type(&d) == VTD_DESC_WAIT && vtd_decode(&d, &f) == 0 && f.u.wait.sw)
            fn(ctx, f.u.wait.status_addr & addr_mask, 4);
    }
}
