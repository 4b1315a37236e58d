/*
 * minimise.c — shrinking a failing execution (see minimise.h).
 *
 * A counterexample is a scenario plus a schedule. The scenario shrinks first, greedily, one
 * reduction at a time: fewer CPUs (cpus=K), fewer faults (drop_faults=I,...), shorter
 * workloads (ops_limit=N,...). A reduction is kept when the reduced scenario still fails with
 * the same signature (chk_same_signature: verdict, where the driver is, what started it), either
 * under the current schedule or under one of a few seeded executions searched afresh (the old
 * schedule's positions need not mean anything in a smaller world). Then the schedule shrinks by
 * delta debugging over its non-default decisions, under the same test. The same verdict alone
 * would not do: a minimised counterexample could then show another bug than the one found. Every
 * reduction is an ordinary --set key, so the saved counterexample replays through the same
 * scenario loader as everything else.
 *
 * The time budget (chk_deadline) bounds it: every candidate run is cut when the time is up (a
 * cut run is not the verdict, so the candidate is not taken), and no further candidate is
 * tried after that. What was kept so far stands, each step having been checked; if even the
 * last check of the result is cut, the failing execution as found is the counterexample.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/minimise.h"
#include "util/grow.h"

#define PICK_RUNS    300 /* replays delta debugging may spend on the schedule */
#define REDUCE_TRIES 24  /* seeded executions searched per candidate reduction */
#define REDUCE_RUNS  600 /* executions all scenario reductions together may spend */
/* Steps a candidate execution may take: a multiple of the failing execution's, with a floor.
 * A candidate that needs more is not taken (it would be a longer counterexample anyway), which
 * keeps minimisation from replaying hundreds of runs to the 600 s bound. */
#define STEP_FACTOR 8
#define STEP_FLOOR  100000

enum { RED_CPUS, RED_FAULTS, RED_OPS }; /* slots of struct shrink.red */

struct shrink {
    const scenario *base; /* as the user gave it */
    const sim_driver_ops *drv;
    const chk_options *o;
    const chk_result *want; /* the failing execution's: its signature is kept */
    scenario *cur;          /* base plus the reductions in red */
    char red[CHK_MAX_REDUCTIONS][CHK_REDUCTION_LEN];
    bool dropped[SC_MAX_FAULTS]; /* base fault index -> left out */
    struct chk_pick *picks;
    size_t npicks;
    uint64_t runs;     /* executions spent */
    unsigned attempts; /* candidate reductions tried (seeds their searches) */
};

/* Does replaying schedule p on sc fail as the execution found did? */
static bool replay_same(struct shrink *sh, const scenario *sc, const struct chk_pick *p, size_t n)
{
    chk_result res;
    sh->runs++;
    chk_replay(sc, sh->drv, p, n, NULL, &res);
    return chk_same_signature(&res, sh->want);
}

/* ---- the schedule: ddmin over the picks ---- */

