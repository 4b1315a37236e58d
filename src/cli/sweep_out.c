/*
 * sweep_out.c — the writers of sweep_out.h. JSON: the identity, the plan (each scenario's
 * factors and point count), the grid (each point run: its values, executions, and the failures
 * it showed with their counts; what a merge needs to describe regions again), and the failures
 * in order of first occurrence, each with its counterexample as a counterexample-file object.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/sweep_out.h"
#include "report/jsonw.h"
#include "util/atomic_file.h"
#include "util/grow.h"

static void json_strings(FILE *out, const char *const *v, unsigned n)
{
    fputc('[', out);
    for (unsigned i = 0; i < n; i++) {
        fputs(i ? ", " : "", out);
        rep_json_string(out, v[i]);
    }
    fputc(']', out);
}

static void json_member(FILE *out, const char *key, const char *value)
{
    fprintf(out, ", \"%s\": ", key);
    rep_json_string(out, value);
}

void sw_write_ce(FILE *out, const struct sw_identity *id, const chk_sweep *s,
                 const struct chk_sw_failure *f)
{
    fputs("{\"qinval_counterexample\": 1", out);
    json_member(out, "driver", id->driver);
    json_member(out, "scenario", s->scen[f->scen].name);
    fputs(", \"sets\": [", out);
    for (unsigned i = 0; i < id->nsettings + f->nsets; i++) {
        fputs(i ? ", " : "", out);
        rep_json_string(out, i < id->nsettings ? id->settings[i] : f->sets[i - id->nsettings]);
    }
    fputc(']', out);
    if (id->ktree && *id->ktree)
        json_member(out, "ktree", id->ktree);
    json_member(out, "strategy", "random");
    fprintf(out, ", \"seed\": %llu", (unsigned long long)s->seed);
    json_member(out, "verdict", f->oracle);
    fputs(", \"picks\": [", out);
    for (size_t i = 0; i < f->npicks; i++)
        fprintf(out, "%s[%u, %u]", i ? ", " : "", f->picks[i].pos, f->picks[i].v);
    fputs("]}", out);
}

static void json_identity(FILE *out, const struct sw_identity *id, const chk_sweep *s)
{
    fputs("{\n  \"qinval_sweep\": 1,\n  \"driver\": ", out);
    rep_json_string(out, id->driver);
    fputs(",\n  \"settings\": ", out);
    json_strings(out, id->settings, id->nsettings);
    if (id->ktree && *id->ktree) {
        fputs(",\n  \"ktree\": ", out);
        rep_json_string(out, id->ktree);
    }
    fputs(",\n  \"sets\": ", out);
    json_strings(out, id->sets, id->nsets);
    fprintf(out, ",\n  \"seed\": %llu,\n  \"budget\": %llu,\n  \"time_budget\": ",
            (unsigned long long)id->seed, (unsigned long long)id->executions);
    rep_json_real(out, id->time_budget);
    fprintf(out, ",\n  \"random_points\": %u,\n  \"per_point\": %llu", id->random_points,
            (unsigned long long)s->per_point);
    if (s->shard_n > 1)
        fprintf(out, ",\n  \"shard\": \"%u/%u\"", s->shard_i, s->shard_n);
    fputs(",\n  \"scenarios\": [", out);
    for (unsigned i = 0; i < s->nscen; i++) {
        fputs(i ? ", " : "", out);
        rep_json_string(out, s->scen[i].name);
    }
    fputs("]", out);
}

static size_t points_run(const chk_sweep *s)
{
    size_t n = 0;
    for (size_t p = 0; p < s->npoints; p++)
        n += !s->points[p].rejected;
    return n;
}

static void json_plan(FILE *out, const chk_sweep *s)
{
    fputs(",\n  \"plan\": [", out);
    for (unsigned i = 0; i < s->nscen; i++) {
        const struct chk_sw_scen *c = &s->scen[i];
        fputs(i ? ",\n    {\"scenario\": " : "\n    {\"scenario\": ", out);
        rep_json_string(out, c->name);
        fputs(", \"factors\": [", out);
        for (unsigned f = 0; f < c->nfactors; f++) {
            fputs(f ? ", " : "", out);
            rep_json_string(out, c->keys[f]);
        }
        fprintf(out, "], \"points\": %u}", c->planned);
    }
    fputs(s->nscen ? "\n  ]" : "]", out);
}

static void json_grid(FILE *out, const chk_sweep *s)
{
    fputs(",\n  \"grid\": [", out);
    for (size_t p = 0; p < s->npoints; p++) {
        const struct chk_sw_point *pt = &s->points[p];
        fputs(p ? ",\n    {\"scenario\": " : "\n    {\"scenario\": ", out);
        rep_json_string(out, s->scen[pt->scen].name);
        fprintf(out, ", \"point\": %u, \"values\": ", pt->index);
        json_strings(out, (const char *const *)pt->values, s->scen[pt->scen].nfactors);
        if (pt->rejected)
            json_member(out, "rejected", pt->rejected);
        fprintf(out, ", \"executions\": %llu, \"failures\": [", (unsigned long long)pt->executions);
        for (unsigned k = 0; k < pt->nfails; k++) {
            fputs(k ? ", " : "", out);
            fprintf(out, "{\"signature\": ");
            rep_json_string(out, s->fail[pt->fails[k]].signature);
            fprintf(out, ", \"count\": %llu}", (unsigned long long)pt->counts[k]);
        }
        fputs("]}", out);
    }
    fputs(s->npoints ? "\n  ]" : "]", out);
}

void sw_write_failure(FILE *out, const struct sw_identity *id, const chk_sweep *s, unsigned i,
                      bool first)
{
    const struct chk_sw_failure *f = &s->fail[i];
    fprintf(out, "%s    {\"id\": %u", first ? "\n" : ",\n", i + 1);
    json_member(out, "oracle", f->oracle);
    json_member(out, "signature", f->signature);
    json_member(out, "where", f->where);
    json_member(out, "trigger", f->trigger);
    json_member(out, "scenario", s->scen[f->scen].name);
    json_member(out, "region", f->nseen ? f->seen[0].region : "");
    fprintf(out,
            ", \"count\": %llu, \"points\": %u, \"first\": {\"point\": %u, \"execution\": %llu}",
            (unsigned long long)f->count, f->nseen ? f->seen[0].points : 0, f->point,
            (unsigned long long)f->execution);
    json_member(out, "why", f->why);
    fprintf(out, ", \"virtual_time_ns\": %llu, \"minimised\": %s,\n     \"counterexample\": ",
            (unsigned long long)f->virtual_ns, f->minimised ? "true" : "false");
    sw_write_ce(out, id, s, f);
    fputs(",\n     \"seen\": [", out);
    for (unsigned k = 0; k < f->nseen; k++) {
        fputs(k ? ", {\"scenario\": " : "{\"scenario\": ", out);
        rep_json_string(out, s->scen[f->seen[k].scen].name);
        json_member(out, "region", f->seen[k].region);
        fprintf(out, ", \"count\": %llu, \"points\": %u}", (unsigned long long)f->seen[k].count,
                f->seen[k].points);
    }
    fputs("]}", out);
}

void sw_write_json(FILE *out, const struct sw_identity *id, const chk_sweep *s)
{
    json_identity(out, id, s);
    fprintf(out,
            ",\n  \"executions\": %llu,\n  \"points\": %zu,\n  \"planned\": %u,\n  \"rejected\": "
            "%u,\n  \"complete\": %s,\n  \"seconds\": ",
            (unsigned long long)s->executions, points_run(s), s->planned, s->rejected,
            s->cut ? "false" : "true");
    rep_json_real(out, s->seconds);
    json_plan(out, s);
    json_grid(out, s);
    fputs(",\n  \"failures\": [", out);
    for (unsigned i = 0; i < s->nfail; i++)
        sw_write_failure(out, id, s, i, i == 0);
    fputs(s->nfail ? "\n  ]\n}\n" : "]\n}\n", out);
}

/* ---- for people ---- */

