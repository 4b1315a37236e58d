/*
 * dpor.c — the unbounded search of dpor.h.
 *
 * The search is stateless: each execution re-runs the scenario from the start. The decisions of
 * the current execution form a stack of nodes; an execution replays the nodes already on the
 * stack (their `chosen` option) and pushes a new node at each later decision, taking its default
 * unless that CPU is asleep. After the run, its races are found and each asks for a branch at the
 * node before its first step; the next execution is the deepest node with a branch not yet run.
 *
 * Invariants:
 *  - A node's `done` options have been run (or are running) from it with the same prefix;
 *    `backtrack` is what the races seen so far ask for there; the search at a node is over when
 *    backtrack \ done holds no option that is not asleep.
 *  - The live sleep set, while an execution runs, is the sleep set of the state it is in: at a
 *    node, the options run before the chosen one (with the footprints their steps had there)
 *    join it; every step executed removes the entries it is dependent on (its own CPU's among
 *    them). A CPU asleep at a node would only repeat, up to reordering independent steps, an
 *    execution already run, so it is not branched to.
 *  - Races: step i and a later step j of another CPU are in a race when they are dependent and
 *    i does not already happen before j through other steps (vector clocks over the program
 *    order and the dependencies of this execution). Reversing it needs j's CPU to run at the
 *    node before i; if that CPU was not a candidate there, every candidate is a branch
 *    (persistent backtracking). A step that ran without a decision (one candidate) has no
 *    alternative to add.
 *  - Fault-time decisions (a fault's time in its range) branch on every option: they are taken
 *    before any CPU runs and nothing reorders them.
 *  - Shards (chk_dpor_shard): the first `split` decisions branch on every option (no
 *    reduction there), so every shard walks the same top of the tree without hearing of the
 *    others' races. The subtree below a path of `split` choices (or a whole execution with
 *    fewer decisions) belongs to shard hash(path) % N; a shard runs each subtree of another's
 *    once, to its end, judging and analysing nothing past the split, and never branches in
 *    it. Below the split each subtree is a search of its own, complete relative to its root,
 *    since a race reaching above the split asks only for options that are run anyway. Sleep
 *    sets stay sound: an option asleep in a subtree is covered by its sibling's subtree,
 *    whichever shard runs that. So the shards' union covers every interleaving, at the cost
 *    of the reduction lost in the top `split` decisions.
 */
#include <stdlib.h>
#include <string.h>

#include "check/dpor.h"
#include "util/grow.h"

enum { NODE_SCHED, NODE_FAULT };

struct node {
    uint8_t kind, n;
    uint8_t cands[SIM_MAX_CPUS]; /* NODE_SCHED: the candidate CPUs, by option */
    uint16_t chosen;
    uint64_t backtrack, done, asleep; /* by option; asleep: at entry */
    size_t step;                      /* the step the chosen option ran (this execution) */
    sim_step_fp *fp;                  /* NODE_SCHED: per option, its step here (cpu -1: none) */
};

struct objstate {
    uintptr_t key; /* 0: empty slot */
    int32_t lastw, reads;
};

struct chk_dpor {
    struct node *nodes;
    size_t nnodes, cap_nodes;
    size_t pos;     /* decisions taken in the running execution */
    size_t scanned; /* steps of the running execution applied to the live sleep set */
    size_t blocked; /* SIZE_MAX, or the step index where the execution became sleep-blocked */
    bool new_blocked;
    bool strict;                      /* chk_dpor_set_strict: every step dependent */
    unsigned shard_i, shard_n, split; /* chk_dpor_shard; shard_n 1: not sharded */
    int owned;                        /* the running execution: 1 this shard's, 0 another's,
                                         -1 not known yet (fewer than split decisions so far) */
    sim_step_fp *sleep;
    size_t nsleep, cap_sleep;
    sim_steplog log;
    /* race analysis scratch */
    uint32_t *vc;
    size_t cap_vc;
    int32_t *step_node;
    size_t cap_step_node;
    struct objstate *objs;
    size_t cap_objs;
    uint32_t *used; /* slots of objs filled by the last analysis: emptied by the next */
    size_t nused, cap_used;
    uint32_t *step_pos; /* per step: its index among its CPU's steps, from 1 */
    size_t cap_step_pos;
    struct rd {
        int32_t step, next; /* a read of an object since its last write; the next older one */
    } * rds;
    size_t nrds, cap_rds;
    struct chk_dpor_stats stats;
};

