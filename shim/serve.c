/* The daemon: subreaper, event loop, ttrpc server on the listening socket `start` made, until
 * containerd calls Shutdown once the task is deleted, or a SIGTERM or SIGINT comes. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "shim.h"
#include "task_create.h"
#include "trim.h"

/* Events still queued when the shim should exit get this long to reach containerd (the 5 s
 * containerd's shims give their publisher). */
#define EXIT_GRACE_MS 5000
/* Quiet this long after a call or an exit, the shim gives memory back (trim.h). Longer than the
 * gaps between the calls of one container start or removal (a millisecond or so), so a short
 * container never pays for it, short enough that an idle shim is small soon after its start. */
#define IDLE_TRIM_MS 100

static void on_exit_timer(struct loop *loop, struct loop_source *source, uint32_t events)
{
    (void)source;
    (void)events;
    log_error("exiting with events containerd did not take");
    loop->stop = true;
}

static void on_idle(struct loop *loop, struct loop_source *source, uint32_t events)
{
    (void)events;
    loop_timer_disarm(loop, source);
    memory_trim();
}

void shim_worked(struct shim *shim)
{
    if (loop_timer_arm(&shim->loop, &shim->idle_timer, IDLE_TRIM_MS) < 0)
        loop_timer_disarm(&shim->loop, &shim->idle_timer);
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

/* containerd's shims (shim.go, handleExitSignals) cancel their context on SIGTERM and SIGINT:
 * they stop serving, let the queued events out and exit, whatever runs. Their containers are
 * left as they are: containerd sees the connection close and runs `delete` (its
 * cleanupAfterDeadShim), which kills and removes the container and publishes its exit. */
void shim_terminate(struct shim *shim, int signo)
{
    log_info("%s: exiting, leaving the container to containerd's `delete`", strsignal(signo));
    shim->shutting_down = true;
    shim_maybe_exit(shim);
}

static void on_events_idle(void *data)
{
    shim_maybe_exit(data);
}

/* At exit with the task still there (SIGTERM): the container keeps running, the shim lets go of
 * it (stdio, OOM watch, handle) without touching it. */
static void release_task(struct shim *shim)
{
    struct task *task = shim->task;
    if (task == NULL)
        return;
    shim->task = NULL;
    if (task->container)
        ctr_container_release(task->container);
    task->container = NULL;
    task_free(shim, task);
}

int serve(const struct shim_options *opts, const struct shim_socket *socket)
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
        .socket = *socket,
        .listener = {.fd = -1},
        .signals = {.fd = -1},
        .exit_timer = {.fd = -1, .fn = on_exit_timer},
        .idle_timer = {.fd = -1, .fn = on_idle},
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
    if (server_start(&shim) < 0) {
        log_error("serve the shim socket: %s", strerror(errno));
        goto out;
    }
    /* While containerd reads `start`'s answer, not later on the way of TaskCreate. */
    publisher_connect(&shim.events);
    shim_worked(&shim);
    log_debug("serving %s in namespace %s", opts->id, opts->namespace);
    ret = loop_run(&shim.loop);
out:
    if (shim.socket.fd >= 0)
        close(shim.socket.fd);
    shim.events.on_idle = NULL;
    server_stop(&shim);
    while (shim.conns) {
        struct server_conn *conn = shim.conns;
        conn->conn.on_close = NULL;
        shim.conns = conn->next;
        ttrpc_conn_close(&conn->conn);
        free(conn);
    }
    release_task(&shim);
    loop_timer_disarm(&shim.loop, &shim.exit_timer);
    loop_timer_disarm(&shim.loop, &shim.idle_timer);
    if (shim.events.namespace)
        publisher_fini(&shim.events);
    loop_fini(&shim.loop);
    ctr_context_free(shim.ctx);
    free(root);
    log_close();
    return ret;
}
