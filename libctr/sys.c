#include "sys.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* glibc 2.36 wraps none of the new mount API or openat2: call them directly. */

static int real_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
    return (int)syscall(SYS_openat2, dirfd, path, how, size);
}

static int real_open_tree(int dirfd, const char *path, unsigned flags)
{
    return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

static int real_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
                           unsigned flags)
{
    return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

static int real_mount_setattr(int dirfd, const char *path, unsigned flags, struct mount_attr *attr,
                              size_t size)
{
    return (int)syscall(SYS_mount_setattr, dirfd, path, flags, attr, size);
}

static int real_fsopen(const char *fsname, unsigned flags)
{
    return (int)syscall(SYS_fsopen, fsname, flags);
}

static int real_fsconfig(int fd, unsigned cmd, const char *key, const void *value, int aux)
{
    return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

static int real_fsmount(int fd, unsigned flags, unsigned attr_flags)
{
    return (int)syscall(SYS_fsmount, fd, flags, attr_flags);
}

static int real_pivot_root(const char *new_root, const char *put_old)
{
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

const struct sys_ops sys_real = {
    .mount = mount,
    .umount2 = umount2,
    .openat2 = real_openat2,
    .mkdirat = mkdirat,
    .mknodat = mknodat,
    .unlinkat = unlinkat,
    .fchmodat = fchmodat,
    .symlinkat = symlinkat,
    .fchownat = fchownat,
    .open_tree = real_open_tree,
    .move_mount = real_move_mount,
    .mount_setattr = real_mount_setattr,
    .fsopen = real_fsopen,
    .fsconfig = real_fsconfig,
    .fsmount = real_fsmount,
    .pivot_root = real_pivot_root,
    .fchdir = fchdir,
    .chdir = chdir,
    .chroot = chroot,
};
