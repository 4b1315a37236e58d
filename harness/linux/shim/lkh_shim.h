/*
 * lkh_shim.h — what the kernel's queued-invalidation functions use, provided in user space on
 * the simulated platform. Written for qinval (no kernel code or text in it); names and
 * semantics follow the kernel interfaces the extracted code calls.
 *
 * The extractor (harness/linux/extract.c) indexes this file first: any name defined here
 * (function, macro, typedef, enum constant) is taken from here, never from the kernel tree.
 * Everything else the extracted functions use (register offsets, QI_* descriptor fields,
 * IOMMU_WAIT_OP, qi_shift, ...) comes from the tree itself, so a kernel version brings its own.
 *
 * The mapping:
 *   raw_spin_lock_irqsave & co  -> the simulated lock and the simulated CPU's interrupt state
 *   readl/writel/readq/writeq   -> model MMIO, at the offset from a fake register base
 *   cpu_relax                   -> a polling pause (scheduling point; lets virtual time jump)
 *   READ_ONCE                   -> a yielding load (scheduling point) of simulated memory
 *   virt_to_phys                -> simulated physical memory (queue and status words live there)
 *   ktime_get, get_cycles       -> the virtual clock, in nanoseconds
 *   printk (pr_*), trace_*      -> lines in the checker's timeline
 *   device lookup by source id, pci_device_is_present, pci_dev_is_disconnected
 *                               -> the endpoint model: a function whose link is down, that was
 *                                  removed or is in reset reads all ones, as on real hardware
 *   panic                       -> stops the run (an internal verdict with the message)
 *
 * Every host call may switch to another simulated CPU. The shim tracks which CPU runs the code
 * in `lkh_cur`: set on entry from the host, saved before each host call and restored after it
 * (when the call returns, this CPU runs again). Code between host calls runs without switching,
 * so lkh_cur is always the running CPU's. Only one translation unit includes this file.
 */
#ifndef QINVAL_LKH_SHIM_H
#define QINVAL_LKH_SHIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lkh_abi.h"

/* ---- types ---- */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64; /* the kernel's u64 on 64-bit: matches its %llx formats */
typedef int32_t s32;
typedef long long s64;
typedef u64 cycles_t;
typedef s64 ktime_t;
typedef u64 phys_addr_t;
typedef struct {
    uint32_t word; /* a qi_lock on the host side */
} raw_spinlock_t;

#define __iomem
#define __init
#define __exit
#define __must_check
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* errno values (negated by the kernel code), the numbers Linux uses */
#define EIO       5
#define EAGAIN    11
#define ENOMEM    12
#define ENODEV    19
#define EINVAL    22
#define ENOENT    2
#define ETIMEDOUT 110

/* The C library's, named here so the extractor knows the shim provides them. */
#define memcpy(d, s, n)  __builtin_memcpy((d), (s), (n))
#define memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define memset(d, c, n)  __builtin_memset((d), (c), (n))

/* ---- bits ---- */
#define BIT(n)                          (1UL << (n))
#define BIT_ULL(n)                      (1ULL << (n))
#define GENMASK(h, l)                   ((~0UL >> (63 - (h))) & (~0UL << (l)))
#define GENMASK_ULL(h, l)               ((~0ULL >> (63 - (h))) & (~0ULL << (l)))
#define FIELD_GET(mask, v)              ((__typeof__(mask))(((v) & (mask)) >> __builtin_ctzll(mask)))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- the structures the extracted code uses: our layouts, the kernel's field names ---- */
struct qi_desc {
    u64 qw0, qw1, qw2, qw3;
};

struct q_inval {
    raw_spinlock_t q_lock;
    void *desc;       /* the ring, in simulated memory */
    int *desc_status; /* status words, in simulated memory (the wait descriptors write them) */
    int free_head;
    int free_tail;
    int free_cnt;
};

struct device {
    int is_pci;
    void *iommu_priv; /* dev_iommu_priv_get(): the device's device_domain_info */
};

struct context_entry {
    u64 lo, hi;
};

struct intel_iommu;
struct iommu_flush {
    void (*flush_context)(struct intel_iommu *iommu, u16 did, u16 sid, u8 fm, u64 type);
    void (*flush_iotlb)(struct intel_iommu *iommu, u16 did, u64 addr, unsigned int size_order,
                        u64 type);
};

struct pci_dev {
    struct device dev;
    u16 sid;
    int ep; /* endpoint index in the model */
};

struct iommu_device {
    struct device *dev;
};

struct intel_iommu {
    void __iomem *reg; /* the fake register base: only offsets from it are used */
    u64 cap, ecap;
    u32 gcmd;
    raw_spinlock_t register_lock;
    raw_spinlock_t lock; /* context entries, PASID tables (spin_lock) */
    struct iommu_flush flush;
    struct q_inval *qi;
    int node;
    int seq_id;
    int agaw;
    const char *name;
    struct iommu_device iommu;
};

/* ---- host state (one translation unit) ---- */
static const struct lkh_host *lkh_host;
static void *lkh_cur;               /* the simulated CPU running kernel code */
static char lkh_regs[0x1000];       /* address space of the fake register base */
static struct pci_dev lkh_pdevs[8]; /* device lookup answers, one per endpoint */

