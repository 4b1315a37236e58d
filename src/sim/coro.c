/*
 * coro.c — stackful coroutines for the simulator (API and contract in coro.h). Owns the stacks
 * (mmap plus a guard page), the "who is running" state, the first entry of a new coroutine and
 * its final exit, and the AddressSanitizer fiber annotations. The register switch itself is
 * coro_switch.S on x86-64 and aarch64, or glibc's swapcontext for the ucontext backend.
 *
 * Control flow of one coroutine c (M = main context, the scheduler's own stack):
 *   M: sim_coro_resume(c) -> switch_in(c) ............ first time: boot -> sim_coro__entry(c)
 *   c: sim_coro_yield()   -> switch_out(c) .......... back in M: resume() returns 1
 *   c: fn returns         -> coro_exit(c), for good . back in M: resume() returns 0
 *   c: sim_coro_transfer(d) -> ctx_transfer(c, d) ... d goes on (or boots); M is not involved
 * M's saved context (g_main_sp / g_main_uc) is written only by switch_in, so however many
 * transfers follow a resume, a yield or exit in whichever coroutine runs returns into that
 * resume; switch_in learns who came back from g_cur, which every switch into a coroutine sets.
 * With ASan, every switch is bracketed by __sanitizer_start_switch_fiber (on the old stack,
 * naming the new one) and __sanitizer_finish_switch_fiber (first thing on the new stack).
 */
#include "sim/coro.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Backend selection; coro_switch.S applies the same conditions. */
#if !defined(QINVAL_CORO_UCONTEXT) && defined(__ELF__) && defined(__x86_64__) && !defined(__ILP32__)
#define CORO_ASM     1
#define CORO_BACKEND "asm-x86_64"
#elif !defined(QINVAL_CORO_UCONTEXT) && defined(__ELF__) && defined(__aarch64__) &&                \
    !defined(__ILP32__)
#define CORO_ASM     1
#define CORO_BACKEND "asm-aarch64"
#else
#define CORO_ASM     0
#define CORO_BACKEND "ucontext"
#include <ucontext.h>
#endif

#include "util/faults.h"

/* Under Valgrind's memcheck, the stack bytes a coroutine left below its stack pointer are
 * "no access" until written again; zeroing them from the main context would be reported as
 * invalid writes. Where the header is installed, they are declared writable first. And every
 * coroutine's stack is registered with Valgrind while the coroutine exists: a transfer moves the
 * stack pointer from one coroutine stack straight to another, often less than --max-stackframe
 * away, which unregistered Valgrind takes for a frame push or pop (marking the saved frame it
 * lands on undefined) instead of a change of stack. Each is a few instructions that do nothing
 * outside Valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define STACK_WRITABLE(p, n)  VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define STACK_REGISTER(lo, n) VALGRIND_STACK_REGISTER((lo), (lo) + (n)-1)
#define STACK_DEREGISTER(id)  VALGRIND_STACK_DEREGISTER(id)
#endif
#endif
#ifndef STACK_WRITABLE
#define STACK_WRITABLE(p, n)  ((void)(p), (void)(n))
#define STACK_REGISTER(lo, n) ((void)(lo), (void)(n), 0u)
#define STACK_DEREGISTER(id)  ((void)(id))
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#ifndef CORO_ASAN
#define CORO_ASAN 0
#endif
#if CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif
#ifndef MAP_STACK
#define MAP_STACK 0
#endif

struct sim_coro {
#if CORO_ASM
    void *sp; /* saved stack pointer while not running (frame layout in coro_switch.S) */
#else
    ucontext_t uc; /* saved context while not running */
