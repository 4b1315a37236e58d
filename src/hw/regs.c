/*
 * regs.c — the register file of the remapping unit as software sees it through MMIO: access
 * rules (width, alignment, reserved offsets), read-only and write-1-to-clear fields, the GCMD
 * command handshake, and the fault-event and completion-event interrupt logic (spec 7.3 and
 * 6.5.2.10). Writes that change the queue (IQT, FSTS clears) hand over to queue.c.
 */
#include <string.h>

#include "hw/hw_internal.h"

enum reg_kind { R_NONE, R32, R64 };

/* The registers modelled, by width. */
#define REGS32(X)                                                                                  \
    X(VTD_REG_VER)                                                                                 \
    X(VTD_REG_GCMD)                                                                                \
    X(VTD_REG_GSTS)                                                                                \
    X(VTD_REG_FSTS)                                                                                \
    X(VTD_REG_FECTL)                                                                               \
    X(VTD_REG_FEDATA)                                                                              \
    X(VTD_REG_FEADDR)                                                                              \
    X(VTD_REG_FEUADDR)                                                                             \
    X(VTD_REG_ICS)                                                                                 \
    X(VTD_REG_IECTL)                                                                               \
    X(VTD_REG_IEDATA)                                                                              \
    X(VTD_REG_IEADDR)                                                                              \
    X(VTD_REG_IEUADDR)
#define REGS64(X)                                                                                  \
    X(VTD_REG_CAP)                                                                                 \
    X(VTD_REG_ECAP)                                                                                \
    X(VTD_REG_RTADDR)                                                                              \
    X(VTD_REG_IQH)                                                                                 \
    X(VTD_REG_IQT)                                                                                 \
    X(VTD_REG_IQA)                                                                                 \
    X(VTD_REG_IQERCD)                                                                              \
    X(VTD_REG_IRTA)

/* What each dword of the register file is: a 32-bit register, the low or the high half of a
 * 64-bit one, or nothing (D_NONE, also every dword past the table). A dword named twice would
 * be an initializer overridden, which -Wextra reports. */
enum dword_kind { D_NONE, D_R32, D_LO, D_HI };
#define DWORD_R32(off) [(off) / 4] = D_R32,
#define DWORD_R64(off) [(off) / 4] = D_LO, [(off) / 4 + 1] = D_HI,
static const uint8_t dword_kinds[] = {REGS32(DWORD_R32) REGS64(DWORD_R64)};

static enum dword_kind dword_kind(uint32_t off)
{
    return off / 4 < sizeof(dword_kinds) ? (enum dword_kind)dword_kinds[off / 4] : D_NONE;
}

/* The register at off: R32, R64 (off is its low dword), or R_NONE (off names no register). */
static enum reg_kind reg_kind(uint32_t off)
{
    if (off % 4)
        return R_NONE;
    switch (dword_kind(off)) {
    case D_R32:
        return R32;
    case D_LO:
        return R64;
    default:
        return R_NONE;
    }
}

void hw_regs_reset(hw_machine *m)
{
    memset(&m->r, 0, sizeof(m->r));
    m->r.fectl = (uint32_t)VTD_ECTL_IM;
    m->r.iectl = (uint32_t)VTD_ECTL_IM;
}

static void log_bad(hw_machine *m, uint32_t off, uint64_t val, unsigned size, unsigned why)
{
    hw_event *e = hw_log_add(m, HW_EV_MMIO_BAD, -1, -1);
    e->a = off;
    e->b = val;
    e->c = size;
    e->flags = why;
    e->c2 = m->actor;
}

static void violation(hw_machine *m, unsigned what, uint64_t a, uint64_t b)
{
    hw_event *e = hw_log_add(m, HW_EV_SW_VIOLATION, -1, -1);
    e->c = what;
    e->a = a;
    e->b = b;
    e->c2 = m->actor;
}

/* ---- interrupts leaving the unit ---- */

