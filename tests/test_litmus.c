/*
 * test_litmus.c — validation of the unbounded search's reduction (src/check/dpor.c) on small
 * concurrent programs with known answers, run in the simulation like any driver: store
 * buffering, message passing, a racy counter, a ticket lock and a one-slot ring, each in a
 * correct form and with a planted bug, under the simulation's sequentially consistent memory
 * (every shared load and store a scheduling point: mem_points); and a flag with its data kept
 * under a lock and accessed with plain C, which only the lock shows to the search.
 *
 * For each program, every schedule is also run without reduction (brute force: each choice at
 * each decision), and each execution is reduced to its happens-before class: the lexicographic
 * normal form of its step sequence under the dependency the simulation recorded
 * (sim_fp_dependent), with objects renamed by first use. The tests assert that
 *  (a) the reduced search finds every planted bug, and no violation in the correct forms;
 *  (b) the reduced search runs exactly one execution per class: the classes it runs are the
 *      classes brute force finds, none twice, so its execution count equals the class count;
 *  and that executions of one class end with the same outcome (the recorded dependency is
 *  complete enough that reordering independent steps changes nothing).
 * Each program runs twice: with every operation free (a pure interleaving model: no CPU
 * delays another) and with the default costs (virtual time moves, a step that moves it past
 * another CPU's due time is dependent on that CPU's next step).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/dpor.h"
#include "check/run.h"
#include "sim/sim.h"

/* ---- the programs ---- */

enum { X, Y, DATA, FLAG, CNT, NEXT, SERVING, SLOT, HEAD, TAIL, NVARS };

struct lm_state {
    volatile uint32_t *mem; /* shared words, one per 16-byte line: var(v) */
    qi_lock lock;           /* the lock of the locked counter */
    uint32_t r[2][4];       /* each CPU's registers (its own, written by it alone) */
};

static volatile uint32_t *var(struct lm_state *s, unsigned v)
{
    return &s->mem[v * 4];
}

typedef void (*lm_cpu_fn)(qi_platform *p, struct lm_state *s);
typedef bool (*lm_ok_fn)(struct lm_state *s);

struct litmus {
    const char *name;
    lm_cpu_fn cpu[2];
    lm_ok_fn ok;
    bool buggy;
    bool spins; /* has a polling loop */
    bool clock; /* reads the clock in its polling loop (and relaxes with a deadline) */
    bool locks; /* takes a lock */
};

#define LD(v)    qi_plat_load32(p, var(s, v))
#define ST(v, x) qi_plat_store32(p, var(s, v), x)
#define FADD(v)  qi_plat_fetch_add32(p, var(s, v), 1)

/* store buffering: x = 1; r = y || y = 1; r = x. Never both 0 under SC. The bug reads first. */
static void sb0(qi_platform *p, struct lm_state *s)
{
    ST(X, 1);
    s->r[0][0] = LD(Y);
}
static void sb1(qi_platform *p, struct lm_state *s)
{
    ST(Y, 1);
    s->r[1][0] = LD(X);
}
static void sb0_bug(qi_platform *p, struct lm_state *s)
{
    s->r[0][0] = LD(Y);
    ST(X, 1);
}
static bool sb_ok(struct lm_state *s)
{
    return s->r[0][0] || s->r[1][0];
}

/* message passing: data = 1; flag = 1 || f = flag; d = data. f = 1 implies d = 1. The bug
 * publishes the flag first. */
static void mp0(qi_platform *p, struct lm_state *s)
{
    ST(DATA, 1);
    ST(FLAG, 1);
}
static void mp0_bug(qi_platform *p, struct lm_state *s)
{
    ST(FLAG, 1);
    ST(DATA, 1);
}
static void mp1(qi_platform *p, struct lm_state *s)
{
    s->r[1][0] = LD(FLAG);
    s->r[1][1] = LD(DATA);
}
static bool mp_ok(struct lm_state *s)
{
    return !s->r[1][0] || s->r[1][1];
}

/* a counter both CPUs increment: atomically, or (the bug) by a load and a store */
static void cnt_atomic(qi_platform *p, struct lm_state *s)
{
    FADD(CNT);
}
static void cnt_racy(qi_platform *p, struct lm_state *s)
{
    ST(CNT, LD(CNT) + 1);
}
static bool cnt_ok(struct lm_state *s)
{
    return *var(s, CNT) == 2;
}

