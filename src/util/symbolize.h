/*
 * symbolize.h — the name of the driver function at a code address of this process, from its
 * debugging information (elfutils libdw): the innermost function of the driver's source there,
 * following inlining, so that an optimised and an unoptimised build name the same function.
 * Functions of the simulation and of the kernel harness's shim headers are passed over (the
 * platform layer is never the place a driver is stuck in). Used only for a failing run's
 * signature (src/check/oracle.c); never on the path of a passing run.
 */
#ifndef QINVAL_UTIL_SYMBOLIZE_H
#define QINVAL_UTIL_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Write the function's name at `pc` into buf (at most len - 1 bytes). `exact`: pc is an
 * instruction itself (an interrupted one); otherwise a return address, looked up one byte
 * before, in the call. Returns false, with "?" written, when no driver function is known there
 * (no debugging information, an address in a library, only platform code around it): the
 * caller may then try another address. Each address is resolved once per process; a module
 * loaded since (a dlopen'ed kernel object) is found by reporting the modules again. Never
 * blocks on anything but its own lock, never aborts. */
bool sym_function(const void *pc, bool exact, char *buf, size_t len);

#endif /* QINVAL_UTIL_SYMBOLIZE_H */
