/*
 * test_hw_tail.c — tail register rules (semantics 4, spec 11.4.9.2 / 6.5.2.11): with DW=1 a
 * tail with bit 4 set raises IQE with IQEI 6 (with DW=0 it is an ordinary odd slot); a tail
 * beyond the queue raises IQE with IQEI 1; IQH does not move, nothing is fetched, and after the
 * tail is fixed and IQE cleared the queue runs on.
 */
#include "hw_testutil.h"

/* Complete one wait at slot 0 so that IQH sits at slot 1 before the error. */
static void one_done(hwt *t)
{
    hwt_submit_sync(t, NULL, 0, 0x1);
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 1));
}

static void test_tail_bit4(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr s1, s2;
    hw_time tw, tc;
    const hw_event *e;
    size_t fetched;

    hwt_start(t, &cfg, 0);
    one_done(t);
    s1 = hwt_status_new(t, 0);
    s2 = hwt_status_new(t, 0);
    hwt_push(t, hwt_wait_sw(0xA1, s1)); /* slot 1 */
    hwt_push(t, hwt_wait_sw(0xA2, s2)); /* slot 2 */
    fetched = hwt_ev_count(t, HW_EV_FETCH, -1, 0);

    if (!t->combo->dw256) {
        /* 128-bit: offset 0x30 (bit 4 set) is slot 3, a legal tail. */
        tw = hwt_now(t);
        hwt_w64(t, VTD_REG_IQT, 0x30);
        HWT_EQ(t, hwt_r64(t, VTD_REG_IQT), 0x30);
        hwt_run(t, 10 * HW_US);
        HWT_EQ(t, hwt_fsts(t), 0);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_IQE, -1, 0), 0);
        HWT_EQ(t, hwt_mem32(t, s1), 0xA1);
        HWT_EQ(t, hwt_mem32(t, s2), 0xA2);
        HWT_EQ(t, hwt_iqh(t), 0x30);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, tw), 2);
        return;
    }

    /* 256-bit: offset 0x50 = slot 2 plus bit 4 -> IQE, IQEI 6 (spec 11.4.9.2). */
    tw = hwt_now(t);
    hwt_w64(t, VTD_REG_IQT, 0x50);
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_fsts(t) & VTD_FSTS_IQE, VTD_FSTS_IQE);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQERCD) & VTD_IQERCD_IQEI_MASK, VTD_IQEI_TAIL_ALIGN);
    e = HWT_EV(t, HW_EV_IQE, -1);
    HWT_EQ(t, e->c, VTD_IQEI_TAIL_ALIGN);
    HWT_OK(t, e->t >= tw, "IQE before the tail write");
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 1)); /* IQH unchanged */
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), fetched);
    HWT_EQ(t, hwt_mem32(t, s1), 0);
    HWT_EQ(t, hwt_mem32(t, s2), 0);

    /* Software fixes the tail (slot 3, aligned) and clears IQE: both waits run. */
    hwt_w64(t, VTD_REG_IQT, hwt_off(t, 3));
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_mem32(t, s1), 0); /* still stopped while IQE is set */
    tc = hwt_now(t);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_IQE);
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_OK(t, hwt_run_until_word(t, s2, 0xA2, HWT_POLL_LIMIT), "queue did not resume");
    HWT_EQ(t, hwt_mem32(t, s1), 0xA1);
    HWT_EQ(t, HWT_EV(t, HW_EV_FETCH, 1)->t >= tc, 1);
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 3));
    HWT_EQ(t, hwt_ev_count(t, HW_EV_IQE, -1, 0), 1);
}

static void test_tail_beyond_queue(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr s1;
    hw_time tw, tc;
    const hw_event *e;
    size_t fetched;

    hwt_start(t, &cfg, 0); /* QS=0: 256 x 16 bytes or 128 x 32 bytes = one page */
    HWT_EQ(t, t->entries, t->combo->dw256 ? 128 : 256);
    one_done(t);
    fetched = hwt_ev_count(t, HW_EV_FETCH, -1, 0);

    /* Byte offset 0x1000 is index `entries`: one past the last slot. */
    tw = hwt_now(t);
    hwt_w64(t, VTD_REG_IQT, 0x1000);
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_fsts(t) & VTD_FSTS_IQE, VTD_FSTS_IQE);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQERCD) & VTD_IQERCD_IQEI_MASK, VTD_IQEI_TAIL);
    e = HWT_EV(t, HW_EV_IQE, -1);
    HWT_EQ(t, e->c, VTD_IQEI_TAIL);
    HWT_OK(t, e->t >= tw, "IQE before the tail write");
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 1));
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), fetched);

    /* Fix: one wait at slot 1, tail 2, clear IQE. */
    s1 = hwt_status_new(t, 0);
    hwt_push(t, hwt_wait_sw(0xB1, s1));
    hwt_doorbell(t);
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_mem32(t, s1), 0);
    tc = hwt_now(t);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_IQE);
    HWT_OK(t, hwt_run_until_word(t, s1, 0xB1, HWT_POLL_LIMIT), "queue did not resume");
    HWT_OK(t, HWT_EV(t, HW_EV_FETCH, 1)->t >= tc, "slot 1 fetched before IQE was cleared");
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 2));
    HWT_EQ(t, hwt_fsts(t), 0);

    /* A larger queue accepts the same offset: QS=1 has 2x the entries. */
    hwt_release(t);
    hwt_start(t, &cfg, 1);
    s1 = hwt_status_new(t, 0);
    for (uint32_t i = 0; i < (0x1000u >> t->shift); i++)
        hwt_push(t, vtd_make_iotlb_global());
    hwt_push(t, hwt_wait_sw(0xB2, s1));
    hwt_doorbell(t);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQT), 0x1000 + hwt_off(t, 1));
    HWT_OK(t, hwt_run_until_word(t, s1, 0xB2, 10 * HWT_POLL_LIMIT), "QS=1 queue stuck");
    HWT_EQ(t, hwt_fsts(t), 0);
}

