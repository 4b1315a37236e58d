/*
 * run_model.c — the model's executor for `qinval fidelity`: a fresh machine per case,
 * configured as close to QEMU as the knobs allow (QEMU's VER/CAP/ECAP, IQH moving at
 * completion, a busy disable refused, endpoints for every SID the case names answering at
 * once), then --set knobs on top. QEMU processes the queue inside the IQT write, so the
 * model is run until quiet after every register write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fidelity/fidelity.h"

void fid_ident_builtin(bool scalable, bool devtlb, fid_ident *id)
{
    id->ver = 0x10;
    id->cap = 0x00d2008c22260206ull;
    id->ecap = scalable ? 0x0000480080f00f4aull : 0x0000000000f00f4aull;
    if (devtlb)
        id->ecap |= VTD_ECAP_DT;
}

/* ---- knobs ---- */

typedef struct knob {
    const char *key;
    const char *values[3]; /* accepted values (NULL: fewer) */
} knob;

static const knob knobs[] = {
    {"head_policy", {"fetch", "complete", NULL}},
    {"disable_policy", {"refuse-busy", "drop", "refuse-unless-wait"}},
    {"strict_reserved", {"on", "off", NULL}},
    {"itesid", {"on", "off", NULL}},
    {"ite_discard", {"on", "off", NULL}},
    {"iqercd", {"on", "off", NULL}},
    {"status_fault", {"drop", "iqe", NULL}},
};

static const knob *find_knob(const char *key, size_t len)
{
    for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
        if (strlen(knobs[i].key) == len && !strncmp(knobs[i].key, key, len))
            return &knobs[i];
    return NULL;
}

int fid_knob_add(fid_knobs *k, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    const knob *kn = eq ? find_knob(kv, (size_t)(eq - kv)) : NULL;
    if (!kn) {
        snprintf(err, errlen,
                 "--set %s: not a model knob KEY=VALUE (head_policy, "
                 "disable_policy, strict_reserved, itesid, ite_discard, iqercd, status_fault)",
                 kv);
        return -1;
    }
    bool ok = false;
    for (unsigned i = 0; i < 3 && kn->values[i]; i++)
        ok |= !strcmp(eq + 1, kn->values[i]);
    if (!ok || strlen(eq + 1) >= sizeof(k->value[0])) {
        snprintf(err, errlen, "--set %s: %s takes %s%s%s or %s", kv, kn->key, kn->values[0],
                 kn->values[2] ? ", " : "", kn->values[2] ? kn->values[1] : "",
                 kn->values[2] ? kn->values[2] : kn->values[1]);
        return -1;
    }
    if (k->n >= sizeof(k->key) / sizeof(k->key[0])) {
        snprintf(err, errlen, "--set %s: too many settings", kv);
        return -1;
    }
    snprintf(k->key[k->n], sizeof(k->key[0]), "%s", kn->key);
    snprintf(k->value[k->n], sizeof(k->value[0]), "%s", eq + 1);
    k->n++;
    return 0;
}

bool fid_knob_set(const fid_knobs *k, const char *key)
{
    for (unsigned i = 0; k && i < k->n; i++)
        if (!strcmp(k->key[i], key))
            return true;
    return false;
}

static void apply_knob(hw_config *cfg, const char *key, const char *v)
{
    bool on = !strcmp(v, "on");
    if (!strcmp(key, "head_policy"))
        cfg->head_policy = !strcmp(v, "fetch") ? HW_HEAD_FETCH : HW_HEAD_COMPLETE;
    else if (!strcmp(key, "disable_policy"))
        cfg->disable_policy = !strcmp(v, "drop")          ? HW_DISABLE_DROP
                              : !strcmp(v, "refuse-busy") ? HW_DISABLE_REFUSE_BUSY
                                                          : HW_DISABLE_REFUSE_UNLESS_WAIT;
    else if (!strcmp(key, "strict_reserved"))
        cfg->strict_reserved = on;
    else if (!strcmp(key, "itesid"))
        cfg->itesid = on;
    else if (!strcmp(key, "ite_discard"))
        cfg->ite_discard = on;
    else if (!strcmp(key, "iqercd"))
        cfg->iqercd = on;
    else if (!strcmp(key, "status_fault"))
        cfg->status_fault_iqe = !strcmp(v, "iqe");
}

