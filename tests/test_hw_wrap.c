/*
 * test_hw_wrap.c — wrap-around of the invalidation queue (spec 6.5.2, 11.4.9.3; semantics 5):
 * a QS=0 queue holds 256 128-bit or 128 256-bit descriptors; batches of varying size are
 * submitted until the ring has wrapped at least twice, every wait's status word must land with
 * its own data, IQH/IQT follow the ring, and finally one batch fills all N-1 usable slots.
 */
#include "hw_testutil.h"

#define MAX_BATCHES 400

static void test_wrap_twice(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr st[MAX_BATCHES];
    uint32_t wait_slot[MAX_BATCHES];
    unsigned nb = 0, wraps = 0;
    uint64_t consumed = 0;
    const hw_event *e;

    hwt_start(t, &cfg, 0);
    HWT_EQ(t, t->entries, t->combo->dw256 ? 128u : 256u);
    e = HWT_EV(t, HW_EV_QI_ENABLE, -1);
    HWT_EQ(t, e->b, t->entries);

    while (consumed < 2ull * t->entries + 7) {
        unsigned k = 1 + nb % 7; /* 1..7 descriptors before the wait */
        uint32_t before = t->tail;
        HWT_OK(t, nb < MAX_BATCHES, "too many batches");
        st[nb] = hwt_status_new(t, 0);
        for (unsigned i = 0; i < k; i++) {
            switch (i % 3) {
            case 0:
                hwt_push(t, vtd_make_cc_global());
                break;
            case 1:
                hwt_push(t, vtd_make_iotlb_domain(HWT_DID));
                break;
            default:
                hwt_push(t, vtd_make_iotlb_page(HWT_DID, 0x1000ull * i, 0, false));
                break;
            }
        }
        wait_slot[nb] = hwt_push(t, hwt_wait_sw(0x5000 + nb, st[nb]));
        if (t->tail < before)
            wraps++;
        hwt_doorbell(t);
        HWT_EQ(t, hwt_r64(t, VTD_REG_IQT), hwt_off(t, t->tail));
        HWT_OK(t, hwt_run_until_word(t, st[nb], 0x5000 + nb, HWT_POLL_LIMIT),
               "batch %u (slots %u..%u) did not complete", nb, before, wait_slot[nb]);
        hwt_run(t, HW_US);
        HWT_OK(t, hwt_iqh(t) == hwt_off(t, t->tail),
               "after batch %u IQH=0x%llx, expected tail offset 0x%llx", nb,
               (unsigned long long)hwt_iqh(t), (unsigned long long)hwt_off(t, t->tail));
        consumed += k + 1;
        nb++;
    }
    HWT_OK(t, wraps >= 2, "only %u wraps", wraps);

    /* Every wait wrote its own word, once, at its own slot. */
    for (unsigned i = 0; i < nb; i++) {
        HWT_OK(t, hwt_mem32(t, st[i]) == 0x5000 + i, "batch %u status 0x%x", i,
               hwt_mem32(t, st[i]));
    }
    HWT_EQ(t, hwt_ev_count(t, HW_EV_WAIT_DONE, -1, 0), nb);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_STATUS_WRITE, -1, 0), nb);
    {
        size_t n;
        const hw_event *ev = hwt_events(t, &n);
        unsigned w = 0;
        for (size_t i = 0; i < n; i++) {
            if (ev[i].kind != HW_EV_STATUS_WRITE)
                continue;
            HWT_OK(t, w < nb, "extra status write");
            HWT_OK(t, ev[i].slot == (int32_t)wait_slot[w], "status write %u at slot %d, want %u", w,
                   ev[i].slot, wait_slot[w]);
            HWT_EQ(t, ev[i].a, st[w]);
            HWT_EQ(t, ev[i].b, 0x5000 + w);
            HWT_EQ(t, ev[i].c, HWT_OWNER_DRIVER);
            w++;
        }
    }
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_SW_VIOLATION, -1, 0), 0);
}

/* One batch of N-1 descriptors (the most software may have outstanding) wrapping the ring. */
static void test_wrap_full_ring(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_paddr st;
    uint32_t start;

    hwt_start(t, &cfg, 0);
    /* Move the ring to the middle first. */
    for (unsigned i = 0; i < 3; i++) {
        vtd_desc d[20];
        for (unsigned j = 0; j < 20; j++)
            d[j] = vtd_make_iotlb_global();
        hwt_submit_sync(t, d, 20, 0x100 + i);
    }
    start = t->tail;
    HWT_EQ(t, start, 63);
    st = hwt_status_new(t, 0);
    for (uint32_t i = 0; i < t->entries - 2; i++)
        hwt_push(t, vtd_make_iotlb_global());
    hwt_push(t, hwt_wait_sw(0xF11, st));
    HWT_EQ(t, t->tail, start - 1); /* one slot short of the head: full */
    hwt_doorbell(t);
    HWT_OK(t, hwt_run_until_word(t, st, 0xF11, 10 * HWT_POLL_LIMIT), "full ring did not drain");
    hwt_run(t, HW_US);
    HWT_EQ(t, hwt_iqh(t), hwt_off(t, start - 1));
    {
        size_t n, iotlb_done = 0;
        const hw_event *ev = hwt_events(t, &n);
        for (size_t i = 0; i < n; i++)
            if (ev[i].kind == HW_EV_EXEC_DONE && ev[i].a == VTD_DESC_IOTLB)
                iotlb_done++;
        HWT_EQ(t, iotlb_done, 60 + t->entries - 2);
    }
    HWT_EQ(t, hwt_fsts(t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_wrap_twice),
        HWT_TESTS(test_wrap_full_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
