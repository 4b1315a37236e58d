/*
 * sweep.c — the sweep of sweep.h: planning each scenario's points, exploring each point until
 * its budget, grouping what it finds by signature, and the bookkeeping a merge shares.
 *
 * A scenario's plan: its factors are its [sweep] domains less the keys the user pinned with
 * --set; a factor's levels are its words and, for a range lo..hi, lo, the middle and hi. Point 0
 * takes every factor's default (the catalog's own cell); then one point per row of the pairwise
 * covering array of the levels; then random points drawing each factor from its whole domain
 * (any integer of a range). A point equal to an earlier one is not planned twice. Points are
 * numbered across scenarios in order, and shard I runs the ones whose number is I mod N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/cover.h"
#include "check/minimise.h"
#include "check/region.h"
#include "check/sweep.h"
#include "util/grow.h"

void chk_sweep_options_default(chk_sweep_options *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->shard_n = 1;
    o->random_points = SW_DEFAULT_RANDOM_POINTS;
}

/* ---- the data ---- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(must_alloc(n, "a sweep's records"), s, n);
}

void chk_sweep_init(chk_sweep *s)
{
    memset(s, 0, sizeof(*s));
    s->shard_n = 1;
}

unsigned chk_sweep_add_scenario(chk_sweep *s, const char *name, unsigned nfactors,
                                const char *const *keys, unsigned planned)
{
    s->scen = realloc(s->scen, (s->nscen + 1) * sizeof(*s->scen));
    if (!s->scen)
        grow_out_of_memory(0, "a sweep's scenarios");
    struct chk_sw_scen *c = &s->scen[s->nscen];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->nfactors = nfactors;
    c->keys = must_alloc((nfactors ? nfactors : 1) * sizeof(*c->keys), "a sweep's factors");
    for (unsigned f = 0; f < nfactors; f++)
        snprintf(c->keys[f], sizeof(c->keys[f]), "%s", keys[f]);
    c->planned = planned;
    return s->nscen++;
}

struct chk_sw_point *chk_sweep_add_point(chk_sweep *s, unsigned scen, unsigned index,
                                         const char *const *values)
{
    s->points = grow_array(s->points, &s->points_cap, s->npoints, sizeof(*s->points), 64,
                           "a sweep's points");
    struct chk_sw_point *p = &s->points[s->npoints++];
    memset(p, 0, sizeof(*p));
    p->scen = scen;
    p->index = index;
    unsigned nf = s->scen[scen].nfactors;
    p->values = must_alloc((nf ? nf : 1) * sizeof(*p->values), "a sweep's points");
    for (unsigned f = 0; f < nf; f++)
        p->values[f] = dup_str(values[f]);
    return p;
}

unsigned chk_sweep_failure(chk_sweep *s, const char *signature, bool *is_new)
{
    for (unsigned i = 0; i < s->nfail; i++)
        if (!strcmp(s->fail[i].signature, signature)) {
            *is_new = false;
            return i;
        }
    size_t cap = s->fail_cap;
    s->fail = grow_array(s->fail, &cap, s->nfail, sizeof(*s->fail), 8, "a sweep's failures");
    s->fail_cap = (unsigned)cap;
    struct chk_sw_failure *f = &s->fail[s->nfail];
    memset(f, 0, sizeof(*f));
    snprintf(f->signature, sizeof(f->signature), "%s", signature);
    *is_new = true;
    return s->nfail++;
}

void chk_sweep_point_saw(struct chk_sw_point *p, unsigned failure, uint64_t n)
{
    for (unsigned i = 0; i < p->nfails; i++)
        if (p->fails[i] == failure) {
            p->counts[i] += n;
            return;
        }
    p->fails = realloc(p->fails, (p->nfails + 1) * sizeof(*p->fails));
    p->counts = realloc(p->counts, (p->nfails + 1) * sizeof(*p->counts));
    if (!p->fails || !p->counts)
        grow_out_of_memory(0, "a sweep's points");
    p->fails[p->nfails] = failure;
    p->counts[p->nfails++] = n;
}

static void free_ce(struct chk_sw_failure *f)
{
    for (unsigned i = 0; i < f->nsets; i++)
        free(f->sets[i]);
    free(f->sets);
    free(f->picks);
    f->sets = NULL, f->picks = NULL, f->nsets = 0, f->npicks = 0;
}

void chk_sweep_set_ce(struct chk_sw_failure *f, const char *const *sets, unsigned nsets,
                      const struct chk_pick *picks, size_t npicks)
{
    free_ce(f);
    f->sets = must_alloc((nsets ? nsets : 1) * sizeof(*f->sets), "a counterexample");
    for (unsigned i = 0; i < nsets; i++)
        f->sets[i] = dup_str(sets[i]);
    f->nsets = nsets;
    f->picks = must_alloc((npicks ? npicks : 1) * sizeof(*f->picks), "a counterexample");
    memcpy(f->picks, picks, npicks * sizeof(*picks));
    f->npicks = npicks;
}

void chk_sweep_free(chk_sweep *s)
{
    for (size_t i = 0; i < s->npoints; i++) {
        struct chk_sw_point *p = &s->points[i];
        for (unsigned f = 0; f < s->scen[p->scen].nfactors; f++)
            free(p->values[f]);
        free(p->values);
        free(p->rejected);
        free(p->fails);
        free(p->counts);
    }
    for (unsigned i = 0; i < s->nfail; i++) {
        free_ce(&s->fail[i]);
        free(s->fail[i].seen);
    }
    for (unsigned i = 0; i < s->nscen; i++)
        free(s->scen[i].keys);
    free(s->points);
    free(s->fail);
    free(s->scen);
    memset(s, 0, sizeof(*s));
}

/* ---- finishing: order and regions ---- */

