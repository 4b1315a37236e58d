/*
 * test_lkh_extract.c — the kernel harness's extractor (harness/linux/extract.c) on small
 * synthetic C files: it finds functions, macros and enums by name, follows what they use,
 * lets the shim win over the sources, is not fooled by braces in strings, character literals,
 * comments or preprocessor lines, and names the function or symbol it cannot provide.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "extract.h"

static const char *const tree_h = "/* a header */\n"
                                  "#define RING_LEN 256 /* slots { */\n"
                                  "#define SLOT(i) ((i) % RING_LEN)\n"
                                  "#define UNUSED_MACRO 7\n"
                                  "#define readl(a) host_readl(a)\n"
                                  "enum { ST_FREE, ST_BUSY = 3, ST_DONE };\n"
                                  "enum other { OT_A, OT_B };\n"
                                  "struct ring { int head; };\n"
                                  "typedef unsigned long u_long_t;\n";

static const char *const tree_c =
    "#include \"x.h\"\n"
    "static const char *brace_text(int k)\n"
    "{\n"
    "    /* a comment with a stray } and { */\n"
    "    if (k == '}')\n"
    "        return \"}}} not the end {\";\n"
    "    // line comment }\n"
    "#if 0\n"
    "    }\n"
    "#endif\n"
    "    return \"\\\"}\";\n"
    "}\n"
    "\n"
    "static int helper(int i)\n"
    "{\n"
    "    return SLOT(i) == ST_BUSY;\n"
    "}\n"
    "\n"
    "static int unrelated(void)\n"
    "{\n"
    "    return UNUSED_MACRO;\n"
    "}\n"
    "\n"
    "int root_fn(struct ring *r, int n)\n"
    "{\n"
    "    int i = readl(r);\n"
    "    r->head = helper(n);\n"
    "    brace_text(i);\n"
    "    return ST_DONE;\n"
    "}\n"
    "static int __attribute__((unused)) attr_fn(void) { return OT_B; }\n"
    "int calls_missing(void)\n"
    "{\n"
    "    return mystery_function(1);\n"
    "}\n";

static const char *const shim_h = "static inline int readl(void *a) { (void)a; return 0; }\n"
                                  "#define UNUSED_MACRO 8\n"
                                  "typedef int shim_t;\n";

