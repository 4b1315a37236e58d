/*
 * progress.h — the progress line of `qinval check`: explore.c reports where an exploration
 * stands (struct chk_progress) through chk_options.on_progress; this formats it as one line
 * (executions, rate, elapsed, ETA, DFS coverage when known) and draws it in place on a
 * terminal, clearing it when the exploration ends so the result starts on a clean line.
 */
#ifndef QINVAL_CLI_PROGRESS_H
#define QINVAL_CLI_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#include "check/explore.h"

/* Seconds until the first budget runs out (executions at the current rate, the time budget,
 * or the rest of the DFS space at the current coverage rate); negative when unknown. */
double cli_progress_eta(const struct chk_progress *p);

/* One line, without carriage return or newline, e.g.
 * "1200/5000 executions, 2400/s, 0.5 s elapsed, ETA 1.6 s, 12.0% of the dfs space". */
void cli_progress_format(const struct chk_progress *p, char *buf, size_t len);

/* The on_progress callback; ctx is a struct cli_progress_line. */
struct cli_progress_line {
    FILE *out;
    size_t width; /* of the line on screen, to blank it */
};
void cli_progress_draw(void *ctx, const struct chk_progress *p);

#endif /* QINVAL_CLI_PROGRESS_H */
