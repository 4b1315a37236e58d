/*
 * checker.c — benchmark of the checker (bench/README.md): executions per second on `smoke`
 * for each reference driver (with the scenario's default workload and with rounds=3, the
 * default before it was reduced to 1), the real time to the first violation of legacy-odd on
 * ite-even-batch (no minimisation), and, as the in-run baseline the figures are divided by,
 * the cost of an execution whose CPUs do nothing (world set-up and tear-down only).
 *
 * Each rate is the best of `reps` measurements of `executions` executions, after a warm-up
 * that fills the per-thread pools (simulated RAM, stacks, arrays) the way a long run does.
 * Usage: checker [executions] [reps] [--csv FILE]   (defaults 2000 and 3; with --csv the
 * rates also go to FILE, one row per driver; `make plots` draws them)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/explore.h"
#include "util/atomic_file.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(const char *name, scenario *sc, const char *const *sets, unsigned nsets)
{
    char err[512];
    if (sc_load_named(QINVAL_SCENARIO_DIR, name, sets, nsets, sc, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static double rate_once(const scenario *sc, const sim_driver_ops *drv, uint64_t n)
{
    chk_options o;
    chk_options_default(&o);
    o.executions = n;
    o.minimise = false;
    chk_report r;
    double t0 = now_s();
    chk_explore(sc, drv, &o, &r);
    double dt = now_s() - t0;
    if (r.verdict != CHK_PASS)
        fprintf(stderr, "warning: %s found %s\n", drv->name, chk_verdict_name(r.verdict));
    chk_report_free(&r);
    return (double)r.executions / dt;
}

static double rate(const scenario *sc, const sim_driver_ops *drv, uint64_t n, unsigned reps)
{
    double best = 0;
    rate_once(sc, drv, n / 10 + 1); /* warm-up */
    for (unsigned i = 0; i < reps; i++) {
        double r = rate_once(sc, drv, n);
        if (r > best)
            best = r;
    }
    return best;
}

int main(int argc, char **argv)
{
    uint64_t n = 2000;
    unsigned reps = 3, positional = 0;
    const char *csv_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--csv") && i + 1 < argc)
            csv_path = argv[++i];
        else if (argv[i][0] != '-' && positional == 0 && ++positional)
            n = strtoull(argv[i], NULL, 10);
        else if (argv[i][0] != '-' && positional == 1 && ++positional)
            reps = (unsigned)strtoul(argv[i], NULL, 10);
        else
            n = 0;
    }
    if (n == 0 || reps == 0) {
        fprintf(stderr, "usage: checker [executions > 0] [reps > 0] [--csv FILE]\n");
        return 2;
    }
    af_file out = {.f = NULL};
    char why[AF_PATH_LEN + 128];
    af_signals("checker");
    if (csv_path && af_open(&out, csv_path, why, sizeof(why))) {
        fprintf(stderr, "checker: %s\n", why);
        return 2;
    }
    FILE *csv = out.f; /* written whole or not at all (src/util/atomic_file.h) */
    scenario *sc = malloc(sizeof(*sc)), *sc3 = malloc(sizeof(*sc3)), *idle = malloc(sizeof(*idle));
    const char *idle_sets[] = {"rounds=0"}, *three_sets[] = {"rounds=3"};
    if (!sc || !sc3 || !idle || load("smoke", sc, NULL, 0) || load("smoke", sc3, three_sets, 1) ||
        load("smoke", idle, idle_sets, 1))
        return 2;
    double base = rate(idle, sim_driver_find("step1-nowait"), n, reps);
    printf("baseline: empty execution (set-up + driver init + tear-down): %.0f executions/s\n",
           base);
    printf("smoke (rounds=%s)\n", sc_param(sc, "rounds"));
    printf("%-16s %14s %10s %18s %10s\n", "driver", "smoke exec/s", "vs empty", "rounds=3 exec/s",
           "vs empty");
    if (csv)
        fputs("driver,smoke_exec_per_s,smoke_rounds3_exec_per_s,empty_exec_per_s,"
              "smoke_vs_empty,smoke_rounds3_vs_empty\n",
              csv);
    for (unsigned d = 0; sim_drivers[d]; d++) {
        if (sim_drivers[d] == &kernel_ops && !kernel_drv_ready())
            continue; /* needs a kernel tree */
        double r = rate(sc, sim_drivers[d], n, reps);
        double r3 = rate(sc3, sim_drivers[d], n, reps);
        printf("%-16s %14.0f %9.2fx %18.0f %9.2fx\n", sim_drivers[d]->name, r, r / base, r3,
               r3 / base);
        if (csv)
            fprintf(csv, "%s,%.0f,%.0f,%.0f,%.4f,%.4f\n", sim_drivers[d]->name, r, r3, base,
                    r / base, r3 / base);
    }
    if (csv && af_commit(&out, why, sizeof(why))) {
        fprintf(stderr, "checker: %s\n", why);
        return 3;
    }
    if (load("ite-even-batch", sc, NULL, 0))
        return 2;
    chk_options o;
    chk_options_default(&o);
    o.minimise = false;
    chk_report r;
    double t0 = now_s();
    chk_explore(sc, sim_driver_find("legacy-odd"), &o, &r);
    double dt = now_s() - t0;
    printf("legacy-odd / ite-even-batch: %s after %llu execution(s) in %.1f ms "
           "(%.1f empty executions' worth)\n",
           chk_verdict_name(r.verdict), (unsigned long long)r.executions, dt * 1e3, dt * base);
    chk_report_free(&r);
    free(sc);
    free(sc3);
    free(idle);
    return 0;
}
