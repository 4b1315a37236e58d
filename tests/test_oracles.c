/*
 * test_oracles.c — every oracle (enum chk_verdict) fires on a deliberately broken tiny driver and
 * stays quiet on a correct one. The drivers are written here: "tiny" is a minimal correct
 * queued-invalidation submitter (one page ring, one wait descriptor per batch with a status
 * write, polling with interrupts on); each broken variant differs from it in one thing
 * (enum tiny_bug), and where a variant needs more than that (the split submit of the stale_dma
 * test) a correct control variant shares everything but the bug. Scenarios are written to a
 * temporary directory and loaded with sc_load, so each test names the smallest world that
 * shows its point. Jobs (driver.h, struct drv_op: unmap of a domain's range, detach, context
 * change) are judged on the invalidations they require, whether the checker submits them or
 * the driver's own `op` runs them ("Jobs" below). The last tests pin gaps of the oracles found
 * while writing these (see "Known gaps"): they document today's behaviour with a reproduction.
 *
 * Set QINVAL_TEST_TIMELINE=1 to print the timeline of every single run (chk_run_once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <qinval/vtd_format.h>

#include "check/explore.h"
#include "check/oracle.h"
#include "check/run.h"
#include "check/scenario.h"
#include "drivers/driver.h"
#include "sim/sim.h"

/* ---------------------------------------------------------------------------------------------
 * The tiny driver and its broken variants.
 */

#define TINY_SLOTS 256u             /* one 4 KiB page of 128-bit descriptors: IQA.QS = 0 */
#define TINY_CAP   (TINY_SLOTS - 1) /* a full ring would make head == tail look empty */
#define TINY_MAX   (CHK_MAX_BATCH + 2)

enum tiny_bug {
    BUG_NONE,
    BUG_SKIP_DEVTLB,    /* device-TLB descriptors of the batch are never queued */
    BUG_NO_WAIT,        /* returns DRV_OK right after moving the tail */
    BUG_ITE_OK,         /* takes an invalidation time-out (ITE) for completion: DRV_OK */
    BUG_DEDUP,          /* skips descriptors identical to ones of its previous batch */
    BUG_DEVTLB_FIRST,   /* device TLB flushed (and waited for) in its own batch, the IOTLB in a
                           second batch SPLIT_GAP later */
    BUG_NONE_SPLIT,     /* control for BUG_DEVTLB_FIRST: the same two batches and gap, in the
                           right order (IOTLB first): correct */
    BUG_RSVD_BIT,       /* sets a reserved bit in the first IOTLB descriptor; repairs it on IQE */
    BUG_TAIL_BACK,      /* rings the doorbell three times: end, a stale value inside the batch,
                           end again */
    BUG_EIO,            /* returns DRV_EIO after a batch that completed */
    BUG_LEAK_COUNT,     /* gives back one slot less than it took */
    BUG_TRAILING,       /* queues a copy of the batch's device-TLB descriptor after its wait
                           and does not wait for it */
    BUG_NO_SW,          /* its wait descriptor has SW = 0: the status word is never written */
    BUG_IRQS_OFF,       /* polls holding the lock with interrupts off (Linux style) */
    BUG_SPIN,           /* polls the status word with a plain load: no platform point at all */
    BUG_DEADLINE,       /* not a bug: honours the caller's deadline with -ETIMEDOUT, giving its
                           slots back if the hardware has fetched them all (else it keeps them:
                           no later reclaim, none of the scenarios needs one) */
    BUG_REWRITE_WAIT,   /* after the doorbell, rewrites its own (still unfetched) wait slot with
                           the same wait plus IF = 1 */
    BUG_LATE,           /* claims to honour deadlines, but gives up LATE_BY after the deadline */
    BUG_STALL_ONCE,     /* not a bug: the first submit of the process burns a second of CPU time
                           inside one step, with interrupts off, as a host that stalls the
                           checker mid-step looks */
    BUG_OP_SKIP_DEVTLB, /* its `op` runs a job without the job's device-TLB invalidations */
    BUG_OP_VOID,        /* its `op` returns DRV_OK whatever the batch returned, as the kernel's
                           void callers do (a time-out swallowed) */
};

#define LATE_BY HW_MS /* how late BUG_LATE returns */

#define SPLIT_GAP (5 * HW_US) /* between the two halves of a split submit */

struct tiny {
    qi_lock lock;
    enum tiny_bug bug;
    uint8_t *ring;             /* TINY_SLOTS descriptors in simulated memory (IQA) */
    volatile uint32_t *status; /* one word per slot: the wait at slot i writes status[i] */
    unsigned tail;             /* next slot to fill (software copy of IQT) */
    unsigned free;             /* free slots as the driver counts them */
    uint32_t seq;              /* status data of the next wait: never 0, never reused soon */
    unsigned nlast;            /* BUG_DEDUP: the previous batch as asked */
    vtd_desc last[CHK_MAX_BATCH];
};

static bool in_last(const struct tiny *t, const vtd_desc *d)
{
    for (unsigned i = 0; i < t->nlast; i++)
        if (!memcmp(t->last[i].qw, d->qw, sizeof(d->qw)))
            return true;
    return false;
}

static unsigned slot_of(unsigned i)
{
    return i % TINY_SLOTS;
}

static void put_desc(struct tiny *t, unsigned slot, const vtd_desc *d)
{
    memcpy(t->ring + (size_t)slot * 16, d->qw, 16);
}

static void ring_doorbell(qi_platform *p, unsigned tail)
{
    qi_plat_write32(p, VTD_REG_IQT, (uint32_t)(slot_of(tail) << 4));
}

