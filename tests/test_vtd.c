/*
 * test_vtd.c — unit tests of the VT-d descriptor codec (src/vtd/desc.c): encode/decode round
 * trips for every type, field overflow rejection, raw bit positions computed by hand from the
 * spec tables (fact sheet section 2), the builders and the ATS size encoding.
 * Validation is tested in test_vtd_validate.c, formatting in test_vtd_format.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <qinval/vtd.h>

#define ADDR_MAX 0xFFFFFFFFFFFFF000ull /* largest page address */

/* Every field of a type at its maximum. */
static vtd_fields max_fields(unsigned type)
{
    vtd_fields f = {.type = (uint8_t)type};
    switch (type) {
    case VTD_DESC_CC:
        f.u.cc = (struct vtd_cc){.g = 3, .did = 0xFFFF, .sid = 0xFFFF, .fm = 3};
        break;
    case VTD_DESC_IOTLB:
        f.u.iotlb = (struct vtd_iotlb){
            .g = 3, .dr = true, .dw = true, .did = 0xFFFF, .am = 63, .ih = true, .addr = ADDR_MAX};
        break;
    case VTD_DESC_DEVTLB:
        f.u.devtlb = (struct vtd_devtlb){
            .sid = 0xFFFF, .pfsid = 0xFFFF, .mip = 31, .s = true, .addr = ADDR_MAX};
        break;
    case VTD_DESC_IEC:
        f.u.iec = (struct vtd_iec){.index = true, .im = 31, .iidx = 0xFFFF};
        break;
    case VTD_DESC_WAIT:
        f.u.wait = (struct vtd_wait){.intr = true,
                                     .sw = true,
                                     .fn = true,
                                     .pd = true,
                                     .status_data = 0xFFFFFFFF,
                                     .status_addr = 0xFFFFFFFFFFFFFFFCull};
        break;
    case VTD_DESC_PIOTLB:
        f.u.piotlb = (struct vtd_piotlb){
            .g = 3, .did = 0xFFFF, .pasid = 0xFFFFF, .am = 63, .ih = true, .addr = ADDR_MAX};
        break;
    case VTD_DESC_PC:
        f.u.pc = (struct vtd_pc){.g = 3, .did = 0xFFFF, .pasid = 0xFFFFF};
        break;
    case VTD_DESC_PDEVTLB:
        f.u.pdevtlb = (struct vtd_pdevtlb){.sid = 0xFFFF,
                                           .pfsid = 0xFFFF,
                                           .mip = 31,
                                           .pasid = 0xFFFFF,
                                           .gi = true,
                                           .s = true,
                                           .addr = ADDR_MAX};
        break;
    case VTD_DESC_PGRP_RESP:
        f.u.pgrp = (struct vtd_pgrp_resp){
            .pp = true, .rc = 0xF, .rid = 0xFFFF, .pasid = 0xFFFFF, .prgi = 0x1FF};
        break;
    case VTD_DESC_HPT:
        f.u.hpt = (struct vtd_hpt){.g = 3, .hptdid = 0xFFFF, .am = 63, .ih = 3, .addr = ADDR_MAX};
        break;
    }
    return f;
}

/* The max_fields() encodings, computed by hand from the field tables of fact sheet 2.1-2.10:
 * every field bit set, type in QW0[3:0]. */
