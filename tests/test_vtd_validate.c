/*
 * test_vtd_validate.c — unit tests of vtd_validate(), the checks an IOMMU applies to a fetched
 * descriptor: queue configuration (IQEI 7, 5), type for the mode and capabilities (3), reserved
 * encodings (4, always) and reserved bits (4, only with strict_reserved), in that order.
 * Expected reserved-bit masks are written out here from fact sheet 2.1-2.10 (and match QEMU's
 * masks of 2.12), independently of the tables in src/vtd/desc.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <qinval/vtd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define CAP_TEST (VTD_CAP_PSI | 18ull << VTD_CAP_MAMV_SHIFT)
#define ECAP_TEST                                                                                  \
    (VTD_ECAP_QI | VTD_ECAP_DT | VTD_ECAP_IR | VTD_ECAP_PRS | VTD_ECAP_SMTS | VTD_ECAP_HPTS |      \
     VTD_ECAP_DIT | VTD_ECAP_PDS | 15ull << VTD_ECAP_MHMV_SHIFT)
#define TYPE_BITS (VTD_MASK(3, 0) | VTD_MASK(11, 9))

/* An IOMMU with every relevant capability: PSI, MAMV=18, DT, PRS, SMTS, HPTS, DIT, PDS, MHMV=15. */
static vtd_qctx qctx(enum vtd_ttm ttm, bool dw256)
{
    return (vtd_qctx){.cap = CAP_TEST,
                      .ecap = ECAP_TEST,
                      .ttm = (uint8_t)ttm,
                      .dw256 = dw256,
                      .strict_reserved = true,
                      .haw = 46};
}

static vtd_desc encode(vtd_fields f)
{
    vtd_desc d;
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    return d;
}

/* A valid descriptor of each type. Setting any non-reserved, non-type bit keeps it valid (with
 * CAP.MAMV = 63): granularities are 3 (or IEC global), the response code is 0xF. */
static vtd_desc sample(unsigned type)
{
    vtd_fields f = {.type = (uint8_t)type};
    switch (type) {
    case VTD_DESC_CC:
        f.u.cc = (struct vtd_cc){.g = VTD_CC_G_DEVICE, .did = 1, .sid = 0x0100};
        break;
    case VTD_DESC_IOTLB:
        f.u.iotlb = (struct vtd_iotlb){.g = VTD_IOTLB_G_PAGE, .did = 1, .addr = 0x1000, .ih = 1};
        break;
    case VTD_DESC_DEVTLB:
        f.u.devtlb = (struct vtd_devtlb){.sid = 0x0100, .s = true, .addr = 0x2000};
        break;
    case VTD_DESC_IEC:
        f.u.iec = (struct vtd_iec){.index = false};
        break;
    case VTD_DESC_WAIT:
        f.u.wait = (struct vtd_wait){
            .sw = true, .intr = true, .fn = true, .status_data = 1, .status_addr = 0x3000};
        break;
    case VTD_DESC_PIOTLB:
        f.u.piotlb =
            (struct vtd_piotlb){.g = VTD_PIOTLB_G_PAGE, .did = 1, .pasid = 5, .addr = 0x1000};
        break;
    case VTD_DESC_PC:
        f.u.pc = (struct vtd_pc){.g = VTD_PC_G_GLOBAL};
        break;
    case VTD_DESC_PDEVTLB:
        f.u.pdevtlb = (struct vtd_pdevtlb){.sid = 0x0100, .pasid = 5, .s = true, .addr = 0x2000};
        break;
    case VTD_DESC_PGRP_RESP:
        f.u.pgrp =
            (struct vtd_pgrp_resp){.pp = true, .rc = 0xF, .rid = 0x0100, .pasid = 5, .prgi = 3};
        break;
    case VTD_DESC_HPT:
        f.u.hpt = (struct vtd_hpt){.g = VTD_HPT_G_PAGE, .hptdid = 1, .am = 9, .addr = 0x200000};
        break;
    }
    return encode(f);
}

