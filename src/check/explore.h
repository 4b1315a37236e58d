/*
 * explore.h — exploring a scenario × driver: run executions under a strategy (seeded random,
 * PCT, bounded exhaustive DFS, or a replayed decision list) until a violation, the execution
 * budget or the time budget; minimise a violation (src/check/minimise.c: smaller scenario, then
 * fewest non-default decisions); report what was covered.
 */
#ifndef QINVAL_CHECK_EXPLORE_H
#define QINVAL_CHECK_EXPLORE_H

#include "check/run.h"

enum chk_strategy { CHK_STRAT_RANDOM, CHK_STRAT_PCT, CHK_STRAT_DFS, CHK_STRAT_REPLAY };

const char *chk_strategy_name(enum chk_strategy s);
int chk_strategy_parse(const char *name, enum chk_strategy *out);

/* One decision override of a replay: at the pos-th decision take option v. */
struct chk_pick {
    uint32_t pos;
    uint16_t v;
};

/* Where an exploration stands, for a progress display. */
struct chk_progress {
    uint64_t executions;       /* run so far by this process */
    uint64_t execution_budget; /* this process's budget */
    double elapsed_s;
    double time_budget_s; /* 0: none */
    double coverage;      /* DFS: fraction of the bounded space covered, in [0, 1]; < 0 unknown */
    bool final;           /* the last call: exploration is over */
};

typedef struct chk_options {
    enum chk_strategy strategy;
    uint64_t seed;
    uint64_t executions;       /* budget; 0: the strategy's default */
    double seconds;            /* time budget: exploration and minimisation end by then (an
                                  execution still running is cut, not judged); 0: none */
    unsigned shard_i, shard_n; /* this process explores executions e with e % n == i */
    uint64_t first;            /* random, pct: start at execution `first` (+ shard_i) */
    unsigned pct_depth;        /* PCT bug depth d (default 3) */
    unsigned dfs_bound;        /* DFS: most non-default decisions per execution (default 2);
                                  CHK_BOUND_NONE: every interleaving, with dynamic partial-order
                                  reduction (src/check/dpor.c) */
    bool reduce_local;         /* DFS: do not branch where the default CPU's next step is local
                                  (a relax, an idle wait, a clock read): fewer executions, but
                                  not sound with timed hardware (docs/checker.md); off by default */
    bool dpor_strict;          /* --bound none: take no two steps of different CPUs as
                                  independent (nothing assumed of time; no reduction) */
    bool local_time;           /* --bound none --time-model local: per-CPU clocks
                                  (src/sim/local_time.c; experimental, docs/checker.md) */
    bool minimise;             /* default true */
    /* Called at most every 0.5 s while exploring, and once with final set at the end. */
    void (*on_progress)(void *ctx, const struct chk_progress *p);
    void *progress_ctx;
    /* replay */
    const struct chk_pick *picks;
    size_t npicks;
} chk_options;

void chk_options_default(chk_options *o);

#define CHK_BOUND_NONE 0xffffffffu

#define CHK_MAX_REDUCTIONS 3
#define CHK_REDUCTION_LEN  (2 * SC_NAME_LEN + 2)

typedef struct chk_report {
    enum chk_verdict verdict;
    uint64_t executions;        /* run by this process */
    uint64_t failing_execution; /* index of the first failing execution */
    double seconds;
    bool cut;               /* the time budget cut an execution: it was not judged, nor counted
                               in `executions`. With none counted, verdict is CHK_INCOMPLETE */
    bool complete;          /* DFS: the bounded space was covered completely */
    double coverage;        /* DFS: estimated fraction of the bounded space covered (by this
                               shard and the subtrees it left to others) */
    chk_result result;      /* of the (minimised) counterexample, or of the last execution
                               (the one cut, if one was) */
    struct chk_pick *picks; /* the counterexample's decisions (non-default only) */
    size_t npicks;
    uint64_t decisions; /* decisions in the counterexample execution */
    /* Scenario reductions minimisation kept ("cpus=1", "drop_faults=0", "ops_limit=2,*"): the
     * counterexample is the scenario with these extra --set keys, loaded in `reduced` (owned;
     * NULL when there are none). */
    char reductions[CHK_MAX_REDUCTIONS][CHK_REDUCTION_LEN];
    unsigned nreductions;
    scenario *reduced;
    uint64_t minimise_runs; /* executions spent minimising */
    /* bound none: the search's own figures */
    uint64_t dpor_blocked, dpor_races, dpor_nodes, dpor_mismatch;
    uint64_t dpor_pruned; /* runs whose order of steps contradicted their times (not counted) */
    bool local_time;      /* the runs used per-CPU clocks (sim_config.local_time): so must a
                             replay of the counterexample */
} chk_report;

void chk_report_free(chk_report *r);

/* Explore until a violation or a budget. Returns 0, or -1 on an internal error. */
int chk_explore(const scenario *sc, const sim_driver_ops *drv, const chk_options *o,
                chk_report *rep);

/* Re-run a decision list (the counterexample) and print its timeline. */
void chk_replay(const scenario *sc, const sim_driver_ops *drv, const struct chk_pick *picks,
                size_t npicks, FILE *timeline, chk_result *res);
/* The same, and `obs` (may be NULL) sees the replayed run (report writers: src/report/). */
void chk_replay_observed(const scenario *sc, const sim_driver_ops *drv,
                         const struct chk_pick *picks, size_t npicks, FILE *timeline,
                         const chk_observer *obs, chk_result *res);

/* Re-run a decision list without output and count its picks that do not fit the execution
 * (an option the decision does not have, or a position it never reached): a schedule from
 * another scenario, version or hand-edited file. Such picks are taken as the default, as
 * every replay does; *res is the run's result. */
size_t chk_replay_misfits(const scenario *sc, const sim_driver_ops *drv,
                          const struct chk_pick *picks, size_t npicks, chk_result *res);

#endif /* QINVAL_CHECK_EXPLORE_H */
