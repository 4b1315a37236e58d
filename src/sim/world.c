/*
 * world.c — the scheduler of the simulation: it merges the hardware's timed actions with the
 * simulated CPUs' operations in virtual time, asks the strategy which CPU runs at each choice,
 * jumps time over stretches where every CPU only polls, and reaches the run's verdict (done,
 * hard lockup, proved hang, time bound, deadlock, loop with no platform point).
 *
 * Invariants:
 *  - w->now never decreases; the hardware clock equals w->now after every scheduler iteration.
 *  - A CPU's operation runs at max(w->now, cpu.t); afterwards cpu.t = w->now + its cost.
 *  - One thing runs at a time: the scheduler, or one CPU's step. A CPU changes scheduler state
 *    only through the platform functions it is running (platform_sim.c). The scheduler runs
 *    either on the main context or, when a CPU reaches a platform point, on that CPU's stack
 *    (reschedule()); its decisions depend only on the world, not on where it runs.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/world_internal.h"
#include "util/grow.h"
#include "util/strcopy.h"

/* The step guard's threshold of CPU time. A step of real driver code takes microseconds; the
 * guard only has to tell "never ends" from that, and every millisecond of it is latency before
 * a loop is reported. Unoptimised and sanitizer builds run the same steps several times slower
 * and fault in shadow memory, so they get more room: a guard that fires on a step that would
 * have ended is a false verdict. */
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
#define STEP_GUARD_MS 5
#else
#define STEP_GUARD_MS 20
#endif

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
    c->step_guard_ms = STEP_GUARD_MS;
    c->stack_bytes = 256 * 1024;
    c->max_steps = 10000000;
    c->cpu_events = true;
}

static void irq_sink(void *ctx, enum hw_irq irq, int ep);
static void fp_hw_mem(void *ctx, hw_paddr pa, unsigned len, bool write);

