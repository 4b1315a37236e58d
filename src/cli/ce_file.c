/*
 * ce_file.c — writing and reading qinval's JSON: the result object printed by `check --format
 * json` and the counterexample file `qinval replay` takes. The reader understands exactly what
 * the writer produces (objects, arrays, strings, integers) and rejects anything else with the
 * byte offset of the problem.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ce_file.h"
#include "report/fold.h"
#include "util/grow.h"

/* ---- writing ---- */

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_common(FILE *out, const struct ce_file *ce)
{
    fputs("  \"driver\": ", out);
    json_str(out, ce->driver);
    fputs(",\n  \"scenario\": ", out);
    json_str(out, ce->scenario);
    fputs(",\n  \"sets\": [", out);
    for (unsigned i = 0; i < ce->nsets; i++) {
        fputs(i ? ", " : "", out);
        json_str(out, ce->sets[i]);
    }
    fputs("],\n  \"strategy\": ", out);
    json_str(out, ce->strategy);
    fprintf(out, ",\n  \"seed\": %llu,\n  \"verdict\": ", ce->seed);
    json_str(out, ce->verdict);
}

static void json_picks(FILE *out, const struct chk_pick *p, size_t n)
{
    fputs("[", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s[%u, %u]", i ? ", " : "", p[i].pos, p[i].v);
    fputs("]", out);
}

int ce_save(const char *path, const struct ce_file *ce)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("{\n  \"qinval_counterexample\": 1,\n", f);
    json_common(f, ce);
    fputs(",\n  \"picks\": ", f);
    json_picks(f, ce->picks, ce->npicks);
    fputs("\n}\n", f);
    return fclose(f) ? -1 : 0;
}

void cli_print_json(const struct ce_file *ce, const chk_report *rep, FILE *out)
{
    fputs("{\n", out);
    json_common(out, ce);
    fprintf(out, ",\n  \"executions\": %llu,\n  \"seconds\": %.6f,\n  \"complete\": %s",
            (unsigned long long)rep->executions, rep->seconds, rep->complete ? "true" : "false");
    if (rep->verdict != CHK_PASS) {
        fputs(",\n  \"counterexample\": {\n    \"execution\": ", out);
        fprintf(out, "%llu,\n    \"virtual_time_ns\": %llu,\n    \"oracle\": ",
                (unsigned long long)rep->failing_execution,
                (unsigned long long)rep->result.outcome.t);
        json_str(out, rep->result.why);
        fputs(",\n    \"reductions\": [", out);
        for (unsigned i = 0; i < rep->nreductions; i++) {
            fputs(i ? ", " : "", out);
            json_str(out, rep->reductions[i]);
        }
        fputs("],\n    \"schedule\": ", out);
        json_picks(out, rep->picks, rep->npicks);
        fputs(",\n    \"timeline\": [", out);
        /* The timeline is produced by replaying the counterexample into a buffer. */
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        scenario *sc = malloc(sizeof(*sc));
        const sim_driver_ops *drv;
        if (mem && sc && !cli_load(ce->driver, ce->scenario, ce->sets, ce->nsets, sc, &drv)) {
            chk_result res;
            chk_replay(sc, drv, rep->picks, rep->npicks, mem, &res);
        }
        if (mem)
            fclose(mem);
        free(sc);
        char *folded = NULL;
        size_t flen = 0;
        FILE *fm = buf ? open_memstream(&folded, &flen) : NULL;
        if (fm) {
            rep_fold_timeline(buf, len, fm);
            if (!fclose(fm)) {
                free(buf);
                buf = folded;
            } else {
                free(folded);
            }
        }
        bool first = true;
        for (char *line = buf ? strtok(buf, "\n") : NULL; line; line = strtok(NULL, "\n")) {
            fputs(first ? "\n      " : ",\n      ", out);
            json_str(out, line);
            first = false;
        }
        free(buf);
        fputs("\n    ]\n  }", out);
    }
    fputs("\n}\n", out);
}

/* ---- text ---- */

void cli_print_counterexample(const struct ce_file *ce, const scenario *sc,
                              const sim_driver_ops *drv, const chk_report *rep, FILE *out)
{
    fprintf(out, "FAIL %s  %s / %s  (%s, seed %llu, execution %llu, %llu run, %.3f s)\n",
            ce->verdict, ce->driver, ce->scenario, ce->strategy, ce->seed,
            (unsigned long long)rep->failing_execution + 1, (unsigned long long)rep->executions,
            rep->seconds);
    fprintf(out, " virtual time  agent  event\n");
    chk_result res;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    chk_replay(sc, drv, rep->picks, rep->npicks, mem ? mem : out, &res);
    if (mem && !fclose(mem))
        rep_fold_timeline(buf, len, out);
    free(buf);
    fprintf(out, "why: %s\n", res.why);
    fprintf(out, "schedule: %zu forced decision%s", rep->npicks, rep->npicks == 1 ? "" : "s");
    for (size_t i = 0; i < rep->npicks && i < 16; i++)
        fprintf(out, "%s%u:%u", i ? " " : " (", rep->picks[i].pos, rep->picks[i].v);
    fprintf(out, "%s\n", rep->npicks ? (rep->npicks > 16 ? " ...)" : ")") : ", defaults only");
    if (rep->nreductions) {
        fputs("scenario reduced to:", out);
        for (unsigned i = 0; i < rep->nreductions; i++)
            fprintf(out, " --set %s", rep->reductions[i]);
        fputc('\n', out);
    }
}

/* ---- reading ---- */

struct rd {
    const char *s;
    size_t i, n;
    char *err;
    size_t errlen;
};

