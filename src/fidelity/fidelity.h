/*
 * fidelity.h — `qinval fidelity`: the hardware model held up against QEMU's intel-iommu.
 *
 * A case is a deterministic sequence of steps (register writes and reads of the queued
 * invalidation interface, descriptors written into the queue, observation points) generated
 * from a seed (gen.c). Two executors run it: on a fresh model configured as close to QEMU as
 * its knobs allow (run_model.c) and on a fresh QEMU through qtest (run_qemu.c). Each records
 * the observables at every observation point and the value of every read; compare.c finds
 * the first difference, shrink.c reduces a disagreeing case to a short one (delta debugging),
 * classify.c names the difference with a rule table (model bug, QEMU deviation from the spec,
 * a point the spec leaves open and the model has a knob for). The command (src/cli/fidelity.c)
 * runs cases in parallel and reports.
 */
#ifndef QINVAL_FIDELITY_H
#define QINVAL_FIDELITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qinval/vtd.h>

#include "hw/hw.h"

#define FID_MAX_STEPS   96
#define FID_MAX_STATUS  8
#define FID_RAM_BYTES   (64u << 20) /* QEMU's guest RAM and the model's memory */
#define FID_QUEUE_BASE  0x100000ull /* where every case puts its queue */
#define FID_STATUS_BASE 0x200000ull /* status words of the waits */

enum fid_op {
    FID_OP_W32,  /* off, val */
    FID_OP_W64,  /* off, val */
    FID_OP_R32,  /* off: the value read is an observable */
    FID_OP_R64,  /* off */
    FID_OP_DESC, /* one descriptor (len 16 or 32 bytes) at addr */
    FID_OP_FILL, /* count copies of the descriptor from addr on */
    FID_OP_OBS,  /* observation point */
};

typedef struct fid_step {
    uint8_t op;     /* enum fid_op */
    uint8_t len;    /* DESC/FILL: bytes per descriptor */
    uint16_t count; /* FILL */
    uint32_t off;   /* W/R: register offset */
    uint64_t val;   /* W: value */
    uint64_t addr;  /* DESC/FILL: guest physical address */
    vtd_desc d;
} fid_step;

/* Behaviours a case exercises (coverage table). */
enum fid_tag {
    FID_T_Q128,
    FID_T_Q256,
    FID_T_CC_GLOBAL,
    FID_T_CC_DOMAIN,
    FID_T_CC_DEVICE,
    FID_T_IOTLB_GLOBAL,
    FID_T_IOTLB_DOMAIN,
    FID_T_IOTLB_PAGE,
    FID_T_IOTLB_AM_BIG,
    FID_T_DEVTLB_S0,
    FID_T_DEVTLB_S1,
    FID_T_DEVTLB_NO_DT,
    FID_T_IEC_GLOBAL,
    FID_T_IEC_INDEX,
    FID_T_WAIT_SW,
    FID_T_WAIT_IF,
    FID_T_WAIT_SW_IF,
    FID_T_WAIT_NONE,
    FID_T_WAIT_FN,
    FID_T_WAIT_UNALIGNED,
    FID_T_WAIT_ABOVE_RAM,
    FID_T_WAIT_ABOVE_HAW,
    FID_T_PIOTLB,
    FID_T_PC,
    FID_T_PDEVTLB,
    FID_T_UNKNOWN_TYPE,
    FID_T_RSVD_BITS,
    FID_T_RSVD_GRAN,
    FID_T_256_IN_128,
    FID_T_UPPER_NONZERO,
    FID_T_WRAP,
    FID_T_TAIL_BEYOND,
    FID_T_TAIL_MISALIGNED,
    FID_T_IQE_CLEAR,
    FID_T_IQE_REPAIR,
    FID_T_DISABLE,
    FID_T_DISABLE_BUSY,
    FID_T_ENABLE_TAIL,
    FID_T_DW_NO_SMTS,
    FID_T_IQT32,
    FID_T_IQA32,
    FID_T_IQA_ENABLED,
    FID_T_EVENT_REGS,
    FID_T_READS,
    FID_T_COUNT
};
const char *fid_tag_name(unsigned tag);

typedef struct fid_case {
    uint64_t seed;
    uint32_t index;
    bool scalable; /* QEMU x-scalable-mode=on (ECAP.SMTS): 256-bit queues honoured */
    bool devtlb;   /* QEMU device-iotlb=on (ECAP.DT) */
    unsigned n;
    uint64_t tags; /* 1 << enum fid_tag */
    fid_step steps[FID_MAX_STEPS];
} fid_case;

