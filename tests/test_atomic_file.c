/*
 * test_atomic_file.c — src/util/atomic_file.c, the writer of every output file: a file being
 * written leaves the target as it was (and a hidden temporary file beside it) until af_commit,
 * which replaces it whole, keeping its permissions and following a symbolic link; af_abort and
 * a failed write (a file size limit, a full device) leave it as it was with nothing beside it;
 * new files never replace one (-2, -3, ...); SIGTERM in the middle of writing removes the
 * temporary file, keeps what was written and says so; SIGPIPE becomes EPIPE and standard
 * output's failures are reported at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/atomic_file.h"

#define ERRLEN 512

static char dir[256];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/qinval-afile-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name)
{
    static char paths[4][512];
    static unsigned next;
    char *p = paths[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* The file's contents (static buffer), or "(none)". */
static const char *contents(const char *path)
{
    static char buf[1 << 20];
    FILE *f = fopen(path, "r");
    if (!f)
        return "(none)";
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* How many hidden temporary files (".NAME.tmp-XXXXXX") the directory holds. */
static unsigned temporaries(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] == '.' && strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

static void big_contents(FILE *f, char tag)
{
    for (int i = 0; i < 20000; i++)
        fprintf(f, "%c line %d\n", tag, i);
}

static void test_replace_is_whole(void **state)
{
    (void)state;
    char err[ERRLEN];
    const char *t = in_dir("t.json");
    write_text(t, "old\n");
    assert_int_equal(chmod(t, 0640), 0);
    af_file a;
    assert_int_equal(af_open(&a, t, err, sizeof(err)), 0);
    big_contents(a.f, 'n');
    fflush(a.f);
    assert_string_equal(contents(t), "old\n"); /* until the commit: the old file */
    assert_int_equal(temporaries(), 1);
    assert_int_equal(af_commit(&a, err, sizeof(err)), 0);
    char *want = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&want, &len);
    assert_non_null(m);
    big_contents(m, 'n');
    assert_int_equal(fclose(m), 0);
    assert_string_equal(contents(t), want);
    free(want);
    assert_int_equal(temporaries(), 0);
    struct stat st;
    assert_int_equal(stat(t, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640); /* the replaced file's permissions */
}

static void test_new_file_mode(void **state)
{
    (void)state;
    char err[ERRLEN];
    const char *t = in_dir("new.json");
    af_file a;
    assert_int_equal(af_open(&a, t, err, sizeof(err)), 0);
    fputs("x\n", a.f);
    assert_int_equal(af_commit(&a, err, sizeof(err)), 0);
    mode_t mask = umask(0);
    umask(mask);
    struct stat st;
    assert_int_equal(stat(t, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0666 & ~mask); /* as fopen would make it */
}

static void test_abort_leaves_target(void **state)
{
    (void)state;
    char err[ERRLEN];
    const char *t = in_dir("t.json");
    write_text(t, "old\n");
    af_file a;
    assert_int_equal(af_open(&a, t, err, sizeof(err)), 0);
    big_contents(a.f, 'x');
    af_abort(&a);
    assert_string_equal(contents(t), "old\n");
    assert_int_equal(temporaries(), 0);
    assert_int_equal(af_open(&a, in_dir("never.json"), err, sizeof(err)), 0);
    af_abort(&a);
    assert_string_equal(contents(in_dir("never.json")), "(none)");
    assert_int_equal(temporaries(), 0);
}

/* name: af_open_new(path) with contents `tag`; the name it got must be `want`. */
static void new_file(const char *path, const char *tag, const char *want)
{
    char err[ERRLEN];
    af_file a;
    assert_int_equal(af_open_new(&a, path, err, sizeof(err)), 0);
    fputs(tag, a.f);
    if (af_commit(&a, err, sizeof(err)))
        fail_msg("af_commit of a new %s: %s", path, err);
    assert_string_equal(a.name, want);
    assert_string_equal(contents(want), tag);
}

static void test_new_files_never_replace(void **state)
{
    (void)state;
    char x[512], x2[512], x3[512];
    snprintf(x, sizeof(x), "%s", in_dir("x.json"));
    snprintf(x2, sizeof(x2), "%s", in_dir("x-2.json"));
    snprintf(x3, sizeof(x3), "%s", in_dir("x-3.json"));
    new_file(x, "first", x);
    new_file(x, "second", x2);
    new_file(x, "third", x3);
    assert_string_equal(contents(x), "first");
    char n[512], n2[512];
    snprintf(n, sizeof(n), "%s", in_dir("noext"));
    snprintf(n2, sizeof(n2), "%s", in_dir("noext-2"));
    new_file(n, "a", n);
    new_file(n, "b", n2);
    /* A name taken by something that is not a file is taken all the same. */
    char y[512], y2[512];
    snprintf(y, sizeof(y), "%s", in_dir("y.json"));
    snprintf(y2, sizeof(y2), "%s", in_dir("y-2.json"));
    assert_int_equal(mkdir(y, 0755), 0);
    new_file(y, "c", y2);
    /* The extension is the base name's, not a dot in a directory. */
    char dn[512], dn2[512];
    assert_int_equal(mkdir(in_dir("a.b"), 0755), 0);
    snprintf(dn, sizeof(dn), "%s", in_dir("a.b/c"));
    snprintf(dn2, sizeof(dn2), "%s", in_dir("a.b/c-2"));
    new_file(dn, "d", dn);
    new_file(dn, "e", dn2);
    assert_int_equal(temporaries(), 0);
}

static void test_symlink_followed(void **state)
{
    (void)state;
    char err[ERRLEN], real[512], link[512];
    snprintf(real, sizeof(real), "%s", in_dir("real.json"));
    snprintf(link, sizeof(link), "%s", in_dir("link.json"));
    write_text(real, "old\n");
    assert_int_equal(symlink("real.json", link), 0);
    af_file a;
    assert_int_equal(af_open(&a, link, err, sizeof(err)), 0);
    fputs("new\n", a.f);
    assert_int_equal(af_commit(&a, err, sizeof(err)), 0);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_string_equal(contents(real), "new\n");
}

static void test_devices_in_place(void **state)
{
    (void)state;
    char err[ERRLEN];
    af_file a;
    assert_int_equal(af_open(&a, "/dev/null", err, sizeof(err)), 0);
    assert_string_equal(a.tmp, "");
    big_contents(a.f, 'z');
    assert_int_equal(af_commit(&a, err, sizeof(err)), 0);
    assert_int_equal(af_open(&a, "/dev/full", err, sizeof(err)), 0);
    big_contents(a.f, 'z');
    assert_int_equal(af_commit(&a, err, sizeof(err)), -1);
    assert_string_equal(err, "cannot write /dev/full: No space left on device");
}

static void test_check(void **state)
{
    (void)state;
    char err[ERRLEN];
    assert_int_equal(af_check("", err, sizeof(err)), -1);
    assert_string_equal(err, "an empty path");
    assert_int_equal(af_check(dir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is a directory"));
    assert_int_equal(af_check("/nonexistent/x.json", err, sizeof(err)), -1);
    assert_string_equal(err, "no directory /nonexistent for /nonexistent/x.json");
    assert_int_equal(af_check(in_dir("fine.json"), err, sizeof(err)), 0);
    assert_string_equal(contents(in_dir("fine.json")), "(none)"); /* nothing created */
    assert_int_equal(af_check("/dev/null", err, sizeof(err)), 0);
}

/* Run fn in a child process with stderr to `errfile`; its wait status. */
static int in_child(void (*fn)(void), const char *errfile)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0)
            _exit(90);
        fn();
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void over_size_limit(void)
{
    char err[ERRLEN];
    struct rlimit lim = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim))
        _exit(91);
    af_file a;
    if (af_open(&a, in_dir("t.json"), err, sizeof(err)))
        _exit(92);
    big_contents(a.f, 'b');
    if (af_commit(&a, err, sizeof(err)) != -1 || !strstr(err, "File too large"))
        _exit(93);
}

static void test_failed_write_keeps_target(void **state)
{
    (void)state;
    write_text(in_dir("t.json"), "old\n");
    int status = in_child(over_size_limit, in_dir("err.txt"));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(contents(in_dir("t.json")), "old\n");
    assert_int_equal(temporaries(), 0);
}

/* Plans two files, writes one, is interrupted while writing the other. */
static void interrupted_while_writing(void)
{
    char err[ERRLEN];
    af_signals("test");
    if (af_check(in_dir("planned.json"), err, sizeof(err)))
        _exit(92);
    af_file a;
    if (af_open(&a, in_dir("done.json"), err, sizeof(err)))
        _exit(93);
    fputs("done\n", a.f);
    if (af_commit(&a, err, sizeof(err)))
        _exit(94);
    if (af_open(&a, in_dir("t.json"), err, sizeof(err)))
        _exit(95);
    big_contents(a.f, 'i');
    fflush(a.f);
    raise(SIGTERM);
    _exit(96); /* not reached */
}

static void test_interrupt(void **state)
{
    (void)state;
    write_text(in_dir("t.json"), "old\n");
    int status = in_child(interrupted_while_writing, in_dir("err.txt"));
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
    assert_string_equal(contents(in_dir("t.json")), "old\n");
    assert_string_equal(contents(in_dir("done.json")), "done\n");
    assert_int_equal(temporaries(), 0);
    /* One line; files of the tests before (this process's) may be named too. */
    const char *said = contents(in_dir("err.txt"));
    const char *wrote = strstr(said, "; wrote "), *not = strstr(said, "; did not write ");
    assert_int_equal(strncmp(said, "test: interrupted by SIGTERM; wrote ", 36), 0);
    assert_non_null(not );
    assert_true(strstr(wrote, in_dir("done.json")) < not );
    assert_non_null(strstr(not, in_dir("planned.json")));
    assert_non_null(strstr(not, in_dir("t.json")));
    assert_non_null(strstr(not, " (existing files left as they were)"));
    assert_ptr_equal(strchr(said, '\n'), said + strlen(said) - 1);
}

/* SIGTERM ignored when the process started (a background job): it stays ignored. */
static void ignored_at_start(void)
{
    char err[ERRLEN];
    signal(SIGTERM, SIG_IGN);
    af_signals("test");
    af_file a;
    if (af_open(&a, in_dir("t.json"), err, sizeof(err)))
        _exit(92);
    raise(SIGTERM);
    af_abort(&a);
    _exit(7);
}

static void test_ignored_stays_ignored(void **state)
{
    (void)state;
    int status = in_child(ignored_at_start, in_dir("err.txt"));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 7);
    assert_string_equal(contents(in_dir("err.txt")), "");
}

