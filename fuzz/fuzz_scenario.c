/*
 * fuzz_scenario.c — feeds the scenario loader (sc_load_stream, src/check/scenario.c) a scenario
 * file's text and `--set` overrides. The input is the file's text, optionally followed by a line
 * "--set" and then one KEY=VALUE per line (at most FUZZ_MAX_SETS). Property: the loader never
 * crashes and either loads the scenario or fails with a one-line message; a loaded scenario's
 * counts are within their bounds.
 */
#define _GNU_SOURCE /* memmem */
#include "fuzz_util.h"

#include "check/scenario.h"

#define FUZZ_MAX_SETS 6

static const char SET_MARK[] = "\n--set\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    size_t file_len = size;
    const char *sets[FUZZ_MAX_SETS];
    unsigned nsets = 0;

    /* memmem: the text may hold NUL bytes, which the loader must refuse itself. */
    char *mark = memmem(text, size, SET_MARK, sizeof(SET_MARK) - 1);
    if (mark) {
        file_len = (size_t)(mark - text) + 1; /* keep the file's last newline */
        char *p = mark + sizeof(SET_MARK) - 1;
        while (nsets < FUZZ_MAX_SETS && p < text + size) {
            sets[nsets++] = p;
            char *nl = memchr(p, '\n', (size_t)(text + size - p));
            if (!nl)
                break;
            *nl = '\0';
            p = nl + 1;
        }
    }

    static scenario sc; /* large: not on the stack */
    char err[512];
    /* An empty file: /dev/null (fmemopen refuses a size of 0 on older C libraries). */
    FILE *f = file_len ? fmemopen(text, file_len, "r") : fopen("/dev/null", "r");
    if (f) {
        int rc = sc_load_stream(f, "fuzz.scn", sets, nsets, &sc, err, sizeof(err));
        fclose(f);
        if (rc)
            fuzz_one_line("sc_load_stream", err);
        else {
            FUZZ_REQUIRE(sc.neps <= SC_MAX_EPS, "%u endpoints", sc.neps);
            FUZZ_REQUIRE(sc.ndomains <= SC_MAX_DOMAINS, "%u domains", sc.ndomains);
            FUZZ_REQUIRE(sc.nfaults <= SC_MAX_FAULTS, "%u faults", sc.nfaults);
            FUZZ_REQUIRE(sc.cpus >= 1 && sc.cpus <= SC_MAX_CPUS, "%u cpus", sc.cpus);
            FUZZ_REQUIRE(sc.nparams <= SC_MAX_PARAMS, "%u params", sc.nparams);
            for (unsigned i = 0; i < sc.cpus; i++)
                FUZZ_REQUIRE(sc.cpu[i].nops <= SC_MAX_OPS, "cpu %u: %u ops", i, sc.cpu[i].nops);
            (void)sc_runs_nothing(&sc);
        }
    }
    free(text);
    return 0;
}
