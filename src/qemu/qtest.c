/*
 * qtest.c — the qtest client of qtest.h: QEMU runs as a child process whose standard input
 * and output are one end of a socket pair (so that writing to a QEMU that died is an error, not
 * a SIGPIPE), and whose standard error goes to a pipe this side drains while it waits, keeping
 * the last bytes for the report of a death.
 *
 * Invariants: `failed` once set stays set and every request after it fails at once; the child
 * is reaped exactly once (waitpid in reap()); no request waits longer than its time-out, which
 * counts from when the request was sent.
 */
#define _GNU_SOURCE
#include "qemu/qtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1u << 20) /* the longest answer: a 512 KiB memory read in hex */
#define ERR_TAIL       2048u      /* bytes of QEMU's standard error kept */

struct qtest {
    pid_t pid;
    int sock;  /* our end: requests out, answers in */
    int errfd; /* QEMU's standard error */
    unsigned timeout_ms;
    enum qtest_state state;
    bool reaped;
    uint64_t requests;
    char *in; /* answers received and not yet consumed */
    size_t in_len, in_cap;
    char *line; /* the last answer, NUL-terminated */
    char err_tail[ERR_TAIL + 1];
    size_t err_len;
    char error[704]; /* what (256) + how (96) + last words (300) + their glue */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Keep the last ERR_TAIL bytes of what QEMU printed on standard error. */
static void drain_stderr(qtest *q)
{
    char buf[1024];
    _Static_assert(sizeof(buf) < ERR_TAIL, "a read fits in the tail");
    for (;;) {
        ssize_t n = read(q->errfd, buf, sizeof(buf));
        if (n <= 0)
            return;
        size_t k = (size_t)n; /* < ERR_TAIL: buf is smaller */
        size_t keep = q->err_len + k > ERR_TAIL ? ERR_TAIL - k : q->err_len;
        memmove(q->err_tail, q->err_tail + q->err_len - keep, keep);
        memcpy(q->err_tail + keep, buf, k);
        q->err_len = keep + k;
        q->err_tail[q->err_len] = '\0';
    }
}

/* Reap the child, waiting at most `ms` after a SIGKILL if it is still running; describes how
 * it ended in buf. */
static void reap(qtest *q, bool kill_it, char *how, size_t howlen)
{
    if (how && howlen)
        how[0] = '\0';
    if (q->reaped || q->pid <= 0)
        return;
    int status = 0;
    pid_t r = waitpid(q->pid, &status, WNOHANG);
    if (r == 0 && kill_it) {
        kill(q->pid, SIGKILL);
        r = waitpid(q->pid, &status, 0);
    } else if (r == 0) {
        /* It closed its output and has not exited yet: give it a moment. */
        for (int i = 0; i < 100 && r == 0; i++) {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
            r = waitpid(q->pid, &status, WNOHANG);
        }
        if (r == 0) {
            kill(q->pid, SIGKILL);
            r = waitpid(q->pid, &status, 0);
        }
    }
    q->reaped = true;
    if (!how || !howlen || r != q->pid)
        return;
    if (WIFEXITED(status))
        snprintf(how, howlen, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(how, howlen, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
}

/* The end of QEMU's standard error on one line: newlines shown as " | ". */
static void last_words(qtest *q, char *buf, size_t len)
{
    drain_stderr(q);
    const char *s = q->err_tail;
    size_t n = q->err_len;
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    size_t from = n > 240 ? n - 240 : 0, j = 0;
    for (size_t i = from; i < n && j + 4 < len; i++) {
        if (s[i] == '\n') {
            memcpy(buf + j, " | ", 3);
            j += 3;
        } else if ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f) {
            buf[j++] = s[i];
        }
    }
    buf[j] = '\0';
}

static int fail(qtest *q, enum qtest_state st, const char *fmt, ...)
{
    if (q->state != QTEST_OK)
        return -1;
    q->state = st;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    char how[96], words[300];
    reap(q, st != QTEST_DIED, how, sizeof(how));
    last_words(q, words, sizeof(words));
    /* a long message is cut, on purpose: the test of the length keeps -Wformat-truncation quiet */
    if (snprintf(q->error, sizeof(q->error), "%s%s%s%s%s", what, how[0] ? "; QEMU " : "", how,
                 words[0] ? "; it said: " : "", words) >= (int)sizeof(q->error))
        q->error[sizeof(q->error) - 1] = '\0';
    return -1;
}

static int send_all(qtest *q, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(q->sock, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = q->sock, .events = POLLOUT};
            if (poll(&p, 1, (int)q->timeout_ms) <= 0)
                return fail(q, QTEST_TIMEOUT, "QEMU did not take a request within %u ms",
                            q->timeout_ms);
            continue;
        }
        if (n <= 0)
            return fail(q, QTEST_DIED, "QEMU's end of the connection is closed");
        buf += n, len -= (size_t)n;
    }
    return 0;
}

