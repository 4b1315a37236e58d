/*
 * fidelity.c — `qinval fidelity --against qemu`: generated cases (src/fidelity/gen.c) run on
 * the model and on QEMU's intel-iommu in parallel worker threads, each with its own QEMU per
 * case; disagreements grouped by (class, rule, observable), one representative per group
 * shrunk and printed; QEMU deaths reported as findings. Exit status: 0 every disagreement
 * classified, 1 one is unclassified, 2 bad usage, 3 internal error or no QEMU.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fidelity/fidelity.h"
#include "qemu/qtest.h"
#include "report/jsonw.h"

#define MAX_GROUPS   64
#define SHRINK_CALLS 200

struct fid_args {
    unsigned cases, jobs;
    uint64_t seed;
    bool json;
    fid_knobs knobs;
};

struct group {
    unsigned cls, rule, obs;
    unsigned count;
    uint32_t rep; /* case index */
    fid_case shrunk;
    fid_trace model, qemu;
    fid_diff diff;
    char msg[320]; /* QEMU failures */
};

struct run {
    struct fid_args a;
    fid_ident ident[4]; /* scalable * 2 + devtlb */
    atomic_uint next;
    pthread_mutex_t lock;
    unsigned agree, diff_cases;
    struct group groups[MAX_GROUPS], fails[MAX_GROUPS];
    unsigned ngroups, nfails, dropped, cases_failed_total;
    unsigned tag_cases[FID_T_COUNT], tag_agree[FID_T_COUNT];
    int internal; /* a QEMU that could not even start */
    char internal_msg[320];
};

static int usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "qinval fidelity: ");
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    return -1;
}

static int parse_num(const char *f, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    if (!v || !*v || *v == '-')
        return usage_error("%s needs a number", f);
    unsigned long long x = strtoull(v, &end, 0);
    if (*end || x < lo || x > hi)
        return usage_error("%s: bad number (see qinval --help)", f);
    *out = x;
    return 0;
}

static int parse_flag(struct fid_args *a, const char *f, const char *v)
{
    uint64_t x;
    char err[256];
    if (!strcmp(f, "--against")) {
        if (!v || strcmp(v, "qemu"))
            return usage_error("--against takes qemu (got '%s')", v ? v : "");
    } else if (!strcmp(f, "--cases")) {
        if (parse_num(f, v, 1, 10000000, &x))
            return -1;
        a->cases = (unsigned)x;
    } else if (!strcmp(f, "--seed")) {
        if (parse_num(f, v, 0, UINT64_MAX, &a->seed))
            return -1;
    } else if (!strcmp(f, "--jobs")) {
        if (parse_num(f, v, 1, 256, &x))
            return -1;
        a->jobs = (unsigned)x;
    } else if (!strcmp(f, "--format")) {
        if (!v || (strcmp(v, "text") && strcmp(v, "json")))
            return usage_error("--format takes text or json (got '%s')", v ? v : "");
        a->json = !strcmp(v, "json");
    } else if (!strcmp(f, "--set")) {
        if (!v || fid_knob_add(&a->knobs, v, err, sizeof(err)))
            return usage_error("%s", v ? err : "--set needs KNOB=VALUE");
    } else {
        return usage_error("unknown option '%s' (see qinval --help)", f);
    }
    return 0;
}

static int parse(struct fid_args *a, int argc, char **argv)
{
    bool against = false;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    *a = (struct fid_args){.cases = 1000, .jobs = cpus > 0 ? (unsigned)cpus : 1, .seed = 1};
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i];
        if (strncmp(f, "--", 2))
            return usage_error("unexpected argument '%s'", f);
        against |= !strcmp(f, "--against");
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (parse_flag(a, f, v))
            return -1;
    }
    if (!against)
        return usage_error("%s", "--against qemu is required");
    return 0;
}

/* ---- one case ---- */

static const fid_ident *ident_of(const struct run *r, const fid_case *c)
{
    return &r->ident[(c->scalable ? 2 : 0) + (c->devtlb ? 1 : 0)];
}

struct outcome {
    fid_trace model, qemu;
    fid_diff diff;
    unsigned rule;
    int qemu_rc;
};

static void run_case(const struct run *r, const fid_case *c, struct outcome *o)
{
    fid_run_model(c, ident_of(r, c), &r->a.knobs, &o->model);
    o->qemu_rc = fid_run_qemu(c, &o->qemu, 5000);
    fid_compare(c, &o->model, &o->qemu, &o->diff);
    o->rule = o->diff.differ ? fid_classify(c, &o->diff, &o->model, &o->qemu, &r->a.knobs) : 0;
}