/* a ticket lock around a load-and-store increment; the bug takes its ticket by a load and a
 * store, so two CPUs can hold the same ticket and be in the critical section together */
static void ticket_body(qi_platform *p, struct lm_state *s, uint32_t t)
{
    while (LD(SERVING) != t)
        qi_plat_relax(p, 0);
    ST(CNT, LD(CNT) + 1);
    ST(SERVING, t + 1);
}
static void ticket(qi_platform *p, struct lm_state *s)
{
    ticket_body(p, s, FADD(NEXT));
}
static void ticket_bug(qi_platform *p, struct lm_state *s)
{
    uint32_t t = LD(NEXT);
    ST(NEXT, t + 1);
    ticket_body(p, s, t);
}

/* a one-slot ring: the producer puts 1, then 2 if the slot is free again; the consumer takes
 * one item if there is one. The consumer must see the first item. The bug forgets the full
 * check and overwrites an item not yet taken. */
static void ring_put(qi_platform *p, struct lm_state *s, uint32_t item, bool check)
{
    uint32_t tail = LD(TAIL);
    if (check && tail - LD(HEAD) >= 1)
        return; /* full: dropped, as a correct producer may */
    ST(SLOT, item);
    ST(TAIL, tail + 1);
}
static void ring_prod(qi_platform *p, struct lm_state *s)
{
    ring_put(p, s, 1, true);
    ring_put(p, s, 2, true);
}
static void ring_prod_bug(qi_platform *p, struct lm_state *s)
{
    ring_put(p, s, 1, true);
    ring_put(p, s, 2, false);
}
static void ring_cons(qi_platform *p, struct lm_state *s)
{
    uint32_t head = LD(HEAD);
    if (LD(TAIL) == head)
        return;
    s->r[1][0] = LD(SLOT);
    ST(HEAD, head + 1);
}
static bool ring_ok(struct lm_state *s)
{
    return s->r[1][0] == 0 || s->r[1][0] == 1;
}

/* a counter incremented by a load and a store under a lock (a ticket of the simulation's
 * spinning kind: the waiter is blocked until the release); the bug takes no lock on one CPU */
static void cnt_locked(qi_platform *p, struct lm_state *s)
{
    qi_plat_lock(p, &s->lock);
    ST(CNT, LD(CNT) + 1);
    qi_plat_unlock(p, &s->lock);
}
static void cnt_unlocked(qi_platform *p, struct lm_state *s)
{
    ST(CNT, LD(CNT) + 1);
}

/* time: a store made late (after a pause) and a load made at once. The load can see the store
 * only if the pause is within the window the simulation lets a CPU lag (1 us): 3 us, never (the
 * correct form); 0.5 us, sometimes (the bug: the property demands it never does). */
static void late_store(qi_platform *p, struct lm_state *s, hw_time pause)
{
    sim_cpu_sleep(p, pause);
    ST(X, 1);
}
static void late3(qi_platform *p, struct lm_state *s)
{
    late_store(p, s, 3 * HW_US);
}
static void late_half(qi_platform *p, struct lm_state *s)
{
    late_store(p, s, HW_US / 2);
}
static void load_x(qi_platform *p, struct lm_state *s)
{
    s->r[1][0] = 1 + LD(X);
}
static bool late_ok(struct lm_state *s)
{
    return s->r[1][0] == 1;
}

/* time observed: a poller with a deadline (its relax names it) waits for a flag raised after a
 * pause of 1 us; it must see the flag. With a deadline 3 us away it does; 1.5 us away (the
 * bug), the poller's last look may come before the flag, within the window. */
static void poll_flag(qi_platform *p, struct lm_state *s, hw_time within)
{
    uint64_t until = qi_plat_now_ns(p) + within;
    while (!LD(FLAG)) {
        if (qi_plat_now_ns(p) >= until) {
            s->r[0][0] = 1; /* timed out */
            return;
        }
        qi_plat_relax(p, until);
    }
}
static void poll3(qi_platform *p, struct lm_state *s)
{
    poll_flag(p, s, 3 * HW_US);
}
static void poll_short(qi_platform *p, struct lm_state *s)
{
    poll_flag(p, s, 3 * HW_US / 2);
}
static void raise_flag(qi_platform *p, struct lm_state *s)
{
    sim_cpu_sleep(p, HW_US);
    ST(FLAG, 1);
}
static bool poll_ok(struct lm_state *s)
{
    return s->r[0][0] == 0;
}

