/*
 * engine_run.c — `qinval engine-run --hw qemu|model [--threads N] [--rounds R]
 * [--format text|json] [--seed S] [--model-resume-on-tail]`: the engine's workload
 * (engine_work.h) on QEMU's intel-iommu and on the hardware model.
 *
 * With --hw qemu the same workload also runs on the model, and each call's result is held up
 * against the same call's on the model ("each call returns what the same call returns on the
 * model"): every difference is listed and the exit status is 1. Either way every call must
 * also come back as the workload expects (engine_work.h: QI_OK, the malformed call
 * QI_ERR_MALFORMED at its index with the rest done). Figures: calls, tail writes, wraps (IQT
 * moving past the end of the queue), QEMU requests, wall time, the engine's counters.
 * --model-resume-on-tail gives the model QEMU's way of resuming after an IQE (only at the
 * next tail write: hw_config.iqe_resume_on_tail). Exit: 0, 1 (a mismatch or an unexpected
 * result), 2 (usage), 3 (QEMU unavailable or a run that broke off).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/engine_run.h"
#include "report/jsonw.h"

struct opts {
    bool qemu, json, resume_on_tail;
    unsigned threads, rounds;
    uint64_t seed;
};

struct side {
    const char *name;
    qi_result *res;
    ew_figures fig;
};

static int usage_err(const char *msg, const char *arg)
{
    fprintf(stderr, "qinval engine-run: %s%s%s%s (see qinval --help)\n", msg, arg ? " '" : "",
            arg ? arg : "", arg ? "'" : "");
    return CLI_EXIT_USAGE;
}

static bool parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v < lo || v > hi)
        return false;
    *out = (unsigned)v;
    return true;
}

static int parse_value(struct opts *o, const char *a, const char *v)
{
    unsigned seed = 0;
    if (!strcmp(a, "--hw") && v && (!strcmp(v, "qemu") || !strcmp(v, "model")))
        o->qemu = !strcmp(v, "qemu");
    else if (!strcmp(a, "--format") && v && (!strcmp(v, "text") || !strcmp(v, "json")))
        o->json = !strcmp(v, "json");
    else if (!strcmp(a, "--threads") && parse_uint(v, 1, EW_MAX_THREADS, &o->threads))
        return 0;
    else if (!strcmp(a, "--rounds") && parse_uint(v, 1, 100000, &o->rounds))
        return 0;
    else if (!strcmp(a, "--seed") && parse_uint(v, 0, 0xFFFFFFFFu, &seed))
        o->seed = seed;
    else
        return -1;
    return 0;
}

static const char *value_help(const char *a)
{
    if (!strcmp(a, "--hw"))
        return "--hw needs qemu or model";
    if (!strcmp(a, "--format"))
        return "--format needs text or json";
    if (!strcmp(a, "--threads"))
        return "--threads needs a number from 1 to 16";
    if (!strcmp(a, "--rounds"))
        return "--rounds needs a number from 1 to 100000";
    return "--seed needs a number from 0 to 4294967295";
}

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.threads = 3, .rounds = 100, .seed = 1};
    bool hw = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--model-resume-on-tail")) {
            o->resume_on_tail = true;
        } else if (!strcmp(a, "--hw") || !strcmp(a, "--format") || !strcmp(a, "--threads") ||
                   !strcmp(a, "--rounds") || !strcmp(a, "--seed")) {
            if (parse_value(o, a, v))
                return usage_err(value_help(a), NULL);
            hw |= !strcmp(a, "--hw");
            i++;
        } else {
            return usage_err("unknown option", a);
        }
    }
    return hw ? 0 : usage_err("--hw qemu or --hw model is required", NULL);
}

/* ---- output ---- */

static void text_figures(const struct side *s)
{
    const ew_figures *f = &s->fig;
    printf("%-6s %llu calls, %llu tail writes, %llu wraps", s->name, (unsigned long long)f->calls,
           (unsigned long long)f->tail_writes, (unsigned long long)f->wraps);
    if (f->requests)
        printf(", %llu QEMU requests", (unsigned long long)f->requests);
    printf(", %.3f s wall; engine: %llu batches, %llu joined, %llu IQE, %llu deadlines\n",
           f->wall_s, (unsigned long long)f->stats.batches, (unsigned long long)f->stats.joined,
           (unsigned long long)f->stats.iqe, (unsigned long long)f->stats.deadline_hit);
}

