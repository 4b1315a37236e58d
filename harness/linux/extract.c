/*
 * extract.c — the kernel-harness extractor (what and why: extract.h). A scanner for top-level C
 * definitions that understands comments, string and character literals and preprocessor lines,
 * an index of definitions by name, and the closure from the root functions over the
 * identifiers their text uses.
 */
#include "extract.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- characters and lexical skipping ---- */

static bool id0(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool idc(char c)
{
    return id0(c) || (c >= '0' && c <= '9');
}

/* Whether only blanks precede position i on its line. */
static bool at_line_start(const char *t, size_t i)
{
    while (i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t'))
        i--;
    return i == 0 || t[i - 1] == '\n';
}

/* If a comment or a string/character literal starts at i, the position after it; else i. */
static size_t skip_lit(const char *t, size_t n, size_t i)
{
    if (i + 1 < n && t[i] == '/' && t[i + 1] == '*') {
        const char *e = strstr(t + i + 2, "*/");
        return e ? (size_t)(e - t) + 2 : n;
    }
    if (i + 1 < n && t[i] == '/' && t[i + 1] == '/') {
        while (i < n && t[i] != '\n')
            i++;
        return i;
    }
    if (t[i] == '"' || t[i] == '\'') {
        char q = t[i++];
        while (i < n && t[i] != q && t[i] != '\n')
            i += t[i] == '\\' && i + 1 < n ? 2 : 1;
        return i < n ? i + 1 : n;
    }
    return i;
}

/* If a comment or literal starts at *i, move past it and say so. */
static bool skipped_lit(const char *t, size_t n, size_t *i)
{
    size_t j = skip_lit(t, n, *i);
    if (j == *i)
        return false;
    *i = j;
    return true;
}

/* End of a preprocessor directive starting at i (the '#'): the newline that is not escaped by a
 * backslash, comments spanning lines included. */
static size_t directive_end(const char *t, size_t n, size_t i)
{
    while (i < n) {
        if (skipped_lit(t, n, &i))
            continue;
        if (t[i] == '\\' && i + 1 < n && t[i + 1] == '\n') {
            i += 2;
            continue;
        }
        if (t[i] == '\n')
            return i;
        i++;
    }
    return n;
}

/* The directive at i (a '#') by its keyword: whether it is `word`, and for "if", whether its
 * condition is the literal 0. */
static bool directive_is(const char *t, size_t n, size_t i, const char *word)
{
    size_t k = i + 1, w = strlen(word);
    while (k < n && (t[k] == ' ' || t[k] == '\t'))
        k++;
    return k + w <= n && !memcmp(t + k, word, w) && (k + w == n || !idc(t[k + w]));
}

static bool directive_if0(const char *t, size_t n, size_t i)
{
    size_t k = i + 1;
    while (k < n && (t[k] == ' ' || t[k] == '\t'))
        k++;
    if (!directive_is(t, n, i, "if"))
        return false;
    k += 2;
    while (k < n && (t[k] == ' ' || t[k] == '\t'))
        k++;
    return k < n && t[k] == '0' && (k + 1 == n || !idc(t[k + 1]));
}

/* A directive at i; if it opens an "#if 0" block, skip the block up to the #else, #elif or
 * #endif that ends it (nested conditionals counted): code there is not compiled, and need not
 * even balance its braces. Returns the position after what was skipped. */
static size_t skip_directive(const char *t, size_t n, size_t i)
{
    size_t end = directive_end(t, n, i);
    unsigned depth = 0;
    if (!directive_if0(t, n, i))
        return end;
    for (i = end; i < n;) {
        if (skipped_lit(t, n, &i))
            continue;
        if (t[i] == '#' && at_line_start(t, i)) {
            end = directive_end(t, n, i);
            if (directive_is(t, n, i, "if") || directive_is(t, n, i, "ifdef") ||
                directive_is(t, n, i, "ifndef"))
                depth++;
            else if (directive_is(t, n, i, "endif") && depth > 0)
                depth--;
            else if (depth == 0 && (directive_is(t, n, i, "endif") ||
                                    directive_is(t, n, i, "else") || directive_is(t, n, i, "elif")))
                return end;
            i = end;
            continue;
        }
        i++;
    }
    return n;
}

/* Skip blanks, comments and (if `pp`) preprocessor lines. */
static size_t skip_space(const char *t, size_t n, size_t i, bool pp)
{
    while (i < n) {
        size_t j = skip_lit(t, n, i);
        if (j != i && t[i] == '/') {
            i = j;
        } else if (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r' || t[i] == '\f' ||
                   (t[i] == '\\' && i + 1 < n && t[i + 1] == '\n')) {
            i++;
        } else if (pp && t[i] == '#' && at_line_start(t, i)) {
            i = skip_directive(t, n, i);
        } else {
            break;
        }
    }
    return i;
}

/* The '}' matching the '{' at i, or n if unbalanced. */
static size_t match_brace(const char *t, size_t n, size_t i)
{
    unsigned depth = 0;
    while (i < n) {
        if (skipped_lit(t, n, &i))
            continue;
        if (t[i] == '#' && at_line_start(t, i)) {
            i = skip_directive(t, n, i);
            continue;
        }
        if (t[i] == '{')
            depth++;
        else if (t[i] == '}' && --depth == 0)
            return i;
        i++;
    }
    return n;
}

static unsigned line_of(const char *t, size_t i)
{
    unsigned line = 1;
    for (size_t k = 0; k < i; k++)
        line += t[k] == '\n';
    return line;
}

/* ---- tokens (just enough: identifiers and single punctuation characters) ---- */

struct tok {
    size_t at, len; /* len 0: end of text */
};

static struct tok next_tok(const char *t, size_t n, size_t *i, bool pp)
{
    size_t k = skip_space(t, n, *i, pp);
    struct tok r = {k, 0};
    if (k >= n) {
        *i = n;
        return r;
    }
    size_t j = skip_lit(t, n, k);
    if (j != k) { /* a literal: one token */
        r.len = j - k;
    } else if (idc(t[k])) {
        while (j < n && idc(t[j]))
            j++;
        r.len = j - k;
    } else if (t[k] == '-' && k + 1 < n && t[k + 1] == '>') {
        r.len = 2;
    } else {
        r.len = 1;
    }
    *i = k + r.len;
    return r;
}

static bool tok_is(const char *t, struct tok k, const char *s)
{
    return k.len == strlen(s) && !memcmp(t + k.at, s, k.len);
}

static bool tok_id(const char *t, struct tok k)
{
    return k.len && id0(t[k.at]);
}

/* ---- the index ---- */

static int add_def(struct lkh_set *s, enum lkh_kind kind, const char *name, size_t nlen,
                   size_t begin, size_t end, char *err, size_t errlen)
{
    const struct lkh_src *src = &s->srcs[s->nsrcs - 1];
    if (nlen >= sizeof(s->defs[0].name))
        return 0; /* no kernel name we look up is that long */
    if (s->ndefs == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct lkh_def *d = realloc(s->defs, cap * sizeof(*d));
        if (!d)
            return fail(err, errlen, "out of memory indexing %s", src->path);
        s->defs = d;
        s->cap = cap;
    }
    struct lkh_def *d = &s->defs[s->ndefs++];
    memset(d, 0, sizeof(*d));
    d->kind = kind;
    memcpy(d->name, name, nlen);
    d->name[nlen] = '\0';
    d->begin = begin;
    d->end = end;
    d->line = line_of(src->text, begin);
    d->src = (unsigned)(s->nsrcs - 1);
    return 0;
}

/* "#define NAME..." at i (the '#'), ending at `end`. */
static int index_directive(struct lkh_set *s, const char *t, size_t i, size_t end, char *err,
                           size_t errlen)
{
    size_t k = i + 1;
    struct tok w = next_tok(t, end, &k, false);
    if (!tok_is(t, w, "define"))
        return 0;
    struct tok name = next_tok(t, end, &k, false);
    if (!tok_id(t, name))
        return 0;
    return add_def(s, LKH_MACRO, t + name.at, name.len, i, end, err, errlen);
}

/* A top-level statement [b, brace) followed by a brace group [brace, close]: a function
 * definition (an identifier before the first '(' that is not an attribute, no '=' before the
 * brace), an enum (its constants each get a definition spanning the whole enum up to its ';'),
 * or something else (struct, initializer), skipped. Returns the position to go on from. */
static int index_group(struct lkh_set *s, const char *t, size_t n, size_t b, size_t brace,
                       size_t close, size_t *next, bool *ends, char *err, size_t errlen)
{
    size_t k = b, first = (size_t)-1;
    struct tok prev = {0, 0}, name = {0, 0};
    bool is_enum = false, has_eq = false, has_paren = false;
    int paren = 0;
    *next = close + 1;
    *ends = false;
    while (k < brace) {
        struct tok w = next_tok(t, brace, &k, true);
        if (!w.len)
            break;
        if (first == (size_t)-1)
            first = w.at;
        if (tok_is(t, w, "enum") && paren == 0)
            is_enum = true;
        if (tok_is(t, w, "=") && paren == 0)
            has_eq = true;
        if (tok_is(t, w, "(")) {
            if (paren == 0 && !has_paren && tok_id(t, prev) && !tok_is(t, prev, "__attribute__") &&
                !tok_is(t, prev, "__aligned")) {
                has_paren = true;
                name = prev;
            }
            paren++;
        } else if (tok_is(t, w, ")")) {
            paren--;
        }
        prev = w;
    }
    if (first == (size_t)-1)
        return 0;
    if (has_paren && !has_eq && !is_enum) {
        *ends = true;
        return add_def(s, LKH_FUNC, t + name.at, name.len, first, close + 1, err, errlen);
    }
    if (!is_enum || has_paren || has_eq)
        return 0;
    /* the enum's text runs to the ';' after the brace group */
    size_t semi = close + 1;
    while (semi < n && t[semi] != ';')
        semi++;
    if (semi < n)
        semi++;
    *next = semi;
    *ends = true;
    k = brace + 1;
    bool expect_name = true;
    int depth = 0;
    while (k < close) {
        struct tok w = next_tok(t, close, &k, true);
        if (!w.len)
            break;
        if (tok_is(t, w, "(") || tok_is(t, w, "{"))
            depth++;
        else if (tok_is(t, w, ")") || tok_is(t, w, "}"))
            depth--;
        else if (depth == 0 && tok_is(t, w, ","))
            expect_name = true;
        else if (depth == 0 && expect_name && tok_id(t, w)) {
            if (add_def(s, LKH_ENUM, t + w.at, w.len, first, semi, err, errlen))
                return -1;
            expect_name = false;
        }
    }
    return 0;
}

/* "typedef ... NAME;" over [b, semi): the last identifier before the ';' (or, for a function
 * pointer type, the identifier after "(*"). */
static int index_typedef(struct lkh_set *s, const char *t, size_t b, size_t semi, char *err,
                         size_t errlen)
{
    size_t k = b;
    struct tok w = next_tok(t, semi, &k, true), name = {0, 0}, prev = {0, 0};
    size_t first = w.at;
    if (!tok_is(t, w, "typedef"))
        return 0;
    bool fnptr = false;
    while ((w = next_tok(t, semi, &k, true)).len) {
        if (tok_id(t, w) && !fnptr)
            name = w;
        if (tok_id(t, w) && tok_is(t, prev, "*") && !fnptr) {
            /* "(*name)(...)": remember it and stop taking later identifiers */
            size_t look = k;
            struct tok nx = next_tok(t, semi, &look, true);
            if (tok_is(t, nx, ")")) {
                name = w;
                fnptr = true;
            }
        }
        prev = w;
    }
    if (!name.len)
        return 0;
    return add_def(s, LKH_TYPEDEF, t + name.at, name.len, first, semi + 1, err, errlen);
}

static int index_src(struct lkh_set *s, char *err, size_t errlen)
{
    const struct lkh_src *src = &s->srcs[s->nsrcs - 1];
    const char *t = src->text;
    size_t n = src->len, i = 0, stmt = 0;
    while (i < n) {
        if (skipped_lit(t, n, &i))
            continue;
        if (t[i] == '#' && at_line_start(t, i)) {
            size_t end = directive_end(t, n, i);
            if (index_directive(s, t, i, end, err, errlen))
                return -1;
            i = skip_directive(t, n, i);
            stmt = i;
            continue;
        }
        if (t[i] == '{') {
            size_t close = match_brace(t, n, i), next;
            bool ends;
            if (close >= n)
                return fail(err, errlen,
                            "%s:%u: unbalanced '{' (cannot find the end of this "
                            "definition)",
                            src->path, line_of(t, i));
            if (index_group(s, t, n, stmt, i, close, &next, &ends, err, errlen))
                return -1;
            if (ends)
                stmt = next; /* a function or an enum ends the statement */
            i = next;
            continue;
        }
        if (t[i] == ';') {
            if (index_typedef(s, t, stmt, i, err, errlen))
                return -1;
            stmt = i + 1;
        }
        i++;
    }
    return 0;
}

static int add_src(struct lkh_set *s, const char *name, char *text, size_t len, char *err,
                   size_t errlen)
{
    struct lkh_src *v = realloc(s->srcs, (s->nsrcs + 1) * sizeof(*v));
    char *path = strdup(name);
    if (!v || !path) {
        free(path);
        free(text);
        if (v)
            s->srcs = v;
        return fail(err, errlen, "out of memory reading %s", name);
    }
    s->srcs = v;
    s->srcs[s->nsrcs++] = (struct lkh_src){path, text, len};
    return index_src(s, err, errlen);
}

int lkh_add_text(struct lkh_set *s, const char *name, const char *text, char *err, size_t errlen)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (!copy)
        return fail(err, errlen, "out of memory reading %s", name);
    memcpy(copy, text, len + 1);
    return add_src(s, name, copy, len, err, errlen);
}

int lkh_add_file(struct lkh_set *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        char *b = realloc(buf, cap * 2 + 1);
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf)
        return fail(err, errlen, "out of memory reading %s", path);
    if (bad) {
        free(buf);
        return fail(err, errlen, "cannot read %s", path);
    }
    buf[len] = '\0';
    return add_src(s, path, buf, len, err, errlen);
}

