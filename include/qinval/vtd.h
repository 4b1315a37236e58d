/*
 * vtd.h — Intel VT-d queued-invalidation definitions: register offsets and fields, descriptor
 * types and their fields in both 128- and 256-bit queues, an encoder, a decoder and the
 * validator a real IOMMU applies when it fetches a descriptor.
 *
 * This is where the engine and the hardware model meet, exactly as a driver meets silicon: both
 * include this header and nothing of each other. Facts come from the VT-d specification rev 5.10
 * (section numbers in comments); doubtful points are marked UNCERTAIN. Freestanding: only
 * <stdint.h>, <stdbool.h> and <stddef.h>. Names and formatting live in vtd_format.h.
 */
#ifndef QINVAL_VTD_H
#define QINVAL_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTD_BIT(n)       (1ull << (n))
#define VTD_MASK(hi, lo) ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))

/* ---------------------------------------------------------------------------------------------
 * Registers (spec 11.4). Offsets from the remapping unit's MMIO base.
 */
enum vtd_reg {
    VTD_REG_VER = 0x000,     /* 32: [7:4] major, [3:0] minor */
    VTD_REG_CAP = 0x008,     /* 64 */
    VTD_REG_ECAP = 0x010,    /* 64 */
    VTD_REG_GCMD = 0x018,    /* 32, write-only commands */
    VTD_REG_GSTS = 0x01C,    /* 32, read-only status */
    VTD_REG_RTADDR = 0x020,  /* 64: root table address + TTM */
    VTD_REG_CCMD = 0x028,    /* 64: register-based context invalidation (not modelled) */
    VTD_REG_FSTS = 0x034,    /* 32 */
    VTD_REG_FECTL = 0x038,   /* 32 */
    VTD_REG_FEDATA = 0x03C,  /* 32 */
    VTD_REG_FEADDR = 0x040,  /* 32 */
    VTD_REG_FEUADDR = 0x044, /* 32 */
    VTD_REG_IQH = 0x080,     /* 64, read-only */
    VTD_REG_IQT = 0x088,     /* 64 */
    VTD_REG_IQA = 0x090,     /* 64 */
    VTD_REG_ICS = 0x09C,     /* 32 */
    VTD_REG_IECTL = 0x0A0,   /* 32 */
    VTD_REG_IEDATA = 0x0A4,  /* 32 */
    VTD_REG_IEADDR = 0x0A8,  /* 32 */
    VTD_REG_IEUADDR = 0x0AC, /* 32 */
    VTD_REG_IQERCD = 0x0B0,  /* 64, read-only (sticky) */
    VTD_REG_IRTA = 0x0B8,    /* 64: interrupt remapping table (not modelled) */
};
#define VTD_REG_SPACE 0x1000u /* one 4 KiB page of registers */

/* GCMD (write) and GSTS (read) share bit positions (11.4.4/11.4.5). */
#define VTD_GCMD_TE    VTD_BIT(31) /* translation enable            / GSTS.TES   */
#define VTD_GCMD_SRTP  VTD_BIT(30) /* set root table pointer (1-shot)/ GSTS.RTPS */
#define VTD_GCMD_SFL   VTD_BIT(29) /* deprecated, one-shot                         */
#define VTD_GCMD_EAFL  VTD_BIT(28) /* deprecated                                   */
#define VTD_GCMD_WBF   VTD_BIT(27) /* write buffer flush (1-shot)   / GSTS.WBFS  */
#define VTD_GCMD_QIE   VTD_BIT(26) /* queued invalidation enable    / GSTS.QIES  */
#define VTD_GCMD_IRE   VTD_BIT(25) /* interrupt remapping enable    / GSTS.IRES  */
#define VTD_GCMD_SIRTP VTD_BIT(24) /* set IRT pointer (1-shot)      / GSTS.IRTPS */
#define VTD_GCMD_CFI   VTD_BIT(23) /* compatibility format interrupt               */
#define VTD_GSTS_TES   VTD_GCMD_TE
#define VTD_GSTS_RTPS  VTD_GCMD_SRTP
#define VTD_GSTS_QIES  VTD_GCMD_QIE
#define VTD_GSTS_IRES  VTD_GCMD_IRE
/* Spec recipe: GSTS & VTD_GCMD_KEEP_MASK drops the one-shot bits before setting one command. */
#define VTD_GCMD_KEEP_MASK 0x96FFFFFFu

