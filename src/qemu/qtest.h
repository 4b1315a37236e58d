/*
 * qtest.h — a client for QEMU's qtest protocol: it starts a QEMU process with no guest code
 * running and reads and writes that machine's registers and memory from here, one text line
 * per request. qinval uses it to hold the hardware model up against an implementation of VT-d
 * it did not write (QEMU's intel-iommu device: `qinval fidelity`) and to run the engine on
 * that device (`qinval engine-run --hw qemu`).
 *
 * The protocol: each request is one line on QEMU's standard input ("readl ADDR", "writeq ADDR
 * VAL", "read ADDR SIZE", "write ADDR SIZE 0xHEX") and each answer one line on its standard
 * output, "OK [0xVALUE]" or "FAIL reason". The machine is a q35 with the TCG accelerator held
 * stopped (-S), so no firmware runs and nothing but these requests touches the device.
 *
 * Nothing here trusts QEMU to behave: every answer is awaited with a time-out, a process that
 * dies or stops answering is reported with its exit status and the end of what it printed on
 * standard error, and the process is killed when the client stops (or when this process dies).
 * A client is used by one thread at a time; callers that share one serialise their calls.
 */
#ifndef QINVAL_QTEST_H
#define QINVAL_QTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qtest qtest;

typedef struct qtest_options {
    const char *binary; /* NULL: $QINVAL_QEMU, else "qemu-system-x86_64" on PATH */
    /* Arguments appended to the fixed command line (devices: "-device", "intel-iommu,..."),
     * n_args of them. */
    const char *const *args;
    unsigned n_args;
    unsigned mem_mib;          /* guest RAM; 0: 64 */
    unsigned timeout_ms;       /* for one answer; 0: 10000 */
    unsigned start_timeout_ms; /* for the first answer (QEMU starting); 0: 30000 */
} qtest_options;

/* The remapping unit's register block on a q35 machine. */
#define QTEST_VTD_BASE 0xfed90000ull

/* Start QEMU and check that it answers. NULL on failure, with one line in err (the binary is
 * missing, it exited, it did not answer: with its exit status and last words). */
qtest *qtest_start(const qtest_options *o, char *err, size_t errlen);
/* Kill the process and free everything. NULL is allowed. */
void qtest_stop(qtest *q);

/* Requests. 0 on success; -1 once the connection has failed (QEMU died, timed out, answered
 * something that is not the protocol, or refused the request): qtest_error() says which, and
 * every later request fails at once. */
int qtest_readl(qtest *q, uint64_t addr, uint32_t *val);
int qtest_readq(qtest *q, uint64_t addr, uint64_t *val);
int qtest_writel(qtest *q, uint64_t addr, uint32_t val);
int qtest_writeq(qtest *q, uint64_t addr, uint64_t val);
int qtest_memread(qtest *q, uint64_t addr, void *buf, size_t len);
int qtest_memwrite(qtest *q, uint64_t addr, const void *buf, size_t len);

/* Why the connection failed ("" while it works): one line, at most a few hundred bytes. */
const char *qtest_error(const qtest *q);
/* The kind of failure. */
enum qtest_state { QTEST_OK, QTEST_DIED, QTEST_TIMEOUT, QTEST_PROTOCOL };
enum qtest_state qtest_state(const qtest *q);
/* The last bytes QEMU wrote on standard error (NUL-terminated, possibly empty). */
const char *qtest_stderr(const qtest *q);
/* Requests answered so far. */
uint64_t qtest_requests(const qtest *q);

/* Whether QEMU can be used here: 1 (yes), or 0 with the reason in why ("qemu-system-x86_64
 * not found on PATH", ...). Starts and stops one process. */
int qtest_available(const qtest_options *o, char *why, size_t whylen);

#endif /* QINVAL_QTEST_H */