void lkh_set_free(struct lkh_set *s)
{
    for (size_t i = 0; i < s->nsrcs; i++) {
        free(s->srcs[i].path);
        free(s->srcs[i].text);
    }
    free(s->srcs);
    free(s->defs);
    memset(s, 0, sizeof(*s));
}

static struct lkh_def *find_def(const struct lkh_set *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->ndefs; i++)
        if (strlen(s->defs[i].name) == len && !memcmp(s->defs[i].name, name, len))
            return &s->defs[i];
    return NULL;
}

/* A definition of function d's name in another file of the set than d's, or NULL. Two
 * definitions in one file are the #ifdef branches of one function (the first is taken); in two
 * files they are two functions, and which one the kernel links cannot be told from here. */
static const struct lkh_def *other_func_def(const struct lkh_set *s, const struct lkh_def *d)
{
    for (size_t i = 0; d->kind == LKH_FUNC && i < s->ndefs; i++)
        if (s->defs[i].kind == LKH_FUNC && s->defs[i].src != d->src &&
            !strcmp(s->defs[i].name, d->name))
            return &s->defs[i];
    return NULL;
}

static int twice(const struct lkh_set *s, const struct lkh_def *a, const struct lkh_def *b,
                 char *err, size_t errlen)
{
    return fail(err, errlen, "function '%s' is defined twice: %s:%u and %s:%u", a->name,
                s->srcs[a->src].path, a->line, s->srcs[b->src].path, b->line);
}