/* Receive one answer line into q->line, skipping asynchronous "IRQ" lines. */
static int recv_line(qtest *q, unsigned timeout_ms)
{
    uint64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        char *nl = q->in_len ? memchr(q->in, '\n', q->in_len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - q->in);
            free(q->line);
            q->line = malloc(n + 1);
            if (!q->line)
                return fail(q, QTEST_PROTOCOL, "out of memory for an answer of %zu bytes", n);
            memcpy(q->line, q->in, n);
            q->line[n] = '\0';
            if (n && q->line[n - 1] == '\r')
                q->line[n - 1] = '\0';
            memmove(q->in, nl + 1, q->in_len - n - 1);
            q->in_len -= n + 1;
            if (!strncmp(q->line, "IRQ ", 4))
                continue;
            return 0;
        }
        if (q->in_len >= LINE_MAX_BYTES)
            return fail(q, QTEST_PROTOCOL, "QEMU sent a line longer than %u bytes", LINE_MAX_BYTES);
        uint64_t t = now_ms();
        if (t >= deadline)
            return fail(q, QTEST_TIMEOUT, "QEMU did not answer within %u ms", timeout_ms);
        struct pollfd p[2] = {{.fd = q->sock, .events = POLLIN},
                              {.fd = q->errfd, .events = POLLIN}};
        int r = poll(p, 2, (int)(deadline - t));
        if (r < 0 && errno != EINTR)
            return fail(q, QTEST_PROTOCOL, "poll: %s", strerror(errno));
        if (r <= 0)
            continue;
        if (p[1].revents)
            drain_stderr(q);
        if (!p[0].revents)
            continue;
        if (q->in_cap - q->in_len < 65536) {
            size_t cap = q->in_cap ? q->in_cap * 2 : 131072;
            char *in = realloc(q->in, cap);
            if (!in)
                return fail(q, QTEST_PROTOCOL, "out of memory for QEMU's answers");
            q->in = in, q->in_cap = cap;
        }
        ssize_t n = recv(q->sock, q->in + q->in_len, q->in_cap - q->in_len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return fail(q, QTEST_DIED, "QEMU closed the connection");
        q->in_len += (size_t)n;
    }
}

/* Send one request line and take its answer; the answer's text after "OK" in *rest. */
static int request(qtest *q, const char *req, size_t len, const char **rest)
{
    if (q->state != QTEST_OK)
        return -1;
    if (send_all(q, req, len) || recv_line(q, q->timeout_ms))
        return -1;
    q->requests++;
    if (!strncmp(q->line, "OK", 2) && (q->line[2] == '\0' || q->line[2] == ' ')) {
        if (rest)
            *rest = q->line[2] ? q->line + 3 : q->line + 2;
        return 0;
    }
    char shown[120];
    snprintf(shown, sizeof(shown), "%.*s", (int)(len && req[len - 1] == '\n' ? len - 1 : len), req);
    return fail(q, QTEST_PROTOCOL, "QEMU answered \"%.200s\" to \"%s\"", q->line, shown);
}

static int parse_u64(qtest *q, const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 16);
    if (errno || end == s || *end)
        return fail(q, QTEST_PROTOCOL, "QEMU's value \"%.100s\" is not a number", s);
    *v = x;
    return 0;
}

