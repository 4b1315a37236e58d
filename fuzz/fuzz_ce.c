/*
 * fuzz_ce.c — feeds the JSON reader (json_parse, src/cli/json.c) with arbitrary text and what it
 * parses to the counterexample/result reader (ce_from_json, src/cli/ce_file.c, as `qinval
 * replay` loads a file) and to `qinval merge`'s reading of one shard (merge_check_shard,
 * src/cli/merge.c). Property: none of them crashes; each either accepts the input or fails with
 * a one-line message; what ce_from_json accepts is consistent (picks and timeline counts match
 * their arrays).
 */
#include "fuzz_util.h"

#include "cli/ce_file.h"
#include "cli/json.h"

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
    if (merge_check_shard(root, err, sizeof(err))) /* frees root */
        fuzz_one_line("merge_check_shard", err);
    return 0;
}
