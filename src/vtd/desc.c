/*
 * desc.c — the VT-d invalidation descriptor codec: encoding field views into raw quadwords,
 * decoding them back, the checks an IOMMU applies when it fetches a descriptor, a few builders
 * for common descriptors and the ATS size encoding of device-TLB invalidations.
 *
 * Shared by the hardware model (which validates and decodes what a driver wrote) and by drivers
 * and tests (which encode). Freestanding: no libc at all, not even memset/memcpy. Each
 * descriptor type is described by a layout table (field positions, reserved bits, reserved
 * granularities) transcribed from the VT-d 5.10 tables (spec 6.5.2, 7.6.1); the encoder, decoder
 * and validator are small loops over those tables.
 */
#include <qinval/vtd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Field members are read and written as 1-, 2-, 4- or 8-byte integers; bools are one byte. */
_Static_assert(sizeof(bool) == 1, "bool members are accessed as one byte");

/* ---------------------------------------------------------------------------------------------
 * Layout tables.
 *
 * A field moves value bits [shift, shift + width) of a struct member to descriptor bits
 * [lsb, lsb + width) of quadword qw. An encoder refuses a value with bits set below `shift`
 * (alignment: page addresses, dword status address) or at or above `shift + width` (does not
 * fit). A split field (PFSID) is stored in pieces; each piece takes its own slice of the value
 * and no piece checks anything (the member's type already bounds the value).
 */
struct field {
    const char *name;
    uint16_t offset; /* of the member in its struct vtd_<type> */
    uint8_t size;    /* of the member: 1 (bool, uint8_t), 2, 4 or 8 */
    uint8_t qw;
    uint8_t lsb;
    uint8_t width;
    uint8_t shift;
    bool split;
};

/* The field tables below are aligned like the spec tables they transcribe. */
/* clang-format off */
#define MEMBER(s, m) #m, offsetof(struct vtd_##s, m), sizeof(((struct vtd_##s *)0)->m)
/* Ordinary field: member bits [width-1:0] at QWq[lsb + width - 1:lsb]. */
#define FIELD(s, m, q, lsb, width) {MEMBER(s, m), q, lsb, width, 0, false}
/* Address kept in place: member bits 63:lsb at QWq[63:lsb]; bits below lsb must be zero. */
#define ADDRESS(s, m, q, lsb) {MEMBER(s, m), q, lsb, 64 - (lsb), lsb, false}
/* One piece of a split field: member bits [from + width - 1:from] at QWq[lsb + width - 1:lsb]. */
#define PIECE(s, m, q, lsb, width, from) {MEMBER(s, m), q, lsb, width, from, true}

