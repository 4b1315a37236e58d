/*
 * commands.c — `qinval replay FILE` (a counterexample file, or a check or merge result with a
 * violation), `qinval list drivers|scenarios` and `qinval matrix` (every driver on every
 * scenario, one verdict each, with the default budget).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/explore.h"
#include "cli/ce_file.h"
#include "cli/cli.h"

int cli_replay(int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "qinval replay: needs exactly one counterexample file\n");
        return CLI_EXIT_USAGE;
    }
    struct ce_loaded l;
    char err[300];
    if (ce_load(argv[0], &l, err, sizeof(err))) {
        fprintf(stderr, "qinval replay: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    if (l.is_result && !l.has_counterexample) {
        fprintf(stderr, "qinval replay: %s: the result found no violation, nothing to replay\n",
                argv[0]);
        ce_loaded_free(&l);
        return CLI_EXIT_USAGE;
    }
    scenario *sc = malloc(sizeof(*sc));
    const sim_driver_ops *drv;
    int rc =
        sc ? cli_load(l.f.driver, l.f.scenario, l.f.sets, l.f.nsets, sc, &drv) : CLI_EXIT_INTERNAL;
    if (rc == 0) {
        chk_report rep = {.picks = l.picks, .npicks = l.f.npicks, .executions = 1};
        chk_replay(sc, drv, rep.picks, rep.npicks, NULL, &rep.result);
        rep.verdict = rep.result.verdict;
        struct ce_file f = l.f;
        f.verdict = chk_verdict_name(rep.verdict);
        if (rep.verdict == CHK_PASS) {
            printf("PASS %s / %s  (replay of %s): no violation%s\n", f.driver, f.scenario, argv[0],
                   strcmp(l.f.verdict, "pass") ? " — the file expected one" : "");
            rc = CLI_EXIT_OK;
        } else {
            cli_print_counterexample(&f, sc, drv, &rep, stdout);
            rc = rep.verdict == CHK_INTERNAL ? CLI_EXIT_INTERNAL : CLI_EXIT_VIOLATION;
        }
    }
    free(sc);
    ce_loaded_free(&l);
    return rc;
}

int cli_list(int argc, char **argv)
{
    if (argc == 1 && !strcmp(argv[0], "drivers")) {
        for (unsigned i = 0; sim_drivers[i]; i++)
            printf("%-16s %s\n", sim_drivers[i]->name, sim_drivers[i]->summary);
        return CLI_EXIT_OK;
    }
    if (argc == 1 && !strcmp(argv[0], "scenarios")) {
        static char names[128][SC_NAME_LEN];
        unsigned n = sc_list(cli_scenario_dir(), names, 128);
        scenario *sc = malloc(sizeof(*sc));
        char err[256];
        for (unsigned i = 0; sc && i < n; i++) {
            if (sc_load_named(cli_scenario_dir(), names[i], NULL, 0, sc, err, sizeof(err)))
                printf("%-18s (broken: %s)\n", names[i], err);
            else
                printf("%-18s %s\n", names[i], sc->summary);
        }
        free(sc);
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "qinval list: needs 'drivers' or 'scenarios'\n");
    return CLI_EXIT_USAGE;
}

int cli_matrix(int argc, char **argv)
{
    chk_options o;
    const char *only[32];
    unsigned nonly = 0;
    chk_options_default(&o);
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--driver") && i + 1 < argc) {
            if (!sim_driver_find(argv[i + 1])) {
                fprintf(stderr, "qinval matrix: unknown driver '%s' (see qinval list drivers)\n",
                        argv[i + 1]);
                return CLI_EXIT_USAGE;
            }
            if (nonly < 32)
                only[nonly++] = argv[i + 1];
            i++;
        } else if (!strcmp(argv[i], "--executions") && i + 1 < argc) {
            o.executions = strtoull(argv[++i], NULL, 10);
            if (!o.executions) {
                fprintf(stderr, "qinval matrix: --executions needs a positive integer\n");
                return CLI_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "qinval matrix: unknown option '%s' (see qinval --help)\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    o.minimise = false;
    static char names[128][SC_NAME_LEN];
    unsigned n = sc_list(cli_scenario_dir(), names, 128);
    scenario *sc = malloc(sizeof(*sc));
    if (!sc)
        return CLI_EXIT_INTERNAL;
    int rc = CLI_EXIT_OK;
    const sim_driver_ops *drivers[32];
    unsigned nd = 0;
    for (unsigned d = 0; sim_drivers[d] && nd < 32; d++) {
        bool asked = nonly == 0;
        for (unsigned k = 0; k < nonly; k++)
            asked |= !strcmp(only[k], sim_drivers[d]->name);
        if (!asked)
            continue;
        if (sim_drivers[d] == &kernel_ops) {
            char err[1024];
            int krc;
            if (!kernel_drv_ksrc() && nonly) {
                fprintf(stderr, "qinval matrix: the kernel driver needs a kernel tree: "
                                "QINVAL_KSRC=PATH (a directory or a linux-source-*.tar.xz)\n");
                free(sc);
                return CLI_EXIT_USAGE;
            }
            if (!kernel_drv_ksrc()) {
                fprintf(stderr, "qinval matrix: note: the kernel driver needs a kernel tree "
                                "(QINVAL_KSRC=PATH); left out\n");
                continue;
            }
            if ((krc = kernel_drv_prepare(err, sizeof(err)))) {
                fprintf(stderr, "qinval matrix: %s\n", err);
                free(sc);
                return krc == 3 ? CLI_EXIT_INTERNAL : CLI_EXIT_USAGE;
            }
            fprintf(stderr, "qinval matrix: note: kernel = %s\n", kernel_drv_ksrc());
        }
        drivers[nd++] = sim_drivers[d];
    }
    printf("%-18s", "scenario");
    for (unsigned d = 0; d < nd; d++)
        printf(" %-18s", drivers[d]->name);
    printf("\n");
    for (unsigned s = 0; s < n; s++) {
        char err[256];
        printf("%-18s", names[s]);
        if (sc_load_named(cli_scenario_dir(), names[s], NULL, 0, sc, err, sizeof(err))) {
            printf(" broken: %s\n", err);
            rc = CLI_EXIT_USAGE;
            continue;
        }
        for (unsigned d = 0; d < nd; d++) {
            chk_report rep;
            chk_explore(sc, drivers[d], &o, &rep);
            printf(" %-18s", chk_verdict_name(rep.verdict));
            fflush(stdout);
            if (rep.verdict != CHK_PASS && rc == CLI_EXIT_OK)
                rc = CLI_EXIT_VIOLATION;
            chk_report_free(&rep);
        }
        printf("\n");
    }
    free(sc);
    return rc;
}
