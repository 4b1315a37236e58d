/*
 * stream.h — the merged event stream of one run: the simulated CPUs' events and the hardware's
 * event log, interleaved in the order they happened, each item with its agent and its words.
 * Every report of a single execution (the text timeline, the Chrome trace) reads this.
 */
#ifndef QINVAL_REPORT_STREAM_H
#define QINVAL_REPORT_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/sim.h"

struct rep_item {
    hw_time t;
    const sim_event *sim; /* exactly one of sim and hw is set */
    const hw_event *hw;
    int cpu;        /* the simulated CPU it belongs to, or -1 */
    char agent[16]; /* "cpu0", "iommu", "ep1", "fabric", "sw", "sim" */
    char what[320]; /* the event in words */
};

/* Asked now and then while a report is written (every REP_STOP_ITEMS items): true ends the
 * report early, unfinished (the checker's time budget has run out). */
typedef bool (*rep_stop_fn)(void);
#define REP_STOP_ITEMS 4096u

typedef struct rep_stream {
    const hw_machine *hw;
    const sim_event *sev;
    size_t nsev, k;
    const hw_event *hev;
    size_t nhw, i;
    rep_stop_fn stop; /* may be NULL: never */
    bool stopped;     /* stop() said so: the stream ended early */
} rep_stream;

void rep_stream_init(rep_stream *s, const sim_world *w, rep_stop_fn stop);
/* The next item, or false at the end (or when stop() said so: then s->stopped). */
bool rep_stream_next(rep_stream *s, struct rep_item *it);

#endif /* QINVAL_REPORT_STREAM_H */
