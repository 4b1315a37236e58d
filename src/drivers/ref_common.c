/*
 * ref_common.c — the queue, the submission skeleton and the fault checks that the three
 * reference algorithms share (see ref_common.h for what is modelled and where it comes from).
 *
 * Shape of one submission, as the Linux design does it:
 *
 *   lock (interrupts off) -> wait for count + 2 free slots (dropping the lock while waiting)
 *   -> write the batch and a wait descriptor (status write of DONE into desc_status[wait])
 *   -> mark the slots in use -> move IQT -> poll the status word; every iteration reads FSTS
 *   and may end the wait (IQE on our first slot: -EINVAL; the algorithm's ITE reaction: retry
 *   or fail), then drops and retakes the lock with interrupts still off -> mark our slots free,
 *   reclaim from the free tail, unlock -> on "again", start over from the top.
 *
 * There is no deadline anywhere: the only thing that ends a stuck wait is the hardware's ITE.
 */
#include <string.h>

#include "drivers/ref_common.h"
#include "sim/sim.h"

#define REF_ENABLE_TIMEOUT_NS 10000000000ull /* GSTS.QIES poll bound (Linux: 10 s, then panic) */

/* ---- set-up ---- */

/* The smallest IQA.QS whose queue holds queue_len entries; false if none does. */
static bool pick_queue_size(unsigned queue_len, bool dw256, unsigned *qs, unsigned *nslots)
{
    for (unsigned q = 0; q <= VTD_IQA_QS_MAX; q++) {
        uint32_t entries = vtd_queue_entries(q, dw256);
        if (entries >= queue_len) {
            *qs = q;
            *nslots = entries;
            return true;
        }
    }
    return false;
}

