/* libctr: apply an OCI runtime-spec bundle and run it as a container.
 *
 * Conventions of this API:
 *  - every fallible call returns 0 on success and a negative value on failure, and then (when the
 *    caller passed a non-NULL `err`) stores a ctr_error the caller frees with ctr_error_free();
 *  - handles are opaque; option structs start with their own `size` (set it to sizeof the struct
 *    you compiled against) so they can grow without breaking callers;
 *  - the library keeps no global mutable state, never calls exit() and prints nothing.
 */
#ifndef LIBCTR_LIBCTR_H
#define LIBCTR_LIBCTR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CTR_API __attribute__((visibility("default")))

/* ---- errors ---------------------------------------------------------------------------------- */

typedef struct ctr_error ctr_error;

/* The errno value behind the failure: EINVAL for a configuration the library refuses (config.json,
 * process.json, resources: bad JSON or a field's value; the message names the field), 0 for other
 * failures that were not a system call's (a hook's exit status, the init dying). */
CTR_API int ctr_error_code(const ctr_error *err);
/* One line saying what failed on which object, e.g.
 * "mount `proc` on `/proc`: Operation not permitted". */
CTR_API const char *ctr_error_message(const ctr_error *err);
CTR_API void ctr_error_free(ctr_error *err);

/* ---- versions -------------------------------------------------------------------------------- */

CTR_API const char *ctr_version(void);          /* this library's version, e.g. "0.1.0" */
CTR_API const char *ctr_oci_spec_version(void); /* the runtime-spec version implemented */

/* The runtime-spec features document (features.md, features-linux.md) of this library on this
 * host: the namespaces, mount options, hooks, capabilities, seccomp names and flags the parser
 * takes and the code behind it implements. Compact JSON text, to free(); NULL with errno ENOMEM. */
CTR_API char *ctr_features_json(void);

/* ---- the bundle's configuration ------------------------------------------------------------- */

typedef struct ctr_spec ctr_spec;

/* Reads and validates a config.json. Errors name the file and the JSON path of the bad field. */
CTR_API int ctr_spec_load_file(const char *path, ctr_spec **spec, ctr_error **err);
/* The same from memory; `name` is used in error messages in place of a file name. */
CTR_API int ctr_spec_load_data(const char *json, size_t len, const char *name, ctr_spec **spec,
                               ctr_error **err);
CTR_API void ctr_spec_free(ctr_spec *spec);

/* ---- context --------------------------------------------------------------------------------- */

/* Where containers are recorded and how the library reports what is not an error. */
typedef struct ctr_context ctr_context;

struct ctr_context_options {
    size_t size;            /* sizeof(struct ctr_context_options) */
    /* Directory holding one subdirectory of state per container (e.g. /run/ctr); created when
     * missing. NULL: containers are not recorded and live only in the creating process. */
    const char *state_root;
    /* Called for warnings the spec wants logged but not fatal (a failing poststart or poststop
     * hook). NULL drops them. */
    void (*warn)(void *data, const char *message);
    void *warn_data;
};

CTR_API int ctr_context_new(const struct ctr_context_options *options, ctr_context **context,
                            ctr_error **err);
/* Frees the context; containers made with it must have been released or deleted first. */
CTR_API void ctr_context_free(ctr_context *context);

/* ---- containers ------------------------------------------------------------------------------ */

typedef struct ctr_container ctr_container;

enum ctr_status {
    CTR_STATUS_CREATING, /* being created (seen by createRuntime hooks) */
    CTR_STATUS_CREATED,  /* waiting at the exec barrier */
    CTR_STATUS_RUNNING,
    CTR_STATUS_PAUSED,
    CTR_STATUS_STOPPED,
};

/* "creating", "created", "running", "paused", "stopped" */
CTR_API const char *ctr_status_name(enum ctr_status status);

struct ctr_create_options {
    size_t size;          /* sizeof(struct ctr_create_options) */
    const char *bundle;   /* the bundle directory; relative root.path is resolved against it */
    const ctr_spec *spec; /* the configuration; NULL loads `bundle`/config.json */
    /* File descriptors that become the container process's stdin, stdout and stderr;
     * -1 leaves the caller's own in place. Ignored for a terminal (process.terminal). */
    int stdio[3];
    /* process.terminal: the pty master is sent (SCM_RIGHTS) to this unix socket. When NULL the
     * master is kept for the caller: ctr_container_console_fd(). */
    const char *console_socket;
    /* Passes the caller's fds 3 .. 3+preserve_fds-1 on to the container process. */
    unsigned preserve_fds;
    /* Do not give the container a session keyring of its own. */
    int no_new_keyring;
    /* Enter the rootfs with MS_MOVE + chroot instead of pivot_root (for a rootfs on ramfs, where
     * pivot_root is impossible; weaker: chroot can be escaped with CAP_SYS_CHROOT). */
    int no_pivot;
    /* "KEY=value" strings added to process.env (NULL-terminated, may be NULL). */
    const char *const *extra_env;
    /* linux.cgroupsPath is systemd's "slice:prefix:name" form (runc's --systemd-cgroup); refused
     * where systemd is not PID 1. */
    int systemd_cgroup;
    /* No cgroup at all (crun's --cgroup-manager=disabled), for callers that manage cgroups
     * themselves: the container stays in the caller's cgroups; linux.resources may then hold only
     * device rules, which are NOT enforced (as with crun), anything else is refused; pause,
     * update, stats and kill --all are unavailable. */
    int no_cgroup;
};

