/* The parent <-> container-init handshake (DESIGN.md, "Handshakes").
 *
 * One SOCK_SEQPACKET socketpair, one typed message per packet. The stages, in order:
 *
 *   parent                                      init
 *   clone3/fork ------------------------------> (namespaces created by clone3, if it could;
 *                                               in the v2 tree by clone3 too, on its path)
 *                                               moves itself into the v1 hierarchies
 *                                               (cgroup_join.c)
 *   id maps if clone3 made the user namespace
 *   SYNC_PARENT_READY ------------------------>
 *   cgroup_enter_v2(init) unless clone3 did     (fast path: sets up its mounts meanwhile)
 *   SYNC_CGROUP_JOINED ----------------------->
 *                                               (fast path: waits for it only before it needs
 *                                               the cgroup: its cgroup namespace, a `cgroup`
 *                                               mount, exec. The general path waits at once.)
 *                                               joins namespaces by path, unshares the rest
 *                      <----------------------- SYNC_USERNS_CREATED (only if it unshared a user ns)
 *   writes uid_map/gid_map
 *   SYNC_USERNS_MAPPED ----------------------->
 *                      <----------------------- SYNC_INIT_PID (only if a pid namespace needed a
 *                                               second process: value = the real init's pid;
 *                                               sent by the first, which then exits: the real
 *                                               init waits for that before it sends anything)
 *                                               (before the two stages below it takes
 *                                               SYNC_CGROUP_JOINED: no reply queues behind it)
 *                      <----------------------- SYNC_NET_DEVICES + its network namespace and an
 *                                               rtnetlink socket in it (SCM_RIGHTS), only with
 *                                               linux.netDevices
 *   moves them in (netdev.c)
 *   SYNC_NET_DEVICES_MOVED ------------------->
 *                      <----------------------- SYNC_IDMAP_MOUNTS + its user namespace
 *                                               (SCM_RIGHTS), only with a user namespace and
 *                                               idmap/ridmap binds
 *   open_tree + MOUNT_ATTR_IDMAP (mount.c)
 *   SYNC_IDMAP_TREE (value: the index in
 *   `mounts`) + the detached tree, one each -->
 *   SYNC_IDMAP_DONE -------------------------->
 *                                               mounts; with a terminal and no console
 *                      <----------------------- SYNC_CONSOLE + the pty master (SCM_RIGHTS)
 *                      <----------------------- SYNC_CREATE_HOOKS (only if there are prestart,
 *                                               createRuntime, createContainer or
 *                                               startContainer hooks)
 *   runs prestart + createRuntime hooks
 *   SYNC_HOOKS_DONE (value: the init's pid) -->
 *                                               createContainer hooks, pivot_root,
 *                                               process set-up, capabilities; a seccomp
 *                                               filter with SCMP_ACT_NOTIFY is loaded here
 *                      <----------------------- SYNC_SECCOMP_LISTENER + the filter's listener
 *                                               (SCM_RIGHTS), only with SCMP_ACT_NOTIFY
 *   sends it to linux.seccomp.listenerPath
 *   with the container process state
 *   (seccomp.c; no reply: the init goes on)
 *                      <----------------------- SYNC_INIT_CREATED (waits at the exec barrier)
 *   (create, container.c: the init joins its
 *   resctrl groups, linux.intelRdt)
 *   SYNC_PARENT_START ------------------------>     (or SYNC_PARENT_DETACH: the init then
 *                                                   waits for SYNC_PARENT_START from a
 *                                                   `start` connecting to its listening socket)
 *                                               startContainer hooks, (seccomp when
 *                                               noNewPrivileges) execve
 *                      <----------------------- EOF (the socket is O_CLOEXEC: exec succeeded)
 *
 * At any point the init may send SYNC_INIT_ERROR (errno + message) and exit: the parent turns it
 * into its own error, so the caller reads "mount `proc` on `/proc`: Operation not permitted"
 * rather than "child exited 1".
 */
