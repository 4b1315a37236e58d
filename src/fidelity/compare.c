/*
 * compare.c — the first difference between the model's and QEMU's traces of one case
 * (`qinval fidelity`): steps in order; at an observation point the registers in a fixed order
 * (IQH, IQT, FSTS, FECTL, ICS, IECTL, GSTS, IQERCD), then the status words; at a read step the
 * value read.
 */
#include <string.h>

#include "fidelity/fidelity.h"

static bool differ_at(fid_diff *d, unsigned step, unsigned obs, unsigned k, uint64_t model,
                      uint64_t qemu)
{
    if (model == qemu)
        return false;
    *d = (fid_diff){.differ = true, .step = step, .obs = obs, .k = k, .model = model, .qemu = qemu};
    return true;
}

static bool compare_snap(unsigned i, const fid_trace *mt, const fid_snap *m, const fid_snap *q,
                         fid_diff *d)
{
    for (unsigned r = 0; r < FID_O_NREGS; r++)
        if (differ_at(d, i, r, 0, m->reg[r], q->reg[r]))
            return true;
    for (unsigned k = 0; k < mt->n_status; k++)
        if (differ_at(d, i, FID_O_STATUS, k, m->status[k], q->status[k]))
            return true;
    return false;
}

void fid_compare(const fid_case *c, const fid_trace *model, const fid_trace *qemu, fid_diff *d)
{
    memset(d, 0, sizeof(*d));
    unsigned end = qemu->failed ? qemu->fail_step : c->n;
    for (unsigned i = 0; i < end; i++) {
        const fid_step *s = &c->steps[i];
        if (s->op == FID_OP_R32 || s->op == FID_OP_R64) {
            if (differ_at(d, i, FID_O_READ, 0, model->read[i], qemu->read[i]))
                return;
        } else if (s->op == FID_OP_OBS) {
            if (compare_snap(i, model, &model->at[i], &qemu->at[i], d))
                return;
        }
    }
}
