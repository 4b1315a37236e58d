/*
 * check.c — `qinval check`: parse its options (--driver, --scenario, --strategy, --seed,
 * --executions, --time, --shard, --set, --format, --trace and the rest that `qinval` prints in
 * its usage), load the scenario with its --set overrides, explore (drawing a progress line on
 * stderr when it is a terminal, or with --progress), and report: a PASS line, or a FAIL line
 * with the minimised counterexample's timeline, the oracle's words and the replay command (the
 * counterexample is saved as JSON).
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
#include "util/atomic_file.h"
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
    bool depth_given, bound_given;
    bool time_model_given; /* --time-model was given */
    bool no_assume;        /* --no-assume: every plain shared load and store a point (mem_points=1),
                              and the search strict (chk_options.dpor_strict) */
    chk_options opt;
};

/* The command whose options are being read, for messages ("qinval sweep" shares the parsers). */
const char *cli_prog = "qinval check";

static int bad(const char *fmt, const char *what)
{
    fprintf(stderr, "%s: ", cli_prog);
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    return -1;
}

/* A whole number in [lo, hi] for flag, or one line naming the flag and the range. */
int cli_parse_range(const char *flag, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = v && *v && *v != '-' ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *v == '-' || errno || *end || x < lo || x > hi) {
        if (hi == UINT64_MAX && lo == 0)
            fprintf(stderr, "%s: %s needs a non-negative integer (got '%s')\n", cli_prog, flag,
                    v ? v : "");
        else if (hi == UINT64_MAX)
            fprintf(stderr, "%s: %s needs a whole number of at least %llu (got '%s')\n", cli_prog,
                    flag, (unsigned long long)lo, v ? v : "");
        else
            fprintf(stderr, "%s: %s must be %llu..%llu (got '%s')\n", cli_prog, flag,
                    (unsigned long long)lo, (unsigned long long)hi, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

/* --time: a finite, positive decimal number of seconds ("1.5", "2e-3"); not inf, nan or hex,
 * which strtod would also take. */
int cli_parse_seconds(const char *v, double *out)
{
    char *end;
    bool decimal = v && *v && strspn(v, "0123456789.eE+-") == strlen(v);
    double x = decimal ? strtod(v, &end) : 0;
    if (!decimal || *end || !isfinite(x) || x <= 0)
        return bad("--time needs a positive number of seconds (got '%s')", v ? v : "");
    *out = x;
    return 0;
}

int cli_parse_shard(const char *v, chk_options *o)
{
    unsigned i, n;
    char tail;
    /* digits only: sscanf's %u would take "-1" as 4294967295 */
    size_t d1 = v ? strspn(v, "0123456789") : 0;
    bool shape = d1 && d1 <= 9 && v[d1] == '/' &&
                 strspn(v + d1 + 1, "0123456789") == strlen(v + d1 + 1) &&
                 strlen(v + d1 + 1) >= 1 && strlen(v + d1 + 1) <= 9;
    if (!shape || sscanf(v, "%u/%u%c", &i, &n, &tail) != 2 || n == 0 || i >= n)
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
    else if (!strcmp(f, "--no-reduce") || !strcmp(f, "--reduce-local"))
        a->opt.reduce_local = !strcmp(f, "--reduce-local");
    else if (!strcmp(f, "--no-assume"))
        a->no_assume = a->opt.dpor_strict = true;
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
            if (cli_parse_range(f, v, 0, UINT64_MAX, &a->opt.seed))
                return -1;
        } else if (!strcmp(f, "--executions")) {
            if (cli_parse_range(f, v, 1, UINT64_MAX, &a->opt.executions))
                return -1;
        } else if (!strcmp(f, "--time")) {
            if (cli_parse_seconds(v, &a->opt.seconds))
                return -1;
        } else if (!strcmp(f, "--depth")) {
            if (cli_parse_range(f, v, 1, 8, &x))
                return -1;
            a->opt.pct_depth = (unsigned)x;
            a->depth_given = true;
        } else if (!strcmp(f, "--bound")) {
            if (!strcmp(v, "none"))
                a->opt.dfs_bound = CHK_BOUND_NONE;
            else if (cli_parse_range(f, v, 0, 16, &x))
                return -1;
            else
                a->opt.dfs_bound = (unsigned)x;
            a->bound_given = true;
        } else if (!strcmp(f, "--time-model")) {
            if (strcmp(v, "local") && strcmp(v, "global"))
                return bad("--time-model must be global or local (got '%s')", v);
            a->opt.local_time = !strcmp(v, "local");
            a->time_model_given = true;
        } else if (!strcmp(f, "--shard")) {
            if (cli_parse_shard(v, &a->opt))
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
    if (a->depth_given && a->opt.strategy != CHK_STRAT_PCT)
        return bad("%s", "--depth is a setting of --strategy pct (it would be ignored)");
    if (a->bound_given && a->opt.strategy != CHK_STRAT_DFS)
        return bad("%s", "--bound is a setting of --strategy dfs (it would be ignored)");
    if (a->no_assume && a->opt.dfs_bound != CHK_BOUND_NONE)
        return bad("%s", "--no-assume is a setting of --bound none (it would be ignored)");
    if (a->time_model_given && a->opt.dfs_bound != CHK_BOUND_NONE)
        return bad("%s", "--time-model is a setting of --bound none (it would be ignored)");
    if (a->opt.local_time && a->no_assume)
        return bad("%s", "--time-model local and --no-assume do not go together yet");
    if (a->no_assume) { /* the one assumption left: memory between points is locked */
        if (a->nsets == MAX_SETS)
            return bad("too many --set options (at most %s)", "64");
        a->sets[a->nsets++] = "mem_points=1";
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

/* Is `set` ("KEY=VALUE") one of the driver's own settings (setting_keys)? */
bool cli_driver_setting(const sim_driver_ops *drv, const char *set)
{
    size_t klen = strcspn(set, "=");
    for (const char *const *k = drv->setting_keys; k && *k; k++)
        if (strlen(*k) == klen && !strncmp(*k, set, klen))
            return true;
    return false;
}

/* The driver, other than drv, whose own setting `set` is; NULL if none. */
static const sim_driver_ops *other_owner(const sim_driver_ops *drv, const char *set)
{
    for (unsigned i = 0; sim_drivers[i]; i++)
        if (sim_drivers[i] != drv && cli_driver_setting(sim_drivers[i], set))
            return sim_drivers[i];
    return NULL;
}

/* Does `set` name code the driver builds and loads (its code_setting)? */
static bool names_code(const sim_driver_ops *drv, const char *set)
{
    size_t klen = strcspn(set, "=");
    return drv->code_setting && strlen(drv->code_setting) == klen &&
           !strncmp(drv->code_setting, set, klen);
}

/* The driver's settings out of the --set list (into mine[], at most SC_MAX_DRV_SETS) and the
 * rest for the scenario. A setting of another driver is refused; a code setting read from a
 * file is dropped. 0 or the exit status. */
static int split_sets(const struct cli_request *rq, const sim_driver_ops *drv, const char **mine,
                      unsigned *nmine, const char **rest, unsigned *nrest)
{
    for (unsigned i = 0; i < rq->nsets + rq->nuser; i++) {
        bool user = i >= rq->nsets;
        const char *set = user ? rq->user[i - rq->nsets] : rq->sets[i];
        const sim_driver_ops *other = set ? other_owner(drv, set) : NULL;
        if (!set)
            continue;
        if (!cli_driver_setting(drv, set) && other) {
            fprintf(stderr, "qinval: --set %s: %.*s is only for --driver %s\n", set,
                    (int)strcspn(set, "="), set, other->name);
            return CLI_EXIT_USAGE;
        }
        if (!cli_driver_setting(drv, set)) {
            if (*nrest < MAX_SETS)
                rest[(*nrest)++] = set;
            continue;
        }
        if (names_code(drv, set) && rq->origin == CLI_SETS_FILE && !user)
            continue; /* a file names no code to run */
        if (*nmine == SC_MAX_DRV_SETS || strlen(set) >= SC_DRV_SET_LEN) {
            fprintf(stderr, "qinval: --set %.60s: too many or too long driver settings\n", set);
            return CLI_EXIT_USAGE;
        }
        mine[(*nmine)++] = set;
    }
    return 0;
}

/* Load the scenario with its --set overrides and configure the driver. Keys the driver owns
 * (sim_driver_ops.setting_keys: the kernel driver's `ksrc=PATH` and `kcall=...`) are its
 * settings, handed to configure() now (the kernel tree is built and loaded here, so a tree the
 * harness cannot handle is a usage error before anything runs) and to every world the
 * scenario makes; the rest are the scenario's. A code setting (the kernel's `ksrc=`) read from
 * a file (CLI_SETS_FILE) is never applied: building it would run code the file alone names;
 * the tree then comes from rq->user (replay's --ksrc) or QINVAL_KSRC.
 * Returns 0, or the exit status (CLI_EXIT_USAGE, CLI_EXIT_INTERNAL) after one line on stderr. */
int cli_load_request(const struct cli_request *rq, scenario *sc, const sim_driver_ops **drv)
{
    char err[1024];
    const char *rest[MAX_SETS + 1], *mine[SC_MAX_DRV_SETS];
    unsigned nrest = 0, nmine = 0;
    *drv = sim_driver_find(rq->driver);
    if (!*drv) {
        fprintf(stderr, "qinval: unknown driver '%s' (see qinval list drivers)\n", rq->driver);
        return CLI_EXIT_USAGE;
    }
    int rc = split_sets(rq, *drv, mine, &nmine, rest, &nrest);
    if (rc)
        return rc;
    if (cli_scenario_is_file(rq->scenario)
            ? sc_load(rq->scenario, rest, nrest, sc, err, sizeof(err))
            : sc_load_named(cli_scenario_dir(), rq->scenario, rest, nrest, sc, err, sizeof(err))) {
        fprintf(stderr, "qinval: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    if (sc_runs_nothing(sc)) {
        fprintf(stderr,
                "qinval: %s: no CPU runs any operation (no [cpu N] or [cpu *] section with an op "
                "line and repeat >= 1 among its %u CPUs): it would check nothing\n",
                rq->scenario, sc->cpus);
        return CLI_EXIT_USAGE;
    }
    sc->ndrv_sets = nmine;
    for (unsigned i = 0; i < nmine; i++)
        snprintf(sc->drv_sets[i], sizeof(sc->drv_sets[i]), "%s", mine[i]); /* fits: split_sets */
    int crc = (*drv)->configure ? (*drv)->configure(mine, nmine, err, sizeof(err)) : 0;
    if (crc) {
        fprintf(stderr, "qinval: %s\n", err);
        return crc == 3 ? CLI_EXIT_INTERNAL : CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_load(const char *driver, const char *name, const char *const *sets, unsigned nsets,
             enum cli_sets_origin origin, scenario *sc, const sim_driver_ops **drv)
{
    struct cli_request rq = {
        .driver = driver, .scenario = name, .sets = sets, .nsets = nsets, .origin = origin};
    return cli_load_request(&rq, sc, drv);
}

/* What a complete search covered: the bounded space, or (--bound none) every interleaving up to
 * reordering independent steps, under the reduction's assumptions; a shard, its part of it. */
static const char *covered_words(const struct check_args *a, const chk_report *r)
{
    static char shard_words[512];
    if (!r->complete)
        return "";
    const char *w = a->opt.dfs_bound != CHK_BOUND_NONE
                        ? ", bounded space covered completely"
                        : ce_unbounded_words(a->no_assume, r->local_time);
    if (a->opt.shard_n <= 1)
        return w;
    snprintf(shard_words, sizeof(shard_words), ", shard %u/%u's part: %s", a->opt.shard_i,
             a->opt.shard_n, w + 2);
    return shard_words;
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
             (unsigned long long)r->executions, r->seconds, covered_words(a, r),
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
           (unsigned long long)r->executions, covered_words(a, r),
           r->cut ? " (one more cut by --time, not judged)" : "", r->seconds);
    if (a->opt.dfs_bound == CHK_BOUND_NONE)
        printf("dpor: %llu executions sleep-blocked, %llu orders of steps no behaviour (not "
               "counted), %llu races, decision stack up to %llu%s\n",
               (unsigned long long)r->dpor_blocked, (unsigned long long)r->dpor_pruned,
               (unsigned long long)r->dpor_races, (unsigned long long)r->dpor_nodes,
               r->dpor_mismatch ? " (WARNING: replays diverged: the driver is not deterministic)"
                                : "");
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

/* A name's characters that are safe in a file name everywhere; others become '_'. */
static void name_part(char *out, size_t cap, const char *name, size_t max)
{
    size_t n = 0;
    for (; *name && n + 1 < cap && n < max; name++) {
        char c = *name;
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '+';
        out[n++] = safe ? c : '_';
    }
    out[n] = '\0';
}

/* The default counterexample name, qinval-ce-DRIVER-SCENARIO-seedSEED.json (a scenario file
 * by its base name without .scn), with -shard-I-of-N for a shard. It says what was run; the
 * file is created as a new one (ce_save's fresh), so a run whose name is taken, by an earlier
 * run or one running at the same time, gets -2, -3, ... instead of replacing the other's. */
static const char *default_save_path(const struct check_args *a, char *buf, size_t len)
{
    char drv[72], scn[72], shard[64] = "";
    const char *base = strrchr(a->scenario, '/');
    base = base ? base + 1 : a->scenario;
    size_t blen = strlen(base);
    if (blen > 4 && !strcmp(base + blen - 4, ".scn"))
        blen -= 4;
    name_part(drv, sizeof(drv), a->driver, 64);
    name_part(scn, sizeof(scn), base, blen < 64 ? blen : 64);
    if (a->opt.shard_n > 1)
        snprintf(shard, sizeof(shard), "-shard-%u-of-%u", a->opt.shard_i, a->opt.shard_n);
    snprintf(buf, len, "qinval-ce-%s-%s-seed%llu%s.json", drv, scn, (unsigned long long)a->opt.seed,
             shard);
    return buf;
}

/* --trace: the counterexample, or with no violation the execution that takes every default
 * decision; after an internal error or with nothing judged, nothing (an existing file is left as
 * it was). Returns cli_trace_write's result (-2: its replay was cut by the time budget). */
static int write_trace(const struct check_args *a, const chk_report *rep, const scenario *sc,
                       const sim_driver_ops *drv)
{
    char title[2 * SC_NAME_LEN + 8];
    snprintf(title, sizeof(title), "%s / %s", a->driver, a->scenario);
    if (rep->verdict == CHK_INTERNAL || rep->verdict == CHK_INCOMPLETE)
        return 0;
    bool pass = rep->verdict == CHK_PASS, was = chk__local_time();
    chk__set_local_time(rep->local_time); /* the execution as the search ran it */
    int rc = cli_trace_write("qinval check", a->trace, sc, drv, pass ? NULL : rep->picks,
                             pass ? 0 : rep->npicks, title);
    chk__set_local_time(was);
    return rc;
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
    char why[AF_PATH_LEN + 128];
    if (a.save && af_check(a.save, why, sizeof(why))) {
        fprintf(stderr, "qinval check: --save cannot be written: %s\n", why);
        free(sc);
        return CLI_EXIT_USAGE;
    }
    if (a.trace && cli_trace_check("qinval check", a.trace)) {
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
                         .dpor_strict = a.opt.dpor_strict,
                         .local_time = rep.local_time,
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
        char path[256], saved[AF_PATH_LEN];
        const char *save = a.save ? a.save : default_save_path(&a, path, sizeof(path));
        bool ok = !ce_save(save, !a.save, &ce, saved, sizeof(saved), why, sizeof(why));
        if (!ok)
            fprintf(stderr, "qinval check: the counterexample was not saved: %s\n", why);
        if (!strcmp(a.format, "json")) {
            cli_print_json(&ce, &rep, &a.opt, stdout);
        } else if (!strcmp(a.format, "ktap")) {
            print_ktap(&a, &rep, ok ? saved : NULL);
        } else {
            cli_print_counterexample(&ce, ce_sc, drv, &rep, stdout);
            if (ok)
                printf("replay: qinval replay %s\n", saved);
        }
        rc = ok ? CLI_EXIT_VIOLATION : CLI_EXIT_INTERNAL;
    } else if (!strcmp(a.format, "json")) {
        cli_print_json(&ce, &rep, &a.opt, stdout);
    } else if (!strcmp(a.format, "ktap")) {
        print_ktap(&a, &rep, NULL);
    } else {
        print_pass(&a, &rep);
    }
    if (a.trace) {
        int trc = write_trace(&a, &rep, ce_sc, drv);
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
