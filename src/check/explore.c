/*
 * explore.c — strategies and the exploration loop.
 *
 *  random  every decision uniform, from a generator seeded by (seed, execution index), so any
 *          execution can be re-run alone and shards partition the executions exactly;
 *  pct     probabilistic concurrency testing: random CPU priorities, d-1 priority change points
 *          among the k scheduling steps seen so far; the highest-priority candidate runs;
 *  dfs     stateless depth-first search over decision lists with at most `dfs_bound`
 *          non-default decisions per execution; reports when that space is exhausted;
 *  replay  a given list of non-default decisions, defaults elsewhere.
 *
 * A violation is minimised by delta debugging over its non-default decisions: the smallest
 * subset found that still gives the same verdict becomes the counterexample.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/explore.h"
#include "util/grow.h"

#define DEFAULT_EXECUTIONS 1000
#define DFS_MAX_EXECUTIONS 1000000
#define MINIMISE_RUNS      300

const char *chk_strategy_name(enum chk_strategy s)
{
    static const char *const names[] = {"random", "pct", "dfs", "replay"};
    return (unsigned)s < 4 ? names[s] : "?";
}

int chk_strategy_parse(const char *name, enum chk_strategy *out)
{
    for (unsigned s = 0; s < 4; s++)
        if (!strcmp(name, chk_strategy_name((enum chk_strategy)s))) {
            *out = (enum chk_strategy)s;
            return 0;
        }
    return -1;
}

void chk_options_default(chk_options *o)
{
    memset(o, 0, sizeof(*o));
    o->strategy = CHK_STRAT_RANDOM;
    o->seed = 1;
    o->shard_n = 1;
    o->pct_depth = 3;
    o->dfs_bound = 2;
    o->minimise = true;
}

void chk_report_free(chk_report *r)
{
    free(r->picks);
    r->picks = NULL;
    r->npicks = 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: small, good, and the same everywhere */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned below(uint64_t *s, unsigned n)
{
    return (unsigned)(mix(s) % n);
}

/* ---- random ---- */

struct rnd {
    uint64_t s;
};

static unsigned random_decide(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                              const unsigned *ids)
{
    (void)kind, (void)dflt, (void)ids;
    return below(&((struct rnd *)ctx)->s, n);
}

/* ---- PCT ---- */

#define PCT_MAX_CHANGES 8

struct pct {
    uint64_t s;
    int prio[SIM_MAX_CPUS];
    uint64_t change[PCT_MAX_CHANGES];
    unsigned nchange;
    uint64_t step;
    int lowest;
    unsigned last;
};

static void pct_begin(struct pct *p, uint64_t seed, unsigned ncpus, unsigned depth, uint64_t k)
{
    memset(p, 0, sizeof(*p));
    p->s = seed;
    for (unsigned i = 0; i < ncpus; i++)
        p->prio[i] = (int)i + 1;
    for (unsigned i = ncpus; i > 1; i--) { /* Fisher-Yates */
        unsigned j = below(&p->s, i);
        int t = p->prio[i - 1];
        p->prio[i - 1] = p->prio[j];
        p->prio[j] = t;
    }
    p->nchange = depth > 1 ? depth - 1 : 0;
    if (p->nchange > PCT_MAX_CHANGES)
        p->nchange = PCT_MAX_CHANGES;
    for (unsigned i = 0; i < p->nchange; i++)
        p->change[i] = 1 + mix(&p->s) % (k ? k : 1);
    p->lowest = 0;
}

static unsigned pct_decide(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                           const unsigned *ids)
{
    struct pct *p = ctx;
    (void)dflt;
    if (kind != CHK_DECIDE_SCHED || !ids)
        return below(&p->s, n);
    p->step++;
    for (unsigned i = 0; i < p->nchange; i++)
        if (p->change[i] == p->step)
            p->prio[p->last] = --p->lowest; /* demote the running CPU below everyone */
    unsigned best = 0;
    for (unsigned i = 1; i < n; i++)
        if (p->prio[ids[i]] > p->prio[ids[best]])
            best = i;
    p->last = ids[best];
    return best;
}

/* ---- DFS ---- */

struct dfs {
    chk_trace prefix; /* decisions forced at the start of the next execution */
    size_t pos;
};

static unsigned option_of_rank(unsigned r, unsigned dflt)
{
    if (r == 0)
        return dflt;
    return r - 1 >= dflt ? r : r - 1;
}