void hw_send_irq(hw_machine *m, enum hw_irq irq, int ep)
{
    hw_event *e = hw_log_add(m, HW_EV_IRQ, ep, -1);
    e->c = irq;
    if (irq == HW_IRQ_FAULT) {
        e->a = m->r.fedata;
        e->b = m->r.feaddr | (uint64_t)m->r.feuaddr << 32;
    } else if (irq == HW_IRQ_COMPLETION) {
        e->a = m->r.iedata;
        e->b = m->r.ieaddr | (uint64_t)m->r.ieuaddr << 32;
    }
    if (m->irq_fn)
        m->irq_fn(m->irq_ctx, irq, ep);
}

static void log_held(hw_machine *m, enum hw_irq irq)
{
    hw_event *e = hw_log_add(m, HW_EV_IRQ, -1, -1);
    e->c = irq;
    e->flags = HW_EVF_HELD;
}

void hw_set_irq_sink(hw_machine *m, hw_irq_fn fn, void *ctx)
{
    m->irq_fn = fn;
    m->irq_ctx = ctx;
}

/* Spec 7.3: a new error raises an interrupt only if no status bit was already set. PPF is
 * always 0 here: primary fault recording is not modelled. */
void hw_raise_error(hw_machine *m, uint32_t bit)
{
    uint32_t prior = m->r.fsts & (VTD_FSTS_PFO | VTD_FSTS_ERRORS | VTD_FSTS_PPF);
    m->r.fsts |= bit;
    if (prior)
        return;
    m->r.fectl |= (uint32_t)VTD_ECTL_IP;
    if (m->r.fectl & VTD_ECTL_IM) {
        log_held(m, HW_IRQ_FAULT);
        return;
    }
    m->r.fectl &= ~(uint32_t)VTD_ECTL_IP;
    hw_send_irq(m, HW_IRQ_FAULT, -1);
}

/* Spec 6.5.2.10: completion of a wait with IF. */
void hw_completion_event(hw_machine *m)
{
    if (m->r.ics & VTD_ICS_IWC)
        return;
    m->r.ics |= VTD_ICS_IWC;
    m->r.iectl |= (uint32_t)VTD_ECTL_IP;
    if (m->r.iectl & VTD_ECTL_IM) {
        log_held(m, HW_IRQ_COMPLETION);
        return;
    }
    m->r.iectl &= ~(uint32_t)VTD_ECTL_IP;
    hw_send_irq(m, HW_IRQ_COMPLETION, -1);
}

/* FECTL / IECTL: only IM is writable; clearing IM with IP set delivers the held interrupt. */
static void write_ectl(hw_machine *m, uint32_t *reg, uint32_t val, enum hw_irq irq)
{
    *reg = (*reg & (uint32_t)VTD_ECTL_IP) | (val & (uint32_t)VTD_ECTL_IM);
    if (!(*reg & VTD_ECTL_IM) && (*reg & VTD_ECTL_IP)) {
        *reg &= ~(uint32_t)VTD_ECTL_IP;
        hw_send_irq(m, irq, -1);
    }
}

static void write_fsts(hw_machine *m, uint32_t val)
{
    uint32_t clear = val & m->r.fsts & VTD_FSTS_RW1C;
    if (clear) {
        m->r.fsts &= ~clear;
        hw_event *e = hw_log_add(m, HW_EV_ERR_CLEAR, -1, -1);
        e->a = clear;
    }
    if (!(m->r.fsts & (VTD_FSTS_PFO | VTD_FSTS_ERRORS | VTD_FSTS_PPF)))
        m->r.fectl &= ~(uint32_t)VTD_ECTL_IP;
    if (clear & (VTD_FSTS_IQE | VTD_FSTS_ITE)) {
        qi_errors_cleared(m);
        qi_kick(m); /* fetching resumes at IQH */
    }
}