static void *tiny_setup(qi_platform *p, const struct drv_params *prm, enum tiny_bug bug)
{
    if (!prm || prm->dw256)
        return NULL; /* the tiny driver only speaks 128-bit descriptors */
    struct tiny *t = sim_dma_alloc(p, sizeof(*t)); /* freed with the world */
    if (!t)
        return NULL;
    t->bug = bug;
    t->free = TINY_CAP;
    t->ring = sim_dma_alloc(p, TINY_SLOTS * 16); /* one page: page aligned */
    t->status = sim_dma_alloc(p, TINY_SLOTS * sizeof(uint32_t));
    if (!t->ring || !t->status)
        return NULL;
    qi_plat_write64(p, VTD_REG_IQT, 0);
    qi_plat_write64(p, VTD_REG_IQA, qi_plat_virt_to_phys(p, t->ring)); /* QS = 0, DW = 0 */
    uint32_t gsts = qi_plat_read32(p, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK;
    qi_plat_write32(p, VTD_REG_GCMD, gsts | (uint32_t)VTD_GCMD_QIE);
    for (unsigned i = 0; !(qi_plat_read32(p, VTD_REG_GSTS) & VTD_GSTS_QIES); i++) {
        if (i > 1000)
            return NULL;
        qi_plat_relax(p, 0);
    }
    return t;
}

/* IQE while we wait: if IQH names one of our slots, either the caller gave us a malformed
 * descriptor (the slot holds exactly what was asked: replace it by a no-op wait and fail with
 * DRV_EINVAL) or we corrupted it (restore what was asked). Then clear IQE so fetching resumes.
 * IQE at another CPU's slot is that CPU's to repair. */
static void repair_iqe(struct tiny *t, qi_platform *p, const vtd_desc *asked, unsigned first,
                       unsigned m, int *rc)
{
    unsigned head = (unsigned)((qi_plat_read64(p, VTD_REG_IQH) & VTD_IQ_OFFSET_MASK) >> 4);
    unsigned i = (head + TINY_SLOTS - first) % TINY_SLOTS;
    if (i >= m)
        return;
    uint8_t *slot = t->ring + (size_t)head * 16;
    if (!memcmp(slot, asked[i].qw, 16)) {
        vtd_desc nop = vtd_make_wait(false, false, false, 0, 0);
        put_desc(t, head, &nop);
        *rc = DRV_EINVAL;
    } else {
        put_desc(t, head, &asked[i]);
    }
    qi_plat_write32(p, VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
}

/* One batch: descs[0..n) and a wait, with the variant's bug applied. */
static int tiny_batch(struct tiny *t, qi_platform *p, const vtd_desc *descs, unsigned n,
                      enum tiny_bug bug, uint64_t deadline)
{
    vtd_desc asked[TINY_MAX], q[TINY_MAX];
    unsigned m = 0;
    int trailing = -1;

    for (unsigned i = 0; i < n && m < CHK_MAX_BATCH; i++) {
        if (vtd_desc_type(&descs[i]) == VTD_DESC_DEVTLB) {
            if (bug == BUG_TRAILING)
                trailing = (int)i;
            if (bug == BUG_SKIP_DEVTLB)
                continue;
        }
        if (bug == BUG_DEDUP && in_last(t, &descs[i]))
            continue;
        asked[m] = q[m] = descs[i];
        m++;
    }
    if (bug == BUG_RSVD_BIT)
        for (unsigned i = 0; i < m; i++)
            if (vtd_desc_type(&q[i]) == VTD_DESC_IOTLB) {
                q[i].qw[0] |= VTD_BIT(8); /* reserved in an IOTLB invalidate descriptor */
                break;
            }
    unsigned need = m + 1 + (trailing >= 0);

    unsigned long flags = qi_plat_lock_irqsave(p, &t->lock);
    static bool stalled;
    if (bug == BUG_STALL_ONCE && !stalled) {
        stalled = true; /* before the stall: the guard leaves it by a long jump */
        struct timespec t0, now;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        do
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
        while ((now.tv_sec - t0.tv_sec) * 1000000000L + (now.tv_nsec - t0.tv_nsec) < 1000000000L);
    }
    while (t->free < need) {
        qi_plat_unlock_irqrestore(p, &t->lock, flags);
        qi_plat_relax(p, 0);
        flags = qi_plat_lock_irqsave(p, &t->lock);
    }
    unsigned first = t->tail, wait_slot = slot_of(first + m);
    for (unsigned i = 0; i < m; i++)
        put_desc(t, slot_of(first + i), &q[i]);
    uint32_t token = ++t->seq ? t->seq : ++t->seq;
    qi_plat_store32(p, &t->status[wait_slot], 0);
    vtd_desc wait = vtd_make_wait(bug != BUG_NO_SW, false, false, token,
                                  qi_plat_virt_to_phys(p, &t->status[wait_slot]));
    put_desc(t, wait_slot, &wait);
    if (trailing >= 0)
        put_desc(t, slot_of(wait_slot + 1), &descs[trailing]);
    t->tail = slot_of(first + need);
    t->free -= need;
    qi_plat_wmb(p);
    ring_doorbell(p, t->tail);
    if (bug == BUG_TAIL_BACK) {
        ring_doorbell(p, first + 1); /* a stale copy of the tail: back over pending work */
        ring_doorbell(p, t->tail);
    }
    if (bug == BUG_REWRITE_WAIT) {
        wait =
            vtd_make_wait(true, true, false, token, qi_plat_virt_to_phys(p, &t->status[wait_slot]));
        put_desc(t, wait_slot, &wait);
    }

    int rc = DRV_OK;
    if (bug != BUG_NO_WAIT) {
        if (bug != BUG_IRQS_OFF)
            qi_plat_unlock_irqrestore(p, &t->lock, flags);
        for (;;) {
            if (bug == BUG_SPIN) {
                while (t->status[wait_slot] != token)
                    ; /* no platform point: the simulation's step guard must catch this */
                break;
            }
            if (qi_plat_load32(p, &t->status[wait_slot]) == token)
                break;
            uint32_t fsts = qi_plat_read32(p, VTD_REG_FSTS);
            if (fsts & VTD_FSTS_IQE)
                repair_iqe(t, p, asked, first, m, &rc);
            if (fsts & VTD_FSTS_ITE) {
                /* The hardware aborted the waits it had fetched: ours will never be written.
                 * (Single-submitter recovery only; enough for the scenarios used here.) */
                qi_plat_write32(p, VTD_REG_FSTS, (uint32_t)VTD_FSTS_ITE);
                rc = bug == BUG_ITE_OK ? DRV_OK : DRV_ETIMEDOUT;
                break;
            }
            if (deadline && qi_plat_now_ns(p) >= deadline) {
                /* Give the slots back only if the hardware will not read them again. */
                unsigned head =
                    (unsigned)((qi_plat_read64(p, VTD_REG_IQH) & VTD_IQ_OFFSET_MASK) >> 4);
                if (head != slot_of(first + need))
                    need = 0;
                rc = DRV_ETIMEDOUT;
                break;
            }
            qi_plat_relax(p, deadline);
        }
        if (bug != BUG_IRQS_OFF)
            flags = qi_plat_lock_irqsave(p, &t->lock);
    }
    t->free += bug == BUG_LEAK_COUNT ? need - 1 : need;
    qi_plat_unlock_irqrestore(p, &t->lock, flags);
    if (rc == DRV_OK && bug == BUG_EIO)
        rc = DRV_EIO;
    if (rc == DRV_OK && bug == BUG_DEDUP) {
        t->nlast = n < CHK_MAX_BATCH ? n : CHK_MAX_BATCH;
        memcpy(t->last, descs, t->nlast * sizeof(*descs));
    }
    return rc;
}

static int tiny_submit(void *drv, qi_platform *p, const vtd_desc *descs, unsigned n,
                       const struct drv_submit_opts *opts)
{
    struct tiny *t = drv;
    uint64_t deadline =
        (t->bug == BUG_DEADLINE || t->bug == BUG_LATE) && opts ? opts->deadline_ns : 0;
    if (t->bug == BUG_LATE && deadline)
        deadline += LATE_BY;
    if (n > CHK_MAX_BATCH)
        return DRV_EINVAL;
    if (t->bug != BUG_DEVTLB_FIRST && t->bug != BUG_NONE_SPLIT)
        return tiny_batch(t, p, descs, n, t->bug, deadline);

    /* Two correct batches: the device-TLB descriptors and the others, SPLIT_GAP apart (as if
     * the second half came from a deferred-flush worker); the order is the variant's. */
    vtd_desc dev[CHK_MAX_BATCH], rest[CHK_MAX_BATCH];
    unsigned nd = 0, nr = 0;
    for (unsigned i = 0; i < n; i++) {
        if (vtd_desc_type(&descs[i]) == VTD_DESC_DEVTLB)
            dev[nd++] = descs[i];
        else
            rest[nr++] = descs[i];
    }
    bool devtlb_first = t->bug == BUG_DEVTLB_FIRST;
    int rc = tiny_batch(t, p, devtlb_first ? dev : rest, devtlb_first ? nd : nr, BUG_NONE, 0);
    if (rc != DRV_OK)
        return rc;
    uint64_t until = qi_plat_now_ns(p) + SPLIT_GAP;
    while (qi_plat_now_ns(p) < until)
        qi_plat_relax(p, until);
    return tiny_batch(t, p, devtlb_first ? rest : dev, devtlb_first ? nr : nd, BUG_NONE, 0);
}

static unsigned tiny_free_slots(void *drv)
{
    return ((struct tiny *)drv)->free;
}

static unsigned tiny_capacity(void *drv)
{
    (void)drv;
    return TINY_CAP;
}

/* The jobs the tiny drivers' `op` was given, in order (reset by the test that reads them). */
struct seen_job {
    struct drv_op op;
    struct drv_domain dom;
};
static struct seen_job seen_jobs[8];
static unsigned nseen_jobs;

/* A job run by the driver's own `op`, as a kernel's callers run it: the job's careful batch as
 * one tiny batch, with the variant's bug. */
static int tiny_op(void *drv, qi_platform *p, const struct drv_op *op,
                   const struct drv_submit_opts *opts)
{
    struct tiny *t = drv;
    (void)opts;
    if (nseen_jobs < sizeof(seen_jobs) / sizeof(seen_jobs[0])) {
        seen_jobs[nseen_jobs].op = *op;
        seen_jobs[nseen_jobs++].dom = *op->dom;
    }
    int rc = tiny_batch(t, p, op->descs, op->n,
                        t->bug == BUG_OP_SKIP_DEVTLB ? BUG_SKIP_DEVTLB : BUG_NONE, 0);
    return t->bug == BUG_OP_VOID ? DRV_OK : rc;
}

#define TINY_DRIVER_OP(var, bugv, text, opfn)                                                      \
    static void *var##_init(qi_platform *p, const struct drv_params *prm)                          \
    {                                                                                              \
        return tiny_setup(p, prm, bugv);                                                           \
    }                                                                                              \
    static const sim_driver_ops var = {.name = #var,                                               \
                                       .summary = text,                                            \
                                       .init = var##_init,                                         \
                                       .submit = tiny_submit,                                      \
                                       .op = opfn,                                                 \
                                       .free_slots = tiny_free_slots,                              \
                                       .capacity = tiny_capacity,                                  \
                                       .honours_deadline =                                         \
                                           bugv == BUG_DEADLINE || bugv == BUG_LATE}
#define TINY_DRIVER(var, bugv, text) TINY_DRIVER_OP(var, bugv, text, NULL)

TINY_DRIVER(tiny, BUG_NONE, "minimal correct submitter");
TINY_DRIVER(tiny_skip_devtlb, BUG_SKIP_DEVTLB, "never queues device-TLB descriptors");
TINY_DRIVER(tiny_no_wait, BUG_NO_WAIT, "returns success once the tail is written");
TINY_DRIVER(tiny_ite_ok, BUG_ITE_OK, "takes an invalidation time-out for success");
TINY_DRIVER(tiny_dedup, BUG_DEDUP, "skips descriptors its previous batch already had");
TINY_DRIVER(tiny_devtlb_first, BUG_DEVTLB_FIRST, "device TLB before IOTLB, separate batches");
TINY_DRIVER(tiny_split, BUG_NONE_SPLIT, "IOTLB before device TLB, separate batches");
TINY_DRIVER(tiny_rsvd_bit, BUG_RSVD_BIT, "sets a reserved bit, repairs it on IQE");
TINY_DRIVER(tiny_tail_back, BUG_TAIL_BACK, "moves the tail backwards over pending work");
TINY_DRIVER(tiny_eio, BUG_EIO, "reports -EIO for a completed batch");
TINY_DRIVER(tiny_leak_count, BUG_LEAK_COUNT, "gives back one slot less than it took");
TINY_DRIVER(tiny_trailing, BUG_TRAILING, "leaves a device-TLB descriptor after its wait");
TINY_DRIVER(tiny_no_sw, BUG_NO_SW, "waits for a status write its wait never asks for");
TINY_DRIVER(tiny_irqs_off, BUG_IRQS_OFF, "polls with interrupts off");
TINY_DRIVER(tiny_spin, BUG_SPIN, "polls without any platform point");
TINY_DRIVER(tiny_stall_once, BUG_STALL_ONCE, "correct, but its first step takes a second");
TINY_DRIVER(tiny_deadline, BUG_DEADLINE, "honours the caller's deadline");
TINY_DRIVER(tiny_rewrite_wait, BUG_REWRITE_WAIT, "rewrites its unfetched wait descriptor");
TINY_DRIVER(tiny_late, BUG_LATE, "returns 1 ms after the caller's deadline");
TINY_DRIVER_OP(tiny_jobs, BUG_NONE, "runs jobs itself, correctly", tiny_op);
TINY_DRIVER_OP(tiny_jobs_skip_devtlb, BUG_OP_SKIP_DEVTLB, "runs jobs without device-TLB", tiny_op);
TINY_DRIVER_OP(tiny_jobs_void, BUG_OP_VOID, "runs jobs, returns 0 whatever happened", tiny_op);

/* ---------------------------------------------------------------------------------------------
 * Scenarios, written to a temporary directory.
 */

static char scn_dir[64];

/* Every scenario has ep0 (ATS) at 01:00.0. */
#define EP0 "[endpoint ep0]\nsid = 01:00.0\nats = 1\n"

/* clang-format off */

/* 1 CPU, IOTLB-only batches (twice, so the ring and the free count are reused). */
static const char scn_iotlb[] =
    "name = o-iotlb\n" EP0
    "[cpu 0]\nrepeat = 2\nop = flush iotlb batch=2\n";

/* 1 CPU, one IOTLB + one device-TLB invalidation for a healthy ep0. */
static const char scn_devtlb[] =
    "name = o-devtlb\n" EP0
    "[cpu 0]\nop = flush devtlb=ep0 batch=2\n";

/* 2 CPUs, mixed batches, no faults: the concurrent quiet case. */
static const char scn_smoke2[] =
    "name = o-smoke2\n[params]\ncpus = 2\n" EP0
    "[cpu *]\nrepeat = 2\nop = flush mixed=ep0 batch=3\nop = flush iotlb batch=2\n";

/* Unmap page 0 of ep0's domain while ep0 does DMA on it: the first read fills the IOTLB and
 * the ATC; a second read is explored across the whole unmap (16 points in 0..12 us); the last
 * write comes long after the page was freed and reused. CPU 0 sleeps after the unmap so that
 * the run is still alive when the last DMA is due (a run ends when every CPU is done). */
static const char scn_stale[] =
    "name = o-stale\n" EP0
    "[fault]\nep = ep0\nkind = dma\narg = 0\nat_us = 0\n"
    "[fault]\nep = ep0\nkind = dma\narg = 0\nat_us = 0..12\n"
    "[fault]\nep = ep0\nkind = dma\narg = 0\nwrite = 1\nat_us = 50\n"
    "[cpu 0]\nop = unmap ep=ep0 page=0\nop = sleep us=100\n";

/* One device-TLB invalidation with a one-descriptor fetch window: while ep0 answers (2 us)
 * the hardware fetches nothing, so whatever follows in the ring stays unfetched meanwhile. */
static const char scn_window1[] =
    "name = o-window1\n[params]\nfetch_window = 1\n" EP0
    "[cpu 0]\nop = flush devtlb=ep0 batch=1\n";

/* ep0 never answers; the IOMMU gives up after 60 s (ITE); the watchdog is 10 s. */
static const char scn_mute[] =
    "name = o-mute\n[params]\nite_timeout_ms = 60000\n" EP0
    "[fault]\nep = ep0\nkind = mute\nat_us = 0\n"
    "[cpu 0]\nop = flush devtlb=ep0 batch=2\n";

/* ep0 goes mute one second into the run, long after its only invalidation completed. */
static const char scn_latemute[] =
    "name = o-latemute\n" EP0
    "[fault]\nep = ep0\nkind = mute\nat_s = 1\n"
    "[cpu 0]\nop = flush devtlb=ep0 batch=2\n";

/* A batch whose descriptor 1 is malformed on purpose (the workload asks for it), then a good
 * one. */
static const char scn_bad[] =
    "name = o-bad\n" EP0
    "[cpu 0]\nop = flush bad batch=2 bad_index=1\nop = flush iotlb batch=1\n";

/* ep0 is healthy but slow: it answers after 3 ms. */
static const char scn_slow[] =
    "name = o-slow\n" EP0
    "[fault]\nep = ep0\nkind = latency\narg = 3000\nat_us = 0\n"
    "[cpu 0]\nop = flush devtlb=ep0 batch=2\n";

/* Every kind of job on a domain shared by ep0 and ep1: an unmap of pages 1..2 (one aligned
 * block of 4 pages covers them), ep1's detach, an unmap of page 0 by ep0's name (ep1 is gone:
 * no device-TLB invalidation for it), ep0's context change (the domain is empty: its pages are
 * freed). ep0 filled its ATC with page 3 first; its write there long after finds the ATC
 * invalidated and the context entry gone: a translation fault, not a stale access. */
static const char scn_jobs[] =
    "name = o-jobs\n" EP0 "[endpoint ep1]\nsid = 02:00.0\nats = 1\n"
    "[domain shared]\nendpoints = ep0 ep1\n"
    "[fault]\nep = ep0\nkind = dma\narg = 3\nat_us = 0\n"
    "[fault]\nep = ep0\nkind = dma\narg = 3\nwrite = 1\nat_us = 200\n"
    "[cpu 0]\nop = unmap domain=shared page=1 pages=2\nop = detach ep=ep1\n"
    "op = unmap ep=ep0 page=0\nop = context ep=ep0\n";

/* ep0's detach while ep0 does DMA on page 0 (its ATC filled first; a read explored across
 * the detach, 16 points in 0..5 us; a last one long after). */
static const char scn_detach_race[] =
    "name = o-detach-race\n" EP0
    "[fault]\nep = ep0\nkind = dma\narg = 0\nat_us = 0\n"
    "[fault]\nep = ep0\nkind = dma\narg = 0\nat_us = 0..5\n"
    "[fault]\nep = ep0\nkind = dma\narg = 0\nat_us = 50\n"
    "[cpu 0]\nop = detach ep=ep0\n";

static const char *const scn_texts[] = {
    scn_iotlb, scn_devtlb, scn_smoke2, scn_stale, scn_window1, scn_mute, scn_latemute, scn_bad,
    scn_slow, scn_jobs, scn_detach_race,
};
static const char *const scn_names[] = {
    "iotlb",   "devtlb",   "smoke2",   "stale",   "window1",   "mute",   "latemute",   "bad",
    "slow",    "jobs",     "detach-race",
};

/* clang-format on */

#define NSCN (sizeof(scn_texts) / sizeof(scn_texts[0]))

static int group_setup(void **state)
{
    (void)state;
    snprintf(scn_dir, sizeof(scn_dir), "/tmp/qinval-oracles-XXXXXX");
    if (!mkdtemp(scn_dir))
        return -1;
    for (size_t i = 0; i < NSCN; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s.scn", scn_dir, scn_names[i]);
        FILE *f = fopen(path, "w");
        if (!f)
            return -1;
        fputs(scn_texts[i], f);
        if (fclose(f))
            return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSCN; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s.scn", scn_dir, scn_names[i]);
        unlink(path);
    }
    return rmdir(scn_dir);
}

/* Load one of the scenarios above, with optional overrides. */
static void load(const char *name, const char *set, scenario *sc)
{
    char path[128], err[256], buf[256];
    const char *sets[4];
    unsigned nsets = 0;
    /* `set`: NULL, or KEY=VALUE overrides separated by spaces */
    snprintf(buf, sizeof(buf), "%s", set ? set : "");
    for (char *tok = strtok(buf, " "); tok && nsets < 4; tok = strtok(NULL, " "))
        sets[nsets++] = tok;
    snprintf(path, sizeof(path), "%s/%s.scn", scn_dir, name);
    int rc = sc_load(path, sets, nsets, sc, err, sizeof(err));
    if (rc)
        fail_msg("%s: %s", path, err);
}

/* ---------------------------------------------------------------------------------------------
 * Running.
 */

/* Every decision takes its default: keep running the same CPU, the earliest fault time. */
static unsigned decide_default(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                               const unsigned *ids)
{
    (void)ctx, (void)kind, (void)n, (void)ids;
    return dflt;
}

/* Fault-time decisions take option *ctx (of 16 evenly spaced points), the rest the default. */
static unsigned decide_fault_at(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                                const unsigned *ids)
{
    unsigned k = *(const unsigned *)ctx;
    (void)ids;
    return kind == CHK_DECIDE_FAULT_TIME && k < n ? k : dflt;
}

/* Run once with the ranged fault(s) at point k. */
static void run_at(const char *scn, const sim_driver_ops *drv, unsigned k, chk_result *res)
{
    scenario *sc = malloc(sizeof(*sc));
    assert_non_null(sc);
    load(scn, NULL, sc);
    FILE *tl = getenv("QINVAL_TEST_TIMELINE") ? stderr : NULL;
    if (tl)
        fprintf(tl, "---- %s on %s, fault point %u\n", drv->name, scn, k);
    chk_run_once(sc, drv, decide_fault_at, &k, NULL, tl, res);
    free(sc);
}

/* Run once with default decisions. */
static void run1(const char *scn, const char *set, const sim_driver_ops *drv, chk_result *res)
{
    scenario *sc = malloc(sizeof(*sc));
    assert_non_null(sc);
    load(scn, set, sc);
    FILE *tl = getenv("QINVAL_TEST_TIMELINE") ? stderr : NULL;
    if (tl)
        fprintf(tl, "---- %s on %s%s%s\n", drv->name, scn, set ? " --set " : "", set ? set : "");
    chk_run_once(sc, drv, decide_default, NULL, NULL, tl, res);
    free(sc);
}

/* Explore with a strategy; returns the report (caller frees). */
static void explore(const char *scn, const char *set, const sim_driver_ops *drv,
                    enum chk_strategy strategy, uint64_t executions, chk_report *rep)
{
    scenario *sc = malloc(sizeof(*sc));
    assert_non_null(sc);
    load(scn, set, sc);
    chk_options o;
    chk_options_default(&o);
    o.strategy = strategy;
    o.executions = executions;
    o.minimise = false;
    memset(rep, 0, sizeof(*rep));
    assert_int_equal(chk_explore(sc, drv, &o, rep), 0);
    free(sc);
}

static void expect_verdict(const chk_result *res, enum chk_verdict v, const char *needle)
{
    if (res->verdict != v)
        fail_msg("verdict %s, expected %s: %s", chk_verdict_name(res->verdict), chk_verdict_name(v),
                 res->why);
    if (needle && !strstr(res->why, needle))
        fail_msg("why does not mention \"%s\": %s", needle, res->why);
}

static void expect_pass(const char *scn, const char *set, const sim_driver_ops *drv)
{
    chk_result res;
    run1(scn, set, drv, &res);
    if (res.verdict != CHK_PASS)
        fail_msg("%s on %s: %s: %s", drv->name, scn, chk_verdict_name(res.verdict), res.why);
    assert_string_equal(res.why, "every oracle held");
    assert_true(res.submits > 0);
}

/* ---------------------------------------------------------------------------------------------
 * Quiet cases.
 */

/* The tiny driver passes every scenario used below, in one default run each: the oracles do
 * not fire on a correct driver. On `mute` success is impossible (ep0 never answers): tiny
 * fails that submit with -ETIMEDOUT after the 60 s ITE, which is allowed because the target
 * is faulty; on `bad` the workload's own malformed descriptor fails with -EINVAL, also
 * allowed (and the IQE it raises is not counted as queue corruption). */
static void test_tiny_passes(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSCN; i++)
        expect_pass(scn_names[i], NULL, &tiny);

    chk_result res;
    run1("mute", NULL, &tiny, &res);
    assert_int_equal(res.verdict, CHK_PASS);
    assert_int_equal(res.submits, 1);
    assert_int_equal(res.failed_submits, 1); /* -ETIMEDOUT: the only honest answer */
    assert_true(res.end >= 60 * HW_S);
    run1("bad", NULL, &tiny, &res);
    assert_int_equal(res.verdict, CHK_PASS);
    assert_int_equal(res.submits, 2);
    assert_int_equal(res.failed_submits, 1); /* -EINVAL for the malformed batch only */
    run1("devtlb", NULL, &tiny, &res);
    assert_int_equal(res.failed_submits, 0);
}

/* Concurrency does not make the oracles fire on a correct driver: 2 CPUs, 300 random
 * interleavings of mixed batches; and every one of the 16 DMA times of the unmap scenario,
 * covered exhaustively by DFS (the only decision is the fault time). */
static void test_tiny_passes_explored(void **state)
{
    (void)state;
    chk_report rep;
    explore("smoke2", NULL, &tiny, CHK_STRAT_RANDOM, 300, &rep);
    expect_verdict(&rep.result, CHK_PASS, "every oracle held");
    assert_int_equal(rep.verdict, CHK_PASS);
    assert_int_equal(rep.executions, 300);
    chk_report_free(&rep);

    explore("stale", NULL, &tiny, CHK_STRAT_DFS, 0, &rep);
    assert_int_equal(rep.verdict, CHK_PASS);
    assert_true(rep.complete);
    assert_true(rep.executions >= 16);
    chk_report_free(&rep);
}

/* ---------------------------------------------------------------------------------------------
 * lost_invalidation
 */

/* A driver that never queues the device-TLB descriptor but reports success: the IOTLB part
 * was executed, the device-TLB part was not, and the oracle names exactly that descriptor
 * (index 1 of the batch) and says the endpoint never acknowledged it. */
static void test_lost_skipped_devtlb(void **state)
{
    (void)state;
    chk_result res;
    run1("devtlb", NULL, &tiny_skip_devtlb, &res);
    expect_verdict(&res, CHK_LOST_INVALIDATION, "its descriptor 1 (");
    assert_non_null(strstr(res.why, "no invalidation completion from the endpoint"));
    assert_non_null(strstr(res.why, "returned success"));

    /* On an IOTLB-only workload the bug is invisible: nothing was skipped. */
    expect_pass("iotlb", NULL, &tiny_skip_devtlb);
}

/* A driver that queues everything but returns as soon as the tail is written (and the lock
 * released): the hardware executing the rest later does not count. On `iotlb` the first IOTLB
 * invalidation happens to finish inside the call (100 ns after the doorbell, while the driver
 * drops its lock), so the oracle names descriptor 1; on `devtlb` the ATS round trip takes 2 us
 * and descriptor 1 (the device-TLB one) is the one missing. */
static void test_lost_no_wait(void **state)
{
    (void)state;
    chk_result res;
    run1("iotlb", NULL, &tiny_no_wait, &res);
    expect_verdict(&res, CHK_LOST_INVALIDATION, "its descriptor 1 (iotlb");
    assert_null(strstr(res.why, "no invalidation completion"));
    run1("devtlb", NULL, &tiny_no_wait, &res);
    expect_verdict(&res, CHK_LOST_INVALIDATION, "its descriptor 1 (devtlb");
    assert_non_null(strstr(res.why, "no invalidation completion from the endpoint"));
}

/* A driver that takes an invalidation time-out for completion: on ITE it clears the error and
 * reports success. The IOMMU did finish the descriptor (EXEC_DONE, flagged timed out), but the
 * endpoint never acknowledged it, so it does not count as executed. The correct driver
 * returns -ETIMEDOUT on the same scenario and passes (test_tiny_passes). */
static void test_lost_ite_taken_for_success(void **state)
{
    (void)state;
    chk_result res;
    run1("mute", NULL, &tiny_ite_ok, &res);
    expect_verdict(&res, CHK_LOST_INVALIDATION, "its descriptor 1 (devtlb");
    assert_non_null(strstr(res.why, "no invalidation completion from the endpoint"));
    assert_true(res.end >= 60 * HW_S); /* the ITE came */
    assert_int_equal(res.failed_submits, 0);
}

/* A driver that skips descriptors its previous batch already had: `iotlb` asks for the same
 * two IOTLB invalidations twice, and the second call returns success having queued only its
 * wait. The descriptors were executed — before that call began, which does not count. */
static void test_lost_executed_before_the_call(void **state)
{
    (void)state;
    chk_result res;
    run1("iotlb", NULL, &tiny_dedup, &res);
    expect_verdict(&res, CHK_LOST_INVALIDATION, "its descriptor 0 (iotlb");
    assert_int_equal(res.submits, 2);
    /* A single batch has nothing to skip. */
    expect_pass("devtlb", NULL, &tiny_dedup);
}

/* ---------------------------------------------------------------------------------------------
 * stale_dma
 */

/* Every descriptor executed, success honestly reported, and still the device reaches freed
 * memory: the device TLB was invalidated before the IOTLB (two correct batches, 5 us apart).
 * In between, a DMA misses in the just emptied ATC, its translation request hits the IOTLB
 * entry that is still valid, and the ATC is refilled with the old page. The IOTLB invalidation
 * that follows does not touch the ATC; the unmap frees the page, it is reused, and the late
 * write goes through the refilled ATC entry into the new owner's page. lost_invalidation stays
 * quiet (every descriptor was executed during the call), so the verdict is stale_dma alone.
 *
 * Random exploration finds the DMA time that falls into the window; a sweep over the 16 points
 * shows that only DMA times inside it do, and the control driver — the same two batches and
 * gap in the right order — passes every point. (Without the gap the window is ~190 ns between
 * the ATC drop and the IOTLB drop: the same bug, but narrower than the scenario's 0.8 us grid.) */
static void test_stale_dma_devtlb_first(void **state)
{
    (void)state;
    chk_report rep;
    explore("stale", NULL, &tiny_devtlb_first, CHK_STRAT_RANDOM, 300, &rep);
    expect_verdict(&rep.result, CHK_STALE_DMA, "through a stale ATC entry");
    assert_int_equal(rep.verdict, CHK_STALE_DMA);
    assert_non_null(strstr(rep.result.why, "was given to another owner"));
    assert_int_equal(rep.result.failed_submits, 0);
    chk_report_free(&rep);

    unsigned stale = 0;
    for (unsigned k = 0; k < 16; k++) {
        chk_result res;
        run_at("stale", &tiny_devtlb_first, k, &res);
        if (res.verdict == CHK_STALE_DMA)
            stale++;
        else
            expect_verdict(&res, CHK_PASS, NULL);
        run_at("stale", &tiny_split, k, &res);
        expect_verdict(&res, CHK_PASS, NULL);
    }
    /* The window is 5 us of the 12 us range: several points, not all. */
    assert_in_range(stale, 2, 10);

    /* Point 0 (the second read at 0 us, before the unmap) refills nothing. */
    chk_result res;
    run_at("stale", &tiny_devtlb_first, 0, &res);
    assert_int_equal(res.verdict, CHK_PASS);
}

/* The same unmap with a driver that skips the device-TLB invalidation: the ATC entry filled
 * by the first read survives, so the late write reaches the reused page. Both lost_invalidation
 * and stale_dma hold; the verdict is the more severe one, lost_invalidation. */
static void test_stale_dma_behind_lost(void **state)
{
    (void)state;
    chk_result res;
    run1("stale", NULL, &tiny_skip_devtlb, &res);
    expect_verdict(&res, CHK_LOST_INVALIDATION, "no invalidation completion from the endpoint");
}

/* ---------------------------------------------------------------------------------------------
 * queue_corruption
 */

/* A driver that writes a malformed descriptor (reserved bit 8 of an IOTLB invalidation) for a
 * well-formed request, then repairs it on IQE and succeeds: nothing is lost and nothing fails,
 * but the IQE was on a descriptor no workload asked for. */
static void test_corruption_reserved_bit(void **state)
{
    (void)state;
    chk_result res;
    run1("iotlb", NULL, &tiny_rsvd_bit, &res);
    expect_verdict(&res, CHK_QUEUE_CORRUPTION, "IQE at slot 0 on a descriptor no workload");
    assert_int_equal(res.failed_submits, 0);
}

/* The same IQE is excused when the workload itself asked for the malformed descriptor (the
 * tiny driver on `bad` passes, see test_tiny_passes); with the driver corrupting a different
 * descriptor of such a workload the corruption is still found. */
static void test_corruption_among_deliberate(void **state)
{
    (void)state;
    chk_result res;
    run1("bad", NULL, &tiny_rsvd_bit, &res);
    expect_verdict(&res, CHK_QUEUE_CORRUPTION, "no workload asked for");
}

/* A driver that moves IQT forward, then back into its own batch while the rest of it is still
 * unfetched (fetch window 1, the first descriptor is a 2 us device-TLB round trip), then
 * forward again: the batch still completes and succeeds, but the tail went backwards. */
static void test_corruption_tail_backwards(void **state)
{
    (void)state;
    chk_result res;
    run1("window1", NULL, &tiny_tail_back, &res);
    expect_verdict(&res, CHK_QUEUE_CORRUPTION, "the tail moved from 2 back to 1");
    assert_int_equal(res.failed_submits, 0);
}

/* ---------------------------------------------------------------------------------------------
 * false_failure
 */

/* A driver that returns -EIO for a batch the hardware completed, to healthy targets only. The
 * same result for a faulty target is not a false failure (tiny's -ETIMEDOUT on `mute`). */
static void test_false_failure(void **state)
{
    (void)state;
    chk_result res;
    run1("iotlb", NULL, &tiny_eio, &res);
    expect_verdict(&res, CHK_FALSE_FAILURE, "submit of 2 descriptors to healthy targets");
    assert_non_null(strstr(res.why, "returned -5"));
    assert_int_equal(res.failed_submits, 2);
    run1("devtlb", NULL, &tiny_eio, &res);
    expect_verdict(&res, CHK_FALSE_FAILURE, "returned -5");
}

/* ---------------------------------------------------------------------------------------------
 * slot_leak
 */

/* A driver that gives back one slot less than it took: at the end it counts 253 of 255 free
 * (two submits on `iotlb`). */
static void test_slot_leak_count(void **state)
{
    (void)state;
    chk_result res;
    run1("iotlb", NULL, &tiny_leak_count, &res);
    expect_verdict(&res, CHK_SLOT_LEAK, "the driver counts 253 free slots of 255");
}

/* A driver that leaves a device-TLB descriptor behind its wait, still in flight when it
 * returns: the run lets the hardware finish before judging, the trailing descriptor executes
 * and the queue is empty at rest, so no leak is reported (what was in flight is not lost:
 * nobody asked for it). The driver-count variant above is what slot_leak catches. */
static void test_slot_leak_hardware(void **state)
{
    (void)state;
    chk_result res;
    run1("window1", NULL, &tiny_trailing, &res);
    expect_verdict(&res, CHK_PASS, NULL);
    assert_int_equal(res.failed_submits, 0);
    expect_pass("iotlb", NULL, &tiny_trailing);
    expect_pass("devtlb", NULL, &tiny_trailing);
}

/* ---------------------------------------------------------------------------------------------
 * hang and hard_lockup
 */

/* A driver waiting for a status word its wait descriptor never asks to be written (SW = 0),
 * with interrupts on: the hardware finishes, nothing is pending, the CPU polls forever. The
 * simulation proves the hang (no timed event can change anything) long before the 600 s
 * bound, and since interrupts are on the lockup detector is not involved. */
static void test_hang_proved(void **state)
{
    (void)state;
    chk_result res;
    run1("iotlb", NULL, &tiny_no_sw, &res);
    expect_verdict(&res, CHK_HANG, "nothing is pending in the hardware");
    assert_int_equal(res.outcome.stop, SIM_STOP_HANG);
    assert_null(strstr(res.why, "interrupts disabled"));
    assert_true(res.end < HW_S);
}

/* A driver that polls with a plain load (no platform point): the step guard turns the endless
 * loop into a hang at that CPU, deterministically. */
static void test_hang_loop_without_platform_point(void **state)
{
    (void)state;
    chk_result res;
    run1("iotlb", NULL, &tiny_spin, &res);
    /* The first wait completes during the spin only if the hardware could run, which it
     * cannot while the CPU never yields: the first submit already loops. */
    expect_verdict(&res, CHK_HANG, "without reaching a platform point");
    assert_int_equal(res.outcome.stop, SIM_STOP_LOOP);
}

/* The guard judges by CPU time, which a stalled host can charge to a short step: a loop is
 * reported only when the same execution loops again. The stalling driver's first execution is
 * cut by the guard (with interrupts off: a "hard lockup"), its second run passes, and so does
 * the exploration; a real loop is still one, under every strategy. */
static void test_loop_confirmed_by_a_second_run(void **state)
{
    (void)state;
    chk_report rep;
    explore("iotlb", NULL, &tiny_stall_once, CHK_STRAT_RANDOM, 3, &rep);
    if (rep.verdict != CHK_PASS)
        fail_msg("a stall taken for a loop: %s", rep.result.why);
    assert_int_equal(rep.executions, 3);
    chk_report_free(&rep);
    enum chk_strategy st[] = {CHK_STRAT_RANDOM, CHK_STRAT_PCT, CHK_STRAT_DFS};
    for (unsigned i = 0; i < 3; i++) {
        explore("iotlb", NULL, &tiny_spin, st[i], 3, &rep);
        expect_verdict(&rep.result, CHK_HANG, "without reaching a platform point");
        assert_int_equal(rep.result.outcome.stop, SIM_STOP_LOOP);
        assert_int_equal(rep.executions, 1);
        chk_report_free(&rep);
    }
}

/* Interrupts off while a device-TLB invalidation to a mute endpoint is outstanding: the ITE
 * timer (60 s) is a pending event, so this is not a proved hang; the CPU simply keeps
 * interrupts disabled past the 10 s watchdog. The correct driver polls with interrupts on and
 * passes the same scenario (test_tiny_passes); with a 1 s ITE timeout the interrupts-off
 * driver gets its ITE before the watchdog and passes too, so the oracle is about the 10 s. */
static void test_hard_lockup(void **state)
{
    (void)state;
    chk_result res;
    run1("mute", NULL, &tiny_irqs_off, &res);
    expect_verdict(&res, CHK_HARD_LOCKUP, "kept interrupts disabled for 10.0 s");
    assert_int_equal(res.outcome.stop, SIM_STOP_HARD_LOCKUP);
    assert_int_equal(res.outcome.cpu, 0);
    assert_true(res.end < 60 * HW_S);

    expect_pass("mute", "ite_timeout_ms=1000", &tiny_irqs_off);
    expect_pass("devtlb", NULL, &tiny_irqs_off);
}

/* ---------------------------------------------------------------------------------------------
 * Jobs.
 */

/* The descriptors the hardware executed (not timed out), waits left out, in log order. */
struct executed {
    unsigned n;
    vtd_desc d[32];
};

static void collect_executed(void *ctx, const sim_world *w, const chk_result *res)
{
    struct executed *ex = ctx;
    const hw_machine *hw = sim_hw(w);
    size_t n;
    const hw_event *ev = hw_events(hw, &n);
    (void)res;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind != HW_EV_EXEC_DONE || (ev[i].flags & HW_EVF_TIMEDOUT))
            continue;
        const vtd_desc *d = hw_fetched(hw, (uint32_t)ev[i].b);
        if (d && vtd_desc_type(d) != VTD_DESC_WAIT && ex->n < 32)
            ex->d[ex->n++] = *d;
    }
}

