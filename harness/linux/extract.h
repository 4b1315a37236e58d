/*
 * extract.h — the kernel-harness extractor: pulls named top-level definitions (functions,
 * #define macros, enums) out of C source files, together with every definition of those files
 * they use, transitively, and writes them into one C file that compiles against our shim
 * header (harness/linux/shim/lkh_shim.h).
 *
 * Why a small purpose-built scanner and not the preprocessor or a C parser: the kernel's own
 * headers cannot be included in user space, and we want the code exactly as written (macros
 * unexpanded, so the shim decides what readl, spin locks or READ_ONCE mean). What is needed is
 * only to find where a top-level definition starts and ends, which brace matching that knows
 * comments, string and character literals and preprocessor lines does reliably; the closure
 * over identifiers then adapts to whatever helpers a kernel version uses.
 *
 * Resolution rules for an identifier met in extracted text (not after '.', '->', or the
 * keywords struct/union/enum): the shim wins if it defines the name (function, macro, typedef
 * or enum constant); else a definition in the sources, searched in the order given; else it is
 * left alone (a local variable, a parameter, a keyword). A name that is *called* (followed by
 * '(') and is defined nowhere, and is not a C keyword, a builtin or a parameter of the
 * enclosing macro, is an error naming the symbol and who uses it.
 *
 * Used by src/drivers/kernel_drv.c (building the kernel driver on first use) and by the unit
 * test tests/test_lkh_extract.c.
 */
#ifndef QINVAL_LKH_EXTRACT_H
#define QINVAL_LKH_EXTRACT_H

#include <stddef.h>
#include <stdio.h>

enum lkh_kind { LKH_FUNC, LKH_MACRO, LKH_ENUM, LKH_TYPEDEF };

/* One top-level definition found by lkh_index(). `begin`..`end` is its text in the file. */
struct lkh_def {
    enum lkh_kind kind;
    char name[64];
    size_t begin, end;
    unsigned line; /* 1-based line of `begin` */
    unsigned src;  /* index of its source in the set */
    int used;      /* set by the closure */
};

/* A source file read into memory and indexed. */
struct lkh_src {
    char *path;
    char *text;
    size_t len;
};

struct lkh_set {
    struct lkh_src *srcs;
    size_t nsrcs;
    struct lkh_def *defs;
    size_t ndefs, cap;
};

/* Add a file (read from disk) or a text (taken as is, copied) to the set and index it.
 * Returns 0, or -1 with a one-line message in err. */
int lkh_add_file(struct lkh_set *s, const char *path, char *err, size_t errlen);
int lkh_add_text(struct lkh_set *s, const char *name, const char *text, char *err, size_t errlen);
void lkh_set_free(struct lkh_set *s);

/* The first definition of `name` in the set (any kind), or NULL. */
const struct lkh_def *lkh_find(const struct lkh_set *s, const char *name);

/* The text of a definition, as a pointer into its source and a length. */
const char *lkh_def_text(const struct lkh_set *s, const struct lkh_def *d, size_t *len);

/* Extract `roots` (functions that must exist in `tree`) and everything of `tree` they use,
 * resolving names against `shim` first; `needs` are further names of any kind (macros the
 * harness's own code uses) taken from `tree` unless the shim has them, and required.
 * Writes the definitions to `out` in source order (sources in the order added), each preceded
 * by a #line directive naming its file. Returns 0, or -1 with a one-line message in err
 * naming the missing function or symbol. */
int lkh_extract(struct lkh_set *tree, const struct lkh_set *shim, const char *const *roots,
                size_t nroots, const char *const *needs, size_t nneeds, FILE *out, char *err,
                size_t errlen);

#endif /* QINVAL_LKH_EXTRACT_H */
