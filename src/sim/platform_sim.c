/*
 * platform_sim.c — include/qinval/platform.h for simulated CPUs. MMIO, atomics, lock, unlock,
 * interrupt enable, relax and the clock are scheduling points: the CPU parks (sim__point), the
 * scheduler decides when it runs, then the operation happens atomically at that virtual time and
 * the CPU is charged its cost. Plain shared loads and stores are points only with
 * sim_config.mem_points; otherwise they run inside the current step and add their cost to it
 * (docs/checker.md says when that loses nothing). Memory is sequentially consistent, so wmb has
 * nothing to order.
 *
 * Every operation a CPU can park at records where it was called from (at_site), so that a
 * failure can name the driver function a stuck CPU is in. Those functions are noinline: the
 * return address of an inlined copy would be its caller's caller.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/world_internal.h"
#include "util/grow.h"

/* ---- when an operation needs no point of its own ---- */

/* Nothing can make the order of c's next access matter to the hardware: it has nothing due
 * before the access's time, and not every access is to be a point. */
static bool hardware_not_due(sim_world *w, const struct sim_cpu *c)
{
    return !w->cfg.mem_points && hw_next_event(w->hw) > c->t;
}

/*
 * Three operations no other CPU can observe before this CPU's next point: releasing a lock
 * (only an acquire can see it, and an acquire is a point), re-enabling interrupts with none
 * pending, and reading the clock. Whatever another CPU does meanwhile commutes with them, so
 * a point there would only split one behaviour into several equivalent schedules. They are
 * points only when the order can matter: the hardware has an action due before the
 * operation's time (it acts first, as at any point: a fault event may then be delivered
 * right as interrupts come back on, a clock read sees the hardware caught up), an interrupt
 * is pending, or mem_points asks for every access to be a point.
 */
static bool commutes(sim_world *w, const struct sim_cpu *c)
{
    return !c->irq_pending && hardware_not_due(w, c);
}

/* A folded operation runs at the CPU's own time, as it would had the scheduler let this CPU
 * go on at a point there: the world's clock moves up to it (the hardware has nothing due
 * until after it, commutes()). */
static void catch_up(sim_world *w, const struct sim_cpu *c)
{
    if (w->cfg.local_time) { /* the CPU's own time; the hardware keeps its own */
        w->now = c->t;
        return;
    }
    if (c->t > w->now) {
        w->now = c->t;
        hw_advance(w->hw, c->t);
    }
}

/*
 * Reduction by movers (Lipton). A lock acquire is a right-mover: while this CPU holds the
 * lock, no other CPU's operation can be an acquire or a release of it, so every other
 * operation commutes with the acquire, and any interleaving of other CPUs between the acquire
 * and what follows equals one where they ran before the acquire. A release (and interrupts
 * coming back on) is a left-mover, by the same argument the other way. So one step may run
 * right-movers, then one operation that does conflict with other CPUs (an MMIO access, an
 * atomic), then left-movers, with no point inside: a polling iteration "relax; lock; read
 * the status register; unlock" is then one step from its relax, not three. An acquire or a
 * conflicting operation folds into the step only while the step holds movers only
 * (sim_cpu.movers_only: after the conflicting operation or a left-mover, nothing but
 * left-movers may follow) and the order cannot matter to the hardware or to an interrupt
 * (commutes()); else it is a point of its own. With mem_points every operation is a point.
 * Returns true, with the world's clock moved up to c's, when c's next operation folds; the
 * caller clears movers_only unless that operation is an acquire.
 */
static bool may_fold(sim_world *w, struct sim_cpu *c)
{
    if (!c->movers_only || !commutes(w, c))
        return false;
    catch_up(w, c);
    return true;
}

/* The CPU that is to run an MMIO access or an atomic now: itself if the access folds into
 * its step (charge it with sim__charge_more), or after a point (sim__charge). */