/* One default run of `scn` (a scenario above, or a catalog one with `catalog`), with the
 * ranged faults at point k (16: the default decisions); the executed descriptors in *ex if
 * given. */
static void run_job(const char *scn, bool catalog, const char *set, const sim_driver_ops *drv,
                    unsigned k, struct executed *ex, chk_result *res)
{
    scenario *sc = malloc(sizeof(*sc));
    char err[256];
    assert_non_null(sc);
    if (catalog) {
        const char *sets[] = {set};
        if (sc_load_named(QINVAL_SCENARIO_DIR, scn, sets, set ? 1 : 0, sc, err, sizeof(err)))
            fail_msg("%s", err);
    } else {
        load(scn, set, sc);
    }
    struct executed none;
    memset(&none, 0, sizeof(none));
    chk_observer obs = {collect_executed, ex ? ex : &none};
    FILE *tl = getenv("QINVAL_TEST_TIMELINE") ? stderr : NULL;
    if (tl)
        fprintf(tl, "---- %s on %s, fault point %u\n", drv->name, scn, k);
    chk_run_observed(sc, drv, k < 16 ? decide_fault_at : decide_default, &k, NULL, tl, &obs, res);
    free(sc);
}

/* What a careful caller queues for each job of `jobs`, in order. */
static void expect_careful_batches(const struct executed *ex)
{
    const uint64_t page0 = 0x100000;
    const vtd_desc want[] = {
        /* unmap of pages 1..2: one invalidation of the aligned block 0..3, per device too */
        vtd_make_iotlb_page(1, page0, 2, false),
        vtd_make_devtlb(0x0100, page0, 4),
        vtd_make_devtlb(0x0200, page0, 4),
        /* ep1's detach: the whole domain, all of ep1's device TLB */
        vtd_make_iotlb_domain(1),
        vtd_make_devtlb(0x0200, 0, 0),
        /* unmap of page 0: ep1 left the domain */
        vtd_make_iotlb_page(1, page0, 0, false),
        vtd_make_devtlb(0x0100, page0, 1),
        /* ep0's context change: its context-cache entry, all of its device TLB */
        vtd_make_cc_device(1, 0x0100, 0),
        vtd_make_devtlb(0x0100, 0, 0),
    };
    char got[96], wanted[96];
    assert_int_equal(ex->n, sizeof(want) / sizeof(want[0]));
    for (unsigned i = 0; i < ex->n; i++) {
        if (!memcmp(ex->d[i].qw, want[i].qw, sizeof(want[i].qw)))
            continue;
        vtd_desc_format(&ex->d[i], got, sizeof(got));
        vtd_desc_format(&want[i], wanted, sizeof(wanted));
        fail_msg("executed descriptor %u is %s, expected %s", i, got, wanted);
    }
}

