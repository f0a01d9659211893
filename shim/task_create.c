/* Create, Start, Exec and Delete of the task; see task_create.h. */
#include "task_create.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.pb-c.h"
#include "log.h"
#include "rootfs.h"
#include "runc_options.pb-c.h"

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

int task_error_code(const ctr_error *err)
{
    switch (ctr_error_code(err)) {
    case EBUSY: return TTRPC_FAILED_PRECONDITION;
    case ENOENT: case ESRCH: return TTRPC_NOT_FOUND;
    case EEXIST: return TTRPC_ALREADY_EXISTS;
    case EINVAL: return TTRPC_INVALID_ARGUMENT;
    case EOPNOTSUPP: return TTRPC_UNIMPLEMENTED;
    default: return TTRPC_UNKNOWN;
    }
}

/* The error as libctr worded it, and its code. */
static int from_ctr_error(ctr_error *err, char *errbuf, size_t errlen)
{
    int code = task_error_code(err);
    snprintf(errbuf, errlen, "%s", ctr_error_message(err));
    ctr_error_free(err);
    return code;
}

/* runtime options containerd passes through (`ctr run --no-pivot` sets no_pivot_root). */
static void read_options(const Google__Protobuf__Any *any, int *no_pivot, int *no_new_keyring)
{
    if (any == NULL || any->type_url == NULL)
        return;
    const char *suffix = "containerd.runc.v1.Options";
    size_t n = strlen(any->type_url), m = strlen(suffix);
    if (n < m || strcmp(any->type_url + n - m, suffix) != 0)
        return;
    Containerd__Runc__V1__Options *opts =
        containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
    if (opts == NULL)
        return;
    *no_pivot = opts->no_pivot_root;
    *no_new_keyring = opts->no_new_keyring;
    containerd__runc__v1__options__free_unpacked(opts, NULL);
}

/* Like runc's shim (ShouldKillAllOnExit): unless the container has a new pid namespace of its
 * own, the init's exit leaves its other processes running, and the shim kills them. */
static bool shares_pid_namespace(const char *bundle)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/config.json", bundle);
    json_t *config = json_load_file(path, 0, NULL);
    bool shared = true;
    json_t *namespaces = json_object_get(json_object_get(config, "linux"), "namespaces");
    size_t i;
    json_t *ns;
    json_array_foreach(namespaces, i, ns) {
        const char *type = json_string_value(json_object_get(ns, "type"));
        const char *nspath = json_string_value(json_object_get(ns, "path"));
        if (type && strcmp(type, "pid") == 0 && (nspath == NULL || *nspath == '\0'))
            shared = false;
    }
    json_decref(config);
    return shared;
}

void task_free(struct shim *shim, struct task *task)
{
    loop_cancel(&shim->loop, &task->after_create);
    oom_watch_stop(shim, task);
    process_free(&task->init);
    while (task->execs) {
        struct process *p = task->execs;
        task->execs = p->next;
        process_free(p);
        free(p);
    }
    free(task->id);
    free(task->bundle);
    free(task->rootfs);
    free(task);
}

