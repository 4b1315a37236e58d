/*
 * test_sim_coro.c — unit tests of the simulator's coroutine layer (src/sim/coro.c): ping-pong
 * between the main context and two coroutines, immediate return, destroy in every state,
 * transfers (a chain A -> B -> A, a coroutine that finishes after a transfer, destroy of one
 * suspended in a transfer, the guard's escape from one entered by a transfer), deep
 * recursion on a 64 KiB stack, the guard page, callee-saved integer and floating-point state and
 * the per-coroutine rounding mode across switches, 10,000 create/run/destroy cycles, current(),
 * the misuse answers of resume() and transfer(), and that a stack reused from the pool looks fresh,
 * also after a coroutine went deeper on it than the pool knew. Checks made inside a coroutine are
 * recorded and asserted on the main context, so that a cmocka failure never longjmps across stacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fenv.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/coro.h"
#include "util/faults.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#define NOINLINE __attribute__((noinline))

static void test_backend_name(void **state)
{
    (void)state;
    const char *b = sim_coro_backend();
#if defined(QINVAL_CORO_UCONTEXT)
    assert_string_equal(b, "ucontext");
#elif defined(__x86_64__) && defined(__ELF__)
    assert_string_equal(b, "asm-x86_64");
#elif defined(__aarch64__) && defined(__ELF__)
    assert_string_equal(b, "asm-aarch64");
#else
    assert_string_equal(b, "ucontext");
#endif
}

/* ---- ping-pong ------------------------------------------------------------------------- */

struct pingpong {
    int mailbox; /* written by main before each resume */
    int log[32]; /* who ran, in order: 100+i for A's step i, 200+i for B's */
    int n;
    int echo_a; /* last mailbox value A saw */
    int echo_b;
    int bad; /* checks inside the coroutines that failed */
    sim_coro *self_a, *self_b;
};

/* The frame pointer register as it is now (the caller uses one: __builtin_frame_address). */
__attribute__((always_inline)) static inline uintptr_t frame_pointer(void)
{
    uintptr_t v = 0;
#if defined(__x86_64__)
    __asm__ volatile("mov %%rbp, %0" : "=r"(v));
#elif defined(__aarch64__)
    __asm__ volatile("mov %0, x29" : "=r"(v));
#else
    v = (uintptr_t)__builtin_frame_address(0);
#endif
    return v;
}

static void pp_a(void *arg)
{
    struct pingpong *p = arg;
    for (int i = 0; i < 5; i++) {
        if (sim_coro_current() != p->self_a)
            p->bad++;
        p->echo_a = p->mailbox;
        p->log[p->n++] = 100 + i;
        uintptr_t fp = frame_pointer(); /* the frame pointer register survives too */
        sim_coro_yield();
        if (frame_pointer() != fp || fp != (uintptr_t)__builtin_frame_address(0))
            p->bad++;
    }
}

static void pp_b(void *arg)
{
    struct pingpong *p = arg;
    for (int i = 0; i < 3; i++) {
        if (sim_coro_current() != p->self_b)
            p->bad++;
        p->echo_b = -p->mailbox;
        p->log[p->n++] = 200 + i;
        sim_coro_yield();
    }
}

static void test_ping_pong(void **state)
{
    (void)state;
    struct pingpong p = {0};
    sim_coro *a = sim_coro_create(pp_a, &p, 0);
    sim_coro *b = sim_coro_create(pp_b, &p, 0);
    assert_non_null(a);
    assert_non_null(b);
    p.self_a = a;
    p.self_b = b;
    assert_false(sim_coro_done(a));
    assert_null(sim_coro_current());

    /* A yields 5 times then returns on its 6th resume; B yields 3 times, returns on its 4th. */
    static const int expect_a[] = {1, 1, 1, 1, 1, 0};
    static const int expect_b[] = {1, 1, 1, 0};
    int na = 0, nb = 0, expect_n = 0;
    for (int round = 0; round < 6; round++) {
        p.mailbox = 10 * round + 1;
        assert_int_equal(sim_coro_resume(a), expect_a[na++]);
        assert_null(sim_coro_current());
        if (round < 5) {
            assert_int_equal(p.n, ++expect_n);
            assert_int_equal(p.log[p.n - 1], 100 + round);
            assert_int_equal(p.echo_a, 10 * round + 1);
        } else {
            assert_int_equal(p.n, expect_n); /* the last resume only ran the loop exit */
            assert_true(sim_coro_done(a));
        }
        if (round < 4) {
            p.mailbox = 10 * round + 2;
            assert_int_equal(sim_coro_resume(b), expect_b[nb++]);
            if (round < 3) {
                assert_int_equal(p.n, ++expect_n);
                assert_int_equal(p.log[p.n - 1], 200 + round);
                assert_int_equal(p.echo_b, -(10 * round + 2));
            } else {
                assert_true(sim_coro_done(b));
            }
        }
    }
    static const int order[] = {100, 200, 101, 201, 102, 202, 103, 104};
    assert_int_equal(p.n, 8);
    assert_memory_equal(p.log, order, sizeof(order));
    assert_int_equal(p.bad, 0);
    assert_int_equal(sim_coro_resume(a), -1); /* finished */
    assert_int_equal(sim_coro_resume(b), -1);
    sim_coro_destroy(a);
    sim_coro_destroy(b);
}

