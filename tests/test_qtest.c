/*
 * test_qtest.c — the qtest client (src/qemu/qtest.c) against stand-ins that misbehave on
 * purpose (a program that is not there, one that dies after one answer saying why, one that
 * stops answering, one that answers garbage), then against QEMU itself when it can be had:
 * the remapping unit's version register, and guest memory written and read back across a
 * chunk boundary. Each failure must be reported as its kind, with QEMU's last words, and
 * every request after it must fail at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "qemu/qtest.h"

static char script[64];

/* A stand-in for QEMU: a shell script with the given body. */
static const char *stand_in(const char *body)
{
    snprintf(script, sizeof(script), "/tmp/qinval-qtest-%d.sh", (int)getpid());
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(script, 0700), 0);
    return script;
}

static int teardown(void **state)
{
    (void)state;
    if (script[0])
        unlink(script);
    return 0;
}

static void missing_binary_is_named(void **state)
{
    (void)state;
    qtest_options o = {.binary = "/nonexistent/qemu-system-x86_64"};
    char err[256] = "";
    assert_null(qtest_start(&o, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/qemu-system-x86_64"));
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(qtest_available(&o, err, sizeof(err)), 0);
}

static void death_is_reported_with_last_words(void **state)
{
    (void)state;
    qtest_options o = {.binary = stand_in("read l; echo OK 0x10; read l; "
                                          "echo 'assertion failed: wait descriptor' >&2; exit 3")};
    char err[256] = "";
    qtest *q = qtest_start(&o, err, sizeof(err));
    assert_non_null(q);
    assert_int_equal(qtest_requests(q), 1);
    uint32_t v = 0;
    assert_int_equal(qtest_readl(q, QTEST_VTD_BASE, &v), -1);
    assert_int_equal(qtest_state(q), QTEST_DIED);
    assert_non_null(strstr(qtest_error(q), "exited with status 3"));
    assert_non_null(strstr(qtest_error(q), "assertion failed: wait descriptor"));
    /* Later requests fail at once and keep the first reason. */
    assert_int_equal(qtest_writel(q, QTEST_VTD_BASE + 0x88, 0), -1);
    assert_non_null(strstr(qtest_error(q), "exited with status 3"));
    qtest_stop(q);
}

static void silence_is_a_timeout(void **state)
{
    (void)state;
    qtest_options o = {.binary = stand_in("read l; echo OK 0x10; exec sleep 30"),
                       .timeout_ms = 300};
    char err[256] = "";
    qtest *q = qtest_start(&o, err, sizeof(err));
    assert_non_null(q);
    uint64_t v;
    assert_int_equal(qtest_readq(q, QTEST_VTD_BASE, &v), -1);
    assert_int_equal(qtest_state(q), QTEST_TIMEOUT);
    assert_non_null(strstr(qtest_error(q), "did not answer within 300 ms"));
    qtest_stop(q); /* kills the sleeping stand-in */
}

static void garbage_is_a_protocol_error(void **state)
{
    (void)state;
    qtest_options o = {.binary = stand_in("read l; echo OK 0x10; read l; echo OK 0xzz; "
                                          "read l; echo 'OK 0x0102'; exec sleep 30"),
                       .timeout_ms = 2000};
    char err[256] = "";
    qtest *q = qtest_start(&o, err, sizeof(err));
    assert_non_null(q);
    uint32_t v;
    assert_int_equal(qtest_readl(q, QTEST_VTD_BASE, &v), -1);
    assert_int_equal(qtest_state(q), QTEST_PROTOCOL);
    assert_non_null(strstr(qtest_error(q), "0xzz"));
    qtest_stop(q);

    o.binary = stand_in("read l; echo OK 0x10; read l; echo 'FAIL Unknown command'; "
                        "exec sleep 30");
    q = qtest_start(&o, err, sizeof(err));
    assert_non_null(q);
    assert_int_equal(qtest_writel(q, QTEST_VTD_BASE, 1), -1);
    assert_int_equal(qtest_state(q), QTEST_PROTOCOL);
    assert_non_null(strstr(qtest_error(q), "FAIL Unknown command"));
    qtest_stop(q);
}

static void real_qemu(void **state)
{
    (void)state;
    const char *args[] = {"-device", "intel-iommu"};
    qtest_options o = {.args = args, .n_args = 2};
    char err[512] = "";
    qtest *q = qtest_start(&o, err, sizeof(err));
    if (!q) {
        print_message("skipped: QEMU cannot be used here: %s\n", err);
        skip();
    }
    uint32_t ver = 0;
    assert_int_equal(qtest_readl(q, QTEST_VTD_BASE, &ver), 0);
    assert_true(ver != 0 && ver != 0xffffffffu); /* a remapping unit answers there */
    /* Memory across the 64 KiB chunk boundary of one request. */
    size_t n = 70000;
    uint8_t *out = malloc(n), *in = malloc(n);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(qtest_memwrite(q, 0x100000, out, n), 0);
    assert_int_equal(qtest_memread(q, 0x100000, in, n), 0);
    assert_memory_equal(in, out, n);
    uint64_t w = 0;
    assert_int_equal(qtest_readq(q, 0x100000, &w), 0);
    assert_int_equal(w, 0x342d261f18110a03ull); /* the same bytes, little-endian */
    free(out);
    free(in);
    assert_int_equal(qtest_state(q), QTEST_OK);
    qtest_stop(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(missing_binary_is_named, teardown),
        cmocka_unit_test_teardown(death_is_reported_with_last_words, teardown),
        cmocka_unit_test_teardown(silence_is_a_timeout, teardown),
        cmocka_unit_test_teardown(garbage_is_a_protocol_error, teardown),
        cmocka_unit_test(real_qemu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
