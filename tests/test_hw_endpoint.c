/*
 * test_hw_endpoint.c — PCIe endpoints and translation (semantics 14-17; spec 4.1-4.3, 6.5.2.1,
 * 6.5.2.3, 6.5.2.5): ATC fill through ATS and its invalidation by range; link down (config all
 * ones, no DMA, invalidation lost -> ITE) and up again with the ATC kept; surprise removal with a
 * hot-plug interrupt; FLR emptying the ATC and losing requests for flr_duration; DMA to a freed
 * page flagged; translated DMA blocked only after the context entry changed AND a context-cache
 * invalidation ran; an IOTLB invalidation making untranslated DMA re-walk the page table; the
 * page tables built with one walk per leaf table as hw_tables_map builds them.
 */
#include "hw_testutil.h"

#define SID0   0x0100u
#define SID1   0x0108u /* 01:01.0 */
#define IOVA2  (HWT_IOVA + HW_PAGE_SIZE)
#define IOVA_X 0x20000000ull /* never mapped */
#define T_ITE  (1 * HW_MS)

static hw_config ep_config(const hwt *t)
{
    hw_config cfg = hwt_config(t);
    cfg.ite_timeout = T_ITE;
    return cfg;
}

/* Run one [devtlb, wait] through the queue to completion. */
static void devtlb_sync(hwt *t, uint16_t sid, uint64_t addr, uint64_t pages, uint32_t data)
{
    vtd_desc d = vtd_make_devtlb(sid, addr, pages);
    hwt_submit_sync(t, &d, 1, data);
}

static void test_ep_atc_fill_and_inval(void **state)
{
    hwt *t = *state;
    hw_config cfg = ep_config(t);
    hw_paddr pa1, pa2, got;
    hw_dma_result r;
    uint32_t v = 0;
    hw_event e;
    int ep;

    hwt_start(t, &cfg, 0);
    ep = hwt_ep(t, SID0, true, 2 * HW_US);
    pa1 = hwt_map_new(t, HWT_IOVA);
    pa2 = hwt_map_new(t, IOVA2);
    hwt_mem32_set(t, pa1 + 0x40, 0xFEEDBEEF);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 0);

    /* Translation request fills the ATC without touching memory. */
    memset(&r, 0, sizeof(r));
    HWT_EQ(t, hw_ep_translate(t->m, ep, HWT_IOVA, &r), HW_DMA_OK);
    HWT_EQ(t, r.pa, pa1);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 1);
    HWT_OK(t, hw_ep_atc_lookup(t->m, ep, HWT_IOVA, &got) && got == pa1, "ATC lookup of page 1");
    e = *HWT_EV_LAST(t, HW_EV_TRANSLATE, -1);
    HWT_EQ(t, e.a, HWT_IOVA);
    HWT_EQ(t, e.b, pa1);
    HWT_EQ(t, e.c, HW_DMA_OK);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_DMA, -1, 0), 0);

    /* DMA read hits the ATC. */
    memset(&r, 0, sizeof(r));
    HWT_EQ(t, hw_ep_dma(t->m, ep, HWT_IOVA + 0x40, false, &v, &r), HW_DMA_OK);
    HWT_EQ(t, v, 0xFEEDBEEF);
    HWT_EQ(t, r.pa, pa1 + 0x40);
    HWT_EQ(t, r.atc_hit, true);
    HWT_EQ(t, r.owner, HWT_OWNER_TARGET);
    e = *HWT_EV_LAST(t, HW_EV_DMA, -1);
    HWT_EQ(t, e.a, HWT_IOVA + 0x40);
    HWT_EQ(t, e.b, pa1 + 0x40);
    HWT_EQ(t, e.c, HWT_OWNER_TARGET);
    HWT_EQ(t, e.flags & (HW_EVF_ATC | HW_EVF_WRITE | HW_EVF_FREED), HW_EVF_ATC);

    /* DMA to the second page misses, translates and fills. */
    memset(&r, 0, sizeof(r));
    HWT_EQ(t, hw_ep_dma(t->m, ep, IOVA2 + 8, true, &v, &r), HW_DMA_OK);
    HWT_EQ(t, r.pa, pa2 + 8);
    HWT_EQ(t, r.atc_hit, false);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 2);
    HWT_OK(t, (HWT_EV_LAST(t, HW_EV_DMA, -1)->flags & HW_EVF_WRITE) != 0, "write not flagged");

    /* An invalidation of another page drops nothing. */
    devtlb_sync(t, SID0, IOVA_X, 1, 0x1);
    e = *HWT_EV_LAST(t, HW_EV_ATS_ANSWER, -1);
    HWT_EQ(t, e.ep, ep);
    HWT_EQ(t, e.a, IOVA_X);
    HWT_EQ(t, e.b, HW_PAGE_SIZE);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 2);

    /* Page 1 only. */
    devtlb_sync(t, SID0, HWT_IOVA, 1, 0x2);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 1);
    HWT_OK(t, !hw_ep_atc_lookup(t->m, ep, HWT_IOVA, &got), "page 1 still in the ATC");
    HWT_OK(t, hw_ep_atc_lookup(t->m, ep, IOVA2, &got) && got == pa2, "page 2 dropped");

    /* Refill page 1; an 8 KiB range (S=1) covers both. */
    HWT_EQ(t, hw_ep_translate(t->m, ep, HWT_IOVA, &r), HW_DMA_OK);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 2);
    devtlb_sync(t, SID0, HWT_IOVA, 2, 0x3);
    e = *HWT_EV_LAST(t, HW_EV_ATS_ANSWER, -1);
    HWT_EQ(t, e.a, HWT_IOVA);
    HWT_EQ(t, e.b, 2 * HW_PAGE_SIZE);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 0);

    /* A DMA now misses again. */
    HWT_EQ(t, hw_ep_dma(t->m, ep, HWT_IOVA + 0x40, false, &v, &r), HW_DMA_OK);
    HWT_EQ(t, r.atc_hit, false);
    HWT_EQ(t, v, 0xFEEDBEEF);
    HWT_EQ(t, hwt_fsts(t), 0);
}

