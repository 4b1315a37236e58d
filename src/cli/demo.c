/*
 * demo.c — `qinval demo`: a guided tour of the hardware model. Software steps (written here
 * the way a driver would do them, straight through MMIO) alternate with the hardware's own
 * event timeline: enable QI, a healthy batch, the endpoint goes mute, a batch with a device-TLB
 * invalidation times out (ITE aborts the wait, fetching stops), and software recovers: reads
 * ITESID, fences the device in its context entry, clears ITE, and the queue runs again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qinval/vtd_format.h>

#include "cli/cli.h"
#include "hw/hw.h"

#define OWNER_DRIVER 1u
#define OWNER_DMA    2u
#define EP_SID       0x0100u /* 01:00.0 */
#define IOVA         0x10000ull

struct demo {
    hw_machine *m;
    size_t shown;
    hw_paddr ring, status, root, pgd, buf;
    uint32_t tail, entries;
    unsigned shift;
    int ep;
};

static void say(struct demo *d, const char *what)
{
    hw_log_dump(d->m, stdout, d->shown);
    hw_events(d->m, &d->shown);
    printf("\n# %s\n", what);
}

static void run_for(struct demo *d, hw_time dt)
{
    hw_advance(d->m, hw_now(d->m) + dt);
}

static void gcmd_set(struct demo *d, uint32_t bit, uint32_t sts_bit)
{
    uint32_t gsts = hw_mmio_read32(d->m, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK;
    hw_mmio_write32(d->m, VTD_REG_GCMD, gsts | bit);
    while (!(hw_mmio_read32(d->m, VTD_REG_GSTS) & sts_bit))
        run_for(d, 50);
}

static void post(struct demo *d, vtd_desc desc)
{
    unsigned bytes = 1u << d->shift;
    memcpy(hw_mem_ptr(d->m, d->ring + (hw_paddr)d->tail * bytes, bytes), desc.qw, bytes);
    d->tail = (d->tail + 1) % d->entries;
}

static void doorbell(struct demo *d)
{
    hw_mmio_write32(d->m, VTD_REG_IQT, d->tail << d->shift);
}

static uint32_t *status_word(struct demo *d)
{
    return hw_mem_ptr(d->m, d->status, 4);
}

static int parse(int argc, char **argv, hw_config *cfg, bool *dw256)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--head-policy") && v && (!strcmp(v, "fetch") || !strcmp(v, "complete"))) {
            cfg->head_policy = !strcmp(v, "fetch") ? HW_HEAD_FETCH : HW_HEAD_COMPLETE;
            i++;
        } else if (!strcmp(a, "--desc-width") && v && (!strcmp(v, "128") || !strcmp(v, "256"))) {
            *dw256 = !strcmp(v, "256");
            i++;
        } else if (!strcmp(a, "--no-itesid")) {
            cfg->itesid = false;
        } else if (!strcmp(a, "--head-policy") || !strcmp(a, "--desc-width")) {
            fprintf(stderr, "qinval demo: %s needs %s\n", a,
                    a[2] == 'h' ? "fetch or complete" : "128 or 256");
            return -1;
        } else {
            fprintf(stderr, "qinval demo: unknown option '%s' (see qinval --help)\n", a);
            return -1;
        }
    }
    return 0;
}

static void setup(struct demo *d, bool dw256)
{
    hw_ep_config ec;
    hw_ep_config_default(&ec, EP_SID);
    d->ep = hw_ep_add(d->m, &ec, NULL);
    d->root = hw_tables_root(d->m, OWNER_DRIVER);
    d->pgd = hw_tables_new_pgd(d->m, OWNER_DRIVER);
    d->buf = hw_mem_alloc(d->m, HW_PAGE_SIZE, OWNER_DMA);
    hw_tables_set_context(d->m, d->root, EP_SID, 1, VTD_TT_DEVTLB, d->pgd, 2, OWNER_DRIVER);
    hw_tables_map(d->m, d->pgd, 2, IOVA, d->buf, true, true, OWNER_DRIVER);
    d->ring = hw_mem_alloc(d->m, HW_PAGE_SIZE * (dw256 ? 2 : 1), OWNER_DRIVER);
    d->status = hw_mem_alloc(d->m, HW_PAGE_SIZE, OWNER_DRIVER);
    d->shift = vtd_desc_shift(dw256);
    d->entries = 256;

    printf("# software: root table at 0x%" PRIx64 ", endpoint 01:00.0 (ATS) in domain 1, "
           "iova 0x%llx -> 0x%" PRIx64 "\n",
           d->root, IOVA, d->buf);
    hw_mmio_write64(d->m, VTD_REG_RTADDR, d->root);
    gcmd_set(d, VTD_GCMD_SRTP, VTD_GSTS_RTPS);
    gcmd_set(d, VTD_GCMD_TE, VTD_GSTS_TES);
    say(d, "software: enable queued invalidation (IQT=0, IQA, GCMD.QIE, poll GSTS.QIES)");
    hw_mmio_write64(d->m, VTD_REG_IQT, 0);
    hw_mmio_write64(d->m, VTD_REG_IQA, d->ring | (dw256 ? VTD_IQA_DW | 1 : 0));
    gcmd_set(d, VTD_GCMD_QIE, VTD_GSTS_QIES);
}

/* A batch: page-selective IOTLB, device-TLB for the page, wait with a status write. */
static void submit_flush(struct demo *d, uint32_t token)
{
    *status_word(d) = 0;
    post(d, vtd_make_iotlb_page(1, IOVA, 0, false));
    post(d, vtd_make_devtlb(EP_SID, IOVA, 1));
    post(d, vtd_make_wait(true, false, false, token, d->status));
    doorbell(d);
}