/* RTADDR (11.4.6): [63:12] root table address, [11:10] TTM translation table mode. */
#define VTD_RTADDR_ADDR_MASK VTD_MASK(63, 12)
#define VTD_RTADDR_TTM_SHIFT 10
#define VTD_RTADDR_TTM_MASK  (3ull << VTD_RTADDR_TTM_SHIFT)
enum vtd_ttm { VTD_TTM_LEGACY = 0, VTD_TTM_SCALABLE = 1, VTD_TTM_RESERVED = 2, VTD_TTM_ABORT = 3 };

/* FSTS (11.4.7.1). RW1CS bits clear on write-1. Bits 2, 3, 7 were AFO/APF/PRO in older
 * revisions and are reserved in 5.10. */
#define VTD_FSTS_PFO       VTD_BIT(0) /* RW1CS */
#define VTD_FSTS_PPF       VTD_BIT(1) /* ROS, computed */
#define VTD_FSTS_AFO       VTD_BIT(2) /* obsolete */
#define VTD_FSTS_APF       VTD_BIT(3) /* obsolete */
#define VTD_FSTS_IQE       VTD_BIT(4) /* RW1CS: invalidation queue error */
#define VTD_FSTS_ICE       VTD_BIT(5) /* RW1CS: invalidation completion error */
#define VTD_FSTS_ITE       VTD_BIT(6) /* RW1CS: invalidation time-out error */
#define VTD_FSTS_PRO       VTD_BIT(7) /* obsolete */
#define VTD_FSTS_FRI_SHIFT 8
#define VTD_FSTS_FRI_MASK  VTD_MASK(15, 8)
#define VTD_FSTS_RW1C      (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)
#define VTD_FSTS_ERRORS    (VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)

/* FECTL / IECTL (11.4.7.2, 11.4.9.5): IM resets to 1. */
#define VTD_ECTL_IM VTD_BIT(31)
#define VTD_ECTL_IP VTD_BIT(30)

/* ICS (11.4.9.4). */
#define VTD_ICS_IWC VTD_BIT(0)

/* IQH / IQT (11.4.9.1-2): byte offset of a slot in bits 18:4. With DW=1, bit 4 must be 0. */
#define VTD_IQ_OFFSET_MASK VTD_MASK(18, 4)

/* IQA (11.4.9.3). Entries: 2^(QS+8) for 128-bit descriptors, 2^(QS+7) for 256-bit. */
#define VTD_IQA_ADDR_MASK VTD_MASK(63, 12)
#define VTD_IQA_DW        VTD_BIT(11)
#define VTD_IQA_QS_MASK   7ull
#define VTD_IQA_QS_MAX    7u

/* IQERCD (11.4.9.9). */
#define VTD_IQERCD_IQEI_MASK    0xFull
#define VTD_IQERCD_ITESID_SHIFT 32
#define VTD_IQERCD_ICESID_SHIFT 48

/* Invalidation queue error information codes (IQEI). */
enum vtd_iqei {
    VTD_IQEI_NO_INFO = 0,    /* older hardware records nothing */
    VTD_IQEI_TAIL = 1,       /* invalid tail pointer (beyond the queue) */
    VTD_IQEI_FETCH = 2,      /* descriptor fetch failed */
    VTD_IQEI_TYPE = 3,       /* invalid descriptor type for this mode and capabilities */
    VTD_IQEI_RSVD = 4,       /* reserved field set, reserved granularity, limits exceeded */
    VTD_IQEI_WIDTH = 5,      /* IQA.DW does not suit RTADDR.TTM / ECAP */
    VTD_IQEI_TAIL_ALIGN = 6, /* DW=1 and IQT bit 4 set */
    VTD_IQEI_TTM = 7,        /* RTADDR.TTM reserved value */
};

/* CAP_REG (11.4.2) fields that matter here. */
#define VTD_CAP_ND_MASK     7ull
#define VTD_CAP_RWBF        VTD_BIT(4)
#define VTD_CAP_CM          VTD_BIT(7)
#define VTD_CAP_SAGAW_SHIFT 8
#define VTD_CAP_MGAW_SHIFT  16
#define VTD_CAP_PSI         VTD_BIT(39)
#define VTD_CAP_MAMV_SHIFT  48
#define VTD_CAP_MAMV_MASK   (0x3Full << VTD_CAP_MAMV_SHIFT)
#define VTD_CAP_DWD         VTD_BIT(54)
#define VTD_CAP_DRD         VTD_BIT(55)

