/*
 * cover.c — the greedy pairwise covering array of cover.h. Pairs are kept as one flag per
 * (factor f, level a, factor g > f, level b) in a table indexed by pair_at(); `left` counts
 * the flags still set, so the loop ends exactly when every pair is covered. Each row covers at
 * least the pair it starts from, so there are at most as many rows as pairs.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check/cover.h"
#include "util/grow.h"

struct pairs {
    const unsigned *levels;
    unsigned n;
    size_t base[CHK_COVER_MAX_FACTORS][CHK_COVER_MAX_FACTORS]; /* f < g: first flag of (f, g) */
    bool *uncovered;
    size_t left;
};

static size_t pair_at(const struct pairs *p, unsigned f, unsigned a, unsigned g, unsigned b)
{
    if (f > g) {
        unsigned t = f;
        f = g, g = t, t = a, a = b, b = t;
    }
    return p->base[f][g] + (size_t)a * p->levels[g] + b;
}

static void pairs_init(struct pairs *p, const unsigned *levels, unsigned n)
{
    size_t total = 0;
    p->levels = levels;
    p->n = n;
    for (unsigned f = 0; f < n; f++)
        for (unsigned g = f + 1; g < n; g++) {
            p->base[f][g] = total;
            total += (size_t)levels[f] * levels[g];
        }
    p->uncovered = must_alloc(total ? total : 1, "the pairs of a covering array");
    memset(p->uncovered, 1, total);
    p->left = total;
}

/* The first uncovered pair, as (f, a, g, b). */
static void first_uncovered(const struct pairs *p, unsigned *f, unsigned *a, unsigned *g,
                            unsigned *b)
{
    for (*f = 0; *f < p->n; (*f)++)
        for (*g = *f + 1; *g < p->n; (*g)++)
            for (*a = 0; *a < p->levels[*f]; (*a)++)
                for (*b = 0; *b < p->levels[*g]; (*b)++)
                    if (p->uncovered[pair_at(p, *f, *a, *g, *b)])
                        return;
}

/* How many uncovered pairs level l of factor h makes with the factors already set in row. */
static unsigned gain(const struct pairs *p, const int *row, unsigned h, unsigned l)
{
    unsigned k = 0;
    for (unsigned f = 0; f < p->n; f++)
        if (f != h && row[f] >= 0)
            k += p->uncovered[pair_at(p, h, l, f, (unsigned)row[f])];
    return k;
}

static void next_row(struct pairs *p, int *row)
{
    unsigned f, a, g, b;
    for (unsigned i = 0; i < p->n; i++)
        row[i] = -1;
    first_uncovered(p, &f, &a, &g, &b);
    row[f] = (int)a;
    row[g] = (int)b;
    for (unsigned h = 0; h < p->n; h++) {
        if (row[h] >= 0)
            continue;
        unsigned best = 0, best_gain = 0;
        for (unsigned l = 0; l < p->levels[h]; l++) {
            unsigned k = gain(p, row, h, l);
            if (k > best_gain)
                best = l, best_gain = k;
        }
        row[h] = (int)best;
    }
    for (unsigned i = 0; i < p->n; i++)
        for (unsigned j = i + 1; j < p->n; j++) {
            size_t at = pair_at(p, i, (unsigned)row[i], j, (unsigned)row[j]);
            p->left -= p->uncovered[at];
            p->uncovered[at] = false;
        }
}

size_t chk_cover_pairs(const unsigned *levels, unsigned nfactors, unsigned **rows)
{
    *rows = NULL;
    if (nfactors == 0 || nfactors > CHK_COVER_MAX_FACTORS)
        return 0;
    for (unsigned f = 0; f < nfactors; f++)
        if (levels[f] == 0 || levels[f] > CHK_COVER_MAX_LEVELS)
            return 0;
    if (nfactors == 1) {
        *rows = must_alloc(levels[0] * sizeof(**rows), "a covering array");
        for (unsigned l = 0; l < levels[0]; l++)
            (*rows)[l] = l;
        return levels[0];
    }
    struct pairs p;
    pairs_init(&p, levels, nfactors);
    size_t n = 0, cap = 0;
    int row[CHK_COVER_MAX_FACTORS];
    while (p.left) {
        next_row(&p, row);
        *rows = grow_array(*rows, &cap, (n + 1) * nfactors, sizeof(**rows), 64 * nfactors,
                           "a covering array");
        for (unsigned f = 0; f < nfactors; f++)
            (*rows)[n * nfactors + f] = (unsigned)row[f];
        n++;
    }
    free(p.uncovered);
    return n;
}
