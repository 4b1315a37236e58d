/*
 * region.c — the greedy region description of region.h. A constraint on factor f keeps the
 * values f takes at failing points; numbers are written as a bound when the kept values are
 * every value tried from some point up (">=") or down ("<="), else as a list ("2|4").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/region.h"
#include "util/grow.h"

static const char *value(const struct chk_region_in *r, size_t p, unsigned f)
{
    return r->values[p * r->nfactors + f];
}

/* Did factor f take value v at some failing point? */
static bool kept(const struct chk_region_in *r, unsigned f, const char *v)
{
    for (size_t p = 0; p < r->npoints; p++)
        if (r->in[p] && !strcmp(value(r, p, f), v))
            return true;
    return false;
}

/* Points matching every chosen constraint (and, if extra >= 0, that one too). */
static size_t matching(const struct chk_region_in *r, const bool *chosen, int extra, bool *match)
{
    size_t n = 0;
    for (size_t p = 0; p < r->npoints; p++) {
        bool m = true;
        for (unsigned f = 0; f < r->nfactors && m; f++)
            if (chosen[f] || (int)f == extra)
                m = kept(r, f, value(r, p, f));
        if (match)
            match[p] = m;
        n += m;
    }
    return n;
}

static bool is_number(const char *s, long long *out)
{
    char *end;
    if (!*s || strspn(s, "0123456789-") != strlen(s))
        return false;
    *out = strtoll(s, &end, 10);
    return !*end;
}

static int by_number(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* The distinct values of factor f among all points, sorted if they are all numbers. */
static size_t distinct(const struct chk_region_in *r, unsigned f, const char **out, bool *numeric)
{
    size_t n = 0;
    for (size_t p = 0; p < r->npoints; p++) {
        size_t i = 0;
        while (i < n && strcmp(out[i], value(r, p, f)))
            i++;
        if (i == n)
            out[n++] = value(r, p, f);
    }
    long long x;
    *numeric = true;
    for (size_t i = 0; i < n && *numeric; i++)
        *numeric = is_number(out[i], &x);
    return n;
}

/* "key=a|b|c": the kept values among nums[0..n), in increasing order. */
static void numbers_list(const struct chk_region_in *r, unsigned f, const long long *nums, size_t n,
                         char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "%s=", r->keys[f]);
    bool first = true;
    for (size_t i = 0; i < n && at < len; i++) {
        char t[32];
        snprintf(t, sizeof(t), "%lld", nums[i]);
        if (!kept(r, f, t))
            continue;
        at += (size_t)snprintf(buf + at, len - at, "%s%s", first ? "" : "|", t);
        first = false;
    }
}

/* "key>=v", "key<=v" or "key=a|b|c". */
static void constraint_text(const struct chk_region_in *r, unsigned f, char *buf, size_t len)
{
    const char **vals = must_alloc((r->npoints + 1) * sizeof(*vals), "a region");
    bool numeric;
    size_t n = distinct(r, f, vals, &numeric), lo = n, hi = 0, k = 0;
    if (numeric) {
        long long *nums = must_alloc((n + 1) * sizeof(*nums), "a region");
        for (size_t i = 0; i < n; i++)
            is_number(vals[i], &nums[i]);
        qsort(nums, n, sizeof(*nums), by_number);
        for (size_t i = 0; i < n; i++) {
            char t[32];
            snprintf(t, sizeof(t), "%lld", nums[i]);
            if (kept(r, f, t))
                lo = lo < i ? lo : i, hi = i, k++;
        }
        bool run = k && hi - lo + 1 == k;
        if (run && k > 1 && hi == n - 1)
            snprintf(buf, len, "%s>=%lld", r->keys[f], nums[lo]);
        else if (run && k > 1 && lo == 0)
            snprintf(buf, len, "%s<=%lld", r->keys[f], nums[hi]);
        else
            numbers_list(r, f, nums, n, buf, len);
        free(nums);
    } else {
        size_t at = (size_t)snprintf(buf, len, "%s=", r->keys[f]);
        for (size_t i = 0, first = 1; i < n && at < len; i++)
            if (kept(r, f, vals[i])) {
                at += (size_t)snprintf(buf + at, len - at, "%s%s", first ? "" : "|", vals[i]);
                first = 0;
            }
    }
    free(vals);
}

void chk_region_describe(const struct chk_region_in *r, char *buf, size_t len)
{
    size_t fails = 0;
    for (size_t p = 0; p < r->npoints; p++)
        fails += r->in[p];
    if (!fails) {
        snprintf(buf, len, "no point");
        return;
    }
    bool chosen[64] = {false};
    unsigned nf = r->nfactors < 64 ? r->nfactors : 64;
    size_t m = matching(r, chosen, -1, NULL);
    while (m > fails) {
        int best = -1;
        size_t best_m = m;
        for (unsigned f = 0; f < nf; f++) {
            if (chosen[f])
                continue;
            size_t k = matching(r, chosen, (int)f, NULL);
            if (k < best_m)
                best = (int)f, best_m = k;
        }
        if (best < 0)
            break;
        chosen[best] = true;
        m = best_m;
    }
    size_t at = 0;
    buf[0] = '\0';
    for (unsigned f = 0; f < nf && at < len; f++) {
        if (!chosen[f])
            continue;
        char c[512];
        constraint_text(r, f, c, sizeof(c));
        at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "", c);
    }
    if (!at)
        at = (size_t)snprintf(buf, len, "every point run");
    if (m > fails && at < len)
        snprintf(buf + at, len - at, " (at %zu of %zu points matching)", fails, m);
}
