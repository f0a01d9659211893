/* The container's filesystem view: run in the init, inside its new mount namespace, before
 * the process set-up. Mounts every entry of `mounts` in order with destinations resolved inside
 * the rootfs, creates the devices, masks and protects paths, pivots into the rootfs and applies
 * root.readonly and rootfsPropagation.
 */
#ifndef LIBCTR_ROOTFS_H
#define LIBCTR_ROOTFS_H

#include <stdbool.h>

#include "cgroup.h"
#include "error.h"
#include "spec.h"
#include "sys.h"

struct rootfs_context {
    const struct sys_ops *sys;       /* &sys_real, or a unit test's table */
    const struct ctr_spec *spec;
    const char *rootfs;              /* absolute host path of root.path */
    const char *bundle;              /* relative bind sources are taken from here; NULL = cwd */
    const struct cgroup *cgroup;     /* for `cgroup` mounts; NULL if the container has none */
    bool in_user_ns;                 /* in a user namespace (created or joined), not the host's:
                                      * mknod is impossible there, devices are bind-mounted */
    bool new_cgroup_ns;              /* `cgroup` mounts are fresh cgroupfs mounts, not binds */
    bool new_net_ns;                 /* sysfs can be mounted fresh (else it is bound from the host) */
    int console_fd;                  /* the pty slave for /dev/console, or -1 */
    /* NULL, or one fd per entry of spec->mounts: the detached idmapped tree the runtime prepared
     * for it (mount_prepare_idmapped()), or -1. The caller keeps and closes them. */
    const int *idmapped_trees;
    bool no_pivot;                   /* MS_MOVE + chroot instead of pivot_root */
    int procfd;                      /* the runtime's procfs handle (procfs.h), for idmapped
                                      * mounts' user namespaces */
    /* Called once before the first `cgroup` mount (may be NULL): the init uses it to wait until
     * it is in its cgroup and to enter its cgroup namespace, so a fresh cgroup mount is rooted
     * at the container's cgroup. */
    int (*before_cgroup_mount)(void *opaque, ctr_error **err);
    /* Called after the mounts, before the devices (may be NULL): may set *console_fd to the pty
     * slave bound at /dev/console (the init opens the pty from the container's devpts here). */
    int (*after_mounts)(void *opaque, int rootfd, int *console_fd, ctr_error **err);
    /* Called when everything but the pivot is done (may be NULL): the createRuntime and
     * createContainer hooks run here, as config.md's lifecycle puts them before pivot_root. */
    int (*before_pivot)(void *opaque, ctr_error **err);
    void *opaque;
};

/* Everything up to and including pivot_root; on return the cwd and root are the container's. */
int rootfs_prepare(const struct rootfs_context *ctx, ctr_error **err);

#endif
