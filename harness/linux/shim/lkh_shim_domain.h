/*
 * lkh_shim_domain.h — the second half of the kernel harness's shim: what the kernel's *callers*
 * of the queued-invalidation functions use (the domain flush of cache.c or iommu.c, the PASID
 * and context teardown of pasid.c and iommu.c). Written for qinval; names and semantics follow
 * the kernel interfaces the extracted code calls, the layouts are ours.
 *
 * Included at the end of lkh_shim.h, and indexed by the extractor as part of the shim: a name
 * defined here is never taken from the kernel tree.
 *
 * The mapping:
 *   spin_lock_irqsave & co    -> the simulated lock and the CPU's interrupt state, as the raw
 *                                spin locks (a domain's cache_lock taken with irqsave keeps
 *                                interrupts off around everything under it)
 *   list_head & list_*        -> a circular doubly linked list, as the kernel's
 *   dev_iommu_priv_get        -> the harness's device_domain_info of the device
 *   xa_load                   -> the one IOMMU of the harness (domain->iommu_array)
 *   iommu_context_addr        -> the harness's context entries (one per source id); the model
 *                                has its own, which the checker changes for the job
 *   PASID tables              -> real ones, in simulated memory, built by the glue with the
 *                                kernel's own pasid.h helpers; phys_to_virt maps back
 *   trace_cache_tag_*         -> lines in the checker's timeline
 *   intel_iommu_drain_pasid_prq -> a timeline line (no page requests are modelled)
 *   cache flushes, barriers   -> nothing (the model's memory is coherent; ECAP.C is set)
 */
#ifndef QINVAL_LKH_SHIM_DOMAIN_H
#define QINVAL_LKH_SHIM_DOMAIN_H

typedef u32 ioasid_t;
typedef unsigned int gfp_t;
#define GFP_KERNEL 0u
#define GFP_ATOMIC 1u

/* ---- spin locks (the non-raw kind): the same simulated locks ---- */
typedef raw_spinlock_t spinlock_t;
#define spin_lock_irqsave(l, flags)                                                                \
    do {                                                                                           \
        (flags) = lkh_lock_irqsave(l);                                                             \
    } while (0)
#define spin_unlock_irqrestore(l, flags) raw_spin_unlock_irqrestore((l), (flags))
#define spin_lock(l)                     raw_spin_lock(l)
#define spin_unlock(l)                   raw_spin_unlock(l)
#define spin_lock_init(l)                raw_spin_lock_init(l)

/* ---- lists ---- */
struct list_head {
    struct list_head *next, *prev;
};

static inline void INIT_LIST_HEAD(struct list_head *h)
{
    h->next = h->prev = h;
}

static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