static size_t ddmin(struct shrink *sh, struct chk_pick *p, size_t n)
{
    if (n && replay_same(sh, sh->cur, NULL, 0))
        return 0;
    struct chk_pick *tmp = must_alloc((n ? n : 1) * sizeof(*tmp), "minimisation's decisions");
    unsigned runs = 0, parts = 2;
    while (n >= 2 && runs < PICK_RUNS && !chk_deadline_passed()) {
        size_t chunk = (n + parts - 1) / parts;
        bool reduced = false;
        for (size_t start = 0; start < n && runs < PICK_RUNS; start += chunk) {
            size_t end = start + chunk < n ? start + chunk : n, m = 0;
            for (size_t i = 0; i < n; i++) /* complement of [start, end) */
                if (i < start || i >= end)
                    tmp[m++] = p[i];
            runs++;
            if (m < n && replay_same(sh, sh->cur, tmp, m)) {
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

/* ---- the scenario ---- */

/* The base scenario's own --set overrides plus the reductions `red`, loaded afresh. */
static scenario *load_reduced(const struct shrink *sh, char red[][CHK_REDUCTION_LEN])
{
    const char *sets[SC_MAX_PARAMS + CHK_MAX_REDUCTIONS];
    char own[SC_MAX_PARAMS][CHK_REDUCTION_LEN];
    unsigned n = 0;
    for (unsigned i = 0; i < sh->base->nparams; i++) {
        const struct sc_param *p = &sh->base->params[i];
        if (p->line != -1)
            continue;
        snprintf(own[n], sizeof(own[n]), "%s=%s", p->key, p->value);
        sets[n] = own[n];
        n++;
    }
    for (unsigned r = 0; r < CHK_MAX_REDUCTIONS; r++)
        if (red[r][0])
            sets[n++] = red[r];
    scenario *sc = must_alloc(sizeof(*sc), "a reduced scenario");
    char err[256];
    if (sc_load(sh->base->file, sets, n, sc, err, sizeof(err))) {
        free(sc); /* a reduction the loader refuses is simply not kept */
        return NULL;
    }
    return sc;
}

/* Does scenario sc still fail with the wanted signature? Tries the current schedule, then a few
 * seeded executions. On success *picks holds a failing schedule (malloc'd). */
static bool still_fails(struct shrink *sh, const scenario *sc, struct chk_pick **picks, size_t *n)
{
    if (replay_same(sh, sc, sh->picks, sh->npicks)) {
        *picks =
            must_alloc((sh->npicks ? sh->npicks : 1) * sizeof(**picks), "minimisation's decisions");
        memcpy(*picks, sh->picks, sh->npicks * sizeof(**picks));
        *n = sh->npicks;
        return true;
    }
    enum chk_strategy s = sh->o->strategy == CHK_STRAT_PCT ? CHK_STRAT_PCT : CHK_STRAT_RANDOM;
    uint64_t seed = sh->o->seed * 31 + ++sh->attempts;
    chk_trace t = {0};
    bool found = false;
    for (uint64_t e = 0;
         e < REDUCE_TRIES && sh->runs < REDUCE_RUNS && !found && !chk_deadline_passed(); e++) {
        chk_result res;
        sh->runs++;
        chk__run_seeded(sc, sh->drv, s, seed, e, sh->o->pct_depth, &t, &res);
        if (chk_same_signature(&res, sh->want)) {
            *n = chk__picks_from_trace(&t, picks);
            found = true;
        }
    }
    chk_trace_free(&t);
    return found;
}

/* Try the reductions `red` (a modified copy of sh->red); keep them if the bug survives. */
static bool try_reduction(struct shrink *sh, char red[][CHK_REDUCTION_LEN])
{
    if (sh->runs >= REDUCE_RUNS || chk_deadline_passed())
        return false;
    scenario *sc = load_reduced(sh, red);
    struct chk_pick *picks;
    size_t n;
    if (!sc)
        return false;
    if (!still_fails(sh, sc, &picks, &n)) {
        free(sc);
        return false;
    }
    free(sh->cur);
    sh->cur = sc;
    free(sh->picks);
    sh->picks = picks;
    sh->npicks = n;
    memcpy(sh->red, red, sizeof(sh->red));
    return true;
}

static void reduce_cpus(struct shrink *sh)
{
    char red[CHK_MAX_REDUCTIONS][CHK_REDUCTION_LEN];
    for (unsigned k = 1; k < sh->cur->cpus; k++) {
        memcpy(red, sh->red, sizeof(red));
        snprintf(red[RED_CPUS], sizeof(red[RED_CPUS]), "cpus=%u", k);
        if (try_reduction(sh, red))
            return;
    }
}

static void drop_faults_text(const struct shrink *sh, const bool *dropped, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < sh->base->nfaults; i++)
        if (dropped[i] && o < cap)
            o += (size_t)snprintf(out + o, cap - o, "%s%u", o ? "," : "drop_faults=", i);
}

static void reduce_faults(struct shrink *sh)
{
    if (sc_param(sh->base, "drop_faults") && strcmp(sc_param(sh->base, "drop_faults"), "none"))
        return; /* the user chose the faults: leave them */
    char red[CHK_MAX_REDUCTIONS][CHK_REDUCTION_LEN];
    for (unsigned i = 0; i < sh->base->nfaults; i++) {
        bool dropped[SC_MAX_FAULTS];
        memcpy(dropped, sh->dropped, sizeof(dropped));
        dropped[i] = true;
        memcpy(red, sh->red, sizeof(red));
        drop_faults_text(sh, dropped, red[RED_FAULTS], sizeof(red[RED_FAULTS]));
        if (try_reduction(sh, red))
            memcpy(sh->dropped, dropped, sizeof(dropped));
    }
}

static uint32_t ops_of(const scenario *sc, unsigned cpu)
{
    uint64_t n = (uint64_t)sc->cpu[cpu].repeat * sc->cpu[cpu].nops;
    return n < sc->cpu[cpu].limit ? (uint32_t)n : sc->cpu[cpu].limit;
}

/* "ops_limit=A,B,..." with CPU `cpu` limited to `lim` and the others as in sh->cur. */
static void ops_limit_text(const scenario *sc, unsigned cpu, uint32_t lim, char *out, size_t cap)
{
    unsigned last = 0;
    for (unsigned c = 0; c < sc->cpus; c++)
        if (c == cpu || sc->cpu[c].limit != UINT32_MAX)
            last = c + 1;
    size_t o = (size_t)snprintf(out, cap, "ops_limit=");
    for (unsigned c = 0; c < last && o < cap; c++) {
        uint32_t v = c == cpu ? lim : sc->cpu[c].limit;
        if (v == UINT32_MAX)
            o += (size_t)snprintf(out + o, cap - o, "%s*", c ? "," : "");
        else
            o += (size_t)snprintf(out + o, cap - o, "%s%u", c ? "," : "", v);
    }
}

static void reduce_ops(struct shrink *sh)
{
    if (sc_param(sh->base, "ops_limit") && strcmp(sc_param(sh->base, "ops_limit"), "none"))
        return;
    char red[CHK_MAX_REDUCTIONS][CHK_REDUCTION_LEN];
    for (unsigned c = 0; c < sh->cur->cpus; c++) {
        bool shrunk = true;
        while (shrunk && sh->runs < REDUCE_RUNS) {
            uint32_t n = ops_of(sh->cur, c), cand[3] = {0, n / 2, n - 1};
            shrunk = false;
            for (unsigned i = 0; i < 3 && n > 0 && !shrunk; i++) {
                if (i && cand[i] == cand[i - 1])
                    continue;
                memcpy(red, sh->red, sizeof(red));
                ops_limit_text(sh->cur, c, cand[i], red[RED_OPS], sizeof(red[RED_OPS]));
                shrunk = try_reduction(sh, red);
            }
        }
    }
}

/* ---- the whole ---- */

static void finish(struct shrink *sh, chk_report *rep)
{
    rep->nreductions = 0;
    for (unsigned r = 0; r < CHK_MAX_REDUCTIONS; r++)
        if (sh->red[r][0])
            memcpy(rep->reductions[rep->nreductions++], sh->red[r], CHK_REDUCTION_LEN);
    free(rep->picks);
    rep->picks = sh->picks;
    rep->npicks = sh->npicks;
    rep->reduced = rep->nreductions ? sh->cur : NULL;
    if (!rep->nreductions)
        free(sh->cur);
    rep->minimise_runs = sh->runs;
}

void chk__minimise(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                   chk_report *rep)
{
    chk_result found = rep->result; /* the failing execution's own result */
    struct shrink sh = {.base = sc, .drv = drv, .o = o, .want = &found};
    sh.cur = must_alloc(sizeof(*sh.cur), "a reduced scenario");
    sh.picks =
        must_alloc((rep->npicks ? rep->npicks : 1) * sizeof(*sh.picks), "minimisation's decisions");
    *sh.cur = *sc;
    memcpy(sh.picks, rep->picks, rep->npicks * sizeof(*sh.picks));
    sh.npicks = rep->npicks;
    uint64_t steps = rep->result.outcome.steps;
    chk__set_step_budget(steps < STEP_FLOOR / STEP_FACTOR ? STEP_FLOOR : steps * STEP_FACTOR);
    if (o->strategy != CHK_STRAT_REPLAY) {
        reduce_cpus(&sh);
        reduce_faults(&sh);
        reduce_ops(&sh);
    }
    sh.npicks = ddmin(&sh, sh.picks, sh.npicks);
    chk__set_step_budget(0);
    chk_replay(sh.cur, drv, sh.picks, sh.npicks, NULL, &rep->result);
    sh.runs++;
    if (!chk_same_signature(&rep->result, &found)) { /* never lose the bug: fall back (also when
                                                        the time budget cut this last replay) */
        free(sh.picks);
        sh.picks = must_alloc((rep->npicks ? rep->npicks : 1) * sizeof(*sh.picks),
                              "minimisation's decisions");
        memcpy(sh.picks, rep->picks, rep->npicks * sizeof(*sh.picks));
        sh.npicks = rep->npicks;
        memset(sh.red, 0, sizeof(sh.red));
        *sh.cur = *sc;
        rep->result = found; /* the same run */
    }
    finish(&sh, rep);
}
