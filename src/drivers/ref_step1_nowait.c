/*
 * ref_step1_nowait.c — "step1-nowait": Linux's VT-d queued-invalidation submitter after the
 * March 2026 fix of the odd-slot walk.
 *
 * The design (Linux's qi_check_fault after the fix): the common skeleton in ref_common.c, and
 * on an Invalidation Time-out Error: read IQH, IQT and the ITESID field of IQERCD (bits 47:32;
 * 0 on hardware older than VT-d 4.1), clear ITE, walk the ring backwards from IQH - 1 one slot
 * at a time until the index equals IQT - 1, marking every in-use slot aborted. Then: if ITESID
 * names a device that is absent (no such function, or its config read fails — Linux's
 * pci_device_is_present), fail with a time-out; else restart the batch if the caller's wait was
 * aborted, else keep polling. No deadline; interrupts stay off while polling.
 *
 * Known failure (the hard lockup reported when a device whose link dropped without a hot-plug
 * interrupt stopped answering ATS invalidations: the Jinhui Guo / Bjorn Helgaas thread,
 * Dec 2025 - Feb 2026): the only end to a wait is the hardware's ITE, whose timer may be as
 * long as the PCIe completion allowance (60-90 s), and the submitter polls with interrupts off
 * all that time — longer than the lockup watchdog. A device whose link dropped without a
 * hot-plug event still answers "present" until its config read fails, and a present device is
 * retried without limit. Expected verdict: hard_lockup on link-down-silent.
 */
#include "drivers/ref_common.h"
#include "sim/sim.h"

/* Mark in-use slots aborted, from `at` down to `end` (exclusive), one slot at a time. Plain
 * memory accesses, like the original. */
static void abort_slots_behind_head(struct ref_qi *qi, unsigned at, unsigned end)
{
    volatile uint32_t *status = qi->desc_status;
    unsigned n = qi->nslots;

    do {
        if (status[at] == REF_QI_IN_USE)
            status[at] = REF_QI_ABORT;
        at = (at - 1 + n) % n;
    } while (at != end);
}

static int step1_nowait_ite(struct ref_qi *qi, qi_platform *p, unsigned wait_index)
{
    unsigned n = qi->nslots;
    unsigned head = ref_qi_reg_index(qi, qi_plat_read64(p, VTD_REG_IQH));
    unsigned tail = ref_qi_reg_index(qi, qi_plat_read64(p, VTD_REG_IQT));
    uint64_t iqercd = qi_plat_read64(p, VTD_REG_IQERCD);
    uint16_t sid = (uint16_t)(iqercd >> VTD_IQERCD_ITESID_SHIFT);
    unsigned start = (head - 1 + n) % n;
    unsigned end = (tail - 1 + n) % n;

    ref_qi_clear_fault(p, VTD_FSTS_ITE);
    sim_note(p, "step1-nowait: ITE cleared; walk from IQH-1 by 1 down to end IQT-1", start, end);
    abort_slots_behind_head(qi, start, end);
    sim_note(p, "step1-nowait: walk done; our wait slot's status", wait_index,
             qi->desc_status[wait_index]);
    if (sid != 0 && !ref_device_present(p, sid)) {
        sim_note(p, "step1-nowait: ITESID device absent: -ETIMEDOUT", sid, 0);
        return DRV_ETIMEDOUT;
    }
    return qi->desc_status[wait_index] == REF_QI_ABORT ? DRV_EAGAIN : 0;
}

static void *step1_nowait_init(qi_platform *p, const struct drv_params *params)
{
    return ref_qi_init(p, params, step1_nowait_ite);
}

const sim_driver_ops ref_step1_nowait_ops = {
    .name = "step1-nowait",
    .summary = "Linux after Mar 2026: ITE walk by one slot, -ETIMEDOUT if ITESID device absent",
    .init = step1_nowait_init,
    .submit = ref_qi_submit,
    .free_slots = ref_qi_free_slots,
    .capacity = ref_qi_capacity,
};
