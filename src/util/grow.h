/*
 * grow.h — the growable array of the hosted code (model logs, the scheduler's records, the
 * checker's traces): make room for element `len` by doubling. It aborts when memory runs out:
 * every array it serves is a record whose silent loss would make a verdict unsound.
 */
#ifndef QINVAL_UTIL_GROW_H
#define QINVAL_UTIL_GROW_H

#include <stddef.h>
#include <stdlib.h>

static inline void *grow_array(void *p, size_t *cap, size_t len, size_t elem, size_t first)
{
    if (len < *cap)
        return p;
    size_t n = *cap ? *cap * 2 : first;
    void *q = realloc(p, n * elem);
    if (!q)
        abort();
    *cap = n;
    return q;
}

/* GROW(arr, len, cap, first): arr has room for arr[len] afterwards. */
#define GROW(arr, len, cap, first)                                                                 \
    ((arr) = grow_array((arr), &(cap), (len), sizeof(*(arr)), (first)))

#endif /* QINVAL_UTIL_GROW_H */
