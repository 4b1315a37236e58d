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
 * How the workload reaches the kernel (`--set kcall=`, a setting of the driver handed to each
 * world): `kernel` (default) runs each job of the workload (an unmap, a detach, a context
 * change) through the function the tree itself uses for it — 6.12's cache_tag_flush_range(),
 * 6.1's iommu_flush_iotlb_psi(), intel_pasid_tear_down_entry(), domain_context_clear_one() —
 * with their locks and their handling of results (those functions return nothing); `submit`
 * hands every job's careful batch to qi_submit_sync() whole and returns its result; `callers`
 * issues it through qi_flush_iotlb() / qi_flush_dev_iotlb() one descriptor at a time, which
 * return nothing. Descriptor-level workload ops (`flush ...`) have no job above them: they go
 * to qi_submit_sync() in `kernel` and `submit` modes. The callers' build needs more of the
 * tree (pasid.c, iommu.c, cache.c where it exists); a tree whose callers cannot be built still
 * builds for the lower modes, and kcall=kernel then says what stopped them.
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
/* The kernel's own callers for the checker's jobs (kcall=kernel): the teardown and context
 * paths every version has, and the domain flush of the version (6.12's cache tags, 6.1's
 * page-selective flush). lkh_glue.c also calls qi_flush_context and intel_pasid_get_entry. */
static const char *const kcallers[] = {"intel_pasid_tear_down_entry", "domain_context_clear_one",
                                       "qi_flush_context", "qi_flush_iotlb",
                                       "intel_pasid_get_entry"};
static const char *const flush_cache_tags[] = {"cache_tag_flush_range", "cache_tag_assign_domain",
                                               "cache_tag_unassign_domain"};
static const char *const flush_psi[] = {"iommu_flush_iotlb_psi"};
/* Definitions harness/linux/lkh_glue.c uses itself: always, and with the callers. */
static const char *const glue_needs[] = {"QI_LENGTH", "DMAR_GSTS_REG", "ecap_dit", "ecap_smts"};
#define NGLUE_BASE 2
/* Files of the tree the definitions are looked up in, in this order: base_file()s are needed
 * by every mode, the others only by the callers (kcall=kernel); cache.c exists from 6.10 on. */
static const char *const tree_files[] = {
    "drivers/iommu/intel/iommu.h", "drivers/iommu/intel/pasid.h", "drivers/iommu/intel/dmar.c",
    "drivers/iommu/intel/cache.c", "drivers/iommu/intel/pasid.c", "drivers/iommu/intel/iommu.c"};
#define NFILES (sizeof(tree_files) / sizeof(tree_files[0]))
static bool base_file(size_t i)
{
    return i == 0 || i == 2; /* iommu.h, dmar.c */
}
#define N(a) (sizeof(a) / sizeof((a)[0]))

enum kcall { KCALL_KERNEL, KCALL_SUBMIT, KCALL_CALLERS };

static struct lkh_driver kdrv;     /* the loaded object's entry points */
static char loaded_from[PATH_LEN]; /* the ksrc the object was built from */
static char so_loaded[PATH_LEN];
static char tree_id[17];       /* hash of the tree files' contents (kernel_drv_tree_id) */
static char kcallers_why[700]; /* why the tree's callers (kcall=kernel) could not be built */

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

const char *kernel_drv_env_ksrc(void)
{
    const char *e = getenv("QINVAL_KSRC");
    return e && *e ? e : NULL;
}

