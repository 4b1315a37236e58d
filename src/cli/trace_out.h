/*
 * trace_out.h — the --trace FILE option of `check` and `replay`: the file is opened before any
 * work (an unwritable path is a usage error), then one execution is replayed and written to it
 * as a Chrome trace (src/report/trace.c).
 */
#ifndef QINVAL_CLI_TRACE_OUT_H
#define QINVAL_CLI_TRACE_OUT_H

#include <stdio.h>

#include "check/explore.h"

/* Open `path` for writing. On failure prints one line naming the problem, prefixed by `cmd`,
 * and returns NULL. */
FILE *cli_trace_open(const char *cmd, const char *path);

/* Replay `picks` on sc with drv, write the run to f and close f.
 * Returns 0, -1 after printing one line if writing failed, or -2 after printing one line if
 * the time budget (chk_deadline) cut the replay: then nothing is written (a trace of part of
 * an execution would look like all of it). */
int cli_trace_write(const char *cmd, FILE *f, const char *path, const scenario *sc,
                    const sim_driver_ops *drv, const struct chk_pick *picks, size_t npicks,
                    const char *title);

#endif /* QINVAL_CLI_TRACE_OUT_H */