/* A hardware that moves IQH only on completion fetches the timed-out descriptors again after
 * the clear: rewrite the ones aimed at the culprit as no-op waits first. */
static unsigned neutralise_devtlb(struct demo *d, uint16_t sid)
{
    unsigned bytes = 1u << d->shift, n = 0;
    uint32_t i = (uint32_t)(hw_mmio_read64(d->m, VTD_REG_IQH) >> d->shift);
    for (; i != d->tail; i = (i + 1) % d->entries) {
        vtd_desc *slot = hw_mem_ptr(d->m, d->ring + (hw_paddr)i * bytes, bytes);
        vtd_fields f;
        if (vtd_decode(slot, &f) == VTD_OK && f.type == VTD_DESC_DEVTLB && f.u.devtlb.sid == sid) {
            vtd_desc nop = vtd_make_wait(false, false, false, 0, 0);
            memcpy(slot->qw, nop.qw, bytes);
            n++;
        }
    }
    return n;
}

static void recover(struct demo *d)
{
    uint32_t fsts = hw_mmio_read32(d->m, VTD_REG_FSTS);
    uint64_t rec = hw_mmio_read64(d->m, VTD_REG_IQERCD);
    char sid[8];
    uint16_t itesid = (uint16_t)(rec >> VTD_IQERCD_ITESID_SHIFT);
    printf("# software: FSTS=0x%x (ITE=%d), ITESID=%s, IQH=%" PRIu64 ", IQT=%" PRIu64
           ", status word=%u (never written: the wait was aborted)\n",
           fsts, !!(fsts & VTD_FSTS_ITE), itesid ? vtd_sid_format(itesid, sid) : "none",
           hw_mmio_read64(d->m, VTD_REG_IQH) >> d->shift,
           hw_mmio_read64(d->m, VTD_REG_IQT) >> d->shift, *status_word(d));
    hw_tables_set_context(d->m, d->root, EP_SID, 1, VTD_TT_UNTRANSLATED, d->pgd, 2, OWNER_DRIVER);
    /* Without ITESID (older hardware) the culprit is found by elimination: here the only
     * device with a device-TLB invalidation outstanding. */
    unsigned neutralised = neutralise_devtlb(d, itesid ? itesid : EP_SID);
    printf("# software: %u device-TLB descriptor(s) for the fenced device between IQH and IQT "
           "replaced by no-op waits\n",
           neutralised);
    say(d, "software: fence 01:00.0 (context TT=untranslated), then clear ITE (write 1 to "
           "FSTS.ITE)");
    hw_mmio_write32(d->m, VTD_REG_FSTS, VTD_FSTS_ITE);
    run_for(d, 1 * HW_US);
    say(d, "software: context-cache invalidation for 01:00.0 + IOTLB flush + wait, no "
           "device-TLB work for the fenced device");
    *status_word(d) = 0;
    post(d, vtd_make_cc_device(1, EP_SID, 0));
    post(d, vtd_make_iotlb_domain(1));
    post(d, vtd_make_wait(true, false, false, 3, d->status));
    doorbell(d);
    run_for(d, 5 * HW_US);
}

int cli_demo(int argc, char **argv)
{
    hw_config cfg;
    hw_config_default(&cfg);
    bool dw256 = false;
    if (parse(argc, argv, &cfg, &dw256))
        return CLI_EXIT_USAGE;
    const char *err = NULL;
    struct demo d = {0};
    d.m = hw_create(&cfg, &err);
    if (!d.m) {
        fprintf(stderr, "qinval demo: %s\n", err);
        return CLI_EXIT_INTERNAL;
    }
    printf("qinval demo: VT-d invalidation model, head policy %s, %u-bit descriptors, "
           "ITE timeout %.1f s, ITESID %s\n\n",
           cfg.head_policy == HW_HEAD_FETCH ? "fetch" : "complete", dw256 ? 256 : 128,
           (double)cfg.ite_timeout / HW_S, cfg.itesid ? "reported" : "not reported");
    setup(&d, dw256);
    say(&d, "endpoint: DMA write through its ATC (translation request fills it)");
    uint32_t v = 0xabcd;
    hw_ep_dma(d.m, d.ep, IOVA, true, &v, NULL);
    say(&d, "software: batch 1 = iotlb page + devtlb page + wait(status=1)");
    submit_flush(&d, 1);
    run_for(&d, 10 * HW_US);
    say(&d, "fault plan: the endpoint stops answering invalidation requests");
    hw_ep_inject(d.m, d.ep, hw_now(d.m), HW_FAULT_MUTE, 0);
    hw_ep_dma(d.m, d.ep, IOVA, false, &v, NULL);
    submit_flush(&d, 2);
    run_for(&d, cfg.ite_timeout + 10 * HW_US);
    say(&d, "software: notices the wait has not completed and reads the fault status");
    recover(&d);
    say(&d, "endpoint: tries translated DMA with its stale ATC entry");
    hw_dma_result r;
    hw_ep_dma(d.m, d.ep, IOVA, true, &v, &r);
    hw_log_dump(d.m, stdout, d.shown);
    printf("\nresult: the wait of batch 2 was aborted by ITE (status word stayed 0); after "
           "the fence and the clear\nthe queue ran again (status word %u) and the device's "
           "stale translated DMA was %s.\n",
           *status_word(&d), r.status == HW_DMA_BLOCKED ? "blocked" : "NOT blocked");
    int rc = *status_word(&d) == 3 && r.status == HW_DMA_BLOCKED ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
    hw_destroy(d.m);
    return rc;
}
