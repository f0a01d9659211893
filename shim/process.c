/* Processes of the task: lookup, exit bookkeeping (status, time, TaskExit, Wait replies). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.pb-c.h"
#include "log.h"
#include "shim.h"
#include "task.pb-c.h"

struct process *task_find_process(struct task *task, const char *exec_id)
{
    if (exec_id == NULL || *exec_id == '\0')
        return &task->init;
    for (struct process *p = task->execs; p; p = p->next)
        if (strcmp(p->exec_id, exec_id) == 0)
            return p;
    return NULL;
}

struct process *task_find_by_pid(struct task *task, pid_t pid)
{
    if (task->init.pid == pid && task->init.state != PROCESS_STOPPED)
        return &task->init;
    for (struct process *p = task->execs; p; p = p->next)
        if (p->pid == pid && p->state == PROCESS_RUNNING)
            return p;
    return NULL;
}

void process_fill_timestamp(const struct process *p, Google__Protobuf__Timestamp *ts)
{
    timestamp_set(ts, &p->exited_at);
}

void process_answer_wait(struct process *p, struct server_conn *conn, uint32_t stream_id)
{
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Containerd__Task__V2__WaitResponse response = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
    process_fill_timestamp(p, &ts);
    response.exit_status = p->exit_status;
    response.exited_at = &ts;
    server_reply(conn, stream_id, TTRPC_OK, NULL, &response.base);
}

void process_exited(struct shim *shim, struct process *p, int status)
{
    struct task *task = p->task;
    p->state = PROCESS_STOPPED;
    p->exit_status = (uint32_t)status;
    clock_gettime(CLOCK_REALTIME, &p->exited_at);
    log_debug("process %s of %s (pid %d) exited with status %d", p->exec_id ? p->exec_id : "init",
              task->id, p->pid, status);
    /* Nothing reads stdin any more; the outputs drain to their end of file on their own. */
    stdio_close_stdin(&p->io);
    if (p->pidfd >= 0) {
        close(p->pidfd);
        p->pidfd = -1;
    }

    /* An OOM kill that ended the process is published before its exit. */
    oom_check(shim, task);
    if (p == &task->init)
        task->paused = false;

    /* The event is queued first, then the Wait replies go out (the event follows them on the
     * wire, as with runc's shim): a client that deletes the task on Wait's answer makes the
     * shim queue TaskDelete, which then comes after TaskExit. */
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    process_fill_timestamp(p, &ts);
    Containerd__Events__TaskExit exit_event = CONTAINERD__EVENTS__TASK_EXIT__INIT;
    exit_event.container_id = task->id;
    exit_event.id = p->exec_id ? p->exec_id : task->id;
    exit_event.pid = (uint32_t)p->pid;
    exit_event.exit_status = p->exit_status;
    exit_event.exited_at = &ts;
    publisher_publish(&shim->events, "/tasks/exit", &exit_event.base);

    while (p->waiters) {
        struct waiter *w = p->waiters;
        p->waiters = w->next;
        process_answer_wait(p, w->conn, w->stream_id);
        free(w);
    }
}

void process_free(struct process *p)
{
    stdio_close(&p->io);
    if (p->pidfd >= 0)
        close(p->pidfd);
    p->pidfd = -1;
    while (p->waiters) {
        struct waiter *w = p->waiters;
        p->waiters = w->next;
        free(w);
    }
    free(p->exec_id);
    free(p->stdin_path);
    free(p->stdout_path);
    free(p->stderr_path);
    free(p->spec_json);
    p->exec_id = p->stdin_path = p->stdout_path = p->stderr_path = p->spec_json = NULL;
}
