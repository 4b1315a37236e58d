/*
 * classify.c — the rule table of `qinval fidelity`: what a difference between the model and
 * QEMU means. Each rule is a predicate over the case (read up to the differing step through a
 * small shadow of the queue: IQA at enable, descriptor at an index), the difference and the
 * two traces. First match wins; the last rule catches everything (unclassified, exit 1).
 * A knob set away from QEMU's way (--set) is recognised by running the model again with that
 * knob back at QEMU's way: if the difference goes, the knob explains it (class open).
 */
#include <string.h>

#include "fidelity/fidelity.h"

/* ---- the shadow: the queue as software set it up, up to a step ---- */

typedef struct shadow {
    uint64_t iqa; /* IQA latched by the last enable before the step */
    bool dw;      /* 256-bit descriptors in effect */
    const fid_case *c;
    unsigned upto; /* steps before this one are seen */
} shadow;

static void shadow_init(shadow *s, const fid_case *c, unsigned upto)
{
    uint64_t iqa = 0;
    memset(s, 0, sizeof(*s));
    s->c = c;
    s->upto = upto;
    for (unsigned i = 0; i < upto; i++) {
        const fid_step *st = &c->steps[i];
        if (st->op == FID_OP_W64 && st->off == VTD_REG_IQA)
            iqa = st->val;
        else if (st->op == FID_OP_W32 && st->off == VTD_REG_IQA)
            iqa = (iqa & ~0xffffffffull) | (uint32_t)st->val;
        else if (st->op == FID_OP_W32 && st->off == VTD_REG_GCMD && (st->val & VTD_GCMD_QIE))
            s->iqa = iqa;
    }
    s->dw = (s->iqa & VTD_IQA_DW) && c->scalable;
}

/* The descriptor software last wrote at the byte offset `off` of the queue (zero if none). */
static vtd_desc shadow_desc(const shadow *s, uint64_t off)
{
    vtd_desc d = {{0}};
    uint64_t a = (s->iqa & VTD_IQA_ADDR_MASK) + (off & VTD_IQ_OFFSET_MASK);
    for (unsigned i = 0; i < s->upto; i++) {
        const fid_step *st = &s->c->steps[i];
        unsigned count = st->op == FID_OP_FILL ? st->count : st->op == FID_OP_DESC ? 1 : 0;
        if (!count || a < st->addr || a >= st->addr + (uint64_t)count * st->len)
            continue;
        if ((a - st->addr) % st->len == 0) {
            d = st->d;
            if (st->len == 16)
                d.qw[2] = d.qw[3] = 0;
        }
    }
    return d;
}

/* The descriptor at which QEMU stopped with IQE (IQH), as software wrote it. */
static bool qemu_stopped_on(const shadow *s, const fid_snap *q, vtd_desc *d)
{
    if (!(q->reg[FID_O_FSTS] & VTD_FSTS_IQE))
        return false;
    *d = shadow_desc(s, q->reg[FID_O_IQH]);
    return true;
}

static const fid_snap *snap(const fid_trace *t, const fid_diff *d)
{
    return &t->at[d->step];
}

struct ctx {
    const fid_case *c;
    const fid_diff *d;
    const fid_trace *m, *q;
    const fid_knobs *k;
    shadow sh;
};

/* ---- rules ---- */

/* QEMU stopped on a wait with neither SW nor IF; the model ran it (and maybe stopped later). */
static bool r_fence_only(const struct ctx *x)
{
    vtd_desc d;
    if (x->d->step >= x->c->n || x->c->steps[x->d->step].op != FID_OP_OBS)
        return false;
    const fid_snap *m = snap(x->m, x->d), *q = snap(x->q, x->d);
    if (!qemu_stopped_on(&x->sh, q, &d))
        return false;
    /* The model ran past it: no IQE, or one further on (on a later bad descriptor). */
    if ((m->reg[FID_O_FSTS] & VTD_FSTS_IQE) && m->reg[FID_O_IQH] == q->reg[FID_O_IQH])
        return false;
    return vtd_desc_type(&d) == VTD_DESC_WAIT && !(d.qw[0] & 0x30);
}