const struct lkh_def *lkh_find(const struct lkh_set *s, const char *name)
{
    return find_def(s, name, strlen(name));
}

const char *lkh_def_text(const struct lkh_set *s, const struct lkh_def *d, size_t *len)
{
    *len = d->end - d->begin;
    return s->srcs[d->src].text + d->begin;
}

/* ---- the closure ---- */

/* Names that may be called without a definition: keywords, operators that look like calls,
 * and compiler builtins. */
static bool callable_builtin(const char *t, struct tok w)
{
    static const char *const kw[] = {
        "if",     "while",   "for",        "switch",        "return",
        "sizeof", "typeof",  "__typeof__", "__attribute__", "defined",
        "asm",    "__asm__", "_Alignof",   "__alignof__",   "_Static_assert",
        "do",     "case",    "_Generic",
    };
    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
        if (tok_is(t, w, kw[i]))
            return true;
    return w.len > 10 && !memcmp(t + w.at, "__builtin_", 10);
}

struct closure {
    struct lkh_set *tree;
    const struct lkh_set *shim;
    struct lkh_def **work;
    size_t nwork, cap;
    char *err;
    size_t errlen;
};

static int push(struct closure *c, struct lkh_def *d)
{
    if (d->used)
        return 0;
    d->used = 1;
    if (c->nwork == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct lkh_def **w = realloc(c->work, cap * sizeof(*w));
        if (!w)
            return fail(c->err, c->errlen, "out of memory");
        c->work = w;
        c->cap = cap;
    }
    c->work[c->nwork++] = d;
    return 0;
}