/* ---- immediate return, misuse, destroy ------------------------------------------------- */

static void count_once(void *arg)
{
    ++*(int *)arg;
}

/* Life goes on: a new coroutine (on whatever stack the pool gives) runs to its end normally. */
static void check_fresh_coro_runs(void)
{
    int ran = 0;
    sim_coro *c = sim_coro_create(count_once, &ran, 0);
    assert_non_null(c);
    assert_int_equal(sim_coro_resume(c), 0);
    assert_int_equal(ran, 1);
    sim_coro_destroy(c);
}

static void test_returns_immediately(void **state)
{
    (void)state;
    int ran = 0;
    sim_coro *c = sim_coro_create(count_once, &ran, 4096);
    assert_non_null(c);
    assert_int_equal(ran, 0); /* nothing runs before the first resume */
    assert_int_equal(sim_coro_resume(c), 0);
    assert_int_equal(ran, 1);
    assert_true(sim_coro_done(c));
    assert_int_equal(sim_coro_resume(c), -1);
    assert_int_equal(ran, 1);
    sim_coro_destroy(c);
}

struct nested {
    sim_coro *other;
    sim_coro *self;
    int from_inside_other; /* resume(other) from inside: must be -1 */
    int from_inside_self;
    int steps;
};

static void nested_fn(void *arg)
{
    struct nested *n = arg;
    n->from_inside_other = sim_coro_resume(n->other);
    n->from_inside_self = sim_coro_resume(n->self);
    n->steps++;
    sim_coro_yield();
    n->steps++;
}

static void test_misuse(void **state)
{
    (void)state;
    int ran = 0;
    struct nested n = {0};
    assert_null(sim_coro_create(NULL, NULL, 0));
    assert_null(sim_coro_create(count_once, &ran, SIZE_MAX));
    assert_int_equal(sim_coro_resume(NULL), -1);
    sim_coro_destroy(NULL);

    n.other = sim_coro_create(count_once, &ran, 0);
    n.self = sim_coro_create(nested_fn, &n, 0);
    assert_non_null(n.other);
    assert_non_null(n.self);
    assert_int_equal(sim_coro_resume(n.self), 1);
    assert_int_equal(n.from_inside_other, -1);
    assert_int_equal(n.from_inside_self, -1);
    assert_int_equal(ran, 0); /* the nested resume did not run it */
    assert_false(sim_coro_done(n.other));
    assert_int_equal(sim_coro_resume(n.self), 0);
    assert_int_equal(n.steps, 2);
    assert_int_equal(sim_coro_resume(n.other), 0); /* still fine from main */
    assert_int_equal(ran, 1);
    sim_coro_destroy(n.other);
    sim_coro_destroy(n.self);
}

struct suspended {
    int reached; /* how far the coroutine got */
    int after;   /* set if anything ran after the yield it was destroyed in */
    char fill[3000];
};

static NOINLINE void suspend_deep(struct suspended *s, int depth)
{
    char local[512];
    memset(local, depth, sizeof(local));
    if (depth == 0) {
        s->reached = 1;
        sim_coro_yield();
        s->after = 1;
    } else {
        suspend_deep(s, depth - 1);
    }
    s->fill[depth] = local[depth];
}

static void suspend_fn(void *arg)
{
    struct suspended *s = arg;
    suspend_deep(s, 8);
    s->after = 2;
}

static void test_destroy_suspended(void **state)
{
    (void)state;
    struct suspended s = {0};

    /* Never resumed. */
    sim_coro *c = sim_coro_create(suspend_fn, &s, 0);
    assert_non_null(c);
    sim_coro_destroy(c);
    assert_int_equal(s.reached, 0);

    /* Suspended several calls deep; repeated so that stack addresses get reused. */
    for (int i = 0; i < 50; i++) {
        memset(&s, 0, sizeof(s));
        c = sim_coro_create(suspend_fn, &s, 0);
        assert_non_null(c);
        assert_int_equal(sim_coro_resume(c), 1);
        assert_int_equal(s.reached, 1);
        assert_false(sim_coro_done(c));
        sim_coro_destroy(c);
        assert_int_equal(s.after, 0);
        assert_null(sim_coro_current());
    }

    /*
     * A destroyed stack leaves nothing behind: under ASan the abandoned frames' redzones must
     * not stay poisoned, or plain memory later mapped at the same address would be reported.
     * The kernel normally hands the same range back for a mapping of the same size.
     */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t len = SIM_CORO_DEFAULT_STACK + page;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += ((volatile unsigned char *)m)[i];
    assert_int_equal(sum, 0);
    munmap(m, len);

    check_fresh_coro_runs(); /* on (possibly) the same addresses */
}

/* ---- transfer: one coroutine hands the thread straight to another ---------------------- */

struct xfer {
    sim_coro *a, *b;
    int log[16]; /* who ran, in order */
    int n;
    int bad;       /* checks inside the coroutines that failed */
    int misuse[3]; /* A's transfer(NULL), transfer(itself), transfer(a finished one) */
    sim_coro *done_one;
    int result; /* computed by a coroutine that finishes after being transferred to */
};

static void xfer_check(struct xfer *x, sim_coro *self, int rc)
{
    if (sim_coro_current() != self || rc != 0)
        x->bad++;
}

