/*
 * sweep_out.h — the reports of `qinval sweep` (src/cli/sweep.c) and of `qinval merge` on sweep
 * shards (src/cli/sweep_merge.c): one writer per format, reading only the finished sweep
 * (src/check/sweep.h) and what was asked, so that merged shards print what one process prints.
 */
#ifndef QINVAL_CLI_SWEEP_OUT_H
#define QINVAL_CLI_SWEEP_OUT_H

#include <stdio.h>

#include "check/sweep.h"

/* What a sweep was asked to do: shards of one sweep agree on all of it. */
struct sw_identity {
    const char *driver;
    const char *const *settings; /* the driver's own settings ("ksrc=...", "kcall=...") */
    unsigned nsettings;
    const char *ktree;       /* --driver kernel: the tree's identity, else NULL */
    const char *const *sets; /* the user's scenario --set keys */
    unsigned nsets;
    uint64_t seed, executions; /* executions: the budget asked for, 0 for the default */
    double time_budget;        /* 0: none */
    unsigned random_points;
};

/* The JSON object (a shard's, with "shard" when s->shard_n > 1). */
void sw_write_json(FILE *out, const struct sw_identity *id, const chk_sweep *s);
/* Failure i as a member of a JSON array (first: the array's first member). */
void sw_write_failure(FILE *out, const struct sw_identity *id, const chk_sweep *s, unsigned i,
                      bool first);
/* A failure's counterexample as a counterexample-file object (qinval replay reads it). */
void sw_write_ce(FILE *out, const struct sw_identity *id, const chk_sweep *s,
                 const struct chk_sw_failure *f);
/* Human forms. ce_paths[i]: where failure i's counterexample was saved, or NULL. */
void sw_write_text(FILE *out, const struct sw_identity *id, const chk_sweep *s,
                   char *const *ce_paths);
void sw_write_markdown(FILE *out, const struct sw_identity *id, const chk_sweep *s,
                       char *const *ce_paths);
void sw_write_ktap(FILE *out, const struct sw_identity *id, const chk_sweep *s,
                   char *const *ce_paths);
/* Save each failure's counterexample in dir (created if missing) as F<n>-SCENARIO.json,
 * replacing a file of that name. *paths gets s->nfail names (free with sw_free_paths). 0, or -1
 * with a one-line reason. */
int sw_save_all(const char *dir, const struct sw_identity *id, const chk_sweep *s, char ***paths,
                char *err, size_t errlen);
void sw_free_paths(char **paths, unsigned n);
/* The first line of the text form: what ran and how many failures. */
void sw_summary(FILE *out, const struct sw_identity *id, const chk_sweep *s);

#endif /* QINVAL_CLI_SWEEP_OUT_H */