static int fail(struct rd *r, const char *what)
{
    snprintf(r->err, r->errlen, "%s at byte %zu", what, r->i);
    return -1;
}

static void ws(struct rd *r)
{
    while (r->i < r->n && isspace((unsigned char)r->s[r->i]))
        r->i++;
}

static int expect(struct rd *r, char c)
{
    ws(r);
    if (r->i >= r->n || r->s[r->i] != c) {
        char m[32];
        snprintf(m, sizeof(m), "expected '%c'", c);
        return fail(r, m);
    }
    r->i++;
    return 0;
}

static int str(struct rd *r, char *out, size_t cap)
{
    if (expect(r, '"'))
        return -1;
    size_t k = 0;
    while (r->i < r->n && r->s[r->i] != '"') {
        char c = r->s[r->i++];
        if (c == '\\') {
            if (r->i >= r->n)
                return fail(r, "unterminated escape");
            c = r->s[r->i++];
            if (c == 'n')
                c = '\n';
            else if (c == 'u') {
                unsigned v;
                if (r->i + 4 > r->n || sscanf(r->s + r->i, "%4x", &v) != 1 || v > 0x7f)
                    return fail(r, "unsupported \\u escape");
                r->i += 4;
                c = (char)v;
            } else if (c != '"' && c != '\\' && c != '/')
                return fail(r, "unknown escape");
        }
        if (k + 1 >= cap)
            return fail(r, "string too long");
        out[k++] = c;
    }
    out[k] = 0;
    return expect(r, '"');
}

static int num(struct rd *r, unsigned long long *v)
{
    ws(r);
    if (r->i >= r->n || !isdigit((unsigned char)r->s[r->i]))
        return fail(r, "expected a number");
    errno = 0;
    char *end;
    *v = strtoull(r->s + r->i, &end, 10);
    if (errno)
        return fail(r, "number out of range");
    r->i = (size_t)(end - r->s);
    return 0;
}

static bool peek(struct rd *r, char c)
{
    ws(r);
    return r->i < r->n && r->s[r->i] == c;
}

static int read_sets(struct rd *r, struct ce_loaded *l)
{
    if (expect(r, '['))
        return -1;
    while (!peek(r, ']')) {
        if (l->f.nsets == CE_MAX_SETS)
            return fail(r, "too many sets");
        if (str(r, l->setbuf[l->f.nsets], sizeof(l->setbuf[0])))
            return -1;
        l->setp[l->f.nsets] = l->setbuf[l->f.nsets];
        l->f.nsets++;
        if (!peek(r, ']') && expect(r, ','))
            return -1;
    }
    return expect(r, ']');
}

static int read_picks(struct rd *r, struct ce_loaded *l)
{
    size_t cap = 0;
    if (expect(r, '['))
        return -1;
    while (!peek(r, ']')) {
        unsigned long long pos, v;
        if (expect(r, '[') || num(r, &pos) || expect(r, ',') || num(r, &v) || expect(r, ']'))
            return -1;
        if (pos > UINT32_MAX || v > UINT16_MAX)
            return fail(r, "pick out of range");
        if (l->f.npicks && pos <= l->picks[l->f.npicks - 1].pos)
            return fail(r, "picks must be in increasing position order");
        GROW(l->picks, l->f.npicks, cap, 16);
        l->picks[l->f.npicks++] = (struct chk_pick){.pos = (uint32_t)pos, .v = (uint16_t)v};
        if (!peek(r, ']') && expect(r, ','))
            return -1;
    }
    l->f.picks = l->picks;
    return expect(r, ']');
}

static int read_member(struct rd *r, struct ce_loaded *l, const char *key)
{
    unsigned long long v;
    if (!strcmp(key, "driver"))
        return str(r, l->driver, sizeof(l->driver));
    if (!strcmp(key, "scenario"))
        return str(r, l->scenario, sizeof(l->scenario));
    if (!strcmp(key, "strategy"))
        return str(r, l->strategy, sizeof(l->strategy));
    if (!strcmp(key, "verdict"))
        return str(r, l->verdict, sizeof(l->verdict));
    if (!strcmp(key, "sets"))
        return read_sets(r, l);
    if (!strcmp(key, "picks"))
        return read_picks(r, l);
    if (!strcmp(key, "seed"))
        return num(r, &l->f.seed);
    if (!strcmp(key, "qinval_counterexample"))
        return num(r, &v);
    char m[96];
    snprintf(m, sizeof(m), "unknown key '%.60s'", key);
    return fail(r, m);
}

int ce_load(const char *path, struct ce_loaded *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof(*l));
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    char msg[200] = "";
    struct rd r = {.s = buf, .n = n, .err = msg, .errlen = sizeof(msg)};
    int rc = expect(&r, '{');
    while (!rc && !peek(&r, '}')) {
        char key[64];
        rc = str(&r, key, sizeof(key)) || expect(&r, ':') || read_member(&r, l, key);
        if (!rc && !peek(&r, '}'))
            rc = expect(&r, ',');
    }
    if (!rc)
        rc = expect(&r, '}');
    if (!rc && (!*l->driver || !*l->scenario))
        rc = fail(&r, "missing driver or scenario");
    free(buf);
    if (rc) {
        snprintf(err, errlen, "%s: not a qinval counterexample: %s", path, msg);
        ce_loaded_free(l);
        return -1;
    }
    l->f.driver = l->driver;
    l->f.scenario = l->scenario;
    l->f.strategy = l->strategy;
    l->f.verdict = l->verdict;
    l->f.sets = l->setp;
    return 0;
}

void ce_loaded_free(struct ce_loaded *l)
{
    free(l->picks);
    l->picks = NULL;
}
