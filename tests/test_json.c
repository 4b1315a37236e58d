/*
 * test_json.c — the CLI's JSON reader (src/cli/json.c) and the result reader built on it
 * (ce_from_json): values and escapes decode as RFC 8259 says; malformed text fails with its
 * line and column; numbers too large for a double or for 64 bits are told apart; the typed
 * getters name the key; every prefix and many byte flips of a real check result fail cleanly
 * or parse (no crash, no leak under ASan); duplicate keys are found in objects of any size,
 * named where they first occur; and the reals the writers write (src/report/jsonw.c) are read
 * back, inf and nan as null.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/ce_file.h"
#include "cli/json.h"
#include "report/jsonw.h"

#define ERRLEN 256

static json_value *parse(const char *text, char *err)
{
    err[0] = 0;
    return json_parse(text, strlen(text), err, ERRLEN);
}

/* text must fail with a message containing want. */
static void expect_error(const char *text, const char *want)
{
    char err[ERRLEN];
    json_value *v = parse(text, err);
    if (v || !strstr(err, want))
        fail_msg("'%s': wanted an error with '%s', got '%s'", text, want, v ? "(parsed)" : err);
    json_free(v);
}

static void test_values(void **state)
{
    (void)state;
    char err[ERRLEN];
    json_value *v =
        parse(" {\"a\": [1, -2.5e1, true, false, null], \"b\": {\"c\": \"d\"}, \"e\": []} ", err);
    assert_non_null(v);
    assert_int_equal(v->type, JSON_OBJECT);
    assert_int_equal(v->len, 3);
    const json_value *a = json_get(v, "a");
    assert_non_null(a);
    assert_int_equal(a->len, 5);
    assert_true(a->items[0].is_u64);
    assert_int_equal(a->items[0].u64, 1);
    assert_false(a->items[1].is_u64);
    assert_true(a->items[1].number == -25.0);
    assert_true(a->items[2].boolean);
    assert_int_equal(a->items[3].type, JSON_BOOL);
    assert_false(a->items[3].boolean);
    assert_int_equal(a->items[4].type, JSON_NULL);
    assert_string_equal(json_get(json_get(v, "b"), "c")->string, "d");
    assert_int_equal(json_get(v, "e")->len, 0);
    assert_null(json_get(v, "missing"));
    json_free(v);
}

static void test_strings(void **state)
{
    (void)state;
    char err[ERRLEN];
    json_value *v =
        parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00 \\u0041\"", err);
    assert_non_null(v);
    assert_string_equal(v->string, "q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xf0\x9f\x98\x80 A");
    json_free(v);
    v = parse("\"\"", err);
    assert_non_null(v);
    assert_string_equal(v->string, "");
    json_free(v);
}

static void test_numbers(void **state)
{
    (void)state;
    char err[ERRLEN];
    json_value *v = parse("[18446744073709551615, 18446744073709551616, 0, 1.0, 1e3]", err);
    assert_non_null(v);
    assert_true(v->items[0].is_u64);
    assert_true(v->items[0].u64 == UINT64_MAX);
    assert_false(v->items[1].is_u64); /* 2^64: a number, but not a 64-bit count */
    assert_true(v->items[2].is_u64);
    assert_false(v->items[3].is_u64);
    assert_false(v->items[4].is_u64);
    assert_true(v->items[4].number == 1000.0);
    json_free(v);
    expect_error("1e999", "number out of range");
    expect_error("-1e400", "number out of range");
    expect_error("012", "leading zero");
    expect_error("1.", "no digits after '.'");
    expect_error("1e", "no digits in the exponent");
    expect_error("-", "bad number");
    expect_error("+1", "unexpected '+'");
    char many[200];
    memset(many, '9', sizeof(many) - 1);
    many[sizeof(many) - 1] = 0;
    expect_error(many, "number too long");
}