int qtest_readq(qtest *q, uint64_t addr, uint64_t *val)
{
    char req[64];
    int n = snprintf(req, sizeof(req), "readq 0x%llx\n", (unsigned long long)addr);
    const char *rest;
    return request(q, req, (size_t)n, &rest) ? -1 : parse_u64(q, rest, val);
}

int qtest_readl(qtest *q, uint64_t addr, uint32_t *val)
{
    char req[64];
    int n = snprintf(req, sizeof(req), "readl 0x%llx\n", (unsigned long long)addr);
    const char *rest;
    uint64_t v;
    if (request(q, req, (size_t)n, &rest) || parse_u64(q, rest, &v))
        return -1;
    if (v > UINT32_MAX)
        return fail(q, QTEST_PROTOCOL, "QEMU's readl value 0x%llx has more than 32 bits",
                    (unsigned long long)v);
    *val = (uint32_t)v;
    return 0;
}

int qtest_writel(qtest *q, uint64_t addr, uint32_t val)
{
    char req[64];
    int n = snprintf(req, sizeof(req), "writel 0x%llx 0x%x\n", (unsigned long long)addr, val);
    return request(q, req, (size_t)n, NULL);
}

int qtest_writeq(qtest *q, uint64_t addr, uint64_t val)
{
    char req[64];
    int n = snprintf(req, sizeof(req), "writeq 0x%llx 0x%llx\n", (unsigned long long)addr,
                     (unsigned long long)val);
    return request(q, req, (size_t)n, NULL);
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Requests larger than this are split (keeps each line well under LINE_MAX_BYTES). */
#define MEM_CHUNK 65536u

int qtest_memread(qtest *q, uint64_t addr, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len) {
        size_t k = len < MEM_CHUNK ? len : MEM_CHUNK;
        char req[80];
        int n = snprintf(req, sizeof(req), "read 0x%llx 0x%zx\n", (unsigned long long)addr, k);
        const char *rest;
        if (request(q, req, (size_t)n, &rest))
            return -1;
        if (strncmp(rest, "0x", 2) || strlen(rest) != 2 + 2 * k)
            return fail(q, QTEST_PROTOCOL, "QEMU's answer to a %zu-byte read has %zu characters", k,
                        strlen(rest));
        for (size_t i = 0; i < k; i++) {
            int hi = hexval(rest[2 + 2 * i]), lo = hexval(rest[3 + 2 * i]);
            if (hi < 0 || lo < 0)
                return fail(q, QTEST_PROTOCOL, "QEMU's memory read is not hexadecimal");
            out[i] = (uint8_t)(hi << 4 | lo);
        }
        out += k, addr += k, len -= k;
    }
    return 0;
}

int qtest_memwrite(qtest *q, uint64_t addr, const void *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *in = buf;
    char *req = malloc(64 + 2 * MEM_CHUNK);
    if (!req)
        return fail(q, QTEST_PROTOCOL, "out of memory for a memory write");
    int rc = 0;
    while (len && !rc) {
        size_t k = len < MEM_CHUNK ? len : MEM_CHUNK;
        int n = snprintf(req, 64, "write 0x%llx 0x%zx 0x", (unsigned long long)addr, k);
        size_t j = (size_t)n;
        for (size_t i = 0; i < k; i++) {
            req[j++] = digits[in[i] >> 4];
            req[j++] = digits[in[i] & 15];
        }
        req[j++] = '\n';
        rc = request(q, req, j, NULL);
        in += k, addr += k, len -= k;
    }
    free(req);
    return rc;
}

const char *qtest_error(const qtest *q)
{
    return q->error;
}

enum qtest_state qtest_state(const qtest *q)
{
    return q->state;
}

const char *qtest_stderr(const qtest *q)
{
    drain_stderr((qtest *)q);
    return q->err_tail;
}

uint64_t qtest_requests(const qtest *q)
{
    return q->requests;
}

/* The child: its standard input and output are the socket, its standard error the pipe, and
 * it dies with its parent. Only async-signal-safe calls until exec. */
static void child(int sock, int errw, char *const argv[], int ready_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0 || dup2(errw, 2) < 0)
        _exit(126);
    int maxfd = (int)sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (maxfd > 0 && maxfd < 65536 ? maxfd : 65536); fd++)
        if (fd != ready_fd)
            close(fd);
    execvp(argv[0], argv);
    int e = errno;
    (void)!write(ready_fd, &e, sizeof(e));
    _exit(127);
}

