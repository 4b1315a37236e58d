/*
 * test_cpu_events.c — the CPU-side event log is optional (sim_config.cpu_events): a world that
 * records none runs exactly as one that does (same outcome, steps, hardware log, driver
 * results) and logs nothing; and the checker, which records only for runs with a reader (a
 * timeline, an observer), still shows CPU events wherever a run is rendered: the timeline of
 * a counterexample an exploration found, with and without minimisation, in text and JSON, and
 * an observed replay.
 */
#include "engine_testutil.h"

#include "check/explore.h"
#include "cli/ce_file.h"
#include "cli/json.h"

/* ---- a world with and without the log ---- */

static unsigned rotate(void *ctx, const sim_world *w, const unsigned *c, unsigned n, uint64_t step)
{
    (void)ctx, (void)w, (void)c;
    return (unsigned)(step % n);
}

/* CPU 0: a note, a marked call of a device-TLB batch whose first request is dropped (a time
 * jump to the ITE, its fault interrupt), then a sleep. */
static void noisy_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    qi_platform *p = sim_platform(w, cpu);
    vtd_desc d[2] = {et_iotlb(0), et_devtlb(0)};
    sim_note(p, "test: a note", 1, 2);
    sim_mark_call(p, true, 2);
    struct et_call *c = et_submit(t, p, d, 2, 0);
    sim_mark_call(p, false, c->r.status == QI_OK ? 0 : -5);
    sim_cpu_sleep(p, HW_MS);
}

/* CPU 1: a batch with a malformed descriptor the hardware rejects (IQE). */
static void bad_body(sim_world *w, unsigned cpu, void *arg)
{
    et *t = arg;
    vtd_desc d[2] = {et_iotlb(1), et_iotlb(1)};
    d[1].qw[0] |= VTD_BIT(8);
    et_submit(t, sim_platform(w, cpu), d, 2, 0);
}

static void run_noisy(et *t, bool cpu_events)
{
    et_make(
        t,
        &(et_cfg){.cpus = 2, .neps = 2, .ops = &engine_trusting_ops, .no_cpu_events = !cpu_events});
    hw_ep_inject(t->hw, 0, hw_now(t->hw), HW_FAULT_DROP, 1);
    sim_set_chooser(t->w, rotate, NULL);
    et_body(t, 0, noisy_body);
    et_body(t, 1, bad_body);
    et_run(t);
}

static void assert_same_outcome(const sim_outcome *a, const sim_outcome *b)
{
    assert_int_equal(a->stop, b->stop);
    assert_int_equal(a->cpu, b->cpu);
    assert_int_equal(a->t, b->t);
    assert_int_equal(a->steps, b->steps);
    assert_int_equal(a->jumps, b->jumps);
    assert_int_equal(a->rounds, b->rounds);
    assert_string_equal(a->why, b->why);
}