const char *kernel_drv_loaded(void)
{
    return kdrv.init ? loaded_from : NULL;
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
    /* "v2": the files taken from a tarball grew with the callers (kcall=kernel). */
    strf(key, sizeof(key), "v2|%s|%lld|%lld", real, (long long)st->st_size,
         (long long)st->st_mtime);
    strf(tree, cap, "%s/src-%016" PRIx64, cache_dir(),
         fnv(0xcbf29ce484222325ull, key, strlen(key)));
    strf(probe, sizeof(probe), "%s/SOURCE", tree);
    if (stat(probe, &s2) == 0)
        return 0;
    strf(tmp, sizeof(tmp), "%s.tmp-%ld", tree, (long)getpid());
    if (mkdir_p(tmp))
        return fail(err, errlen, 3, "cannot create %s: %s", tmp, strerror(errno));
    shq(q1, sizeof(q1), tarball);
    shq(q2, sizeof(q2), tmp);
    fprintf(stderr, "qinval: extracting drivers/iommu/intel from %s (once; cached in %s)\n",
            tarball, cache_dir());
    strf(cmd, sizeof(cmd),
         "tar -xf %s -C %s --wildcards --no-anchored '*/drivers/iommu/intel/*.[ch]' 2>/dev/null",
         q1, q2);
    int rc = system(cmd);
    for (size_t i = 0; i < NFILES; i++) {
        if (!find_under(tmp, tree_files[i], from, sizeof(from))) {
            if (!base_file(i))
                continue; /* only the callers need it: their build says what is missing */
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
        if (!(t = read_all(path, &n))) {
            if (base_file(i))
                return -1;
            continue;
        }
        h = fnv(h, tree_files[i], strlen(tree_files[i]) + 1);
        h = fnv(h, t, n);
        free(t);
    }
    strf(out, cap, "%016" PRIx64, h);
    return 0;
}

/* Exit code of generate() and build() when only the callers (kcall=kernel) cannot be built:
 * err names the function, symbol or file that stopped them, and the lower modes still build. */
#define NO_KCALLERS 4

/* The roots of the callers' build for this tree, appended to want[]; the #defines that tell
 * lkh_glue.c which they are, into defs. NO_KCALLERS with a reason if the tree lacks them. */
static int kcaller_roots(const struct lkh_set *srcs, const char **want, size_t *nwant, FILE *defs,
                         char *err, size_t errlen)
{
    for (size_t i = 0; i < N(kcallers); i++)
        want[(*nwant)++] = kcallers[i];
    const struct lkh_def *d = lkh_find(srcs, flush_cache_tags[0]);
    if (d && d->kind == LKH_FUNC) {
        for (size_t i = 0; i < N(flush_cache_tags); i++)
            want[(*nwant)++] = flush_cache_tags[i];
        fputs("#define LKH_HAVE_CACHE_TAGS 1\n", defs);
    } else if ((d = lkh_find(srcs, flush_psi[0])) && d->kind == LKH_FUNC) {
        want[(*nwant)++] = flush_psi[0];
        fputs("#define LKH_HAVE_PSI_FLUSH 1\n", defs);
    } else {
        return fail(err, errlen, NO_KCALLERS,
                    "neither cache_tag_flush_range (cache.c) nor iommu_flush_iotlb_psi "
                    "(iommu.c) found: no domain flush to run");
    }
    fputs("#define LKH_HAVE_KCALLERS 1\n", defs);
    return 0;
}

/* The tree's files into srcs: the base files must be there; the callers' files (with_k) too,
 * else NO_KCALLERS names the one missing. */
static int read_tree(const char *tree, bool with_k, struct lkh_set *srcs, char *err, size_t errlen)
{
    char path[PATH_LEN], msg[600];
    for (size_t i = 0; i < NFILES; i++) {
        if (!with_k && !base_file(i))
            continue;
        strf(path, sizeof(path), "%s/%s", tree, tree_files[i]);
        if (access(path, R_OK) && !strcmp(tree_files[i], "drivers/iommu/intel/cache.c"))
            continue;
        if (access(path, R_OK))
            return base_file(i) ? fail(err, errlen, 2,
                                       "kernel tree %s: no readable %s (not a Linux source tree?)",
                                       tree, tree_files[i])
                                : fail(err, errlen, NO_KCALLERS, "no readable %s in the tree",
                                       tree_files[i]);
        if (lkh_add_file(srcs, path, msg, sizeof(msg)))
            return fail(err, errlen, 2, "kernel tree %s: %s", tree, msg);
    }
    return 0;
}

/* The hash of the generated text and of everything else that goes into the object. */
static int object_hash(const char *buf, size_t len, uint64_t *hash, char *err, size_t errlen)
{
    static const char *const ours[] = {"shim/lkh_shim.h", "shim/lkh_shim_domain.h", "lkh_glue.c",
                                       "lkh_abi.h"};
    char path[PATH_LEN];
    uint64_t h = fnv(0xcbf29ce484222325ull, buf, len);
    for (size_t i = 0; i < N(ours); i++) {
        size_t n = 0;
        char *t;
        strf(path, sizeof(path), "%s/%s", lkh_dir(), ours[i]);
        if (!(t = read_all(path, &n)))
            return fail(err, errlen, 3, "kernel harness: cannot read %s", path);
        h = fnv(h, t, n);
        free(t);
    }
    *hash = fnv(h, QINVAL_LKH_CC QINVAL_LKH_CFLAGS, strlen(QINVAL_LKH_CC QINVAL_LKH_CFLAGS));
    return 0;
}

/* Generate the harness source for the tree into `gen` and return its hash; with_k: with the
 * kernel's own callers of the checker's jobs (kcall=kernel). */
static int generate(const char *tree, bool with_k, const char *gen, uint64_t *hash, char *err,
                    size_t errlen)
{
    struct lkh_set shim = {0}, srcs = {0};
    char path[PATH_LEN], msg[600];
    char *buf = NULL, *defs = NULL;
    size_t len = 0, dlen = 0;
    int rc = 0;
    FILE *mem = open_memstream(&buf, &len), *dmem = open_memstream(&defs, &dlen);
    if (!mem || !dmem) {
        if (mem)
            fclose(mem);
        if (dmem)
            fclose(dmem);
        free(buf);
        free(defs);
        return fail(err, errlen, 3, "out of memory");
    }
    static const char *const shims[] = {"shim/lkh_shim.h", "shim/lkh_shim_domain.h"};
    for (size_t i = 0; i < N(shims) && !rc; i++) {
        strf(path, sizeof(path), "%s/%s", lkh_dir(), shims[i]);
        if (lkh_add_file(&shim, path, msg, sizeof(msg)))
            rc = fail(err, errlen, 3, "kernel harness: %s", msg);
    }
    if (!rc)
        rc = read_tree(tree, with_k, &srcs, err, errlen);
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
        for (size_t i = 0; i < N(relaxed); i++)
            fprintf(mem, "#pragma GCC diagnostic ignored \"%s\"\n", relaxed[i]);
        const char *want[N(roots) + N(callers) + N(kcallers) + N(flush_cache_tags) + 1];
        size_t nwant = 0;
        bool have_callers = true;
        for (size_t i = 0; i < N(roots); i++)
            want[nwant++] = roots[i];
        for (size_t i = 0; i < N(callers); i++) {
            const struct lkh_def *d = lkh_find(&srcs, callers[i]);
            have_callers &= d && d->kind == LKH_FUNC;
        }
        for (size_t i = 0; have_callers && i < N(callers); i++)
            want[nwant++] = callers[i];
        if (have_callers)
            fputs("#define LKH_HAVE_CALLERS 1\n", dmem);
        if (with_k)
            rc = kcaller_roots(&srcs, want, &nwant, dmem, err, errlen);
        if (!rc && lkh_extract(&srcs, &shim, want, nwant, glue_needs,
                               with_k ? N(glue_needs) : NGLUE_BASE, mem, msg, sizeof(msg)))
            rc = with_k ? fail(err, errlen, NO_KCALLERS, "%s", msg)
                        : fail(err, errlen, 2, "kernel tree %s: %s", tree, msg);
        fclose(dmem);
        dmem = NULL;
        fprintf(mem,
                "#pragma GCC diagnostic pop\n%s#line 1 \"lkh_glue.c\"\n#include \"lkh_glue.c\"\n",
                defs ? defs : "");
    }
    if (dmem)
        fclose(dmem);
    fclose(mem);
    if (!rc)
        rc = object_hash(buf, len, hash, err, errlen);
    if (!rc) {
        FILE *f = fopen(gen, "wb");
        if (!f || fwrite(buf, 1, len, f) != len)
            rc = fail(err, errlen, 3, "cannot write %s: %s", gen, strerror(errno));
        if (f && fclose(f) && !rc)
            rc = fail(err, errlen, 3, "cannot write %s", gen);
    }
    free(buf);
    free(defs);
    lkh_set_free(&shim);
    lkh_set_free(&srcs);
    return rc;
}

