/*
 * gen.c — the case generator of `qinval fidelity`: from (seed, index) a deterministic sequence
 * of register accesses, descriptors and observation points on the queued invalidation
 * interface, valid and malformed, with the behaviours it exercises recorded as tags. The
 * executors (run_model.c, run_qemu.c) run what this writes; fidelity.h has the step format.
 */
#include <stdio.h>
#include <string.h>

#include "fidelity/fidelity.h"

typedef struct gen {
    uint64_t s;
    fid_case *c;
    bool dw;          /* 256-bit descriptors in effect (DW=1 honoured) */
    bool dw_bit;      /* IQA.DW as written */
    uint32_t entries; /* queue length */
    uint32_t tail;    /* next slot software writes */
    unsigned batch;   /* status data counter */
} gen;

static const uint16_t sids[] = {0x0008, 0x0010, 0x0100};

static uint64_t rnd(gen *g)
{
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned below(gen *g, unsigned n)
{
    return (unsigned)(rnd(g) % n);
}

static bool chance(gen *g, unsigned pct)
{
    return below(g, 100) < pct;
}

static void tag(gen *g, unsigned t)
{
    g->c->tags |= 1ull << t;
}

static bool room(const gen *g, unsigned n)
{
    return g->c->n + n + 1 < FID_MAX_STEPS; /* one kept for the final observation */
}

static fid_step *add(gen *g, unsigned op)
{
    fid_step *s = &g->c->steps[g->c->n++];
    memset(s, 0, sizeof(*s));
    s->op = (uint8_t)op;
    return s;
}

static void wr(gen *g, bool wide, uint32_t off, uint64_t val)
{
    fid_step *s = add(g, wide ? FID_OP_W64 : FID_OP_W32);
    s->off = off;
    s->val = val;
}

static void obs(gen *g)
{
    add(g, FID_OP_OBS);
}

/* ---- descriptors ---- */

static uint64_t type_bits(unsigned type)
{
    return (uint64_t)(type & 0xF) | (uint64_t)((type >> 4) & 7) << 9;
}

static uint64_t status_addr(gen *g)
{
    uint64_t a = FID_STATUS_BASE + 4 * below(g, FID_MAX_STATUS);
    switch (below(g, 12)) {
    case 0:
        tag(g, FID_T_WAIT_UNALIGNED);
        return a + 1 + below(g, 3);
    case 1:
        tag(g, FID_T_WAIT_ABOVE_RAM);
        return 0x100000000ull + a;
    case 2:
        tag(g, FID_T_WAIT_ABOVE_HAW);
        return (1ull << 50) | a;
    }
    return a;
}

static vtd_desc make_wait(gen *g, bool sw, bool intr, bool fn)
{
    vtd_desc d = {{0}};
    d.qw[0] = type_bits(5) | (intr ? 1u << 4 : 0) | (sw ? 1u << 5 : 0) | (fn ? 1u << 6 : 0) |
              (uint64_t)(++g->batch) << 32;
    d.qw[1] = sw ? status_addr(g) : (uint64_t)below(g, 2) * (FID_STATUS_BASE + 0x40);
    if (sw && intr)
        tag(g, FID_T_WAIT_SW_IF);
    else if (sw)
        tag(g, FID_T_WAIT_SW);
    else if (intr)
        tag(g, FID_T_WAIT_IF);
    else
        tag(g, FID_T_WAIT_NONE);
    if (fn)
        tag(g, FID_T_WAIT_FN);
    return d;
}

static vtd_desc random_wait(gen *g)
{
    unsigned r = below(g, 16);
    /* mostly status writes; the rarer combinations still appear in every thousand cases */
    bool sw = r < 11 || r == 14, intr = r >= 11 && r != 13, fn = chance(g, 30);
    return make_wait(g, sw, intr, fn);
}

static vtd_desc make_cc(gen *g)
{
    vtd_desc d = {{0}};
    unsigned gran = 1 + below(g, 3);
    d.qw[0] = type_bits(1) | gran << 4 | (uint64_t)below(g, 256) << 16;
    if (gran == 3)
        d.qw[0] |= (uint64_t)sids[below(g, 3)] << 32 | (uint64_t)below(g, 4) << 48;
    tag(g, gran == 1 ? FID_T_CC_GLOBAL : gran == 2 ? FID_T_CC_DOMAIN : FID_T_CC_DEVICE);
    return d;
}

static vtd_desc make_iotlb(gen *g)
{
    vtd_desc d = {{0}};
    unsigned gran = 1 + below(g, 3);
    d.qw[0] = type_bits(2) | gran << 4 | (uint64_t)below(g, 4) << 6 | (uint64_t)below(g, 256) << 16;
    tag(g, gran == 1 ? FID_T_IOTLB_GLOBAL : gran == 2 ? FID_T_IOTLB_DOMAIN : FID_T_IOTLB_PAGE);
    if (gran == 3) {
        unsigned am = below(g, 19);
        if (chance(g, 8)) {
            am = 19 + below(g, 45);
            tag(g, FID_T_IOTLB_AM_BIG);
        }
        d.qw[1] = ((uint64_t)below(g, 1u << 20) << 12 & ~((1ull << (12 + (am & 31))) - 1)) | am |
                  (uint64_t)below(g, 2) << 6;
    }
    return d;
}

static vtd_desc make_devtlb(gen *g, bool pasid)
{
    vtd_desc d = {{0}};
    uint16_t sid = sids[below(g, 3)];
    bool s = chance(g, 50);
    uint64_t addr = (uint64_t)below(g, 1u << 16) << 12;
    if (s) {
        unsigned k = below(g, 20);
        addr = (addr | (((1ull << k) - 1) << 12)) & ~(1ull << (12 + k));
        if (chance(g, 10))
            addr = 0x7fffffffffffull << 12; /* the global form */
    }
    tag(g, s ? FID_T_DEVTLB_S1 : FID_T_DEVTLB_S0);
    if (pasid) {
        d.qw[0] = type_bits(8) | (uint64_t)sid << 16 | (uint64_t)below(g, 1u << 20) << 32;
        d.qw[1] = addr | (s ? 1u << 11 : 0) | below(g, 2);
        tag(g, FID_T_PDEVTLB);
    } else {
        d.qw[0] = type_bits(3) | (uint64_t)below(g, 32) << 16 | (uint64_t)sid << 32;
        d.qw[1] = addr | (s ? 1u : 0);
    }
    if (!g->c->devtlb)
        tag(g, FID_T_DEVTLB_NO_DT);
    return d;
}

static vtd_desc make_iec(gen *g)
{
    vtd_desc d = {{0}};
    bool idx = chance(g, 50);
    d.qw[0] = type_bits(4);
    if (idx)
        d.qw[0] |= 1u << 4 | (uint64_t)below(g, 16) << 27 | (uint64_t)below(g, 1u << 16) << 32;
    tag(g, idx ? FID_T_IEC_INDEX : FID_T_IEC_GLOBAL);
    return d;
}

static vtd_desc make_piotlb(gen *g)
{
    vtd_desc d = {{0}};
    unsigned gran = 2 + below(g, 2);
    d.qw[0] = type_bits(6) | gran << 4 | (uint64_t)below(g, 256) << 16 |
              (uint64_t)below(g, 1u << 20) << 32;
    if (gran == 3)
        d.qw[1] = (uint64_t)below(g, 1u << 20) << 12 | below(g, 10) | (uint64_t)below(g, 2) << 6;
    tag(g, FID_T_PIOTLB);
    return d;
}

static vtd_desc make_pc(gen *g)
{
    static const unsigned grans[] = {0, 1, 3};
    vtd_desc d = {{0}};
    d.qw[0] = type_bits(7) | grans[below(g, 3)] << 4 | (uint64_t)below(g, 256) << 16 |
              (uint64_t)below(g, 1u << 20) << 32;
    tag(g, FID_T_PC);
    return d;
}

/* Spec reserved bits of QW0 and QW1 per type (DIT=0, PDS=0: PFSID and PD reserved). */
void fid_reserved_masks(unsigned type, uint64_t *m0, uint64_t *m1)
{
    static const uint64_t r[][2] = {
        [1] = {0xfffc00000000f1c0ull, ~0ull},    [2] = {0xffffffff0000f100ull, 0xf80ull},
        [3] = {0xffff0000ffe0f1f0ull, 0xffeull}, [4] = {0xffff000007fff1e0ull, ~0ull},
        [5] = {0xfffff180ull, 0x3ull},           [6] = {0xfff000000000f1c0ull, 0xf80ull},
        [7] = {0xfff000000000f1c0ull, ~0ull},    [8] = {0xfff000000000f000ull, 0x7feull},
    };
    *m0 = type < 9 ? r[type][0] : 0;
    *m1 = type < 9 ? r[type][1] : 0;
}

static uint64_t pick_bit(gen *g, uint64_t mask)
{
    unsigned n = (unsigned)__builtin_popcountll(mask), k = below(g, n ? n : 1);
    for (unsigned b = 0; b < 64; b++)
        if ((mask >> b & 1) && k-- == 0)
            return 1ull << b;
    return 0;
}

/* Make a valid descriptor malformed in one way. */
static void malform(gen *g, vtd_desc *d)
{
    unsigned type = vtd_desc_type(d);
    unsigned how = below(g, g->dw ? 4 : 3);
    uint64_t m0, m1;
    fid_reserved_masks(type, &m0, &m1);
    if (how == 0 && (m0 || m1)) {
        if (chance(g, 50) && m0)
            d->qw[0] |= pick_bit(g, m0);
        else
            d->qw[1] |= pick_bit(g, m1 ? m1 : m0);
        tag(g, FID_T_RSVD_BITS);
    } else if (how == 1 && (type == 1 || type == 2 || type == 6 || type == 7)) {
        d->qw[0] = (d->qw[0] & ~0x30ull) | (type == 6 ? 1u << 4 : type == 7 ? 2u << 4 : 0);
        tag(g, FID_T_RSVD_GRAN);
    } else if (how == 3) {
        d->qw[2 + below(g, 2)] |= pick_bit(g, ~0ull);
        tag(g, FID_T_UPPER_NONZERO);
    } else {
        static const unsigned unknown[] = {0, 9, 10, 11, 15, 0x15, 0x7f};
        unsigned t = unknown[below(g, 7)];
        d->qw[0] = (d->qw[0] & ~0xe0full) | type_bits(t);
        tag(g, FID_T_UNKNOWN_TYPE);
    }
}

static vtd_desc random_desc(gen *g)
{
    unsigned r = below(g, g->c->scalable ? 9 : 6);
    if (r >= 6 && !g->dw)
        tag(g, FID_T_256_IN_128);
    switch (r) {
    case 0:
        return make_cc(g);
    case 1:
        return make_iotlb(g);
    case 2:
        return make_devtlb(g, false);
    case 3:
        return make_iec(g);
    case 4:
    case 5:
        return random_wait(g);
    case 6:
        return make_piotlb(g);
    case 7:
        return make_pc(g);
    }
    return make_devtlb(g, true);
}

static unsigned desc_bytes(const gen *g)
{
    return g->dw ? 32 : 16;
}

static uint64_t slot_addr(const gen *g, uint32_t slot)
{
    return FID_QUEUE_BASE + (uint64_t)slot * desc_bytes(g);
}

static void put_desc(gen *g, const vtd_desc *d)
{
    fid_step *s = add(g, FID_OP_DESC);
    s->addr = slot_addr(g, g->tail);
    s->len = (uint8_t)desc_bytes(g);
    s->d = *d;
    g->tail = (g->tail + 1) % g->entries;
}

static void write_tail(gen *g)
{
    uint64_t off = (uint64_t)g->tail << (g->dw ? 5 : 4);
    unsigned r = below(g, 20);
    if (r == 0) {
        off = ((uint64_t)g->entries + below(g, 64)) << (g->dw ? 5 : 4);
        tag(g, FID_T_TAIL_BEYOND);
    } else if (r == 1 && g->dw && chance(g, 40)) {
        off |= 0x10;
        tag(g, FID_T_TAIL_MISALIGNED);
    }
    bool wide = chance(g, 60);
    if (!wide)
        tag(g, FID_T_IQT32);
    wr(g, wide, VTD_REG_IQT, off & VTD_IQ_OFFSET_MASK);
}

/* ---- the phases of a case ---- */

static void prelude(gen *g)
{
    fid_case *c = g->c;
    bool ttm = c->scalable && chance(g, 85);
    if (ttm) { /* scalable-mode root table pointer */
        wr(g, true, VTD_REG_RTADDR, 0x300000ull | (uint64_t)VTD_TTM_SCALABLE << 10);
        wr(g, false, VTD_REG_GCMD, (uint32_t)VTD_GCMD_SRTP);
    }
    unsigned qs = below(g, 4) == 0 ? 1 : 0;
    g->dw_bit = c->scalable ? chance(g, ttm ? 92 : 60) : chance(g, 8);
    g->dw = g->dw_bit && c->scalable;
    if (g->dw_bit && !c->scalable)
        tag(g, FID_T_DW_NO_SMTS);
    tag(g, g->dw ? FID_T_Q256 : FID_T_Q128);
    g->entries = vtd_queue_entries(qs, g->dw);
    uint64_t iqa = FID_QUEUE_BASE | (g->dw_bit ? VTD_IQA_DW : 0) | qs;
    wr(g, true, VTD_REG_IQT, 0);
    if (chance(g, 20)) {
        wr(g, false, VTD_REG_IQA, (uint32_t)iqa);
        wr(g, false, VTD_REG_IQA + 4, 0);
        tag(g, FID_T_IQA32);
    } else {
        wr(g, true, VTD_REG_IQA, iqa);
    }
    if (chance(g, 30)) {
        wr(g, false, VTD_REG_FECTL, chance(g, 50) ? 0 : (uint32_t)VTD_ECTL_IM);
        wr(g, false, VTD_REG_IECTL, chance(g, 50) ? 0 : (uint32_t)VTD_ECTL_IM);
        wr(g, false, VTD_REG_IEDATA, (uint32_t)rnd(g));
        wr(g, false, VTD_REG_IEADDR, 0xfee00000u | (uint32_t)below(g, 8));
        tag(g, FID_T_EVENT_REGS);
    }
}

static void enable(gen *g)
{
    if (chance(g, 10)) { /* enable with a non-zero tail (a spec violation QEMU tolerates) */
        unsigned n = 1 + below(g, 3);
        for (unsigned i = 0; i < n; i++) {
            vtd_desc d = random_wait(g);
            put_desc(g, &d);
        }
        write_tail(g);
        tag(g, FID_T_ENABLE_TAIL);
    }
    wr(g, false, VTD_REG_GCMD, (uint32_t)VTD_GCMD_QIE);
    obs(g);
}

static void wrap(gen *g)
{
    vtd_desc d = {{type_bits(4), 0, 0, 0}};
    fid_step *s = add(g, FID_OP_FILL);
    uint32_t n = g->entries - 2 - below(g, 3);
    s->addr = slot_addr(g, g->tail);
    s->len = (uint8_t)desc_bytes(g);
    s->count = (uint16_t)n;
    s->d = d;
    g->tail = (g->tail + n) % g->entries;
    wr(g, true, VTD_REG_IQT, (uint64_t)g->tail << (g->dw ? 5 : 4));
    obs(g);
    tag(g, FID_T_WRAP);
}

/* After an error: clear IQE, maybe repair the batch's bad slots and write the tail again. */
static void recover(gen *g, uint64_t *bad, unsigned nbad)
{
    wr(g, false, VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
    if (chance(g, 50)) /* the tail written again at once: QEMU resumes only then */
        wr(g, true, VTD_REG_IQT, (uint64_t)g->tail << (g->dw ? 5 : 4));
    obs(g);
    tag(g, FID_T_IQE_CLEAR);
    if (!chance(g, 60) || !room(g, nbad + 3))
        return;
    for (unsigned i = 0; i < nbad; i++) {
        vtd_desc d = make_wait(g, true, false, false);
        d.qw[1] = FID_STATUS_BASE + 4 * below(g, FID_MAX_STATUS);
        fid_step *s = add(g, FID_OP_DESC);
        s->addr = bad[i];
        s->len = (uint8_t)desc_bytes(g);
        s->d = d;
    }
    wr(g, true, VTD_REG_IQT, (uint64_t)g->tail << (g->dw ? 5 : 4));
    obs(g);
    tag(g, FID_T_IQE_REPAIR);
}

static void batch(gen *g)
{
    unsigned n = 1 + below(g, 5);
    uint64_t bad[8];
    unsigned nbad = 0, pct_bad = chance(g, 50) ? 0 : 25;
    if (!room(g, n + 8))
        return;
    for (unsigned i = 0; i < n; i++) {
        vtd_desc d = i + 1 == n && chance(g, 70) ? random_wait(g) : random_desc(g);
        if (chance(g, pct_bad)) {
            malform(g, &d);
            bad[nbad++] = slot_addr(g, g->tail);
        }
        put_desc(g, &d);
    }
    write_tail(g);
    obs(g);
    if (nbad || chance(g, 10))
        recover(g, bad, nbad);
}

static void disable(gen *g)
{
    wr(g, false, VTD_REG_GCMD, 0);
    obs(g);
    tag(g, FID_T_DISABLE);
    if (g->c->tags & (1ull << FID_T_IQE_CLEAR | 1ull << FID_T_UNKNOWN_TYPE))
        tag(g, FID_T_DISABLE_BUSY);
    if (chance(g, 60)) { /* and on again, the right way */
        g->tail = 0;
        wr(g, true, VTD_REG_IQT, 0);
        if (chance(g, 20)) {
            wr(g, true, VTD_REG_IQA, FID_QUEUE_BASE | (g->dw_bit ? VTD_IQA_DW : 0));
            g->entries = vtd_queue_entries(0, g->dw);
        }
        wr(g, false, VTD_REG_GCMD, (uint32_t)VTD_GCMD_QIE);
        obs(g);
    }
}

static void odd_access(gen *g)
{
    static const uint32_t r32[] = {VTD_REG_FSTS,   VTD_REG_FECTL,  VTD_REG_ICS,  VTD_REG_IECTL,
                                   VTD_REG_IEDATA, VTD_REG_IEADDR, VTD_REG_GSTS, VTD_REG_IQH};
    static const uint32_t r64[] = {VTD_REG_IQH, VTD_REG_IQT, VTD_REG_IQA, VTD_REG_IQERCD};
    switch (below(g, 5)) {
    case 0:
        wr(g, false, VTD_REG_ICS, (uint32_t)VTD_ICS_IWC);
        break;
    case 1:
        wr(g, false, below(g, 2) ? VTD_REG_IECTL : VTD_REG_FECTL,
           chance(g, 50) ? 0 : (uint32_t)VTD_ECTL_IM);
        tag(g, FID_T_EVENT_REGS);
        break;
    case 2: {
        fid_step *s = add(g, FID_OP_R32);
        s->off = r32[below(g, 8)];
        tag(g, FID_T_READS);
        break;
    }
    case 3: {
        fid_step *s = add(g, FID_OP_R64);
        s->off = r64[below(g, 4)];
        tag(g, FID_T_READS);
        break;
    }
    default:
        wr(g, true, VTD_REG_IQA, FID_QUEUE_BASE + 0x1000 * below(g, 4));
        tag(g, FID_T_IQA_ENABLED);
        break;
    }
    obs(g);
}

void fid_generate(uint64_t seed, uint32_t index, fid_case *c)
{
    gen g = {.s = seed ^ (0x632be59bd9b4e019ull * (index + 1ull)), .c = c};
    memset(c, 0, sizeof(*c));
    c->seed = seed;
    c->index = index;
    c->scalable = chance(&g, 50);
    c->devtlb = chance(&g, 75);
    prelude(&g);
    enable(&g);
    if (chance(&g, 15))
        wrap(&g);
    unsigned phases = 2 + below(&g, 6);
    for (unsigned i = 0; i < phases && room(&g, 12); i++) {
        unsigned r = below(&g, 10);
        if (r < 7)
            batch(&g);
        else if (r < 9)
            odd_access(&g);
        else
            disable(&g);
    }
    obs(&g);
}
