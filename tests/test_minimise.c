/*
 * test_minimise.c — counterexample minimisation shrinks the scenario (fewer CPUs, fewer
 * faults, shorter workloads) and the schedule, keeps the verdict, and records every reduction
 * as a --set key that the scenario loader applies again; the reductions' own parsing and
 * errors (drop_faults, ops_limit) are checked here too.
 *
 * The bug used is legacy-odd's on an even batch (seed 001): one CPU, one device-TLB batch to
 * an endpoint that drops its first request is enough, so everything else in the padded
 * scenario below is noise the minimiser must remove.
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

/* The seed-001 bug padded with noise: a second CPU flushing the IOTLB, a harmless latency
 * fault on another endpoint (index 0, before the one that matters), and four operations on
 * CPU 0 of which only the first two are needed (the IOTLB batch takes slots 0-1, so the
 * device-TLB batch's wait lands on the even slot 4). */
static const char padded[] = "name = padded\n"
                             "[params]\ncpus = 2\n"
                             "[endpoint ep0]\nsid = 01:00.0\nats = 1\n"
                             "[endpoint ep1]\nsid = 02:00.0\nats = 1\n"
                             "[fault]\nep = ep1\nkind = latency\narg = 3\nat_us = 0\n"
                             "[fault]\nep = ep0\nkind = drop\narg = 1\nat_us = 0\n"
                             "[cpu 0]\nop = flush iotlb batch=1\nop = flush devtlb=ep0 batch=2\n"
                             "op = flush iotlb batch=1\nop = flush devtlb=ep1 batch=2\n"
                             "[cpu 1]\nrepeat = 3\nop = flush iotlb batch=1\n";

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/qinval-min-%d.scn", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f || fputs(padded, f) < 0 || fclose(f))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return unlink(path);
}

static void load(const char *const *sets, unsigned n, scenario *sc)
{
    char err[256];
    if (sc_load(path, sets, n, sc, err, sizeof(err)))
        fail_msg("%s", err);
}

static bool has_reduction(const chk_report *r, const char *kv)
{
    for (unsigned i = 0; i < r->nreductions; i++)
        if (!strcmp(r->reductions[i], kv))
            return true;
    return false;
}

/* Explore the padded scenario with legacy-odd; it must find the hard lockup. */
static scenario *explore_padded(bool minimise, chk_report *rep)
{
    scenario *sc = malloc(sizeof(*sc));
    assert_non_null(sc);
    load(NULL, 0, sc);
    chk_options o;
    chk_options_default(&o);
    o.minimise = minimise;
    assert_int_equal(chk_explore(sc, sim_driver_find("legacy-odd"), &o, rep), 0);
    assert_int_equal(rep->verdict, CHK_HARD_LOCKUP);
    return sc;
}

static void test_scenario_shrinks_to_the_bug(void **state)
{
    (void)state;
    chk_report rep;
    scenario *sc = explore_padded(true, &rep);
    const sim_driver_ops *drv = sim_driver_find("legacy-odd");
    assert_int_equal(rep.result.verdict, CHK_HARD_LOCKUP);
    assert_non_null(rep.reduced);
    /* one CPU, the latency fault gone, CPU 0 stopped after its device-TLB batch */
    assert_true(has_reduction(&rep, "cpus=1"));
    assert_true(has_reduction(&rep, "drop_faults=0"));
    assert_true(has_reduction(&rep, "ops_limit=2"));
    assert_int_equal(rep.reduced->cpus, 1);
    assert_int_equal(rep.reduced->nfaults, 1);
    assert_int_equal(rep.reduced->faults[0].kind, HW_FAULT_DROP);
    assert_int_equal(rep.reduced->cpu[0].limit, 2);
    assert_true(rep.minimise_runs > 0);

    /* The reductions are ordinary --set keys: loading them again and replaying the schedule
     * gives the same verdict. */
    const char *sets[CHK_MAX_REDUCTIONS];
    for (unsigned i = 0; i < rep.nreductions; i++)
        sets[i] = rep.reductions[i];
    scenario *again = malloc(sizeof(*again));
    assert_non_null(again);
    load(sets, rep.nreductions, again);
    chk_result res;
    chk_replay(again, drv, rep.picks, rep.npicks, NULL, &res);
    assert_int_equal(res.verdict, CHK_HARD_LOCKUP);
    free(again);
    chk_report_free(&rep);
    free(sc);
}

