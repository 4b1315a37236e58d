/*
 * endpoint.c — PCIe functions behind the IOMMU: requester id, ATS with a device TLB (ATC),
 * answers to ATS invalidate requests after a latency, config-space presence, DMA, and the
 * faults a fault plan injects (mute, dropped requests, wrong ITag, link down without hot-plug,
 * surprise removal, FLR). An answer in flight is lost when the endpoint's epoch changes (link
 * down, FLR, mute) before it is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_internal.h"

void hw_ep_config_default(hw_ep_config *c, uint16_t sid)
{
    memset(c, 0, sizeof(*c));
    c->sid = sid;
    c->vendor_id = 0x8086;
    c->device_id = 0x0b25;
    c->ats = true;
    c->latency = 2 * HW_US;
    c->atc_entries = 64;
    c->flr_duration = 100 * HW_MS;
    c->answers_during_flr = false;
    c->atc_survives_link_down = true;
}

/* ATC arrays a destroyed machine leaves to the next one created on the same thread, by
 * endpoint slot, so that an execution of the checker does not allocate them anew. Invariant of
 * a spare: all `cap` entries are zero, as calloc gives; ep_free_all restores that by zeroing
 * the slots that were filled, [0, atc_used). */
static _Thread_local struct {
    struct atc_ent *atc;
    unsigned cap;
} spare_atc[HW_MAX_EP];

/* With the memory audit on (hw.h, hw_mem_set_audit), a spare ATC is checked to be all zero. */
static void atc_audit(const struct atc_ent *a, unsigned cap)
{
    const unsigned char *b = (const unsigned char *)a;
    for (size_t i = 0; i < cap * sizeof(*a); i++)
        if (b[i]) {
            fprintf(stderr, "qinval: internal error: reused ATC byte %zu is %u\n", i, b[i]);
            abort();
        }
}

/* An all-zero ATC of n entries for endpoint slot i. */
static struct atc_ent *atc_new(int i, unsigned n)
{
    struct atc_ent *a = spare_atc[i].atc;
    if (a && spare_atc[i].cap >= n) {
        if (hw_mem_audit_on())
            atc_audit(a, spare_atc[i].cap);
        spare_atc[i].atc = NULL;
        spare_atc[i].cap = 0;
        return a;
    }
    return calloc(n, sizeof(*a));
}

void hw_ep_thread_done(void)
{
    for (unsigned i = 0; i < HW_MAX_EP; i++) {
        free(spare_atc[i].atc);
        spare_atc[i].atc = NULL;
        spare_atc[i].cap = 0;
    }
}

int hw_ep_add(hw_machine *m, const hw_ep_config *c, const char **err)
{
    const char *why = NULL;
    if (m->nep >= HW_MAX_EP)
        why = "too many endpoints (64 at most)";
    else if (hw_ep_find(m, c->sid) >= 0)
        why = "an endpoint with this source id exists already";
    else if (c->atc_entries < 1 || c->atc_entries > HW_MAX_ATC)
        why = "atc_entries must be 1..1024";
    else if (c->vendor_id == 0xFFFF)
        why = "vendor id 0xffff is what an absent device reads";
    if (why) {
        if (err)
            *err = why;
        return -1;
    }
    struct hw_ep *e = &m->ep[m->nep];
    memset(e, 0, sizeof(*e));
    e->cfg = *c;
    e->latency = c->latency;
    e->link = HW_LINK_UP;
    e->atc = atc_new(m->nep, c->atc_entries);
    if (!e->atc) {
        if (err)
            *err = "out of memory";
        return -1;
    }
    return m->nep++;
}

void ep_free_all(hw_machine *m)
{
    for (int i = 0; i < m->nep; i++) {
        struct hw_ep *e = &m->ep[i];
        if (spare_atc[i].cap > e->cfg.atc_entries) { /* keep the larger */
            free(e->atc);
            continue;
        }
        memset(e->atc, 0, e->atc_used * sizeof(*e->atc));
        free(spare_atc[i].atc);
        spare_atc[i].atc = e->atc;
        spare_atc[i].cap = e->cfg.atc_entries;
    }
}

