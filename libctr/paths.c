#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "util.h"

/* How the kernel resolves every container path: `..` and absolute symlinks are clamped to the
 * root, and /proc/<pid>/{root,cwd,fd/N} style magic links, which could jump anywhere on the host,
 * are refused (ELOOP). */
#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

/* The kernel's own limit on symlinks in one lookup (MAXSYMLINKS), for those we follow by hand. */
enum { MAX_LINKS = 40, MAX_RETRIES = 32 };

/* Splits off the first component of *rest ("a/b/c" -> "a", rest "b/c"), skipping empty ones and
 * ".". Returns NULL when nothing is left. Works in place on a writable buffer. */
static char *next_component(char **rest)
{
    for (;;) {
        char *s = *rest;
        while (*s == '/')
            s++;
        if (*s == '\0') {
            *rest = s;
            return NULL;
        }
        char *end = strchr(s, '/');
        if (end) {
            *end = '\0';
            *rest = end + 1;
        } else {
            *rest = s + strlen(s);
        }
        if (strcmp(s, ".") != 0)
            return s;
    }
}

/* Whether anything but empty and "." components is left in `rest`. */
static bool more_components(const char *rest)
{
    for (const char *s = rest; *s;) {
        while (*s == '/')
            s++;
        const char *end = strchrnul(s, '/');
        if (end > s && !(end - s == 1 && s[0] == '.'))
            return true;
        s = end;
    }
    return false;
}

/* Whether `fd` is a directory of a procfs, whose symlinks may be magic ones. */
static bool on_procfs(int fd)
{
    struct statfs st;
    return fstatfs(fd, &st) == 0 && st.f_type == PROC_SUPER_MAGIC;
}

/* RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS done by hand, for kernels older than 5.6 and seccomp
 * profiles that answer openat2 with ENOSYS (and valgrind, which does not know it). One component
 * at a time with O_NOFOLLOW; a symlink is read and its target walked inside the root (from the
 * root when absolute); `..` pops the stack of directories walked, never above the root. Stricter
 * than the kernel on one point: any symlink on a procfs is refused (ELOOP), as magic links cannot
 * be told from plain ones from userspace. Unlike the kernel's, this walk is not atomic against a
 * directory moved out of the root while it runs, which is why openat2 comes first. */
static int open_in_root_by_hand(int rootfd, const char *path, int flags)
{
    _cleanup_free_ char *work = strdup(path);
    _cleanup_free_ int *stack = malloc(sizeof(int) * 16);
    size_t depth = 0, cap = 16; /* stack[0..depth) are ours; the root is implicit under them */
    int links = 0, rc = -1, saved = 0;
    if (work == NULL || stack == NULL) {
        errno = ENOMEM;
        return -1;
    }
    char *rest = work, *comp;
    while ((comp = next_component(&rest)) != NULL) {
        int cur = depth ? stack[depth - 1] : rootfd;
        if (strcmp(comp, "..") == 0) {
            if (depth)
                close(stack[--depth]);
            continue;
        }
        int fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            saved = errno;
            if (fd >= 0)
                close(fd);
            goto out;
        }
        if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
            saved = n < 0 ? errno : on_procfs(cur) || ++links > MAX_LINKS ? ELOOP : 0;
            close(fd);
            if (saved)
                goto out;
            target[n] = '\0';
            char *spliced = NULL;
            if (asprintf(&spliced, "%s/%s", target, rest) < 0) {
                saved = ENOMEM;
                goto out;
            }
            free(work);
            work = rest = spliced;
            if (target[0] == '/')
                while (depth)
                    close(stack[--depth]);
            continue;
        }
        if (!S_ISDIR(st.st_mode) && more_components(rest)) {
            close(fd);
            saved = ENOTDIR;
            goto out;
        }
        if (depth == cap) {
            int *bigger = realloc(stack, sizeof(int) * cap * 2);
            if (bigger == NULL) {
                close(fd);
                saved = ENOMEM;
                goto out;
            }
            stack = bigger;
            cap *= 2;
        }
        stack[depth++] = fd;
    }
    int last = depth ? stack[depth - 1] : rootfd;
    struct stat st;
    if ((flags & O_DIRECTORY) && (fstat(last, &st) < 0 || !S_ISDIR(st.st_mode))) {
        saved = ENOTDIR;
        goto out;
    }
    if (depth) {
        rc = stack[--depth];
    } else {
        rc = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        saved = errno;
    }
