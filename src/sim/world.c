/*
 * world.c — the scheduler of the simulation: it merges the hardware's timed actions with the
 * simulated CPUs' operations in virtual time, asks the strategy which CPU runs at each choice,
 * jumps time over stretches where every CPU only polls, and reaches the run's verdict (done,
 * hard lockup, proved hang, time bound, deadlock, loop with no platform point).
 *
 * Invariants:
 *  - w->now never decreases; the hardware clock equals w->now after every scheduler iteration.
 *  - A CPU's operation runs at max(w->now, cpu.t); afterwards cpu.t = w->now + its cost.
 *  - Only the main context touches the scheduler state; a CPU changes it only through the
 *    platform functions it is running (platform_sim.c), one CPU at a time.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/world_internal.h"
#include "util/grow.h"

void sim_config_default(sim_config *c)
{
    memset(c, 0, sizeof(*c));
    c->ncpus = 1;
    c->watchdog = 10 * HW_S;
    c->max_virtual = 600 * HW_S;
    c->window = 1 * HW_US;
    c->cost = (struct sim_costs){.mmio_read = 100,
                                 .mmio_write = 50,
                                 .lock = 20,
                                 .atomic = 20,
                                 .mem = 5,
                                 .relax = 50,
                                 .clock = 20,
                                 .irq_entry = 200};
    c->irq_cpu = 0;
    c->step_guard_ms = 10;
    c->stack_bytes = 256 * 1024;
    c->max_steps = 10000000;
}

static void irq_sink(void *ctx, enum hw_irq irq, int ep);

sim_world *sim_create(const sim_config *cfg, hw_machine *hw, const char **err)
{
    const char *why = NULL;
    if (cfg->ncpus < 1 || cfg->ncpus > SIM_MAX_CPUS)
        why = "ncpus must be 1..64";
    else if (cfg->irq_cpu >= cfg->ncpus)
        why = "irq_cpu must name one of the CPUs";
    else if (cfg->watchdog == 0 || cfg->max_virtual == 0)
        why = "watchdog and max_virtual must be positive";
    else if (!hw)
        why = "no hardware model";
    if (why) {
        if (err)
            *err = why;
        return NULL;
    }
    sim_world *w = calloc(1, sizeof(*w));
    if (!w) {
        if (err)
            *err = "out of memory";
        return NULL;
    }
    w->cfg = *cfg;
    w->hw = hw;
    w->ram = hw_mem_ptr(hw, 0, 1);
    w->running = -1;
    w->now = hw_now(hw);
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        struct sim_cpu *c = &w->cpu[i];
        c->id = i;
        c->plat.w = w;
        c->plat.cpu = i;
        c->hotplug_ep = -1;
        c->relax_epoch = UINT64_MAX;
    }
    hw_set_irq_sink(hw, irq_sink, w);
    return w;
}

void sim_destroy(sim_world *w)
{
    if (!w)
        return;
    hw_set_irq_sink(w->hw, NULL, NULL);
    for (unsigned i = 0; i < w->cfg.ncpus; i++)
        sim_coro_destroy(w->cpu[i].co);
    for (size_t i = 0; i < w->nnotes; i++)
        free(w->notes[i]);
    free(w->notes);
    free(w->regions);
    free(w->ev);
    free(w);
}

hw_machine *sim_hw(const sim_world *w)
{
    return w->hw;
}

const sim_config *sim_get_config(const sim_world *w)
{
    return &w->cfg;
}

void sim_set_cpu(sim_world *w, unsigned cpu, sim_cpu_fn fn, void *arg)
{
    if (cpu < w->cfg.ncpus) {
        w->cpu[cpu].fn = fn;
        w->cpu[cpu].arg = arg;
    }
}

void sim_set_irq_handler(sim_world *w, sim_irq_fn fn, void *arg)
{
    w->irq_fn = fn;
    w->irq_arg = arg;
}

void sim_set_chooser(sim_world *w, sim_choose_fn fn, void *ctx)
{
    w->choose = fn;
    w->choose_ctx = ctx;
}

qi_platform *sim_platform(sim_world *w, unsigned cpu)
{
    return cpu < w->cfg.ncpus ? &w->cpu[cpu].plat : NULL;
}

sim_world *sim_platform_world(qi_platform *p)
{
    return p->w;
}

unsigned sim_platform_cpu(qi_platform *p)
{
    return p->cpu;
}

hw_time sim_cpu_time(const sim_world *w, unsigned cpu)
{
    return cpu < w->cfg.ncpus ? w->cpu[cpu].t : 0;
}

bool sim_cpu_irqs_off(const sim_world *w, unsigned cpu)
{
    return cpu < w->cfg.ncpus && w->cpu[cpu].irqs_off;
}

const char *sim_stop_name(enum sim_stop s)
{
    static const char *const names[] = {"done",     "hard_lockup", "hang", "timeout",
                                        "deadlock", "loop",        "abort"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* ---- events and verdicts ---- */

