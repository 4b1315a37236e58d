/*
 * format.c — names and one-line renderings of VT-d values (descriptor types, IQEI codes,
 * registers, requester ids, whole descriptors) for logs, timelines and error messages.
 *
 * Hosted code built on the freestanding codec in desc.c: a descriptor is decoded with
 * vtd_decode() and its fields printed in a fixed order, e.g.
 *   "iotlb page did=1 addr=0x1000 am=0 ih"   "devtlb sid=01:00.0 addr=0x2000 size=8K"
 *   "wait sw if fn data=0x1 addr=0x3000"      "invalid qw0=0x0 qw1=0x0"
 * Numbers: DIDs, masks and counts in decimal; addresses, data and PASIDs in hex.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include <qinval/vtd_format.h>

const char *vtd_desc_type_name(unsigned type)
{
    static const char *const names[] = {
        [VTD_DESC_CC] = "cc",   [VTD_DESC_IOTLB] = "iotlb",     [VTD_DESC_DEVTLB] = "devtlb",
        [VTD_DESC_IEC] = "iec", [VTD_DESC_WAIT] = "wait",       [VTD_DESC_PIOTLB] = "piotlb",
        [VTD_DESC_PC] = "pc",   [VTD_DESC_PDEVTLB] = "pdevtlb", [VTD_DESC_PGRP_RESP] = "pgrp_resp",
        [VTD_DESC_HPT] = "hpt",
    };
    if (type < sizeof(names) / sizeof(names[0]) && names[type])
        return names[type];
    return "invalid";
}

const char *vtd_iqei_name(unsigned iqei)
{
    static const char *const names[] = {
        [VTD_IQEI_NO_INFO] = "no information",
        [VTD_IQEI_TAIL] = "invalid tail pointer",
        [VTD_IQEI_FETCH] = "descriptor fetch error",
        [VTD_IQEI_TYPE] = "invalid descriptor type",
        [VTD_IQEI_RSVD] = "reserved field violation",
        [VTD_IQEI_WIDTH] = "invalid descriptor width",
        [VTD_IQEI_TAIL_ALIGN] = "tail not aligned to descriptor width",
        [VTD_IQEI_TTM] = "invalid translation table mode",
    };
    if (iqei < sizeof(names) / sizeof(names[0]))
        return names[iqei];
    return "undefined";
}

/* Exact register offsets only: the upper dword of a 64-bit register (e.g. 0x08C) has no name of
 * its own and gives NULL, like any other offset. */
const char *vtd_reg_name(uint32_t offset)
{
    static const struct {
        uint32_t offset;
        const char *name;
    } regs[] = {
        {VTD_REG_VER, "VER"},       {VTD_REG_CAP, "CAP"},         {VTD_REG_ECAP, "ECAP"},
        {VTD_REG_GCMD, "GCMD"},     {VTD_REG_GSTS, "GSTS"},       {VTD_REG_RTADDR, "RTADDR"},
        {VTD_REG_CCMD, "CCMD"},     {VTD_REG_FSTS, "FSTS"},       {VTD_REG_FECTL, "FECTL"},
        {VTD_REG_FEDATA, "FEDATA"}, {VTD_REG_FEADDR, "FEADDR"},   {VTD_REG_FEUADDR, "FEUADDR"},
        {VTD_REG_IQH, "IQH"},       {VTD_REG_IQT, "IQT"},         {VTD_REG_IQA, "IQA"},
        {VTD_REG_ICS, "ICS"},       {VTD_REG_IECTL, "IECTL"},     {VTD_REG_IEDATA, "IEDATA"},
        {VTD_REG_IEADDR, "IEADDR"}, {VTD_REG_IEUADDR, "IEUADDR"}, {VTD_REG_IQERCD, "IQERCD"},
        {VTD_REG_IRTA, "IRTA"},
    };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        if (regs[i].offset == offset)
            return regs[i].name;
    }
    return NULL;
}

char *vtd_sid_format(uint16_t sid, char *buf)
{
    snprintf(buf, 8, "%02x:%02x.%x", (unsigned)(sid >> 8) & 0xFF, (unsigned)(sid >> 3) & 0x1F,
             (unsigned)sid & 0x7);
    return buf;
}

