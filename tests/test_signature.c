/*
 * test_signature.c — a failure's signature (chk_signature: verdict, where the driver is, the
 * hardware event that started it). The reference drivers' known bugs give the words the
 * documentation promises: legacy-odd's ITE walk spins in the function holding the walk, with
 * no platform point, after the ITE; step1-nowait polls with interrupts off in its wait loop
 * for a device-TLB invalidation the silent endpoint never answers. The same execution gives
 * the same signature, a signature holds no CPU number, time or count, a pass has none, and
 * minimisation keeps the signature of the execution it shrinks.
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
#include "check/scenario.h"
#include "drivers/driver.h"

static void load(const char *name, const char *const *sets, unsigned n, scenario *sc)
{
    char err[256];
    if (sc_load_named(QINVAL_SCENARIO_DIR, name, sets, n, sc, err, sizeof(err)))
        fail_msg("%s", err);
}

/* The default execution (no forced decision) of driver on scenario. */
static void run(const char *driver, const char *name, const char *const *sets, unsigned n,
                chk_result *res)
{
    scenario *sc = malloc(sizeof(*sc));
    assert_non_null(sc);
    load(name, sets, n, sc);
    const sim_driver_ops *drv = sim_driver_find(driver);
    assert_non_null(drv);
    chk_replay(sc, drv, NULL, 0, NULL, res);
    free(sc);
}

/* No digit anywhere: no CPU number, time, slot or count. */
static void assert_no_digits(const char *s)
{
    if (strpbrk(s, "0123456789"))
        fail_msg("a digit in \"%s\"", s);
}

static void test_legacy_odd_walk(void **state)
{
    (void)state;
    chk_result res;
    run("legacy-odd", "ite-even-batch", NULL, 0, &res);
    assert_int_equal(res.verdict, CHK_HARD_LOCKUP);
    assert_string_equal(res.where, "spins in abort_every_other_slot (no platform point)");
    assert_string_equal(res.trigger, "ITE");
    char sig[256];
    int n = chk_signature(&res, sig, sizeof(sig));
    assert_string_equal(sig, "hard_lockup: spins in abort_every_other_slot (no platform point), "
                             "after ITE");
    assert_int_equal(n, (int)strlen(sig));
    /* snprintf-like: the length it would have written, cut to fit */
    char small[8];
    assert_int_equal(chk_signature(&res, small, sizeof(small)), n);
    assert_string_equal(small, "hard_lo");
}

static void test_step1_nowait_silent_link(void **state)
{
    (void)state;
    chk_result res;
    run("step1-nowait", "link-down-silent", NULL, 0, &res);
    assert_int_equal(res.verdict, CHK_HARD_LOCKUP);
    size_t len = strlen(res.where);
    const char *tail = " with interrupts off";
    assert_true(!strncmp(res.where, "polls in ", 9));
    assert_true(len > strlen(tail) && !strcmp(res.where + len - strlen(tail), tail));
    assert_null(strstr(res.where, "?"));
    assert_string_equal(res.trigger, "unanswered device-TLB invalidation");
}

/* Another parameter value, the same bug: the same signature. */
static void test_stable_across_parameters(void **state)
{
    (void)state;
    chk_result a, b;
    const char *sets[] = {"batch=4"};
    run("legacy-odd", "ite-even-batch", NULL, 0, &a);
    run("legacy-odd", "ite-even-batch", sets, 1, &b);
    assert_true(chk_same_signature(&a, &b));
    assert_no_digits(a.where);
    assert_no_digits(a.trigger);
}

static void test_same_execution_same_signature(void **state)
{
    (void)state;
    chk_result a, b;
    run("step1-nowait", "link-down-silent", NULL, 0, &a);
    run("step1-nowait", "link-down-silent", NULL, 0, &b);
    assert_string_equal(a.where, b.where);
    assert_string_equal(a.trigger, b.trigger);
    assert_true(chk_same_signature(&a, &b));
    assert_no_digits(a.where);
}

static void test_pass_has_none(void **state)
{
    (void)state;
    chk_result res;
    const char *sets[] = {"batch=3"};
    run("legacy-odd", "ite-even-batch", sets, 1, &res);
    assert_int_equal(res.verdict, CHK_PASS);
    assert_string_equal(res.where, "");
    assert_string_equal(res.trigger, "");
}

/* Minimisation shrinks the scenario and the schedule but keeps the signature found. */
static void test_minimisation_keeps_it(void **state)
{
    (void)state;
    scenario *sc = malloc(sizeof(*sc));
    assert_non_null(sc);
    load("ite-race", NULL, 0, sc);
    const sim_driver_ops *drv = sim_driver_find("eagain-any-ite");
    chk_options o;
    chk_options_default(&o);
    o.minimise = false;
    chk_report found;
    assert_int_equal(chk_explore(sc, drv, &o, &found), 0);
    assert_int_not_equal(found.verdict, CHK_PASS);
    o.minimise = true;
    chk_report rep;
    assert_int_equal(chk_explore(sc, drv, &o, &rep), 0);
    assert_true(chk_same_signature(&rep.result, &found.result));
    assert_true(rep.result.where[0] != '\0');
    /* and replaying the minimised counterexample gives it again */
    chk_result again;
    chk_replay(rep.reduced ? rep.reduced : sc, drv, rep.picks, rep.npicks, NULL, &again);
    assert_true(chk_same_signature(&again, &found.result));
    chk_report_free(&found);
    chk_report_free(&rep);
    free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_odd_walk),
        cmocka_unit_test(test_step1_nowait_silent_link),
        cmocka_unit_test(test_stable_across_parameters),
        cmocka_unit_test(test_same_execution_same_signature),
        cmocka_unit_test(test_pass_has_none),
        cmocka_unit_test(test_minimisation_keeps_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
