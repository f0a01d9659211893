/* Creating the container's init (or an exec'd process) and driving it through the handshake of
 * sync.h. */
#ifndef LIBCTR_SPAWN_H
#define LIBCTR_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "spec.h"

enum spawn_mode {
    SPAWN_CREATE, /* a new container: namespaces, rootfs, the whole set-up, an exec barrier */
    SPAWN_EXEC,   /* a process joining the running container of `target_pid` */
};

struct spawn_request {
    enum spawn_mode mode;
    const struct ctr_spec *spec;   /* for exec: the container's config with the exec'd process */
    const char *id;
    const char *bundle;            /* absolute: relative bind sources are relative to it */
    const char *rootfs;            /* absolute, resolved (create) */
    const struct cgroup *cgroup;   /* NULL: no cgroup */
    const int *ns_fds;             /* create: linux.namespaces' paths, opened by the caller
                                    * (namespaces_open_paths), indexed by type, -1 for none;
                                    * they stay the caller's to close */
    pid_t target_pid;              /* exec: the container's init */
    int stdio[3];                  /* fds to become 0/1/2, or -1 to keep the caller's */
    int console_socket;            /* connected console socket for the pty master, or -1 */
    int listen_fd;                 /* create: the state dir's socket `start` connects to, or -1 */
    unsigned preserve_fds;         /* fds 3 .. 3+n-1 stay open in the container process */
    bool no_new_keyring;
    bool no_pivot;
    const char *const *extra_env;  /* appended to process.env, may be NULL */
    const char *status;            /* the container's status in the state the seccomp agent gets
                                    * (config-linux.md, listenerPath): "creating", or for exec
                                    * the running container's */
    /* prestart/createRuntime hooks' warnings are errors; nothing to warn about during spawn. */
};

struct spawned_init {
    pid_t pid;
    int pidfd;
    int sync_fd;                   /* the parent's end of the handshake */
    int console_fd;                /* the pty master when kept for the caller, else -1 */
};

/* Creates the init and returns once it waits at the exec barrier (SYNC_INIT_CREATED), having run
 * the prestart and createRuntime hooks when the init asked. On failure the init is killed and
 * reaped: nothing is left running. */
int spawn_init(const struct spawn_request *request, struct spawned_init *init, ctr_error **err);

/* Releases the init from the barrier; returns once it exec'd, or with the reason it could not. */
int spawn_start(struct spawned_init *init, ctr_error **err);

/* Tells the init to wait for a `start` on its listening socket instead, and closes our end. */
int spawn_detach(struct spawned_init *init, ctr_error **err);

/* Kills and reaps the init (used when creation fails half-way). */
void spawn_abort(struct spawned_init *init);

#endif