static inline void list_del(struct list_head *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

static inline int list_empty(const struct list_head *h)
{
    return h->next == h;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_for_each_entry(pos, head, member)                                                     \
    for (pos = list_entry((head)->next, __typeof__(*pos), member); &pos->member != (head);         \
         pos = list_entry(pos->member.next, __typeof__(*pos), member))

/* ---- the IOMMU's one domain-id table ---- */
struct xarray {
    void *entry; /* the harness has one IOMMU: its iommu_domain_info */
};

static inline void *xa_load(struct xarray *xa, unsigned long index)
{
    (void)index;
    return xa->entry;
}

struct iommu_domain_info {
    struct intel_iommu *iommu;
    unsigned int refcnt;
    u16 did;
};

/* ---- domains, devices, cache tags ---- */
struct iommu_domain {
    unsigned type;
};

/* Room for the kernel's QI_MAX_BATCHED_DESC_COUNT (16 in 6.12); lkh_glue.c checks it fits. */
#define LKH_QI_BATCH_MAX 64
struct qi_batch {
    struct qi_desc descs[LKH_QI_BATCH_MAX];
    unsigned int index;
};

struct dmar_domain {
    int nid;
    struct xarray iommu_array;
    u8 iommu_coherency : 1;
    u8 force_snooping : 1;
    u8 set_pte_snp : 1;
    u8 use_first_level : 1;
    u8 dirty_tracking : 1;
    u8 nested_parent : 1;
    u8 has_mappings : 1;
    u8 iotlb_sync_map : 1;
    u8 has_iotlb_device : 1; /* 6.1: some device of the domain has ATS enabled */
    int flags;               /* 6.1: DOMAIN_FLAG_* (none set: second-level translation) */
    spinlock_t lock;         /* the device list */
    struct list_head devices;
    spinlock_t cache_lock; /* the cache tag list (6.12) */
    struct list_head cache_tags;
    struct qi_batch *qi_batch;
    struct iommu_domain domain;
    struct dmar_domain *s2_domain;
};

struct pasid_dir_entry {
    u64 val;
};

struct pasid_entry {
    u64 val[8];
};

struct pasid_table {
    void *table;
    int order;
    u32 max_pasid;
};

struct device_domain_info {
    struct list_head link;
    u32 segment;
    u8 bus;
    u8 devfn;
    u16 pfsid;
    u8 pasid_supported : 3;
    u8 pasid_enabled : 1;
    u8 pri_supported : 1;
    u8 pri_enabled : 1;
    u8 ats_supported : 1;
    u8 ats_enabled : 1;
    u8 dtlb_extra_inval : 1;
    u8 domain_attached : 1;
    u8 ats_qdep;
    struct device *dev;
    struct intel_iommu *iommu;
    struct dmar_domain *domain;
    struct pasid_table *pasid_table;
};

/* The kernel's enum cache_tag_type lives in the tree (extracted after this file): the field is
 * an int here, compared with the tree's constants. */
struct cache_tag {
    struct list_head node;
    int type;
    struct intel_iommu *iommu;
    struct device *dev;
    u16 domain_id;
    ioasid_t pasid;
    unsigned int users;
};

/* From include/linux/iommu.h, which the harness does not read. */
#define IOMMU_NO_PASID         0U
#define __IOMMU_DOMAIN_PAGING  (1U << 0)
#define __IOMMU_DOMAIN_DMA_API (1U << 1)
#define __IOMMU_DOMAIN_SVA     (1U << 4)
#define __IOMMU_DOMAIN_NESTED  (1U << 6)
#define IOMMU_DOMAIN_DMA       (__IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API)
#define IOMMU_DOMAIN_IDENTITY  (__IOMMU_DOMAIN_PT)
#define __IOMMU_DOMAIN_PT      (1U << 2)
#define IOMMU_DOMAIN_SVA       (__IOMMU_DOMAIN_SVA)
#define IOMMU_DOMAIN_NESTED    (__IOMMU_DOMAIN_NESTED)

static inline void *dev_iommu_priv_get(struct device *dev)
{
    return dev->iommu_priv;
}

/* ---- trace points of cache.c: timeline lines ---- */
#define trace_cache_tag_flush_range(tag, start, end, addr, pages, mask)                            \
    lkh_log("trace", "cache_tag_flush_range did=%u start=0x%llx end=0x%llx", (tag)->domain_id,     \
            (u64)(start), (u64)(end))
#define trace_cache_tag_flush_all(tag)                                                             \
    lkh_log("trace", "cache_tag_flush_all did=%u", (tag)->domain_id)
#define trace_cache_tag_flush_range_np(tag, start, end, addr, pages, mask)                         \
    lkh_log("trace", "cache_tag_flush_range_np did=%u", (tag)->domain_id)
#define trace_cache_tag_assign(tag)   ((void)(tag))
#define trace_cache_tag_unassign(tag) ((void)(tag))

/* ---- memory ---- */
static inline void *lkh_page_alloc(void)
{
    return LKH_CALL(lkh_host->dma_alloc(lkh_cur, 4096));
}

static inline void *iommu_alloc_page_node(int nid, gfp_t gfp)
{
    (void)nid;
    (void)gfp;
    return lkh_page_alloc();
}

static inline void *alloc_pgtable_page(int node) /* 6.1's name */
{
    (void)node;
    return lkh_page_alloc();
}

static inline void *kzalloc(size_t size, gfp_t gfp)
{
    (void)gfp;
    return LKH_CALL(lkh_host->dma_alloc(lkh_cur, size));
}

/* Simulated memory is never given back during a run (the world is torn down whole). */
static inline void kfree(const void *p)
{
    (void)p;
}

static inline void iommu_free_page(void *addr)
{
    (void)addr;
}

static inline void free_pgtable_page(void *vaddr)
{
    (void)vaddr;
}

static inline void *phys_to_virt(phys_addr_t pa)
{
    return LKH_CALL(lkh_host->phys_to_virt(lkh_cur, pa));
}

/* Plain compare-and-exchange: code between host calls runs without a switch, so it is atomic
 * with respect to the other simulated CPUs. */
#define cmpxchg64(ptr, old, new)                                                                   \
    ({                                                                                             \
        __typeof__(*(ptr)) lkh_o_ = *(ptr);                                                        \
        if (lkh_o_ == (old))                                                                       \
            *(ptr) = (new);                                                                        \
        lkh_o_;                                                                                    \
    })
#define try_cmpxchg64(ptr, oldp, new)                                                              \
    ({                                                                                             \
        int lkh_ok_ = *(ptr) == *(oldp);                                                           \
        if (lkh_ok_)                                                                               \
            *(ptr) = (new);                                                                        \
        else                                                                                       \
            *(oldp) = *(ptr);                                                                      \
        lkh_ok_;                                                                                   \
    })

static inline void clflush_cache_range(void *addr, unsigned int size)
{
    (void)addr;
    (void)size;
}

#define dma_wmb() __asm__ __volatile__("" ::: "memory")
#define smp_wmb() __asm__ __volatile__("" ::: "memory")

#define BUG_ON(cond)                                                                               \
    do {                                                                                           \
        if (cond)                                                                                  \
            panic("BUG_ON(%s)", #cond);                                                            \
    } while (0)

/* ---- arithmetic helpers ---- */
#define BITS_PER_LONG           64
#define PAGE_SHIFT              12
#define PAGE_SIZE               (1UL << PAGE_SHIFT)
#define PAGE_MASK               (~(PAGE_SIZE - 1))
#define ALIGN_DOWN(x, a)        ((x) & ~((__typeof__(x))(a)-1))
#define ALIGN(x, a)             (((x) + ((__typeof__(x))(a)-1)) & ~((__typeof__(x))(a)-1))
#define PAGE_ALIGN(x)           ALIGN((x), PAGE_SIZE)
#define IS_ALIGNED(x, a)        (((x) & ((__typeof__(x))(a)-1)) == 0)
#define ilog2(n)                ((n) ? 63 - __builtin_clzll((unsigned long long)(n)) : -1)
#define __ffs(x)                ((unsigned long)__builtin_ctzl(x))
#define __roundup_pow_of_two(n) ((n) <= 1 ? 1UL : 1UL << (64 - __builtin_clzl((n)-1)))
#define test_bit(nr, addr)      ((((const unsigned long *)(addr))[(nr) / 64] >> ((nr) % 64)) & 1)
#define PCI_DEVID(bus, devfn)   ((u16)(((u16)(bus) << 8) | (devfn)))

/* ---- what lives outside the files the harness reads ---- */
/* The context entries the kernel code changes: the harness keeps one per device of the
 * scenario (lkh_glue.c: NULL for any other, and in a build without the callers); the model has
 * its own, which the checker changes for the job. */
static struct context_entry *lkh_context_entry(struct intel_iommu *iommu, u16 sid);

static inline struct context_entry *iommu_context_addr(struct intel_iommu *iommu, u8 bus, u8 devfn,
                                                       int alloc)
{
    (void)alloc;
    return lkh_context_entry(iommu, PCI_DEVID(bus, devfn));
}

/* Page requests are not modelled: draining them is a line in the timeline. */
static inline void intel_iommu_drain_pasid_prq(struct device *dev, u32 pasid)
{
    (void)dev;
    lkh_log("harness", "drain page requests of pasid %u (none are modelled)", pasid);
}

/* 6.1: whether identity domains use hardware pass-through; the harness's domains are DMA
 * domains, so it is never consulted for them. */
static int hw_pass_through __attribute__((unused)) = 1;

/* Scalable mode is on wherever the IOMMU reports it (ECAP.SMTS): the distribution default. */
static int intel_iommu_sm __attribute__((unused)) = 1;

#endif /* QINVAL_LKH_SHIM_DOMAIN_H */