static void test_malformed(void **state)
{
    (void)state;
    expect_error("", "line 1, column 1: expected a value, found the end of the input");
    expect_error("{\"a\": 1", "expected '}', found the end of the input (truncated?)");
    expect_error("{\"a\": 1,\n \"b\" 2}", "line 2, column 6: expected ':', found '2'");
    expect_error("[1, 2", "expected ']'");
    expect_error("[1 2]", "expected ']', found '2'");
    expect_error("{\"a\": 1, \"a\": 2}", "duplicate key \"a\"");
    expect_error("{1: 2}", "expected '\"'");
    expect_error("\"abc", "unterminated string");
    expect_error("\"a\\qb\"", "unknown escape '\\q'");
    expect_error("\"a\\u12\"", "bad hex digit");
    /* a control character in a message is shown by its code: the message stays one line */
    expect_error("\"\\u1\n23\"", "bad hex digit byte 0x0a");
    expect_error("[1\n\x0b", "expected ']', found byte 0x0b");
    expect_error("\"\\u0000\"", "\\u0000");
    expect_error("\"\\udc00\"", "lone low surrogate");
    expect_error("\"\\ud800x\"", "high surrogate without its low half");
    expect_error("\"a\tb\"", "control character");
    expect_error("tru", "unexpected 't'");
    expect_error("nul", "unexpected 'n'");
    expect_error("{} {}", "unexpected text after the value");
    expect_error("\x01", "unexpected byte 0x01");
    char deep[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    expect_error(deep, "nested deeper than 32 levels");
}

/* Duplicate keys: the message names the first one in the text, at the end of that key, also
 * when an error comes after it (as reading in order would find it first), and not in objects
 * that merely share key names. */
static void test_duplicate_keys(void **state)
{
    (void)state;
    expect_error("{\"a\":1,\"a\":2}", "line 1, column 11: duplicate key \"a\"");
    expect_error("{\"a\":1,\"a\":2, x}", "line 1, column 11: duplicate key \"a\"");
    expect_error("{\"a\":1,\"a\" 2}", "line 1, column 11: duplicate key \"a\"");
    expect_error("{\"a\":1,\"a\":[1,", "line 1, column 11: duplicate key \"a\"");
    expect_error("{\"x\":1,\"y\":1,\"y\":2,\"x\":2}", "line 1, column 17: duplicate key \"y\"");
    expect_error("{\"a\":{\"b\":1,\"b\":2},\"a\":1}", "line 1, column 16: duplicate key \"b\"");
    expect_error("{\"a\":1,\"b\":{\"c\":1,\"c\":2},\"a\":3}",
                 "line 1, column 22: duplicate key \"c\"");
    expect_error("{\"a\":1,\n \"b\":{\"c\":[1,\n2]},\n \"a\":{\"d\":tru}}",
                 "line 4, column 5: duplicate key \"a\"");
    expect_error("{\"a\":1,\"b\":{\"c\":1,\"d\":x}}", "line 1, column 23: unexpected 'x'");
    char err[ERRLEN];
    json_value *v = parse("{\"a\":{\"a\":1},\"b\":{\"a\":2},\"\":1,\"A\":2}", err);
    assert_non_null(v);
    json_free(v);
}

/* An object of n keys k0000000, k0000001, ... with `tail` (a member or "") at its end. */
static char *many_keys(size_t n, const char *tail, size_t *len)
{
    char *text = NULL;
    FILE *m = open_memstream(&text, len);
    assert_non_null(m);
    fputs("{", m);
    for (size_t i = 0; i < n; i++)
        fprintf(m, "%s\n  \"k%07zu\": %zu", i ? "," : "", i, i);
    fprintf(m, "%s\n}\n", tail);
    assert_int_equal(fclose(m), 0);
    return text;
}

/* A multi-MB object of many keys is read, and refused for one duplicate at its end with the
 * line and column of that key: the duplicate check sorts the keys (it compared each with all
 * before it: minutes for 5 MB). Correctness only; bench/json_read times it. */
static void test_many_keys(void **state)
{
    (void)state;
    char err[ERRLEN];
    size_t n = 300000, len;
    char *text = many_keys(n, "", &len);
    assert_true(len > 5000000);
    json_value *v = json_parse(text, len, err, ERRLEN);
    assert_non_null(v);
    assert_int_equal(v->len, n);
    assert_int_equal(json_get(v, "k0299999")->u64, 299999);
    assert_int_equal(json_get(v, "k0000000")->u64, 0);
    assert_null(json_get(v, "k0300000"));
    json_free(v);
    free(text);

    text = many_keys(n, ",\n  \"k0123456\": 1", &len);
    assert_null(json_parse(text, len, err, ERRLEN));
    char want[100];
    snprintf(want, sizeof(want), "line %zu, column 13: duplicate key \"k0123456\"", n + 2);
    assert_string_equal(err, want);
    free(text);
    /* Two duplicates: the first in the text is named, whatever the order of the keys. */
    text = many_keys(n, ",\n  \"k0000009\": 1,\n  \"k0000001\": 1", &len);
    assert_null(json_parse(text, len, err, ERRLEN));
    snprintf(want, sizeof(want), "line %zu, column 13: duplicate key \"k0000009\"", n + 2);
    assert_string_equal(err, want);
    free(text);
}

/* What rep_json_real writes, json_get_seconds reads: finite values within the six decimals
 * (or the exponent form's precision), infinity and NaN as null (not known: NaN); never the
 * text inf or nan, which no JSON reader takes. */
static void test_real_round_trip(void **state)
{
    (void)state;
    static const double values[] = {0,         1e-9,      0.046123,  1.5,     123456.789012,
                                    999999999, 1e14 + .5, 1e15,      1.23e20, 1e300,
                                    DBL_MAX,   INFINITY,  -INFINITY, NAN};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char *text = NULL, err[ERRLEN];
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        assert_non_null(m);
        fputs("{\"s\": ", m);
        rep_json_real(m, values[i]);
        fputs("}", m);
        assert_int_equal(fclose(m), 0);
        if (strstr(text, "inf") || strstr(text, "nan"))
            fail_msg("%g written as %s", values[i], text);
        json_value *v = json_parse(text, len, err, ERRLEN);
        if (!v)
            fail_msg("%g written as %s, which the reader refuses: %s", values[i], text, err);
        double got;
        if (json_get_seconds(v, "s", &got, err, ERRLEN))
            fail_msg("%s: %s", text, err);
        if (isfinite(values[i])) {
            double x = values[i], tol = 5e-7 + fabs(x) * 1e-6;
            if (fabs(got - x) > tol)
                fail_msg("%g written as %s, read as %g", x, text, got);
        } else {
            assert_true(isnan(got));
        }
        json_free(v);
        free(text);
    }
}