/* validate() must return `iqei`; for a failure, the rule must be named and contain `rule`. */
static void expect(const vtd_desc *d, const vtd_qctx *ctx, unsigned iqei, const char *rule)
{
    const char *why = "untouched";
    unsigned got = vtd_validate(d, ctx, &why);
    if (got != iqei)
        fail_msg("validate = %u, want %u (why: %s)", got, iqei, why ? why : "NULL");
    if (iqei == 0) {
        assert_null(why);
    } else {
        assert_non_null(why);
        if (rule && !strstr(why, rule))
            fail_msg("why = \"%s\", want it to mention \"%s\"", why, rule);
    }
    assert_int_equal(vtd_validate(d, ctx, NULL), iqei);
    /* vtd_validate_decode: the same verdict and rule, and for a valid descriptor the fields
     * vtd_decode gives (the hardware model keeps them instead of decoding again). */
    vtd_fields f, want;
    const char *why2 = "untouched";
    assert_int_equal(vtd_validate_decode(d, ctx, &f, &why2), iqei);
    assert_ptr_equal(why2, why);
    if (iqei == 0) {
        assert_int_equal(vtd_decode(d, &want), VTD_OK);
        assert_memory_equal(&f, &want, sizeof(f));
    }
}

/* The same in strict and non-strict mode. */
static void expect_always(const vtd_desc *d, vtd_qctx ctx, unsigned iqei, const char *rule)
{
    ctx.strict_reserved = true;
    expect(d, &ctx, iqei, rule);
    ctx.strict_reserved = false;
    expect(d, &ctx, iqei, rule);
}

/* The contexts a type 1-5 descriptor is valid in: legacy mode in either width, and 256-bit
 * scalable and abort-DMA mode. Types 6-0xA: the last two. */
static const struct {
    enum vtd_ttm ttm;
    bool dw256;
} modes[] = {
    {VTD_TTM_SCALABLE, true},
    {VTD_TTM_ABORT, true},
    {VTD_TTM_LEGACY, false},
    {VTD_TTM_LEGACY, true},
};

/* ---------------------------------------------------------------------------------------------
 * Valid descriptors.
 */
static void test_valid_samples_in_every_mode(void **state)
{
    (void)state;
    for (unsigned type = VTD_DESC_CC; type <= VTD_DESC_HPT; type++) {
        vtd_desc d = sample(type);
        size_t nmodes = vtd_type_is_256_only(type) ? 2 : N(modes);
        for (size_t m = 0; m < nmodes; m++)
            expect_always(&d, qctx(modes[m].ttm, modes[m].dw256), 0, NULL);
    }
}

static void test_valid_builders_in_both_widths(void **state)
{
    (void)state;
    const vtd_desc built[] = {
        vtd_make_wait(true, true, true, 1, 0x3000),
        vtd_make_wait(false, false, true, 0, 0),
        vtd_make_iotlb_global(),
        vtd_make_iotlb_domain(1),
        vtd_make_iotlb_page(1, 0x1000, 9, true),
        vtd_make_cc_global(),
        vtd_make_cc_device(1, 0x0100, 3),
        vtd_make_devtlb(0x0100, 0x1000, 1),
        vtd_make_devtlb(0x0100, 0x200000, 512),
        vtd_make_devtlb(0x0100, 0, 0),
    };
    for (size_t i = 0; i < N(built); i++) {
        for (size_t m = 0; m < N(modes); m++)
            expect_always(&built[i], qctx(modes[m].ttm, modes[m].dw256), 0, NULL);
    }
}

/* ---------------------------------------------------------------------------------------------
 * a) Queue configuration.
 */
