/*
 * sat_time.h — saturating arithmetic on virtual times: nanoseconds in a uint64_t (the model's
 * hw_time, the engine's deadlines). UINT64_MAX (HW_NEVER) means "never": a sum or product of
 * times that would pass it is "never" too, instead of wrapping round to a small number that
 * would make a time-out, a watchdog or a deadline fire at once. Every addition and
 * multiplication of times in the model (src/hw), the simulation (src/sim), the checker
 * (src/check), the drivers and the engine goes through these.
 *
 * Only <stdint.h>: the engine includes this header too, and it is built freestanding.
 */
#ifndef QINVAL_UTIL_SAT_TIME_H
#define QINVAL_UTIL_SAT_TIME_H

#include <stdint.h>

#define SAT_TIME_NEVER UINT64_MAX

/* a + b, or SAT_TIME_NEVER if that does not fit (or either is already never). */
static inline uint64_t time_add(uint64_t a, uint64_t b)
{
    return a > SAT_TIME_NEVER - b ? SAT_TIME_NEVER : a + b;
}

/* a * k, or SAT_TIME_NEVER if that does not fit. */
static inline uint64_t time_mul(uint64_t a, uint64_t k)
{
    return k != 0 && a > SAT_TIME_NEVER / k ? SAT_TIME_NEVER : a * k;
}

#endif /* QINVAL_UTIL_SAT_TIME_H */