static void test_getters(void **state)
{
    (void)state;
    char err[ERRLEN];
    json_value *v = parse("{\"s\": \"x\", \"n\": 7, \"f\": 0.5, \"neg\": -1, \"big\": 1e30, "
                          "\"b\": true, \"a\": []}",
                          err);
    assert_non_null(v);
    const char *s;
    uint64_t n;
    double d;
    bool b;
    const json_value *a;
    assert_int_equal(json_get_string(v, "s", &s, err, ERRLEN), 0);
    assert_string_equal(s, "x");
    assert_int_equal(json_get_u64(v, "n", &n, err, ERRLEN), 0);
    assert_int_equal(n, 7);
    assert_int_equal(json_get_seconds(v, "f", &d, err, ERRLEN), 0);
    assert_true(d == 0.5);
    assert_int_equal(json_get_bool(v, "b", &b, err, ERRLEN), 0);
    assert_true(b);
    assert_int_equal(json_get_typed(v, "a", JSON_ARRAY, &a, err, ERRLEN), 0);
    assert_int_equal(json_get_u64(v, "gone", &n, err, ERRLEN), -1);
    assert_string_equal(err, "missing \"gone\"");
    assert_int_equal(json_get_u64(v, "s", &n, err, ERRLEN), -1);
    assert_string_equal(err, "\"s\" must be a number, not a string");
    assert_int_equal(json_get_u64(v, "f", &n, err, ERRLEN), -1);
    assert_string_equal(err, "\"f\" must be a whole number from 0 to 2^64-1");
    assert_int_equal(json_get_u64(v, "big", &n, err, ERRLEN), -1);
    assert_int_equal(json_get_seconds(v, "neg", &d, err, ERRLEN), -1);
    assert_string_equal(err, "\"neg\" must not be negative");
    assert_int_equal(json_get_bool(v, "n", &b, err, ERRLEN), -1);
    assert_string_equal(err, "\"n\" must be a boolean, not a number");
    json_free(v);
}

/* A check result with a violation, as `check --format json` writes it. */
static const char result[] = "{\n"
                             "  \"qinval_result\": 1,\n"
                             "  \"driver\": \"legacy-odd\",\n"
                             "  \"scenario\": \"ite-even-batch\",\n"
                             "  \"sets\": [\"batch=4\"],\n"
                             "  \"strategy\": \"pct\",\n"
                             "  \"seed\": 3,\n"
                             "  \"verdict\": \"hang\",\n"
                             "  \"pct_depth\": 3,\n"
                             "  \"shard\": \"1/2\",\n"
                             "  \"executions\": 4,\n"
                             "  \"seconds\": 0.010000,\n"
                             "  \"complete\": false,\n"
                             "  \"failing_execution\": 7,\n"
                             "  \"counterexample\": {\n"
                             "    \"execution\": 7,\n"
                             "    \"virtual_time_ns\": 1000,\n"
                             "    \"oracle\": \"cpu0 \\\"waits\\\"\",\n"
                             "    \"schedule\": [[3, 1], [9, 0]],\n"
                             "    \"timeline\": [\n"
                             "      \"   0.000000000  sw     IQT <- 0x0\"\n"
                             "    ]\n"
                             "  }\n"
                             "}\n";

