/*
 * test_hw_iqe.c — invalidation queue error on a malformed descriptor (spec 6.5.2.11, 11.4.9.9;
 * semantics 5, 10): FSTS.IQE with IQERCD.IQEI = the cause, IQH left on the bad slot, nothing
 * fetched beyond it (tail writes included), earlier descriptors completing normally; software
 * overwrites the slot, clears IQE, and fetching resumes at that slot. Also the strict_reserved
 * knob.
 */
#include "hw_testutil.h"

#define SID0 0x0100u

enum bad_kind { BAD_TYPE0, BAD_RSVD };

static vtd_desc bad_desc(enum bad_kind k, hw_paddr st)
{
    vtd_desc d;
    if (k == BAD_TYPE0) {
        memset(&d, 0, sizeof(d));
        d.qw[0] = 0xDEADull << 32; /* type 0: invalid (spec 6.5.2) */
        d.qw[1] = st;
    } else {
        d = hwt_wait_sw(0xBAD, st);
        d.qw[0] |= VTD_BIT(8); /* wait QW0 bit 8 is RsvdZ (spec 6.5.2.9) */
    }
    return d;
}

static unsigned bad_iqei(enum bad_kind k)
{
    return k == BAD_TYPE0 ? VTD_IQEI_TYPE : VTD_IQEI_RSVD;
}

static void test_iqe_bad_descriptor(void **state)
{
    hwt *t = *state;

    for (int k = BAD_TYPE0; k <= BAD_RSVD; k++) {
        hw_config cfg = hwt_config(t);
        hw_paddr s1, s2, s3, s4, sbad;
        hw_time tt, tc;
        size_t fetch_before;
        hw_event e;

        hwt_start(t, &cfg, 0);
        s1 = hwt_status_new(t, 0);
        s2 = hwt_status_new(t, 0);
        s3 = hwt_status_new(t, 0);
        s4 = hwt_status_new(t, 0);
        sbad = hwt_status_new(t, 0);
        hwt_push(t, vtd_make_iotlb_global());          /* 0 */
        hwt_push(t, vtd_make_cc_global());             /* 1 */
        hwt_push(t, hwt_wait_sw(0x1, s1));             /* 2 */
        hwt_push(t, bad_desc((enum bad_kind)k, sbad)); /* 3 = k */
        hwt_push(t, hwt_wait_sw(0x2, s2));             /* 4 */
        hwt_doorbell(t);
        hwt_run(t, 10 * HW_US);

        HWT_OK(t, hwt_fsts(t) == VTD_FSTS_IQE, "bad kind %d: FSTS 0x%x", k, hwt_fsts(t));
        HWT_EQ(t, hwt_r64(t, VTD_REG_IQERCD) & VTD_IQERCD_IQEI_MASK, bad_iqei(k));
        e = *HWT_EV(t, HW_EV_IQE, -1);
        HWT_EQ(t, e.slot, 3);
        HWT_EQ(t, e.c, bad_iqei(k));
        HWT_EQ(t, hwt_iqh(t), hwt_off(t, 3));
        HWT_EQ(t, hwt_mem32(t, s1), 0x1);
        HWT_EQ(t, hwt_mem32(t, s2), 0);
        HWT_EQ(t, hwt_mem32(t, sbad), 0);
        HWT_EQ(t, hwt_fetches_from(t, 4, 0), 0);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_EXEC_START, 3, 0), 0);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_EXEC_START, 4, 0), 0);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_DONE, -1, 0), 1);

        /* A tail write while IQE is set fetches nothing (spec 6.5.2.11). */
        hwt_push(t, hwt_wait_sw(0x3, s3)); /* 5 */
        tt = hwt_doorbell(t);
        fetch_before = hwt_ev_count(t, HW_EV_FETCH, -1, 0);
        hwt_run(t, 10 * HW_US);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, tt), 0);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), fetch_before);
        HWT_EQ(t, hwt_mem32(t, s3), 0);
        HWT_EQ(t, hwt_iqh(t), hwt_off(t, 3));
        HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);

        /* Software overwrites slot 3 with a valid wait, then clears IQE (write 1). */
        {
            vtd_desc fix = hwt_wait_sw(0x4, s4);
            hwt_put(t, 3, &fix);
        }
        hwt_w32(t, VTD_REG_FSTS, 0); /* writing 0 changes nothing */
        HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
        tc = hwt_now(t);
        hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_IQE);
        HWT_EQ(t, hwt_fsts(t), 0);
        HWT_OK(t, hwt_run_until_word(t, s3, 0x3, HWT_POLL_LIMIT), "queue did not resume");
        HWT_EQ(t, hwt_mem32(t, s4), 0x4);
        HWT_EQ(t, hwt_mem32(t, s2), 0x2);
        HWT_EQ(t, hwt_mem32(t, sbad), 0);
        e = *HWT_EV_LAST(t, HW_EV_FETCH, 3);
        HWT_OK(t, e.t >= tc, "slot 3 last fetched at %llu, before the clear at %llu",
               (unsigned long long)e.t, (unsigned long long)tc);
        e = *HWT_EV(t, HW_EV_WAIT_DONE, 3);
        HWT_EQ(t, e.a, 0x4); /* the new descriptor ran, re-read from memory */
        HWT_OK(t, HWT_EV(t, HW_EV_WAIT_DONE, 4)->seq > e.seq, "slot 4 done before slot 3");
        hwt_run(t, HW_US);
        HWT_EQ(t, hwt_iqh(t), hwt_off(t, 6));
        HWT_EQ(t, hwt_fsts(t), 0);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_IQE, -1, 0), 1);
        HWT_EQ(t, HWT_EV(t, HW_EV_ERR_CLEAR, -1)->a & VTD_FSTS_IQE, VTD_FSTS_IQE);
    }
}

