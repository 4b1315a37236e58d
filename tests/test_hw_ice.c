/*
 * test_hw_ice.c — invalidation completion error (spec 4.3, 6.5.2.11, 11.4.9.9; semantics 9):
 * an endpoint answering with a wrong ITag sets FSTS.ICE and IQERCD.ICESID (0 with
 * itesid=false); the queue keeps fetching and executing; the request whose ITag was never
 * answered ends in an ITE; after the errors are cleared new work completes.
 *
 * Note: waits complete in queue order (semantics 6), so a wait queued behind the unanswered
 * device-TLB invalidation cannot complete before the ITE, which aborts it; "keeps going" is
 * therefore checked as fetch + execution of the later iotlb, and completion of a batch
 * submitted after the clear.
 */
#include "hw_testutil.h"

#define SID0  0x0100u
#define T_ITE (1 * HW_MS)

static int wrong_itag_ep(hwt *t, bool itesid)
{
    hw_config cfg = hwt_config(t);
    int ep;
    cfg.ite_timeout = T_ITE;
    cfg.itesid = itesid;
    hwt_start(t, &cfg, 0);
    ep = hwt_ep(t, SID0, true, 2 * HW_US);
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_WRONG_ITAG, 1), 0);
    return ep;
}

static void test_ice_wrong_itag(void **state)
{
    hwt *t = *state;
    bool fetch = t->combo->head == HW_HEAD_FETCH;
    hw_paddr s1, s2, s3;
    hw_event req, ice;
    hw_time tq, tc;
    int ep;

    ep = wrong_itag_ep(t, true);
    s1 = hwt_status_new(t, 0);
    s2 = hwt_status_new(t, 0);
    s3 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* 0 */
    hwt_push(t, hwt_wait_sw(0x1, s1));               /* 1 */
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);

    req = *HWT_EV(t, HW_EV_ATS_REQ, 0);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ICE);
    HWT_EQ(t, (hwt_r64(t, VTD_REG_IQERCD) >> VTD_IQERCD_ICESID_SHIFT) & 0xFFFF, SID0);
    ice = *HWT_EV(t, HW_EV_ICE, -1);
    HWT_EQ(t, ice.ep, ep);
    HWT_EQ(t, ice.a, SID0);
    HWT_OK(t, (ice.b & (1ull << req.c)) == 0, "wrong-ITag vector 0x%llx contains the real ITag %u",
           (unsigned long long)ice.b, req.c);
    HWT_OK(t, ice.t >= req.t + 2 * HW_US, "ICE before the endpoint's latency");
    HWT_EQ(t, hwt_mem32(t, s1), 0); /* the real ITag is still outstanding */
    HWT_EQ(t, hwt_ev_count(t, HW_EV_EXEC_DONE, 0, 0), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM | VTD_ECTL_IP);

    /* Processing continues: a later iotlb is fetched and executed, no stall (spec 6.5.2.11). */
    hwt_push(t, vtd_make_iotlb_global()); /* 2 */
    hwt_push(t, hwt_wait_sw(0x2, s2));    /* 3 */
    tq = hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    HWT_OK(t, HWT_EV(t, HW_EV_FETCH, 2)->t >= tq, "slot 2 fetched before the tail write");
    HWT_OK(t, HWT_EV(t, HW_EV_FETCH, 3)->t >= tq, "slot 3 fetched before the tail write");
    HWT_OK(t, HWT_EV(t, HW_EV_EXEC_DONE, 2)->t > ice.t, "iotlb not executed after the ICE");
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ICE);
    HWT_EQ(t, hwt_mem32(t, s2), 0); /* behind the unanswered devtlb (queue order) */
    HWT_EQ(t, hwt_iqh(t), fetch ? hwt_off(t, 4) : 0);

    /* The unanswered ITag times out. */
    hwt_run_to(t, req.t + T_ITE + HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ICE | VTD_FSTS_ITE);
    HWT_EQ(t, (hwt_r64(t, VTD_REG_IQERCD) >> VTD_IQERCD_ITESID_SHIFT) & 0xFFFF, SID0);
    HWT_EQ(t, (hwt_r64(t, VTD_REG_IQERCD) >> VTD_IQERCD_ICESID_SHIFT) & 0xFFFF, SID0);
    HWT_EQ(t, HWT_EV(t, HW_EV_ITE, -1)->c, req.c);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_ABORT, 1, 0), 1);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_ABORT, 3, 0), 1);
    HWT_EQ(t, hwt_mem32(t, s1), 0);
    HWT_EQ(t, hwt_mem32(t, s2), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ICE, -1, 0), 1);

    /* Clear both; a new batch completes. */
    tc = hwt_now(t);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_ICE | VTD_FSTS_ITE);
    HWT_EQ(t, hwt_fsts(t), 0);
    hwt_push(t, vtd_make_iotlb_global()); /* 4 */
    hwt_push(t, hwt_wait_sw(0x3, s3));    /* 5 */
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, s3, 0x3, HWT_POLL_LIMIT), "no progress after the clear");
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 6));
    HWT_EQ(t, hwt_fsts(t), 0);
    if (fetch) {
        HWT_EQ(t, hwt_mem32(t, s1), 0);
        HWT_EQ(t, hwt_mem32(t, s2), 0);
    } else {
        /* Re-fetched from IQH=0; the fault plan is used up, so the devtlb is answered. */
        HWT_EQ(t, hwt_mem32(t, s1), 0x1);
        HWT_EQ(t, hwt_mem32(t, s2), 0x2);
        HWT_OK(t, HWT_EV(t, HW_EV_STATUS_WRITE, 1)->t > tc, "late status write before clear");
    }
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ICE, -1, 0), 1);
}

static void test_ice_without_sid(void **state)
{
    hwt *t = *state;
    hw_paddr s1;

    wrong_itag_ep(t, false);
    s1 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1));
    hwt_push(t, hwt_wait_sw(0x1, s1));
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ICE);
    HWT_EQ(t, (hwt_r64(t, VTD_REG_IQERCD) >> VTD_IQERCD_ICESID_SHIFT) & 0xFFFF, 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ICE, -1, 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_ice_wrong_itag),
        HWT_TESTS(test_ice_without_sid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