/* a flag and its data, guarded by a lock and read and written with plain C (not through the
 * platform: only the lock shows the accesses), polled by the other CPU; it must see the data
 * with the flag. The bug raises the flag in one critical section and writes the data in a
 * second one, so the poller can see the flag alone. */
static void guard_poll(qi_platform *p, struct lm_state *s)
{
    for (;;) {
        qi_plat_lock(p, &s->lock);
        uint32_t f = *var(s, FLAG), d = *var(s, DATA);
        qi_plat_unlock(p, &s->lock);
        if (f) {
            s->r[0][0] = d;
            return;
        }
        qi_plat_relax(p, 0);
    }
}
static void guard_set(qi_platform *p, struct lm_state *s)
{
    qi_plat_lock(p, &s->lock);
    *var(s, DATA) = 1;
    *var(s, FLAG) = 1;
    qi_plat_unlock(p, &s->lock);
}
static void guard_set_bug(qi_platform *p, struct lm_state *s)
{
    qi_plat_lock(p, &s->lock);
    *var(s, FLAG) = 1;
    qi_plat_unlock(p, &s->lock);
    qi_plat_lock(p, &s->lock);
    *var(s, DATA) = 1;
    qi_plat_unlock(p, &s->lock);
}
static bool guard_ok(struct lm_state *s)
{
    return s->r[0][0] == 1;
}

static const struct litmus litmus[] = {
    {"sb", {sb0, sb1}, sb_ok, false, false, false, false},
    {"sb-bug", {sb0_bug, sb1}, sb_ok, true, false, false, false},
    {"mp", {mp0, mp1}, mp_ok, false, false, false, false},
    {"mp-bug", {mp0_bug, mp1}, mp_ok, true, false, false, false},
    {"counter", {cnt_atomic, cnt_atomic}, cnt_ok, false, false, false, false},
    {"counter-bug", {cnt_racy, cnt_racy}, cnt_ok, true, false, false, false},
    {"ticket", {ticket, ticket}, cnt_ok, false, true, false, false},
    {"ticket-bug", {ticket_bug, ticket_bug}, cnt_ok, true, true, false, false},
    {"ring", {ring_prod, ring_cons}, ring_ok, false, false, false, false},
    {"ring-bug", {ring_prod_bug, ring_cons}, ring_ok, true, false, false, false},
    {"lock", {cnt_locked, cnt_locked}, cnt_ok, false, false, false, true},
    {"lock-bug", {cnt_locked, cnt_unlocked}, cnt_ok, true, false, false, true},
    {"late", {late3, load_x}, late_ok, false, false, false, false},
    {"late-bug", {late_half, load_x}, late_ok, true, false, false, false},
    {"deadline", {poll3, raise_flag}, poll_ok, false, true, true, false},
    {"deadline-bug", {poll_short, raise_flag}, poll_ok, true, true, true, false},
    {"guarded", {guard_poll, guard_set}, guard_ok, false, true, false, true},
    {"guarded-bug", {guard_poll, guard_set_bug}, guard_ok, true, true, false, true},
};
#define NLITMUS (sizeof(litmus) / sizeof(litmus[0]))

/* ---- one execution ---- */

struct lm_cpu_arg {
    const struct litmus *t;
    struct lm_state *s;
};

static void lm_cpu(sim_world *w, unsigned cpu, void *arg)
{
    struct lm_cpu_arg *a = arg;
    a->t->cpu[cpu](sim_platform(w, cpu), a->s);
}

struct lm_chooser {
    chk_decide_fn decide;
    void *ctx;
};

/* As the checker's runs decide (src/check/run.c): the default keeps the CPU of the last step. */
static unsigned lm_choose(void *ctx, const sim_world *w, const unsigned *cands, unsigned n,
                          uint64_t step)
{
    struct lm_chooser *c = ctx;
    (void)step;
    int last = sim_last_ran(w);
    unsigned dflt = 0;
    for (unsigned i = 0; i < n; i++)
        if ((int)cands[i] == last)
            dflt = i;
    if (sim_local_time(w)) /* per-CPU clocks: the earliest first (the last CPU on a tie) */
        for (unsigned i = 0; i < n; i++) {
            hw_time t = sim_ready_at(w, cands[i]), best = sim_ready_at(w, cands[dflt]);
            if (t < best)
                dflt = i;
        }
    unsigned v = c->decide(c->ctx, CHK_DECIDE_SCHED, n, dflt, cands);
    return v < n ? v : dflt;
}

