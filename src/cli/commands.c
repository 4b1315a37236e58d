/*
 * commands.c — `qinval replay [--trace FILE] [--ksrc PATH] FILE` (a counterexample file, or a
 * check or merge result with a violation), `qinval list drivers|scenarios` and `qinval matrix`
 * (every driver on every scenario, one verdict each, with the default budget; as a table or as
 * KTAP; the kernel driver only when a kernel tree is configured with QINVAL_KSRC, so the matrix
 * runs on machines without kernel sources).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/explore.h"
#include "cli/ce_file.h"
#include "cli/cli.h"
#include "cli/trace_out.h"
#include "drivers/driver.h"
#include "report/ktap.h"
#include "util/atomic_file.h"

/* replay's arguments: [--trace FILE] [--ksrc PATH] FILE, in any order. */
static int replay_args(int argc, char **argv, const char **file, const char **trace,
                       const char **ksrc)
{
    *file = *trace = *ksrc = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--trace") && i + 1 < argc && !*trace)
            *trace = argv[++i];
        else if (!strcmp(argv[i], "--ksrc") && i + 1 < argc && !*ksrc)
            *ksrc = argv[++i];
        else if (argv[i][0] != '-' && !*file)
            *file = argv[i];
        else
            return -1;
    }
    return *file ? 0 : -1;
}

/* The tree a kernel counterexample was recorded on, as its --set list names it (or NULL). */
static const char *recorded_ksrc(const struct ce_file *f)
{
    const char *t = NULL;
    for (unsigned i = 0; i < f->nsets; i++)
        if (!strncmp(f->sets[i], "ksrc=", 5))
            t = f->sets[i] + 5;
    return t;
}

/* A counterexample of --driver kernel replays on the tree the user names (--ksrc or
 * QINVAL_KSRC), never on one the file names: building that tree would compile and load
 * whatever code it holds (cli_load_request drops the file's ksrc=). The file's tree is shown;
 * after loading, its identity is compared (check_tree_after). 0, or the usage exit status
 * after one line on stderr. */
static int choose_tree(const char *file, const struct ce_file *f, const char *ksrc)
{
    if (strcmp(f->driver, kernel_ops.name))
        return ksrc ? (fprintf(stderr,
                               "qinval replay: --ksrc is only for a counterexample of "
                               "--driver kernel (%s is of --driver %s)\n",
                               file, f->driver),
                       CLI_EXIT_USAGE)
                    : 0;
    const char *rec = recorded_ksrc(f), *use = ksrc ? ksrc : kernel_drv_env_ksrc();
    if (!use) {
        fprintf(stderr,
                "qinval replay: %s was recorded with --driver kernel on the tree %s; replay "
                "never builds a tree a file names: give it with --ksrc PATH or QINVAL_KSRC=PATH\n",
                file, rec ? rec : "(not named)");
        return CLI_EXIT_USAGE;
    }
    fprintf(stderr, "qinval replay: kernel tree %s (the file was recorded on %s%s%s)\n", use,
            rec ? rec : "an unnamed tree", f->ktree ? ", identity " : "", f->ktree ? f->ktree : "");
    return 0;
}

/* After the tree loaded: does it hold the code the file was recorded on? */
static void check_tree_after(const struct ce_file *f)
{
    const char *id = kernel_drv_tree_id();
    if (strcmp(f->driver, kernel_ops.name))
        return;
    if (!f->ktree)
        fprintf(stderr,
                "qinval replay: warning: the file does not record its tree's identity "
                "(an older qinval): cannot tell whether %s holds the same code\n",
                kernel_drv_loaded());
    else if (strcmp(f->ktree, id))
        fprintf(stderr,
                "qinval replay: warning: %s (identity %s) is not the code the file was recorded "
                "on (identity %s): the replay runs other code and may not reproduce it\n",
                kernel_drv_loaded(), id, f->ktree);
}