/* Creates the container `id`: namespaces, cgroup, mounts, pivot_root and the whole process
 * set-up are done (and the prestart, createRuntime and createContainer hooks run), and its init
 * waits at the exec barrier until ctr_container_start(). On failure nothing is left on the
 * host: no process, cgroup, mount or state. */
CTR_API int ctr_container_create(ctr_context *context, const char *id,
                                 const struct ctr_create_options *opts,
                                 ctr_container **container, ctr_error **err);

/* Opens a recorded container (of any status) by id. */
CTR_API int ctr_container_load(ctr_context *context, const char *id, ctr_container **container,
                               ctr_error **err);

/* The ids of every recorded container, sorted; free with ctr_strv_free(). */
CTR_API int ctr_container_list(ctr_context *context, char ***ids, size_t *count, ctr_error **err);
CTR_API void ctr_strv_free(char **strv);

/* Frees the handle and leaves the container as it is: a created container then waits for a start
 * from any process that loads it. */
CTR_API void ctr_container_release(ctr_container *container);

/* Runs the startContainer hooks and the process, then the poststart hooks; returns once the
 * process was exec'd (or with the reason it could not be). */
CTR_API int ctr_container_start(ctr_container *container, ctr_error **err);

CTR_API const char *ctr_container_id(const ctr_container *container);
CTR_API const char *ctr_container_bundle(const ctr_container *container);
/* The container init's pid, as seen from the caller. */
CTR_API pid_t ctr_container_pid(const ctr_container *container);
/* A pidfd of the init, owned by the container: poll it (readable once the init exited) to
 * combine waiting with an event loop; then call ctr_container_wait(). */
CTR_API int ctr_container_pidfd(const ctr_container *container);
/* The pty master of a terminal container created without a console socket, owned by the
 * container; -1 otherwise. */
CTR_API int ctr_container_console_fd(const ctr_container *container);

CTR_API int ctr_container_status(ctr_container *container, enum ctr_status *status,
                                 ctr_error **err);
/* The runtime-spec state document ({"ociVersion","id","status","pid","bundle",...}), malloc'd. */
CTR_API int ctr_container_state_json(ctr_container *container, char **json, ctr_error **err);
/* The `process` object of the container's config, as JSON (malloc'd): the base of an exec'd
 * process given on a command line. */
CTR_API int ctr_container_process_json(ctr_container *container, char **json, ctr_error **err);

/* Sends `signal` to the container's init, or with `all` to every process of the container. */
CTR_API int ctr_container_kill(ctr_container *container, int signal, int all, ctr_error **err);

/* Waits for the init to exit (only the process that created the container can). `exit_code`
 * gets its exit status, or 128 + n when signal n killed it, as a shell reports it. */
CTR_API int ctr_container_wait(ctr_container *container, int *exit_code, ctr_error **err);

CTR_API int ctr_container_pause(ctr_container *container, ctr_error **err);
CTR_API int ctr_container_resume(ctr_container *container, ctr_error **err);
/* Applies a linux.resources JSON object to the running container. */
CTR_API int ctr_container_update(ctr_container *container, const char *resources_json,
                                 size_t len, ctr_error **err);
/* The pids of every process of the container, sorted; free() them. */
CTR_API int ctr_container_pids(ctr_container *container, pid_t **pids, size_t *count,
                               ctr_error **err);
/* An fd to poll (owned by the caller) that becomes readable when the OOM killer may have acted in
 * the container; then ctr_container_oom_count() tells how many kills there were so far. */
CTR_API int ctr_container_oom_fd(ctr_container *container, int *fd, ctr_error **err);
CTR_API int ctr_container_oom_count(ctr_container *container, uint64_t *count, ctr_error **err);

/* Resource counters in runc's `events --stats` shape, malloc'd JSON. */
CTR_API int ctr_container_stats_json(ctr_container *container, char **json, ctr_error **err);

struct ctr_exec_options {
    size_t size;              /* sizeof(struct ctr_exec_options) */
    const char *process_json; /* a runtime-spec `process` object */
    size_t process_json_len;
    int stdio[3];             /* as in ctr_create_options */
    const char *console_socket;
    unsigned preserve_fds;
};

/* Runs a new process in the running container: its namespaces, cgroup and security settings
 * (seccomp, no_new_privs, LSM) with the process's own user, capabilities and rlimits. `pid`
 * gets its pid; `pidfd` (may be NULL) a pidfd the caller owns; `console_fd` (may be NULL) the
 * pty master when process.terminal is set without a console socket. The process is a child
 * of the caller. */
CTR_API int ctr_container_exec(ctr_container *container, const struct ctr_exec_options *opts,
                               pid_t *pid, int *pidfd, int *console_fd, ctr_error **err);

/* Deletes the container: refuses a running one unless `force` (then kills it first), removes its
 * cgroups and state, runs the poststop hooks and frees the handle (always). */
CTR_API int ctr_container_delete(ctr_container *container, int force, ctr_error **err);

/* Kills the init if it still runs, reaps it when it is the caller's child, deletes the container
 * and frees the handle: ctr_container_delete(container, force=1) for a container this process
 * created. */
CTR_API int ctr_container_destroy(ctr_container *container, ctr_error **err);

#ifdef __cplusplus
}
#endif

#endif
