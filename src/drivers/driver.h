/*
 * driver.h — what the checker needs from an invalidation algorithm under test: create it over
 * one IOMMU, submit a batch of descriptors from a simulated CPU and wait for it, optional
 * interrupt / hot-plug / reset hooks, and introspection for the slot-leak oracle.
 *
 * Drivers run on simulated CPUs and reach the hardware only through include/qinval/platform.h;
 * memory the IOMMU must see (queue, status words) comes from sim_dma_alloc() in src/sim/sim.h.
 * Implementations: src/drivers/ref_*.c (published Linux algorithms), src/drivers/engine_drv.c
 * (the qinval engine), src/drivers/kernel_drv.c (a kernel tree's own code, harness/linux).
 */
#ifndef QINVAL_DRIVER_H
#define QINVAL_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qinval/platform.h>
#include <qinval/vtd.h>

/* Results of submit (kernel style: 0 or a negative errno value). */
#define DRV_OK        0
#define DRV_EINVAL    (-22)  /* a descriptor of the batch was malformed (IQE) */
#define DRV_EAGAIN    (-11)  /* the caller should submit again */
#define DRV_ETIMEDOUT (-110) /* gave up waiting (deadline, or device-TLB time-out) */
#define DRV_ENODEV    (-19)  /* a target device is gone or quarantined */
#define DRV_EIO       (-5)   /* anything else the hardware reported */

struct drv_params {
    unsigned queue_len;   /* ring entries (power of two, 256..32768 / 128..16384 for 256-bit) */
    bool dw256;           /* 256-bit descriptors */
    uint64_t deadline_ns; /* per-call wait bound for drivers that honour one (0: none) */
    unsigned ncpus;
    /* The driver's own settings ("KEY=VALUE", keys from its setting_keys), as configure()
     * accepted them: each world gets them, nothing is global. */
    const char *const *settings;
    unsigned nsettings;
};

/* A job of the workload above the queue: what an operating system does that needs
 * invalidations. A driver's `op` runs it the way its own callers would; without one, the
 * checker submits `descs` (what a careful caller queues for the job) and checks the result. */
#define DRV_MAX_DEVS 8
struct drv_domain {
    uint16_t did;
    unsigned ndevs;
    uint16_t sid[DRV_MAX_DEVS];
    bool ats[DRV_MAX_DEVS];
};

enum drv_op_kind {
    DRV_OP_UNMAP,   /* [start, end] of the domain was unmapped; its pages are freed on 0 */
    DRV_OP_DETACH,  /* device sid leaves the domain (teardown of its translation) */
    DRV_OP_CONTEXT, /* the present context entry of device sid changed */
};

struct drv_op {
    enum drv_op_kind kind;
    /* The domain's devices when the job starts; a DETACH or CONTEXT job's own device is among
     * them (it leaves the domain once the job returns, whatever the job returned). */
    const struct drv_domain *dom;
    uint16_t sid;        /* DETACH, CONTEXT */
    uint64_t start, end; /* UNMAP: IOVA range, bytes, inclusive */
    const vtd_desc *descs;
    unsigned n;
};

struct drv_submit_opts {
    uint64_t deadline_ns; /* absolute, on qi_plat_now_ns(); 0: the driver's default */
};

typedef struct sim_driver_ops {
    const char *name;
    const char *summary; /* one line for `qinval list drivers` */
    /* Allocate state and the queue, program IQA, enable QI. Runs on CPU 0 before any workload.
     * Returns NULL on failure. */
    void *(*init)(qi_platform *p, const struct drv_params *params);
    /* Queue descriptors[0..n) followed by the driver's own wait descriptor(s), wait, return a
     * DRV_* result. Called concurrently from several simulated CPUs. */
    int (*submit)(void *drv, qi_platform *p, const vtd_desc *descs, unsigned n,
                  const struct drv_submit_opts *opts);
    /* Optional hooks (NULL if the algorithm has none). Interrupt hooks run on the CPU the
     * interrupt was delivered to, with interrupts off. */
    void (*fault_irq)(void *drv, qi_platform *p);
    void (*hotplug)(void *drv, qi_platform *p, uint16_t sid);
    void (*reset_prepare)(void *drv, qi_platform *p, uint16_t sid); /* before FLR / detach */
    void (*reset_done)(void *drv, qi_platform *p, uint16_t sid);    /* after it */
    /* Optional: the `--set KEY=VALUE` keys that are the driver's own settings rather than the
     * scenario's (NULL-terminated), and configure(), which checks them and does what must be
     * done once before any run (the kernel driver builds and loads its tree). configure()
     * returns 0, or 2 (bad input) / 3 (internal error) with one line in err. */
    const char *const *setting_keys;
    /* The one of them, if any, that names code configure() builds and loads (the kernel
     * driver's "ksrc"): taken from the user's command line only, never from a file. */
    const char *code_setting;
    int (*configure)(const char *const *settings, unsigned n, char *err, size_t errlen);
    /* Optional: run a job through the driver's own callers (the kernel driver with
     * kcall=kernel). Returns what those callers return: DRV_OK for a void function, whatever
     * happened. NULL: the checker submits op->descs and takes submit's result. */
    int (*op)(void *drv, qi_platform *p, const struct drv_op *op,
              const struct drv_submit_opts *opts);
    /* Free ring slots as the driver counts them, and the count when idle. */
    unsigned (*free_slots)(void *drv);
    unsigned (*capacity)(void *drv);
    /* Deadlines: a driver that honours them returns from every submit by its deadline_ns (or,
     * without one, within default_deadline_ns of the call, if non-zero) plus the scenario's
     * deadline_margin_ms; the deadline_overrun oracle holds it to that. The reference Linux
     * algorithms have no deadline (false). */
    bool honours_deadline;
    uint64_t default_deadline_ns;
} sim_driver_ops;

/* The registry: every driver the checker knows, NULL-terminated. */
extern const sim_driver_ops *const sim_drivers[];
const sim_driver_ops *sim_driver_find(const char *name);

/* The qinval engine (src/drivers/engine_drv.c): as shipped, and without validation before
 * queuing (so that the hardware's IQE path is what gets exercised). */
extern const sim_driver_ops engine_ops;
extern const sim_driver_ops engine_trusting_ops;

/* The kernel driver (src/drivers/kernel_drv.c): a Linux tree's own queued-invalidation code.
 * It must be prepared (built and loaded from the tree) before a run uses it. */
extern const sim_driver_ops kernel_ops;
/* QINVAL_KSRC, or NULL. */
const char *kernel_drv_env_ksrc(void);
/* The tree loaded into this process (one at a time), or NULL. */
const char *kernel_drv_loaded(void);
/* Build (or take from the cache) and load the harness for tree `ksrc` (NULL: QINVAL_KSRC).
 * Returns 0, or 2 (bad input: no tree, not a tree, a function or symbol the harness cannot
 * provide, a compile error) or 3 (internal error) with one line in err. The tree's callers
 * (kcall=kernel) are built when they can be; kernel_drv_kcallers_why() says why not. */
int kernel_drv_prepare(const char *ksrc, char *err, size_t errlen);
const char *kernel_drv_kcallers_why(void);
bool kernel_drv_ready(void);
const char *kernel_drv_object(void); /* the shared object loaded, or "" */
/* The loaded tree's identity: 16 hex digits hashing the contents of the files the harness
 * reads from it (the same code under another path has the same identity), or "". */
const char *kernel_drv_tree_id(void);

#endif /* QINVAL_DRIVER_H */