struct lm_exec {
    bool ok;          /* the program's property held */
    uint64_t outcome; /* registers and final shared words, hashed */
    uint64_t cls;     /* the happens-before class */
    enum sim_stop stop;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0x100000001b3ull;
}

/* The class of an execution: its steps, and which of them are ordered by a dependency. Each
 * step is named by its CPU and its footprint (objects renamed by first use, so that where
 * memory sits does not matter; what it reads or writes of the hardware); the steps are put in
 * lexicographic normal form (at each point, the lowest CPU whose next step no earlier
 * remaining step is dependent on), and each step also lists the earlier ones, in that order,
 * that it is dependent on. Two executions have the same class exactly when one is the other
 * with independent neighbouring steps swapped. Whether two steps are dependent is as this
 * execution recorded it: a step that moved time names the CPUs it delayed, which depends on
 * the order the steps ran in. */
/* How a search takes its steps: every operation free (time never moves), or at the default
 * costs; reduced as --bound none does, or strict (--no-assume: no two CPUs' steps
 * independent). */
enum lm_mode { LM_FREE, LM_TIMED, LM_STRICT, LM_LOCAL };
static const char *const mode_name[] = {"free", "timed", "strict", "local"};

static bool lm_dependent(enum lm_mode mode, const sim_step_fp *a, const sim_step_fp *b)
{
    return mode == LM_STRICT || sim_fp_dependent(a, b);
}

static uint64_t hb_class(const sim_steplog *log, enum lm_mode mode)
{
    size_t m = log->n;
    size_t *order = calloc(m ? m : 1, sizeof(*order));
    bool *taken = calloc(m ? m : 1, sizeof(*taken));
    uintptr_t names[512];
    size_t nnames = 0;
    uint64_t h = 0xcbf29ce484222325ull;
    assert_true(order && taken);
    for (size_t done = 0; done < m; done++) {
        size_t pick = m;
        for (int cpu = 0; cpu < SIM_MAX_CPUS && pick == m; cpu++) {
            size_t i = 0;
            while (i < m && (taken[i] || log->v[i].cpu != cpu))
                i++;
            if (i == m)
                continue;
            bool free_ = true;
            for (size_t j = 0; j < i && free_; j++)
                if (!taken[j] && lm_dependent(mode, &log->v[j], &log->v[i]))
                    free_ = false;
            if (free_)
                pick = i;
        }
        assert_true(pick < m); /* the earliest remaining step is always free */
        taken[pick] = true;
        order[done] = pick;
        const sim_step_fp *f = &log->v[pick];
        h = mix(h, (uint64_t)f->cpu << 32 | (uint64_t)(f->flags & (SIM_FP_HW | SIM_FP_HWREAD)));
        for (unsigned k = 0; k < f->nobj; k++) {
            uintptr_t o = f->obj[k] & ~(uintptr_t)1;
            size_t id = 0;
            while (id < nnames && names[id] != o)
                id++;
            if (id == nnames) {
                assert_true(nnames < 512);
                names[nnames++] = o;
            }
            h = mix(h, (uint64_t)id << 1 | (f->obj[k] & 1));
        }
        for (size_t q = 0; q < done; q++) /* in the recorded order, order[q] ran before */
            if (log->v[order[q]].cpu != f->cpu && lm_dependent(mode, &log->v[order[q]], f))
                h = mix(h, 0x8000000000000000ull | q);
        h = mix(h, 0x4000000000000000ull);
    }
    free(order);
    free(taken);
    return h;
}

