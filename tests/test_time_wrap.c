/*
 * test_time_wrap.c — times near the top of the 64-bit range. The saturating helpers of
 * src/util/sat_time.h (a sum or product past HW_NEVER is HW_NEVER, "never"), then what they
 * guard: the model with an ITE time-out, a latency, an FLR or a fault time too long for the
 * clock (nothing fires at once, nothing fires at all: a healthy endpoint answers and no ITE
 * comes), the simulation with such a watchdog and such a sleep (no lockup at once; the sleep
 * ends with the run at its bound), and the engine with such time-outs (it enables and submits,
 * it does not give up at once). Each of these wrapped round to a small time before.
 */
#include "engine_testutil.h"
#include "hw_testutil.h"
#include "sim_testutil.h"
#include "util/sat_time.h"

/* ---- the helpers ---- */

static void test_time_add(void **state)
{
    (void)state;
    assert_true(time_add(0, 0) == 0);
    assert_true(time_add(1, 2) == 3);
    assert_true(time_add(HW_NEVER - 1, 1) == HW_NEVER);
    assert_true(time_add(HW_NEVER - 1, 0) == HW_NEVER - 1);
    assert_true(time_add(HW_NEVER - 5, 6) == HW_NEVER);
    assert_true(time_add(6, HW_NEVER - 5) == HW_NEVER);
    assert_true(time_add(HW_NEVER, 0) == HW_NEVER);
    assert_true(time_add(0, HW_NEVER) == HW_NEVER);
    assert_true(time_add(HW_NEVER, HW_NEVER) == HW_NEVER);
    assert_true(time_add(UINT64_MAX / 2, UINT64_MAX / 2) == UINT64_MAX - 1);
    assert_true(time_add(UINT64_MAX / 2 + 1, UINT64_MAX / 2 + 1) == HW_NEVER);
    /* exact wherever the sum fits, whichever order */
    for (uint64_t a = 1; a < (1ull << 62); a = a * 3 + 1) {
        uint64_t b = HW_NEVER - a;
        assert_true(time_add(a, b) == HW_NEVER && time_add(b, a) == HW_NEVER);
        assert_true(time_add(a, b - 1) == HW_NEVER - 1);
        assert_true(time_add(a, b + 1 - 1) == HW_NEVER);
        assert_true(time_add(a, 1) == a + 1);
    }
}

static void test_time_mul(void **state)
{
    (void)state;
    assert_true(time_mul(0, 0) == 0);
    assert_true(time_mul(HW_NEVER, 0) == 0);
    assert_true(time_mul(0, HW_NEVER) == 0);
    assert_true(time_mul(7, 6) == 42);
    assert_true(time_mul(HW_NEVER, 1) == HW_NEVER);
    assert_true(time_mul(HW_NEVER, 2) == HW_NEVER);
    assert_true(time_mul(UINT32_MAX, HW_US) == 4294967295000ull);
    assert_true(time_mul(18446744073709551ull, HW_US) == 18446744073709551000ull);
    assert_true(time_mul(18446744073709552ull, HW_US) == HW_NEVER);
    assert_true(time_mul(1ull << 32, 1ull << 32) == HW_NEVER);
    assert_true(time_mul((1ull << 32) - 1, (1ull << 32) + 1) == HW_NEVER);
    assert_true(time_mul(UINT64_MAX / 3, 3) == UINT64_MAX);
    assert_true(time_mul(UINT64_MAX / 3 + 1, 3) == HW_NEVER);
}

/* ---- the model ---- */

#define SID0 0x0100u

/* A devtlb invalidation and a wait to a healthy endpoint, with the given time-out and latency. */
static hw_paddr submit_devtlb(hwt *t, hw_time ite_timeout, hw_time latency, int *ep)
{
    hw_config cfg = hwt_config(t);
    cfg.ite_timeout = ite_timeout;
    hwt_create(t, &cfg);
    *ep = hwt_ep(t, SID0, true, latency);
    hwt_queue_alloc(t, 0);
    hwt_qi_enable(t);
    hw_paddr st = hwt_status_new(t, 0);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1));
    hwt_push(t, hwt_wait_sw(0x1, st));
    hwt_doorbell(t);
    return st;
}

/* A time-out too long for the clock never fires: the healthy endpoint's answer completes the
 * batch, and nothing is left pending (the dead timer answers no hw_next_event()). */
static void test_huge_ite_timeout_healthy(void **state)
{
    hwt *t = *state;
    static const hw_time timeouts[] = {HW_NEVER, HW_NEVER - 1, HW_NEVER - 100 * HW_NS};
    for (unsigned i = 0; i < 3; i++) {
        int ep;
        hw_paddr st = submit_devtlb(t, timeouts[i], 2 * HW_US, &ep);
        HWT_OK(t, hwt_run_until_word(t, st, 0x1, HWT_POLL_LIMIT), "batch did not complete");
        hwt_run(t, 3600 * HW_S);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_ITE, -1, 0), 0);
        HWT_EQ(t, hwt_fsts(t), 0);
        HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_CPL, -1, 0), 1);
        HWT_OK(t, hw_next_event(t->m) == HW_NEVER, "something still pending");
    }
}