void sim__event(sim_world *w, int cpu, unsigned kind, uint64_t a, uint64_t b)
{
    GROW(w->ev, w->nev, w->cap_ev, 256);
    size_t hwpos;
    hw_events(w->hw, &hwpos);
    w->ev[w->nev++] = (sim_event){
        .t = w->now, .hwpos = hwpos, .kind = (uint16_t)kind, .cpu = (int16_t)cpu, .a = a, .b = b};
}

const sim_event *sim_events(const sim_world *w, size_t *n)
{
    *n = w->nev;
    return w->ev;
}

void sim__finish(sim_world *w, enum sim_stop stop, int cpu, hw_time t, const char *fmt, ...)
{
    if (w->stop)
        return;
    w->stop = true;
    w->out.stop = stop;
    w->out.cpu = cpu;
    w->out.irqs_off = cpu >= 0 && w->cpu[cpu].irqs_off;
    w->out.t = t;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->out.why, sizeof(w->out.why), fmt, ap);
    va_end(ap);
}

void sim_abort(sim_world *w, const char *why)
{
    int cpu = w->running;
    sim__finish(w, SIM_STOP_ABORT, cpu, w->now, "%s", why);
    if (cpu >= 0 && sim_coro_current())
        sim_coro_yield(); /* never resumed: the scheduler stops */
}

void sim__mutated(sim_world *w)
{
    w->epoch++;
}

/* New hardware events other than MMIO reads count as changes. */
static void note_hw_progress(sim_world *w)
{
    size_t n;
    const hw_event *ev = hw_events(w->hw, &n);
    for (size_t i = w->hw_seen; i < n; i++)
        if (ev[i].kind != HW_EV_MMIO_READ) {
            w->epoch++;
            break;
        }
    w->hw_seen = n;
}

/* ---- interrupts ---- */

static void irq_sink(void *ctx, enum hw_irq irq, int ep)
{
    sim_world *w = ctx;
    struct sim_cpu *c = &w->cpu[w->cfg.irq_cpu];
    c->irq_pending |= 1u << irq;
    if (irq == HW_IRQ_HOTPLUG)
        c->hotplug_ep = ep;
    w->epoch++;
}

/* Run pending interrupt handlers on the current CPU (in its coroutine). */
static void deliver_irqs(sim_world *w, struct sim_cpu *c)
{
    while (c->irq_pending && !c->irqs_off && !c->in_irq) {
        unsigned irq = (unsigned)__builtin_ctz(c->irq_pending);
        c->irq_pending &= ~(1u << irq);
        int ep = irq == HW_IRQ_HOTPLUG ? c->hotplug_ep : -1;
        c->in_irq = true;
        c->irqs_off = true;
        c->irq_off_since = w->now;
        sim__event(w, (int)c->id, SIM_EV_IRQ_ENTRY, irq, (uint64_t)(int64_t)ep);
        c->t = w->now + w->cfg.cost.irq_entry;
        if (w->irq_fn)
            w->irq_fn(w, c->id, (enum hw_irq)irq, ep, w->irq_arg);
        c->irqs_off = false;
        c->in_irq = false;
    }
}

/* ---- scheduling points (called from platform_sim.c inside a CPU) ---- */

struct sim_cpu *sim__point(qi_platform *p, enum cpu_op op)
{
    sim_world *w = p->w;
    struct sim_cpu *c = &w->cpu[p->cpu];
    c->op = op;
    sim_coro_yield();
    deliver_irqs(w, c);
    return c;
}

