#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

/* ---- arena ----------------------------------------------------------------------------------- */

/* Under AddressSanitizer (tests/sanitize, tests/fuzz) each allocation is followed by a poisoned
 * redzone and a chunk's unused tail stays poisoned, so that reading or writing past an object
 * is reported as it would be for a malloc'd one: without this, objects sit side by side in one
 * malloc'd chunk, and ASan sees nothing until the chunk's end. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
enum { ARENA_REDZONE = 16 };
#else
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
enum { ARENA_REDZONE = 0 };
#endif

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    max_align_t data[];
};

struct arena {
    struct arena_chunk *chunks;
};

enum { ARENA_CHUNK_SIZE = 16384 };

struct arena *arena_new(void)
{
    return calloc(1, sizeof(struct arena));
}

void arena_free(struct arena *arena)
{
    if (arena == NULL)
        return;
    for (struct arena_chunk *c = arena->chunks, *next; c; c = next) {
        next = c->next;
        ASAN_UNPOISON_MEMORY_REGION(c->data, c->size);
        free(c);
    }
    free(arena);
}

void *arena_alloc(struct arena *arena, size_t size)
{
    size_t wanted = size;
    /* The rounding below and the chunk header must not wrap around to a small allocation. */
    if (size > SIZE_MAX - sizeof(struct arena_chunk) - ARENA_REDZONE - sizeof(max_align_t))
        return NULL;
    size = (size + ARENA_REDZONE + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    struct arena_chunk *c = arena->chunks;
    if (c == NULL || c->size - c->used < size) {
        size_t cap = size > ARENA_CHUNK_SIZE ? size : ARENA_CHUNK_SIZE;
        c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->size = cap;
        c->next = arena->chunks;
        arena->chunks = c;
        ASAN_POISON_MEMORY_REGION(c->data, cap);
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    ASAN_UNPOISON_MEMORY_REGION(p, wanted);
    memset(p, 0, wanted);
    return p;
}

char *arena_strdup(struct arena *arena, const char *s)
{
    size_t len = strlen(s) + 1;
    char *copy = arena_alloc(arena, len);
    if (copy)
        memcpy(copy, s, len);
    return copy;
}

/* ---- files ----------------------------------------------------------------------------------- */

int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int read_file_at(int dirfd, const char *path, char **data, size_t *len, ctr_error **err)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return error_set(err, errno, "open `%s`", path);
    size_t cap = 4096, used = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (buf == NULL)
        return error_set(err, ENOMEM, "read `%s`", path);
    for (;;) {
        if (cap - used < 2) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                return error_set(err, ENOMEM, "read `%s`", path);
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return error_set(err, errno, "read `%s`", path);
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    if (len)
        *len = used;
    *data = steal_pointer(&buf);
    return 0;
}
