/* The container's /dev: the default devices every container gets (config-linux.md "Default
 * Devices"), the configured linux.devices, the conventional /dev symlinks and /dev/console.
 */
#ifndef LIBCTR_DEVICES_H
#define LIBCTR_DEVICES_H

#include "error.h"
#include "rootfs.h"

/* Runs in the init after the config's mounts, before pivot_root; `rootfd` is the rootfs.
 *
 * Unless the config mounts something other than a tmpfs over /dev (the host's /dev bound in, say),
 * creates /dev/{null,zero,full,random,urandom,tty} and every linux.devices entry (with mknod, or in
 * a user namespace of its own, where mknod is refused, as an empty file with the host's device
 * bound onto it), then the symlinks /dev/fd, /dev/std{in,out,err}, /dev/ptmx (when devpts is
 * mounted on /dev/pts) and /dev/core (when the host has /proc/kcore). When ctx->console_fd >= 0,
 * binds that terminal onto /dev/console. */
int devices_setup(const struct rootfs_context *ctx, int rootfd, ctr_error **err);

#endif
