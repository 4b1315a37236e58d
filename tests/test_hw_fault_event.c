/*
 * test_hw_fault_event.c — the fault event interrupt and FSTS (spec 7.3, 11.4.7.1-2; semantics
 * 11, 13): FECTL.IM=1 at reset holds the interrupt with IP set; clearing IM delivers it; a
 * second error while one is set raises no new interrupt; clearing every error bit clears a held
 * IP. FSTS is RW1C: writing 0 does nothing, writing 1 clears only that bit, other bits are
 * ignored and logged.
 */
#include "hw_testutil.h"

#define SID0 0x0100u

/* [devtlb (wrong ITag, slow), type-0 descriptor]: IQE at once, ICE when the answer arrives. */
static void iqe_then_ice(hwt *t, hw_time latency)
{
    hw_config cfg = hwt_config(t);
    vtd_desc bad;
    int ep;

    hwt_start(t, &cfg, 0);
    ep = hwt_ep(t, SID0, true, latency);
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_WRONG_ITAG, 1), 0);
    memset(&bad, 0, sizeof(bad));
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* 0 */
    hwt_push(t, bad);                                /* 1: type 0 */
    hwt_doorbell(t);
}

static void test_fault_event_masking(void **state)
{
    hwt *t = *state;
    const hw_time L = 5 * HW_US;
    hw_event irq;
    vtd_desc d;
    hw_paddr s1;

    iqe_then_ice(t, L);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM); /* reset: masked */
    hwt_w32(t, VTD_REG_FEDATA, 0x55);
    hwt_w32(t, VTD_REG_FEADDR, 0xFEE00000u);
    hwt_w32(t, VTD_REG_FEUADDR, 0);
    hwt_run(t, HW_US);

    /* IQE with IM=1: IP set, nothing sent. */
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM | VTD_ECTL_IP);
    HWT_EQ(t, t->irq_count[HW_IRQ_FAULT], 0);

    /* Clearing IM delivers the held interrupt and clears IP. */
    hwt_w32(t, VTD_REG_FECTL, 0);
    HWT_EQ(t, t->irq_count[HW_IRQ_FAULT], 1);
    HWT_EQ(t, t->irq_time[HW_IRQ_FAULT], hwt_now(t));
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), 0);
    irq = *HWT_EV_LAST(t, HW_EV_IRQ, -1);
    HWT_EQ(t, irq.c, HW_IRQ_FAULT);
    HWT_EQ(t, irq.a, 0x55);
    HWT_EQ(t, irq.b, 0xFEE00000u);
    HWT_EQ(t, irq.flags & HW_EVF_HELD, 0);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE); /* delivering does not clear the status */

    /* ICE while IQE is still set: no new interrupt (spec 7.3 step 1). */
    hwt_run(t, 2 * L);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE | VTD_FSTS_ICE);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ICE, -1, 0), 1);
    HWT_EQ(t, t->irq_count[HW_IRQ_FAULT], 1);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), 0);

    /* Masked again; clear both errors; slot 1 fixed, slot 2 bad: a fresh IQE, held. */
    hwt_w32(t, VTD_REG_FECTL, VTD_ECTL_IM);
    s1 = hwt_status_new(t, 0);
    d = hwt_wait_sw(0x1, s1);
    hwt_put(t, 1, &d);
    memset(&d, 0, sizeof(d));
    hwt_put(t, 2, &d);
    t->tail = 3;
    hwt_doorbell(t);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_IQE | VTD_FSTS_ICE);
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM);
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
    HWT_EQ(t, HWT_EV_LAST(t, HW_EV_IQE, -1)->slot, 2);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM | VTD_ECTL_IP);
    HWT_EQ(t, t->irq_count[HW_IRQ_FAULT], 1);

    /* Clearing the only error bit clears the held IP; unmasking then sends nothing. */
    d = hwt_wait_sw(0x2, s1);
    hwt_put(t, 2, &d);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_IQE);
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM);
    hwt_w32(t, VTD_REG_FECTL, 0);
    HWT_EQ(t, t->irq_count[HW_IRQ_FAULT], 1);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), 0);
    HWT_EQ(t, t->irq_count[HW_IRQ_COMPLETION], 0);
}

/* IM=0 from the start: the interrupt goes out when the error is detected. */
static void test_fault_event_unmasked(void **state)
{
    hwt *t = *state;
    hw_event iqe, irq;

    iqe_then_ice(t, 5 * HW_US);
    hwt_w32(t, VTD_REG_FEDATA, 0x66);
    hwt_w32(t, VTD_REG_FEADDR, 0xFEE00000u);
    hwt_w32(t, VTD_REG_FECTL, 0);
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
    HWT_EQ(t, t->irq_count[HW_IRQ_FAULT], 1);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), 0);
    iqe = *HWT_EV(t, HW_EV_IQE, -1);
    irq = *HWT_EV_LAST(t, HW_EV_IRQ, -1);
    HWT_EQ(t, t->irq_time[HW_IRQ_FAULT], iqe.t);
    HWT_EQ(t, irq.c, HW_IRQ_FAULT);
    HWT_EQ(t, irq.a, 0x66);
    HWT_OK(t, irq.seq > iqe.seq, "interrupt logged before the IQE");
    /* The ICE later: IQE still set, so no second interrupt. */
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE | VTD_FSTS_ICE);
    HWT_EQ(t, t->irq_count[HW_IRQ_FAULT], 1);
    /* Clear all, then a new error: a new interrupt. */
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_IQE | VTD_FSTS_ICE);
    hwt_run(t, HW_US); /* slot 1 is still bad: IQE again, no error was set before */
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
    HWT_EQ(t, t->irq_count[HW_IRQ_FAULT], 2);
}

static void test_fsts_rw1c(void **state)
{
    hwt *t = *state;
    size_t bad_before;
    hw_event e;

    iqe_then_ice(t, 2 * HW_US);
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE | VTD_FSTS_ICE);

    hwt_w32(t, VTD_REG_FSTS, 0);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE | VTD_FSTS_ICE);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_ITE | VTD_FSTS_PFO); /* bits that are not set */
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE | VTD_FSTS_ICE);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_ICE);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);

    /* Bit 7 (PRO in old revisions) is RsvdZ in 5.10: ignored and logged. */
    bad_before = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_PRO);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0), bad_before + 1);
    e = *HWT_EV_LAST(t, HW_EV_MMIO_BAD, -1);
    HWT_EQ(t, e.a, VTD_REG_FSTS);
    HWT_EQ(t, e.flags, HW_MMIO_RSVD_BITS);

    /* Fix slot 1 so that the clear does not re-raise IQE, then clear it. */
    {
        vtd_desc d = vtd_make_wait(false, false, false, 0, 0);
        hwt_put(t, 1, &d);
    }
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_IQE);
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_EQ(t, HWT_EV_LAST(t, HW_EV_ERR_CLEAR, -1)->a, VTD_FSTS_IQE);
    /* IQERCD is sticky: the IQEI of the cleared error is still recorded (semantics 13). */
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQERCD) & VTD_IQERCD_IQEI_MASK, VTD_IQEI_TYPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_fault_event_masking),
        HWT_TESTS(test_fault_event_unmasked),
        HWT_TESTS(test_fsts_rw1c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