static const struct {
    unsigned type;
    uint64_t qw0, qw1;
} max_raw[] = {
    /* G 5:4, DID 31:16, SID 47:32, FM 49:48 */
    {VTD_DESC_CC, 0x0003FFFFFFFF0031ull, 0},
    /* G 5:4, DW 6, DR 7, DID 31:16 | AM 5:0, IH 6, ADDR 63:12 */
    {VTD_DESC_IOTLB, 0x00000000FFFF00F2ull, 0xFFFFFFFFFFFFF07Full},
    /* PFSID 15:12 and 63:52, MIP 20:16, SID 47:32 | S 0, ADDR 63:12 */
    {VTD_DESC_DEVTLB, 0xFFF0FFFF001FF003ull, 0xFFFFFFFFFFFFF001ull},
    /* G 4, IM 31:27, IIDX 47:32 */
    {VTD_DESC_IEC, 0x0000FFFFF8000014ull, 0},
    /* IF 4, SW 5, FN 6, PD 7, data 63:32 | address 63:2 */
    {VTD_DESC_WAIT, 0xFFFFFFFF000000F5ull, 0xFFFFFFFFFFFFFFFCull},
    /* G 5:4, DID 31:16, PASID 51:32 | AM 5:0, IH 6, ADDR 63:12 */
    {VTD_DESC_PIOTLB, 0x000FFFFFFFFF0036ull, 0xFFFFFFFFFFFFF07Full},
    /* G 5:4, DID 31:16, PASID 51:32 */
    {VTD_DESC_PC, 0x000FFFFFFFFF0037ull, 0},
    /* MIP 8:4, PFSID 15:12 and 63:52, SID 31:16, PASID 51:32 | GI 0, S 11, ADDR 63:12 */
    {VTD_DESC_PDEVTLB, 0xFFFFFFFFFFFFF1F8ull, 0xFFFFFFFFFFFFF801ull},
    /* PP 4, RC 15:12, RID 31:16, PASID 51:32 | PRGI 11:3 */
    {VTD_DESC_PGRP_RESP, 0x000FFFFFFFFFF019ull, 0x0000000000000FF8ull},
    /* G 5:4, HPTDID 31:16 | AM 5:0, IH 7:6, ADDR 63:12 */
    {VTD_DESC_HPT, 0x00000000FFFF003Aull, 0xFFFFFFFFFFFFF0FFull},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void assert_fields_equal(const vtd_fields *a, const vtd_fields *b)
{
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case VTD_DESC_CC:
        assert_int_equal(a->u.cc.g, b->u.cc.g);
        assert_int_equal(a->u.cc.did, b->u.cc.did);
        assert_int_equal(a->u.cc.sid, b->u.cc.sid);
        assert_int_equal(a->u.cc.fm, b->u.cc.fm);
        break;
    case VTD_DESC_IOTLB:
        assert_int_equal(a->u.iotlb.g, b->u.iotlb.g);
        assert_int_equal(a->u.iotlb.dr, b->u.iotlb.dr);
        assert_int_equal(a->u.iotlb.dw, b->u.iotlb.dw);
        assert_int_equal(a->u.iotlb.did, b->u.iotlb.did);
        assert_int_equal(a->u.iotlb.am, b->u.iotlb.am);
        assert_int_equal(a->u.iotlb.ih, b->u.iotlb.ih);
        assert_int_equal(a->u.iotlb.addr, b->u.iotlb.addr);
        break;
    case VTD_DESC_DEVTLB:
        assert_int_equal(a->u.devtlb.sid, b->u.devtlb.sid);
        assert_int_equal(a->u.devtlb.pfsid, b->u.devtlb.pfsid);
        assert_int_equal(a->u.devtlb.mip, b->u.devtlb.mip);
        assert_int_equal(a->u.devtlb.s, b->u.devtlb.s);
        assert_int_equal(a->u.devtlb.addr, b->u.devtlb.addr);
        break;
    case VTD_DESC_IEC:
        assert_int_equal(a->u.iec.index, b->u.iec.index);
        assert_int_equal(a->u.iec.im, b->u.iec.im);
        assert_int_equal(a->u.iec.iidx, b->u.iec.iidx);
        break;
    case VTD_DESC_WAIT:
        assert_int_equal(a->u.wait.intr, b->u.wait.intr);
        assert_int_equal(a->u.wait.sw, b->u.wait.sw);
        assert_int_equal(a->u.wait.fn, b->u.wait.fn);
        assert_int_equal(a->u.wait.pd, b->u.wait.pd);
        assert_int_equal(a->u.wait.status_data, b->u.wait.status_data);
        assert_int_equal(a->u.wait.status_addr, b->u.wait.status_addr);
        break;
    case VTD_DESC_PIOTLB:
        assert_int_equal(a->u.piotlb.g, b->u.piotlb.g);
        assert_int_equal(a->u.piotlb.did, b->u.piotlb.did);
        assert_int_equal(a->u.piotlb.pasid, b->u.piotlb.pasid);
        assert_int_equal(a->u.piotlb.am, b->u.piotlb.am);
        assert_int_equal(a->u.piotlb.ih, b->u.piotlb.ih);
        assert_int_equal(a->u.piotlb.addr, b->u.piotlb.addr);
        break;
    case VTD_DESC_PC:
        assert_int_equal(a->u.pc.g, b->u.pc.g);
        assert_int_equal(a->u.pc.did, b->u.pc.did);
        assert_int_equal(a->u.pc.pasid, b->u.pc.pasid);
        break;
    case VTD_DESC_PDEVTLB:
        assert_int_equal(a->u.pdevtlb.sid, b->u.pdevtlb.sid);
        assert_int_equal(a->u.pdevtlb.pfsid, b->u.pdevtlb.pfsid);
        assert_int_equal(a->u.pdevtlb.mip, b->u.pdevtlb.mip);
        assert_int_equal(a->u.pdevtlb.pasid, b->u.pdevtlb.pasid);
        assert_int_equal(a->u.pdevtlb.gi, b->u.pdevtlb.gi);
        assert_int_equal(a->u.pdevtlb.s, b->u.pdevtlb.s);
        assert_int_equal(a->u.pdevtlb.addr, b->u.pdevtlb.addr);
        break;
    case VTD_DESC_PGRP_RESP:
        assert_int_equal(a->u.pgrp.pp, b->u.pgrp.pp);
        assert_int_equal(a->u.pgrp.rc, b->u.pgrp.rc);
        assert_int_equal(a->u.pgrp.rid, b->u.pgrp.rid);
        assert_int_equal(a->u.pgrp.pasid, b->u.pgrp.pasid);
        assert_int_equal(a->u.pgrp.prgi, b->u.pgrp.prgi);
        break;
    case VTD_DESC_HPT:
        assert_int_equal(a->u.hpt.g, b->u.hpt.g);
        assert_int_equal(a->u.hpt.hptdid, b->u.hpt.hptdid);
        assert_int_equal(a->u.hpt.am, b->u.hpt.am);
        assert_int_equal(a->u.hpt.ih, b->u.hpt.ih);
        assert_int_equal(a->u.hpt.addr, b->u.hpt.addr);
        break;
    default:
        fail_msg("unexpected type %u", a->type);
    }
}