/* ---- host functions for the object ---- */

/* Those that call a platform operation first name the kernel code that called them as its
 * site (their own return address: the shim's inline readl, cpu_relax, ... inlined into a
 * kernel function), for a failure's signature; noinline keeps that address theirs. */
#define HOST    __attribute__((noinline))
#define HINT(p) sim_site_hint(p, __builtin_return_address(0))

HOST static uint32_t h_read32(void *p, uint32_t off)
{
    HINT(p);
    return qi_plat_read32(p, off);
}
HOST static uint64_t h_read64(void *p, uint32_t off)
{
    HINT(p);
    return qi_plat_read64(p, off);
}
HOST static void h_write32(void *p, uint32_t off, uint32_t v)
{
    HINT(p);
    qi_plat_write32(p, off, v);
}
HOST static void h_write64(void *p, uint32_t off, uint64_t v)
{
    HINT(p);
    qi_plat_write64(p, off, v);
}
HOST static uint32_t h_load32(void *p, const volatile uint32_t *a)
{
    HINT(p);
    return qi_plat_load32(p, a);
}
HOST static unsigned long h_lock_irqsave(void *p, void *l)
{
    HINT(p);
    return qi_plat_lock_irqsave(p, l);
}
HOST static void h_unlock_irqrestore(void *p, void *l, unsigned long f)
{
    HINT(p);
    qi_plat_unlock_irqrestore(p, l, f);
}
HOST static void h_lock(void *p, void *l)
{
    HINT(p);
    qi_plat_lock(p, l);
}
HOST static void h_unlock(void *p, void *l)
{
    HINT(p);
    qi_plat_unlock(p, l);
}
HOST static void h_relax(void *p)
{
    HINT(p);
    qi_plat_relax(p, 0);
}
HOST static uint64_t h_now(void *p)
{
    HINT(p);
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
static void *h_p2v(void *p, uint64_t pa)
{
    return hw_mem_ptr(sim_hw(sim_platform_world(p)), pa, 1);
}
/* A config read (pci_device_is_present() and the like) is answered by the endpoint model at
 * the moment of the read, after a scheduling point: a link drop just before or just after it
 * is explored. */
static uint32_t h_pci_cfg(void *p, int ep, uint32_t off)
{
    sim_touch(p);
    uint32_t v = hw_ep_config_read32(sim_hw(sim_platform_world(p)), ep, off);
    sim_note(p, "kernel config read of an endpoint (endpoint, value)", (uint64_t)ep, v);
    return v;
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
    .phys_to_virt = h_p2v,
    .note = h_note,
    .pci_find = h_pci_find,
    .pci_config_read32 = h_pci_cfg,
    .fatal = h_fatal,
};

/* ---- building and loading ---- */

/* Build (or find in the cache) the object for `tree`, with or without the callers (with_k),
 * into so[]. A callers' build that fails to compile is remembered (kernel-HASH.fail holds the
 * reason), so that later runs go straight to the lower build. Returns 0, 2, 3, or NO_KCALLERS
 * with the reason in err. */
static int build(const char *ksrc, const char *tree, bool with_k, char *so, size_t socap, char *err,
                 size_t errlen)
{
    char gen[PATH_LEN], tmp[PATH_LEN], log[PATH_LEN], failed[PATH_LEN];
    char cmd[6 * PATH_LEN], q[4][PATH_LEN + 8];
    struct stat st;
    uint64_t hash = 0;
    int rc;
    strf(gen, sizeof(gen), "%s/gen-%ld.c", cache_dir(), (long)getpid());
    if ((rc = generate(tree, with_k, gen, &hash, err, errlen))) {
        unlink(gen);
        return rc;
    }
    strf(so, socap, "%s/kernel-%016" PRIx64 ".so", cache_dir(), hash);
    strf(failed, sizeof(failed), "%s/kernel-%016" PRIx64 ".fail", cache_dir(), hash);
    if (stat(so, &st) == 0) {
        unlink(gen);
        return 0;
    }
    size_t flen = 0;
    char *why = with_k ? read_all(failed, &flen) : NULL;
    if (why) {
        unlink(gen);
        fail(err, errlen, NO_KCALLERS, "%s", why);
        free(why);
        return NO_KCALLERS;
    }
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
        if (!with_k)
            return fail(err, errlen, 2,
                        "kernel tree %s: the harness does not compile against it: %s (log: %s)",
                        ksrc, first, log);
        fail(err, errlen, NO_KCALLERS, "the callers do not compile: %s (log: %s)", first, log);
        /* Remembered whole or not at all: a reason cut short would be the next run's message. */
        FILE *f = fopen(failed, "w");
        if (f && (fputs(err, f) < 0) + (fclose(f) != 0))
            unlink(failed);
        return NO_KCALLERS;
    }
    if (rename(tmp, so))
        return fail(err, errlen, 3, "cannot create %s: %s", so, strerror(errno));
    return 0;
}

