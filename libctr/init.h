/* The container's init (or an exec'd process), from its birth to execve: the child side of the
 * handshake of sync.h. */
#ifndef LIBCTR_INIT_H
#define LIBCTR_INIT_H

#include <stdbool.h>
#include <sys/types.h>

#include "spawn.h"
#include "spec.h"

struct init_args {
    const struct spawn_request *request;
    int sync_fd;
    /* clone3 created the namespaces of namespaces_new_flags() already (the fast path); otherwise
     * the init joins `ns_fds` and unshares them itself. */
    bool namespaces_created;
    int *ns_fds;
    const char **ns_paths;   /* names of ns_fds, for messages */
    /* The runtime's procfs handle (procfs.h), opened before the fork: every /proc file the init
     * writes or reads for a decision is opened through it. Closed before the exec. */
    int proc_fd;
    /* The v1 hierarchies' `tasks` files, which the init writes itself into first (cgroup_join.c),
     * or NULL without a cgroup. */
    struct cgroup_self_join *self_join;
    /* Filled in as the set-up goes: */
    bool cgroup_joined;      /* SYNC_CGROUP_JOINED received: in the v2 tree as well */
    bool cgroupns_done;      /* and the cgroup namespace made, if the config asks for one */
    pid_t host_pid;          /* the init's pid on the host (from SYNC_HOOKS_DONE), for hooks */
    int console_slave;       /* the pty slave when process.terminal, else -1 */
    int trampoline_fd;       /* the sealed exec trampoline (exec.h), made before seccomp */
    int filter_fd;           /* the seccomp BPF program the trampoline loads, or -1 */
    unsigned filter_flags;   /* its seccomp(2) flags */
};

/* Never returns: execs the container process or reports the failure on sync_fd and exits. */
_Noreturn void init_main(struct init_args *args);

#endif