/* ---------------------------------------------------------------------------------------------
 * Descriptor lines. `struct line` appends to a caller's buffer like successive snprintf calls:
 * the text is truncated to fit and `total` counts what a large enough buffer would hold.
 */
struct line {
    char *buf;
    size_t len;
    int total;
};

__attribute__((format(printf, 2, 3))) static void put(struct line *ln, const char *fmt, ...)
{
    size_t used = ln->total >= 0 && (size_t)ln->total < ln->len ? (size_t)ln->total : ln->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(ln->buf ? ln->buf + used : NULL, ln->len - used, fmt, ap);
    va_end(ap);
    if (n < 0 || ln->total < 0)
        ln->total = -1;
    else
        ln->total += n;
}

static void put_flag(struct line *ln, bool on, const char *name)
{
    if (on)
        put(ln, " %s", name);
}

static void put_sid(struct line *ln, const char *key, uint16_t sid)
{
    char s[8];
    put(ln, " %s=%s", key, vtd_sid_format(sid, s));
}

/* "4K", "2M", "1G": a power-of-two byte count in the largest unit it is a whole multiple of. */
static void put_size(struct line *ln, uint64_t bytes)
{
    static const char units[] = "KMGTPE";
    unsigned u = 0;
    uint64_t n = bytes >> 10;
    while (units[u + 1] && n >= 1024 && n % 1024 == 0) {
        n >>= 10;
        u++;
    }
    put(ln, " size=%" PRIu64 "%c", n, units[u]);
}

/* The byte range of an ATS-encoded invalidation (types 3 and 8). */
static void put_ats_range(struct line *ln, uint64_t addr, bool s)
{
    uint64_t start, len;
    vtd_devtlb_range(addr, s, &start, &len);
    if (len == 0) {
        put(ln, " global");
        return;
    }
    put(ln, " addr=0x%" PRIx64, start);
    put_size(ln, len);
}

/* Granularity word for QW0[5:4]; a reserved encoding prints as "g=N". */
static void put_granularity(struct line *ln, unsigned g, const char *const names[4])
{
    if (names[g])
        put(ln, " %s", names[g]);
    else
        put(ln, " g=%u", g);
}

static void put_cc(struct line *ln, const struct vtd_cc *c)
{
    static const char *const g_names[4] = {NULL, "global", "domain", "device"};
    put_granularity(ln, c->g, g_names);
    if (c->g != VTD_CC_G_GLOBAL)
        put(ln, " did=%u", c->did);
    if (c->g == VTD_CC_G_DEVICE) {
        put_sid(ln, "sid", c->sid);
        put(ln, " fm=%u", c->fm);
    }
}

static void put_iotlb(struct line *ln, const struct vtd_iotlb *t)
{
    static const char *const g_names[4] = {NULL, "global", "domain", "page"};
    put_granularity(ln, t->g, g_names);
    if (t->g != VTD_IOTLB_G_GLOBAL)
        put(ln, " did=%u", t->did);
    if (t->g == VTD_IOTLB_G_PAGE)
        put(ln, " addr=0x%" PRIx64 " am=%u", t->addr, t->am);
    put_flag(ln, t->g == VTD_IOTLB_G_PAGE && t->ih, "ih");
    put_flag(ln, t->dr, "dr");
    put_flag(ln, t->dw, "dw");
}

static void put_devtlb(struct line *ln, const struct vtd_devtlb *t)
{
    put_sid(ln, "sid", t->sid);
    put_ats_range(ln, t->addr, t->s);
    if (t->mip)
        put(ln, " mip=%u", t->mip);
    if (t->pfsid)
        put_sid(ln, "pfsid", t->pfsid);
}

static void put_iec(struct line *ln, const struct vtd_iec *c)
{
    if (c->index)
        put(ln, " index iidx=%u im=%u", c->iidx, c->im);
    else
        put(ln, " global");
}

static void put_wait(struct line *ln, const struct vtd_wait *w)
{
    put_flag(ln, w->sw, "sw");
    put_flag(ln, w->intr, "if");
    put_flag(ln, w->fn, "fn");
    put_flag(ln, w->pd, "pd");
    if (w->sw)
        put(ln, " data=0x%" PRIx32 " addr=0x%" PRIx64, w->status_data, w->status_addr);
}

