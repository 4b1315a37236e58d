/*
 * engine.h — the qinval engine: a queued-invalidation submitter for one Intel VT-d remapping
 * unit that a kernel, a hypervisor or a bare-metal image can embed.
 *
 * What it guarantees (docs/engine.md has the reasoning, the integration guide and the recovery
 * state machine):
 *  - every call returns by the deadline the caller gives (or the default of its class) plus a
 *    bounded margin, and never waits with interrupts disabled;
 *  - success means the hardware executed every descriptor of the call after the call began
 *    (a device-TLB invalidation: the device acknowledged it);
 *  - a late or stray status write never completes another submission, and no ring slot is
 *    handed out again while the hardware may still read it or write its status word;
 *  - Invalidation Queue Errors, Invalidation Time-out Errors and Invalidation Completion
 *    Errors are repaired by bookkeeping of submissions, not ring positions; an unresponsive
 *    device is fenced (its translated requests blocked through a callback) instead of being
 *    retried forever, and only its callers fail; everyone else's aborted work is resubmitted;
 *  - concurrent submitters share wait descriptors and tail writes.
 *
 * Dependencies: include/qinval/vtd.h and include/qinval/platform.h only. The engine allocates
 * nothing: all of its state lives in memory the caller supplies (struct qi_engine, the slot
 * array, the queue and the status words). Freestanding C11.
 *
 * Threading: every function takes the platform handle of the calling CPU. qi_engine_submit()
 * may be called concurrently from any number of CPUs, with interrupts enabled or disabled (it
 * waits with the caller's interrupt state and never holds its lock while waiting).
 * qi_engine_fault_irq() and qi_engine_device_gone() may be called from interrupt context; they
 * never wait. The other functions are for process context.
 */
#ifndef QINVAL_ENGINE_H
#define QINVAL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qinval/platform.h>
#include <qinval/vtd.h>

/* Device records built into struct qi_engine, used when the configuration supplies none: how
 * many devices with a non-default state (suspect, quarantined, in a reset bracket) the engine
 * tracks at once. Records holding nothing are recycled; see qi_engine_config.devices. */
#define QI_ENGINE_MAX_DEVICES 32
/* Descriptors a fence callback may ask the engine to queue. */
#define QI_ENGINE_FENCE_MAX 4
/* Default deadlines of the two classes of work. */
#define QI_ENGINE_IOMMU_TIMEOUT_NS  10000000ull    /* 10 ms: IOMMU-internal caches only */
#define QI_ENGINE_DEVTLB_TIMEOUT_NS 90000000000ull /* 90 s: PCIe allows 60 s + 50 % for ATS */

/* ---------------------------------------------------------------------------------------------
 * Results.
 */
enum qi_status {
    /* Every descriptor was executed by the hardware (device-TLB invalidations acknowledged by
     * their device) after the call began. */
    QI_OK = 0,
    /* The deadline passed first. `pending` tells whether descriptors of the call are still in
     * the queue (the engine keeps their slots until the hardware is done with them): then they
     * may or may not be executed later. Either way nothing is known to be invalidated: keep
     * the memory whose translations they invalidate, and submit again (a later successful
     * submission of the same invalidations proves them). */
    QI_ERR_DEADLINE = 1,
    /* A device-TLB target (`sid`) is unresponsive, gone, or was quarantined earlier: the
     * engine did not (and will not) get its acknowledgement. When `fenced` is true its
     * translated requests are blocked (the fence callback's edit is in effect), so it can no
     * longer use its ATC, and every other descriptor of the call was executed (`others_done`):
     * memory is then safe to reuse. The quarantine lasts until qi_engine_device_reset_end()
     * for that device. */
    QI_ERR_DEVICE = 2,
    /* Descriptor `index` of the call is malformed: rejected by validation before anything was
     * queued (`others_done` false), or by the hardware (IQE), in which case it was replaced by
     * a harmless descriptor and `others_done` says whether the rest of the call completed. */
    QI_ERR_MALFORMED = 3,
    /* The call cannot be served: the engine is not enabled, or descs is NULL with n > 0.
     * Nothing was queued. */
    QI_ERR_INVALID = 4,
};

