/*
 * test_hw_mmio.c — MMIO access rules (spec 11.2-11.4; hw.h MMIO section; semantics 3-4):
 * reserved / unknown offsets read 0 and log MMIO_BAD RESERVED; misaligned accesses, qword
 * accesses to 32-bit registers and writes to read-only registers are ignored and logged; dword
 * halves of 64-bit registers work (low dword first); RsvdZ bits of IQT/IQA are masked and
 * logged; IQA written while QI is enabled is a violation and does not change the latched queue.
 */
#include "hw_testutil.h"

static void expect_bad(hwt *t, size_t before, uint32_t off, uint32_t size, uint32_t why)
{
    hw_event e;
    HWT_EQ(t, hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0), before + 1);
    e = *HWT_EV_LAST(t, HW_EV_MMIO_BAD, -1);
    HWT_EQ(t, e.a, off);
    HWT_EQ(t, e.c, size);
    HWT_EQ(t, e.flags, why);
}

static void test_mmio_reserved_offsets(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    /* 0x098 is reserved between IQA and ICS; 0x04C lies in the reserved gap after FEUADDR. */
    static const uint32_t off32[] = {0x098, 0x04C};
    size_t n;

    hwt_start(t, &cfg, 0);
    for (unsigned i = 0; i < sizeof(off32) / sizeof(off32[0]); i++) {
        n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
        HWT_EQ(t, hwt_r32(t, off32[i]), 0);
        expect_bad(t, n, off32[i], 4, HW_MMIO_RESERVED);

        n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
        hwt_w32(t, off32[i], 0xFFFFFFFFu);
        expect_bad(t, n, off32[i], 4, HW_MMIO_RESERVED);
        HWT_EQ(t, hwt_r32(t, off32[i]), 0);
    }
    /* A qword-aligned offset with no register. */
    n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
    HWT_EQ(t, hwt_r64(t, 0x800), 0);
    expect_bad(t, n, 0x800, 8, HW_MMIO_RESERVED);

    /* Nothing else moved. */
    HWT_EQ(t, hwt_fsts(t), 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_GSTS), VTD_GSTS_QIES);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_IQE, -1, 0), 0);
}

static void test_mmio_misaligned_and_width(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    size_t n;
    uint64_t iqa;

    hwt_create(t, &cfg);

    /* Misaligned dword read inside FSTS, qword read at a dword-only alignment of IQH. */
    n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FSTS + 1), 0);
    expect_bad(t, n, VTD_REG_FSTS + 1, 4, HW_MMIO_MISALIGNED);
    n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQH + 4), 0);
    expect_bad(t, n, VTD_REG_IQH + 4, 8, HW_MMIO_MISALIGNED);

    /* A misaligned write is ignored. */
    n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
    hwt_w32(t, VTD_REG_IQT + 2, 0x100);
    expect_bad(t, n, VTD_REG_IQT + 2, 4, HW_MMIO_MISALIGNED);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQT), 0);

    /* Qword access to a 32-bit register (FECTL at 0x38 is qword aligned). */
    n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
    HWT_EQ(t, hwt_r64(t, VTD_REG_FECTL), 0);
    expect_bad(t, n, VTD_REG_FECTL, 8, HW_MMIO_WIDTH);
    n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
    hwt_w64(t, VTD_REG_FECTL, 0);
    expect_bad(t, n, VTD_REG_FECTL, 8, HW_MMIO_WIDTH);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FECTL), VTD_ECTL_IM); /* the write was ignored */

    /* Dword halves of a 64-bit register: IQA written low dword first, read either way. */
    hwt_queue_alloc(t, 2);
    iqa = hwt_iqa(t, t->qbase, 2);
    hwt_w64(t, VTD_REG_IQA, 0);
    n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
    hwt_w32(t, VTD_REG_IQA, (uint32_t)iqa);
    hwt_w32(t, VTD_REG_IQA + 4, (uint32_t)(iqa >> 32));
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQA), iqa);
    HWT_EQ(t, hwt_r32(t, VTD_REG_IQA), (uint32_t)iqa);
    HWT_EQ(t, hwt_r32(t, VTD_REG_IQA + 4), (uint32_t)(iqa >> 32));
    HWT_EQ(t, hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0), n);
    /* The queue enabled from it has 2^(2+8) / 2^(2+7) entries. */
    hwt_qi_enable(t);
    HWT_EQ(t, HWT_EV(t, HW_EV_QI_ENABLE, -1)->b, t->combo->dw256 ? 512 : 1024);
    HWT_EQ(t, HWT_EV(t, HW_EV_QI_ENABLE, -1)->a, iqa);
    /* Linux rings the doorbell with a dword write to IQT. */
    {
        hw_paddr st = hwt_status_new(t, 0);
        hwt_push(t, hwt_wait_sw(0x9, st));
        hwt_w32(t, VTD_REG_IQT, (uint32_t)hwt_off(t, t->tail));
        HWT_OK(t, hwt_run_until_word(t, st, 0x9, HWT_POLL_LIMIT), "dword doorbell ignored");
    }
    HWT_EQ(t, hwt_r32(t, VTD_REG_IQH), (uint32_t)hwt_off(t, 1));
    HWT_EQ(t, hwt_r32(t, VTD_REG_IQH + 4), 0);
}

