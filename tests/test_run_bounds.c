/*
 * test_run_bounds.c — what bounds an execution, and what a bound must never do. Submit records
 * are taken in blocks as the workload submits (src/check/run.c, src/util/blocks.h): thousands of
 * submits of every size across blocks, on several CPUs whose drivers hold pointers into them,
 * judge as before, and a workload of 250 million repeats costs nothing up front. A run cut by
 * its caller's budget (a step budget, a wall-clock deadline, even one already past) is
 * CHK_INCOMPLETE, never the verdict it would have reached, and chk_explore says nothing was
 * judged rather than "pass". A livelock is a long time without progress of the workload, not
 * a long workload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "check/explore.h"
#include "check/scenario.h"
#include "drivers/driver.h"
#include "sim_testutil.h"

static unsigned decide_default(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                               const unsigned *ids)
{
    (void)ctx, (void)kind, (void)n, (void)ids;
    return dflt;
}

/* A scenario from text, in a temporary file; *sc is malloc'd (the caller frees it). */
static scenario *load_text(const char *text, const char *const *sets, unsigned nsets)
{
    char path[] = "/tmp/qinval-bounds-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    scenario *sc = malloc(sizeof(*sc));
    char err[512];
    assert_non_null(sc);
    int rc = sc_load(path, sets, nsets, sc, err, sizeof(err));
    unlink(path);
    if (rc)
        fail_msg("%s", err);
    return sc;
}

static scenario *load_named(const char *name)
{
    scenario *sc = malloc(sizeof(*sc));
    char err[512];
    assert_non_null(sc);
    if (sc_load_named(QINVAL_SCENARIO_DIR, name, NULL, 0, sc, err, sizeof(err)))
        fail_msg("%s", err);
    return sc;
}

static const sim_driver_ops *driver(const char *name)
{
    const sim_driver_ops *d = sim_driver_find(name);
    assert_non_null(d);
    return d;
}

/* ---- records ---- */

/* Records of every size, many blocks' worth (a batch of 64 is 2 KiB; 3000 of them, 6 MiB),
 * twice in a row (the second run refills the blocks the first left). */
static void test_records_across_blocks(void **state)
{
    (void)state;
    scenario *sc = load_text("[endpoint ep0]\nsid = 01:00.0\n[cpu 0]\nrepeat = 1000\n"
                             "op = flush iotlb batch=64\nop = flush devtlb=ep0 batch=3\n"
                             "op = unmap ep=ep0 page=1\nop = flush mixed=ep0 batch=17\n",
                             NULL, 0);
    for (int i = 0; i < 2; i++) {
        chk_result res;
        chk_run_once(sc, driver("qinval"), decide_default, NULL, NULL, NULL, &res);
        if (res.verdict != CHK_PASS)
            fail_msg("%s: %s", chk_verdict_name(res.verdict), res.why);
        assert_int_equal(res.submits, 4000);
        assert_int_equal(res.failed_submits, 0);
    }
    free(sc);
}

/* Four CPUs submitting into one engine, which combines their batches: it holds pointers to
 * other CPUs' descriptors while new records are taken (and new blocks begun). */
static void test_records_stay_put(void **state)
{
    (void)state;
    scenario *sc = load_text("[params]\ncpus = 4\n[endpoint ep0]\nsid = 01:00.0\n[cpu *]\n"
                             "repeat = 400\nop = flush devtlb=ep0 batch=40\nop = flush iotlb\n",
                             NULL, 0);
    chk_options o;
    chk_options_default(&o);
    o.executions = 4;
    chk_report rep;
    assert_int_equal(chk_explore(sc, driver("qinval"), &o, &rep), 0);
    if (rep.verdict != CHK_PASS)
        fail_msg("%s: %s", chk_verdict_name(rep.verdict), rep.result.why);
    assert_int_equal(rep.executions, 4);
    assert_int_equal(rep.result.submits, 3200);
    chk_report_free(&rep);
    free(sc);
}

/* The largest workload loads and runs a step budget's worth without asking for memory for all
 * of it first (it asked for 250 million records up front). */
static void test_huge_workload_costs_what_runs(void **state)
{
    (void)state;
    scenario *sc = load_text("[cpu 0]\nrepeat = 250000000\nop = flush iotlb batch=64\n"
                             "op = flush iotlb\n",
                             NULL, 0);
    chk__set_step_budget(20000);
    chk_result res;
    chk_run_once(sc, driver("step1-nowait"), decide_default, NULL, NULL, NULL, &res);
    chk__set_step_budget(0);
    assert_int_equal(res.verdict, CHK_INCOMPLETE);
    assert_int_equal(res.outcome.stop, SIM_STOP_CUT);
    assert_non_null(strstr(res.why, "budget of 20000 steps"));
    free(sc);
}

/* ---- cut runs ---- */

/* legacy-odd on ite-even-batch ends in a hard lockup. Cut before by a step budget or by a
 * deadline (even one long past), the run is incomplete: neither the lockup nor a pass. */
