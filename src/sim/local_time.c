/*
 * local_time.c — per-CPU clocks (sim_config.local_time), the time model of the unbounded search.
 *
 * In the default model one clock runs the world: a CPU picked runs at the latest time any step
 * has reached, so a step that moves that clock delays every CPU due before it, and the search
 * must treat the step and those CPUs' next steps as dependent. Nearly every step moves the
 * clock, so nearly every pair of steps is dependent. Here each CPU keeps its own clock: its step
 * runs at the time it reached, whatever other CPUs did meanwhile, and clocks meet only where
 * steps touch the same object. Steps that touch nothing in common then commute exactly (same
 * state, same times, either order), which is what partial-order reduction needs.
 *
 * Objects carry times. Each object (a 4-byte word of memory, a lock word, the remapping unit's
 * register state LT_KEY_HW, the hardware's schedule SIM_FP_OBJ_HWCLK) keeps the time of its last
 * write and the latest time it was read since. A CPU that reads an object written later than
 * its own time, or writes one read or written later, runs that access at that later time: the
 * CPU was delayed, as real CPUs are (a bus, a cache miss, an interrupt). The delay is bounded by
 * the window (sim_config.window, the same bound as the default model's candidate window): a
 * step moved more than the window after the time its CPU reached would need the CPU to stall
 * that long for no reason, which the default model never does. Such an order of steps is no
 * behaviour of the machine; the run stops with SIM_STOP_INFEASIBLE, the checker does not judge
 * it, and the search still learns its races (the order that is a behaviour is another branch).
 * Waiting is no stall: a CPU that waited for a lock that was busy when it arrived (busy period
 * tracked on the lock word), or a poller woken by a write to what it polls, starts at the time
 * its wait ended.
 *
 * The hardware keeps its own clock and never waits: its actions run at their times. A CPU's step
 * first runs every action due by the CPU's time (sim__lt_catch_up), so what the CPU reads
 * includes them; an action touching an object a CPU touched at a later time would mean the CPU
 * saw the hardware's future: infeasible too (it cannot happen while the rules below hold, and is
 * checked). The hardware's own next step is a candidate of every choice. An MMIO write (or an OS
 * change to the tables) can schedule actions, so it counts as writing what the queue will still
 * touch: the engine's registers and the status words of the waits not completed yet
 * (hw_pending_lines), and the schedule the hardware's steps read (SIM_FP_OBJ_HWCLK): a read of
 * those runs before the write or after it, and both orders are run.
 *
 * Polling. A CPU at a relax whose last iteration changed nothing and read nothing that changed
 * since (its read set rs) would repeat that iteration exactly: it is parked, and runs again when
 * a write changes an object of rs, when its relax deadline (wake_by) comes, or when an
 * interrupt it can take is raised; its first step then reads rs. A lock taken in the
 * iteration is in rs too, and a critical section of another CPU that changed driver memory
 * wakes it ("Critical sections" below). When no CPU can run and the hardware has nothing
 * pending, nothing can ever change: a proved hang, or a deadlock.
 *
 * Invariants:
 *  - An object's times are those of the accesses made so far in execution order; a CPU access
 *    never runs earlier than what it depends on (wt for a read, max(wt, rt) for a write).
 *  - hw_now() never passes the time of the hardware's next action still to run; it moves only
 *    in sim__lt_catch_up (to each action's time) and at an MMIO write (to the writer's time,
 *    with nothing due before it).
 */
#include <stdlib.h>
#include <string.h>

#include "qinval/vtd.h"
#include "sim/world_internal.h"
#include "util/grow.h"

static hw_time tmax(hw_time a, hw_time b)
{
    return a > b ? a : b;
}

/* ---- the table of objects ---- */

void sim__lt_reset(sim_world *w)
{
    for (size_t i = 0; i < w->n_lt; i++)
        w->lt[w->lt_used[i]].key = 0;
    w->n_lt = 0;
}

