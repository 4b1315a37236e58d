/*
 * fuzz_util.h — what the libFuzzer targets in fuzz/ share: a failed property stops the run with
 * a message (abort, which libFuzzer reports as a crash and saves the input), and the check
 * that an error message is one non-empty line.
 */
#ifndef QINVAL_FUZZ_UTIL_H
#define QINVAL_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_REQUIRE(cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz property failed: %s (%s:%d): ", #cond, __FILE__, __LINE__);      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* An error message: not empty, no newline (the caller prints it on one line). */
static inline void fuzz_one_line(const char *what, const char *err)
{
    FUZZ_REQUIRE(err[0] != '\0', "%s: failed with an empty message", what);
    FUZZ_REQUIRE(strchr(err, '\n') == NULL, "%s: message of several lines: %s", what, err);
}

/* A NUL-terminated copy of the input (to free). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif /* QINVAL_FUZZ_UTIL_H */
