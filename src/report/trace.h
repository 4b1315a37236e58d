/*
 * trace.h — one run as a Chrome trace event JSON file, the format Perfetto (ui.perfetto.dev)
 * and chrome://tracing open. Read from the structured records of the run (the CPUs' events and
 * the hardware log), so every span is exact:
 *
 *   process "cpuN"    threads "submit calls", "lock held", "interrupts off" (complete slices,
 *                     "X"), "events" (register accesses, driver notes, interrupts: instants)
 *   process "iommu"   thread "queue" (tail, fetch, head), "execute" (one async slice per
 *                     descriptor from start to done), "errors" (ITE, IQE, ICE, aborts, clears,
 *                     interrupts); counters "ring occupancy" and "outstanding device-TLB
 *                     invalidations"
 *   process "epN"     threads "ATS" (requests in flight as async slices, answers, losses,
 *                     completions), "link" (a slice per link state), "DMA", "events"
 *   process "checker" the verdict: a global instant event carrying the oracle's words
 *
 * Timestamps are microseconds of virtual time (nanosecond precision: three decimals).
 */
#ifndef QINVAL_REPORT_TRACE_H
#define QINVAL_REPORT_TRACE_H

#include <stdio.h>

#include "report/stream.h"
#include "sim/sim.h"

struct rep_trace_info {
    const char *title;   /* "legacy-odd / ite-even-batch" */
    const char *verdict; /* "pass", "hard_lockup", ... */
    const char *why;     /* the oracle's words */
    hw_time verdict_t;   /* when the oracle's verdict holds */
    hw_time end;         /* virtual time at the end of the run */
    rep_stop_fn stop;    /* may be NULL; true ends the writing early (rep_trace_write: -2) */
};

/* Write the whole file. Returns 0, -1 if writing failed or memory ran out, or -2 if
 * info->stop ended it before anything was written. */
int rep_trace_write(FILE *out, const sim_world *w, const struct rep_trace_info *info);

#endif /* QINVAL_REPORT_TRACE_H */