void sim__lt_free(sim_world *w)
{
    free(w->lt);
    free(w->lt_used);
    w->lt = NULL;
    w->lt_used = NULL;
    w->cap_lt = w->n_lt = 0;
}

static size_t slot_of(uintptr_t key, size_t cap)
{
    return (size_t)((key >> 3) * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
}

static void grow_table(sim_world *w)
{
    size_t cap = w->cap_lt ? w->cap_lt * 2 : 256;
    struct lt_obj *v = must_alloc(cap * sizeof(*v), "the objects' times");
    memset(v, 0, cap * sizeof(*v));
    size_t n = 0;
    uint32_t *used = must_alloc(cap / 2 * sizeof(*used), "the objects' times");
    for (size_t i = 0; i < w->n_lt; i++) {
        const struct lt_obj *o = &w->lt[w->lt_used[i]];
        size_t h = slot_of(o->key, cap);
        while (v[h].key)
            h = (h + 1) & (cap - 1);
        v[h] = *o;
        used[n++] = (uint32_t)h;
    }
    free(w->lt);
    free(w->lt_used);
    w->lt = v;
    w->lt_used = used;
    w->cap_lt = cap;
}

static struct lt_obj *find(sim_world *w, uintptr_t key)
{
    if (w->n_lt + 1 > w->cap_lt / 2)
        grow_table(w);
    size_t h = slot_of(key, w->cap_lt);
    while (w->lt[h].key && w->lt[h].key != key)
        h = (h + 1) & (w->cap_lt - 1);
    struct lt_obj *o = &w->lt[h];
    if (!o->key) {
        *o = (struct lt_obj){.key = key};
        w->lt_used[w->n_lt++] = (uint32_t)h;
    }
    return o;
}

/* ---- waking pollers ---- */

static bool in_rs(const struct sim_cpu *c, uintptr_t key)
{
    for (unsigned i = 0; i < c->rs_n; i++)
        if (c->rs[i] == key)
            return true;
    return false;
}

/* Something o read in its current (or parked) iteration changed at time t. */
static void hit(struct sim_cpu *o, hw_time t)
{
    o->rs_hit = true;
    o->rs_wake_t = tmax(o->rs_wake_t, t);
}

/* A write by `writer` (-1: the hardware) at time t changed `key`: the CPUs that read it in
 * their current (or parked) iteration will see something new. */
static void wake(sim_world *w, uintptr_t key, hw_time t, int writer)
{
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        struct sim_cpu *o = &w->cpu[i];
        if ((int)i != writer && !o->done && in_rs(o, key))
            hit(o, t);
    }
}

static void rs_add(struct sim_cpu *c, uintptr_t key)
{
    if (in_rs(c, key))
        return;
    if (c->rs_n == sizeof(c->rs) / sizeof(c->rs[0])) {
        c->rs_over = true;
        return;
    }
    c->rs[c->rs_n++] = key;
}

/*
 * Critical sections. What a lock protects is read and written with plain C, which only the
 * lock shows. A CPU that took a lock in its polling iteration has read under it: the lock is in
 * its read set. Another CPU's section may change what it read: when some CPU has the lock in
 * its read set, the acquire copies driver memory (sim__mem_copy), and when the CPU holds no
 * lock any more, a difference from the copy wakes those that read under any lock it took
 * (at the release's time: the change is seen from there). A section that changes nothing
 * (another poller's) wakes nobody, so two pollers of one lock do not keep waking each other.
 */
static bool watched(const sim_world *w, uintptr_t key, unsigned self)
{
    for (unsigned i = 0; i < w->cfg.ncpus; i++)
        if (i != self && !w->cpu[i].done && in_rs(&w->cpu[i], key))
            return true;
    return false;
}

/* Driver code reads memory the hardware writes (status words) with plain C too (a reclaim
 * loop, the kernel's wait), under a lock as all its plain reads of shared memory: a step that
 * holds a lock, or takes one, may read what the hardware wrote. */