/* Log `tag`, then transfer to `to`; back here, self must be the current coroutine again. */
static void xfer_hop(struct xfer *x, sim_coro *self, int tag, sim_coro *to)
{
    x->log[x->n++] = tag;
    xfer_check(x, self, sim_coro_transfer(to));
}

/* A: 10, -> B, 12, yield, 14, -> B (which finishes), 16, returns. */
static void xfer_a(void *arg)
{
    struct xfer *x = arg;
    xfer_check(x, x->a, 0);
    xfer_hop(x, x->a, 10, x->b);
    x->log[x->n++] = 12;
    x->misuse[0] = sim_coro_transfer(NULL);
    x->misuse[1] = sim_coro_transfer(x->a);
    x->misuse[2] = sim_coro_transfer(x->done_one);
    sim_coro_yield();
    xfer_check(x, x->a, 0);
    xfer_hop(x, x->a, 14, x->b);
    x->log[x->n++] = 16;
}

/* B: 11, -> A, 15, computes, returns (to main, not to A). */
static void xfer_b(void *arg)
{
    struct xfer *x = arg;
    xfer_check(x, x->b, 0);
    xfer_hop(x, x->b, 11, x->a);
    x->log[x->n++] = 15;
    for (int i = 1; i <= 10; i++)
        x->result += i * i;
}

static void test_transfer_chain(void **state)
{
    (void)state;
    int ran = 0;
    struct xfer x = {0};
    x.a = sim_coro_create(xfer_a, &x, 0);
    x.b = sim_coro_create(xfer_b, &x, 0);
    x.done_one = sim_coro_create(count_once, &ran, 0);
    assert_true(x.a && x.b && x.done_one);
    assert_int_equal(sim_coro_transfer(x.b), -1); /* from the main context */
    assert_false(sim_coro_done(x.b));
    assert_int_equal(sim_coro_resume(x.done_one), 0);
    assert_ptr_equal(sim_coro_last(), x.done_one);

    /* A -> B -> A, then A yields: main sees A come back. */
    assert_int_equal(sim_coro_resume(x.a), 1);
    assert_null(sim_coro_current());
    assert_ptr_equal(sim_coro_last(), x.a);
    assert_int_equal(x.n, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(x.misuse[i], -1);

    /* A -> B, and B's function returns: main learns that B, not A, is done. */
    assert_int_equal(sim_coro_resume(x.a), 0);
    assert_null(sim_coro_current());
    assert_ptr_equal(sim_coro_last(), x.b);
    assert_true(sim_coro_done(x.b));
    assert_false(sim_coro_done(x.a));
    assert_int_equal(x.result, 385);
    assert_int_equal(sim_coro_resume(x.b), -1);

    /* A, suspended in its transfer, goes on when main resumes it. */
    assert_int_equal(sim_coro_resume(x.a), 0);
    assert_ptr_equal(sim_coro_last(), x.a);
    assert_true(sim_coro_done(x.a));
    assert_null(sim_coro_current());

    static const int want[] = {10, 11, 12, 14, 15, 16};
    assert_int_equal(x.n, 6);
    assert_memory_equal(x.log, want, sizeof(want));
    assert_int_equal(x.bad, 0);
    sim_coro_destroy(x.a);
    assert_null(sim_coro_last()); /* it named a, which is gone */
    sim_coro_destroy(x.b);
    sim_coro_destroy(x.done_one);
}

/* A coroutine that never ran, entered by a transfer, runs to its end: the resume of the one
 * that transferred returns 0 for it, and the transferring one stays suspended. */
struct fresh {
    sim_coro *self, *to;
    int steps, bad;
    long sum;
};

static void fresh_from(void *arg)
{
    struct fresh *f = arg;
    f->steps++;
    if (sim_coro_transfer(f->to) != 0)
        f->bad++;
    f->steps += 100; /* never: destroyed while suspended (ASan re-enters it only to exit) */
}

static void fresh_to(void *arg)
{
    struct fresh *f = arg;
    if (sim_coro_current() != f->to)
        f->bad++;
    f->steps++;
    for (long i = 1; i <= 1000; i++)
        f->sum += i;
}

static void test_transfer_to_new_finishes(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        struct fresh f = {0};
        f.self = sim_coro_create(fresh_from, &f, 0);
        f.to = sim_coro_create(fresh_to, &f, 0);
        assert_true(f.self && f.to);
        assert_int_equal(sim_coro_resume(f.self), 0);
        assert_ptr_equal(sim_coro_last(), f.to);
        assert_null(sim_coro_current());
        assert_true(sim_coro_done(f.to));
        assert_false(sim_coro_done(f.self));
        assert_int_equal(f.sum, 500500);
        assert_int_equal(f.steps, 2);
        assert_int_equal(f.bad, 0);
        /* Destroy the one suspended by its transfer: its frames are abandoned. */
        sim_coro_destroy(f.self);
        sim_coro_destroy(f.to);
        assert_int_equal(f.steps, 2);
        assert_null(sim_coro_current());
    }
}

/* Destroying a coroutine suspended in a transfer, from main and from inside the coroutine it
 * transferred to; the stack it leaves behind is reused as a fresh one. */
struct victim {
    sim_coro *a, *b;
    int after_a; /* anything A ran after its transfer */
    int b_steps;
    int destroy_from_b;
};

