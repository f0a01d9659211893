/* Small helpers shared by every module: scope-bound cleanup (DESIGN.md, "Cleanup"), an arena for
 * the parsed configuration, whole-file reads and complete writes. */
#ifndef LIBCTR_UTIL_H
#define LIBCTR_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(cleanup_freep)
#define _cleanup_close_ _cleanup_(cleanup_closep)
#define _cleanup_closedir_ _cleanup_(cleanup_closedirp)

static inline void cleanup_freep(void *p)
{
    free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

static inline void cleanup_closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

/* Hands ownership out of a cleanup-managed variable. */
#define steal_pointer(pp)                                                                          \
    ({                                                                                             \
        __typeof__(*(pp)) _stolen = *(pp);                                                         \
        *(pp) = NULL;                                                                              \
        _stolen;                                                                                   \
    })
#define steal_fd(fdp)                                                                              \
    ({                                                                                             \
        int _stolen = *(fdp);                                                                      \
        *(fdp) = -1;                                                                               \
        _stolen;                                                                                   \
    })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A bump allocator: everything parsed from one config.json is freed at once. */
struct arena;
struct arena *arena_new(void);
void arena_free(struct arena *arena);
/* Zeroed memory; NULL only when out of memory. */
void *arena_alloc(struct arena *arena, size_t size);
char *arena_strdup(struct arena *arena, const char *s);

/* Reads a whole (small or procfs) file into a NUL-terminated buffer the caller frees. */
int read_file_at(int dirfd, const char *path, char **data, size_t *len, ctr_error **err);

/* Loops over partial writes and EINTR. */
int write_all(int fd, const void *buf, size_t len);

#endif
