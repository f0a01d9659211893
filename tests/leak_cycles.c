/* Runs one bundle through the whole lifecycle many times in one process, with the library
 * in-process, and checks that nothing accumulates: the fds of this process, its heap and RSS.
 * tests/integration/test_leak_cycles.py runs it (and checks the host's mounts and cgroups).
 *
 *   leak_cycles BUNDLE CYCLES [STATE_ROOT]
 *
 * Each cycle is ctr_container_create (which loads BUNDLE/config.json), _start, _wait and _delete.
 * The first cycles warm up (caches, the allocator's arenas); the figures are then taken after
 * them and at the end, and printed as one line. It fails when the fd count changed, when the heap
 * in use grew by more than HEAP_SLACK bytes (one small allocation leaked per cycle shows as >= 32
 * bytes per cycle), or, outside sanitizer builds, when RSS grew by more than RSS_SLACK_KB.
 *
 * The heap in use is glibc's count (mallinfo2) with its per-thread cache and fast bins turned
 * off (the program re-executes itself with GLIBC_TUNABLES for that): chunks parked there count as
 * in use and drift by kilobytes over hundreds of cycles; without them the count is exact. Under
 * AddressSanitizer it is the sanitizer's count of live bytes (its allocator replaces malloc), and
 * RSS is not judged: freed memory sits in its quarantine.
 */
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libctr/libctr.h>

/* Present only in a program linked with a sanitizer runtime (sanitizer/allocator_interface.h). */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

enum { HEAP_SLACK = 1024, RSS_SLACK_KB = 2048 };

static const char tunables[] = "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0";

struct figures {
    long fds;
    long rss_kb;
    long heap;
};

static long count_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return -1;
    long n = 0;
    for (struct dirent *d; (d = readdir(dir)) != NULL;)
        if (d->d_name[0] != '.')
            n++;
    closedir(dir);
    return n - 1; /* the directory's own fd */
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static long heap_in_use(void)
{
    if (__sanitizer_get_current_allocated_bytes)
        return (long)__sanitizer_get_current_allocated_bytes();
    struct mallinfo2 mi = mallinfo2();
    return (long)(mi.uordblks + mi.hblkhd); /* arena chunks in use + mmap'd chunks */
}

static struct figures measure(void)
{
    return (struct figures){.fds = count_fds(), .rss_kb = rss_kb(), .heap = heap_in_use()};
}

static int fail(const char *what, ctr_error *err)
{
    fprintf(stderr, "leak_cycles: %s: %s\n", what, err ? ctr_error_message(err) : "failed");
    ctr_error_free(err);
    return 1;
}

static int one_cycle(ctr_context *context, const char *bundle, const char *id, int devnull)
{
    struct ctr_create_options opts = {
        .size = sizeof opts,
        .bundle = bundle,
        .stdio = {devnull, devnull, devnull},
    };
    ctr_container *container = NULL;
    ctr_error *err = NULL;
    int status = -1;
    if (ctr_container_create(context, id, &opts, &container, &err) < 0)
        return fail("create", err);
    if (ctr_container_start(container, &err) < 0 || ctr_container_wait(container, &status, &err) < 0) {
        fail(id, err);
        ctr_container_destroy(container, NULL);
        return 1;
    }
    if (ctr_container_delete(container, 0, &err) < 0)
        return fail("delete", err);
    if (status != 0) {
        fprintf(stderr, "leak_cycles: %s exited with status %d\n", id, status);
        return 1;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || atoi(argv[2]) < 2) {
        fprintf(stderr, "usage: %s BUNDLE CYCLES [STATE_ROOT]   (CYCLES >= 2)\n", argv[0]);
        return 2;
    }
    const char *current = getenv("GLIBC_TUNABLES");
    if (current == NULL || strcmp(current, tunables) != 0) {
        if (setenv("GLIBC_TUNABLES", tunables, 1) == 0)
            execv("/proc/self/exe", argv);
        perror("leak_cycles: re-execute with GLIBC_TUNABLES");
        return 1;
    }
    const char *bundle = argv[1];
    int cycles = atoi(argv[2]);
    int warmup = cycles / 10 > 0 ? cycles / 10 : 1;

    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        perror("leak_cycles: /dev/null");
        return 1;
    }
    struct ctr_context_options context_opts = {
        .size = sizeof context_opts,
        .state_root = argc == 4 ? argv[3] : NULL,
    };
    ctr_context *context = NULL;
    ctr_error *err = NULL;
    if (ctr_context_new(&context_opts, &context, &err) < 0)
        return fail("context", err);

    struct figures start = {0};
    double started = now();
    for (int i = 0; i < cycles; i++) {
        if (i == warmup)
            start = measure();
        char id[64];
        snprintf(id, sizeof id, "leak-cycles-%d-%d", (int)getpid(), i);
        if (one_cycle(context, bundle, id, devnull) != 0) {
            fprintf(stderr, "leak_cycles: cycle %d failed\n", i);
            ctr_context_free(context);
            return 1;
        }
    }
    struct figures end = measure();
    double elapsed = now() - started;
    ctr_context_free(context);
    close(devnull);

    int measured = cycles - warmup;
    bool sanitized = __sanitizer_get_current_allocated_bytes != NULL;
    printf("leak_cycles: %d cycles in %.1f s (%.1f ms each); after %d warm-up cycles and at the "
           "end: fds %ld -> %ld, heap in use %ld -> %ld bytes (%+.1f per cycle), "
           "RSS %ld -> %ld kB%s\n",
           cycles, elapsed, elapsed * 1000 / cycles, warmup, start.fds, end.fds, start.heap,
           end.heap, (double)(end.heap - start.heap) / measured, start.rss_kb, end.rss_kb,
           sanitized ? " (not judged under a sanitizer)" : "");
    int bad = 0;
    if (start.fds < 0 || end.fds != start.fds) {
        fprintf(stderr, "leak_cycles: the fd count changed: %ld -> %ld\n", start.fds, end.fds);
        bad = 1;
    }
    if (end.heap - start.heap > HEAP_SLACK) {
        fprintf(stderr, "leak_cycles: the heap grew by %ld bytes in %d cycles\n",
                end.heap - start.heap, measured);
        bad = 1;
    }
    if (!sanitized && (start.rss_kb < 0 || end.rss_kb - start.rss_kb > RSS_SLACK_KB)) {
        fprintf(stderr, "leak_cycles: RSS grew from %ld to %ld kB\n", start.rss_kb, end.rss_kb);
        bad = 1;
    }
    return bad;
}