/* The same with a mute endpoint: no ITE at once, nor later: nothing is pending at all. */
static void test_huge_ite_timeout_muted(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    cfg.ite_timeout = HW_NEVER - 1;
    hwt_create(t, &cfg);
    int ep = hwt_ep(t, SID0, true, 2 * HW_US);
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_MUTE, 0), 0);
    hwt_queue_alloc(t, 0);
    hwt_qi_enable(t);
    hwt_push(t, vtd_make_devtlb(SID0, HWT_IOVA, 1));
    hwt_doorbell(t);
    hwt_run(t, 3600 * HW_S);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_LOST, -1, 0), 1);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ITE, -1, 0), 0);
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_OK(t, hw_next_event(t->m) == HW_NEVER, "a time-out still pending");
}

/* A latency too long for the clock is an answer that never comes: the ITE fires after the
 * time-out, as for a mute endpoint, instead of the answer arriving at once. */
static void test_huge_latency(void **state)
{
    hwt *t = *state;
    int ep;
    hw_paddr st = submit_devtlb(t, 1 * HW_MS, HW_NEVER - 1, &ep);
    hwt_run(t, 999 * HW_US);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_CPL, -1, 0), 0);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ITE, -1, 0), 0);
    hwt_run(t, 10 * HW_MS);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ITE, -1, 0), 1);
    HWT_EQ(t, hwt_fsts(t), VTD_FSTS_ITE);
    HWT_EQ(t, hwt_mem32(t, st), 0);
    hwt_run(t, 3600 * HW_S);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_ATS_CPL, -1, 0), 0);
    /* a latency fault of the largest argument is 4294967295 us exactly, not a wrapped one */
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t), HW_FAULT_LATENCY, UINT32_MAX), 0);
    hwt_run(t, 1);
    (void)ep;
}

/* An FLR too long for the clock never ends; a fault due at HW_NEVER never happens. */
static void test_huge_flr_and_fault_time(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hwt_create(t, &cfg);
    hw_ep_config c;
    hw_ep_config_default(&c, SID0);
    c.flr_duration = HW_NEVER - 1;
    int ep = hwt_ep_cfg(t, &c);
    HWT_EQ(t, hw_ep_inject(t->m, ep, hwt_now(t) + 10, HW_FAULT_FLR, 0), 0);
    hwt_run(t, 3600 * HW_S);
    HWT_OK(t, hw_ep_in_flr(t->m, ep), "the FLR ended");
    HWT_EQ(t, hwt_ev_count(t, HW_EV_FLR_DONE, -1, 0), 0);
    HWT_OK(t, hw_next_event(t->m) == HW_NEVER, "the end of the FLR is still pending");
    HWT_EQ(t, hw_ep_inject(t->m, ep, HW_NEVER, HW_FAULT_MUTE, 0), 0);
    hwt_run(t, 3600 * HW_S);
    HWT_OK(t, !hw_ep_muted(t->m, ep), "a fault due at HW_NEVER happened");
}

/* ---- the simulation ---- */

struct sim_case {
    hw_time sleep; /* after 1 us, with interrupts off if irqs_off */
    bool irqs_off;
};

static void nap_body(sim_world *w, unsigned cpu, void *arg)
{
    const struct sim_case *c = arg;
    qi_platform *p = sim_platform(w, cpu);
    sim_cpu_sleep(p, HW_US); /* the clock is not at 0: adding to it can wrap */
    unsigned long fl = c->irqs_off ? qi_plat_irq_save(p) : 0;
    sim_cpu_sleep(p, c->sleep);
    if (c->irqs_off)
        qi_plat_irq_restore(p, fl);
}

/* A small machine with no endpoint, for a world. */
static hw_machine *small_hw(void)
{
    hw_config hc;
    hw_config_default(&hc);
    hc.mem_bytes = 1u << 20;
    hw_machine *hw = hw_create(&hc, NULL);
    assert_non_null(hw);
    return hw;
}

static sim_outcome run_nap(hw_time watchdog, const struct sim_case *c)
{
    sim_config sc;
    sim_config_default(&sc);
    sc.watchdog = watchdog;
    return sim_test_run1(&sc, nap_body, (void *)c);
}

/* A watchdog too long for the clock never fires: a CPU with interrupts off for a second is no
 * hard lockup (it was one at once, the deadline having wrapped). */