qtest *qtest_start(const qtest_options *o, char *err, size_t errlen)
{
    qtest_options dflt = {0};
    if (!o)
        o = &dflt;
    const char *bin = o->binary;
    if (!bin || !*bin)
        bin = getenv("QINVAL_QEMU");
    if (!bin || !*bin)
        bin = "qemu-system-x86_64";
    char mem[16];
    snprintf(mem, sizeof(mem), "%u", o->mem_mib ? o->mem_mib : 64);
    const char *fixed[] = {bin,  "-M",          "q35",      "-accel",     "tcg",
                           "-S", "-nodefaults", "-display", "none",       "-m",
                           mem,  "-qtest",      "stdio",    "-qtest-log", "/dev/null"};
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    char **argv = calloc(nfixed + o->n_args + 1, sizeof(*argv));
    qtest *q = calloc(1, sizeof(*q));
    int sv[2] = {-1, -1}, ep[2] = {-1, -1}, rp[2] = {-1, -1};
    if (!argv || !q) {
        snprintf(err, errlen, "out of memory");
        goto out_fail;
    }
    for (size_t i = 0; i < nfixed; i++)
        argv[i] = (char *)fixed[i];
    for (unsigned i = 0; i < o->n_args; i++)
        argv[nfixed + i] = (char *)o->args[i];
    q->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
    q->pid = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || pipe2(ep, O_CLOEXEC) ||
        pipe2(rp, O_CLOEXEC)) {
        snprintf(err, errlen, "cannot create the pipes to QEMU: %s", strerror(errno));
        goto out_fail;
    }
    q->pid = fork();
    if (q->pid < 0) {
        snprintf(err, errlen, "cannot start %s: fork: %s", bin, strerror(errno));
        goto out_fail;
    }
    if (q->pid == 0)
        child(sv[1], ep[1], argv, rp[1]);
    close(sv[1]), close(ep[1]), close(rp[1]);
    sv[1] = ep[1] = rp[1] = -1;
    q->sock = sv[0], q->errfd = ep[0];
    sv[0] = ep[0] = -1;
    fcntl(q->sock, F_SETFL, O_NONBLOCK);
    fcntl(q->errfd, F_SETFL, O_NONBLOCK);
    int e = 0; /* exec's errno, if it failed (the pipe closes on a successful exec) */
    ssize_t n;
    while ((n = read(rp[0], &e, sizeof(e))) < 0 && errno == EINTR)
        ;
    close(rp[0]);
    rp[0] = -1;
    if (n == (ssize_t)sizeof(e)) {
        reap(q, true, NULL, 0);
        snprintf(err, errlen, "%s: %s%s", bin, strerror(e),
                 e == ENOENT ? " (install Debian's qemu-system-x86, or set QINVAL_QEMU)" : "");
        qtest_stop(q);
        free(argv);
        return NULL;
    }
    /* The first answer also waits for QEMU to start. */
    unsigned t = q->timeout_ms;
    q->timeout_ms = o->start_timeout_ms ? o->start_timeout_ms : 30000;
    uint32_t ver;
    int rc = qtest_readl(q, QTEST_VTD_BASE, &ver);
    q->timeout_ms = t;
    free(argv);
    if (rc) {
        snprintf(err, errlen, "%s did not start: %s", bin, q->error);
        qtest_stop(q);
        return NULL;
    }
    return q;

out_fail:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (ep[i] >= 0)
            close(ep[i]);
        if (rp[i] >= 0)
            close(rp[i]);
    }
    free(argv);
    free(q);
    return NULL;
}

void qtest_stop(qtest *q)
{
    if (!q)
        return;
    reap(q, true, NULL, 0);
    if (q->sock > 0)
        close(q->sock);
    if (q->errfd > 0)
        close(q->errfd);
    free(q->in);
    free(q->line);
    free(q);
}

int qtest_available(const qtest_options *o, char *why, size_t whylen)
{
    qtest *q = qtest_start(o, why, whylen);
    if (!q)
        return 0;
    qtest_stop(q);
    return 1;
}
