#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "devices.h"
#include "mount.h"
#include "paths.h"
#include "util.h"

static const char *propagation_name(unsigned long flags)
{
    const char *r = flags & MS_REC ? "r" : "";
    if (flags & MS_SHARED)
        return *r ? "rshared" : "shared";
    if (flags & MS_SLAVE)
        return *r ? "rslave" : "slave";
    if (flags & MS_PRIVATE)
        return *r ? "rprivate" : "private";
    return *r ? "runbindable" : "unbindable";
}

/* ---- step 1: the root ------------------------------------------------------------------------ */

/* config-linux.md "Rootfs Mount Propagation": nothing the container mounts may reach the host, so
 * "/" is made rslave, whatever rootfsPropagation says, before anything else: no mount of this
 * namespace is shared any more, so neither the rootfs bind below nor any mount made on it can
 * propagate to a host peer group, and pivot_root(2) finds no shared parent to refuse. The mode
 * the config asks for is given to the container's own root after the pivot (rootfs_prepare()).
 * (Applying a non-recursive "slave" or "private" here instead left the mount holding the rootfs
 * in the host's peer group: every container mount then appeared on the host, and pivot_root
 * failed with EINVAL; "unbindable" made the rootfs bind itself fail.) The rootfs is then bound
 * onto itself so that it is a mount (pivot_root needs one) and opened: every path of the
 * container is resolved from that fd. */
