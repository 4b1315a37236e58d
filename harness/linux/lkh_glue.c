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
 * When the tree's callers could be built too (kcall=kernel), the build defines LKH_HAVE_KCALLERS
 * and one of LKH_HAVE_CACHE_TAGS (6.12's cache.c) or LKH_HAVE_PSI_FLUSH (6.1's iommu.c), and the
 * checker's jobs (unmap, detach, context change) run through them: see "the kernel's callers"
 * below.
 *
 * Not modelled, because the extracted code has nothing for them: an interrupt handler for the
 * fault event (the kernel's dmar_fault only logs), hot-plug, and FLR brackets (those live in
 * the PCI core, outside the files read). The checker's hooks stay NULL.
 */

#ifdef LKH_HAVE_KCALLERS
/* A device of the scenario as the kernel knows it: its pci_dev (answered by the endpoint
 * model), device_domain_info, PASID table and context entry. */
struct lkh_kdev {
    u16 sid;
    struct pci_dev *pdev;
    struct device_domain_info info;
    struct pasid_table pasid;
    struct context_entry ctx;
    int attached;
};

/* A domain of the scenario as the kernel knows it. */
struct lkh_kdom {
    struct dmar_domain dom;
    struct iommu_domain_info di;
};
#endif

struct lkh_drv {
    struct intel_iommu iommu;
    unsigned cap; /* free_cnt when idle */
#ifdef LKH_HAVE_KCALLERS
    struct lkh_kdev kdev[LKH_MAX_DEVS];
    unsigned nkdev;
    struct lkh_kdom kdom[LKH_MAX_DEVS];
    unsigned nkdom;
#endif
};

