/*
 * sweep_merge.c — the shards of one sweep put back together. Every shard must be of the same
 * sweep: the same driver, settings, kernel tree, --set keys, seed, budget, random points, per
 * point budget, scenarios and plan, and the same N; each index 0..N-1 once. The merged sweep is
 * rebuilt from the shards' grids (every point each ran, with the failures it showed and how
 * often) and failures (a failure's counterexample is the one of its earliest occurrence among
 * the shards, the one a single process keeps), then finished and written by the same code as
 * a sweep run in one process (src/check/sweep.c, src/cli/sweep_out.c).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "check/sweep.h"
#include "cli/cli.h"
#include "cli/sweep_merge.h"
#include "cli/sweep_out.h"
#include "report/jsonw.h"
#include "util/grow.h"

#define MAX_LIST 256

struct shard_in {
    const char *name;
    const json_value *root;
    unsigned index, count;
};

static int fail(const char *name, const char *what, const char *detail)
{
    fprintf(stderr, "qinval merge: %s: %s%s%s\n", name, what, detail ? ": " : "",
            detail ? detail : "");
    return CLI_EXIT_USAGE;
}

/* The members that say which sweep a shard belongs to: equal text in every shard. */
static const char *const same_members[] = {"driver",    "settings",  "ktree",       "sets",
                                           "seed",      "budget",    "time_budget", "random_points",
                                           "per_point", "scenarios", "plan",        "planned"};

/* A member as canonical text, to compare shards ("" when missing). */
static void member_text(const json_value *v, FILE *out)
{
    if (!v)
        return;
    switch (v->type) {
    case JV_NULL:
        fputs("null", out);
        break;
    case JV_BOOL:
        fputs(v->boolean ? "true" : "false", out);
        break;
    case JV_NUMBER:
        if (v->is_u64)
            fprintf(out, "%llu", (unsigned long long)v->u64);
        else
            fprintf(out, "%.17g", v->number);
        break;
    case JV_STRING:
        rep_json_string(out, v->string);
        break;
    case JV_ARRAY:
    case JV_OBJECT:
        fputc(v->type == JV_ARRAY ? '[' : '{', out);
        for (size_t i = 0; i < v->len; i++) {
            fputs(i ? "," : "", out);
            if (v->type == JV_OBJECT) {
                rep_json_string(out, v->keys[i]);
                fputc(':', out);
            }
            member_text(&v->items[i], out);
        }
        fputc(v->type == JV_ARRAY ? ']' : '}', out);
        break;
    }
}

static bool same_member(const json_value *a, const json_value *b, const char *key)
{
    char *x = NULL, *y = NULL;
    size_t nx, ny;
    FILE *fx = open_memstream(&x, &nx), *fy = open_memstream(&y, &ny);
    if (!fx || !fy)
        grow_out_of_memory(0, "a merge");
    member_text(json_get(a, key), fx);
    member_text(json_get(b, key), fy);
    fclose(fx);
    fclose(fy);
    bool same = nx == ny && !memcmp(x, y, nx);
    free(x);
    free(y);
    return same;
}

static int read_shard_field(struct shard_in *s)
{
    const char *text;
    char err[200], tail;
    if (json_get_string(s->root, "shard", &text, err, sizeof(err)))
        return fail(s->name, "not a shard of a sweep (no \"shard\": run with --shard I/N)", NULL);
    if (sscanf(text, "%u/%u%c", &s->index, &s->count, &tail) != 2 || !s->count ||
        s->index >= s->count)
        return fail(s->name, "\"shard\" must be I/N with 0 <= I < N", text);
    return 0;
}

/* Every shard of the same sweep, each index once, all there. */
static int check_shards(struct shard_in *sh, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (sh[i].root->type != JV_OBJECT || !json_get(sh[i].root, "qinval_sweep"))
            return fail(sh[i].name, "not a sweep result (the first file is one)", NULL);
        int rc = read_shard_field(&sh[i]);
        if (rc)
            return rc;
    }
    for (unsigned i = 1; i < n; i++) {
        char what[160];
        for (size_t k = 0; k < sizeof(same_members) / sizeof(*same_members); k++)
            if (!same_member(sh[0].root, sh[i].root, same_members[k])) {
                snprintf(what, sizeof(what), "not a shard of the same sweep as %s: \"%s\" differs",
                         sh[0].name, same_members[k]);
                return fail(sh[i].name, what, NULL);
            }
        if (sh[i].count != sh[0].count) {
            snprintf(what, sizeof(what), "a shard of %u, but %s is a shard of %u", sh[i].count,
                     sh[0].name, sh[0].count);
            return fail(sh[i].name, what, NULL);
        }
        for (unsigned j = 0; j < i; j++)
            if (sh[j].index == sh[i].index) {
                snprintf(what, sizeof(what), "shard %u/%u is also %s", sh[i].index, sh[i].count,
                         sh[j].name);
                return fail(sh[i].name, what, NULL);
            }
    }
    if (n != sh[0].count) {
        char what[120];
        snprintf(what, sizeof(what), "%u of the %u shards given; every shard is needed", n,
                 sh[0].count);
        return fail(sh[0].name, what, NULL);
    }
    return 0;
}

