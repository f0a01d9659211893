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

/* The errno value behind the failure (0 when the failure was not a system call's, e.g. bad JSON). */
CTR_API int ctr_error_code(const ctr_error *err);
/* One line saying what failed on which object, e.g.
 * "mount `proc` on `/proc`: Operation not permitted". */
CTR_API const char *ctr_error_message(const ctr_error *err);
CTR_API void ctr_error_free(ctr_error *err);

/* ---- versions -------------------------------------------------------------------------------- */

CTR_API const char *ctr_version(void);          /* this library's version, e.g. "0.1.0" */
CTR_API const char *ctr_oci_spec_version(void); /* the runtime-spec version implemented */

/* ---- the bundle's configuration ------------------------------------------------------------- */

typedef struct ctr_spec ctr_spec;

/* Reads and validates a config.json. Errors name the file and the JSON path of the bad field. */
CTR_API int ctr_spec_load_file(const char *path, ctr_spec **spec, ctr_error **err);
/* The same from memory; `name` is used in error messages in place of a file name. */
CTR_API int ctr_spec_load_data(const char *json, size_t len, const char *name, ctr_spec **spec,
                               ctr_error **err);
CTR_API void ctr_spec_free(ctr_spec *spec);

/* ---- containers ------------------------------------------------------------------------------ */

typedef struct ctr_container ctr_container;

struct ctr_create_options {
    size_t size;          /* sizeof(struct ctr_create_options) */
    const char *bundle;   /* the bundle directory; relative root.path is resolved against it */
    const ctr_spec *spec; /* the configuration; NULL loads `bundle`/config.json */
    /* File descriptors that become the container process's stdin, stdout and stderr;
     * -1 leaves the caller's own in place. */
    int stdio[3];
};

/* Creates the container `id`: namespaces, cgroup, mounts, pivot_root and the whole process
 * set-up are done, and its init waits at the exec barrier until ctr_container_start().
 * On failure nothing is left on the host: no process, cgroup or mount. */
CTR_API int ctr_container_create(const char *id, const struct ctr_create_options *opts,
                                 ctr_container **container, ctr_error **err);

/* Releases the init from the exec barrier; returns once the container's process has been
 * exec'd (or reports why the exec failed). */
CTR_API int ctr_container_start(ctr_container *container, ctr_error **err);

/* The container init's pid, as seen from the caller. */
CTR_API pid_t ctr_container_pid(const ctr_container *container);
CTR_API const char *ctr_container_id(const ctr_container *container);
/* A pidfd of the init, owned by the container: poll it (readable once the init exited) to
 * combine waiting with an event loop; then call ctr_container_wait(). */
CTR_API int ctr_container_pidfd(const ctr_container *container);

/* Sends `signal` to the container's init. */
CTR_API int ctr_container_kill(ctr_container *container, int signal, ctr_error **err);

/* Waits for the init to exit. `exit_code` gets its exit status, or 128 + n when signal n
 * killed it, as a shell reports it. */
CTR_API int ctr_container_wait(ctr_container *container, int *exit_code, ctr_error **err);

/* Kills the init if it still runs, reaps it, removes the container's cgroups and frees the
 * handle. The handle is freed even when cleanup fails (the error says what was left). */
CTR_API int ctr_container_destroy(ctr_container *container, ctr_error **err);

#ifdef __cplusplus
}
#endif

#endif
