/*
 * engine.c — the qinval engine (include/qinval/engine.h; design and state machine in
 * docs/engine.md).
 *
 * Vocabulary. A *batch* is a contiguous run of ring slots ending with the engine's wait
 * descriptor, whose status write (the batch's sequence number into the status word of its
 * first slot) says that everything up to it was executed. Its bookkeeping lives in the slot
 * record of its first slot. A *participant* is one submitter's segment of descriptors inside
 * a batch; several submitters may share a batch (combining). At most one batch is *open* at a
 * time: reserved at the software end of the ring, collecting participants, its wait not yet
 * written. Sending it writes the wait and moves the tail once for all of them.
 *
 * Life of a batch: OPEN -> SENT -> (status write seen) complete, or, on an Invalidation
 * Time-out Error, DEAD (its wait was fetched and aborted: the hardware will never write its
 * status) or NEUTRAL (some of its slots were not yet consumed: they were overwritten with
 * harmless waits before the error was cleared, so nothing of it runs or writes later).
 * Participants of an aborted batch queue their descriptors again themselves. Slots are
 * reused only after the batch is complete, DEAD, or NEUTRAL and provably passed by the
 * hardware head (a later batch completed, or IQH read), and after every participant that
 * looked at its record has left.
 *
 * Concurrency. One spin lock, e->lock, taken with local interrupts disabled and never held
 * while waiting, protects:
 *  - the ring: its contents (every descriptor store), the indices reclaim <= hw_tail <= sw_tail
 *    (in ring order), the open batch, last_sent/prev_sent, and the IQT register: tail writes
 *    happen under the lock, so the hardware sees the tail move forward in ring order only;
 *  - every slot record field except `left`, and the software's stores to status words (0 when
 *    a batch opens, ~seq when it is aborted);
 *  - the sequence, ITE and reset counters, the device-TLB lane, the device table, and the
 *    recoveries (IQE/ITE/ICE repair and the FSTS writes that clear them).
 * Outside the lock, only:
 *  - a waiter's loads of its own batch's status word (and, as the batch's leader, of its
 *    state and of the previous batch's status word: a stale value there only delays sending);
 *    the record and the word stay its own while it has not left: reclaim_walk() stops at a
 *    batch with left != joined;
 *  - leave(): one atomic add to `left`, after the participant's last read of the record (its
 *    bad-slot flags and abort serial). After it the record may be reused at once;
 *  - FSTS reads (slow_tick), the clock, and the introspection functions (snapshots).
 * Every access that crosses the lock goes through the platform (qi_plat_load32/store32/
 * fetch_add32), never plain C: the loads above made outside it, the stores under it those loads
 * can see (status words, a record's state and flags, the IQE and ITE serials), and, under it,
 * the loads of `left`, which is added to outside it. Besides being the portable way to share
 * a word, that lets a checker which sees only platform accesses see every access by which CPUs
 * communicate (the checker's per-CPU clocks depend on it).
 * Orderings that matter, and why:
 *  1. Descriptors and the wait, and the 0 in the batch's status word, are stored before the
 *     tail write that publishes them (wmb in close_and_send): the hardware never fetches a
 *     half-written slot, and its status write cannot be overwritten by our 0.
 *  2. Sequence numbers are allocated under the lock, in ring order; a waiter completes only
 *     on its own sequence (or its complement, written by a recovery), so a late or stray
 *     status write cannot complete another batch, and a status word is reused only once its
 *     batch is FREE (below), when no write for it can still arrive.
 *  3. Recoveries mark aborted batches (~seq) and overwrite unconsumed slots while FSTS.ITE or
 *     FSTS.IQE still stops the queue, then wmb, then clear the error: the hardware fetches
 *     nothing and writes no status meanwhile, so the bookkeeping never races it, and a slot
 *     overwritten with a neutral wait (status to the scratch word) can only write there.
 *  4. Slot reuse behind the hardware head, under both head policies: a batch is FREE when its
 *     status word holds its sequence (the wait executed, and waits complete in order, so every
 *     slot before it was consumed), when it is DEAD (its wait was behind IQH at the ITE:
 *     fetched and aborted, and everything before it fetched), or when it is NEUTRAL and a
 *     later batch completed or IQH was read past it. Whether IQH moves at fetch or at
 *     completion only decides DEAD (the wait is behind IQH: fetched, or retired by the abort)
 *     versus NEUTRAL (the wait is at or after IQH: under a completion-tracking head every
 *     wait not yet retired is, so the batch is neutralised and waits for a later completion
 *     or for IQH); neither frees a slot the hardware may still read.
 *
 * Only platform.h and vtd.h are used; no libc (the loops below avoid patterns a compiler
 * would turn into memcpy/memset calls, and the freestanding check in CMake verifies it).
 */
#include <qinval/engine.h>

/* time_add, time_mul: times saturate at UINT64_MAX ("never") rather than wrap. Deadlines and
 * time-outs come from the caller (qi_submit_opts.deadline_ns, qi_engine_config's time-outs):
 * a huge one means "wait for ever", never "give up at once". */
#include "../util/sat_time.h"

#define NONE 0xFFFFFFFFu

enum slot_state { S_FREE, S_OPEN, S_SENT, S_DEAD, S_NEUTRAL };
#define SF_HAS_DEV 0x1u /* batch: carries device-TLB work for dev_sid */
#define SF_FENCE   0x2u /* batch: carries a device's fence */
#define SF_BAD     0x4u /* any slot: the hardware rejected its descriptor (IQE) */

enum dev_state { D_FREE, D_NORMAL, D_FENCE_WANTED, D_FENCING, D_QUARANTINED, D_RESET };

#define FIRST_CHECK_NS     20000ull      /* first look at FSTS: 20 us after the batch opened */
#define FIRST_CHECK_IRQ_NS 100000000ull  /* 100 ms when the fault interrupt comes to us anyway */
#define MAX_CHECK_NS       1000000000ull /* then after half the time waited, at most 1 s */
#define COMBINE_NS         1000ull       /* an open batch waits at most this long for company */
#define COMBINE_DEV_NS     200ull        /* ... when the batch before it has device-TLB work */
#define RETRY_MIN_NS       100ull        /* waiting for space, a lane or a reset: first retry */
#define RETRY_MAX_NS       20000ull
#define POLLS_PER_CLOCK    4u /* status polls of a sent batch per clock read */
#define MAX_SUSPECTS       8
#define DEV_ONE            0x10000u /* joined/left: participants below, device-TLB ones above */
#define MAX_JOINED         0x8000u

/* ---------------------------------------------------------------------------------------------
 * Small helpers.
 */

static uint32_t radd(const qi_engine *e, uint32_t i, uint32_t k)
{
    return (i + k) & (e->nslots - 1);
}

static uint32_t rdist(const qi_engine *e, uint32_t from, uint32_t to)
{
    return (to - from) & (e->nslots - 1);
}

static uint32_t vread(const volatile uint32_t *a)
{
    return *a;
}

/* A record's `left`: added to outside the lock (leave()), so read through the platform, which
 * sees it as the shared access it is; NULL p only for introspection, at quiescence. */
static uint32_t left_of(qi_platform *p, qi_slot *r)
{
    return p ? qi_plat_load32(p, &r->left) : vread(&r->left);
}

/*
 * Clear n bytes without libc: a compiler may turn a plain clearing loop into a call to memset,
 * which a freestanding image may not have. GCC is told not to (and may then vectorise the
 * loop); other compilers get volatile stores, which it cannot merge into a call. Where the
 * compiler lets us say that a word store may alias anything, the aligned middle is cleared a
 * 64-bit word at a time: the slot table and the engine are tens of KiB, and one store per byte
 * made enabling the engine cost more than a whole submit.
 */
#if defined(__GNUC__)
typedef uint64_t __attribute__((may_alias)) any_word;
#define ZERO_WORDS 1
#else
#define ZERO_WORDS 0
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define ZERO_VOLATILE
#define ZERO_FN __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define ZERO_VOLATILE volatile
#define ZERO_FN
#endif