out:
    while (depth)
        close(stack[--depth]);
    if (rc < 0)
        errno = saved;
    return rc;
}

static int open_in_root(const struct sys_ops *sys, int rootfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(O_PATH | O_CLOEXEC | flags),
        .resolve = IN_ROOT,
    };
    /* An empty path names the root itself. */
    const char *p = *path ? path : ".";
    int fd;
    int tries = 0;
    /* EAGAIN: the kernel saw a concurrent rename or mount while checking `..` and asks us to try
     * again rather than guess. */
    do
        fd = sys->openat2(rootfd, p, &how, sizeof(how));
    while (fd < 0 && errno == EAGAIN && ++tries < MAX_RETRIES);
    if (fd < 0 && errno == ENOSYS)
        return open_in_root_by_hand(rootfd, p, flags);
    return fd;
}

int paths_open(const struct sys_ops *sys, int rootfd, const char *path, ctr_error **err)
{
    int fd = open_in_root(sys, rootfd, path, 0);
    if (fd < 0)
        return error_set(err, errno, "resolve `%s` in the container's root", path);
    return fd;
}

int paths_open_optional(const struct sys_ops *sys, int rootfd, const char *path, int *fd,
                        ctr_error **err)
{
    *fd = open_in_root(sys, rootfd, path, 0);
    if (*fd >= 0 || errno == ENOENT)
        return 0;
    return error_set(err, errno, "resolve `%s` in the container's root", path);
}

int paths_open_child(int dirfd, const char *name, int flags, ctr_error **err)
{
    if (strchr(name, '/') != NULL || strcmp(name, "..") == 0)
        return error_set(err, EINVAL, "`%s` is not a single path component", name);
    /* One component with O_NOFOLLOW: a symlink there is opened as itself, never followed. */
    int fd = openat(dirfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW | flags);
    if (fd < 0)
        return error_set(err, errno, "open `%s`", name);
    return fd;
}

/* Creates `name` in `dirfd` as `kind`. EEXIST is not an error: someone (a dangling symlink we are
 * about to find, or a concurrent creator) got there first, and the caller looks again. */
