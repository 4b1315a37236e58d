/*
 * test_sweep.c — `qinval sweep` finds every distinct failure by itself. A tiny driver (the
 * engine with two planted bugs) is swept over a scenario of its own:
 *   - bug P needs a knob: with 256-bit descriptors (this scenario's default) every submit
 *     polls forever without looking at the hardware (a hang);
 *   - bug Q is masked in the default cell by P: every CPU's second call fails at once without
 *     submitting (a false failure). With 256-bit descriptors P hangs every CPU before Q can
 *     show, so only other points of the space reveal it.
 * Both must come out as distinct failures with the region each lives in; the engine alone (a
 * correct driver) must have none; the same sweep twice must give the same report byte for
 * byte; shards must find together what one process finds; and the pieces (the covering array,
 * the region description) are checked on their own.
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

#include "check/cover.h"
#include "check/region.h"
#include "check/sweep.h"
#include "cli/sweep_out.h"
#include "sim/sim.h"

/* ---- the planted driver ---- */

struct planted {
    void *engine;
    bool dw256;
    unsigned calls[SIM_MAX_CPUS];
};

static void *planted_init(qi_platform *p, const struct drv_params *params)
{
    struct planted *d = sim_dma_alloc(p, sizeof(*d)); /* zeroed, freed with the world */
    if (!d)
        return NULL;
    d->engine = engine_ops.init(p, params);
    d->dw256 = params->dw256;
    return d->engine ? d : NULL;
}

static int planted_submit(void *drv, qi_platform *p, const vtd_desc *descs, unsigned n,
                          const struct drv_submit_opts *opts)
{
    struct planted *d = drv;
    unsigned cpu = sim_platform_cpu(p);
    if (d->dw256) /* bug P */
        for (;;)
            qi_plat_relax(p, 0);
    if (++d->calls[cpu] >= 2) /* bug Q */
        return DRV_EIO;
    return engine_ops.submit(d->engine, p, descs, n, opts);
}

static unsigned planted_free(void *drv)
{
    return engine_ops.free_slots(((struct planted *)drv)->engine);
}

static unsigned planted_capacity(void *drv)
{
    return engine_ops.capacity(((struct planted *)drv)->engine);
}

static const sim_driver_ops planted_ops = {.name = "planted",
                                           .summary = "the engine with two planted bugs",
                                           .init = planted_init,
                                           .submit = planted_submit,
                                           .free_slots = planted_free,
                                           .capacity = planted_capacity};

/* ---- the scenario ---- */

static const char text[] = "name = planted\n"
                           "[params]\ncpus = 2\ndesc_width = 256\nrounds = 2\n"
                           "[cpu *]\nrepeat = $rounds\nop = flush iotlb batch=2\n"
                           "[sweep]\nrounds = 1 2 3\ndesc_width = 128 256\n"
                           "itesid = 1\nstrict_reserved = 1\nite_discard = 0\nfetch_window = 8\n";

static char path[64];

static int load(void *ctx, const char *name, const char *const *sets, unsigned n, scenario *out,
                char *err, size_t errlen)
{
    (void)ctx, (void)name;
    return sc_load(path, sets, n, out, err, errlen);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/qinval-sweep-%d.scn", (int)getpid());
    FILE *f = fopen(path, "w");
    return !f || fputs(text, f) < 0 || fclose(f) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    return unlink(path);
}

static void sweep(const sim_driver_ops *drv, unsigned shard_i, unsigned shard_n, chk_sweep *s)
{
    chk_sweep_options o;
    chk_sweep_options_default(&o);
    o.executions = 400;
    o.random_points = 2;
    o.shard_i = shard_i, o.shard_n = shard_n;
    o.load = load;
    const char *name = path;
    char err[512];
    assert_int_equal(chk_sweep_run(&name, 1, drv, &o, s, err, sizeof(err)), 0);
}

/* The report as JSON, without its one wall-clock figure. */
static char *report(chk_sweep *s)
{
    char *buf = NULL;
    size_t len;
    FILE *m = open_memstream(&buf, &len);
    struct sw_identity id = {.driver = "planted", .seed = 1, .executions = 400, .random_points = 2};
    s->seconds = 0;
    sw_write_json(m, &id, s);
    fclose(m);
    return buf;
}

static const struct chk_sw_failure *find(const chk_sweep *s, const char *oracle)
{
    for (unsigned i = 0; i < s->nfail; i++)
        if (!strcmp(s->fail[i].oracle, oracle))
            return &s->fail[i];
    return NULL;
}

