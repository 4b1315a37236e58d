/*
 * test_fidelity.c — the model side of `qinval fidelity` without QEMU: the generator is
 * deterministic, the shrinker reaches the known minimum of a planted predicate, the classifier's
 * rules fire on the differences they describe (with QEMU's side of the trace written by hand),
 * and the model knobs and fixes the comparison with QEMU brought (iqercd, status_fault_iqe,
 * disable_policy refuse-unless-wait, enable with a non-zero tail).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fidelity/fidelity.h"

static fid_case ca, cb;
static fid_trace tm, tq;

static void test_generator_deterministic(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < 50; i++) {
        fid_generate(42, i, &ca);
        fid_generate(42, i, &cb);
        assert_memory_equal(&ca, &cb, sizeof(ca));
        assert_true(ca.n > 3 && ca.n <= FID_MAX_STEPS);
        assert_int_equal(ca.steps[ca.n - 1].op, FID_OP_OBS);
    }
    fid_generate(43, 0, &cb);
    fid_generate(42, 0, &ca);
    assert_true(memcmp(&ca, &cb, sizeof(ca)) != 0);
}

/* Across many cases every behaviour is exercised at least once. */
static void test_generator_covers(void **state)
{
    (void)state;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < 3000; i++) {
        fid_generate(1, i, &ca);
        seen |= ca.tags;
    }
    for (unsigned t = 0; t < FID_T_COUNT; t++)
        if (!(seen >> t & 1))
            fail_msg("behaviour %s never generated", fid_tag_name(t));
}

/* Planted: the predicate holds while steps 3, 7 and the last (an observation) are kept. */
static bool planted(const fid_case *c, void *ctx)
{
    (void)ctx;
    unsigned found = 0;
    for (unsigned i = 0; i < c->n; i++)
        if (c->steps[i].op == FID_OP_W32 && (c->steps[i].val == 3 || c->steps[i].val == 7))
            found++;
    return found == 2 && c->n && c->steps[c->n - 1].op == FID_OP_OBS;
}

static void test_shrink_planted(void **state)
{
    (void)state;
    memset(&ca, 0, sizeof(ca));
    for (unsigned i = 0; i < 40; i++) {
        ca.steps[i].op = FID_OP_W32;
        ca.steps[i].off = VTD_REG_FECTL;
        ca.steps[i].val = i;
    }
    ca.steps[40].op = FID_OP_OBS;
    ca.n = 41;
    assert_true(planted(&ca, NULL));
    unsigned calls = fid_shrink(&ca, planted, NULL, 1000);
    assert_true(calls < 1000);
    assert_int_equal(ca.n, 3);
    assert_int_equal(ca.steps[0].val, 3);
    assert_int_equal(ca.steps[1].val, 7);
    assert_int_equal(ca.steps[2].op, FID_OP_OBS);
}

/* ---- hand-made cases ---- */

static void add_w(fid_case *c, unsigned op, uint32_t off, uint64_t val)
{
    fid_step *s = &c->steps[c->n++];
    memset(s, 0, sizeof(*s));
    s->op = (uint8_t)op;
    s->off = off;
    s->val = val;
}

static void add_desc(fid_case *c, uint64_t addr, uint64_t qw0, uint64_t qw1, unsigned len)
{
    fid_step *s = &c->steps[c->n++];
    memset(s, 0, sizeof(*s));
    s->op = FID_OP_DESC;
    s->addr = addr;
    s->len = (uint8_t)len;
    s->d.qw[0] = qw0;
    s->d.qw[1] = qw1;
}

static void add_obs(fid_case *c)
{
    memset(&c->steps[c->n], 0, sizeof(c->steps[0]));
    c->steps[c->n++].op = FID_OP_OBS;
}

static void start_case(fid_case *c, bool scalable, uint64_t iqa)
{
    memset(c, 0, sizeof(*c));
    c->scalable = scalable;
    c->devtlb = true;
    add_w(c, FID_OP_W64, VTD_REG_IQA, iqa);
    add_w(c, FID_OP_W32, VTD_REG_GCMD, VTD_GCMD_QIE);
}

static const fid_snap *obs_at(const fid_trace *t, const fid_case *c)
{
    return &t->at[c->n - 1];
}

static void run(const fid_case *c, const fid_knobs *k, fid_trace *t)
{
    fid_ident id;
    fid_ident_builtin(c->scalable, c->devtlb, &id);
    assert_int_equal(fid_run_model(c, &id, k, t), 0);
}

