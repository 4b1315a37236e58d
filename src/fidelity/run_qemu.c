/*
 * run_qemu.c — QEMU's executor for `qinval fidelity`: one fresh QEMU per case (q35 with an
 * intel-iommu device, scalable mode and device-TLB support as the case asks), the steps sent
 * through the qtest client (src/qemu/qtest.h), the same observables read back as the model's
 * executor reads. A QEMU that dies or stops answering ends the case with its message.
 */
#include <stdio.h>
#include <string.h>

#include "fidelity/fidelity.h"
#include "qemu/qtest.h"

static qtest *start(bool scalable, bool devtlb, unsigned timeout_ms, char *err, size_t errlen)
{
    char dev[96];
    snprintf(dev, sizeof(dev), "intel-iommu%s%s", scalable ? ",x-scalable-mode=on" : "",
             devtlb ? ",device-iotlb=on" : "");
    const char *args[] = {"-device", dev};
    qtest_options o = {.args = args,
                       .n_args = 2,
                       .mem_mib = FID_RAM_BYTES >> 20,
                       .timeout_ms = timeout_ms,
                       .start_timeout_ms = 30000};
    return qtest_start(&o, err, errlen);
}

int fid_qemu_ident(bool scalable, bool devtlb, fid_ident *id, char *err, size_t errlen)
{
    qtest *q = start(scalable, devtlb, 10000, err, errlen);
    if (!q)
        return -1;
    uint32_t ver = 0;
    int rc = qtest_readl(q, QTEST_VTD_BASE + VTD_REG_VER, &ver) |
             qtest_readq(q, QTEST_VTD_BASE + VTD_REG_CAP, &id->cap) |
             qtest_readq(q, QTEST_VTD_BASE + VTD_REG_ECAP, &id->ecap);
    id->ver = ver;
    if (rc)
        snprintf(err, errlen, "%s", qtest_error(q));
    qtest_stop(q);
    return rc ? -1 : 0;
}

static int observe(qtest *q, const fid_trace *t, fid_snap *s)
{
    static const uint32_t off[FID_O_NREGS] = {VTD_REG_IQH,   VTD_REG_IQT,   VTD_REG_FSTS,
                                              VTD_REG_FECTL, VTD_REG_ICS,   VTD_REG_IECTL,
                                              VTD_REG_GSTS,  VTD_REG_IQERCD};
    int rc = 0;
    for (unsigned i = 0; i < FID_O_NREGS && !rc; i++) {
        uint64_t a = QTEST_VTD_BASE + off[i];
        if (off[i] == VTD_REG_IQH || off[i] == VTD_REG_IQT || off[i] == VTD_REG_IQERCD) {
            rc = qtest_readq(q, a, &s->reg[i]);
        } else {
            uint32_t v = 0;
            rc = qtest_readl(q, a, &v);
            s->reg[i] = v;
        }
    }
    for (unsigned k = 0; k < t->n_status && !rc; k++)
        rc = qtest_memread(q, t->status_addr[k], &s->status[k], 4);
    return rc;
}

static int write_mem(qtest *q, const fid_step *s)
{
    unsigned count = s->op == FID_OP_FILL ? s->count : 1;
    uint8_t buf[32 * 64];
    unsigned per = sizeof(buf) / s->len;
    for (unsigned i = 0; i < count; i += per) {
        unsigned n = count - i < per ? count - i : per;
        for (unsigned j = 0; j < n; j++)
            memcpy(buf + (size_t)j * s->len, s->d.qw, s->len);
        if (qtest_memwrite(q, s->addr + (uint64_t)i * s->len, buf, (size_t)n * s->len))
            return -1;
    }
    return 0;
}

static int step(qtest *q, const fid_step *s, unsigned i, fid_trace *t)
{
    uint64_t a = QTEST_VTD_BASE + s->off;
    uint32_t v32 = 0;
    int rc;
    switch (s->op) {
    case FID_OP_W32:
        return qtest_writel(q, a, (uint32_t)s->val);
    case FID_OP_W64:
        return qtest_writeq(q, a, s->val);
    case FID_OP_R32:
        rc = qtest_readl(q, a, &v32);
        t->read[i] = v32;
        return rc;
    case FID_OP_R64:
        return qtest_readq(q, a, &t->read[i]);
    case FID_OP_DESC:
    case FID_OP_FILL:
        return write_mem(q, s);
    }
    return observe(q, t, &t->at[i]);
}

int fid_run_qemu(const fid_case *c, fid_trace *t, unsigned timeout_ms)
{
    fid_trace_init(c, t);
    qtest *q = start(c->scalable, c->devtlb, timeout_ms, t->msg, sizeof(t->msg));
    if (!q)
        return -1;
    for (unsigned i = 0; i < c->n; i++) {
        if (step(q, &c->steps[i], i, t) == 0)
            continue;
        t->failed = true;
        t->fail_step = i;
        snprintf(t->msg, sizeof(t->msg), "%s", qtest_error(q));
        break;
    }
    qtest_stop(q);
    return 0;
}
