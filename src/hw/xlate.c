/*
 * xlate.c — DMA remapping as far as invalidation needs it (legacy mode): the context cache
 * and the IOTLB, the root/context/second-level walk through simulated memory, and what the
 * context-cache and IOTLB invalidation descriptors drop. Stale entries stay usable until the
 * matching invalidation executes — that is the point of modelling them.
 *
 * Not modelled: scalable-mode (PASID) tables, fault recording registers, first-stage tables.
 */
#include <string.h>

#include "hw/hw_internal.h"

/* Both caches are filled round-robin from slot 0 and *_used only grows, so slots [*_used, end)
 * were never written and are zero: zeroing the used slots empties each cache as zeroing all of
 * it would. The fill positions and counts stay (they never did reset). */
void xl_flush_all(hw_machine *m)
{
    memset(m->ctx, 0, m->ctx_used * sizeof(m->ctx[0]));
    memset(m->iotlb, 0, m->iotlb_used * sizeof(m->iotlb[0]));
}

/* ---- context cache ---- */

static bool sid_matches(uint16_t entry_sid, uint16_t sid, unsigned fm)
{
    static const uint16_t fm_mask[4] = {0xFFFF, 0xFFFB, 0xFFF9, 0xFFF8};
    return (entry_sid & fm_mask[fm & 3]) == (sid & fm_mask[fm & 3]);
}

unsigned xl_cc_invalidate(hw_machine *m, const vtd_fields *f)
{
    if (!m->ctx_used)
        return 0; /* nothing was ever cached */
    unsigned n = 0;
    for (unsigned i = 0; i < m->ctx_used; i++) {
        struct ctx_cache_ent *c = &m->ctx[i];
        if (!c->valid)
            continue;
        bool hit = f->u.cc.g == VTD_CC_G_GLOBAL ||
                   (f->u.cc.g == VTD_CC_G_DOMAIN && c->did == f->u.cc.did) ||
                   (f->u.cc.g == VTD_CC_G_DEVICE && sid_matches(c->sid, f->u.cc.sid, f->u.cc.fm));
        if (hit) {
            c->valid = false;
            n++;
        }
    }
    return n;
}

static struct ctx_cache_ent *ctx_lookup(hw_machine *m, uint16_t sid)
{
    for (unsigned i = 0; i < m->ctx_used; i++)
        if (m->ctx[i].valid && m->ctx[i].sid == sid)
            return &m->ctx[i];
    hw_paddr root = m->rtaddr_latched & VTD_RTADDR_ADDR_MASK;
    uint64_t re = hw_mem_rd64(m, root + (hw_paddr)(sid >> 8) * 16);
    if (!(re & VTD_ROOT_P))
        return NULL;
    hw_paddr ce_addr = (re & VTD_CTX_ADDR_MASK) + (hw_paddr)(sid & 0xFF) * 16;
    uint64_t lo = hw_mem_rd64(m, ce_addr), hi = hw_mem_rd64(m, ce_addr + 8);
    if (!(lo & VTD_CTX_P))
        return NULL; /* not-present entries are never cached (CAP.CM = 0) */
    struct ctx_cache_ent *c = &m->ctx[m->ctx_next];
    m->ctx_next = (m->ctx_next + 1) % HW_CTX_CACHE;
    if (m->ctx_used < HW_CTX_CACHE)
        m->ctx_used++;
    c->valid = true;
    c->sid = sid;
    c->did = (uint16_t)(hi >> VTD_CTX_DID_SHIFT);
    c->tt = (uint8_t)((lo & VTD_CTX_TT_MASK) >> VTD_CTX_TT_SHIFT);
    c->aw = (uint8_t)(hi & VTD_CTX_AW_MASK);
    c->pgd = lo & VTD_CTX_ADDR_MASK;
    return c;
}

/* ---- IOTLB ---- */

unsigned xl_iotlb_invalidate(hw_machine *m, const vtd_fields *f)
{
    if (!m->iotlb_used)
        return 0; /* nothing was ever cached */
    unsigned g, am = 0;
    uint16_t did;
    uint64_t addr = 0;
    if (f->type == VTD_DESC_IOTLB) {
        g = f->u.iotlb.g;
        did = f->u.iotlb.did;
        am = f->u.iotlb.am;
        addr = f->u.iotlb.addr;
    } else { /* PASID-based: PASID-selective acts per domain here (no PASID tagging) */
        g = f->u.piotlb.g == VTD_PIOTLB_G_PAGE ? VTD_IOTLB_G_PAGE : VTD_IOTLB_G_DOMAIN;
        did = f->u.piotlb.did;
        am = f->u.piotlb.am;
        addr = f->u.piotlb.addr;
    }
    uint64_t pfn_lo = (addr >> HW_PAGE_SHIFT) & ~((1ull << am) - 1);
    uint64_t pfn_hi = pfn_lo + (1ull << am);
    unsigned n = 0;
    for (unsigned i = 0; i < m->iotlb_used; i++) {
        struct iotlb_ent *t = &m->iotlb[i];
        if (!t->valid)
            continue;
        bool hit = g == VTD_IOTLB_G_GLOBAL || (g == VTD_IOTLB_G_DOMAIN && t->did == did) ||
                   (g == VTD_IOTLB_G_PAGE && t->did == did && t->pfn >= pfn_lo && t->pfn < pfn_hi);
        if (hit) {
            t->valid = false;
            n++;
        }
    }
    return n;
}