static void write_ics(hw_machine *m, uint32_t val)
{
    if (val & m->r.ics & VTD_ICS_IWC) {
        m->r.ics &= ~VTD_ICS_IWC;
        m->r.iectl &= ~(uint32_t)VTD_ECTL_IP;
    }
}

/* ---- GCMD: one control bit per write, applied gcmd_latency later ---- */

#define GCMD_PERSISTENT (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI)
#define GCMD_ONESHOT    (VTD_GCMD_SRTP | VTD_GCMD_SFL | VTD_GCMD_WBF | VTD_GCMD_SIRTP)

static void write_gcmd(hw_machine *m, uint32_t val)
{
    uint32_t changed =
        (uint32_t)((val ^ m->r.gsts) & GCMD_PERSISTENT) | (uint32_t)(val & GCMD_ONESHOT);
    if (changed & (changed - 1)) /* more than one bit (no libgcc popcount call) */
        violation(m, HW_VIOL_GCMD_MULTI, val, m->r.gsts);
    struct hw_act a = {
        .t = time_add(m->now, m->cfg.gcmd_latency), .kind = ACT_GCMD, .ep = -1, .a = val};
    hw_schedule(m, &a);
}

void hw_gcmd_apply(hw_machine *m, uint32_t val)
{
    bool qie_now = m->r.gsts & VTD_GSTS_QIES;
    if ((val & VTD_GCMD_QIE) && !qie_now)
        qi_enable(m);
    else if (!(val & VTD_GCMD_QIE) && qie_now)
        qi_disable(m);
    if (val & VTD_GCMD_SRTP) {
        m->rtaddr_latched = m->r.rtaddr;
        qi_ctx_changed(m); /* TTM */
        m->r.gsts |= (uint32_t)VTD_GSTS_RTPS;
        xl_flush_all(m); /* a new root table: nothing cached from the old one is usable */
    }
    m->r.gsts = (m->r.gsts & ~(uint32_t)(VTD_GCMD_TE | VTD_GCMD_IRE | VTD_GCMD_CFI)) |
                (val & (uint32_t)(VTD_GCMD_TE | VTD_GCMD_IRE | VTD_GCMD_CFI));
    hw_event *e = hw_log_add(m, HW_EV_GCMD, -1, -1);
    e->a = val;
    e->b = m->r.gsts;
}

/* ---- MMIO entry points ---- */

static uint64_t read_reg64(const hw_machine *m, uint32_t off)
{
    switch (off) {
    case VTD_REG_CAP:
        return m->cfg.cap;
    case VTD_REG_ECAP:
        return m->cfg.ecap;
    case VTD_REG_RTADDR:
        return m->r.rtaddr;
    case VTD_REG_IQH:
        return (uint64_t)m->head << vtd_desc_shift(m->q_dw256);
    case VTD_REG_IQT:
        return m->r.iqt;
    case VTD_REG_IQA:
        return m->r.iqa;
    case VTD_REG_IQERCD:
        return m->cfg.iqercd ? m->r.iqercd : 0;
    case VTD_REG_IRTA:
        return m->r.irta;
    }
    return 0;
}

static uint32_t read_reg32(const hw_machine *m, uint32_t off)
{
    switch (off) {
    case VTD_REG_VER:
        return m->cfg.ver;
    case VTD_REG_GSTS:
        return m->r.gsts;
    case VTD_REG_FSTS:
        return m->r.fsts;
    case VTD_REG_FECTL:
        return m->r.fectl;
    case VTD_REG_FEDATA:
        return m->r.fedata;
    case VTD_REG_FEADDR:
        return m->r.feaddr;
    case VTD_REG_FEUADDR:
        return m->r.feuaddr;
    case VTD_REG_ICS:
        return m->r.ics;
    case VTD_REG_IECTL:
        return m->r.iectl;
    case VTD_REG_IEDATA:
        return m->r.iedata;
    case VTD_REG_IEADDR:
        return m->r.ieaddr;
    case VTD_REG_IEUADDR:
        return m->r.ieuaddr;
    }
    return 0; /* GCMD: write-only, reads as 0 */
}

