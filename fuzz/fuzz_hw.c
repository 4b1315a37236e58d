/*
 * fuzz_hw.c — drives the hardware model (src/hw, hw.h) with arbitrary software: the input is a
 * configuration byte, then a sequence of operations, each an opcode byte and its operands:
 * 32- and 64-bit MMIO writes and reads (at the model's register offsets or any offset), memory
 * pokes through hw_mem_ptr (anywhere, or into the invalidation queue's slots so that fetched
 * descriptors are arbitrary), time advancing (hw_advance, hw_step), injected endpoint faults and
 * DMA. Two endpoints sit behind the IOMMU (one with ATS).
 * Properties, after every operation: nothing crashes or asserts; the clock never goes back; the
 * queue state is coherent (IQH inside the queue and equal to the head hw_qi_view_get gives,
 * head and fetch pointer below the number of entries (the tail is what software wrote), IQH aligned
 * to the descriptor width, no more descriptors in flight than the fetch window nor ATS requests
 * than allowed, GSTS.QIES set exactly when the queue is enabled, FSTS without undefined bits); the
 * event log only grows, and its new events are well formed (index = seq, times in order and not
 * after the clock, a known kind, an endpoint that exists or -1) and render as one line.
 */
#include "fuzz_util.h"

#include "hw/hw.h"

#define MEM_BYTES (256u * 1024)

static const uint32_t regs[] = {
    VTD_REG_VER,    VTD_REG_CAP,     VTD_REG_ECAP,   VTD_REG_GCMD,   VTD_REG_GSTS,
    VTD_REG_RTADDR, VTD_REG_CCMD,    VTD_REG_FSTS,   VTD_REG_FECTL,  VTD_REG_FEDATA,
    VTD_REG_FEADDR, VTD_REG_FEUADDR, VTD_REG_IQH,    VTD_REG_IQT,    VTD_REG_IQA,
    VTD_REG_ICS,    VTD_REG_IECTL,   VTD_REG_IEDATA, VTD_REG_IEADDR, VTD_REG_IEUADDR,
    VTD_REG_IQERCD, VTD_REG_IRTA,
};
#define NREGS (sizeof(regs) / sizeof(regs[0]))

struct in {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct in *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->n; i++, in->n--)
        v |= (uint64_t)*in->p++ << (8 * i);
    return v;
}

/* A register offset: mostly a real register, sometimes any offset in the page. */
static uint32_t take_off(struct in *in)
{
    uint32_t sel = (uint32_t)take(in, 1);
    if (sel < 0xF0)
        return regs[sel % NREGS];
    return (uint32_t)take(in, 2) & (VTD_REG_SPACE - 1);
}

struct state {
    hw_time now;
    size_t nevents;
};

static void check(hw_machine *m, struct state *st)
{
    hw_time now = hw_now(m);
    FUZZ_REQUIRE(now >= st->now, "clock went back from %llu to %llu", (unsigned long long)st->now,
                 (unsigned long long)now);
    st->now = now;

    const hw_config *cfg = hw_get_config(m);
    hw_qi_view v;
    hw_qi_view_get(m, &v);
    uint64_t iqh = hw_mmio_read64(m, VTD_REG_IQH);
    uint32_t gsts = hw_mmio_read32(m, VTD_REG_GSTS);
    uint32_t fsts = hw_mmio_read32(m, VTD_REG_FSTS);
    FUZZ_REQUIRE((iqh & ~VTD_IQ_OFFSET_MASK) == 0, "IQH %#llx", (unsigned long long)iqh);
    FUZZ_REQUIRE(!(gsts & VTD_GSTS_QIES) == !v.enabled, "GSTS %#x with the queue %s", gsts,
                 v.enabled ? "enabled" : "disabled");
    FUZZ_REQUIRE((fsts & ~(VTD_FSTS_RW1C | VTD_FSTS_PPF | VTD_FSTS_FRI_MASK)) == 0, "FSTS %#x",
                 fsts);
    if (v.enabled) {
        unsigned shift = vtd_desc_shift(v.dw256);
        FUZZ_REQUIRE(v.entries >= 128 && (v.entries & (v.entries - 1)) == 0, "%u entries",
                     v.entries);
        /* The tail is what software wrote to IQT: beyond the queue it is an IQE (tail error),
         * and the hardware fetches nothing past the end. */
        FUZZ_REQUIRE(v.head < v.entries && v.fetch_ptr < v.entries, "head %u fetch %u of %u",
                     v.head, v.fetch_ptr, v.entries);
        FUZZ_REQUIRE(iqh >> shift == v.head && (iqh & ((1ull << shift) - 1)) == 0,
                     "IQH %#llx, head %u", (unsigned long long)iqh, v.head);
        FUZZ_REQUIRE(v.in_flight <= cfg->fetch_window, "%u in flight (window %u)", v.in_flight,
                     cfg->fetch_window);
    }
    FUZZ_REQUIRE(v.ats_outstanding <= cfg->devtlb_max_outstanding, "%u ATS outstanding",
                 v.ats_outstanding);

    size_t n;
    const hw_event *ev = hw_events(m, &n);
    FUZZ_REQUIRE(n >= st->nevents, "the log shrank from %zu to %zu", st->nevents, n);
    int neps = hw_ep_count(m);
    for (size_t i = st->nevents; i < n; i++) {
        const hw_event *e = &ev[i];
        FUZZ_REQUIRE(e->seq == i, "event %zu has seq %u", i, e->seq);
        FUZZ_REQUIRE(e->kind < HW_EV_COUNT, "event %zu of kind %u", i, e->kind);
        FUZZ_REQUIRE(i == 0 || e->t >= ev[i - 1].t, "event %zu before its predecessor", i);
        FUZZ_REQUIRE(e->t <= now, "event %zu after the clock", i);
        FUZZ_REQUIRE(e->ep >= -1 && e->ep < neps, "event %zu: endpoint %d", i, e->ep);
        char line[512];
        int len = hw_event_format(m, e, line, sizeof(line));
        FUZZ_REQUIRE(len >= 0 && !strchr(line, '\n'), "event %zu renders badly", i);
    }
    st->nevents = n;
}

