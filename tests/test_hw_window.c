/*
 * test_hw_window.c — the queue engine's incremental bookkeeping checked against recomputation
 * (white box: it reads hw_internal.h). The pump makes one pass over the window and keeps what
 * it has seen of the earlier entries instead of scanning them again; ATS request slots are a
 * bit mask; ATC scans and the zeroing of a destroyed machine's window stop at fill marks; the
 * pending pump is kept outside the action heap.
 * After every hardware action of a varied stream (every descriptor type of a legacy queue, FN
 * waits, stalls on the ITag limit and on the window size, IQE with a repair, ICE, ITE with
 * its abort or rewind), the test checks:
 *  - nothing left undone: while no pump is due, a scan of the window (qi_window_idle) finds
 *    nothing that could start or complete, and the pump pending comes no later than the
 *    earliest completion it reports;
 *  - nothing started early: the event log keeps the ordering rules of spec 6.5.2.12, judged
 *    from the log alone;
 *  - request slots: the mask holds the requests of the window's running device-TLB
 *    invalidations and the orphaned ones, nothing else, with ITags unique per source id;
 *  - the pending pump: one exists exactly when the engine asked for one;
 *  - the window's slots at or above its fill mark are untouched (zero);
 *  - what the model keeps instead of recomputing: the tail as a slot index, the window summary
 *    a settled window keeps between pumps (and that it is idle until its next completion), the
 *    answer of hw_next_event() while it is known, and each window entry's copy of what its
 *    descriptor says (QW0, the decoded fields as a fresh validation gives them, and what the
 *    ordering rules read of its type and its state: what it adds to a pass, what stops it); the
 *    IQE code of every rejected descriptor against a fresh validation; the queue context kept
 *    with its epoch for remembered validations.
 * A second test fills, wraps, invalidates and resets a small ATC and checks that no valid entry
 * lies at or above the fill mark. A third checks that remembered validation results are not
 * reused under another queue context.
 */
#include "hw_testutil.h"

#include "hw/hw_internal.h"

#define SID_A       0x0100u
#define SID_B       0x0108u
#define MAX_SERIALS 8192u
#define STREAM_OPS  1000u

/* ---------------------------------------------------------------------------------------------
 * The ordering rules, from the spec (6.5.2.12), kept apart from the model's own table.
 */
static bool spec_blocks(unsigned later, unsigned earlier)
{
    switch (later) {
    case VTD_DESC_IOTLB:
    case VTD_DESC_PIOTLB:
        return earlier == VTD_DESC_CC || earlier == VTD_DESC_PC;
    case VTD_DESC_PC:
        return earlier == VTD_DESC_CC;
    case VTD_DESC_DEVTLB:
        return earlier == VTD_DESC_IOTLB || earlier == VTD_DESC_IEC;
    case VTD_DESC_PDEVTLB:
        return earlier == VTD_DESC_IOTLB || earlier == VTD_DESC_PIOTLB || earlier == VTD_DESC_IEC;
    }
    return false;
}

enum { S_NONE, S_FETCHED, S_STARTED, S_DONE };

/* What the log has told so far, per fetch serial. */
struct log_view {
    size_t seen; /* log records read */
    uint8_t state[MAX_SERIALS];
    uint8_t type[MAX_SERIALS];
    bool fn[MAX_SERIALS];
    uint32_t nserials;
    /* how much the stream exercised */
    unsigned starts, waits_done;
    unsigned stalled;  /* checks that found a fetched non-wait kept from starting */
    unsigned full;     /* checks that found the window full */
    unsigned settled;  /* checks that found the window kept between pumps */
    unsigned known;    /* checks that found hw_next_event()'s answer kept */
    unsigned rejected; /* IQE events with a rejected descriptor */
};

/* A descriptor of serial s (not a wait) starts: every earlier one still in the window has
 * started, is not an FN wait, and is not of a type that orders s. */