static void test_ep_link_down_up(void **state)
{
    hwt *t = *state;
    hw_config cfg = ep_config(t);
    hw_ep_config c;
    hw_paddr pa1, s1;
    hw_dma_result r;
    hw_event req;
    uint32_t v = 0;
    int ep;

    hwt_start(t, &cfg, 0);
    hw_ep_config_default(&c, SID0);
    c.vendor_id = 0x8086;
    c.device_id = 0x1234;
    c.ats = true;
    c.latency = 2 * HW_US;
    ep = hwt_ep_cfg(t, &c);
    HWT_EQ(t, hw_ep_get_config(t->m, ep)->atc_survives_link_down, true);
    pa1 = hwt_map_new(t, HWT_IOVA);
    hwt_mem32_set(t, pa1 + 0x10, 0x600DF00D);
    HWT_EQ(t, hw_ep_config_read32(t->m, ep, 0), 0x12348086u);
    HWT_EQ(t, hw_ep_translate(t->m, ep, HWT_IOVA, &r), HW_DMA_OK);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 1);

    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_LINK_DOWN, 0), 0);
    hwt_run(t, 1);
    HWT_EQ(t, hw_ep_link(t->m, ep), HW_LINK_DOWN);
    HWT_EQ(t, hw_ep_config_read32(t->m, ep, 0), 0xFFFFFFFFu);
    HWT_EQ(t, hw_ep_dma(t->m, ep, HWT_IOVA + 0x10, false, &v, &r), HW_DMA_NO_LINK);
    HWT_EQ(t, t->irq_count[HW_IRQ_HOTPLUG], 0); /* silent */

    /* The invalidation is lost and times out. */
    s1 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1));
    hwt_push(t, hwt_wait_sw(0x1, s1));
    hwt_doorbell(t);
    hwt_run(t, 10 * HW_US);
    req = *HWT_EV(t, HW_EV_ATS_REQ, 0);
    HWT_EQ(t, HWT_EV(t, HW_EV_ATS_LOST, 0)->flags, HW_LOST_LINK);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 1);
    hwt_run_to(t, req.t + T_ITE + HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ITE);
    HWT_EQ(t, (hwt_r64(t, VTD_REG_IQERCD) >> VTD_IQERCD_ITESID_SHIFT) & 0xFFFF, SID0);
    HWT_EQ(t, hwt_mem32(t, s1), 0);

    /* Link up: the ATC still holds the entry and DMA through it reaches the page. */
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_LINK_UP, 0), 0);
    hwt_run(t, 1);
    HWT_EQ(t, hw_ep_link(t->m, ep), HW_LINK_UP);
    HWT_EQ(t, hw_ep_config_read32(t->m, ep, 0), 0x12348086u);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 1);
    memset(&r, 0, sizeof(r));
    HWT_EQ(t, hw_ep_dma(t->m, ep, HWT_IOVA + 0x10, false, &v, &r), HW_DMA_OK);
    HWT_EQ(t, r.atc_hit, true);
    HWT_EQ(t, r.pa, pa1 + 0x10);
    HWT_EQ(t, v, 0x600DF00D);
    {
        /* The log shows the link going down, then up. */
        size_t n;
        const hw_event *ev = hwt_events(t, &n);
        unsigned seen = 0;
        for (size_t i = 0; i < n; i++) {
            if (ev[i].kind != HW_EV_LINK || ev[i].ep != ep)
                continue;
            HWT_EQ(t, ev[i].c, seen == 0 ? HW_LINK_DOWN : HW_LINK_UP);
            seen++;
        }
        HWT_EQ(t, seen, 2);
    }
}

