/*
 * guard.c — the guard around each CPU step. Driver code can loop without ever reaching a
 * platform point (an ITE walk that never meets its end index): the scheduler would never get
 * control back. A helper thread samples a step counter every few milliseconds; when the same
 * step has consumed more than step_guard_ms of the main thread's CPU time, it signals the main
 * thread, whose handler leaves the coroutine (sim_coro_escape) and long-jumps back into the
 * scheduler, which reports the loop. CPU time rather than wall time, so a loaded machine does not
 * trigger it; the verdict does not depend on when it fires, only that the step never ended.
 *
 * One simulation at a time per process uses the guard (the checker is single-threaded).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "sim/world_internal.h"
#include "util/grow.h"

#define GUARD_SIGNAL  SIGUSR2
#define GUARD_TICK_NS (1000 * 1000)

static struct {
    pthread_once_t once;
    pthread_t main_thread;
    clockid_t main_clock;
    bool ok;
    _Atomic(sim_world *) world;
    _Atomic uint64_t step; /* bumped at every step start */
    _Atomic int in_step;
    _Atomic unsigned limit_ms;
} g = {.once = PTHREAD_ONCE_INIT};

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(g.main_clock, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_signal(int sig)
{
    (void)sig;
    sim_world *w = atomic_load(&g.world);
    if (!w || !atomic_load(&g.in_step) || !sim_coro_current())
        return; /* the step ended meanwhile */
    if (grow_in_alloc)
        return; /* inside malloc for the simulation: not a driver loop; the watcher retries */
    atomic_store(&g.in_step, 0);
    sim_coro_escape();
    siglongjmp(w->escape, 1);
}

static void *watch(void *arg)
{
    (void)arg;
    uint64_t seen = UINT64_MAX, since = 0;
    struct timespec tick = {0, GUARD_TICK_NS};
    for (;;) {
        nanosleep(&tick, NULL);
        if (!atomic_load(&g.world) || !atomic_load(&g.in_step)) {
            seen = UINT64_MAX;
            continue;
        }
        uint64_t step = atomic_load(&g.step), now = cpu_ns();
        if (step != seen) {
            seen = step;
            since = now;
            continue;
        }
        if (now - since >= (uint64_t)atomic_load(&g.limit_ms) * 1000000ull) {
            pthread_kill(g.main_thread, GUARD_SIGNAL);
            seen = UINT64_MAX; /* once per stuck step */
        }
    }
    return NULL;
}

static void start(void)
{
    g.main_thread = pthread_self();
    if (pthread_getcpuclockid(g.main_thread, &g.main_clock) != 0)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(GUARD_SIGNAL, &sa, NULL) != 0)
        return;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    g.ok = pthread_create(&t, &attr, watch, NULL) == 0;
    pthread_attr_destroy(&attr);
}

void sim__guard_arm(sim_world *w)
{
    pthread_once(&g.once, start);
    if (!g.ok || !pthread_equal(pthread_self(), g.main_thread))
        return; /* no guard: a loop without platform points would then hang the checker */
    atomic_store(&g.limit_ms, w->cfg.step_guard_ms ? w->cfg.step_guard_ms : 20);
    atomic_store(&g.world, w);
}

/* Only the main thread writes the step counter: a plain load and store, no locked add. */
void sim__guard_step_begin(void)
{
    uint64_t step = atomic_load_explicit(&g.step, memory_order_relaxed);
    atomic_store_explicit(&g.step, step + 1, memory_order_relaxed);
    atomic_store_explicit(&g.in_step, 1, memory_order_relaxed);
}

void sim__guard_step_end(void)
{
    atomic_store_explicit(&g.in_step, 0, memory_order_relaxed);
}

/* The handler was left by siglongjmp without restoring the signal mask, so the guard's
 * signal is still blocked as it was inside the handler: unblock it for the next run. */
void sim__guard_landed(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, GUARD_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

void sim__guard_disarm(void)
{
    atomic_store(&g.world, NULL);
    atomic_store(&g.in_step, 0);
}