static void victim_a(void *arg)
{
    struct victim *v = arg;
    sim_coro_transfer(v->b);
    v->after_a = 1;
}

static void victim_b(void *arg)
{
    struct victim *v = arg;
    v->b_steps++;
    if (v->destroy_from_b) {
        sim_coro_destroy(v->a);
        v->a = NULL;
    }
    sim_coro_yield();
    v->b_steps++;
}

static void test_destroy_suspended_by_transfer(void **state)
{
    (void)state;
    for (int from_b = 0; from_b < 2; from_b++)
        for (int round = 0; round < 20; round++) {
            struct victim v = {.destroy_from_b = from_b};
            v.a = sim_coro_create(victim_a, &v, 0);
            v.b = sim_coro_create(victim_b, &v, 0);
            assert_true(v.a && v.b);
            assert_int_equal(sim_coro_resume(v.a), 1); /* B yielded */
            assert_ptr_equal(sim_coro_last(), v.b);
            assert_int_equal(v.b_steps, 1);
            if (!from_b) {
                assert_false(sim_coro_done(v.a));
                sim_coro_destroy(v.a);
            } else {
                assert_null(v.a);
            }
            assert_int_equal(v.after_a, 0);
            assert_null(sim_coro_current());
            assert_int_equal(sim_coro_resume(v.b), 0);
            assert_ptr_equal(sim_coro_last(), v.b);
            assert_int_equal(v.b_steps, 2);
            assert_int_equal(v.after_a, 0);
            sim_coro_destroy(v.b);
        }
    check_fresh_coro_runs();
}

/* The guard's way out (sim_coro_escape, then siglongjmp to the main context) from a coroutine
 * that was entered by a transfer, not by a resume: main's saved state is still the resume's. */
static sigjmp_buf g_escape_jb;

struct escaper {
    sim_coro *a, *b;
    int after; /* anything that ran after the escape or in A after its transfer */
};

static void escaper_a(void *arg)
{
    struct escaper *e = arg;
    sim_coro_transfer(e->b);
    e->after++;
}

static void escaper_b(void *arg)
{
    (void)arg;
    sim_coro_escape();
    siglongjmp(g_escape_jb, 1);
}

static void test_escape_after_transfer(void **state)
{
    (void)state;
    static struct escaper e; /* static: read after the siglongjmp */
    for (int round = 0; round < 20; round++) {
        memset(&e, 0, sizeof(e));
        e.a = sim_coro_create(escaper_a, &e, 0);
        e.b = sim_coro_create(escaper_b, &e, 0);
        assert_true(e.a && e.b);
        if (sigsetjmp(g_escape_jb, 0) == 0) {
            sim_coro_resume(e.a);
            fail_msg("the escape did not land on the main context");
        }
        sim_coro_escaped();
        assert_null(sim_coro_current());
        assert_ptr_equal(sim_coro_last(), e.b);
        assert_true(sim_coro_done(e.b));
        assert_false(sim_coro_done(e.a)); /* suspended in its transfer, intact */
        assert_int_equal(sim_coro_resume(e.b), -1);
        /* A can still be resumed: its frames were saved by the transfer. */
        assert_int_equal(sim_coro_resume(e.a), 0);
        assert_ptr_equal(sim_coro_last(), e.a);
        assert_int_equal(e.after, 1);
        sim_coro_destroy(e.a);
        sim_coro_destroy(e.b);
    }
    check_fresh_coro_runs(); /* and the thread goes on as before */
}

/* ---- deep recursion -------------------------------------------------------------------- */

#define DEEP_STACK  (64u * 1024u)
#define DEEP_TARGET (52u * 1024u) /* frames below the entry frame: ~80% of the stack */
#define DEEP_BUF    192

struct deep {
    uintptr_t top;    /* frame address of the coroutine's entry function */
    size_t used;      /* bytes of stack below it at the deepest point */
    unsigned depth;   /* recursion depth reached */
    unsigned corrupt; /* locals that changed while suspended or on the way up */
    unsigned long sum;
};

static NOINLINE unsigned long recurse(struct deep *d, unsigned depth)
{
    volatile unsigned char buf[DEEP_BUF];
    for (unsigned i = 0; i < DEEP_BUF; i++)
        buf[i] = (unsigned char)(depth * 31u + i);
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    unsigned long sum;
    if (d->top - here >= DEEP_TARGET || depth >= 100000) {
        d->used = d->top - here;
        d->depth = depth;
        sim_coro_yield(); /* suspended with the stack nearly full */
        sum = 0;
    } else {
        sum = recurse(d, depth + 1);
    }
    for (unsigned i = 0; i < DEEP_BUF; i++)
        if (buf[i] != (unsigned char)(depth * 31u + i))
            d->corrupt++;
    return sum + buf[depth % DEEP_BUF];
}

static void deep_fn(void *arg)
{
    struct deep *d = arg;
    d->top = (uintptr_t)__builtin_frame_address(0);
    d->sum = recurse(d, 1);
}

/* Dirty a good deal of the main stack while the coroutine is suspended. */
static NOINLINE unsigned main_stack_churn(unsigned seed)
{
    volatile unsigned char big[32 * 1024];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (unsigned char)(seed + i);
    return big[seed % sizeof(big)];
}

