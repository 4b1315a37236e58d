/* sweep_merge.h — `qinval merge` on the JSON results of `qinval sweep --shard I/N`. */
#ifndef QINVAL_CLI_SWEEP_MERGE_H
#define QINVAL_CLI_SWEEP_MERGE_H

#include "cli/json.h"

/* Merge the parsed shards roots[0..n) (read from paths[], "-" for standard input; the trees
 * are freed) and print the report in `format`; `save`: where the counterexamples go (as for
 * sweep --save). Returns the exit status. */
int sweep_merge(json_value **roots, const char *const *paths, unsigned n, const char *format,
                const char *save);

#endif
