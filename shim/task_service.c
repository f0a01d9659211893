/* containerd.task.v2.Task: the calls containerd makes on the shim, with the semantics of
 * containerd's own runc shim (runtime/v2/runc/task/service.go), driving the container through
 * libctr in this process. Each handler decodes its request, acts, and replies; Wait alone may
 * reply later (when the process exits). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "events.pb-c.h"
#include "log.h"
#include "runc_options.pb-c.h"
#include "shim.h"
#include "task.pb-c.h"
#include "task_create.h"
#include "metrics.h"

struct call {
    struct shim *shim;
    struct server_conn *conn;
    uint32_t stream_id;
};

static void reply(const struct call *call, const ProtobufCMessage *payload)
{
    server_reply(call->conn, call->stream_id, TTRPC_OK, NULL, payload);
}

static void reply_empty(const struct call *call)
{
    Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
    reply(call, &empty.base);
}

static void reply_error(const struct call *call, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_error(const struct call *call, int code, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    server_reply(call->conn, call->stream_id, code, message, NULL);
}

/* The outcome of a task_create.h call: its error, or `payload`. */
static void reply_result(const struct call *call, int code, const char *errbuf,
                         const ProtobufCMessage *payload)
{
    if (code != TTRPC_OK)
        reply_error(call, code, "%s", errbuf);
    else
        reply(call, payload);
}

static void reply_ctr_error(const struct call *call, ctr_error *err)
{
    reply_error(call, task_error_code(err), "%s", ctr_error_message(err));
    ctr_error_free(err);
}

static struct task *get_task(const struct call *call, const char *id)
{
    struct task *task = call->shim->task;
    if (task == NULL || strcmp(task->id, id) != 0) {
        reply_error(call, TTRPC_NOT_FOUND, "container %s: container not created", id);
        return NULL;
    }
    return task;
}

static struct process *get_process(const struct call *call, const char *id, const char *exec_id)
{
    struct task *task = get_task(call, id);
    if (task == NULL)
        return NULL;
    struct process *p = task_find_process(task, exec_id);
    if (p == NULL)
        reply_error(call, TTRPC_NOT_FOUND, "process %s of container %s does not exist", exec_id, id);
    return p;
}

#define UNPACK(type, prefix)                                                                      \
    type *req = prefix##__unpack(NULL, len, payload);                                             \
    if (req == NULL) {                                                                            \
        reply_error(call, TTRPC_INVALID_ARGUMENT, "unmarshal " #type);                            \
        return;                                                                                   \
    }
#define FREE(prefix) prefix##__free_unpacked(req, NULL)

/* ---- the init's lifecycle ---------------------------------------------------------------- */

static void do_create(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__CreateTaskRequest, containerd__task__v2__create_task_request)
    int pid = 0;
    char errbuf[1024] = "";
    int code = task_create(call->shim, req, &pid, errbuf, sizeof(errbuf));
    Containerd__Task__V2__CreateTaskResponse resp = CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
    resp.pid = (uint32_t)pid;
    reply_result(call, code, errbuf, &resp.base);
    FREE(containerd__task__v2__create_task_request);
}

static void do_start(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__StartRequest, containerd__task__v2__start_request)
    struct process *p = get_process(call, req->id, req->exec_id);
    if (p) {
        char errbuf[1024] = "";
        int code = p->exec_id ? task_start_exec(call->shim, p, errbuf, sizeof(errbuf))
                              : task_start_init(call->shim, p->task, errbuf, sizeof(errbuf));
        Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
        resp.pid = (uint32_t)p->pid;
        reply_result(call, code, errbuf, &resp.base);
    }
    FREE(containerd__task__v2__start_request);
}

static void do_delete(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__DeleteRequest, containerd__task__v2__delete_request)
    struct process *p = get_process(call, req->id, req->exec_id);
    if (p) {
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
        resp.exited_at = &ts;
        char errbuf[1024] = "";
        int code = task_delete_process(call->shim, p, &resp.pid, &resp.exit_status, &ts, errbuf,
                                       sizeof(errbuf));
        reply_result(call, code, errbuf, &resp.base);
    }
    FREE(containerd__task__v2__delete_request);
}

