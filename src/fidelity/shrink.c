/*
 * shrink.c — delta debugging over a case's steps (`qinval fidelity`): remove chunks of
 * steps, halving the chunk size, while the caller's predicate (same classification, same
 * observable) still holds; then single steps until no removal keeps it. Bounded by a budget of
 * predicate calls, since each may start a QEMU.
 */
#include <string.h>

#include "fidelity/fidelity.h"

/* c without steps [from, from+len). */
static void without(const fid_case *c, unsigned from, unsigned len, fid_case *out)
{
    memcpy(out, c, offsetof(fid_case, steps));
    unsigned n = 0;
    for (unsigned i = 0; i < c->n; i++)
        if (i < from || i >= from + len)
            out->steps[n++] = c->steps[i];
    out->n = n;
}

/* One pass removing chunks of `len` steps; true if anything was removed. */
static bool pass(fid_case *c, unsigned len, fid_keep_fn keep, void *ctx, unsigned *calls,
                 unsigned budget, fid_case *tmp)
{
    bool removed = false;
    for (unsigned from = 0; from < c->n && *calls < budget;) {
        if (len >= c->n)
            break;
        without(c, from, len, tmp);
        ++*calls;
        if (keep(tmp, ctx)) {
            memcpy(c, tmp, sizeof(*c));
            removed = true;
        } else {
            from += len;
        }
    }
    return removed;
}

unsigned fid_shrink(fid_case *c, fid_keep_fn keep, void *ctx, unsigned budget)
{
    static _Thread_local fid_case tmp;
    unsigned calls = 0;
    unsigned len = c->n / 2 ? c->n / 2 : 1;
    while (calls < budget) {
        bool removed = pass(c, len, keep, ctx, &calls, budget, &tmp);
        if (len > 1)
            len /= 2;
        else if (!removed)
            break;
    }
    return calls;
}
