/*
 * text.c — names and one-line renderings for `qinval fidelity`: registers, steps, tags,
 * observables, classes; and the two facts every executor derives from a case's steps (the
 * status words its waits point at, the SIDs its device-TLB invalidations name).
 */
#include <stdio.h>
#include <string.h>

#include "fidelity/fidelity.h"

static const char *const tag_names[FID_T_COUNT] = {
    "queue-128",
    "queue-256",
    "cc-global",
    "cc-domain",
    "cc-device",
    "iotlb-global",
    "iotlb-domain",
    "iotlb-page",
    "iotlb-am-over-mamv",
    "devtlb-s0",
    "devtlb-s1",
    "devtlb-without-dt",
    "iec-global",
    "iec-index",
    "wait-sw",
    "wait-if",
    "wait-sw-if",
    "wait-no-sw-no-if",
    "wait-fn",
    "wait-addr-unaligned",
    "wait-addr-above-ram",
    "wait-addr-above-haw",
    "piotlb",
    "pasid-cache",
    "pdevtlb",
    "unknown-type",
    "reserved-bits",
    "reserved-granularity",
    "256-only-in-128",
    "upper-half-nonzero",
    "wrap-around",
    "tail-beyond-queue",
    "tail-misaligned",
    "iqe-clear",
    "iqe-repair",
    "disable",
    "disable-busy",
    "enable-tail-nonzero",
    "dw-without-smts",
    "iqt-32bit",
    "iqa-32bit",
    "iqa-while-enabled",
    "event-registers",
    "register-reads",
};

const char *fid_tag_name(unsigned tag)
{
    return tag < FID_T_COUNT ? tag_names[tag] : "?";
}

const char *fid_reg_name(uint32_t off)
{
    static const struct {
        uint32_t off;
        const char *name;
    } regs[] = {{VTD_REG_VER, "VER"},       {VTD_REG_CAP, "CAP"},        {VTD_REG_ECAP, "ECAP"},
                {VTD_REG_GCMD, "GCMD"},     {VTD_REG_GSTS, "GSTS"},      {VTD_REG_RTADDR, "RTADDR"},
                {VTD_REG_FSTS, "FSTS"},     {VTD_REG_FECTL, "FECTL"},    {VTD_REG_FEDATA, "FEDATA"},
                {VTD_REG_FEADDR, "FEADDR"}, {VTD_REG_IQH, "IQH"},        {VTD_REG_IQT, "IQT"},
                {VTD_REG_IQA, "IQA"},       {VTD_REG_IQA + 4, "IQA.hi"}, {VTD_REG_ICS, "ICS"},
                {VTD_REG_IECTL, "IECTL"},   {VTD_REG_IEDATA, "IEDATA"},  {VTD_REG_IEADDR, "IEADDR"},
                {VTD_REG_IQERCD, "IQERCD"}};
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        if (regs[i].off == off)
            return regs[i].name;
    return "?";
}

static const char *type_name(unsigned type)
{
    static const char *const names[] = {"type0", "cc",     "iotlb",  "devtlb", "iec",
                                        "wait",  "piotlb", "pcache", "pdevtlb"};
    return type < 9 ? names[type] : "type?";
}

static int format_desc(const fid_step *s, const char *what, char *buf, size_t len)
{
    unsigned type = vtd_desc_type(&s->d);
    int n = snprintf(buf, len, "%s @0x%llx %s(%u)", what, (unsigned long long)s->addr,
                     type_name(type), type);
    if (s->op == FID_OP_FILL)
        n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, " x%u", s->count);
    unsigned nq = s->len == 32 ? 4 : 2;
    for (unsigned i = 0; i < nq; i++)
        n += snprintf(buf + n, len > (size_t)n ? len - (size_t)n : 0, "%s0x%016llx", i ? ":" : " ",
                      (unsigned long long)s->d.qw[i]);
    return n;
}

int fid_step_format(const fid_step *s, char *buf, size_t len)
{
    switch (s->op) {
    case FID_OP_W32:
    case FID_OP_W64:
        return snprintf(buf, len, "w%s %s 0x%llx", s->op == FID_OP_W32 ? "32" : "64",
                        fid_reg_name(s->off), (unsigned long long)s->val);
    case FID_OP_R32:
    case FID_OP_R64:
        return snprintf(buf, len, "r%s %s", s->op == FID_OP_R32 ? "32" : "64",
                        fid_reg_name(s->off));
    case FID_OP_DESC:
        return format_desc(s, "desc", buf, len);
    case FID_OP_FILL:
        return format_desc(s, "fill", buf, len);
    }
    return snprintf(buf, len, "observe");
}

static bool is_sw_wait(const vtd_desc *d)
{
    return vtd_desc_type(d) == VTD_DESC_WAIT && (d->qw[0] & (1u << 5));
}

unsigned fid_status_addrs(const fid_case *c, uint64_t out[FID_MAX_STATUS])
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->n; i++) {
        const fid_step *s = &c->steps[i];
        if ((s->op != FID_OP_DESC && s->op != FID_OP_FILL) || !is_sw_wait(&s->d))
            continue;
        uint64_t a = s->d.qw[1];
        if ((a & 3) || a < FID_STATUS_BASE || a >= FID_STATUS_BASE + 0x1000)
            continue;
        bool seen = false;
        for (unsigned k = 0; k < n; k++)
            seen |= out[k] == a;
        if (!seen && n < FID_MAX_STATUS)
            out[n++] = a;
    }
    return n;
}

unsigned fid_devtlb_sids(const fid_case *c, uint16_t *out, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->n; i++) {
        const fid_step *s = &c->steps[i];
        if (s->op != FID_OP_DESC && s->op != FID_OP_FILL)
            continue;
        unsigned type = vtd_desc_type(&s->d);
        if (type != VTD_DESC_DEVTLB && type != VTD_DESC_PDEVTLB)
            continue;
        uint16_t sid = (uint16_t)(type == VTD_DESC_DEVTLB ? s->d.qw[0] >> 32 : s->d.qw[0] >> 16);
        bool seen = false;
        for (unsigned k = 0; k < n; k++)
            seen |= out[k] == sid;
        if (!seen && n < max)
            out[n++] = sid;
    }
    return n;
}

const char *fid_obs_name(unsigned obs)
{
    static const char *const names[FID_O_COUNT] = {"IQH",   "IQT",  "FSTS",   "FECTL",  "ICS",
                                                   "IECTL", "GSTS", "IQERCD", "status", "read"};
    return obs < FID_O_COUNT ? names[obs] : "?";
}

int fid_diff_observable(const fid_diff *d, const fid_trace *t, const fid_case *c, char *buf,
                        size_t len)
{
    if (d->obs == FID_O_STATUS)
        return snprintf(buf, len, "status word");
    if (d->obs == FID_O_READ)
        return snprintf(buf, len, "read %s", fid_reg_name(c->steps[d->step].off));
    (void)t;
    return snprintf(buf, len, "%s", fid_obs_name(d->obs));
}

const char *fid_class_name(unsigned cls)
{
    static const char *const names[] = {"model-bug", "qemu-deviation", "open", "unclassified"};
    return cls <= FID_UNCLASSIFIED ? names[cls] : "?";
}