static void do_exec(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__ExecProcessRequest, containerd__task__v2__exec_process_request)
    struct task *task = get_task(call, req->id);
    if (task) {
        char errbuf[1024] = "";
        int code = task_add_exec(call->shim, task, req, errbuf, sizeof(errbuf));
        Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
        reply_result(call, code, errbuf, &empty.base);
    }
    FREE(containerd__task__v2__exec_process_request);
}

/* ---- queries ------------------------------------------------------------------------------- */

static Containerd__V1__Types__Status status_of(struct process *p)
{
    if (p->state == PROCESS_STOPPED)
        return CONTAINERD__V1__TYPES__STATUS__STOPPED;
    /* A paused container pauses every process in it. */
    if (p->task->paused)
        return CONTAINERD__V1__TYPES__STATUS__PAUSED;
    return p->state == PROCESS_CREATED ? CONTAINERD__V1__TYPES__STATUS__CREATED
                                       : CONTAINERD__V1__TYPES__STATUS__RUNNING;
}

static void do_state(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__StateRequest, containerd__task__v2__state_request)
    struct process *p = get_process(call, req->id, req->exec_id);
    if (p) {
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        Containerd__Task__V2__StateResponse resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
        resp.id = p->exec_id ? p->exec_id : p->task->id;
        resp.bundle = p->task->bundle;
        resp.pid = (uint32_t)p->pid;
        resp.status = status_of(p);
        resp.stdin = p->stdin_path ? p->stdin_path : "";
        resp.stdout = p->stdout_path ? p->stdout_path : "";
        resp.stderr = p->stderr_path ? p->stderr_path : "";
        resp.terminal = p->terminal;
        resp.exec_id = p->exec_id ? p->exec_id : "";
        if (p->state == PROCESS_STOPPED) {
            resp.exit_status = p->exit_status;
            process_fill_timestamp(p, &ts);
            resp.exited_at = &ts;
        }
        reply(call, &resp.base);
    }
    FREE(containerd__task__v2__state_request);
}

/* The processes of `task`, each exec'd one with its exec id (as runc's shim says which it is). */
static void reply_pids(const struct call *call, struct task *task, const pid_t *pids, size_t count)
{
    Containerd__V1__Types__ProcessInfo *infos = calloc(count + 1, sizeof(*infos));
    Containerd__V1__Types__ProcessInfo **list = calloc(count + 1, sizeof(*list));
    Google__Protobuf__Any *anys = calloc(count + 1, sizeof(*anys));
    if (infos == NULL || list == NULL || anys == NULL) {
        reply_error(call, TTRPC_RESOURCE_EXHAUSTED, "pids: out of memory");
        goto out;
    }
    Containerd__Runc__V1__ProcessDetails details = CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
    for (size_t i = 0; i < count; i++) {
        containerd__v1__types__process_info__init(&infos[i]);
        infos[i].pid = (uint32_t)pids[i];
        list[i] = &infos[i];
        struct process *exec = task_find_by_pid(task, pids[i]);
        if (exec == NULL || exec->exec_id == NULL)
            continue;
        google__protobuf__any__init(&anys[i]);
        details.exec_id = exec->exec_id;
        anys[i].type_url = "containerd.runc.v1.ProcessDetails";
        if (ttrpc_pack(&details.base, &anys[i].value.data, &anys[i].value.len) == 0)
            infos[i].info = &anys[i];
    }
    Containerd__Task__V2__PidsResponse resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
    resp.n_processes = count;
    resp.processes = list;
    reply(call, &resp.base);
    for (size_t i = 0; i < count; i++)
        free(anys[i].value.data);
out:
    free(anys);
    free(list);
    free(infos);
}

static void do_pids(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__PidsRequest, containerd__task__v2__pids_request)
    struct task *task = get_task(call, req->id);
    pid_t *pids = NULL;
    size_t count = 0;
    ctr_error *err = NULL;
    if (task && ctr_container_pids(task->container, &pids, &count, &err) < 0)
        reply_ctr_error(call, err);
    else if (task)
        reply_pids(call, task, pids, count);
    free(pids);
    FREE(containerd__task__v2__pids_request);
}

