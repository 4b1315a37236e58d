/*
 * test_hw_wait.c — invalidation wait descriptors (spec 6.5.2.9-6.5.2.10, 6.5.2.12; semantics
 * 6, 12): a wait completes only after everything before it, including a device-TLB
 * invalidation whose endpoint answers after its latency; the status write lands at its address
 * with its data and nowhere else; IF sets ICS.IWC and raises the completion event subject to
 * IECTL.IM; FN holds later descriptors back until the wait completed.
 */
#include "hw_testutil.h"

#define SID0 0x0100u

/* Once the endpoint answered and the wait completed, nothing is pending: the ITag's time-out
 * timer died with the request, so it must not keep a time-out ite_timeout ahead "pending"
 * (the scheduler jumps time to the next pending action and proves hangs by there being none). */
static void test_answered_request_leaves_nothing_pending(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr st;

    hwt_start(t, &cfg, 0);
    hwt_ep(t, SID0, true, 2 * HW_US);
    st = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1));
    hwt_push(t, hwt_wait_sw(1, st));
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, st, 1, 100 * HW_US), "the wait did not complete");
    HWT_EQ(t, hw_next_event(t->m), HW_NEVER);
    HWT_END(t);
}

static void test_wait_after_devtlb(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    const hw_time L = 5 * HW_US;
    hw_paddr st;
    hw_event req, cpl, ed0, ed1, wd, sw;
    hw_time wait_cost;

    hwt_start(t, &cfg, 0);
    wait_cost = hwt_cfg(t)->wait_cost;
    hwt_ep(t, SID0, true, L);
    st = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_iotlb_global());            /* slot 0 */
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* slot 1 */
    hwt_push(t, hwt_wait_sw(0xC0FFEE, st));          /* slot 2 */
    hwt_doorbell(t);
    hwt_run(t, HW_US);

    req = *HWT_EV(t, HW_EV_ATS_REQ, 1);
    HWT_EQ(t, req.ep, 0);
    HWT_EQ(t, req.a, HWT_IOVA);
    HWT_EQ(t, req.b, HW_PAGE_SIZE);
    ed0 = *HWT_EV(t, HW_EV_EXEC_DONE, 0);
    HWT_OK(t, ed0.t <= req.t, "devtlb started (t=%llu) before the iotlb completed (t=%llu)",
           (unsigned long long)req.t, (unsigned long long)ed0.t); /* spec 6.5.2.12 */
    HWT_EQ(t, hwt_mem32(t, st), 0);
    /* fetch policy: all three fetched and validated; complete policy: the devtlb is the oldest
     * descriptor not completed. */
    HWT_EQ(t, hwt_iqh(t), t->combo->head == HW_HEAD_FETCH ? hwt_off(t, 3) : hwt_off(t, 1));

    /* Up to one ns before the endpoint can have answered: nothing. */
    hwt_run_to(t, req.t + L - 1);
    HWT_EQ(t, hwt_mem32(t, st), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_CPL, -1, 0), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_DONE, -1, 0), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_STATUS_WRITE, -1, 0), 0);
    HWT_EQ(t, hwt_iqh(t), t->combo->head == HW_HEAD_FETCH ? hwt_off(t, 3) : hwt_off(t, 1));

    hwt_run(t, HW_US + 1);
    HWT_EQ(t, hwt_mem32(t, st), 0xC0FFEE);
    cpl = *HWT_EV(t, HW_EV_ATS_CPL, 1);
    ed1 = *HWT_EV(t, HW_EV_EXEC_DONE, 1);
    wd = *HWT_EV(t, HW_EV_WAIT_DONE, 2);
    sw = *HWT_EV(t, HW_EV_STATUS_WRITE, 2);
    HWT_OK(t, cpl.t >= req.t + L, "completion at %llu, request at %llu, latency %llu",
           (unsigned long long)cpl.t, (unsigned long long)req.t, (unsigned long long)L);
    HWT_EQ(t, cpl.a, SID0);
    HWT_OK(t, ed1.t >= cpl.t, "devtlb done before its completion");
    HWT_OK(t, (ed1.flags & HW_EVF_TIMEDOUT) == 0, "devtlb marked timed out");
    HWT_OK(t, wd.t >= ed1.t + wait_cost, "wait done at %llu, devtlb done at %llu, cost %llu",
           (unsigned long long)wd.t, (unsigned long long)ed1.t, (unsigned long long)wait_cost);
    HWT_OK(t, wd.t >= ed0.t, "wait done before the iotlb");
    HWT_OK(t, sw.t >= ed1.t && sw.seq > ed1.seq, "status written before the devtlb completed");
    HWT_EQ(t, wd.a, 0xC0FFEE);
    HWT_EQ(t, wd.b, st);
    HWT_EQ(t, wd.flags & (HW_EVF_WAIT_SW | HW_EVF_WAIT_IF | HW_EVF_WAIT_FN), HW_EVF_WAIT_SW);
    HWT_EQ(t, sw.a, st);
    HWT_EQ(t, sw.b, 0xC0FFEE);
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 3));
    HWT_EQ(t, hwt_fsts(t), 0);
}