/* ---- rebuilding the sweep ---- */

static int scen_index(const chk_sweep *s, const char *name)
{
    for (unsigned i = 0; i < s->nscen; i++)
        if (!strcmp(s->scen[i].name, name))
            return (int)i;
    return -1;
}

/* The plan: scenarios with their factors and point counts. */
static int read_plan(const struct shard_in *sh, chk_sweep *s, char *err, size_t errlen)
{
    const json_value *plan;
    if (json_get_typed(sh->root, "plan", JV_ARRAY, &plan, err, errlen))
        return -1;
    for (size_t i = 0; i < plan->len; i++) {
        const char *name, **keys;
        size_t nkeys;
        uint64_t points;
        const json_value *e = &plan->items[i];
        if (e->type != JV_OBJECT || json_get_string(e, "scenario", &name, err, errlen) ||
            json_get_strings(e, "factors", SC_MAX_SWEEP_KEYS, &keys, &nkeys, err, errlen))
            return -1;
        if (json_get_u64(e, "points", &points, err, errlen) || points > UINT_MAX) {
            free(keys);
            return -1;
        }
        chk_sweep_add_scenario(s, name, (unsigned)nkeys, keys, (unsigned)points);
        s->planned += (unsigned)points;
        free(keys);
    }
    return 0;
}

static int read_point(const json_value *e, chk_sweep *s, char *err, size_t errlen)
{
    const char *name, **values, *rejected = NULL;
    size_t nvalues;
    uint64_t index, executions;
    const json_value *fails;
    if (e->type != JV_OBJECT || json_get_string(e, "scenario", &name, err, errlen) ||
        json_get_u64(e, "point", &index, err, errlen) ||
        json_get_u64(e, "executions", &executions, err, errlen) ||
        json_get_typed(e, "failures", JV_ARRAY, &fails, err, errlen))
        return -1;
    int c = scen_index(s, name);
    if (c < 0 || index > UINT_MAX)
        return snprintf(err, errlen, "grid: point of an unknown scenario '%s'", name), -1;
    if (json_get_strings(e, "values", SC_MAX_SWEEP_KEYS, &values, &nvalues, err, errlen))
        return -1;
    if (nvalues != s->scen[c].nfactors) {
        free(values);
        return snprintf(err, errlen, "grid: a point of %s has %zu values for %u factors", name,
                        nvalues, s->scen[c].nfactors),
               -1;
    }
    struct chk_sw_point *pt = chk_sweep_add_point(s, (unsigned)c, (unsigned)index, values);
    free(values);
    pt->executions = executions;
    if (json_get(e, "rejected") && !json_get_string(e, "rejected", &rejected, err, errlen)) {
        pt->rejected = strdup(rejected);
        s->rejected++;
    }
    for (size_t k = 0; k < fails->len; k++) {
        const char *sig;
        uint64_t count;
        bool is_new;
        if (json_get_string(&fails->items[k], "signature", &sig, err, errlen) ||
            json_get_u64(&fails->items[k], "count", &count, err, errlen))
            return -1;
        chk_sweep_point_saw(pt, chk_sweep_failure(s, sig, &is_new), count);
    }
    return 0;
}

/* Is (c, point, execution) earlier than failure f's first occurrence so far? */
static bool earlier(const struct chk_sw_failure *f, bool known, unsigned c, unsigned point,
                    uint64_t execution)
{
    if (!known)
        return true;
    if (c != f->scen)
        return c < f->scen;
    if (point != f->point)
        return point < f->point;
    return execution < f->execution;
}

static int copy_string(const json_value *e, const char *key, char *out, size_t len, char *err,
                       size_t errlen)
{
    const char *v;
    if (json_get_string(e, key, &v, err, errlen))
        return -1;
    snprintf(out, len, "%s", v);
    return 0;
}

