/*
 * dpor.h — unbounded exhaustive search with dynamic partial-order reduction: the `dfs`
 * strategy with `--bound none`. Every scheduling decision may branch (no bound on how many
 * are not the default); the branches taken are those the races of the executions already run
 * call for (persistent backtracking after Flanagan and Godefroid, POPL 2005), pruned by sleep
 * sets (Godefroid), over the dependencies the simulation records for each step
 * (sim_step_fp). The search ends when no node has a branch left: every interleaving, up to
 * reordering independent steps, has been run.
 */
#ifndef QINVAL_CHECK_DPOR_H
#define QINVAL_CHECK_DPOR_H

#include <stdbool.h>
#include <stdint.h>

#include "check/run.h"

typedef struct chk_dpor chk_dpor;

struct chk_dpor_stats {
    uint64_t blocked;  /* executions whose new part began where every candidate was asleep:
                          run to their end, they add nothing (sleep-set blocked) */
    uint64_t races;    /* reversible races found */
    uint64_t nodes;    /* deepest decision stack seen */
    uint64_t mismatch; /* replays that did not see the decisions recorded (nondeterminism) */
};

chk_dpor *chk_dpor_new(void);
void chk_dpor_free(chk_dpor *d);

/* Before each run (and before each repeat of a run): replay from the first decision; the step
 * log the run records into is cleared. */
void chk_dpor_begin(chk_dpor *d);
sim_steplog *chk_dpor_log(chk_dpor *d);
/* The decision source of the runs (a chk_decide_fn; ctx is the chk_dpor). */
unsigned chk_dpor_decide(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                         const unsigned *ids);
/* After a run: finds its races, adds the branches they call for, and sets up the next run.
 * Returns false when the search is over (nothing left to run). */
bool chk_dpor_next(chk_dpor *d);
/* Strict: no two steps of different CPUs are taken as independent, so every interleaving is
 * run (no reduction) and nothing is assumed of time or memory; call before the first run. */
void chk_dpor_set_strict(chk_dpor *d, bool strict);
/* Split the search into n shards of which this one is shard i (0 <= i < n): see dpor.c. Call
 * before the first run. */
void chk_dpor_shard(chk_dpor *d, unsigned i, unsigned n);
/* Whether the execution just run belongs to this shard: one that does not is another
 * shard's to judge and count. */
bool chk_dpor_owned(chk_dpor *d);
/* The fraction of the tree known so far that has been covered, in [0, 1]. */
double chk_dpor_coverage(const chk_dpor *d);
const struct chk_dpor_stats *chk_dpor_stats(const chk_dpor *d);

#endif /* QINVAL_CHECK_DPOR_H */