/* (d) A driver without `op`: the checker submits each job's careful batch, and that is what the
 * hardware executes; the domain's pages are freed once its last device left and nothing
 * reaches them. */
static void test_jobs_careful_batches_submitted(void **state)
{
    (void)state;
    chk_result res;
    struct executed ex;
    memset(&ex, 0, sizeof(ex));
    run_job("jobs", false, NULL, &tiny, 16, &ex, &res);
    expect_verdict(&res, CHK_PASS, NULL);
    assert_int_equal(res.submits, 4);
    assert_int_equal(res.failed_submits, 0);
    expect_careful_batches(&ex);
}

/* (c) A driver that runs the jobs itself, correctly: quiet, and it was given each job with the
 * domain as it was (the detached device is in the domain its detach sees, and in no later job's),
 * the unmapped range in bytes, and the careful batch. */
static void test_jobs_own_callers(void **state)
{
    (void)state;
    chk_result res;
    struct executed ex;
    memset(&ex, 0, sizeof(ex));
    nseen_jobs = 0;
    run_job("jobs", false, NULL, &tiny_jobs, 16, &ex, &res);
    expect_verdict(&res, CHK_PASS, NULL);
    expect_careful_batches(&ex);
    assert_int_equal(nseen_jobs, 4);
    const struct seen_job *j = seen_jobs;
    assert_int_equal(j[0].op.kind, DRV_OP_UNMAP);
    assert_int_equal(j[0].dom.did, 1);
    assert_int_equal(j[0].dom.ndevs, 2);
    assert_int_equal(j[0].dom.sid[0], 0x0100);
    assert_int_equal(j[0].dom.sid[1], 0x0200);
    assert_true(j[0].dom.ats[0] && j[0].dom.ats[1]);
    assert_int_equal(j[0].op.start, 0x101000);
    assert_int_equal(j[0].op.end, 0x102fff);
    assert_int_equal(j[0].op.n, 3);
    assert_int_equal(j[1].op.kind, DRV_OP_DETACH);
    assert_int_equal(j[1].op.sid, 0x0200);
    assert_int_equal(j[1].dom.ndevs, 2);
    assert_int_equal(j[1].op.n, 2);
    assert_int_equal(j[2].op.kind, DRV_OP_UNMAP);
    assert_int_equal(j[2].dom.ndevs, 1);
    assert_int_equal(j[2].dom.sid[0], 0x0100);
    assert_int_equal(j[2].op.start, 0x100000);
    assert_int_equal(j[2].op.end, 0x100fff);
    assert_int_equal(j[3].op.kind, DRV_OP_CONTEXT);
    assert_int_equal(j[3].op.sid, 0x0100);
    assert_int_equal(j[3].dom.ndevs, 1);
}

