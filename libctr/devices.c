#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mount.h"
#include "paths.h"
#include "util.h"

/* One node to make: a default device or a linux.devices entry. */
struct node {
    const char *path;
    mode_t type; /* S_IFCHR, S_IFBLK or S_IFIFO */
    dev_t rdev;
    mode_t mode;
    bool has_uid, has_gid;
    uid_t uid;
    gid_t gid;
    bool configured; /* from linux.devices: a different file in its place is an error */
};

/* config-linux.md "Default Devices". */
static const struct {
    const char *path;
    unsigned major, minor;
} default_devices[] = {
    {"/dev/null", 1, 3},    {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
    {"/dev/random", 1, 8},  {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

/* Whether the config mounts something over /dev that is not a tmpfs (typically the host's /dev
 * bound in): then /dev is what it brings, and we create nothing in it. */
static bool dev_is_provided(const struct ctr_spec *spec)
{
    for (size_t i = 0; i < spec->mounts_count; i++) {
        const struct spec_mount *m = &spec->mounts[i];
        if (paths_equal(m->destination, "/dev") && !(m->type && strcmp(m->type, "tmpfs") == 0))
            return true;
    }
    return false;
}

static bool devpts_on_dev_pts(const struct ctr_spec *spec)
{
    for (size_t i = 0; i < spec->mounts_count; i++) {
        const struct spec_mount *m = &spec->mounts[i];
        if (paths_equal(m->destination, "/dev/pts") && m->type && strcmp(m->type, "devpts") == 0)
            return true;
    }
    return false;
}

static bool configured_path(const struct ctr_spec *spec, const char *path)
{
    for (size_t i = 0; i < spec->linux_.devices_count; i++)
        if (paths_equal(spec->linux_.devices[i].path, path))
            return true;
    return false;
}

static const char *type_name(mode_t type)
{
    return type == S_IFBLK ? "b" : type == S_IFIFO ? "p" : "c";
}

/* Creates an empty regular file `name` in `dirfd` (an existing one is fine) and opens it, checking
 * it is one: the target of a bind that stands in for a device or the console. */
static int empty_file(const struct sys_ops *sys, int dirfd, const char *name, ctr_error **err)
{
    /* mknod never follows a symlink at `name`; what is there already is checked below. */
    if (sys->mknodat(dirfd, name, S_IFREG | 0600, 0) < 0 && errno != EEXIST)
        return error_set(err, errno, "create `%s`", name);
    int fd = paths_open_child(dirfd, name, 0, err);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(err, EEXIST, "`%s` is not a regular file", name);
    }
    return fd;
}

/* Clears the way for a new entry `name`: whatever the image has there is removed, never followed (a
 * /dev entry may be a symlink pointing out of the rootfs: CVE-2019-19921 class). */
static int remove_entry(const struct sys_ops *sys, int dirfd, const char *name, const char *path,
                        ctr_error **err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : error_set(err, errno, "stat `%s`", path);
    if (S_ISDIR(st.st_mode))
        return error_set(err, EISDIR, "`%s` is a directory in the container's image", path);
    if (sys->unlinkat(dirfd, name, 0) < 0)
        return error_set(err, errno, "remove `%s` from the container's image", path);
    return 0;
}

/* In a user namespace of its own the container cannot mknod: bind the host's device instead, after
 * checking the host path is that device (the config names the container path, and the host's may
 * differ). */
static int bind_host_node(const struct sys_ops *sys, int dirfd, const char *name,
                          const struct node *n, ctr_error **err)
{
    _cleanup_close_ int host = open(n->path, O_PATH | O_CLOEXEC);
    struct stat st;
    if (host < 0 || fstat(host, &st) < 0)
        return error_set(err, errno, "open the host's `%s`", n->path);
    if ((st.st_mode & S_IFMT) != n->type || st.st_rdev != n->rdev)
        return error_set(err, ENODEV, "the host's `%s` is not the device %s %u:%u", n->path,
                         type_name(n->type), major(n->rdev), minor(n->rdev));
    _cleanup_close_ int target = empty_file(sys, dirfd, name, err);
    if (target < 0)
        return -1;
    char source[FD_PATH_SIZE], label[PATH_MAX + 32];
    snprintf(label, sizeof(label), "bind the host's `%s`", n->path);
    return mount_bind(sys, mount_fd_path(source, host), target, 0, label, err);
}

/* Makes `n` as the entry `name` of the directory `dirfd` (where n->path resolved). */
static int make_node(const struct rootfs_context *ctx, int dirfd, const char *name,
                     const struct node *n, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    struct stat st;
    bool present = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (present && (st.st_mode & S_IFMT) == n->type && (n->type == S_IFIFO || st.st_rdev == n->rdev)) {
        /* Already the right node (the image's, or a host device bound there): keep it. */
        if (!n->configured)
            return 0;
    } else {
        /* config-linux.md "Devices": a different file at a configured path is an error. */
        if (present && n->configured)
            return error_set(err, EEXIST, "a different file already exists at `%s`", n->path);
        if (remove_entry(sys, dirfd, name, n->path, err) < 0)
            return -1;
        if (ctx->in_user_ns && n->type != S_IFIFO)
            return bind_host_node(sys, dirfd, name, n, err);
        if (sys->mknodat(dirfd, name, n->type | (n->mode & 0777), n->rdev) < 0)
            return error_set(err, errno, "mknod `%s`", n->path);
    }
    if (ctx->in_user_ns && n->type != S_IFIFO)
        return 0; /* a host device bound in keeps the host's mode and owner */

    /* mknod honours the umask: set the mode (and owner) on the node by fd, not by name (opened
     * with O_NOFOLLOW, a symlink swapped in would be changed itself, never what it points to). */
    _cleanup_close_ int fd = paths_open_child(dirfd, name, 0, err);
    if (fd < 0)
        return -1;
    char path[FD_PATH_SIZE];
    if (sys->fchmodat(AT_FDCWD, mount_fd_path(path, fd), n->mode & 07777, 0) < 0)
        return error_set(err, errno, "chmod `%s`", n->path);
    if ((n->has_uid || n->has_gid) &&
        sys->fchownat(fd, "", n->has_uid ? n->uid : (uid_t)-1, n->has_gid ? n->gid : (gid_t)-1,
                      AT_EMPTY_PATH) < 0)
        return error_set(err, errno, "chown `%s`", n->path);
    return 0;
}

/* `devfd`: the container's /dev, where the default devices go; a configured one goes wherever its
 * path resolves in the root. */
static int make_devices(const struct rootfs_context *ctx, int rootfd, int devfd, ctr_error **err)
{
    const struct spec_linux *lx = &ctx->spec->linux_;
    for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
        /* A linux.devices entry for the same path says how it should be instead. */
        if (configured_path(ctx->spec, default_devices[i].path))
            continue;
        struct node n = {
            .path = default_devices[i].path,
            .type = S_IFCHR,
            .rdev = makedev(default_devices[i].major, default_devices[i].minor),
            .mode = 0666,
        };
        if (make_node(ctx, devfd, strrchr(n.path, '/') + 1, &n, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < lx->devices_count; i++) {
        const struct spec_device *d = &lx->devices[i];
        if (d->path == NULL)
            return error_set(err, EINVAL, "linux.devices[%zu]: no path", i);
        struct node n = {
            .path = d->path,
            .type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR,
            .rdev = d->type == 'p' ? 0 : makedev((unsigned)d->major, (unsigned)d->minor),
            .mode = d->file_mode.set ? (mode_t)d->file_mode.value : 0666,
            .has_uid = d->uid.set,
            .has_gid = d->gid.set,
            .uid = (uid_t)d->uid.value,
            .gid = (gid_t)d->gid.value,
            .configured = true,
        };
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int dirfd = paths_create_parent(ctx->sys, rootfd, d->path, &name, err);
        if (dirfd < 0 || make_node(ctx, dirfd, name, &n, err) < 0)
            return error_wrap(err, "linux.devices[%zu]", i);
    }
    return 0;
}

/* The links every Linux userland expects in /dev; an entry the image already has is left alone,
 * as runc does. */
static int make_links(const struct rootfs_context *ctx, int devfd, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    static const struct {
        const char *name, *target;
    } links[] = {
        {"fd", "/proc/self/fd"},
        {"stdin", "/proc/self/fd/0"},
        {"stdout", "/proc/self/fd/1"},
        {"stderr", "/proc/self/fd/2"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(links); i++)
        if (sys->symlinkat(links[i].target, devfd, links[i].name) < 0 && errno != EEXIST)
            return error_set(err, errno, "symlink `/dev/%s`", links[i].name);
    if (faccessat(AT_FDCWD, "/proc/kcore", F_OK, 0) == 0 &&
        sys->symlinkat("/proc/kcore", devfd, "core") < 0 && errno != EEXIST)
        return error_set(err, errno, "symlink `/dev/core`");

    /* config-linux.md "Default Devices": /dev/ptmx is the container's own devpts' multiplexer, so
     * whatever the image has there (often the host's 5:2 node) is replaced. */
    if (devpts_on_dev_pts(ctx->spec)) {
        char target[16];
        ssize_t n = readlinkat(devfd, "ptmx", target, sizeof(target) - 1);
        if (n >= 0 && (size_t)n == strlen("pts/ptmx") && memcmp(target, "pts/ptmx", (size_t)n) == 0)
            return 0;
        if (remove_entry(sys, devfd, "ptmx", "/dev/ptmx", err) < 0)
            return -1;
        if (sys->symlinkat("pts/ptmx", devfd, "ptmx") < 0)
            return error_set(err, errno, "symlink `/dev/ptmx`");
    }
    return 0;
}

/* The terminal is bound from our own fd of it, never from a path in the container's /dev/pts
 * (CVE-2025-52565: that path can be a symlink the image controls). */
static int bind_console(const struct rootfs_context *ctx, int devfd, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    struct stat st;
    if (fstat(ctx->console_fd, &st) < 0)
        return error_set(err, errno, "/dev/console: the console fd");
    if (!S_ISCHR(st.st_mode))
        return error_set(err, ENOTTY, "/dev/console: the console fd is not a terminal");
    if (fstatat(devfd, "console", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) &&
        remove_entry(sys, devfd, "console", "/dev/console", err) < 0)
        return -1;
    _cleanup_close_ int target = empty_file(sys, devfd, "console", err);
    if (target < 0)
        return error_wrap(err, "/dev/console");
    char source[FD_PATH_SIZE];
    return mount_bind(sys, mount_fd_path(source, ctx->console_fd), target, 0, "bind /dev/console",
                      err);
}

int devices_setup(const struct rootfs_context *ctx, int rootfd, ctr_error **err)
{
    bool populate = !dev_is_provided(ctx->spec);
    if (!populate && ctx->console_fd < 0)
        return 0;
    /* Resolved once for all that goes in it. */
    _cleanup_close_ int devfd = paths_create(ctx->sys, rootfd, "/dev", PATHS_DIR, 0755, err);
    if (devfd < 0)
        return populate ? -1 : error_wrap(err, "/dev/console");
    if (populate && (make_devices(ctx, rootfd, devfd, err) < 0 || make_links(ctx, devfd, err) < 0))
        return -1;
    if (ctx->console_fd >= 0)
        return bind_console(ctx, devfd, err);
    return 0;
}