void sim__charge(struct sim_cpu *c, hw_time cost)
{
    c->t = c->plat.w->now + cost;
}

/* ---- the scheduler ---- */

static void cpu_main(void *arg)
{
    struct sim_cpu *c = arg;
    sim_world *w = c->plat.w;
    deliver_irqs(w, c);
    if (c->fn)
        c->fn(w, c->id, c->arg);
}

/* A CPU whose workload is over idles with interrupts on, as any OS idle loop does: it still
 * takes the interrupts routed to it. This is its body when an interrupt finds it finished. */
static void idle_irq_main(void *arg)
{
    struct sim_cpu *c = arg;
    deliver_irqs(c->plat.w, c);
}

/* Bring finished CPUs with pending interrupts back for as long as their handlers run. */
static void revive_for_irqs(sim_world *w)
{
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        struct sim_cpu *c = &w->cpu[i];
        if (!c->done || c->stuck || !c->irq_pending)
            continue;
        sim_coro_destroy(c->co);
        c->co = sim_coro_create(idle_irq_main, c, w->cfg.stack_bytes);
        if (!c->co) {
            sim__finish(w, SIM_STOP_ABORT, (int)i, w->now, "no memory for cpu%u's stack", i);
            return;
        }
        c->done = false;
        c->irqs_off = false;
        c->in_irq = false;
        c->want = NULL;
        c->op = OP_START;
        if (c->t < w->now)
            c->t = w->now;
    }
}

static bool blocked(const struct sim_cpu *c)
{
    return c->op == OP_LOCK && c->want && c->want->word != 0;
}

static hw_time ready_time(const sim_world *w, const struct sim_cpu *c)
{
    if (c->irq_pending && !c->irqs_off && !c->in_irq && c->t > w->now)
        return w->now; /* an interrupt wakes an idle or polling CPU */
    return c->t;
}

/* A hash of all driver memory, a word at a time (regions are page-aligned allocations). */
static uint64_t region_hash(const sim_world *w)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < w->nregions; i++) {
        const uint64_t *q = w->regions[i].va;
        size_t words = (w->regions[i].bytes + 7) / 8;
        for (size_t k = 0; k < words; k++)
            h = (h ^ q[k]) * 0x100000001B3ull + (h >> 29);
    }
    return h;
}

/* Every live CPU waits: for a lock, for its sleep to end, or in a polling loop whose last
 * iteration changed nothing. */
static bool all_waiting(const sim_world *w)
{
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        const struct sim_cpu *c = &w->cpu[i];
        if (c->done)
            continue;
        if (blocked(c) || c->op == OP_SLEEP)
            continue;
        if (c->op == OP_RELAX && c->quiet && !(c->irq_pending && !c->irqs_off && !c->in_irq))
            continue;
        return false;
    }
    return true;
}

/* After the arming round, every polling CPU relaxed again. */
static bool round_complete(const sim_world *w)
{
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        const struct sim_cpu *c = &w->cpu[i];
        if (!c->done && c->op == OP_RELAX && c->relax_step < w->hash_step)
            return false;
    }
    return true;
}

/* The next time anything can change while all CPUs wait: a hardware action, a sleep ending, a
 * relax deadline. The watchdog deadline of a CPU with interrupts off is separate: it changes
 * nothing, it only reports. */
static hw_time next_change(const sim_world *w)
{
    hw_time t = hw_next_event(w->hw);
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        const struct sim_cpu *c = &w->cpu[i];
        if (c->done)
            continue;
        if (c->op == OP_SLEEP && c->t < t)
            t = c->t;
        if (c->op == OP_RELAX && c->wake_by > w->now && c->wake_by < t)
            t = c->wake_by;
    }
    return t;
}

static int first_irqs_off(const sim_world *w)
{
    int worst = -1;
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        const struct sim_cpu *c = &w->cpu[i];
        if (!c->done && c->irqs_off &&
            (worst < 0 || c->irq_off_since < w->cpu[worst].irq_off_since))
            worst = (int)i;
    }
    return worst;
}

/* Nothing can ever change: a proved hang. A CPU with interrupts off would also trip the
 * lockup detector, but the hang is the finding (the lockup is its consequence). */
