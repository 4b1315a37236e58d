/*
 * test_hw_ite.c — invalidation time-out error (spec 6.5.2.11-12, 11.4.9.9; semantics 8): a
 * muted endpoint never answers a device-TLB invalidation; after ite_timeout FSTS.ITE is set,
 * IQERCD.ITESID names the endpoint (0 with itesid=false), the fetched wait is aborted (no status
 * write), fetching stops (tail writes do not fetch) and IQH does not move. After the clear the
 * fetch policy resumes at IQH and never re-runs the aborted wait; the complete policy re-fetches
 * the dropped descriptors, so the aborted wait completes late.
 */
#include "hw_testutil.h"

#define SID0  0x0100u
#define T_ITE (1 * HW_MS)

static int muted_ep(hwt *t, bool itesid)
{
    hw_config cfg = hwt_config(t);
    int ep;
    cfg.ite_timeout = T_ITE;
    cfg.itesid = itesid;
    hwt_create(t, &cfg);
    ep = hwt_ep(t, SID0, true, 2 * HW_US);
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_MUTE, 0), 0);
    hwt_queue_alloc(t, 0);
    hwt_qi_enable(t);
    HWT_OK(t, hw_ep_muted(t->m, ep), "endpoint not muted");
    return ep;
}

static void test_ite_abort_and_recovery(void **state)
{
    hwt *t = *state;
    bool fetch = t->combo->head == HW_HEAD_FETCH;
    hw_paddr s1, s2;
    hw_event req, lost, ite;
    hw_time tt, tc;
    uint64_t iqh;
    int ep;

    ep = muted_ep(t, true);
    s1 = hwt_status_new(t, 0);
    s2 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* 0 */
    hwt_push(t, hwt_wait_sw(0x1, s1));               /* 1 */
    hwt_doorbell(t);
    hwt_run(t, HW_US);

    req = *HWT_EV(t, HW_EV_ATS_REQ, 0);
    lost = *HWT_EV(t, HW_EV_ATS_LOST, 0);
    HWT_EQ(t, lost.flags, HW_LOST_MUTE);
    HWT_EQ(t, lost.c, req.c); /* same ITag */
    HWT_EQ(t, hwt_fsts(t), 0);
    iqh = fetch ? hwt_off(t, 2) : 0;
    HWT_EQ(t, hwt_iqh(t), iqh);

    /* The ITag timer runs ite_timeout from the request. */
    hwt_run_to(t, req.t + T_ITE - 1);
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ITE, -1, 0), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM);
    hwt_run_to(t, req.t + T_ITE + HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ITE);
    HWT_EQ(t, (hwt_r64(t, VTD_REG_IQERCD) >> VTD_IQERCD_ITESID_SHIFT) & 0xFFFF, SID0);
    ite = *HWT_EV(t, HW_EV_ITE, -1);
    HWT_EQ(t, ite.ep, ep);
    HWT_EQ(t, ite.a, SID0);
    HWT_EQ(t, ite.c, req.c);
    HWT_OK(t, ite.t >= req.t + T_ITE, "ITE at %llu, request at %llu", (unsigned long long)ite.t,
           (unsigned long long)req.t);
    {
        /* Semantics 8: the timed-out descriptor is marked EXEC_DONE with TIMEDOUT. It must at
         * least never be reported as executed normally. */
        const hw_event *xd = hwt_ev_find(t, HW_EV_EXEC_DONE, 0, 0);
        HWT_OK(t, xd == NULL || (xd->flags & HW_EVF_TIMEDOUT) != 0,
               "timed-out devtlb reported done without TIMEDOUT");
        HWT_SOFT(t, xd != NULL,
                 "no EXEC_DONE(TIMEDOUT) for the timed-out devtlb (semantics 8); DISCARD "
                 "events for slot 0: %zu",
                 hwt_ev_count(t, HW_EV_DISCARD, 0, 0));
    }
    HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_ABORT, 1, 0), 1);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_DONE, -1, 0), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_STATUS_WRITE, -1, 0), 0);
    HWT_EQ(t, hwt_mem32(t, s1), 0);
    HWT_EQ(t, hwt_iqh(t), iqh); /* IQH does not move on ITE */
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM | VTD_ECTL_IP);

    /* Tail writes while ITE is set fetch nothing. */
    hwt_push(t, hwt_wait_sw(0x2, s2)); /* 2 */
    tt = hwt_doorbell(t);
    hwt_run(t, 20 * HW_US);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, tt), 0);
    HWT_EQ(t, hwt_mem32(t, s2), 0);
    HWT_EQ(t, hwt_iqh(t), iqh);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ITE);

    /* The device answers again; software clears ITE. */
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_UNMUTE, 0), 0);
    hwt_run(t, 1);
    HWT_OK(t, !hw_ep_muted(t->m, ep), "endpoint still muted");
    tc = hwt_now(t);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_ITE);
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM); /* all errors clear: IP cleared */
    HWT_OK(t, hwt_run_until_word(t, s2, 0x2, HWT_POLL_LIMIT), "no progress after ITE clear");
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 3));
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_OK(t, HWT_EV_LAST(t, HW_EV_FETCH, 2)->t >= tc, "slot 2 fetched before the clear");

    if (fetch) {
        /* Resumes at IQH (slot 2); the aborted wait is never re-run (spec 6.5.2.11). */
        HWT_EQ(t, hwt_mem32(t, s1), 0);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, 0, 0), 1);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, 1, 0), 1);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_REQ, -1, 0), 1);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_STATUS_WRITE, 1, 0), 0);
        HWT_EQ(t, HWT_EV(t, HW_EV_FETCH, 2)->t >= tc, 1);
    } else {
        /* IQH stayed at 0: the dropped descriptors are fetched again and the aborted wait's
         * status write lands late, after the clear (semantics 8). */
        hw_event sw1 = *HWT_EV(t, HW_EV_STATUS_WRITE, 1);
        HWT_EQ(t, hwt_mem32(t, s1), 0x1);
        HWT_OK(t, sw1.t > tc, "late status write at %llu, clear at %llu", (unsigned long long)sw1.t,
               (unsigned long long)tc);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, 0, 0), 2);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, 1, 0), 2);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, 0, tc), 1);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_REQ, -1, 0), 2);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_CPL, 0, tc), 1);
        HWT_OK(t, sw1.seq < HWT_EV(t, HW_EV_STATUS_WRITE, 2)->seq, "waits out of order");
    }
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ITE, -1, 0), 1);
    HWT_END(t);
}

