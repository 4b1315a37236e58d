/*
 * engine_run.h — the two back ends of `qinval engine-run` (engine_run.c): the workload of
 * engine_work.h on QEMU's intel-iommu and on the hardware model. Each fills res[ew_ncalls()]
 * and the figures.
 */
#ifndef QINVAL_ENGINE_RUN_H
#define QINVAL_ENGINE_RUN_H

#include <stddef.h>

#include "cli/engine_work.h"

/* Return values of the back ends. */
#define ERUN_OK          0
#define ERUN_UNAVAILABLE (-1) /* QEMU could not be started (err says why) */
#define ERUN_FAILED      (-2) /* set-up failed or the run broke off (err says why) */

int erun_qemu(const ew_plan *pl, qi_result *res, ew_figures *fig, char *err, size_t errlen);

/* Model options: a hardware behaviour to compare against. */
typedef struct erun_model_opts {
    bool iqe_resume_on_tail; /* hw_config.iqe_resume_on_tail: QEMU's resume after an IQE */
    uint64_t seed;           /* the schedule of the simulated CPUs */
} erun_model_opts;

int erun_model(const ew_plan *pl, const erun_model_opts *o, qi_result *res, ew_figures *fig,
               char *err, size_t errlen);

#endif /* QINVAL_ENGINE_RUN_H */
