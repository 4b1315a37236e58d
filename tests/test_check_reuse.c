/*
 * test_check_reuse.c — executions in one process reuse what earlier ones allocated (simulated
 * RAM, coroutine stacks, event arrays; see src/hw/mem.c, src/sim/coro.c, src/sim/world.c).
 * These tests pin that reuse is invisible: a reused RAM is as fresh as a new mapping, the same
 * execution twice gives the same result and timeline bytes, and an execution right after one
 * that ended badly (a CPU cut off by the step guard inside a loop with no platform point, a
 * watchdog hard lockup, a proved hang) is byte-identical to the same execution run first. The
 * machine structure and its endpoints' ATC arrays are reused too (src/hw/machine.c,
 * src/hw/endpoint.c): a reused one is looked into byte by byte.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "check/run.h"
#include "check/scenario.h"
#include "drivers/driver.h"
#include "hw/hw.h"
#include "hw/hw_internal.h" /* to look inside a reused machine */
#include "hw_testutil.h"
#include "util/faults.h"

/* ---- simulated RAM ---- */

static void assert_fresh(hw_machine *m, size_t bytes)
{
    const uint8_t *ram = hw_mem_ptr(m, 0, bytes);
    size_t nonzero = 0;
    for (size_t i = 0; i < bytes; i++)
        nonzero += ram[i] != 0;
    assert_int_equal(nonzero, 0);
    for (hw_paddr pa = 0; pa < bytes; pa += HW_PAGE_SIZE) {
        assert_int_equal(hw_mem_owner(m, pa), HW_OWNER_FREE);
        assert_int_equal(hw_mem_generation(m, pa), 0);
    }
}

#define SMALL_RAM (1u << 20)

/* A machine with 1 MiB of simulated RAM, the default configuration otherwise. */
static hw_machine *small_machine(void)
{
    hw_config cfg;
    hw_config_default(&cfg);
    cfg.mem_bytes = SMALL_RAM;
    const char *err = NULL;
    hw_machine *m = hw_create(&cfg, &err);
    assert_non_null(m);
    return m;
}

/* With the audit on (src/hw/mem.c), released RAM is cleared in one of two ways: after page
 * faults during the machine's life, pages above the allocation mark are dropped and those below
 * zeroed whole; without, what was written is zeroed and every resident page is read for stray
 * bytes. Both must leave nothing behind, stray writes through the base pointer included. Only
 * the last machine reads the whole RAM (reading faults pages in). */
static void test_reused_ram_is_fresh(void **state)
{
    (void)state;
    bool audit = hw_mem_set_audit(true);

    /* A fresh mapping: touching pages faults them in, so it is released the first way. */
    hw_machine *m = small_machine();
    uint8_t *base = hw_mem_ptr(m, 0, 1);
    hw_paddr a = hw_mem_alloc(m, 10 * HW_PAGE_SIZE, 7);
    hw_paddr b = hw_mem_alloc(m, HW_PAGE_SIZE, 8);
    assert_true(a && b);
    memset(hw_mem_ptr(m, a, 10 * HW_PAGE_SIZE), 0x5a, 10 * HW_PAGE_SIZE);
    assert_int_equal(hw_mem_free(m, a, HW_PAGE_SIZE), 0);
    base[b + 100] = 1;
    base[SMALL_RAM - 1] = 0xff; /* stray writes far above the mark */
    base[SMALL_RAM / 2] = 0xff;
    hw_destroy(m);

    /* Again: stray writes on pages that are not resident (a fault), above and below the mark. */
    m = small_machine();
    assert_ptr_equal(hw_mem_ptr(m, 0, 1), base);                      /* the pool was used */
    assert_int_equal(hw_mem_alloc(m, HW_PAGE_SIZE, 9), HW_PAGE_SIZE); /* first fit from 1 */
    assert_int_equal(hw_mem_owner(m, a + HW_PAGE_SIZE), HW_OWNER_FREE);
    assert_int_equal(hw_mem_generation(m, a + HW_PAGE_SIZE), 0);
    assert_int_equal(hw_mem_alloc(m, 30 * HW_PAGE_SIZE, 9), 2 * HW_PAGE_SIZE);
    base[20 * HW_PAGE_SIZE + 5] = 0x78;
    base[200 * HW_PAGE_SIZE] = 0x66;
    hw_destroy(m);

    m = small_machine();
    assert_fresh(m, SMALL_RAM);
    hw_destroy(m);
    hw_mem_set_audit(audit);
}

