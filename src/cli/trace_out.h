/*
 * trace_out.h — the --trace FILE option of `check` and `replay`: whether the file can be
 * written is checked before any work (an unwritable path is a usage error; nothing is created
 * or truncated then), and once the run is known it is replayed and written as a Chrome trace
 * (src/report/trace.c), complete or not at all (src/util/atomic_file.h).
 */
#ifndef QINVAL_CLI_TRACE_OUT_H
#define QINVAL_CLI_TRACE_OUT_H

#include "check/explore.h"

/* Whether `path` can be written. 0, or -1 after one line on stderr naming the problem,
 * prefixed by `cmd`. */
int cli_trace_check(const char *cmd, const char *path);

/* Replay `picks` on sc with drv and write the run to `path`.
 * Returns 0, -1 after printing one line if writing failed (the file is then as it was), or -2
 * after printing one line if the time budget (chk_deadline) cut the replay: then nothing is
 * written (a trace of part of an execution would look like all of it). */
int cli_trace_write(const char *cmd, const char *path, const scenario *sc,
                    const sim_driver_ops *drv, const struct chk_pick *picks, size_t npicks,
                    const char *title);

#endif /* QINVAL_CLI_TRACE_OUT_H */