/* The counterexample of a failure: its sets less the driver's settings, and its picks. */
static int read_ce(const json_value *e, unsigned nsettings, struct chk_sw_failure *f, char *err,
                   size_t errlen)
{
    const json_value *ce, *picks;
    const char **sets;
    size_t nsets;
    if (json_get_typed(e, "counterexample", JV_OBJECT, &ce, err, errlen) ||
        json_get_typed(ce, "picks", JV_ARRAY, &picks, err, errlen) ||
        json_get_strings(ce, "sets", 256, &sets, &nsets, err, errlen))
        return -1;
    struct chk_pick *p = must_alloc((picks->len + 1) * sizeof(*p), "a counterexample");
    int rc = nsets < nsettings ? -1 : 0;
    for (size_t i = 0; i < picks->len && !rc; i++) {
        const json_value *q = &picks->items[i];
        rc = q->type == JV_ARRAY && q->len == 2 && q->items[0].is_u64 && q->items[1].is_u64 &&
                     q->items[0].u64 <= UINT32_MAX && q->items[1].u64 <= UINT16_MAX
                 ? 0
                 : -1;
        if (!rc)
            p[i].pos = (uint32_t)q->items[0].u64, p[i].v = (uint16_t)q->items[1].u64;
    }
    if (rc)
        snprintf(err, errlen, "a counterexample's \"picks\" or \"sets\" are malformed");
    else
        chk_sweep_set_ce(f, sets + nsettings, (unsigned)(nsets - nsettings), p, picks->len);
    free(p);
    free(sets);
    return rc;
}

static int read_failure(const json_value *e, unsigned nsettings, chk_sweep *s, char *err,
                        size_t errlen)
{
    const char *sig, *name;
    const json_value *first;
    uint64_t point, execution, vt;
    bool is_new, minimised;
    if (e->type != JV_OBJECT || json_get_string(e, "signature", &sig, err, errlen) ||
        json_get_string(e, "scenario", &name, err, errlen) ||
        json_get_typed(e, "first", JV_OBJECT, &first, err, errlen) ||
        json_get_u64(first, "point", &point, err, errlen) ||
        json_get_u64(first, "execution", &execution, err, errlen) ||
        json_get_u64(e, "virtual_time_ns", &vt, err, errlen) ||
        json_get_bool(e, "minimised", &minimised, err, errlen))
        return -1;
    int c = scen_index(s, name);
    if (c < 0 || point > UINT_MAX)
        return snprintf(err, errlen, "a failure in an unknown scenario '%s'", name), -1;
    unsigned id = chk_sweep_failure(s, sig, &is_new); /* may move s->fail: before the index */
    struct chk_sw_failure *f = &s->fail[id];
    /* no oracle yet: only seen in a grid so far */
    if (!earlier(f, f->oracle[0] != '\0', (unsigned)c, (unsigned)point, execution))
        return 0;
    if (copy_string(e, "oracle", f->oracle, sizeof(f->oracle), err, errlen) ||
        copy_string(e, "where", f->where, sizeof(f->where), err, errlen) ||
        copy_string(e, "trigger", f->trigger, sizeof(f->trigger), err, errlen) ||
        copy_string(e, "why", f->why, sizeof(f->why), err, errlen) ||
        read_ce(e, nsettings, f, err, errlen))
        return -1;
    f->scen = (unsigned)c, f->point = (unsigned)point, f->execution = execution;
    f->virtual_ns = vt;
    f->minimised = minimised;
    return 0;
}

/* Add one shard's points, figures and failures. */
static int add_shard(const struct shard_in *sh, chk_sweep *s, char *err, size_t errlen)
{
    const json_value *grid, *fails, *settings;
    uint64_t executions;
    double seconds;
    bool complete;
    if (json_get_typed(sh->root, "grid", JV_ARRAY, &grid, err, errlen) ||
        json_get_typed(sh->root, "failures", JV_ARRAY, &fails, err, errlen) ||
        json_get_typed(sh->root, "settings", JV_ARRAY, &settings, err, errlen) ||
        json_get_u64(sh->root, "executions", &executions, err, errlen) ||
        json_get_seconds(sh->root, "seconds", &seconds, err, errlen) ||
        json_get_bool(sh->root, "complete", &complete, err, errlen))
        return -1;
    for (size_t i = 0; i < grid->len; i++)
        if (read_point(&grid->items[i], s, err, errlen))
            return -1;
    for (size_t i = 0; i < fails->len; i++)
        if (read_failure(&fails->items[i], (unsigned)settings->len, s, err, errlen))
            return -1;
    s->executions += executions;
    s->seconds = seconds > s->seconds ? seconds : s->seconds;
    s->cut |= !complete;
    return 0;
}

