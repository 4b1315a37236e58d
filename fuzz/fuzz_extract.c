/*
 * fuzz_extract.c — feeds the kernel-harness extractor (harness/linux/extract.c) mutated C
 * source: the input is a source file's text (up to its first NUL byte), indexed with
 * lkh_add_text, then every definition found is looked up (lkh_find, lkh_def_text) and the
 * closure of its first functions (at most three, as roots) and first macro (as a need) is
 * extracted with lkh_extract against a small fixed shim. Property: nothing crashes; each call
 * either succeeds or fails with a one-line message; definitions lie inside the text.
 */
#include "fuzz_util.h"

#include "extract.h"

static const char shim_text[] =
    "#define READ_ONCE(x) (x)\n"
    "#define WRITE_ONCE(x, v) ((x) = (v))\n"
    "typedef unsigned long long u64;\n"
    "typedef unsigned int u32;\n"
    "static inline u32 readl(const void *p) { return *(const u32 *)p; }\n"
    "static inline void writel(u32 v, void *p) { *(u32 *)p = v; }\n"
    "enum { EBUSY = 16, ETIMEDOUT = 110 };\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char err[512];
    struct lkh_set tree = {0}, shim = {0};

    FUZZ_REQUIRE(lkh_add_text(&shim, "shim.h", shim_text, err, sizeof(err)) == 0,
                 "the shim does not index: %s", err);
    if (lkh_add_text(&tree, "fuzz.c", text, err, sizeof(err))) {
        fuzz_one_line("lkh_add_text", err);
        goto out;
    }
    const char *roots[3], *needs[1];
    size_t nroots = 0, nneeds = 0;
    size_t tlen = strlen(text);
    for (size_t i = 0; i < tree.ndefs; i++) {
        const struct lkh_def *d = &tree.defs[i];
        FUZZ_REQUIRE(d->begin <= d->end && d->end <= tlen, "definition %s at [%zu, %zu) of %zu",
                     d->name, d->begin, d->end, tlen);
        FUZZ_REQUIRE(memchr(d->name, '\0', sizeof(d->name)) != NULL, "unterminated name");
        size_t len;
        const char *t = lkh_def_text(&tree, d, &len);
        FUZZ_REQUIRE(t && len == d->end - d->begin, "lkh_def_text of %s", d->name);
        FUZZ_REQUIRE(lkh_find(&tree, d->name) != NULL, "%s not found by name", d->name);
        if (d->kind == LKH_FUNC && nroots < 3)
            roots[nroots++] = d->name;
        else if (d->kind == LKH_MACRO && nneeds < 1)
            needs[nneeds++] = d->name;
    }
    if (nroots) {
        FILE *out = fopen("/dev/null", "w");
        FUZZ_REQUIRE(out != NULL, "cannot open /dev/null");
        if (lkh_extract(&tree, &shim, roots, nroots, needs, nneeds, out, err, sizeof(err)))
            fuzz_one_line("lkh_extract", err);
        fclose(out);
    }
out:
    lkh_set_free(&tree);
    lkh_set_free(&shim);
    free(text);
    return 0;
}
