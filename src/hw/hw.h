/*
 * hw.h — the hardware model: one VT-d remapping unit's invalidation interface, the PCIe
 * endpoints behind it with their device TLBs (ATCs), and simulated physical memory, all in
 * virtual time.
 *
 * The model is a discrete-event system. Software (a test, or later a simulated CPU) acts on it
 * at the current virtual time through MMIO and memory accesses; the hardware's own actions
 * (fetching and executing descriptors, ATS round trips, time-outs, injected faults) are timed
 * events that run when the owner of the clock calls hw_advance() or hw_step(). Nothing here
 * knows about drivers, CPUs or oracles: those read the event log and the registers.
 *
 * What comes from the specification and what is a knob is listed in docs/hardware-model.md.
 */
#ifndef QINVAL_HW_H
#define QINVAL_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <qinval/vtd.h>

#include "util/sat_time.h"

/* Virtual nanoseconds since the machine was created. Sums and products of times go through
 * time_add() and time_mul() (util/sat_time.h): one that would pass HW_NEVER is HW_NEVER, and
 * an action due then never runs. */
typedef uint64_t hw_time;
#define HW_NEVER SAT_TIME_NEVER
#define HW_NS    1ull
#define HW_US    1000ull
#define HW_MS    1000000ull
#define HW_S     1000000000ull

typedef uint64_t hw_paddr;
#define HW_PAGE_SIZE  4096u
#define HW_PAGE_SHIFT 12

typedef struct hw_machine hw_machine;

/* ---------------------------------------------------------------------------------------------
 * Configuration: identity of the IOMMU, memory size, and the knobs for behaviour the
 * specification leaves open. hw_config_default() fills documented defaults.
 */
enum hw_head_policy {
    HW_HEAD_FETCH,    /* IQH moves past a descriptor once fetched and validated (spec 6.5.2) */
    HW_HEAD_COMPLETE, /* IQH moves past a descriptor only once it completed (QEMU's behaviour) */
};

enum hw_disable_policy {
    HW_DISABLE_REFUSE_BUSY,        /* clearing QIE with work pending leaves QI enabled (QEMU) */
    HW_DISABLE_DROP,               /* clearing QIE always disables; pending work is dropped */
    HW_DISABLE_REFUSE_UNLESS_WAIT, /* refused also unless the last descriptor read from the
                                      queue (valid or not) is a wait (QEMU) */
};

typedef struct hw_config {
    uint32_t ver;  /* VER_REG; default 0x60 (6.0: queued invalidation is mandatory) */
    uint64_t cap;  /* CAP_REG; default: ND=2 (8-bit DIDs), SAGAW 39/48, PSI, MAMV=18 */
    uint64_t ecap; /* ECAP_REG; default: C, QI, DT, IR, SMTS, PASID, MHMV=15 */
    uint8_t haw;   /* host address width in bits; default 46 */

    size_t mem_bytes; /* simulated physical memory; default 16 MiB, multiple of 4 KiB */

    enum hw_head_policy head_policy; /* default HW_HEAD_FETCH */
    unsigned fetch_window;           /* descriptors fetched and not yet retired, 1..64; def 8 */
    unsigned devtlb_max_outstanding; /* ATS invalidations in flight at once, 1..32; default 32 */
    hw_time ite_timeout;             /* per-ITag completion timer; default 1 s (UNCERTAIN);
                                        one that runs past HW_NEVER never fires */
    bool itesid;                     /* IQERCD reports ITESID/ICESID (rev 4.1+); default true */
    bool iqercd;                     /* IQERCD exists; false: offset 0xB0 reads 0 (no error
                                        information, as QEMU); default true */
    bool status_fault_iqe;           /* a wait's status write outside memory raises IQE (IQH
                                        on the wait, as QEMU); default false: dropped */
    bool strict_reserved;            /* reserved descriptor bits raise IQE (IQEI 4); def true */
    bool ite_discard; /* on ITE, fetched descriptors not yet started are never executed */
    enum hw_disable_policy disable_policy; /* default HW_DISABLE_REFUSE_BUSY */
    bool log_mmio_reads; /* record every MMIO read in the log; default false (writes always) */
    /* After software clears an IQE, fetching resumes only at the next IQT write (QEMU's
     * behaviour; the specification resumes from IQH at the clear); default false */
    bool iqe_resume_on_tail;

    /* Costs of the hardware's own steps, in virtual ns. */
    hw_time fetch_cost;   /* one descriptor read from the queue; default 20 ns */
    hw_time exec_cost;    /* a cache invalidation inside the IOMMU; default 50 ns */
    hw_time wait_cost;    /* status write / completion signal of a wait; default 20 ns */
    hw_time gcmd_latency; /* GCMD command to GSTS status; default 100 ns */
} hw_config;

