/* Creating the container's init and driving it through the handshake of sync.h. */
#ifndef LIBCTR_SPAWN_H
#define LIBCTR_SPAWN_H

#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "spec.h"

struct spawn_request {
    const struct ctr_spec *spec;
    const char *bundle;          /* absolute: relative bind sources are relative to it */
    const char *rootfs;          /* absolute, resolved */
    const struct cgroup *cgroup; /* NULL: no cgroup */
    int stdio[3];                /* fds to become 0/1/2, or -1 to keep the caller's */
};

struct spawned_init {
    pid_t pid;
    int pidfd;
    int sync_fd;                 /* the parent's end of the handshake */
};

/* Creates the init and returns once it waits at the exec barrier (SYNC_INIT_CREATED). On failure
 * the init is killed and reaped: nothing is left running. */
int spawn_init(const struct spawn_request *request, struct spawned_init *init, ctr_error **err);

/* Releases the init from the barrier; returns once it exec'd, or with the reason it could not. */
int spawn_start(struct spawned_init *init, ctr_error **err);

/* Kills and reaps the init (used when creation fails half-way). */
void spawn_abort(struct spawned_init *init);

#endif