#endif
    sim_coro_fn fn;
    void *arg;
    void *map; /* the mapping: one guard page, then the stack */
    size_t map_bytes;
    char *stack_lo;     /* lowest usable stack byte, just above the guard page */
    size_t stack_bytes; /* usable stack */
    bool started;       /* has been resumed or transferred to at least once */
    bool done;          /* fn has returned (or, under ASan, the coroutine was cancelled) */
    bool abandoned;     /* left by sim_coro_escape(): its frames are never entered again */
    size_t touched;     /* top bytes of the stack that may be resident (see "stacks" below) */
    unsigned vg_stack;  /* Valgrind's id of the stack, registered while c exists (0 outside) */
    uint64_t faults;    /* the thread's page-fault count observed before it was created */
#if CORO_ASAN
    bool cancel;     /* destroy() re-enters a suspended coroutine only to let it exit */
    void *asan_fake; /* ASan fake stack of this coroutine while it is switched out */
#endif
};

/* Per-thread state. g_cur is the running coroutine, NULL on the main context; it is set before
 * each switch into a coroutine, so a signal may find it naming the coroutine being switched to
 * while the old stack still runs. g_from is the coroutine a transfer is leaving, from just
 * before g_cur moves until the new coroutine has landed (NULL otherwise): while it is set, the
 * stack running is g_from's or g_cur's. g_last is the coroutine that last came back to main. */
static _Thread_local sim_coro *g_cur;
static _Thread_local sim_coro *g_from;
static _Thread_local sim_coro *g_last;
#if CORO_ASM
static _Thread_local void *g_main_sp;
#else
static _Thread_local ucontext_t g_main_uc;
#endif
#if CORO_ASAN
/* The main context's stack as ASan knows it, learnt on each switch into a coroutine. */
static _Thread_local const void *g_main_stack_lo;
static _Thread_local size_t g_main_stack_bytes;
#endif

/* Entered on a new coroutine's stack by sim_coro__boot (asm) or uc_boot; never returns. */
__attribute__((visibility("hidden"), noreturn)) void sim_coro__entry(sim_coro *c);

#if CORO_ASM
/* coro_switch.S */
__attribute__((visibility("hidden"))) void sim_coro__switch(void **save_sp, void *load_sp);
__attribute__((visibility("hidden"))) void sim_coro__boot(void);

/* Build the frame sim_coro__switch expects, so that the first switch "returns" into boot. */
static bool ctx_init(sim_coro *c)
{
    uintptr_t top = ((uintptr_t)c->stack_lo + c->stack_bytes) & ~(uintptr_t)15;
#if defined(__x86_64__)
    uint64_t *f = (uint64_t *)(top - 64);
    uint32_t mxcsr;
    uint16_t fpucw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpucw));
    f[0] = (mxcsr & ~(uint32_t)0x3f) | ((uint64_t)fpucw << 32); /* control bits, no flags */
    f[1] = 0;                                                   /* r15 */
    f[2] = 0;                                                   /* r14 */
    f[3] = 0;                                                   /* r13 */
    f[4] = (uintptr_t)c;                                        /* r12: boot's argument */
    f[5] = 0;                                                   /* rbx */
    f[6] = 0;                                                   /* rbp: ends frame chain */
    f[7] = (uintptr_t)&sim_coro__boot;                          /* return address */
#elif defined(__aarch64__)
    uint64_t *f = (uint64_t *)(top - 176);
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    for (int i = 0; i < 22; i++)
        f[i] = 0;
    f[0] = (uintptr_t)c;                /* x19: boot's argument */
    f[10] = 0;                          /* x29: ends frame chain */
    f[11] = (uintptr_t)&sim_coro__boot; /* x30: return address */
    f[20] = fpcr;                       /* FPCR */
#endif
    c->sp = f;
    return true;
}

static inline void ctx_to_coro(sim_coro *c)
{
    sim_coro__switch(&g_main_sp, c->sp);
}

static inline void ctx_to_main(sim_coro *c)
{
    sim_coro__switch(&c->sp, g_main_sp);
}

static inline void ctx_transfer(sim_coro *from, sim_coro *to)
{
    sim_coro__switch(&from->sp, to->sp);
}

#else  /* ucontext */

static void uc_boot(void)
{
    sim_coro__entry(g_cur);
}

