/* The shim's only event loop: epoll over every fd the shim watches (the ttrpc socket and its
 * connections, the SIGCHLD signalfd, stdio pipes and FIFOs, timers). No threads: a shim is idle
 * almost all its life and one loop keeps it small (conmon's lesson). */
#ifndef SHIM_LOOP_H
#define SHIM_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct loop_source;

typedef void (*loop_fn)(struct loop *loop, struct loop_source *source, uint32_t events);

/* Embedded in whoever owns the fd; `fn` is called with the epoll events. */
struct loop_source {
    int fd;
    loop_fn fn;
    void *data;
    bool added;
};

/* Work that runs once the current callback has returned, before the loop waits again: what may
 * follow a call's reply (sending events, bookkeeping) then never delays the reply. Embedded in
 * its owner, queued at most once. */
struct loop_deferred {
    struct loop_deferred *next;
    void (*fn)(void *data);
    void *data;
    bool queued;
};

struct loop {
    int epoll_fd;
    bool stop;
    struct loop_deferred *deferred, **deferred_tail;
};

int loop_init(struct loop *loop);
void loop_fini(struct loop *loop);
/* Watches (or re-arms, with different events) source->fd. */
int loop_watch(struct loop *loop, struct loop_source *source, uint32_t events);
void loop_unwatch(struct loop *loop, struct loop_source *source);
/* Queues `deferred` (nothing if it is queued already); loop_cancel takes it out again. */
void loop_defer(struct loop *loop, struct loop_deferred *deferred);
void loop_cancel(struct loop *loop, struct loop_deferred *deferred);
/* Runs until loop->stop is set; returns -1 only when epoll itself fails. */
int loop_run(struct loop *loop);

/* A one-shot timer (timerfd) that calls `fn` after `ms` milliseconds; re-arming replaces it. */
int loop_timer_arm(struct loop *loop, struct loop_source *timer, unsigned ms);
void loop_timer_disarm(struct loop *loop, struct loop_source *timer);

#endif