static struct sim_cpu *conflict_point(qi_platform *p, enum cpu_op op, bool *folded)
{
    struct sim_cpu *c = &p->w->cpu[p->cpu];
    *folded = may_fold(p->w, c);
    if (!*folded)
        return sim__point(p, op);
    c->movers_only = false;
    return c;
}

static void charge(struct sim_cpu *c, bool folded, hw_time cost)
{
    if (folded)
        sim__charge_more(c, cost);
    else
        sim__charge(c, cost);
}

/* ---- call sites ---- */

/* The caller's address, in a noinline platform function. */
#define SITE() __builtin_return_address(0)
#define SITED  __attribute__((noinline))

/* c's platform operation was called from `ra`, unless a host function named the site first
 * (sim_site_hint). Two stores on the hot path; the address is resolved only for a failure. */
static inline void at_site(struct sim_cpu *c, const void *ra)
{
    c->site = c->site_hint ? c->site_hint : ra;
    c->site_hint = NULL;
}

static inline void at(qi_platform *p, const void *ra)
{
    at_site(&p->w->cpu[p->cpu], ra);
}

void sim_site_hint(qi_platform *p, const void *site)
{
    p->w->cpu[p->cpu].site_hint = site;
}

/* ---- registers ---- */

SITED uint32_t qi_plat_read32(qi_platform *p, uint32_t off)
{
    at(p, SITE());
    bool folded;
    struct sim_cpu *c = conflict_point(p, OP_MMIO, &folded);
    if (p->w->cfg.local_time)
        sim__lt_mmio_read(p->w, off);
    else
        sim__fp(p->w, NULL, false, SIM_FP_HWREAD);
    hw_set_actor(p->w->hw, (int)c->id);
    uint32_t v = hw_mmio_read32(p->w->hw, off);
    hw_set_actor(p->w->hw, -1);
    charge(c, folded, p->w->cfg.cost.mmio_read);
    return v;
}

SITED uint64_t qi_plat_read64(qi_platform *p, uint32_t off)
{
    at(p, SITE());
    bool folded;
    struct sim_cpu *c = conflict_point(p, OP_MMIO, &folded);
    if (p->w->cfg.local_time)
        sim__lt_mmio_read(p->w, off);
    else
        sim__fp(p->w, NULL, false, SIM_FP_HWREAD);
    hw_set_actor(p->w->hw, (int)c->id);
    uint64_t v = hw_mmio_read64(p->w->hw, off);
    hw_set_actor(p->w->hw, -1);
    charge(c, folded, p->w->cfg.cost.mmio_read);
    return v;
}

SITED void qi_plat_write32(qi_platform *p, uint32_t off, uint32_t val)
{
    at(p, SITE());
    bool folded;
    struct sim_cpu *c = conflict_point(p, OP_MMIO, &folded);
    if (p->w->cfg.local_time)
        sim__lt_mmio_write(p->w, c, off, val);
    else
        sim__fp(p->w, NULL, false, SIM_FP_HW);
    hw_set_actor(p->w->hw, (int)c->id);
    hw_mmio_write32(p->w->hw, off, val);
    hw_set_actor(p->w->hw, -1);
    if (p->w->cfg.local_time)
        sim__lt_mmio_written(p->w);
    sim__mutated(p->w);
    charge(c, folded, p->w->cfg.cost.mmio_write);
}

SITED void qi_plat_write64(qi_platform *p, uint32_t off, uint64_t val)
{
    at(p, SITE());
    bool folded;
    struct sim_cpu *c = conflict_point(p, OP_MMIO, &folded);
    if (p->w->cfg.local_time)
        sim__lt_mmio_write(p->w, c, off, val);
    else
        sim__fp(p->w, NULL, false, SIM_FP_HW);
    hw_set_actor(p->w->hw, (int)c->id);
    hw_mmio_write64(p->w->hw, off, val);
    hw_set_actor(p->w->hw, -1);
    if (p->w->cfg.local_time)
        sim__lt_mmio_written(p->w);
    sim__mutated(p->w);
    charge(c, folded, p->w->cfg.cost.mmio_write);
}

/* ---- memory ---- */

