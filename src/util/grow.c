/*
 * grow.c — the one variable behind grow.h: whether this thread is inside the allocator on
 * behalf of the simulation (read by the simulator's step guard before it long-jumps).
 */
#include "util/grow.h"

_Thread_local volatile sig_atomic_t grow_in_alloc;