/* Case `index` of the run with `seed`: the same pair gives the same case. */
void fid_generate(uint64_t seed, uint32_t index, fid_case *c);
/* The spec's reserved bits of QW0 and QW1 of a type (ECAP.DIT=0, PDS=0); 0 for others. */
void fid_reserved_masks(unsigned type, uint64_t *m0, uint64_t *m1);
/* One step as text ("w64 IQT 0x40", "desc @0x100000 wait 0x...:0x..."). */
int fid_step_format(const fid_step *s, char *buf, size_t len);
const char *fid_reg_name(uint32_t off);
/* The status words the sequence's waits point at (SW=1, dword aligned, inside RAM). */
unsigned fid_status_addrs(const fid_case *c, uint64_t out[FID_MAX_STATUS]);
/* The descriptor SIDs of device-TLB invalidations (types 3 and 8) in the case, at most max. */
unsigned fid_devtlb_sids(const fid_case *c, uint16_t *out, unsigned max);

/* ---- execution ---- */
enum fid_obs {
    FID_O_IQH,
    FID_O_IQT,
    FID_O_FSTS,
    FID_O_FECTL,
    FID_O_ICS,
    FID_O_IECTL,
    FID_O_GSTS,
    FID_O_IQERCD,
    FID_O_NREGS,
    FID_O_STATUS = FID_O_NREGS, /* a status word */
    FID_O_READ,                 /* the value of a read step */
    FID_O_COUNT
};
const char *fid_obs_name(unsigned obs);

typedef struct fid_snap {
    uint64_t reg[FID_O_NREGS];
    uint32_t status[FID_MAX_STATUS];
} fid_snap;

typedef struct fid_trace {
    unsigned n_status;
    uint64_t status_addr[FID_MAX_STATUS];
    fid_snap at[FID_MAX_STEPS];   /* OBS steps */
    uint64_t read[FID_MAX_STEPS]; /* R32/R64 steps */
    bool failed;                  /* the implementation died or stopped answering */
    unsigned fail_step;
    char msg[320];
} fid_trace;

/* The identity QEMU reports for a mode (VER, CAP, ECAP), given to the model. */
typedef struct fid_ident {
    uint32_t ver;
    uint64_t cap, ecap;
} fid_ident;
/* QEMU 7.2's values, for runs without QEMU (unit tests). */
void fid_ident_builtin(bool scalable, bool devtlb, fid_ident *id);

/* Model knobs: QEMU's way by default, then KEY=VALUE settings (--set). */
typedef struct fid_knobs {
    unsigned n;
    char key[8][32];
    char value[8][32];
} fid_knobs;
/* Check one KEY=VALUE (0), or -1 with a one-line reason. Adds it to k. */
int fid_knob_add(fid_knobs *k, const char *kv, char *err, size_t errlen);
/* The model configuration for a case: QEMU's identity and QEMU's way, then the knobs. */
void fid_model_config(const fid_case *c, const fid_ident *id, const fid_knobs *k, hw_config *cfg);
/* Whether a knob was set away from QEMU's way. */
bool fid_knob_set(const fid_knobs *k, const char *key);

void fid_trace_init(const fid_case *c, fid_trace *t);
int fid_run_model(const fid_case *c, const fid_ident *id, const fid_knobs *k, fid_trace *t);
/* -1: QEMU could not be started (t->msg); 0 otherwise (t->failed if it died mid-case). */
int fid_run_qemu(const fid_case *c, fid_trace *t, unsigned timeout_ms);
/* Read QEMU's identity for a mode. 0, or -1 with err. */
int fid_qemu_ident(bool scalable, bool devtlb, fid_ident *id, char *err, size_t errlen);

/* ---- comparison, shrinking, classification ---- */
typedef struct fid_diff {
    bool differ;
    unsigned step; /* the observation or read step */
    unsigned obs;  /* enum fid_obs */
    unsigned k;    /* status word index */
    uint64_t model, qemu;
} fid_diff;
void fid_compare(const fid_case *c, const fid_trace *model, const fid_trace *qemu, fid_diff *d);
/* "IQH", "status@0x200004", "read IQA". */
int fid_diff_observable(const fid_diff *d, const fid_trace *t, const fid_case *c, char *buf,
                        size_t len);

enum fid_class { FID_MODEL_BUG, FID_QEMU_DEVIATION, FID_OPEN, FID_UNCLASSIFIED };
const char *fid_class_name(unsigned cls);

typedef struct fid_rule {
    const char *name;
    unsigned cls;
    const char *section; /* spec section, or NULL */
    const char *knob;    /* open points: the knob, or NULL */
    const char *why;     /* one line */
} fid_rule;

/* The rule for a difference; its index in fid_rules(). Never fails: the last rule is the
 * unclassified catch-all. */
unsigned fid_classify(const fid_case *c, const fid_diff *d, const fid_trace *model,
                      const fid_trace *qemu, const fid_knobs *k);
const fid_rule *fid_rules(unsigned *count);

/* Delta debugging: remove steps while keep(c) holds, the last step kept where it must be;
 * at most `budget` calls of keep. Returns the calls made. */
typedef bool (*fid_keep_fn)(const fid_case *c, void *ctx);
unsigned fid_shrink(fid_case *c, fid_keep_fn keep, void *ctx, unsigned budget);

#endif /* QINVAL_FIDELITY_H */
