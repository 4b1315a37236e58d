/*
 * platform_qemu.h — include/qinval/platform.h over one qtest connection (src/qemu/qtest.h):
 * the engine's registers are QEMU's intel-iommu, its queue and status words are host memory
 * mirrored into the guest's RAM. Used by `qinval engine-run --hw qemu` with the engine built
 * under the qemu_ names (src/qemu/qemu_names.h). platform_qemu.c states the invariants.
 *
 * A host holds the connection; each host thread that calls the engine uses its own handle
 * (qemu_host_cpu), like a CPU. The handles and the host are thread-safe; qemu_host_create and
 * qemu_host_destroy are not.
 */
#ifndef QINVAL_PLATFORM_QEMU_H
#define QINVAL_PLATFORM_QEMU_H

#include <stddef.h>
#include <stdint.h>

#include "qemu/qemu_names.h"
#include <qinval/platform.h>

#include "qemu/qtest.h"

#define QEMU_HOST_MAX_CPUS    64
#define QEMU_HOST_MAX_MIRRORS 8
#define QEMU_HOST_LOG_KEEP    32 /* messages kept (the counts cover all) */

typedef struct qemu_host qemu_host;

typedef struct qemu_host_stats {
    uint64_t pushes;       /* memory writes made by wmb (changed runs of bytes) */
    uint64_t pushed_bytes; /* bytes they carried */
    uint64_t pulls;        /* reads of device-written mirrors after register writes */
    uint64_t tail_writes;  /* IQT writes */
    uint64_t wraps;        /* IQT writes that moved the tail past the end of the queue */
    uint64_t logs[4];      /* messages per enum qi_log_level */
} qemu_host_stats;

/* Guest RAM [guest_base, guest_base + guest_bytes) is where mirrors go. NULL if out of memory. */
qemu_host *qemu_host_create(qtest *q, uint64_t guest_base, uint64_t guest_bytes);
void qemu_host_destroy(qemu_host *h);
/* The handle of host thread `cpu` (< QEMU_HOST_MAX_CPUS). */
qi_platform *qemu_host_cpu(qemu_host *h, unsigned cpu);
/* Zeroed host memory mirrored to a fresh guest range, `align`-aligned there (a power of two,
 * at most 4096). device_writes: QEMU writes it (status words): it is read back from the guest
 * after every register write. NULL if the guest range or the mirror table is full. */
void *qemu_dma_alloc(qemu_host *h, size_t bytes, size_t align, bool device_writes);
/* The counters so far, and whether the connection failed (then every register read is 0 and
 * qtest_error() says why). */
void qemu_host_stats_get(qemu_host *h, qemu_host_stats *out);
bool qemu_host_failed(qemu_host *h);
/* The i-th kept message (i < min(count, QEMU_HOST_LOG_KEEP)); 0, or -1 past the end. */
int qemu_host_log_get(qemu_host *h, unsigned i, enum qi_log_level *lvl, const char **msg,
                      uint64_t *a, uint64_t *b);

#endif /* QINVAL_PLATFORM_QEMU_H */