void hw_config_default(hw_config *cfg);

/* Create a machine. Returns NULL on a bad configuration, with a one-line reason in *err. */
hw_machine *hw_create(const hw_config *cfg, const char **err);
void hw_destroy(hw_machine *m);
/* A destroyed machine's memory is kept for this thread's next one (machine.c, mem.c): a thread
 * other than the main one that made machines calls this before it ends, or what is kept is
 * lost with the thread. */
void hw_thread_done(void);
const hw_config *hw_get_config(const hw_machine *m);

/* ---------------------------------------------------------------------------------------------
 * Virtual time. The clock only moves when the owner says so.
 */
hw_time hw_now(const hw_machine *m);
/* Time of the earliest pending hardware action, or HW_NEVER. */
hw_time hw_next_event(hw_machine *m);
/* Run every hardware action due at or before t in time order, then set the clock to t.
 * Returns -1 (and does nothing) if t is earlier than now. */
int hw_advance(hw_machine *m, hw_time t);
/* Run the earliest pending action (moving the clock to it). Returns false if none is pending. */
bool hw_step(hw_machine *m);
/* Run actions until none is pending or the next one is after `limit`; returns the clock. */
hw_time hw_settle(hw_machine *m, hw_time limit);

/* ---------------------------------------------------------------------------------------------
 * MMIO, at the current virtual time. Access rules (spec 11.2): 32-bit registers take aligned
 * dword accesses, 64-bit registers aligned qword or dword accesses. Anything else, reserved
 * offsets, and writes to read-only registers read as 0 / are ignored and are logged as
 * HW_EV_MMIO_BAD with the reason.
 */
uint32_t hw_mmio_read32(hw_machine *m, uint32_t off);
/* A register's value as a read would return it (64 or 32 bits by register), with no side effect
 * and nothing logged: for an observer that compares the registers before and after a change. */
uint64_t hw_reg_peek(const hw_machine *m, uint32_t off);
/* Memory the queue will still write (queue.c, hw_pending_lines): fn(ctx, address, bytes) for
 * each status word a wait fetched and not completed, or published and not fetched, will write,
 * with the tail at `iqt` (a value for IQT; UINT64_MAX: as it is). Nothing is logged or
 * changed. */
typedef void (*hw_line_fn)(void *ctx, hw_paddr pa, unsigned len);
void hw_pending_lines(const hw_machine *m, uint64_t iqt, hw_line_fn fn, void *ctx);
uint64_t hw_mmio_read64(hw_machine *m, uint32_t off);
void hw_mmio_write32(hw_machine *m, uint32_t off, uint32_t val);
void hw_mmio_write64(hw_machine *m, uint32_t off, uint64_t val);
/* Who issues the MMIO accesses that follow: a simulated CPU's number, or -1 for none (set-up
 * code). Recorded in field c2 of MMIO_READ/WRITE/BAD and register SW_VIOLATION events as
 * CPU + 1 (0: no CPU), so traces can put a register access on the CPU that made it. */
