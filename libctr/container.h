/* The container handle shared by container.c (create, load, start, delete) and
 * container_ops.c (the operations on a container that exists). */
#ifndef LIBCTR_CONTAINER_H
#define LIBCTR_CONTAINER_H

#include <stdbool.h>

#include "cgroup.h"
#include "libctr/libctr.h"
#include "spawn.h"
#include "spec.h"

struct ctr_context {
    char *state_root;   /* NULL: containers are not recorded */
    int root_fd;        /* the opened state root, or -1 */
    void (*warn)(void *data, const char *message);
    void *warn_data;
};

struct ctr_container {
    ctr_context *ctx;
    char *id;
    char *bundle;
    char *rootfs;
    char *created;                 /* RFC 3339, UTC */
    ctr_spec *spec;
    bool own_spec;
    char *config_text;             /* the config as created, kept in state.json ("config") */
    struct cgroup *cgroup;
    struct intelrdt *rdt;          /* its resctrl groups (linux.intelRdt), or NULL */
    struct spawned_init init;      /* pid and pidfd always; sync_fd only while we created it */
    unsigned long long start_time; /* of the init, to tell it from a process reusing its pid */
    int state_fd;                  /* the state directory, or -1 when not recorded */
    bool is_child;                 /* created by this process: it can wait for the init */
    bool started;
    bool reaped;
    int exit_code;
};

/* Locks the container's state directory (no-op when not recorded). */
int container_lock(ctr_container *c, bool exclusive, ctr_error **err);
void container_unlock(ctr_container *c);

/* The current status, from the init's liveness and the freezer. */
int container_status(ctr_container *c, enum ctr_status *status, ctr_error **err);

/* Writes state.json from the handle. */
int container_save(ctr_container *c, ctr_error **err);

/* The spec's state document for hooks and `state`, as compact JSON (malloc'd). */
char *container_state_text(ctr_container *c, const char *status);

/* Passes a warning to the context's callback. */
void container_warn(ctr_container *c, const char *message);

/* Frees the handle and closes what it holds (without touching the container). */
void container_free(ctr_container *c);

#endif
