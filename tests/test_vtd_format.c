/*
 * test_vtd_format.c — unit tests of the VT-d names and one-line renderings (src/vtd/format.c):
 * type, IQEI and register names, requester ids and descriptor lines, including truncation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <qinval/vtd_format.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_type_names(void **state)
{
    (void)state;
    const char *want[] = {"invalid", "cc", "iotlb",   "devtlb",    "iec", "wait",
                          "piotlb",  "pc", "pdevtlb", "pgrp_resp", "hpt", "invalid"};
    for (unsigned t = 0; t < N(want); t++)
        assert_string_equal(vtd_desc_type_name(t), want[t]);
    assert_string_equal(vtd_desc_type_name(0x12), "invalid");
    assert_string_equal(vtd_desc_type_name(VTD_DESC_TYPE_MAX), "invalid");
    assert_string_equal(vtd_desc_type_name(~0u), "invalid");
}

static void test_iqei_names(void **state)
{
    (void)state;
    assert_string_equal(vtd_iqei_name(VTD_IQEI_TYPE), "invalid descriptor type");
    assert_string_equal(vtd_iqei_name(VTD_IQEI_TAIL), "invalid tail pointer");
    for (unsigned i = 0; i <= VTD_IQEI_TTM; i++) {
        assert_non_null(vtd_iqei_name(i));
        assert_string_not_equal(vtd_iqei_name(i), "undefined");
        for (unsigned j = 0; j < i; j++)
            assert_string_not_equal(vtd_iqei_name(i), vtd_iqei_name(j));
    }
    for (unsigned i = 8; i < 16; i++)
        assert_string_equal(vtd_iqei_name(i), "undefined");
    assert_string_equal(vtd_iqei_name(1000), "undefined");
}

static void test_reg_names(void **state)
{
    (void)state;
    assert_string_equal(vtd_reg_name(0x088), "IQT");
    assert_string_equal(vtd_reg_name(VTD_REG_FSTS), "FSTS");
    assert_string_equal(vtd_reg_name(VTD_REG_IQERCD), "IQERCD");
    assert_null(vtd_reg_name(0x08C)); /* upper dword of IQT */
    assert_null(vtd_reg_name(0x098)); /* reserved */
    assert_null(vtd_reg_name(0x030));
    assert_null(vtd_reg_name(VTD_REG_SPACE));
    assert_null(vtd_reg_name(~0u));

    const uint32_t all[] = {
        VTD_REG_VER,    VTD_REG_CAP,     VTD_REG_ECAP,   VTD_REG_GCMD,   VTD_REG_GSTS,
        VTD_REG_RTADDR, VTD_REG_CCMD,    VTD_REG_FSTS,   VTD_REG_FECTL,  VTD_REG_FEDATA,
        VTD_REG_FEADDR, VTD_REG_FEUADDR, VTD_REG_IQH,    VTD_REG_IQT,    VTD_REG_IQA,
        VTD_REG_ICS,    VTD_REG_IECTL,   VTD_REG_IEDATA, VTD_REG_IEADDR, VTD_REG_IEUADDR,
        VTD_REG_IQERCD, VTD_REG_IRTA,
    };
    for (size_t i = 0; i < N(all); i++) {
        assert_non_null(vtd_reg_name(all[i]));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(vtd_reg_name(all[i]), vtd_reg_name(all[j]));
    }
}

static void test_sid_format(void **state)
{
    (void)state;
    char buf[8];
    assert_string_equal(vtd_sid_format(0x0100, buf), "01:00.0");
    assert_ptr_equal(vtd_sid_format(0x0100, buf), buf);
    assert_string_equal(vtd_sid_format(0x0000, buf), "00:00.0");
    assert_string_equal(vtd_sid_format(0x00FA, buf), "00:1f.2");
    assert_string_equal(vtd_sid_format(0xAB0B, buf), "ab:01.3");
    assert_string_equal(vtd_sid_format(0xFFFF, buf), "ff:1f.7");
}