/* (a) A driver whose own `op` reports success without queuing the device-TLB invalidations a
 * job requires: lost_invalidation, in the job's words, on the shared domain's unmap and on the
 * catalog's detach (its link dropping only at 4 us, after the detach). Without `op` the same
 * bug in the submit path is caught as a submit's. */
static void test_jobs_lost_invalidation(void **state)
{
    (void)state;
    chk_result res;
    run_job("jobs", false, NULL, &tiny_jobs_skip_devtlb, 16, NULL, &res);
    expect_verdict(&res, CHK_LOST_INVALIDATION, "cpu0's unmap job (0.000000");
    assert_non_null(strstr(res.why, "but invalidation 1 it requires (devtlb"));
    assert_non_null(strstr(res.why, "was neither executed nor sent by the hardware"));
    run_job("detach-link-down", true, "desc_width=128", &tiny_jobs_skip_devtlb, 15, NULL, &res);
    expect_verdict(&res, CHK_LOST_INVALIDATION, "cpu0's detach job");
    assert_non_null(strstr(res.why, "invalidation 1 it requires (devtlb"));
    run_job("jobs", false, NULL, &tiny_skip_devtlb, 16, NULL, &res);
    expect_verdict(&res, CHK_LOST_INVALIDATION, "cpu0's submit (");
    assert_non_null(strstr(res.why, "its descriptor 1 (devtlb"));
}