/* atc_survives_link_down=false: the ATC is empty after the link returns. */
static void test_ep_link_down_atc_lost(void **state)
{
    hwt *t = *state;
    hw_config cfg = ep_config(t);
    hw_ep_config c;
    hw_dma_result r;
    int ep;

    hwt_start(t, &cfg, 0);
    hw_ep_config_default(&c, SID0);
    c.ats = true;
    c.atc_survives_link_down = false;
    ep = hwt_ep_cfg(t, &c);
    hwt_map_new(t, HWT_IOVA);
    HWT_EQ(t, hw_ep_translate(t->m, ep, HWT_IOVA, &r), HW_DMA_OK);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 1);
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_LINK_DOWN, 0), 0);
    hwt_run(t, HW_US);
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_LINK_UP, 0), 0);
    hwt_run(t, HW_US);
    HWT_EQ(t, hw_ep_link(t->m, ep), HW_LINK_UP);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 0);
}

static void test_ep_surprise_removal(void **state)
{
    hwt *t = *state;
    hw_config cfg = ep_config(t);
    hw_dma_result r;
    hw_time at;
    uint32_t v;
    int ep0, ep1;

    hwt_start(t, &cfg, 0);
    ep0 = hwt_ep(t, SID0, true, 2 * HW_US);
    ep1 = hwt_ep(t, SID1, true, 2 * HW_US);
    hwt_map_new(t, HWT_IOVA);
    at = hwt_now(t) + 5 * HW_US;
    HWT_EQ(t, hw_ep_inject(t->m, ep1, at, HW_FAULT_SURPRISE_REMOVAL, 0), 0);
    hwt_run_to(t, at - 1);
    HWT_EQ(t, t->irq_count[HW_IRQ_HOTPLUG], 0);
    HWT_EQ(t, hw_ep_link(t->m, ep1), HW_LINK_UP);
    hwt_run_to(t, at);
    HWT_EQ(t, t->irq_count[HW_IRQ_HOTPLUG], 1);
    HWT_EQ(t, t->irq_ep[HW_IRQ_HOTPLUG], ep1);
    HWT_EQ(t, t->irq_time[HW_IRQ_HOTPLUG], at);
    HWT_EQ(t, hw_ep_link(t->m, ep1), HW_LINK_REMOVED);
    HWT_EQ(t, hw_ep_link(t->m, ep0), HW_LINK_UP);
    HWT_EQ(t, HWT_EV(t, HW_EV_HOTPLUG, -1)->ep, ep1);
    HWT_EQ(t, hw_ep_config_read32(t->m, ep1, 0), 0xFFFFFFFFu);
    HWT_EQ(t, hw_ep_dma(t->m, ep1, HWT_IOVA, false, &v, &r), HW_DMA_NO_LINK);
    HWT_EQ(t, hw_ep_dma(t->m, ep0, HWT_IOVA, false, &v, &r), HW_DMA_OK);
    /* An invalidation to the removed function is lost (link). */
    {
        hw_paddr s = hwt_status_new(t, 0);
        hwt_push(t, vtd_make_devtlb(SID1, HWT_IOVA, 1));
        hwt_push(t, hwt_wait_sw(0x1, s));
        hwt_doorbell(t);
        hwt_run(t, 10 * HW_US);
        HWT_EQ(t, HWT_EV(t, HW_EV_ATS_LOST, 0)->flags, HW_LOST_LINK);
        HWT_EQ(t, hwt_mem32(t, s), 0);
    }
}

