/* OOM kills in the task's cgroup, published as TaskOOM (`/tasks/oom`), one per kill, in order
 * with the task's other events.
 *
 * libctr's OOM fd (an eventfd registered on v1's memory.oom_control, or an inotify watch of v2's
 * memory.events) says "the OOM killer may have acted"; memory.oom_control's or memory.events'
 * oom_kill counter says how many kills there were. A notification alone is not a kill (v1
 * notifies when the cgroup hits its limit, before a victim is chosen, and also when no victim is
 * killed), so the shim compares the counter with the kills it already published. Because v1's
 * notification comes before the kill is counted, a notification that finds no new kill is
 * checked once more shortly after; and the counter is read again before every TaskExit, so a
 * process the OOM killer ended has its TaskOOM published before its exit (the kernel counts the
 * kill before it sends SIGKILL). */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "events.pb-c.h"
#include "log.h"
#include "shim.h"

/* A notification without a new kill is looked at again this much later (v1 counts the kill
 * after it notifies: the time to choose a victim). */
#define OOM_RECHECK_MS 50

static void stop(struct shim *shim, struct oom_watch *oom)
{
    loop_timer_disarm(&shim->loop, &oom->recheck);
    if (oom->source.fd >= 0) {
        loop_unwatch(&shim->loop, &oom->source);
        close(oom->source.fd);
        oom->source.fd = -1;
    }
}

/* Publishes one TaskOOM per kill counted since the last look; false when nothing was new. */
static bool publish_new_kills(struct shim *shim, struct task *task)
{
    struct oom_watch *oom = &task->oom;
    uint64_t kills = oom->kills;
    ctr_error *err = NULL;
    if (oom->source.fd < 0 || task->container == NULL)
        return false;
    if (ctr_container_oom_count(task->container, &kills, &err) < 0) {
        /* The cgroup is gone (removed behind the shim's back): nothing more to watch. */
        log_error("%s", ctr_error_message(err));
        ctr_error_free(err);
        stop(shim, oom);
        return false;
    }
    bool any = kills > oom->kills;
    for (; oom->kills < kills; oom->kills++) {
        Containerd__Events__TaskOOM event = CONTAINERD__EVENTS__TASK_OOM__INIT;
        event.container_id = task->id;
        log_debug("container %s: OOM kill %llu", task->id, (unsigned long long)oom->kills + 1);
        publisher_publish(&shim->events, "/tasks/oom", &event.base);
    }
    return any;
}

static void on_recheck(struct loop *loop, struct loop_source *source, uint32_t events)
{
    struct shim *shim = source->data;
    (void)events;
    loop_timer_disarm(loop, source);
    if (shim->task)
        publish_new_kills(shim, shim->task);
}

static void on_notified(struct loop *loop, struct loop_source *source, uint32_t events)
{
    struct shim *shim = source->data;
    struct task *task = shim->task;
    (void)events;
    /* An eventfd's 8-byte counter or inotify events: whatever it holds, read it all. */
    char drain[512];
    ssize_t n;
    do
        n = read(source->fd, drain, sizeof(drain));
    while (n > 0 || (n < 0 && errno == EINTR));
    if (task == NULL)
        return;
    if (!publish_new_kills(shim, task) && task->oom.source.fd >= 0)
        loop_timer_arm(loop, &task->oom.recheck, OOM_RECHECK_MS);
}

void oom_watch_start(struct shim *shim, struct task *task)
{
    struct oom_watch *oom = &task->oom;
    ctr_error *err = NULL;
    int fd = -1;
    /* No memory controller (a cgroup v2 host without it): the task runs without OOM events. */
    if (ctr_container_oom_fd(task->container, &fd, &err) < 0 ||
        ctr_container_oom_count(task->container, &oom->kills, &err) < 0) {
        log_debug("container %s: no OOM events: %s", task->id, ctr_error_message(err));
        ctr_error_free(err);
        if (fd >= 0)
            close(fd);
        return;
    }
    oom->source = (struct loop_source){.fd = fd, .fn = on_notified, .data = shim};
    if (loop_watch(&shim->loop, &oom->source, EPOLLIN) < 0) {
        log_error("container %s: watch for OOM kills: %s", task->id, strerror(errno));
        close(fd);
        oom->source.fd = -1;
    }
}

void oom_check(struct shim *shim, struct task *task)
{
    publish_new_kills(shim, task);
}

void oom_watch_stop(struct shim *shim, struct task *task)
{
    stop(shim, &task->oom);
}

void oom_watch_init(struct shim *shim, struct task *task)
{
    task->oom = (struct oom_watch){
        .source = {.fd = -1},
        .recheck = {.fd = -1, .fn = on_recheck, .data = shim},
    };
}
