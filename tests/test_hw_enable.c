/*
 * test_hw_enable.c — reset values and the QI enable/disable handshake (semantics 1-2, spec
 * 6.5.2 / 11.4.4 / 11.4.9.1): QIES only after gcmd_latency, the queue latched at enable, IQH
 * reset to 0 on disable, disable refused while busy (REFUSE_BUSY) or dropping the pending work
 * (DROP), and the ENABLE_TAIL violation.
 */
#include "hw_testutil.h"

/* Reset state per semantics 1 (IM resets to 1 in both event control registers, spec 11.4.7.2,
 * 11.4.9.5). */
static void test_reset_values(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hwt_create(t, &cfg);
    HWT_EQ(t, hwt_r32(t, VTD_REG_VER), 0x60);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FSTS), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM);
    HWT_EQ(t, hwt_r32(t, VTD_REG_IECTL), VTD_ECTL_IM);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQH), 0);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQT), 0);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQA), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_ICS), 0);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQERCD), 0);
    HWT_EQ(t, hwt_r64(t, VTD_REG_CAP), cfg.cap);
    HWT_EQ(t, hwt_r64(t, VTD_REG_ECAP), cfg.ecap);
    /* 256-bit descriptors need SMTS (or ADMS); the default has it. */
    HWT_OK(t, (cfg.ecap & VTD_ECAP_SMTS) != 0, "default ECAP lacks SMTS");
    HWT_OK(t, (cfg.ecap & (VTD_ECAP_QI | VTD_ECAP_DT)) == (VTD_ECAP_QI | VTD_ECAP_DT),
           "default ECAP lacks QI or DT");
}

static void test_enable_disable_handshake(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_time lat, t0, t1;
    uint64_t iqa;
    const hw_event *e;
    hw_paddr st;

    hwt_create(t, &cfg);
    lat = hwt_cfg(t)->gcmd_latency;
    HWT_OK(t, lat > 1, "gcmd_latency %llu too small for this test", (unsigned long long)lat);
    hwt_queue_alloc(t, 0);
    iqa = hwt_iqa(t, t->qbase, 0);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQA), iqa); /* reads return the last value written */

    /* Enable: QIES only gcmd_latency after the GCMD write. */
    t0 = hwt_now(t);
    hwt_w32(t, VTD_REG_GCMD, (hwt_r32(t, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK) | VTD_GCMD_QIE);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS) & VTD_GSTS_QIES, 0);
    hwt_run_to(t, t0 + lat - 1);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS) & VTD_GSTS_QIES, 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_QI_ENABLE, -1, 0), 0);
    hwt_run_to(t, t0 + lat);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS) & VTD_GSTS_QIES, VTD_GSTS_QIES);
    e = HWT_EV(t, HW_EV_QI_ENABLE, -1);
    HWT_EQ(t, e->t, t0 + lat);
    HWT_EQ(t, e->a, iqa);
    HWT_EQ(t, e->b, t->combo->dw256 ? 128 : 256); /* 2^(QS+7) / 2^(QS+8) */
    HWT_EQ(t, e->c, t->combo->dw256 ? 32 : 16);
    HWT_EQ(t, hwt_iqh(t), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_SW_VIOLATION, -1, 0), 0);

    /* A batch runs; then the queue is idle at slot 2. */
    st = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_iotlb_global());
    hwt_push(t, hwt_wait_sw(0x11, st));
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, st, 0x11, HWT_POLL_LIMIT), "first batch did not complete");
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 2));
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQT), hwt_off(t, 2));

    /* Disable: QIES clears and IQH resets only gcmd_latency later. */
    t1 = hwt_now(t);
    hwt_w32(t, VTD_REG_GCMD, hwt_r32(t, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK & ~VTD_GCMD_QIE);
    hwt_run_to(t, t1 + lat - 1);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS) & VTD_GSTS_QIES, VTD_GSTS_QIES);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 2));
    hwt_run_to(t, t1 + lat);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS) & VTD_GSTS_QIES, 0);
    HWT_EQ(t, hwt_iqh(t), 0); /* spec 11.4.9.1: QH reset when QI is disabled */
    /* Only IQH is reset by hardware; IQT is software's register (spec 6.5.2, facts 3.1). */
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQT), hwt_off(t, 2));
    e = HWT_EV(t, HW_EV_QI_DISABLE, -1);
    HWT_EQ(t, e->t, t1 + lat);
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_DISABLE_BUSY), 0);

    /* Re-enable as a driver does (IQT=0 first): processing restarts at slot 0. */
    hwt_w64(t, VTD_REG_IQT, 0);
    t->tail = 0;
    hwt_qi_enable(t);
    HWT_EQ(t, hwt_iqh(t), 0);
    st = hwt_status_new(t, 0);
    hwt_push(t, hwt_wait_sw(0x22, st));
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, st, 0x22, HWT_POLL_LIMIT), "batch after re-enable lost");
    e = hwt_ev_last(t, HW_EV_WAIT_DONE, -1);
    HWT_OK(t, e != NULL && e->slot == 0, "wait after re-enable not at slot 0");
    HWT_EQ(t, hwt_ev_count(t, HW_EV_QI_ENABLE, -1, 0), 2);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_SW_VIOLATION, -1, 0), 0);
}