static void read_hwmem(sim_world *w)
{
    sim__lt_cpu(w, LT_KEY_HWMEM, false, false, LT_PLAIN);
    sim__fp(w, (const void *)LT_KEY_HWMEM, false, 0);
}

static void section_acquire(sim_world *w, struct sim_cpu *c, uintptr_t key)
{
    rs_add(c, key);
    read_hwmem(w);
    c->cs_held++;
    if (c->cs_n) { /* a copy was taken: note the lock */
        if (c->cs_n < sizeof(c->cs_locks) / sizeof(c->cs_locks[0]))
            c->cs_locks[c->cs_n++] = key;
        else
            c->cs_over = true;
    } else if (watched(w, key, c->id)) {
        sim__mem_copy(w, c);
        c->cs_locks[0] = key;
        c->cs_n = 1;
        c->cs_over = false;
    }
}

static void section_release(sim_world *w, struct sim_cpu *c)
{
    if (c->cs_held)
        c->cs_held--;
    if (!c->cs_n || c->cs_held)
        return;
    unsigned n = c->cs_n;
    c->cs_n = 0;
    if (sim__mem_same(w, c))
        return;
    c->lt_wrote = true;
    for (unsigned i = 0; i < n; i++)
        wake(w, c->cs_locks[i], w->now, (int)c->id);
    if (c->cs_over) /* more locks than it kept: every poller that read under a lock */
        for (unsigned i = 0; i < w->cfg.ncpus; i++)
            if (i != c->id && !w->cpu[i].done && w->cpu[i].rs_n)
                hit(&w->cpu[i], w->now);
}

/* ---- infeasible orders ---- */

static void infeasible(sim_world *w, const struct sim_cpu *c, hw_time need, const char *what)
{
    if (c)
        sim__finish(w, SIM_STOP_INFEASIBLE, (int)c->id, w->now,
                    "cpu%u at %.9f s would have to wait until %.9f s for %s: no behaviour", c->id,
                    (double)c->lt_base / HW_S, (double)need / HW_S, what);
    else
        sim__finish(w, SIM_STOP_INFEASIBLE, -1, w->now,
                    "the hardware at %.9f s touched what a CPU touched at %.9f s: no behaviour",
                    (double)hw_now(w->hw) / HW_S, (double)need / HW_S);
}

/* The running CPU's access depends on something done at time `dep`: it runs then, if that is
 * within the window of its step's start (or `waited`). */
static void sync_to(sim_world *w, struct sim_cpu *c, hw_time dep, bool waited, const char *what)
{
    if (dep <= w->now)
        return;
    if (!waited && dep - c->lt_base > w->cfg.window) {
        infeasible(w, c, dep, what);
        return;
    }
    w->now = dep;
    if (c->t < dep)
        c->t = dep;
}

/* ---- accesses ---- */

void sim__lt_cpu(sim_world *w, uintptr_t key, bool write, bool changed, enum lt_kind kind)
{
    if (w->running < 0 || w->stop)
        return;
    struct sim_cpu *c = &w->cpu[w->running];
    struct lt_obj *o = find(w, key);
    if (kind != LT_OBSERVE) {
        hw_time dep = write ? tmax(o->wt, o->rt) : o->wt;
        /* an acquire after a wait: the lock was busy when this CPU came for it */
        bool waited = kind == LT_ACQUIRE && o->busy <= time_add(c->lt_base, w->cfg.window);
        if (kind == LT_ACQUIRE && w->fp) /* it may have waited for the lock: no bound */
            w->fp->latest_before = HW_NEVER;
        sync_to(w, c, dep, waited, "an object another CPU touched then");
        if (w->stop)
            return;
    }
    if (!write) {
        o->rt = tmax(o->rt, w->now);
        if (kind != LT_OBSERVE)
            rs_add(c, key);
        return;
    }
    if (kind == LT_ACQUIRE && w->now > time_add(o->rel, w->cfg.window))
        o->busy = w->now; /* it was free for a while: a new busy period */
    if (kind == LT_RELEASE)
        o->rel = w->now;
    o->wt = w->now;
    o->rt = 0;
    if (kind == LT_ACQUIRE)
        section_acquire(w, c, key);
    else if (kind == LT_RELEASE)
        section_release(w, c);
    if (changed) {
        c->lt_wrote = true;
        wake(w, key, w->now, (int)c->id);
    }
}