/* Without the audit, release zeroes only what was written, with no system call: every way of
 * writing must be recorded. Each round writes through all of them on resident pages (pages
 * 0-15 were read, so they are), then checks that those pages read zero in the next machine. */
static void write_every_way(hw_machine *m)
{
    uint8_t *base = hw_mem_ptr(m, 0, 1);
    base[0] = 0x11;                                          /* hw_mem_ptr(0, 1) */
    hw_paddr drv = hw_mem_alloc(m, 3 * HW_PAGE_SIZE + 5, 1); /* written through the base */
    assert_int_equal(drv, HW_PAGE_SIZE);
    memset(base + drv, 0x22, 3 * HW_PAGE_SIZE + 5);
    hw_paddr tbl = hw_mem_alloc_quiet(m, HW_PAGE_SIZE, 2);
    assert_int_equal(tbl, 5 * HW_PAGE_SIZE);
    memset(hw_mem_ptr(m, tbl + 40, 8), 0x33, 8);
    memset(hw_mem_ptr(m, tbl + 4000, 96), 0x44, 96); /* across the page boundary */
    /* Freed and allocated again in the same life: zeroed for the new owner. */
    assert_int_equal(hw_mem_free(m, drv, HW_PAGE_SIZE), 0);
    assert_int_equal(hw_mem_free(m, tbl, HW_PAGE_SIZE), 0);
    assert_int_equal(hw_mem_alloc_quiet(m, HW_PAGE_SIZE, 3), drv);
    assert_int_equal(hw_mem_alloc(m, 10, 3), tbl); /* first fit after the freed page */
    for (size_t i = 0; i < HW_PAGE_SIZE; i++)
        assert_true(base[drv + i] == 0 && base[tbl + i] == 0);
    base[tbl + 9] = 0x55;
    memset(hw_mem_ptr(m, 7 * HW_PAGE_SIZE, 2 * HW_PAGE_SIZE + 1), 0x66, 2 * HW_PAGE_SIZE + 1);
}

static void test_reused_ram_zeroes_what_was_written(void **state)
{
    (void)state;
    bool audit = hw_mem_set_audit(false);
    hw_machine *m = small_machine();
    uint8_t *base = hw_mem_ptr(m, 0, 1);
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < 16 * HW_PAGE_SIZE; i++)
        sink |= base[i]; /* resident from now on */
    assert_int_equal(sink, 0);
    hw_destroy(m);

    for (int round = 0; round < 3; round++) {
        uint64_t serial = faults_serial();
        m = small_machine();
        assert_ptr_equal(hw_mem_ptr(m, 0, 1), base);
        write_every_way(m);
        hw_destroy(m);
        assert_int_equal(faults_serial(), serial); /* no observation: no system call */
        m = small_machine();
        const uint8_t *ram = hw_mem_ptr(m, 0, 16 * HW_PAGE_SIZE);
        size_t nonzero = 0;
        for (size_t i = 0; i < 16 * HW_PAGE_SIZE; i++)
            nonzero += ram[i] != 0;
        assert_int_equal(nonzero, 0);
        for (hw_paddr pa = 0; pa < 16 * HW_PAGE_SIZE; pa += HW_PAGE_SIZE)
            assert_int_equal(hw_mem_generation(m, pa), 0);
        hw_destroy(m);
    }
    hw_mem_set_audit(audit);
}

/* With the audit off (release builds), one release in 64 is audited all the same: a stray write
 * is found within 64 machines, and from then on every release is audited, so the next stray
 * write is found (and cleared) at once. */
