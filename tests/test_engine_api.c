/*
 * test_engine_api.c — the engine's contract on healthy hardware: configuration checks, the
 * common-case cost (one tail write and no register read per submit), validation before
 * queuing, calls larger than a batch, zero-length calls, combining of concurrent submitters,
 * deadlines, and enable/disable.
 */
#include "engine_testutil.h"

/* ---- configuration ---- */

struct init_case {
    uint32_t entries, max_outstanding;
    bool misalign;
    int want;
};

static const struct init_case init_cases[] = {
    {256, 0, false, 0},           {300, 0, false, QI_EINVAL}, /* not a power of two */
    {128, 0, false, QI_EINVAL},   /* 128-bit queues start at 256 entries */
    {256, 2, false, QI_EINVAL},   /* too few slots for a descriptor and its wait */
    {256, 256, false, QI_EINVAL}, /* a full ring would look empty */
    {256, 0, true, QI_EINVAL},    /* not 4 KiB aligned */
    {512, 7, false, 0},
};

static void init_body(sim_world *w, unsigned cpu, void *arg)
{
    (void)arg;
    qi_platform *p = sim_platform(w, cpu);
    for (size_t i = 0; i < sizeof(init_cases) / sizeof(init_cases[0]); i++) {
        const struct init_case *c = &init_cases[i];
        qi_engine *e = sim_dma_alloc(p, sizeof(*e));
        uint8_t *q = sim_dma_alloc(p, 2 * 512 * 16);
        qi_engine_config cfg = {.queue = q + (c->misalign ? 16 : 0),
                                .entries = c->entries,
                                .status = sim_dma_alloc(p, (512 + 1) * 4),
                                .slots = sim_dma_alloc(p, 512 * sizeof(qi_slot)),
                                .max_outstanding = c->max_outstanding};
        int rc = qi_engine_init(e, p, &cfg);
        ET_EQ(rc, c->want);
    }
    qi_engine e;
    ET_EQ(qi_engine_init(&e, p, NULL), QI_EINVAL);
    qi_result r;
    qi_engine_submit(&e, p, NULL, 0, NULL, &r); /* never enabled */
    ET_EQ(r.status, QI_ERR_INVALID);
}

static void test_init_checks(void **state)
{
    (void)state;
    et t;
    et_make(&t, &(et_cfg){.cpus = 1});
    et_body(&t, 0, init_body);
    et_run(&t);
    et_done(&t);
}

/* ---- the common case ---- */

#define ROUNDS 50
static size_t mark_from, mark_to;

static void healthy_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    vtd_desc d[3] = {et_iotlb(0), et_devtlb(0), et_iotlb(1)};
    et_submit(t, p, d, 2, 0); /* warm-up */
    mark_from = et_log_pos(t);
    for (unsigned i = 0; i < ROUNDS; i++) {
        struct et_call *c = et_submit(t, p, i % 2 ? d : d + 2, i % 2 ? 2 : 1, 0);
        ET_EQ(c->r.status, QI_OK);
        ET_EQ(c->r.retries, 0);
    }
    mark_to = et_log_pos(t);
}

/* One CPU, healthy endpoints: every submit costs exactly one MMIO write (the tail) and no
 * MMIO read at all, and every descriptor is executed. */
static void test_one_tail_write_per_submit(void **state)
{
    (void)state;
    for (int policy = 0; policy < 2; policy++) {
        et t;
        et_make(&t, &(et_cfg){.cpus = 1, .neps = 2, .head = (enum hw_head_policy)policy});
        et_body(&t, 0, healthy_body);
        et_run(&t);
        size_t writes = 0, reads = 0, n;
        const hw_event *ev = hw_events(t.hw, &n);
        for (size_t i = mark_from; i < mark_to; i++) {
            writes += ev[i].kind == HW_EV_MMIO_WRITE;
            reads += ev[i].kind == HW_EV_MMIO_READ;
        }
        assert_int_equal(writes, ROUNDS);
        assert_int_equal(et_count_mmio(&t, HW_EV_MMIO_WRITE, VTD_REG_IQT, mark_from), ROUNDS);
        assert_int_equal(reads, 0);
        assert_int_equal(et_count(&t, HW_EV_ATS_CPL, 0, mark_from), ROUNDS / 2);
        const qi_engine_stats *s = qi_engine_get_stats(et_engine(&t));
        assert_int_equal(s->submits, ROUNDS + 1);
        assert_int_equal(s->fsts_reads, 0);
        et_assert_all_free(&t);
        et_done(&t);
    }
}

/* ---- waiting ---- */

/* A waiter notices its status write at its next poll: after the write, at most one pause, the
 * load that sees it and the one atomic leave, with no backoff between polls while the batch is
 * young (the clock is read only every fourth poll). Judged from the hardware's own log: the
 * status write's time against the call's return. */
