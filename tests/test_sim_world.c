/*
 * test_sim_world.c — the simulation's scheduler and verdicts: CPUs interleave only at platform
 * points, locks exclude, the chooser decides the order, polling CPUs make time jump to the next
 * hardware event, and each stop condition (done, proved hang, hard lockup, deadlock, a loop with
 * no platform point, the virtual-time bound) is reached when, and only when, it should be.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "qinval/vtd.h"
#include "sim/sim.h"

struct fixture {
    hw_machine *hw;
    sim_world *w;
};

/* A default machine and a world with configuration sc. */
static struct fixture make_cfg(const sim_config *sc)
{
    struct fixture f;
    hw_config hc;
    hw_config_default(&hc);
    f.hw = hw_create(&hc, NULL);
    f.w = sim_create(sc, f.hw, NULL);
    assert_non_null(f.w);
    return f;
}

static struct fixture make_opt(unsigned ncpus, hw_time watchdog, bool mem_points,
                               uint64_t budget_steps)
{
    sim_config sc;
    sim_config_default(&sc);
    sc.ncpus = ncpus;
    if (watchdog)
        sc.watchdog = watchdog;
    sc.mem_points = mem_points;
    sc.budget_steps = budget_steps;
    return make_cfg(&sc);
}

static struct fixture make(unsigned ncpus, hw_time watchdog)
{
    return make_opt(ncpus, watchdog, false, 0);
}

static void done(struct fixture *f)
{
    sim_destroy(f->w);
    hw_destroy(f->hw);
}

/* Alternate strictly between candidates: the most interleaved schedule. */
static unsigned rotate(void *ctx, const sim_world *w, const unsigned *c, unsigned n, uint64_t step)
{
    (void)ctx, (void)w, (void)c;
    return (unsigned)(step % n);
}

struct counter {
    qi_lock lock;
    uint32_t *value; /* in simulated RAM */
    unsigned rounds;
};

static void add_under_lock(sim_world *w, unsigned cpu, void *arg)
{
    struct counter *k = arg;
    qi_platform *p = sim_platform(w, cpu);
    for (unsigned i = 0; i < k->rounds; i++) {
        unsigned long fl = qi_plat_lock_irqsave(p, &k->lock);
        uint32_t v = qi_plat_load32(p, k->value);
        qi_plat_store32(p, k->value, v + 1);
        qi_plat_unlock_irqrestore(p, &k->lock, fl);
    }
}

static void add_racy(sim_world *w, unsigned cpu, void *arg)
{
    struct counter *k = arg;
    qi_platform *p = sim_platform(w, cpu);
    for (unsigned i = 0; i < k->rounds; i++) {
        uint32_t v = qi_plat_load32(p, k->value);
        qi_plat_store32(p, k->value, v + 1);
    }
}

/* Two CPUs add 50 each to one counter, alternating at every choice; returns the total. */
static uint32_t count_twice(struct fixture *f, sim_cpu_fn add, sim_outcome *out)
{
    struct counter k = {.rounds = 50};
    k.value = sim_dma_alloc(sim_platform(f->w, 0), 4);
    sim_set_cpu(f->w, 0, add, &k);
    sim_set_cpu(f->w, 1, add, &k);
    sim_set_chooser(f->w, rotate, NULL);
    sim_run(f->w, out);
    assert_int_equal(out->stop, SIM_STOP_DONE);
    return *k.value;
}

static void test_lock_excludes(void **state)
{
    (void)state;
    struct fixture f = make_opt(2, 0, true, 0);
    sim_outcome out;
    assert_int_equal(count_twice(&f, add_under_lock, &out), 100);
    done(&f);
}

/* Without the lock the same interleaving loses updates when plain loads and stores are
 * scheduling points (mem_points): the chooser really interleaves. */
static void test_race_shows_without_lock(void **state)
{
    (void)state;
    struct fixture f = make_opt(2, 0, true, 0);
    sim_outcome out;
    assert_true(count_twice(&f, add_racy, &out) < 100);
    done(&f);
}

/* By default plain loads and stores are not scheduling points: each CPU's racy loop runs
 * within one step, so no update is lost, the run takes one step per CPU, and the virtual time
 * still counts every access. */
static void test_plain_accesses_stay_in_step(void **state)
{
    (void)state;
    struct fixture f = make(2, 0);
    sim_outcome out;
    assert_int_equal(count_twice(&f, add_racy, &out), 100);
    assert_int_equal(out.steps, 2);
    hw_time cost = sim_get_config(f.w)->cost.mem;
    assert_true(sim_cpu_time(f.w, 0) >= 100 * cost);
    done(&f);
}

/* Releasing a lock, re-enabling interrupts with none pending and reading the clock commute
 * with everything the other CPUs can do, so with nothing due in the hardware only the acquire
 * is a point, and the first one not even that (a right-mover in the start's step): ten rounds
 * of lock, unlock, interrupts back on, clock read take the start plus nine steps (forty-one
 * with mem_points, where each is a point). The clock still advances by every operation's
 * cost. */
struct clock_rounds {
    qi_lock lock;
    uint64_t seen[10];
};

