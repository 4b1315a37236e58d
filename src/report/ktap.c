/*
 * ktap.c — KTAP version 1 lines (see ktap.h).
 */
#include <string.h>

#include "report/ktap.h"

static void indent(FILE *out, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        fputs("  ", out); /* one level of nesting: two spaces */
}

void rep_ktap_begin(FILE *out, unsigned depth, const char *name, unsigned ntests)
{
    indent(out, depth);
    fputs("KTAP version 1\n", out);
    if (name) {
        indent(out, depth);
        fprintf(out, "# Subtest: %s\n", name);
    }
    indent(out, depth);
    fprintf(out, "1..%u\n", ntests);
}

void rep_ktap_diag(FILE *out, unsigned depth, const char *text)
{
    while (text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        indent(out, depth);
        fprintf(out, "# %.*s\n", (int)len, text);
        text = nl ? nl + 1 : NULL;
        if (text && !*text)
            break;
    }
}

void rep_ktap_result(FILE *out, unsigned depth, bool ok, unsigned number, const char *name,
                     const char *skip)
{
    indent(out, depth);
    fprintf(out, "%sok %u ", ok ? "" : "not ", number);
    for (const char *p = name; *p; p++)
        fputc(*p == '#' || *p == '\n' ? '_' : *p, out);
    if (skip)
        fprintf(out, " # SKIP %s", skip);
    fputc('\n', out);
}
