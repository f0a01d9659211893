/* The rootfs containerd gives in CreateTaskRequest.rootfs (snapshotter mounts: an overlay of the
 * image layers, or a bind mount), mounted on BUNDLE/rootfs before the container is created, and
 * unmounted when the task is deleted (or by the `delete` action after a shim died). */
#ifndef SHIM_ROOTFS_H
#define SHIM_ROOTFS_H

#include <stddef.h>

#include "types.pb-c.h"

/* Mounts each entry in turn on `target` (created 0711 when missing). On failure whatever was
 * mounted is unmounted again and `errbuf` names the mount and the reason. */
int rootfs_mount(const char *target, Containerd__Types__Mount *const *mounts, size_t count,
                 char *errbuf, size_t errlen);
/* Unmounts everything stacked on `target`; a target that is not mounted (or missing) is fine. */
int rootfs_unmount(const char *target, char *errbuf, size_t errlen);

/* Exposed for the unit tests: splits fstab-style options into mount flags, propagation flags and
 * the filesystem's data string (malloc'd). */
int rootfs_parse_options(char *const *options, size_t count, unsigned long *flags,
                         unsigned long *propagation, char **data);
/* Exposed for the unit tests: rewrites an overlay's lowerdir=A:B:C to paths relative to their
 * longest common directory, returned in `dir` (malloc'd), so a long layer list fits a page. */
int rootfs_compact_lowerdir(const char *data, char **dir, char **compacted);

#endif