static void count_tags(struct run *r, const fid_case *c, bool agree)
{
    for (unsigned t = 0; t < FID_T_COUNT; t++) {
        if (!(c->tags >> t & 1))
            continue;
        r->tag_cases[t]++;
        r->tag_agree[t] += agree;
    }
}

static void add_group(struct run *r, const fid_case *c, const struct outcome *o)
{
    unsigned cls = fid_rules(NULL)[o->rule].cls;
    for (unsigned g = 0; g < r->ngroups; g++) {
        struct group *x = &r->groups[g];
        if (x->rule == o->rule && x->obs == o->diff.obs) {
            x->count++;
            if (c->index < x->rep)
                x->rep = c->index;
            return;
        }
    }
    if (r->ngroups == MAX_GROUPS) {
        r->dropped++;
        return;
    }
    struct group *x = &r->groups[r->ngroups++];
    *x = (struct group){
        .cls = cls, .rule = o->rule, .obs = o->diff.obs, .count = 1, .rep = c->index};
}

static void add_failure(struct run *r, const fid_case *c, const struct outcome *o)
{
    for (unsigned g = 0; g < r->nfails; g++)
        if (!strncmp(r->fails[g].msg, o->qemu.msg, 48)) {
            r->fails[g].count++;
            if (c->index < r->fails[g].rep)
                r->fails[g].rep = c->index;
            return;
        }
    if (r->nfails == MAX_GROUPS)
        return;
    struct group *x = &r->fails[r->nfails++];
    *x = (struct group){.count = 1, .rep = c->index};
    snprintf(x->msg, sizeof(x->msg), "%s", o->qemu.msg);
}

static void record(struct run *r, const fid_case *c, const struct outcome *o)
{
    pthread_mutex_lock(&r->lock);
    if (o->qemu_rc) {
        r->internal = 1;
        snprintf(r->internal_msg, sizeof(r->internal_msg), "%s", o->qemu.msg);
    } else if (o->qemu.failed) {
        add_failure(r, c, o);
        count_tags(r, c, false);
    } else {
        bool agree = !o->diff.differ;
        r->agree += agree;
        r->diff_cases += !agree;
        count_tags(r, c, agree);
        if (!agree)
            add_group(r, c, o);
    }
    pthread_mutex_unlock(&r->lock);
}

static void *worker(void *arg)
{
    struct run *r = arg;
    fid_case *c = malloc(sizeof(*c));
    struct outcome *o = malloc(sizeof(*o));
    if (!c || !o) {
        fprintf(stderr, "qinval fidelity: out of memory for a case\n");
        exit(CLI_EXIT_INTERNAL);
    }
    for (;;) {
        unsigned i = atomic_fetch_add(&r->next, 1);
        if (i >= r->a.cases || r->internal)
            break;
        fid_generate(r->a.seed, i, c);
        run_case(r, c, o);
        record(r, c, o);
    }
    free(c);
    free(o);
    hw_thread_done();
    return NULL;
}

/* ---- shrinking the representatives ---- */

struct keep_ctx {
    const struct run *r;
    const struct group *g;
    bool failure;
    struct outcome o;
};

static bool keep(const fid_case *c, void *arg)
{
    struct keep_ctx *k = arg;
    run_case(k->r, c, &k->o);
    if (k->o.qemu_rc)
        return false;
    if (k->failure)
        return k->o.qemu.failed && !strncmp(k->o.qemu.msg, k->g->msg, 48);
    return !k->o.qemu.failed && k->o.diff.differ && k->o.rule == k->g->rule &&
           k->o.diff.obs == k->g->obs;
}

static void shrink_group(const struct run *r, struct group *g, bool failure)
{
    struct keep_ctx *k = malloc(sizeof(*k));
    if (!k) {
        fprintf(stderr, "qinval fidelity: out of memory for shrinking\n");
        exit(CLI_EXIT_INTERNAL);
    }
    *k = (struct keep_ctx){.r = r, .g = g, .failure = failure};
    fid_generate(r->a.seed, g->rep, &g->shrunk);
    fid_shrink(&g->shrunk, keep, k, SHRINK_CALLS);
    run_case(r, &g->shrunk, &k->o);
    g->model = k->o.model;
    g->qemu = k->o.qemu;
    g->diff = k->o.diff;
    if (failure)
        snprintf(g->msg, sizeof(g->msg), "%s", k->o.qemu.msg);
    free(k);
}

