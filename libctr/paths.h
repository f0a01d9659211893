/* Resolving paths inside the container's root filesystem, safely.
 *
 * Every path a config names inside the container (mount destinations, devices, masked and
 * read-only paths) is resolved by the kernel with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
 * relative to an fd of the rootfs: `..` and absolute symlinks stay inside it, and /proc magic links
 * are refused. Missing components are created with mkdirat() relative to the fd of their already
 * resolved parent, never by joining strings (CVE-2021-30465, CVE-2024-45310: a symlink planted in
 * the image, or swapped in while we work, must never redirect a mount or a mkdir onto the host).
 *
 * Every fd returned is O_PATH | O_CLOEXEC; errors name the path as the config wrote it.
 */
#ifndef LIBCTR_PATHS_H
#define LIBCTR_PATHS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "sys.h"

/* What to create for the last component when it is missing. */
enum paths_kind {
    PATHS_DIR,
    PATHS_FILE, /* an empty regular file, e.g. the target of a bind mount of a file */
};

/* Opens `path` (taken inside the root even when absolute). Returns the fd, or -1 with an error
 * whose code is ENOENT when the path does not exist. */
int paths_open(const struct sys_ops *sys, int rootfd, const char *path, ctr_error **err);

/* The same, but a path that does not exist is not an error: *fd is then -1 and 0 is returned. */
int paths_open_optional(const struct sys_ops *sys, int rootfd, const char *path, int *fd,
                        ctr_error **err);

/* Opens `path`, creating each missing component: directories (mode 0755 before the umask) on the
 * way, and the last one as `kind` with `mode`. Symlinks met on the way are followed inside the
 * root, dangling ones too (their target is created, as runc does). An existing last component is
 * returned as it is, whatever its type: callers that care check it. */
int paths_create(const struct sys_ops *sys, int rootfd, const char *path, enum paths_kind kind,
                 mode_t mode, ctr_error **err);

/* Opens the directory that holds the last component of `path` (creating missing directories) and
 * stores that component in *name (the caller frees it), for work on the entry itself without
 * following it: replacing a device node, creating a symlink. */
int paths_create_parent(const struct sys_ops *sys, int rootfd, const char *path, char **name,
                        ctr_error **err);

/* Opens `name`, one component, in the directory `dirfd`, following no symlink at all. */
int paths_open_child(int dirfd, const char *name, int flags, ctr_error **err);

/* `path` made lexically clean and absolute: "dev//pts/" -> "/dev/pts", "/a/../b" -> "/b". The
 * caller frees it; NULL when out of memory. Only for comparing config paths with each other. */
char *paths_clean(const char *path);

/* Whether two config paths name the same place lexically ("/dev/" and "dev" do). */
bool paths_equal(const char *a, const char *b);

#endif
