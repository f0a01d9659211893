/* The ttrpc server containerd connects to: accepts connections on the shim's socket, turns
 * Request frames into calls of the Task service, and writes the replies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "shim.h"

#define TASK_SERVICE "containerd.task.v2.Task"

void server_reply(struct server_conn *conn, uint32_t stream_id, int code, const char *message,
                  const ProtobufCMessage *payload)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    if (code != TTRPC_OK)
        log_debug("reply %u: %s: %s", stream_id, ttrpc_code_name(code), message);
    if (ttrpc_frame_reply(stream_id, code, message, payload, &frame, &len) < 0) {
        /* Too big or no memory: say so rather than leave the caller waiting. */
        if (ttrpc_frame_reply(stream_id, TTRPC_RESOURCE_EXHAUSTED, "reply too large", NULL, &frame,
                              &len) < 0)
            return;
    }
    ttrpc_conn_send(&conn->conn, frame, len);
    free(frame);
}

static void on_frame(struct ttrpc_conn *ttrpc, const struct ttrpc_header *header,
                     const uint8_t *payload)
{
    struct server_conn *conn = ttrpc->data;
    /* Only requests start a call (ttrpc 1.2's streaming data frames are not used by the Task
     * service). */
    if (header->type != TTRPC_TYPE_REQUEST)
        return;
    if (payload == NULL) {
        char message[96];
        snprintf(message, sizeof(message), "message length %u exceed maximum message size of %u",
                 header->length, TTRPC_MESSAGE_LENGTH_MAX);
        server_reply(conn, header->stream_id, TTRPC_RESOURCE_EXHAUSTED, message, NULL);
        return;
    }
    if (header->stream_id % 2 == 0) {
        server_reply(conn, header->stream_id, TTRPC_INVALID_ARGUMENT,
                     "StreamID must be odd for client initiated streams", NULL);
        return;
    }
    Ttrpc__Request *request = ttrpc__request__unpack(NULL, header->length, payload);
    if (request == NULL) {
        server_reply(conn, header->stream_id, TTRPC_INVALID_ARGUMENT,
                     "unmarshal request error: bad protobuf", NULL);
        return;
    }
    log_debug("call %s/%s (stream %u)", request->service, request->method, header->stream_id);
    if (strcmp(request->service, TASK_SERVICE) != 0) {
        char message[256];
        snprintf(message, sizeof(message), "service %s", request->service);
        server_reply(conn, header->stream_id, TTRPC_UNIMPLEMENTED, message, NULL);
    } else {
        task_service_dispatch(conn->shim, conn, header->stream_id, request->method,
                              request->payload.data, request->payload.len);
    }
    ttrpc__request__free_unpacked(request, NULL);
    shim_worked(conn->shim);
}

static void on_close(struct ttrpc_conn *ttrpc)
{
    struct server_conn *conn = ttrpc->data;
    struct shim *shim = conn->shim;
    task_service_forget_conn(shim, conn);
    for (struct server_conn **p = &shim->conns; *p; p = &(*p)->next) {
        if (*p == conn) {
            *p = conn->next;
            break;
        }
    }
    free(conn);
    shim_maybe_exit(shim);
}

static void on_accept(struct loop *loop, struct loop_source *source, uint32_t events)
{
    struct shim *shim = source->data;
    (void)events;
    int fd = accept4(source->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    struct server_conn *conn = calloc(1, sizeof(*conn));
    if (conn == NULL) {
        close(fd);
        return;
    }
    conn->shim = shim;
    if (ttrpc_conn_init(&conn->conn, loop, fd, on_frame, on_close, conn) < 0) {
        log_error("watch connection: %s", strerror(errno));
        close(fd);
        free(conn);
        return;
    }
    conn->next = shim->conns;
    shim->conns = conn;
}

int server_start(struct shim *shim)
{
    shim->listener = (struct loop_source){.fd = shim->socket.fd, .fn = on_accept, .data = shim};
    shim->socket.fd = -1;
    return loop_watch(&shim->loop, &shim->listener, EPOLLIN);
}

void server_stop(struct shim *shim)
{
    if (shim->listener.fd >= 0) {
        loop_unwatch(&shim->loop, &shim->listener);
        close(shim->listener.fd);
        shim->listener.fd = -1;
    }
    struct shim_socket *sock = &shim->socket;
    struct stat st;
    if (sock->path[0] && lstat(sock->path, &st) == 0 && st.st_dev == sock->dev &&
        st.st_ino == sock->ino && unlink(sock->path) < 0)
        log_error("remove the shim socket %s: %s", sock->path, strerror(errno));
    sock->path[0] = '\0';
}