static void do_stats(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__StatsRequest, containerd__task__v2__stats_request)
    struct task *task = get_task(call, req->id);
    char *json = NULL;
    ctr_error *err = NULL;
    if (task && ctr_container_stats_json(task->container, &json, &err) < 0) {
        reply_ctr_error(call, err);
    } else if (task) {
        Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
        any.type_url = "io.containerd.cgroups.v1.Metrics";
        if (metrics_from_stats_json(json, &any.value.data, &any.value.len) < 0) {
            reply_error(call, TTRPC_INTERNAL, "stats of container %s: cannot convert", task->id);
        } else {
            Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
            resp.stats = &any;
            reply(call, &resp.base);
        }
        free(any.value.data);
        free(json);
    }
    FREE(containerd__task__v2__stats_request);
}

static void do_wait(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__WaitRequest, containerd__task__v2__wait_request)
    struct process *p = get_process(call, req->id, req->exec_id);
    if (p && p->state == PROCESS_STOPPED) {
        process_answer_wait(p, call->conn, call->stream_id);
    } else if (p) {
        struct waiter *w = calloc(1, sizeof(*w));
        if (w == NULL) {
            reply_error(call, TTRPC_RESOURCE_EXHAUSTED, "wait: out of memory");
        } else {
            *w = (struct waiter){.next = p->waiters, .conn = call->conn,
                                 .stream_id = call->stream_id};
            p->waiters = w;
        }
    }
    FREE(containerd__task__v2__wait_request);
}

static void do_connect(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__ConnectRequest, containerd__task__v2__connect_request)
    Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
    resp.shim_pid = (uint32_t)getpid();
    resp.task_pid = call->shim->task ? (uint32_t)call->shim->task->init.pid : 0;
    resp.version = SHIM_VERSION;
    reply(call, &resp.base);
    FREE(containerd__task__v2__connect_request);
}

/* ---- operations ---------------------------------------------------------------------------- */

static void do_kill(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__KillRequest, containerd__task__v2__kill_request)
    struct process *p = get_process(call, req->id, req->exec_id);
    ctr_error *err = NULL;
    if (p == NULL) {
        /* replied */
    } else if (p->state == PROCESS_STOPPED) {
        /* containerd treats NotFound as "already gone" (e.g. `ctr task rm -f`). */
        reply_error(call, TTRPC_NOT_FOUND, "process already finished");
    } else if (p->exec_id == NULL) {
        if (ctr_container_kill(p->task->container, (int)req->signal, req->all, &err) < 0)
            reply_ctr_error(call, err);
        else
            reply_empty(call);
    } else if (p->state == PROCESS_CREATED) {
        reply_error(call, TTRPC_FAILED_PRECONDITION, "process %s is not started", p->exec_id);
    } else if (syscall(SYS_pidfd_send_signal, p->pidfd, (int)req->signal, NULL, 0) < 0) {
        reply_error(call, errno == ESRCH ? TTRPC_NOT_FOUND : TTRPC_UNKNOWN,
                    "signal %u to process %s (pid %d): %s", req->signal, p->exec_id, p->pid,
                    strerror(errno));
    } else {
        reply_empty(call);
    }
    FREE(containerd__task__v2__kill_request);
}

static void pause_or_resume(const struct call *call, const char *id, bool pause)
{
    struct task *task = get_task(call, id);
    ctr_error *err = NULL;
    if (task == NULL)
        return;
    int ret = pause ? ctr_container_pause(task->container, &err)
                    : ctr_container_resume(task->container, &err);
    if (ret < 0) {
        reply_ctr_error(call, err);
        return;
    }
    task->paused = pause;
    if (pause) {
        Containerd__Events__TaskPaused event = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
        event.container_id = task->id;
        publisher_publish(&call->shim->events, "/tasks/paused", &event.base);
    } else {
        Containerd__Events__TaskResumed event = CONTAINERD__EVENTS__TASK_RESUMED__INIT;
        event.container_id = task->id;
        publisher_publish(&call->shim->events, "/tasks/resumed", &event.base);
    }
    reply_empty(call);
}

static void do_pause(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__PauseRequest, containerd__task__v2__pause_request)
    pause_or_resume(call, req->id, true);
    FREE(containerd__task__v2__pause_request);
}

static void do_resume(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__ResumeRequest, containerd__task__v2__resume_request)
    pause_or_resume(call, req->id, false);
    FREE(containerd__task__v2__resume_request);
}