/* Macro parameters of a function-like macro whose text starts at t (the '#'). */
struct params {
    struct tok p[32];
    unsigned n;
    size_t body; /* where the replacement list starts */
};

static void macro_params(const char *t, size_t n, struct params *pr)
{
    size_t k = 1;
    pr->n = 0;
    next_tok(t, n, &k, false);                   /* define */
    struct tok name = next_tok(t, n, &k, false); /* NAME */
    pr->body = k;
    if (k < n && t[name.at + name.len] == '(') {
        struct tok w;
        k = name.at + name.len + 1;
        while ((w = next_tok(t, n, &k, false)).len && !tok_is(t, w, ")"))
            if (tok_id(t, w) && pr->n < 32)
                pr->p[pr->n++] = w;
        pr->body = k;
    }
}

static bool is_param(const char *t, const struct params *pr, struct tok w)
{
    for (unsigned i = 0; i < pr->n; i++)
        if (pr->p[i].len == w.len && !memcmp(t + pr->p[i].at, t + w.at, w.len))
            return true;
    return false;
}

static int scan_def(struct closure *c, const struct lkh_def *d)
{
    const struct lkh_src *src = &c->tree->srcs[d->src];
    const char *t = src->text + d->begin;
    size_t n = d->end - d->begin, k = 0;
    struct params pr = {.n = 0, .body = 0};
    struct tok prev = {0, 0}, w;
    if (d->kind == LKH_MACRO) {
        macro_params(t, n, &pr);
        k = pr.body;
    }
    while ((w = next_tok(t, n, &k, d->kind != LKH_MACRO)).len) {
        bool member = tok_is(t, prev, ".") || tok_is(t, prev, "->") || tok_is(t, prev, "struct") ||
                      tok_is(t, prev, "union") || tok_is(t, prev, "enum");
        prev = w;
        if (!tok_id(t, w) || member || is_param(t, &pr, w))
            continue;
        if (find_def(c->shim, t + w.at, w.len))
            continue;
        struct lkh_def *def = find_def(c->tree, t + w.at, w.len);
        const struct lkh_def *dup = def ? other_func_def(c->tree, def) : NULL;
        if (dup)
            return twice(c->tree, def, dup, c->err, c->errlen);
        if (def) {
            if (push(c, def))
                return -1;
            continue;
        }
        size_t look = k;
        struct tok nx = next_tok(t, n, &look, d->kind != LKH_MACRO);
        if (tok_is(t, nx, "(") && !callable_builtin(t, w) &&
            !(d->kind == LKH_FUNC && tok_is(t, w, d->name)))
            return fail(c->err, c->errlen,
                        "cannot provide '%.*s' (called by %s, %s:%u): defined neither in the "
                        "kernel sources read nor by the harness shim",
                        (int)w.len, t + w.at, d->name, src->path,
                        line_of(src->text, d->begin + w.at));
    }
    return 0;
}