/* ECAP_REG (11.4.3), 5.10 layout. */
#define VTD_ECAP_C          VTD_BIT(0)
#define VTD_ECAP_QI         VTD_BIT(1)
#define VTD_ECAP_DT         VTD_BIT(2)
#define VTD_ECAP_IR         VTD_BIT(3)
#define VTD_ECAP_EIM        VTD_BIT(4)
#define VTD_ECAP_MHMV_SHIFT 20
#define VTD_ECAP_MHMV_MASK  (0xFull << VTD_ECAP_MHMV_SHIFT)
#define VTD_ECAP_PRS        VTD_BIT(29)
#define VTD_ECAP_PASID      VTD_BIT(40)
#define VTD_ECAP_DIT        VTD_BIT(41)
#define VTD_ECAP_PDS        VTD_BIT(42)
#define VTD_ECAP_SMTS       VTD_BIT(43)
#define VTD_ECAP_ADMS       VTD_BIT(52)
#define VTD_ECAP_HPTS       VTD_BIT(55)

/* ---------------------------------------------------------------------------------------------
 * Translation structures the model walks (legacy mode, spec 9.1-9.3): root entries and
 * context entries are 128 bits, second-level paging entries 64 bits.
 */
#define VTD_ROOT_P        VTD_BIT(0) /* lo: present; lo[63:12] context-table pointer */
#define VTD_CTX_P         VTD_BIT(0) /* lo */
#define VTD_CTX_FPD       VTD_BIT(1) /* lo: fault processing disable */
#define VTD_CTX_TT_SHIFT  2          /* lo[3:2] translation type */
#define VTD_CTX_TT_MASK   (3ull << VTD_CTX_TT_SHIFT)
#define VTD_CTX_ADDR_MASK VTD_MASK(63, 12) /* lo: second-level page-table pointer */
#define VTD_CTX_AW_MASK   7ull             /* hi[2:0] address width: 1 = 39-bit, 2 = 48-bit */
#define VTD_CTX_DID_SHIFT 8                /* hi[23:8] domain id */
enum vtd_ctx_tt {
    VTD_TT_UNTRANSLATED = 0, /* untranslated requests only; ATS blocked */
    VTD_TT_DEVTLB = 1,       /* untranslated, translation and translated requests (ATS) */
    VTD_TT_PASSTHROUGH = 2,
};
#define VTD_SL_R         VTD_BIT(0)
#define VTD_SL_W         VTD_BIT(1)
#define VTD_SL_PS        VTD_BIT(7) /* super page at level 2 (2 MiB) or 3 (1 GiB) */
#define VTD_SL_ADDR_MASK VTD_MASK(51, 12)

/* ---------------------------------------------------------------------------------------------
 * Descriptors (spec 6.5.2). A descriptor is up to four quadwords; QW0 holds bits 63:0. In a
 * 128-bit queue only qw[0..1] exist; types 1-5 in a 256-bit queue carry qw[2..3] = 0.
 * The 7-bit type is QW0[3:0] | QW0[11:9] << 4.
 */
typedef struct vtd_desc {
    uint64_t qw[4];
} vtd_desc;

enum vtd_desc_type {
    VTD_DESC_CC = 0x1,        /* context-cache invalidate */
    VTD_DESC_IOTLB = 0x2,     /* IOTLB invalidate */
    VTD_DESC_DEVTLB = 0x3,    /* device-TLB (ATS) invalidate */
    VTD_DESC_IEC = 0x4,       /* interrupt-entry-cache invalidate */
    VTD_DESC_WAIT = 0x5,      /* invalidation wait */
    VTD_DESC_PIOTLB = 0x6,    /* PASID-based IOTLB invalidate (256-bit only) */
    VTD_DESC_PC = 0x7,        /* PASID-cache invalidate (256-bit only) */
    VTD_DESC_PDEVTLB = 0x8,   /* PASID-based device-TLB invalidate (256-bit only) */
    VTD_DESC_PGRP_RESP = 0x9, /* page group response (256-bit only) */
    VTD_DESC_HPT = 0xA,       /* HPT cache invalidate (256-bit only, rev 5.x) */
};
#define VTD_DESC_TYPE_MAX 0x7F