static void *shrinker(void *arg)
{
    struct run *r = arg;
    for (;;) {
        unsigned i = atomic_fetch_add(&r->next, 1);
        if (i < r->ngroups)
            shrink_group(r, &r->groups[i], false);
        else if (i < r->ngroups + r->nfails)
            shrink_group(r, &r->fails[i - r->ngroups], true);
        else
            break;
    }
    hw_thread_done();
    return NULL;
}

static int in_parallel(struct run *r, void *(*fn)(void *))
{
    pthread_t th[256];
    unsigned n = 0;
    atomic_store(&r->next, 0);
    for (; n < r->a.jobs; n++)
        if (pthread_create(&th[n], NULL, fn, r))
            break;
    if (n == 0)
        return -1;
    for (unsigned i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    return 0;
}

/* ---- output ---- */

static const char *machine_of(const fid_case *c)
{
    static const char *const m[] = {"intel-iommu", "intel-iommu,device-iotlb=on",
                                    "intel-iommu,x-scalable-mode=on",
                                    "intel-iommu,x-scalable-mode=on,device-iotlb=on"};
    return m[(c->scalable ? 2 : 0) + (c->devtlb ? 1 : 0)];
}

static void print_sequence_text(const fid_case *c)
{
    char buf[256];
    printf("      -device %s\n", machine_of(c));
    for (unsigned i = 0; i < c->n; i++) {
        fid_step_format(&c->steps[i], buf, sizeof(buf));
        printf("      %2u  %s\n", i, buf);
    }
}

static void print_text(const struct run *r, double secs)
{
    unsigned count;
    const fid_rule *rules = fid_rules(&count);
    printf("fidelity against QEMU: %u cases (seed %llu, %u jobs, %.1f s): %u agree, %u disagree, "
           "%u QEMU failures\n",
           r->a.cases, (unsigned long long)r->a.seed, r->a.jobs, secs, r->agree, r->diff_cases,
           r->cases_failed_total);
    for (unsigned i = 0; i < r->ngroups; i++) {
        const struct group *g = &r->groups[i];
        const fid_rule *ru = &rules[g->rule];
        char obs[64];
        fid_diff_observable(&g->diff, &g->model, &g->shrunk, obs, sizeof(obs));
        printf("\n  %s  %s  (%u cases)  %s: model 0x%llx, QEMU 0x%llx\n", fid_class_name(g->cls),
               ru->name, g->count, obs, (unsigned long long)g->diff.model,
               (unsigned long long)g->diff.qemu);
        printf("    %s%s%s%s%s\n", ru->section ? "spec " : "", ru->section ? ru->section : "",
               ru->section ? ": " : "", ru->why, ru->knob ? "" : "");
        if (ru->knob)
            printf("    knob: %s\n", ru->knob);
        printf("    case %u, shrunk to %u steps (difference at step %u):\n", g->rep, g->shrunk.n,
               g->diff.step);
        print_sequence_text(&g->shrunk);
    }
    for (unsigned i = 0; i < r->nfails; i++) {
        const struct group *g = &r->fails[i];
        printf("\n  qemu-failure  (%u cases)  %s\n    case %u, shrunk to %u steps:\n", g->count,
               g->msg, g->rep, g->shrunk.n);
        print_sequence_text(&g->shrunk);
    }
    printf("\nbehaviours (cases, agree):\n");
    for (unsigned t = 0; t < FID_T_COUNT; t++)
        printf("  %-22s %6u %6u\n", fid_tag_name(t), r->tag_cases[t], r->tag_agree[t]);
    (void)count;
}

static void json_sequence(const fid_case *c)
{
    char buf[256];
    printf("[");
    for (unsigned i = 0; i < c->n; i++) {
        fid_step_format(&c->steps[i], buf, sizeof(buf));
        printf("%s", i ? ", " : "");
        rep_json_string(stdout, buf);
    }
    printf("]");
}

static void json_group(const struct group *g, const fid_rule *ru)
{
    char obs[64], v[32];
    fid_diff_observable(&g->diff, &g->model, &g->shrunk, obs, sizeof(obs));
    printf("{\"class\": \"%s\", \"rule\": ", fid_class_name(g->cls));
    rep_json_string(stdout, ru->name);
    printf(", \"section\": ");
    if (ru->section)
        rep_json_string(stdout, ru->section);
    else
        printf("null");
    printf(", \"knob\": ");
    if (ru->knob)
        rep_json_string(stdout, ru->knob);
    else
        printf("null");
    printf(", \"explanation\": ");
    rep_json_string(stdout, ru->why);
    printf(", \"observable\": ");
    rep_json_string(stdout, obs);
    printf(", \"count\": %u, \"case\": %u, \"step\": %u, \"machine\": \"%s\", \"sequence\": ",
           g->count, g->rep, g->diff.step, machine_of(&g->shrunk));
    json_sequence(&g->shrunk);
    snprintf(v, sizeof(v), "0x%llx", (unsigned long long)g->diff.model);
    printf(", \"model\": \"%s\"", v);
    snprintf(v, sizeof(v), "0x%llx", (unsigned long long)g->diff.qemu);
    printf(", \"qemu\": \"%s\"}", v);
}

static void print_json(const struct run *r, double secs)
{
    const fid_rule *rules = fid_rules(NULL);
    printf("{\"against\": \"qemu\", \"seed\": %llu, \"jobs\": %u, \"seconds\": %.1f, "
           "\"cases\": %u, \"agree\": %u, \"disagree\": %u, \"qemu_failure_cases\": %u, "
           "\"disagreements\": [",
           (unsigned long long)r->a.seed, r->a.jobs, secs, r->a.cases, r->agree, r->diff_cases,
           r->cases_failed_total);
    for (unsigned i = 0; i < r->ngroups; i++) {
        printf("%s\n  ", i ? "," : "");
        json_group(&r->groups[i], &rules[r->groups[i].rule]);
    }
    printf("], \"qemu_failures\": [");
    for (unsigned i = 0; i < r->nfails; i++) {
        printf("%s\n  {\"count\": %u, \"case\": %u, \"message\": ", i ? "," : "", r->fails[i].count,
               r->fails[i].rep);
        rep_json_string(stdout, r->fails[i].msg);
        printf(", \"machine\": \"%s\", \"sequence\": ", machine_of(&r->fails[i].shrunk));
        json_sequence(&r->fails[i].shrunk);
        printf("}");
    }
    printf("], \"behaviours\": {");
    for (unsigned t = 0; t < FID_T_COUNT; t++)
        printf("%s\n  \"%s\": {\"cases\": %u, \"agree\": %u}", t ? "," : "", fid_tag_name(t),
               r->tag_cases[t], r->tag_agree[t]);
    printf("}}\n");
}

/* ---- the command ---- */

static int read_idents(struct run *r)
{
    char err[320];
    for (unsigned m = 0; m < 4; m++)
        if (fid_qemu_ident(m >= 2, m & 1, &r->ident[m], err, sizeof(err))) {
            fprintf(stderr, "qinval fidelity: QEMU did not start: %s\n", err);
            return -1;
        }
    return 0;
}

static bool any_unclassified(const struct run *r)
{
    for (unsigned i = 0; i < r->ngroups; i++)
        if (r->groups[i].cls == FID_UNCLASSIFIED)
            return true;
    return r->dropped > 0;
}

int cli_fidelity(int argc, char **argv)
{
    static struct run r;
    char why[320];
    if (parse(&r.a, argc, argv))
        return CLI_EXIT_USAGE;
    qtest_options qo = {0};
    if (!qtest_available(&qo, why, sizeof(why))) {
        fprintf(stderr, "qinval fidelity: QEMU is not available (install qemu-system-x86): %s\n",
                why);
        return CLI_EXIT_INTERNAL;
    }
    if (read_idents(&r))
        return CLI_EXIT_INTERNAL;
    pthread_mutex_init(&r.lock, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (in_parallel(&r, worker) || r.internal) {
        fprintf(stderr, "qinval fidelity: %s\n", r.internal ? r.internal_msg : "no threads");
        return CLI_EXIT_INTERNAL;
    }
    for (unsigned i = 0; i < r.nfails; i++)
        r.cases_failed_total += r.fails[i].count;
    in_parallel(&r, shrinker);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (r.a.json)
        print_json(&r, secs);
    else
        print_text(&r, secs);
    if (r.dropped)
        fprintf(stderr, "qinval fidelity: %u disagreements in groups beyond the first %d\n",
                r.dropped, MAX_GROUPS);
    return any_unclassified(&r) ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
}
