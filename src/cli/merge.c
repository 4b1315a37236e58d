/*
 * merge.c — `qinval merge FILE...`: combine the JSON results of one exploration split with
 * `check --shard I/N --format json` (shard I ran executions e with e % N == I) into the result
 * of the whole. Inputs must agree on what was explored (driver, scenario, strategy, seed, --set
 * overrides, PCT depth or DFS bound, N) and name each shard once. The merged verdict is the
 * violation with the smallest global execution index, whatever the order of the files, and its
 * counterexample is carried over whole, so the merged JSON replays with `qinval replay`.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ce_file.h"
#include "cli/cli.h"
#include "cli/sweep_merge.h"
#include "report/jsonw.h"
#include "report/timeline.h"
#include "util/atomic_file.h"

#define MERGE_MAX_SHARDS 1000000u

/* One input: a check result of one shard. */
struct shard {
    const char *name; /* the path, or <stdin> */
    struct ce_loaded l;
    unsigned index, count; /* "shard": "index/count" */
    uint64_t executions;
    double seconds;
    bool complete;
};

struct merge_args {
    const char *format, *save;
    const char **paths;
    unsigned npaths;
};

/* The merged result. */
struct merged {
    const struct shard *shards; /* sorted by index */
    unsigned nshards, count;
    const struct shard *failing; /* the violation with the smallest execution index, or NULL */
    uint64_t executions;
    double seconds, cpu_seconds;
    bool complete;
};

static int usage_error(const char *fmt, const char *what)
{
    fputs("qinval merge: ", stderr);
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    return -1;
}

/* ---- arguments ---- */

static int parse_args(int argc, char **argv, struct merge_args *a)
{
    bool seen_stdin = false;
    a->format = "text";
    a->paths = calloc((size_t)argc + 1, sizeof(*a->paths));
    if (!a->paths)
        return usage_error("%s", "out of memory");
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(f, "-") || f[0] != '-') {
            if (!strcmp(f, "-") && seen_stdin)
                return usage_error("%s: standard input can be read only once", f);
            seen_stdin |= !strcmp(f, "-");
            a->paths[a->npaths++] = f;
        } else if (!strcmp(f, "--format") && v) {
            if (strcmp(v, "text") && strcmp(v, "json") && strcmp(v, "ktap") &&
                strcmp(v, "markdown"))
                return usage_error("--format must be text, json, ktap or markdown (got '%s')", v);
            a->format = argv[++i];
        } else if (!strcmp(f, "--save") && v) {
            a->save = argv[++i];
        } else if (!strcmp(f, "--format") || !strcmp(f, "--save")) {
            return usage_error("%s needs a value (see qinval --help)", f);
        } else {
            return usage_error("unknown option '%s' (see qinval --help)", f);
        }
    }
    if (!a->npaths)
        return usage_error("%s", "needs the JSON results of check --shard I/N --format json");
    return 0;
}

/* A check merge's --save is a file (a sweep merge's is a directory of counterexamples, which
 * sweep_merge makes). Which one the inputs are is known only once they are read; a --save that
 * cannot be a file is still said before any problem with the inputs, as it always was, unless
 * the inputs turn out to be a sweep's. */
static bool save_unwritable(const struct merge_args *a, char *why, size_t len)
{
    return a->save && af_check(a->save, why, len);
}

/* ---- reading one shard ---- */

static int shard_error(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s", what);
    return -1;
}

/* "I/N": digits only, 0 <= I < N. */
static bool parse_fraction(const char *text, unsigned *i, unsigned *n)
{
    char *end;
    if (!isdigit((unsigned char)text[0]))
        return false;
    errno = 0;
    unsigned long index = strtoul(text, &end, 10);
    if (errno || *end != '/' || !isdigit((unsigned char)end[1]))
        return false;
    unsigned long count = strtoul(end + 1, &end, 10);
    if (errno || *end || index >= count || count > UINT_MAX)
        return false;
    *i = (unsigned)index;
    *n = (unsigned)count;
    return true;
}