void fid_model_config(const fid_case *c, const fid_ident *id, const fid_knobs *k, hw_config *cfg)
{
    (void)c;
    hw_config_default(cfg);
    cfg->ver = id->ver;
    cfg->cap = id->cap;
    cfg->ecap = id->ecap;
    cfg->mem_bytes = FID_RAM_BYTES;
    /* QEMU's way of every open point */
    cfg->head_policy = HW_HEAD_COMPLETE;
    cfg->disable_policy = HW_DISABLE_REFUSE_UNLESS_WAIT;
    cfg->iqercd = false;
    cfg->status_fault_iqe = true;
    for (unsigned i = 0; k && i < k->n; i++)
        apply_knob(cfg, k->key[i], k->value[i]);
}

/* ---- execution ---- */

void fid_trace_init(const fid_case *c, fid_trace *t)
{
    memset(t, 0, sizeof(*t));
    t->n_status = fid_status_addrs(c, t->status_addr);
}

static void quiet(hw_machine *m)
{
    hw_advance(m, hw_now(m) + HW_MS);
}

static void observe(hw_machine *m, fid_trace *t, fid_snap *s)
{
    static const uint32_t off[FID_O_NREGS] = {VTD_REG_IQH,   VTD_REG_IQT,   VTD_REG_FSTS,
                                              VTD_REG_FECTL, VTD_REG_ICS,   VTD_REG_IECTL,
                                              VTD_REG_GSTS,  VTD_REG_IQERCD};
    for (unsigned i = 0; i < FID_O_NREGS; i++) {
        bool wide = off[i] == VTD_REG_IQH || off[i] == VTD_REG_IQT || off[i] == VTD_REG_IQERCD;
        s->reg[i] = wide ? hw_mmio_read64(m, off[i]) : hw_mmio_read32(m, off[i]);
    }
    for (unsigned k = 0; k < t->n_status; k++) {
        uint32_t *p = hw_mem_ptr(m, t->status_addr[k], 4);
        s->status[k] = p ? *p : 0;
    }
}

static void write_mem(hw_machine *m, const fid_step *s)
{
    unsigned count = s->op == FID_OP_FILL ? s->count : 1;
    for (unsigned i = 0; i < count; i++) {
        void *p = hw_mem_ptr(m, s->addr + (uint64_t)i * s->len, s->len);
        if (p)
            memcpy(p, s->d.qw, s->len);
    }
}

static void step(hw_machine *m, const fid_step *s, unsigned i, fid_trace *t)
{
    switch (s->op) {
    case FID_OP_W32:
        hw_mmio_write32(m, s->off, (uint32_t)s->val);
        quiet(m);
        break;
    case FID_OP_W64:
        hw_mmio_write64(m, s->off, s->val);
        quiet(m);
        break;
    case FID_OP_R32:
        t->read[i] = hw_mmio_read32(m, s->off);
        break;
    case FID_OP_R64:
        t->read[i] = hw_mmio_read64(m, s->off);
        break;
    case FID_OP_DESC:
    case FID_OP_FILL:
        write_mem(m, s);
        break;
    default:
        observe(m, t, &t->at[i]);
        break;
    }
}

static int add_endpoints(hw_machine *m, const fid_case *c, fid_trace *t)
{
    uint16_t sids[16];
    unsigned n = fid_devtlb_sids(c, sids, 16);
    for (unsigned i = 0; i < n; i++) {
        hw_ep_config ec;
        const char *err = NULL;
        hw_ep_config_default(&ec, sids[i]);
        ec.latency = 0;
        if (hw_ep_add(m, &ec, &err) < 0) {
            snprintf(t->msg, sizeof(t->msg), "model endpoint %#x: %s", sids[i], err);
            return -1;
        }
    }
    return 0;
}

int fid_run_model(const fid_case *c, const fid_ident *id, const fid_knobs *k, fid_trace *t)
{
    hw_config cfg;
    const char *err = NULL;
    fid_trace_init(c, t);
    fid_model_config(c, id, k, &cfg);
    hw_machine *m = hw_create(&cfg, &err);
    if (!m) {
        snprintf(t->msg, sizeof(t->msg), "model: %s", err ? err : "cannot create");
        t->failed = true;
        return -1;
    }
    int rc = add_endpoints(m, c, t);
    for (unsigned i = 0; rc == 0 && i < c->n; i++)
        step(m, &c->steps[i], i, t);
    hw_destroy(m);
    t->failed = rc != 0;
    return rc;
}
