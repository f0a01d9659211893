/* linux.netDevices (config-linux.md "Network Devices", runtime-spec 1.3): host network interfaces
 * moved into the container's network namespace, over rtnetlink.
 *
 * The parent does the moving, at the SYNC_NET_DEVICES stage of the handshake (sync.h): it is in
 * the host's network namespace, where the devices are, and the init hands it what it cannot get
 * without setns(): the init's network namespace and an rtnetlink socket opened in it. Doing it
 * from the init instead would need a socket in the host's namespace passed the other way and
 * would put host-side work in the process that becomes the container.
 *
 * Nothing moves them back: when the namespace is destroyed the kernel returns physical devices
 * to the host's initial namespace and destroys virtual ones (veth, macvlan...), as the spec says.
 */
#ifndef LIBCTR_NETDEV_H
#define LIBCTR_NETDEV_H

#include "error.h"
#include "spec.h"

/* Before anything is created: every linux.netDevices key names an interface of the runtime's
 * network namespace ("linux.netDevices[\"eth9\"]: no such network interface on the host"). */
int netdev_check(const struct spec_linux *linux_, ctr_error **err);

/* Moves every device into the network namespace `netns_fd`, named as the config says (a `%d`
 * template is the kernel's to fill), with its permanent global addresses (which a move drops),
 * and sets it up. `target_rtnl` is a NETLINK_ROUTE socket created in that namespace. */
int netdev_move_all(const struct spec_linux *linux_, int netns_fd, int target_rtnl,
                    ctr_error **err);

#endif
