/*
 * test_explore_dfs.c — the dfs strategy: it covers its bounded space and says so, the
 * partial-order reduction branches at fewer decisions without losing a seed bug, and shards
 * split the tree exactly (their executions add up to the unsharded run's, each covers its
 * part completely, and a bug on the all-defaults path is reported by shard 0 alone). Runs
 * whose decision source ignores the kinds (random, PCT) skip computing them and decide the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/explore.h"
#include "check/run.h"
#include "check/scenario.h"
#include "drivers/driver.h"

static scenario *load(const char *name)
{
    scenario *sc = malloc(sizeof(*sc));
    char err[256];
    assert_non_null(sc);
    if (sc_load_named(QINVAL_SCENARIO_DIR, name, NULL, 0, sc, err, sizeof(err)))
        fail_msg("%s", err);
    return sc;
}

static chk_report run_dfs(const char *drv, const scenario *sc, unsigned bound, bool reduce,
                          unsigned shard_i, unsigned shard_n)
{
    chk_options o;
    chk_options_default(&o);
    o.strategy = CHK_STRAT_DFS;
    o.dfs_bound = bound;
    o.reduce_local = reduce;
    o.shard_i = shard_i;
    o.shard_n = shard_n;
    chk_report rep;
    assert_int_equal(chk_explore(sc, sim_driver_find(drv), &o, &rep), 0);
    return rep;
}

static void test_reduction_branches_less_and_completes(void **state)
{
    (void)state;
    scenario *sc = load("smoke");
    chk_report full = run_dfs("step1-nowait", sc, 1, false, 0, 1);
    chk_report red = run_dfs("step1-nowait", sc, 1, true, 0, 1);
    assert_int_equal(full.verdict, CHK_PASS);
    assert_int_equal(red.verdict, CHK_PASS);
    assert_true(full.complete && red.complete);
    assert_true(red.executions < full.executions);
    assert_true(red.executions > 1);
    assert_true(red.coverage == 1.0);
    chk_report_free(&full);
    chk_report_free(&red);
    free(sc);
}

/* The default schedule keeps the CPU that ran the last step. When it kept the CPU last *chosen*
 * instead, a CPU that had run alone (the other not due yet) was preempted as soon as the other
 * was due again, so two CPUs polling side by side took turns one step per microsecond: the
 * engine's all-defaults run of ite-race made 2,077 decisions (1,411 of them branch points) and
 * its bound-2 dfs 1.2 million executions. Now: under 900 decisions, under 400 branch points. */
struct counts {
    unsigned all, branch;
};

static unsigned count_default(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                              const unsigned *ids)
{
    struct counts *c = ctx;
    (void)n, (void)ids;
    c->all++;
    c->branch += kind == CHK_DECIDE_SCHED;
    return dflt;
}

static void test_default_keeps_the_last_cpu(void **state)
{
    (void)state;
    scenario *sc = load("ite-race");
    struct counts c = {0};
    chk_result res;
    chk_run_once(sc, sim_driver_find("qinval"), count_default, &c, NULL, NULL, &res);
    assert_int_equal(res.verdict, CHK_PASS);
    assert_true(c.all > 40); /* 79 since a valid jump round offers only the CPUs it waits for */
    assert_true(c.all < 900);
    assert_true(c.branch < 400);
    free(sc);
}

/* A decision source that chooses pseudo-randomly (from its own generator, as random does) and
 * counts the scheduling decisions it was told were local. */
struct mixed {
    uint64_t s;
    unsigned local;
};

static unsigned mixed_decide(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                             const unsigned *ids)
{
    struct mixed *m = ctx;
    (void)dflt, (void)ids;
    m->local += kind == CHK_DECIDE_SCHED_LOCAL;
    m->s = m->s * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(m->s >> 33) % n;
}

/* chk__run_once_plain (random and PCT runs) skips looking whether the default CPU's next step
 * is local: its source is told CHK_DECIDE_SCHED at every scheduling decision, and otherwise
 * the run is the one chk_run_once gives, decision for decision. */
static void test_plain_run_decides_the_same(void **state)
{
    (void)state;
    scenario *sc = load("smoke");
    const char *drivers[] = {"qinval", "step1-nowait"};
    for (unsigned d = 0; d < 2; d++)
        for (uint64_t seed = 1; seed <= 8; seed++) {
            const sim_driver_ops *drv = sim_driver_find(drivers[d]);
            struct mixed a = {.s = seed}, b = {.s = seed};
            chk_trace ta = {0}, tb = {0};
            chk_result ra, rb;
            chk_run_once(sc, drv, mixed_decide, &a, &ta, NULL, &ra);
            chk__run_once_plain(sc, drv, mixed_decide, &b, &tb, &rb);
            assert_true(a.local > 0); /* the kinds differ in these runs: the test means something */
            assert_int_equal(b.local, 0);
            assert_int_equal(ra.verdict, rb.verdict);
            assert_int_equal(ra.outcome.steps, rb.outcome.steps);
            assert_int_equal(ra.end, rb.end);
            assert_int_equal(ta.len, tb.len);
            assert_memory_equal(ta.v, tb.v, ta.len * sizeof(*ta.v));
            assert_memory_equal(ta.n, tb.n, ta.len * sizeof(*ta.n));
            assert_memory_equal(ta.dflt, tb.dflt, ta.len * sizeof(*ta.dflt));
            chk_trace_free(&ta);
            chk_trace_free(&tb);
        }
    free(sc);
}

static void test_shards_split_the_tree(void **state)
{
    (void)state;
    scenario *sc = load("smoke");
    chk_report whole = run_dfs("legacy-odd", sc, 1, true, 0, 1);
    uint64_t sum = 0;
    for (unsigned i = 0; i < 3; i++) {
        chk_report part = run_dfs("legacy-odd", sc, 1, true, i, 3);
        assert_int_equal(part.verdict, CHK_PASS);
        assert_true(part.complete);
        assert_true(part.executions < whole.executions);
        sum += part.executions;
        chk_report_free(&part);
    }
    assert_int_equal(sum, whole.executions);
    chk_report_free(&whole);
    free(sc);
}

static void test_seed_bugs_survive_reduction_and_sharding(void **state)
{
    (void)state;
    scenario *sc = load("ite-race");
    chk_report r = run_dfs("eagain-any-ite", sc, 2, true, 0, 1);
    assert_int_equal(r.verdict, CHK_HANG);
    chk_report_free(&r);
    unsigned found = 0;
    for (unsigned i = 0; i < 2; i++) {
        r = run_dfs("eagain-any-ite", sc, 1, true, i, 2);
        found += r.verdict == CHK_HANG;
        chk_report_free(&r);
    }
    assert_true(found >= 1);
    free(sc);
    sc = load("ite-even-batch");
    r = run_dfs("legacy-odd", sc, 2, true, 0, 1);
    assert_int_equal(r.verdict, CHK_HARD_LOCKUP);
    chk_report_free(&r);
    /* one CPU and no fault range: not a single decision, one execution is the whole tree */
    r = run_dfs("step1-nowait", sc, 2, true, 0, 1);
    assert_int_equal(r.verdict, CHK_PASS);
    assert_true(r.complete);
    assert_int_equal(r.executions, 1);
    chk_report_free(&r);
    free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reduction_branches_less_and_completes),
        cmocka_unit_test(test_shards_split_the_tree),
        cmocka_unit_test(test_default_keeps_the_last_cpu),
        cmocka_unit_test(test_plain_run_decides_the_same),
        cmocka_unit_test(test_seed_bugs_survive_reduction_and_sharding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