/* The console is the container's; the pumps get a duplicate they own. */
static int attach_console(struct process *p, int console, bool owned)
{
    int fd = owned ? console : fcntl(console, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return -1;
    return stdio_attach_console(&p->io, fd);
}

/* What Create's reply need not wait for: the init cannot exit before Start, and the OOM watch
 * counts from now on. */
static void after_create(void *data)
{
    struct shim *shim = data;
    struct task *task = shim->task;
    if (task == NULL)
        return;
    task->shared_pid_ns = shares_pid_namespace(task->bundle);
    oom_watch_start(shim, task);
}

int task_create(struct shim *shim, const Containerd__Task__V2__CreateTaskRequest *req, int *pid,
                char *errbuf, size_t errlen)
{
    if (shim->task) {
        snprintf(errbuf, errlen, "container %s: already created", shim->task->id);
        return TTRPC_ALREADY_EXISTS;
    }
    if (req->checkpoint && *req->checkpoint) {
        snprintf(errbuf, errlen, "container %s: restoring a checkpoint is not supported", req->id);
        return TTRPC_UNIMPLEMENTED;
    }
    struct task *task = calloc(1, sizeof(*task));
    if (task == NULL || (task->id = strdup(req->id)) == NULL ||
        (task->bundle = strdup(req->bundle)) == NULL) {
        snprintf(errbuf, errlen, "container %s: out of memory", req->id);
        if (task)
            free(task->id);
        free(task);
        return TTRPC_RESOURCE_EXHAUSTED;
    }
    oom_watch_init(shim, task);
    task->after_create = (struct loop_deferred){.fn = after_create, .data = shim};
    struct process *init = &task->init;
    init->task = task;
    init->pidfd = -1;
    init->terminal = req->terminal;
    init->stdin_path = dup_or_null(req->stdin);
    init->stdout_path = dup_or_null(req->stdout);
    init->stderr_path = dup_or_null(req->stderr);
    stdio_open(&init->io, &shim->loop, NULL, NULL, NULL, false, errbuf, errlen); /* empty */

    int code = TTRPC_UNKNOWN;
    if (req->n_rootfs > 0) {
        if (asprintf(&task->rootfs, "%s/rootfs", req->bundle) < 0) {
            task->rootfs = NULL;
            goto fail;
        }
        if (rootfs_mount(task->rootfs, req->rootfs, req->n_rootfs, errbuf, errlen) < 0) {
            free(task->rootfs);
            task->rootfs = NULL; /* nothing is left mounted */
            goto fail;
        }
    }
    if (stdio_open(&init->io, &shim->loop, req->stdin, req->stdout, req->stderr, req->terminal,
                   errbuf, errlen) < 0)
        goto fail;

    struct ctr_create_options opts = {
        .size = sizeof(opts),
        .bundle = req->bundle,
        .stdio = {init->io.process_fds[0], init->io.process_fds[1], init->io.process_fds[2]},
    };
    read_options(req->options, &opts.no_pivot, &opts.no_new_keyring);
    ctr_error *err = NULL;
    if (ctr_container_create(shim->ctx, req->id, &opts, &task->container, &err) < 0) {
        code = from_ctr_error(err, errbuf, errlen);
        goto fail;
    }
    stdio_process_started(&init->io);
    int console = ctr_container_console_fd(task->container);
    if (console >= 0 && attach_console(init, console, false) < 0)
        log_error("container %s: copy its console: %s", req->id, strerror(errno));
    init->pid = ctr_container_pid(task->container);
    init->state = PROCESS_CREATED;
    shim->task = task;
    loop_defer(&shim->loop, &task->after_create);
    *pid = init->pid;

    Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;
    io.stdin = req->stdin;
    io.stdout = req->stdout;
    io.stderr = req->stderr;
    io.terminal = req->terminal;
    Containerd__Events__TaskCreate event = CONTAINERD__EVENTS__TASK_CREATE__INIT;
    event.container_id = req->id;
    event.bundle = req->bundle;
    event.n_rootfs = req->n_rootfs;
    event.rootfs = req->rootfs;
    event.io = &io;
    event.checkpoint = req->checkpoint;
    event.pid = (uint32_t)init->pid;
    publisher_publish(&shim->events, "/tasks/create", &event.base);
    return TTRPC_OK;

fail:
    if (task->rootfs) {
        char ignored[256];
        rootfs_unmount(task->rootfs, ignored, sizeof(ignored));
    }
    if (errbuf[0] == '\0')
        snprintf(errbuf, errlen, "create container %s: %s", req->id, strerror(errno));
    task_free(shim, task);
    return code;
}

int task_start_init(struct shim *shim, struct task *task, char *errbuf, size_t errlen)
{
    if (task->init.state != PROCESS_CREATED) {
        snprintf(errbuf, errlen, "container %s: already started", task->id);
        return TTRPC_FAILED_PRECONDITION;
    }
    ctr_error *err = NULL;
    if (ctr_container_start(task->container, &err) < 0)
        return from_ctr_error(err, errbuf, errlen);
    task->init.state = PROCESS_RUNNING;
    Containerd__Events__TaskStart event = CONTAINERD__EVENTS__TASK_START__INIT;
    event.container_id = task->id;
    event.pid = (uint32_t)task->init.pid;
    publisher_publish(&shim->events, "/tasks/start", &event.base);
    return TTRPC_OK;
}

int task_add_exec(struct shim *shim, struct task *task,
                  const Containerd__Task__V2__ExecProcessRequest *req, char *errbuf, size_t errlen)
{
    if (task_find_process(task, req->exec_id) != NULL || *req->exec_id == '\0') {
        snprintf(errbuf, errlen, "id %s: already exists", req->exec_id);
        return TTRPC_ALREADY_EXISTS;
    }
    if (task->init.state == PROCESS_STOPPED) {
        snprintf(errbuf, errlen, "container %s: stopped, cannot exec %s", task->id, req->exec_id);
        return TTRPC_FAILED_PRECONDITION;
    }
    if (req->spec == NULL || req->spec->value.len == 0) {
        snprintf(errbuf, errlen, "exec %s: no process spec", req->exec_id);
        return TTRPC_INVALID_ARGUMENT;
    }
    struct process *p = calloc(1, sizeof(*p));
    if (p == NULL)
        goto nomem;
    p->task = task;
    p->pidfd = -1;
    p->terminal = req->terminal;
    stdio_open(&p->io, &shim->loop, NULL, NULL, NULL, false, errbuf, errlen); /* empty */
    p->exec_id = strdup(req->exec_id);
    p->stdin_path = dup_or_null(req->stdin);
    p->stdout_path = dup_or_null(req->stdout);
    p->stderr_path = dup_or_null(req->stderr);
    /* The Any holds the runtime-spec process as JSON (type .../runtime-spec/1/Process). */
    p->spec_json = malloc(req->spec->value.len);
    if (p->exec_id == NULL || p->spec_json == NULL) {
        process_free(p);
        free(p);
        goto nomem;
    }
    memcpy(p->spec_json, req->spec->value.data, req->spec->value.len);
    p->spec_len = req->spec->value.len;
    p->state = PROCESS_CREATED;
    p->next = task->execs;
    task->execs = p;

    Containerd__Events__TaskExecAdded event = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
    event.container_id = task->id;
    event.exec_id = p->exec_id;
    publisher_publish(&shim->events, "/tasks/exec-added", &event.base);
    return TTRPC_OK;
nomem:
    snprintf(errbuf, errlen, "exec %s: out of memory", req->exec_id);
    return TTRPC_RESOURCE_EXHAUSTED;
}

int task_start_exec(struct shim *shim, struct process *p, char *errbuf, size_t errlen)
{
    struct task *task = p->task;
    if (p->state != PROCESS_CREATED) {
        snprintf(errbuf, errlen, "process %s: already started", p->exec_id);
        return TTRPC_FAILED_PRECONDITION;
    }
    /* FIFOs are opened now, as runc's shim does: the client made them before Exec. */
    if (stdio_open(&p->io, &shim->loop, p->stdin_path, p->stdout_path, p->stderr_path, p->terminal,
                   errbuf, errlen) < 0)
        return TTRPC_UNKNOWN;
    struct ctr_exec_options opts = {
        .size = sizeof(opts),
        .process_json = p->spec_json,
        .process_json_len = p->spec_len,
        .stdio = {p->io.process_fds[0], p->io.process_fds[1], p->io.process_fds[2]},
    };
    int console = -1;
    ctr_error *err = NULL;
    int ret = ctr_container_exec(task->container, &opts, &p->pid, &p->pidfd, &console, &err);
    stdio_process_started(&p->io);
    if (ret < 0) {
        stdio_close(&p->io);
        return from_ctr_error(err, errbuf, errlen);
    }
    if (console >= 0 && attach_console(p, console, true) < 0)
        log_error("exec %s: copy its console: %s", p->exec_id, strerror(errno));
    free(p->spec_json);
    p->spec_json = NULL;
    p->state = PROCESS_RUNNING;
    Containerd__Events__TaskExecStarted event = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
    event.container_id = task->id;
    event.exec_id = p->exec_id;
    event.pid = (uint32_t)p->pid;
    publisher_publish(&shim->events, "/tasks/exec-started", &event.base);
    return TTRPC_OK;
}

static int delete_exec(struct process *p, char *errbuf, size_t errlen)
{
    if (p->state == PROCESS_RUNNING) {
        snprintf(errbuf, errlen, "process %s: cannot delete a running process", p->exec_id);
        return TTRPC_FAILED_PRECONDITION;
    }
    struct task *task = p->task;
    for (struct process **q = &task->execs; *q; q = &(*q)->next) {
        if (*q == p) {
            *q = p->next;
            break;
        }
    }
    process_free(p);
    free(p);
    return TTRPC_OK;
}

static int delete_init(struct shim *shim, struct task *task, uint32_t *exit_status,
                       Google__Protobuf__Timestamp *exited_at, char *errbuf, size_t errlen)
{
    struct process *init = &task->init;
    if (init->state == PROCESS_RUNNING) {
        snprintf(errbuf, errlen, "container %s: cannot delete a running process", task->id);
        return TTRPC_FAILED_PRECONDITION;
    }
    bool never_started = init->state == PROCESS_CREATED;
    ctr_error *err = NULL;
    /* Before the cgroup goes: v1 signals its OOM eventfd when the cgroup is removed. */
    oom_watch_stop(shim, task);
    /* A created init never ran: deleting kills it at the barrier (libctr reaps it). The handle
     * is freed whatever happens; what failed is left to the `delete` action. */
    int ret = ctr_container_delete(task->container, never_started, &err);
    task->container = NULL;
    if (never_started)
        process_exited(shim, init, 128 + SIGKILL);
    int code = TTRPC_OK;
    if (ret < 0)
        code = from_ctr_error(err, errbuf, errlen);
    if (task->rootfs && rootfs_unmount(task->rootfs, errbuf, errlen) < 0 && code == TTRPC_OK)
        code = TTRPC_UNKNOWN;
    if (code != TTRPC_OK)
        log_error("%s", errbuf);

    *exit_status = init->exit_status;
    process_fill_timestamp(init, exited_at);
    Containerd__Events__TaskDelete event = CONTAINERD__EVENTS__TASK_DELETE__INIT;
    event.container_id = task->id;
    event.pid = (uint32_t)init->pid;
    event.exit_status = init->exit_status;
    event.exited_at = exited_at;
    publisher_publish(&shim->events, "/tasks/delete", &event.base);
    shim->task = NULL;
    task_free(shim, task);
    return code;
}

int task_delete_process(struct shim *shim, struct process *p, uint32_t *pid, uint32_t *exit_status,
                        Google__Protobuf__Timestamp *exited_at, char *errbuf, size_t errlen)
{
    *pid = (uint32_t)p->pid;
    if (p->exec_id == NULL)
        return delete_init(shim, p->task, exit_status, exited_at, errbuf, errlen);
    *exit_status = p->exit_status;
    process_fill_timestamp(p, exited_at);
    return delete_exec(p, errbuf, errlen);
}
