/*
 * sim_testutil.h — one simulated CPU running a test's body on a small machine with no
 * endpoint, to its end: for the unit tests of the simulation's bounds (tests/test_time_wrap.c,
 * tests/test_run_bounds.c).
 */
#ifndef QINVAL_TESTS_SIM_TESTUTIL_H
#define QINVAL_TESTS_SIM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim/sim.h"

/* Run `fn(arg)` on CPU 0 of a world configured by cfg (ncpus 1), on a 1 MiB machine. */
static inline sim_outcome sim_test_run1(const sim_config *cfg, sim_cpu_fn fn, void *arg)
{
    hw_config hc;
    hw_config_default(&hc);
    hc.mem_bytes = 1u << 20;
    hw_machine *hw = hw_create(&hc, NULL);
    assert_non_null(hw);
    sim_world *w = sim_create(cfg, hw, NULL);
    assert_non_null(w);
    sim_set_cpu(w, 0, fn, arg);
    sim_outcome out;
    sim_run(w, &out);
    sim_destroy(w);
    hw_destroy(hw);
    return out;
}

#endif /* QINVAL_TESTS_SIM_TESTUTIL_H */
