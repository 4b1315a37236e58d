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

#include "check/dpor.h"
#include "check/explore.h"
#include "check/minimise.h"
#include "util/grow.h"

#define DEFAULT_EXECUTIONS 1000
#define DFS_MAX_EXECUTIONS 1000000

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
    free(r->reduced);
    r->reduced = NULL;
}

/* splitmix64: small, good, and the same everywhere */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* mix(s) % n. A 64-bit division costs more than the rest of a random decision; with n a power
 * of two (two CPUs to choose from, the fault points) the remainder is the low bits, the same
 * number without the division. */
static unsigned below(uint64_t *s, unsigned n)
{
    uint64_t r = mix(s);
    return (unsigned)((n & (n - 1)) == 0 ? r & (n - 1) : r % n);
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
    if (kind == CHK_DECIDE_FAULT_TIME || !ids)
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

/* ---- DFS ----
 *
 * Stateless: each execution is a prefix of forced decisions followed by defaults; its trace
 * gives the next prefix in depth-first order (the deepest decision that still has an untried
 * option within the bound of non-default decisions). Two reductions:
 *
 *  - partial-order reduction by persistent sets: where the default CPU's next step is local
 *    (CHK_DECIDE_SCHED_LOCAL: a relax or idle wait, touching nothing shared), running it first
 *    commutes with every other CPU's step, so the alternatives there are not branched on;
 *  - sharding: every shard runs the all-defaults execution, and each subtree whose first
 *    non-default decision is (position, option) belongs to shard hash(position, option) % N,
 *    so the shards split the tree without talking to each other and their union is the tree.
 */

struct dfs {
    chk_trace prefix; /* decisions forced at the start of the next execution */
    size_t pos;
    uint8_t *local; /* per decision of the running execution: taken by the reduction */
    size_t nlocal, cap_local;
    unsigned shard_i, shard_n;
    bool reduce;                  /* partial-order reduction on */
    bool out_of_time;             /* dfs_next stopped looking: the time budget ran out */
    uint64_t top_total, top_done; /* first-level subtrees: all, and passed (for coverage) */
    chk_dpor *dpor;               /* --bound none: the search of dpor.h instead of the above */
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
    (void)ids;
    size_t pos = d->pos++;
    GROW(d->local, d->nlocal, d->cap_local, 256);
    d->local[d->nlocal++] = kind == CHK_DECIDE_SCHED_LOCAL && d->reduce;
    if (pos < d->prefix.len) {
        unsigned v = d->prefix.v[pos];
        return v < n ? v : dflt;
    }
    return dflt;
}

static uint64_t shard_hash(size_t pos, unsigned v)
{
    uint64_t h = ((uint64_t)pos << 16 | v) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

/* How many first-level subtrees the all-defaults execution opens (coverage denominator). */
static void dfs_count_top(struct dfs *d, const chk_trace *t, unsigned bound)
{
    d->top_total = 0;
    for (size_t i = 0; i < t->len && bound > 0; i++)
        if (!d->local[i])
            d->top_total += t->n[i] - 1u;
}

/* Fraction of the first-level subtrees passed: an estimate of the bounded space covered. */
static double dfs_coverage(const struct dfs *d)
{
    return d->top_total ? (double)d->top_done / (double)d->top_total : 0.0;
}

/* From the execution just run (trace t), the next prefix in DFS order within the bound that
 * belongs to this shard; false when the shard's part of the bounded tree is exhausted, or when
 * the time budget ran out while looking (d->out_of_time: then nothing is known of the rest). */
static bool dfs_next(struct dfs *d, const chk_trace *t, unsigned bound)
{
    size_t len = t->len;
    uint16_t *v = must_alloc((len + 1) * sizeof(*v), "dfs's next decision list");
    unsigned *dev = must_alloc((len + 1) * sizeof(*dev), "dfs's next decision list");
    if (len) /* a run with no decision at all has no trace array */
        memcpy(v, t->v, len * sizeof(*v));
    bool found = false;
    for (unsigned tries = 1; !found; tries++) {
        if (tries % 64 == 0 && chk_deadline_passed()) { /* skipping many subtrees of others */
            d->out_of_time = true;
            break;
        }
        dev[0] = 0;
        for (size_t i = 0; i < len; i++)
            dev[i + 1] = dev[i] + (v[i] != t->dflt[i]);
        size_t i = len;
        unsigned r = 0;
        while (i-- > 0) {
            r = rank_of(v[i], t->dflt[i]) + 1;
            if (!d->local[i] && r < t->n[i] && dev[i] + 1 <= bound)
                break;
        }
        if (i == (size_t)-1)
            break; /* exhausted */
        v[i] = (uint16_t)option_of_rank(r, t->dflt[i]);
        len = i + 1;
        if (dev[i] == 0) { /* a new first-level subtree: whose is it? */
            d->top_done++;
            if (d->shard_n > 1 && shard_hash(i, v[i]) % d->shard_n != d->shard_i)
                continue; /* another shard's: skip it whole, look for the next */
        }
        found = true;
    }
    if (found) {
        d->prefix.len = 0;
        for (size_t j = 0; j < len; j++) {
            GROW(d->prefix.v, d->prefix.len, d->prefix.cap, 64);
            d->prefix.v[d->prefix.len++] = v[j];
        }
    }
    free(v);
    free(dev);
    d->pos = 0;
    d->nlocal = 0;
    return found;
}

/* ---- replay ---- */

struct replay {
    const struct chk_pick *picks;
    size_t n, next;
    uint32_t pos;
    size_t misfits; /* picks whose option was not one of the decision's (taken as its default) */
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
        if (v < n)
            return v;
        r->misfits++;
        return dflt;
    }
    return dflt;
}

/* ---- confirming the step guard ----
 *
 * The step guard is the one judgement made by the machine's clock: a step that has used more
 * than its share of CPU time is taken for a loop that never reaches a platform point. A host
 * can stall the checker's thread in the middle of a short step and still charge it the time (a
 * virtual machine's host preempting it, a storm of page faults): steps of a few hundred
 * nanoseconds have been measured at 2 to 11 ms of thread CPU time on a loaded virtual machine,
 * which would make a correct driver "loop" (or, with interrupts off, lock up) at a step that
 * differs from run to run. A real loop is cut at the same step every time: the steps before it
 * are decided by the schedule alone. So a verdict of the guard stands only once another run of
 * the same execution, with the same decisions, has been cut at the same step; a run that is not
 * cut is the execution's result, and one cut at another step is checked in turn. Every run
 * whose result is reported or used (exploration, minimisation, replay) goes through here.
 */
#define GUARD_RUNS 4 /* runs of one execution at most; a real loop agrees on the second */

/* Were both runs cut by the guard at the same step, or neither? */
static bool same_cut(const chk_result *a, const chk_result *b)
{
    return a->outcome.guard == b->outcome.guard &&
           (!a->outcome.guard || a->outcome.steps == b->outcome.steps);
}

void chk__confirmed(chk_run_fn run, void *ctx, chk_result *res)
{
    run(ctx, res);
    for (unsigned i = 1; i < GUARD_RUNS && res->outcome.guard; i++) {
        chk_result again;
        run(ctx, &again);
        if (same_cut(res, &again))
            return;
        *res = again;
    }
}

/* ---- replay ---- */

struct replay_run {
    const scenario *sc;
    const sim_driver_ops *drv;
    const struct chk_pick *picks;
    size_t npicks;
    FILE *timeline;
    const chk_observer *obs;
    size_t misfits; /* out: picks that did not fit the execution the run made */
};

static void replay_once(void *ctx, chk_result *res)
{
    struct replay_run *rr = ctx;
    struct replay r = {.picks = rr->picks, .n = rr->npicks};
    chk_run_observed(rr->sc, rr->drv, replay_decide, &r, NULL, rr->timeline, rr->obs, res);
    /* past the last decision made: picks at positions the execution never reached */
    while (r.next < r.n && r.picks[r.next].pos < r.pos)
        r.next++;
    rr->misfits = r.misfits + (r.n - r.next);
}

size_t chk_replay_misfits(const scenario *sc, const sim_driver_ops *drv,
                          const struct chk_pick *picks, size_t npicks, chk_result *res)
{
    struct replay_run rr = {.sc = sc, .drv = drv, .picks = picks, .npicks = npicks};
    chk__confirmed(replay_once, &rr, res);
    return rr.misfits;
}

void chk_replay(const scenario *sc, const sim_driver_ops *drv, const struct chk_pick *picks,
                size_t npicks, FILE *timeline, chk_result *res)
{
    chk_replay_observed(sc, drv, picks, npicks, timeline, NULL, res);
}

/* A rendering run (timeline, observer) cannot be taken back once written, so the execution's
 * result is confirmed first without output, and the rendering run's output is passed on only
 * when that run was cut (or not) as the confirmed one was (or on the last try): its timeline
 * goes to a buffer first, and the observer sees it through a filter. */
struct filtered_obs {
    const chk_observer *obs;
    const chk_result *want;
    bool last;   /* the last try: passed on whatever it gives */
    bool agreed; /* the run was cut (or not) as `want` was */
};

static void filter_run(void *ctx, const sim_world *w, const chk_result *res)
{
    struct filtered_obs *f = ctx;
    f->agreed = same_cut(f->want, res) || f->last;
    if (f->agreed && f->obs)
        f->obs->fn(f->obs->ctx, w, res);
}

static void render_confirmed(const struct replay_run *to, const chk_result *want, chk_result *res)
{
    struct filtered_obs f = {.obs = to->obs, .want = want};
    chk_observer filter = {.fn = filter_run, .ctx = &f};
    struct replay_run rr = *to;
    rr.obs = &filter;
    for (unsigned i = 0; i < GUARD_RUNS; i++) {
        char *buf = NULL;
        size_t len = 0;
        f.last = i + 1 == GUARD_RUNS;
        rr.timeline = to->timeline ? open_memstream(&buf, &len) : NULL;
        if (to->timeline && !rr.timeline) { /* no buffer: write through, unconfirmed */
            struct replay_run direct = *to;
            replay_once(&direct, res);
            return;
        }
        replay_once(&rr, res);
        if (rr.timeline)
            fclose(rr.timeline);
        if (f.agreed && to->timeline)
            fwrite(buf, 1, len, to->timeline);
        free(buf);
        if (f.agreed)
            return;
    }
}

void chk_replay_observed(const scenario *sc, const sim_driver_ops *drv,
                         const struct chk_pick *picks, size_t npicks, FILE *timeline,
                         const chk_observer *obs, chk_result *res)
{
    struct replay_run rr = {.sc = sc, .drv = drv, .picks = picks, .npicks = npicks};
    chk__confirmed(replay_once, &rr, res);
    if (!timeline && !obs)
        return;
    chk_result want = *res;
    rr.timeline = timeline;
    rr.obs = obs;
    render_confirmed(&rr, &want, res);
}

size_t chk__picks_from_trace(const chk_trace *t, struct chk_pick **out)
{
    size_t n = 0;
    *out = must_alloc((t->len ? t->len : 1) * sizeof(**out), "a counterexample's decisions");
    for (size_t i = 0; i < t->len; i++)
        if (t->v[i] != t->dflt[i])
            (*out)[n++] = (struct chk_pick){.pos = (uint32_t)i, .v = t->v[i]};
    return n;
}

/* ---- the loop ---- */

/* Execution e of a random or PCT exploration: its generator is seeded by (seed, e) alone, so
 * any execution can be re-run by itself. PCT spreads its change points over the longest run
 * seen so far (*k_est). */
static void run_seeded(const scenario *sc, const sim_driver_ops *drv, enum chk_strategy strategy,
                       uint64_t seed0, uint64_t e, unsigned depth, uint64_t *k_est,
                       chk_trace *trace, chk_result *res)
{
    uint64_t seed = seed0 * 0x100000001B3ull + e;
    if (strategy == CHK_STRAT_PCT) {
        struct pct p;
        pct_begin(&p, mix(&seed), sc->cpus, depth ? depth : 3, *k_est);
        chk__run_once_plain(sc, drv, pct_decide, &p, trace, res); /* reads fault kinds only */
        if (p.step > *k_est)
            *k_est = p.step;
    } else {
        struct rnd r = {mix(&seed)};
        chk__run_once_plain(sc, drv, random_decide, &r, trace, res);
    }
}

struct seeded_run {
    const scenario *sc;
    const sim_driver_ops *drv;
    enum chk_strategy strategy;
    uint64_t seed, e;
    unsigned pct_depth;
    chk_trace *trace;
};

static void seeded_once(void *ctx, chk_result *res)
{
    const struct seeded_run *s = ctx;
    uint64_t k_est = 1000;
    s->trace->len = 0;
    run_seeded(s->sc, s->drv, s->strategy, s->seed, s->e, s->pct_depth, &k_est, s->trace, res);
}

void chk__run_seeded(const scenario *sc, const sim_driver_ops *drv, enum chk_strategy strategy,
                     uint64_t seed, uint64_t e, unsigned pct_depth, chk_trace *trace,
                     chk_result *res)
{
    struct seeded_run s = {sc, drv, strategy, seed, e, pct_depth, trace};
    chk__confirmed(seeded_once, &s, res);
}

struct progress_clock {
    double t0, last;
    uint64_t budget;
    double coverage; /* dfs: estimated fraction covered; negative: unknown */
};

static void progress(const chk_options *o, struct progress_clock *pc, uint64_t done, bool final)
{
    if (!o->on_progress)
        return;
    double now = chk_now();
    if (!final && now - pc->last < 0.5)
        return;
    pc->last = now;
    struct chk_progress p = {.executions = done,
                             .execution_budget = pc->budget,
                             .elapsed_s = now - pc->t0,
                             .time_budget_s = o->seconds > 0 ? o->seconds : 0,
                             .coverage = pc->coverage,
                             .final = final};
    o->on_progress(o->progress_ctx, &p);
}

/* Execution e of the exploration (for DFS: the one the current prefix gives), into *trace and
 * *res; *k_est is PCT's estimate of a run's length. */
static void run_execution(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                          uint64_t e, struct dfs *dfs, uint64_t *k_est, chk_trace *trace,
                          chk_result *res)
{
    trace->len = 0;
    if (o->strategy == CHK_STRAT_RANDOM || o->strategy == CHK_STRAT_PCT) {
        run_seeded(sc, drv, o->strategy, o->seed, e, o->pct_depth, k_est, trace, res);
    } else if (o->strategy == CHK_STRAT_DFS && o->dfs_bound == CHK_BOUND_NONE) {
        chk_dpor *dp = dfs->dpor;
        chk_dpor_begin(dp);
        chk__set_steplog(chk_dpor_log(dp));
        chk_run_once(sc, drv, chk_dpor_decide, dp, trace, NULL, res);
        chk__set_steplog(NULL);
    } else if (o->strategy == CHK_STRAT_DFS) {
        dfs->pos = 0;
        dfs->nlocal = 0;
        chk_run_once(sc, drv, dfs_decide, dfs, trace, NULL, res);
    } else {
        chk_replay(sc, drv, o->picks, o->npicks, NULL, res); /* records no trace */
    }
}

/* Execution e of the exploration, its guard verdict confirmed (chk__confirmed). A run
 * repeated for that leaves PCT's estimate of a run's length as the first run found it. */
struct exploration_run {
    const scenario *sc;
    const sim_driver_ops *drv;
    const chk_options *o;
    uint64_t e;
    struct dfs *dfs;
    uint64_t *k_est, k_before;
    chk_trace *trace;
};

static void exploration_once(void *ctx, chk_result *res)
{
    struct exploration_run *x = ctx;
    *x->k_est = x->k_before;
    run_execution(x->sc, x->drv, x->o, x->e, x->dfs, x->k_est, x->trace, res);
}

static void run_confirmed(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                          uint64_t e, struct dfs *dfs, uint64_t *k_est, chk_trace *trace,
                          chk_result *res)
{
    struct exploration_run x = {sc, drv, o, e, dfs, k_est, *k_est, trace};
    chk__confirmed(exploration_once, &x, res);
}

static void finish_failed(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                          chk_trace *trace, chk_report *rep);

/* The end of an exploration: the verdict (a cut with nothing judged is incomplete), the failing
 * run's counterexample, the time taken; the caller's deadline back; the trace freed. */
static void conclude(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                     chk_report *rep, const chk_result *res, bool failed, chk_trace *trace,
                     double t0, double outer)
{
    rep->verdict = failed ? res->verdict : CHK_PASS;
    if (!failed && rep->cut && rep->executions == 0)
        rep->verdict = CHK_INCOMPLETE; /* nothing was judged */
    rep->result = *res;
    if (failed)
        finish_failed(sc, drv, o, trace, rep);
    rep->seconds = chk_now() - t0;
    chk_set_deadline(outer);
    chk_trace_free(trace);
    if (rep->complete)
        rep->coverage = 1.0;
}

/* --bound none: the search of dpor.h until the tree is exhausted, a violation, or a budget. */
static int explore_dpor(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                        chk_report *rep, uint64_t budget, double t0, double outer)
{
    chk_dpor *dp = chk_dpor_new();
    chk_dpor_shard(dp, o->shard_i, o->shard_n);
    chk_dpor_set_strict(dp, o->dpor_strict);
    struct dfs via = {.dpor = dp};
    struct progress_clock clock = {t0, t0, budget, 0};
    uint64_t k_est = 0;
    chk_trace trace = {0};
    chk_result res, last_mine = {.verdict = CHK_PASS};
    bool failed = false;
    bool was_local = chk__local_time();
    rep->local_time = o->local_time;
    chk__set_local_time(rep->local_time);
    for (uint64_t done = 0; rep->executions < budget; done++) {
        run_confirmed(sc, drv, o, done, &via, &k_est, &trace, &res);
        if (res.verdict == CHK_INCOMPLETE) {
            rep->cut = true;
            break;
        }
        bool mine = chk_dpor_owned(dp); /* another shard's: not counted, not judged */
        bool pruned = res.outcome.stop == SIM_STOP_INFEASIBLE;
        rep->executions += mine && !pruned;
        rep->dpor_pruned += mine && pruned;
        if (mine && !pruned)
            last_mine = res;
        if (mine && res.verdict != CHK_PASS) {
            failed = true;
            rep->failing_execution = rep->executions - 1; /* among this shard's own */
            break;
        }
        if (!chk_dpor_next(dp)) {
            rep->complete = true;
            clock.coverage = 1.0;
            break;
        }
        clock.coverage = rep->coverage = chk_dpor_coverage(dp);
        progress(o, &clock, rep->executions, false);
        if (chk_deadline_passed())
            break;
    }
    progress(o, &clock, rep->executions, true);
    const struct chk_dpor_stats *st = chk_dpor_stats(dp);
    rep->dpor_blocked = st->blocked;
    rep->dpor_races = st->races;
    rep->dpor_nodes = st->nodes;
    rep->dpor_mismatch = st->mismatch;
    if (st->mismatch) /* a replay left its recorded path: the tree seen is not the tree */
        rep->complete = false;
    chk_dpor_free(dp);
    if (!rep->cut) /* the result shown is this shard's own last run (a cut run's, if cut) */
        res = last_mine;
    conclude(sc, drv, o, rep, &res, failed, &trace, t0, outer);
    chk__set_local_time(was_local);
    return 0;
}

int chk_explore(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                chk_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    uint64_t budget = o->executions;
    if (!budget)
        budget = o->strategy != CHK_STRAT_DFS     ? DEFAULT_EXECUTIONS
                 : o->dfs_bound == CHK_BOUND_NONE ? UINT64_MAX
                                                  : DFS_MAX_EXECUTIONS;
    unsigned shard_n = o->shard_n ? o->shard_n : 1;
    double t0 = chk_now();
    /* The time budget ends exploration and minimisation: an execution still running then is
     * cut (CHK_INCOMPLETE). A deadline the caller set already stands if it is earlier. */
    double outer = chk_deadline();
    if (o->seconds > 0 && (!outer || t0 + o->seconds < outer))
        chk_set_deadline(t0 + o->seconds);
    if (o->strategy == CHK_STRAT_DFS && o->dfs_bound == CHK_BOUND_NONE)
        return explore_dpor(sc, drv, o, rep, budget, t0, outer);
    struct progress_clock clock = {t0, t0, budget, -1};
    struct dfs dfs = {.shard_i = o->shard_i, .shard_n = shard_n, .reduce = o->reduce_local};
    uint64_t k_est = 1000;
    chk_trace trace = {0};
    chk_result res;
    bool failed = false, counted = true;
    uint64_t e = o->strategy == CHK_STRAT_DFS ? 0 : o->first + o->shard_i;
    for (uint64_t done = 0; done < budget;
         done++, e += o->strategy == CHK_STRAT_DFS ? 1 : shard_n) {
        run_confirmed(sc, drv, o, e, &dfs, &k_est, &trace, &res);
        if (res.verdict == CHK_INCOMPLETE) { /* cut by the time budget: neither a pass nor a
                                                violation, and not counted */
            rep->cut = true;
            break;
        }
        if (o->strategy == CHK_STRAT_DFS) {
            if (done == 0)
                dfs_count_top(&dfs, &trace, o->dfs_bound);
            if (done == 0 && o->shard_i != 0) { /* shard 0 owns the all-defaults run */
                res.verdict = CHK_PASS;
                counted = false;
            }
        }
        rep->executions += counted;
        counted = true;
        progress(o, &clock, rep->executions, false);
        if (res.verdict != CHK_PASS) {
            failed = true;
            rep->failing_execution = e;
            break;
        }
        if (o->strategy == CHK_STRAT_REPLAY)
            break;
        if (o->strategy == CHK_STRAT_DFS && !dfs_next(&dfs, &trace, o->dfs_bound) &&
            !dfs.out_of_time) {
            rep->complete = true;
            clock.coverage = 1.0;
            break;
        }
        if (o->strategy == CHK_STRAT_DFS)
            clock.coverage = rep->coverage = dfs_coverage(&dfs);
        if (chk_deadline_passed())
            break;
    }
    progress(o, &clock, rep->executions, true);
    free(dfs.prefix.v);
    free(dfs.local);
    conclude(sc, drv, o, rep, &res, failed, &trace, t0, outer);
    return 0;
}

/* A violation was found: its decisions, minimised unless asked not to. */
static void finish_failed(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                          chk_trace *trace, chk_report *rep)
{
    {
        if (o->strategy == CHK_STRAT_REPLAY) {
            rep->npicks = o->npicks;
            rep->picks = must_alloc((o->npicks ? o->npicks : 1) * sizeof(*rep->picks),
                                    "a counterexample's decisions");
            memcpy(rep->picks, o->picks, o->npicks * sizeof(*rep->picks));
        } else {
            rep->npicks = chk__picks_from_trace(trace, &rep->picks);
        }
        rep->decisions = trace->len;
        /* Without minimisation the failing run, whose result rep holds, is the counterexample:
         * replaying its schedule would only repeat it (and a run the step guard ends costs the
         * guard's whole limit again). */
        if (o->minimise && rep->verdict != CHK_INTERNAL)
            chk__minimise(sc, drv, o, rep);
    }
}
