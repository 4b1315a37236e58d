/* cli.h — the subcommands of the `qinval` command and its exit codes. */
#ifndef QINVAL_CLI_H
#define QINVAL_CLI_H

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_VIOLATION = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_INTERNAL = 3,
};

int cli_demo(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_replay(int argc, char **argv);
int cli_merge(int argc, char **argv);
int cli_sweep(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_matrix(int argc, char **argv);
int cli_engine_run(int argc, char **argv);
int cli_fidelity(int argc, char **argv);

#endif
