/*
 * test_hw_fetch.c — fetch and execution knobs (semantics 5-7; spec 6.5.2, 6.5.2.12):
 * fetch_window bounds the descriptors fetched and not retired (IQH progress visible in the fetch
 * policy, fetch times in both), and devtlb_max_outstanding=1 serialises ATS invalidations (the
 * second request only after the first completion) while the default lets them overlap.
 */
#include "hw_testutil.h"

#define SID0 0x0100u
#define SID1 0x0200u

/* [devtlb (slow), 4 x iotlb, wait] with the given window. */
static void run_window(hwt *t, unsigned window)
{
    hw_config cfg = hwt_config(t);
    const hw_time L = 10 * HW_US;
    bool fetch = t->combo->head == HW_HEAD_FETCH;
    hw_paddr st;
    hw_event cpl, f1;

    cfg.fetch_window = window;
    hwt_start(t, &cfg, 0);
    hwt_ep(t, SID0, true, L);
    st = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* 0 */
    for (unsigned i = 0; i < 4; i++)
        hwt_push(t, vtd_make_iotlb_global()); /* 1..4 */
    hwt_push(t, hwt_wait_sw(0x1, st));        /* 5 */
    hwt_doorbell(t);
    hwt_run(t, 2 * HW_US);

    HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_CPL, -1, 0), 0);
    if (window == 1) {
        hw_qi_view v;
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), 1);
        HWT_EQ(t, hwt_iqh(t), fetch ? hwt_off(t, 1) : 0);
        hw_qi_view_get(t->m, &v);
        HWT_EQ(t, v.in_flight, 1);
    } else {
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), 6);
        HWT_EQ(t, hwt_iqh(t), fetch ? hwt_off(t, 6) : 0);
    }

    HWT_OK(t, hwt_run_until_word(t, st, 0x1, 4 * L), "window %u: batch stuck", window);
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 6));
    cpl = *HWT_EV(t, HW_EV_ATS_CPL, 0);
    f1 = *HWT_EV(t, HW_EV_FETCH, 1);
    if (window == 1)
        HWT_OK(t, f1.t >= cpl.t && f1.seq > HWT_EV(t, HW_EV_EXEC_DONE, 0)->seq,
               "window 1: slot 1 fetched at %llu before slot 0 retired (completion at %llu)",
               (unsigned long long)f1.t, (unsigned long long)cpl.t);
    else
        HWT_OK(t, f1.t < cpl.t, "window %u: slot 1 fetched at %llu, not before the completion",
               window, (unsigned long long)f1.t);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), 6);
    HWT_EQ(t, hwt_fsts(t), 0);
}

static void test_fetch_window_1(void **state)
{
    run_window(*state, 1);
}

static void test_fetch_window_8(void **state)
{
    run_window(*state, 8);
}

/* A window of 3 with six cheap descriptors queued: never more than 3 in flight. */
static void test_fetch_window_bound(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr st;
    unsigned max_in_flight = 0;

    cfg.fetch_window = 3;
    hwt_start(t, &cfg, 0);
    st = hwt_status_new(t, 0);
    for (unsigned i = 0; i < 10; i++)
        hwt_push(t, vtd_make_iotlb_global());
    hwt_push(t, hwt_wait_sw(0x1, st));
    hwt_doorbell(t);
    while (hwt_mem32(t, st) != 0x1) {
        hw_qi_view v;
        HWT_OK(t, hw_step(t->m), "no pending action but the wait is not done");
        hw_qi_view_get(t->m, &v);
        if (v.in_flight > max_in_flight)
            max_in_flight = v.in_flight;
    }
    HWT_OK(t, max_in_flight <= 3, "in_flight reached %u with window 3", max_in_flight);
    HWT_OK(t, max_in_flight >= 2, "in_flight never above %u: no pipelining", max_in_flight);
}