/*                                      qw lsb  width  from */
static const struct field cc_fields[] = { /* 2.1 */
    FIELD(cc, g,                        0,   4,     2),
    FIELD(cc, did,                      0,  16,    16),
    FIELD(cc, sid,                      0,  32,    16),
    FIELD(cc, fm,                       0,  48,     2),
};
static const struct field iotlb_fields[] = { /* 2.2 */
    FIELD(iotlb, g,                     0,   4,     2),
    FIELD(iotlb, dw,                    0,   6,     1),
    FIELD(iotlb, dr,                    0,   7,     1),
    FIELD(iotlb, did,                   0,  16,    16),
    FIELD(iotlb, am,                    1,   0,     6),
    FIELD(iotlb, ih,                    1,   6,     1),
    ADDRESS(iotlb, addr,                1,  12),
};
static const struct field devtlb_fields[] = { /* 2.3 */
    PIECE(devtlb, pfsid,                0,  12,     4,    0),
    FIELD(devtlb, mip,                  0,  16,     5),
    FIELD(devtlb, sid,                  0,  32,    16),
    PIECE(devtlb, pfsid,                0,  52,    12,    4),
    FIELD(devtlb, s,                    1,   0,     1),
    ADDRESS(devtlb, addr,               1,  12),
};
static const struct field iec_fields[] = { /* 2.4 */
    FIELD(iec, index,                   0,   4,     1),
    FIELD(iec, im,                      0,  27,     5),
    FIELD(iec, iidx,                    0,  32,    16),
};
static const struct field wait_fields[] = { /* 2.5 */
    FIELD(wait, intr,                   0,   4,     1),
    FIELD(wait, sw,                     0,   5,     1),
    FIELD(wait, fn,                     0,   6,     1),
    FIELD(wait, pd,                     0,   7,     1),
    FIELD(wait, status_data,            0,  32,    32),
    ADDRESS(wait, status_addr,          1,   2),
};
static const struct field piotlb_fields[] = { /* 2.6 */
    FIELD(piotlb, g,                    0,   4,     2),
    FIELD(piotlb, did,                  0,  16,    16),
    FIELD(piotlb, pasid,                0,  32,    20),
    FIELD(piotlb, am,                   1,   0,     6),
    FIELD(piotlb, ih,                   1,   6,     1),
    ADDRESS(piotlb, addr,               1,  12),
};
static const struct field pc_fields[] = { /* 2.7 */
    FIELD(pc, g,                        0,   4,     2),
    FIELD(pc, did,                      0,  16,    16),
    FIELD(pc, pasid,                    0,  32,    20),
};
static const struct field pdevtlb_fields[] = { /* 2.8 */
    FIELD(pdevtlb, mip,                 0,   4,     5),
    PIECE(pdevtlb, pfsid,               0,  12,     4,    0),
    FIELD(pdevtlb, sid,                 0,  16,    16),
    FIELD(pdevtlb, pasid,               0,  32,    20),
    PIECE(pdevtlb, pfsid,               0,  52,    12,    4),
    FIELD(pdevtlb, gi,                  1,   0,     1),
    FIELD(pdevtlb, s,                   1,  11,     1),
    ADDRESS(pdevtlb, addr,              1,  12),
};
static const struct field pgrp_fields[] = { /* 2.9 */
    FIELD(pgrp_resp, pp,                0,   4,     1),
    FIELD(pgrp_resp, rc,                0,  12,     4),
    FIELD(pgrp_resp, rid,               0,  16,    16),
    FIELD(pgrp_resp, pasid,             0,  32,    20),
    FIELD(pgrp_resp, prgi,              1,   3,     9),
};
static const struct field hpt_fields[] = { /* 2.10 */
    FIELD(hpt, g,                       0,   4,     2),
    FIELD(hpt, hptdid,                  0,  16,    16),
    FIELD(hpt, am,                      1,   0,     6),
    FIELD(hpt, ih,                      1,   6,     2),
    ADDRESS(hpt, addr,                  1,  12),
};
/* clang-format on */

/* Reserved (RsvdZ) bits per type, spec 6.5.2.x / 7.6.1 (fact sheet 2.1-2.10). Bits that are
 * reserved only for want of a capability (PFSID without ECAP.DIT, PD without ECAP.PDS) are
 * kept apart. Cross-checked against QEMU's masks (fact sheet 2.12). */
#define ALL_BITS      (~0ull)
#define CC_RSVD0      (VTD_MASK(8, 6) | VTD_MASK(15, 12) | VTD_MASK(63, 50))
#define IOTLB_RSVD0   (VTD_BIT(8) | VTD_MASK(15, 12) | VTD_MASK(63, 32))
#define IOTLB_RSVD1   VTD_MASK(11, 7)
#define DEVTLB_RSVD0  (VTD_MASK(8, 4) | VTD_MASK(31, 21) | VTD_MASK(51, 48))
#define DEVTLB_RSVD1  VTD_MASK(11, 1)
#define IEC_RSVD0     (VTD_MASK(8, 5) | VTD_MASK(26, 12) | VTD_MASK(63, 48))
#define WAIT_RSVD0    (VTD_BIT(8) | VTD_MASK(31, 12))
#define WAIT_RSVD1    VTD_MASK(1, 0) /* bits above HAW are ignored, not reserved */
#define PIOTLB_RSVD0  (VTD_MASK(8, 6) | VTD_MASK(15, 12) | VTD_MASK(63, 52))
#define PIOTLB_RSVD1  VTD_MASK(11, 7)
#define PC_RSVD0      PIOTLB_RSVD0
#define PDEVTLB_RSVD0 0ull
#define PDEVTLB_RSVD1 VTD_MASK(10, 1)
#define PGRP_RSVD0    (VTD_MASK(8, 5) | VTD_MASK(63, 52))
#define PGRP_RSVD1    (VTD_MASK(1, 0) | VTD_MASK(63, 12)) /* bit 2 (ex-LPIG) is ignored */
#define HPT_RSVD0     (VTD_MASK(8, 6) | VTD_MASK(15, 12) | VTD_MASK(63, 32)) /* UNCERTAIN, below */
#define HPT_RSVD1     VTD_MASK(11, 8)
/* UNCERTAIN: the fact sheet lists no reserved bits in QW0 of the HPT descriptor; everything but
 * the type, G and HPTDID is taken as reserved, as in the IOTLB descriptor it mirrors. */