void hw_set_actor(hw_machine *m, int cpu);
/* How many timed actions (and queue pump runs) the machine has run so far: the simulation's
 * step footprints (sim_steplog) tell from it whether the hardware acted during a step. */
uint64_t hw_acts_run(const hw_machine *m);
/* Told of every access the hardware makes to simulated RAM by itself: a descriptor fetched,
 * a status word written, a device's DMA (pa, bytes, written or read). NULL: none. */
typedef void (*hw_mem_observer)(void *ctx, hw_paddr pa, unsigned len, bool write);
void hw_set_mem_observer(hw_machine *m, hw_mem_observer fn, void *ctx);

/* ---------------------------------------------------------------------------------------------
 * Simulated physical memory: 4 KiB pages, each free or owned by a number the caller chooses
 * (a driver, a domain, a test). Page 0 is never handed out, so 0 means "no address". The CPU
 * side reads and writes through hw_mem_ptr(); the hardware side (queue fetch, status writes,
 * DMA) goes through the model and is logged with the owner of the page it touched.
 */
#define HW_OWNER_FREE 0u

hw_paddr hw_mem_alloc(hw_machine *m, size_t bytes, uint32_t owner); /* zeroed; 0 if full */
/* The same, for an owner that writes the pages only through hw_mem_ptr() (or lets the model
 * write them): hw_mem_alloc() lets the owner write its `bytes` through any pointer to them, and
 * releasing the machine zeroes them all; after this one, only what hw_mem_ptr() handed out. */
hw_paddr hw_mem_alloc_quiet(hw_machine *m, size_t bytes, uint32_t owner);
int hw_mem_free(hw_machine *m, hw_paddr pa, size_t bytes);    /* -1 if not allocated */
uint32_t hw_mem_owner(const hw_machine *m, hw_paddr pa);      /* HW_OWNER_FREE if free */
uint32_t hw_mem_generation(const hw_machine *m, hw_paddr pa); /* +1 at each alloc/free */
void *hw_mem_ptr(hw_machine *m, hw_paddr pa, size_t len);     /* NULL if out of range */
size_t hw_mem_size(const hw_machine *m);
/* RAM is written only inside what was handed out: hw_mem_ptr()'s range, an allocation's bytes.
 * Released RAM is reused by the next machine on the thread (src/hw/mem.c) after zeroing exactly
 * that. With the audit on, releasing also scans the resident RAM and clears any other non-zero
 * byte, counting its page in hw_mem_stray_pages() (this thread's total), and a machine
 * structure reused from the previous machine (src/hw/machine.c) is checked to be all zero, as
 * a new one is (else an internal error: abort). The audit is on by
 * default in builds with assertions (no NDEBUG); without, one release in 64 is audited, and
 * every release once stray bytes were found. The setting is per thread and the previous one is
 * returned. */
bool hw_mem_set_audit(bool on);
uint64_t hw_mem_stray_pages(void);

/* ---------------------------------------------------------------------------------------------
 * Endpoints: PCIe functions behind this IOMMU, each with a requester id (SID), optional ATS and
 * a device TLB. Faults are scheduled at a virtual time and become timed events.
 */
typedef struct hw_ep_config {
    uint16_t sid; /* requester id bus<<8 | dev<<3 | fn */
    uint16_t vendor_id, device_id;
    bool ats;                    /* ATS enabled: DMA goes through the ATC */
    hw_time latency;             /* invalidate request to completion; default 2 us; an
                                    answer due past HW_NEVER never comes */
    unsigned atc_entries;        /* ATC capacity (FIFO replacement); default 64, max 1024 */
    hw_time flr_duration;        /* FLR lasts this long; default 100 ms (PCIe limit); one
                                    ending past HW_NEVER never ends */
    bool answers_during_flr;     /* default false: requests arriving during FLR are discarded */
    bool atc_survives_link_down; /* default true: after link-up the ATC still holds entries */
} hw_ep_config;