static void lock_and_read_clock(sim_world *w, unsigned cpu, void *arg)
{
    struct clock_rounds *r = arg;
    qi_platform *p = sim_platform(w, cpu);
    for (unsigned i = 0; i < 10; i++) {
        unsigned long fl = qi_plat_lock_irqsave(p, &r->lock);
        qi_plat_unlock_irqrestore(p, &r->lock, fl);
        r->seen[i] = qi_plat_now_ns(p);
    }
}

static void commuting_rounds(bool mem_points, uint64_t want_steps)
{
    struct fixture f = make_opt(1, 0, mem_points, 0);
    struct clock_rounds r = {0};
    sim_set_cpu(f.w, 0, lock_and_read_clock, &r);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_DONE);
    assert_int_equal(out.steps, want_steps);
    const struct sim_costs *cost = &sim_get_config(f.w)->cost;
    for (unsigned i = 1; i < 10; i++)
        assert_int_equal(r.seen[i] - r.seen[i - 1], 2 * cost->lock + cost->clock);
    done(&f);
}

static void test_commuting_operations_in_step(void **state)
{
    (void)state;
    commuting_rounds(false, 10);
    commuting_rounds(true, 41);
}

/* ... but an interrupt that became pending while interrupts were off is taken the moment they
 * come back on, before the CPU's next instruction: the hot-plug event fires during a stretch
 * with interrupts off, and the handler has run when the code after the restore looks. */
struct irq_order {
    unsigned calls, calls_after_restore;
};

static void count_irq(sim_world *w, unsigned cpu, enum hw_irq irq, int ep, void *arg)
{
    (void)w, (void)cpu, (void)irq, (void)ep;
    ((struct irq_order *)arg)->calls++;
}

static void irqs_off_across_event(sim_world *w, unsigned cpu, void *arg)
{
    struct irq_order *r = arg;
    qi_platform *p = sim_platform(w, cpu);
    uint32_t *word = sim_dma_alloc(p, 4);
    unsigned long fl = qi_plat_irq_save(p);
    while (qi_plat_now_ns(p) < 2 * HW_US)
        (void)qi_plat_load32(p, word);
    qi_plat_irq_restore(p, fl);
    r->calls_after_restore = r->calls;
}

static void test_pending_irq_taken_at_restore(void **state)
{
    (void)state;
    struct fixture f = make(1, 0);
    hw_ep_config ec;
    hw_ep_config_default(&ec, 0x0100);
    hw_ep_inject(f.hw, hw_ep_add(f.hw, &ec, NULL), HW_US, HW_FAULT_SURPRISE_REMOVAL, 0);
    struct irq_order r = {0};
    sim_set_cpu(f.w, 0, irqs_off_across_event, &r);
    sim_set_irq_handler(f.w, count_irq, &r);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_DONE);
    assert_int_equal(r.calls_after_restore, 1);
    done(&f);
}

/* ---- reduction by movers: an acquire, one conflicting operation and a release share a step */

struct mover_loop {
    qi_lock lock;
    uint32_t *mark; /* in simulated RAM */
    unsigned rounds;
    uint32_t sum;
};

/* A polling iteration as drivers write it: relax, take the lock, read a register, drop the
 * lock, note progress in memory (a store, so no iteration is quiet). */
static void poll_iterations(sim_world *w, unsigned cpu, void *arg)
{
    struct mover_loop *m = arg;
    qi_platform *p = sim_platform(w, cpu);
    for (unsigned i = 0; i < m->rounds; i++) {
        qi_plat_relax(p, 0);
        qi_plat_lock(p, &m->lock);
        m->sum += qi_plat_read32(p, VTD_REG_FEDATA);
        qi_plat_unlock(p, &m->lock);
        qi_plat_store32(p, m->mark, i + 1);
    }
}

/* Two register reads per critical section: the second conflicts again, so it is a point, and
 * so is the next acquire (it follows a release). */
static void two_reads_under_lock(sim_world *w, unsigned cpu, void *arg)
{
    struct mover_loop *m = arg;
    qi_platform *p = sim_platform(w, cpu);
    for (unsigned i = 0; i < m->rounds; i++) {
        qi_plat_lock(p, &m->lock);
        m->sum += qi_plat_read32(p, VTD_REG_FEDATA);
        m->sum += qi_plat_read32(p, VTD_REG_FEADDR);
        qi_plat_unlock(p, &m->lock);
    }
}

static uint64_t steps_of(sim_cpu_fn fn, bool mem_points)
{
    struct fixture f = make_opt(1, 0, mem_points, 0);
    struct mover_loop m = {.rounds = 10};
    m.mark = sim_dma_alloc(sim_platform(f.w, 0), 4);
    sim_set_cpu(f.w, 0, fn, &m);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_DONE);
    if (fn == poll_iterations)
        assert_int_equal(*m.mark, 10);
    done(&f);
    return out.steps;
}

/* Ten iterations of relax, lock, register read, unlock, store: one step each from its relax,
 * plus the start (fifty-one steps with mem_points, where each operation is a point). */