static int create_entry(const struct sys_ops *sys, int dirfd, const char *name, enum paths_kind kind,
                        mode_t mode)
{
    if (kind == PATHS_DIR) {
        if (sys->mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
            return -1;
        return 0;
    }
    /* mknod of a regular file creates it empty and, like mkdir, never follows a symlink that
     * is (or was swapped in) at its place: it fails with EEXIST instead. */
    if (sys->mknodat(dirfd, name, S_IFREG | mode, 0) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* The walk behind paths_create(): `done` is the part of the path known to exist (the kernel resolves
 * it again from the root each time, so symlinks in it are followed inside the root), `rest` what is
 * left. A missing component is created in the directory `done` resolves to, by fd, and then opened
 * through the kernel like any other. A dangling symlink is read and its target spliced in front of
 * `rest`, so what gets created is the target, inside the root, where the kernel would have
 * resolved it had it existed. With `parent_name`, the walk stops before the last component and
 * hands its name back instead. */
static int walk_create(const struct sys_ops *sys, int rootfd, const char *path, enum paths_kind kind,
                       mode_t mode, char **parent_name, ctr_error **err)
{
    _cleanup_free_ char *buf = strdup(path);
    _cleanup_free_ char *done = strdup("");
    if (buf == NULL || done == NULL)
        return error_set(err, ENOMEM, "resolve `%s`", path);
    char *rest = buf;
    char *comp = NULL;
    /* The fd of `done`; -1 stands for the root itself, which is the caller's. */
    _cleanup_close_ int curfd = -1;
    int links = 0, retries = 0;

    for (;;) {
        if (comp == NULL && (comp = next_component(&rest)) == NULL)
            break;
        bool last = !more_components(rest);
        if (last && parent_name != NULL) {
            if (strcmp(comp, "..") == 0)
                return error_set(err, EINVAL, "`%s` does not name an entry in a directory", path);
            *parent_name = strdup(comp);
            if (*parent_name == NULL)
                return error_set(err, ENOMEM, "resolve `%s`", path);
            break;
        }
        _cleanup_free_ char *candidate = NULL;
        if (asprintf(&candidate, "%s%s%s", done, *done ? "/" : "", comp) < 0)
            return error_set(err, ENOMEM, "resolve `%s`", path);

        int fd = open_in_root(sys, rootfd, candidate, 0);
        if (fd >= 0) {
            if (curfd >= 0)
                close(curfd);
            curfd = fd;
            free(done);
            done = steal_pointer(&candidate);
            comp = NULL;
            continue;
        }
        if (errno != ENOENT || strcmp(comp, "..") == 0)
            return error_set(err, errno, "resolve `%s` in the container's root", path);

        int dirfd = curfd >= 0 ? curfd : rootfd;
        char target[PATH_MAX];
        ssize_t n = readlinkat(dirfd, comp, target, sizeof(target) - 1);
        if (n >= 0) {
            /* A dangling symlink: go on with its target, then what was left after it. */
            if (++links > MAX_LINKS)
                return error_set(err, ELOOP, "resolve `%s` in the container's root", path);
            target[n] = '\0';
            char *spliced = NULL;
            if (asprintf(&spliced, "%s/%s", target, rest) < 0)
                return error_set(err, ENOMEM, "resolve `%s`", path);
            free(buf);
            buf = rest = spliced;
            comp = NULL;
            if (target[0] == '/') {
                /* Absolute: start again from the root, as RESOLVE_IN_ROOT would. */
                done[0] = '\0';
                if (curfd >= 0)
                    close(curfd);
                curfd = -1;
            }
            continue;
        }
        if (errno != ENOENT && errno != EINVAL)
            return error_set(err, errno, "read `%s` while resolving `%s`", candidate, path);

        /* Missing: create it and go round again with the same component. */
        if (++retries > MAX_RETRIES)
            return error_set(err, EAGAIN, "create `%s`: it keeps changing", path);
        if (create_entry(sys, dirfd, comp, last ? kind : PATHS_DIR, last ? mode : 0755) < 0)
            return error_set(err, errno, "create `%s` in the container's root", path);
    }
    if (curfd >= 0)
        return steal_fd(&curfd);
    /* The path named the root itself (or, for a parent, the root holds its only component). */
    int fd = open_in_root(sys, rootfd, "", 0);
    if (fd < 0)
        return error_set(err, errno, "open the container's root");
    return fd;
}

int paths_create(const struct sys_ops *sys, int rootfd, const char *path, enum paths_kind kind,
                 mode_t mode, ctr_error **err)
{
    /* Most destinations exist already: one lookup of the whole path finds what the walk would
     * (it opens every prefix on the way), rather than one lookup from the root per component. */
    int fd = open_in_root(sys, rootfd, path, 0);
    if (fd >= 0)
        return fd;
    return walk_create(sys, rootfd, path, kind, mode, NULL, err);
}

int paths_create_parent(const struct sys_ops *sys, int rootfd, const char *path, char **name,
                        ctr_error **err)
{
    *name = NULL;
    int fd = walk_create(sys, rootfd, path, PATHS_DIR, 0755, name, err);
    if (fd >= 0 && *name == NULL) {
        close(fd);
        return error_set(err, EINVAL, "`%s` does not name an entry in a directory", path);
    }
    return fd;
}

char *paths_clean(const char *path)
{
    size_t len = strlen(path);
    char *out = malloc(len + 2);
    char *copy = strdup(path);
    if (out == NULL || copy == NULL) {
        free(out);
        free(copy);
        return NULL;
    }
    size_t o = 0;
    char *rest = copy, *comp;
    while ((comp = next_component(&rest)) != NULL) {
        if (strcmp(comp, "..") == 0) {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* drop the slash before the removed component too */
            continue;
        }
        out[o++] = '/';
        size_t n = strlen(comp);
        memcpy(out + o, comp, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    free(copy);
    return out;
}

bool paths_equal(const char *a, const char *b)
{
    _cleanup_free_ char *ca = paths_clean(a);
    _cleanup_free_ char *cb = paths_clean(b);
    return ca != NULL && cb != NULL && strcmp(ca, cb) == 0;
}
