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

typedef struct rep_stream {
    const hw_machine *hw;
    const sim_event *sev;
    size_t nsev, k;
    const hw_event *hev;
    size_t nhw, i;
} rep_stream;

void rep_stream_init(rep_stream *s, const sim_world *w);
/* The next item, or false at the end. */
bool rep_stream_next(rep_stream *s, struct rep_item *it);

#endif /* QINVAL_REPORT_STREAM_H */