static bool ctx_init(sim_coro *c)
{
    if (getcontext(&c->uc) != 0)
        return false;
    c->uc.uc_stack.ss_sp = c->stack_lo;
    c->uc.uc_stack.ss_size = c->stack_bytes;
    c->uc.uc_link = NULL; /* never used: sim_coro__entry does not return */
    makecontext(&c->uc, uc_boot, 0);
    return true;
}

static inline void ctx_to_coro(sim_coro *c)
{
    if (swapcontext(&g_main_uc, &c->uc) != 0)
        abort();
}

static inline void ctx_to_main(sim_coro *c)
{
    if (swapcontext(&c->uc, &g_main_uc) != 0)
        abort();
}

static inline void ctx_transfer(sim_coro *from, sim_coro *to)
{
    if (swapcontext(&from->uc, &to->uc) != 0)
        abort();
}
#endif /* backend */

/* Main context -> c, and back here once c, or a coroutine it transferred to, yields or exits. */
#if CORO_ASAN
/* The main context's fake stack while a coroutine runs (also needed by sim_coro_escape). */
static _Thread_local void *g_main_fake;
#endif

static inline void switch_in(sim_coro *c)
{
#if CORO_ASAN
    __sanitizer_start_switch_fiber(&g_main_fake, c->stack_lo, c->stack_bytes);
#endif
    g_cur = c;
    ctx_to_coro(c);
    g_last = g_cur; /* whoever switched back to main is still g_cur */
    g_cur = NULL;
#if CORO_ASAN
    __sanitizer_finish_switch_fiber(g_main_fake, NULL, NULL);
#endif
}

/* First thing on c's stack after any switch into it. The stack left is the main context's
 * unless a transfer is landing (g_from set); only the main stack's bounds are kept, for the
 * switches back to it. */
static inline void landed(sim_coro *c)
{
#if CORO_ASAN
    bool from_main = g_from == NULL;
    __sanitizer_finish_switch_fiber(c->asan_fake, from_main ? &g_main_stack_lo : NULL,
                                    from_main ? &g_main_stack_bytes : NULL);
#else
    (void)c;
#endif
    g_from = NULL;
}

/* c -> main context. Returns when c is next resumed, unless last (then it never returns). */
static inline void switch_out(sim_coro *c, bool last)
{
#if CORO_ASAN
    /* A NULL save pointer tells ASan this fiber is gone, so it frees its fake stack. */
    __sanitizer_start_switch_fiber(last ? NULL : &c->asan_fake, g_main_stack_lo,
                                   g_main_stack_bytes);
#else
    (void)last;
#endif
    ctx_to_main(c);
}

__attribute__((noreturn)) static void coro_exit(sim_coro *c)
{
    c->done = true;
    switch_out(c, true);
    abort(); /* unreachable: nobody resumes a finished coroutine */
}

void sim_coro__entry(sim_coro *c)
{
    landed(c);
    c->fn(c->arg);
    coro_exit(c);
}

/* ---- stacks ----
 *
 * The checker creates and destroys a coroutine per simulated CPU per execution; mapping and
 * unmapping a stack each time, and faulting its pages in again, cost more than a short
 * execution itself. So a destroyed coroutine's mapping goes to a small per-thread pool and the
 * next coroutine with the same stack size takes it.
 *
 * Invariant of a mapping handed out: exactly what a fresh one is — the guard page PROT_NONE,
 * every stack byte zero (driver code that reads a variable it never set sees the same bytes
 * in every run, so replay stays exact), and, under ASan, the stack unpoisoned.
 *
 * Restoring that means zeroing what the coroutine wrote, which is at most the pages of the
 * mapping that are resident. A pooled mapping remembers `touched`: the top part of the stack
 * that held every resident page when it was last known. A released mapping has `touched`
 * zeroed at once (its lines are still in the cache) and is "unchecked" until it is known that
 * nothing below `touched` was written; checking happens in a batch when a coroutine is created
 * and no clean mapping fits:
 *  - cheap path: if this thread took no page fault from before the coroutine was created until
 *    after it was released (util/faults.h), no page of the mapping became resident meanwhile,
 *    so `touched` covered everything it wrote and the mapping is clean;
 *  - otherwise mincore() names the resident pages, `touched` is extended down to the lowest
 *    one, and the part the extension added is zeroed.
 * At most one system call per batch, none when something else on the thread observed the fault
 * count after these stacks were released; a system call costs about as much as zeroing the two
 * stacks of an execution, so batches are large. To make them, a coroutine that finds no clean
 * mapping gets a new one while fewer than STACK_BATCH of its size are unchecked: with two CPUs
 * per execution, thirty stacks take turns and one observation serves fifteen executions.
 *
 * The pool is two stacks of mappings, clean and unchecked (at most STACK_POOL in all), so that
 * taking a clean one and releasing one do not search: the most recently checked clean mapping
 * is taken first. A full pool makes room for a released mapping by dropping a clean one of
 * another stack size, if it has one.
 */
