/*
 * sim.h — the deterministic simulation: N simulated CPUs, each a coroutine running ordinary C
 * driver code, against one hardware model, in virtual time. CPUs switch only at platform
 * points (include/qinval/platform.h: MMIO, lock, interrupt state, atomics, shared loads and
 * stores, relax, clock). At every such point the scheduler asks a strategy which CPU goes next,
 * so a run is a pure function of the configuration and the strategy's answers.
 *
 * Time: each CPU has a local clock advanced by the cost of its operations; the hardware clock
 * is the global "now" and never goes back. When every CPU is only polling and nothing changed
 * during a whole round, time jumps to the next timed event (hardware action, a CPU's relax
 * deadline, a watchdog deadline). If there is none, the run is a proved hang.
 *
 * The world also watches: interrupts-off time per CPU against the watchdog (hard lockup), the
 * virtual-time bound (hang), and a CPU-time guard around each CPU step that catches driver
 * loops with no platform point at all.
 */
#ifndef QINVAL_SIM_H
#define QINVAL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qinval/platform.h>

#include "hw/hw.h"

#define SIM_MAX_CPUS 64

/* The largest virtual-time bound a run may have: 10^9 s (about 32 years). It keeps the clock far
 * below HW_NEVER, so that a time the run can reach plus any configured time either fits or
 * saturates to HW_NEVER ("never", util/sat_time.h), and "the bound passed" is always seen. */
#define SIM_MAX_VIRTUAL (1000000000ull * HW_S)

/* How often (in steps) a run with a wall-clock deadline reads the clock: a step takes well
 * under a microsecond, so a run is cut within a few milliseconds of its deadline. */
#define SIM_CLOCK_STEPS 4096u

typedef struct sim_world sim_world;

/* Virtual cost of each kind of platform operation. */
struct sim_costs {
    hw_time mmio_read, mmio_write, lock, atomic, mem, relax, clock, irq_entry;
};

typedef struct sim_config {
    unsigned ncpus;
    hw_time watchdog;    /* interrupts off longer than this is a hard lockup; default 10 s */
    hw_time max_virtual; /* virtual-time bound of a run (hang); default 600 s, at most
                            SIM_MAX_VIRTUAL */
    hw_time window;      /* CPUs whose next operation is due within `window` of the earliest are
                            all candidates of a choice; default 1 us */
    struct sim_costs cost;
    unsigned irq_cpu;          /* CPU that takes fault, completion and hot-plug interrupts */
    unsigned step_guard_ms;    /* CPU time one CPU step may take before it counts as a loop
                                  with no platform point; default 5 ms
                                  (20 ms in unoptimised and sanitizer builds) */
    size_t stack_bytes;        /* coroutine stack per CPU; default 256 KiB */
    uint64_t max_steps;        /* scheduling choices since the workload last made progress
                                  (sim_progress(); since the start for a workload that never says)
                                  before the run counts as a livelock (hang); default 10 million */
    uint64_t budget_steps;     /* if set, a run stops after this many steps with SIM_STOP_CUT: a
                                  caller's budget (minimisation), not a verdict; default 0 */
    uint64_t wall_deadline_ns; /* if set, a run still going at this CLOCK_MONOTONIC time (ns)
                                  stops with SIM_STOP_CUT: the caller's time budget (--time),
                                  looked at every SIM_CLOCK_STEPS steps; default 0 */
    bool mem_points;           /* plain shared loads and stores (qi_plat_load32/store32) are
                                  scheduling points too; default off (docs/checker.md) */
    bool local_time;           /* per-CPU clocks (src/sim/local_time.c): a CPU's step runs at its
                                  own time, not after every step already run; clocks meet only
                                  where steps touch the same thing. For the unbounded search;
                                  default off */
    bool cpu_events;           /* record the CPU-side event log (sim_events: locks, interrupts,
                                  calls, notes); default on. Off, nothing is recorded and note
                                  strings are not copied: for runs whose timeline nobody reads.
                                  The run itself (outcome, steps, hardware log) is the same. */
} sim_config;

void sim_config_default(sim_config *c);