static void test_audit_sampled_then_sticky(void **state)
{
    (void)state;
    bool audit = hw_mem_set_audit(false);
    uint64_t strays = hw_mem_stray_pages();
    unsigned found_after = 0;
    for (unsigned k = 1; k <= 64 && hw_mem_stray_pages() == strays; k++) {
        hw_machine *m = small_machine();
        uint8_t *base = hw_mem_ptr(m, 0, 1);
        assert_int_equal(hw_mem_alloc(m, 4, 1), HW_PAGE_SIZE);
        base[HW_PAGE_SIZE + 2] = 7;   /* inside the allocation's bytes */
        base[HW_PAGE_SIZE + 200] = 8; /* outside: stray, on a page that is resident */
        hw_destroy(m);
        found_after = k;
    }
    assert_int_not_equal(hw_mem_stray_pages(), strays);
    assert_in_range(found_after, 1, 64);
    for (unsigned k = 0; k < 3; k++) {
        strays = hw_mem_stray_pages();
        hw_machine *m = small_machine();
        uint8_t *base = hw_mem_ptr(m, 0, 1);
        assert_int_equal(base[HW_PAGE_SIZE + 200], 0); /* cleared by the audit */
        base[HW_PAGE_SIZE + 300] = 9;
        hw_destroy(m);
        assert_int_equal(hw_mem_stray_pages(), strays + 1);
    }
    hw_mem_set_audit(audit);
}

/* With the audit on, a stray write on a resident page (outside anything handed out, no fault)
 * is found, counted and cleared. */
static void test_audit_finds_stray_writes(void **state)
{
    (void)state;
    bool audit = hw_mem_set_audit(true);
    hw_machine *m = small_machine();
    uint8_t *base = hw_mem_ptr(m, 0, 1);
    assert_int_equal(hw_mem_alloc(m, 4 * HW_PAGE_SIZE, 1), HW_PAGE_SIZE);
    memset(base + HW_PAGE_SIZE, 1, 4 * HW_PAGE_SIZE); /* pages 1-4 resident from now on */
    hw_destroy(m);
    uint64_t strays = hw_mem_stray_pages();
    for (int tries = 0; tries < 20; tries++) {
        uint64_t before = faults_observe();
        m = small_machine();
        assert_int_equal(hw_mem_alloc(m, 4, 1), HW_PAGE_SIZE);
        base[HW_PAGE_SIZE + 2] = 7;        /* inside the allocation's bytes */
        base[HW_PAGE_SIZE + 100] = 8;      /* outside: stray */
        base[3 * HW_PAGE_SIZE + 1000] = 9; /* above the mark: stray */
        hw_destroy(m);
        if (faults_latest() != before) { /* the first way cleared it all: try again */
            strays = hw_mem_stray_pages();
            continue;
        }
        assert_int_equal(hw_mem_stray_pages(), strays + 2);
        m = small_machine();
        for (size_t i = 0; i < 4 * HW_PAGE_SIZE; i++)
            assert_int_equal(base[i], 0);
        hw_destroy(m);
        break;
    }
    hw_mem_set_audit(audit);
}

/* Release zeroes short written ranges with inline stores (src/hw/mem.c, zero_span): exactly
 * the range, whatever its length and offset. Each length is written, filled with ones, on two
 * pages at an odd offset. Without the audit, the next machine must read zero: nothing left
 * behind. With the audit, a stray byte just before the range (first page) and just after it
 * (second page) must survive the zeroing to be found: one stray page per page written. Runs
 * before any test leaves a stray found (after which every release is audited). */
static const size_t span_len[] = {1,  2,  3,  4,  5,  7,  8,   9,   15,  16,  17,  31,
                                  32, 33, 48, 63, 64, 65, 100, 255, 256, 257, 300, 4000};
#define NSPAN      (sizeof(span_len) / sizeof(span_len[0]))
#define SPAN_PAGES (2 * NSPAN + 1)
#define SPAN_BYTES (SPAN_PAGES * HW_PAGE_SIZE)

static hw_paddr span_at(size_t i, int side)
{
    size_t off = span_len[i] > 2000 ? 3 : 1 + (i * 37) % 200;
    return (hw_paddr)(1 + 2 * i + (size_t)side) * HW_PAGE_SIZE + off;
}

static void write_spans(hw_machine *m, bool strays)
{
    uint8_t *base = hw_mem_ptr(m, 0, 1);
    for (size_t i = 0; i < NSPAN; i++)
        for (int side = 0; side < 2; side++) {
            hw_paddr pa = span_at(i, side);
            memset(hw_mem_ptr(m, pa, span_len[i]), 0xff, span_len[i]);
            if (strays && side == 0)
                base[pa - 1] = 0x5a;
            else if (strays)
                base[pa + span_len[i]] = 0xa5;
        }
}

