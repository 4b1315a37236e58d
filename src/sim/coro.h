/*
 * coro.h — stackful coroutines for the simulator: each simulated CPU runs driver code on its own
 * stack, and the scheduler (the "main" context, i.e. the thread's own stack) resumes one CPU at a
 * time until it yields. Coroutines are asymmetric and do not nest: only the main context resumes,
 * and a coroutine yields back to it. The one exception is sim_coro_transfer(): a coroutine may
 * hand the thread straight to another one, which then stands in for it towards the main context
 * (its yield or its end is what the pending sim_coro_resume() sees). No threads, signals or
 * clocks, so a run is deterministic.
 *
 * Backends, chosen at compile time (sim_coro_backend() names the one built):
 *   "asm-x86_64"  — hand-written switch in coro_switch.S (System V x86-64, ELF)
 *   "asm-aarch64" — hand-written switch in coro_switch.S (AAPCS64, ELF)
 *   "ucontext"    — getcontext/makecontext/swapcontext; used on any other target, or forced by
 *                   defining QINVAL_CORO_UCONTEXT (the CMake option of the same name).
 * Each coroutine keeps its own floating-point control state (x87 control word and MXCSR on
 * x86-64, FPCR on aarch64; under ucontext, whatever swapcontext keeps, which on glibc is the
 * same), inherited from the creator at sim_coro_create().
 *
 * Under AddressSanitizer every switch is announced with __sanitizer_{start,finish}_switch_fiber.
 * State is per thread (_Thread_local), so independent simulations may run on separate threads,
 * but a coroutine must only ever be resumed from the thread that created it.
 */
#ifndef QINVAL_SIM_CORO_H
#define QINVAL_SIM_CORO_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sim_coro sim_coro;
typedef void (*sim_coro_fn)(void *arg);

/* Stack size used when sim_coro_create() is given 0. */
#define SIM_CORO_DEFAULT_STACK (64u * 1024u)

/*
 * Create a suspended coroutine that will run fn(arg) on a stack of at least stack_bytes (0 means
 * SIM_CORO_DEFAULT_STACK; rounded up to whole pages). The stack is mmap'ed with a PROT_NONE guard
 * page below it, so an overflow faults instead of corrupting memory; it starts all zero, whether
 * freshly mapped or taken from the per-thread pool of destroyed coroutines' stacks. Nothing runs
 * until the first sim_coro_resume() or sim_coro_transfer() to it. Returns NULL if fn is NULL or
 * memory cannot be had.
 */
sim_coro *sim_coro_create(sim_coro_fn fn, void *arg, size_t stack_bytes);

/*
 * Free a coroutine; its stack is zeroed and kept for reuse by this thread (a few stacks at most,
 * beyond that it is unmapped). c may be finished, never started, or suspended in a yield or a
 * transfer; a suspended coroutine's frames are simply abandoned (nothing on its stack is unwound
 * or cleaned up, so its function must not own resources it expects to release). NULL is ignored; c
 * must not be the running coroutine (asserts; ignored under NDEBUG). Normally called from the main
 * context: under ASan a suspended coroutine is then re-entered for an instant, straight into its
 * exit path, so that the sanitizer frees its per-fiber bookkeeping (from inside a coroutine that
 * step is skipped and that bookkeeping leaks).
 */
void sim_coro_destroy(sim_coro *c);

/*
 * From the main context: run c until control comes back to the main context, which is when c
 * yields or its function returns, or, if c transferred (sim_coro_transfer), when the coroutine
 * the chain of transfers ended at does so; sim_coro_last() then names that coroutine. Returns 1
 * if it yielded (still alive), 0 if its function returned (it is now done), and -1 without doing
 * anything on misuse: c is NULL, c is already done, or the caller is itself a coroutine (no
 * nesting). Without transfers, the coroutine that comes back is always c.
 */
int sim_coro_resume(sim_coro *c);

/*
 * From inside a coroutine: suspend it and return to the main context, i.e. make the pending
 * sim_coro_resume() (the one that entered it, or entered a coroutine that transferred to it)
 * return 1. Returns when the coroutine is next resumed or transferred to. Calling it from the
 * main context is a programming error (asserts; a no-op under NDEBUG).
 */
void sim_coro_yield(void);

/*
 * From inside a coroutine: suspend it and run `to` in its place, with no stop on the main
 * context. `to` starts if it never ran, or goes on from its own yield or transfer. From then on
 * `to` is what the main context's pending sim_coro_resume() waits for: when `to` yields, that
 * resume returns 1; when `to`'s function returns, control lands on the main context (never back
 * here) and that resume returns 0; either way sim_coro_last() is `to` (or whichever coroutine `to`
 * transferred to in turn). The caller stays suspended until it is resumed from the main context
 * or transferred to again, and then returns 0; it may also be destroyed while so suspended.
 * Returns -1 at once, doing nothing, on misuse: called from the main context, `to` NULL, done or
 * the caller itself.
 */
int sim_coro_transfer(sim_coro *to);

/* The running coroutine, or NULL on the main context. */
sim_coro *sim_coro_current(void);

/*
 * The coroutine that last handed control back to the main context (by yielding, returning from
 * its function, or sim_coro_escape), or NULL if none has yet or it was destroyed since.
 */
sim_coro *sim_coro_last(void);

/*
 * Leaving a coroutine without a switch: a signal handler running on a coroutine's stack calls
 * sim_coro_escape() and then siglongjmp()s to a jump buffer set on the main context, which calls
 * sim_coro_escaped() once it has landed. The coroutine counts as done and is never entered again
 * (destroy only frees it). A signal that lands in the middle of a sim_coro_transfer(), where it
 * cannot tell which of the two coroutines' stacks it runs on, abandons both the same way. Used by
 * the simulator's guard against driver loops with no platform point.
 */
void sim_coro_escape(void);
void sim_coro_escaped(void);

/* True once c's function has returned (NULL counts as done). */
bool sim_coro_done(const sim_coro *c);

/* The backend compiled in: "asm-x86_64", "asm-aarch64" or "ucontext". */
const char *sim_coro_backend(void);

#endif /* QINVAL_SIM_CORO_H */