/* dlopen the object and take its entry points. */
static int load(const char *so, char *err, size_t errlen)
{
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return fail(err, errlen, 3, "cannot load %s: %s", so, dlerror());
    lkh_entry_fn entry = (lkh_entry_fn)dlsym(h, LKH_ENTRY_SYMBOL);
    struct lkh_driver d = {0};
    if (!entry || entry(&host, &d) || d.abi != LKH_ABI_VERSION || !d.init || !d.submit)
        return fail(err, errlen, 3, "%s: not a kernel harness of this qinval (ABI %d)", so,
                    LKH_ABI_VERSION);
    kdrv = d;
    return 0;
}

int kernel_drv_prepare(const char *ksrc, char *err, size_t errlen)
{
    char tree[PATH_LEN], so[PATH_LEN];
    struct stat st;
    int rc;

    if (!ksrc)
        ksrc = kernel_drv_env_ksrc();
    if (!ksrc)
        return fail(err, errlen, 2,
                    "--driver kernel needs a Linux source tree: --set ksrc=PATH (a directory "
                    "or a linux-source-*.tar.xz) or QINVAL_KSRC=PATH");
    if (kernel_drv_ready() && !strcmp(loaded_from, ksrc))
        return 0;
    /* Another tree than the one loaded (sweep --against ksrc=B): it replaces the first for the
     * runs from now on. The first object stays mapped (its worlds are gone; nothing calls it). */
    if (stat(ksrc, &st))
        return fail(err, errlen, 2, "kernel tree %s: %s", ksrc, strerror(errno));
    if (mkdir_p(cache_dir()))
        return fail(err, errlen, 3, "cannot create %s: %s", cache_dir(), strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        strf(tree, sizeof(tree), "%s", ksrc);
    } else if ((rc = tarball_tree(ksrc, &st, tree, sizeof(tree), err, errlen))) {
        return rc;
    }
    kcallers_why[0] = '\0';
    rc = build(ksrc, tree, true, so, sizeof(so), err, errlen);
    if (rc == NO_KCALLERS) {
        strf(kcallers_why, sizeof(kcallers_why), "%s", err);
        rc = build(ksrc, tree, false, so, sizeof(so), err, errlen);
    }
    if (rc || (rc = load(so, err, errlen)))
        return rc;
    char id[sizeof(tree_id)];
    if (hash_tree(tree, id, sizeof(id)))
        return fail(err, errlen, 2, "kernel tree %s: cannot read %s", ksrc, tree_files[0]);
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

/* How the workload reaches the kernel, and the tree, from the driver's settings. */
struct ksettings {
    enum kcall kcall;
    const char *ksrc; /* NULL: QINVAL_KSRC */
};

static int parse_settings(const char *const *sets, unsigned n, struct ksettings *k, char *err,
                          size_t errlen)
{
    k->kcall = KCALL_KERNEL;
    k->ksrc = NULL;
    for (unsigned i = 0; i < n; i++) {
        if (!strncmp(sets[i], "ksrc=", 5)) {
            k->ksrc = *(sets[i] + 5) ? sets[i] + 5 : NULL;
        } else if (!strcmp(sets[i], "kcall=kernel")) {
            k->kcall = KCALL_KERNEL;
        } else if (!strcmp(sets[i], "kcall=submit")) {
            k->kcall = KCALL_SUBMIT;
        } else if (!strcmp(sets[i], "kcall=callers")) {
            k->kcall = KCALL_CALLERS;
        } else {
            return fail(err, errlen, 2,
                        "--set %s: expected kcall=kernel, kcall=submit or "
                        "kcall=callers, or ksrc=PATH",
                        sets[i]);
        }
    }
    return 0;
}

/* Build and load the tree the settings name (or QINVAL_KSRC's), and check that it has what the
 * kcall mode asked for needs. */
static int kernel_configure(const char *const *sets, unsigned n, char *err, size_t errlen)
{
    struct ksettings k;
    int rc = parse_settings(sets, n, &k, err, errlen);
    if (rc || (rc = kernel_drv_prepare(k.ksrc, err, errlen)))
        return rc;
    if (k.kcall == KCALL_CALLERS && !kdrv.submit_callers)
        return fail(err, errlen, 2,
                    "kernel tree %s: kcall=callers needs qi_flush_iotlb and qi_flush_dev_iotlb in "
                    "its dmar.c",
                    loaded_from);
    if (k.kcall == KCALL_KERNEL && !kdrv.flush_range)
        return fail(err, errlen, 2,
                    "kernel tree %s: kcall=kernel (the default) cannot run the tree's own callers: "
                    "%s; kcall=submit and kcall=callers still work",
                    loaded_from, kcallers_why[0] ? kcallers_why : "not built");
    return 0;
}

const char *kernel_drv_kcallers_why(void)
{
    return kcallers_why;
}

/* One world's kernel driver: the harness's state and how jobs reach it. */
struct kstate {
    void *k;
    enum kcall kcall;
};

static void *kernel_init(qi_platform *p, const struct drv_params *params)
{
    char err[256];
    struct ksettings ks;
    if (!kernel_drv_ready()) {
        qi_plat_log(p, QI_LOG_ERR, "kernel: harness not built (kernel_drv_prepare)", 0, 0);
        return NULL;
    }
    if (parse_settings(params->settings, params->nsettings, &ks, err, sizeof(err)) ||
        (ks.ksrc && strcmp(ks.ksrc, loaded_from))) {
        sim_note(p, ks.ksrc ? "kernel: the world names another tree than the one loaded" : err, 0,
                 0);
        return NULL;
    }
    struct kstate *st = sim_dma_alloc(p, sizeof(*st));
    st->kcall = ks.kcall;
    st->k = kdrv.init(p, params->queue_len, params->dw256, err, sizeof(err));
    if (!st->k) {
        sim_note(p, err, 0, 0);
        return NULL;
    }
    return st;
}

/* A result of the kernel's as the checker knows them (anything else: EIO). */
static int known_result(int rc)
{
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

static int kernel_submit(void *drv, qi_platform *p, const vtd_desc *descs, unsigned n,
                         const struct drv_submit_opts *opts)
{
    struct kstate *st = drv;
    uint64_t qw[64][4];
    (void)opts; /* the kernel has no deadline */
    if (n > 64)
        return DRV_EINVAL;
    for (unsigned i = 0; i < n; i++)
        memcpy(qw[i], descs[i].qw, sizeof(qw[i]));
    /* A descriptor batch is below any job: with kcall=kernel it goes to qi_submit_sync() whole,
     * as the kernel's batched flushes hand theirs. */
    int rc = st->kcall == KCALL_CALLERS ? kdrv.submit_callers(st->k, p, (const uint64_t(*)[4])qw, n)
                                        : kdrv.submit(st->k, p, (const uint64_t(*)[4])qw, n);
    return known_result(rc);
}

/* A job: with kcall=kernel through the tree's own caller for it (the result is what that
 * caller returns: 0 for the kernel's void flushes); otherwise the careful caller's batch. */
static int kernel_op(void *drv, qi_platform *p, const struct drv_op *op,
                     const struct drv_submit_opts *opts)
{
    struct kstate *st = drv;
    if (st->kcall != KCALL_KERNEL)
        return kernel_submit(drv, p, op->descs, op->n, opts);
    struct lkh_domain dom = {.did = op->dom->did, .ndevs = op->dom->ndevs};
    for (unsigned i = 0; i < op->dom->ndevs && i < LKH_MAX_DEVS; i++) {
        dom.dev[i].sid = op->dom->sid[i];
        dom.dev[i].ats = op->dom->ats[i];
    }
    switch (op->kind) {
    case DRV_OP_UNMAP:
        return known_result(kdrv.flush_range(st->k, p, &dom, op->start, op->end));
    case DRV_OP_DETACH:
        return known_result(kdrv.detach(st->k, p, &dom, op->sid));
    case DRV_OP_CONTEXT:
        return known_result(kdrv.context_flush(st->k, p, &dom, op->sid));
    }
    return DRV_EINVAL;
}

static unsigned kernel_free_slots(void *drv)
{
    return kdrv.free_slots(((struct kstate *)drv)->k);
}

static unsigned kernel_capacity(void *drv)
{
    return kdrv.capacity(((struct kstate *)drv)->k);
}

static const char *const kernel_keys[] = {"ksrc", "kcall", NULL};

const sim_driver_ops kernel_ops = {
    .name = "kernel",
    .summary = "a Linux tree's own QI code and its callers, built in user space (--set ksrc=PATH)",
    .init = kernel_init,
    .submit = kernel_submit,
    .op = kernel_op,
    .free_slots = kernel_free_slots,
    .capacity = kernel_capacity,
    .setting_keys = kernel_keys,
    .code_setting = "ksrc",
    .configure = kernel_configure,
};
