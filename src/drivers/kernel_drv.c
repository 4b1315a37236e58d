/*
 * kernel_drv.c — `--driver kernel`: a Linux kernel tree's own queued-invalidation code
 * (qi_submit_sync, qi_check_fault, reclaim_free_desc, __dmar_enable_qi and what they use, from
 * drivers/iommu/intel/dmar.c and iommu.h), built in user space against the harness's shim
 * (harness/linux) and run on the simulated CPUs like any other driver.
 *
 * The tree is a directory or a source tarball (Debian's /usr/src/linux-source-*.tar.xz), given
 * by `--set ksrc=PATH` or QINVAL_KSRC. On first use, and whenever the sources or the harness
 * change, this file:
 *   1. gets dmar.c and iommu.h (from a tarball: extracted once into the cache, keyed by the
 *      tarball's path, size and modification time — decompressing the whole xz stream takes
 *      tens of seconds);
 *   2. runs the extractor (harness/linux/extract.c) over them with the shim as the first
 *      resolver, writing one C file: shim include, the kernel's definitions, our glue;
 *   3. compiles it into a shared object with the system C compiler (the same sanitizer flags
 *      as qinval when qinval is sanitized), keyed by a hash of everything that goes into it;
 *   4. dlopens it and hands it the host functions (lkh_abi.h).
 * Nothing from the kernel is stored in this repository; the cache lives in the build directory
 * (QINVAL_LKH_CACHE overrides where).
 *
 * How a batch reaches the kernel (`--set kcall=`): `submit` (default) hands it to
 * qi_submit_sync() whole and returns its result, as the kernel's batched flushes do;
 * `callers` issues it through qi_flush_iotlb() / qi_flush_dev_iotlb() one descriptor at a time,
 * which return nothing: the workload then sees success whatever happened, as the kernel's own
 * code above them does.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "extract.h"
#include "lkh_abi.h"
#include "sim/sim.h"
#include "util/installed.h"

#ifndef QINVAL_LKH_DIR
#error "QINVAL_LKH_DIR (harness/linux) must be defined by the build"
#endif
#ifndef QINVAL_LKH_CACHE_DIR
#error "QINVAL_LKH_CACHE_DIR must be defined by the build"
#endif
#ifndef QINVAL_LKH_CC
#define QINVAL_LKH_CC "cc"
#endif
#ifndef QINVAL_LKH_CFLAGS
#define QINVAL_LKH_CFLAGS ""
#endif

#define PATH_LEN 4096

/* The kernel functions the harness is built from; their callees come with them. */
static const char *const roots[] = {"qi_submit_sync", "qi_check_fault", "reclaim_free_desc",
                                    "__dmar_enable_qi"};
/* The kernel's single-invalidation callers, extracted when the tree has them (kcall=callers). */
static const char *const callers[] = {"qi_flush_iotlb", "qi_flush_dev_iotlb"};
/* Definitions harness/linux/lkh_glue.c uses itself. */
static const char *const glue_needs[] = {"QI_LENGTH", "DMAR_GSTS_REG"};
/* Files of the tree the definitions are looked up in, in this order. */
static const char *const tree_files[] = {"drivers/iommu/intel/iommu.h",
                                         "drivers/iommu/intel/dmar.c"};
#define NFILES (sizeof(tree_files) / sizeof(tree_files[0]))

static const char *ksrc_set;       /* from --set ksrc= */
static bool via_callers;           /* --set kcall=callers */
static struct lkh_driver kdrv;     /* the loaded object's entry points */
static char loaded_from[PATH_LEN]; /* the ksrc the object was built from */
static char so_loaded[PATH_LEN];
static char tree_id[17]; /* hash of the tree files' contents (kernel_drv_tree_id) */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* snprintf into a buffer, truncating: paths here are bounded by PATH_LEN, and one that does
 * not fit only makes a later open or stat fail with its (truncated) name. Going through a
 * va_list keeps the compiler's truncation analysis, meant for fixed formats, out of it. */
static void strf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void strf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

void kernel_drv_set_ksrc(const char *path)
{
    ksrc_set = path;
}

int kernel_drv_set_kcall(const char *how)
{
    if (!strcmp(how, "submit") || !strcmp(how, "callers")) {
        via_callers = !strcmp(how, "callers");
        return 0;
    }
    return -1;
}

