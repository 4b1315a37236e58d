/*
 * atomic_file.c — output files that are complete or absent (see atomic_file.h): a temporary
 * file beside the target, renamed over it once every write, the flush, fsync and close have
 * succeeded; new files published with link(2), which fails rather than replace a name another
 * process took first; and a small table of the files this process means to write, which the
 * SIGINT/SIGTERM handler reads to remove unfinished temporary files and say what was written.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/atomic_file.h"

/* How many names af_commit of a new file tries before it gives up. */
#define AF_MAX_NEW 100000

/* ---- the table the signal handler reads ---- */

enum { SLOT_FREE, SLOT_PLANNED, SLOT_WRITING, SLOT_IN_PLACE, SLOT_WRITTEN };

#define AF_SLOTS 16

static struct {
    char name[AF_PATH_LEN];
    char tmp[AF_PATH_LEN];
    volatile sig_atomic_t state;
} slots[AF_SLOTS];

static const char *prog_name = "qinval";
static volatile sig_atomic_t line_open;

/* The table changes only with SIGINT and SIGTERM blocked, so the handler never reads a half
 * written entry. */
static void hold(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, old);
}

static void release(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

static void copy(char *to, const char *from, size_t cap)
{
    size_t n = strlen(from);
    n = n < cap ? n : cap - 1;
    memcpy(to, from, n);
    to[n] = '\0';
}

/* The slot of `name` (a file planned or written before), or a free one, or else one that only
 * serves the message (planned or written: that file is then not named by an interruption);
 * -1 if every slot holds a file being written (the file is written all the same, but an
 * interruption would leave its temporary file). */
static int slot_for(const char *name)
{
    int free_slot = -1, spare = -1;
    for (int i = 0; i < AF_SLOTS; i++) {
        if (slots[i].state != SLOT_FREE && !strcmp(slots[i].name, name))
            return i;
        if (slots[i].state == SLOT_FREE && free_slot < 0)
            free_slot = i;
        if ((slots[i].state == SLOT_PLANNED || slots[i].state == SLOT_WRITTEN) && spare < 0)
            spare = i;
    }
    return free_slot >= 0 ? free_slot : spare;
}

static int slot_set(int slot, const char *name, const char *tmp, int state)
{
    sigset_t old;
    hold(&old);
    if (slot < 0)
        slot = slot_for(name);
    if (slot >= 0) {
        copy(slots[slot].name, name, sizeof(slots[slot].name));
        copy(slots[slot].tmp, tmp, sizeof(slots[slot].tmp));
        slots[slot].state = state;
    }
    release(&old);
    return slot;
}

/* ---- the signal handler: async-signal-safe calls only ---- */

static char msg[4 * AF_PATH_LEN];
static size_t msg_len;

static void put(const char *s)
{
    while (*s && msg_len + 1 < sizeof(msg))
        msg[msg_len++] = *s++;
}

/* "; what a, b" for the slots in `state`; whether there were any. */
static bool put_list(int state, const char *what)
{
    bool any = false;
    for (int i = 0; i < AF_SLOTS; i++) {
        if (slots[i].state != state && !(state == SLOT_PLANNED && slots[i].state == SLOT_WRITING))
            continue;
        put(any ? ", " : what);
        put(slots[i].name);
        any = true;
    }
    return any;
}

static void on_interrupt(int sig)
{
    for (int i = 0; i < AF_SLOTS; i++)
        if (slots[i].state == SLOT_WRITING && slots[i].tmp[0])
            unlink(slots[i].tmp);
    msg_len = 0;
    put(line_open ? "\n" : "");
    put(prog_name);
    put(sig == SIGINT ? ": interrupted by SIGINT" : ": interrupted by SIGTERM");
    if (!put_list(SLOT_WRITTEN, "; wrote "))
        put("; wrote no file");
    if (put_list(SLOT_PLANNED, "; did not write "))
        put(" (existing files left as they were)");
    if (put_list(SLOT_IN_PLACE, "; left incomplete: "))
        put(" (not regular files, written in place)");
    put("\n");
    ssize_t w = write(STDERR_FILENO, msg, msg_len);
    (void)w;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

/* A write to a closed pipe then fails with EPIPE. A handler rather than SIG_IGN: programs this
 * one starts (the kernel harness's compiler and tar) get the default action back. */
static void on_pipe(int sig)
{
    (void)sig;
}

static void handle(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa, old;
    if (sigaction(sig, NULL, &old) || old.sa_handler == SIG_IGN)
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(sig, &sa, NULL);
}

void af_signals(const char *prog)
{
    prog_name = prog;
    handle(SIGINT, on_interrupt, SA_ONSTACK);
    handle(SIGTERM, on_interrupt, SA_ONSTACK);
    handle(SIGPIPE, on_pipe, SA_RESTART);
}

void af_stderr_line_open(bool open)
{
    line_open = open;
}

/* ---- checking a path before any work ---- */

static int failed(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    snprintf(err, errlen, fmt, a, b);
    return -1;
}

/* The directory part of path into dir ("." for a bare name). */
static void dir_of(const char *path, char *dir, size_t cap)
{
    char buf[AF_PATH_LEN];
    copy(buf, path, sizeof(buf));
    copy(dir, dirname(buf), cap);
}

static int dir_writable(const char *path, char *err, size_t errlen)
{
    char dir[AF_PATH_LEN];
    struct stat st;
    dir_of(path, dir, sizeof(dir));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "no directory %s for %s", dir, path);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "cannot create %s in %s: %s", path, dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* path with a symbolic link followed (as it is when that fails: a dangling link is replaced). */
static void resolve(const char *path, char *out, size_t cap)
{
    struct stat st;
    char *real = lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ? realpath(path, NULL) : NULL;
    copy(out, real ? real : path, cap);
    free(real);
}

/* Not empty, and short enough for its temporary file's name. */
static int usable(const char *path, char *err, size_t errlen)
{
    if (!*path)
        return failed(err, errlen, "an empty path%s%s", "", "");
    if (strlen(path) >= AF_PATH_LEN - 32)
        return failed(err, errlen, "%.60s...: the path is too long%s", path, "");
    return 0;
}

int af_check(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (usable(path, err, errlen))
        return -1;
    if (stat(path, &st) == 0) {
        char target[AF_PATH_LEN];
        if (S_ISDIR(st.st_mode))
            return failed(err, errlen, "%s is a directory%s", path, "");
        if (access(path, W_OK) != 0)
            return failed(err, errlen, "%s: %s", path, strerror(errno));
        resolve(path, target, sizeof(target));
        if (S_ISREG(st.st_mode) && dir_writable(target, err, errlen))
            return -1;
    } else if (errno != ENOENT) {
        return failed(err, errlen, "%s: %s", path, strerror(errno));
    } else if (dir_writable(path, err, errlen)) {
        return -1;
    }
    slot_set(-1, path, "", SLOT_PLANNED);
    return 0;
}

/* ---- writing ---- */

static int start(af_file *a, const char *path, bool fresh, char *err, size_t errlen)
{
    struct stat st;
    memset(a, 0, sizeof(*a));
    a->slot = -1;
    a->fresh = fresh;
    if (usable(path, err, errlen))
        return -1;
    copy(a->name, path, sizeof(a->name));
    bool exists = stat(path, &st) == 0;
    if (!fresh && exists && S_ISDIR(st.st_mode))
        return failed(err, errlen, "%s is a directory%s", path, "");
    if (!fresh && exists && !S_ISREG(st.st_mode)) {
        /* a device or a FIFO: written in place */
        copy(a->target, path, sizeof(a->target));
        a->f = fopen(path, "w");
        if (!a->f)
            return failed(err, errlen, "%s: %s", path, strerror(errno));
        a->slot = slot_set(-1, path, "", SLOT_IN_PLACE);
        return 0;
    }
    if (fresh)
        copy(a->target, path, sizeof(a->target));
    else
        resolve(path, a->target, sizeof(a->target));
    char dir[AF_PATH_LEN], base[AF_PATH_LEN];
    dir_of(a->target, dir, sizeof(dir));
    copy(base, a->target, sizeof(base));
    int n = snprintf(a->tmp, sizeof(a->tmp), "%s/.%.200s.tmp-XXXXXX", dir, basename(base));
    if (n < 0 || (size_t)n >= sizeof(a->tmp)) {
        a->tmp[0] = '\0';
        return failed(err, errlen, "%.60s...: the path is too long%s", path, "");
    }
    sigset_t old;
    hold(&old); /* the temporary file exists only with its slot */
    int fd = mkstemp(a->tmp);
    if (fd >= 0)
        a->slot = slot_set(-1, a->name, a->tmp, SLOT_WRITING);
    release(&old);
    if (fd < 0) {
        int e = errno;
        a->tmp[0] = '\0';
        return failed(err, errlen, "cannot create a temporary file in %s: %s", dir, strerror(e));
    }
    /* The permissions fopen would give a new file, or those of the file it replaces. */
    mode_t mask = umask(0);
    umask(mask);
    struct stat tst;
    mode_t mode = !fresh && stat(a->target, &tst) == 0 ? tst.st_mode & 07777 : 0666 & ~mask;
    if (fchmod(fd, mode)) {
        /* a file system without modes (vfat): the file keeps mkstemp's */
    }
    a->f = fdopen(fd, "w");
    if (!a->f) {
        int e = errno;
        close(fd);
        af_abort(a);
        return failed(err, errlen, "%s: %s", path, strerror(e));
    }
    return 0;
}

int af_open(af_file *a, const char *path, char *err, size_t errlen)
{
    return start(a, path, false, err, errlen);
}

int af_open_new(af_file *a, const char *path, char *err, size_t errlen)
{
    return start(a, path, true, err, errlen);
}

/* Flush, check for any failed write, fsync (a file to be renamed) and close. 0 or an errno;
 * -1 for a write that failed earlier without its errno still at hand. */
static int finish(af_file *a)
{
    int e = 0;
    errno = 0;
    if (fflush(a->f))
        e = errno ? errno : -1;
    if (!e && ferror(a->f))
        e = -1;
    if (!e && a->tmp[0] && fsync(fileno(a->f)))
        e = errno;
    if (fclose(a->f) && !e)
        e = errno ? errno : -1;
    a->f = NULL;
    return e;
}

static const char *why(int e)
{
    return e > 0 ? strerror(e) : "a write failed";
}

/* The directory entry of a renamed file on disk: after a crash the name is there too. File
 * systems that cannot sync a directory say EINVAL; that is not a failure to write. */
static int sync_dir(const char *path)
{
    char dir[AF_PATH_LEN];
    dir_of(path, dir, sizeof(dir));
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return 0;
    int e = fsync(fd) && errno != EINVAL && errno != ENOTSUP ? errno : 0;
    close(fd);
    return e;
}

/* candidate k of a new file's name: k = 1 the name itself, then NAME-k.EXT. */
static void candidate(const af_file *a, unsigned k, char *out, size_t cap)
{
    if (k == 1) {
        copy(out, a->name, cap);
        return;
    }
    const char *slash = strrchr(a->name, '/');
    const char *base = slash ? slash + 1 : a->name;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot > base ? (size_t)(dot - a->name) : strlen(a->name);
    snprintf(out, cap, "%.*s-%u%s", (int)stem, a->name, k, a->name + stem);
}

/* Publish the finished temporary file under a name nobody has: link(2) fails if the name
 * exists, even when another process made it a moment ago. Where hard links are not supported,
 * the name is taken with O_EXCL and the file renamed over it. 0, or an errno. */
static int publish_new(af_file *a)
{
    char name[AF_PATH_LEN];
    for (unsigned k = 1; k <= AF_MAX_NEW; k++) {
        candidate(a, k, name, sizeof(name));
        sigset_t old;
        hold(&old); /* the name and the slot change together */
        int rc = link(a->tmp, name), e = rc ? errno : 0;
        if (rc && e != EEXIST) {
            int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600);
            e = fd < 0 ? errno : 0;
            if (fd >= 0) {
                close(fd);
                if (rename(a->tmp, name)) {
                    e = errno;
                    unlink(name);
                }
            }
        } else if (!rc) {
            unlink(a->tmp);
        }
        if (!e) {
            copy(a->name, name, sizeof(a->name));
            copy(a->target, name, sizeof(a->target));
            slot_set(a->slot, name, "", SLOT_WRITTEN);
        }
        release(&old);
        if (e != EEXIST)
            return e;
    }
    return EEXIST;
}

int af_commit(af_file *a, char *err, size_t errlen)
{
    int e = finish(a);
    if (!a->tmp[0]) { /* written in place */
        slot_set(a->slot, a->name, "", e ? SLOT_IN_PLACE : SLOT_WRITTEN);
        return e ? failed(err, errlen, "cannot write %s: %s", a->name, why(e)) : 0;
    }
    if (e) {
        af_abort(a);
        return failed(err, errlen, "cannot write %s: %s", a->name, why(e));
    }
    if (a->fresh) {
        e = publish_new(a);
    } else {
        sigset_t old;
        hold(&old);
        e = rename(a->tmp, a->target) ? errno : 0;
        if (!e)
            slot_set(a->slot, a->name, "", SLOT_WRITTEN);
        release(&old);
    }
    if (e) {
        af_abort(a);
        return failed(err, errlen, "cannot write %s: %s", a->name, strerror(e));
    }
    a->tmp[0] = '\0';
    if ((e = sync_dir(a->target)))
        return failed(err, errlen, "%s was written, but its directory could not be synced: %s",
                      a->name, strerror(e));
    return 0;
}

void af_abort(af_file *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    sigset_t old;
    hold(&old);
    if (a->tmp[0])
        unlink(a->tmp);
    a->tmp[0] = '\0';
    if (a->slot >= 0 && slots[a->slot].state != SLOT_WRITTEN)
        slot_set(a->slot, a->name, "", SLOT_PLANNED);
    release(&old);
}

/* Why a flush of standard output failed first: a later flush may find nothing to write and
 * leave only the error flag. */
static int stdout_errno;

int af_flush_stdout(void)
{
    errno = 0;
    if (fflush(stdout) && !stdout_errno)
        stdout_errno = errno ? errno : -1;
    return ferror(stdout) ? -1 : 0;
}

int af_close_stdout(char *err, size_t errlen)
{
    int e = 0;
    errno = 0;
    if (fflush(stdout))
        e = errno ? errno : -1;
    if (!e && ferror(stdout))
        e = stdout_errno ? stdout_errno : -1;
    errno = 0;
    /* Closing a descriptor that was never open (qinval ... >&-) is no failure when nothing
     * was written to it; a write to it would have failed above. */
    if (fclose(stdout) && !e && errno != EBADF)
        e = errno ? errno : -1;
    if (!e)
        return 0;
    snprintf(err, errlen, "%s", why(e));
    return -1;
}
