/*
 * ce_file.c — writing and reading qinval's JSON: the result object printed by `check --format
 * json` (and, in pieces, by `merge`) and the counterexample file `qinval replay` takes. Files
 * are parsed by json.c; this file checks that a tree is a counterexample or a result, member by
 * member, and names the first member that is missing, mistyped or out of range.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ce_file.h"
#include "report/fold.h"
#include "report/jsonw.h"
#include "report/timeline.h"
#include "util/atomic_file.h"
#include "util/grow.h"

/* ---- writing ---- */

static void json_common(FILE *out, const struct ce_file *ce)
{
    fputs("  \"driver\": ", out);
    rep_json_string(out, ce->driver);
    fputs(",\n  \"scenario\": ", out);
    rep_json_string(out, ce->scenario);
    fputs(",\n  \"sets\": [", out);
    for (unsigned i = 0; i < ce->nsets; i++) {
        fputs(i ? ", " : "", out);
        rep_json_string(out, ce->sets[i]);
    }
    fputs("]", out);
    if (ce->ktree && *ce->ktree) {
        fputs(",\n  \"ktree\": ", out);
        rep_json_string(out, ce->ktree);
    }
    fputs(",\n  \"strategy\": ", out);
    rep_json_string(out, ce->strategy);
    fprintf(out, ",\n  \"seed\": %llu,\n  \"verdict\": ", ce->seed);
    rep_json_string(out, ce->verdict);
    if (ce->local_time) /* per-CPU clocks: a replay must use them too */
        fputs(",\n  \"time_model\": \"local\"", out);
}

