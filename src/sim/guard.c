/*
 * guard.c — the guard around each CPU step. Driver code can loop without ever reaching a
 * platform point (an ITE walk that never meets its end index): the scheduler would never get
 * control back. When the same step has consumed step_guard_ms of the main thread's CPU time,
 * a SIGUSR2 handler running in the main thread leaves the coroutine (sim_coro_escape) and
 * long-jumps back into the scheduler, which reports the loop. CPU time rather than wall time,
 * so other processes sharing the CPU do not trigger it (a host stalling the virtual machine
 * can: see below); the verdict does not depend on when it fires, only that the step never
 * ended.
 *
 * Two ways to get the signal there, behind one small interface (struct ticker):
 *  - timer (Linux): a POSIX timer on the main thread's own CPU-time clock, created once and
 *    left running, sends the signal to that thread every quarter of the limit (at least 1 ms)
 *    of CPU time it consumes: an idle or blocked process takes no signals and there is no
 *    other thread to wake. The handler itself keeps the record (the step seen at the previous
 *    tick, and the CPU time when it was first seen) and escapes only when the step it
 *    interrupts is one it has seen running for the whole limit;
 *  - thread (fallback, where timer_create is missing or fails): a helper thread samples the
 *    step every millisecond, names the step it judged stuck in `target` and signals the main
 *    thread; the handler escapes only if it interrupts that very step, not one that began
 *    since.
 * Either way a late signal never cuts a step that has not run for the limit. A host that
 * stalls the thread inside a short step can still charge it the limit: src/check/explore.c
 * (chk__confirmed) takes a cut only when another run of the execution is cut at the same step.
 *
 * The handler is installed with SA_RESTART: with the timer it can arrive at any moment the
 * main thread runs (writing a report, reading a file), and system calls must not fail with
 * EINTR for it.
 *
 * The handler also keeps the interrupted instruction (its ucontext's program counter) in the
 * world, for naming the function that loops (sim_cpu_where).
 *
 * One simulation at a time per process uses the guard (the checker is single-threaded), on the
 * thread that first armed it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* REG_RIP in <ucontext.h> */
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "sim/world_internal.h"
#include "util/grow.h"

/* QINVAL_GUARD_THREAD (a -D in CFLAGS) builds the fallback alone, to test it. */
#if defined(__linux__) && defined(SIGEV_THREAD_ID) && defined(SYS_gettid) &&                       \
    !defined(QINVAL_GUARD_THREAD)
#define GUARD_HAVE_TIMER 1
#else
#define GUARD_HAVE_TIMER 0
#endif

#define GUARD_SIGNAL  SIGUSR2
#define GUARD_TICK_NS (1000 * 1000) /* the helper thread's period; the timer's least interval */
#define NS_PER_MS     1000000ull

/* How the signal reaches the main thread. start() runs once, on the main thread; limit() on
 * each arm, with the run's limit; due() in the handler, for a step that is running. */
struct ticker {
    bool (*start)(void);
    void (*limit)(unsigned ms);
    bool (*due)(uint64_t step);
};

static struct {
    pthread_once_t once;
    pthread_t main_thread;
    const struct ticker *ticker; /* NULL: no guard */
    _Atomic(sim_world *) world;
    /* Odd while a step runs, even between steps; every step has a value of its own, so equal
     * values seen at two moments mean one step ran all along. Only the main thread writes it. */
    _Atomic uint64_t step;
    _Atomic unsigned limit_ms;
} g = {.once = PTHREAD_ONCE_INIT};

static uint64_t cpu_ns(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t limit_ns(void)
{
    return (uint64_t)atomic_load_explicit(&g.limit_ms, memory_order_relaxed) * NS_PER_MS;
}

/* Leave the step: mark it ended (so nothing else judges it) and jump back to sim_run. */
static void escape(sim_world *w)
{
    sim__guard_step_end();
    sim_coro_escape();
    siglongjmp(w->escape, 1);
}

/* The instruction the signal interrupted, from the handler's context: where the looping
 * driver code is (a failure's signature names its function). NULL where the architecture is
 * not known here: the CPU's last platform site stands instead. */
static const void *interrupted_pc(const void *uctx)
{
    const ucontext_t *uc = uctx;
#if defined(__x86_64__) && defined(REG_RIP)
    return (const void *)(uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (const void *)(uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return NULL;
#endif
}

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
    (void)sig, (void)info;
    int saved = errno;
    sim_world *w = atomic_load(&g.world);
    uint64_t step = atomic_load_explicit(&g.step, memory_order_relaxed);
    /* grow_in_alloc: inside malloc for the simulation, not a driver loop; the next tick (or
     * the helper thread's next try) comes back to it. */
    if (w && (step & 1) && g.ticker->due(step) && sim_coro_current() && !grow_in_alloc) {
        w->guard_pc = interrupted_pc(uctx);
        escape(w);
    }
    errno = saved;
}

/* ---- timer: a CPU-time timer of the main thread ---- */
#if GUARD_HAVE_TIMER
static struct {
    timer_t id;
    uint64_t interval_ns; /* 0 until the first arm */
    /* The handler's own record; only the handler touches it, and it does not nest. */
    uint64_t seen;  /* the step running at the previous tick, or 0 */
    uint64_t since; /* CPU time of this thread when `seen` was first seen */
} tm;

static bool timer_start(void)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = GUARD_SIGNAL;
#ifdef sigev_notify_thread_id
    sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
#else
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
#endif
    return timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &tm.id) == 0;
}