static void test_poll_iteration_is_one_step(void **state)
{
    (void)state;
    assert_int_equal(steps_of(poll_iterations, false), 11);
    assert_int_equal(steps_of(poll_iterations, true), 51);
}

/* Ten rounds of lock, read, read, unlock: the first acquire and read join the start, then
 * every second read and every later acquire is a point: 1 + 1 + 9 * 2 steps (forty-one with
 * mem_points). */
static void test_second_conflict_is_a_point(void **state)
{
    (void)state;
    assert_int_equal(steps_of(two_reads_under_lock, false), 20);
    assert_int_equal(steps_of(two_reads_under_lock, true), 41);
}

/* The lock still excludes when its acquire folds into a step (strict alternation, no
 * mem_points). */
static void test_folded_lock_excludes(void **state)
{
    (void)state;
    struct fixture f = make(2, 0);
    sim_outcome out;
    assert_int_equal(count_twice(&f, add_under_lock, &out), 100);
    done(&f);
}

/* Exhaustive schedules of a chooser that replays a prefix of choices and takes the first
 * candidate after it, recording how many candidates each decision had. */
struct dfs {
    unsigned pick[64], width[64];
    unsigned depth, prefix;
};

static unsigned dfs_choose(void *ctx, const sim_world *w, const unsigned *c, unsigned n,
                           uint64_t step)
{
    (void)w, (void)c, (void)step;
    struct dfs *d = ctx;
    assert_true(d->depth < 64);
    unsigned k = d->depth++;
    if (k >= d->prefix)
        d->pick[k] = 0;
    d->width[k] = n;
    return d->pick[k];
}

/* The next prefix in depth-first order; false when every schedule was run. */
static bool dfs_next(struct dfs *d)
{
    while (d->depth > 0 && d->pick[d->depth - 1] + 1 >= d->width[d->depth - 1])
        d->depth--;
    if (d->depth == 0)
        return false;
    d->pick[d->depth - 1]++;
    d->prefix = d->depth;
    d->depth = 0;
    return true;
}

struct publish {
    qi_lock lock;
    uint32_t before, after; /* cpu1: FEDATA read without, then with the lock */
};

/* cpu0 writes FEDATA under the lock; cpu1 reads it once without the lock, then once under it. */
static void publish_writer(sim_world *w, unsigned cpu, void *arg)
{
    struct publish *x = arg;
    qi_platform *p = sim_platform(w, cpu);
    qi_plat_lock(p, &x->lock);
    qi_plat_write32(p, VTD_REG_FEDATA, 1);
    qi_plat_unlock(p, &x->lock);
}

static void publish_reader(sim_world *w, unsigned cpu, void *arg)
{
    struct publish *x = arg;
    qi_platform *p = sim_platform(w, cpu);
    x->before = qi_plat_read32(p, VTD_REG_FEDATA);
    qi_plat_lock(p, &x->lock);
    x->after = qi_plat_read32(p, VTD_REG_FEDATA);
    qi_plat_unlock(p, &x->lock);
}

/* Bit (2 * before + after) for every outcome some schedule reaches; counts the schedules. */
static unsigned publish_outcomes(bool mem_points, unsigned *schedules)
{
    struct dfs d = {0};
    unsigned seen = 0;
    *schedules = 0;
    do {
        struct fixture f = make_opt(2, 0, mem_points, 0);
        struct publish x = {0};
        sim_set_cpu(f.w, 0, publish_writer, &x);
        sim_set_cpu(f.w, 1, publish_reader, &x);
        sim_set_chooser(f.w, dfs_choose, &d);
        sim_outcome out;
        sim_run(f.w, &out);
        assert_int_equal(out.stop, SIM_STOP_DONE);
        seen |= 1u << (2 * x.before + x.after);
        ++*schedules;
        done(&f);
    } while (dfs_next(&d));
    return seen;
}

/* Folding loses no outcome: every schedule of the points left reaches exactly the outcomes of
 * every schedule with each operation a point — (0,0), (0,1) and (1,1), never (1,0) — with
 * fewer schedules. */
static void test_folding_keeps_every_outcome(void **state)
{
    (void)state;
    unsigned folded, all;
    unsigned with_folding = publish_outcomes(false, &folded);
    unsigned every_point = publish_outcomes(true, &all);
    assert_int_equal(every_point, 1u << 0 | 1u << 1 | 1u << 3);
    assert_int_equal(with_folding, every_point);
    assert_true(folded < all);
}

/* A caller's step budget cuts the run (naming the budget): not a verdict. */
static void test_step_budget(void **state)
{
    (void)state;
    struct fixture f = make_opt(2, 0, false, 7);
    struct counter k = {.rounds = 50};
    k.value = sim_dma_alloc(sim_platform(f.w, 0), 4);
    sim_set_cpu(f.w, 0, add_under_lock, &k);
    sim_set_cpu(f.w, 1, add_under_lock, &k);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_CUT);
    assert_int_equal(out.steps, 7);
    assert_non_null(strstr(out.why, "budget of 7 steps"));
    assert_true(*k.value < 100);
    done(&f);
}