/* [devtlb (slow), wait, BAD]: the earlier descriptors complete normally after the IQE; in the
 * complete policy IQH reaches the bad slot only once they did. */
static void test_iqe_after_pending_devtlb(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    const hw_time L = 10 * HW_US;
    hw_paddr s1, s2;
    hw_event iqe;

    hwt_start(t, &cfg, 0);
    hwt_ep(t, SID0, true, L);
    s1 = hwt_status_new(t, 0);
    s2 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* 0 */
    hwt_push(t, hwt_wait_sw(0x1, s1));               /* 1 */
    hwt_push(t, bad_desc(BAD_TYPE0, s2));            /* 2 */
    hwt_doorbell(t);
    hwt_run(t, 2 * HW_US);

    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
    iqe = *HWT_EV(t, HW_EV_IQE, -1);
    HWT_EQ(t, iqe.slot, 2);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQERCD) & VTD_IQERCD_IQEI_MASK, VTD_IQEI_TYPE);
    HWT_EQ(t, hwt_mem32(t, s1), 0);
    HWT_EQ(t, hwt_iqh(t), t->combo->head == HW_HEAD_FETCH ? hwt_off(t, 2) : 0);

    hwt_run(t, 2 * L);
    HWT_EQ(t, hwt_mem32(t, s1), 0x1);
    HWT_OK(t, HWT_EV(t, HW_EV_WAIT_DONE, 1)->t > iqe.t, "wait done before the IQE");
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 2));
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
    HWT_EQ(t, hwt_mem32(t, s2), 0);

    {
        vtd_desc fix = hwt_wait_sw(0x2, s2);
        hwt_put(t, 2, &fix);
    }
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_IQE);
    HWT_OK(t, hwt_run_until_word(t, s2, 0x2, HWT_POLL_LIMIT), "queue did not resume");
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 3));
    HWT_EQ(t, hwt_fsts(t), 0);
}

/* strict_reserved=false: the reserved bit is ignored and the wait runs (hw_config). */
static void test_iqe_reserved_lenient(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr s1;

    cfg.strict_reserved = false;
    hwt_start(t, &cfg, 0);
    s1 = hwt_status_new(t, 0);
    hwt_push(t, bad_desc(BAD_RSVD, s1));
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, s1, 0xBAD, HWT_POLL_LIMIT), "lenient wait did not run");
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_IQE, -1, 0), 0);

    /* Type 0 stays an error: it is not a reserved-field rule. */
    hwt_push(t, bad_desc(BAD_TYPE0, s1));
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQERCD) & VTD_IQERCD_IQEI_MASK, VTD_IQEI_TYPE);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 1));
}