chk_dpor *chk_dpor_new(void)
{
    chk_dpor *d = must_alloc(sizeof(*d), "the dpor search");
    memset(d, 0, sizeof(*d));
    d->shard_n = 1;
    return d;
}

void chk_dpor_set_strict(chk_dpor *d, bool strict)
{
    d->strict = strict;
}

void chk_dpor_shard(chk_dpor *d, unsigned i, unsigned n)
{
    d->shard_i = i;
    d->shard_n = n > 1 ? n : 1;
    /* about 16 subtrees per shard where decisions are binary, more where they are wider */
    d->split = 0;
    if (d->shard_n > 1)
        for (d->split = 4; d->split < 40 && (1ull << (d->split - 4)) < d->shard_n; d->split++)
            ;
}

/* Which shard the path of the first `len` decisions belongs to. */
static bool path_owned(const chk_dpor *d, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t k = 0; k < len; k++) {
        h ^= (uint64_t)d->nodes[k].chosen << 8 | d->nodes[k].n;
        h *= 0x100000001b3ull;
    }
    h ^= h >> 29;
    return h % d->shard_n == d->shard_i;
}

bool chk_dpor_owned(chk_dpor *d)
{
    if (d->owned < 0) { /* its first `split` decisions decide (all of them, if it had fewer) */
        size_t len = d->nnodes < d->pos ? d->nnodes : d->pos;
        d->owned = path_owned(d, len < d->split ? len : d->split);
    }
    return d->owned;
}

static void drop_nodes(chk_dpor *d, size_t keep)
{
    for (size_t i = keep; i < d->nnodes; i++)
        free(d->nodes[i].fp);
    d->nnodes = keep;
}

void chk_dpor_free(chk_dpor *d)
{
    if (!d)
        return;
    drop_nodes(d, 0);
    free(d->nodes);
    free(d->sleep);
    sim_steplog_free(&d->log);
    free(d->vc);
    free(d->step_node);
    free(d->objs);
    free(d->rds);
    free(d->used);
    free(d->step_pos);
    free(d);
}

void chk_dpor_begin(chk_dpor *d)
{
    d->pos = 0;
    d->scanned = 0;
    d->nsleep = 0;
    d->blocked = SIZE_MAX;
    d->new_blocked = false;
    d->owned = d->shard_n > 1 ? -1 : 1;
    d->log.n = 0;
}

sim_steplog *chk_dpor_log(chk_dpor *d)
{
    return &d->log;
}

const struct chk_dpor_stats *chk_dpor_stats(const chk_dpor *d)
{
    return &d->stats;
}

/* Steps run since the last decision wake the sleepers they are dependent on. */
static void sleep_scan(chk_dpor *d)
{
    for (; d->scanned < d->log.n; d->scanned++) {
        const sim_step_fp *s = &d->log.v[d->scanned];
        size_t k = 0;
        for (size_t i = 0; i < d->nsleep; i++)
            if (!d->strict && !sim_fp_dependent(&d->sleep[i], s))
                d->sleep[k++] = d->sleep[i];
        d->nsleep = k;
    }
}

static bool cpu_asleep(const chk_dpor *d, unsigned cpu)
{
    for (size_t i = 0; i < d->nsleep; i++)
        if ((unsigned)d->sleep[i].cpu == cpu)
            return true;
    return false;
}

static unsigned option_of_cpu(const struct node *nd, unsigned cpu)
{
    for (unsigned o = 0; o < nd->n; o++)
        if (nd->cands[o] == cpu)
            return o;
    return nd->n;
}

/* At a replayed node: the options run before the chosen one fall asleep. */
static void sleep_add_done(chk_dpor *d, const struct node *nd)
{
    for (unsigned o = 0; o < nd->n; o++) {
        if (o == nd->chosen || !(nd->done >> o & 1) || nd->fp[o].cpu < 0)
            continue;
        /* The hardware's next step is not fixed by its own past, as a CPU's is: a CPU's step
         * that runs the actions due by its time takes them from it. Asleep, it could stand for
         * a step it no longer has: it never sleeps. */
        if (nd->fp[o].flags & SIM_FP_HWSTEP)
            continue;
        GROW(d->sleep, d->nsleep, d->cap_sleep, 16);
        d->sleep[d->nsleep++] = nd->fp[o];
    }
}

