/*
 * test_json.c — the CLI's JSON reader (src/cli/json.c, over jansson) and the result reader
 * built on it (ce_from_json): values and escapes decode as RFC 8259 says; malformed text fails
 * with one line giving its line and column, for every kind of fault; integers are exact over
 * the whole 64-bit range (beyond jansson's long long too), and numbers too large for a double
 * or for 64 bits are told apart; the depth, value-count and size limits hold; the typed getters
 * name the key; every prefix and many byte flips of a real check result fail cleanly or parse
 * (no crash, no leak under ASan); duplicate keys are found in objects of any size, named where
 * they first occur; the strings (any bytes) and reals the writers write (src/report/jsonw.c)
 * are read back, inf and nan as null; and a result with 64-bit seed and counts round-trips.
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
#include <unistd.h>

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
    assert_int_equal(v->type, JV_OBJECT);
    assert_int_equal(v->len, 3);
    const json_value *a = json_get(v, "a");
    assert_non_null(a);
    assert_int_equal(a->len, 5);
    assert_true(a->items[0].is_u64);
    assert_int_equal(a->items[0].u64, 1);
    assert_false(a->items[1].is_u64);
    assert_true(a->items[1].number == -25.0);
    assert_true(a->items[2].boolean);
    assert_int_equal(a->items[3].type, JV_BOOL);
    assert_false(a->items[3].boolean);
    assert_int_equal(a->items[4].type, JV_NULL);
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
    expect_error("1e999", "line 1, column 5: number out of range: 1e999");
    expect_error("[0, -1e400]", "line 1, column 10: number out of range: -1e400");
    expect_error("012", "line 1, column 1: invalid token near '0'");
    expect_error("1.", "line 1, column 2: invalid token near '1.'");
    expect_error("1e", "line 1, column 2: invalid token near '1e'");
    expect_error("-", "invalid token near '-'");
    expect_error("+1", "invalid token near '+'");
    /* a long integer is a number as long as a double holds it */
    char many[402];
    memset(many, '9', sizeof(many) - 1);
    many[sizeof(many) - 1] = 0;
    expect_error(many, "line 1, column 401: number out of range: 9999999999");
    many[200] = 0;
    char err2[ERRLEN];
    v = parse(many, err2);
    assert_non_null(v);
    assert_false(v->is_u64);
    assert_true(v->number > 9.9e199 && v->number < 1.1e200);
    json_free(v);
}

/* jansson holds integers as long long: those beyond it are read by json.c's own scan, and
 * must land on the right node, exact, whatever comes around them. */