static void lm_run(const struct litmus *t, enum lm_mode mode, chk_decide_fn decide, void *ctx,
                   sim_steplog *log, struct lm_exec *out)
{
    hw_config hc;
    hw_config_default(&hc);
    hc.mem_bytes = 1u << 20;
    hw_machine *hw = hw_create(&hc, NULL);
    assert_non_null(hw);
    sim_config c;
    sim_config_default(&c);
    c.ncpus = 2;
    c.mem_points = true;
    c.cpu_events = false;
    if (mode == LM_FREE)
        memset(&c.cost, 0, sizeof(c.cost));
    c.local_time = mode == LM_LOCAL;
    sim_world *w = sim_create(&c, hw, NULL);
    assert_non_null(w);
    struct lm_state s;
    memset(&s, 0, sizeof(s));
    s.mem = sim_dma_alloc(sim_platform(w, 0), NVARS * 16);
    struct lm_cpu_arg arg = {t, &s};
    struct lm_chooser ch = {decide, ctx};
    sim_set_cpu(w, 0, lm_cpu, &arg);
    sim_set_cpu(w, 1, lm_cpu, &arg);
    sim_set_chooser(w, lm_choose, &ch);
    log->n = 0;
    sim_set_steplog(w, log);
    sim_outcome o;
    sim_run(w, &o);
    out->stop = o.stop;
    out->ok = o.stop == SIM_STOP_DONE && t->ok(&s);
    uint64_t h = o.stop;
    for (unsigned v = 0; v < NVARS; v++)
        h = mix(h, *var(&s, v));
    for (unsigned i = 0; i < 2; i++)
        for (unsigned k = 0; k < 4; k++)
            h = mix(h, s.r[i][k]);
    out->outcome = h;
    out->cls = hb_class(log, mode);
    if (getenv("LM_DEBUG") && !strcmp(getenv("LM_DEBUG"), t->name) && getenv("LM_MODE") &&
        !strcmp(getenv("LM_MODE"), mode_name[mode])) {
        printf("run stop=%d cls=%llx out=%llx:", o.stop, (unsigned long long)out->cls,
               (unsigned long long)out->outcome);
        for (size_t i = 0; i < log->n; i++) {
            printf(" %d%s%s[", log->v[i].cpu, log->v[i].flags & 1 ? "H" : "",
                   log->v[i].flags & 2 ? "h" : "");
            for (unsigned k = 0; k < log->v[i].nobj; k++)
                printf("%s%lx%s", k ? "," : "", (unsigned long)(log->v[i].obj[k] & 0xfff0),
                       log->v[i].obj[k] & 1 ? "w" : "");
            printf("]");
        }
        printf("\n");
    }
    sim_set_steplog(w, NULL);
    sim_destroy(w);
    hw_destroy(hw);
}

/* ---- the sets of classes ---- */

struct cls_set {
    uint64_t *cls, *outcome;
    size_t n, cap; /* open addressing; cap a power of two */
};

/* Adds a class with its outcome; returns 1 if new, 0 if there already (the outcome must be the
 * same: fails the test otherwise). */
static int cls_add(struct cls_set *s, uint64_t cls, uint64_t outcome, const char *who)
{
    if (2 * (s->n + 1) > s->cap) {
        struct cls_set g = {0};
        g.cap = s->cap ? 2 * s->cap : 1024;
        g.cls = calloc(g.cap, sizeof(*g.cls));
        g.outcome = calloc(g.cap, sizeof(*g.outcome));
        assert_true(g.cls && g.outcome);
        for (size_t i = 0; i < s->cap; i++)
            if (s->cls[i])
                cls_add(&g, s->cls[i], s->outcome[i], who);
        free(s->cls);
        free(s->outcome);
        *s = g;
    }
    cls = cls ? cls : 1;
    size_t i = (size_t)(cls * 0x9E3779B97F4A7C15ull) & (s->cap - 1);
    while (s->cls[i] && s->cls[i] != cls)
        i = (i + 1) & (s->cap - 1);
    if (s->cls[i]) {
        if (s->outcome[i] != outcome)
            fail_msg("%s: one happens-before class ends with two outcomes", who);
        return 0;
    }
    s->cls[i] = cls;
    s->outcome[i] = outcome;
    s->n++;
    return 1;
}

static bool cls_has(const struct cls_set *s, uint64_t cls)
{
    cls = cls ? cls : 1;
    if (!s->cap)
        return false;
    size_t i = (size_t)(cls * 0x9E3779B97F4A7C15ull) & (s->cap - 1);
    while (s->cls[i] && s->cls[i] != cls)
        i = (i + 1) & (s->cap - 1);
    return s->cls[i] == cls;
}

static void cls_free(struct cls_set *s)
{
    free(s->cls);
    free(s->outcome);
}

/* ---- brute force: every choice at every decision ---- */