static void text_result(const qi_result *r)
{
    printf("%s", ew_status_name(r->status));
    if (r->status == QI_ERR_MALFORMED)
        printf(" index %u others_done %s", r->index, r->others_done ? "yes" : "no");
    if (r->status == QI_ERR_DEADLINE)
        printf(" pending %s", r->pending ? "yes" : "no");
}

static void text_call(const ew_plan *pl, unsigned t, unsigned r, unsigned k, const struct side *s,
                      unsigned ns)
{
    printf("  thread %u round %u call %s:", t, r, ew_call_name(k));
    for (unsigned i = 0; i < ns; i++) {
        printf(" %s ", s[i].name);
        text_result(&s[i].res[ew_at(pl, t, r, k)]);
    }
    printf("\n");
}

static void json_result(const ew_plan *pl, unsigned t, unsigned r, unsigned k, const qi_result *x)
{
    printf("{\"thread\":%u,\"round\":%u,\"call\":%u,\"name\":\"%s\",\"status\":\"%s\","
           "\"index\":%u,\"others_done\":%s,\"pending\":%s,\"retries\":%u,\"expected\":%s}",
           t, r, k, ew_call_name(k), ew_status_name(x->status), x->index,
           x->others_done ? "true" : "false", x->pending ? "true" : "false", x->retries,
           ew_expected(pl, t, r, k, x) ? "true" : "false");
}

static void json_side(const ew_plan *pl, const struct side *s)
{
    const ew_figures *f = &s->fig;
    printf("{\"hw\":\"%s\",\"complete\":%s,\"why\":", s->name, f->complete ? "true" : "false");
    rep_json_string(stdout, f->why);
    printf(",\"calls\":%llu,\"tail_writes\":%llu,\"wraps\":%llu,\"requests\":%llu,\"wall_s\":",
           (unsigned long long)f->calls, (unsigned long long)f->tail_writes,
           (unsigned long long)f->wraps, (unsigned long long)f->requests);
    rep_json_real(stdout, f->wall_s);
    printf(",\"batches\":%llu,\"joined\":%llu,\"iqe\":%llu,\"deadlines\":%llu,\"results\":[",
           (unsigned long long)f->stats.batches, (unsigned long long)f->stats.joined,
           (unsigned long long)f->stats.iqe, (unsigned long long)f->stats.deadline_hit);
    for (unsigned t = 0; t < pl->threads; t++)
        for (unsigned r = 0; r < pl->rounds; r++)
            for (unsigned k = 0; k < EW_CALLS; k++) {
                printf("%s", ew_at(pl, t, r, k) ? "," : "");
                json_result(pl, t, r, k, &s->res[ew_at(pl, t, r, k)]);
            }
    printf("]}");
}

/* ---- checking ---- */

/* Calls that differ between the sides (ns == 2) or are not as expected; listed in text mode. */
static unsigned count_bad(const ew_plan *pl, const struct side *s, unsigned ns, bool mismatch,
                          bool list)
{
    unsigned bad = 0;
    for (unsigned t = 0; t < pl->threads; t++)
        for (unsigned r = 0; r < pl->rounds; r++)
            for (unsigned k = 0; k < EW_CALLS; k++) {
                unsigned i = ew_at(pl, t, r, k);
                bool off = mismatch ? !ew_same(&s[0].res[i], &s[1].res[i])
                                    : !ew_expected(pl, t, r, k, &s[0].res[i]);
                for (unsigned j = 1; !mismatch && j < ns; j++)
                    off |= !ew_expected(pl, t, r, k, &s[j].res[i]);
                if (off && list && bad < 20)
                    text_call(pl, t, r, k, s, ns);
                bad += off;
            }
    return bad;
}

