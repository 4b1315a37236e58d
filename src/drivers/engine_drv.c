/*
 * engine_drv.c — the qinval engine (src/engine, include/qinval/engine.h) as a driver under
 * test: `--driver qinval`, and `--driver qinval-trusting`, the same engine told not to validate
 * descriptors before queuing them, so that the hardware's Invalidation Queue Error and its
 * repair are what gets checked.
 *
 * This file plays the part of the IOMMU layer a kernel would wrap around the engine: it
 * allocates the memory the engine needs (in simulated RAM, where the IOMMU can reach it),
 * unmasks the fault event interrupt and routes it, the hot-plug event and the reset bracket
 * hooks to the engine, and implements the fence: withdrawing a device's ATS permission in its
 * legacy-mode context entry (translation type "untranslated only") and handing the engine the
 * device-selective context-cache invalidation that makes the hardware see it (translated
 * requests pass the IOMMU unchecked until the source's device-TLB permission is withdrawn in
 * its context entry and a context-cache invalidation follows).
 */
#include <qinval/engine.h>

#include "drivers/driver.h"
#include "sim/sim.h"

/* Device records: one per endpoint a scenario can have, so the table is never full (the
 * engine recycles records with nothing to remember); as many context entries can be fenced. */
#define ENG_DEVICES 8 /* SC_MAX_EPS of src/check/scenario.h */
/* Ends of a reset bracket tried before giving up (each bounded by the default deadline). */
#define RESET_END_TRIES 3

struct eng_drv {
    qi_engine e; /* first: tests reach the engine through the driver state */
    qi_dev devices[ENG_DEVICES];
    /* Context entries we changed, to restore at the end of a reset bracket. */
    uint16_t fenced_sid[ENG_DEVICES];
    bool fenced_used[ENG_DEVICES];
};

/* The context entry of `sid` in the tables the OS built (RTADDR), or NULL if not present. */
static uint64_t *context_entry(hw_machine *m, uint16_t sid)
{
    hw_paddr root = hw_mmio_read64(m, VTD_REG_RTADDR) & VTD_RTADDR_ADDR_MASK;
    uint64_t *re = hw_mem_ptr(m, root + (hw_paddr)(sid >> 8) * 16, 16);
    if (!re || !(re[0] & VTD_ROOT_P))
        return NULL;
    uint64_t *ce = hw_mem_ptr(m, (re[0] & VTD_CTX_ADDR_MASK) + (hw_paddr)(sid & 0xFF) * 16, 16);
    return ce && (ce[0] & VTD_CTX_P) ? ce : NULL;
}

static unsigned set_tt(qi_platform *p, uint16_t sid, int from, int to, vtd_desc *out)
{
    hw_machine *m = sim_hw(sim_platform_world(p));
    uint64_t *ce = context_entry(m, sid);
    if (!ce || (int)((ce[0] & VTD_CTX_TT_MASK) >> VTD_CTX_TT_SHIFT) != from)
        return 0;
    sim_touch(p); /* the OS edits its table: a scheduling point that changes shared state */
    ce[0] = (ce[0] & ~VTD_CTX_TT_MASK) | (uint64_t)to << VTD_CTX_TT_SHIFT;
    out[0] = vtd_make_cc_device((uint16_t)(ce[1] >> VTD_CTX_DID_SHIFT), sid, 0);
    return 1;
}

static unsigned eng_fence(void *cookie, qi_platform *p, uint16_t sid, vtd_desc *out, unsigned max)
{
    struct eng_drv *d = cookie;
    if (max < 1)
        return 0;
    unsigned n = set_tt(p, sid, VTD_TT_DEVTLB, VTD_TT_UNTRANSLATED, out);
    if (n) {
        for (unsigned i = 0; i < ENG_DEVICES; i++) {
            if (!d->fenced_used[i]) {
                d->fenced_used[i] = true;
                d->fenced_sid[i] = sid;
                break;
            }
        }
    }
    sim_note(p, "iommu: ATS permission withdrawn (sid, descriptors)", sid, n);
    return n;
}

static unsigned eng_unfence(void *cookie, qi_platform *p, uint16_t sid, vtd_desc *out, unsigned max)
{
    struct eng_drv *d = cookie;
    if (max < 1)
        return 0;
    for (unsigned i = 0; i < ENG_DEVICES; i++) {
        if (d->fenced_used[i] && d->fenced_sid[i] == sid) {
            d->fenced_used[i] = false;
            unsigned n = set_tt(p, sid, VTD_TT_UNTRANSLATED, VTD_TT_DEVTLB, out);
            sim_note(p, "iommu: ATS permission restored (sid, descriptors)", sid, n);
            return n;
        }
    }
    return 0;
}

static const qi_engine_ops eng_ops = {.fence = eng_fence, .unfence = eng_unfence};

