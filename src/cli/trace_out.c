/*
 * trace_out.c — --trace FILE (see trace_out.h): replay one execution with an observer that
 * hands the finished run to the Chrome trace writer, into a file that replaces the old one
 * only once complete.
 */
#include <stdio.h>

#include "cli/trace_out.h"
#include "report/trace.h"
#include "util/atomic_file.h"

int cli_trace_check(const char *cmd, const char *path)
{
    char why[AF_PATH_LEN + 128];
    if (!af_check(path, why, sizeof(why)))
        return 0;
    fprintf(stderr, "%s: cannot write the trace file: %s\n", cmd, why);
    return -1;
}

struct trace_ctx {
    FILE *f;
    const char *title;
    int rc;
};

static void write_run(void *arg, const sim_world *w, const chk_result *res)
{
    struct trace_ctx *t = arg;
    if (res->verdict == CHK_INCOMPLETE) {
        t->rc = -2;
        return;
    }
    struct rep_trace_info info = {.title = t->title,
                                  .verdict = chk_verdict_name(res->verdict),
                                  .why = res->why,
                                  .verdict_t = res->outcome.t,
                                  .end = sim_now(w),
                                  .stop = chk_deadline_passed};
    t->rc = rep_trace_write(t->f, w, &info);
}

int cli_trace_write(const char *cmd, const char *path, const scenario *sc,
                    const sim_driver_ops *drv, const struct chk_pick *picks, size_t npicks,
                    const char *title)
{
    char why[AF_PATH_LEN + 128];
    af_file a;
    if (af_open(&a, path, why, sizeof(why))) {
        fprintf(stderr, "%s: cannot write the trace file: %s\n", cmd, why);
        return -1;
    }
    struct trace_ctx t = {.f = a.f, .title = title, .rc = -1};
    chk_observer obs = {.fn = write_run, .ctx = &t};
    chk_result res;
    chk_replay_observed(sc, drv, picks, npicks, NULL, &obs, &res);
    if (t.rc == -2) { /* cut by the time budget: a trace of part of a run would look whole */
        af_abort(&a);
        fprintf(stderr,
                "%s: the trace file %s was not written: its execution did not finish within the "
                "time budget (%s)\n",
                cmd, path, res.why);
        return -2;
    }
    if (t.rc && !ferror(a.f)) { /* a failed write is af_commit's to report */
        af_abort(&a);
        fprintf(stderr,
                "%s: the trace file %s was not written: the replay gave no run to "
                "write, or memory ran out\n",
                cmd, path);
        return -1;
    }
    if (af_commit(&a, why, sizeof(why))) {
        fprintf(stderr, "%s: the trace file was not written: %s\n", cmd, why);
        return -1;
    }
    return 0;
}
