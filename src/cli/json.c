/*
 * json.c — the JSON reader of json.h, over jansson (Debian's libjansson-dev).
 *
 * Why jansson, of the maintained JSON libraries Debian main ships (jansson, json-c, cJSON): it
 * reports an error with its line, column and byte position (json_error_t) and a code saying
 * which kind it is, so every message stays one line "line L, column C: what"; it refuses
 * duplicate keys while parsing, through a hash table with a random seed (JSON_REJECT_DUPLICATES:
 * linear in the keys, also for keys chosen to collide); it keeps an object's keys in the order
 * of the text; it validates UTF-8 and refuses \u0000 unless asked; json_loadb() parses a
 * buffer that is not NUL-terminated; and it keeps no global state but its hash seed. json-c
 * gives a byte offset but no line or column, and keeps the last of duplicate keys; cJSON
 * gives only a pointer into the text (in a global), keeps duplicates and checks no UTF-8.
 *
 * What jansson leaves to this file:
 * - a scan of the text before jansson sees it: the depth and value limits are checked there,
 *   so that jansson never builds a larger tree than they allow (its own depth limit is 2048),
 *   and integers jansson cannot hold (json_int_t is long long; a seed can be any 64-bit
 *   value) are noted, exactly, and handed to jansson as a real of the same length: "0.000...";
 * - the tree of json.h, built over jansson's in one block (the scan's integers put back), so
 *   that the callers read fields rather than call accessors;
 * - the messages: the line and column of the character at fault counted as jansson counts
 *   (characters, from 1; at the end of the text, the column after the last character), also
 *   for the limits; jansson's words kept but where ours said more (the duplicate key named,
 *   "out of range", "truncated?"); control characters shown by their code so that a message
 *   stays one line.
 * The limit that comes first in the text wins over a syntax error only if jansson, reading the
 * text up to that point, found nothing wrong before it.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/json.h"

/* ---- the scan ---- */

/* An integer of the text that jansson does not hold as it is: beyond a long long (given to
 * jansson as 0.000... of its length), or -0 (which jansson reads as the integer 0). */
struct big {
    size_t ordinal; /* among the numbers of the text, from 0 */
    size_t at, len; /* where in the text */
    bool is_u64;
    uint64_t u64;
    double number;
};

