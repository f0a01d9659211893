#include "mount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lsm.h"
#include "paths.h"
#include "procfs.h"
#include "util.h"

/* Linux 5.10's statfs flag for MS_NOSYMFOLLOW (include/linux/statfs.h); glibc 2.36 lacks it. */
#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000
#endif

/* ---- small shared pieces --------------------------------------------------------------------- */

const char *mount_fd_path(char buf[static FD_PATH_SIZE], int fd)
{
    snprintf(buf, FD_PATH_SIZE, "/proc/self/fd/%d", fd);
    return buf;
}

bool mount_is_bind(const struct spec_mount *m)
{
    return m->is_bind || (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
}

char *mount_label(const struct spec_mount *m, size_t index)
{
    /* A bind is best named by what it binds; anything else by its filesystem type. */
    const char *what = mount_is_bind(m) ? m->source : m->type;
    if (what == NULL)
        what = m->source ? m->source : "none";
    char *label = NULL;
    if (asprintf(&label, "mount `%s` on `%s` (mounts[%zu])", what, m->destination, index) < 0)
        return NULL;
    return label;
}

int mount_reopen(const struct sys_ops *sys, int rootfd, const char *dest, const char *label,
                 ctr_error **err)
{
    int fd = paths_open(sys, rootfd, dest, err);
    if (fd < 0)
        return error_wrap(err, "%s", label);
    return fd;
}

/* The per-mount flags statvfs() reports, as MS_*. */
static unsigned long flags_from_statvfs(const struct statvfs *st)
{
    static const struct {
        unsigned long st, ms;
    } map[] = {
        {ST_RDONLY, MS_RDONLY},       {ST_NOSUID, MS_NOSUID},         {ST_NODEV, MS_NODEV},
        {ST_NOEXEC, MS_NOEXEC},       {ST_NOATIME, MS_NOATIME},       {ST_NODIRATIME, MS_NODIRATIME},
        {ST_RELATIME, MS_RELATIME},   {ST_NOSYMFOLLOW, MS_NOSYMFOLLOW},
    };
    unsigned long flags = 0;
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (st->f_flag & map[i].st)
            flags |= map[i].ms;
    return flags;
}

/* "ro,nosuid,..." for messages. */
static const char *flags_string(unsigned long flags, char *buf, size_t size)
{
    static const struct {
        unsigned long flag;
        const char *name;
    } names[] = {
        {MS_RDONLY, "ro"},           {MS_NOSUID, "nosuid"},     {MS_NODEV, "nodev"},
        {MS_NOEXEC, "noexec"},       {MS_NOATIME, "noatime"},   {MS_NODIRATIME, "nodiratime"},
        {MS_RELATIME, "relatime"},   {MS_STRICTATIME, "strictatime"},
        {MS_NOSYMFOLLOW, "nosymfollow"},
    };
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(names) && used < size; i++)
        if (flags & names[i].flag)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : "", names[i].name);
    return buf[0] ? buf : "rw";
}

/* The remount behind mount_remount_bind{,_path}(): `have` are the flags the mount has now. */
static int remount_bind(const struct sys_ops *sys, const char *path, unsigned long have,
                        unsigned long flags, unsigned long clear, const char *label, ctr_error **err)
{
    const unsigned long atime = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
    const unsigned long lockable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME;
    /* Without an atime flag the kernel would switch the mount to relatime, which a locked noatime
     * or strictatime mount refuses: keep the mode it has unless the config names one. */
    unsigned long have_atime = have & (MS_NOATIME | MS_RELATIME);
    if (have_atime == 0)
        have_atime = MS_STRICTATIME;
    unsigned long want = flags & MOUNT_PER_MOUNT_FLAGS;
    want |= have & (lockable | MS_NOSYMFOLLOW) & ~clear;
    if (!(want & atime) && !(clear & atime))
        want |= have_atime;
    if (sys->mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | want, NULL) == 0)
        return 0;
    int saved = errno;
    /* EPERM after clearing flags: they are locked (inherited from a more privileged mount
     * namespace) and the kernel will not drop them; keep them all, as runc does. */
    if (saved == EPERM && (have & lockable & ~want)) {
        want |= have & lockable;
        if (!(flags & atime))
            want = (want & ~atime) | have_atime;
        if (sys->mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | want, NULL) == 0)
            return 0;
        saved = errno;
    }
    char names[128];
    return error_set(err, saved, "%s: remount %s", label, flags_string(want, names, sizeof(names)));
}

