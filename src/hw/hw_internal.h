/*
 * hw_internal.h — the inside of the hardware model, shared by its files and no one else:
 * the machine structure, the timed-action queue, and the functions one part of the model
 * calls in another (register file -> queue engine -> endpoints -> memory and log).
 */
#ifndef QINVAL_HW_INTERNAL_H
#define QINVAL_HW_INTERNAL_H

#include "hw/hw.h"

#define HW_MAX_WINDOW 64u
#define HW_MAX_ATS    32u
#define HW_CTX_CACHE  64u
#define HW_IOTLB      256u
#define HW_MAX_EP     64
#define HW_MAX_ATC    1024u

/* Timed hardware actions. */
enum hw_act_kind {
    ACT_PUMP,        /* run the queue engine (gen = pump generation) */
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
    int8_t ats;      /* index into ats[] while an ATS request is outstanding, else -1 */
    hw_time done_at; /* ENT_RUNNING, non-ATS: completion time */
    vtd_desc d;
    vtd_fields f; /* d decoded, once, when it was fetched and validated (d never changes) */
};

struct ats_req {
    bool used;
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
    unsigned atc_used; /* filled round-robin from slot 0: [atc_used, atc_entries) is all zero */
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

    /* queued-invalidation engine */
    bool qi_on;
    hw_paddr q_base;
    uint32_t q_entries;
    bool q_dw256;
    uint32_t head, fetch_ptr;
    struct qi_ent pipe[HW_MAX_WINDOW];
    unsigned pipe_first, pipe_n;
    uint32_t fetch_serial;
    hw_time fetch_ready_at;
    uint32_t pump_gen;
    hw_time pump_at;
    struct ats_req ats[HW_MAX_ATS];

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

/* log.c */
hw_event *hw_log_add(hw_machine *m, unsigned kind, int ep, int32_t slot);

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
bool hw_mem_audit_on(void); /* this thread's audit setting (hw_mem_set_audit) */
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
void qi_pump(hw_machine *m, uint32_t gen);
void qi_tail_written(hw_machine *m, uint64_t old_iqt);
void qi_errors_cleared(hw_machine *m); /* IQE or ITE was cleared: slots repaired are accepted */
void qi_ats_completion(hw_machine *m, int ep, uint16_t sid, uint32_t itag_vec);
void qi_ats_timeout(hw_machine *m, unsigned idx, uint32_t gen);
uint8_t qi_ttm(const hw_machine *m);

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