#define LKH_CALL(expr)                                                                             \
    ({                                                                                             \
        void *lkh_me_ = lkh_cur;                                                                   \
        __typeof__(expr) lkh_r_ = (expr);                                                          \
        lkh_cur = lkh_me_;                                                                         \
        lkh_r_;                                                                                    \
    })
#define LKH_CALL_VOID(expr)                                                                        \
    do {                                                                                           \
        void *lkh_me_ = lkh_cur;                                                                   \
        expr;                                                                                      \
        lkh_cur = lkh_me_;                                                                         \
    } while (0)

static inline uint32_t lkh_off(const volatile void *addr)
{
    return (uint32_t)((const volatile char *)addr - lkh_regs);
}

/* ---- MMIO ---- */
static inline u32 readl(const volatile void __iomem *addr)
{
    return LKH_CALL(lkh_host->read32(lkh_cur, lkh_off(addr)));
}

static inline u64 readq(const volatile void __iomem *addr)
{
    return LKH_CALL(lkh_host->read64(lkh_cur, lkh_off(addr)));
}

static inline void writel(u32 val, volatile void __iomem *addr)
{
    LKH_CALL_VOID(lkh_host->write32(lkh_cur, lkh_off(addr), val));
}

static inline void writeq(u64 val, volatile void __iomem *addr)
{
    LKH_CALL_VOID(lkh_host->write64(lkh_cur, lkh_off(addr), val));
}

/* ---- locks and interrupts ---- */
static inline unsigned long lkh_lock_irqsave(raw_spinlock_t *l)
{
    return LKH_CALL(lkh_host->lock_irqsave(lkh_cur, l));
}

#define raw_spin_lock_irqsave(l, flags)                                                            \
    do {                                                                                           \
        (flags) = lkh_lock_irqsave(l);                                                             \
    } while (0)

static inline void raw_spin_unlock_irqrestore(raw_spinlock_t *l, unsigned long flags)
{
    LKH_CALL_VOID(lkh_host->unlock_irqrestore(lkh_cur, l, flags));
}

static inline void raw_spin_lock(raw_spinlock_t *l)
{
    LKH_CALL_VOID(lkh_host->lock(lkh_cur, l));
}

static inline void raw_spin_unlock(raw_spinlock_t *l)
{
    LKH_CALL_VOID(lkh_host->unlock(lkh_cur, l));
}

static inline void raw_spin_lock_init(raw_spinlock_t *l)
{
    l->word = 0;
}

/* ---- waiting, memory, time ---- */
static inline void cpu_relax(void)
{
    LKH_CALL_VOID(lkh_host->relax(lkh_cur));
}

static inline u32 lkh_load32(const volatile void *addr)
{
    return LKH_CALL(lkh_host->load32(lkh_cur, (const volatile uint32_t *)addr));
}

/* A load other CPUs and the IOMMU race with: the platform's shared load, a scheduling point,
 * for the 32-bit status words the IOMMU writes. A 64-bit READ_ONCE (the callers' PASID entries,
 * which only kernel code touches in the harness: the model keeps its own translation
 * structures) is a plain load, atomic with respect to the other simulated CPUs because they
 * switch only at host calls. Any other size fails to compile rather than being modelled
 * wrongly. */
#define READ_ONCE(x)                                                                               \
    ({                                                                                             \
        __typeof__(x) lkh_v_;                                                                      \
        _Static_assert(sizeof(x) == 4 || sizeof(x) == 8,                                           \
                       "READ_ONCE: only 32-bit (shared) and 64-bit (kernel-only) objects");        \
        if (sizeof(x) == 4) {                                                                      \
            u32 lkh_w_ = lkh_load32(&(x));                                                         \
            memcpy(&lkh_v_, &lkh_w_, sizeof(lkh_v_));                                              \
        } else {                                                                                   \
            lkh_v_ = *(const volatile __typeof__(x) *)&(x);                                        \
        }                                                                                          \
        lkh_v_;                                                                                    \
    })
#define WRITE_ONCE(x, v)                                                                           \
    do {                                                                                           \
        (x) = (v);                                                                                 \
    } while (0)

static inline phys_addr_t virt_to_phys(const volatile void *va)
{
    return LKH_CALL(lkh_host->virt_to_phys(lkh_cur, va));
}

static inline ktime_t ktime_get(void)
{
    return (ktime_t)LKH_CALL(lkh_host->now_ns(lkh_cur));
}

static inline s64 ktime_to_ns(ktime_t t)
{
    return t;
}

static inline cycles_t get_cycles(void)
{
    return (cycles_t)LKH_CALL(lkh_host->now_ns(lkh_cur));
}

/* get_cycles() counts nanoseconds here: the kernel's register-wait bound is 10 s. */
#define DMAR_OPERATION_TIMEOUT ((cycles_t)10000000000ULL)

