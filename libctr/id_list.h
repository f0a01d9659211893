/* CPU and memory-node lists as the kernel writes them ("0-3,7"): process.execCPUAffinity,
 * linux.resources.cpu.cpus and .mems, linux.memoryPolicy.nodes. The config parser checks them
 * and the process set-up applies them with this one reader, so a list the parser took is one the
 * set-up can apply. */
#ifndef LIBCTR_ID_LIST_H
#define LIBCTR_ID_LIST_H

#include <stddef.h>

/* The highest id + 1 a list may name: larger than any kernel's NR_CPUS or MAX_NUMNODES, small
 * enough that a typo ("0-4000000000") does not make the runtime allocate half a gigabyte for its
 * bitmap. */
enum { ID_LIST_MAX = 65536 };

/* What is wrong with a list, and where. */
struct id_list_fault {
    enum {
        ID_LIST_EMPTY,
        ID_LIST_NO_NUMBER,  /* at `offset`: not a digit */
        ID_LIST_TOO_BIG,    /* at `offset`: the number reaches ID_LIST_MAX */
        ID_LIST_REVERSED,   /* the range lo-hi */
        ID_LIST_SEPARATOR,  /* at `offset`: neither ',' nor '-' */
    } kind;
    size_t offset;
    unsigned long lo, hi;
};

/* Calls `range` (NULL: only checks) with each range of `list` in order. Returns 0, or -1 with
 * *fault filled. */
int id_list_walk(const char *list, void (*range)(unsigned long lo, unsigned long hi, void *data),
                 void *data, struct id_list_fault *fault);

#endif