/* The last register write before the difference cleared IQE: the model fetched again at once
 * (and ran what was there, or stopped again), QEMU waits for the next IQT write. */
static bool r_iqe_clear(const struct ctx *x)
{
    for (unsigned i = x->d->step; i-- > 0;) {
        const fid_step *s = &x->c->steps[i];
        if (s->op != FID_OP_W32 && s->op != FID_OP_W64)
            continue;
        return s->off == VTD_REG_FSTS && (s->val & VTD_FSTS_IQE);
    }
    return false;
}

/* A read of IQA: QEMU returns what it latched at enable, not the value last written. */
static bool r_iqa_read(const struct ctx *x)
{
    return x->d->obs == FID_O_READ && x->c->steps[x->d->step].off == VTD_REG_IQA;
}

/* The model stopped with IQE where QEMU did not. */
static bool model_only_iqe(const struct ctx *x)
{
    return x->c->steps[x->d->step].op == FID_OP_OBS &&
           (snap(x->m, x->d)->reg[FID_O_FSTS] & VTD_FSTS_IQE) &&
           !(snap(x->q, x->d)->reg[FID_O_FSTS] & VTD_FSTS_IQE);
}

static unsigned model_stopped_type(const struct ctx *x);

/* A scalable-mode root table pointer was set before the difference. */
static bool ttm_scalable(const struct ctx *x)
{
    bool rt = false;
    for (unsigned i = 0; i < x->d->step; i++) {
        const fid_step *s = &x->c->steps[i];
        if (s->op == FID_OP_W64 && s->off == VTD_REG_RTADDR)
            rt = (s->val >> VTD_RTADDR_TTM_SHIFT & 3) == VTD_TTM_SCALABLE;
        if (s->op == FID_OP_W32 && s->off == VTD_REG_GCMD && (s->val & VTD_GCMD_SRTP) && rt)
            return true;
    }
    return false;
}

/* A 128-bit queue in scalable mode: the model raises IQE (IQEI 5), QEMU runs it. */
static bool r_dw0_scalable(const struct ctx *x)
{
    return (model_only_iqe(x) || model_stopped_type(x)) && !(x->sh.iqa & VTD_IQA_DW) &&
           ttm_scalable(x);
}

/* The last IQT write before the difference set bit 4 in a 256-bit queue: QEMU ignores it. */
static bool r_tail_misaligned(const struct ctx *x)
{
    if (!x->sh.dw || !model_only_iqe(x))
        return false;
    for (unsigned i = x->d->step; i-- > 0;) {
        const fid_step *s = &x->c->steps[i];
        if ((s->op == FID_OP_W32 || s->op == FID_OP_W64) && s->off == VTD_REG_IQT)
            return (s->val & 0x10) != 0;
    }
    return false;
}

/* QEMU stopped with IQE on an SW wait whose status address has bits above the HAW. */
static bool r_above_haw(const struct ctx *x)
{
    vtd_desc d;
    if (x->c->steps[x->d->step].op != FID_OP_OBS || !qemu_stopped_on(&x->sh, snap(x->q, x->d), &d))
        return false;
    return vtd_desc_type(&d) == VTD_DESC_WAIT && (d.qw[0] & 0x20) && (d.qw[1] >> 46) != 0;
}

/* The type of the descriptor the model stopped on with IQE where QEMU went past it; 0: none. */
static unsigned model_stopped_type(const struct ctx *x)
{
    if (x->c->steps[x->d->step].op != FID_OP_OBS)
        return 0;
    const fid_snap *m = snap(x->m, x->d), *q = snap(x->q, x->d);
    if (!(m->reg[FID_O_FSTS] & VTD_FSTS_IQE) || q->reg[FID_O_IQH] == m->reg[FID_O_IQH])
        return 0;
    vtd_desc d = shadow_desc(&x->sh, m->reg[FID_O_IQH]);
    return vtd_desc_type(&d);
}

