/*
 * hw_internal.h — the inside of the hardware model, shared by its files and no one else:
 * the machine structure, the timed-action queue, and the functions one part of the model
 * calls in another (register file -> queue engine -> endpoints -> memory and log).
 */
#ifndef QINVAL_HW_INTERNAL_H
#define QINVAL_HW_INTERNAL_H

#include "hw/hw.h"

#define HW_MAX_WINDOW 64u
#define HW_MAX_ATS    32u /* at most 32: hw_machine.ats_used has a bit per request */
#define HW_CTX_CACHE  64u
#define HW_IOTLB      256u
#define HW_MAX_EP     64
#define HW_MAX_ATC    1024u

/* Timed hardware actions. The queue engine's pump is one too, but kept outside the heap
 * (struct hw_machine, pump_due). */
enum hw_act_kind {
    ACT_GCMD,        /* a GCMD command takes effect (a = value written) */
    ACT_EP_ANSWER,   /* endpoint answers an invalidate request (a = itag, b/c = range) */
    ACT_ATS_TIMEOUT, /* ITag completion timer (a = ats index, gen = request generation) */
    ACT_FAULT,       /* injected fault (a = enum hw_fault, b = arg) */
    ACT_FLR_DONE,    /* FLR ends (gen = endpoint epoch) */
    ACT_DMA,         /* scheduled DMA by an endpoint (b = iova, a = write) */
};

struct hw_act {
    hw_time t;
    uint64_t seq; /* tie-break: actions due at the same time run in scheduling order */
    uint8_t kind;
    int16_t ep;
    uint32_t a;
    uint32_t gen;
    int32_t slot; /* queue slot the action concerns, or -1 */
    uint64_t b, c;
};

/* A descriptor inside the IOMMU: fetched, then started, then done (or aborted/discarded). */
enum ent_state { ENT_FETCHED, ENT_RUNNING, ENT_DONE };

struct qi_ent {
    uint32_t slot;
    uint32_t serial; /* fetch serial, unique for the machine's lifetime */
    uint8_t type;
    uint8_t state;
    bool dead; /* aborted (wait) or discarded: retires without effect */
    bool timedout;
    int8_t ats; /* index into ats[] while an ATS request is outstanding, else -1 */
    /* What the pump's pass reads of the entry (queue.c, "the pump's pass"), as QI_SEEN_ bits:
     * pend, what it adds to what the pass has seen, follows its state (set at fetch, changed
     * only by ent_start() and ent_done()): 0 once done, else QI_SEEN_PENDING, with FN for a
     * wait with FN, TYPE_BIT(type) for a non-wait, and STALLED for a non-wait not started.
     * stop, set at fetch, holds the bits that keep it from starting: the types that order it
     * (spec 6.5.2.12), FN and STALLED. */
    uint32_t pend;
    uint32_t stop;
    hw_time done_at; /* completion time while running and not an ATS request, else HW_NEVER */
    uint64_t qw0;    /* the descriptor's QW0 (the whole descriptor: hw_machine.fetched) */
    vtd_fields f;    /* the descriptor decoded, once, when it was fetched and validated */
};

/* What a pass of the queue engine's pump over the window has seen of the entries before the
 * one it looks at, each as the pass left it (queue.c, "the pump's pass"): in seen, the union of
 * their qi_ent.pend, that is QI_SEEN_PENDING if one is not done, FN if a wait with FN is not
 * done, STALLED if a non-wait is not started (the pass could not start it), and TYPE_BIT(t) if
 * a non-wait of type t is not done. Types are defined types (validated), below bit 29. */
#define QI_SEEN_FN      (1u << 29)
#define QI_SEEN_STALLED (1u << 30)
#define QI_SEEN_PENDING (1u << 31)
struct qi_pass {
    uint32_t seen;
    hw_time next_due; /* earliest done_at of the running non-ATS entries seen, or HW_NEVER */
};

static inline bool qi_pass_equal(const struct qi_pass *a, const struct qi_pass *b)
{
    return a->seen == b->seen && a->next_due == b->next_due;
}

