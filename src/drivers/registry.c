/*
 * registry.c — every driver the checker knows, by name (`qinval list drivers`).
 */
#include <string.h>

#include "drivers/driver.h"
#include "drivers/ref_common.h"

const sim_driver_ops *const sim_drivers[] = {
    &ref_legacy_odd_ops,
    &ref_eagain_any_ite_ops,
    &ref_step1_nowait_ops,
    &engine_ops,
    &engine_trusting_ops,
    &kernel_ops,
    NULL,
};

const sim_driver_ops *sim_driver_find(const char *name)
{
    if (!name)
        return NULL;
    for (const sim_driver_ops *const *d = sim_drivers; *d; d++)
        if (strcmp((*d)->name, name) == 0)
            return *d;
    return NULL;
}
