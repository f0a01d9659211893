/* epoll event loop; see loop.h. */
#include "loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

int loop_init(struct loop *loop)
{
    loop->stop = false;
    loop->deferred = NULL;
    loop->deferred_tail = &loop->deferred;
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    return loop->epoll_fd < 0 ? -1 : 0;
}

void loop_fini(struct loop *loop)
{
    if (loop->epoll_fd >= 0)
        close(loop->epoll_fd);
    loop->epoll_fd = -1;
}

int loop_watch(struct loop *loop, struct loop_source *source, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = source};
    if (epoll_ctl(loop->epoll_fd, source->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, source->fd, &ev) < 0)
        return -1;
    source->added = true;
    return 0;
}

void loop_unwatch(struct loop *loop, struct loop_source *source)
{
    if (source->added)
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, source->fd, NULL);
    source->added = false;
}

void loop_defer(struct loop *loop, struct loop_deferred *deferred)
{
    if (deferred->queued)
        return;
    deferred->queued = true;
    deferred->next = NULL;
    *loop->deferred_tail = deferred;
    loop->deferred_tail = &deferred->next;
}

void loop_cancel(struct loop *loop, struct loop_deferred *deferred)
{
    if (!deferred->queued)
        return;
    for (struct loop_deferred **p = &loop->deferred; *p; p = &(*p)->next) {
        if (*p == deferred) {
            *p = deferred->next;
            if (loop->deferred_tail == &deferred->next)
                loop->deferred_tail = p;
            break;
        }
    }
    deferred->queued = false;
}

/* In order; what a deferred function queues runs in the same round. */
static void run_deferred(struct loop *loop)
{
    while (loop->deferred) {
        struct loop_deferred *deferred = loop->deferred;
        loop->deferred = deferred->next;
        if (loop->deferred == NULL)
            loop->deferred_tail = &loop->deferred;
        deferred->queued = false;
        deferred->fn(deferred->data);
    }
}

int loop_run(struct loop *loop)
{
    while (!loop->stop) {
        run_deferred(loop);
        if (loop->stop)
            break;
        /* One event per wait: a callback may free another source (a connection closing drops
         * the waiters it registered), and a batch could still hold a pointer to it. */
        struct epoll_event ev;
        int n = epoll_wait(loop->epoll_fd, &ev, 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 1) {
            struct loop_source *source = ev.data.ptr;
            source->fn(loop, source, ev.events);
        }
    }
    return 0;
}

int loop_timer_arm(struct loop *loop, struct loop_source *timer, unsigned ms)
{
    if (timer->fd < 0) {
        timer->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (timer->fd < 0)
            return -1;
        timer->added = false;
        if (loop_watch(loop, timer, EPOLLIN) < 0)
            return -1;
    }
    struct itimerspec spec = {.it_value = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L}};
    if (ms == 0)
        spec.it_value.tv_nsec = 1; /* zero would disarm it */
    return timerfd_settime(timer->fd, 0, &spec, NULL);
}

void loop_timer_disarm(struct loop *loop, struct loop_source *timer)
{
    if (timer->fd < 0)
        return;
    loop_unwatch(loop, timer);
    close(timer->fd);
    timer->fd = -1;
}