static void put_piotlb(struct line *ln, const struct vtd_piotlb *t)
{
    static const char *const g_names[4] = {NULL, NULL, "pasid", "page"};
    put_granularity(ln, t->g, g_names);
    put(ln, " did=%u pasid=0x%" PRIx32, t->did, t->pasid);
    if (t->g == VTD_PIOTLB_G_PAGE)
        put(ln, " addr=0x%" PRIx64 " am=%u", t->addr, t->am);
    put_flag(ln, t->g == VTD_PIOTLB_G_PAGE && t->ih, "ih");
}

static void put_pc(struct line *ln, const struct vtd_pc *c)
{
    static const char *const g_names[4] = {"domain", "pasid", NULL, "global"};
    put_granularity(ln, c->g, g_names);
    if (c->g != VTD_PC_G_GLOBAL)
        put(ln, " did=%u", c->did);
    if (c->g == VTD_PC_G_PASID)
        put(ln, " pasid=0x%" PRIx32, c->pasid);
}

static void put_pdevtlb(struct line *ln, const struct vtd_pdevtlb *t)
{
    put_sid(ln, "sid", t->sid);
    if (t->gi)
        put(ln, " gi");
    else
        put(ln, " pasid=0x%" PRIx32, t->pasid);
    put_ats_range(ln, t->addr, t->s);
    if (t->mip)
        put(ln, " mip=%u", t->mip);
    if (t->pfsid)
        put_sid(ln, "pfsid", t->pfsid);
}

static void put_pgrp(struct line *ln, const struct vtd_pgrp_resp *r)
{
    put_sid(ln, "rid", r->rid);
    if (r->pp)
        put(ln, " pasid=0x%" PRIx32, r->pasid);
    put(ln, " prgi=%u rc=", r->prgi);
    if (r->rc == 0)
        put(ln, "success");
    else if (r->rc == 1)
        put(ln, "invalid");
    else if (r->rc == 0xF)
        put(ln, "failure");
    else
        put(ln, "%u", (unsigned)r->rc);
}

static void put_hpt(struct line *ln, const struct vtd_hpt *h)
{
    static const char *const g_names[4] = {NULL, "global", "domain", "page"};
    put_granularity(ln, h->g, g_names);
    if (h->g != VTD_HPT_G_GLOBAL)
        put(ln, " hptdid=%u", h->hptdid);
    if (h->g == VTD_HPT_G_PAGE)
        put(ln, " addr=0x%" PRIx64 " am=%u ih=%u", h->addr, h->am, h->ih);
}

int vtd_desc_format(const vtd_desc *d, char *buf, size_t len)
{
    struct line ln = {buf, len, 0};
    vtd_fields f;
    if (len > 0)
        buf[0] = '\0';
    if (vtd_decode(d, &f) != VTD_OK) {
        put(&ln, "invalid qw0=0x%" PRIx64 " qw1=0x%" PRIx64, d->qw[0], d->qw[1]);
        return ln.total;
    }
    put(&ln, "%s", vtd_desc_type_name(f.type));
    switch (f.type) {
    case VTD_DESC_CC:
        put_cc(&ln, &f.u.cc);
        break;
    case VTD_DESC_IOTLB:
        put_iotlb(&ln, &f.u.iotlb);
        break;
    case VTD_DESC_DEVTLB:
        put_devtlb(&ln, &f.u.devtlb);
        break;
    case VTD_DESC_IEC:
        put_iec(&ln, &f.u.iec);
        break;
    case VTD_DESC_WAIT:
        put_wait(&ln, &f.u.wait);
        break;
    case VTD_DESC_PIOTLB:
        put_piotlb(&ln, &f.u.piotlb);
        break;
    case VTD_DESC_PC:
        put_pc(&ln, &f.u.pc);
        break;
    case VTD_DESC_PDEVTLB:
        put_pdevtlb(&ln, &f.u.pdevtlb);
        break;
    case VTD_DESC_PGRP_RESP:
        put_pgrp(&ln, &f.u.pgrp);
        break;
    case VTD_DESC_HPT:
        put_hpt(&ln, &f.u.hpt);
        break;
    }
    return ln.total;
}