/* IQT = 0, IQA = base | DW | QS, then GCMD.QIE by the spec recipe, polling GSTS.QIES. */
static bool enable_qi(struct ref_qi *qi, qi_platform *p, unsigned qs)
{
    uint64_t iqa = qi_plat_virt_to_phys(p, qi->ring) | (qi->dw256 ? VTD_IQA_DW : 0) | qs;
    uint32_t cmd;
    uint64_t start;

    qi_plat_write64(p, VTD_REG_IQT, 0);
    qi_plat_write64(p, VTD_REG_IQA, iqa);
    cmd = (qi_plat_read32(p, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK) | (uint32_t)VTD_GCMD_QIE;
    qi_plat_write32(p, VTD_REG_GCMD, cmd);
    start = qi_plat_now_ns(p);
    while (!(qi_plat_read32(p, VTD_REG_GSTS) & VTD_GSTS_QIES)) {
        if (qi_plat_now_ns(p) - start > REF_ENABLE_TIMEOUT_NS) {
            qi_plat_log(p, QI_LOG_ERR, "ref: GSTS.QIES never set", iqa, cmd);
            return false;
        }
        qi_plat_relax(p, 0);
    }
    return true;
}

/*
 * Queue size. The hardware's smallest queue is one page (256 entries of 128 bits, 128 of
 * 256 bits), and it wraps at the size IQA.QS names, so a smaller ring cannot be programmed.
 * We allocate the smallest queue IQA.QS can describe that holds queue_len entries and index
 * the ring over all of its entries (nslots), exactly as the hardware does. A queue_len below
 * that (scenarios use 8 or 16 to reach "queue full" quickly) is emulated by starting free_cnt
 * at queue_len instead of nslots: with the "count + 2 free" rule at most queue_len - 1 slots
 * are then outstanding, as in a real ring of queue_len entries; only the wrap point (nslots)
 * differs from such a ring.
 */
struct ref_qi *ref_qi_init(qi_platform *p, const struct drv_params *params, ref_ite_fn on_ite)
{
    unsigned qs, nslots;
    struct ref_qi *qi;

    if (!params || params->queue_len < 2 ||
        !pick_queue_size(params->queue_len, params->dw256, &qs, &nslots)) {
        qi_plat_log(p, QI_LOG_ERR, "ref: unsupported queue length", params ? params->queue_len : 0,
                    0);
        return NULL;
    }
    qi = sim_dma_alloc(p, sizeof(*qi));
    if (!qi)
        return NULL;
    qi->dw256 = params->dw256;
    qi->shift = vtd_desc_shift(params->dw256);
    qi->nslots = nslots;
    qi->cap = params->queue_len;
    qi->free_cnt = qi->cap;
    qi->on_ite = on_ite;
    qi->ring = sim_dma_alloc(p, (size_t)nslots << qi->shift);      /* >= 4 KiB: page aligned */
    qi->desc_status = sim_dma_alloc(p, nslots * sizeof(uint32_t)); /* zeroed: all REF_QI_FREE */
    if (!qi->ring || !qi->desc_status)
        return NULL;
    if (qi_plat_virt_to_phys(p, qi->ring) & (HW_PAGE_SIZE - 1)) {
        qi_plat_log(p, QI_LOG_ERR, "ref: queue not 4 KiB aligned",
                    qi_plat_virt_to_phys(p, qi->ring), 0);
        return NULL;
    }
    return enable_qi(qi, p, qs) ? qi : NULL;
}

/* ---- small helpers ---- */

unsigned ref_qi_reg_index(const struct ref_qi *qi, uint64_t reg)
{
    return (unsigned)((reg & VTD_IQ_OFFSET_MASK) >> qi->shift) % qi->nslots;
}

void ref_qi_clear_fault(qi_platform *p, uint32_t bit)
{
    qi_plat_write32(p, VTD_REG_FSTS, bit);
}

bool ref_device_present(qi_platform *p, uint16_t sid)
{
    hw_machine *m = sim_hw(sim_platform_world(p));
    int ep = hw_ep_find(m, sid);

    return ep >= 0 && hw_ep_config_read32(m, ep, 0) != 0xFFFFFFFFu;
}

static unsigned slot_add(const struct ref_qi *qi, unsigned i, unsigned k)
{
    return (i + k) % qi->nslots;
}

static void put_desc(struct ref_qi *qi, unsigned slot, const vtd_desc *d)
{
    memcpy(qi->ring + ((size_t)slot << qi->shift), d->qw, (size_t)1 << qi->shift);
}

/* ---- the fault check, called every polling iteration with the lock held ---- */

/* IQE whose IQH names our first slot: overwrite the bad descriptor with our wait descriptor so
 * the hardware can go on, clear IQE, fail the batch. A bad descriptor later in a batch matches
 * no caller and stays: the design's known gap, kept on purpose. */
static int repair_iqe(struct ref_qi *qi, qi_platform *p, unsigned index, unsigned wait_index)
{
    memmove(qi->ring + ((size_t)index << qi->shift), qi->ring + ((size_t)wait_index << qi->shift),
            (size_t)1 << qi->shift);
    ref_qi_clear_fault(p, VTD_FSTS_IQE);
    sim_note(p, "ref: IQE at our first slot: wait copied over it, IQE cleared", index, wait_index);
    return DRV_EINVAL;
}

static bool iqe_at(struct ref_qi *qi, qi_platform *p, unsigned index)
{
    return ref_qi_reg_index(qi, qi_plat_read64(p, VTD_REG_IQH)) == index;
}

static int check_fault(struct ref_qi *qi, qi_platform *p, unsigned index, unsigned wait_index)
{
    uint32_t fsts;
    int rc;

    /* Another CPU's ITE walk may have aborted our wait already. */
    if (qi_plat_load32(p, &qi->desc_status[wait_index]) == REF_QI_ABORT) {
        sim_note(p, "ref: our wait slot is marked aborted", wait_index, 0);
        return DRV_EAGAIN;
    }
    fsts = qi_plat_read32(p, VTD_REG_FSTS);
    if ((fsts & VTD_FSTS_IQE) && iqe_at(qi, p, index))
        return repair_iqe(qi, p, index, wait_index);
    if (fsts & VTD_FSTS_ITE) {
        sim_note(p, "ref: FSTS.ITE seen", fsts, wait_index);
        rc = qi->on_ite(qi, p, wait_index);
        if (rc != 0)
            return rc;
    }
    if (fsts & VTD_FSTS_ICE) {
        ref_qi_clear_fault(p, VTD_FSTS_ICE);
        sim_note(p, "ref: ICE cleared", fsts, 0);
    }
    return 0;
}

/* ---- the submission skeleton ---- */

/* Write the batch at `index`.. and our wait descriptor at `wait_index`, marking them in use. */
static void fill_slots(struct ref_qi *qi, qi_platform *p, const vtd_desc *descs, unsigned n,
                       unsigned index, unsigned wait_index)
{
    vtd_desc wait;

    for (unsigned i = 0; i < n; i++) {
        unsigned slot = slot_add(qi, index, i);
        put_desc(qi, slot, &descs[i]);
        qi_plat_store32(p, &qi->desc_status[slot], REF_QI_IN_USE);
    }
    wait = vtd_make_wait(true, false, false, REF_QI_DONE,
                         qi_plat_virt_to_phys(p, &qi->desc_status[wait_index]));
    qi_plat_store32(p, &qi->desc_status[wait_index], REF_QI_IN_USE);
    put_desc(qi, wait_index, &wait);
}

/* Poll our status word; the lock is dropped and retaken around each pause, interrupts stay
 * off throughout. Returns 0 when the hardware wrote DONE, else the fault check's verdict. */
static int wait_for_done(struct ref_qi *qi, qi_platform *p, unsigned index, unsigned wait_index)
{
    while (qi_plat_load32(p, &qi->desc_status[wait_index]) != REF_QI_DONE) {
        int rc = check_fault(qi, p, index, wait_index);
        if (rc != 0)
            return rc;
        qi_plat_unlock(p, &qi->q_lock);
        qi_plat_relax(p, 0);
        qi_plat_lock(p, &qi->q_lock);
    }
    return 0;
}

/* Our slots are finished (done, failed or aborted): mark them free for the reclaim. */
static void release_slots(struct ref_qi *qi, qi_platform *p, unsigned index, unsigned count)
{
    for (unsigned i = 0; i < count; i++)
        qi_plat_store32(p, &qi->desc_status[slot_add(qi, index, i)], REF_QI_FREE);
}

/* Advance the free tail over free slots only: a slot still in use by an earlier, slower
 * submitter stops it (that submitter reclaims past it when it finishes). */
static void reclaim(struct ref_qi *qi)
{
    while (qi->free_tail != qi->free_head && qi->desc_status[qi->free_tail] == REF_QI_FREE) {
        qi->free_tail = slot_add(qi, qi->free_tail, 1);
        qi->free_cnt++;
    }
}

/* Take the lock with interrupts off and hold it with count + 2 free slots. */
static unsigned long reserve(struct ref_qi *qi, qi_platform *p, unsigned n)
{
    unsigned long flags = qi_plat_lock_irqsave(p, &qi->q_lock);

    while (qi->free_cnt < n + 2) {
        qi_plat_unlock_irqrestore(p, &qi->q_lock, flags);
        qi_plat_relax(p, 0);
        flags = qi_plat_lock_irqsave(p, &qi->q_lock);
    }
    return flags;
}

static int submit_once(struct ref_qi *qi, qi_platform *p, const vtd_desc *descs, unsigned n)
{
    unsigned long flags = reserve(qi, p, n);
    unsigned index = qi->free_head;
    unsigned wait_index = slot_add(qi, index, n);
    int rc;

    fill_slots(qi, p, descs, n, index, wait_index);
    qi->free_head = slot_add(qi, wait_index, 1);
    qi->free_cnt -= n + 1;
    sim_note(p, "ref: batch queued (first slot, wait slot)", index, wait_index);
    qi_plat_wmb(p);
    qi_plat_write32(p, VTD_REG_IQT, (uint32_t)(qi->free_head << qi->shift));

    rc = wait_for_done(qi, p, index, wait_index);

    release_slots(qi, p, index, n + 1);
    reclaim(qi);
    qi_plat_unlock_irqrestore(p, &qi->q_lock, flags);
    return rc;
}

int ref_qi_submit(void *drv, qi_platform *p, const vtd_desc *descs, unsigned n,
                  const struct drv_submit_opts *opts)
{
    struct ref_qi *qi = drv;
    int rc;

    (void)opts; /* the modelled design has no deadline */
    if (n > qi->cap - 2) {
        /* Could never get count + 2 free slots: a configuration error, not a wait. */
        qi_plat_log(p, QI_LOG_ERR, "ref: batch larger than the queue allows", n, qi->cap);
        return DRV_EINVAL;
    }
    while ((rc = submit_once(qi, p, descs, n)) == DRV_EAGAIN)
        sim_note(p, "ref: restarting the batch from the top", n, 0);
    return rc;
}

unsigned ref_qi_free_slots(void *drv)
{
    return ((struct ref_qi *)drv)->free_cnt;
}

unsigned ref_qi_capacity(void *drv)
{
    return ((struct ref_qi *)drv)->cap;
}