struct scan {
    const char *s;
    size_t n;
    char *copy; /* the text with the big integers rewritten, or NULL while there are none */
    struct big *big;
    size_t nbig, capbig;
    size_t values, numbers;
    size_t stop;    /* where a limit is passed (SIZE_MAX: none) */
    char limit[64]; /* which, for the message */
    bool out_of_memory;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool in_number(char c)
{
    return is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

/* s[i] is a '"': the index after the closing quote, or n. */
static size_t string_end(const char *s, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

/* Whether digits[0..nd) (no sign, no leading zero) is at most max (as many digits or more). */
static bool at_most(const char *digits, size_t nd, const char *max)
{
    size_t nm = strlen(max);
    return nd < nm || (nd == nm && memcmp(digits, max, nd) <= 0);
}

/* The number token s[at..at+len) (the longest run of number characters): if it is an integer
 * jansson does not hold as it is, note it, and rewrite it in the copy when jansson would refuse
 * it. A token that is no integer, or out of a double's range, is left to jansson. */
static void scan_number(struct scan *sc, size_t at, size_t len)
{
    const char *t = sc->s + at;
    bool negative = t[0] == '-';
    const char *digits = t + negative;
    size_t nd = len - negative;
    size_t ordinal = sc->numbers++;
    if (!nd || (digits[0] == '0' && nd > 1))
        return;
    for (size_t k = 0; k < nd; k++)
        if (!is_digit(digits[k]))
            return;
    bool negative_zero = negative && nd == 1 && digits[0] == '0';
    if (!negative_zero &&
        at_most(digits, nd, negative ? "9223372036854775808" : "9223372036854775807"))
        return; /* a long long: jansson's integer */
    char small[32], *text = len < sizeof(small) ? small : malloc(len + 1);
    if (!text) {
        sc->out_of_memory = true;
        return;
    }
    memcpy(text, t, len);
    text[len] = 0;
    struct big b = {.ordinal = ordinal, .at = at, .len = len, .number = strtod(text, NULL)};
    b.is_u64 = !negative && at_most(digits, nd, "18446744073709551615");
    if (b.is_u64)
        b.u64 = strtoull(text, NULL, 10);
    if (text != small)
        free(text);
    if (!isfinite(b.number))
        return; /* jansson refuses it: "too big integer" */
    if (sc->nbig == sc->capbig) {
        size_t cap = sc->capbig ? sc->capbig * 2 : 8;
        struct big *more = realloc(sc->big, cap * sizeof(*more));
        if (!more) {
            sc->out_of_memory = true;
            return;
        }
        sc->big = more, sc->capbig = cap;
    }
    sc->big[sc->nbig++] = b;
    if (negative_zero)
        return;
    if (!sc->copy) {
        sc->copy = malloc(sc->n);
        if (!sc->copy) {
            sc->out_of_memory = true;
            return;
        }
        memcpy(sc->copy, sc->s, sc->n);
    }
    sc->copy[at] = '0';
    sc->copy[at + 1] = '.';
    memset(sc->copy + at + 2, '0', len - 2);
}

/* Walk the text as JSON's tokens: count the values and their nesting up to the first limit
 * passed (sc->stop), and note the big integers. On text that is not JSON it still ends, and
 * its counts are bounds; jansson finds what is wrong. */
static void scan(struct scan *sc)
{
    const char *s = sc->s;
    size_t n = sc->n, i = 0;
    unsigned open = 0;
    while (i < n && !sc->out_of_memory) {
        char c = s[i];
        size_t start = i;
        bool value = true;
        if (is_space(c) || c == ',' || c == ':') {
            i++;
            continue;
        }
        if (c == ']' || c == '}') {
            open -= open > 0;
            i++;
            continue;
        }
        if (c == '"') { /* a value, or a key when a ':' follows */
            i = string_end(s, i, n);
            size_t k = i;
            while (k < n && is_space(s[k]))
                k++;
            value = k >= n || s[k] != ':';
        } else if (c == '-' || is_digit(c)) {
            while (i < n && in_number(s[i]))
                i++;
        } else if (c >= 'a' && c <= 'z') { /* true, false, null (or a word jansson refuses) */
            while (i < n && s[i] >= 'a' && s[i] <= 'z')
                i++;
        } else {
            i++;
            value = c == '[' || c == '{';
        }
        if (!value)
            continue;
        if (open > JSON_MAX_DEPTH) {
            snprintf(sc->limit, sizeof(sc->limit), "nested deeper than %d levels", JSON_MAX_DEPTH);
            sc->stop = start;
            return;
        }
        if (++sc->values > JSON_MAX_VALUES) {
            snprintf(sc->limit, sizeof(sc->limit), "more than %u values", JSON_MAX_VALUES);
            sc->stop = start;
            return;
        }
        if (c == '[' || c == '{')
            open++;
        else if (c == '-' || is_digit(c))
            scan_number(sc, start, i - start);
    }
}

/* ---- messages ---- */

/* "line L, column C: " of the byte s[at] (at == n: the end of the text), in characters from 1
 * as jansson counts them: a UTF-8 sequence is one column. */
static int where(const char *s, size_t n, size_t at, char *err, size_t errlen)
{
    unsigned long line = 1, col = 1;
    for (size_t k = 0; k < at && k < n; k++) {
        if (s[k] == '\n')
            line++, col = 1;
        else if (((unsigned char)s[k] & 0xc0) != 0x80)
            col++;
    }
    int w = snprintf(err, errlen, "line %lu, column %lu: ", line, col);
    return w < 0 ? 0 : (size_t)w < errlen ? w : (int)errlen - 1;
}

/* Append text[0..len) to err at *w: a control character as \xNN, so the message stays one
 * line. */
static void put_text(char *err, size_t errlen, int *w, const char *text, size_t len)
{
    for (size_t k = 0; k < len && text[k] && (size_t)*w + 1 < errlen; k++) {
        unsigned char c = (unsigned char)text[k];
        int m = c < 0x20 || c == 0x7f ? snprintf(err + *w, errlen - (size_t)*w, "\\x%02x", c)
                                      : snprintf(err + *w, errlen - (size_t)*w, "%c", c);
        if (m < 0 || (size_t)(*w + m) >= errlen) {
            err[*w] = 0; /* no half of an escape */
            return;
        }
        *w += m;
    }
}

__attribute__((format(printf, 4, 5))) static void put(char *err, size_t errlen, int *w,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(err + *w, errlen - (size_t)*w, fmt, ap);
    va_end(ap);
    if (m > 0)
        *w = (size_t)(*w + m) < errlen ? *w + m : (int)errlen - 1;
}

/* The key whose closing quote is s[close]: its opening quote is the nearest '"' before it that
 * is not escaped (preceded by an even number of backslashes). */
static size_t key_start(const char *s, size_t close)
{
    for (size_t k = close; k-- > 0;) {
        if (s[k] != '"')
            continue;
        size_t slashes = 0;
        while (slashes < k && s[k - 1 - slashes] == '\\')
            slashes++;
        if (slashes % 2 == 0)
            return k + 1;
    }
    return 0;
}

/* The big integer whose token ends at `end`, if any: jansson's "near" shows the rewritten
 * text of it. */
static const struct big *big_ending_at(const struct scan *sc, size_t end)
{
    for (size_t k = 0; k < sc->nbig; k++)
        if (sc->big[k].at + sc->big[k].len == end)
            return &sc->big[k];
    return NULL;
}

/* The message of jansson's error, the text being sc->s[0..n). */
static void jansson_message(const struct scan *sc, size_t n, const json_error_t *je, char *err,
                            size_t errlen)
{
    enum json_error_code code = json_error_code(je);
    size_t pos = je->position < 0 ? 0 : (size_t)je->position;
    pos = pos > n ? n : pos;
    /* jansson's position is after the offending token; the message points at its last byte,
     * or at the end of the text, or at the byte that is not UTF-8 */
    size_t at = code == json_error_premature_end_of_input || code == json_error_invalid_utf8 || !pos
                    ? pos
                    : pos - 1;
    int w = where(sc->s, n, at, err, errlen);
    const char *near = strstr(je->text, " near '");
    size_t start;
    switch (code) {
    case json_error_duplicate_key:
        start = key_start(sc->s, at);
        put(err, errlen, &w, "duplicate key \"");
        put_text(err, errlen, &w, sc->s + start, at - start < 60 ? at - start : 60);
        put(err, errlen, &w, "%s\"", at - start > 60 ? "..." : "");
        return;
    case json_error_null_character:
        put(err, errlen, &w, "\\u0000 in a string is not supported");
        return;
    case json_error_null_byte_in_key:
        put(err, errlen, &w, "\\u0000 in a key is not supported");
        return;
    case json_error_numeric_overflow:
        for (start = pos; start > 0 && in_number(sc->s[start - 1]);)
            start--;
        put(err, errlen, &w, "number out of range: ");
        put_text(err, errlen, &w, sc->s + start, pos - start < 40 ? pos - start : 40);
        put(err, errlen, &w, "%s", pos - start > 40 ? "..." : "");
        return;
    case json_error_end_of_input_expected:
        put(err, errlen, &w, "unexpected text after the value");
        return;
    case json_error_out_of_memory:
        put(err, errlen, &w, "out of memory");
        return;
    default:
        break;
    }
    const struct big *b = near ? big_ending_at(sc, pos) : NULL;
    if (b) { /* the original token, not its rewriting, shown as jansson would */
        put_text(err, errlen, &w, je->text, (size_t)(near - je->text));
        if (b->len <= 20) {
            put(err, errlen, &w, " near '");
            put_text(err, errlen, &w, sc->s + b->at, b->len);
            put(err, errlen, &w, "'");
        }
    } else {
        put_text(err, errlen, &w, je->text, strlen(je->text));
    }
    if (code == json_error_premature_end_of_input)
        put(err, errlen, &w, " (truncated?)");
}

/* ---- the tree ---- */

/* The tree in one block after its header: the root first, each container's items together. */
struct doc {
    json_t *j;
    const char **keys;
    json_value nodes[];
};

static void count(const json_t *j, size_t *nodes, size_t *keys)
{
    const char *key;
    json_t *v;
    size_t i;
    ++*nodes;
    if (json_is_object(j)) {
        *keys += json_object_size(j);
        json_object_foreach((json_t *)j, key, v) count(v, nodes, keys);
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) count(v, nodes, keys);
    }
}

struct build {
    json_value *next;
    const char **next_key;
    const struct scan *sc;
    size_t number, big; /* the next number's ordinal; the next big integer */
};

static void fill(struct build *b, const json_t *j, json_value *v)
{
    const char *key;
    json_t *item;
    size_t i = 0;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        v->type = json_is_object(j) ? JV_OBJECT : JV_ARRAY;
        v->len = v->type == JV_OBJECT ? json_object_size(j) : json_array_size(j);
        v->items = b->next;
        b->next += v->len;
        if (v->type == JV_ARRAY) {
            json_array_foreach(j, i, item) fill(b, item, &v->items[i]);
            break;
        }
        v->keys = b->next_key;
        b->next_key += v->len;
        json_object_foreach((json_t *)j, key, item)
        {
            v->keys[i] = key;
            fill(b, item, &v->items[i++]);
        }
        break;
    case JSON_STRING:
        v->type = JV_STRING;
        v->string = json_string_value(j);
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        v->type = JV_NUMBER;
        if (b->big < b->sc->nbig && b->sc->big[b->big].ordinal == b->number) {
            const struct big *g = &b->sc->big[b->big++];
            v->number = g->number;
            v->is_u64 = g->is_u64;
            v->u64 = g->u64;
        } else if (json_is_integer(j)) {
            json_int_t x = json_integer_value(j);
            v->number = (double)x;
            v->is_u64 = x >= 0;
            v->u64 = x >= 0 ? (uint64_t)x : 0;
        } else {
            v->number = json_real_value(j);
        }
        b->number++;
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v->type = JV_BOOL;
        v->boolean = json_is_true(j);
        break;
    case JSON_NULL:
        v->type = JV_NULL;
        break;
    }
}

static json_value *tree(json_t *j, const struct scan *sc)
{
    size_t nodes = 0, keys = 0;
    count(j, &nodes, &keys);
    struct doc *d = calloc(1, sizeof(*d) + nodes * sizeof(d->nodes[0]));
    const char **k = calloc(keys ? keys : 1, sizeof(*k));
    if (!d || !k) {
        free(d);
        free(k);
        return NULL;
    }
    d->j = j;
    d->keys = k;
    struct build b = {.next = d->nodes + 1, .next_key = k, .sc = sc};
    fill(&b, j, &d->nodes[0]);
    return &d->nodes[0];
}

/* The tree of sc->s, or NULL with the message in err. */
static json_value *parse(const struct scan *sc, char *err, size_t errlen)
{
    /* Up to the limit passed, if one is: the text after it is not read. */
    size_t n = sc->stop < sc->n ? sc->stop : sc->n;
    json_error_t je;
    json_t *j =
        json_loadb(sc->copy ? sc->copy : sc->s, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!j && (sc->stop == SIZE_MAX || json_error_code(&je) != json_error_premature_end_of_input)) {
        jansson_message(sc, n, &je, err, errlen);
        return NULL;
    }
    if (sc->stop != SIZE_MAX) {
        int w = where(sc->s, sc->n, sc->stop, err, errlen);
        put(err, errlen, &w, "%s", sc->limit);
        json_decref(j);
        return NULL;
    }
    json_value *v = tree(j, sc);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        json_decref(j);
    }
    return v;
}