int mount_remount_bind(const struct sys_ops *sys, int fd, unsigned long flags, unsigned long clear,
                       const char *label, ctr_error **err)
{
    struct statvfs st;
    char path[FD_PATH_SIZE];
    unsigned long have = fstatvfs(fd, &st) == 0 ? flags_from_statvfs(&st) : 0;
    return remount_bind(sys, mount_fd_path(path, fd), have, flags, clear, label, err);
}

int mount_remount_bind_path(const struct sys_ops *sys, const char *path, unsigned long flags,
                            unsigned long clear, const char *label, ctr_error **err)
{
    struct statvfs st;
    unsigned long have = statvfs(path, &st) == 0 ? flags_from_statvfs(&st) : 0;
    return remount_bind(sys, path, have, flags, clear, label, err);
}

/* MS_* per-mount flags as MOUNT_ATTR_* (for fsmount() and mount_setattr()). */
static uint64_t attr_from_flags(unsigned long flags)
{
    uint64_t attr = 0;
    if (flags & MS_RDONLY)
        attr |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID)
        attr |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV)
        attr |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC)
        attr |= MOUNT_ATTR_NOEXEC;
    if (flags & MS_NODIRATIME)
        attr |= MOUNT_ATTR_NODIRATIME;
    if (flags & MS_NOSYMFOLLOW)
        attr |= MOUNT_ATTR_NOSYMFOLLOW;
    if (flags & MS_NOATIME)
        attr |= MOUNT_ATTR_NOATIME;
    else if (flags & MS_STRICTATIME)
        attr |= MOUNT_ATTR_STRICTATIME;
    return attr;
}

/* ---- fresh filesystems ----------------------------------------------------------------------- */

/* The kernel's own explanation of a failed fsconfig(), if it left one ("e overlay: ..."). */
static int fsconfig_error(int fsfd, int errnum, const char *label, const char *what,
                          ctr_error **err)
{
    char log[512];
    ssize_t n = read(fsfd, log, sizeof(log) - 1);
    if (n > 2 && log[0] == 'e' && log[1] == ' ') {
        log[n] = '\0';
        log[strcspn(log, "\n")] = '\0';
        return error_set(err, errnum, "%s: %s (%s)", label, what, log + 2);
    }
    return error_set(err, errnum, "%s: %s", label, what);
}

/* mount(2) copies at most a page of `data`: longer option strings (overlay with many layers) go
 * through the new mount API, one fsconfig() per option, which has no such limit. */
