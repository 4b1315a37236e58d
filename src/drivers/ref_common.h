/*
 * ref_common.h — what the three reference re-implementations of Linux's queued-invalidation
 * submitter share: the queue state, enabling QI, the submission skeleton (reserve slots under
 * one lock with interrupts off, write the batch and a wait descriptor, move the tail, poll the
 * wait's status word while checking the fault register), the IQE and ICE handling, and the
 * reclaim of finished slots.
 *
 * The algorithms differ only in what they do when the fault register shows an Invalidation
 * Time-out Error (ITE); each supplies that as a ref_ite_fn (src/drivers/ref_*.c). The design
 * modelled is Linux's qi_submit_sync / qi_check_fault / reclaim_free_desc in
 * drivers/iommu/intel/dmar.c (one raw spinlock q_lock taken with interrupts off, dropped and
 * retaken around each poll; per-slot status FREE / IN_USE / DONE / ABORT; the wait's status
 * write targets desc_status[wait_index]; reclaim advances over FREE slots only); it is a
 * re-implementation from published descriptions of that code, not a copy of kernel code.
 */
#ifndef QINVAL_DRIVERS_REF_COMMON_H
#define QINVAL_DRIVERS_REF_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include <qinval/platform.h>
#include <qinval/vtd.h>

#include "drivers/driver.h"

/* Per-slot software status (Linux's desc_status[] values). REF_QI_DONE is the status data
 * the wait descriptor asks the hardware to write; REF_QI_FREE is 0 so that freshly zeroed
 * memory is an empty ring. */
enum ref_qi_status {
    REF_QI_FREE = 0,
    REF_QI_IN_USE = 1,
    REF_QI_DONE = 2,
    REF_QI_ABORT = 3,
};

struct ref_qi;

/* An algorithm's reaction to FSTS.ITE, called with the queue lock held and interrupts off.
 * `wait_index` is the caller's wait slot. Returns 0 (keep polling), DRV_EAGAIN (reclaim and
 * resubmit the whole batch) or another DRV_* error (give up). */
typedef int (*ref_ite_fn)(struct ref_qi *qi, qi_platform *p, unsigned wait_index);

struct ref_qi {
    qi_lock q_lock;
    uint8_t *ring;                  /* nslots descriptors, simulated memory (IQA base) */
    volatile uint32_t *desc_status; /* nslots words, simulated memory: the hardware's wait
                                       status writes land here */
    unsigned nslots;                /* N: ring length as the hardware sees it (IQA.QS) */
    unsigned cap;                   /* free_cnt when idle (<= nslots, see ref_qi_init) */
    unsigned shift;                 /* log2 of the descriptor size: 4 or 5 */
    bool dw256;
    unsigned free_head; /* next slot to fill */
    unsigned free_tail; /* oldest slot not yet reclaimed */
    unsigned free_cnt;  /* slots free for new submissions */
    ref_ite_fn on_ite;
};

/* Allocate the queue and its state in simulated memory, program IQT and IQA, enable QI.
 * Returns NULL (after logging why) if the parameters cannot be met. */
struct ref_qi *ref_qi_init(qi_platform *p, const struct drv_params *params, ref_ite_fn on_ite);

/* The parts of sim_driver_ops that are the same for the three algorithms. */
int ref_qi_submit(void *drv, qi_platform *p, const vtd_desc *descs, unsigned n,
                  const struct drv_submit_opts *opts);
unsigned ref_qi_free_slots(void *drv);
unsigned ref_qi_capacity(void *drv);

/* Slot index in a head or tail register value. */
unsigned ref_qi_reg_index(const struct ref_qi *qi, uint64_t reg);

/* Clear one RW1C bit of FSTS (a write with only that bit set). */
void ref_qi_clear_fault(qi_platform *p, uint32_t bit);

/* Whether a PCI function with requester id `sid` answers config reads (Linux's
 * pci_device_is_present): false if no such endpoint, or if its vendor/device dword reads all
 * ones (link down, removed, in reset). Asks the simulated machine directly; platform.h has no
 * config-space access. */
bool ref_device_present(qi_platform *p, uint16_t sid);

/* The registered algorithms. */
extern const sim_driver_ops ref_legacy_odd_ops;
extern const sim_driver_ops ref_eagain_any_ite_ops;
extern const sim_driver_ops ref_step1_nowait_ops;

#endif /* QINVAL_DRIVERS_REF_COMMON_H */