struct poller {
    uint32_t *flag;
    bool irqs_off;
    uint64_t wake_by;
};

static void poll_flag(sim_world *w, unsigned cpu, void *arg)
{
    struct poller *q = arg;
    qi_platform *p = sim_platform(w, cpu);
    unsigned long fl = q->irqs_off ? qi_plat_irq_save(p) : 0;
    while (qi_plat_load32(p, q->flag) == 0)
        qi_plat_relax(p, q->wake_by);
    if (q->irqs_off)
        qi_plat_irq_restore(p, fl);
}

static void test_proved_hang(void **state)
{
    (void)state;
    struct fixture f = make(1, 0);
    struct poller q = {0};
    q.flag = sim_dma_alloc(sim_platform(f.w, 0), 4);
    sim_set_cpu(f.w, 0, poll_flag, &q);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_HANG);
    assert_true(out.steps < 100); /* proved, not timed out */
    done(&f);
}

/* Polling with interrupts off while something is still pending (a hardware event at 60 s that
 * could end the wait): the watchdog fires first, at 10 s. */
static void test_hard_lockup_polling(void **state)
{
    (void)state;
    struct fixture f = make(1, 10 * HW_S);
    hw_ep_config ec;
    hw_ep_config_default(&ec, 0x0100);
    hw_ep_inject(f.hw, hw_ep_add(f.hw, &ec, NULL), 60 * HW_S, HW_FAULT_LATENCY, 1);
    struct poller q = {.irqs_off = true};
    q.flag = sim_dma_alloc(sim_platform(f.w, 0), 4);
    sim_set_cpu(f.w, 0, poll_flag, &q);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_HARD_LOCKUP);
    assert_int_equal(out.cpu, 0);
    assert_true(out.irqs_off);
    assert_true(out.t >= 10 * HW_S && out.t < 10 * HW_S + HW_MS);
    assert_true(out.steps < 100);
    done(&f);
}

/* The same with nothing pending at all: that is a proved hang (the lockup follows from it). */
static void test_hang_with_irqs_off(void **state)
{
    (void)state;
    struct fixture f = make(1, 10 * HW_S);
    struct poller q = {.irqs_off = true};
    q.flag = sim_dma_alloc(sim_platform(f.w, 0), 4);
    sim_set_cpu(f.w, 0, poll_flag, &q);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_HANG);
    assert_int_equal(out.cpu, 0);
    assert_non_null(strstr(out.why, "lockup detector would also fire"));
    done(&f);
}

/* A deadline hint lets time jump to it; the loop exits by reading the clock. */
static void poll_until(sim_world *w, unsigned cpu, void *arg)
{
    uint64_t *end = arg;
    qi_platform *p = sim_platform(w, cpu);
    uint64_t deadline = qi_plat_now_ns(p) + 5 * HW_S;
    while (qi_plat_now_ns(p) < deadline)
        qi_plat_relax(p, deadline);
    *end = qi_plat_now_ns(p);
}

static void test_deadline_hint(void **state)
{
    (void)state;
    struct fixture f = make(1, 0);
    uint64_t end = 0;
    sim_set_cpu(f.w, 0, poll_until, &end);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_DONE);
    assert_true(end >= 5 * HW_S && end < 5 * HW_S + HW_US);
    assert_true(out.steps < 100);
    done(&f);
}

static volatile int sink;

static void spin_no_points(sim_world *w, unsigned cpu, void *arg)
{
    qi_platform *p = sim_platform(w, cpu);
    bool *off = arg;
    if (*off)
        qi_plat_irq_save(p);
    qi_plat_relax(p, 0); /* one platform point, then a loop with none */
    for (;;)
        sink++;
}

static void test_loop_guard(void **state)
{
    (void)state;
    for (int off = 0; off <= 1; off++) {
        struct fixture f = make(1, 0);
        bool irqs = off;
        sim_set_cpu(f.w, 0, spin_no_points, &irqs);
        sim_outcome out;
        sim_run(f.w, &out);
        assert_int_equal(out.stop, off ? SIM_STOP_HARD_LOCKUP : SIM_STOP_LOOP);
        assert_int_equal(out.cpu, 0);
        assert_non_null(strstr(out.why, "platform point"));
        done(&f);
    }
}

/* The main thread's own CPU time: what the step guard measures. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void burn_cpu(uint64_t ns)
{
    uint64_t t0 = thread_cpu_ns();
    while (thread_cpu_ns() - t0 < ns)
        sink++;
}

#define BUSY_STEPS 200

struct busy {
    bool finite;
    unsigned steps; /* busy steps completed */
};

/* BUSY_STEPS steps of half a millisecond of CPU time each, then a loop with no platform point
 * (unless finite). */
static void busy_then_spin(sim_world *w, unsigned cpu, void *arg)
{
    qi_platform *p = sim_platform(w, cpu);
    struct busy *b = arg;
    for (unsigned i = 0; i < BUSY_STEPS; i++) {
        burn_cpu(500 * 1000);
        qi_plat_read32(p, VTD_REG_GSTS); /* a platform point, and no poll to prove a hang */
        b->steps++;
    }
    while (!b->finite)
        sink++;
}