static void test_status_write_lands(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr page, target, st0;
    hw_event e;

    hwt_start(t, &cfg, 0);
    page = hw_mem_alloc(t->m, HW_PAGE_SIZE, HWT_OWNER_OTHER);
    HWT_OK(t, page != 0, "alloc");
    for (unsigned off = 0; off < HW_PAGE_SIZE; off += 4)
        hwt_mem32_set(t, page + off, 0xCCCCCCCCu);
    target = page + 0x124;
    st0 = hwt_status_new(t, 0xFFFFFFFFu);

    hwt_push(t, vtd_make_cc_global());
    hwt_push(t, hwt_wait_sw(0xA5A5F00Du, target)); /* slot 1 */
    hwt_push(t, hwt_wait_sw(0, st0));              /* slot 2: data 0 is written too */
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, st0, 0, HWT_POLL_LIMIT), "second wait did not complete");

    HWT_EQ(t, hwt_mem32(t, target), 0xA5A5F00Du);
    for (unsigned off = 0; off < HW_PAGE_SIZE; off += 4) {
        if (page + off == target)
            continue;
        HWT_OK(t, hwt_mem32(t, page + off) == 0xCCCCCCCCu, "word at +0x%x changed to 0x%x", off,
               hwt_mem32(t, page + off));
    }
    e = *HWT_EV(t, HW_EV_STATUS_WRITE, 1);
    HWT_EQ(t, e.a, target);
    HWT_EQ(t, e.b, 0xA5A5F00Du);
    HWT_EQ(t, e.c, HWT_OWNER_OTHER);
    HWT_EQ(t, e.flags & (HW_EVF_STRAY | HW_EVF_BADADDR), 0);
    e = *HWT_EV(t, HW_EV_STATUS_WRITE, 2);
    HWT_EQ(t, e.a, st0);
    HWT_EQ(t, e.b, 0);
    HWT_EQ(t, e.c, HWT_OWNER_DRIVER);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_STATUS_WRITE, -1, 0), 2);

    /* A wait without SW writes nothing (status fields ignored, spec 6.5.2.9). */
    hwt_mem32_set(t, target, 0x12345678u);
    hwt_push(t, vtd_make_wait(false, false, false, 0x99, target));
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_mem32(t, target), 0x12345678u);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_STATUS_WRITE, -1, 0), 2);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_DONE, 3, 0), 1);

    /* A status write to a page that was freed meanwhile is logged as stray. */
    HWT_EQ(t, hw_mem_free(t->m, page, HW_PAGE_SIZE), 0);
    hwt_push(t, hwt_wait_sw(0x5151, target)); /* 4 */
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    e = *HWT_EV(t, HW_EV_STATUS_WRITE, 4);
    HWT_EQ(t, e.a, target);
    HWT_EQ(t, e.b, 0x5151);
    HWT_EQ(t, e.c, HW_OWNER_FREE);
    HWT_EQ(t, e.flags & HW_EVF_STRAY, HW_EVF_STRAY);

    /* Status-address bits above HAW are ignored, not reserved (spec 6.5.2.9). */
    {
        hw_paddr s5 = hwt_status_new(t, 0);
        uint64_t haw = hwt_cfg(t)->haw;
        HWT_OK(t, haw < 60, "haw %llu", (unsigned long long)haw);
        hwt_push(t, hwt_wait_sw(0x6161, s5 | (1ull << 60))); /* 5 */
        hwt_doorbell(t);
        hwt_run(t, 10 * HW_US);
        HWT_EQ(t, hwt_fsts(t), 0);
        HWT_EQ(t, hwt_mem32(t, s5), 0x6161);
        HWT_EQ(t, HWT_EV(t, HW_EV_STATUS_WRITE, 5)->a, s5);
    }
    HWT_EQ(t, hwt_fsts(t), 0);
}