/* A machine whose pages [0, SPAN_PAGES) are made resident by writing them (through what it was
 * handed, so that release zeroes them). */
static hw_machine *machine_resident(void)
{
    hw_machine *m = small_machine();
    memset(hw_mem_ptr(m, 0, SPAN_BYTES), 1, SPAN_BYTES);
    return m;
}

static void test_release_zeroes_exactly_what_was_written(void **state)
{
    (void)state;
    assert_int_equal(hw_mem_stray_pages(), 0);
    bool audit = hw_mem_set_audit(false);
    hw_destroy(machine_resident());
    hw_machine *m = small_machine();
    write_spans(m, false);
    hw_destroy(m);
    m = small_machine();
    const uint8_t *ram = hw_mem_ptr(m, 0, SPAN_BYTES);
    for (size_t i = 0; i < SPAN_BYTES; i++)
        if (ram[i])
            fail_msg("byte 0x%zx left written", i);
    hw_destroy(m);
    assert_int_equal(hw_mem_stray_pages(), 0);

    hw_mem_set_audit(true); /* drops the spare: a new mapping, made resident again */
    for (int tries = 0; tries < 20; tries++) {
        hw_destroy(machine_resident());
        uint64_t strays = hw_mem_stray_pages(), before = faults_observe();
        m = small_machine();
        write_spans(m, true);
        hw_destroy(m);
        if (faults_latest() != before)
            continue; /* released the other way (pages zeroed whole): try again */
        assert_int_equal(hw_mem_stray_pages(), strays + 2 * NSPAN);
        hw_mem_set_audit(audit);
        return;
    }
    fail_msg("every try took a page fault");
}

/* ---- the machine structure ---- */

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

#define SID_ATS   0x0100u
#define SID_PLAIN 0x0108u

/* Fill what a machine keeps for the next one: the descriptor window (with `fetches` fetches:
 * more than it has slots wraps it), the context cache and IOTLB, an endpoint's ATC. */
static void use_machine(hwt *t, unsigned fetches)
{
    hw_config cfg = hwt_config(t);
    hwt_start(t, &cfg, 0);
    int ats = hwt_ep(t, SID_ATS, true, 2 * HW_US);
    int plain = hwt_ep(t, SID_PLAIN, false, 2 * HW_US);
    hw_dma_result r;
    uint32_t v;
    for (unsigned k = 0; k < 3; k++) {
        uint64_t iova = HWT_IOVA + k * HW_PAGE_SIZE;
        hwt_map_new(t, iova);
        assert_int_equal(hw_ep_translate(t->m, ats, iova, &r), HW_DMA_OK);
        assert_int_equal(hw_ep_dma(t->m, plain, iova, false, &v, &r), HW_DMA_OK);
    }
    assert_int_equal(hw_ep_atc_count(t->m, ats), 3);
    vtd_desc d = vtd_make_iotlb_page(HWT_DID, HWT_IOVA + 5 * HW_PAGE_SIZE, 0, false);
    for (unsigned i = 0; i < fetches / 2; i++)
        hwt_submit_sync(t, &d, 1, i + 1); /* two fetches: d and the wait */
    assert_int_equal(t->m->fetch_serial, fetches / 2 * 2);
    assert_true(t->m->ctx_used == 2 && t->m->iotlb_used == 3);
}

/* A machine taken from the spare is as calloc gives it in the parts a destroyed machine zeroes
 * only where it wrote them (descriptor window, translation caches, endpoint slots), and an
 * endpoint added to it gets an all-zero ATC. */