void hw_ep_config_default(hw_ep_config *c, uint16_t sid);
/* Returns the endpoint index (0, 1, ...), or -1 with *err set (duplicate SID, bad values). */
int hw_ep_add(hw_machine *m, const hw_ep_config *c, const char **err);
int hw_ep_find(const hw_machine *m, uint16_t sid); /* index or -1 */
int hw_ep_count(const hw_machine *m);
const hw_ep_config *hw_ep_get_config(const hw_machine *m, int ep);

enum hw_fault {
    HW_FAULT_MUTE,             /* never answer invalidation requests (link stays up) */
    HW_FAULT_UNMUTE,           /* answer again (requests lost meanwhile stay lost) */
    HW_FAULT_DROP,             /* drop the next `arg` invalidation requests, answer later ones */
    HW_FAULT_LINK_DOWN,        /* link drops with no hot-plug event: config reads all ones */
    HW_FAULT_LINK_UP,          /* link returns (the ATC may still hold entries, see config) */
    HW_FAULT_SURPRISE_REMOVAL, /* link drops and a hot-plug interrupt is raised */
    HW_FAULT_FLR,              /* function-level reset: ATC emptied, busy for flr_duration */
    HW_FAULT_WRONG_ITAG,       /* answer the next `arg` requests with a wrong ITag */
    HW_FAULT_LATENCY,          /* response latency becomes `arg` microseconds */
};

enum hw_link {
    HW_LINK_UP,
    HW_LINK_DOWN,    /* silently down */
    HW_LINK_REMOVED, /* removed, hot-plug event raised */
};

/* Schedule a fault at virtual time `at` (>= now). Returns 0, or -1 for a bad endpoint/time. */
int hw_ep_inject(hw_machine *m, int ep, hw_time at, enum hw_fault fault, uint32_t arg);
enum hw_link hw_ep_link(const hw_machine *m, int ep);
bool hw_ep_in_flr(const hw_machine *m, int ep);
bool hw_ep_muted(const hw_machine *m, int ep);

/* Config space read: offset 0 returns device_id << 16 | vendor_id; all ones while the link is
 * down or the function removed or in FLR. Other offsets read 0 when the link is up. */
uint32_t hw_ep_config_read32(hw_machine *m, int ep, unsigned off);

enum hw_dma_status {
    HW_DMA_OK,
    HW_DMA_FAULT,    /* translation fault: not present, no permission, no context */
    HW_DMA_BLOCKED,  /* translated (ATS) request refused: the context does not allow ATS */
    HW_DMA_NO_LINK,  /* the function cannot issue requests (link down, removed, in FLR) */
    HW_DMA_BAD_ADDR, /* the physical address is outside memory */
};

typedef struct hw_dma_result {
    enum hw_dma_status status;
    hw_paddr pa;    /* physical address reached */
    bool atc_hit;   /* translated through an ATC entry filled earlier */
    uint32_t owner; /* owner of the page reached (HW_OWNER_FREE if free) */
} hw_dma_result;

/* A 4-byte DMA access by the endpoint at `iova` (read if !write). With ATS, the ATC is used and
 * filled by a translation request on a miss; without ATS the IOMMU translates. On a read the
 * value is stored in *value (may be NULL). Every access is logged as HW_EV_DMA. */
enum hw_dma_status hw_ep_dma(hw_machine *m, int ep, uint64_t iova, bool write, uint32_t *value,
                             hw_dma_result *res);
/* Schedule a DMA access (as hw_ep_dma, writing 0x5a5a5a5a) by the endpoint at time `at`. */
int hw_ep_schedule_dma(hw_machine *m, int ep, hw_time at, uint64_t iova, bool write);
/* An ATS translation request: fills the ATC without accessing memory. */
enum hw_dma_status hw_ep_translate(hw_machine *m, int ep, uint64_t iova, hw_dma_result *res);
/* ATC introspection (for oracles and tests). */
unsigned hw_ep_atc_count(const hw_machine *m, int ep);
bool hw_ep_atc_lookup(const hw_machine *m, int ep, uint64_t iova, hw_paddr *pa);