static void assert_desc(const vtd_desc *d, uint64_t qw0, uint64_t qw1)
{
    assert_int_equal(d->qw[0], qw0);
    assert_int_equal(d->qw[1], qw1);
    assert_int_equal(d->qw[2], 0);
    assert_int_equal(d->qw[3], 0);
}

/* An encoding out of the way of every field, to show encode starts from zero. */
static vtd_desc garbage(void)
{
    return (vtd_desc){{~0ull, ~0ull, ~0ull, ~0ull}};
}

/* ---------------------------------------------------------------------------------------------
 * Round trips and raw layouts.
 */
static void test_roundtrip_zero_fields(void **state)
{
    (void)state;
    for (unsigned type = VTD_DESC_CC; type <= VTD_DESC_HPT; type++) {
        vtd_fields f = {.type = (uint8_t)type}, back;
        vtd_desc d = garbage();
        assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
        assert_desc(&d, type, 0);
        assert_int_equal(vtd_decode(&d, &back), VTD_OK);
        assert_fields_equal(&f, &back);
    }
}

static void test_roundtrip_max_fields(void **state)
{
    (void)state;
    for (unsigned type = VTD_DESC_CC; type <= VTD_DESC_HPT; type++) {
        vtd_fields f = max_fields(type), back;
        vtd_desc d = garbage();
        const char *bad = NULL;
        assert_int_equal(vtd_encode(&f, &d, &bad), VTD_OK);
        assert_null(bad);
        assert_int_equal(d.qw[2], 0);
        assert_int_equal(d.qw[3], 0);
        assert_int_equal(vtd_decode(&d, &back), VTD_OK);
        assert_fields_equal(&f, &back);
    }
}

