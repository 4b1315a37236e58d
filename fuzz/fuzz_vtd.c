/*
 * fuzz_vtd.c — feeds the descriptor codec (include/qinval/vtd.h: vtd_decode, vtd_encode,
 * vtd_validate, vtd_validate_decode, vtd_devtlb_range) and its rendering (vtd_desc_format) with
 * arbitrary 256-bit descriptors and an arbitrary validation context. Input: 32 bytes of
 * descriptor (little-endian quadwords; missing bytes are 0), then the context: CAP (8 bytes),
 * ECAP (8), TTM, a flags byte (bit 0 dw256, bit 1 strict_reserved) and HAW.
 * Properties:
 *   - nothing crashes; the validator returns 0 or an IQEI code of its list, with a reason iff
 *     the descriptor is refused; vtd_validate_decode agrees with vtd_validate and, when it
 *     accepts, with vtd_decode;
 *   - round trip: whatever the decoder accepts re-encodes (no field that does not fit), the
 *     encoding holds only bits of the original (the decoder drops reserved bits) and decodes to
 *     the same fields, and encode(decode(d)) == d for a descriptor with no reserved bit set,
 *     that is every descriptor the strict validator accepts in a 256-bit queue (but for bits
 *     the specification calls ignored: the page group response's QW1 bit 2);
 *   - vtd_devtlb_range gives an aligned power-of-two range (or the whole space).
 */
#include "fuzz_util.h"

#include <qinval/vtd.h>
#include <qinval/vtd_format.h>

static uint64_t take64(const uint8_t **p, size_t *n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) {
        uint64_t b = 0;
        if (*n) {
            b = **p;
            (*p)++;
            (*n)--;
        }
        v |= b << (8 * i);
    }
    return v;
}

static uint8_t take8(const uint8_t **p, size_t *n)
{
    if (!*n)
        return 0;
    (*n)--;
    return *(*p)++;
}

static bool known_iqei(unsigned code)
{
    return code == VTD_IQEI_TYPE || code == VTD_IQEI_RSVD || code == VTD_IQEI_WIDTH ||
           code == VTD_IQEI_TTM;
}

static void check_validate(const vtd_desc *d, const vtd_qctx *ctx)
{
    const char *why = (const char *)1;
    unsigned code = vtd_validate(d, ctx, &why);
    if (code) {
        FUZZ_REQUIRE(known_iqei(code), "IQEI %u", code);
        FUZZ_REQUIRE(why && why[0] && !strchr(why, '\n'), "refused without a one-line reason");
    } else
        FUZZ_REQUIRE(why == NULL, "accepted with a reason: %s", why);

    vtd_fields f, g;
    const char *why2 = NULL;
    unsigned code2 = vtd_validate_decode(d, ctx, &f, &why2);
    FUZZ_REQUIRE(code2 == code, "vtd_validate says %u, vtd_validate_decode %u", code, code2);
    if (!code) {
        FUZZ_REQUIRE(vtd_decode(d, &g) == VTD_OK, "valid but the decoder refuses type %u",
                     vtd_desc_type(d));
        FUZZ_REQUIRE(!memcmp(&f, &g, sizeof(f)), "validate_decode's fields differ from decode's");
    }
}

static void check_round_trip(const vtd_desc *d, bool strict_valid)
{
    vtd_fields f, f2;
    if (vtd_decode(d, &f) != VTD_OK) {
        unsigned t = vtd_desc_type(d);
        FUZZ_REQUIRE(t == 0 || t > VTD_DESC_HPT, "decoder refuses known type %u", t);
        FUZZ_REQUIRE(f.type == t, "refused type %u reported as %u", t, f.type);
        return;
    }
    vtd_desc e;
    const char *bad = NULL;
    int rc = vtd_encode(&f, &e, &bad);
    FUZZ_REQUIRE(rc == VTD_OK, "type %u: decoded fields do not re-encode (%d, field %s)", f.type,
                 rc, bad ? bad : "?");
    for (unsigned i = 0; i < 4; i++)
        FUZZ_REQUIRE((e.qw[i] & ~d->qw[i]) == 0,
                     "type %u: encoding sets bits the original lacks in qw%u: %#llx vs %#llx",
                     f.type, i, (unsigned long long)e.qw[i], (unsigned long long)d->qw[i]);
    FUZZ_REQUIRE(vtd_decode(&e, &f2) == VTD_OK, "re-encoded descriptor refused");
    FUZZ_REQUIRE(!memcmp(&f, &f2, sizeof(f)), "type %u: decode(encode(f)) != f", f.type);
    /* Bits the specification says are ignored (not reserved, not a field) do not survive. */
    vtd_desc want = *d;
    if (f.type == VTD_DESC_PGRP_RESP)
        want.qw[1] &= ~VTD_BIT(2); /* ex-LPIG (src/vtd/desc.c, PGRP_RSVD1) */
    if (strict_valid)
        for (unsigned i = 0; i < 4; i++)
            FUZZ_REQUIRE(e.qw[i] == want.qw[i],
                         "type %u: valid descriptor, encode(decode(d)) differs in qw%u: %#llx "
                         "vs %#llx",
                         f.type, i, (unsigned long long)e.qw[i], (unsigned long long)want.qw[i]);
}

static void check_range(uint64_t addr, bool s)
{
    uint64_t start = 1, len = 1;
    vtd_devtlb_range(addr, s, &start, &len);
    if (len == 0) {
        FUZZ_REQUIRE(start == 0, "whole space with start %#llx", (unsigned long long)start);
        return;
    }
    FUZZ_REQUIRE((len & (len - 1)) == 0 && len >= 4096, "length %#llx", (unsigned long long)len);
    FUZZ_REQUIRE((start & (len - 1)) == 0, "start %#llx not aligned to %#llx",
                 (unsigned long long)start, (unsigned long long)len);
    FUZZ_REQUIRE((addr & ~4095ull) - start < len, "addr %#llx outside [%#llx, +%#llx)",
                 (unsigned long long)addr, (unsigned long long)start, (unsigned long long)len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    vtd_desc d;
    for (unsigned i = 0; i < 4; i++)
        d.qw[i] = take64(&p, &n);
    vtd_qctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.cap = take64(&p, &n);
    ctx.ecap = take64(&p, &n);
    ctx.ttm = take8(&p, &n);
    uint8_t flags = take8(&p, &n);
    ctx.dw256 = flags & 1;
    ctx.strict_reserved = flags & 2;
    ctx.haw = take8(&p, &n);

    check_validate(&d, &ctx);
    /* The same descriptor in a strict 256-bit queue of an IOMMU with every capability, in
     * scalable and in legacy mode: accepted only when no reserved bit is set. */
    vtd_qctx all = {.cap = ~0ull,
                    .ecap = ~0ull,
                    .ttm = VTD_TTM_SCALABLE,
                    .dw256 = true,
                    .strict_reserved = true,
                    .haw = 64};
    check_validate(&d, &all);
    bool strict_valid = vtd_validate(&d, &all, NULL) == 0;
    all.ttm = VTD_TTM_LEGACY;
    check_validate(&d, &all);
    strict_valid |= vtd_validate(&d, &all, NULL) == 0;
    check_round_trip(&d, strict_valid);

    char buf[256];
    int len = vtd_desc_format(&d, buf, sizeof(buf));
    FUZZ_REQUIRE(len >= 0 && !strchr(buf, '\n'), "vtd_desc_format gave %d", len);
    (void)vtd_desc_type_name(vtd_desc_type(&d));
    check_range(d.qw[1], d.qw[0] & 1);
    check_range(d.qw[2], d.qw[1] & 1);
    return 0;
}