static void run_outstanding(hwt *t, unsigned max_out)
{
    hw_config cfg = hwt_config(t);
    const hw_time L = 5 * HW_US;
    hw_paddr st;
    hw_event r0, r1, c0, c1, wd;

    cfg.devtlb_max_outstanding = max_out;
    hwt_start(t, &cfg, 0);
    hwt_ep(t, SID0, true, L);
    hwt_ep(t, SID1, true, L);
    st = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* 0 */
    hwt_push(t, vtd_make_devtlb(SID1, HWT_IOVA, 1)); /* 1 */
    hwt_push(t, hwt_wait_sw(0x1, st));               /* 2 */
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, st, 0x1, 10 * L), "max %u: batch stuck", max_out);
    r0 = *HWT_EV(t, HW_EV_ATS_REQ, 0);
    r1 = *HWT_EV(t, HW_EV_ATS_REQ, 1);
    c0 = *HWT_EV(t, HW_EV_ATS_CPL, 0);
    c1 = *HWT_EV(t, HW_EV_ATS_CPL, 1);
    wd = *HWT_EV(t, HW_EV_WAIT_DONE, 2);
    HWT_EQ(t, r0.ep, 0);
    HWT_EQ(t, r1.ep, 1);
    if (max_out == 1) {
        HWT_OK(t, r1.t >= c0.t && r1.seq > c0.seq,
               "second ATS request at %llu before the first completion at %llu",
               (unsigned long long)r1.t, (unsigned long long)c0.t);
        HWT_OK(t, wd.t >= r0.t + 2 * L, "two serial round trips took less than 2 x latency");
    } else {
        HWT_OK(t, r1.t < c0.t, "max %u: second request at %llu waited for the first completion",
               max_out, (unsigned long long)r1.t);
        HWT_OK(t, wd.t < r0.t + 2 * L, "max %u: round trips did not overlap", max_out);
    }
    HWT_OK(t, wd.t >= c0.t && wd.t >= c1.t, "wait done before a completion");
    HWT_EQ(t, hwt_fsts(t), 0);
}

static void test_devtlb_serialised(void **state)
{
    run_outstanding(*state, 1);
}

static void test_devtlb_parallel(void **state)
{
    run_outstanding(*state, 32);
}

/*
 * Ordering rules of spec 6.5.2.12 (semantics 6): iotlb after earlier cc completed; devtlb after
 * earlier iotlb and iec completed; a cc after an iotlb needs no such wait (anything not listed
 * may overlap, and descriptors start in fetch order as soon as allowed).
 */
static void test_exec_ordering(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr st;
    vtd_fields f;
    vtd_desc iec;
    hw_event cc0, io1, cc2, iec3, dev4;

    memset(&f, 0, sizeof(f));
    f.type = VTD_DESC_IEC; /* global interrupt-entry-cache invalidation */
    memset(&iec, 0, sizeof(iec));
    HWT_EQ(t, vtd_encode(&f, &iec, NULL), VTD_OK);

    hwt_start(t, &cfg, 0);
    hwt_ep(t, SID0, true, 2 * HW_US);
    st = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_cc_global());               /* 0 */
    hwt_push(t, vtd_make_iotlb_global());            /* 1 */
    hwt_push(t, vtd_make_cc_global());               /* 2 */
    hwt_push(t, iec);                                /* 3 */
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* 4 */
    hwt_push(t, hwt_wait_sw(0x1, st));               /* 5 */
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, st, 0x1, HWT_POLL_LIMIT), "batch stuck");

    cc0 = *HWT_EV(t, HW_EV_EXEC_DONE, 0);
    io1 = *HWT_EV(t, HW_EV_EXEC_START, 1);
    HWT_OK(t, io1.t >= cc0.t && io1.seq > cc0.seq, "iotlb started before the earlier cc completed");
    io1 = *HWT_EV(t, HW_EV_EXEC_DONE, 1);
    cc2 = *HWT_EV(t, HW_EV_EXEC_START, 2);
    HWT_OK(t, cc2.t < io1.t, "cc at slot 2 waited for the iotlb (started %llu, iotlb done %llu)",
           (unsigned long long)cc2.t, (unsigned long long)io1.t);
    iec3 = *HWT_EV(t, HW_EV_EXEC_DONE, 3);
    dev4 = *HWT_EV(t, HW_EV_EXEC_START, 4);
    HWT_OK(t, dev4.t >= io1.t && dev4.seq > io1.seq, "devtlb started before the iotlb completed");
    HWT_OK(t, dev4.t >= iec3.t && dev4.seq > iec3.seq, "devtlb started before the iec completed");
    HWT_EQ(t, hwt_fsts(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_fetch_window_1),     HWT_TESTS(test_fetch_window_8),
        HWT_TESTS(test_fetch_window_bound), HWT_TESTS(test_devtlb_serialised),
        HWT_TESTS(test_devtlb_parallel),    HWT_TESTS(test_exec_ordering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