static void test_max_fields_raw_bits(void **state)
{
    (void)state;
    assert_int_equal(N(max_raw), VTD_DESC_HPT);
    for (size_t i = 0; i < N(max_raw); i++) {
        vtd_fields f = max_fields(max_raw[i].type);
        vtd_desc d;
        assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
        assert_desc(&d, max_raw[i].qw0, max_raw[i].qw1);
    }
}

/* Decoding an all-ones descriptor (reserved bits included) gives every field at its maximum:
 * reserved bits are ignored and do not leak into fields. */
static void test_decode_ignores_reserved_bits(void **state)
{
    (void)state;
    for (unsigned type = VTD_DESC_CC; type <= VTD_DESC_HPT; type++) {
        vtd_desc d = {{(~0ull & ~VTD_MASK(11, 9) & ~0xFull) | type, ~0ull, ~0ull, ~0ull}};
        vtd_fields got, want = max_fields(type);
        assert_int_equal(vtd_decode(&d, &got), VTD_OK);
        assert_fields_equal(&want, &got);
    }
}

/* Hand-computed encodings of ordinary descriptors. */
static void test_raw_bit_positions(void **state)
{
    (void)state;
    vtd_desc d;
    vtd_fields f;

    f = (vtd_fields){.type = VTD_DESC_IOTLB,
                     .u.iotlb = {.g = VTD_IOTLB_G_PAGE, .did = 1, .addr = 0x1000, .ih = true}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x10032, 0x1040); /* G=3 at 5:4, DID at 31:16 | IH bit 6 */

    f = (vtd_fields){.type = VTD_DESC_IOTLB, .u.iotlb = {.g = VTD_IOTLB_G_GLOBAL, .dw = true}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x52, 0); /* DW bit 6 */
    f.u.iotlb = (struct vtd_iotlb){.g = VTD_IOTLB_G_DOMAIN, .dr = true, .did = 0x8001};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x800100A2ull, 0); /* DR bit 7 */

    f = (vtd_fields){
        .type = VTD_DESC_DEVTLB,
        .u.devtlb = {.sid = 0x0100, .pfsid = 0xABCD, .mip = 5, .s = true, .addr = 0x2000}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0xABC001000005D003ull, 0x2001); /* PFSID D at 15:12, ABC at 63:52 */

    f = (vtd_fields){
        .type = VTD_DESC_WAIT,
        .u.wait = {.sw = true, .intr = true, .fn = true, .status_data = 1, .status_addr = 0x3000}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x0000000100000075ull, 0x3000);

    f = (vtd_fields){.type = VTD_DESC_IEC, .u.iec = {.index = true, .im = 4, .iidx = 0x20}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x0000002020000014ull, 0);

    f = (vtd_fields){.type = VTD_DESC_CC,
                     .u.cc = {.g = VTD_CC_G_DEVICE, .did = 7, .sid = 0x00F8, .fm = 3}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x000300F800070031ull, 0);

    f = (vtd_fields){.type = VTD_DESC_PIOTLB,
                     .u.piotlb = {.g = VTD_PIOTLB_G_PAGE,
                                  .did = 3,
                                  .pasid = 0xABCDE,
                                  .am = 1,
                                  .ih = true,
                                  .addr = 0x10000}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x000ABCDE00030036ull, 0x10041);

    f = (vtd_fields){.type = VTD_DESC_PC, .u.pc = {.g = VTD_PC_G_PASID, .did = 4, .pasid = 0x10}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x0000001000040017ull, 0);

    f = (vtd_fields){
        .type = VTD_DESC_PDEVTLB,
        .u.pdevtlb = {
            .sid = 0x0100, .mip = 5, .pasid = 0x12345, .gi = true, .s = true, .addr = 0x4000}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x0001234501000058ull, 0x4801); /* MIP 8:4, SID 31:16 | GI 0, S 11 */

    f = (vtd_fields){.type = VTD_DESC_PGRP_RESP,
                     .u.pgrp = {.pp = true, .rc = 0xF, .rid = 0x0208, .pasid = 1, .prgi = 0x1FF}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x000000010208F019ull, 0xFF8);

    f = (vtd_fields){
        .type = VTD_DESC_HPT,
        .u.hpt = {.g = VTD_HPT_G_PAGE, .hptdid = 2, .am = 9, .ih = 2, .addr = 0x200000}};
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    assert_desc(&d, 0x2003A, 0x200089);
}