struct fixture {
    struct lkh_set tree, shim;
    const char *needs[4];
    size_t nneeds;
    char err[512];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(lkh_add_text(&f->tree, "x.h", tree_h, f->err, sizeof(f->err)), 0);
    assert_int_equal(lkh_add_text(&f->tree, "x.c", tree_c, f->err, sizeof(f->err)), 0);
    assert_int_equal(lkh_add_text(&f->shim, "shim.h", shim_h, f->err, sizeof(f->err)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lkh_set_free(&f->tree);
    lkh_set_free(&f->shim);
    free(f);
    return 0;
}

/* Run the extraction into a string (caller frees); NULL on failure, message in f->err. */
static char *extract(struct fixture *f, const char *const *roots, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_non_null(mem);
    int rc =
        lkh_extract(&f->tree, &f->shim, roots, n, f->needs, f->nneeds, mem, f->err, sizeof(f->err));
    fclose(mem);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void test_index_finds_definitions(void **state)
{
    struct fixture *f = *state;
    const struct lkh_def *d;
    size_t len;
    const char *text;

    d = lkh_find(&f->tree, "brace_text");
    assert_non_null(d);
    assert_int_equal(d->kind, LKH_FUNC);
    text = lkh_def_text(&f->tree, d, &len);
    /* the whole function, from its return type to its own closing brace */
    assert_true(len > 10);
    assert_memory_equal(text, "static const char *brace_text", 29);
    assert_memory_equal(text + len - 3, ";\n}", 3);
    assert_int_equal(text[len - 1], '}');
    assert_int_equal(d->line, 2);

    d = lkh_find(&f->tree, "helper");
    assert_non_null(d); /* found after brace_text: its braces did not derail the scan */
    assert_int_equal(d->kind, LKH_FUNC);
    assert_int_equal(d->line, 14);

    d = lkh_find(&f->tree, "attr_fn");
    assert_non_null(d);
    assert_int_equal(d->kind, LKH_FUNC);
    assert_null(lkh_find(&f->tree, "__attribute__"));

    d = lkh_find(&f->tree, "ST_BUSY");
    assert_non_null(d);
    assert_int_equal(d->kind, LKH_ENUM);
    assert_non_null(lkh_find(&f->tree, "OT_B"));
    assert_null(lkh_find(&f->tree, "ring")); /* struct tags are not definitions we use */

    d = lkh_find(&f->tree, "SLOT");
    assert_non_null(d);
    assert_int_equal(d->kind, LKH_MACRO);
    d = lkh_find(&f->tree, "u_long_t");
    assert_non_null(d);
    assert_int_equal(d->kind, LKH_TYPEDEF);
    assert_null(lkh_find(&f->tree, "mystery_function")); /* a call is not a definition */
}

static void test_closure_and_shim_precedence(void **state)
{
    struct fixture *f = *state;
    const char *roots[] = {"root_fn"};
    char *out = extract(f, roots, 1);
    assert_non_null(out);
    /* what root_fn uses, directly and through helper and SLOT */
    assert_non_null(strstr(out, "int root_fn(struct ring *r, int n)"));
    assert_non_null(strstr(out, "static int helper(int i)"));
    assert_non_null(strstr(out, "static const char *brace_text(int k)"));
    assert_non_null(strstr(out, "#define SLOT(i)"));
    assert_non_null(strstr(out, "#define RING_LEN 256"));
    assert_non_null(strstr(out, "enum { ST_FREE, ST_BUSY = 3, ST_DONE };"));
    /* the enum once, though two of its constants are used */
    assert_null(strstr(strstr(out, "ST_DONE };") + 1, "enum { ST_FREE"));
    /* not used: left out */
    assert_null(strstr(out, "unrelated"));
    assert_null(strstr(out, "UNUSED_MACRO"));
    assert_null(strstr(out, "enum other"));
    assert_null(strstr(out, "calls_missing"));
    /* the shim defines readl: the tree's macro is not taken */
    assert_null(strstr(out, "host_readl"));
    /* source order: header items before the .c file's, helpers before their caller */
    assert_true(strstr(out, "#define RING_LEN") < strstr(out, "static int helper"));
    assert_true(strstr(out, "static int helper") < strstr(out, "int root_fn"));
    /* #line directives point at the sources */
    assert_non_null(strstr(out, "#line 14 \"x.c\"\nstatic int helper"));
    free(out);
}

static void test_missing_function_is_named(void **state)
{
    struct fixture *f = *state;
    const char *roots[] = {"root_fn", "no_such_fn"};
    assert_null(extract(f, roots, 2));
    assert_non_null(strstr(f->err, "function 'no_such_fn' not found"));
    assert_non_null(strstr(f->err, "x.c"));
    /* a macro is not a function: asking for one as a root is the same error */
    const char *mroots[] = {"SLOT"};
    assert_null(extract(f, mroots, 1));
    assert_non_null(strstr(f->err, "function 'SLOT' not found"));
}

static void test_missing_symbol_is_named(void **state)
{
    struct fixture *f = *state;
    const char *roots[] = {"calls_missing"};
    assert_null(extract(f, roots, 1));
    assert_non_null(strstr(f->err, "cannot provide 'mystery_function'"));
    assert_non_null(strstr(f->err, "called by calls_missing"));
    assert_non_null(strstr(f->err, "x.c:34"));
}

static void test_needs(void **state)
{
    struct fixture *f = *state;
    const char *roots[] = {"helper"};
    f->needs[0] = "OT_A";         /* from the tree: taken, with its whole enum */
    f->needs[1] = "UNUSED_MACRO"; /* the shim has it: not taken from the tree */
    f->nneeds = 2;
    char *out = extract(f, roots, 1);
    assert_non_null(out);
    assert_non_null(strstr(out, "enum other { OT_A, OT_B };"));
    assert_null(strstr(out, "UNUSED_MACRO"));
    free(out);
    f->needs[2] = "NOT_THERE";
    f->nneeds = 3;
    assert_null(extract(f, roots, 1));
    assert_non_null(strstr(f->err, "symbol 'NOT_THERE' not found"));
}

static void test_unbalanced_braces_rejected(void **state)
{
    (void)state;
    struct lkh_set s = {0};
    char err[256];
    assert_int_equal(
        lkh_add_text(&s, "bad.c", "int f(void)\n{\n  if (1) {\n  return 0;\n}\n", err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "bad.c:2: unbalanced '{'"));
    lkh_set_free(&s);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct lkh_set s = {0};
    char err[256];
    assert_int_equal(lkh_add_file(&s, "/nonexistent/dmar.c", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot read /nonexistent/dmar.c"));
    lkh_set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_index_finds_definitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closure_and_shim_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_function_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_symbol_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_needs, setup, teardown),
        cmocka_unit_test(test_unbalanced_braces_rejected),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
