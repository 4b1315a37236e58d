/*
 * sweep.c — `qinval sweep`: the options, the loading of each point's scenario, the sweep itself
 * (src/check/sweep.c), `--against` (the same points with another driver, or the same driver
 * with one setting changed: failures fixed, introduced and unchanged), and the report in the
 * format asked for (src/cli/sweep_out.c). Exit status: 1 when failures were found (with
 * --against: when the other side introduces one), 0 when none, 2 for bad input.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/sweep.h"
#include "cli/ce_file.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/sweep_out.h"
#include "report/jsonw.h"
#include "util/atomic_file.h"
#include "util/grow.h"

#define MAX_SETS      64
#define MAX_SCENARIOS 128

struct sweep_args {
    const char *driver, *format, *save, *against;
    const char *scenarios[MAX_SCENARIOS];
    unsigned nscenarios;
    char paths[MAX_SCENARIOS][SW_SCENARIO_LEN]; /* scenario files' absolute paths */
    const char *sets[MAX_SETS];
    unsigned nsets;
    bool progress;
    chk_sweep_options opt;
};

static int bad(const char *fmt, const char *what)
{
    fprintf(stderr, "qinval sweep: ");
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    return -1;
}

/* A scenario to sweep: a catalog name, or a file of one's own by its absolute path (so that its
 * counterexamples replay from any directory). Each once: a report lists a scenario once. */
static int add_scenario(struct sweep_args *a, const char *v)
{
    if (a->nscenarios == MAX_SCENARIOS)
        return bad("too many --scenario options (at most %s)", "128");
    const char *name = v;
    if (cli_scenario_is_file(v)) {
        char *abs = realpath(v, NULL);
        if (!abs || strlen(abs) >= SW_SCENARIO_LEN) {
            free(abs);
            return bad("--scenario %s: no such file, or its path is too long", v);
        }
        snprintf(a->paths[a->nscenarios], sizeof(a->paths[0]), "%s", abs);
        free(abs);
        name = a->paths[a->nscenarios];
    }
    for (unsigned i = 0; i < a->nscenarios; i++)
        if (!strcmp(a->scenarios[i], name))
            return bad("--scenario %s is given twice", v);
    a->scenarios[a->nscenarios++] = name;
    return 0;
}

static int parse_value(struct sweep_args *a, const char *f, const char *v)
{
    uint64_t x;
    chk_options shard;
    if (!strcmp(f, "--driver"))
        a->driver = v;
    else if (!strcmp(f, "--scenario"))
        return add_scenario(a, v);
    else if (!strcmp(f, "--executions")) {
        if (cli_parse_range(f, v, 1, UINT64_MAX, &a->opt.executions))
            return -1;
    } else if (!strcmp(f, "--time")) {
        if (cli_parse_seconds(v, &a->opt.seconds))
            return -1;
    } else if (!strcmp(f, "--seed")) {
        if (cli_parse_range(f, v, 0, UINT64_MAX, &a->opt.seed))
            return -1;
    } else if (!strcmp(f, "--random")) {
        if (cli_parse_range(f, v, 0, 1000, &x))
            return -1;
        a->opt.random_points = (unsigned)x;
    } else if (!strcmp(f, "--shard")) {
        if (cli_parse_shard(v, &shard))
            return -1;
        a->opt.shard_i = shard.shard_i, a->opt.shard_n = shard.shard_n;
    } else if (!strcmp(f, "--set")) {
        if (a->nsets == MAX_SETS)
            return bad("too many --set options (at most %s)", "64");
        if (!strchr(v, '='))
            return bad("--set needs KEY=VALUE (got '%s')", v);
        a->sets[a->nsets++] = v;
    } else if (!strcmp(f, "--format")) {
        if (strcmp(v, "text") && strcmp(v, "json") && strcmp(v, "ktap") && strcmp(v, "markdown"))
            return bad("--format must be text, json, ktap or markdown (got '%s')", v);
        a->format = v;
    } else if (!strcmp(f, "--save"))
        a->save = v;
    else if (!strcmp(f, "--against"))
        a->against = v;
    else
        return bad("unknown option '%s' (see qinval --help)", f);
    return 0;
}