#define STACK_POOL  32
#define STACK_BATCH 30

struct stack_map {
    void *map;
    size_t map_bytes;
    size_t touched;    /* top bytes of the stack that may be resident; below: never touched */
    uint64_t faults;   /* unchecked: the thread's fault count observed before its coroutine began */
    uint64_t released; /* unchecked: faults_serial() when it was released */
};

static _Thread_local struct stack_map g_clean[STACK_POOL], g_unchecked[STACK_POOL];
static _Thread_local unsigned g_nclean, g_nunchecked; /* g_nclean + g_nunchecked <= STACK_POOL */

static size_t page_size(void)
{
    static size_t cached;
    if (!cached) {
        long pagesz = sysconf(_SC_PAGESIZE);
        cached = pagesz > 0 ? (size_t)pagesz : 4096;
    }
    return cached;
}

/* Zero the top `bytes` of m's stack, from `from` bytes below its top on (from <= bytes). */
static void stack_zero(const struct stack_map *m, size_t from, size_t bytes)
{
    char *top = (char *)m->map + m->map_bytes;
    STACK_WRITABLE(top - bytes, bytes - from);
    memset(top - bytes, 0, bytes - from);
}

/* Extend m->touched down to the lowest resident page of the stack; false if the kernel would
 * not say which pages are resident. */
static bool stack_find_touched(struct stack_map *m)
{
    size_t page = page_size(), bytes = m->map_bytes - page;
    char *lo = (char *)m->map + page;
    unsigned char vec[64];
    for (size_t off = 0; off < bytes - m->touched; off += sizeof(vec) * page) {
        size_t len = bytes - off < sizeof(vec) * page ? bytes - off : sizeof(vec) * page;
        if (mincore(lo + off, len, vec) != 0)
            return false;
        for (size_t k = 0; k < len / page; k++)
            if (vec[k] & 1) {
                size_t touched = bytes - (off + k * page);
                if (touched > m->touched)
                    m->touched = touched;
                return true;
            }
    }
    return true;
}

/* Check every unchecked stack (see above) and make it clean; one that cannot be made clean is
 * unmapped. */
static void pool_check(void)
{
    /* An observation made after every unchecked stack was released, new if need be. */
    uint64_t f = faults_latest();
    for (unsigned i = 0; i < g_nunchecked; i++)
        if (g_unchecked[i].released >= faults_serial()) {
            f = faults_observe();
            break;
        }
    for (unsigned i = 0; i < g_nunchecked; i++) {
        struct stack_map *m = &g_unchecked[i];
        if (f == FAULTS_UNKNOWN || f != m->faults) {
            size_t zeroed = m->touched;
            if (!stack_find_touched(m)) {
                munmap(m->map, m->map_bytes);
                continue;
            }
            stack_zero(m, zeroed, m->touched);
        }
        g_clean[g_nclean++] = *m;
    }
    g_nunchecked = 0;
}

/* A clean pooled mapping of `map_bytes`, the most recently checked first; if none is clean,
 * checks the unchecked ones once they are a batch (or the pool is full), else returns false
 * for a new mapping. */