static struct iotlb_ent *iotlb_lookup(hw_machine *m, uint16_t did, uint64_t pfn)
{
    for (unsigned i = 0; i < m->iotlb_used; i++)
        if (m->iotlb[i].valid && m->iotlb[i].did == did && m->iotlb[i].pfn == pfn)
            return &m->iotlb[i];
    return NULL;
}

/* Second-level walk: aw 1 = 3 levels, 2 = 4 levels. */
static bool walk(hw_machine *m, hw_paddr pgd, unsigned aw, uint64_t iova, uint64_t *pa_pfn, bool *r,
                 bool *w)
{
    if (aw < 1 || aw > 2)
        return false;
    unsigned levels = aw + 2;
    hw_paddr table = pgd;
    for (unsigned level = levels; level >= 1; level--) {
        unsigned shift = HW_PAGE_SHIFT + 9 * (level - 1);
        uint64_t pte = hw_mem_rd64(m, table + ((iova >> shift) & 0x1FF) * 8);
        if (!(pte & (VTD_SL_R | VTD_SL_W)))
            return false;
        bool leaf = level == 1 || ((pte & VTD_SL_PS) && level <= 3);
        if (leaf) {
            uint64_t span = 1ull << shift;
            hw_paddr base = (pte & VTD_SL_ADDR_MASK) & ~(span - 1);
            *pa_pfn = (base | (iova & (span - 1))) >> HW_PAGE_SHIFT;
            *r = pte & VTD_SL_R;
            *w = pte & VTD_SL_W;
            return true;
        }
        table = pte & VTD_SL_ADDR_MASK;
    }
    return false;
}

static bool translate_page(hw_machine *m, const struct ctx_cache_ent *c, uint64_t pfn,
                           uint64_t *pa_pfn, bool *r, bool *w)
{
    struct iotlb_ent *t = iotlb_lookup(m, c->did, pfn);
    if (!t) {
        uint64_t p;
        bool rr, ww;
        if (!walk(m, c->pgd, c->aw, pfn << HW_PAGE_SHIFT, &p, &rr, &ww))
            return false;
        t = &m->iotlb[m->iotlb_next];
        m->iotlb_next = (m->iotlb_next + 1) % HW_IOTLB;
        if (m->iotlb_used < HW_IOTLB)
            m->iotlb_used++;
        *t = (struct iotlb_ent){
            .valid = true, .r = rr, .w = ww, .did = c->did, .pfn = pfn, .pa_pfn = p};
    }
    *pa_pfn = t->pa_pfn;
    *r = t->r;
    *w = t->w;
    return true;
}

enum hw_dma_status xl_translate(hw_machine *m, uint16_t sid, uint64_t iova, enum xl_req req,
                                bool write, hw_paddr *pa, bool *r, bool *w)
{
    *r = *w = true;
    if (!(m->r.gsts & VTD_GSTS_TES)) {
        *pa = iova; /* translation disabled: addresses pass through */
        return HW_DMA_OK;
    }
    struct ctx_cache_ent *c = ctx_lookup(m, sid);
    if (!c)
        return HW_DMA_FAULT;
    if (req == XL_TRANSLATED) {
        *pa = iova; /* already translated by the device's ATC */
        return c->tt == VTD_TT_DEVTLB ? HW_DMA_OK : HW_DMA_BLOCKED;
    }
    if (req == XL_TRANSLATION_REQ && c->tt != VTD_TT_DEVTLB)
        return HW_DMA_FAULT;
    if (c->tt == VTD_TT_PASSTHROUGH) {
        *pa = iova;
        return HW_DMA_OK;
    }
    uint64_t pa_pfn;
    if (!translate_page(m, c, iova >> HW_PAGE_SHIFT, &pa_pfn, r, w))
        return HW_DMA_FAULT;
    if (req == XL_UNTRANSLATED && (write ? !*w : !*r))
        return HW_DMA_FAULT;
    *pa = (pa_pfn << HW_PAGE_SHIFT) | (iova & (HW_PAGE_SIZE - 1));
    return HW_DMA_OK;
}
