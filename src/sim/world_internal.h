/*
 * world_internal.h — the simulation's inside, shared by world.c (scheduler, time, verdicts),
 * platform_sim.c (the platform.h functions as scheduling points) and guard.c (the CPU-time
 * guard around each step).
 */
#ifndef QINVAL_SIM_WORLD_INTERNAL_H
#define QINVAL_SIM_WORLD_INTERNAL_H

#include <setjmp.h>

#include "sim/coro.h"
#include "sim/sim.h"
#include "util/blocks.h"

/* What a CPU will do when the scheduler next lets it run. */
enum cpu_op {
    OP_START,
    OP_MMIO,
    OP_MEM,
    OP_ATOMIC,
    OP_LOCK,  /* wants `want` */
    OP_RELAX, /* one iteration of a polling loop */
    OP_SLEEP, /* idle until t */
    OP_IRQ,   /* interrupt state change */
    OP_CLOCK,
};

struct qi_platform {
    sim_world *w;
    unsigned cpu;
};

struct sim_cpu {
    unsigned id;
    struct qi_platform plat;
    sim_coro *co;
    sim_cpu_fn fn;
    void *arg;
    hw_time t; /* local clock: the earliest time its next operation can run */
    bool done;
    bool stuck; /* left by the guard */
    bool irqs_off;
    hw_time irq_off_since;
    bool in_irq;
    enum cpu_op op;
    qi_lock *want;
    uint64_t wake_by;     /* OP_RELAX deadline hint */
    uint64_t relax_epoch; /* world epoch at its previous relax */
    uint64_t relax_step;  /* world step of its previous relax */
    bool quiet;           /* its last polling iteration changed nothing */
    bool polling;         /* waiting in a polling loop: at a relax, or at a clock read or a
                             load right after a quiet relax (world.c, sim__point) */
    bool loading;         /* the point being reached is a load (qi_plat_load32) */
    bool relax_quiet;     /* nothing changed from its previous relax to the end of its last */
    uint32_t irq_pending; /* bit per enum hw_irq */
    int hotplug_ep;
    bool movers_only;       /* its step so far holds only right-movers (acquires) and local work,
                               so one acquire or conflicting operation more may fold into it
                               (platform_sim.c, may_fold); set at each point it resumes from */
    bool in_call;           /* between sim_mark_call's enter and its return */
    const void *site;       /* code address of the call of its last platform operation (its return
                               address: platform_sim.c, at_site) */
    const void *relax_site; /* site of its last relax since its driver call began, or NULL */
    const void *stuck_pc;   /* where the guard stopped it (world.c, guard_fired), or NULL */
    const void *site_hint;  /* the site its next platform operation records instead of its own
                               return address (sim_site_hint), then NULL again */
    /* local_time (local_time.c) */
    hw_time lt_base; /* its time when its step began (or when its wait ended): a step
                        may be moved later than this by at most the window */
    hw_time irq_at;  /* when the earliest pending interrupt was raised (HW_NEVER: none) */
    bool parked;     /* at a relax after a quiet iteration: runs once woken */
    bool lt_woken;   /* it was parked and is picked: its step reads its wake set */
    bool lt_waited;  /* ... and a write to that set woke it (it waited for the write) */
    bool rs_valid;   /* rs holds a whole iteration (it has relaxed before) */
    bool rs_hit;     /* another party wrote (changed) an object of rs since it was read */
    bool rs_over;    /* rs ran out of room: never quiet */
    bool lt_wrote;   /* it changed shared state in this iteration */
    uint8_t rs_n;
    hw_time rs_wake_t;    /* the latest time of a write that hit rs */
    uintptr_t rs[16];     /* objects read in its current polling iteration (its wake set) */
    unsigned cs_held;     /* locks it holds: the section ends when none is left */
    size_t csnap_regions; /* regions when its copy of driver memory was taken */
    uint8_t cs_n;         /* locks taken since the copy (0: no copy) ... */
    bool cs_over;         /* ... (more than cs_locks holds) */
    uintptr_t cs_locks[4];
};

/* local_time: an object's times (local_time.c). */
struct lt_obj {
    uintptr_t key; /* 0: empty slot */
    hw_time wt;    /* the time of its last write */
    hw_time rt;    /* the latest time of a read since then */
    hw_time busy;  /* a lock word: when the lock's current busy period began */
    hw_time rel;   /* a lock word: when it was last released */
};

struct dma_region {
    void *va;
    size_t bytes;
};

struct sim_world {
    sim_config cfg;
    hw_machine *hw;
    uint8_t *ram; /* base of simulated RAM in this process */
    sim_choose_fn choose;
    void *choose_ctx;
    sim_irq_fn irq_fn;
    void *irq_arg;