static void test_ep_flr(void **state)
{
    hwt *t = *state;
    hw_config cfg = ep_config(t);
    hw_ep_config c;
    const hw_time FLR = 200 * HW_US;
    hw_dma_result r;
    hw_time at;
    hw_paddr pa1, s1;
    uint32_t v = 0;
    size_t lost_before;
    int ep;

    cfg.ite_timeout = 1 * HW_S; /* keep the time-out out of the way */
    hwt_start(t, &cfg, 0);
    hw_ep_config_default(&c, SID0);
    c.vendor_id = 0x8086;
    c.device_id = 0x4321;
    c.ats = true;
    c.latency = 10 * HW_US;
    c.flr_duration = FLR;
    ep = hwt_ep_cfg(t, &c);
    pa1 = hwt_map_new(t, HWT_IOVA);
    hwt_mem32_set(t, pa1, 0xAB);
    HWT_EQ(t, hw_ep_translate(t->m, ep, HWT_IOVA, &r), HW_DMA_OK);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 1);

    /* An invalidation in flight when the FLR starts: its answer is lost. */
    s1 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, IOVA_X, 1));
    hwt_push(t, hwt_wait_sw(0x1, s1));
    hwt_doorbell(t);
    hwt_run(t, 2 * HW_US);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_REQ, 0, 0), 1);
    at = hwt_now(t);
    HWT_EQ(t, hw_ep_inject(t->m, ep, at, HW_FAULT_FLR, 0), 0);
    hwt_run(t, 1);
    HWT_EQ(t, hw_ep_in_flr(t->m, ep), true);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 0);
    HWT_EQ(t, hw_ep_config_read32(t->m, ep, 0), 0xFFFFFFFFu);
    HWT_EQ(t, hw_ep_dma(t->m, ep, HWT_IOVA, false, &v, &r), HW_DMA_NO_LINK);
    hwt_run(t, 20 * HW_US);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_CPL, -1, 0), 0);
    {
        hw_event l = *HWT_EV_LAST(t, HW_EV_ATS_LOST, -1);
        HWT_EQ(t, l.ep, ep);
        HWT_EQ(t, l.flags, HW_LOST_FLR);
        HWT_EQ(t, l.c, HWT_EV(t, HW_EV_ATS_REQ, 0)->c);
        HWT_OK(t, l.t > at, "answer lost before the FLR started");
        /* hw.h: ATS_LOST carries the queue slot of the request. */
        HWT_SOFT(t, l.slot == 0, "ATS_LOST of an answer cut by FLR has slot %d, want 0", l.slot);
    }
    HWT_EQ(t, hwt_mem32(t, s1), 0);

    /* A request arriving during the FLR is lost (answers_during_flr=false). */
    lost_before = hwt_ev_count(t, HW_EV_ATS_LOST, -1, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* 2 */
    hwt_doorbell(t);
    hwt_run(t, 5 * HW_US);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_LOST, -1, 0), lost_before + 1);
    HWT_EQ(t, HWT_EV(t, HW_EV_ATS_LOST, 2)->flags, HW_LOST_FLR);

    /* The FLR lasts exactly flr_duration. */
    hwt_run_to(t, at + FLR - 1);
    HWT_EQ(t, hw_ep_in_flr(t->m, ep), true);
    HWT_EQ(t, hw_ep_config_read32(t->m, ep, 0), 0xFFFFFFFFu);
    hwt_run_to(t, at + FLR);
    HWT_EQ(t, hw_ep_in_flr(t->m, ep), false);
    HWT_EQ(t, hw_ep_config_read32(t->m, ep, 0), 0x43218086u);
    HWT_EQ(t, HWT_EV(t, HW_EV_FLR_DONE, -1)->t - HWT_EV(t, HW_EV_FLR_START, -1)->t, FLR);
    memset(&r, 0, sizeof(r));
    HWT_EQ(t, hw_ep_dma(t->m, ep, HWT_IOVA, false, &v, &r), HW_DMA_OK);
    HWT_EQ(t, r.atc_hit, false);
    HWT_EQ(t, v, 0xAB);
    HWT_EQ(t, hwt_fsts(t), 0); /* the time-outs are still far away */
    HWT_END(t);
}