/* Moving the tail back over descriptors not yet fetched: SW_VIOLATION TAIL_BACKWARDS
 * (semantics 4). fetch_window=1 and a slow devtlb keep slots 2.. unfetched. */
static void test_tail_backwards(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr s1;
    hw_event v;

    cfg.fetch_window = 1;
    hwt_start(t, &cfg, 0);
    hwt_ep(t, 0x0100, true, 10 * HW_US);
    s1 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(0x0100, HWT_IOVA, 1)); /* 0 */
    hwt_push(t, vtd_make_iotlb_global());              /* 1 */
    hwt_push(t, vtd_make_iotlb_global());              /* 2 */
    hwt_push(t, hwt_wait_sw(0x1, s1));                 /* 3 */
    hwt_doorbell(t);
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), 1);
    /* Forward and same-place tail writes are fine. */
    hwt_w64(t, VTD_REG_IQT, hwt_off(t, 4));
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_TAIL_BACKWARDS), 0);
    hwt_w64(t, VTD_REG_IQT, hwt_off(t, 2));
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_TAIL_BACKWARDS), 1);
    v = *HWT_EV_LAST(t, HW_EV_SW_VIOLATION, -1);
    HWT_EQ(t, v.a, 4);
    HWT_EQ(t, v.b, 2);
}

/* A slot changed between the tail write that published it and its fetch: SW_VIOLATION
 * SLOT_REWRITTEN at the fetch, even when the new descriptor is well formed. The same rewrite
 * while ITE stops the queue (neutralising a dead device's work) is a sanctioned repair: the
 * error clear accepts the ring as it then is. fetch_window=1 and a slow or dropped device-TLB
 * invalidation keep slot 2 unfetched. */
static void test_slot_rewritten_before_fetch(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr s1, s2;
    vtd_desc quiet = vtd_make_wait(false, false, false, 0, 0); /* no status write: a no-op */

    cfg.fetch_window = 1;
    hwt_start(t, &cfg, 0);
    hwt_ep(t, 0x0100, true, 10 * HW_US);
    s1 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(0x0100, HWT_IOVA, 1)); /* 0 */
    hwt_push(t, vtd_make_iotlb_global());              /* 1 */
    hwt_push(t, hwt_wait_sw(0x1, s1));                 /* 2 */
    hwt_doorbell(t);
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), 1);
    hwt_put(t, 1, &quiet); /* slot 1 is published and not yet fetched */
    HWT_OK(t, hwt_run_until_word(t, s1, 0x1, HWT_POLL_LIMIT), "queue stuck");
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_SLOT_REWRITTEN), 1);
    HWT_EQ(t, HWT_EV_LAST(t, HW_EV_SW_VIOLATION, -1)->a, 1);

    /* The repair case: the endpoint drops the request, ITE stops the queue, software turns
     * the unfetched slot into a no-op, clears ITE: no violation. */
    hwt_release(t);
    cfg.ite_timeout = 50 * HW_US;
    hwt_start(t, &cfg, 0);
    int ep = hwt_ep(t, 0x0100, true, HW_US);
    hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_DROP, 1);
    s2 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(0x0100, HWT_IOVA, 1)); /* 0 */
    hwt_push(t, vtd_make_iotlb_global());              /* 1 */
    hwt_push(t, hwt_wait_sw(0x2, s2));                 /* 2 */
    hwt_doorbell(t);
    hwt_run(t, 100 * HW_US);
    HWT_EQ(t, hwt_fsts(t) & VTD_FSTS_ITE, VTD_FSTS_ITE);
    if (cfg.head_policy == HW_HEAD_COMPLETE)
        hwt_put(t, 0, &quiet); /* complete policy: the timed-out slot would run again */
    hwt_put(t, 1, &quiet);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_ITE);
    hwt_run(t, 100 * HW_US);
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 3));
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_SLOT_REWRITTEN), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_tail_bit4),
        HWT_TESTS(test_tail_beyond_queue),
        HWT_TESTS(test_tail_backwards),
        HWT_TESTS(test_slot_rewritten_before_fetch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