typedef struct qi_result {
    enum qi_status status;
    bool pending;     /* QI_ERR_DEADLINE: descriptors may still execute */
    bool fenced;      /* QI_ERR_DEVICE: the device's translated requests are blocked */
    bool others_done; /* QI_ERR_DEVICE / QI_ERR_MALFORMED: the rest of the call executed */
    uint16_t sid;     /* QI_ERR_DEVICE */
    unsigned index;   /* QI_ERR_MALFORMED: index into the caller's array */
    unsigned retries; /* resubmissions after time-outs (the call's own or other devices') */
} qi_result;

/* Options of one call. */
typedef struct qi_submit_opts {
    /* Absolute deadline on qi_plat_now_ns(); 0 for the default of the call's class: the
     * device-TLB class when the call has a device-TLB invalidation or is queued behind one,
     * else the IOMMU class. */
    uint64_t deadline_ns;
} qi_submit_opts;

/* ---------------------------------------------------------------------------------------------
 * The IOMMU layer's part: fencing a device.
 */
typedef struct qi_engine_ops {
    /* Withdraw the device-TLB (ATS) permission of `sid` in the translation structures (the
     * context entry's translation type, or the PASID entries in scalable mode) and write into
     * out[0..max) the invalidations that make that edit effective (typically a
     * device-selective context-cache invalidation; PASID-cache invalidations in scalable
     * mode). Returns how many (0..max). Called with the engine's lock held and interrupts
     * disabled, possibly in interrupt context: it must not sleep or call into the engine.
     * May be NULL: devices are then quarantined without a fence (`fenced` stays false). */
    unsigned (*fence)(void *cookie, qi_platform *p, uint16_t sid, vtd_desc *out, unsigned max);
    /* Give the permission back at the end of a reset bracket; same rules. May be NULL. */
    unsigned (*unfence)(void *cookie, qi_platform *p, uint16_t sid, vtd_desc *out, unsigned max);
} qi_engine_ops;

/* ---------------------------------------------------------------------------------------------
 * Configuration and the memory the caller supplies.
 */
#define QI_ENGINE_F_ITESID      0x1u /* the hardware reports ITESID (VT-d 4.1+): trust it */
#define QI_ENGINE_F_NO_VALIDATE 0x2u /* skip validation before queuing (the hardware decides) */
#define QI_ENGINE_F_NO_COMBINE  0x4u /* one submission per wait descriptor */
/* The embedder calls qi_engine_fault_irq() from the fault event interrupt: waiters then read
 * FSTS only as a safety net (first after 100 ms instead of 20 us). */
#define QI_ENGINE_F_FAULT_IRQ 0x8u

/* One tracked device: contents private to the engine. */
typedef struct qi_dev {
    uint16_t sid;
    uint8_t state;
    uint8_t nfence;
    bool fenced;
    bool unfence_pending; /* fence[0..nfence) hold unfence descriptors not yet executed */
    uint32_t strikes, last_blame, reset_gen;
    uint32_t fence_first, fence_seq;
    uint64_t taint_until;
    vtd_desc fence[QI_ENGINE_FENCE_MAX];
} qi_dev;

/* Per-slot bookkeeping: an array of `entries` records, any alignment of the type, ordinary
 * (not DMA-able) memory, contents private to the engine. */
typedef struct qi_slot {
    uint32_t state, seq;
    uint32_t joined, left; /* participants in, and gone (atomic); device-TLB ones << 16 */
    uint32_t abort_ite, gen, flags;
    uint16_t len, ndesc, dev_sid, pad;
    uint64_t sent_ns;
} qi_slot;