/* ---------------------------------------------------------------------------------------------
 * Interrupts leaving the model: the fault event, the invalidation completion event, and a
 * hot-plug event for an endpoint. The sink decides when a CPU sees it.
 */
enum hw_irq { HW_IRQ_FAULT, HW_IRQ_COMPLETION, HW_IRQ_HOTPLUG };
typedef void (*hw_irq_fn)(void *ctx, enum hw_irq irq, int ep);
void hw_set_irq_sink(hw_machine *m, hw_irq_fn fn, void *ctx);

/* ---------------------------------------------------------------------------------------------
 * Translation structures, built by software in simulated memory as an OS would (legacy mode:
 * root table -> context tables -> second-level page tables). The model's own walker reads
 * them through memory exactly as hardware does; these helpers only write entries.
 */
hw_paddr hw_tables_root(hw_machine *m, uint32_t owner); /* a zeroed root table */
/* Point `sid`'s context entry at page table `pgd` (aw: 1 = 3-level/39-bit, 2 = 4-level/48-bit)
 * with translation type `tt` (enum vtd_ctx_tt) and domain `did`; allocates the context table on
 * first use. tt < 0 clears the entry (not present). Returns 0 or -1 (out of memory). */
int hw_tables_set_context(hw_machine *m, hw_paddr root, uint16_t sid, uint16_t did, int tt,
                          hw_paddr pgd, unsigned aw, uint32_t owner);
hw_paddr hw_tables_new_pgd(hw_machine *m, uint32_t owner);
/* Map one 4 KiB page iova -> pa with read/write permission; allocates table pages. */
int hw_tables_map(hw_machine *m, hw_paddr pgd, unsigned aw, uint64_t iova, hw_paddr pa, bool r,
                  bool w, uint32_t owner);
/* hw_tables_map in two halves, for mapping several pages of one 2 MiB-aligned range with one
 * walk: the leaf (last-level) table that maps iova, allocating the tables on the way as
 * hw_tables_map does (0: out of memory or bad aw); then the leaf entry of iova in it, for any
 * iova of that range. */
hw_paddr hw_tables_leaf(hw_machine *m, hw_paddr pgd, unsigned aw, uint64_t iova, uint32_t owner);
int hw_tables_set_leaf(hw_machine *m, hw_paddr leaf, uint64_t iova, hw_paddr pa, bool r, bool w);
int hw_tables_unmap(hw_machine *m, hw_paddr pgd, unsigned aw, uint64_t iova); /* -1: not mapped */

