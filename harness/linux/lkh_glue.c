/*
 * lkh_glue.c — the harness's own side of the kernel driver: set up struct intel_iommu and
 * struct q_inval the way the kernel's dmar_enable_qi() leaves them (queue and status words in
 * simulated memory), enable queued invalidation with the kernel's own __dmar_enable_qi(), and
 * submit the checker's batches with the kernel's qi_submit_sync().
 *
 * Not compiled on its own: the build (src/drivers/kernel_drv.c) appends it to the extracted
 * kernel functions in one translation unit, after lkh_shim.h, so it can call the kernel's
 * static functions. Its one exported symbol is lkh_entry() (lkh_abi.h).
 *
 * Not modelled, because the extracted code has nothing for them: an interrupt handler for the
 * fault event (the kernel's dmar_fault only logs), hot-plug, and FLR / detach brackets (those
 * live in the PCI and IOMMU core, outside dmar.c). The checker's hooks stay NULL.
 */

struct lkh_drv {
    struct intel_iommu iommu;
    unsigned cap; /* free_cnt when idle */
};

static void *lkh_init(void *p, unsigned queue_len, int dw256, char *err, size_t errlen)
{
    struct lkh_drv *d;
    struct q_inval *qi;

    lkh_cur = p;
    if (queue_len > QI_LENGTH || queue_len < 4) {
        snprintf(err, errlen,
                 "queue_len=%u: the kernel's queue has QI_LENGTH = %d entries (use 4..%d)",
                 queue_len, QI_LENGTH, QI_LENGTH);
        return NULL;
    }
    d = LKH_CALL(lkh_host->dma_alloc(lkh_cur, sizeof(*d)));
    qi = d ? LKH_CALL(lkh_host->dma_alloc(lkh_cur, sizeof(*qi))) : NULL;
    if (!qi) {
        snprintf(err, errlen, "simulated memory exhausted");
        return NULL;
    }
    d->iommu.reg = lkh_regs;
    d->iommu.name = "dmar0";
    /* ECAP: QI supported; SMTS (scalable mode: 256-bit descriptors) when asked for. */
    d->iommu.ecap = (1ULL << 1) | (dw256 ? 1ULL << 43 : 0);
    raw_spin_lock_init(&d->iommu.register_lock);
    raw_spin_lock_init(&qi->q_lock);
    /* As dmar_enable_qi(): one page of 128-bit descriptors, two of 256-bit, and the status
     * words; here both in simulated memory, where the IOMMU model reads and writes. */
    qi->desc = LKH_CALL(lkh_host->dma_alloc(lkh_cur, (size_t)QI_LENGTH << (dw256 ? 5 : 4)));
    qi->desc_status = LKH_CALL(lkh_host->dma_alloc(lkh_cur, QI_LENGTH * sizeof(int)));
    if (!qi->desc || !qi->desc_status) {
        snprintf(err, errlen, "simulated memory exhausted");
        return NULL;
    }
    d->iommu.qi = qi;
    /* iommu->gcmd mirrors the persistent command bits the kernel has set: the checker's OS
     * set-up enabled translation before the driver starts, as the kernel itself would have,
     * so start from GSTS (TES 31, QIES 26, IRES 25, CFIS 23). */
    d->iommu.gcmd = readl(d->iommu.reg + DMAR_GSTS_REG) & 0x86800000u;
    __dmar_enable_qi(&d->iommu);
    /* A ring shorter than the kernel's is emulated as the reference drivers do: the free count
     * starts at queue_len, so at most queue_len - 1 slots are ever outstanding. */
    qi->free_cnt = (int)queue_len;
    d->cap = queue_len;
    return d;
}

static int lkh_submit(void *drv, void *p, const uint64_t (*qw)[4], unsigned n)
{
    struct lkh_drv *d = drv;
    struct qi_desc desc[64];

    lkh_cur = p;
    if (n > sizeof(desc) / sizeof(desc[0]))
        return -EINVAL;
    for (unsigned i = 0; i < n; i++) {
        desc[i].qw0 = qw[i][0];
        desc[i].qw1 = qw[i][1];
        desc[i].qw2 = qw[i][2];
        desc[i].qw3 = qw[i][3];
    }
    return qi_submit_sync(&d->iommu, desc, n, 0);
}

static unsigned lkh_free_slots(void *drv)
{
    struct lkh_drv *d = drv;
    return d->iommu.qi->free_cnt < 0 ? 0 : (unsigned)d->iommu.qi->free_cnt;
}

static unsigned lkh_capacity(void *drv)
{
    return ((struct lkh_drv *)drv)->cap;
}

int lkh_entry(const struct lkh_host *host, struct lkh_driver *out);

int lkh_entry(const struct lkh_host *host, struct lkh_driver *out)
{
    if (!host || host->abi != LKH_ABI_VERSION)
        return -1;
    lkh_host = host;
    out->abi = LKH_ABI_VERSION;
    out->init = lkh_init;
    out->submit = lkh_submit;
    out->free_slots = lkh_free_slots;
    out->capacity = lkh_capacity;
    return 0;
}