static const char *rule_of(const fid_case *c, const fid_knobs *k)
{
    fid_diff d;
    fid_compare(c, &tm, &tq, &d);
    assert_true(d.differ);
    return fid_rules(NULL)[fid_classify(c, &d, &tm, &tq, k)].name;
}

/* A fence-only wait: the model runs it; QEMU (written by hand) stops with IQE on it. */
static void test_classify_fence_only(void **state)
{
    (void)state;
    start_case(&ca, false, FID_QUEUE_BASE);
    add_desc(&ca, FID_QUEUE_BASE, 0x45, 0, 16); /* wait FN=1, SW=IF=0 */
    add_w(&ca, FID_OP_W64, VTD_REG_IQT, 0x10);
    add_obs(&ca);
    run(&ca, NULL, &tm);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_IQH], 0x10);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_FSTS], 0);
    tq = tm;
    tq.at[ca.n - 1].reg[FID_O_IQH] = 0;
    tq.at[ca.n - 1].reg[FID_O_FSTS] = VTD_FSTS_IQE;
    assert_string_equal(rule_of(&ca, NULL), "fence-only-wait");
}

/* IQE cleared: the model fetches again at once and fails again; QEMU waits for IQT. */
static void test_classify_iqe_clear(void **state)
{
    (void)state;
    start_case(&ca, false, FID_QUEUE_BASE);
    add_w(&ca, FID_OP_W64, VTD_REG_IQT, 0x10); /* a zero slot: type 0 */
    add_w(&ca, FID_OP_W32, VTD_REG_FSTS, VTD_FSTS_IQE);
    add_obs(&ca);
    run(&ca, NULL, &tm);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_FSTS], VTD_FSTS_IQE);
    tq = tm;
    tq.at[ca.n - 1].reg[FID_O_FSTS] = 0;
    assert_string_equal(rule_of(&ca, NULL), "iqe-clear-no-resume");
}

/* Nothing explains a status word QEMU wrote differently: unclassified. */
static void test_classify_unmatched(void **state)
{
    (void)state;
    start_case(&ca, false, FID_QUEUE_BASE);
    add_desc(&ca, FID_QUEUE_BASE, 0x0000000700000025ull, FID_STATUS_BASE, 16);
    add_w(&ca, FID_OP_W64, VTD_REG_IQT, 0x10);
    add_obs(&ca);
    run(&ca, NULL, &tm);
    assert_int_equal(tm.n_status, 1);
    assert_int_equal(obs_at(&tm, &ca)->status[0], 7);
    tq = tm;
    tq.at[ca.n - 1].status[0] = 8;
    fid_diff d;
    fid_compare(&ca, &tm, &tq, &d);
    unsigned r = fid_classify(&ca, &d, &tm, &tq, NULL);
    assert_int_equal(fid_rules(NULL)[r].cls, FID_UNCLASSIFIED);
}

/* A knob set away from QEMU's way is named: iqercd=on against a QEMU that reads 0. */
static void test_classify_knob(void **state)
{
    (void)state;
    fid_knobs k = {0};
    char err[128];
    assert_int_equal(fid_knob_add(&k, "iqercd=on", err, sizeof(err)), 0);
    assert_int_equal(fid_knob_add(&k, "iqercd=maybe", err, sizeof(err)), -1);
    assert_int_equal(fid_knob_add(&k, "nosuch=1", err, sizeof(err)), -1);
    start_case(&ca, false, FID_QUEUE_BASE);
    add_w(&ca, FID_OP_W64, VTD_REG_IQT, 0x10);
    add_obs(&ca);
    run(&ca, NULL, &tq); /* QEMU's way: IQERCD reads 0 */
    run(&ca, &k, &tm);
    assert_int_equal(obs_at(&tq, &ca)->reg[FID_O_IQERCD], 0);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_IQERCD], VTD_IQEI_TYPE);
    const fid_rule *r = &fid_rules(NULL)[0];
    fid_diff d;
    fid_compare(&ca, &tm, &tq, &d);
    r += fid_classify(&ca, &d, &tm, &tq, &k);
    assert_int_equal(r->cls, FID_OPEN);
    assert_string_equal(r->knob, "iqercd");
}

/* ---- model knobs and fixes ---- */

