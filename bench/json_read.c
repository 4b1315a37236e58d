/*
 * json_read.c — benchmark of the CLI's JSON reader (src/cli/json.c, over jansson) on what once
 * made it slow: one object with many keys, whose duplicate check compared each key with all
 * before it (jansson's is a hash table). Baseline, measured in the same run: an array of the
 * same members as one-member objects (the same bytes to scan and strings to decode, no key to
 * compare with another). The figure is the ratio of the two times for each size; a reader
 * linear (or n log n) in the keys keeps it near 1 as the size grows, a quadratic one
 * multiplies it by about 4 each time the size doubles.
 * Usage: json_read [max-keys] [reps]   (defaults 400000 and 3: sizes 25,000 ... max-keys,
 * doubling; each time the best of reps parses)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/json.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* {"k0000000": 0, ...} as one object, or [{"k0000000": 0}, ...] */
static char *text(size_t n, int as_object, size_t *len)
{
    char *s = NULL;
    FILE *m = open_memstream(&s, len);
    if (!m)
        return NULL;
    fputs(as_object ? "{" : "[", m);
    for (size_t i = 0; i < n; i++)
        fprintf(m, as_object ? "%s\n\"k%07zu\": %zu" : "%s\n{\"k%07zu\": %zu}", i ? "," : "", i, i);
    fputs(as_object ? "\n}\n" : "\n]\n", m);
    return fclose(m) ? NULL : s;
}

static double parse_time(const char *s, size_t len, unsigned reps)
{
    double best = 1e30;
    for (unsigned r = 0; r < reps; r++) {
        char err[256];
        double t0 = now_s();
        json_value *v = json_parse(s, len, err, sizeof(err));
        double dt = now_s() - t0;
        if (!v) {
            fprintf(stderr, "json_read: %s\n", err);
            exit(3);
        }
        json_free(v);
        best = dt < best ? dt : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t max = argc > 1 ? strtoul(argv[1], NULL, 10) : 400000;
    unsigned reps = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 3;
    if (max < 25000 || !reps || max > JSON_MAX_VALUES / 3) {
        fprintf(stderr, "usage: json_read [max-keys 25000..%u] [reps > 0]\n", JSON_MAX_VALUES / 3);
        return 2;
    }
    printf("%10s %10s %14s %14s %8s\n", "keys", "MB", "object s", "baseline s", "ratio");
    for (size_t n = 25000; n <= max; n *= 2) {
        size_t olen, alen;
        char *obj = text(n, 1, &olen), *arr = text(n, 0, &alen);
        if (!obj || !arr)
            return 3;
        double to = parse_time(obj, olen, reps), ta = parse_time(arr, alen, reps);
        printf("%10zu %10.1f %14.4f %14.4f %8.2f\n", n, olen / 1e6, to, ta, to / ta);
        free(obj);
        free(arr);
    }
    return 0;
}