void sim__lt_hw(sim_world *w, uintptr_t key, bool write)
{
    if (w->stop)
        return;
    hw_time now = hw_now(w->hw);
    struct lt_obj *o = find(w, key);
    hw_time dep = write ? tmax(o->wt, o->rt) : o->wt;
    if (dep > now) {
        infeasible(w, NULL, dep, NULL);
        return;
    }
    if (!write) {
        o->rt = tmax(o->rt, now);
        return;
    }
    o->wt = now;
    o->rt = 0;
    wake(w, key, now, -1);
}

/* ---- the registers ---- */

/* The registers whose value can change: each is an object of its own (LT_KEY_REG), so that a
 * poller reading FSTS does not depend on the hardware moving IQH. */
static const uint32_t tracked[] = {VTD_REG_GSTS,   VTD_REG_RTADDR, VTD_REG_FSTS,    VTD_REG_FECTL,
                                   VTD_REG_FEDATA, VTD_REG_FEADDR, VTD_REG_FEUADDR, VTD_REG_IQH,
                                   VTD_REG_IQT,    VTD_REG_IQA,    VTD_REG_ICS,     VTD_REG_IECTL,
                                   VTD_REG_IEDATA, VTD_REG_IEADDR, VTD_REG_IEUADDR, VTD_REG_IQERCD,
                                   VTD_REG_IRTA};
#define NTRACKED (sizeof(tracked) / sizeof(tracked[0]))

struct regsnap {
    uint64_t v[NTRACKED];
};

static uintptr_t reg_key(uint32_t off)
{
    return LT_KEY_REG0 + (uintptr_t)off * 16;
}

static bool is_tracked(uint32_t off)
{
    for (size_t i = 0; i < NTRACKED; i++)
        if (tracked[i] == off)
            return true;
    return false;
}

static void snap(const sim_world *w, struct regsnap *r)
{
    for (size_t i = 0; i < NTRACKED; i++)
        r->v[i] = hw_reg_peek(w->hw, tracked[i]);
}

/* The registers that changed since *r (which is brought up to date): written by the hardware
 * at its own time (by_cpu false) or by the running CPU's MMIO write. */
static void changed_regs(sim_world *w, struct regsnap *r, bool by_cpu)
{
    for (size_t i = 0; i < NTRACKED; i++) {
        uint64_t v = hw_reg_peek(w->hw, tracked[i]);
        if (v == r->v[i])
            continue;
        r->v[i] = v;
        uintptr_t key = reg_key(tracked[i]);
        sim__fp(w, (const void *)key, true, 0);
        if (by_cpu)
            sim__lt_cpu(w, key, true, true, LT_PLAIN);
        else
            sim__lt_hw(w, key, true);
    }
}

void sim__lt_catch_up(sim_world *w, hw_time t)
{
    hw_time next;
    struct regsnap r;
    bool ran = false;
    while (!w->stop && (next = hw_next_event(w->hw)) <= t) {
        if (!ran) {
            snap(w, &r);
            ran = true;
            /* the OS's tables (sim_touch) are what the hardware's actions read */
            sim__lt_hw(w, LT_KEY_HW, false);
            sim__fp(w, (const void *)LT_KEY_HW, false, 0);
        }
        hw_advance(w->hw, next);
        changed_regs(w, &r, false);
    }
}

/* ---- MMIO ---- */

static _Thread_local struct regsnap before_write;

void sim__lt_mmio_read(sim_world *w, uint32_t off)
{
    if (w->stop || !is_tracked(off))
        return;
    sim__lt_cpu(w, reg_key(off), false, false, LT_PLAIN);
    sim__fp(w, (const void *)reg_key(off), false, 0);
}

