/*
 * json.c — the JSON reader of json.h: a recursive-descent parser over the
 * whole text, building a tree whose arrays grow by doubling. Every failure (syntax, depth,
 * range, memory) becomes one message with its line and column; the partial tree is freed.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/json.h"

struct parser {
    const char *s;
    size_t i, n;
    size_t values; /* parsed so far */
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
    unsigned line = 1, col = 1;
    for (size_t k = 0; k < p->i && k < p->n; k++, col++)
        if (p->s[k] == '\n')
            line++, col = 0;
    int w = snprintf(p->err, p->errlen, "line %u, column %u: ", line, col);
    va_list ap;
    va_start(ap, fmt);
    if (w >= 0 && (size_t)w < p->errlen)
        vsnprintf(p->err + w, p->errlen - (size_t)w, fmt, ap);
    va_end(ap);
    return -1;
}

static void skip_space(struct parser *p)
{
    while (p->i < p->n &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r' || p->s[p->i] == '\n'))
        p->i++;
}

static bool at_end(const struct parser *p)
{
    return p->i >= p->n;
}

/* A byte of the input for a message: 'c' when printable, else "byte 0xNN" (a newline or other
 * control character printed as is would break the message's one line). */
static const char *byte_text(char c, char buf[16])
{
    if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
        snprintf(buf, 16, "'%c'", c);
    else
        snprintf(buf, 16, "byte 0x%02x", (unsigned char)c);
    return buf;
}

static int expect(struct parser *p, char c)
{
    char what[16];
    skip_space(p);
    if (at_end(p))
        return fail(p, "expected '%c', found the end of the input (truncated?)", c);
    if (p->s[p->i] != c)
        return fail(p, "expected '%c', found %s", c, byte_text(p->s[p->i], what));
    p->i++;
    return 0;
}

static bool accept(struct parser *p, char c)
{
    skip_space(p);
    if (at_end(p) || p->s[p->i] != c)
        return false;
    p->i++;
    return true;
}

/* ---- strings ---- */

struct buf {
    char *s;
    size_t len, cap;
};

static int buf_put(struct parser *p, struct buf *b, char c)
{
    if (b->len + 1 >= b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        char *s = realloc(b->s, cap);
        if (!s)
            return fail(p, "out of memory");
        b->s = s;
        b->cap = cap;
    }
    b->s[b->len++] = c;
    b->s[b->len] = 0;
    return 0;
}

static int put_utf8(struct parser *p, struct buf *b, uint32_t cp)
{
    if (cp < 0x80)
        return buf_put(p, b, (char)cp);
    if (cp < 0x800)
        return buf_put(p, b, (char)(0xc0 | cp >> 6)) || buf_put(p, b, (char)(0x80 | (cp & 0x3f)));
    if (cp < 0x10000)
        return buf_put(p, b, (char)(0xe0 | cp >> 12)) ||
               buf_put(p, b, (char)(0x80 | (cp >> 6 & 0x3f))) ||
               buf_put(p, b, (char)(0x80 | (cp & 0x3f)));
    return buf_put(p, b, (char)(0xf0 | cp >> 18)) ||
           buf_put(p, b, (char)(0x80 | (cp >> 12 & 0x3f))) ||
           buf_put(p, b, (char)(0x80 | (cp >> 6 & 0x3f))) ||
           buf_put(p, b, (char)(0x80 | (cp & 0x3f)));
}

static int hex4(struct parser *p, uint32_t *out)
{
    *out = 0;
    for (int k = 0; k < 4; k++, p->i++) {
        if (at_end(p))
            return fail(p, "truncated \\u escape");
        char c = p->s[p->i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        char what[16];
        if (d == 16)
            return fail(p, "bad hex digit %s in a \\u escape", byte_text(c, what));
        *out = *out << 4 | d;
    }
    return 0;
}

/* After "\u": one code point, joining a surrogate pair. */
static int unicode_escape(struct parser *p, struct buf *b)
{
    uint32_t cp, low;
    if (hex4(p, &cp))
        return -1;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(p, "lone low surrogate in a \\u escape");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (p->i + 2 > p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
            return fail(p, "high surrogate without its low half");
        p->i += 2;
        if (hex4(p, &low))
            return -1;
        if (low < 0xdc00 || low > 0xdfff)
            return fail(p, "high surrogate without its low half");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    if (cp == 0)
        return fail(p, "\\u0000 in a string is not supported");
    return put_utf8(p, b, cp);
}

static int escape(struct parser *p, struct buf *b)
{
    if (at_end(p))
        return fail(p, "unterminated string, found the end of the input (truncated?)");
    char c = p->s[p->i++];
    if (c == 'u')
        return unicode_escape(p, b);
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = c ? strchr(from, c) : NULL;
    if (!k)
        return fail(p, "unknown escape '\\%c'", (unsigned char)c >= 0x20 ? c : '?');
    return buf_put(p, b, to[k - from]);
}

static int parse_string(struct parser *p, char **out)
{
    struct buf b = {0};
    *out = NULL;
    if (expect(p, '"'))
        return -1;
    for (;;) {
        if (at_end(p))
            return free(b.s),
                   fail(p, "unterminated string, found the end of the input (truncated?)");
        char c = p->s[p->i++];
        if (c == '"')
            break;
        int rc = c == '\\'                 ? escape(p, &b)
                 : (unsigned char)c < 0x20 ? fail(p, "control character in a string")
                                           : buf_put(p, &b, c);
        if (rc)
            return free(b.s), -1;
    }
    *out = b.s ? b.s : calloc(1, 1);
    return *out ? 0 : fail(p, "out of memory");
}

/* ---- numbers ---- */

static size_t digits(struct parser *p)
{
    size_t start = p->i;
    while (!at_end(p) && p->s[p->i] >= '0' && p->s[p->i] <= '9')
        p->i++;
    return p->i - start;
}

static int parse_number(struct parser *p, json_value *v)
{
    size_t start = p->i;
    bool negative = p->s[p->i] == '-', integer = true;
    p->i += negative;
    size_t nint = digits(p);
    if (!nint)
        return fail(p, "bad number");
    if (nint > 1 && p->s[start + negative] == '0')
        return fail(p, "number with a leading zero");
    if (!at_end(p) && p->s[p->i] == '.') {
        p->i++, integer = false;
        if (!digits(p))
            return fail(p, "bad number: no digits after '.'");
    }
    if (!at_end(p) && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++, integer = false;
        if (!at_end(p) && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (!digits(p))
            return fail(p, "bad number: no digits in the exponent");
    }
    char text[64];
    size_t len = p->i - start;
    if (len >= sizeof(text))
        return fail(p, "number too long (%zu characters)", len);
    memcpy(text, p->s + start, len);
    text[len] = 0;
    v->type = JSON_NUMBER;
    v->number = strtod(text, NULL);
    if (!isfinite(v->number))
        return fail(p, "number out of range: %s", text);
    errno = 0;
    v->u64 = integer && !negative ? strtoull(text, NULL, 10) : 0;
    v->is_u64 = integer && !negative && errno != ERANGE;
    return 0;
}

/* ---- values ---- */

static int parse_value(struct parser *p, json_value *v, unsigned depth);
static void free_contents(json_value *v);

/* Room for one more item (and key); the new item is zeroed and counted, so a failure while
 * parsing it still frees whatever it holds. */
static json_value *push_item(struct parser *p, json_value *v, size_t *cap)
{
    if (v->len == *cap) {
        size_t n = *cap ? *cap * 2 : 8;
        json_value *items = realloc(v->items, n * sizeof(*items));
        if (items)
            v->items = items;
        char **keys = v->type == JSON_OBJECT ? realloc(v->keys, n * sizeof(*keys)) : NULL;
        if (keys)
            v->keys = keys;
        if (!items || (v->type == JSON_OBJECT && !keys))
            return fail(p, "out of memory"), NULL;
        *cap = n;
    }
    memset(&v->items[v->len], 0, sizeof(v->items[0]));
    if (v->type == JSON_OBJECT)
        v->keys[v->len] = NULL;
    return &v->items[v->len++];
}

static int parse_array(struct parser *p, json_value *v, unsigned depth)
{
    size_t cap = 0;
    v->type = JSON_ARRAY;
    p->i++;
    if (accept(p, ']'))
        return 0;
    do {
        json_value *item = push_item(p, v, &cap);
        if (!item || parse_value(p, item, depth + 1))
            return -1;
    } while (accept(p, ','));
    return expect(p, ']');
}

/* Where each key of an object ends in the text, for the message about a duplicate. */
struct key_ends {
    size_t *at;
    size_t cap;
};

static int parse_member(struct parser *p, json_value *v, size_t *cap, struct key_ends *ends,
                        unsigned depth)
{
    json_value *item = push_item(p, v, cap);
    if (item && ends->cap < *cap) {
        size_t *at = realloc(ends->at, *cap * sizeof(*at));
        if (!at)
            return fail(p, "out of memory");
        ends->at = at;
        ends->cap = *cap;
    }
    char **key = item ? &v->keys[v->len - 1] : NULL;
    skip_space(p);
    if (!item || parse_string(p, key))
        return -1;
    ends->at[v->len - 1] = p->i;
    return expect(p, ':') || parse_value(p, item, depth + 1);
}

struct key_ref {
    const char *key;
    size_t index;
};

static int by_key(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The object's keys parsed so far, sorted (n log n; comparing each key with all before it was
 * quadratic: 11 s for a 1 MB object): a key equal to the one before it in that order is a
 * duplicate. The message names the duplicate that comes first in the text, at the end of that
 * key, as reading it in order would. 0, or -1 after fail(). */
static int check_duplicates(struct parser *p, const json_value *v, const struct key_ends *ends)
{
    if (v->len < 2)
        return 0;
    struct key_ref *refs = malloc(v->len * sizeof(*refs));
    if (!refs)
        return fail(p, "out of memory");
    size_t n = 0;
    for (size_t k = 0; k < v->len; k++)
        if (v->keys[k]) /* NULL: a key that failed to parse */
            refs[n++] = (struct key_ref){v->keys[k], k};
    qsort(refs, n, sizeof(*refs), by_key);
    size_t first = SIZE_MAX; /* the earliest index of a key that came before */
    for (size_t k = 1; k < n; k++)
        if (!strcmp(refs[k].key, refs[k - 1].key) && refs[k].index < first)
            first = refs[k].index;
    free(refs);
    if (first == SIZE_MAX)
        return 0;
    p->i = ends->at[first];
    return fail(p, "duplicate key \"%.60s\"", v->keys[first]);
}

static int parse_object(struct parser *p, json_value *v, unsigned depth)
{
    size_t cap = 0;
    struct key_ends ends = {0};
    int rc = 0;
    v->type = JSON_OBJECT;
    p->i++;
    if (accept(p, '}'))
        return 0;
    do
        rc = parse_member(p, v, &cap, &ends, depth);
    while (!rc && accept(p, ','));
    if (!rc)
        rc = expect(p, '}');
    /* Also after another error: a duplicate before it comes first in the text, and is what
     * reading in order would have met first (every key here precedes the error). */
    if (check_duplicates(p, v, &ends))
        rc = -1;
    free(ends.at);
    return rc;
}

static int parse_word(struct parser *p, json_value *v)
{
    static const struct {
        const char *word;
        enum json_type type;
        bool value;
    } words[] = {{"true", JSON_BOOL, true}, {"false", JSON_BOOL, false}, {"null", JSON_NULL, 0}};
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
        size_t len = strlen(words[k].word);
        if (p->n - p->i >= len && !memcmp(p->s + p->i, words[k].word, len)) {
            p->i += len;
            v->type = words[k].type;
            v->boolean = words[k].value;
            return 0;
        }
    }
    char what[16];
    return fail(p, "unexpected %s", byte_text(p->s[p->i], what));
}

static int parse_value(struct parser *p, json_value *v, unsigned depth)
{
    if (depth > JSON_MAX_DEPTH)
        return fail(p, "nested deeper than %d levels", JSON_MAX_DEPTH);
    if (++p->values > JSON_MAX_VALUES)
        return fail(p, "more than %u values", JSON_MAX_VALUES);
    skip_space(p);
    if (at_end(p))
        return fail(p, "expected a value, found the end of the input (truncated?)");
    char c = p->s[p->i];
    if (c == '{')
        return parse_object(p, v, depth);
    if (c == '[')
        return parse_array(p, v, depth);
    if (c == '"') {
        v->type = JSON_STRING;
        return parse_string(p, &v->string);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p, v);
    return parse_word(p, v);
}

json_value *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct parser p = {.s = text, .n = len, .err = err, .errlen = errlen};
    json_value *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc = parse_value(&p, v, 0);
    skip_space(&p);
    if (!rc && !at_end(&p))
        rc = fail(&p, "unexpected text after the value");
    if (rc) {
        json_free(v);
        return NULL;
    }
    return v;
}

/* ---- files ---- */

static char *read_all(FILE *f, size_t *len, const char **problem)
{
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    while (s) {
        n += fread(s + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap >= JSON_MAX_BYTES) {
            *problem = "larger than 64 MiB";
            free(s);
            return NULL;
        }
        char *t = realloc(s, cap * 2);
        if (!t)
            free(s);
        s = t, cap *= 2;
    }
    if (!s)
        *problem = "out of memory";
    else if (ferror(f)) {
        *problem = strerror(errno);
        free(s);
        return NULL;
    }
    *len = n;
    return s;
}

json_value *json_parse_file(const char *path, char *err, size_t errlen)
{
    bool is_stdin = !strcmp(path, "-");
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        return NULL;
    }
    const char *problem = "";
    size_t len = 0;
    char *text = read_all(f, &len, &problem);
    if (!is_stdin)
        fclose(f);
    if (!text) {
        snprintf(err, errlen, "%s: %s", name, problem);
        return NULL;
    }
    char why[200];
    json_value *v = json_parse(text, len, why, sizeof(why));
    free(text);
    if (!v)
        snprintf(err, errlen, "%s: malformed JSON: %s", name, why);
    return v;
}

static void free_contents(json_value *v)
{
    if (v->type == JSON_STRING)
        free(v->string);
    if (v->type != JSON_ARRAY && v->type != JSON_OBJECT)
        return;
    for (size_t k = 0; k < v->len; k++) {
        free_contents(&v->items[k]);
        if (v->type == JSON_OBJECT)
            free(v->keys[k]);
    }
    free(v->items);
    if (v->type == JSON_OBJECT)
        free(v->keys);
}

void json_free(json_value *v)
{
    if (v)
        free_contents(v);
    free(v);
}

/* ---- access ---- */

const char *json_type_name(enum json_type t)
{
    static const char *const names[] = {"null",     "a boolean", "a number",
                                        "a string", "an array",  "an object"};
    return (unsigned)t < 6 ? names[t] : "?";
}

const json_value *json_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t k = 0; k < obj->len; k++)
        if (!strcmp(obj->keys[k], key))
            return &obj->items[k];
    return NULL;
}