#define PFSID_BITS (VTD_MASK(15, 12) | VTD_MASK(63, 52)) /* types 3 and 8: reserved unless DIT */
#define WAIT_PD    VTD_BIT(7)                            /* reserved unless ECAP.PDS */

/* Bit n of reserved_g set: granularity QW0[5:4] == n is a reserved encoding. */
#define G_RSVD(n) (1u << (n))

/* A type's field table is named in CODEC_CASES (encoder and decoder); the rest is here. */
struct layout {
    uint8_t reserved_g;
    uint64_t rsvd0, rsvd1;
};

static const struct layout layouts[VTD_DESC_HPT + 1] = {
    [VTD_DESC_CC] = {G_RSVD(0), CC_RSVD0, ALL_BITS},
    [VTD_DESC_IOTLB] = {G_RSVD(0), IOTLB_RSVD0, IOTLB_RSVD1},
    [VTD_DESC_DEVTLB] = {0, DEVTLB_RSVD0, DEVTLB_RSVD1},
    [VTD_DESC_IEC] = {0, IEC_RSVD0, ALL_BITS},
    [VTD_DESC_WAIT] = {0, WAIT_RSVD0, WAIT_RSVD1},
    [VTD_DESC_PIOTLB] = {G_RSVD(0) | G_RSVD(1), PIOTLB_RSVD0, PIOTLB_RSVD1},
    [VTD_DESC_PC] = {G_RSVD(2), PC_RSVD0, ALL_BITS},
    [VTD_DESC_PDEVTLB] = {0, PDEVTLB_RSVD0, PDEVTLB_RSVD1},
    [VTD_DESC_PGRP_RESP] = {0, PGRP_RSVD0, PGRP_RSVD1},
    [VTD_DESC_HPT] = {G_RSVD(0), HPT_RSVD0, HPT_RSVD1},
};