int hw_ep_find(const hw_machine *m, uint16_t sid)
{
    for (int i = 0; i < m->nep; i++)
        if (m->ep[i].cfg.sid == sid)
            return i;
    return -1;
}

int hw_ep_count(const hw_machine *m)
{
    return m->nep;
}

static bool ep_ok(const hw_machine *m, int ep)
{
    return ep >= 0 && ep < m->nep;
}

const hw_ep_config *hw_ep_get_config(const hw_machine *m, int ep)
{
    return ep_ok(m, ep) ? &m->ep[ep].cfg : NULL;
}

enum hw_link hw_ep_link(const hw_machine *m, int ep)
{
    return ep_ok(m, ep) ? m->ep[ep].link : HW_LINK_REMOVED;
}

bool hw_ep_in_flr(const hw_machine *m, int ep)
{
    return ep_ok(m, ep) && m->ep[ep].in_flr;
}

bool hw_ep_muted(const hw_machine *m, int ep)
{
    return ep_ok(m, ep) && m->ep[ep].muted;
}

static bool can_talk(const struct hw_ep *e)
{
    return e->link == HW_LINK_UP && !e->in_flr;
}

uint32_t hw_ep_config_read32(hw_machine *m, int ep, unsigned off)
{
    if (!ep_ok(m, ep) || !can_talk(&m->ep[ep]))
        return 0xFFFFFFFFu; /* master abort / completion timeout: all ones */
    const hw_ep_config *c = &m->ep[ep].cfg;
    return off == 0 ? (uint32_t)c->device_id << 16 | c->vendor_id : 0;
}

/* ---- ATC ---- */

static void atc_clear(struct hw_ep *e)
{
    memset(e->atc, 0, e->atc_used * sizeof(*e->atc)); /* the rest is zero already */
}

static unsigned atc_drop_range(struct hw_ep *e, uint64_t start, uint64_t len)
{
    unsigned n = 0;
    for (unsigned i = 0; i < e->atc_used; i++) {
        struct atc_ent *a = &e->atc[i];
        uint64_t va = a->pfn << HW_PAGE_SHIFT;
        if (a->valid && (len == 0 || (va >= start && va - start < len))) {
            a->valid = false;
            n++;
        }
    }
    return n;
}

static struct atc_ent *atc_find(const struct hw_ep *e, uint64_t pfn)
{
    for (unsigned i = 0; i < e->atc_used; i++)
        if (e->atc[i].valid && e->atc[i].pfn == pfn)
            return &e->atc[i];
    return NULL;
}

unsigned hw_ep_atc_count(const hw_machine *m, int ep)
{
    if (!ep_ok(m, ep))
        return 0;
    unsigned n = 0;
    for (unsigned i = 0; i < m->ep[ep].atc_used; i++)
        n += m->ep[ep].atc[i].valid;
    return n;
}

bool hw_ep_atc_lookup(const hw_machine *m, int ep, uint64_t iova, hw_paddr *pa)
{
    if (!ep_ok(m, ep))
        return false;
    const struct atc_ent *a = atc_find(&m->ep[ep], iova >> HW_PAGE_SHIFT);
    if (a && pa)
        *pa = (a->pa_pfn << HW_PAGE_SHIFT) | (iova & (HW_PAGE_SIZE - 1));
    return a != NULL;
}

/* ---- invalidate requests and answers ---- */

static void lost(hw_machine *m, int ep, int32_t slot, uint8_t itag, uint64_t start, uint64_t len,
                 unsigned why)
{
    hw_event *e = hw_log_add(m, HW_EV_ATS_LOST, ep, slot);
    e->a = start;
    e->b = len;
    e->c = itag;
    e->flags = why;
}