int json_get_typed(const json_value *obj, const char *key, enum json_type type,
                   const json_value **out, char *err, size_t errlen)
{
    *out = json_get(obj, key);
    if (!*out) {
        snprintf(err, errlen, "missing \"%s\"", key);
        return -1;
    }
    if ((*out)->type != type) {
        snprintf(err, errlen, "\"%s\" must be %s, not %s", key, json_type_name(type),
                 json_type_name((*out)->type));
        return -1;
    }
    return 0;
}

int json_get_string(const json_value *obj, const char *key, const char **out, char *err,
                    size_t errlen)
{
    const json_value *v;
    if (json_get_typed(obj, key, JSON_STRING, &v, err, errlen))
        return -1;
    *out = v->string;
    return 0;
}

int json_get_u64(const json_value *obj, const char *key, uint64_t *out, char *err, size_t errlen)
{
    const json_value *v;
    if (json_get_typed(obj, key, JSON_NUMBER, &v, err, errlen))
        return -1;
    if (!v->is_u64) {
        snprintf(err, errlen, "\"%s\" must be a whole number from 0 to 2^64-1", key);
        return -1;
    }
    *out = v->u64;
    return 0;
}

int json_get_seconds(const json_value *obj, const char *key, double *out, char *err, size_t errlen)
{
    const json_value *v = json_get(obj, key);
    if (v && v->type == JSON_NULL) { /* what rep_json_real writes for a time not known */
        *out = NAN;
        return 0;
    }
    if (json_get_typed(obj, key, JSON_NUMBER, &v, err, errlen))
        return -1;
    if (v->number < 0) {
        snprintf(err, errlen, "\"%s\" must not be negative", key);
        return -1;
    }
    *out = v->number;
    return 0;
}

int json_get_bool(const json_value *obj, const char *key, bool *out, char *err, size_t errlen)
{
    const json_value *v;
    if (json_get_typed(obj, key, JSON_BOOL, &v, err, errlen))
        return -1;
    *out = v->boolean;
    return 0;
}

int json_get_strings(const json_value *obj, const char *key, size_t max, const char ***out,
                     size_t *n, char *err, size_t errlen)
{
    const json_value *a;
    if (json_get_typed(obj, key, JSON_ARRAY, &a, err, errlen))
        return -1;
    if (a->len > max) {
        snprintf(err, errlen, "\"%s\" has more than %zu entries", key, max);
        return -1;
    }
    for (size_t i = 0; i < a->len; i++)
        if (a->items[i].type != JSON_STRING) {
            snprintf(err, errlen, "\"%s\" must hold strings", key);
            return -1;
        }
    *out = calloc(a->len + 1, sizeof(**out));
    if (!*out) {
        snprintf(err, errlen, "out of memory reading \"%s\"", key);
        return -1;
    }
    for (size_t i = 0; i < a->len; i++)
        (*out)[i] = a->items[i].string;
    *n = a->len;
    return 0;
}