/* Push an IF wait (optionally with SW) and run until it is done. */
static void if_wait(hwt *t, bool sw, hw_paddr st, uint32_t data)
{
    uint32_t slot = hwt_push(t, vtd_make_wait(sw, true, false, data, st));
    size_t before = hwt_ev_count(t, HW_EV_WAIT_DONE, (int)slot, 0);
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_DONE, (int)slot, 0), before + 1);
}

static void test_wait_if_completion_event(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr st;
    hw_event irq, swe;

    hwt_start(t, &cfg, 0);
    hwt_w32(t, VTD_REG_IEDATA, 0x41);
    hwt_w32(t, VTD_REG_IEADDR, 0xFEE01000u);
    hwt_w32(t, VTD_REG_IEUADDR, 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_IECTL), VTD_ECTL_IM);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), 0);

    /* 1. IM=1: IWC and IP set, nothing sent. SW+IF: the status write comes first. */
    st = hwt_status_new(t, 0);
    if_wait(t, true, st, 0x77);
    HWT_EQ(t, hwt_mem32(t, st), 0x77);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), VTD_ICS_IWC);
    HWT_EQ(t, hwt_r32(t, VTD_REG_IECTL), VTD_ECTL_IM | VTD_ECTL_IP);
    HWT_EQ(t, t->irq_count[HW_IRQ_COMPLETION], 0);
    HWT_EQ(t, t->irq_count[HW_IRQ_FAULT], 0);
    HWT_EQ(t, HWT_EV(t, HW_EV_WAIT_DONE, 0)->flags & (HW_EVF_WAIT_SW | HW_EVF_WAIT_IF),
           HW_EVF_WAIT_SW | HW_EVF_WAIT_IF);

    /* 2. Clearing IM sends the held interrupt and clears IP (spec 6.5.2.10). */
    hwt_w32(t, VTD_REG_IECTL, 0);
    HWT_EQ(t, t->irq_count[HW_IRQ_COMPLETION], 1);
    HWT_EQ(t, t->irq_time[HW_IRQ_COMPLETION], hwt_now(t));
    HWT_EQ(t, hwt_r32(t, VTD_REG_IECTL), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), VTD_ICS_IWC); /* IWC stays until software clears it */
    irq = *HWT_EV_LAST(t, HW_EV_IRQ, -1);
    HWT_EQ(t, irq.c, HW_IRQ_COMPLETION);
    HWT_EQ(t, irq.a, 0x41);
    HWT_EQ(t, irq.b, 0xFEE01000u);
    HWT_EQ(t, irq.flags & HW_EVF_HELD, 0);
    swe = *HWT_EV(t, HW_EV_STATUS_WRITE, 0);
    HWT_OK(t, swe.seq < irq.seq, "status write after the interrupt");

    /* 3. Another IF wait while IWC is still 1: no new interrupt, IP stays 0. */
    if_wait(t, false, 0, 0);
    HWT_EQ(t, t->irq_count[HW_IRQ_COMPLETION], 1);
    HWT_EQ(t, hwt_r32(t, VTD_REG_IECTL), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), VTD_ICS_IWC);

    /* 4. ICS is RW1C: 0 does nothing, 1 clears. */
    hwt_w32(t, VTD_REG_ICS, 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), VTD_ICS_IWC);
    hwt_w32(t, VTD_REG_ICS, VTD_ICS_IWC);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), 0);

    /* 5. IM=0, IWC=0: the next IF wait sends at once, IP not left set. */
    if_wait(t, false, 0, 0);
    HWT_EQ(t, t->irq_count[HW_IRQ_COMPLETION], 2);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), VTD_ICS_IWC);
    HWT_EQ(t, hwt_r32(t, VTD_REG_IECTL), 0);
    HWT_OK(t, t->irq_time[HW_IRQ_COMPLETION] >= HWT_EV(t, HW_EV_WAIT_DONE, 2)->t,
           "completion interrupt before the wait completed");

    /* 6. Masked again; a held interrupt is cancelled by clearing IWC (spec 6.5.2.10). */
    hwt_w32(t, VTD_REG_IECTL, VTD_ECTL_IM);
    hwt_w32(t, VTD_REG_ICS, VTD_ICS_IWC);
    if_wait(t, false, 0, 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_IECTL), VTD_ECTL_IM | VTD_ECTL_IP);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), VTD_ICS_IWC);
    hwt_w32(t, VTD_REG_ICS, VTD_ICS_IWC);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_IECTL), VTD_ECTL_IM);
    hwt_w32(t, VTD_REG_IECTL, 0);
    HWT_EQ(t, t->irq_count[HW_IRQ_COMPLETION], 2);

    /* 7. A wait without IF leaves ICS alone. */
    hwt_submit_sync(t, NULL, 0, 0x5);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), 0);
    HWT_EQ(t, t->irq_count[HW_IRQ_COMPLETION], 2);
    HWT_EQ(t, t->irq_count[HW_IRQ_FAULT], 0);
    HWT_EQ(t, hwt_fsts(t), 0);
}

