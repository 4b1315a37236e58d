/*
 * ce_file.h — counterexample files and result printing for the CLI: the JSON result object (at
 * least driver, scenario, strategy, seed, verdict, executions, seconds, and on failure the
 * counterexample: schedule, timeline, the oracle's words; tests and tools rely on these) that
 * `check --format json` prints and `merge` combines, saving and loading a replayable
 * counterexample (a counterexample file, or a check or merge result with a violation), and the
 * text rendering of one.
 */
#ifndef QINVAL_CLI_CE_FILE_H
#define QINVAL_CLI_CE_FILE_H

#include <stdio.h>

#include "check/explore.h"
#include "cli/json.h"

#define CE_MAX_SETS 64

/* What a run explored (its identity) and, for a violation, the counterexample's decisions. */
struct ce_file {
    const char *driver, *scenario, *strategy, *verdict;
    const char *const *sets;
    unsigned nsets;
    const char *ktree; /* --driver kernel: the tree's identity (kernel_drv_tree_id), or NULL */
    unsigned long long seed;
    unsigned pct_depth, dfs_bound; /* 0 unless the strategy is pct, resp. dfs */
    bool dpor_strict;              /* --bound none --no-assume (JSON "dpor_strict": true) */
    bool local_time;               /* found with per-CPU clocks, and replayed so (JSON
                                      "time_model": "local"; absent: one clock) */
    const struct chk_pick *picks;
    size_t npicks;
};

/* The "counterexample" object of a result. */
struct ce_counterexample {
    uint64_t execution; /* global index of the failing execution */
    uint64_t virtual_time_ns;
    const char *oracle;
    /* The failure's signature (chk_signature) and its two parts; NULL in a result written
     * before they existed (then left out when it is written again). */
    const char *signature, *where, *trigger;
    const struct chk_pick *picks;
    size_t npicks;
    const char *const *timeline;
    size_t ntimeline;
    const char (*reductions)[CHK_REDUCTION_LEN]; /* minimisation's --set keys (may be NULL) */
    unsigned nreductions;
};

/* A loaded counterexample file or result; strings point into the parsed tree. */
struct ce_loaded {
    json_value *root;
    bool is_result;              /* a check or merge result, not a counterexample file */
    struct ce_file f;            /* f.picks: the counterexample's schedule */
    bool has_counterexample;     /* a result with a violation */
    struct ce_counterexample cx; /* valid when has_counterexample */
    const char **setp, **timeline;
    struct chk_pick *picks;
};

/* Write the counterexample file, complete or not at all (src/util/atomic_file.h): to `path`,
 * replacing it, or with `fresh` as a new file named after path that replaces none (path, else
 * path with -2, -3, ... before ".json"). The name it got goes to saved. 0, or -1 with a
 * one-line reason in err. Whether an explicit path can be written is checked before a run with
 * af_check. */
int ce_save(const char *path, bool fresh, const struct ce_file *ce, char *saved, size_t savedlen,
            char *err, size_t errlen);
/* Read a counterexample file or a result. Returns 0, or -1 with a one-line message in err. */
int ce_load(const char *path, struct ce_loaded *out, char *err, size_t errlen);
/* The same from a parsed tree, which `out` then owns (also on failure). */
int ce_from_json(json_value *root, struct ce_loaded *out, char *err, size_t errlen);
void ce_loaded_free(struct ce_loaded *l);
/* `qinval merge`'s reading of one shard (src/cli/merge.c): is the tree a check result of one
 * shard it can merge? 0, or -1 with a one-line reason in err. The tree is freed in both cases. */
int merge_check_shard(json_value *root, char *err, size_t errlen);

/* A result object in pieces: the opening with the run's identity, the caller's own members
 * (each written as ",\n  \"key\": value"), the counterexample, the closing. */
void ce_write_result_head(FILE *out, const struct ce_file *ce);
/* What a complete `--bound none` search covered, with what it assumed (strict: nothing), as
 * check and merge print it after the executions: ", every interleaving covered (...)". */
const char *ce_unbounded_words(bool strict, bool local_time);
void ce_write_counterexample(FILE *out, const struct ce_counterexample *cx);
void ce_write_result_end(FILE *out);

/* `check --format json`: the whole result of one (possibly sharded) exploration. */
void cli_print_json(const struct ce_file *ce, const chk_report *rep, const chk_options *opt,
                    FILE *out);
/* Header line, the counterexample's timeline (by replaying it) and the oracle's words. */
void cli_print_counterexample(const struct ce_file *ce, const scenario *sc,
                              const sim_driver_ops *drv, const chk_report *rep, FILE *out);
/* "schedule: N forced decisions (pos:v ...)" */
void cli_print_schedule(FILE *out, const struct chk_pick *picks, size_t npicks);

/* Where a --set list comes from. The user's own command line may name a kernel tree to build
 * and load (ksrc=PATH). A file (a counterexample or result someone may have mailed) is data:
 * its ksrc= is never applied, the tree comes from the command line or QINVAL_KSRC. */
enum cli_sets_origin { CLI_SETS_ARGS, CLI_SETS_FILE };

/* What to load: driver, scenario, its --set list and where that came from, and settings the
 * user gave on this command line besides (replay's --ksrc as "ksrc=PATH"). */
struct cli_request {
    const char *driver, *scenario;
    const char *const *sets;
    unsigned nsets;
    enum cli_sets_origin origin;
    const char *const *user;
    unsigned nuser;
};
int cli_load_request(const struct cli_request *rq, scenario *sc, const sim_driver_ops **drv);

/* The scenario `name` with its --set overrides, and the driver: a catalog name, or a file of
 * one's own when `name` is a path (cli_scenario_is_file). 0, or the exit status after one line
 * on stderr. */
int cli_load(const char *driver, const char *name, const char *const *sets, unsigned nsets,
             enum cli_sets_origin origin, scenario *sc, const sim_driver_ops **drv);
/* `--scenario` names a file rather than the catalog: it holds a '/' or ends in ".scn". */
bool cli_scenario_is_file(const char *name);
const char *cli_scenario_dir(void);
/* 0 when cli_scenario_dir() is a catalog; else says so on stderr and returns the usage exit
 * status (a command that walks the catalog must not list or check nothing in silence). */
int cli_need_catalog(void);

/* Option parsers shared by check and sweep; messages start with cli_prog. 0, or -1 after one
 * line on stderr. */
extern const char *cli_prog;
int cli_parse_range(const char *flag, const char *v, uint64_t lo, uint64_t hi, uint64_t *out);
int cli_parse_seconds(const char *v, double *out);
int cli_parse_shard(const char *v, chk_options *o);
/* Is `set` ("KEY=VALUE") one of the driver's own settings (setting_keys)? */
bool cli_driver_setting(const sim_driver_ops *drv, const char *set);

#endif /* QINVAL_CLI_CE_FILE_H */