struct ats_req {
    bool orphan; /* its descriptor left the pipeline (complete-policy ITE) */
    uint16_t sid;
    uint8_t itag;
    int16_t ep;
    uint32_t serial; /* descriptor's fetch serial */
    uint32_t slot;
    uint32_t gen;
    uint64_t start, len;
};

struct ctx_cache_ent {
    bool valid;
    uint16_t sid;
    uint16_t did;
    uint8_t tt;
    uint8_t aw;
    hw_paddr pgd;
};

struct iotlb_ent {
    bool valid;
    bool r, w;
    uint16_t did;
    uint64_t pfn;
    uint64_t pa_pfn;
};

struct atc_ent {
    bool valid;
    bool r, w;
    uint32_t serial;
    uint64_t pfn;
    uint64_t pa_pfn;
};

struct hw_ep {
    hw_ep_config cfg;
    enum hw_link link;
    bool muted;
    bool in_flr;
    uint32_t drop_n;
    uint32_t wrong_itag_n;
    uint32_t epoch; /* bumped when in-flight answers are lost (link down, FLR, mute) */
    hw_time latency;
    struct atc_ent *atc;
    unsigned atc_next;
    /* Slots [atc_used, cfg.atc_entries) were never filled, so are invalid (and zero): filling
     * is round-robin from slot 0 (atc_next), and atc_used only grows. Scans stop there. */
    unsigned atc_used;
};

struct hw_page {
    uint32_t owner;
    uint32_t gen; /* 0: never allocated, still the mapping's zero page */
    /* Bytes [dirty_lo, dirty_hi) of the page may have been written since it was last known to
     * be zero (mem.c, "what was written"); dirty_hi == 0: none. */
    uint16_t dirty_lo, dirty_hi;
};

struct hw_regs {
    uint32_t gsts, fsts, fectl, fedata, feaddr, feuaddr;
    uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
    uint64_t rtaddr, iqt, iqa, iqercd, irta;
};

struct hw_machine {
    hw_config cfg;
    hw_time now;
    uint64_t acts_run;       /* timed actions and pump runs so far (hw_acts_run) */
    hw_mem_observer mem_obs; /* told of the hardware's own memory accesses, or NULL */
    void *mem_obs_ctx;

    /* timed actions: binary min-heap on (t, seq) */
    struct hw_act *acts;
    size_t nacts, cap_acts;
    uint64_t act_seq;

    /* memory */
    uint8_t *ram;
    struct hw_page *pages;
    size_t npages;
    size_t mem_hi;       /* pages [0, mem_hi) may hold non-zero bytes or page records; every page
                            above is zero with a free, never-allocated record (see mem.c) */
    size_t free_lo;      /* every page in [1, free_lo) is owned: first fit starts here */
    size_t resident_hi;  /* when created, no page at or above it was resident */
    uint64_t mem_faults; /* this thread's page faults observed before the machine was made */

    /* log */
    uint32_t actor; /* who issues MMIO now: simulated CPU + 1, or 0 (hw_set_actor) */
    hw_event *log;
    size_t nlog, cap_log;

    /* registers */
    struct hw_regs r;
    uint64_t rtaddr_latched; /* set by SRTP */
    bool last_fetched_wait;  /* the last descriptor read from the queue was a wait */