/* With a 2 ms guard the guard's signal arrives every millisecond of CPU time, so it lands
 * inside many of the half-millisecond steps: none of them is cut, and the loop that follows
 * them is, at that step. */
static void test_guard_cuts_only_the_stuck_step(void **state)
{
    (void)state;
    for (int finite = 0; finite <= 1; finite++) {
        sim_config sc;
        sim_config_default(&sc);
        sc.step_guard_ms = 2;
        struct fixture f = make_cfg(&sc);
        struct busy b = {.finite = finite};
        sim_set_cpu(f.w, 0, busy_then_spin, &b);
        sim_outcome out;
        sim_run(f.w, &out);
        if (finite) {
            assert_int_equal(out.stop, SIM_STOP_DONE);
        } else {
            assert_int_equal(out.stop, SIM_STOP_LOOP);
            assert_int_equal(out.cpu, 0);
        }
        assert_int_equal(b.steps, BUSY_STEPS);
        done(&f);
    }
}

/* The guard's signal arriving in a step that has not run for the whole limit (as a late one
 * would, sent for the step before) leaves the step alone. */
static void raise_guard_signal(sim_world *w, unsigned cpu, void *arg)
{
    (void)arg;
    qi_platform *p = sim_platform(w, cpu);
    qi_plat_read32(p, VTD_REG_GSTS);
    pthread_kill(pthread_self(), SIGUSR2);
    pthread_kill(pthread_self(), SIGUSR2); /* a second time in the same step */
    qi_plat_read32(p, VTD_REG_GSTS);
}

static void test_guard_ignores_a_signal_for_no_stuck_step(void **state)
{
    (void)state;
    struct fixture f = make(1, 0);
    sim_set_cpu(f.w, 0, raise_guard_signal, NULL);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_DONE);
    assert_false(out.guard);
    done(&f);
}

struct pair {
    qi_lock a, b;
};

static void lock_ab(sim_world *w, unsigned cpu, void *arg)
{
    struct pair *k = arg;
    qi_platform *p = sim_platform(w, cpu);
    qi_lock *first = cpu == 0 ? &k->a : &k->b, *second = cpu == 0 ? &k->b : &k->a;
    qi_plat_lock(p, first);
    qi_plat_relax(p, 0);
    qi_plat_lock(p, second);
    qi_plat_unlock(p, second);
    qi_plat_unlock(p, first);
}

static void test_deadlock(void **state)
{
    (void)state;
    struct fixture f = make(2, 0);
    struct pair k = {{0}, {0}};
    sim_set_cpu(f.w, 0, lock_ab, &k);
    sim_set_cpu(f.w, 1, lock_ab, &k);
    sim_set_chooser(f.w, rotate, NULL);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_DEADLOCK);
    done(&f);
}

/* A CPU polls FSTS until the hardware's ITE, one ITE time-out (1 s) later: time jumps. */
struct ite_poll {
    hw_time seen;
};

static void submit_and_poll_ite(sim_world *w, unsigned cpu, void *arg)
{
    struct ite_poll *r = arg;
    qi_platform *p = sim_platform(w, cpu);
    uint8_t *ring = sim_dma_alloc(p, 4096);
    qi_plat_write64(p, VTD_REG_IQT, 0);
    qi_plat_write64(p, VTD_REG_IQA, qi_plat_virt_to_phys(p, ring));
    qi_plat_write32(p, VTD_REG_GCMD, VTD_GCMD_QIE);
    while (!(qi_plat_read32(p, VTD_REG_GSTS) & VTD_GSTS_QIES))
        qi_plat_relax(p, 0);
    vtd_desc d = vtd_make_devtlb(0x0100, 0x1000, 1);
    memcpy(ring, d.qw, 16);
    qi_plat_write32(p, VTD_REG_IQT, 1 << 4);
    while (!(qi_plat_read32(p, VTD_REG_FSTS) & VTD_FSTS_ITE))
        qi_plat_relax(p, 0);
    r->seen = qi_plat_now_ns(p);
}

static void test_time_jumps_to_hardware_event(void **state)
{
    (void)state;
    struct fixture f = make(1, 0);
    hw_ep_config ec;
    hw_ep_config_default(&ec, 0x0100);
    int ep = hw_ep_add(f.hw, &ec, NULL);
    hw_ep_inject(f.hw, ep, 0, HW_FAULT_MUTE, 0);
    struct ite_poll r = {0};
    sim_set_cpu(f.w, 0, submit_and_poll_ite, &r);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_DONE);
    assert_true(r.seen >= HW_S && r.seen < HW_S + 10 * HW_US);
    assert_true(out.steps < 1000);
    /* One round validated the one jump; none was armed right after it, when the poller had
     * not yet looked at the ITE it was about to leave its loop for. */
    assert_int_equal(out.jumps, 1);
    assert_int_equal(out.rounds, 1);
    done(&f);
}