static void test_ep_dma_freed_page(void **state)
{
    hwt *t = *state;
    hw_config cfg = ep_config(t);
    hw_paddr pa_ats, pa_plain;
    hw_dma_result r;
    hw_event e;
    uint32_t v;
    int ep_ats, ep_plain;

    hwt_start(t, &cfg, 0);
    ep_ats = hwt_ep(t, SID0, true, 2 * HW_US);
    ep_plain = hwt_ep(t, SID1, false, 2 * HW_US);
    pa_ats = hwt_map_new(t, HWT_IOVA);
    pa_plain = hwt_map_new(t, IOVA2);
    HWT_EQ(t, hw_ep_dma(t->m, ep_ats, HWT_IOVA, false, &v, &r), HW_DMA_OK);
    HWT_EQ(t, hw_ep_dma(t->m, ep_plain, IOVA2, false, &v, &r), HW_DMA_OK);
    HWT_EQ(t, HWT_EV_LAST(t, HW_EV_DMA, -1)->flags & HW_EVF_FREED, 0);

    HWT_EQ(t, hw_mem_free(t->m, pa_ats, HW_PAGE_SIZE), 0);
    HWT_EQ(t, hw_mem_free(t->m, pa_plain, HW_PAGE_SIZE), 0);
    HWT_EQ(t, hw_mem_owner(t->m, pa_ats), HW_OWNER_FREE);

    /* Through the stale ATC entry. */
    memset(&r, 0, sizeof(r));
    HWT_EQ(t, hw_ep_dma(t->m, ep_ats, HWT_IOVA + 4, true, &v, &r), HW_DMA_OK);
    HWT_EQ(t, r.atc_hit, true);
    HWT_EQ(t, r.pa, pa_ats + 4);
    HWT_EQ(t, r.owner, HW_OWNER_FREE);
    e = *HWT_EV_LAST(t, HW_EV_DMA, -1);
    HWT_EQ(t, e.ep, ep_ats);
    HWT_EQ(t, e.flags & (HW_EVF_FREED | HW_EVF_ATC | HW_EVF_WRITE),
           HW_EVF_FREED | HW_EVF_ATC | HW_EVF_WRITE);
    HWT_EQ(t, e.c, HW_OWNER_FREE);

    /* Through the page table, still mapping the freed page. */
    memset(&r, 0, sizeof(r));
    HWT_EQ(t, hw_ep_dma(t->m, ep_plain, IOVA2, false, &v, &r), HW_DMA_OK);
    HWT_EQ(t, r.pa, pa_plain);
    HWT_EQ(t, r.owner, HW_OWNER_FREE);
    e = *HWT_EV_LAST(t, HW_EV_DMA, -1);
    HWT_EQ(t, e.ep, ep_plain);
    HWT_EQ(t, e.flags & (HW_EVF_FREED | HW_EVF_ATC), HW_EVF_FREED);
}

/*
 * Translated requests are checked against the cached context only (semantics 16): changing the
 * context entry to TT=00 in memory is not enough; after a context-cache invalidation (device-
 * selective for this SID, or global) the translated request is BLOCKED. A device-selective
 * invalidation of another SID does not help.
 */