/* A status word the queue will write, as part of the MMIO write that sets it going (the
 * descriptors it will fetch were written before the tail moved, by program order). */
static void pending_line(void *ctx, hw_paddr pa, unsigned len)
{
    sim_world *w = ctx;
    for (hw_paddr a = pa & ~(hw_paddr)(SIM_FP_LINE - 1); a < pa + len && !w->stop;
         a += SIM_FP_LINE) {
        uintptr_t line = (uintptr_t)(w->ram + a);
        sim__lt_cpu(w, line, true, false, LT_PLAIN);
        sim__fp(w, (const void *)line, true, 0);
    }
}

/* The registers the queue engine changes as it works: an MMIO write that sets it going changes
 * them later (a fetch moves IQH, an error sets FSTS and IQERCD, a wait with IF sets ICS). */
static const uint32_t queue_regs[] = {VTD_REG_IQH, VTD_REG_FSTS, VTD_REG_ICS, VTD_REG_IQERCD};

void sim__lt_mmio_write(sim_world *w, struct sim_cpu *c, uint32_t off, uint64_t val)
{
    if (w->stop)
        return;
    /* the hardware cannot schedule into its past: the write runs at its time at least */
    sync_to(w, c, hw_now(w->hw), false, "the hardware's clock");
    if (w->stop)
        return;
    /* What the write changes now or sets going (its footprint, and its time: no earlier than
     * anything already done to those objects): the register written (GSTS for a command), the
     * registers and the memory the queue will touch from here (conservatively: whichever
     * register is written, the queue may resume), the interrupt lines, the schedule. */
    uint32_t target = off == VTD_REG_GCMD ? VTD_REG_GSTS : off;
    if (is_tracked(target)) {
        sim__lt_cpu(w, reg_key(target), true, false, LT_PLAIN);
        sim__fp(w, (const void *)reg_key(target), true, 0);
    }
    for (size_t i = 0; i < sizeof(queue_regs) / sizeof(queue_regs[0]); i++) {
        if (queue_regs[i] == target)
            continue;
        sim__lt_cpu(w, reg_key(queue_regs[i]), true, false, LT_PLAIN);
        sim__fp(w, (const void *)reg_key(queue_regs[i]), true, 0);
    }
    hw_pending_lines(w->hw, off == VTD_REG_IQT ? val : UINT64_MAX, pending_line, w);
    sim__lt_cpu(w, LT_KEY_IRQ, true, false, LT_PLAIN);
    sim__fp(w, (const void *)LT_KEY_IRQ, true, 0);
    sim__lt_cpu(w, SIM_FP_OBJ_HWCLK, true, false, LT_PLAIN);
    sim__fp(w, (const void *)SIM_FP_OBJ_HWCLK, true, 0);
    if (w->stop)
        return;
    sim__lt_catch_up(w, w->now); /* nothing is due by now; should something be, it runs */
    if (w->now > hw_now(w->hw))
        hw_advance(w->hw, w->now);
    snap(w, &before_write);
}

void sim__lt_mmio_written(sim_world *w)
{
    if (!w->stop)
        changed_regs(w, &before_write, true);
}

/* An OS change to the translation tables: the hardware's actions read them. */
void sim__lt_touch(sim_world *w, struct sim_cpu *c)
{
    sync_to(w, c, hw_now(w->hw), false, "the hardware's clock");
    if (w->stop)
        return;
    sim__lt_catch_up(w, w->now);
    if (w->now > hw_now(w->hw))
        hw_advance(w->hw, w->now);
    sim__lt_cpu(w, SIM_FP_OBJ_HWCLK, true, false, LT_PLAIN);
    sim__lt_cpu(w, LT_KEY_HW, true, true, LT_PLAIN);
    sim__fp(w, (const void *)SIM_FP_OBJ_HWCLK, true, 0);
    sim__fp(w, (const void *)LT_KEY_HW, true, 0);
}

