/*
 * strcopy.h — copy a string into a fixed buffer, cut to fit, as snprintf(dst, size, "%s", src)
 * would, without the formatting machinery: for the checker's per-execution messages (the
 * verdict's reason, the simulation's stop message), written once for every execution.
 */
#ifndef QINVAL_UTIL_STRCOPY_H
#define QINVAL_UTIL_STRCOPY_H

#include <stddef.h>
#include <string.h>

static inline void str_copy_cut(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

#endif /* QINVAL_UTIL_STRCOPY_H */