static int cmp_def(const void *a, const void *b)
{
    const struct lkh_def *x = *(struct lkh_def *const *)a, *y = *(struct lkh_def *const *)b;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* The definitions of `work` (sorted) that are functions (`funcs`) or that are not, each once,
 * preceded by a #line directive naming its file. */
static void emit_defs(const struct lkh_set *tree, struct lkh_def *const *work, size_t n, bool funcs,
                      FILE *out)
{
    size_t last_src = (size_t)-1, last_begin = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        const struct lkh_def *d = work[i];
        size_t len;
        if ((d->kind == LKH_FUNC) != funcs)
            continue;
        if (d->src == last_src && d->begin == last_begin)
            continue; /* several enum constants of one enum */
        last_src = d->src;
        last_begin = d->begin;
        const char *text = lkh_def_text(tree, d, &len);
        fprintf(out, "#line %u \"%s\"\n%.*s\n", d->line, tree->srcs[d->src].path, (int)len, text);
    }
}

/* A function definition's head: its text up to the body's opening brace. */
static size_t func_head(const char *t, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (skipped_lit(t, len, &i))
            continue;
        if (t[i] == '{')
            break;
        i++;
    }
    while (i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t' || t[i - 1] == '\n'))
        i--;
    return i;
}

static void emit_prototypes(const struct lkh_set *tree, struct lkh_def *const *work, size_t n,
                            FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct lkh_def *d = work[i];
        size_t len;
        if (d->kind != LKH_FUNC)
            continue;
        const char *text = lkh_def_text(tree, d, &len);
        fprintf(out, "#line %u \"%s\"\n%.*s;\n", d->line, tree->srcs[d->src].path,
                (int)func_head(text, len), text);
    }
}