static void test_reused_machine_is_fresh(void **state)
{
    (void)state;
    bool audit = hw_mem_set_audit(false);
    for (unsigned round = 0; round < 4; round++) {
        hwt t = {.combo = &hwt_combos[round]};
        use_machine(&t, round % 2 ? 10 : 3 * HW_MAX_WINDOW);
        hw_machine *old = t.m;
        hwt_release(&t);

        hw_config cfg = hwt_config(&t);
        const char *err = NULL;
        hw_machine *m = hw_create(&cfg, &err);
        assert_ptr_equal(m, old); /* the spare */
        assert_true(all_zero(m->pipe, sizeof(m->pipe)));
        assert_true(all_zero(m->ats, sizeof(m->ats)));
        assert_true(all_zero(m->ctx, sizeof(m->ctx)));
        assert_true(all_zero(m->iotlb, sizeof(m->iotlb)));
        assert_true(all_zero(m->ep, sizeof(m->ep)));
        assert_true(m->fetch_serial == 0 && m->ctx_used == 0 && m->iotlb_used == 0);
        for (unsigned e = 0; e < 2; e++) {
            hw_ep_config c;
            hw_ep_config_default(&c, e ? SID_PLAIN : SID_ATS);
            int ep = hw_ep_add(m, &c, &err);
            assert_int_equal(ep, e);
            assert_int_equal(m->ep[ep].atc_used, 0);
            assert_true(all_zero(m->ep[ep].atc, c.atc_entries * sizeof(m->ep[ep].atc[0])));
        }
        hw_destroy(m);
    }
    hw_mem_set_audit(audit);
}

/* ---- whole executions ---- */

struct rng {
    uint64_t s;
};

static unsigned random_decide(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                              const unsigned *ids)
{
    (void)kind, (void)dflt, (void)ids;
    struct rng *r = ctx;
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (unsigned)((z ^ (z >> 31)) % n);
}

struct run {
    chk_result res;
    char *timeline;
    size_t len;
    chk_trace trace;
};

static void load(const char *name, const char *set, scenario *sc)
{
    char err[512];
    const char *sets[] = {set};
    int rc = sc_load_named(QINVAL_SCENARIO_DIR, name, sets, set ? 1 : 0, sc, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
}

static void run_sc(const scenario *sc, const char *driver, uint64_t seed, struct run *r)
{
    const sim_driver_ops *drv = sim_driver_find(driver);
    assert_non_null(drv);
    memset(r, 0, sizeof(*r));
    FILE *f = open_memstream(&r->timeline, &r->len);
    assert_non_null(f);
    struct rng g = {seed};
    chk_run_once(sc, drv, random_decide, &g, &r->trace, f, &r->res);
    fclose(f);
}

static void run(const char *scenario_name, const char *set, const char *driver, uint64_t seed,
                struct run *r)
{
    static scenario sc;
    load(scenario_name, set, &sc);
    run_sc(&sc, driver, seed, r);
}

static void run_free(struct run *r)
{
    free(r->timeline);
    chk_trace_free(&r->trace);
}

static void assert_same(const struct run *a, const struct run *b)
{
    assert_int_equal(a->res.verdict, b->res.verdict);
    assert_string_equal(a->res.why, b->res.why);
    assert_int_equal(a->res.end, b->res.end);
    assert_int_equal(a->res.outcome.stop, b->res.outcome.stop);
    assert_int_equal(a->res.outcome.steps, b->res.outcome.steps);
    assert_int_equal(a->trace.len, b->trace.len);
    assert_memory_equal(a->trace.v, b->trace.v, a->trace.len * sizeof(*a->trace.v));
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->timeline, b->timeline, a->len);
}

/* The reference execution, and the same again after a run that ended in `what`. */
static void check_after(const char *scenario_name, const char *driver, uint64_t seed,
                        enum chk_verdict want, enum sim_stop stop, const char *why)
{
    struct run first, bad, again;
    run("smoke", NULL, "step1-nowait", 42, &first);
    assert_int_equal(first.res.verdict, CHK_PASS);
    assert_true(first.len > 0);

    run(scenario_name, NULL, driver, seed, &bad);
    assert_int_equal(bad.res.verdict, want);
    assert_int_equal(bad.res.outcome.stop, stop);
    assert_non_null(strstr(bad.res.outcome.why, why));

    run("smoke", NULL, "step1-nowait", 42, &again);
    assert_same(&first, &again);
    run_free(&first);
    run_free(&bad);
    run_free(&again);
}

static void test_same_twice(void **state)
{
    (void)state;
    struct run a, b, c;
    run("smoke", NULL, "legacy-odd", 7, &a);
    run("smoke", NULL, "legacy-odd", 7, &b);
    assert_same(&a, &b);
    assert_string_equal(a.res.outcome.why, "every CPU finished"); /* a message without % */
    assert_string_equal(a.res.why, "every oracle held");
    /* A different world in between (more CPUs, wider descriptors), then the first again. */
    run("smoke", "cpus=3", "eagain-any-ite", 7, &c);
    run_free(&c);
    run("queue-wrap", "desc_width=256", "eagain-any-ite", 7, &c);
    run_free(&c);
    run_free(&b);
    run("smoke", NULL, "legacy-odd", 7, &b);
    assert_same(&a, &b);
    run_free(&a);
    run_free(&b);
}