/* ---------------------------------------------------------------------------------------------
 * Encoder refusals.
 */
static const struct {
    vtd_fields f;
    const char *field;
} overflows[] = {
    {{.type = VTD_DESC_CC, .u.cc = {.g = 4}}, "g"},
    {{.type = VTD_DESC_CC, .u.cc = {.g = 1, .fm = 4}}, "fm"},
    {{.type = VTD_DESC_IOTLB, .u.iotlb = {.g = 4}}, "g"},
    {{.type = VTD_DESC_IOTLB, .u.iotlb = {.g = 3, .am = 64}}, "am"},
    {{.type = VTD_DESC_IOTLB, .u.iotlb = {.g = 3, .addr = 0x1800}}, "addr"},
    {{.type = VTD_DESC_IOTLB, .u.iotlb = {.g = 3, .addr = 0x1001}}, "addr"},
    {{.type = VTD_DESC_DEVTLB, .u.devtlb = {.mip = 32}}, "mip"},
    {{.type = VTD_DESC_DEVTLB, .u.devtlb = {.addr = 0x2800}}, "addr"},
    {{.type = VTD_DESC_IEC, .u.iec = {.index = true, .im = 32}}, "im"},
    {{.type = VTD_DESC_WAIT, .u.wait = {.sw = true, .status_addr = 0x3002}}, "status_addr"},
    {{.type = VTD_DESC_WAIT, .u.wait = {.sw = true, .status_addr = 0x3001}}, "status_addr"},
    {{.type = VTD_DESC_PIOTLB, .u.piotlb = {.g = 4}}, "g"},
    {{.type = VTD_DESC_PIOTLB, .u.piotlb = {.g = 2, .pasid = 1u << 20}}, "pasid"},
    {{.type = VTD_DESC_PIOTLB, .u.piotlb = {.g = 3, .am = 64}}, "am"},
    {{.type = VTD_DESC_PIOTLB, .u.piotlb = {.g = 3, .addr = 0x10080}}, "addr"},
    {{.type = VTD_DESC_PC, .u.pc = {.g = 7}}, "g"},
    {{.type = VTD_DESC_PC, .u.pc = {.pasid = 0xFFFFFFFF}}, "pasid"},
    {{.type = VTD_DESC_PDEVTLB, .u.pdevtlb = {.mip = 0xFF}}, "mip"},
    {{.type = VTD_DESC_PDEVTLB, .u.pdevtlb = {.pasid = 1u << 20}}, "pasid"},
    {{.type = VTD_DESC_PDEVTLB, .u.pdevtlb = {.addr = 0xFFF}}, "addr"},
    {{.type = VTD_DESC_PGRP_RESP, .u.pgrp = {.rc = 16}}, "rc"},
    {{.type = VTD_DESC_PGRP_RESP, .u.pgrp = {.pasid = 1u << 20}}, "pasid"},
    {{.type = VTD_DESC_PGRP_RESP, .u.pgrp = {.prgi = 512}}, "prgi"},
    {{.type = VTD_DESC_HPT, .u.hpt = {.g = 4}}, "g"},
    {{.type = VTD_DESC_HPT, .u.hpt = {.g = 3, .am = 64}}, "am"},
    {{.type = VTD_DESC_HPT, .u.hpt = {.g = 3, .ih = 4}}, "ih"},
    {{.type = VTD_DESC_HPT, .u.hpt = {.g = 3, .addr = 0x200004}}, "addr"},
};