#ifndef LIBCTR_SYNC_H
#define LIBCTR_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum sync_type {
    SYNC_PARENT_READY = 1,   /* parent: the init's id maps are written: go on */
    SYNC_CGROUP_JOINED,      /* parent: the init is in its cgroup in every hierarchy */
    SYNC_USERNS_CREATED,     /* init: I unshared a user namespace: write my id maps */
    SYNC_USERNS_MAPPED,      /* parent: id maps written */
    SYNC_INIT_PID,           /* init: `value` is the pid of the process that becomes the init */
    SYNC_CONSOLE,            /* init: the pty master (SCM_RIGHTS) */
    SYNC_CREATE_HOOKS,       /* init: mounts are done: run prestart and createRuntime hooks */
    SYNC_HOOKS_DONE,         /* parent: they succeeded; `value` is the init's pid on the host */
    SYNC_INIT_CREATED,       /* init: set up, waiting at the exec barrier */
    SYNC_PARENT_START,       /* parent (or `start`): exec the container process now */
    SYNC_PARENT_DETACH,      /* parent: I go away; wait for `start` on the listening socket */
    SYNC_INIT_ERROR,         /* init: a step failed: `code` = errno, text = message */
    /* Appended, so the values above stay what an init of an earlier build expects from `start`. */
    SYNC_NET_DEVICES,        /* init: move linux.netDevices into my network namespace; its fd and
                              * an rtnetlink socket made in it are attached (the parent cannot
                              * open a socket there itself without setns()) */
    SYNC_NET_DEVICES_MOVED,  /* parent: they are in, named, with their addresses, and up */
    SYNC_IDMAP_MOUNTS,       /* init: my user namespace is attached: prepare the idmapped binds
                              * (inside it the kernel refuses MOUNT_ATTR_IDMAP on the host's
                              * filesystems: that needs CAP_SYS_ADMIN over their user namespace) */
    SYNC_IDMAP_TREE,         /* parent: the detached, idmapped tree of mounts[value] is attached */
    SYNC_IDMAP_DONE,         /* parent: every idmapped bind was sent */
    SYNC_SECCOMP_LISTENER,   /* init: the listener of my SCMP_ACT_NOTIFY filter is attached: hand
                              * it to the seccomp agent (config-linux.md, listenerPath) */
};

/* The most fds one message carries. */
enum { SYNC_FDS_MAX = 2 };

/* The longest error text carried; longer messages are cut. */
enum { SYNC_TEXT_MAX = 4000 };

/* `value` of a SYNC_INIT_ERROR whose text still needs ": <description of code>" appended: sent by
 * the exec trampoline (exec_trampoline.c), which has no strerror. */
enum { SYNC_ERROR_WITH_ERRNO_TEXT = 1 };

struct sync_msg {
    uint32_t type;
    int32_t code;
    int64_t value;
    char text[SYNC_TEXT_MAX];
};

const char *sync_type_name(uint32_t type);

int sync_send(int fd, enum sync_type type, int64_t value, ctr_error **err);

/* Sends `error` as SYNC_INIT_ERROR. Best effort: the init exits right after either way. */
void sync_send_error(int fd, const ctr_error *error);

/* Sends a message with `count` (<= SYNC_FDS_MAX) fds attached (SCM_RIGHTS); they stay open here. */
int sync_send_fds(int fd, enum sync_type type, int64_t value, const int *fds, size_t count,
                  ctr_error **err);

/* Receives one message into *msg. End of stream is *msg->type == 0 (and returns 0).
 * A SYNC_INIT_ERROR is returned as the error it carries (-1). Fds attached to it are dropped. */
int sync_receive(int fd, struct sync_msg *msg, ctr_error **err);

/* sync_receive() keeping up to SYNC_FDS_MAX attached fds (O_CLOEXEC) in fds[], *count of them;
 * the caller closes them. More than `max` is an error (and none is kept). */
int sync_receive_fds(int fd, struct sync_msg *msg, int *fds, size_t max, size_t *count,
                     ctr_error **err);

/* sync_expect() of a message that carries exactly `count` fds. */
int sync_expect_fds(int fd, enum sync_type expected, int64_t *value, int *fds, size_t count,
                    ctr_error **err);

/* Receives one message and requires it to be `expected`; `value` (may be NULL) gets its value. */
int sync_expect(int fd, enum sync_type expected, int64_t *value, ctr_error **err);

#endif
