/*
 * atomic_file.h — output files that are either complete or not there. Every file qinval writes
 * (counterexamples, JSON results, Chrome traces, benchmark CSV) goes through this: it is written
 * to a hidden temporary file in the target's own directory (".NAME.tmp-XXXXXX", so that no glob
 * like shard-*.json picks it up), flushed, checked for any write error, fsync'ed, and only then
 * renamed over the target (and the directory fsync'ed). A reader, a concurrent writer of the
 * same name or an interruption therefore sees the old file or the new one, never a mixture or
 * a truncated one. A target that exists and is not a regular file (a terminal, /dev/null, a
 * FIFO) cannot be replaced and is written in place, with the same checks.
 *
 * af_signals() makes SIGINT and SIGTERM remove the temporary files of files being written,
 * say on stderr which files were written and which were not, and end the process by the same
 * signal; and makes a write to a closed pipe fail with EPIPE (an error the caller reports)
 * rather than kill the process in silence.
 */
#ifndef QINVAL_UTIL_ATOMIC_FILE_H
#define QINVAL_UTIL_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define AF_PATH_LEN 4096

typedef struct af_file {
    FILE *f;                  /* write the contents here */
    char name[AF_PATH_LEN];   /* the path as given; after af_commit, the name the file got */
    char target[AF_PATH_LEN]; /* where the file goes: name with a symbolic link followed */
    char tmp[AF_PATH_LEN];    /* the temporary file; "" when written in place */
    bool fresh;               /* af_open_new: never replaces a file */
    int slot;                 /* in the table the signal handler reads; -1 if none */
} af_file;

/* Once per process, before any file is written: the SIGINT and SIGTERM handlers (not where
 * the signal was ignored when the process started, as for a background job of a script) and
 * SIGPIPE as an error. `prog` ("qinval check") starts the message an interruption prints; it
 * must outlive the process. */
void af_signals(const char *prog);

/* Whether stderr ends in a line not yet ended (a progress line drawn in place): an
 * interruption's message then starts on a line of its own. */
void af_stderr_line_open(bool open);

/* Could `path` be written, without creating or truncating anything: an existing file that is
 * not a directory and may be written (a regular file also needs its directory writable, to be
 * replaced), or a new name in a directory that may be written. Notes the path as one this run
 * means to write, so that an interruption names it. 0, or -1 with a one-line reason in err. */
int af_check(const char *path, char *err, size_t errlen);

/* Start writing the file `path` (replacing it at af_commit): a->f is the stream. 0, or -1
 * with a one-line reason in err. */
int af_open(af_file *a, const char *path, char *err, size_t errlen);

/* Start writing a new file named after `path` that never replaces one: af_commit gives it the
 * name `path` or, if that exists (or another process takes it first), the same with "-2",
 * "-3", ... before its extension, in a->name. */
int af_open_new(af_file *a, const char *path, char *err, size_t errlen);

/* Finish: check every write, flush, fsync and close, then put the file in place. On failure
 * the target is left as it was and the temporary file removed. 0, or -1 with a reason. */
int af_commit(af_file *a, char *err, size_t errlen);

/* Give up: remove the temporary file, leave the target as it was. */
void af_abort(af_file *a);

/* Flush standard output now (a command that prints as it goes). 0, or -1 when anything written
 * to it failed; the reason is kept for af_close_stdout. */
int af_flush_stdout(void);

/* Standard output at the end of a command: flush and close it, and say whether anything
 * written to it failed (a full disk, a closed pipe). 0, or -1 with the reason in err. */
int af_close_stdout(char *err, size_t errlen);

#endif /* QINVAL_UTIL_ATOMIC_FILE_H */