static void test_reserved_ttm_is_iqei_7(void **state)
{
    (void)state;
    vtd_desc ok = sample(VTD_DESC_WAIT), bad_type = {{0, 0, 0, 0}};
    expect_always(&ok, qctx(VTD_TTM_RESERVED, false), VTD_IQEI_TTM, "TTM");
    expect_always(&ok, qctx(VTD_TTM_RESERVED, true), VTD_IQEI_TTM, "TTM");
    expect_always(&bad_type, qctx(VTD_TTM_RESERVED, true), VTD_IQEI_TTM, "TTM"); /* checked first */
}

static void test_width_mismatch_is_iqei_5(void **state)
{
    (void)state;
    vtd_desc ok = sample(VTD_DESC_WAIT), bad_type = {{0, 0, 0, 0}};
    expect_always(&ok, qctx(VTD_TTM_SCALABLE, false), VTD_IQEI_WIDTH, "128-bit queue");
    expect_always(&ok, qctx(VTD_TTM_ABORT, false), VTD_IQEI_WIDTH, "128-bit queue");
    expect_always(&bad_type, qctx(VTD_TTM_SCALABLE, false), VTD_IQEI_WIDTH, NULL);

    /* DW=1 needs ECAP.SMTS or ECAP.ADMS, in any mode. */
    vtd_qctx ctx = qctx(VTD_TTM_LEGACY, true);
    ctx.ecap &= ~VTD_ECAP_SMTS;
    expect_always(&ok, ctx, VTD_IQEI_WIDTH, "SMTS");
    ctx.ttm = VTD_TTM_SCALABLE;
    expect_always(&ok, ctx, VTD_IQEI_WIDTH, "SMTS");
    ctx.ecap |= VTD_ECAP_ADMS;
    expect_always(&ok, ctx, 0, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * b) Types.
 */
static void test_unknown_type_is_iqei_3(void **state)
{
    (void)state;
    /* type 0, 0xB, 0xF, 0x12 (Type[6:4] = 1 over a valid low nibble), 0x7F */
    const uint64_t qw0[] = {0, 0xB, 0xF, 0x202, 0xE0F};
    for (size_t i = 0; i < N(qw0); i++) {
        vtd_desc d = {{qw0[i], 0, 0, 0}};
        for (size_t m = 0; m < N(modes); m++)
            expect_always(&d, qctx(modes[m].ttm, modes[m].dw256), VTD_IQEI_TYPE, "unknown");
    }
}

static void test_256_bit_type_in_128_bit_queue_is_iqei_3(void **state)
{
    (void)state;
    for (unsigned type = VTD_DESC_PIOTLB; type <= VTD_DESC_HPT; type++) {
        vtd_desc d = sample(type);
        expect_always(&d, qctx(VTD_TTM_LEGACY, false), VTD_IQEI_TYPE, "128-bit queue");
    }
}

/* Table 26: legacy mode allows only types 1-5, even in a 256-bit queue. */
static void test_256_bit_type_in_legacy_mode_is_iqei_3(void **state)
{
    (void)state;
    for (unsigned type = VTD_DESC_PIOTLB; type <= VTD_DESC_HPT; type++) {
        vtd_desc d = sample(type);
        expect_always(&d, qctx(VTD_TTM_LEGACY, true), VTD_IQEI_TYPE, "legacy mode");
    }
}

static void test_type_needs_capability(void **state)
{
    (void)state;
    const struct {
        unsigned type;
        uint64_t ecap_bit;
        const char *rule;
    } cases[] = {
        {VTD_DESC_DEVTLB, VTD_ECAP_DT, "devtlb type without ECAP.DT"},
        {VTD_DESC_PDEVTLB, VTD_ECAP_DT, "devtlb type without ECAP.DT"},
        {VTD_DESC_PGRP_RESP, VTD_ECAP_PRS, "ECAP.PRS"},
        {VTD_DESC_HPT, VTD_ECAP_HPTS, "ECAP.HPTS"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        vtd_desc d = sample(cases[i].type);
        size_t nmodes = vtd_type_is_256_only(cases[i].type) ? 2 : N(modes);
        for (size_t m = 0; m < nmodes; m++) {
            vtd_qctx ctx = qctx(modes[m].ttm, modes[m].dw256);
            expect_always(&d, ctx, 0, NULL);
            ctx.ecap &= ~cases[i].ecap_bit;
            expect_always(&d, ctx, VTD_IQEI_TYPE, cases[i].rule);
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * c) Reserved encodings: IQEI 4 whether or not reserved bits are checked.
 */
static vtd_desc with_g(unsigned type, unsigned g)
{
    vtd_desc d = sample(type);
    d.qw[0] = (d.qw[0] & ~VTD_MASK(5, 4)) | (uint64_t)g << 4;
    return d;
}

static void test_reserved_granularity_is_iqei_4(void **state)
{
    (void)state;
    const struct {
        unsigned type;
        unsigned reserved; /* bit g: G = g is reserved */
    } cases[] = {
        {VTD_DESC_CC, 1u << 0}, {VTD_DESC_IOTLB, 1u << 0}, {VTD_DESC_PIOTLB, 1u << 0 | 1u << 1},
        {VTD_DESC_PC, 1u << 2}, {VTD_DESC_HPT, 1u << 0},
    };
    vtd_qctx ctx = qctx(VTD_TTM_SCALABLE, true);
    for (size_t i = 0; i < N(cases); i++) {
        for (unsigned g = 0; g < 4; g++) {
            vtd_desc d = with_g(cases[i].type, g);
            if (cases[i].reserved & (1u << g))
                expect_always(&d, ctx, VTD_IQEI_RSVD, "granularity");
            else
                expect_always(&d, ctx, 0, NULL);
        }
    }
}

static void test_iotlb_page_needs_psi(void **state)
{
    (void)state;
    vtd_qctx ctx = qctx(VTD_TTM_LEGACY, false);
    ctx.cap &= ~VTD_CAP_PSI;
    vtd_desc page = vtd_make_iotlb_page(1, 0x1000, 0, false);
    expect_always(&page, ctx, VTD_IQEI_RSVD, "CAP.PSI");
    vtd_desc domain = vtd_make_iotlb_domain(1), global = vtd_make_iotlb_global();
    expect_always(&domain, ctx, 0, NULL);
    expect_always(&global, ctx, 0, NULL);
}

static void test_iotlb_am_limited_by_mamv(void **state)
{
    (void)state;
    vtd_qctx ctx = qctx(VTD_TTM_LEGACY, false); /* MAMV = 18 */
    vtd_desc d = vtd_make_iotlb_page(1, 0, 18, false);
    expect_always(&d, ctx, 0, NULL);
    d = vtd_make_iotlb_page(1, 0, 19, false);
    expect_always(&d, ctx, VTD_IQEI_RSVD, "CAP.MAMV");
    ctx.cap &= ~VTD_CAP_MAMV_MASK; /* MAMV = 0 */
    d = vtd_make_iotlb_page(1, 0, 1, false);
    expect_always(&d, ctx, VTD_IQEI_RSVD, "CAP.MAMV");

    /* AM is ignored unless page-selective. */
    vtd_fields f = {.type = VTD_DESC_IOTLB, .u.iotlb = {.g = VTD_IOTLB_G_DOMAIN, .am = 63}};
    d = encode(f);
    expect_always(&d, ctx, 0, NULL);
}

/* P_IOTLB supports every address mask, whatever CAP.MAMV and CAP.PSI say (fact sheet 2.6). */
static void test_piotlb_am_not_limited(void **state)
{
    (void)state;
    vtd_qctx ctx = qctx(VTD_TTM_SCALABLE, true);
    ctx.cap = 0;
    vtd_fields f = {.type = VTD_DESC_PIOTLB, .u.piotlb = {.g = VTD_PIOTLB_G_PAGE, .am = 63}};
    vtd_desc d = encode(f);
    expect_always(&d, ctx, 0, NULL);
}

static void test_iec_im_limited_by_mhmv(void **state)
{
    (void)state;
    vtd_qctx ctx = qctx(VTD_TTM_LEGACY, false); /* MHMV = 15 */
    vtd_fields f = {.type = VTD_DESC_IEC, .u.iec = {.index = true, .im = 15, .iidx = 0}};
    vtd_desc d = encode(f);
    expect_always(&d, ctx, 0, NULL);
    f.u.iec.im = 16;
    d = encode(f);
    expect_always(&d, ctx, VTD_IQEI_RSVD, "MHMV");
    ctx.ecap &= ~VTD_ECAP_MHMV_MASK; /* MHMV = 0 */
    f.u.iec.im = 1;
    d = encode(f);
    expect_always(&d, ctx, VTD_IQEI_RSVD, "MHMV");

    /* IM is ignored for a global invalidation. */
    f.u.iec = (struct vtd_iec){.index = false, .im = 31};
    d = encode(f);
    expect_always(&d, ctx, 0, NULL);
}

static void test_pgrp_reserved_response_codes(void **state)
{
    (void)state;
    vtd_qctx ctx = qctx(VTD_TTM_SCALABLE, true);
    for (unsigned rc = 0; rc < 16; rc++) {
        vtd_fields f = {.type = VTD_DESC_PGRP_RESP, .u.pgrp = {.rc = (uint8_t)rc, .rid = 1}};
        vtd_desc d = encode(f);
        if (rc == 0 || rc == 1 || rc == 0xF)
            expect_always(&d, ctx, 0, NULL);
        else
            expect_always(&d, ctx, VTD_IQEI_RSVD, "response code");
    }
}

/* ---------------------------------------------------------------------------------------------
 * d) Reserved bits: IQEI 4 with strict_reserved only.
 */
#define ALL (~0ull)
/* Reserved bits of QW0 and QW1 on an IOMMU without DIT and PDS (fact sheet 2.1-2.10; equal to
 * QEMU's masks in 2.12 where QEMU has one). */
static const struct {
    unsigned type;
    uint64_t qw0, qw1;
} reserved[] = {
    {VTD_DESC_CC, 0xFFFC00000000F1C0ull, ALL},
    {VTD_DESC_IOTLB, 0xFFFFFFFF0000F100ull, 0xF80},
    {VTD_DESC_DEVTLB, 0xFFFF0000FFE0F1F0ull, 0xFFE},
    {VTD_DESC_IEC, 0xFFFF000007FFF1E0ull, ALL},
    {VTD_DESC_WAIT, 0xFFFFF180ull, 0x3},
    {VTD_DESC_PIOTLB, 0xFFF000000000F1C0ull, 0xF80},
    {VTD_DESC_PC, 0xFFF000000000F1C0ull, ALL},
    {VTD_DESC_PDEVTLB, 0xFFF000000000F000ull, 0x7FE},
    {VTD_DESC_PGRP_RESP, 0xFFF00000000001E0ull, 0xFFFFFFFFFFFFF003ull},
    {VTD_DESC_HPT, 0xFFFFFFFF0000F1C0ull, 0xF00}, /* UNCERTAIN QW0, see desc.c */
};
#define PFSID_BITS       0xFFF000000000F000ull /* types 3 and 8, reserved unless ECAP.DIT */
#define WAIT_PD          0x80ull               /* reserved unless ECAP.PDS */
#define PGRP_IGNORED_QW1 0x4ull                /* ex-LPIG: ignored, not reserved */

static uint64_t capability_bits(unsigned type)
{
    if (type == VTD_DESC_DEVTLB || type == VTD_DESC_PDEVTLB)
        return PFSID_BITS;
    return type == VTD_DESC_WAIT ? WAIT_PD : 0;
}

/* Set each bit of QW0 and QW1 (type bits aside) in turn on the type's sample: IQEI 4 exactly for
 * the reserved ones when strict, never otherwise. */
static void sweep_bits(unsigned type, uint64_t rsvd0, uint64_t rsvd1, vtd_qctx ctx)
{
    for (unsigned qw = 0; qw < 2; qw++) {
        for (unsigned bit = 0; bit < 64; bit++) {
            if (qw == 0 && (TYPE_BITS & VTD_BIT(bit)))
                continue;
            vtd_desc d = sample(type);
            d.qw[qw] |= VTD_BIT(bit);
            bool is_reserved = ((qw ? rsvd1 : rsvd0) & VTD_BIT(bit)) != 0;
            ctx.strict_reserved = true;
            const char *why = NULL;
            unsigned got = vtd_validate(&d, &ctx, &why);
            if (got != (is_reserved ? VTD_IQEI_RSVD : 0))
                fail_msg("type %u QW%u bit %u: validate = %u (why: %s)", type, qw, bit, got,
                         why ? why : "NULL");
            ctx.strict_reserved = false;
            assert_int_equal(vtd_validate(&d, &ctx, NULL), 0);
        }
    }
}

static vtd_qctx sweep_ctx(unsigned type, uint64_t extra_ecap)
{
    vtd_qctx ctx = qctx(vtd_type_is_256_only(type) ? VTD_TTM_SCALABLE : VTD_TTM_LEGACY,
                        vtd_type_is_256_only(type));
    ctx.cap |= VTD_CAP_MAMV_MASK; /* so that setting AM bits stays within MAMV */
    ctx.ecap = (ctx.ecap & ~(VTD_ECAP_DIT | VTD_ECAP_PDS)) | extra_ecap;
    return ctx;
}

static void test_reserved_bits_without_dit_pds(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(reserved); i++)
        sweep_bits(reserved[i].type, reserved[i].qw0, reserved[i].qw1,
                   sweep_ctx(reserved[i].type, 0));
}

static void test_reserved_bits_with_dit_pds(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(reserved); i++) {
        unsigned type = reserved[i].type;
        sweep_bits(type, reserved[i].qw0 & ~capability_bits(type), reserved[i].qw1,
                   sweep_ctx(type, VTD_ECAP_DIT | VTD_ECAP_PDS));
    }
}

/* Types 1-5 in a 256-bit queue are swept too (QW2/QW3 zero). */
static void test_reserved_bits_128_bit_types_in_256_bit_queue(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(reserved); i++) {
        unsigned type = reserved[i].type;
        if (vtd_type_is_256_only(type))
            continue;
        vtd_qctx ctx = sweep_ctx(type, 0);
        ctx.dw256 = true;
        ctx.ttm = VTD_TTM_SCALABLE;
        sweep_bits(type, reserved[i].qw0, reserved[i].qw1, ctx);
    }
}

/* The expected masks above, the fields the encoder fills and the type bits partition each
 * quadword (save the ignored ex-LPIG bit). */
static void test_reserved_masks_complement_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(reserved); i++) {
        unsigned type = reserved[i].type;
        vtd_fields f = {.type = (uint8_t)type};
        vtd_desc zero, d;
        assert_int_equal(vtd_encode(&f, &zero, NULL), VTD_OK);
        /* every field at its maximum: decode an all-ones descriptor and encode it again */
        vtd_desc ones = {{~TYPE_BITS | type, ~0ull, 0, 0}};
        assert_int_equal(vtd_decode(&ones, &f), VTD_OK);
        assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
        uint64_t used0 = d.qw[0] & ~TYPE_BITS, used1 = d.qw[1];
        uint64_t rsvd0 = reserved[i].qw0 & ~capability_bits(type), rsvd1 = reserved[i].qw1;
        uint64_t ignored1 = type == VTD_DESC_PGRP_RESP ? PGRP_IGNORED_QW1 : 0;
        assert_int_equal(used0 & rsvd0, 0);
        assert_int_equal(used1 & rsvd1, 0);
        assert_int_equal(used0 | rsvd0 | TYPE_BITS, ALL);
        assert_int_equal(used1 | rsvd1 | ignored1, ALL);
    }
}