/* The identity for the writers, from the first shard (every shard has the same). */
static int read_identity(const json_value *root, struct sw_identity *id, const char ***settings,
                         const char ***sets, char *err, size_t errlen)
{
    size_t nsettings, nsets;
    uint64_t rp;
    if (json_get_string(root, "driver", &id->driver, err, errlen) ||
        json_get_strings(root, "settings", SC_MAX_DRV_SETS, settings, &nsettings, err, errlen) ||
        json_get_strings(root, "sets", 64, sets, &nsets, err, errlen) ||
        json_get_u64(root, "seed", &id->seed, err, errlen) ||
        json_get_u64(root, "budget", &id->executions, err, errlen) ||
        json_get_seconds(root, "time_budget", &id->time_budget, err, errlen) ||
        json_get_u64(root, "random_points", &rp, err, errlen) || rp > 1000)
        return -1;
    id->settings = *settings, id->nsettings = (unsigned)nsettings;
    id->sets = *sets, id->nsets = (unsigned)nsets;
    id->random_points = (unsigned)rp;
    id->ktree = NULL;
    if (json_get(root, "ktree") && json_get_string(root, "ktree", &id->ktree, err, errlen))
        return -1;
    return 0;
}

static int write_report(const char *format, const char *save, const struct sw_identity *id,
                        const chk_sweep *s)
{
    char **paths = NULL, err[4300];
    if (save && sw_save_all(save, id, s, &paths, err, sizeof(err))) {
        fprintf(stderr, "qinval merge: the counterexamples were not saved: %s\n", err);
        sw_free_paths(paths, s->nfail);
        return CLI_EXIT_INTERNAL;
    }
    if (!strcmp(format, "json"))
        sw_write_json(stdout, id, s);
    else if (!strcmp(format, "markdown"))
        sw_write_markdown(stdout, id, s, paths);
    else if (!strcmp(format, "ktap"))
        sw_write_ktap(stdout, id, s, paths);
    else
        sw_write_text(stdout, id, s, paths);
    sw_free_paths(paths, s->nfail);
    return s->nfail ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
}

int sweep_merge_load(json_value *const *roots, const char *const *paths, unsigned n,
                     struct sweep_merged *m)
{
    memset(m, 0, sizeof(*m));
    chk_sweep_init(&m->s);
    struct shard_in *sh = calloc(n, sizeof(*sh));
    if (!sh)
        grow_out_of_memory(0, "a merge");
    for (unsigned i = 0; i < n; i++) {
        sh[i].root = roots[i];
        sh[i].name = strcmp(paths[i], "-") ? paths[i] : "<stdin>";
    }
    int rc = n ? check_shards(sh, n) : CLI_EXIT_USAGE;
    char err[400];
    for (unsigned i = 0; i < n && !rc; i++) {
        if (i == 0 &&
            (read_identity(sh[0].root, &m->id, &m->settings, &m->sets, err, sizeof(err)) ||
             read_plan(&sh[0], &m->s, err, sizeof(err))))
            rc = fail(sh[0].name, err, NULL);
        else if (add_shard(&sh[i], &m->s, err, sizeof(err)))
            rc = fail(sh[i].name, err, NULL);
    }
    if (!rc) {
        uint64_t per_point = 0;
        json_get_u64(sh[0].root, "per_point", &per_point, err, sizeof(err));
        m->s.seed = m->id.seed;
        m->s.per_point = per_point;
        chk_sweep_finish(&m->s);
    }
    free(sh);
    return rc;
}

void sweep_merged_free(struct sweep_merged *m)
{
    chk_sweep_free(&m->s);
    free(m->settings);
    free(m->sets);
    memset(m, 0, sizeof(*m));
}

int sweep_merge(json_value **roots, const char *const *paths, unsigned n, const char *format,
                const char *save)
{
    struct sweep_merged m;
    int rc = sweep_merge_load(roots, paths, n, &m);
    if (!rc)
        rc = write_report(format, save, &m.id, &m.s);
    sweep_merged_free(&m); /* the identity's strings point into the trees: freed after */
    for (unsigned i = 0; i < n; i++)
        json_free(roots[i]);
    return rc;
}