static int parse_args(int argc, char **argv, struct sweep_args *a)
{
    chk_sweep_options_default(&a->opt);
    a->format = "text";
    a->progress = isatty(2);
    cli_prog = "qinval sweep";
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(f, "--progress") || !strcmp(f, "--no-progress")) {
            a->progress = !strcmp(f, "--progress");
            continue;
        }
        if (!v)
            return bad("%s needs a value (see qinval --help)", f);
        if (parse_value(a, f, v))
            return -1;
        i++;
    }
    if (!a->driver)
        return bad("%s", "--driver is required (qinval list drivers)");
    if (a->against && a->opt.shard_n > 1)
        return bad("%s", "--against runs both sides in one process: it takes no --shard (sweep "
                         "each side in shards, merge each, and compare the two reports)");
    return 0;
}

/* ---- loading ---- */

/* One side of a sweep: the driver, configured, and the user's --set keys split into the
 * driver's own settings and the scenario's. */
struct side {
    const sim_driver_ops *drv;
    const char *name;
    const char *settings[SC_MAX_DRV_SETS];
    unsigned nsettings;
    const char *sets[MAX_SETS];
    unsigned nsets;
    scenario *base; /* the first scenario as loaded with the driver configured */
    char ktree[32];
};

static int load_point(void *ctx, const char *name, const char *const *sets, unsigned n,
                      scenario *out, char *err, size_t errlen)
{
    const struct side *sd = ctx;
    int rc = cli_scenario_is_file(name)
                 ? sc_load(name, sets, n, out, err, errlen)
                 : sc_load_named(cli_scenario_dir(), name, sets, n, out, err, errlen);
    if (rc)
        return rc;
    out->ndrv_sets = sd->base->ndrv_sets;
    memcpy(out->drv_sets, sd->base->drv_sets, sizeof(out->drv_sets));
    return 0;
}

/* Configure the side's driver (cli_load_request builds a kernel tree once) on the first
 * scenario, and split the --set keys. 0 or the exit status. */
static int open_side(struct side *sd, const char *driver, const char *const *sets, unsigned n,
                     const char *first)
{
    memset(sd, 0, sizeof(*sd));
    sd->name = driver;
    sd->base = must_alloc(sizeof(*sd->base), "a scenario");
    int rc = cli_load(driver, first, sets, n, CLI_SETS_ARGS, sd->base, &sd->drv);
    if (rc)
        return rc;
    for (unsigned i = 0; i < n; i++) {
        if (!cli_driver_setting(sd->drv, sets[i]))
            sd->sets[sd->nsets++] = sets[i];
        else if (sd->nsettings < SC_MAX_DRV_SETS)
            sd->settings[sd->nsettings++] = sets[i];
    }
    if (sd->drv == &kernel_ops)
        snprintf(sd->ktree, sizeof(sd->ktree), "%s", kernel_drv_tree_id());
    return 0;
}

static void close_side(struct side *sd)
{
    free(sd->base);
    sd->base = NULL;
}

