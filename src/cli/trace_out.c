/*
 * trace_out.c — --trace FILE (see trace_out.h): replay one execution with an observer that
 * hands the finished run to the Chrome trace writer.
 */
#include <errno.h>
#include <string.h>

#include "cli/trace_out.h"
#include "report/trace.h"

FILE *cli_trace_open(const char *cmd, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "%s: cannot write the trace file %s: %s\n", cmd, path, strerror(errno));
    return f;
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

int cli_trace_write(const char *cmd, FILE *f, const char *path, const scenario *sc,
                    const sim_driver_ops *drv, const struct chk_pick *picks, size_t npicks,
                    const char *title)
{
    struct trace_ctx t = {.f = f, .title = title, .rc = -1};
    chk_observer obs = {.fn = write_run, .ctx = &t};
    chk_result res;
    chk_replay_observed(sc, drv, picks, npicks, NULL, &obs, &res);
    if (fclose(f) && !t.rc)
        t.rc = -1;
    if (t.rc == -2)
        fprintf(stderr,
                "%s: the trace file %s was not written: its execution did not finish within the "
                "time budget (%s)\n",
                cmd, path, res.why);
    else if (t.rc)
        fprintf(stderr, "%s: writing the trace file %s failed\n", cmd, path);
    return t.rc;
}