int lkh_extract(struct lkh_set *tree, const struct lkh_set *shim, const char *const *roots,
                size_t nroots, const char *const *needs, size_t nneeds, FILE *out, char *err,
                size_t errlen)
{
    struct closure c = {.tree = tree, .shim = shim, .err = err, .errlen = errlen};
    int rc = 0;
    for (size_t i = 0; i < tree->ndefs; i++)
        tree->defs[i].used = 0;
    for (size_t r = 0; r < nroots && !rc; r++) {
        struct lkh_def *d = find_def(tree, roots[r], strlen(roots[r]));
        const struct lkh_def *dup = d ? other_func_def(tree, d) : NULL;
        if (!d || d->kind != LKH_FUNC)
            rc = fail(err, errlen, "function '%s' not found in %s", roots[r],
                      tree->nsrcs ? tree->srcs[tree->nsrcs - 1].path : "(no sources)");
        else if (dup)
            rc = twice(tree, d, dup, err, errlen);
        else
            rc = push(&c, d);
    }
    for (size_t r = 0; r < nneeds && !rc; r++) {
        struct lkh_def *d = find_def(tree, needs[r], strlen(needs[r]));
        if (find_def(shim, needs[r], strlen(needs[r])))
            continue;
        if (!d)
            rc = fail(err, errlen, "symbol '%s' not found in %s", needs[r],
                      tree->nsrcs ? tree->srcs[0].path : "(no sources)");
        else
            rc = push(&c, d);
    }
    for (size_t i = 0; i < c.nwork && !rc; i++)
        rc = scan_def(&c, c.work[i]);
    if (!rc) {
        qsort(c.work, c.nwork, sizeof(*c.work), cmp_def);
        /* Macros, enums and typedefs first, then a prototype of every function, then the
         * functions: definitions from several files call each other across files, in any
         * order, and a prototype may name an enum of any of them. */
        emit_defs(tree, c.work, c.nwork, false, out);
        emit_prototypes(tree, c.work, c.nwork, out);
        emit_defs(tree, c.work, c.nwork, true, out);
        if (ferror(out))
            rc = fail(err, errlen, "cannot write the extracted source");
    }
    free(c.work);
    return rc;
}