void sw_summary(FILE *out, const struct sw_identity *id, const chk_sweep *s)
{
    fprintf(out, "SWEEP %s", id->driver);
    for (unsigned i = 0; i < id->nsettings; i++)
        fprintf(out, " %s", id->settings[i]);
    fprintf(out, ": %u scenario%s, %zu point%s", s->nscen, s->nscen == 1 ? "" : "s", points_run(s),
            points_run(s) == 1 ? "" : "s");
    if (s->rejected)
        fprintf(out, " (%u more refused by their scenario)", s->rejected);
    fprintf(out, ", %llu executions, %.1f s%s: ", (unsigned long long)s->executions, s->seconds,
            s->cut ? ", cut short by --time" : "");
    if (s->nfail)
        fprintf(out, "%u distinct failure%s\n", s->nfail, s->nfail == 1 ? "" : "s");
    else
        fprintf(out, "no failure\n");
}

void sw_write_text(FILE *out, const struct sw_identity *id, const chk_sweep *s,
                   char *const *ce_paths)
{
    sw_summary(out, id, s);
    for (unsigned i = 0; i < s->nfail; i++) {
        const struct chk_sw_failure *f = &s->fail[i];
        fprintf(out, "F%u %s\n", i + 1, f->signature);
        for (unsigned k = 0; k < f->nseen; k++)
            fprintf(out, "    %s: %s (%llu execution%s at %u point%s)\n",
                    s->scen[f->seen[k].scen].name, f->seen[k].region,
                    (unsigned long long)f->seen[k].count, f->seen[k].count == 1 ? "" : "s",
                    f->seen[k].points, f->seen[k].points == 1 ? "" : "s");
        fprintf(out, "    why: %s\n", f->why);
        if (ce_paths && ce_paths[i])
            fprintf(out, "    replay: qinval replay %s\n", ce_paths[i]);
    }
}

