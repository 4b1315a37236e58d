/*
 * installed.h — where an installed qinval (make install) finds its data: BINDIR/../share/qinval.
 * The checker's catalog and the kernel harness's shim and glue are read from there when the
 * running binary sits in such a layout; a binary in a build tree uses its source tree instead.
 */
#ifndef QINVAL_UTIL_INSTALLED_H
#define QINVAL_UTIL_INSTALLED_H

#include <stdbool.h>
#include <stddef.h>

/* Writes BINDIR/../share/qinval/`rel` into out and returns true if that names a readable file
 * or directory; false (out unspecified) otherwise. */
bool installed_path(const char *rel, char *out, size_t cap);

#endif /* QINVAL_UTIL_INSTALLED_H */
