/*
 * engine_work.c — the workload of `qinval engine-run` (engine_work.h): descriptors per call,
 * the engine configuration, a submitter's loop and the comparison of results.
 */
#include "cli/engine_work.h"

#include <stddef.h>

static const char *const call_names[EW_CALLS] = {"iotlb-global",  "iotlb-domain", "iotlb-page",
                                                 "context-cache", "devtlb",       "mixed"};

void ew_plan_init(ew_plan *pl, unsigned threads, unsigned rounds)
{
    pl->threads = threads;
    pl->rounds = rounds;
    pl->bad_thread = 0;
    pl->bad_round = rounds / 2;
}

const char *ew_call_name(unsigned k)
{
    return k < EW_CALLS ? call_names[k] : "?";
}

bool ew_is_bad(const ew_plan *pl, unsigned t, unsigned r, unsigned k)
{
    return t == pl->bad_thread && r == pl->bad_round && k == EW_BAD_CALL;
}

/* An IOTLB invalidation with bit 40 of its first quadword set: reserved in every version. */
static vtd_desc malformed(void)
{
    vtd_desc d = vtd_make_iotlb_domain(EW_DID);
    d.qw[0] |= 1ull << 40;
    return d;
}

unsigned ew_descs(const ew_plan *pl, unsigned t, unsigned r, unsigned k, vtd_desc *out)
{
    uint64_t iova = 0x100000ull + (uint64_t)((t * 131u + r) % 256u) * 0x2000ull;
    switch (k) {
    case 0:
        out[0] = vtd_make_iotlb_global();
        return 1;
    case 1:
        out[0] = vtd_make_iotlb_domain(EW_DID);
        return 1;
    case 2:
        out[0] = vtd_make_iotlb_page(EW_DID, iova, 0, false);
        out[1] = vtd_make_iotlb_page(EW_DID, iova, 1, false);
        return 2;
    case 3:
        out[0] = vtd_make_cc_device(EW_DID, EW_SID, 0);
        out[1] = vtd_make_cc_global();
        return 2;
    case 4:
        out[0] = vtd_make_devtlb(EW_SID, iova, 1);
        out[1] = vtd_make_devtlb(EW_SID, iova, 2);
        return 2;
    default:
        out[0] = vtd_make_iotlb_page(EW_DID, iova, 0, false);
        out[1] = ew_is_bad(pl, t, r, k) ? malformed() : vtd_make_devtlb(EW_SID, iova, 1);
        out[2] = vtd_make_cc_device(EW_DID, EW_SID, 0);
        return 3;
    }
}

void ew_engine_config(qi_engine_config *cfg, void *queue, volatile uint32_t *status, qi_slot *slots)
{
    *cfg = (qi_engine_config){.queue = queue,
                              .entries = EW_ENTRIES,
                              .status = status,
                              .slots = slots,
                              .ttm = VTD_TTM_LEGACY,
                              .flags = QI_ENGINE_F_NO_VALIDATE,
                              .iommu_timeout_ns = EW_TIMEOUT_NS};
}

bool ew_thread(const ew_plan *pl, unsigned t, ew_submit_fn submit, void *ctx,
               bool (*stop)(void *ctx), qi_result *res)
{
    vtd_desc d[EW_MAX_DESCS];
    for (unsigned r = 0; r < pl->rounds; r++) {
        for (unsigned k = 0; k < EW_CALLS; k++) {
            if (stop && stop(ctx))
                return false;
            unsigned n = ew_descs(pl, t, r, k, d);
            submit(ctx, d, n, &res[ew_at(pl, t, r, k)]);
        }
    }
    return true;
}

bool ew_expected(const ew_plan *pl, unsigned t, unsigned r, unsigned k, const qi_result *x)
{
    if (!ew_is_bad(pl, t, r, k))
        return x->status == QI_OK;
    return x->status == QI_ERR_MALFORMED && x->index == EW_BAD_INDEX && x->others_done;
}

bool ew_same(const qi_result *a, const qi_result *b)
{
    if (a->status != b->status || a->retries != b->retries)
        return false;
    switch (a->status) {
    case QI_ERR_DEADLINE:
        return a->pending == b->pending;
    case QI_ERR_DEVICE:
        return a->sid == b->sid && a->fenced == b->fenced && a->others_done == b->others_done;
    case QI_ERR_MALFORMED:
        return a->index == b->index && a->others_done == b->others_done;
    default:
        return true;
    }
}

const char *ew_status_name(enum qi_status s)
{
    switch (s) {
    case QI_OK:
        return "QI_OK";
    case QI_ERR_DEADLINE:
        return "QI_ERR_DEADLINE";
    case QI_ERR_DEVICE:
        return "QI_ERR_DEVICE";
    case QI_ERR_MALFORMED:
        return "QI_ERR_MALFORMED";
    case QI_ERR_INVALID:
        return "QI_ERR_INVALID";
    }
    return "?";
}
