/*
 * timeline.c — the text timeline of one run, ftrace-style columns (see timeline.h).
 */
#include <inttypes.h>

#include "report/stream.h"
#include "report/timeline.h"

void rep_timeline_header(FILE *out)
{
    fputs("#    AGENT  CPU        TIMESTAMP  EVENT\n"
          "#      |     |             |        |\n",
          out);
}

void rep_timeline_line(FILE *out, hw_time t, const char *agent, int cpu, const char *what)
{
    char cpucol[8];
    if (cpu >= 0)
        snprintf(cpucol, sizeof(cpucol), "%03d", cpu % 1000);
    else
        snprintf(cpucol, sizeof(cpucol), "---");
    fprintf(out, "%10s  [%s] %6" PRIu64 ".%09" PRIu64 ": %s\n", agent, cpucol, (uint64_t)(t / HW_S),
            (uint64_t)(t % HW_S), what);
}

bool rep_timeline_write(FILE *out, const sim_world *w, rep_stop_fn stop)
{
    rep_stream s;
    struct rep_item it;
    rep_stream_init(&s, w, stop);
    while (rep_stream_next(&s, &it))
        rep_timeline_line(out, it.t, it.agent, it.cpu, it.what);
    return !s.stopped;
}