/* Start a slow device-TLB invalidation and a wait; return the status word. */
static hw_paddr start_busy_batch(hwt *t, hw_time latency)
{
    hw_paddr st;
    hwt_ep(t, 0x0100, true, latency);
    st = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(0x0100, HWT_IOVA, 1));
    hwt_push(t, hwt_wait_sw(0x33, st));
    hwt_doorbell(t);
    hwt_run(t, HW_US);
    /* The devtlb is in flight: ATS request sent, no completion. */
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_REQ, 0, 0), 1);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_CPL, -1, 0), 0);
    HWT_EQ(t, hwt_mem32(t, st), 0);
    return st;
}

/* Default REFUSE_BUSY: clearing QIE with work in flight leaves QI enabled (semantics 2). */
static void test_disable_refused_while_busy(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_time lat, t1;
    hw_paddr st;
    const hw_event *e;

    HWT_EQ(t, cfg.disable_policy, HW_DISABLE_REFUSE_BUSY);
    hwt_start(t, &cfg, 0);
    lat = hwt_cfg(t)->gcmd_latency;
    st = start_busy_batch(t, 20 * HW_US);

    t1 = hwt_now(t);
    hwt_w32(t, VTD_REG_GCMD, hwt_r32(t, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK & ~VTD_GCMD_QIE);
    hwt_run_to(t, t1 + lat + 10);
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_DISABLE_BUSY), 1);
    e = hwt_ev_last(t, HW_EV_SW_VIOLATION, -1);
    HWT_OK(t, e && e->t >= t1, "DISABLE_BUSY logged before the GCMD write");
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS) & VTD_GSTS_QIES, VTD_GSTS_QIES);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_QI_DISABLE, -1, 0), 0);
    HWT_EQ(t, hwt_iqh(t), t->combo->head == HW_HEAD_FETCH ? hwt_off(t, 2) : 0);

    /* The work goes on and completes. */
    HWT_OK(t, hwt_run_until_word(t, st, 0x33, 100 * HW_US), "wait lost after refused disable");
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 2));

    /* Now idle: the disable takes effect. */
    t1 = hwt_now(t);
    hwt_gcmd_poll(t, VTD_GCMD_QIE, false, VTD_GSTS_QIES, false);
    HWT_OK(t, hwt_now(t) >= t1 + lat, "QIES cleared before gcmd_latency");
    HWT_EQ(t, hwt_iqh(t), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_QI_DISABLE, -1, 0), 1);
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_DISABLE_BUSY), 1);
}

