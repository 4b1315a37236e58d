/*
 * blocks.c — the block chain of blocks.h.
 */
#include <stdlib.h>

#include "util/blocks.h"
#include "util/grow.h"

struct mem_block *block_next(struct mem_block **head, struct mem_block *cur, size_t bytes,
                             size_t min_size, const char *what)
{
    struct mem_block *b = cur ? cur->next : *head, *last = cur;
    while (b && b->size < bytes) {
        last = b;
        b = b->next;
    }
    if (!b) {
        size_t size = bytes > min_size ? bytes : min_size;
        grow_in_alloc = 1; /* (the simulator's step guard must not jump out of malloc) */
        b = malloc(sizeof(*b) + size);
        grow_in_alloc = 0;
        if (!b)
            grow_out_of_memory(sizeof(*b) + size, what);
        b->next = NULL;
        b->size = size;
        if (last)
            last->next = b;
        else
            *head = b;
    }
    b->used = 0;
    return b;
}

void block_chain_free(struct mem_block *head)
{
    while (head) {
        struct mem_block *next = head->next;
        free(head);
        head = next;
    }
}