/* A queue base outside simulated memory: the fetch fails, IQE with IQEI 2 (spec 6.5.2.11). */
static void test_iqe_fetch_outside_memory(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    uint64_t base;

    hwt_create(t, &cfg);
    base = (hw_mem_size(t->m) + 0x100000u) & ~(uint64_t)(HW_PAGE_SIZE - 1);
    t->shift = vtd_desc_shift(t->combo->dw256);
    hwt_w64(t, VTD_REG_IQT, 0);
    hwt_w64(t, VTD_REG_IQA, hwt_iqa(t, base, 0));
    hwt_qi_enable(t);
    hwt_w64(t, VTD_REG_IQT, hwt_off(t, 1));
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQERCD) & VTD_IQERCD_IQEI_MASK, VTD_IQEI_FETCH);
    HWT_EQ(t, hwt_iqh(t), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FETCH, -1, 0), 0);
}

/*
 * Queue-level width rules (spec 11.4.9.3, Table 26; IQEI 5 and 7), checked when the first
 * descriptor is fetched: DW=1 without SMTS/ADMS is an error, DW=0 with RTADDR.TTM=scalable is
 * an error (DW=1 is fine there), and a reserved TTM is an error whatever the width.
 */
static void expect_first_fetch(hwt *t, unsigned iqei)
{
    hw_paddr st = hwt_status_new(t, 0);
    hwt_push(t, hwt_wait_sw(0x1, st));
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    if (iqei == 0) {
        HWT_EQ(t, hwt_fsts(t), 0);
        HWT_EQ(t, hwt_mem32(t, st), 0x1);
    } else {
        HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
        HWT_EQ(t, hwt_r64(t, VTD_REG_IQERCD) & VTD_IQERCD_IQEI_MASK, iqei);
        HWT_EQ(t, hwt_mem32(t, st), 0);
        HWT_EQ(t, hwt_iqh(t), 0);
    }
}

static void set_ttm(hwt *t, unsigned ttm)
{
    hw_paddr root = hw_tables_root(t->m, HWT_OWNER_DRIVER);
    hwt_w64(t, VTD_REG_RTADDR, root | ((uint64_t)ttm << VTD_RTADDR_TTM_SHIFT));
    hwt_gcmd_poll(t, VTD_GCMD_SRTP, true, VTD_GSTS_RTPS, true);
}

static void test_iqe_width_rules(void **state)
{
    hwt *t = *state;
    bool dw = t->combo->dw256;
    hw_config cfg = hwt_config(t);

    cfg.ecap &= ~(VTD_ECAP_SMTS | VTD_ECAP_ADMS);
    hwt_start(t, &cfg, 0);
    expect_first_fetch(t, dw ? VTD_IQEI_WIDTH : 0);

    cfg = hwt_config(t);
    hwt_create(t, &cfg);
    set_ttm(t, VTD_TTM_SCALABLE);
    hwt_queue_alloc(t, 0);
    hwt_qi_enable(t);
    expect_first_fetch(t, dw ? 0 : VTD_IQEI_WIDTH);

    hwt_create(t, &cfg);
    set_ttm(t, VTD_TTM_RESERVED);
    hwt_queue_alloc(t, 0);
    hwt_qi_enable(t);
    expect_first_fetch(t, VTD_IQEI_TTM);
}

/* A 256-bit-only type (p_iotlb, 6) in legacy mode is an invalid type in either width. */
static void test_iqe_256_only_type_legacy(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    vtd_fields f;
    vtd_desc d;

    memset(&f, 0, sizeof(f));
    f.type = VTD_DESC_PIOTLB;
    f.u.piotlb.g = VTD_PIOTLB_G_PASID;
    f.u.piotlb.did = HWT_DID;
    memset(&d, 0, sizeof(d));
    HWT_EQ(t, vtd_encode(&f, &d, NULL), VTD_OK);
    hwt_start(t, &cfg, 0);
    hwt_submit_sync(t, NULL, 0, 0x1);
    hwt_push(t, d);
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_IQE);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQERCD) & VTD_IQERCD_IQEI_MASK, VTD_IQEI_TYPE);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_iqe_bad_descriptor),   HWT_TESTS(test_iqe_after_pending_devtlb),
        HWT_TESTS(test_iqe_reserved_lenient), HWT_TESTS(test_iqe_fetch_outside_memory),
        HWT_TESTS(test_iqe_width_rules),      HWT_TESTS(test_iqe_256_only_type_legacy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