/* Enabling with a misaligned tail in a 256-bit queue raises IQE (IQEI 6) at once. */
static void test_enable_tail_checked(void **state)
{
    (void)state;
    fid_knobs k = {0};
    char err[128];
    assert_int_equal(fid_knob_add(&k, "iqercd=on", err, sizeof(err)), 0);
    memset(&ca, 0, sizeof(ca));
    ca.scalable = true;
    add_w(&ca, FID_OP_W64, VTD_REG_IQA, FID_QUEUE_BASE | VTD_IQA_DW);
    add_w(&ca, FID_OP_W64, VTD_REG_IQT, 0x30);
    add_w(&ca, FID_OP_W32, VTD_REG_GCMD, VTD_GCMD_QIE);
    add_obs(&ca);
    run(&ca, &k, &tm);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_FSTS], VTD_FSTS_IQE);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_IQERCD], VTD_IQEI_TAIL_ALIGN);
}

/* Enabling with a non-zero tail runs what it publishes. */
static void test_enable_tail_runs(void **state)
{
    (void)state;
    memset(&ca, 0, sizeof(ca));
    add_w(&ca, FID_OP_W64, VTD_REG_IQA, FID_QUEUE_BASE);
    add_desc(&ca, FID_QUEUE_BASE, 0x0000000500000025ull, FID_STATUS_BASE, 16);
    add_w(&ca, FID_OP_W64, VTD_REG_IQT, 0x10);
    add_w(&ca, FID_OP_W32, VTD_REG_GCMD, VTD_GCMD_QIE);
    add_obs(&ca);
    run(&ca, NULL, &tm);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_IQH], 0x10);
    assert_int_equal(obs_at(&tm, &ca)->status[0], 5);
}

/* status_fault_iqe: a status write above memory raises IQE with IQH on the wait. */
static void test_status_fault(void **state)
{
    (void)state;
    fid_knobs k = {0};
    char err[128];
    start_case(&ca, false, FID_QUEUE_BASE);
    add_desc(&ca, FID_QUEUE_BASE, 0x15, 0, 16); /* wait IF=1 */
    add_desc(&ca, FID_QUEUE_BASE + 16, 0x0000000900000025ull, 0x100000000ull, 16);
    add_w(&ca, FID_OP_W64, VTD_REG_IQT, 0x20);
    add_obs(&ca);
    run(&ca, NULL, &tm); /* QEMU's way */
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_FSTS], VTD_FSTS_IQE);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_IQH], 0x10);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_ICS], 1);
    assert_int_equal(fid_knob_add(&k, "status_fault=drop", err, sizeof(err)), 0);
    run(&ca, &k, &tm);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_FSTS], 0);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_IQH], 0x20);
}

/* disable_policy refuse-unless-wait: a disable with nothing run since enable is refused; after a
 * wait completed it goes through. */
static void test_disable_unless_wait(void **state)
{
    (void)state;
    fid_knobs k = {0};
    char err[128];
    start_case(&ca, false, FID_QUEUE_BASE);
    add_w(&ca, FID_OP_W32, VTD_REG_GCMD, 0);
    add_obs(&ca);
    run(&ca, NULL, &tm);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_GSTS], VTD_GSTS_QIES);
    assert_int_equal(fid_knob_add(&k, "disable_policy=refuse-busy", err, sizeof(err)), 0);
    run(&ca, &k, &tm);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_GSTS], 0);
    ca.n -= 2;
    add_desc(&ca, FID_QUEUE_BASE, 0x0000000100000025ull, FID_STATUS_BASE, 16);
    add_w(&ca, FID_OP_W64, VTD_REG_IQT, 0x10);
    add_w(&ca, FID_OP_W32, VTD_REG_GCMD, 0);
    add_obs(&ca);
    run(&ca, NULL, &tm);
    assert_int_equal(obs_at(&tm, &ca)->reg[FID_O_GSTS], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_deterministic), cmocka_unit_test(test_generator_covers),
        cmocka_unit_test(test_shrink_planted),          cmocka_unit_test(test_classify_fence_only),
        cmocka_unit_test(test_classify_iqe_clear),      cmocka_unit_test(test_classify_unmatched),
        cmocka_unit_test(test_classify_knob),           cmocka_unit_test(test_enable_tail_checked),
        cmocka_unit_test(test_enable_tail_runs),        cmocka_unit_test(test_status_fault),
        cmocka_unit_test(test_disable_unless_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