static int parse_shard_field(const json_value *root, struct shard *s, char *err, size_t errlen)
{
    const char *text;
    if (!json_get(root, "shard") && json_get(root, "missing_shards"))
        return shard_error(err, errlen, "a merged result, not the result of one shard");
    if (json_get_string(root, "shard", &text, err, errlen))
        return -1;
    unsigned i, n;
    if (!parse_fraction(text, &i, &n))
        return shard_error(err, errlen, "\"shard\" must be \"I/N\" with 0 <= I < N");
    if (n > MERGE_MAX_SHARDS)
        return shard_error(err, errlen, "more than 1000000 shards are not supported");
    s->index = i;
    s->count = n;
    return 0;
}

/* A violation's execution must be the shard's own and the counterexample's. */
static int check_failing_execution(const json_value *root, const struct shard *s, char *err,
                                   size_t errlen)
{
    uint64_t e;
    if (json_get_u64(root, "failing_execution", &e, err, errlen))
        return -1;
    if (e != s->l.cx.execution)
        return shard_error(err, errlen,
                           "\"failing_execution\" differs from the counterexample's \"execution\"");
    /* random and PCT number their executions across the shards (shard I runs I, I+N, ...);
     * dfs shards each number their own walk from 0 */
    if (strcmp(s->l.f.strategy, "dfs") && e % s->count != s->index) {
        snprintf(err, errlen, "\"failing_execution\" %llu is not an execution of shard %u/%u",
                 (unsigned long long)e, s->index, s->count);
        return -1;
    }
    return 0;
}

/* The shard owns root from here on (s->l.root), also on failure. */
static int read_result(json_value *root, struct shard *s, char *err, size_t errlen)
{
    s->l.root = root;
    if (root->type == JV_OBJECT && json_get(root, "qinval_counterexample"))
        return shard_error(err, errlen,
                           "a counterexample file, not a check result (check --format json)");
    if (root->type != JV_OBJECT || !json_get(root, "qinval_result"))
        return shard_error(err, errlen,
                           "not a qinval check result (no \"qinval_result\"; check --format json)");
    if (ce_from_json(root, &s->l, err, errlen) || parse_shard_field(root, s, err, errlen) ||
        json_get_u64(root, "executions", &s->executions, err, errlen) ||
        json_get_seconds(root, "seconds", &s->seconds, err, errlen) ||
        json_get_bool(root, "complete", &s->complete, err, errlen))
        return -1;
    if (s->l.has_counterexample)
        return check_failing_execution(root, s, err, errlen);
    return 0;
}

int merge_check_shard(json_value *root, char *err, size_t errlen)
{
    struct shard s;
    memset(&s, 0, sizeof(s));
    s.name = "<memory>";
    int rc = read_result(root, &s, err, errlen);
    ce_loaded_free(&s.l);
    return rc;
}

static int read_shard(const char *path, json_value *root, struct shard *s)
{
    char err[300];
    memset(s, 0, sizeof(*s));
    s->name = strcmp(path, "-") ? path : "<stdin>";
    if (read_result(root, s, err, sizeof(err))) {
        fprintf(stderr, "qinval merge: %s: %s\n", s->name, err);
        return -1;
    }
    return 0;
}

/* ---- checking that the shards belong together ---- */

static bool same_sets(const struct ce_file *a, const struct ce_file *b)
{
    if (a->nsets != b->nsets)
        return false;
    for (unsigned i = 0; i < a->nsets; i++)
        if (strcmp(a->sets[i], b->sets[i]))
            return false;
    return true;
}

