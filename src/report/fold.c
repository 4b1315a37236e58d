/*
 * fold.c — repeated blocks of a text timeline, shown once (see fold.h).
 *
 * For every position the longest-covering run of identical blocks (period 1..FOLD_MAX_PERIOD
 * lines, compared without their timestamps and with every number matching any number) is found; a
 * run of at least FOLD_MIN_REPEATS blocks is printed as its first block, a fold line, and its last
 * block, so both the start and the end of the loop keep their real times.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/fold.h"
#include "util/grow.h"

#define FOLD_MAX_PERIOD  64
#define FOLD_MIN_REPEATS 3

struct line {
    const char *p;
    size_t len;     /* without the '\n' */
    size_t ts, tsl; /* where its timestamp is, and its length */
};

/* The timestamp: after the "[cpu]" column, up to its ':' (src/report/timeline.c), or else the
 * first field of the line. */
static void time_field(struct line *l)
{
    const char *p = l->p, *close = memchr(p, ']', l->len);
    size_t i = close ? (size_t)(close - p) + 1 : 0;
    while (i < l->len && p[i] == ' ')
        i++;
    l->ts = i;
    while (i < l->len && p[i] != ' ' && !(close && p[i] == ':'))
        i++;
    l->tsl = i - l->ts;
}

static size_t split(const char *text, size_t len, struct line **out)
{
    size_t n = 0, cap = 0;
    struct line *v = NULL;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (text + i)) : len - i;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            v = realloc(v, cap * sizeof(*v));
            if (!v)
                grow_out_of_memory(cap * sizeof(*v), "folding a timeline");
        }
        v[n] = (struct line){text + i, l, 0, 0};
        time_field(&v[n++]);
        i += l + 1;
    }
    *out = v;
    return n;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.';
}

/* A number starts with a digit that does not continue a name ("ep0", "cpu1" stay names) and
 * runs over letters and dots too ("0xa0", "1.000"). Returns its end, or p if none starts. */
static const char *number_end(const char *start, const char *p, const char *end)
{
    if (!is_digit(*p) || (p > start && is_alnum(p[-1]) && !is_digit(p[-1])))
        return p;
    while (p < end && is_alnum(*p))
        p++;
    return p;
}

/* Two pieces of text equal but for their numbers: each number matches any other (a retry loop
 * goes round with a new slot and tail each round). `start` is where the line begins. */
static bool same_text(const char *start_a, const char *x, const char *xe, const char *start_b,
                      const char *y, const char *ye)
{
    while (x < xe && y < ye) {
        const char *nx = number_end(start_a, x, xe), *ny = number_end(start_b, y, ye);
        if (nx != x && ny != y) {
            x = nx, y = ny;
        } else if (*x++ != *y++) {
            return false;
        }
    }
    return x == xe && y == ye;
}

/* The end of the text before the timestamp, without the padding that right-aligns it. */
static const char *before_time(const struct line *l)
{
    const char *e = l->p + l->ts;
    while (e > l->p && e[-1] == ' ')
        e--;
    return e;
}

/* Equal but for the timestamp (skipped: its width changes at 10 s, 100 s, ...) and the
 * numbers. */
static bool same(const struct line *a, const struct line *b)
{
    return same_text(a->p, a->p, before_time(a), b->p, b->p, before_time(b)) &&
           same_text(a->p, a->p + a->ts + a->tsl, a->p + a->len, b->p, b->p + b->ts + b->tsl,
                     b->p + b->len);
}

static bool block_same(const struct line *v, size_t i, size_t j, size_t period)
{
    for (size_t k = 0; k < period; k++)
        if (!same(&v[i + k], &v[j + k]))
            return false;
    return true;
}

/* The longest-covering repetition starting at i: period and count (count 0: none). */
static void best_run(const struct line *v, size_t n, size_t i, size_t *period, size_t *count)
{
    *period = 0, *count = 0;
    for (size_t p = 1; p <= FOLD_MAX_PERIOD && i + FOLD_MIN_REPEATS * p <= n; p++) {
        size_t k = 1;
        while (i + (k + 1) * p <= n && block_same(v, i, i + k * p, p))
            k++;
        if (k >= FOLD_MIN_REPEATS && p * k > *period * *count)
            *period = p, *count = k;
    }
}

static void put(FILE *out, const struct line *l)
{
    fwrite(l->p, 1, l->len, out);
    fputc('\n', out);
}

size_t rep_fold_timeline(const char *text, size_t len, FILE *out)
{
    struct line *v;
    size_t n = split(text, len, &v), written = 0;
    for (size_t i = 0; i < n;) {
        size_t p, k;
        best_run(v, n, i, &p, &k);
        if (!k) {
            put(out, &v[i++]);
            written++;
            continue;
        }
        for (size_t j = 0; j < p; j++)
            put(out, &v[i + j]);
        const struct line *last = &v[i + k * p - 1];
        fprintf(out,
                "      ...      (the %zu line%s above repeat%s %zu more time%s with other numbers, "
                "until %.*s; the last time:)\n",
                p, p == 1 ? "" : "s", p == 1 ? "s" : "", k - 1, k == 2 ? "" : "s", (int)last->tsl,
                last->p + last->ts);
        for (size_t j = (k - 1) * p; j < k * p; j++)
            put(out, &v[i + j]);
        written += 2 * p + 1;
        i += k * p;
    }
    free(v);
    return written;
}