static void test_pfsid_needs_dit(void **state)
{
    (void)state;
    const uint16_t pfsids[] = {0x0001, 0x0010, 0x8000};
    for (size_t i = 0; i < N(pfsids); i++) {
        vtd_fields dev = {.type = VTD_DESC_DEVTLB, .u.devtlb = {.sid = 1, .pfsid = pfsids[i]}};
        vtd_fields pdev = {.type = VTD_DESC_PDEVTLB, .u.pdevtlb = {.sid = 1, .pfsid = pfsids[i]}};
        vtd_desc d3 = encode(dev), d8 = encode(pdev);
        vtd_qctx ctx = qctx(VTD_TTM_SCALABLE, true);
        expect_always(&d3, ctx, 0, NULL);
        expect_always(&d8, ctx, 0, NULL);
        ctx.ecap &= ~VTD_ECAP_DIT;
        expect(&d3, &ctx, VTD_IQEI_RSVD, "ECAP.DIT");
        expect(&d8, &ctx, VTD_IQEI_RSVD, "ECAP.DIT");
        ctx.strict_reserved = false;
        expect(&d3, &ctx, 0, NULL);
        expect(&d8, &ctx, 0, NULL);
    }
}

static void test_wait_pd_needs_pds(void **state)
{
    (void)state;
    vtd_fields f = {.type = VTD_DESC_WAIT, .u.wait = {.intr = true, .pd = true}};
    vtd_desc d = encode(f);
    vtd_qctx ctx = qctx(VTD_TTM_LEGACY, false);
    expect_always(&d, ctx, 0, NULL);
    ctx.ecap &= ~VTD_ECAP_PDS;
    expect(&d, &ctx, VTD_IQEI_RSVD, "ECAP.PDS");
    ctx.strict_reserved = false;
    expect(&d, &ctx, 0, NULL);
}

