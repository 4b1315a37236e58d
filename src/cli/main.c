/*
 * main.c — the `qinval` command: parses the command word and dispatches. Exit status, which
 * tests and scripts rely on: 0 no violation, 1 violation found, 2 usage or input error (with a
 * one-line message naming the problem), 3 internal error (also: a file or standard output could
 * not be written).
 */
#include <stdio.h>
#include <string.h>

#include <qinval/version.h>

#include "cli/cli.h"
#include "util/atomic_file.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: qinval <command> [options]\n"
            "\n"
            "commands:\n"
            "  check --driver D --scenario S [--strategy random|pct|dfs] [--seed N]\n"
            "        [--executions N] [--time SECONDS] [--shard I/N] [--set KEY=VALUE]...\n"
            "        [--format text|json|ktap] [--trace FILE] [--depth D] [--bound B]\n"
            "        [--no-assume] [--time-model global|local]\n"
            "        [--save FILE] [--no-minimise] [--reduce-local] [--progress|--no-progress]\n"
            "        explore driver D on scenario S (a catalog name, or a .scn file's\n"
            "        path); print PASS, or FAIL with a minimised\n"
            "        counterexample timeline (saved for replay); --trace writes the\n"
            "        counterexample (or, with no violation, the default execution) as a\n"
            "        Chrome trace JSON file for Perfetto or chrome://tracing\n"
            "  sweep --driver D [--scenario S]... [--executions N] [--time SECONDS]\n"
            "        [--shard I/N] [--set KEY=VALUE]... [--seed N] [--random N]\n"
            "        [--against DRIVER|KEY=VALUE] [--format text|json|ktap|markdown]\n"
            "        [--save DIR] [--progress|--no-progress]\n"
            "        explore each scenario (default: the catalog) across its parameter\n"
            "        domains ([sweep] sections: a pairwise covering design plus N random\n"
            "        points) and list every distinct failure with its region and its\n"
            "        minimised counterexample (saved in DIR, default qinval-sweep-D);\n"
            "        --against compares with another driver or setting on the same\n"
            "        points: failures fixed, introduced, unchanged\n"
            "  merge [--format text|json] [--save FILE] FILE...\n"
            "        combine the --format json results of check --shard I/N runs (files,\n"
            "        or - for standard input) into the result of the whole exploration\n"
            "  replay [--trace FILE] [--ksrc PATH] FILE\n"
            "        re-run a saved counterexample (or a check or merge JSON result with a\n"
            "        violation) and print its timeline; --trace as for check; a kernel\n"
            "        counterexample runs on the tree --ksrc or QINVAL_KSRC names, never\n"
            "        on one the file names\n"
            "  list drivers|scenarios\n"
            "  matrix [--executions N] [--format text|ktap] [--driver D]...\n"
            "        every driver (or those named) on every scenario: a table, or KTAP\n"
            "        with a subtest per scenario; the kernel driver only with\n"
            "        QINVAL_KSRC=PATH\n"

            "  engine-run --hw qemu|model [--threads N] [--rounds R] [--format text|json]\n"
            "        [--seed S] [--model-resume-on-tail]\n"
            "        run the engine's workload on QEMU's intel-iommu (qtest) or on the\n"
            "        hardware model; with qemu, every call's result is compared with the\n"
            "        same call's on the model (exit 1 on a difference)\n"
            "  fidelity --against qemu [--cases N] [--seed S] [--jobs J]\n"
            "        [--format text|json] [--set KNOB=VALUE]...\n"
            "        run generated queued-invalidation cases on the model and on QEMU's\n"
            "        intel-iommu (qemu-system-x86) and list the disagreements, shrunk and\n"
            "        classified (model-bug, qemu-deviation, open, unclassified: exit 1)\n"
            "  demo [--head-policy fetch|complete] [--desc-width 128|256] [--no-itesid]\n"
            "        drive the VT-d hardware model through enable, a batch, a mute endpoint,\n"
            "        an invalidation time-out (ITE) and the recovery, printing the\n"
            "        hardware's event timeline\n"
            "\n"
            "the kernel driver: --driver kernel --set ksrc=PATH (or QINVAL_KSRC=PATH) with\n"
            "  PATH a Linux source directory or a linux-source-*.tar.xz; the tree's own\n"
            "  queued-invalidation code is built into the build directory on first use\n"
            "\n"
            "exit status: 0 no violation, 1 violation found, 2 usage or input error,\n"
            "             3 internal error, or a file or standard output not written\n"
            "             (interrupted by SIGINT or SIGTERM: the files written are named,\n"
            "             the others left as they were)\n"
            "\n"
            "options:\n"
            "  -h, --help     this text\n"
            "  --version      print the version\n");
}

/* "qinval CMD": how messages about the whole run (an interruption, standard output) begin. */
static char prog[32] = "qinval";

static int run(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("qinval %s\n", QINVAL_VERSION);
        return CLI_EXIT_OK;
    }
    /* `qinval COMMAND --help` (anywhere among its words) is a request for help, not a value. */
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } commands[] = {
        {"demo", cli_demo},     {"check", cli_check},           {"merge", cli_merge},
        {"sweep", cli_sweep},   {"replay", cli_replay},         {"list", cli_list},
        {"matrix", cli_matrix}, {"engine-run", cli_engine_run}, {"fidelity", cli_fidelity}};
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(cmd, commands[i].name))
            continue;
        snprintf(prog, sizeof(prog), "qinval %s", commands[i].name); /* af_signals reads it */
        return commands[i].fn(argc - 2, argv + 2);
    }
    if (cmd[0] == '-')
        fprintf(stderr, "qinval: unknown option '%s' (see qinval --help)\n", cmd);
    else
        fprintf(stderr, "qinval: unknown command '%s' (see qinval --help)\n", cmd);
    return CLI_EXIT_USAGE;
}

/* Whatever the command did, output that did not reach standard output (a full disk, a pipe
 * closed early) is an error: the result was not delivered. */
int main(int argc, char **argv)
{
    af_signals(prog);
    int rc = run(argc, argv);
    char why[256];
    if (af_close_stdout(why, sizeof(why))) {
        fprintf(stderr, "%s: cannot write standard output: %s\n", prog, why);
        rc = CLI_EXIT_INTERNAL;
    }
    return rc;
}
