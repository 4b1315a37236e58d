/*
 * sweep.h — `qinval sweep`: every distinct failure of a driver, found by itself. Each scenario
 * is explored across its parameter space (its [sweep] domains, scenario.h): the catalog's own
 * point first, then a pairwise covering design over the domains (src/check/cover.c), then
 * random points. At each point a random exploration runs without stopping at the first
 * violation; violations are grouped into failures by their signature (chk_signature: the
 * oracle, where the driver was, the hardware event that started it). A failure keeps its first
 * occurrence (in the order scenario, point, execution), minimised, as its counterexample, how
 * many executions showed it, and the points where it appeared; the region those points span
 * is described by src/check/region.c when the sweep is finished.
 *
 * Determinism: a point's exploration depends on the point alone (its values, the seed, the
 * budget per point), never on what other points found, so shard I of N (the points p with
 * p % N == I) finds at its points exactly what one process finds there, and merging shards
 * (chk_sweep_add + chk_sweep_finish) gives the report one process gives.
 *
 * Budget: `executions` (if not 0) is shared evenly by the points planned; without it each point
 * has SW_DEFAULT_POINT_EXECUTIONS, and the catalog's own point of each scenario
 * SW_CATALOG_POINT_EXECUTIONS (what `qinval check` gives a cell), so that a sweep finds there at
 * least what check finds. The budget adapts to what a point finds: a point that shows
 * a failure gets its share once more to look for others behind it; a point whose executions
 * keep failing the same way (SW_REPEATS in a row) stops early. `seconds` ends the sweep: points
 * not reached are left out of the report, which says it is incomplete.
 */
#ifndef QINVAL_CHECK_SWEEP_H
#define QINVAL_CHECK_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/explore.h"

#define SW_DEFAULT_POINT_EXECUTIONS 40
#define SW_CATALOG_POINT_EXECUTIONS 1000 /* the catalog's own point, by default: check's budget */
#define SW_DEFAULT_RANDOM_POINTS    8
#define SW_REPEATS                  3

/* One parameter point a sweep ran (or planned and found the scenario refused). */
struct chk_sw_point {
    unsigned scen;  /* index into chk_sweep.scen */
    unsigned index; /* the point's number in its scenario's plan (0: the catalog's own) */
    char **values;  /* the scenario's nfactors values */
    uint64_t executions;
    char *rejected; /* the loader's message if the scenario refused this combination */
    unsigned nfails;
    unsigned *fails;  /* failures seen here (indexes into chk_sweep.fail), in order found */
    uint64_t *counts; /* how many of its executions showed each */
};

/* Where a failure was seen in one scenario. */
struct chk_sw_seen {
    unsigned scen;
    uint64_t count; /* executions that showed it there */
    unsigned points;
    char region[512];
};

/* A distinct failure. */
struct chk_sw_failure {
    char signature[256], oracle[24], where[96], trigger[48], why[512];
    unsigned scen, point; /* its first occurrence: scenario, point index, execution index */
    uint64_t execution;
    uint64_t count; /* executions that showed it, over every scenario */
    /* the counterexample: the scenario with these --set keys (point values, then
     * minimisation's reductions), replaying these decisions */
    unsigned nsets;
    char **sets;
    struct chk_pick *picks;
    size_t npicks;
    uint64_t virtual_ns;
    bool minimised;
    unsigned nseen; /* set by chk_sweep_finish: the scenario of the counterexample first */
    struct chk_sw_seen *seen;
};

#define SW_SCENARIO_LEN 256 /* a catalog name, or a scenario file's absolute path */

struct chk_sw_scen {
    char name[SW_SCENARIO_LEN];
    unsigned nfactors;
    char (*keys)[SC_NAME_LEN];
    unsigned planned; /* points in its plan */
};

typedef struct chk_sweep {
    uint64_t seed, per_point;
    unsigned shard_i, shard_n;
    unsigned nscen;
    struct chk_sw_scen *scen;
    size_t npoints, points_cap;
    struct chk_sw_point *points;
    unsigned nfail, fail_cap;
    struct chk_sw_failure *fail;
    uint64_t executions;
    unsigned planned;  /* points planned, over all scenarios and shards */
    unsigned rejected; /* points the scenario refused */
    double seconds;
    bool cut; /* the time budget ended it before every point of this shard ran */
} chk_sweep;

/* Load scenario `name` with the --set keys sets[0..n) (the user's, then the point's). 0, or -1
 * with a one-line message in err. */
typedef int (*chk_sw_load_fn)(void *ctx, const char *name, const char *const *sets, unsigned n,
                              scenario *out, char *err, size_t errlen);

typedef struct chk_sweep_options {
    uint64_t seed;
    uint64_t executions; /* 0: SW_DEFAULT_POINT_EXECUTIONS per point */
    double seconds;      /* 0: none */
    unsigned shard_i, shard_n;
    unsigned random_points;
    const char *const *user_sets; /* the user's --set keys: pinned, never varied */
    unsigned nuser;
    chk_sw_load_fn load;
    void *load_ctx;
    void (*on_progress)(void *ctx, const struct chk_progress *p);
    void *progress_ctx;
} chk_sweep_options;

void chk_sweep_options_default(chk_sweep_options *o);

/* Sweep driver drv over the scenarios names[0..n). Returns 0; or -1 with a one-line message in
 * err when a domain value is refused by its scenario on its own (bad input: nothing ran). */
int chk_sweep_run(const char *const *names, unsigned n, const sim_driver_ops *drv,
                  const chk_sweep_options *o, chk_sweep *out, char *err, size_t errlen);

/* Building a sweep from parts (a merge of shard results): an empty sweep, then its scenarios,
 * points and failures; chk_sweep_finish orders the failures and describes their regions. */
void chk_sweep_init(chk_sweep *s);
unsigned chk_sweep_add_scenario(chk_sweep *s, const char *name, unsigned nfactors,
                                const char *const *keys, unsigned planned);
struct chk_sw_point *chk_sweep_add_point(chk_sweep *s, unsigned scen, unsigned index,
                                         const char *const *values);
/* The failure with this signature (a new one, zeroed but for its signature, if none). */
unsigned chk_sweep_failure(chk_sweep *s, const char *signature, bool *is_new);
/* Point p showed the failure in n more executions. */
void chk_sweep_point_saw(struct chk_sw_point *p, unsigned failure, uint64_t n);
void chk_sweep_set_ce(struct chk_sw_failure *f, const char *const *sets, unsigned nsets,
                      const struct chk_pick *picks, size_t npicks);
/* Sort the points (scenario, index), order the failures by first occurrence, renumber, and
 * describe where each was seen. Call once, after the last point. */
void chk_sweep_finish(chk_sweep *s);
void chk_sweep_free(chk_sweep *s);

#endif /* QINVAL_CHECK_SWEEP_H */
