/*
 * run.h — one execution of the checker: a scenario and a driver are instantiated into a world
 * (hardware model with endpoints and translation tables, simulated CPUs running the workload
 * through the driver), driven to its end by a decision source, and judged by the oracles.
 *
 * Every choice an execution makes — which CPU runs next, when a fault of a range fires — goes
 * through one decision function, so the list of decisions is the execution: replaying it gives
 * the same run byte for byte, and minimising a counterexample means editing that list.
 */
#ifndef QINVAL_CHECK_RUN_H
#define QINVAL_CHECK_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check/scenario.h"
#include "drivers/driver.h"
#include "sim/sim.h"

enum chk_verdict {
    CHK_PASS,
    CHK_HARD_LOCKUP,
    CHK_HANG,
    CHK_LOST_INVALIDATION,
    CHK_STALE_DMA,
    CHK_QUEUE_CORRUPTION,
    CHK_DEADLINE_OVERRUN, /* a call of a driver that honours deadlines returned late */
    CHK_FALSE_FAILURE,
    CHK_SLOT_LEAK,
    CHK_INCOMPLETE, /* the run was cut by its caller's budget (steps, time): not judged */
    CHK_INTERNAL,   /* the run could not be set up or was aborted by the simulator */
    CHK_NVERDICTS
};

const char *chk_verdict_name(enum chk_verdict v);

/* Kinds of decisions (the strategy may treat them differently). CHK_DECIDE_SCHED_LOCAL is a
 * scheduling decision whose default CPU's next step is local (sim_cpu_next_local: a relax or
 * idle wait, touching nothing shared): running it first commutes with any other CPU's step, so
 * a partial-order-reducing strategy may take the default there without branching. */
enum chk_decision_kind { CHK_DECIDE_SCHED, CHK_DECIDE_SCHED_LOCAL, CHK_DECIDE_FAULT_TIME };

/* A decision source: returns an index in [0, n); `dflt` is the choice that adds nothing (keep
 * running the same CPU; the earliest fault time). For scheduling decisions `ids` lists the
 * candidate CPUs (NULL for fault times). */
typedef unsigned (*chk_decide_fn)(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                                  const unsigned *ids);

/* Decisions taken during a run, as indexes. */
typedef struct chk_trace {
    uint16_t *v;
    uint16_t *n;    /* how many options each decision had */
    uint16_t *dflt; /* which option was the default */
    size_t len, cap;
} chk_trace;

void chk_trace_free(chk_trace *t);

typedef struct chk_result {
    enum chk_verdict verdict;
    char why[512];       /* the oracle's words */
    char where[96];      /* where the driver is when it fails; "" for a pass */
    char trigger[48];    /* the hardware event that started it */
    sim_outcome outcome; /* how the simulation stopped */
    hw_time end;         /* virtual time at the end */
    unsigned submits, failed_submits;
} chk_result;

/* A failure's signature: "VERDICT: WHERE, after TRIGGER" (e.g. "hard_lockup: spins in
 * abort_every_other_slot (no platform point), after ITE"). WHERE names the driver function a
 * stuck CPU is in and how it is stuck ("spins in F (no platform point)", "polls in F[ with
 * interrupts off]", "waits for a lock in F[ ...]"), or the finding of another oracle without
 * CPU ids, times, slots or counts; TRIGGER is the first IOMMU error ("ITE", "IQE", "ICE") before
 * the finding, else "unanswered device-TLB invalidation", else the first fault-plan event's
 * kind, else "none". Equal signatures mean the same failure. Returns what snprintf returns. */
int chk_signature(const chk_result *r, char *buf, size_t len);
/* Same verdict, where and trigger. */
bool chk_same_signature(const chk_result *a, const chk_result *b);

/* Run once. `timeline`, if non-NULL, receives the merged timeline of the execution. The trace
 * receives every decision taken (may be NULL). */
void chk_run_once(const scenario *sc, const sim_driver_ops *drv, chk_decide_fn decide,
                  void *decide_ctx, chk_trace *trace, FILE *timeline, chk_result *res);

/* chk_run_once for a decision source that never tells CHK_DECIDE_SCHED_LOCAL from
 * CHK_DECIDE_SCHED (random, PCT): every scheduling decision is passed as CHK_DECIDE_SCHED,
 * without looking at the default CPU's next step (sim_cpu_next_local) first. The kind is all
 * that differs, so such a source decides, and the trace records, exactly what chk_run_once
 * would give. */
void chk__run_once_plain(const scenario *sc, const sim_driver_ops *drv, chk_decide_fn decide,
                         void *decide_ctx, chk_trace *trace, chk_result *res);

/* A step budget for the executions this thread runs from now on (0: none). An execution that
 * spends it is cut: CHK_INCOMPLETE ("the caller's budget ran out"), never a verdict the
 * oracles gave: counterexample minimisation uses it so that a candidate which would run far
 * longer than the failing execution is simply not taken. */
void chk__set_step_budget(uint64_t steps);
/* Runs on this thread use per-CPU clocks (sim_config.local_time), until set off again: the
 * unbounded search and the replays of what it finds. */
void chk__set_local_time(bool on);
bool chk__local_time(void);

/* Record the footprint of every step of the executions this thread runs from now on into
 * `log` (sim_set_steplog; NULL: none): the dpor strategy reads them. */
void chk__set_steplog(sim_steplog *log);

/* The time budget: a wall-clock deadline for the executions this thread runs from now on, in
 * seconds of chk_now() (0: none). An execution still running then is cut, within a few
 * milliseconds: CHK_INCOMPLETE, not judged (a run that is cut is incomplete, not a hang).
 * chk_explore sets it from chk_options.seconds; a caller may set one around other runs (the
 * replays that render a counterexample). */
void chk_set_deadline(double t);
double chk_deadline(void);
/* Seconds on CLOCK_MONOTONIC, the clock of the deadline. */
double chk_now(void);
/* A deadline is set and has passed. */
bool chk_deadline_passed(void);

/* Someone who reads a finished run's records (a report writer): called after the oracles,
 * with the world (CPU events, hardware log) still there. */
typedef struct chk_observer {
    void (*fn)(void *ctx, const sim_world *w, const chk_result *res);
    void *ctx;
} chk_observer;

/* chk_run_once, then `obs` (may be NULL) sees the run. */
void chk_run_observed(const scenario *sc, const sim_driver_ops *drv, chk_decide_fn decide,
                      void *decide_ctx, chk_trace *trace, FILE *timeline, const chk_observer *obs,
                      chk_result *res);

#endif /* QINVAL_CHECK_RUN_H */