/* The model stopped with IQE on a PASID-based type (6-8) while TTM is legacy; QEMU ran it. */
static bool r_pasid_legacy(const struct ctx *x)
{
    unsigned t = model_stopped_type(x);
    return x->sh.dw && !ttm_scalable(x) && t >= VTD_DESC_PIOTLB && t <= VTD_DESC_PDEVTLB;
}

/* The model stopped with IQE on a descriptor of types 1-6 with a reserved bit set; QEMU 7.2
 * checks fewer reserved bits and ran it. */
static bool r_rsvd_unchecked(const struct ctx *x)
{
    unsigned t = model_stopped_type(x);
    if (t < VTD_DESC_CC || t > VTD_DESC_PIOTLB)
        return false;
    uint64_t m0, m1;
    fid_reserved_masks(t, &m0, &m1);
    vtd_desc d = shadow_desc(&x->sh, snap(x->m, x->d)->reg[FID_O_IQH]);
    return (d.qw[0] & m0) || (d.qw[1] & m1);
}

/* The model stopped with IQE on a PASID-based IOTLB invalidation (type 6, 256-bit only) in a
 * 128-bit queue; QEMU 7.2 ran it. */
static bool r_piotlb_128(const struct ctx *x)
{
    return !x->sh.dw && model_stopped_type(x) == VTD_DESC_PIOTLB;
}

/* The model stopped with IQE on a PASID-cache invalidation (type 7); QEMU ran it. */
static bool r_pc_unchecked(const struct ctx *x)
{
    return model_stopped_type(x) == VTD_DESC_PC;
}

/* The model stopped with IQE on a device-TLB invalidation without ECAP.DT; QEMU ran it. */
static bool r_devtlb_no_dt(const struct ctx *x)
{
    unsigned t = model_stopped_type(x);
    return !x->c->devtlb && (t == VTD_DESC_DEVTLB || t == VTD_DESC_PDEVTLB);
}

/* QEMU stopped with IQE on a PASID-based device-TLB invalidation the model ran. */
static bool r_pdevtlb(const struct ctx *x)
{
    vtd_desc d;
    if (x->c->steps[x->d->step].op != FID_OP_OBS || !qemu_stopped_on(&x->sh, snap(x->q, x->d), &d))
        return false;
    return vtd_desc_type(&d) == VTD_DESC_PDEVTLB && x->sh.dw &&
           snap(x->m, x->d)->reg[FID_O_IQH] != snap(x->q, x->d)->reg[FID_O_IQH];
}

/* The model stopped on a descriptor of a 256-bit queue with QW2/QW3 not zero; QEMU ran it. */
static bool r_upper_half(const struct ctx *x)
{
    if (!x->sh.dw || !model_stopped_type(x))
        return false;
    vtd_desc d = shadow_desc(&x->sh, snap(x->m, x->d)->reg[FID_O_IQH]);
    return (d.qw[2] | d.qw[3]) != 0;
}

/* IEDATA read back with bits 31:16 QEMU kept and the model dropped (RsvdZ). */
static bool r_iedata(const struct ctx *x)
{
    return x->d->obs == FID_O_READ && x->c->steps[x->d->step].off == VTD_REG_IEDATA &&
           ((x->d->model ^ x->d->qemu) & 0xffff) == 0;
}

/* IQA.DW=1 on a QEMU without scalable mode: QEMU runs a 128-bit queue, the model rejects the
 * width (IQEI 5); whatever differs afterwards follows from that. */
static bool r_dw_no_smts(const struct ctx *x)
{
    return !x->c->scalable && (x->sh.iqa & VTD_IQA_DW);
}

/* The model stopped with IQE on a descriptor whose granularity is reserved or whose field
 * values exceed what CAP/ECAP report (the validator's encoding rules, IQEI 4 whatever
 * strict_reserved says); QEMU 7.2 ran it. */