void ep_receive_inval(hw_machine *m, uint16_t sid, uint8_t itag, uint64_t start, uint64_t len,
                      int32_t slot)
{
    int ep = hw_ep_find(m, sid);
    if (ep < 0) {
        lost(m, -1, slot, itag, start, len, HW_LOST_NO_ENDPOINT);
        return;
    }
    struct hw_ep *e = &m->ep[ep];
    unsigned why = 0;
    if (e->link != HW_LINK_UP)
        why = HW_LOST_LINK;
    else if (e->in_flr && !e->cfg.answers_during_flr)
        why = HW_LOST_FLR;
    else if (!e->cfg.ats)
        why = HW_LOST_NO_ATS;
    else if (e->muted)
        why = HW_LOST_MUTE;
    else if (e->drop_n > 0) {
        e->drop_n--;
        why = HW_LOST_DROPPED;
    }
    if (why) {
        lost(m, ep, slot, itag, start, len, why);
        return;
    }
    struct hw_act a = {.t = time_add(m->now, e->latency),
                       .kind = ACT_EP_ANSWER,
                       .ep = (int16_t)ep,
                       .a = itag,
                       .gen = e->epoch,
                       .slot = slot,
                       .b = start,
                       .c = len};
    hw_schedule(m, &a);
}

void ep_answer(hw_machine *m, const struct hw_act *a)
{
    struct hw_ep *e = &m->ep[a->ep];
    uint8_t itag = (uint8_t)a->a;
    if (a->gen != e->epoch || !can_talk(e) || e->muted) {
        unsigned why = e->link != HW_LINK_UP ? HW_LOST_LINK
                       : e->in_flr           ? HW_LOST_FLR
                                             : HW_LOST_MUTE;
        lost(m, a->ep, a->slot, itag, a->b, a->c, why);
        return;
    }
    unsigned dropped = atc_drop_range(e, a->b, a->c);
    uint8_t sent = itag;
    if (e->wrong_itag_n > 0) {
        e->wrong_itag_n--;
        sent = itag ^ 0x10; /* a tag the IOMMU most likely has not allocated */
    }
    hw_event *ev = hw_log_add(m, HW_EV_ATS_ANSWER, a->ep, a->slot);
    ev->a = a->b;
    ev->b = a->c;
    ev->c = sent;
    ev->flags = dropped;
    qi_ats_completion(m, a->ep, e->cfg.sid, 1u << sent);
}

/* ---- faults ---- */

int hw_ep_inject(hw_machine *m, int ep, hw_time at, enum hw_fault fault, uint32_t arg)
{
    if (!ep_ok(m, ep) || at < m->now || (unsigned)fault > HW_FAULT_LATENCY)
        return -1;
    struct hw_act a = {.t = at, .kind = ACT_FAULT, .ep = (int16_t)ep, .a = fault, .b = arg};
    hw_schedule(m, &a);
    return 0;
}

static void set_link(hw_machine *m, int ep, enum hw_link link)
{
    struct hw_ep *e = &m->ep[ep];
    if (e->link == link)
        return;
    e->link = link;
    if (link != HW_LINK_UP) {
        e->epoch++;
        if (!e->cfg.atc_survives_link_down)
            atc_clear(e);
    }
    hw_event *ev = hw_log_add(m, HW_EV_LINK, ep, -1);
    ev->c = link;
}

static void start_flr(hw_machine *m, int ep)
{
    struct hw_ep *e = &m->ep[ep];
    e->in_flr = true;
    e->epoch++;
    atc_clear(e);
    hw_log_add(m, HW_EV_FLR_START, ep, -1);
    struct hw_act a = {.t = time_add(m->now, e->cfg.flr_duration),
                       .kind = ACT_FLR_DONE,
                       .ep = (int16_t)ep,
                       .gen = e->epoch};
    hw_schedule(m, &a);
}

