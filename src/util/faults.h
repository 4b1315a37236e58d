/*
 * faults.h — this thread's page-fault count, for the pools that hand memory from one execution
 * to the next (simulated RAM in src/hw/mem.c, coroutine stacks in src/sim/coro.c). A page of an
 * anonymous mapping becomes resident only through a page fault, so "no fault between two
 * observations" proves that everything written meanwhile was already resident: a pool then
 * clears what it knows to be resident without asking the kernel which pages are.
 *
 * Observing costs a system call; pools share the latest observation: one made after an object
 * was released is as good as a new one for judging that object.
 */
#ifndef QINVAL_UTIL_FAULTS_H
#define QINVAL_UTIL_FAULTS_H

#include <stdint.h>

#define FAULTS_UNKNOWN UINT64_MAX

/* Observe now (minor + major faults of this thread); FAULTS_UNKNOWN where the system cannot
 * say. */
uint64_t faults_observe(void);
/* The latest observation on this thread (FAULTS_UNKNOWN before the first), and its serial
 * number (0 before the first; each observation gets the next). */
uint64_t faults_latest(void);
uint64_t faults_serial(void);

#endif /* QINVAL_UTIL_FAULTS_H */