/* Under a chooser that always prefers CPU 0: once both CPUs poll quietly, the round that
 * validates the time jump is owed by CPU 1, so CPU 1 is the only candidate until it has relaxed
 * again. Otherwise CPU 0 repeats its quiet iteration at every choice until its clock runs a
 * window ahead of CPU 1's, and only then does CPU 1 complete the round. */
static void poll_ite(sim_world *w, unsigned cpu, void *arg)
{
    (void)arg;
    qi_platform *p = sim_platform(w, cpu);
    while (!(qi_plat_read32(p, VTD_REG_FSTS) & VTD_FSTS_ITE))
        qi_plat_relax(p, 0);
}

static unsigned first(void *ctx, const sim_world *w, const unsigned *c, unsigned n, uint64_t step)
{
    (void)ctx, (void)w, (void)c, (void)n, (void)step;
    return 0;
}

static void test_jump_round_not_starved(void **state)
{
    (void)state;
    struct fixture f = make(2, 0);
    hw_ep_config ec;
    hw_ep_config_default(&ec, 0x0100);
    hw_ep_inject(f.hw, hw_ep_add(f.hw, &ec, NULL), 0, HW_FAULT_MUTE, 0);
    struct ite_poll r = {0};
    sim_set_cpu(f.w, 0, submit_and_poll_ite, &r);
    sim_set_cpu(f.w, 1, poll_ite, NULL);
    sim_set_chooser(f.w, first, NULL);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_DONE);
    assert_true(r.seen >= HW_S && r.seen < HW_S + 10 * HW_US);
    assert_true(out.steps <
                30); /* 23; letting CPU 0 repeat until CPU 1 falls out of the window took 37 */
    done(&f);
}

/* A CPU whose workload is over still takes interrupts: a hot-plug event at 1 ms, long after
 * CPU 0 returned, runs the handler on CPU 0 (with interrupts off, in its context), and a fault
 * raised by the handler's MMIO is delivered too before the run is judged. */
struct late_irq {
    unsigned calls;
    hw_time at;
    unsigned cpu;
    bool irqs_off;
};

static void nothing(sim_world *w, unsigned cpu, void *arg)
{
    (void)w, (void)cpu, (void)arg;
}

static void record_irq(sim_world *w, unsigned cpu, enum hw_irq irq, int ep, void *arg)
{
    struct late_irq *r = arg;
    (void)ep;
    if (irq != HW_IRQ_HOTPLUG)
        return;
    r->calls++;
    r->at = sim_now(w);
    r->cpu = cpu;
    r->irqs_off = sim_cpu_irqs_off(w, cpu);
    (void)qi_plat_read32(sim_platform(w, cpu), VTD_REG_FSTS); /* a platform point inside */
}

static void test_irq_after_workload(void **state)
{
    (void)state;
    struct fixture f = make(2, 0);
    hw_ep_config ec;
    hw_ep_config_default(&ec, 0x0100);
    hw_ep_inject(f.hw, hw_ep_add(f.hw, &ec, NULL), HW_MS, HW_FAULT_SURPRISE_REMOVAL, 0);
    struct late_irq r = {0};
    sim_set_cpu(f.w, 0, nothing, NULL);
    sim_set_cpu(f.w, 1, nothing, NULL);
    sim_set_irq_handler(f.w, record_irq, &r);
    sim_outcome out;
    sim_run(f.w, &out);
    assert_int_equal(out.stop, SIM_STOP_DONE);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.cpu, 0);
    assert_true(r.irqs_off);
    assert_true(r.at >= HW_MS && r.at < HW_MS + HW_US);
    done(&f);
}

/* Likewise with the interrupts routed to CPU 1, which finished first: the scheduler looks for
 * CPUs to revive only among those with an interrupt pending (world.c keeps that set), and
 * CPU 1 must be in it. */
static void test_irq_after_workload_other_cpu(void **state)
{
    (void)state;
    hw_config hc;
    hw_config_default(&hc);
    hw_machine *hw = hw_create(&hc, NULL);
    sim_config sc;
    sim_config_default(&sc);
    sc.ncpus = 3;
    sc.irq_cpu = 1;
    sim_world *w = sim_create(&sc, hw, NULL);
    assert_non_null(w);
    hw_ep_config ec;
    hw_ep_config_default(&ec, 0x0100);
    hw_ep_inject(hw, hw_ep_add(hw, &ec, NULL), HW_MS, HW_FAULT_SURPRISE_REMOVAL, 0);
    struct late_irq r = {0};
    for (unsigned c = 0; c < 3; c++)
        sim_set_cpu(w, c, nothing, NULL);
    sim_set_irq_handler(w, record_irq, &r);
    sim_outcome out;
    sim_run(w, &out);
    assert_int_equal(out.stop, SIM_STOP_DONE);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.cpu, 1);
    assert_true(r.irqs_off);
    assert_true(r.at >= HW_MS && r.at < HW_MS + HW_US);
    sim_destroy(w);
    hw_destroy(hw);
}

