/*
 * log.c — the hardware event log: one ordered array of hw_event records (see hw.h for the
 * meaning of each field per kind), and its rendering as timeline lines of the form
 * "  1.000000350  iommu   ITE sid=01:00.0 itag=0".
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <qinval/vtd_format.h>

#include "hw/hw_internal.h"
#include "util/grow.h"

static const char *const kind_names[HW_EV_COUNT] = {
    [HW_EV_MMIO_READ] = "mmio_read",
    [HW_EV_MMIO_WRITE] = "mmio_write",
    [HW_EV_MMIO_BAD] = "mmio_bad",
    [HW_EV_SW_VIOLATION] = "sw_violation",
    [HW_EV_GCMD] = "gcmd",
    [HW_EV_QI_ENABLE] = "qi_enable",
    [HW_EV_QI_DISABLE] = "qi_disable",
    [HW_EV_TAIL] = "tail",
    [HW_EV_FETCH] = "fetch",
    [HW_EV_HEAD] = "head",
    [HW_EV_EXEC_START] = "exec_start",
    [HW_EV_EXEC_DONE] = "exec_done",
    [HW_EV_WAIT_DONE] = "wait_done",
    [HW_EV_STATUS_WRITE] = "status_write",
    [HW_EV_WAIT_ABORT] = "wait_abort",
    [HW_EV_DISCARD] = "discard",
    [HW_EV_IQE] = "iqe",
    [HW_EV_ITE] = "ite",
    [HW_EV_ICE] = "ice",
    [HW_EV_ERR_CLEAR] = "err_clear",
    [HW_EV_IRQ] = "irq",
    [HW_EV_ATS_REQ] = "ats_req",
    [HW_EV_ATS_LOST] = "ats_lost",
    [HW_EV_ATS_ANSWER] = "ats_answer",
    [HW_EV_ATS_CPL] = "ats_cpl",
    [HW_EV_ATC_FILL] = "atc_fill",
    [HW_EV_CC_INVAL] = "cc_inval",
    [HW_EV_IOTLB_INVAL] = "iotlb_inval",
    [HW_EV_TRANSLATE] = "translate",
    [HW_EV_DMA] = "dma",
    [HW_EV_LINK] = "link",
    [HW_EV_HOTPLUG] = "hotplug",
    [HW_EV_FLR_START] = "flr_start",
    [HW_EV_FLR_DONE] = "flr_done",
    [HW_EV_FAULT_INJECT] = "fault_inject",
};

const char *hw_event_kind_name(unsigned kind)
{
    return kind < HW_EV_COUNT && kind_names[kind] ? kind_names[kind] : "unknown";
}

/* Out of line and cold: hw_log_add() is inlined at every event of the model, and the
 * reallocation it rarely needs would otherwise tie up registers at each of them. */
__attribute__((noinline, cold)) void hw_log_grow(hw_machine *m)
{
    GROW(m->log, m->nlog, m->cap_log, 256);
}

const hw_event *hw_events(const hw_machine *m, size_t *count)
{
    if (count)
        *count = m->nlog;
    return m->log;
}

size_t hw_count_events(const hw_machine *m, unsigned kind)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nlog; i++)
        n += m->log[i].kind == kind;
    return n;
}

