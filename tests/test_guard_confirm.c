/*
 * test_guard_confirm.c — a verdict of the step guard stands only when a second run of the same
 * execution is cut at the same step (explore.c, chk__confirmed). A host that stalls the
 * checker's thread inside a short step charges it CPU time all the same; here a driver plays
 * that host: its first submissions in the process burn more CPU time than the guard allows,
 * once each, without reaching a platform point, and from then on it is step1-nowait as is.
 *
 * Expected results come from runs of the same driver with no stall: a replay, a rendered
 * replay and a seeded minimiser run must give exactly them, and a real loop (legacy-odd's walk)
 * keeps its verdict and the step it was cut at even when a stall cut an earlier run elsewhere.
 * Each test fails if every run is taken at its word (the replay paths did that before).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "check/explore.h"
#include "check/minimise.h"
#include "check/scenario.h"
#include "drivers/driver.h"

#define STALL_NS (80ull * 1000 * 1000) /* four times the largest default guard limit (20 ms) */

static unsigned stalls_left; /* submissions still to stall, process-wide */
static sim_driver_ops stalling;
static const sim_driver_ops *inner;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int stalling_submit(void *drv, qi_platform *p, const vtd_desc *d, unsigned n,
                           const struct drv_submit_opts *opts)
{
    if (stalls_left) {
        stalls_left--;
        uint64_t t0 = thread_cpu_ns();
        while (thread_cpu_ns() - t0 < STALL_NS)
            ; /* no platform point: to the guard, a step that does not end */
    }
    return inner->submit(drv, p, d, n, opts);
}

/* `base` with submissions that stall while stalls_left says so. */
static const sim_driver_ops *stalling_driver(const char *base)
{
    inner = sim_driver_find(base);
    assert_non_null(inner);
    stalling = *inner;
    stalling.submit = stalling_submit;
    return &stalling;
}

static scenario *load(const char *name)
{
    scenario *sc = malloc(sizeof(*sc));
    char err[256];
    assert_non_null(sc);
    assert_int_equal(sc_load_named(QINVAL_SCENARIO_DIR, name, NULL, 0, sc, err, sizeof(err)), 0);
    return sc;
}

static void assert_same_result(const chk_result *a, const chk_result *b)
{
    assert_int_equal(a->verdict, b->verdict);
    assert_string_equal(a->why, b->why);
    assert_int_equal(a->outcome.guard, b->outcome.guard);
    assert_int_equal(a->outcome.steps, b->outcome.steps);
    assert_int_equal(a->end, b->end);
}

/* Replay `scenario` with `driver` calm, then with a stall in its first run: both results. */
static void replay_calm_and_stalled(const char *scenario_name, const char *driver, chk_result *calm,
                                    chk_result *res)
{
    scenario *sc = load(scenario_name);
    const sim_driver_ops *drv = stalling_driver(driver);
    stalls_left = 0;
    chk_replay(sc, drv, NULL, 0, NULL, calm);
    stalls_left = 1;
    chk_replay(sc, drv, NULL, 0, NULL, res);
    assert_int_equal(stalls_left, 0);
    free(sc);
}

/* A stall in the first run of a replay: the replay's result is the unstalled one. */
static void test_replay_outlives_a_stall(void **state)
{
    (void)state;
    chk_result calm, res;
    replay_calm_and_stalled("smoke", "step1-nowait", &calm, &res);
    assert_int_equal(calm.verdict, CHK_PASS);
    assert_same_result(&res, &calm);
}

static char *render(const scenario *sc, const sim_driver_ops *drv, chk_result *res)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    chk_replay(sc, drv, NULL, 0, f, res);
    fclose(f);
    return buf;
}

/* A stall in a rendering run: the timeline written is the unstalled run's, once. */
static void test_rendered_replay_outlives_a_stall(void **state)
{
    (void)state;
    scenario *sc = load("smoke");
    const sim_driver_ops *drv = stalling_driver("step1-nowait");
    chk_result calm, res;
    stalls_left = 0;
    char *want = render(sc, drv, &calm);
    /* the confirming run without output takes the first stall, the rendering run the second */
    stalls_left = 2;
    char *got = render(sc, drv, &res);
    assert_int_equal(stalls_left, 0);
    assert_same_result(&res, &calm);
    assert_string_equal(got, want);
    free(want);
    free(got);
    free(sc);
}

/* The minimiser's seeded runs go through the same rule. */
static void test_seeded_run_outlives_a_stall(void **state)
{
    (void)state;
    scenario *sc = load("smoke");
    const sim_driver_ops *drv = stalling_driver("step1-nowait");
    chk_trace t1 = {0}, t2 = {0};
    chk_result calm, res;
    stalls_left = 0;
    chk__run_seeded(sc, drv, CHK_STRAT_RANDOM, 7, 3, 0, &t1, &calm);
    stalls_left = 1;
    chk__run_seeded(sc, drv, CHK_STRAT_RANDOM, 7, 3, 0, &t2, &res);
    assert_int_equal(stalls_left, 0);
    assert_same_result(&res, &calm);
    assert_int_equal(t1.len, t2.len);
    assert_memory_equal(t1.v, t2.v, t1.len * sizeof(*t1.v));
    chk_trace_free(&t1);
    chk_trace_free(&t2);
    free(sc);
}

/* A real loop cut after a stall cut an earlier step of the first run: the loop's verdict and
 * step stand, confirmed by the two runs that agree. */
static void test_real_loop_survives_a_stall_elsewhere(void **state)
{
    (void)state;
    chk_result calm, res;
    replay_calm_and_stalled("ite-even-batch", "legacy-odd", &calm, &res);
    assert_true(calm.outcome.guard);
    assert_true(calm.verdict == CHK_HARD_LOCKUP || calm.verdict == CHK_HANG);
    assert_same_result(&res, &calm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_outlives_a_stall),
        cmocka_unit_test(test_rendered_replay_outlives_a_stall),
        cmocka_unit_test(test_seeded_run_outlives_a_stall),
        cmocka_unit_test(test_real_loop_survives_a_stall_elsewhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
