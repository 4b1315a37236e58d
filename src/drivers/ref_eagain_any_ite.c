/*
 * ref_eagain_any_ite.c — "eagain-any-ite": the fix proposed for the odd-slot walk (Guanghui
 * Feng, "iommu/vt-d: fix intel iommu iotlb sync hardlockup & retry", Feb 2026) and rejected by
 * the maintainer.
 *
 * The design (as proposed in that patch): the common skeleton in ref_common.c, and on any
 * Invalidation Time-out Error, whoever sees it clears it and returns "again" — no walk, no
 * marking of other submitters' slots. The caller frees and reclaims its slots like any finished
 * submission and resubmits its batch from the top. No deadline.
 *
 * Known failure (Lu Baolu's reply in the same thread): it works for one submitter but races
 * between several. CPU A queues a device-TLB invalidation, CPU B an IOTLB invalidation behind
 * it. The device-TLB request times out; the hardware aborts every wait it holds, A's included.
 * B happens to read FSTS first, clears ITE and retries; A's wait status will never be written
 * and nothing marks it aborted, so A polls forever with interrupts off.
 * Expected verdict: hang on ite-race.
 */
#include "drivers/ref_common.h"
#include "sim/sim.h"

static int eagain_any_ite(struct ref_qi *qi, qi_platform *p, unsigned wait_index)
{
    (void)qi;
    ref_qi_clear_fault(p, VTD_FSTS_ITE);
    sim_note(p, "eagain-any-ite: ITE cleared; this caller retries (others are not told)",
             wait_index, 0);
    return DRV_EAGAIN;
}

static void *eagain_any_ite_init(qi_platform *p, const struct drv_params *params)
{
    return ref_qi_init(p, params, eagain_any_ite);
}

const sim_driver_ops ref_eagain_any_ite_ops = {
    .name = "eagain-any-ite",
    .summary = "rejected 2026 proposal: whoever sees an ITE clears it and retries its own batch",
    .init = eagain_any_ite_init,
    .submit = ref_qi_submit,
    .free_slots = ref_qi_free_slots,
    .capacity = ref_qi_capacity,
};