static void *eng_init_flags(qi_platform *p, const struct drv_params *prm, uint32_t flags)
{
    uint32_t entries = 0;
    for (unsigned qs = 0; qs <= VTD_IQA_QS_MAX && !entries; qs++)
        if (vtd_queue_entries(qs, prm->dw256) >= prm->queue_len)
            entries = vtd_queue_entries(qs, prm->dw256);
    if (!entries) {
        qi_plat_log(p, QI_LOG_ERR, "qinval: unsupported queue length", prm->queue_len, 0);
        return NULL;
    }
    struct eng_drv *d = sim_dma_alloc(p, sizeof(*d));
    void *queue = sim_dma_alloc(p, (size_t)entries << vtd_desc_shift(prm->dw256));
    volatile uint32_t *status = sim_dma_alloc(p, (entries + 1) * sizeof(uint32_t));
    qi_slot *slots = sim_dma_alloc(p, entries * sizeof(qi_slot));
    if (!d || !queue || !status || !slots)
        return NULL;
    /* A queue_len below the hardware's smallest queue is emulated by the engine's limit on
     * slots in use: a real ring of queue_len entries holds queue_len - 1. */
    qi_engine_config cfg = {.queue = queue,
                            .entries = entries,
                            .dw256 = prm->dw256,
                            .status = status,
                            .slots = slots,
                            .max_outstanding = prm->queue_len < entries ? prm->queue_len - 1 : 0,
                            .ttm = VTD_TTM_LEGACY,
                            .flags = flags | QI_ENGINE_F_FAULT_IRQ,
                            .ops = &eng_ops,
                            .cookie = d,
                            .devices = d->devices,
                            .ndevices = ENG_DEVICES};
    int rc = qi_engine_init(&d->e, p, &cfg);
    if (rc == 0)
        rc = qi_engine_enable(&d->e, p, 0);
    if (rc) {
        qi_plat_log(p, QI_LOG_ERR, "qinval: engine set-up failed", (uint64_t)-rc, 0);
        return NULL;
    }
    qi_plat_write32(p, VTD_REG_FECTL, 0); /* unmask the fault event: it comes to us */
    return d;
}

static void *eng_init(qi_platform *p, const struct drv_params *prm)
{
    return eng_init_flags(p, prm, 0);
}

static void *eng_init_trusting(qi_platform *p, const struct drv_params *prm)
{
    return eng_init_flags(p, prm, QI_ENGINE_F_NO_VALIDATE);
}

static int eng_submit(void *drv, qi_platform *p, const vtd_desc *descs, unsigned n,
                      const struct drv_submit_opts *opts)
{
    struct eng_drv *d = drv;
    qi_submit_opts o = {.deadline_ns = opts ? opts->deadline_ns : 0};
    qi_result r;
    qi_engine_submit(&d->e, p, descs, n, &o, &r);
    switch (r.status) {
    case QI_OK:
        return DRV_OK;
    case QI_ERR_DEADLINE:
        return DRV_ETIMEDOUT;
    case QI_ERR_DEVICE:
        return DRV_ENODEV;
    case QI_ERR_MALFORMED:
        return DRV_EINVAL;
    default:
        return DRV_EIO;
    }
}

static void eng_fault_irq(void *drv, qi_platform *p)
{
    qi_engine_fault_irq(&((struct eng_drv *)drv)->e, p);
}

/* The device table is sized so that it cannot be full; if it ever is, the run says so (the
 * engine would be unable to quarantine the device: an internal error, not a verdict). */
static void eng_hotplug(void *drv, qi_platform *p, uint16_t sid)
{
    if (qi_engine_device_gone(&((struct eng_drv *)drv)->e, p, sid))
        sim_abort(sim_platform_world(p), "qinval: device table full on hot-plug removal");
}

static void eng_reset_prepare(void *drv, qi_platform *p, uint16_t sid)
{
    if (qi_engine_device_reset_begin(&((struct eng_drv *)drv)->e, p, sid))
        sim_abort(sim_platform_world(p), "qinval: device table full at a reset bracket");
}

/* The end of the bracket queues the invalidation that gives the device its ATS permission
 * back. If it does not complete by the default deadline (behind a dead device's time-out,
 * say), the IOMMU may still refuse the device's translated requests (safe, not yet useful):
 * ask again, which queues it again, a few times, then leave it logged. */
static void eng_reset_done(void *drv, qi_platform *p, uint16_t sid)
{
    for (unsigned i = 0; i < RESET_END_TRIES; i++) {
        int rc = qi_engine_device_reset_end(&((struct eng_drv *)drv)->e, p, sid, 0);
        if (rc == 0)
            return;
        sim_note(p, "qinval: reset bracket end incomplete (sid, error)", sid, (uint64_t)-rc);
    }
    qi_plat_log(p, QI_LOG_ERR, "qinval: ATS permission not restored (sid)", sid, 0);
}

static unsigned eng_free_slots(void *drv)
{
    return qi_engine_free_slots(&((struct eng_drv *)drv)->e);
}

static unsigned eng_capacity(void *drv)
{
    return qi_engine_capacity(&((struct eng_drv *)drv)->e);
}

/* The two registered variants differ only in their name and set-up. */
#define ENGINE_DRIVER(var, drv_name, drv_summary, init_fn)                                         \
    const sim_driver_ops var = {                                                                   \
        .name = drv_name,                                                                          \
        .summary = drv_summary,                                                                    \
        .init = init_fn,                                                                           \
        .submit = eng_submit,                                                                      \
        .fault_irq = eng_fault_irq,                                                                \
        .hotplug = eng_hotplug,                                                                    \
        .reset_prepare = eng_reset_prepare,                                                        \
        .reset_done = eng_reset_done,                                                              \
        .free_slots = eng_free_slots,                                                              \
        .capacity = eng_capacity,                                                                  \
        .honours_deadline = true,                                                                  \
        .default_deadline_ns = QI_ENGINE_DEVTLB_TIMEOUT_NS,                                        \
    }

ENGINE_DRIVER(engine_ops, "qinval",
              "the qinval engine: bounded waits, submission tracking, fencing, combining",
              eng_init);
ENGINE_DRIVER(engine_trusting_ops, "qinval-trusting",
              "the qinval engine without validation before queuing (exercises IQE repair)",
              eng_init_trusting);
