/*
 * tiny.c — a program built against an installed libqinval (tests/install/install.sh): it
 * includes the installed headers, encodes a descriptor with the codec and checks it decodes,
 * and links the engine (its platform functions come from tests/freestanding/plat_stubs.c).
 */
#include <stdio.h>

#include <qinval/engine.h>
#include <qinval/version.h>
#include <qinval/vtd.h>

int main(void)
{
    vtd_desc d = vtd_make_iotlb_page(1, 0x100000, 0, false);
    int (*init)(qi_engine *, qi_platform *, const qi_engine_config *) = qi_engine_init;
    printf("qinval %s: descriptor type %u, engine at %p\n", QINVAL_VERSION, vtd_desc_type(&d),
           (void *)(size_t)(init != NULL));
    return vtd_desc_type(&d) == VTD_DESC_IOTLB && init ? 0 : 1;
}
