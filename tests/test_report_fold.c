/*
 * test_report_fold.c — folding repeated blocks of a text timeline: what folds (the same events
 * with other times and numbers, three or more times in a row), what must not (two rounds only,
 * a different CPU or endpoint, different words), and that the first and last rounds keep
 * their real lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/fold.h"

static char *fold(const char *in, size_t *lines)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    *lines = rep_fold_timeline(in, strlen(in), m);
    assert_int_equal(fclose(m), 0);
    return buf;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* `rounds` rounds of a 3-line retry loop, each on the next slot at a later time. */
static char *retry_loop(unsigned rounds, const char *agent_of_last_round)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    fprintf(m, "   0.000000100  cpu0   start\n");
    for (unsigned r = 0; r < rounds; r++) {
        const char *agent = r + 1 == rounds && agent_of_last_round ? agent_of_last_round : "cpu0";
        fprintf(m, "   %u.%09u  %-6s batch queued (%u, %u)\n", r, 200 + r, agent, 2 * r, 2 * r + 1);
        fprintf(m, "   %u.%09u  sw     IQT <- 0x%x\n", r, 300 + r, 0x20 * (r + 1) + 0xa0);
        fprintf(m, "   %u.%09u  iommu  wait@%u aborted\n", r, 400 + r, 2 * r + 1);
    }
    fprintf(m, "  99.000000000  check  hang\n");
    assert_int_equal(fclose(m), 0);
    return buf;
}

static void test_loop_folds_keeping_first_and_last_round(void **state)
{
    (void)state;
    char *in = retry_loop(1000, NULL);
    size_t n;
    char *out = fold(in, &n);
    assert_int_equal(n, 1 + 3 + 1 + 3 + 1);
    assert_int_equal(count_lines(out), n);
    assert_non_null(strstr(out, "the 3 lines above repeat 999 more times"));
    assert_non_null(strstr(out, "until 999.000001399; the last time:)"));
    assert_non_null(strstr(out, "   0.000000200  cpu0   batch queued (0, 1)\n"));
    assert_non_null(strstr(out, " 999.000001199  cpu0   batch queued (1998, 1999)\n"));
    assert_non_null(strstr(out, "  99.000000000  check  hang\n"));
    assert_null(strstr(out, "batch queued (2, 3)")); /* an inner round is gone */
    /* deterministic */
    size_t n2;
    char *again = fold(in, &n2);
    assert_string_equal(out, again);
    free(again);
    free(out);
    free(in);
}

static void test_two_rounds_do_not_fold(void **state)
{
    (void)state;
    char *in = retry_loop(2, NULL);
    size_t n;
    char *out = fold(in, &n);
    assert_string_equal(out, in);
    assert_int_equal(n, count_lines(in));
    free(out);
    free(in);
}

/* A round on another CPU is not "the same events": the run stops at it. */
static void test_names_with_digits_do_not_match(void **state)
{
    (void)state;
    char *in = retry_loop(5, "cpu1");
    size_t n;
    char *out = fold(in, &n);
    assert_non_null(strstr(out, "repeat 3 more times"));
    assert_non_null(strstr(out, "cpu1   batch queued (8, 9)"));
    free(out);
    free(in);
}

/* The ftrace-style lines of src/report/timeline.c fold too, and the fold line names the
 * timestamp column (after the CPU column), not the agent. */
static void test_ftrace_columns_fold(void **state)
{
    (void)state;
    char *in = NULL;
    size_t len = 0, n;
    FILE *m = open_memstream(&in, &len);
    assert_non_null(m);
    for (unsigned r = 0; r < 50; r++) {
        fprintf(m, "      cpu0  [000] %6u.%09u: lock taken, irqs off\n", r, 100 + r);
        fprintf(m, "      cpu0  [000] %6u.%09u: read4 IQH -> 0x%x\n", r, 200 + r, 0x10 * r);
    }
    fprintf(m, "     check  [---]     99.000000000: hang\n");
    assert_int_equal(fclose(m), 0);
    char *out = fold(in, &n);
    assert_int_equal(n, 2 + 1 + 2 + 1);
    assert_non_null(strstr(out, "the 2 lines above repeat 49 more times"));
    assert_non_null(strstr(out, "until 49.000000249; the last time:)"));
    assert_non_null(strstr(out, "      cpu0  [000]     49.000000149: lock taken, irqs off\n"));
    free(out);
    free(in);
}

static void test_plain_text_unchanged(void **state)
{
    (void)state;
    const char *in = "   0.1  cpu0   a\n   0.2  cpu0   b\n   0.3  cpu0   a\n   0.4  cpu0   c\n"
                     "   0.5  cpu0   a\n";
    size_t n;
    char *out = fold(in, &n);
    assert_string_equal(out, in);
    assert_int_equal(n, 5);
    free(out);
    /* a last line without '\n', and empty input */
    out = fold("   1.0  cpu0   x", &n);
    assert_string_equal(out, "   1.0  cpu0   x\n");
    free(out);
    out = fold("", &n);
    assert_int_equal(n, 0);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_folds_keeping_first_and_last_round),
        cmocka_unit_test(test_two_rounds_do_not_fold),
        cmocka_unit_test(test_names_with_digits_do_not_match),
        cmocka_unit_test(test_ftrace_columns_fold),
        cmocka_unit_test(test_plain_text_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
