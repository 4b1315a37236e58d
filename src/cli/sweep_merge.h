/* sweep_merge.h — `qinval merge` on the JSON results of `qinval sweep --shard I/N`. */
#ifndef QINVAL_CLI_SWEEP_MERGE_H
#define QINVAL_CLI_SWEEP_MERGE_H

#include "check/sweep.h"
#include "cli/json.h"
#include "cli/sweep_out.h"

/* The shards read and put together (strings of id point into the trees). */
struct sweep_merged {
    chk_sweep s;
    struct sw_identity id;
    const char **settings, **sets;
};

/* Check that roots[0..n) are the shards of one sweep and rebuild it, finished. 0, or the exit
 * status after one line on stderr. The trees stay the caller's; sweep_merged_free frees m. */
int sweep_merge_load(json_value *const *roots, const char *const *paths, unsigned n,
                     struct sweep_merged *m);
void sweep_merged_free(struct sweep_merged *m);

/* Merge the parsed shards roots[0..n) (read from paths[], "-" for standard input; the trees
 * are freed) and print the report in `format`; `save`: where the counterexamples go (as for
 * sweep --save). Returns the exit status. */
int sweep_merge(json_value **roots, const char *const *paths, unsigned n, const char *format,
                const char *save);

#endif