static void test_deep_recursion(void **state)
{
    (void)state;
    struct deep d = {0};
    sim_coro *c = sim_coro_create(deep_fn, &d, DEEP_STACK);
    assert_non_null(c);
    assert_int_equal(sim_coro_resume(c), 1);
    assert_true(d.used >= DEEP_TARGET);
    assert_true(d.used < DEEP_STACK);
    assert_true(d.depth > 10);
    (void)main_stack_churn(7);
    assert_int_equal(sim_coro_resume(c), 0);
    assert_int_equal(d.corrupt, 0);
    unsigned long expect = 0;
    for (unsigned k = 1; k <= d.depth; k++)
        expect += (unsigned char)(k * 31u + k % DEEP_BUF);
    assert_int_equal(d.sum, expect);
    sim_coro_destroy(c);
}

/* ---- guard page ------------------------------------------------------------------------ */

static volatile unsigned long runaway_limit = 1ul << 30; /* far beyond any stack */

static NOINLINE unsigned long runaway(unsigned long n)
{
    volatile unsigned char buf[256];
    if (n >= runaway_limit)
        return 0;
    buf[n % sizeof(buf)] = (unsigned char)n;
    return runaway(n + 1) + buf[(n + 1) % sizeof(buf)]; /* not a tail call */
}

static void runaway_fn(void *arg)
{
    *(unsigned long *)arg = runaway(0);
}

static void test_guard_page(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Child: overflow a 16 KiB coroutine stack. Silence the sanitizer's report, if any. */
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        unsigned long sink = 0;
        sim_coro *c = sim_coro_create(runaway_fn, &sink, 16 * 1024);
        if (c == NULL)
            _exit(3);
        sim_coro_resume(c);
        _exit(0); /* the overflow went unnoticed */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        assert_true(sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT);
    } else {
        /* ASan catches the fault itself and exits with status 1. */
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 1);
    }
}

/* ---- callee-saved registers and floating point ----------------------------------------- */

/*
 * mix() keeps 14 integers and 8 doubles live across every call of hook, so with optimisation
 * they sit in callee-saved registers (or spill slots) across the switches. Run with a no-op hook
 * it gives the reference; run inside coroutines with sim_coro_yield as hook, and on main with a
 * hook that resumes those coroutines, all three must agree with it.
 */
struct mixres {
    uint64_t u;
    double d;
};

static NOINLINE uint64_t opaque(uint64_t x)
{
    __asm__ volatile("" : "+r"(x));
    return x * 0x9E3779B97F4A7C15ull + 1;
}

static NOINLINE struct mixres mix(uint64_t seed, int rounds, void (*hook)(void *), void *hook_arg)
{
    uint64_t v0 = opaque(seed), v1 = opaque(v0), v2 = opaque(v1), v3 = opaque(v2);
    uint64_t v4 = opaque(v3), v5 = opaque(v4), v6 = opaque(v5), v7 = opaque(v6);
    uint64_t v8 = opaque(v7), v9 = opaque(v8), v10 = opaque(v9), v11 = opaque(v10);
    uint64_t v12 = opaque(v11), v13 = opaque(v12);
    double d0 = (double)(v0 >> 40), d1 = (double)(v1 >> 40) * 0.5, d2 = (double)(v2 >> 44) + 0.25;
    double d3 = (double)(v3 >> 41) / 3.0, d4 = (double)(v4 >> 42) * 1.5,
           d5 = 1.0 / (double)(v5 | 1);
    double d6 = (double)(v6 >> 45) - 7.0, d7 = (double)(v7 >> 43) / 7.0;
    for (int r = 0; r < rounds; r++) {
        hook(hook_arg);
        v0 = v0 * 3 + v13;
        v1 ^= v0 >> 7;
        v2 += v1 * 5;
        v3 = (v3 << 9 | v3 >> 55) ^ v2;
        v4 -= v3;
        v5 = v5 * 0x100000001B3ull ^ v4;
        v6 += v5 >> 3;
        v7 ^= v6 * 9;
        v8 = (v8 << 13 | v8 >> 51) + v7;
        v9 -= v8 ^ 0x55;
        v10 += v9 * 17;
        v11 ^= v10 >> 11;
        v12 = v12 * 7 + v11;
        v13 ^= v12 + (uint64_t)r;
        d0 = d0 * 0.75 + d7 * 0.25 + 1.0;
        d1 = d1 * 0.5 + d0 / 3.0;
        d2 = d2 * 1.25 - d1 * 0.125;
        d3 = d3 / 1.5 + d2;
        d4 = d4 * 0.875 + d3 * 0.0625;
        d5 = d5 + d4 / 1024.0;
        d6 = d6 * 0.99 + d5;
        d7 = d7 * 0.5 + d6 * 0.25;
    }
    struct mixres res;
    res.u = v0 ^ (v1 << 1) ^ (v2 << 2) ^ (v3 << 3) ^ (v4 << 4) ^ (v5 << 5) ^ (v6 << 6) ^ (v7 << 7) ^
            (v8 << 8) ^ (v9 << 9) ^ (v10 << 10) ^ (v11 << 11) ^ (v12 << 12) ^ (v13 << 13);
    res.d = d0 + 2 * d1 + 3 * d2 + 4 * d3 + 5 * d4 + 6 * d5 + 7 * d6 + 8 * d7;
    return res;
}

