/* A ttrpc connection on the event loop; see ttrpc_conn.h. */
#include "ttrpc_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Requests are small (the largest, Create with its mounts, is a few KiB); the buffer grows for
 * bigger frames and shrinks back so an idle shim keeps little. */
#define READ_CHUNK 4096

static void finish_close(struct ttrpc_conn *conn)
{
    free(conn->in);
    free(conn->out);
    conn->in = conn->out = NULL;
    conn->in_len = conn->in_cap = conn->out_len = conn->out_off = 0;
    if (conn->on_close)
        conn->on_close(conn);
}

void ttrpc_conn_close(struct ttrpc_conn *conn)
{
    if (conn->closed)
        return;
    conn->closed = true;
    loop_unwatch(conn->loop, &conn->source);
    close(conn->source.fd);
    conn->source.fd = -1;
    if (!conn->dispatching)
        finish_close(conn);
}

bool ttrpc_conn_flushed(const struct ttrpc_conn *conn)
{
    return conn->out_off == conn->out_len;
}

static int rearm(struct ttrpc_conn *conn)
{
    uint32_t events = EPOLLIN | (ttrpc_conn_flushed(conn) ? 0 : EPOLLOUT);
    return loop_watch(conn->loop, &conn->source, events);
}

static int flush(struct ttrpc_conn *conn)
{
    while (conn->out_off < conn->out_len) {
        ssize_t n = send(conn->source.fd, conn->out + conn->out_off, conn->out_len - conn->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0)
            return -1;
        conn->out_off += (size_t)n;
    }
    if (conn->out_off == conn->out_len) {
        free(conn->out);
        conn->out = NULL;
        conn->out_off = conn->out_len = 0;
    }
    return rearm(conn);
}

int ttrpc_conn_send(struct ttrpc_conn *conn, const uint8_t *frame, size_t len)
{
    if (conn->closed)
        return -1;
    uint8_t *out = realloc(conn->out, conn->out_len + len);
    if (out == NULL)
        return -1;
    memcpy(out + conn->out_len, frame, len);
    conn->out = out;
    conn->out_len += len;
    if (flush(conn) < 0) {
        ttrpc_conn_close(conn);
        return -1;
    }
    return 0;
}

/* Hands every whole frame in the buffer to on_frame and keeps the rest. */
static void dispatch(struct ttrpc_conn *conn)
{
    size_t off = 0;
    while (!conn->closed) {
        if (conn->discard) {
            size_t skip = conn->discard < conn->in_len - off ? conn->discard : conn->in_len - off;
            off += skip;
            conn->discard -= skip;
            if (conn->discard)
                break;
        }
        struct ttrpc_header header;
        enum ttrpc_parse_result r = ttrpc_parse(conn->in + off, conn->in_len - off, &header);
        if (r == TTRPC_PARSE_INCOMPLETE)
            break;
        off += TTRPC_HEADER_LENGTH;
        if (r == TTRPC_PARSE_OVERSIZED) {
            conn->discard = header.length;
            conn->on_frame(conn, &header, NULL);
            continue;
        }
        conn->on_frame(conn, &header, conn->in + off);
        off += header.length;
    }
    if (conn->closed)
        return;
    memmove(conn->in, conn->in + off, conn->in_len - off);
    conn->in_len -= off;
    if (conn->in_len == 0 && conn->in_cap > READ_CHUNK) {
        free(conn->in);
        conn->in = NULL;
        conn->in_cap = 0;
    }
}

/* Room for the rest of the frame being received, or for another chunk. */
static int reserve(struct ttrpc_conn *conn)
{
    size_t want = conn->in_len + READ_CHUNK;
    struct ttrpc_header header;
    if (!conn->discard && ttrpc_parse(conn->in, conn->in_len, &header) == TTRPC_PARSE_INCOMPLETE &&
        conn->in_len >= TTRPC_HEADER_LENGTH)
        want = TTRPC_HEADER_LENGTH + (size_t)header.length;
    if (want <= conn->in_cap)
        return 0;
    uint8_t *in = realloc(conn->in, want);
    if (in == NULL)
        return -1;
    conn->in = in;
    conn->in_cap = want;
    return 0;
}

static void on_event(struct loop *loop, struct loop_source *source, uint32_t events)
{
    struct ttrpc_conn *conn = source->data;
    conn->dispatching = true;
    if ((events & EPOLLOUT) && flush(conn) < 0)
        ttrpc_conn_close(conn);
    if (!conn->closed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        ssize_t n = -1;
        if (reserve(conn) == 0) {
            do
                n = read(conn->source.fd, conn->in + conn->in_len, conn->in_cap - conn->in_len);
            while (n < 0 && errno == EINTR);
        }
        if (n > 0) {
            conn->in_len += (size_t)n;
            dispatch(conn);
        } else if (n == 0 || errno != EAGAIN) {
            ttrpc_conn_close(conn);
        }
    }
    conn->dispatching = false;
    if (conn->closed)
        finish_close(conn);
    (void)loop;
}

int ttrpc_conn_init(struct ttrpc_conn *conn, struct loop *loop, int fd, ttrpc_frame_fn on_frame,
                    ttrpc_close_fn on_close, void *data)
{
    *conn = (struct ttrpc_conn){
        .source = {.fd = fd, .fn = on_event, .data = conn},
        .loop = loop,
        .on_frame = on_frame,
        .on_close = on_close,
        .data = data,
    };
    return loop_watch(loop, &conn->source, EPOLLIN);
}
