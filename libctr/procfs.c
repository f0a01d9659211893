#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U /* Linux 5.8 */
#endif

/* The inode number of every procfs root (PROC_ROOT_INO in fs/proc/internal.h). */
enum { PROC_ROOT_INO = 1 };

/* No mount crossed (a bind over the file or a directory on the way fails with EXDEV), no magic
 * link followed, nothing outside the procfs root reached. */
#define PROCFS_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS)

static bool on_procfs(int fd)
{
    struct statfs st;
    return fstatfs(fd, &st) == 0 && st.f_type == PROC_SUPER_MAGIC;
}

int procfs_open_root(ctr_error **err)
{
    _cleanup_close_ int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "open /proc");
    struct stat st;
    if (!on_procfs(fd) || fstat(fd, &st) < 0)
        return error_set(err, ENODEV, "/proc is not a procfs, so the runtime cannot write to it "
                                      "safely");
    /* A procfs directory bound over /proc (its sys/, another pid's) is not where self/ is. */
    if (st.st_ino != PROC_ROOT_INO)
        return error_set(err, ENODEV, "/proc is not the root of a procfs (inode %llu)",
                         (unsigned long long)st.st_ino);
    return steal_fd(&fd);
}

static int mount_id(int fd, uint64_t *id)
{
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
        return -1;
    if (!(stx.stx_mask & STATX_MNT_ID)) {
        errno = ENOSYS;
        return -1;
    }
    *id = stx.stx_mnt_id;
    return 0;
}

/* PROCFS_RESOLVE by hand, where openat2 answers ENOSYS (a kernel before 5.6, or an outer
 * container's seccomp profile): one component at a time without following symlinks, each on the
 * root's mount. The only symlinks taken are a pid's own ("self" -> "1234"), which stay in the
 * directory they are in. */
static int open_by_hand(int procfd, const char *path, int flags)
{
    uint64_t root_mnt, mnt;
    _cleanup_free_ char *work = strdup(path);
    if (work == NULL) {
        errno = ENOMEM;
        return -1;
    }
    if (mount_id(procfd, &root_mnt) < 0)
        return -1;
    _cleanup_close_ int dir = fcntl(procfd, F_DUPFD_CLOEXEC, 0);
    char *save = NULL;
    char *comp = strtok_r(work, "/", &save);
    while (dir >= 0 && comp != NULL) {
        char *next = strtok_r(NULL, "/", &save);
        char target[32];
        struct stat st;
        if (strcmp(comp, "..") == 0 || strcmp(comp, ".") == 0) {
            errno = EXDEV;
            return -1;
        }
        if (fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return -1;
        if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlinkat(dir, comp, target, sizeof(target) - 1);
            if (n <= 0 || (size_t)n >= sizeof(target) - 1 || memchr(target, '/', (size_t)n)) {
                errno = ELOOP;
                return -1;
            }
            target[n] = '\0';
            comp = target;
        }
        int step = openat(dir, comp, (next ? O_PATH : flags) | O_NOFOLLOW | O_CLOEXEC);
        if (step < 0)
            return -1;
        int bad = mount_id(step, &mnt) < 0 ? errno
                  : mnt != root_mnt       ? EXDEV
                  : next && (fstat(step, &st) < 0 || !S_ISDIR(st.st_mode)) ? ENOTDIR
                                                                           : 0;
        close(dir);
        dir = step;
        if (bad) {
            errno = bad;
            return -1;
        }
        comp = next;
    }
    return steal_fd(&dir);
}

static int open_beneath(int procfd, const char *path, int flags)
{
    /* openat2 refuses any flag but these with O_PATH. */
    if (!(flags & O_PATH))
        flags |= O_NOCTTY;
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = PROCFS_RESOLVE};
    int fd = (int)syscall(SYS_openat2, procfd, path, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS)
        return open_by_hand(procfd, path, flags);
    return fd;
}

int procfs_open(int procfd, const char *path, int flags, ctr_error **err)
{
    int fd = open_beneath(procfd, path, flags);
    /* Becoming root of a new user namespace (setresuid) cleared the dumpable flag, and procfs
     * then shows this process's files as owned by the host's root, which is not mapped in the
     * namespace: even its root gets EACCES. So the process is made dumpable for the one open
     * only, as runc's nsexec is for its id maps. CVE-2016-9962 (a container process ptrace()ing
     * the init while it holds host resources) needs a tracer with capabilities in the new user
     * namespace, and no other process is in it yet during the init's set-up. */
    if (fd < 0 && errno == EACCES && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 &&
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0) {
        fd = open_beneath(procfd, path, flags);
        int saved = errno;
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        errno = saved;
    }
    if (fd < 0) {
        if (errno == EXDEV)
            return error_set(err, EXDEV, "open `/proc/%s`: a mount covers it or a directory on "
                                         "the way (refused: CVE-2025-52881)", path);
        return error_set(err, errno, "open `/proc/%s`", path);
    }
    if (!on_procfs(fd)) {
        close(fd);
        return error_set(err, EXDEV, "open `/proc/%s`: not a procfs file", path);
    }
    return fd;
}

int procfs_write(int procfd, const char *path, const char *data, size_t len, ctr_error **err)
{
    _cleanup_close_ int fd = procfs_open(procfd, path, O_WRONLY, err);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = write(fd, data, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return error_set(err, errno, "write `%.*s` to `/proc/%s`", (int)(len > 64 ? 64 : len),
                         data, path);
    if ((size_t)n != len)
        return error_set(err, EIO, "short write to `/proc/%s`", path);
    return 0;
}

int procfs_read(int procfd, const char *path, char **data, ctr_error **err)
{
    _cleanup_close_ int fd = procfs_open(procfd, path, O_RDONLY, err);
    if (fd < 0)
        return -1;
    size_t cap = 4096, used = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (buf == NULL)
        return error_set(err, ENOMEM, "read `/proc/%s`", path);
    for (;;) {
        if (cap - used < 2) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                return error_set(err, ENOMEM, "read `/proc/%s`", path);
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return error_set(err, errno, "read `/proc/%s`", path);
        if (n == 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    *data = steal_pointer(&buf);
    return 0;
}

int procfs_open_namespace(int procfd, const char *path, int nstype, ctr_error **err)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash[1] == '\0')
        return error_set(err, EINVAL, "`/proc/%s` does not name a namespace file", path);
    _cleanup_free_ char *dir_path = strndup(path, (size_t)(slash - path));
    if (dir_path == NULL)
        return error_set(err, ENOMEM, "open `/proc/%s`", path);
    _cleanup_close_ int dir = procfs_open(procfd, dir_path, O_PATH | O_DIRECTORY, err);
    if (dir < 0)
        return -1;
    /* The link itself is magic (it jumps to nsfs), so it is followed here, once, and what it
     * led to is checked. */
    _cleanup_close_ int fd = openat(dir, slash + 1, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "open `/proc/%s`", path);
    struct statfs st;
    if (fstatfs(fd, &st) < 0 || st.f_type != NSFS_MAGIC || ioctl(fd, NS_GET_NSTYPE) != nstype)
        return error_set(err, EINVAL, "`/proc/%s` is not the expected namespace", path);
    return steal_fd(&fd);
}
