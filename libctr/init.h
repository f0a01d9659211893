/* The container's init, from its birth to execve: the child side of the handshake. */
#ifndef LIBCTR_INIT_H
#define LIBCTR_INIT_H

#include <stdbool.h>

#include "spawn.h"
#include "spec.h"

struct init_args {
    const struct spawn_request *request;
    int sync_fd;
    /* clone3 created the namespaces of namespaces_new_flags() already (the fast path); otherwise
     * the init joins `ns_fds` and unshares them itself. */
    bool namespaces_created;
    int *ns_fds;
    bool cgroup_joined;      /* SYNC_CGROUP_JOINED received and the cgroup namespace made */
};

/* Never returns: execs the container process or reports the failure on sync_fd and exits. */
_Noreturn void init_main(struct init_args *args);

#endif
