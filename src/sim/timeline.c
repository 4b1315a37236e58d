/*
 * timeline.c — the words for the CPUs' own timeline events (locks, interrupt state, driver
 * calls, notes from the driver). The merged timeline of a run (these interleaved with the
 * hardware's event log) is written by src/report/timeline.c (text) and src/report/trace.c
 * (Chrome trace JSON).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qinval/vtd_format.h>

#include "sim/world_internal.h"

static const char *irq_name(uint64_t irq)
{
    return irq == HW_IRQ_FAULT        ? "fault event"
           : irq == HW_IRQ_COMPLETION ? "completion event"
                                      : "hot-plug";
}

static const char *errno_name(int64_t rc)
{
    switch (rc) {
    case 0:
        return "ok";
    case -5:
        return "-EIO";
    case -11:
        return "-EAGAIN";
    case -16:
        return "-EBUSY";
    case -19:
        return "-ENODEV";
    case -22:
        return "-EINVAL";
    case -110:
        return "-ETIMEDOUT";
    default:
        return "error";
    }
}

int sim_event_describe(const sim_event *e, char *b, size_t n)
{
    switch (e->kind) {
    case SIM_EV_NOTE:
        if (e->a || e->b)
            return snprintf(b, n, "%s (%" PRIu64 ", %" PRIu64 ")", e->text, e->a, e->b);
        return snprintf(b, n, "%s", e->text);
    case SIM_EV_LOCK:
        return snprintf(b, n, "lock taken%s", e->b ? ", irqs off" : "");
    case SIM_EV_UNLOCK:
        return snprintf(b, n, "lock released");
    case SIM_EV_IRQ_OFF:
        return snprintf(b, n, "interrupts off");
    case SIM_EV_IRQ_ON:
        return snprintf(b, n, "interrupts on");
    case SIM_EV_IRQ_ENTRY:
        return snprintf(b, n, "interrupt: %s", irq_name(e->a));
    case SIM_EV_STORE:
        return snprintf(b, n, "store 0x%" PRIx64 " <- 0x%" PRIx64, e->a, e->b);
    case SIM_EV_JUMP:
        return snprintf(b, n, "all CPUs waiting: time jumps %.9f -> %.9f", (double)e->a / HW_S,
                        (double)e->b / HW_S);
    case SIM_EV_CALL:
        return snprintf(b, n, "submit: %" PRIu64 " descriptor%s", e->a, e->a == 1 ? "" : "s");
    case SIM_EV_RETURN:
        return snprintf(b, n, "submit returned %" PRId64 " (%s)", (int64_t)e->a,
                        errno_name((int64_t)e->a));
    }
    return snprintf(b, n, "event %u", e->kind);
}

const char *sim_event_agent(const sim_event *e, char *buf, size_t n)
{
    if (e->cpu < 0)
        return "sim";
    snprintf(buf, n, "cpu%d", e->cpu);
    return buf;
}