    /* queued-invalidation engine */
    bool qi_on;
    bool iqe_hold; /* cfg.iqe_resume_on_tail: an IQE was raised, no IQT write since its clear */
    hw_paddr q_base;
    uint32_t q_entries;
    bool q_dw256;
    uint32_t head, fetch_ptr;
    uint32_t q_tail; /* IQT as a slot index: r.iqt >> vtd_desc_shift(q_dw256), always */
    struct qi_ent pipe[HW_MAX_WINDOW];
    unsigned pipe_first, pipe_n;
    unsigned pipe_used; /* slots [pipe_used, HW_MAX_WINDOW) were never written (fetch_one) */
    uint32_t fetch_serial;
    hw_time fetch_ready_at;
    /* While win_settled: the last pump left the window settled (no entry could start or
     * complete before win.next_due) and win is what a pass over all of it sees; since then only
     * the clock has moved. Anything else that changes an entry or frees a request slot clears
     * win_settled (queue.c, unsettle), and the next pump passes over the window again. A new
     * machine (all zero) is not settled. */
    struct qi_pass win;
    bool win_settled;
    hw_time pump_at; /* the pending pump was asked for at this time, or HW_NEVER: none */
    /* hw_next_event()'s answer, while next_known: kept until an action is scheduled or run,
     * the pump is asked for or run, or a request slot is freed (its timer goes stale); each of
     * these calls hw_actions_changed(). A new machine (all zero) does not know it. */
    hw_time next_event;
    bool next_known;
    /* The pending pump as an action: due at pump_due (HW_NEVER: none), ordered among the heap's
     * actions by (pump_due, pump_seq), its seq drawn from act_seq as if it were scheduled in
     * the heap. At most one pump is pending: a request for an earlier one replaces it, as the
     * later one would find nothing to do (hw_schedule_pump). */
    hw_time pump_due;
    uint64_t pump_seq;
    /* While vctx_epoch is not 0: vctx is the queue context the descriptors are validated under
     * (qi_queue_ctx(): the configuration, the width latched at enable, TTM latched by SRTP)
     * and vctx_epoch its epoch in this thread's table of remembered validations (queue.c,
     * "validation, remembered"). Whatever changes the context calls qi_ctx_changed(), which
     * clears vctx_epoch: qi_enable() and SRTP. A new machine (all zero) has no epoch. */
    vtd_qctx vctx;
    uint64_t vctx_epoch;
    struct ats_req ats[HW_MAX_ATS];
    uint32_t ats_used; /* bit i set: ats[i] is an outstanding request (ITag allocated) */

    /* each slot as the last tail write published it, until fetched (queue_corruption):
     * published[s] is meaningful while bit s of published_valid is set. One allocation holds
     * both (the bits follow cap_published descriptors; freeing published frees both), so that
     * enabling the queue clears q_entries bits, not q_entries descriptors. */
    vtd_desc *published;
    uint64_t *published_valid;
    size_t cap_published;
    /* every descriptor fetched, by fetch serial (for oracles) */
    vtd_desc *fetched;
    size_t cap_fetched;
    vtd_desc *rejected; /* descriptors that raised IQE, in order (IQE event field b) */
    size_t nrejected, cap_rejected;

    /* translation caches */
    struct ctx_cache_ent ctx[HW_CTX_CACHE];
    unsigned ctx_next, ctx_used; /* filled round-robin: [ctx_used, end) was never valid */
    struct iotlb_ent iotlb[HW_IOTLB];
    unsigned iotlb_next, iotlb_used; /* likewise */
    uint32_t atc_serial;

    /* endpoints */
    struct hw_ep ep[HW_MAX_EP];
    int nep;

    hw_irq_fn irq_fn;
    void *irq_ctx;
};

/* machine.c */
void hw_schedule(hw_machine *m, const struct hw_act *a);
/* The actions, or whether one is stale, changed: hw_next_event() must look again. */
static inline void hw_actions_changed(hw_machine *m)
{
    m->next_known = false;
}
/* Make the pump due at t (or now, if t is past), replacing any pump pending. */
void hw_schedule_pump(hw_machine *m, hw_time t);

/* log.c */
void hw_log_grow(hw_machine *m); /* room for record m->nlog */
/* Append a record at the current time, every field but kind, ep and slot zero. */
static inline hw_event *hw_log_add(hw_machine *m, unsigned kind, int ep, int32_t slot)
{
    if (m->nlog >= m->cap_log)
        hw_log_grow(m);
    hw_event *e = &m->log[m->nlog];
    *e = (hw_event){.t = m->now,
                    .seq = (uint32_t)m->nlog,
                    .kind = (uint16_t)kind,
                    .ep = (int16_t)ep,
                    .slot = slot};
    m->nlog++;
    return e;
}

/* mem.c */
bool hw_mem_in_range(const hw_machine *m, hw_paddr pa, size_t len);
/* Bytes [pa, pa + len) (in range) may be written: record them as written (so that releasing
 * the machine zeroes them, mem.c) and raise the mark over them. */