json_value *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct scan sc = {.s = text ? text : "", .n = text ? len : 0, .stop = SIZE_MAX};
    scan(&sc);
    json_value *v = NULL;
    if (sc.out_of_memory)
        snprintf(err, errlen, "out of memory");
    else
        v = parse(&sc, err, errlen);
    free(sc.copy);
    free(sc.big);
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

void json_free(json_value *v)
{
    if (!v)
        return;
    struct doc *d = (struct doc *)((char *)v - offsetof(struct doc, nodes));
    json_decref(d->j);
    free(d->keys);
    free(d);
}

/* ---- access ---- */

const char *json_type_name(enum jv_type t)
{
    static const char *const names[] = {"null",     "a boolean", "a number",
                                        "a string", "an array",  "an object"};
    return (unsigned)t < 6 ? names[t] : "?";
}

const json_value *json_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JV_OBJECT)
        return NULL;
    for (size_t k = 0; k < obj->len; k++)
        if (!strcmp(obj->keys[k], key))
            return &obj->items[k];
    return NULL;
}

int json_get_typed(const json_value *obj, const char *key, enum jv_type type,
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
    if (json_get_typed(obj, key, JV_STRING, &v, err, errlen))
        return -1;
    *out = v->string;
    return 0;
}

int json_get_u64(const json_value *obj, const char *key, uint64_t *out, char *err, size_t errlen)
{
    const json_value *v;
    if (json_get_typed(obj, key, JV_NUMBER, &v, err, errlen))
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
    if (v && v->type == JV_NULL) { /* what rep_json_real writes for a time not known */
        *out = NAN;
        return 0;
    }
    if (json_get_typed(obj, key, JV_NUMBER, &v, err, errlen))
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
    if (json_get_typed(obj, key, JV_BOOL, &v, err, errlen))
        return -1;
    *out = v->boolean;
    return 0;
}

int json_get_strings(const json_value *obj, const char *key, size_t max, const char ***out,
                     size_t *n, char *err, size_t errlen)
{
    const json_value *a;
    if (json_get_typed(obj, key, JV_ARRAY, &a, err, errlen))
        return -1;
    if (a->len > max) {
        snprintf(err, errlen, "\"%s\" has more than %zu entries", key, max);
        return -1;
    }
    for (size_t i = 0; i < a->len; i++)
        if (a->items[i].type != JV_STRING) {
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