#define MIX_ROUNDS 40

static void no_hook(void *arg)
{
    (void)arg;
}

static void yield_hook(void *arg)
{
    (void)arg;
    sim_coro_yield();
}

struct mixjob {
    uint64_t seed;
    struct mixres res;
};

static void mix_fn(void *arg)
{
    struct mixjob *j = arg;
    j->res = mix(j->seed, MIX_ROUNDS, yield_hook, NULL);
}

struct resume_two {
    sim_coro *a, *b;
    int yields;
};

static void resume_hook(void *arg)
{
    struct resume_two *t = arg;
    t->yields += sim_coro_resume(t->a);
    t->yields += sim_coro_resume(t->b);
}

static void test_registers_survive(void **state)
{
    (void)state;
    struct mixjob ja = {.seed = 0x1234}, jb = {.seed = 0xABCDEF};
    struct mixres ref_a = mix(ja.seed, MIX_ROUNDS, no_hook, NULL);
    struct mixres ref_b = mix(jb.seed, MIX_ROUNDS, no_hook, NULL);
    struct mixres ref_m = mix(42, MIX_ROUNDS, no_hook, NULL);
    assert_true(ref_a.u != ref_b.u);

    struct resume_two t = {0};
    t.a = sim_coro_create(mix_fn, &ja, 0);
    t.b = sim_coro_create(mix_fn, &jb, 0);
    assert_non_null(t.a);
    assert_non_null(t.b);
    /* Main's own live values cross 2 * MIX_ROUNDS resumes of the two coroutines. */
    struct mixres got_m = mix(42, MIX_ROUNDS, resume_hook, &t);
    assert_int_equal(t.yields, 2 * MIX_ROUNDS);
    assert_int_equal(sim_coro_resume(t.a), 0);
    assert_int_equal(sim_coro_resume(t.b), 0);

    assert_true(ja.res.u == ref_a.u);
    assert_true(jb.res.u == ref_b.u);
    assert_true(got_m.u == ref_m.u);
    assert_true(ja.res.d == ref_a.d);
    assert_true(jb.res.d == ref_b.d);
    assert_true(got_m.d == ref_m.d);
    sim_coro_destroy(t.a);
    sim_coro_destroy(t.b);
}

/* Rounding mode: per coroutine (x87 control word + MXCSR on x86-64, FPCR on aarch64). */
struct rounding {
    int mode_at_start; /* inherited from the creator */
    int mode_later[3]; /* after each resume */
    double q_later[3]; /* 1/7 in double arithmetic, after each resume */
    long double lq_later[3];
};

static NOINLINE double seventh(void)
{
    volatile double one = 1.0, seven = 7.0;
    return one / seven; /* 1/7 rounds down to nearest: upward differs */
}

static NOINLINE long double seventh_l(void)
{
    volatile long double one = 1.0L, seven = 7.0L;
    return one / seven; /* 1/7 rounds down to nearest: upward differs */
}

static void rounding_fn(void *arg)
{
    struct rounding *r = arg;
    r->mode_at_start = fegetround();
    fesetround(FE_UPWARD);
    for (int i = 0; i < 3; i++) {
        sim_coro_yield();
        r->mode_later[i] = fegetround();
        r->q_later[i] = seventh();
        r->lq_later[i] = seventh_l();
    }
}

static void test_rounding_mode_per_coroutine(void **state)
{
    (void)state;
    struct rounding r = {0};
    double near = seventh();
    long double lnear = seventh_l();
    assert_int_equal(fesetround(FE_UPWARD), 0);
    double up = seventh();
    long double lup = seventh_l();
    assert_int_equal(fesetround(FE_DOWNWARD), 0);
    sim_coro *c = sim_coro_create(rounding_fn, &r, 0); /* inherits FE_DOWNWARD */
    assert_int_equal(fesetround(FE_TONEAREST), 0);
    assert_non_null(c);
    assert_true(up > near);
    assert_true(lup > lnear);

    for (int i = 0; i < 4; i++) {
        assert_int_equal(sim_coro_resume(c), i < 3 ? 1 : 0);
        assert_int_equal(fegetround(), FE_TONEAREST); /* the coroutine's mode stayed there */
        assert_true(seventh() == near);
        assert_true(seventh_l() == lnear);
        (void)main_stack_churn((unsigned)i);
    }
    assert_int_equal(r.mode_at_start, FE_DOWNWARD);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r.mode_later[i], FE_UPWARD);
        assert_true(r.q_later[i] == up);
        assert_true(r.lq_later[i] == lup);
    }
    sim_coro_destroy(c);
}

/* ---- many coroutines ------------------------------------------------------------------- */

#define MANY_TOTAL 10000
#define MANY_BATCH 250

struct many {
    unsigned id;
    unsigned steps;
    unsigned bad;
    sim_coro *self;
};

static void many_fn(void *arg)
{
    struct many *m = arg;
    for (unsigned i = 0; i < 1 + m->id % 4; i++) {
        if (sim_coro_current() != m->self)
            m->bad++;
        m->steps++;
        sim_coro_yield();
    }
    m->steps += 100;
}