static void json_picks(FILE *out, const struct chk_pick *p, size_t n)
{
    fputs("[", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s[%u, %u]", i ? ", " : "", p[i].pos, p[i].v);
    fputs("]", out);
}

int ce_save(const char *path, bool fresh, const struct ce_file *ce, char *saved, size_t savedlen,
            char *err, size_t errlen)
{
    af_file a;
    if ((fresh ? af_open_new : af_open)(&a, path, err, errlen))
        return -1;
    fputs("{\n  \"qinval_counterexample\": 1,\n", a.f);
    json_common(a.f, ce);
    fputs(",\n  \"picks\": ", a.f);
    json_picks(a.f, ce->picks, ce->npicks);
    fputs("\n}\n", a.f);
    if (af_commit(&a, err, errlen))
        return -1;
    snprintf(saved, savedlen, "%s", a.name);
    return 0;
}

void ce_write_result_head(FILE *out, const struct ce_file *ce)
{
    fputs("{\n  \"qinval_result\": 1,\n", out);
    json_common(out, ce);
    if (!strcmp(ce->strategy, "pct"))
        fprintf(out, ",\n  \"pct_depth\": %u", ce->pct_depth);
    if (strcmp(ce->strategy, "dfs"))
        return;
    if (ce->dfs_bound != CHK_BOUND_NONE) {
        fprintf(out, ",\n  \"dfs_bound\": %u", ce->dfs_bound);
        return;
    }
    fputs(",\n  \"dfs_bound\": null", out); /* every interleaving: no bound */
    if (ce->dpor_strict)
        fputs(",\n  \"dpor_strict\": true", out); /* --no-assume */
}

const char *ce_unbounded_words(bool strict, bool local_time)
{
    if (strict)
        return ", every interleaving covered (nothing assumed: every shared load and store a "
               "point, no two CPUs' steps taken as independent)";
    if (local_time)
        return ", every interleaving covered (per-CPU clocks, experimental, each step late by at "
               "most the window; assuming memory a step reads or writes outside the platform "
               "calls, what the hardware writes included, is private or locked, that a word "
               "changed outside a lock is read through the platform, and that a polling "
               "iteration that saw nothing new would repeat itself)";
    return ", every interleaving covered (assuming memory a step reads or writes outside the "
           "platform calls is private or locked, and that a step run before another CPU's step "
           "moved the clock would do the same after it)";
}

void ce_write_counterexample(FILE *out, const struct ce_counterexample *cx)
{
    fprintf(out, ",\n  \"failing_execution\": %llu", (unsigned long long)cx->execution);
    fprintf(out, ",\n  \"counterexample\": {\n    \"execution\": %llu",
            (unsigned long long)cx->execution);
    fprintf(out, ",\n    \"virtual_time_ns\": %llu,\n    \"oracle\": ",
            (unsigned long long)cx->virtual_time_ns);
    rep_json_string(out, cx->oracle);
    if (cx->signature && cx->where && cx->trigger) {
        fputs(",\n    \"signature\": ", out);
        rep_json_string(out, cx->signature);
        fputs(",\n    \"where\": ", out);
        rep_json_string(out, cx->where);
        fputs(",\n    \"trigger\": ", out);
        rep_json_string(out, cx->trigger);
    }
    fputs(",\n    \"reductions\": [", out);
    for (unsigned i = 0; i < (cx->reductions ? cx->nreductions : 0); i++) {
        fputs(i ? ", " : "", out);
        rep_json_string(out, cx->reductions[i]);
    }
    fputs("],\n    \"schedule\": ", out);
    json_picks(out, cx->picks, cx->npicks);
    fputs(",\n    \"timeline\": [", out);
    for (size_t i = 0; i < cx->ntimeline; i++) {
        fputs(i ? ",\n      " : "\n      ", out);
        rep_json_string(out, cx->timeline[i]);
    }
    fputs("\n    ]\n  }", out);
}

void ce_write_result_end(FILE *out)
{
    fputs("\n}\n", out);
}

/* The counterexample replayed on sc, its timeline folded (src/report/fold.c): malloc'd text,
 * or NULL if memory ran out or the time budget (chk_deadline) cut the replay (res->verdict is
 * then CHK_INCOMPLETE, and a line on stderr says the timeline is not shown: part of a timeline
 * would read as all of it). The replay's result goes to *res. */
static char *replay_folded(const scenario *sc, const sim_driver_ops *drv, const chk_report *rep,
                           chk_result *res)
{
    char *raw = NULL, *folded = NULL;
    size_t len = 0, flen = 0;
    FILE *mem = open_memstream(&raw, &len);
    if (!mem)
        return NULL;
    bool was = chk__local_time();
    chk__set_local_time(rep->local_time);
    chk_replay(sc, drv, rep->picks, rep->npicks, mem, res);
    chk__set_local_time(was);
    if (res->verdict != CHK_INCOMPLETE && chk_deadline_passed())
        res->verdict = CHK_INCOMPLETE; /* no time left to fold it */
    if (res->verdict == CHK_INCOMPLETE) {
        fclose(mem);
        free(raw);
        fprintf(stderr,
                "qinval: the counterexample's timeline is not shown: replaying it did not finish "
                "within the time budget (qinval replay shows it)\n");
        return NULL;
    }
    FILE *fm = !fclose(mem) && raw ? open_memstream(&folded, &flen) : NULL;
    if (fm) {
        rep_fold_timeline(raw, len, fm);
        if (fclose(fm)) {
            free(folded);
            folded = NULL;
        }
    }
    free(raw);
    return folded;
}

/* The counterexample's folded timeline as lines pointing into *buf (for JSON). */
static size_t replay_timeline(const struct ce_file *ce, const chk_report *rep, char **buf,
                              const char ***lines)
{
    size_t n = 0, cap = 0;
    *buf = NULL;
    *lines = NULL;
    scenario *sc = malloc(sizeof(*sc));
    const sim_driver_ops *drv;
    chk_result res;
    /* Only ever called on the run's own identity (check's command line), never a file's. */
    if (sc && !cli_load(ce->driver, ce->scenario, ce->sets, ce->nsets, CLI_SETS_ARGS, sc, &drv))
        *buf = replay_folded(sc, drv, rep, &res);
    free(sc);
    char *save = NULL;
    for (char *line = *buf ? strtok_r(*buf, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        GROW(*lines, n, cap, 64);
        (*lines)[n++] = line;
    }
    return n;
}

void cli_print_json(const struct ce_file *ce, const chk_report *rep, const chk_options *opt,
                    FILE *out)
{
    ce_write_result_head(out, ce);
    fprintf(out, ",\n  \"shard\": \"%u/%u\"", opt->shard_i, opt->shard_n ? opt->shard_n : 1);
    fprintf(out,
            ",\n  \"executions\": %llu,\n  \"seconds\": ", (unsigned long long)rep->executions);
    rep_json_real(out, rep->seconds);
    fprintf(out, ",\n  \"complete\": %s", rep->complete ? "true" : "false");
    if (rep->verdict != CHK_PASS) {
        char *buf, signature[256];
        const char **lines;
        chk_signature(&rep->result, signature, sizeof(signature));
        struct ce_counterexample cx = {.execution = rep->failing_execution,
                                       .virtual_time_ns = rep->result.outcome.t,
                                       .oracle = rep->result.why,
                                       .signature = signature,
                                       .where = rep->result.where,
                                       .trigger = rep->result.trigger,
                                       .picks = rep->picks,
                                       .npicks = rep->npicks,
                                       .reductions = rep->reductions,
                                       .nreductions = rep->nreductions};
        cx.ntimeline = replay_timeline(ce, rep, &buf, &lines);
        cx.timeline = lines;
        ce_write_counterexample(out, &cx);
        free(lines);
        free(buf);
    }
    ce_write_result_end(out);
}

/* ---- text ---- */

void cli_print_counterexample(const struct ce_file *ce, const scenario *sc,
                              const sim_driver_ops *drv, const chk_report *rep, FILE *out)
{
    fprintf(out, "FAIL %s  %s / %s  (%s, seed %llu, execution %llu, %llu run, %.3f s)\n",
            ce->verdict, ce->driver, ce->scenario, ce->strategy, ce->seed,
            (unsigned long long)rep->failing_execution + 1, (unsigned long long)rep->executions,
            rep->seconds);
    rep_timeline_header(out);
    chk_result res;
    res.verdict = CHK_PASS; /* (replay_folded may return before any replay) */
    char *text = replay_folded(sc, drv, rep, &res);
    if (text)
        fputs(text, out);
    else if (res.verdict == CHK_INCOMPLETE)
        fputs("#      (the timeline is not shown: its replay was cut by the time budget)\n", out);
    else { /* out of memory for the buffers: replay straight out, unfolded */
        bool was = chk__local_time();
        chk__set_local_time(rep->local_time);
        chk_replay(sc, drv, rep->picks, rep->npicks, out, &res);
        chk__set_local_time(was);
    }
    free(text);
    fprintf(out, "why: %s\n", rep->result.why);
    char signature[256];
    chk_signature(&rep->result, signature, sizeof(signature));
    fprintf(out, "signature: %s\n", signature);
    cli_print_schedule(out, rep->picks, rep->npicks);
    if (rep->nreductions) {
        fputs("scenario reduced to:", out);
        for (unsigned i = 0; i < rep->nreductions; i++)
            fprintf(out, " --set %s", rep->reductions[i]);
        fputc('\n', out);
    }
}

void cli_print_schedule(FILE *out, const struct chk_pick *picks, size_t npicks)
{
    fprintf(out, "schedule: %zu forced decision%s", npicks, npicks == 1 ? "" : "s");
    for (size_t i = 0; i < npicks && i < 16; i++)
        fprintf(out, "%s%u:%u", i ? " " : " (", picks[i].pos, picks[i].v);
    fprintf(out, "%s\n", npicks ? (npicks > 16 ? " ...)" : ")") : ", defaults only");
}

/* ---- reading ---- */

static int bad(char *err, size_t errlen, const char *what, const char *key)
{
    snprintf(err, errlen, what, key);
    return -1;
}

static bool known_verdict(const char *name)
{
    for (unsigned v = 0; v < CHK_NVERDICTS; v++)
        if (!strcmp(name, chk_verdict_name((enum chk_verdict)v)))
            return true;
    return false;
}

static int read_sets(const json_value *root, struct ce_loaded *l, char *err, size_t errlen)
{
    size_t n;
    if (json_get_strings(root, "sets", CE_MAX_SETS, &l->setp, &n, err, errlen))
        return -1;
    l->f.sets = l->setp;
    l->f.nsets = (unsigned)n;
    return 0;
}

/* An optional whole-number member that fits an unsigned int. */
static int read_small(const json_value *root, const char *key, unsigned *out, char *err,
                      size_t errlen)
{
    uint64_t v;
    const json_value *j = json_get(root, key);
    if (!j)
        return 0;
    if (j->type == JV_NULL && !strcmp(key, "dfs_bound")) {
        *out = CHK_BOUND_NONE; /* --bound none */
        return 0;
    }
    if (json_get_u64(root, key, &v, err, errlen))
        return -1;
    if (v > UINT_MAX)
        return bad(err, errlen, "\"%s\" is out of range", key);
    *out = (unsigned)v;
    return 0;
}

/* "time_model": "local" (per-CPU clocks) or "global"; absent: one clock (files written before
 * there were two). */
static int read_time_model(const json_value *root, struct ce_file *f, char *err, size_t errlen)
{
    const char *m = NULL;
    f->local_time = false;
    if (!json_get(root, "time_model"))
        return 0;
    if (json_get_string(root, "time_model", &m, err, errlen))
        return -1;
    if (!strcmp(m, "local"))
        f->local_time = true;
    else if (strcmp(m, "global"))
        return bad(err, errlen, "unknown time_model \"%.60s\" (local or global)", m);
    return 0;
}

static int read_identity(const json_value *root, struct ce_loaded *l, char *err, size_t errlen)
{
    struct ce_file *f = &l->f;
    uint64_t seed;
    if (json_get_string(root, "driver", &f->driver, err, errlen) ||
        json_get_string(root, "scenario", &f->scenario, err, errlen) ||
        json_get_string(root, "strategy", &f->strategy, err, errlen) ||
        json_get_string(root, "verdict", &f->verdict, err, errlen) ||
        json_get_u64(root, "seed", &seed, err, errlen) || read_sets(root, l, err, errlen) ||
        read_small(root, "pct_depth", &f->pct_depth, err, errlen) ||
        read_small(root, "dfs_bound", &f->dfs_bound, err, errlen) ||
        (json_get(root, "dpor_strict") &&
         json_get_bool(root, "dpor_strict", &f->dpor_strict, err, errlen)) ||
        (json_get(root, "ktree") && json_get_string(root, "ktree", &f->ktree, err, errlen)) ||
        read_time_model(root, f, err, errlen))
        return -1;
    f->seed = seed;
    if (!known_verdict(f->verdict))
        return bad(err, errlen, "unknown verdict \"%.60s\"", f->verdict);
    return 0;
}

static int read_pick(const json_value *e, const char *key, struct chk_pick *out, char *err,
                     size_t errlen)
{
    if (e->type != JV_ARRAY || e->len != 2 || e->items[0].type != JV_NUMBER ||
        e->items[1].type != JV_NUMBER || !e->items[0].is_u64 || !e->items[1].is_u64)
        return bad(err, errlen, "every entry of \"%s\" must be [position, option]", key);
    if (e->items[0].u64 > UINT32_MAX || e->items[1].u64 > UINT16_MAX)
        return bad(err, errlen, "a decision in \"%s\" is out of range", key);
    *out = (struct chk_pick){.pos = (uint32_t)e->items[0].u64, .v = (uint16_t)e->items[1].u64};
    return 0;
}

static int read_picks(const json_value *obj, const char *key, struct ce_loaded *l, char *err,
                      size_t errlen)
{
    const json_value *a;
    if (json_get_typed(obj, key, JV_ARRAY, &a, err, errlen))
        return -1;
    l->picks = malloc((a->len + 1) * sizeof(*l->picks));
    if (!l->picks)
        return bad(err, errlen, "out of memory reading \"%s\"", key);
    for (size_t i = 0; i < a->len; i++) {
        if (read_pick(&a->items[i], key, &l->picks[i], err, errlen))
            return -1;
        if (i && l->picks[i].pos <= l->picks[i - 1].pos)
            return bad(err, errlen, "\"%s\" must be in increasing position order", key);
    }
    l->f.picks = l->picks;
    l->f.npicks = a->len;
    return 0;
}

/* An optional string member: absent is NULL; present, it must be a string. */
static int optional_string(const json_value *obj, const char *key, const char **out, char *err,
                           size_t errlen)
{
    *out = NULL;
    return json_get(obj, key) ? json_get_string(obj, key, out, err, errlen) : 0;
}

/* The signature and its parts, all three or none (results written before they existed). */
static int read_signature(const json_value *cx, struct ce_counterexample *c, char *err,
                          size_t errlen)
{
    if (optional_string(cx, "signature", &c->signature, err, errlen) ||
        optional_string(cx, "where", &c->where, err, errlen) ||
        optional_string(cx, "trigger", &c->trigger, err, errlen))
        return -1;
    if (!c->signature != !c->where || !c->where != !c->trigger)
        return bad(err, errlen, "\"%s\", \"where\" and \"trigger\" go together", "signature");
    return 0;
}

static int read_counterexample(const json_value *root, struct ce_loaded *l, char *err,
                               size_t errlen)
{
    const json_value *cx;
    if (json_get_typed(root, "counterexample", JV_OBJECT, &cx, err, errlen) ||
        json_get_u64(cx, "execution", &l->cx.execution, err, errlen) ||
        json_get_u64(cx, "virtual_time_ns", &l->cx.virtual_time_ns, err, errlen) ||
        json_get_string(cx, "oracle", &l->cx.oracle, err, errlen) ||
        read_picks(cx, "schedule", l, err, errlen) ||
        json_get_strings(cx, "timeline", SIZE_MAX, &l->timeline, &l->cx.ntimeline, err, errlen))
        return -1;
    if (read_signature(cx, &l->cx, err, errlen))
        return -1;
    l->cx.timeline = l->timeline;
    l->cx.picks = l->picks;
    l->cx.npicks = l->f.npicks;
    l->has_counterexample = true;
    return 0;
}

int ce_from_json(json_value *root, struct ce_loaded *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof(*l));
    l->root = root;
    if (root->type != JV_OBJECT) {
        snprintf(err, errlen, "the top level is %s, not an object", json_type_name(root->type));
        return -1;
    }
    if (json_get(root, "qinval_sweep") || json_get(root, "qinval_sweep_against")) {
        snprintf(err, errlen,
                 "a sweep's report holds many failures: replay one of the "
                 "counterexample files the sweep saved (--save DIR: "
                 "DIR/F<n>-SCENARIO.json)");
        return -1;
    }
    l->is_result = json_get(root, "qinval_result") != NULL;
    if (!l->is_result && !json_get(root, "qinval_counterexample"))
        return bad(err, errlen, "no \"%s\" or \"qinval_result\" member", "qinval_counterexample");
    const char *kind = l->is_result ? "qinval_result" : "qinval_counterexample";
    uint64_t version;
    if (json_get_u64(root, kind, &version, err, errlen))
        return -1;
    if (version != 1) {
        snprintf(err, errlen, "\"%s\" is version %llu; this qinval reads version 1", kind,
                 (unsigned long long)version);
        return -1;
    }
    if (read_identity(root, l, err, errlen))
        return -1;
    if (!l->is_result)
        return read_picks(root, "picks", l, err, errlen);
    if (strcmp(l->f.verdict, "pass"))
        return read_counterexample(root, l, err, errlen);
    return 0;
}

int ce_load(const char *path, struct ce_loaded *l, char *err, size_t errlen)
{
    char why[256];
    json_value *root = json_parse_file(path, why, sizeof(why));
    if (!root) {
        memset(l, 0, sizeof(*l));
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    if (ce_from_json(root, l, why, sizeof(why))) {
        snprintf(err, errlen, "%s: not a qinval counterexample or result: %s", path, why);
        ce_loaded_free(l);
        return -1;
    }
    return 0;
}

void ce_loaded_free(struct ce_loaded *l)
{
    json_free(l->root);
    free(l->setp);
    free(l->timeline);
    free(l->picks);
    memset(l, 0, sizeof(*l));
}