/* Granularities. */
enum vtd_cc_g { VTD_CC_G_GLOBAL = 1, VTD_CC_G_DOMAIN = 2, VTD_CC_G_DEVICE = 3 };
enum vtd_iotlb_g { VTD_IOTLB_G_GLOBAL = 1, VTD_IOTLB_G_DOMAIN = 2, VTD_IOTLB_G_PAGE = 3 };
enum vtd_piotlb_g { VTD_PIOTLB_G_PASID = 2, VTD_PIOTLB_G_PAGE = 3 };
enum vtd_pc_g { VTD_PC_G_DOMAIN = 0, VTD_PC_G_PASID = 1, VTD_PC_G_GLOBAL = 3 };
enum vtd_hpt_g { VTD_HPT_G_GLOBAL = 1, VTD_HPT_G_DOMAIN = 2, VTD_HPT_G_PAGE = 3 };

/* Field views. Addresses are full byte addresses (low 12 bits zero where the format holds a
 * page address); an encoder refuses a value that does not fit its field. */
struct vtd_cc {
    uint8_t g;    /* enum vtd_cc_g (0 is reserved) */
    uint16_t did; /* domain / device granularity */
    uint16_t sid; /* device granularity */
    uint8_t fm;   /* function mask, 0..3 */
};
struct vtd_iotlb {
    uint8_t g; /* enum vtd_iotlb_g */
    bool dr, dw;
    uint16_t did;
    uint8_t am; /* address mask: 2^am pages, 0..63 */
    bool ih;
    uint64_t addr;
};
struct vtd_devtlb {
    uint16_t sid;
    uint16_t pfsid; /* meaningful only with ECAP.DIT, else must be 0 */
    uint8_t mip;    /* 0..31 */
    bool s;         /* size bit: range encoded in addr (ATS encoding) */
    uint64_t addr;
};
struct vtd_iec {
    bool index; /* G: false = global, true = index-selective */
    uint8_t im; /* 0..31 */
    uint16_t iidx;
};
struct vtd_wait {
    bool intr; /* IF: set ICS.IWC on completion */
    bool sw;   /* SW: write status_data to status_addr on completion */
    bool fn;   /* FN: later descriptors wait for this one */
    bool pd;   /* PD: page-request drain, only with ECAP.PDS */
    uint32_t status_data;
    uint64_t status_addr; /* dword aligned */
};
struct vtd_piotlb {
    uint8_t g; /* enum vtd_piotlb_g */
    uint16_t did;
    uint32_t pasid; /* 20 bits */
    uint8_t am;
    bool ih;
    uint64_t addr;
};
struct vtd_pc {
    uint8_t g; /* enum vtd_pc_g */
    uint16_t did;
    uint32_t pasid;
};
struct vtd_pdevtlb {
    uint16_t sid;
    uint16_t pfsid;
    uint8_t mip;
    uint32_t pasid;
    bool gi; /* global invalidate: all PASIDs */
    bool s;
    uint64_t addr;
};
struct vtd_pgrp_resp {
    bool pp;      /* PASID present */
    uint8_t rc;   /* response code: 0 success, 1 invalid request, 0xF failure */
    uint16_t rid; /* requester id */
    uint32_t pasid;
    uint16_t prgi; /* page request group index, 9 bits */
};
struct vtd_hpt {
    uint8_t g;
    uint16_t hptdid;
    uint8_t am;
    uint8_t ih; /* 2 bits */
    uint64_t addr;
};

typedef struct vtd_fields {
    uint8_t type; /* enum vtd_desc_type */
    union {
        struct vtd_cc cc;
        struct vtd_iotlb iotlb;
        struct vtd_devtlb devtlb;
        struct vtd_iec iec;
        struct vtd_wait wait;
        struct vtd_piotlb piotlb;
        struct vtd_pc pc;
        struct vtd_pdevtlb pdevtlb;
        struct vtd_pgrp_resp pgrp;
        struct vtd_hpt hpt;
    } u;
} vtd_fields;

/* What the validator needs to know about the IOMMU and the queue. */
typedef struct vtd_qctx {
    uint64_t cap, ecap;   /* CAP_REG / ECAP_REG */
    uint8_t ttm;          /* RTADDR.TTM, enum vtd_ttm */
    bool dw256;           /* IQA.DW: the queue holds 256-bit descriptors */
    bool strict_reserved; /* false: reserved-field violations are ignored (IQEI 4 never raised) */
    uint8_t haw;          /* host address width, for the wait status address (bits above ignored) */
} vtd_qctx;

