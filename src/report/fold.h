/*
 * fold.h — folding a text timeline for people: a polling loop that went round a million times
 * is shown once, then one line saying how often and until when it repeated, then its last
 * round. Lines are compared without their timestamps and with any number matching any other, so
 * "the same events at later times, on the next slot" fold. Deterministic: the same timeline gives
 * the same bytes.
 */
#ifndef QINVAL_REPORT_FOLD_H
#define QINVAL_REPORT_FOLD_H

#include <stddef.h>
#include <stdio.h>

/* Copy `text` (lines ending in '\n', each "  agent  [cpu]  SECONDS: event", see timeline.h,
 * or "  SECONDS  agent  event") to `out`, folding every
 * block of up to 64 lines that repeats 3 or more times in a row. Returns the number of lines
 * written. */
size_t rep_fold_timeline(const char *text, size_t len, FILE *out);

#endif /* QINVAL_REPORT_FOLD_H */