void ep_flr_done(hw_machine *m, const struct hw_act *a)
{
    struct hw_ep *e = &m->ep[a->ep];
    if (!e->in_flr || a->gen != e->epoch)
        return; /* superseded by a later FLR or a link change */
    e->in_flr = false;
    hw_log_add(m, HW_EV_FLR_DONE, a->ep, -1);
}

void ep_fault(hw_machine *m, const struct hw_act *a)
{
    int ep = a->ep;
    struct hw_ep *e = &m->ep[ep];
    hw_event *ev = hw_log_add(m, HW_EV_FAULT_INJECT, ep, -1);
    ev->c = a->a;
    ev->a = a->b;
    switch ((enum hw_fault)a->a) {
    case HW_FAULT_MUTE:
        e->muted = true;
        e->epoch++;
        break;
    case HW_FAULT_UNMUTE:
        e->muted = false;
        break;
    case HW_FAULT_DROP:
        e->drop_n = (uint32_t)a->b;
        break;
    case HW_FAULT_LINK_DOWN:
        set_link(m, ep, HW_LINK_DOWN);
        break;
    case HW_FAULT_LINK_UP:
        set_link(m, ep, HW_LINK_UP);
        break;
    case HW_FAULT_SURPRISE_REMOVAL:
        set_link(m, ep, HW_LINK_REMOVED);
        hw_log_add(m, HW_EV_HOTPLUG, ep, -1);
        hw_send_irq(m, HW_IRQ_HOTPLUG, ep);
        break;
    case HW_FAULT_FLR:
        start_flr(m, ep);
        break;
    case HW_FAULT_WRONG_ITAG:
        e->wrong_itag_n = (uint32_t)a->b;
        break;
    case HW_FAULT_LATENCY:
        e->latency = time_mul(a->b, HW_US);
        break;
    }
}

/* ---- DMA ---- */

int hw_ep_schedule_dma(hw_machine *m, int ep, hw_time at, uint64_t iova, bool write)
{
    if (!ep_ok(m, ep) || at < m->now)
        return -1;
    struct hw_act a = {
        .t = at, .kind = ACT_DMA, .ep = (int16_t)ep, .a = write, .b = iova, .slot = -1};
    hw_schedule(m, &a);
    return 0;
}

static void log_dma(hw_machine *m, int ep, uint64_t iova, bool write, const hw_dma_result *r)
{
    hw_event *ev = hw_log_add(m, HW_EV_DMA, ep, -1);
    ev->a = iova;
    ev->b = r->pa;
    ev->c = r->owner;
    ev->c2 = r->status;
    ev->flags = (write ? HW_EVF_WRITE : 0) | (r->atc_hit ? HW_EVF_ATC : 0) |
                (r->status == HW_DMA_OK && r->owner == HW_OWNER_FREE ? HW_EVF_FREED : 0);
}

static void log_translate(hw_machine *m, int ep, uint64_t iova, hw_paddr pa, enum hw_dma_status st)
{
    hw_event *ev = hw_log_add(m, HW_EV_TRANSLATE, ep, -1);
    ev->a = iova;
    ev->b = pa;
    ev->c = st;
}

/* ATS translation request: the IOMMU answers with the page and its permissions. */
static enum hw_dma_status ats_fill(hw_machine *m, int ep, uint64_t iova, struct atc_ent **out)
{
    struct hw_ep *e = &m->ep[ep];
    hw_paddr pa = 0;
    bool r, w;
    enum hw_dma_status st = xl_translate(m, e->cfg.sid, iova & ~(uint64_t)(HW_PAGE_SIZE - 1),
                                         XL_TRANSLATION_REQ, false, &pa, &r, &w);
    log_translate(m, ep, iova, pa, st);
    if (st != HW_DMA_OK)
        return st;
    struct atc_ent *a = atc_find(e, iova >> HW_PAGE_SHIFT);
    if (!a) {
        a = &e->atc[e->atc_next];
        if (e->atc_next >= e->atc_used)
            e->atc_used = e->atc_next + 1;
        e->atc_next = (e->atc_next + 1) % e->cfg.atc_entries;
    }
    *a = (struct atc_ent){.valid = true,
                          .r = r,
                          .w = w,
                          .serial = ++m->atc_serial,
                          .pfn = iova >> HW_PAGE_SHIFT,
                          .pa_pfn = pa >> HW_PAGE_SHIFT};
    hw_event *ev = hw_log_add(m, HW_EV_ATC_FILL, ep, -1);
    ev->a = iova & ~(uint64_t)(HW_PAGE_SIZE - 1);
    ev->b = pa;
    ev->c = a->serial;
    *out = a;
    return HW_DMA_OK;
}