static void test_encode_rejects_overflow(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(overflows); i++) {
        vtd_desc d = garbage();
        const char *bad = NULL;
        assert_int_equal(vtd_encode(&overflows[i].f, &d, &bad), VTD_EFIELD);
        assert_non_null(bad);
        assert_string_equal(bad, overflows[i].field);
        assert_desc(&d, 0, 0); /* nothing half-encoded */
        assert_int_equal(vtd_encode(&overflows[i].f, &d, NULL), VTD_EFIELD); /* NULL is fine */
    }
}

/* One below each refusal encodes: the limits are exact. */
static void test_encode_accepts_limits(void **state)
{
    (void)state;
    const vtd_fields ok[] = {
        {.type = VTD_DESC_CC, .u.cc = {.g = 3, .fm = 3}},
        {.type = VTD_DESC_IEC, .u.iec = {.index = true, .im = 31}},
        {.type = VTD_DESC_WAIT, .u.wait = {.status_addr = 0x3004}},
        {.type = VTD_DESC_PC, .u.pc = {.pasid = 0xFFFFF}},
        {.type = VTD_DESC_PGRP_RESP, .u.pgrp = {.rc = 15, .prgi = 511}},
        {.type = VTD_DESC_HPT, .u.hpt = {.g = 3, .ih = 3, .am = 63}},
    };
    for (size_t i = 0; i < N(ok); i++) {
        vtd_desc d;
        assert_int_equal(vtd_encode(&ok[i], &d, NULL), VTD_OK);
    }
}

static void test_encode_rejects_unknown_type(void **state)
{
    (void)state;
    const unsigned types[] = {0, 0xB, 0xF, 0x10, 0x7F, 0xFF};
    for (size_t i = 0; i < N(types); i++) {
        vtd_fields f = {.type = (uint8_t)types[i]};
        vtd_desc d = garbage();
        const char *bad = "untouched";
        assert_int_equal(vtd_encode(&f, &d, &bad), VTD_ETYPE);
        assert_string_equal(bad, "untouched");
        assert_desc(&d, 0, 0);
    }
}

static void test_decode_rejects_unknown_type(void **state)
{
    (void)state;
    /* type 0, 0xB, 0xF, and 0x12 (type 2 in the low nibble with Type[6:4] = 1) */
    const uint64_t qw0[] = {0, 0xB, 0xF, 0x202, 0xE00 | 0x5};
    for (size_t i = 0; i < N(qw0); i++) {
        vtd_desc d = {{qw0[i], 0, 0, 0}};
        vtd_fields f;
        assert_int_equal(vtd_decode(&d, &f), VTD_ETYPE);
    }
    vtd_desc d = {{0x202, 0, 0, 0}};
    assert_int_equal(vtd_desc_type(&d), 0x12);
}

/* ---------------------------------------------------------------------------------------------
 * Builders.
 */
