/*
 * minimise.h — shrinking a failing execution into a counterexample a person can read: first
 * the scenario (fewer CPUs, fewer faults, shorter workloads, each a --set reduction that a
 * replay applies again), then the schedule (delta debugging over the non-default decisions).
 * Internal to src/check: explore.c calls it on the first violation it finds.
 */
#ifndef QINVAL_CHECK_MINIMISE_H
#define QINVAL_CHECK_MINIMISE_H

#include "check/explore.h"

/* One run of an execution into *res, for chk__confirmed: every run with the same ctx makes the
 * same decisions. */
typedef void (*chk_run_fn)(void *ctx, chk_result *res);
/* Run it, and repeat it while the step guard cut it until two runs agree on the step cut (or
 * one is not cut): *res is then the execution's result (explore.c explains why). */
void chk__confirmed(chk_run_fn run, void *ctx, chk_result *res);

/* Run execution number `e` of a random or PCT exploration seeded by `seed` (the same execution
 * the exploration loop runs for that index), confirmed. Defined in explore.c. */
void chk__run_seeded(const scenario *sc, const sim_driver_ops *drv, enum chk_strategy strategy,
                     uint64_t seed, uint64_t e, unsigned pct_depth, chk_trace *trace,
                     chk_result *res);

/* Non-default decisions of a trace, as replay picks (malloc'd; *out never NULL). */
size_t chk__picks_from_trace(const chk_trace *t, struct chk_pick **out);

/* Shrink the violation in rep (verdict, picks of an execution of sc): on return rep holds the
 * reduced scenario (rep->reduced, or NULL if no reduction held), the reductions as "KEY=VALUE"
 * strings, the minimised picks and the result of replaying them. Never loses the bug: every
 * step is kept only if a replay still gives the same signature (chk_same_signature: verdict,
 * where, trigger). For a verdict of the oracles (not CHK_INTERNAL), when o asks for
 * minimisation: otherwise the failing run is the counterexample as it stands (chk_explore). */
void chk__minimise(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                   chk_report *rep);

#endif /* QINVAL_CHECK_MINIMISE_H */
