/* Task events, forwarded to containerd over ttrpc (containerd.services.events.ttrpc.v1.Events/
 * Forward at $TTRPC_ADDRESS) one at a time and in order: containerd's ttrpc server handles
 * requests of a connection concurrently, so a second event sent before the first is answered could
 * overtake it. A failed event is retried (after 1 s, 2 s, ... at most 5 times, as containerd's own
 * shims do); an unreachable containerd (restarting) is reconnected on the next try. */
#ifndef SHIM_EVENTS_H
#define SHIM_EVENTS_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <time.h>

#include "loop.h"
#include "ttrpc_conn.h"
#include "wellknown.pb-c.h"

struct event_item;

struct publisher {
    struct loop *loop;
    char *address;   /* containerd's ttrpc socket path */
    char *namespace;
    struct ttrpc_conn *conn;
    struct event_item *head, *tail;
    bool in_flight;
    uint32_t stream_id;
    struct loop_source retry;
    struct loop_deferred send; /* a new event goes out once the current call has replied */
    /* Called whenever the queue empties (the shim waits for that before exiting). */
    void (*on_idle)(void *data);
    void *idle_data;
};

int publisher_init(struct publisher *pub, struct loop *loop, const char *address,
                   const char *namespace);
void publisher_fini(struct publisher *pub);
/* Queues `event` (packed now) under `topic`, e.g. "/tasks/exit"; its Any type URL is its full
 * protobuf name, e.g. "containerd.events.TaskExit", as containerd's typeurl registry expects.
 * It is sent after the current loop callback: the reply of the call that caused it goes first. */
int publisher_publish(struct publisher *pub, const char *topic, const ProtobufCMessage *event);

/* A protobuf Timestamp (events' and replies' times) from a CLOCK_REALTIME time, or now. */
void timestamp_set(Google__Protobuf__Timestamp *ts, const struct timespec *t);
void timestamp_now(Google__Protobuf__Timestamp *ts);
/* Connects to containerd ahead of the first event, which then goes out at once; a failure is
 * left to the first event's retries. */
void publisher_connect(struct publisher *pub);
/* Nothing queued nor in flight: the shim may exit. */
bool publisher_idle(const struct publisher *pub);

#endif