/* HW_DISABLE_DROP: clearing QIE always disables; pending work is dropped (semantics 2). */
static void test_disable_drop_policy(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_time lat, t1;
    hw_paddr st;

    cfg.disable_policy = HW_DISABLE_DROP;
    hwt_start(t, &cfg, 0);
    lat = hwt_cfg(t)->gcmd_latency;
    st = start_busy_batch(t, 20 * HW_US);

    t1 = hwt_now(t);
    hwt_w32(t, VTD_REG_GCMD, hwt_r32(t, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK & ~VTD_GCMD_QIE);
    hwt_run_to(t, t1 + lat - 1);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS) & VTD_GSTS_QIES, VTD_GSTS_QIES);
    hwt_run_to(t, t1 + lat);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS) & VTD_GSTS_QIES, 0);
    HWT_EQ(t, hwt_iqh(t), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_QI_DISABLE, -1, 0), 1);
    /* Spec 6.5.2 makes disabling a busy queue a software error whatever the hardware then
     * does: logged under both policies. */
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_DISABLE_BUSY), 1);

    /* Past the endpoint's answer: the dropped wait never completes, and the answer meets a
     * released ITag (disable resets the unit), so it is an unexpected completion: ICE. */
    hwt_run(t, 100 * HW_US);
    HWT_EQ(t, hwt_mem32(t, st), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ICE, -1, 0), 1);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FSTS) & VTD_FSTS_ICE, VTD_FSTS_ICE);
    /* ...and its cancelled timer never raises ITE. */
    hwt_run(t, hwt_cfg(t)->ite_timeout + HW_MS);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ITE, -1, 0), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_DONE, -1, 0), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_STATUS_WRITE, -1, 0), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS) & VTD_GSTS_QIES, 0);
    HWT_EQ(t, hwt_iqh(t), 0);
}

/* QIE set while IQT != 0: SW_VIOLATION ENABLE_TAIL; fetching starts at 0 up to the tail. */
static void test_enable_with_nonzero_tail(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr st;

    hwt_create(t, &cfg);
    hwt_queue_alloc(t, 0);
    st = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_iotlb_global());
    hwt_push(t, hwt_wait_sw(0x44, st));
    hwt_doorbell(t); /* IQT = 2 slots while disabled */
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_mem32(t, st), 0); /* nothing runs while QI is disabled */
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), 0);
    hwt_qi_enable(t);
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_ENABLE_TAIL), 1);
    HWT_OK(t, hwt_run_until_word(t, st, 0x44, HWT_POLL_LIMIT), "queue did not run to the tail");
    HWT_EQ(t, HWT_EV(t, HW_EV_FETCH, 0)->slot, 0);
}

/* Enabling QI forgets what earlier tail writes published: a slot published, left unfetched
 * when the queue was disabled, then rewritten while disabled, is not "rewritten after the tail
 * published it" once the queue is enabled again (the model keeps published slots as a bit per
 * slot, cleared at enable). */
static void test_reenable_forgets_published(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_time lat;
    hw_paddr st;
    vtd_desc quiet = vtd_make_wait(false, false, false, 0, 0);

    cfg.disable_policy = HW_DISABLE_DROP;
    cfg.fetch_window = 1;
    hwt_start(t, &cfg, 0);
    lat = hwt_cfg(t)->gcmd_latency;
    st = start_busy_batch(t, 20 * HW_US); /* slot 0 in flight, slot 1 published, unfetched */
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), 1);
    hwt_w32(t, VTD_REG_GCMD, hwt_r32(t, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK & ~VTD_GCMD_QIE);
    hwt_run(t, lat);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS) & VTD_GSTS_QIES, 0);
    hwt_put(t, 1, &quiet); /* while disabled: no longer the hardware's */
    hwt_qi_enable(t);      /* IQT still 2: fetched again from slot 0 */
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_ENABLE_TAIL), 1);
    hwt_run(t, 100 * HW_US);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), 3);
    HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_SLOT_REWRITTEN), 0);
    HWT_EQ(t, hwt_mem32(t, st), 0); /* slot 1 is now the quiet wait */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_reset_values),
        HWT_TESTS(test_enable_disable_handshake),
        HWT_TESTS(test_disable_refused_while_busy),
        HWT_TESTS(test_disable_drop_policy),
        HWT_TESTS(test_enable_with_nonzero_tail),
        HWT_TESTS(test_reenable_forgets_published),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