static void judge_start(hwt *t, const struct log_view *v, uint32_t s)
{
    for (uint32_t e = 0; e < s; e++) {
        if (v->state[e] != S_FETCHED && v->state[e] != S_STARTED)
            continue;
        if (v->type[e] == VTD_DESC_WAIT) {
            HWT_OK(t, !v->fn[e], "serial %u started before FN wait %u completed", s, e);
            continue;
        }
        HWT_OK(t, v->state[e] == S_STARTED, "serial %u started before serial %u", s, e);
        HWT_OK(t, !spec_blocks(v->type[s], v->type[e]),
               "serial %u (type %u) started while serial %u (type %u) was incomplete", s,
               v->type[s], e, v->type[e]);
    }
}

/* A wait of serial w completes: everything fetched before it is done. */
static void judge_wait_done(hwt *t, const struct log_view *v, uint32_t w)
{
    for (uint32_t e = 0; e < w; e++)
        HWT_OK(t, v->state[e] == S_NONE || v->state[e] == S_DONE,
               "wait %u completed before serial %u", w, e);
}

static void read_log(hwt *t, struct log_view *v)
{
    size_t n;
    const hw_event *ev = hw_events(t->m, &n);
    for (; v->seen < n; v->seen++) {
        const hw_event *e = &ev[v->seen];
        uint32_t s = (uint32_t)e->b;
        switch (e->kind) {
        case HW_EV_FETCH:
            HWT_OK(t, s < MAX_SERIALS, "serial %u beyond the test's table", s);
            v->state[s] = S_FETCHED;
            v->type[s] = (uint8_t)e->a;
            v->fn[s] = e->a == VTD_DESC_WAIT && (hw_fetched(t->m, s)->qw[0] & VTD_BIT(6));
            if (s >= v->nserials)
                v->nserials = s + 1;
            break;
        case HW_EV_EXEC_START:
            judge_start(t, v, s);
            v->state[s] = S_STARTED;
            v->starts++;
            break;
        case HW_EV_EXEC_DONE:
            if (v->type[s] == VTD_DESC_WAIT) {
                judge_wait_done(t, v, s);
                v->waits_done++;
            }
            v->state[s] = S_DONE;
            break;
        case HW_EV_WAIT_ABORT:
        case HW_EV_DISCARD:
            v->state[s] = S_DONE;
            break;
        case HW_EV_IQE:
            if (e->b) { /* a descriptor was rejected: a fresh validation gives the same code */
                vtd_qctx ctx = qi_queue_ctx(t->m);
                HWT_EQ(t, vtd_validate(hw_rejected(t->m, e->b), &ctx, NULL), e->c);
                v->rejected++;
            }
            break;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * The model's own state against recomputation.
 */
static const struct qi_ent *window_entry(const hw_machine *m, unsigned k)
{
    return &m->pipe[(m->pipe_first + k) % HW_MAX_WINDOW];
}

static void check_ats_mask(hwt *t)
{
    const hw_machine *m = t->m;
    uint32_t want = 0;
    for (unsigned k = 0; k < m->pipe_n; k++) {
        const struct qi_ent *x = window_entry(m, k);
        if (x->ats < 0)
            continue;
        HWT_OK(t, x->state == ENT_RUNNING, "slot %u holds a request but is not running", x->slot);
        HWT_OK(t, !(want & 1u << x->ats), "request %d held twice", x->ats);
        HWT_EQ(t, m->ats[x->ats].serial, x->serial);
        HWT_OK(t, !m->ats[x->ats].orphan, "request %d of a window entry is orphaned", x->ats);
        want |= 1u << x->ats;
    }
    for (unsigned i = 0; i < HW_MAX_ATS; i++) {
        if (!(m->ats_used & 1u << i) || (want & 1u << i))
            continue;
        HWT_OK(t, m->ats[i].orphan, "request %u is outstanding but belongs to no entry", i);
        want |= 1u << i;
    }
    HWT_EQ(t, m->ats_used, want);
    for (uint32_t u = m->ats_used; u; u &= u - 1)
        for (uint32_t w = u & (u - 1); w; w &= w - 1) {
            const struct ats_req *a = &m->ats[__builtin_ctz(u)], *b = &m->ats[__builtin_ctz(w)];
            HWT_OK(t, a->sid != b->sid || a->itag != b->itag, "ITag %u of sid 0x%x used twice",
                   a->itag, a->sid);
        }
    hw_qi_view qv;
    hw_qi_view_get(m, &qv);
    HWT_EQ(t, qv.ats_outstanding, __builtin_popcount(want));
}

static void check_pump(hwt *t, struct log_view *v)
{
    const hw_machine *m = t->m;
    HWT_EQ(t, m->pump_at == HW_NEVER, m->pump_due == HW_NEVER);
    if (m->pump_due != HW_NEVER && m->pump_due <= m->now)
        return; /* work is due now: the pump has not run yet */
    hw_time due;
    HWT_OK(t, qi_window_idle(m, &due), "no pump is due but the window has work now (t=%llu)",
           (unsigned long long)m->now);
    HWT_OK(t, m->pump_due <= due, "pump at %llu, after a completion due at %llu",
           (unsigned long long)m->pump_due, (unsigned long long)due);
    for (unsigned k = 0; k < m->pipe_n; k++) {
        const struct qi_ent *x = window_entry(m, k);
        if (x->state == ENT_FETCHED && x->type != VTD_DESC_WAIT) {
            v->stalled++;
            break;
        }
    }
    v->full += m->pipe_n == m->cfg.fetch_window;
}

/* Window slots at or above the mark were never written, so are still zero (the destroyed
 * machine is reused without zeroing them). */
static void check_pipe_mark(hwt *t)
{
    const hw_machine *m = t->m;
    HWT_OK(t, m->pipe_used <= HW_MAX_WINDOW, "window mark %u", m->pipe_used);
    for (unsigned k = 0; k < m->pipe_n; k++)
        HWT_OK(t, (m->pipe_first + k) % HW_MAX_WINDOW < m->pipe_used,
               "window entry %u in slot %u, at or above the mark %u", k,
               (m->pipe_first + k) % HW_MAX_WINDOW, m->pipe_used);
    for (unsigned i = m->pipe_used; i < HW_MAX_WINDOW; i++) {
        const unsigned char *b = (const unsigned char *)&m->pipe[i];
        for (size_t j = 0; j < sizeof(m->pipe[i]); j++)
            HWT_OK(t, b[j] == 0, "window slot %u at or above the mark %u is not zero", i,
                   m->pipe_used);
    }
}

/* ---------------------------------------------------------------------------------------------
 * What the model keeps instead of recomputing, against recomputation.
 */

/* The ordering rules as a mask: bit e set if an incomplete earlier descriptor of type e keeps
 * one of type `later` from starting. */
static uint32_t spec_blockers(unsigned later)
{
    uint32_t mask = 0;
    for (unsigned e = 0; e < 32; e++)
        if (spec_blocks(later, e))
            mask |= 1u << e;
    return mask;
}

/* Each entry's copy of what its descriptor says, and its completion time only while it runs a
 * non-ATS descriptor. */
static void check_entries(hwt *t)
{
    const hw_machine *m = t->m;
    vtd_qctx ctx = qi_queue_ctx(m);
    for (unsigned k = 0; k < m->pipe_n; k++) {
        const struct qi_ent *x = window_entry(m, k);
        const vtd_desc *d = hw_fetched(m, x->serial);
        vtd_fields f;
        vtd_desc kept, fresh;
        HWT_OK(t, d != NULL, "entry %u: no fetched descriptor for serial %u", k, x->serial);
        HWT_EQ(t, x->qw0, d->qw[0]);
        HWT_EQ(t, vtd_validate_decode(d, &ctx, &f, NULL), 0);
        HWT_EQ(t, x->type, f.type);
        HWT_EQ(t, x->f.type, f.type);
        HWT_EQ(t, vtd_encode(&x->f, &kept, NULL), VTD_OK);
        HWT_EQ(t, vtd_encode(&f, &fresh, NULL), VTD_OK);
        for (unsigned q = 0; q < 4; q++)
            HWT_EQ(t, kept.qw[q], fresh.qw[q]);
        bool wait = x->type == VTD_DESC_WAIT;
        uint32_t pend = 0;
        if (x->state != ENT_DONE && wait)
            pend = QI_SEEN_PENDING | ((d->qw[0] & VTD_BIT(6)) ? QI_SEEN_FN : 0);
        else if (x->state != ENT_DONE)
            pend =
                QI_SEEN_PENDING | 1u << x->type | (x->state == ENT_FETCHED ? QI_SEEN_STALLED : 0);
        HWT_EQ(t, x->pend, pend);
        HWT_EQ(t, x->stop, spec_blockers(x->type) | QI_SEEN_FN | QI_SEEN_STALLED);
        if (x->state != ENT_RUNNING || x->ats >= 0)
            HWT_EQ(t, x->done_at, HW_NEVER);
    }
}

/* The settled window's summary is a scan of it; it is idle until its next completion, and no
 * done entry waits at its front. */
static void check_win(hwt *t, struct log_view *v)
{
    const hw_machine *m = t->m;
    struct qi_pass ref;
    hw_time due;
    if (!m->win_settled)
        return;
    v->settled++;
    qi_window_summary(m, m->pipe_n, &ref);
    HWT_OK(t, qi_pass_equal(&ref, &m->win), "the window kept between pumps is not the window");
    HWT_OK(t, m->pipe_n == 0 || window_entry(m, 0)->state != ENT_DONE,
           "a settled window has a done entry at its front");
    if (m->now < m->win.next_due) {
        HWT_OK(t, qi_window_idle(m, &due), "a settled window has work before its next completion");
        HWT_EQ(t, due, m->win.next_due);
    }
}

/* hw_next_event() by its definition: the pending pump or the earliest action that is not a
 * stale ITag timer. */
static hw_time ref_next_event(const hw_machine *m)
{
    hw_time next = m->pump_due;
    for (size_t i = 0; i < m->nacts; i++) {
        const struct hw_act *a = &m->acts[i];
        bool stale = a->kind == ACT_ATS_TIMEOUT &&
                     (!(m->ats_used & 1u << a->a) || m->ats[a->a].gen != a->gen);
        if (!stale && a->t < next)
            next = a->t;
    }
    return next;
}

/* The answer kept, if any, and the answer given. Checked after every action and before the
 * next one, so that what the stream did in between (register writes, faults injected) is
 * covered. */
static void check_next_event(hwt *t, struct log_view *v)
{
    const hw_machine *m = t->m;
    hw_time ref = ref_next_event(m);
    if (m->next_known) {
        v->known++;
        HWT_EQ(t, m->next_event, ref);
    }
    HWT_EQ(t, hw_next_event(t->m), ref);
}

/* The queue context the machine validates under while it has an epoch for it. */
static void check_vctx(hwt *t)
{
    const hw_machine *m = t->m;
    if (!m->vctx_epoch)
        return;
    vtd_qctx ctx = qi_queue_ctx(m);
    HWT_EQ(t, m->vctx.cap, ctx.cap);
    HWT_EQ(t, m->vctx.ecap, ctx.ecap);
    HWT_EQ(t, m->vctx.ttm, ctx.ttm);
    HWT_EQ(t, m->vctx.dw256, ctx.dw256);
    HWT_EQ(t, m->vctx.strict_reserved, ctx.strict_reserved);
    HWT_EQ(t, m->vctx.haw, ctx.haw);
}

static void check_kept(hwt *t, struct log_view *v)
{
    const hw_machine *m = t->m;
    HWT_EQ(t, m->q_tail, (uint32_t)(m->r.iqt >> vtd_desc_shift(m->q_dw256)));
    check_vctx(t);
    check_entries(t);
    check_win(t, v);
    check_next_event(t, v);
}

static void check_all(hwt *t, struct log_view *v)
{
    read_log(t, v);
    check_pump(t, v);
    check_ats_mask(t);
    check_pipe_mark(t);
    check_kept(t, v);
}

/* ---------------------------------------------------------------------------------------------
 * The stream.
 */
struct stream {
    uint64_t rng;
    int ep_a, ep_b;
    hw_paddr status;
    uint32_t data;
    unsigned iqe, ice, ite;
};

static uint32_t rnd(struct stream *s, uint32_t n)
{
    s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(s->rng >> 33) % n;
}

static vtd_desc iec_global(void)
{
    vtd_fields f = {.type = VTD_DESC_IEC};
    vtd_desc d;
    vtd_encode(&f, &d, NULL);
    return d;
}

static vtd_desc random_desc(struct stream *s)
{
    uint64_t iova = HWT_IOVA + (uint64_t)rnd(s, 16) * HW_PAGE_SIZE;
    switch (rnd(s, 10)) {
    case 0:
        return vtd_make_cc_global();
    case 1:
        return vtd_make_cc_device(HWT_DID, rnd(s, 2) ? SID_A : SID_B, 0);
    case 2:
        return vtd_make_iotlb_global();
    case 3:
        return vtd_make_iotlb_domain(HWT_DID);
    case 4:
        return vtd_make_iotlb_page(HWT_DID, iova, 0, false);
    case 5:
        return iec_global();
    case 6:
    case 7:
        return vtd_make_devtlb(rnd(s, 2) ? SID_A : SID_B, iova, 1);
    case 8:
        return vtd_make_wait(true, rnd(s, 4) == 0, true, ++s->data, s->status);
    default:
        return vtd_make_wait(true, rnd(s, 4) == 0, false, ++s->data, s->status);
    }
}

/* A descriptor IQE rejects: an IOTLB invalidation with reserved bit 8 set. */
static vtd_desc bad_desc(void)
{
    vtd_desc d = vtd_make_iotlb_global();
    d.qw[0] |= VTD_BIT(8);
    return d;
}

/* Run one hardware action and check; false when nothing is pending. */
static bool step(hwt *t, struct log_view *v)
{
    check_next_event(t, v);
    if (hw_next_event(t->m) == HW_NEVER)
        return false;
    HWT_OK(t, hw_step(t->m), "hw_step found nothing although an event is pending");
    check_all(t, v);
    return true;
}

/* Software's answer to the queue errors: repair the slot IQE stopped at, let a muted endpoint
 * answer again, and clear the error. */
static void recover(hwt *t, struct stream *s, struct log_view *v)
{
    uint32_t fsts = hwt_fsts(t);
    if (fsts & VTD_FSTS_IQE) {
        const hw_event *e = HWT_EV_LAST(t, HW_EV_IQE, -1);
        vtd_desc d = vtd_make_wait(false, false, false, 0, 0);
        hwt_put(t, (uint32_t)e->slot, &d);
        s->iqe++;
    }
    if (fsts & VTD_FSTS_ITE) {
        hw_ep_inject(t->m, s->ep_b, hwt_now(t), HW_FAULT_UNMUTE, 0);
        s->ite++;
    }
    if (fsts & VTD_FSTS_ICE)
        s->ice++;
    if (fsts & VTD_FSTS_ERRORS) {
        hwt_w32(t, VTD_REG_FSTS, fsts & VTD_FSTS_ERRORS);
        check_all(t, v);
    }
}

/* Slots software may still fill without overtaking IQH. */
static uint32_t room(hwt *t)
{
    uint32_t head = (uint32_t)(hwt_iqh(t) >> t->shift);
    return t->entries - 1 - (t->tail + t->entries - head) % t->entries;
}

static void push_batch(hwt *t, struct stream *s)
{
    unsigned n = 1 + rnd(s, 12);
    if (room(t) < n + 1)
        return;
    for (unsigned i = 0; i < n; i++)
        hwt_push(t, rnd(s, 60) == 0 ? bad_desc() : random_desc(s));
    hwt_doorbell(t);
}

static void faults(hwt *t, struct stream *s)
{
    switch (rnd(s, 40)) {
    case 0: /* B stops answering: its requests time out (ITE) until recover() */
        hw_ep_inject(t->m, s->ep_b, hwt_now(t) + rnd(s, 20) * HW_US, HW_FAULT_MUTE, 0);
        break;
    case 1: /* A answers one request with a wrong ITag (ICE; the request then times out) */
        hw_ep_inject(t->m, s->ep_a, hwt_now(t), HW_FAULT_WRONG_ITAG, 1);
        break;
    case 2:
        hw_ep_inject(t->m, s->ep_a, hwt_now(t), HW_FAULT_LATENCY, 1 + rnd(s, 30));
        break;
    }
}

static void run_stream(hwt *t, uint64_t seed)
{
    static struct log_view v;
    struct stream s = {.rng = seed};
    hw_config cfg = hwt_config(t);
    cfg.fetch_window = 6;           /* stalls on the window */
    cfg.devtlb_max_outstanding = 3; /* and on the ITag limit */
    cfg.ite_timeout = 40 * HW_US;
    memset(&v, 0, sizeof(v));
    hwt_create(t, &cfg);
    s.ep_a = hwt_ep(t, SID_A, true, 2 * HW_US);
    s.ep_b = hwt_ep(t, SID_B, true, 5 * HW_US);
    hwt_queue_alloc(t, 0);
    hwt_qi_enable(t);
    s.status = hwt_status_new(t, 0);
    check_all(t, &v);
    for (unsigned op = 0; op < STREAM_OPS; op++) {
        push_batch(t, &s);
        faults(t, &s);
        for (unsigned n = rnd(&s, 8); n > 0 && step(t, &v); n--)
            ;
        recover(t, &s, &v);
    }
    for (unsigned n = 0; n < 100000 && step(t, &v); n++)
        recover(t, &s, &v);
    HWT_EQ(t, hw_next_event(t->m), HW_NEVER);
    /* The stream did reach what it is for. */
    HWT_OK(t, v.nserials > 1000, "only %u descriptors fetched", v.nserials);
    HWT_OK(t, v.starts > 500 && v.waits_done > 100, "%u starts, %u waits done", v.starts,
           v.waits_done);
    HWT_OK(t, v.stalled > 100 && v.full > 100, "%u checks saw a stall, %u a full window", v.stalled,
           v.full);
    HWT_OK(t, v.settled > 1000 && v.known > 1000 && v.rejected > 0,
           "%u checks saw a settled window, %u a known next event, %u descriptors rejected",
           v.settled, v.known, v.rejected);
    HWT_OK(t, s.iqe > 0 && s.ice > 0 && s.ite > 0, "IQE %u, ICE %u, ITE %u", s.iqe, s.ice, s.ite);
}

static void test_window_stream(void **state)
{
    hwt *t = *state;
    run_stream(t, 1);
    run_stream(t, 2);
    HWT_END(t);
}

/* ---------------------------------------------------------------------------------------------
 * The ATC fill mark.
 */
static void check_atc(hwt *t, int ep)
{
    const struct hw_ep *e = &t->m->ep[ep];
    unsigned valid = 0;
    HWT_OK(t, e->atc_used <= e->cfg.atc_entries, "mark %u beyond %u entries", e->atc_used,
           e->cfg.atc_entries);
    for (unsigned i = 0; i < e->cfg.atc_entries; i++) {
        const unsigned char *b = (const unsigned char *)&e->atc[i];
        valid += e->atc[i].valid;
        if (i < e->atc_used)
            continue;
        for (size_t j = 0; j < sizeof(e->atc[i]); j++)
            HWT_OK(t, b[j] == 0, "ATC slot %u at or above the mark %u is not zero", i, e->atc_used);
    }
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), valid);
}

static void test_atc_mark(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_ep_config c;
    int ep;
    hwt_create(t, &cfg);
    hw_ep_config_default(&c, SID_A);
    c.atc_entries = 8;
    c.atc_survives_link_down = false;
    c.flr_duration = 10 * HW_US;
    ep = hwt_ep_cfg(t, &c);
    for (unsigned p = 0; p < 12; p++)
        hwt_map_new(t, HWT_IOVA + (uint64_t)p * HW_PAGE_SIZE);
    hwt_queue_alloc(t, 0);
    hwt_qi_enable(t);
    check_atc(t, ep);
    for (unsigned i = 0; i < 200; i++) {
        uint64_t iova = HWT_IOVA + (uint64_t)(i * 5 % 12) * HW_PAGE_SIZE;
        uint32_t v = 0;
        HWT_EQ(t, hw_ep_dma(t->m, ep, iova, i % 3 == 0, &v, NULL), HW_DMA_OK);
        check_atc(t, ep);
        if (i % 7 == 6) { /* invalidate a page through the queue */
            vtd_desc d = vtd_make_devtlb(SID_A, iova, 1);
            hwt_submit_sync(t, &d, 1, i);
            check_atc(t, ep);
        }
        if (i % 50 == 25) { /* the ATC is emptied: FLR, or link down without survival */
            enum hw_fault f = i % 100 == 25 ? HW_FAULT_FLR : HW_FAULT_LINK_DOWN;
            HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), f, 0), 0);
            hwt_run(t, 1);
            HWT_EQ(t, hw_ep_atc_count(t->m, ep), 0);
            check_atc(t, ep);
            if (f == HW_FAULT_LINK_DOWN)
                HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_LINK_UP, 0), 0);
            hwt_run(t, 20 * HW_US);
        }
    }
    HWT_EQ(t, t->m->ep[ep].atc_used, 8); /* it wrapped */
    HWT_END(t);
}

