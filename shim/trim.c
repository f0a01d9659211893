/* Giving memory back while the shim idles; see trim.h. */
#include "trim.h"

#include <ctype.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* What to drop, collected while reading /proc/self/smaps and dropped together at the end:
 * dropping libc's code while still parsing with it would fault most of it back in at once. */
#define RANGES_MAX 64

struct scan {
    struct {
        unsigned long start, end;
    } drop[RANGES_MAX];
    size_t count;
    /* The mapping being read. */
    unsigned long start, end;
    bool candidate; /* private, not writable, backed by a file */
    bool resident;  /* Rss > 0 */
};

static void drop_all(struct scan *scan)
{
    for (size_t i = 0; i < scan->count; i++)
        madvise((void *)scan->drop[i].start, scan->drop[i].end - scan->drop[i].start,
                MADV_DONTNEED);
    scan->count = 0;
}

static void add(struct scan *scan, unsigned long start, unsigned long end)
{
    if (scan->count == RANGES_MAX)
        drop_all(scan);
    scan->drop[scan->count].start = start;
    scan->drop[scan->count].end = end;
    scan->count++;
}

/* A mapping's first line: "start-end perms offset dev inode [path]". */
static bool parse_header(const char *line, struct scan *scan)
{
    char perms[5];
    unsigned long start, end;
    int path_at = 0;
    /* "Anonymous:" starts with a hex digit too: only a whole range makes a header. */
    if (!isxdigit((unsigned char)line[0]) ||
        sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3)
        return false;
    scan->start = start;
    scan->end = end;
    scan->candidate = perms[1] != 'w' && perms[3] == 'p' && path_at > 0 && line[path_at] == '/';
    scan->resident = false;
    return true;
}

static void parse_line(const char *line, struct scan *scan)
{
    unsigned long kib;
    if (parse_header(line, scan))
        return;
    if (sscanf(line, "Rss: %lu", &kib) == 1)
        scan->resident = kib > 0;
    else if (sscanf(line, "Anonymous: %lu", &kib) == 1 && kib == 0 && scan->candidate &&
             scan->resident)
        add(scan, scan->start, scan->end);
}

static void drop_clean_file_mappings(void)
{
    int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    /* Read in chunks, line by line, without the heap (it was just trimmed). A line longer than
     * the buffer (a path near PATH_MAX) is skipped, and its mapping with it. */
    char buf[4096];
    size_t len = 0;
    bool skipping = false;
    struct scan scan = {.count = 0};
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            if (!skipping)
                parse_line(line, &scan);
            skipping = false;
            line = nl + 1;
        }
        len = strlen(line);
        if (len == sizeof(buf) - 1) {
            scan.candidate = false;
            skipping = true;
            len = 0;
        } else {
            memmove(buf, line, len);
        }
    }
    close(fd);
    drop_all(&scan);
}

void memory_trim(void)
{
    malloc_trim(0);
    drop_clean_file_mappings();
}