/* A choice: which of the candidate CPUs runs its next operation. `cands` lists CPU ids in
 * increasing order; the function returns an index into it. `step` counts choices so far. */
typedef unsigned (*sim_choose_fn)(void *ctx, const sim_world *w, const unsigned *cands, unsigned n,
                                  uint64_t step);

/* What a CPU does: its whole life as a function, run in its coroutine. */
typedef void (*sim_cpu_fn)(sim_world *w, unsigned cpu, void *arg);

/* Interrupt routing: called on the receiving CPU (interrupts off, in its context). */
typedef void (*sim_irq_fn)(sim_world *w, unsigned cpu, enum hw_irq irq, int ep, void *arg);

sim_world *sim_create(const sim_config *cfg, hw_machine *hw, const char **err);
void sim_destroy(sim_world *w);
hw_machine *sim_hw(const sim_world *w);
const sim_config *sim_get_config(const sim_world *w);

void sim_set_cpu(sim_world *w, unsigned cpu, sim_cpu_fn fn, void *arg);
void sim_set_irq_handler(sim_world *w, sim_irq_fn fn, void *arg);
void sim_set_chooser(sim_world *w, sim_choose_fn fn, void *ctx);

/* The platform handle of a CPU (valid inside and outside its coroutine). */
qi_platform *sim_platform(sim_world *w, unsigned cpu);
/* From a platform handle back to the world and the CPU id. */
sim_world *sim_platform_world(qi_platform *p);
unsigned sim_platform_cpu(qi_platform *p);

/* Memory the IOMMU can see (simulated RAM, owner `SIM_OWNER_DRIVER`), zeroed; aborts the run
 * with an internal error if RAM is exhausted. qi_plat_virt_to_phys() maps it back. */
#define SIM_OWNER_DRIVER 1u
void *sim_dma_alloc(qi_platform *p, size_t bytes);

/* The current virtual time (no scheduling point: for bookkeeping outside driver code). With
 * local_time, the running CPU's own time. */
hw_time sim_now(const sim_world *w);
/* With local_time: the time at which CPU `cpu` would run if picked now (HW_NEVER: it cannot
 * run); without, its local clock. For a decision source's default (earliest first). */
hw_time sim_ready_at(const sim_world *w, unsigned cpu);
/* Whether the world runs with per-CPU clocks (sim_config.local_time). */
bool sim_local_time(const sim_world *w);
/* A scheduling point at which the CPU changes shared state outside the platform calls (an OS
 * action such as editing a page table): counts as a change for time-jump detection. */
void sim_touch(qi_platform *p);
/* A CPU waits `dt` of virtual time doing nothing (interrupts as they are). A platform point. */
void sim_cpu_sleep(qi_platform *p, hw_time dt);
/* Record a CPU-level event in the timeline (a scheduling point is not implied). */
void sim_note(qi_platform *p, const char *what, uint64_t a, uint64_t b);
/* The CPU's workload made progress: it finished one of its operations. A livelock is
 * cfg.max_steps scheduling steps with no progress (a workload that never calls this counts its
 * steps from the start). */
void sim_progress(qi_platform *p);
/* Record that the CPU enters a driver call (`enter`, v = descriptors it submits) or returns
 * from it (v = its result, a negative errno value or 0): reports draw the call as a slice. */
void sim_mark_call(qi_platform *p, bool enter, int64_t v);

/* Where a CPU is in the code it runs, for naming the place of a failure (a signature,
 * src/check/oracle.c). The simulation records, at every platform operation, the address the
 * operation was called from, and when the guard stops a CPU, the instruction it interrupted
 * (x86-64 and aarch64; elsewhere stuck_pc stays NULL). */
typedef struct sim_cpu_site {
    const void *pc;       /* return address of its last platform operation's call, or NULL */
    const void *relax_pc; /* that of its last relax in its current driver call, or NULL */
    const void *stuck_pc; /* the instruction the guard interrupted (stuck), or NULL */
    bool in_call;         /* inside a driver call (sim_mark_call) */
    bool stuck;           /* stopped by the guard: it looped with no platform point */
    bool lock_wait;       /* parked at a lock acquire, waiting for the lock */
    bool polling;         /* parked in a polling loop (at a relax, or a read right after one) */
    bool irqs_off;
} sim_cpu_site;

