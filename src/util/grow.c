/*
 * grow.c — what grow.h declares: whether this thread is inside the allocator on behalf of the
 * simulation (read by the simulator's step guard before it long-jumps), and the one way out
 * when memory for a record runs out.
 */
#include <stdio.h>
#include <unistd.h>

#include "util/grow.h"

_Thread_local volatile sig_atomic_t grow_in_alloc;

_Noreturn void grow_out_of_memory(size_t bytes, const char *what)
{
    /* What was printed so far goes out first; then one line, and no clean-up: the allocator
     * just failed, and a handler run at exit could need it. */
    fflush(stdout);
    if (bytes == SIZE_MAX)
        fprintf(stderr, "qinval: out of memory: %s would need more than the address space\n", what);
    else
        fprintf(stderr,
                "qinval: out of memory: %zu bytes for %s could not be had (a run this long "
                "needs more memory: bound it with --time, or give it a smaller workload)\n",
                bytes, what);
    _exit(3);
}
