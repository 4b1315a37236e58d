/*
 * cover.h — a pairwise covering array: for factors with levels[f] levels each, a list of rows
 * (one level per factor) such that every pair of levels of every two factors appears together
 * in at least one row. `qinval sweep` (src/check/sweep.c) runs one parameter point per row, so
 * an interaction of two knobs is tried without trying every combination of all of them.
 *
 * The construction is greedy and deterministic (the same levels give the same rows on every
 * machine): each row starts from the first pair not yet covered and fills the other factors, in
 * order, with the level that covers the most pairs still uncovered (ties: the lowest level).
 * Its size is near the product of the two largest level counts, not the product of all.
 */
#ifndef QINVAL_CHECK_COVER_H
#define QINVAL_CHECK_COVER_H

#include <stddef.h>

#define CHK_COVER_MAX_FACTORS 32
#define CHK_COVER_MAX_LEVELS  64

/* The rows, into *rows (malloc'd, nrows * nfactors level indexes, row after row; NULL when there
 * are none). Returns the number of rows: 0 for no factors, levels[0] for one. Every levels[f]
 * must be in [1, CHK_COVER_MAX_LEVELS] and nfactors at most CHK_COVER_MAX_FACTORS; otherwise
 * returns 0 and sets *rows to NULL. */
size_t chk_cover_pairs(const unsigned *levels, unsigned nfactors, unsigned **rows);

#endif /* QINVAL_CHECK_COVER_H */