static void prompt_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    for (unsigned i = 0; i < 4; i++) {
        vtd_desc d[2] = {et_iotlb(0), et_devtlb(0)};
        ET_EQ(et_submit(t, p, d, 2, 0)->r.status, QI_OK);
    }
}

static void test_completion_noticed_promptly(void **state)
{
    (void)state;
    et t;
    et_make(&t, &(et_cfg){.cpus = 1, .neps = 1});
    et_body(&t, 0, prompt_body);
    et_run(&t);
    const struct sim_costs *cost = &sim_get_config(t.w)->cost;
    size_t n;
    const hw_event *ev = hw_events(t.hw, &n);
    assert_int_equal(t.ncalls, 4);
    for (unsigned k = 0; k < t.ncalls; k++) {
        hw_time written = 0;
        for (size_t i = 0; i < n && ev[i].t <= t.calls[k].t1; i++)
            if (ev[i].kind == HW_EV_STATUS_WRITE && ev[i].t >= t.calls[k].t0)
                written = ev[i].t;
        assert_true(written > 0);
        hw_time late = t.calls[k].t1 - written;
        assert_true(late <= cost->relax + cost->mem + cost->atomic); /* 35 ns measured */
    }
    assert_int_equal(qi_engine_get_stats(et_engine(&t))->fsts_reads, 0);
    et_assert_all_free(&t);
    et_done(&t);
}

/* ---- validation ---- */

static void validate_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    vtd_desc d[3] = {et_iotlb(0), et_iotlb(0), et_devtlb(0)};
    d[1].qw[0] |= VTD_BIT(8); /* a reserved bit */
    size_t before = et_log_pos(t);
    struct et_call *c = et_submit(t, p, d, 3, 0);
    ET_EQ(c->r.status, QI_ERR_MALFORMED);
    ET_EQ(c->r.index, 1);
    ET_CHECK(!(c->r.others_done));
    d[1] = vtd_make_wait(true, false, false, 1, 0x1000); /* ours to add, never the caller's */
    c = et_submit(t, p, d, 3, 0);
    ET_EQ(c->r.status, QI_ERR_MALFORMED);
    ET_EQ(c->r.index, 1);
    ET_EQ(et_count_mmio(t, HW_EV_MMIO_WRITE, VTD_REG_IQT, before), 0);
    c = et_submit(t, p, NULL, 0, 0); /* nothing: a barrier behind earlier work */
    ET_EQ(c->r.status, QI_OK);
}

static void test_validation_before_queuing(void **state)
{
    (void)state;
    et t;
    et_make(&t, &(et_cfg){.cpus = 1, .neps = 1});
    et_body(&t, 0, validate_body);
    et_run(&t);
    assert_int_equal(et_count(&t, HW_EV_IQE, -1, 0), 0);
    et_done(&t);
}

/* ---- calls larger than a batch, and a small ring ---- */

#define BIG 40
static void big_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    vtd_desc d[BIG];
    for (unsigned i = 0; i < BIG; i++)
        d[i] = i % 10 == 9 ? et_devtlb(i % 2) : vtd_make_iotlb_page(1, ET_IOVA + i * 4096, 0, 0);
    struct et_call *c = et_submit(t, p, d, BIG, 0);
    ET_EQ(c->r.status, QI_OK);
}

static void test_call_larger_than_ring(void **state)
{
    (void)state;
    et t;
    et_make(&t, &(et_cfg){.cpus = 2, .neps = 2, .queue_len = 8});
    et_body(&t, 0, big_body);
    et_body(&t, 1, big_body);
    et_run(&t);
    assert_int_equal(et_count(&t, HW_EV_IOTLB_INVAL, -1, 0), 2 * (BIG - BIG / 10));
    assert_int_equal(et_count(&t, HW_EV_ATS_CPL, -1, 0), 2 * (BIG / 10));
    assert_int_equal(qi_engine_capacity(et_engine(&t)), 7);
    assert_int_equal(qi_engine_free_slots(et_engine(&t)), 7);
    et_done(&t);
}

/* ---- combining ---- */

static void many_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    vtd_desc d[2] = {et_iotlb(0), et_iotlb(1)};
    for (unsigned i = 0; i < 8; i++) {
        struct et_call *c = et_submit(t, p, d, 2, 0);
        ET_EQ(c->r.status, QI_OK);
    }
}