/* ---------------------------------------------------------------------------------------------
 * Validation results are remembered per thread (queue.c, "validation, remembered"), keyed by
 * the descriptor and the queue context: the same descriptor, with a reserved bit set, is
 * rejected by a machine with strict_reserved, accepted by one without, and rejected again; and
 * one machine's context changes with SRTP (TTM).
 */
static void test_validation_context(void **state)
{
    hwt *t = *state;
    for (unsigned round = 0; round < 3; round++) {
        bool strict = round != 1;
        hw_config cfg = hwt_config(t);
        cfg.strict_reserved = strict;
        hwt_start(t, &cfg, 0);
        hw_paddr st = hwt_status_new(t, 0);
        hwt_push(t, bad_desc());
        hwt_push(t, hwt_wait_sw(1, st));
        hwt_doorbell(t);
        hwt_run(t, 10 * HW_US);
        HWT_EQ(t, (hwt_fsts(t) & VTD_FSTS_IQE) != 0, strict);
        HWT_EQ(t, hwt_mem32(t, st), strict ? 0 : 1);
    }
    /* Within one machine: a wait descriptor accepted under legacy TTM is rejected, the same
     * descriptor again, once SRTP latches a reserved TTM (the machine's context changed). */
    hw_config cfg = hwt_config(t);
    hwt_start(t, &cfg, 0);
    hw_paddr st = hwt_status_new(t, 0);
    hwt_push(t, hwt_wait_sw(1, st));
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_fsts(t) & VTD_FSTS_IQE, 0);
    HWT_EQ(t, hwt_mem32(t, st), 1);
    hwt_w64(t, VTD_REG_RTADDR, (uint64_t)VTD_TTM_RESERVED << VTD_RTADDR_TTM_SHIFT);
    hwt_gcmd_poll(t, VTD_GCMD_SRTP, true, VTD_GSTS_RTPS, true);
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, qi_ttm(t->m), VTD_TTM_RESERVED);
    hwt_push(t, hwt_wait_sw(1, st));
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    HWT_OK(t, hwt_fsts(t) & VTD_FSTS_IQE, "a descriptor validated under the old TTM was reused");
    HWT_END(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_window_stream),
        HWT_TESTS(test_atc_mark),
        HWT_TESTS(test_validation_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