uint64_t qi_plat_virt_to_phys(qi_platform *p, const volatile void *va)
{
    sim_world *w = p->w;
    const uint8_t *b = (const uint8_t *)va;
    size_t size = hw_mem_size(w->hw);
    if (b < w->ram || b >= w->ram + size) {
        sim_abort(w, "virt_to_phys of memory outside simulated RAM (use sim_dma_alloc)");
        return 0;
    }
    return (uint64_t)(b - w->ram);
}

/* A plain load or store is a scheduling point with mem_points, and otherwise only when the
 * hardware has something due before the access's time: then the scheduler lets the hardware
 * act first (a wait's status write lands before a load due after it), as it would at any point.
 * The common case, nothing due, continues the step. */
static struct sim_cpu *mem_access(qi_platform *p, bool load)
{
    sim_world *w = p->w;
    struct sim_cpu *c = &w->cpu[p->cpu];
    if (hardware_not_due(w, c))
        return c;
    c->loading = load; /* a read: still polling after a quiet relax */
    return sim__point(p, OP_MEM);
}

SITED uint32_t qi_plat_load32(qi_platform *p, const volatile uint32_t *addr)
{
    at(p, SITE());
    struct sim_cpu *c = mem_access(p, true);
    sim__fp_mem(p->w, addr, false);
    if (p->w->cfg.local_time)
        sim__lt_ram(p->w, addr, false, false);
    uint32_t v = *addr;
    sim__charge_more(c, p->w->cfg.cost.mem);
    return v;
}

SITED void qi_plat_store32(qi_platform *p, volatile uint32_t *addr, uint32_t val)
{
    at(p, SITE());
    struct sim_cpu *c = mem_access(p, false);
    sim__fp_mem(p->w, addr, true);
    if (p->w->cfg.local_time)
        sim__lt_ram(p->w, addr, true, *addr != val);
    if (*addr != val)
        sim__mutated(p->w);
    *addr = val;
    sim__charge_more(c, p->w->cfg.cost.mem);
}

void qi_plat_wmb(qi_platform *p)
{
    (void)p; /* sequentially consistent simulation */
}

SITED uint32_t qi_plat_fetch_add32(qi_platform *p, volatile uint32_t *addr, uint32_t val)
{
    at(p, SITE());
    bool folded;
    struct sim_cpu *c = conflict_point(p, OP_ATOMIC, &folded);
    sim__fp_mem(p->w, addr, true);
    if (p->w->cfg.local_time)
        sim__lt_ram(p->w, addr, true, val != 0);
    uint32_t old = *addr;
    *addr = old + val;
    if (val)
        sim__mutated(p->w);
    charge(c, folded, p->w->cfg.cost.atomic);
    return old;
}

SITED bool qi_plat_cas32(qi_platform *p, volatile uint32_t *addr, uint32_t *expected, uint32_t val)
{
    at(p, SITE());
    bool folded;
    struct sim_cpu *c = conflict_point(p, OP_ATOMIC, &folded);
    sim__fp_mem(p->w, addr, true);
    if (p->w->cfg.local_time)
        sim__lt_ram(p->w, addr, true, *addr == *expected && *addr != val);
    bool ok = *addr == *expected;
    if (ok) {
        if (*addr != val)
            sim__mutated(p->w);
        *addr = val;
    } else {
        *expected = *addr;
    }
    charge(c, folded, p->w->cfg.cost.atomic);
    return ok;
}

/* ---- interrupts and locks ---- */

static void irqs_off(sim_world *w, struct sim_cpu *c)
{
    if (c->irqs_off)
        return;
    sim__irqs_off(w, c);
    sim__event(w, (int)c->id, SIM_EV_IRQ_OFF, 0, 0);
}

unsigned long qi_plat_irq_save(qi_platform *p)
{
    struct sim_cpu *c = &p->w->cpu[p->cpu];
    unsigned long was_off = c->irqs_off;
    irqs_off(p->w, c);
    return was_off;
}

