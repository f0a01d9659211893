/* One ttrpc connection on the event loop: non-blocking reads cut into frames (ttrpc_parse), and
 * a write queue for when the peer is slow. The server side (containerd calling the Task service)
 * and the client side (the shim forwarding events to containerd) both use it. */
#ifndef SHIM_TTRPC_CONN_H
#define SHIM_TTRPC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "ttrpc.h"

struct ttrpc_conn;

/* A whole frame; `payload` is NULL for an oversized one (its bytes are skipped). */
typedef void (*ttrpc_frame_fn)(struct ttrpc_conn *conn, const struct ttrpc_header *header,
                               const uint8_t *payload);
/* The connection is closed (by the peer, an error or ttrpc_conn_close): the owner frees it. It is
 * called once, never from inside ttrpc_frame_fn. */
typedef void (*ttrpc_close_fn)(struct ttrpc_conn *conn);

struct ttrpc_conn {
    struct loop_source source;
    struct loop *loop;
    uint8_t *in;
    size_t in_len, in_cap;
    size_t discard; /* bytes of an oversized frame still to skip */
    uint8_t *out;
    size_t out_len, out_off;
    ttrpc_frame_fn on_frame;
    ttrpc_close_fn on_close;
    void *data;
    bool closed, dispatching;
};

/* Takes `fd` (a connected, non-blocking, close-on-exec socket) and starts reading. */
int ttrpc_conn_init(struct ttrpc_conn *conn, struct loop *loop, int fd, ttrpc_frame_fn on_frame,
                    ttrpc_close_fn on_close, void *data);
/* Queues a whole frame (copied). -1 when the connection is closed or memory is short. */
int ttrpc_conn_send(struct ttrpc_conn *conn, const uint8_t *frame, size_t len);
/* Closes now; on_close follows (right away, or once the current frame callback returns). */
void ttrpc_conn_close(struct ttrpc_conn *conn);
/* Whether everything queued was written. */
bool ttrpc_conn_flushed(const struct ttrpc_conn *conn);

#endif