struct brute {
    unsigned *v, *n;
    size_t len, cap, pos;
};

static unsigned brute_decide(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                             const unsigned *ids)
{
    struct brute *b = ctx;
    (void)kind, (void)dflt, (void)ids;
    if (b->pos < b->len) {
        assert_int_equal(b->n[b->pos], n); /* the simulation is deterministic */
        return b->v[b->pos++];
    }
    if (b->len == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->v = realloc(b->v, b->cap * sizeof(*b->v));
        b->n = realloc(b->n, b->cap * sizeof(*b->n));
        assert_true(b->v && b->n);
    }
    b->v[b->len] = 0;
    b->n[b->len++] = n;
    b->pos++;
    return 0;
}

static bool brute_next(struct brute *b)
{
    while (b->len && b->v[b->len - 1] + 1 >= b->n[b->len - 1])
        b->len--;
    if (!b->len)
        return false;
    b->v[b->len - 1]++;
    return true;
}

struct tally {
    struct cls_set classes, outcomes;
    uint64_t executions, violations, other_stops, infeasible;
};

#define BRUTE_MAX 200000u /* executions: the instances are chosen to stay well below */

static void brute_force(const struct litmus *t, enum lm_mode mode, struct tally *r)
{
    struct brute b = {0};
    sim_steplog log = {0};
    do {
        struct lm_exec e;
        b.pos = 0;
        lm_run(t, mode, brute_decide, &b, &log, &e);
        if (e.stop == SIM_STOP_INFEASIBLE) { /* no behaviour: an order its times rule out */
            r->infeasible++;
            continue;
        }
        r->executions++;
        r->violations += !e.ok;
        r->other_stops += e.stop != SIM_STOP_DONE;
        cls_add(&r->classes, e.cls, e.outcome, t->name);
        cls_add(&r->outcomes, e.outcome, e.outcome, t->name);
        assert_true(r->executions < BRUTE_MAX);
    } while (brute_next(&b));
    free(b.v);
    free(b.n);
    sim_steplog_free(&log);
}

/* The reduced search; every class it runs must be one of `all`'s (if given), and none twice. */
static void reduced(const struct litmus *t, enum lm_mode mode, const struct tally *all,
                    struct tally *r)
{
    chk_dpor *d = chk_dpor_new();
    chk_dpor_set_strict(d, mode == LM_STRICT);
    do {
        struct lm_exec e;
        chk_dpor_begin(d);
        lm_run(t, mode, chk_dpor_decide, d, chk_dpor_log(d), &e);
        if (e.stop == SIM_STOP_INFEASIBLE) {
            r->infeasible++;
            continue;
        }
        r->executions++;
        r->violations += !e.ok;
        r->other_stops += e.stop != SIM_STOP_DONE;
        /* (in the one-clock model, a poller that reads the clock is parked and woken by rules
         * outside the footprints, so its steps are not a function of the class there) */
        if (!cls_add(&r->classes, e.cls, e.outcome, t->name) &&
            (mode == LM_LOCAL || (!t->clock && !t->locks)))
            fail_msg("%s (%s): the reduced search ran one class twice", t->name, mode_name[mode]);
        cls_add(&r->outcomes, e.outcome, e.outcome, t->name);
        if (all && !cls_has(&all->classes, e.cls))
            fail_msg("%s: the reduced search ran a class brute force never saw", t->name);
        assert_true(r->executions < BRUTE_MAX);
    } while (chk_dpor_next(d));
    assert_int_equal(chk_dpor_stats(d)->mismatch, 0);
    chk_dpor_free(d);
}

