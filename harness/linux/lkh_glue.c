/*
 * lkh_glue.c — the harness's own side of the kernel driver: set up struct intel_iommu and
 * struct q_inval the way the kernel's dmar_enable_qi() leaves them (queue and status words in
 * simulated memory), enable queued invalidation with the kernel's own __dmar_enable_qi(), and
 * submit the checker's batches with the kernel's qi_submit_sync().
 *
 * Not compiled on its own: the build (src/drivers/kernel_drv.c) appends it to the extracted
 * kernel functions in one translation unit, after lkh_shim.h, so it can call the kernel's
 * static functions. Its one exported symbol is lkh_entry() (lkh_abi.h). When the tree has the
 * single-invalidation callers qi_flush_iotlb() and qi_flush_dev_iotlb(), the build extracts them
 * too and defines LKH_HAVE_CALLERS.
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

#ifdef LKH_HAVE_CALLERS
/* The batch as the kernel's own callers would issue it: one qi_flush_iotlb() per IOTLB
 * descriptor and one qi_flush_dev_iotlb() per device-TLB descriptor, each decoded back into the
 * arguments a caller passes (field positions from the VT-d specification); any other
 * descriptor goes to qi_submit_sync() alone. These callers return nothing, so neither does
 * the batch: whatever qi_submit_sync() said is dropped, as in the kernel. */
static int lkh_submit_callers(void *drv, void *p, const uint64_t (*qw)[4], unsigned n)
{
    struct lkh_drv *d = drv;

    lkh_cur = p;
    for (unsigned i = 0; i < n; i++) {
        u64 q0 = qw[i][0], q1 = qw[i][1];
        switch (q0 & 0xF) {
        case 2: /* IOTLB: DID 31:16, G 5:4; AM 5:0, IH 6, address 63:12 */
            qi_flush_iotlb(&d->iommu, (u16)(q0 >> 16), (q1 & ~0xFFFULL) | ((q1 >> 6) & 1),
                           (unsigned)(q1 & 0x3F), ((q0 >> 4) & 3) << 60);
            break;
        case 3: { /* device-TLB: SID 47:32, QDEP 20:16, PFSID 15:12 and 63:52; S bit 0 */
            unsigned mask = 0;
            if (q1 & 1) /* the size is encoded as ones from bit 12 up: their count + 1 */
                for (mask = 1; (q1 >> (11 + mask)) & 1; mask++)
                    ;
            qi_flush_dev_iotlb(&d->iommu, (u16)(q0 >> 32),
                               (u16)(((q0 >> 12) & 0xF) | ((q0 >> 52) << 4)),
                               (u16)((q0 >> 16) & 0x1F), q1 & ~0xFFFULL, mask);
            break;
        }
        default: {
            struct qi_desc one = {q0, q1, qw[i][2], qw[i][3]};
            qi_submit_sync(&d->iommu, &one, 1, 0);
            break;
        }
        }
    }
    return 0;
}
#endif

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
#ifdef LKH_HAVE_CALLERS
    out->submit_callers = lkh_submit_callers;
#endif
    out->free_slots = lkh_free_slots;
    out->capacity = lkh_capacity;
    return 0;
}