static bool stack_take(struct stack_map *out)
{
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = g_nclean; i-- > 0;) {
            if (g_clean[i].map_bytes != out->map_bytes)
                continue;
            *out = g_clean[i];
            g_clean[i] = g_clean[--g_nclean]; /* i is the top but for other stack sizes */
            return true;
        }
        unsigned unchecked = 0;
        for (unsigned i = 0; i < g_nunchecked; i++)
            unchecked += g_unchecked[i].map_bytes == out->map_bytes;
        if (unchecked < STACK_BATCH && g_nclean + g_nunchecked < STACK_POOL)
            return false; /* a new mapping: the batch grows */
        pool_check();
    }
    return false;
}

/* Room in the pool for a mapping of `map_bytes`: a full pool drops a clean mapping of another
 * size (the pool serves the size in use); false if there is none. */
static bool pool_room(size_t map_bytes)
{
    if (g_nclean + g_nunchecked < STACK_POOL)
        return true;
    for (unsigned i = 0; i < g_nclean; i++)
        if (g_clean[i].map_bytes != map_bytes) {
            munmap(g_clean[i].map, g_clean[i].map_bytes);
            g_clean[i] = g_clean[--g_nclean];
            return true;
        }
    return false;
}

/* Give c's mapping to the pool, `touched` zeroed, if there is room; else unmap it. */
static void stack_release(sim_coro *c)
{
    if (!pool_room(c->map_bytes)) {
        munmap(c->map, c->map_bytes);
        return;
    }
    struct stack_map *m = &g_unchecked[g_nunchecked++];
    *m = (struct stack_map){.map = c->map,
                            .map_bytes = c->map_bytes,
                            .touched = c->touched,
                            .faults = c->faults,
                            .released = faults_serial()};
    stack_zero(m, 0, m->touched);
}

/* Coroutine structures of destroyed coroutines, for the next ones created on the thread (the
 * checker creates one per simulated CPU per execution). A structure taken is zeroed, exactly
 * as calloc gives it. */
static _Thread_local sim_coro *g_spare_coro[STACK_POOL];
static _Thread_local unsigned g_spare_coros;

static sim_coro *coro_new(void)
{
    if (!g_spare_coros)
        return calloc(1, sizeof(sim_coro));
    sim_coro *c = g_spare_coro[--g_spare_coros];
    memset(c, 0, sizeof(*c));
    return c;
}

static void coro_free(sim_coro *c)
{
    if (g_spare_coros < STACK_POOL)
        g_spare_coro[g_spare_coros++] = c;
    else
        free(c);
}

