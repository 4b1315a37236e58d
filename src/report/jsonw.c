/*
 * jsonw.c — a C string written as a JSON string literal, a real number as a JSON number or
 * null (see jsonw.h).
 */
#include <math.h>

#include "report/jsonw.h"

void rep_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

void rep_json_real(FILE *out, double x)
{
    if (!isfinite(x))
        fputs("null", out);
    else
        fprintf(out, fabs(x) < 1e15 ? "%.6f" : "%.6e", x);
}