static unsigned rank_of(unsigned v, unsigned dflt)
{
    if (v == dflt)
        return 0;
    return v < dflt ? v + 1 : v;
}

static unsigned dfs_decide(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                           const unsigned *ids)
{
    struct dfs *d = ctx;
    (void)kind, (void)ids;
    if (d->pos < d->prefix.len) {
        unsigned v = d->prefix.v[d->pos++];
        return v < n ? v : dflt;
    }
    d->pos++;
    return dflt;
}

/* From the execution just run, the next prefix in DFS order within the bound; false when the
 * bounded tree is exhausted. */
static bool dfs_next(struct dfs *d, const chk_trace *t, unsigned bound)
{
    unsigned *dev = malloc((t->len + 1) * sizeof(*dev));
    if (!dev)
        abort();
    dev[0] = 0;
    for (size_t i = 0; i < t->len; i++)
        dev[i + 1] = dev[i] + (t->v[i] != t->dflt[i]);
    bool found = false;
    for (size_t i = t->len; i-- > 0 && !found;) {
        unsigned r = rank_of(t->v[i], t->dflt[i]) + 1;
        if (r >= t->n[i] || dev[i] + 1 > bound)
            continue;
        d->prefix.len = 0;
        for (size_t j = 0; j <= i; j++) {
            GROW(d->prefix.v, d->prefix.len, d->prefix.cap, 64);
            unsigned v = j < i ? t->v[j] : option_of_rank(r, t->dflt[i]);
            d->prefix.v[d->prefix.len++] = (uint16_t)v;
        }
        found = true;
    }
    free(dev);
    d->pos = 0;
    return found;
}

/* ---- replay ---- */

struct replay {
    const struct chk_pick *picks;
    size_t n, next;
    uint32_t pos;
};

static unsigned replay_decide(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                              const unsigned *ids)
{
    struct replay *r = ctx;
    (void)kind, (void)ids;
    uint32_t pos = r->pos++;
    while (r->next < r->n && r->picks[r->next].pos < pos)
        r->next++;
    if (r->next < r->n && r->picks[r->next].pos == pos) {
        unsigned v = r->picks[r->next++].v;
        return v < n ? v : dflt;
    }
    return dflt;
}

void chk_replay(const scenario *sc, const sim_driver_ops *drv, const struct chk_pick *picks,
                size_t npicks, FILE *timeline, chk_result *res)
{
    struct replay r = {.picks = picks, .n = npicks};
    chk_run_once(sc, drv, replay_decide, &r, NULL, timeline, res);
}

/* ---- minimisation ---- */

static enum chk_verdict replay_verdict(const scenario *sc, const sim_driver_ops *drv,
                                       const struct chk_pick *p, size_t n)
{
    chk_result res;
    chk_replay(sc, drv, p, n, NULL, &res);
    return res.verdict;
}

/* ddmin over the picks: try keeping only a chunk, or everything but a chunk. */
static size_t minimise(const scenario *sc, const sim_driver_ops *drv, enum chk_verdict want,
                       struct chk_pick *p, size_t n)
{
    if (n && replay_verdict(sc, drv, NULL, 0) == want)
        return 0;
    struct chk_pick *tmp = malloc((n ? n : 1) * sizeof(*tmp));
    if (!tmp)
        abort();
    unsigned runs = 0, parts = 2;
    while (n >= 2 && runs < MINIMISE_RUNS) {
        size_t chunk = (n + parts - 1) / parts;
        bool reduced = false;
        for (size_t start = 0; start < n && runs < MINIMISE_RUNS; start += chunk) {
            size_t end = start + chunk < n ? start + chunk : n, m = 0;
            for (size_t i = 0; i < n; i++) /* complement of [start, end) */
                if (i < start || i >= end)
                    tmp[m++] = p[i];
            runs++;
            if (m < n && replay_verdict(sc, drv, tmp, m) == want) {
                memcpy(p, tmp, m * sizeof(*p));
                n = m;
                parts = parts > 2 ? parts - 1 : 2;
                reduced = true;
                break;
            }
        }
        if (!reduced) {
            if (chunk == 1)
                break;
            parts = parts * 2 < n ? parts * 2 : (unsigned)n;
        }
    }
    free(tmp);
    return n;
}

static size_t picks_from_trace(const chk_trace *t, struct chk_pick **out)
{
    size_t n = 0;
    *out = malloc((t->len ? t->len : 1) * sizeof(**out));
    if (!*out)
        abort();
    for (size_t i = 0; i < t->len; i++)
        if (t->v[i] != t->dflt[i])
            (*out)[n++] = (struct chk_pick){.pos = (uint32_t)i, .v = t->v[i]};
    return n;
}

