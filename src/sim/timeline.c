/*
 * timeline.c — the merged timeline of a run: the CPUs' own events (locks, interrupt state,
 * notes from the driver) interleaved with the hardware's event log, in the order they happened,
 * one line each, ftrace style: "   1.000000350  cpu0   ITE seen; walking the ring".
 */
#include <inttypes.h>
#include <stdio.h>

#include <qinval/vtd_format.h>

#include "sim/world_internal.h"

static void sim_line(const sim_event *e, FILE *out)
{
    char who[16];
    if (e->cpu >= 0)
        snprintf(who, sizeof(who), "cpu%d", e->cpu);
    else
        snprintf(who, sizeof(who), "sim");
    fprintf(out, "%4" PRIu64 ".%09" PRIu64 "  %-6s ", (uint64_t)(e->t / HW_S),
            (uint64_t)(e->t % HW_S), who);
    switch (e->kind) {
    case SIM_EV_NOTE:
        fprintf(out, "%s", e->text);
        if (e->a || e->b)
            fprintf(out, " (%" PRIu64 ", %" PRIu64 ")", e->a, e->b);
        break;
    case SIM_EV_LOCK:
        fprintf(out, "lock taken%s", e->b ? ", irqs off" : "");
        break;
    case SIM_EV_UNLOCK:
        fprintf(out, "lock released");
        break;
    case SIM_EV_IRQ_OFF:
        fprintf(out, "interrupts off");
        break;
    case SIM_EV_IRQ_ON:
        fprintf(out, "interrupts on");
        break;
    case SIM_EV_IRQ_ENTRY:
        fprintf(out, "interrupt: %s",
                e->a == HW_IRQ_FAULT        ? "fault event"
                : e->a == HW_IRQ_COMPLETION ? "completion event"
                                            : "hot-plug");
        break;
    case SIM_EV_STORE:
        fprintf(out, "store 0x%" PRIx64 " <- 0x%" PRIx64, e->a, e->b);
        break;
    case SIM_EV_JUMP:
        fprintf(out, "all CPUs waiting: time jumps %.9f -> %.9f", (double)e->a / HW_S,
                (double)e->b / HW_S);
        break;
    }
    fputc('\n', out);
}

void sim_timeline_dump(const sim_world *w, FILE *out)
{
    size_t nhw;
    const hw_event *hev = hw_events(w->hw, &nhw);
    size_t k = 0;
    char line[320];
    for (size_t i = 0; i <= nhw; i++) {
        while (k < w->nev && w->ev[k].hwpos <= i)
            sim_line(&w->ev[k++], out);
        if (i < nhw) {
            hw_event_format(w->hw, &hev[i], line, sizeof(line));
            fprintf(out, "%s\n", line);
        }
    }
}