static void test_timeout_bound(void **state)
{
    (void)state;
    hw_config hc;
    hw_config_default(&hc);
    hw_machine *hw = hw_create(&hc, NULL);
    sim_config sc;
    sim_config_default(&sc);
    sc.max_virtual = 2 * HW_S;
    sim_world *w = sim_create(&sc, hw, NULL);
    uint64_t end = 0;
    sim_set_cpu(w, 0, poll_until, &end); /* wants 5 s */
    sim_outcome out;
    sim_run(w, &out);
    assert_int_equal(out.stop, SIM_STOP_TIMEOUT);
    assert_int_equal(end, 0);
    sim_destroy(w);
    hw_destroy(hw);
}

/*
 * Wake-ups while one CPU runs through many points. Each test below has CPU 0 make point after
 * point while CPU 1 waits, then lets CPU 1's wait end in a way that CPU 0's own step causes
 * (a lock release, a store) or that time brings (a sleep or a relax deadline), and checks that
 * CPU 1 runs at the very point where it becomes a candidate: the chooser always takes CPU 1 when
 * it can, so a scheduler that kept CPU 0 going a point too long shows in `seen`.
 */
struct wake_run {
    qi_lock lock;
    uint32_t *flag;     /* in simulated RAM */
    uint32_t *word;     /* in simulated RAM: CPU 0's ticks add 0 to it */
    unsigned count;     /* ticks CPU 0 has made so far */
    unsigned at_unlock; /* count when CPU 0 released the lock */
    unsigned seen;      /* count when CPU 1's wait ended */
    hw_time got;        /* when CPU 1 took the lock */
    hw_time wake;       /* when CPU 1's sleep or deadline ends */
    hw_time vals[1000]; /* the time of each of CPU 0's ticks */
};

#define WAKE_AT (10 * HW_US)

static unsigned prefer_last(void *ctx, const sim_world *w, const unsigned *c, unsigned n,
                            uint64_t step)
{
    (void)ctx, (void)w, (void)c, (void)step;
    return n - 1;
}

/* One tick of CPU 0: an atomic add of 0, a platform point that changes nothing (no store, no
 * epoch change). Returns the time it ran at. */
static hw_time tick(qi_platform *p, struct wake_run *r)
{
    qi_plat_fetch_add32(p, r->word, 0);
    hw_time v = sim_now(sim_platform_world(p));
    if (r->count < sizeof(r->vals) / sizeof(r->vals[0]))
        r->vals[r->count] = v;
    r->count++;
    return v;
}

static void ticks(qi_platform *p, struct wake_run *r, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        tick(p, r);
}

static struct wake_run *wake_run_new(struct fixture *f)
{
    struct wake_run *r = test_calloc(1, sizeof(*r));
    r->flag = sim_dma_alloc(sim_platform(f->w, 0), 4);
    r->word = sim_dma_alloc(sim_platform(f->w, 0), 4);
    sim_set_chooser(f->w, prefer_last, NULL);
    return r;
}

/* Run CPU 0's and CPU 1's bodies over r to the end. */
static void run_wake(struct fixture *f, sim_cpu_fn cpu0, sim_cpu_fn cpu1, struct wake_run *r)
{
    sim_set_cpu(f->w, 0, cpu0, r);
    sim_set_cpu(f->w, 1, cpu1, r);
    sim_outcome out;
    sim_run(f->w, &out);
    assert_int_equal(out.stop, SIM_STOP_DONE);
}

static void hold_then_release(sim_world *w, unsigned cpu, void *arg)
{
    struct wake_run *r = arg;
    qi_platform *p = sim_platform(w, cpu);
    qi_plat_lock(p, &r->lock);
    while (tick(p, r) < 2 * WAKE_AT)
        ;
    r->at_unlock = r->count;
    qi_plat_unlock(p, &r->lock); /* does not move the epoch */
    ticks(p, r, 20);
}

static void sleep_then_lock(sim_world *w, unsigned cpu, void *arg)
{
    struct wake_run *r = arg;
    qi_platform *p = sim_platform(w, cpu);
    sim_cpu_sleep(p, WAKE_AT); /* CPU 0 takes the lock meanwhile */
    qi_plat_lock(p, &r->lock);
    r->seen = r->count;
    r->got = sim_now(w);
    qi_plat_unlock(p, &r->lock);
}

/* CPU 1 waits for a lock that CPU 0 holds; CPU 0's unlock must make CPU 1 a candidate at
 * CPU 0's next point, although nothing but the lock word changed. */
static void test_wake_on_lock_release(void **state)
{
    (void)state;
    struct fixture f = make(2, 0);
    struct wake_run *r = wake_run_new(&f);
    run_wake(&f, hold_then_release, sleep_then_lock, r);
    assert_true(r->got >= 2 * WAKE_AT); /* it did wait for CPU 0's unlock */
    assert_true(r->at_unlock > 100);
    assert_int_equal(r->seen, r->at_unlock);
    assert_int_equal(r->count, r->at_unlock + 20);
    test_free(r);
    done(&f);
}

static void tick_store_tick(sim_world *w, unsigned cpu, void *arg)
{
    struct wake_run *r = arg;
    qi_platform *p = sim_platform(w, cpu);
    ticks(p, r, 100);
    qi_plat_store32(p, r->flag, 1); /* a plain store, not a point: it moves the epoch */
    ticks(p, r, 50);
}