static const struct layout *layout_of(unsigned type)
{
    return type >= VTD_DESC_CC && type <= VTD_DESC_HPT ? &layouts[type] : NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Encoder and decoder. The helpers are inline for the per-type copies described below.
 */
#define CODEC_INLINE inline __attribute__((always_inline))

static CODEC_INLINE uint64_t low_bits(unsigned n)
{
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

static CODEC_INLINE uint64_t load_member(const void *view, const struct field *fd)
{
    const unsigned char *p = (const unsigned char *)view + fd->offset;
    switch (fd->size) {
    case 1:
        return *p;
    case 2:
        return *(const uint16_t *)(const void *)p;
    case 4:
        return *(const uint32_t *)(const void *)p;
    default:
        return *(const uint64_t *)(const void *)p;
    }
}

/* Members are 0/1 for bool (a one-bit field), so the one-byte store keeps a valid bool. */
static CODEC_INLINE void store_member(void *view, const struct field *fd, uint64_t v)
{
    unsigned char *p = (unsigned char *)view + fd->offset;
    switch (fd->size) {
    case 1:
        *p = (unsigned char)v;
        break;
    case 2:
        *(uint16_t *)(void *)p = (uint16_t)v;
        break;
    case 4:
        *(uint32_t *)(void *)p = (uint32_t)v;
        break;
    default:
        *(uint64_t *)(void *)p = v;
        break;
    }
}

static CODEC_INLINE bool field_fits(const struct field *fd, uint64_t v)
{
    if (fd->split)
        return true;
    return (v & low_bits(fd->shift)) == 0 && ((v >> fd->shift) & ~low_bits(fd->width)) == 0;
}

/* Zeroing by hand: compilers may turn a structure assignment into a call to memset (clang does
 * at -O0), which freestanding code cannot count on. */
static void clear_desc(vtd_desc *d)
{
    for (unsigned i = 0; i < 4; i++)
        d->qw[i] = 0;
}

static void clear_fields(vtd_fields *f)
{
    unsigned char *bytes = (unsigned char *)f;
    for (size_t i = 0; i < sizeof(*f); i++)
        bytes[i] = 0;
}

/* The encoder and decoder are one loop each over a type's field table, forced inline into a
 * copy per type (CODEC_CASES passes each table as a constant) and fully unrolled, so that the
 * compiler folds every table entry into straight-line code: the tables stay the one
 * description of the formats, without being interpreted field by field at run time. */
static CODEC_INLINE int encode_with(const struct field *fields, unsigned n, const vtd_fields *f,
                                    vtd_desc *out, const char **bad_field)
{
#pragma GCC unroll 8
    for (unsigned i = 0; i < n; i++) {
        const struct field *fd = &fields[i];
        uint64_t v = load_member(&f->u, fd);
        if (!field_fits(fd, v)) {
            clear_desc(out);
            if (bad_field)
                *bad_field = fd->name;
            return VTD_EFIELD;
        }
        out->qw[fd->qw] |= ((v >> fd->shift) & low_bits(fd->width)) << fd->lsb;
    }
    return VTD_OK;
}

static CODEC_INLINE void decode_with(const struct field *fields, unsigned n, const vtd_desc *d,
                                     vtd_fields *out)
{
#pragma GCC unroll 8
    for (unsigned i = 0; i < n; i++) {
        const struct field *fd = &fields[i];
        uint64_t piece = (d->qw[fd->qw] >> fd->lsb) & low_bits(fd->width);
        /* a member is one field, or the pieces of one split field: only those add to what an
         * earlier piece stored; every other member is still zero here */
        if (fd->split)
            piece = load_member(&out->u, fd) | piece << fd->shift;
        else
            piece <<= fd->shift;
        store_member(&out->u, fd, piece);
    }
}

/* One case per defined type: CODEC(table) becomes the call for that type's table. */
#define CODEC_CASES(CODEC)                                                                         \
    case VTD_DESC_CC:                                                                              \
        CODEC(cc_fields);                                                                          \
        break;                                                                                     \
    case VTD_DESC_IOTLB:                                                                           \
        CODEC(iotlb_fields);                                                                       \
        break;                                                                                     \
    case VTD_DESC_DEVTLB:                                                                          \
        CODEC(devtlb_fields);                                                                      \
        break;                                                                                     \
    case VTD_DESC_IEC:                                                                             \
        CODEC(iec_fields);                                                                         \
        break;                                                                                     \
    case VTD_DESC_WAIT:                                                                            \
        CODEC(wait_fields);                                                                        \
        break;                                                                                     \
    case VTD_DESC_PIOTLB:                                                                          \
        CODEC(piotlb_fields);                                                                      \
        break;                                                                                     \
    case VTD_DESC_PC:                                                                              \
        CODEC(pc_fields);                                                                          \
        break;                                                                                     \
    case VTD_DESC_PDEVTLB:                                                                         \
        CODEC(pdevtlb_fields);                                                                     \
        break;                                                                                     \
    case VTD_DESC_PGRP_RESP:                                                                       \
        CODEC(pgrp_fields);                                                                        \
        break;                                                                                     \
    case VTD_DESC_HPT:                                                                             \
        CODEC(hpt_fields);                                                                         \
        break;

int vtd_encode(const vtd_fields *f, vtd_desc *out, const char **bad_field)
{
    clear_desc(out);
    int rc;
    switch (f->type) {
#define ENCODE(tbl) rc = encode_with(tbl, ARRAY_LEN(tbl), f, out, bad_field)
        CODEC_CASES(ENCODE)
#undef ENCODE
    default:
        return VTD_ETYPE;
    }
    if (rc == VTD_OK)
        out->qw[0] |= f->type; /* Type[3:0]; Type[6:4] (QW0[11:9]) is 0 for every defined type */
    return rc;
}

int vtd_decode(const vtd_desc *d, vtd_fields *out)
{
    unsigned type = vtd_desc_type(d);
    clear_fields(out);
    out->type = (uint8_t)type;
    switch (type) {
#define DECODE(tbl) decode_with(tbl, ARRAY_LEN(tbl), d, out)
        CODEC_CASES(DECODE)
#undef DECODE
    default:
        return VTD_ETYPE;
    }
    return VTD_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Validation, in the order the IOMMU reports: queue configuration (IQEI 7, 5), type (3),
 * reserved encodings (4), reserved bits (4, only with strict_reserved).
 *
 * UNCERTAIN: the spec does not tie every "invalid descriptor" case to an IQEI value (fact sheet
 * 2.0, and 7 item 2); the mapping below is the one decided for qinval: wrong type for the mode or
 * the capabilities -> 3; reserved granularity, limits exceeded (AM > MAMV, IM > MHMV), reserved
 * response code, reserved bits, nonzero QW2/QW3 -> 4; DW vs TTM/ECAP -> 5; reserved TTM -> 7.
 */
static unsigned reject(const char **why, unsigned iqei, const char *rule)
{
    *why = rule;
    return iqei;
}

static unsigned check_queue(const vtd_qctx *ctx, const char **why)
{
    if (ctx->ttm == VTD_TTM_RESERVED)
        return reject(why, VTD_IQEI_TTM, "reserved RTADDR.TTM");
    if (!ctx->dw256 && (ctx->ttm == VTD_TTM_SCALABLE || ctx->ttm == VTD_TTM_ABORT))
        return reject(why, VTD_IQEI_WIDTH, "128-bit queue in scalable or abort-DMA mode");
    if (ctx->dw256 && !(ctx->ecap & (VTD_ECAP_SMTS | VTD_ECAP_ADMS)))
        return reject(why, VTD_IQEI_WIDTH, "256-bit queue without ECAP.SMTS or ECAP.ADMS");
    return 0;
}

/* Table 26 and the capability rules of 6.5.2.x. */
static unsigned check_type(unsigned type, const vtd_qctx *ctx, const char **why)
{
    if (!layout_of(type))
        return reject(why, VTD_IQEI_TYPE, "unknown descriptor type");
    if (vtd_type_is_256_only(type) && !ctx->dw256)
        return reject(why, VTD_IQEI_TYPE, "256-bit type in a 128-bit queue");
    if (vtd_type_is_256_only(type) && ctx->ttm == VTD_TTM_LEGACY)
        return reject(why, VTD_IQEI_TYPE, "256-bit type in legacy mode");
    if ((type == VTD_DESC_DEVTLB || type == VTD_DESC_PDEVTLB) && !(ctx->ecap & VTD_ECAP_DT))
        return reject(why, VTD_IQEI_TYPE, "devtlb type without ECAP.DT");
    if (type == VTD_DESC_PGRP_RESP && !(ctx->ecap & VTD_ECAP_PRS))
        return reject(why, VTD_IQEI_TYPE, "page group response without ECAP.PRS");
    if (type == VTD_DESC_HPT && !(ctx->ecap & VTD_ECAP_HPTS))
        return reject(why, VTD_IQEI_TYPE, "HPT invalidation without ECAP.HPTS");
    return 0;
}

static unsigned cap_mamv(uint64_t cap)
{
    return (unsigned)((cap & VTD_CAP_MAMV_MASK) >> VTD_CAP_MAMV_SHIFT);
}

static unsigned ecap_mhmv(uint64_t ecap)
{
    return (unsigned)((ecap & VTD_ECAP_MHMV_MASK) >> VTD_ECAP_MHMV_SHIFT);
}

/* Reserved granularities and field values beyond what the IOMMU reports it supports. These
 * are always errors: strict_reserved governs reserved bits only. f: d decoded (vtd_decode). */
static unsigned check_encodings(const vtd_desc *d, const vtd_fields *f, const vtd_qctx *ctx,
                                const char **why)
{
    unsigned g = (unsigned)(d->qw[0] >> 4) & 3;
    if (layouts[f->type].reserved_g & G_RSVD(g))
        return reject(why, VTD_IQEI_RSVD, "reserved granularity");
    switch (f->type) {
    case VTD_DESC_IOTLB:
        if (g == VTD_IOTLB_G_PAGE && !(ctx->cap & VTD_CAP_PSI))
            return reject(why, VTD_IQEI_RSVD, "page-selective iotlb without CAP.PSI");
        if (g == VTD_IOTLB_G_PAGE && f->u.iotlb.am > cap_mamv(ctx->cap))
            return reject(why, VTD_IQEI_RSVD, "iotlb address mask above CAP.MAMV");
        break;
    case VTD_DESC_IEC:
        if (f->u.iec.index && f->u.iec.im > ecap_mhmv(ctx->ecap))
            return reject(why, VTD_IQEI_RSVD, "iec index mask above ECAP.MHMV");
        break;
    case VTD_DESC_PGRP_RESP:
        if (f->u.pgrp.rc >= 2 && f->u.pgrp.rc <= 0xE)
            return reject(why, VTD_IQEI_RSVD, "reserved page group response code");
        break;
    }
    return 0;
}

/* Reserved bits. Only QW0/QW1 exist in a 128-bit queue; in a 256-bit queue QW2/QW3 are padding
 * (types 1-5) or reserved (types 6-0xA), zero either way. ctx->haw plays no part: wait status
 * address bits above HAW are ignored, not reserved. */
static unsigned check_reserved_bits(const vtd_desc *d, const vtd_qctx *ctx, const char **why)
{
    unsigned type = vtd_desc_type(d);
    const struct layout *lay = &layouts[type];
    if (d->qw[0] & lay->rsvd0)
        return reject(why, VTD_IQEI_RSVD, "reserved bits set in QW0");
    if ((type == VTD_DESC_DEVTLB || type == VTD_DESC_PDEVTLB) && !(ctx->ecap & VTD_ECAP_DIT) &&
        (d->qw[0] & PFSID_BITS))
        return reject(why, VTD_IQEI_RSVD, "PFSID set without ECAP.DIT");
    if (type == VTD_DESC_WAIT && !(ctx->ecap & VTD_ECAP_PDS) && (d->qw[0] & WAIT_PD))
        return reject(why, VTD_IQEI_RSVD, "wait PD set without ECAP.PDS");
    if (d->qw[1] & lay->rsvd1)
        return reject(why, VTD_IQEI_RSVD, "reserved bits set in QW1");
    if (ctx->dw256 && (d->qw[2] | d->qw[3]))
        return reject(why, VTD_IQEI_RSVD, "nonzero QW2/QW3 in a 256-bit queue");
    return 0;
}

unsigned vtd_validate(const vtd_desc *d, const vtd_qctx *ctx, const char **why)
{
    vtd_fields f;
    return vtd_validate_decode(d, ctx, &f, why);
}

unsigned vtd_validate_decode(const vtd_desc *d, const vtd_qctx *ctx, vtd_fields *f,
                             const char **why)
{
    const char *rule = NULL;
    unsigned type = vtd_desc_type(d);
    unsigned iqei = check_queue(ctx, &rule);
    if (!iqei)
        iqei = check_type(type, ctx, &rule);
    if (!iqei) {
        vtd_decode(d, f); /* a defined type: check_type() passed */
        iqei = check_encodings(d, f, ctx, &rule);
    }
    if (!iqei && ctx->strict_reserved)
        iqei = check_reserved_bits(d, ctx, &rule);
    if (why)
        *why = rule; /* NULL when valid */
    return iqei;
}

/* ---------------------------------------------------------------------------------------------
 * Builders. Their arguments are masked to their fields so the encoding cannot fail: status and
 * page addresses lose their low bits (2 and 12), AM keeps 6 bits and FM 2 bits.
 */
static vtd_desc encoded(const vtd_fields *f)
{
    vtd_desc d;
    vtd_encode(f, &d, NULL);
    return d;
}

vtd_desc vtd_make_wait(bool sw, bool intr, bool fn, uint32_t data, uint64_t addr)
{
    vtd_fields f = {.type = VTD_DESC_WAIT};
    f.u.wait = (struct vtd_wait){
        .sw = sw, .intr = intr, .fn = fn, .status_data = data, .status_addr = addr & ~3ull};
    return encoded(&f);
}

vtd_desc vtd_make_iotlb_global(void)
{
    vtd_fields f = {.type = VTD_DESC_IOTLB};
    f.u.iotlb.g = VTD_IOTLB_G_GLOBAL;
    return encoded(&f);
}

vtd_desc vtd_make_iotlb_domain(uint16_t did)
{
    vtd_fields f = {.type = VTD_DESC_IOTLB};
    f.u.iotlb.g = VTD_IOTLB_G_DOMAIN;
    f.u.iotlb.did = did;
    return encoded(&f);
}

vtd_desc vtd_make_iotlb_page(uint16_t did, uint64_t addr, uint8_t am, bool ih)
{
    vtd_fields f = {.type = VTD_DESC_IOTLB};
    f.u.iotlb = (struct vtd_iotlb){
        .g = VTD_IOTLB_G_PAGE, .did = did, .am = am & 0x3F, .ih = ih, .addr = addr & ~0xFFFull};
    return encoded(&f);
}

vtd_desc vtd_make_cc_global(void)
{
    vtd_fields f = {.type = VTD_DESC_CC};
    f.u.cc.g = VTD_CC_G_GLOBAL;
    return encoded(&f);
}

vtd_desc vtd_make_cc_device(uint16_t did, uint16_t sid, uint8_t fm)
{
    vtd_fields f = {.type = VTD_DESC_CC};
    f.u.cc = (struct vtd_cc){.g = VTD_CC_G_DEVICE, .did = did, .sid = sid, .fm = fm & 3};
    return encoded(&f);
}

/* ---------------------------------------------------------------------------------------------
 * ATS size encoding (spec 6.5.2.5 and 6.5.3.3; fact sheet 2.11). With S=1, a range of 2^(b+1)
 * bytes is written as its size-aligned start with bits 12..b-1 set and bit b clear. A size bit
 * at 63 would mean 2^64 bytes, so ADDR[62:12] all ones means "every address" (global) whatever
 * bit 63 holds; builders write the spec's form, bit 63 clear (6.5.3.3).
 */
#define ATS_GLOBAL_ADDR  VTD_MASK(62, 12)
#define ATS_MAX_SIZE_BIT 62

/* Smallest k with 2^k >= pages (pages >= 1). */
static unsigned ceil_log2(uint64_t pages)
{
    unsigned k = 0;
    while (k < 64 && (1ull << k) < pages)
        k++;
    return k;
}

/* A non-power-of-two page count is rounded up (a larger invalidation is always safe); counts
 * beyond what bits 12..62 can encode, and 0, become the global encoding. */
vtd_desc vtd_make_devtlb(uint16_t sid, uint64_t addr, uint64_t pages)
{
    vtd_fields f = {.type = VTD_DESC_DEVTLB};
    f.u.devtlb.sid = sid;
    unsigned k = pages ? ceil_log2(pages) : 64;
    if (k == 0) {
        f.u.devtlb.addr = addr & ~0xFFFull;
    } else if (12 + k - 1 <= ATS_MAX_SIZE_BIT) {
        unsigned size_bit = 12 + k - 1;
        f.u.devtlb.s = true;
        f.u.devtlb.addr = (addr & ~low_bits(size_bit + 1)) | (low_bits(size_bit) & ~0xFFFull);
    } else {
        f.u.devtlb.s = true;
        f.u.devtlb.addr = ATS_GLOBAL_ADDR;
    }
    return encoded(&f);
}

/* *len == 0 means the whole address space (the global encoding): no byte range of a 64-bit
 * space has length 2^64. */
void vtd_devtlb_range(uint64_t addr, bool s, uint64_t *start, uint64_t *len)
{
    if (!s) {
        *start = addr & ~0xFFFull;
        *len = 4096;
        return;
    }
    for (unsigned b = 12; b <= ATS_MAX_SIZE_BIT; b++) {
        if (!(addr & VTD_BIT(b))) {
            *len = VTD_BIT(b + 1);
            *start = addr & ~(*len - 1);
            return;
        }
    }
    *start = 0;
    *len = 0;
}