static void test_cut_is_not_a_verdict(void **state)
{
    (void)state;
    scenario *sc = load_named("ite-even-batch");
    const sim_driver_ops *drv = driver("legacy-odd");
    chk_result res;
    chk_run_once(sc, drv, decide_default, NULL, NULL, NULL, &res);
    assert_int_equal(res.verdict, CHK_HARD_LOCKUP);
    uint64_t steps = res.outcome.steps;

    chk__set_step_budget(steps / 2);
    chk_run_once(sc, drv, decide_default, NULL, NULL, NULL, &res);
    chk__set_step_budget(0);
    assert_int_equal(res.verdict, CHK_INCOMPLETE);
    assert_int_equal(res.submits, 0);

    chk_set_deadline(1e-9); /* CLOCK_MONOTONIC passed that long ago */
    assert_true(chk_deadline_passed());
    FILE *tl = tmpfile();
    assert_non_null(tl);
    chk_run_once(sc, drv, decide_default, NULL, NULL, tl, &res);
    chk_set_deadline(0);
    assert_false(chk_deadline_passed());
    assert_int_equal(res.verdict, CHK_INCOMPLETE);
    assert_non_null(strstr(res.why, "time budget ran out"));
    assert_int_equal(ftell(tl), 0); /* no timeline of part of a run */
    fclose(tl);

    chk_run_once(sc, drv, decide_default, NULL, NULL, NULL, &res);
    assert_int_equal(res.verdict, CHK_HARD_LOCKUP);
    free(sc);
}

/* chk_explore with a time budget too short for one execution: nothing was judged (not a pass,
 * not the lockup, no execution counted); long enough for some: a pass of those. The caller's
 * own deadline is there again afterwards. */
static void test_explore_time_budget(void **state)
{
    (void)state;
    scenario *big = load_text("[endpoint ep0]\nsid = 01:00.0\n[fault]\nep = ep0\nkind = drop\n"
                              "arg = 1\nat_s = 30\n[cpu 0]\nrepeat = 250000000\n"
                              "op = flush devtlb=ep0 batch=2\n",
                              NULL, 0);
    chk_options o;
    chk_options_default(&o);
    o.seconds = 0.05;
    chk_report rep;
    double t0 = chk_now();
    assert_int_equal(chk_explore(big, driver("legacy-odd"), &o, &rep), 0);
    assert_true(chk_now() - t0 < 5.0);
    assert_int_equal(rep.verdict, CHK_INCOMPLETE);
    assert_true(rep.cut);
    assert_int_equal(rep.executions, 0);
    assert_int_equal(rep.npicks, 0);
    chk_report_free(&rep);
    assert_true(chk_deadline() == 0);

    scenario *smoke = load_named("smoke");
    o.seconds = 0.2;
    o.executions = 100000000;
    chk_set_deadline(chk_now() + 3600);
    assert_int_equal(chk_explore(smoke, driver("step1-nowait"), &o, &rep), 0);
    assert_int_equal(rep.verdict, CHK_PASS);
    assert_true(rep.executions > 0);
    assert_true(rep.seconds < 2.0);
    chk_report_free(&rep);
    assert_true(chk_deadline() > chk_now() + 3000);
    chk_set_deadline(0);
    free(big);
    free(smoke);
}

/* ---- livelock ---- */

struct busy {
    unsigned steps, every; /* points to take; sim_progress after every `every` (0: never) */
};

static void busy_body(sim_world *w, unsigned cpu, void *arg)
{
    const struct busy *b = arg;
    qi_platform *p = sim_platform(w, cpu);
    for (unsigned i = 1; i <= b->steps; i++) {
        sim_touch(p);
        if (b->every && i % b->every == 0)
            sim_progress(p);
    }
}

static sim_outcome run_busy(const struct busy *b)
{
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.max_steps = 1000;
    return sim_test_run1(&cfg, busy_body, (void *)b);
}

/* 5000 steps with progress every 500 are no livelock under a bound of 1000 steps; with
 * progress every 1500, or none, they are. */
static void test_livelock_is_no_progress(void **state)
{
    (void)state;
    sim_outcome out = run_busy(&(struct busy){.steps = 5000, .every = 500});
    if (out.stop != SIM_STOP_DONE)
        fail_msg("%s: %s", sim_stop_name(out.stop), out.why);
    out = run_busy(&(struct busy){.steps = 5000, .every = 1500});
    assert_int_equal(out.stop, SIM_STOP_TIMEOUT);
    assert_non_null(strstr(out.why, "1000 scheduling steps without progress"));
    out = run_busy(&(struct busy){.steps = 5000});
    assert_int_equal(out.stop, SIM_STOP_TIMEOUT);
    assert_true(out.steps <= 1001);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_across_blocks),
        cmocka_unit_test(test_records_stay_put),
        cmocka_unit_test(test_huge_workload_costs_what_runs),
        cmocka_unit_test(test_cut_is_not_a_verdict),
        cmocka_unit_test(test_explore_time_budget),
        cmocka_unit_test(test_livelock_is_no_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