/* (b) A driver whose `op` swallows the device-TLB time-out, as the kernel's void callers do:
 * on the catalog's detach-link-down (128-bit descriptors for the tiny driver; the link drops
 * before the detach) the ITE comes at 60 s, the job still returns 0, the OS frees and reuses
 * the domain's pages, and ep0's DMA at 61 s goes through its stale ATC entry: stale_dma. The
 * invalidation was sent, so it is no lost_invalidation for a job the driver's own callers ran.
 * The same driver reporting the time-out, and the checker submitting the batch to the plain
 * tiny driver, keep the pages: quiet. A submit that takes the time-out for success is still a
 * lost invalidation. The shared domain's dead device shows the same with an unmap. */
static void test_jobs_swallowed_timeout(void **state)
{
    (void)state;
    chk_result res;
    run_job("detach-link-down", true, "desc_width=128", &tiny_jobs_void, 0, NULL, &res);
    expect_verdict(&res, CHK_STALE_DMA, "ep0 reached physical page");
    assert_non_null(strstr(res.why, "through a stale ATC entry"));
    assert_true(res.end >= 61 * HW_S);
    assert_int_equal(res.failed_submits, 0);
    run_job("detach-link-down", true, "desc_width=128", &tiny_jobs, 0, NULL, &res);
    expect_verdict(&res, CHK_PASS, NULL);
    assert_int_equal(res.failed_submits, 1);
    run_job("detach-link-down", true, "desc_width=128", &tiny, 0, NULL, &res);
    expect_verdict(&res, CHK_PASS, NULL);
    run_job("detach-link-down", true, "desc_width=128", &tiny_ite_ok, 0, NULL, &res);
    expect_verdict(&res, CHK_LOST_INVALIDATION, "cpu0's submit (");

    run_job("shared-domain-dead-device", true, NULL, &tiny_jobs_void, 0, NULL, &res);
    expect_verdict(&res, CHK_STALE_DMA, "ep1 reached physical page");
    assert_non_null(strstr(res.why, "through a stale ATC entry"));
    run_job("shared-domain-dead-device", true, NULL, &tiny_jobs, 0, NULL, &res);
    expect_verdict(&res, CHK_PASS, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Known gaps of the oracles (or of the scenarios feeding them). Each test pins today's
 * behaviour with a reproduction; when the gap is closed, the assertion marked GAP fails and
 * should be flipped to the verdict given in its comment.
 */

/* The catalog's stale-atc-dma catches the stale-only driver: once every CPU is done the run
 * lets the hardware finish its timed events, so the DMA due after the free (the "late" read at
 * 100 us) is performed and lands in the reused page. (Before runs drained the hardware, no DMA
 * after the free ever happened and this scenario could not produce stale_dma.) */
static void test_catalog_stale_atc_dma(void **state)
{
    (void)state;
    scenario *sc = malloc(sizeof(*sc));
    char err[256];
    assert_non_null(sc);
    if (sc_load_named(QINVAL_SCENARIO_DIR, "stale-atc-dma", NULL, 0, sc, err, sizeof(err)))
        fail_msg("%s", err);
    chk_options o;
    chk_options_default(&o);
    o.strategy = CHK_STRAT_DFS;
    o.minimise = false;
    chk_report rep;
    memset(&rep, 0, sizeof(rep));
    assert_int_equal(chk_explore(sc, &tiny_devtlb_first, &o, &rep), 0);
    assert_int_equal(rep.verdict, CHK_STALE_DMA);
    chk_report_free(&rep);
    memset(&rep, 0, sizeof(rep));
    assert_int_equal(chk_explore(sc, &tiny, &o, &rep), 0); /* the right order: quiet */
    assert_true(rep.complete);
    assert_int_equal(rep.verdict, CHK_PASS);
    chk_report_free(&rep);
    free(sc);
}

/* A detach's careful batch (a domain-selective IOTLB invalidation, then ep0's device TLB) has
 * no invalidation of the context cache, which still holds ep0's context entry after the OS
 * cleared it. A DMA of ep0 after its device TLB was invalidated and before the detach returns
 * misses in the ATC, and its translation request, through the cached context entry and the
 * domain's page table (still mapping the pages until they are freed), fills the ATC again; the
 * detach succeeds, the pages are freed and reused, and the last read reaches them through that
 * entry. The correct driver is accused: GAP (should be pass). In Linux the teardown blocks new
 * translation requests first (legacy mode: a context-cache invalidation before the IOTLB one;
 * scalable mode: the PASID entry cleared and a PASID-cache invalidation); the careful batch has
 * neither, and the model keeps no PASID cache for the second to act on. Only DMA in that window
 * shows it: the points before the device-TLB invalidation completes pass. */
static void test_gap_detach_race(void **state)
{
    (void)state;
    unsigned stale = 0;
    for (unsigned k = 0; k < 16; k++) {
        chk_result res;
        run_at("detach-race", &tiny, k, &res);
        if (res.verdict == CHK_STALE_DMA)
            stale++;
        else
            expect_verdict(&res, CHK_PASS, NULL);
    }
    assert_in_range(stale, 1, 15); /* GAP: 0 */
}

/* slot_leak is judged with the machine at rest: a driver that bounds its wait (a deadline per
 * call, as the engine has) and returns -ETIMEDOUT at its 100 ms deadline while ep0 is mute
 * leaves an ATS request the IOMMU only gives up on at 60 s; the run lets that happen before
 * judging, so the correct driver is not accused of a leak (it was, when leaks were judged the
 * moment the last CPU returned). */
static void test_slot_leak_bounded_wait(void **state)
{
    (void)state;
    chk_result res;
    run1("mute", "deadline_ms=100", &tiny_deadline, &res);
    assert_int_equal(res.failed_submits, 1);
    assert_true(res.end >= 60 * HW_S); /* the hardware's own time-out ran before judging */
    expect_verdict(&res, CHK_PASS, NULL);
    /* The same driver on a healthy endpoint: no deadline reached, quiet. */
    expect_pass("devtlb", "deadline_ms=100", &tiny_deadline);

    scenario *sc = malloc(sizeof(*sc));
    char err[256];
    const char *sets[] = {"deadline_ms=100"};
    assert_non_null(sc);
    if (sc_load_named(QINVAL_SCENARIO_DIR, "link-down-silent", sets, 1, sc, err, sizeof(err)))
        fail_msg("%s", err);
    chk_run_once(sc, &tiny_deadline, decide_default, NULL, NULL, NULL, &res);
    assert_int_equal(res.failed_submits, 1);
    expect_verdict(&res, CHK_PASS, NULL);
    free(sc);
}

/* queue_corruption without an IQE (a gap until the model compared each fetch with what the
 * tail write published): the driver rewrites its own wait descriptor after the doorbell
 * (while the hardware is busy with the 2 us device-TLB round trip and a fetch window of 1, so
 * the slot is certainly unfetched) with a valid variant (IF = 1). The quiet side: the
 * reference drivers' repair of a bad slot while IQE stops the queue passes (iqe-bad-desc in
 * tests/cli/seeds.sh and the matrix). */
static void test_corruption_overwrite_unfetched_slot(void **state)
{
    (void)state;
    chk_result res;
    run1("window1", NULL, &tiny_rewrite_wait, &res);
    expect_verdict(&res, CHK_QUEUE_CORRUPTION, "rewritten after the tail write published it");
}

/* false_failure judges health per submit: ep0 goes mute only at 1 s, so the device-TLB
 * invalidation at 1 us targets a healthy endpoint and the driver that reports -EIO for it is
 * caught (it was not, when any planned fault made an endpoint unhealthy for the whole run). */
static void test_false_failure_future_fault(void **state)
{
    (void)state;
    chk_result res;
    run1("latemute", NULL, &tiny_eio, &res);
    assert_int_equal(res.failed_submits, 1);
    expect_verdict(&res, CHK_FALSE_FAILURE, "healthy targets");
    expect_pass("latemute", NULL, &tiny);
}

/* A caller's deadline shorter than a healthy device's answer: -ETIMEDOUT at the deadline is
 * what the caller asked for, not a false failure (it was judged one before deadlines were
 * taken into account). Without a deadline the same driver waits and succeeds; a driver that
 * reports an error for a completed call is still caught. */
static void test_false_failure_deadline_honoured(void **state)
{
    (void)state;
    chk_result res;
    run1("slow", "deadline_ms=1", &tiny_deadline, &res);
    assert_int_equal(res.failed_submits, 1);
    expect_verdict(&res, CHK_PASS, NULL);
    run1("slow", NULL, &tiny_deadline, &res);
    assert_int_equal(res.failed_submits, 0);
    expect_verdict(&res, CHK_PASS, NULL);
    run1("slow", "deadline_ms=1", &tiny_eio, &res);
    expect_verdict(&res, CHK_FALSE_FAILURE, "healthy targets");
}

/* deadline_overrun: a driver that says it honours deadlines must return by the deadline plus
 * deadline_margin_ms (default 0.1 ms). ep0 answers after 3 ms; the caller allows 1 ms. The
 * late driver gives up at 2 ms: caught with the default margin, quiet with a margin of 1.5 ms;
 * the punctual one is quiet; a driver with no deadlines (the reference algorithms) is not
 * judged by this oracle at all, and neither is a call with no bound. */
static void test_deadline_overrun(void **state)
{
    (void)state;
    chk_result res;
    run1("slow", "deadline_ms=1", &tiny_late, &res);
    assert_int_equal(res.failed_submits, 1);
    expect_verdict(&res, CHK_DEADLINE_OVERRUN, "returned 0.00100"); /* 1 ms + a few ns */
    expect_pass("slow", "deadline_ms=1 deadline_margin_ms=1.5", &tiny_late);
    run1("slow", "deadline_ms=1 deadline_margin_ms=0.9", &tiny_late, &res);
    expect_verdict(&res, CHK_DEADLINE_OVERRUN, "margin 0.000900000 s");
    expect_pass("slow", "deadline_ms=1", &tiny_deadline);
    expect_pass("slow", "deadline_ms=1", &tiny); /* waits 3 ms, but promises nothing */
    expect_pass("slow", NULL, &tiny_late);       /* no bound given, none by default */
}

/* Without a caller's deadline the bound is the driver's own default, if it declares one. */
static void test_deadline_overrun_default_bound(void **state)
{
    (void)state;
    chk_result res;
    sim_driver_ops bounded = tiny_late;
    bounded.default_deadline_ns = HW_MS;
    run1("slow", NULL, &bounded, &res);
    assert_int_equal(res.failed_submits, 0); /* it waited the 3 ms and succeeded */
    expect_verdict(&res, CHK_DEADLINE_OVERRUN, "0.001000000 s after the call");
    bounded.default_deadline_ns = 4 * HW_MS;
    expect_pass("slow", NULL, &bounded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_overrun),
        cmocka_unit_test(test_deadline_overrun_default_bound),
        cmocka_unit_test(test_tiny_passes),
        cmocka_unit_test(test_tiny_passes_explored),
        cmocka_unit_test(test_lost_skipped_devtlb),
        cmocka_unit_test(test_lost_no_wait),
        cmocka_unit_test(test_lost_ite_taken_for_success),
        cmocka_unit_test(test_lost_executed_before_the_call),
        cmocka_unit_test(test_stale_dma_devtlb_first),
        cmocka_unit_test(test_stale_dma_behind_lost),
        cmocka_unit_test(test_corruption_reserved_bit),
        cmocka_unit_test(test_corruption_among_deliberate),
        cmocka_unit_test(test_corruption_tail_backwards),
        cmocka_unit_test(test_false_failure),
        cmocka_unit_test(test_slot_leak_count),
        cmocka_unit_test(test_slot_leak_hardware),
        cmocka_unit_test(test_hang_proved),
        cmocka_unit_test(test_hang_loop_without_platform_point),
        cmocka_unit_test(test_loop_confirmed_by_a_second_run),
        cmocka_unit_test(test_hard_lockup),
        cmocka_unit_test(test_catalog_stale_atc_dma),
        cmocka_unit_test(test_slot_leak_bounded_wait),
        cmocka_unit_test(test_corruption_overwrite_unfetched_slot),
        cmocka_unit_test(test_false_failure_future_fault),
        cmocka_unit_test(test_false_failure_deadline_honoured),
        cmocka_unit_test(test_jobs_careful_batches_submitted),
        cmocka_unit_test(test_jobs_own_callers),
        cmocka_unit_test(test_jobs_lost_invalidation),
        cmocka_unit_test(test_jobs_swallowed_timeout),
        cmocka_unit_test(test_gap_detach_race),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