/* Eight CPUs at once: many submissions share a wait descriptor and a tail write. */
static void test_combining(void **state)
{
    (void)state;
    et t;
    et_make(&t, &(et_cfg){.cpus = 8, .neps = 1});
    for (unsigned c = 0; c < 8; c++)
        et_body(&t, c, many_body);
    et_run(&t);
    const qi_engine_stats *s = qi_engine_get_stats(et_engine(&t));
    assert_int_equal(s->submits, 64);
    assert_true(s->joined > 0);
    assert_true(s->batches < 64);
    assert_int_equal(s->batches + s->joined, 64);
    assert_int_equal(et_count_mmio(&t, HW_EV_MMIO_WRITE, VTD_REG_IQT, 0), s->batches + 1);
    assert_int_equal(et_count(&t, HW_EV_IOTLB_INVAL, -1, 0), 128);
    et_done(&t);
}

/* ---- deadlines ---- */

static void slow_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    vtd_desc d[2] = {et_iotlb(0), et_devtlb(0)};
    uint64_t dl = qi_plat_now_ns(p) + 100 * HW_US;
    struct et_call *c = et_submit(t, p, d, 2, dl);
    ET_EQ(c->r.status, QI_ERR_DEADLINE);
    ET_CHECK(c->r.pending);
    ET_CHECK(c->t1 >= dl && c->t1 < dl + 2 * HW_US);
    /* The engine keeps the slots until the hardware is done with them. */
    ET_CHECK(qi_engine_free_slots(et_engine(t)) < qi_engine_capacity(et_engine(t)));
    /* Later calls are not held up by the slow one's slots. */
    d[0] = et_iotlb(1);
    c = et_submit(t, p, d, 1, 0);
    ET_EQ(c->r.status, QI_OK);
}

/* A device that takes 1 ms to answer and a caller that allows 100 us: QI_ERR_DEADLINE with the
 * work still pending, on time; the slots come back once the answer arrives. */
static void test_deadline_pending(void **state)
{
    (void)state;
    et t;
    et_make(&t, &(et_cfg){.cpus = 1, .neps = 2});
    assert_int_equal(hw_ep_inject(t.hw, 0, hw_now(t.hw), HW_FAULT_LATENCY, 1000), 0);
    et_body(&t, 0, slow_body);
    et_run(&t);
    assert_int_equal(et_count(&t, HW_EV_ATS_CPL, 0, 0), 1);
    et_assert_all_free(&t);
    assert_int_equal(qi_engine_get_stats(et_engine(&t))->deadline_hit, 1);
    et_done(&t);
}

/* ---- enable / disable ---- */

static void disable_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    qi_engine *e = et_engine(t);
    vtd_desc d = et_iotlb(0);
    ET_EQ(qi_engine_enable(e, p, 0), QI_ESTATE); /* already on */
    ET_EQ(et_submit(t, p, &d, 1, 0)->r.status, QI_OK);
    ET_EQ(qi_engine_disable(e, p, 0), 0);
    ET_CHECK(!(qi_plat_read32(p, VTD_REG_GSTS) & VTD_GSTS_QIES));
    ET_EQ(et_submit(t, p, &d, 1, 0)->r.status, QI_ERR_INVALID);
    ET_EQ(qi_engine_enable(e, p, 0), 0);
    ET_EQ(et_submit(t, p, &d, 1, 0)->r.status, QI_OK);
}

/* ---- initialisation over used memory ---- */

static bool all_zero(const void *m, size_t n)
{
    const uint8_t *b = m;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* Memory handed to qi_engine_init may hold anything (a previous engine, a freed buffer): init
 * clears the engine, the slot records and the device records itself, and nothing around them,
 * and the engine then works. */
static void garbage_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    ET_EQ(qi_engine_disable(et_engine(t), p, 0), 0); /* the test's engine gives the queue up */
    qi_engine *e = sim_dma_alloc(p, sizeof(*e));
    uint8_t *slot_mem = sim_dma_alloc(p, 256 * sizeof(qi_slot) + 16);
    qi_slot *slots = (qi_slot *)(slot_mem + 8); /* guard bytes on both sides */
    uint8_t *dev_mem = sim_dma_alloc(p, 3 * sizeof(qi_dev) + 16);
    qi_dev *devs = (qi_dev *)(dev_mem + 8); /* three records: not a whole number of 32 bytes */
    memset(e, 0xA5, sizeof(*e));
    memset(slot_mem, 0xA5, 256 * sizeof(qi_slot) + 16);
    memset(dev_mem, 0x5A, 3 * sizeof(qi_dev) + 16);
    qi_engine_config cfg = {.queue = sim_dma_alloc(p, 256 * 16),
                            .entries = 256,
                            .status = sim_dma_alloc(p, (256 + 1) * 4),
                            .slots = slots};
    ET_EQ(qi_engine_init(e, p, &cfg), 0);
    ET_CHECK(all_zero(slots, 256 * sizeof(qi_slot)));
    ET_EQ(slot_mem[7], 0xA5); /* nothing outside the table */
    ET_EQ(slot_mem[8 + 256 * sizeof(qi_slot)], 0xA5);
    ET_CHECK(all_zero(e->dev_builtin, sizeof(e->dev_builtin)));
    ET_CHECK(all_zero(qi_engine_get_stats(e), sizeof(*qi_engine_get_stats(e))));
    ET_EQ(qi_engine_enable(e, p, 0), 0);
    vtd_desc d = et_iotlb(0);
    qi_result r;
    qi_engine_submit(e, p, &d, 1, NULL, &r);
    ET_EQ(r.status, QI_OK);
    memset(e, 0xA5, sizeof(*e));
    cfg.devices = devs;
    cfg.ndevices = 3;
    ET_EQ(qi_engine_init(e, p, &cfg), 0);
    ET_CHECK(all_zero(devs, 3 * sizeof(qi_dev)));
    ET_EQ(dev_mem[7], 0x5A);
    ET_EQ(dev_mem[8 + 3 * sizeof(qi_dev)], 0x5A);
}