/* legacy-odd's ITE walk on an even batch never reaches a platform point: the step guard cuts
 * the CPU off in the middle of its coroutine. */
static void test_after_guard_cut_off(void **state)
{
    (void)state;
    check_after("ite-even-batch", "legacy-odd", 1, CHK_HARD_LOCKUP, SIM_STOP_HARD_LOCKUP,
                "never reaches a platform point");
}

/* The watchdog: interrupts off past watchdog_s while polling a dead endpoint. */
static void test_after_watchdog(void **state)
{
    (void)state;
    check_after("link-down-silent", "step1-nowait", 1, CHK_HARD_LOCKUP, SIM_STOP_HARD_LOCKUP,
                "kept interrupts disabled");
}

/* A proved hang: both CPUs wait, nothing is pending (CPUs left suspended mid-driver). */
/* The first seed from 1 whose single execution of `driver` on `scenario_name` ends in `stop`
 * (which seed does depends on the scheduler's points; that one exists does not). */
static uint64_t first_seed_ending(const char *scenario_name, const char *driver, enum sim_stop stop)
{
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct run r;
        run(scenario_name, NULL, driver, seed, &r);
        bool found = r.res.outcome.stop == stop;
        run_free(&r);
        if (found)
            return seed;
    }
    fail_msg("no seed up to 200 ends %s on %s in the wanted way", driver, scenario_name);
    return 0;
}

static void test_after_proved_hang(void **state)
{
    (void)state;
    uint64_t seed = first_seed_ending("ite-race", "eagain-any-ite", SIM_STOP_HANG);
    check_after("ite-race", "eagain-any-ite", seed, CHK_HANG, SIM_STOP_HANG, "nothing is pending");
}

/* The catalog scenarios the two tests below run. */
static const char *const catalog_runs[] = {"flr-during-inval",
                                           "ice-bad-itag",
                                           "iqe-bad-desc",
                                           "ite-even-batch",
                                           "ite-race",
                                           "link-down-silent",
                                           "link-flap",
                                           "queue-wrap",
                                           "smoke",
                                           "stale-atc-dma",
                                           "surprise-removal",
                                           "detach-link-down",
                                           "shared-domain-dead-device"};

/* Every scenario's execution gives the same result and bytes whatever ran before it on the
 * thread: each is run, then the next scenario (another world: CPUs, endpoints, submits,
 * queue), then it again. */
static void test_every_scenario_independent_of_the_one_before(void **state)
{
    (void)state;
    const size_t n = sizeof(catalog_runs) / sizeof(*catalog_runs);
    for (size_t s = 0; s < n; s++)
        for (int wide = 0; wide < 2; wide++) {
            const char *set = wide ? "desc_width=256" : NULL;
            struct run a, other, b;
            run(catalog_runs[s], set, "eagain-any-ite", 11 + s, &a);
            run(catalog_runs[(s + 1) % n], wide ? NULL : "desc_width=256", "qinval", 3, &other);
            run(catalog_runs[s], set, "eagain-any-ite", 11 + s, &b);
            assert_same(&a, &b);
            run_free(&a);
            run_free(&other);
            run_free(&b);
        }
}

/* An execution on a thread that never ran one (nothing to reuse: no spare RAM, machine,
 * world, stacks, arrays or encoded descriptors) and the same execution on this thread, after
 * everything the tests above ran, give the same bytes. One of them is smoke with its
 * endpoints' source ids swapped, after smoke itself: the same endpoint slots, other ids. */
struct fresh_run {
    const scenario *sc;
    const char *driver;
    uint64_t seed;
    struct run r;
};

/* The thread's pools (what its executions leave for the next one) are not freed when it ends:
 * nothing runs executions on threads that end but this test, so under LeakSanitizer its
 * allocations are not counted as leaks. */