static int by_scen_index(const void *a, const void *b)
{
    const struct chk_sw_point *x = a, *y = b;
    if (x->scen != y->scen)
        return x->scen < y->scen ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static const chk_sweep *order_of; /* the sweep whose failures by_first sorts (qsort has no ctx) */

static int by_first(const void *a, const void *b)
{
    const struct chk_sw_failure *x = &order_of->fail[*(const unsigned *)a],
                                *y = &order_of->fail[*(const unsigned *)b];
    if (x->scen != y->scen)
        return x->scen < y->scen ? -1 : 1;
    if (x->point != y->point)
        return x->point < y->point ? -1 : 1;
    if (x->execution != y->execution)
        return x->execution < y->execution ? -1 : 1;
    return strcmp(x->signature, y->signature);
}

/* Order the failures by first occurrence and renumber the points' references. */
static void order_failures(chk_sweep *s)
{
    unsigned n = s->nfail, *order = must_alloc((n + 1) * sizeof(*order), "a sweep"),
             *rank = must_alloc((n + 1) * sizeof(*rank), "a sweep");
    for (unsigned i = 0; i < n; i++)
        order[i] = i;
    order_of = s;
    qsort(order, n, sizeof(*order), by_first);
    struct chk_sw_failure *f = must_alloc((n + 1) * sizeof(*f), "a sweep's failures");
    for (unsigned i = 0; i < n; i++) {
        f[i] = s->fail[order[i]];
        rank[order[i]] = i;
    }
    free(s->fail);
    s->fail = f;
    s->fail_cap = n + 1;
    for (size_t p = 0; p < s->npoints; p++)
        for (unsigned k = 0; k < s->points[p].nfails; k++)
            s->points[p].fails[k] = rank[s->points[p].fails[k]];
    free(order);
    free(rank);
}

/* Did point p show the failure? Its executions that did are added to *count. */
static bool point_saw(const struct chk_sw_point *p, unsigned failure, uint64_t *count)
{
    for (unsigned k = 0; k < p->nfails; k++)
        if (p->fails[k] == failure) {
            *count += p->counts[k];
            return true;
        }
    return false;
}

/* Failure i in scenario c: the points that ran there, which showed it, and its region. */
static bool seen_in(const chk_sweep *s, unsigned i, unsigned c, struct chk_sw_seen *out)
{
    const struct chk_sw_scen *sc = &s->scen[c];
    size_t n = 0, lo = s->npoints;
    for (size_t p = 0; p < s->npoints; p++)
        if (s->points[p].scen == c && !s->points[p].rejected) {
            lo = lo < p ? lo : p;
            n++;
        }
    memset(out, 0, sizeof(*out));
    out->scen = c;
    if (!n)
        return false;
    const char **values = must_alloc(n * (sc->nfactors + 1) * sizeof(*values), "a region");
    const char **keys = must_alloc((sc->nfactors + 1) * sizeof(*keys), "a region");
    bool *in = must_alloc(n * sizeof(*in), "a region");
    size_t k = 0;
    for (unsigned f = 0; f < sc->nfactors; f++)
        keys[f] = sc->keys[f];
    for (size_t p = lo; p < s->npoints && k < n; p++) {
        const struct chk_sw_point *pt = &s->points[p];
        if (pt->scen != c || pt->rejected)
            continue;
        for (unsigned f = 0; f < sc->nfactors; f++)
            values[k * sc->nfactors + f] = pt->values[f];
        in[k] = point_saw(pt, i, &out->count);
        out->points += in[k++];
    }
    if (out->points) {
        struct chk_region_in r = {sc->nfactors, keys, n, values, in};
        chk_region_describe(&r, out->region, sizeof(out->region));
    }
    free(values);
    free(keys);
    free(in);
    return out->points > 0;
}

void chk_sweep_finish(chk_sweep *s)
{
    if (s->npoints) /* none (a report with an empty grid): s->points may be NULL */
        qsort(s->points, s->npoints, sizeof(*s->points), by_scen_index);
    order_failures(s);
    for (unsigned i = 0; i < s->nfail; i++) {
        struct chk_sw_failure *f = &s->fail[i];
        free(f->seen);
        f->seen = must_alloc((s->nscen + 1) * sizeof(*f->seen), "a failure's scenarios");
        f->nseen = 0;
        f->count = 0;
        for (unsigned k = 0; k < s->nscen; k++) {
            unsigned c = k == 0 ? f->scen : (k <= f->scen ? k - 1 : k);
            if (seen_in(s, i, c, &f->seen[f->nseen]))
                f->count += f->seen[f->nseen++].count;
        }
    }
}

/* ---- planning ---- */

#define SW_MAX_FACTORS SC_MAX_SWEEP_KEYS
#define SW_MAX_USER    64
#define SW_MAX_SETS    (SW_MAX_USER + SW_MAX_FACTORS + CHK_MAX_REDUCTIONS)

struct factor {
    struct sc_sweep_dom dom; /* a copy: the scenario it came from is loaded over for each point */
    char dflt[SC_NAME_LEN];
    unsigned nlevels;
    char levels[CHK_COVER_MAX_LEVELS][SC_NAME_LEN];
};

struct plan {
    unsigned nfactors;
    struct factor f[SW_MAX_FACTORS];
    size_t npoints;
    char (*values)[SW_MAX_FACTORS][SC_NAME_LEN]; /* npoints rows */
};

static void add_level(struct factor *f, const char *v)
{
    for (unsigned l = 0; l < f->nlevels; l++)
        if (!strcmp(f->levels[l], v))
            return;
    if (f->nlevels < CHK_COVER_MAX_LEVELS)
        snprintf(f->levels[f->nlevels++], SC_NAME_LEN, "%s", v);
}

static bool pinned(const chk_sweep_options *o, const char *key)
{
    size_t n = strlen(key);
    for (unsigned i = 0; i < o->nuser; i++)
        if (!strncmp(o->user_sets[i], key, n) && o->user_sets[i][n] == '=')
            return true;
    return false;
}

static void plan_factors(const scenario *base, const chk_sweep_options *o, struct plan *pl)
{
    pl->nfactors = 0;
    for (unsigned d = 0; d < base->nsweep && pl->nfactors < SW_MAX_FACTORS; d++) {
        const struct sc_sweep_dom *dom = &base->sweep[d];
        if (pinned(o, dom->key))
            continue;
        struct factor *f = &pl->f[pl->nfactors++];
        const char *dv = sc_param(base, dom->key);
        f->dom = *dom;
        f->nlevels = 0;
        snprintf(f->dflt, sizeof(f->dflt), "%s", dv ? dv : "");
        for (unsigned i = 0; i < dom->nitems; i++) {
            const struct sc_sweep_item *it = &dom->items[i];
            char t[SC_NAME_LEN];
            if (!it->range) {
                add_level(f, it->text);
                continue;
            }
            snprintf(t, sizeof(t), "%lld", (long long)it->lo);
            add_level(f, t);
            snprintf(t, sizeof(t), "%lld", (long long)(it->lo + (it->hi - it->lo) / 2));
            add_level(f, t);
            snprintf(t, sizeof(t), "%lld", (long long)it->hi);
            add_level(f, t);
        }
    }
}

static bool planned_already(const struct plan *pl, const char (*row)[SC_NAME_LEN])
{
    for (size_t p = 0; p < pl->npoints; p++) {
        unsigned f = 0;
        while (f < pl->nfactors && !strcmp(pl->values[p][f], row[f]))
            f++;
        if (f == pl->nfactors)
            return true;
    }
    return false;
}

static void plan_point(struct plan *pl, size_t *cap, const char (*row)[SC_NAME_LEN])
{
    if (planned_already(pl, row))
        return;
    pl->values =
        grow_array(pl->values, cap, pl->npoints, sizeof(*pl->values), 16, "a sweep's plan");
    memcpy(pl->values[pl->npoints++], row, sizeof(*pl->values));
}

/* splitmix64, as the explorer's */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* A random value of factor f's whole domain. */
static void random_value(const struct factor *f, uint64_t *rng, char *out)
{
    const struct sc_sweep_item *it = &f->dom.items[mix(rng) % f->dom.nitems];
    if (!it->range) {
        snprintf(out, SC_NAME_LEN, "%s", it->text);
        return;
    }
    uint64_t span = (uint64_t)(it->hi - it->lo) + 1;
    snprintf(out, SC_NAME_LEN, "%lld", (long long)(it->lo + (int64_t)(span ? mix(rng) % span : 0)));
}

static void plan_points(const char *name, const chk_sweep_options *o, struct plan *pl)
{
    size_t cap = 0;
    char row[SW_MAX_FACTORS][SC_NAME_LEN];
    pl->npoints = 0;
    pl->values = NULL;
    for (unsigned f = 0; f < pl->nfactors; f++)
        snprintf(row[f], SC_NAME_LEN, "%s", pl->f[f].dflt);
    plan_point(pl, &cap, (const char(*)[SC_NAME_LEN])row);
    unsigned levels[SW_MAX_FACTORS], *rows;
    for (unsigned f = 0; f < pl->nfactors; f++)
        levels[f] = pl->f[f].nlevels;
    size_t nrows = chk_cover_pairs(levels, pl->nfactors, &rows);
    for (size_t r = 0; r < nrows; r++) {
        for (unsigned f = 0; f < pl->nfactors; f++)
            snprintf(row[f], SC_NAME_LEN, "%s", pl->f[f].levels[rows[r * pl->nfactors + f]]);
        plan_point(pl, &cap, (const char(*)[SC_NAME_LEN])row);
    }
    free(rows);
    uint64_t rng = name_hash(name) ^ (o->seed * 0x100000001B3ull);
    for (unsigned r = 0; r < o->random_points && pl->nfactors; r++) {
        for (unsigned f = 0; f < pl->nfactors; f++)
            random_value(&pl->f[f], &rng, row[f]);
        plan_point(pl, &cap, (const char(*)[SC_NAME_LEN])row);
    }
}

/* The --set keys of a point: the user's, then "KEY=VALUE" per factor, into sets (strings in
 * buf). Returns how many. */
static unsigned point_sets(const chk_sweep_options *o, const struct plan *pl, size_t p,
                           const char **sets, char (*buf)[2 * SC_NAME_LEN + 2])
{
    unsigned n = 0;
    for (unsigned i = 0; i < o->nuser; i++)
        sets[n++] = o->user_sets[i];
    for (unsigned f = 0; f < pl->nfactors; f++) {
        snprintf(buf[f], sizeof(buf[f]), "%s=%s", pl->f[f].dom.key, pl->values[p][f]);
        sets[n++] = buf[f];
    }
    return n;
}

/* Every level of every factor must be a value the scenario takes on its own. */
static int check_levels(const char *name, const chk_sweep_options *o, const struct plan *pl,
                        scenario *tmp, char *err, size_t errlen)
{
    const char *sets[SW_MAX_SETS];
    char one[2 * SC_NAME_LEN + 2], why[1024];
    for (unsigned f = 0; f < pl->nfactors; f++)
        for (unsigned l = 0; l < pl->f[f].nlevels; l++) {
            unsigned n = 0;
            for (unsigned i = 0; i < o->nuser; i++)
                sets[n++] = o->user_sets[i];
            snprintf(one, sizeof(one), "%s=%s", pl->f[f].dom.key, pl->f[f].levels[l]);
            sets[n++] = one;
            if (o->load(o->load_ctx, name, sets, n, tmp, why, sizeof(why))) {
                snprintf(err, errlen, "%s: [sweep] %s%s: the value %s is refused: %s", name,
                         pl->f[f].dom.key, pl->f[f].dom.builtin ? " (built-in domain)" : "",
                         pl->f[f].levels[l], why);
                return -1;
            }
        }
    return 0;
}

/* ---- running ---- */

struct sweep_run {
    const chk_sweep_options *o;
    const sim_driver_ops *drv;
    chk_sweep *s;
    double t0;
    uint64_t budget_total; /* for the progress line */
    bool plan_only;        /* count the points, run none */
};

/* A new failure's counterexample: the failing execution minimised (keeping its signature),
 * with the point's --set keys and the reductions minimisation kept. */
static void keep_counterexample(struct sweep_run *r, const scenario *sc, const char *const *sets,
                                unsigned nsets, chk_report *rep, struct chk_sw_failure *f)
{
    chk_options mo;
    chk_options_default(&mo);
    mo.seed = r->o->seed;
    if (rep->verdict != CHK_INTERNAL && !chk_deadline_passed()) {
        chk__minimise(sc, r->drv, &mo, rep);
        f->minimised = true;
    }
    const char *all[SW_MAX_SETS];
    unsigned n = 0;
    for (unsigned i = 0; i < nsets && n < SW_MAX_SETS; i++)
        all[n++] = sets[i];
    for (unsigned i = 0; i < rep->nreductions && n < SW_MAX_SETS; i++)
        all[n++] = rep->reductions[i];
    chk_sweep_set_ce(f, all, n, rep->picks, rep->npicks);
    f->virtual_ns = rep->result.outcome.t;
    snprintf(f->why, sizeof(f->why), "%s", rep->result.why);
}

/* Record a violation found at point pt (its number `index` in scenario c). */
static void record(struct sweep_run *r, unsigned c, const scenario *sc, struct chk_sw_point *pt,
                   const char *const *sets, unsigned nsets, chk_report *rep, bool *new_here)
{
    char sig[256];
    bool is_new;
    chk_signature(&rep->result, sig, sizeof(sig));
    unsigned id = chk_sweep_failure(r->s, sig, &is_new);
    struct chk_sw_failure *f = &r->s->fail[id];
    *new_here = true;
    for (unsigned k = 0; k < pt->nfails; k++)
        *new_here &= pt->fails[k] != id;
    chk_sweep_point_saw(pt, id, 1);
    if (!is_new)
        return;
    snprintf(f->oracle, sizeof(f->oracle), "%s", chk_verdict_name(rep->result.verdict));
    snprintf(f->where, sizeof(f->where), "%s", rep->result.where);
    snprintf(f->trigger, sizeof(f->trigger), "%s", rep->result.trigger);
    f->scen = c;
    f->point = pt->index;
    f->execution = rep->failing_execution;
    keep_counterexample(r, sc, sets, nsets, rep, f);
}

static void progress(struct sweep_run *r, bool final)
{
    if (!r->o->on_progress)
        return;
    static double last;
    double now = chk_now();
    if (!final && now - last < 0.5)
        return;
    last = now;
    struct chk_progress p = {.executions = r->s->executions,
                             .execution_budget = r->budget_total,
                             .elapsed_s = now - r->t0,
                             .time_budget_s = r->o->seconds,
                             .coverage = -1,
                             .final = final};
    r->o->on_progress(r->o->progress_ctx, &p);
}

/* A point's budget before adaptation: its share; the catalog's own point at least what `qinval
 * check` gives a cell by default (unless the user set the budget), so that a sweep finds there
 * whatever check finds. */
static uint64_t point_budget(const struct sweep_run *r, const struct chk_sw_point *pt)
{
    if (pt->index == 0 && !r->o->executions && r->s->per_point < SW_CATALOG_POINT_EXECUTIONS)
        return SW_CATALOG_POINT_EXECUTIONS;
    return r->s->per_point;
}

/* Explore one point: up to its budget (once more if it shows a failure new to it), stopping
 * early when SW_REPEATS violations in a row were ones it had already shown. */
static void explore_point(struct sweep_run *r, unsigned c, const scenario *sc,
                          struct chk_sw_point *pt, const char *const *sets, unsigned nsets)
{
    uint64_t budget = point_budget(r, pt), used = 0, next = 0;
    unsigned repeats = 0;
    bool extended = false;
    while (used < budget && !chk_deadline_passed()) {
        chk_options o;
        chk_options_default(&o);
        o.seed = r->o->seed;
        o.executions = budget - used;
        o.first = next;
        o.minimise = false;
        chk_report rep;
        chk_explore(sc, r->drv, &o, &rep);
        used += rep.executions;
        r->s->executions += rep.executions;
        r->s->cut |= rep.cut;
        bool failed = rep.verdict != CHK_PASS && rep.verdict != CHK_INCOMPLETE;
        if (failed) {
            bool new_here;
            next = rep.failing_execution + 1;
            record(r, c, sc, pt, sets, nsets, &rep, &new_here);
            if (new_here && !extended)
                budget += r->s->per_point, extended = true;
            repeats = new_here ? 0 : repeats + 1;
        }
        chk_report_free(&rep);
        progress(r, false);
        if (!failed || repeats >= SW_REPEATS)
            break;
    }
    pt->executions = used;
}

/* Plan scenario `name`, add it to the sweep, and run this shard's points of it; *g numbers the
 * points across scenarios. */
static int sweep_scenario(struct sweep_run *r, const char *name, unsigned *g, scenario *sc,
                          char *err, size_t errlen)
{
    const chk_sweep_options *o = r->o;
    struct plan *pl = must_alloc(sizeof(*pl), "a sweep's plan");
    if (o->load(o->load_ctx, name, o->user_sets, o->nuser, sc, err, errlen)) {
        free(pl);
        return -1;
    }
    plan_factors(sc, o, pl);
    if (check_levels(name, o, pl, sc, err, errlen)) {
        free(pl);
        return -1;
    }
    plan_points(name, o, pl);
    const char *keys[SW_MAX_FACTORS];
    for (unsigned f = 0; f < pl->nfactors; f++)
        keys[f] = pl->f[f].dom.key;
    unsigned c = chk_sweep_add_scenario(r->s, name, pl->nfactors, keys, (unsigned)pl->npoints);
    r->s->planned += (unsigned)pl->npoints;
    for (size_t p = 0; p < pl->npoints && !r->plan_only; p++, (*g)++) {
        if (*g % r->s->shard_n != r->s->shard_i)
            continue;
        if (chk_deadline_passed()) {
            r->s->cut = true; /* a point of this shard not run */
            continue;
        }
        const char *sets[SW_MAX_SETS], *vals[SW_MAX_FACTORS];
        char buf[SW_MAX_FACTORS][2 * SC_NAME_LEN + 2], why[1024];
        unsigned nsets = point_sets(o, pl, p, sets, buf);
        for (unsigned f = 0; f < pl->nfactors; f++)
            vals[f] = pl->values[p][f];
        struct chk_sw_point *pt = chk_sweep_add_point(r->s, c, (unsigned)p, vals);
        if (o->load(o->load_ctx, name, sets, nsets, sc, why, sizeof(why))) {
            pt->rejected = dup_str(why);
            r->s->rejected++;
            continue;
        }
        explore_point(r, c, sc, pt, sets, nsets);
    }
    free(pl->values);
    free(pl);
    return 0;
}

/* How many points the plan of every scenario has. 0, or -1 with the message in err. */
static int count_points(const char *const *names, unsigned n, const sim_driver_ops *drv,
                        const chk_sweep_options *o, scenario *sc, unsigned *planned, char *err,
                        size_t errlen)
{
    chk_sweep probe;
    chk_sweep_init(&probe);
    struct sweep_run pr = {.o = o, .drv = drv, .s = &probe, .plan_only = true};
    unsigned g = 0;
    int rc = 0;
    for (unsigned i = 0; i < n && !rc; i++)
        rc = sweep_scenario(&pr, names[i], &g, sc, err, errlen);
    *planned = probe.planned;
    chk_sweep_free(&probe);
    return rc;
}

int chk_sweep_run(const char *const *names, unsigned n, const sim_driver_ops *drv,
                  const chk_sweep_options *o, chk_sweep *out, char *err, size_t errlen)
{
    chk_sweep_init(out);
    out->seed = o->seed;
    out->shard_i = o->shard_i;
    out->shard_n = o->shard_n ? o->shard_n : 1;
    scenario *sc = must_alloc(sizeof(*sc), "a scenario");
    unsigned planned;
    /* The plan first (every scenario's points, so that the budget per point is known, and a
     * domain value a scenario refuses is found before anything runs), then the points. */
    if (count_points(names, n, drv, o, sc, &planned, err, errlen)) {
        free(sc);
        return -1;
    }
    out->per_point = SW_DEFAULT_POINT_EXECUTIONS;
    if (o->executions)
        out->per_point = planned && o->executions / planned ? o->executions / planned : 1;
    struct sweep_run r = {o, drv, out, chk_now(), 0, false};
    r.budget_total = (planned + out->shard_n - 1) / out->shard_n * out->per_point +
                     (o->executions ? 0 : n * SW_CATALOG_POINT_EXECUTIONS / out->shard_n);
    double outer = chk_deadline();
    if (o->seconds > 0 && (!outer || r.t0 + o->seconds < outer))
        chk_set_deadline(r.t0 + o->seconds);
    int rc = 0;
    unsigned g = 0;
    for (unsigned i = 0; i < n && !rc; i++)
        rc = sweep_scenario(&r, names[i], &g, sc, err, errlen);
    free(sc);
    progress(&r, true);
    out->seconds = chk_now() - r.t0;
    chk_set_deadline(outer);
    if (!rc)
        chk_sweep_finish(out);
    return rc;
}