/* ---------------------------------------------------------------------------------------------
 * The event log: every hardware action, one ordered list, with its virtual time. Oracles and
 * traces read only this log, the registers and memory. Field meanings per kind:
 *
 *   kind               ep   slot  a              b             c            flags
 *   MMIO_READ          -    -     offset         value         size (4/8)   c2=CPU+1 or 0
 *   MMIO_WRITE         -    -     offset         value         size
 *   MMIO_BAD           -    -     offset         value         size         enum hw_mmio_bad
 *   SW_VIOLATION       -    -     detail         detail        enum hw_violation
 *   GCMD               -    -     GCMD written   GSTS after
 *   QI_ENABLE          -    -     IQA latched    entries       desc bytes
 *   QI_DISABLE         -    -     -              -             -
 *   TAIL               -    tail  old tail idx   -             -
 *   FETCH              -    slot  type           fetch serial  -
 *   HEAD               -    head  old head idx   -             -
 *   EXEC_START         ep?  slot  type           fetch serial  itag (devtlb)
 *   EXEC_DONE          ep?  slot  type           fetch serial  -            HW_EVF_TIMEDOUT
 *   WAIT_DONE          -    slot  status data    status addr   -            SW/IF/FN bits
 *   STATUS_WRITE       -    slot  addr           data          page owner   HW_EVF_STRAY/BAD
 *   WAIT_ABORT         -    slot  -              fetch serial  -
 *   DISCARD            -    slot  type           fetch serial  -
 *   IQE                -    head  -              rejected ref  IQEI  (hw_rejected(ref))
 *   ITE                ep   slot  sid            -             itag
 *   ICE                ep   -     sid            itag vector   -
 *   ERR_CLEAR          -    -     FSTS bits cleared
 *   IRQ                -    -     MSI data       MSI address   enum hw_irq  HW_EVF_HELD
 *   ATS_REQ            ep   slot  start          length        itag
 *   ATS_LOST           ep   slot  start          length        itag         enum hw_lost
 *   ATS_ANSWER         ep   -     start          length        itag sent    entries dropped
 *   ATS_CPL            ep   slot  sid            itag vector   itag matched
 *   ATC_FILL           ep   -     iova           pa            fill serial
 *   CC_INVAL           -    slot  granularity    did/sid       entries dropped
 *   IOTLB_INVAL        -    slot  granularity    did           entries dropped
 *   TRANSLATE          ep   -     iova           pa            enum hw_dma_status
 *   DMA                ep   -     iova           pa            page owner   HW_EVF_WRITE/ATC/
 *                                                                            FREED, c2=status
 *   LINK               ep   -     -              -             enum hw_link
 *   HOTPLUG            ep   -
 *   FLR_START/FLR_DONE ep   -
 *   FAULT_INJECT       ep   -     arg            -             enum hw_fault
 */
enum hw_ev {
    HW_EV_MMIO_READ,
    HW_EV_MMIO_WRITE,
    HW_EV_MMIO_BAD,
    HW_EV_SW_VIOLATION,
    HW_EV_GCMD,
    HW_EV_QI_ENABLE,
    HW_EV_QI_DISABLE,
    HW_EV_TAIL,
    HW_EV_FETCH,
    HW_EV_HEAD,
    HW_EV_EXEC_START,
    HW_EV_EXEC_DONE,
    HW_EV_WAIT_DONE,
    HW_EV_STATUS_WRITE,
    HW_EV_WAIT_ABORT,
    HW_EV_DISCARD,
    HW_EV_IQE,
    HW_EV_ITE,
    HW_EV_ICE,
    HW_EV_ERR_CLEAR,
    HW_EV_IRQ,
    HW_EV_ATS_REQ,
    HW_EV_ATS_LOST,
    HW_EV_ATS_ANSWER,
    HW_EV_ATS_CPL,
    HW_EV_ATC_FILL,
    HW_EV_CC_INVAL,
    HW_EV_IOTLB_INVAL,
    HW_EV_TRANSLATE,
    HW_EV_DMA,
    HW_EV_LINK,
    HW_EV_HOTPLUG,
    HW_EV_FLR_START,
    HW_EV_FLR_DONE,
    HW_EV_FAULT_INJECT,
    HW_EV_COUNT
};

/* flags */
#define HW_EVF_TIMEDOUT 0x01u /* EXEC_DONE: the ATS invalidation timed out (not executed) */
#define HW_EVF_STRAY    0x02u /* STATUS_WRITE landed on a free page */
#define HW_EVF_BADADDR  0x04u /* STATUS_WRITE / DMA outside memory: dropped */
#define HW_EVF_HELD     0x08u /* IRQ: pending, masked (IM=1) */
#define HW_EVF_WRITE    0x10u /* DMA: a write */
#define HW_EVF_ATC      0x20u /* DMA: through an ATC entry */
#define HW_EVF_FREED    0x40u /* DMA: the page reached is free */
#define HW_EVF_WAIT_SW  0x100u
#define HW_EVF_WAIT_IF  0x200u
#define HW_EVF_WAIT_FN  0x400u

