/*
 * ref_legacy_odd.c — "legacy-odd": Linux's VT-d queued-invalidation submitter as it was from
 * v5.8 (batched submission, 2020) until the March 2026 fix.
 *
 * The design (Linux's qi_check_fault before the fix): the common skeleton in ref_common.c, and
 * on an Invalidation Time-out Error: read IQH and IQT, clear ITE, then walk the ring backwards
 * from IQH - 1 with its low bit forced to 1, two slots at a time, until the index equals
 * IQT - 1, marking every in-use slot aborted; the caller restarts its batch if its own wait slot
 * got marked, else keeps polling. No deadline. (Later kernels of that period also read ITESID
 * and failed for an absent device; the algorithm as catalogued here does not.)
 *
 * The walk comes from 2009, when every submission was one descriptor plus one wait, so a wait
 * always sat at an odd slot and IQT was always even. Batching broke both assumptions.
 *
 * Known failure (the hard lockup on ITE with batches: Guanghui Feng's report, Feb 2026,
 * confirmed by Lu Baolu, fixed in March 2026): a batch with an even number of descriptors
 * leaves IQT odd, so the end index IQT - 1 is even, and an index that starts odd and steps by
 * two never meets it. The walk then loops forever with interrupts off, and it contains no
 * platform call at all (plain accesses to desc_status[], as in the original): the simulator's
 * step guard has to catch it. When the walk does end, a wait at an even slot is still never
 * marked aborted, and its submitter polls forever for a status write that will never come.
 * Expected verdicts: hang / hard_lockup on ite-even-batch with an even batch, pass with an odd.
 */
#include "drivers/ref_common.h"
#include "sim/sim.h"

/* Mark in-use slots aborted, from `at` down to `end` (exclusive) in steps of two. Plain memory
 * accesses only: never returns if `at` and `end` differ in parity. */
static void abort_every_other_slot(struct ref_qi *qi, unsigned at, unsigned end)
{
    volatile uint32_t *status = qi->desc_status;
    unsigned n = qi->nslots;

    do {
        if (status[at] == REF_QI_IN_USE)
            status[at] = REF_QI_ABORT;
        at = (at - 2 + n) % n;
    } while (at != end);
}

static int legacy_odd_ite(struct ref_qi *qi, qi_platform *p, unsigned wait_index)
{
    unsigned n = qi->nslots;
    unsigned head = ref_qi_reg_index(qi, qi_plat_read64(p, VTD_REG_IQH));
    unsigned tail = ref_qi_reg_index(qi, qi_plat_read64(p, VTD_REG_IQT));
    unsigned start = ((head - 1 + n) % n) | 1;
    unsigned end = (tail - 1 + n) % n;

    ref_qi_clear_fault(p, VTD_FSTS_ITE);
    sim_note(p, "legacy-odd: ITE cleared; walk from (IQH-1)|1 by 2 down to end IQT-1", start, end);
    abort_every_other_slot(qi, start, end);
    sim_note(p, "legacy-odd: walk done; our wait slot's status", wait_index,
             qi->desc_status[wait_index]);
    return qi->desc_status[wait_index] == REF_QI_ABORT ? DRV_EAGAIN : 0;
}

static void *legacy_odd_init(qi_platform *p, const struct drv_params *params)
{
    return ref_qi_init(p, params, legacy_odd_ite);
}

const sim_driver_ops ref_legacy_odd_ops = {
    .name = "legacy-odd",
    .summary = "Linux v5.8..Mar 2026: ITE walk visits odd slots only (loops on even batches)",
    .init = legacy_odd_init,
    .submit = ref_qi_submit,
    .free_slots = ref_qi_free_slots,
    .capacity = ref_qi_capacity,
};