/* The first thing in which shard b explored something else than shard a, or NULL. */
static const char *difference(const struct shard *a, const struct shard *b, char *buf, size_t len)
{
    const struct ce_file *x = &a->l.f, *y = &b->l.f;
    if (strcmp(x->driver, y->driver))
        snprintf(buf, len, "driver '%.60s' differs from '%.60s'", y->driver, x->driver);
    else if (strcmp(x->scenario, y->scenario))
        snprintf(buf, len, "scenario '%.60s' differs from '%.60s'", y->scenario, x->scenario);
    else if (strcmp(x->strategy, y->strategy))
        snprintf(buf, len, "strategy '%.60s' differs from '%.60s'", y->strategy, x->strategy);
    else if (x->seed != y->seed)
        snprintf(buf, len, "seed %llu differs from %llu", y->seed, x->seed);
    else if (!same_sets(x, y))
        snprintf(buf, len, "--set overrides differ from those");
    else if (strcmp(x->ktree ? x->ktree : "", y->ktree ? y->ktree : ""))
        snprintf(buf, len, "kernel tree %.20s differs from %.20s (other code under the same path)",
                 y->ktree ? y->ktree : "(none)", x->ktree ? x->ktree : "(none)");
    else if (x->pct_depth != y->pct_depth)
        snprintf(buf, len, "pct_depth %u differs from %u", y->pct_depth, x->pct_depth);
    else if (x->dfs_bound != y->dfs_bound)
        snprintf(buf, len, "dfs_bound %u differs from %u", y->dfs_bound, x->dfs_bound);
    else if (x->dpor_strict != y->dpor_strict)
        snprintf(buf, len, "dpor_strict %s differs from %s", y->dpor_strict ? "true" : "false",
                 x->dpor_strict ? "true" : "false");
    else if (x->local_time != y->local_time)
        snprintf(buf, len, "time_model %s differs from %s", y->local_time ? "local" : "global",
                 x->local_time ? "local" : "global");
    else if (a->count != b->count)
        snprintf(buf, len, "shard count %u differs from %u", b->count, a->count);
    else
        return NULL;
    return buf;
}

/* Every shard explores what the first one does, and no shard index comes twice. */
static int check_shards(const struct shard *shards, unsigned n)
{
    char what[200];
    unsigned *seen = calloc(shards[0].count, sizeof(*seen)); /* file position + 1 */
    int rc = seen ? 0 : usage_error("%s", "out of memory");
    for (unsigned k = 0; k < n && !rc; k++) {
        const struct shard *s = &shards[k];
        if (difference(&shards[0], s, what, sizeof(what))) {
            fprintf(stderr, "qinval merge: %s: %s in %s\n", s->name, what, shards[0].name);
            rc = -1;
        } else if (seen[s->index]) {
            fprintf(stderr, "qinval merge: %s: shard %u/%u given twice (also in %s)\n", s->name,
                    s->index, s->count, shards[seen[s->index] - 1].name);
            rc = -1;
        }
        if (!rc)
            seen[s->index] = k + 1;
    }
    free(seen);
    return rc;
}

/* ---- merging ---- */

static int by_index(const void *a, const void *b)
{
    unsigned x = ((const struct shard *)a)->index, y = ((const struct shard *)b)->index;
    return x < y ? -1 : x > y;
}

/* Sorts the shards by index and sums them up; all sums run in index order, so the result does
 * not depend on the order of the files. */
static int merge_shards(struct shard *shards, unsigned n, struct merged *m)
{
    qsort(shards, n, sizeof(*shards), by_index);
    *m = (struct merged){.shards = shards, .nshards = n, .count = shards[0].count};
    m->complete = n == m->count;
    for (unsigned k = 0; k < n; k++) {
        const struct shard *s = &shards[k];
        if (m->executions + s->executions < m->executions)
            return usage_error("%s", "the executions add up to more than 2^64-1");
        m->executions += s->executions;
        /* a shard's time not known (null): neither is the whole's */
        m->seconds = isnan(s->seconds) || s->seconds > m->seconds ? s->seconds : m->seconds;
        m->cpu_seconds += s->seconds;
        m->complete &= s->complete;
        if (s->l.has_counterexample &&
            (!m->failing || s->l.cx.execution < m->failing->l.cx.execution))
            m->failing = s;
    }
    return 0;
}

/* ---- printing ---- */

/* The runs lo..hi of shard indexes not given, in order. */
typedef void missing_run_fn(FILE *out, unsigned lo, unsigned hi, bool first);

static void for_missing_runs(const struct merged *m, missing_run_fn *emit, FILE *out)
{
    unsigned next = 0;
    bool first = true;
    for (unsigned k = 0; k <= m->nshards; k++) {
        unsigned have = k < m->nshards ? m->shards[k].index : m->count;
        if (have > next) {
            emit(out, next, have - 1, first);
            first = false;
        }
        next = have + 1;
    }
}

