/*
 * test_check_reuse.c — executions in one process reuse what earlier ones allocated (simulated
 * RAM, coroutine stacks, event arrays; see src/hw/mem.c, src/sim/coro.c, src/sim/world.c).
 * These tests pin that reuse is invisible: a reused RAM is as fresh as a new mapping, the same
 * execution twice gives the same result and timeline bytes, and an execution right after one
 * that ended badly (a CPU cut off by the step guard inside a loop with no platform point, a
 * watchdog hard lockup, a proved hang) is byte-identical to the same execution run first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/run.h"
#include "check/scenario.h"
#include "drivers/driver.h"
#include "hw/hw.h"
#include "util/faults.h"

/* ---- simulated RAM ---- */

static void assert_fresh(hw_machine *m, size_t bytes)
{
    const uint8_t *ram = hw_mem_ptr(m, 0, bytes);
    size_t nonzero = 0;
    for (size_t i = 0; i < bytes; i++)
        nonzero += ram[i] != 0;
    assert_int_equal(nonzero, 0);
    for (hw_paddr pa = 0; pa < bytes; pa += HW_PAGE_SIZE) {
        assert_int_equal(hw_mem_owner(m, pa), HW_OWNER_FREE);
        assert_int_equal(hw_mem_generation(m, pa), 0);
    }
}

/* Released RAM is cleared in one of two ways (src/hw/mem.c): after page faults during the
 * machine's life, pages above the allocation mark are dropped; without, the pages known to be
 * resident are zeroed. Both must leave nothing behind, stray writes through the base pointer
 * included. Only the last machine reads the whole RAM (reading faults pages in). */
static void test_reused_ram_is_fresh(void **state)
{
    (void)state;
    hw_config cfg;
    hw_config_default(&cfg);
    cfg.mem_bytes = 1u << 20;
    const char *err = NULL;

    /* A fresh mapping: touching pages faults them in, so it is released the first way. */
    hw_machine *m = hw_create(&cfg, &err);
    assert_non_null(m);
    uint8_t *base = hw_mem_ptr(m, 0, 1);
    hw_paddr a = hw_mem_alloc(m, 10 * HW_PAGE_SIZE, 7);
    hw_paddr b = hw_mem_alloc(m, HW_PAGE_SIZE, 8);
    assert_true(a && b);
    memset(hw_mem_ptr(m, a, 10 * HW_PAGE_SIZE), 0x5a, 10 * HW_PAGE_SIZE);
    assert_int_equal(hw_mem_free(m, a, HW_PAGE_SIZE), 0);
    base[b + 100] = 1;
    base[cfg.mem_bytes - 1] = 0xff; /* stray writes far above the mark */
    base[cfg.mem_bytes / 2] = 0xff;
    hw_destroy(m);

    /* The same mapping again (pages 0-11 resident), one page allocated; a stray write above the
     * mark on a resident page: no fault, so it is released the second way. */
    uint64_t before = faults_observe();
    m = hw_create(&cfg, &err);
    assert_non_null(m);
    assert_ptr_equal(hw_mem_ptr(m, 0, 1), base);                      /* the pool was used */
    assert_int_equal(hw_mem_alloc(m, HW_PAGE_SIZE, 9), HW_PAGE_SIZE); /* first fit from 1 */
    assert_int_equal(hw_mem_owner(m, a + HW_PAGE_SIZE), HW_OWNER_FREE);
    assert_int_equal(hw_mem_generation(m, a + HW_PAGE_SIZE), 0);
    base[8 * HW_PAGE_SIZE + 3] = 0x77;
    hw_destroy(m);
    bool second_way = faults_latest() == before; /* as expected unless something else faulted */

    /* Again: a stray write on a page that is not resident (fault), and one on a page that is. */
    m = hw_create(&cfg, &err);
    assert_non_null(m);
    assert_int_equal(base[8 * HW_PAGE_SIZE + 3], 0);
    base[8 * HW_PAGE_SIZE + 5] = 0x78;
    base[200 * HW_PAGE_SIZE] = 0x66;
    hw_destroy(m);

    m = hw_create(&cfg, &err);
    assert_non_null(m);
    assert_fresh(m, cfg.mem_bytes);
    hw_destroy(m);
    if (!second_way)
        print_message("note: a page fault elsewhere made the no-fault release path untested\n");
}

/* ---- whole executions ---- */

struct rng {
    uint64_t s;
};

static unsigned random_decide(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                              const unsigned *ids)
{
    (void)kind, (void)dflt, (void)ids;
    struct rng *r = ctx;
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (unsigned)((z ^ (z >> 31)) % n);
}