enum hw_mmio_bad {
    HW_MMIO_RESERVED = 1, /* no register at this offset */
    HW_MMIO_MISALIGNED,
    HW_MMIO_WIDTH,    /* qword access to a 32-bit register */
    HW_MMIO_READONLY, /* write to a read-only register */
    HW_MMIO_RSVD_BITS /* write set RsvdZ bits (ignored) */
};

enum hw_violation {
    HW_VIOL_GCMD_MULTI = 1, /* GCMD write changed more than one control bit */
    HW_VIOL_IQA_WHILE_ENABLED,
    HW_VIOL_DISABLE_BUSY,   /* QIE cleared with descriptors pending */
    HW_VIOL_ENABLE_TAIL,    /* QIE set while IQT != 0 */
    HW_VIOL_TAIL_BACKWARDS, /* IQT moved so that pending descriptors would be skipped */
    HW_VIOL_DEVTLB_TE_OFF,  /* device-TLB invalidation while translation is disabled */
    HW_VIOL_SLOT_REWRITTEN, /* a slot changed between the tail write that published it and its
                               fetch, outside an IQE/ITE stop (a = slot) */
};

enum hw_lost {
    HW_LOST_NO_ENDPOINT = 1, /* no function with that SID */
    HW_LOST_LINK,            /* link down or removed */
    HW_LOST_MUTE,
    HW_LOST_DROPPED, /* fault plan: dropped */
    HW_LOST_FLR,     /* arrived during FLR */
    HW_LOST_NO_ATS,  /* function has ATS disabled: unsupported request (UNCERTAIN) */
};

typedef struct hw_event {
    hw_time t;
    uint32_t seq;  /* index in the log */
    uint16_t kind; /* enum hw_ev */
    int16_t ep;    /* endpoint index or -1 */
    int32_t slot;  /* queue slot index or -1 */
    uint32_t c;
    uint32_t flags;
    uint32_t c2;
    uint64_t a, b;
} hw_event;

const hw_event *hw_events(const hw_machine *m, size_t *count);
const char *hw_event_kind_name(unsigned kind);
/* One line: "   1.000000350  iommu  ITE sid=01:00.0 itag=0" (no newline). */
int hw_event_format(const hw_machine *m, const hw_event *e, char *buf, size_t len);
/* Its two parts: what happened ("ITE sid=01:00.0 itag 0; ...") and who did it: "iommu", "epN",
 * "fabric", "cpuN" (a register access by a simulated CPU) or "sw" (one by set-up code). */
int hw_event_describe(const hw_machine *m, const hw_event *e, char *buf, size_t len);
const char *hw_event_agent(const hw_event *e, char *buf, size_t n);
void hw_log_dump(const hw_machine *m, FILE *out, size_t from);
/* Count events of a kind (convenience for tests and oracles). */
size_t hw_count_events(const hw_machine *m, unsigned kind);

/* The descriptor the hardware fetched with a given fetch serial (FETCH event field b), or
 * NULL. 128-bit descriptors have qw[2..3] = 0. */
const vtd_desc *hw_fetched(const hw_machine *m, uint32_t serial);
/* The descriptor that raised an IQE: `ref` is the IQE event's field b (0 for tail errors). */
const vtd_desc *hw_rejected(const hw_machine *m, uint64_t ref);

/* Internal state a test or oracle may inspect without going through MMIO. */
typedef struct hw_qi_view {
    bool enabled;
    uint32_t entries; /* queue length latched at enable */
    bool dw256;
    hw_paddr base;
    uint32_t head, tail; /* indexes */
    uint32_t fetch_ptr;  /* next slot the hardware will fetch */
    unsigned in_flight;  /* descriptors fetched and not retired */
    unsigned ats_outstanding;
} hw_qi_view;
void hw_qi_view_get(const hw_machine *m, hw_qi_view *v);

#endif /* QINVAL_HW_H */
