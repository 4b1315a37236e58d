/*
 * check.c — `qinval check`: parse the options of DESIGN §7, load the scenario with its --set
 * overrides, explore (drawing a progress line on stderr when it is a terminal, or with
 * --progress), and report: a PASS line, or a FAIL line with the minimised counterexample's
 * timeline, the oracle's words and the replay command (the counterexample is saved as JSON).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/explore.h"
#include "cli/cli.h"
#include "cli/ce_file.h"
#include "cli/progress.h"
#include "cli/trace_out.h"
#include "hw/hw.h"
#include "report/ktap.h"
#include "util/installed.h"

#define MAX_SETS 64

/* Seconds past the --time budget that the output may take: the replays that render a
 * counterexample's timeline or a --trace (exploration and minimisation end by the budget
 * itself). A replay still running then is cut, and its output left out with a line saying so. */
#define OUTPUT_GRACE_S 1.0

struct check_args {
    const char *driver, *scenario, *format, *save, *trace;
    const char *sets[MAX_SETS];
    unsigned nsets;
    bool progress; /* draw the progress line on stderr */
    chk_options opt;
};

static int bad(const char *fmt, const char *what)
{
    fprintf(stderr, "qinval check: ");
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    return -1;
}

/* A whole number in [lo, hi] for flag, or one line naming the flag and the range. */
static int parse_range(const char *flag, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = v && *v && *v != '-' ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *v == '-' || errno || *end || x < lo || x > hi) {
        if (hi == UINT64_MAX && lo == 0)
            fprintf(stderr, "qinval check: %s needs a non-negative integer (got '%s')\n", flag,
                    v ? v : "");
        else if (hi == UINT64_MAX)
            fprintf(stderr, "qinval check: %s needs a whole number of at least %llu (got '%s')\n",
                    flag, (unsigned long long)lo, v ? v : "");
        else
            fprintf(stderr, "qinval check: %s must be %llu..%llu (got '%s')\n", flag,
                    (unsigned long long)lo, (unsigned long long)hi, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

/* --time: a finite, positive decimal number of seconds ("1.5", "2e-3"); not inf, nan or hex,
 * which strtod would also take. */
static int parse_seconds(const char *v, double *out)
{
    char *end;
    bool decimal = v && *v && strspn(v, "0123456789.eE+-") == strlen(v);
    double x = decimal ? strtod(v, &end) : 0;
    if (!decimal || *end || !isfinite(x) || x <= 0)
        return bad("--time needs a positive number of seconds (got '%s')", v ? v : "");
    *out = x;
    return 0;
}

static int parse_shard(const char *v, chk_options *o)
{
    unsigned i, n;
    char tail;
    if (!v || sscanf(v, "%u/%u%c", &i, &n, &tail) != 2 || n == 0 || i >= n)
        return bad("--shard needs I/N with 0 <= I < N (got '%s')", v ? v : "");
    o->shard_i = i;
    o->shard_n = n;
    return 0;
}

/* The options without a value; true if f is one (and it was applied). */
static bool switch_flag(const char *f, struct check_args *a)
{
    if (!strcmp(f, "--no-minimise"))
        a->opt.minimise = false;
    else if (!strcmp(f, "--no-reduce"))
        a->opt.no_reduce = true;
    else if (!strcmp(f, "--progress") || !strcmp(f, "--no-progress"))
        a->progress = !strcmp(f, "--progress");
    else
        return false;
    return true;
}

static int parse_args(int argc, char **argv, struct check_args *a)
{
    chk_options_default(&a->opt);
    a->format = "text";
    a->progress = isatty(2);
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        if (switch_flag(f, a))
            continue;
        if (!v)
            return bad("%s needs a value (see qinval --help)", f);
        i++;
        if (!strcmp(f, "--driver"))
            a->driver = v;
        else if (!strcmp(f, "--scenario"))
            a->scenario = v;
        else if (!strcmp(f, "--strategy")) {
            if (chk_strategy_parse(v, &a->opt.strategy) || a->opt.strategy == CHK_STRAT_REPLAY)
                return bad("--strategy must be random, pct or dfs (got '%s')", v);
        } else if (!strcmp(f, "--seed")) {
            if (parse_range(f, v, 0, UINT64_MAX, &a->opt.seed))
                return -1;
        } else if (!strcmp(f, "--executions")) {
            if (parse_range(f, v, 1, UINT64_MAX, &a->opt.executions))
                return -1;
        } else if (!strcmp(f, "--time")) {
            if (parse_seconds(v, &a->opt.seconds))
                return -1;
        } else if (!strcmp(f, "--depth")) {
            if (parse_range(f, v, 1, 8, &x))
                return -1;
            a->opt.pct_depth = (unsigned)x;
        } else if (!strcmp(f, "--bound")) {
            if (parse_range(f, v, 0, 16, &x))
                return -1;
            a->opt.dfs_bound = (unsigned)x;
        } else if (!strcmp(f, "--shard")) {
            if (parse_shard(v, &a->opt))
                return -1;
        } else if (!strcmp(f, "--set")) {
            if (a->nsets == MAX_SETS)
                return bad("too many --set options (at most %s)", "64");
            a->sets[a->nsets++] = v;
        } else if (!strcmp(f, "--format")) {
            if (strcmp(v, "text") && strcmp(v, "json") && strcmp(v, "ktap"))
                return bad("--format must be text, json or ktap (got '%s')", v);
            a->format = v;
        } else if (!strcmp(f, "--trace"))
            a->trace = v;
        else if (!strcmp(f, "--save"))
            a->save = v;
        else
            return bad("unknown option '%s' (see qinval --help)", f);
    }
    if (!a->driver)
        return bad("%s", "--driver is required (qinval list drivers)");
    if (!a->scenario)
        return bad("%s", "--scenario is required (qinval list scenarios)");
    return 0;
}

/* An installed qinval (make install) finds its catalog beside it: BINDIR/../share/qinval/
 * scenarios. NULL when the binary is not installed that way (a build tree). */
static const char *installed_scenario_dir(void)
{
    static char dir[4096];
    if (!installed_path("scenarios/smoke.scn", dir, sizeof(dir)))
        return NULL;
    dir[strlen(dir) - strlen("/smoke.scn")] = '\0';
    return dir;
}

const char *cli_scenario_dir(void)
{
    const char *d = getenv("QINVAL_SCENARIOS");
    if (d && *d)
        return d;
    d = installed_scenario_dir();
    return d ? d : QINVAL_SCENARIO_DIR;
}

int cli_need_catalog(void)
{
    if (sc_catalog_ok(cli_scenario_dir()))
        return 0;
    char err[512];
    sc_no_catalog(cli_scenario_dir(), err, sizeof(err));
    fprintf(stderr, "qinval: %s\n", err);
    return CLI_EXIT_USAGE;
}

bool cli_scenario_is_file(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n && (strchr(name, '/') || (n > 4 && !strcmp(name + n - 4, ".scn")));
}

/* Load the scenario with its --set overrides. `ksrc=PATH` (the kernel tree) and
 * `kcall=submit|callers` (how batches reach it) are not scenario keys but settings of --driver
 * kernel, refused with any other driver; the tree is then built and loaded here, so a tree the
 * harness cannot handle is a usage error before anything runs. A `ksrc=` that came from a file
 * (CLI_SETS_FILE) is never applied: building it would run code the file alone names; the
 * caller has set the tree from its own command line or QINVAL_KSRC.
 * Returns 0, or the exit status (CLI_EXIT_USAGE, CLI_EXIT_INTERNAL) after one line on stderr. */
int cli_load(const char *driver, const char *name, const char *const *sets, unsigned nsets,
             enum cli_sets_origin origin, scenario *sc, const sim_driver_ops **drv)
{
    char err[1024];
    const char *rest[MAX_SETS + 1];
    unsigned nrest = 0;
    *drv = sim_driver_find(driver);
    if (!*drv) {
        fprintf(stderr, "qinval: unknown driver '%s' (see qinval list drivers)\n", driver);
        return CLI_EXIT_USAGE;
    }
    for (unsigned i = 0; i < nsets; i++) {
        if (sets[i] && !strncmp(sets[i], "ksrc=", 5)) {
            if (*drv != &kernel_ops) {
                fprintf(stderr, "qinval: --set %s: ksrc is only for --driver kernel\n", sets[i]);
                return CLI_EXIT_USAGE;
            }
            if (origin == CLI_SETS_ARGS)
                kernel_drv_set_ksrc(sets[i] + 5);
        } else if (sets[i] && !strncmp(sets[i], "kcall=", 6)) {
            if (*drv != &kernel_ops) {
                fprintf(stderr, "qinval: --set %s: kcall is only for --driver kernel\n", sets[i]);
                return CLI_EXIT_USAGE;
            }
            if (kernel_drv_set_kcall(sets[i] + 6)) {
                fprintf(stderr, "qinval: --set %s: expected kcall=submit or kcall=callers\n",
                        sets[i]);
                return CLI_EXIT_USAGE;
            }
        } else if (nrest < MAX_SETS) {
            rest[nrest++] = sets[i];
        }
    }
    int lrc = cli_scenario_is_file(name)
                  ? sc_load(name, rest, nrest, sc, err, sizeof(err))
                  : sc_load_named(cli_scenario_dir(), name, rest, nrest, sc, err, sizeof(err));
    if (lrc) {
        fprintf(stderr, "qinval: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    if (*drv == &kernel_ops) {
        int rc = kernel_drv_prepare(err, sizeof(err));
        if (rc) {
            fprintf(stderr, "qinval: %s\n", err);
            return rc == 3 ? CLI_EXIT_INTERNAL : CLI_EXIT_USAGE;
        }
    }
    return 0;
}

/* KTAP version 1: one test for this driver/scenario; the counterexample's summary (verdict,
 * the oracle's words, schedule, reductions, replay command) as diagnostics before its result
 * line. `saved` is the counterexample file, or NULL. */
static void print_ktap(const struct check_args *a, const chk_report *r, const char *saved)
{
    char line[700];
    rep_ktap_begin(stdout, 0, NULL, 1);
    snprintf(line, sizeof(line), "qinval check --driver %s --scenario %s", a->driver, a->scenario);
    rep_ktap_diag(stdout, 0, line);
    snprintf(line, sizeof(line), "%s strategy, seed %llu, %llu executions, %.3f s%s%s",
             chk_strategy_name(a->opt.strategy), (unsigned long long)a->opt.seed,
             (unsigned long long)r->executions, r->seconds,
             r->complete ? ", bounded space covered completely" : "",
             r->cut ? "; one more cut by --time, not judged" : "");
    rep_ktap_diag(stdout, 0, line);
    snprintf(line, sizeof(line), "%s/%s", a->driver, a->scenario);
    if (r->verdict == CHK_PASS) {
        rep_ktap_result(stdout, 0, true, 1, line, NULL);
        return;
    }
    snprintf(line, sizeof(line), "verdict: %s at %.9f s virtual", chk_verdict_name(r->verdict),
             (double)r->result.outcome.t / HW_S);
    rep_ktap_diag(stdout, 0, line);
    snprintf(line, sizeof(line), "why: %s", r->result.why);
    rep_ktap_diag(stdout, 0, line);
    char *sched = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&sched, &len);
    if (m) {
        cli_print_schedule(m, r->picks, r->npicks);
        for (unsigned i = 0; i < r->nreductions; i++)
            fprintf(m, "%sscenario reduced with --set %s", i ? "; " : "", r->reductions[i]);
        if (!fclose(m))
            rep_ktap_diag(stdout, 0, sched);
    }
    free(sched);
    if (saved) {
        snprintf(line, sizeof(line), "replay: qinval replay %s", saved);
        rep_ktap_diag(stdout, 0, line);
    }
    snprintf(line, sizeof(line), "%s/%s", a->driver, a->scenario);
    rep_ktap_result(stdout, 0, false, 1, line, NULL);
}

static void print_pass(const struct check_args *a, const chk_report *r)
{
    printf("PASS %s / %s  (%s, seed %llu, %llu executions%s%s, %.3f s): no violation\n", a->driver,
           a->scenario, chk_strategy_name(a->opt.strategy), (unsigned long long)a->opt.seed,
           (unsigned long long)r->executions,
           r->complete ? ", bounded space covered completely" : "",
           r->cut ? " (one more cut by --time, not judged)" : "", r->seconds);
}

/* No execution finished within --time: nothing was judged, so there is no result to print. */
static int print_incomplete(const struct check_args *a, const chk_report *r)
{
    fprintf(stderr,
            "qinval check: --time %g ran out before any execution of %s / %s finished (the "
            "first was cut after %llu scheduling steps, %.6f s of virtual time): nothing was "
            "judged; give it more time, or a smaller workload\n",
            a->opt.seconds, a->driver, a->scenario, (unsigned long long)r->result.outcome.steps,
            (double)r->result.outcome.t / HW_S);
    return CLI_EXIT_USAGE;
}

/* qinval-ce-SEED.json; a shard's own name, so shards sharing a directory do not overwrite
 * each other's counterexamples. */
static const char *default_save_path(const chk_options *o, char *buf, size_t len)
{
    if (o->shard_n > 1)
        snprintf(buf, len, "qinval-ce-%llu-shard-%u-of-%u.json", (unsigned long long)o->seed,
                 o->shard_i, o->shard_n);
    else
        snprintf(buf, len, "qinval-ce-%llu.json", (unsigned long long)o->seed);
    return buf;
}

/* --trace: the counterexample, or with no violation the execution that takes every default
 * decision; after an internal error or with nothing judged, nothing (the file is left empty).
 * Returns cli_trace_write's result (-2: its replay was cut by the time budget). */
static int write_trace(const struct check_args *a, FILE *f, const chk_report *rep,
                       const scenario *sc, const sim_driver_ops *drv)
{
    char title[2 * SC_NAME_LEN + 8];
    snprintf(title, sizeof(title), "%s / %s", a->driver, a->scenario);
    if (rep->verdict == CHK_INTERNAL || rep->verdict == CHK_INCOMPLETE) {
        fclose(f);
        return 0;
    }
    bool pass = rep->verdict == CHK_PASS;
    return cli_trace_write("qinval check", f, a->trace, sc, drv, pass ? NULL : rep->picks,
                           pass ? 0 : rep->npicks, title);
}

/* The output's share of the time budget: the replays that render it end by then. */
static void output_deadline(const chk_options *o, double t0)
{
    if (o->seconds <= 0)
        return;
    double end = t0 + o->seconds, now = chk_now();
    chk_set_deadline((now > end ? now : end) + OUTPUT_GRACE_S);
}

int cli_check(int argc, char **argv)
{
    struct check_args a;
    memset(&a, 0, sizeof(a));
    if (parse_args(argc, argv, &a))
        return CLI_EXIT_USAGE;
    scenario *sc = malloc(sizeof(*sc));
    const sim_driver_ops *drv;
    int lrc = sc ? cli_load(a.driver, a.scenario, a.sets, a.nsets, CLI_SETS_ARGS, sc, &drv)
                 : CLI_EXIT_INTERNAL;
    if (lrc) {
        free(sc);
        return lrc;
    }
    char why[PATH_MAX + 64];
    if (a.save && ce_save_check(a.save, why, sizeof(why))) {
        fprintf(stderr, "qinval check: --save cannot be written: %s\n", why);
        free(sc);
        return CLI_EXIT_USAGE;
    }
    FILE *trace = a.trace ? cli_trace_open("qinval check", a.trace) : NULL;
    if (a.trace && !trace) {
        free(sc);
        return CLI_EXIT_USAGE;
    }
    struct cli_progress_line line = {.out = stderr};
    if (a.progress) {
        a.opt.on_progress = cli_progress_draw;
        a.opt.progress_ctx = &line;
    }
    chk_report rep;
    uint64_t strays = hw_mem_stray_pages();
    double t0 = chk_now();
    chk_explore(sc, drv, &a.opt, &rep);
    output_deadline(&a.opt, t0);
    if (hw_mem_stray_pages() != strays)
        fprintf(stderr,
                "qinval check: warning: the driver wrote simulated RAM outside the memory it was "
                "given (%llu page(s) found and cleared); executions before that was noticed may "
                "have seen each other's stray bytes\n",
                (unsigned long long)(hw_mem_stray_pages() - strays));
    /* The counterexample is the scenario with the user's --set keys and minimisation's. */
    const char *sets[CE_MAX_SETS];
    unsigned nsets = 0;
    for (unsigned i = 0; i < a.nsets && nsets < CE_MAX_SETS; i++)
        sets[nsets++] = a.sets[i];
    for (unsigned i = 0; i < rep.nreductions && nsets < CE_MAX_SETS; i++)
        sets[nsets++] = rep.reductions[i];
    const scenario *ce_sc = rep.reduced ? rep.reduced : sc;
    /* A scenario file of one's own is saved by its absolute path, so that the counterexample
     * replays from any directory (realpath succeeded once the file loaded; if not, as given). */
    char *scenario_abs = cli_scenario_is_file(a.scenario) ? realpath(a.scenario, NULL) : NULL;
    struct ce_file ce = {.driver = a.driver,
                         .scenario = scenario_abs ? scenario_abs : a.scenario,
                         .sets = sets,
                         .nsets = nsets,
                         .ktree = drv == &kernel_ops ? kernel_drv_tree_id() : NULL,
                         .strategy = chk_strategy_name(a.opt.strategy),
                         .seed = a.opt.seed,
                         .pct_depth = a.opt.pct_depth,
                         .dfs_bound = a.opt.dfs_bound,
                         .picks = rep.picks,
                         .npicks = rep.npicks,
                         .verdict = chk_verdict_name(rep.verdict)};
    int rc = CLI_EXIT_OK;
    if (rep.verdict == CHK_INCOMPLETE) {
        rc = print_incomplete(&a, &rep);
    } else if (rep.verdict == CHK_INTERNAL) {
        fprintf(stderr, "qinval check: internal error: %s\n", rep.result.why);
        rc = CLI_EXIT_INTERNAL;
    } else if (rep.verdict != CHK_PASS) {
        char path[96];
        const char *save = a.save ? a.save : default_save_path(&a.opt, path, sizeof(path));
        bool saved = ce_save(save, &ce) == 0;
        if (!saved)
            fprintf(stderr, "qinval check: cannot write %s: %s\n", save, strerror(errno));
        if (!strcmp(a.format, "json")) {
            cli_print_json(&ce, &rep, &a.opt, stdout);
        } else if (!strcmp(a.format, "ktap")) {
            print_ktap(&a, &rep, saved ? save : NULL);
        } else {
            cli_print_counterexample(&ce, ce_sc, drv, &rep, stdout);
            if (saved)
                printf("replay: qinval replay %s\n", save);
        }
        rc = CLI_EXIT_VIOLATION;
    } else if (!strcmp(a.format, "json")) {
        cli_print_json(&ce, &rep, &a.opt, stdout);
    } else if (!strcmp(a.format, "ktap")) {
        print_ktap(&a, &rep, NULL);
    } else {
        print_pass(&a, &rep);
    }
    if (trace) {
        int trc = write_trace(&a, trace, &rep, ce_sc, drv);
        if (trc == -2 && rc == CLI_EXIT_OK)
            rc = CLI_EXIT_USAGE; /* the trace asked for could not be had within --time */
        else if (trc == -1)
            rc = CLI_EXIT_INTERNAL;
    }
    chk_report_free(&rep);
    free(scenario_abs);
    free(sc);
    return rc;
}