static void do_resize_pty(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__ResizePtyRequest, containerd__task__v2__resize_pty_request)
    struct process *p = get_process(call, req->id, req->exec_id);
    if (p) {
        struct winsize ws = {.ws_row = (unsigned short)req->height,
                             .ws_col = (unsigned short)req->width};
        int console = stdio_console(&p->io);
        /* No console (not a terminal, or already gone): nothing to resize, as runc's shim. */
        if (console >= 0 && ioctl(console, TIOCSWINSZ, &ws) < 0)
            reply_error(call, TTRPC_UNKNOWN, "resize the console of %s: %s",
                        p->exec_id ? p->exec_id : p->task->id, strerror(errno));
        else
            reply_empty(call);
    }
    FREE(containerd__task__v2__resize_pty_request);
}

static void do_close_io(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__CloseIORequest, containerd__task__v2__close_iorequest)
    struct process *p = get_process(call, req->id, req->exec_id);
    if (p) {
        if (req->stdin)
            stdio_close_stdin(&p->io);
        reply_empty(call);
    }
    FREE(containerd__task__v2__close_iorequest);
}

static void do_update(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__UpdateTaskRequest, containerd__task__v2__update_task_request)
    struct task *task = get_task(call, req->id);
    ctr_error *err = NULL;
    if (task == NULL) {
        /* replied */
    } else if (req->resources == NULL) {
        reply_error(call, TTRPC_INVALID_ARGUMENT, "update container %s: no resources", task->id);
    } else if (ctr_container_update(task->container, (const char *)req->resources->value.data,
                                    req->resources->value.len, &err) < 0) {
        reply_ctr_error(call, err);
    } else {
        reply_empty(call);
    }
    FREE(containerd__task__v2__update_task_request);
}

static void do_shutdown(const struct call *call, const uint8_t *payload, size_t len)
{
    UNPACK(Containerd__Task__V2__ShutdownRequest, containerd__task__v2__shutdown_request)
    reply_empty(call);
    /* Ignored while the task exists, as runc's shim does: containerd sends it after Delete. */
    if (call->shim->task == NULL) {
        call->shim->shutting_down = true;
        shim_maybe_exit(call->shim);
    }
    FREE(containerd__task__v2__shutdown_request);
}

static void do_checkpoint(const struct call *call, const uint8_t *payload, size_t len)
{
    (void)payload;
    (void)len;
    reply_error(call, TTRPC_UNIMPLEMENTED, "checkpoint is not supported by the ctr shim");
}

static const struct {
    const char *name;
    void (*fn)(const struct call *call, const uint8_t *payload, size_t len);
} methods[] = {
    {"State", do_state},     {"Create", do_create},         {"Start", do_start},
    {"Delete", do_delete},   {"Pids", do_pids},             {"Pause", do_pause},
    {"Resume", do_resume},   {"Checkpoint", do_checkpoint}, {"Kill", do_kill},
    {"Exec", do_exec},       {"ResizePty", do_resize_pty},  {"CloseIO", do_close_io},
    {"Update", do_update},   {"Wait", do_wait},             {"Stats", do_stats},
    {"Connect", do_connect}, {"Shutdown", do_shutdown},
};

void task_service_dispatch(struct shim *shim, struct server_conn *conn, uint32_t stream_id,
                           const char *method, const uint8_t *payload, size_t len)
{
    struct call call = {.shim = shim, .conn = conn, .stream_id = stream_id};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(methods[i].name, method) == 0) {
            methods[i].fn(&call, payload ? payload : (const uint8_t *)"", len);
            return;
        }
    }
    reply_error(&call, TTRPC_UNIMPLEMENTED, "method %s", method);
}

static void forget_waiters(struct process *p, struct server_conn *conn)
{
    for (struct waiter **w = &p->waiters; *w;) {
        if ((*w)->conn == conn) {
            struct waiter *gone = *w;
            *w = gone->next;
            free(gone);
        } else {
            w = &(*w)->next;
        }
    }
}

void task_service_forget_conn(struct shim *shim, struct server_conn *conn)
{
    if (shim->task == NULL)
        return;
    forget_waiters(&shim->task->init, conn);
    for (struct process *p = shim->task->execs; p; p = p->next)
        forget_waiters(p, conn);
}