sim_coro *sim_coro_create(sim_coro_fn fn, void *arg, size_t stack_bytes)
{
    if (fn == NULL)
        return NULL;
    size_t page = page_size();
    if (stack_bytes == 0)
        stack_bytes = SIM_CORO_DEFAULT_STACK;
    if (stack_bytes > SIZE_MAX / 2)
        return NULL;
    stack_bytes = (stack_bytes + page - 1) / page * page;

    sim_coro *c = coro_new();
    if (c == NULL)
        return NULL;
    c->fn = fn;
    c->arg = arg;
    c->map_bytes = stack_bytes + page;
    c->stack_bytes = stack_bytes;
    struct stack_map m = {.map_bytes = c->map_bytes};
    bool pooled = stack_take(&m);
    c->faults = faults_latest(); /* observed before it runs (stack_take may observe) */
    if (pooled) {
        c->map = m.map;
        c->touched = m.touched;
        c->stack_lo = (char *)c->map + page;
        if (ctx_init(c)) {
            c->vg_stack = STACK_REGISTER(c->stack_lo, c->stack_bytes);
            return c;
        }
        munmap(c->map, c->map_bytes);
        coro_free(c);
        return NULL;
    }
    c->map = mmap(NULL, c->map_bytes, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (c->map == MAP_FAILED) {
        coro_free(c);
        return NULL;
    }
    c->stack_lo = (char *)c->map + page;
#if CORO_ASAN
    /* The address range may have been a stack before, with redzones still marked. */
    ASAN_UNPOISON_MEMORY_REGION(c->stack_lo, c->stack_bytes);
#endif
    if (mprotect(c->map, page, PROT_NONE) != 0 || !ctx_init(c)) {
        munmap(c->map, c->map_bytes);
        coro_free(c);
        return NULL;
    }
    c->vg_stack = STACK_REGISTER(c->stack_lo, c->stack_bytes);
    return c;
}

void sim_coro_destroy(sim_coro *c)
{
    if (c == NULL)
        return;
    assert(c != g_cur && "sim_coro_destroy() of the running coroutine");
    if (c == g_cur)
        return;
#if CORO_ASAN
    if (c->started && !c->done && !c->abandoned && g_cur == NULL) {
        /* Let it leave through coro_exit() so that ASan frees its fake stack; suspended in a
         * yield or a transfer, it checks `cancel` as soon as it lands. */
        c->cancel = true;
        switch_in(c);
    }
    /* Abandoned frames leave poisoned redzones behind; clear them before the range is reused
     * (by the pool, or by a later mapping at the same address). */
    ASAN_UNPOISON_MEMORY_REGION(c->stack_lo, c->stack_bytes);
#endif
    if (g_last == c)
        g_last = NULL; /* the structure is recycled */
    STACK_DEREGISTER(c->vg_stack);
    stack_release(c);
    coro_free(c);
}

int sim_coro_resume(sim_coro *c)
{
    if (c == NULL || c->done || g_cur != NULL)
        return -1;
    c->started = true;
    switch_in(c);
    return g_last->done ? 0 : 1;
}

void sim_coro_yield(void)
{
    sim_coro *c = g_cur;
    assert(c != NULL && "sim_coro_yield() from the main context");
    if (c == NULL)
        return;
    switch_out(c, false);
    landed(c);
#if CORO_ASAN
    if (c->cancel)
        coro_exit(c);
#endif
}

int sim_coro_transfer(sim_coro *to)
{
    sim_coro *c = g_cur;
    if (c == NULL || to == NULL || to == c || to->done)
        return -1;
    to->started = true;
#if CORO_ASAN
    __sanitizer_start_switch_fiber(&c->asan_fake, to->stack_lo, to->stack_bytes);
#endif
    /* g_from before g_cur: a signal in between sees both naming c, one after sees the pair. */
    g_from = c;
    atomic_signal_fence(memory_order_seq_cst);
    g_cur = to;
    ctx_transfer(c, to);
    landed(c);
#if CORO_ASAN
    if (c->cancel)
        coro_exit(c);
#endif
    return 0;
}

sim_coro *sim_coro_current(void)
{
    return g_cur;
}

sim_coro *sim_coro_last(void)
{
    return g_last;
}

void sim_coro_escape(void)
{
    sim_coro *c = g_cur;
    if (c == NULL)
        return;
    c->done = true;
    c->abandoned = true;
    if (g_from != NULL) { /* mid-transfer: the stack running may be g_from's, its frame unsaved */
        g_from->done = true;
        g_from->abandoned = true;
        g_from = NULL;
    }
    g_last = c;
    g_cur = NULL;
#if CORO_ASAN
    __sanitizer_start_switch_fiber(NULL, g_main_stack_lo, g_main_stack_bytes);
#endif
}

void sim_coro_escaped(void)
{
#if CORO_ASAN
    __sanitizer_finish_switch_fiber(g_main_fake, NULL, NULL);
    /* The jump skipped the main stack's frames that were below the landing point (resume,
     * switch_in): their redzones are still poisoned. Clear everything below this frame. */
    __asan_handle_no_return();
#endif
}

bool sim_coro_done(const sim_coro *c)
{
    return c == NULL || c->done;
}

const char *sim_coro_backend(void)
{
    return CORO_BACKEND;
}