static unsigned new_node(chk_dpor *d, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                         const unsigned *ids)
{
    GROW(d->nodes, d->nnodes, d->cap_nodes, 64);
    struct node *nd = &d->nodes[d->nnodes++];
    memset(nd, 0, offsetof(struct node, fp));
    nd->fp = NULL;
    nd->n = (uint8_t)n;
    nd->step = d->log.n;
    if (kind == CHK_DECIDE_FAULT_TIME || !ids) {
        nd->kind = NODE_FAULT;
        nd->chosen = (uint16_t)dflt;
        nd->backtrack = n >= 64 ? ~0ull : (1ull << n) - 1;
        nd->done = 1ull << dflt;
        return dflt;
    }
    nd->kind = NODE_SCHED;
    nd->fp = must_alloc(n * sizeof(*nd->fp), "a dpor node");
    unsigned pick = n;
    for (unsigned o = 0; o < n; o++) {
        nd->cands[o] = (uint8_t)ids[o];
        nd->fp[o].cpu = -1;
        if (cpu_asleep(d, ids[o]))
            nd->asleep |= 1ull << o;
    }
    if (!(nd->asleep >> dflt & 1))
        pick = dflt;
    for (unsigned o = 0; o < n && pick == n; o++)
        if (!(nd->asleep >> o & 1))
            pick = o;
    if (pick == n) { /* every candidate asleep: the rest of this run repeats others */
        d->nnodes--;
        free(nd->fp);
        d->blocked = d->log.n;
        d->new_blocked = true;
        return dflt;
    }
    nd->chosen = (uint16_t)pick;
    nd->backtrack = nd->done = 1ull << pick;
    if (d->nnodes <= d->split) /* above a shard split: every option */
        nd->backtrack = n >= 64 ? ~0ull : (1ull << n) - 1;
    return pick;
}

unsigned chk_dpor_decide(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                         const unsigned *ids)
{
    chk_dpor *d = ctx;
    sleep_scan(d);
    size_t at = d->pos++;
    if (d->blocked != SIZE_MAX)
        return dflt; /* nothing of this run is new any more */
    if (at < d->nnodes) {
        struct node *nd = &d->nodes[at];
        bool sched = kind != CHK_DECIDE_FAULT_TIME && ids;
        if (nd->n != n || (nd->kind == NODE_SCHED) != sched)
            d->stats.mismatch++;
        else if (sched)
            for (unsigned o = 0; o < n && o < nd->n; o++)
                if (nd->cands[o] != ids[o]) {
                    d->stats.mismatch++;
                    break;
                }
        nd->step = d->log.n;
        if (nd->kind == NODE_SCHED)
            sleep_add_done(d, nd);
        return nd->chosen < n ? nd->chosen : dflt;
    }
    if (d->owned < 0 && at == d->split) {
        d->owned = path_owned(d, at);
        if (!d->owned) { /* another shard's subtree: run it out, branch nowhere in it */
            d->blocked = d->log.n;
            return dflt;
        }
    }
    unsigned v = new_node(d, kind, n, dflt, ids);
    if (d->nnodes > d->stats.nodes)
        d->stats.nodes = d->nnodes;
    return v;
}

/* ---- races ---- */

#define OBJ_HW   ((uintptr_t)1 << 1) /* the hardware: written by SIM_FP_HW, read by SIM_FP_HWREAD */
#define OBJ_WILD ((uintptr_t)2 << 1) /* a step dependent on everything */
/* CPU c's time: written by a step that delays c, read by each step of c */
#define OBJ_CPU_TIME(c) ((uintptr_t)((c) + 16) << 1)

static struct objstate *obj_find(chk_dpor *d, uintptr_t key)
{
    size_t mask = d->cap_objs - 1;
    size_t h = (size_t)((key >> 2) * 0x9E3779B97F4A7C15ull) & mask;
    while (d->objs[h].key && d->objs[h].key != key)
        h = (h + 1) & mask;
    if (!d->objs[h].key) {
        GROW(d->used, d->nused, d->cap_used, 256);
        d->used[d->nused++] = (uint32_t)h;
        d->objs[h].key = key;
        d->objs[h].lastw = -1;
        d->objs[h].reads = -1;
    }
    return &d->objs[h];
}