void qi_plat_irq_restore(qi_platform *p, unsigned long flags)
{
    struct sim_cpu *c = &p->w->cpu[p->cpu];
    if (flags || !c->irqs_off)
        return;
    c->irqs_off = false;
    sim__event(p->w, (int)c->id, SIM_EV_IRQ_ON, 0, 0);
    /* Interrupts that arrived meanwhile are taken now: a scheduling point, when there are. */
    if (commutes(p->w, c)) {
        c->movers_only = false; /* a left-mover (may_fold) */
        return;
    }
    c = sim__point(p, OP_IRQ);
    sim__charge(c, 0);
}

static void lock(qi_platform *p, qi_lock *l)
{
    struct sim_cpu *c = &p->w->cpu[p->cpu];
    /* A free lock taken where the step holds only movers so far is one more right-mover
     * (may_fold); otherwise the acquire is a point, run once the lock is free. */
    bool folded = l->word == 0 && may_fold(p->w, c);
    if (!folded) {
        c->want = l;
        c = sim__point(p, OP_LOCK);
        c->want = NULL;
    }
    l->word = c->id + 1;
    sim__fp(p->w, &l->word, true, 0);
    if (p->w->cfg.local_time)
        sim__lt_cpu(p->w, (uintptr_t)&l->word, true, false, LT_ACQUIRE);
    sim__event(p->w, (int)c->id, SIM_EV_LOCK, (uint64_t)(uintptr_t)l, c->irqs_off);
    charge(c, folded, p->w->cfg.cost.lock);
}

static void unlock(qi_platform *p, qi_lock *l)
{
    struct sim_cpu *c = &p->w->cpu[p->cpu];
    bool point = !commutes(p->w, c);
    if (point)
        c = sim__point(p, OP_MEM);
    if (l->word != c->id + 1) {
        sim_abort(p->w, "unlock of a lock this CPU does not hold");
        return;
    }
    /* The search takes two acquires of a lock as the race, as dynamic partial-order reduction
     * for locks does (Flanagan and Godefroid): a release conflicts with no step of another CPU
     * (it only ends a wait the next acquire is part of), so the acquire after it races with the
     * acquire before it, and its reversal is tried where that acquire was taken. With the
     * release in the footprint, the race found would be release-acquire, whose reversal the
     * waiting CPU, blocked there, cannot take: the other order of the two critical sections,
     * and what it does to the plain-C data under the lock, would never be run. */
    if (p->w->cfg.local_time) /* (before the word clears: what the section changed, not it) */
        sim__lt_cpu(p->w, (uintptr_t)&l->word, true, false, LT_RELEASE);
    l->word = 0;
    c->movers_only = false; /* a left-mover (may_fold) */
    sim__event(p->w, (int)c->id, SIM_EV_UNLOCK, (uint64_t)(uintptr_t)l, 0);
    if (point)
        sim__charge(c, p->w->cfg.cost.lock);
    else
        sim__charge_more(c, p->w->cfg.cost.lock);
}

SITED void qi_plat_lock(qi_platform *p, qi_lock *l)
{
    at(p, SITE());
    lock(p, l);
}

SITED void qi_plat_unlock(qi_platform *p, qi_lock *l)
{
    at(p, SITE());
    unlock(p, l);
}

SITED unsigned long qi_plat_lock_irqsave(qi_platform *p, qi_lock *l)
{
    at(p, SITE());
    unsigned long flags = qi_plat_irq_save(p);
    lock(p, l);
    return flags;
}

SITED void qi_plat_unlock_irqrestore(qi_platform *p, qi_lock *l, unsigned long flags)
{
    at(p, SITE());
    unlock(p, l);
    qi_plat_irq_restore(p, flags);
}

/* ---- waiting ---- */

