/*
 * fuzz_ce.c — feeds the JSON reader (json_parse, src/cli/json.c) with arbitrary text and what it
 * parses to the counterexample/result reader (ce_from_json, src/cli/ce_file.c, as `qinval
 * replay` loads a file) and to `qinval merge`'s reading of one shard (merge_check_shard,
 * src/cli/merge.c), and, for a sweep result, to the reading of sweep shards (sweep_merge_load,
 * src/cli/sweep_merge.c, the input taken as the only shard) and the writers of the rebuilt
 * report. Property: none of them crashes; each either accepts the input or fails with a
 * one-line message; what ce_from_json accepts is consistent (picks and timeline counts match
 * their arrays); a rebuilt sweep refers only to its own failures and scenarios.
 */
#include "fuzz_util.h"

#include "cli/ce_file.h"
#include "cli/json.h"
#include "cli/sweep_merge.h"

/* A sweep result as the one shard of a merge; the rebuilt sweep written in every form. */
static void fuzz_sweep(json_value *root)
{
    const char *name = "fuzz.json";
    struct sweep_merged m;
    if (!sweep_merge_load(&root, &name, 1, &m)) {
        const chk_sweep *s = &m.s;
        for (size_t p = 0; p < s->npoints; p++) {
            FUZZ_REQUIRE(s->points[p].scen < s->nscen, "point %zu of no scenario", p);
            for (unsigned k = 0; k < s->points[p].nfails; k++)
                FUZZ_REQUIRE(s->points[p].fails[k] < s->nfail, "point %zu: no failure", p);
        }
        for (unsigned i = 0; i < s->nfail; i++)
            FUZZ_REQUIRE(s->fail[i].scen < s->nscen && s->fail[i].nseen <= s->nscen,
                         "failure %u of no scenario", i);
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            sw_write_json(null, &m.id, s);
            sw_write_text(null, &m.id, s, NULL);
            sw_write_markdown(null, &m.id, s, NULL);
            sw_write_ktap(null, &m.id, s, NULL);
            fclose(null);
        }
    }
    sweep_merged_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    const char *text = (const char *)data;

    json_value *root = json_parse(text, size, err, sizeof(err));
    if (!root) {
        fuzz_one_line("json_parse", err);
        return 0;
    }
    struct ce_loaded l;
    if (ce_from_json(root, &l, err, sizeof(err)))
        fuzz_one_line("ce_from_json", err);
    else {
        FUZZ_REQUIRE(l.f.driver && l.f.scenario, "identity without driver or scenario");
        FUZZ_REQUIRE(l.f.nsets <= CE_MAX_SETS, "%u sets", l.f.nsets);
        for (unsigned i = 0; i < l.f.nsets; i++)
            FUZZ_REQUIRE(l.f.sets[i] != NULL, "set %u is NULL", i);
        FUZZ_REQUIRE(l.f.npicks == 0 || l.f.picks, "%zu picks without an array", l.f.npicks);
        if (l.has_counterexample) {
            FUZZ_REQUIRE(l.cx.oracle != NULL, "counterexample without oracle");
            for (size_t i = 0; i < l.cx.ntimeline; i++)
                FUZZ_REQUIRE(l.cx.timeline[i] != NULL, "timeline line %zu is NULL", i);
        }
    }
    ce_loaded_free(&l); /* l owns root, also on failure */

    root = json_parse(text, size, err, sizeof(err));
    FUZZ_REQUIRE(root != NULL, "the second parse of the same text failed: %s", err);
    if (root->type == JV_OBJECT && json_get(root, "qinval_sweep"))
        fuzz_sweep(root);
    if (merge_check_shard(root, err, sizeof(err))) /* frees root */
        fuzz_one_line("merge_check_shard", err);
    return 0;
}