static void test_ep_translated_blocked_after_cc(void **state)
{
    hwt *t = *state;

    for (int variant = 0; variant < 2; variant++) {
        hw_config cfg = ep_config(t);
        hw_dma_result r;
        hw_paddr pa1;
        vtd_desc d;
        uint32_t v;
        int ep;

        hwt_start(t, &cfg, 0);
        ep = hwt_ep(t, SID0, true, 2 * HW_US);
        pa1 = hwt_map_new(t, HWT_IOVA);
        HWT_EQ(t, hw_ep_translate(t->m, ep, HWT_IOVA, &r), HW_DMA_OK); /* context cached */
        HWT_EQ(t, hw_ep_dma(t->m, ep, HWT_IOVA, false, &v, &r), HW_DMA_OK);
        HWT_EQ(t, r.atc_hit, true);

        hwt_set_context(t, SID0, VTD_TT_UNTRANSLATED);
        memset(&r, 0, sizeof(r));
        HWT_OK(t, hw_ep_dma(t->m, ep, HWT_IOVA, false, &v, &r) == HW_DMA_OK,
               "variant %d: translated DMA refused before any cc invalidation", variant);
        HWT_EQ(t, r.pa, pa1);

        d = vtd_make_cc_device(HWT_DID, SID1, 0); /* another function */
        hwt_submit_sync(t, &d, 1, 0x1);
        HWT_OK(t, hw_ep_dma(t->m, ep, HWT_IOVA, false, &v, &r) == HW_DMA_OK,
               "variant %d: cc invalidation of SID 0x%x blocked SID 0x%x", variant, SID1, SID0);

        d = variant == 0 ? vtd_make_cc_device(HWT_DID, SID0, 0) : vtd_make_cc_global();
        hwt_submit_sync(t, &d, 1, 0x2);
        HWT_EQ(t, HWT_EV_LAST(t, HW_EV_CC_INVAL, -1)->a,
               variant == 0 ? VTD_CC_G_DEVICE : VTD_CC_G_GLOBAL);
        memset(&r, 0, sizeof(r));
        HWT_OK(t, hw_ep_dma(t->m, ep, HWT_IOVA, false, &v, &r) == HW_DMA_BLOCKED,
               "variant %d (%s): translated DMA not blocked after the cc invalidation (status %d)",
               variant, variant == 0 ? "device" : "global", (int)r.status);
        HWT_EQ(t, r.status, HW_DMA_BLOCKED);
        HWT_EQ(t, HWT_EV_LAST(t, HW_EV_DMA, -1)->c2, HW_DMA_BLOCKED);
        /* A translation request with TT=00 faults. */
        HWT_EQ(t, hw_ep_translate(t->m, ep, IOVA2, &r), HW_DMA_FAULT);
    }
}

/* Untranslated DMA from a non-ATS endpoint goes through the IOTLB (semantics 16-17). */
static void test_ep_iotlb_inval_rewalk(void **state)
{
    hwt *t = *state;
    hw_config cfg = ep_config(t);
    hw_dma_result r;
    hw_paddr pa1;
    vtd_desc d;
    uint32_t v = 0;
    int ep;

    hwt_start(t, &cfg, 0);
    ep = hwt_ep(t, SID1, false, 2 * HW_US);
    pa1 = hwt_map_new(t, HWT_IOVA);
    hwt_mem32_set(t, pa1 + 0x20, 0x1234);
    HWT_EQ(t, hw_ep_dma(t->m, ep, HWT_IOVA + 0x20, false, &v, &r), HW_DMA_OK);
    HWT_EQ(t, v, 0x1234);
    HWT_EQ(t, r.pa, pa1 + 0x20);
    HWT_EQ(t, r.atc_hit, false);
    HWT_EQ(t, hw_ep_atc_count(t->m, ep), 0);

    HWT_EQ(t, hw_tables_unmap(t->m, t->pgd, HWT_AW, HWT_IOVA), 0);
    /* The IOTLB still holds the translation. */
    HWT_OK(t, hw_ep_dma(t->m, ep, HWT_IOVA + 0x20, false, &v, &r) == HW_DMA_OK,
           "unmapped page faulted without an IOTLB invalidation (no IOTLB caching?)");
    HWT_EQ(t, r.pa, pa1 + 0x20);

    /* Invalidations that do not cover it: another domain, another page. */
    d = vtd_make_iotlb_domain(HWT_DID + 1);
    hwt_submit_sync(t, &d, 1, 0x1);
    d = vtd_make_iotlb_page(HWT_DID, IOVA2, 0, false);
    hwt_submit_sync(t, &d, 1, 0x2);
    HWT_OK(t, hw_ep_dma(t->m, ep, HWT_IOVA + 0x20, false, &v, &r) == HW_DMA_OK,
           "an iotlb invalidation not covering the page dropped it");

    /* The covering one. */
    d = vtd_make_iotlb_page(HWT_DID, HWT_IOVA, 0, false);
    hwt_submit_sync(t, &d, 1, 0x3);
    HWT_EQ(t, HWT_EV_LAST(t, HW_EV_IOTLB_INVAL, -1)->a, VTD_IOTLB_G_PAGE);
    HWT_EQ(t, HWT_EV_LAST(t, HW_EV_IOTLB_INVAL, -1)->b, HWT_DID);
    memset(&r, 0, sizeof(r));
    HWT_EQ(t, hw_ep_dma(t->m, ep, HWT_IOVA + 0x20, false, &v, &r), HW_DMA_FAULT);
    HWT_EQ(t, HWT_EV_LAST(t, HW_EV_DMA, -1)->c2, HW_DMA_FAULT);

    /* Map again at another page: the walk finds it (no negative caching). */
    pa1 = hwt_map_new(t, HWT_IOVA);
    HWT_EQ(t, hw_ep_dma(t->m, ep, HWT_IOVA, false, &v, &r), HW_DMA_OK);
    HWT_EQ(t, r.pa, pa1);
}