/* The scenarios to sweep: those named, or the whole catalog. */
static int scenario_list(struct sweep_args *a, char (*names)[SC_NAME_LEN])
{
    if (a->nscenarios)
        return 0;
    if (cli_need_catalog())
        return CLI_EXIT_USAGE;
    unsigned n = sc_list(cli_scenario_dir(), names, MAX_SCENARIOS);
    for (unsigned i = 0; i < n; i++)
        a->scenarios[a->nscenarios++] = names[i];
    if (!n) {
        fprintf(stderr, "qinval sweep: the catalog %s has no scenario\n", cli_scenario_dir());
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static struct sw_identity identity(const struct side *sd, const chk_sweep_options *o)
{
    struct sw_identity id = {.driver = sd->name,
                             .settings = sd->settings,
                             .nsettings = sd->nsettings,
                             .ktree = sd->ktree[0] ? sd->ktree : NULL,
                             .sets = sd->sets,
                             .nsets = sd->nsets,
                             .seed = o->seed,
                             .executions = o->executions,
                             .time_budget = o->seconds,
                             .random_points = o->random_points};
    return id;
}

/* Sweep one side. 0, or the exit status after one line. */
static int run_side(struct side *sd, struct sweep_args *a, chk_sweep *out)
{
    chk_sweep_options o = a->opt;
    struct cli_progress_line line = {.out = stderr};
    o.user_sets = sd->sets;
    o.nuser = sd->nsets;
    o.load = load_point;
    o.load_ctx = sd;
    if (a->progress) {
        o.on_progress = cli_progress_draw;
        o.progress_ctx = &line;
    }
    char err[2048];
    if (chk_sweep_run(a->scenarios, a->nscenarios, sd->drv, &o, out, err, sizeof(err))) {
        fprintf(stderr, "qinval sweep: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* ---- the report ---- */

/* Where the counterexample files go: --save, or for the human formats qinval-sweep-DRIVER. */
static const char *save_dir(const struct sweep_args *a, const char *driver, char *buf, size_t n)
{
    if (a->save)
        return a->save;
    if (!strcmp(a->format, "json"))
        return NULL;
    snprintf(buf, n, "qinval-sweep-%s", driver);
    for (char *c = buf; *c; c++)
        if (*c == '/')
            *c = '_';
    return buf;
}

static int report(const struct sweep_args *a, const struct sw_identity *id, const chk_sweep *s)
{
    char dirbuf[256], err[AF_PATH_LEN + 128];
    const char *dir = save_dir(a, id->driver, dirbuf, sizeof(dirbuf));
    char **paths = NULL;
    if (dir && sw_save_all(dir, id, s, &paths, err, sizeof(err))) {
        fprintf(stderr, "qinval sweep: the counterexamples were not saved: %s\n", err);
        sw_free_paths(paths, s->nfail);
        return CLI_EXIT_INTERNAL;
    }
    if (!strcmp(a->format, "json"))
        sw_write_json(stdout, id, s);
    else if (!strcmp(a->format, "markdown"))
        sw_write_markdown(stdout, id, s, paths);
    else if (!strcmp(a->format, "ktap"))
        sw_write_ktap(stdout, id, s, paths);
    else
        sw_write_text(stdout, id, s, paths);
    sw_free_paths(paths, s->nfail);
    return s->nfail ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
}

/* ---- --against ---- */

static bool has_failure(const chk_sweep *s, const char *signature)
{
    for (unsigned i = 0; i < s->nfail; i++)
        if (!strcmp(s->fail[i].signature, signature))
            return true;
    return false;
}

/* The failures of `of` that are (want) or are not (!want) in `other`, as a JSON array. */
static void json_diff(FILE *out, const char *key, const struct sw_identity *id, const chk_sweep *of,
                      const chk_sweep *other, bool want)
{
    bool first = true;
    fprintf(out, ",\n  \"%s\": [", key);
    for (unsigned i = 0; i < of->nfail; i++)
        if (has_failure(other, of->fail[i].signature) == want) {
            sw_write_failure(out, id, of, i, first);
            first = false;
        }
    fputs(first ? "]" : "\n  ]", out);
}

static unsigned text_diff(FILE *out, const char *title, const chk_sweep *of, const chk_sweep *other,
                          bool want)
{
    unsigned n = 0;
    for (unsigned i = 0; i < of->nfail; i++)
        n += has_failure(other, of->fail[i].signature) == want;
    fprintf(out, "%s (%u)%s\n", title, n, n ? ":" : "");
    for (unsigned i = 0; i < of->nfail; i++) {
        const struct chk_sw_failure *f = &of->fail[i];
        if (has_failure(other, f->signature) != want)
            continue;
        fprintf(out, "  %s\n", f->signature);
        for (unsigned k = 0; k < f->nseen; k++)
            fprintf(out, "      %s: %s (%llu executions)\n", of->scen[f->seen[k].scen].name,
                    f->seen[k].region, (unsigned long long)f->seen[k].count);
    }
    return n;
}

static int report_against(const struct sweep_args *a, const struct sw_identity *ia,
                          const chk_sweep *sa, const struct sw_identity *ib, const chk_sweep *sb)
{
    unsigned introduced = 0;
    for (unsigned i = 0; i < sb->nfail; i++)
        introduced += !has_failure(sa, sb->fail[i].signature);
    if (!strcmp(a->format, "json")) {
        fputs("{\n  \"qinval_sweep_against\": 1,\n  \"driver\": ", stdout);
        rep_json_string(stdout, a->driver);
        fputs(",\n  \"against\": ", stdout);
        rep_json_string(stdout, a->against);
        fprintf(stdout, ",\n  \"executions\": %llu,\n  \"points\": %zu,\n  \"seconds\": ",
                (unsigned long long)(sa->executions + sb->executions), sa->npoints);
        rep_json_real(stdout, sa->seconds + sb->seconds);
        json_diff(stdout, "fixed", ia, sa, sb, false);
        json_diff(stdout, "introduced", ib, sb, sa, false);
        json_diff(stdout, "unchanged", ia, sa, sb, true);
        fputs(",\n  \"base\": ", stdout);
        sw_write_json(stdout, ia, sa);
        fputs(",\n  \"other\": ", stdout);
        sw_write_json(stdout, ib, sb);
        fputs("}\n", stdout);
    } else {
        fputs("base:    ", stdout);
        sw_summary(stdout, ia, sa);
        fputs("against: ", stdout);
        sw_summary(stdout, ib, sb);
        text_diff(stdout, "introduced", sb, sa, false);
        text_diff(stdout, "fixed", sa, sb, false);
        text_diff(stdout, "unchanged", sa, sb, true);
    }
    return introduced ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
}

/* The other side's --set keys: the user's, with KEY=VALUE in place of any KEY= they gave. */
static unsigned against_sets(const struct sweep_args *a, const char **out)
{
    size_t klen = strcspn(a->against, "=");
    unsigned n = 0;
    for (unsigned i = 0; i < a->nsets; i++)
        if (strncmp(a->sets[i], a->against, klen + 1))
            out[n++] = a->sets[i];
    out[n++] = a->against;
    return n;
}

/* A KEY=VALUE that a scenario sweeps would change the points, not the driver. */
static int check_against_key(const struct sweep_args *a, const struct side *base)
{
    size_t klen = strcspn(a->against, "=");
    if (cli_driver_setting(base->drv, a->against))
        return 0;
    scenario *sc = must_alloc(sizeof(*sc), "a scenario");
    char err[1024];
    int rc = 0;
    for (unsigned i = 0; i < a->nscenarios && !rc; i++) {
        if (load_point((void *)base, a->scenarios[i], base->sets, base->nsets, sc, err,
                       sizeof(err)))
            continue;
        for (unsigned d = 0; d < sc->nsweep && !rc; d++)
            if (strlen(sc->sweep[d].key) == klen && !strncmp(sc->sweep[d].key, a->against, klen))
                rc = bad("--against %s: the sweep varies this parameter; compare another driver "
                         "or a driver setting (or pin it with --set on both sides)",
                         a->against);
    }
    free(sc);
    return rc ? CLI_EXIT_USAGE : 0;
}

static int sweep_against(struct sweep_args *a, struct side *base, chk_sweep *sa)
{
    struct side other;
    const char *sets[MAX_SETS + 1];
    bool by_key = strchr(a->against, '=') != NULL;
    unsigned n = by_key ? against_sets(a, sets) : a->nsets;
    if (!by_key)
        memcpy(sets, a->sets, a->nsets * sizeof(*sets));
    int rc = by_key ? check_against_key(a, base) : 0;
    if (!rc)
        rc = run_side(base, a, sa);
    if (!rc)
        rc = open_side(&other, by_key ? a->driver : a->against, sets, n, a->scenarios[0]);
    chk_sweep sb;
    chk_sweep_init(&sb);
    if (!rc)
        rc = run_side(&other, a, &sb);
    if (!rc) {
        struct sw_identity ia = identity(base, &a->opt), ib = identity(&other, &a->opt);
        rc = report_against(a, &ia, sa, &ib, &sb);
    }
    chk_sweep_free(&sb);
    close_side(&other);
    return rc;
}

int cli_sweep(int argc, char **argv)
{
    struct sweep_args a;
    char(*names)[SC_NAME_LEN] = must_alloc(MAX_SCENARIOS * sizeof(*names), "scenario names");
    memset(&a, 0, sizeof(a));
    int rc = parse_args(argc, argv, &a) ? CLI_EXIT_USAGE : scenario_list(&a, names);
    struct side base = {0};
    chk_sweep s;
    chk_sweep_init(&s);
    if (!rc)
        rc = open_side(&base, a.driver, a.sets, a.nsets, a.scenarios[0]);
    if (!rc && a.against) {
        rc = sweep_against(&a, &base, &s);
    } else if (!rc && !(rc = run_side(&base, &a, &s))) {
        struct sw_identity id = identity(&base, &a.opt);
        rc = report(&a, &id, &s);
    }
    chk_sweep_free(&s);
    close_side(&base);
    free(names);
    return rc;
}