static void *lkh_init(void *p, unsigned queue_len, int dw256, char *err, size_t errlen)
{
    struct lkh_drv *d;
    struct q_inval *qi;

    lkh_cur = p;
    memset(lkh_pdevs, 0, sizeof(lkh_pdevs)); /* nothing of an earlier world's devices */
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
#ifdef LKH_HAVE_KCALLERS
    /* As the kernel's IOMMU init does once queued invalidation is on. */
    d->iommu.flush.flush_context = qi_flush_context;
    d->iommu.flush.flush_iotlb = qi_flush_iotlb;
    raw_spin_lock_init(&d->iommu.lock);
#endif
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

#ifdef LKH_HAVE_KCALLERS
/* ---- the kernel's callers (kcall=kernel) ---- */

#ifdef LKH_HAVE_CACHE_TAGS
_Static_assert(QI_MAX_BATCHED_DESC_COUNT <= LKH_QI_BATCH_MAX, "the shim's qi_batch is too small");
#endif

static struct lkh_drv *lkh_of(struct intel_iommu *iommu)
{
    return container_of(iommu, struct lkh_drv, iommu);
}

static struct context_entry *lkh_context_entry(struct intel_iommu *iommu, u16 sid)
{
    struct lkh_drv *d = lkh_of(iommu);
    for (unsigned i = 0; i < d->nkdev; i++)
        if (d->kdev[i].sid == sid)
            return &d->kdev[i].ctx;
    return NULL;
}

static struct lkh_kdev *lkh_kdev_find(struct lkh_drv *d, u16 sid)
{
    for (unsigned i = 0; i < d->nkdev; i++)
        if (d->kdev[i].sid == sid)
            return &d->kdev[i];
    return NULL;
}

/* The device's state as the kernel leaves it once the device is attached to a domain with
 * second-level translation: info filled as the probe does (no SR-IOV), a present context entry
 * naming the domain, and in scalable mode a present PASID entry for requests without PASID (PASID
 * 0), written through the kernel's own helpers where the layout is the tree's:
 * intel_pasid_get_entry() allocates the table. Field positions of the entries follow the VT-d
 * specification (context: P bit 0, DID bits 87:72; scalable-mode PASID entry: P bit 0, PGTT bits
 * 8:6, DID bits 79:64). */
static struct lkh_kdev *lkh_kdev_make(struct lkh_drv *d, u16 sid, int ats, struct lkh_kdom *k)
{
    struct lkh_kdev *v = &d->kdev[d->nkdev++];
    v->sid = sid;
    v->pdev = lkh_pdev_by_sid(sid);
    if (!v->pdev)
        panic("harness: no endpoint with source id %04x", sid);
    v->pdev->dev.iommu_priv = &v->info;
    v->info.bus = (u8)(sid >> 8);
    v->info.devfn = (u8)sid;
    /* As the probe: the PF's source id only with device-TLB throttling (ECAP.DIT), else 0
     * (the field is reserved then; the model's IQE catches a non-zero one). */
    v->info.pfsid = ecap_dit(d->iommu.ecap) ? sid : 0;
    v->info.ats_supported = v->info.ats_enabled = ats ? 1 : 0;
    v->info.ats_qdep = 0;
    v->info.dev = &v->pdev->dev;
    v->info.iommu = &d->iommu;
    v->info.domain = &k->dom;
    v->info.domain_attached = 1;
    v->info.pasid_table = &v->pasid;
    v->pasid.max_pasid = 64; /* one directory entry's worth */
    v->pasid.table = lkh_page_alloc();
    v->ctx.lo = 1;
    v->ctx.hi = (u64)k->di.did << 8;
    v->attached = 1;
    if (ecap_smts(d->iommu.ecap)) {
        struct pasid_entry *pe = intel_pasid_get_entry(&v->pdev->dev, 0);
        if (!pe)
            panic("harness: no PASID entry for %04x", sid);
        pe->val[0] = 1ULL | (2ULL << 6); /* present, second-level only */
        pe->val[1] = k->di.did;
    }
    return v;
}

/* The kernel's domain for the scenario's domain, with its devices attached (in the order the
 * scenario lists them), built on first use. */
static struct lkh_kdom *lkh_kdom_get(struct lkh_drv *d, const struct lkh_domain *spec)
{
    struct lkh_kdom *k = NULL;
    for (unsigned i = 0; i < d->nkdom && !k; i++)
        if (d->kdom[i].di.did == spec->did)
            k = &d->kdom[i];
    if (k)
        return k;
    if (d->nkdom == LKH_MAX_DEVS)
        panic("harness: more than %d domains", LKH_MAX_DEVS);
    k = &d->kdom[d->nkdom++];
    k->di.iommu = &d->iommu;
    k->di.did = spec->did;
    k->di.refcnt = spec->ndevs;
    k->dom.iommu_array.entry = &k->di;
    k->dom.domain.type = IOMMU_DOMAIN_DMA;
    spin_lock_init(&k->dom.lock);
    spin_lock_init(&k->dom.cache_lock);
    INIT_LIST_HEAD(&k->dom.devices);
    INIT_LIST_HEAD(&k->dom.cache_tags);
    for (unsigned i = 0; i < spec->ndevs && i < LKH_MAX_DEVS; i++) {
        if (lkh_kdev_find(d, spec->dev[i].sid) || d->nkdev == LKH_MAX_DEVS)
            panic("harness: device %04x given twice", spec->dev[i].sid);
        struct lkh_kdev *v = lkh_kdev_make(d, spec->dev[i].sid, spec->dev[i].ats, k);
        list_add_tail(&v->info.link, &k->dom.devices);
        if (v->info.ats_enabled)
            k->dom.has_iotlb_device = 1;
#ifdef LKH_HAVE_CACHE_TAGS
        if (cache_tag_assign_domain(&k->dom, &v->pdev->dev, IOMMU_NO_PASID))
            panic("harness: cache_tag_assign_domain failed for %04x", v->sid);
#endif
    }
    return k;
}

/* An unmap of [start, end]: the tree's domain flush, as its iotlb_sync calls it after a
 * leaf-only unmap (no page-table pages freed, so the invalidation hint is set). */
static int lkh_flush_range(void *drv, void *p, const struct lkh_domain *spec, uint64_t start,
                           uint64_t end)
{
    struct lkh_drv *d = drv;
    lkh_cur = p;
    struct lkh_kdom *k = lkh_kdom_get(d, spec);
#ifdef LKH_HAVE_CACHE_TAGS
    cache_tag_flush_range(&k->dom, start, end, 1);
#else
    unsigned long pfn = start >> VTD_PAGE_SHIFT, pages = ((end - start) >> VTD_PAGE_SHIFT) + 1;
    iommu_flush_iotlb_psi(&d->iommu, &k->dom, pfn, pages, 1, 0);
#endif
    return 0;
}

/* A job on one attached device, as the kernel runs it: the device's cache tags go first (6.12
 * unassigns them before the teardown), then `teardown`, then the device is unlinked from the
 * domain's device list under the domain's lock (both versions). */
static int lkh_device_job(void *drv, void *p, const struct lkh_domain *spec, uint16_t sid,
                          void (*teardown)(struct lkh_drv *d, struct lkh_kdev *v))
{
    struct lkh_drv *d = drv;
    unsigned long flags;
    lkh_cur = p;
    struct lkh_kdom *k = lkh_kdom_get(d, spec);
    struct lkh_kdev *v = lkh_kdev_find(d, sid);
    if (!v || !v->attached)
        panic("harness: device %04x is not attached to domain %u", sid, spec->did);
#ifdef LKH_HAVE_CACHE_TAGS
    cache_tag_unassign_domain(&k->dom, &v->pdev->dev, IOMMU_NO_PASID);
#endif
    teardown(d, v);
    spin_lock_irqsave(&k->dom.lock, flags);
    list_del(&v->info.link);
    spin_unlock_irqrestore(&k->dom.lock, flags);
    v->attached = 0;
    return 0;
}

/* A detach: in scalable mode the PASID teardown of requests without PASID (PASID 0), else the
 * context entry cleared with its flushes. */
static void lkh_teardown(struct lkh_drv *d, struct lkh_kdev *v)
{
    if (ecap_smts(d->iommu.ecap))
        intel_pasid_tear_down_entry(&d->iommu, &v->pdev->dev, 0, false);
    else
        domain_context_clear_one(&v->info, v->info.bus, v->info.devfn);
}

/* A context change: the present context entry cleared, with the tree's flushes for it. */
static void lkh_context_clear(struct lkh_drv *d, struct lkh_kdev *v)
{
    (void)d;
    domain_context_clear_one(&v->info, v->info.bus, v->info.devfn);
}

static int lkh_detach(void *drv, void *p, const struct lkh_domain *spec, uint16_t sid)
{
    return lkh_device_job(drv, p, spec, sid, lkh_teardown);
}

static int lkh_context_flush(void *drv, void *p, const struct lkh_domain *spec, uint16_t sid)
{
    return lkh_device_job(drv, p, spec, sid, lkh_context_clear);
}
#endif

#ifndef LKH_HAVE_KCALLERS
static struct context_entry *lkh_context_entry(struct intel_iommu *iommu, u16 sid)
{
    (void)iommu;
    (void)sid;
    return NULL;
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
#ifdef LKH_HAVE_KCALLERS
    out->flush_range = lkh_flush_range;
    out->detach = lkh_detach;
    out->context_flush = lkh_context_flush;
#endif
    return 0;
}