static void test_init_over_garbage(void **state)
{
    (void)state;
    et t;
    et_make(&t, &(et_cfg){.cpus = 1});
    et_body(&t, 0, garbage_body);
    et_run(&t);
    et_done(&t);
}

/* ---- the device table ---- */

/* A table of two records: a third device with a state is refused with QI_ENOSPC (and counted),
 * a record with nothing left to remember is recycled, and the configuration must give both
 * the records and their count, or neither. */
static void table_body(sim_world *w, unsigned cpu, void *arg)
{
    (void)arg;
    qi_platform *p = sim_platform(w, cpu);
    qi_engine *e = sim_dma_alloc(p, sizeof(*e));
    qi_dev *devs = sim_dma_alloc(p, 2 * sizeof(qi_dev));
    qi_engine_config cfg = {.queue = sim_dma_alloc(p, 256 * 16),
                            .entries = 256,
                            .status = sim_dma_alloc(p, (256 + 1) * 4),
                            .slots = sim_dma_alloc(p, 256 * sizeof(qi_slot)),
                            .devices = devs};
    ET_EQ(qi_engine_init(e, p, &cfg), QI_EINVAL); /* records without a count */
    cfg.devices = NULL;
    cfg.ndevices = 2;
    ET_EQ(qi_engine_init(e, p, &cfg), QI_EINVAL); /* a count without records */
    cfg.devices = devs;
    ET_EQ(qi_engine_init(e, p, &cfg), 0);
    const uint16_t a = 0x100, b = 0x200, c = 0x300;
    ET_EQ(qi_engine_device_reset_begin(e, p, a), 0);
    ET_EQ(qi_engine_device_reset_begin(e, p, b), 0);
    ET_EQ(qi_engine_device_reset_begin(e, p, c), QI_ENOSPC);
    ET_EQ(qi_engine_device_gone(e, p, c), QI_ENOSPC);
    ET_EQ(qi_engine_get_stats(e)->untracked, 2);
    ET_CHECK(!qi_engine_device_quarantined(e, p, c));
    ET_EQ(qi_engine_device_reset_end(e, p, a, 0), 0); /* a: nothing left to remember */
    ET_EQ(qi_engine_device_gone(e, p, c), 0);         /* so c takes its record */
    ET_CHECK(qi_engine_device_quarantined(e, p, c));
    ET_EQ(qi_engine_device_gone(e, p, b), 0); /* b's record already exists */
    ET_CHECK(qi_engine_device_quarantined(e, p, b));
    ET_EQ(qi_engine_device_reset_begin(e, p, a), QI_ENOSPC); /* b and c are quarantined */
    ET_EQ(qi_engine_get_stats(e)->untracked, 3);
}

static void test_device_table_size(void **state)
{
    (void)state;
    et t;
    et_make(&t, &(et_cfg){.cpus = 1});
    et_body(&t, 0, table_body);
    et_run(&t);
    et_done(&t);
}

static void test_enable_disable(void **state)
{
    (void)state;
    et t;
    et_make(&t, &(et_cfg){.cpus = 1, .neps = 1});
    et_body(&t, 0, disable_body);
    et_run(&t);
    assert_int_equal(et_count(&t, HW_EV_QI_DISABLE, -1, 0), 1);
    assert_int_equal(et_count(&t, HW_EV_SW_VIOLATION, -1, 0), 0);
    et_done(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_checks),
        cmocka_unit_test(test_one_tail_write_per_submit),
        cmocka_unit_test(test_completion_noticed_promptly),
        cmocka_unit_test(test_validation_before_queuing),
        cmocka_unit_test(test_call_larger_than_ring),
        cmocka_unit_test(test_combining),
        cmocka_unit_test(test_deadline_pending),
        cmocka_unit_test(test_enable_disable),
        cmocka_unit_test(test_device_table_size),
        cmocka_unit_test(test_init_over_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
