/*
 * lkh_abi.h — the interface between qinval and the kernel harness's shared object (the kernel
 * tree's queued-invalidation functions compiled against harness/linux/shim/lkh_shim.h, plus
 * lkh_glue.c).
 *
 * qinval dlopens the object and calls its one exported function, lkh_entry(), giving it a table
 * of host functions (the simulated platform: registers, memory, lock, relax, clock, timeline,
 * the endpoint model's config space) and getting back the driver's entry points. Passing the
 * host's functions as a table, rather than letting the object resolve qinval's symbols, keeps
 * it independent of how qinval was linked (no -rdynamic, LTO or symbol visibility concerns).
 *
 * Platform handles are passed as `void *` (a qi_platform * on the host side); lock words as
 * `void *` (a qi_lock on the host side: one 32-bit word).
 */
#ifndef QINVAL_LKH_ABI_H
#define QINVAL_LKH_ABI_H

#include <stddef.h>
#include <stdint.h>

#define LKH_ABI_VERSION 2

struct lkh_host {
    unsigned abi;
    uint32_t (*read32)(void *p, uint32_t off);
    uint64_t (*read64)(void *p, uint32_t off);
    void (*write32)(void *p, uint32_t off, uint32_t val);
    void (*write64)(void *p, uint32_t off, uint64_t val);
    uint32_t (*load32)(void *p, const volatile uint32_t *addr); /* a yielding shared load */
    unsigned long (*lock_irqsave)(void *p, void *lock);
    void (*unlock_irqrestore)(void *p, void *lock, unsigned long flags);
    void (*lock)(void *p, void *lock);
    void (*unlock)(void *p, void *lock);
    void (*relax)(void *p);
    uint64_t (*now_ns)(void *p);
    uint64_t (*virt_to_phys)(void *p, const volatile void *va);
    void *(*dma_alloc)(void *p, size_t bytes);   /* zeroed, memory the model can reach */
    void *(*phys_to_virt)(void *p, uint64_t pa); /* back from virt_to_phys (NULL if none) */
    void (*note)(void *p, const char *text);     /* a line in the timeline */
    int (*pci_find)(void *p, uint16_t sid);      /* endpoint index, or -1 if none */
    uint32_t (*pci_config_read32)(void *p, int ep, uint32_t off);
    void (*fatal)(void *p, const char *why); /* the kernel panicked: stop the run */
};

/* One IOMMU domain of the scenario, as the checker hands it to the kernel's callers: its
 * domain id and its devices (source id, whether ATS is enabled on it). The glue keeps a kernel
 * struct dmar_domain (with its device list and cache tags) per did, built on first use. */
#define LKH_MAX_DEVS 8
struct lkh_domain {
    uint16_t did;
    unsigned ndevs;
    struct {
        uint16_t sid;
        uint8_t ats;
    } dev[LKH_MAX_DEVS];
};

struct lkh_driver {
    unsigned abi;
    /* Set up struct intel_iommu / struct q_inval and enable QI through the kernel's own code.
     * NULL on failure, with a reason in err. */
    void *(*init)(void *p, unsigned queue_len, int dw256, char *err, size_t errlen);
    /* qi_submit_sync() on n descriptors (four quadwords each); its return value. */
    int (*submit)(void *drv, void *p, const uint64_t (*qw)[4], unsigned n);
    /* The same batch through the kernel's callers qi_flush_iotlb() / qi_flush_dev_iotlb(), one
     * descriptor at a time; they return nothing, so this returns 0. NULL if the tree has no
     * such callers. */
    int (*submit_callers)(void *drv, void *p, const uint64_t (*qw)[4], unsigned n);
    unsigned (*free_slots)(void *drv);
    unsigned (*capacity)(void *drv);

    /* kcall=kernel: the jobs of a workload, each through the function the tree itself uses
     * for it, with the callers' locks and their handling of results. Each returns what that
     * function returns to its own caller (0 for the kernel's void flushes, whatever happened).
     * NULL when the tree's callers could not be built (the host knows why: it built them).
     *   flush_range: an unmap of [start, end] (inclusive, bytes) of the domain: 6.12's
     *                cache_tag_flush_range(), 6.1's iommu_flush_iotlb_psi() (+ its dev-IOTLB
     *                flush of every device of the domain);
     *   detach:      the device's translation torn down: in scalable mode
     *                intel_pasid_tear_down_entry(.., RID2PASID), else domain_context_clear_one();
     *   context_flush: the flushes after a present context entry changed (6.12's
     *                intel_context_flush_no_pasid(); 6.1's domain_context_clear_one()). */
    int (*flush_range)(void *drv, void *p, const struct lkh_domain *dom, uint64_t start,
                       uint64_t end);
    int (*detach)(void *drv, void *p, const struct lkh_domain *dom, uint16_t sid);
    int (*context_flush)(void *drv, void *p, const struct lkh_domain *dom, uint16_t sid);
};

typedef int (*lkh_entry_fn)(const struct lkh_host *host, struct lkh_driver *out);
#define LKH_ENTRY_SYMBOL "lkh_entry"

#endif /* QINVAL_LKH_ABI_H */