/* A result printed to the device `path`; af_close_stdout must say `want` (NULL: succeed). */
static void print_to(const char *path, const char *want)
{
    char err[ERRLEN];
    int fd = open(path, O_WRONLY);
    if (fd < 0 || dup2(fd, 1) < 0)
        _exit(91);
    printf("a result\n");
    int rc = af_close_stdout(err, sizeof(err));
    if (want ? rc != -1 || strcmp(err, want) : rc != 0)
        _exit(92);
}

static void stdout_to_full(void)
{
    print_to("/dev/full", "No space left on device");
}

static void stdout_fine(void)
{
    print_to("/dev/null", NULL);
}

static void stdout_to_closed_pipe(void)
{
    char err[ERRLEN];
    int p[2];
    signal(SIGPIPE, SIG_DFL);
    af_signals("test");
    if (pipe(p) || close(p[0]) || dup2(p[1], 1) < 0)
        _exit(91);
    printf("a result\n");
    if (af_close_stdout(err, sizeof(err)) != -1 || strcmp(err, "Broken pipe"))
        _exit(92);
}

/* qinval ... >&- with nothing to print: no failure (a write would have been one). */
static void stdout_never_open(void)
{
    char err[ERRLEN];
    close(1);
    if (af_close_stdout(err, sizeof(err)))
        _exit(92);
}

static void test_stdout(void **state)
{
    (void)state;
    void (*children[])(void) = {stdout_to_full, stdout_to_closed_pipe, stdout_fine,
                                stdout_never_open};
    for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
        int status = in_child(children[i], in_dir("err.txt"));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("child %zu: %s %d", i, WIFEXITED(status) ? "exit" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replace_is_whole, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_new_file_mode, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_abort_leaves_target, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_new_files_never_replace, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_symlink_followed, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_devices_in_place, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_check, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_failed_write_keeps_target, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_interrupt, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_ignored_stays_ignored, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_stdout, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