/* Store `val` into a 64-bit register after dropping RsvdZ bits (logged if set). */
static uint64_t masked(hw_machine *m, uint32_t off, uint64_t val, uint64_t writable, unsigned size)
{
    if (val & ~writable)
        log_bad(m, off, val, size, HW_MMIO_RSVD_BITS);
    return val & writable;
}

static void write_reg64(hw_machine *m, uint32_t off, uint64_t val, unsigned size)
{
    switch (off) {
    case VTD_REG_RTADDR:
        m->r.rtaddr = masked(m, off, val, VTD_RTADDR_ADDR_MASK | VTD_RTADDR_TTM_MASK, size);
        return;
    case VTD_REG_IQT: {
        uint64_t old = m->r.iqt;
        m->r.iqt = masked(m, off, val, VTD_IQ_OFFSET_MASK, size);
        qi_tail_written(m, old);
        return;
    }
    case VTD_REG_IQA:
        if (m->r.gsts & VTD_GSTS_QIES)
            violation(m, HW_VIOL_IQA_WHILE_ENABLED, val, m->r.iqa);
        m->r.iqa = masked(m, off, val, VTD_IQA_ADDR_MASK | VTD_IQA_DW | VTD_IQA_QS_MASK, size);
        return;
    case VTD_REG_IRTA:
        m->r.irta = val;
        return;
    default: /* CAP, ECAP, IQH, IQERCD */
        log_bad(m, off, val, size, HW_MMIO_READONLY);
        return;
    }
}

static void write_reg32(hw_machine *m, uint32_t off, uint32_t val)
{
    switch (off) {
    case VTD_REG_GCMD:
        write_gcmd(m, val);
        return;
    case VTD_REG_FSTS:
        if (val & ~(uint32_t)(VTD_FSTS_RW1C | VTD_FSTS_PPF | VTD_FSTS_FRI_MASK))
            log_bad(m, off, val, 4, HW_MMIO_RSVD_BITS);
        write_fsts(m, val);
        return;
    case VTD_REG_FECTL:
        write_ectl(m, &m->r.fectl, val, HW_IRQ_FAULT);
        return;
    case VTD_REG_IECTL:
        write_ectl(m, &m->r.iectl, val, HW_IRQ_COMPLETION);
        return;
    case VTD_REG_ICS:
        write_ics(m, val);
        return;
    case VTD_REG_FEDATA:
        m->r.fedata = (uint32_t)masked(m, off, val, 0xFFFF, 4);
        return;
    case VTD_REG_IEDATA:
        m->r.iedata = (uint32_t)masked(m, off, val, 0xFFFF, 4);
        return;
    case VTD_REG_FEADDR:
        m->r.feaddr = (uint32_t)masked(m, off, val, 0xFFFFFFFC, 4);
        return;
    case VTD_REG_IEADDR:
        m->r.ieaddr = (uint32_t)masked(m, off, val, 0xFFFFFFFC, 4);
        return;
    case VTD_REG_FEUADDR:
        m->r.feuaddr = val;
        return;
    case VTD_REG_IEUADDR:
        m->r.ieuaddr = val;
        return;
    default: /* VER, GSTS */
        log_bad(m, off, val, 4, HW_MMIO_READONLY);
        return;
    }
}

static __attribute__((noinline)) void log_access(hw_machine *m, unsigned kind, uint32_t off,
                                                 uint64_t val, unsigned size)
{
    hw_event *e = hw_log_add(m, kind, -1, -1);
    e->a = off;
    e->b = val;
    e->c = size;
    e->c2 = m->actor;
}

void hw_set_actor(hw_machine *m, int cpu)
{
    m->actor = cpu < 0 ? 0 : (uint32_t)cpu + 1;
}

/* Classify a dword access (off a multiple of 4): the register, and whether it is the upper
 * half of a 64-bit one. */
