/*
 * timeline.h — the text timeline of one run, in the columns of ftrace's text output: who did
 * it (a CPU, the IOMMU, an endpoint), on which CPU, the virtual time in seconds, and what
 * happened. Deterministic: the same run gives the same bytes.
 *
 *     #    AGENT  CPU        TIMESTAMP  EVENT
 *     #      |     |             |        |
 *           cpu0  [000]     0.000000780: IQT <- 0x30
 *          iommu  [---]     0.000000800: fetch slot 0: iotlb
 */
#ifndef QINVAL_REPORT_TIMELINE_H
#define QINVAL_REPORT_TIMELINE_H

#include <stdio.h>

#include "report/stream.h"
#include "sim/sim.h"

/* The two comment lines naming the columns. */
void rep_timeline_header(FILE *out);
/* One line; cpu < 0 prints "[---]". */
void rep_timeline_line(FILE *out, hw_time t, const char *agent, int cpu, const char *what);
/* Every event of the run, one line each. Returns false if `stop` (may be NULL) ended it early:
 * the timeline written is then unfinished. */
bool rep_timeline_write(FILE *out, const sim_world *w, rep_stop_fn stop);

#endif /* QINVAL_REPORT_TIMELINE_H */