static void proved_hang(sim_world *w, enum sim_stop stop, const char *what)
{
    int c = first_irqs_off(w);
    if (c < 0) {
        sim__finish(w, stop, -1, w->now, "%s", what);
        return;
    }
    sim__finish(w, stop, c, w->now,
                "%s; cpu%d waits with interrupts disabled, so the lockup detector would also "
                "fire at %.9f s",
                what, c, (double)(w->cpu[c].irq_off_since + w->cfg.watchdog) / HW_S);
}

static void jump_to(sim_world *w, hw_time t)
{
    sim__event(w, -1, SIM_EV_JUMP, w->now, t);
    w->now = t;
    hw_advance(w->hw, t);
    for (unsigned i = 0; i < w->cfg.ncpus; i++)
        if (!w->cpu[i].done && w->cpu[i].t < t)
            w->cpu[i].t = t;
    w->hash_armed = false;
}

/* Returns true when time jumped (or the run ended): the caller re-evaluates. */
static bool try_jump(sim_world *w)
{
    if (!all_waiting(w))
        return false; /* a CPU is mid-iteration; an armed round stays valid while the epoch holds */
    if (!w->hash_armed || w->hash_epoch != w->epoch) {
        w->hash_armed = true;
        w->hash_epoch = w->epoch;
        w->hash_step = w->steps;
        w->hash_value = region_hash(w);
        return false;
    }
    if (!round_complete(w))
        return false;
    if (region_hash(w) != w->hash_value) {
        w->hash_armed = false;
        return false;
    }
    hw_time t = next_change(w);
    if (t == HW_NEVER) {
        proved_hang(w, SIM_STOP_HANG,
                    "every CPU is waiting and nothing is pending in the hardware: no event can "
                    "ever change that");
        return true;
    }
    int wd = first_irqs_off(w);
    if (wd >= 0 && w->cpu[wd].irq_off_since + w->cfg.watchdog < t)
        t = w->cpu[wd].irq_off_since + w->cfg.watchdog;
    if (t > w->cfg.max_virtual)
        t = w->cfg.max_virtual + 1;
    jump_to(w, t);
    return true;
}

static bool check_watchdog(sim_world *w)
{
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        struct sim_cpu *c = &w->cpu[i];
        if (c->done || !c->irqs_off || w->now < c->irq_off_since + w->cfg.watchdog)
            continue;
        sim__finish(w, SIM_STOP_HARD_LOCKUP, (int)i, c->irq_off_since + w->cfg.watchdog,
                    "cpu%u kept interrupts disabled for %.1f s (watchdog %.1f s)%s", i,
                    (double)(w->now - c->irq_off_since) / HW_S, (double)w->cfg.watchdog / HW_S,
                    blocked(c) ? ", spinning on a lock" : "");
        return true;
    }
    if (w->cfg.max_steps && w->steps >= w->cfg.max_steps) {
        sim__finish(w, SIM_STOP_TIMEOUT, -1, w->now,
                    "%llu scheduling steps without finishing (%.3f s virtual): CPUs keep "
                    "changing state but no submit completes (livelock)",
                    (unsigned long long)w->steps, (double)w->now / HW_S);
        return true;
    }
    if (w->now > w->cfg.max_virtual) {
        sim__finish(w, SIM_STOP_TIMEOUT, -1, w->now,
                    "virtual time passed %.0f s with work still pending",
                    (double)w->cfg.max_virtual / HW_S);
        return true;
    }
    return false;
}

static unsigned default_choose(void *ctx, const sim_world *w, const unsigned *c, unsigned n,
                               uint64_t step)
{
    (void)ctx, (void)w, (void)c, (void)n, (void)step;
    return 0;
}

/* Every live CPU waits for a lock: nothing can ever change. */
static void deadlock(sim_world *w)
{
    proved_hang(w, SIM_STOP_DEADLOCK, "every live CPU waits for a lock");
}

/* Every CPU finished: let the hardware finish too (late status writes, answers, time-outs,
 * scheduled DMA), so the oracles judge the machine at rest, up to the virtual-time bound. One
 * event at a time: an interrupt it raises brings its (finished) CPU back to handle it. Returns
 * false once nothing is left to run. */