static void poll_flag_count(sim_world *w, unsigned cpu, void *arg)
{
    struct wake_run *r = arg;
    qi_platform *p = sim_platform(w, cpu);
    while (!qi_plat_load32(p, r->flag))
        qi_plat_relax(p, 0);
    r->seen = r->count;
}

/* CPU 1 is parked in a quiet polling loop with no deadline; CPU 0's store to the flag it polls
 * must wake it at CPU 0's next point. */
static void test_wake_parked_on_store(void **state)
{
    (void)state;
    struct fixture f = make(2, 0);
    struct wake_run *r = wake_run_new(&f);
    run_wake(&f, tick_store_tick, poll_flag_count, r);
    assert_int_equal(r->seen, 100);
    assert_int_equal(r->count, 150);
    test_free(r);
    done(&f);
}

static void tick_many(sim_world *w, unsigned cpu, void *arg)
{
    ticks(sim_platform(w, cpu), arg, 1000);
}

static void sleep_count(sim_world *w, unsigned cpu, void *arg)
{
    struct wake_run *r = arg;
    sim_cpu_sleep(sim_platform(w, cpu), r->wake);
    r->seen = r->count;
}

static void poll_deadline_count(sim_world *w, unsigned cpu, void *arg)
{
    struct wake_run *r = arg;
    qi_platform *p = sim_platform(w, cpu);
    do {
        qi_plat_relax(p, r->wake); /* quiet from the second: parked until the deadline */
        r->seen = r->count;        /* the last time, when the deadline woke it */
    } while (qi_plat_now_ns(p) < r->wake);
}

/* CPU 1 sleeps, or is parked in a quiet polling loop, until r->wake while CPU 0 ticks. CPU 1
 * is a candidate from the first of CPU 0's points whose time is within the window of r->wake,
 * and not before: CPU 0's clock at its point is its previous tick's time plus the cost of a
 * tick. Over as many wake-up times as a tick costs nanoseconds, one of CPU 0's points falls
 * exactly a window before r->wake: the boundary itself is tested. */
static void test_wake_at_window_boundary(void **state)
{
    (void)state;
    sim_cpu_fn waiters[] = {sleep_count, poll_deadline_count};
    for (unsigned k = 0; k < 2; k++) {
        for (hw_time d = 0; d < 20; d++) {
            struct fixture f = make(2, 0);
            const sim_config *sc = sim_get_config(f.w);
            assert_int_equal(sc->cost.atomic, 20);
            struct wake_run *r = wake_run_new(&f);
            r->wake = WAKE_AT + d;
            run_wake(&f, tick_many, waiters[k], r);
            assert_true(r->seen > 1 && r->seen < 1000);
            hw_time last = r->vals[r->seen - 1];
            assert_true(last + sc->window < r->wake);
            assert_true(r->wake <= last + sc->cost.atomic + sc->window);
            test_free(r);
            done(&f);
        }
    }
}

static void test_bad_config(void **state)
{
    (void)state;
    hw_config hc;
    hw_config_default(&hc);
    hw_machine *hw = hw_create(&hc, NULL);
    sim_config sc;
    sim_config_default(&sc);
    sc.ncpus = 0;
    const char *err = NULL;
    assert_null(sim_create(&sc, hw, &err));
    assert_non_null(err);
    sc.ncpus = 2;
    sc.irq_cpu = 5;
    assert_null(sim_create(&sc, hw, &err));
    hw_destroy(hw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_excludes),
        cmocka_unit_test(test_race_shows_without_lock),
        cmocka_unit_test(test_plain_accesses_stay_in_step),
        cmocka_unit_test(test_commuting_operations_in_step),
        cmocka_unit_test(test_pending_irq_taken_at_restore),
        cmocka_unit_test(test_poll_iteration_is_one_step),
        cmocka_unit_test(test_second_conflict_is_a_point),
        cmocka_unit_test(test_folded_lock_excludes),
        cmocka_unit_test(test_folding_keeps_every_outcome),
        cmocka_unit_test(test_step_budget),
        cmocka_unit_test(test_proved_hang),
        cmocka_unit_test(test_hard_lockup_polling),
        cmocka_unit_test(test_hang_with_irqs_off),
        cmocka_unit_test(test_deadline_hint),
        cmocka_unit_test(test_loop_guard),
        cmocka_unit_test(test_guard_cuts_only_the_stuck_step),
        cmocka_unit_test(test_guard_ignores_a_signal_for_no_stuck_step),
        cmocka_unit_test(test_deadlock),
        cmocka_unit_test(test_time_jumps_to_hardware_event),
        cmocka_unit_test(test_jump_round_not_starved),
        cmocka_unit_test(test_irq_after_workload),
        cmocka_unit_test(test_irq_after_workload_other_cpu),
        cmocka_unit_test(test_timeout_bound),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_wake_on_lock_release),
        cmocka_unit_test(test_wake_parked_on_store),
        cmocka_unit_test(test_wake_at_window_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
