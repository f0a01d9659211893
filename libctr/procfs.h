/* The runtime's handle on procfs, and every /proc file it writes or reads for a decision opened
 * through it (CVE-2019-16884, CVE-2025-52881 class).
 *
 * A container controls what its own mounts put at /proc, and a racing or hostile mount can cover
 * any file below it (a bind of /proc/sys/kernel/core_pattern over /proc/self/attr/exec, a tmpfs
 * over /proc/sys): a label, an oom_score_adj or a sysctl written through a path would then go
 * wherever the container chose. So:
 *
 *   - the handle is taken by the runtime before it creates the container's init (spawn.c), which
 *     inherits it: it is the runtime's own /proc, in a mount namespace the container never
 *     mounts in, and it is checked to be the root of a real procfs (PROC_SUPER_MAGIC, inode 1);
 *   - every file is opened below it with openat2(RESOLVE_BENEATH | RESOLVE_NO_XDEV |
 *     RESOLVE_NO_MAGICLINKS): a mount over the file or over any directory on the way fails
 *     (EXDEV) instead of redirecting the open, and the result is checked to be procfs's too.
 *
 * Paths are relative to the procfs root ("self/oom_score_adj", "1234/uid_map", "sys/net/...");
 * errors name them as "/proc/<path>". Every fd is O_CLOEXEC.
 */
#ifndef LIBCTR_PROCFS_H
#define LIBCTR_PROCFS_H

#include <stddef.h>

#include "error.h"

/* Opens /proc (O_PATH | O_DIRECTORY) and checks it is the root of a procfs. */
int procfs_open_root(ctr_error **err);

/* Opens `path` below the procfs root `procfd` with `flags` (O_RDONLY, O_WRONLY, O_PATH |
 * O_DIRECTORY...), through no mount point and no magic link. A process that became root of a new
 * user namespace may still open its own files ("self/..."), which procfs shows as owned by the
 * host's root until it execs. Returns the fd, or -1 with an error naming /proc/<path>. */
int procfs_open(int procfd, const char *path, int flags, ctr_error **err);

/* Writes `len` bytes to `path` in one write(2), as the kernel's control files expect. */
int procfs_write(int procfd, const char *path, const char *data, size_t len, ctr_error **err);

/* Reads the whole of `path` into a NUL-terminated buffer the caller frees. */
int procfs_read(int procfd, const char *path, char **data, ctr_error **err);

/* Opens the namespace file `path` ("self/ns/net", "1234/ns/user") O_RDONLY: its directory through
 * procfs_open(), then the magic link itself, checked to be a namespace of type `nstype`
 * (CLONE_NEW*). */
int procfs_open_namespace(int procfd, const char *path, int nstype, ctr_error **err);

#endif