void sim_cpu_where(const sim_world *w, unsigned cpu, sim_cpu_site *out);
/* For a host function that calls the platform on behalf of other code (the kernel harness's
 * host functions, src/drivers/kernel_drv.c): the CPU's next platform operation records `site`
 * (the host function's own return address) instead of its own call site. */
void sim_site_hint(qi_platform *p, const void *site);

enum sim_stop {
    SIM_STOP_DONE,        /* every CPU finished its function */
    SIM_STOP_HARD_LOCKUP, /* a CPU kept interrupts off longer than the watchdog */
    SIM_STOP_HANG,        /* proved: nothing can change and nothing is pending */
    SIM_STOP_TIMEOUT,     /* the virtual-time bound passed */
    SIM_STOP_DEADLOCK,    /* every live CPU waits for a lock */
    SIM_STOP_LOOP,        /* a CPU step ran past the guard without a platform point */
    SIM_STOP_ABORT,       /* the run was stopped by sim_abort() (e.g. an oracle) */
    SIM_STOP_CUT,         /* the caller's budget (budget_steps, wall_deadline_ns) ran out: the
                             run is incomplete, its outcome unknown; not a verdict */
    SIM_STOP_INFEASIBLE,  /* local_time: the order of the run's steps contradicts their times
                             (local_time.c): no behaviour of the machine; not a verdict */
};

typedef struct sim_outcome {
    enum sim_stop stop;
    int cpu;         /* the CPU concerned, or -1 */
    bool irqs_off;   /* that CPU had interrupts disabled */
    hw_time t;       /* virtual time of the verdict */
    uint64_t steps;  /* scheduling choices made */
    uint64_t jumps;  /* times virtual time jumped because every CPU waited */
    uint64_t rounds; /* quiescence rounds armed (each copies driver memory to compare) */
    bool guard;      /* decided by the step guard (CPU time), not by virtual time */
    char why[256];
} sim_outcome;

/* Run until every CPU is done or a stop condition. Call once per world. */
void sim_run(sim_world *w, sim_outcome *out);
/* Stop the run from inside (an oracle that saw enough, a driver asserting). */
void sim_abort(sim_world *w, const char *why);
const char *sim_stop_name(enum sim_stop s);

/* CPU-level timeline events, interleaved with the hardware log by `hwpos` (the hardware log
 * length when the event happened). */
enum sim_ev {
    SIM_EV_NOTE, /* text from sim_note */
    SIM_EV_LOCK, /* a = lock address; b = 1 if interrupts were turned off with it */
    SIM_EV_UNLOCK,
    SIM_EV_IRQ_OFF,
    SIM_EV_IRQ_ON,
    SIM_EV_IRQ_ENTRY, /* a = enum hw_irq, b = endpoint */
    SIM_EV_STORE,     /* a = phys address (or 0), b = value */
    SIM_EV_JUMP,      /* time jumped: a = from, b = to */
    SIM_EV_CALL,      /* a driver call begins: a = descriptors submitted */
    SIM_EV_RETURN,    /* it returns: a = its result (int64_t: 0 or a negative errno) */
};

typedef struct sim_event {
    hw_time t;
    size_t hwpos;
    uint16_t kind;
    int16_t cpu;
    uint64_t a, b;
    const char *text; /* SIM_EV_NOTE: static or world-owned string */
} sim_event;

/* The world's CPU events (none if its config has cpu_events off). */
const sim_event *sim_events(const sim_world *w, size_t *n);
/* An event in words ("lock taken, irqs off"), and its agent ("cpu0", or "sim" for the
 * scheduler itself). The merged timeline of a run is written by src/report/. */
int sim_event_describe(const sim_event *e, char *buf, size_t n);
const char *sim_event_agent(const sim_event *e, char *buf, size_t n);