static void test_mmio_readonly_and_rsvd_bits(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    size_t n;
    uint64_t iqa;

    hwt_create(t, &cfg);

    static const struct {
        uint32_t off, size;
    } ro[] = {
        {VTD_REG_VER, 4}, {VTD_REG_GSTS, 4}, {VTD_REG_IQH, 8},
        {VTD_REG_CAP, 8}, {VTD_REG_ECAP, 8}, {VTD_REG_IQERCD, 8},
    };
    for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
        uint64_t before = ro[i].size == 4 ? hwt_r32(t, ro[i].off) : hwt_r64(t, ro[i].off);
        n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
        if (ro[i].size == 4)
            hwt_w32(t, ro[i].off, 0x5A5A5A50u);
        else
            hwt_w64(t, ro[i].off, 0x5A5A5A5A5A5A5A50ull);
        expect_bad(t, n, ro[i].off, ro[i].size, HW_MMIO_READONLY);
        HWT_EQ(t, ro[i].size == 4 ? hwt_r32(t, ro[i].off) : hwt_r64(t, ro[i].off), before);
    }

    /* IQT: only bits 18:4 are stored (semantics 4); QI is disabled so no IQE. */
    n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
    hwt_w64(t, VTD_REG_IQT, 0x80000ull | 0x120 | 0x7);
    expect_bad(t, n, VTD_REG_IQT, 8, HW_MMIO_RSVD_BITS);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQT), 0x120);
    hwt_w64(t, VTD_REG_IQT, 0);

    /* IQA: bits 10:3 are RsvdZ (spec 11.4.9.3): masked off and logged. */
    hwt_queue_alloc(t, 0);
    iqa = hwt_iqa(t, t->qbase, 0);
    n = hwt_ev_count(t, HW_EV_MMIO_BAD, -1, 0);
    hwt_w64(t, VTD_REG_IQA, iqa | 0x7F8);
    expect_bad(t, n, VTD_REG_IQA, 8, HW_MMIO_RSVD_BITS);
    HWT_EQ(t, hwt_r64(t, VTD_REG_IQA), iqa);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_SW_VIOLATION, -1, 0), 0);

    /* IQA while enabled: violation; register takes the value; the latched queue stays. */
    hwt_qi_enable(t);
    {
        hw_paddr other = hw_mem_alloc(t->m, HW_PAGE_SIZE, HWT_OWNER_DRIVER);
        hw_paddr st = hwt_status_new(t, 0);
        hw_qi_view v;
        hwt_w64(t, VTD_REG_IQA, hwt_iqa(t, other, 0));
        HWT_EQ(t, hwt_ev_count_c(t, HW_EV_SW_VIOLATION, HW_VIOL_IQA_WHILE_ENABLED), 1);
        HWT_EQ(t, hwt_r64(t, VTD_REG_IQA), hwt_iqa(t, other, 0));
        hw_qi_view_get(t->m, &v);
        HWT_EQ(t, v.base, t->qbase);
        hwt_push(t, hwt_wait_sw(0x7, st)); /* written into the latched queue */
        hwt_doorbell(t);
        HWT_OK(t, hwt_run_until_word(t, st, 0x7, HWT_POLL_LIMIT),
               "queue did not run from the latched base");
    }
}

/* Reads are logged only with log_mmio_reads; writes always. */
static void test_mmio_logging(void **state)
{
    hwt *t = *state;
    hw_config cfg = hwt_config(t);
    hw_event e;

    hwt_create(t, &cfg);
    HWT_EQ(t, cfg.log_mmio_reads, false);
    (void)hwt_r32(t, VTD_REG_FSTS);
    HWT_EQ(t, hwt_ev_count(t, HW_EV_MMIO_READ, -1, 0), 0);
    hwt_w32(t, VTD_REG_FEDATA, 0x1234);
    e = *HWT_EV_LAST(t, HW_EV_MMIO_WRITE, -1);
    HWT_EQ(t, e.a, VTD_REG_FEDATA);
    HWT_EQ(t, e.b, 0x1234);
    HWT_EQ(t, e.c, 4);
    HWT_EQ(t, hwt_r32(t, VTD_REG_FEDATA), 0x1234);

    cfg.log_mmio_reads = true;
    hwt_create(t, &cfg);
    (void)hwt_r32(t, VTD_REG_FECTL);
    e = *HWT_EV_LAST(t, HW_EV_MMIO_READ, -1);
    HWT_EQ(t, e.a, VTD_REG_FECTL);
    HWT_EQ(t, e.b, VTD_ECTL_IM);
    HWT_EQ(t, e.c, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HWT_TESTS(test_mmio_reserved_offsets),
        HWT_TESTS(test_mmio_misaligned_and_width),
        HWT_TESTS(test_mmio_readonly_and_rsvd_bits),
        HWT_TESTS(test_mmio_logging),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