enum hw_dma_status hw_ep_translate(hw_machine *m, int ep, uint64_t iova, hw_dma_result *res)
{
    hw_dma_result tmp;
    hw_dma_result *r = res ? res : &tmp;
    memset(r, 0, sizeof(*r));
    if (!ep_ok(m, ep))
        return r->status = HW_DMA_NO_LINK;
    struct hw_ep *e = &m->ep[ep];
    struct atc_ent *a = NULL;
    if (!can_talk(e) || !e->cfg.ats)
        r->status = !can_talk(e) ? HW_DMA_NO_LINK : HW_DMA_FAULT;
    else
        r->status = ats_fill(m, ep, iova, &a);
    if (a)
        r->pa = (a->pa_pfn << HW_PAGE_SHIFT) | (iova & (HW_PAGE_SIZE - 1));
    return r->status;
}

/* Resolve the physical address of a DMA: through the ATC (filling it) or the IOMMU. */
static enum hw_dma_status dma_resolve(hw_machine *m, int ep, uint64_t iova, bool write,
                                      hw_dma_result *r)
{
    struct hw_ep *e = &m->ep[ep];
    bool rr, ww;
    if (!e->cfg.ats || !(m->r.gsts & VTD_GSTS_TES))
        return xl_translate(m, e->cfg.sid, iova, XL_UNTRANSLATED, write, &r->pa, &rr, &ww);
    struct atc_ent *a = atc_find(e, iova >> HW_PAGE_SHIFT);
    r->atc_hit = a && (write ? a->w : a->r);
    if (!r->atc_hit) {
        enum hw_dma_status st = ats_fill(m, ep, iova, &a);
        if (st != HW_DMA_OK)
            return st;
        if (write ? !a->w : !a->r)
            return HW_DMA_FAULT;
    }
    hw_paddr pa = (a->pa_pfn << HW_PAGE_SHIFT) | (iova & (HW_PAGE_SIZE - 1));
    enum hw_dma_status st = xl_translate(m, e->cfg.sid, pa, XL_TRANSLATED, write, &r->pa, &rr, &ww);
    r->pa = pa;
    return st;
}

enum hw_dma_status hw_ep_dma(hw_machine *m, int ep, uint64_t iova, bool write, uint32_t *value,
                             hw_dma_result *res)
{
    hw_dma_result tmp;
    hw_dma_result *r = res ? res : &tmp;
    memset(r, 0, sizeof(*r));
    if (!ep_ok(m, ep))
        return r->status = HW_DMA_NO_LINK;
    if (!can_talk(&m->ep[ep]))
        r->status = HW_DMA_NO_LINK;
    else
        r->status = dma_resolve(m, ep, iova, write, r);
    if (r->status == HW_DMA_OK && !hw_mem_in_range(m, r->pa, 4))
        r->status = HW_DMA_BAD_ADDR;
    if (r->status == HW_DMA_OK) {
        r->owner = hw_mem_owner(m, r->pa);
        if (write && value) {
            hw_mem_touch(m, r->pa, 4);
            memcpy(m->ram + r->pa, value, 4);
        } else if (value)
            memcpy(value, m->ram + r->pa, 4);
        if (value && m->mem_obs)
            m->mem_obs(m->mem_obs_ctx, r->pa, 4, write);
    }
    log_dma(m, ep, iova, write, r);
    return r->status;
}