static void test_make_wait(void **state)
{
    (void)state;
    vtd_desc d = vtd_make_wait(true, true, true, 1, 0x3000);
    assert_desc(&d, 0x0000000100000075ull, 0x3000);
    d = vtd_make_wait(false, false, true, 0, 0);
    assert_desc(&d, 0x45, 0);                                  /* fence only */
    d = vtd_make_wait(true, false, false, 0xDEADBEEF, 0x3003); /* address masked to a dword */
    assert_desc(&d, 0xDEADBEEF00000025ull, 0x3000);
}

static void test_make_iotlb(void **state)
{
    (void)state;
    vtd_desc d = vtd_make_iotlb_global();
    assert_desc(&d, 0x12, 0);
    d = vtd_make_iotlb_domain(5);
    assert_desc(&d, 0x50022, 0);
    d = vtd_make_iotlb_page(1, 0x1000, 0, true);
    assert_desc(&d, 0x10032, 0x1040);
    d = vtd_make_iotlb_page(0xFFFF, 0x200123, 0x49, false); /* addr and am masked */
    assert_desc(&d, 0xFFFF0032ull, 0x200009);
}

static void test_make_cc(void **state)
{
    (void)state;
    vtd_desc d = vtd_make_cc_global();
    assert_desc(&d, 0x11, 0);
    d = vtd_make_cc_device(7, 0x00F8, 3);
    assert_desc(&d, 0x000300F800070031ull, 0);
    d = vtd_make_cc_device(7, 0x00F8, 7); /* fm masked to 2 bits */
    assert_desc(&d, 0x000300F800070031ull, 0);
}

static void test_make_devtlb_encodings(void **state)
{
    (void)state;
    vtd_desc d = vtd_make_devtlb(0x0100, 0x12345000, 1); /* 4K: S=0 */
    assert_desc(&d, 0x0000010000000003ull, 0x12345000);
    d = vtd_make_devtlb(0x0100, 0x12345678, 1); /* 4K, address rounded down to its page */
    assert_desc(&d, 0x0000010000000003ull, 0x12345000);
    d = vtd_make_devtlb(0x0100, 0x2000, 2); /* 8K: S=1, bit 12 clear */
    assert_desc(&d, 0x0000010000000003ull, 0x2001);
    d = vtd_make_devtlb(0x0100, 0x4000, 4); /* 16K: bit 12 set, bit 13 clear */
    assert_desc(&d, 0x0000010000000003ull, 0x5001);
    d = vtd_make_devtlb(0x0100, 0x7000, 4); /* 16K, misaligned: rounded down to 0x4000 */
    assert_desc(&d, 0x0000010000000003ull, 0x5001);
    d = vtd_make_devtlb(0x0100, 0x40000000, 512); /* 2M: bits 19:12 set, bit 20 clear */
    assert_desc(&d, 0x0000010000000003ull, 0x400FF001);
    d = vtd_make_devtlb(0x0100, 0x1234000, 0); /* global: ADDR[62:12] all ones */
    assert_desc(&d, 0x0000010000000003ull, 0x7FFFFFFFFFFFF001ull);
}

/* A page count that is not a power of two is rounded up; one too large to encode is global. */
static void test_make_devtlb_rounding(void **state)
{
    (void)state;
    vtd_desc d = vtd_make_devtlb(1, 0x4000, 3);
    assert_int_equal(d.qw[1], 0x5001); /* 16K */
    d = vtd_make_devtlb(1, 0, 1ull << 52);
    assert_int_equal(d.qw[1], 0x7FFFFFFFFFFFF001ull);
    d = vtd_make_devtlb(1, 0, ~0ull);
    assert_int_equal(d.qw[1], 0x7FFFFFFFFFFFF001ull);
    d = vtd_make_devtlb(1, 0x8000000000000000ull, 1ull << 51); /* 2^63 bytes, upper half */
    assert_int_equal(d.qw[1], 0xBFFFFFFFFFFFF001ull);
}

/* ---------------------------------------------------------------------------------------------
 * ATS size encoding.
 */