typedef struct qi_engine_config {
    /* The invalidation queue: `entries` descriptors of 16 bytes (32 with dw256), physically
     * contiguous, 4 KiB aligned. entries is a power of two, 256..32768 (128..16384 with
     * dw256): the sizes IQA.QS can describe. */
    void *queue;
    uint32_t entries;
    bool dw256;
    /* Status words: entries + 1 uint32_t, DMA-able (the IOMMU writes them), 4-byte aligned.
     * Physical addresses come from qi_plat_virt_to_phys(). */
    volatile uint32_t *status;
    /* Slot records: `entries` of them. */
    qi_slot *slots;
    /* At most this many slots in use at once (0: entries - 1). Smaller values emulate a
     * smaller ring; at least 3. */
    uint32_t max_outstanding;
    /* RTADDR.TTM in force (enum vtd_ttm), for validation. */
    uint8_t ttm;
    /* QI_ENGINE_F_*. */
    uint32_t flags;
    /* Default deadlines (0: QI_ENGINE_IOMMU_TIMEOUT_NS / QI_ENGINE_DEVTLB_TIMEOUT_NS). The
     * engine's sums of times saturate: a time-out that would carry a deadline past
     * UINT64_MAX ns means "no deadline", never one that has already passed. */
    uint64_t iommu_timeout_ns, devtlb_timeout_ns;
    /* Invalidation time-outs a device may cause in a row before it is quarantined (0: 1,
     * i.e. one retry). A retry is also skipped when the caller's deadline could not cover it. */
    unsigned retry_budget;
    /* Most descriptors sharing one wait descriptor (0: 64). */
    unsigned max_batch;
    /* Device records: ndevices of them, ordinary memory, contents private; NULL and 0 for the
     * QI_ENGINE_MAX_DEVICES records inside struct qi_engine. One record is needed per device
     * that is at once suspect (an invalidation time-out blamed on it not yet cleared by a
     * success), quarantined or in a reset bracket; records holding nothing are recycled. Size
     * it to the ATS-capable functions behind the remapping unit and it is never full. When it
     * is full, qi_engine_device_gone() and qi_engine_device_reset_begin() return QI_ENOSPC
     * and an ITE blamed on an untracked device is not counted against it (stats.untracked):
     * its callers retry until their deadline (QI_ERR_DEADLINE) instead of being failed. */
    qi_dev *devices;
    unsigned ndevices;
    const qi_engine_ops *ops;
    void *cookie;
} qi_engine_config;

/* Counters, for diagnostics and benchmarks. */
typedef struct qi_engine_stats {
    uint64_t submits, descriptors;
    uint64_t batches;    /* wait descriptors queued, i.e. tail writes */
    uint64_t joined;     /* submissions that shared another's wait descriptor */
    uint64_t fsts_reads; /* fault-status register reads */
    uint64_t ite, iqe, ice;
    uint64_t aborted;      /* batches aborted by an ITE */
    uint64_t resubmits;    /* submissions queued again after an abort */
    uint64_t quarantines;  /* devices fenced */
    uint64_t deadline_hit; /* calls that returned QI_ERR_DEADLINE */
    uint64_t untracked;    /* device events lost to a full device table */
} qi_engine_stats;

/* The engine: caller-allocated (sizeof(qi_engine)), any alignment of the type, ordinary
 * memory; contents private. */
typedef struct qi_engine {
    qi_lock lock;
    /* configuration */
    uint8_t *ring;
    volatile uint32_t *status;
    qi_slot *slot;
    uint32_t nslots, limit, shift, qs, flags, max_batch, retry_budget;
    bool dw256, enabled, itesid_trusted;
    uint64_t iommu_timeout, devtlb_timeout, first_check;
    vtd_qctx vctx;
    const qi_engine_ops *ops;
    void *cookie;
    /* ring */
    uint32_t reclaim, hw_tail, sw_tail;
    uint32_t open, last_sent, last_sent_seq, prev_sent, prev_sent_seq;
    uint32_t seq, ite_serial, reset_gen, neutral_n;
    uint32_t iqe_head;   /* IQH when an unidentified IQE was first seen */
    uint32_t iqe_serial; /* slots marked rejected so far (participants skip the look if 0 new) */
    uint64_t iqe_since;
    /* device-TLB work */
    uint32_t lane_n, dev_batches;
    uint32_t last_joined; /* participants of the last batch sent: is combining worth a wait? */
    uint16_t lane_sid;
    qi_dev *dev; /* ndev records: the caller's, or dev_builtin */
    unsigned ndev;
    qi_dev dev_builtin[QI_ENGINE_MAX_DEVICES];
    qi_engine_stats stats;
} qi_engine;

