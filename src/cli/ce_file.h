/*
 * ce_file.h — counterexample files and result printing for the CLI: the JSON result object of
 * DESIGN §7 (driver, scenario, strategy, seed, verdict, executions, seconds, counterexample),
 * saving and loading a replayable counterexample, and the text rendering of one.
 */
#ifndef QINVAL_CLI_CE_FILE_H
#define QINVAL_CLI_CE_FILE_H

#include <stdio.h>

#include "check/explore.h"

#define CE_MAX_SETS 64

struct ce_file {
    const char *driver, *scenario, *strategy, *verdict;
    const char *const *sets;
    unsigned nsets;
    unsigned long long seed;
    const struct chk_pick *picks;
    size_t npicks;
};

/* Owned storage for a loaded file. */
struct ce_loaded {
    struct ce_file f;
    char driver[64], scenario[64], strategy[16], verdict[32];
    char setbuf[CE_MAX_SETS][96];
    const char *setp[CE_MAX_SETS];
    struct chk_pick *picks;
};

int ce_save(const char *path, const struct ce_file *ce);
/* Returns 0, or -1 with a one-line message in err. */
int ce_load(const char *path, struct ce_loaded *out, char *err, size_t errlen);
void ce_loaded_free(struct ce_loaded *l);

void cli_print_json(const struct ce_file *ce, const chk_report *rep, FILE *out);
/* Header line, the counterexample's timeline (by replaying it) and the oracle's words. */
void cli_print_counterexample(const struct ce_file *ce, const scenario *sc,
                              const sim_driver_ops *drv, const chk_report *rep, FILE *out);

int cli_load(const char *driver, const char *name, const char *const *sets, unsigned nsets,
             scenario *sc, const sim_driver_ops **drv);
const char *cli_scenario_dir(void);

#endif /* QINVAL_CLI_CE_FILE_H */