static int prepare_root(const struct rootfs_context *ctx, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    if (sys->mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return error_set(err, errno, "make `/` rslave");
    if (sys->mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return error_set(err, errno, "bind the rootfs `%s` onto itself", ctx->rootfs);
    int fd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return error_set(err, errno, "open the rootfs `%s`", ctx->rootfs);
    return fd;
}

/* ---- step 2: `cgroup` mounts ----------------------------------------------------------------- */

/* Without a container cgroup to bind, what the host has at /sys/fs/cgroup tells what to show. */
static enum cgroup_layout host_layout(void)
{
    struct statfs st;
    if (statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
        return CGROUP_LAYOUT_V2;
    return CGROUP_LAYOUT_V1;
}

/* One hierarchy of a v1/hybrid layout, in the directory `name` of the cgroup tmpfs `tmpfs`. */
static int cgroup_hierarchy(const struct rootfs_context *ctx, int tmpfs, const struct spec_mount *m,
                            const struct cgroup_hierarchy *h, unsigned long flags, const char *label,
                            ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    _cleanup_close_ int dir = paths_create(sys, tmpfs, h->name, PATHS_DIR, 0755, err);
    if (dir < 0)
        return error_wrap(err, "%s", label);
    if (ctx->new_cgroup_ns) {
        /* In its own cgroup namespace a fresh mount is rooted at the container's cgroup. */
        if (h->v2)
            return mount_fs(sys, "cgroup2", dir, "cgroup2", flags, NULL, label, err);
        return mount_fs(sys, "cgroup", dir, "cgroup", flags, h->controllers, label, err);
    }
    /* Otherwise a fresh mount would show the host's whole tree: bind the container's own cgroup. */
    _cleanup_close_ int mnt = -1;
    if (mount_bind(sys, h->dir, dir, 0, label, err) < 0)
        return -1;
    return mount_bind_flags(sys, tmpfs, h->name, flags, m->clear_flags, &mnt, label, err);
}

/* Co-mounted v1 controllers ("cpu,cpuacct") are also reachable by each name, as on the host. */
static int cgroup_links(const struct sys_ops *sys, int tmpfs, const struct cgroup_hierarchy *h,
                        const char *label, ctr_error **err)
{
    if (h->v2 || h->controllers == NULL || strchr(h->name, '/') || !strchr(h->controllers, ','))
        return 0;
    _cleanup_free_ char *list = strdup(h->controllers);
    if (list == NULL)
        return error_set(err, ENOMEM, "%s", label);
    char *save = NULL;
    for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        if (strncmp(c, "name=", 5) == 0 || strcmp(c, h->name) == 0)
            continue;
        if (sys->symlinkat(h->name, tmpfs, c) < 0 && errno != EEXIST)
            return error_set(err, errno, "%s: symlink `%s`", label, c);
    }
    return 0;
}

/* Whether the container's process may hold CAP_SYS_ADMIN: it is in the bounding set the config
 * gives, or the config gives none and the process keeps the runtime's (init.c), which has it. */
static bool may_have_sys_admin(const struct spec_process *process)
{
    const struct spec_capabilities *caps = &process->capabilities;
    if (!process->has_capabilities)
        return true;
    return caps->has_bounding && (caps->bounding & (UINT64_C(1) << CAP_SYS_ADMIN));
}

/* A `cgroup` entry shows the container's cgroup at the destination. On cgroup v2 that is a
 * cgroup2 mount (in a cgroup namespace of its own) or a bind of the container's cgroup directory.
 * On v1 and hybrid hosts it is a tmpfs with one directory per hierarchy, each a fresh cgroup mount
 * or a bind, then the entry's flags (ro...) on each and on the tmpfs. *mnt: as mount_entry()'s. */
static int cgroup_entry(const struct rootfs_context *ctx, int rootfd, const struct spec_mount *m,
                        int *mnt, const char *label, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    const struct cgroup *cg = ctx->cgroup;
    unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT | MOUNT_PROPAGATION_FLAGS);
    /* CVE-2023-25809 class: a writable cgroupfs lets the container's processes raise their own
     * limits or, without a cgroup namespace of their own, reach cgroups that are not theirs
     * (rootless runc left /sys/fs/cgroup writable). A container without CAP_SYS_ADMIN has no
     * business writing there: read-only, whatever its options say. One with it could remount the
     * mount writable anyway, so it gets what it asks for. */
    if (!may_have_sys_admin(&ctx->spec->process))
        flags |= MS_RDONLY;
    _cleanup_close_ int target = paths_create(sys, rootfd, m->destination, PATHS_DIR, 0755, err);
    if (target < 0)
        return error_wrap(err, "%s", label);

    if ((cg ? cg->layout : host_layout()) == CGROUP_LAYOUT_V2) {
        const struct cgroup_hierarchy *v2 = NULL;
        for (size_t i = 0; cg && i < cg->count; i++)
            if (cg->hierarchies[i].v2)
                v2 = &cg->hierarchies[i];
        if (v2 == NULL || ctx->new_cgroup_ns)
            return mount_fs(sys, "cgroup2", target, "cgroup2", flags, m->data, label, err);
        if (mount_bind(sys, v2->dir, target, 0, label, err) < 0)
            return -1;
        return mount_bind_flags(sys, rootfd, m->destination, flags, m->clear_flags, mnt, label,
                                err);
    }

    /* The tmpfs stays writable until its directories are made. */
    if (mount_fs(sys, "tmpfs", target, "tmpfs", flags & ~MS_RDONLY, "mode=755", label, err) < 0)
        return -1;
    int tmpfs = *mnt = mount_reopen(sys, rootfd, m->destination, label, err);
    if (tmpfs < 0)
        return -1;
    for (size_t i = 0; cg && i < cg->count; i++) {
        const struct cgroup_hierarchy *h = &cg->hierarchies[i];
        if (h->name == NULL || h->name[0] == '\0')
            continue;
        _cleanup_free_ char *sublabel = NULL;
        if (asprintf(&sublabel, "%s: cgroup `%s`", label, h->name) < 0)
            return error_set(err, ENOMEM, "%s", label);
        if (cgroup_hierarchy(ctx, tmpfs, m, h, flags, sublabel, err) < 0 ||
            cgroup_links(sys, tmpfs, h, sublabel, err) < 0)
            return -1;
    }
    if (flags & MS_RDONLY)
        return mount_remount_bind(sys, tmpfs, flags, m->clear_flags, label, err);
    return 0;
}

static int mount_all(const struct rootfs_context *ctx, int rootfd, ctr_error **err)
{
    const struct ctr_spec *spec = ctx->spec;
    for (size_t i = 0; i < spec->mounts_count; i++) {
        const struct spec_mount *m = &spec->mounts[i];
        _cleanup_free_ char *label = mount_label(m, i);
        if (label == NULL)
            return error_set(err, ENOMEM, "mounts[%zu]", i);
        bool cgroup = m->type && strcmp(m->type, "cgroup") == 0 && !mount_is_bind(m);
        if (cgroup && ctx->before_cgroup_mount && ctx->before_cgroup_mount(ctx->opaque, err) < 0)
            return -1;
        if (m->destination == NULL || paths_equal(m->destination, "/"))
            return error_set(err, EINVAL, "%s: the destination must be a path below the root",
                             label);
        int tree = ctx->idmapped_trees ? ctx->idmapped_trees[i] : -1;
        /* The new mount, when a step opened it: mount_finish() needs it too. */
        _cleanup_close_ int mnt = -1;
        int rc = cgroup ? cgroup_entry(ctx, rootfd, m, &mnt, label, err)
                        : mount_entry(ctx, rootfd, m, tree, &mnt, label, err);
        if (rc < 0 || mount_finish(ctx, rootfd, m, mnt, label, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- step 5: masked and read-only paths ------------------------------------------------------ */

/* config-linux.md "Masked Paths": a directory gets an empty read-only tmpfs, anything else the
 * null device. CVE-2025-31133: the /dev/null bound must be the real 1:3 device, opened once and
 * checked by fd, so no symlink or file swapped in for it is bound over /proc/sys/... instead. */
static int mask_paths(const struct rootfs_context *ctx, int rootfd, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    const struct string_list *paths = &ctx->spec->linux_.masked_paths;
    if (paths->count == 0)
        return 0;
    _cleanup_close_ int null = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (null < 0 || fstat(null, &st) < 0)
        return error_set(err, errno, "linux.maskedPaths: open /dev/null");
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        return error_set(err, ENODEV, "linux.maskedPaths: /dev/null is not the null device");
    char null_path[FD_PATH_SIZE];
    mount_fd_path(null_path, null);

    for (size_t i = 0; i < paths->count; i++) {
        char label[PATH_MAX + 64];
        snprintf(label, sizeof(label), "mask `%s` (linux.maskedPaths[%zu])", paths->items[i], i);
        _cleanup_close_ int fd = -1;
        if (paths_open_optional(sys, rootfd, paths->items[i], &fd, err) < 0)
            return error_wrap(err, "%s", label);
        if (fd < 0)
            continue; /* nothing there to mask */
        if (fstat(fd, &st) < 0)
            return error_set(err, errno, "%s", label);
        int rc = S_ISDIR(st.st_mode)
                     ? mount_fs(sys, "tmpfs", fd, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                NULL, label, err)
                     : mount_bind(sys, null_path, fd, 0, label, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* config-linux.md "Readonly Paths": each is bound onto itself, then that bind made read-only. */
static int readonly_paths(const struct rootfs_context *ctx, int rootfd, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    const struct string_list *paths = &ctx->spec->linux_.readonly_paths;
    for (size_t i = 0; i < paths->count; i++) {
        char label[PATH_MAX + 64];
        snprintf(label, sizeof(label), "make `%s` read-only (linux.readonlyPaths[%zu])",
                 paths->items[i], i);
        _cleanup_close_ int fd = -1;
        if (paths_open_optional(sys, rootfd, paths->items[i], &fd, err) < 0)
            return error_wrap(err, "%s", label);
        if (fd < 0)
            continue;
        char self[FD_PATH_SIZE];
        _cleanup_close_ int mnt = -1;
        if (mount_bind(sys, mount_fd_path(self, fd), fd, MS_REC, label, err) < 0 ||
            mount_bind_flags(sys, rootfd, paths->items[i], MS_RDONLY, 0, &mnt, label, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- step 6: pivot_root ------------------------------------------------------------------------ */

/* pivot_root(".", ".") stacks the old root on top of the new one, with no directory for it inside
 * the rootfs; it is then made a slave (so unmounting it cannot propagate to the host's mounts,
 * whatever their propagation) and detached. "." must name the old root for that: the cwd stays
 * on the new root across pivot_root, and a lookup of "." does not climb onto the mount stacked
 * there, so without the fchdir() below the rslave hit the container's own tree and undid the
 * shared/rshared propagation its mounts asked for (runc fchdir()s to the old root likewise). */
/* --no-pivot: the rootfs is moved over "/" and chrooted into. For a root on ramfs (an
 * initramfs), where pivot_root(2) is refused; weaker, as a chroot can be left with
 * CAP_SYS_CHROOT, which is why pivot_root is the default. */
static int move_root(const struct rootfs_context *ctx, int rootfd, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    if (sys->fchdir(rootfd) < 0)
        return error_set(err, errno, "chdir into the rootfs `%s`", ctx->rootfs);
    if (sys->mount(".", "/", NULL, MS_MOVE, NULL) < 0)
        return error_set(err, errno, "move the rootfs `%s` onto `/`", ctx->rootfs);
    if (sys->chroot(".") < 0)
        return error_set(err, errno, "chroot into `%s`", ctx->rootfs);
    if (sys->chdir("/") < 0)
        return error_set(err, errno, "chdir to the new root");
    return 0;
}

static int pivot(const struct rootfs_context *ctx, int rootfd, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    if (ctx->no_pivot)
        return move_root(ctx, rootfd, err);
    _cleanup_close_ int old_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (old_root < 0)
        return error_set(err, errno, "open the old root");
    if (sys->fchdir(rootfd) < 0)
        return error_set(err, errno, "chdir into the rootfs `%s`", ctx->rootfs);
    if (sys->pivot_root(".", ".") < 0)
        return error_set(err, errno, "pivot_root into `%s`", ctx->rootfs);
    if (sys->fchdir(old_root) < 0)
        return error_set(err, errno, "chdir to the old root");
    if (sys->mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return error_set(err, errno, "make the old root rslave");
    if (sys->umount2(".", MNT_DETACH) < 0)
        return error_set(err, errno, "detach the old root");
    if (sys->chdir("/") < 0)
        return error_set(err, errno, "chdir to the new root");
    return 0;
}

int rootfs_prepare(const struct rootfs_context *ctx, ctr_error **err)
{
    const struct sys_ops *sys = ctx->sys;
    _cleanup_close_ int rootfd = prepare_root(ctx, err);
    if (rootfd < 0 || mount_all(ctx, rootfd, err) < 0)
        return -1;
    struct rootfs_context with_console = *ctx;
    if (ctx->after_mounts &&
        ctx->after_mounts(ctx->opaque, rootfd, &with_console.console_fd, err) < 0)
        return -1;
    if (devices_setup(&with_console, rootfd, err) < 0 || mask_paths(ctx, rootfd, err) < 0 ||
        readonly_paths(ctx, rootfd, err) < 0)
        return -1;
    if (ctx->before_pivot && ctx->before_pivot(ctx->opaque, err) < 0)
        return -1;
    if (pivot(ctx, rootfd, err) < 0)
        return -1;
    /* After the pivot: "/" is the container's root now, and /proc/self may not exist. */
    if (ctx->spec->root_readonly &&
        mount_remount_bind_path(sys, "/", MS_RDONLY, 0, "make the root read-only (root.readonly)",
                                err) < 0)
        return -1;
    /* config-linux.md "Rootfs Mount Propagation", applied to the container's own root only now
     * (see prepare_root()): before the pivot it would have changed the host's mount the rootfs
     * was bound from. */
    unsigned long propagation = ctx->spec->linux_.rootfs_propagation;
    if (propagation && sys->mount(NULL, "/", NULL, propagation, NULL) < 0)
        return error_set(err, errno, "make `/` %s (linux.rootfsPropagation)",
                         propagation_name(propagation));
    return 0;
}