/* ---------------------------------------------------------------------------------------------
 * Functions. Those returning int return 0 or a negative QI_E* code.
 */
#define QI_EINVAL   (-1) /* bad configuration or argument */
#define QI_ESTATE   (-2) /* the hardware or the engine is not in the state the call needs */
#define QI_ETIMEOUT (-3) /* the hardware did not respond in time */
#define QI_ENOSPC   (-4) /* the device table is full (qi_engine_config.devices) */

/* Check the configuration, read CAP/ECAP, zero the caller's memory. Does not touch the queue
 * registers. Process context. */
int qi_engine_init(qi_engine *e, qi_platform *p, const qi_engine_config *cfg);

/* Program IQT and IQA and set GCMD.QIE, polling GSTS.QIES until `deadline_ns` (absolute; 0:
 * the IOMMU default from now). QI must be disabled when called. */
int qi_engine_enable(qi_engine *e, qi_platform *p, uint64_t deadline_ns);

/* Wait (until the deadline) for every submission to leave the queue, then clear GCMD.QIE.
 * QI_ESTATE if work is still outstanding at the deadline (QI stays enabled). */
int qi_engine_disable(qi_engine *e, qi_platform *p, uint64_t deadline_ns);

/* Submit descs[0..n) and wait for them; the outcome is in *res. The descriptors may be
 * executed in several hardware batches (a call may be larger than one batch; device-TLB
 * invalidations for different devices go to separate batches), always in the caller's order.
 * Wait descriptors must not be passed: the engine adds its own. opts may be NULL. */
void qi_engine_submit(qi_engine *e, qi_platform *p, const vtd_desc *descs, unsigned n,
                      const qi_submit_opts *opts, qi_result *res);

/* The fault event (FSTS.IQE/ITE/ICE) interrupt: repairs the queue. Interrupt context; never
 * waits. Polling submitters also notice faults (rarely reading FSTS), so this is an
 * accelerator, not a requirement. */
void qi_engine_fault_irq(qi_engine *e, qi_platform *p);

/* Hot-plug removal (or any other certain knowledge that the device is gone): quarantine it
 * now. Device-TLB invalidations to it already in the queue still time out in hardware; their
 * callers then fail with QI_ERR_DEVICE. May be called in interrupt context. 0, or QI_ENOSPC
 * (the device table is full: nothing was done; logged). */
int qi_engine_device_gone(qi_engine *e, qi_platform *p, uint16_t sid);

/* Reset bracket around an FLR or a detach/attach of function `sid`: between begin and end no
 * device-TLB invalidation is sent to it (submitters wait for the end of the bracket, then
 * theirs are sent to the reset, empty ATC); a time-out of one sent before the bracket does
 * not count against the device. end also lifts a quarantine. Process context; end waits for
 * the fence to be lifted (until `deadline_ns`, 0: the IOMMU default).
 * begin: 0, or QI_ENOSPC (the device table is full: the bracket is not tracked; logged).
 * end: 0 once the unfence invalidations (if any) executed; QI_ETIMEOUT if they did not by the
 * deadline (the device is no longer quarantined but the IOMMU may still refuse its translated
 * requests: call end again, which queues them again, until it returns 0); QI_ESTATE if the
 * engine could not queue them (not enabled). */
int qi_engine_device_reset_begin(qi_engine *e, qi_platform *p, uint16_t sid);
int qi_engine_device_reset_end(qi_engine *e, qi_platform *p, uint16_t sid, uint64_t deadline_ns);

/* Is `sid` quarantined (fenced or being fenced)? */
bool qi_engine_device_quarantined(qi_engine *e, qi_platform *p, uint16_t sid);

/* Introspection without locking, for tests and diagnostics at quiescence: slots that would be
 * free after reclaiming everything the hardware finished, and the count when idle. */
unsigned qi_engine_free_slots(const qi_engine *e);
unsigned qi_engine_capacity(const qi_engine *e);
const qi_engine_stats *qi_engine_get_stats(const qi_engine *e);

#endif /* QINVAL_ENGINE_H */