struct analysis {
    chk_dpor *d;
    size_t ncpu;
    int32_t last_of_cpu[SIM_MAX_CPUS];
    uint32_t count_of_cpu[SIM_MAX_CPUS];
    uint32_t *pos; /* per step: its index among its CPU's steps, from 1 */
};

static uint32_t *vc_of(const struct analysis *a, size_t step)
{
    return &a->d->vc[step * a->ncpu];
}

/* Step i, dependent on step j (i < j), meets it: a race if nothing orders them yet. */
static void meet(struct analysis *a, size_t i, size_t j, uint32_t *vj)
{
    chk_dpor *d = a->d;
    const sim_step_fp *si = &d->log.v[i], *sj = &d->log.v[j];
    if (si->cpu == sj->cpu)
        return; /* program order: vj holds it already */
    const uint32_t *vi = vc_of(a, i);
    /* (with per-CPU clocks: unless j began too late for i ever to follow it, sim_step_fp) */
    if (vj[si->cpu] < a->pos[i] && sj->t <= si->latest_before) { /* a race: i may run after j */
        d->stats.races++;
        int32_t k = d->step_node[i];
        if (k >= 0) {
            struct node *nd = &d->nodes[k];
            unsigned o = option_of_cpu(nd, (unsigned)sj->cpu);
            nd->backtrack |= o < nd->n ? 1ull << o : (nd->n >= 64 ? ~0ull : (1ull << nd->n) - 1);
        }
    }
    for (size_t c = 0; c < a->ncpu; c++)
        if (vi[c] > vj[c])
            vj[c] = vi[c];
}

static void meet_obj(struct analysis *a, size_t j, uint32_t *vj, uintptr_t key, bool write)
{
    struct objstate *o = obj_find(a->d, key);
    if (o->lastw >= 0)
        meet(a, (size_t)o->lastw, j, vj);
    if (write)
        for (int32_t r = o->reads; r >= 0; r = a->d->rds[r].next)
            meet(a, (size_t)a->d->rds[r].step, j, vj);
}

static void note_obj(struct analysis *a, size_t j, uintptr_t key, bool write)
{
    struct objstate *o = obj_find(a->d, key);
    if (write) {
        o->lastw = (int32_t)j;
        o->reads = -1;
    } else {
        chk_dpor *d = a->d;
        GROW(d->rds, d->nrds, d->cap_rds, 256);
        d->rds[d->nrds] = (struct rd){(int32_t)j, o->reads};
        o->reads = (int32_t)d->nrds++;
    }
}

static bool global_step(const chk_dpor *d, const sim_step_fp *s)
{
    return d->strict || (s->flags & SIM_FP_WILD);
}

