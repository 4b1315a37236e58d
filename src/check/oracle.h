/*
 * oracle.h — what an execution leaves behind for judgement (struct chk_exec: the world, the
 * hardware log, every submit with its descriptors, times and result) and the oracles that judge
 * it (one verdict per oracle, from hard_lockup to deadline_overrun: enum chk_verdict). Oracles
 * read the hardware's log and memory, never the driver's belief: a submit "succeeded" only if
 * its return code says so, and it was "done" only if the hardware executed (or, for a
 * device-TLB invalidation, the endpoint acknowledged) every descriptor of it after it began.
 */
#ifndef QINVAL_CHECK_ORACLE_H
#define QINVAL_CHECK_ORACLE_H

#include "check/run.h"
#include "util/blocks.h"

#define CHK_MAX_BATCH    64
#define CHK_OWNER_REUSED 300u

/* The owner of a domain's pages, by its domain id (its first endpoint's index + 1): 100 + that
 * index. */
static inline uint32_t chk_domain_owner(uint16_t did)
{
    return 100u + did - 1u;
}

/* A call of the driver: a submit of the workload's descriptors, or a job (driver.h, struct
 * drv_op), whose d[] are the invalidations the job requires (what a careful caller queues). */
struct chk_submit {
    unsigned cpu;
    hw_time t0, t1;
    size_t hw0, hw1; /* hardware log positions at call and return */
    int rc;
    bool done;        /* the call returned */
    bool healthy;     /* no malformed descriptor (targets are judged by their fault times) */
    bool unmap;       /* frees pages on success (an unmap; a detach or context change that
                         leaves its domain empty) */
    bool job;         /* a job: its kind is job_kind */
    uint8_t job_kind; /* enum drv_op_kind */
    int bad;          /* index of the deliberately malformed descriptor, or -1 */
    uint32_t eps;     /* endpoints whose device TLB it targets (bit per endpoint) */
    unsigned n;
    vtd_desc d[]; /* n of them, at most CHK_MAX_BATCH: a record has room for what it holds */
};

struct chk_exec {
    const scenario *sc;
    const sim_driver_ops *drv;
    chk_decide_fn decide;
    void *decide_ctx;
    chk_trace *trace;
    bool local_kinds; /* scheduling decisions tell CHK_DECIDE_SCHED_LOCAL apart (the decision
                         source reads the kind: chk__run_once_plain says it does not) */
    unsigned last_cpu;

    hw_machine *hw;
    sim_world *w;
    void *state;     /* the driver's */
    uint32_t *ready; /* set by CPU 0 once the driver is initialised */
    hw_paddr root;
    /* Domains, by index into sc->domains: page table, pages, and what the workload did. */
    hw_paddr pgd[SC_MAX_DOMAINS];
    hw_paddr page[SC_MAX_DOMAINS][SC_DOMAIN_PAGES];
    uint8_t freed[SC_MAX_DOMAINS];     /* pages freed (bit per page) */
    uint32_t members[SC_MAX_DOMAINS];  /* endpoints in the domain now (bit per endpoint) */
    bool keep[SC_MAX_DOMAINS];         /* an endpoint's leave of it failed: pages never freed */
    uint32_t ep_owner[SC_MAX_EPS];     /* owner of the pages of the endpoint's domain */
    hw_time ep_fault_from[SC_MAX_EPS]; /* first fault of the endpoint (HW_NEVER: none) */

    /* Every submit, in order. The records themselves lie in blocks that never move (run.c):
     * drivers on other CPUs hold pointers into them (their descriptors) while new ones are
     * added, and they are taken as the workload runs, so an execution's memory grows with
     * what it submits, not with what its workload could submit. */
    struct chk_submit **subs;
    size_t nsubs, cap_subs;
    struct mem_block *block; /* the block of records being filled (run.c) */
};

/* Fill res->verdict and res->why from the outcome, the log and the submits. */
void chk_judge(struct chk_exec *x, chk_result *res);
/* The closing lines of a counterexample: the verdict and why. */
void chk_explain(const struct chk_exec *x, const chk_result *res, FILE *out);
/* Does executing `done` invalidate at least what `want` asks for? */
bool chk_covers(const vtd_desc *done, const vtd_desc *want);

#endif /* QINVAL_CHECK_ORACLE_H */