static void test_ten_thousand(void **state)
{
    (void)state;
    static struct many ms[MANY_BATCH];
    static sim_coro *cs[MANY_BATCH];
    unsigned finished = 0, cancelled = 0;
    for (unsigned base = 0; base < MANY_TOTAL; base += MANY_BATCH) {
        for (unsigned i = 0; i < MANY_BATCH; i++) {
            ms[i] = (struct many){.id = base + i};
            cs[i] = sim_coro_create(many_fn, &ms[i], 16 * 1024);
            assert_non_null(cs[i]);
            ms[i].self = cs[i];
        }
        /* Round robin; every 7th coroutine is destroyed after its second step. */
        for (unsigned round = 0; round < 6; round++) {
            for (unsigned i = 0; i < MANY_BATCH; i++) {
                if (cs[i] == NULL || sim_coro_done(cs[i]))
                    continue;
                int rc = sim_coro_resume(cs[i]);
                assert_true(rc == 0 || rc == 1);
                if (rc == 1 && (base + i) % 7 == 0 && ms[i].steps == 2) {
                    sim_coro_destroy(cs[i]);
                    cs[i] = NULL;
                    cancelled++;
                }
            }
        }
        for (unsigned i = 0; i < MANY_BATCH; i++) {
            assert_int_equal(ms[i].bad, 0);
            if (cs[i] == NULL) {
                assert_int_equal(ms[i].steps, 2);
                continue;
            }
            assert_true(sim_coro_done(cs[i]));
            assert_int_equal(ms[i].steps, 1 + (base + i) % 4 + 100);
            finished++;
            sim_coro_destroy(cs[i]);
        }
    }
    assert_int_equal(finished + cancelled, MANY_TOTAL);
    assert_true(cancelled > 0);
    assert_null(sim_coro_current());
}

/* ---- reused stacks ---------------------------------------------------------------------- */

/* A destroyed coroutine's stack goes to a pool; the next coroutine of the same size gets it.
 * It must look fresh: what the previous one wrote must be gone, whether it finished or was
 * destroyed while suspended. A probe copies a local array it never set, at the depth where the
 * dirtier wrote a pattern; the copy must equal the one taken before any dirtying (a fresh stack
 * is zero except for the first switch frame that coroutine creation itself writes at its top,
 * the same every time). */
#define DIRTY_BYTES (24 * 1024)
#define DEEP_BYTES  (48 * 1024) /* deeper than any other test goes on a 64 KiB stack */

struct stack_probe {
    bool write;          /* dirty the frame (else: copy it to `seen`) */
    bool suspend;        /* yield once with the frame dirty */
    bool deep;           /* a frame of DEEP_BYTES (else DIRTY_BYTES) */
    unsigned char *seen; /* probe: the frame's bytes */
    void *at;            /* where the frame was */
};

/* Set when a probed frame was not on the coroutine's stack: AddressSanitizer with
 * detect_stack_use_after_return=1 puts locals on a "fake stack" in the heap, and then what a
 * stack held before cannot be seen through them. */
static bool frame_on_fake_stack;

/* Dirty or copy the frame buf[0, bytes). */
static void frame_access(struct stack_probe *sp, volatile unsigned char *buf, size_t bytes)
{
    sp->at = (void *)buf;
#if defined(__SANITIZE_ADDRESS__)
    void *fake = __asan_get_current_fake_stack();
    if (fake && __asan_addr_is_in_fake_stack(fake, (void *)buf, NULL, NULL))
        frame_on_fake_stack = true;
#endif
    if (sp->write) {
        for (size_t i = 0; i < bytes; i++)
            buf[i] = (unsigned char)(0xA5 ^ i);
        if (sp->suspend)
            sim_coro_yield();
        return;
    }
    for (size_t i = 0; i < bytes; i++)
        sp->seen[i] = buf[i];
}

static NOINLINE void stack_frame(struct stack_probe *sp)
{
    unsigned char frame[DIRTY_BYTES];
    volatile unsigned char *buf = frame;
    __asm__("" : "+r"(buf)); /* the compiler cannot see which bytes are read or written */
    frame_access(sp, buf, DIRTY_BYTES);
}

static NOINLINE void deep_frame(struct stack_probe *sp)
{
    unsigned char frame[DEEP_BYTES];
    volatile unsigned char *buf = frame;
    __asm__("" : "+r"(buf));
    frame_access(sp, buf, DEEP_BYTES);
}

static void stack_fn(void *arg)
{
    struct stack_probe *sp = arg;
    if (sp->deep)
        deep_frame(sp);
    else
        stack_frame(sp);
}

static void *probe_stack(unsigned char *seen, bool deep)
{
    struct stack_probe probe = {.seen = seen, .deep = deep};
    sim_coro *c = sim_coro_create(stack_fn, &probe, 64 * 1024);
    assert_non_null(c);
    assert_int_equal(sim_coro_resume(c), 0);
    sim_coro_destroy(c);
    return probe.at;
}

#define DIRTIERS 32 /* as many as the pool holds (STACK_POOL, coro.c): all of it dirty */

/* A fresh stack, copied that deep into `before`: zero except for the first switch frame. */
static void probe_fresh(unsigned char *before, bool deep)
{
    size_t bytes = deep ? DEEP_BYTES : DIRTY_BYTES, nonzero = 0;
    probe_stack(before, deep);
    for (size_t i = 0; i < bytes; i++)
        nonzero += before[i] != 0;
    assert_true(nonzero <= 64); /* at most the first switch frame */
}