static void report_text(const ew_plan *pl, const struct side *s, unsigned ns)
{
    printf("qinval engine-run: %u threads x %u rounds x %u calls = %u calls, queue of %u "
           "entries\n",
           pl->threads, pl->rounds, EW_CALLS, ew_ncalls(pl), EW_ENTRIES);
    for (unsigned i = 0; i < ns; i++)
        text_figures(&s[i]);
    printf("malformed call:\n");
    text_call(pl, pl->bad_thread, pl->bad_round, EW_BAD_CALL, s, ns);
    unsigned unexpected = count_bad(pl, s, ns, false, false);
    printf("unexpected results: %u\n", unexpected);
    count_bad(pl, s, ns, false, true);
    if (ns == 2) {
        unsigned mm = count_bad(pl, s, ns, true, false);
        printf("mismatches with the model: %u\n", mm);
        count_bad(pl, s, ns, true, true);
    }
}

static void report_json(const ew_plan *pl, const struct side *s, unsigned ns)
{
    printf("{\"threads\":%u,\"rounds\":%u,\"calls_per_round\":%u,\"entries\":%u,"
           "\"malformed\":{\"thread\":%u,\"round\":%u,\"call\":%u,\"index\":%u},"
           "\"unexpected\":%u,\"mismatches\":%u,\"runs\":[",
           pl->threads, pl->rounds, EW_CALLS, EW_ENTRIES, pl->bad_thread, pl->bad_round,
           EW_BAD_CALL, EW_BAD_INDEX, count_bad(pl, s, ns, false, false),
           ns == 2 ? count_bad(pl, s, ns, true, false) : 0);
    for (unsigned i = 0; i < ns; i++) {
        printf("%s", i ? "," : "");
        json_side(pl, &s[i]);
    }
    printf("]}\n");
}

/* ---- the command ---- */

static int run_sides(const struct opts *o, const ew_plan *pl, struct side *s, unsigned *ns)
{
    char err[512] = "";
    *ns = 0;
    if (o->qemu) {
        s[0].name = "qemu";
        int rc = erun_qemu(pl, s[0].res, &s[0].fig, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "qinval engine-run: %s: %s\n",
                    rc == ERUN_UNAVAILABLE ? "QEMU unavailable" : "QEMU run failed", err);
            return CLI_EXIT_INTERNAL;
        }
        (*ns)++;
    }
    struct side *m = &s[*ns];
    m->name = "model";
    erun_model_opts mo = {.iqe_resume_on_tail = o->resume_on_tail, .seed = o->seed};
    if (erun_model(pl, &mo, m->res, &m->fig, err, sizeof(err))) {
        fprintf(stderr, "qinval engine-run: model run failed: %s\n", err);
        return CLI_EXIT_INTERNAL;
    }
    (*ns)++;
    for (unsigned i = 0; i < *ns; i++) {
        if (!s[i].fig.complete) {
            fprintf(stderr, "qinval engine-run: the %s run broke off: %s\n", s[i].name,
                    s[i].fig.why);
            return CLI_EXIT_INTERNAL;
        }
    }
    return CLI_EXIT_OK;
}

int cli_engine_run(int argc, char **argv)
{
    struct opts o;
    if (parse(argc, argv, &o))
        return CLI_EXIT_USAGE;
    ew_plan pl;
    ew_plan_init(&pl, o.threads, o.rounds);
    struct side s[2] = {{0}};
    for (unsigned i = 0; i < 2; i++)
        s[i].res = calloc(ew_ncalls(&pl), sizeof(qi_result));
    unsigned ns = 0;
    int rc = s[0].res && s[1].res ? run_sides(&o, &pl, s, &ns) : CLI_EXIT_INTERNAL;
    if (rc == CLI_EXIT_OK) {
        if (o.json)
            report_json(&pl, s, ns);
        else
            report_text(&pl, s, ns);
        bool bad =
            count_bad(&pl, s, ns, false, false) || (ns == 2 && count_bad(&pl, s, ns, true, false));
        rc = bad ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
    }
    free(s[0].res);
    free(s[1].res);
    return rc;
}