/* itesid=false: older hardware records no SID (IQERCD.ITESID reads 0). */
static void test_ite_without_sid(void **state)
{
    hwt *t = *state;
    hw_paddr s1;
    hw_event req;

    muted_ep(t, false);
    s1 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1));
    hwt_push(t, hwt_wait_sw(0x1, s1));
    hwt_doorbell(t);
    hwt_run(t, HW_US);
    req = *HWT_EV(t, HW_EV_ATS_REQ, 0);
    hwt_run_to(t, req.t + T_ITE + HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ITE);
    HWT_EQ(t, (hwt_r64(t, VTD_REG_IQERCD) >> VTD_IQERCD_ITESID_SHIFT) & 0xFFFF, 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_ABORT, 1, 0), 1);
    HWT_EQ(t, hwt_mem32(t, s1), 0);
}

/*
 * A completion that arrives while ITE is set is processed normally (semantics 8, spec
 * 6.5.2.11): endpoint A is muted, endpoint B answers after 0.8 ms to a request sent 0.5 ms
 * in, so B's answer lands after A's time-out (1 ms) and before B's own (1.5 ms). No ICE, no
 * second ITE; after the clear everything still owed runs.
 */
static void test_ite_completion_during_ite(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr s1, s2, s3;
    hw_event ite, cplb;
    int epa, epb;

    cfg.ite_timeout = T_ITE;
    hwt_create(t, &cfg);
    epa = hwt_ep(t, SID0, true, 2 * HW_US);
    epb = hwt_ep(t, 0x0200, true, 800 * HW_US);
    HWT_EQ(t, hw_ep_inject(t->m, epa, hwt_now(t), HW_FAULT_MUTE, 0), 0);
    hwt_queue_alloc(t, 0);
    hwt_qi_enable(t);
    s1 = hwt_status_new(t, 0);
    s2 = hwt_status_new(t, 0);
    s3 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* 0 */
    hwt_push(t, hwt_wait_sw(0x1, s1));               /* 1 */
    hwt_doorbell(t);
    hwt_run(t, 500 * HW_US);
    hwt_push(t, vtd_make_devtlb(0x0200, HWT_IOVA, 1)); /* 2 */
    hwt_push(t, hwt_wait_sw(0x2, s2));                 /* 3 */
    hwt_doorbell(t);
    hwt_run(t, 2 * HW_MS);

    HWT_EQ(t, hwt_ev_count(t, HW_EV_ITE, -1, 0), 1);
    ite = *HWT_EV(t, HW_EV_ITE, -1);
    HWT_EQ(t, ite.ep, epa);
    cplb = *HWT_EV(t, HW_EV_ATS_CPL, -1);
    HWT_EQ(t, cplb.ep, epb);
    HWT_OK(t, cplb.t > ite.t, "B answered before A timed out: scenario broken");
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ICE, -1, 0), 0);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ITE);
    HWT_EQ(t, hwt_mem32(t, s1), 0);
    HWT_EQ(t, hwt_mem32(t, s2), 0);

    HWT_EQ(t, hw_ep_inject(t->m, epa, hwt_now(t), HW_FAULT_UNMUTE, 0), 0);
    hwt_run(t, 1);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_ITE);
    hwt_push(t, hwt_wait_sw(0x3, s3)); /* 4 */
    hwt_doorbell(t);
    hwt_run(t, 5 * HW_MS);
    HWT_EQ(t, hwt_mem32(t, s3), 0x3);
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ITE, -1, 0), 1);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ICE, -1, 0), 0);
    if (t->combo->head == HW_HEAD_FETCH) {
        HWT_EQ(t, hwt_mem32(t, s1), 0);
        HWT_EQ(t, hwt_mem32(t, s2), 0); /* fetched before the ITE: aborted */
    } else {
        HWT_EQ(t, hwt_mem32(t, s1), 0x1);
        HWT_EQ(t, hwt_mem32(t, s2), 0x2);
    }
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 5));
}

