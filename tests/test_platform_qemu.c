/*
 * test_platform_qemu.c — src/qemu/platform_qemu.c, the engine's platform over qtest, against
 * QEMU itself (skipped where QEMU cannot be had): the mirror's rules one by one (wmb pushes
 * only what changed, a mirrored load reads the guest, a store writes both sides, the
 * read-back after a register write keeps a local write not yet pushed), then the engine (built
 * under the qemu_ names) enabled and submitting on QEMU's intel-iommu, with an IQE repaired.
 */
#include "qemu/platform_qemu.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <qinval/engine.h>

#define GUEST 0x200000ull

struct fix {
    qtest *q;
    qemu_host *h;
    qi_platform *p;
};

static int setup(void **state)
{
    static const char *const args[] = {"-device", "intel-iommu"};
    qtest_options o = {.args = args, .n_args = 2};
    char err[512] = "";
    struct fix *f = calloc(1, sizeof(*f));
    f->q = qtest_start(&o, err, sizeof(err));
    if (f->q) {
        f->h = qemu_host_create(f->q, GUEST, 1u << 20);
        f->p = qemu_host_cpu(f->h, 0);
    } else {
        print_message("skipped: QEMU cannot be used here: %s\n", err);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    qemu_host_destroy(f->h);
    qtest_stop(f->q);
    free(f);
    return 0;
}

static struct fix *need_qemu(void **state)
{
    struct fix *f = *state;
    if (!f->q)
        skip();
    return f;
}

static uint32_t guest32(struct fix *f, uint64_t pa)
{
    uint32_t v = 0;
    assert_int_equal(qtest_readl(f->q, pa, &v), 0);
    return v;
}

static void wmb_pushes_changes(void **state)
{
    struct fix *f = need_qemu(state);
    uint8_t *buf = qemu_dma_alloc(f->h, 4096, 4096, false);
    assert_non_null(buf);
    uint64_t pa = qemu_plat_virt_to_phys(f->p, buf);
    assert_int_equal(pa, GUEST);
    assert_int_equal(qemu_plat_virt_to_phys(f->p, buf + 100), GUEST + 100);
    memcpy(buf + 8, "\x11\x22\x33\x44", 4);
    memcpy(buf + 3000, "\x55\x66\x77\x88", 4);
    qemu_host_stats s0, s1;
    qemu_host_stats_get(f->h, &s0);
    assert_int_not_equal(guest32(f, pa + 8), 0x44332211u); /* not before the barrier */
    qemu_plat_wmb(f->p);
    qemu_host_stats_get(f->h, &s1);
    assert_int_equal(guest32(f, pa + 8), 0x44332211u);
    assert_int_equal(guest32(f, pa + 3000), 0x88776655u);
    assert_int_equal(s1.pushes - s0.pushes, 2);             /* two runs, far apart */
    assert_int_equal(s1.pushed_bytes - s0.pushed_bytes, 8); /* two whole words */
    qemu_plat_wmb(f->p);                                    /* nothing changed: nothing pushed */
    qemu_host_stats_get(f->h, &s0);
    assert_int_equal(s0.pushes, s1.pushes);
}

static void loads_and_stores(void **state)
{
    struct fix *f = need_qemu(state);
    volatile uint32_t *st = qemu_dma_alloc(f->h, 64, 4, true);
    assert_non_null(st);
    uint64_t pa = qemu_plat_virt_to_phys(f->p, st);
    /* What QEMU would do: write the guest word. A mirrored load sees it, and so does the host
     * copy afterwards. */
    uint32_t v = 0xabcd0001u;
    assert_int_equal(qtest_memwrite(f->q, pa + 4, &v, 4), 0);
    assert_int_equal(st[1], 0);
    assert_int_equal(qemu_plat_load32(f->p, &st[1]), v);
    assert_int_equal(st[1], v);
    /* A store writes both sides. */
    qemu_plat_store32(f->p, &st[2], 7);
    assert_int_equal(st[2], 7);
    assert_int_equal(guest32(f, pa + 8), 7);
    /* Memory outside every mirror is plain memory. */
    uint32_t plain = 5;
    qemu_plat_store32(f->p, &plain, 6);
    assert_int_equal(qemu_plat_load32(f->p, &plain), 6);
}

static void readback_after_register_write(void **state)
{
    struct fix *f = need_qemu(state);
    volatile uint32_t *st = qemu_dma_alloc(f->h, 64, 4, true);
    assert_non_null(st);
    uint64_t pa = qemu_plat_virt_to_phys(f->p, st);
    uint32_t a = 0x1234u, b = 0x5678u;
    assert_int_equal(qtest_memwrite(f->q, pa, &a, 4), 0);
    assert_int_equal(qtest_memwrite(f->q, pa + 4, &b, 4), 0);
    st[1] = 9;                                /* a local write not yet pushed */
    qemu_plat_write32(f->p, VTD_REG_FSTS, 0); /* any register write: then the read-back */
    assert_int_equal(st[0], a);               /* the guest's value */
    assert_int_equal(st[1], 9);               /* the local write wins until pushed */
    qemu_plat_wmb(f->p);
    assert_int_equal(guest32(f, pa + 4), 9);
}

static void engine_on_qemu(void **state)
{
    struct fix *f = need_qemu(state);
    void *queue = qemu_dma_alloc(f->h, 256 * 16, 4096, false);
    volatile uint32_t *status = qemu_dma_alloc(f->h, 257 * 4, 4, true);
    qi_slot *slots = calloc(256, sizeof(*slots));
    qi_engine *e = calloc(1, sizeof(*e));
    assert_non_null(queue);
    assert_non_null(status);
    qi_engine_config cfg = {.queue = queue,
                            .entries = 256,
                            .status = status,
                            .slots = slots,
                            .flags = QI_ENGINE_F_NO_VALIDATE,
                            .iommu_timeout_ns = 2000000000ull};
    assert_int_equal(qi_engine_init(e, f->p, &cfg), 0);
    assert_int_equal(qi_engine_enable(e, f->p, 0), 0);
    vtd_desc d[2] = {vtd_make_iotlb_global(), vtd_make_cc_global()};
    qi_result r;
    qi_engine_submit(e, f->p, d, 2, NULL, &r);
    assert_int_equal(r.status, QI_OK);
    d[1] = vtd_make_iotlb_domain(1);
    d[1].qw[0] |= 1ull << 40; /* reserved */
    qi_engine_submit(e, f->p, d, 2, NULL, &r);
    assert_int_equal(r.status, QI_ERR_MALFORMED);
    assert_int_equal(r.index, 1);
    assert_true(r.others_done);
    qi_engine_submit(e, f->p, d, 1, NULL, &r);
    assert_int_equal(r.status, QI_OK);
    assert_int_equal(qi_engine_get_stats(e)->iqe, 1);
    assert_int_equal(qi_engine_disable(e, f->p, 0), 0);
    free(slots);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(wmb_pushes_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(loads_and_stores, setup, teardown),
        cmocka_unit_test_setup_teardown(readback_after_register_write, setup, teardown),
        cmocka_unit_test_setup_teardown(engine_on_qemu, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