static void assert_range(uint64_t addr, bool s, uint64_t start, uint64_t len)
{
    uint64_t got_start = 1, got_len = 1;
    vtd_devtlb_range(addr, s, &got_start, &got_len);
    assert_int_equal(got_start, start);
    assert_int_equal(got_len, len);
}

static void test_devtlb_range_cases(void **state)
{
    (void)state;
    assert_range(0x12345000, false, 0x12345000, 0x1000);      /* 4K */
    assert_range(0x12345FFF, false, 0x12345000, 0x1000);      /* low bits ignored */
    assert_range(0x12345000, true, 0x12344000, 0x4000);       /* 16K: bit 12 is 1, 13 is 0 */
    assert_range(0x2000, true, 0x2000, 0x2000);               /* 8K: bit 12 is 0 */
    assert_range(0x5000, true, 0x4000, 0x4000);               /* 16K */
    assert_range(0x7000, true, 0x0, 0x10000);                 /* 64K: 14:12 = 111, 15 = 0 */
    assert_range(0x20FF000, true, 0x2000000, 0x200000);       /* 2M */
    assert_range(0x3FFFF000, true, 0x0, 0x80000000);          /* 2G */
    assert_range(0x7FFFFFFFFFFFF000ull, true, 0, 0);          /* global */
    assert_range(0xFFFFFFFFFFFFF000ull, true, 0, 0);          /* global, bit 63 aside */
    assert_range(0x7FFFFFFFFFFFFFFFull, true, 0, 0);          /* global, low bits aside */
    assert_range(0x3FFFFFFFFFFFF000ull, true, 0, 1ull << 63); /* bit 62 clear: 2^63 */
    assert_range(0xBFFFFFFFFFFFF000ull, true, 1ull << 63, 1ull << 63);
}

/* make_devtlb then devtlb_range gives back the aligned range, for every size. */
static void test_devtlb_roundtrip(void **state)
{
    (void)state;
    const uint64_t addrs[] = {0, 0x12345678, 0xDEADBEEF000ull, 0x7FFFFFFFFFFFFFFFull, ~0ull};
    for (size_t i = 0; i < N(addrs); i++) {
        for (unsigned k = 0; k <= 51; k++) {
            uint64_t len = 4096ull << k, start, got_len;
            vtd_desc d = vtd_make_devtlb(0x0100, addrs[i], 1ull << k);
            vtd_fields f;
            assert_int_equal(vtd_decode(&d, &f), VTD_OK);
            assert_int_equal(f.u.devtlb.s, k > 0);
            vtd_devtlb_range(f.u.devtlb.addr, f.u.devtlb.s, &start, &got_len);
            assert_int_equal(got_len, len);
            assert_int_equal(start, addrs[i] & ~(len - 1));
        }
        vtd_desc d = vtd_make_devtlb(0x0100, addrs[i], 0);
        uint64_t start, len;
        vtd_devtlb_range(d.qw[1] & ~0xFFFull, d.qw[1] & 1, &start, &len);
        assert_int_equal(start, 0);
        assert_int_equal(len, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_zero_fields),
        cmocka_unit_test(test_roundtrip_max_fields),
        cmocka_unit_test(test_max_fields_raw_bits),
        cmocka_unit_test(test_decode_ignores_reserved_bits),
        cmocka_unit_test(test_raw_bit_positions),
        cmocka_unit_test(test_encode_rejects_overflow),
        cmocka_unit_test(test_encode_accepts_limits),
        cmocka_unit_test(test_encode_rejects_unknown_type),
        cmocka_unit_test(test_decode_rejects_unknown_type),
        cmocka_unit_test(test_make_wait),
        cmocka_unit_test(test_make_iotlb),
        cmocka_unit_test(test_make_cc),
        cmocka_unit_test(test_make_devtlb_encodings),
        cmocka_unit_test(test_make_devtlb_rounding),
        cmocka_unit_test(test_devtlb_range_cases),
        cmocka_unit_test(test_devtlb_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
