/*
 * vtd_format.h — names and one-line renderings of VT-d values for logs, timelines and error
 * messages. Hosted code only (uses snprintf); the freestanding engine does not include it.
 */
#ifndef QINVAL_VTD_FORMAT_H
#define QINVAL_VTD_FORMAT_H

#include <qinval/vtd.h>

/* Short lower-case name of a descriptor type ("iotlb", "devtlb", "wait", ...); "invalid" for
 * type 0 and unknown codes. */
const char *vtd_desc_type_name(unsigned type);

/* Name of an IQEI code ("invalid descriptor type", ...); "undefined" for 8..15. */
const char *vtd_iqei_name(unsigned iqei);

/* Register name at an offset ("IQT", "FSTS", ...), or NULL for an offset with no register. */
const char *vtd_reg_name(uint32_t offset);

/* "bb:dd.f" for a PCI requester id; buf must hold at least 8 bytes. Returns buf. */
char *vtd_sid_format(uint16_t sid, char *buf);

/* One line describing a descriptor, e.g. "iotlb page did=1 addr=0x1000 am=0" or
 * "wait sw if data=0x1 addr=0x2000"; invalid types render their raw quadwords.
 * Returns what snprintf returns. */
int vtd_desc_format(const vtd_desc *d, char *buf, size_t len);

#endif /* QINVAL_VTD_FORMAT_H */