static void assert_line(vtd_desc d, const char *want)
{
    char buf[160];
    int n = vtd_desc_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static vtd_desc encode(vtd_fields f)
{
    vtd_desc d;
    assert_int_equal(vtd_encode(&f, &d, NULL), VTD_OK);
    return d;
}

static void test_format_128_bit_types(void **state)
{
    (void)state;
    assert_line(vtd_make_iotlb_page(1, 0x1000, 0, true), "iotlb page did=1 addr=0x1000 am=0 ih");
    assert_line(vtd_make_iotlb_domain(42), "iotlb domain did=42");
    assert_line(vtd_make_iotlb_global(), "iotlb global");
    assert_line(vtd_make_devtlb(0x0100, 0x2000, 2), "devtlb sid=01:00.0 addr=0x2000 size=8K");
    assert_line(vtd_make_devtlb(0x0100, 0x5000, 1), "devtlb sid=01:00.0 addr=0x5000 size=4K");
    assert_line(vtd_make_devtlb(0x0208, 0x40000000, 512),
                "devtlb sid=02:01.0 addr=0x40000000 size=2M");
    assert_line(vtd_make_devtlb(0x0100, 0, 0), "devtlb sid=01:00.0 global");
    assert_line(vtd_make_wait(true, true, true, 1, 0x3000), "wait sw if fn data=0x1 addr=0x3000");
    assert_line(vtd_make_wait(false, false, true, 0, 0), "wait fn");
    assert_line(vtd_make_cc_global(), "cc global");
    assert_line(vtd_make_cc_device(3, 0x00FA, 1), "cc device did=3 sid=00:1f.2 fm=1");
    assert_line(
        encode((vtd_fields){.type = VTD_DESC_IEC, .u.iec = {.index = true, .im = 2, .iidx = 16}}),
        "iec index iidx=16 im=2");
    assert_line(encode((vtd_fields){.type = VTD_DESC_IEC}), "iec global");
    assert_line(encode((vtd_fields){.type = VTD_DESC_DEVTLB,
                                    .u.devtlb = {.sid = 0x0101, .pfsid = 0x0100, .mip = 4}}),
                "devtlb sid=01:00.1 addr=0x0 size=4K mip=4 pfsid=01:00.0");
}

static void test_format_256_bit_types(void **state)
{
    (void)state;
    assert_line(encode((vtd_fields){.type = VTD_DESC_PIOTLB,
                                    .u.piotlb = {.g = VTD_PIOTLB_G_PAGE,
                                                 .did = 2,
                                                 .pasid = 0x1f,
                                                 .addr = 0x7000,
                                                 .am = 0,
                                                 .ih = true}}),
                "piotlb page did=2 pasid=0x1f addr=0x7000 am=0 ih");
    assert_line(encode((vtd_fields){.type = VTD_DESC_PC,
                                    .u.pc = {.g = VTD_PC_G_PASID, .did = 2, .pasid = 5}}),
                "pc pasid did=2 pasid=0x5");
    assert_line(encode((vtd_fields){.type = VTD_DESC_PC, .u.pc = {.g = VTD_PC_G_GLOBAL}}),
                "pc global");
    assert_line(
        encode((vtd_fields){.type = VTD_DESC_PDEVTLB,
                            .u.pdevtlb = {.sid = 0x0100, .pasid = 5, .s = true, .addr = 0x5000}}),
        "pdevtlb sid=01:00.0 pasid=0x5 addr=0x4000 size=16K");
    assert_line(
        encode((vtd_fields){
            .type = VTD_DESC_PDEVTLB,
            .u.pdevtlb = {.sid = 0x0100, .gi = true, .s = true, .addr = 0x7FFFFFFFFFFFF000ull}}),
        "pdevtlb sid=01:00.0 gi global");
    assert_line(encode((vtd_fields){.type = VTD_DESC_PGRP_RESP,
                                    .u.pgrp = {.pp = true, .rid = 0x0100, .pasid = 5, .prgi = 7}}),
                "pgrp_resp rid=01:00.0 pasid=0x5 prgi=7 rc=success");
    assert_line(encode((vtd_fields){.type = VTD_DESC_PGRP_RESP, .u.pgrp = {.rc = 0xF}}),
                "pgrp_resp rid=00:00.0 prgi=0 rc=failure");
    assert_line(
        encode((vtd_fields){
            .type = VTD_DESC_HPT,
            .u.hpt = {.g = VTD_HPT_G_PAGE, .hptdid = 3, .addr = 0x200000, .am = 9, .ih = 2}}),
        "hpt page hptdid=3 addr=0x200000 am=9 ih=2");
}

static void test_format_reserved_granularity(void **state)
{
    (void)state;
    assert_line(encode((vtd_fields){.type = VTD_DESC_CC, .u.cc = {.g = 0, .did = 1}}),
                "cc g=0 did=1");
    assert_line(encode((vtd_fields){.type = VTD_DESC_PC, .u.pc = {.g = 2, .did = 1}}),
                "pc g=2 did=1");
}

static void test_format_invalid_type(void **state)
{
    (void)state;
    assert_line((vtd_desc){{0, 0, 0, 0}}, "invalid qw0=0x0 qw1=0x0");
    assert_line((vtd_desc){{0xDEAD00000000000Bull, 0x1234, 7, 7}},
                "invalid qw0=0xdead00000000000b qw1=0x1234");
    assert_line((vtd_desc){{0x202, 0, 0, 0}}, "invalid qw0=0x202 qw1=0x0"); /* type 0x12 */
}

/* Like snprintf: truncated but terminated, and the return value is the full length. */
static void test_format_truncates(void **state)
{
    (void)state;
    const char *full = "iotlb page did=1 addr=0x1000 am=0 ih";
    vtd_desc d = vtd_make_iotlb_page(1, 0x1000, 0, true);
    for (size_t len = 1; len <= strlen(full) + 1; len++) {
        char buf[64];
        memset(buf, 'X', sizeof(buf));
        assert_int_equal(vtd_desc_format(&d, buf, len), (int)strlen(full));
        assert_int_equal(strlen(buf), len - 1);
        assert_memory_equal(buf, full, len - 1);
        assert_int_equal(buf[len], 'X'); /* nothing written past len */
    }
    assert_int_equal(vtd_desc_format(&d, NULL, 0), (int)strlen(full));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_iqei_names),
        cmocka_unit_test(test_reg_names),
        cmocka_unit_test(test_sid_format),
        cmocka_unit_test(test_format_128_bit_types),
        cmocka_unit_test(test_format_256_bit_types),
        cmocka_unit_test(test_format_reserved_granularity),
        cmocka_unit_test(test_format_invalid_type),
        cmocka_unit_test(test_format_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