/* ---- the loop ---- */

struct progress_clock {
    double t0, last;
    uint64_t budget;
};

static void progress(const chk_options *o, struct progress_clock *pc, uint64_t done, bool final)
{
    if (!o->on_progress)
        return;
    double now = now_s();
    if (!final && now - pc->last < 0.5)
        return;
    pc->last = now;
    struct chk_progress p = {.executions = done,
                             .execution_budget = pc->budget,
                             .elapsed_s = now - pc->t0,
                             .time_budget_s = o->seconds > 0 ? o->seconds : 0,
                             .coverage = -1,
                             .final = final};
    o->on_progress(o->progress_ctx, &p);
}

int chk_explore(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                chk_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    uint64_t budget = o->executions;
    if (!budget)
        budget = o->strategy == CHK_STRAT_DFS ? DFS_MAX_EXECUTIONS : DEFAULT_EXECUTIONS;
    unsigned shard_n = o->shard_n ? o->shard_n : 1;
    double t0 = now_s();
    struct progress_clock clock = {t0, t0, budget};
    struct dfs dfs = {{0}, 0};
    uint64_t k_est = 1000;
    chk_trace trace = {0};
    chk_result res;
    bool failed = false;
    uint64_t e = o->shard_i;
    for (uint64_t done = 0; done < budget; done++, e += shard_n) {
        trace.len = 0;
        uint64_t seed = o->seed * 0x100000001B3ull + e;
        if (o->strategy == CHK_STRAT_RANDOM) {
            struct rnd r = {mix(&seed)};
            chk_run_once(sc, drv, random_decide, &r, &trace, NULL, &res);
        } else if (o->strategy == CHK_STRAT_PCT) {
            struct pct p;
            pct_begin(&p, mix(&seed), sc->cpus, o->pct_depth ? o->pct_depth : 3, k_est);
            chk_run_once(sc, drv, pct_decide, &p, &trace, NULL, &res);
            if (p.step > k_est)
                k_est = p.step;
        } else if (o->strategy == CHK_STRAT_DFS) {
            chk_run_once(sc, drv, dfs_decide, &dfs, &trace, NULL, &res);
        } else {
            chk_replay(sc, drv, o->picks, o->npicks, NULL, &res);
            trace.len = 0;
        }
        rep->executions++;
        progress(o, &clock, rep->executions, false);
        if (res.verdict != CHK_PASS) {
            failed = true;
            rep->failing_execution = e;
            break;
        }
        if (o->strategy == CHK_STRAT_REPLAY)
            break;
        if (o->strategy == CHK_STRAT_DFS && !dfs_next(&dfs, &trace, o->dfs_bound)) {
            rep->complete = true;
            break;
        }
        if (o->seconds > 0 && now_s() - t0 >= o->seconds)
            break;
    }
    progress(o, &clock, rep->executions, true);
    rep->verdict = failed ? res.verdict : CHK_PASS;
    rep->result = res;
    if (failed) {
        if (o->strategy == CHK_STRAT_REPLAY) {
            rep->npicks = o->npicks;
            rep->picks = malloc((o->npicks ? o->npicks : 1) * sizeof(*rep->picks));
            if (!rep->picks)
                abort();
            memcpy(rep->picks, o->picks, o->npicks * sizeof(*rep->picks));
        } else {
            rep->npicks = picks_from_trace(&trace, &rep->picks);
        }
        rep->decisions = trace.len;
        size_t n0 = rep->npicks;
        struct chk_pick *orig = malloc((n0 ? n0 : 1) * sizeof(*orig));
        if (!orig)
            abort();
        memcpy(orig, rep->picks, n0 * sizeof(*orig));
        if (o->minimise && res.verdict != CHK_INTERNAL)
            rep->npicks = minimise(sc, drv, res.verdict, rep->picks, rep->npicks);
        chk_replay(sc, drv, rep->picks, rep->npicks, NULL, &rep->result);
        if (rep->result.verdict != res.verdict) { /* minimisation must never lose the bug */
            memcpy(rep->picks, orig, n0 * sizeof(*orig));
            rep->npicks = n0;
            chk_replay(sc, drv, rep->picks, rep->npicks, NULL, &rep->result);
        }
        free(orig);
    }
    rep->seconds = now_s() - t0;
    chk_trace_free(&trace);
    free(dfs.prefix.v);
    return 0;
}