    hw_time now;
    uint64_t steps;
    uint64_t step_limit;    /* check_limits() looks at the step count again when it gets here:
                               the least of the livelock bound (progress_step + cfg.max_steps),
                               cfg.budget_steps and clock_step, of those that are set */
    uint64_t progress_step; /* the step of the workload's last progress (sim_progress) */
    uint64_t clock_step;    /* when the wall clock is read next (cfg.wall_deadline_ns) */
    int running;  /* CPU in its step, or -1 (also while the scheduler runs on a CPU's stack) */
    int last_ran; /* CPU of the last step, or -1 before the first */
    bool started;
    struct sim_cpu *next; /* picked by the scheduler on a CPU's stack, for main to resume */
    bool handoff; /* the CPU running for main's resume ended its step in reschedule() and yielded */

    uint64_t irq_cpus; /* bit i set exactly when cpu[i].irq_pending != 0: irq_sink() and
                          deliver_irqs(), the only writers of irq_pending, keep it so */

    /* change detection for time jumps */
    uint64_t epoch;
    size_t hw_seen;
    bool snap_armed; /* all CPUs waited at snap_step with the epoch at snap_epoch, and driver
                        memory was copied to snap: a round later, unchanged means quiescent */
    uint64_t snap_epoch, snap_step;
    bool unseen; /* the hardware acted or time jumped after the last CPU step: no CPU has
                    looked at the machine as it is now, so a round armed now would arm on
                    quiet flags that are out of date (try_jump) */
    uint8_t *snap;
    size_t cap_snap, snap_regions;

    struct dma_region *regions;
    size_t nregions, cap_regions;

    sim_event *ev;
    size_t nev, cap_ev;
    struct mem_block *notes;    /* owned copies of note strings, in blocks */
    struct mem_block *note_cur; /* the block being filled; those before it are done with */

    hw_time wd_next; /* no watchdog deadline of a live CPU is earlier (world.c) */

    sim_steplog *log;   /* step footprints (sim_set_steplog), or NULL */
    sim_step_fp *fp;    /* the open record of the step running, or NULL */
    uint64_t log_acts;  /* hw_acts_run() when the last step ended */
    hw_time log_now;    /* w->now when the last step ended */
    uint64_t log_jumps; /* time jumps then */
    sim_step_fp pend;   /* the hardware's memory accesses since the last step ended */

    /* local_time (local_time.c) */
    struct lt_obj *lt; /* open-addressed table of objects' times */
    size_t cap_lt, n_lt;
    uint32_t *lt_used; /* its filled slots (room for cap_lt / 2), to empty them for the next
                          world */

    bool stop;
    sim_outcome out;
    sigjmp_buf escape;    /* the guard lands here */
    const void *guard_pc; /* the instruction the guard's signal interrupted (NULL: unknown) */

    struct sim_cpu cpu[]; /* cfg.ncpus of them */
};

/* world.c */
struct sim_cpu *sim__point(qi_platform *p, enum cpu_op op);
void sim__charge(struct sim_cpu *c, hw_time cost);
/* Charge an operation that is not a scheduling point: it follows the CPU's previous
 * operation within the same step. */
static inline void sim__charge_more(struct sim_cpu *c, hw_time cost)
{
    hw_time now = c->plat.w->now;
    c->t = time_add(c->t > now ? c->t : now, cost);
}
void sim__mutated(sim_world *w);
void sim__event_record(sim_world *w, int cpu, unsigned kind, uint64_t a, uint64_t b);
/* Record a CPU event, if the world records them (cfg.cpu_events): when it does not, this is
 * one test, inlined at every call site. */