static void analyse(chk_dpor *d)
{
    size_t n = d->blocked != SIZE_MAX ? d->blocked : d->log.n;
    if (n > d->log.n)
        n = d->log.n;
    struct analysis a = {.d = d};
    for (size_t j = 0; j < n; j++)
        if ((size_t)d->log.v[j].cpu + 1 > a.ncpu)
            a.ncpu = (size_t)d->log.v[j].cpu + 1;
    if (!n || !a.ncpu)
        return;
    size_t need = n * a.ncpu;
    if (need > d->cap_vc) {
        free(d->vc);
        d->vc = must_alloc(need * sizeof(*d->vc), "dpor's vector clocks");
        d->cap_vc = need;
    }
    if (n > d->cap_step_node) {
        free(d->step_node);
        d->step_node = must_alloc(n * sizeof(*d->step_node), "dpor's step map");
        d->cap_step_node = n;
    }
    d->nrds = 0;
    if (n > d->cap_step_pos) {
        free(d->step_pos);
        d->step_pos = must_alloc(n * sizeof(*d->step_pos), "dpor's step map");
        d->cap_step_pos = n;
    }
    a.pos = d->step_pos;
    size_t want = 64;
    while (want < 4 * (n * (SIM_FP_MAX + 2)) && want < ((size_t)1 << 30))
        want *= 2;
    for (size_t k = 0; k < d->nused; k++) /* only what the last analysis filled */
        d->objs[d->used[k]].key = 0;
    d->nused = 0;
    if (want > d->cap_objs) {
        free(d->objs);
        d->objs = must_alloc(want * sizeof(*d->objs), "dpor's object table");
        memset(d->objs, 0, want * sizeof(*d->objs));
        d->cap_objs = want;
    }
    for (size_t j = 0; j < n; j++)
        d->step_node[j] = -1;
    for (size_t k = 0; k < d->nnodes; k++)
        if (d->nodes[k].kind == NODE_SCHED && d->nodes[k].step < n)
            d->step_node[d->nodes[k].step] = (int32_t)k;
    for (size_t c = 0; c < SIM_MAX_CPUS; c++)
        a.last_of_cpu[c] = -1;
    for (size_t j = 0; j < n; j++) {
        const sim_step_fp *s = &d->log.v[j];
        unsigned q = (unsigned)s->cpu;
        uint32_t *vj = vc_of(&a, j);
        if (a.last_of_cpu[q] >= 0)
            memcpy(vj, vc_of(&a, (size_t)a.last_of_cpu[q]), a.ncpu * sizeof(*vj));
        else
            memset(vj, 0, a.ncpu * sizeof(*vj));
        a.pos[j] = ++a.count_of_cpu[q];
        if (global_step(d, s)) {
            for (size_t c = 0; c < a.ncpu; c++)
                if (c != q && a.last_of_cpu[c] >= 0)
                    meet(&a, (size_t)a.last_of_cpu[c], j, vj);
        } else {
            meet_obj(&a, j, vj, OBJ_WILD, false);
            meet_obj(&a, j, vj, OBJ_CPU_TIME(q), false);
            for (uint64_t m = s->delayed; m; m &= m - 1)
                meet_obj(&a, j, vj, OBJ_CPU_TIME((unsigned)__builtin_ctzll(m)), true);
            if (s->flags & (SIM_FP_HW | SIM_FP_HWREAD))
                meet_obj(&a, j, vj, OBJ_HW, s->flags & SIM_FP_HW);
            for (unsigned k = 0; k < s->nobj; k++)
                meet_obj(&a, j, vj, s->obj[k] & ~(uintptr_t)1, s->obj[k] & 1);
        }
        vj[q] = a.pos[j];
        /* what later steps meet */
        if (global_step(d, s))
            obj_find(d, OBJ_WILD)->lastw = (int32_t)j;
        note_obj(&a, j, OBJ_CPU_TIME(q), false);
        for (uint64_t m = s->delayed; m; m &= m - 1)
            note_obj(&a, j, OBJ_CPU_TIME((unsigned)__builtin_ctzll(m)), true);
        if (s->flags & SIM_FP_HW)
            note_obj(&a, j, OBJ_HW, true);
        else if (s->flags & SIM_FP_HWREAD)
            note_obj(&a, j, OBJ_HW, false);
        for (unsigned k = 0; k < s->nobj; k++)
            note_obj(&a, j, s->obj[k] & ~(uintptr_t)1, s->obj[k] & 1);
        a.last_of_cpu[q] = (int32_t)j;
    }
}

/* ---- the next execution ---- */

static unsigned popcount64(uint64_t x)
{
    return (unsigned)__builtin_popcountll(x);
}

bool chk_dpor_next(chk_dpor *d)
{
    if (d->new_blocked)
        d->stats.blocked++;
    /* the footprints the chosen options had at their nodes: sleepers of later branches */
    for (size_t k = 0; k < d->nnodes; k++) {
        struct node *nd = &d->nodes[k];
        if (nd->kind == NODE_SCHED && nd->step < d->log.n &&
            (d->blocked == SIZE_MAX || nd->step < d->blocked))
            nd->fp[nd->chosen] = d->log.v[nd->step];
    }
    analyse(d);
    while (d->nnodes) {
        struct node *nd = &d->nodes[d->nnodes - 1];
        uint64_t left = nd->backtrack & ~nd->done & ~nd->asleep;
        if (left) {
            unsigned o = (unsigned)__builtin_ctzll(left);
            nd->chosen = (uint16_t)o;
            nd->done |= 1ull << o;
            return true;
        }
        drop_nodes(d, d->nnodes - 1);
    }
    return false;
}

double chk_dpor_coverage(const chk_dpor *d)
{
    double cov = 0, weight = 1;
    for (size_t k = 0; k < d->nnodes; k++) {
        const struct node *nd = &d->nodes[k];
        uint64_t all = (nd->backtrack | nd->done) & ~(nd->asleep & ~nd->done);
        unsigned total = popcount64(all), before = popcount64(nd->done) - 1;
        if (!total)
            break;
        cov += weight * before / total;
        weight /= total;
    }
    return cov;
}
