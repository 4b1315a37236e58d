/*
 * blocks.h — a chain of memory blocks whose contents never move, kept from one use to the next:
 * the simulator's copies of note strings and the checker's submit records (other CPUs hold
 * pointers into both while more are added). A use fills the chain's blocks in order, emptying
 * each as it takes it, and allocates a block only past the most any earlier use needed, so an
 * execution's memory grows with what it records, not with what it could record.
 */
#ifndef QINVAL_UTIL_BLOCKS_H
#define QINVAL_UTIL_BLOCKS_H

#include <stddef.h>

struct mem_block {
    struct mem_block *next;
    size_t size, used; /* bytes of mem[], and bytes of it taken */
    _Alignas(16) unsigned char mem[];
};

/* The block to fill after `cur` (NULL: the chain's first) with room for `bytes`: the next one
 * of the chain that has that room, emptied, or a new one of max(bytes, min_size) bytes added to
 * the chain *head. Blocks skipped for being too small stay as they are. Out of memory ends the
 * process (grow_out_of_memory, naming `what`). */
struct mem_block *block_next(struct mem_block **head, struct mem_block *cur, size_t bytes,
                             size_t min_size, const char *what);

/* Free a whole chain. */
void block_chain_free(struct mem_block *head);

#endif /* QINVAL_UTIL_BLOCKS_H */
