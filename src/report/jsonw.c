/*
 * jsonw.c — a C string written as a JSON string literal by jansson's encoder, a real number as
 * a JSON number or null (see jsonw.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report/jsonw.h"
#include "util/grow.h"

/* The length of the UTF-8 sequence at s[0..n) (RFC 3629: no overlong form, no surrogate,
 * nothing above U+10FFFF: what jansson takes), or 0 if s[0] starts none. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xc2 && s[0] <= 0xdf   ? 2
                 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
                 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                                : 0;
    if (!len || len > n)
        return 0;
    unsigned long cp = s[0] & (0x7f >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3f);
    }
    static const unsigned long least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

/* s[0..n) with each byte that is not part of a UTF-8 sequence replaced by U+FFFD (to free). */
static char *utf8_repaired(const char *s, size_t n, size_t *len)
{
    char *out = must_alloc(3 * n + 1, "a JSON string");
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_length((const unsigned char *)s + i, n - i);
        if (k) {
            memcpy(out + w, s + i, k);
            w += k, i += k;
        } else {
            memcpy(out + w, "\xef\xbf\xbd", 3);
            w += 3, i++;
        }
    }
    *len = w;
    return out;
}

static int to_file(const char *buffer, size_t size, void *data)
{
    return fwrite(buffer, 1, size, data) == size ? 0 : -1;
}

void rep_json_string(FILE *out, const char *s)
{
    size_t n = strlen(s);
    json_t *j = json_stringn(s, n); /* NULL: not UTF-8 (or out of memory) */
    if (!j) {
        size_t len;
        char *repaired = utf8_repaired(s, n, &len);
        j = json_stringn(repaired, len);
        free(repaired);
        if (!j)
            grow_out_of_memory(len, "a JSON string");
    }
    /* a failed write shows in ferror(out), as for every other write of the writers */
    json_dump_callback(j, to_file, out, JSON_ENCODE_ANY);
    json_decref(j);
}

void rep_json_real(FILE *out, double x)
{
    if (!isfinite(x))
        fputs("null", out);
    else
        fprintf(out, fabs(x) < 1e15 ? "%.6f" : "%.6e", x);
}
