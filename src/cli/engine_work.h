/*
 * engine_work.h — the workload of `qinval engine-run` (src/cli/engine_run.c): what each
 * submitter submits, how the engine is configured, and the record of every call. The same
 * workload runs on QEMU's intel-iommu (engine_run_qemu.c, over src/qemu/platform_qemu.c) and
 * on the hardware model (engine_run_model.c, on simulated CPUs), so that the two records can
 * be compared call by call. Independent of the platform.
 *
 * Each of `threads` submitters makes `rounds` rounds of EW_CALLS calls: global, domain and
 * page-selective IOTLB invalidations, context-cache invalidations, device-TLB invalidations to
 * the ATS function EW_SID, and a mixed call. In the middle round, submitter 0's mixed call
 * carries a malformed descriptor (an IOTLB invalidation with a reserved bit set) at
 * EW_BAD_INDEX: the engine runs trusting (QI_ENGINE_F_NO_VALIDATE), so the hardware rejects it
 * (IQE) and the engine repairs the queue while the others go on. The queue has EW_ENTRIES
 * entries, so rounds x calls x threads wraps it many times.
 */
#ifndef QINVAL_ENGINE_WORK_H
#define QINVAL_ENGINE_WORK_H

#include <stdbool.h>
#include <stdint.h>

#include <qinval/engine.h>

#define EW_CALLS       6
#define EW_MAX_DESCS   4
#define EW_ENTRIES     256
#define EW_SID         0x0100u /* 01:00.0: the function behind the first root port */
#define EW_DID         1u
#define EW_BAD_CALL    5u
#define EW_BAD_INDEX   1u
#define EW_MAX_THREADS 16
/* Deadline of a call (absolute deadlines are computed from it): generous, because a QEMU
 * request is a round trip to another process and the submitters share one connection. */
#define EW_TIMEOUT_NS 2000000000ull

typedef struct ew_plan {
    unsigned threads, rounds;
    unsigned bad_thread, bad_round; /* the malformed call: this thread, round, EW_BAD_CALL */
} ew_plan;

void ew_plan_init(ew_plan *pl, unsigned threads, unsigned rounds);

/* The descriptors of call k (< EW_CALLS) of round r of thread t, in out[0..EW_MAX_DESCS):
 * returns how many. */
unsigned ew_descs(const ew_plan *pl, unsigned t, unsigned r, unsigned k, vtd_desc *out);
/* Its name ("iotlb-global", ...). */
const char *ew_call_name(unsigned k);
/* Whether the call is the malformed one. */
bool ew_is_bad(const ew_plan *pl, unsigned t, unsigned r, unsigned k);
/* Index of the call in a record array of threads x rounds x EW_CALLS. */
static inline unsigned ew_at(const ew_plan *pl, unsigned t, unsigned r, unsigned k)
{
    return (t * pl->rounds + r) * EW_CALLS + k;
}
static inline unsigned ew_ncalls(const ew_plan *pl)
{
    return pl->threads * pl->rounds * EW_CALLS;
}

/* The engine configuration both sides use (queue, status and slots supplied by the caller). */
void ew_engine_config(qi_engine_config *cfg, void *queue, volatile uint32_t *status,
                      qi_slot *slots);

/* One submission: the platform side's wrapper around its engine's qi_engine_submit. */
typedef void (*ew_submit_fn)(void *ctx, const vtd_desc *d, unsigned n, qi_result *res);
/* Thread t's whole workload, results into res[ew_at(...)]. Stops early (returning false)
 * when stop() says so (the platform failed). */
bool ew_thread(const ew_plan *pl, unsigned t, ew_submit_fn submit, void *ctx,
               bool (*stop)(void *ctx), qi_result *res);

/* What a run measured. */
typedef struct ew_figures {
    uint64_t calls, wraps, requests, tail_writes;
    double wall_s;
    qi_engine_stats stats;
    bool complete; /* every call was made */
    char why[400]; /* !complete: why not */
} ew_figures;

/* Whether the call came back as it should (QI_OK; the malformed one QI_ERR_MALFORMED at
 * EW_BAD_INDEX with others_done), and whether two results of the same call agree. */
bool ew_expected(const ew_plan *pl, unsigned t, unsigned r, unsigned k, const qi_result *x);
bool ew_same(const qi_result *a, const qi_result *b);
const char *ew_status_name(enum qi_status s);

#endif /* QINVAL_ENGINE_WORK_H */