static bool r_encoding_unchecked(const struct ctx *x)
{
    if (!model_stopped_type(x))
        return false;
    fid_ident id;
    fid_ident_builtin(x->c->scalable, x->c->devtlb, &id);
    vtd_qctx q = {.cap = id.cap,
                  .ecap = id.ecap,
                  .ttm = ttm_scalable(x) ? VTD_TTM_SCALABLE : VTD_TTM_LEGACY,
                  .dw256 = x->sh.dw,
                  .strict_reserved = false,
                  .haw = 46};
    vtd_desc d = shadow_desc(&x->sh, snap(x->m, x->d)->reg[FID_O_IQH]);
    const char *why = NULL;
    return vtd_validate(&d, &q, &why) == VTD_IQEI_RSVD;
}

/* The model's registers right after step i: the case cut there, with an observation. */
static const fid_snap *model_after(const struct ctx *x, unsigned i)
{
    static _Thread_local fid_case cut;
    static _Thread_local fid_trace t;
    if (i + 2 > FID_MAX_STEPS)
        return NULL;
    cut = *x->c;
    cut.n = i + 2;
    memset(&cut.steps[i + 1], 0, sizeof(cut.steps[i + 1]));
    cut.steps[i + 1].op = FID_OP_OBS;
    fid_ident id;
    fid_ident_builtin(x->c->scalable, x->c->devtlb, &id);
    fid_run_model(&cut, &id, x->k, &t);
    return t.failed ? NULL : &t.at[i + 1];
}

/* IQA was written while the queue was enabled (the model's QIES just before the write: a
 * disable refused as QEMU refuses it counts as enabled), before the difference: the model
 * keeps what it latched at enable, QEMU 7.2 takes the new descriptor width at once. */
static bool r_iqa_live(const struct ctx *x)
{
    for (unsigned i = 1; i < x->d->step; i++) {
        const fid_step *s = &x->c->steps[i];
        if ((s->op != FID_OP_W32 && s->op != FID_OP_W64) || s->off != VTD_REG_IQA)
            continue;
        const fid_snap *b = model_after(x, i - 1);
        if (b && (b->reg[FID_O_GSTS] & VTD_GSTS_QIES))
            return true;
    }
    return false;
}

/* An IQE clear before the difference at which the model did something (stopped again on the
 * same bad tail or descriptor, or fetched on): QEMU does nothing until the next IQT write, so
 * the two diverged there even if the difference shows only later. */
static bool r_iqe_clear_earlier(const struct ctx *x)
{
    for (unsigned i = 1; i < x->d->step; i++) {
        const fid_step *s = &x->c->steps[i];
        if (s->op != FID_OP_W32 || s->off != VTD_REG_FSTS || !(s->val & VTD_FSTS_IQE))
            continue;
        fid_snap before, after;
        const fid_snap *b = model_after(x, i - 1);
        if (!b)
            continue;
        before = *b;
        const fid_snap *a = model_after(x, i);
        if (!a)
            continue;
        after = *a;
        if ((before.reg[FID_O_FSTS] & VTD_FSTS_IQE) &&
            ((after.reg[FID_O_FSTS] & VTD_FSTS_IQE) ||
             after.reg[FID_O_IQH] != before.reg[FID_O_IQH]))
            return true;
    }
    return false;
}

static bool r_catch_all(const struct ctx *x)
{
    (void)x;
    return true;
}

typedef bool (*pred_fn)(const struct ctx *x);