void hw_mem_touch_span(hw_machine *m, hw_paddr pa, size_t len);
static inline void hw_mem_touch(hw_machine *m, hw_paddr pa, size_t len)
{
    size_t p = (size_t)(pa / HW_PAGE_SIZE), lo = (size_t)(pa % HW_PAGE_SIZE);
    if (len == 0 || lo + len > HW_PAGE_SIZE) {
        hw_mem_touch_span(m, pa, len);
        return;
    }
    struct hw_page *pg = &m->pages[p];
    if (!pg->dirty_hi) {
        pg->dirty_lo = (uint16_t)lo;
        pg->dirty_hi = (uint16_t)(lo + len);
    } else {
        if (lo < pg->dirty_lo)
            pg->dirty_lo = (uint16_t)lo;
        if (lo + len > pg->dirty_hi)
            pg->dirty_hi = (uint16_t)(lo + len);
    }
    if (p >= m->mem_hi)
        m->mem_hi = p + 1;
}
uint64_t hw_mem_rd64(hw_machine *m, hw_paddr pa);
void hw_mem_init(hw_machine *m);
void hw_mem_thread_done(void); /* frees this thread's spare RAM */
void hw_ep_thread_done(void);  /* frees this thread's spare ATCs */
bool hw_mem_audit_on(void);    /* this thread's audit setting (hw_mem_set_audit) */
void hw_mem_fini(hw_machine *m);

/* regs.c */
void hw_regs_reset(hw_machine *m);
void hw_gcmd_apply(hw_machine *m, uint32_t val);
void hw_raise_error(hw_machine *m, uint32_t fsts_bit);
void hw_completion_event(hw_machine *m);
void hw_send_irq(hw_machine *m, enum hw_irq irq, int ep);

/* queue.c */
void qi_enable(hw_machine *m);
bool qi_busy(const hw_machine *m);
void qi_disable(hw_machine *m);
void qi_kick(hw_machine *m);
void qi_pump(hw_machine *m);
void qi_tail_written(hw_machine *m, uint64_t old_iqt);
void qi_errors_cleared(hw_machine *m); /* IQE or ITE was cleared: slots repaired are accepted */
void qi_ats_completion(hw_machine *m, int ep, uint16_t sid, uint32_t itag_vec);
void qi_ats_timeout(hw_machine *m, unsigned idx, uint32_t gen);
uint8_t qi_ttm(const hw_machine *m);
/* The queue context the machine validates its descriptors in now. */
vtd_qctx qi_queue_ctx(const hw_machine *m);
void qi_ctx_changed(hw_machine *m); /* the queue context (width, TTM) may have changed */
/* The reference for the pump's single pass (tests, and builds with assertions after every
 * pump): true if no entry of the window could start or complete now, scanning the window as
 * the ordering rules read; *due is then the earliest completion time of a running non-ATS
 * entry (HW_NEVER: none). */
bool qi_window_idle(const hw_machine *m, hw_time *due);
/* What a pass sees of the window's first k entries, by scanning them: the reference for the
 * pass's own bookkeeping and for the window kept between pumps (hw_machine.win). */
void qi_window_summary(const hw_machine *m, unsigned k, struct qi_pass *p);

/* xlate.c */
unsigned xl_cc_invalidate(hw_machine *m, const vtd_fields *f);
unsigned xl_iotlb_invalidate(hw_machine *m, const vtd_fields *f);
void xl_flush_all(hw_machine *m);
enum xl_req { XL_UNTRANSLATED, XL_TRANSLATION_REQ, XL_TRANSLATED };
enum hw_dma_status xl_translate(hw_machine *m, uint16_t sid, uint64_t iova, enum xl_req req,
                                bool write, hw_paddr *pa, bool *r, bool *w);

/* endpoint.c */
void ep_receive_inval(hw_machine *m, uint16_t sid, uint8_t itag, uint64_t start, uint64_t len,
                      int32_t slot);
void ep_answer(hw_machine *m, const struct hw_act *a);
void ep_fault(hw_machine *m, const struct hw_act *a);
void ep_flr_done(hw_machine *m, const struct hw_act *a);
void ep_free_all(hw_machine *m);

#endif /* QINVAL_HW_INTERNAL_H */