int cli_replay(int argc, char **argv)
{
    const char *file, *trace_path, *ksrc;
    if (replay_args(argc, argv, &file, &trace_path, &ksrc)) {
        fprintf(stderr, "qinval replay: needs exactly one counterexample file (and optionally "
                        "--trace FILE, --ksrc PATH)\n");
        return CLI_EXIT_USAGE;
    }
    struct ce_loaded l;
    char err[300];
    if (ce_load(file, &l, err, sizeof(err))) {
        fprintf(stderr, "qinval replay: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    if (l.is_result && !l.has_counterexample) {
        fprintf(stderr, "qinval replay: %s: the result found no violation, nothing to replay\n",
                file);
        ce_loaded_free(&l);
        return CLI_EXIT_USAGE;
    }
    if (choose_tree(file, &l.f, ksrc)) {
        ce_loaded_free(&l);
        return CLI_EXIT_USAGE;
    }
    bool trace_ok = !trace_path || !cli_trace_check("qinval replay", trace_path);
    scenario *sc = trace_ok ? malloc(sizeof(*sc)) : NULL;
    const sim_driver_ops *drv;
    char user_ksrc[4200];
    const char *user[1] = {user_ksrc};
    snprintf(user_ksrc, sizeof(user_ksrc), "ksrc=%s", ksrc ? ksrc : "");
    struct cli_request rq = {.driver = l.f.driver,
                             .scenario = l.f.scenario,
                             .sets = l.f.sets,
                             .nsets = l.f.nsets,
                             .origin = CLI_SETS_FILE,
                             .user = user,
                             .nuser = ksrc ? 1 : 0};
    int rc = !trace_ok ? CLI_EXIT_USAGE : sc ? cli_load_request(&rq, sc, &drv) : CLI_EXIT_INTERNAL;
    if (rc == 0) {
        check_tree_after(&l.f);
        chk_report rep = {
            .picks = l.picks, .npicks = l.f.npicks, .executions = 1, .local_time = l.f.local_time};
        chk__set_local_time(rep.local_time); /* the time model it was found in */
        size_t misfits = chk_replay_misfits(sc, drv, rep.picks, rep.npicks, &rep.result);
        rep.verdict = rep.result.verdict;
        if (misfits)
            fprintf(stderr,
                    "qinval replay: warning: %zu of the file's %zu decisions do not fit this "
                    "execution (an option the decision does not have, or a position it never "
                    "reaches) and were taken as the default: this is not the execution the file "
                    "recorded (another scenario or version of qinval, or an edited file)\n",
                    misfits, rep.npicks);
        if (rep.verdict != CHK_PASS && strcmp(l.f.verdict, chk_verdict_name(rep.verdict)))
            fprintf(stderr, "qinval replay: warning: the file records %s, this replay gives %s\n",
                    l.f.verdict, chk_verdict_name(rep.verdict));
        struct ce_file f = l.f;
        f.verdict = chk_verdict_name(rep.verdict);
        if (rep.verdict == CHK_PASS) {
            bool expected = strcmp(l.f.verdict, "pass") != 0;
            printf("PASS %s / %s  (replay of %s): no violation%s\n", f.driver, f.scenario, file,
                   expected ? " — the file expected one" : "");
            /* A counterexample that does not reproduce is not what the file says it is (another
             * scenario file, version or tree, or an edited file): never a quiet success. */
            if (expected)
                fprintf(stderr,
                        "qinval replay: %s records %s, which this replay does not reproduce\n",
                        file, l.f.verdict);
            rc = expected ? CLI_EXIT_USAGE : CLI_EXIT_OK;
        } else {
            cli_print_counterexample(&f, sc, drv, &rep, stdout);
            rc = rep.verdict == CHK_INTERNAL ? CLI_EXIT_INTERNAL : CLI_EXIT_VIOLATION;
        }
        char title[2 * SC_NAME_LEN + 8];
        snprintf(title, sizeof(title), "%s / %s", f.driver, f.scenario);
        if (trace_path &&
            cli_trace_write("qinval replay", trace_path, sc, drv, rep.picks, rep.npicks, title))
            rc = CLI_EXIT_INTERNAL;
    }
    free(sc);
    ce_loaded_free(&l);
    return rc;
}

/* The width of a column of scenario names: the longest of them, 18 at least. */
static int names_width(const char (*names)[SC_NAME_LEN], unsigned n)
{
    size_t w = 18;
    for (unsigned i = 0; i < n; i++)
        if (strlen(names[i]) > w)
            w = strlen(names[i]);
    return (int)w;
}

int cli_list(int argc, char **argv)
{
    if (argc == 1 && !strcmp(argv[0], "drivers")) {
        for (unsigned i = 0; sim_drivers[i]; i++)
            printf("%-16s %s\n", sim_drivers[i]->name, sim_drivers[i]->summary);
        return CLI_EXIT_OK;
    }
    if (argc == 1 && !strcmp(argv[0], "scenarios")) {
        if (cli_need_catalog())
            return CLI_EXIT_USAGE;
        static char names[128][SC_NAME_LEN];
        unsigned n = sc_list(cli_scenario_dir(), names, 128);
        int width = names_width(names, n);
        scenario *sc = malloc(sizeof(*sc));
        char err[256];
        for (unsigned i = 0; sc && i < n; i++) {
            if (sc_load_named(cli_scenario_dir(), names[i], NULL, 0, sc, err, sizeof(err)))
                printf("%-*s (broken: %s)\n", width, names[i], err);
            else
                printf("%-*s %s\n", width, names[i], sc->summary);
        }
        free(sc);
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "qinval list: needs 'drivers' or 'scenarios'\n");
    return CLI_EXIT_USAGE;
}

/* matrix's options: --executions N, --format text|ktap. */
/* The drivers a matrix covers (at most 32), from --driver options (none: all). */
struct matrix_drivers {
    const char *only[32];
    unsigned nonly;
    const sim_driver_ops *d[32];
    unsigned n;
};

static int matrix_args(int argc, char **argv, chk_options *o, bool *ktap, struct matrix_drivers *md)
{
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--driver") && v) {
            if (!sim_driver_find(v)) {
                fprintf(stderr, "qinval matrix: unknown driver '%s' (see qinval list drivers)\n",
                        v);
                return -1;
            }
            if (md->nonly < 32)
                md->only[md->nonly++] = v;
            i++;
        } else if (!strcmp(argv[i], "--executions") && v) {
            char *end;
            o->executions = strtoull(v, &end, 10);
            if (!o->executions || *end || *v == '-') {
                fprintf(stderr, "qinval matrix: --executions needs a positive integer\n");
                return -1;
            }
            i++;
        } else if (!strcmp(argv[i], "--format") && v) {
            if (strcmp(v, "text") && strcmp(v, "ktap")) {
                fprintf(stderr, "qinval matrix: --format must be text or ktap (got '%s')\n", v);
                return -1;
            }
            *ktap = !strcmp(v, "ktap");
            i++;
        } else {
            fprintf(stderr, "qinval matrix: unknown option '%s' (see qinval --help)\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

/* Fill md->d with the drivers asked for. The kernel driver needs a tree (QINVAL_KSRC): asked
 * for by name without one, that is an error; otherwise it is left out with a note on stderr
 * (stdout keeps the table of the other drivers). Returns 0 or an exit status. */
static int matrix_drivers(struct matrix_drivers *md)
{
    for (unsigned d = 0; sim_drivers[d] && md->n < 32; d++) {
        bool asked = md->nonly == 0;
        for (unsigned k = 0; k < md->nonly; k++)
            asked |= !strcmp(md->only[k], sim_drivers[d]->name);
        if (!asked)
            continue;
        if (sim_drivers[d] == &kernel_ops) {
            char err[1024];
            int krc;
            if (!kernel_drv_env_ksrc() && md->nonly) {
                fprintf(stderr, "qinval matrix: the kernel driver needs a kernel tree: "
                                "QINVAL_KSRC=PATH (a directory or a linux-source-*.tar.xz)\n");
                return CLI_EXIT_USAGE;
            }
            if (!kernel_drv_env_ksrc()) {
                fprintf(stderr, "qinval matrix: note: the kernel driver needs a kernel tree "
                                "(QINVAL_KSRC=PATH); left out\n");
                continue;
            }
            if ((krc = kernel_ops.configure(NULL, 0, err, sizeof(err)))) {
                fprintf(stderr, "qinval matrix: %s\n", err);
                return krc == 3 ? CLI_EXIT_INTERNAL : CLI_EXIT_USAGE;
            }
            fprintf(stderr, "qinval matrix: note: kernel = %s\n", kernel_drv_loaded());
        }
        md->d[md->n++] = sim_drivers[d];
    }
    return 0;
}

/* One scenario's row: a verdict per driver (KTAP: a subtest with a result per driver). Returns
 * whether every driver passed. */
static bool matrix_row(const scenario *sc, const char *name, int width, unsigned number,
                       const chk_options *o, bool ktap, const struct matrix_drivers *md)
{
    bool all_pass = true;
    if (ktap) {
        rep_ktap_begin(stdout, 1, name, md->n);
    } else {
        printf("%-*s", width, name);
    }
    for (unsigned d = 0; d < md->n; d++) {
        chk_report rep;
        chk_explore(sc, md->d[d], o, &rep);
        bool pass = rep.verdict == CHK_PASS;
        all_pass = all_pass && pass;
        if (ktap) {
            char line[700];
            snprintf(line, sizeof(line), "%s: %s%s%s", md->d[d]->name,
                     chk_verdict_name(rep.verdict), pass ? "" : ": ", pass ? "" : rep.result.why);
            rep_ktap_diag(stdout, 1, line);
            rep_ktap_result(stdout, 1, pass, d + 1, md->d[d]->name, NULL);
        } else {
            printf(" %-18s", chk_verdict_name(rep.verdict));
        }
        chk_report_free(&rep);
        if (af_flush_stdout()) /* nobody reads the rest (main says so) */
            return false;
    }
    if (ktap)
        rep_ktap_result(stdout, 0, all_pass, number, name, NULL);
    else
        printf("\n");
    return all_pass;
}

int cli_matrix(int argc, char **argv)
{
    chk_options o;
    chk_options_default(&o);
    bool ktap = false;
    struct matrix_drivers md = {.nonly = 0, .n = 0};
    if (matrix_args(argc, argv, &o, &ktap, &md))
        return CLI_EXIT_USAGE;
    int drc = matrix_drivers(&md);
    if (drc)
        return drc;
    o.minimise = false;
    if (cli_need_catalog())
        return CLI_EXIT_USAGE;
    static char names[128][SC_NAME_LEN];
    unsigned n = sc_list(cli_scenario_dir(), names, 128);
    int width = names_width(names, n);
    scenario *sc = malloc(sizeof(*sc));
    if (!sc)
        return CLI_EXIT_INTERNAL;
    int rc = CLI_EXIT_OK;
    if (ktap) {
        rep_ktap_begin(stdout, 0, NULL, n);
    } else {
        printf("%-*s", width, "scenario");
        for (unsigned d = 0; d < md.n; d++)
            printf(" %-18s", md.d[d]->name);
        printf("\n");
    }
    for (unsigned s = 0; s < n; s++) {
        char err[256];
        if (sc_load_named(cli_scenario_dir(), names[s], NULL, 0, sc, err, sizeof(err))) {
            if (ktap) {
                rep_ktap_diag(stdout, 0, err);
                rep_ktap_result(stdout, 0, false, s + 1, names[s], NULL);
            } else {
                printf("%-*s broken: %s\n", width, names[s], err);
            }
            rc = CLI_EXIT_USAGE;
            continue;
        }
        if (!matrix_row(sc, names[s], width, s + 1, &o, ktap, &md) && rc == CLI_EXIT_OK)
            rc = CLI_EXIT_VIOLATION;
        if (ferror(stdout))
            break;
    }
    free(sc);
    return rc;
}