/* Result of encode/decode/validate. */
enum vtd_err {
    VTD_OK = 0,
    VTD_EFIELD = -1, /* a field value does not fit its encoding (encode) */
    VTD_ETYPE = -2,  /* unknown type code (encode/decode) */
};

/* Type code of a raw descriptor (7 bits: QW0[3:0] and QW0[11:9]). */
static inline unsigned vtd_desc_type(const vtd_desc *d)
{
    return (unsigned)((d->qw[0] & 0xF) | ((d->qw[0] >> 9) & 0x7) << 4);
}

/* True for types that exist only in the 256-bit format (6..0xA). */
static inline bool vtd_type_is_256_only(unsigned type)
{
    return type >= VTD_DESC_PIOTLB && type <= VTD_DESC_HPT;
}

/* Encode fields into a zeroed descriptor. Returns VTD_OK, or VTD_EFIELD with *bad_field (if
 * bad_field is non-NULL) naming the field that does not fit, or VTD_ETYPE. */
int vtd_encode(const vtd_fields *f, vtd_desc *out, const char **bad_field);

/* Decode the fields of a descriptor of a known type, ignoring reserved bits. Returns VTD_OK or
 * VTD_ETYPE (type 0 or above 0xA). *out is zeroed first; out->type is set in both cases. */
int vtd_decode(const vtd_desc *d, vtd_fields *out);

/* Validate a descriptor as the IOMMU does when it fetches it: returns 0 when valid, otherwise
 * the IQEI code (VTD_IQEI_TYPE, VTD_IQEI_RSVD, VTD_IQEI_WIDTH or VTD_IQEI_TTM) and, if why is
 * non-NULL, a static string naming the rule (NULL when valid). Queue-level rules (width vs TTM)
 * are checked first. */
unsigned vtd_validate(const vtd_desc *d, const vtd_qctx *ctx, const char **why);

/* vtd_validate(), also handing out the decoding it made: when it returns 0, *f holds what
 * vtd_decode() would (when it does not, *f is unspecified). For a caller that needs both. */
unsigned vtd_validate_decode(const vtd_desc *d, const vtd_qctx *ctx, vtd_fields *f,
                             const char **why);

/* Queue arithmetic. */
static inline unsigned vtd_desc_shift(bool dw256)
{
    return dw256 ? 5 : 4;
}
static inline uint32_t vtd_queue_entries(unsigned qs, bool dw256)
{
    return 1u << (qs + (dw256 ? 7 : 8));
}

/* Convenience builders for the common descriptors (all valid on any DT-capable IOMMU; a
 * page-selective IOTLB invalidation also needs CAP.PSI and am <= CAP.MAMV). They never fail:
 * arguments are masked to their fields (addresses lose bits 1:0 or 11:0, am keeps 6 bits, fm 2). */
vtd_desc vtd_make_wait(bool sw, bool intr, bool fn, uint32_t data, uint64_t addr);
vtd_desc vtd_make_iotlb_global(void);
vtd_desc vtd_make_iotlb_domain(uint16_t did);
vtd_desc vtd_make_iotlb_page(uint16_t did, uint64_t addr, uint8_t am, bool ih);
vtd_desc vtd_make_cc_global(void);
vtd_desc vtd_make_cc_device(uint16_t did, uint16_t sid, uint8_t fm);
/* Device-TLB invalidation of `pages` 4 KiB pages (a power of two; others are rounded up) at
 * addr, rounded down to the size, using the ATS size encoding; pages == 0, or more than bits
 * 12..62 can encode, means the whole address space (global). */
vtd_desc vtd_make_devtlb(uint16_t sid, uint64_t addr, uint64_t pages);

/* ATS size encoding (types 3 and 8): the byte range [*start, *start + *len) a device-TLB
 * invalidation covers. S=0: 4 KiB at addr. S=1: the lowest zero bit of addr at or above bit 12
 * gives the size (bit 12 zero: 8 KiB, ...); all ones above bit 12 (bit 63 aside) is global,
 * reported as *start = 0, *len = 0 (0 standing for the whole 2^64-byte space). */
void vtd_devtlb_range(uint64_t addr, bool s, uint64_t *start, uint64_t *len);

#endif /* QINVAL_VTD_H */