static const struct {
    fid_rule rule;
    pred_fn pred;
} table[] = {
    {{"fence-only-wait", FID_QEMU_DEVIATION, "6.5.2.9, 7.10", NULL,
      "QEMU rejects a wait with SW=0 and IF=0 (IQE); the spec allows it as a fence"},
     r_fence_only},
    {{"iqe-clear-no-resume", FID_QEMU_DEVIATION, "6.5.2.11", NULL,
      "after software clears IQE QEMU fetches nothing until the next IQT write; the spec "
      "resumes fetching at IQH"},
     r_iqe_clear},
    {{"iqa-read-latched", FID_QEMU_DEVIATION, "11.4.9.3", NULL,
      "QEMU's IQA reads return the address latched at enable, not the last value written"},
     r_iqa_read},
    {{"dw0-in-scalable-mode", FID_QEMU_DEVIATION, "11.4.9.3, 11.4.9.9 (IQEI 5)", NULL,
      "QEMU runs a 128-bit queue while RTADDR.TTM is scalable; the spec makes that an IQE"},
     r_dw0_scalable},
    {{"tail-misaligned-ignored", FID_QEMU_DEVIATION, "11.4.9.2, 11.4.9.9 (IQEI 6)", NULL,
      "QEMU 7.2 raises no IQE for IQT bit 4 set in a 256-bit queue"},
     r_tail_misaligned},
    {{"status-addr-above-haw", FID_QEMU_DEVIATION, "6.5.2.9", NULL,
      "QEMU writes the status to the whole QW1 address and fails (IQE) when bits above the "
      "host address width are set; the spec ignores those bits"},
     r_above_haw},
    {{"pasid-type-in-legacy-mode", FID_QEMU_DEVIATION, "6.5.2 (Table 26)", NULL,
      "QEMU runs PASID-based descriptors (types 6-8) while RTADDR.TTM is legacy; the spec "
      "allows only types 1-5 there"},
     r_pasid_legacy},
    {{"pasid-cache-unchecked", FID_QEMU_DEVIATION, "6.5.2.2, 6.5.2 (Table 26)", NULL,
      "QEMU 7.2 takes any PASID-cache invalidation (type 7) as a no-op: reserved granularity "
      "or bits, or a 128-bit queue, raise no IQE"},
     r_pc_unchecked},
    {{"256-only-type-in-128-queue", FID_QEMU_DEVIATION, "6.5.2 (Table 26)", NULL,
      "QEMU 7.2 runs a PASID-based IOTLB invalidation (type 6, 256-bit only) in a 128-bit queue"},
     r_piotlb_128},
    {{"reserved-bits-unchecked", FID_QEMU_DEVIATION, "6.5.2.x (IQEI 4)", NULL,
      "QEMU 7.2 runs a descriptor with a bit set that the spec reserves (it checks fewer "
      "reserved fields, e.g. IEC QW1)"},
     r_rsvd_unchecked},
    {{"devtlb-without-dt", FID_QEMU_DEVIATION, "6.5.2 (types 3 and 8 need ECAP.DT)", NULL,
      "QEMU 7.2 runs device-TLB invalidations although it reports ECAP.DT=0"},
     r_devtlb_no_dt},
    {{"pdevtlb-unsupported", FID_QEMU_DEVIATION, "6.5.2.6", NULL,
      "QEMU 7.2 rejects PASID-based device-TLB invalidations (type 8) with IQE in scalable mode"},
     r_pdevtlb},
    {{"upper-half-ignored", FID_QEMU_DEVIATION, "6.5.2", NULL,
      "QEMU 7.2 does not check QW2/QW3 (reserved) of descriptors in a 256-bit queue"},
     r_upper_half},
    {{"iedata-upper-bits", FID_QEMU_DEVIATION, "11.4.9.6", NULL,
      "QEMU keeps IEDATA bits 31:16 (an extended-data field of older revisions); RsvdZ in 5.10"},
     r_iedata},
    {{"dw-without-smts", FID_QEMU_DEVIATION, "11.4.9.3, 11.4.9.9 (IQEI 5)", NULL,
      "QEMU ignores IQA.DW=1 without ECAP.SMTS (128-bit queue); the spec makes it an IQE"},
     r_dw_no_smts},
    {{"encoding-unchecked", FID_QEMU_DEVIATION, "6.5.2.x (IQEI 4)", NULL,
      "QEMU 7.2 runs a descriptor with a reserved granularity or a field value beyond what "
      "its CAP/ECAP report (e.g. a reserved PASID-based IOTLB granularity)"},
     r_encoding_unchecked},
    {{"iqa-written-while-enabled", FID_OPEN, "6.5.2", NULL,
      "software wrote IQA while the queue was enabled, which the spec forbids without saying "
      "what hardware then does: the model keeps the queue latched at enable (and logs a "
      "software violation), QEMU 7.2 takes the new descriptor width at once"},
     r_iqa_live},
    {{"iqe-clear-no-resume-earlier", FID_QEMU_DEVIATION, "6.5.2.11", NULL,
      "an earlier IQE clear: the model fetched again at once (or stopped again on the same bad "
      "tail or descriptor), QEMU waited for the next IQT write; the difference shows later"},
     r_iqe_clear_earlier},
    {{"unmatched", FID_UNCLASSIFIED, NULL, NULL, "no rule explains this difference"}, r_catch_all},
};