static void test_no_minimise_keeps_scenario(void **state)
{
    (void)state;
    chk_report rep;
    scenario *sc = explore_padded(false, &rep);
    assert_int_equal(rep.nreductions, 0);
    assert_null(rep.reduced);
    /* The failing run is the counterexample as it stands: no replay is spent on it, and the
     * result the report holds is what replaying its schedule gives. */
    assert_int_equal(rep.minimise_runs, 0);
    chk_result res;
    chk_replay(sc, sim_driver_find("legacy-odd"), rep.picks, rep.npicks, NULL, &res);
    assert_int_equal(res.verdict, rep.result.verdict);
    assert_string_equal(res.why, rep.result.why);
    assert_int_equal(res.outcome.steps, rep.result.outcome.steps);
    assert_int_equal(res.outcome.t, rep.result.outcome.t);
    chk_report_free(&rep);
    free(sc);
}

/* A passing scenario is not touched, and a bug that needs both CPUs keeps both. */
static void test_needed_parts_stay(void **state)
{
    (void)state;
    scenario *sc = malloc(sizeof(*sc));
    char err[256];
    assert_non_null(sc);
    assert_int_equal(sc_load_named(QINVAL_SCENARIO_DIR, "ite-race", NULL, 0, sc, err, sizeof(err)),
                     0);
    chk_options o;
    chk_options_default(&o);
    chk_report rep;
    assert_int_equal(chk_explore(sc, sim_driver_find("eagain-any-ite"), &o, &rep), 0);
    assert_int_equal(rep.verdict, CHK_HANG);
    for (unsigned i = 0; i < rep.nreductions; i++)
        assert_null(strstr(rep.reductions[i], "cpus="));
    const scenario *final = rep.reduced ? rep.reduced : sc;
    assert_int_equal(final->cpus, 2);
    assert_true(final->nfaults >= 1);
    chk_report_free(&rep);
    free(sc);
}

static void test_reduction_keys_parse(void **state)
{
    (void)state;
    scenario sc;
    const char *s1[] = {"drop_faults=1", "ops_limit=*,2"};
    load(s1, 2, &sc);
    assert_int_equal(sc.nfaults, 1);
    assert_int_equal(sc.faults[0].kind, HW_FAULT_LATENCY);
    assert_int_equal(sc.cpu[0].limit, UINT32_MAX);
    assert_int_equal(sc.cpu[1].limit, 2);
    const char *s2[] = {"drop_faults=0,1", "ops_limit=0"};
    load(s2, 2, &sc);
    assert_int_equal(sc.nfaults, 0);
    assert_int_equal(sc.cpu[0].limit, 0);
    load(NULL, 0, &sc);
    assert_int_equal(sc.nfaults, 2);
    assert_int_equal(sc.cpu[0].limit, UINT32_MAX);
}

static void test_reduction_keys_refused(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"drop_faults=2", "not a fault index"},
        {"drop_faults=x", "not a fault index"},
        {"drop_faults=0,,1", "not a fault index"},
        {"ops_limit=1,2,3", "more entries than cpus"},
        {"ops_limit=-1", "not an operation count"},
        {"ops_limit=99999999999", "not an operation count"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        scenario sc;
        char err[256];
        const char *sets[1] = {bad[i][0]};
        assert_int_equal(sc_load(path, sets, 1, &sc, err, sizeof(err)), -1);
        if (!strstr(err, bad[i][1]) || !strstr(err, "--set") || !strstr(err, "_"))
            fail_msg("--set %s: unexpected message: %s", bad[i][0], err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_shrinks_to_the_bug),
        cmocka_unit_test(test_no_minimise_keeps_scenario),
        cmocka_unit_test(test_needed_parts_stay),
        cmocka_unit_test(test_reduction_keys_parse),
        cmocka_unit_test(test_reduction_keys_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
