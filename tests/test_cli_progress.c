/*
 * test_cli_progress.c — the progress line of `qinval check` (src/cli/progress.c): the ETA
 * comes from whichever budget ends first (executions at the current rate, the --time budget,
 * the rest of the DFS space), the line's wording for each case, and drawing: redrawn in place
 * after a carriage return, padded over a longer previous line, blanked at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/progress.h"

static struct chk_progress at(uint64_t done, uint64_t budget, double elapsed, double time_budget)
{
    return (struct chk_progress){.executions = done,
                                 .execution_budget = budget,
                                 .elapsed_s = elapsed,
                                 .time_budget_s = time_budget,
                                 .coverage = -1};
}

static void expect_line(struct chk_progress p, const char *want)
{
    char line[160];
    cli_progress_format(&p, line, sizeof(line));
    assert_string_equal(line, want);
}

static void test_eta(void **state)
{
    (void)state;
    struct chk_progress p = at(1000, 5000, 2.0, 0); /* 500/s, 4000 to go */
    assert_true(cli_progress_eta(&p) == 8.0);
    p.time_budget_s = 5.0; /* the time budget ends first */
    assert_true(cli_progress_eta(&p) == 3.0);
    p.time_budget_s = 60.0; /* the executions end first */
    assert_true(cli_progress_eta(&p) == 8.0);
    p.coverage = 0.5; /* DFS: half the space in 2 s, the rest in 2 s more */
    assert_true(cli_progress_eta(&p) == 2.0);
    p = at(0, 5000, 0.0, 0); /* nothing to go by */
    assert_true(cli_progress_eta(&p) < 0);
    p = at(0, 5000, 0.0, 10.0);
    assert_true(cli_progress_eta(&p) == 10.0);
    p = at(10, 5000, 12.0, 10.0); /* past the time budget: the loop is about to stop */
    assert_true(cli_progress_eta(&p) == 0.0);
}

static void test_format(void **state)
{
    (void)state;
    expect_line(at(1000, 5000, 2.0, 0), "1000/5000 executions, 500/s, 2.0 s elapsed, ETA 8.0 s");
    expect_line(at(0, 1000, 0.0, 0), "0/1000 executions, 0/s, 0.0 s elapsed, ETA ?");
    expect_line(at(100, 1000000, 1.0, 0),
                "100/1000000 executions, 100/s, 1.0 s elapsed, ETA 2h46m");
    expect_line(at(6000, 100000, 60.0, 200.0),
                "6000/100000 executions, 100/s, 1m00s elapsed, ETA 2m20s");
    expect_line(at(1, 1000000000, 1.0, 0),
                "1/1000000000 executions, 1/s, 1.0 s elapsed, ETA 277778 h");
    struct chk_progress dfs = at(250, 1000000, 1.0, 0);
    dfs.coverage = 0.25;
    expect_line(dfs, "250/1000000 executions, 250/s, 1.0 s elapsed, ETA 3.0 s, "
                     "25.0% of the dfs space");
    /* an unbounded search: no execution budget to show, and a share too small for %.1f */
    struct chk_progress none = at(1000000, UINT64_MAX, 50.0, 0);
    none.coverage = 0.00108;
    expect_line(none, "1000000 executions, 20000/s, 50.0 s elapsed, ETA 12h50m, "
                      "0.1% of the dfs space");
    none.coverage = 0.0000123;
    expect_line(none, "1000000 executions, 20000/s, 50.0 s elapsed, ETA 1129 h, "
                      "0.0012% of the dfs space");
    none.coverage = 0;
    expect_line(none, "1000000 executions, 20000/s, 50.0 s elapsed, ETA ?, "
                      "0.0% of the dfs space");
}

static void test_draw(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    struct cli_progress_line line = {.out = out};
    struct chk_progress p = at(1000, 5000, 2.0, 0);
    cli_progress_draw(&line, &p);
    p = at(1500, 5000, 3.0, 0);
    cli_progress_draw(&line, &p);
    p.final = true;
    cli_progress_draw(&line, &p);
    cli_progress_draw(&line, &p); /* nothing drawn: nothing to blank */
    fclose(out);
    const char *first = "1000/5000 executions, 500/s, 2.0 s elapsed, ETA 8.0 s";
    const char *second = "1500/5000 executions, 500/s, 3.0 s elapsed, ETA 7.0 s";
    char want[400];
    snprintf(want, sizeof(want), "\r%s\r%s\r%*s\r", first, second, (int)strlen(first), "");
    assert_string_equal(buf, want);
    free(buf);
}

static void test_draw_pads_shorter_line(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    struct cli_progress_line line = {.out = out, .width = 80};
    struct chk_progress p = at(1, 10, 1.0, 0);
    cli_progress_draw(&line, &p);
    fclose(out);
    assert_int_equal(len, 1 + 80); /* "\r", then the line padded to the earlier width */
    assert_int_equal(line.width, 80);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eta),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_draw),
        cmocka_unit_test(test_draw_pads_shorter_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