/* A table cell: '|' escaped, newlines as spaces. */
static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++)
        if (*s == '|')
            fputs("\\|", out);
        else
            fputc(*s == '\n' ? ' ' : *s, out);
}

void sw_write_markdown(FILE *out, const struct sw_identity *id, const chk_sweep *s,
                       char *const *ce_paths)
{
    sw_summary(out, id, s);
    fputc('\n', out);
    if (!s->nfail)
        return;
    fprintf(out, "| # | oracle | where | after | scenario: region (executions) | counterexample |\n"
                 "|---|---|---|---|---|---|\n");
    for (unsigned i = 0; i < s->nfail; i++) {
        const struct chk_sw_failure *f = &s->fail[i];
        fprintf(out, "| F%u | %s | ", i + 1, f->oracle);
        md_cell(out, f->where);
        fputs(" | ", out);
        md_cell(out, f->trigger);
        fputs(" | ", out);
        for (unsigned k = 0; k < f->nseen; k++) {
            fprintf(out, "%s%s: ", k ? "<br>" : "", s->scen[f->seen[k].scen].name);
            md_cell(out, f->seen[k].region);
            fprintf(out, " (%llu)", (unsigned long long)f->seen[k].count);
        }
        fputs(" | ", out);
        if (ce_paths && ce_paths[i])
            fprintf(out, "`qinval replay %s`", ce_paths[i]);
        fputs(" |\n", out);
    }
}

void sw_write_ktap(FILE *out, const struct sw_identity *id, const chk_sweep *s,
                   char *const *ce_paths)
{
    fprintf(out, "KTAP version 1\n# ");
    sw_summary(out, id, s);
    fprintf(out, "1..%u\n", s->nscen);
    for (unsigned c = 0; c < s->nscen; c++) {
        bool bad = false;
        for (unsigned i = 0; i < s->nfail; i++)
            for (unsigned k = 0; k < s->fail[i].nseen; k++) {
                const struct chk_sw_seen *w = &s->fail[i].seen[k];
                if (w->scen != c)
                    continue;
                bad = true;
                fprintf(out, "# F%u %s: %s\n", i + 1, s->fail[i].signature, w->region);
                if (ce_paths && ce_paths[i] && s->fail[i].scen == c)
                    fprintf(out, "# replay: qinval replay %s\n", ce_paths[i]);
            }
        fprintf(out, "%s %u %s/%s\n", bad ? "not ok" : "ok", c + 1, id->driver, s->scen[c].name);
    }
}

/* ---- counterexample files ---- */

void sw_free_paths(char **paths, unsigned n)
{
    for (unsigned i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}

int sw_save_all(const char *dir, const struct sw_identity *id, const chk_sweep *s, char ***paths,
                char *err, size_t errlen)
{
    *paths = calloc(s->nfail + 1, sizeof(**paths));
    if (!*paths)
        grow_out_of_memory(0, "counterexample names");
    if (s->nfail && mkdir(dir, 0777) && errno != EEXIST) { /* made for a reader: umask applies */
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    for (unsigned i = 0; i < s->nfail; i++) {
        char path[AF_PATH_LEN];
        af_file a;
        const char *name = s->scen[s->fail[i].scen].name, *base = strrchr(name, '/');
        char safe[SW_SCENARIO_LEN];
        snprintf(safe, sizeof(safe), "%s", base ? base + 1 : name);
        for (char *c = safe; *c; c++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *c))
                *c = '_';
        snprintf(path, sizeof(path), "%s/F%u-%s.json", dir, i + 1, safe);
        if (af_open(&a, path, err, errlen))
            return -1;
        sw_write_ce(a.f, id, s, &s->fail[i]);
        fputc('\n', a.f);
        if (af_commit(&a, err, errlen))
            return -1;
        (*paths)[i] = strdup(path);
    }
    return 0;
}