static void planted_bugs_found_apart(void **state)
{
    (void)state;
    chk_sweep s;
    sweep(&planted_ops, 0, 1, &s);
    assert_int_equal(s.nfail, 2);
    const struct chk_sw_failure *p = find(&s, "hang"), *q = find(&s, "false_failure");
    assert_non_null(p);
    assert_non_null(q);
    /* P is where the default cell is; Q only where P is not */
    assert_int_equal(p->point, 0);
    assert_string_equal(p->seen[0].region, "desc_width=256");
    assert_string_equal(q->seen[0].region, "rounds>=2, desc_width=128");
    assert_non_null(strstr(p->where, "planted_submit"));
    assert_non_null(strstr(q->where, "-5"));
    /* minimised: one CPU is enough for P, and Q's counterexample replays Q */
    assert_true(p->minimised && q->minimised);
    chk_sweep_free(&s);
}

static void correct_driver_has_none(void **state)
{
    (void)state;
    chk_sweep s;
    sweep(&engine_ops, 0, 1, &s);
    assert_int_equal(s.nfail, 0);
    assert_true(s.npoints >= 6); /* 2 x 3 covered, whatever the random points add */
    assert_true(s.executions >= s.npoints);
    chk_sweep_free(&s);
}

static void same_inputs_same_report(void **state)
{
    (void)state;
    chk_sweep a, b;
    sweep(&planted_ops, 0, 1, &a);
    sweep(&planted_ops, 0, 1, &b);
    char *ra = report(&a), *rb = report(&b);
    assert_string_equal(ra, rb);
    free(ra);
    free(rb);
    chk_sweep_free(&a);
    chk_sweep_free(&b);
}

/* Shards run disjoint points whose union is the plan; each finds at its points what the one
 * process finds there. */
static void shards_split_points(void **state)
{
    (void)state;
    chk_sweep one, sh[3];
    sweep(&planted_ops, 0, 1, &one);
    size_t points = 0;
    uint64_t executions = 0;
    for (unsigned i = 0; i < 3; i++) {
        sweep(&planted_ops, i, 3, &sh[i]);
        points += sh[i].npoints;
        executions += sh[i].executions;
        for (size_t k = 0; k < sh[i].npoints; k++)
            assert_int_equal(sh[i].points[k].index % 3, i);
    }
    assert_int_equal(points, one.npoints);
    assert_int_equal(executions, one.executions);
    for (unsigned i = 0; i < 3; i++)
        chk_sweep_free(&sh[i]);
    chk_sweep_free(&one);
}

/* ---- the pieces ---- */

static void cover_is_pairwise(void **state)
{
    (void)state;
    unsigned levels[] = {3, 2, 4, 2, 2}, *rows;
    size_t n = chk_cover_pairs(levels, 5, &rows);
    assert_true(n >= 12 && n <= 16); /* at least 3 x 4 rows; near that */
    for (unsigned f = 0; f < 5; f++)
        for (unsigned g = f + 1; g < 5; g++)
            for (unsigned a = 0; a < levels[f]; a++)
                for (unsigned b = 0; b < levels[g]; b++) {
                    bool seen = false;
                    for (size_t r = 0; r < n && !seen; r++)
                        seen = rows[r * 5 + f] == a && rows[r * 5 + g] == b;
                    assert_true(seen);
                }
    free(rows);
    assert_int_equal(chk_cover_pairs(levels, 0, &rows), 0);
    unsigned zero[] = {2, 0};
    assert_int_equal(chk_cover_pairs(zero, 2, &rows), 0);
    assert_null(rows);
}

static void region_is_simplest(void **state)
{
    (void)state;
    const char *keys[] = {"head_policy", "batch"};
    const char *values[] = {"fetch", "1", "complete", "1", "fetch", "2", "complete", "2",
                            "fetch", "3", "complete", "3", "fetch", "4", "complete", "4"};
    bool even[] = {false, false, true, true, false, false, true, true};
    bool high[] = {false, false, false, false, true, true, true, true};
    bool all[] = {true, true, true, true, true, true, true, true};
    bool one[] = {false, false, false, true, false, false, false, false};
    char buf[256];
    struct chk_region_in r = {2, keys, 8, values, even};
    chk_region_describe(&r, buf, sizeof(buf));
    assert_string_equal(buf, "batch=2|4");
    r.in = high;
    chk_region_describe(&r, buf, sizeof(buf));
    assert_string_equal(buf, "batch>=3");
    r.in = all;
    chk_region_describe(&r, buf, sizeof(buf));
    assert_string_equal(buf, "every point run");
    r.in = one;
    chk_region_describe(&r, buf, sizeof(buf));
    assert_string_equal(buf, "head_policy=complete, batch=2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cover_is_pairwise),
        cmocka_unit_test(region_is_simplest),
        cmocka_unit_test_setup_teardown(planted_bugs_found_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(correct_driver_has_none, setup, teardown),
        cmocka_unit_test_setup_teardown(same_inputs_same_report, setup, teardown),
        cmocka_unit_test_setup_teardown(shards_split_points, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