#define NRULES (sizeof(table) / sizeof(table[0]))

/* Rules for the knobs (--set): one per knob, after the table. */
static const fid_rule knob_rules[] = {
    {"knob head_policy", FID_OPEN, "6.5.2, 11.4.9.1", "head_policy",
     "when IQH moves past a descriptor (fetch or completion) is left open"},
    {"knob disable_policy", FID_OPEN, "6.5.2", "disable_policy",
     "what clearing QIE with work pending does is left open"},
    {"knob strict_reserved", FID_OPEN, "6.5.2", "strict_reserved",
     "whether reserved descriptor bits are checked"},
    {"knob itesid", FID_OPEN, "11.4.9.9", "itesid", "ITESID/ICESID are optional"},
    {"knob ite_discard", FID_OPEN, "6.5.2.11", "ite_discard", "work after an ITE"},
    {"knob status_fault", FID_OPEN, "6.5.2.9", "status_fault",
     "a status write to a non-memory address is undefined; QEMU raises IQE, the model drops it"},
    {"knob iqercd", FID_OPEN, "11.4.9.9", "iqercd",
     "IQERCD may report no error information (IQEI 0); QEMU has no such register"},
};

#define NKNOBS (sizeof(knob_rules) / sizeof(knob_rules[0]))

const fid_rule *fid_rules(unsigned *count)
{
    static fid_rule all[NRULES + NKNOBS];
    if (!all[0].name) { /* built on first use; identical every time */
        for (unsigned i = 0; i < NRULES; i++)
            all[i] = table[i].rule;
        for (unsigned i = 0; i < NKNOBS; i++)
            all[NRULES + i] = knob_rules[i];
    }
    if (count)
        *count = NRULES + NKNOBS;
    return all;
}

/* A knob set away from QEMU's way that explains the difference: its rule index, or -1. */
static int knob_rule(const struct ctx *x)
{
    static _Thread_local fid_trace again;
    for (unsigned i = 0; x->k && i < x->k->n; i++) {
        fid_knobs rest = *x->k;
        memmove(&rest.key[i], &rest.key[i + 1], (rest.n - i - 1) * sizeof(rest.key[0]));
        memmove(&rest.value[i], &rest.value[i + 1], (rest.n - i - 1) * sizeof(rest.value[0]));
        rest.n--;
        fid_ident id;
        fid_ident_builtin(x->c->scalable, x->c->devtlb, &id);
        fid_run_model(x->c, &id, &rest, &again);
        fid_diff d2;
        fid_compare(x->c, &again, x->q, &d2);
        if (d2.differ && d2.step == x->d->step && d2.obs == x->d->obs)
            continue;
        for (unsigned r = 0; r < NKNOBS; r++)
            if (!strcmp(knob_rules[r].knob, x->k->key[i]))
                return (int)(NRULES + r);
    }
    return -1;
}

unsigned fid_classify(const fid_case *c, const fid_diff *d, const fid_trace *model,
                      const fid_trace *qemu, const fid_knobs *k)
{
    struct ctx x = {.c = c, .d = d, .m = model, .q = qemu, .k = k};
    shadow_init(&x.sh, c, d->step);
    int kr = knob_rule(&x);
    if (kr >= 0)
        return (unsigned)kr;
    for (unsigned i = 0; i < NRULES; i++)
        if (table[i].pred(&x))
            return i;
    return NRULES - 1;
}