/* Latch the root table again and let the command take effect (GSTS.RTPS stays set). */
static void srtp(hwt *t)
{
    hwt_w64(t, VTD_REG_RTADDR, t->root);
    hwt_gcmd_poll(t, VTD_GCMD_SRTP, true, VTD_GSTS_RTPS, true);
    hwt_run(t, 1 * HW_US);
}

/* A new root table (SRTP) drops every cached context and translation (xlate.c, xl_flush_all):
 * after it, untranslated DMA walks the tables again and a translated request sees the context
 * entry as it now is; caches filled after the flush are dropped by the next one as well. */
static void test_ep_srtp_drops_cached_translations(void **state)
{
    hwt *t = *state;
    hw_config cfg = ep_config(t);
    hw_dma_result r;
    uint32_t v = 0;

    hwt_start(t, &cfg, 0);
    int plain = hwt_ep(t, SID1, false, 2 * HW_US);
    int ats = hwt_ep(t, SID0, true, 2 * HW_US);
    for (int round = 0; round < 2; round++) {
        hw_paddr pa = hwt_map_new(t, HWT_IOVA);
        HWT_EQ(t, hw_ep_dma(t->m, plain, HWT_IOVA, false, &v, &r), HW_DMA_OK); /* IOTLB */
        HWT_EQ(t, r.pa, pa);
        HWT_EQ(t, hw_ep_translate(t->m, ats, IOVA2, &r), HW_DMA_FAULT); /* context cached */
        HWT_EQ(t, hw_tables_unmap(t->m, t->pgd, HWT_AW, HWT_IOVA), 0);
        hwt_set_context(t, SID0, VTD_TT_UNTRANSLATED);
        HWT_OK(t, hw_ep_dma(t->m, plain, HWT_IOVA, false, &v, &r) == HW_DMA_OK,
               "round %d: unmapped page faulted before any flush (no IOTLB caching?)", round);
        HWT_OK(t, hw_ep_dma(t->m, ats, HWT_IOVA, false, &v, &r) == HW_DMA_OK,
               "round %d: translated DMA refused before any flush (no context caching?)", round);

        srtp(t);
        HWT_OK(t, hw_ep_dma(t->m, plain, HWT_IOVA, false, &v, &r) == HW_DMA_FAULT,
               "round %d: a stale IOTLB entry survived SRTP", round);
        HWT_OK(t, hw_ep_dma(t->m, ats, HWT_IOVA, false, &v, &r) == HW_DMA_BLOCKED,
               "round %d: a stale context-cache entry survived SRTP", round);
        hwt_set_context(t, SID0, VTD_TT_DEVTLB);
        srtp(t); /* drops the TT=00 context the blocked request cached */
        HWT_EQ(t, hw_mem_free(t->m, pa, HW_PAGE_SIZE), 0);
    }
}

/* Fault plan DROP n and LATENCY (hw.h): the first request is lost (ITE later), the next ones
 * answered, after the new latency. */