static void test_result(void **state)
{
    (void)state;
    char err[ERRLEN];
    struct ce_loaded l;
    json_value *v = parse(result, err);
    assert_non_null(v);
    assert_int_equal(ce_from_json(v, &l, err, ERRLEN), 0);
    assert_true(l.is_result && l.has_counterexample);
    assert_string_equal(l.f.driver, "legacy-odd");
    assert_int_equal(l.f.nsets, 1);
    assert_string_equal(l.f.sets[0], "batch=4");
    assert_int_equal(l.f.seed, 3);
    assert_int_equal(l.f.pct_depth, 3);
    assert_int_equal(l.f.npicks, 2);
    assert_int_equal(l.f.picks[0].pos, 3);
    assert_int_equal(l.f.picks[0].v, 1);
    assert_int_equal(l.cx.execution, 7);
    assert_string_equal(l.cx.oracle, "cpu0 \"waits\"");
    assert_int_equal(l.cx.ntimeline, 1);
    ce_loaded_free(&l);
}

/* Edit one member of the result; the reader must refuse it with want. */
static void expect_result_error(const char *from, const char *to, const char *want)
{
    char text[sizeof(result) + 64], err[ERRLEN] = "";
    const char *at = strstr(result, from);
    assert_non_null(at);
    snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - result), result, to, at + strlen(from));
    json_value *v = parse(text, err);
    assert_non_null(v);
    struct ce_loaded l;
    int rc = ce_from_json(v, &l, err, ERRLEN);
    if (rc == 0 || !strstr(err, want))
        fail_msg("%s -> %s: wanted '%s', got '%s'", from, to, want, rc ? err : "(accepted)");
    ce_loaded_free(&l);
}

static void test_result_errors(void **state)
{
    (void)state;
    expect_result_error("\"qinval_result\": 1,", "", "no \"qinval_counterexample\" or");
    expect_result_error("\"driver\": \"legacy-odd\"", "\"driver\": 5", "\"driver\" must be a str");
    expect_result_error("\"seed\": 3", "\"seed\": -3", "\"seed\" must be a whole number");
    expect_result_error("\"verdict\": \"hang\"", "\"verdict\": \"meh\"", "unknown verdict \"meh\"");
    expect_result_error("[\"batch=4\"]", "[4]", "\"sets\" must hold strings");
    expect_result_error("\"pct_depth\": 3", "\"pct_depth\": 99999999999", "out of range");
    expect_result_error("[[3, 1], [9, 0]]", "[[9, 1], [3, 0]]", "increasing position order");
    expect_result_error("[[3, 1], [9, 0]]", "[[3, 70000]]", "out of range");
    expect_result_error("[[3, 1], [9, 0]]", "[[3]]", "must be [position, option]");
    expect_result_error("[[3, 1], [9, 0]]", "[3, 1]", "must be [position, option]");
    expect_result_error("\"timeline\": [", "\"timeline\": [1, ", "\"timeline\" must hold strings");
    expect_result_error("\"counterexample\": {", "\"cx\": {", "missing \"counterexample\"");
    expect_result_error("\"oracle\"", "\"words\"", "missing \"oracle\"");
}

/* Every prefix of the result, and every byte replaced by a few others: parse or fail with a
 * message; never crash or leak. */
static void test_fuzz(void **state)
{
    (void)state;
    char err[ERRLEN], text[sizeof(result)];
    size_t n = strlen(result);
    for (size_t len = 0; len < n; len++) {
        json_value *v = json_parse(result, len, err, ERRLEN);
        if (!v)
            assert_true(strncmp(err, "line ", 5) == 0);
        json_free(v);
    }
    static const char flips[] = "\"\\{}[],:0-e \x01\xff";
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof(flips) - 1; k++) {
            memcpy(text, result, n);
            text[i] = flips[k];
            json_value *v = json_parse(text, n, err, ERRLEN);
            struct ce_loaded l;
            if (v && ce_from_json(v, &l, err, ERRLEN) == 0)
                assert_non_null(l.f.driver);
            if (v)
                ce_loaded_free(&l);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),          cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),         cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_getters),         cmocka_unit_test(test_result),
        cmocka_unit_test(test_result_errors),   cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_duplicate_keys),  cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_real_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