static void test_u64_range(void **state)
{
    (void)state;
    char err[ERRLEN];
    json_value *v = parse("{\"a\": [9223372036854775807, 9223372036854775808, -9223372036854775808,"
                          " -9223372036854775809, -0, 18446744073709551614, 1.5],"
                          " \"seed\": 18446744073709551615, \"n\": 12345678901234567890,"
                          " \"big\": 123456789012345678901234567890, \"x\": -0.0, \"t\": 7}",
                          err);
    if (!v)
        fail_msg("%s", err);
    const json_value *a = json_get(v, "a");
    assert_int_equal(a->len, 7);
    assert_true(a->items[0].is_u64 && a->items[0].u64 == INT64_MAX);
    assert_true(a->items[1].is_u64 && a->items[1].u64 == (uint64_t)INT64_MAX + 1);
    assert_false(a->items[2].is_u64);
    assert_true(a->items[2].number == -9223372036854775808.0);
    assert_false(a->items[3].is_u64);
    assert_true(a->items[3].number == -9223372036854775809.0);
    assert_false(a->items[4].is_u64); /* -0: negative, as before jansson */
    assert_true(a->items[4].number == 0 && signbit(a->items[4].number));
    assert_true(a->items[5].is_u64 && a->items[5].u64 == UINT64_MAX - 1);
    assert_true(a->items[6].number == 1.5);
    uint64_t u;
    assert_int_equal(json_get_u64(v, "seed", &u, err, ERRLEN), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(json_get_u64(v, "n", &u, err, ERRLEN), 0);
    assert_true(u == 12345678901234567890ull);
    assert_int_equal(json_get_u64(v, "big", &u, err, ERRLEN), -1);
    assert_string_equal(err, "\"big\" must be a whole number from 0 to 2^64-1");
    assert_true(json_get(v, "big")->number == 123456789012345678901234567890.0);
    assert_int_equal(json_get_u64(v, "x", &u, err, ERRLEN), -1);
    assert_int_equal(json_get_u64(v, "t", &u, err, ERRLEN), 0);
    assert_int_equal(u, 7);
    json_free(v);
    /* A fault next to a big integer shows it as the text has it. */
    expect_error("[1 18446744073709551615]",
                 "line 1, column 23: ']' expected near '18446744073709551615'");
    expect_error("[18446744073709551615 1]", "line 1, column 23: ']' expected near '1'");
    expect_error("{\"a\": 18446744073709551615, \"a\": 1}",
                 "line 1, column 31: duplicate key \"a\"");
    expect_error("[18446744073709551615x]", "line 1, column 22: ']' expected near 'x'");
    /* in a string, digits are no number */
    v = parse("[\"18446744073709551616\", 18446744073709551615]", err);
    assert_non_null(v);
    assert_string_equal(v->items[0].string, "18446744073709551616");
    assert_true(v->items[1].is_u64 && v->items[1].u64 == UINT64_MAX);
    json_free(v);
}

static void test_malformed(void **state)
{
    (void)state;
    /* the end of the text: the column after its last character */
    expect_error("", "line 1, column 1: unexpected token near end of file (truncated?)");
    expect_error("\n", "line 2, column 1: unexpected token near end of file (truncated?)");
    expect_error("{\"a\": 1", "line 1, column 8: '}' expected near end of file (truncated?)");
    expect_error("[1, 2", "line 1, column 6: ']' expected near end of file (truncated?)");
    expect_error("\"abc", "line 1, column 5: premature end of input near '\"abc' (truncated?)");
    /* else the last character of the token at fault */
    expect_error("{\"a\": 1,\n \"b\" 2}", "line 2, column 6: ':' expected near '2'");
    expect_error("[1 2]", "line 1, column 4: ']' expected near '2'");
    expect_error("{\"a\": 1, \"a\": 2}", "line 1, column 12: duplicate key \"a\"");
    expect_error("{1: 2}", "line 1, column 2: string or '}' expected near '1'");
    expect_error("[1,]", "line 1, column 4: unexpected token near ']'");
    expect_error("{\"a\":1,}", "line 1, column 8: string or '}' expected near '}'");
    expect_error("\"a\\qb\"", "line 1, column 4: invalid escape near '\"a\\q'");
    expect_error("\"a\\u12\"", "line 1, column 7: invalid escape");
    /* a control character in a message is shown by its code: the message stays one line */
    expect_error("\"\\u1\n23\"", "line 1, column 5: invalid escape near '\"\\u1\\x0a'");
    expect_error("[1\n\x0b", "line 2, column 1: ']' expected near '\\x0b'");
    expect_error("\"\\u0000\"", "line 1, column 8: \\u0000 in a string is not supported");
    expect_error("{\"k\": {\"\\u0000\": 1}}",
                 "line 1, column 15: \\u0000 in a key is not supported");
    expect_error("\"\\udc00\"", "line 1, column 8: invalid Unicode '\\uDC00'");
    expect_error("\"\\ud800x\"", "line 1, column 9: invalid Unicode '\\uD800'");
    expect_error("\"a\tb\"", "line 1, column 2: control character 0x9");
    expect_error("tru", "line 1, column 3: invalid token near 'tru'");
    expect_error("nul", "invalid token near 'nul'");
    expect_error("{} {}", "line 1, column 4: unexpected text after the value");
    expect_error("\x01", "line 1, column 1: invalid token near '\\x01'");
    /* not UTF-8: the byte at fault; columns count characters, not bytes */
    expect_error("[\"\xc3\xa9\", \"a\xff\"]", "line 1, column 9: unable to decode byte 0xff");
    expect_error("[\"\xc3\xa9\" 1]", "line 1, column 6: ']' expected near '1'");
}

/* The limits: nesting, the number of values, the size of a file. Each is one line with its
 * line and column (the value that passes it), unless the text is malformed before that. */
static void test_limits(void **state)
{
    (void)state;
    char err[ERRLEN], deep[200] = "";
    for (int i = 0; i <= JSON_MAX_DEPTH; i++) /* the innermost value at depth 32 */
        strcat(deep, "[");
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        strcat(deep, "]");
    json_value *v = parse(deep, err);
    assert_non_null(v);
    json_free(v);
    memcpy(deep + JSON_MAX_DEPTH + 1, "0", 1); /* a value at depth 33 */
    memset(deep + JSON_MAX_DEPTH + 2, ']', JSON_MAX_DEPTH + 1);
    deep[2 * JSON_MAX_DEPTH + 3] = 0;
    expect_error(deep, "line 1, column 34: nested deeper than 32 levels");
    memset(deep, 0, sizeof(deep));
    for (int i = 0; i < 40; i++)
        strcat(deep, i == 20 ? "{\"k\":\n[" : "[");
    expect_error(deep, "line 2, column 13: nested deeper than 32 levels");
    expect_error("[x, [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                 "line 1, column 2: invalid token");

    /* JSON_MAX_VALUES values (the array and its zeros) are read; one more is refused. */
    size_t n = JSON_MAX_VALUES - 1, len = 2 * n + 1;
    char *text = malloc(len + 3);
    assert_non_null(text);
    text[0] = '[';
    for (size_t i = 0; i < n; i++)
        memcpy(text + 1 + 2 * i, "0,", 2);
    text[len - 1] = ']';
    v = json_parse(text, len, err, ERRLEN);
    if (!v)
        fail_msg("%s", err);
    assert_int_equal(v->len, n);
    json_free(v);
    memcpy(text + len - 1, ",0]", 3);
    assert_null(json_parse(text, len + 2, err, ERRLEN));
    char want[100];
    snprintf(want, sizeof(want), "line 1, column %zu: more than %u values", len + 1,
             JSON_MAX_VALUES);
    assert_string_equal(err, want);
    free(text);

    /* A file larger than JSON_MAX_BYTES is refused before it is parsed. */
    char path[] = "/tmp/test_json_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)JSON_MAX_BYTES + 1), 0);
    close(fd);
    assert_null(json_parse_file(path, err, ERRLEN));
    unlink(path);
    assert_non_null(strstr(err, "larger than 64 MiB"));
}

/* Duplicate keys: the message names the first one in the text, at its closing quote, also
 * when an error comes after it (as reading in order would find it first), and not in objects
 * that merely share key names. */
static void test_duplicate_keys(void **state)
{
    (void)state;
    expect_error("{\"a\":1,\"a\":2}", "line 1, column 10: duplicate key \"a\"");
    expect_error("{\"a\":1,\"a\":2, x}", "line 1, column 10: duplicate key \"a\"");
    expect_error("{\"a\":1,\"a\" 2}", "line 1, column 10: duplicate key \"a\"");
    expect_error("{\"a\":1,\"a\":[1,", "line 1, column 10: duplicate key \"a\"");
    expect_error("{\"x\":1,\"y\":1,\"y\":2,\"x\":2}", "line 1, column 16: duplicate key \"y\"");
    expect_error("{\"a\":{\"b\":1,\"b\":2},\"a\":1}", "line 1, column 15: duplicate key \"b\"");
    expect_error("{\"a\":1,\"b\":{\"c\":1,\"c\":2},\"a\":3}",
                 "line 1, column 21: duplicate key \"c\"");
    expect_error("{\"a\":1,\n \"b\":{\"c\":[1,\n2]},\n \"a\":{\"d\":tru}}",
                 "line 4, column 4: duplicate key \"a\"");
    expect_error("{\"a\":1,\"b\":{\"c\":1,\"d\":x}}", "line 1, column 23: invalid token near 'x'");
    char err[ERRLEN];
    /* a long key, with escapes, is named as the text writes it */
    expect_error("{\"a\\\"b\\\\\":1,\"a\\\"b\\\\\":2}",
                 "line 1, column 20: duplicate key \"a\\\"b\\\\\"");
    expect_error("{\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":1,\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":2}",
                 "duplicate key \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\"");
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
    snprintf(want, sizeof(want), "line %zu, column 12: duplicate key \"k0123456\"", n + 2);
    assert_string_equal(err, want);
    free(text);
    /* Two duplicates: the first in the text is named, whatever the order of the keys. */
    text = many_keys(n, ",\n  \"k0000009\": 1,\n  \"k0000001\": 1", &len);
    assert_null(json_parse(text, len, err, ERRLEN));
    snprintf(want, sizeof(want), "line %zu, column 12: duplicate key \"k0000009\"", n + 2);
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

/* s written by rep_json_string. */
static char *written(const char *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    assert_non_null(m);
    rep_json_string(m, s);
    assert_int_equal(fclose(m), 0);
    return text;
}

/* rep_json_string (jansson's encoder): the bytes it writes, the same every time, and what the
 * reader makes of them: the string itself, or, for bytes that are not UTF-8, U+FFFD in their
 * place. */
static void test_string_writer(void **state)
{
    (void)state;
    static const struct {
        const char *in, *text, *read;
    } cases[] = {
        {"", "\"\"", ""},
        {"plain /path", "\"plain /path\"", "plain /path"},
        {"q\" b\\", "\"q\\\" b\\\\\"", "q\" b\\"},
        {"\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t"},
        {"\x01\x1f\x7f", "\"\\u0001\\u001F\x7f\"", "\x01\x1f\x7f"},
        {"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
         "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        /* not UTF-8: a stray byte, a truncated sequence, an overlong form, a surrogate, beyond
         * U+10FFFF; each such byte becomes U+FFFD, the valid text around it stays */
        {"a\xff"
         "b",
         "\"a\xef\xbf\xbd"
         "b\"",
         "a\xef\xbf\xbd"
         "b"},
        {"\xc3", "\"\xef\xbf\xbd\"", "\xef\xbf\xbd"},
        {"\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xed\xa0\x80!", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!\"",
         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!"},
        {"\xf4\x90\x80\x80\xc3\xa9", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9\"",
         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = written(cases[i].in), err[ERRLEN];
        assert_string_equal(text, cases[i].text);
        json_value *v = json_parse(text, strlen(text), err, ERRLEN);
        if (!v)
            fail_msg("%s: %s", text, err);
        assert_int_equal(v->type, JV_STRING);
        assert_string_equal(v->string, cases[i].read);
        json_free(v);
        free(text);
    }
    /* every byte value, and a long string */
    char all[256], *big = malloc(100001);
    assert_non_null(big);
    for (int c = 1; c < 256; c++)
        all[c - 1] = (char)c;
    all[255] = 0;
    memset(big, 'x', 100000);
    big[100000] = 0;
    const char *more[] = {all, big};
    for (size_t i = 0; i < 2; i++) {
        char *text = written(more[i]), err[ERRLEN];
        json_value *v = json_parse(text, strlen(text), err, ERRLEN);
        if (!v)
            fail_msg("%.40s: %s", text, err);
        if (i == 1)
            assert_string_equal(v->string, big);
        else
            assert_memory_equal(v->string, all, 127); /* ASCII: as it was */
        json_free(v);
        free(text);
    }
    free(big);
}

/* A check result whose seed and counts are beyond 2^63, as the writers write it, is read back
 * exactly (a seed is any 64-bit value: check --seed takes 0 .. 2^64-1). */
static void test_result_u64_round_trip(void **state)
{
    (void)state;
    static const char *const sets[] = {"batch=4", "why=\"\xff\""};
    static const char *const timeline[] = {"   0.000000000  sw\tIQT <- 0x0"};
    static const struct chk_pick picks[] = {{.pos = 3, .v = 1}};
    struct ce_file f = {.driver = "legacy-odd",
                        .scenario = "ite-even-batch",
                        .strategy = "random",
                        .verdict = "hang",
                        .sets = sets,
                        .nsets = 2,
                        .seed = UINT64_MAX};
    struct ce_counterexample cx = {.execution = UINT64_MAX - 1,
                                   .virtual_time_ns = (uint64_t)INT64_MAX + 1,
                                   .oracle = "cpu0 \"waits\"",
                                   .picks = picks,
                                   .npicks = 1,
                                   .timeline = timeline,
                                   .ntimeline = 1};
    char *text = NULL, err[ERRLEN];
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    assert_non_null(m);
    ce_write_result_head(m, &f);
    ce_write_counterexample(m, &cx);
    ce_write_result_end(m);
    assert_int_equal(fclose(m), 0);
    assert_non_null(strstr(text, "\"seed\": 18446744073709551615,"));
    json_value *v = json_parse(text, len, err, ERRLEN);
    if (!v)
        fail_msg("%s", err);
    struct ce_loaded l;
    if (ce_from_json(v, &l, err, ERRLEN))
        fail_msg("%s", err);
    assert_true(l.f.seed == UINT64_MAX);
    assert_true(l.cx.execution == UINT64_MAX - 1);
    assert_true(l.cx.virtual_time_ns == (uint64_t)INT64_MAX + 1);
    assert_string_equal(l.f.sets[1], "why=\"\xef\xbf\xbd\"");
    assert_string_equal(l.cx.timeline[0], timeline[0]);
    assert_string_equal(l.cx.oracle, "cpu0 \"waits\"");
    ce_loaded_free(&l);
    free(text);
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
    assert_int_equal(json_get_typed(v, "a", JV_ARRAY, &a, err, ERRLEN), 0);
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
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_result),
        cmocka_unit_test(test_result_errors),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_real_round_trip),
        cmocka_unit_test(test_u64_range),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_string_writer),
        cmocka_unit_test(test_result_u64_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