/* A tick every quarter of the limit: a stuck step is cut within 1.5 limits of CPU time. Set
 * again only when the limit changes, so a run costs no system call. */
static void timer_limit(unsigned ms)
{
    uint64_t ns = (uint64_t)ms * NS_PER_MS / 4;
    if (ns < GUARD_TICK_NS)
        ns = GUARD_TICK_NS;
    if (ns == tm.interval_ns)
        return;
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    struct itimerspec its = {.it_interval = ts, .it_value = ts};
    if (timer_settime(tm.id, 0, &its, NULL) == 0)
        tm.interval_ns = ns;
}

static bool timer_due(uint64_t step)
{
    uint64_t now = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
    if (step != tm.seen) {
        tm.seen = step;
        tm.since = now;
        return false;
    }
    return now - tm.since >= limit_ns();
}

static const struct ticker timer_ticker = {timer_start, timer_limit, timer_due};
#endif

/* ---- thread: a helper thread samples the step ---- */
static struct {
    clockid_t main_clock;
    _Atomic uint64_t target; /* the step the helper judged stuck and signalled, or 0 */
} th;

static void *watch(void *arg)
{
    (void)arg;
    uint64_t seen = 0, since = 0;
    struct timespec tick = {0, GUARD_TICK_NS};
    for (;;) {
        nanosleep(&tick, NULL);
        uint64_t step = atomic_load(&g.step), now = cpu_ns(th.main_clock);
        if (!atomic_load(&g.world) || !(step & 1)) {
            seen = 0;
        } else if (step != seen) {
            seen = step;
            since = now;
        } else if (now - since >= limit_ns()) {
            atomic_store(&th.target, step);
            pthread_kill(g.main_thread, GUARD_SIGNAL);
            seen = 0; /* once per stuck step: judged afresh if the handler could not leave */
        }
    }
    return NULL;
}

static bool thread_start(void)
{
    if (pthread_getcpuclockid(g.main_thread, &th.main_clock) != 0)
        return false;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    bool ok = pthread_create(&t, &attr, watch, NULL) == 0;
    pthread_attr_destroy(&attr);
    return ok;
}

static void thread_limit(unsigned ms)
{
    (void)ms; /* the helper reads g.limit_ms at each sample */
}

static bool thread_due(uint64_t step)
{
    return step == atomic_load(&th.target);
}

static const struct ticker thread_ticker = {thread_start, thread_limit, thread_due};

/* ---- the interface to world.c ---- */

/* The handler runs on a stack of its own where it can: the timer's tick lands at any moment,
 * mostly inside a coroutine, and a signal frame there would make pooled coroutine stacks look
 * deeper than any driver used them (coro.c zeroes what may have been written, for good). An
 * alternate stack the thread already has is used as it is. Not under AddressSanitizer, whose
 * bookkeeping of the stack a long jump leaves expects the jump to start on a known stack. */
#define GUARD_ALTSTACK_BYTES (64 * 1024)

static bool own_stack(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return false;
#else
    static char *mem;
    stack_t old;
    if (sigaltstack(NULL, &old) != 0)
        return false;
    if (!(old.ss_flags & SS_DISABLE))
        return true;
    mem = malloc(GUARD_ALTSTACK_BYTES);
    if (!mem)
        return false;
    stack_t ss = {.ss_sp = mem, .ss_size = GUARD_ALTSTACK_BYTES, .ss_flags = 0};
    return sigaltstack(&ss, NULL) == 0;
#endif
}

static void start(void)
{
    g.main_thread = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | (own_stack() ? SA_ONSTACK : 0);
    sigemptyset(&sa.sa_mask);
    if (sigaction(GUARD_SIGNAL, &sa, NULL) != 0)
        return;
#if GUARD_HAVE_TIMER
    if (timer_ticker.start()) {
        g.ticker = &timer_ticker;
        return;
    }
#endif
    if (thread_ticker.start())
        g.ticker = &thread_ticker;
}

void sim__guard_arm(sim_world *w)
{
    pthread_once(&g.once, start);
    if (!g.ticker || !pthread_equal(pthread_self(), g.main_thread))
        return; /* no guard: a loop without platform points would then hang the checker */
    unsigned ms = w->cfg.step_guard_ms ? w->cfg.step_guard_ms : 20;
    atomic_store(&g.limit_ms, ms);
    g.ticker->limit(ms);
    atomic_store(&g.world, w);
}

/* Only the main thread writes the step counter: a plain load and store, no locked add. A
 * begin always makes a fresh odd value and an end an even one, so the parity says "in a step"
 * even if a begin or an end were ever left unpaired. */
void sim__guard_step_begin(void)
{
    uint64_t step = atomic_load_explicit(&g.step, memory_order_relaxed);
    atomic_store_explicit(&g.step, (step + 1) | 1, memory_order_relaxed);
}

void sim__guard_step_end(void)
{
    uint64_t step = atomic_load_explicit(&g.step, memory_order_relaxed);
    atomic_store_explicit(&g.step, step + (step & 1), memory_order_relaxed);
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
    sim__guard_step_end(); /* no step runs any more */
}