static void nothing_fn(void *arg)
{
    (void)arg;
}

/* DIRTIERS coroutines, one per probes[k] (or doing nothing, when probes is NULL), each run to
 * its first stop (a yield when `suspended`), then destroyed together: the pool takes all their
 * stacks back at once and scrubs them in a batch (coro.c). */
static void run_and_release(struct stack_probe *probes, bool suspended)
{
    sim_coro *a[DIRTIERS];
    for (int k = 0; k < DIRTIERS; k++) {
        a[k] = probes ? sim_coro_create(stack_fn, &probes[k], 64 * 1024)
                      : sim_coro_create(nothing_fn, NULL, 64 * 1024);
        assert_non_null(a[k]);
        assert_int_equal(sim_coro_resume(a[k]), suspended ? 1 : 0);
    }
    for (int k = 0; k < DIRTIERS; k++)
        sim_coro_destroy(a[k]);
}

/* 2 * DIRTIERS probes, each of which must read what a fresh stack holds (`before`); returns how
 * many ran on a stack where one of `used` had its frame. */
static int probes_reusing(const unsigned char *before, bool deep, const struct stack_probe *used)
{
    static unsigned char after[DEEP_BYTES];
    int reused = 0;
    for (int probe = 0; probe < 2 * DIRTIERS; probe++) {
        memset(after, 0xEE, sizeof(after));
        void *at = probe_stack(after, deep);
        assert_memory_equal(after, before, deep ? DEEP_BYTES : DIRTY_BYTES);
        for (int k = 0; k < DIRTIERS; k++)
            reused += at == used[k].at;
    }
    return reused;
}

static void test_reused_stack_is_fresh(void **state)
{
    (void)state;
    static unsigned char before[DIRTY_BYTES];
    probe_fresh(before, false);
    if (frame_on_fake_stack) {
        print_message("frames are on ASan's fake stack (detect_stack_use_after_return): the "
                      "coroutine stack's bytes cannot be read through them\n");
        skip();
    }
    for (int suspend = 0; suspend < 2; suspend++) {
        /* Dirty stacks, destroyed together, so the probes that follow get fresh mappings or
         * scrubbed ones, and some must get a dirtied one (same frame address). */
        struct stack_probe dirty[DIRTIERS];
        for (int k = 0; k < DIRTIERS; k++)
            dirty[k] = (struct stack_probe){.write = true, .suspend = suspend};
        run_and_release(dirty, suspend);
        assert_true(probes_reusing(before, false, dirty) > 0);
    }
}

/* A pooled stack is zeroed where it was known to be touched when it is released; one that its
 * coroutine used deeper than that (new pages became resident) must come back all zero too: the
 * batch check finds the deeper pages and zeroes them (coro.c). Coroutines that use a page or
 * two fill the pool, then as many go far deeper on those stacks, then probes read that depth. */
static void test_deeper_reuse_is_fresh(void **state)
{
    (void)state;
    static unsigned char before[DEEP_BYTES];
    probe_fresh(before, true);
    run_and_release(NULL, false);
    struct stack_probe deep[DIRTIERS];
    for (int k = 0; k < DIRTIERS; k++)
        deep[k] = (struct stack_probe){.write = true, .deep = true};
    run_and_release(deep, false);
    assert_true(probes_reusing(before, true, deep) > 0);
}

/* Scrubbing needs one observation of the page-fault count (a system call) per batch of dirty
 * stacks, not one per coroutine: two coroutines created and destroyed at a time, as the
 * checker's executions do, observe once per fifteen rounds (a batch of thirty, coro.c), once
 * more for the batch the earlier tests left. */
static void test_stacks_scrubbed_in_batches(void **state)
{
    (void)state;
    uint64_t serial = faults_serial();
    for (int round = 0; round < 30; round++) {
        struct stack_probe p[2] = {{.write = true}, {.write = true}};
        sim_coro *c0 = sim_coro_create(stack_fn, &p[0], 64 * 1024);
        sim_coro *c1 = sim_coro_create(stack_fn, &p[1], 64 * 1024);
        assert_true(c0 && c1);
        assert_int_equal(sim_coro_resume(c0), 0);
        assert_int_equal(sim_coro_resume(c1), 0);
        sim_coro_destroy(c0);
        sim_coro_destroy(c1);
    }
    assert_true(faults_serial() - serial <= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_name),
        cmocka_unit_test(test_ping_pong),
        cmocka_unit_test(test_returns_immediately),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_destroy_suspended),
        cmocka_unit_test(test_transfer_chain),
        cmocka_unit_test(test_transfer_to_new_finishes),
        cmocka_unit_test(test_destroy_suspended_by_transfer),
        cmocka_unit_test(test_escape_after_transfer),
        cmocka_unit_test(test_deep_recursion),
        cmocka_unit_test(test_guard_page),
        cmocka_unit_test(test_registers_survive),
        cmocka_unit_test(test_rounding_mode_per_coroutine),
        cmocka_unit_test(test_ten_thousand),
        cmocka_unit_test(test_reused_stack_is_fresh),
        cmocka_unit_test(test_deeper_reuse_is_fresh),
        cmocka_unit_test(test_stacks_scrubbed_in_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