void sim__lt_ram(sim_world *w, const volatile void *addr, bool write, bool changed)
{
    sim__lt_cpu(w, (uintptr_t)addr & ~(uintptr_t)(SIM_FP_LINE - 1), write, changed, LT_PLAIN);
}

/* ---- the scheduler's side ---- */

/* A parked CPU's earliest reason to run again, or HW_NEVER; *by_write: that reason is another
 * party's write to what it polls (its wait then ended when the write came). */
static hw_time woken_at(const struct sim_cpu *c, bool *by_write)
{
    hw_time t = HW_NEVER;
    *by_write = false;
    if (c->rs_hit) {
        t = tmax(c->t, c->rs_wake_t);
        *by_write = true;
    }
    if (c->wake_by && tmax(c->t, c->wake_by) < t) {
        t = tmax(c->t, c->wake_by);
        *by_write = false;
    }
    if (c->irq_pending && !c->irqs_off && !c->in_irq && tmax(c->t, c->irq_at) < t) {
        t = tmax(c->t, c->irq_at);
        *by_write = false;
    }
    return t;
}

hw_time sim__lt_ready(const sim_world *w, const struct sim_cpu *c)
{
    (void)w;
    bool by_write;
    if (c->done || sim__blocked(c))
        return HW_NEVER;
    return c->parked ? woken_at(c, &by_write) : c->t;
}

/* The earliest watchdog deadline among live CPUs with interrupts off, and whose. */
static hw_time first_watchdog(const sim_world *w, int *who)
{
    hw_time t = HW_NEVER;
    *who = -1;
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        const struct sim_cpu *c = &w->cpu[i];
        if (!c->done && c->irqs_off && sim__watchdog_at(w, c) < t) {
            t = sim__watchdog_at(w, c);
            *who = (int)i;
        }
    }
    return t;
}

static void lockup(sim_world *w, unsigned cpu)
{
    sim__hard_lockup(w, cpu, w->cfg.watchdog);
}

/* No CPU can run: the hardware's next action runs, unless a watchdog fires first or nothing is
 * left to happen. */
static void idle(sim_world *w, bool all_blocked)
{
    if (all_blocked) {
        sim__proved_hang(w, SIM_STOP_DEADLOCK, "every live CPU waits for a lock");
        return;
    }
    hw_time t = hw_next_event(w->hw);
    int who;
    hw_time wd = first_watchdog(w, &who);
    if (who >= 0 && wd <= t && t != HW_NEVER) { /* (with nothing pending: a hang, below) */
        lockup(w, (unsigned)who);
        return;
    }
    if (t == HW_NEVER) {
        sim__proved_hang(w, SIM_STOP_HANG,
                         "every CPU is waiting and nothing is pending in the hardware: no event "
                         "can ever change that");
        return;
    }
    if (t > w->cfg.max_virtual) {
        sim__timeout(w, w->cfg.max_virtual + 1);
        return;
    }
    w->now = t;
    sim__lt_catch_up(w, t);
    w->unseen = true;
}

/* Every CPU finished: the hardware finishes too (late status writes, answers, time-outs). */
static void drain(sim_world *w)
{
    hw_time t = hw_next_event(w->hw);
    if (t == HW_NEVER || t > w->cfg.max_virtual) {
        sim__finish(w, SIM_STOP_DONE, -1, hw_now(w->hw), "every CPU finished");
        return;
    }
    w->now = t;
    sim__lt_catch_up(w, t);
}