static void assert_same_hw_log(const et *a, const et *b)
{
    size_t na, nb;
    const hw_event *ea = hw_events(a->hw, &na), *eb = hw_events(b->hw, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(ea, eb, na * sizeof(*ea));
}

static void assert_same_calls(const et *a, const et *b)
{
    assert_int_equal(a->ncalls, b->ncalls);
    for (unsigned i = 0; i < a->ncalls; i++) {
        assert_int_equal(a->calls[i].t0, b->calls[i].t0);
        assert_int_equal(a->calls[i].t1, b->calls[i].t1);
        assert_int_equal(a->calls[i].r.status, b->calls[i].r.status);
    }
}

/* A bit per kind of CPU event the world logged. */
static unsigned kinds_logged(const sim_world *w)
{
    size_t n;
    const sim_event *ev = sim_events(w, &n);
    unsigned kinds = 0;
    for (size_t i = 0; i < n; i++)
        kinds |= 1u << ev[i].kind;
    return kinds;
}

static void test_world_without_events_runs_the_same(void **state)
{
    (void)state;
    static et on, off, again; /* large: not on the test's stack */
    run_noisy(&on, true);
    run_noisy(&off, false);
    run_noisy(&again, true); /* after a world that logged nothing, on a reused spare log */
    unsigned want = 1u << SIM_EV_NOTE | 1u << SIM_EV_LOCK | 1u << SIM_EV_UNLOCK |
                    1u << SIM_EV_IRQ_OFF | 1u << SIM_EV_IRQ_ON | 1u << SIM_EV_IRQ_ENTRY |
                    1u << SIM_EV_JUMP | 1u << SIM_EV_CALL | 1u << SIM_EV_RETURN;
    assert_int_equal(kinds_logged(on.w) & want, want);
    size_t n;
    assert_non_null(sim_events(on.w, &n));
    assert_true(n > 0);
    sim_events(off.w, &n);
    assert_int_equal(n, 0);
    assert_same_outcome(&on.out, &off.out);
    assert_same_hw_log(&on, &off);
    assert_same_calls(&on, &off);
    size_t n2;
    const sim_event *e1 = sim_events(on.w, &n), *e2 = sim_events(again.w, &n2);
    assert_int_equal(n, n2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(e1[i].hwpos, e2[i].hwpos);
        assert_int_equal(e1[i].kind, e2[i].kind);
        if (e1[i].kind == SIM_EV_NOTE)
            assert_string_equal(e1[i].text, e2[i].text);
    }
    et_done(&on);
    et_done(&off);
    et_done(&again);
}

/* ---- the checker: what is rendered still has CPU events ---- */

/* Explore `driver` on the catalog scenario `name` with the default options (minimisation as
 * asked) into *rep, which must find a violation; returns the scenario (caller frees). */
static scenario *explore(const char *driver, const char *name, bool minimise,
                         const sim_driver_ops **drv, chk_options *o, chk_report *rep)
{
    scenario *sc = malloc(sizeof(*sc));
    assert_non_null(sc);
    assert_int_equal(cli_load(driver, name, NULL, 0, CLI_SETS_ARGS, sc, drv), 0);
    chk_options_default(o);
    o->minimise = minimise;
    assert_int_equal(chk_explore(sc, *drv, o, rep), 0);
    assert_int_not_equal(rep->verdict, CHK_PASS);
    return sc;
}

/* The lines a timeline of legacy-odd's bug on ite-even-batch has from its CPU. */
static void assert_cpu_lines(const char *text)
{
    assert_non_null(strstr(text, "submit: 2 descriptors"));
    assert_non_null(strstr(text, "interrupts off"));
    assert_non_null(strstr(text, "lock taken, irqs off"));
    assert_non_null(strstr(text, "lock released"));
    assert_non_null(strstr(text, "ref: batch queued (first slot, wait slot)"));
    assert_non_null(strstr(text, "time jumps"));
}

/* Explore legacy-odd on ite-even-batch and print the counterexample, as qinval check does. */
static char *counterexample_text(bool minimise, bool json)
{
    const sim_driver_ops *drv;
    chk_options o;
    chk_report rep;
    scenario *sc = explore("legacy-odd", "ite-even-batch", minimise, &drv, &o, &rep);
    assert_int_equal(rep.verdict, CHK_HARD_LOCKUP);
    const char *sets[CE_MAX_SETS];
    unsigned nsets = 0;
    for (unsigned i = 0; i < rep.nreductions && nsets < CE_MAX_SETS; i++)
        sets[nsets++] = rep.reductions[i];
    struct ce_file ce = {.driver = "legacy-odd",
                         .scenario = "ite-even-batch",
                         .sets = sets,
                         .nsets = nsets,
                         .strategy = chk_strategy_name(o.strategy),
                         .seed = o.seed,
                         .picks = rep.picks,
                         .npicks = rep.npicks,
                         .verdict = chk_verdict_name(rep.verdict)};
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    if (json)
        cli_print_json(&ce, &rep, &o, m);
    else
        cli_print_counterexample(&ce, rep.reduced ? rep.reduced : sc, drv, &rep, m);
    assert_int_equal(fclose(m), 0);
    chk_report_free(&rep);
    free(sc);
    return buf;
}

static void test_counterexample_timeline_has_cpu_events(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) { /* unminimised text, minimised text, JSON */
        char *text = counterexample_text(k == 1, k == 2);
        assert_cpu_lines(text);
        free(text);
    }
}

struct seen {
    size_t events;
    unsigned kinds;
};

static void observe(void *ctx, const sim_world *w, const chk_result *res)
{
    struct seen *s = ctx;
    (void)res;
    sim_events(w, &s->events);
    s->kinds = kinds_logged(w);
}

/* A replay without a reader (as minimisation runs them) and an observed one of the same
 * counterexample: the same result, and the observer sees the CPU events. */
static void test_observed_replay_has_cpu_events(void **state)
{
    (void)state;
    const sim_driver_ops *drv;
    chk_options o;
    chk_report rep;
    scenario *sc = explore("eagain-any-ite", "ite-race", false, &drv, &o, &rep);
    chk_result quiet, seen_res;
    chk_replay(sc, drv, rep.picks, rep.npicks, NULL, &quiet);
    struct seen s = {0};
    chk_observer obs = {.fn = observe, .ctx = &s};
    chk_replay_observed(sc, drv, rep.picks, rep.npicks, NULL, &obs, &seen_res);
    assert_int_equal(quiet.verdict, rep.verdict);
    assert_int_equal(seen_res.verdict, quiet.verdict);
    assert_string_equal(seen_res.why, quiet.why);
    assert_same_outcome(&seen_res.outcome, &quiet.outcome);
    assert_int_equal(seen_res.end, quiet.end);
    assert_true(s.events > 0);
    unsigned want = 1u << SIM_EV_LOCK | 1u << SIM_EV_IRQ_OFF | 1u << SIM_EV_CALL;
    assert_int_equal(s.kinds & want, want);
    chk_report_free(&rep);
    free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_world_without_events_runs_the_same),
        cmocka_unit_test(test_counterexample_timeline_has_cpu_events),
        cmocka_unit_test(test_observed_replay_has_cpu_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