/*
 * Step footprints, for the partial-order reduction of unbounded search (src/check/dpor.c). A
 * step is one CPU running from one platform point to the next; its footprint is what it
 * touched that another CPU's step could also touch, with the hardware's own actions counted
 * in the step whose scheduling let them run (they ran at the time that step reached):
 *  - objects, read or written: lock words (an acquire and a release write them) and memory,
 *    in 4-byte words, reached through the platform (qi_plat_load32/store32, atomics) or by
 *    the hardware itself (a descriptor fetched, a status word written, DMA);
 *  - SIM_FP_HW: the remapping unit's state was written: an MMIO write, a timed action of the
 *    hardware (a time-out, an answer, a fetch), an interrupt taken, an OS change to the
 *    translation tables (sim_touch); SIM_FP_HWREAD: a register was read;
 *  - SIM_FP_CLOCK: virtual time moved forward from the previous step to this one; `delayed`
 *    names the other CPUs that were due before the new time (or all, when time jumped): their
 *    next steps now run later than they would have, which is a change of their state (a
 *    deadline, a time-out, the hardware's timing as they see it), so this step and each of
 *    those CPUs' next steps are dependent;
 *  - SIM_FP_WILD: more distinct objects than a record holds (dependent on everything).
 * Memory a driver reads or writes with plain C, not through the platform, is not seen: the
 * reduction assumes such memory is private or accessed under a lock (docs/checker.md).
 */
#define SIM_FP_HW     1u
#define SIM_FP_HWREAD 2u
#define SIM_FP_CLOCK  4u
#define SIM_FP_WILD   8u
#define SIM_FP_HWSTEP 16u /* local_time: the hardware's own step (sim_config.local_time) */
#define SIM_FP_MAX    48  /* objects per step record */
/* local_time: the hardware's schedule, as an object of footprints. An MMIO write (or an OS
 * change to the tables) writes it: it can schedule hardware actions. The hardware's own step
 * reads it: which actions it runs depends on what was scheduled. A constant no object of memory
 * has (simulated RAM lies far above it). */
#define SIM_FP_OBJ_HWCLK ((uintptr_t)0x1008)
#define SIM_FP_LINE                                                                                \
    4 /* bytes of memory one object stands for: the platform's accesses are                        \
         4-byte words, and a wider object would make waiters of neighbouring                       \
         status words, or a record's fields, conflict for nothing */

typedef struct sim_step_fp {
    int16_t cpu;
    uint8_t flags;
    uint8_t nobj;
    uint64_t delayed;          /* bit per CPU delayed by this step's move of time */
    hw_time t;                 /* local_time: when the step began (the hardware's: its time) */
    hw_time latest_before;     /* local_time: a step dependent on this one and begun later than
                                  this can never run before it (the window; HW_NEVER if the step
                                  waited, for a lock or as a parked poller) */
    uintptr_t obj[SIM_FP_MAX]; /* address | 1 when written */
} sim_step_fp;

typedef struct sim_steplog {
    sim_step_fp *v;
    size_t n, cap;
} sim_steplog;

/* Record every step's footprint into `log` (appended; NULL: none, the default). */
void sim_set_steplog(sim_world *w, sim_steplog *log);
void sim_steplog_free(sim_steplog *log);
/* Whether the order of two steps can matter: steps of one CPU; steps that write what the
 * other reads or writes (an object, the hardware); a step that delays the other's CPU. */
bool sim_fp_dependent(const sim_step_fp *a, const sim_step_fp *b);

/* Inspect a CPU. */
hw_time sim_cpu_time(const sim_world *w, unsigned cpu);
/* Whether the CPU's next step is local: a relax, an idle wait or a clock read with no
 * interrupt to take, so it reads and writes nothing shared before its next platform point (the
 * partial-order reduction of the dfs strategy relies on this; a clock read sees only virtual
 * time, which the reduction may shift by less than the candidate window, as it does for a
 * relax). */
bool sim_cpu_next_local(const sim_world *w, unsigned cpu);
/* The CPU that ran the last step (-1 before the first): "keep running the same CPU". */
int sim_last_ran(const sim_world *w);
bool sim_cpu_irqs_off(const sim_world *w, unsigned cpu);

#endif /* QINVAL_SIM_H */