/* The next step count at which check_limits() must look (world_internal.h, step_limit). */
static void set_step_limit(sim_world *w)
{
    uint64_t lim = UINT64_MAX;
    if (w->cfg.max_steps)
        lim = time_add(w->progress_step, w->cfg.max_steps); /* (a saturating u64 sum) */
    if (w->cfg.budget_steps && w->cfg.budget_steps < lim)
        lim = w->cfg.budget_steps;
    if (w->cfg.wall_deadline_ns && w->clock_step < lim)
        lim = w->clock_step;
    w->step_limit = lim;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What a destroyed world leaves to the next one created on the same thread: the capacity of
 * its event, region and snapshot arrays and its note blocks, so that an execution of the checker
 * does not regrow them from nothing. A new world starts with every length at zero (and every
 * block's `used` at zero) and reads only what it wrote, so old contents never show. The world
 * structure itself is kept too, and zeroed when it is taken, so nothing of it shows either. */
static _Thread_local struct {
    sim_event *ev;
    size_t cap_ev;
    struct dma_region *regions;
    size_t cap_regions;
    uint8_t *snap;
    size_t cap_snap;
    struct mem_block *notes;
    struct lt_obj *lt; /* local_time's table of objects (empty), and its list of slots */
    uint32_t *lt_used;
    size_t cap_lt;
    sim_world *world; /* the world itself, with room for `cpus` CPUs */
    unsigned cpus;
} spare;

/* A zeroed world with room for ncpus CPUs: the spare one if it has the room, as calloc would
 * give it. */
static sim_world *world_new(unsigned ncpus)
{
    size_t bytes = sizeof(sim_world) + ncpus * sizeof(struct sim_cpu);
    sim_world *w = spare.world;
    if (!w || spare.cpus < ncpus)
        return calloc(1, bytes);
    spare.world = NULL;
    memset(w, 0, bytes);
    return w;
}

/* Keep the world with room for the most CPUs as the spare; free the other. */
static void world_keep(sim_world *w)
{
    if (spare.world && spare.cpus > w->cfg.ncpus) {
        free(w);
        return;
    }
    free(spare.world);
    spare.world = w;
    spare.cpus = w->cfg.ncpus;
}

sim_world *sim_create(const sim_config *cfg, hw_machine *hw, const char **err)
{
    const char *why = NULL;
    if (cfg->ncpus < 1 || cfg->ncpus > SIM_MAX_CPUS)
        why = "ncpus must be 1..64";
    else if (cfg->local_time && cfg->ncpus >= SIM_MAX_CPUS)
        why = "local_time needs ncpus below 64 (the hardware is one more party)";
    else if (cfg->irq_cpu >= cfg->ncpus)
        why = "irq_cpu must name one of the CPUs";
    else if (cfg->watchdog == 0 || cfg->max_virtual == 0)
        why = "watchdog and max_virtual must be positive";
    else if (cfg->max_virtual > SIM_MAX_VIRTUAL)
        why = "max_virtual must be at most SIM_MAX_VIRTUAL (1e9 s)";
    else if (!hw)
        why = "no hardware model";
    if (why) {
        if (err)
            *err = why;
        return NULL;
    }
    sim_world *w = world_new(cfg->ncpus);
    if (!w) {
        if (err)
            *err = "out of memory";
        return NULL;
    }
    w->cfg = *cfg;
    w->hw = hw;
    SPARE_TAKE(w->ev, w->cap_ev, spare.ev, spare.cap_ev);
    SPARE_TAKE(w->regions, w->cap_regions, spare.regions, spare.cap_regions);
    SPARE_TAKE(w->snap, w->cap_snap, spare.snap, spare.cap_snap);
    if (spare.lt) { /* a table and its slot list are kept (and dropped) together */
        w->lt = spare.lt, w->lt_used = spare.lt_used, w->cap_lt = spare.cap_lt;
        spare.lt = NULL, spare.lt_used = NULL, spare.cap_lt = 0;
    }
    w->notes = spare.notes; /* emptied as they are taken (block_next) */
    w->note_cur = NULL;
    spare.notes = NULL;
    w->ram = hw_mem_ptr(hw, 0, 1);
    w->running = -1;
    w->last_ran = -1;
    w->now = hw_now(hw);
    set_step_limit(w); /* progress_step and clock_step 0: a late run is cut at once */
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        struct sim_cpu *c = &w->cpu[i];
        c->id = i;
        c->plat.w = w;
        c->plat.cpu = i;
        c->hotplug_ep = -1;
        c->relax_epoch = UINT64_MAX;
        c->movers_only = true; /* its first step (OP_START) has done nothing yet */
        c->irq_at = HW_NEVER;
    }
    hw_set_irq_sink(hw, irq_sink, w);
    if (cfg->local_time) /* the hardware's accesses carry times even with no footprints */
        hw_set_mem_observer(hw, fp_hw_mem, w);
    return w;
}

void sim_destroy(sim_world *w)
{
    if (!w)
        return;
    hw_set_irq_sink(w->hw, NULL, NULL);
    hw_set_mem_observer(w->hw, NULL, NULL);
    for (unsigned i = 0; i < w->cfg.ncpus; i++)
        sim_coro_destroy(w->cpu[i].co);
    SPARE_KEEP(spare.ev, spare.cap_ev, w->ev, w->cap_ev);
    SPARE_KEEP(spare.regions, spare.cap_regions, w->regions, w->cap_regions);
    SPARE_KEEP(spare.snap, spare.cap_snap, w->snap, w->cap_snap);
    sim__lt_reset(w);
    if (w->cap_lt > spare.cap_lt) {
        free(spare.lt), free(spare.lt_used);
        spare.lt = w->lt, spare.lt_used = w->lt_used, spare.cap_lt = w->cap_lt;
    } else {
        sim__lt_free(w);
    }
    block_chain_free(spare.notes);
    spare.notes = w->notes;
    world_keep(w);
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

hw_time sim_ready_at(const sim_world *w, unsigned cpu)
{
    if (w->cfg.local_time && cpu == w->cfg.ncpus) /* the hardware party */
        return hw_next_event(w->hw);
    if (cpu >= w->cfg.ncpus)
        return HW_NEVER;
    return w->cfg.local_time ? sim__lt_ready(w, &w->cpu[cpu]) : w->cpu[cpu].t;
}

bool sim_local_time(const sim_world *w)
{
    return w->cfg.local_time;
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
    static const char *const names[] = {"done", "hard_lockup", "hang", "timeout",   "deadlock",
                                        "loop", "abort",       "cut",  "infeasible"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* ---- events and verdicts ---- */

/* sim__event's work, out of line: the world records CPU events. */
void sim__event_record(sim_world *w, int cpu, unsigned kind, uint64_t a, uint64_t b)
{
    GROW(w->ev, w->nev, w->cap_ev, 256);
    size_t hwpos;
    hw_events(w->hw, &hwpos);
    w->ev[w->nev++] = (sim_event){
        .t = w->now, .hwpos = hwpos, .kind = (uint16_t)kind, .cpu = (int16_t)cpu, .a = a, .b = b};
}

/* A copy of `what` that lives as long as the world: in the block being filled, else in the
 * next block of the chain (one left by an earlier world, emptied) or a new one. */
const char *sim__note_copy(sim_world *w, const char *what)
{
    size_t len = strlen(what) + 1;
    struct mem_block *b = w->note_cur;
    if (!b || b->size - b->used < len)
        b = w->note_cur = block_next(&w->notes, b, len, 4000, "the CPU notes of an execution");
    char *copy = (char *)b->mem + b->used;
    memcpy(copy, what, len);
    b->used += len;
    return copy;
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
    if (!strchr(fmt, '%')) { /* a plain message ("every CPU finished"): what vsnprintf writes */
        str_copy_cut(w->out.why, sizeof(w->out.why), fmt);
        return;
    }
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
    if (!c->irq_pending || hw_now(w->hw) < c->irq_at)
        c->irq_at = hw_now(w->hw);
    c->irq_pending |= 1u << irq;
    w->irq_cpus |= 1ull << c->id;
    if (w->cfg.local_time) {
        sim__lt_hw(w, LT_KEY_IRQ, true);
        sim__fp(w, (const void *)LT_KEY_IRQ, true, 0);
    }
    if (irq == HW_IRQ_HOTPLUG)
        c->hotplug_ep = ep;
    w->epoch++;
}

static bool irq_takeable(const struct sim_cpu *c)
{
    return sim__irq_takeable(c);
}

/* Run pending interrupt handlers on the current CPU (in its coroutine). */
static void deliver_irqs(sim_world *w, struct sim_cpu *c)
{
    while (irq_takeable(c)) {
        unsigned irq = (unsigned)__builtin_ctz(c->irq_pending);
        c->irq_pending &= ~(1u << irq);
        if (!c->irq_pending) {
            w->irq_cpus &= ~(1ull << c->id);
            c->irq_at = HW_NEVER;
        }
        int ep = irq == HW_IRQ_HOTPLUG ? c->hotplug_ep : -1;
        c->in_irq = true;
        c->movers_only = false; /* the handler's first operation is a point */
        if (w->cfg.local_time) {
            sim__lt_cpu(w, LT_KEY_IRQ, true, true, LT_PLAIN);
            sim__fp(w, (const void *)LT_KEY_IRQ, true, 0);
        } else {
            sim__fp(w, NULL, false, SIM_FP_HW);
        }
        sim__irqs_off(w, c);
        sim__event(w, (int)c->id, SIM_EV_IRQ_ENTRY, irq, (uint64_t)(int64_t)ep);
        c->t = time_add(w->now, w->cfg.cost.irq_entry);
        if (w->irq_fn)
            w->irq_fn(w, c->id, (enum hw_irq)irq, ep, w->irq_arg);
        c->irqs_off = false;
        c->in_irq = false;
    }
}

/* ---- scheduling points (called from platform_sim.c inside a CPU) ---- */

static void reschedule(sim_world *w, struct sim_cpu *c);

/* Does a step that begins at a point of `op` hold only movers so far? An acquire (a
 * right-mover) and local work (a relax, a sleep, a clock read, the start) do; anything else is
 * the step's conflicting operation, or might be (platform_sim.c, may_fold). */
static bool op_is_mover(enum cpu_op op)
{
    switch (op) {
    case OP_START:
    case OP_LOCK:
    case OP_RELAX:
    case OP_SLEEP:
    case OP_CLOCK:
        return true;
    default:
        return false;
    }
}

struct sim_cpu *sim__point(qi_platform *p, enum cpu_op op)
{
    sim_world *w = p->w;
    struct sim_cpu *c = &w->cpu[p->cpu];
    /* A clock read or a load right after a quiet relax is still the wait: nothing happened
     * since the relax, and what the read returns is the same whether time jumps before the
     * relax ends or just after. */
    bool read = op == OP_CLOCK || (op == OP_MEM && c->loading);
    c->polling = op == OP_RELAX || (read && c->op == OP_RELAX && c->relax_quiet);
    c->loading = false;
    c->op = op;
    reschedule(w, c);
    c->movers_only = op_is_mover(op);
    if (irq_takeable(c)) /* seldom: the test here saves a call at every point */
        deliver_irqs(w, c);
    return c;
}

void sim__charge(struct sim_cpu *c, hw_time cost)
{
    c->t = time_add(c->plat.w->now, cost);
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

/* Bring finished CPUs with pending interrupts back for as long as their handlers run. Only
 * CPUs in w->irq_cpus can qualify; pick_next() calls this only when that set is not empty. */
void sim__revive_for_irqs(sim_world *w)
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
        c->parked = false;
        if (w->cfg.local_time && c->t < c->irq_at) /* it runs when the interrupt came */
            c->t = c->irq_at;
        else if (!w->cfg.local_time && c->t < w->now)
            c->t = w->now;
    }
}

static bool blocked(const struct sim_cpu *c)
{
    return sim__blocked(c);
}

/* When a CPU that is not blocked can run. `irq` is irq_takeable(c): pick_next() looks at
 * that once per CPU and hands it to the tests below that need it. */
static hw_time ready_time(const sim_world *w, const struct sim_cpu *c, bool irq)
{
    if (irq && c->t > w->now)
        return w->now; /* an interrupt wakes an idle or polling CPU */
    return c->t;
}

/* Driver memory as it is now, for the quiescence test over a round: each region rounded up
 * to whole 8-byte words (regions are page-aligned allocations), concatenated. */
static size_t region_span(const struct dma_region *r)
{
    return (r->bytes + 7) / 8 * 8;
}

/* The copy starts half a page past a page boundary (w->snap is the allocation, page-aligned).
 * Its sources are page-aligned; a destination a few bytes past a page boundary, where malloc
 * puts large blocks, makes each store alias a later load of the copy modulo 4 KiB, and the
 * copy ran several times slower: whether it did depended on where the heap happened to put
 * the buffer. */
#define SNAP_SKEW 2048u

static uint8_t *snap_data(const sim_world *w)
{
    return w->snap + SNAP_SKEW;
}

static size_t mem_bytes(const sim_world *w)
{
    size_t total = 0;
    for (size_t i = 0; i < w->nregions; i++)
        total += region_span(&w->regions[i]);
    return total;
}

/* Room for `total` bytes of copies in w->snap (what it held is lost when it grows). */
static void snap_room(sim_world *w, size_t total)
{
    if (total <= w->cap_snap)
        return;
    void *p = NULL;
    grow_in_alloc = 1;
    free(w->snap);
    int rc = posix_memalign(&p, 4096, SNAP_SKEW + total);
    grow_in_alloc = 0;
    if (rc || !p)
        grow_out_of_memory(total, "a snapshot of driver memory");
    w->snap = p;
    w->cap_snap = total;
}

static void mem_copy_to(const sim_world *w, uint8_t *dst)
{
    size_t at = 0;
    for (size_t i = 0; i < w->nregions; i++) {
        memcpy(dst + at, w->regions[i].va, region_span(&w->regions[i]));
        at += region_span(&w->regions[i]);
    }
}

static bool mem_same_as(const sim_world *w, const uint8_t *src)
{
    size_t at = 0;
    for (size_t i = 0; i < w->nregions; i++) {
        if (memcmp(src + at, w->regions[i].va, region_span(&w->regions[i])))
            return false;
        at += region_span(&w->regions[i]);
    }
    return true;
}

static void snapshot_take(sim_world *w)
{
    snap_room(w, mem_bytes(w));
    mem_copy_to(w, snap_data(w));
    w->snap_regions = w->nregions;
}

/* Is driver memory what the snapshot holds (same regions, same bytes)? */
static bool snapshot_same(const sim_world *w)
{
    return w->nregions == w->snap_regions && mem_same_as(w, snap_data(w));
}

/* With per-CPU clocks the quiescence snapshot is not used; its buffer holds one copy of driver
 * memory per CPU instead (local_time.c, critical sections). A copy is laid out for the regions
 * there were when it was taken; once there are more, it is no longer compared (sim__mem_same
 * says "changed"), so a layout that moves with a new region never misleads. */
void sim__mem_copy(sim_world *w, struct sim_cpu *c)
{
    size_t total = mem_bytes(w);
    if (total > (SIZE_MAX - SNAP_SKEW) / w->cfg.ncpus)
        grow_out_of_memory(total, "copies of driver memory");
    snap_room(w, total * w->cfg.ncpus);
    mem_copy_to(w, snap_data(w) + total * c->id);
    c->csnap_regions = w->nregions;
}

bool sim__mem_same(const sim_world *w, const struct sim_cpu *c)
{
    return c->csnap_regions == w->nregions && mem_same_as(w, snap_data(w) + mem_bytes(w) * c->id);
}

/* A live CPU waits: for a lock, for its sleep to end, or in a polling loop whose last
 * iteration changed nothing. `irq` is irq_takeable(c). */
static bool waiting(const sim_world *w, const struct sim_cpu *c, bool irq)
{
    if (blocked(c) || c->op == OP_SLEEP)
        return true;
    /* (past its wake-up time a poller is about to leave its loop) */
    return c->polling && c->quiet && !irq && !(c->wake_by && c->wake_by <= w->now);
}

/*
 * Parking. A CPU about to start another iteration of a polling loop whose last iteration
 * changed nothing (quiet), with nothing changed since (same epoch) and no interrupt to take,
 * would repeat that iteration exactly: the loop reads the same shared state. While another CPU
 * is busy, such a poller is parked: not a candidate until the epoch moves (a store, an MMIO
 * write, an atomic, a hardware event, an interrupt) or its relax deadline comes. Once every
 * live CPU waits, nobody is parked and the quiescence rule below decides about time jumps as
 * before. What parking drops are only the poller's repeated, identical iterations interleaved
 * with the busy CPU's steps (and the brief lock contention they cause); it assumes, as the time
 * jump does, that a quiet iteration observes all that its next one would.
 */
static bool parkable(const sim_world *w, const struct sim_cpu *c, bool irq)
{
    return c->op == OP_RELAX && c->quiet && c->relax_epoch == w->epoch && !irq;
}

static hw_time parked_until(const sim_world *w, const struct sim_cpu *c)
{
    if (!c->wake_by)
        return HW_NEVER;
    if (c->wake_by <= w->now)
        return c->t;
    return c->wake_by > c->t ? c->wake_by : c->t;
}

/*
 * While a round is armed and still valid (every live CPU waits, nothing changed since the
 * arming), a polling CPU that has already relaxed again would only repeat its quiet iteration
 * once more: that is what parking and the jump assume, so such repeats are no behaviour of
 * their own, and choosing them only delayed the CPUs the round still waits for. They are no
 * candidates then (the others are: the CPUs that owe the round, a sleeper whose time came).
 * Returns a bit per CPU left out, or 0 when there is no valid round.
 */
static uint64_t round_repeats(const sim_world *w)
{
    if (!w->snap_armed || w->snap_epoch != w->epoch)
        return 0;
    uint64_t done = 0;
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        const struct sim_cpu *c = &w->cpu[i];
        if (!c->done && c->polling && c->relax_step >= w->snap_step)
            done |= 1ull << i;
    }
    return done;
}

/* The CPUs ready by `limit` and not left out, in order; returns how many. */
static unsigned candidates(const sim_world *w, const hw_time *ready, hw_time limit,
                           uint64_t left_out, unsigned *cands)
{
    unsigned n = 0;
    for (unsigned i = 0; i < w->cfg.ncpus; i++)
        if (ready[i] != HW_NEVER && ready[i] <= limit && !(left_out >> i & 1))
            cands[n++] = i;
    return n;
}

/* After the arming round, every polling CPU relaxed again. */
static bool round_complete(const sim_world *w)
{
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        const struct sim_cpu *c = &w->cpu[i];
        if (!c->done && c->polling && c->relax_step < w->snap_step)
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
        if (c->polling && c->wake_by > w->now && c->wake_by < t)
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
void sim__proved_hang(sim_world *w, enum sim_stop stop, const char *what)
{
    int c = first_irqs_off(w);
    if (c < 0 || sim__watchdog_at(w, &w->cpu[c]) == HW_NEVER) {
        sim__finish(w, stop, -1, w->now, "%s", what);
        return;
    }
    sim__finish(w, stop, c, w->now,
                "%s; cpu%d waits with interrupts disabled, so the lockup detector would also "
                "fire at %.9f s",
                what, c, (double)sim__watchdog_at(w, &w->cpu[c]) / HW_S);
}

static void jump_to(sim_world *w, hw_time t)
{
    sim__event(w, -1, SIM_EV_JUMP, w->now, t);
    w->out.jumps++;
    w->now = t;
    hw_advance(w->hw, t);
    for (unsigned i = 0; i < w->cfg.ncpus; i++)
        if (!w->cpu[i].done && w->cpu[i].t < t)
            w->cpu[i].t = t;
    w->snap_armed = false;
}

/* all_waiting: every live CPU is waiting() (the caller has just looked). Returns true when time
 * jumped (or the run ended): the caller re-evaluates. */
static bool try_jump(sim_world *w, bool all_waiting)
{
    if (!all_waiting)
        return false; /* a CPU is mid-iteration; an armed round stays valid while the epoch holds */
    if (!w->snap_armed || w->snap_epoch != w->epoch) {
        /* Right after the hardware acted (a jump lands on its event), the pollers have not
         * looked yet: most then leave their loops, so a round armed now is mostly dropped
         * again, having copied driver memory for nothing. The first CPU step arms it. */
        if (w->unseen) {
            w->snap_armed = false;
            return false;
        }
        w->snap_armed = true;
        w->out.rounds++;
        w->snap_epoch = w->epoch;
        w->snap_step = w->steps;
        snapshot_take(w);
        return false;
    }
    if (!round_complete(w))
        return false;
    if (!snapshot_same(w)) {
        w->snap_armed = false;
        return false;
    }
    hw_time t = next_change(w);
    if (t <= w->now)
        return false; /* a sleeper is due: it runs, nothing to skip */
    if (t == HW_NEVER) {
        sim__proved_hang(
            w, SIM_STOP_HANG,
            "every CPU is waiting and nothing is pending in the hardware: no event can "
            "ever change that");
        return true;
    }
    int wd = first_irqs_off(w);
    if (wd >= 0 && sim__watchdog_at(w, &w->cpu[wd]) < t)
        t = sim__watchdog_at(w, &w->cpu[wd]);
    if (t > w->cfg.max_virtual)
        t = w->cfg.max_virtual + 1; /* no wrap: sim_create holds max_virtual to SIM_MAX_VIRTUAL */
    jump_to(w, t);
    return true;
}

/* Called at every scheduler iteration, so the per-CPU loop runs only once w->now reaches
 * w->wd_next, which is never later than the earliest watchdog deadline of a live CPU with
 * interrupts off (sim__irqs_off() lowers it; the loop recomputes it). */
static bool check_limits(sim_world *w)
{
    hw_time next = HW_NEVER;
    for (unsigned i = 0; i < w->cfg.ncpus && w->now >= w->wd_next; i++) {
        struct sim_cpu *c = &w->cpu[i];
        if (c->done || !c->irqs_off)
            continue;
        hw_time fires = sim__watchdog_at(w, c); /* HW_NEVER is never reached: w->now is bounded */
        if (w->now < fires) {
            if (fires < next)
                next = fires;
            continue;
        }
        sim__hard_lockup(w, i, w->now - c->irq_off_since);
        return true;
    }
    if (w->now >= w->wd_next)
        w->wd_next = next;
    if (sim__check_steps(w))
        return true;
    if (w->now > w->cfg.max_virtual) {
        sim__timeout(w, w->now);
        return true;
    }
    return false;
}

/* CPU `cpu`'s watchdog fired: it kept interrupts off for `off` (at least the watchdog). */
void sim__hard_lockup(sim_world *w, unsigned cpu, hw_time off)
{
    const struct sim_cpu *c = &w->cpu[cpu];
    sim__finish(w, SIM_STOP_HARD_LOCKUP, (int)cpu, sim__watchdog_at(w, c),
                "cpu%u kept interrupts disabled for %.1f s (watchdog %.1f s)%s", cpu,
                (double)off / HW_S, (double)w->cfg.watchdog / HW_S,
                blocked(c) ? ", spinning on a lock" : "");
}

/* The run passed its virtual-time bound (at t). */
void sim__timeout(sim_world *w, hw_time t)
{
    sim__finish(w, SIM_STOP_TIMEOUT, -1, t, "virtual time passed %.0f s with work still pending",
                (double)w->cfg.max_virtual / HW_S);
}

/* The bounds counted in steps and wall-clock time: the caller's budgets and the livelock
 * bound. */
bool sim__check_steps(sim_world *w)
{
    if (w->steps < w->step_limit)
        return false;
    if (w->cfg.wall_deadline_ns && w->steps >= w->clock_step) {
        if (mono_ns() >= w->cfg.wall_deadline_ns) {
            sim__finish(w, SIM_STOP_CUT, -1, w->now,
                        "the caller's time budget ran out after %llu scheduling steps (%.6f s "
                        "virtual)",
                        (unsigned long long)w->steps, (double)w->now / HW_S);
            return true;
        }
        w->clock_step = w->steps + SIM_CLOCK_STEPS;
    }
    if (w->cfg.budget_steps && w->steps >= w->cfg.budget_steps) {
        sim__finish(w, SIM_STOP_CUT, -1, w->now, "the caller's budget of %llu steps ran out",
                    (unsigned long long)w->cfg.budget_steps);
        return true;
    }
    if (w->cfg.max_steps && w->steps - w->progress_step >= w->cfg.max_steps) {
        sim__finish(w, SIM_STOP_TIMEOUT, -1, w->now,
                    "%llu scheduling steps without progress (%.3f s virtual): CPUs keep "
                    "changing state but no operation of the workload completes (livelock)",
                    (unsigned long long)(w->steps - w->progress_step), (double)w->now / HW_S);
        return true;
    }
    set_step_limit(w);
    return false;
}

/* The common case of check_limits(), inline: no deadline reached, no bound passed. */
static inline bool check_watchdog(sim_world *w)
{
    if (w->now < w->wd_next && w->now <= w->cfg.max_virtual && w->steps < w->step_limit)
        return false;
    return check_limits(w);
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
    sim__proved_hang(w, SIM_STOP_DEADLOCK, "every live CPU waits for a lock");
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

/* One scheduler iteration up to its choice: the CPU to run next, its clock set to now; or NULL
 * when the iteration ended without one (hardware acted first, time jumped, or the run ended:
 * the caller looks at w->stop and iterates again). */
static struct sim_cpu *pick_next(sim_world *w)
{
    if (w->cfg.local_time)
        return sim__lt_pick(w);
    /* ready[i]: when CPU i can run (ready_time), or HW_NEVER if it is done or waits for a
     * lock. One pass over the CPUs computes it with `busy` (live CPUs not waiting()) and
     * `parked` (parkable() CPUs), looking once at whether each can take an interrupt: nothing
     * below changes a CPU's state or w->now before the choice or an early return, so each is
     * computed once and try_jump() is told whether all live CPUs wait rather than asking
     * again. Each branch of the pass writes ready[i] (a parked CPU's in the second loop), so
     * the array is not cleared first: the compiler made that clearing a call to memset. */
    hw_time ready[SIM_MAX_CPUS];
    unsigned cands[SIM_MAX_CPUS], n = 0, live = 0, busy = 0;
    uint64_t parked = 0; /* bit per parkable CPU */
    hw_time tmin = HW_NEVER;
    note_hw_progress(w);
    if (w->irq_cpus)
        sim__revive_for_irqs(w);
    if (w->stop)
        return NULL;
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        const struct sim_cpu *c = &w->cpu[i];
        if (c->done) {
            ready[i] = HW_NEVER;
            continue;
        }
        bool irq = irq_takeable(c);
        live++;
        busy += !waiting(w, c, irq);
        if (parkable(w, c, irq)) {
            parked |= 1ull << i; /* its ready[i] waits for `busy`, below */
        } else if (blocked(c)) {
            ready[i] = HW_NEVER;
        } else {
            ready[i] = ready_time(w, c, irq);
            if (ready[i] < tmin)
                tmin = ready[i];
        }
    }
    for (uint64_t m = parked; m; m &= m - 1) {
        unsigned i = (unsigned)__builtin_ctzll(m);
        /* a parkable CPU is at a relax, so never blocked, and has no interrupt to take */
        ready[i] = busy ? parked_until(w, &w->cpu[i]) : ready_time(w, &w->cpu[i], false);
        if (ready[i] < tmin)
            tmin = ready[i];
    }
    if (live == 0) {
        if (!drain_hardware(w))
            sim__finish(w, SIM_STOP_DONE, -1, w->now, "every CPU finished");
        return NULL;
    }
    if (tmin == HW_NEVER) {
        deadlock(w);
        return NULL;
    }
    hw_time te = hw_next_event(w->hw);
    if (te < tmin && te > w->now) { /* hardware acts before any CPU can */
        w->now = te;
        hw_advance(w->hw, te);
        w->unseen = true;
        check_watchdog(w);
        return NULL;
    }
    if (try_jump(w, busy == 0)) {
        w->unseen = true;
        check_watchdog(w);
        return NULL;
    }
    uint64_t left_out = busy == 0 ? round_repeats(w) : 0;
    hw_time limit = time_add(tmin, w->cfg.window); /* tmin may be a driver's far wake-up hint */
    n = candidates(w, ready, limit, left_out, cands);
    if (n == 0 && left_out) { /* the CPUs the round waits for are due after the window */
        hw_time owed = HW_NEVER;
        for (unsigned i = 0; i < w->cfg.ncpus; i++)
            if (!(left_out >> i & 1) && ready[i] < owed)
                owed = ready[i];
        n = owed == HW_NEVER ? 0
                             : candidates(w, ready, time_add(owed, w->cfg.window), left_out, cands);
    }
    if (n == 0)
        n = candidates(w, ready, limit, 0, cands);
    unsigned pick = n == 1 ? 0 : w->choose(w->choose_ctx, w, cands, n, w->steps);
    if (pick >= n)
        pick = 0;
    struct sim_cpu *c = &w->cpu[cands[pick]];
    hw_time at = ready[cands[pick]];
    if (at > w->now) {
        w->now = at;
        hw_advance(w->hw, at);
    }
    if (check_watchdog(w))
        return NULL;
    c->t = w->now;
    w->unseen = false;
    return c;
}

/* ---- step footprints (sim_steplog) ---- */

/* The hardware touched RAM by itself: into the step running, or the next one. */
static void fp_hw_mem(void *ctx, hw_paddr pa, unsigned len, bool write)
{
    sim_world *w = ctx;
    if (w->cfg.local_time) {
        for (hw_paddr a = pa & ~(hw_paddr)(SIM_FP_LINE - 1); a < pa + len; a += SIM_FP_LINE)
            sim__lt_hw(w, (uintptr_t)(w->ram + a), write);
        if (write) /* driver code may read it with plain C, out of the footprints' sight */
            sim__lt_hw(w, LT_KEY_HWMEM, true);
        if (write && w->fp)
            sim__fp_slow(w, LT_KEY_HWMEM, true, 0);
    }
    if (!w->log)
        return;
    sim_step_fp *saved = w->fp;
    if (!saved)
        w->fp = &w->pend;
    for (hw_paddr a = pa & ~(hw_paddr)(SIM_FP_LINE - 1); a < pa + len; a += SIM_FP_LINE)
        sim__fp_slow(w, (uintptr_t)(w->ram + a), write, 0);
    w->fp = saved;
}

void sim_set_steplog(sim_world *w, sim_steplog *log)
{
    w->log = log;
    w->log_acts = hw_acts_run(w->hw);
    w->log_now = w->now;
    w->log_jumps = w->out.jumps;
    w->pend.nobj = 0;
    w->pend.flags = 0;
    hw_set_mem_observer(w->hw, log || w->cfg.local_time ? fp_hw_mem : NULL, w);
}

void sim_steplog_free(sim_steplog *log)
{
    free(log->v);
    log->v = NULL;
    log->n = log->cap = 0;
}

/* Time moved (or jumped) since the record's last look: the other CPUs due before the new time
 * run later than they would have. */
static void fp_clock(sim_world *w, sim_step_fp *f)
{
    if (w->cfg.local_time)
        return; /* no step's clock is another's (local_time.c) */
    bool jumped = w->out.jumps != w->log_jumps;
    if (w->now == w->log_now && !jumped)
        return;
    f->flags |= SIM_FP_CLOCK;
    for (unsigned i = 0; i < w->cfg.ncpus; i++) {
        const struct sim_cpu *o = &w->cpu[i];
        if ((int)i != f->cpu && !o->done && (o->t < w->now || jumped))
            f->delayed |= 1ull << i;
    }
}

/* A step begins: its record opens with what happened since the last one ended (the
 * hardware's actions and the clock's moves belong to the step they let run). */
static void fp_open(sim_world *w, unsigned id)
{
    sim_steplog *l = w->log;
    GROW(l->v, l->n, l->cap, 256);
    sim_step_fp *f = w->fp = &l->v[l->n++];
    f->cpu = (int16_t)id;
    f->nobj = 0;
    f->flags = 0;
    f->delayed = 0;
    f->t = w->now;
    f->latest_before = HW_NEVER;
    if (hw_acts_run(w->hw) != w->log_acts && !w->cfg.local_time)
        f->flags |= SIM_FP_HW; /* (with local_time, what the actions touched is recorded) */
    fp_clock(w, f);
    for (unsigned i = 0; i < w->pend.nobj; i++)
        sim__fp_slow(w, w->pend.obj[i] & ~(uintptr_t)1, w->pend.obj[i] & 1, 0);
    f->flags |= w->pend.flags;
    w->pend.nobj = 0;
    w->pend.flags = 0;
}

static void fp_close(sim_world *w)
{
    sim_step_fp *f = w->fp;
    if (hw_acts_run(w->hw) != w->log_acts && !w->cfg.local_time)
        f->flags |= SIM_FP_HW;
    fp_clock(w, f);
    w->log_acts = hw_acts_run(w->hw);
    w->log_now = w->now;
    w->log_jumps = w->out.jumps;
    w->fp = NULL;
}

void sim__fp_slow(sim_world *w, uintptr_t obj, bool write, unsigned flags)
{
    sim_step_fp *f = w->fp;
    f->flags |= (uint8_t)flags;
    if (!obj)
        return;
    for (unsigned i = 0; i < f->nobj; i++)
        if ((f->obj[i] | 1) == (obj | 1)) {
            f->obj[i] |= write;
            return;
        }
    if (f->nobj == SIM_FP_MAX) {
        f->flags |= SIM_FP_WILD;
        return;
    }
    f->obj[f->nobj++] = obj | write;
}

bool sim_fp_dependent(const sim_step_fp *a, const sim_step_fp *b)
{
    if (a->cpu == b->cpu || ((a->flags | b->flags) & SIM_FP_WILD))
        return true;
    if ((a->delayed >> b->cpu & 1) || (b->delayed >> a->cpu & 1))
        return true;
    if ((a->flags & SIM_FP_HW) && (b->flags & (SIM_FP_HW | SIM_FP_HWREAD)))
        return true;
    if ((b->flags & SIM_FP_HW) && (a->flags & SIM_FP_HWREAD))
        return true;
    for (unsigned i = 0; i < a->nobj; i++)
        for (unsigned j = 0; j < b->nobj; j++)
            if ((a->obj[i] | 1) == (b->obj[j] | 1) && ((a->obj[i] | b->obj[j]) & 1))
                return true;
    return false;
}

/* local_time: the hardware's own step, a party of its own (id ncpus): its actions due at t run. */
void sim__hw_step(sim_world *w, hw_time t)
{
    w->last_ran = (int)w->cfg.ncpus;
    w->now = t;
    if (w->log) {
        fp_open(w, w->cfg.ncpus);
        sim__fp(w, (const void *)SIM_FP_OBJ_HWCLK, false, SIM_FP_HWSTEP); /* by an MMIO write */
        /* a CPU's step begun later runs these actions first itself: none can precede them */
        w->fp->latest_before = t;
    }
    sim__lt_catch_up(w, t);
    if (w->fp)
        fp_close(w);
    w->steps++;
    w->unseen = true;
}

/* A step is one CPU running from one platform point to the next. */
static void step_begin(sim_world *w, const struct sim_cpu *c)
{
    w->running = (int)c->id;
    w->last_ran = (int)c->id;
    if (w->log)
        fp_open(w, c->id);
    if (w->cfg.local_time)
        sim__lt_step_begin(w, (struct sim_cpu *)c);
    sim__guard_step_begin();
}

static void step_end(sim_world *w)
{
    sim__guard_step_end();
    if (w->cfg.local_time && w->running >= 0)
        sim__lt_step_end(w, &w->cpu[w->running]);
    if (w->fp)
        fp_close(w);
    w->running = -1;
    w->steps++;
}

/*
 * A CPU reached a platform point: its step ends, and the scheduler runs right here, on the
 * CPU's stack, until it picks a CPU. If it picks this one again (most steps: the same CPU keeps
 * going), the CPU simply goes on, with no switch to the scheduler's context and back. If it
 * picks another, this CPU begins that one's step and switches straight to its coroutine
 * (sim_coro_transfer): one switch, not two through the main context. That CPU then stands in
 * for this one towards run_loop(): when it finishes or yields, run_loop's resume returns, with
 * w->running naming it. Only when the run stops (or, defensively, when the CPU picked has no
 * live coroutine) does the CPU hand the pick to the main context (w->next) and yield. The
 * scheduler's decisions are the same wherever it runs: pick_next() reads only the world.
 */
static void reschedule(sim_world *w, struct sim_cpu *c)
{
    step_end(w);
    for (;;) {
        struct sim_cpu *next = w->stop ? NULL : pick_next(w);
        if (next == c) {
            step_begin(w, c);
            return;
        }
        if (next && !sim_coro_done(next->co)) {
            step_begin(w, next);
            /* Cannot fail: this is a coroutine, and next's is alive and not this one's. Back
             * here once a CPU picks this one again, or main resumes it: step_begin is done. */
            sim_coro_transfer(next->co);
            return;
        }
        if (next || w->stop) {
            w->next = next;
            w->handoff = true;
            sim_coro_yield(); /* back here once main resumes this CPU: step_begin is done */
            return;
        }
    }
}

/* The main context's loop: resume the CPU picked (by a CPU that handed over, or here), until
 * the run stops. The resume returns when the CPU running hands over (w->handoff), finishes or
 * aborts; that CPU is the one resumed or one that CPUs switched to straight from it
 * (reschedule()). A CPU that finished or aborted did so inside its step: w->running names it. */
static void run_loop(sim_world *w)
{
    while (!w->stop) {
        struct sim_cpu *c = w->next;
        w->next = NULL;
        if (!c && !(c = pick_next(w)))
            continue;
        step_begin(w, c);
        w->handoff = false;
        int rc = sim_coro_resume(c->co);
        if (w->handoff)
            continue; /* a CPU ended its step in reschedule() and handed over */
        if (rc >= 0 && w->running >= 0)
            c = &w->cpu[w->running]; /* the CPU that came back */
        step_end(w);
        if (rc == 0)
            c->done = true;
        else if (rc < 0)
            sim__finish(w, SIM_STOP_ABORT, (int)c->id, w->now, "cpu%u could not be resumed", c->id);
    }
}

static void guard_fired(sim_world *w)
{
    sim_coro_escaped();
    sim__guard_landed();
    int cpu = w->running;
    w->running = -1;
    if (cpu < 0)
        return;
    struct sim_cpu *c = &w->cpu[cpu];
    c->stuck = true;
    c->done = true;
    c->stuck_pc = w->guard_pc; /* NULL where the handler cannot read it */
    w->out.guard = !w->stop;   /* the verdict below is the guard's */
    if (c->irqs_off && sim__watchdog_at(w, c) != HW_NEVER)
        sim__finish(w, SIM_STOP_HARD_LOCKUP, cpu, sim__watchdog_at(w, c),
                    "cpu%d loops with interrupts disabled and never reaches a platform point "
                    "(no MMIO, lock, relax or shared access): the watchdog fires %.1f s after "
                    "interrupts went off",
                    cpu, (double)w->cfg.watchdog / HW_S);
    else /* interrupts on, or a watchdog so long that it never fires */
        sim__finish(w, SIM_STOP_LOOP, cpu, w->now,
                    "cpu%d loops forever without reaching a platform point (no MMIO, lock, "
                    "relax or shared access)%s",
                    cpu, c->irqs_off ? " with interrupts disabled" : "");
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
    /* No signal mask saved (that would be a system call per run): the guard's signal handler
     * is the only way here, and guard_fired() unblocks its signal. */
    if (sigsetjmp(w->escape, 0))
        guard_fired(w);
    run_loop(w);
    sim__guard_disarm();
    w->out.steps = w->steps;
    *out = w->out;
}

void sim_progress(qi_platform *p)
{
    sim_world *w = p->w;
    w->progress_step = w->steps;
    set_step_limit(w);
}

void sim_cpu_where(const sim_world *w, unsigned cpu, sim_cpu_site *out)
{
    const struct sim_cpu *c = &w->cpu[cpu];
    *out = (sim_cpu_site){.pc = c->site,
                          .relax_pc = c->relax_site,
                          .stuck_pc = c->stuck_pc,
                          .in_call = c->in_call,
                          .stuck = c->stuck,
                          .lock_wait = !c->done && c->op == OP_LOCK && c->want,
                          .polling = !c->done && c->polling,
                          .irqs_off = c->irqs_off};
}

int sim_last_ran(const sim_world *w)
{
    return w->last_ran;
}

/* Local: the CPU's next step is a pause (relax), idling or a clock read, with no interrupt to
 * take, so it touches nothing another CPU or the hardware can see until its next platform
 * point. */
bool sim_cpu_next_local(const sim_world *w, unsigned cpu)
{
    if (cpu >= w->cfg.ncpus) /* local_time's hardware party */
        return false;
    const struct sim_cpu *c = &w->cpu[cpu];
    if (c->done || irq_takeable(c))
        return false;
    return c->op == OP_RELAX || c->op == OP_SLEEP || c->op == OP_CLOCK;
}