static void test_huge_watchdog(void **state)
{
    (void)state;
    struct sim_case c = {.sleep = 1 * HW_S, .irqs_off = true};
    static const hw_time dogs[] = {HW_NEVER, HW_NEVER - 1, HW_NEVER - HW_US / 2};
    for (unsigned i = 0; i < 3; i++) {
        sim_outcome out = run_nap(dogs[i], &c);
        if (out.stop != SIM_STOP_DONE)
            fail_msg("watchdog %llu: %s: %s", (unsigned long long)dogs[i], sim_stop_name(out.stop),
                     out.why);
    }
    /* an ordinary watchdog still fires */
    sim_outcome out = run_nap(HW_MS, &c);
    assert_int_equal(out.stop, SIM_STOP_HARD_LOCKUP);
}

/* A sleep too long for the clock (or for the run's bound) ends with the run, at its bound: a
 * time-out, not a wake-up at once nor a CPU that looks blocked for ever. */
static void test_huge_sleep(void **state)
{
    (void)state;
    static const hw_time naps[] = {HW_NEVER, HW_NEVER - 3, 601 * HW_S};
    for (unsigned i = 0; i < 3; i++) {
        struct sim_case c = {.sleep = naps[i]};
        sim_outcome out = run_nap(10 * HW_S, &c);
        assert_int_equal(out.stop, SIM_STOP_TIMEOUT);
        assert_true(out.t > 600 * HW_S && out.t < 601 * HW_S);
    }
    struct sim_case c = {.sleep = 599 * HW_S};
    assert_int_equal(run_nap(10 * HW_S, &c).stop, SIM_STOP_DONE);
}

/* The virtual-time bound is held below SIM_MAX_VIRTUAL, far from HW_NEVER. */
static void test_max_virtual_bound(void **state)
{
    (void)state;
    hw_machine *hw = small_hw();
    sim_config sc;
    sim_config_default(&sc);
    const char *err = NULL;
    sc.max_virtual = SIM_MAX_VIRTUAL + 1;
    assert_null(sim_create(&sc, hw, &err));
    assert_non_null(strstr(err, "max_virtual"));
    sc.max_virtual = SIM_MAX_VIRTUAL;
    sim_world *w = sim_create(&sc, hw, &err);
    assert_non_null(w);
    sim_destroy(w);
    hw_destroy(hw);
}

/* ---- the engine ---- */

/* An engine whose time-outs (the default deadlines of its two classes) are too long for the
 * clock: enabling does not time out at once, a devtlb invalidation to a healthy endpoint
 * succeeds, and an explicit deadline of HW_NEVER - 1 is honoured as "much later". */
static void huge_timeouts_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    ET_EQ(qi_engine_disable(et_engine(t), p, 0), 0); /* the test's engine gives the queue up */
    qi_engine *e = sim_dma_alloc(p, sizeof(*e));
    qi_engine_config cfg = {.queue = sim_dma_alloc(p, 256 * 16),
                            .entries = 256,
                            .status = sim_dma_alloc(p, (256 + 1) * 4),
                            .slots = sim_dma_alloc(p, 256 * sizeof(qi_slot)),
                            .iommu_timeout_ns = UINT64_MAX,
                            .devtlb_timeout_ns = UINT64_MAX - 1};
    ET_EQ(qi_engine_init(e, p, &cfg), 0);
    ET_EQ(qi_engine_enable(e, p, 0), 0);
    vtd_desc d[2] = {et_iotlb(0), et_devtlb(0)};
    qi_result r;
    qi_engine_submit(e, p, d, 2, NULL, &r);
    ET_EQ(r.status, QI_OK);
    qi_submit_opts o = {.deadline_ns = UINT64_MAX - 1};
    qi_engine_submit(e, p, d, 2, &o, &r);
    ET_EQ(r.status, QI_OK);
    ET_EQ(qi_engine_disable(e, p, 0), 0);
}

static void test_engine_huge_timeouts(void **state)
{
    (void)state;
    et t;
    et_make(&t, &(et_cfg){.cpus = 1, .neps = 1, .ite_timeout = HW_NEVER - 1});
    et_body(&t, 0, huge_timeouts_body);
    et_run(&t);
    assert_int_equal(et_count(&t, HW_EV_ITE, -1, 0), 0);
    et_done(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_add),
        cmocka_unit_test(test_time_mul),
        HWT_TESTS(test_huge_ite_timeout_healthy),
        HWT_TESTS(test_huge_ite_timeout_muted),
        HWT_TESTS(test_huge_latency),
        HWT_TESTS(test_huge_flr_and_fault_time),
        cmocka_unit_test(test_huge_watchdog),
        cmocka_unit_test(test_huge_sleep),
        cmocka_unit_test(test_max_virtual_bound),
        cmocka_unit_test(test_engine_huge_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
