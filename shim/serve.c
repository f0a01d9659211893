/* The daemon: subreaper, event loop, ttrpc server on the inherited socket, until containerd
 * calls Shutdown once the task is deleted. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "shim.h"

/* Events still queued when the shim should exit get this long to reach containerd. */
#define EXIT_GRACE_MS 5000

static void on_exit_timer(struct loop *loop, struct loop_source *source, uint32_t events)
{
    (void)source;
    (void)events;
    log_error("exiting with events containerd did not take");
    loop->stop = true;
}

void shim_maybe_exit(struct shim *shim)
{
    if (!shim->shutting_down)
        return;
    server_stop(shim);
    if (publisher_idle(&shim->events)) {
        shim->loop.stop = true;
        return;
    }
    if (shim->exit_timer.fd < 0)
        loop_timer_arm(&shim->loop, &shim->exit_timer, EXIT_GRACE_MS);
}

static void on_events_idle(void *data)
{
    shim_maybe_exit(data);
}

int serve(const struct shim_options *opts)
{
    char cwd[PATH_MAX];
    const char *bundle = opts->bundle ? opts->bundle : getcwd(cwd, sizeof(cwd));
    if (bundle == NULL)
        return -1;
    struct shim shim = {
        .namespace = opts->namespace,
        .id = opts->id,
        .bundle = bundle,
        .debug = opts->debug,
        .listener = {.fd = -1},
        .signals = {.fd = -1},
        .exit_timer = {.fd = -1, .fn = on_exit_timer},
    };
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/log", bundle);
    log_open_fifo(path, opts->debug);

    /* Orphans of the container (a daemonized process whose parent exited) come to the shim to
     * be reaped, not to pid 1. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        log_error("become a subreaper: %s", strerror(errno));
    char *root = shim_state_root(opts->namespace);
    struct ctr_context_options copts = {
        .size = sizeof(copts), .state_root = root, .warn = log_libctr_warning};
    ctr_error *err = NULL;
    int ret = -1;
    if (loop_init(&shim.loop) < 0 || reaper_start(&shim) < 0) {
        log_error("event loop: %s", strerror(errno));
        goto out;
    }
    if (publisher_init(&shim.events, &shim.loop, opts->ttrpc_address, opts->namespace) < 0)
        goto out;
    shim.events.on_idle = on_events_idle;
    shim.events.idle_data = &shim;
    if (root == NULL || ctr_context_new(&copts, &shim.ctx, &err) < 0) {
        log_error("%s", err ? ctr_error_message(err) : "out of memory");
        ctr_error_free(err);
        goto out;
    }
    /* `start` passed the listening socket as fd 3. */
    if (server_start(&shim, 3) < 0) {
        log_error("serve the shim socket: %s", strerror(errno));
        goto out;
    }
    log_debug("serving %s in namespace %s", opts->id, opts->namespace);
    ret = loop_run(&shim.loop);
out:
    shim.events.on_idle = NULL;
    server_stop(&shim);
    remove_socket_of(bundle);
    while (shim.conns) {
        struct server_conn *conn = shim.conns;
        conn->conn.on_close = NULL;
        shim.conns = conn->next;
        ttrpc_conn_close(&conn->conn);
        free(conn);
    }
    if (shim.events.namespace)
        publisher_fini(&shim.events);
    ctr_context_free(shim.ctx);
    free(root);
    log_close();
    return ret;
}
