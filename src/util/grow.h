/*
 * grow.h — the growable array of the hosted code (model logs, the scheduler's records, the
 * checker's traces): make room for element `len` by doubling. When memory runs out it ends the
 * process with a message and exit status 3 (grow_out_of_memory): every array it serves is a
 * record whose silent loss would make a verdict unsound.
 */
#ifndef QINVAL_UTIL_GROW_H
#define QINVAL_UTIL_GROW_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Non-zero while this thread is inside the allocator on behalf of the simulation (grow_array,
 * and the simulator's own blocks). The simulator's step guard (src/sim/guard.c) leaves a stuck
 * step by a long jump out of a signal handler; out of malloc that would leave the allocator's
 * lock taken for good, so the guard does not jump while this is set, and tries again later.
 * Defined in grow.c. */
extern _Thread_local volatile sig_atomic_t grow_in_alloc;

/* Memory for `bytes` of `what` (a record the checker cannot do without) could not be had: one
 * line on stderr saying so, and exit status 3, the command's "internal error" (no verdict can be
 * given without the record). Never returns. Defined in grow.c. */
_Noreturn void grow_out_of_memory(size_t bytes, const char *what);

static inline void *grow_array(void *p, size_t *cap, size_t len, size_t elem, size_t first,
                               const char *what)
{
    if (len < *cap)
        return p;
    size_t n = *cap ? *cap * 2 : first;
    if (n > SIZE_MAX / 2 / elem)
        grow_out_of_memory(SIZE_MAX, what);
    grow_in_alloc = 1;
    void *q = realloc(p, n * elem);
    grow_in_alloc = 0;
    if (!q)
        grow_out_of_memory(n * elem, what);
    *cap = n;
    return q;
}

/* malloc(bytes), or the end of the process as grow_out_of_memory() says. */
static inline void *must_alloc(size_t bytes, const char *what)
{
    void *p = malloc(bytes);
    if (!p)
        grow_out_of_memory(bytes, what);
    return p;
}

/* GROW(arr, len, cap, first): arr has room for arr[len] afterwards. */
#define GROW(arr, len, cap, first)                                                                 \
    ((arr) = grow_array((arr), &(cap), (len), sizeof(*(arr)), (first),                             \
                        "the records of a run (" #arr ")"))

/* Arrays handed from one object to the next of its kind (a spare kept per thread, so that an
 * execution of the checker does not regrow its arrays from nothing). Only capacity is handed
 * over: the taker starts its length at zero and reads only what it writes.
 * SPARE_TAKE(arr, cap, spare, spare_cap): move the spare into the (empty) array.
 * SPARE_KEEP(spare, spare_cap, arr, cap): keep the larger of the two as the spare, free the
 * other. */
#define SPARE_TAKE(arr, cap, spare, spare_cap)                                                     \
    do {                                                                                           \
        (arr) = (spare), (cap) = (spare_cap);                                                      \
        (spare) = NULL, (spare_cap) = 0;                                                           \
    } while (0)

#define SPARE_KEEP(spare, spare_cap, arr, cap)                                                     \
    do {                                                                                           \
        if ((cap) > (spare_cap)) {                                                                 \
            free(spare);                                                                           \
            (spare) = (arr), (spare_cap) = (cap);                                                  \
        } else {                                                                                   \
            free(arr);                                                                             \
        }                                                                                          \
    } while (0)

#endif /* QINVAL_UTIL_GROW_H */
