/*
 * coro_switch.c — benchmark of the simulator's coroutine switch (src/sim/coro.c): nanoseconds
 * per context switch of sim_coro, with whichever backend was built, against a plain
 * getcontext/makecontext/swapcontext ping-pong written inline here as the baseline. A
 * resume+yield round trip counts as two switches. Each measurement is repeated and the best
 * repetition is reported (the least disturbed by other load); the two kinds alternate so that
 * drift hits both alike. This is the only place in qinval that reads a clock.
 *
 * Usage: coro_switch [round_trips [repetitions]]   (defaults: 10000000 and 3)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

#include "sim/coro.h"

#define BASELINE_STACK (64u * 1024u)

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- sim_coro ---- */

static void yield_n(void *arg)
{
    unsigned long n = *(const unsigned long *)arg;
    for (unsigned long i = 0; i < n; i++)
        sim_coro_yield();
}

/* ns per switch over n round trips (n yields, then one last resume that lets it return). */
static double bench_sim_coro(unsigned long n)
{
    sim_coro *c = sim_coro_create(yield_n, &n, 0);
    if (c == NULL) {
        fprintf(stderr, "coro_switch: sim_coro_create failed\n");
        exit(1);
    }
    unsigned long resumes = 0;
    double t0 = now_ns();
    while (sim_coro_resume(c) == 1)
        resumes++;
    double t1 = now_ns();
    resumes++;
    sim_coro_destroy(c);
    if (resumes != n + 1) {
        fprintf(stderr, "coro_switch: %lu resumes, expected %lu\n", resumes, n + 1);
        exit(1);
    }
    return (t1 - t0) / (2.0 * (double)resumes);
}

/* ---- swapcontext baseline ---- */

static ucontext_t base_main, base_coro;

static void base_loop(void)
{
    for (;;)
        swapcontext(&base_coro, &base_main);
}

static double bench_swapcontext(unsigned long n)
{
    void *stack = malloc(BASELINE_STACK);
    if (stack == NULL || getcontext(&base_coro) != 0) {
        fprintf(stderr, "coro_switch: cannot set up the swapcontext baseline\n");
        exit(1);
    }
    base_coro.uc_stack.ss_sp = stack;
    base_coro.uc_stack.ss_size = BASELINE_STACK;
    base_coro.uc_link = NULL;
    makecontext(&base_coro, base_loop, 0);
    double t0 = now_ns();
    for (unsigned long i = 0; i < n; i++)
        swapcontext(&base_main, &base_coro);
    double t1 = now_ns();
    free(stack); /* base_loop is parked forever; its stack simply goes away */
    return (t1 - t0) / (2.0 * (double)n);
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000000ul;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    if (n == 0 || reps < 1 || argc > 3) {
        fprintf(stderr, "usage: coro_switch [round_trips [repetitions]]\n");
        return 2;
    }

    /* Warm up caches, the branch predictors and the stacks' pages. */
    bench_sim_coro(n / 100 + 1);
    bench_swapcontext(n / 100 + 1);

    double best_coro = 0, best_base = 0;
    for (int r = 0; r < reps; r++) {
        double a = bench_sim_coro(n);
        double b = bench_swapcontext(n);
        if (r == 0 || a < best_coro)
            best_coro = a;
        if (r == 0 || b < best_base)
            best_base = b;
    }

    char coro_name[48];
    snprintf(coro_name, sizeof(coro_name), "sim_coro (%s)", sim_coro_backend());
    printf("context switch cost, %lu round trips (2 switches each), best of %d\n", n, reps);
    printf("  %-24s %10s %12s\n", "implementation", "ns/switch", "vs baseline");
    printf("  %-24s %10.2f %11.2fx\n", coro_name, best_coro, best_coro / best_base);
    printf("  %-24s %10.2f %11.2fx\n", "swapcontext (baseline)", best_base, 1.0);
    printf("  speed-up of sim_coro over swapcontext: %.1fx\n", best_base / best_coro);
    return 0;
}
