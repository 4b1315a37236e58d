/*
 * faults.c — this thread's page-fault count (faults.h), from getrusage(RUSAGE_THREAD) where
 * Linux provides it; elsewhere always FAULTS_UNKNOWN, and the pools fall back to asking the
 * kernel or clearing everything.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RUSAGE_THREAD */
#endif
#include "util/faults.h"

#include <sys/resource.h>

static _Thread_local uint64_t latest = FAULTS_UNKNOWN;
static _Thread_local uint64_t serial;

uint64_t faults_observe(void)
{
    uint64_t f = FAULTS_UNKNOWN;
#ifdef RUSAGE_THREAD
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) == 0)
        f = (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
#endif
    latest = f;
    serial++;
    return f;
}

uint64_t faults_latest(void)
{
    return latest;
}

uint64_t faults_serial(void)
{
    return serial;
}