static const char *fault_name(unsigned f)
{
    static const char *const names[] = {"mute",      "unmute",     "drop",
                                        "link-down", "link-up",    "surprise-removal",
                                        "flr",       "wrong-itag", "latency"};
    return f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

static const char *lost_name(unsigned why)
{
    static const char *const names[] = {"?",       "no endpoint", "link down",   "muted",
                                        "dropped", "during FLR",  "ATS disabled"};
    return why < sizeof(names) / sizeof(names[0]) ? names[why] : "?";
}

static const char *dma_status_name(unsigned s)
{
    static const char *const names[] = {"ok", "fault", "blocked", "no-link", "bad-address"};
    return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static const char *violation_name(unsigned v)
{
    static const char *const names[] = {"?",
                                        "GCMD changed several control bits",
                                        "IQA written while QI enabled",
                                        "QI disabled with work pending",
                                        "QI enabled with IQT != 0",
                                        "tail moved back over pending descriptors",
                                        "device-TLB invalidation with translation off",
                                        ("slot rewritten after the tail published it, before "
                                         "the hardware fetched it")};
    return v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static const char *mmio_bad_name(unsigned v)
{
    static const char *const names[] = {"?",           "reserved offset",    "misaligned",
                                        "wrong width", "read-only register", "reserved bits set"};
    return v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static const char *link_name(unsigned l)
{
    return l == HW_LINK_UP ? "up" : l == HW_LINK_DOWN ? "down (silent)" : "removed";
}

/* "IQT", "IQT+4" for the upper half of a 64-bit register, or "0x0f4" for no register. */
static const char *reg_label(uint32_t off, char *buf, size_t n)
{
    const char *name = vtd_reg_name(off);
    if (name)
        return name;
    name = off >= 4 ? vtd_reg_name(off - 4) : NULL;
    if (name)
        snprintf(buf, n, "%s+4", name);
    else
        snprintf(buf, n, "0x%03x", off);
    return buf;
}

int hw_event_describe(const hw_machine *m, const hw_event *e, char *b, size_t n)
{
    char sid[8], regbuf[16];
    const char *reg = reg_label((uint32_t)e->a, regbuf, sizeof(regbuf));
    switch (e->kind) {
    case HW_EV_MMIO_READ:
        return snprintf(b, n, "read%u %s -> 0x%" PRIx64, e->c * 8, reg, e->b);
    case HW_EV_MMIO_WRITE:
        return snprintf(b, n, "%s <- 0x%" PRIx64, reg, e->b);
    case HW_EV_MMIO_BAD:
        return snprintf(b, n, "bad MMIO %s at 0x%" PRIx64 " (%u bytes, value 0x%" PRIx64 ")",
                        mmio_bad_name(e->flags), e->a, e->c, e->b);
    case HW_EV_SW_VIOLATION:
        return snprintf(b, n, "software protocol violation: %s", violation_name(e->c));
    case HW_EV_GCMD:
        return snprintf(b, n, "GCMD 0x%08" PRIx64 " applied, GSTS 0x%08" PRIx64, e->a, e->b);
    case HW_EV_QI_ENABLE:
        return snprintf(b, n, "QI enabled: base 0x%" PRIx64 ", %" PRIu64 " entries of %u bytes",
                        (uint64_t)(e->a & VTD_IQA_ADDR_MASK), e->b, e->c);
    case HW_EV_QI_DISABLE:
        return snprintf(b, n, "QI disabled, IQH=0");
    case HW_EV_TAIL:
        return snprintf(b, n, "IQT -> %d (was %" PRIu64 ")", e->slot, e->a);
    case HW_EV_FETCH:
        return snprintf(b, n, "fetch slot %d: %s", e->slot, vtd_desc_type_name((unsigned)e->a));
    case HW_EV_HEAD:
        return snprintf(b, n, "IQH -> %d", e->slot);
    case HW_EV_EXEC_START:
        if (e->a == VTD_DESC_DEVTLB || e->a == VTD_DESC_PDEVTLB)
            return snprintf(b, n, "start slot %d: %s itag %u", e->slot,
                            vtd_desc_type_name((unsigned)e->a), e->c);
        return snprintf(b, n, "start slot %d: %s", e->slot, vtd_desc_type_name((unsigned)e->a));
    case HW_EV_EXEC_DONE:
        return snprintf(b, n, "done slot %d: %s%s", e->slot, vtd_desc_type_name((unsigned)e->a),
                        e->flags & HW_EVF_TIMEDOUT ? " (timed out, not executed)" : "");
    case HW_EV_WAIT_DONE:
        return snprintf(
            b, n, "wait@%d complete%s%s%s", e->slot, e->flags & HW_EVF_WAIT_SW ? " sw" : "",
            e->flags & HW_EVF_WAIT_IF ? " if" : "", e->flags & HW_EVF_WAIT_FN ? " fn" : "");
    case HW_EV_STATUS_WRITE:
        return snprintf(b, n, "status write 0x%" PRIx64 " -> [0x%" PRIx64 "] owner %u%s%s", e->b,
                        e->a, e->c, e->flags & HW_EVF_STRAY ? " STRAY (page free)" : "",
                        e->flags & HW_EVF_BADADDR ? " DROPPED (outside memory)" : "");
    case HW_EV_WAIT_ABORT:
        return snprintf(b, n, "wait@%d aborted (no status write)", e->slot);
    case HW_EV_DISCARD:
        return snprintf(b, n, "slot %d %s dropped, never executed", e->slot,
                        vtd_desc_type_name((unsigned)e->a));
    case HW_EV_IQE:
        return snprintf(b, n, "IQE at slot %d: IQEI %u (%s); fetching stopped", e->slot, e->c,
                        vtd_iqei_name(e->c));
    case HW_EV_ITE:
        return snprintf(b, n, "ITE sid=%s itag %u; waits aborted; fetching stopped",
                        vtd_sid_format((uint16_t)e->a, sid), e->c);
    case HW_EV_ICE:
        return snprintf(b, n, "ICE sid=%s itag vector 0x%" PRIx64,
                        vtd_sid_format((uint16_t)e->a, sid), e->b);
    case HW_EV_ERR_CLEAR:
        return snprintf(b, n, "FSTS cleared:%s%s%s%s", e->a & VTD_FSTS_IQE ? " IQE" : "",
                        e->a & VTD_FSTS_ICE ? " ICE" : "", e->a & VTD_FSTS_ITE ? " ITE" : "",
                        e->a & VTD_FSTS_PFO ? " PFO" : "");
    case HW_EV_IRQ:
        return snprintf(b, n, "%s interrupt %s",
                        e->c == HW_IRQ_FAULT        ? "fault-event"
                        : e->c == HW_IRQ_COMPLETION ? "completion-event"
                                                    : "hot-plug",
                        e->flags & HW_EVF_HELD ? "pending (masked)" : "sent");
    case HW_EV_ATS_REQ:
        return snprintf(b, n, "ATS invalidate -> ep%d itag %u [0x%" PRIx64 " +0x%" PRIx64 "]",
                        e->ep, e->c, e->a, e->b);
    case HW_EV_ATS_LOST:
        return snprintf(b, n, "invalidate itag %u lost: %s", e->c, lost_name(e->flags));
    case HW_EV_ATS_ANSWER:
        return snprintf(b, n, "ATC invalidated (%u entries), completion itag %u sent", e->flags,
                        e->c);
    case HW_EV_ATS_CPL:
        return snprintf(b, n, "completion from %s itag %u (slot %d)",
                        vtd_sid_format((uint16_t)e->a, sid), e->c, e->slot);
    case HW_EV_ATC_FILL:
        return snprintf(b, n, "ATC fill 0x%" PRIx64 " -> 0x%" PRIx64, e->a, e->b);
    case HW_EV_CC_INVAL:
        return snprintf(b, n, "context cache: %u entries dropped", e->c);
    case HW_EV_IOTLB_INVAL:
        return snprintf(b, n, "IOTLB: %u entries dropped", e->c);
    case HW_EV_TRANSLATE:
        return snprintf(b, n, "translate 0x%" PRIx64 " -> 0x%" PRIx64 " %s", e->a, e->b,
                        dma_status_name(e->c));
    case HW_EV_DMA:
        return snprintf(b, n, "DMA %s 0x%" PRIx64 " -> 0x%" PRIx64 " %s%s owner %u%s",
                        e->flags & HW_EVF_WRITE ? "write" : "read", e->a, e->b,
                        dma_status_name(e->c2), e->flags & HW_EVF_ATC ? " via ATC" : "", e->c,
                        e->flags & HW_EVF_FREED ? " FREED PAGE" : "");
    case HW_EV_LINK:
        return snprintf(b, n, "link %s", link_name(e->c));
    case HW_EV_HOTPLUG:
        return snprintf(b, n, "hot-plug event (presence detect changed)");
    case HW_EV_FLR_START:
        return snprintf(b, n, "FLR started: ATC emptied");
    case HW_EV_FLR_DONE:
        return snprintf(b, n, "FLR complete");
    case HW_EV_FAULT_INJECT:
        return snprintf(b, n, "fault plan: %s (%" PRIu64 ")", fault_name(e->c), e->a);
    }
    (void)m;
    return snprintf(b, n, "event %u", e->kind);
}

const char *hw_event_agent(const hw_event *e, char *buf, size_t n)
{
    switch (e->kind) {
    case HW_EV_MMIO_READ:
    case HW_EV_MMIO_WRITE:
    case HW_EV_MMIO_BAD:
    case HW_EV_SW_VIOLATION:
        if (e->c2) {
            snprintf(buf, n, "cpu%u", e->c2 - 1);
            return buf;
        }
        return "sw";
    case HW_EV_ATS_LOST:
    case HW_EV_ATS_ANSWER:
    case HW_EV_ATC_FILL:
    case HW_EV_DMA:
    case HW_EV_LINK:
    case HW_EV_HOTPLUG:
    case HW_EV_FLR_START:
    case HW_EV_FLR_DONE:
    case HW_EV_FAULT_INJECT:
    case HW_EV_TRANSLATE:
        if (e->ep >= 0) {
            snprintf(buf, n, "ep%d", e->ep);
            return buf;
        }
        return "fabric";
    default:
        return "iommu";
    }
}

int hw_event_format(const hw_machine *m, const hw_event *e, char *buf, size_t len)
{
    char who[16], what[200];
    hw_event_describe(m, e, what, sizeof(what));
    return snprintf(buf, len, "%4" PRIu64 ".%09" PRIu64 "  %-6s %s", (uint64_t)(e->t / HW_S),
                    (uint64_t)(e->t % HW_S), hw_event_agent(e, who, sizeof(who)), what);
}

void hw_log_dump(const hw_machine *m, FILE *out, size_t from)
{
    char line[300];
    for (size_t i = from; i < m->nlog; i++) {
        hw_event_format(m, &m->log[i], line, sizeof(line));
        fprintf(out, "%s\n", line);
    }
}