/*
 * [devtlb (slow), wait(fn) SW, iotlb, wait SW]. With FN the iotlb may not start before the
 * wait completed; without FN it may (and in this model does: nothing orders an iotlb after a
 * devtlb or a non-FN wait, semantics 6) start long before the devtlb's completion.
 */
static void test_fn_holds_later(void **state)
{
    hwt *t = *state;
    const hw_time L = 8 * HW_US;

    for (int fn = 1; fn >= 0; fn--) {
        hw_config cfg = hwt_config(t);
        hw_paddr s1, s2;
        hw_event req, cpl, w1, w2, x2;

        hwt_start(t, &cfg, 0);
        hwt_ep(t, SID0, true, L);
        s1 = hwt_status_new(t, 0);
        s2 = hwt_status_new(t, 0);
        hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1));            /* 0 */
        hwt_push(t, vtd_make_wait(true, false, fn != 0, 0xF1, s1)); /* 1 */
        hwt_push(t, vtd_make_iotlb_global());                       /* 2 */
        hwt_push(t, hwt_wait_sw(0xF2, s2));                         /* 3 */
        hwt_doorbell(t);
        HWT_OK(t, hwt_run_until_word(t, s2, 0xF2, HWT_POLL_LIMIT), "fn=%d: batch stuck", fn);
        HWT_EQ(t, hwt_mem32(t, s1), 0xF1);
        req = *HWT_EV(t, HW_EV_ATS_REQ, 0);
        cpl = *HWT_EV(t, HW_EV_ATS_CPL, 0);
        w1 = *HWT_EV(t, HW_EV_WAIT_DONE, 1);
        w2 = *HWT_EV(t, HW_EV_WAIT_DONE, 3);
        x2 = *HWT_EV(t, HW_EV_EXEC_START, 2);
        HWT_OK(t, w1.t >= cpl.t, "fn=%d: first wait done before the devtlb completion", fn);
        HWT_OK(t, w2.t >= w1.t && w2.seq > w1.seq, "fn=%d: waits completed out of order", fn);
        HWT_EQ(t, (w1.flags & HW_EVF_WAIT_FN) != 0, fn != 0);
        if (fn) {
            HWT_OK(t, x2.t >= w1.t && x2.seq > w1.seq,
                   "iotlb started at %llu (seq %u) before the FN wait completed at %llu (seq %u)",
                   (unsigned long long)x2.t, x2.seq, (unsigned long long)w1.t, w1.seq);
        } else {
            HWT_OK(t, x2.t < cpl.t,
                   "without FN the iotlb started at %llu, only after the devtlb completion at "
                   "%llu (request at %llu)",
                   (unsigned long long)x2.t, (unsigned long long)cpl.t, (unsigned long long)req.t);
        }
        HWT_EQ(t, hwt_fsts(t), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_wait_after_devtlb),
        HWT_TESTS(test_answered_request_leaves_nothing_pending),
        HWT_TESTS(test_status_write_lands),
        HWT_TESTS(test_wait_if_completion_event),
        HWT_TESTS(test_fn_holds_later),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