static int mount_fs_fsconfig(const struct sys_ops *sys, const char *source, int fd, const char *type,
                             unsigned long flags, const char *data, const char *label,
                             ctr_error **err)
{
    _cleanup_close_ int fsfd = sys->fsopen(type, FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return error_set(err, errno, "%s", label);
    if (sys->fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
        return fsconfig_error(fsfd, errno, label, "source", err);

    _cleanup_free_ char *opts = strdup(data);
    if (opts == NULL)
        return error_set(err, ENOMEM, "%s", label);
    /* Options are split on commas not escaped with a backslash ("\," stays in the value). */
    for (char *opt = opts, *next; opt != NULL; opt = next) {
        char *w = opt, *r = opt;
        bool quoted = false;
        next = NULL;
        for (; *r; r++) {
            if (r[0] == '\\' && r[1] == ',') {
                *w++ = *++r;
                continue;
            }
            /* A quoted value keeps its commas (an SELinux context="...:c0,c1", lsm.h); the
             * quotes are mount(2)'s syntax, not part of the value fsconfig() takes. */
            if (*r == '"') {
                quoted = !quoted;
                continue;
            }
            if (*r == ',' && !quoted) {
                next = r + 1;
                break;
            }
            *w++ = *r;
        }
        *w = '\0';
        if (*opt == '\0')
            continue;
        char *value = strchr(opt, '=');
        if (value)
            *value++ = '\0';
        int rc = value ? sys->fsconfig(fsfd, FSCONFIG_SET_STRING, opt, value, 0)
                       : sys->fsconfig(fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
        if (rc < 0)
            return fsconfig_error(fsfd, errno, label, opt, err);
    }
    static const struct {
        unsigned long flag;
        const char *key;
    } sb_flags[] = {{MS_RDONLY, "ro"}, {MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"},
                    {MS_LAZYTIME, "lazytime"}, {MS_SILENT, "silent"}};
    for (size_t i = 0; i < ARRAY_SIZE(sb_flags); i++)
        if ((flags & sb_flags[i].flag) &&
            sys->fsconfig(fsfd, FSCONFIG_SET_FLAG, sb_flags[i].key, NULL, 0) < 0)
            return fsconfig_error(fsfd, errno, label, sb_flags[i].key, err);
    if (sys->fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return fsconfig_error(fsfd, errno, label, "create", err);

    _cleanup_close_ int mfd = sys->fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned)attr_from_flags(flags));
    if (mfd < 0)
        return error_set(err, errno, "%s", label);
    if (sys->move_mount(mfd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return error_set(err, errno, "%s", label);
    return 0;
}

int mount_fs(const struct sys_ops *sys, const char *source, int fd, const char *type,
             unsigned long flags, const char *data, const char *label, ctr_error **err)
{
    if (source == NULL)
        source = type;
    if (data && strlen(data) >= (size_t)sysconf(_SC_PAGESIZE))
        return mount_fs_fsconfig(sys, source, fd, type, flags, data, label, err);
    char path[FD_PATH_SIZE];
    if (sys->mount(source, mount_fd_path(path, fd), type, flags, data) < 0)
        return error_set(err, errno, "%s", label);
    return 0;
}

int mount_bind(const struct sys_ops *sys, const char *source, int fd, unsigned long flags,
               const char *label, ctr_error **err)
{
    char path[FD_PATH_SIZE];
    if (sys->mount(source, mount_fd_path(path, fd), NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
        return error_set(err, errno, "%s", label);
    return 0;
}

int mount_bind_flags(const struct sys_ops *sys, int dirfd, const char *dest, unsigned long flags,
                     unsigned long clear, int *mnt, const char *label, ctr_error **err)
{
    /* A bind takes the source's flags; ro, nosuid... take a remount of the new mount. */
    if (!((flags | clear) & MOUNT_PER_MOUNT_FLAGS))
        return 0;
    if ((*mnt = mount_reopen(sys, dirfd, dest, label, err)) < 0)
        return -1;
    return mount_remount_bind(sys, *mnt, flags, clear, label, err);
}

/* ---- tmpcopyup ------------------------------------------------------------------------------- */

/* Copies the entries of directory `src` (a readable fd) into `dst` (an O_PATH fd of the fresh
 * tmpfs), with their modes and owners: directories recursively, files with their data, symlinks as
 * they are (never followed), device nodes and fifos as nodes; sockets are skipped. */
static int copy_tree(const struct sys_ops *sys, int src, int dst, const char *label, ctr_error **err)
{
    _cleanup_close_ int listfd = fcntl(src, F_DUPFD_CLOEXEC, 0);
    if (listfd < 0)
        return error_set(err, errno, "%s: tmpcopyup", label);
    _cleanup_closedir_ DIR *dir = fdopendir(listfd);
    if (dir == NULL)
        return error_set(err, errno, "%s: tmpcopyup", label);
    listfd = -1; /* the DIR owns it now */
    rewinddir(dir);

    struct dirent *de;
    while ((errno = 0, de = readdir(dir)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return error_set(err, errno, "%s: tmpcopyup: stat `%s`", label, name);
        int rc = 0;
        if (S_ISDIR(st.st_mode)) {
            _cleanup_close_ int sub_src = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub_src < 0 || sys->mkdirat(dst, name, 0700) < 0)
                return error_set(err, errno, "%s: tmpcopyup: `%s`", label, name);
            _cleanup_close_ int sub_dst = paths_open_child(dst, name, O_DIRECTORY, err);
            if (sub_dst < 0 || copy_tree(sys, sub_src, sub_dst, label, err) < 0)
                return -1;
        } else if (S_ISREG(st.st_mode)) {
            /* Created with mknod (never through a symlink), then opened without following. */
            _cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            _cleanup_close_ int out = -1;
            if (in >= 0 && sys->mknodat(dst, name, S_IFREG | 0600, 0) == 0)
                out = openat(dst, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
            if (out < 0)
                return error_set(err, errno, "%s: tmpcopyup: `%s`", label, name);
            char buf[8192];
            ssize_t n;
            while ((n = read(in, buf, sizeof(buf))) > 0)
                if (write_all(out, buf, (size_t)n) < 0)
                    return error_set(err, errno, "%s: tmpcopyup: write `%s`", label, name);
            if (n < 0)
                return error_set(err, errno, "%s: tmpcopyup: read `%s`", label, name);
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
            if (n < 0)
                return error_set(err, errno, "%s: tmpcopyup: `%s`", label, name);
            target[n] = '\0';
            rc = sys->symlinkat(target, dst, name);
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
            rc = sys->mknodat(dst, name, st.st_mode & (S_IFMT | 0700), st.st_rdev);
        } else {
            continue;
        }
        if (rc < 0 || sys->fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            (!S_ISLNK(st.st_mode) && sys->fchmodat(dst, name, st.st_mode & 07777, 0) < 0))
            return error_set(err, errno, "%s: tmpcopyup: `%s`", label, name);
    }
    if (errno != 0)
        return error_set(err, errno, "%s: tmpcopyup: read directory", label);
    return 0;
}

/* Whether the comma-separated `data` sets `key` ("mode" matches "mode=755", not "ptmxmode="). */
static bool has_option(const char *data, const char *key)
{
    size_t len = strlen(key);
    for (const char *p = data; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, key, len) == 0 && p[len] == '=')
            return true;
    return false;
}

/* The tmpfs root takes the mode and owner of the directory it covers (a fresh tmpfs is 1777 and
 * root's), unless the config's mode=, uid= or gid= says otherwise. */
static int copy_root_attributes(const struct sys_ops *sys, int src, int dst, const char *data,
                                const char *label, ctr_error **err)
{
    struct stat st;
    if (fstat(src, &st) < 0)
        return error_set(err, errno, "%s: tmpcopyup", label);
    char path[FD_PATH_SIZE];
    if (!has_option(data, "mode") &&
        sys->fchmodat(AT_FDCWD, mount_fd_path(path, dst), st.st_mode & 07777, 0) < 0)
        return error_set(err, errno, "%s: tmpcopyup: chmod", label);
    uid_t uid = has_option(data, "uid") ? (uid_t)-1 : st.st_uid;
    gid_t gid = has_option(data, "gid") ? (gid_t)-1 : st.st_gid;
    if (sys->fchownat(dst, "", uid, gid, AT_EMPTY_PATH) < 0)
        return error_set(err, errno, "%s: tmpcopyup: chown", label);
    return 0;
}

/* ---- idmapped binds -------------------------------------------------------------------------- */

/* The pid of the process behind `pidfd` as the procfs `procfd` numbers it: the container's init
 * may already be in a PID namespace of its own while that procfs is the host's. */
static pid_t pidfd_proc_pid(int procfd, int pidfd)
{
    char path[64];
    snprintf(path, sizeof(path), "self/fdinfo/%d", pidfd);
    _cleanup_free_ char *text = NULL;
    if (procfs_read(procfd, path, &text, NULL) < 0)
        return -1;
    for (char *line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, "Pid:", 4) == 0)
            return (pid_t)atoi(line + 4);
    return -1;
}

static int write_id_map(int procfd, pid_t pid, const char *file, const struct spec_id_mapping *maps,
                        size_t n, ctr_error **err)
{
    char buf[4096], path[64];
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof(buf); i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%u %u %u\n", maps[i].container_id,
                                 maps[i].host_id, maps[i].size);
    if (used >= sizeof(buf))
        return error_set(err, E2BIG, "%s: too many mappings", file);
    snprintf(path, sizeof(path), "%d/%s", (int)pid, file);
    return procfs_write(procfd, path, buf, used, err);
}

/* A user namespace fd carrying the mount's own mappings. A short-lived child is created in a new
 * user namespace; we write its maps and keep a reference to the namespace, then let it go. */
static int userns_of_mappings(const struct spec_mount *m, int procfd, const char *label,
                              ctr_error **err)
{
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) < 0)
        return error_set(err, errno, "%s: idmap", label);
    int pidfd = -1;
    struct clone_args args = {
        .flags = CLONE_NEWUSER | CLONE_PIDFD,
        .pidfd = (uint64_t)(uintptr_t)&pidfd,
        .exit_signal = SIGCHLD,
    };
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
    if (pid == 0) {
        /* The child only waits for the write end to close: nothing but async-signal-safe calls. */
        char c;
        close(hold[1]);
        while (read(hold[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    int saved = errno;
    close(hold[0]);
    if (pid < 0) {
        close(hold[1]);
        return error_set(err, saved, "%s: idmap: create a user namespace", label);
    }
    int nsfd = -1;
    pid_t procpid = pidfd_proc_pid(procfd, pidfd);
    if (procpid <= 0) {
        error_set(err, ESRCH, "%s: idmap: find the helper process in /proc", label);
    } else if (write_id_map(procfd, procpid, "uid_map", m->uid_mappings, m->uid_mappings_count,
                            err) < 0 ||
               write_id_map(procfd, procpid, "gid_map", m->gid_mappings, m->gid_mappings_count,
                            err) < 0) {
        error_wrap(err, "%s: idmap", label);
    } else {
        char path[64];
        snprintf(path, sizeof(path), "%d/ns/user", (int)procpid);
        nsfd = procfs_open_namespace(procfd, path, CLONE_NEWUSER, err);
        if (nsfd < 0)
            error_wrap(err, "%s: idmap", label);
    }
    close(hold[1]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    close(pidfd);
    return nsfd;
}

/* The user namespace that idmaps `m`: one with its own mappings (config.md: they convert the ids
 * of the source filesystem, containerID, into those seen through the mount, hostID), else the
 * container's, `container_userns` (-1 when it has none). */
static int idmap_userns(const struct spec_mount *m, int container_userns, int procfd,
                        const char *label, ctr_error **err)
{
    if (m->uid_mappings_count == 0 && m->gid_mappings_count == 0) {
        if (container_userns < 0)
            return error_set(err, EINVAL, "%s: idmap needs uidMappings and gidMappings", label);
        if (ioctl(container_userns, NS_GET_NSTYPE) != CLONE_NEWUSER)
            return error_set(err, EINVAL, "%s: idmap: not a user namespace", label);
        int fd = fcntl(container_userns, F_DUPFD_CLOEXEC, 0);
        return fd >= 0 ? fd : error_set(err, errno, "%s: idmap", label);
    }
    if (m->uid_mappings_count == 0 || m->gid_mappings_count == 0)
        return error_set(err, EINVAL, "%s: idmap needs both uidMappings and gidMappings", label);
    return userns_of_mappings(m, procfd, label, err);
}

/* The detached tree of a bind with idmap/ridmap: `source` cloned (with its submounts for rbind),
 * then idmapped (the submounts too for ridmap). Only a detached mount can be idmapped. */
static int idmapped_tree(const struct sys_ops *sys, const struct spec_mount *m, const char *source,
                         int container_userns, int procfd, const char *label, ctr_error **err)
{
    _cleanup_close_ int userns = idmap_userns(m, container_userns, procfd, label, err);
    if (userns < 0)
        return -1;
    unsigned tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((m->flags & MS_REC) ? AT_RECURSIVE : 0);
    _cleanup_close_ int tree = sys->open_tree(AT_FDCWD, source, tree_flags);
    if (tree < 0)
        return error_set(err, errno, "%s", label);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
    unsigned at = AT_EMPTY_PATH | (m->recursive_idmap ? AT_RECURSIVE : 0);
    if (sys->mount_setattr(tree, "", at, &attr, sizeof(attr)) < 0)
        return error_set(err, errno, "%s: idmap", label);
    return steal_fd(&tree);
}

/* In the init of a container without a user namespace, which may idmap the host's filesystems
 * (for one with a user namespace the runtime prepares the tree: mount_prepare_idmapped()). */
static int mount_idmapped(const struct rootfs_context *ctx, const struct spec_mount *m,
                          const char *source, int target, const char *label, ctr_error **err)
{
    _cleanup_close_ int own_userns = -1;
    if (ctx->in_user_ns &&
        (own_userns = procfs_open_namespace(ctx->procfd, "self/ns/user", CLONE_NEWUSER, err)) < 0)
        return error_wrap(err, "%s", label);
    _cleanup_close_ int tree = idmapped_tree(ctx->sys, m, source, own_userns, ctx->procfd, label,
                                             err);
    if (tree < 0)
        return -1;
    if (ctx->sys->move_mount(tree, "", target, "",
                             MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return error_set(err, errno, "%s", label);
    return 0;
}

bool mount_is_idmapped_bind(const struct spec_mount *m)
{
    return mount_is_bind(m) && (m->idmap || m->recursive_idmap);
}

/* config.md "Mounts": bind sources are absolute or relative to the bundle. */
static char *bind_source(const char *bundle, const struct spec_mount *m)
{
    char *source = NULL;
    if (m->source[0] != '/' && bundle != NULL) {
        if (asprintf(&source, "%s/%s", bundle, m->source) < 0)
            source = NULL;
    } else {
        source = strdup(m->source);
    }
    return source;
}

int mount_prepare_idmapped(const struct sys_ops *sys, const struct spec_mount *m, size_t index,
                           const char *bundle, int container_userns, int procfd, ctr_error **err)
{
    _cleanup_free_ char *label = mount_label(m, index);
    if (label == NULL)
        return error_set(err, ENOMEM, "mounts[%zu]", index);
    if (m->source == NULL)
        return error_set(err, EINVAL, "%s: a bind mount needs a source", label);
    _cleanup_free_ char *source = bind_source(bundle, m);
    if (source == NULL)
        return error_set(err, ENOMEM, "%s", label);
    return idmapped_tree(sys, m, source, container_userns, procfd, label, err);
}

/* ---- one entry --------------------------------------------------------------------------------- */

/* `tree`: the entry's detached idmapped tree, prepared by the runtime, or -1. */
static int bind_entry(const struct rootfs_context *ctx, int rootfd, const struct spec_mount *m,
                      int tree, int *mnt, const char *label, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    if (m->source == NULL)
        return error_set(err, EINVAL, "%s: a bind mount needs a source", label);
    _cleanup_free_ char *source = NULL;
    struct stat st;
    if (tree >= 0) {
        /* The runtime resolved the source already: in a user namespace this process may not
         * even be allowed to reach it. */
        if (fstat(tree, &st) < 0)
            return error_set(err, errno, "%s: the prepared idmapped mount", label);
    } else {
        if ((source = bind_source(ctx->bundle, m)) == NULL)
            return error_set(err, ENOMEM, "%s", label);
        if (stat(source, &st) < 0)
            return error_set(err, errno, "%s: source `%s`", label, source);
    }

    /* A file is bound onto a file, anything else onto a directory. */
    enum paths_kind kind = S_ISDIR(st.st_mode) ? PATHS_DIR : PATHS_FILE;
    _cleanup_close_ int target = paths_create(sys, rootfd, m->destination, kind, 0644, err);
    if (target < 0)
        return error_wrap(err, "%s", label);
    int rc;
    if (tree >= 0) {
        rc = sys->move_mount(tree, "", target, "",
                             MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        if (rc < 0)
            error_set(err, errno, "%s: attach the idmapped mount", label);
    } else if (m->idmap || m->recursive_idmap) {
        rc = mount_idmapped(ctx, m, source, target, label, err);
    } else {
        rc = mount_bind(sys, source, target, m->flags, label, err);
    }
    if (rc < 0)
        return -1;
    return mount_bind_flags(sys, rootfd, m->destination, m->flags, m->clear_flags, mnt, label, err);
}

/* config-linux.md: a container without its own network namespace cannot mount a fresh sysfs (the
 * kernel wants CAP_SYS_ADMIN over the network namespace's owner), so the host's /sys is bound
 * instead, as runc does, with the entry's flags made recursive so /sys's submounts get them too. */
static int sysfs_entry(const struct rootfs_context *ctx, int rootfd, const struct spec_mount *m,
                       int target, unsigned long flags, int *mnt, const char *label,
                       ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    ctr_error *fresh = NULL;
    if (mount_fs(sys, m->source, target, "sysfs", flags, m->data, label, &fresh) == 0)
        return 0;
    if (ctx->new_net_ns || ctr_error_code(fresh) != EPERM)
        return error_pass(err, fresh);
    ctr_error_free(fresh);
    if (mount_bind(sys, "/sys", target, MS_REC, label, err) < 0)
        return -1;
    uint64_t attrs = attr_from_flags(flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
    if (attrs == 0)
        return 0;
    if ((*mnt = mount_reopen(sys, rootfd, m->destination, label, err)) < 0)
        return -1;
    struct mount_attr attr = {.attr_set = attrs};
    if (sys->mount_setattr(*mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
        return error_set(err, errno, "%s: make the host's /sys read-only", label);
    return 0;
}

/* Walks `clean` (a lexically clean absolute path) from the root one component at a time without
 * following anything, into *dir: the deepest component that exists. A symlink on the way is an
 * error naming the path up to it. */
static int walk_without_symlinks(int rootfd, char *clean, int *dir, const char *label,
                                 ctr_error **err)
{
    *dir = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
    if (*dir < 0)
        return error_set(err, errno, "%s", label);
    for (char *p = clean + 1; *p;) {
        char *end = strchrnul(p, '/');
        char saved = *end;
        *end = '\0';
        struct stat st;
        int next = openat(*dir, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            *end = saved;
            return 0;
        }
        if (next < 0 || fstat(next, &st) < 0) {
            int saved_errno = errno;
            if (next >= 0)
                close(next);
            return error_set(err, saved_errno, "%s: `%s`", label, clean);
        }
        if (S_ISLNK(st.st_mode)) {
            close(next);
            return error_set(err, ELOOP, "%s: `%s` is a symlink in the image (proc and sysfs are "
                             "only mounted on a real directory)", label, clean);
        }
        close(*dir);
        *dir = next;
        *end = saved;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* CVE-2019-16884, CVE-2023-27561, CVE-2019-19921 class: proc and sysfs are mounted only on a real
 * directory of the image, reached through no symlink, or not at all (runc refuses them too). An
 * image whose /proc is a symlink to a directory the container owns would otherwise get the fresh
 * procfs there, leaving its own files where the runtime and every tool in the container look for
 * the kernel's. Checked before the destination is created (a symlink on the way is refused
 * before anything is made through it) and after, when `target` is the destination as
 * paths_create() resolved it: the plain walk must reach that same directory (a `..` after a
 * symlink resolves elsewhere than it reads). */
static int check_plain_directory(int rootfd, const char *dest, int target, const char *label,
                                 ctr_error **err)
{
    _cleanup_free_ char *clean = paths_clean(dest);
    if (clean == NULL)
        return error_set(err, ENOMEM, "%s", label);
    _cleanup_close_ int dir = -1;
    if (walk_without_symlinks(rootfd, clean, &dir, label, err) < 0)
        return -1;
    if (target < 0)
        return 0;
    struct stat reached, resolved;
    if (fstat(dir, &reached) < 0 || fstat(target, &resolved) < 0)
        return error_set(err, errno, "%s", label);
    if (!S_ISDIR(resolved.st_mode))
        return error_set(err, ENOTDIR, "%s: `%s` in the image", label, dest);
    if (reached.st_dev != resolved.st_dev || reached.st_ino != resolved.st_ino)
        return error_set(err, ELOOP, "%s: `%s` resolves through a symlink in the image (proc and "
                         "sysfs are only mounted on a real directory)", label, dest);
    return 0;
}

static int fs_entry(const struct rootfs_context *ctx, int rootfd, const struct spec_mount *m,
                    int *mnt, const char *label, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    const char *type = m->type;
    if (type == NULL || *type == '\0')
        return error_set(err, EINVAL, "%s: no filesystem type", label);
    if (m->idmap || m->recursive_idmap)
        return error_set(err, EINVAL, "%s: idmap is only supported on bind mounts", label);
    bool copyup = m->tmpcopyup;
    if (copyup && strcmp(type, "tmpfs") != 0)
        return error_set(err, EINVAL, "%s: tmpcopyup is only for tmpfs", label);

    bool kernel_view = strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0;
    if (kernel_view && check_plain_directory(rootfd, m->destination, -1, label, err) < 0)
        return -1;
    _cleanup_close_ int target = paths_create(sys, rootfd, m->destination, PATHS_DIR, 0755, err);
    if (target < 0)
        return error_wrap(err, "%s", label);
    if (kernel_view && check_plain_directory(rootfd, m->destination, target, label, err) < 0)
        return -1;
    unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT | MOUNT_PROPAGATION_FLAGS);
    if (strcmp(type, "sysfs") == 0)
        return sysfs_entry(ctx, rootfd, m, target, flags, mnt, label, err);
    _cleanup_free_ char *data = NULL;
    if (lsm_mount_data(type, m->data, ctx->spec->linux_.mount_label, &data, err) < 0)
        return error_wrap(err, "%s", label);

    /* tmpcopyup: an fd opened on the directory before the tmpfs covers it still reads what the
     * image has there. */
    _cleanup_close_ int image_dir = -1;
    if (copyup) {
        image_dir = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (image_dir < 0)
            return error_set(err, errno, "%s: tmpcopyup: open the image's directory", label);
    }
    /* The copy needs a writable tmpfs: read-only comes after it. */
    unsigned long first = copyup ? flags & ~MS_RDONLY : flags;
    if (mount_fs(sys, m->source, target, type, first, data, label, err) < 0)
        return -1;
    if (!copyup)
        return 0;
    if ((*mnt = mount_reopen(sys, rootfd, m->destination, label, err)) < 0 ||
        copy_tree(sys, image_dir, *mnt, label, err) < 0 ||
        copy_root_attributes(sys, image_dir, *mnt, m->data, label, err) < 0)
        return -1;
    if (flags & MS_RDONLY)
        return mount_remount_bind(sys, *mnt, flags, m->clear_flags, label, err);
    return 0;
}

int mount_finish(const struct rootfs_context *ctx, int rootfd, const struct spec_mount *m, int mnt,
                 const char *label, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    /* A plain propagation option goes through mount(2); mount_setattr carries only the recursive
     * attributes, and the propagation of an r-option when no plain one says otherwise. */
    struct mount_attr attr = {
        .attr_set = m->recursive.set,
        .attr_clr = m->recursive.clear,
        .propagation = m->propagation ? 0 : m->recursive.propagation,
    };
    /* The atime modes are an enum, not bits: changing one means clearing them all first. */
    if ((attr.attr_set | attr.attr_clr) & MOUNT_ATTR__ATIME)
        attr.attr_clr |= MOUNT_ATTR__ATIME;
    bool setattr = attr.attr_set || attr.attr_clr || attr.propagation;
    if (!setattr && m->propagation == 0)
        return 0;
    _cleanup_close_ int reopened = -1;
    if (mnt < 0 && (mnt = reopened = mount_reopen(sys, rootfd, m->destination, label, err)) < 0)
        return -1;
    if (setattr && sys->mount_setattr(mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
        return error_set(err, errno, "%s: set recursive mount attributes", label);
    char path[FD_PATH_SIZE];
    if (m->propagation && sys->mount(NULL, mount_fd_path(path, mnt), NULL, m->propagation, NULL) < 0)
        return error_set(err, errno, "%s: set propagation", label);
    return 0;
}

int mount_entry(const struct rootfs_context *ctx, int rootfd, const struct spec_mount *m, int tree,
                int *mnt, const char *label, ctr_error **err)
{
    return mount_is_bind(m) ? bind_entry(ctx, rootfd, m, tree, mnt, label, err)
                            : fs_entry(ctx, rootfd, m, mnt, label, err);
}