static enum reg_kind dword_target(uint32_t off, uint32_t *base, bool *upper)
{
    enum dword_kind k = dword_kind(off);
    *upper = k == D_HI;
    *base = k == D_HI ? off - 4 : off;
    return k == D_R32 ? R32 : k == D_NONE ? R_NONE : R64;
}

uint64_t hw_reg_peek(const hw_machine *m, uint32_t off)
{
    switch (off) {
    case VTD_REG_CAP:
    case VTD_REG_ECAP:
    case VTD_REG_RTADDR:
    case VTD_REG_IQH:
    case VTD_REG_IQT:
    case VTD_REG_IQA:
    case VTD_REG_IQERCD:
    case VTD_REG_IRTA:
        return read_reg64(m, off);
    }
    return read_reg32(m, off);
}

uint32_t hw_mmio_read32(hw_machine *m, uint32_t off)
{
    uint32_t base, v = 0;
    bool upper;
    if (off % 4) {
        log_bad(m, off, 0, 4, HW_MMIO_MISALIGNED);
        return 0;
    }
    enum reg_kind k = dword_target(off, &base, &upper);
    if (k == R_NONE) {
        log_bad(m, off, 0, 4, HW_MMIO_RESERVED);
        return 0;
    }
    if (k == R32)
        v = read_reg32(m, base);
    else
        v = (uint32_t)(read_reg64(m, base) >> (upper ? 32 : 0));
    if (m->cfg.log_mmio_reads)
        log_access(m, HW_EV_MMIO_READ, off, v, 4);
    return v;
}

uint64_t hw_mmio_read64(hw_machine *m, uint32_t off)
{
    if (off % 8) {
        log_bad(m, off, 0, 8, HW_MMIO_MISALIGNED);
        return 0;
    }
    enum reg_kind k = reg_kind(off);
    if (k != R64) {
        log_bad(m, off, 0, 8, k == R_NONE ? HW_MMIO_RESERVED : HW_MMIO_WIDTH);
        return 0;
    }
    uint64_t v = read_reg64(m, off);
    if (m->cfg.log_mmio_reads)
        log_access(m, HW_EV_MMIO_READ, off, v, 8);
    return v;
}

void hw_mmio_write32(hw_machine *m, uint32_t off, uint32_t val)
{
    uint32_t base;
    bool upper;
    if (off % 4) {
        log_bad(m, off, val, 4, HW_MMIO_MISALIGNED);
        return;
    }
    enum reg_kind k = dword_target(off, &base, &upper);
    if (k == R_NONE) {
        log_bad(m, off, val, 4, HW_MMIO_RESERVED);
        return;
    }
    log_access(m, HW_EV_MMIO_WRITE, off, val, 4);
    if (k == R32) {
        write_reg32(m, base, val);
        return;
    }
    /* A dword write to a 64-bit register replaces one half (spec 11.2: low dword first). */
    uint64_t cur = read_reg64(m, base);
    if (base == VTD_REG_IQH || base == VTD_REG_CAP || base == VTD_REG_ECAP ||
        base == VTD_REG_IQERCD) {
        log_bad(m, off, val, 4, HW_MMIO_READONLY);
        return;
    }
    uint64_t v = upper ? (cur & 0xFFFFFFFFull) | (uint64_t)val << 32 : (cur & ~0xFFFFFFFFull) | val;
    write_reg64(m, base, v, 4);
}

void hw_mmio_write64(hw_machine *m, uint32_t off, uint64_t val)
{
    if (off % 8) {
        log_bad(m, off, val, 8, HW_MMIO_MISALIGNED);
        return;
    }
    enum reg_kind k = reg_kind(off);
    if (k != R64) {
        log_bad(m, off, val, 8, k == R_NONE ? HW_MMIO_RESERVED : HW_MMIO_WIDTH);
        return;
    }
    log_access(m, HW_EV_MMIO_WRITE, off, val, 8);
    write_reg64(m, off, val, 8);
}