static void missing_as_ranges(FILE *out, unsigned lo, unsigned hi, bool first)
{
    fprintf(out, lo == hi ? "%s%u" : "%s%u-%u", first ? "" : ",", lo, hi);
}

static void missing_as_json(FILE *out, unsigned lo, unsigned hi, bool first)
{
    for (unsigned i = lo; i <= hi; i++)
        fprintf(out, "%s%u", first && i == lo ? "" : ", ", i);
}

static struct ce_file merged_identity(const struct merged *m)
{
    struct ce_file f = m->shards[0].l.f;
    f.verdict = m->failing ? m->failing->l.f.verdict : "pass";
    f.picks = m->failing ? m->failing->l.cx.picks : NULL;
    f.npicks = m->failing ? m->failing->l.cx.npicks : 0;
    return f;
}

static void print_json(const struct merged *m, FILE *out)
{
    struct ce_file f = merged_identity(m);
    ce_write_result_head(out, &f);
    fprintf(out, ",\n  \"shards\": %u,\n  \"merged_shards\": [", m->count);
    for (unsigned k = 0; k < m->nshards; k++)
        fprintf(out, "%s%u", k ? ", " : "", m->shards[k].index);
    fputs("],\n  \"missing_shards\": [", out);
    for_missing_runs(m, missing_as_json, out);
    fprintf(out, "],\n  \"executions\": %llu,\n  \"seconds\": ", (unsigned long long)m->executions);
    rep_json_real(out, m->seconds);
    fputs(",\n  \"cpu_seconds\": ", out);
    rep_json_real(out, m->cpu_seconds);
    fprintf(out, ",\n  \"complete\": %s", m->complete ? "true" : "false");
    if (m->failing) {
        fprintf(out, ",\n  \"failing_shard\": %u", m->failing->index);
        ce_write_counterexample(out, &m->failing->l.cx);
    }
    ce_write_result_end(out);
}

/* Seconds in the text line: "0.010", or "?" when not known (a shard's null) or too large. */
static const char *seconds_text(double x, char *buf, size_t len)
{
    if (isfinite(x) && x < 1e15)
        snprintf(buf, len, "%.3f", x);
    else
        snprintf(buf, len, "?");
    return buf;
}

/* "(random, seed 1, ..., 3 of 3 shards, 300 executions, 0.010 s, 0.030 s cpu)" */
static void print_figures(const struct merged *m, FILE *out)
{
    const struct ce_file *f = &m->shards[0].l.f;
    fprintf(out, "(%s, seed %llu, ", f->strategy, f->seed);
    bool dfs = !strcmp(f->strategy, "dfs");
    if (m->failing && dfs) /* each dfs shard numbers its own executions */
        fprintf(out, "execution %llu of shard %u, ",
                (unsigned long long)m->failing->l.cx.execution + 1, m->failing->index);
    else if (m->failing)
        fprintf(out, "execution %llu, ", (unsigned long long)m->failing->l.cx.execution + 1);
    fprintf(out, "%u of %u shard%s", m->nshards, m->count, m->count == 1 ? "" : "s");
    if (m->nshards < m->count) {
        fputs(", missing ", out);
        for_missing_runs(m, missing_as_ranges, out);
    }
    char wall[32], cpu[32];
    fprintf(out, ", %llu execution%s%s, %s s, %s s cpu)", (unsigned long long)m->executions,
            m->executions == 1 ? "" : "s",
            !m->complete                     ? ""
            : f->dfs_bound == CHK_BOUND_NONE ? ce_unbounded_words(f->dpor_strict, f->local_time)
                                             : ", bounded space covered completely",
            seconds_text(m->seconds, wall, sizeof(wall)),
            seconds_text(m->cpu_seconds, cpu, sizeof(cpu)));
}