/*
 * ite_discard (semantics 8): [devtlb A (muted), wait FN, iotlb, wait]. At the ITE the iotlb is
 * fetched but not started (held by the FN wait). With ite_discard it is dropped and, in the
 * fetch policy, never executes; without it, it runs once the aborted FN wait no longer holds
 * it. In the complete policy it is re-fetched and executed after the clear either way.
 */
static void test_ite_discard_knob(void **state)
{
    hwt *t = *state;
    bool fetch = t->combo->head == HW_HEAD_FETCH;

    for (int discard = 0; discard <= 1; discard++) {
        hw_config cfg = hwt_config(t);
        hw_paddr s1, s3;
        hw_event req, ite;
        hw_time tc;
        int ep;

        cfg.ite_timeout = T_ITE;
        cfg.ite_discard = discard != 0;
        hwt_create(t, &cfg);
        ep = hwt_ep(t, SID0, true, 2 * HW_US);
        HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_MUTE, 0), 0);
        hwt_queue_alloc(t, 0);
        hwt_qi_enable(t);
        s1 = hwt_status_new(t, 0);
        s3 = hwt_status_new(t, 0);
        hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1));        /* 0 */
        hwt_push(t, vtd_make_wait(true, false, true, 0x1, s1)); /* 1: FN */
        hwt_push(t, vtd_make_iotlb_global());                   /* 2 */
        hwt_push(t, hwt_wait_sw(0x3, s3));                      /* 3 */
        hwt_doorbell(t);
        hwt_run(t, HW_US);
        req = *HWT_EV(t, HW_EV_ATS_REQ, 0);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, 2, 0), 1);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_EXEC_START, 2, 0), 0);
        hwt_run_to(t, req.t + T_ITE + 10 * HW_US);
        ite = *HWT_EV(t, HW_EV_ITE, -1);
        HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ITE);
        if (fetch && discard) {
            HWT_OK(t, hwt_ev_count(t, HW_EV_DISCARD, 2, 0) == 1, "discard=1: iotlb not dropped");
            HWT_EQ(t, hwt_ev_count(t, HW_EV_EXEC_START, 2, 0), 0);
        } else if (fetch) {
            HWT_EQ(t, hwt_ev_count(t, HW_EV_DISCARD, 2, 0), 0);
            HWT_OK(t, hwt_ev_count(t, HW_EV_EXEC_DONE, 2, ite.t) == 1,
                   "discard=0: iotlb did not run after the ITE released the FN wait");
        } else {
            HWT_EQ(t, hwt_ev_count(t, HW_EV_EXEC_START, 2, 0), 0);
        }
        HWT_EQ(t, hwt_mem32(t, s3), 0);

        HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_UNMUTE, 0), 0);
        hwt_run(t, 1);
        tc = hwt_now(t);
        hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_ITE);
        hwt_run(t, 100 * HW_US);
        HWT_EQ(t, hwt_fsts(t), 0);
        if (fetch) {
            /* Nothing left to fetch; the waits were aborted for good. */
            HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, tc), 0);
            HWT_EQ(t, hwt_mem32(t, s3), 0);
            HWT_EQ(t, hwt_ev_count(t, HW_EV_EXEC_START, 2, 0), discard ? 0 : 1);
        } else {
            HWT_EQ(t, hwt_mem32(t, s1), 0x1);
            HWT_EQ(t, hwt_mem32(t, s3), 0x3);
            HWT_EQ(t, hwt_ev_count(t, HW_EV_EXEC_DONE, 2, tc), 1);
        }
        HWT_EQ(t, hwt_iqh(t), hwt_off(t, 4));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_ite_abort_and_recovery),
        HWT_TESTS(test_ite_without_sid),
        HWT_TESTS(test_ite_completion_during_ite),
        HWT_TESTS(test_ite_discard_knob),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