struct run {
    chk_result res;
    char *timeline;
    size_t len;
    chk_trace trace;
};

static void load(const char *name, const char *set, scenario *sc)
{
    char err[512];
    const char *sets[] = {set};
    int rc = sc_load_named(QINVAL_SCENARIO_DIR, name, sets, set ? 1 : 0, sc, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
}

static void run(const char *scenario_name, const char *set, const char *driver, uint64_t seed,
                struct run *r)
{
    static scenario sc;
    load(scenario_name, set, &sc);
    const sim_driver_ops *drv = sim_driver_find(driver);
    assert_non_null(drv);
    memset(r, 0, sizeof(*r));
    FILE *f = open_memstream(&r->timeline, &r->len);
    assert_non_null(f);
    struct rng g = {seed};
    chk_run_once(&sc, drv, random_decide, &g, &r->trace, f, &r->res);
    fclose(f);
}

static void run_free(struct run *r)
{
    free(r->timeline);
    chk_trace_free(&r->trace);
}

static void assert_same(const struct run *a, const struct run *b)
{
    assert_int_equal(a->res.verdict, b->res.verdict);
    assert_string_equal(a->res.why, b->res.why);
    assert_int_equal(a->res.end, b->res.end);
    assert_int_equal(a->res.outcome.stop, b->res.outcome.stop);
    assert_int_equal(a->res.outcome.steps, b->res.outcome.steps);
    assert_int_equal(a->trace.len, b->trace.len);
    assert_memory_equal(a->trace.v, b->trace.v, a->trace.len * sizeof(*a->trace.v));
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->timeline, b->timeline, a->len);
}

/* The reference execution, and the same again after a run that ended in `what`. */
static void check_after(const char *scenario_name, const char *driver, uint64_t seed,
                        enum chk_verdict want, enum sim_stop stop, const char *why)
{
    struct run first, bad, again;
    run("smoke", NULL, "step1-nowait", 42, &first);
    assert_int_equal(first.res.verdict, CHK_PASS);
    assert_true(first.len > 0);

    run(scenario_name, NULL, driver, seed, &bad);
    assert_int_equal(bad.res.verdict, want);
    assert_int_equal(bad.res.outcome.stop, stop);
    assert_non_null(strstr(bad.res.outcome.why, why));

    run("smoke", NULL, "step1-nowait", 42, &again);
    assert_same(&first, &again);
    run_free(&first);
    run_free(&bad);
    run_free(&again);
}

static void test_same_twice(void **state)
{
    (void)state;
    struct run a, b, c;
    run("smoke", NULL, "legacy-odd", 7, &a);
    run("smoke", NULL, "legacy-odd", 7, &b);
    assert_same(&a, &b);
    /* A different world in between (more CPUs, wider descriptors), then the first again. */
    run("smoke", "cpus=3", "eagain-any-ite", 7, &c);
    run_free(&c);
    run("queue-wrap", "desc_width=256", "eagain-any-ite", 7, &c);
    run_free(&c);
    run_free(&b);
    run("smoke", NULL, "legacy-odd", 7, &b);
    assert_same(&a, &b);
    run_free(&a);
    run_free(&b);
}

/* legacy-odd's ITE walk on an even batch never reaches a platform point: the step guard cuts
 * the CPU off in the middle of its coroutine. */
static void test_after_guard_cut_off(void **state)
{
    (void)state;
    check_after("ite-even-batch", "legacy-odd", 1, CHK_HARD_LOCKUP, SIM_STOP_HARD_LOCKUP,
                "never reaches a platform point");
}

/* The watchdog: interrupts off past watchdog_s while polling a dead endpoint. */
static void test_after_watchdog(void **state)
{
    (void)state;
    check_after("link-down-silent", "step1-nowait", 1, CHK_HARD_LOCKUP, SIM_STOP_HARD_LOCKUP,
                "kept interrupts disabled");
}

/* A proved hang: both CPUs wait, nothing is pending (CPUs left suspended mid-driver). */
static void test_after_proved_hang(void **state)
{
    (void)state;
    check_after("ite-race", "eagain-any-ite", 1, CHK_HANG, SIM_STOP_HANG, "nothing is pending");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reused_ram_is_fresh), cmocka_unit_test(test_same_twice),
        cmocka_unit_test(test_after_guard_cut_off), cmocka_unit_test(test_after_watchdog),
        cmocka_unit_test(test_after_proved_hang),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