static void print_text(const struct merged *m, const char *saved, FILE *out)
{
    const struct ce_file *f = &m->shards[0].l.f;
    if (!m->failing) {
        fprintf(out, "%s %s / %s  ", m->nshards < m->count ? "INCOMPLETE" : "PASS", f->driver,
                f->scenario);
        print_figures(m, out);
        fprintf(out, ": no violation%s\n", m->nshards < m->count ? " in the shards given" : "");
        return;
    }
    const struct ce_counterexample *cx = &m->failing->l.cx;
    fprintf(out, "FAIL %s  %s / %s  ", m->failing->l.f.verdict, f->driver, f->scenario);
    print_figures(m, out);
    fputc('\n', out);
    rep_timeline_header(out);
    for (size_t i = 0; i < cx->ntimeline; i++)
        fprintf(out, "%s\n", cx->timeline[i]);
    fprintf(out, "why: %s\n", cx->oracle);
    cli_print_schedule(out, cx->picks, cx->npicks);
    if (saved)
        fprintf(out, "replay: qinval replay %s\n", saved);
}

/* ---- the command ---- */

static int report(const struct merged *m, const struct merge_args *a)
{
    char saved_name[AF_PATH_LEN], why[AF_PATH_LEN + 128];
    const char *saved = NULL;
    bool save_failed = false;
    if (m->failing && a->save) {
        struct ce_file f = merged_identity(m);
        if (ce_save(a->save, false, &f, saved_name, sizeof(saved_name), why, sizeof(why))) {
            fprintf(stderr, "qinval merge: the counterexample was not saved: %s\n", why);
            save_failed = true;
        } else {
            saved = saved_name;
        }
    }
    if (!strcmp(a->format, "json"))
        print_json(m, stdout);
    else
        print_text(m, saved, stdout);
    if (m->nshards < m->count) {
        fprintf(stderr, "qinval merge: shards missing: ");
        for_missing_runs(m, missing_as_ranges, stderr);
        fprintf(stderr, " of %u (the result covers only the shards given)\n", m->count);
    }
    if (save_failed)
        return CLI_EXIT_INTERNAL;
    if (m->failing)
        return CLI_EXIT_VIOLATION;
    return m->nshards < m->count ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}

int cli_merge(int argc, char **argv)
{
    struct merge_args a = {0};
    if (parse_args(argc, argv, &a)) {
        free(a.paths);
        return CLI_EXIT_USAGE;
    }
    json_value **roots = calloc(a.npaths + 1, sizeof(*roots));
    unsigned nroots = 0;
    int rc = roots ? 0 : usage_error("%s", "out of memory");
    char err[300], why[AF_PATH_LEN + 128];
    bool unwritable = save_unwritable(&a, why, sizeof(why));
    bool unreadable = false;
    while (!rc && !unreadable && nroots < a.npaths) {
        roots[nroots] = json_parse_file(a.paths[nroots], err, sizeof(err));
        unreadable = !roots[nroots];
        nroots += !unreadable;
    }
    if (unreadable && !unwritable)
        rc = usage_error("%s", err);
    if (!rc && !unreadable && nroots && roots[0]->type == JV_OBJECT &&
        json_get(roots[0], "qinval_sweep")) {
        rc = sweep_merge(roots, a.paths, nroots, a.format, a.save); /* frees the trees */
        free(roots);
        free(a.paths);
        return rc;
    }
    if (!rc && unwritable)
        rc = usage_error("--save cannot be written: %s", why);
    if (!rc && (!strcmp(a.format, "ktap") || !strcmp(a.format, "markdown")))
        rc = usage_error("--format %s is for sweep results; a check result merges as text or "
                         "json",
                         a.format);
    struct shard *shards = calloc(a.npaths, sizeof(*shards));
    unsigned n = 0;
    rc = rc ? rc : shards ? 0 : usage_error("%s", "out of memory");
    while (!rc && n < a.npaths) {
        rc = read_shard(a.paths[n], roots[n], &shards[n]); /* takes the tree */
        roots[n++] = NULL;
    }
    for (unsigned k = 0; k < nroots; k++)
        json_free(roots[k]);
    free(roots);
    struct merged m;
    if (!rc)
        rc = check_shards(shards, n) || merge_shards(shards, n, &m);
    rc = rc ? CLI_EXIT_USAGE : report(&m, &a);
    for (unsigned k = 0; k < n; k++)
        ce_loaded_free(&shards[k].l);
    free(shards);
    free(a.paths);
    return rc;
}