static bool drain_hardware(sim_world *w)
{
    hw_time t = hw_next_event(w->hw);
    if (t == HW_NEVER || t > w->cfg.max_virtual)
        return false;
    if (t > w->now)
        w->now = t;
    hw_advance(w->hw, w->now);
    return true;
}

/* One scheduler iteration. */
static void schedule_once(sim_world *w)
{
    unsigned cands[SIM_MAX_CPUS], n = 0, live = 0;
    hw_time tmin = HW_NEVER;
    note_hw_progress(w);
    revive_for_irqs(w);
    if (w->stop)
        return;
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        struct sim_cpu *c = &w->cpu[i];
        if (c->done)
            continue;
        live++;
        if (!blocked(c) && ready_time(w, c) < tmin)
            tmin = ready_time(w, c);
    }
    if (live == 0) {
        if (!drain_hardware(w))
            sim__finish(w, SIM_STOP_DONE, -1, w->now, "every CPU finished");
        return;
    }
    if (tmin == HW_NEVER) {
        deadlock(w);
        return;
    }
    hw_time te = hw_next_event(w->hw);
    if (te < tmin && te > w->now) { /* hardware acts before any CPU can */
        w->now = te;
        hw_advance(w->hw, te);
        check_watchdog(w);
        return;
    }
    if (try_jump(w)) {
        check_watchdog(w);
        return;
    }
    hw_time limit = tmin + w->cfg.window;
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        struct sim_cpu *c = &w->cpu[i];
        if (!c->done && !blocked(c) && ready_time(w, c) <= limit)
            cands[n++] = i;
    }
    unsigned pick = n == 1 ? 0 : w->choose(w->choose_ctx, w, cands, n, w->steps);
    if (pick >= n)
        pick = 0;
    struct sim_cpu *c = &w->cpu[cands[pick]];
    hw_time at = ready_time(w, c);
    if (at > w->now) {
        w->now = at;
        hw_advance(w->hw, at);
    }
    if (check_watchdog(w))
        return;
    c->t = w->now;
    w->running = (int)c->id;
    sim__guard_step_begin();
    int rc = sim_coro_resume(c->co);
    sim__guard_step_end();
    w->running = -1;
    w->steps++;
    if (rc == 0)
        c->done = true;
    else if (rc < 0)
        sim__finish(w, SIM_STOP_ABORT, (int)c->id, w->now, "cpu%u could not be resumed", c->id);
}

static void guard_fired(sim_world *w)
{
    sim_coro_escaped();
    int cpu = w->running;
    w->running = -1;
    if (cpu < 0)
        return;
    struct sim_cpu *c = &w->cpu[cpu];
    c->stuck = true;
    c->done = true;
    if (c->irqs_off)
        sim__finish(w, SIM_STOP_HARD_LOCKUP, cpu, c->irq_off_since + w->cfg.watchdog,
                    "cpu%d loops with interrupts disabled and never reaches a platform point "
                    "(no MMIO, lock, relax or shared access): the watchdog fires %.1f s after "
                    "interrupts went off",
                    cpu, (double)w->cfg.watchdog / HW_S);
    else
        sim__finish(w, SIM_STOP_LOOP, cpu, w->now,
                    "cpu%d loops forever without reaching a platform point (no MMIO, lock, "
                    "relax or shared access)",
                    cpu);
}

void sim_run(sim_world *w, sim_outcome *out)
{
    memset(&w->out, 0, sizeof(w->out));
    if (w->started) {
        sim__finish(w, SIM_STOP_ABORT, -1, w->now, "sim_run called twice");
        *out = w->out;
        return;
    }
    w->started = true;
    if (!w->choose)
        w->choose = default_choose;
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        w->cpu[i].co = sim_coro_create(cpu_main, &w->cpu[i], w->cfg.stack_bytes);
        if (!w->cpu[i].co) {
            sim__finish(w, SIM_STOP_ABORT, (int)i, 0, "no memory for cpu%u's stack", i);
            *out = w->out;
            return;
        }
    }
    sim__guard_arm(w);
    if (sigsetjmp(w->escape, 1))
        guard_fired(w);
    while (!w->stop)
        schedule_once(w);
    sim__guard_disarm();
    w->out.steps = w->steps;
    *out = w->out;
}