static inline void sim__event(sim_world *w, int cpu, unsigned kind, uint64_t a, uint64_t b)
{
    if (w->cfg.cpu_events)
        sim__event_record(w, cpu, kind, a, b);
}
const char *sim__note_copy(sim_world *w, const char *what);
void sim__finish(sim_world *w, enum sim_stop stop, int cpu, hw_time t, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* When the watchdog fires for a CPU with interrupts off (HW_NEVER: a watchdog so long that it
 * never does). */
static inline hw_time sim__watchdog_at(const sim_world *w, const struct sim_cpu *c)
{
    return time_add(c->irq_off_since, w->cfg.watchdog);
}

/* A CPU turns interrupts off now: the watchdog counts from here. */
static inline void sim__irqs_off(sim_world *w, struct sim_cpu *c)
{
    c->irqs_off = true;
    c->irq_off_since = w->now;
    hw_time fires = time_add(w->now, w->cfg.watchdog); /* HW_NEVER: a watchdog that never fires */
    if (fires < w->wd_next)
        w->wd_next = fires;
}

/* local_time.c */
enum lt_kind { LT_PLAIN, LT_ACQUIRE, LT_RELEASE, LT_OBSERVE };
#define LT_KEY_HW                                                                                  \
    ((uintptr_t)0x1018) /* the OS's translation tables, as the hardware reads them                 \
                         */
#define LT_KEY_IRQ   ((uintptr_t)0x1028) /* the interrupt lines */
#define LT_KEY_HWMEM ((uintptr_t)0x1038) /* RAM as the hardware wrote it, as plain C reads it */
#define LT_KEY_REG0  ((uintptr_t)0x2000) /* + 16 * offset: a register */
void sim__lt_reset(sim_world *w);
void sim__lt_free(sim_world *w);
/* The running CPU accesses `key` at w->now (a write that `changed` its value wakes pollers
 * that read it). LT_OBSERVE: a read that notes its time only (no wait, not in the read set). */
void sim__lt_cpu(sim_world *w, uintptr_t key, bool write, bool changed, enum lt_kind kind);
/* An MMIO read; an MMIO write (before it, and after it: the registers it changed); an OS
 * change to the tables; a RAM access. */
void sim__lt_mmio_read(sim_world *w, uint32_t off);
void sim__lt_mmio_write(sim_world *w, struct sim_cpu *c, uint32_t off, uint64_t val);
void sim__lt_mmio_written(sim_world *w);
void sim__lt_touch(sim_world *w, struct sim_cpu *c);
void sim__lt_ram(sim_world *w, const volatile void *addr, bool write, bool changed);
/* The hardware touched `key` at its own time. */
void sim__lt_hw(sim_world *w, uintptr_t key, bool write);
/* Run the hardware's actions due by t, each at its own time. */
void sim__lt_catch_up(sim_world *w, hw_time t);
hw_time sim__lt_ready(const sim_world *w, const struct sim_cpu *c);
struct sim_cpu *sim__lt_pick(sim_world *w);
void sim__lt_step_begin(sim_world *w, struct sim_cpu *c);
void sim__lt_step_end(sim_world *w, struct sim_cpu *c);
/* qi_plat_relax's wait: park after a quiet iteration, then start a new one. */
struct sim_cpu *sim__lt_relax(qi_platform *p);

/* world.c, for local_time.c */
static inline bool sim__blocked(const struct sim_cpu *c)
{
    return c->op == OP_LOCK && c->want && c->want->word != 0;
}
/* An interrupt is waiting and the CPU can take it now (with local_time: it was raised by the
 * CPU's time). */
static inline bool sim__irq_takeable(const struct sim_cpu *c)
{
    return c->irq_pending && !c->irqs_off && !c->in_irq &&
           (!c->plat.w->cfg.local_time || c->irq_at <= c->t);
}
void sim__revive_for_irqs(sim_world *w);
void sim__hw_step(sim_world *w, hw_time t);
void sim__proved_hang(sim_world *w, enum sim_stop stop, const char *what);
/* A copy of driver memory for CPU c; is driver memory still what c's copy holds? */
void sim__mem_copy(sim_world *w, struct sim_cpu *c);
bool sim__mem_same(const sim_world *w, const struct sim_cpu *c);
bool sim__check_steps(sim_world *w);
void sim__timeout(sim_world *w, hw_time t);
void sim__hard_lockup(sim_world *w, unsigned cpu, hw_time off);

/* guard.c */
void sim__guard_arm(sim_world *w);
void sim__guard_step_begin(void);
void sim__guard_step_end(void);
void sim__guard_disarm(void);
void sim__guard_landed(void); /* after the escape: the signal is unblocked again */

/* Footprint recording (world.c): `obj` with `write`, and flags, into the open step record. */
void sim__fp_slow(sim_world *w, uintptr_t obj, bool write, unsigned flags);
static inline void sim__fp(sim_world *w, const volatile void *obj, bool write, unsigned flags)
{
    if (__builtin_expect(w->fp != NULL, 0))
        sim__fp_slow(w, (uintptr_t)obj, write, flags);
}
/* A memory access: its SIM_FP_LINE-byte word is the object. */
static inline void sim__fp_mem(sim_world *w, const volatile void *addr, bool write)
{
    if (__builtin_expect(w->fp != NULL, 0))
        sim__fp_slow(w, (uintptr_t)addr & ~(uintptr_t)(SIM_FP_LINE - 1), write, 0);
}

#endif /* QINVAL_SIM_WORLD_INTERNAL_H */