static void check_one(const struct litmus *t, enum lm_mode m)
{
    struct tally all = {0}, red = {0};
    brute_force(t, m, &all);
    reduced(t, m, &all, &red);
    const char *mode = mode_name[m];
    printf("# %-12s %-6s brute force %6llu executions (%llu no behaviour), %5zu classes, %3zu "
           "outcomes, %llu violating; reduced %5llu executions (%llu no behaviour), %3zu "
           "outcomes, %llu violating\n",
           t->name, mode, (unsigned long long)all.executions, (unsigned long long)all.infeasible,
           all.classes.n, all.outcomes.n, (unsigned long long)all.violations,
           (unsigned long long)red.executions, (unsigned long long)red.infeasible, red.outcomes.n,
           (unsigned long long)red.violations);
    /* every outcome brute force reaches, the reduced search reaches too */
    for (size_t i = 0; i < all.outcomes.cap; i++)
        if (all.outcomes.cls[i] && !cls_has(&red.outcomes, all.outcomes.cls[i]))
            fail_msg("%s (%s): an outcome of brute force is missing from the reduced search",
                     t->name, mode);
    /* the correct programs end (the buggy ticket lock may hang: two CPUs with one ticket) */
    if (!t->buggy) {
        assert_int_equal(all.other_stops, 0);
        assert_int_equal(red.other_stops, 0);
    }
    /* (a) the planted bug is found, and only where there is one: brute force agrees */
    if (t->buggy) {
        assert_true(all.violations > 0);
        if (!red.violations)
            fail_msg("%s (%s): the reduced search missed the planted bug", t->name, mode);
    } else {
        assert_int_equal(all.violations, 0);
        assert_int_equal(red.violations, 0);
    }
    /* (b) one execution per class, every class: where time is free and nothing polls, and
     * in the strict search. With time, the dependency a step records is conditional: a step
     * that moves the clock delays another CPU's next step only if it runs first, so from an
     * execution where it ran second nothing calls for the other order, and the reduced search
     * runs fewer executions than there are classes; their outcomes are all reached (above).
     * With a polling loop, how often a CPU polls also depends on when the simulation parks a
     * quiet poller, a rule outside the footprints. */
    if (m == LM_LOCAL || (!t->clock && !t->locks))
        assert_true(red.executions <= all.classes.n); /* no class twice: reduced() */
    /* (both searches take two acquires of a lock as the race, not a release and the next
     * acquire, whose reversal the waiter, blocked there, cannot take: with that race the
     * one-clock search never ran guarded-bug's other order of critical sections and missed its
     * bug. With one clock and locks it still runs a class twice (lock, free: 3 executions for
     * 2 classes) or, strict, fewer executions than classes (lock: 10 of 12); every outcome is
     * reached, above) */
    if ((m == LM_FREE && !t->spins && !t->locks) || (m == LM_STRICT && !t->clock && !t->locks) ||
        m == LM_LOCAL) {
        if (red.executions != all.classes.n)
            fail_msg("%s (%s): %llu executions for %zu happens-before classes", t->name, mode,
                     (unsigned long long)red.executions, all.classes.n);
    }
    /* per-CPU clocks are the one-clock model's behaviours: the same outcomes, each reached */
    if (m == LM_LOCAL) {
        struct tally timed = {0};
        brute_force(t, LM_TIMED, &timed);
        if (timed.outcomes.n != all.outcomes.n)
            fail_msg("%s: %zu outcomes with one clock, %zu with per-CPU clocks", t->name,
                     timed.outcomes.n, all.outcomes.n);
        for (size_t i = 0; i < timed.outcomes.cap; i++)
            if (timed.outcomes.cls[i] && !cls_has(&all.outcomes, timed.outcomes.cls[i]))
                fail_msg("%s: an outcome with one clock is none with per-CPU clocks", t->name);
        cls_free(&timed.classes);
        cls_free(&timed.outcomes);
    }
    cls_free(&all.classes);
    cls_free(&red.classes);
    cls_free(&all.outcomes);
    cls_free(&red.outcomes);
}

static void litmus_free(void **state)
{
    check_one(*state, LM_FREE);
}

static void litmus_timed(void **state)
{
    check_one(*state, LM_TIMED);
}

static void litmus_strict(void **state)
{
    check_one(*state, LM_STRICT);
}

static void litmus_local(void **state)
{
    check_one(*state, LM_LOCAL);
}

int main(void)
{
    static const CMUnitTestFunction fns[] = {litmus_free, litmus_timed, litmus_strict,
                                             litmus_local};
    enum { NMODES = sizeof(fns) / sizeof(fns[0]) };
    struct CMUnitTest tests[NMODES * NLITMUS];
    char names[NMODES * NLITMUS][40];
    for (size_t i = 0; i < NMODES * NLITMUS; i++) {
        snprintf(names[i], sizeof(names[0]), "%s, %s", litmus[i / NMODES].name,
                 mode_name[i % NMODES]);
        tests[i] =
            (struct CMUnitTest){names[i], fns[i % NMODES], NULL, NULL, (void *)&litmus[i / NMODES]};
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