static void test_ep_fault_drop_and_latency(void **state)
{
    hwt *t = *state;
    hw_config cfg = ep_config(t);
    hw_paddr s1, s2;
    hw_event r0, r2, c2;
    int ep;

    hwt_start(t, &cfg, 0);
    ep = hwt_ep(t, SID0, true, 2 * HW_US);
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_DROP, 1), 0);
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_LATENCY, 7), 0);
    s1 = hwt_status_new(t, 0);
    s2 = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1)); /* 0: dropped */
    hwt_push(t, hwt_wait_sw(0x1, s1));               /* 1 */
    hwt_push(t, vtd_make_devtlb(SID0, IOVA2, 1));    /* 2: answered after 7 us */
    hwt_doorbell(t);
    hwt_run(t, 20 * HW_US);
    r0 = *HWT_EV(t, HW_EV_ATS_REQ, 0);
    HWT_EQ(t, HWT_EV(t, HW_EV_ATS_LOST, 0)->flags, HW_LOST_DROPPED);
    r2 = *HWT_EV(t, HW_EV_ATS_REQ, 2);
    c2 = *HWT_EV(t, HW_EV_ATS_CPL, 2);
    HWT_OK(t, c2.t >= r2.t + 7 * HW_US && c2.t < r2.t + 8 * HW_US,
           "latency 7 us: request %llu, completion %llu", (unsigned long long)r2.t,
           (unsigned long long)c2.t);
    HWT_EQ(t, hwt_mem32(t, s1), 0);
    hwt_run_to(t, r0.t + T_ITE + HW_US);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ITE);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ITE, -1, 0), 1);
    hwt_w32(t, VTD_REG_FSTS, VTD_FSTS_ITE);
    hwt_push(t, hwt_wait_sw(0x2, s2)); /* 3 */
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, s2, 0x2, HWT_POLL_LIMIT), "no progress after the clear");
}

/* Mapping pages through one walk to their leaf table (hw_tables_leaf, then hw_tables_set_leaf
 * per page) builds the same tables in the same pages as hw_tables_map page by page: two
 * machines, one each way, end with the same RAM and the same page owners. */
static hw_machine *tables_machine(void)
{
    hw_config cfg;
    hw_config_default(&cfg);
    cfg.mem_bytes = 1u << 20;
    const char *err = NULL;
    hw_machine *m = hw_create(&cfg, &err);
    assert_non_null(m);
    return m;
}

static void test_tables_leaf_maps_like_map(void **state)
{
    (void)state;
    hw_machine *m[2] = {tables_machine(), tables_machine()};
    for (int way = 0; way < 2; way++) {
        hw_paddr pgd = hw_tables_new_pgd(m[way], HWT_OWNER_DRIVER), leaf = 0;
        for (unsigned k = 0; k < 8; k++) {
            uint64_t iova = HWT_IOVA + k * HW_PAGE_SIZE;
            hw_paddr pa = hw_mem_alloc_quiet(m[way], HW_PAGE_SIZE, HWT_OWNER_TARGET);
            if (way == 0) {
                assert_int_equal(
                    hw_tables_map(m[0], pgd, HWT_AW, iova, pa, true, k % 2, HWT_OWNER_DRIVER), 0);
                continue;
            }
            if (k == 0)
                leaf = hw_tables_leaf(m[1], pgd, HWT_AW, iova, HWT_OWNER_DRIVER);
            assert_int_not_equal(leaf, 0);
            assert_int_equal(hw_tables_set_leaf(m[1], leaf, iova, pa, true, k % 2), 0);
        }
    }
    const size_t bytes = 32 * HW_PAGE_SIZE; /* every page either machine allocated */
    assert_memory_equal(hw_mem_ptr(m[0], 0, bytes), hw_mem_ptr(m[1], 0, bytes), bytes);
    for (hw_paddr pa = 0; pa < bytes; pa += HW_PAGE_SIZE)
        assert_int_equal(hw_mem_owner(m[0], pa), hw_mem_owner(m[1], pa));
    assert_int_equal(hw_mem_owner(m[1], 12 * HW_PAGE_SIZE),
                     HWT_OWNER_TARGET); /* 4 tables, 8 pages */
    assert_int_equal(hw_mem_owner(m[1], 13 * HW_PAGE_SIZE), HW_OWNER_FREE);
    assert_int_equal(hw_tables_leaf(m[1], 0, 3, HWT_IOVA, HWT_OWNER_DRIVER), 0); /* bad aw */
    hw_destroy(m[0]);
    hw_destroy(m[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_ep_atc_fill_and_inval),
        HWT_TESTS(test_ep_link_down_up),
        HWT_TESTS(test_ep_link_down_atc_lost),
        HWT_TESTS(test_ep_surprise_removal),
        HWT_TESTS(test_ep_flr),
        HWT_TESTS(test_ep_dma_freed_page),
        HWT_TESTS(test_ep_translated_blocked_after_cc),
        HWT_TESTS(test_ep_iotlb_inval_rewalk),
        HWT_TESTS(test_ep_srtp_drops_cached_translations),
        HWT_TESTS(test_ep_fault_drop_and_latency),
        cmocka_unit_test(test_tables_leaf_maps_like_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
