/* One entry of the config's `mounts`: its target resolved inside the rootfs, the mount itself made
 * onto the target's fd, then its read-only/nosuid/... remount, recursive attributes, propagation,
 * tmpcopyup and idmap. Also the small primitives the rest of the rootfs code shares.
 *
 * Mounts are made onto "/proc/self/fd/N", N being an O_PATH fd of the target resolved inside the
 * root (paths.h), so no string path the image controls is ever handed to mount(2). A mount covers
 * its target's fd, so every step after the mount itself reopens the destination (mount_reopen())
 * to reach the new mount's root.
 */
#ifndef LIBCTR_MOUNT_H
#define LIBCTR_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/mount.h>

#include "error.h"
#include "rootfs.h"
#include "spec.h"
#include "sys.h"

/* Room for "/proc/self/fd/" and any int. */
#define FD_PATH_SIZE 32

/* The per-mount flags a bind remount can change (mount(2)'s MS_REMOUNT | MS_BIND). */
#define MOUNT_PER_MOUNT_FLAGS                                                                      \
    (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |    \
     MS_STRICTATIME | MS_NOSYMFOLLOW)

/* The propagation types of mount(2) (with MS_REC for the r- forms). */
#define MOUNT_PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

/* Writes "/proc/self/fd/<fd>" into `buf` and returns it. */
const char *mount_fd_path(char buf[static FD_PATH_SIZE], int fd);

/* "mount `proc` on `/proc` (mounts[1])": how every error about mounts[index] starts. The caller
 * frees it; NULL when out of memory. */
char *mount_label(const struct spec_mount *m, size_t index);

/* Opens `dest` in the root again, reaching whatever is now mounted there. */
int mount_reopen(const struct sys_ops *sys, int rootfd, const char *dest, const char *label,
                 ctr_error **err);

/* Changes the per-mount flags of the mount whose root is `fd` (MS_REMOUNT | MS_BIND) to `flags`,
 * keeping the flags the mount already has that the config did not explicitly clear (`clear`):
 * in a user namespace the kernel refuses to drop flags inherited from a more privileged mount
 * (nosuid, nodev, noexec, rdonly, the atime mode: "locked" flags), so a remount that omits them
 * fails with EPERM. */
int mount_remount_bind(const struct sys_ops *sys, int fd, unsigned long flags, unsigned long clear,
                       const char *label, ctr_error **err);

/* The same for the mount at `path` (after pivot_root, when /proc/self may not exist). */
int mount_remount_bind_path(const struct sys_ops *sys, const char *path, unsigned long flags,
                            unsigned long clear, const char *label, ctr_error **err);

/* Mounts a fresh filesystem (`type`, `source`, MS_* `flags`, `data`) onto the target `fd`. */
int mount_fs(const struct sys_ops *sys, const char *source, int fd, const char *type,
             unsigned long flags, const char *data, const char *label, ctr_error **err);

/* Bind-mounts `source` (a host path, or "/proc/self/fd/N") onto the target `fd`. */
int mount_bind(const struct sys_ops *sys, const char *source, int fd, unsigned long flags,
               const char *label, ctr_error **err);

/* After a bind at `dest` (relative to `dirfd`): the per-mount flags the config names, if any, with
 * mount_remount_bind() on the destination reopened into *mnt (left -1 when there is nothing to do),
 * which the caller closes and may go on using. */
int mount_bind_flags(const struct sys_ops *sys, int dirfd, const char *dest, unsigned long flags,
                     unsigned long clear, int *mnt, const char *label, ctr_error **err);

/* Mounts config entry `m` (any type but `cgroup`, which rootfs.c expands) with its remount,
 * tmpcopyup and idmap; the destination is already known to be below the root. `tree`: the
 * detached idmapped tree the runtime prepared for a bind (mount_prepare_idmapped()), attached
 * instead of a mount of the source, or -1. *mnt gets the new mount, when a step had to reopen the
 * destination (else it stays -1), for mount_finish(); the caller closes it. */
int mount_entry(const struct rootfs_context *ctx, int rootfd, const struct spec_mount *m, int tree,
                int *mnt, const char *label, ctr_error **err);

/* A bind or rbind, whatever its type says. */
bool mount_is_bind(const struct spec_mount *m);

/* A bind with idmap or ridmap (an idmap on any other mount is refused by mount_entry()). */
bool mount_is_idmapped_bind(const struct spec_mount *m);

/* In the runtime, for a container with a user namespace: there the init cannot idmap a mount of
 * the host's filesystems (mount_setattr(MOUNT_ATTR_IDMAP) wants CAP_SYS_ADMIN over the user
 * namespace the filesystem belongs to, the host's), so the runtime does it. Returns the detached
 * tree of bind mounts[index] (source relative to `bundle`), idmapped with its own mappings, else
 * with the container's user namespace `container_userns`; the init attaches it. A user
 * namespace of the mount's own mappings is made with the procfs handle `procfd` (procfs.h). */
int mount_prepare_idmapped(const struct sys_ops *sys, const struct spec_mount *m, size_t index,
                           const char *bundle, int container_userns, int procfd, ctr_error **err);

/* The last steps of every entry: its recursive attributes (mount_setattr(AT_RECURSIVE) for rro,
 * rnosuid...) and its propagation (shared, slave, private, unbindable, and their r- forms), both
 * on the mount now at the destination: `mnt` when the caller has it open, else (-1) reopened. */
int mount_finish(const struct rootfs_context *ctx, int rootfd, const struct spec_mount *m, int mnt,
                 const char *label, ctr_error **err);

#endif