/* Status address bits above HAW are ignored, not reserved; bits 1:0 are reserved. */
static void test_wait_address_above_haw_ignored(void **state)
{
    (void)state;
    vtd_qctx ctx = qctx(VTD_TTM_LEGACY, false);
    ctx.haw = 39;
    vtd_desc d = vtd_make_wait(true, false, false, 1, 0xFFFFFFFFFFFFF000ull);
    expect_always(&d, ctx, 0, NULL);
    d.qw[1] |= 1;
    expect(&d, &ctx, VTD_IQEI_RSVD, "QW1");
    d.qw[1] = 0x3002;
    expect(&d, &ctx, VTD_IQEI_RSVD, "QW1");
}

static void test_upper_quadwords_in_256_bit_queue(void **state)
{
    (void)state;
    vtd_qctx wide = qctx(VTD_TTM_SCALABLE, true), narrow = qctx(VTD_TTM_LEGACY, false);
    for (unsigned type = VTD_DESC_CC; type <= VTD_DESC_HPT; type++) {
        for (unsigned qw = 2; qw < 4; qw++) {
            const uint64_t values[] = {1, VTD_BIT(63)};
            for (size_t v = 0; v < N(values); v++) {
                vtd_desc d = sample(type);
                d.qw[qw] = values[v];
                wide.strict_reserved = true;
                expect(&d, &wide, VTD_IQEI_RSVD, "QW2/QW3");
                wide.strict_reserved = false;
                expect(&d, &wide, 0, NULL);
                if (!vtd_type_is_256_only(type)) /* not part of a 128-bit descriptor */
                    expect_always(&d, narrow, 0, NULL);
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Order of the checks and the strict switch.
 */
static void test_check_order(void **state)
{
    (void)state;
    /* type before encodings: a reserved response code in a type the IOMMU lacks */
    vtd_fields f = {.type = VTD_DESC_PGRP_RESP, .u.pgrp = {.rc = 5}};
    vtd_desc d = encode(f);
    vtd_qctx ctx = qctx(VTD_TTM_SCALABLE, true);
    ctx.ecap &= ~VTD_ECAP_PRS;
    expect_always(&d, ctx, VTD_IQEI_TYPE, "PRS");

    /* type before encodings: a reserved P_IOTLB granularity in a 128-bit queue */
    d = with_g(VTD_DESC_PIOTLB, 0);
    expect_always(&d, qctx(VTD_TTM_LEGACY, false), VTD_IQEI_TYPE, "128-bit queue");

    /* encodings before bits: G=0 and reserved bits in QW1 */
    d = with_g(VTD_DESC_CC, 0);
    d.qw[1] = ~0ull;
    expect_always(&d, qctx(VTD_TTM_LEGACY, false), VTD_IQEI_RSVD, "reserved granularity");

    /* QW0 before QW1 before QW2/QW3 */
    d = sample(VTD_DESC_IOTLB);
    d.qw[0] |= VTD_BIT(40);
    d.qw[1] |= VTD_BIT(8);
    d.qw[2] = 1;
    ctx = qctx(VTD_TTM_SCALABLE, true);
    expect(&d, &ctx, VTD_IQEI_RSVD, "reserved bits set in QW0");
    d.qw[0] &= ~VTD_BIT(40);
    expect(&d, &ctx, VTD_IQEI_RSVD, "reserved bits set in QW1");
    d.qw[1] &= ~VTD_BIT(8);
    expect(&d, &ctx, VTD_IQEI_RSVD, "QW2/QW3");
}

/* Non-strict: reserved bits pass, reserved granularity does not. */
static void test_non_strict_still_rejects_granularity(void **state)
{
    (void)state;
    vtd_qctx ctx = qctx(VTD_TTM_LEGACY, false);
    ctx.strict_reserved = false;
    vtd_desc d = vtd_make_cc_global();
    d.qw[0] |= VTD_MASK(63, 50);
    d.qw[1] = ~0ull;
    expect(&d, &ctx, 0, NULL);
    d.qw[0] &= ~VTD_MASK(5, 4);
    expect(&d, &ctx, VTD_IQEI_RSVD, "granularity");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_samples_in_every_mode),
        cmocka_unit_test(test_valid_builders_in_both_widths),
        cmocka_unit_test(test_reserved_ttm_is_iqei_7),
        cmocka_unit_test(test_width_mismatch_is_iqei_5),
        cmocka_unit_test(test_unknown_type_is_iqei_3),
        cmocka_unit_test(test_256_bit_type_in_128_bit_queue_is_iqei_3),
        cmocka_unit_test(test_256_bit_type_in_legacy_mode_is_iqei_3),
        cmocka_unit_test(test_type_needs_capability),
        cmocka_unit_test(test_reserved_granularity_is_iqei_4),
        cmocka_unit_test(test_iotlb_page_needs_psi),
        cmocka_unit_test(test_iotlb_am_limited_by_mamv),
        cmocka_unit_test(test_piotlb_am_not_limited),
        cmocka_unit_test(test_iec_im_limited_by_mhmv),
        cmocka_unit_test(test_pgrp_reserved_response_codes),
        cmocka_unit_test(test_reserved_bits_without_dit_pds),
        cmocka_unit_test(test_reserved_bits_with_dit_pds),
        cmocka_unit_test(test_reserved_bits_128_bit_types_in_256_bit_queue),
        cmocka_unit_test(test_reserved_masks_complement_fields),
        cmocka_unit_test(test_pfsid_needs_dit),
        cmocka_unit_test(test_wait_pd_needs_pds),
        cmocka_unit_test(test_wait_address_above_haw_ignored),
        cmocka_unit_test(test_upper_quadwords_in_256_bit_queue),
        cmocka_unit_test(test_check_order),
        cmocka_unit_test(test_non_strict_still_rejects_granularity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