ZERO_FN static void zero_bytes(void *dst, size_t n)
{
    ZERO_VOLATILE uint8_t *b = dst;
#if ZERO_WORDS
    while (n && ((uintptr_t)b & (sizeof(any_word) - 1))) {
        *b++ = 0;
        n--;
    }
    ZERO_VOLATILE any_word *w = (ZERO_VOLATILE any_word *)b;
    for (; n >= 4 * sizeof(any_word); n -= 4 * sizeof(any_word), w += 4) {
        w[0] = 0; /* four per iteration: the compiler may pair them into wider stores */
        w[1] = 0;
        w[2] = 0;
        w[3] = 0;
    }
    for (; n >= sizeof(any_word); n -= sizeof(any_word))
        *w++ = 0;
    b = (ZERO_VOLATILE uint8_t *)w;
#endif
    while (n--)
        *b++ = 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint32_t reg_index(const qi_engine *e, uint64_t reg)
{
    return (uint32_t)((reg & VTD_IQ_OFFSET_MASK) >> e->shift) & (e->nslots - 1);
}

static void put_desc(qi_engine *e, uint32_t slot, const vtd_desc *d)
{
    volatile uint64_t *q = (volatile uint64_t *)(e->ring + ((size_t)slot << e->shift));
    q[0] = d->qw[0];
    q[1] = d->qw[1];
    if (e->dw256) {
        q[2] = d->qw[2];
        q[3] = d->qw[3];
    }
}

/* The harmless descriptor written over slots that must not run: a wait whose status write
 * goes to the scratch word (valid on every implementation, unlike a wait with neither SW nor
 * IF, which some reject). */
static void put_neutral(qi_engine *e, qi_platform *p, uint32_t slot)
{
    vtd_desc n =
        vtd_make_wait(true, false, false, 0, qi_plat_virt_to_phys(p, &e->status[e->nslots]));
    put_desc(e, slot, &n);
}

/* Device-TLB invalidations (types 3 and 8) and their target. */
static bool devtlb_target(const vtd_desc *d, uint16_t *sid)
{
    unsigned type = vtd_desc_type(d);
    if (type == VTD_DESC_DEVTLB) {
        *sid = (uint16_t)(d->qw[0] >> 32);
        return true;
    }
    if (type == VTD_DESC_PDEVTLB) {
        *sid = (uint16_t)(d->qw[0] >> 16);
        return true;
    }
    return false;
}

static bool is_devtlb_for(const vtd_desc *d, uint16_t sid)
{
    uint16_t s;
    return devtlb_target(d, &s) && s == sid;
}

static void note(qi_platform *p, const char *msg, uint64_t a, uint64_t b)
{
    qi_plat_log(p, QI_LOG_INFO, msg, a, b);
}

/* ---------------------------------------------------------------------------------------------
 * Devices with a state.
 */

static bool dev_blocked(const struct qi_dev *d)
{
    return d->state == D_FENCE_WANTED || d->state == D_FENCING || d->state == D_QUARANTINED;
}

static struct qi_dev *dev_find(const qi_engine *e, uint16_t sid)
{
    for (unsigned i = 0; i < e->ndev; i++)
        if (e->dev[i].state != D_FREE && e->dev[i].sid == sid)
            return &e->dev[i];
    return NULL;
}

/* Find or start tracking `sid`; an entry holding nothing (normal, no strikes, taint expired)
 * may be recycled. NULL if the table is full of devices that matter. */
static struct qi_dev *dev_get(qi_engine *e, uint16_t sid, uint64_t now)
{
    struct qi_dev *d = dev_find(e, sid), *spare = NULL;
    if (d)
        return d;
    for (unsigned i = 0; i < e->ndev && !spare; i++) {
        struct qi_dev *x = &e->dev[i];
        if (x->state == D_FREE || (x->state == D_NORMAL && x->strikes == 0 &&
                                   x->taint_until <= now && !x->fenced && !x->unfence_pending))
            spare = x;
    }
    if (!spare)
        return NULL;
    zero_bytes(spare, sizeof(*spare));
    spare->sid = sid;
    spare->state = D_NORMAL;
    return spare;
}

/* ---------------------------------------------------------------------------------------------
 * Batches.
 */

/* Sequence numbers: never 0 (a fresh status word) nor all ones (whose complement, the abort
 * mark, would be 0). */
static uint32_t next_seq(qi_engine *e)
{
    if (++e->seq == 0xFFFFFFFFu)
        e->seq = 1;
    return e->seq;
}

/* An aborted batch's status word gets the complement of its sequence: the hardware will never
 * write it any more (its wait was aborted, or overwritten before it was fetched), so a waiter
 * learns of the abort from the one word it polls. */
static void mark_aborted(qi_engine *e, qi_platform *p, uint32_t first, uint32_t state)
{
    qi_slot *r = &e->slot[first];
    qi_plat_store32(p, &r->state, state);
    qi_plat_store32(p, &e->status[first], ~r->seq);
}

static uint32_t used_slots(const qi_engine *e)
{
    return rdist(e, e->reclaim, e->sw_tail);
}

/* Room for k more slots; `reserve` may take the last one, kept for the recovery's wait. */
static bool space_for(const qi_engine *e, uint32_t k, bool reserve)
{
    return used_slots(e) + k <= e->limit - (reserve ? 0u : 1u);
}

/* Is a sent batch finished (complete or aborted)? */
static bool batch_over(qi_engine *e, uint32_t first, uint32_t seq)
{
    if (first == NONE)
        return true;
    uint32_t v = vread(&e->status[first]);
    return v == seq || v == ~seq;
}

/* Worth sending a batch at once rather than letting others join it first? Yes when the
 * hardware has nothing of ours, and when the only batch in it waits for a device round trip
 * (then a second one in flight hides latency; waiting behind it would only add some). Waits
 * complete in order: if the batch before the last is finished, only the last may still run. */
static bool hw_free(qi_engine *e)
{
    if (batch_over(e, e->last_sent, e->last_sent_seq))
        return true;
    return (e->slot[e->last_sent].flags & SF_HAS_DEV) &&
           batch_over(e, e->prev_sent, e->prev_sent_seq);
}

static void open_batch(qi_engine *e, qi_platform *p, uint64_t now)
{
    uint32_t first = e->sw_tail;
    qi_slot *r = &e->slot[first];
    r->seq = next_seq(e);
    r->joined = 0;
    r->left = 0;
    r->abort_ite = 0;
    r->gen = e->reset_gen;
    r->flags = 0;
    r->len = 0;
    r->ndesc = 0;
    r->dev_sid = 0;
    r->sent_ns = now;
    qi_plat_store32(p, &e->status[first], 0);
    qi_plat_store32(p, &r->state, S_OPEN);
    e->open = first;
    e->sw_tail = radd(e, first, 1); /* the wait's slot, moved along as participants join */
}

/* Write the open batch's wait descriptor and move the tail: one MMIO write for everyone. */
static void close_and_send(qi_engine *e, qi_platform *p)
{
    uint32_t first = e->open;
    qi_slot *r = &e->slot[first];
    uint32_t w = radd(e, first, r->ndesc);
    vtd_desc wait =
        vtd_make_wait(true, false, false, r->seq, qi_plat_virt_to_phys(p, &e->status[first]));
    put_desc(e, w, &wait);
    if (w != first)
        e->slot[w].flags = 0;
    r->len = (uint16_t)(r->ndesc + 1);
    qi_plat_store32(p, &r->state, S_SENT);
    e->hw_tail = radd(e, w, 1);
    e->prev_sent = e->last_sent;
    e->prev_sent_seq = e->last_sent_seq;
    e->last_sent = first;
    e->last_sent_seq = r->seq;
    e->last_joined = r->joined & 0xFFFFu;
    e->open = NONE;
    e->stats.batches++;
    qi_plat_wmb(p);
    qi_plat_write32(p, VTD_REG_IQT, e->hw_tail << e->shift);
}

/* Append k descriptors of `d` (skipping device-TLB ones for `skip_sid` if `skip`) to the open
 * batch. Returns the first slot written. */
static uint32_t append(qi_engine *e, const vtd_desc *d, unsigned n, bool skip, uint16_t skip_sid,
                       uint32_t k)
{
    qi_slot *r = &e->slot[e->open];
    uint32_t at = radd(e, e->open, r->ndesc), s = at;
    for (unsigned i = 0; i < n; i++) {
        if (skip && is_devtlb_for(&d[i], skip_sid))
            continue;
        put_desc(e, s, &d[i]);
        if (s != e->open)
            e->slot[s].flags = 0;
        else
            e->slot[s].flags &= ~SF_BAD;
        s = radd(e, s, 1);
    }
    r->ndesc = (uint16_t)(r->ndesc + k);
    e->sw_tail = radd(e, e->sw_tail, k);
    return at;
}

/* Side effects of a batch leaving the ring complete (not aborted: those happen at abort). */
static void batch_completed(qi_engine *e, uint32_t first, uint64_t now)
{
    qi_slot *r = &e->slot[first];
    if (r->flags & SF_HAS_DEV) {
        e->lane_n--;
        e->dev_batches--;
        struct qi_dev *d = dev_find(e, r->dev_sid);
        if (d && d->state == D_NORMAL)
            d->strikes = 0;
    }
    if (r->flags & SF_FENCE) {
        for (unsigned i = 0; i < e->ndev; i++) {
            struct qi_dev *d = &e->dev[i];
            if (d->state == D_FENCING && d->fence_first == first && d->fence_seq == r->seq)
                d->state = D_QUARANTINED;
        }
    }
    (void)now;
}

/*
 * Reclaim: walk the sent batches from the oldest. A complete batch (its status word holds its
 * sequence) or a DEAD one frees everything up to its end (waits complete in order, so nothing
 * before a completed wait is still in the hardware); a NEUTRAL one is freed once something
 * after it is, or once IQH (`head`, NONE if not read) is past it. A batch some participant
 * still looks at stops the walk. With apply == false nothing changes: the count of slots that
 * would stay in use is returned (introspection at quiescence).
 */
static uint32_t reclaim_walk(qi_engine *e, qi_platform *p, bool apply, uint32_t head, uint64_t now)
{
    uint32_t pos = e->reclaim, commit = e->reclaim;
    uint32_t hd = head == NONE ? 0 : rdist(e, e->reclaim, head);
    while (pos != e->hw_tail) {
        qi_slot *r = &e->slot[pos];
        uint32_t end = radd(e, pos, r->len);
        if (left_of(p, r) != r->joined)
            break;
        bool passed = r->state == S_DEAD ||
                      (r->state == S_SENT && vread(&e->status[pos]) == r->seq) ||
                      (r->state == S_NEUTRAL && head != NONE && rdist(e, e->reclaim, end) <= hd);
        if (r->state == S_NEUTRAL && !passed) {
            pos = end; /* freed together with a later batch, if one is done */
            continue;
        }
        if (!passed)
            break;
        if (apply) {
            /* Free every batch up to here, applying completion effects in order. */
            while (commit != end) {
                qi_slot *c = &e->slot[commit];
                uint32_t cend = radd(e, commit, c->len);
                if (c->state == S_SENT)
                    batch_completed(e, commit, now);
                else if (c->state == S_NEUTRAL)
                    e->neutral_n--;
                if (commit == e->last_sent)
                    e->last_sent = NONE;
                if (commit == e->prev_sent)
                    e->prev_sent = NONE;
                c->state = S_FREE;
                commit = cend;
            }
        }
        commit = end;
        pos = end;
    }
    if (apply)
        e->reclaim = commit;
    return rdist(e, commit, e->sw_tail);
}

static void reclaim(qi_engine *e, qi_platform *p, uint64_t now)
{
    reclaim_walk(e, p, true, NONE, now);
}

/* Reclaim with the hardware head: lets NEUTRAL batches go without a later completion. */
static void reclaim_hard(qi_engine *e, qi_platform *p, uint64_t now)
{
    uint32_t head = reg_index(e, qi_plat_read64(p, VTD_REG_IQH));
    reclaim_walk(e, p, true, head, now);
}

/* Which sent batch holds `slot` (NONE if none). */
static uint32_t batch_of(qi_engine *e, uint32_t slot)
{
    uint32_t d = rdist(e, e->reclaim, slot);
    for (uint32_t pos = e->reclaim; pos != e->hw_tail; pos = radd(e, pos, e->slot[pos].len))
        if (d < rdist(e, e->reclaim, radd(e, pos, e->slot[pos].len)))
            return pos;
    return NONE;
}

/* ---------------------------------------------------------------------------------------------
 * Quarantine (fence) of a device.
 */

static void start_quarantine(qi_engine *e, qi_platform *p, struct qi_dev *d)
{
    if (dev_blocked(d))
        return;
    unsigned n = 0;
    if (e->ops && e->ops->fence) {
        n = e->ops->fence(e->cookie, p, d->sid, d->fence, QI_ENGINE_FENCE_MAX);
        if (n > QI_ENGINE_FENCE_MAX)
            n = QI_ENGINE_FENCE_MAX;
        d->fenced = true;
    }
    d->nfence = (uint8_t)n;
    d->unfence_pending = false; /* fence[] holds the fence now; the new one supersedes it */
    d->state = n ? D_FENCE_WANTED : D_QUARANTINED;
    d->strikes = 0;
    e->stats.quarantines++;
    qi_plat_log(p, QI_LOG_WARN, "qi-engine: device quarantined (sid, fence descriptors)", d->sid,
                n);
}

/* Queue what is waiting for the ring: fences of newly quarantined devices. Each goes out at
 * once (its batch is sent immediately, joined by whatever was open). */
static void service(qi_engine *e, qi_platform *p, uint64_t now)
{
    for (unsigned i = 0; i < e->ndev; i++) {
        struct qi_dev *d = &e->dev[i];
        if (d->state != D_FENCE_WANTED)
            continue;
        uint32_t k = d->nfence;
        if (e->open != NONE &&
            (e->slot[e->open].ndesc + k > e->max_batch || !space_for(e, k, false)))
            close_and_send(e, p);
        if (e->open == NONE) {
            if (!space_for(e, k + 1, false))
                reclaim(e, p, now);
            if (!space_for(e, k + 1, false))
                return; /* later: someone waiting for the fence retries */
            open_batch(e, p, now);
        }
        append(e, d->fence, k, false, 0, k);
        e->slot[e->open].flags |= SF_FENCE;
        d->fence_first = e->open;
        d->fence_seq = e->slot[e->open].seq;
        d->state = D_FENCING;
        close_and_send(e, p);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Fault recovery. Called with the lock held, interrupts off; never waits.
 */

static void get_desc(const qi_engine *e, uint32_t slot, vtd_desc *d)
{
    const volatile uint64_t *q = (const volatile uint64_t *)(e->ring + ((size_t)slot << e->shift));
    d->qw[0] = q[0];
    d->qw[1] = q[1];
    d->qw[2] = e->dw256 ? q[2] : 0;
    d->qw[3] = e->dw256 ? q[3] : 0;
}

/*
 * Which slot did the hardware reject? The hardware stops fetching at the first descriptor it
 * rejects, so the first slot from IQH on that our own validator also rejects is it. If none
 * is (the hardware is stricter than vtd_validate), it is the one at IQH — but under a head
 * that stays on unfinished work, IQH may still be on earlier descriptors in progress: it is
 * trusted only once it has stayed put (long enough for a device-TLB invalidation there to be
 * rejected rather than in progress). NONE: look again later.
 */
static uint32_t iqe_culprit(qi_engine *e, uint32_t head, uint64_t now)
{
    vtd_desc d;
    for (uint32_t s = head; s != e->hw_tail; s = radd(e, s, 1)) {
        get_desc(e, s, &d);
        if (vtd_validate(&d, &e->vctx, NULL))
            return s;
    }
    if (e->iqe_head != head) {
        e->iqe_head = head;
        e->iqe_since = now;
        return NONE;
    }
    get_desc(e, head, &d);
    uint16_t sid;
    uint64_t settle = devtlb_target(&d, &sid) ? e->iommu_timeout : FIRST_CHECK_NS / 2;
    return now - e->iqe_since >= settle ? head : NONE;
}

/* IQE: the hardware stopped at a rejected descriptor. Mark its slot (its submitter fails with
 * QI_ERR_MALFORMED once its batch completes), overwrite it with a harmless descriptor, clear
 * IQE: the rest of the queue goes on. */
static void recover_iqe(qi_engine *e, qi_platform *p)
{
    uint32_t head = reg_index(e, qi_plat_read64(p, VTD_REG_IQH));
    uint64_t iqercd = qi_plat_read64(p, VTD_REG_IQERCD);
    unsigned iqei = (unsigned)(iqercd & VTD_IQERCD_IQEI_MASK);
    if (iqei == VTD_IQEI_TAIL || iqei == VTD_IQEI_TAIL_ALIGN) {
        /* A register-level error: our tail values are well-formed by construction. */
        qi_plat_log(p, QI_LOG_ERR, "qi-engine: IQE on the tail register (IQEI, tail)", iqei,
                    e->hw_tail);
        qi_plat_write32(p, VTD_REG_IQT, e->hw_tail << e->shift);
    } else {
        uint32_t bad = iqe_culprit(e, head, qi_plat_now_ns(p));
        if (bad == NONE) {
            note(p, "qi-engine: IQE: head may still move, looking again later (IQH)", head, 0);
            return;
        }
        head = bad;
        e->iqe_head = NONE;
        uint32_t b = batch_of(e, head);
        qi_plat_store32(p, &e->slot[head].flags, e->slot[head].flags | SF_BAD);
        qi_plat_store32(p, &e->iqe_serial, e->iqe_serial + 1);
        put_neutral(e, p, head);
        note(p, "qi-engine: IQE: descriptor rejected, replaced (slot, batch)", head, b);
        if (b != NONE && radd(e, b, e->slot[b].len - 1u) == head) {
            /* Our own wait was refused (never expected): nothing of the batch will report. */
            e->slot[b].abort_ite = e->ite_serial;
            mark_aborted(e, p, b, S_NEUTRAL);
            e->neutral_n++;
        }
    }
    e->stats.iqe++;
    qi_plat_wmb(p);
    qi_plat_write32(p, VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
    /* Resume. The specification has the hardware fetch again from IQH once IQE is clear, but
     * some implementations (QEMU's intel-iommu) look at the queue only when the tail is
     * written: without a tail write the repaired batch, and every batch behind it, would wait
     * until their deadlines. So write the tail again. Invariant: under the lock hw_tail is
     * the value last written to IQT (close_and_send), so this write moves nothing: where the
     * clear already resumed it publishes nothing new and breaks no ordering (tail writes stay
     * in ring order, after the wmb that published the repair). */
    qi_plat_write32(p, VTD_REG_IQT, e->hw_tail << e->shift);
}

struct suspect {
    uint16_t sid;
    uint64_t first_sent;
    bool excused_all; /* every aborted batch of it predates its last reset */
    bool abandoned;   /* a blamed batch has no device-TLB participant waiting any more */
    uint32_t gen_min;
};

static void add_suspect(qi_platform *p, struct suspect *s, unsigned *ns, qi_slot *r)
{
    unsigned i;
    for (i = 0; i < *ns; i++)
        if (s[i].sid == r->dev_sid)
            break;
    if (i == *ns) {
        if (*ns == MAX_SUSPECTS)
            return;
        (*ns)++;
        s[i].sid = r->dev_sid;
        s[i].first_sent = r->sent_ns;
        s[i].abandoned = false;
        s[i].gen_min = r->gen;
    }
    if (r->sent_ns < s[i].first_sent)
        s[i].first_sent = r->sent_ns;
    if (r->gen < s[i].gen_min)
        s[i].gen_min = r->gen;
    if (((left_of(p, r) ^ r->joined) & DEV_ONE * 0xFFFFu) == 0 && r->joined >= DEV_ONE)
        s[i].abandoned = true;
}

/*
 * ITE: every wait the hardware had fetched and not completed is aborted, fetching stopped.
 * With the error still set (so no status write can race us): find every sent batch that did
 * not complete; DEAD if its wait was behind IQH (fetched, aborted: never written), else
 * overwrite its slots at and after IQH with harmless waits (NEUTRAL) — under a head that
 * stays on unfinished work the hardware would otherwise run them again, including the
 * timed-out device-TLB invalidation. Then blame: ITESID when reported, else elimination (the
 * only device with device-TLB work in the aborted batches or possibly still in flight). Then
 * queue a wait behind the neutralised slots and clear ITE. Participants of aborted batches
 * resubmit their own descriptors; the culprit's decide with the device's strikes.
 */
/* The suspects of one ITE and what it did to the queue. */
struct ite_scan {
    struct suspect sus[MAX_SUSPECTS];
    unsigned ns, aborted, neutralised;
};

/* Abort one incomplete sent batch (step 2 of the recovery, docs/engine.md). */
static void abort_batch(qi_engine *e, qi_platform *p, uint32_t pos, uint32_t hd, uint32_t serial,
                        struct ite_scan *sc)
{
    qi_slot *r = &e->slot[pos];
    uint32_t w = radd(e, pos, r->len - 1u);
    uint32_t st = S_DEAD;
    if (rdist(e, e->reclaim, w) >= hd) {
        for (uint32_t s = pos, i = 0; i < r->len; i++, s = radd(e, s, 1))
            if (rdist(e, e->reclaim, s) >= hd)
                put_neutral(e, p, s);
        st = S_NEUTRAL;
    }
    r->abort_ite = serial;
    mark_aborted(e, p, pos, st);
    sc->neutralised += st == S_NEUTRAL;
    sc->aborted++;
    if (r->flags & SF_HAS_DEV) {
        e->lane_n--;
        e->dev_batches--;
        add_suspect(p, sc->sus, &sc->ns, r);
    }
    if (r->flags & SF_FENCE) {
        for (unsigned i = 0; i < e->ndev; i++) {
            struct qi_dev *d = &e->dev[i];
            if (d->state == D_FENCING && d->fence_first == pos && d->fence_seq == r->seq)
                d->state = D_FENCE_WANTED;
        }
    }
}

/* Whose time-out: ITESID when reported, else the only device that can have caused it (the one
 * suspect, and no other device whose requests may still be out on the link); -1 if unknown. */
static int ite_culprit(const qi_engine *e, uint16_t itesid, const struct ite_scan *sc, uint64_t now)
{
    if (itesid != 0)
        return itesid;
    unsigned cand = sc->ns;
    int only = sc->ns == 1 ? sc->sus[0].sid : -1;
    for (unsigned i = 0; i < e->ndev; i++) {
        const struct qi_dev *d = &e->dev[i];
        bool listed = false;
        for (unsigned k = 0; k < sc->ns; k++)
            listed |= sc->sus[k].sid == d->sid;
        if (d->state != D_FREE && d->taint_until > now && !listed) {
            cand++;
            only = d->sid;
        }
    }
    return cand == 1 ? only : -1;
}

/* Requests of every suspect may still be out on the link: until the time-out that just fired
 * has elapsed once more, a later ITE may be theirs. */
static void taint_suspects(qi_engine *e, const struct ite_scan *sc, uint64_t now)
{
    for (unsigned k = 0; k < sc->ns; k++) {
        struct qi_dev *d = dev_get(e, sc->sus[k].sid, now);
        uint64_t waited = now - sc->sus[k].first_sent;
        uint64_t until = time_add(time_add(now, waited), waited / 8);
        if (d && until > d->taint_until)
            d->taint_until = until;
    }
}

/* A strike for the culprit (not for a time-out of work sent before its reset, nor while it is
 * quarantined); past the retry budget, or with nobody waiting for its work, quarantine. */
static void blame(qi_engine *e, qi_platform *p, int culprit, const struct ite_scan *sc,
                  uint32_t serial, uint64_t now)
{
    if (culprit < 0) {
        note(p, "qi-engine: ITE, culprit unknown (suspects, batches aborted)", sc->ns, sc->aborted);
        return;
    }
    struct qi_dev *d = dev_get(e, (uint16_t)culprit, now);
    const struct suspect *s = NULL;
    for (unsigned k = 0; k < sc->ns; k++)
        if (sc->sus[k].sid == (uint16_t)culprit)
            s = &sc->sus[k];
    if (!d) {
        e->stats.untracked++;
        qi_plat_log(p, QI_LOG_ERR, "qi-engine: device table full, ITE not counted (sid)",
                    (uint64_t)culprit, 0);
    } else if (s && d->state == D_NORMAL && s->gen_min >= d->reset_gen) {
        d->strikes++;
        d->last_blame = serial;
        note(p, "qi-engine: ITE blamed on (sid, strikes)", (uint64_t)culprit, d->strikes);
        if (d->strikes > e->retry_budget || s->abandoned)
            start_quarantine(e, p, d);
    } else {
        note(p, "qi-engine: ITE of (sid), not counted against it (reset, quarantine)",
             (uint64_t)culprit, d->state);
    }
}

static void recover_ite(qi_engine *e, qi_platform *p)
{
    uint32_t head = reg_index(e, qi_plat_read64(p, VTD_REG_IQH));
    uint64_t iqercd = qi_plat_read64(p, VTD_REG_IQERCD);
    uint16_t itesid = (uint16_t)(iqercd >> VTD_IQERCD_ITESID_SHIFT);
    uint64_t now = qi_plat_now_ns(p);
    uint32_t serial = e->ite_serial + 1;
    qi_plat_store32(p, &e->ite_serial, serial);
    uint32_t hd = rdist(e, e->reclaim, head), td = rdist(e, e->reclaim, e->hw_tail);
    struct ite_scan sc = {.ns = 0};

    e->stats.ite++;
    if (hd > td) {
        qi_plat_log(p, QI_LOG_ERR, "qi-engine: IQH outside the outstanding range (head, tail)",
                    head, e->hw_tail);
        hd = 0;
    }
    for (uint32_t pos = e->reclaim; pos != e->hw_tail; pos = radd(e, pos, e->slot[pos].len))
        if (e->slot[pos].state == S_SENT && vread(&e->status[pos]) != e->slot[pos].seq)
            abort_batch(e, p, pos, hd, serial, &sc);
    e->stats.aborted += sc.aborted;
    e->neutral_n += sc.neutralised;
    if (itesid != 0)
        e->itesid_trusted = true;
    int culprit = ite_culprit(e, itesid, &sc, now);
    taint_suspects(e, &sc, now);
    blame(e, p, culprit, &sc, serial, now);

    /* Something must follow the neutralised slots and report: a fence, the open batch, or a
     * wait of our own (the reserved slot). */
    service(e, p, now);
    if (sc.neutralised && (e->last_sent == NONE || e->slot[e->last_sent].state != S_SENT)) {
        if (e->open == NONE && space_for(e, 1, true))
            open_batch(e, p, now);
        if (e->open != NONE)
            close_and_send(e, p);
    }
    qi_plat_wmb(p);
    qi_plat_write32(p, VTD_REG_FSTS, (uint32_t)VTD_FSTS_ITE);
}

static void handle_faults(qi_engine *e, qi_platform *p)
{
    uint32_t fsts = qi_plat_read32(p, VTD_REG_FSTS);
    e->stats.fsts_reads++;
    if (fsts & VTD_FSTS_IQE)
        recover_iqe(e, p);
    if (fsts & VTD_FSTS_ITE)
        recover_ite(e, p);
    if (fsts & VTD_FSTS_ICE) {
        uint64_t iqercd = qi_plat_read64(p, VTD_REG_IQERCD);
        e->stats.ice++;
        note(p, "qi-engine: ICE cleared (ICESID)", (uint16_t)(iqercd >> VTD_IQERCD_ICESID_SHIFT),
             0);
        qi_plat_write32(p, VTD_REG_FSTS, (uint32_t)VTD_FSTS_ICE);
    }
}

/* A waiter's rare look at the fault register (and the watchdog). */
static void slow_tick(qi_engine *e, qi_platform *p)
{
    qi_plat_watchdog_touch(p);
    uint32_t fsts = qi_plat_read32(p, VTD_REG_FSTS);
    if (!(fsts & VTD_FSTS_ERRORS))
        return;
    unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
    handle_faults(e, p);
    service(e, p, qi_plat_now_ns(p));
    qi_plat_unlock_irqrestore(p, &e->lock, fl);
}

/* When to look at the fault register next: after about half the time waited so far (at
 * least FIRST_CHECK_NS, at most MAX_CHECK_NS), on a multiple of a power-of-two interval, so
 * that CPUs waiting for the same thing look at the same moments (one read serves all of them
 * in practice, and a simulation can skip the time in between in one step). */
static uint64_t next_check_after(const qi_engine *e, uint64_t now, uint64_t waited)
{
    uint64_t iv = e->first_check;
    while (iv < waited / 2 && iv < MAX_CHECK_NS)
        iv *= 2;
    return time_mul(now / iv + 1, iv);
}

/* ---------------------------------------------------------------------------------------------
 * Submission.
 */

struct call {
    uint64_t start, deadline;
    uint32_t ite_at_start;
    bool explicit_deadline, devclass, counted;
    unsigned retries, own_retries;
    bool dev_err, dev_fenced;
    uint16_t dev_sid;
};

struct part {
    uint32_t first, seq;
    uint32_t pslot, pn;
    uint32_t prev_first, prev_seq;
    uint64_t open_ns, combine_ns;
    uint32_t iqe_at_join; /* e->iqe_serial when the segment was queued */
    bool leader, has_dev;
};

static uint64_t deadline_of(const qi_engine *e, const struct call *c)
{
    if (c->explicit_deadline)
        return c->deadline;
    return time_add(c->start, c->devclass ? e->devtlb_timeout : e->iommu_timeout);
}

/* Has the call's deadline passed? A default deadline of the IOMMU class is first extended
 * to the device-TLB class if device-TLB work is in the queue, or a time-out happened since
 * the call began: then the call may be waiting behind a device (its batch joined by device-TLB
 * work, or queued after some), not for a broken IOMMU. */
static bool past_deadline(qi_engine *e, qi_platform *p, struct call *c, uint64_t now)
{
    if (now < deadline_of(e, c))
        return false;
    if (c->explicit_deadline || c->devclass)
        return true;
    unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
    bool dev = e->dev_batches > 0 || e->ite_serial != c->ite_at_start;
    qi_plat_unlock_irqrestore(p, &e->lock, fl);
    if (!dev)
        return true;
    c->devclass = true;
    return now >= deadline_of(e, c);
}

/* Waiting for something other than our own batch (space, the device-TLB lane, the end of a
 * reset bracket, a fence to be queued): pause with a growing interval, look at faults now and
 * then. Returns false once the deadline has passed. */
struct idle {
    uint64_t since, next_check, step;
};

static void idle_init(const qi_engine *e, struct idle *w, uint64_t now)
{
    w->since = now;
    w->next_check = time_add(now, e->first_check);
    w->step = RETRY_MIN_NS;
}

static bool idle_wait(qi_engine *e, qi_platform *p, struct idle *w, uint64_t deadline)
{
    uint64_t now = qi_plat_now_ns(p);
    uint64_t until = min_u64(min_u64(time_add(now, w->step), w->next_check), deadline);
    while (now < until) {
        qi_plat_relax(p, until);
        now = qi_plat_now_ns(p);
    }
    if (now >= w->next_check) {
        slow_tick(e, p);
        w->next_check = next_check_after(e, now, now - w->since);
    }
    /* Double the pause, up to an eighth of the time waited so far (at least RETRY_MAX_NS, at
     * most MAX_CHECK_NS / 100): a long wait (a reset bracket, a device behind a dead one) costs
     * a logarithmic number of retries. */
    uint64_t cap = (now - w->since) / 8;
    cap = cap < RETRY_MAX_NS ? RETRY_MAX_NS : cap > MAX_CHECK_NS / 100 ? MAX_CHECK_NS / 100 : cap;
    w->step = w->step * 2 < cap ? w->step * 2 : cap;
    return now < deadline;
}

enum wres { W_DONE, W_ABORTED, W_DEADLINE };

/* Wait for the batch a participant is in: its status write, its abort, or the deadline. The
 * participant that opened the batch sends it once the previous batch is finished (or after
 * COMBINE_NS), so that those arriving meanwhile share its wait descriptor. */
static enum wres wait_batch(qi_engine *e, qi_platform *p, struct call *c, struct part *pt)
{
    qi_slot *r = &e->slot[pt->first];
    const volatile uint32_t *status = &e->status[pt->first];
    uint64_t next_check = time_add(pt->open_ns, e->first_check);
    uint64_t wake = min_u64(next_check, deadline_of(e, c)); /* as of the last clock read */
    bool leading = pt->leader;
    unsigned polls = 0;
    for (;;) {
        uint32_t v = qi_plat_load32(p, status);
        if (v == pt->seq)
            return W_DONE;
        if (v == ~pt->seq)
            return W_ABORTED;
        /* A sent batch is only watched: look at the clock once every POLLS_PER_CLOCK polls
         * (a clock read costs more than a status load, and may trap under a hypervisor). The
         * deadline and the next fault check are then noticed at most that many pauses late. A
         * leader keeps reading it: its combining window is short. */
        if (!leading && ++polls < POLLS_PER_CLOCK) {
            qi_plat_relax(p, wake);
            continue;
        }
        polls = 0;
        uint64_t now = qi_plat_now_ns(p), dl = deadline_of(e, c);
        if (leading && qi_plat_load32(p, &r->state) != S_OPEN)
            leading = false; /* sent (by us, a joiner or a recovery) */
        if (leading) {
            uint32_t pv =
                pt->prev_first == NONE ? 0 : qi_plat_load32(p, &e->status[pt->prev_first]);
            bool prev_done = pt->prev_first == NONE || pv == pt->prev_seq || pv == ~pt->prev_seq;
            uint64_t give_up = time_add(pt->open_ns, pt->combine_ns);
            if (prev_done || now >= give_up || now >= dl) {
                unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
                if (e->open == pt->first)
                    close_and_send(e, p);
                qi_plat_unlock_irqrestore(p, &e->lock, fl);
                leading = false; /* sent now, by us or before us */
                continue;
            }
            qi_plat_relax(p, min_u64(give_up, dl));
            continue;
        }
        if (now >= dl && past_deadline(e, p, c, now))
            return W_DEADLINE;
        dl = deadline_of(e, c);
        if (now >= next_check) {
            slow_tick(e, p);
            next_check = next_check_after(e, now, now - pt->open_ns);
            polls = POLLS_PER_CLOCK; /* look at the status, then the clock, again */
            continue;
        }
        wake = min_u64(next_check, dl);
        qi_plat_relax(p, wake);
    }
}

/* Leave a batch we waited in (the record may be reused once everyone who joined has left):
 * one atomic add, counting device-TLB participants in the upper half. */
static void leave(qi_platform *p, qi_slot *r, bool dev)
{
    qi_plat_fetch_add32(p, &r->left, dev ? DEV_ONE + 1 : 1);
}

enum jres { J_JOINED, J_WAIT, J_ALL_FILTERED };

/*
 * Under the lock: put a segment into the open batch (opening one if needed). Device-TLB
 * invalidations for a quarantined device are left out (*filtered); a device in a reset
 * bracket makes us wait; so does another device's device-TLB work in flight unless the
 * hardware reports ITESID (then a time-out names its device anyway).
 */
static enum jres try_join(qi_engine *e, qi_platform *p, struct call *c, const vtd_desc *d,
                          unsigned n, bool has_dev, uint16_t sid, uint64_t now, struct part *pt,
                          bool *filtered)
{
    uint32_t k = n;
    *filtered = false;
    reclaim(e, p, now);
    if (has_dev) {
        struct qi_dev *dv = dev_find(e, sid);
        if (dv && dv->state == D_RESET)
            return J_WAIT;
        if (dv && dev_blocked(dv)) {
            *filtered = true;
            for (unsigned i = 0; i < n; i++)
                k -= is_devtlb_for(&d[i], sid);
            if (k == 0)
                return J_ALL_FILTERED;
        }
    }
    bool dev = has_dev && !*filtered;
    if (dev && e->lane_n && e->lane_sid != sid && !e->itesid_trusted)
        return J_WAIT;
    if (e->dev_batches > 0)
        c->devclass = true;
    if (e->open != NONE) {
        qi_slot *o = &e->slot[e->open];
        bool fits = !(e->flags & QI_ENGINE_F_NO_COMBINE) && o->ndesc + k <= e->max_batch &&
                    (o->joined & 0xFFFFu) < MAX_JOINED &&
                    (!dev || !(o->flags & SF_HAS_DEV) || o->dev_sid == sid) &&
                    space_for(e, k, false);
        if (fits)
            goto join;
        close_and_send(e, p);
    }
    if (!space_for(e, k + 1, false)) {
        if (e->neutral_n)
            reclaim_hard(e, p, now);
        if (!space_for(e, k + 1, false))
            return J_WAIT;
    }
    open_batch(e, p, now);
    pt->leader = true;
    pt->prev_first = e->last_sent;
    /* Waiting for a batch that waits for a device round trip would only add latency: then
     * give company a short moment only. */
    pt->combine_ns = e->last_sent != NONE && (e->slot[e->last_sent].flags & SF_HAS_DEV)
                         ? COMBINE_DEV_NS
                         : COMBINE_NS;
    pt->prev_seq = e->last_sent_seq;
    goto joined;
join:
    pt->leader = false;
    e->stats.joined++;
joined : {
    qi_slot *r = &e->slot[e->open];
    pt->first = e->open;
    pt->seq = r->seq;
    pt->open_ns = r->sent_ns;
    pt->has_dev = dev;
    pt->pn = k;
    pt->pslot = append(e, d, n, *filtered, sid, k);
    if (!c->counted) {
        c->counted = true;
        e->stats.submits++;
    }
    e->stats.descriptors += k;
    r->joined += dev ? DEV_ONE + 1 : 1;
    if (dev) {
        if (!(r->flags & SF_HAS_DEV)) {
            r->flags |= SF_HAS_DEV;
            r->dev_sid = sid;
            e->lane_sid = sid;
            e->lane_n++;
            e->dev_batches++;
            c->devclass = true;
        }
    }
    /* Send at once while the last batch went out alone (nobody around to share with) and the
     * hardware is free (hw_free); otherwise the opener sends it once the previous batch is
     * done, or after a short while, and those who take the lock meanwhile join it. */
    pt->iqe_at_join = e->iqe_serial;
    if ((e->flags & QI_ENGINE_F_NO_COMBINE) || (pt->leader && hw_free(e) && e->last_joined <= 1)) {
        close_and_send(e, p);
        pt->leader = false; /* nothing left to lead */
    }
    return J_JOINED;
}
}

/* After a filtered segment: wait until the quarantined device's fence is in effect. Returns 0
 * (fenced), 1 (the device is no longer quarantined: send again), -1 (deadline). */
static int wait_fenced(qi_engine *e, qi_platform *p, struct call *c, uint16_t sid, bool *fenced)
{
    struct idle w;
    idle_init(e, &w, qi_plat_now_ns(p));
    for (;;) {
        uint64_t now = qi_plat_now_ns(p);
        if (past_deadline(e, p, c, now))
            return -1;
        unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
        service(e, p, now);
        reclaim(e, p, now);
        struct qi_dev *d = dev_find(e, sid);
        if (!d || !dev_blocked(d)) {
            qi_plat_unlock_irqrestore(p, &e->lock, fl);
            return 1;
        }
        *fenced = d->fenced;
        if (d->state == D_QUARANTINED) {
            qi_plat_unlock_irqrestore(p, &e->lock, fl);
            return 0;
        }
        if (d->state == D_FENCING) {
            qi_slot *r = &e->slot[d->fence_first];
            struct part pt = {.first = d->fence_first,
                              .seq = d->fence_seq,
                              .open_ns = r->sent_ns,
                              .prev_first = NONE};
            r->joined++;
            qi_plat_unlock_irqrestore(p, &e->lock, fl);
            enum wres wr = wait_batch(e, p, c, &pt);
            leave(p, r, false);
            if (wr == W_DONE)
                return 0;
            if (wr == W_DEADLINE)
                return -1;
            continue;
        }
        qi_plat_unlock_irqrestore(p, &e->lock, fl);
        idle_wait(e, p, &w, deadline_of(e, c));
    }
}

/* Index in the caller's array of the j-th descriptor actually queued. */
static unsigned caller_index(const vtd_desc *d, unsigned n, bool filtered, uint16_t sid, unsigned j)
{
    for (unsigned i = 0; i < n; i++) {
        if (filtered && is_devtlb_for(&d[i], sid))
            continue;
        if (j-- == 0)
            return i;
    }
    return 0;
}

/* Which of our slots did the hardware reject? -1 if none. Read after the batch's status word
 * (which the hardware writes after the repair), so an IQE repair of ours is visible; when no
 * slot was marked since we joined, there is nothing to look at. */
static int bad_slot(qi_engine *e, qi_platform *p, const struct part *pt)
{
    if (qi_plat_load32(p, &e->iqe_serial) == pt->iqe_at_join)
        return -1;
    for (uint32_t j = 0, s = pt->pslot; j < pt->pn; j++, s = radd(e, s, 1))
        if (qi_plat_load32(p, &e->slot[s].flags) & SF_BAD)
            return (int)j;
    return -1;
}

/* The segment's device-TLB invalidations for `sid` were left out (quarantine): once the fence
 * is in effect, record the device error in *c (0). 1: the quarantine was lifted meanwhile,
 * send them after all. -1: the deadline passed (*res filled). */
static int end_filtered(qi_engine *e, qi_platform *p, struct call *c, uint16_t sid, qi_result *res)
{
    bool fenced = false;
    int f = wait_fenced(e, p, c, sid, &fenced);
    if (f < 0) {
        res->status = QI_ERR_DEADLINE;
        res->pending = false;
        return -1;
    }
    if (f == 0) {
        c->dev_err = true;
        c->dev_sid = sid;
        c->dev_fenced = fenced;
    }
    return f;
}

/* One segment: descriptors sharing one batch (device-TLB work for at most one device). Returns
 * 0 when done (device errors are recorded in *c), -1 with *res filled otherwise. */
static int run_segment(qi_engine *e, qi_platform *p, struct call *c, const vtd_desc *d, unsigned n,
                       unsigned base, uint64_t now, qi_result *res)
{
    uint16_t sid = 0;
    bool has_dev = false;
    for (unsigned i = 0; i < n && !has_dev; i++)
        has_dev = devtlb_target(&d[i], &sid);
    if (has_dev)
        c->devclass = true;
    struct idle w;
    idle_init(e, &w, now);
    for (bool first = true;; first = false) {
        if (!first)
            now = qi_plat_now_ns(p);
        if (past_deadline(e, p, c, now)) {
            res->status = QI_ERR_DEADLINE;
            res->pending = false;
            return -1;
        }
        struct part pt = {.prev_first = NONE};
        bool filtered;
        unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
        service(e, p, now);
        enum jres j = try_join(e, p, c, d, n, has_dev, sid, now, &pt, &filtered);
        qi_plat_unlock_irqrestore(p, &e->lock, fl);
        if (j == J_WAIT) {
            idle_wait(e, p, &w, deadline_of(e, c));
            continue;
        }
        if (j == J_ALL_FILTERED) {
            int f = end_filtered(e, p, c, sid, res);
            if (f <= 0)
                return f;
            continue;
        }

        enum wres wr = wait_batch(e, p, c, &pt);
        qi_slot *r = &e->slot[pt.first];
        int bad = bad_slot(e, p, &pt);
        uint32_t abort_ite = r->abort_ite;
        if (wr == W_DEADLINE && pt.leader) {
            fl = qi_plat_lock_irqsave(p, &e->lock);
            if (e->open == pt.first)
                close_and_send(e, p); /* never strand those who joined us */
            qi_plat_unlock_irqrestore(p, &e->lock, fl);
        }
        leave(p, r, pt.has_dev);
        if (bad >= 0) {
            res->status = QI_ERR_MALFORMED;
            res->index = base + caller_index(d, n, filtered, sid, (unsigned)bad);
            res->others_done = wr == W_DONE;
            return -1;
        }
        if (wr == W_DEADLINE) {
            res->status = QI_ERR_DEADLINE;
            res->pending = true;
            return -1;
        }
        if (wr == W_DONE) {
            if (!filtered)
                return 0;
            int f = end_filtered(e, p, c, sid, res);
            if (f <= 0)
                return f;
            continue; /* no longer quarantined: its invalidations go out after all */
        }

        /* Aborted by an ITE: were we the culprit? */
        c->retries++;
        now = qi_plat_now_ns(p);
        fl = qi_plat_lock_irqsave(p, &e->lock);
        e->stats.resubmits++;
        if (pt.has_dev) {
            struct qi_dev *dv = dev_find(e, sid);
            if (dv && dv->state == D_NORMAL && dv->last_blame == abort_ite) {
                c->own_retries++;
                bool affordable = time_add(now, now - pt.open_ns) <= deadline_of(e, c);
                if (c->own_retries > e->retry_budget || !affordable)
                    start_quarantine(e, p, dv);
            }
        }
        qi_plat_unlock_irqrestore(p, &e->lock, fl);
        idle_init(e, &w, now);
    }
}

void qi_engine_submit(qi_engine *e, qi_platform *p, const vtd_desc *descs, unsigned n,
                      const qi_submit_opts *opts, qi_result *res)
{
    res->status = QI_OK;
    res->pending = false;
    res->fenced = false;
    res->others_done = false;
    res->sid = 0;
    res->index = 0;
    res->retries = 0;
    if (!e->enabled || (n && !descs)) {
        res->status = QI_ERR_INVALID;
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        if (vtd_desc_type(&descs[i]) == VTD_DESC_WAIT ||
            (!(e->flags & QI_ENGINE_F_NO_VALIDATE) && vtd_validate(&descs[i], &e->vctx, NULL))) {
            res->status = QI_ERR_MALFORMED;
            res->index = i;
            return;
        }
    }
    struct call c = {.start = qi_plat_now_ns(p), .ite_at_start = qi_plat_load32(p, &e->ite_serial)};
    if (opts && opts->deadline_ns) {
        c.explicit_deadline = true;
        c.deadline = opts->deadline_ns;
    }
    /* Segments: at most max_batch descriptors (and what the ring holds with one wait), device-
     * TLB invalidations for one device at most. */
    uint32_t chunk = e->limit - 2u < e->max_batch ? e->limit - 2u : e->max_batch;
    unsigned pos = 0;
    do {
        unsigned end = pos;
        bool have = false;
        uint16_t sid = 0, s;
        while (end < n && end - pos < chunk) {
            if (devtlb_target(&descs[end], &s)) {
                if (have && s != sid)
                    break;
                have = true;
                sid = s;
            }
            end++;
        }
        if (run_segment(e, p, &c, descs + pos, end - pos, pos, pos ? qi_plat_now_ns(p) : c.start,
                        res)) {
            res->retries = c.retries;
            if (res->status == QI_ERR_DEADLINE) {
                unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
                e->stats.deadline_hit++;
                qi_plat_unlock_irqrestore(p, &e->lock, fl);
            }
            return;
        }
        pos = end;
    } while (pos < n);
    res->retries = c.retries;
    if (c.dev_err) {
        res->status = QI_ERR_DEVICE;
        res->sid = c.dev_sid;
        res->fenced = c.dev_fenced;
        res->others_done = true;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Interrupts, devices, set-up.
 */

void qi_engine_fault_irq(qi_engine *e, qi_platform *p)
{
    unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
    if (e->enabled) {
        handle_faults(e, p);
        service(e, p, qi_plat_now_ns(p));
    }
    qi_plat_unlock_irqrestore(p, &e->lock, fl);
}

static struct qi_dev *dev_get_or_log(qi_engine *e, qi_platform *p, uint16_t sid, const char *msg)
{
    struct qi_dev *d = dev_get(e, sid, qi_plat_now_ns(p));
    if (!d) {
        e->stats.untracked++;
        qi_plat_log(p, QI_LOG_ERR, msg, sid, e->ndev);
    }
    return d;
}

int qi_engine_device_gone(qi_engine *e, qi_platform *p, uint16_t sid)
{
    unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
    struct qi_dev *d =
        dev_get_or_log(e, p, sid, "qi-engine: device table full, cannot quarantine (sid, size)");
    if (d) {
        if (d->state == D_RESET)
            d->state = D_NORMAL;
        start_quarantine(e, p, d);
        if (e->enabled)
            service(e, p, qi_plat_now_ns(p));
    }
    qi_plat_unlock_irqrestore(p, &e->lock, fl);
    return d ? 0 : QI_ENOSPC;
}

int qi_engine_device_reset_begin(qi_engine *e, qi_platform *p, uint16_t sid)
{
    unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
    struct qi_dev *d =
        dev_get_or_log(e, p, sid, "qi-engine: device table full, reset not tracked (sid, size)");
    if (d) {
        d->reset_gen = ++e->reset_gen;
        d->state = D_RESET;
        d->strikes = 0;
        note(p, "qi-engine: reset bracket begins (sid)", sid, 0);
    }
    qi_plat_unlock_irqrestore(p, &e->lock, fl);
    return d ? 0 : QI_ENOSPC;
}

/* Under the lock: end the bracket or quarantine of `d` and take the unfence descriptors to
 * queue (also those of an earlier end whose queuing failed). Returns how many. */
static unsigned take_unfence(qi_engine *e, qi_platform *p, struct qi_dev *d, vtd_desc *un)
{
    unsigned n = 0;
    if (d->state == D_RESET || dev_blocked(d)) {
        if (d->fenced && e->ops && e->ops->unfence) {
            n = e->ops->unfence(e->cookie, p, d->sid, d->fence, QI_ENGINE_FENCE_MAX);
            d->nfence = (uint8_t)(n > QI_ENGINE_FENCE_MAX ? QI_ENGINE_FENCE_MAX : n);
            d->unfence_pending = d->nfence > 0;
        }
        d->fenced = false;
        d->state = D_NORMAL;
        d->strikes = 0;
        note(p, "qi-engine: reset bracket ends (sid, unfence descriptors)", d->sid, d->nfence);
    }
    if (!d->unfence_pending)
        return 0;
    for (unsigned i = 0; i < d->nfence; i++)
        un[i] = d->fence[i];
    return d->nfence;
}

int qi_engine_device_reset_end(qi_engine *e, qi_platform *p, uint16_t sid, uint64_t deadline_ns)
{
    vtd_desc un[QI_ENGINE_FENCE_MAX];
    unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
    struct qi_dev *d = dev_find(e, sid);
    unsigned n = d ? take_unfence(e, p, d, un) : 0;
    qi_plat_unlock_irqrestore(p, &e->lock, fl);
    if (n == 0)
        return 0;
    qi_result r;
    qi_submit_opts o = {.deadline_ns = deadline_ns};
    qi_engine_submit(e, p, un, n, &o, &r);
    if (r.status != QI_OK)
        return r.status == QI_ERR_DEADLINE ? QI_ETIMEOUT : QI_ESTATE;
    fl = qi_plat_lock_irqsave(p, &e->lock);
    d = dev_find(e, sid);
    if (d && d->state == D_NORMAL)
        d->unfence_pending = false; /* (a new quarantine meanwhile keeps its own fence) */
    qi_plat_unlock_irqrestore(p, &e->lock, fl);
    return 0;
}

bool qi_engine_device_quarantined(qi_engine *e, qi_platform *p, uint16_t sid)
{
    unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
    struct qi_dev *d = dev_find(e, sid);
    bool q = d && dev_blocked(d);
    qi_plat_unlock_irqrestore(p, &e->lock, fl);
    return q;
}

int qi_engine_init(qi_engine *e, qi_platform *p, const qi_engine_config *cfg)
{
    uint32_t entries = cfg ? cfg->entries : 0;
    bool dw = cfg && cfg->dw256;
    zero_bytes(e, sizeof(*e));
    if (!cfg || !cfg->queue || !cfg->status || !cfg->slots || (entries & (entries - 1)))
        return QI_EINVAL;
    unsigned qs = 0;
    while (qs <= VTD_IQA_QS_MAX && vtd_queue_entries(qs, dw) < entries)
        qs++;
    if (qs > VTD_IQA_QS_MAX || vtd_queue_entries(qs, dw) != entries)
        return QI_EINVAL;
    if (qi_plat_virt_to_phys(p, cfg->queue) & 0xFFFu)
        return QI_EINVAL;
    uint32_t limit = cfg->max_outstanding ? cfg->max_outstanding : entries - 1;
    if (limit < 3 || limit > entries - 1)
        return QI_EINVAL;
    e->ring = cfg->queue;
    e->status = cfg->status;
    e->slot = cfg->slots;
    e->nslots = entries;
    e->limit = limit;
    e->dw256 = dw;
    e->shift = vtd_desc_shift(dw);
    e->qs = qs;
    e->flags = cfg->flags;
    e->itesid_trusted = (cfg->flags & QI_ENGINE_F_ITESID) != 0;
    e->iommu_timeout = cfg->iommu_timeout_ns ? cfg->iommu_timeout_ns : QI_ENGINE_IOMMU_TIMEOUT_NS;
    e->devtlb_timeout =
        cfg->devtlb_timeout_ns ? cfg->devtlb_timeout_ns : QI_ENGINE_DEVTLB_TIMEOUT_NS;
    e->retry_budget = cfg->retry_budget ? cfg->retry_budget : 1;
    e->max_batch = cfg->max_batch ? cfg->max_batch : 64;
    e->first_check = cfg->flags & QI_ENGINE_F_FAULT_IRQ ? FIRST_CHECK_IRQ_NS : FIRST_CHECK_NS;
    e->ops = cfg->ops;
    e->cookie = cfg->cookie;
    if (!cfg->devices != !cfg->ndevices || cfg->ndevices > 0xFFFFu)
        return QI_EINVAL;
    e->dev = cfg->devices ? cfg->devices : e->dev_builtin;
    e->ndev = cfg->devices ? cfg->ndevices : QI_ENGINE_MAX_DEVICES;
    if (e->dev != e->dev_builtin) /* the built-in records were cleared with *e */
        zero_bytes(e->dev, (size_t)e->ndev * sizeof(*e->dev));
    e->vctx.cap = qi_plat_read64(p, VTD_REG_CAP);
    e->vctx.ecap = qi_plat_read64(p, VTD_REG_ECAP);
    e->vctx.ttm = cfg->ttm;
    e->vctx.dw256 = dw;
    e->vctx.strict_reserved = true;
    e->vctx.haw = 64;
    if (!(e->vctx.ecap & VTD_ECAP_QI))
        return QI_ESTATE;
    if (dw && !(e->vctx.ecap & (VTD_ECAP_SMTS | VTD_ECAP_ADMS)))
        return QI_EINVAL;
    zero_bytes(cfg->slots, (size_t)entries * sizeof(qi_slot));
    for (uint32_t i = 0; i <= entries; i++)
        e->status[i] = 0;
    e->open = NONE;
    e->last_sent = NONE;
    e->prev_sent = NONE;
    e->iqe_head = NONE;
    return 0;
}

int qi_engine_enable(qi_engine *e, qi_platform *p, uint64_t deadline_ns)
{
    if (!e->ring)
        return QI_EINVAL;
    if (qi_plat_read32(p, VTD_REG_GSTS) & VTD_GSTS_QIES)
        return QI_ESTATE;
    uint64_t now = qi_plat_now_ns(p);
    uint64_t dl = deadline_ns ? deadline_ns : time_add(now, e->iommu_timeout);
    unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
    e->reclaim = e->hw_tail = e->sw_tail = 0;
    e->open = e->last_sent = e->prev_sent = NONE;
    e->lane_n = e->dev_batches = e->neutral_n = 0;
    for (uint32_t i = 0; i < e->nslots; i++)
        e->slot[i].state = S_FREE;
    qi_plat_unlock_irqrestore(p, &e->lock, fl);
    qi_plat_write64(p, VTD_REG_IQT, 0);
    qi_plat_write64(p, VTD_REG_IQA,
                    qi_plat_virt_to_phys(p, e->ring) | (e->dw256 ? VTD_IQA_DW : 0) | e->qs);
    uint32_t cmd = (qi_plat_read32(p, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK) | (uint32_t)VTD_GCMD_QIE;
    qi_plat_write32(p, VTD_REG_GCMD, cmd);
    while (!(qi_plat_read32(p, VTD_REG_GSTS) & VTD_GSTS_QIES)) {
        if (qi_plat_now_ns(p) >= dl)
            return QI_ETIMEOUT;
        qi_plat_relax(p, dl);
    }
    fl = qi_plat_lock_irqsave(p, &e->lock);
    e->enabled = true;
    qi_plat_unlock_irqrestore(p, &e->lock, fl);
    return 0;
}

int qi_engine_disable(qi_engine *e, qi_platform *p, uint64_t deadline_ns)
{
    uint64_t now = qi_plat_now_ns(p);
    uint64_t dl = deadline_ns ? deadline_ns : time_add(now, e->iommu_timeout);
    struct idle w;
    idle_init(e, &w, now);
    for (;;) {
        unsigned long fl = qi_plat_lock_irqsave(p, &e->lock);
        if (e->open != NONE)
            close_and_send(e, p);
        reclaim_hard(e, p, qi_plat_now_ns(p));
        bool idle = e->reclaim == e->hw_tail;
        if (idle)
            e->enabled = false;
        qi_plat_unlock_irqrestore(p, &e->lock, fl);
        if (idle)
            break;
        if (!idle_wait(e, p, &w, dl))
            return QI_ESTATE;
    }
    uint32_t cmd = qi_plat_read32(p, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK & ~(uint32_t)VTD_GCMD_QIE;
    qi_plat_write32(p, VTD_REG_GCMD, cmd);
    while (qi_plat_read32(p, VTD_REG_GSTS) & VTD_GSTS_QIES) {
        if (qi_plat_now_ns(p) >= dl)
            return QI_ETIMEOUT;
        qi_plat_relax(p, dl);
    }
    return 0;
}

unsigned qi_engine_free_slots(const qi_engine *e)
{
    uint32_t used = reclaim_walk((qi_engine *)e, NULL, false, NONE, 0);
    return used > e->limit ? 0 : e->limit - used;
}

unsigned qi_engine_capacity(const qi_engine *e)
{
    return e->limit;
}

const qi_engine_stats *qi_engine_get_stats(const qi_engine *e)
{
    return &e->stats;
}