struct sim_cpu *sim__lt_pick(sim_world *w)
{
    if (w->irq_cpus)
        sim__revive_for_irqs(w);
    if (w->stop)
        return NULL;
    unsigned cands[SIM_MAX_CPUS], n = 0, live = 0, blocked = 0;
    hw_time at[SIM_MAX_CPUS];
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        const struct sim_cpu *c = &w->cpu[i];
        if (c->done)
            continue;
        live++;
        blocked += sim__blocked(c);
        hw_time t = sim__lt_ready(w, c);
        if (t == HW_NEVER)
            continue;
        at[n] = t;
        cands[n++] = i;
    }
    if (live == 0) {
        drain(w);
        return NULL;
    }
    if (n == 0 && blocked == live) {
        idle(w, true);
        return NULL;
    }
    /* the hardware is a party too: its next action may come before any CPU's next step */
    hw_time te = hw_next_event(w->hw);
    int who;
    if (n == 0 && te != HW_NEVER && first_watchdog(w, &who) <= te && who >= 0) { /* fires while
                                                                                 all wait */
        lockup(w, (unsigned)who);
        return NULL;
    }
    if (te != HW_NEVER && te <= w->cfg.max_virtual) {
        at[n] = te;
        cands[n++] = w->cfg.ncpus;
    }
    if (n == 0) {
        idle(w, false);
        return NULL;
    }
    unsigned pick = n == 1 ? 0 : w->choose(w->choose_ctx, w, cands, n, w->steps);
    if (pick >= n)
        pick = 0;
    if (sim__check_steps(w))
        return NULL;
    if (cands[pick] == w->cfg.ncpus) {
        sim__hw_step(w, at[pick]);
        return NULL;
    }
    struct sim_cpu *c = &w->cpu[cands[pick]];
    bool by_write = false;
    if (c->parked)
        woken_at(c, &by_write);
    c->lt_woken = c->parked;
    c->lt_waited = by_write;
    c->t = at[pick];
    c->lt_base = c->t;
    w->now = c->t;
    if (c->irqs_off && sim__watchdog_at(w, c) <= c->t) {
        lockup(w, c->id);
        return NULL;
    }
    if (c->t > w->cfg.max_virtual) {
        sim__timeout(w, c->t);
        return NULL;
    }
    w->unseen = false;
    return c;
}

/* The running step depends on c's read set (its footprint reads every object of it). */
static void read_rs(sim_world *w, const struct sim_cpu *c)
{
    for (unsigned i = 0; i < c->rs_n; i++)
        sim__fp(w, (const void *)c->rs[i], false, 0);
}

/* A step begins (its footprint record is open): the hardware catches up with the CPU's time;
 * a CPU woken from a park reads what it waited on. */
void sim__lt_step_begin(sim_world *w, struct sim_cpu *c)
{
    w->now = c->t;
    c->lt_base = c->t;
    if (w->fp) { /* a poller a write woke waited for it: no bound on what it may follow */
        w->fp->t = c->t;
        w->fp->latest_before = c->lt_waited ? HW_NEVER : time_add(c->t, w->cfg.window);
        c->lt_waited = false;
    }
    sim__lt_catch_up(w, c->t);
    if (c->cs_held) /* it reads under a lock it holds: what the hardware wrote too */
        read_hwmem(w);
    if (c->lt_woken) {
        c->lt_woken = false;
        read_rs(w, c);
    }
}

/* A step of the CPU that takes interrupts, with interrupts on, could have taken one raised by an
 * action scheduled before its end: it reads the interrupt lines up to its end. */
void sim__lt_step_end(sim_world *w, struct sim_cpu *c)
{
    if (c->id != w->cfg.irq_cpu || c->irqs_off || c->done || w->stop)
        return;
    hw_time keep = w->now;
    w->now = tmax(w->now, c->t);
    sim__lt_cpu(w, LT_KEY_IRQ, false, false, LT_OBSERVE);
    w->now = keep;
    sim__fp(w, (const void *)LT_KEY_IRQ, false, 0);
}

struct sim_cpu *sim__lt_relax(qi_platform *p)
{
    sim_world *w = p->w;
    struct sim_cpu *c = &w->cpu[p->cpu];
    c->parked = c->rs_valid && !c->rs_hit && !c->rs_over && !c->lt_wrote;
    read_rs(w, c); /* whether it parks depends on what it read: a write there decides it */
    c = sim__point(p, OP_RELAX);
    c->parked = false;
    c->rs_n = 0;
    c->rs_hit = c->rs_over = c->lt_wrote = false;
    c->rs_wake_t = 0;
    c->rs_valid = true;
    return c;
}
