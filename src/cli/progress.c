/*
 * progress.c — formatting and drawing the progress line of progress.h. Formatting is a pure
 * function of struct chk_progress (tested in tests/test_cli_progress.c); drawing rewrites the
 * line after a carriage return, padded over the longest line drawn before it.
 */
#include <math.h>
#include <string.h>

#include "cli/progress.h"
#include "util/atomic_file.h"

double cli_progress_eta(const struct chk_progress *p)
{
    double eta = INFINITY;
    if (p->executions > 0 && p->elapsed_s > 0 && p->execution_budget >= p->executions &&
        p->execution_budget != UINT64_MAX) { /* (UINT64_MAX: no execution budget) */
        double rate = (double)p->executions / p->elapsed_s;
        eta = (double)(p->execution_budget - p->executions) / rate;
    }
    if (p->time_budget_s > 0)
        eta = fmin(eta, fmax(p->time_budget_s - p->elapsed_s, 0));
    if (p->coverage > 0 && p->coverage <= 1 && p->elapsed_s > 0)
        eta = fmin(eta, p->elapsed_s * (1 - p->coverage) / p->coverage);
    return isinf(eta) ? -1 : eta;
}

/* "4.2 s", "3m07s", "2h05m" */
static void format_duration(double s, char *buf, size_t len)
{
    if (s < 60)
        snprintf(buf, len, "%.1f s", s);
    else if (s < 3600)
        snprintf(buf, len, "%um%02us", (unsigned)(s / 60), (unsigned)fmod(s, 60));
    else if (s < 360000)
        snprintf(buf, len, "%uh%02um", (unsigned)(s / 3600), (unsigned)fmod(s / 60, 60));
    else
        snprintf(buf, len, "%.0f h", s / 3600);
}

void cli_progress_format(const struct chk_progress *p, char *buf, size_t len)
{
    char elapsed[32], eta[32] = "?", coverage[48] = "";
    double rate = p->elapsed_s > 0 ? (double)p->executions / p->elapsed_s : 0;
    double left = cli_progress_eta(p);
    format_duration(p->elapsed_s, elapsed, sizeof(elapsed));
    if (left >= 0)
        format_duration(left, eta, sizeof(eta));
    /* (a share below 0.1% in two significant digits: a large unbounded search shows one) */
    double pct = 100 * fmin(p->coverage, 1);
    if (p->coverage >= 0)
        snprintf(coverage, sizeof(coverage),
                 pct > 0 && pct < 0.1 ? ", %.2g%% of the dfs space" : ", %.1f%% of the dfs space",
                 pct);
    char count[48];
    if (p->execution_budget == UINT64_MAX) /* no execution budget (--bound none) */
        snprintf(count, sizeof(count), "%llu", (unsigned long long)p->executions);
    else
        snprintf(count, sizeof(count), "%llu/%llu", (unsigned long long)p->executions,
                 (unsigned long long)p->execution_budget);
    snprintf(buf, len, "%s executions, %.0f/s, %s elapsed, ETA %s%s", count, rate, elapsed, eta,
             coverage);
}

void cli_progress_draw(void *ctx, const struct chk_progress *p)
{
    struct cli_progress_line *line = ctx;
    if (p->final) {
        if (line->width) /* blank the line and return to its start */
            fprintf(line->out, "\r%*s\r", (int)line->width, "");
        line->width = 0;
    } else {
        char text[160];
        cli_progress_format(p, text, sizeof(text));
        size_t n = strlen(text);
        fprintf(line->out, "\r%s%*s", text, line->width > n ? (int)(line->width - n) : 0, "");
        line->width = n > line->width ? n : line->width;
    }
    fflush(line->out);
    af_stderr_line_open(line->width > 0);
}
