/* The system calls the mount and rootfs code makes, behind a table.
 *
 * Production code uses `sys_real`; unit tests pass their own table (in struct rootfs_context) that
 * records the calls and injects errors, so the mount logic is tested without root. The table is
 * const and passed explicitly: the library keeps no global mutable state.
 */
#ifndef LIBCTR_SYS_H
#define LIBCTR_SYS_H

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/types.h>

struct sys_ops {
    int (*mount)(const char *source, const char *target, const char *fstype, unsigned long flags,
                 const void *data);
    int (*umount2)(const char *target, int flags);
    int (*openat2)(int dirfd, const char *path, struct open_how *how, size_t size);
    int (*mkdirat)(int dirfd, const char *path, mode_t mode);
    int (*mknodat)(int dirfd, const char *path, mode_t mode, dev_t dev);
    int (*unlinkat)(int dirfd, const char *path, int flags);
    int (*fchmodat)(int dirfd, const char *path, mode_t mode, int flags);
    int (*symlinkat)(const char *target, int dirfd, const char *linkpath);
    int (*fchownat)(int dirfd, const char *path, uid_t uid, gid_t gid, int flags);
    int (*open_tree)(int dirfd, const char *path, unsigned flags);
    int (*move_mount)(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
                      unsigned flags);
    int (*mount_setattr)(int dirfd, const char *path, unsigned flags, struct mount_attr *attr,
                         size_t size);
    int (*fsopen)(const char *fsname, unsigned flags);
    int (*fsconfig)(int fd, unsigned cmd, const char *key, const void *value, int aux);
    int (*fsmount)(int fd, unsigned flags, unsigned attr_flags);
    int (*pivot_root)(const char *new_root, const char *put_old);
    int (*fchdir)(int fd);
    int (*chdir)(const char *path);
    int (*chroot)(const char *path);
};

extern const struct sys_ops sys_real;

#endif