static void *fresh_thread(void *arg)
{
    struct fresh_run *f = arg;
#ifdef __SANITIZE_ADDRESS__
    __lsan_disable();
#endif
    run_sc(f->sc, f->driver, f->seed, &f->r);
#ifdef __SANITIZE_ADDRESS__
    __lsan_enable();
#endif
    return NULL;
}

static void check_fresh(const scenario *sc, const char *driver, uint64_t seed)
{
    struct fresh_run f = {.sc = sc, .driver = driver, .seed = seed};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fresh_thread, &f), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    struct run here;
    run_sc(sc, driver, seed, &here);
    assert_same(&f.r, &here);
    run_free(&f.r);
    run_free(&here);
}

static void test_same_on_a_fresh_thread(void **state)
{
    (void)state;
    static scenario sc;
    static const struct {
        const char *name, *set, *driver;
    } cases[] = {{"smoke", NULL, "qinval"},
                 {"queue-wrap", "desc_width=256", "eagain-any-ite"},
                 {"stale-atc-dma", NULL, "step1-nowait"},
                 {"link-flap", NULL, "qinval-trusting"},
                 {"iqe-bad-desc", NULL, "legacy-odd"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        load(cases[i].name, cases[i].set, &sc);
        check_fresh(&sc, cases[i].driver, 9 + i);
    }

    char dir[] = "/tmp/qinval-reuse-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/smoke-swapped.scn", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("name = smoke-swapped\nsummary = smoke with the source ids swapped\nfrom = -\n"
          "[params]\ncpus = 2\n"
          "[endpoint ep0]\nsid = 02:00.0\nats = 1\n[endpoint ep1]\nsid = 01:00.0\nats = 1\n"
          "[cpu *]\nop = flush mixed=ep0 batch=3\nop = flush devtlb=ep1 batch=2\n",
          f);
    fclose(f);
    char err[512];
    if (sc_load(path, NULL, 0, &sc, err, sizeof(err)))
        fail_msg("%s", err);
    remove(path);
    remove(dir);
    struct run smoke;
    run("smoke", NULL, "step1-nowait", 3, &smoke); /* ep0's device-TLB descriptors: 01:00.0 */
    run_free(&smoke);
    check_fresh(&sc, "step1-nowait", 3);
}

/* Every execution writes simulated RAM only inside what was handed out (so zeroing what was
 * recorded as written restores fresh RAM): the audit finds nothing after each built-in driver
 * on every scenario, with both descriptor widths. */
static void test_executions_write_only_what_they_were_handed(void **state)
{
    (void)state;
    static const char *const drivers[] = {"legacy-odd", "eagain-any-ite", "step1-nowait", "qinval",
                                          "qinval-trusting"};
    bool audit = hw_mem_set_audit(true);
    uint64_t strays = hw_mem_stray_pages();
    for (size_t d = 0; d < sizeof(drivers) / sizeof(*drivers); d++)
        for (size_t s = 0; s < sizeof(catalog_runs) / sizeof(*catalog_runs); s++)
            for (int wide = 0; wide < 2; wide++) {
                struct run r;
                run(catalog_runs[s], wide ? "desc_width=256" : NULL, drivers[d], 5 + s, &r);
                run_free(&r);
                if (hw_mem_stray_pages() != strays)
                    fail_msg("%s on %s%s wrote RAM outside what it was handed", drivers[d],
                             catalog_runs[s], wide ? " (256-bit)" : "");
            }
    hw_mem_set_audit(audit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reused_ram_is_fresh),
        cmocka_unit_test(test_reused_ram_zeroes_what_was_written),
        cmocka_unit_test(test_release_zeroes_exactly_what_was_written),
        cmocka_unit_test(test_audit_finds_stray_writes),
        cmocka_unit_test(test_audit_sampled_then_sticky),
        cmocka_unit_test(test_reused_machine_is_fresh),
        cmocka_unit_test(test_executions_write_only_what_they_were_handed),
        cmocka_unit_test(test_same_twice),
        cmocka_unit_test(test_after_guard_cut_off),
        cmocka_unit_test(test_after_watchdog),
        cmocka_unit_test(test_after_proved_hang),
        cmocka_unit_test(test_every_scenario_independent_of_the_one_before),
        cmocka_unit_test(test_same_on_a_fresh_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