/* ---- printk, trace points, WARN, panic: lines in the timeline ---- */
static inline void lkh_vlog(const char *level, const char *fmt, va_list ap)
{
    char buf[240];
    int n = snprintf(buf, sizeof(buf), "kernel %s: ", level);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = 0;
    vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    size_t len = strlen(buf);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    LKH_CALL_VOID(lkh_host->note(lkh_cur, buf));
}

static inline void lkh_log(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void lkh_log(const char *level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lkh_vlog(level, fmt, ap);
    va_end(ap);
}

#define pr_fmt(fmt)              fmt
#define pr_err(...)              lkh_log("pr_err", __VA_ARGS__)
#define pr_warn(...)             lkh_log("pr_warn", __VA_ARGS__)
#define pr_info(...)             lkh_log("pr_info", __VA_ARGS__)
#define pr_notice(...)           lkh_log("pr_notice", __VA_ARGS__)
#define pr_debug(...)            lkh_log("pr_debug", __VA_ARGS__)
#define pr_err_ratelimited(...)  lkh_log("pr_err", __VA_ARGS__)
#define pr_warn_ratelimited(...) lkh_log("pr_warn", __VA_ARGS__)

static inline void trace_qi_submit(struct intel_iommu *iommu, u64 qw0, u64 qw1, u64 qw2, u64 qw3)
{
    (void)iommu;
    lkh_log("trace", "qi_submit qw0=0x%llx qw1=0x%llx qw2=0x%llx qw3=0x%llx", qw0, qw1, qw2, qw3);
}

#define WARN_ON(cond)                                                                              \
    ({                                                                                             \
        int lkh_c_ = !!(cond);                                                                     \
        if (lkh_c_)                                                                                \
            lkh_log("WARN_ON", "%s", #cond);                                                       \
        lkh_c_;                                                                                    \
    })
#define WARN_ON_ONCE(cond) WARN_ON(cond)

static inline void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void panic(const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    int n = snprintf(buf, sizeof(buf), "kernel panic: ");
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = strlen(buf);
    while (len && buf[len - 1] == '\n')
        buf[--len] = '\0';
    lkh_host->fatal(lkh_cur, buf); /* does not return: the run stops */
}

/* ---- latency statistics (CONFIG_DMAR_PERF off, as in distribution kernels) ---- */
enum latency_type {
    DMAR_LATENCY_INV_IOTLB = 0,
    DMAR_LATENCY_INV_DEVTLB,
    DMAR_LATENCY_INV_IEC,
    DMAR_LATENCY_PRQ,
    DMAR_LATENCY_NUM
};

static inline bool dmar_latency_enabled(struct intel_iommu *iommu, enum latency_type type)
{
    (void)iommu;
    (void)type;
    return false;
}

static inline void dmar_latency_update(struct intel_iommu *iommu, enum latency_type type,
                                       u64 latency)
{
    (void)iommu;
    (void)type;
    (void)latency;
}

/* ---- PCI devices, answered by the endpoint model ---- */
#define PCI_BUS_NUM(x)  (((x) >> 8) & 0xff)
#define PCI_DEVFN(d, f) ((((d)&0x1f) << 3) | ((f)&0x07))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn)&0x07)
#define to_pci_dev(d)   container_of(d, struct pci_dev, dev)
#define dev_is_pci(d)   ((d) && (d)->is_pci)

static inline struct pci_dev *lkh_pdev_by_sid(u16 sid)
{
    int ep = LKH_CALL(lkh_host->pci_find(lkh_cur, sid));
    if (ep < 0 || (size_t)ep >= sizeof(lkh_pdevs) / sizeof(lkh_pdevs[0]))
        return NULL;
    lkh_pdevs[ep].dev.is_pci = 1;
    lkh_pdevs[ep].sid = sid;
    lkh_pdevs[ep].ep = ep;
    return &lkh_pdevs[ep];
}

/* The IOMMU's record of probed devices, looked up by source id (6.8 and later). */
static inline struct device *device_rbtree_find(struct intel_iommu *iommu, u16 rid)
{
    struct pci_dev *pdev = lkh_pdev_by_sid(rid);
    (void)iommu;
    return pdev ? &pdev->dev : NULL;
}

static inline struct pci_dev *pci_get_domain_bus_and_slot(int domain, unsigned int bus,
                                                          unsigned int devfn)
{
    (void)domain;
    return lkh_pdev_by_sid((u16)(bus << 8 | devfn));
}

static inline void pci_dev_put(struct pci_dev *pdev)
{
    (void)pdev;
}

/* A config read of the vendor/device dword: all ones when the link is down, the function was
 * removed or is in reset. */
static inline bool pci_device_is_present(struct pci_dev *pdev)
{
    return LKH_CALL(lkh_host->pci_config_read32(lkh_cur, pdev->ep, 0)) != 0xFFFFFFFFu;
}

/* Set by the PCI core when it handled a removal; the harness runs no PCI core, so like a link
 * that drops without a hot-plug interrupt, nothing marks a device disconnected. */
static inline bool pci_dev_is_disconnected(const struct pci_dev *pdev)
{
    (void)pdev;
    return false;
}

/* What the callers of the queued-invalidation functions use (kcall=kernel). */
#include "lkh_shim_domain.h"

#endif /* QINVAL_LKH_SHIM_H */