static void poke(hw_machine *m, hw_paddr pa, struct in *in, unsigned len)
{
    uint8_t *p = hw_mem_ptr(m, pa, len);
    if (!p)
        return;
    for (unsigned i = 0; i < len; i++)
        p[i] = (uint8_t)take(in, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    hw_config cfg;
    hw_config_default(&cfg);
    cfg.mem_bytes = MEM_BYTES;
    uint8_t knobs = (uint8_t)take(&in, 1);
    cfg.head_policy = knobs & 1 ? HW_HEAD_COMPLETE : HW_HEAD_FETCH;
    cfg.strict_reserved = !(knobs & 2);
    cfg.ite_discard = knobs & 4;
    cfg.disable_policy = knobs & 8 ? HW_DISABLE_DROP : HW_DISABLE_REFUSE_BUSY;
    cfg.itesid = !(knobs & 16);
    cfg.fetch_window = 1u + ((knobs >> 5) & 7) * 4;
    cfg.ite_timeout = 50 * HW_US;

    const char *err = NULL;
    hw_machine *m = hw_create(&cfg, &err);
    FUZZ_REQUIRE(m != NULL, "hw_create: %s", err ? err : "?");
    hw_ep_config ec;
    hw_ep_config_default(&ec, 0x0100);
    ec.ats = true;
    ec.flr_duration = 20 * HW_US;
    FUZZ_REQUIRE(hw_ep_add(m, &ec, &err) == 0, "hw_ep_add: %s", err ? err : "?");
    hw_ep_config_default(&ec, 0x0108);
    FUZZ_REQUIRE(hw_ep_add(m, &ec, &err) == 1, "hw_ep_add: %s", err ? err : "?");
    hw_paddr page = hw_mem_alloc(m, 4 * HW_PAGE_SIZE, 1);
    FUZZ_REQUIRE(page != 0, "no memory");

    struct state st = {0, 0};
    check(m, &st);
    unsigned ops = 0;
    while (in.n && ops++ < 256) {
        uint8_t op = (uint8_t)take(&in, 1);
        switch (op % 10) {
        case 0: {
            uint32_t off = take_off(&in);
            hw_mmio_write32(m, off, (uint32_t)take(&in, 4));
            break;
        }
        case 1: {
            uint32_t off = take_off(&in);
            hw_mmio_write64(m, off, take(&in, 8));
            break;
        }
        case 2: {
            uint32_t off = take_off(&in);
            (void)(op & 0x10 ? hw_mmio_read64(m, off) : hw_mmio_read32(m, off));
            break;
        }
        case 3: /* IQA at the allocated pages, QS 0, either width; then enable or not */
            hw_mmio_write64(m, VTD_REG_IQA, page | (op & 0x10 ? VTD_IQA_DW : 0));
            if (op & 0x20)
                hw_mmio_write32(m, VTD_REG_GCMD, VTD_GCMD_QIE);
            break;
        case 4: { /* a descriptor into a queue slot */
            hw_qi_view v;
            hw_qi_view_get(m, &v);
            uint32_t slot = (uint32_t)take(&in, 1);
            hw_paddr base = v.enabled ? v.base : page;
            poke(m, base + ((hw_paddr)slot << (v.dw256 ? 5 : 4)), &in, v.dw256 ? 32 : 16);
            break;
        }
        case 5: { /* memory anywhere (mostly near the queue) */
            hw_paddr pa = op & 0x10 ? page + take(&in, 2) % (4 * HW_PAGE_SIZE)
                                    : take(&in, 4) % (MEM_BYTES + 64);
            poke(m, pa, &in, 1 + (unsigned)take(&in, 1) % 16);
            break;
        }
        case 6:
            FUZZ_REQUIRE(hw_advance(m, hw_now(m) + take(&in, 2) * 37) == 0, "hw_advance refused");
            break;
        case 7:
            (void)hw_step(m);
            break;
        case 8: {
            int ep = op & 0x10 ? 1 : 0;
            hw_time at = hw_now(m) + take(&in, 2) * 11;
            enum hw_fault f = (enum hw_fault)(take(&in, 1) % (HW_FAULT_LATENCY + 1));
            (void)hw_ep_inject(m, ep, at, f, (uint32_t)take(&in, 1));
            break;
        }
        case 9: {
            int ep = op & 0x10 ? 1 : 0;
            uint32_t value;
            hw_dma_result res;
            (void)hw_ep_dma(m, ep, take(&in, 4), op & 0x20, &value, &res);
            break;
        }
        }
        check(m, &st);
    }
    (void)hw_settle(m, hw_now(m) + 10 * HW_MS);
    check(m, &st);
    hw_destroy(m);
    return 0;
}