SITED void qi_plat_relax(qi_platform *p, uint64_t wake_by_ns)
{
    at(p, SITE());
    sim_world *w = p->w;
    struct sim_cpu *c = &w->cpu[p->cpu];
    c->relax_site = c->site;
    if (w->cfg.local_time) {
        c->wake_by = wake_by_ns;
        c = sim__lt_relax(p);
        sim__charge(c, w->cfg.cost.relax);
        return;
    }
    uint64_t before = w->epoch;
    c->quiet = before == c->relax_epoch;
    c->wake_by = wake_by_ns;
    c = sim__point(p, OP_RELAX);
    c->relax_quiet = c->quiet && w->epoch == before; /* nor while it was parked */
    c->relax_epoch = w->epoch;
    c->relax_step = w->steps;
    sim__charge(c, w->cfg.cost.relax);
}

SITED uint64_t qi_plat_now_ns(qi_platform *p)
{
    at(p, SITE());
    sim_world *w = p->w;
    struct sim_cpu *c = &w->cpu[p->cpu];
    if (commutes(w, c)) { /* the time this CPU has reached; nothing is due before it */
        hw_time t = c->t > w->now ? c->t : w->now;
        sim__charge_more(c, w->cfg.cost.clock);
        return t;
    }
    c = sim__point(p, OP_CLOCK);
    sim__charge(c, w->cfg.cost.clock);
    return w->now;
}

void qi_plat_watchdog_touch(qi_platform *p)
{
    struct sim_cpu *c = &p->w->cpu[p->cpu];
    if (c->irqs_off)
        c->irq_off_since = p->w->now;
}

void qi_plat_log(qi_platform *p, enum qi_log_level level, const char *msg, uint64_t a, uint64_t b)
{
    (void)level;
    sim_note(p, msg, a, b);
}

/* ---- simulation extras ---- */

void *sim_dma_alloc(qi_platform *p, size_t bytes)
{
    sim_world *w = p->w;
    hw_paddr pa = hw_mem_alloc(w->hw, bytes, SIM_OWNER_DRIVER);
    if (!pa) {
        sim_abort(w, "simulated RAM exhausted by driver allocations");
        return NULL;
    }
    GROW(w->regions, w->nregions, w->cap_regions, 16);
    void *va = w->ram + pa;
    w->regions[w->nregions++] = (struct dma_region){.va = va, .bytes = bytes};
    return va;
}

hw_time sim_now(const sim_world *w)
{
    return w->now;
}

void sim_touch(qi_platform *p)
{
    struct sim_cpu *c = sim__point(p, OP_MEM);
    if (p->w->cfg.local_time)
        sim__lt_touch(p->w, c);
    else
        sim__fp(p->w, NULL, false, SIM_FP_HW);
    sim__mutated(p->w);
    sim__charge(c, p->w->cfg.cost.mem);
}

void sim_cpu_sleep(qi_platform *p, hw_time dt)
{
    sim_world *w = p->w;
    /* A sleep past the run's virtual-time bound ends with the run, at the bound (the clock
     * never reaches HW_NEVER, where a CPU due "never" would look blocked). */
    hw_time until = time_add(w->now, dt);
    if (until > w->cfg.max_virtual)
        until = w->cfg.max_virtual + 1;
    while (w->now < until && !w->stop) {
        struct sim_cpu *c = &w->cpu[p->cpu];
        c->t = until;
        sim__point(p, OP_SLEEP);
    }
}

void sim_note(qi_platform *p, const char *what, uint64_t a, uint64_t b)
{
    sim_world *w = p->w;
    if (!w->cfg.cpu_events) /* nothing recorded: no copy of the text either */
        return;
    const char *copy = sim__note_copy(w, what ? what : "");
    sim__event_record(w, (int)p->cpu, SIM_EV_NOTE, a, b);
    w->ev[w->nev - 1].text = copy;
}

void sim_mark_call(qi_platform *p, bool enter, int64_t v)
{
    p->w->cpu[p->cpu].in_call = enter;
    p->w->cpu[p->cpu].rs_valid = false; /* local_time: a polling loop of this call starts anew */
    p->w->cpu[p->cpu].relax_site = NULL;
    sim__event(p->w, (int)p->cpu, enter ? SIM_EV_CALL : SIM_EV_RETURN, (uint64_t)v, 0);
}