const char *kernel_drv_ksrc(void)
{
    const char *e = getenv("QINVAL_KSRC");
    if (ksrc_set && *ksrc_set)
        return ksrc_set;
    return e && *e ? e : NULL;
}

bool kernel_drv_ready(void)
{
    return kdrv.init != NULL;
}

/* ---- small file helpers ---- */

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        if (buf) {
            buf[n] = '\0';
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

/* The harness's shim and glue: QINVAL_LKH_DIR in the environment, else those installed beside
 * the binary (make install puts them in share/qinval/harness/linux), else the source tree's. */
static bool installed_lkh(char *dir, size_t cap)
{
    if (!installed_path("harness/linux/shim/lkh_shim.h", dir, cap))
        return false;
    dir[strlen(dir) - strlen("/shim/lkh_shim.h")] = '\0';
    return true;
}

static const char *lkh_dir(void)
{
    static char dir[PATH_LEN];
    const char *e = getenv("QINVAL_LKH_DIR");
    if (e && *e)
        return e;
    return installed_lkh(dir, sizeof(dir)) ? dir : QINVAL_LKH_DIR;
}

/* Where extracted sources and built harnesses are kept: QINVAL_LKH_CACHE, else for an installed
 * binary the user's cache ($XDG_CACHE_HOME or ~/.cache, then qinval/lkh), else the build
 * directory. */
static const char *cache_dir(void)
{
    static char dir[PATH_LEN];
    const char *e = getenv("QINVAL_LKH_CACHE");
    if (e && *e)
        return e;
    if (!installed_lkh(dir, sizeof(dir)))
        return QINVAL_LKH_CACHE_DIR;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        strf(dir, sizeof(dir), "%s/qinval/lkh", xdg);
    else if (home && *home)
        strf(dir, sizeof(dir), "%s/.cache/qinval/lkh", home);
    else
        strf(dir, sizeof(dir), "/tmp/qinval-lkh-%ld", (long)getuid());
    return dir;
}

static int mkdir_p(const char *path)
{
    char buf[PATH_LEN];
    strf(buf, sizeof(buf), "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *s = '/';
        }
    }
    return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

/* 'text' with single quotes escaped, for /bin/sh. */
static void shq(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    if (cap < 3)
        return;
    out[o++] = '\'';
    for (; *s && o + 6 < cap; s++) {
        if (*s == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *s;
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
}

/* A file named `base` anywhere under dir (the tarball's one top directory), into out. */
static bool find_under(const char *dir, const char *rel, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;
    if (!d)
        return false;
    while (!found && (e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        strf(out, cap, "%s/%s/%s", dir, e->d_name, rel);
        found = stat(out, &st) == 0 && S_ISREG(st.st_mode);
    }
    closedir(d);
    return found;
}

/* The directory holding drivers/iommu/intel/{dmar.c,iommu.h} of a tarball, extracted once. */
static int tarball_tree(const char *tarball, const struct stat *st, char *tree, size_t cap,
                        char *err, size_t errlen)
{
    char real[PATH_LEN], key[PATH_LEN + 64], tmp[PATH_LEN], cmd[3 * PATH_LEN], q1[PATH_LEN + 8],
        q2[PATH_LEN + 8], from[PATH_LEN], to[PATH_LEN], probe[PATH_LEN];
    struct stat s2;
    if (!realpath(tarball, real))
        strf(real, sizeof(real), "%s", tarball);
    strf(key, sizeof(key), "%s|%lld|%lld", real, (long long)st->st_size, (long long)st->st_mtime);
    strf(tree, cap, "%s/src-%016" PRIx64, cache_dir(),
         fnv(0xcbf29ce484222325ull, key, strlen(key)));
    strf(probe, sizeof(probe), "%s/%s", tree, tree_files[NFILES - 1]);
    if (stat(probe, &s2) == 0)
        return 0;
    strf(tmp, sizeof(tmp), "%s.tmp-%ld", tree, (long)getpid());
    if (mkdir_p(tmp))
        return fail(err, errlen, 3, "cannot create %s: %s", tmp, strerror(errno));
    shq(q1, sizeof(q1), tarball);
    shq(q2, sizeof(q2), tmp);
    fprintf(stderr, "qinval: extracting dmar.c and iommu.h from %s (once; cached in %s)\n", tarball,
            cache_dir());
    strf(cmd, sizeof(cmd),
         "tar -xf %s -C %s --wildcards --no-anchored '*/drivers/iommu/intel/dmar.c' "
         "'*/drivers/iommu/intel/iommu.h' 2>/dev/null",
         q1, q2);
    int rc = system(cmd);
    for (size_t i = 0; i < NFILES; i++) {
        if (!find_under(tmp, tree_files[i], from, sizeof(from))) {
            strf(cmd, sizeof(cmd), "rm -rf %s", q2);
            if (system(cmd)) {
                /* best effort */
            }
            return fail(err, errlen, 2, "kernel source %s: no %s in it%s", tarball, tree_files[i],
                        rc ? " (tar could not read it)" : "");
        }
        strf(to, sizeof(to), "%s/%s", tmp, tree_files[i]);
        char dir[PATH_LEN];
        strf(dir, sizeof(dir), "%s", to);
        *strrchr(dir, '/') = '\0';
        if (mkdir_p(dir) || rename(from, to))
            return fail(err, errlen, 3, "cannot move %s to %s: %s", from, to, strerror(errno));
    }
    /* Which tarball this is, for people and tests looking at the cache. */
    strf(to, sizeof(to), "%s/SOURCE", tmp);
    FILE *f = fopen(to, "w");
    if (f) {
        fprintf(f, "%s\n", real);
        fclose(f);
    }
    if (rename(tmp, tree) && stat(probe, &s2) != 0) /* another process may have won the race */
        return fail(err, errlen, 3, "cannot create %s: %s", tree, strerror(errno));
    strf(cmd, sizeof(cmd), "rm -rf %s", q2);
    if (system(cmd)) {
        /* leftover of a lost race: harmless */
    }
    return 0;
}

/* The first compiler error line of a log, for the one-line message. */
static void first_error(const char *log, char *out, size_t cap)
{
    size_t len = 0;
    char *text = read_all(log, &len), *line, *save = NULL;
    strf(out, cap, "see %s", log);
    if (!text)
        return;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strstr(line, "error:")) {
            const char *base = strrchr(line, '/');
            strf(out, cap, "%s", base && base < strstr(line, "error:") ? base + 1 : line);
            break;
        }
    }
    free(text);
}

/* The tree's identity: a hash of the contents of the files the harness reads from it, so that
 * two paths holding the same code have the same identity and an edited tree a new one. */
static int hash_tree(const char *tree, char *out, size_t cap)
{
    uint64_t h = 0xcbf29ce484222325ull;
    char path[PATH_LEN];
    for (size_t i = 0; i < NFILES; i++) {
        size_t n = 0;
        char *t;
        strf(path, sizeof(path), "%s/%s", tree, tree_files[i]);
        if (!(t = read_all(path, &n)))
            return -1;
        h = fnv(h, tree_files[i], strlen(tree_files[i]) + 1);
        h = fnv(h, t, n);
        free(t);
    }
    strf(out, cap, "%016" PRIx64, h);
    return 0;
}

/* Generate the harness source for the tree into `gen` and return its hash. */
static int generate(const char *tree, const char *gen, uint64_t *hash, char *err, size_t errlen)
{
    struct lkh_set shim = {0}, srcs = {0};
    char path[PATH_LEN], msg[600];
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return fail(err, errlen, 3, "out of memory");
    strf(path, sizeof(path), "%s/shim/lkh_shim.h", lkh_dir());
    if (lkh_add_file(&shim, path, msg, sizeof(msg)))
        rc = fail(err, errlen, 3, "kernel harness: %s", msg);
    for (size_t i = 0; i < NFILES && !rc; i++) {
        strf(path, sizeof(path), "%s/%s", tree, tree_files[i]);
        if (access(path, R_OK))
            rc = fail(err, errlen, 2, "kernel tree %s: no readable %s (not a Linux source tree?)",
                      tree, tree_files[i]);
        else if (lkh_add_file(&srcs, path, msg, sizeof(msg)))
            rc = fail(err, errlen, 2, "kernel tree %s: %s", tree, msg);
    }
    if (!rc) {
        fprintf(mem, "/* Generated by qinval's kernel harness from %s; not to be edited. */\n",
                tree);
        fprintf(mem, "#include \"lkh_shim.h\"\n#pragma GCC diagnostic push\n");
        /* The kernel's own code, compiled as written: its style trips some of our warnings
         * (signed/unsigned comparisons, unused parameters); they are relaxed here only. */
        static const char *const relaxed[] = {
            "-Wsign-compare",
            "-Wunused-parameter",
            "-Wunused-function",
            "-Wunused-variable",
            "-Wunused-but-set-variable",
            "-Wmissing-field-initializers",
            "-Wimplicit-fallthrough",
            "-Wtype-limits",
            "-Wshadow",
        };
        for (size_t i = 0; i < sizeof(relaxed) / sizeof(relaxed[0]); i++)
            fprintf(mem, "#pragma GCC diagnostic ignored \"%s\"\n", relaxed[i]);
        const char *want[sizeof(roots) / sizeof(roots[0]) + sizeof(callers) / sizeof(callers[0])];
        size_t nwant = 0;
        bool have_callers = true;
        for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
            want[nwant++] = roots[i];
        for (size_t i = 0; i < sizeof(callers) / sizeof(callers[0]); i++) {
            const struct lkh_def *d = lkh_find(&srcs, callers[i]);
            have_callers &= d && d->kind == LKH_FUNC;
        }
        for (size_t i = 0; have_callers && i < sizeof(callers) / sizeof(callers[0]); i++)
            want[nwant++] = callers[i];
        if (lkh_extract(&srcs, &shim, want, nwant, glue_needs,
                        sizeof(glue_needs) / sizeof(glue_needs[0]), mem, msg, sizeof(msg)))
            rc = fail(err, errlen, 2, "kernel tree %s: %s", tree, msg);
        fprintf(mem,
                "#pragma GCC diagnostic pop\n%s#line 1 \"lkh_glue.c\"\n#include \"lkh_glue.c\"\n",
                have_callers ? "#define LKH_HAVE_CALLERS 1\n" : "");
    }
    fclose(mem);
    if (!rc) {
        uint64_t h = fnv(0xcbf29ce484222325ull, buf, len);
        static const char *const ours[] = {"shim/lkh_shim.h", "lkh_glue.c", "lkh_abi.h"};
        for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
            size_t n = 0;
            char *t;
            strf(path, sizeof(path), "%s/%s", lkh_dir(), ours[i]);
            t = read_all(path, &n);
            if (!t) {
                rc = fail(err, errlen, 3, "kernel harness: cannot read %s", path);
                break;
            }
            h = fnv(h, t, n);
            free(t);
        }
        h = fnv(h, QINVAL_LKH_CC QINVAL_LKH_CFLAGS, strlen(QINVAL_LKH_CC QINVAL_LKH_CFLAGS));
        *hash = h;
        FILE *f = rc ? NULL : fopen(gen, "wb");
        if (!rc && (!f || fwrite(buf, 1, len, f) != len))
            rc = fail(err, errlen, 3, "cannot write %s: %s", gen, strerror(errno));
        if (f && fclose(f) && !rc)
            rc = fail(err, errlen, 3, "cannot write %s", gen);
    }
    free(buf);
    lkh_set_free(&shim);
    lkh_set_free(&srcs);
    return rc;
}

/* ---- host functions for the object ---- */

static uint32_t h_read32(void *p, uint32_t off)
{
    return qi_plat_read32(p, off);
}
static uint64_t h_read64(void *p, uint32_t off)
{
    return qi_plat_read64(p, off);
}
static void h_write32(void *p, uint32_t off, uint32_t v)
{
    qi_plat_write32(p, off, v);
}
static void h_write64(void *p, uint32_t off, uint64_t v)
{
    qi_plat_write64(p, off, v);
}
static uint32_t h_load32(void *p, const volatile uint32_t *a)
{
    return qi_plat_load32(p, a);
}
static unsigned long h_lock_irqsave(void *p, void *l)
{
    return qi_plat_lock_irqsave(p, l);
}
static void h_unlock_irqrestore(void *p, void *l, unsigned long f)
{
    qi_plat_unlock_irqrestore(p, l, f);
}
static void h_lock(void *p, void *l)
{
    qi_plat_lock(p, l);
}
static void h_unlock(void *p, void *l)
{
    qi_plat_unlock(p, l);
}
static void h_relax(void *p)
{
    qi_plat_relax(p, 0);
}
static uint64_t h_now(void *p)
{
    return qi_plat_now_ns(p);
}
static uint64_t h_v2p(void *p, const volatile void *va)
{
    return qi_plat_virt_to_phys(p, va);
}
static void *h_dma_alloc(void *p, size_t n)
{
    return sim_dma_alloc(p, n);
}
static void h_note(void *p, const char *text)
{
    sim_note(p, text, 0, 0);
}
static int h_pci_find(void *p, uint16_t sid)
{
    return hw_ep_find(sim_hw(sim_platform_world(p)), sid);
}
static uint32_t h_pci_cfg(void *p, int ep, uint32_t off)
{
    return hw_ep_config_read32(sim_hw(sim_platform_world(p)), ep, off);
}
static void h_fatal(void *p, const char *why)
{
    sim_abort(sim_platform_world(p), why);
}

static const struct lkh_host host = {
    .abi = LKH_ABI_VERSION,
    .read32 = h_read32,
    .read64 = h_read64,
    .write32 = h_write32,
    .write64 = h_write64,
    .load32 = h_load32,
    .lock_irqsave = h_lock_irqsave,
    .unlock_irqrestore = h_unlock_irqrestore,
    .lock = h_lock,
    .unlock = h_unlock,
    .relax = h_relax,
    .now_ns = h_now,
    .virt_to_phys = h_v2p,
    .dma_alloc = h_dma_alloc,
    .note = h_note,
    .pci_find = h_pci_find,
    .pci_config_read32 = h_pci_cfg,
    .fatal = h_fatal,
};

/* ---- building and loading ---- */

int kernel_drv_prepare(char *err, size_t errlen)
{
    const char *ksrc = kernel_drv_ksrc();
    char tree[PATH_LEN], gen[PATH_LEN], so[PATH_LEN], tmp[PATH_LEN], log[PATH_LEN];
    char cmd[6 * PATH_LEN], q[4][PATH_LEN + 8];
    struct stat st;
    uint64_t hash = 0;
    int rc;

    if (!ksrc)
        return fail(err, errlen, 2,
                    "--driver kernel needs a Linux source tree: --set ksrc=PATH (a directory "
                    "or a linux-source-*.tar.xz) or QINVAL_KSRC=PATH");
    if (kernel_drv_ready() && !strcmp(loaded_from, ksrc))
        return 0;
    if (kernel_drv_ready())
        return fail(err, errlen, 2, "a kernel driver from %s is already loaded", loaded_from);
    if (stat(ksrc, &st))
        return fail(err, errlen, 2, "kernel tree %s: %s", ksrc, strerror(errno));
    if (mkdir_p(cache_dir()))
        return fail(err, errlen, 3, "cannot create %s: %s", cache_dir(), strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        strf(tree, sizeof(tree), "%s", ksrc);
    } else if ((rc = tarball_tree(ksrc, &st, tree, sizeof(tree), err, errlen))) {
        return rc;
    }
    strf(gen, sizeof(gen), "%s/gen-%ld.c", cache_dir(), (long)getpid());
    if ((rc = generate(tree, gen, &hash, err, errlen))) {
        unlink(gen);
        return rc;
    }
    char id[sizeof(tree_id)];
    if (hash_tree(tree, id, sizeof(id)))
        return fail(err, errlen, 2, "kernel tree %s: cannot read it again: %s", ksrc,
                    strerror(errno));
    strf(so, sizeof(so), "%s/kernel-%016" PRIx64 ".so", cache_dir(), hash);
    if (stat(so, &st)) {
        char src[PATH_LEN];
        strf(src, sizeof(src), "%s/kernel-%016" PRIx64 ".c", cache_dir(), hash);
        strf(tmp, sizeof(tmp), "%s.tmp-%ld", so, (long)getpid());
        strf(log, sizeof(log), "%s/kernel-%016" PRIx64 ".log", cache_dir(), hash);
        if (rename(gen, src))
            return fail(err, errlen, 3, "cannot write %s: %s", src, strerror(errno));
        shq(q[0], sizeof(q[0]), src);
        shq(q[1], sizeof(q[1]), tmp);
        shq(q[2], sizeof(q[2]), lkh_dir());
        shq(q[3], sizeof(q[3]), log);
        strf(cmd, sizeof(cmd),
             "LC_ALL=C %s -std=gnu11 -O2 -g -fPIC -shared -Wall -Wextra -Werror %s "
             "-I%s/shim -I%s %s -o %s >%s 2>&1",
             QINVAL_LKH_CC, QINVAL_LKH_CFLAGS, q[2], q[2], q[0], q[1], q[3]);
        if (system(cmd) != 0) {
            char first[400];
            unlink(tmp);
            first_error(log, first, sizeof(first));
            return fail(err, errlen, 2,
                        "kernel tree %s: the harness does not compile against it: %s (log: %s)",
                        ksrc, first, log);
        }
        if (rename(tmp, so))
            return fail(err, errlen, 3, "cannot create %s: %s", so, strerror(errno));
    } else {
        unlink(gen);
    }
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return fail(err, errlen, 3, "cannot load %s: %s", so, dlerror());
    lkh_entry_fn entry = (lkh_entry_fn)dlsym(h, LKH_ENTRY_SYMBOL);
    struct lkh_driver d = {0};
    if (!entry || entry(&host, &d) || d.abi != LKH_ABI_VERSION || !d.init || !d.submit)
        return fail(err, errlen, 3, "%s: not a kernel harness of this qinval (ABI %d)", so,
                    LKH_ABI_VERSION);
    kdrv = d;
    if (via_callers && !kdrv.submit_callers)
        return fail(err, errlen, 2,
                    "kernel tree %s: kcall=callers needs qi_flush_iotlb and qi_flush_dev_iotlb in "
                    "its dmar.c",
                    ksrc);
    strf(loaded_from, sizeof(loaded_from), "%s", ksrc);
    strf(so_loaded, sizeof(so_loaded), "%s", so);
    memcpy(tree_id, id, sizeof(tree_id));
    return 0;
}

const char *kernel_drv_object(void)
{
    return so_loaded;
}

const char *kernel_drv_tree_id(void)
{
    return tree_id;
}

/* ---- the driver ---- */

static void *kernel_init(qi_platform *p, const struct drv_params *params)
{
    char err[256];
    void *d;
    if (!kernel_drv_ready()) {
        qi_plat_log(p, QI_LOG_ERR, "kernel: harness not built (kernel_drv_prepare)", 0, 0);
        return NULL;
    }
    d = kdrv.init(p, params->queue_len, params->dw256, err, sizeof(err));
    if (!d)
        sim_note(p, err, 0, 0);
    return d;
}

static int kernel_submit(void *drv, qi_platform *p, const vtd_desc *descs, unsigned n,
                         const struct drv_submit_opts *opts)
{
    uint64_t qw[64][4];
    (void)opts; /* the kernel has no deadline */
    if (n > 64)
        return DRV_EINVAL;
    for (unsigned i = 0; i < n; i++)
        memcpy(qw[i], descs[i].qw, sizeof(qw[i]));
    int rc = via_callers ? kdrv.submit_callers(drv, p, (const uint64_t(*)[4])qw, n)
                         : kdrv.submit(drv, p, (const uint64_t(*)[4])qw, n);
    switch (rc) {
    case 0:
    case DRV_EINVAL:
    case DRV_EAGAIN:
    case DRV_ETIMEDOUT:
    case DRV_ENODEV:
    case DRV_EIO:
        return rc;
    default:
        return DRV_EIO;
    }
}

static unsigned kernel_free_slots(void *drv)
{
    return kdrv.free_slots(drv);
}

static unsigned kernel_capacity(void *drv)
{
    return kdrv.capacity(drv);
}

const sim_driver_ops kernel_ops = {
    .name = "kernel",
    .summary = "a Linux tree's own qi_submit_sync & co, built in user space (--set ksrc=PATH)",
    .init = kernel_init,
    .submit = kernel_submit,
    .free_slots = kernel_free_slots,
    .capacity = kernel_capacity,
};
